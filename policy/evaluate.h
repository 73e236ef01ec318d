// Evaluation: whether a policy allows a set of signed intents, with their approvals, to be paid
// in one transaction now (DESIGN.md section 5, steps 3, 4 and 6; doc/policy.md).
//
// Evaluate is a pure function of its arguments: the intents and approvals, the policy in force,
// the velocity state (what already left each wallet, and when) and the time `now`. It reads no
// clock, file or global, so the signer, the coordinator and `kinko policy check` reach the same
// decision from the same inputs.
//
// In order, for each intent (the first failure decides, naming the intent by index and id):
//   1. the requester is a key the policy names (the signature itself was verified when the
//      SignedIntent was decoded); the intent's network is the policy's; the intent is not
//      expired and not created in the future (beyond `kMaxClockSkew`);
//   2. every approval given with it is bound to it and to this policy (SignedApproval::
//      CheckBinding) and is by a key the policy names; an approval that is not is refused, not
//      ignored;
//   3. the first rule that matches decides: deny refuses; allow requires its approvals;
//      no matching rule refuses;
//   4. approvals: the requester never counts for its own intent; each key counts once, and
//      toward at most one requirement (requirements are met by a matching of distinct keys to
//      groups); a reject by any member of a required group refuses.
// Then for the transaction: the intents' fee ceilings are within the policy's, the number of
// outputs, the total against the per-transaction limit, each wallet's rolling windows (the
// velocity state's spends within the window plus this transaction), and, when the transaction's
// fee and size are given, the fee and fee rate against the policy's and every intent's ceiling.
//
// Thread-safe: pure functions.
#ifndef KINKO_POLICY_EVALUATE_H_
#define KINKO_POLICY_EVALUATE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "btc/amount.h"
#include "policy/approval.h"
#include "policy/intent.h"
#include "policy/policy.h"

namespace kinko::policy {

// How far in the future an intent's or approval's creation time may be: 5 minutes.
inline constexpr uint64_t kMaxClockSkew = 300;

// One intent and the approvals given for it.
struct IntentWithApprovals {
  SignedIntent intent;
  std::vector<SignedApproval> approvals;
};

// What already left a wallet: one entry per allowed intent (or transaction) that was signed.
struct Spend {
  std::string wallet;
  uint64_t time = 0;  // Seconds since the Unix epoch.
  btc::Amount amount = btc::Amount::Zero();

  friend bool operator==(const Spend&, const Spend&) = default;
};

// The signer's (or coordinator's) record of spends. Entries older than the longest window
// no longer matter and may be pruned by the owner.
struct VelocityState {
  std::vector<Spend> spends;
};

// The fee and size of the transaction that pays the intents, when it is known (the signer
// computes them from the PSBT; `kinko policy check` without a PSBT leaves them out).
struct TransactionFacts {
  btc::Amount fee = btc::Amount::Zero();
  uint64_t vsize = 0;  // Virtual bytes, > 0.
};

// DO NOT CHANGE the names (RefusalCodeName): they appear in audit logs, metrics and APIs.
enum class RefusalCode {
  kUnknownRequester,     // "unknown_requester"
  kWrongNetwork,         // "wrong_network"
  kIntentExpired,        // "intent_expired"
  kIntentFromFuture,     // "intent_from_future"
  kDuplicateIntent,      // "duplicate_intent": the same intent id twice in one request
  kInvalidApproval,      // "invalid_approval": unbound, unknown approver, or duplicated
  kNoMatchingRule,       // "no_matching_rule"
  kRuleDenies,           // "rule_denies"
  kApprovalsMissing,     // "approvals_missing"
  kApprovalRejected,     // "approval_rejected"
  kFeeCeilingExceeded,   // "fee_ceiling_exceeded": intent ceiling above the policy's, or fee
  kOutputsLimit,         // "outputs_limit"
  kPerTransactionLimit,  // "per_transaction_limit"
  kWindowLimit,          // "window_limit"
};

std::string_view RefusalCodeName(RefusalCode code);

// Why a request was refused. `rule` names the deciding rule when there is one; `limit` names
// the limit ("per_transaction", "window 24h", "fee_rate_max", ...) when one refused; `detail`
// is a sentence for a human naming the objects involved by label, index and amounts
// ("intent 0 (id 1a2b...): rule 'to the address book' needs 2 of treasury (have 1: bob) and 1
// of security (have 0)"). Never contains key material (key ids and labels are public).
struct Refusal {
  RefusalCode code = RefusalCode::kNoMatchingRule;
  std::optional<size_t> intent_index;
  std::string rule;
  std::string limit;
  std::string detail;
};

// How one allowed intent was decided.
struct IntentDecision {
  std::string rule;                    // The rule that allowed it.
  std::vector<std::string> approvers;  // Labels of the approvals that counted, sorted.
};

// The verdict of an evaluation: allowed (then `intents` has one entry per intent, and `spends`
// what the owner must add to its velocity state once the transaction is signed) or refused.
struct Verdict {
  bool allowed = false;
  std::optional<Refusal> refusal;  // Present exactly when !allowed.
  std::vector<IntentDecision> intents;
  std::vector<Spend> spends;  // One per wallet, at `now`, with the wallet's total.
};

// Evaluates `request` (one or more intents, paid together) against `policy` at `now`. Never
// fails: every problem with the request is a refusal. Requires a non-empty request.
Verdict Evaluate(const std::vector<IntentWithApprovals>& request, const Policy& policy,
                 const VelocityState& velocity, uint64_t now,
                 const std::optional<TransactionFacts>& transaction = std::nullopt);

}  // namespace kinko::policy

#endif  // KINKO_POLICY_EVALUATE_H_
