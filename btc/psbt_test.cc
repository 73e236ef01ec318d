#include "btc/psbt.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "crypto/hash.h"
#include "util/hex.h"

namespace kinko::btc {
namespace {

using ::testing::HasSubstr;

nlohmann::json ReadVectors(const std::string& name) {
  std::ifstream in(std::string(KINKO_VECTORS_DIR) + "/" + name);
  EXPECT_TRUE(in.good()) << name;
  return nlohmann::json::parse(in);
}

std::vector<uint8_t> Hex(std::string_view hex) {
  util::Result<std::vector<uint8_t>> b = util::HexDecode(hex);
  EXPECT_TRUE(b.ok()) << hex;
  return b.ok() ? *b : std::vector<uint8_t>{};
}

std::string Repeat(std::string_view s, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out += s;
  return out;
}

// A key-value pair in hex: CompactSize lengths (all test keys and values are short) and bytes.
std::string Kv(std::string_view key, std::string_view value) {
  auto len = [](std::string_view hex) {
    const size_t n = hex.size() / 2;
    CHECK(n < 0xfd);
    return util::HexEncode(std::vector<uint8_t>{static_cast<uint8_t>(n)});
  };
  return len(key) + std::string(key) + len(value) + std::string(value);
}

// A version 0 PSBT spending one outpoint of `prev_txid` (internal order) to one P2WPKH output.
const std::string kTxid = Repeat("11", 32);
const std::string kUnsignedTx =
    "02000000"
    "01" +
    kTxid +
    "00000000"
    "00"
    "ffffffff"
    "01" +
    "e803000000000000"
    "16"
    "0014" +
    Repeat("22", 20) + "00000000";

std::string V0(std::string global_extra, std::string input, std::string output) {
  return "70736274ff" + Kv("00", kUnsignedTx) + global_extra + "00" + input + "00" + output + "00";
}

// A version 2 PSBT with one input and one output and the required fields.
// `fallback` and `modifiable` are the optional PSBT_GLOBAL_FALLBACK_LOCKTIME and
// PSBT_GLOBAL_TX_MODIFIABLE entries, placed where the canonical order puts them.
std::string V2Global(std::string fallback = "", std::string modifiable = "") {
  return Kv("02", "02000000") + fallback + Kv("04", "01") + Kv("05", "01") + modifiable +
         Kv("fb", "02000000");
}
std::string V2Input(std::string extra = "") {
  return Kv("0e", kTxid) + Kv("0f", "00000000") + extra;
}
std::string V2Output(std::string extra = "") {
  return Kv("03", "e803000000000000") + Kv("04", "0014" + Repeat("22", 20)) + extra;
}
std::string V2(std::string global, std::string input, std::string output) {
  return "70736274ff" + global + "00" + input + "00" + output + "00";
}

util::Result<Psbt> ParseHex(const std::string& hex) { return Psbt::Parse(Hex(hex)); }

// A valid compressed public key (the secp256k1 generator) and a DER signature with SIGHASH_ALL.
const std::string kPubkey = "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798";
const std::string kSig =
    "3044022022222222222222222222222222222222222222222222222222222222222222220220"
    "3333333333333333333333333333333333333333333333333333333333333333"
    "01";

void ExpectRoundTrip(const std::string& hex) {
  util::Result<Psbt> p = ParseHex(hex);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(util::HexEncode(p->Serialize()), hex);
  util::Result<Psbt> again = Psbt::Parse(p->Serialize());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(*again, *p);
}

void ExpectRejected(const std::string& hex, std::string_view what) {
  util::Result<Psbt> p = ParseHex(hex);
  ASSERT_FALSE(p.ok()) << what;
  EXPECT_EQ(p.status().code(), util::StatusCode::kInvalidArgument);
  EXPECT_THAT(p.status().message(), HasSubstr(std::string(what)));
}

TEST(PsbtTest, Bip174InvalidVectorsAreRejected) {
  nlohmann::json v = ReadVectors("bip174_psbt_test_vectors.json");
  size_t rejected = 0;
  for (const auto& c : v["invalid"]) {
    const std::string desc = c["description"];
    util::Result<Psbt> from_hex = Psbt::Parse(Hex(c["hex"].get<std::string>()));
    util::Result<Psbt> from_b64 = Psbt::ParseBase64(c["base64"].get<std::string>());
    EXPECT_FALSE(from_hex.ok()) << desc;
    EXPECT_FALSE(from_b64.ok()) << desc;
    if (!from_hex.ok() && !from_b64.ok()) {
      ++rejected;
      EXPECT_THAT(from_hex.status().message(), HasSubstr("psbt")) << desc;
    }
  }
  EXPECT_EQ(rejected, 20u);
}

TEST(PsbtTest, Bip174ValidVectorsRoundTripByteIdentically) {
  nlohmann::json v = ReadVectors("bip174_psbt_test_vectors.json");
  size_t passed = 0;
  for (const auto& c : v["valid"]) {
    const std::string desc = c["description"];
    const std::vector<uint8_t> bytes = Hex(c["hex"].get<std::string>());
    util::Result<Psbt> p = Psbt::Parse(bytes);
    ASSERT_TRUE(p.ok()) << desc << ": " << p.status();
    util::Result<Psbt> from_b64 = Psbt::ParseBase64(c["base64"].get<std::string>());
    ASSERT_TRUE(from_b64.ok()) << desc << ": " << from_b64.status();
    EXPECT_EQ(*from_b64, *p) << desc;
    EXPECT_EQ(p->Serialize(), bytes) << desc;
    EXPECT_EQ(p->ToBase64(), c["base64"].get<std::string>()) << desc;
    if (p->Serialize() == bytes) ++passed;
  }
  EXPECT_EQ(passed, 10u);
}

TEST(PsbtTest, Bip174SignerCheckVectorsParse) {
  nlohmann::json v = ReadVectors("bip174_psbt_test_vectors.json");
  size_t parsed = 0;
  for (const auto& c : v["fails_signer_checks"]) {
    const std::vector<uint8_t> bytes = Hex(c["hex"].get<std::string>());
    util::Result<Psbt> p = Psbt::Parse(bytes);
    ASSERT_TRUE(p.ok()) << c["description"] << ": " << p.status();
    EXPECT_EQ(p->Serialize(), bytes);
    // What a signer needs to run its checks: the spent output of every input.
    for (size_t i = 0; i < p->inputs.size(); ++i) EXPECT_TRUE(p->GetInputUtxo(i).ok());
    ++parsed;
  }
  EXPECT_EQ(parsed, 4u);
}

// Every PSBT in the role workflow and the combiner example was written by Bitcoin Core, so
// each must come back byte for byte (this covers two partial signatures per input, whose
// order is Bitcoin Core's).
TEST(PsbtTest, Bip174WorkflowPsbtsRoundTrip) {
  nlohmann::json v = ReadVectors("bip174_psbt_test_vectors.json");
  std::vector<std::string> hexes;
  for (const auto& step : v["role_workflow"]["steps"]) {
    if (step.contains("result_hex") && step.contains("result_base64")) {
      hexes.push_back(step["result_hex"]);
      util::Result<Psbt> p = Psbt::ParseBase64(step["result_base64"].get<std::string>());
      ASSERT_TRUE(p.ok()) << p.status();
      EXPECT_EQ(util::HexEncode(p->Serialize()), step["result_hex"].get<std::string>());
    }
  }
  for (const auto& in : v["combiner_unknown_keys"]["inputs"]) hexes.push_back(in["hex"]);
  hexes.push_back(v["combiner_unknown_keys"]["result_hex"]);
  EXPECT_EQ(hexes.size(), 10u);
  for (const std::string& hex : hexes) ExpectRoundTrip(hex);
}

TEST(PsbtTest, Bip370InvalidVectorsAreRejected) {
  nlohmann::json v = ReadVectors("bip370_psbt_v2_test_vectors.json");
  size_t rejected = 0;
  for (const auto& c : v["invalid"]) {
    util::Result<Psbt> p = Psbt::Parse(Hex(c["hex"].get<std::string>()));
    EXPECT_FALSE(p.ok()) << c["description"];
    EXPECT_FALSE(Psbt::ParseBase64(c["base64"].get<std::string>()).ok()) << c["description"];
    if (!p.ok()) ++rejected;
  }
  EXPECT_EQ(rejected, 24u);
}

TEST(PsbtTest, Bip370ValidVectorsRoundTripByteIdentically) {
  nlohmann::json v = ReadVectors("bip370_psbt_v2_test_vectors.json");
  size_t passed = 0;
  for (const char* group : {"valid", "locktime"}) {
    for (const auto& c : v[group]) {
      const std::vector<uint8_t> bytes = Hex(c["hex"].get<std::string>());
      util::Result<Psbt> p = Psbt::Parse(bytes);
      ASSERT_TRUE(p.ok()) << c["description"] << ": " << p.status();
      EXPECT_EQ(p->version, 2u);
      EXPECT_EQ(p->Serialize(), bytes) << c["description"];
      EXPECT_EQ(p->ToBase64(), c["base64"].get<std::string>()) << c["description"];
      if (p->Serialize() == bytes) ++passed;
    }
  }
  EXPECT_EQ(passed, 24u);
}

TEST(PsbtTest, Bip370LockTimeVectors) {
  nlohmann::json v = ReadVectors("bip370_psbt_v2_test_vectors.json");
  size_t checked = 0;
  for (const auto& c : v["locktime"]) {
    util::Result<Psbt> p = ParseHex(c["hex"]);
    ASSERT_TRUE(p.ok()) << c["description"] << ": " << p.status();
    util::Result<Transaction> tx = p->GetUnsignedTx();
    if (c["expected_locktime"].is_null()) {
      EXPECT_FALSE(tx.ok()) << c["description"];
      if (!tx.ok()) ++checked;
    } else {
      ASSERT_TRUE(tx.ok()) << c["description"] << ": " << tx.status();
      EXPECT_EQ(tx->lock_time, c["expected_locktime"].get<uint32_t>()) << c["description"];
      if (tx->lock_time == c["expected_locktime"].get<uint32_t>()) ++checked;
    }
  }
  EXPECT_EQ(checked, 10u);
}

TEST(PsbtTest, Bip370V2FieldsAreRead) {
  nlohmann::json v = ReadVectors("bip370_psbt_v2_test_vectors.json");
  // "1 input, 2 output updated PSBTv2, with all PSBTv2 fields".
  util::Result<Psbt> p = ParseHex(v["valid"][13]["hex"]);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->tx_version, std::optional<uint32_t>(2));
  EXPECT_EQ(p->fallback_locktime, std::optional<uint32_t>(0));
  EXPECT_EQ(p->tx_modifiable, std::optional<uint8_t>(7));
  ASSERT_EQ(p->inputs.size(), 1u);
  ASSERT_EQ(p->outputs.size(), 2u);
  const PsbtInput& in = p->inputs[0];
  EXPECT_TRUE(in.previous_txid && in.output_index && in.sequence && in.time_locktime &&
              in.height_locktime);
  util::Result<Transaction> tx = p->GetUnsignedTx();
  ASSERT_TRUE(tx.ok());
  // The input's non-witness UTXO is the transaction the outpoint names.
  EXPECT_EQ(in.non_witness_utxo->ComputeTxid(), tx->inputs[0].prevout.txid);
  EXPECT_EQ(tx->outputs[0].value, *p->outputs[0].amount);
}

TEST(PsbtTest, Bip371InvalidVectorsAreRejected) {
  nlohmann::json v = ReadVectors("bip371_psbt_taproot_test_vectors.json");
  size_t rejected = 0;
  for (const auto& c : v["invalid"]) {
    util::Result<Psbt> p = Psbt::Parse(Hex(c["hex"].get<std::string>()));
    EXPECT_FALSE(p.ok()) << c["description"];
    EXPECT_FALSE(Psbt::ParseBase64(c["base64"].get<std::string>()).ok()) << c["description"];
    if (!p.ok()) {
      ++rejected;
      EXPECT_THAT(p.status().message(), HasSubstr("PSBT_")) << c["description"];
    }
  }
  EXPECT_EQ(rejected, 11u);
}

TEST(PsbtTest, Bip371ValidVectorsRoundTripByteIdentically) {
  nlohmann::json v = ReadVectors("bip371_psbt_taproot_test_vectors.json");
  size_t passed = 0;
  bool saw_tree = false;
  bool saw_leaf_script = false;
  for (const auto& c : v["valid"]) {
    const std::vector<uint8_t> bytes = Hex(c["hex"].get<std::string>());
    util::Result<Psbt> p = Psbt::Parse(bytes);
    ASSERT_TRUE(p.ok()) << c["description"] << ": " << p.status();
    EXPECT_EQ(p->Serialize(), bytes) << c["description"];
    EXPECT_EQ(p->ToBase64(), c["base64"].get<std::string>()) << c["description"];
    if (p->Serialize() == bytes) ++passed;
    for (const PsbtOutput& o : p->outputs) saw_tree |= !o.tap_tree.empty();
    for (const PsbtInput& in : p->inputs) saw_leaf_script |= !in.tap_leaf_scripts.empty();
  }
  EXPECT_EQ(passed, 6u);
  EXPECT_TRUE(saw_tree);
  EXPECT_TRUE(saw_leaf_script);
}

TEST(PsbtTest, Bip174WorkflowFinalizedPsbtHasFinalFields) {
  nlohmann::json v = ReadVectors("bip174_psbt_test_vectors.json");
  for (const auto& step : v["role_workflow"]["steps"]) {
    if (step["role"] != "input_finalizer") continue;
    util::Result<Psbt> p = ParseHex(step["result_hex"]);
    ASSERT_TRUE(p.ok()) << p.status();
    ASSERT_EQ(p->inputs.size(), 2u);
    EXPECT_TRUE(p->inputs[0].final_script_sig.has_value());
    EXPECT_FALSE(p->inputs[0].final_script_witness.has_value());
    EXPECT_TRUE(p->inputs[1].final_script_sig.has_value());
    ASSERT_TRUE(p->inputs[1].final_script_witness.has_value());
    EXPECT_EQ(p->inputs[1].final_script_witness->size(), 4u);  // 0, sig, sig, witnessScript.
    EXPECT_TRUE(p->inputs[0].partial_sigs.empty());
  }
}

TEST(PsbtTest, ParsesTheFieldsOfAVector) {
  // BIP174 valid vector "P2SH-P2WSH input of a 2-of-2 multisig": one signature, scripts and
  // two derivations.
  nlohmann::json v = ReadVectors("bip174_psbt_test_vectors.json");
  util::Result<Psbt> p = ParseHex(v["valid"][4]["hex"]);
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_EQ(p->inputs.size(), 1u);
  const PsbtInput& in = p->inputs[0];
  EXPECT_TRUE(in.witness_utxo.has_value());
  EXPECT_EQ(in.partial_sigs.size(), 1u);
  EXPECT_TRUE(in.redeem_script.has_value());
  EXPECT_TRUE(in.witness_script.has_value());
  EXPECT_EQ(in.bip32_derivations.size(), 2u);
  for (const auto& [pubkey, origin] : in.bip32_derivations) {
    EXPECT_EQ(pubkey.size(), 33u);
    EXPECT_EQ(origin.path.steps.size(), 3u);
  }
  EXPECT_EQ(p->version, 0u);
  EXPECT_TRUE(p->unsigned_tx.has_value());
}

TEST(PsbtTest, MinimalV0RoundTrips) { ExpectRoundTrip(V0("", "", "")); }

TEST(PsbtTest, ParseRejectsBadMagic) {
  ExpectRejected("70736274fe" + V0("", "", "").substr(10), "magic");
  ExpectRejected("7073", "magic");
}

TEST(PsbtTest, ParseRejectsTrailingBytes) {
  ExpectRejected(V0("", "", "") + "00", "bytes after the last output map");
}

TEST(PsbtTest, ParseRejectsMissingSeparator) {
  const std::string p = V0("", "", Kv("00", "51"));
  ExpectRejected(p.substr(0, p.size() - 2), "psbt output 0 at byte");
  ExpectRejected(p.substr(0, p.size() - 2), "data ends before the map's separator");
  const std::string q = V0("", "", "");
  ExpectRejected(q.substr(0, q.size() - 2), "data ends before output 0");
  ExpectRejected(q.substr(0, q.size() - 4), "data ends before input 0");
}

TEST(PsbtTest, ParseRejectsDuplicateKeyNamingMapTypeAndOffset) {
  const std::string input = Kv("03", "01000000") + Kv("03", "01000000");
  const std::string hex = V0("", input, "");
  util::Result<Psbt> p = ParseHex(hex);
  ASSERT_FALSE(p.ok());
  // The second key starts after the global map, the first input key (7 bytes).
  const size_t offset = (hex.find(input) + input.size() / 2) / 2;
  EXPECT_EQ(p.status().message(), "psbt input 0 key type 0x03 (PSBT_IN_SIGHASH_TYPE) at byte " +
                                      std::to_string(offset) + ": duplicate key");
}

TEST(PsbtTest, ParseRejectsDuplicateKeysInEveryMap) {
  ExpectRejected(V0(Kv("0a", "01") + Kv("0a", "02"), "", ""), "psbt global key type 0x0a");
  ExpectRejected(V0("", Kv("0b" + Repeat("00", 32), "") + Kv("0b" + Repeat("00", 32), ""), ""),
                 "duplicate key");
  ExpectRejected(V0("", Kv("02" + kPubkey, kSig) + Kv("02" + kPubkey, kSig), ""), "duplicate key");
  ExpectRejected(V0("", "", Kv("00", "51") + Kv("00", "52")), "psbt output 0 key type 0x00");
  ExpectRejected(V0(Kv("fc00"
                       "00",
                       "") +
                        Kv("fc00"
                           "00",
                           "01"),
                    "", ""),
                 "duplicate key");
}

TEST(PsbtTest, ParseRejectsNonCanonicalKeyType) {
  // Type 3 written as a 3-byte CompactSize would alias PSBT_IN_SIGHASH_TYPE.
  ExpectRejected(V0("", Kv("fd0300", "01000000"), ""), "non-canonical");
}

TEST(PsbtTest, ParseRejectsKeyDataOnSingletonTypes) {
  for (const char* type : {"00", "01", "03", "04", "05", "07", "08", "13", "17", "18"}) {
    ExpectRejected(V0("", Kv(std::string(type) + "00", "00"), ""), "key data");
  }
  for (const char* type : {"00", "01", "05", "06"}) {
    ExpectRejected(V0("", "", Kv(std::string(type) + "00", "00")), "key data");
  }
  ExpectRejected(V0(Kv("fb00", "00000000"), "", ""), "key data");
  ExpectRejected("70736274ff" + Kv("0000", kUnsignedTx) + "000000", "key data");
}

TEST(PsbtTest, ParseRejectsWrongKeyLengths) {
  ExpectRejected(V0("", Kv("02" + kPubkey.substr(2), kSig), ""), "public key is 32 bytes");
  ExpectRejected(V0("", Kv("06" + kPubkey + "00", "00000000"), ""), "public key is 34 bytes");
  ExpectRejected(V0("", "", Kv("02" + kPubkey.substr(0, 64), "00000000")), "public key");
  ExpectRejected(V0("", Kv("0a" + Repeat("00", 32), ""), ""), "key data is 32 bytes");
  ExpectRejected(V0("", Kv("0b" + Repeat("00", 20), ""), ""), "key data is 20 bytes");
  ExpectRejected(V0("", Kv("0c" + Repeat("00", 21), ""), ""), "key data is 21 bytes");
  ExpectRejected(V0("", Kv("0d" + Repeat("00", 31), ""), ""), "key data is 31 bytes");
  ExpectRejected(V0("", Kv("14" + Repeat("01", 65), Repeat("00", 64)), ""), "key data is 65");
  ExpectRejected(V0("",
                    Kv("16" + Repeat("01", 33),
                       "00"
                       "00000000"),
                    ""),
                 "key data is 33");
  ExpectRejected(V0("", "",
                    Kv("07" + Repeat("01", 31),
                       "00"
                       "00000000")),
                 "key data is 31");
  ExpectRejected(V0(Kv("01" + Repeat("00", 77), "00000000"), "", ""), "key data is 77");
}

TEST(PsbtTest, ParseRejectsInvalidPublicKeys) {
  // 0x02 followed by an x that is not below the field size.
  const std::string bad = "02" + Repeat("ff", 32);
  ExpectRejected(V0("", Kv("06" + bad, "00000000"), ""), "not a point");
  ExpectRejected(V0("", Kv("02" + bad, kSig), ""), "not a point");
  // An uncompressed prefix on a 33-byte key.
  ExpectRejected(V0("", Kv("02" + std::string("04") + kPubkey.substr(2), kSig), ""), "not a point");
}

TEST(PsbtTest, ParseRejectsBadPartialSignatures) {
  ExpectRejected(V0("", Kv("02" + kPubkey, ""), ""), "strict DER");
  ExpectRejected(V0("", Kv("02" + kPubkey, kSig.substr(0, kSig.size() - 2) + "04"), ""),
                 "defined sighash");
  ExpectRejected(V0("", Kv("02" + kPubkey, "31" + kSig.substr(2)), ""), "strict DER");
  // ANYONECANPAY|SINGLE is defined.
  ExpectRoundTrip(V0("", Kv("02" + kPubkey, kSig.substr(0, kSig.size() - 2) + "83"), ""));
}

TEST(PsbtTest, ParseRejectsWrongValueSizes) {
  ExpectRejected(V0("", Kv("03", "010000"), ""), "value is 3 bytes, expected 4");
  ExpectRejected(V0("", Kv("13", Repeat("00", 63)), ""), "63 bytes, expected 64 or 65");
  ExpectRejected(V0("", Kv("13", Repeat("00", 66)), ""), "66 bytes, expected 64 or 65");
  ExpectRejected(V0("", Kv("14" + Repeat("01", 64), Repeat("00", 66)), ""), "66 bytes");
  ExpectRejected(V0("", Kv("17", Repeat("00", 33)), ""), "value is 33 bytes, expected 32");
  ExpectRejected(V0("", Kv("18", Repeat("00", 31)), ""), "value is 31 bytes, expected 32");
  ExpectRejected(V0("", "", Kv("05", Repeat("00", 33))), "value is 33 bytes, expected 32");
  ExpectRejected(V0("", Kv("06" + kPubkey, "000000"), ""), "key origin is 3 bytes");
  ExpectRejected(V0("", Kv("06" + kPubkey, ""), ""), "key origin is 0 bytes");
  ExpectRejected(V0(Kv("fb", "0000"), "", ""), "value is 2 bytes");
  // A witness UTXO with a byte after its script; a witness stack with one.
  ExpectRejected(V0("",
                    Kv("01",
                       "e803000000000000"
                       "0151"
                       "00"),
                    ""),
                 "stated size");
  ExpectRejected(V0("",
                    Kv("08",
                       "01"
                       "0151"
                       "00"),
                    ""),
                 "stated size");
  ExpectRejected(V0("",
                    Kv("08",
                       "02"
                       "0151"),
                    ""),
                 "truncated");
  ExpectRejected(V0("", Kv("16" + Repeat("01", 32), "01" + Repeat("00", 31)), ""), "leaf hash");
  ExpectRejected(V0("",
                    Kv("16" + Repeat("01", 32),
                       "00"
                       "000000"),
                    ""),
                 "key origin is 3");
}

TEST(PsbtTest, ParseRejectsUnsignedTxWithScriptSig) {
  const std::string tx =
      "02000000"
      "01" +
      kTxid +
      "00000000"
      "0151"
      "ffffffff"
      "00"
      "00000000";
  ExpectRejected("70736274ff" + Kv("00", tx) +
                     "00"
                     "00",
                 "non-empty scriptSig");
}

TEST(PsbtTest, ParseRejectsMissingUnsignedTx) {
  ExpectRejected(
      "70736274ff"
      "00",
      "missing unsigned transaction");
}

TEST(PsbtTest, ParseRejectsFewerMapsThanTheTransaction) {
  ExpectRejected("70736274ff" + Kv("00", kUnsignedTx) + "00", "data ends before input 0");
}

TEST(PsbtTest, ParseRejectsNonWitnessUtxoOfAnotherTransaction) {
  const std::string prev =
      "02000000"
      "01" +
      Repeat("33", 32) +
      "00000000"
      "00"
      "ffffffff"
      "01" +
      "e803000000000000"
      "0151"
      "00000000";
  ExpectRejected(V0("", Kv("00", prev), ""), "txid differs");
}

TEST(PsbtTest, NonWitnessUtxoMustContainTheSpentOutput) {
  const std::string prev =
      "02000000"
      "01" +
      Repeat("33", 32) +
      "00000000"
      "00"
      "ffffffff"
      "01" +
      "e803000000000000"
      "0151"
      "00000000";
  util::Result<Transaction> prev_tx = Transaction::ParseHex(prev);
  ASSERT_TRUE(prev_tx.ok());
  const std::string txid = util::HexEncode(prev_tx->ComputeTxid().bytes());
  auto unsigned_tx = [&](std::string index) {
    return "02000000"
           "01" +
           txid + index +
           "00"
           "ffffffff"
           "00"
           "00000000";
  };
  util::Result<Psbt> ok =
      ParseHex("70736274ff" + Kv("00", unsigned_tx("00000000")) + "00" + Kv("00", prev) + "00");
  ASSERT_TRUE(ok.ok()) << ok.status();
  util::Result<TxOut> utxo = ok->GetInputUtxo(0);
  ASSERT_TRUE(utxo.ok());
  EXPECT_EQ(utxo->value, 1000);
  ExpectRejected("70736274ff" + Kv("00", unsigned_tx("01000000")) + "00" + Kv("00", prev) + "00",
                 "no output 1");
}

TEST(PsbtTest, ParseRejectsUnsupportedVersions) {
  ExpectRejected(V0(Kv("fb", "01000000"), "", ""), "unsupported psbt version 1");
  ExpectRejected(V0(Kv("fb", "03000000"), "", ""), "unsupported psbt version 3");
}

TEST(PsbtTest, ExplicitVersionZeroIsAcceptedAndNotWritten) {
  util::Result<Psbt> p = ParseHex(V0(Kv("fb", "00000000"), "", ""));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(util::HexEncode(p->Serialize()), V0("", "", ""));
}

TEST(PsbtTest, V0RejectsEveryV2Field) {
  ExpectRejected(V0(Kv("02", "02000000"), "", ""), "PSBT_GLOBAL_TX_VERSION is not allowed");
  ExpectRejected(V0(Kv("03", "00000000"), "", ""), "PSBT_GLOBAL_FALLBACK_LOCKTIME");
  ExpectRejected(V0(Kv("04", "01"), "", ""), "PSBT_GLOBAL_INPUT_COUNT");
  ExpectRejected(V0(Kv("05", "01"), "", ""), "PSBT_GLOBAL_OUTPUT_COUNT");
  ExpectRejected(V0(Kv("06", "00"), "", ""), "PSBT_GLOBAL_TX_MODIFIABLE");
  ExpectRejected(V0("", Kv("0e", kTxid), ""), "PSBT_IN_PREVIOUS_TXID is not allowed");
  ExpectRejected(V0("", Kv("0f", "00000000"), ""), "PSBT_IN_OUTPUT_INDEX");
  ExpectRejected(V0("", Kv("10", "00000000"), ""), "PSBT_IN_SEQUENCE");
  ExpectRejected(V0("", Kv("11", "00650000"), ""), "PSBT_IN_REQUIRED_TIME_LOCKTIME");
  ExpectRejected(V0("", Kv("12", "01000000"), ""), "PSBT_IN_REQUIRED_HEIGHT_LOCKTIME");
  ExpectRejected(V0("", "", Kv("03", "0000000000000000")), "PSBT_OUT_AMOUNT is not allowed");
  ExpectRejected(V0("", "", Kv("04", "51")), "PSBT_OUT_SCRIPT is not allowed");
}

TEST(PsbtTest, V2RoundTripsAndBuildsItsTransaction) {
  const std::string hex =
      V2(V2Global(Kv("03", "05000000"), Kv("06", "03")), V2Input(Kv("10", "feffffff")), V2Output());
  ExpectRoundTrip(hex);
  util::Result<Psbt> p = ParseHex(hex);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->version, 2u);
  EXPECT_EQ(p->tx_modifiable, std::optional<uint8_t>(3));
  util::Result<Transaction> tx = p->GetUnsignedTx();
  ASSERT_TRUE(tx.ok()) << tx.status();
  EXPECT_EQ(tx->version, 2u);
  EXPECT_EQ(tx->lock_time, 5u);
  ASSERT_EQ(tx->inputs.size(), 1u);
  EXPECT_EQ(tx->inputs[0].sequence, 0xfffffffeu);
  ASSERT_EQ(tx->outputs.size(), 1u);
  EXPECT_EQ(tx->outputs[0].value, 1000);
}

TEST(PsbtTest, V2RejectsMissingAndForbiddenFields) {
  ExpectRejected(V2(Kv("00", kUnsignedTx) + V2Global(), V2Input(), V2Output()),
                 "PSBT_GLOBAL_UNSIGNED_TX is not allowed");
  ExpectRejected(V2(Kv("04", "01") + Kv("05", "01") + Kv("fb", "02000000"), V2Input(), V2Output()),
                 "PSBT_GLOBAL_TX_VERSION is required");
  ExpectRejected(
      V2(Kv("02", "02000000") + Kv("05", "01") + Kv("fb", "02000000"), V2Input(), V2Output()),
      "PSBT_GLOBAL_INPUT_COUNT is required");
  ExpectRejected(
      V2(Kv("02", "02000000") + Kv("04", "01") + Kv("fb", "02000000"), V2Input(), V2Output()),
      "PSBT_GLOBAL_OUTPUT_COUNT is required");
  ExpectRejected(V2(V2Global(), Kv("0f", "00000000"), V2Output()), "PSBT_IN_PREVIOUS_TXID is");
  ExpectRejected(V2(V2Global(), Kv("0e", kTxid), V2Output()), "PSBT_IN_OUTPUT_INDEX is required");
  ExpectRejected(V2(V2Global(), V2Input(), Kv("04", "51")), "PSBT_OUT_AMOUNT is required");
  ExpectRejected(V2(V2Global(), V2Input(), Kv("03", "0000000000000000")),
                 "PSBT_OUT_SCRIPT is required");
}

TEST(PsbtTest, V2RejectsLockTimesOutOfRange) {
  ExpectRejected(V2(V2Global(), V2Input(Kv("11", "ff64cd1d")), V2Output()),
                 "below 500000000");  // 499999999
  ExpectRejected(V2(V2Global(), V2Input(Kv("12", "0065cd1d")), V2Output()),
                 "not in 1..499999999");  // 500000000
  ExpectRejected(V2(V2Global(), V2Input(Kv("12", "00000000")), V2Output()), "not in 1..");
  ExpectRoundTrip(V2(V2Global(), V2Input(Kv("11", "0065cd1d") + Kv("12", "ff64cd1d")), V2Output()));
}

TEST(PsbtTest, V2RejectsCountsBeyondTheData) {
  ExpectRejected(
      V2(Kv("02", "02000000") + Kv("04", "fe00000001") + Kv("05", "00") + Kv("fb", "02000000"), "",
         ""),
      "exceeds the remaining data");
  ExpectRejected(V2(V2Global(), V2Input(), V2Output()).substr(0, 2 * 50), "");
}

TEST(PsbtTest, V2LockTimeFollowsBip370) {
  Psbt p;
  p.version = 2;
  p.tx_version = 2;
  p.fallback_locktime = 7;
  PsbtInput a;
  a.previous_txid = Txid();
  a.output_index = 0;
  PsbtInput b = a;
  p.inputs = {a, b};
  EXPECT_EQ(p.GetUnsignedTx()->lock_time, 7u);  // No input requires a lock time.
  p.inputs[0].height_locktime = 10000;
  EXPECT_EQ(p.GetUnsignedTx()->lock_time, 10000u);
  p.inputs[1].height_locktime = 9000;
  p.inputs[1].time_locktime = 1657048460;
  EXPECT_EQ(p.GetUnsignedTx()->lock_time, 10000u);
  p.inputs[0].time_locktime = 1657048459;
  EXPECT_EQ(p.GetUnsignedTx()->lock_time, 10000u);  // Both possible: height wins.
  p.inputs[0].height_locktime.reset();
  EXPECT_EQ(p.GetUnsignedTx()->lock_time, 1657048460u);
  p.inputs[1].time_locktime.reset();
  EXPECT_FALSE(p.GetUnsignedTx().ok());  // One needs a time, the other a height.
}

TEST(PsbtTest, TapTreeMustBeCompleteAndValid) {
  auto leaf = [](std::string depth, std::string version) { return depth + version + "0151"; };
  // A single leaf at depth 0; two at depth 1; depths 1, 2, 2.
  ExpectRoundTrip(V0("", "", Kv("06", leaf("00", "c0"))));
  ExpectRoundTrip(V0("", "", Kv("06", leaf("01", "c0") + leaf("01", "c0"))));
  ExpectRoundTrip(V0("", "", Kv("06", leaf("01", "c0") + leaf("02", "c0") + leaf("02", "c2"))));
  ExpectRoundTrip(V0("", "", Kv("06", leaf("02", "c0") + leaf("02", "c0") + leaf("01", "c0"))));
  ExpectRejected(V0("", "", Kv("06", "")), "taproot tree is empty");
  ExpectRejected(V0("", "", Kv("06", leaf("01", "c0"))), "complete tree");
  ExpectRejected(V0("", "", Kv("06", leaf("00", "c0") + leaf("00", "c0"))), "complete tree");
  ExpectRejected(V0("", "", Kv("06", leaf("01", "c0") + leaf("01", "c0") + leaf("01", "c0"))),
                 "complete tree");
  ExpectRejected(V0("", "", Kv("06", leaf("02", "c0") + leaf("01", "c0") + leaf("02", "c0"))),
                 "complete tree");
  ExpectRejected(V0("", "", Kv("06", leaf("81", "c0"))), "exceeds 128");
  ExpectRejected(V0("", "", Kv("06", leaf("00", "c1"))), "is odd");
  ExpectRejected(V0("", "",
                    Kv("06",
                       "00c0"
                       "0251")),
                 "truncated");
}

TEST(PsbtTest, TapLeafScriptControlBlockSizes) {
  ExpectRoundTrip(V0("", Kv("15c0" + Repeat("01", 32), "51c0"), ""));
  ExpectRoundTrip(V0("", Kv("15c0" + Repeat("01", 64), "51c0"), ""));
  ExpectRejected(V0("", Kv("15c0" + Repeat("01", 31), "51c0"), ""), "control block is 32 bytes");
  ExpectRejected(V0("", Kv("15c0" + Repeat("01", 33), "51c0"), ""), "control block is 34 bytes");
  ExpectRejected(V0("", Kv("15c0" + Repeat("01", 32), ""), ""), "no leaf version");
}

TEST(PsbtTest, TapLeafScriptsAreWrittenInBitcoinCoreOrder) {
  // Bitcoin Core orders by (script, leaf version), then control block shortest first.
  const std::string cb_long = "15c1" + Repeat("01", 64);
  const std::string cb_short = "15c0" + Repeat("ff", 32);
  const std::string canonical = V0("", Kv(cb_long, "51c0") + Kv(cb_short, "52c0"), "");
  ExpectRoundTrip(canonical);
  util::Result<Psbt> p = ParseHex(V0("", Kv(cb_short, "52c0") + Kv(cb_long, "51c0"), ""));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(util::HexEncode(p->Serialize()), canonical);
}

TEST(PsbtTest, TaprootFieldsRoundTrip) {
  const std::string x = Repeat("07", 32);
  const std::string leaf_hash = Repeat("08", 32);
  const std::string input = Kv("13", Repeat("0a", 64)) +
                            Kv("14" + x + leaf_hash, Repeat("0b", 65)) +
                            Kv("16" + x, "01" + leaf_hash +
                                             "d34db33f"
                                             "2c000080") +
                            Kv("17", x) + Kv("18", Repeat("0c", 32));
  const std::string output = Kv("05", x) +
                             Kv("06",
                                "00c0"
                                "0151") +
                             Kv("07" + x,
                                "00"
                                "d34db33f");
  ExpectRoundTrip(V0("", input, output));
  util::Result<Psbt> p = ParseHex(V0("", input, output));
  ASSERT_TRUE(p.ok());
  const auto& [hashes, origin] = p->inputs[0].tap_bip32_derivations.begin()->second;
  ASSERT_EQ(hashes.size(), 1u);
  EXPECT_EQ(origin.path.steps, std::vector<uint32_t>{0x8000002c});
  EXPECT_EQ(origin.fingerprint, (std::array<uint8_t, 4>{0xd3, 0x4d, 0xb3, 0x3f}));
}

TEST(PsbtTest, UnknownAndProprietaryKeysArePreservedInCanonicalOrder) {
  const std::string prop =
      Kv("fc"
         "05"
         "6b696e6b6f"
         "01"
         "aa",
         "bb");
  const std::string unk1 = Kv("20aa", "01");
  const std::string unk2 = Kv("fd0001", "02");  // A type written as a 3-byte CompactSize.
  const std::string canonical_input = Kv("03", "01000000") + prop + unk1 + unk2;
  ExpectRoundTrip(
      V0(prop + unk1, canonical_input, Kv("00", "51") + prop + Kv("05", Repeat("01", 32)) + unk1));
  util::Result<Psbt> p = ParseHex(V0("", unk2 + unk1 + prop + Kv("03", "01000000"), ""));
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_EQ(p->inputs[0].unknown.size(), 3u);
  EXPECT_EQ(p->inputs[0].unknown[0].key[0], 0xfc);
  EXPECT_EQ(util::HexEncode(p->Serialize()), V0("", canonical_input, ""));
}

TEST(PsbtTest, ParseRejectsMalformedProprietaryKey) {
  ExpectRejected(V0("", Kv("fc", "00"), ""), "proprietary identifier");
  ExpectRejected(V0("",
                    Kv("fc"
                       "05"
                       "6b69",
                       "00"),
                    ""),
                 "proprietary identifier");
  ExpectRejected(V0("",
                    Kv("fc"
                       "00",
                       "00"),
                    ""),
                 "proprietary subtype");
}

TEST(PsbtTest, GlobalXpubsAreKeptInBitcoinCoreOrder) {
  // Two xpubs (same key, different chain codes): origin d34db33f/1 sorts after d34db33f.
  auto xpub = [](std::string chain) {
    return "0488b21e"
           "00"
           "00000000"
           "00000000" +
           chain + kPubkey;
  };
  const std::string a = Kv("01" + xpub(Repeat("02", 32)), "d34db33f");
  const std::string b = Kv("01" + xpub(Repeat("01", 32)),
                           "d34db33f"
                           "01000000");
  ExpectRoundTrip(V0(a + b, "", ""));
  util::Result<Psbt> p = ParseHex(V0(b + a, "", ""));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_TRUE(p->global_xpubs[1].second.path.steps.size() == 1);
  EXPECT_EQ(util::HexEncode(p->Serialize()), V0(a + b, "", ""));
  ExpectRejected(
      V0(Kv("01" + xpub(Repeat("01", 32)).substr(0, 90) + Repeat("00", 33), "d34db33f"), "", ""),
      "not a compressed point");
}

TEST(PsbtTest, PartialSignaturesAreWrittenInHash160Order) {
  Psbt p = *ParseHex(V0("", "", ""));
  // Two valid keys: G and 2G. Bitcoin Core writes partial signatures ordered by HASH160 of the
  // key, which need not be the keys' order.
  const std::string g2 = "02c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5";
  const std::vector<uint8_t> k1 = Hex(kPubkey);
  const std::vector<uint8_t> k2 = Hex(g2);
  p.inputs[0].partial_sigs[k1] = Hex(kSig);
  p.inputs[0].partial_sigs[k2] = Hex(kSig);
  const bool first_is_g = crypto::Hash160(k1) < crypto::Hash160(k2);
  const std::string e1 = Kv("02" + kPubkey, kSig);
  const std::string e2 = Kv("02" + g2, kSig);
  EXPECT_EQ(util::HexEncode(p.Serialize()), V0("", first_is_g ? e1 + e2 : e2 + e1, ""));
  util::Result<Psbt> back = Psbt::Parse(p.Serialize());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, p);
}

TEST(PsbtTest, ErrorsNameOutputMaps) {
  util::Result<Psbt> p = ParseHex(V0("", "", Kv("02" + kPubkey + "00", "00000000")));
  ASSERT_FALSE(p.ok());
  EXPECT_THAT(p.status().message(),
              HasSubstr("psbt output 0 key type 0x02 (PSBT_OUT_BIP32_DERIVATION) at byte"));
}

TEST(PsbtTest, Base64MatchesRfc4648) {
  const std::vector<std::pair<std::string, std::string>> cases = {{"", ""},
                                                                  {"f", "Zg=="},
                                                                  {"fo", "Zm8="},
                                                                  {"foo", "Zm9v"},
                                                                  {"foob", "Zm9vYg=="},
                                                                  {"fooba", "Zm9vYmE="},
                                                                  {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : cases) {
    const std::vector<uint8_t> bytes(plain.begin(), plain.end());
    EXPECT_EQ(EncodeBase64(bytes), encoded);
    util::Result<std::vector<uint8_t>> back = DecodeBase64(encoded);
    ASSERT_TRUE(back.ok()) << encoded;
    EXPECT_EQ(*back, bytes);
  }
}

TEST(PsbtTest, Base64RejectsNonCanonicalText) {
  for (const char* bad : {"Zg=", "Zg", "Zm9", "Zh==", "Zm9=", "Z===", "====", "Zm9v\n", " Zm9v",
                          "Zg==Zm9v", "Zm-v", "Zm_v", "Zm=v"}) {
    EXPECT_FALSE(DecodeBase64(bad).ok()) << bad;
  }
  EXPECT_FALSE(Psbt::ParseBase64("cHNidP8=x").ok());
  EXPECT_THAT(Psbt::ParseBase64("cHNidP8BAA==").status().message(), HasSubstr("psbt"));
}

}  // namespace
}  // namespace kinko::btc
