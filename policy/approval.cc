#include "policy/approval.h"

#include <algorithm>
#include <utility>

#include "crypto/hash.h"
#include "util/hex.h"

namespace kinko::policy {
namespace {

// DO NOT CHANGE: the map keys of the approval encoding (doc/intent-encoding.md).
enum ApprovalKey : uint64_t {
  kKeyVersion = 0,
  kKeyIntentDigest = 1,
  kKeyPolicyDigest = 2,
  kKeyApprover = 3,
  kKeyDecision = 4,
  kKeyTime = 5,
  kKeyCommentHash = 6,
};

util::Result<Digest> ReadDigest(CborReader& reader, std::string_view what) {
  util::Result<std::vector<uint8_t>> bytes = reader.BytesExact(what, 32);
  if (!bytes.ok()) return bytes.status();
  Digest out{};
  std::copy(bytes->begin(), bytes->end(), out.begin());
  return out;
}

}  // namespace

std::string_view DecisionName(Decision decision) {
  switch (decision) {
    case Decision::kApprove:
      return "approve";
    case Decision::kReject:
      return "reject";
  }
  return "unknown";
}

util::Result<Approval> Approval::Create(const ApprovalFields& fields) {
  if (fields.time > kMaxTime) {
    return util::InvalidArgumentError("approval time: after year 9999");
  }
  CborWriter writer;
  writer.MapHeader(fields.comment_hash ? 7 : 6);
  writer.Uint(kKeyVersion);
  writer.Uint(kApprovalVersion);
  writer.Uint(kKeyIntentDigest);
  writer.Bytes(fields.intent_digest);
  writer.Uint(kKeyPolicyDigest);
  writer.Bytes(fields.policy_digest);
  writer.Uint(kKeyApprover);
  writer.Bytes(fields.approver);
  writer.Uint(kKeyDecision);
  writer.Uint(static_cast<uint8_t>(fields.decision));
  writer.Uint(kKeyTime);
  writer.Uint(fields.time);
  if (fields.comment_hash) {
    writer.Uint(kKeyCommentHash);
    writer.Bytes(*fields.comment_hash);
  }
  Approval approval;
  approval.fields_ = fields;
  approval.encoding_ = writer.bytes();
  approval.digest_ = crypto::TaggedHash(kApprovalTag, approval.encoding_);
  return approval;
}

util::Result<Approval> Approval::Decode(std::span<const uint8_t> bytes) {
  CborReader reader(bytes, "approval");
  util::Result<Approval> approval = DecodeFrom(reader);
  if (!approval.ok()) return approval;
  if (util::Status end = reader.ExpectEnd(); !end.ok()) return end;
  return approval;
}

util::Result<Approval> Approval::DecodeFrom(CborReader& reader) {
  const size_t start = reader.offset();
  util::Result<uint64_t> n = reader.MapHeader("approval", 6, 7);
  if (!n.ok()) return n.status();
  ApprovalFields fields;
  for (uint64_t key = 0; key < *n; ++key) {
    if (util::Result<uint64_t> k =
            reader.MapKey("approval key", static_cast<int64_t>(key) - 1, key);
        !k.ok()) {
      return k.status();
    }
    switch (static_cast<ApprovalKey>(key)) {
      case kKeyVersion: {
        util::Result<uint64_t> version = reader.Uint("version");
        if (!version.ok()) return version.status();
        if (*version != kApprovalVersion) {
          return reader.Error("version", "unknown version " + std::to_string(*version));
        }
        break;
      }
      case kKeyIntentDigest: {
        util::Result<Digest> d = ReadDigest(reader, "intent digest");
        if (!d.ok()) return d.status();
        fields.intent_digest = *d;
        break;
      }
      case kKeyPolicyDigest: {
        util::Result<Digest> d = ReadDigest(reader, "policy digest");
        if (!d.ok()) return d.status();
        fields.policy_digest = *d;
        break;
      }
      case kKeyApprover: {
        util::Result<Digest> d = ReadDigest(reader, "approver");
        if (!d.ok()) return d.status();
        fields.approver = *d;
        break;
      }
      case kKeyDecision: {
        util::Result<uint64_t> decision = reader.Uint("decision");
        if (!decision.ok()) return decision.status();
        if (*decision == static_cast<uint8_t>(Decision::kApprove)) {
          fields.decision = Decision::kApprove;
        } else if (*decision == static_cast<uint8_t>(Decision::kReject)) {
          fields.decision = Decision::kReject;
        } else {
          return reader.Error("decision", "unknown decision " + std::to_string(*decision));
        }
        break;
      }
      case kKeyTime: {
        util::Result<uint64_t> t = reader.Uint("time");
        if (!t.ok()) return t.status();
        fields.time = *t;
        break;
      }
      case kKeyCommentHash: {
        util::Result<Digest> d = ReadDigest(reader, "comment hash");
        if (!d.ok()) return d.status();
        fields.comment_hash = *d;
        break;
      }
    }
  }
  util::Result<Approval> approval = Create(fields);
  if (!approval.ok()) return approval;
  // Invariant: the reader accepts only canonical forms, so the bytes read are the encoding.
  CHECK(approval->encoding_.size() == reader.offset() - start);
  return approval;
}

util::Result<SignedApproval> SignedApproval::Sign(Approval approval,
                                                  const crypto::Ed25519PrivateKey& key) {
  if (Ed25519KeyId(key.public_key()) != approval.fields().approver) {
    return util::InvalidArgumentError("approval: the signing key is not the approver key");
  }
  const Signature signature = SignDigest(key, approval.digest());
  return SignedApproval(std::move(approval), signature);
}

std::vector<uint8_t> SignedApproval::Encode() const {
  CborWriter head;
  head.MapHeader(2);
  head.Uint(0);
  std::vector<uint8_t> out = head.bytes();
  out.insert(out.end(), approval_.Encode().begin(), approval_.Encode().end());
  CborWriter tail;
  tail.Uint(1);
  EncodeSignature(signature_, tail);
  out.insert(out.end(), tail.bytes().begin(), tail.bytes().end());
  return out;
}

util::Result<SignedApproval> SignedApproval::Decode(std::span<const uint8_t> bytes) {
  CborReader reader(bytes, "signed approval");
  if (util::Result<uint64_t> n = reader.MapHeader("signed approval", 2, 2); !n.ok()) {
    return n.status();
  }
  if (util::Result<uint64_t> k = reader.MapKey("signed approval key", -1, 0); !k.ok()) {
    return k.status();
  }
  util::Result<Approval> approval = Approval::DecodeFrom(reader);
  if (!approval.ok()) return approval.status();
  if (util::Result<uint64_t> k = reader.MapKey("signed approval key", 0, 1); !k.ok()) {
    return k.status();
  }
  util::Result<Signature> signature = DecodeSignature(reader);
  if (!signature.ok()) return signature.status();
  if (util::Status end = reader.ExpectEnd(); !end.ok()) return end;
  if (util::Status verified =
          VerifySignature(*signature, approval->fields().approver, approval->digest(), "approver");
      !verified.ok()) {
    return verified.WithPrefix("approval");
  }
  return SignedApproval(std::move(*approval), *signature);
}

util::Status SignedApproval::CheckBinding(const SignedIntent& intent,
                                          const Digest& policy_digest) const {
  const ApprovalFields& f = approval_.fields();
  const IntentFields& i = intent.intent().fields();
  if (f.intent_digest != intent.intent().digest()) {
    return util::PermissionDeniedError("approval by " + util::HexEncode(f.approver) +
                                       ": for another intent (digest " +
                                       util::HexEncode(f.intent_digest) + ")");
  }
  if (f.policy_digest != policy_digest) {
    return util::PermissionDeniedError("approval by " + util::HexEncode(f.approver) +
                                       ": for another policy (digest " +
                                       util::HexEncode(f.policy_digest) + ")");
  }
  if (f.time >= i.expires) {
    return util::PermissionDeniedError("approval by " + util::HexEncode(f.approver) +
                                       ": made after the intent expired");
  }
  if (f.time < i.created) {
    return util::PermissionDeniedError("approval by " + util::HexEncode(f.approver) +
                                       ": made before the intent was created");
  }
  return util::OkStatus();
}

}  // namespace kinko::policy
