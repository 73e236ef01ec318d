// Evaluation: whether a policy allows a set of signed intents, with their approvals, to be paid
// in one transaction now (DESIGN.md section 5, steps 3, 4 and 6; doc/policy.md).
//
// Evaluate is a pure function of its arguments: the intents and approvals, the policy in force,
// the velocity state (what already left each wallet, and when) and the time `now`. It reads no
// clock, file or global, so the signer, the coordinator and `kinko policy check` reach the same
// decision from the same inputs.
//
// In order, for each intent (the first failure decides; the refusal names the intent by its
// index in the request and its id, "intent 0 (id 00112233...)"):
//   1. kUnknownRequester: the requester key is not named in the policy (the signature itself
//      was verified when the SignedIntent was decoded); kWrongNetwork: the intent's network is
//      not the policy's; kIntentExpired: now >= expires; kIntentFromFuture: created > now +
//      kMaxClockSkew; kDuplicateIntent: an earlier intent of the request has the same id.
//   2. kInvalidApproval, for the first approval given with the intent (in the order given) that
//      is not bound to this intent and this policy (SignedApproval::CheckBinding: another
//      intent, another policy, made outside the intent's lifetime), is by a key the policy does
//      not name, was made more than kMaxClockSkew after now, or is by a key that already gave
//      an approval of this intent. The refusal names the approval's index and its approver (the
//      key's label, or the first 8 bytes of its key id in hex). Such an approval is refused,
//      not ignored: approvals moved between intents or policies are an attack to make visible.
//   3. The first rule (in policy order) whose conditions all hold decides:
//        wallet      the intent's wallet is one of `wallets`, or `wallets` is empty;
//        requester   the requester is (or is a member of) one of `requesters`, or it is empty;
//        destination kAny; kAddressBook: every output's script is in the address book;
//                    kLabels: every output's address-book entry has one of `labels`;
//        amount      amount_min <= the intent's total <= amount_max (absent bounds hold);
//        outputs     the intent's number of outputs <= outputs_max (absent: holds).
//      kNoMatchingRule when none matches; kRuleDenies when it is a deny rule (approvals are
//      then not looked at).
//   4. For an allow rule: kApprovalRejected when any approval (in the order given) rejects and
//      its key is a member of a group the rule requires, even if the thresholds are otherwise
//      met; a reject by a key outside the required groups does not change the decision.
//      Otherwise approvals count when they approve and are not by the requester (a requester
//      never approves its own intent). Each counting key fills at most one slot; a requirement
//      "t of group" has t slots that its members may fill. The requirements are met when a
//      maximum matching of counting keys to slots fills every slot (keys are tried in label
//      order, requirements in rule order, so the matching, and the approvers it reports, are
//      deterministic). kApprovalsMissing otherwise, naming for each requirement the keys that
//      filled it: "needs 2 of treasury (have 1: bob), 1 of security (have 0)", and noting when
//      the requester's own approval was not counted.
// Then for the transaction, in order:
//   5. kFeeCeilingExceeded (limit "fee_max" or "fee_rate_max", naming the intent) when an
//      intent's fee ceiling states an absolute fee above the policy's fee_max or a rate above
//      its fee_rate_max (a ceiling the intent does not state is bounded by the policy's limit,
//      which step 9 applies);
//   6. kOutputsLimit (limit "outputs_max") when the intents have more outputs in all than
//      limits.outputs_max;
//   7. kPerTransactionLimit (limit "per_transaction") when the intents' total is above
//      limits.per_transaction (or limit "max_money" when it is above 21 million BTC);
//   8. kWindowLimit (limit "window 1d": the duration as FormatDuration writes it) when, for a
//      wallet (wallets in byte order, windows in duration order), the velocity spends of that
//      wallet with now - duration < time <= now, plus this request's total for the wallet (and,
//      when `transaction` is given, its fee: a fee leaves the wallet too), are above the
//      window's max. Spends after `now` are not counted, so a decision can be
//      re-run at a past `now` with a later state; the owner of the state must not run with a
//      clock behind its last recorded spend;
//   9. when `transaction` is given, kFeeCeilingExceeded when its fee is above the policy's
//      fee_max (limit "fee_max") or an intent's max_fee (limit "max_fee"), or its fee rate
//      fee * 1000 / vsize (sat/kvB, compared exactly by cross-multiplication, no rounding) is
//      above the policy's fee_rate_max (limit "fee_rate_max") or an intent's max_rate (limit
//      "max_rate").
//
// Address-book lookups and key and group membership go through the Policy's indexes: no step
// scans the address book or the key list.
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
// the limit ("per_transaction", "window 1d", "fee_rate_max", ...) when one refused; `detail`
// is a sentence for a human naming the objects involved by label, index and amounts
// ("intent 0 (id 1a2b...): rule 'to the address book' needs 2 of treasury (have 1: bob) and 1
// of security (have 0)"). Never contains key material (key ids and labels are public).
struct Refusal {
  RefusalCode code = RefusalCode::kNoMatchingRule;
  std::optional<size_t> intent_index;  // The intent it is about, when it is about one.
  std::string rule;
  std::string limit;
  std::string detail;
};

// How one allowed intent was decided.
struct IntentDecision {
  std::string rule;  // The rule that allowed it.
  // Labels of the keys that filled the rule's requirements in the matching (step 4), sorted.
  // Empty when the rule requires no approval.
  std::vector<std::string> approvers;

  friend bool operator==(const IntentDecision&, const IntentDecision&) = default;
};

// The verdict of an evaluation: allowed (then `intents` has one entry per intent, and `spends`
// what the owner must add to its velocity state once the transaction is signed) or refused.
struct Verdict {
  bool allowed = false;
  std::optional<Refusal> refusal;  // Present exactly when !allowed.
  std::vector<IntentDecision> intents;
  // One per wallet, at `now`, with the wallet's total (plus the fee when the transaction was
  // given); by wallet.
  std::vector<Spend> spends;
};

// Evaluates `request` (one or more intents, paid together) against `policy` at `now` (seconds
// since the Unix epoch), in the order described at the top of this file. Never fails: every
// problem with the request is a refusal, and the first one found decides. Requires a non-empty
// `request` and, when `transaction` is given, transaction->vsize > 0 (CHECK).
Verdict Evaluate(const std::vector<IntentWithApprovals>& request, const Policy& policy,
                 const VelocityState& velocity, uint64_t now,
                 const std::optional<TransactionFacts>& transaction = std::nullopt);

}  // namespace kinko::policy

#endif  // KINKO_POLICY_EVALUATE_H_
