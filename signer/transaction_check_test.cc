// The transaction check against real wallets: a 2-of-3 P2WSH sortedmulti wallet and a 2-of-3
// taproot multi_a wallet (unspendable internal key), built from fixed test seeds. A valid
// request (two intents and change, spending a receive and a change coin) passes, signs with two
// keys and verifies; then every refusal starts from that request and changes one thing.
#include "signer/transaction_check.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "btc/bip32.h"
#include "btc/interpreter.h"
#include "btc/psbt_roles.h"
#include "btc/psbt_sign.h"
#include "btc/sighash.h"
#include "btc/standard.h"
#include "crypto/hash.h"
#include "crypto/rng.h"
#include "util/hex.h"

namespace kinko::signer {
namespace {

constexpr btc::Network kNet = btc::Network::kRegtest;
constexpr uint32_t kIndexMax = 10;
// BIP341's example of a key with no known discrete logarithm ("H"): the key path is unspendable.
constexpr char kNums[] = "50929b74c1a04954b78b4b6035e97a5e078a5a0f28ec96d547bfee9ace803ac0";

const crypto::Secp256k1Context& Ctx() {
  static crypto::SystemRng rng;
  static const crypto::Secp256k1Context ctx = crypto::Secp256k1Context::Create(rng);
  return ctx;
}

btc::ExtendedKey Master(uint8_t seed_byte) {
  const std::vector<uint8_t> seed(32, seed_byte);
  return btc::ExtendedKey::FromSeed(Ctx(), seed, kNet).value();
}

const crypto::Ed25519PrivateKey& Requester() {
  static const crypto::Ed25519PrivateKey* key =
      new crypto::Ed25519PrivateKey(crypto::Ed25519PrivateKey::FromSeed(
                                        crypto::SecretBytes::FromSpan(std::vector<uint8_t>(32, 7)))
                                        .value());
  return *key;
}

btc::Amount Sats(int64_t sats) { return btc::Amount::FromSats(sats).value(); }

// A P2WPKH script of someone outside the wallet.
btc::Script Foreign(uint8_t tag) {
  const std::vector<uint8_t> data = {tag};
  const crypto::Hash160Bytes hash = crypto::Hash160(data);
  return btc::P2wpkhScript(hash);
}

policy::FeeCeiling MaxFee(int64_t sats) {
  policy::FeeCeiling ceiling;
  ceiling.max_fee = Sats(sats);
  return ceiling;
}

policy::FeeCeiling MaxRate(uint64_t sat_per_kvb) {
  policy::FeeCeiling ceiling;
  ceiling.max_rate_sat_per_kvb = sat_per_kvb;
  return ceiling;
}

btc::TxIn SpendOf(const btc::Outpoint& prevout) {
  btc::TxIn in;
  in.prevout = prevout;
  return in;
}

struct PaidOutput {
  btc::Script script;
  int64_t amount;
};

policy::SignedIntent MakeIntent(uint8_t id, const std::vector<PaidOutput>& outputs,
                                policy::FeeCeiling fee, std::string wallet = "vault",
                                btc::Network network = kNet) {
  policy::IntentFields f;
  f.id.fill(id);
  f.wallet = std::move(wallet);
  f.network = network;
  for (const PaidOutput& out : outputs) {
    f.outputs.push_back({btc::EncodeAddress(out.script, network).value(), Sats(out.amount)});
  }
  f.fee = fee;
  f.requester = policy::Ed25519KeyId(Requester().public_key());
  f.created = 1767225600;
  f.expires = 1767229200;
  util::Result<policy::Intent> intent = policy::Intent::Create(std::move(f));
  EXPECT_TRUE(intent.ok()) << intent.status();
  return policy::SignedIntent::Sign(std::move(intent).value(), Requester()).value();
}

std::string Fingerprint(const btc::ExtendedKey& key) { return util::HexEncode(key.Fingerprint()); }

// "[fingerprint/path]tpub/<0;1>/*" of `master` at `account` (e.g. "48h/1h/0h/2h").
std::string KeyExpression(const btc::ExtendedKey& master, const std::string& account) {
  const btc::KeyPath path = btc::KeyPath::Parse(account).value();
  const btc::ExtendedKey xpub = master.DerivePath(Ctx(), path).value().Neuter();
  return "[" + Fingerprint(master) + "/" + account + "]" + xpub.ToString() + "/<0;1>/*";
}

enum class Kind { kWsh, kTr };

// The request a coordinator would send, as the check sees it.
struct Request {
  btc::Psbt psbt;
  std::vector<policy::SignedIntent> intents;
};

// Amounts of the valid request.
constexpr int64_t kReceiveCoin = 1'000'000;  // Receive index 3.
constexpr int64_t kChangeCoin = 500'000;     // Change index 2.
constexpr int64_t kPay0 = 300'000;           // Intent 0, output 0.
constexpr int64_t kPay1 = 200'000;           // Intent 0, output 1.
constexpr int64_t kPay2 = 400'000;           // Intent 1.
constexpr int64_t kFee = 3'000;
constexpr int64_t kChange = kReceiveCoin + kChangeCoin - kPay0 - kPay1 - kPay2 - kFee;
constexpr uint32_t kChangeIndex = 7;
// Transaction outputs of the valid request: intent 1, change, intent 0/0, intent 0/1.
constexpr size_t kOutPay2 = 0;
constexpr size_t kOutChange = 1;
constexpr size_t kOutPay0 = 2;

class Wallet {
 public:
  explicit Wallet(Kind kind) : kind_(kind) {
    const std::string account = kind == Kind::kWsh ? "48h/1h/0h/2h" : "87h/1h/0h";
    const std::string keys = KeyExpression(a_, account) + "," + KeyExpression(b_, account) + "," +
                             KeyExpression(c_, account);
    text_ = kind == Kind::kWsh ? "wsh(sortedmulti(2," + keys + "))"
                               : "tr(" + std::string(kNums) + ",multi_a(2," + keys + "))";
    config_.emplace(MakeConfig(kIndexMax, kIndexMax).value());

    // The funding transaction: the wallet's coins and others'.
    funding_.version = 2;
    funding_.inputs.resize(1);
    funding_.inputs[0].prevout.index = 0;
    funding_.outputs = {
        {kReceiveCoin, ScriptAt(WalletBranch::kReceive, 3)},
        {kChangeCoin, ScriptAt(WalletBranch::kChange, 2)},
        {kReceiveCoin, Foreign(0xee)},                                    // Not the wallet's.
        {kReceiveCoin, ScriptAt(WalletBranch::kReceive, kIndexMax + 1)},  // Above the bound.
    };
  }

  util::Result<WalletConfig> MakeConfig(uint32_t receive_max, uint32_t change_max) const {
    util::Result<btc::Descriptor> descriptor = btc::Descriptor::Parse(Ctx(), text_, kNet);
    if (!descriptor.ok()) return descriptor.status();
    return WalletConfig::Create(Ctx(), "vault", kNet, std::move(descriptor).value(), receive_max,
                                change_max);
  }

  btc::Script ScriptAt(WalletBranch branch, uint32_t index) const {
    return config_->branch(branch).Expand(Ctx(), index).value().script_pubkey;
  }

  btc::Outpoint Coin(uint32_t output) const {
    return btc::Outpoint{funding_.ComputeTxid(), output};
  }

  // Creator and updater, as the coordinator runs them.
  btc::Psbt Build(const btc::Transaction& tx) const {
    util::Result<btc::Psbt> psbt = btc::CreatePsbt(tx);
    EXPECT_TRUE(psbt.ok()) << psbt.status();
    const std::vector<btc::Transaction> previous = {funding_};
    // Indexes up to one above the bounds, so that out-of-bound coins get their derivations too.
    btc::PsbtDescriptorUpdateOptions options;
    options.range = kIndexMax + 2;
    psbt = btc::UpdatePsbtWithDescriptor(Ctx(), std::move(psbt).value(), config_->descriptor(),
                                         previous, options);
    EXPECT_TRUE(psbt.ok()) << psbt.status();
    return std::move(psbt).value();
  }

  btc::Transaction ValidTransaction() const {
    btc::Transaction tx;
    tx.version = 2;
    tx.inputs.resize(2);
    tx.inputs[0].prevout = Coin(0);
    tx.inputs[1].prevout = Coin(1);
    tx.outputs = {{kPay2, Foreign(2)},
                  {kChange, ScriptAt(WalletBranch::kChange, kChangeIndex)},
                  {kPay0, Foreign(0)},
                  {kPay1, Foreign(1)}};
    return tx;
  }

  std::vector<policy::SignedIntent> ValidIntents() const {
    return {MakeIntent(0xa0, {{Foreign(0), kPay0}, {Foreign(1), kPay1}}, MaxFee(10'000)),
            MakeIntent(0xa1, {{Foreign(2), kPay2}}, MaxRate(20'000))};
  }

  Request Valid() const { return Request{Build(ValidTransaction()), ValidIntents()}; }

  TransactionCheckOutcome Check(const Request& request) const {
    return CheckTransaction(Ctx(), request.psbt, *config_, request.intents);
  }

  // Signs with masters A and C, combines, finalizes and extracts.
  btc::Transaction SignAndExtract(const btc::Psbt& psbt) const {
    std::vector<btc::Psbt> signed_psbts;
    for (const btc::ExtendedKey* master : {&a_, &c_}) {
      btc::PsbtSigningKeys keys;
      EXPECT_TRUE(keys.AddExtendedKey(master->Clone(), std::nullopt).ok());
      util::Result<btc::PsbtSignResult> result = btc::SignPsbt(Ctx(), psbt, keys);
      EXPECT_TRUE(result.ok()) << result.status();
      EXPECT_EQ(result->signatures_added, 2u);
      signed_psbts.push_back(std::move(result)->psbt);
    }
    util::Result<btc::Psbt> combined = btc::CombinePsbts(signed_psbts);
    EXPECT_TRUE(combined.ok());
    util::Result<btc::PsbtFinalizeResult> finalized = btc::FinalizePsbt(*combined);
    EXPECT_TRUE(finalized.ok());
    EXPECT_TRUE(finalized->complete);
    return btc::ExtractTransaction(finalized->psbt).value();
  }

  Kind kind() const { return kind_; }
  const btc::Transaction& funding() const { return funding_; }
  const std::string& text() const { return text_; }

 private:
  Kind kind_;
  btc::ExtendedKey a_ = Master(0xa1);
  btc::ExtendedKey b_ = Master(0xb2);
  btc::ExtendedKey c_ = Master(0xc3);
  std::string text_;
  std::optional<WalletConfig> config_;
  btc::Transaction funding_;
};

class TransactionCheckTest : public ::testing::TestWithParam<Kind> {};

INSTANTIATE_TEST_SUITE_P(Wallets, TransactionCheckTest, ::testing::Values(Kind::kWsh, Kind::kTr),
                         [](const auto& param_info) {
                           return std::string(param_info.param == Kind::kWsh ? "Wsh" : "Tr");
                         });

TEST_P(TransactionCheckTest, ValidRequestPassesSignsAndVerifies) {
  const Wallet w(GetParam());
  const Request request = w.Valid();
  const TransactionCheckOutcome outcome = w.Check(request);
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_FALSE(outcome.refusal.has_value());
  EXPECT_TRUE(outcome.status().ok());
  const CheckedTransaction& checked = *outcome.checked;

  EXPECT_EQ(checked.txid, w.ValidTransaction().ComputeTxid());
  EXPECT_EQ(checked.input_total, Sats(kReceiveCoin + kChangeCoin));
  EXPECT_EQ(checked.output_total, Sats(kPay0 + kPay1 + kPay2 + kChange));
  EXPECT_EQ(checked.fee, Sats(kFee));
  EXPECT_EQ(checked.inputs,
            (std::vector<CheckedInput>{
                {.amount = Sats(kReceiveCoin), .branch = WalletBranch::kReceive, .index = 3},
                {.amount = Sats(kChangeCoin), .branch = WalletBranch::kChange, .index = 2}}));
  EXPECT_EQ(checked.change, (std::vector<ChangeOutput>{{.output_index = kOutChange,
                                                        .derivation_index = kChangeIndex,
                                                        .amount = Sats(kChange)}}));
  EXPECT_EQ(checked.intent_outputs,
            (std::vector<PaidIntentOutput>{
                {.intent_index = 0, .output_index = 0, .tx_output_index = kOutPay0},
                {.intent_index = 0, .output_index = 1, .tx_output_index = 3},
                {.intent_index = 1, .output_index = 0, .tx_output_index = kOutPay2}}));

  // Two signers sign; the final transaction is valid, its txid the checked one, and the
  // estimated size an upper bound within a few vbytes.
  const btc::Transaction final_tx = w.SignAndExtract(request.psbt);
  const std::vector<btc::TxOut> spent = {w.funding().outputs[0], w.funding().outputs[1]};
  const btc::TxVerifyResult verified =
      btc::VerifyTransaction(Ctx(), final_tx, spent, btc::StandardVerifyFlags());
  EXPECT_TRUE(verified.valid) << verified.detail;
  EXPECT_EQ(final_tx.ComputeTxid(), checked.txid);
  EXPECT_GE(checked.estimated_vsize, final_tx.VirtualSize());
  EXPECT_LE(checked.estimated_vsize, final_tx.VirtualSize() + 2);
  EXPECT_EQ(checked.fee_rate_sat_per_kvb,
            static_cast<uint64_t>(kFee) * 1000 / checked.estimated_vsize);
  EXPECT_EQ(checked.Facts().fee, Sats(kFee));
  EXPECT_EQ(checked.Facts().vsize, checked.estimated_vsize);
}

// The May 2024 theft (DESIGN.md section 1): the request was altered in transit, destination and
// amount, while what the requester signed stayed the same. Here the coordinator rewrites the
// PSBT's payment to the attacker and for more, balancing with the change; the intents are the
// ones signed.
TEST_P(TransactionCheckTest, Attack2024AlteredDestinationAndAmountIsRefused) {
  const Wallet w(GetParam());
  Request request = w.Valid();
  const policy::Digest signed_digest = request.intents[1].intent().digest();
  btc::Transaction& tx = *request.psbt.unsigned_tx;
  tx.outputs[kOutPay2].script_pubkey = Foreign(0xee);
  tx.outputs[kOutPay2].value += 500'000;
  tx.outputs[kOutChange].value -= 500'000;
  const TransactionCheckOutcome outcome = w.Check(request);
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.refusal->code, TransactionRefusal::kUnexpectedOutput);
  const std::string attacker = btc::EncodeAddress(Foreign(0xee), kNet).value();
  EXPECT_NE(outcome.refusal->detail.find("output 0 (" + attacker + ", 900000 sat)"),
            std::string::npos)
      << outcome.refusal->detail;
  EXPECT_EQ(request.intents[1].intent().digest(), signed_digest);
  EXPECT_EQ(outcome.status().code(), util::StatusCode::kPermissionDenied);
}

TEST_P(TransactionCheckTest, TwoIdenticalIntentOutputsArePaidByTwoOutputs) {
  const Wallet w(GetParam());
  btc::Transaction tx = w.ValidTransaction();
  tx.outputs[kOutChange].value -= kPay0;
  tx.outputs.push_back({kPay0, Foreign(0)});
  Request request{w.Build(tx), w.ValidIntents()};
  request.intents.push_back(MakeIntent(0xa2, {{Foreign(0), kPay0}}, MaxFee(10'000)));
  const TransactionCheckOutcome outcome = w.Check(request);
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(outcome.checked->intent_outputs.size(), 4u);
  EXPECT_EQ(outcome.checked->intent_outputs.back().tx_output_index, 4u);
}

TEST_P(TransactionCheckTest, TaprootSighashDefaultAndExplicitAllPass) {
  const Wallet w(GetParam());
  for (uint32_t type : {btc::kSighashDefault, btc::kSighashAll}) {
    if (w.kind() == Kind::kWsh && type == btc::kSighashDefault) continue;
    Request request = w.Valid();
    for (btc::PsbtInput& input : request.psbt.inputs) input.sighash_type = type;
    const TransactionCheckOutcome outcome = w.Check(request);
    ASSERT_TRUE(outcome.ok()) << type << ": " << outcome.status();
    const btc::Transaction final_tx = w.SignAndExtract(request.psbt);
    EXPECT_GE(outcome.checked->estimated_vsize, final_tx.VirtualSize()) << type;
    EXPECT_LE(outcome.checked->estimated_vsize, final_tx.VirtualSize() + 2) << type;
  }
}

// One row per refusal: a change to the valid request, the code and a piece of the detail.
struct RefusalCase {
  std::string name;
  std::function<void(const Wallet&, Request&)> change;
  TransactionRefusal code;
  std::string detail;
};

// Replaces the request's transaction by `edit` applied to the valid one, as a coordinator would
// build it (creator and updater).
void Rebuild(const Wallet& w, Request& r, const std::function<void(btc::Transaction&)>& edit) {
  btc::Transaction tx = w.ValidTransaction();
  edit(tx);
  r.psbt = w.Build(tx);
}

// Edits the unsigned transaction in place, keeping every PSBT field (the coordinator altering a
// PSBT after building it).
btc::Transaction& Tx(Request& r) { return *r.psbt.unsigned_tx; }

std::vector<RefusalCase> RefusalCases() {
  using R = TransactionRefusal;
  using WB = WalletBranch;
  return {
      // 1. Intents.
      {"no intents", [](const Wallet&, Request& r) { r.intents.clear(); }, R::kEmptyTransaction,
       "no intent"},
      {"intent for another wallet",
       [](const Wallet&, Request& r) {
         r.intents[1] = MakeIntent(0xa1, {{Foreign(2), kPay2}}, MaxRate(20'000), "other");
       },
       R::kWrongWallet, "intent 1 (id a1a1"},
      {"intent for another network",
       [](const Wallet&, Request& r) {
         r.intents[1] = MakeIntent(0xa1, {{Foreign(2), kPay2}}, MaxRate(20'000), "vault",
                                   btc::Network::kTestnet);
       },
       R::kWrongNetwork, "network test is not regtest"},
      // 2. The transaction.
      {"no unsigned transaction", [](const Wallet&, Request& r) { r.psbt.unsigned_tx.reset(); },
       R::kMalformedPsbt, ""},
      {"an output map missing", [](const Wallet&, Request& r) { r.psbt.outputs.pop_back(); },
       R::kMalformedPsbt, "output maps"},
      {"no outputs",
       [](const Wallet&, Request& r) {
         Tx(r).outputs.clear();
         r.psbt.outputs.clear();
       },
       R::kEmptyTransaction, "0 outputs"},
      {"an outpoint spent twice",
       [](const Wallet&, Request& r) {
         Tx(r).inputs.push_back(Tx(r).inputs[0]);
         r.psbt.inputs.push_back(r.psbt.inputs[0]);
       },
       R::kDuplicateInput, "input 2: spends"},
      // 3. Inputs.
      {"input already finalized",
       [](const Wallet&, Request& r) {
         r.psbt.inputs[1].final_script_witness = std::vector<std::vector<uint8_t>>{{0x01}};
       },
       R::kInputFinalized, "input 1: already finalized"},
      {"segwit input without previous transaction",
       [](const Wallet&, Request& r) { r.psbt.inputs[0].non_witness_utxo.reset(); },
       R::kMissingPreviousTransaction, "input 0: no previous transaction"},
      {"previous transaction of another txid",
       [](const Wallet& w, Request& r) {
         btc::Transaction other = w.funding();
         other.lock_time = 1;
         r.psbt.inputs[1].non_witness_utxo = other;
       },
       R::kPreviousTransactionMismatch, "input 1: previous transaction"},
      {"previous transaction without the spent output",
       [](const Wallet& w, Request& r) { Tx(r).inputs[1].prevout = w.Coin(9); },
       R::kPreviousTransactionMismatch, "has no output 9"},
      {"witness utxo understates the amount",
       [](const Wallet&, Request& r) { r.psbt.inputs[0].witness_utxo->value -= 100'000; },
       R::kWitnessUtxoMismatch, "input 0: witness utxo (900000 sat to "},
      {"witness utxo of another script",
       [](const Wallet&, Request& r) { r.psbt.inputs[0].witness_utxo->script_pubkey = Foreign(9); },
       R::kWitnessUtxoMismatch, "input 0"},
      {"input of a foreign script with a forged derivation",
       [](const Wallet& w, Request& r) {
         Rebuild(w, r, [&](btc::Transaction& tx) {
           tx.inputs.push_back(SpendOf(w.Coin(2)));
           tx.outputs[kOutChange].value += kReceiveCoin;
         });
         // The coordinator copies input 0's key paths to the foreign input.
         btc::PsbtInput forged = r.psbt.inputs[0];
         forged.non_witness_utxo = r.psbt.inputs[2].non_witness_utxo;
         forged.witness_utxo = w.funding().outputs[2];
         r.psbt.inputs[2] = forged;
       },
       R::kInputNotInWallet, "input 2: spent output bcrt1q"},
      {"input derivations name another index",
       [](const Wallet&, Request& r) {
         btc::PsbtInput& in = r.psbt.inputs[0];
         for (auto& [key, origin] : in.bip32_derivations) origin.path.steps.back() = 4;
         for (auto& [key, leaves] : in.tap_bip32_derivations) {
           if (!leaves.second.path.steps.empty()) leaves.second.path.steps.back() = 4;
         }
       },
       R::kInputNotInWallet, "input 0: spent output"},
      {"input above the receive bound",
       [](const Wallet& w, Request& r) {
         Rebuild(w, r, [&](btc::Transaction& tx) {
           tx.inputs.push_back(SpendOf(w.Coin(3)));
           tx.outputs[kOutChange].value += kReceiveCoin;
         });
       },
       R::kInputNotInWallet, "input 2: receive index 11 is above the bound 10"},
      {"one input derivation forged beside the true ones",
       [](const Wallet&, Request& r) {
         btc::PsbtInput& in = r.psbt.inputs[1];
         if (!in.bip32_derivations.empty()) {
           in.bip32_derivations.begin()->second.fingerprint[0] ^= 1;
         } else {
           in.tap_bip32_derivations.rbegin()->second.second.fingerprint[0] ^= 1;
         }
       },
       R::kInputNotInWallet, "is not the descriptor's"},
      {"input with more derivations than the wallet has keys",
       [](const Wallet&, Request& r) {
         btc::PsbtInput& in = r.psbt.inputs[0];
         if (!in.bip32_derivations.empty()) {
           auto key = in.bip32_derivations.begin()->first;
           key.back() ^= 1;
           in.bip32_derivations.emplace(key, in.bip32_derivations.begin()->second);
         } else {
           auto key = in.tap_bip32_derivations.begin()->first;
           key.back() ^= 1;
           in.tap_bip32_derivations.emplace(key, in.tap_bip32_derivations.begin()->second);
         }
       },
       R::kInputNotInWallet, "input 0: carries"},
      {"change output with more derivations than the wallet has keys",
       [](const Wallet&, Request& r) {
         btc::PsbtOutput& out = r.psbt.outputs[kOutChange];
         if (!out.bip32_derivations.empty()) {
           auto key = out.bip32_derivations.begin()->first;
           key.back() ^= 1;
           out.bip32_derivations.emplace(key, out.bip32_derivations.begin()->second);
         } else {
           auto key = out.tap_bip32_derivations.begin()->first;
           key.back() ^= 1;
           out.tap_bip32_derivations.emplace(key, out.tap_bip32_derivations.begin()->second);
         }
       },
       R::kUnexpectedOutput, "output 1"},
      {"input with a foreign witness script or merkle root",
       [](const Wallet&, Request& r) {
         btc::PsbtInput& in = r.psbt.inputs[0];
         if (in.witness_script.has_value()) {
           in.witness_script = Foreign(1);
         } else {
           (*in.tap_merkle_root)[0] ^= 1;
         }
       },
       R::kInputNotInWallet, "input 0 (receive index 3): its"},
      {"sighash none", [](const Wallet&, Request& r) { r.psbt.inputs[1].sighash_type = 2; },
       R::kUnsupportedSighash, "input 1: sighash type 2"},
      {"sighash all|anyonecanpay",
       [](const Wallet&, Request& r) { r.psbt.inputs[0].sighash_type = 0x81; },
       R::kUnsupportedSighash, "input 0: sighash type 129"},
      {"sighash single", [](const Wallet&, Request& r) { r.psbt.inputs[0].sighash_type = 3; },
       R::kUnsupportedSighash, "sighash type 3"},
      // 4. Amounts.
      {"negative output amount",
       [](const Wallet&, Request& r) { Tx(r).outputs[kOutChange].value = -1; },
       R::kAmountOutOfRange, "output 1: amount -1 sat"},
      // 5. Outputs: the attack of 2024 and its variants.
      {"intent output paid to the attacker",
       [](const Wallet&, Request& r) { Tx(r).outputs[kOutPay0].script_pubkey = Foreign(0xee); },
       R::kUnexpectedOutput, "output 2 (bcrt1q"},
      {"intent output amount raised",
       [](const Wallet&, Request& r) {
         Tx(r).outputs[kOutPay0].value += 50'000;
         Tx(r).outputs[kOutChange].value -= 50'000;
       },
       R::kUnexpectedOutput, "350000 sat) is neither an intent output nor change"},
      {"extra output to the attacker",
       [](const Wallet&, Request& r) {
         Tx(r).outputs[kOutChange].value -= 100'000;
         Tx(r).outputs.push_back({100'000, Foreign(0xee)});
         r.psbt.outputs.emplace_back();
       },
       R::kUnexpectedOutput, "output 4"},
      {"attacker output disguised as change",
       [](const Wallet&, Request& r) {
         Tx(r).outputs[kOutChange].value -= 100'000;
         Tx(r).outputs.push_back({100'000, Foreign(0xee)});
         r.psbt.outputs.push_back(r.psbt.outputs[kOutChange]);  // Claims change index 7.
       },
       R::kUnexpectedOutput, "output 4"},
      {"change to the receive branch",
       [](const Wallet& w, Request& r) {
         Rebuild(w, r, [&](btc::Transaction& tx) {
           tx.outputs[kOutChange].script_pubkey = w.ScriptAt(WB::kReceive, kChangeIndex);
         });
       },
       R::kUnexpectedOutput, "output 1"},
      {"change above the bound",
       [](const Wallet& w, Request& r) {
         Rebuild(w, r, [&](btc::Transaction& tx) {
           tx.outputs[kOutChange].script_pubkey = w.ScriptAt(WB::kChange, kIndexMax + 1);
         });
       },
       R::kChangeIndexOutOfBounds, "change index 11 is above the bound 10"},
      {"intent output dropped",
       [](const Wallet&, Request& r) {
         Tx(r).outputs[kOutChange].value += kPay2;
         Tx(r).outputs.erase(Tx(r).outputs.begin() + kOutPay2);
         r.psbt.outputs.erase(r.psbt.outputs.begin() + kOutPay2);
       },
       R::kMissingIntentOutput, "intent 1 (id a1a1"},
      {"one output for two identical intent outputs",
       [](const Wallet&, Request& r) {
         r.intents.push_back(MakeIntent(0xa2, {{Foreign(0), kPay0}}, MaxFee(10'000)));
       },
       R::kMissingIntentOutput, "intent 2"},
      // 6. Fee.
      {"outputs exceed inputs",
       [](const Wallet&, Request& r) { Tx(r).outputs[kOutChange].value += kFee + 1; },
       R::kFeeNegative, "exceed inputs (1500000 sat)"},
      {"fee above an intent's absolute ceiling",
       [](const Wallet&, Request& r) { Tx(r).outputs[kOutChange].value -= 7'001; },
       R::kIntentFeeCeiling, "intent 0 (id a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0): fee 10001 sat"},
      {"fee rate above an intent's rate ceiling",
       [](const Wallet&, Request& r) { Tx(r).outputs[kOutChange].value -= 6'000; },
       R::kIntentFeeCeiling, "intent 1 (id a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1): fee rate"},
  };
}

TEST_P(TransactionCheckTest, EachRefusalStartsFromTheValidRequest) {
  const Wallet w(GetParam());
  ASSERT_TRUE(w.Check(w.Valid()).ok());
  for (const RefusalCase& c : RefusalCases()) {
    SCOPED_TRACE(c.name);
    Request request = w.Valid();
    c.change(w, request);
    const TransactionCheckOutcome outcome = w.Check(request);
    ASSERT_FALSE(outcome.ok());
    ASSERT_TRUE(outcome.refusal.has_value());
    EXPECT_EQ(TransactionRefusalName(outcome.refusal->code), TransactionRefusalName(c.code))
        << outcome.refusal->detail;
    EXPECT_NE(outcome.refusal->detail.find(c.detail), std::string::npos) << outcome.refusal->detail;
    EXPECT_EQ(outcome.status().code(), util::StatusCode::kPermissionDenied);
    EXPECT_NE(outcome.status().message().find(TransactionRefusalName(c.code)), std::string::npos);
  }
}

TEST_P(TransactionCheckTest, SighashDefaultIsRefusedOutsideTaproot) {
  const Wallet w(GetParam());
  Request request = w.Valid();
  request.psbt.inputs[0].sighash_type = btc::kSighashDefault;
  const TransactionCheckOutcome outcome = w.Check(request);
  EXPECT_EQ(outcome.ok(), w.kind() == Kind::kTr);
}

TEST_P(TransactionCheckTest, Version2PsbtOfTheSameTransactionChecksTheSame) {
  const Wallet w(GetParam());
  const Request v0 = w.Valid();
  Request v2 = v0;
  const btc::Transaction& tx = *v0.psbt.unsigned_tx;
  v2.psbt.version = 2;
  v2.psbt.unsigned_tx.reset();
  v2.psbt.tx_version = tx.version;
  v2.psbt.fallback_locktime = tx.lock_time;
  for (size_t i = 0; i < tx.inputs.size(); ++i) {
    v2.psbt.inputs[i].previous_txid = tx.inputs[i].prevout.txid;
    v2.psbt.inputs[i].output_index = tx.inputs[i].prevout.index;
    v2.psbt.inputs[i].sequence = tx.inputs[i].sequence;
  }
  for (size_t k = 0; k < tx.outputs.size(); ++k) {
    v2.psbt.outputs[k].amount = tx.outputs[k].value;
    v2.psbt.outputs[k].script = tx.outputs[k].script_pubkey;
  }
  const TransactionCheckOutcome a = w.Check(v0);
  const TransactionCheckOutcome b = w.Check(v2);
  ASSERT_TRUE(a.ok() && b.ok()) << b.status();
  EXPECT_EQ(a.checked->txid, b.checked->txid);
  EXPECT_EQ(a.checked->estimated_vsize, b.checked->estimated_vsize);
  // The same alteration is refused in both forms.
  v2.psbt.outputs[kOutPay0].script = Foreign(0xee);
  EXPECT_EQ(w.Check(v2).refusal->code, TransactionRefusal::kUnexpectedOutput);
}

TEST(TransactionCheckNamesTest, NamesAreStable) {
  // DO NOT CHANGE: the names are logged.
  const std::vector<std::pair<TransactionRefusal, std::string>> names = {
      {TransactionRefusal::kMalformedPsbt, "malformed_psbt"},
      {TransactionRefusal::kEmptyTransaction, "empty_transaction"},
      {TransactionRefusal::kWrongWallet, "wrong_wallet"},
      {TransactionRefusal::kWrongNetwork, "wrong_network"},
      {TransactionRefusal::kDuplicateInput, "duplicate_input"},
      {TransactionRefusal::kInputFinalized, "input_finalized"},
      {TransactionRefusal::kMissingPreviousTransaction, "missing_previous_transaction"},
      {TransactionRefusal::kPreviousTransactionMismatch, "previous_transaction_mismatch"},
      {TransactionRefusal::kWitnessUtxoMismatch, "witness_utxo_mismatch"},
      {TransactionRefusal::kInputNotInWallet, "input_not_in_wallet"},
      {TransactionRefusal::kUnsupportedSighash, "unsupported_sighash"},
      {TransactionRefusal::kAmountOutOfRange, "amount_out_of_range"},
      {TransactionRefusal::kUnexpectedOutput, "unexpected_output"},
      {TransactionRefusal::kChangeIndexOutOfBounds, "change_index_out_of_bounds"},
      {TransactionRefusal::kMissingIntentOutput, "missing_intent_output"},
      {TransactionRefusal::kFeeNegative, "fee_negative"},
      {TransactionRefusal::kIntentFeeCeiling, "intent_fee_ceiling"},
  };
  for (const auto& [code, name] : names) EXPECT_EQ(TransactionRefusalName(code), name);
  EXPECT_EQ(WalletBranchName(WalletBranch::kReceive), "receive");
  EXPECT_EQ(WalletBranchName(WalletBranch::kChange), "change");
}

// WalletConfig::Create, one rejection per rule, each from a valid configuration.
TEST(WalletConfigTest, CreateRejectsUnsafeConfigurations) {
  const btc::ExtendedKey a = Master(0xa1);
  const btc::ExtendedKey b = Master(0xb2);
  const std::string ka = KeyExpression(a, "48h/1h/0h/2h");
  const std::string kb = KeyExpression(b, "48h/1h/0h/2h");
  const std::string valid = "wsh(sortedmulti(1," + ka + "," + kb + "))";
  auto create = [](const std::string& text, std::string id = "vault", btc::Network network = kNet,
                   uint32_t max = kIndexMax) {
    util::Result<btc::Descriptor> d = btc::Descriptor::Parse(Ctx(), text, btc::Network::kRegtest);
    EXPECT_TRUE(d.ok()) << text << ": " << d.status();
    return WalletConfig::Create(Ctx(), std::move(id), network, std::move(d).value(), max, max);
  };
  ASSERT_TRUE(create(valid).ok());
  // `valid` with every occurrence of `from` replaced by `to`.
  auto replace = [&](const std::string& from, const std::string& to) {
    std::string text = valid;
    for (size_t pos = text.find(from); pos != std::string::npos;
         pos = text.find(from, pos + to.size())) {
      text.replace(pos, from.size(), to);
    }
    return text;
  };
  const btc::ExtendedKey account =
      a.DerivePath(Ctx(), btc::KeyPath::Parse("48h/1h/0h/2h").value()).value();
  struct Case {
    std::string name;
    util::Result<WalletConfig> result;
    std::string message;
  };
  std::vector<Case> cases;
  cases.push_back({"invalid wallet id", create(valid, "bad id"), "invalid wallet id"});
  cases.push_back({"other network", create(valid, "vault", btc::Network::kSignet), "network"});
  cases.push_back({"bound hardened", create(valid, "vault", kNet, btc::kHardened), "2^31"});
  cases.push_back({"private key", create(replace(account.Neuter().ToString(), account.ToString())),
                   "private keys"});
  cases.push_back({"not ranged", create(replace("<0;1>/*", "<0;1>")), "not ranged"});
  cases.push_back({"single path", create(replace("<0;1>", "0")), "two multipath"});
  cases.push_back({"three paths", create(replace("<0;1>", "<0;1;2>")), "two multipath"});
  cases.push_back({"hardened derivation below an xpub", create(replace("<0;1>/*", "<0;1>/*h")),
                   "receive branch"});
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    ASSERT_FALSE(c.result.ok());
    EXPECT_EQ(c.result.status().code(), util::StatusCode::kInvalidArgument);
    EXPECT_NE(c.result.status().message().find(c.message), std::string::npos) << c.result.status();
  }
}

}  // namespace
}  // namespace kinko::signer
