#include "policy/policy.h"

#include <algorithm>
#include <unordered_set>
#include <utility>

#include "crypto/hash.h"
#include "policy/intent.h"
#include "util/check.h"
#include "util/hex.h"

namespace kinko::policy {
namespace {

// DO NOT CHANGE: the map keys of the policy encoding (doc/policy-encoding.md).
enum PolicyKey : uint64_t {
  kKeyVersion = 0,
  kKeyNetwork = 1,
  kKeySequence = 2,
  kKeyActivationDelay = 3,
  kKeyPredecessor = 4,  // Optional.
  kKeyGovernance = 5,
  kKeyKeys = 6,
  kKeyGroups = 7,       // Omitted when empty.
  kKeyAddressBook = 8,  // Omitted when empty.
  kKeyLimits = 9,       // Omitted when no limit is set.
  kKeyRules = 10,       // Omitted when empty.
};
constexpr uint64_t kMaxPolicyKey = kKeyRules;

// DO NOT CHANGE: the map keys of limits.
enum LimitsKey : uint64_t {
  kLimitPerTransaction = 0,
  kLimitWindows = 1,
  kLimitFeeMax = 2,
  kLimitFeeRateMax = 3,
  kLimitOutputsMax = 4,
};

// DO NOT CHANGE: the map keys of a rule.
enum RuleKey : uint64_t {
  kRuleName = 0,
  kRuleWallets = 1,     // Omitted when empty.
  kRuleRequesters = 2,  // Omitted when empty.
  kRuleDestination = 3,
  kRuleLabels = 4,      // Present exactly when the destination is kLabels.
  kRuleAmountMin = 5,   // Optional.
  kRuleAmountMax = 6,   // Optional.
  kRuleOutputsMax = 7,  // Optional.
  kRuleAction = 8,
  kRuleApprovals = 9,  // Omitted when empty.
};

constexpr std::array<btc::Network, 4> kNetworks = {btc::Network::kMainnet, btc::Network::kTestnet,
                                                   btc::Network::kSignet, btc::Network::kRegtest};

util::Status Invalid(std::string message) { return util::InvalidArgumentError(std::move(message)); }

std::string Quoted(std::string_view name) { return "'" + std::string(name) + "'"; }

std::string KeyIdString(const KeyId& id) { return std::string(id.begin(), id.end()); }

// Sorts `names` and fails naming `what` when one is listed twice.
util::Status SortUnique(std::vector<std::string>& names, std::string_view what) {
  std::sort(names.begin(), names.end());
  const auto twice = std::adjacent_find(names.begin(), names.end());
  if (twice != names.end()) {
    return Invalid(std::string(what) + ": " + Quoted(*twice) + " is listed twice");
  }
  return util::OkStatus();
}

util::Status CheckName(std::string_view what, std::string_view name) {
  if (!IsValidName(name)) {
    return Invalid(std::string(what) + ": " + Quoted(name) +
                   " is not a valid name (1..64 characters of [A-Za-z0-9._ -], no leading or "
                   "trailing space)");
  }
  return util::OkStatus();
}

void WriteTextArray(CborWriter& writer, const std::vector<std::string>& texts) {
  writer.ArrayHeader(texts.size());
  for (const std::string& text : texts) writer.Text(text);
}

void WriteAmount(CborWriter& writer, btc::Amount amount) {
  writer.Uint(static_cast<uint64_t>(amount.sats()));
}

// The canonical encoding of `f` (doc/policy-encoding.md). Requires `f` valid and sorted.
std::vector<uint8_t> EncodeFields(const PolicyFields& f) {
  const Limits& l = f.limits;
  const uint64_t limit_count = (l.per_transaction ? 1 : 0) + (l.windows.empty() ? 0 : 1) +
                               (l.fee_max ? 1 : 0) + (l.fee_rate_max_sat_per_kvb ? 1 : 0) +
                               (l.outputs_max ? 1 : 0);
  const uint64_t count = 6 + (f.predecessor ? 1 : 0) + (f.groups.empty() ? 0 : 1) +
                         (f.address_book.empty() ? 0 : 1) + (limit_count == 0 ? 0 : 1) +
                         (f.rules.empty() ? 0 : 1);
  CborWriter w;
  w.MapHeader(count);
  w.Uint(kKeyVersion);
  w.Uint(kPolicyVersion);
  w.Uint(kKeyNetwork);
  w.Text(btc::NetworkName(f.network));
  w.Uint(kKeySequence);
  w.Uint(f.sequence);
  w.Uint(kKeyActivationDelay);
  w.Uint(f.activation_delay);
  if (f.predecessor) {
    w.Uint(kKeyPredecessor);
    w.Bytes(*f.predecessor);
  }
  w.Uint(kKeyGovernance);
  w.MapHeader(2);
  w.Uint(0);
  WriteTextArray(w, f.governance.admins);
  w.Uint(1);
  w.Uint(f.governance.threshold);
  w.Uint(kKeyKeys);
  w.ArrayHeader(f.keys.size());
  for (const NamedKey& key : f.keys) {
    w.MapHeader(2);
    w.Uint(0);
    w.Text(key.label);
    w.Uint(1);
    w.Bytes(key.id);
  }
  if (!f.groups.empty()) {
    w.Uint(kKeyGroups);
    w.ArrayHeader(f.groups.size());
    for (const Group& group : f.groups) {
      w.MapHeader(2);
      w.Uint(0);
      w.Text(group.name);
      w.Uint(1);
      WriteTextArray(w, group.members);
    }
  }
  if (!f.address_book.empty()) {
    w.Uint(kKeyAddressBook);
    w.ArrayHeader(f.address_book.size());
    for (const AddressBookEntry& entry : f.address_book) {
      w.MapHeader(2);
      w.Uint(0);
      w.Text(entry.label);
      w.Uint(1);
      w.Text(entry.address);
    }
  }
  if (limit_count != 0) {
    w.Uint(kKeyLimits);
    w.MapHeader(limit_count);
    if (l.per_transaction) {
      w.Uint(kLimitPerTransaction);
      WriteAmount(w, *l.per_transaction);
    }
    if (!l.windows.empty()) {
      w.Uint(kLimitWindows);
      w.ArrayHeader(l.windows.size());
      for (const Window& window : l.windows) {
        w.MapHeader(2);
        w.Uint(0);
        w.Uint(window.duration);
        w.Uint(1);
        WriteAmount(w, window.max);
      }
    }
    if (l.fee_max) {
      w.Uint(kLimitFeeMax);
      WriteAmount(w, *l.fee_max);
    }
    if (l.fee_rate_max_sat_per_kvb) {
      w.Uint(kLimitFeeRateMax);
      w.Uint(*l.fee_rate_max_sat_per_kvb);
    }
    if (l.outputs_max) {
      w.Uint(kLimitOutputsMax);
      w.Uint(*l.outputs_max);
    }
  }
  if (!f.rules.empty()) {
    w.Uint(kKeyRules);
    w.ArrayHeader(f.rules.size());
    for (const Rule& rule : f.rules) {
      const bool labels = rule.destination.kind == DestinationKind::kLabels;
      w.MapHeader(3 + (rule.wallets.empty() ? 0 : 1) + (rule.requesters.empty() ? 0 : 1) +
                  (labels ? 1 : 0) + (rule.amount_min ? 1 : 0) + (rule.amount_max ? 1 : 0) +
                  (rule.outputs_max ? 1 : 0) + (rule.approvals.empty() ? 0 : 1));
      w.Uint(kRuleName);
      w.Text(rule.name);
      if (!rule.wallets.empty()) {
        w.Uint(kRuleWallets);
        WriteTextArray(w, rule.wallets);
      }
      if (!rule.requesters.empty()) {
        w.Uint(kRuleRequesters);
        WriteTextArray(w, rule.requesters);
      }
      w.Uint(kRuleDestination);
      w.Uint(static_cast<uint8_t>(rule.destination.kind));
      if (labels) {
        w.Uint(kRuleLabels);
        WriteTextArray(w, rule.destination.labels);
      }
      if (rule.amount_min) {
        w.Uint(kRuleAmountMin);
        WriteAmount(w, *rule.amount_min);
      }
      if (rule.amount_max) {
        w.Uint(kRuleAmountMax);
        WriteAmount(w, *rule.amount_max);
      }
      if (rule.outputs_max) {
        w.Uint(kRuleOutputsMax);
        w.Uint(*rule.outputs_max);
      }
      w.Uint(kRuleAction);
      w.Uint(static_cast<uint8_t>(rule.action));
      if (!rule.approvals.empty()) {
        w.Uint(kRuleApprovals);
        w.ArrayHeader(rule.approvals.size());
        for (const ApprovalRequirement& approval : rule.approvals) {
          w.MapHeader(2);
          w.Uint(0);
          w.Text(approval.group);
          w.Uint(1);
          w.Uint(approval.threshold);
        }
      }
    }
  }
  return w.bytes();
}

}  // namespace

bool IsValidName(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameSize) return false;
  if (name.front() == ' ' || name.back() == ' ') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == ' ' || c == '-';
  });
}

util::Status Policy::BuildIndexes() {
  const PolicyFields& f = fields_;
  for (size_t i = 0; i < f.keys.size(); ++i) {
    const NamedKey& key = f.keys[i];
    if (util::Status s = CheckName("keys", key.label); !s.ok()) return s;
    if (!key_by_label_.emplace(key.label, i).second) {
      return Invalid("keys: " + Quoted(key.label) + " is defined twice");
    }
    const auto [it, inserted] = key_by_id_.emplace(KeyIdString(key.id), i);
    if (!inserted) {
      return Invalid("keys: " + Quoted(key.label) + " has the same key id as " +
                     Quoted(f.keys[it->second].label));
    }
  }
  for (size_t i = 0; i < f.groups.size(); ++i) {
    const Group& group = f.groups[i];
    if (util::Status s = CheckName("groups", group.name); !s.ok()) return s;
    if (key_by_label_.contains(group.name)) {
      return Invalid("groups: " + Quoted(group.name) + " is also a key label");
    }
    if (!group_by_name_.emplace(group.name, i).second) {
      return Invalid("groups: " + Quoted(group.name) + " is defined twice");
    }
  }
  address_by_script_.reserve(f.address_book.size());
  for (size_t i = 0; i < f.address_book.size(); ++i) {
    const AddressBookEntry& entry = f.address_book[i];
    const std::string what = "address book entry " + std::to_string(i);
    if (util::Status s = CheckName(what + " label", entry.label); !s.ok()) return s;
    if (entry.address.size() > kMaxAddressSize) {
      return Invalid(what + " address: longer than " + std::to_string(kMaxAddressSize) + " bytes");
    }
    util::Result<btc::DecodedAddress> decoded = btc::DecodeAddress(entry.address, f.network);
    if (!decoded.ok()) return decoded.status().WithPrefix(what + " address");
    // One policy, one encoding: the address must be the one string its script encodes to.
    util::Result<std::string> canonical = btc::EncodeAddress(decoded->script_pubkey, f.network);
    if (!canonical.ok() || *canonical != entry.address) {
      return Invalid(what + " address: not in canonical form (segwit addresses are lowercase)");
    }
    const std::vector<uint8_t>& script = decoded->script_pubkey.bytes();
    const auto [it, inserted] =
        address_by_script_.emplace(std::string(script.begin(), script.end()), i);
    if (!inserted) {
      return Invalid(what + " address: " + entry.address + " is already entry " +
                     std::to_string(it->second));
    }
  }
  return util::OkStatus();
}

util::Result<Policy> Policy::Create(PolicyFields fields) {
  // Sort what has no meaningful order, so that one policy has one encoding.
  std::sort(fields.keys.begin(), fields.keys.end(),
            [](const NamedKey& a, const NamedKey& b) { return a.label < b.label; });
  std::sort(fields.groups.begin(), fields.groups.end(),
            [](const Group& a, const Group& b) { return a.name < b.name; });
  std::sort(fields.limits.windows.begin(), fields.limits.windows.end(),
            [](const Window& a, const Window& b) { return a.duration < b.duration; });

  if (fields.sequence < 1) return Invalid("sequence: must be at least 1");
  if (fields.activation_delay > kMaxDuration) {
    return Invalid("activation delay: longer than ten years");
  }
  if (fields.keys.empty() || fields.keys.size() > kMaxKeys) {
    return Invalid("keys: must have 1.." + std::to_string(kMaxKeys) + " keys");
  }
  if (fields.groups.size() > kMaxGroups) {
    return Invalid("groups: more than " + std::to_string(kMaxGroups) + " groups");
  }
  if (fields.address_book.size() > kMaxAddressBookEntries) {
    return Invalid("address book: more than " + std::to_string(kMaxAddressBookEntries) +
                   " entries");
  }
  if (fields.rules.size() > kMaxRules) {
    return Invalid("rules: more than " + std::to_string(kMaxRules) + " rules");
  }

  Policy policy;
  policy.fields_ = std::move(fields);
  PolicyFields& f = policy.fields_;
  if (util::Status s = policy.BuildIndexes(); !s.ok()) return s;

  for (Group& group : f.groups) {
    const std::string what = "group " + Quoted(group.name);
    if (group.members.empty()) return Invalid(what + ": has no members");
    if (util::Status s = SortUnique(group.members, what + ": members"); !s.ok()) return s;
    for (const std::string& member : group.members) {
      if (!policy.key_by_label_.contains(member)) {
        return Invalid(what + ": members: " + Quoted(member) + " is not a key");
      }
    }
  }

  Governance& governance = f.governance;
  if (util::Status s = SortUnique(governance.admins, "governance: admins"); !s.ok()) return s;
  for (const std::string& admin : governance.admins) {
    if (!policy.key_by_label_.contains(admin)) {
      return Invalid("governance: admins: " + Quoted(admin) + " is not a key");
    }
  }
  if (governance.threshold < 1 || governance.threshold > governance.admins.size()) {
    return Invalid("governance: threshold " + std::to_string(governance.threshold) +
                   " must be between 1 and the number of admins (" +
                   std::to_string(governance.admins.size()) + ")");
  }

  const Limits& limits = f.limits;
  if (limits.windows.size() > kMaxWindows) {
    return Invalid("limits: windows: more than " + std::to_string(kMaxWindows) + " windows");
  }
  for (size_t i = 0; i < limits.windows.size(); ++i) {
    const uint64_t duration = limits.windows[i].duration;
    if (duration < 1 || duration > kMaxDuration) {
      return Invalid("limits: windows: duration " + std::to_string(duration) +
                     " must be 1 second to ten years");
    }
    if (i > 0 && limits.windows[i - 1].duration == duration) {
      return Invalid("limits: windows: duration " + std::to_string(duration) +
                     " seconds is listed twice");
    }
  }
  if (limits.fee_rate_max_sat_per_kvb &&
      *limits.fee_rate_max_sat_per_kvb > static_cast<uint64_t>(btc::kMaxMoney)) {
    return Invalid("limits: fee rate max: above 21 million BTC per kvB");
  }
  if (limits.outputs_max && *limits.outputs_max < 1) {
    return Invalid("limits: outputs max: must be at least 1");
  }

  std::unordered_set<std::string> book_labels;
  for (const AddressBookEntry& entry : f.address_book) book_labels.insert(entry.label);

  std::unordered_set<std::string> rule_names;
  for (Rule& rule : f.rules) {
    if (util::Status s = CheckName("rules", rule.name); !s.ok()) return s;
    const std::string what = "rule " + Quoted(rule.name);
    if (!rule_names.insert(rule.name).second) return Invalid(what + ": name is used twice");

    if (util::Status s = SortUnique(rule.wallets, what + ": wallets"); !s.ok()) return s;
    for (const std::string& wallet : rule.wallets) {
      if (!IsValidWalletId(wallet)) {
        return Invalid(what + ": wallets: " + Quoted(wallet) +
                       " is not a wallet id (1..64 characters of [A-Za-z0-9._:-])");
      }
    }
    if (util::Status s = SortUnique(rule.requesters, what + ": requesters"); !s.ok()) return s;
    for (const std::string& requester : rule.requesters) {
      if (!policy.key_by_label_.contains(requester) && !policy.group_by_name_.contains(requester)) {
        return Invalid(what + ": requesters: " + Quoted(requester) + " is not a key or group");
      }
    }

    Destination& destination = rule.destination;
    switch (destination.kind) {
      case DestinationKind::kAny:
      case DestinationKind::kAddressBook:
        if (!destination.labels.empty()) {
          return Invalid(what + ": destination: labels are only for a list of labels");
        }
        break;
      case DestinationKind::kLabels:
        if (destination.labels.empty()) {
          return Invalid(what + ": destination: the list of labels is empty");
        }
        if (util::Status s = SortUnique(destination.labels, what + ": destination"); !s.ok()) {
          return s;
        }
        for (const std::string& label : destination.labels) {
          if (!book_labels.contains(label)) {
            return Invalid(what + ": destination: " + Quoted(label) +
                           " is not an address-book label");
          }
        }
        break;
    }

    if (rule.amount_min && rule.amount_max && *rule.amount_min > *rule.amount_max) {
      return Invalid(what + ": amount min is above amount max");
    }
    if (rule.outputs_max && *rule.outputs_max < 1) {
      return Invalid(what + ": outputs max: must be at least 1");
    }

    switch (rule.action) {
      case RuleAction::kAllow:
        break;
      case RuleAction::kDeny:
        if (!rule.approvals.empty()) {
          return Invalid(what + ": approvals: a deny rule has no approvals");
        }
        break;
    }
    if (rule.approvals.size() > kMaxGroups) {
      return Invalid(what + ": approvals: more than " + std::to_string(kMaxGroups));
    }
    std::unordered_set<std::string> approval_groups;
    for (const ApprovalRequirement& approval : rule.approvals) {
      const auto group = policy.group_by_name_.find(approval.group);
      if (group == policy.group_by_name_.end()) {
        return Invalid(what + ": approvals: group " + Quoted(approval.group) + " is not defined");
      }
      if (!approval_groups.insert(approval.group).second) {
        return Invalid(what + ": approvals: group " + Quoted(approval.group) + " is listed twice");
      }
      const size_t size = f.groups[group->second].members.size();
      if (approval.threshold < 1 || approval.threshold > size) {
        return Invalid(what + ": approvals: group " + Quoted(approval.group) + ": threshold " +
                       std::to_string(approval.threshold) + " must be between 1 and " +
                       std::to_string(size));
      }
    }
  }

  policy.encoding_ = EncodeFields(f);
  policy.digest_ = crypto::TaggedHash(kPolicyTag, policy.encoding_);
  return policy;
}

std::optional<std::string_view> Policy::KeyLabel(const KeyId& id) const {
  const auto it = key_by_id_.find(KeyIdString(id));
  if (it == key_by_id_.end()) return std::nullopt;
  return std::string_view(fields_.keys[it->second].label);
}

std::optional<KeyId> Policy::KeyIdOf(std::string_view label) const {
  const auto it = key_by_label_.find(std::string(label));
  if (it == key_by_label_.end()) return std::nullopt;
  return fields_.keys[it->second].id;
}

bool Policy::IsMember(std::string_view group, const KeyId& id) const {
  const auto g = group_by_name_.find(std::string(group));
  if (g == group_by_name_.end()) return false;
  const std::optional<std::string_view> label = KeyLabel(id);
  if (!label) return false;
  const std::vector<std::string>& members = fields_.groups[g->second].members;
  // Invariant: members are sorted.
  return std::binary_search(members.begin(), members.end(), *label);
}

std::vector<KeyId> Policy::Members(std::string_view group) const {
  std::vector<KeyId> ids;
  const auto g = group_by_name_.find(std::string(group));
  if (g == group_by_name_.end()) return ids;
  for (const std::string& member : fields_.groups[g->second].members) {
    ids.push_back(fields_.keys[key_by_label_.at(member)].id);
  }
  return ids;
}

bool Policy::RefersTo(std::string_view name, const KeyId& id) const {
  if (std::optional<KeyId> key = KeyIdOf(name)) return *key == id;
  return IsMember(name, id);
}

std::vector<KeyId> Policy::AdminIds() const {
  std::vector<KeyId> ids;
  for (const std::string& admin : fields_.governance.admins) {
    ids.push_back(fields_.keys[key_by_label_.at(admin)].id);
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

const AddressBookEntry* Policy::FindAddress(const btc::Script& script_pubkey) const {
  const std::vector<uint8_t>& script = script_pubkey.bytes();
  const auto it = address_by_script_.find(std::string(script.begin(), script.end()));
  if (it == address_by_script_.end()) return nullptr;
  return &fields_.address_book[it->second];
}

}  // namespace kinko::policy
