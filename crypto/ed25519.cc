#include "crypto/ed25519.h"

#include <sodium.h>

#include <utility>

#include "util/check.h"

namespace kinko::crypto {
namespace {

// libsodium must be initialised once before use; sodium_init() is idempotent and thread-safe,
// so each entry point calls it rather than relying on a start-up hook.
void InitSodium() { CHECK(sodium_init() >= 0); }

// Best effort: keeps the seed out of swap. A failure (RLIMIT_MEMLOCK) is not an error: the seed
// is still wiped on destruction.
void LockSeed(SecretBytes& seed) {
  if (seed.size() == 0) return;
  std::span<uint8_t> bytes = seed.RevealMutable(SecretAccess::Get());
  (void)sodium_mlock(bytes.data(), bytes.size());
}

void UnlockSeed(SecretBytes& seed) {
  if (seed.size() == 0) return;
  std::span<uint8_t> bytes = seed.RevealMutable(SecretAccess::Get());
  // sodium_munlock also zeroes the bytes.
  (void)sodium_munlock(bytes.data(), bytes.size());
}

}  // namespace

Ed25519PrivateKey::Ed25519PrivateKey(SecretBytes seed, const Ed25519PublicKey& public_key)
    : seed_(std::move(seed)), public_key_(public_key) {
  LockSeed(seed_);
}

Ed25519PrivateKey::~Ed25519PrivateKey() { UnlockSeed(seed_); }

Ed25519PrivateKey& Ed25519PrivateKey::operator=(Ed25519PrivateKey&& other) noexcept {
  if (this != &other) {
    UnlockSeed(seed_);
    seed_ = std::move(other.seed_);
    public_key_ = other.public_key_;
  }
  return *this;
}

Ed25519PrivateKey Ed25519PrivateKey::Generate(Rng& rng) {
  SecretBytes seed(kEd25519SeedSize);
  rng.Fill(seed.RevealMutable(SecretAccess::Get()));
  util::Result<Ed25519PrivateKey> key = FromSeed(std::move(seed));
  CHECK(key.ok());
  return std::move(key).value();
}

util::Result<Ed25519PrivateKey> Ed25519PrivateKey::FromSeed(SecretBytes seed) {
  if (seed.size() != kEd25519SeedSize) {
    return util::InvalidArgumentError("ed25519 seed: must be 32 bytes");
  }
  InitSodium();
  Ed25519PublicKey public_key{};
  unsigned char expanded[crypto_sign_SECRETKEYBYTES];
  CHECK(crypto_sign_seed_keypair(public_key.data(), expanded,
                                 seed.Reveal(SecretAccess::Get()).data()) == 0);
  sodium_memzero(expanded, sizeof(expanded));
  return Ed25519PrivateKey(std::move(seed), public_key);
}

Ed25519Signature Ed25519PrivateKey::Sign(std::span<const uint8_t> message) const {
  CHECK(seed_.size() == kEd25519SeedSize);  // Not a moved-from key.
  InitSodium();
  // libsodium signs with the expanded secret key (seed || public key).
  unsigned char expanded[crypto_sign_SECRETKEYBYTES];
  Ed25519PublicKey derived{};
  CHECK(crypto_sign_seed_keypair(derived.data(), expanded,
                                 seed_.Reveal(SecretAccess::Get()).data()) == 0);
  Ed25519Signature signature{};
  const int rc =
      crypto_sign_detached(signature.data(), nullptr, message.data(), message.size(), expanded);
  sodium_memzero(expanded, sizeof(expanded));
  CHECK(rc == 0);
  return signature;
}

bool Ed25519Verify(const Ed25519PublicKey& public_key, std::span<const uint8_t> message,
                   const Ed25519Signature& signature) {
  InitSodium();
  return crypto_sign_verify_detached(signature.data(), message.data(), message.size(),
                                     public_key.data()) == 0;
}

bool IsValidEd25519PublicKey(const Ed25519PublicKey& public_key) {
  InitSodium();
  return crypto_core_ed25519_is_valid_point(public_key.data()) == 1;
}

}  // namespace kinko::crypto
