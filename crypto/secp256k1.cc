#include "crypto/secp256k1.h"

#include <secp256k1.h>
#include <secp256k1_extrakeys.h>
#include <secp256k1_schnorrsig.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <utility>

#include "crypto/hash.h"
#include "crypto/internal/lax_der.h"
#include "util/check.h"

namespace kinko::crypto {
namespace {

const secp256k1_context* Ctx(const Secp256k1Context& ctx) {
  CHECK(ctx.raw() != nullptr);
  return static_cast<const secp256k1_context*>(ctx.raw());
}

const unsigned char* SecretData(const PrivateKey& key) {
  return key.secret().Reveal(SecretAccess::Get()).data();
}

// Wipes a libsecp256k1 object that holds a secret (a keypair) when it goes out of scope.
template <typename T>
class ScopedWipe final {
 public:
  explicit ScopedWipe(T& object) : object_(object) {}
  ~ScopedWipe() { Wipe(std::span(reinterpret_cast<uint8_t*>(&object_), sizeof(T))); }
  ScopedWipe(const ScopedWipe&) = delete;
  ScopedWipe& operator=(const ScopedWipe&) = delete;

 private:
  T& object_;
};

// Bitcoin Core's SigHasLowR: R fits in 32 DER bytes without a 0x00 sign byte. With S low as
// well, the DER signature is at most 70 bytes (71 with the sighash byte).
bool HasLowR(const secp256k1_context* ctx, const secp256k1_ecdsa_signature& sig) {
  unsigned char compact[64];
  secp256k1_ecdsa_signature_serialize_compact(ctx, compact, &sig);
  return compact[0] < 0x80;
}

bool ParseSignature(const secp256k1_context* ctx, std::span<const uint8_t> der, DerParsing parsing,
                    secp256k1_ecdsa_signature* sig) {
  // libsecp256k1 treats a null input pointer as a caller bug and aborts.
  if (der.empty()) return false;
  switch (parsing) {
    case DerParsing::kStrict:
      return secp256k1_ecdsa_signature_parse_der(ctx, sig, der.data(), der.size()) == 1;
    case DerParsing::kLax: {
      const std::optional<std::array<uint8_t, 64>> compact = internal::ParseDerLax(der);
      if (!compact) return false;
      if (secp256k1_ecdsa_signature_parse_compact(ctx, sig, compact->data()) == 1) return true;
      // Like Core: R or S >= n gives the all-zero signature, which parses and never verifies.
      const std::array<uint8_t, 64> zero{};
      CHECK(secp256k1_ecdsa_signature_parse_compact(ctx, sig, zero.data()) == 1);
      return true;
    }
  }
  return false;
}

bool ParsePublicKey(const secp256k1_context* ctx, const std::array<uint8_t, 65>& uncompressed,
                    secp256k1_pubkey* out) {
  return secp256k1_ec_pubkey_parse(ctx, out, uncompressed.data(), uncompressed.size()) == 1;
}

std::array<uint8_t, 65> SerializeUncompressedPoint(const secp256k1_context* ctx,
                                                   const secp256k1_pubkey& point) {
  std::array<uint8_t, 65> out;
  size_t len = out.size();
  CHECK(secp256k1_ec_pubkey_serialize(ctx, out.data(), &len, &point, SECP256K1_EC_UNCOMPRESSED) ==
        1);
  CHECK(len == out.size());
  return out;
}

static_assert(sizeof(secp256k1_xonly_pubkey) == 64);

// A parsed x-only key as XOnlyPublicKey keeps it.
secp256k1_xonly_pubkey LoadXOnly(const std::array<uint8_t, 64>& parsed) {
  secp256k1_xonly_pubkey point;
  std::memcpy(point.data, parsed.data(), sizeof(point.data));
  return point;
}

// BIP341: t = hashTapTweak(P || merkle_root), the merkle root omitted for key-path-only outputs.
Hash256Bytes TapTweakHash(std::span<const uint8_t, 32> internal_key,
                          const std::optional<std::array<uint8_t, 32>>& merkle_root) {
  Sha256Hasher hasher = TaggedHasher("TapTweak");
  hasher.Write(internal_key);
  if (merkle_root) hasher.Write(*merkle_root);
  return hasher.Finalize();
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Secp256k1Context

Secp256k1Context Secp256k1Context::Create(Rng& rng) {
  secp256k1_context* ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
  CHECK(ctx != nullptr);
  std::array<uint8_t, 32> seed;
  rng.Fill(seed);
  CHECK(secp256k1_context_randomize(ctx, seed.data()) == 1);
  Wipe(seed);
  return Secp256k1Context(ctx);
}

Secp256k1Context::~Secp256k1Context() {
  if (ctx_ != nullptr) secp256k1_context_destroy(static_cast<secp256k1_context*>(ctx_));
}

Secp256k1Context::Secp256k1Context(Secp256k1Context&& other) noexcept
    : ctx_(std::exchange(other.ctx_, nullptr)) {}

Secp256k1Context& Secp256k1Context::operator=(Secp256k1Context&& other) noexcept {
  if (this != &other) {
    if (ctx_ != nullptr) secp256k1_context_destroy(static_cast<secp256k1_context*>(ctx_));
    ctx_ = std::exchange(other.ctx_, nullptr);
  }
  return *this;
}

// ---------------------------------------------------------------------------------------------
// Keys

util::Result<PrivateKey> PrivateKey::FromBytes(std::span<const uint8_t> bytes) {
  if (bytes.size() != 32) {
    return util::InvalidArgumentError("private key: expected 32 bytes, got " +
                                      std::to_string(bytes.size()));
  }
  if (secp256k1_ec_seckey_verify(secp256k1_context_static, bytes.data()) != 1) {
    return util::InvalidArgumentError("private key: not in [1, n-1]");
  }
  return PrivateKey(SecretBytes::FromSpan(bytes));
}

PrivateKey PrivateKey::Generate(Rng& rng) {
  SecretBytes secret(32);
  const std::span<uint8_t> bytes = secret.RevealMutable(SecretAccess::Get());
  // A random 32-byte string is out of range with probability about 2^-128.
  do {
    rng.Fill(bytes);
  } while (secp256k1_ec_seckey_verify(secp256k1_context_static, bytes.data()) != 1);
  return PrivateKey(std::move(secret));
}

util::Result<PublicKey> PublicKey::Parse(std::span<const uint8_t> bytes) {
  return ParseEncoding(bytes, /*allow_hybrid=*/false);
}

util::Result<PublicKey> PublicKey::ParseAllowingHybrid(std::span<const uint8_t> bytes) {
  return ParseEncoding(bytes, /*allow_hybrid=*/true);
}

util::Result<PublicKey> PublicKey::ParseEncoding(std::span<const uint8_t> bytes,
                                                 bool allow_hybrid) {
  if (bytes.size() != 33 && bytes.size() != 65) {
    return util::InvalidArgumentError("public key: expected 33 or 65 bytes, got " +
                                      std::to_string(bytes.size()));
  }
  const uint8_t prefix = bytes[0];
  const bool compressed = bytes.size() == 33;
  const bool prefix_ok =
      compressed ? (prefix == 0x02 || prefix == 0x03)
                 : (prefix == 0x04 || (allow_hybrid && (prefix == 0x06 || prefix == 0x07)));
  if (!prefix_ok) {
    return util::InvalidArgumentError("public key: bad prefix byte for its size");
  }
  secp256k1_pubkey point;
  if (secp256k1_ec_pubkey_parse(secp256k1_context_static, &point, bytes.data(), bytes.size()) !=
      1) {
    // Also a hybrid prefix that disagrees with Y's parity.
    return util::InvalidArgumentError("public key: not a point on the curve");
  }
  PublicKey key;
  key.uncompressed_ = SerializeUncompressedPoint(secp256k1_context_static, point);
  key.compressed_ = compressed;
  return key;
}

std::vector<uint8_t> PublicKey::Serialize() const {
  if (compressed_) {
    const std::array<uint8_t, 33> out = SerializeCompressed();
    return std::vector<uint8_t>(out.begin(), out.end());
  }
  return std::vector<uint8_t>(uncompressed_.begin(), uncompressed_.end());
}

std::array<uint8_t, 33> PublicKey::SerializeCompressed() const {
  std::array<uint8_t, 33> out;
  // SEC 1: 0x02 for even Y, 0x03 for odd Y, then X.
  out[0] = (uncompressed_[64] & 1) ? 0x03 : 0x02;
  std::copy(uncompressed_.begin() + 1, uncompressed_.begin() + 33, out.begin() + 1);
  return out;
}

std::array<uint8_t, 65> PublicKey::SerializeUncompressed() const { return uncompressed_; }

util::Result<XOnlyPublicKey> XOnlyPublicKey::Parse(std::span<const uint8_t> bytes) {
  if (bytes.size() != 32) {
    return util::InvalidArgumentError("x-only public key: expected 32 bytes, got " +
                                      std::to_string(bytes.size()));
  }
  secp256k1_xonly_pubkey point;
  if (secp256k1_xonly_pubkey_parse(secp256k1_context_static, &point, bytes.data()) != 1) {
    return util::InvalidArgumentError("x-only public key: not the x coordinate of a point");
  }
  XOnlyPublicKey key;
  std::copy(bytes.begin(), bytes.end(), key.bytes_.begin());
  std::memcpy(key.parsed_.data(), point.data, sizeof(point.data));
  return key;
}

XOnlyPublicKey XOnlyPublicKey::FromPublicKey(const PublicKey& key) {
  const std::array<uint8_t, 65> uncompressed = key.SerializeUncompressed();
  secp256k1_pubkey full;
  CHECK(secp256k1_ec_pubkey_parse(secp256k1_context_static, &full, uncompressed.data(),
                                  uncompressed.size()) == 1);
  secp256k1_xonly_pubkey point;
  CHECK(secp256k1_xonly_pubkey_from_pubkey(secp256k1_context_static, &point, nullptr, &full) == 1);
  XOnlyPublicKey out;
  std::copy(uncompressed.begin() + 1, uncompressed.begin() + 33, out.bytes_.begin());
  std::memcpy(out.parsed_.data(), point.data, sizeof(point.data));
  return out;
}

PublicKey DerivePublicKey(const Secp256k1Context& ctx, const PrivateKey& key) {
  secp256k1_pubkey point;
  CHECK(secp256k1_ec_pubkey_create(Ctx(ctx), &point, SecretData(key)) == 1);
  PublicKey out;
  out.uncompressed_ = SerializeUncompressedPoint(Ctx(ctx), point);
  out.compressed_ = true;
  return out;
}

util::Result<PrivateKey> PrivateKeyTweakAdd(const Secp256k1Context& ctx, const PrivateKey& key,
                                            std::span<const uint8_t, 32> tweak) {
  SecretBytes secret = SecretBytes::FromSpan(key.secret().Reveal(SecretAccess::Get()));
  if (secp256k1_ec_seckey_tweak_add(Ctx(ctx), secret.RevealMutable(SecretAccess::Get()).data(),
                                    tweak.data()) != 1) {
    return util::InvalidArgumentError("private key tweak: tweak >= n or result is zero");
  }
  util::Result<PrivateKey> out = PrivateKey::FromBytes(secret.Reveal(SecretAccess::Get()));
  CHECK(out.ok());
  return out;
}

util::Result<PublicKey> PublicKeyTweakAdd(const Secp256k1Context& ctx, const PublicKey& key,
                                          std::span<const uint8_t, 32> tweak) {
  secp256k1_pubkey point;
  CHECK(ParsePublicKey(Ctx(ctx), key.uncompressed_, &point));
  if (secp256k1_ec_pubkey_tweak_add(Ctx(ctx), &point, tweak.data()) != 1) {
    return util::InvalidArgumentError(
        "public key tweak: tweak >= n or result is the point at infinity");
  }
  PublicKey out;
  out.uncompressed_ = SerializeUncompressedPoint(Ctx(ctx), point);
  out.compressed_ = key.compressed_;
  return out;
}

// ---------------------------------------------------------------------------------------------
// ECDSA

std::vector<uint8_t> EcdsaSign(const Secp256k1Context& ctx, const PrivateKey& key,
                               std::span<const uint8_t, 32> digest) {
  return EcdsaSign(ctx, key, digest, LowRGrinding::kGrind);
}

std::vector<uint8_t> EcdsaSign(const Secp256k1Context& ctx, const PrivateKey& key,
                               std::span<const uint8_t, 32> digest, LowRGrinding grinding) {
  const secp256k1_context* c = Ctx(ctx);
  const unsigned char* secret = SecretData(key);
  secp256k1_ecdsa_signature sig;
  // Bitcoin Core's CKey::Sign with grind = true: RFC 6979 without extra entropy first; while R
  // needs a sign byte, retry with extra entropy = LE32(counter) || 28 zero bytes, counter = 1, 2,
  // ... Half of all R values are low, so this takes two attempts on average.
  CHECK(secp256k1_ecdsa_sign(c, &sig, digest.data(), secret, secp256k1_nonce_function_rfc6979,
                             nullptr) == 1);
  std::array<uint8_t, 32> extra_entropy{};
  uint32_t counter = 0;
  while (grinding == LowRGrinding::kGrind && !HasLowR(c, sig)) {
    ++counter;
    for (size_t i = 0; i < 4; ++i) extra_entropy[i] = static_cast<uint8_t>(counter >> (8 * i));
    CHECK(secp256k1_ecdsa_sign(c, &sig, digest.data(), secret, secp256k1_nonce_function_rfc6979,
                               extra_entropy.data()) == 1);
  }
  // libsecp256k1 signs with low S already (it normalizes internally), as Core relies on.
  std::vector<uint8_t> der(72);
  size_t der_len = der.size();
  CHECK(secp256k1_ecdsa_signature_serialize_der(c, der.data(), &der_len, &sig) == 1);
  der.resize(der_len);

  // Like Core, verify before releasing the signature: a fault during signing (a flipped bit)
  // can produce a signature that leaks the key. Fail closed.
  secp256k1_pubkey point;
  CHECK(secp256k1_ec_pubkey_create(c, &point, secret) == 1);
  CHECK(secp256k1_ecdsa_verify(c, &sig, digest.data(), &point) == 1);
  return der;
}

bool EcdsaVerify(const Secp256k1Context& ctx, const PublicKey& key,
                 std::span<const uint8_t, 32> digest, std::span<const uint8_t> signature,
                 DerParsing parsing) {
  const secp256k1_context* c = Ctx(ctx);
  secp256k1_ecdsa_signature sig;
  if (!ParseSignature(c, signature, parsing, &sig)) return false;
  secp256k1_pubkey point;
  if (!ParsePublicKey(c, key.SerializeUncompressed(), &point)) return false;
  // libsecp256k1 verifies only low-S signatures; Bitcoin never required low S by consensus, so
  // normalize first (as Core's CPubKey::Verify does).
  secp256k1_ecdsa_signature_normalize(c, &sig, &sig);
  return secp256k1_ecdsa_verify(c, &sig, digest.data(), &point) == 1;
}

bool EcdsaIsLowS(const Secp256k1Context& ctx, std::span<const uint8_t> signature,
                 DerParsing parsing) {
  const secp256k1_context* c = Ctx(ctx);
  secp256k1_ecdsa_signature sig;
  if (!ParseSignature(c, signature, parsing, &sig)) return false;
  // normalize returns 1 exactly when S was high (and with a null output changes nothing).
  return secp256k1_ecdsa_signature_normalize(c, nullptr, &sig) == 0;
}

// ---------------------------------------------------------------------------------------------
// BIP340 Schnorr

std::array<uint8_t, 64> SchnorrSign(const Secp256k1Context& ctx, const PrivateKey& key,
                                    std::span<const uint8_t, 32> msg,
                                    std::span<const uint8_t, 32> aux) {
  const secp256k1_context* c = Ctx(ctx);
  secp256k1_keypair keypair;
  ScopedWipe<secp256k1_keypair> wipe_keypair(keypair);
  CHECK(secp256k1_keypair_create(c, &keypair, SecretData(key)) == 1);
  std::array<uint8_t, 64> sig;
  CHECK(secp256k1_schnorrsig_sign32(c, sig.data(), msg.data(), &keypair, aux.data()) == 1);
  // As for ECDSA (and as Core's KeyPair::SignSchnorr does): verify before release.
  secp256k1_xonly_pubkey xonly;
  CHECK(secp256k1_keypair_xonly_pub(c, &xonly, nullptr, &keypair) == 1);
  CHECK(secp256k1_schnorrsig_verify(c, sig.data(), msg.data(), msg.size(), &xonly) == 1);
  return sig;
}

std::array<uint8_t, 64> SchnorrSignMessage(const Secp256k1Context& ctx, const PrivateKey& key,
                                           std::span<const uint8_t> msg,
                                           std::span<const uint8_t, 32> aux) {
  const secp256k1_context* c = Ctx(ctx);
  secp256k1_keypair keypair;
  ScopedWipe<secp256k1_keypair> wipe_keypair(keypair);
  CHECK(secp256k1_keypair_create(c, &keypair, SecretData(key)) == 1);
  // The default nonce function (BIP340's) with `aux` as aux_rand, as schnorrsig_sign32 uses.
  secp256k1_schnorrsig_extraparams params = SECP256K1_SCHNORRSIG_EXTRAPARAMS_INIT;
  // libsecp256k1 only reads ndata; its field is not const.
  params.ndata = const_cast<uint8_t*>(aux.data());
  std::array<uint8_t, 64> sig;
  CHECK(secp256k1_schnorrsig_sign_custom(c, sig.data(), msg.data(), msg.size(), &keypair,
                                         &params) == 1);
  secp256k1_xonly_pubkey xonly;
  CHECK(secp256k1_keypair_xonly_pub(c, &xonly, nullptr, &keypair) == 1);
  CHECK(secp256k1_schnorrsig_verify(c, sig.data(), msg.data(), msg.size(), &xonly) == 1);
  return sig;
}

bool SchnorrVerify(const Secp256k1Context& ctx, const XOnlyPublicKey& key,
                   std::span<const uint8_t> msg, std::span<const uint8_t, 64> signature) {
  const secp256k1_context* c = Ctx(ctx);
  const secp256k1_xonly_pubkey xonly = LoadXOnly(key.parsed_);
  return secp256k1_schnorrsig_verify(c, signature.data(), msg.data(), msg.size(), &xonly) == 1;
}

// ---------------------------------------------------------------------------------------------
// BIP341 taproot tweaks

util::Result<TweakedPublicKey> TaprootTweakPublicKey(
    const Secp256k1Context& ctx, const XOnlyPublicKey& internal_key,
    std::optional<std::array<uint8_t, 32>> merkle_root) {
  const secp256k1_context* c = Ctx(ctx);
  secp256k1_xonly_pubkey internal;
  if (secp256k1_xonly_pubkey_parse(c, &internal, internal_key.bytes().data()) != 1) {
    return util::InvalidArgumentError("taproot internal key: not the x coordinate of a point");
  }
  const Hash256Bytes tweak = TapTweakHash(internal_key.bytes(), merkle_root);
  secp256k1_pubkey output;
  if (secp256k1_xonly_pubkey_tweak_add(c, &output, &internal, tweak.data()) != 1) {
    return util::InvalidArgumentError("taproot tweak: tweak >= n or result is infinity");
  }
  secp256k1_xonly_pubkey output_xonly;
  int parity = 0;
  CHECK(secp256k1_xonly_pubkey_from_pubkey(c, &output_xonly, &parity, &output) == 1);
  std::array<uint8_t, 32> output_bytes;
  CHECK(secp256k1_xonly_pubkey_serialize(c, output_bytes.data(), &output_xonly) == 1);
  util::Result<XOnlyPublicKey> key = XOnlyPublicKey::Parse(output_bytes);
  CHECK(key.ok());
  return TweakedPublicKey{.key = *key, .parity_odd = parity == 1};
}

util::Result<PrivateKey> TaprootTweakPrivateKey(
    const Secp256k1Context& ctx, const PrivateKey& key,
    std::optional<std::array<uint8_t, 32>> merkle_root) {
  const secp256k1_context* c = Ctx(ctx);
  secp256k1_keypair keypair;
  ScopedWipe<secp256k1_keypair> wipe_keypair(keypair);
  CHECK(secp256k1_keypair_create(c, &keypair, SecretData(key)) == 1);
  secp256k1_xonly_pubkey internal;
  CHECK(secp256k1_keypair_xonly_pub(c, &internal, nullptr, &keypair) == 1);
  std::array<uint8_t, 32> internal_bytes;
  CHECK(secp256k1_xonly_pubkey_serialize(c, internal_bytes.data(), &internal) == 1);
  const Hash256Bytes tweak = TapTweakHash(internal_bytes, merkle_root);
  // BIP341 taproot_tweak_seckey: negate the key when its point has odd Y, then add t. The
  // keypair tweak does exactly that.
  if (secp256k1_keypair_xonly_tweak_add(c, &keypair, tweak.data()) != 1) {
    return util::InvalidArgumentError("taproot tweak: tweak >= n or result is zero");
  }
  SecretBytes tweaked(32);
  CHECK(secp256k1_keypair_sec(c, tweaked.RevealMutable(SecretAccess::Get()).data(), &keypair) == 1);
  util::Result<PrivateKey> out = PrivateKey::FromBytes(tweaked.Reveal(SecretAccess::Get()));
  CHECK(out.ok());
  return out;
}

bool TaprootCheckTweak(const Secp256k1Context& ctx, const XOnlyPublicKey& output_key,
                       bool parity_odd, const XOnlyPublicKey& internal_key,
                       std::span<const uint8_t, 32> merkle_root) {
  const secp256k1_context* c = Ctx(ctx);
  const secp256k1_xonly_pubkey internal = LoadXOnly(internal_key.parsed_);
  std::array<uint8_t, 32> root;
  std::copy(merkle_root.begin(), merkle_root.end(), root.begin());
  const Hash256Bytes tweak = TapTweakHash(internal_key.bytes(), root);
  return secp256k1_xonly_pubkey_tweak_add_check(c, output_key.bytes().data(), parity_odd ? 1 : 0,
                                                &internal, tweak.data()) == 1;
}

}  // namespace kinko::crypto
