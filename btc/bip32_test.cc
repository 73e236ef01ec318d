#include "btc/bip32.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "crypto/hash.h"
#include "crypto/key_export.h"
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

// BIP32 test vectors 1-5: every chain's xprv and xpub from the seed along its path; the
// non-hardened steps also by public derivation from the nearest xpub; parsing and printing
// every key; and every invalid key of vector 5 rejected.
TEST(Bip32Test, ValidVectors) {
  const nlohmann::json vectors = ReadVectors("bip32_test_vectors.json");
  size_t chains = 0;
  size_t public_derivations = 0;
  for (const auto& vector : vectors["valid"]) {
    const std::vector<uint8_t> seed = *util::HexDecode(vector["seed_hex"].get<std::string>());
    util::Result<ExtendedKey> master = ExtendedKey::FromSeed(Ctx(), seed, Network::kMainnet);
    ASSERT_TRUE(master.ok()) << master.status();
    for (const auto& chain : vector["chains"]) {
      const std::string xprv = chain["xprv"].get<std::string>();
      const std::string xpub = chain["xpub"].get<std::string>();
      util::Result<KeyPath> path = KeyPath::Parse(chain["path"].get<std::string>());
      ASSERT_TRUE(path.ok()) << path.status();

      util::Result<ExtendedKey> key = master->DerivePath(Ctx(), *path);
      ASSERT_TRUE(key.ok()) << key.status();
      EXPECT_EQ(key->ToString(), xprv);
      EXPECT_EQ(key->Neuter().ToString(), xpub);
      EXPECT_EQ(key->depth(), path->steps.size());
      EXPECT_TRUE(key->IsPrivate());
      EXPECT_TRUE(key->IsMainnet());

      util::Result<ExtendedKey> parsed_prv = ExtendedKey::Parse(Ctx(), xprv);
      ASSERT_TRUE(parsed_prv.ok()) << parsed_prv.status();
      EXPECT_EQ(parsed_prv->ToString(), xprv);
      EXPECT_EQ(parsed_prv->Neuter().ToString(), xpub);
      util::Result<ExtendedKey> parsed_pub = ExtendedKey::Parse(Ctx(), xpub);
      ASSERT_TRUE(parsed_pub.ok()) << parsed_pub.status();
      EXPECT_EQ(parsed_pub->ToString(), xpub);
      EXPECT_FALSE(parsed_pub->IsPrivate());
      EXPECT_EQ(parsed_pub->private_key(), nullptr);
      EXPECT_EQ(parsed_pub->public_key(), key->public_key());
      EXPECT_EQ(parsed_pub->chain_code(), key->chain_code());
      if (!path->steps.empty()) {
        EXPECT_EQ(parsed_pub->child_number(), path->steps.back());
      }

      // Public derivation: from the deepest hardened ancestor's xpub, down the normal steps.
      size_t first_normal = path->steps.size();
      while (first_normal > 0 && (path->steps[first_normal - 1] & kHardened) == 0) {
        --first_normal;
      }
      if (first_normal < path->steps.size()) {
        KeyPath head{{path->steps.begin(), path->steps.begin() + first_normal}};
        KeyPath tail{{path->steps.begin() + first_normal, path->steps.end()}};
        ExtendedKey ancestor = master->DerivePath(Ctx(), head)->Neuter();
        util::Result<ExtendedKey> derived = ancestor.DerivePath(Ctx(), tail);
        ASSERT_TRUE(derived.ok()) << derived.status();
        EXPECT_EQ(derived->ToString(), xpub);
        ++public_derivations;
      }
      ++chains;
    }
  }
  EXPECT_EQ(chains, 17u);
  EXPECT_EQ(public_derivations, 6u);
}

TEST(Bip32Test, InvalidExtendedKeysAreRejected) {
  const nlohmann::json vectors = ReadVectors("bip32_test_vectors.json");
  size_t rejected = 0;
  for (const auto& v : vectors["invalid_extended_keys"]) {
    util::Result<ExtendedKey> key = ExtendedKey::Parse(Ctx(), v["key"].get<std::string>());
    EXPECT_FALSE(key.ok()) << v["key"] << " (" << v["reason"] << ")";
    if (!key.ok()) {
      EXPECT_EQ(key.status().code(), util::StatusCode::kInvalidArgument);
    }
    ++rejected;
  }
  EXPECT_EQ(rejected, 16u);
}

TEST(Bip32Test, ChildrenCarryTheParentFingerprint) {
  const std::vector<uint8_t> seed(32, 0x5a);
  ExtendedKey master = *ExtendedKey::FromSeed(Ctx(), seed, Network::kMainnet);
  EXPECT_EQ(master.parent_fingerprint(), (std::array<uint8_t, 4>{}));
  ExtendedKey child = *master.Derive(Ctx(), 7 | kHardened);
  EXPECT_EQ(child.parent_fingerprint(), master.Fingerprint());
  // Fingerprint() is the first 4 bytes of HASH160 of the compressed public key.
  const crypto::Hash160Bytes id = crypto::Hash160(master.public_key().SerializeCompressed());
  EXPECT_EQ(master.Fingerprint(), (std::array<uint8_t, 4>{id[0], id[1], id[2], id[3]}));
}

TEST(Bip32Test, HardenedDerivationFromPublicKeyFails) {
  const std::vector<uint8_t> seed(16, 1);
  ExtendedKey xpub = ExtendedKey::FromSeed(Ctx(), seed, Network::kMainnet)->Neuter();
  util::Result<ExtendedKey> child = xpub.Derive(Ctx(), kHardened);
  ASSERT_FALSE(child.ok());
  EXPECT_EQ(child.status().code(), util::StatusCode::kInvalidArgument);
  EXPECT_TRUE(xpub.Derive(Ctx(), kHardened - 1).ok());
  util::Result<ExtendedKey> via_path = xpub.DerivePath(Ctx(), *KeyPath::Parse("m/0/1'"));
  ASSERT_FALSE(via_path.ok());
  EXPECT_NE(via_path.status().message().find("key path step 2"), std::string::npos);
}

TEST(Bip32Test, FromSeedChecksSeedSizeAndNetwork) {
  EXPECT_FALSE(ExtendedKey::FromSeed(Ctx(), std::vector<uint8_t>(15, 1), Network::kMainnet).ok());
  EXPECT_FALSE(ExtendedKey::FromSeed(Ctx(), std::vector<uint8_t>(65, 1), Network::kMainnet).ok());
  EXPECT_TRUE(ExtendedKey::FromSeed(Ctx(), std::vector<uint8_t>(64, 1), Network::kMainnet).ok());
  for (Network network : {Network::kTestnet, Network::kSignet, Network::kRegtest}) {
    ExtendedKey key = *ExtendedKey::FromSeed(Ctx(), std::vector<uint8_t>(16, 1), network);
    EXPECT_FALSE(key.IsMainnet());
    EXPECT_EQ(key.ToString().substr(0, 4), "tprv");
    EXPECT_EQ(key.Neuter().ToString().substr(0, 4), "tpub");
    util::Result<ExtendedKey> back = ExtendedKey::Parse(Ctx(), key.ToString());
    ASSERT_TRUE(back.ok());
    EXPECT_FALSE(back->IsMainnet());
  }
}

TEST(Bip32Test, CloneCopiesThePrivateKey) {
  ExtendedKey key = *ExtendedKey::FromSeed(Ctx(), std::vector<uint8_t>(20, 3), Network::kMainnet);
  ExtendedKey copy = key.Clone();
  EXPECT_EQ(copy.ToString(), key.ToString());
  ASSERT_NE(copy.private_key(), nullptr);
  EXPECT_NE(copy.private_key(), key.private_key());
  EXPECT_EQ(crypto::ExportPrivateKeyBytes(*copy.private_key()),
            crypto::ExportPrivateKeyBytes(*key.private_key()));
}

TEST(Bip32Test, DepthStopsAt255) {
  ExtendedKey key = *ExtendedKey::FromSeed(Ctx(), std::vector<uint8_t>(16, 9), Network::kMainnet);
  KeyPath path{std::vector<uint32_t>(255, 0)};
  util::Result<ExtendedKey> deep = key.Neuter().DerivePath(Ctx(), path);
  ASSERT_TRUE(deep.ok()) << deep.status();
  EXPECT_EQ(deep->depth(), 255);
  EXPECT_FALSE(deep->Derive(Ctx(), 0).ok());
}

TEST(KeyPathTest, ParsesAndPrints) {
  const struct {
    const char* text;
    std::vector<uint32_t> steps;
    const char* printed;
  } cases[] = {
      {"m", {}, "m"},
      {"m/0", {0}, "m/0"},
      {"m/48'/0'/0'/2'", {48 | kHardened, kHardened, kHardened, 2 | kHardened}, "m/48'/0'/0'/2'"},
      {"m/48h/0h", {48 | kHardened, kHardened}, "m/48'/0'"},
      {"m/0H/1/2H", {kHardened, 1, 2 | kHardened}, "m/0'/1/2'"},
      {"48'/0", {48 | kHardened, 0}, "m/48'/0"},
      {"2147483647", {0x7fffffff}, "m/2147483647"},
      {"m/2147483647'", {0xffffffff}, "m/2147483647'"},
  };
  for (const auto& c : cases) {
    util::Result<KeyPath> path = KeyPath::Parse(c.text);
    ASSERT_TRUE(path.ok()) << c.text << ": " << path.status();
    EXPECT_EQ(path->steps, c.steps) << c.text;
    EXPECT_EQ(path->ToString(), c.printed);
    util::Result<KeyPath> again = KeyPath::Parse(path->ToString());
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(*again, *path);
  }
}

void ExpectPathRejected(std::string_view text, std::string_view message_part) {
  util::Result<KeyPath> path = KeyPath::Parse(text);
  ASSERT_FALSE(path.ok()) << text;
  EXPECT_EQ(path.status().code(), util::StatusCode::kInvalidArgument);
  EXPECT_NE(path.status().message().find(message_part), std::string::npos)
      << text << ": " << path.status().message();
}

TEST(KeyPathTest, RejectsEachRule) {
  ExpectPathRejected("", "empty");
  ExpectPathRejected("m/", "step 1: empty");
  ExpectPathRejected("m//1", "step 1: empty");
  ExpectPathRejected("/1", "step 1: empty");
  ExpectPathRejected("1/", "step 2: empty");
  ExpectPathRejected("m/1/", "step 2: empty");
  ExpectPathRejected("m/1a", "not a number");
  ExpectPathRejected("m/*", "not a number");
  ExpectPathRejected("m/<0;1>", "not a number");
  ExpectPathRejected("m/-1", "not a number");
  ExpectPathRejected("m/+1", "not a number");
  ExpectPathRejected("m/ 1", "not a number");
  ExpectPathRejected("m/01", "leading zero");
  ExpectPathRejected("m/2147483648", "2^31");
  ExpectPathRejected("m/2147483648'", "2^31");
  ExpectPathRejected("m/99999999999999999999", "2^31");
  ExpectPathRejected("m/1''", "not a number");
  ExpectPathRejected("m/'", "no index");
  ExpectPathRejected("mm/1", "expected '/'");
  ExpectPathRejected("M/1", "not a number");
}

TEST(KeyOriginTest, ParsesAndPrints) {
  util::Result<KeyOrigin> origin = KeyOrigin::Parse("d34db33f/48'/0'/0'/2'");
  ASSERT_TRUE(origin.ok()) << origin.status();
  EXPECT_EQ(origin->fingerprint, (std::array<uint8_t, 4>{0xd3, 0x4d, 0xb3, 0x3f}));
  EXPECT_EQ(origin->path, *KeyPath::Parse("m/48'/0'/0'/2'"));
  EXPECT_EQ(origin->ToString(), "d34db33f/48'/0'/0'/2'");

  util::Result<KeyOrigin> bare = KeyOrigin::Parse("D34DB33F");
  ASSERT_TRUE(bare.ok());
  EXPECT_TRUE(bare->path.steps.empty());
  EXPECT_EQ(bare->ToString(), "d34db33f");

  util::Result<KeyOrigin> h_form = KeyOrigin::Parse("00000000/0h/1");
  ASSERT_TRUE(h_form.ok());
  EXPECT_EQ(h_form->ToString(), "00000000/0'/1");
  EXPECT_EQ(*KeyOrigin::Parse(h_form->ToString()), *h_form);
}

TEST(KeyOriginTest, RejectsEachRule) {
  for (const char* text :
       {"", "d34db33", "d34db33g", "d34db33f0", "d34db33f/", "d34db33f/m/1", "d34db33f//1",
        "d34db33f/01", "d34db33f/2147483648", " d34db33f", "0xd34db33f"}) {
    util::Result<KeyOrigin> origin = KeyOrigin::Parse(text);
    EXPECT_FALSE(origin.ok()) << text;
    if (!origin.ok()) {
      EXPECT_EQ(origin.status().code(), util::StatusCode::kInvalidArgument);
    }
  }
}

}  // namespace
}  // namespace kinko::btc
