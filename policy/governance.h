// Governance: which signed policy is in force, and how a new one replaces it (DESIGN.md
// section 5 step 2; doc/policy.md "Changing a policy").
//
// The first policy is installed with the admin keys and threshold pinned at installation. Each
// later policy must be signed by at least the threshold of the admins of the policy in force
// (counting each admin key once, ignoring signatures by other keys; admins named by a pending
// policy have no authority until it takes effect), carry a greater sequence number than the
// latest accepted policy (pending if any, else in force), and name its digest as predecessor.
//
// Whether a change tightens or loosens is computed (Compare), never declared. A change that only
// tightens relative to the policy in force takes effect at once (and supersedes any pending
// one). Any change that loosens anything becomes pending and takes effect when the in-force
// policy's activation_delay has passed since it was accepted; a newer accepted policy restarts
// that clock. New address-book entries are loosening, so they become usable only after the delay.
//
// Thread-safe: pure functions and immutable values.
#ifndef KINKO_POLICY_GOVERNANCE_H_
#define KINKO_POLICY_GOVERNANCE_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "policy/identity.h"
#include "policy/policy.h"
#include "util/result.h"

namespace kinko::policy {

// DO NOT CHANGE the names (ChangeEffectName): they appear in `kinko policy diff` output.
enum class ChangeEffect {
  kTightens,  // "tightens": allows nothing the old policy did not.
  kLoosens,   // "loosens": may allow something the old policy did not.
  kNeutral,   // "neutral": changes no decision (sequence, predecessor, key renamed ...).
};

std::string_view ChangeEffectName(ChangeEffect effect);

// One line of a policy diff: what changed (a path such as "limits.per_transaction",
// "rule 'x'.approvals", "address_book 'cold-storage' bc1q..."), the old and new values as a
// human reads them ("" when absent), its effect and why ("lower limit", "new destination",
// "intents it matched fall through to rule 'y', which allows").
struct Change {
  std::string path;
  std::string before;
  std::string after;
  ChangeEffect effect = ChangeEffect::kNeutral;
  std::string reason;
};

// Every difference between `before` and `after`, in a stable order (network, sequence,
// predecessor, governance, keys, groups, address book, limits, rules), each classified. The
// classification is sound: when no change is kLoosens, every request that `after` allows,
// `before` allows too (for every intent, approval set, velocity state and time). It may be
// cautious: some changes that cannot in fact allow more are still classified kLoosens.
//
// Paths and their classification (doc/policy.md "Changing a policy"):
//  - "network": loosens. "sequence", "predecessor": neutral.
//  - "activation_delay", "governance.threshold": higher tightens, lower loosens.
//    "governance.admins" (compared by key id): an admin key added loosens; only removed
//    tightens; only renamed is neutral.
//  - "key 'L'" (by key id): a new key id loosens (it may request under rules open to it, and
//    its approvals are no longer refused), so a label pointed to another key loosens; a removed
//    key tightens; a renamed key is neutral.
//  - "limits.per_transaction", "limits.fee_max", "limits.fee_rate_max", "limits.outputs_max":
//    new or lower tightens; higher or removed loosens. "limits.window D": new or lower tightens;
//    higher or removed loosens, unless a window at least as long with a max at most as high
//    remains (then it tightens).
//  - Rules, groups and address book are judged together on what the rules match, with names
//    resolved to key ids and addresses in each policy: for every allow rule A of `after` and
//    every rule B of `before` (or "no matching rule"), if some intent may be decided by A now
//    and by B before (A and B overlap, and no earlier rule of either list covers the overlap),
//    B must be an allow rule whose approvals are no easier than A's (every group B requires
//    has a distinct counterpart in A that is a subset of it with a threshold at least as high,
//    and every member of B's groups still named by `after` is in one of A's groups, so that
//    its reject still refuses). Each pair that fails makes the lines of the rules, groups or
//    address-book entries it involves loosening, with a reason naming the rule that may now
//    allow ("intents that rule 'x' denied may now be allowed by rule 'y' (approvals: none)");
//    a failure no line explains gets a line of its own. Every other change of a rule
//    ("rule 'R'", "rule 'R'.<field>", "rule 'R'.position" when its order relative to the other
//    rules changed), group ("group 'G'") or removed address-book entry tightens. Neutral: a
//    rule renamed (same content, same place), a group whose members are the same keys under
//    new labels, a group no rule uses.
//  - "address_book 'L' ADDRESS": a new address, or a new label on one, loosens (a new
//    destination waits for the delay); a removed one tightens unless intents paying it may
//    fall through to a rule that allows (above).
std::vector<Change> Compare(const Policy& before, const Policy& after);

// True when every intent that rule `inner` (of `inner_policy`) matches, rule `outer` (of
// `outer_policy`) matches too: names are resolved in each rule's own policy (key labels and
// groups to key ids, address-book labels to addresses). Exact for the conditions of
// policy/policy.h, given that intents have 1..kMaxIntentOutputs outputs of at least 1 satoshi.
// An unsatisfiable `inner` (say, labels naming no address) is covered by anything.
bool RuleCovers(const Policy& outer_policy, const Rule& outer, const Policy& inner_policy,
                const Rule& inner);

// For each rule of `policy`, in order, the index of the first earlier rule that covers it
// (RuleCovers: the rule never decides anything), or nullopt. Linear in the address book, not
// in the number of rule pairs times the book.
std::vector<std::optional<size_t>> FirstCoveringRules(const Policy& policy);

// True when some change is kLoosens.
bool Loosens(const std::vector<Change>& changes);

// OK when at least `threshold` distinct keys among `admins` signed `policy` (signatures by
// other keys are ignored; each verified when the SignedPolicy was decoded). Fails with
// kPermissionDenied "policy has N of the M admin signatures it needs (signed by: labels...)"
// naming the admins that signed.
util::Status CheckAdminSignatures(const SignedPolicy& policy, std::span<const KeyId> admins,
                                  uint32_t threshold);

// The governance state of one signer: the policy in force and, perhaps, a pending one.
struct GovernanceState {
  SignedPolicy active;
  uint64_t active_since = 0;  // When `active` took effect.
  std::optional<SignedPolicy> pending;
  uint64_t pending_from = 0;  // When `pending` takes effect (if it is still pending then).
};

// Installs the first policy. Fails with kInvalidArgument when it names a predecessor, and with
// kPermissionDenied when it lacks `threshold` signatures of `admins` (the keys pinned at
// installation).
util::Result<GovernanceState> Install(SignedPolicy first, std::span<const KeyId> admins,
                                      uint32_t threshold, uint64_t now);

// What a proposal did: took effect at once or became pending, and the classified changes.
struct Acceptance {
  GovernanceState state;
  bool immediate = false;
  uint64_t effective_from = 0;
  std::vector<Change> changes;  // Compare(in force, proposed).
};

// Accepts `next` as the successor of the latest accepted policy (pending if any, else active)
// at `now`, after first promoting a pending policy whose time has come. In order, fails with:
//  - kPermissionDenied "policy has N of the M admin signatures it needs ..." when fewer than
//    the in-force policy's threshold of its admins (labels resolved by its keys) signed; the
//    admins that `next` or a pending policy names do not count unless they are admins in force;
//  - kFailedPrecondition "policy network X is not the current policy's network Y";
//  - kFailedPrecondition "stale sequence N: the current policy has sequence M" (N <= M);
//  - kFailedPrecondition "predecessor X is not the current policy Y" (X "(none)" if absent).
// On success, `changes` is Compare(policy in force, next). Without a loosening change `next`
// is in force at once (effective_from = now) and a pending policy is dropped. Otherwise `next`
// replaces any pending policy and takes effect at now + the IN-FORCE policy's
// activation_delay: a loosening cannot shorten its own delay, and each newer accepted
// loosening restarts the clock.
util::Result<Acceptance> Propose(const GovernanceState& state, SignedPolicy next, uint64_t now);

// Propose's checks, in the order it makes them: which one refused a proposal.
enum class ProposalCheck {
  kAdminSignatures,  // Too few admin signatures of the policy in force (kPermissionDenied).
  kNetwork,          // Another network (kFailedPrecondition).
  kSequence,         // A stale sequence (kFailedPrecondition).
  kPredecessor,      // Another predecessor (kFailedPrecondition).
};

// A proposal Propose refuses: the check that failed and Propose's error for it.
struct ProposalRefusal {
  ProposalCheck check = ProposalCheck::kAdminSignatures;
  util::Status status;  // Not OK: exactly what Propose returns.
};

// Propose, telling which check refused: the Acceptance Propose returns, or the refusal (with the
// status Propose fails with). For callers that report the reason by name (the signer's codes).
std::variant<Acceptance, ProposalRefusal> EvaluateProposal(const GovernanceState& state,
                                                           SignedPolicy next, uint64_t now);

// The state at `now`: a pending policy whose time has come becomes active.
GovernanceState Advance(const GovernanceState& state, uint64_t now);

// The policy in force at `now` (Advance(state, now).active).
const SignedPolicy& InForce(const GovernanceState& state, uint64_t now);

}  // namespace kinko::policy

#endif  // KINKO_POLICY_GOVERNANCE_H_
