#include "policy/governance.h"

#include <algorithm>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <variant>
#include <vector>

#include "policy/intent.h"
#include "util/check.h"

namespace kinko::policy {

namespace {

// ---------------------------------------------------------------------------------------------
// Rules as sets of intents.
//
// Whether a rule matches an intent depends on five features of the intent: its wallet, its
// requester key id, the set of addresses it pays, its total and its number of outputs. A rule's
// conditions are one constraint per feature, so the intents a rule matches form a product of
// per-feature sets (a Region). Regions are exact: an intent matches the rule if and only if its
// features lie in the region (totals are >= 1 satoshi and <= kMaxMoney, outputs 1..256, because
// Intent::Create refuses anything else). Key labels and group names are resolved to key ids and
// address-book labels to addresses, so two policies' regions can be compared even when labels,
// groups or the address book changed.
// ---------------------------------------------------------------------------------------------

// Either every string (wallet ids) or a finite set of them.
struct StringSet {
  bool every = false;
  std::set<std::string> items;

  friend bool operator==(const StringSet&, const StringSet&) = default;
};

// Either every key id or a finite set of them.
struct KeySet {
  bool every = false;
  std::set<KeyId> items;

  friend bool operator==(const KeySet&, const KeySet&) = default;
};

template <typename Set>
bool IsEmptySet(const Set& s) {
  return !s.every && s.items.empty();
}

template <typename Set>
Set IntersectSets(const Set& a, const Set& b) {
  if (a.every) return b;
  if (b.every) return a;
  Set out;
  std::set_intersection(a.items.begin(), a.items.end(), b.items.begin(), b.items.end(),
                        std::inserter(out.items, out.items.begin()));
  return out;
}

// True when every element of `inner` is in `outer`.
template <typename Set>
bool SetContains(const Set& outer, const Set& inner) {
  if (outer.every) return true;
  if (inner.every) return false;
  return std::includes(outer.items.begin(), outer.items.end(), inner.items.begin(),
                       inner.items.end());
}

// A set of addresses: sorted and unique; nullptr is every address. Sets of addresses can be as
// large as the address book (a million entries), so each is built once and shared, and the
// operations on two of them are memoized by identity (AddressSets): comparing every pair of
// rules then costs one set operation per pair of distinct destinations, not per pair of rules.
using AddressSet = std::shared_ptr<const std::vector<std::string>>;

bool IsEmptyAddressSet(const AddressSet& s) { return s != nullptr && s->empty(); }

bool SameAddresses(const AddressSet& a, const AddressSet& b) {
  if (a == nullptr || b == nullptr) return a == b;
  return a == b || *a == *b;
}

// Builds, shares and operates on address sets. Not thread-safe; one owner. Every set it
// returns stays alive as long as it does (the memo tables hold them), so identities are never
// reused.
class AddressSets final {
 public:
  // The addresses `destination` names in `policy`; the same set for the same policy and
  // destination.
  AddressSet Of(const Policy& policy, const Destination& destination) {
    if (destination.kind == DestinationKind::kAny) return nullptr;
    const auto key = std::make_tuple(&policy, destination.kind, destination.labels);
    const auto it = of_.find(key);
    if (it != of_.end()) return it->second;
    std::vector<std::string> out;
    for (const AddressBookEntry& e : policy.fields().address_book) {
      if (destination.kind == DestinationKind::kAddressBook ||
          std::binary_search(destination.labels.begin(), destination.labels.end(), e.label)) {
        out.push_back(e.address);
      }
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    AddressSet set = std::make_shared<const std::vector<std::string>>(std::move(out));
    of_.emplace(key, set);
    return set;
  }

  AddressSet Intersect(const AddressSet& a, const AddressSet& b) {
    if (a == nullptr) return b;
    if (b == nullptr || a == b) return a;
    // Not std::minmax: it returns references to its arguments, here temporaries.
    const std::pair<const std::vector<std::string>*, const std::vector<std::string>*> key(
        std::min(a.get(), b.get()), std::max(a.get(), b.get()));
    const auto it = intersections_.find(key);
    if (it != intersections_.end()) return it->second;
    std::vector<std::string> out;
    std::set_intersection(a->begin(), a->end(), b->begin(), b->end(), std::back_inserter(out));
    AddressSet set = std::make_shared<const std::vector<std::string>>(std::move(out));
    intersections_.emplace(key, set);
    return set;
  }

  // True when every address of `inner` is in `outer`.
  bool Contains(const AddressSet& outer, const AddressSet& inner) {
    if (outer == nullptr || outer == inner) return true;
    if (inner == nullptr) return false;
    const auto key = std::make_pair(outer.get(), inner.get());
    const auto it = contains_.find(key);
    if (it != contains_.end()) return it->second;
    const bool contains = std::includes(outer->begin(), outer->end(), inner->begin(), inner->end());
    contains_.emplace(key, contains);
    return contains;
  }

 private:
  using Pair = std::pair<const std::vector<std::string>*, const std::vector<std::string>*>;
  std::map<std::tuple<const Policy*, DestinationKind, std::vector<std::string>>, AddressSet> of_;
  std::map<Pair, AddressSet> intersections_;
  std::map<Pair, bool> contains_;
};

// The intents a rule matches: wallet in `wallets`, requester in `requesters`, every output in
// `destinations`, amount_min <= total <= amount_max, number of outputs <= outputs_max.
struct Region {
  StringSet wallets;
  KeySet requesters;
  AddressSet destinations;
  int64_t amount_min = 1;
  int64_t amount_max = btc::kMaxMoney;
  uint32_t outputs_max = kMaxIntentOutputs;
};

bool SameRegion(const Region& a, const Region& b) {
  return a.wallets == b.wallets && a.requesters == b.requesters &&
         SameAddresses(a.destinations, b.destinations) && a.amount_min == b.amount_min &&
         a.amount_max == b.amount_max && a.outputs_max == b.outputs_max;
}

// The region of every intent (the "no matching rule" end of a rule list).
Region EveryIntent() {
  Region r;
  r.wallets.every = true;
  r.requesters.every = true;
  return r;
}

// True when no intent lies in `r`. A region that is not empty holds an intent with one output
// (a destination in it, the total in range), so emptiness is exact.
bool IsEmptyRegion(const Region& r) {
  return IsEmptySet(r.wallets) || IsEmptySet(r.requesters) || IsEmptyAddressSet(r.destinations) ||
         r.amount_min > r.amount_max || r.outputs_max == 0;
}

Region Intersect(const Region& a, const Region& b, AddressSets& sets) {
  return Region{.wallets = IntersectSets(a.wallets, b.wallets),
                .requesters = IntersectSets(a.requesters, b.requesters),
                .destinations = sets.Intersect(a.destinations, b.destinations),
                .amount_min = std::max(a.amount_min, b.amount_min),
                .amount_max = std::min(a.amount_max, b.amount_max),
                .outputs_max = std::min(a.outputs_max, b.outputs_max)};
}

// True when every intent in `inner` is in `outer`.
bool Covers(const Region& outer, const Region& inner, AddressSets& sets) {
  if (IsEmptyRegion(inner)) return true;
  return outer.amount_min <= inner.amount_min && inner.amount_max <= outer.amount_max &&
         inner.outputs_max <= outer.outputs_max && SetContains(outer.wallets, inner.wallets) &&
         SetContains(outer.requesters, inner.requesters) &&
         sets.Contains(outer.destinations, inner.destinations);
}

struct ResolvedRequirement {
  std::string group;
  std::set<KeyId> members;
  uint32_t threshold = 0;

  friend bool operator==(const ResolvedRequirement&, const ResolvedRequirement&) = default;
};

// A rule with every name resolved against its policy.
struct ResolvedRule {
  std::string name;
  Region region;
  bool allow = false;
  std::vector<ResolvedRequirement> requirements;  // Allow rules only.
};

std::set<KeyId> MemberIds(const Policy& policy, std::string_view group) {
  const std::vector<KeyId> ids = policy.Members(group);
  return std::set<KeyId>(ids.begin(), ids.end());
}

std::set<KeyId> AllKeyIds(const Policy& policy) {
  std::set<KeyId> ids;
  for (const NamedKey& key : policy.fields().keys) ids.insert(key.id);
  return ids;
}

ResolvedRule Resolve(const Policy& policy, const Rule& rule, AddressSets& sets) {
  ResolvedRule out;
  out.name = rule.name;
  Region& r = out.region;
  r.wallets.every = rule.wallets.empty();
  r.wallets.items.insert(rule.wallets.begin(), rule.wallets.end());
  r.requesters.every = rule.requesters.empty();
  for (const std::string& name : rule.requesters) {
    if (const std::optional<KeyId> id = policy.KeyIdOf(name); id.has_value()) {
      r.requesters.items.insert(*id);
    } else {
      const std::set<KeyId> members = MemberIds(policy, name);
      r.requesters.items.insert(members.begin(), members.end());
    }
  }
  r.destinations = sets.Of(policy, rule.destination);
  // Every intent output is at least one satoshi, so a total is never below 1.
  if (rule.amount_min.has_value()) r.amount_min = std::max<int64_t>(1, rule.amount_min->sats());
  if (rule.amount_max.has_value()) r.amount_max = rule.amount_max->sats();
  if (rule.outputs_max.has_value()) {
    r.outputs_max = std::min<uint32_t>(*rule.outputs_max, kMaxIntentOutputs);
  }
  out.allow = rule.action == RuleAction::kAllow;
  for (const ApprovalRequirement& req : rule.approvals) {
    out.requirements.push_back(ResolvedRequirement{
        .group = req.group, .members = MemberIds(policy, req.group), .threshold = req.threshold});
  }
  return out;
}

std::vector<ResolvedRule> ResolveRules(const Policy& policy, AddressSets& sets) {
  std::vector<ResolvedRule> out;
  for (const Rule& rule : policy.fields().rules) out.push_back(Resolve(policy, rule, sets));
  return out;
}

// True when the two rules match the same intents with the same action and approvals.
bool SameMeaning(const ResolvedRule& a, const ResolvedRule& b) {
  return SameRegion(a.region, b.region) && a.allow == b.allow && a.requirements == b.requirements;
}

// Kuhn's augmenting path for the bipartite matching in ApprovalsAtLeastAsEasy.
bool Augment(size_t b, const std::vector<std::vector<bool>>& edge, std::vector<bool>& seen,
             std::vector<std::optional<size_t>>& match_of_after) {
  for (size_t a = 0; a < match_of_after.size(); ++a) {
    if (!edge[b][a] || seen[a]) continue;
    seen[a] = true;
    if (!match_of_after[a].has_value() || Augment(*match_of_after[a], edge, seen, match_of_after)) {
      match_of_after[a] = b;
      return true;
    }
  }
  return false;
}

// True when every set of approvals that satisfies `after` (in the policy after the change)
// also satisfies `before`, for any requester: `known_after` are the keys the later policy names.
//
// Sufficient conditions, each checked:
//  - a reject that refuses under `before` also refuses under `after`: every member of a group
//    `before` requires is a member of a group `after` requires, or is not named by the later
//    policy at all (then its reject, like any approval by an unknown key, is refused);
//  - each requirement of `before` is assigned a distinct requirement of `after` whose group
//    is a subset of it and whose threshold is at least as high. The distinct keys that count
//    toward the `after` requirement (the requester excluded) then count toward the `before`
//    one.
bool ApprovalsAtLeastAsEasy(const std::vector<ResolvedRequirement>& before,
                            const std::vector<ResolvedRequirement>& after,
                            const std::set<KeyId>& known_after) {
  std::set<KeyId> vetoes_after;
  for (const ResolvedRequirement& a : after)
    vetoes_after.insert(a.members.begin(), a.members.end());
  for (const ResolvedRequirement& b : before) {
    for (const KeyId& id : b.members) {
      if (known_after.contains(id) && !vetoes_after.contains(id)) return false;
    }
  }
  std::vector<std::vector<bool>> edge(before.size(), std::vector<bool>(after.size(), false));
  for (size_t b = 0; b < before.size(); ++b) {
    for (size_t a = 0; a < after.size(); ++a) {
      edge[b][a] = after[a].threshold >= before[b].threshold &&
                   std::includes(before[b].members.begin(), before[b].members.end(),
                                 after[a].members.begin(), after[a].members.end());
    }
  }
  std::vector<std::optional<size_t>> match_of_after(after.size());
  for (size_t b = 0; b < before.size(); ++b) {
    std::vector<bool> seen(after.size(), false);
    if (!Augment(b, edge, seen, match_of_after)) return false;
  }
  return true;
}

std::string Quoted(std::string_view name) { return "'" + std::string(name) + "'"; }

std::string RequirementsText(const std::vector<ApprovalRequirement>& requirements) {
  if (requirements.empty()) return "none";
  std::string out;
  for (const ApprovalRequirement& r : requirements) {
    if (!out.empty()) out += " and ";
    out += std::to_string(r.threshold) + " of " + r.group;
  }
  return out;
}

// An intent that the later policy may allow where the earlier one refused it or asked for
// more approvals: it first matches after rule `after_index` and before rule `before_index`
// (nullopt: no before rule, "no matching rule").
struct RuleProblem {
  size_t after_index = 0;
  std::optional<size_t> before_index;
  std::string reason;
  bool reported = false;
};

// The soundness check of the rule lists. For every allow rule A of `after` and every rule B of
// `before` (or the refusal at the end of the list), consider the intents I = A ∩ B. Unless I is
// empty, or an earlier rule of `before` covers I (those intents never reach B), or an earlier
// rule of `after` covers I (they never reach A), an intent may be decided by A now and by B
// before; then B must be an allow rule whose approvals are no easier to satisfy than A's.
// Every pair that fails is a problem: the later policy may allow something the earlier did not.
std::vector<RuleProblem> FindRuleProblems(const Policy& before, const Policy& after,
                                          const std::vector<ResolvedRule>& b_rules,
                                          const std::vector<ResolvedRule>& a_rules,
                                          AddressSets& sets) {
  const std::set<KeyId> known_after = AllKeyIds(after);
  const std::vector<Rule>& b_text = before.fields().rules;
  const std::vector<Rule>& a_text = after.fields().rules;
  const Region every = EveryIntent();
  std::vector<RuleProblem> problems;
  for (size_t j = 0; j < a_rules.size(); ++j) {
    const ResolvedRule& a = a_rules[j];
    if (!a.allow) continue;
    for (size_t i = 0; i <= b_rules.size(); ++i) {
      const bool at_end = i == b_rules.size();
      const Region both = Intersect(a.region, at_end ? every : b_rules[i].region, sets);
      if (IsEmptyRegion(both)) continue;
      bool unreachable = false;
      for (size_t l = 0; l < i && !unreachable; ++l) {
        unreachable = Covers(b_rules[l].region, both, sets);
      }
      for (size_t k = 0; k < j && !unreachable; ++k) {
        unreachable = Covers(a_rules[k].region, both, sets);
      }
      if (unreachable) continue;
      const std::string allowed_by = "may now be allowed by rule " + Quoted(a.name) +
                                     " (approvals: " + RequirementsText(a_text[j].approvals) + ")";
      if (at_end) {
        problems.push_back({j, std::nullopt, "intents that matched no rule " + allowed_by});
        continue;
      }
      const ResolvedRule& b = b_rules[i];
      if (!b.allow) {
        problems.push_back({j, i, "intents that rule " + Quoted(b.name) + " denied " + allowed_by});
        continue;
      }
      if (!ApprovalsAtLeastAsEasy(b.requirements, a.requirements, known_after)) {
        problems.push_back({j, i,
                            "intents that rule " + Quoted(b.name) + " allowed with approvals " +
                                RequirementsText(b_text[i].approvals) + " " + allowed_by});
      }
    }
  }
  return problems;
}

// True when problem `p` involves a rule named `name` (on either side).
bool Involves(const RuleProblem& p, const Policy& before, const Policy& after,
              std::string_view name) {
  if (after.fields().rules[p.after_index].name == name) return true;
  return p.before_index.has_value() && before.fields().rules[*p.before_index].name == name;
}

// ---------------------------------------------------------------------------------------------
// Rendering values for diff lines.
// ---------------------------------------------------------------------------------------------

std::string Join(const std::vector<std::string>& items, std::string_view separator = ", ") {
  std::string out;
  for (const std::string& item : items) {
    if (!out.empty()) out += separator;
    out += item;
  }
  return out;
}

std::string AmountText(const std::optional<btc::Amount>& amount) {
  if (!amount.has_value()) return "";
  return amount->ToBtcString() + " BTC";
}

template <typename T>
std::string NumberText(const std::optional<T>& n) {
  return n.has_value() ? std::to_string(*n) : "";
}

std::string DurationText(uint64_t seconds) {
  if (seconds % 86400 == 0) return std::to_string(seconds / 86400) + "d";
  if (seconds % 3600 == 0) return std::to_string(seconds / 3600) + "h";
  if (seconds % 60 == 0) return std::to_string(seconds / 60) + "m";
  return std::to_string(seconds) + "s";
}

std::string DestinationText(const Destination& d) {
  switch (d.kind) {
    case DestinationKind::kAny:
      return "any";
    case DestinationKind::kAddressBook:
      return "address_book";
    case DestinationKind::kLabels:
      return "labels " + Join(d.labels);
  }
  CHECK(false);
  return "";
}

std::string RuleText(const Rule& rule) {
  std::string out = rule.action == RuleAction::kAllow ? "allow" : "deny";
  if (!rule.wallets.empty()) out += "; wallets " + Join(rule.wallets);
  if (!rule.requesters.empty()) out += "; requesters " + Join(rule.requesters);
  out += "; destination " + DestinationText(rule.destination);
  if (rule.amount_min.has_value()) out += "; amount_min " + AmountText(rule.amount_min);
  if (rule.amount_max.has_value()) out += "; amount_max " + AmountText(rule.amount_max);
  if (rule.outputs_max.has_value()) out += "; outputs_max " + NumberText(rule.outputs_max);
  if (rule.action == RuleAction::kAllow) out += "; approvals " + RequirementsText(rule.approvals);
  return out;
}

std::string KeyLabelOr(const Policy& policy, const KeyId& id) {
  const std::optional<std::string_view> label = policy.KeyLabel(id);
  if (label.has_value()) return std::string(*label);
  return GroupedHex(std::span<const uint8_t>(id).first(8));
}

// ---------------------------------------------------------------------------------------------
// The sections of Compare.
// ---------------------------------------------------------------------------------------------

class Differ final {
 public:
  Differ(const Policy& before, const Policy& after)
      : before_(before),
        after_(after),
        b_(before.fields()),
        a_(after.fields()),
        b_rules_(ResolveRules(before, sets_)),
        a_rules_(ResolveRules(after, sets_)),
        problems_(FindRuleProblems(before, after, b_rules_, a_rules_, sets_)) {}

  std::vector<Change> Run() && {
    CompareHeader();
    CompareGovernance();
    CompareKeys();
    CompareGroups();
    CompareAddressBook();
    CompareLimits();
    CompareRules();
    ReportRemainingProblems();
    return std::move(changes_);
  }

 private:
  void Add(std::string path, std::string before, std::string after, ChangeEffect effect,
           std::string reason) {
    changes_.push_back(Change{.path = std::move(path),
                              .before = std::move(before),
                              .after = std::move(after),
                              .effect = effect,
                              .reason = std::move(reason)});
  }

  // The first problem for which `involved` holds, marked reported; nullptr when none.
  template <typename Predicate>
  const RuleProblem* TakeProblem(Predicate involved) {
    const RuleProblem* first = nullptr;
    for (RuleProblem& p : problems_) {
      if (!involved(p)) continue;
      p.reported = true;
      if (first == nullptr) first = &p;
    }
    return first;
  }

  void CompareHeader() {
    if (b_.network != a_.network) {
      Add("network", std::string(btc::NetworkName(b_.network)),
          std::string(btc::NetworkName(a_.network)), ChangeEffect::kLoosens, "another network");
    }
    if (b_.sequence != a_.sequence) {
      Add("sequence", std::to_string(b_.sequence), std::to_string(a_.sequence),
          ChangeEffect::kNeutral, "sequence number");
    }
    if (b_.predecessor != a_.predecessor) {
      auto text = [](const std::optional<Digest>& d) {
        return d.has_value() ? GroupedHex(*d) : std::string();
      };
      Add("predecessor", text(b_.predecessor), text(a_.predecessor), ChangeEffect::kNeutral,
          "link to the previous policy");
    }
  }

  void CompareGovernance() {
    if (b_.activation_delay != a_.activation_delay) {
      const bool longer = a_.activation_delay > b_.activation_delay;
      Add("activation_delay", DurationText(b_.activation_delay), DurationText(a_.activation_delay),
          longer ? ChangeEffect::kTightens : ChangeEffect::kLoosens,
          longer ? "longer delay before loosening changes"
                 : "shorter delay before loosening changes");
    }
    if (b_.governance.threshold != a_.governance.threshold) {
      const bool higher = a_.governance.threshold > b_.governance.threshold;
      Add("governance.threshold", std::to_string(b_.governance.threshold),
          std::to_string(a_.governance.threshold),
          higher ? ChangeEffect::kTightens : ChangeEffect::kLoosens,
          higher ? "more admin signatures needed" : "fewer admin signatures needed");
    }
    // Admins are compared by key id: a label pointing to another key is another admin.
    const std::vector<KeyId> b_ids = before_.AdminIds();
    const std::vector<KeyId> a_ids = after_.AdminIds();
    if (b_ids != a_ids || b_.governance.admins != a_.governance.admins) {
      std::vector<std::string> added;
      for (const KeyId& id : a_ids) {
        if (!std::binary_search(b_ids.begin(), b_ids.end(), id)) {
          added.push_back(Quoted(KeyLabelOr(after_, id)));
        }
      }
      const bool fewer = !std::includes(b_ids.begin(), b_ids.end(), a_ids.begin(), a_ids.end()) ||
                         a_ids.size() < b_ids.size();
      ChangeEffect effect = ChangeEffect::kNeutral;
      std::string reason = "admin keys renamed";
      if (!added.empty()) {
        effect = ChangeEffect::kLoosens;
        reason = "new admin " + Join(added);
      } else if (fewer) {
        effect = ChangeEffect::kTightens;
        reason = "fewer admins";
      }
      Add("governance.admins", Join(b_.governance.admins), Join(a_.governance.admins), effect,
          reason);
    }
  }

  // Keys by id: a new id is a new key (it may request under rules open to any requester, and
  // its approvals are no longer refused); a label pointing to another id is one key removed
  // and one added; a new label for the same id is a rename.
  void CompareKeys() {
    std::map<KeyId, std::string> b_label, a_label;
    for (const NamedKey& k : b_.keys) b_label[k.id] = k.label;
    for (const NamedKey& k : a_.keys) a_label[k.id] = k.label;
    for (const NamedKey& k : b_.keys) {
      const auto it = a_label.find(k.id);
      if (it == a_label.end()) {
        Add("key " + Quoted(k.label), GroupedHex(k.id), "", ChangeEffect::kTightens,
            "key removed: its intents and approvals are refused");
      } else if (it->second != k.label) {
        Add("key " + Quoted(k.label), k.label, it->second, ChangeEffect::kNeutral, "key renamed");
      }
    }
    for (const NamedKey& k : a_.keys) {
      if (b_label.contains(k.id)) continue;
      Add("key " + Quoted(k.label), "", GroupedHex(k.id), ChangeEffect::kLoosens,
          "new key: it may request under rules open to it and its approvals are accepted");
    }
  }

  // Where a group is used, in either policy.
  bool GroupUsedInApprovals(const PolicyFields& f, std::string_view group) const {
    for (const Rule& r : f.rules) {
      for (const ApprovalRequirement& req : r.approvals) {
        if (req.group == group) return true;
      }
    }
    return false;
  }
  bool GroupUsed(const PolicyFields& f, std::string_view group) const {
    if (GroupUsedInApprovals(f, group)) return true;
    for (const Rule& r : f.rules) {
      if (std::binary_search(r.requesters.begin(), r.requesters.end(), group)) return true;
    }
    return false;
  }
  bool RuleRefersToGroup(const Rule& r, std::string_view group) const {
    if (std::binary_search(r.requesters.begin(), r.requesters.end(), group)) return true;
    for (const ApprovalRequirement& req : r.approvals) {
      if (req.group == group) return true;
    }
    return false;
  }

  // Groups by name, members compared by key id. A group's effect is the effect on the rules
  // that use it, as FindRuleProblems finds it: typically a member added to a group that
  // approves is another approver (loosens); a member removed from a group that approves no
  // longer vetoes by rejecting (loosens, unless the key is gone from the policy); a member
  // added to or removed from a group in `requesters` changes which rule decides its intents.
  void CompareGroups() {
    std::set<std::string> names;
    for (const Group& g : b_.groups) names.insert(g.name);
    for (const Group& g : a_.groups) names.insert(g.name);
    const std::set<KeyId> known_after = AllKeyIds(after_);
    for (const std::string& name : names) {
      const Group* bg = FindGroup(b_, name);
      const Group* ag = FindGroup(a_, name);
      const std::set<KeyId> b_members = MemberIds(before_, name);
      const std::set<KeyId> a_members = MemberIds(after_, name);
      const std::string b_text = bg != nullptr ? Join(bg->members) : "";
      const std::string a_text = ag != nullptr ? Join(ag->members) : "";
      if (bg != nullptr && ag != nullptr && b_members == a_members && b_text == a_text) continue;
      const std::string path = "group " + Quoted(name);
      const bool used_before = GroupUsed(b_, name);
      const bool used_after = GroupUsed(a_, name);
      if (!used_before && !used_after) {
        Add(path, b_text, a_text, ChangeEffect::kNeutral, "group used by no rule");
        continue;
      }
      if (bg != nullptr && ag != nullptr && b_members == a_members) {
        Add(path, b_text, a_text, ChangeEffect::kNeutral, "same keys, renamed");
        continue;
      }
      std::vector<std::string> gained, lost;
      for (const KeyId& id : a_members) {
        if (!b_members.contains(id)) gained.push_back(Quoted(KeyLabelOr(after_, id)));
      }
      for (const KeyId& id : b_members) {
        if (!a_members.contains(id) && known_after.contains(id)) {
          lost.push_back(Quoted(KeyLabelOr(after_, id)));
        }
      }
      const RuleProblem* p = TakeProblem([&](const RuleProblem& problem) {
        return RuleRefersToGroup(a_.rules[problem.after_index], name) ||
               (problem.before_index.has_value() &&
                RuleRefersToGroup(b_.rules[*problem.before_index], name));
      });
      if (p == nullptr) {
        Add(path, b_text, a_text, ChangeEffect::kTightens, "allows nothing new");
      } else if (!gained.empty() && GroupUsedInApprovals(a_, name)) {
        Add(path, b_text, a_text, ChangeEffect::kLoosens,
            "another approver: " + Join(gained) + " may approve for " + Quoted(name));
      } else if (!lost.empty() && GroupUsedInApprovals(b_, name)) {
        Add(path, b_text, a_text, ChangeEffect::kLoosens,
            "a reject by " + Join(lost) + " no longer refuses");
      } else {
        Add(path, b_text, a_text, ChangeEffect::kLoosens, p->reason);
      }
    }
  }

  static const Group* FindGroup(const PolicyFields& f, std::string_view name) {
    for (const Group& g : f.groups) {
      if (g.name == name) return &g;
    }
    return nullptr;
  }

  // The address book by address. A new address (or a new label on one) is a new destination
  // and loosens; a removed address tightens unless intents paying it may now be allowed by a
  // later rule (FindRuleProblems, via the rules whose destinations named it).
  void CompareAddressBook() {
    std::map<std::string, std::string> a_label;
    for (const AddressBookEntry& e : a_.address_book) a_label[e.address] = e.label;
    std::set<std::string> b_addresses;
    for (const AddressBookEntry& e : b_.address_book) {
      b_addresses.insert(e.address);
      const std::string path = "address_book " + Quoted(e.label) + " " + e.address;
      const auto it = a_label.find(e.address);
      if (it != a_label.end()) {
        if (it->second != e.label) {
          const std::string& address = e.address;
          TakeProblem([&](const RuleProblem& problem) {
            return Names(a_rules_[problem.after_index], address) ||
                   (problem.before_index.has_value() &&
                    Names(b_rules_[*problem.before_index], address));
          });
          Add(path, e.label, it->second, ChangeEffect::kLoosens,
              "new label for a destination: rules naming label " + Quoted(it->second) +
                  " may pay it");
        }
        continue;
      }
      const std::string address = e.address;
      const RuleProblem* p = TakeProblem([&](const RuleProblem& problem) {
        return problem.before_index.has_value() && Names(b_rules_[*problem.before_index], address);
      });
      if (p != nullptr) {
        Add(path, e.label, "", ChangeEffect::kLoosens, "removed destination: " + p->reason);
      } else {
        Add(path, e.label, "", ChangeEffect::kTightens, "removed destination");
      }
    }
    for (const AddressBookEntry& e : a_.address_book) {
      if (b_addresses.contains(e.address)) continue;
      const std::string address = e.address;
      TakeProblem([&](const RuleProblem& problem) {
        return Names(a_rules_[problem.after_index], address);
      });
      Add("address_book " + Quoted(e.label) + " " + e.address, "", e.label, ChangeEffect::kLoosens,
          "new destination");
    }
  }

  // True when `rule`'s destination names `address` (in the address book).
  static bool Names(const ResolvedRule& rule, const std::string& address) {
    const AddressSet& d = rule.region.destinations;
    return d != nullptr && std::binary_search(d->begin(), d->end(), address);
  }

  // Lower or new limits tighten; higher or removed limits loosen.
  template <typename T>
  void CompareLimit(const std::string& path, const std::optional<T>& before,
                    const std::optional<T>& after, const std::string& before_text,
                    const std::string& after_text) {
    if (before == after) return;
    if (!after.has_value()) {
      Add(path, before_text, after_text, ChangeEffect::kLoosens, "limit removed");
    } else if (!before.has_value()) {
      Add(path, before_text, after_text, ChangeEffect::kTightens, "new limit");
    } else if (*after < *before) {
      Add(path, before_text, after_text, ChangeEffect::kTightens, "lower limit");
    } else {
      Add(path, before_text, after_text, ChangeEffect::kLoosens, "higher limit");
    }
  }

  void CompareLimits() {
    const Limits& bl = b_.limits;
    const Limits& al = a_.limits;
    CompareLimit("limits.per_transaction", bl.per_transaction, al.per_transaction,
                 AmountText(bl.per_transaction), AmountText(al.per_transaction));
    // Windows by duration. A window of `before` stays enforced when `after` has a window at
    // least as long with a max at most as high: what leaves within the shorter window also
    // left within the longer one.
    std::set<uint64_t> durations;
    for (const Window& w : bl.windows) durations.insert(w.duration);
    for (const Window& w : al.windows) durations.insert(w.duration);
    for (uint64_t d : durations) {
      const std::optional<btc::Amount> b_max = WindowMax(bl, d);
      const std::optional<btc::Amount> a_max = WindowMax(al, d);
      if (b_max == a_max) continue;
      const std::string path = "limits.window " + DurationText(d);
      if (b_max.has_value()) {
        const Window* implied = ImpliedBy(al, Window{.duration = d, .max = *b_max});
        if (implied == nullptr) {
          Add(path, AmountText(b_max), AmountText(a_max), ChangeEffect::kLoosens,
              a_max.has_value() ? "higher limit" : "limit removed");
          continue;
        }
        if (!a_max.has_value()) {
          Add(path, AmountText(b_max), "", ChangeEffect::kTightens,
              "limit removed, but window " + DurationText(implied->duration) + " of " +
                  AmountText(implied->max) + " is as strict");
          continue;
        }
      }
      Add(path, AmountText(b_max), AmountText(a_max), ChangeEffect::kTightens,
          b_max.has_value() ? "lower limit" : "new limit");
    }
    CompareLimit("limits.fee_max", bl.fee_max, al.fee_max, AmountText(bl.fee_max),
                 AmountText(al.fee_max));
    CompareLimit(
        "limits.fee_rate_max", bl.fee_rate_max_sat_per_kvb, al.fee_rate_max_sat_per_kvb,
        NumberText(bl.fee_rate_max_sat_per_kvb) + (bl.fee_rate_max_sat_per_kvb ? " sat/kvB" : ""),
        NumberText(al.fee_rate_max_sat_per_kvb) + (al.fee_rate_max_sat_per_kvb ? " sat/kvB" : ""));
    CompareLimit("limits.outputs_max", bl.outputs_max, al.outputs_max, NumberText(bl.outputs_max),
                 NumberText(al.outputs_max));
  }

  static std::optional<btc::Amount> WindowMax(const Limits& limits, uint64_t duration) {
    for (const Window& w : limits.windows) {
      if (w.duration == duration) return w.max;
    }
    return std::nullopt;
  }

  // A window of `limits` at least as long as `w` with a max at most `w`'s; nullptr when none.
  static const Window* ImpliedBy(const Limits& limits, const Window& w) {
    for (const Window& candidate : limits.windows) {
      if (candidate.duration >= w.duration && candidate.max <= w.max) return &candidate;
    }
    return nullptr;
  }

  // Rules by name (a rule that only changed its name, at the same position, is a rename).
  // Every line is tightening unless a problem of FindRuleProblems involves the rule.
  void CompareRules() {
    const std::vector<Rule>& br = b_.rules;
    const std::vector<Rule>& ar = a_.rules;
    std::map<std::string, size_t> b_index, a_index;
    for (size_t i = 0; i < br.size(); ++i) b_index[br[i].name] = i;
    for (size_t i = 0; i < ar.size(); ++i) a_index[ar[i].name] = i;
    std::set<std::string> renamed_before, renamed_after;
    for (size_t i = 0; i < std::min(br.size(), ar.size()); ++i) {
      if (br[i].name == ar[i].name || a_index.contains(br[i].name) ||
          b_index.contains(ar[i].name)) {
        continue;
      }
      Rule same = ar[i];
      same.name = br[i].name;
      if (same == br[i] && SameRegion(b_rules_[i].region, a_rules_[i].region)) {
        renamed_before.insert(br[i].name);
        renamed_after.insert(ar[i].name);
      }
    }
    const std::set<std::string> moved = MovedRules(br, ar);
    // Rules of `before`, in order: removed, renamed or changed.
    for (size_t i = 0; i < br.size(); ++i) {
      const Rule& b = br[i];
      const std::string path = "rule " + Quoted(b.name);
      if (renamed_before.contains(b.name)) {
        const std::string& new_name = ar[i].name;
        const RuleProblem* p = TakeRuleProblem(b.name, new_name);
        Add(path + ".name", b.name, new_name,
            p != nullptr ? ChangeEffect::kLoosens : ChangeEffect::kNeutral,
            p != nullptr ? p->reason : "rule renamed");
        continue;
      }
      const auto it = a_index.find(b.name);
      if (it == a_index.end()) {
        AddRuleLine(path, RuleText(b), "", b.name, "rule removed");
        continue;
      }
      const Rule& a = ar[it->second];
      const bool same_meaning = SameMeaning(b_rules_[i], a_rules_[it->second]);
      auto field = [&](std::string_view name, std::string before_text, std::string after_text) {
        if (before_text == after_text) return;
        AddRuleLine(path + "." + std::string(name), std::move(before_text), std::move(after_text),
                    b.name, same_meaning ? "" : "matches or approves differently");
      };
      if (moved.contains(b.name)) {
        AddRuleLine(path + ".position", std::to_string(i + 1), std::to_string(it->second + 1),
                    b.name, "moved");
      }
      field("wallets", Join(b.wallets), Join(a.wallets));
      field("requesters", Join(b.requesters), Join(a.requesters));
      field("destination", DestinationText(b.destination), DestinationText(a.destination));
      field("amount_min", AmountText(b.amount_min), AmountText(a.amount_min));
      field("amount_max", AmountText(b.amount_max), AmountText(a.amount_max));
      field("outputs_max", NumberText(b.outputs_max), NumberText(a.outputs_max));
      field("action", b.action == RuleAction::kAllow ? "allow" : "deny",
            a.action == RuleAction::kAllow ? "allow" : "deny");
      field("approvals", RequirementsText(b.approvals), RequirementsText(a.approvals));
    }
    // Rules new in `after`.
    for (const Rule& a : ar) {
      if (b_index.contains(a.name) || renamed_after.contains(a.name)) continue;
      AddRuleLine("rule " + Quoted(a.name), "", RuleText(a), a.name, "new rule");
    }
  }

  // The rules in both lists that changed their order relative to the others: those outside
  // a longest common subsequence of the two lists of common names. Inserting or removing a rule
  // moves no other rule.
  static std::set<std::string> MovedRules(const std::vector<Rule>& br,
                                          const std::vector<Rule>& ar) {
    std::set<std::string> b_names, a_names;
    for (const Rule& r : br) b_names.insert(r.name);
    for (const Rule& r : ar) a_names.insert(r.name);
    std::vector<std::string> b, a;
    for (const Rule& r : br) {
      if (a_names.contains(r.name)) b.push_back(r.name);
    }
    for (const Rule& r : ar) {
      if (b_names.contains(r.name)) a.push_back(r.name);
    }
    // lcs[i][j]: the length of a longest common subsequence of b[i..] and a[j..].
    std::vector<std::vector<uint32_t>> lcs(b.size() + 1, std::vector<uint32_t>(a.size() + 1, 0));
    for (size_t i = b.size(); i-- > 0;) {
      for (size_t j = a.size(); j-- > 0;) {
        lcs[i][j] = b[i] == a[j] ? lcs[i + 1][j + 1] + 1 : std::max(lcs[i + 1][j], lcs[i][j + 1]);
      }
    }
    std::set<std::string> moved(b.begin(), b.end());
    for (size_t i = 0, j = 0; i < b.size() && j < a.size();) {
      if (b[i] == a[j]) {
        moved.erase(b[i]);
        ++i;
        ++j;
      } else if (lcs[i + 1][j] >= lcs[i][j + 1]) {
        ++i;
      } else {
        ++j;
      }
    }
    return moved;
  }

  const RuleProblem* TakeRuleProblem(std::string_view before_name, std::string_view after_name) {
    return TakeProblem([&](const RuleProblem& p) {
      return Involves(p, before_, after_, before_name) || Involves(p, before_, after_, after_name);
    });
  }

  // A line about rule `name`: loosens with the problem's reason when a problem involves the
  // rule; neutral when `reason` is empty (the rule means the same); else tightens.
  void AddRuleLine(std::string path, std::string before_text, std::string after_text,
                   std::string_view name, std::string reason) {
    const RuleProblem* p = TakeRuleProblem(name, name);
    if (p != nullptr) {
      Add(std::move(path), std::move(before_text), std::move(after_text), ChangeEffect::kLoosens,
          p->reason);
    } else if (reason.empty()) {
      Add(std::move(path), std::move(before_text), std::move(after_text), ChangeEffect::kNeutral,
          "same intents, same approvals");
    } else {
      Add(std::move(path), std::move(before_text), std::move(after_text), ChangeEffect::kTightens,
          "allows nothing new");
    }
  }

  // Soundness backstop: a problem that no line above reported as loosening gets its own line,
  // so that Loosens() is true whenever the rules may allow something new.
  void ReportRemainingProblems() {
    for (RuleProblem& p : problems_) {
      if (p.reported) continue;
      p.reported = true;
      Add("rule " + Quoted(a_.rules[p.after_index].name), "", "", ChangeEffect::kLoosens, p.reason);
    }
  }

  const Policy& before_;
  const Policy& after_;
  const PolicyFields& b_;
  const PolicyFields& a_;
  AddressSets sets_;  // Before the resolved rules, which share its sets.
  const std::vector<ResolvedRule> b_rules_;
  const std::vector<ResolvedRule> a_rules_;
  std::vector<RuleProblem> problems_;
  std::vector<Change> changes_;
};

// now + delay, saturating at the largest time.
uint64_t AddTime(uint64_t now, uint64_t delay) {
  if (delay > std::numeric_limits<uint64_t>::max() - now) {
    return std::numeric_limits<uint64_t>::max();
  }
  return now + delay;
}

}  // namespace

std::string_view ChangeEffectName(ChangeEffect effect) {
  switch (effect) {
    case ChangeEffect::kTightens:
      return "tightens";
    case ChangeEffect::kLoosens:
      return "loosens";
    case ChangeEffect::kNeutral:
      return "neutral";
  }
  CHECK(false);
  return "";
}

bool RuleCovers(const Policy& outer_policy, const Rule& outer, const Policy& inner_policy,
                const Rule& inner) {
  AddressSets sets;
  return Covers(Resolve(outer_policy, outer, sets).region,
                Resolve(inner_policy, inner, sets).region, sets);
}

std::vector<std::optional<size_t>> FirstCoveringRules(const Policy& policy) {
  AddressSets sets;
  const std::vector<ResolvedRule> rules = ResolveRules(policy, sets);
  std::vector<std::optional<size_t>> out(rules.size());
  for (size_t j = 0; j < rules.size(); ++j) {
    for (size_t i = 0; i < j && !out[j].has_value(); ++i) {
      if (Covers(rules[i].region, rules[j].region, sets)) out[j] = i;
    }
  }
  return out;
}

std::vector<Change> Compare(const Policy& before, const Policy& after) {
  return Differ(before, after).Run();
}

bool Loosens(const std::vector<Change>& changes) {
  return std::any_of(changes.begin(), changes.end(),
                     [](const Change& c) { return c.effect == ChangeEffect::kLoosens; });
}

util::Status CheckAdminSignatures(const SignedPolicy& policy, std::span<const KeyId> admins,
                                  uint32_t threshold) {
  std::set<KeyId> signed_by;
  for (const Signature& s : policy.signatures()) {
    const KeyId id = SignerKeyId(s);
    if (std::find(admins.begin(), admins.end(), id) != admins.end()) signed_by.insert(id);
  }
  if (signed_by.size() >= threshold) return util::OkStatus();
  std::vector<std::string> labels;
  for (const KeyId& id : signed_by) labels.push_back(KeyLabelOr(policy.policy(), id));
  return util::PermissionDeniedError(
      "policy has " + std::to_string(signed_by.size()) + " of the " + std::to_string(threshold) +
      " admin signatures it needs (signed by: " + (labels.empty() ? "none" : Join(labels)) + ")");
}

util::Result<GovernanceState> Install(SignedPolicy first, std::span<const KeyId> admins,
                                      uint32_t threshold, uint64_t now) {
  if (first.policy().fields().predecessor.has_value()) {
    return util::InvalidArgumentError("first policy names a predecessor");
  }
  if (util::Status s = CheckAdminSignatures(first, admins, threshold); !s.ok()) return s;
  return GovernanceState{
      .active = std::move(first), .active_since = now, .pending = std::nullopt, .pending_from = 0};
}

GovernanceState Advance(const GovernanceState& state, uint64_t now) {
  if (!state.pending.has_value() || now < state.pending_from) return state;
  return GovernanceState{.active = *state.pending,
                         .active_since = state.pending_from,
                         .pending = std::nullopt,
                         .pending_from = 0};
}

const SignedPolicy& InForce(const GovernanceState& state, uint64_t now) {
  if (state.pending.has_value() && now >= state.pending_from) return *state.pending;
  return state.active;
}

std::variant<Acceptance, ProposalRefusal> EvaluateProposal(const GovernanceState& state,
                                                           SignedPolicy next, uint64_t now) {
  GovernanceState current = Advance(state, now);
  // The latest accepted policy is the one a successor must follow; the policy in force names
  // who may sign it, and is what the change is measured against. Admins that a pending policy
  // names have no authority until it takes effect, so the admins in force can always replace
  // a pending loosening with a tightening.
  const Policy& latest =
      current.pending.has_value() ? current.pending->policy() : current.active.policy();
  const Policy& in_force = current.active.policy();
  const PolicyFields& proposed = next.policy().fields();

  const std::vector<KeyId> admins = in_force.AdminIds();
  if (util::Status s = CheckAdminSignatures(next, admins, in_force.fields().governance.threshold);
      !s.ok()) {
    return ProposalRefusal{.check = ProposalCheck::kAdminSignatures, .status = std::move(s)};
  }
  if (proposed.network != latest.fields().network) {
    return ProposalRefusal{.check = ProposalCheck::kNetwork,
                           .status = util::FailedPreconditionError(
                               "policy network " + std::string(btc::NetworkName(proposed.network)) +
                               " is not the current policy's network " +
                               std::string(btc::NetworkName(latest.fields().network)))};
  }
  if (proposed.sequence <= latest.fields().sequence) {
    return ProposalRefusal{
        .check = ProposalCheck::kSequence,
        .status = util::FailedPreconditionError(
            "stale sequence " + std::to_string(proposed.sequence) +
            ": the current policy has sequence " + std::to_string(latest.fields().sequence))};
  }
  if (proposed.predecessor != latest.digest()) {
    return ProposalRefusal{
        .check = ProposalCheck::kPredecessor,
        .status = util::FailedPreconditionError(
            "predecessor " +
            (proposed.predecessor.has_value() ? GroupedHex(*proposed.predecessor) : "(none)") +
            " is not the current policy " + GroupedHex(latest.digest()))};
  }

  std::vector<Change> changes = Compare(in_force, next.policy());
  if (!Loosens(changes)) {
    // Tightening only: in force now; a pending (loosening) policy is superseded.
    return Acceptance{.state = GovernanceState{.active = std::move(next),
                                               .active_since = now,
                                               .pending = std::nullopt,
                                               .pending_from = 0},
                      .immediate = true,
                      .effective_from = now,
                      .changes = std::move(changes)};
  }
  // The delay is the policy in force's: a loosening cannot shorten its own delay. A pending
  // policy is replaced, and the clock restarts.
  const uint64_t effective_from = AddTime(now, in_force.fields().activation_delay);
  current.pending = std::move(next);
  current.pending_from = effective_from;
  return Acceptance{.state = std::move(current),
                    .immediate = false,
                    .effective_from = effective_from,
                    .changes = std::move(changes)};
}

util::Result<Acceptance> Propose(const GovernanceState& state, SignedPolicy next, uint64_t now) {
  std::variant<Acceptance, ProposalRefusal> outcome = EvaluateProposal(state, std::move(next), now);
  if (ProposalRefusal* refusal = std::get_if<ProposalRefusal>(&outcome)) {
    return std::move(refusal->status);
  }
  return std::get<Acceptance>(std::move(outcome));
}

}  // namespace kinko::policy
