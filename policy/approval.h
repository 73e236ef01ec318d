// Approvals: an approver's signed decision on one intent (DESIGN.md section 4,
// doc/decisions/0003-intents-and-approvals.md).
//
// An Approval names the approver's key id, the digest of the intent it decides on, the digest of
// the policy in force when the approver decided, the decision (approve or reject), the time and
// optionally the SHA-256 of a comment. Its digest is TaggedHash("kinko/approval/v1", encoding),
// a different domain from intents, so no signature over one kind of object is a signature over
// the other. Because the intent digest and the policy digest are signed, an approval is
// worthless for any other intent or any other policy (CheckBinding); the evaluator also refuses
// approvals of expired intents (Intent::IsExpiredAt).
//
// Thread-safe: immutable values.
#ifndef KINKO_POLICY_APPROVAL_H_
#define KINKO_POLICY_APPROVAL_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "crypto/ed25519.h"
#include "policy/identity.h"
#include "policy/intent.h"
#include "util/result.h"

namespace kinko::policy {

inline constexpr uint64_t kApprovalVersion = 1;

// DO NOT CHANGE: these numbers are part of signed approvals.
enum class Decision : uint8_t {
  kApprove = 1,
  kReject = 2,
};

// "approve" or "reject".
std::string_view DecisionName(Decision decision);

struct ApprovalFields {
  Digest intent_digest{};
  Digest policy_digest{};
  KeyId approver{};
  Decision decision = Decision::kApprove;
  uint64_t time = 0;                   // Seconds since the Unix epoch, at most kMaxTime.
  std::optional<Digest> comment_hash;  // SHA-256 of the comment's UTF-8 text.

  friend bool operator==(const ApprovalFields&, const ApprovalFields&) = default;
};

// Copyable and movable.
class Approval final {
 public:
  // Fails with kInvalidArgument when `time` is above kMaxTime.
  static util::Result<Approval> Create(const ApprovalFields& fields);
  // Decodes the canonical encoding. Fails with kInvalidArgument naming the byte and field for
  // any non-canonical encoding, an unknown version or decision, or a time above kMaxTime.
  static util::Result<Approval> Decode(std::span<const uint8_t> bytes);
  static util::Result<Approval> DecodeFrom(CborReader& reader);

  // Map {0: version, 1: intent digest, 2: policy digest, 3: approver key id, 4: decision,
  // 5: time, [6: comment hash]}.
  const std::vector<uint8_t>& Encode() const { return encoding_; }
  // TaggedHash("kinko/approval/v1", Encode()).
  const Digest& digest() const { return digest_; }
  const ApprovalFields& fields() const { return fields_; }

  friend bool operator==(const Approval& a, const Approval& b) {
    return a.encoding_ == b.encoding_;
  }

 private:
  Approval() = default;
  ApprovalFields fields_;
  std::vector<uint8_t> encoding_;
  Digest digest_{};
};

// An approval with the approver's signature. Copyable and movable.
// Encoding: map {0: approval, 1: signature object}.
class SignedApproval final {
 public:
  // Fails with kInvalidArgument when the key's id is not the approval's approver key id.
  static util::Result<SignedApproval> Sign(Approval approval, const crypto::Ed25519PrivateKey& key);
  // Decodes and verifies the approver's signature. Fails with kInvalidArgument for an invalid
  // or non-canonical encoding and with kPermissionDenied "approval: approver signature: ..."
  // when the signature is not by the approver key or does not verify.
  static util::Result<SignedApproval> Decode(std::span<const uint8_t> bytes);

  std::vector<uint8_t> Encode() const;

  // OK when this approval decides on `intent` under the policy `policy_digest`, and was made
  // between the intent's creation and expiry. Fails with kPermissionDenied naming the mismatch:
  // another intent, another policy, made after the intent expired, or before it was created.
  // Whether the approver may approve (registered, right group, not the requester) is the
  // evaluator's question.
  util::Status CheckBinding(const SignedIntent& intent, const Digest& policy_digest) const;

  const Approval& approval() const { return approval_; }
  const Signature& signature() const { return signature_; }

  friend bool operator==(const SignedApproval&, const SignedApproval&) = default;

 private:
  SignedApproval(Approval approval, Signature signature)
      : approval_(std::move(approval)), signature_(signature) {}
  Approval approval_;
  Signature signature_;
};

}  // namespace kinko::policy

#endif  // KINKO_POLICY_APPROVAL_H_
