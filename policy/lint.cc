#include "policy/lint.h"

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "policy/governance.h"
#include "util/check.h"

namespace kinko::policy {

namespace {

constexpr uint64_t kDay = 24 * 3600;

std::string Quoted(std::string_view name) { return "'" + std::string(name) + "'"; }

std::string QuotedList(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& name : names) {
    if (!out.empty()) out += ", ";
    out += Quoted(name);
  }
  return out;
}

std::string Btc(int64_t sats) { return btc::Amount::FromSats(sats).value().ToBtcString() + " BTC"; }

std::string DurationText(uint64_t seconds) {
  if (seconds % 3600 == 0) return std::to_string(seconds / 3600) + "h";
  if (seconds % 60 == 0) return std::to_string(seconds / 60) + "m";
  return std::to_string(seconds) + "s";
}

// True when key `id` may request under `rule` (any requester, or named by label or group).
bool MayRequest(const Policy& policy, const Rule& rule, const KeyId& id) {
  if (rule.requesters.empty()) return true;
  return std::any_of(rule.requesters.begin(), rule.requesters.end(),
                     [&](const std::string& name) { return policy.RefersTo(name, id); });
}

// The labels of the keys that may request under `rule`, sorted.
std::vector<std::string> Requesters(const Policy& policy, const Rule& rule) {
  std::vector<std::string> out;
  for (const NamedKey& key : policy.fields().keys) {
    if (MayRequest(policy, rule, key.id)) out.push_back(key.label);
  }
  return out;
}

bool IsMemberLabel(const Group& group, std::string_view label) {
  return std::binary_search(group.members.begin(), group.members.end(), label);
}

const Group* FindGroup(const PolicyFields& fields, std::string_view name) {
  for (const Group& g : fields.groups) {
    if (g.name == name) return &g;
  }
  return nullptr;
}

// A key is unused when nothing can make it act: not an admin, in no group, named by no rule,
// and no allow rule is open to every requester.
void LintKeys(const Policy& policy, std::vector<LintFinding>& findings) {
  const PolicyFields& f = policy.fields();
  const bool open_rule = std::any_of(f.rules.begin(), f.rules.end(), [](const Rule& r) {
    return r.action == RuleAction::kAllow && r.requesters.empty();
  });
  if (open_rule) return;
  for (const NamedKey& key : f.keys) {
    const std::string& label = key.label;
    const bool admin =
        std::binary_search(f.governance.admins.begin(), f.governance.admins.end(), label);
    const bool member = std::any_of(f.groups.begin(), f.groups.end(),
                                    [&](const Group& g) { return IsMemberLabel(g, label); });
    const bool named = std::any_of(f.rules.begin(), f.rules.end(), [&](const Rule& r) {
      return std::binary_search(r.requesters.begin(), r.requesters.end(), label);
    });
    if (admin || member || named) continue;
    findings.push_back({LintKind::kUnusedKey, "key " + Quoted(label),
                        "key " + Quoted(label) +
                            " is not an admin, in no group and named by no rule: it can do "
                            "nothing"});
  }
}

void LintGroups(const Policy& policy, std::vector<LintFinding>& findings) {
  const PolicyFields& f = policy.fields();
  for (const Group& g : f.groups) {
    const bool used = std::any_of(f.rules.begin(), f.rules.end(), [&](const Rule& r) {
      if (std::binary_search(r.requesters.begin(), r.requesters.end(), g.name)) return true;
      return std::any_of(r.approvals.begin(), r.approvals.end(),
                         [&](const ApprovalRequirement& a) { return a.group == g.name; });
    });
    if (used) continue;
    findings.push_back({LintKind::kUnusedGroup, "group " + Quoted(g.name),
                        "group " + Quoted(g.name) + " is used by no rule"});
  }
}

// Approvals of an allow rule: a requester never counts for its own intent, and each key counts
// toward one requirement only.
void LintApprovals(const Policy& policy, const Rule& rule, std::vector<LintFinding>& findings) {
  const PolicyFields& f = policy.fields();
  const std::string subject = "rule " + Quoted(rule.name);
  const std::vector<std::string> requesters = Requesters(policy, rule);
  auto is_requester = [&](const std::string& label) {
    return std::binary_search(requesters.begin(), requesters.end(), label);
  };
  std::set<std::string> approvers;
  uint64_t needed = 0;
  for (const ApprovalRequirement& req : rule.approvals) {
    const Group* g = FindGroup(f, req.group);
    CHECK(g != nullptr);  // Policy::Create checked that every group exists.
    approvers.insert(g->members.begin(), g->members.end());
    needed += req.threshold;
    const bool requester_inside = std::any_of(g->members.begin(), g->members.end(), is_requester);
    const size_t usable = g->members.size() - (requester_inside ? 1 : 0);
    if (req.threshold > usable) {
      findings.push_back(
          {LintKind::kGroupTooSmall, subject,
           "rule " + Quoted(rule.name) + " needs " + std::to_string(req.threshold) + " of " +
               Quoted(g->name) + ", which has " + std::to_string(g->members.size()) + " members" +
               (requester_inside ? " of whom one may be the requester, who never counts" : "")});
    }
  }
  const bool requester_inside = std::any_of(approvers.begin(), approvers.end(), is_requester);
  const size_t usable = approvers.size() - (requester_inside ? 1 : 0);
  if (rule.approvals.size() > 1 && needed > usable) {
    findings.push_back({LintKind::kGroupTooSmall, subject,
                        "rule " + Quoted(rule.name) + " needs " + std::to_string(needed) +
                            " distinct approvers but its groups have " +
                            std::to_string(approvers.size()) + " keys" +
                            (requester_inside ? ", one of whom may be the requester" : "")});
  }
  std::vector<std::string> both;
  for (const std::string& label : approvers) {
    if (is_requester(label)) both.push_back(label);
  }
  if (!both.empty()) {
    findings.push_back({LintKind::kSelfApprovalPossible, subject,
                        "keys " + QuotedList(both) + " may both request and approve under rule " +
                            Quoted(rule.name) +
                            ": their approvals never count for their own intents, so such an "
                            "intent needs another approver"});
  }
}

void LintRules(const Policy& policy, const std::vector<std::optional<size_t>>& covering,
               std::vector<LintFinding>& findings) {
  const PolicyFields& f = policy.fields();
  const bool limited = f.limits.per_transaction.has_value() || !f.limits.windows.empty();
  for (size_t j = 0; j < f.rules.size(); ++j) {
    const Rule& rule = f.rules[j];
    const std::string subject = "rule " + Quoted(rule.name);
    if (const std::optional<size_t> i = covering[j]; i.has_value()) {
      findings.push_back({LintKind::kShadowedRule, subject,
                          "rule " + Quoted(rule.name) + " never decides: the earlier rule " +
                              Quoted(f.rules[*i].name) + " matches every intent it matches"});
    }
    if (rule.action != RuleAction::kAllow) continue;
    if (!rule.amount_max.has_value() && !limited) {
      findings.push_back({LintKind::kUnlimitedAllow, subject,
                          "rule " + Quoted(rule.name) +
                              " allows any amount: it has no amount_max and the policy has no "
                              "per-transaction limit or window"});
    }
    LintApprovals(policy, rule, findings);
  }
}

// The most that may leave one wallet within 24 hours under the windows: a window of duration d
// and max m lets at most m leave in any d seconds, so at most m * ceil(24h / d) in 24 hours.
// nullopt when there is no window. Saturates at kMaxMoney.
std::optional<int64_t> WindowBound24h(const Limits& limits, std::string& why) {
  std::optional<int64_t> best;
  for (const Window& w : limits.windows) {
    const uint64_t periods = (kDay + w.duration - 1) / w.duration;
    const int64_t bound =
        periods > static_cast<uint64_t>(btc::kMaxMoney / std::max<int64_t>(1, w.max.sats()))
            ? btc::kMaxMoney
            : std::min(btc::kMaxMoney, w.max.sats() * static_cast<int64_t>(periods));
    if (best.has_value() && *best <= bound) continue;
    best = bound;
    why = "window " + DurationText(w.duration) + " of " + Btc(w.max.sats()) + " per wallet";
    if (periods > 1) why += " (" + std::to_string(periods) + " windows in 24h)";
  }
  return best;
}

UnapprovedExposure Exposure(const Policy& policy, const NamedKey& key,
                            const std::vector<size_t>& rules) {
  const PolicyFields& f = policy.fields();
  UnapprovedExposure out;
  out.requester = key.label;
  std::vector<std::string> rule_names;
  std::set<std::string> wallets;
  bool any_wallet = false;
  for (size_t i : rules) {
    rule_names.push_back(f.rules[i].name);
    any_wallet = any_wallet || f.rules[i].wallets.empty();
    wallets.insert(f.rules[i].wallets.begin(), f.rules[i].wallets.end());
  }
  out.explanation = "may request without approval under rules " + QuotedList(rule_names) + "; ";
  std::string window_why;
  const std::optional<int64_t> per_wallet = WindowBound24h(f.limits, window_why);
  if (!per_wallet.has_value()) {
    out.explanation +=
        "no window limits the total: amount and per-transaction limits bound each transaction, "
        "not how many";
    return out;
  }
  if (any_wallet) {
    out.explanation += "any wallet, each at most " + Btc(*per_wallet) + " in 24h by the " +
                       window_why + ": the policy does not bound the number of wallets";
    return out;
  }
  const int64_t count = static_cast<int64_t>(wallets.size());
  const int64_t total = *per_wallet > btc::kMaxMoney / count ? btc::kMaxMoney : *per_wallet * count;
  out.max_24h = btc::Amount::FromSats(total).value();
  out.explanation += std::to_string(count) + " wallet" + (count == 1 ? "" : "s") + " times " +
                     Btc(*per_wallet) + " in 24h by the " + window_why;
  return out;
}

// For each key that may request under an allow rule without approvals which can decide (is
// not shadowed), the exposure.
std::vector<UnapprovedExposure> Exposures(const Policy& policy,
                                          const std::vector<std::optional<size_t>>& covering) {
  const PolicyFields& f = policy.fields();
  std::vector<size_t> open_rules;
  for (size_t j = 0; j < f.rules.size(); ++j) {
    const Rule& rule = f.rules[j];
    if (rule.action != RuleAction::kAllow || !rule.approvals.empty()) continue;
    if (!covering[j].has_value()) open_rules.push_back(j);
  }
  std::vector<UnapprovedExposure> out;
  for (const NamedKey& key : f.keys) {  // Sorted by label.
    std::vector<size_t> rules;
    for (size_t j : open_rules) {
      if (MayRequest(policy, f.rules[j], key.id)) rules.push_back(j);
    }
    if (!rules.empty()) out.push_back(Exposure(policy, key, rules));
  }
  return out;
}

}  // namespace

std::string_view LintKindName(LintKind kind) {
  switch (kind) {
    case LintKind::kShadowedRule:
      return "shadowed_rule";
    case LintKind::kUnlimitedAllow:
      return "unlimited_allow";
    case LintKind::kGroupTooSmall:
      return "group_too_small";
    case LintKind::kSelfApprovalPossible:
      return "self_approval_possible";
    case LintKind::kUnusedGroup:
      return "unused_group";
    case LintKind::kUnusedKey:
      return "unused_key";
  }
  CHECK(false);
  return "";
}

LintReport Lint(const Policy& policy) {
  LintReport report;
  LintKeys(policy, report.findings);
  LintGroups(policy, report.findings);
  const std::vector<std::optional<size_t>> covering = FirstCoveringRules(policy);
  LintRules(policy, covering, report.findings);
  report.exposure = Exposures(policy, covering);
  return report;
}

}  // namespace kinko::policy
