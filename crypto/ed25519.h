// Ed25519 signatures (RFC 8032, "pure" Ed25519) for the identities of people and services:
// requesters, approvers, admins. The only code in kinko that calls libsodium's signatures.
//
// A private key is kept as its 32-byte RFC 8032 seed in a SecretBytes whose buffer is locked in
// memory (sodium_mlock, best effort) and wiped when the key is destroyed. Signing expands the seed
// into a temporary buffer that is wiped before Sign returns.
//
// Thread-safe: the free functions are pure; an Ed25519PrivateKey has one owner.
#ifndef KINKO_CRYPTO_ED25519_H_
#define KINKO_CRYPTO_ED25519_H_

#include <array>
#include <cstdint>
#include <span>

#include "crypto/rng.h"
#include "crypto/secret.h"
#include "util/result.h"

namespace kinko::crypto {

inline constexpr size_t kEd25519SeedSize = 32;
inline constexpr size_t kEd25519PublicKeySize = 32;
inline constexpr size_t kEd25519SignatureSize = 64;

using Ed25519PublicKey = std::array<uint8_t, kEd25519PublicKeySize>;
using Ed25519Signature = std::array<uint8_t, kEd25519SignatureSize>;

// Movable, not copyable. WARNING: MUST NOT be logged; it has no operator<<.
class Ed25519PrivateKey final {
 public:
  // A new key from 32 bytes of `rng`.
  static Ed25519PrivateKey Generate(Rng& rng);
  // The key whose RFC 8032 seed is `seed`. Fails with kInvalidArgument when `seed` is not 32
  // bytes. The caller wipes its own copy of the seed.
  static util::Result<Ed25519PrivateKey> FromSeed(SecretBytes seed);

  ~Ed25519PrivateKey();
  Ed25519PrivateKey(const Ed25519PrivateKey&) = delete;
  Ed25519PrivateKey& operator=(const Ed25519PrivateKey&) = delete;
  Ed25519PrivateKey(Ed25519PrivateKey&& other) noexcept = default;
  Ed25519PrivateKey& operator=(Ed25519PrivateKey&& other) noexcept;

  const Ed25519PublicKey& public_key() const { return public_key_; }
  // The 32-byte seed, for storing the key encrypted (crypto/keyfile.h).
  const SecretBytes& seed() const { return seed_; }

  // The RFC 8032 Ed25519 signature of `message` (deterministic: the same key and message give
  // the same signature).
  Ed25519Signature Sign(std::span<const uint8_t> message) const;

 private:
  Ed25519PrivateKey(SecretBytes seed, const Ed25519PublicKey& public_key);
  SecretBytes seed_;
  Ed25519PublicKey public_key_{};
};

// True when `signature` is a valid Ed25519 signature of `message` under `public_key`.
// libsodium's rules: rejects non-canonical S (S >= L), small-order and non-canonical public keys
// and R values, so a valid signature cannot be altered into another valid one.
bool Ed25519Verify(const Ed25519PublicKey& public_key, std::span<const uint8_t> message,
                   const Ed25519Signature& signature);

// True when `public_key` is the encoding of a usable Ed25519 public key (a canonical point of
// the main subgroup that is not of small order).
bool IsValidEd25519PublicKey(const Ed25519PublicKey& public_key);

}  // namespace kinko::crypto

#endif  // KINKO_CRYPTO_ED25519_H_
