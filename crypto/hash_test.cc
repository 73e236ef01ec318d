#include "crypto/hash.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "util/hex.h"

namespace kinko::crypto {
namespace {

std::span<const uint8_t> Bytes(std::string_view s) {
  return std::span(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

std::vector<uint8_t> Hex(std::string_view hex) {
  util::Result<std::vector<uint8_t>> bytes = util::HexDecode(hex);
  EXPECT_TRUE(bytes.ok()) << hex;
  return bytes.ok() ? *bytes : std::vector<uint8_t>();
}

// FIPS 180-2 appendix B/C examples: "abc" and the 448-bit message.
constexpr std::string_view kAbc = "abc";
constexpr std::string_view k448Bits = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";

TEST(HashTest, Sha256Fips180KnownAnswers) {
  EXPECT_EQ(util::HexEncode(Sha256(Bytes(kAbc))),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(util::HexEncode(Sha256(Bytes(k448Bits))),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(util::HexEncode(Sha256({})),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(HashTest, Sha512Fips180KnownAnswers) {
  EXPECT_EQ(util::HexEncode(Sha512(Bytes(kAbc))),
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
            "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
  EXPECT_EQ(util::HexEncode(Sha512(Bytes(k448Bits))),
            "204a8fc6dda82f0a0ced7beb8e08a41657c16ef468b228a8279be331a703c335"
            "96fd15c13b1b07f9aa1d3bea57789ca031ad85c7a71dd70354ec631238ca3445");
}

// Dobbertin, Bosselaers, Preneel: "RIPEMD-160: A Strengthened Version of RIPEMD", test values.
TEST(HashTest, Ripemd160PaperKnownAnswers) {
  EXPECT_EQ(util::HexEncode(Ripemd160({})), "9c1185a5c5e9fc54612808977ee8f548b2258d31");
  EXPECT_EQ(util::HexEncode(Ripemd160(Bytes(kAbc))), "8eb208f7e05d987a9b044a8e98c6b087f15a0bfc");
  EXPECT_EQ(util::HexEncode(Ripemd160(Bytes("message digest"))),
            "5d0689ef49d2fae572b881b123a85ffa21595f36");
}

TEST(HashTest, Hash160OfGeneratorIsBip173WitnessProgram) {
  // BIP173: bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4 is P2WPKH of the compressed generator G.
  const std::vector<uint8_t> g =
      Hex("0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798");
  EXPECT_EQ(util::HexEncode(Hash160(g)), "751e76e8199196d454941c45d1b3a323f1433bd6");
}

TEST(HashTest, Hash256IsDoubleSha256) {
  // SHA256(SHA256("abc")), the digest above hashed again.
  EXPECT_EQ(util::HexEncode(Hash256(Bytes(kAbc))),
            "4f8b42c22dd3729b519ba6f68d2da7cc5b2d606d05daed5ad5128cc03e6c6358");
  const std::vector<uint8_t> first =
      Hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Hash256(Bytes(kAbc)), Sha256(first));
}

struct HmacCase {
  std::vector<uint8_t> key;
  std::vector<uint8_t> data;
  std::string_view expected;
};

// RFC 4231 section 4, test cases 1-4, HMAC-SHA-512 outputs.
TEST(HashTest, HmacSha512Rfc4231Cases1To4) {
  std::vector<uint8_t> key4;
  for (uint8_t b = 1; b <= 25; ++b) key4.push_back(b);
  const std::string_view hi_there = "Hi There";
  const std::string_view jefe_data = "what do ya want for nothing?";
  const std::vector<HmacCase> cases = {
      {std::vector<uint8_t>(20, 0x0b), std::vector<uint8_t>(hi_there.begin(), hi_there.end()),
       "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
       "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854"},
      {std::vector<uint8_t>{'J', 'e', 'f', 'e'},
       std::vector<uint8_t>(jefe_data.begin(), jefe_data.end()),
       "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
       "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"},
      {std::vector<uint8_t>(20, 0xaa), std::vector<uint8_t>(50, 0xdd),
       "fa73b0089d56a284efb0f0756c890be9b1b5dbdd8ee81a3655f83e33b2279d39"
       "bf3e848279a722c806b485a47e67c807b946a337bee8942674278859e13292fb"},
      {key4, std::vector<uint8_t>(50, 0xcd),
       "b0ba465637458c6990e5a8c5f61d4af7e576d97ff94b872de76f8050361ee3db"
       "a91ca5c11aa25eb4d679275cc5788063a5f19741120c4f2de2adebeb10a298dd"},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    EXPECT_EQ(util::HexEncode(HmacSha512(cases[i].key, cases[i].data)), cases[i].expected)
        << "RFC 4231 case " << i + 1;
  }
}

TEST(HashTest, StreamingInPiecesEqualsOneShot) {
  std::vector<uint8_t> data(1000);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 7 + 3);
  const Hash256Bytes one_shot = Sha256(data);
  for (size_t piece : {1u, 3u, 63u, 64u, 65u, 500u, 1000u}) {
    Sha256Hasher hasher;
    for (size_t pos = 0; pos < data.size(); pos += piece) {
      hasher.Write(std::span(data).subspan(pos, std::min(piece, data.size() - pos)));
    }
    EXPECT_EQ(hasher.Finalize(), one_shot) << "piece size " << piece;
  }
  Sha256Hasher empty;
  EXPECT_EQ(empty.Write({}).Finalize(), Sha256({}));
}

TEST(HashTest, TaggedHashFollowsBip340Definition) {
  // BIP340: tagged_hash(tag, x) = SHA256(SHA256(tag) || SHA256(tag) || x).
  const std::string_view tag = "BIP0340/challenge";
  const Hash256Bytes tag_hash = Sha256(Bytes(tag));
  std::vector<uint8_t> preimage(tag_hash.begin(), tag_hash.end());
  preimage.insert(preimage.end(), tag_hash.begin(), tag_hash.end());
  const std::string_view msg = "some message";
  preimage.insert(preimage.end(), msg.begin(), msg.end());
  EXPECT_EQ(TaggedHash(tag, Bytes(msg)), Sha256(preimage));
}

TEST(HashTest, TaggedHasherMidstateCopyEqualsFreshComputation) {
  const Sha256Hasher midstate = TaggedHasher("TapLeaf");
  for (std::string_view msg : {"", "a",
                               "a longer message than one sha256 block of sixty-four"
                               " bytes, to cross the block boundary"}) {
    Sha256Hasher copy = midstate;
    EXPECT_EQ(copy.Write(Bytes(msg)).Finalize(), TaggedHash("TapLeaf", Bytes(msg))) << msg;
  }
  // Copy-assignment and moves carry the state too.
  Sha256Hasher assigned;
  assigned = midstate;
  Sha256Hasher moved = std::move(assigned);
  EXPECT_EQ(moved.Write(Bytes(kAbc)).Finalize(), TaggedHash("TapLeaf", Bytes(kAbc)));
  // Different tags give different hashes.
  EXPECT_NE(TaggedHash("TapLeaf", Bytes(kAbc)), TaggedHash("TapBranch", Bytes(kAbc)));
}

}  // namespace
}  // namespace kinko::crypto
