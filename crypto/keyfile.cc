#include "crypto/keyfile.h"

#include <sodium.h>

#include <algorithm>
#include <utility>

#include "util/check.h"

namespace kinko::crypto {
namespace {

// DO NOT CHANGE: stored in users' key files.
constexpr std::array<uint8_t, 8> kMagic = {'K', 'I', 'N', 'K', 'O', 'K', 'E', 'Y'};
constexpr uint8_t kVersion = 0x01;
constexpr uint8_t kSchemeEd25519 = 0x01;
constexpr uint8_t kSchemeSecp256k1 = 0x02;
constexpr uint8_t kKdfArgon2id13 = 0x01;
constexpr size_t kCommonHeaderSize = 59;    // Magic to nonce, shared by both schemes.
constexpr size_t kHeaderFixedSize = 92;     // Scheme 0x01: everything before the label.
constexpr size_t kSecp256k1FixedSize = 93;  // Scheme 0x02: everything before the label.
constexpr size_t kCiphertextSize = 48;
constexpr size_t kSecp256k1KeySize = 32;

static_assert(crypto_pwhash_SALTBYTES == 16);
static_assert(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES == 24);
static_assert(crypto_aead_xchacha20poly1305_ietf_KEYBYTES == 32);
static_assert(crypto_aead_xchacha20poly1305_ietf_ABYTES + kEd25519SeedSize == kCiphertextSize);
static_assert(crypto_aead_xchacha20poly1305_ietf_ABYTES + kSecp256k1KeySize == kCiphertextSize);

void AppendU32(std::vector<uint8_t>& out, uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(value >> shift));
}

uint32_t ReadU32(std::span<const uint8_t> bytes) {
  return (uint32_t{bytes[0]} << 24) | (uint32_t{bytes[1]} << 16) | (uint32_t{bytes[2]} << 8) |
         uint32_t{bytes[3]};
}

util::Status CheckParams(const KdfParams& params) {
  if (params.passes < 1 || params.passes > kKdfMaxPasses) {
    return util::InvalidArgumentError("key file: argon2id passes must be 1..10");
  }
  if (params.memory_kib < kKdfMinMemoryKib || params.memory_kib > kKdfMaxMemoryKib) {
    return util::InvalidArgumentError("key file: argon2id memory must be 8..1048576 KiB");
  }
  return util::OkStatus();
}

// Derives the 32-byte file key. Returns false when Argon2id cannot run (out of memory).
bool DeriveFileKey(const SecretBytes& passphrase, std::span<const uint8_t, 16> salt,
                   const KdfParams& params, std::span<uint8_t, 32> out) {
  std::span<const uint8_t> pass = passphrase.Reveal(SecretAccess::Get());
  return crypto_pwhash(out.data(), out.size(), reinterpret_cast<const char*>(pass.data()),
                       pass.size(), salt.data(), params.passes,
                       static_cast<size_t>(params.memory_kib) * 1024,
                       crypto_pwhash_ALG_ARGON2ID13) == 0;
}

// Bytes [0, 59): magic, version, `scheme`, key derivation, KDF parameters, salt and nonce.
void AppendCommonHeader(std::vector<uint8_t>& out, uint8_t scheme, const KdfParams& params,
                        std::span<const uint8_t, 16> salt, std::span<const uint8_t, 24> nonce) {
  out.insert(out.end(), kMagic.begin(), kMagic.end());
  out.push_back(kVersion);
  out.push_back(scheme);
  out.push_back(kKdfArgon2id13);
  AppendU32(out, params.passes);
  AppendU32(out, params.memory_kib);
  out.insert(out.end(), salt.begin(), salt.end());
  out.insert(out.end(), nonce.begin(), nonce.end());
}

// Parses bytes [0, 59) of a file of `scheme`. Requires bytes.size() >= kCommonHeaderSize.
util::Status ParseCommonHeader(std::span<const uint8_t> bytes, uint8_t scheme, KdfParams& params,
                               std::span<uint8_t, 16> salt, std::span<uint8_t, 24> nonce) {
  CHECK(bytes.size() >= kCommonHeaderSize);
  if (!std::equal(kMagic.begin(), kMagic.end(), bytes.begin())) {
    return util::InvalidArgumentError("key file: not a kinko key file (bad magic)");
  }
  if (bytes[8] != kVersion) return util::InvalidArgumentError("key file: unknown version");
  if (bytes[9] != scheme) return util::InvalidArgumentError("key file: unknown signature scheme");
  if (bytes[10] != kKdfArgon2id13) {
    return util::InvalidArgumentError("key file: unknown key derivation");
  }
  params.passes = ReadU32(bytes.subspan(11, 4));
  params.memory_kib = ReadU32(bytes.subspan(15, 4));
  if (util::Status status = CheckParams(params); !status.ok()) return status;
  std::copy_n(bytes.begin() + 19, 16, salt.begin());
  std::copy_n(bytes.begin() + 35, 24, nonce.begin());
  return util::OkStatus();
}

bool IsValidPublicInfo(std::string_view info) {
  return info.size() <= kKeyPublicInfoMaxSize &&
         std::all_of(info.begin(), info.end(), [](char c) { return c >= 0x20 && c <= 0x7e; });
}

}  // namespace

bool IsValidKeyLabel(std::string_view label) {
  if (label.empty() || label.size() > kKeyLabelMaxSize) return false;
  return std::all_of(label.begin(), label.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '@' || c == '-';
  });
}

std::vector<uint8_t> KeyFile::Header() const {
  std::vector<uint8_t> out;
  AppendCommonHeader(out, kSchemeEd25519, params_, salt_, nonce_);
  out.insert(out.end(), public_key_.begin(), public_key_.end());
  out.push_back(static_cast<uint8_t>(label_.size()));
  out.insert(out.end(), label_.begin(), label_.end());
  return out;
}

util::Result<KeyFile> KeyFile::Encrypt(const Ed25519PrivateKey& key, std::string_view label,
                                       const SecretBytes& passphrase, const KdfParams& params,
                                       Rng& rng) {
  if (!IsValidKeyLabel(label)) {
    return util::InvalidArgumentError("key label: must be 1..64 characters of [A-Za-z0-9._@-]");
  }
  if (util::Status status = CheckParams(params); !status.ok()) return status;
  if (passphrase.size() == 0) return util::InvalidArgumentError("passphrase: empty");
  CHECK(sodium_init() >= 0);

  KeyFile file;
  file.params_ = params;
  rng.Fill(file.salt_);
  rng.Fill(file.nonce_);
  file.public_key_ = key.public_key();
  file.label_ = std::string(label);
  const std::vector<uint8_t> header = file.Header();

  std::array<uint8_t, 32> file_key{};
  if (!DeriveFileKey(passphrase, file.salt_, params, file_key)) {
    return util::UnavailableError("key file: argon2id failed (out of memory?)");
  }
  std::span<const uint8_t> seed = key.seed().Reveal(SecretAccess::Get());
  unsigned long long ciphertext_size = 0;
  const int rc = crypto_aead_xchacha20poly1305_ietf_encrypt(
      file.ciphertext_.data(), &ciphertext_size, seed.data(), seed.size(), header.data(),
      header.size(), nullptr, file.nonce_.data(), file_key.data());
  sodium_memzero(file_key.data(), file_key.size());
  CHECK(rc == 0 && ciphertext_size == kCiphertextSize);
  return file;
}

util::Result<KeyFile> KeyFile::Parse(std::span<const uint8_t> bytes) {
  if (bytes.size() < kHeaderFixedSize) return util::InvalidArgumentError("key file: truncated");
  KeyFile file;
  if (util::Status status =
          ParseCommonHeader(bytes, kSchemeEd25519, file.params_, file.salt_, file.nonce_);
      !status.ok()) {
    return status;
  }
  std::copy_n(bytes.begin() + 59, 32, file.public_key_.begin());
  if (!IsValidEd25519PublicKey(file.public_key_)) {
    return util::InvalidArgumentError("key file: invalid ed25519 public key");
  }
  const size_t label_size = bytes[91];
  if (bytes.size() != kHeaderFixedSize + label_size + kCiphertextSize) {
    return util::InvalidArgumentError("key file: size does not match its label length");
  }
  file.label_.assign(bytes.begin() + kHeaderFixedSize,
                     bytes.begin() + static_cast<std::ptrdiff_t>(kHeaderFixedSize + label_size));
  if (!IsValidKeyLabel(file.label_)) {
    return util::InvalidArgumentError("key file: invalid label");
  }
  std::copy_n(bytes.begin() + static_cast<std::ptrdiff_t>(kHeaderFixedSize + label_size),
              kCiphertextSize, file.ciphertext_.begin());
  return file;
}

std::vector<uint8_t> KeyFile::Serialize() const {
  std::vector<uint8_t> out = Header();
  out.insert(out.end(), ciphertext_.begin(), ciphertext_.end());
  return out;
}

util::Result<Ed25519PrivateKey> KeyFile::Decrypt(const SecretBytes& passphrase) const {
  CHECK(sodium_init() >= 0);
  const std::vector<uint8_t> header = Header();
  std::array<uint8_t, 32> file_key{};
  if (!DeriveFileKey(passphrase, salt_, params_, file_key)) {
    return util::UnavailableError("key file: argon2id failed (out of memory?)");
  }
  SecretBytes seed(kEd25519SeedSize);
  std::span<uint8_t> seed_bytes = seed.RevealMutable(SecretAccess::Get());
  unsigned long long seed_size = 0;
  const int rc = crypto_aead_xchacha20poly1305_ietf_decrypt(
      seed_bytes.data(), &seed_size, nullptr, ciphertext_.data(), ciphertext_.size(), header.data(),
      header.size(), nonce_.data(), file_key.data());
  sodium_memzero(file_key.data(), file_key.size());
  if (rc != 0 || seed_size != kEd25519SeedSize) {
    return util::PermissionDeniedError(
        "key file: cannot decrypt (wrong passphrase, or the file was altered)");
  }
  util::Result<Ed25519PrivateKey> key = Ed25519PrivateKey::FromSeed(std::move(seed));
  if (!key.ok()) return key.status();
  if (!CtEqual(key->public_key(), public_key_)) {
    return util::DataLossError("key file: the decrypted key does not match its public key");
  }
  return key;
}

std::vector<uint8_t> Secp256k1KeyFile::Header() const {
  std::vector<uint8_t> out;
  AppendCommonHeader(out, kSchemeSecp256k1, params_, salt_, nonce_);
  const std::array<uint8_t, 33> public_key = public_key_.SerializeCompressed();
  out.insert(out.end(), public_key.begin(), public_key.end());
  out.push_back(static_cast<uint8_t>(label_.size()));
  out.insert(out.end(), label_.begin(), label_.end());
  out.push_back(static_cast<uint8_t>(public_info_.size() >> 8));
  out.push_back(static_cast<uint8_t>(public_info_.size() & 0xff));
  out.insert(out.end(), public_info_.begin(), public_info_.end());
  return out;
}

util::Result<Secp256k1KeyFile> Secp256k1KeyFile::Encrypt(const Secp256k1Context& ctx,
                                                         const PrivateKey& key,
                                                         std::string_view label,
                                                         std::string_view public_info,
                                                         const SecretBytes& passphrase,
                                                         const KdfParams& params, Rng& rng) {
  if (!IsValidKeyLabel(label)) {
    return util::InvalidArgumentError("key label: must be 1..64 characters of [A-Za-z0-9._@-]");
  }
  if (!IsValidPublicInfo(public_info)) {
    return util::InvalidArgumentError(
        "key file: public info must be at most 1024 printable ascii characters");
  }
  if (util::Status status = CheckParams(params); !status.ok()) return status;
  if (passphrase.size() == 0) return util::InvalidArgumentError("passphrase: empty");
  CHECK(sodium_init() >= 0);

  Secp256k1KeyFile file(DerivePublicKey(ctx, key));
  file.params_ = params;
  rng.Fill(file.salt_);
  rng.Fill(file.nonce_);
  file.label_ = std::string(label);
  file.public_info_ = std::string(public_info);
  const std::vector<uint8_t> header = file.Header();

  std::array<uint8_t, 32> file_key{};
  if (!DeriveFileKey(passphrase, file.salt_, params, file_key)) {
    return util::UnavailableError("key file: argon2id failed (out of memory?)");
  }
  std::span<const uint8_t> secret = key.secret().Reveal(SecretAccess::Get());
  unsigned long long ciphertext_size = 0;
  const int rc = crypto_aead_xchacha20poly1305_ietf_encrypt(
      file.ciphertext_.data(), &ciphertext_size, secret.data(), secret.size(), header.data(),
      header.size(), nullptr, file.nonce_.data(), file_key.data());
  sodium_memzero(file_key.data(), file_key.size());
  CHECK(rc == 0 && ciphertext_size == kCiphertextSize);
  return file;
}

util::Result<Secp256k1KeyFile> Secp256k1KeyFile::Parse(std::span<const uint8_t> bytes) {
  if (bytes.size() < kSecp256k1FixedSize) {
    return util::InvalidArgumentError("key file: truncated");
  }
  KdfParams params;
  std::array<uint8_t, 16> salt{};
  std::array<uint8_t, 24> nonce{};
  if (util::Status status = ParseCommonHeader(bytes, kSchemeSecp256k1, params, salt, nonce);
      !status.ok()) {
    return status;
  }
  util::Result<PublicKey> public_key = PublicKey::Parse(bytes.subspan(59, 33));
  if (!public_key.ok() || !public_key->IsCompressed()) {
    return util::InvalidArgumentError("key file: invalid secp256k1 public key");
  }
  Secp256k1KeyFile file(std::move(*public_key));
  file.params_ = params;
  file.salt_ = salt;
  file.nonce_ = nonce;
  const size_t label_size = bytes[92];
  // Invariant for the reads below: every offset is checked against the size before use.
  const size_t info_length_at = kSecp256k1FixedSize + label_size;
  if (bytes.size() < info_length_at + 2) return util::InvalidArgumentError("key file: truncated");
  const size_t info_size = (size_t{bytes[info_length_at]} << 8) | bytes[info_length_at + 1];
  const size_t ciphertext_at = info_length_at + 2 + info_size;
  if (bytes.size() != ciphertext_at + kCiphertextSize) {
    return util::InvalidArgumentError("key file: size does not match its field lengths");
  }
  const auto text_at = [&](size_t offset, size_t size) {
    return std::string(bytes.begin() + static_cast<std::ptrdiff_t>(offset),
                       bytes.begin() + static_cast<std::ptrdiff_t>(offset + size));
  };
  file.label_ = text_at(kSecp256k1FixedSize, label_size);
  if (!IsValidKeyLabel(file.label_)) return util::InvalidArgumentError("key file: invalid label");
  file.public_info_ = text_at(info_length_at + 2, info_size);
  if (!IsValidPublicInfo(file.public_info_)) {
    return util::InvalidArgumentError("key file: invalid public info");
  }
  std::copy_n(bytes.begin() + static_cast<std::ptrdiff_t>(ciphertext_at), kCiphertextSize,
              file.ciphertext_.begin());
  return file;
}

std::vector<uint8_t> Secp256k1KeyFile::Serialize() const {
  std::vector<uint8_t> out = Header();
  out.insert(out.end(), ciphertext_.begin(), ciphertext_.end());
  return out;
}

util::Result<PrivateKey> Secp256k1KeyFile::Decrypt(const Secp256k1Context& ctx,
                                                   const SecretBytes& passphrase) const {
  CHECK(sodium_init() >= 0);
  const std::vector<uint8_t> header = Header();
  std::array<uint8_t, 32> file_key{};
  if (!DeriveFileKey(passphrase, salt_, params_, file_key)) {
    return util::UnavailableError("key file: argon2id failed (out of memory?)");
  }
  SecretBytes secret(kSecp256k1KeySize);
  std::span<uint8_t> secret_bytes = secret.RevealMutable(SecretAccess::Get());
  unsigned long long secret_size = 0;
  const int rc = crypto_aead_xchacha20poly1305_ietf_decrypt(
      secret_bytes.data(), &secret_size, nullptr, ciphertext_.data(), ciphertext_.size(),
      header.data(), header.size(), nonce_.data(), file_key.data());
  sodium_memzero(file_key.data(), file_key.size());
  if (rc != 0 || secret_size != kSecp256k1KeySize) {
    return util::PermissionDeniedError("key file: wrong passphrase or corrupted file");
  }
  util::Result<PrivateKey> key = PrivateKey::FromBytes(secret_bytes);
  // The message of FromBytes names no key material; it is replaced all the same.
  if (!key.ok()) return util::DataLossError("key file: the decrypted key is invalid");
  if (DerivePublicKey(ctx, *key) != public_key_) {
    return util::DataLossError("key file: the decrypted key does not match its public key");
  }
  return key;
}

}  // namespace kinko::crypto
