#include "crypto/keyfile.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace kinko::crypto
