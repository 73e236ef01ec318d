#include "btc/descriptor.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "btc/sighash.h"
#include "btc/standard.h"
#include "crypto/hash.h"
#include "crypto/rng.h"
#include "util/hex.h"

namespace kinko::btc {
namespace {

nlohmann::json ReadVectors(const std::string& name) {
  std::ifstream in(std::string(KINKO_VECTORS_DIR) + "/" + name);
  EXPECT_TRUE(in.good()) << name;
  return nlohmann::json::parse(in);
}

const crypto::Secp256k1Context& Ctx() {
  static crypto::SystemRng rng;
  static const crypto::Secp256k1Context ctx = crypto::Secp256k1Context::Create(rng);
  return ctx;
}

util::Result<Descriptor> ParseMain(std::string_view text) {
  return Descriptor::Parse(Ctx(), text, Network::kMainnet);
}

std::vector<std::string> ScriptsHex(const Descriptor& desc, uint32_t index) {
  util::Result<std::vector<Script>> scripts = desc.ExpandScripts(Ctx(), index);
  EXPECT_TRUE(scripts.ok()) << scripts.status();
  std::vector<std::string> out;
  if (!scripts.ok()) return out;
  for (const Script& s : scripts.value()) out.push_back(util::HexEncode(s.bytes()));
  return out;
}

// Printing and parsing again gives the same descriptor (public and private forms) with the
// same scripts at `index`.
void ExpectRoundTrip(const Descriptor& desc, uint32_t index) {
  const std::string pub = desc.ToString();
  util::Result<Descriptor> again = ParseMain(pub);
  ASSERT_TRUE(again.ok()) << pub << ": " << again.status();
  EXPECT_EQ(again.value().ToString(), pub);
  EXPECT_FALSE(again.value().HasPrivateKeys());
  util::Result<Descriptor> priv = ParseMain(desc.ToPrivateString());
  ASSERT_TRUE(priv.ok()) << priv.status();
  EXPECT_EQ(priv.value().ToPrivateString(), desc.ToPrivateString());
  EXPECT_EQ(priv.value().ToString(), pub);
  EXPECT_EQ(ScriptsHex(priv.value(), index), ScriptsHex(desc, index));
}

// BIP380: checksums and the character set. Every entry is counted.
TEST(DescriptorTest, Bip380ChecksumVectors) {
  const nlohmann::json vectors = ReadVectors("descriptors_bip380-386_test_vectors.json");
  size_t count = 0;
  for (const auto& v : vectors["bips"]["380"]["checksum_and_charset"]) {
    const std::string text = v["descriptor"].get<std::string>();
    util::Result<Descriptor> desc = ParseMain(text);
    EXPECT_EQ(desc.ok(), v["valid"].get<bool>()) << text << ": " << v["description"];
    ++count;
  }
  EXPECT_EQ(count, vectors["bips"]["380"]["checksum_and_charset"].size());
  EXPECT_EQ(count, 8u);
}

// BIP380 key expressions, each inside pk() (valid at the top level for every key kind).
TEST(DescriptorTest, Bip380KeyExpressionVectors) {
  const nlohmann::json vectors = ReadVectors("descriptors_bip380-386_test_vectors.json");
  size_t valid = 0;
  size_t invalid = 0;
  for (const auto& v : vectors["bips"]["380"]["valid_key_expressions"]) {
    const std::string text = "pk(" + v["key_expression"].get<std::string>() + ")";
    util::Result<Descriptor> desc = ParseMain(text);
    ASSERT_TRUE(desc.ok()) << text << ": " << desc.status();
    // Hardened steps from an xpub cannot be derived; everything else expands.
    if (desc.value().HasPrivateKeys() || text.find('h') == std::string::npos ||
        text.find("xpub") == std::string::npos) {
      ExpectRoundTrip(desc.value(), 0);
    }
    ++valid;
  }
  for (const auto& v : vectors["bips"]["380"]["invalid_key_expressions"]) {
    const std::string text = "pk(" + v["key_expression"].get<std::string>() + ")";
    EXPECT_FALSE(ParseMain(text).ok()) << text << ": " << v["description"];
    ++invalid;
  }
  EXPECT_EQ(valid, 21u);
  EXPECT_EQ(invalid, 16u);
}

// BIP381-386: every valid descriptor gives the listed scripts (children 0, 1, 2 when ranged)
// and round-trips; every invalid one is rejected. Every entry is counted.
TEST(DescriptorTest, Bip381To386Vectors) {
  const nlohmann::json vectors = ReadVectors("descriptors_bip380-386_test_vectors.json");
  size_t valid = 0;
  size_t invalid = 0;
  size_t scripts_checked = 0;
  size_t listed = 0;
  for (const char* bip : {"381", "382", "383", "384", "385", "386"}) {
    const auto& section = vectors["bips"][bip];
    listed += section["valid"].size() + section["invalid"].size();
    for (const auto& v : section["valid"]) {
      const std::string text = v["descriptor"].get<std::string>();
      util::Result<Descriptor> desc = ParseMain(text);
      ASSERT_TRUE(desc.ok()) << bip << " " << text << ": " << desc.status();
      const Descriptor& d = desc.value();
      if (v.contains("children")) {
        ASSERT_TRUE(d.IsRange()) << text;
        uint32_t index = 0;
        for (const auto& child : v["children"]) {
          EXPECT_EQ(ScriptsHex(d, index), child.get<std::vector<std::string>>()) << text;
          ++index;
          ++scripts_checked;
        }
      } else if (d.IsRange()) {
        const auto expected = v["scripts"].get<std::vector<std::string>>();
        for (uint32_t index = 0; index < expected.size(); ++index) {
          EXPECT_EQ(ScriptsHex(d, index), std::vector<std::string>{expected[index]}) << text;
          ++scripts_checked;
        }
      } else if (!v["scripts"].empty()) {
        EXPECT_EQ(ScriptsHex(d, 0), v["scripts"].get<std::vector<std::string>>()) << text;
        ++scripts_checked;
      } else {
        // BIP386 lists tr(KEY,pkh(KEY)) without a script: it must parse and expand.
        EXPECT_EQ(ScriptsHex(d, 0).size(), 1u) << text;
      }
      ExpectRoundTrip(d, 1);
      ++valid;
    }
    for (const auto& v : section["invalid"]) {
      const std::string text = v["descriptor"].get<std::string>();
      util::Result<Descriptor> desc = ParseMain(text);
      EXPECT_FALSE(desc.ok()) << bip << " " << text << ": " << v["description"];
      ++invalid;
    }
  }
  EXPECT_EQ(valid + invalid, listed);
  EXPECT_EQ(valid, 52u);
  EXPECT_EQ(invalid, 32u);
  EXPECT_GT(scripts_checked, 50u);
}

// The BIP341 wallet vectors whose leaves are all "<x-only key> OP_CHECKSIG" (tapscript pk())
// written as tr() descriptors: same output script, merkle root and control blocks.
void TreeToDescriptor(const nlohmann::json& tree, std::string& out, bool& all_pk,
                      std::vector<nlohmann::json>& leaves) {
  if (tree.is_array()) {
    out += "{";
    TreeToDescriptor(tree[0], out, all_pk, leaves);
    out += ",";
    TreeToDescriptor(tree[1], out, all_pk, leaves);
    out += "}";
    return;
  }
  const std::string script = tree["script"].get<std::string>();
  if (tree["leafVersion"].get<int>() != 0xc0 || script.size() != 68 ||
      script.substr(0, 2) != "20" || script.substr(66) != "ac") {
    all_pk = false;
    return;
  }
  out += "pk(" + script.substr(2, 64) + ")";
  leaves.push_back(tree);
}

TEST(DescriptorTest, TaprootTreesMatchBip341WalletVectors) {
  const nlohmann::json vectors = ReadVectors("bip341_wallet_vectors.json");
  size_t checked = 0;
  for (const auto& v : vectors["scriptPubKey"]) {
    std::string text = "tr(" + v["given"]["internalPubkey"].get<std::string>();
    bool all_pk = true;
    std::vector<nlohmann::json> leaves;
    if (!v["given"]["scriptTree"].is_null()) {
      std::string tree;
      TreeToDescriptor(v["given"]["scriptTree"], tree, all_pk, leaves);
      text += "," + tree;
    }
    text += ")";
    if (!all_pk) continue;
    util::Result<Descriptor> desc = ParseMain(text);
    ASSERT_TRUE(desc.ok()) << text << ": " << desc.status();
    util::Result<ScriptInfo> info = desc.value().Expand(Ctx(), 0);
    ASSERT_TRUE(info.ok()) << info.status();
    EXPECT_EQ(util::HexEncode(info.value().script_pubkey.bytes()),
              v["expected"]["scriptPubKey"].get<std::string>());
    if (v["intermediary"]["merkleRoot"].is_null()) {
      EXPECT_FALSE(info.value().tap_merkle_root.has_value());
    } else {
      ASSERT_TRUE(info.value().tap_merkle_root.has_value());
      EXPECT_EQ(util::HexEncode(*info.value().tap_merkle_root),
                v["intermediary"]["merkleRoot"].get<std::string>());
      const auto& blocks = v["expected"]["scriptPathControlBlocks"];
      ASSERT_EQ(info.value().tap_leaves.size(), leaves.size());
      for (size_t i = 0; i < leaves.size(); ++i) {
        const int id = leaves[i]["id"].get<int>();
        EXPECT_EQ(util::HexEncode(info.value().tap_leaves[i].control_block),
                  blocks[id].get<std::string>());
        EXPECT_EQ(util::HexEncode(info.value().tap_leaves[i].script.bytes()),
                  leaves[i]["script"].get<std::string>());
      }
    }
    ExpectRoundTrip(desc.value(), 0);
    ++checked;
  }
  EXPECT_EQ(checked, 5u);
}

// Bitcoin Core's deriveaddresses help example, with its published checksum.
TEST(DescriptorTest, ChecksumMatchesBitcoinCoreExample) {
  const std::string body =
      "wpkh([d34db33f/84h/0h/0h]xpub6DJ2dNUysrn5Vt36jH2KLBT2i1auw1tTSSomg8PhqNiUtx8QX2SvC9nrHu81f"
      "T41fvDUnhMjEzQgXnQjKEu3oaqMSzhSrHMxyyoEAmUHQbY/0/*)";
  EXPECT_EQ(DescriptorChecksum(body), "cjjspncu");
  util::Result<Descriptor> desc = ParseMain(body + "#cjjspncu");
  ASSERT_TRUE(desc.ok()) << desc.status();
  // Core prints the hardened marker the key expression was written with.
  EXPECT_EQ(desc.value().ToString(), body + "#cjjspncu");
  EXPECT_EQ(DescriptorChecksum("raw(deadbeef)"), "89f8spxm");
  EXPECT_EQ(DescriptorChecksum("raw(\xc3\x9c)"), "");
}

TEST(DescriptorTest, ParseRejectsBadChecksums) {
  EXPECT_FALSE(ParseMain("raw(deadbeef)#89f8spxm#89f8spxm").ok());
  EXPECT_FALSE(ParseMain("raw(deadbeef)#89f8spxM").ok());
  EXPECT_FALSE(ParseMain("raw(deadbeef)#").ok());
  EXPECT_TRUE(ParseMain("raw(deadbeef)#89f8spxm").ok());
}

constexpr char kKey1[] = "03a34b99f22c790c4e36b2b3c2c35a36db06226e41c692fc82b8b56ac1c540c5bd";
constexpr char kKey2[] = "0260b2003c386519fc9eadf2b5cf124dd8eea4c4e68d5e154050a9346ea98ce600";
constexpr char kKeyUncompressed[] =
    "04a34b99f22c790c4e36b2b3c2c35a36db06226e41c692fc82b8b56ac1c540c5bd5b8dec5235a0fa8722476c7709"
    "c02559e3aa73aa03918ba2d492eea75abea235";
constexpr char kXOnly[] = "a34b99f22c790c4e36b2b3c2c35a36db06226e41c692fc82b8b56ac1c540c5bd";
constexpr char kXpub[] =
    "xpub6ERApfZwUNrhLCkDtcHTcxd75RbzS1ed54G1LkBUHQVHQKqhMkhgbmJbZRkrgZw4koxb5JaHWkY4ALHY2grBGRja"
    "DMzQLcgJvLJuZZvRcEL";
constexpr char kXprv[] =
    "xprvA1RpRA33e1JQ7ifknakTFpgNXPmW2YvmhqLQYMmrj4xJXXWYpDPS3xz7iAxn8L39njGVyuoseXzU6rcxFLJ8HFsT"
    "jSyQbLYnMpCqE2VbFWc";

std::string S(std::string a) { return a; }

TEST(DescriptorTest, ParseRejectsMisplacedExpressions) {
  const std::string k1 = kKey1;
  // Only at the top: sh, combo, addr, raw, tr, rawtr.
  EXPECT_FALSE(ParseMain("wsh(sh(pk(" + k1 + ")))").ok());
  EXPECT_FALSE(ParseMain("sh(rawtr(" + k1 + "))").ok());
  EXPECT_FALSE(ParseMain("tr(" + k1 + ",tr(" + k1 + "))").ok());
  // wpkh only at the top or in sh.
  EXPECT_TRUE(ParseMain("sh(wpkh(" + k1 + "))").ok());
  EXPECT_FALSE(ParseMain("tr(" + k1 + ",wpkh(" + k1 + "))").ok());
  // multi not in tr; multi_a only in tr.
  EXPECT_FALSE(ParseMain("tr(" + k1 + ",multi(1," + k1 + "))").ok());
  EXPECT_FALSE(ParseMain("multi_a(1," + k1 + ")").ok());
  EXPECT_FALSE(ParseMain("wsh(multi_a(1," + k1 + "))").ok());
  EXPECT_TRUE(ParseMain("tr(" + k1 + ",multi_a(1," + k1 + "))").ok());
  EXPECT_TRUE(ParseMain("tr(" + k1 + ",sortedmulti_a(1," + k1 + "," + kKey2 + "))").ok());
  // Unknown functions and leftovers.
  EXPECT_FALSE(ParseMain("foo(" + k1 + ")").ok());
  EXPECT_FALSE(ParseMain("pk(" + k1 + "))").ok());
  EXPECT_FALSE(ParseMain("pk(" + k1 + ")x").ok());
  EXPECT_FALSE(ParseMain("pk(" + k1).ok());
  EXPECT_FALSE(ParseMain("").ok());
  EXPECT_FALSE(ParseMain("tr(" + k1 + ",{pk(" + k1 + ")})").ok());
  EXPECT_FALSE(ParseMain("tr(" + k1 + ",{pk(" + k1 + "),pk(" + kKey2 + ")").ok());
}

TEST(DescriptorTest, ParseRejectsKeysWhereCoreRejectsThem) {
  const std::string unc = kKeyUncompressed;
  const std::string x = kXOnly;
  EXPECT_TRUE(ParseMain("pk(" + unc + ")").ok());
  EXPECT_TRUE(ParseMain("sh(pk(" + unc + "))").ok());
  EXPECT_FALSE(ParseMain("wsh(pk(" + unc + "))").ok());
  EXPECT_FALSE(ParseMain("sh(wsh(multi(1," + unc + ")))").ok());
  EXPECT_FALSE(ParseMain("tr(" + x + ",pk(" + unc + "))").ok());
  // Hybrid keys never.
  std::string hybrid = unc;
  hybrid[1] = '7';  // 0x07: odd y. The key's y is odd (it compresses to 03).
  EXPECT_FALSE(ParseMain("pk(" + hybrid + ")").ok());
  // x-only keys only in tr/rawtr.
  EXPECT_FALSE(ParseMain("pk(" + x + ")").ok());
  EXPECT_FALSE(ParseMain("wpkh(" + x + ")").ok());
  EXPECT_TRUE(ParseMain("rawtr(" + x + ")").ok());
  EXPECT_TRUE(ParseMain("tr(" + S(kKey1) + ")").ok());
  // Key whitespace, empty keys, bad hex.
  EXPECT_FALSE(ParseMain("pk( " + S(kKey1) + ")").ok());
  EXPECT_FALSE(ParseMain("pk()").ok());
  EXPECT_FALSE(ParseMain("pk(03a34b)").ok());
}

TEST(DescriptorTest, ParseRejectsKeysOfAnotherNetwork) {
  const std::string tpub_desc = "pkh(" + S(kXpub) + "/0)";
  EXPECT_TRUE(ParseMain(tpub_desc).ok());
  EXPECT_FALSE(Descriptor::Parse(Ctx(), tpub_desc, Network::kTestnet).ok());
  EXPECT_FALSE(Descriptor::Parse(Ctx(), "pk(L4rK1yDtCWekvXuE6oXD9jCYfFNV2cWRpVuPLBcCU2z8TrisoyY1)",
                                 Network::kRegtest)
                   .ok());
  EXPECT_FALSE(
      Descriptor::Parse(Ctx(), "addr(3PUNyaW7M55oKWJ3kDukwk9bsKvryra15j)", Network::kSignet).ok());
}

TEST(DescriptorTest, ParseRejectsErrorsInKeyPaths) {
  const std::string x = kXpub;
  EXPECT_FALSE(ParseMain("pkh(" + x + "/*/0)").ok());
  EXPECT_FALSE(ParseMain("pkh(" + x + "/0H)").ok());
  EXPECT_FALSE(ParseMain("pkh(" + x + "/-1)").ok());
  EXPECT_FALSE(ParseMain("pkh(" + x + "/2147483648)").ok());
  EXPECT_FALSE(ParseMain("pkh(" + x + "/)").ok());
  EXPECT_FALSE(ParseMain("pkh(" + x + "/0'')").ok());
  EXPECT_FALSE(ParseMain("pkh(" + x + "/*'h)").ok());
  // Multipath: at least two distinct values, at most one specifier, not in origins.
  EXPECT_FALSE(ParseMain("pkh(" + x + "/<0>/*)").ok());
  EXPECT_FALSE(ParseMain("pkh(" + x + "/<0;0>/*)").ok());
  EXPECT_FALSE(ParseMain("pkh(" + x + "/<0;1>/<2;3>/*)").ok());
  EXPECT_FALSE(ParseMain("pkh(" + x + "/<0;>/*)").ok());
  EXPECT_FALSE(ParseMain("pkh([deadbeef/<0;1>]" + x + "/*)").ok());
  EXPECT_FALSE(ParseMain("pkh(" + S(kKey1) + "/<0;1>)").ok());
  // Mismatched multipath lengths across keys.
  EXPECT_FALSE(ParseMain("sh(multi(1," + x + "/<0;1>/*," + x + "/<0;1;2>/*))").ok());
  EXPECT_TRUE(ParseMain("sh(multi(1," + x + "/<0;1>/*," + x + "/<2;3>/*))").ok());
}

TEST(DescriptorTest, ParseEnforcesMultisigLimits) {
  std::string keys20;
  std::string keys16;
  // 20 distinct derived keys of one xpub.
  for (int i = 0; i < 20; ++i) {
    keys20 += "," + S(kXpub) + "/" + std::to_string(i);
    if (i < 16) keys16 += "," + S(kXpub) + "/" + std::to_string(i);
  }
  EXPECT_TRUE(ParseMain("wsh(multi(20" + keys20 + "))").ok());
  EXPECT_FALSE(ParseMain("wsh(multi(20" + keys20 + "," + kKey1 + "))").ok());
  EXPECT_FALSE(ParseMain("wsh(multi(21" + keys20 + "))").ok());
  EXPECT_FALSE(ParseMain("wsh(multi(0" + keys20 + "))").ok());
  EXPECT_FALSE(ParseMain("wsh(multi(-1" + keys20 + "))").ok());
  EXPECT_FALSE(ParseMain("wsh(multi(1))").ok());
  // P2SH redeem script limit: 15 compressed keys fit in 520 bytes, 16 do not.
  EXPECT_FALSE(ParseMain("sh(multi(1" + keys16 + "))").ok());
  EXPECT_TRUE(ParseMain("sh(multi(1" + keys16.substr(keys16.find(',', 1)) + "))").ok());
  // Bare multisig: at most 3 keys.
  std::string keys4;
  for (int i = 0; i < 4; ++i) keys4 += "," + S(kXpub) + "/" + std::to_string(i);
  EXPECT_FALSE(ParseMain("multi(1" + keys4 + ")").ok());
  EXPECT_TRUE(ParseMain("multi(1" + keys4.substr(keys4.find(",", 1)) + ")").ok());
}

TEST(DescriptorTest, ParseLimitsTaprootTreeDepth) {
  auto nested = [](int depth) {
    std::string s = "tr(" + S(kXOnly) + ",";
    for (int i = 0; i < depth; ++i) s += "{pk(" + S(kXOnly) + "),";
    s += "pk(" + S(kXOnly) + ")";
    for (int i = 0; i < depth; ++i) s += "}";
    return s + ")";
  };
  EXPECT_TRUE(ParseMain(nested(128)).ok());
  EXPECT_FALSE(ParseMain(nested(129)).ok());
}

TEST(DescriptorTest, PrintsHardenedMarkersLikeCore) {
  // The marker of the last hardened step written decides, for the whole key expression.
  util::Result<Descriptor> h = ParseMain("pkh([deadbeef/1h/2']" + S(kXprv) + "/3h)");
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_NE(h.value().ToString().find("[deadbeef/1h/2h]"), std::string::npos);
  util::Result<Descriptor> a = ParseMain("pkh([deadbeef/1h/2h]" + S(kXprv) + "/3')");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_NE(a.value().ToString().find("[deadbeef/1'/2']"), std::string::npos);
  EXPECT_NE(a.value().ToString().find("/3')#"), std::string::npos);
  // The public form has the xpub, the private one the xprv.
  EXPECT_EQ(a.value().ToString().find("xprv"), std::string::npos);
  EXPECT_NE(a.value().ToPrivateString().find(kXprv), std::string::npos);
}

TEST(DescriptorTest, ParseAcceptsLeadingZerosLikeCore) {
  util::Result<Descriptor> desc =
      ParseMain("sh(multi(0001,[deadbeef/000048h]" + S(kXpub) + "/00000000007/*))");
  ASSERT_TRUE(desc.ok()) << desc.status();
  EXPECT_NE(desc.value().ToString().find("multi(1,[deadbeef/48h]"), std::string::npos);
  EXPECT_NE(desc.value().ToString().find("/7/*))#"), std::string::npos);
  EXPECT_FALSE(ParseMain("pkh(" + S(kXpub) + "/04294967296)").ok());
}

TEST(DescriptorTest, InfoFlags) {
  util::Result<Descriptor> addr = ParseMain("addr(3PUNyaW7M55oKWJ3kDukwk9bsKvryra15j)");
  ASSERT_TRUE(addr.ok());
  EXPECT_FALSE(addr.value().IsSolvable());
  EXPECT_FALSE(addr.value().IsRange());
  EXPECT_FALSE(addr.value().HasPrivateKeys());
  util::Result<Descriptor> ranged = ParseMain("wpkh(" + S(kXprv) + "/0/*)");
  ASSERT_TRUE(ranged.ok());
  EXPECT_TRUE(ranged.value().IsSolvable());
  EXPECT_TRUE(ranged.value().IsRange());
  EXPECT_TRUE(ranged.value().HasPrivateKeys());
  ASSERT_EQ(ranged.value().PrivateExtendedKeys().size(), 1u);
  EXPECT_EQ(ranged.value().PrivateExtendedKeys()[0].first->ToString(), kXprv);
}

TEST(DescriptorTest, ExpandFailsForHardenedStepsFromAnXpub) {
  util::Result<Descriptor> desc = ParseMain("wpkh(" + S(kXpub) + "/0/*h)");
  ASSERT_TRUE(desc.ok()) << desc.status();
  EXPECT_FALSE(desc.value().ExpandScripts(Ctx(), 0).ok());
  util::Result<Descriptor> priv = ParseMain("wpkh(" + S(kXprv) + "/0/*h)");
  ASSERT_TRUE(priv.ok());
  EXPECT_TRUE(priv.value().ExpandScripts(Ctx(), 0).ok());
  // Index 2^31 is out of range for "*".
  util::Result<Descriptor> ranged = ParseMain("wpkh(" + S(kXpub) + "/0/*)");
  ASSERT_TRUE(ranged.ok());
  EXPECT_FALSE(ranged.value().ExpandScripts(Ctx(), kHardened).ok());
  EXPECT_TRUE(ranged.value().ExpandScripts(Ctx(), kHardened - 1).ok());
}

TEST(DescriptorTest, MultipathSplitsIntoSinglePathDescriptors) {
  const std::string x = kXpub;
  util::Result<Descriptor> desc =
      ParseMain("wsh(sortedmulti(1,[deadbeef/48h/0h/0h/2h]" + x + "/<0;1>/*," + kKey1 + "))");
  ASSERT_TRUE(desc.ok()) << desc.status();
  EXPECT_EQ(desc.value().MultipathCount(), 2u);
  EXPECT_FALSE(desc.value().ExpandScripts(Ctx(), 0).ok());
  ExpectRoundTrip(desc.value().SplitMultipath()[0], 0);
  const std::vector<Descriptor> parts = desc.value().SplitMultipath();
  ASSERT_EQ(parts.size(), 2u);
  for (int i = 0; i < 2; ++i) {
    const std::string single = "wsh(sortedmulti(1,[deadbeef/48h/0h/0h/2h]" + x + "/" +
                               std::to_string(i) + "/*," + kKey1 + "))";
    util::Result<Descriptor> expected = ParseMain(single);
    ASSERT_TRUE(expected.ok());
    EXPECT_EQ(parts[i].ToString(), expected.value().ToString());
    EXPECT_EQ(parts[i].MultipathCount(), 1u);
    EXPECT_EQ(ScriptsHex(parts[i], 5), ScriptsHex(expected.value(), 5));
  }
  // The multipath form prints and parses back.
  util::Result<Descriptor> again = ParseMain(desc.value().ToString());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again.value().ToString(), desc.value().ToString());
  EXPECT_NE(desc.value().ToString().find("/<0;1>/*"), std::string::npos);
}

TEST(DescriptorTest, ExpandGivesScriptsAndOriginsForP2shP2wsh) {
  const std::string x = kXpub;
  util::Result<Descriptor> desc =
      ParseMain("sh(wsh(multi(1,[d34db33f/48h/0h/0h/1h]" + x + "/0/*," + kKey1 + ")))");
  ASSERT_TRUE(desc.ok()) << desc.status();
  util::Result<ScriptInfo> info = desc.value().Expand(Ctx(), 7);
  ASSERT_TRUE(info.ok()) << info.status();
  const ScriptInfo& si = info.value();
  ASSERT_TRUE(si.witness_script.has_value());
  ASSERT_TRUE(si.redeem_script.has_value());
  EXPECT_EQ(*si.redeem_script, P2wshScript(crypto::Sha256(si.witness_script->bytes())));
  EXPECT_EQ(si.script_pubkey, P2shScript(crypto::Hash160(si.redeem_script->bytes())));
  ASSERT_EQ(si.bip32_derivations.size(), 2u);
  const KeyOrigin& origin = si.bip32_derivations[0].second;
  EXPECT_EQ(origin.ToString(), "d34db33f/48'/0'/0'/1'/0/7");
  // The constant key has its own fingerprint and the empty path.
  const std::vector<uint8_t> k1 = *util::HexDecode(kKey1);
  EXPECT_EQ(si.bip32_derivations[1].first, k1);
  const crypto::Hash160Bytes id = crypto::Hash160(k1);
  EXPECT_TRUE(
      std::equal(id.begin(), id.begin() + 4, si.bip32_derivations[1].second.fingerprint.begin()));
  EXPECT_TRUE(si.bip32_derivations[1].second.path.steps.empty());
  // The derived key is in the witness script.
  const StandardScript multisig = Classify(*si.witness_script);
  ASSERT_EQ(multisig.kind, ScriptKind::kMultisig);
  EXPECT_EQ(multisig.solutions[1], si.bip32_derivations[0].first);
  // combo() has several scripts: Expand refuses it.
  util::Result<Descriptor> combo = ParseMain("combo(" + S(kKey1) + ")");
  ASSERT_TRUE(combo.ok());
  EXPECT_FALSE(combo.value().Expand(Ctx(), 0).ok());
}

TEST(DescriptorTest, ExpandGivesTaprootLeavesAndKeyOrigins) {
  const std::string x = kXpub;
  util::Result<Descriptor> desc =
      ParseMain("tr([d34db33f/86h/0h/0h]" + x + "/0/*,{multi_a(2,[d34db33f/1h]" + x + "/1/*," +
                kXOnly + "),pk([d34db33f/86h/0h/0h]" + x + "/0/*)})");
  ASSERT_TRUE(desc.ok()) << desc.status();
  util::Result<ScriptInfo> info = desc.value().Expand(Ctx(), 3);
  ASSERT_TRUE(info.ok()) << info.status();
  const ScriptInfo& si = info.value();
  ASSERT_TRUE(si.tap_internal_key.has_value());
  ASSERT_TRUE(si.tap_merkle_root.has_value());
  ASSERT_EQ(si.tap_leaves.size(), 2u);
  EXPECT_TRUE(MatchMultiA(si.tap_leaves[0].script).has_value());
  for (const TapLeafInfo& leaf : si.tap_leaves) {
    EXPECT_EQ(leaf.control_block.size(), 33u + 32u);
    EXPECT_EQ(leaf.control_block[0] & 0xfe, 0xc0);
  }
  // The internal key also signs leaf 2: one entry with that leaf's hash.
  ASSERT_EQ(si.tap_bip32_derivations.size(), 3u);
  EXPECT_EQ(si.tap_bip32_derivations[0].xonly_key, *si.tap_internal_key);
  EXPECT_EQ(si.tap_bip32_derivations[0].origin.ToString(), "d34db33f/86'/0'/0'/0/3");
  ASSERT_EQ(si.tap_bip32_derivations[0].leaf_hashes.size(), 1u);
  EXPECT_EQ(si.tap_bip32_derivations[0].leaf_hashes[0],
            ComputeTapleafHash(0xc0, si.tap_leaves[1].script));
  EXPECT_EQ(si.tap_bip32_derivations[1].origin.ToString(), "d34db33f/1'/1/3");
  EXPECT_TRUE(si.bip32_derivations.empty());
}

TEST(DescriptorTest, MatchScriptPubKeyUsesTheOriginsIndex) {
  const std::string x = kXpub;
  util::Result<Descriptor> desc = ParseMain("wpkh([d34db33f/84h/0h/0h]" + x + "/1/*)");
  ASSERT_TRUE(desc.ok()) << desc.status();
  util::Result<ScriptInfo> info = desc.value().Expand(Ctx(), 42);
  ASSERT_TRUE(info.ok());
  const Script& spk = info.value().script_pubkey;
  const std::vector<KeyOrigin> origins = {info.value().bip32_derivations[0].second};
  EXPECT_EQ(MatchScriptPubKey(Ctx(), desc.value(), spk, origins), 42u);
  // No origins: no blind scan.
  EXPECT_EQ(MatchScriptPubKey(Ctx(), desc.value(), spk, {}), std::nullopt);
  // A lying origin (index 41) does not match.
  KeyOrigin wrong = origins[0];
  wrong.path.steps.back() = 41;
  EXPECT_EQ(MatchScriptPubKey(Ctx(), desc.value(), spk, std::vector<KeyOrigin>{wrong}),
            std::nullopt);
  // Another branch (/0/42 instead of /1/42), another fingerprint, a hardened last step.
  KeyOrigin other = origins[0];
  other.path.steps[3] = 0;
  EXPECT_EQ(MatchScriptPubKey(Ctx(), desc.value(), spk, std::vector<KeyOrigin>{other}),
            std::nullopt);
  KeyOrigin fpr = origins[0];
  fpr.fingerprint[0] ^= 1;
  EXPECT_EQ(MatchScriptPubKey(Ctx(), desc.value(), spk, std::vector<KeyOrigin>{fpr}), std::nullopt);
  KeyOrigin hard = origins[0];
  hard.path.steps.back() |= kHardened;
  EXPECT_EQ(MatchScriptPubKey(Ctx(), desc.value(), spk, std::vector<KeyOrigin>{hard}),
            std::nullopt);
  // The right origin among wrong ones.
  EXPECT_EQ(
      MatchScriptPubKey(Ctx(), desc.value(), spk, std::vector<KeyOrigin>{wrong, other, origins[0]}),
      42u);
  // A script of another descriptor with the same origin does not match.
  util::Result<Descriptor> pkh = ParseMain("pkh([d34db33f/84h/0h/0h]" + x + "/1/*)");
  ASSERT_TRUE(pkh.ok());
  EXPECT_EQ(MatchScriptPubKey(Ctx(), pkh.value(), spk, origins), std::nullopt);
  // Multipath descriptors must be split first.
  util::Result<Descriptor> multi = ParseMain("wpkh([d34db33f/84h/0h/0h]" + x + "/<0;1>/*)");
  ASSERT_TRUE(multi.ok());
  EXPECT_EQ(MatchScriptPubKey(Ctx(), multi.value(), spk, origins), std::nullopt);
  EXPECT_EQ(MatchScriptPubKey(Ctx(), multi.value().SplitMultipath()[1], spk, origins), 42u);
}

TEST(DescriptorTest, MatchScriptPubKeyWithoutOriginUsesTheXpubFingerprint) {
  util::Result<Descriptor> desc = ParseMain("tr(" + S(kXpub) + "/0/*)");
  ASSERT_TRUE(desc.ok());
  util::Result<ScriptInfo> info = desc.value().Expand(Ctx(), 5);
  ASSERT_TRUE(info.ok());
  ASSERT_EQ(info.value().tap_bip32_derivations.size(), 1u);
  const std::vector<KeyOrigin> origins = {info.value().tap_bip32_derivations[0].origin};
  EXPECT_EQ(origins[0].path.ToString(), "m/0/5");
  EXPECT_EQ(MatchScriptPubKey(Ctx(), desc.value(), info.value().script_pubkey, origins), 5u);
  // A non-ranged descriptor matches at index 0 only by its script.
  util::Result<Descriptor> fixed = ParseMain("wpkh(" + S(kKey1) + ")");
  ASSERT_TRUE(fixed.ok());
  util::Result<std::vector<Script>> scripts = fixed.value().ExpandScripts(Ctx(), 0);
  ASSERT_TRUE(scripts.ok());
  EXPECT_EQ(MatchScriptPubKey(Ctx(), fixed.value(), scripts.value()[0], {}), 0u);
  EXPECT_EQ(MatchScriptPubKey(Ctx(), fixed.value(), info.value().script_pubkey, {}), std::nullopt);
}

// Error messages never repeat a private key, wherever it was misplaced.
TEST(DescriptorTest, ErrorsDoNotEchoPrivateKeys) {
  const std::string wif = "L4rK1yDtCWekvXuE6oXD9jCYfFNV2cWRpVuPLBcCU2z8TrisoyY1";
  const std::string hex_secret = "e8f32e723decf4051aefac8e2c93c9c5b214313817cdb01a1494b917c8436b35";
  const std::string xprv = kXprv;
  const std::vector<std::string> bad = {
      "pk(" + hex_secret + ")",
      wif,
      wif + "(" + kKey1 + ")",
      "pk(" + wif + "/0)",
      "pk(" + xprv + "x)",
      "wsh(" + wif + ")",
      "pk(" + wif.substr(0, 51) + ")",
      "tr(" + S(kXOnly) + "," + xprv + ")",
      "sh(" + xprv + "/0)",
      "pk(" + xprv + "/0)#00000000",
  };
  for (const std::string& text : bad) {
    util::Result<Descriptor> desc = ParseMain(text);
    ASSERT_FALSE(desc.ok()) << text;
    const std::string message = desc.status().message();
    for (const std::string& secret : {wif, hex_secret, xprv}) {
      for (size_t i = 0; i + 12 <= secret.size(); ++i) {
        ASSERT_EQ(message.find(secret.substr(i, 12)), std::string::npos) << message;
      }
    }
  }
}

TEST(DescriptorTest, ExpandShWpkhAndRawTr) {
  util::Result<Descriptor> sh = ParseMain("sh(wpkh([01020304/49h/0h/0h]" + S(kXpub) + "/0/*))");
  ASSERT_TRUE(sh.ok()) << sh.status();
  util::Result<ScriptInfo> info = sh.value().Expand(Ctx(), 2);
  ASSERT_TRUE(info.ok()) << info.status();
  ASSERT_TRUE(info.value().redeem_script.has_value());
  EXPECT_FALSE(info.value().witness_script.has_value());
  ASSERT_EQ(info.value().bip32_derivations.size(), 1u);
  const std::vector<uint8_t>& key = info.value().bip32_derivations[0].first;
  EXPECT_EQ(*info.value().redeem_script, P2wpkhScript(crypto::Hash160(key)));
  EXPECT_EQ(info.value().bip32_derivations[0].second.ToString(), "01020304/49'/0'/0'/0/2");

  util::Result<Descriptor> rawtr = ParseMain("rawtr(" + S(kXOnly) + ")");
  ASSERT_TRUE(rawtr.ok());
  util::Result<ScriptInfo> raw_info = rawtr.value().Expand(Ctx(), 0);
  ASSERT_TRUE(raw_info.ok());
  // The key is the output key itself: no internal key, no tweak.
  EXPECT_EQ(util::HexEncode(raw_info.value().script_pubkey.bytes()), "5120" + S(kXOnly));
  EXPECT_FALSE(raw_info.value().tap_internal_key.has_value());
  ASSERT_EQ(raw_info.value().tap_bip32_derivations.size(), 1u);
  EXPECT_TRUE(raw_info.value().tap_bip32_derivations[0].leaf_hashes.empty());
}

TEST(DescriptorTest, CloneKeepsPrivateKeys) {
  util::Result<Descriptor> desc = ParseMain(
      "wsh(multi(1," + S(kXprv) + "/0/*,L4rK1yDtCWekvXuE6oXD9jCYfFNV2cWRpVuPLBcCU2z8TrisoyY1))");
  ASSERT_TRUE(desc.ok()) << desc.status();
  const Descriptor copy = desc.value().Clone();
  EXPECT_EQ(copy.ToPrivateString(), desc.value().ToPrivateString());
  EXPECT_TRUE(copy.HasPrivateKeys());
}

// The largest input sizes are the figures wallets use for fee estimation (input weight =
// 4 * (36 outpoint + 4 sequence + scriptSig with its length) + witness): P2PKH 148 bytes, P2SH
// 2-of-3 multisig 297 bytes, P2WPKH 272 weight units, P2SH-P2WPKH 364, P2WSH 2-of-3 418, P2TR
// key path 230 with a 64-byte signature (231 with the 65 bytes assumed by default).
TEST(DescriptorTest, MaxSatisfactionSizeGivesTheKnownInputSizes) {
  const std::string k1 = kKey1;
  const std::string k2 = kKey2;
  const std::string x = kXpub;
  const std::string multi = "multi(2," + k1 + "," + k2 + "," + x + "/0/*)";
  struct Case {
    std::string descriptor;
    size_t script_sig_size;
    size_t witness_size;
  };
  const std::vector<Case> cases = {
      // <72-byte signature> <33-byte key>: 73 + 34.
      {"pkh(" + k1 + ")", 107, 0},
      // An uncompressed key is 32 bytes longer.
      {"pkh(" + S(kKeyUncompressed) + ")", 139, 0},
      {"pk(" + k1 + ")", 73, 0},
      // OP_0, two signatures, OP_PUSHDATA1 of the 105-byte script.
      {"sh(" + multi + ")", 1 + 2 * 73 + 2 + 105, 0},
      {"wpkh(" + x + "/0/*)", 0, 108},
      {"sh(wpkh(" + k1 + "))", 23, 108},
      // Count, empty dummy, two signatures, the 105-byte script.
      {"wsh(" + multi + ")", 0, 1 + 1 + 2 * 73 + 1 + 105},
      {"sh(wsh(" + multi + "))", 35, 1 + 1 + 2 * 73 + 1 + 105},
      {"tr(" + k1 + ")", 0, 67},
      {"rawtr(" + S(kXOnly) + ")", 0, 67},
      // Count 5; two signatures; one empty item; script 3 * 34 + OP_2 + OP_NUMEQUAL; control
      // block 33.
      {"tr(" + k1 + ",multi_a(2," + k1 + "," + k2 + "," + x + "/1/*))", 0,
       1 + 2 * 66 + 1 + 1 + 104 + 1 + 33},
      // The deeper leaf has the larger control block: 33 + 32.
      {"tr(" + k1 + ",{pk(" + k2 + "),{pk(" + k1 + "),pk(" + x + "/0/*)}})", 0,
       1 + 66 + 1 + 34 + 1 + 33 + 64},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.descriptor);
    util::Result<Descriptor> desc = ParseMain(c.descriptor);
    ASSERT_TRUE(desc.ok()) << desc.status();
    const std::optional<SatisfactionSize> size = desc.value().MaxSatisfactionSize();
    ASSERT_TRUE(size.has_value());
    EXPECT_EQ(size->script_sig_size, c.script_sig_size);
    EXPECT_EQ(size->witness_size, c.witness_size);
  }
}

TEST(DescriptorTest, MaxSatisfactionSizeUsesTheGivenSignatureSizes) {
  const std::string x = kXpub;
  util::Result<Descriptor> wsh =
      ParseMain("wsh(sortedmulti(2," + S(kKey1) + "," + S(kKey2) + "," + x + "/<0;1>/*))");
  ASSERT_TRUE(wsh.ok()) << wsh.status();
  const SignatureSizes low_r{.ecdsa = 71, .schnorr = 64};
  const std::optional<SatisfactionSize> large = wsh.value().MaxSatisfactionSize();
  const std::optional<SatisfactionSize> small = wsh.value().MaxSatisfactionSize(low_r);
  ASSERT_TRUE(large.has_value() && small.has_value());
  EXPECT_EQ(large->witness_size - small->witness_size, 2u);  // One byte per signature.
  // Multipath alternatives have the same size.
  for (const Descriptor& part : wsh.value().SplitMultipath()) {
    EXPECT_EQ(part.MaxSatisfactionSize(), large);
  }
  util::Result<Descriptor> tr = ParseMain("tr(" + S(kKey1) + ")");
  ASSERT_TRUE(tr.ok());
  EXPECT_EQ(tr.value().MaxSatisfactionSize(low_r)->witness_size, 66u);
}

TEST(DescriptorTest, MaxSatisfactionSizeIsUnknownWithoutOneScript) {
  for (const std::string& text : {"combo(" + S(kKey1) + ")", S("raw(deadbeef)"),
                                  S("addr(3PUNyaW7M55oKWJ3kDukwk9bsKvryra15j)")}) {
    util::Result<Descriptor> desc = ParseMain(text);
    ASSERT_TRUE(desc.ok()) << text;
    EXPECT_EQ(desc.value().MaxSatisfactionSize(), std::nullopt) << text;
  }
}

// The public key at `key_text`'s extended key derived along `steps`, step by step from the key
// itself (not through a descriptor).
std::vector<uint8_t> DerivedPubkey(const std::string& key_text,
                                   const std::vector<uint32_t>& steps) {
  util::Result<ExtendedKey> key = ExtendedKey::Parse(Ctx(), key_text);
  EXPECT_TRUE(key.ok()) << key.status();
  if (!key.ok()) return {};
  util::Result<ExtendedKey> child = key.value().DerivePath(Ctx(), KeyPath{steps});
  EXPECT_TRUE(child.ok()) << child.status();
  if (!child.ok()) return {};
  return child.value().public_key().Serialize();
}

// Parse derives each extended key along its fixed steps once (per multipath alternative) and
// Expand derives one child from there; the keys must be the ones the whole path gives, for
// xpubs and xprvs, hardened prefixes, unranged keys, "*'" keys (not cached) and both branches.
TEST(DescriptorTest, ExpandGivesTheKeysOfTheWholePath) {
  const std::string x = kXpub;
  const std::string v = kXprv;
  struct Case {
    std::string descriptor;  // One key: `key_text` with steps, then maybe "*".
    std::string key_text;
    size_t branch;                // Which multipath alternative to expand.
    std::vector<uint32_t> steps;  // Below the key, before the index.
    bool ranged;
    bool hardened_index;
  };
  const std::vector<Case> cases = {
      {"wpkh([d34db33f/84h/0h/0h]" + x + "/<0;1>/*)", x, 0, {0}, true, false},
      {"wpkh([d34db33f/84h/0h/0h]" + x + "/<0;1>/*)", x, 1, {1}, true, false},
      {"wpkh(" + x + "/7/<3;9>/2/*)", x, 1, {7, 9, 2}, true, false},
      {"wpkh(" + x + "/*)", x, 0, {}, true, false},
      {"wpkh(" + x + "/5/6)", x, 0, {5, 6}, false, false},
      {"wpkh(" + v + "/1h/<0;1>/*)", v, 1, {1 | kHardened, 1}, true, false},
      {"wpkh(" + v + "/1h/*h)", v, 0, {1 | kHardened}, true, true},
      {"tr(" + x + "/<0;1>/*)", x, 1, {1}, true, false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.descriptor + " alternative " + std::to_string(c.branch));
    util::Result<Descriptor> parsed = ParseMain(c.descriptor);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    std::vector<Descriptor> parts = parsed.value().SplitMultipath();
    ASSERT_LT(c.branch, parts.size());
    // A clone expands like the original.
    const Descriptor desc = parts[c.branch].Clone();
    for (uint32_t index : {0u, 1u, 77u, kHardened - 1}) {
      SCOPED_TRACE(index);
      util::Result<ScriptInfo> info = desc.Expand(Ctx(), index);
      ASSERT_TRUE(info.ok()) << info.status();
      std::vector<uint32_t> steps = c.steps;
      if (c.ranged) steps.push_back(c.hardened_index ? (index | kHardened) : index);
      const std::vector<uint8_t> expected = DerivedPubkey(c.key_text, steps);
      ASSERT_EQ(expected.size(), 33u);
      std::vector<uint32_t> origin_steps;
      if (c.descriptor.starts_with("tr(")) {
        ASSERT_EQ(info.value().tap_bip32_derivations.size(), 1u);
        const TapKeyOrigin& tap = info.value().tap_bip32_derivations[0];
        EXPECT_TRUE(std::equal(tap.xonly_key.begin(), tap.xonly_key.end(), expected.begin() + 1));
        origin_steps = tap.origin.path.steps;
      } else {
        ASSERT_EQ(info.value().bip32_derivations.size(), 1u);
        EXPECT_EQ(util::HexEncode(info.value().bip32_derivations[0].first),
                  util::HexEncode(expected));
        origin_steps = info.value().bip32_derivations[0].second.path.steps;
      }
      // The origin path ends with the key's own steps.
      ASSERT_GE(origin_steps.size(), steps.size());
      EXPECT_TRUE(std::equal(steps.begin(), steps.end(), origin_steps.end() - std::ssize(steps)));
    }
  }
}

// Expansion fails exactly as it did when every step was derived from the key: the failing step
// is named the same way whether or not the steps above it were derived at parse time.
TEST(DescriptorTest, ExpandAtDepth255FailsNamingTheStep) {
  util::Result<ExtendedKey> key = ExtendedKey::Parse(Ctx(), kXpub);
  ASSERT_TRUE(key.ok());
  ExtendedKey deep = std::move(key).value();
  while (deep.depth() < 254) {
    util::Result<ExtendedKey> child = deep.Derive(Ctx(), 0);
    ASSERT_TRUE(child.ok());
    deep = std::move(child).value();
  }
  // Depth 254: one step fits, the index does not.
  util::Result<Descriptor> ranged = ParseMain("wpkh(" + deep.ToString() + "/0/*)");
  ASSERT_TRUE(ranged.ok()) << ranged.status();
  util::Result<ScriptInfo> info = ranged.value().Expand(Ctx(), 3);
  ASSERT_FALSE(info.ok());
  EXPECT_NE(info.status().message().find("key path step 2: bip32: depth 255 cannot be extended"),
            std::string::npos)
      << info.status();
  // Two fixed steps do not fit: nothing is derived at parse time, and the same step fails.
  util::Result<Descriptor> fixed = ParseMain("wpkh(" + deep.ToString() + "/0/1)");
  ASSERT_TRUE(fixed.ok()) << fixed.status();
  info = fixed.value().Expand(Ctx(), 0);
  ASSERT_FALSE(info.ok());
  EXPECT_NE(info.status().message().find("key path step 2: bip32: depth 255 cannot be extended"),
            std::string::npos)
      << info.status();
}

// An alternative that cannot be derived (a hardened step below an xpub) fails to expand as it
// did before keys were derived at parse time, and does not stop the other from expanding.
TEST(DescriptorTest, ExpandWithAnAlternativeThatDoesNotDerive) {
  util::Result<Descriptor> desc = ParseMain("wpkh(" + S(kXpub) + "/<0;1h>/*)");
  ASSERT_TRUE(desc.ok()) << desc.status();
  const std::vector<Descriptor> parts = desc.value().SplitMultipath();
  ASSERT_EQ(parts.size(), 2u);
  util::Result<ScriptInfo> info = parts[0].Expand(Ctx(), 4);
  ASSERT_TRUE(info.ok()) << info.status();
  ASSERT_EQ(info.value().bip32_derivations.size(), 1u);
  EXPECT_EQ(util::HexEncode(info.value().bip32_derivations[0].first),
            util::HexEncode(DerivedPubkey(kXpub, {0, 4})));
  util::Result<ScriptInfo> hardened = parts[1].Expand(Ctx(), 4);
  ASSERT_FALSE(hardened.ok());
  EXPECT_NE(hardened.status().message().find("hardened derivation needs the private key"),
            std::string::npos)
      << hardened.status();
}

// MatchScriptInfo finds what MatchScriptPubKey finds, with Expand's ScriptInfo at that index
// (for combo(), the matching script's).
TEST(DescriptorTest, MatchScriptInfoReturnsTheExpansionAtTheIndex) {
  const std::string x = kXpub;
  util::Result<Descriptor> desc =
      ParseMain("sh(wsh(sortedmulti(1,[d34db33f/48h/0h/0h/1h]" + x + "/1/*," + kKey1 + ")))");
  ASSERT_TRUE(desc.ok()) << desc.status();
  util::Result<ScriptInfo> info = desc.value().Expand(Ctx(), 42);
  ASSERT_TRUE(info.ok());
  std::vector<KeyOrigin> origins;
  for (const auto& [pubkey, origin] : info.value().bip32_derivations) origins.push_back(origin);
  std::optional<ScriptMatch> match =
      MatchScriptInfo(Ctx(), desc.value(), info.value().script_pubkey, origins);
  ASSERT_TRUE(match.has_value());
  EXPECT_EQ(match->index, 42u);
  EXPECT_EQ(match->info.script_pubkey, info.value().script_pubkey);
  EXPECT_EQ(match->info.redeem_script, info.value().redeem_script);
  EXPECT_EQ(match->info.witness_script, info.value().witness_script);
  EXPECT_EQ(match->info.bip32_derivations, info.value().bip32_derivations);
  // No origin naming index 42: no match, as MatchScriptPubKey.
  KeyOrigin wrong = origins[0];
  wrong.path.steps.back() = 41;
  EXPECT_EQ(MatchScriptInfo(Ctx(), desc.value(), info.value().script_pubkey,
                            std::vector<KeyOrigin>{wrong, origins[1]}),
            std::nullopt);

  // combo(): the ScriptInfo of the script that matched (P2SH-P2WPKH has a redeem script).
  util::Result<Descriptor> combo = ParseMain("combo(" + S(kKey1) + ")");
  ASSERT_TRUE(combo.ok());
  util::Result<std::vector<Script>> scripts = combo.value().ExpandScripts(Ctx(), 0);
  ASSERT_TRUE(scripts.ok());
  ASSERT_EQ(scripts.value().size(), 4u);
  for (size_t i = 0; i < scripts.value().size(); ++i) {
    SCOPED_TRACE(i);
    std::optional<ScriptMatch> found =
        MatchScriptInfo(Ctx(), combo.value(), scripts.value()[i], {});
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(found->index, 0u);
    EXPECT_EQ(found->info.script_pubkey, scripts.value()[i]);
    EXPECT_EQ(found->info.redeem_script.has_value(), i == 3);
  }
}

}  // namespace
}  // namespace kinko::btc
