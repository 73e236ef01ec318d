// Fuzz target for the signer's transaction check: any bytes that Psbt::Parse accepts are checked
// against two fixed wallets (the 2-of-3 P2WSH and taproot multi_a wallets of
// transaction_check_test.cc) and the fixed intents of its valid request. Properties:
//   - the check never crashes and gives exactly one of a checked transaction and a refusal;
//   - it is deterministic: the same PSBT, serialized and parsed again, gets the same outcome;
//   - an accepted transaction is consistent: fee = inputs - outputs, every output is an intent
//     output or change (each once), every intent output is paid, change is within the bound, and
//     the estimated size is positive.
// The seeds (fuzz/corpus/transaction_check_fuzz/) are the valid requests of both wallets and
// refused variants of them.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "btc/bip32.h"
#include "btc/descriptor.h"
#include "btc/psbt.h"
#include "btc/standard.h"
#include "crypto/hash.h"
#include "crypto/rng.h"
#include "crypto/secp256k1.h"
#include "policy/identity.h"
#include "policy/intent.h"
#include "signer/transaction_check.h"
#include "util/check.h"
#include "util/hex.h"

namespace {

namespace btc = kinko::btc;
namespace crypto = kinko::crypto;
namespace policy = kinko::policy;
namespace signer = kinko::signer;
namespace util = kinko::util;

constexpr btc::Network kNet = btc::Network::kRegtest;
constexpr uint32_t kIndexMax = 10;

const crypto::Secp256k1Context& Ctx() {
  static crypto::SystemRng rng;
  static const crypto::Secp256k1Context ctx = crypto::Secp256k1Context::Create(rng);
  return ctx;
}

std::string KeyExpression(uint8_t seed_byte, const std::string& account) {
  const std::vector<uint8_t> seed(32, seed_byte);
  util::Result<btc::ExtendedKey> master = btc::ExtendedKey::FromSeed(Ctx(), seed, kNet);
  CHECK(master.ok());
  const btc::KeyPath path = btc::KeyPath::Parse(account).value();
  const btc::ExtendedKey xpub = master->DerivePath(Ctx(), path).value().Neuter();
  return "[" + util::HexEncode(master->Fingerprint()) + "/" + account + "]" + xpub.ToString() +
         "/<0;1>/*";
}

signer::WalletConfig MakeWallet(bool taproot) {
  const std::string account = taproot ? "87h/1h/0h" : "48h/1h/0h/2h";
  const std::string keys = KeyExpression(0xa1, account) + "," + KeyExpression(0xb2, account) + "," +
                           KeyExpression(0xc3, account);
  const std::string text =
      taproot ? "tr(50929b74c1a04954b78b4b6035e97a5e078a5a0f28ec96d547bfee9ace803ac0,multi_a(2," +
                    keys + "))"
              : "wsh(sortedmulti(2," + keys + "))";
  util::Result<btc::Descriptor> descriptor = btc::Descriptor::Parse(Ctx(), text, kNet);
  CHECK(descriptor.ok());
  util::Result<signer::WalletConfig> wallet = signer::WalletConfig::Create(
      Ctx(), "vault", kNet, std::move(descriptor).value(), kIndexMax, kIndexMax);
  CHECK(wallet.ok());
  return std::move(wallet).value();
}

btc::Script Foreign(uint8_t tag) {
  const std::vector<uint8_t> data = {tag};
  return btc::P2wpkhScript(crypto::Hash160(data));
}

policy::SignedIntent MakeIntent(uint8_t id, const std::vector<std::pair<uint8_t, int64_t>>& outputs,
                                policy::FeeCeiling fee) {
  static const crypto::Ed25519PrivateKey* requester =
      new crypto::Ed25519PrivateKey(crypto::Ed25519PrivateKey::FromSeed(
                                        crypto::SecretBytes::FromSpan(std::vector<uint8_t>(32, 7)))
                                        .value());
  policy::IntentFields f;
  f.id.fill(id);
  f.wallet = "vault";
  f.network = kNet;
  for (const auto& [tag, amount] : outputs) {
    f.outputs.push_back(
        {btc::EncodeAddress(Foreign(tag), kNet).value(), btc::Amount::FromSats(amount).value()});
  }
  f.fee = fee;
  f.requester = policy::Ed25519KeyId(requester->public_key());
  f.created = 1767225600;
  f.expires = 1767229200;
  return policy::SignedIntent::Sign(policy::Intent::Create(std::move(f)).value(), *requester)
      .value();
}

// The intents of transaction_check_test.cc's valid request.
const std::vector<policy::SignedIntent>& Intents() {
  static const std::vector<policy::SignedIntent>* intents = [] {
    policy::FeeCeiling max_fee;
    max_fee.max_fee = btc::Amount::FromSats(10'000).value();
    policy::FeeCeiling max_rate;
    max_rate.max_rate_sat_per_kvb = 20'000;
    return new std::vector<policy::SignedIntent>{
        MakeIntent(0xa0, {{0, 300'000}, {1, 200'000}}, max_fee),
        MakeIntent(0xa1, {{2, 400'000}}, max_rate)};
  }();
  return *intents;
}

void CheckOutcomeConsistent(const signer::TransactionCheckOutcome& outcome, const btc::Psbt& psbt) {
  CHECK(outcome.checked.has_value() != outcome.refusal.has_value());
  if (!outcome.ok()) {
    CHECK(!signer::TransactionRefusalName(outcome.refusal->code).empty());
    return;
  }
  const signer::CheckedTransaction& checked = *outcome.checked;
  const btc::Transaction tx = psbt.GetUnsignedTx().value();
  CHECK(checked.txid == tx.ComputeTxid());
  CHECK(checked.inputs.size() == tx.inputs.size());
  CHECK(checked.fee.sats() == checked.input_total.sats() - checked.output_total.sats());
  CHECK(checked.estimated_vsize > 0);
  CHECK(checked.change.size() + checked.intent_outputs.size() == tx.outputs.size());
  std::vector<bool> seen(tx.outputs.size(), false);
  for (const signer::ChangeOutput& change : checked.change) {
    CHECK(!seen[change.output_index]);
    seen[change.output_index] = true;
    CHECK(change.derivation_index <= kIndexMax);
  }
  size_t wanted = 0;
  for (const policy::SignedIntent& intent : Intents()) {
    wanted += intent.intent().fields().outputs.size();
  }
  CHECK(checked.intent_outputs.size() == wanted);
  for (const signer::PaidIntentOutput& paid : checked.intent_outputs) {
    CHECK(!seen[paid.tx_output_index]);
    seen[paid.tx_output_index] = true;
    const policy::Intent& intent = Intents()[paid.intent_index].intent();
    CHECK(tx.outputs[paid.tx_output_index].script_pubkey ==
          intent.output_scripts()[paid.output_index]);
    CHECK(tx.outputs[paid.tx_output_index].value ==
          intent.fields().outputs[paid.output_index].amount.sats());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const signer::WalletConfig* wsh = new signer::WalletConfig(MakeWallet(false));
  static const signer::WalletConfig* tr = new signer::WalletConfig(MakeWallet(true));
  util::Result<btc::Psbt> parsed = btc::Psbt::Parse(std::span<const uint8_t>(data, size));
  if (!parsed.ok()) return 0;
  util::Result<btc::Psbt> again = btc::Psbt::Parse(parsed->Serialize());
  CHECK(again.ok());
  for (const signer::WalletConfig* wallet : {wsh, tr}) {
    const signer::TransactionCheckOutcome outcome =
        signer::CheckTransaction(Ctx(), *parsed, *wallet, Intents());
    CheckOutcomeConsistent(outcome, *parsed);
    const signer::TransactionCheckOutcome repeated =
        signer::CheckTransaction(Ctx(), *again, *wallet, Intents());
    CHECK(repeated.ok() == outcome.ok());
    if (outcome.ok()) {
      CHECK(repeated.checked->fee == outcome.checked->fee);
      CHECK(repeated.checked->estimated_vsize == outcome.checked->estimated_vsize);
    } else {
      CHECK(repeated.refusal->code == outcome.refusal->code);
      CHECK(repeated.refusal->detail == outcome.refusal->detail);
    }
  }
  return 0;
}
