#include "signer/decide.h"

#include <algorithm>
#include <span>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "policy/policy.h"
#include "util/check.h"
#include "util/hex.h"
#include "util/status.h"

namespace kinko::signer {
namespace {

// signerapi::RefusedResult and the audit log bound a refusal's detail.
constexpr size_t kMaxDetailSize = 4096;

// `detail` as a refusal may carry it: display-safe (escaped to printable ASCII when it is not)
// and at most kMaxDetailSize bytes, cut at a UTF-8 character boundary.
std::string BoundedDetail(std::string detail) {
  if (!policy::IsDisplaySafeText(detail)) detail = policy::EscapeForMessage(detail);
  if (detail.size() <= kMaxDetailSize) return detail;
  constexpr std::string_view kCut = "...";
  size_t end = kMaxDetailSize - kCut.size();
  // Back up over UTF-8 continuation bytes (10xxxxxx) so no character is split.
  while (end > 0 && (static_cast<uint8_t>(detail[end]) & 0xc0) == 0x80) --end;
  detail.resize(end);
  detail += kCut;
  return detail;
}

// `decision` refused: a refused decision carries no transaction, no intent decisions and no
// change (signer/decide.h), only the policy that decided and the refusal.
SignDecision Refuse(SignDecision decision, std::string_view code,
                    std::optional<size_t> intent_index, std::string rule, std::string limit,
                    std::string detail) {
  decision.refusal = SignRefusal{.code = std::string(code),
                                 .intent_index = intent_index,
                                 .rule = std::move(rule),
                                 .limit = std::move(limit),
                                 .detail = BoundedDetail(std::move(detail))};
  decision.transaction.reset();
  decision.intents.clear();
  decision.change = StateChange{};
  return decision;
}

SignDecision RefuseByPolicy(SignDecision decision, const policy::Refusal& refusal) {
  return Refuse(std::move(decision), policy::RefusalCodeName(refusal.code), refusal.intent_index,
                refusal.rule, refusal.limit, refusal.detail);
}

std::string Hex(std::span<const uint8_t> bytes) { return util::HexEncode(bytes); }

bool Contains(std::span<const policy::KeyId> ids, const policy::KeyId& id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

// The distinct keys among `signers` that are admins of `policy`, sorted.
std::vector<policy::KeyId> AdminSigners(const policy::Policy& policy,
                                        std::span<const policy::KeyId> signers) {
  const std::vector<policy::KeyId> admins = policy.AdminIds();
  std::vector<policy::KeyId> counted;
  for (const policy::KeyId& id : signers) {
    if (Contains(admins, id) && !Contains(counted, id)) counted.push_back(id);
  }
  std::sort(counted.begin(), counted.end());
  return counted;
}

// The code of a proposal refused by `check`.
std::string_view PolicyRefusalCode(policy::ProposalCheck check) {
  switch (check) {
    case policy::ProposalCheck::kAdminSignatures:
      return kPolicyNotAuthorized;
    case policy::ProposalCheck::kNetwork:
      return kPolicyWrongNetwork;
    case policy::ProposalCheck::kSequence:
      return kPolicyStaleSequence;
    case policy::ProposalCheck::kPredecessor:
      return kPolicyWrongPredecessor;
  }
  // Unreachable: every enumerator is handled above.
  CHECK(false);
  return kPolicyNotAuthorized;
}

ChangeDecision RefuseChange(std::string_view code, util::Status status) {
  return ChangeDecision{.refusal = ChangeRefusal{.code = code, .status = std::move(status)},
                        .change = {}};
}

}  // namespace

void ApplyChange(SignerState& state, const StateChange& change) {
  state.consumed.insert(change.consumed.begin(), change.consumed.end());
  state.velocity.spends.insert(state.velocity.spends.end(), change.spends.begin(),
                               change.spends.end());
  if (change.governance) state.governance = *change.governance;
  if (change.freeze_added) state.freezes.push_back(*change.freeze_added);
  if (change.freeze_lifted) {
    std::erase_if(state.freezes, [&](const signerapi::SignedFreeze& freeze) {
      return freeze.freeze().digest() == *change.freeze_lifted;
    });
    state.lifted_freezes.insert(*change.freeze_lifted);
  }
}

SignDecision DecideSign(const crypto::Secp256k1Context& ctx, const SignerConfig& config,
                        const SignerState& state, const signerapi::SignRequest& request,
                        const std::optional<KnownHead>& known_head, uint64_t now) {
  // Which policy decides does not depend on anything that can fail, so every decision, refused
  // or not, names it for the audit log.
  const policy::SignedPolicy& in_force = policy::InForce(state.governance, now);
  SignDecision decision;
  decision.policy_sequence = in_force.policy().fields().sequence;
  decision.policy_digest = in_force.policy().digest();

  // 1. Frozen: nothing else is looked at.
  if (state.frozen()) {
    const signerapi::SignedFreeze& first = state.freezes.front();
    std::string detail = "signer is frozen by freeze " + Hex(first.freeze().digest()) + " (" +
                         first.freeze().fields().reason + ")";
    if (state.freezes.size() > 1) {
      detail += " and " + std::to_string(state.freezes.size() - 1) + " more";
    }
    return Refuse(std::move(decision), kRefusalFrozen, std::nullopt, "", "", std::move(detail));
  }

  // 1a. The coordinator holds a head this signer signed that its log does not extend: the
  // state was restored from an older copy, and consumed intents and spends may be forgotten.
  if (known_head.has_value()) {
    const KnownHead& head = *known_head;
    const std::string held = "the coordinator holds head " + std::to_string(head.size) + " (root " +
                             Hex(head.root) + ") signed by this signer; ";
    const std::string restored = ": its state was restored from an older copy";
    if (head.size > head.log_size) {
      return Refuse(
          std::move(decision), kRefusalStateRolledBack, std::nullopt, "", "",
          held + "this signer's log has " + std::to_string(head.log_size) + " entries" + restored);
    }
    // Invariant (the daemon's contract): log_root is present when size <= log_size.
    CHECK(head.log_root.has_value());
    if (*head.log_root != head.root) {
      return Refuse(std::move(decision), kRefusalStateRolledBack, std::nullopt, "", "",
                    held + "this signer's log has " + std::to_string(head.log_size) +
                        " entries and its root at size " + std::to_string(head.size) + " is " +
                        Hex(*head.log_root) + restored);
    }
  }

  // 3. Replays, before anything else about the intents.
  for (size_t i = 0; i < request.intents.size(); ++i) {
    const policy::IntentId& id = request.intents[i].intent.intent().fields().id;
    if (state.consumed.contains(id)) {
      return Refuse(std::move(decision), kRefusalIntentReplayed, i, "", "",
                    "intent " + std::to_string(i) + " (id " + Hex(id) +
                        ") was consumed by an earlier signed decision");
    }
  }

  // policy::Evaluate requires intents (CHECK); the API's decoder refuses a request without
  // any, and this keeps a request built otherwise from aborting the signer.
  if (request.intents.empty()) {
    return Refuse(std::move(decision),
                  TransactionRefusalName(TransactionRefusal::kEmptyTransaction), std::nullopt, "",
                  "", "the request has no intent");
  }

  // The intents are for this signer's wallet: an intent for another wallet is refused as such,
  // before the policy's rules (which may name no other wallet) see it. (Another network is the
  // policy's to refuse, in step 4, naming the intent.)
  std::vector<policy::SignedIntent> intents;
  intents.reserve(request.intents.size());
  for (const policy::IntentWithApprovals& entry : request.intents) intents.push_back(entry.intent);
  if (std::optional<TransactionCheckRefusal> refused =
          CheckIntentsForWallet(config.wallet, intents);
      refused.has_value() && refused->code == TransactionRefusal::kWrongWallet) {
    return Refuse(std::move(decision), TransactionRefusalName(refused->code), std::nullopt, "", "",
                  std::move(refused->detail));
  }

  // 4. The policy, without the transaction's facts.
  const policy::Policy& policy = in_force.policy();
  const policy::Verdict verdict = policy::Evaluate(request.intents, policy, state.velocity, now);
  if (!verdict.allowed) return RefuseByPolicy(std::move(decision), *verdict.refusal);

  // 5. The transaction pays exactly these intents from this wallet.
  TransactionCheckOutcome outcome = CheckTransaction(ctx, request.psbt, config.wallet, intents);
  if (!outcome.ok()) {
    return Refuse(std::move(decision), TransactionRefusalName(outcome.refusal->code), std::nullopt,
                  "", "", std::move(outcome.refusal->detail));
  }

  // 6. The policy again, with the fee and size the check computed.
  const policy::Verdict final_verdict =
      policy::Evaluate(request.intents, policy, state.velocity, now, outcome.checked->Facts());
  if (!final_verdict.allowed) return RefuseByPolicy(std::move(decision), *final_verdict.refusal);

  decision.transaction = std::move(outcome.checked);
  decision.intents = final_verdict.intents;
  for (const policy::IntentWithApprovals& entry : request.intents) {
    decision.change.consumed.push_back(entry.intent.intent().fields().id);
  }
  decision.change.spends = final_verdict.spends;
  // A pending policy that took effect at `now` decided: the daemon persists the promotion with
  // this change, so that the state it keeps names the policy its log says decided.
  if (state.governance.pending.has_value() && now >= state.governance.pending_from) {
    decision.change.governance = policy::Advance(state.governance, now);
  }
  return decision;
}

// The governance state alone names who may change the policy: the configuration is not used.
PolicyDecision DecidePolicy(const SignerConfig& /*config*/, const SignerState& state,
                            const policy::SignedPolicy& next, uint64_t now) {
  const auto refuse = [](std::string_view code, util::Status status) {
    return PolicyDecision{.refusal = ChangeRefusal{.code = code, .status = std::move(status)},
                          .acceptance = std::nullopt,
                          .change = {}};
  };
  const policy::GovernanceState current = policy::Advance(state.governance, now);
  const policy::Digest& digest = next.policy().digest();
  if (current.active.policy().digest() == digest) {
    return refuse(kPolicyAlreadyKnown,
                  util::AlreadyExistsError("policy " + Hex(digest) + " is already in force"));
  }
  if (current.pending.has_value() && current.pending->policy().digest() == digest) {
    return refuse(kPolicyAlreadyKnown,
                  util::AlreadyExistsError("policy " + Hex(digest) + " is already pending"));
  }
  std::variant<policy::Acceptance, policy::ProposalRefusal> outcome =
      policy::EvaluateProposal(state.governance, next, now);
  if (policy::ProposalRefusal* refusal = std::get_if<policy::ProposalRefusal>(&outcome)) {
    return refuse(PolicyRefusalCode(refusal->check), std::move(refusal->status));
  }
  PolicyDecision decision{.refusal = std::nullopt,
                          .acceptance = std::get<policy::Acceptance>(std::move(outcome)),
                          .change = {}};
  decision.change.governance = decision.acceptance->state;
  return decision;
}

ChangeDecision DecideFreeze(const SignerConfig& config, const SignerState& state,
                            const signerapi::SignedFreeze& freeze, uint64_t now) {
  const policy::KeyId signer = freeze.signer();
  const std::vector<policy::KeyId> admins =
      policy::InForce(state.governance, now).policy().AdminIds();
  if (!Contains(config.watchers, signer) && !Contains(admins, signer)) {
    return RefuseChange(kFreezeNotAuthorized,
                        util::PermissionDeniedError("freeze signed by key " + Hex(signer) +
                                                    ", which is neither a watcher nor an admin of "
                                                    "the policy in force"));
  }
  const signerapi::FreezeScope& scope = freeze.freeze().fields().scope;
  if (!scope.AppliesTo(config.signer_id)) {
    return RefuseChange(kFreezeWrongSigner, util::FailedPreconditionError(
                                                "freeze applies to signer " + Hex(*scope.signer) +
                                                ", not to this signer " + Hex(config.signer_id)));
  }
  const policy::Digest& digest = freeze.freeze().digest();
  if (state.lifted_freezes.contains(digest)) {
    return RefuseChange(
        kFreezeReplayed,
        util::FailedPreconditionError("freeze " + Hex(digest) + " was applied and lifted before"));
  }
  ChangeDecision decision;
  for (const signerapi::SignedFreeze& in_force : state.freezes) {
    if (in_force.freeze().digest() == digest) return decision;
  }
  decision.change.freeze_added = freeze;
  return decision;
}

// The configuration is not used: the freeze an unfreeze lifts was checked against this signer's
// scope when it was applied, and the unfreeze must carry the same scope.
ChangeDecision DecideUnfreeze(const SignerConfig& /*config*/, const SignerState& state,
                              const signerapi::SignedUnfreeze& unfreeze, uint64_t now) {
  const policy::Policy& policy = policy::InForce(state.governance, now).policy();
  const uint32_t threshold = policy.fields().governance.threshold;
  const std::vector<policy::KeyId> counted = AdminSigners(policy, unfreeze.signers());
  if (counted.size() < threshold) {
    std::string labels;
    for (const policy::KeyId& id : counted) {
      if (!labels.empty()) labels += ", ";
      labels += std::string(policy.KeyLabel(id).value_or("?"));
    }
    return RefuseChange(kUnfreezeNotAuthorized,
                        util::PermissionDeniedError(
                            "unfreeze has " + std::to_string(counted.size()) + " of the " +
                            std::to_string(threshold) + " admin signatures it needs (signed by: " +
                            (labels.empty() ? "none" : labels) + ")"));
  }
  const signerapi::UnfreezeFields& fields = unfreeze.unfreeze().fields();
  const auto lifted = std::find_if(state.freezes.begin(), state.freezes.end(),
                                   [&](const signerapi::SignedFreeze& freeze) {
                                     return freeze.freeze().digest() == fields.freeze_digest;
                                   });
  if (lifted == state.freezes.end()) {
    return RefuseChange(
        kUnfreezeUnknownFreeze,
        util::FailedPreconditionError("unfreeze lifts freeze " + Hex(fields.freeze_digest) +
                                      ", which is not in force"));
  }
  if (lifted->freeze().fields().scope != fields.scope) {
    return RefuseChange(kUnfreezeScopeMismatch,
                        util::FailedPreconditionError("unfreeze scope differs from the freeze's"));
  }
  ChangeDecision decision;
  decision.change.freeze_lifted = fields.freeze_digest;
  return decision;
}

}  // namespace kinko::signer
