// Freezes and unfreezes: the signed orders that stop a signer from signing and let it sign again
// (DESIGN.md section 2, guarantee 5; doc/signer-api.md, "Freeze and unfreeze objects").
//
// A Freeze names its scope (every signer, or one signer by its identity key id), a reason for
// the humans who read the signer's status and log, its time and a random 128-bit nonce (so two
// freezes with the same text are two objects with two digests). Its canonical encoding is
// canonical CBOR (policy/canonical.h) and its digest TaggedHash("kinko/freeze/v1", encoding). A
// SignedFreeze carries one signature (policy/identity.h) by the watcher or admin that orders it.
//
// An Unfreeze has the same fields plus the digest of the freeze it lifts, its digest is
// TaggedHash("kinko/unfreeze/v1", encoding), and a SignedUnfreeze carries one or more
// signatures (sorted by key id, one per key) because lifting a freeze takes the governance
// quorum.
//
// Decoding verifies every signature over the object's digest, so a decoded object was signed by
// the keys it carries. Whether those keys may freeze (a registered watcher or admin) or are
// enough to unfreeze (the governance threshold of the policy in force), whether the scope names
// this signer, and whether the unfreeze lifts the freeze in force, are the signer's questions.
//
// The tags differ from every other kinko tag, so a freeze signature is never a valid unfreeze,
// intent, approval or policy signature, and the other way round.
//
// Thread-safe: immutable values.
#ifndef KINKO_SIGNERAPI_FREEZE_H_
#define KINKO_SIGNERAPI_FREEZE_H_

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/ed25519.h"
#include "policy/canonical.h"
#include "policy/identity.h"
#include "util/result.h"

namespace kinko::signerapi {

inline constexpr uint64_t kFreezeVersion = 1;
// DO NOT CHANGE: the domain tags of freeze and unfreeze digests (signed by watchers and admins,
// stored in the audit log).
inline constexpr std::string_view kFreezeTag = "kinko/freeze/v1";
inline constexpr std::string_view kUnfreezeTag = "kinko/unfreeze/v1";

// The reason is 1..512 bytes of display-safe text (policy::IsDisplaySafeText).
inline constexpr size_t kMaxFreezeReasonSize = 512;
// The most signatures an unfreeze may carry (a governance quorum is far smaller).
inline constexpr size_t kMaxUnfreezeSignatures = 32;

using FreezeNonce = std::array<uint8_t, 16>;

// Which signers an order applies to.
struct FreezeScope {
  // nullopt: every signer. Otherwise the identity key id of the one signer it applies to.
  std::optional<policy::KeyId> signer;

  // True when the order applies to the signer whose identity key id is `signer_id`.
  bool AppliesTo(const policy::KeyId& signer_id) const {
    return !signer.has_value() || *signer == signer_id;
  }

  friend bool operator==(const FreezeScope&, const FreezeScope&) = default;
};

struct FreezeFields {
  FreezeScope scope;
  std::string reason;
  uint64_t time = 0;  // Seconds since the Unix epoch, at most policy::kMaxTime.
  FreezeNonce nonce{};

  friend bool operator==(const FreezeFields&, const FreezeFields&) = default;
};

struct UnfreezeFields {
  FreezeScope scope;
  std::string reason;
  uint64_t time = 0;  // Seconds since the Unix epoch, at most policy::kMaxTime.
  FreezeNonce nonce{};
  policy::Digest freeze_digest{};  // Freeze::digest() of the freeze this lifts.

  friend bool operator==(const UnfreezeFields&, const UnfreezeFields&) = default;
};

// Copyable and movable.
class Freeze final {
 public:
  // Fails with kInvalidArgument naming the field when the reason is empty, longer than 512
  // bytes or not display-safe, or the time is above policy::kMaxTime.
  static util::Result<Freeze> Create(FreezeFields fields);
  // Decodes the canonical encoding and checks it as Create does. Fails with kInvalidArgument
  // naming the byte and field for any non-canonical encoding, an unknown version or scope
  // kind, a signer key id present with scope "all" (or missing with scope "one signer"), or any
  // rule of Create.
  static util::Result<Freeze> Decode(std::span<const uint8_t> bytes);
  static util::Result<Freeze> DecodeFrom(policy::CborReader& reader);

  // Map {0: version, 1: scope kind (1 all, 2 one signer), [2: signer key id], 3: reason,
  // 4: time, 5: nonce}.
  const std::vector<uint8_t>& Encode() const { return encoding_; }
  // TaggedHash("kinko/freeze/v1", Encode()).
  const policy::Digest& digest() const { return digest_; }
  const FreezeFields& fields() const { return fields_; }

  friend bool operator==(const Freeze& a, const Freeze& b) { return a.encoding_ == b.encoding_; }

 private:
  Freeze() = default;
  FreezeFields fields_;
  std::vector<uint8_t> encoding_;
  policy::Digest digest_{};
};

// A freeze with the signature of the watcher or admin that orders it. Copyable and movable.
// Encoding: map {0: freeze, 1: signature object}.
class SignedFreeze final {
 public:
  static SignedFreeze Sign(Freeze freeze, const crypto::Ed25519PrivateKey& key);
  // Decodes and verifies the signature over the freeze's digest. Fails with kInvalidArgument
  // for an invalid or non-canonical encoding, and with kPermissionDenied "freeze signature:
  // does not verify ..." when the signature does not verify.
  static util::Result<SignedFreeze> Decode(std::span<const uint8_t> bytes);

  std::vector<uint8_t> Encode() const;

  const Freeze& freeze() const { return freeze_; }
  const policy::Signature& signature() const { return signature_; }
  // The key id of the key that signed (to be checked against the registered watchers and
  // admins).
  policy::KeyId signer() const { return policy::SignerKeyId(signature_); }

  friend bool operator==(const SignedFreeze&, const SignedFreeze&) = default;

 private:
  SignedFreeze(Freeze freeze, policy::Signature signature)
      : freeze_(std::move(freeze)), signature_(signature) {}
  Freeze freeze_;
  policy::Signature signature_;
};

// Copyable and movable.
class Unfreeze final {
 public:
  // Fails as Freeze::Create.
  static util::Result<Unfreeze> Create(UnfreezeFields fields);
  // Fails as Freeze::Decode.
  static util::Result<Unfreeze> Decode(std::span<const uint8_t> bytes);
  static util::Result<Unfreeze> DecodeFrom(policy::CborReader& reader);

  // Map {0: version, 1: scope kind, [2: signer key id], 3: reason, 4: time, 5: nonce,
  // 6: freeze digest}.
  const std::vector<uint8_t>& Encode() const { return encoding_; }
  // TaggedHash("kinko/unfreeze/v1", Encode()).
  const policy::Digest& digest() const { return digest_; }
  const UnfreezeFields& fields() const { return fields_; }

  friend bool operator==(const Unfreeze& a, const Unfreeze& b) {
    return a.encoding_ == b.encoding_;
  }

 private:
  Unfreeze() = default;
  UnfreezeFields fields_;
  std::vector<uint8_t> encoding_;
  policy::Digest digest_{};
};

// An unfreeze with one or more signatures, sorted by signer key id, at most one per key.
// Copyable and movable.
// Encoding: map {0: unfreeze, 1: array of 1..32 signature objects}.
class SignedUnfreeze final {
 public:
  // The unfreeze with `key`'s signature.
  static SignedUnfreeze Sign(Unfreeze unfreeze, const crypto::Ed25519PrivateKey& key);
  // Returns this unfreeze with `key`'s signature added. Fails with kAlreadyExists when that key
  // has signed already, and with kInvalidArgument when it already has 32 signatures.
  util::Result<SignedUnfreeze> AddSignature(const crypto::Ed25519PrivateKey& key) const;

  // Decodes and verifies every signature over the unfreeze's digest. Fails with
  // kInvalidArgument for an invalid or non-canonical encoding, no signatures, more than 32, or
  // signatures not in strictly increasing key id order (a key twice); and with
  // kPermissionDenied "unfreeze signer N signature: does not verify ..." when the N-th (from 0)
  // does not verify.
  static util::Result<SignedUnfreeze> Decode(std::span<const uint8_t> bytes);

  std::vector<uint8_t> Encode() const;

  const Unfreeze& unfreeze() const { return unfreeze_; }
  const std::vector<policy::Signature>& signatures() const { return signatures_; }
  // The key ids of the signatures, sorted (to be counted against the governance threshold).
  std::vector<policy::KeyId> signers() const;

  friend bool operator==(const SignedUnfreeze&, const SignedUnfreeze&) = default;

 private:
  SignedUnfreeze(Unfreeze unfreeze, std::vector<policy::Signature> signatures)
      : unfreeze_(std::move(unfreeze)), signatures_(std::move(signatures)) {}
  Unfreeze unfreeze_;
  std::vector<policy::Signature> signatures_;
};

}  // namespace kinko::signerapi

#endif  // KINKO_SIGNERAPI_FREEZE_H_
