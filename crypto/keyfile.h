// Encrypted key files: a private key encrypted under a passphrase with Argon2id (key
// derivation) and XChaCha20-Poly1305 (authenticated encryption), with the public key, a label
// and the KDF parameters in the clear and authenticated. Two signature schemes share the
// format up to the public key:
// - KeyFile (scheme 0x01): the Ed25519 seed of an identity key (doc/identities.md,
//   doc/decisions/0003);
// - Secp256k1KeyFile (scheme 0x02): a secp256k1 private key, with a text in the clear that
//   says what the key is (signerd's file key backend stores the key's BIP32 origin and xpub
//   there; doc/key-backends.md).
//
// Scheme 0x01 layout (all integers big-endian). DO NOT CHANGE: stored in users' key files.
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
// Scheme 0x02 layout. DO NOT CHANGE: stored in users' key files.
//   offset  size  field
//        0    19  magic, version 0x01, scheme 0x02, key derivation, passes, memory (as above)
//       19    16  salt
//       35    24  XChaCha20-Poly1305 nonce
//       59    33  compressed secp256k1 public key
//       92     1  label length L, 1..64
//       93     L  label: [A-Za-z0-9._@-]
//     93+L     2  public info length I, 0..1024
//     95+L     I  public info: printable ASCII (0x20..0x7e)
//   95+L+I    48  ciphertext of the 32-byte private key || 16-byte Poly1305 tag
// The associated data is bytes [0, 95+L+I). A file has exactly 143+L+I bytes.
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
#include "crypto/secp256k1.h"
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
inline constexpr size_t kKeyPublicInfoMaxSize = 1024;

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

// An encrypted secp256k1 private key (scheme 0x02). Copyable and movable; holds no plaintext
// secret.
class Secp256k1KeyFile final {
 public:
  // Encrypts `key` under `passphrase` with `params`, a fresh salt and nonce from `rng`;
  // `public_info` is stored in the clear and authenticated. Fails with kInvalidArgument when
  // `label` is not a valid label, `public_info` is longer than 1024 bytes or not printable
  // ASCII, `params` are out of range, or `passphrase` is empty; with kUnavailable when
  // Argon2id cannot run (out of memory).
  static util::Result<Secp256k1KeyFile> Encrypt(const Secp256k1Context& ctx, const PrivateKey& key,
                                                std::string_view label,
                                                std::string_view public_info,
                                                const SecretBytes& passphrase,
                                                const KdfParams& params, Rng& rng);

  // Parses a key file without decrypting it. Fails with kInvalidArgument naming the field:
  // wrong magic, unknown version, scheme or key derivation, KDF parameters out of range, an
  // invalid public key, an invalid label or public info, or a size other than 143+L+I.
  static util::Result<Secp256k1KeyFile> Parse(std::span<const uint8_t> bytes);

  // The file's bytes. Parse(Serialize()) gives back an equal file.
  std::vector<uint8_t> Serialize() const;

  // Derives the file key from `passphrase` and decrypts the private key.
  // Fails with kPermissionDenied "key file: wrong passphrase or corrupted file" when the
  // passphrase is wrong or any byte of the file was altered (the two cannot be told apart);
  // with kDataLoss when the decrypted key is invalid or does not give the stored public key;
  // with kUnavailable when Argon2id cannot run.
  util::Result<PrivateKey> Decrypt(const Secp256k1Context& ctx,
                                   const SecretBytes& passphrase) const;

  const PublicKey& public_key() const { return public_key_; }
  const std::string& label() const { return label_; }
  const std::string& public_info() const { return public_info_; }
  const KdfParams& kdf_params() const { return params_; }

 private:
  explicit Secp256k1KeyFile(PublicKey public_key) : public_key_(std::move(public_key)) {}
  std::vector<uint8_t> Header() const;  // The associated data: bytes [0, 95+L+I).

  KdfParams params_;
  std::array<uint8_t, 16> salt_{};
  std::array<uint8_t, 24> nonce_{};
  PublicKey public_key_;
  std::string label_;
  std::string public_info_;
  std::array<uint8_t, 48> ciphertext_{};
};

}  // namespace kinko::crypto

#endif  // KINKO_CRYPTO_KEYFILE_H_
