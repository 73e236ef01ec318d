#include "crypto/secp256k1.h"

#include <gtest/gtest.h>
#include <secp256k1.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/hash.h"
#include "crypto/internal/lax_der.h"
#include "util/hex.h"

namespace kinko::crypto {
namespace {

std::vector<uint8_t> Hex(std::string_view hex) {
  util::Result<std::vector<uint8_t>> bytes = util::HexDecode(hex);
  EXPECT_TRUE(bytes.ok()) << hex;
  return bytes.ok() ? *bytes : std::vector<uint8_t>();
}

template <size_t N>
std::array<uint8_t, N> HexArray(std::string_view hex) {
  const std::vector<uint8_t> bytes = Hex(hex);
  std::array<uint8_t, N> out{};
  EXPECT_EQ(bytes.size(), N) << hex;
  std::copy_n(bytes.begin(), std::min(N, bytes.size()), out.begin());
  return out;
}

std::span<const uint8_t> Bytes(std::string_view s) {
  return std::span(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

std::string ReadVectorFile(std::string_view name) {
  std::ifstream in(std::string(KINKO_VECTORS_DIR) + "/" + std::string(name));
  EXPECT_TRUE(in.good()) << name;
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// A deterministic Rng for tests: SHA-256(seed || counter) blocks. Not thread-safe.
class TestRng final : public Rng {
 public:
  explicit TestRng(uint32_t seed) : seed_(seed) {}
  void Fill(std::span<uint8_t> out) override {
    for (size_t pos = 0; pos < out.size(); pos += 32) {
      const std::array<uint8_t, 8> input = {
          static_cast<uint8_t>(seed_),          static_cast<uint8_t>(seed_ >> 8),
          static_cast<uint8_t>(seed_ >> 16),    static_cast<uint8_t>(seed_ >> 24),
          static_cast<uint8_t>(counter_),       static_cast<uint8_t>(counter_ >> 8),
          static_cast<uint8_t>(counter_ >> 16), static_cast<uint8_t>(counter_ >> 24)};
      ++counter_;
      const Hash256Bytes block = Sha256(input);
      std::copy_n(block.begin(), std::min<size_t>(32, out.size() - pos), out.begin() + pos);
    }
  }

 private:
  uint32_t seed_;
  uint32_t counter_ = 0;
};

PrivateKey KeyFromHex(std::string_view hex) {
  util::Result<PrivateKey> key = PrivateKey::FromBytes(Hex(hex));
  EXPECT_TRUE(key.ok()) << hex;
  return std::move(key).value();
}

class Secp256k1Test : public ::testing::Test {
 protected:
  Secp256k1Test() : rng_(1), ctx_(Secp256k1Context::Create(rng_)) {}
  TestRng rng_;
  Secp256k1Context ctx_;
};

// The group order n, big-endian.
constexpr std::string_view kOrderHex =
    "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141";

// n - x for 0 < x < n, as 32 big-endian bytes.
std::array<uint8_t, 32> OrderMinus(std::span<const uint8_t, 32> x) {
  const std::array<uint8_t, 32> order = HexArray<32>(kOrderHex);
  std::array<uint8_t, 32> out;
  int borrow = 0;
  for (size_t i = 32; i-- > 0;) {
    int diff = order[i] - x[i] - borrow;
    borrow = diff < 0 ? 1 : 0;
    out[i] = static_cast<uint8_t>(diff + 256 * borrow);
  }
  return out;
}

// DER INTEGER content for a 32-byte big-endian value, minimal: leading zeros dropped and a
// 0x00 prepended when the top bit is set.
std::vector<uint8_t> MinimalInteger(std::span<const uint8_t> value) {
  size_t start = 0;
  while (start + 1 < value.size() && value[start] == 0) ++start;
  std::vector<uint8_t> out(value.begin() + static_cast<ptrdiff_t>(start), value.end());
  if (out[0] & 0x80) out.insert(out.begin(), 0x00);
  return out;
}

std::vector<uint8_t> DerSequence(std::span<const uint8_t> r_content,
                                 std::span<const uint8_t> s_content) {
  std::vector<uint8_t> out;
  out.reserve(6 + r_content.size() + s_content.size());
  out.push_back(0x30);
  out.push_back(static_cast<uint8_t>(4 + r_content.size() + s_content.size()));
  out.push_back(0x02);
  out.push_back(static_cast<uint8_t>(r_content.size()));
  for (uint8_t b : r_content) out.push_back(b);
  out.push_back(0x02);
  out.push_back(static_cast<uint8_t>(s_content.size()));
  for (uint8_t b : s_content) out.push_back(b);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Context and keys

TEST_F(Secp256k1Test, ContextIsMovable) {
  Secp256k1Context moved = std::move(ctx_);
  EXPECT_NE(moved.raw(), nullptr);
  EXPECT_EQ(ctx_.raw(), nullptr);  // NOLINT(bugprone-use-after-move): the point of the test.
  ctx_ = std::move(moved);
  EXPECT_NE(ctx_.raw(), nullptr);
}

TEST(PrivateKeyTest, FromBytesChecksRange) {
  const std::array<uint8_t, 32> order = HexArray<32>(kOrderHex);
  EXPECT_FALSE(PrivateKey::FromBytes(std::array<uint8_t, 32>{}).ok());  // zero
  EXPECT_FALSE(PrivateKey::FromBytes(order).ok());                      // n
  std::array<uint8_t, 32> above = order;
  above[31] += 1;
  EXPECT_FALSE(PrivateKey::FromBytes(above).ok());  // n + 1
  std::array<uint8_t, 32> below = order;
  below[31] -= 1;
  EXPECT_TRUE(PrivateKey::FromBytes(below).ok());  // n - 1
  std::array<uint8_t, 32> one{};
  one[31] = 1;
  EXPECT_TRUE(PrivateKey::FromBytes(one).ok());
}

TEST(PrivateKeyTest, FromBytesRejectsWrongSize) {
  const util::Result<PrivateKey> key = PrivateKey::FromBytes(std::vector<uint8_t>(31, 1));
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.status().code(), util::StatusCode::kInvalidArgument);
  EXPECT_EQ(key.status().message(), "private key: expected 32 bytes, got 31");
  EXPECT_FALSE(PrivateKey::FromBytes(std::vector<uint8_t>(33, 1)).ok());
  EXPECT_FALSE(PrivateKey::FromBytes({}).ok());
}

TEST_F(Secp256k1Test, GenerateGivesDistinctValidKeys) {
  const PrivateKey a = PrivateKey::Generate(rng_);
  const PrivateKey b = PrivateKey::Generate(rng_);
  EXPECT_FALSE(
      CtEqual(a.secret().Reveal(SecretAccess::Get()), b.secret().Reveal(SecretAccess::Get())));
  EXPECT_TRUE(PrivateKey::FromBytes(a.secret().Reveal(SecretAccess::Get())).ok());
}

TEST_F(Secp256k1Test, DerivePublicKeyOfOneIsGenerator) {
  const PrivateKey one =
      KeyFromHex("0000000000000000000000000000000000000000000000000000000000000001");
  const PublicKey g = DerivePublicKey(ctx_, one);
  EXPECT_TRUE(g.IsCompressed());
  EXPECT_EQ(util::HexEncode(g.Serialize()),
            "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798");
  EXPECT_EQ(util::HexEncode(g.SerializeUncompressed()),
            "0479be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
            "483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8");
}

TEST_F(Secp256k1Test, PublicKeyParseRoundTrips) {
  for (int i = 0; i < 20; ++i) {
    const PublicKey key = DerivePublicKey(ctx_, PrivateKey::Generate(rng_));
    const std::array<uint8_t, 33> compressed = key.SerializeCompressed();
    const std::array<uint8_t, 65> uncompressed = key.SerializeUncompressed();

    util::Result<PublicKey> from_compressed = PublicKey::Parse(compressed);
    ASSERT_TRUE(from_compressed.ok());
    EXPECT_TRUE(from_compressed->IsCompressed());
    EXPECT_EQ(*from_compressed, key);
    EXPECT_EQ(from_compressed->Serialize(),
              std::vector<uint8_t>(compressed.begin(), compressed.end()));

    util::Result<PublicKey> from_uncompressed = PublicKey::Parse(uncompressed);
    ASSERT_TRUE(from_uncompressed.ok());
    EXPECT_FALSE(from_uncompressed->IsCompressed());
    EXPECT_EQ(from_uncompressed->Serialize(),
              std::vector<uint8_t>(uncompressed.begin(), uncompressed.end()));
    EXPECT_EQ(from_uncompressed->SerializeCompressed(), compressed);
  }
}

TEST_F(Secp256k1Test, PublicKeyParseRejectsHybridEncoding) {
  const PublicKey key = DerivePublicKey(ctx_, PrivateKey::Generate(rng_));
  std::array<uint8_t, 65> hybrid = key.SerializeUncompressed();
  // SEC 1 hybrid form: 0x06 (even Y) or 0x07 (odd Y), which libsecp256k1 alone would accept.
  hybrid[0] = (hybrid[64] & 1) ? 0x07 : 0x06;
  const util::Result<PublicKey> parsed = PublicKey::Parse(hybrid);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), util::StatusCode::kInvalidArgument);
}

TEST_F(Secp256k1Test, ParseAllowingHybridAcceptsMatchingParityOnly) {
  for (int i = 0; i < 8; ++i) {
    const PublicKey key = DerivePublicKey(ctx_, PrivateKey::Generate(rng_));
    const std::array<uint8_t, 65> uncompressed = key.SerializeUncompressed();
    const bool odd = (uncompressed[64] & 1) != 0;
    std::array<uint8_t, 65> hybrid = uncompressed;
    hybrid[0] = odd ? 0x07 : 0x06;
    util::Result<PublicKey> parsed = PublicKey::ParseAllowingHybrid(hybrid);
    ASSERT_TRUE(parsed.ok());
    EXPECT_FALSE(parsed->IsCompressed());
    EXPECT_EQ(parsed->Serialize(), std::vector<uint8_t>(uncompressed.begin(), uncompressed.end()));
    EXPECT_EQ(parsed->SerializeCompressed(), key.SerializeCompressed());
    // The prefix of the other parity is rejected.
    hybrid[0] = odd ? 0x06 : 0x07;
    EXPECT_FALSE(PublicKey::ParseAllowingHybrid(hybrid).ok());
    // Ordinary encodings parse as with Parse.
    EXPECT_TRUE(PublicKey::ParseAllowingHybrid(uncompressed).ok());
    EXPECT_TRUE(PublicKey::ParseAllowingHybrid(key.SerializeCompressed()).ok());
  }
  // A 33-byte key never has a hybrid prefix.
  std::array<uint8_t, 33> short_hybrid =
      DerivePublicKey(ctx_, PrivateKey::Generate(rng_)).SerializeCompressed();
  short_hybrid[0] = 0x06;
  EXPECT_FALSE(PublicKey::ParseAllowingHybrid(short_hybrid).ok());
}

TEST_F(Secp256k1Test, PublicKeyParseRejectsBadInputs) {
  const PublicKey key = DerivePublicKey(ctx_, PrivateKey::Generate(rng_));
  const std::array<uint8_t, 33> compressed = key.SerializeCompressed();
  const std::array<uint8_t, 65> uncompressed = key.SerializeUncompressed();
  // Wrong sizes.
  EXPECT_FALSE(PublicKey::Parse({}).ok());
  EXPECT_FALSE(PublicKey::Parse(std::span(compressed).first(32)).ok());
  EXPECT_FALSE(PublicKey::Parse(std::span(uncompressed).first(64)).ok());
  // Prefix not matching the size.
  std::array<uint8_t, 33> bad_prefix = compressed;
  bad_prefix[0] = 0x04;
  EXPECT_FALSE(PublicKey::Parse(bad_prefix).ok());
  std::array<uint8_t, 65> bad_prefix65 = uncompressed;
  bad_prefix65[0] = 0x02;
  EXPECT_FALSE(PublicKey::Parse(bad_prefix65).ok());
  // x = 5 is not on the curve (5^3 + 7 = 132 is not a square mod p).
  std::array<uint8_t, 33> off_curve{};
  off_curve[0] = 0x02;
  off_curve[32] = 5;
  EXPECT_FALSE(PublicKey::Parse(off_curve).ok());
  // A wrong Y for the right X.
  std::array<uint8_t, 65> wrong_y = uncompressed;
  wrong_y[64] ^= 1;
  EXPECT_FALSE(PublicKey::Parse(wrong_y).ok());
}

TEST_F(Secp256k1Test, XOnlyPublicKeyParse) {
  const PublicKey key = DerivePublicKey(ctx_, PrivateKey::Generate(rng_));
  const XOnlyPublicKey xonly = XOnlyPublicKey::FromPublicKey(key);
  const std::array<uint8_t, 33> compressed = key.SerializeCompressed();
  EXPECT_TRUE(std::equal(xonly.bytes().begin(), xonly.bytes().end(), compressed.begin() + 1));
  util::Result<XOnlyPublicKey> parsed = XOnlyPublicKey::Parse(xonly.bytes());
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(*parsed, xonly);
  EXPECT_FALSE(XOnlyPublicKey::Parse(compressed).ok());  // 33 bytes.
  std::array<uint8_t, 32> off_curve{};
  off_curve[31] = 5;
  EXPECT_FALSE(XOnlyPublicKey::Parse(off_curve).ok());
}

// ---------------------------------------------------------------------------------------------
// BIP32 tweaks

TEST_F(Secp256k1Test, PrivateAndPublicTweaksAgree) {
  for (int i = 0; i < 20; ++i) {
    const PrivateKey key = PrivateKey::Generate(rng_);
    std::array<uint8_t, 32> tweak;
    rng_.Fill(tweak);
    util::Result<PrivateKey> child = PrivateKeyTweakAdd(ctx_, key, tweak);
    ASSERT_TRUE(child.ok());
    util::Result<PublicKey> child_pub = PublicKeyTweakAdd(ctx_, DerivePublicKey(ctx_, key), tweak);
    ASSERT_TRUE(child_pub.ok());
    // (k + t)G == kG + tG.
    EXPECT_EQ(DerivePublicKey(ctx_, *child), *child_pub);
  }
}

TEST_F(Secp256k1Test, TweaksRejectOverflowAndZero) {
  const PrivateKey key = PrivateKey::Generate(rng_);
  const PublicKey pub = DerivePublicKey(ctx_, key);
  const std::array<uint8_t, 32> order = HexArray<32>(kOrderHex);
  EXPECT_FALSE(PrivateKeyTweakAdd(ctx_, key, order).ok());
  EXPECT_FALSE(PublicKeyTweakAdd(ctx_, pub, order).ok());
  // Tweak n - k: the private result is zero and the public one the point at infinity.
  std::array<uint8_t, 32> k;
  const std::span<const uint8_t> secret = key.secret().Reveal(SecretAccess::Get());
  std::copy(secret.begin(), secret.end(), k.begin());
  const std::array<uint8_t, 32> negated = OrderMinus(k);
  const util::Result<PrivateKey> zero = PrivateKeyTweakAdd(ctx_, key, negated);
  ASSERT_FALSE(zero.ok());
  EXPECT_EQ(zero.status().code(), util::StatusCode::kInvalidArgument);
  EXPECT_FALSE(PublicKeyTweakAdd(ctx_, pub, negated).ok());
}

TEST_F(Secp256k1Test, PublicTweakKeepsEncoding) {
  const PublicKey pub = DerivePublicKey(ctx_, PrivateKey::Generate(rng_));
  util::Result<PublicKey> uncompressed = PublicKey::Parse(pub.SerializeUncompressed());
  ASSERT_TRUE(uncompressed.ok());
  std::array<uint8_t, 32> tweak{};
  tweak[31] = 1;
  util::Result<PublicKey> tweaked = PublicKeyTweakAdd(ctx_, *uncompressed, tweak);
  ASSERT_TRUE(tweaked.ok());
  EXPECT_FALSE(tweaked->IsCompressed());
}

// ---------------------------------------------------------------------------------------------
// ECDSA

// Bitcoin Core src/test/key_tests.cpp, key_test1 "test deterministic signing": strSecret1 and
// strSecret2 (WIF, decoded here to their 32 bytes) sign Hash("Very deterministic message")
// (double SHA-256) to the detsig values below with CKey::Sign (RFC 6979, low-R grinding).
TEST_F(Secp256k1Test, EcdsaSignMatchesBitcoinCoreDeterministicSignatures) {
  const Hash256Bytes digest = Hash256(Bytes("Very deterministic message"));
  struct Case {
    std::string_view secret;
    std::string_view expected_der;
  };
  const Case cases[] = {
      {"12b004fff7f4b69ef8650e767f18f11ede158148b425660723b9f9a66e61f747",
       "304402205dbbddda71772d95ce91cd2d14b592cfbc1dd0aabd6a394b6c2d377bbe59d31d022014ddda21494a"
       "4e221f0824f0b8b924c43fa43c0ad57dccdaa11f81a6bd4582f6"},
      {"b524c28b61c9b2c49b2c7dd4c2d75887abb78768c054bd7c01af4029f6c0d117",
       "3044022052d8a32079c11e79db95af63bb9600c5b04f21a9ca33dc129c2bfa8ac9dc1cd5022061d8ae5e0f6c"
       "1a16bde3719c64c2fd70e404b6428ab9a69566962e8771b5944d"},
  };
  for (const Case& c : cases) {
    const PrivateKey key = KeyFromHex(c.secret);
    const std::vector<uint8_t> sig = EcdsaSign(ctx_, key, digest);
    EXPECT_EQ(util::HexEncode(sig), c.expected_der);
    EXPECT_TRUE(EcdsaVerify(ctx_, DerivePublicKey(ctx_, key), digest, sig, DerParsing::kStrict));
  }
}

// Bitcoin Core key_signature_tests: over 256 messages "A message to be signed<i>", every
// signature has R of at most 32 bytes and is at most 70 bytes, and some are shorter than 70.
TEST_F(Secp256k1Test, EcdsaSignGrindsLowRLikeBitcoinCore) {
  const PrivateKey key =
      KeyFromHex("12b004fff7f4b69ef8650e767f18f11ede158148b425660723b9f9a66e61f747");
  bool found_small = false;
  for (int i = 0; i < 256; ++i) {
    const Hash256Bytes digest = Hash256(Bytes("A message to be signed" + std::to_string(i)));
    const std::vector<uint8_t> sig = EcdsaSign(ctx_, key, digest);
    ASSERT_GE(sig.size(), 8u);
    EXPECT_LE(sig[3], 32) << i;
    EXPECT_LE(sig.size(), 70u) << i;
    found_small |= sig.size() < 70;
  }
  EXPECT_TRUE(found_small);
}

TEST_F(Secp256k1Test, EcdsaRandomKeysAndDigests) {
  TestRng rng(2026);
  size_t found_small = 0;
  for (int i = 0; i < 2000; ++i) {
    const PrivateKey key = PrivateKey::Generate(rng);
    const PublicKey pub = DerivePublicKey(ctx_, key);
    std::array<uint8_t, 32> digest;
    rng.Fill(digest);
    const std::vector<uint8_t> sig = EcdsaSign(ctx_, key, digest);
    // Low R and low S: both integers fit in 32 bytes without a sign byte, so at most 70 bytes
    // (71 with the sighash byte).
    ASSERT_LE(sig.size(), 70u) << i;
    ASSERT_LE(sig[3], 32) << i;
    if (sig.size() < 70) ++found_small;
    EXPECT_TRUE(EcdsaIsLowS(ctx_, sig, DerParsing::kStrict)) << i;
    EXPECT_TRUE(EcdsaVerify(ctx_, pub, digest, sig, DerParsing::kStrict)) << i;
    EXPECT_TRUE(EcdsaVerify(ctx_, pub, digest, sig, DerParsing::kLax)) << i;
    // Deterministic (RFC 6979): the same key and digest give the same bytes, whatever the
    // context's randomization.
    EXPECT_EQ(EcdsaSign(ctx_, key, digest), sig) << i;
  }
  EXPECT_GT(found_small, 0u);
}

TEST_F(Secp256k1Test, EcdsaSignIsIndependentOfContextRandomization) {
  TestRng other_rng(99);
  const Secp256k1Context other = Secp256k1Context::Create(other_rng);
  const PrivateKey key = PrivateKey::Generate(rng_);
  std::array<uint8_t, 32> digest;
  rng_.Fill(digest);
  EXPECT_EQ(EcdsaSign(ctx_, key, digest), EcdsaSign(other, key, digest));
}

TEST_F(Secp256k1Test, EcdsaVerifyRejectsTampering) {
  const PrivateKey key = PrivateKey::Generate(rng_);
  const PublicKey pub = DerivePublicKey(ctx_, key);
  const PublicKey other_pub = DerivePublicKey(ctx_, PrivateKey::Generate(rng_));
  std::array<uint8_t, 32> digest;
  rng_.Fill(digest);
  const std::vector<uint8_t> sig = EcdsaSign(ctx_, key, digest);
  ASSERT_TRUE(EcdsaVerify(ctx_, pub, digest, sig, DerParsing::kStrict));

  for (size_t bit = 0; bit < 256; ++bit) {
    std::array<uint8_t, 32> flipped = digest;
    flipped[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    EXPECT_FALSE(EcdsaVerify(ctx_, pub, flipped, sig, DerParsing::kStrict)) << "bit " << bit;
  }
  EXPECT_FALSE(EcdsaVerify(ctx_, other_pub, digest, sig, DerParsing::kStrict));
  EXPECT_FALSE(EcdsaVerify(ctx_, other_pub, digest, sig, DerParsing::kLax));
  for (size_t i = 0; i < sig.size(); ++i) {
    std::vector<uint8_t> tampered = sig;
    tampered[i] ^= 0x01;
    EXPECT_FALSE(EcdsaVerify(ctx_, pub, digest, tampered, DerParsing::kStrict)) << "byte " << i;
    // The lax parser never reads the sequence length (byte 1), as Core's does not.
    if (i != 1) {
      EXPECT_FALSE(EcdsaVerify(ctx_, pub, digest, tampered, DerParsing::kLax)) << "byte " << i;
    }
  }
  EXPECT_FALSE(EcdsaVerify(ctx_, pub, digest, {}, DerParsing::kStrict));
  EXPECT_FALSE(EcdsaVerify(ctx_, pub, digest, {}, DerParsing::kLax));
}

TEST_F(Secp256k1Test, EcdsaVerifyAcceptsUncompressedKey) {
  const PrivateKey key = PrivateKey::Generate(rng_);
  util::Result<PublicKey> uncompressed =
      PublicKey::Parse(DerivePublicKey(ctx_, key).SerializeUncompressed());
  ASSERT_TRUE(uncompressed.ok());
  std::array<uint8_t, 32> digest;
  rng_.Fill(digest);
  EXPECT_TRUE(
      EcdsaVerify(ctx_, *uncompressed, digest, EcdsaSign(ctx_, key, digest), DerParsing::kStrict));
}

// A signature and its parts, for building other encodings of the same (r, s).
struct SignedDigest {
  PublicKey pub;
  std::array<uint8_t, 32> digest;
  std::array<uint8_t, 32> r;
  std::array<uint8_t, 32> s;
};

// Signs with plain libsecp256k1 (no grinding) until R has its top bit set, so that its minimal
// DER encoding needs a 0x00 sign byte.
SignedDigest SignWithHighR(const Secp256k1Context& ctx, Rng& rng) {
  const auto* c = static_cast<const secp256k1_context*>(ctx.raw());
  for (;;) {
    const PrivateKey key = PrivateKey::Generate(rng);
    SignedDigest out{.pub = DerivePublicKey(ctx, key), .digest = {}, .r = {}, .s = {}};
    rng.Fill(out.digest);
    secp256k1_ecdsa_signature sig;
    EXPECT_EQ(secp256k1_ecdsa_sign(c, &sig, out.digest.data(),
                                   key.secret().Reveal(SecretAccess::Get()).data(),
                                   secp256k1_nonce_function_rfc6979, nullptr),
              1);
    std::array<uint8_t, 64> compact;
    secp256k1_ecdsa_signature_serialize_compact(c, compact.data(), &sig);
    if (compact[0] < 0x80) continue;
    std::copy_n(compact.begin(), 32, out.r.begin());
    std::copy_n(compact.begin() + 32, 32, out.s.begin());
    return out;
  }
}

TEST_F(Secp256k1Test, WellFormedDerAcceptedByBothParsers) {
  const SignedDigest sd = SignWithHighR(ctx_, rng_);
  const std::vector<uint8_t> der = DerSequence(MinimalInteger(sd.r), MinimalInteger(sd.s));
  EXPECT_TRUE(EcdsaVerify(ctx_, sd.pub, sd.digest, der, DerParsing::kStrict));
  EXPECT_TRUE(EcdsaVerify(ctx_, sd.pub, sd.digest, der, DerParsing::kLax));
}

TEST_F(Secp256k1Test, NegativeLookingRWithoutZeroByteIsLaxOnly) {
  const SignedDigest sd = SignWithHighR(ctx_, rng_);
  // R's top bit is set: without the 0x00 byte, DER reads it as negative.
  const std::vector<uint8_t> der = DerSequence(sd.r, MinimalInteger(sd.s));
  EXPECT_FALSE(EcdsaVerify(ctx_, sd.pub, sd.digest, der, DerParsing::kStrict));
  EXPECT_TRUE(EcdsaVerify(ctx_, sd.pub, sd.digest, der, DerParsing::kLax));
}

TEST_F(Secp256k1Test, ExcessPaddingIsLaxOnly) {
  const SignedDigest sd = SignWithHighR(ctx_, rng_);
  std::vector<uint8_t> padded_r = MinimalInteger(sd.r);
  padded_r.insert(padded_r.begin(), {0x00, 0x00});
  const std::vector<uint8_t> der = DerSequence(padded_r, MinimalInteger(sd.s));
  EXPECT_FALSE(EcdsaVerify(ctx_, sd.pub, sd.digest, der, DerParsing::kStrict));
  EXPECT_TRUE(EcdsaVerify(ctx_, sd.pub, sd.digest, der, DerParsing::kLax));

  std::vector<uint8_t> padded_s = MinimalInteger(sd.s);
  padded_s.insert(padded_s.begin(), 0x00);
  if (padded_s[1] == 0x00) padded_s.insert(padded_s.begin(), 0x00);
  const std::vector<uint8_t> der_s = DerSequence(MinimalInteger(sd.r), padded_s);
  EXPECT_FALSE(EcdsaVerify(ctx_, sd.pub, sd.digest, der_s, DerParsing::kStrict));
  EXPECT_TRUE(EcdsaVerify(ctx_, sd.pub, sd.digest, der_s, DerParsing::kLax));
}

TEST_F(Secp256k1Test, LongFormLengthsAreLaxOnly) {
  const SignedDigest sd = SignWithHighR(ctx_, rng_);
  const std::vector<uint8_t> der = DerSequence(MinimalInteger(sd.r), MinimalInteger(sd.s));

  // R's length 0x21 written as 0x81 0x21 (and the sequence length grown by one).
  std::vector<uint8_t> long_r = der;
  long_r[1] += 1;
  long_r[3] = 0x21;
  long_r.insert(long_r.begin() + 3, 0x81);
  EXPECT_FALSE(EcdsaVerify(ctx_, sd.pub, sd.digest, long_r, DerParsing::kStrict));
  EXPECT_TRUE(EcdsaVerify(ctx_, sd.pub, sd.digest, long_r, DerParsing::kLax));

  // The same with a leading zero length byte: 0x82 0x00 0x21.
  std::vector<uint8_t> long_r2 = long_r;
  long_r2[1] += 1;
  long_r2[3] = 0x82;
  long_r2.insert(long_r2.begin() + 4, 0x00);
  EXPECT_FALSE(EcdsaVerify(ctx_, sd.pub, sd.digest, long_r2, DerParsing::kStrict));
  EXPECT_TRUE(EcdsaVerify(ctx_, sd.pub, sd.digest, long_r2, DerParsing::kLax));

  // The sequence length in long form: 0x81 <len>.
  std::vector<uint8_t> long_seq = der;
  long_seq.insert(long_seq.begin() + 1, 0x81);
  EXPECT_FALSE(EcdsaVerify(ctx_, sd.pub, sd.digest, long_seq, DerParsing::kStrict));
  EXPECT_TRUE(EcdsaVerify(ctx_, sd.pub, sd.digest, long_seq, DerParsing::kLax));
}

TEST_F(Secp256k1Test, TrailingGarbageAndWrongSequenceLengthAreLaxOnly) {
  const SignedDigest sd = SignWithHighR(ctx_, rng_);
  const std::vector<uint8_t> der = DerSequence(MinimalInteger(sd.r), MinimalInteger(sd.s));
  std::vector<uint8_t> garbage = der;
  garbage.push_back(0x01);
  EXPECT_FALSE(EcdsaVerify(ctx_, sd.pub, sd.digest, garbage, DerParsing::kStrict));
  EXPECT_TRUE(EcdsaVerify(ctx_, sd.pub, sd.digest, garbage, DerParsing::kLax));
  std::vector<uint8_t> wrong_length = der;
  wrong_length[1] = 0x10;
  EXPECT_FALSE(EcdsaVerify(ctx_, sd.pub, sd.digest, wrong_length, DerParsing::kStrict));
  EXPECT_TRUE(EcdsaVerify(ctx_, sd.pub, sd.digest, wrong_length, DerParsing::kLax));
}

TEST_F(Secp256k1Test, HighSIsNormalizedForVerificationButNotLowS) {
  const SignedDigest sd = SignWithHighR(ctx_, rng_);
  const std::array<uint8_t, 32> high_s = OrderMinus(sd.s);
  const std::vector<uint8_t> low = DerSequence(MinimalInteger(sd.r), MinimalInteger(sd.s));
  const std::vector<uint8_t> high = DerSequence(MinimalInteger(sd.r), MinimalInteger(high_s));
  for (DerParsing parsing : {DerParsing::kStrict, DerParsing::kLax}) {
    EXPECT_TRUE(EcdsaIsLowS(ctx_, low, parsing));
    EXPECT_FALSE(EcdsaIsLowS(ctx_, high, parsing));
    EXPECT_TRUE(EcdsaVerify(ctx_, sd.pub, sd.digest, high, parsing));
  }
  // A high S written without its 0x00 byte looks negative: lax reads the value, strict a zero S.
  const std::vector<uint8_t> negative_s = DerSequence(MinimalInteger(sd.r), high_s);
  EXPECT_FALSE(EcdsaVerify(ctx_, sd.pub, sd.digest, negative_s, DerParsing::kStrict));
  EXPECT_TRUE(EcdsaVerify(ctx_, sd.pub, sd.digest, negative_s, DerParsing::kLax));
  EXPECT_FALSE(EcdsaIsLowS(ctx_, negative_s, DerParsing::kLax));
  EXPECT_FALSE(EcdsaIsLowS(ctx_, std::vector<uint8_t>{0x30, 0x00}, DerParsing::kLax));
  EXPECT_FALSE(EcdsaIsLowS(ctx_, {}, DerParsing::kStrict));
}

TEST_F(Secp256k1Test, OverflowingSignatureCountsAsLowSLikeCore) {
  const SignedDigest sd = SignWithHighR(ctx_, rng_);
  const std::array<uint8_t, 32> high_s = OrderMinus(sd.s);
  // R with 33 significant bytes overflows: Core's lax parser yields the all-zero signature,
  // and CPubKey::CheckLowS calls it low-S even though the S written is high.
  std::vector<uint8_t> r33(33, 0x11);
  const std::vector<uint8_t> der = DerSequence(r33, MinimalInteger(high_s));
  EXPECT_TRUE(EcdsaIsLowS(ctx_, der, DerParsing::kLax));
  EXPECT_FALSE(EcdsaVerify(ctx_, sd.pub, sd.digest, der, DerParsing::kLax));
  // An S >= n does the same.
  const std::vector<uint8_t> order = Hex(kOrderHex);
  const std::vector<uint8_t> s_is_n = DerSequence(MinimalInteger(sd.r), MinimalInteger(order));
  EXPECT_TRUE(EcdsaIsLowS(ctx_, s_is_n, DerParsing::kLax));
  EXPECT_FALSE(EcdsaVerify(ctx_, sd.pub, sd.digest, s_is_n, DerParsing::kLax));
}

// ---------------------------------------------------------------------------------------------
// The lax parser itself, one rejection per rule.

std::optional<std::array<uint8_t, 64>> Lax(std::string_view hex) {
  return internal::ParseDerLax(Hex(hex));
}

TEST(LaxDerTest, ParsesMinimalEncoding) {
  const std::optional<std::array<uint8_t, 64>> compact = Lax("3006020101020102");
  ASSERT_TRUE(compact.has_value());
  std::array<uint8_t, 64> expected{};
  expected[31] = 1;
  expected[63] = 2;
  EXPECT_EQ(*compact, expected);
}

TEST(LaxDerTest, RejectsEachStructuralViolation) {
  EXPECT_FALSE(Lax("").has_value());                    // empty
  EXPECT_FALSE(Lax("3106020101020102").has_value());    // not a sequence tag
  EXPECT_FALSE(Lax("30").has_value());                  // no sequence length
  EXPECT_FALSE(Lax("3085000000").has_value());          // long sequence length past the end
  EXPECT_FALSE(Lax("3006030101020102").has_value());    // R tag not INTEGER
  EXPECT_FALSE(Lax("300602").has_value());              // no R length
  EXPECT_FALSE(Lax("3006028201").has_value());          // long R length past the end
  EXPECT_FALSE(Lax("300602840100000001").has_value());  // R length with 4 significant bytes
  EXPECT_FALSE(Lax("3006020201").has_value());          // R longer than the input
  EXPECT_FALSE(Lax("3006020101").has_value());          // no S
  EXPECT_FALSE(Lax("3006020101030102").has_value());    // S tag not INTEGER
  EXPECT_FALSE(Lax("30060201010202").has_value());      // S longer than the input
}

TEST(LaxDerTest, AcceptsCoreViolations) {
  std::array<uint8_t, 64> expected{};
  expected[31] = 1;
  expected[63] = 2;
  // Zero length-of-length bytes are skipped, and up to 3 significant ones are read.
  EXPECT_EQ(Lax("300602840000000101020102"), expected);
  EXPECT_EQ(Lax("3080020101020102"), expected);        // 0x80: sequence length skipped
  EXPECT_EQ(Lax("30000201010201029999"), expected);    // sequence length ignored, garbage after
  EXPECT_EQ(Lax("3006020400000001020102"), expected);  // excess zero padding
  // Zero-length integers are zero.
  EXPECT_EQ(Lax("300402000200"), (std::array<uint8_t, 64>{}));
}

TEST(LaxDerTest, OverlongIntegerGivesZeroSignature) {
  // R has 33 significant bytes: the result is the all-zero signature, as in Core.
  const std::string r33 = "0221" + std::string(66, 'f');
  EXPECT_EQ(Lax("3000" + r33 + "020102"), (std::array<uint8_t, 64>{}));
  // 33 bytes with a leading zero are 32 significant bytes: fine.
  const std::string r33_padded = "022100" + std::string(64, 'f');
  const std::optional<std::array<uint8_t, 64>> padded = Lax("3000" + r33_padded + "020102");
  ASSERT_TRUE(padded.has_value());
  EXPECT_EQ((*padded)[0], 0xff);
  EXPECT_EQ((*padded)[63], 0x02);
}

// ---------------------------------------------------------------------------------------------
// BIP340

struct Bip340Row {
  std::string index, secret_key, public_key, aux_rand, message, signature, result, comment;
};

std::vector<Bip340Row> ReadBip340Vectors() {
  std::istringstream in(ReadVectorFile("bip340_test-vectors.csv"));
  std::vector<Bip340Row> rows;
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    std::vector<std::string> fields;
    std::istringstream fields_in(line);
    std::string field;
    // The comment column, last, may itself contain commas.
    for (int i = 0; i < 7 && std::getline(fields_in, field, ','); ++i) fields.push_back(field);
    std::getline(fields_in, field);
    fields.push_back(field);
    EXPECT_EQ(fields.size(), 8u) << line;
    if (fields.size() != 8) continue;
    rows.push_back(
        {fields[0], fields[1], fields[2], fields[3], fields[4], fields[5], fields[6], fields[7]});
  }
  return rows;
}

TEST_F(Secp256k1Test, Bip340Vectors) {
  const std::vector<Bip340Row> rows = ReadBip340Vectors();
  ASSERT_EQ(rows.size(), 19u);
  size_t signed_rows = 0, verified_rows = 0;
  for (const Bip340Row& row : rows) {
    SCOPED_TRACE("bip340 vector " + row.index + " " + row.comment);
    const std::vector<uint8_t> msg = Hex(row.message);
    const std::array<uint8_t, 64> sig = HexArray<64>(row.signature);
    const bool expected = row.result == "TRUE";
    ASSERT_TRUE(expected || row.result == "FALSE");

    if (!row.secret_key.empty()) {
      const PrivateKey key = KeyFromHex(row.secret_key);
      const std::array<uint8_t, 32> aux = HexArray<32>(row.aux_rand);
      EXPECT_EQ(util::HexEncode(XOnlyPublicKey::FromPublicKey(DerivePublicKey(ctx_, key)).bytes()),
                util::HexEncode(Hex(row.public_key)));
      std::array<uint8_t, 64> produced;
      if (msg.size() == 32) {
        produced = SchnorrSign(ctx_, key, std::span<const uint8_t, 32>(msg.data(), 32), aux);
        EXPECT_EQ(SchnorrSignMessage(ctx_, key, msg, aux), produced);
      } else {
        produced = SchnorrSignMessage(ctx_, key, msg, aux);
      }
      EXPECT_EQ(produced, sig);
      ++signed_rows;
    }

    util::Result<XOnlyPublicKey> pub = XOnlyPublicKey::Parse(Hex(row.public_key));
    const bool verified = pub.ok() && SchnorrVerify(ctx_, *pub, msg, sig);
    EXPECT_EQ(verified, expected);
    ++verified_rows;
  }
  EXPECT_EQ(signed_rows, 8u);
  EXPECT_EQ(verified_rows, 19u);
}

TEST_F(Secp256k1Test, SchnorrRoundTripAndTampering) {
  const PrivateKey key = PrivateKey::Generate(rng_);
  const XOnlyPublicKey pub = XOnlyPublicKey::FromPublicKey(DerivePublicKey(ctx_, key));
  std::array<uint8_t, 32> msg, aux;
  rng_.Fill(msg);
  rng_.Fill(aux);
  const std::array<uint8_t, 64> sig = SchnorrSign(ctx_, key, msg, aux);
  EXPECT_TRUE(SchnorrVerify(ctx_, pub, msg, sig));
  std::array<uint8_t, 32> other_msg = msg;
  other_msg[0] ^= 1;
  EXPECT_FALSE(SchnorrVerify(ctx_, pub, other_msg, sig));
  for (size_t i = 0; i < sig.size(); ++i) {
    std::array<uint8_t, 64> tampered = sig;
    tampered[i] ^= 0x01;
    EXPECT_FALSE(SchnorrVerify(ctx_, pub, msg, tampered)) << i;
  }
  const XOnlyPublicKey other =
      XOnlyPublicKey::FromPublicKey(DerivePublicKey(ctx_, PrivateKey::Generate(rng_)));
  EXPECT_FALSE(SchnorrVerify(ctx_, other, msg, sig));
  // A different aux gives a different, equally valid signature.
  std::array<uint8_t, 32> other_aux = aux;
  other_aux[0] ^= 1;
  const std::array<uint8_t, 64> sig2 = SchnorrSign(ctx_, key, msg, other_aux);
  EXPECT_NE(sig2, sig);
  EXPECT_TRUE(SchnorrVerify(ctx_, pub, msg, sig2));
}

// ---------------------------------------------------------------------------------------------
// BIP341

nlohmann::json ReadBip341Vectors() {
  return nlohmann::json::parse(ReadVectorFile("bip341_wallet_vectors.json"));
}

std::optional<std::array<uint8_t, 32>> OptionalRoot(const nlohmann::json& value) {
  if (value.is_null()) return std::nullopt;
  return HexArray<32>(value.get<std::string>());
}

TEST_F(Secp256k1Test, Bip341ScriptPubKeyVectors) {
  const nlohmann::json vectors = ReadBip341Vectors();
  size_t tweaked = 0, checked = 0;
  for (const nlohmann::json& v : vectors["scriptPubKey"]) {
    const std::string internal_hex = v["given"]["internalPubkey"];
    SCOPED_TRACE("internal key " + internal_hex);
    util::Result<XOnlyPublicKey> internal = XOnlyPublicKey::Parse(Hex(internal_hex));
    ASSERT_TRUE(internal.ok());
    const std::optional<std::array<uint8_t, 32>> root =
        OptionalRoot(v["intermediary"]["merkleRoot"]);
    util::Result<TweakedPublicKey> output = TaprootTweakPublicKey(ctx_, *internal, root);
    ASSERT_TRUE(output.ok());
    EXPECT_EQ(util::HexEncode(output->key.bytes()),
              v["intermediary"]["tweakedPubkey"].get<std::string>());
    ++tweaked;

    if (!root || !v["expected"].contains("scriptPathControlBlocks")) continue;
    for (const nlohmann::json& block_hex : v["expected"]["scriptPathControlBlocks"]) {
      const std::vector<uint8_t> block = Hex(block_hex.get<std::string>());
      ASSERT_GE(block.size(), 33u);
      // BIP341: the control block's low bit is the output key's parity.
      const bool parity_odd = (block[0] & 1) != 0;
      EXPECT_EQ(parity_odd, output->parity_odd);
      EXPECT_TRUE(
          std::equal(internal->bytes().begin(), internal->bytes().end(), block.begin() + 1));
      EXPECT_TRUE(TaprootCheckTweak(ctx_, output->key, parity_odd, *internal, *root));
      EXPECT_FALSE(TaprootCheckTweak(ctx_, output->key, !parity_odd, *internal, *root));
      std::array<uint8_t, 32> other_root = *root;
      other_root[0] ^= 1;
      EXPECT_FALSE(TaprootCheckTweak(ctx_, output->key, parity_odd, *internal, other_root));
      ++checked;
    }
  }
  EXPECT_EQ(tweaked, 7u);
  EXPECT_GE(checked, 6u);
}

TEST_F(Secp256k1Test, Bip341KeyPathSpendingVectors) {
  const nlohmann::json vectors = ReadBip341Vectors();
  size_t count = 0;
  for (const nlohmann::json& v : vectors["keyPathSpending"][0]["inputSpending"]) {
    const std::string privkey_hex = v["given"]["internalPrivkey"];
    SCOPED_TRACE("internal private key index " + std::to_string(count));
    const PrivateKey key = KeyFromHex(privkey_hex);
    const XOnlyPublicKey internal = XOnlyPublicKey::FromPublicKey(DerivePublicKey(ctx_, key));
    EXPECT_EQ(util::HexEncode(internal.bytes()),
              v["intermediary"]["internalPubkey"].get<std::string>());
    const std::optional<std::array<uint8_t, 32>> root = OptionalRoot(v["given"]["merkleRoot"]);
    util::Result<PrivateKey> tweaked = TaprootTweakPrivateKey(ctx_, key, root);
    ASSERT_TRUE(tweaked.ok());
    EXPECT_EQ(util::HexEncode(tweaked->secret().Reveal(SecretAccess::Get())),
              v["intermediary"]["tweakedPrivkey"].get<std::string>());
    // The tweaked private key belongs to the tweaked public key.
    util::Result<TweakedPublicKey> output = TaprootTweakPublicKey(ctx_, internal, root);
    ASSERT_TRUE(output.ok());
    EXPECT_EQ(XOnlyPublicKey::FromPublicKey(DerivePublicKey(ctx_, *tweaked)), output->key);
    // The key-path signature: BIP341's vectors sign with aux_rand = 32 zero bytes.
    const std::array<uint8_t, 32> sighash =
        HexArray<32>(v["intermediary"]["sigHash"].get<std::string>());
    const std::string witness = v["expected"]["witness"][0];
    const std::array<uint8_t, 32> zero_aux{};
    const std::array<uint8_t, 64> sig = SchnorrSign(ctx_, *tweaked, sighash, zero_aux);
    EXPECT_EQ(util::HexEncode(sig), witness.substr(0, 128));
    EXPECT_TRUE(SchnorrVerify(ctx_, output->key, sighash, sig));
    ++count;
  }
  EXPECT_EQ(count, 7u);
}

}  // namespace
}  // namespace kinko::crypto
