#include "policy/evaluate.h"

#include <algorithm>
#include <limits>
#include <map>
#include <set>
#include <span>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "policy/policy_toml.h"
#include "util/check.h"
#include "util/hex.h"

namespace kinko::policy {

std::string_view RefusalCodeName(RefusalCode code) {
  switch (code) {
    case RefusalCode::kUnknownRequester:
      return "unknown_requester";
    case RefusalCode::kWrongNetwork:
      return "wrong_network";
    case RefusalCode::kIntentExpired:
      return "intent_expired";
    case RefusalCode::kIntentFromFuture:
      return "intent_from_future";
    case RefusalCode::kDuplicateIntent:
      return "duplicate_intent";
    case RefusalCode::kInvalidApproval:
      return "invalid_approval";
    case RefusalCode::kNoMatchingRule:
      return "no_matching_rule";
    case RefusalCode::kRuleDenies:
      return "rule_denies";
    case RefusalCode::kApprovalsMissing:
      return "approvals_missing";
    case RefusalCode::kApprovalRejected:
      return "approval_rejected";
    case RefusalCode::kFeeCeilingExceeded:
      return "fee_ceiling_exceeded";
    case RefusalCode::kOutputsLimit:
      return "outputs_limit";
    case RefusalCode::kPerTransactionLimit:
      return "per_transaction_limit";
    case RefusalCode::kWindowLimit:
      return "window_limit";
  }
  CHECK(false);
  return "";
}

namespace {

// How many bytes of an unknown key's id a refusal shows.
constexpr size_t kKeyIdPrefixSize = 8;

std::string Btc(btc::Amount amount) { return amount.ToBtcString() + " BTC"; }

// "intent 0 (id 00112233445566778899aabbccddeeff)".
std::string IntentName(size_t index, const Intent& intent) {
  return "intent " + std::to_string(index) + " (id " + util::HexEncode(intent.fields().id) + ")";
}

// A key's label, or "key 1a2b3c4d5e6f7081" (the first bytes of its id) when the policy does
// not name it. Key ids and labels are public; no key material is ever shown.
std::string KeyName(const Policy& policy, const KeyId& id) {
  const std::optional<std::string_view> label = policy.KeyLabel(id);
  if (label.has_value()) return std::string(*label);
  return "key " + util::HexEncode(std::span(id).first(kKeyIdPrefixSize));
}

std::string Join(const std::vector<std::string>& parts, std::string_view separator) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += separator;
    out += parts[i];
  }
  return out;
}

Verdict Refuse(RefusalCode code, std::optional<size_t> intent_index, std::string rule,
               std::string limit, std::string detail) {
  Verdict verdict;
  verdict.allowed = false;
  verdict.refusal = Refusal{.code = code,
                            .intent_index = intent_index,
                            .rule = std::move(rule),
                            .limit = std::move(limit),
                            .detail = std::move(detail)};
  return verdict;
}

// True when `time` is more than kMaxClockSkew after `now` (no overflow for any values).
bool IsFromFuture(uint64_t time, uint64_t now) { return time > now && time - now > kMaxClockSkew; }

// Step 1: requester, network, lifetime, and the id not seen before in this request.
std::optional<Verdict> CheckIntent(size_t index, const Intent& intent, const Policy& policy,
                                   uint64_t now, const std::map<IntentId, size_t>& seen_ids) {
  const IntentFields& f = intent.fields();
  const auto name = [&] { return IntentName(index, intent); };
  if (!policy.KeyLabel(f.requester).has_value()) {
    return Refuse(
        RefusalCode::kUnknownRequester, index, "", "",
        name() + ": requester " + KeyName(policy, f.requester) + " is not a key of the policy");
  }
  if (f.network != policy.fields().network) {
    return Refuse(RefusalCode::kWrongNetwork, index, "", "",
                  name() + ": network " + std::string(btc::NetworkName(f.network)) +
                      ", the policy's is " +
                      std::string(btc::NetworkName(policy.fields().network)));
  }
  if (intent.IsExpiredAt(now)) {
    return Refuse(RefusalCode::kIntentExpired, index, "", "",
                  name() + ": expired at " + std::to_string(f.expires) + " (now " +
                      std::to_string(now) + ")");
  }
  if (IsFromFuture(f.created, now)) {
    return Refuse(RefusalCode::kIntentFromFuture, index, "", "",
                  name() + ": created at " + std::to_string(f.created) + ", more than " +
                      std::to_string(kMaxClockSkew) + " s after now (" + std::to_string(now) + ")");
  }
  const auto earlier = seen_ids.find(f.id);
  if (earlier != seen_ids.end()) {
    return Refuse(RefusalCode::kDuplicateIntent, index, "", "",
                  name() + ": same id as intent " + std::to_string(earlier->second));
  }
  return std::nullopt;
}

// CheckBinding's message without its own "approval by <key id>: " prefix, which the refusal
// replaces with the approval's index and approver name.
std::string BindingReason(const util::Status& status) {
  const std::string& message = status.message();
  const size_t colon = message.find(": ");
  if (message.starts_with("approval by ") && colon != std::string::npos) {
    return message.substr(colon + 2);
  }
  return message;
}

// Step 2: every approval is bound to this intent and policy, by a named key, not from the
// future, and the only one by its key.
std::optional<Verdict> CheckApprovals(size_t index, const IntentWithApprovals& item,
                                      const Policy& policy, uint64_t now) {
  std::map<KeyId, size_t> first_by_key;
  for (size_t i = 0; i < item.approvals.size(); ++i) {
    const ApprovalFields& a = item.approvals[i].approval().fields();
    const util::Status binding = item.approvals[i].CheckBinding(item.intent, policy.digest());
    std::string reason;
    if (!binding.ok()) {
      reason = BindingReason(binding);
    } else if (!policy.KeyLabel(a.approver).has_value()) {
      reason = "not a key of the policy";
    } else if (IsFromFuture(a.time, now)) {
      reason = "made at " + std::to_string(a.time) + ", more than " +
               std::to_string(kMaxClockSkew) + " s after now (" + std::to_string(now) + ")";
    } else if (const auto [first, inserted] = first_by_key.emplace(a.approver, i); !inserted) {
      reason = "the same key gave approval " + std::to_string(first->second);
    }
    if (!reason.empty()) {
      return Refuse(RefusalCode::kInvalidApproval, index, "", "",
                    IntentName(index, item.intent.intent()) + ": approval " + std::to_string(i) +
                        " by " + KeyName(policy, a.approver) + ": " + reason);
    }
  }
  return std::nullopt;
}

// The address-book entry of each output of `intent`, in order; nullptr for an output that
// pays no entry. Looked up once per intent, by the policy's script index.
std::vector<const AddressBookEntry*> BookEntries(const Intent& intent, const Policy& policy) {
  std::vector<const AddressBookEntry*> entries;
  entries.reserve(intent.output_scripts().size());
  for (const btc::Script& script : intent.output_scripts()) {
    entries.push_back(policy.FindAddress(script));
  }
  return entries;
}

bool DestinationHolds(const Destination& destination,
                      const std::vector<const AddressBookEntry*>& entries) {
  switch (destination.kind) {
    case DestinationKind::kAny:
      return true;
    case DestinationKind::kAddressBook:
      return std::ranges::all_of(entries, [](const AddressBookEntry* e) { return e != nullptr; });
    case DestinationKind::kLabels:
      // Invariant (Policy): destination.labels is sorted.
      return std::ranges::all_of(entries, [&](const AddressBookEntry* e) {
        return e != nullptr && std::ranges::binary_search(destination.labels, e->label);
      });
  }
  CHECK(false);
  return false;
}

// Step 3: true when every condition of `rule` holds for `intent`. The order of the checks does
// not change the result; the cheapest come first, the requester's (hash lookups) last.
bool RuleMatches(const Rule& rule, const Intent& intent, const Policy& policy,
                 const std::vector<const AddressBookEntry*>& entries) {
  const IntentFields& f = intent.fields();
  if (rule.amount_min.has_value() && intent.total() < *rule.amount_min) return false;
  if (rule.amount_max.has_value() && intent.total() > *rule.amount_max) return false;
  if (rule.outputs_max.has_value() && f.outputs.size() > *rule.outputs_max) return false;
  // Invariant (Policy): rule.wallets is sorted.
  if (!rule.wallets.empty() && !std::ranges::binary_search(rule.wallets, f.wallet)) return false;
  if (!DestinationHolds(rule.destination, entries)) return false;
  if (!rule.requesters.empty() &&
      std::ranges::none_of(rule.requesters, [&](const std::string& name) {
        return policy.RefersTo(name, f.requester);
      })) {
    return false;
  }
  return true;
}

// A maximum matching of approving keys to the slots of a rule's requirements (requirement r
// has requirements[r].threshold slots, open to the members of its group), by augmenting paths
// (Kuhn's algorithm with capacities). Each key fills at most one slot.
class RequirementMatching final {
 public:
  // `eligible[k]` lists the requirements key k may fill, in rule order.
  RequirementMatching(const std::vector<ApprovalRequirement>& requirements,
                      std::vector<std::vector<size_t>> eligible)
      : requirements_(requirements),
        eligible_(std::move(eligible)),
        filled_by_(requirements.size()) {
    for (size_t key = 0; key < eligible_.size(); ++key) {
      std::vector<bool> visited(requirements_.size(), false);
      (void)Augment(key, visited);
    }
  }

  // The keys (indices into `eligible`) filling requirement r's slots.
  const std::vector<size_t>& FilledBy(size_t r) const { return filled_by_[r]; }

  bool AllFilled() const {
    for (size_t r = 0; r < requirements_.size(); ++r) {
      if (filled_by_[r].size() < requirements_[r].threshold) return false;
    }
    return true;
  }

 private:
  // Finds a slot for `key`, moving keys already placed to other requirements when that frees
  // one. Each requirement is visited once per search, so the search is linear in the edges.
  bool Augment(size_t key, std::vector<bool>& visited) {
    for (size_t r : eligible_[key]) {
      if (visited[r]) continue;
      visited[r] = true;
      std::vector<size_t>& holders = filled_by_[r];
      if (holders.size() < requirements_[r].threshold) {
        holders.push_back(key);
        return true;
      }
      for (size_t& holder : holders) {
        if (Augment(holder, visited)) {
          holder = key;
          return true;
        }
      }
    }
    return false;
  }

  const std::vector<ApprovalRequirement>& requirements_;
  std::vector<std::vector<size_t>> eligible_;
  std::vector<std::vector<size_t>> filled_by_;
};

// Step 4, for an allow rule: a reject by a required group's member refuses; otherwise the
// approving keys other than the requester must fill every requirement. On success returns the
// decision with the sorted labels of the keys that filled the requirements.
std::variant<IntentDecision, Verdict> CheckRequirements(size_t index,
                                                        const IntentWithApprovals& item,
                                                        const Rule& rule, const Policy& policy) {
  const Intent& intent = item.intent.intent();
  const KeyId& requester = intent.fields().requester;
  for (size_t i = 0; i < item.approvals.size(); ++i) {
    const ApprovalFields& a = item.approvals[i].approval().fields();
    if (a.decision != Decision::kReject) continue;
    for (const ApprovalRequirement& requirement : rule.approvals) {
      if (policy.IsMember(requirement.group, a.approver)) {
        return Refuse(RefusalCode::kApprovalRejected, index, rule.name, "",
                      IntentName(index, intent) + ": rule '" + rule.name +
                          "': " + KeyName(policy, a.approver) + " of required group " +
                          requirement.group + " rejected (approval " + std::to_string(i) + ")");
      }
    }
  }

  // The counting keys, by label (step 2 checked that each is named and appears once), with
  // the requirements each may fill.
  bool requester_approved = false;
  std::map<std::string, KeyId> counting;
  for (const SignedApproval& approval : item.approvals) {
    const ApprovalFields& a = approval.approval().fields();
    if (a.decision != Decision::kApprove) continue;
    if (a.approver == requester) {
      requester_approved = true;
      continue;
    }
    counting.emplace(KeyName(policy, a.approver), a.approver);
  }
  std::vector<std::string> labels;
  std::vector<std::vector<size_t>> eligible;
  for (const auto& [label, id] : counting) {
    std::vector<size_t> requirements;
    for (size_t r = 0; r < rule.approvals.size(); ++r) {
      if (policy.IsMember(rule.approvals[r].group, id)) requirements.push_back(r);
    }
    if (requirements.empty()) continue;
    labels.push_back(label);
    eligible.push_back(std::move(requirements));
  }
  const RequirementMatching matching(rule.approvals, std::move(eligible));

  if (!matching.AllFilled()) {
    std::vector<std::string> needs;
    for (size_t r = 0; r < rule.approvals.size(); ++r) {
      std::vector<std::string> have;
      for (size_t key : matching.FilledBy(r)) have.push_back(labels[key]);
      std::ranges::sort(have);
      std::string need = std::to_string(rule.approvals[r].threshold) + " of " +
                         rule.approvals[r].group + " (have " + std::to_string(have.size());
      if (!have.empty()) need += ": " + Join(have, ", ");
      needs.push_back(need + ")");
    }
    std::string detail =
        IntentName(index, intent) + ": rule '" + rule.name + "' needs " + Join(needs, ", ");
    if (requester_approved) {
      detail += "; the requester " + KeyName(policy, requester) +
                " approved its own intent, which does not count";
    }
    return Refuse(RefusalCode::kApprovalsMissing, index, rule.name, "", std::move(detail));
  }

  IntentDecision decision;
  decision.rule = rule.name;
  for (size_t r = 0; r < rule.approvals.size(); ++r) {
    for (size_t key : matching.FilledBy(r)) decision.approvers.push_back(labels[key]);
  }
  std::ranges::sort(decision.approvers);
  return decision;
}

// Steps 1 to 4 for the intent at `index`.
std::variant<IntentDecision, Verdict> EvaluateIntent(size_t index, const IntentWithApprovals& item,
                                                     const Policy& policy, uint64_t now,
                                                     const std::map<IntentId, size_t>& seen_ids) {
  const Intent& intent = item.intent.intent();
  if (std::optional<Verdict> refused = CheckIntent(index, intent, policy, now, seen_ids)) {
    return *std::move(refused);
  }
  if (std::optional<Verdict> refused = CheckApprovals(index, item, policy, now)) {
    return *std::move(refused);
  }
  const std::vector<const AddressBookEntry*> entries = BookEntries(intent, policy);
  for (const Rule& rule : policy.fields().rules) {
    if (!RuleMatches(rule, intent, policy, entries)) continue;
    switch (rule.action) {
      case RuleAction::kDeny:
        return Refuse(RefusalCode::kRuleDenies, index, rule.name, "",
                      IntentName(index, intent) + ": rule '" + rule.name + "' denies");
      case RuleAction::kAllow:
        return CheckRequirements(index, item, rule, policy);
    }
  }
  const IntentFields& f = intent.fields();
  return Refuse(RefusalCode::kNoMatchingRule, index, "", "",
                IntentName(index, intent) + ": no rule matches (wallet " + f.wallet +
                    ", requester " + KeyName(policy, f.requester) + ", " + Btc(intent.total()) +
                    " to " + std::to_string(f.outputs.size()) +
                    (f.outputs.size() == 1 ? " output)" : " outputs)"));
}

// True when fee * 1000 / vsize > max_rate (sat/kvB), exactly: fee * 1000 > max_rate * vsize.
// fee * 1000 <= 21e14 * 1000 fits in 64 bits; when max_rate * vsize does not, it is above it.
bool RateAbove(btc::Amount fee, uint64_t vsize, uint64_t max_rate) {
  const uint64_t scaled_fee = static_cast<uint64_t>(fee.sats()) * 1000;
  if (max_rate != 0 && vsize > std::numeric_limits<uint64_t>::max() / max_rate) return false;
  return scaled_fee > max_rate * vsize;
}

// Step 5: no intent states a fee ceiling above the policy's.
std::optional<Verdict> CheckIntentCeilings(const std::vector<IntentWithApprovals>& request,
                                           const Limits& limits) {
  for (size_t index = 0; index < request.size(); ++index) {
    const Intent& intent = request[index].intent.intent();
    const FeeCeiling& ceiling = intent.fields().fee;
    if (limits.fee_max.has_value() && ceiling.max_fee.has_value() &&
        *ceiling.max_fee > *limits.fee_max) {
      return Refuse(RefusalCode::kFeeCeilingExceeded, index, "", "fee_max",
                    IntentName(index, intent) + ": max_fee " + Btc(*ceiling.max_fee) +
                        " is above the policy's fee_max " + Btc(*limits.fee_max));
    }
    if (limits.fee_rate_max_sat_per_kvb.has_value() && ceiling.max_rate_sat_per_kvb.has_value() &&
        *ceiling.max_rate_sat_per_kvb > *limits.fee_rate_max_sat_per_kvb) {
      return Refuse(RefusalCode::kFeeCeilingExceeded, index, "", "fee_rate_max",
                    IntentName(index, intent) + ": max_rate " +
                        FormatFeeRate(*ceiling.max_rate_sat_per_kvb) +
                        " is above the policy's fee_rate_max " +
                        FormatFeeRate(*limits.fee_rate_max_sat_per_kvb));
    }
  }
  return std::nullopt;
}

// Step 8 for one wallet and window: what left `wallet` in the window ending at `now`, added up
// until it passes `max` (so the sum stays below 2 * kMaxMoney and cannot overflow).
int64_t UsedInWindow(const VelocityState& velocity, std::string_view wallet, uint64_t duration,
                     uint64_t now, btc::Amount max) {
  int64_t used = 0;
  for (const Spend& spend : velocity.spends) {
    if (spend.wallet != wallet || spend.time > now || now - spend.time >= duration) continue;
    used += spend.amount.sats();
    if (used > max.sats()) break;
  }
  return used;
}

// Step 9: the transaction's fee and fee rate against the policy's and every intent's ceiling.
std::optional<Verdict> CheckTransaction(const std::vector<IntentWithApprovals>& request,
                                        const Limits& limits, const TransactionFacts& tx) {
  // "fee 0.00010001 BTC for 1001 vB (more than 9.991 sat/vB)": the rate shown is exact, or
  // says that it was rounded down.
  const auto paid = [&] {
    const uint64_t scaled_fee = static_cast<uint64_t>(tx.fee.sats()) * 1000;
    return "fee " + Btc(tx.fee) + " for " + std::to_string(tx.vsize) + " vB (" +
           (scaled_fee % tx.vsize == 0 ? "" : "more than ") + FormatFeeRate(scaled_fee / tx.vsize) +
           ")";
  };
  if (limits.fee_max.has_value() && tx.fee > *limits.fee_max) {
    return Refuse(RefusalCode::kFeeCeilingExceeded, std::nullopt, "", "fee_max",
                  "transaction: fee " + Btc(tx.fee) + " is above the policy's fee_max " +
                      Btc(*limits.fee_max));
  }
  for (size_t index = 0; index < request.size(); ++index) {
    const Intent& intent = request[index].intent.intent();
    const std::optional<btc::Amount>& max_fee = intent.fields().fee.max_fee;
    if (max_fee.has_value() && tx.fee > *max_fee) {
      return Refuse(RefusalCode::kFeeCeilingExceeded, index, "", "max_fee",
                    IntentName(index, intent) + ": transaction fee " + Btc(tx.fee) +
                        " is above the intent's max_fee " + Btc(*max_fee));
    }
  }
  if (limits.fee_rate_max_sat_per_kvb.has_value() &&
      RateAbove(tx.fee, tx.vsize, *limits.fee_rate_max_sat_per_kvb)) {
    return Refuse(RefusalCode::kFeeCeilingExceeded, std::nullopt, "", "fee_rate_max",
                  "transaction: " + paid() + " is above the policy's fee_rate_max " +
                      FormatFeeRate(*limits.fee_rate_max_sat_per_kvb));
  }
  for (size_t index = 0; index < request.size(); ++index) {
    const Intent& intent = request[index].intent.intent();
    const std::optional<uint64_t>& max_rate = intent.fields().fee.max_rate_sat_per_kvb;
    if (max_rate.has_value() && RateAbove(tx.fee, tx.vsize, *max_rate)) {
      return Refuse(RefusalCode::kFeeCeilingExceeded, index, "", "max_rate",
                    IntentName(index, intent) + ": transaction " + paid() +
                        " is above the intent's max_rate " + FormatFeeRate(*max_rate));
    }
  }
  return std::nullopt;
}

}  // namespace

Verdict Evaluate(const std::vector<IntentWithApprovals>& request, const Policy& policy,
                 const VelocityState& velocity, uint64_t now,
                 const std::optional<TransactionFacts>& transaction) {
  CHECK(!request.empty());
  CHECK(!transaction.has_value() || transaction->vsize > 0);
  const Limits& limits = policy.fields().limits;

  // Steps 1 to 4, intent by intent.
  std::vector<IntentDecision> decisions;
  std::map<IntentId, size_t> seen_ids;
  for (size_t index = 0; index < request.size(); ++index) {
    std::variant<IntentDecision, Verdict> outcome =
        EvaluateIntent(index, request[index], policy, now, seen_ids);
    if (Verdict* refused = std::get_if<Verdict>(&outcome)) return std::move(*refused);
    decisions.push_back(std::get<IntentDecision>(std::move(outcome)));
    seen_ids.emplace(request[index].intent.intent().fields().id, index);
  }

  // Step 5.
  if (std::optional<Verdict> refused = CheckIntentCeilings(request, limits)) {
    return *std::move(refused);
  }

  // Step 6.
  size_t outputs = 0;
  for (const IntentWithApprovals& item : request) {
    outputs += item.intent.intent().fields().outputs.size();
  }
  if (limits.outputs_max.has_value() && outputs > *limits.outputs_max) {
    return Refuse(RefusalCode::kOutputsLimit, std::nullopt, "", "outputs_max",
                  "transaction: " + std::to_string(outputs) +
                      " intent outputs, above the policy's outputs_max " +
                      std::to_string(*limits.outputs_max));
  }

  // Step 7. Totals by wallet; the sum of all of them cannot exceed 21 million BTC, so neither
  // can any wallet's.
  btc::Amount total = btc::Amount::Zero();
  std::map<std::string, btc::Amount> by_wallet;
  for (const IntentWithApprovals& item : request) {
    const Intent& intent = item.intent.intent();
    util::Result<btc::Amount> sum = btc::Amount::Add(total, intent.total());
    if (!sum.ok()) {
      return Refuse(RefusalCode::kPerTransactionLimit, std::nullopt, "", "max_money",
                    "transaction: the intents total more than 21000000 BTC");
    }
    total = *sum;
    auto [it, inserted] = by_wallet.emplace(intent.fields().wallet, intent.total());
    if (!inserted) it->second = btc::Amount::Add(it->second, intent.total()).value();
  }
  if (limits.per_transaction.has_value() && total > *limits.per_transaction) {
    return Refuse(RefusalCode::kPerTransactionLimit, std::nullopt, "", "per_transaction",
                  "transaction: the intents total " + Btc(total) +
                      ", above the policy's per_transaction " + Btc(*limits.per_transaction));
  }

  // Step 8. With the transaction known, its fee also leaves the wallet: it counts toward the
  // windows of every wallet the transaction pays for (one, in a transaction a signer signs),
  // so that a transaction cannot move past a window in fees what it may not move in outputs.
  if (transaction.has_value()) {
    for (auto& [wallet, amount] : by_wallet) {
      util::Result<btc::Amount> with_fee = btc::Amount::Add(amount, transaction->fee);
      if (!with_fee.ok()) {
        return Refuse(RefusalCode::kPerTransactionLimit, std::nullopt, "", "max_money",
                      "transaction: the intents of wallet " + wallet +
                          " and the fee total more than 21000000 BTC");
      }
      amount = *with_fee;
    }
  }
  for (const auto& [wallet, amount] : by_wallet) {
    for (const Window& window : limits.windows) {
      const int64_t used = UsedInWindow(velocity, wallet, window.duration, now, window.max);
      if (used + amount.sats() > window.max.sats()) {
        const std::string limit = "window " + FormatDuration(window.duration);
        // `used` may have stopped adding just past the max: say so rather than print a partial
        // sum as if it were the whole.
        const std::string used_text = used > window.max.sats()
                                          ? "more than " + Btc(window.max)
                                          : Btc(btc::Amount::FromSats(used).value());
        return Refuse(RefusalCode::kWindowLimit, std::nullopt, "", limit,
                      "wallet " + wallet + ": " + limit + ": used " + used_text + " + this " +
                          Btc(amount) + (transaction.has_value() ? " (with the fee)" : "") +
                          " is above the max " + Btc(window.max));
      }
    }
  }

  // Step 9.
  if (transaction.has_value()) {
    if (std::optional<Verdict> refused = CheckTransaction(request, limits, *transaction)) {
      return *std::move(refused);
    }
  }

  Verdict verdict;
  verdict.allowed = true;
  verdict.intents = std::move(decisions);
  for (const auto& [wallet, amount] : by_wallet) {
    verdict.spends.push_back(Spend{.wallet = wallet, .time = now, .amount = amount});
  }
  return verdict;
}

}  // namespace kinko::policy
