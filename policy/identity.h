// Identities of people and services (requesters, approvers, admins) and the signature object
// that every signed kinko object carries (doc/decisions/0003-intents-and-approvals.md).
//
// A key is named by its key id: TaggedHash("kinko/key-id/v1", scheme || public key) (BIP 340
// tagged hash, SHA-256), 32 bytes. A signature object carries its scheme, the signer's public key
// and the signature, so that it is self-describing: the key id of the public key must equal the
// key id that the signed object names, and the public key must verify the signature over the
// object's digest. Whether that key id is registered (and in which group) is the policy's
// question, not this file's.
//
// Schemes: kEd25519 (RFC 8032 over the 32-byte digest). WebAuthn (P-256 assertions whose
// challenge is the digest) is meant to become a second scheme with its own fields; a decoder
// refuses schemes it does not know.
//
// Thread-safe: pure functions and immutable values.
#ifndef KINKO_POLICY_IDENTITY_H_
#define KINKO_POLICY_IDENTITY_H_

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/ed25519.h"
#include "crypto/hash.h"
#include "policy/canonical.h"
#include "util/result.h"

namespace kinko::policy {

// DO NOT CHANGE: these numbers are part of signed objects.
enum class SignatureScheme : uint8_t {
  kEd25519 = 1,
};

// "ed25519".
std::string_view SignatureSchemeName(SignatureScheme scheme);

using KeyId = std::array<uint8_t, 32>;
using Digest = crypto::Hash256Bytes;

// DO NOT CHANGE: the domain tags of kinko's digests.
inline constexpr std::string_view kKeyIdTag = "kinko/key-id/v1";
inline constexpr std::string_view kIntentTag = "kinko/intent/v1";
inline constexpr std::string_view kApprovalTag = "kinko/approval/v1";

// The key id of an Ed25519 public key.
KeyId Ed25519KeyId(const crypto::Ed25519PublicKey& public_key);

// A signer's public key and its signature over a digest. Copyable and movable.
struct Signature {
  SignatureScheme scheme = SignatureScheme::kEd25519;
  crypto::Ed25519PublicKey public_key{};
  crypto::Ed25519Signature signature{};

  friend bool operator==(const Signature&, const Signature&) = default;
};

// Signs `digest` with `key`.
Signature SignDigest(const crypto::Ed25519PrivateKey& key, const Digest& digest);

// The key id of the signature's public key.
KeyId SignerKeyId(const Signature& signature);

// OK when `signature` is by the key `signer` and verifies over `digest`. Fails with
// kPermissionDenied "`role` signature: ..." when the public key does not have key id `signer`
// or the signature does not verify.
util::Status VerifySignature(const Signature& signature, const KeyId& signer, const Digest& digest,
                             std::string_view role);

// The canonical encoding of a signature object: map {0: scheme, 1: public key (32 bytes),
// 2: signature (64 bytes)}.
void EncodeSignature(const Signature& signature, CborWriter& writer);
// Reads a signature object. Fails with kInvalidArgument for a non-canonical encoding, an unknown
// scheme, or a public key that is not a valid Ed25519 point.
util::Result<Signature> DecodeSignature(CborReader& reader);

// Lowercase hex in groups of four characters separated by spaces ("1a2b 3c4d ..."), for
// comparing a digest or key id on two screens.
std::string GroupedHex(std::span<const uint8_t> bytes);

}  // namespace kinko::policy

#endif  // KINKO_POLICY_IDENTITY_H_
