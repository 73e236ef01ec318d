// A deployment of real signers for the process tests and the HTTP benchmark: state directories
// made with signerd::Keygen and signerd::Init (file keys, a cheap key-derivation setting), a
// wallet wsh(multi(k, ...)) of the signers' own keys, the fixture's policy signed by two of
// its three admins (test/support/signer_fixture.h), and the sign requests and freezes a
// coordinator and a watcher would send.
//
// TEST CODE ONLY: the passphrase and every fixture key are public.
//
// Not thread-safe; one owner.
#ifndef KINKO_TEST_SIGNER_SIGNER_SETUP_H_
#define KINKO_TEST_SIGNER_SIGNER_SETUP_H_

#include <algorithm>
#include <cstdint>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "auditlog/entry.h"
#include "btc/amount.h"
#include "btc/transaction.h"
#include "crypto/keyfile.h"
#include "crypto/rng.h"
#include "crypto/secret.h"
#include "signerapi/freeze.h"
#include "signerapi/json_codec.h"
#include "signerapi/messages.h"
#include "signerd/setup.h"
#include "test/support/signer_fixture.h"
#include "util/result.h"

namespace kinko::testing {

// One sign request and what the tests check it against.
struct SignRequestCase {
  signerapi::SignRequest request;
  std::vector<auditlog::IntentId> intent_ids;  // In request order.
  btc::Amount amount = btc::Amount::Zero();    // The total the intents pay.
  std::vector<btc::TxOut> spent_outputs;       // The outputs the PSBT's inputs spend.
};

// Movable, not copyable.
class Deployment final {
 public:
  // The passphrase of every key file of the deployment.
  static constexpr char kPassphrase[] = "kinko test passphrase";
  // Each intent pays this much plus its index in satoshi; the policy's 24-hour window allows
  // kWindowSats, far above what any test sends.
  static constexpr int64_t kIntentSats = 10'000;
  static constexpr int64_t kWindowSats = 100'000'000;

  // The fixture policy of a deployment: MakePolicy with a 24-hour window of kWindowSats.
  static PolicyOptions DefaultPolicyOptions() {
    PolicyOptions options;
    options.window_24h = Sats(kWindowSats);
    return options;
  }

  // Makes `signers` state directories root/signer-1, ... with a wsh(multi(min(2, signers),
  // ...)) wallet of their keys, pinned with the fixture's policy made with `policy_options`
  // at the current time.
  static util::Result<Deployment> Create(
      const std::string& root, size_t signers,
      const PolicyOptions& policy_options = DefaultPolicyOptions()) {
    Deployment d;
    crypto::SystemRng rng;
    const crypto::SecretBytes passphrase = Passphrase();
    std::string keys;
    for (size_t i = 0; i < signers; ++i) {
      const std::string dir = root + "/signer-" + std::to_string(i + 1);
      signerd::KeygenOptions options;
      options.dir = dir;
      options.network = kFixtureNetwork;
      options.kdf = {.passes = 1, .memory_kib = crypto::kKdfMinMemoryKib};
      util::Result<signerd::KeygenResult> key =
          signerd::Keygen(TestContext(), options, passphrase, std::nullopt, rng);
      if (!key.ok()) return key.status().WithPrefix("keygen " + dir);
      if (i > 0) keys += ",";
      keys += key->descriptor_key + "/<0;1>/*";
      d.dirs_.push_back(dir);
      d.keys_.push_back(*std::move(key));
    }
    const size_t threshold = std::min<size_t>(2, signers);
    d.descriptor_ = "wsh(multi(" + std::to_string(threshold) + "," + keys + "))";
    d.wallet_ =
        std::make_unique<signer::WalletConfig>(MakeWalletConfig(TestContext(), d.descriptor_));

    const policy::SignedPolicy policy = MakePolicy(d.actors_, policy_options);
    d.policy_digest_ = policy.policy().digest();
    d.policy_ = std::make_unique<policy::SignedPolicy>(policy);
    std::vector<policy::KeyId> admins;
    for (const crypto::Ed25519PrivateKey& admin : d.actors_.admins) admins.push_back(IdOf(admin));
    std::sort(admins.begin(), admins.end());
    for (const std::string& dir : d.dirs_) {
      signerd::InitOptions init{.dir = dir,
                                .wallet_id = kFixtureWalletId,
                                .descriptor = d.descriptor_,
                                .receive_index_max = kFixtureIndexMax,
                                .change_index_max = kFixtureIndexMax,
                                .governance_admins = admins,
                                .governance_threshold = 2,
                                .watchers = {IdOf(d.actors_.watcher)},
                                .first_policy = policy.Encode(),
                                .now = Now()};
      util::Result<signerd::KeygenResult> initialized =
          signerd::Init(TestContext(), init, passphrase, std::nullopt);
      if (!initialized.ok()) return initialized.status().WithPrefix("init " + dir);
    }
    return d;
  }

  static uint64_t Now() { return static_cast<uint64_t>(std::time(nullptr)); }

  const std::vector<std::string>& dirs() const { return dirs_; }
  std::string passphrase() const { return kPassphrase; }
  const std::vector<signerd::KeygenResult>& keys() const { return keys_; }
  const std::string& descriptor() const { return descriptor_; }
  const crypto::Secp256k1Context& ctx() const { return TestContext(); }
  const Actors& actors() const { return actors_; }
  const signer::WalletConfig& wallet() const { return *wallet_; }
  // The first policy every signer was initialised with, and its digest.
  const policy::SignedPolicy& policy() const { return *policy_; }
  const policy::Digest& policy_digest() const { return policy_digest_; }

  // Request `n`: one intent (id seed n + 1) paying kIntentSats + n to a foreign address under
  // the rule "small withdrawals" (no approvals needed), created now, and a PSBT of its own
  // funding transaction.
  SignRequestCase MakeSignRequest(uint64_t n) const {
    SignRequestCase out;
    const int64_t sats = kIntentSats + static_cast<int64_t>(n);
    IntentOptions intent_options;
    intent_options.id_seed = n + 1;
    const policy::SignedIntent intent = MakeIntent(
        actors_, {{ForeignAddress(static_cast<uint8_t>(n % 251)), sats}}, Now(), intent_options);
    PsbtOptions psbt_options;
    psbt_options.funding_seed = static_cast<uint32_t>(n);
    btc::Psbt psbt = BuildPsbt(TestContext(), *wallet_, {intent}, psbt_options);
    out.spent_outputs = SpentOutputs(psbt);
    out.intent_ids.push_back(intent.intent().fields().id);
    out.amount = Sats(sats);
    out.request.request_id.fill(static_cast<uint8_t>(n));
    out.request.psbt = std::move(psbt);
    out.request.intents.push_back({.intent = intent, .approvals = {}});
    return out;
  }

  // The body of POST /v1/freeze: the fixture's watcher freezes signer `index` only.
  std::string FreezeRequestBody(size_t index) const {
    signerapi::FreezeFields fields{.scope = {.signer = keys_[index].signer_id},
                                   .reason = "watcher: unexplained spend",
                                   .time = Now(),
                                   .nonce = {}};
    fields.nonce.fill(static_cast<uint8_t>(index + 1));
    const signerapi::SignedFreeze freeze =
        signerapi::SignedFreeze::Sign(signerapi::Freeze::Create(fields).value(), actors_.watcher);
    return signerapi::EncodeFreezeRequest({.freeze = freeze});
  }

  Deployment(Deployment&&) = default;
  Deployment& operator=(Deployment&&) = default;
  Deployment(const Deployment&) = delete;
  Deployment& operator=(const Deployment&) = delete;

 private:
  Deployment() : actors_(MakeActors()) {}

  static crypto::SecretBytes Passphrase() {
    const std::string_view text = kPassphrase;
    return crypto::SecretBytes::FromSpan(
        {reinterpret_cast<const uint8_t*>(text.data()), text.size()});
  }

  Actors actors_;
  std::vector<std::string> dirs_;
  std::vector<signerd::KeygenResult> keys_;
  std::string descriptor_;
  std::unique_ptr<signer::WalletConfig> wallet_;
  std::unique_ptr<policy::SignedPolicy> policy_;
  policy::Digest policy_digest_{};
};

}  // namespace kinko::testing

#endif  // KINKO_TEST_SIGNER_SIGNER_SETUP_H_
