#include "crypto/secret.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <utility>

namespace kinko::crypto {

SecretBytes::SecretBytes(size_t size) : bytes_(size, 0) {}

SecretBytes SecretBytes::FromSpan(std::span<const uint8_t> bytes) {
  SecretBytes secret(bytes.size());
  std::copy(bytes.begin(), bytes.end(), secret.bytes_.begin());
  return secret;
}

SecretBytes::~SecretBytes() { Wipe(); }

// A moved-from vector is empty (its buffer changes owner, no bytes are copied), so no copy of
// the secret is left behind; clear() makes the empty state explicit.
SecretBytes::SecretBytes(SecretBytes&& other) noexcept : bytes_(std::move(other.bytes_)) {
  other.bytes_.clear();
}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
  if (this != &other) {
    // The old buffer is freed by the assignment below: wipe it first.
    Wipe();
    bytes_ = std::move(other.bytes_);
    other.bytes_.clear();
  }
  return *this;
}

void SecretBytes::Wipe() { crypto::Wipe(bytes_); }

void Wipe(std::span<uint8_t> bytes) {
  if (bytes.empty()) return;
  OPENSSL_cleanse(bytes.data(), bytes.size());
}

bool CtEqual(std::span<const uint8_t> a, std::span<const uint8_t> b) {
  // The sizes are not secret (a MAC or token has a public length).
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace kinko::crypto
