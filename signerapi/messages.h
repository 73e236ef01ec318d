// The signer's wire messages, version 1 (doc/signer-api.md): what the coordinator sends to a
// signer (kinko-signer) and what the signer answers, as plain structs of decoded values.
//
// Requests hold objects that were already decoded and verified: a SignRequest's intents and
// approvals carry valid signatures by the keys they name (policy/intent.h, policy/approval.h),
// its PSBT parsed (btc/psbt.h); a FreezeRequest's freeze is signed (signerapi/freeze.h). Whether
// those keys are registered, and whether the policy allows what is asked, is the signer's check
// (signer/), not this component's. The JSON form and its strict decoder are in
// signerapi/json_codec.h.
//
// Responses are what the signer decided; the coordinator treats them as untrusted data too (it
// re-checks the PSBT it gets back and verifies audit proofs).
//
// Thread-safe: plain values.
#ifndef KINKO_SIGNERAPI_MESSAGES_H_
#define KINKO_SIGNERAPI_MESSAGES_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "btc/psbt.h"
#include "policy/approval.h"
#include "policy/evaluate.h"
#include "policy/identity.h"
#include "policy/intent.h"
#include "policy/policy.h"
#include "signerapi/freeze.h"
#include "util/status.h"

namespace kinko::signerapi {

// DO NOT CHANGE: the version every message carries as "version" (requests) and that the paths
// carry as "/v1/".
inline constexpr uint64_t kApiVersion = 1;

// Limits of the messages' contents (doc/signer-api.md, "Limits"); body sizes are in
// signerapi/json_codec.h.
inline constexpr size_t kMaxSignRequestIntents = 256;
inline constexpr size_t kMaxApprovalsPerIntent = 32;
// Refusal codes and approver labels (policy::kMaxNameSize is 64 as well).
inline constexpr size_t kMaxLabelSize = 64;
inline constexpr size_t kMaxApproversPerIntent = kMaxApprovalsPerIntent;
// Rule names, limit names and details: the bounds of the audit log's decision entries
// (doc/audit-log.md), so that every logged decision can be answered.
inline constexpr size_t kMaxRuleSize = 256;
inline constexpr size_t kMaxLimitSize = 128;
inline constexpr size_t kMaxDetailSize = 4096;
// An encoded signed tree head (145 bytes in version 1 of doc/audit-log.md).
inline constexpr size_t kMaxSignedTreeHeadSize = 1024;
inline constexpr size_t kMaxErrorMessageSize = 4096;
// A signed policy with its largest address book (policy::kMaxAddressBookEntries) is about 60 MB;
// policies that large are not sent through this API.
inline constexpr size_t kMaxSignedPolicySize = 16 * 1024 * 1024;

// A random 128-bit id the coordinator gives each signing request; the signer echoes it and logs
// it. Not a replay guard (intent ids are).
using RequestId = std::array<uint8_t, 16>;

// POST /v1/sign.
struct SignRequest {
  RequestId request_id{};
  btc::Psbt psbt;
  // Each intent with the approvals given for it; 1..kMaxSignRequestIntents intents, each with
  // 0..kMaxApprovalsPerIntent approvals.
  std::vector<policy::IntentWithApprovals> intents;
  // The latest signed tree head of THIS signer that the coordinator holds (an
  // auditlog::SignedTreeHead encoding, 1..kMaxSignedTreeHeadSize bytes), or absent when it holds
  // none. The signer refuses to sign when its own log does not extend it ("state_rolled_back":
  // its state was restored from an older copy; decision 0008). This component checks only the
  // size: the signer decodes the head and verifies that it signed it.
  // (The initializer keeps designated initializers that omit it free of
  // -Wmissing-field-initializers.)
  std::optional<std::vector<uint8_t>> known_head = std::nullopt;
};

// Compares the PSBTs, the encodings of every intent and approval, and the known heads.
bool operator==(const SignRequest& a, const SignRequest& b);

// The signer's audit log as of one tree size (doc/audit-log.md).
struct AuditHead {
  uint64_t tree_size = 0;
  policy::Digest root_hash{};
  // The signer's signed tree head for this size and root (auditlog::SignedTreeHead encoding,
  // 0..kMaxSignedTreeHeadSize bytes); whoever relies on the head verifies it. Empty when the
  // signer has not signed a head at this size (kinko-signer signs one with every commit; the format
  // allows a signer that signs heads less often): then the size and
  // root are its unsigned claim, to be checked against a later signed head with a consistency
  // proof.
  std::vector<uint8_t> signed_tree_head;

  friend bool operator==(const AuditHead&, const AuditHead&) = default;
};

// Where a decision was logged: its entry index, and a tree head that includes it
// (index < head.tree_size).
struct AuditReceipt {
  uint64_t index = 0;
  AuditHead head;

  friend bool operator==(const AuditReceipt&, const AuditReceipt&) = default;
};

// How one intent was allowed (policy::IntentDecision, with the intent named by id).
struct IntentSummary {
  policy::IntentId intent_id{};
  std::string rule;                    // Display-safe, 1..kMaxRuleSize bytes.
  std::vector<std::string> approvers;  // Labels of the approvals that counted; display-safe.

  friend bool operator==(const IntentSummary&, const IntentSummary&) = default;
};

// The request was signed: the PSBT with this signer's partial signatures added.
struct SignedResult {
  btc::Psbt psbt;
  std::vector<IntentSummary> intents;  // One per intent of the request, in its order.
  AuditReceipt audit;

  friend bool operator==(const SignedResult&, const SignedResult&) = default;
};

// The request was refused. `code` is a stable snake_case name (policy::RefusalCodeName, or one
// of the signer's own codes such as "frozen" and "intent_replayed", see doc/signer-api.md).
struct RefusedResult {
  std::string code;                      // [a-z0-9_], 1..kMaxLabelSize bytes.
  std::optional<uint64_t> intent_index;  // The intent that decided, when one did.
  std::string rule;    // The deciding rule, or empty. Display-safe, at most kMaxRuleSize.
  std::string limit;   // The limit that refused, or empty. Display-safe, at most kMaxLimitSize.
  std::string detail;  // For humans. Display-safe, at most kMaxDetailSize.
  std::optional<AuditReceipt> audit;  // Where the refusal was logged (absent if not logged).

  friend bool operator==(const RefusedResult&, const RefusedResult&) = default;
};

// The answer to POST /v1/sign.
struct SignResponse {
  RequestId request_id{};
  std::variant<SignedResult, RefusedResult> result;

  friend bool operator==(const SignResponse&, const SignResponse&) = default;
};

// POST /v1/policy: a newer policy, signed by admins. Which signatures count, and whether it may
// follow the policy in force, is governance's question (policy/governance.h).
struct PolicyUpdateRequest {
  policy::SignedPolicy signed_policy;

  friend bool operator==(const PolicyUpdateRequest&, const PolicyUpdateRequest&) = default;
};

// POST /v1/freeze.
struct FreezeRequest {
  SignedFreeze freeze;

  friend bool operator==(const FreezeRequest&, const FreezeRequest&) = default;
};

// POST /v1/unfreeze.
struct UnfreezeRequest {
  SignedUnfreeze unfreeze;

  friend bool operator==(const UnfreezeRequest&, const UnfreezeRequest&) = default;
};

struct PolicySummary {
  uint64_t sequence = 0;
  policy::Digest digest{};

  friend bool operator==(const PolicySummary&, const PolicySummary&) = default;
};

// A policy accepted by governance that is not yet in force.
struct PendingPolicy {
  uint64_t sequence = 0;
  policy::Digest digest{};
  uint64_t activates_at = 0;  // Seconds since the Unix epoch.

  friend bool operator==(const PendingPolicy&, const PendingPolicy&) = default;
};

// GET /v1/status, and the answer to POST /v1/policy, /v1/freeze and /v1/unfreeze.
struct StatusResponse {
  policy::KeyId signer{};  // This signer's identity key id (the scope a freeze may name).
  std::string wallet;      // The wallet id it signs for (policy::IsValidWalletId).
  // The digest of the freeze in force; absent when not frozen.
  std::optional<policy::Digest> freeze;
  PolicySummary policy;
  std::optional<PendingPolicy> pending_policy;
  AuditHead audit;

  bool frozen() const { return freeze.has_value(); }

  friend bool operator==(const StatusResponse&, const StatusResponse&) = default;
};

// The body of every answer that is not a message above: {"error": {"code", "message"}}.
struct ErrorBody {
  std::string code;     // Stable snake_case name (ErrorCodeName, or a name of the HTTP layer).
  std::string message;  // For humans; display-safe.

  friend bool operator==(const ErrorBody&, const ErrorBody&) = default;
};

// The snake_case name of `code` for error bodies: "invalid_argument", "permission_denied",
// "not_found", "already_exists", "failed_precondition", "unavailable", "aborted", "data_loss",
// "internal" ("ok" for kOk).
std::string_view ErrorCodeName(util::StatusCode code);

// The HTTP status for a failure with `code` (doc/signer-api.md, "Status codes"):
// kInvalidArgument 400, kPermissionDenied 403, kNotFound 404, kAlreadyExists 409,
// kFailedPrecondition 409, kUnavailable 503, kAborted 503, kDataLoss 500, kInternal 500
// (kOk 200).
int HttpStatusFor(util::StatusCode code);

// The HTTP status for a refused sign request with refusal code `code`: "frozen" 423,
// "intent_replayed" and "state_rolled_back" 409, any other 403.
int HttpStatusForRefusal(std::string_view code);

// The error body for `status`: its code's name, and its message with every byte outside
// printable ASCII (and the backslash) written as "\xNN", cut at kMaxErrorMessageSize, so that
// it is safe to show and log whatever the message quoted. Requires !status.ok().
ErrorBody ErrorBodyFor(const util::Status& status);

}  // namespace kinko::signerapi

#endif  // KINKO_SIGNERAPI_MESSAGES_H_
