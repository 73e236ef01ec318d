#include "crypto/key_export.h"

#include <algorithm>
#include <vector>

#include "crypto/secret.h"
#include "util/check.h"

namespace kinko::crypto {

std::array<uint8_t, 32> ExportPrivateKeyBytes(const PrivateKey& key) {
  const std::span<const uint8_t> secret = key.secret().Reveal(SecretAccess::Get());
  CHECK(secret.size() == 32);
  std::array<uint8_t, 32> out;
  std::copy(secret.begin(), secret.end(), out.begin());
  return out;
}

PrivateKey CopyPrivateKey(const PrivateKey& key) {
  util::Result<PrivateKey> copy = PrivateKey::FromBytes(key.secret().Reveal(SecretAccess::Get()));
  // The source is a valid key, so the copy is too.
  CHECK(copy.ok());
  return std::move(copy).value();
}

Hash512Bytes HmacSha512WithPrivateKey(std::span<const uint8_t> hmac_key,
                                      std::span<const uint8_t> prefix, const PrivateKey& key,
                                      std::span<const uint8_t> suffix) {
  const std::span<const uint8_t> secret = key.secret().Reveal(SecretAccess::Get());
  SecretBytes data(prefix.size() + secret.size() + suffix.size());
  const std::span<uint8_t> out = data.RevealMutable(SecretAccess::Get());
  auto it = std::copy(prefix.begin(), prefix.end(), out.begin());
  it = std::copy(secret.begin(), secret.end(), it);
  std::copy(suffix.begin(), suffix.end(), it);
  return HmacSha512(hmac_key, data.Reveal(SecretAccess::Get()));
}

}  // namespace kinko::crypto
