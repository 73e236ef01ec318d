#include "crypto/keyfile.h"

#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

#include "util/hex.h"

namespace kinko::crypto {
namespace {

// The cheapest parameters the format allows, so that the tests run fast.
constexpr KdfParams kFast = {.passes = 1, .memory_kib = 8};

SecretBytes Passphrase(std::string_view text) {
  return SecretBytes::FromSpan(
      std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

// A deterministic Rng for reproducible files.
class CountingRng final : public Rng {
 public:
  void Fill(std::span<uint8_t> out) override {
    for (uint8_t& b : out) b = next_++;
  }

 private:
  uint8_t next_ = 0;
};

KeyFile MakeFile(const Ed25519PrivateKey& key, std::string_view label = "alice") {
  CountingRng rng;
  return KeyFile::Encrypt(key, label, Passphrase("correct horse"), kFast, rng).value();
}

TEST(KeyFileTest, EncryptParseDecryptRoundTrip) {
  SystemRng rng;
  const Ed25519PrivateKey key = Ed25519PrivateKey::Generate(rng);
  const KeyFile file = MakeFile(key);
  const std::vector<uint8_t> bytes = file.Serialize();
  ASSERT_EQ(bytes.size(), 140u + 5u);
  const KeyFile parsed = KeyFile::Parse(bytes).value();
  EXPECT_EQ(parsed.Serialize(), bytes);
  EXPECT_EQ(parsed.label(), "alice");
  EXPECT_EQ(parsed.public_key(), key.public_key());
  EXPECT_EQ(parsed.kdf_params().passes, 1u);
  EXPECT_EQ(parsed.kdf_params().memory_kib, 8u);
  const Ed25519PrivateKey decrypted = parsed.Decrypt(Passphrase("correct horse")).value();
  EXPECT_EQ(decrypted.public_key(), key.public_key());
  const std::vector<uint8_t> message = {7};
  EXPECT_EQ(decrypted.Sign(message), key.Sign(message));
}

TEST(KeyFileTest, LayoutIsPinned) {
  const Ed25519PrivateKey key =
      Ed25519PrivateKey::FromSeed(SecretBytes(32)).value();  // Seed of zeros.
  const std::vector<uint8_t> bytes = MakeFile(key, "a").Serialize();
  // magic, version 1, Ed25519, Argon2id, passes 1, 8 KiB, salt 00..0f, nonce 10..27.
  EXPECT_EQ(util::HexEncode(std::span(bytes).first(35)),
            "4b494e4b4f4b4559010101000000010000000800"
            "0102030405060708090a0b0c0d0e0f");
  EXPECT_EQ(util::HexEncode(std::span(bytes).subspan(35, 24)),
            "101112131415161718191a1b1c1d1e1f2021222324252627");
  EXPECT_EQ(util::HexEncode(std::span(bytes).subspan(59, 32)), util::HexEncode(key.public_key()));
  EXPECT_EQ(bytes[91], 1);
  EXPECT_EQ(bytes[92], 'a');
  EXPECT_EQ(bytes.size(), 141u);
}

TEST(KeyFileTest, WrongPassphraseIsPermissionDenied) {
  SystemRng rng;
  const KeyFile file = MakeFile(Ed25519PrivateKey::Generate(rng));
  util::Result<Ed25519PrivateKey> key = file.Decrypt(Passphrase("correct horse!"));
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.status().code(), util::StatusCode::kPermissionDenied);
}

TEST(KeyFileTest, EveryAlteredByteIsRefused) {
  SystemRng rng;
  const std::vector<uint8_t> bytes = MakeFile(Ed25519PrivateKey::Generate(rng)).Serialize();
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::vector<uint8_t> bad = bytes;
    bad[i] ^= 0x01;
    util::Result<KeyFile> parsed = KeyFile::Parse(bad);
    if (!parsed.ok()) continue;  // Refused by the parser.
    EXPECT_FALSE(parsed->Decrypt(Passphrase("correct horse")).ok()) << "byte " << i;
  }
}

TEST(KeyFileTest, ParseRejectsEachRule) {
  SystemRng rng;
  const std::vector<uint8_t> good = MakeFile(Ed25519PrivateKey::Generate(rng)).Serialize();
  auto with = [&](size_t offset, uint8_t value) {
    std::vector<uint8_t> bad = good;
    bad[offset] = value;
    return KeyFile::Parse(bad);
  };
  EXPECT_FALSE(with(0, 'X').ok());    // Magic.
  EXPECT_FALSE(with(8, 2).ok());      // Version.
  EXPECT_FALSE(with(9, 2).ok());      // Scheme.
  EXPECT_FALSE(with(10, 2).ok());     // Key derivation.
  EXPECT_FALSE(with(14, 0).ok());     // Passes 0.
  EXPECT_FALSE(with(14, 11).ok());    // Passes 11.
  EXPECT_FALSE(with(18, 7).ok());     // 7 KiB.
  EXPECT_FALSE(with(15, 0x01).ok());  // Above 1 GiB.
  EXPECT_FALSE(with(91, 4).ok());     // Label length does not match the size.
  EXPECT_FALSE(with(92, ' ').ok());   // Label character.
  EXPECT_FALSE(KeyFile::Parse(std::span(good).first(good.size() - 1)).ok());
  std::vector<uint8_t> longer = good;
  longer.push_back(0);
  EXPECT_FALSE(KeyFile::Parse(longer).ok());
  std::vector<uint8_t> small_order = good;
  std::fill(small_order.begin() + 59, small_order.begin() + 91, 0);
  small_order[59] = 1;
  EXPECT_FALSE(KeyFile::Parse(small_order).ok());
  EXPECT_FALSE(KeyFile::Parse({}).ok());
}

TEST(KeyFileTest, EncryptRejectsBadArguments) {
  SystemRng rng;
  const Ed25519PrivateKey key = Ed25519PrivateKey::Generate(rng);
  EXPECT_FALSE(KeyFile::Encrypt(key, "", Passphrase("p"), kFast, rng).ok());
  EXPECT_FALSE(KeyFile::Encrypt(key, "al ice", Passphrase("p"), kFast, rng).ok());
  EXPECT_FALSE(KeyFile::Encrypt(key, std::string(65, 'a'), Passphrase("p"), kFast, rng).ok());
  EXPECT_TRUE(KeyFile::Encrypt(key, std::string(64, 'a'), Passphrase("p"), kFast, rng).ok());
  EXPECT_FALSE(KeyFile::Encrypt(key, "alice", SecretBytes(0), kFast, rng).ok());
  EXPECT_FALSE(
      KeyFile::Encrypt(key, "alice", Passphrase("p"), {.passes = 0, .memory_kib = 8}, rng).ok());
}

const Secp256k1Context& Ctx() {
  static SystemRng rng;
  static const Secp256k1Context ctx = Secp256k1Context::Create(rng);
  return ctx;
}

constexpr std::string_view kInfo = "[d34db33f/48'/0'/0'/2']xpub-like text";

Secp256k1KeyFile MakeSecp256k1File(const PrivateKey& key, std::string_view label = "signer",
                                   std::string_view info = kInfo) {
  CountingRng rng;
  return Secp256k1KeyFile::Encrypt(Ctx(), key, label, info, Passphrase("correct horse"), kFast, rng)
      .value();
}

TEST(Secp256k1KeyFileTest, EncryptParseDecryptRoundTrip) {
  SystemRng rng;
  const PrivateKey key = PrivateKey::Generate(rng);
  const std::vector<uint8_t> bytes = MakeSecp256k1File(key).Serialize();
  ASSERT_EQ(bytes.size(), 143u + 6u + kInfo.size());
  const Secp256k1KeyFile parsed = Secp256k1KeyFile::Parse(bytes).value();
  EXPECT_EQ(parsed.Serialize(), bytes);
  EXPECT_EQ(parsed.label(), "signer");
  EXPECT_EQ(parsed.public_info(), kInfo);
  EXPECT_EQ(parsed.public_key(), DerivePublicKey(Ctx(), key));
  EXPECT_EQ(parsed.kdf_params().passes, 1u);
  EXPECT_EQ(parsed.kdf_params().memory_kib, 8u);
  const PrivateKey decrypted = parsed.Decrypt(Ctx(), Passphrase("correct horse")).value();
  const std::array<uint8_t, 32> digest{1, 2, 3};
  EXPECT_EQ(EcdsaSign(Ctx(), decrypted, digest), EcdsaSign(Ctx(), key, digest));
  // The empty public info is allowed.
  const std::vector<uint8_t> no_info = MakeSecp256k1File(key, "s", "").Serialize();
  EXPECT_EQ(no_info.size(), 144u);
  EXPECT_TRUE(Secp256k1KeyFile::Parse(no_info).ok());
}

TEST(Secp256k1KeyFileTest, LayoutIsPinned) {
  std::array<uint8_t, 32> one{};
  one[31] = 1;
  const PrivateKey key = PrivateKey::FromBytes(one).value();  // Its public key is G.
  const std::vector<uint8_t> bytes = MakeSecp256k1File(key, "a", "xy").Serialize();
  // magic, version 1, secp256k1, Argon2id, passes 1, 8 KiB, salt 00..0f, nonce 10..27.
  EXPECT_EQ(util::HexEncode(std::span(bytes).first(35)),
            "4b494e4b4f4b4559010201000000010000000800"
            "0102030405060708090a0b0c0d0e0f");
  EXPECT_EQ(util::HexEncode(std::span(bytes).subspan(35, 24)),
            "101112131415161718191a1b1c1d1e1f2021222324252627");
  EXPECT_EQ(util::HexEncode(std::span(bytes).subspan(59, 33)),
            "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798");
  EXPECT_EQ(util::HexEncode(std::span(bytes).subspan(92, 6)),
            "0161"
            "00027879");
  EXPECT_EQ(bytes.size(), 143u + 1u + 2u);
}

TEST(Secp256k1KeyFileTest, WrongPassphraseIsPermissionDenied) {
  SystemRng rng;
  const Secp256k1KeyFile file = MakeSecp256k1File(PrivateKey::Generate(rng));
  util::Result<PrivateKey> key = file.Decrypt(Ctx(), Passphrase("correct horse!"));
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.status().code(), util::StatusCode::kPermissionDenied);
  EXPECT_EQ(key.status().message(), "key file: wrong passphrase or corrupted file");
}

TEST(Secp256k1KeyFileTest, EveryAlteredByteIsRefused) {
  SystemRng rng;
  const std::vector<uint8_t> bytes = MakeSecp256k1File(PrivateKey::Generate(rng)).Serialize();
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::vector<uint8_t> bad = bytes;
    bad[i] ^= 0x01;
    util::Result<Secp256k1KeyFile> parsed = Secp256k1KeyFile::Parse(bad);
    if (!parsed.ok()) continue;  // Refused by the parser.
    EXPECT_FALSE(parsed->Decrypt(Ctx(), Passphrase("correct horse")).ok()) << "byte " << i;
  }
}

TEST(Secp256k1KeyFileTest, ParseRejectsEachRule) {
  SystemRng rng;
  const std::vector<uint8_t> good =
      MakeSecp256k1File(PrivateKey::Generate(rng), "signer", "info").Serialize();
  ASSERT_TRUE(Secp256k1KeyFile::Parse(good).ok());
  const size_t info_length_at = 93 + 6;
  auto with = [&](size_t offset, uint8_t value) {
    std::vector<uint8_t> bad = good;
    bad[offset] = value;
    return Secp256k1KeyFile::Parse(bad);
  };
  EXPECT_FALSE(with(0, 'X').ok());                    // Magic.
  EXPECT_FALSE(with(8, 2).ok());                      // Version.
  EXPECT_FALSE(with(9, 1).ok());                      // Scheme (an Ed25519 file).
  EXPECT_FALSE(with(10, 2).ok());                     // Key derivation.
  EXPECT_FALSE(with(14, 0).ok());                     // Passes 0.
  EXPECT_FALSE(with(18, 7).ok());                     // 7 KiB.
  EXPECT_FALSE(with(59, 0x04).ok());                  // Public key prefix.
  EXPECT_FALSE(with(92, 7).ok());                     // Label length does not match the size.
  EXPECT_FALSE(with(93, ' ').ok());                   // Label character.
  EXPECT_FALSE(with(info_length_at, 1).ok());         // Info length does not match the size.
  EXPECT_FALSE(with(info_length_at + 1, 5).ok());     // Info length does not match the size.
  EXPECT_FALSE(with(info_length_at + 2, '\n').ok());  // Info character.
  EXPECT_FALSE(Secp256k1KeyFile::Parse(std::span(good).first(good.size() - 1)).ok());
  std::vector<uint8_t> longer = good;
  longer.push_back(0);
  EXPECT_FALSE(Secp256k1KeyFile::Parse(longer).ok());
  EXPECT_FALSE(Secp256k1KeyFile::Parse({}).ok());
  // The two schemes do not read each other's files.
  const std::vector<uint8_t> ed25519 = MakeFile(Ed25519PrivateKey::Generate(rng)).Serialize();
  EXPECT_FALSE(Secp256k1KeyFile::Parse(ed25519).ok());
  EXPECT_FALSE(KeyFile::Parse(good).ok());
}

TEST(Secp256k1KeyFileTest, EncryptRejectsBadArguments) {
  SystemRng rng;
  const PrivateKey key = PrivateKey::Generate(rng);
  auto encrypt = [&](std::string_view label, std::string_view info, const SecretBytes& pass,
                     KdfParams params) {
    return Secp256k1KeyFile::Encrypt(Ctx(), key, label, info, pass, params, rng);
  };
  EXPECT_TRUE(encrypt("signer", std::string(1024, 'a'), Passphrase("p"), kFast).ok());
  EXPECT_FALSE(encrypt("signer", std::string(1025, 'a'), Passphrase("p"), kFast).ok());
  EXPECT_FALSE(encrypt("signer", "tab\there", Passphrase("p"), kFast).ok());
  EXPECT_FALSE(encrypt("", "", Passphrase("p"), kFast).ok());
  EXPECT_FALSE(encrypt("sign er", "", Passphrase("p"), kFast).ok());
  EXPECT_FALSE(encrypt("signer", "", SecretBytes(0), kFast).ok());
  EXPECT_FALSE(encrypt("signer", "", Passphrase("p"), {.passes = 11, .memory_kib = 8}).ok());
}

}  // namespace
}  // namespace kinko::crypto
