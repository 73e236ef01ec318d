#include "btc/sighash.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "crypto/hash.h"
#include "crypto/rng.h"
#include "crypto/secp256k1.h"
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

std::string ToHex(std::span<const uint8_t> bytes) { return util::HexEncode(bytes); }

std::string ReversedHex(std::span<const uint8_t> bytes) {
  std::vector<uint8_t> reversed(bytes.rbegin(), bytes.rend());
  return util::HexEncode(reversed);
}

Transaction ParseTx(const std::string& hex) {
  util::Result<Transaction> tx = Transaction::ParseHex(hex);
  EXPECT_TRUE(tx.ok()) << tx.status();
  return tx.ok() ? *tx : Transaction();
}

PrecomputedTransactionData Precompute(const Transaction& tx, std::vector<TxOut> spent = {}) {
  util::Result<PrecomputedTransactionData> data =
      PrecomputedTransactionData::Create(tx, std::move(spent));
  CHECK(data.ok());
  return *data;
}

// "6.25" -> 625000000.
int64_t BtcToSats(const std::string& btc) {
  const size_t dot = btc.find('.');
  std::string whole = btc.substr(0, dot);
  std::string frac = dot == std::string::npos ? "" : btc.substr(dot + 1);
  frac.resize(8, '0');
  return std::stoll(whole) * 100000000 + std::stoll(frac);
}

// Bitcoin Core's sighash.json: [tx_hex, script_hex, input_index, hash_type, sighash]; the
// expected hash is printed byte-reversed (uint256 display order).
TEST(SighashTest, LegacyMatchesBitcoinCoreVectors) {
  const nlohmann::json vectors = ReadVectors("sighash.json");
  size_t checked = 0;
  for (const nlohmann::json& test : vectors) {
    if (test.size() == 1) continue;  // The header.
    ASSERT_EQ(test.size(), 5u) << test.dump();
    const Transaction tx = ParseTx(test[0].get<std::string>());
    const Script script_code(Hex(test[1].get<std::string>()));
    const size_t input = test[2].get<size_t>();
    const int32_t hash_type = test[3].get<int32_t>();
    ASSERT_LT(input, tx.inputs.size());
    const SighashBytes sighash = LegacySighash(tx, input, script_code, hash_type);
    EXPECT_EQ(ReversedHex(sighash), test[4].get<std::string>()) << test.dump();
    ++checked;
  }
  EXPECT_EQ(checked, 500u);
}

// For well-formed scripts, removing OP_CODESEPARATORs is FindAndDelete of the one-byte script
// OP_CODESEPARATOR (btc/script.h, an independent implementation): signing a script with
// separators must equal signing that script with them already removed. Run over every
// sighash.json case, with separators spliced in at operation boundaries.
TEST(SighashTest, LegacySeparatorRemovalAgreesWithFindAndDelete) {
  const nlohmann::json vectors = ReadVectors("sighash.json");
  const Script separator(std::vector<uint8_t>{0xab});
  size_t checked = 0;
  for (const nlohmann::json& test : vectors) {
    if (test.size() == 1) continue;
    const Transaction tx = ParseTx(test[0].get<std::string>());
    const Script original(Hex(test[1].get<std::string>()));
    ASSERT_TRUE(IsWellFormed(original));
    // A separator after every operation, and one in front.
    Script with_separators;
    with_separators.PushOpcode(0xab);
    size_t pos = 0;
    while (std::optional<ScriptOp> op = GetOp(original.bytes(), &pos)) {
      std::vector<uint8_t> bytes = with_separators.bytes();
      bytes.insert(bytes.end(), original.bytes().begin() + static_cast<ptrdiff_t>(op->offset),
                   original.bytes().begin() + static_cast<ptrdiff_t>(pos));
      bytes.push_back(0xab);
      with_separators = Script(std::move(bytes));
    }
    const Script removed = FindAndDelete(with_separators, separator);
    const size_t input = test[2].get<size_t>();
    const int32_t hash_type = test[3].get<int32_t>();
    EXPECT_EQ(LegacySighash(tx, input, with_separators, hash_type),
              LegacySighash(tx, input, removed, hash_type))
        << test.dump();
    EXPECT_EQ(LegacySighash(tx, input, original, hash_type),
              LegacySighash(tx, input, FindAndDelete(original, separator), hash_type))
        << test.dump();
    ++checked;
  }
  EXPECT_EQ(checked, 500u);
}

TEST(SighashTest, LegacySingleWithoutMatchingOutputIsOne) {
  Transaction tx;
  tx.inputs.resize(2);
  tx.outputs.resize(1);
  SighashBytes one{};
  one[0] = 0x01;
  EXPECT_EQ(LegacySighash(tx, 1, Script(), kSighashSingle), one);
  EXPECT_EQ(LegacySighash(tx, 1, Script(), kSighashSingle | kSighashAnyoneCanPay), one);
  EXPECT_NE(LegacySighash(tx, 0, Script(), kSighashSingle), one);
  EXPECT_NE(LegacySighash(tx, 1, Script(), kSighashAll), one);
}

// A one-input, one-output transaction whose legacy preimage is written out by hand.
std::vector<uint8_t> HandPreimage(std::span<const uint8_t> script_code_field) {
  std::vector<uint8_t> p = {0x01, 0x00, 0x00, 0x00, 0x01};  // version 1, one input
  p.insert(p.end(), 32, 0x11);                              // prevout txid
  p.insert(p.end(), {0x02, 0x00, 0x00, 0x00});              // prevout index 2
  p.insert(p.end(), script_code_field.begin(), script_code_field.end());
  p.insert(p.end(), {0xff, 0xff, 0xff, 0xff, 0x01});  // sequence, one output
  p.insert(p.end(), {0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x51});  // 5 sat, OP_1
  p.insert(p.end(), {0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00});  // lock_time, ALL
  return p;
}

Transaction HandTx() {
  Transaction tx;
  tx.version = 1;
  tx.inputs.resize(1);
  tx.inputs[0].prevout.txid = Txid::FromSpan(std::vector<uint8_t>(32, 0x11));
  tx.inputs[0].prevout.index = 2;
  tx.inputs[0].script_sig = Script(std::vector<uint8_t>{0x00, 0x00, 0x00});  // replaced
  tx.outputs.push_back(TxOut{.value = 5, .script_pubkey = Script(std::vector<uint8_t>{0x51})});
  return tx;
}

TEST(SighashTest, LegacyRemovesCodeSeparators) {
  // OP_CHECKSIG OP_CODESEPARATOR OP_1 <push of 0xab> OP_CODESEPARATOR: the separators go, the
  // pushed 0xab byte stays.
  const Script script(std::vector<uint8_t>{0xac, 0xab, 0x51, 0x01, 0xab, 0xab});
  const std::vector<uint8_t> field = {0x04, 0xac, 0x51, 0x01, 0xab};
  EXPECT_EQ(LegacySighash(HandTx(), 0, script, kSighashAll), crypto::Hash256(HandPreimage(field)));
}

// Bitcoin Core declares size - separators but writes the script only up to where parsing
// stopped (after the opcode of a truncated push and any complete length bytes): for
// OP_CODESEPARATOR then a truncated OP_PUSHDATA2 that is 2 declared, 1 written.
TEST(SighashTest, LegacyTruncatedScriptCodeAsBitcoinCore) {
  const Script script(std::vector<uint8_t>{0xab, 0x4d, 0x01});
  const std::vector<uint8_t> field = {0x02, 0x4d};
  EXPECT_EQ(LegacySighash(HandTx(), 0, script, kSighashAll), crypto::Hash256(HandPreimage(field)));
  // The same without separators: 3 declared, 2 written (the length byte 0x01 is incomplete).
  const Script no_separator(std::vector<uint8_t>{0x51, 0x4d, 0x01});
  const std::vector<uint8_t> cut = {0x03, 0x51, 0x4d};
  EXPECT_EQ(LegacySighash(HandTx(), 0, no_separator, kSighashAll),
            crypto::Hash256(HandPreimage(cut)));
  // A push whose length is complete but whose data is short stops after the length bytes.
  const Script short_data(std::vector<uint8_t>{0x4c, 0x05, 0xaa});
  const std::vector<uint8_t> cut_data = {0x03, 0x4c, 0x05};
  EXPECT_EQ(LegacySighash(HandTx(), 0, short_data, kSighashAll),
            crypto::Hash256(HandPreimage(cut_data)));
}

// Strips the CompactSize length in front of a scriptCode_hex of the BIP143 vectors.
Script ScriptCodeFromField(const std::string& hex) {
  std::vector<uint8_t> bytes = Hex(hex);
  EXPECT_FALSE(bytes.empty());
  EXPECT_LT(bytes[0], 0xfd);
  EXPECT_EQ(bytes.size(), size_t{bytes[0]} + 1);
  return Script(std::vector<uint8_t>(bytes.begin() + 1, bytes.end()));
}

TEST(SighashTest, SegwitV0MatchesBip143Examples) {
  const nlohmann::json vectors = ReadVectors("bip143_test_vectors.json");
  size_t checked = 0;
  size_t hashes_checked = 0;
  for (const nlohmann::json& example : vectors["examples"]) {
    const Transaction tx = ParseTx(example["unsigned_tx_hex"].get<std::string>());
    const PrecomputedTransactionData precomputed = Precompute(tx);
    for (const nlohmann::json& input : example["inputs"]) {
      if (!input.contains("hashPrevouts")) continue;  // A legacy input.
      const size_t index = input["index"].get<size_t>();
      const int32_t hash_type = input["sighash_type"].get<int32_t>();
      const int64_t amount = BtcToSats(input["amount_btc"].get<std::string>());
      if (hash_type == kSighashAll) {
        EXPECT_EQ(ToHex(precomputed.hash_prevouts()), input["hashPrevouts"]);
        EXPECT_EQ(ToHex(precomputed.hash_sequence()), input["hashSequence"]);
        EXPECT_EQ(ToHex(precomputed.hash_outputs()), input["hashOutputs"]);
        ++hashes_checked;
      }
      std::vector<nlohmann::json> signatures;
      if (input.contains("signatures")) {
        for (const nlohmann::json& s : input["signatures"]) signatures.push_back(s);
      } else {
        signatures.push_back(input);
      }
      for (const nlohmann::json& sig : signatures) {
        const Script script_code = ScriptCodeFromField(sig["scriptCode_hex"].get<std::string>());
        EXPECT_EQ(
            ToHex(SegwitV0SighashPreimage(tx, index, script_code, amount, hash_type, precomputed)),
            sig["sighash_preimage_hex"])
            << example["name"];
        EXPECT_EQ(ToHex(SegwitV0Sighash(tx, index, script_code, amount, hash_type, precomputed)),
                  sig["sighash"])
            << example["name"];
        ++checked;
      }
    }
  }
  // P2WPKH, P2SH-P2WPKH, two signatures of the codeseparator P2WSH, two SINGLE|ANYONECANPAY.
  EXPECT_EQ(checked, 6u);
  EXPECT_EQ(hashes_checked, 2u);
}

// BIP143: SIGHASH_SINGLE without an output of the same index commits to a zero hashOutputs
// (no "one" hash as in legacy).
TEST(SighashTest, SegwitV0SingleWithoutMatchingOutputHashesZeroOutputs) {
  Transaction tx = HandTx();
  tx.inputs.resize(2);
  const PrecomputedTransactionData precomputed = Precompute(tx);
  const std::vector<uint8_t> preimage =
      SegwitV0SighashPreimage(tx, 1, Script(), 7, kSighashSingle, precomputed);
  // version, hashPrevouts, hashSequence (zero), outpoint, empty script, amount, sequence,
  // hashOutputs, lock_time, hash type.
  ASSERT_EQ(preimage.size(), 4u + 32 + 32 + 36 + 1 + 8 + 4 + 32 + 4 + 4);
  const size_t hash_outputs_at = 4 + 32 + 32 + 36 + 1 + 8 + 4;
  EXPECT_TRUE(std::all_of(preimage.begin() + hash_outputs_at,
                          preimage.begin() + hash_outputs_at + 32,
                          [](uint8_t b) { return b == 0; }));
  EXPECT_TRUE(
      std::all_of(preimage.begin() + 36, preimage.begin() + 68, [](uint8_t b) { return b == 0; }));
}

std::vector<TxOut> SpentOutputs(const nlohmann::json& utxos) {
  std::vector<TxOut> out;
  for (const nlohmann::json& u : utxos) {
    out.push_back(TxOut{.value = u["amountSats"].get<int64_t>(),
                        .script_pubkey = Script(Hex(u["scriptPubKey"].get<std::string>()))});
  }
  return out;
}

TEST(SighashTest, TaprootKeyPathMatchesBip341Vectors) {
  const nlohmann::json vectors = ReadVectors("bip341_wallet_vectors.json");
  size_t checked = 0;
  for (const nlohmann::json& test : vectors["keyPathSpending"]) {
    const Transaction tx = ParseTx(test["given"]["rawUnsignedTx"].get<std::string>());
    const std::vector<TxOut> spent = SpentOutputs(test["given"]["utxosSpent"]);
    const PrecomputedTransactionData precomputed = Precompute(tx, spent);
    ASSERT_TRUE(precomputed.has_spent_outputs());
    EXPECT_EQ(precomputed.spent_outputs(), spent);
    const nlohmann::json& mid = test["intermediary"];
    EXPECT_EQ(ToHex(precomputed.sha_amounts()), mid["hashAmounts"]);
    EXPECT_EQ(ToHex(precomputed.sha_outputs()), mid["hashOutputs"]);
    EXPECT_EQ(ToHex(precomputed.sha_prevouts()), mid["hashPrevouts"]);
    EXPECT_EQ(ToHex(precomputed.sha_script_pubkeys()), mid["hashScriptPubkeys"]);
    EXPECT_EQ(ToHex(precomputed.sha_sequences()), mid["hashSequences"]);

    for (const nlohmann::json& input : test["inputSpending"]) {
      const size_t index = input["given"]["txinIndex"].get<size_t>();
      const uint8_t hash_type = input["given"]["hashType"].get<uint8_t>();
      util::Result<std::vector<uint8_t>> msg =
          TaprootSigMsg(tx, index, hash_type, precomputed, TaprootSighashExtras{});
      ASSERT_TRUE(msg.ok()) << msg.status();
      EXPECT_EQ(ToHex(*msg), input["intermediary"]["sigMsg"]) << index;
      util::Result<SighashBytes> sighash =
          TaprootSighash(tx, index, hash_type, precomputed, TaprootSighashExtras{});
      ASSERT_TRUE(sighash.ok()) << sighash.status();
      EXPECT_EQ(ToHex(*sighash), input["intermediary"]["sigHash"]) << index;
      ++checked;
    }
  }
  EXPECT_EQ(checked, 7u);
}

// Walks a BIP341 vector's scriptTree (null, a leaf, or a two-element array), checking each
// leaf's hash against leafHashes[id], and returns the subtree's hash.
std::array<uint8_t, 32> TreeHash(const nlohmann::json& node, const nlohmann::json& leaf_hashes,
                                 size_t& leaves) {
  if (node.is_array()) {
    EXPECT_EQ(node.size(), 2u);
    const std::array<uint8_t, 32> a = TreeHash(node[0], leaf_hashes, leaves);
    const std::array<uint8_t, 32> b = TreeHash(node[1], leaf_hashes, leaves);
    EXPECT_EQ(ComputeTapBranchHash(a, b), ComputeTapBranchHash(b, a));
    return ComputeTapBranchHash(a, b);
  }
  const std::array<uint8_t, 32> leaf = ComputeTapleafHash(
      node["leafVersion"].get<uint8_t>(), Script(Hex(node["script"].get<std::string>())));
  EXPECT_EQ(ToHex(leaf), leaf_hashes[node["id"].get<size_t>()]);
  ++leaves;
  return leaf;
}

TEST(SighashTest, TapleafAndTapBranchMatchBip341Vectors) {
  const nlohmann::json vectors = ReadVectors("bip341_wallet_vectors.json");
  size_t trees = 0;
  size_t leaves = 0;
  for (const nlohmann::json& test : vectors["scriptPubKey"]) {
    const nlohmann::json& tree = test["given"]["scriptTree"];
    if (tree.is_null()) {
      EXPECT_TRUE(test["intermediary"]["merkleRoot"].is_null());
      continue;
    }
    const std::array<uint8_t, 32> root = TreeHash(tree, test["intermediary"]["leafHashes"], leaves);
    EXPECT_EQ(ToHex(root), test["intermediary"]["merkleRoot"]);
    ++trees;
  }
  EXPECT_EQ(trees, 6u);
  EXPECT_EQ(leaves, 12u);
}

// The pushed items of a push-only script, or nullopt.
std::optional<std::vector<std::vector<uint8_t>>> Pushes(const Script& script) {
  std::vector<std::vector<uint8_t>> items;
  size_t pos = 0;
  while (pos < script.size()) {
    std::optional<ScriptOp> op = GetOp(script.bytes(), &pos);
    if (!op || op->opcode > 0x4e) return std::nullopt;
    items.emplace_back(op->data.begin(), op->data.end());
  }
  return items;
}

bool VerifyEcdsa(const crypto::Secp256k1Context& ctx, std::span<const uint8_t> pubkey,
                 std::span<const uint8_t> sig_without_type, const SighashBytes& sighash) {
  util::Result<crypto::PublicKey> key = crypto::PublicKey::ParseAllowingHybrid(pubkey);
  if (!key.ok()) return false;
  return crypto::EcdsaVerify(ctx, *key, sighash, sig_without_type, crypto::DerParsing::kLax);
}

// The real signatures of Bitcoin Core's tx_valid.json verify against kinko's sighashes: every
// input that spends a P2PK, P2PKH or P2WPKH output with a plain signature (and, for P2WPKH, a
// known amount). An independent check of LegacySighash and SegwitV0Sighash on mainnet-style
// transactions, beyond the sighash and BIP143 vectors.
TEST(SighashTest, TxValidSignaturesVerify) {
  crypto::SystemRng rng;
  const crypto::Secp256k1Context ctx = crypto::Secp256k1Context::Create(rng);
  const nlohmann::json vectors = ReadVectors("tx_valid.json");
  size_t legacy = 0;
  size_t segwit = 0;
  for (const nlohmann::json& test : vectors) {
    if (test.size() == 1) continue;
    const Transaction tx = ParseTx(test[1].get<std::string>());
    std::map<std::pair<std::string, uint32_t>, std::pair<Script, int64_t>> prevouts;
    for (const nlohmann::json& p : test[0]) {
      util::Result<Script> spk = ParseAsm(p[2].get<std::string>());
      ASSERT_TRUE(spk.ok()) << spk.status();
      const int64_t amount = p.size() > 3 ? p[3].get<int64_t>() : -1;
      prevouts[{p[0].get<std::string>(), static_cast<uint32_t>(p[1].get<int64_t>())}] = {*spk,
                                                                                         amount};
    }
    const PrecomputedTransactionData precomputed = Precompute(tx);
    for (size_t i = 0; i < tx.inputs.size(); ++i) {
      const TxIn& in = tx.inputs[i];
      const auto& [spk, amount] = prevouts.at({TxidToHex(in.prevout.txid), in.prevout.index});
      const std::vector<uint8_t>& b = spk.bytes();
      const std::optional<std::vector<std::vector<uint8_t>>> pushes = Pushes(in.script_sig);
      const bool p2pkh = b.size() == 25 && b[0] == 0x76 && b[1] == 0xa9 && b[2] == 0x14 &&
                         b[23] == 0x88 && b[24] == 0xac;
      const bool p2pk =
          (b.size() == 35 || b.size() == 67) && b[0] == b.size() - 2 && b.back() == 0xac;
      const bool p2wpkh = b.size() == 22 && b[0] == 0x00 && b[1] == 0x14;
      if ((p2pkh || p2pk) && in.witness.empty() && pushes.has_value()) {
        const size_t want = p2pkh ? 2 : 1;
        if (pushes->size() != want || (*pushes)[0].empty()) continue;
        const std::vector<uint8_t>& sig = (*pushes)[0];
        const std::span<const uint8_t> pubkey =
            p2pkh ? std::span<const uint8_t>((*pushes)[1])
                  : std::span<const uint8_t>(b).subspan(1, b.size() - 2);
        const SighashBytes sighash = LegacySighash(tx, i, spk, sig.back());
        EXPECT_TRUE(VerifyEcdsa(ctx, pubkey, std::span(sig).first(sig.size() - 1), sighash))
            << test[1] << " input " << i;
        ++legacy;
      } else if (p2wpkh && in.script_sig.empty() && in.witness.size() == 2 && amount >= 0 &&
                 !in.witness[0].empty()) {
        std::vector<uint8_t> code = {0x76, 0xa9, 0x14};
        code.insert(code.end(), b.begin() + 2, b.end());
        code.insert(code.end(), {0x88, 0xac});
        const std::vector<uint8_t>& sig = in.witness[0];
        const SighashBytes sighash =
            SegwitV0Sighash(tx, i, Script(code), amount, sig.back(), precomputed);
        EXPECT_TRUE(VerifyEcdsa(ctx, in.witness[1], std::span(sig).first(sig.size() - 1), sighash))
            << test[1] << " input " << i;
        ++segwit;
      }
    }
  }
  EXPECT_EQ(legacy, 26u);
  EXPECT_EQ(segwit, 23u);
}

// A two-input, one-output transaction with known spent outputs, for the taproot checks below.
struct TaprootFixture {
  Transaction tx;
  PrecomputedTransactionData precomputed;
};

TaprootFixture MakeTaprootFixture() {
  Transaction tx = HandTx();
  tx.inputs.resize(2);
  tx.inputs[1].prevout.index = 9;
  std::vector<uint8_t> p2tr = {0x51, 0x20};
  p2tr.resize(34, 0x42);
  std::vector<TxOut> spent(2, TxOut{.value = 1000, .script_pubkey = Script(p2tr)});
  PrecomputedTransactionData precomputed = Precompute(tx, spent);
  return TaprootFixture{std::move(tx), std::move(precomputed)};
}

TEST(SighashTest, TaprootRejectsInvalidHashTypes) {
  const TaprootFixture f = MakeTaprootFixture();
  for (int t = 0; t < 256; ++t) {
    const uint8_t hash_type = static_cast<uint8_t>(t);
    util::Result<SighashBytes> sighash =
        TaprootSighash(f.tx, 0, hash_type, f.precomputed, TaprootSighashExtras{});
    const bool valid = t <= 3 || (t >= 0x81 && t <= 0x83);
    EXPECT_EQ(sighash.ok(), valid) << t;
    if (!valid) {
      EXPECT_EQ(sighash.status().code(), util::StatusCode::kInvalidArgument);
      EXPECT_THAT(sighash.status().message(), HasSubstr("invalid hash type"));
    }
  }
}

TEST(SighashTest, TaprootRejectsSingleWithoutMatchingOutput) {
  const TaprootFixture f = MakeTaprootFixture();
  EXPECT_TRUE(TaprootSighash(f.tx, 0, kSighashSingle, f.precomputed, {}).ok());
  for (uint8_t t : {kSighashSingle, static_cast<uint8_t>(kSighashSingle | kSighashAnyoneCanPay)}) {
    util::Result<SighashBytes> sighash = TaprootSighash(f.tx, 1, t, f.precomputed, {});
    ASSERT_FALSE(sighash.ok());
    EXPECT_THAT(sighash.status().message(), HasSubstr("SIGHASH_SINGLE without a matching output"));
  }
}

TEST(SighashTest, TaprootRequiresSpentOutputs) {
  const TaprootFixture f = MakeTaprootFixture();
  const PrecomputedTransactionData without = Precompute(f.tx);
  EXPECT_FALSE(without.has_spent_outputs());
  util::Result<SighashBytes> sighash = TaprootSighash(f.tx, 0, kSighashDefault, without, {});
  ASSERT_FALSE(sighash.ok());
  EXPECT_EQ(sighash.status().code(), util::StatusCode::kInvalidArgument);
  EXPECT_THAT(sighash.status().message(), HasSubstr("spent outputs unknown"));
}

TEST(SighashTest, TaprootRejectsAnnexWithoutPrefix) {
  const TaprootFixture f = MakeTaprootFixture();
  TaprootSighashExtras extras;
  extras.annex = std::vector<uint8_t>{0x51, 0x00};
  EXPECT_FALSE(TaprootSighash(f.tx, 0, kSighashDefault, f.precomputed, extras).ok());
  extras.annex = std::vector<uint8_t>{};
  EXPECT_FALSE(TaprootSighash(f.tx, 0, kSighashDefault, f.precomputed, extras).ok());
}

TEST(SighashTest, PrecomputedRejectsWrongSpentOutputCount) {
  const Transaction tx = MakeTaprootFixture().tx;
  util::Result<PrecomputedTransactionData> data =
      PrecomputedTransactionData::Create(tx, std::vector<TxOut>(3));
  ASSERT_FALSE(data.ok());
  EXPECT_EQ(data.status().code(), util::StatusCode::kInvalidArgument);
  EXPECT_THAT(data.status().message(), HasSubstr("3 spent outputs for 2 inputs"));
}

// BIP341/342 layout of the parts the key-path vectors do not cover: the annex (spend_type bit 0
// and sha_annex after the input data) and the tapscript extension (spend_type bit 1, then
// tapleaf_hash, key_version 0x00, codesep_pos).
TEST(SighashTest, TaprootScriptPathAndAnnexLayout) {
  const TaprootFixture f = MakeTaprootFixture();
  util::Result<std::vector<uint8_t>> key_path =
      TaprootSigMsg(f.tx, 1, kSighashDefault, f.precomputed, {});
  ASSERT_TRUE(key_path.ok());
  // epoch, hash_type, version, lock_time, 5 hashes, spend_type, input index.
  ASSERT_EQ(key_path->size(), 1u + 1 + 4 + 4 + 5 * 32 + 1 + 4);
  const size_t spend_type_at = 1 + 1 + 4 + 4 + 5 * 32;
  EXPECT_EQ((*key_path)[spend_type_at], 0x00);

  TaprootSighashExtras extras;
  extras.leaf_hash.emplace();
  extras.leaf_hash->fill(0x5a);
  extras.codesep_pos = 0x01020304;
  extras.annex = std::vector<uint8_t>{0x50, 0x99};
  util::Result<std::vector<uint8_t>> script_path =
      TaprootSigMsg(f.tx, 1, kSighashDefault, f.precomputed, extras);
  ASSERT_TRUE(script_path.ok());

  std::vector<uint8_t> expected = *key_path;
  expected[spend_type_at] = 0x03;  // ext_flag 1, annex present
  const std::array<uint8_t, 32> sha_annex = crypto::Sha256(std::vector<uint8_t>{0x02, 0x50, 0x99});
  expected.insert(expected.end(), sha_annex.begin(), sha_annex.end());
  expected.insert(expected.end(), 32, 0x5a);
  expected.insert(expected.end(), {0x00, 0x04, 0x03, 0x02, 0x01});
  EXPECT_EQ(*script_path, expected);

  util::Result<SighashBytes> sighash =
      TaprootSighash(f.tx, 1, kSighashDefault, f.precomputed, extras);
  ASSERT_TRUE(sighash.ok());
  EXPECT_EQ(*sighash, crypto::TaggedHash("TapSighash", expected));
}

// SIGHASH_DEFAULT and SIGHASH_ALL commit to the same data but differ in the hash_type byte.
TEST(SighashTest, TaprootDefaultDiffersFromAllOnlyInHashType) {
  const TaprootFixture f = MakeTaprootFixture();
  util::Result<std::vector<uint8_t>> def =
      TaprootSigMsg(f.tx, 0, kSighashDefault, f.precomputed, {});
  util::Result<std::vector<uint8_t>> all = TaprootSigMsg(f.tx, 0, kSighashAll, f.precomputed, {});
  ASSERT_TRUE(def.ok());
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(def->size(), all->size());
  std::vector<uint8_t> patched = *def;
  patched[1] = kSighashAll;
  EXPECT_EQ(patched, *all);
}

TEST(SighashTest, TapleafHashOfEmptyScript) {
  // TaggedHash("TapLeaf", 0xc0 || 0x00), written out.
  const std::array<uint8_t, 32> expected =
      crypto::TaggedHash("TapLeaf", std::vector<uint8_t>{0xc0, 0x00});
  EXPECT_EQ(ComputeTapleafHash(0xc0, Script()), expected);
}

}  // namespace
}  // namespace kinko::btc
