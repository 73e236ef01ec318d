// A deployment for the coordinator's tests: three real `kinko-signer` state directories
// (signerd::Keygen and Init, file keys, a cheap key-derivation setting) of a 2-of-3
// wsh(multi(...)) wallet pinned with the fixture's policy plus an address book, the same signed
// policy written to a file for kinkod, the coordinator's configuration for signers at given
// URLs, and a funding transaction paying the wallet.
//
// TEST CODE ONLY: the passphrase and every fixture key are public.
//
// Not thread-safe; one owner.
#ifndef KINKO_TEST_COORDINATOR_COORDINATOR_SETUP_H_
#define KINKO_TEST_COORDINATOR_COORDINATOR_SETUP_H_

#include <algorithm>
#include <cstdint>
#include <ctime>
#include <fstream>
#include <string>
#include <vector>

#include "btc/descriptor.h"
#include "btc/transaction.h"
#include "coordinator/config.h"
#include "crypto/keyfile.h"
#include "crypto/rng.h"
#include "crypto/secret.h"
#include "signerd/setup.h"
#include "test/support/signer_fixture.h"
#include "util/result.h"

namespace kinko::testing {

// Movable, not copyable.
class CoordinatorSetup final {
 public:
  static constexpr char kPassphrase[] = "kinko test passphrase";
  static constexpr size_t kSigners = 3;
  // The address book's one entry, and the 24-hour window of the policy.
  static constexpr uint8_t kBookAddressTag = 200;
  static constexpr int64_t kWindowSats = 5'000'000'000;

  static std::string BookAddress() { return ForeignAddress(kBookAddressTag); }
  static uint64_t Now() { return static_cast<uint64_t>(std::time(nullptr)); }

  // Makes root/signer-1..3 and root/policy.bin.
  static util::Result<CoordinatorSetup> Create(const std::string& root) {
    CoordinatorSetup s;
    s.root_ = root;
    crypto::SystemRng rng;
    const crypto::SecretBytes passphrase = Passphrase();
    std::string keys;
    for (size_t i = 0; i < kSigners; ++i) {
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
      s.dirs_.push_back(dir);
      s.keys_.push_back(*std::move(key));
    }
    s.descriptor_ = "wsh(multi(2," + keys + "))";

    PolicyOptions policy_options;
    policy_options.window_24h = Sats(kWindowSats);
    policy_options.address_book = {{.label = "cold storage", .address = BookAddress()}};
    s.policy_ = MakePolicy(s.actors_, policy_options);
    std::vector<policy::KeyId> admins;
    for (const crypto::Ed25519PrivateKey& admin : s.actors_.admins) admins.push_back(IdOf(admin));
    std::sort(admins.begin(), admins.end());
    for (const std::string& dir : s.dirs_) {
      signerd::InitOptions init{.dir = dir,
                                .wallet_id = kFixtureWalletId,
                                .descriptor = s.descriptor_,
                                .receive_index_max = kFixtureIndexMax,
                                .change_index_max = kFixtureIndexMax,
                                .governance_admins = admins,
                                .governance_threshold = 2,
                                .watchers = {IdOf(s.actors_.watcher)},
                                .first_policy = s.policy_.Encode(),
                                .now = Now()};
      util::Result<signerd::KeygenResult> initialized =
          signerd::Init(TestContext(), init, passphrase, std::nullopt);
      if (!initialized.ok()) return initialized.status().WithPrefix("init " + dir);
    }
    std::ofstream out(s.policy_file(), std::ios::binary);
    const std::vector<uint8_t> bytes = s.policy_.Encode();
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
    if (!out) return util::UnavailableError("cannot write " + s.policy_file());
    return s;
  }

  const Actors& actors() const { return actors_; }
  const policy::SignedPolicy& policy() const { return policy_; }
  const std::vector<std::string>& dirs() const { return dirs_; }
  const std::vector<signerd::KeygenResult>& keys() const { return keys_; }
  const std::string& descriptor() const { return descriptor_; }
  std::string policy_file() const { return root_ + "/policy.bin"; }
  std::string passphrase() const { return kPassphrase; }

  // kinkod's configuration for the wallet with its signers at `urls` (in signer order).
  coordinator::Config MakeConfig(const std::vector<std::string>& urls, bool batching = true) const {
    coordinator::Config config;
    config.instance = "test";
    coordinator::WalletSettings wallet;
    wallet.id = kFixtureWalletId;
    wallet.network = kFixtureNetwork;
    wallet.descriptor = descriptor_;
    wallet.policy_file = policy_file();
    wallet.threshold = 2;
    wallet.batching = batching;
    wallet.change_index_max = kFixtureIndexMax;
    for (size_t i = 0; i < urls.size(); ++i) {
      wallet.signers.push_back({.url = urls[i], .id = keys_[i].signer_id, .ca_cert = ""});
    }
    config.wallets.push_back(std::move(wallet));
    return config;
  }

  // A transaction (of a made-up input) paying `sats` to each of the wallet's receive addresses
  // 0, 1, ... in turn.
  btc::Transaction Funding(const std::vector<int64_t>& sats, uint8_t seed = 1) const {
    btc::Descriptor descriptor =
        btc::Descriptor::Parse(TestContext(), descriptor_, kFixtureNetwork).value();
    const std::vector<btc::Descriptor> branches = descriptor.SplitMultipath();
    btc::Transaction tx;
    btc::TxIn in;
    std::array<uint8_t, 32> prev{};
    prev.fill(seed);
    in.prevout = {.txid = btc::Txid(prev), .index = 0};
    tx.inputs.push_back(in);
    for (size_t i = 0; i < sats.size(); ++i) {
      btc::Script script =
          branches[0].ExpandScripts(TestContext(), static_cast<uint32_t>(i)).value().at(0);
      tx.outputs.push_back({.value = sats[i], .script_pubkey = script});
    }
    return tx;
  }

  CoordinatorSetup(CoordinatorSetup&&) = default;
  CoordinatorSetup& operator=(CoordinatorSetup&&) = default;
  CoordinatorSetup(const CoordinatorSetup&) = delete;
  CoordinatorSetup& operator=(const CoordinatorSetup&) = delete;

 private:
  CoordinatorSetup() : actors_(MakeActors()), policy_(MakePolicy(actors_)) {}

  static crypto::SecretBytes Passphrase() {
    const std::string_view text = kPassphrase;
    return crypto::SecretBytes::FromSpan(
        {reinterpret_cast<const uint8_t*>(text.data()), text.size()});
  }

  std::string root_;
  Actors actors_;
  policy::SignedPolicy policy_;
  std::vector<std::string> dirs_;
  std::vector<signerd::KeygenResult> keys_;
  std::string descriptor_;
};

}  // namespace kinko::testing

#endif  // KINKO_TEST_COORDINATOR_COORDINATOR_SETUP_H_
