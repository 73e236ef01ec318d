// BIP32 hierarchical deterministic keys: key paths ("m/48'/0'/0'/2'"), key origins
// ("d34db33f/48'/0'/0'/2'", as in BIP380 descriptors) and extended keys (xprv/xpub/tprv/tpub).
//
// Thread-safe: KeyPath and KeyOrigin are values; an ExtendedKey has one owner, and its const
// methods may be called from several threads.
#ifndef KINKO_BTC_BIP32_H_
#define KINKO_BTC_BIP32_H_

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "btc/address.h"
#include "crypto/secp256k1.h"
#include "util/result.h"

namespace kinko::btc {

// Child indexes at or above this are hardened (BIP32 i >= 2^31).
inline constexpr uint32_t kHardened = 0x80000000;

// A derivation path: the child indexes from some key, hardened ones with kHardened set.
struct KeyPath {
  std::vector<uint32_t> steps;

  // Parses "m/48'/0'/0'/2'", "m/48h/0h/0H", "48'/0" (the leading "m" is optional) and "m" (the
  // empty path). A step is a decimal index below 2^31 without sign or superfluous leading zero,
  // optionally followed by one hardened marker: ', h or H.
  // Fails with kInvalidArgument, naming the step, for: the empty string, an empty step ("m/",
  // "m//1", "/1", "1/"), a non-digit ("m/1a", "m/*", "m/<0;1>", "m/-1"), a leading zero
  // ("m/01"), an index >= 2^31 before the marker ("m/2147483648"), or a doubled marker.
  static util::Result<KeyPath> Parse(std::string_view text);

  // "m", or "m/" and the steps joined by '/', hardened ones with an apostrophe, as Bitcoin
  // Core's descriptors print them: "m/48'/0'/0'/2'". Parse(ToString()) gives back the path.
  std::string ToString() const;

  friend bool operator==(const KeyPath&, const KeyPath&) = default;
};

// The fingerprint of a master key and the path from it (BIP380 "key origin").
struct KeyOrigin {
  std::array<uint8_t, 4> fingerprint{};
  KeyPath path;

  // Parses "d34db33f/48'/0'/0'/2'" or "d34db33f" (the text between the brackets of a
  // descriptor's "[...]"): 8 hex digits (either case), then optionally '/' and steps as in
  // KeyPath::Parse without the leading "m". Fails with kInvalidArgument when the fingerprint
  // is not 8 hex digits or the path is invalid (same rules as KeyPath::Parse, and "m" is not
  // allowed).
  static util::Result<KeyOrigin> Parse(std::string_view text);

  // "d34db33f/48'/0'/0'/2'" (lowercase hex; just the fingerprint for an empty path).
  std::string ToString() const;

  friend bool operator==(const KeyOrigin&, const KeyOrigin&) = default;
};

// A BIP32 extended key: a private or public key with its chain code, depth, parent
// fingerprint and child number.
// Movable, not copyable (it may hold a PrivateKey); Clone() makes an explicit copy.
class ExtendedKey final {
 public:
  // Parses a Base58Check xprv, xpub, tprv or tpub. Fails with kInvalidArgument when: the
  // string is not Base58Check or the payload is not 78 bytes; the version is none of the four;
  // depth 0 comes with a non-zero parent fingerprint or child number; a private version's key
  // data does not start with 0x00 or its key is 0 or >= n; a public version's key data is not
  // a valid compressed point (prefix 0x02/0x03). Messages never contain key material.
  static util::Result<ExtendedKey> Parse(const crypto::Secp256k1Context& ctx,
                                         std::string_view base58);

  // The master key of `seed` (BIP32: I = HMAC-SHA512("Bitcoin seed", seed)), an xprv for
  // kMainnet and a tprv otherwise. Fails with kInvalidArgument when `seed` is not 16 to 64
  // bytes, or when I_L is 0 or >= n (probability below 2^-127; use another seed).
  static util::Result<ExtendedKey> FromSeed(const crypto::Secp256k1Context& ctx,
                                            std::span<const uint8_t> seed, Network network);

  ExtendedKey(ExtendedKey&&) noexcept = default;
  ExtendedKey& operator=(ExtendedKey&&) noexcept = default;
  ExtendedKey(const ExtendedKey&) = delete;
  ExtendedKey& operator=(const ExtendedKey&) = delete;

  // A copy of this key, private key included.
  ExtendedKey Clone() const;

  // The Base58Check serialization (78-byte payload). The version is xprv/xpub on mainnet and
  // tprv/tpub elsewhere. WARNING: for a private key the string is the key; never log it.
  std::string ToString() const;

  // The public version of this key (same chain code, depth, parent and child number).
  ExtendedKey Neuter() const;

  // Child `index` (BIP32 CKDpriv for a private key, CKDpub for a public one). Fails with
  // kInvalidArgument when `index` is hardened and this key is public, when the depth is
  // already 255, or when the child is invalid (I_L >= n or a zero key / the point at infinity:
  // BIP32 says to proceed with the next index; probability below 2^-127).
  util::Result<ExtendedKey> Derive(const crypto::Secp256k1Context& ctx, uint32_t index) const;

  // Derive() along every step of `path`; the empty path gives a Clone(). Fails like Derive(),
  // the message naming the step.
  util::Result<ExtendedKey> DerivePath(const crypto::Secp256k1Context& ctx,
                                       const KeyPath& path) const;

  bool IsPrivate() const { return private_key_.has_value(); }
  bool IsMainnet() const { return mainnet_; }
  uint8_t depth() const { return depth_; }
  std::array<uint8_t, 4> parent_fingerprint() const { return parent_fingerprint_; }
  uint32_t child_number() const { return child_number_; }
  const std::array<uint8_t, 32>& chain_code() const { return chain_code_; }
  // Always compressed.
  const crypto::PublicKey& public_key() const { return public_key_; }
  // The private key, or nullptr for a public extended key. Valid while this object lives.
  const crypto::PrivateKey* private_key() const {
    return private_key_.has_value() ? &*private_key_ : nullptr;
  }

  // The first 4 bytes of HASH160 of the compressed public key: the parent fingerprint of this
  // key's children, and the fingerprint of a key origin.
  std::array<uint8_t, 4> Fingerprint() const;

 private:
  ExtendedKey(bool mainnet, uint8_t depth, std::array<uint8_t, 4> parent_fingerprint,
              uint32_t child_number, std::array<uint8_t, 32> chain_code,
              crypto::PublicKey public_key, std::optional<crypto::PrivateKey> private_key)
      : mainnet_(mainnet),
        depth_(depth),
        parent_fingerprint_(parent_fingerprint),
        child_number_(child_number),
        chain_code_(chain_code),
        public_key_(std::move(public_key)),
        private_key_(std::move(private_key)) {}

  bool mainnet_;
  uint8_t depth_;
  std::array<uint8_t, 4> parent_fingerprint_;
  uint32_t child_number_;
  std::array<uint8_t, 32> chain_code_;
  crypto::PublicKey public_key_;
  std::optional<crypto::PrivateKey> private_key_;
};

}  // namespace kinko::btc

#endif  // KINKO_BTC_BIP32_H_
