// Lint: what in a valid policy is probably a mistake (doc/policy.md "Lint").
//
// Thread-safe: pure functions.
#ifndef KINKO_POLICY_LINT_H_
#define KINKO_POLICY_LINT_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "btc/amount.h"
#include "policy/policy.h"

namespace kinko::policy {

// DO NOT CHANGE the names (LintKindName): scripts match on them.
enum class LintKind {
  kShadowedRule,          // "shadowed_rule": an earlier rule matches everything it matches.
  kUnlimitedAllow,        // "unlimited_allow": an allow rule with no amount_max, and no
                          //   per-transaction limit or window bounds it either.
  kGroupTooSmall,         // "group_too_small": fewer members than a threshold asks (counting
                          //   the requester out when the requester may be a member).
  kSelfApprovalPossible,  // "self_approval_possible": a rule's requesters and approvers
                          //   overlap (the requester never counts, so the rule needs one more).
  kUnusedGroup,           // "unused_group"
  kUnusedKey,             // "unused_key"
};

std::string_view LintKindName(LintKind kind);

struct LintFinding {
  LintKind kind;
  std::string subject;  // "rule 'x'", "group 'treasury'", "key 'alice'".
  std::string message;  // A sentence for a human.
};

// The most one requester key can move out without any approval within 24 hours (DESIGN.md
// section 2, guarantee 6: what a stolen requester key can do alone).
//
// The rules that count are the allow rules without approvals that the key may request under
// (open to any requester, or naming the key or a group it is in) and that can decide at all
// (no earlier rule matches everything they match). Rule amount_max and the per-transaction
// limit bound each intent and transaction, not how many there are, so they bound nothing over
// 24 hours. Windows do: a window of duration d and max m lets at most m leave one wallet in any
// d seconds, so at most m * ceil(24h / d) in 24 hours; the tightest window gives the bound per
// wallet. `max_24h` is that bound times the number of wallets the rules name, capped at
// 21 million BTC; nullopt when the policy has no window, or when one of the rules allows any
// wallet (the policy does not know how many wallets there are). `explanation` says which
// rules, wallets and window gave the figure, or why there is none.
struct UnapprovedExposure {
  std::string requester;  // Key label.
  std::optional<btc::Amount> max_24h;
  std::string explanation;
};

struct LintReport {
  // Keys (unused_key), then groups (unused_group), then rules in order (for each:
  // shadowed_rule, unlimited_allow, group_too_small, self_approval_possible).
  std::vector<LintFinding> findings;
  // One per key that may request without approval (see UnapprovedExposure), by label.
  std::vector<UnapprovedExposure> exposure;
};

// The findings and exposures of `policy`, a pure function of it:
//  - unused_key: a key that is no admin, in no group and named by no rule's requesters, in a
//    policy where no allow rule is open to any requester;
//  - unused_group: a group that no rule names (requesters or approvals);
//  - shadowed_rule: an earlier rule matches every intent the rule matches (RuleCovers), so it
//    never decides; the first such earlier rule is named;
//  - unlimited_allow: an allow rule without amount_max in a policy without per-transaction
//    limit and without window;
//  - group_too_small: for an allow rule, a requirement whose threshold exceeds its group's
//    size less one when a key that may request under the rule is a member; or, for a rule with
//    several requirements, their thresholds together exceed the distinct members of their
//    groups (less one likewise), since each key counts toward one requirement only;
//  - self_approval_possible: a key that may request under an allow rule is a member of one of
//    its approval groups (its approval never counts for its own intents).
LintReport Lint(const Policy& policy);

}  // namespace kinko::policy

#endif  // KINKO_POLICY_LINT_H_
