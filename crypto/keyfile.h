// The encrypted key file of an identity key (doc/identities.md, doc/decisions/0003): an Ed25519
// seed encrypted under a passphrase with Argon2id (key derivation) and XChaCha20-Poly1305
// (authenticated encryption), with the public key, a label and the KDF parameters in the clear
// and authenticated.
//
// Layout (all integers big-endian). DO NOT CHANGE: stored in users' key files.
//   offset  size  field
//        0     8  magic "KINKOKEY"
//        8     1  format version, 0x01
//        9     1  signature scheme, 0x01 = Ed25519
//       10     1  key derivation, 0x01 = Argon2id v1.3
//       11     4  Argon2id passes (opslimit), 1..10
//       15     4  Argon2id memory in KiB, 8..1048576
//       19    16  salt
//       35    24  XChaCha20-Poly1305 nonce
//       59    32  public key
//       91     1  label length L, 1..64
//       92     L  label: [A-Za-z0-9._@-]
//     92+L    48  ciphertext of the 32-byte seed || 16-byte Poly1305 tag
// The associated data of the encryption is bytes [0, 92+L): changing any clear field makes
// decryption fail. A file has exactly 140+L bytes.
//
// Thread-safe: a KeyFile is an immutable value; the functions are pure apart from `rng`.
#ifndef KINKO_CRYPTO_KEYFILE_H_
#define KINKO_CRYPTO_KEYFILE_H_

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/ed25519.h"
#include "crypto/rng.h"
#include "crypto/secret.h"
#include "util/result.h"

namespace kinko::crypto {

// Argon2id cost parameters.
struct KdfParams {
  uint32_t passes = 3;              // opslimit.
  uint32_t memory_kib = 64 * 1024;  // 64 MiB.
};

inline constexpr uint32_t kKdfMaxPasses = 10;
inline constexpr uint32_t kKdfMinMemoryKib = 8;
inline constexpr uint32_t kKdfMaxMemoryKib = 1024 * 1024;
inline constexpr size_t kKeyLabelMaxSize = 64;

// True when `label` is 1..64 characters of [A-Za-z0-9._@-].
bool IsValidKeyLabel(std::string_view label);

// An encrypted identity key. Copyable and movable; holds no plaintext secret.
class KeyFile final {
 public:
  // Encrypts the seed of `key` under `passphrase` with `params`, a fresh salt and nonce from
  // `rng`. Fails with kInvalidArgument when `label` is not a valid label, `params` are out of
  // the ranges above, or `passphrase` is empty.
  static util::Result<KeyFile> Encrypt(const Ed25519PrivateKey& key, std::string_view label,
                                       const SecretBytes& passphrase, const KdfParams& params,
                                       Rng& rng);

  // Parses a key file without decrypting it. Fails with kInvalidArgument naming the field:
  // wrong magic, unknown version, scheme or key derivation, KDF parameters out of range, an
  // invalid public key, an invalid label, or a size other than 140+L.
  static util::Result<KeyFile> Parse(std::span<const uint8_t> bytes);

  // The file's bytes. Parse(Serialize()) gives back an equal KeyFile.
  std::vector<uint8_t> Serialize() const;

  // Derives the file key from `passphrase` and decrypts the seed.
  // Fails with kPermissionDenied when the passphrase is wrong or any byte of the file was
  // altered (the two cannot be told apart), and with kDataLoss when the decrypted seed does not
  // give the stored public key (a file written by a faulty program).
  util::Result<Ed25519PrivateKey> Decrypt(const SecretBytes& passphrase) const;

  const Ed25519PublicKey& public_key() const { return public_key_; }
  const std::string& label() const { return label_; }
  const KdfParams& kdf_params() const { return params_; }

 private:
  KeyFile() = default;
  std::vector<uint8_t> Header() const;  // The associated data: bytes [0, 92+L).

  KdfParams params_;
  std::array<uint8_t, 16> salt_{};
  std::array<uint8_t, 24> nonce_{};
  Ed25519PublicKey public_key_{};
  std::string label_;
  std::array<uint8_t, 48> ciphertext_{};
};

}  // namespace kinko::crypto

#endif  // KINKO_CRYPTO_KEYFILE_H_
