#include "policy/identity.h"

#include <algorithm>

#include "util/hex.h"

namespace kinko::policy {

std::string_view SignatureSchemeName(SignatureScheme scheme) {
  switch (scheme) {
    case SignatureScheme::kEd25519:
      return "ed25519";
  }
  return "unknown";
}

KeyId Ed25519KeyId(const crypto::Ed25519PublicKey& public_key) {
  crypto::Sha256Hasher hasher = crypto::TaggedHasher(kKeyIdTag);
  const uint8_t scheme = static_cast<uint8_t>(SignatureScheme::kEd25519);
  hasher.Write(std::span(&scheme, 1));
  hasher.Write(public_key);
  return hasher.Finalize();
}

Signature SignDigest(const crypto::Ed25519PrivateKey& key, const Digest& digest) {
  return Signature{.scheme = SignatureScheme::kEd25519,
                   .public_key = key.public_key(),
                   .signature = key.Sign(digest)};
}

KeyId SignerKeyId(const Signature& signature) {
  switch (signature.scheme) {
    case SignatureScheme::kEd25519:
      return Ed25519KeyId(signature.public_key);
  }
  CHECK(false);
  return {};
}

util::Status VerifySignature(const Signature& signature, const KeyId& signer, const Digest& digest,
                             std::string_view role) {
  const std::string prefix = std::string(role) + " signature: ";
  if (SignerKeyId(signature) != signer) {
    return util::PermissionDeniedError(prefix + "public key is not key " + util::HexEncode(signer));
  }
  switch (signature.scheme) {
    case SignatureScheme::kEd25519:
      if (!crypto::Ed25519Verify(signature.public_key, digest, signature.signature)) {
        return util::PermissionDeniedError(prefix + "does not verify over digest " +
                                           util::HexEncode(digest));
      }
      return util::OkStatus();
  }
  return util::PermissionDeniedError(prefix + "unknown scheme");
}

void EncodeSignature(const Signature& signature, CborWriter& writer) {
  writer.MapHeader(3);
  writer.Uint(0);
  writer.Uint(static_cast<uint8_t>(signature.scheme));
  writer.Uint(1);
  writer.Bytes(signature.public_key);
  writer.Uint(2);
  writer.Bytes(signature.signature);
}

util::Result<Signature> DecodeSignature(CborReader& reader) {
  if (util::Result<uint64_t> n = reader.MapHeader("signature", 3, 3); !n.ok()) return n.status();
  Signature out;
  for (uint64_t expected = 0; expected < 3; ++expected) {
    util::Result<uint64_t> key =
        reader.MapKey("signature key", static_cast<int64_t>(expected) - 1, expected);
    if (!key.ok()) return key.status();
    if (*key != expected) return reader.Error("signature", "missing key");
    if (expected == 0) {
      util::Result<uint64_t> scheme = reader.Uint("signature scheme");
      if (!scheme.ok()) return scheme.status();
      if (*scheme != static_cast<uint8_t>(SignatureScheme::kEd25519)) {
        return reader.Error("signature scheme", "unknown scheme " + std::to_string(*scheme));
      }
      out.scheme = SignatureScheme::kEd25519;
    } else if (expected == 1) {
      util::Result<std::vector<uint8_t>> key_bytes =
          reader.BytesExact("signature public key", crypto::kEd25519PublicKeySize);
      if (!key_bytes.ok()) return key_bytes.status();
      std::copy(key_bytes->begin(), key_bytes->end(), out.public_key.begin());
      if (!crypto::IsValidEd25519PublicKey(out.public_key)) {
        return reader.Error("signature public key", "not a valid ed25519 public key");
      }
    } else {
      util::Result<std::vector<uint8_t>> sig =
          reader.BytesExact("signature bytes", crypto::kEd25519SignatureSize);
      if (!sig.ok()) return sig.status();
      std::copy(sig->begin(), sig->end(), out.signature.begin());
    }
  }
  return out;
}

std::string GroupedHex(std::span<const uint8_t> bytes) {
  const std::string hex = util::HexEncode(bytes);
  std::string out;
  for (size_t i = 0; i < hex.size(); i += 4) {
    if (i > 0) out += ' ';
    out += hex.substr(i, 4);
  }
  return out;
}

}  // namespace kinko::policy
