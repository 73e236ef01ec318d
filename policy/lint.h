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

// The most one requester key can move out without any approval within 24 hours, summed over
// wallets it may use: the tightest of the allow-without-approval rules' amounts, the
// per-transaction limit and the 24h-or-shorter windows; nullopt when nothing bounds it
// (then a kUnlimitedAllow finding explains why).
struct UnapprovedExposure {
  std::string requester;  // Key label; the requester with the largest exposure.
  std::optional<btc::Amount> max_24h;
  std::string explanation;
};

struct LintReport {
  std::vector<LintFinding> findings;         // In the policy's order.
  std::vector<UnapprovedExposure> exposure;  // One per key label that may request, by label.
};

LintReport Lint(const Policy& policy);

}  // namespace kinko::policy

#endif  // KINKO_POLICY_LINT_H_
