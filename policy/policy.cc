#include "policy/policy.h"

#include <algorithm>
#include <functional>
#include <unordered_set>
#include <utility>

#include "crypto/hash.h"
#include "policy/intent.h"
#include "policy/policy_toml.h"
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

constexpr size_t kMaxSignatures = kMaxKeys;

constexpr std::array<btc::Network, 4> kNetworks = {btc::Network::kMainnet, btc::Network::kTestnet,
                                                   btc::Network::kSignet, btc::Network::kRegtest};

// Every message goes through EscapeForMessage: names that fail validation are quoted in it.
util::Status Invalid(std::string_view message) {
  return util::InvalidArgumentError(EscapeForMessage(message));
}

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

// A group has members, each a key, once; sorts them.
util::Status CheckGroup(Group& group, const std::function<bool(const std::string&)>& is_key) {
  const std::string what = "group " + Quoted(group.name);
  if (group.members.empty()) return Invalid(what + ": has no members");
  if (util::Status s = SortUnique(group.members, what + ": members"); !s.ok()) return s;
  for (const std::string& member : group.members) {
    if (!is_key(member)) return Invalid(what + ": members: " + Quoted(member) + " is not a key");
  }
  return util::OkStatus();
}

// Admins are keys, each once, and 1 <= threshold <= admins; sorts the admins.
util::Status CheckGovernance(Governance& governance,
                             const std::function<bool(const std::string&)>& is_key) {
  if (util::Status s = SortUnique(governance.admins, "governance: admins"); !s.ok()) return s;
  for (const std::string& admin : governance.admins) {
    if (!is_key(admin)) return Invalid("governance: admins: " + Quoted(admin) + " is not a key");
  }
  if (governance.threshold < 1 || governance.threshold > governance.admins.size()) {
    return Invalid("governance: threshold " + std::to_string(governance.threshold) +
                   " must be between 1 and the number of admins (" +
                   std::to_string(governance.admins.size()) + ")");
  }
  return util::OkStatus();
}

// Requires `limits.windows` sorted by duration.
util::Status CheckLimits(const Limits& limits) {
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
  return util::OkStatus();
}

// Checks a rule's conditions and approvals against the policy's names (`group_size` is 0 for
// a name that is not a group); sorts its wallets, requesters and destination labels.
util::Status CheckRule(Rule& rule, const std::function<bool(const std::string&)>& is_key,
                       const std::function<size_t(const std::string&)>& group_size,
                       const std::unordered_set<std::string>& book_labels) {
  const std::string what = "rule " + Quoted(rule.name);
  if (rule.wallets.size() > kMaxRuleWallets) {
    return Invalid(what + ": wallets: more than " + std::to_string(kMaxRuleWallets));
  }
  if (util::Status s = SortUnique(rule.wallets, what + ": wallets"); !s.ok()) return s;
  for (const std::string& wallet : rule.wallets) {
    if (!IsValidWalletId(wallet)) {
      return Invalid(what + ": wallets: " + Quoted(wallet) +
                     " is not a wallet id (1..64 characters of [A-Za-z0-9._:-])");
    }
  }
  if (util::Status s = SortUnique(rule.requesters, what + ": requesters"); !s.ok()) return s;
  for (const std::string& requester : rule.requesters) {
    if (!is_key(requester) && group_size(requester) == 0) {
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
    const size_t size = group_size(approval.group);
    if (size == 0) {
      return Invalid(what + ": approvals: group " + Quoted(approval.group) + " is not defined");
    }
    if (!approval_groups.insert(approval.group).second) {
      return Invalid(what + ": approvals: group " + Quoted(approval.group) + " is listed twice");
    }
    if (approval.threshold < 1 || approval.threshold > size) {
      return Invalid(what + ": approvals: group " + Quoted(approval.group) + ": threshold " +
                     std::to_string(approval.threshold) + " must be between 1 and " +
                     std::to_string(size));
    }
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

// The reading half of the encoding. Each reader refuses what Create would not encode: arrays
// that Create omits when empty must not be empty, and sorted lists must be strictly increasing
// (which also refuses duplicates), so that an accepted input is the encoding of its policy.

util::Result<uint32_t> ReadUint32(CborReader& reader, std::string_view what) {
  util::Result<uint64_t> value = reader.Uint(what);
  if (!value.ok()) return value.status();
  if (*value > UINT32_MAX) return reader.Error(what, "above 4294967295");
  return static_cast<uint32_t>(*value);
}

util::Result<btc::Amount> ReadAmount(CborReader& reader, std::string_view what) {
  util::Result<uint64_t> sats = reader.Uint(what);
  if (!sats.ok()) return sats.status();
  if (*sats > static_cast<uint64_t>(btc::kMaxMoney)) {
    return reader.Error(what, "above 21 million BTC");
  }
  return btc::Amount::FromSats(static_cast<int64_t>(*sats)).value();
}

// A non-empty array of names in strictly increasing order.
util::Result<std::vector<std::string>> ReadSortedNames(CborReader& reader, std::string_view what,
                                                       uint64_t max_count) {
  util::Result<uint64_t> count = reader.ArrayHeader(what, 1, max_count);
  if (!count.ok()) return count.status();
  std::vector<std::string> names;
  for (uint64_t i = 0; i < *count; ++i) {
    util::Result<std::string> name = reader.Text(what, kMaxNameSize);
    if (!name.ok()) return name.status();
    if (!names.empty() && *name <= names.back()) {
      return reader.Error(what, "not in sorted order, or listed twice");
    }
    names.push_back(std::move(*name));
  }
  return names;
}

// Reads the key of a two-entry map {0: ..., 1: ...} element: the map header, then key 0.
util::Status ReadPairHead(CborReader& reader, std::string_view what) {
  if (util::Result<uint64_t> n = reader.MapHeader(what, 2, 2); !n.ok()) return n.status();
  if (util::Result<uint64_t> k = reader.MapKey(what, -1, 0); !k.ok()) return k.status();
  return util::OkStatus();
}

util::Status ReadPairSecondKey(CborReader& reader, std::string_view what) {
  if (util::Result<uint64_t> k = reader.MapKey(what, 0, 1); !k.ok()) return k.status();
  return util::OkStatus();
}

util::Result<Governance> ReadGovernance(CborReader& reader) {
  Governance governance;
  if (util::Status s = ReadPairHead(reader, "governance"); !s.ok()) return s;
  util::Result<std::vector<std::string>> admins = ReadSortedNames(reader, "admins", kMaxKeys);
  if (!admins.ok()) return admins.status();
  governance.admins = std::move(*admins);
  if (util::Status s = ReadPairSecondKey(reader, "governance"); !s.ok()) return s;
  util::Result<uint32_t> threshold = ReadUint32(reader, "governance threshold");
  if (!threshold.ok()) return threshold.status();
  governance.threshold = *threshold;
  return governance;
}

util::Result<std::vector<NamedKey>> ReadKeys(CborReader& reader) {
  util::Result<uint64_t> count = reader.ArrayHeader("keys", 1, kMaxKeys);
  if (!count.ok()) return count.status();
  std::vector<NamedKey> keys;
  for (uint64_t i = 0; i < *count; ++i) {
    if (util::Status s = ReadPairHead(reader, "key"); !s.ok()) return s;
    util::Result<std::string> label = reader.Text("key label", kMaxNameSize);
    if (!label.ok()) return label.status();
    if (!keys.empty() && *label <= keys.back().label) {
      return reader.Error("keys", "not sorted by label, or listed twice");
    }
    if (util::Status s = ReadPairSecondKey(reader, "key"); !s.ok()) return s;
    util::Result<std::vector<uint8_t>> id = reader.BytesExact("key id", sizeof(KeyId));
    if (!id.ok()) return id.status();
    NamedKey key{.label = std::move(*label)};
    std::copy(id->begin(), id->end(), key.id.begin());
    keys.push_back(std::move(key));
  }
  return keys;
}

util::Result<std::vector<Group>> ReadGroups(CborReader& reader) {
  util::Result<uint64_t> count = reader.ArrayHeader("groups", 1, kMaxGroups);
  if (!count.ok()) return count.status();
  std::vector<Group> groups;
  for (uint64_t i = 0; i < *count; ++i) {
    if (util::Status s = ReadPairHead(reader, "group"); !s.ok()) return s;
    util::Result<std::string> name = reader.Text("group name", kMaxNameSize);
    if (!name.ok()) return name.status();
    if (!groups.empty() && *name <= groups.back().name) {
      return reader.Error("groups", "not sorted by name, or listed twice");
    }
    if (util::Status s = ReadPairSecondKey(reader, "group"); !s.ok()) return s;
    util::Result<std::vector<std::string>> members =
        ReadSortedNames(reader, "group members", kMaxKeys);
    if (!members.ok()) return members.status();
    groups.push_back(Group{.name = std::move(*name), .members = std::move(*members)});
  }
  return groups;
}

util::Result<std::vector<AddressBookEntry>> ReadAddressBook(CborReader& reader) {
  util::Result<uint64_t> count = reader.ArrayHeader("address book", 1, kMaxAddressBookEntries);
  if (!count.ok()) return count.status();
  std::vector<AddressBookEntry> book;
  for (uint64_t i = 0; i < *count; ++i) {
    if (util::Status s = ReadPairHead(reader, "address book entry"); !s.ok()) return s;
    util::Result<std::string> label = reader.Text("address book label", kMaxNameSize);
    if (!label.ok()) return label.status();
    if (util::Status s = ReadPairSecondKey(reader, "address book entry"); !s.ok()) return s;
    util::Result<std::string> address = reader.Text("address book address", kMaxAddressSize);
    if (!address.ok()) return address.status();
    book.push_back(AddressBookEntry{.label = std::move(*label), .address = std::move(*address)});
  }
  return book;
}

util::Result<Limits> ReadLimits(CborReader& reader) {
  util::Result<uint64_t> n = reader.MapHeader("limits", 1, 5);
  if (!n.ok()) return n.status();
  Limits limits;
  int64_t previous = -1;
  for (uint64_t i = 0; i < *n; ++i) {
    util::Result<uint64_t> key = reader.MapKey("limits key", previous, kLimitOutputsMax);
    if (!key.ok()) return key.status();
    previous = static_cast<int64_t>(*key);
    switch (static_cast<LimitsKey>(*key)) {
      case kLimitPerTransaction: {
        util::Result<btc::Amount> amount = ReadAmount(reader, "per transaction");
        if (!amount.ok()) return amount.status();
        limits.per_transaction = *amount;
        break;
      }
      case kLimitWindows: {
        util::Result<uint64_t> count = reader.ArrayHeader("windows", 1, kMaxWindows);
        if (!count.ok()) return count.status();
        for (uint64_t w = 0; w < *count; ++w) {
          if (util::Status s = ReadPairHead(reader, "window"); !s.ok()) return s;
          util::Result<uint64_t> duration = reader.Uint("window duration");
          if (!duration.ok()) return duration.status();
          if (!limits.windows.empty() && *duration <= limits.windows.back().duration) {
            return reader.Error("windows", "not sorted by duration, or listed twice");
          }
          if (util::Status s = ReadPairSecondKey(reader, "window"); !s.ok()) return s;
          util::Result<btc::Amount> max = ReadAmount(reader, "window max");
          if (!max.ok()) return max.status();
          limits.windows.push_back(Window{.duration = *duration, .max = *max});
        }
        break;
      }
      case kLimitFeeMax: {
        util::Result<btc::Amount> amount = ReadAmount(reader, "fee max");
        if (!amount.ok()) return amount.status();
        limits.fee_max = *amount;
        break;
      }
      case kLimitFeeRateMax: {
        util::Result<uint64_t> rate = reader.Uint("fee rate max");
        if (!rate.ok()) return rate.status();
        limits.fee_rate_max_sat_per_kvb = *rate;
        break;
      }
      case kLimitOutputsMax: {
        util::Result<uint32_t> outputs = ReadUint32(reader, "outputs max");
        if (!outputs.ok()) return outputs.status();
        limits.outputs_max = *outputs;
        break;
      }
    }
  }
  return limits;
}

util::Result<std::vector<ApprovalRequirement>> ReadApprovals(CborReader& reader) {
  util::Result<uint64_t> count = reader.ArrayHeader("approvals", 1, kMaxGroups);
  if (!count.ok()) return count.status();
  std::vector<ApprovalRequirement> approvals;
  for (uint64_t i = 0; i < *count; ++i) {
    if (util::Status s = ReadPairHead(reader, "approval"); !s.ok()) return s;
    util::Result<std::string> group = reader.Text("approval group", kMaxNameSize);
    if (!group.ok()) return group.status();
    if (util::Status s = ReadPairSecondKey(reader, "approval"); !s.ok()) return s;
    util::Result<uint32_t> threshold = ReadUint32(reader, "approval threshold");
    if (!threshold.ok()) return threshold.status();
    approvals.push_back(ApprovalRequirement{.group = std::move(*group), .threshold = *threshold});
  }
  return approvals;
}

util::Result<Rule> ReadRule(CborReader& reader) {
  util::Result<uint64_t> n = reader.MapHeader("rule", 3, 10);
  if (!n.ok()) return n.status();
  Rule rule;
  bool has_name = false;
  bool has_destination = false;
  bool has_action = false;
  int64_t previous = -1;
  for (uint64_t i = 0; i < *n; ++i) {
    util::Result<uint64_t> key = reader.MapKey("rule key", previous, kRuleApprovals);
    if (!key.ok()) return key.status();
    previous = static_cast<int64_t>(*key);
    switch (static_cast<RuleKey>(*key)) {
      case kRuleName: {
        util::Result<std::string> name = reader.Text("rule name", kMaxNameSize);
        if (!name.ok()) return name.status();
        rule.name = std::move(*name);
        has_name = true;
        break;
      }
      case kRuleWallets: {
        util::Result<std::vector<std::string>> wallets =
            ReadSortedNames(reader, "rule wallets", kMaxRuleWallets);
        if (!wallets.ok()) return wallets.status();
        rule.wallets = std::move(*wallets);
        break;
      }
      case kRuleRequesters: {
        util::Result<std::vector<std::string>> requesters =
            ReadSortedNames(reader, "rule requesters", kMaxKeys + kMaxGroups);
        if (!requesters.ok()) return requesters.status();
        rule.requesters = std::move(*requesters);
        break;
      }
      case kRuleDestination: {
        util::Result<uint64_t> kind = reader.Uint("rule destination");
        if (!kind.ok()) return kind.status();
        if (*kind < static_cast<uint8_t>(DestinationKind::kAny) ||
            *kind > static_cast<uint8_t>(DestinationKind::kLabels)) {
          return reader.Error("rule destination", "unknown kind " + std::to_string(*kind));
        }
        rule.destination.kind = static_cast<DestinationKind>(*kind);
        has_destination = true;
        break;
      }
      case kRuleLabels: {
        util::Result<std::vector<std::string>> labels =
            ReadSortedNames(reader, "rule destination labels", kMaxAddressBookEntries);
        if (!labels.ok()) return labels.status();
        rule.destination.labels = std::move(*labels);
        break;
      }
      case kRuleAmountMin: {
        util::Result<btc::Amount> amount = ReadAmount(reader, "rule amount min");
        if (!amount.ok()) return amount.status();
        rule.amount_min = *amount;
        break;
      }
      case kRuleAmountMax: {
        util::Result<btc::Amount> amount = ReadAmount(reader, "rule amount max");
        if (!amount.ok()) return amount.status();
        rule.amount_max = *amount;
        break;
      }
      case kRuleOutputsMax: {
        util::Result<uint32_t> outputs = ReadUint32(reader, "rule outputs max");
        if (!outputs.ok()) return outputs.status();
        rule.outputs_max = *outputs;
        break;
      }
      case kRuleAction: {
        util::Result<uint64_t> action = reader.Uint("rule action");
        if (!action.ok()) return action.status();
        if (*action < static_cast<uint8_t>(RuleAction::kAllow) ||
            *action > static_cast<uint8_t>(RuleAction::kDeny)) {
          return reader.Error("rule action", "unknown action " + std::to_string(*action));
        }
        rule.action = static_cast<RuleAction>(*action);
        has_action = true;
        break;
      }
      case kRuleApprovals: {
        util::Result<std::vector<ApprovalRequirement>> approvals = ReadApprovals(reader);
        if (!approvals.ok()) return approvals.status();
        rule.approvals = std::move(*approvals);
        break;
      }
    }
  }
  if (!has_name || !has_destination || !has_action) {
    return reader.Error("rule", "needs a name, a destination and an action");
  }
  return rule;
}

}  // namespace

std::string EscapeForMessage(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (char c : text) {
    const uint8_t byte = static_cast<uint8_t>(c);
    if (byte >= 0x20 && byte < 0x7f) {
      out.push_back(c);
    } else {
      out += "\\x";
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 0x0f]);
    }
  }
  return out;
}

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
  // Checks names, key ids and addresses while indexing them.
  if (util::Status s = policy.BuildIndexes(); !s.ok()) return s;
  const auto is_key = [&](const std::string& name) { return policy.key_by_label_.contains(name); };
  const auto group_size = [&](const std::string& name) -> size_t {
    const auto it = policy.group_by_name_.find(name);
    return it == policy.group_by_name_.end() ? 0 : f.groups[it->second].members.size();
  };

  for (Group& group : f.groups) {
    if (util::Status s = CheckGroup(group, is_key); !s.ok()) return s;
  }
  if (util::Status s = CheckGovernance(f.governance, is_key); !s.ok()) return s;
  if (util::Status s = CheckLimits(f.limits); !s.ok()) return s;
  std::unordered_set<std::string> book_labels;
  for (const AddressBookEntry& entry : f.address_book) book_labels.insert(entry.label);
  std::unordered_set<std::string> rule_names;
  for (Rule& rule : f.rules) {
    if (util::Status s = CheckName("rules", rule.name); !s.ok()) return s;
    if (!rule_names.insert(rule.name).second) {
      return Invalid("rule " + Quoted(rule.name) + ": name is used twice");
    }
    if (util::Status s = CheckRule(rule, is_key, group_size, book_labels); !s.ok()) return s;
  }

  policy.encoding_ = EncodeFields(f);
  policy.digest_ = crypto::TaggedHash(kPolicyTag, policy.encoding_);
  return policy;
}

util::Result<Policy> Policy::Decode(std::span<const uint8_t> bytes) {
  CborReader reader(bytes, "policy");
  util::Result<Policy> policy = DecodeFrom(reader);
  if (!policy.ok()) return policy;
  if (util::Status end = reader.ExpectEnd(); !end.ok()) return end;
  // Invariant: the reader accepts only the canonical encoding.
  CHECK(std::equal(bytes.begin(), bytes.end(), policy->encoding_.begin(), policy->encoding_.end()));
  return policy;
}

util::Result<Policy> Policy::DecodeFrom(CborReader& reader) {
  const size_t start = reader.offset();
  util::Result<uint64_t> n = reader.MapHeader("policy", 6, kMaxPolicyKey + 1);
  if (!n.ok()) return n.status();
  PolicyFields fields;
  // Keys 0, 1, 2, 3, 5 and 6 are required: a bit each.
  uint32_t seen = 0;
  int64_t previous = -1;
  for (uint64_t i = 0; i < *n; ++i) {
    util::Result<uint64_t> key = reader.MapKey("policy key", previous, kMaxPolicyKey);
    if (!key.ok()) return key.status();
    previous = static_cast<int64_t>(*key);
    seen |= uint32_t{1} << *key;
    switch (static_cast<PolicyKey>(*key)) {
      case kKeyVersion: {
        util::Result<uint64_t> version = reader.Uint("version");
        if (!version.ok()) return version.status();
        if (*version != kPolicyVersion) {
          return reader.Error("version", "unknown version " + std::to_string(*version));
        }
        break;
      }
      case kKeyNetwork: {
        util::Result<std::string> name = reader.Text("network", 16);
        if (!name.ok()) return name.status();
        const auto it = std::find_if(kNetworks.begin(), kNetworks.end(), [&](btc::Network net) {
          return btc::NetworkName(net) == *name;
        });
        if (it == kNetworks.end()) return reader.Error("network", "unknown network " + *name);
        fields.network = *it;
        break;
      }
      case kKeySequence: {
        util::Result<uint64_t> sequence = reader.Uint("sequence");
        if (!sequence.ok()) return sequence.status();
        fields.sequence = *sequence;
        break;
      }
      case kKeyActivationDelay: {
        util::Result<uint64_t> delay = reader.Uint("activation delay");
        if (!delay.ok()) return delay.status();
        fields.activation_delay = *delay;
        break;
      }
      case kKeyPredecessor: {
        util::Result<std::vector<uint8_t>> digest = reader.BytesExact("predecessor", 32);
        if (!digest.ok()) return digest.status();
        Digest predecessor{};
        std::copy(digest->begin(), digest->end(), predecessor.begin());
        fields.predecessor = predecessor;
        break;
      }
      case kKeyGovernance: {
        util::Result<Governance> governance = ReadGovernance(reader);
        if (!governance.ok()) return governance.status();
        fields.governance = std::move(*governance);
        break;
      }
      case kKeyKeys: {
        util::Result<std::vector<NamedKey>> keys = ReadKeys(reader);
        if (!keys.ok()) return keys.status();
        fields.keys = std::move(*keys);
        break;
      }
      case kKeyGroups: {
        util::Result<std::vector<Group>> groups = ReadGroups(reader);
        if (!groups.ok()) return groups.status();
        fields.groups = std::move(*groups);
        break;
      }
      case kKeyAddressBook: {
        util::Result<std::vector<AddressBookEntry>> book = ReadAddressBook(reader);
        if (!book.ok()) return book.status();
        fields.address_book = std::move(*book);
        break;
      }
      case kKeyLimits: {
        util::Result<Limits> limits = ReadLimits(reader);
        if (!limits.ok()) return limits.status();
        fields.limits = std::move(*limits);
        break;
      }
      case kKeyRules: {
        util::Result<uint64_t> count = reader.ArrayHeader("rules", 1, kMaxRules);
        if (!count.ok()) return count.status();
        for (uint64_t r = 0; r < *count; ++r) {
          util::Result<Rule> rule = ReadRule(reader);
          if (!rule.ok()) return rule.status();
          fields.rules.push_back(std::move(*rule));
        }
        break;
      }
    }
  }
  constexpr uint32_t kRequired = (1u << kKeyVersion) | (1u << kKeyNetwork) | (1u << kKeySequence) |
                                 (1u << kKeyActivationDelay) | (1u << kKeyGovernance) |
                                 (1u << kKeyKeys);
  if ((seen & kRequired) != kRequired) {
    return reader.Error("policy",
                        "missing a required key (version, network, sequence, "
                        "activation delay, governance or keys)");
  }
  util::Result<Policy> policy = Create(std::move(fields));
  if (!policy.ok()) return policy.status().WithPrefix("policy");
  // Invariant: the reader accepts only canonical forms (sorted lists, omitted empty lists), so
  // Create changed nothing and the bytes read are the encoding.
  CHECK(policy->encoding_.size() == reader.offset() - start);
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

namespace kinko::policy {

SignedPolicy SignedPolicy::Unsigned(Policy policy) { return SignedPolicy(std::move(policy), {}); }

util::Result<SignedPolicy> SignedPolicy::AddSignature(const crypto::Ed25519PrivateKey& key) const {
  const KeyId signer = Ed25519KeyId(key.public_key());
  const auto position = std::find_if(signatures_.begin(), signatures_.end(),
                                     [&](const Signature& s) { return SignerKeyId(s) >= signer; });
  if (position != signatures_.end() && SignerKeyId(*position) == signer) {
    return util::AlreadyExistsError("policy: key " + util::HexEncode(signer) + " signed already");
  }
  std::vector<Signature> signatures = signatures_;
  signatures.insert(signatures.begin() + (position - signatures_.begin()),
                    SignDigest(key, policy_.digest()));
  return SignedPolicy(policy_, std::move(signatures));
}

std::vector<uint8_t> SignedPolicy::Encode() const {
  CborWriter head;
  head.MapHeader(2);
  head.Uint(0);
  std::vector<uint8_t> out = head.bytes();
  out.insert(out.end(), policy_.Encode().begin(), policy_.Encode().end());
  CborWriter tail;
  tail.Uint(1);
  tail.ArrayHeader(signatures_.size());
  for (const Signature& signature : signatures_) EncodeSignature(signature, tail);
  out.insert(out.end(), tail.bytes().begin(), tail.bytes().end());
  return out;
}

util::Result<SignedPolicy> SignedPolicy::Decode(std::span<const uint8_t> bytes) {
  CborReader reader(bytes, "signed policy");
  if (util::Result<uint64_t> n = reader.MapHeader("signed policy", 2, 2); !n.ok()) {
    return n.status();
  }
  if (util::Result<uint64_t> k = reader.MapKey("signed policy key", -1, 0); !k.ok()) {
    return k.status();
  }
  util::Result<Policy> policy = Policy::DecodeFrom(reader);
  if (!policy.ok()) return policy.status();
  if (util::Result<uint64_t> k = reader.MapKey("signed policy key", 0, 1); !k.ok()) {
    return k.status();
  }
  util::Result<uint64_t> count = reader.ArrayHeader("signatures", 0, kMaxSignatures);
  if (!count.ok()) return count.status();
  std::vector<Signature> signatures;
  for (uint64_t i = 0; i < *count; ++i) {
    util::Result<Signature> signature = DecodeSignature(reader);
    if (!signature.ok()) return signature.status();
    // One signature per key, sorted by key id: one signed policy, one encoding.
    if (!signatures.empty() && SignerKeyId(*signature) <= SignerKeyId(signatures.back())) {
      return reader.Error("signatures", "not sorted by signer key id, or a key signed twice");
    }
    signatures.push_back(*signature);
  }
  if (util::Status end = reader.ExpectEnd(); !end.ok()) return end;
  for (size_t i = 0; i < signatures.size(); ++i) {
    if (util::Status verified =
            VerifySignature(signatures[i], SignerKeyId(signatures[i]), policy->digest(), "policy");
        !verified.ok()) {
      return verified.WithPrefix("signature " + std::to_string(i));
    }
  }
  return SignedPolicy(std::move(*policy), std::move(signatures));
}

}  // namespace kinko::policy

namespace kinko::policy {
namespace {

std::string AmountText(btc::Amount amount) {
  return amount.ToBtcString() + " BTC (" + std::to_string(amount.sats()) + " sat)";
}

std::string Joined(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& name : names) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

std::string DestinationText(const Destination& destination) {
  switch (destination.kind) {
    case DestinationKind::kAny:
      return "any address";
    case DestinationKind::kAddressBook:
      return "any address-book entry";
    case DestinationKind::kLabels:
      return "address-book entries labelled " + Joined(destination.labels);
  }
  return "unknown";
}

}  // namespace

std::string RenderPolicy(const Policy& policy) {
  const PolicyFields& f = policy.fields();
  std::string out;
  out += "network: " + std::string(btc::NetworkName(f.network)) + "\n";
  out += "sequence: " + std::to_string(f.sequence) + "\n";
  out += "activation delay: " + FormatDuration(f.activation_delay) + " (" +
         std::to_string(f.activation_delay) + " seconds)\n";
  out +=
      "predecessor: " + (f.predecessor ? GroupedHex(*f.predecessor) : "none (first policy)") + "\n";
  out += "digest: " + GroupedHex(policy.digest()) + "\n";
  out += "governance: " + std::to_string(f.governance.threshold) + " of " +
         std::to_string(f.governance.admins.size()) + " admins: " + Joined(f.governance.admins) +
         "\n";
  out += "keys:\n";
  for (const NamedKey& key : f.keys) out += "  " + key.label + ": " + GroupedHex(key.id) + "\n";
  if (!f.groups.empty()) {
    out += "groups:\n";
    for (const Group& group : f.groups)
      out += "  " + group.name + ": " + Joined(group.members) + "\n";
  }
  if (!f.address_book.empty()) {
    out += "address book:\n";
    for (const AddressBookEntry& entry : f.address_book) {
      out += "  " + entry.label + ": " + entry.address + "\n";
    }
  }
  const Limits& l = f.limits;
  out += "limits:";
  if (!l.per_transaction && l.windows.empty() && !l.fee_max && !l.fee_rate_max_sat_per_kvb &&
      !l.outputs_max) {
    out += " none";
  }
  out += "\n";
  if (l.per_transaction) out += "  per transaction: " + AmountText(*l.per_transaction) + "\n";
  for (const Window& window : l.windows) {
    out += "  per wallet within " + FormatDuration(window.duration) + ": " +
           AmountText(window.max) + "\n";
  }
  if (l.fee_max) out += "  fee max: " + AmountText(*l.fee_max) + "\n";
  if (l.fee_rate_max_sat_per_kvb) {
    out += "  fee rate max: " + FormatFeeRate(*l.fee_rate_max_sat_per_kvb) + "\n";
  }
  if (l.outputs_max) out += "  outputs max: " + std::to_string(*l.outputs_max) + "\n";
  out += "rules (the first that matches decides):";
  if (f.rules.empty()) out += " none: every intent is refused";
  out += "\n";
  for (size_t i = 0; i < f.rules.size(); ++i) {
    const Rule& rule = f.rules[i];
    out += "  " + std::to_string(i + 1) + ". " + rule.name + ": " +
           (rule.action == RuleAction::kAllow ? "allow" : "deny") + "\n";
    out += "     wallets: " + (rule.wallets.empty() ? "any" : Joined(rule.wallets)) + "\n";
    out += "     requesters: " + (rule.requesters.empty() ? "any" : Joined(rule.requesters)) + "\n";
    out += "     destination: " + DestinationText(rule.destination) + "\n";
    if (rule.amount_min) out += "     amount min: " + AmountText(*rule.amount_min) + "\n";
    if (rule.amount_max) out += "     amount max: " + AmountText(*rule.amount_max) + "\n";
    if (rule.outputs_max) out += "     outputs max: " + std::to_string(*rule.outputs_max) + "\n";
    if (rule.action == RuleAction::kAllow) {
      std::string approvals;
      for (const ApprovalRequirement& approval : rule.approvals) {
        if (!approvals.empty()) approvals += " and ";
        approvals += std::to_string(approval.threshold) + " of " + approval.group;
      }
      out += "     approvals: " + (approvals.empty() ? "none" : approvals) + "\n";
    }
  }
  return out;
}

}  // namespace kinko::policy
