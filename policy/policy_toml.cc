#include "policy/policy_toml.h"

#include <toml++/toml.h>

#include <algorithm>
#include <exception>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include "policy/intent.h"
#include "util/hex.h"

namespace kinko::policy {
namespace {

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return Lower(x) == Lower(y); });
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Splits "12.5 sat/vB" into the number ("12.5") and the unit ("sat/vB"), allowing one space
// between them. The number is the longest prefix of digits and points.
std::pair<std::string_view, std::string_view> SplitNumberAndUnit(std::string_view text) {
  size_t end = 0;
  while (end < text.size() && (IsDigit(text[end]) || text[end] == '.')) ++end;
  std::string_view number = text.substr(0, end);
  std::string_view unit = text.substr(end);
  if (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
  return {number, unit};
}

// Digits only, without a superfluous leading zero, at most `max_digits` digits.
std::optional<uint64_t> ParseWholeNumber(std::string_view digits, size_t max_digits) {
  if (digits.empty() || digits.size() > max_digits) return std::nullopt;
  if (!std::all_of(digits.begin(), digits.end(), IsDigit)) return std::nullopt;
  if (digits.size() > 1 && digits.front() == '0') return std::nullopt;
  uint64_t value = 0;
  for (char c : digits) value = value * 10 + static_cast<uint64_t>(c - '0');
  return value;
}

util::Status InvalidAmount(std::string_view text) {
  return util::InvalidArgumentError("amount '" + std::string(text) +
                                    "': expected a number and a unit, as in \"0.5 BTC\" or "
                                    "\"50000 sat\"");
}

}  // namespace

util::Result<btc::Amount> ParseAmountWithUnit(std::string_view text) {
  const auto [number, unit] = SplitNumberAndUnit(text);
  if (number.empty() || unit.empty()) return InvalidAmount(text);
  if (EqualsIgnoreCase(unit, "btc")) {
    util::Result<btc::Amount> amount = btc::Amount::ParseBtc(number);
    if (!amount.ok()) return amount.status().WithPrefix("amount '" + std::string(text) + "'");
    return amount;
  }
  if (EqualsIgnoreCase(unit, "sat") || EqualsIgnoreCase(unit, "sats")) {
    // 2'100'000'000'000'000 has 16 digits.
    const std::optional<uint64_t> sats = ParseWholeNumber(number, 16);
    if (!sats) return InvalidAmount(text);
    if (*sats > static_cast<uint64_t>(btc::kMaxMoney)) {
      return util::InvalidArgumentError("amount '" + std::string(text) + "': above 21 million BTC");
    }
    return btc::Amount::FromSats(static_cast<int64_t>(*sats));
  }
  return InvalidAmount(text);
}

util::Result<uint64_t> ParseDuration(std::string_view text) {
  const util::Status invalid = util::InvalidArgumentError(
      "duration '" + std::string(text) +
      "': expected a positive whole number and s, m, h, d or w, as in \"24h\"");
  if (text.size() < 2) return invalid;
  uint64_t unit = 0;
  switch (text.back()) {
    case 's':
      unit = 1;
      break;
    case 'm':
      unit = 60;
      break;
    case 'h':
      unit = 3600;
      break;
    case 'd':
      unit = 86400;
      break;
    case 'w':
      unit = 7 * 86400;
      break;
    default:
      return invalid;
  }
  // Ten years in seconds has 9 digits: 12 digits cannot overflow once multiplied by a week.
  const std::optional<uint64_t> count = ParseWholeNumber(text.substr(0, text.size() - 1), 12);
  if (!count || *count == 0) return invalid;
  if (*count * unit > kMaxDuration) {
    return util::InvalidArgumentError("duration '" + std::string(text) +
                                      "': longer than ten years");
  }
  return *count * unit;
}

util::Result<uint64_t> ParseFeeRate(std::string_view text) {
  const util::Status invalid = util::InvalidArgumentError(
      "fee rate '" + std::string(text) + "': expected a number and sat/vB, as in \"12.5 sat/vB\"");
  const auto [number, unit] = SplitNumberAndUnit(text);
  if (!EqualsIgnoreCase(unit, "sat/vb")) return invalid;
  const size_t point = number.find('.');
  const std::string_view whole = number.substr(0, point);
  std::string_view fraction;
  if (point != std::string_view::npos) {
    fraction = number.substr(point + 1);
    if (fraction.empty() || fraction.size() > 3) return invalid;
    if (!std::all_of(fraction.begin(), fraction.end(), IsDigit)) return invalid;
  }
  // 21 million BTC per kvB is 2.1e12 sat/vB: 13 digits.
  const std::optional<uint64_t> sat_per_vb = ParseWholeNumber(whole, 13);
  if (!sat_per_vb) return invalid;
  uint64_t thousandths = 0;
  for (size_t i = 0; i < 3; ++i) {
    thousandths =
        thousandths * 10 + (i < fraction.size() ? static_cast<uint64_t>(fraction[i] - '0') : 0);
  }
  const uint64_t sat_per_kvb = *sat_per_vb * 1000 + thousandths;
  if (sat_per_kvb > static_cast<uint64_t>(btc::kMaxMoney)) {
    return util::InvalidArgumentError("fee rate '" + std::string(text) +
                                      "': above 21 million BTC per kvB");
  }
  return sat_per_kvb;
}

std::string FormatDuration(uint64_t seconds) {
  struct Unit {
    uint64_t seconds;
    char suffix;
  };
  for (const Unit unit : {Unit{7 * 86400, 'w'}, Unit{86400, 'd'}, Unit{3600, 'h'}, Unit{60, 'm'}}) {
    if (seconds != 0 && seconds % unit.seconds == 0) {
      return std::to_string(seconds / unit.seconds) + unit.suffix;
    }
  }
  return std::to_string(seconds) + "s";
}

std::string FormatFeeRate(uint64_t sat_per_kvb) {
  std::string out = std::to_string(sat_per_kvb / 1000);
  const uint64_t thousandths = sat_per_kvb % 1000;
  if (thousandths != 0) {
    std::string fraction = std::to_string(thousandths);
    fraction.insert(0, 3 - fraction.size(), '0');
    while (fraction.back() == '0') fraction.pop_back();
    out += "." + fraction;
  }
  return out + " sat/vB";
}

namespace {

uint32_t LineOf(const toml::node& node) { return node.source().begin.line; }

// Reads a parsed TOML document into PolicyFields. Every error names the source, the line and
// the key path ("policy.toml:31: rule 'x': approvals[0].group: 'tresury' is not a group").
//
// It checks, with their lines, everything about the document that Policy::Create checks, so
// that an author is told where the mistake is; Create then checks it all again.
class Compiler final {
 public:
  explicit Compiler(std::string_view source) : source_(source) {}

  util::Result<PolicyFields> Compile(const toml::table& root);

 private:
  util::Status Error(uint32_t line, std::string_view path, std::string_view message) const {
    // The path and message quote the document: escape what a terminal would interpret.
    return util::InvalidArgumentError(std::string(source_) + ":" + std::to_string(line) + ": " +
                                      EscapeForMessage(path) + ": " + EscapeForMessage(message));
  }
  util::Status Error(const toml::node& node, std::string_view path,
                     std::string_view message) const {
    return Error(LineOf(node), path, message);
  }

  // Fails naming the first key of `table` that is not in `known`.
  util::Status CheckKeys(const toml::table& table, std::string_view path,
                         std::initializer_list<std::string_view> known) const;
  // The value of required key `key` of `table`, or an error at `table`'s line.
  util::Result<const toml::node*> Required(const toml::table& table, std::string_view path,
                                           std::string_view key) const;

  util::Result<std::string> String(const toml::node& node, std::string_view path) const;
  util::Result<int64_t> Integer(const toml::node& node, std::string_view path) const;
  util::Result<uint32_t> Count(const toml::node& node, std::string_view path) const;
  util::Result<const toml::table*> Table(const toml::node& node, std::string_view path) const;
  util::Result<const toml::array*> Array(const toml::node& node, std::string_view path) const;
  util::Result<std::string> Name(const toml::node& node, std::string_view path) const;
  util::Result<btc::Amount> AmountOf(const toml::node& node, std::string_view path) const;
  // An array of distinct strings, each checked by `check` (which returns an error message, or
  // an empty string when the item is fine).
  util::Result<std::vector<std::string>> Names(
      const toml::node& node, std::string_view path,
      const std::function<std::string(const std::string&)>& check) const;

  util::Status ReadKeys(const toml::node& node, PolicyFields& fields);
  util::Status ReadGroups(const toml::node& node, PolicyFields& fields);
  util::Status ReadGovernance(const toml::node& node, PolicyFields& fields);
  util::Status ReadAddressBook(const toml::node& node, PolicyFields& fields);
  util::Status ReadLimits(const toml::node& node, PolicyFields& fields);
  util::Status ReadRules(const toml::node& node, PolicyFields& fields);
  util::Result<Rule> ReadRule(const toml::table& table, size_t index);

  std::string_view source_;
  std::set<std::string> key_labels_;
  std::map<std::string, size_t> group_sizes_;
  std::set<std::string> book_labels_;
};

util::Status Compiler::CheckKeys(const toml::table& table, std::string_view path,
                                 std::initializer_list<std::string_view> known) const {
  for (const auto& [key, value] : table) {
    if (std::find(known.begin(), known.end(), key.str()) == known.end()) {
      const std::string full =
          path.empty() ? std::string(key.str()) : std::string(path) + "." + std::string(key.str());
      return Error(key.source().begin.line, full, "unknown key");
    }
  }
  return util::OkStatus();
}

util::Result<const toml::node*> Compiler::Required(const toml::table& table, std::string_view path,
                                                   std::string_view key) const {
  const toml::node* node = table.get(key);
  if (node == nullptr) {
    const std::string full =
        path.empty() ? std::string(key) : std::string(path) + "." + std::string(key);
    return Error(LineOf(table), full, "missing");
  }
  return node;
}

util::Result<std::string> Compiler::String(const toml::node& node, std::string_view path) const {
  const toml::value<std::string>* value = node.as_string();
  if (value == nullptr) return Error(node, path, "must be a string");
  return value->get();
}

util::Result<int64_t> Compiler::Integer(const toml::node& node, std::string_view path) const {
  const toml::value<int64_t>* value = node.as_integer();
  if (value == nullptr) return Error(node, path, "must be an integer");
  return value->get();
}

util::Result<uint32_t> Compiler::Count(const toml::node& node, std::string_view path) const {
  util::Result<int64_t> value = Integer(node, path);
  if (!value.ok()) return value.status();
  if (*value < 1 || *value > int64_t{UINT32_MAX}) {
    return Error(node, path, "must be between 1 and 4294967295");
  }
  return static_cast<uint32_t>(*value);
}

util::Result<const toml::table*> Compiler::Table(const toml::node& node,
                                                 std::string_view path) const {
  const toml::table* table = node.as_table();
  if (table == nullptr) return Error(node, path, "must be a table");
  return table;
}

util::Result<const toml::array*> Compiler::Array(const toml::node& node,
                                                 std::string_view path) const {
  const toml::array* array = node.as_array();
  if (array == nullptr) return Error(node, path, "must be an array");
  return array;
}

util::Result<std::string> Compiler::Name(const toml::node& node, std::string_view path) const {
  util::Result<std::string> name = String(node, path);
  if (!name.ok()) return name;
  if (!IsValidName(*name)) {
    return Error(node, path,
                 "'" + *name +
                     "' is not a valid name (1..64 characters of [A-Za-z0-9._ -], no leading or "
                     "trailing space)");
  }
  return name;
}

util::Result<btc::Amount> Compiler::AmountOf(const toml::node& node, std::string_view path) const {
  util::Result<std::string> text = String(node, path);
  if (!text.ok()) return text.status();
  util::Result<btc::Amount> amount = ParseAmountWithUnit(*text);
  if (!amount.ok()) return Error(node, path, amount.status().message());
  return amount;
}

util::Result<std::vector<std::string>> Compiler::Names(
    const toml::node& node, std::string_view path,
    const std::function<std::string(const std::string&)>& check) const {
  util::Result<const toml::array*> array = Array(node, path);
  if (!array.ok()) return array.status();
  std::vector<std::string> names;
  std::set<std::string> seen;
  for (size_t i = 0; i < (*array)->size(); ++i) {
    const toml::node& item = *(*array)->get(i);
    const std::string item_path = std::string(path) + "[" + std::to_string(i) + "]";
    util::Result<std::string> name = String(item, item_path);
    if (!name.ok()) return name.status();
    if (const std::string problem = check(*name); !problem.empty()) {
      return Error(item, item_path, problem);
    }
    if (!seen.insert(*name).second) {
      return Error(item, item_path, "'" + *name + "' is listed twice");
    }
    names.push_back(std::move(*name));
  }
  return names;
}

util::Result<PolicyFields> Compiler::Compile(const toml::table& root) {
  if (util::Status s =
          CheckKeys(root, "",
                    {"network", "sequence", "activation_delay", "predecessor", "governance", "keys",
                     "groups", "address_book", "limits", "rule"});
      !s.ok()) {
    return s;
  }
  PolicyFields fields;

  util::Result<const toml::node*> network = Required(root, "", "network");
  if (!network.ok()) return network.status();
  util::Result<std::string> network_name = String(**network, "network");
  if (!network_name.ok()) return network_name.status();
  static constexpr std::pair<std::string_view, btc::Network> kNetworks[] = {
      {"mainnet", btc::Network::kMainnet},
      {"testnet", btc::Network::kTestnet},
      {"signet", btc::Network::kSignet},
      {"regtest", btc::Network::kRegtest}};
  const auto known = std::find_if(std::begin(kNetworks), std::end(kNetworks),
                                  [&](const auto& n) { return n.first == *network_name; });
  if (known == std::end(kNetworks)) {
    return Error(**network, "network",
                 "'" + *network_name + "' is not mainnet, testnet, signet or regtest");
  }
  fields.network = known->second;

  util::Result<const toml::node*> sequence = Required(root, "", "sequence");
  if (!sequence.ok()) return sequence.status();
  util::Result<int64_t> sequence_value = Integer(**sequence, "sequence");
  if (!sequence_value.ok()) return sequence_value.status();
  if (*sequence_value < 1) return Error(**sequence, "sequence", "must be at least 1");
  fields.sequence = static_cast<uint64_t>(*sequence_value);

  util::Result<const toml::node*> delay = Required(root, "", "activation_delay");
  if (!delay.ok()) return delay.status();
  util::Result<std::string> delay_text = String(**delay, "activation_delay");
  if (!delay_text.ok()) return delay_text.status();
  util::Result<uint64_t> delay_seconds = ParseDuration(*delay_text);
  if (!delay_seconds.ok()) {
    return Error(**delay, "activation_delay", delay_seconds.status().message());
  }
  fields.activation_delay = *delay_seconds;

  if (const toml::node* predecessor = root.get("predecessor"); predecessor != nullptr) {
    util::Result<std::string> hex = String(*predecessor, "predecessor");
    if (!hex.ok()) return hex.status();
    util::Result<std::vector<uint8_t>> bytes = util::HexDecodeExact(*hex, 32);
    if (!bytes.ok() || util::HexEncode(*bytes) != *hex) {
      return Error(*predecessor, "predecessor", "must be 64 lowercase hex characters");
    }
    Digest digest{};
    std::copy(bytes->begin(), bytes->end(), digest.begin());
    fields.predecessor = digest;
  }

  util::Result<const toml::node*> keys = Required(root, "", "keys");
  if (!keys.ok()) return keys.status();
  if (util::Status s = ReadKeys(**keys, fields); !s.ok()) return s;
  if (const toml::node* groups = root.get("groups"); groups != nullptr) {
    if (util::Status s = ReadGroups(*groups, fields); !s.ok()) return s;
  }
  util::Result<const toml::node*> governance = Required(root, "", "governance");
  if (!governance.ok()) return governance.status();
  if (util::Status s = ReadGovernance(**governance, fields); !s.ok()) return s;
  if (const toml::node* book = root.get("address_book"); book != nullptr) {
    if (util::Status s = ReadAddressBook(*book, fields); !s.ok()) return s;
  }
  if (const toml::node* limits = root.get("limits"); limits != nullptr) {
    if (util::Status s = ReadLimits(*limits, fields); !s.ok()) return s;
  }
  if (const toml::node* rules = root.get("rule"); rules != nullptr) {
    if (util::Status s = ReadRules(*rules, fields); !s.ok()) return s;
  }
  return fields;
}

util::Status Compiler::ReadKeys(const toml::node& node, PolicyFields& fields) {
  util::Result<const toml::table*> table = Table(node, "keys");
  if (!table.ok()) return table.status();
  if ((*table)->empty()) return Error(node, "keys", "must name at least one key");
  if ((*table)->size() > kMaxKeys) {
    return Error(node, "keys", "more than " + std::to_string(kMaxKeys) + " keys");
  }
  std::map<KeyId, std::string> labels_by_id;
  for (const auto& [key, value] : **table) {
    const std::string label(key.str());
    const std::string path = "keys." + label;
    if (!IsValidName(label)) {
      return Error(key.source().begin.line, path,
                   "'" + label +
                       "' is not a valid name (1..64 characters of [A-Za-z0-9._ -], no leading or "
                       "trailing space)");
    }
    util::Result<std::string> hex = String(value, path);
    if (!hex.ok()) return hex.status();
    util::Result<std::vector<uint8_t>> bytes = util::HexDecodeExact(*hex, sizeof(KeyId));
    if (!bytes.ok() || util::HexEncode(*bytes) != *hex) {
      return Error(value, path, "must be a key id: 64 lowercase hex characters");
    }
    KeyId id{};
    std::copy(bytes->begin(), bytes->end(), id.begin());
    if (const auto [it, inserted] = labels_by_id.emplace(id, label); !inserted) {
      return Error(value, path, "the same key id as '" + it->second + "'");
    }
    key_labels_.insert(label);
    fields.keys.push_back(NamedKey{.label = label, .id = id});
  }
  return util::OkStatus();
}

util::Status Compiler::ReadGroups(const toml::node& node, PolicyFields& fields) {
  util::Result<const toml::table*> table = Table(node, "groups");
  if (!table.ok()) return table.status();
  if ((*table)->size() > kMaxGroups) {
    return Error(node, "groups", "more than " + std::to_string(kMaxGroups) + " groups");
  }
  for (const auto& [key, value] : **table) {
    const std::string name(key.str());
    const std::string path = "groups." + name;
    if (!IsValidName(name)) {
      return Error(key.source().begin.line, path,
                   "'" + name +
                       "' is not a valid name (1..64 characters of [A-Za-z0-9._ -], no leading or "
                       "trailing space)");
    }
    if (key_labels_.contains(name)) {
      return Error(key.source().begin.line, path, "'" + name + "' is also a key label");
    }
    util::Result<std::vector<std::string>> members =
        Names(value, path, [&](const std::string& member) {
          return key_labels_.contains(member) ? "" : "'" + member + "' is not a key";
        });
    if (!members.ok()) return members.status();
    if (members->empty()) return Error(value, path, "has no members");
    group_sizes_[name] = members->size();
    fields.groups.push_back(Group{.name = name, .members = std::move(*members)});
  }
  return util::OkStatus();
}

util::Status Compiler::ReadGovernance(const toml::node& node, PolicyFields& fields) {
  util::Result<const toml::table*> table = Table(node, "governance");
  if (!table.ok()) return table.status();
  if (util::Status s = CheckKeys(**table, "governance", {"admins", "threshold"}); !s.ok()) {
    return s;
  }
  util::Result<const toml::node*> admins_node = Required(**table, "governance", "admins");
  if (!admins_node.ok()) return admins_node.status();
  util::Result<std::vector<std::string>> admins =
      Names(**admins_node, "governance.admins", [&](const std::string& admin) {
        return key_labels_.contains(admin) ? "" : "'" + admin + "' is not a key";
      });
  if (!admins.ok()) return admins.status();
  if (admins->empty()) return Error(**admins_node, "governance.admins", "names no admin");
  util::Result<const toml::node*> threshold_node = Required(**table, "governance", "threshold");
  if (!threshold_node.ok()) return threshold_node.status();
  util::Result<int64_t> threshold = Integer(**threshold_node, "governance.threshold");
  if (!threshold.ok()) return threshold.status();
  if (*threshold < 1 || static_cast<uint64_t>(*threshold) > admins->size()) {
    return Error(
        **threshold_node, "governance.threshold",
        "must be between 1 and the number of admins (" + std::to_string(admins->size()) + ")");
  }
  fields.governance =
      Governance{.admins = std::move(*admins), .threshold = static_cast<uint32_t>(*threshold)};
  return util::OkStatus();
}

util::Status Compiler::ReadAddressBook(const toml::node& node, PolicyFields& fields) {
  util::Result<const toml::array*> array = Array(node, "address_book");
  if (!array.ok()) return array.status();
  if ((*array)->size() > kMaxAddressBookEntries) {
    return Error(node, "address_book",
                 "more than " + std::to_string(kMaxAddressBookEntries) + " entries");
  }
  std::map<std::vector<uint8_t>, size_t> index_by_script;
  for (size_t i = 0; i < (*array)->size(); ++i) {
    const toml::node& item = *(*array)->get(i);
    const std::string path = "address_book[" + std::to_string(i) + "]";
    util::Result<const toml::table*> entry = Table(item, path);
    if (!entry.ok()) return entry.status();
    if (util::Status s = CheckKeys(**entry, path, {"label", "address"}); !s.ok()) return s;
    util::Result<const toml::node*> label_node = Required(**entry, path, "label");
    if (!label_node.ok()) return label_node.status();
    util::Result<std::string> label = Name(**label_node, path + ".label");
    if (!label.ok()) return label.status();
    util::Result<const toml::node*> address_node = Required(**entry, path, "address");
    if (!address_node.ok()) return address_node.status();
    const std::string address_path = path + ".address";
    util::Result<std::string> address = String(**address_node, address_path);
    if (!address.ok()) return address.status();
    util::Result<btc::DecodedAddress> decoded = btc::DecodeAddress(*address, fields.network);
    if (!decoded.ok()) {
      return Error(**address_node, address_path,
                   "'" + *address + "' is not a " + std::string(btc::NetworkName(fields.network)) +
                       " address: " + decoded.status().message());
    }
    util::Result<std::string> canonical =
        btc::EncodeAddress(decoded->script_pubkey, fields.network);
    if (!canonical.ok() || *canonical != *address) {
      return Error(**address_node, address_path,
                   "'" + *address + "' is not in canonical form (segwit addresses are lowercase)");
    }
    if (const auto [it, inserted] = index_by_script.emplace(decoded->script_pubkey.bytes(), i);
        !inserted) {
      return Error(
          **address_node, address_path,
          "'" + *address + "' is already address_book[" + std::to_string(it->second) + "]");
    }
    book_labels_.insert(*label);
    fields.address_book.push_back(
        AddressBookEntry{.label = std::move(*label), .address = std::move(*address)});
  }
  return util::OkStatus();
}

util::Status Compiler::ReadLimits(const toml::node& node, PolicyFields& fields) {
  util::Result<const toml::table*> table = Table(node, "limits");
  if (!table.ok()) return table.status();
  if (util::Status s =
          CheckKeys(**table, "limits",
                    {"per_transaction", "windows", "fee_max", "fee_rate_max", "outputs_max"});
      !s.ok()) {
    return s;
  }
  Limits& limits = fields.limits;
  if (const toml::node* value = (*table)->get("per_transaction"); value != nullptr) {
    util::Result<btc::Amount> amount = AmountOf(*value, "limits.per_transaction");
    if (!amount.ok()) return amount.status();
    limits.per_transaction = *amount;
  }
  if (const toml::node* value = (*table)->get("windows"); value != nullptr) {
    util::Result<const toml::table*> windows = Table(*value, "limits.windows");
    if (!windows.ok()) return windows.status();
    if ((*windows)->size() > kMaxWindows) {
      return Error(*value, "limits.windows",
                   "more than " + std::to_string(kMaxWindows) + " windows");
    }
    std::map<uint64_t, std::string> names_by_duration;
    for (const auto& [key, max] : **windows) {
      const std::string name(key.str());
      const std::string path = "limits.windows." + name;
      util::Result<uint64_t> duration = ParseDuration(name);
      if (!duration.ok()) return Error(key.source().begin.line, path, duration.status().message());
      if (const auto [it, inserted] = names_by_duration.emplace(*duration, name); !inserted) {
        return Error(key.source().begin.line, path, "the same duration as '" + it->second + "'");
      }
      util::Result<btc::Amount> amount = AmountOf(max, path);
      if (!amount.ok()) return amount.status();
      limits.windows.push_back(Window{.duration = *duration, .max = *amount});
    }
  }
  if (const toml::node* value = (*table)->get("fee_max"); value != nullptr) {
    util::Result<btc::Amount> amount = AmountOf(*value, "limits.fee_max");
    if (!amount.ok()) return amount.status();
    limits.fee_max = *amount;
  }
  if (const toml::node* value = (*table)->get("fee_rate_max"); value != nullptr) {
    util::Result<std::string> text = String(*value, "limits.fee_rate_max");
    if (!text.ok()) return text.status();
    util::Result<uint64_t> rate = ParseFeeRate(*text);
    if (!rate.ok()) return Error(*value, "limits.fee_rate_max", rate.status().message());
    limits.fee_rate_max_sat_per_kvb = *rate;
  }
  if (const toml::node* value = (*table)->get("outputs_max"); value != nullptr) {
    util::Result<uint32_t> outputs = Count(*value, "limits.outputs_max");
    if (!outputs.ok()) return outputs.status();
    limits.outputs_max = *outputs;
  }
  return util::OkStatus();
}

util::Status Compiler::ReadRules(const toml::node& node, PolicyFields& fields) {
  util::Result<const toml::array*> array = Array(node, "rule");
  if (!array.ok()) return array.status();
  if ((*array)->size() > kMaxRules) {
    return Error(node, "rule", "more than " + std::to_string(kMaxRules) + " rules");
  }
  std::map<std::string, size_t> index_by_name;
  for (size_t i = 0; i < (*array)->size(); ++i) {
    const toml::node& item = *(*array)->get(i);
    util::Result<const toml::table*> table = Table(item, "rule[" + std::to_string(i) + "]");
    if (!table.ok()) return table.status();
    util::Result<Rule> rule = ReadRule(**table, i);
    if (!rule.ok()) return rule.status();
    if (const auto [it, inserted] = index_by_name.emplace(rule->name, i); !inserted) {
      return Error(*(*table)->get("name"), "rule '" + rule->name + "'",
                   "the name of rule " + std::to_string(it->second + 1) + " too");
    }
    fields.rules.push_back(std::move(*rule));
  }
  return util::OkStatus();
}

util::Result<Rule> Compiler::ReadRule(const toml::table& table, size_t index) {
  std::string path = "rule[" + std::to_string(index) + "]";
  if (util::Status s = CheckKeys(table, path,
                                 {"name", "wallets", "requesters", "destination", "amount_min",
                                  "amount_max", "outputs_max", "action", "approvals"});
      !s.ok()) {
    return s;
  }
  Rule rule;
  util::Result<const toml::node*> name_node = Required(table, path, "name");
  if (!name_node.ok()) return name_node.status();
  util::Result<std::string> name = Name(**name_node, path + ".name");
  if (!name.ok()) return name.status();
  rule.name = std::move(*name);
  path = "rule '" + rule.name + "': ";

  if (const toml::node* value = table.get("wallets"); value != nullptr) {
    util::Result<std::vector<std::string>> wallets =
        Names(*value, path + "wallets", [](const std::string& wallet) -> std::string {
          return IsValidWalletId(wallet)
                     ? ""
                     : "'" + wallet + "' is not a wallet id (1..64 characters of [A-Za-z0-9._:-])";
        });
    if (!wallets.ok()) return wallets.status();
    if (wallets->size() > kMaxRuleWallets) {
      return Error(*value, path + "wallets",
                   "more than " + std::to_string(kMaxRuleWallets) + " wallets");
    }
    rule.wallets = std::move(*wallets);
  }
  if (const toml::node* value = table.get("requesters"); value != nullptr) {
    util::Result<std::vector<std::string>> requesters =
        Names(*value, path + "requesters", [&](const std::string& requester) -> std::string {
          return key_labels_.contains(requester) || group_sizes_.contains(requester)
                     ? ""
                     : "'" + requester + "' is not a key or group";
        });
    if (!requesters.ok()) return requesters.status();
    rule.requesters = std::move(*requesters);
  }
  if (const toml::node* value = table.get("destination"); value != nullptr) {
    const std::string where = path + "destination";
    if (const toml::value<std::string>* kind = value->as_string(); kind != nullptr) {
      if (kind->get() == "any") {
        rule.destination.kind = DestinationKind::kAny;
      } else if (kind->get() == "address_book") {
        rule.destination.kind = DestinationKind::kAddressBook;
      } else {
        return Error(*value, where,
                     "'" + kind->get() +
                         "' is not \"any\", \"address_book\" or a list of address-book labels");
      }
    } else if (value->is_array()) {
      util::Result<std::vector<std::string>> labels =
          Names(*value, where, [&](const std::string& label) -> std::string {
            return book_labels_.contains(label) ? ""
                                                : "'" + label + "' is not an address-book label";
          });
      if (!labels.ok()) return labels.status();
      if (labels->empty()) return Error(*value, where, "the list of labels is empty");
      rule.destination =
          Destination{.kind = DestinationKind::kLabels, .labels = std::move(*labels)};
    } else {
      return Error(*value, where,
                   "must be \"any\", \"address_book\" or a list of address-book labels");
    }
  }
  if (const toml::node* value = table.get("amount_min"); value != nullptr) {
    util::Result<btc::Amount> amount = AmountOf(*value, path + "amount_min");
    if (!amount.ok()) return amount.status();
    rule.amount_min = *amount;
  }
  if (const toml::node* value = table.get("amount_max"); value != nullptr) {
    util::Result<btc::Amount> amount = AmountOf(*value, path + "amount_max");
    if (!amount.ok()) return amount.status();
    rule.amount_max = *amount;
    if (rule.amount_min && *rule.amount_min > *rule.amount_max) {
      return Error(*value, path + "amount_max", "below amount_min");
    }
  }
  if (const toml::node* value = table.get("outputs_max"); value != nullptr) {
    util::Result<uint32_t> outputs = Count(*value, path + "outputs_max");
    if (!outputs.ok()) return outputs.status();
    rule.outputs_max = *outputs;
  }
  if (const toml::node* value = table.get("action"); value != nullptr) {
    util::Result<std::string> action = String(*value, path + "action");
    if (!action.ok()) return action.status();
    if (*action == "allow") {
      rule.action = RuleAction::kAllow;
    } else if (*action == "deny") {
      rule.action = RuleAction::kDeny;
    } else {
      return Error(*value, path + "action", "'" + *action + "' is not \"allow\" or \"deny\"");
    }
  }

  const toml::node* approvals = table.get("approvals");
  if (rule.action == RuleAction::kDeny) {
    if (approvals != nullptr) {
      return Error(*approvals, path + "approvals", "a deny rule has no approvals");
    }
    return rule;
  }
  if (approvals == nullptr) {
    return Error(LineOf(table), path + "approvals",
                 "missing: an allow rule must list its approvals (write [] for none)");
  }
  util::Result<const toml::array*> array = Array(*approvals, path + "approvals");
  if (!array.ok()) return array.status();
  for (size_t i = 0; i < (*array)->size(); ++i) {
    const toml::node& item = *(*array)->get(i);
    const std::string item_path = path + "approvals[" + std::to_string(i) + "]";
    util::Result<const toml::table*> requirement = Table(item, item_path);
    if (!requirement.ok()) return requirement.status();
    if (util::Status s = CheckKeys(**requirement, item_path, {"group", "threshold"}); !s.ok()) {
      return s;
    }
    util::Result<const toml::node*> group_node = Required(**requirement, item_path, "group");
    if (!group_node.ok()) return group_node.status();
    util::Result<std::string> group = String(**group_node, item_path + ".group");
    if (!group.ok()) return group.status();
    const auto size = group_sizes_.find(*group);
    if (size == group_sizes_.end()) {
      return Error(**group_node, item_path + ".group", "'" + *group + "' is not a group");
    }
    for (const ApprovalRequirement& earlier : rule.approvals) {
      if (earlier.group == *group) {
        return Error(**group_node, item_path + ".group", "'" + *group + "' is listed twice");
      }
    }
    util::Result<const toml::node*> threshold_node =
        Required(**requirement, item_path, "threshold");
    if (!threshold_node.ok()) return threshold_node.status();
    util::Result<int64_t> threshold = Integer(**threshold_node, item_path + ".threshold");
    if (!threshold.ok()) return threshold.status();
    if (*threshold < 1 || static_cast<uint64_t>(*threshold) > size->second) {
      return Error(**threshold_node, item_path + ".threshold",
                   "must be between 1 and the size of group '" + *group + "' (" +
                       std::to_string(size->second) + ")");
    }
    rule.approvals.push_back(ApprovalRequirement{.group = std::move(*group),
                                                 .threshold = static_cast<uint32_t>(*threshold)});
  }
  return rule;
}

}  // namespace

util::Result<Policy> CompilePolicyToml(std::string_view text, std::string_view source) {
  // toml++ reports syntax errors by throwing; nothing thrown may leave this function.
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& error) {
    const toml::source_position& at = error.source().begin;
    return util::InvalidArgumentError(std::string(source) + ":" + std::to_string(at.line) + ":" +
                                      std::to_string(at.column) + ": " +
                                      EscapeForMessage(error.description()));
  } catch (const std::exception& error) {
    return util::InvalidArgumentError(std::string(source) + ": cannot parse: " + error.what());
  }
  Compiler compiler(source);
  util::Result<PolicyFields> fields = compiler.Compile(root);
  if (!fields.ok()) return fields.status();
  util::Result<Policy> policy = Policy::Create(std::move(*fields));
  // The compiler checked everything Create checks, with lines; this is the backstop.
  if (!policy.ok()) return policy.status().WithPrefix(std::string(source) + ":1");
  return policy;
}

}  // namespace kinko::policy
