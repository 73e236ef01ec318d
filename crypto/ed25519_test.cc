#include "crypto/ed25519.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "util/hex.h"

namespace kinko::crypto {
namespace {

std::vector<uint8_t> Hex(std::string_view hex) { return util::HexDecode(hex).value(); }

Ed25519PrivateKey KeyFromHex(std::string_view seed_hex) {
  return Ed25519PrivateKey::FromSeed(SecretBytes::FromSpan(Hex(seed_hex))).value();
}

// RFC 8032 section 7.1, TEST 1 to TEST 3.
struct Rfc8032Vector {
  const char* seed;
  const char* public_key;
  const char* message;
  const char* signature;
};
const Rfc8032Vector kRfc8032[] = {
    {"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
     "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"},
    {"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
     "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
    {"c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
     "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
     "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac"
     "18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"},
};

TEST(Ed25519Test, Rfc8032Vectors) {
  for (const Rfc8032Vector& v : kRfc8032) {
    const Ed25519PrivateKey key = KeyFromHex(v.seed);
    EXPECT_EQ(util::HexEncode(key.public_key()), v.public_key);
    const std::vector<uint8_t> message = Hex(v.message);
    const Ed25519Signature signature = key.Sign(message);
    EXPECT_EQ(util::HexEncode(signature), v.signature);
    EXPECT_TRUE(Ed25519Verify(key.public_key(), message, signature));
    EXPECT_TRUE(IsValidEd25519PublicKey(key.public_key()));
  }
}

TEST(Ed25519Test, VerifyRejectsEveryFlippedBit) {
  const Ed25519PrivateKey key = KeyFromHex(kRfc8032[2].seed);
  const std::vector<uint8_t> message = Hex("af82");
  const Ed25519Signature signature = key.Sign(message);
  for (size_t i = 0; i < signature.size() * 8; ++i) {
    Ed25519Signature bad = signature;
    bad[i / 8] ^= static_cast<uint8_t>(1u << (i % 8));
    EXPECT_FALSE(Ed25519Verify(key.public_key(), message, bad)) << "bit " << i;
  }
  std::vector<uint8_t> other = message;
  other[0] ^= 1;
  EXPECT_FALSE(Ed25519Verify(key.public_key(), other, signature));
  const Ed25519PrivateKey other_key = KeyFromHex(kRfc8032[0].seed);
  EXPECT_FALSE(Ed25519Verify(other_key.public_key(), message, signature));
}

TEST(Ed25519Test, VerifyRejectsNonCanonicalS) {
  // S + L (the group order) verifies under a lax verifier; libsodium must refuse it.
  const Ed25519PrivateKey key = KeyFromHex(kRfc8032[0].seed);
  Ed25519Signature signature = key.Sign({});
  const std::vector<uint8_t> order =
      Hex("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010");
  unsigned carry = 0;
  for (size_t i = 0; i < 32; ++i) {
    const unsigned sum = unsigned{signature[32 + i]} + order[i] + carry;
    signature[32 + i] = static_cast<uint8_t>(sum);
    carry = sum >> 8;
  }
  EXPECT_FALSE(Ed25519Verify(key.public_key(), {}, signature));
}

TEST(Ed25519Test, SmallOrderPublicKeyIsInvalid) {
  Ed25519PublicKey identity{};
  identity[0] = 1;  // The neutral element (0, 1).
  EXPECT_FALSE(IsValidEd25519PublicKey(identity));
  Ed25519Signature zero_signature{};
  EXPECT_FALSE(Ed25519Verify(identity, {}, zero_signature));
}

TEST(Ed25519Test, FromSeedRejectsWrongSize) {
  EXPECT_FALSE(Ed25519PrivateKey::FromSeed(SecretBytes(31)).ok());
  EXPECT_FALSE(Ed25519PrivateKey::FromSeed(SecretBytes(64)).ok());
}

TEST(Ed25519Test, GeneratedKeysDifferAndSign) {
  SystemRng rng;
  const Ed25519PrivateKey a = Ed25519PrivateKey::Generate(rng);
  Ed25519PrivateKey b = Ed25519PrivateKey::Generate(rng);
  EXPECT_NE(a.public_key(), b.public_key());
  Ed25519PrivateKey moved = std::move(b);
  const std::vector<uint8_t> message = {1, 2, 3};
  EXPECT_TRUE(Ed25519Verify(moved.public_key(), message, moved.Sign(message)));
}

}  // namespace
}  // namespace kinko::crypto
