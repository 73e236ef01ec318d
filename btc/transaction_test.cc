#include "btc/transaction.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <tuple>
#include <utility>
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
  util::Result<std::vector<uint8_t>> bytes = util::HexDecode(hex);
  EXPECT_TRUE(bytes.ok()) << bytes.status();
  return bytes.ok() ? *bytes : std::vector<uint8_t>();
}

// Checks everything that follows from a successful parse of `bytes`.
void ExpectConsistent(const Transaction& tx, const std::vector<uint8_t>& bytes) {
  EXPECT_EQ(tx.Serialize(), bytes);
  const std::vector<uint8_t> base = tx.Serialize(WitnessSerialization::kWithout);
  EXPECT_EQ(tx.TotalSize(), bytes.size());
  EXPECT_EQ(tx.BaseSize(), base.size());
  EXPECT_EQ(tx.ComputeTxid().bytes(), crypto::Hash256(base));
  EXPECT_EQ(tx.ComputeWtxid().bytes(), crypto::Hash256(bytes));
  if (!tx.HasWitness()) {
    EXPECT_EQ(base, bytes);
    EXPECT_EQ(tx.ComputeTxid().bytes(), tx.ComputeWtxid().bytes());
  } else {
    EXPECT_NE(tx.ComputeTxid().bytes(), tx.ComputeWtxid().bytes());
    EXPECT_GT(bytes.size(), base.size());
  }
  EXPECT_EQ(tx.Weight(), base.size() * 3 + bytes.size());
  util::Result<Transaction> again = Transaction::Parse(tx.Serialize());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(*again, tx);
}

// The txid named by a comment "The following is <64 hex>" (optionally " on testnet3"), or "".
std::string KnownTxid(const std::string& comment) {
  const std::string prefix = "The following is ";
  if (!comment.starts_with(prefix) || comment.size() < prefix.size() + 64) return "";
  const std::string txid = comment.substr(prefix.size(), 64);
  const std::string rest = comment.substr(prefix.size() + 64);
  if (rest != "" && rest != " on testnet3") return "";
  if (txid.find_first_not_of("0123456789abcdef") != std::string::npos) return "";
  return txid;
}

struct CoreTxVectors {
  size_t tests = 0;
  size_t parsed = 0;
  size_t known_txids = 0;
};

// Runs over tx_valid.json or tx_invalid.json: every test is [[prevouts...], tx_hex, flags];
// one-element arrays are comments. A comment "The following is <txid>" names the next test's
// txid.
CoreTxVectors CheckCoreTxVectors(const std::string& file) {
  CoreTxVectors counts;
  const nlohmann::json vectors = ReadVectors(file);
  std::string expected_txid;
  for (const nlohmann::json& entry : vectors) {
    if (entry.size() == 1 && entry[0].is_string()) {
      const std::string txid = KnownTxid(entry[0].get<std::string>());
      if (!txid.empty()) expected_txid = txid;
      continue;
    }
    EXPECT_EQ(entry.size(), 3u) << entry.dump();
    EXPECT_TRUE(entry[0].is_array()) << entry.dump();
    ++counts.tests;
    const std::string hex = entry[1].get<std::string>();
    util::Result<Transaction> tx = Transaction::ParseHex(hex);
    EXPECT_TRUE(tx.ok()) << file << ": " << hex << ": " << tx.status();
    if (!tx.ok()) continue;
    ++counts.parsed;
    ExpectConsistent(*tx, Hex(hex));

    // Every input spends one of the listed prevouts (display-order txids).
    std::set<std::pair<std::string, uint32_t>> prevouts;
    for (const nlohmann::json& p : entry[0]) {
      prevouts.emplace(p[0].get<std::string>(), static_cast<uint32_t>(p[1].get<int64_t>()));
    }
    for (const TxIn& in : tx->inputs) {
      EXPECT_TRUE(prevouts.count({TxidToHex(in.prevout.txid), in.prevout.index}))
          << file << ": " << hex;
    }
    if (!expected_txid.empty()) {
      EXPECT_EQ(TxidToHex(tx->ComputeTxid()), expected_txid);
      ++counts.known_txids;
      expected_txid.clear();
    }
  }
  return counts;
}

TEST(TransactionTest, TxValidVectorsRoundTrip) {
  const CoreTxVectors counts = CheckCoreTxVectors("tx_valid.json");
  EXPECT_EQ(counts.tests, 121u);
  EXPECT_EQ(counts.parsed, counts.tests);
  // 23b397ed..., c6c232a3... (testnet3), c99c49da..., f7fdd091...
  EXPECT_EQ(counts.known_txids, 4u);
}

// Every transaction of tx_invalid.json is invalid for CheckTransaction or script reasons, never
// for its encoding: Bitcoin Core's own test deserializes each one before checking it. So all of
// them must parse.
TEST(TransactionTest, TxInvalidVectorsAllDeserialize) {
  const CoreTxVectors counts = CheckCoreTxVectors("tx_invalid.json");
  EXPECT_EQ(counts.tests, 93u);
  EXPECT_EQ(counts.parsed, counts.tests);
}

// BIP143 "Native P2WPKH" signed transaction: one P2PK input with a script_sig and one P2WPKH
// input with a two-item witness, two P2PKH outputs. Sizes counted by hand from the hex:
//   base: version 4 + input count 1 + input 0 (32+4+1+73+4 = 114) + input 1 (32+4+1+0+4 = 41)
//         + output count 1 + 2 outputs (8+1+25 = 34 each) + lock_time 4 = 233
//   witness: marker and flag 2 + input 0 count 1 + input 1 (count 1 + 1+71 signature
//            + 1+33 key = 107) = 110, so total = 343.
TEST(TransactionTest, WeightOfBip143NativeP2wpkhExample) {
  const nlohmann::json vectors = ReadVectors("bip143_test_vectors.json");
  const nlohmann::json& example = vectors["examples"][0];
  ASSERT_EQ(example["name"].get<std::string>(), "Native P2WPKH");
  util::Result<Transaction> tx = Transaction::ParseHex(example["signed_tx_hex"].get<std::string>());
  ASSERT_TRUE(tx.ok()) << tx.status();
  ASSERT_EQ(tx->inputs.size(), 2u);
  ASSERT_EQ(tx->outputs.size(), 2u);
  EXPECT_EQ(tx->inputs[0].script_sig.size(), 73u);
  EXPECT_TRUE(tx->inputs[0].witness.empty());
  ASSERT_EQ(tx->inputs[1].witness.size(), 2u);
  EXPECT_EQ(tx->inputs[1].witness[0].size(), 71u);
  EXPECT_EQ(tx->inputs[1].witness[1].size(), 33u);

  EXPECT_EQ(tx->BaseSize(), 233u);
  EXPECT_EQ(tx->TotalSize(), 343u);
  EXPECT_EQ(tx->Weight(), 233u * 3 + 343u);  // 1042
  EXPECT_EQ(tx->VirtualSize(), 261u);        // ceil(1042 / 4) = ceil(260.5)
  ExpectConsistent(*tx, Hex(example["signed_tx_hex"].get<std::string>()));

  // The unsigned form is the same transaction without script_sig and witness.
  util::Result<Transaction> unsigned_tx =
      Transaction::ParseHex(example["unsigned_tx_hex"].get<std::string>());
  ASSERT_TRUE(unsigned_tx.ok()) << unsigned_tx.status();
  EXPECT_FALSE(unsigned_tx->HasWitness());
  EXPECT_EQ(unsigned_tx->Weight(), unsigned_tx->BaseSize() * 4);
  EXPECT_EQ(unsigned_tx->VirtualSize(), unsigned_tx->BaseSize());
}

TEST(TransactionTest, VirtualSizeRoundsUp) {
  Transaction tx;
  tx.inputs.resize(1);
  tx.outputs.resize(1);
  tx.inputs[0].witness = {{0x01}};
  // base = 4 + 1 + 41 + 1 + 9 + 4 = 60; total = 60 + 2 + 1 + 2 = 65; weight = 245.
  EXPECT_EQ(tx.BaseSize(), 60u);
  EXPECT_EQ(tx.TotalSize(), 65u);
  EXPECT_EQ(tx.Weight(), 245u);
  EXPECT_EQ(tx.VirtualSize(), 62u);
  EXPECT_EQ(tx.Serialize().size(), 65u);
  EXPECT_EQ(tx.Serialize(WitnessSerialization::kWithout).size(), 60u);
}

TEST(TransactionTest, TxidHexIsByteReversed) {
  const std::string hex = "23b397edccd3740a74adb603c9756370fafcde9bcc4483eb271ecad09a94dd63";
  util::Result<Txid> txid = TxidFromHex(hex);
  ASSERT_TRUE(txid.ok()) << txid.status();
  EXPECT_EQ(txid->bytes()[0], 0x63);
  EXPECT_EQ(txid->bytes()[31], 0x23);
  EXPECT_EQ(TxidToHex(*txid), hex);
  EXPECT_EQ(WtxidToHex(Wtxid(txid->bytes())), hex);
  EXPECT_TRUE(TxidFromHex(std::string(hex).replace(0, 2, "AB")).ok());
}

TEST(TransactionTest, TxidFromHexRejectsBadInput) {
  EXPECT_FALSE(TxidFromHex("").ok());
  EXPECT_FALSE(TxidFromHex(std::string(62, '0')).ok());
  EXPECT_FALSE(TxidFromHex(std::string(66, '0')).ok());
  util::Result<Txid> bad = TxidFromHex(std::string(63, '0') + "g");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), util::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("txid"));
}

// A segwit transaction for the rejection tests, with the byte offset of each field recorded.
// Two inputs, two outputs and two witness items, so that truncating a field of the second one
// leaves enough bytes for the counts and the error is the field's own.
struct Sample {
  std::vector<uint8_t> bytes;
  std::map<std::string, size_t> at;  // field name -> offset of its first byte

  void Add(const std::string& field, std::vector<uint8_t> b) {
    if (!field.empty()) at[field] = bytes.size();
    bytes.insert(bytes.end(), b.begin(), b.end());
  }
};

Sample SampleSegwitTx() {
  Sample s;
  s.Add("version", {0x02, 0x00, 0x00, 0x00});
  s.Add("marker", {0x00});
  s.Add("flag", {0x01});
  s.Add("input count", {0x02});
  std::vector<uint8_t> txid0(32), txid1(32);
  for (size_t i = 0; i < 32; ++i) {
    txid0[i] = static_cast<uint8_t>(i + 1);
    txid1[i] = static_cast<uint8_t>(i + 33);
  }
  s.Add("input 0 prevout txid", txid0);
  s.Add("", {0x00, 0x00, 0x00, 0x00});
  s.Add("input 0 script_sig", {60});
  s.Add("", std::vector<uint8_t>(60, 0x51));
  s.Add("", {0xff, 0xff, 0xff, 0xff});
  s.Add("input 1 prevout txid", txid1);
  s.Add("input 1 prevout index", {0x07, 0x00, 0x00, 0x00});
  s.Add("input 1 script_sig", {0x02});
  s.Add("input 1 script_sig data", {0x51, 0x52});
  s.Add("input 1 sequence", {0xfe, 0xff, 0xff, 0xff});
  s.Add("output count", {0x02});
  s.Add("output 0 value", {0xe8, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00});
  std::vector<uint8_t> p2wpkh = {22, 0x00, 0x14};
  p2wpkh.resize(23, 0x77);
  s.Add("output 0 script_pubkey", p2wpkh);
  s.Add("output 1 value", {0xd0, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00});
  s.Add("output 1 script_pubkey", {0x03});
  s.Add("output 1 script_pubkey data", {0x6a, 0x01, 0x00});
  s.Add("input 0 witness item count", {0x00});
  s.Add("input 1 witness item count", {0x02});
  s.Add("input 1 witness item 0", {0x03, 0xaa, 0xbb, 0xcc});
  s.Add("input 1 witness item 1", {0x02});
  s.Add("input 1 witness item 1 data", {0xab, 0xcd});
  s.Add("lock_time", {0x10, 0x00, 0x00, 0x00});
  return s;
}

TEST(TransactionTest, SampleSegwitTxParses) {
  const Sample s = SampleSegwitTx();
  util::Result<Transaction> tx = Transaction::Parse(s.bytes);
  ASSERT_TRUE(tx.ok()) << tx.status();
  EXPECT_EQ(tx->version, 2u);
  ASSERT_EQ(tx->inputs.size(), 2u);
  EXPECT_EQ(tx->inputs[0].prevout.txid.bytes()[0], 0x01);
  EXPECT_EQ(tx->inputs[0].script_sig.size(), 60u);
  EXPECT_TRUE(tx->inputs[0].witness.empty());
  EXPECT_EQ(tx->inputs[1].prevout.txid.bytes()[0], 33);
  EXPECT_EQ(tx->inputs[1].prevout.index, 7u);
  EXPECT_EQ(tx->inputs[1].script_sig.bytes(), (std::vector<uint8_t>{0x51, 0x52}));
  EXPECT_EQ(tx->inputs[1].sequence, 0xfffffffeu);
  ASSERT_EQ(tx->inputs[1].witness.size(), 2u);
  EXPECT_EQ(tx->inputs[1].witness[0], (std::vector<uint8_t>{0xaa, 0xbb, 0xcc}));
  EXPECT_EQ(tx->inputs[1].witness[1], (std::vector<uint8_t>{0xab, 0xcd}));
  ASSERT_EQ(tx->outputs.size(), 2u);
  EXPECT_EQ(tx->outputs[0].value, 1000);
  EXPECT_EQ(tx->outputs[0].script_pubkey.size(), 22u);
  EXPECT_EQ(tx->outputs[1].value, 2000);
  EXPECT_EQ(tx->outputs[1].script_pubkey.bytes(), (std::vector<uint8_t>{0x6a, 0x01, 0x00}));
  EXPECT_EQ(tx->lock_time, 16u);
  ExpectConsistent(*tx, s.bytes);
}

std::string ParseError(std::span<const uint8_t> bytes) {
  util::Result<Transaction> tx = Transaction::Parse(bytes);
  EXPECT_FALSE(tx.ok());
  if (tx.ok()) return "";
  EXPECT_EQ(tx.status().code(), util::StatusCode::kInvalidArgument);
  return tx.status().message();
}

// Every proper prefix fails: either a field runs out of bytes, or a count already promises
// more elements than the bytes left could hold.
TEST(TransactionTest, ParseRejectsEveryTruncation) {
  const std::vector<uint8_t> bytes = SampleSegwitTx().bytes;
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_THAT(ParseError(std::span(bytes).first(n)),
                ::testing::AnyOf(HasSubstr(": truncated"), HasSubstr(": impossible count")))
        << n;
  }
}

TEST(TransactionTest, ParseTruncationNamesFieldAndOffset) {
  const Sample s = SampleSegwitTx();
  // (where to cut, relative to the field's start; field; the field whose offset is reported)
  const std::vector<std::tuple<std::string, size_t, std::string>> cases = {
      {"version", 2, "version"},
      {"flag", 0, "flag"},
      {"input count", 0, "input count"},
      {"input 1 prevout txid", 5, "input 1 prevout txid"},
      {"input 1 prevout index", 3, "input 1 prevout index"},
      {"input 1 script_sig", 0, "input 1 script_sig"},
      {"input 1 script_sig data", 1, "input 1 script_sig data"},
      {"input 1 sequence", 1, "input 1 sequence"},
      {"output count", 0, "output count"},
      {"output 1 value", 7, "output 1 value"},
      {"output 1 script_pubkey", 0, "output 1 script_pubkey"},
      {"output 1 script_pubkey data", 2, "output 1 script_pubkey data"},
      {"input 0 witness item count", 0, "input 0 witness item count"},
      {"input 1 witness item count", 0, "input 1 witness item count"},
      {"input 1 witness item 1", 0, "input 1 witness item 1"},
      {"input 1 witness item 1 data", 1, "input 1 witness item 1 data"},
      {"lock_time", 3, "lock_time"},
  };
  for (const auto& [field, cut, reported] : cases) {
    const size_t n = s.at.at(field) + cut;
    // The reported name drops the " data" suffix: a length and its bytes are one field.
    std::string name = reported;
    if (name.ends_with(" data")) name.resize(name.size() - 5);
    if (name == "flag") name = "witness flag";
    const std::string expected =
        "transaction " + name + " at byte " + std::to_string(s.at.at(reported)) + ": truncated";
    EXPECT_THAT(ParseError(std::span(s.bytes).first(n)), HasSubstr(expected)) << field;
  }
}

TEST(TransactionTest, ParseRejectsTrailingBytes) {
  std::vector<uint8_t> bytes = SampleSegwitTx().bytes;
  const size_t size = bytes.size();
  bytes.push_back(0x00);
  EXPECT_EQ(ParseError(bytes),
            "transaction at byte " + std::to_string(size) + ": 1 trailing bytes");
}

TEST(TransactionTest, ParseRejectsUnknownFlag) {
  const Sample s = SampleSegwitTx();
  std::vector<uint8_t> bytes = s.bytes;
  const std::string expected = "transaction witness flag at byte " +
                               std::to_string(s.at.at("flag")) +
                               ": unknown transaction optional data";
  bytes[s.at.at("flag")] = 0x02;  // No witness bit: the witnesses are then not read at all.
  EXPECT_THAT(ParseError(bytes), HasSubstr(expected));
  bytes[s.at.at("flag")] = 0x03;  // Witness bit plus an unknown one: read, then refused.
  EXPECT_THAT(ParseError(bytes), HasSubstr(expected));
}

TEST(TransactionTest, ParseRejectsSuperfluousWitness) {
  const Sample s = SampleSegwitTx();
  std::vector<uint8_t> bytes = s.bytes;
  // Replace input 1's two-item witness with an empty one: every witness is then empty.
  bytes.erase(bytes.begin() + static_cast<ptrdiff_t>(s.at.at("input 1 witness item count")),
              bytes.begin() + static_cast<ptrdiff_t>(s.at.at("lock_time")));
  bytes.insert(bytes.begin() + static_cast<ptrdiff_t>(s.at.at("input 1 witness item count")), 0x00);
  EXPECT_THAT(ParseError(bytes),
              HasSubstr("transaction witness flag at byte 5: superfluous witness record"));
}

TEST(TransactionTest, ParseRejectsImpossibleInputCount) {
  // Input count 0xfd 0x00 0x01: 256 inputs need at least 256 * 41 bytes; 100 follow.
  std::vector<uint8_t> bytes = {0x01, 0x00, 0x00, 0x00, 0xfd, 0x00, 0x01};
  bytes.resize(bytes.size() + 100, 0x00);
  EXPECT_THAT(ParseError(bytes),
              HasSubstr("transaction input count at byte 4: impossible count 256 (needs at "
                        "least 10496 bytes, 100 left)"));
}

TEST(TransactionTest, ParseRejectsImpossibleOutputCount) {
  const Sample s = SampleSegwitTx();
  std::vector<uint8_t> bytes = s.bytes;
  const size_t at = s.at.at("output count");
  bytes[at] = 0x10;  // 16 outputs need 144 bytes.
  EXPECT_THAT(ParseError(bytes), HasSubstr("transaction output count at byte " +
                                           std::to_string(at) + ": impossible count 16"));
}

TEST(TransactionTest, ParseRejectsImpossibleWitnessItemCount) {
  const Sample s = SampleSegwitTx();
  std::vector<uint8_t> bytes = s.bytes;
  const size_t at = s.at.at("input 1 witness item count");
  bytes[at] = 0x20;  // 32 items need 32 bytes; fewer are left.
  EXPECT_THAT(ParseError(bytes), HasSubstr("transaction input 1 witness item count at byte " +
                                           std::to_string(at) + ": impossible count 32"));
}

TEST(TransactionTest, ParseRejectsCountAboveMaxSize) {
  // 0x02000001 inputs: more than Bitcoin Core's MAX_SIZE.
  const std::vector<uint8_t> bytes = {0x01, 0x00, 0x00, 0x00, 0xfe, 0x01, 0x00, 0x00, 0x02};
  EXPECT_THAT(ParseError(bytes), HasSubstr("transaction input count at byte 4: size 33554433"));
}

TEST(TransactionTest, ParseRejectsNonCanonicalCompactSize) {
  const Sample s = SampleSegwitTx();
  // Output count 2 written as 0xfd 0x02 0x00.
  std::vector<uint8_t> bytes = s.bytes;
  size_t at = s.at.at("output count");
  bytes[at] = 0xfd;
  bytes.insert(bytes.begin() + static_cast<ptrdiff_t>(at) + 1, {0x02, 0x00});
  EXPECT_THAT(ParseError(bytes), HasSubstr("transaction output count at byte " +
                                           std::to_string(at) + ": non-canonical compact size"));

  // Script_sig length 2 written as 0xfe 0x02 0x00 0x00 0x00.
  bytes = s.bytes;
  at = s.at.at("input 1 script_sig");
  bytes[at] = 0xfe;
  bytes.insert(bytes.begin() + static_cast<ptrdiff_t>(at) + 1, {0x02, 0x00, 0x00, 0x00});
  EXPECT_THAT(ParseError(bytes), HasSubstr("transaction input 1 script_sig at byte " +
                                           std::to_string(at) + ": non-canonical compact size"));
}

TEST(TransactionTest, ParseRejectsBadHex) {
  util::Result<Transaction> tx = Transaction::ParseHex("0100000x");
  ASSERT_FALSE(tx.ok());
  EXPECT_THAT(tx.status().message(), HasSubstr("transaction hex"));
}

// With no inputs, the byte after the empty input vector is the flag; 0 means "no outputs".
TEST(TransactionTest, ParseEmptyTransaction) {
  const std::vector<uint8_t> bytes = {0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
  util::Result<Transaction> tx = Transaction::Parse(bytes);
  ASSERT_TRUE(tx.ok()) << tx.status();
  EXPECT_TRUE(tx->inputs.empty());
  EXPECT_TRUE(tx->outputs.empty());
  ExpectConsistent(*tx, bytes);
}

TEST(TransactionTest, SerializeWithoutWitnessDropsWitness) {
  const Sample s = SampleSegwitTx();
  util::Result<Transaction> tx = Transaction::Parse(s.bytes);
  ASSERT_TRUE(tx.ok()) << tx.status();
  const std::vector<uint8_t> base = tx->Serialize(WitnessSerialization::kWithout);
  util::Result<Transaction> stripped = Transaction::Parse(base);
  ASSERT_TRUE(stripped.ok()) << stripped.status();
  EXPECT_FALSE(stripped->HasWitness());
  EXPECT_EQ(stripped->ComputeTxid(), tx->ComputeTxid());
  EXPECT_EQ(stripped->inputs[0].script_sig, tx->inputs[0].script_sig);
  // No marker, flag or witness.
  EXPECT_EQ(base.size(),
            s.bytes.size() - 2 - (s.at.at("lock_time") - s.at.at("input 0 witness item count")));
}

}  // namespace
}  // namespace kinko::btc
