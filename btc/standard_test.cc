#include "btc/standard.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "util/hex.h"

namespace kinko::btc {
namespace {

std::vector<uint8_t> Hex(std::string_view hex) { return *util::HexDecode(hex); }

Script ScriptFromHex(std::string_view hex) { return Script(Hex(hex)); }

template <size_t N>
std::array<uint8_t, N> Filled(uint8_t value) {
  std::array<uint8_t, N> out;
  out.fill(value);
  return out;
}

// A compressed key: prefix 02 then 32 bytes of `fill`.
std::vector<uint8_t> CompressedKey(uint8_t fill, uint8_t prefix = 0x02) {
  std::vector<uint8_t> key(33, fill);
  key[0] = prefix;
  return key;
}

std::vector<uint8_t> UncompressedKey(uint8_t fill) {
  std::vector<uint8_t> key(65, fill);
  key[0] = 0x04;
  return key;
}

TEST(StandardTest, ScriptKindNamesAreCoreNames) {
  EXPECT_EQ(ScriptKindName(ScriptKind::kNonStandard), "nonstandard");
  EXPECT_EQ(ScriptKindName(ScriptKind::kP2pk), "pubkey");
  EXPECT_EQ(ScriptKindName(ScriptKind::kP2pkh), "pubkeyhash");
  EXPECT_EQ(ScriptKindName(ScriptKind::kP2sh), "scripthash");
  EXPECT_EQ(ScriptKindName(ScriptKind::kMultisig), "multisig");
  EXPECT_EQ(ScriptKindName(ScriptKind::kNullData), "nulldata");
  EXPECT_EQ(ScriptKindName(ScriptKind::kP2wpkh), "witness_v0_keyhash");
  EXPECT_EQ(ScriptKindName(ScriptKind::kP2wsh), "witness_v0_scripthash");
  EXPECT_EQ(ScriptKindName(ScriptKind::kP2tr), "witness_v1_taproot");
  EXPECT_EQ(ScriptKindName(ScriptKind::kAnchor), "anchor");
  EXPECT_EQ(ScriptKindName(ScriptKind::kWitnessUnknown), "witness_unknown");
}

TEST(StandardTest, IsValidPubkeySizeFollowsThePrefix) {
  EXPECT_TRUE(IsValidPubkeySize(CompressedKey(1, 0x02)));
  EXPECT_TRUE(IsValidPubkeySize(CompressedKey(1, 0x03)));
  EXPECT_FALSE(IsValidPubkeySize(CompressedKey(1, 0x04)));
  EXPECT_TRUE(IsValidPubkeySize(UncompressedKey(1)));
  std::vector<uint8_t> hybrid = UncompressedKey(1);
  hybrid[0] = 0x06;
  EXPECT_TRUE(IsValidPubkeySize(hybrid));
  hybrid[0] = 0x07;
  EXPECT_TRUE(IsValidPubkeySize(hybrid));
  hybrid[0] = 0x05;
  EXPECT_FALSE(IsValidPubkeySize(hybrid));
  hybrid[0] = 0x02;
  EXPECT_FALSE(IsValidPubkeySize(hybrid));
  EXPECT_FALSE(IsValidPubkeySize({}));
  std::vector<uint8_t> short_key = CompressedKey(1);
  short_key.pop_back();
  EXPECT_FALSE(IsValidPubkeySize(short_key));
}

// Known script bytes from the BIPs: BIP350/BIP173 list these outputs for their addresses.
TEST(StandardTest, BuildersProduceKnownScripts) {
  // BIP173: bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4 is
  // 0014751e76e8199196d454941c45d1b3a323f1433bd6.
  std::array<uint8_t, 20> h20;
  std::vector<uint8_t> v = Hex("751e76e8199196d454941c45d1b3a323f1433bd6");
  std::copy(v.begin(), v.end(), h20.begin());
  EXPECT_EQ(util::HexEncode(P2wpkhScript(h20).bytes()),
            "0014751e76e8199196d454941c45d1b3a323f1433bd6");
  EXPECT_EQ(util::HexEncode(P2pkhScript(h20).bytes()),
            "76a914751e76e8199196d454941c45d1b3a323f1433bd688ac");
  EXPECT_EQ(util::HexEncode(P2shScript(h20).bytes()),
            "a914751e76e8199196d454941c45d1b3a323f1433bd687");
  // BIP350: bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y is
  // 5128751e76e8199196d454941c45d1b3a323f1433bd6751e76e8199196d454941c45d1b3a323f1433bd6.
  std::vector<uint8_t> program40 =
      Hex("751e76e8199196d454941c45d1b3a323f1433bd6751e76e8199196d454941c45d1b3a323f1433bd6");
  EXPECT_EQ(util::HexEncode(WitnessProgramScript(1, program40).bytes()),
            "5128751e76e8199196d454941c45d1b3a323f1433bd6751e76e8199196d454941c45d1b3a323f1433bd6");
  // BIP350: BC1SW50QGDZ25J is 6002751e.
  EXPECT_EQ(util::HexEncode(WitnessProgramScript(16, Hex("751e")).bytes()), "6002751e");
  std::array<uint8_t, 32> h32 = Filled<32>(0xab);
  std::string ab32;
  for (int i = 0; i < 32; ++i) ab32 += "ab";
  EXPECT_EQ(util::HexEncode(P2wshScript(h32).bytes()), "0020" + ab32);
  EXPECT_EQ(util::HexEncode(P2trScript(h32).bytes()), "5120" + ab32);
}

TEST(StandardTest, EachBuilderClassifiesBackWithItsData) {
  std::array<uint8_t, 20> h20 = Filled<20>(0x11);
  std::array<uint8_t, 32> h32 = Filled<32>(0x22);
  std::vector<uint8_t> h20v(h20.begin(), h20.end());
  std::vector<uint8_t> h32v(h32.begin(), h32.end());

  EXPECT_EQ(Classify(P2pkhScript(h20)), (StandardScript{ScriptKind::kP2pkh, {h20v}}));
  EXPECT_EQ(Classify(P2shScript(h20)), (StandardScript{ScriptKind::kP2sh, {h20v}}));
  EXPECT_EQ(Classify(P2wpkhScript(h20)), (StandardScript{ScriptKind::kP2wpkh, {h20v}}));
  EXPECT_EQ(Classify(P2wshScript(h32)), (StandardScript{ScriptKind::kP2wsh, {h32v}}));
  EXPECT_EQ(Classify(P2trScript(h32)), (StandardScript{ScriptKind::kP2tr, {h32v}}));
  for (const std::vector<uint8_t>& key :
       {CompressedKey(5), CompressedKey(6, 0x03), UncompressedKey(7)}) {
    EXPECT_EQ(Classify(P2pkScript(key)), (StandardScript{ScriptKind::kP2pk, {key}}));
  }
  EXPECT_EQ(Classify(WitnessProgramScript(2, Hex("0102"))),
            (StandardScript{ScriptKind::kWitnessUnknown, {{2}, Hex("0102")}}));
  EXPECT_EQ(Classify(WitnessProgramScript(16, std::vector<uint8_t>(40, 9))),
            (StandardScript{ScriptKind::kWitnessUnknown, {{16}, std::vector<uint8_t>(40, 9)}}));
  // Version 1 with a program that is not 32 bytes is a future witness version too.
  EXPECT_EQ(Classify(WitnessProgramScript(1, std::vector<uint8_t>(20, 9))),
            (StandardScript{ScriptKind::kWitnessUnknown, {{1}, std::vector<uint8_t>(20, 9)}}));
  EXPECT_EQ(Classify(WitnessProgramScript(1, Hex("4e73"))),
            (StandardScript{ScriptKind::kAnchor, {}}));
  EXPECT_EQ(Classify(NullDataScript(Hex("deadbeef"))), (StandardScript{ScriptKind::kNullData, {}}));
  EXPECT_EQ(Classify(NullDataScript({})), (StandardScript{ScriptKind::kNullData, {}}));
  EXPECT_EQ(Classify(NullDataScript(std::vector<uint8_t>(300, 1))),
            (StandardScript{ScriptKind::kNullData, {}}));
}

TEST(StandardTest, MultisigClassifiesBackForEveryKeyCount) {
  for (int n = 1; n <= kMaxMultisigKeys; ++n) {
    std::vector<std::vector<uint8_t>> keys;
    for (int i = 0; i < n; ++i) {
      keys.push_back(i % 3 == 2 ? UncompressedKey(static_cast<uint8_t>(i))
                                : CompressedKey(static_cast<uint8_t>(i)));
    }
    for (int m : {1, (n + 1) / 2, n}) {
      Script script = MultisigScript(m, keys);
      StandardScript expected{ScriptKind::kMultisig, {{static_cast<uint8_t>(m)}}};
      expected.solutions.insert(expected.solutions.end(), keys.begin(), keys.end());
      expected.solutions.push_back({static_cast<uint8_t>(n)});
      EXPECT_EQ(Classify(script), expected) << "m=" << m << " n=" << n;
    }
  }
}

TEST(StandardTest, MultisigAboveSixteenUsesScriptNumberPushes) {
  std::vector<std::vector<uint8_t>> keys;
  for (int i = 0; i < 17; ++i) keys.push_back(CompressedKey(static_cast<uint8_t>(i)));
  Script script = MultisigScript(17, keys);
  // 17 is pushed as the one-byte script number 0x11 (Core's GetScriptForMultisig).
  EXPECT_EQ(script.bytes()[0], 0x01);
  EXPECT_EQ(script.bytes()[1], 0x11);
  EXPECT_EQ(script.bytes()[script.size() - 3], 0x01);
  EXPECT_EQ(script.bytes()[script.size() - 2], 0x11);
  EXPECT_EQ(Classify(script).kind, ScriptKind::kMultisig);
  // The same counts written with OP_PUSHDATA1 are not minimal pushes: not multisig.
  std::vector<uint8_t> bytes = script.bytes();
  bytes.insert(bytes.begin(), 0x4c);
  EXPECT_EQ(Classify(Script(bytes)).kind, ScriptKind::kNonStandard);
  bytes = script.bytes();
  bytes.insert(bytes.end() - 3, 0x4c);
  EXPECT_EQ(Classify(Script(bytes)).kind, ScriptKind::kNonStandard);
  // A count of 17 written as a non-minimal script number (0x1100).
  bytes = script.bytes();
  bytes[0] = 0x02;
  bytes.insert(bytes.begin() + 2, 0x00);
  EXPECT_EQ(Classify(Script(bytes)).kind, ScriptKind::kNonStandard);
}

TEST(StandardTest, MultisigRejections) {
  const std::vector<uint8_t> k1 = CompressedKey(1);
  const std::vector<uint8_t> k2 = CompressedKey(2);
  auto classify = [](const Script& s) { return Classify(s).kind; };
  auto build = [](std::initializer_list<std::vector<uint8_t>> pushes, int m, int n) {
    Script s;
    s.PushInt(m);
    for (const auto& p : pushes) s.PushData(p);
    s.PushInt(n).PushOpcode(0xae);
    return s;
  };
  EXPECT_EQ(classify(build({k1, k2}, 1, 2)), ScriptKind::kMultisig);
  // Key count does not match the number of keys.
  EXPECT_EQ(classify(build({k1, k2}, 1, 3)), ScriptKind::kNonStandard);
  EXPECT_EQ(classify(build({k1, k2}, 1, 1)), ScriptKind::kNonStandard);
  // m > n, m == 0.
  EXPECT_EQ(classify(build({k1, k2}, 3, 2)), ScriptKind::kNonStandard);
  EXPECT_EQ(classify(build({k1, k2}, 0, 2)), ScriptKind::kNonStandard);
  // A key of an invalid size or prefix.
  std::vector<uint8_t> bad = k2;
  bad.pop_back();
  EXPECT_EQ(classify(build({k1, bad}, 1, 2)), ScriptKind::kNonStandard);
  bad = k2;
  bad[0] = 0x04;
  EXPECT_EQ(classify(build({k1, bad}, 1, 2)), ScriptKind::kNonStandard);
  // No keys.
  EXPECT_EQ(classify(build({}, 1, 0)), ScriptKind::kNonStandard);
  // 21 keys are more than OP_CHECKMULTISIG allows.
  Script big;
  big.PushInt(1);
  for (int i = 0; i < 21; ++i) big.PushData(CompressedKey(static_cast<uint8_t>(i)));
  big.PushInt(21).PushOpcode(0xae);
  EXPECT_EQ(classify(big), ScriptKind::kNonStandard);
  // m written as a non-minimal push (0x01 0x01 instead of OP_1).
  Script nonminimal(Hex("0101"));
  Script rest = build({k1}, 1, 1);
  std::vector<uint8_t> bytes = nonminimal.bytes();
  bytes.insert(bytes.end(), rest.bytes().begin() + 1, rest.bytes().end());
  EXPECT_EQ(classify(Script(bytes)), ScriptKind::kNonStandard);
  // Trailing byte after OP_CHECKMULTISIG, and OP_CHECKMULTISIGVERIFY.
  bytes = build({k1}, 1, 1).bytes();
  bytes.push_back(0xae);
  EXPECT_EQ(classify(Script(bytes)), ScriptKind::kNonStandard);
  bytes = build({k1}, 1, 1).bytes();
  bytes.back() = 0xaf;
  EXPECT_EQ(classify(Script(bytes)), ScriptKind::kNonStandard);
  // Keys pushed with OP_PUSHDATA1 are still keys (Core does not require minimal key pushes).
  bytes = {0x51, 0x4c, 33};
  bytes.insert(bytes.end(), k1.begin(), k1.end());
  bytes.insert(bytes.end(), {0x51, 0xae});
  EXPECT_EQ(classify(Script(bytes)), ScriptKind::kMultisig);
}

TEST(StandardTest, SingleKeyAndHashTemplatesRejectWrongSizes) {
  auto classify = [](std::string_view hex) { return Classify(ScriptFromHex(hex)).kind; };
  const std::string k33 = util::HexEncode(CompressedKey(3));
  EXPECT_EQ(classify("21" + k33 + "ac"), ScriptKind::kP2pk);
  // A 33-byte push of a key whose prefix says 65 bytes.
  EXPECT_EQ(classify("21" + std::string("04") + k33.substr(2) + "ac"), ScriptKind::kNonStandard);
  // Key pushed with OP_PUSHDATA1: not the template.
  EXPECT_EQ(classify("4c21" + k33 + "ac"), ScriptKind::kNonStandard);
  // 32-byte key.
  EXPECT_EQ(classify("20" + k33.substr(2) + "ac"), ScriptKind::kNonStandard);
  const std::string h20 = std::string(40, '1');
  EXPECT_EQ(classify("76a914" + h20 + "88ac"), ScriptKind::kP2pkh);
  EXPECT_EQ(classify("76a913" + h20.substr(2) + "88ac"), ScriptKind::kNonStandard);
  EXPECT_EQ(classify("76a914" + h20 + "88ad"), ScriptKind::kNonStandard);
  EXPECT_EQ(classify("76a914" + h20 + "88acac"), ScriptKind::kNonStandard);
  EXPECT_EQ(classify("a914" + h20 + "87"), ScriptKind::kP2sh);
  EXPECT_EQ(classify("a914" + h20 + "88"), ScriptKind::kNonStandard);
  EXPECT_EQ(classify("a915" + h20 + "0087"), ScriptKind::kNonStandard);
  EXPECT_EQ(classify("a94c14" + h20 + "87"), ScriptKind::kNonStandard);
  EXPECT_EQ(classify(""), ScriptKind::kNonStandard);
}

TEST(StandardTest, WitnessProgramBoundaries) {
  // 2 and 40 bytes are the limits (BIP141).
  EXPECT_TRUE(ParseWitnessProgram(ScriptFromHex("00020102")));
  EXPECT_FALSE(ParseWitnessProgram(ScriptFromHex("000101")));
  std::vector<uint8_t> s40 = {0x51, 40};
  s40.resize(42, 7);
  EXPECT_EQ(ParseWitnessProgram(Script(s40)), (WitnessProgram{1, std::vector<uint8_t>(40, 7)}));
  std::vector<uint8_t> s41 = {0x51, 41};
  s41.resize(43, 7);
  EXPECT_FALSE(ParseWitnessProgram(Script(s41)));
  EXPECT_EQ(Classify(Script(s41)).kind, ScriptKind::kNonStandard);
  // The version must be OP_0 or OP_1..OP_16, not OP_1NEGATE or a push.
  EXPECT_FALSE(ParseWitnessProgram(ScriptFromHex("4f020102")));
  EXPECT_FALSE(ParseWitnessProgram(ScriptFromHex("01020102")));
  EXPECT_FALSE(ParseWitnessProgram(ScriptFromHex("61020102")));
  // The push must end the script exactly and be a direct push.
  EXPECT_FALSE(ParseWitnessProgram(ScriptFromHex("0002010203")));
  EXPECT_FALSE(ParseWitnessProgram(ScriptFromHex("00030102")));
  EXPECT_FALSE(ParseWitnessProgram(ScriptFromHex("004c020102")));
  // Version 0 programs of other sizes parse but are not standard.
  std::optional<WitnessProgram> v0 = ParseWitnessProgram(ScriptFromHex("0003010203"));
  ASSERT_TRUE(v0);
  EXPECT_EQ(v0->version, 0);
  EXPECT_EQ(Classify(ScriptFromHex("0003010203")).kind, ScriptKind::kNonStandard);
  std::optional<WitnessProgram> v16 = ParseWitnessProgram(ScriptFromHex("6002751e"));
  ASSERT_TRUE(v16);
  EXPECT_EQ(v16->version, 16);
  EXPECT_EQ(v16->program, Hex("751e"));
}

TEST(StandardTest, NullDataRequiresPushesAfterReturn) {
  EXPECT_EQ(Classify(ScriptFromHex("6a")).kind, ScriptKind::kNullData);
  EXPECT_EQ(Classify(ScriptFromHex("6a0102030405")).kind, ScriptKind::kNonStandard);  // Truncated.
  EXPECT_EQ(Classify(ScriptFromHex("6a01ff51604f00")).kind, ScriptKind::kNullData);
  // A non-push opcode after OP_RETURN.
  EXPECT_EQ(Classify(ScriptFromHex("6a01ff75")).kind, ScriptKind::kNonStandard);
  EXPECT_EQ(Classify(ScriptFromHex("6a6a")).kind, ScriptKind::kNonStandard);
  // OP_RESERVED counts as a push for IsPushOnly, as in Core.
  EXPECT_EQ(Classify(ScriptFromHex("6a50")).kind, ScriptKind::kNullData);
  // OP_RETURN not first.
  EXPECT_EQ(Classify(ScriptFromHex("006a")).kind, ScriptKind::kNonStandard);
}

// BIP67 "Test vectors" section (bitcoin/bips bip-0067.mediawiki): vectors 1, 3 and 4, each with
// two signatures required. Vector 4's script ends 53ae (OP_3 OP_CHECKMULTISIG).
TEST(StandardTest, SortedMultisigMatchesBip67Vectors) {
  struct Vector {
    std::vector<std::string> keys;
    std::string script;
  };
  const std::vector<Vector> vectors = {
      {{"02ff12471208c14bd580709cb2358d98975247d8765f92bc25eab3b2763ed605f8",
        "02fe6f0a5a297eb38c391581c4413e084773ea23954d93f7753db7dc0adc188b2f"},
       "522102fe6f0a5a297eb38c391581c4413e084773ea23954d93f7753db7dc0adc188b2f2102ff12471208c14bd5"
       "80709cb2358d98975247d8765f92bc25eab3b2763ed605f852ae"},
      {{"030000000000000000000000000000000000004141414141414141414141414141",
        "020000000000000000000000000000000000004141414141414141414141414141",
        "020000000000000000000000000000000000004141414141414141414141414140",
        "030000000000000000000000000000000000004141414141414141414141414140"},
       "522102000000000000000000000000000000000000414141414141414141414141414021020000000000000000"
       "000000000000000000004141414141414141414141414141210300000000000000000000000000000000000041"
       "414141414141414141414141402103000000000000000000000000000000000000414141414141414141414141"
       "414154ae"},
      {{"022df8750480ad5b26950b25c7ba79d3e37d75f640f8e5d9bcd5b150a0f85014da",
        "03e3818b65bcc73a7d64064106a859cc1a5a728c4345ff0b641209fba0d90de6e9",
        "021f2f6e1e50cb6a953935c3601284925decd3fd21bc445712576873fb8c6ebc18"},
       "5221021f2f6e1e50cb6a953935c3601284925decd3fd21bc445712576873fb8c6ebc1821022df8750480ad5b26"
       "950b25c7ba79d3e37d75f640f8e5d9bcd5b150a0f85014da2103e3818b65bcc73a7d64064106a859cc1a5a728c"
       "4345ff0b641209fba0d90de6e953ae"},
  };
  for (const Vector& v : vectors) {
    std::vector<std::vector<uint8_t>> keys;
    for (const std::string& k : v.keys) keys.push_back(Hex(k));
    EXPECT_EQ(util::HexEncode(SortedMultisigScript(2, keys).bytes()), v.script);
    // The unsorted builder keeps the given order, which differs here.
    EXPECT_NE(util::HexEncode(MultisigScript(2, keys).bytes()), v.script);
  }
}

std::vector<std::array<uint8_t, 32>> XonlyKeys(int n) {
  std::vector<std::array<uint8_t, 32>> keys;
  for (int i = 0; i < n; ++i) {
    std::array<uint8_t, 32> key = Filled<32>(static_cast<uint8_t>(i * 7 + 1));
    key[0] = static_cast<uint8_t>(n - i);  // Reverse order, so sorting changes something.
    keys.push_back(key);
  }
  return keys;
}

TEST(StandardTest, MultiAScriptHasTheBip342Shape) {
  std::vector<std::array<uint8_t, 32>> keys = XonlyKeys(2);
  Script script = MultiAScript(2, keys);
  std::string expected =
      "20" + util::HexEncode(keys[0]) + "ac" + "20" + util::HexEncode(keys[1]) + "ba" + "52" + "9c";
  EXPECT_EQ(util::HexEncode(script.bytes()), expected);
}

TEST(StandardTest, MatchMultiARoundTrips) {
  for (int n : {1, 2, 3, 16, 17, 20, 100, 999}) {
    std::vector<std::array<uint8_t, 32>> keys = XonlyKeys(n);
    for (int m : {1, (n + 1) / 2, n}) {
      std::optional<MultiA> match = MatchMultiA(MultiAScript(m, keys));
      ASSERT_TRUE(match) << "m=" << m << " n=" << n;
      EXPECT_EQ(match->threshold, m);
      EXPECT_EQ(match->keys, keys);
    }
  }
}

TEST(StandardTest, SortedMultiASortsKeys) {
  std::vector<std::array<uint8_t, 32>> keys = XonlyKeys(5);
  std::optional<MultiA> match = MatchMultiA(SortedMultiAScript(3, keys));
  ASSERT_TRUE(match);
  EXPECT_TRUE(std::is_sorted(match->keys.begin(), match->keys.end()));
  EXPECT_FALSE(std::is_sorted(keys.begin(), keys.end()));
  EXPECT_TRUE(std::is_permutation(match->keys.begin(), match->keys.end(), keys.begin()));
}

TEST(StandardTest, MatchMultiARejections) {
  std::vector<std::array<uint8_t, 32>> keys = XonlyKeys(3);
  const std::vector<uint8_t> good = MultiAScript(2, keys).bytes();
  ASSERT_TRUE(MatchMultiA(Script(good)));
  auto mutated = [&](auto change) {
    std::vector<uint8_t> s = good;
    change(s);
    return MatchMultiA(Script(s));
  };
  // First key followed by OP_CHECKSIGADD, a later one by OP_CHECKSIG.
  EXPECT_FALSE(mutated([](auto& s) { s[33] = 0xba; }));
  EXPECT_FALSE(mutated([](auto& s) { s[67] = 0xac; }));
  // OP_NUMEQUALVERIFY instead of OP_NUMEQUAL.
  EXPECT_FALSE(mutated([](auto& s) { s.back() = 0x9d; }));
  // Threshold above the key count, zero, or not minimal.
  EXPECT_FALSE(mutated([](auto& s) { s[s.size() - 2] = 0x54; }));
  EXPECT_FALSE(mutated([](auto& s) { s[s.size() - 2] = 0x00; }));
  EXPECT_FALSE(mutated([](auto& s) {
    s[s.size() - 2] = 0x01;
    s.insert(s.end() - 1, 0x02);
  }));
  // Trailing opcode after OP_NUMEQUAL.
  EXPECT_FALSE(mutated([](auto& s) { s.push_back(0x9c); }));
  // A 33-byte key push.
  Script wrong_size;
  wrong_size.PushData(CompressedKey(1)).PushOpcode(0xac).PushInt(1).PushOpcode(0x9c);
  EXPECT_FALSE(MatchMultiA(wrong_size));
  // No keys at all.
  EXPECT_FALSE(MatchMultiA(ScriptFromHex("519c")));
  EXPECT_FALSE(MatchMultiA(Script()));
  // A key pushed with OP_PUSHDATA1.
  std::vector<uint8_t> pushdata = {0x4c, 32};
  pushdata.insert(pushdata.end(), keys[0].begin(), keys[0].end());
  pushdata.insert(pushdata.end(), {0xac, 0x51, 0x9c});
  EXPECT_FALSE(MatchMultiA(Script(pushdata)));
  // Threshold 17 as a one-byte push is accepted when there are enough keys.
  std::vector<std::array<uint8_t, 32>> many = XonlyKeys(17);
  Script seventeen = MultiAScript(17, many);
  EXPECT_EQ(seventeen.bytes()[seventeen.size() - 3], 0x01);
  ASSERT_TRUE(MatchMultiA(seventeen));
  EXPECT_EQ(MatchMultiA(seventeen)->threshold, 17);
}

TEST(StandardTest, MatchMultiARejectsTooManyKeys) {
  std::vector<std::array<uint8_t, 32>> keys = XonlyKeys(999);
  Script script = MultiAScript(1, keys);
  ASSERT_TRUE(MatchMultiA(script));
  // Insert a 1000th key before the threshold.
  std::vector<uint8_t> bytes = script.bytes();
  std::vector<uint8_t> extra = {32};
  extra.resize(33, 0x55);
  extra.push_back(0xba);
  bytes.insert(bytes.end() - 2, extra.begin(), extra.end());
  EXPECT_FALSE(MatchMultiA(Script(bytes)));
}

TEST(StandardDeathTest, BuildersCheckPreconditions) {
  std::vector<std::vector<uint8_t>> keys = {CompressedKey(1), CompressedKey(2)};
  EXPECT_DEATH(MultisigScript(3, keys), "");
  EXPECT_DEATH(MultisigScript(0, keys), "");
  std::vector<std::vector<uint8_t>> many(21, CompressedKey(1));
  EXPECT_DEATH(MultisigScript(1, many), "");
  EXPECT_DEATH(P2pkScript(std::vector<uint8_t>(32, 2)), "");
  EXPECT_DEATH(WitnessProgramScript(17, std::vector<uint8_t>(20, 1)), "");
  EXPECT_DEATH(WitnessProgramScript(0, std::vector<uint8_t>(41, 1)), "");
  EXPECT_DEATH(WitnessProgramScript(0, std::vector<uint8_t>(1, 1)), "");
  EXPECT_DEATH(MultiAScript(2, XonlyKeys(1)), "");
}

}  // namespace
}  // namespace kinko::btc
