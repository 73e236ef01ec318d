#include "btc/bip32.h"

#include <algorithm>
#include <string>

#include "btc/base58.h"
#include "crypto/hash.h"
#include "crypto/key_export.h"
#include "crypto/secret.h"

namespace kinko::btc {
namespace {

// BIP32 serialization versions.
constexpr uint32_t kXpub = 0x0488B21E;
constexpr uint32_t kXprv = 0x0488ADE4;
constexpr uint32_t kTpub = 0x043587CF;
constexpr uint32_t kTprv = 0x04358394;
constexpr size_t kPayloadSize = 78;

uint32_t ReadBe32(std::span<const uint8_t> b) {
  return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | b[3];
}

void AppendBe32(std::vector<uint8_t>& out, uint32_t v) {
  out.push_back(static_cast<uint8_t>(v >> 24));
  out.push_back(static_cast<uint8_t>(v >> 16));
  out.push_back(static_cast<uint8_t>(v >> 8));
  out.push_back(static_cast<uint8_t>(v));
}

std::array<uint8_t, 4> Be32(uint32_t v) {
  return {static_cast<uint8_t>(v >> 24), static_cast<uint8_t>(v >> 16),
          static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)};
}

// Parses the steps of a path after the optional "m": `text` is "" or "/a/b'...".
util::Result<std::vector<uint32_t>> ParseSteps(std::string_view text) {
  std::vector<uint32_t> steps;
  size_t pos = 0;
  while (pos < text.size()) {
    if (text[pos] != '/') {
      return util::InvalidArgumentError("key path: expected '/' at position " +
                                        std::to_string(pos));
    }
    ++pos;
    const size_t end = std::min(text.find('/', pos), text.size());
    std::string_view step = text.substr(pos, end - pos);
    const std::string where = "key path step " + std::to_string(steps.size() + 1);
    if (step.empty()) return util::InvalidArgumentError(where + ": empty");
    uint32_t hardened = 0;
    const char last = step.back();
    if (last == '\'' || last == 'h' || last == 'H') {
      hardened = kHardened;
      step.remove_suffix(1);
    }
    if (step.empty()) return util::InvalidArgumentError(where + ": no index");
    if (step.size() > 1 && step[0] == '0') {
      return util::InvalidArgumentError(where + ": leading zero");
    }
    uint64_t index = 0;
    for (char c : step) {
      if (c < '0' || c > '9') return util::InvalidArgumentError(where + ": not a number");
      index = index * 10 + static_cast<uint64_t>(c - '0');
      if (index >= kHardened) {
        return util::InvalidArgumentError(where + ": index is 2^31 or more");
      }
    }
    steps.push_back(static_cast<uint32_t>(index) | hardened);
    pos = end;
  }
  return steps;
}

std::string StepsToString(const std::vector<uint32_t>& steps) {
  std::string out;
  for (uint32_t step : steps) {
    out += '/';
    out += std::to_string(step & ~kHardened);
    if (step & kHardened) out += '\'';
  }
  return out;
}

// Wipes a buffer that may hold key bytes when the scope ends. Not copyable or movable.
class WipeOnExit final {
 public:
  explicit WipeOnExit(std::span<uint8_t> bytes) : bytes_(bytes) {}
  ~WipeOnExit() { crypto::Wipe(bytes_); }
  WipeOnExit(const WipeOnExit&) = delete;
  WipeOnExit& operator=(const WipeOnExit&) = delete;

 private:
  std::span<uint8_t> bytes_;
};

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

util::Result<KeyPath> KeyPath::Parse(std::string_view text) {
  if (text.empty()) return util::InvalidArgumentError("key path: empty (use \"m\")");
  std::string_view rest = text;
  if (rest[0] == 'm') {
    rest.remove_prefix(1);
  } else {
    // Without "m" the path starts directly with a step.
    if (rest[0] == '/') return util::InvalidArgumentError("key path step 1: empty");
    std::string with_slash(1, '/');
    with_slash.append(rest);
    util::Result<std::vector<uint32_t>> steps = ParseSteps(with_slash);
    if (!steps.ok()) return steps.status();
    return KeyPath{std::move(*steps)};
  }
  util::Result<std::vector<uint32_t>> steps = ParseSteps(rest);
  if (!steps.ok()) return steps.status();
  return KeyPath{std::move(*steps)};
}

std::string KeyPath::ToString() const {
  std::string out(1, 'm');
  out.append(StepsToString(steps));
  return out;
}

util::Result<KeyOrigin> KeyOrigin::Parse(std::string_view text) {
  if (text.size() < 8) {
    return util::InvalidArgumentError("key origin: fingerprint is not 8 hex digits");
  }
  KeyOrigin origin;
  for (size_t i = 0; i < 8; ++i) {
    const int v = HexValue(text[i]);
    if (v < 0) {
      return util::InvalidArgumentError("key origin: fingerprint is not 8 hex digits");
    }
    origin.fingerprint[i / 2] = static_cast<uint8_t>(origin.fingerprint[i / 2] << 4 | v);
  }
  const std::string_view rest = text.substr(8);
  if (!rest.empty() && rest[0] != '/') {
    return util::InvalidArgumentError("key origin: fingerprint is not 8 hex digits");
  }
  util::Result<std::vector<uint32_t>> steps = ParseSteps(rest);
  if (!steps.ok()) return util::InvalidArgumentError("key origin: " + steps.status().message());
  origin.path.steps = std::move(*steps);
  return origin;
}

std::string KeyOrigin::ToString() const {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (uint8_t b : fingerprint) {
    out += kDigits[b >> 4];
    out += kDigits[b & 0xf];
  }
  return out + StepsToString(path.steps);
}

util::Result<ExtendedKey> ExtendedKey::Parse(const crypto::Secp256k1Context& ctx,
                                             std::string_view base58) {
  util::Result<std::vector<uint8_t>> decoded = Base58CheckDecode(base58, kPayloadSize);
  if (!decoded.ok())
    return util::InvalidArgumentError("extended key: " + decoded.status().message());
  std::vector<uint8_t>& payload = *decoded;
  // The payload may hold a private key, whichever way this function returns.
  const WipeOnExit wipe(payload);
  if (payload.size() != kPayloadSize) {
    return util::InvalidArgumentError("extended key: payload of " + std::to_string(payload.size()) +
                                      " bytes, expected 78");
  }
  const std::span<const uint8_t> p(payload);
  const uint32_t version = ReadBe32(p.subspan(0, 4));
  bool is_private = false;
  bool mainnet = false;
  switch (version) {
    case kXpub:
      mainnet = true;
      break;
    case kXprv:
      mainnet = true;
      is_private = true;
      break;
    case kTpub:
      break;
    case kTprv:
      is_private = true;
      break;
    default:
      return util::InvalidArgumentError("extended key: unknown version");
  }
  const uint8_t depth = p[4];
  std::array<uint8_t, 4> parent_fingerprint;
  std::copy(p.begin() + 5, p.begin() + 9, parent_fingerprint.begin());
  const uint32_t child_number = ReadBe32(p.subspan(9, 4));
  if (depth == 0 && (parent_fingerprint != std::array<uint8_t, 4>{} || child_number != 0)) {
    return util::InvalidArgumentError(
        "extended key: depth 0 with a non-zero parent fingerprint or child number");
  }
  std::array<uint8_t, 32> chain_code;
  std::copy(p.begin() + 13, p.begin() + 45, chain_code.begin());
  const std::span<const uint8_t> key_data = p.subspan(45, 33);

  if (is_private) {
    if (key_data[0] != 0x00) {
      return util::InvalidArgumentError("extended key: private version without a private key");
    }
    util::Result<crypto::PrivateKey> key = crypto::PrivateKey::FromBytes(key_data.subspan(1));
    if (!key.ok()) return util::InvalidArgumentError("extended key: private key not in 1..n-1");
    crypto::PublicKey public_key = crypto::DerivePublicKey(ctx, *key);
    return ExtendedKey(mainnet, depth, parent_fingerprint, child_number, chain_code,
                       std::move(public_key), std::move(*key));
  }
  if (key_data[0] != 0x02 && key_data[0] != 0x03) {
    return util::InvalidArgumentError(
        "extended key: public version without a compressed public key");
  }
  util::Result<crypto::PublicKey> public_key = crypto::PublicKey::Parse(key_data);
  if (!public_key.ok()) return util::InvalidArgumentError("extended key: invalid public key");
  return ExtendedKey(mainnet, depth, parent_fingerprint, child_number, chain_code,
                     std::move(*public_key), std::nullopt);
}

util::Result<ExtendedKey> ExtendedKey::FromSeed(const crypto::Secp256k1Context& ctx,
                                                std::span<const uint8_t> seed, Network network) {
  if (seed.size() < 16 || seed.size() > 64) {
    return util::InvalidArgumentError("bip32 seed of " + std::to_string(seed.size()) +
                                      " bytes, expected 16 to 64");
  }
  static constexpr std::string_view kSalt = "Bitcoin seed";
  crypto::Hash512Bytes i = crypto::HmacSha512(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(kSalt.data()), kSalt.size()), seed);
  util::Result<crypto::PrivateKey> key =
      crypto::PrivateKey::FromBytes(std::span<const uint8_t>(i).first(32));
  std::array<uint8_t, 32> chain_code;
  std::copy(i.begin() + 32, i.end(), chain_code.begin());
  crypto::Wipe(i);
  if (!key.ok()) return util::InvalidArgumentError("bip32 seed gives an invalid master key");
  crypto::PublicKey public_key = crypto::DerivePublicKey(ctx, *key);
  return ExtendedKey(network == Network::kMainnet, 0, {}, 0, chain_code, std::move(public_key),
                     std::move(*key));
}

ExtendedKey ExtendedKey::Clone() const {
  std::optional<crypto::PrivateKey> key;
  if (private_key_.has_value()) key = crypto::CopyPrivateKey(*private_key_);
  return ExtendedKey(mainnet_, depth_, parent_fingerprint_, child_number_, chain_code_, public_key_,
                     std::move(key));
}

std::string ExtendedKey::ToString() const {
  std::vector<uint8_t> payload;
  payload.reserve(kPayloadSize);
  AppendBe32(payload, IsPrivate() ? (mainnet_ ? kXprv : kTprv) : (mainnet_ ? kXpub : kTpub));
  payload.push_back(depth_);
  payload.insert(payload.end(), parent_fingerprint_.begin(), parent_fingerprint_.end());
  AppendBe32(payload, child_number_);
  payload.insert(payload.end(), chain_code_.begin(), chain_code_.end());
  if (IsPrivate()) {
    std::array<uint8_t, 32> secret = crypto::ExportPrivateKeyBytes(*private_key_);
    payload.push_back(0x00);
    payload.insert(payload.end(), secret.begin(), secret.end());
    crypto::Wipe(secret);
  } else {
    const std::array<uint8_t, 33> pub = public_key_.SerializeCompressed();
    payload.insert(payload.end(), pub.begin(), pub.end());
  }
  std::string out = Base58CheckEncode(payload);
  crypto::Wipe(payload);
  return out;
}

ExtendedKey ExtendedKey::Neuter() const {
  return ExtendedKey(mainnet_, depth_, parent_fingerprint_, child_number_, chain_code_, public_key_,
                     std::nullopt);
}

std::array<uint8_t, 4> ExtendedKey::Fingerprint() const {
  const std::array<uint8_t, 33> pub = public_key_.SerializeCompressed();
  const crypto::Hash160Bytes id = crypto::Hash160(pub);
  return {id[0], id[1], id[2], id[3]};
}

util::Result<ExtendedKey> ExtendedKey::Derive(const crypto::Secp256k1Context& ctx,
                                              uint32_t index) const {
  const bool hardened = (index & kHardened) != 0;
  if (hardened && !IsPrivate()) {
    return util::InvalidArgumentError("bip32: hardened derivation from a public key");
  }
  if (depth_ == 255) return util::InvalidArgumentError("bip32: depth 255 cannot be extended");
  const std::array<uint8_t, 4> ser_index = Be32(index);
  const std::array<uint8_t, 33> parent_pub = public_key_.SerializeCompressed();
  // BIP32: I = HMAC-SHA512(c, 0x00 || ser256(k) || ser32(i)) for hardened children,
  // HMAC-SHA512(c, serP(K) || ser32(i)) otherwise.
  crypto::Hash512Bytes i;
  if (hardened) {
    static constexpr uint8_t kZero[1] = {0x00};
    i = crypto::HmacSha512WithPrivateKey(chain_code_, kZero, *private_key_, ser_index);
  } else {
    std::array<uint8_t, 37> data;
    std::copy(parent_pub.begin(), parent_pub.end(), data.begin());
    std::copy(ser_index.begin(), ser_index.end(), data.begin() + 33);
    i = crypto::HmacSha512(chain_code_, data);
  }
  const std::span<const uint8_t, 32> tweak = std::span<const uint8_t>(i).first<32>();
  std::array<uint8_t, 32> child_chain_code;
  std::copy(i.begin() + 32, i.end(), child_chain_code.begin());
  const crypto::Hash160Bytes parent_id = crypto::Hash160(parent_pub);
  const std::array<uint8_t, 4> fingerprint = {parent_id[0], parent_id[1], parent_id[2],
                                              parent_id[3]};
  const std::string invalid_child =
      "bip32: child " + std::to_string(index) + " is invalid; use the next index";

  if (IsPrivate()) {
    util::Result<crypto::PrivateKey> child = crypto::PrivateKeyTweakAdd(ctx, *private_key_, tweak);
    crypto::Wipe(i);
    if (!child.ok()) return util::InvalidArgumentError(invalid_child);
    crypto::PublicKey child_pub = crypto::DerivePublicKey(ctx, *child);
    return ExtendedKey(mainnet_, static_cast<uint8_t>(depth_ + 1), fingerprint, index,
                       child_chain_code, std::move(child_pub), std::move(*child));
  }
  util::Result<crypto::PublicKey> child = crypto::PublicKeyTweakAdd(ctx, public_key_, tweak);
  if (!child.ok()) return util::InvalidArgumentError(invalid_child);
  return ExtendedKey(mainnet_, static_cast<uint8_t>(depth_ + 1), fingerprint, index,
                     child_chain_code, std::move(*child), std::nullopt);
}

util::Result<ExtendedKey> ExtendedKey::DerivePath(const crypto::Secp256k1Context& ctx,
                                                  const KeyPath& path) const {
  ExtendedKey key = Clone();
  for (size_t n = 0; n < path.steps.size(); ++n) {
    util::Result<ExtendedKey> child = key.Derive(ctx, path.steps[n]);
    if (!child.ok()) {
      return child.status().WithPrefix("key path step " + std::to_string(n + 1));
    }
    key = std::move(*child);
  }
  return key;
}

}  // namespace kinko::btc
