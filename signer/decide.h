// The signer's decisions (DESIGN.md section 5, all of it; doc/signer-check.md): whether to sign a
// request, and whether to accept a new policy, a freeze or an unfreeze.
//
// Each Decide* is a pure function of the pinned configuration, a snapshot of the signer's
// durable state, the request and the time `now`: no clock, no file, no key, no randomness. The
// daemon (signerd/service.h) logs the decision and commits the StateChange it returns in one
// durable transaction, then (when signing) makes the signatures and answers. Running a decision
// again on the same inputs gives the same result, so a logged decision can be re-checked.
//
// Thread-safe: pure functions over const inputs.
#ifndef KINKO_SIGNER_DECIDE_H_
#define KINKO_SIGNER_DECIDE_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/secp256k1.h"
#include "policy/evaluate.h"
#include "policy/governance.h"
#include "policy/identity.h"
#include "policy/intent.h"
#include "signer/transaction_check.h"
#include "signerapi/freeze.h"
#include "signerapi/messages.h"
#include "util/result.h"
#include "util/status.h"

namespace kinko::signer {

// What a signer pins when it is initialised and never changes while it runs.
// Movable, not copyable (WalletConfig is not copyable).
struct SignerConfig {
  // The signer's identity key id (policy::Ed25519KeyId of its identity key): the scope a freeze
  // may name, and the key that signs its audit tree heads.
  policy::KeyId signer_id{};
  WalletConfig wallet;
  // Keys that may freeze this signer besides the admins of the policy in force (watchers:
  // monitoring systems and on-call people). Sorted, no duplicates.
  std::vector<policy::KeyId> watchers;
};

// A snapshot of the signer's durable state (signerd/state_store.h keeps it).
struct SignerState {
  policy::GovernanceState governance;
  // Every intent id that an earlier signed decision consumed.
  std::set<policy::IntentId> consumed;
  // What left the wallet in earlier signed decisions (policy::Evaluate's windows).
  policy::VelocityState velocity;
  // The freezes in force, in the order they were applied. The signer is frozen when not empty.
  std::vector<signerapi::SignedFreeze> freezes;
  // Digests of freezes that were applied and then lifted (a replayed freeze is refused).
  std::set<policy::Digest> lifted_freezes;

  bool frozen() const { return !freezes.empty(); }
};

// What a decision changes in the state. The daemon commits it with the decision's audit
// entries in one transaction; ApplyChange does the same to the in-memory snapshot.
struct StateChange {
  std::vector<policy::IntentId> consumed;             // Intent ids to add to SignerState::consumed.
  std::vector<policy::Spend> spends;                  // Spends to add to the velocity state.
  std::optional<policy::GovernanceState> governance;  // Replaces the governance state.
  std::optional<signerapi::SignedFreeze> freeze_added;
  std::optional<policy::Digest> freeze_lifted;  // Removed from freezes, added to lifted_freezes.

  bool empty() const {
    return consumed.empty() && spends.empty() && !governance && !freeze_added && !freeze_lifted;
  }
};

// Applies `change` to `state` (inserting consumed ids and spends, replacing the governance
// state, adding or lifting a freeze). Requires a change returned by a Decide* for `state`.
void ApplyChange(SignerState& state, const StateChange& change);

// The signer's own refusal codes, besides policy::RefusalCodeName and TransactionRefusalName
// (DO NOT CHANGE: in audit logs, metrics and the API; doc/signer-api.md lists each with its HTTP
// status).
inline constexpr std::string_view kRefusalFrozen = "frozen";                   // HTTP 423
inline constexpr std::string_view kRefusalIntentReplayed = "intent_replayed";  // HTTP 409
// The coordinator holds a head signed by this signer that this signer's log does not extend.
inline constexpr std::string_view kRefusalStateRolledBack = "state_rolled_back";  // HTTP 409
// A signature in the request does not verify (an intent, an approval, a policy, a freeze, an
// unfreeze, or the known head). The daemon finds it (decoding); the code is shared here.
inline constexpr std::string_view kRefusalInvalidSignature = "invalid_signature";  // HTTP 403

// The codes of refused policy updates (DecidePolicy), freezes (DecideFreeze) and unfreezes
// (DecideUnfreeze), with their HTTP status (DO NOT CHANGE: in audit logs and the API).
inline constexpr std::string_view kPolicyNotAuthorized = "policy_not_authorized";        // 403
inline constexpr std::string_view kPolicyWrongNetwork = "policy_wrong_network";          // 409
inline constexpr std::string_view kPolicyStaleSequence = "policy_stale_sequence";        // 409
inline constexpr std::string_view kPolicyWrongPredecessor = "policy_wrong_predecessor";  // 409
inline constexpr std::string_view kPolicyAlreadyKnown = "policy_already_known";          // 409
inline constexpr std::string_view kFreezeNotAuthorized = "freeze_not_authorized";        // 403
inline constexpr std::string_view kFreezeWrongSigner = "freeze_wrong_signer";            // 409
inline constexpr std::string_view kFreezeReplayed = "freeze_replayed";                   // 409
inline constexpr std::string_view kUnfreezeNotAuthorized = "unfreeze_not_authorized";    // 403
inline constexpr std::string_view kUnfreezeUnknownFreeze = "unfreeze_unknown_freeze";    // 409
inline constexpr std::string_view kUnfreezeScopeMismatch = "unfreeze_scope_mismatch";    // 409

// Why a policy update, a freeze or an unfreeze was refused.
struct ChangeRefusal {
  std::string_view code;  // One of the constants above (static storage).
  // Not OK. Its code gives the HTTP status (signerapi::HttpStatusFor: kPermissionDenied 403,
  // kFailedPrecondition and kAlreadyExists 409); its message is the refusal's detail.
  util::Status status;
};

// Why a sign request was refused: the fields of signerapi::RefusedResult and of the audit log's
// decision entry. Never contains key material.
struct SignRefusal {
  std::string code;  // snake_case, 1..64 bytes.
  std::optional<size_t> intent_index;
  std::string rule;
  std::string limit;
  std::string detail;  // Display-safe (policy::IsDisplaySafeText), at most 4096 bytes.
};

// The decision on a sign request.
struct SignDecision {
  std::optional<SignRefusal> refusal;  // Present exactly when refused.
  // When allowed: the checked transaction, and how each intent (in request order) was allowed.
  std::optional<CheckedTransaction> transaction;
  std::vector<policy::IntentDecision> intents;
  // The policy in force that decided (InForce(state.governance, now)).
  uint64_t policy_sequence = 0;
  policy::Digest policy_digest{};
  // When allowed: the request's intent ids consumed and its spends; empty when refused.
  StateChange change;

  bool allowed() const { return !refusal.has_value(); }
};

// What this signer's own audit log says about the head the coordinator holds
// (signerapi::SignRequest::known_head). The daemon fills it in after checking that this signer
// signed the head (its own head key), so that the decision itself does no I/O and no
// cryptography on the log.
struct KnownHead {
  uint64_t size = 0;      // The tree size the head states.
  policy::Digest root{};  // The root it states.
  uint64_t log_size = 0;  // The number of entries in this signer's log now.
  // The log's root when it had `size` entries; absent when size > log_size.
  std::optional<policy::Digest> log_root;
};

// Decides whether to sign `request` at `now`. The first failing step decides, in this order:
//   1. the signer is frozen: "frozen", detail naming the freeze in force (its digest and reason);
//   1a. `known_head` is present and this signer's log does not extend it (its size is greater
//      than log_size, or log_root differs from its root): "state_rolled_back", detail naming both
//      sizes (the state was restored from an older copy; decision 0008);
//   2. the policy in force is InForce(state.governance, now) (a pending policy whose time has
//      come is used; the daemon then commits the promotion with its next change);
//   3. an intent id of the request is in state.consumed: "intent_replayed" naming the intent by
//      index and id (checked before anything else about the intents, so that a replay is always
//      reported as one);
//   4. (a request without intents is refused as "empty_transaction", since Evaluate needs one)
//      policy::Evaluate(request.intents, policy, state.velocity, now) without transaction facts:
//      requester, network, expiry, approvals, rules, per-transaction limit and windows; its
//      refusal code, rule, limit and detail are the refusal's;
//   5. CheckTransaction(request.psbt, config.wallet, intents): its TransactionRefusalName is the
//      code and its detail the detail;
//   6. policy::Evaluate again with the checked transaction's facts (fee and estimated vsize):
//      the fee ceilings of the policy and of every intent.
// When allowed, `change` consumes every intent id of the request and adds Evaluate's spends;
// when the pending policy took effect at `now` (state.governance.pending_from <= now), it also
// carries the promoted state (change.governance = policy::Advance(state.governance, now)), so
// that the daemon persists the promotion with the decision that relied on it. policy_sequence
// and policy_digest are filled in refused decisions too.
SignDecision DecideSign(const crypto::Secp256k1Context& ctx, const SignerConfig& config,
                        const SignerState& state, const signerapi::SignRequest& request,
                        const std::optional<KnownHead>& known_head, uint64_t now);

// The decision on a policy update.
struct PolicyDecision {
  std::optional<ChangeRefusal> refusal;          // Present exactly when refused.
  std::optional<policy::Acceptance> acceptance;  // Present exactly when accepted.
  StateChange change;  // When accepted, change.governance = acceptance->state; else empty.

  bool accepted() const { return !refusal.has_value(); }
};

// Decides whether to accept `next` at `now` (policy::EvaluateProposal on state.governance).
// Refuses with, in this order:
//  - kPolicyAlreadyKnown, kAlreadyExists "policy <digest> is already in force" (or "... already
//    pending") when `next` is the policy in force or the pending one;
//  - kPolicyNotAuthorized, kPermissionDenied (too few admin signatures of the policy in force);
//  - kPolicyWrongNetwork, kPolicyStaleSequence, kPolicyWrongPredecessor, kFailedPrecondition;
// each with policy::Propose's message, unchanged.
PolicyDecision DecidePolicy(const SignerConfig& config, const SignerState& state,
                            const policy::SignedPolicy& next, uint64_t now);

// The decision on a freeze or an unfreeze.
struct ChangeDecision {
  std::optional<ChangeRefusal> refusal;  // Present exactly when refused.
  StateChange change;                    // Empty when refused.

  bool accepted() const { return !refusal.has_value(); }
};

// Decides whether to apply `freeze` at `now`. Accepted: the change (freeze_added), or an empty
// change when this freeze is already in force (accepting it again changes nothing). Refuses with:
// kFreezeNotAuthorized, kPermissionDenied "freeze signed by key <id>, which is neither a watcher
// nor an admin of the policy in force" when its signer is neither in config.watchers nor an
// admin of InForce(state.governance, now); kFreezeWrongSigner, kFailedPrecondition "freeze
// applies to signer <id>, not to this signer <id>" when its scope names another signer;
// kFreezeReplayed, kFailedPrecondition "freeze <digest> was applied and lifted before" when it
// is in state.lifted_freezes.
ChangeDecision DecideFreeze(const SignerConfig& config, const SignerState& state,
                            const signerapi::SignedFreeze& freeze, uint64_t now);

// Decides whether to apply `unfreeze` at `now`. Accepted: the change (freeze_lifted). Refuses
// with: kUnfreezeNotAuthorized, kPermissionDenied "unfreeze has N of the M admin signatures it
// needs (signed by: ...)" when fewer distinct admins of InForce(state.governance, now) than its
// governance threshold signed (other keys are ignored); kUnfreezeUnknownFreeze,
// kFailedPrecondition "unfreeze lifts freeze <digest>, which is not in force" when no freeze in
// force has its freeze digest (never applied, or lifted already: a replayed unfreeze);
// kUnfreezeScopeMismatch, kFailedPrecondition "unfreeze scope differs from the freeze's" when its
// scope is not the lifted freeze's scope.
ChangeDecision DecideUnfreeze(const SignerConfig& config, const SignerState& state,
                              const signerapi::SignedUnfreeze& unfreeze, uint64_t now);

}  // namespace kinko::signer

#endif  // KINKO_SIGNER_DECIDE_H_
