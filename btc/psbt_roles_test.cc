// The BIP174 role workflow, signer refusals and combiner vectors; every role on every supported
// input kind, with each final transaction checked by the script interpreter.
#include "btc/psbt_roles.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "btc/address.h"
#include "btc/amount.h"
#include "btc/bip32.h"
#include "btc/interpreter.h"
#include "btc/psbt_sign.h"
#include "btc/sighash.h"
#include "btc/standard.h"
#include "crypto/hash.h"
#include "crypto/rng.h"
#include "crypto/secp256k1.h"
#include "util/hex.h"

namespace kinko::btc {
namespace {

using ::testing::HasSubstr;

const crypto::Secp256k1Context& Ctx() {
  static crypto::SystemRng rng;
  static const crypto::Secp256k1Context ctx = crypto::Secp256k1Context::Create(rng);
  return ctx;
}

const nlohmann::json& Vectors() {
  static const nlohmann::json vectors = [] {
    std::ifstream in(std::string(KINKO_VECTORS_DIR) + "/bip174_psbt_test_vectors.json");
    return nlohmann::json::parse(in);
  }();
  return vectors;
}

const nlohmann::json& Step(size_t index) { return Vectors()["role_workflow"]["steps"][index]; }

std::vector<uint8_t> Hex(const std::string& hex) {
  util::Result<std::vector<uint8_t>> bytes = util::HexDecode(hex);
  EXPECT_TRUE(bytes.ok()) << hex;
  return bytes.ok() ? *bytes : std::vector<uint8_t>{};
}

Psbt ParseHex(const std::string& hex) {
  util::Result<Psbt> psbt = Psbt::Parse(Hex(hex));
  EXPECT_TRUE(psbt.ok()) << psbt.status();
  return psbt.ok() ? *psbt : Psbt{};
}

std::string SerializeHex(const Psbt& psbt) { return util::HexEncode(psbt.Serialize()); }

// The step results of the BIP174 workflow, by index in role_workflow.steps.
enum WorkflowStep : size_t {
  kCreator = 0,
  kUpdater = 1,
  kSighashUpdater = 2,
  kSigner1 = 3,
  kSigner2 = 4,
  kCombiner = 5,
  kFinalizer = 6,
  kExtractor = 7,
};

Psbt StepResult(WorkflowStep step) { return ParseHex(Step(step)["result_hex"]); }

ExtendedKey WorkflowMaster() {
  util::Result<ExtendedKey> master = ExtendedKey::Parse(
      Ctx(), Vectors()["role_workflow"]["master_extended_private_key"].get<std::string>());
  EXPECT_TRUE(master.ok());
  return std::move(*master);
}

// The outputs each input of `tx` spends, from `previous` transactions.
std::vector<TxOut> SpentOutputs(const Transaction& tx, const std::vector<Transaction>& previous) {
  std::vector<TxOut> spent;
  for (const TxIn& in : tx.inputs) {
    for (const Transaction& prev : previous) {
      if (prev.ComputeTxid() == in.prevout.txid) spent.push_back(prev.outputs[in.prevout.index]);
    }
  }
  EXPECT_EQ(spent.size(), tx.inputs.size());
  return spent;
}

std::vector<Transaction> WorkflowPreviousTransactions() {
  std::vector<Transaction> previous;
  for (const auto& hex : Step(kUpdater)["previous_transactions_hex"]) {
    util::Result<Transaction> tx = Transaction::ParseHex(hex.get<std::string>());
    EXPECT_TRUE(tx.ok());
    previous.push_back(*tx);
  }
  return previous;
}

TEST(PsbtRolesTest, Bip174CreatorBuildsTheVectorPsbt) {
  const nlohmann::json& step = Step(kCreator);
  Transaction tx;
  tx.version = 2;
  for (const auto& in : step["inputs"]) {
    util::Result<Txid> txid = TxidFromHex(in["txid"].get<std::string>());
    ASSERT_TRUE(txid.ok());
    TxIn txin;
    txin.prevout = Outpoint{*txid, in["vout"].get<uint32_t>()};
    tx.inputs.push_back(txin);
  }
  for (const auto& out : step["outputs"]) {
    util::Result<Amount> amount = Amount::ParseBtc(out["amount_btc"].get<std::string>());
    ASSERT_TRUE(amount.ok());
    tx.outputs.push_back(
        TxOut{.value = amount->sats(), .script_pubkey = Script(Hex(out["scriptPubKey_hex"]))});
  }
  util::Result<Psbt> psbt = CreatePsbt(tx);
  ASSERT_TRUE(psbt.ok()) << psbt.status();
  EXPECT_EQ(SerializeHex(*psbt), step["result_hex"]);
  EXPECT_EQ(psbt->ToBase64(), step["result_base64"]);
}

TEST(PsbtRolesTest, CreatorRejectsSignedTransaction) {
  Transaction tx;
  TxIn txin;
  txin.script_sig = Script(std::vector<uint8_t>{0x51});
  tx.inputs.push_back(txin);
  tx.outputs.push_back(TxOut{.value = 1, .script_pubkey = Script(std::vector<uint8_t>{0x51})});
  util::Result<Psbt> psbt = CreatePsbt(tx);
  ASSERT_FALSE(psbt.ok());
  EXPECT_THAT(psbt.status().message(), HasSubstr("input 0"));
}

TEST(PsbtRolesTest, Bip174UpdaterAddsUtxosScriptsAndDerivations) {
  const nlohmann::json& step = Step(kUpdater);
  PsbtUpdateData data;
  data.previous_transactions = WorkflowPreviousTransactions();
  for (const auto& hex : step["redeem_scripts_hex"]) data.scripts.emplace_back(Hex(hex));
  for (const auto& hex : step["witness_scripts_hex"]) data.scripts.emplace_back(Hex(hex));
  const std::array<uint8_t, 4> fingerprint = WorkflowMaster().Fingerprint();
  for (const auto& key : step["public_keys"]) {
    util::Result<KeyPath> path = KeyPath::Parse(key["path"].get<std::string>());
    ASSERT_TRUE(path.ok());
    data.key_origins.emplace(Hex(key["pubkey_hex"]),
                             KeyOrigin{.fingerprint = fingerprint, .path = *path});
  }
  util::Result<Psbt> updated =
      UpdatePsbt(StepResult(kCreator), data, {.segwit_utxo = SegwitUtxoFields::kWitnessUtxoOnly});
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(SerializeHex(*updated), step["result_hex"]);

  // Updating again changes nothing.
  util::Result<Psbt> again =
      UpdatePsbt(*updated, data, {.segwit_utxo = SegwitUtxoFields::kWitnessUtxoOnly});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *updated);

  // By default the segwit input keeps its full previous transaction too.
  util::Result<Psbt> both = UpdatePsbt(StepResult(kCreator), data);
  ASSERT_TRUE(both.ok());
  EXPECT_TRUE(both->inputs[1].non_witness_utxo.has_value());
  EXPECT_TRUE(both->inputs[1].witness_utxo.has_value());
}

TEST(PsbtRolesTest, Bip174SighashUpdater) {
  Psbt psbt = StepResult(kUpdater);
  for (PsbtInput& input : psbt.inputs) input.sighash_type = kSighashAll;
  EXPECT_EQ(SerializeHex(psbt), Step(kSighashUpdater)["result_hex"]);
}

PsbtSignOptions NoGrinding() {
  PsbtSignOptions options;
  options.grinding = crypto::LowRGrinding::kNone;
  return options;
}

PsbtSignOptions AnySighash() {
  PsbtSignOptions options;
  options.allow_any_sighash = true;
  return options;
}

PsbtSigningKeys WifKeys(const nlohmann::json& step) {
  PsbtSigningKeys keys;
  for (const auto& key : step["private_keys"]) {
    util::Result<WifKey> wif = DecodeWif(key["wif"].get<std::string>());
    EXPECT_TRUE(wif.ok());
    keys.AddKey(Ctx(), std::move(wif->key));
  }
  return keys;
}

TEST(PsbtRolesTest, Bip174SignersReproduceTheVectorSignatures) {
  // The vectors predate low-R grinding: plain RFC 6979 (one of their signatures is 72 bytes).
  for (WorkflowStep step : {kSigner1, kSigner2}) {
    util::Result<PsbtSignResult> signed_psbt =
        SignPsbt(Ctx(), StepResult(kSighashUpdater), WifKeys(Step(step)), NoGrinding());
    ASSERT_TRUE(signed_psbt.ok()) << signed_psbt.status();
    EXPECT_EQ(SerializeHex(signed_psbt->psbt), Step(step)["result_hex"]) << step;
    EXPECT_EQ(signed_psbt->signatures_added, 2u);
    EXPECT_FALSE(signed_psbt->complete);
  }
}

TEST(PsbtRolesTest, SignerWithMasterXprvMakesAllFourSignatures) {
  // Every key of the workflow derives from its master: signing with it gives the combined PSBT.
  PsbtSigningKeys keys;
  ASSERT_TRUE(keys.AddExtendedKey(WorkflowMaster(), std::nullopt).ok());
  util::Result<PsbtSignResult> signed_psbt =
      SignPsbt(Ctx(), StepResult(kSighashUpdater), keys, NoGrinding());
  ASSERT_TRUE(signed_psbt.ok()) << signed_psbt.status();
  EXPECT_EQ(signed_psbt->signatures_added, 4u);
  EXPECT_TRUE(signed_psbt->complete);
  EXPECT_EQ(SerializeHex(signed_psbt->psbt), Step(kCombiner)["result_hex"]);

  // Signing again adds nothing.
  util::Result<PsbtSignResult> again = SignPsbt(Ctx(), signed_psbt->psbt, keys);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->signatures_added, 0u);
  EXPECT_EQ(again->psbt, signed_psbt->psbt);
}

TEST(PsbtRolesTest, SignerIgnoresXprvOfAnotherMaster) {
  PsbtSigningKeys keys;
  const std::vector<uint8_t> seed(32, 0x42);
  util::Result<ExtendedKey> other = ExtendedKey::FromSeed(Ctx(), seed, Network::kTestnet);
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE(keys.AddExtendedKey(std::move(*other), std::nullopt).ok());
  util::Result<PsbtSignResult> signed_psbt = SignPsbt(Ctx(), StepResult(kSighashUpdater), keys);
  ASSERT_TRUE(signed_psbt.ok());
  EXPECT_EQ(signed_psbt->signatures_added, 0u);
  EXPECT_EQ(signed_psbt->psbt, StepResult(kSighashUpdater));
}

TEST(PsbtRolesTest, SignerRejectsPublicExtendedKey) {
  PsbtSigningKeys keys;
  EXPECT_FALSE(keys.AddExtendedKey(WorkflowMaster().Neuter(), std::nullopt).ok());
}

TEST(PsbtRolesTest, Bip174CombinerMergesBothSigners) {
  const std::vector<Psbt> psbts = {StepResult(kSigner1), StepResult(kSigner2)};
  util::Result<Psbt> combined = CombinePsbts(psbts);
  ASSERT_TRUE(combined.ok()) << combined.status();
  EXPECT_EQ(SerializeHex(*combined), Step(kCombiner)["result_hex"]);
  // Order does not matter when the PSBTs do not conflict.
  const std::vector<Psbt> reversed = {StepResult(kSigner2), StepResult(kSigner1)};
  util::Result<Psbt> combined_reversed = CombinePsbts(reversed);
  ASSERT_TRUE(combined_reversed.ok());
  EXPECT_EQ(*combined_reversed, *combined);
}

TEST(PsbtRolesTest, Bip174CombinerKeepsUnknownKeysInOrder) {
  const nlohmann::json& vector = Vectors()["combiner_unknown_keys"];
  std::vector<Psbt> psbts;
  for (const auto& in : vector["inputs"]) psbts.push_back(ParseHex(in["hex"]));
  util::Result<Psbt> combined = CombinePsbts(psbts);
  ASSERT_TRUE(combined.ok()) << combined.status();
  EXPECT_EQ(SerializeHex(*combined), vector["result_hex"]);
}

TEST(PsbtRolesTest, CombinerRejectsDifferentTransactions) {
  const std::vector<Psbt> psbts = {StepResult(kCreator),
                                   ParseHex(Vectors()["combiner_unknown_keys"]["result_hex"])};
  util::Result<Psbt> combined = CombinePsbts(psbts);
  ASSERT_FALSE(combined.ok());
  EXPECT_THAT(combined.status().message(), HasSubstr("different transaction"));
  EXPECT_FALSE(CombinePsbts(std::span<const Psbt>()).ok());
}

TEST(PsbtRolesTest, Bip174FinalizerAndExtractor) {
  util::Result<PsbtFinalizeResult> finalized = FinalizePsbt(StepResult(kCombiner));
  ASSERT_TRUE(finalized.ok()) << finalized.status();
  EXPECT_TRUE(finalized->complete);
  EXPECT_EQ(SerializeHex(finalized->psbt), Step(kFinalizer)["result_hex"]);

  util::Result<Transaction> tx = ExtractTransaction(StepResult(kFinalizer));
  ASSERT_TRUE(tx.ok()) << tx.status();
  EXPECT_EQ(util::HexEncode(tx->Serialize()), Step(kExtractor)["result_tx_hex"]);

  // The script interpreter accepts the extracted transaction.
  const std::vector<TxOut> spent = SpentOutputs(*tx, WorkflowPreviousTransactions());
  TxVerifyResult verified = VerifyTransaction(Ctx(), *tx, spent, StandardVerifyFlags());
  EXPECT_TRUE(verified.valid) << verified.detail;
}

TEST(PsbtRolesTest, FinalizerLeavesIncompleteInputs) {
  util::Result<PsbtFinalizeResult> finalized = FinalizePsbt(StepResult(kSigner1));
  ASSERT_TRUE(finalized.ok());
  EXPECT_FALSE(finalized->complete);
  EXPECT_EQ(finalized->psbt, StepResult(kSigner1));
  util::Result<Transaction> tx = ExtractTransaction(StepResult(kSigner1));
  ASSERT_FALSE(tx.ok());
  EXPECT_EQ(tx.status().code(), util::StatusCode::kFailedPrecondition);
  EXPECT_THAT(tx.status().message(), HasSubstr("input 0"));
}

TEST(PsbtRolesTest, GroundSignaturesAlsoFinalizeAndVerify) {
  PsbtSigningKeys keys;
  ASSERT_TRUE(keys.AddExtendedKey(WorkflowMaster(), std::nullopt).ok());
  util::Result<PsbtSignResult> signed_psbt = SignPsbt(Ctx(), StepResult(kSighashUpdater), keys);
  ASSERT_TRUE(signed_psbt.ok());
  for (const PsbtInput& input : signed_psbt->psbt.inputs) {
    // Low R: at most 70 bytes of DER and the sighash byte.
    for (const auto& [pubkey, sig] : input.partial_sigs) EXPECT_LE(sig.size(), 71u);
  }
  util::Result<PsbtFinalizeResult> finalized = FinalizePsbt(signed_psbt->psbt);
  ASSERT_TRUE(finalized.ok() && finalized->complete);
  util::Result<Transaction> tx = ExtractTransaction(finalized->psbt);
  ASSERT_TRUE(tx.ok());
  const std::vector<TxOut> spent = SpentOutputs(*tx, WorkflowPreviousTransactions());
  TxVerifyResult verified = VerifyTransaction(Ctx(), *tx, spent, StandardVerifyFlags());
  EXPECT_TRUE(verified.valid) << verified.detail;
}

TEST(PsbtRolesTest, Bip174SignerChecksRefuse) {
  const std::vector<std::string> reasons = {
      "witness utxo given for a non-witness output",
      "redeem script does not match the spent output's script",
      "redeem script does not match the spent output's script",
      "witness script does not match the redeem script",
  };
  const nlohmann::json& cases = Vectors()["fails_signer_checks"];
  ASSERT_EQ(cases.size(), reasons.size());
  PsbtSigningKeys keys;
  ASSERT_TRUE(keys.AddExtendedKey(WorkflowMaster(), std::nullopt).ok());
  for (size_t i = 0; i < cases.size(); ++i) {
    util::Result<PsbtSignResult> signed_psbt = SignPsbt(Ctx(), ParseHex(cases[i]["hex"]), keys);
    ASSERT_FALSE(signed_psbt.ok()) << cases[i]["description"];
    EXPECT_EQ(signed_psbt.status().code(), util::StatusCode::kInvalidArgument);
    EXPECT_THAT(signed_psbt.status().message(), HasSubstr(reasons[i])) << cases[i]["description"];
  }
}

TEST(PsbtRolesTest, SignerRefusesSighashNoneUnlessAllowed) {
  Psbt psbt = StepResult(kUpdater);
  for (PsbtInput& input : psbt.inputs) input.sighash_type = kSighashNone;
  PsbtSigningKeys keys;
  ASSERT_TRUE(keys.AddExtendedKey(WorkflowMaster(), std::nullopt).ok());
  util::Result<PsbtSignResult> refused = SignPsbt(Ctx(), psbt, keys);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), util::StatusCode::kPermissionDenied);
  EXPECT_THAT(refused.status().message(), HasSubstr("sighash type 2"));

  util::Result<PsbtSignResult> allowed = SignPsbt(Ctx(), psbt, keys, AnySighash());
  ASSERT_TRUE(allowed.ok());
  EXPECT_EQ(allowed->signatures_added, 4u);
  for (const PsbtInput& input : allowed->psbt.inputs) {
    for (const auto& [pubkey, sig] : input.partial_sigs) EXPECT_EQ(sig.back(), kSighashNone);
  }
}

TEST(PsbtRolesTest, SignerRefusesPreviousTransactionOfAnotherTxid) {
  Psbt psbt = StepResult(kSighashUpdater);
  ASSERT_TRUE(psbt.inputs[0].non_witness_utxo.has_value());
  psbt.inputs[0].non_witness_utxo->lock_time ^= 1;
  PsbtSigningKeys keys;
  ASSERT_TRUE(keys.AddExtendedKey(WorkflowMaster(), std::nullopt).ok());
  util::Result<PsbtSignResult> refused = SignPsbt(Ctx(), psbt, keys);
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.status().message(), HasSubstr("input 0: previous transaction"));
}

TEST(PsbtRolesTest, FeeFactsOfTheWorkflow) {
  // Input 0 carries its previous transaction, input 1 only a witness UTXO.
  const std::vector<Transaction> previous = WorkflowPreviousTransactions();
  const Psbt unsigned_psbt = StepResult(kSighashUpdater);
  const std::vector<TxOut> spent = SpentOutputs(*unsigned_psbt.unsigned_tx, previous);
  int64_t in_total = 0;
  for (const TxOut& out : spent) in_total += out.value;
  int64_t out_total = 0;
  for (const TxOut& out : unsigned_psbt.unsigned_tx->outputs) out_total += out.value;

  util::Result<PsbtFeeFacts> facts = ComputeFeeFacts(unsigned_psbt);
  ASSERT_TRUE(facts.ok()) << facts.status();
  ASSERT_TRUE(facts->input_total.has_value());
  EXPECT_EQ(*facts->input_total, in_total);
  EXPECT_EQ(facts->output_total, out_total);
  EXPECT_EQ(*facts->fee, in_total - out_total);
  EXPECT_TRUE(facts->amount_from_witness_utxo_only);

  // Final: the exact size of the extracted transaction.
  util::Result<Transaction> tx = ExtractTransaction(StepResult(kFinalizer));
  ASSERT_TRUE(tx.ok());
  util::Result<PsbtFeeFacts> final_facts = ComputeFeeFacts(StepResult(kFinalizer));
  ASSERT_TRUE(final_facts.ok());
  EXPECT_EQ(final_facts->estimated_vsize, tx->VirtualSize());
  EXPECT_EQ(final_facts->fee_rate_sat_per_kvb,
            (in_total - out_total) * 1000 / static_cast<int64_t>(tx->VirtualSize()));
  // Before signing the estimate assumes 72-byte signatures: never below the final size, and
  // at most one byte per signature above it (71-byte and 72-byte signatures in the vector).
  ASSERT_TRUE(facts->estimated_vsize.has_value());
  EXPECT_GE(*facts->estimated_vsize, tx->VirtualSize());
  EXPECT_LE(*facts->estimated_vsize, tx->VirtualSize() + 4);

  // Without any UTXO the input total is unknown.
  util::Result<PsbtFeeFacts> creator_facts = ComputeFeeFacts(StepResult(kCreator));
  ASSERT_TRUE(creator_facts.ok());
  EXPECT_FALSE(creator_facts->input_total.has_value());
  EXPECT_FALSE(creator_facts->fee.has_value());
  EXPECT_FALSE(creator_facts->estimated_vsize.has_value());
}

}  // namespace
}  // namespace kinko::btc
