#include "policy/governance.h"

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "btc/address.h"
#include "btc/script.h"

namespace kinko::policy {
namespace {

// Keys by label. "mallory" is a real key that the base policy does not name.
const std::vector<std::string> kLabels = {"admin-1", "admin-2", "admin-3", "auditor", "bob",
                                          "carol",   "dave",    "erin",    "ops-bot", "mallory"};

const crypto::Ed25519PrivateKey& Key(const std::string& label) {
  static const auto* keys = [] {
    auto* map = new std::map<std::string, crypto::Ed25519PrivateKey>();
    for (size_t i = 0; i < kLabels.size(); ++i) {
      map->emplace(kLabels[i], crypto::Ed25519PrivateKey::FromSeed(
                                   crypto::SecretBytes::FromSpan(
                                       std::vector<uint8_t>(32, static_cast<uint8_t>(0x61 + i))))
                                   .value());
    }
    return map;
  }();
  return keys->at(label);
}

KeyId Id(const std::string& label) { return Ed25519KeyId(Key(label).public_key()); }

btc::Amount Btc(std::string_view text) { return btc::Amount::ParseBtc(text).value(); }

// A P2WPKH address on `network` whose 20-byte hash is `n` repeated.
std::string Address(uint8_t n, btc::Network network = btc::Network::kMainnet) {
  btc::Script script;
  script.PushOpcode(0x00);
  script.PushData(std::vector<uint8_t>(20, n));
  return btc::EncodeAddress(script, network).value();
}

Rule MakeRule(std::string name, RuleAction action = RuleAction::kAllow) {
  Rule rule;
  rule.name = std::move(name);
  rule.action = action;
  return rule;
}

// The base policy:
//   admins admin-1, admin-2, admin-3, threshold 2; activation delay 1 day
//   groups ops {ops-bot, erin}, treasury {bob, carol, dave}, auditors {auditor}
//   book   cold: Address(3); partner: Address(4)
//   limits 10 BTC per transaction; 100 BTC per day and 20 BTC per hour per wallet; fee_max
//          0.01 BTC; fee_rate_max 100000 sat/kvB; 50 outputs
//   rules  0 "small withdrawals": hot, ops, <= 0.5 BTC, allow without approval
//          1 "withdrawals":       hot, ops, <= 5 BTC, allow with 1 of treasury
//          2 "to cold storage":   labels cold, allow with 2 of treasury and 1 of auditors
//          3 "nothing else":      deny
PolicyFields BaseFields() {
  PolicyFields f;
  f.network = btc::Network::kMainnet;
  f.sequence = 5;
  f.activation_delay = 86400;
  f.governance = {.admins = {"admin-1", "admin-2", "admin-3"}, .threshold = 2};
  for (const std::string& label : kLabels) {
    if (label != "mallory") f.keys.push_back({.label = label, .id = Id(label)});
  }
  f.groups = {{.name = "auditors", .members = {"auditor"}},
              {.name = "ops", .members = {"erin", "ops-bot"}},
              {.name = "treasury", .members = {"bob", "carol", "dave"}}};
  f.address_book = {{.label = "cold", .address = Address(3)},
                    {.label = "partner", .address = Address(4)}};
  f.limits.per_transaction = Btc("10");
  f.limits.windows = {{.duration = 3600, .max = Btc("20")}, {.duration = 86400, .max = Btc("100")}};
  f.limits.fee_max = Btc("0.01");
  f.limits.fee_rate_max_sat_per_kvb = 100000;
  f.limits.outputs_max = 50;
  Rule small = MakeRule("small withdrawals");
  small.wallets = {"hot"};
  small.requesters = {"ops"};
  small.amount_max = Btc("0.5");
  Rule withdrawals = MakeRule("withdrawals");
  withdrawals.wallets = {"hot"};
  withdrawals.requesters = {"ops"};
  withdrawals.amount_max = Btc("5");
  withdrawals.approvals = {{.group = "treasury", .threshold = 1}};
  Rule cold = MakeRule("to cold storage");
  cold.destination = {.kind = DestinationKind::kLabels, .labels = {"cold"}};
  cold.approvals = {{.group = "treasury", .threshold = 2}, {.group = "auditors", .threshold = 1}};
  f.rules = {small, withdrawals, cold, MakeRule("nothing else", RuleAction::kDeny)};
  return f;
}

Policy MakePolicy(PolicyFields fields) {
  util::Result<Policy> policy = Policy::Create(std::move(fields));
  EXPECT_TRUE(policy.ok()) << policy.status();
  return std::move(policy).value();
}

Rule& RuleNamed(PolicyFields& f, std::string_view name) {
  for (Rule& rule : f.rules) {
    if (rule.name == name) return rule;
  }
  ADD_FAILURE() << "no rule " << name;
  return f.rules.front();
}

void EraseRule(PolicyFields& f, std::string_view name) {
  std::erase_if(f.rules, [&](const Rule& r) { return r.name == name; });
}

void MoveRule(PolicyFields& f, std::string_view name, size_t to) {
  const Rule rule = RuleNamed(f, name);
  EraseRule(f, name);
  f.rules.insert(f.rules.begin() + static_cast<std::ptrdiff_t>(to), rule);
}

Group& GroupNamed(PolicyFields& f, std::string_view name) {
  for (Group& g : f.groups) {
    if (g.name == name) return g;
  }
  ADD_FAILURE() << "no group " << name;
  return f.groups.front();
}

std::string Describe(const std::vector<Change>& changes) {
  std::string out;
  for (const Change& c : changes) {
    out += "  " + c.path + ": [" + c.before + "] -> [" + c.after + "] " +
           std::string(ChangeEffectName(c.effect)) + " (" + c.reason + ")\n";
  }
  return out;
}

TEST(CompareTest, IdenticalPoliciesHaveNoChanges) {
  const Policy p = MakePolicy(BaseFields());
  EXPECT_TRUE(Compare(p, p).empty());
}

TEST(CompareTest, EffectNames) {
  EXPECT_EQ(ChangeEffectName(ChangeEffect::kTightens), "tightens");
  EXPECT_EQ(ChangeEffectName(ChangeEffect::kLoosens), "loosens");
  EXPECT_EQ(ChangeEffectName(ChangeEffect::kNeutral), "neutral");
}

// One case per classification. `setup` changes both policies (the starting point), `change`
// only the later one. The diff must hold a line with `path` and `effect`, and Loosens() must be
// `loosens`.
struct CompareCase {
  std::string name;
  std::function<void(PolicyFields&)> setup;
  std::function<void(PolicyFields&)> change;
  std::string path;
  ChangeEffect effect;
  bool loosens;
};

void NoSetup(PolicyFields&) {}

std::vector<CompareCase> CompareCases() {
  using E = ChangeEffect;
  const auto deny_partner_first = [](PolicyFields& f) {
    Rule deny = MakeRule("no partner", RuleAction::kDeny);
    deny.destination = {.kind = DestinationKind::kLabels, .labels = {"partner"}};
    f.rules.insert(f.rules.begin(), deny);
  };
  std::vector<CompareCase> cases;
  // Header and governance.
  cases.push_back(CompareCase{"sequence and predecessor are neutral", NoSetup,
                              [](PolicyFields& f) {
                                f.sequence = 6;
                                f.predecessor = Digest{};
                              },
                              "sequence", E::kNeutral, false});
  cases.push_back(CompareCase{"another network loosens", NoSetup,
                              [](PolicyFields& f) {
                                f.network = btc::Network::kTestnet;
                                f.address_book = {{.label = "cold",
                                                   .address = Address(3, btc::Network::kTestnet)}};
                              },
                              "network", E::kLoosens, true});
  cases.push_back(CompareCase{"longer activation delay tightens", NoSetup,
                              [](PolicyFields& f) { f.activation_delay = 2 * 86400; },
                              "activation_delay", E::kTightens, false});
  cases.push_back(CompareCase{"shorter activation delay loosens", NoSetup,
                              [](PolicyFields& f) { f.activation_delay = 3600; },
                              "activation_delay", E::kLoosens, true});
  cases.push_back(CompareCase{"higher governance threshold tightens", NoSetup,
                              [](PolicyFields& f) { f.governance.threshold = 3; },
                              "governance.threshold", E::kTightens, false});
  cases.push_back(CompareCase{"lower governance threshold loosens", NoSetup,
                              [](PolicyFields& f) { f.governance.threshold = 1; },
                              "governance.threshold", E::kLoosens, true});
  cases.push_back(CompareCase{"fewer admins tightens", NoSetup,
                              [](PolicyFields& f) {
                                f.governance.admins = {"admin-1", "admin-2"};
                              },
                              "governance.admins", E::kTightens, false});
  cases.push_back(CompareCase{"a new admin loosens", NoSetup,
                              [](PolicyFields& f) { f.governance.admins.push_back("dave"); },
                              "governance.admins", E::kLoosens, true});
  cases.push_back(CompareCase{"an admin label pointing to another key loosens", NoSetup,
                              [](PolicyFields& f) {
                                for (NamedKey& k : f.keys) {
                                  if (k.label == "admin-3") k.id = Id("mallory");
                                }
                              },
                              "governance.admins", E::kLoosens, true});
  // Keys.
  cases.push_back(CompareCase{"a renamed key is neutral", NoSetup,
                              [](PolicyFields& f) {
                                for (NamedKey& k : f.keys) {
                                  if (k.label == "auditor") k.label = "auditor-1";
                                }
                                GroupNamed(f, "auditors").members = {"auditor-1"};
                              },
                              "key 'auditor'", E::kNeutral, false});
  cases.push_back(CompareCase{
      "a new key loosens", NoSetup,
      [](PolicyFields& f) { f.keys.push_back({.label = "mallory", .id = Id("mallory")}); },
      "key 'mallory'", E::kLoosens, true});
  cases.push_back(CompareCase{"a label pointing to another key loosens", NoSetup,
                              [](PolicyFields& f) {
                                for (NamedKey& k : f.keys) {
                                  if (k.label == "auditor") k.id = Id("mallory");
                                }
                              },
                              "key 'auditor'", E::kLoosens, true});
  cases.push_back(CompareCase{"a removed key tightens", NoSetup,
                              [](PolicyFields& f) {
                                std::erase_if(f.keys,
                                              [](const NamedKey& k) { return k.label == "dave"; });
                                GroupNamed(f, "treasury").members = {"bob", "carol"};
                              },
                              "key 'dave'", E::kTightens, false});
  cases.push_back(CompareCase{"a removed key leaves its approval group tightened", NoSetup,
                              [](PolicyFields& f) {
                                std::erase_if(f.keys,
                                              [](const NamedKey& k) { return k.label == "dave"; });
                                GroupNamed(f, "treasury").members = {"bob", "carol"};
                              },
                              "group 'treasury'", E::kTightens, false});
  // Groups.
  cases.push_back(
      CompareCase{"another approver loosens", NoSetup,
                  [](PolicyFields& f) { GroupNamed(f, "treasury").members.push_back("erin"); },
                  "group 'treasury'", E::kLoosens, true});
  cases.push_back(CompareCase{"an approver leaving a group loosens: its reject no longer refuses",
                              NoSetup,
                              [](PolicyFields& f) {
                                GroupNamed(f, "treasury").members = {"bob", "carol"};
                              },
                              "group 'treasury'", E::kLoosens, true});
  cases.push_back(
      CompareCase{"another requester loosens", NoSetup,
                  [](PolicyFields& f) { GroupNamed(f, "ops").members.push_back("bob"); },
                  "group 'ops'", E::kLoosens, true});
  cases.push_back(
      CompareCase{"a requester leaving a group whose intents fall to stricter rules tightens",
                  NoSetup, [](PolicyFields& f) { GroupNamed(f, "ops").members = {"ops-bot"}; },
                  "group 'ops'", E::kTightens, false});
  cases.push_back(
      CompareCase{"a requester leaving a deny rule's group loosens",
                  [](PolicyFields& f) {
                    f.groups.push_back({.name = "suspended", .members = {"erin"}});
                    Rule deny = MakeRule("suspended requesters", RuleAction::kDeny);
                    deny.requesters = {"suspended"};
                    f.rules.insert(f.rules.begin(), deny);
                  },
                  [](PolicyFields& f) { GroupNamed(f, "suspended").members = {"ops-bot"}; },
                  "group 'suspended'", E::kLoosens, true});
  cases.push_back(CompareCase{
      "an unused group is neutral",
      [](PolicyFields& f) { f.groups.push_back({.name = "spare", .members = {"bob"}}); },
      [](PolicyFields& f) {
        GroupNamed(f, "spare").members = {"bob", "erin"};
      },
      "group 'spare'", E::kNeutral, false});
  // Address book.
  cases.push_back(CompareCase{"a new destination loosens", NoSetup,
                              [](PolicyFields& f) {
                                f.address_book.push_back(
                                    {.label = "partner", .address = Address(5)});
                              },
                              "address_book 'partner' " + Address(5), E::kLoosens, true});
  cases.push_back(CompareCase{"a removed destination tightens", NoSetup,
                              [](PolicyFields& f) { f.address_book.pop_back(); },
                              "address_book 'partner' " + Address(4), E::kTightens, false});
  cases.push_back(CompareCase{"a removed destination that a deny rule blocked loosens",
                              [](PolicyFields& f) {
                                Rule deny = MakeRule("block the book", RuleAction::kDeny);
                                deny.destination = {.kind = DestinationKind::kAddressBook,
                                                    .labels = {}};
                                f.rules.insert(f.rules.begin(), deny);
                              },
                              [](PolicyFields& f) { f.address_book.pop_back(); },
                              "address_book 'partner' " + Address(4), E::kLoosens, true});
  cases.push_back(CompareCase{"a new label on a destination loosens", NoSetup,
                              [](PolicyFields& f) { f.address_book[1].label = "cold"; },
                              "address_book 'partner' " + Address(4), E::kLoosens, true});
  // Limits.
  cases.push_back(CompareCase{"lower per-transaction limit tightens", NoSetup,
                              [](PolicyFields& f) { f.limits.per_transaction = Btc("9"); },
                              "limits.per_transaction", E::kTightens, false});
  cases.push_back(CompareCase{"higher per-transaction limit loosens", NoSetup,
                              [](PolicyFields& f) { f.limits.per_transaction = Btc("11"); },
                              "limits.per_transaction", E::kLoosens, true});
  cases.push_back(CompareCase{"removed per-transaction limit loosens", NoSetup,
                              [](PolicyFields& f) { f.limits.per_transaction.reset(); },
                              "limits.per_transaction", E::kLoosens, true});
  cases.push_back(CompareCase{"new per-transaction limit tightens",
                              [](PolicyFields& f) { f.limits.per_transaction.reset(); },
                              [](PolicyFields& f) { f.limits.per_transaction = Btc("1"); },
                              "limits.per_transaction", E::kTightens, false});
  cases.push_back(CompareCase{"lower window tightens", NoSetup,
                              [](PolicyFields& f) { f.limits.windows[1].max = Btc("50"); },
                              "limits.window 1d", E::kTightens, false});
  cases.push_back(CompareCase{"higher window loosens", NoSetup,
                              [](PolicyFields& f) { f.limits.windows[1].max = Btc("150"); },
                              "limits.window 1d", E::kLoosens, true});
  cases.push_back(
      CompareCase{"removed window loosens", NoSetup,
                  [](PolicyFields& f) { f.limits.windows.erase(f.limits.windows.begin()); },
                  "limits.window 1h", E::kLoosens, true});
  cases.push_back(CompareCase{
      "removed window implied by a stricter longer one tightens", NoSetup,
      [](PolicyFields& f) { f.limits.windows = {{.duration = 86400, .max = Btc("20")}}; },
      "limits.window 1h", E::kTightens, false});
  cases.push_back(CompareCase{"new window tightens", NoSetup,
                              [](PolicyFields& f) {
                                f.limits.windows.push_back(
                                    {.duration = 7 * 86400, .max = Btc("300")});
                              },
                              "limits.window 7d", E::kTightens, false});
  cases.push_back(CompareCase{"lower fee_max tightens", NoSetup,
                              [](PolicyFields& f) { f.limits.fee_max = Btc("0.001"); },
                              "limits.fee_max", E::kTightens, false});
  cases.push_back(CompareCase{"higher fee_max loosens", NoSetup,
                              [](PolicyFields& f) { f.limits.fee_max = Btc("0.1"); },
                              "limits.fee_max", E::kLoosens, true});
  cases.push_back(CompareCase{"lower fee_rate_max tightens", NoSetup,
                              [](PolicyFields& f) { f.limits.fee_rate_max_sat_per_kvb = 50000; },
                              "limits.fee_rate_max", E::kTightens, false});
  cases.push_back(CompareCase{"removed fee_rate_max loosens", NoSetup,
                              [](PolicyFields& f) { f.limits.fee_rate_max_sat_per_kvb.reset(); },
                              "limits.fee_rate_max", E::kLoosens, true});
  cases.push_back(CompareCase{"lower outputs_max tightens", NoSetup,
                              [](PolicyFields& f) { f.limits.outputs_max = 10; },
                              "limits.outputs_max", E::kTightens, false});
  cases.push_back(CompareCase{"higher outputs_max loosens", NoSetup,
                              [](PolicyFields& f) { f.limits.outputs_max = 100; },
                              "limits.outputs_max", E::kLoosens, true});
  // Rules.
  cases.push_back(
      CompareCase{"a renamed rule is neutral", NoSetup,
                  [](PolicyFields& f) { RuleNamed(f, "nothing else").name = "deny the rest"; },
                  "rule 'nothing else'.name", E::kNeutral, false});
  cases.push_back(CompareCase{"a deny rule inserted first tightens", NoSetup,
                              [](PolicyFields& f) {
                                Rule deny = MakeRule("freeze", RuleAction::kDeny);
                                f.rules.insert(f.rules.begin(), deny);
                              },
                              "rule 'freeze'", E::kTightens, false});
  cases.push_back(CompareCase{"a deny rule inserted in the middle tightens", NoSetup,
                              [](PolicyFields& f) {
                                Rule deny = MakeRule("no erin", RuleAction::kDeny);
                                deny.requesters = {"erin"};
                                f.rules.insert(f.rules.begin() + 1, deny);
                              },
                              "rule 'no erin'", E::kTightens, false});
  cases.push_back(CompareCase{"allow turned to deny tightens", NoSetup,
                              [](PolicyFields& f) {
                                RuleNamed(f, "withdrawals").action = RuleAction::kDeny;
                                RuleNamed(f, "withdrawals").approvals.clear();
                              },
                              "rule 'withdrawals'.action", E::kTightens, false});
  cases.push_back(
      CompareCase{"deny turned to allow loosens", NoSetup,
                  [](PolicyFields& f) { RuleNamed(f, "nothing else").action = RuleAction::kAllow; },
                  "rule 'nothing else'.action", E::kLoosens, true});
  cases.push_back(
      CompareCase{"a higher approval threshold tightens", NoSetup,
                  [](PolicyFields& f) { RuleNamed(f, "withdrawals").approvals[0].threshold = 2; },
                  "rule 'withdrawals'.approvals", E::kTightens, false});
  cases.push_back(CompareCase{
      "an added approval requirement tightens", NoSetup,
      [](PolicyFields& f) {
        RuleNamed(f, "withdrawals").approvals.push_back({.group = "auditors", .threshold = 1});
      },
      "rule 'withdrawals'.approvals", E::kTightens, false});
  cases.push_back(CompareCase{"an approval by another group loosens", NoSetup,
                              [](PolicyFields& f) {
                                RuleNamed(f, "withdrawals").approvals = {
                                    {.group = "auditors", .threshold = 1}};
                              },
                              "rule 'withdrawals'.approvals", E::kLoosens, true});
  cases.push_back(CompareCase{
      "a lower approval threshold loosens", NoSetup,
      [](PolicyFields& f) { RuleNamed(f, "to cold storage").approvals[0].threshold = 1; },
      "rule 'to cold storage'.approvals", E::kLoosens, true});
  cases.push_back(
      CompareCase{"a narrower allow rule whose intents fall to stricter rules tightens", NoSetup,
                  [](PolicyFields& f) { RuleNamed(f, "withdrawals").amount_max = Btc("2"); },
                  "rule 'withdrawals'.amount_max", E::kTightens, false});
  cases.push_back(
      CompareCase{"a broader allow rule loosens", NoSetup,
                  [](PolicyFields& f) { RuleNamed(f, "small withdrawals").amount_max = Btc("1"); },
                  "rule 'small withdrawals'.amount_max", E::kLoosens, true});
  cases.push_back(CompareCase{"another wallet loosens", NoSetup,
                              [](PolicyFields& f) {
                                RuleNamed(f, "withdrawals").wallets = {"hot", "warm"};
                              },
                              "rule 'withdrawals'.wallets", E::kLoosens, true});
  cases.push_back(CompareCase{
      "fewer requesters whose intents fall to stricter rules tightens", NoSetup,
      [](PolicyFields& f) { RuleNamed(f, "small withdrawals").requesters = {"ops-bot"}; },
      "rule 'small withdrawals'.requesters", E::kTightens, false});
  cases.push_back(
      CompareCase{"a narrower destination whose intents fall to stricter rules tightens", NoSetup,
                  [](PolicyFields& f) {
                    RuleNamed(f, "small withdrawals").destination = {
                        .kind = DestinationKind::kAddressBook, .labels = {}};
                  },
                  "rule 'small withdrawals'.destination", E::kTightens, false});
  cases.push_back(
      CompareCase{"a narrower deny rule whose intents fall to an allow rule loosens",
                  [](PolicyFields& f) {
                    Rule deny = MakeRule("no big ones", RuleAction::kDeny);
                    deny.amount_min = Btc("1");
                    f.rules.insert(f.rules.begin(), deny);
                  },
                  [](PolicyFields& f) { RuleNamed(f, "no big ones").amount_min = Btc("3"); },
                  "rule 'no big ones'.amount_min", E::kLoosens, true});
  cases.push_back(CompareCase{"a removed allow rule whose intents fall to stricter rules tightens",
                              NoSetup, [](PolicyFields& f) { EraseRule(f, "small withdrawals"); },
                              "rule 'small withdrawals'", E::kTightens, false});
  cases.push_back(CompareCase{"the removed final deny rule tightens", NoSetup,
                              [](PolicyFields& f) { EraseRule(f, "nothing else"); },
                              "rule 'nothing else'", E::kTightens, false});
  cases.push_back(CompareCase{
      "a removed deny rule before an allow rule loosens", deny_partner_first,
      [](PolicyFields& f) { EraseRule(f, "no partner"); }, "rule 'no partner'", E::kLoosens, true});
  cases.push_back(CompareCase{"the deny rule moved first tightens", NoSetup,
                              [](PolicyFields& f) { MoveRule(f, "nothing else", 0); },
                              "rule 'nothing else'.position", E::kTightens, false});
  cases.push_back(CompareCase{"swapping rules that ask for approvals in a stricter order tightens",
                              NoSetup, [](PolicyFields& f) { MoveRule(f, "withdrawals", 0); },
                              "rule 'small withdrawals'.position", E::kTightens, false});
  cases.push_back(CompareCase{"a deny rule moved below an allow rule loosens", deny_partner_first,
                              [](PolicyFields& f) { MoveRule(f, "no partner", 2); },
                              "rule 'no partner'.position", E::kLoosens, true});
  cases.push_back(CompareCase{"a new allow rule first loosens", NoSetup,
                              [](PolicyFields& f) {
                                Rule open = MakeRule("bot may do anything");
                                open.requesters = {"ops-bot"};
                                f.rules.insert(f.rules.begin(), open);
                              },
                              "rule 'bot may do anything'", E::kLoosens, true});
  cases.push_back(
      CompareCase{"a new allow rule after the final deny rule tightens (it never decides)", NoSetup,
                  [](PolicyFields& f) { f.rules.push_back(MakeRule("too late")); },
                  "rule 'too late'", E::kTightens, false});
  return cases;
}

TEST(CompareTest, EveryClassification) {
  for (const CompareCase& c : CompareCases()) {
    SCOPED_TRACE(c.name);
    PolicyFields before = BaseFields();
    c.setup(before);
    PolicyFields after = before;
    c.change(after);
    const std::vector<Change> changes = Compare(MakePolicy(before), MakePolicy(after));
    const bool found = std::any_of(changes.begin(), changes.end(), [&](const Change& change) {
      return change.path == c.path && change.effect == c.effect;
    });
    EXPECT_TRUE(found) << "want " << c.path << " " << ChangeEffectName(c.effect) << ", have\n"
                       << Describe(changes);
    EXPECT_EQ(Loosens(changes), c.loosens) << Describe(changes);
  }
}

TEST(CompareTest, FallThroughNamesTheRuleThatMayAllow) {
  PolicyFields before = BaseFields();
  Rule deny = MakeRule("no big ones", RuleAction::kDeny);
  deny.amount_min = Btc("1");
  before.rules.insert(before.rules.begin(), deny);
  PolicyFields after = before;
  RuleNamed(after, "no big ones").amount_min = Btc("3");
  const std::vector<Change> changes = Compare(MakePolicy(before), MakePolicy(after));
  ASSERT_EQ(changes.size(), 1u) << Describe(changes);
  EXPECT_EQ(changes[0].before, "1.00000000 BTC");
  EXPECT_EQ(changes[0].after, "3.00000000 BTC");
  EXPECT_EQ(changes[0].reason,
            "intents that rule 'no big ones' denied may now be allowed by rule 'withdrawals' "
            "(approvals: 1 of treasury)");
}

TEST(CompareTest, ANewLabelOnADestinationIsOneLine) {
  PolicyFields after = BaseFields();
  after.address_book[1].label = "cold";  // Now paid by "to cold storage".
  const std::vector<Change> changes = Compare(MakePolicy(BaseFields()), MakePolicy(after));
  ASSERT_EQ(changes.size(), 1u) << Describe(changes);
  EXPECT_EQ(changes[0].path, "address_book 'partner' " + Address(4));
  EXPECT_EQ(changes[0].before, "partner");
  EXPECT_EQ(changes[0].after, "cold");
  EXPECT_EQ(changes[0].effect, ChangeEffect::kLoosens);
}

TEST(CompareTest, LinesComeInSectionOrder) {
  PolicyFields after = BaseFields();
  after.sequence = 6;
  after.governance.threshold = 3;
  after.keys.push_back({.label = "mallory", .id = Id("mallory")});
  GroupNamed(after, "treasury").members.push_back("erin");
  after.address_book.push_back({.label = "partner", .address = Address(5)});
  after.limits.fee_max = Btc("0.02");
  RuleNamed(after, "withdrawals").amount_max = Btc("4");
  const std::vector<Change> changes = Compare(MakePolicy(BaseFields()), MakePolicy(after));
  std::vector<std::string> paths;
  for (const Change& c : changes) paths.push_back(c.path);
  EXPECT_EQ(paths,
            (std::vector<std::string>{"sequence", "governance.threshold", "key 'mallory'",
                                      "group 'treasury'", "address_book 'partner' " + Address(5),
                                      "limits.fee_max", "rule 'withdrawals'.amount_max"}))
      << Describe(changes);
}

TEST(CompareTest, RuleCovers) {
  const Policy p = MakePolicy(BaseFields());
  const std::vector<Rule>& r = p.fields().rules;
  EXPECT_TRUE(RuleCovers(p, r[1], p, r[0]));   // withdrawals covers small withdrawals.
  EXPECT_FALSE(RuleCovers(p, r[0], p, r[1]));  // Not the other way.
  EXPECT_TRUE(RuleCovers(p, r[3], p, r[2]));   // The final deny covers everything.
  EXPECT_FALSE(RuleCovers(p, r[2], p, r[1]));  // Cold storage only.
  // Requesters are compared by key id: a group and its only member's label cover each other.
  PolicyFields f = BaseFields();
  f.groups.push_back({.name = "bots", .members = {"ops-bot"}});
  RuleNamed(f, "small withdrawals").requesters = {"ops-bot"};
  RuleNamed(f, "withdrawals").requesters = {"bots"};
  RuleNamed(f, "withdrawals").amount_max = Btc("0.5");
  const Policy q = MakePolicy(f);
  EXPECT_TRUE(RuleCovers(q, q.fields().rules[0], q, q.fields().rules[1]));
  EXPECT_TRUE(RuleCovers(q, q.fields().rules[1], q, q.fields().rules[0]));
}

TEST(CompareTest, FirstCoveringRules) {
  PolicyFields f = BaseFields();
  Rule tiny = MakeRule("tiny");
  tiny.wallets = {"hot"};
  tiny.requesters = {"ops-bot"};
  tiny.amount_max = Btc("0.1");
  f.rules.insert(f.rules.begin() + 2, tiny);  // Covered by both withdrawal rules: the first counts.
  f.rules.push_back(MakeRule("late"));        // Covered by "nothing else".
  EXPECT_EQ(FirstCoveringRules(MakePolicy(f)),
            (std::vector<std::optional<size_t>>{std::nullopt, std::nullopt, 0, std::nullopt,
                                                std::nullopt, 4}));
}

// ---------------------------------------------------------------------------------------------
// Governance paths.
// ---------------------------------------------------------------------------------------------

constexpr uint64_t kT0 = 1'700'000'000;

SignedPolicy SignBy(const Policy& policy, const std::vector<std::string>& signers) {
  SignedPolicy out = SignedPolicy::Unsigned(policy);
  for (const std::string& s : signers) out = out.AddSignature(Key(s)).value();
  return out;
}

std::vector<KeyId> PinnedAdmins() { return {Id("admin-1"), Id("admin-2"), Id("admin-3")}; }

// The first policy (sequence 5, no predecessor) installed at kT0.
GovernanceState Installed() {
  return Install(SignBy(MakePolicy(BaseFields()), {"admin-1", "admin-2"}), PinnedAdmins(), 2, kT0)
      .value();
}

// The successor of `current` (its sequence + 1, its digest) with `change` applied.
Policy Successor(const Policy& current, const std::function<void(PolicyFields&)>& change) {
  PolicyFields f = current.fields();
  f.sequence = current.fields().sequence + 1;
  f.predecessor = current.digest();
  change(f);
  return MakePolicy(f);
}

void Tighten(PolicyFields& f) { f.limits.per_transaction = Btc("9"); }
void Loosen(PolicyFields& f) { f.limits.per_transaction = Btc("11"); }

struct InstallCase {
  std::string name;
  std::function<void(PolicyFields&)> change;
  std::vector<std::string> signers;
  util::StatusCode code;
  std::string message;
};

TEST(GovernanceTest, Install) {
  const std::vector<InstallCase> cases = {
      {"threshold of the pinned admins",
       [](PolicyFields&) {},
       {"admin-1", "admin-3"},
       util::StatusCode::kOk,
       ""},
      {"all pinned admins",
       [](PolicyFields&) {},
       {"admin-1", "admin-2", "admin-3"},
       util::StatusCode::kOk,
       ""},
      {"under threshold",
       [](PolicyFields&) {},
       {"admin-2"},
       util::StatusCode::kPermissionDenied,
       "policy has 1 of the 2 admin signatures it needs (signed by: admin-2)"},
      {"no signature",
       [](PolicyFields&) {},
       {},
       util::StatusCode::kPermissionDenied,
       "policy has 0 of the 2 admin signatures it needs (signed by: none)"},
      {"a signer that is not an admin is ignored",
       [](PolicyFields&) {},
       {"admin-1", "mallory"},
       util::StatusCode::kPermissionDenied,
       "policy has 1 of the 2 admin signatures it needs (signed by: admin-1)"},
      {"a key the policy names but not pinned as admin is ignored",
       [](PolicyFields&) {},
       {"admin-1", "bob"},
       util::StatusCode::kPermissionDenied,
       "policy has 1 of the 2 admin signatures it needs (signed by: admin-1)"},
      {"a first policy names no predecessor",
       [](PolicyFields& f) { f.predecessor = Digest{}; },
       {"admin-1", "admin-2"},
       util::StatusCode::kInvalidArgument,
       "first policy names a predecessor"},
  };
  for (const InstallCase& c : cases) {
    SCOPED_TRACE(c.name);
    PolicyFields f = BaseFields();
    c.change(f);
    const SignedPolicy first = SignBy(MakePolicy(f), c.signers);
    const util::Result<GovernanceState> state = Install(first, PinnedAdmins(), 2, kT0);
    EXPECT_EQ(state.status().code(), c.code) << state.status();
    if (!state.ok()) {
      EXPECT_EQ(state.status().message(), c.message);
      continue;
    }
    EXPECT_EQ(state->active, first);
    EXPECT_EQ(state->active_since, kT0);
    EXPECT_FALSE(state->pending.has_value());
    EXPECT_EQ(InForce(*state, kT0 + 1'000'000), first);
  }
}

TEST(GovernanceTest, AdminsArePinnedAtInstallationNotReadFromThePolicy) {
  // The policy names admin-1..3, but the installer pins bob and carol.
  const SignedPolicy first = SignBy(MakePolicy(BaseFields()), {"admin-1", "admin-2"});
  const std::vector<KeyId> pinned = {Id("bob"), Id("carol")};
  EXPECT_EQ(Install(first, pinned, 2, kT0).status().code(), util::StatusCode::kPermissionDenied);
  EXPECT_TRUE(Install(SignBy(MakePolicy(BaseFields()), {"bob", "carol"}), pinned, 2, kT0).ok());
}

TEST(GovernanceTest, DuplicateSignerIsImpossible) {
  const SignedPolicy once = SignBy(MakePolicy(BaseFields()), {"admin-1"});
  EXPECT_EQ(once.AddSignature(Key("admin-1")).status().code(), util::StatusCode::kAlreadyExists);
  EXPECT_EQ(once.signatures().size(), 1u);
}

struct ProposeCase {
  std::string name;
  std::function<Policy(const Policy& current)> next;
  std::vector<std::string> signers;
  util::StatusCode code;
  std::string message;  // A prefix of the message.
  bool immediate;
  std::optional<ProposalCheck> check = std::nullopt;  // The check that refuses, when one does.
};

TEST(GovernanceTest, Propose) {
  const uint64_t now = kT0 + 100;
  const std::vector<ProposeCase> cases = {
      {"tightening",
       [](const Policy& p) { return Successor(p, Tighten); },
       {"admin-1", "admin-2"},
       util::StatusCode::kOk,
       "",
       true},
      {"loosening",
       [](const Policy& p) { return Successor(p, Loosen); },
       {"admin-2", "admin-3"},
       util::StatusCode::kOk,
       "",
       false},
      {"neutral change only",
       [](const Policy& p) { return Successor(p, [](PolicyFields&) {}); },
       {"admin-2", "admin-3"},
       util::StatusCode::kOk,
       "",
       true},
      {"wrong predecessor",
       [](const Policy& p) {
         return Successor(p, [](PolicyFields& f) {
           Tighten(f);
           f.predecessor->at(0) ^= 1;
         });
       },
       {"admin-1", "admin-2"},
       util::StatusCode::kFailedPrecondition,
       "predecessor ",
       false,
       ProposalCheck::kPredecessor},
      {"no predecessor",
       [](const Policy& p) {
         return Successor(p, [](PolicyFields& f) {
           Tighten(f);
           f.predecessor.reset();
         });
       },
       {"admin-1", "admin-2"},
       util::StatusCode::kFailedPrecondition,
       "predecessor (none)",
       false,
       ProposalCheck::kPredecessor},
      {"stale sequence",
       [](const Policy& p) {
         return Successor(p, [](PolicyFields& f) {
           Tighten(f);
           f.sequence = 4;
         });
       },
       {"admin-1", "admin-2"},
       util::StatusCode::kFailedPrecondition,
       "stale sequence 4: the current policy has sequence 5",
       false,
       ProposalCheck::kSequence},
      {"equal sequence",
       [](const Policy& p) {
         return Successor(p, [](PolicyFields& f) {
           Tighten(f);
           f.sequence = 5;
         });
       },
       {"admin-1", "admin-2"},
       util::StatusCode::kFailedPrecondition,
       "stale sequence 5: the current policy has sequence 5",
       false,
       ProposalCheck::kSequence},
      {"under threshold",
       [](const Policy& p) { return Successor(p, Tighten); },
       {"admin-1"},
       util::StatusCode::kPermissionDenied,
       "policy has 1 of the 2 admin signatures it needs (signed by: admin-1)",
       false,
       ProposalCheck::kAdminSignatures},
      {"a signer that is not an admin does not count",
       [](const Policy& p) { return Successor(p, Tighten); },
       {"admin-1", "mallory"},
       util::StatusCode::kPermissionDenied,
       "policy has 1 of the 2 admin signatures",
       false,
       ProposalCheck::kAdminSignatures},
      {"the new policy's own admins do not count",
       [](const Policy& p) {
         return Successor(p, [](PolicyFields& f) {
           f.governance.admins = {"admin-1", "bob", "carol"};
         });
       },
       {"bob", "carol", "admin-1"},
       util::StatusCode::kPermissionDenied,
       "policy has 1 of the 2 admin signatures",
       false,
       ProposalCheck::kAdminSignatures},
      {"another network",
       [](const Policy& p) {
         return Successor(p, [](PolicyFields& f) {
           f.network = btc::Network::kTestnet;
           f.address_book = {{.label = "cold", .address = Address(3, btc::Network::kTestnet)}};
         });
       },
       {"admin-1", "admin-2"},
       util::StatusCode::kFailedPrecondition,
       "policy network test is not the current policy's network main",
       false,
       ProposalCheck::kNetwork},
  };
  for (const ProposeCase& c : cases) {
    SCOPED_TRACE(c.name);
    const GovernanceState state = Installed();
    const SignedPolicy next = SignBy(c.next(state.active.policy()), c.signers);
    const util::Result<Acceptance> accepted = Propose(state, next, now);
    EXPECT_EQ(accepted.status().code(), c.code) << accepted.status();
    // EvaluateProposal names the check that refused, with Propose's status.
    const std::variant<Acceptance, ProposalRefusal> outcome = EvaluateProposal(state, next, now);
    const ProposalRefusal* refusal = std::get_if<ProposalRefusal>(&outcome);
    EXPECT_EQ(refusal != nullptr, !accepted.ok());
    if (!accepted.ok()) {
      EXPECT_TRUE(accepted.status().message().starts_with(c.message)) << accepted.status();
      ASSERT_NE(refusal, nullptr);
      EXPECT_EQ(refusal->status, accepted.status());
      EXPECT_EQ(std::optional<ProposalCheck>(refusal->check), c.check);
      continue;
    }
    EXPECT_FALSE(c.check.has_value());
    EXPECT_EQ(accepted->immediate, c.immediate);
    EXPECT_EQ(Loosens(accepted->changes), !c.immediate);
    if (c.immediate) {
      EXPECT_EQ(accepted->effective_from, now);
      EXPECT_EQ(accepted->state.active, next);
      EXPECT_EQ(accepted->state.active_since, now);
      EXPECT_FALSE(accepted->state.pending.has_value());
    } else {
      EXPECT_EQ(accepted->effective_from, now + 86400);
      EXPECT_EQ(accepted->state.active, state.active);
      EXPECT_EQ(accepted->state.pending, next);
      EXPECT_EQ(accepted->state.pending_from, now + 86400);
    }
  }
}

TEST(GovernanceTest, LooseningTakesEffectAfterTheDelay) {
  const uint64_t now = kT0 + 100;
  const GovernanceState state = Installed();
  const SignedPolicy next =
      SignBy(Successor(state.active.policy(), Loosen), {"admin-1", "admin-2"});
  const Acceptance accepted = Propose(state, next, now).value();
  ASSERT_FALSE(accepted.immediate);
  const uint64_t from = now + 86400;

  EXPECT_EQ(InForce(accepted.state, from - 1), state.active);
  const GovernanceState before = Advance(accepted.state, from - 1);
  EXPECT_EQ(before.active, state.active);
  EXPECT_EQ(before.pending, next);

  EXPECT_EQ(InForce(accepted.state, from), next);
  const GovernanceState after = Advance(accepted.state, from);
  EXPECT_EQ(after.active, next);
  EXPECT_EQ(after.active_since, from);
  EXPECT_FALSE(after.pending.has_value());
  EXPECT_EQ(Advance(after, from + 1'000'000).active, next);
}

TEST(GovernanceTest, LooseningCannotShortenItsOwnDelay) {
  const uint64_t now = kT0 + 100;
  const GovernanceState state = Installed();
  const SignedPolicy next = SignBy(Successor(state.active.policy(),
                                             [](PolicyFields& f) {
                                               Loosen(f);
                                               f.activation_delay = 0;
                                             }),
                                   {"admin-1", "admin-2"});
  const Acceptance accepted = Propose(state, next, now).value();
  EXPECT_FALSE(accepted.immediate);
  EXPECT_EQ(accepted.effective_from, now + 86400);
  EXPECT_EQ(InForce(accepted.state, now + 86399), state.active);
}

TEST(GovernanceTest, TighteningSupersedesAPendingLoosening) {
  const GovernanceState state = Installed();
  const SignedPolicy loose =
      SignBy(Successor(state.active.policy(), Loosen), {"admin-1", "admin-2"});
  const Acceptance pending = Propose(state, loose, kT0 + 100).value();
  ASSERT_FALSE(pending.immediate);
  // The successor of the pending policy (the latest accepted), measured against the one in
  // force: it tightens that one, so it takes effect at once and the loosening is dropped.
  const SignedPolicy tight = SignBy(Successor(loose.policy(), Tighten), {"admin-2", "admin-3"});
  const Acceptance accepted = Propose(pending.state, tight, kT0 + 200).value();
  EXPECT_TRUE(accepted.immediate);
  EXPECT_EQ(accepted.state.active, tight);
  EXPECT_FALSE(accepted.state.pending.has_value());
  EXPECT_EQ(InForce(accepted.state, kT0 + 200 + 86400), tight);
}

TEST(GovernanceTest, ANewerLooseningRestartsTheClock) {
  const GovernanceState state = Installed();
  const SignedPolicy loose =
      SignBy(Successor(state.active.policy(), Loosen), {"admin-1", "admin-2"});
  const Acceptance first = Propose(state, loose, kT0 + 100).value();
  const SignedPolicy looser = SignBy(
      Successor(loose.policy(), [](PolicyFields& f) { f.limits.per_transaction = Btc("12"); }),
      {"admin-1", "admin-2"});
  const Acceptance second = Propose(first.state, looser, kT0 + 5000).value();
  EXPECT_FALSE(second.immediate);
  EXPECT_EQ(second.state.pending, looser);
  EXPECT_EQ(second.effective_from, kT0 + 5000 + 86400);
  EXPECT_EQ(InForce(second.state, kT0 + 100 + 86400), state.active);
  EXPECT_EQ(InForce(second.state, kT0 + 5000 + 86400), looser);
}

TEST(GovernanceTest, WhilePendingTheSuccessorMustFollowThePendingPolicy) {
  const GovernanceState state = Installed();
  const SignedPolicy loose =
      SignBy(Successor(state.active.policy(), Loosen), {"admin-1", "admin-2"});
  const Acceptance pending = Propose(state, loose, kT0 + 100).value();
  // A successor of the active policy (sequence 6 again, its digest) is refused.
  const SignedPolicy fork =
      SignBy(Successor(state.active.policy(), Tighten), {"admin-1", "admin-2"});
  const util::Result<Acceptance> refused = Propose(pending.state, fork, kT0 + 200);
  EXPECT_EQ(refused.status().code(), util::StatusCode::kFailedPrecondition);
  EXPECT_EQ(refused.status().message(), "stale sequence 6: the current policy has sequence 6");
}

TEST(GovernanceTest, ProposeFirstPromotesAPendingPolicyWhoseTimeHasCome) {
  const GovernanceState state = Installed();
  const SignedPolicy loose =
      SignBy(Successor(state.active.policy(), Loosen), {"admin-1", "admin-2"});
  const Acceptance pending = Propose(state, loose, kT0 + 100).value();
  const uint64_t later = kT0 + 100 + 86400 + 1;
  // Measured against the promoted policy (11 BTC), 10.5 BTC tightens.
  const SignedPolicy next = SignBy(
      Successor(loose.policy(), [](PolicyFields& f) { f.limits.per_transaction = Btc("10.5"); }),
      {"admin-1", "admin-3"});
  const Acceptance accepted = Propose(pending.state, next, later).value();
  EXPECT_TRUE(accepted.immediate);
  EXPECT_EQ(accepted.state.active, next);
}

TEST(GovernanceTest, TheAdminsInForceSign) {
  // A pending policy hands governance to bob and carol (a loosening: new admins). Until it takes
  // effect its successor is signed by the admins in force, not by bob and carol; afterwards, by
  // bob and carol only.
  const GovernanceState state = Installed();
  const SignedPolicy handover = SignBy(Successor(state.active.policy(),
                                                 [](PolicyFields& f) {
                                                   f.governance.admins = {"bob", "carol"};
                                                 }),
                                       {"admin-1", "admin-2"});
  const Acceptance pending = Propose(state, handover, kT0 + 100).value();
  ASSERT_FALSE(pending.immediate);
  const Policy next = Successor(handover.policy(), Loosen);
  EXPECT_EQ(Propose(pending.state, SignBy(next, {"bob", "carol"}), kT0 + 200).status().code(),
            util::StatusCode::kPermissionDenied);
  EXPECT_TRUE(Propose(pending.state, SignBy(next, {"admin-1", "admin-2"}), kT0 + 200).ok());

  const uint64_t after = pending.effective_from;
  EXPECT_EQ(Propose(pending.state, SignBy(next, {"admin-1", "admin-2"}), after).status().code(),
            util::StatusCode::kPermissionDenied);
  EXPECT_TRUE(Propose(pending.state, SignBy(next, {"bob", "carol"}), after).ok());
}

}  // namespace
}  // namespace kinko::policy
