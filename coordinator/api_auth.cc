#include "coordinator/api_auth.h"

#include <algorithm>
#include <array>
#include <optional>
#include <vector>

#include "crypto/hash.h"
#include "util/hex.h"

namespace kinko::coordinator {
namespace {

std::span<const uint8_t> Bytes(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

// Decimal seconds as the header carries them: digits only, no sign, no superfluous leading
// zero, at most 19 digits (so the value fits in uint64_t without overflow checks).
std::optional<uint64_t> ParseDecimal(std::string_view digits) {
  if (digits.empty() || digits.size() > 19) return std::nullopt;
  if (digits.size() > 1 && digits.front() == '0') return std::nullopt;
  uint64_t value = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  return value;
}

// Exactly N bytes of lowercase hex (the header is produced by programs, so one spelling only).
template <size_t N>
util::Result<std::array<uint8_t, N>> ParseLowerHex(std::string_view field, std::string_view hex) {
  const bool lowercase = std::all_of(hex.begin(), hex.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  });
  if (hex.size() != 2 * N || !lowercase) {
    return util::InvalidArgumentError("authorization: " + std::string(field) + ": expected " +
                                      std::to_string(2 * N) + " lowercase hex characters");
  }
  util::Result<std::vector<uint8_t>> bytes = util::HexDecodeExact(hex, N);
  if (!bytes.ok()) return bytes.status().WithPrefix("authorization: " + std::string(field));
  std::array<uint8_t, N> out{};
  std::copy(bytes->begin(), bytes->end(), out.begin());
  return out;
}

}  // namespace

policy::Digest RequestDigest(std::string_view method, std::string_view target, uint64_t time,
                             std::string_view body) {
  static constexpr uint8_t kSeparator[1] = {0x00};
  const std::string decimal_time = std::to_string(time);
  const crypto::Hash256Bytes body_hash = crypto::Sha256(Bytes(body));
  crypto::Sha256Hasher hasher = crypto::TaggedHasher(kRequestTag);
  hasher.Write(Bytes(method)).Write(kSeparator);
  hasher.Write(Bytes(target)).Write(kSeparator);
  hasher.Write(Bytes(decimal_time)).Write(kSeparator);
  hasher.Write(body_hash);
  return hasher.Finalize();
}

std::string AuthorizationHeader(const crypto::Ed25519PrivateKey& key, std::string_view method,
                                std::string_view target, uint64_t time, std::string_view body) {
  const policy::Digest digest = RequestDigest(method, target, time, body);
  const crypto::Ed25519Signature signature = key.Sign(digest);
  return std::string(kAuthScheme) + " key=" + util::HexEncode(key.public_key()) +
         ",time=" + std::to_string(time) + ",sig=" + util::HexEncode(signature);
}

util::Result<Caller> VerifyAuthorization(std::string_view header, std::string_view method,
                                         std::string_view target, std::string_view body,
                                         uint64_t now) {
  // "Kinko-Ed25519 " then exactly the three fields, each once, separated by commas without
  // spaces. Any other shape is refused rather than guessed at.
  if (header.size() <= kAuthScheme.size() || header.substr(0, kAuthScheme.size()) != kAuthScheme ||
      header[kAuthScheme.size()] != ' ') {
    return util::InvalidArgumentError("authorization: expected scheme '" +
                                      std::string(kAuthScheme) + "'");
  }
  std::string_view rest = header.substr(kAuthScheme.size() + 1);
  std::optional<std::string_view> key_hex;
  std::optional<std::string_view> time_text;
  std::optional<std::string_view> sig_hex;
  while (true) {
    const size_t comma = rest.find(',');
    const std::string_view field = rest.substr(0, comma);
    const size_t equals = field.find('=');
    if (equals == std::string_view::npos) {
      return util::InvalidArgumentError(
          "authorization: field '" + std::string(field.substr(0, 32)) + "': expected name=value");
    }
    const std::string_view name = field.substr(0, equals);
    const std::string_view value = field.substr(equals + 1);
    std::optional<std::string_view>* slot = nullptr;
    if (name == "key") {
      slot = &key_hex;
    } else if (name == "time") {
      slot = &time_text;
    } else if (name == "sig") {
      slot = &sig_hex;
    } else {
      return util::InvalidArgumentError("authorization: unknown field '" +
                                        std::string(name.substr(0, 32)) + "'");
    }
    if (slot->has_value()) {
      return util::InvalidArgumentError("authorization: field '" + std::string(name) +
                                        "' repeated");
    }
    *slot = value;
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  if (!key_hex) return util::InvalidArgumentError("authorization: missing field 'key'");
  if (!time_text) return util::InvalidArgumentError("authorization: missing field 'time'");
  if (!sig_hex) return util::InvalidArgumentError("authorization: missing field 'sig'");

  util::Result<crypto::Ed25519PublicKey> public_key =
      ParseLowerHex<crypto::kEd25519PublicKeySize>("key", *key_hex);
  if (!public_key.ok()) return public_key.status();
  const std::optional<uint64_t> time = ParseDecimal(*time_text);
  if (!time) {
    return util::InvalidArgumentError("authorization: time: expected decimal seconds");
  }
  util::Result<crypto::Ed25519Signature> signature =
      ParseLowerHex<crypto::kEd25519SignatureSize>("sig", *sig_hex);
  if (!signature.ok()) return signature.status();

  const uint64_t skew = *time > now ? *time - now : now - *time;
  if (skew > kMaxClockSkewSeconds) {
    return util::PermissionDeniedError("authorization: time is " + std::to_string(skew) +
                                       " seconds from the coordinator's clock (at most " +
                                       std::to_string(kMaxClockSkewSeconds) + ")");
  }
  const policy::Digest digest = RequestDigest(method, target, *time, body);
  if (!crypto::Ed25519Verify(*public_key, digest, *signature)) {
    return util::PermissionDeniedError("authorization: signature does not verify");
  }
  return Caller{.public_key = *public_key, .id = policy::Ed25519KeyId(*public_key)};
}

}  // namespace kinko::coordinator
