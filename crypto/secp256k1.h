// secp256k1 keys and signatures: the only code in kinko that calls libsecp256k1.
//
// ECDSA follows Bitcoin Core exactly: RFC 6979 nonces, low-S, and low-R grinding (retry with a
// 32-byte little-endian counter as extra entropy until R fits in 32 bytes without a sign byte),
// so a signature is byte-identical to Bitcoin Core's for the same key and digest and is at most
// 71 bytes DER. Schnorr signatures follow BIP340; taproot tweaks follow BIP341.
//
// Thread-safe: a Secp256k1Context may be shared by threads once created (libsecp256k1 contexts
// are read-only after randomization); keys are values with one owner.
#ifndef KINKO_CRYPTO_SECP256K1_H_
#define KINKO_CRYPTO_SECP256K1_H_

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "crypto/rng.h"
#include "crypto/secret.h"
#include "util/result.h"

namespace kinko::crypto {

// A libsecp256k1 context, randomized at creation against side channels.
// Movable, not copyable.
class Secp256k1Context final {
 public:
  // Creates and randomizes a context with 32 bytes from `rng`.
  static Secp256k1Context Create(Rng& rng);
  ~Secp256k1Context();
  Secp256k1Context(const Secp256k1Context&) = delete;
  Secp256k1Context& operator=(const Secp256k1Context&) = delete;
  Secp256k1Context(Secp256k1Context&& other) noexcept;
  Secp256k1Context& operator=(Secp256k1Context&& other) noexcept;

  // The underlying secp256k1_context*, for crypto/ implementation files only.
  void* raw() const { return ctx_; }

 private:
  explicit Secp256k1Context(void* ctx) : ctx_(ctx) {}
  void* ctx_;
};

// A valid secp256k1 private key (0 < k < n). Movable, not copyable; wiped on destruction.
class PrivateKey final {
 public:
  // Fails with kInvalidArgument when `bytes` is not 32 bytes or not in [1, n-1].
  static util::Result<PrivateKey> FromBytes(std::span<const uint8_t> bytes);
  // A fresh key from `rng`.
  static PrivateKey Generate(Rng& rng);

  PrivateKey(PrivateKey&&) noexcept = default;
  PrivateKey& operator=(PrivateKey&&) noexcept = default;
  PrivateKey(const PrivateKey&) = delete;
  PrivateKey& operator=(const PrivateKey&) = delete;

  const SecretBytes& secret() const { return secret_; }

 private:
  explicit PrivateKey(SecretBytes secret) : secret_(std::move(secret)) {}
  SecretBytes secret_;
};

// A valid point on the curve, remembering whether it was given compressed (33 bytes) or
// uncompressed (65 bytes, legacy scripts only). Copyable and movable.
class PublicKey final {
 public:
  // Fails with kInvalidArgument unless `bytes` is a valid 33-byte compressed or 65-byte
  // uncompressed encoding (hybrid 0x06/0x07 encodings are rejected).
  static util::Result<PublicKey> Parse(std::span<const uint8_t> bytes);
  // Like Parse, and also accepts the 65-byte SEC 1 hybrid encodings 0x06 (even Y) and 0x07 (odd
  // Y), prefix and parity agreeing, as consensus does for legacy scripts verified without
  // SCRIPT_VERIFY_STRICTENC (Bitcoin Core's CPubKey accepts them). The result is an uncompressed
  // key: Serialize() returns its 0x04 encoding. Fails with kInvalidArgument otherwise.
  static util::Result<PublicKey> ParseAllowingHybrid(std::span<const uint8_t> bytes);

  bool IsCompressed() const { return compressed_; }
  // The encoding it was created with (33 or 65 bytes).
  std::vector<uint8_t> Serialize() const;
  std::array<uint8_t, 33> SerializeCompressed() const;
  std::array<uint8_t, 65> SerializeUncompressed() const;

  friend bool operator==(const PublicKey&, const PublicKey&) = default;

 private:
  PublicKey() = default;
  static util::Result<PublicKey> ParseEncoding(std::span<const uint8_t> bytes, bool allow_hybrid);
  friend PublicKey DerivePublicKey(const Secp256k1Context&, const PrivateKey&);
  friend util::Result<PublicKey> PublicKeyTweakAdd(const Secp256k1Context&, const PublicKey&,
                                                   std::span<const uint8_t, 32>);
  std::array<uint8_t, 65> uncompressed_{};  // 0x04 || x || y
  bool compressed_ = true;
};

// A BIP340 x-only public key (32 bytes, even Y implied). Copyable and movable.
class XOnlyPublicKey final {
 public:
  // Fails with kInvalidArgument unless `bytes` is 32 bytes and the x coordinate of a point.
  static util::Result<XOnlyPublicKey> Parse(std::span<const uint8_t> bytes);
  // The x-only key of `key` (its parity dropped).
  static XOnlyPublicKey FromPublicKey(const PublicKey& key);
  const std::array<uint8_t, 32>& bytes() const { return bytes_; }
  friend bool operator==(const XOnlyPublicKey& a, const XOnlyPublicKey& b) {
    return a.bytes_ == b.bytes_;
  }

 private:
  XOnlyPublicKey() = default;
  friend bool SchnorrVerify(const Secp256k1Context&, const XOnlyPublicKey&,
                            std::span<const uint8_t>, std::span<const uint8_t, 64>);
  friend bool TaprootCheckTweak(const Secp256k1Context&, const XOnlyPublicKey&, bool,
                                const XOnlyPublicKey&, std::span<const uint8_t, 32>);
  std::array<uint8_t, 32> bytes_{};
  // The point as libsecp256k1 parsed it (its opaque secp256k1_xonly_pubkey), so that verifying
  // does not parse again: parsing an x-only key costs a square root, about 12% of a verification.
  std::array<uint8_t, 64> parsed_{};
};

// The compressed public key of `key`.
PublicKey DerivePublicKey(const Secp256k1Context& ctx, const PrivateKey& key);

// BIP32 tweaks: (key + tweak) mod n, and key + tweak*G. Fail with kInvalidArgument when the
// tweak is >= n or the result is zero / the point at infinity (BIP32: skip to the next index).
util::Result<PrivateKey> PrivateKeyTweakAdd(const Secp256k1Context& ctx, const PrivateKey& key,
                                            std::span<const uint8_t, 32> tweak);
util::Result<PublicKey> PublicKeyTweakAdd(const Secp256k1Context& ctx, const PublicKey& key,
                                          std::span<const uint8_t, 32> tweak);

// ECDSA over a 32-byte digest. Returns the DER signature (without a sighash byte): RFC 6979,
// low-S, low-R ground like Bitcoin Core. Never fails for a valid key.
std::vector<uint8_t> EcdsaSign(const Secp256k1Context& ctx, const PrivateKey& key,
                               std::span<const uint8_t, 32> digest);

// Whether EcdsaSign grinds for a low R.
enum class LowRGrinding {
  kGrind,  // Bitcoin Core since 0.17: signatures of at most 71 bytes DER.
  kNone,   // Plain RFC 6979 (Bitcoin Core before 0.17, and the BIP174 test vectors): about half
           // of all signatures are 72 bytes. Only for reproducing such signatures.
};
// EcdsaSign with the grinding chosen by `grinding`; EcdsaSign(ctx, key, digest) is
// EcdsaSign(ctx, key, digest, LowRGrinding::kGrind). Never fails for a valid key.
std::vector<uint8_t> EcdsaSign(const Secp256k1Context& ctx, const PrivateKey& key,
                               std::span<const uint8_t, 32> digest, LowRGrinding grinding);

enum class DerParsing {
  kStrict,  // libsecp256k1's DER parser (BIP66-strict encodings).
  kLax,     // Bitcoin Core's lax parser for pre-BIP66 signatures (contrib/lax_der_parsing).
};

// True when `signature` (DER, without a sighash byte) is a valid signature of `digest` by
// `key`. Like Bitcoin Core, a high-S signature is normalized before verification: enforcing
// low-S is a policy of the script interpreter (LOW_S), not of this function.
bool EcdsaVerify(const Secp256k1Context& ctx, const PublicKey& key,
                 std::span<const uint8_t, 32> digest, std::span<const uint8_t> signature,
                 DerParsing parsing);

// True when `signature` is DER-decodable (by `parsing`) and its S is at most n/2. As in Bitcoin
// Core (CPubKey::CheckLowS), a signature whose R or S overflows (longer than 32 bytes, or >= n)
// decodes as the all-zero signature, whose S counts as low.
bool EcdsaIsLowS(const Secp256k1Context& ctx, std::span<const uint8_t> signature,
                 DerParsing parsing);

// BIP340 signature of the 32-byte message `msg` with auxiliary randomness `aux`.
std::array<uint8_t, 64> SchnorrSign(const Secp256k1Context& ctx, const PrivateKey& key,
                                    std::span<const uint8_t, 32> msg,
                                    std::span<const uint8_t, 32> aux);
// BIP340 signature of a message of any length (BIP340's variable-length messages). Bitcoin
// signs only 32-byte sighashes, with SchnorrSign above; for 32-byte messages both agree.
std::array<uint8_t, 64> SchnorrSignMessage(const Secp256k1Context& ctx, const PrivateKey& key,
                                           std::span<const uint8_t> msg,
                                           std::span<const uint8_t, 32> aux);
// True when `signature` is a valid BIP340 signature of `msg` (any length) by `key`.
bool SchnorrVerify(const Secp256k1Context& ctx, const XOnlyPublicKey& key,
                   std::span<const uint8_t> msg, std::span<const uint8_t, 64> signature);

// BIP341 taproot output key: Q = P + int(hashTapTweak(P || merkle_root))G, where the
// merkle root is omitted for a key-path-only output.
struct TweakedPublicKey {
  XOnlyPublicKey key;
  bool parity_odd;  // Parity of Q's Y, as the control block's low bit carries it.
};
util::Result<TweakedPublicKey> TaprootTweakPublicKey(
    const Secp256k1Context& ctx, const XOnlyPublicKey& internal_key,
    std::optional<std::array<uint8_t, 32>> merkle_root);
// The private key for Q above (BIP341 taproot_tweak_seckey).
util::Result<PrivateKey> TaprootTweakPrivateKey(const Secp256k1Context& ctx, const PrivateKey& key,
                                                std::optional<std::array<uint8_t, 32>> merkle_root);
// True when `output_key` with `parity_odd` equals internal_key tweaked by `merkle_root`
// (BIP341 script-path verification of a control block).
bool TaprootCheckTweak(const Secp256k1Context& ctx, const XOnlyPublicKey& output_key,
                       bool parity_odd, const XOnlyPublicKey& internal_key,
                       std::span<const uint8_t, 32> merkle_root);

}  // namespace kinko::crypto

#endif  // KINKO_CRYPTO_SECP256K1_H_
