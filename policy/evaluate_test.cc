#include "policy/evaluate.h"

#include <gtest/gtest.h>

#include <functional>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "btc/address.h"
#include "btc/script.h"
#include "policy/canonical.h"
#include "util/hex.h"

namespace kinko::policy {
namespace {

// The fixture: keys by label. "mallory" is a real key that no policy names.
//   groups:  traders  {alice}
//            treasury {alice, bob, carol, dave}
//            security {carol, erin}
//   book:    exchange: Address(1), Address(2); cold: Address(3). Address(9) is not in the book.
// The base intent: alice asks to pay 0.5 BTC from wallet "hot" to Address(1), created at
// kCreated, expiring at kExpires; approvals are made at kApproved; evaluation is at kNow.
constexpr uint64_t kCreated = 1'000'000;
constexpr uint64_t kExpires = kCreated + 100'000;
constexpr uint64_t kApproved = kCreated + 500;
constexpr uint64_t kNow = kCreated + 1000;
const std::vector<std::string> kLabels = {"admin", "alice", "bob",    "carol",
                                          "dave",  "erin",  "mallory"};

const crypto::Ed25519PrivateKey& Key(const std::string& label) {
  static const auto* keys = [] {
    auto* map = new std::map<std::string, crypto::Ed25519PrivateKey>();
    for (size_t i = 0; i < kLabels.size(); ++i) {
      map->emplace(kLabels[i], crypto::Ed25519PrivateKey::FromSeed(
                                   crypto::SecretBytes::FromSpan(
                                       std::vector<uint8_t>(32, static_cast<uint8_t>(0x41 + i))))
                                   .value());
    }
    return map;
  }();
  return keys->at(label);
}

KeyId Id(const std::string& label) { return Ed25519KeyId(Key(label).public_key()); }

// How a refusal names a key the policy does not name: its id's first 8 bytes in hex.
std::string IdPrefix(const std::string& label) {
  const KeyId id = Id(label);
  return util::HexEncode(std::span(id).first(8));
}

btc::Amount Sats(int64_t sats) { return btc::Amount::FromSats(sats).value(); }
btc::Amount Btc(std::string_view text) { return btc::Amount::ParseBtc(text).value(); }

// A P2WPKH address on `network` whose 20-byte hash is `n` repeated.
std::string Address(uint8_t n, btc::Network network = btc::Network::kMainnet) {
  btc::Script script;
  script.PushOpcode(0x00);
  script.PushData(std::vector<uint8_t>(20, n));
  return btc::EncodeAddress(script, network).value();
}

Rule OpenRule() {
  Rule rule;
  rule.name = "open";
  return rule;
}

PolicyFields BaseFields() {
  PolicyFields f;
  f.network = btc::Network::kMainnet;
  f.sequence = 1;
  f.governance = {.admins = {"admin"}, .threshold = 1};
  for (const std::string& label : kLabels) {
    if (label != "mallory") f.keys.push_back({.label = label, .id = Id(label)});
  }
  f.groups = {{.name = "security", .members = {"carol", "erin"}},
              {.name = "traders", .members = {"alice"}},
              {.name = "treasury", .members = {"alice", "bob", "carol", "dave"}}};
  f.address_book = {{.label = "exchange", .address = Address(1)},
                    {.label = "exchange", .address = Address(2)},
                    {.label = "cold", .address = Address(3)}};
  f.rules = {OpenRule()};
  return f;
}

Policy MakePolicy(PolicyFields fields) {
  util::Result<Policy> policy = Policy::Create(std::move(fields));
  EXPECT_TRUE(policy.ok()) << policy.status();
  return std::move(policy).value();
}

IntentFields BaseIntent() {
  IntentFields f;
  f.id[0] = 0x01;
  f.wallet = "hot";
  f.network = btc::Network::kMainnet;
  f.outputs = {{Address(1), Btc("0.5")}};
  f.fee.max_rate_sat_per_kvb = 10000;
  f.requester = Id("alice");
  f.created = kCreated;
  f.expires = kExpires;
  return f;
}

// Signed by the requester's key (the fixture's key whose id is fields.requester).
SignedIntent Sign(IntentFields fields) {
  for (const std::string& label : kLabels) {
    if (Id(label) == fields.requester) {
      return SignedIntent::Sign(Intent::Create(std::move(fields)).value(), Key(label)).value();
    }
  }
  ADD_FAILURE() << "no fixture key for the requester";
  return SignedIntent::Sign(Intent::Create(BaseIntent()).value(), Key("alice")).value();
}

SignedApproval MakeApproval(const SignedIntent& intent, const Digest& policy_digest,
                            const std::string& approver, Decision decision = Decision::kApprove,
                            uint64_t time = kApproved) {
  const ApprovalFields f{.intent_digest = intent.intent().digest(),
                         .policy_digest = policy_digest,
                         .approver = Id(approver),
                         .decision = decision,
                         .time = time,
                         .comment_hash = std::nullopt};
  return SignedApproval::Sign(Approval::Create(f).value(), Key(approver)).value();
}

// The intent with approvals by `approvers` (each approving), bound to `policy`.
IntentWithApprovals WithApprovals(const SignedIntent& intent, const Policy& policy,
                                  const std::vector<std::string>& approvers) {
  IntentWithApprovals item{.intent = intent, .approvals = {}};
  for (const std::string& approver : approvers) {
    item.approvals.push_back(MakeApproval(intent, policy.digest(), approver));
  }
  return item;
}

// No refusal may show key material: neither a seed nor a public key, in any form.
bool HasKeyMaterial(std::string_view text) {
  for (const std::string& label : kLabels) {
    const crypto::Ed25519PublicKey& public_key = Key(label).public_key();
    if (text.find(util::HexEncode(std::span(public_key).first(8))) != std::string_view::npos ||
        text.find(GroupedHex(std::span(public_key).first(8))) != std::string_view::npos) {
      return true;
    }
  }
  // Seeds are 32 equal bytes 0x41.. (see Key): their hex is "4141...", "4242...", ...
  for (size_t i = 0; i < kLabels.size(); ++i) {
    const std::string seed_hex =
        util::HexEncode(std::vector<uint8_t>(16, static_cast<uint8_t>(0x41 + i)));
    if (text.find(seed_hex) != std::string_view::npos) return true;
  }
  return false;
}

// Success when `verdict` is a refusal with `code` (and the intent index) whose detail contains
// every one of `parts`, and carries no key material.
testing::AssertionResult IsRefused(const Verdict& verdict, RefusalCode code,
                                   std::optional<size_t> intent_index,
                                   const std::vector<std::string>& parts = {}) {
  if (verdict.allowed || !verdict.refusal.has_value()) {
    return testing::AssertionFailure() << "allowed";
  }
  const Refusal& r = *verdict.refusal;
  if (r.code != code) {
    return testing::AssertionFailure() << "code " << RefusalCodeName(r.code) << ": " << r.detail;
  }
  if (r.intent_index != intent_index) {
    return testing::AssertionFailure() << "intent index " << r.intent_index.value_or(999);
  }
  for (const std::string& part : parts) {
    if (r.detail.find(part) == std::string::npos) {
      return testing::AssertionFailure() << "detail '" << r.detail << "' lacks '" << part << "'";
    }
  }
  if (HasKeyMaterial(r.detail)) {
    return testing::AssertionFailure() << "detail shows key material: " << r.detail;
  }
  if (!verdict.intents.empty() || !verdict.spends.empty()) {
    return testing::AssertionFailure() << "a refusal with decisions or spends";
  }
  return testing::AssertionSuccess();
}

testing::AssertionResult IsAllowed(const Verdict& verdict) {
  if (!verdict.allowed) {
    return testing::AssertionFailure() << "refused: " << RefusalCodeName(verdict.refusal->code)
                                       << ": " << verdict.refusal->detail;
  }
  if (verdict.refusal.has_value()) return testing::AssertionFailure() << "allowed with refusal";
  return testing::AssertionSuccess();
}

Verdict EvaluateOne(const IntentWithApprovals& item, const Policy& policy, uint64_t now = kNow) {
  return Evaluate({item}, policy, VelocityState{}, now);
}

TEST(EvaluateTest, RefusalCodeNamesAreFrozen) {
  // DO NOT CHANGE: these names appear in audit logs, metrics and APIs.
  const std::vector<std::pair<RefusalCode, std::string_view>> names = {
      {RefusalCode::kUnknownRequester, "unknown_requester"},
      {RefusalCode::kWrongNetwork, "wrong_network"},
      {RefusalCode::kIntentExpired, "intent_expired"},
      {RefusalCode::kIntentFromFuture, "intent_from_future"},
      {RefusalCode::kDuplicateIntent, "duplicate_intent"},
      {RefusalCode::kInvalidApproval, "invalid_approval"},
      {RefusalCode::kNoMatchingRule, "no_matching_rule"},
      {RefusalCode::kRuleDenies, "rule_denies"},
      {RefusalCode::kApprovalsMissing, "approvals_missing"},
      {RefusalCode::kApprovalRejected, "approval_rejected"},
      {RefusalCode::kFeeCeilingExceeded, "fee_ceiling_exceeded"},
      {RefusalCode::kOutputsLimit, "outputs_limit"},
      {RefusalCode::kPerTransactionLimit, "per_transaction_limit"},
      {RefusalCode::kWindowLimit, "window_limit"},
  };
  for (const auto& [code, name] : names) EXPECT_EQ(RefusalCodeName(code), name);
}

TEST(EvaluateTest, BaseRequestIsAllowedWithItsRuleAndSpend) {
  const Policy policy = MakePolicy(BaseFields());
  const Verdict verdict = EvaluateOne(WithApprovals(Sign(BaseIntent()), policy, {}), policy);
  ASSERT_TRUE(IsAllowed(verdict));
  ASSERT_EQ(verdict.intents.size(), 1u);
  EXPECT_EQ(verdict.intents[0].rule, "open");
  EXPECT_TRUE(verdict.intents[0].approvers.empty());
  EXPECT_EQ(verdict.spends,
            (std::vector<Spend>{{.wallet = "hot", .time = kNow, .amount = Btc("0.5")}}));
}

// Each case puts a deny rule with one condition before the open rule: the request is refused
// by that rule exactly when the condition holds for the (possibly changed) base intent.
struct ConditionCase {
  std::string name;
  std::function<void(Rule&)> condition;
  std::function<void(IntentFields&)> change;  // Applied to the base intent.
  bool matches;
};

TEST(EvaluateTest, RuleConditions) {
  const auto no_change = [](IntentFields&) {};
  const auto two_outputs = [](IntentFields& f) { f.outputs.push_back({Address(2), Btc("0.1")}); };
  const std::vector<ConditionCase> cases = {
      {"no condition", [](Rule&) {}, no_change, true},
      {"wallet listed",
       [](Rule& r) {
         r.wallets = {"cold", "hot"};
       },
       no_change, true},
      {"wallet not listed", [](Rule& r) { r.wallets = {"cold"}; }, no_change, false},
      {"requester by label", [](Rule& r) { r.requesters = {"alice"}; }, no_change, true},
      {"requester by group", [](Rule& r) { r.requesters = {"traders"}; }, no_change, true},
      {"requester another key", [](Rule& r) { r.requesters = {"bob"}; }, no_change, false},
      {"requester not in group", [](Rule& r) { r.requesters = {"security"}; }, no_change, false},
      {"requester one of several",
       [](Rule& r) {
         r.requesters = {"bob", "treasury"};
       },
       no_change, true},
      {"any destination", [](Rule& r) { r.destination.kind = DestinationKind::kAny; },
       [](IntentFields& f) { f.outputs[0].address = Address(9); }, true},
      {"address book", [](Rule& r) { r.destination.kind = DestinationKind::kAddressBook; },
       two_outputs, true},
      {"address book, one output outside",
       [](Rule& r) { r.destination.kind = DestinationKind::kAddressBook; },
       [](IntentFields& f) {
         f.outputs.push_back({Address(9), Btc("0.1")});
       },
       false},
      {"label",
       [](Rule& r) { r.destination = {.kind = DestinationKind::kLabels, .labels = {"exchange"}}; },
       two_outputs, true},
      {"label of another entry",
       [](Rule& r) { r.destination = {.kind = DestinationKind::kLabels, .labels = {"cold"}}; },
       no_change, false},
      {"labels, one output of each",
       [](Rule& r) {
         r.destination = {.kind = DestinationKind::kLabels, .labels = {"cold", "exchange"}};
       },
       [](IntentFields& f) {
         f.outputs.push_back({Address(3), Btc("0.1")});
       },
       true},
      {"labels, one output outside the book",
       [](Rule& r) { r.destination = {.kind = DestinationKind::kLabels, .labels = {"exchange"}}; },
       [](IntentFields& f) {
         f.outputs.push_back({Address(9), Btc("0.1")});
       },
       false},
      {"amount_min equal", [](Rule& r) { r.amount_min = Btc("0.5"); }, no_change, true},
      {"amount_min above", [](Rule& r) { r.amount_min = Sats(50000001); }, no_change, false},
      {"amount_max equal", [](Rule& r) { r.amount_max = Btc("0.5"); }, no_change, true},
      {"amount_max below", [](Rule& r) { r.amount_max = Sats(49999999); }, no_change, false},
      {"amount_max counts every output", [](Rule& r) { r.amount_max = Btc("0.5"); }, two_outputs,
       false},
      {"outputs_max equal", [](Rule& r) { r.outputs_max = 2; }, two_outputs, true},
      {"outputs_max below", [](Rule& r) { r.outputs_max = 1; }, two_outputs, false},
      {"all conditions hold",
       [](Rule& r) {
         r.wallets = {"hot"};
         r.requesters = {"traders"};
         r.destination.kind = DestinationKind::kAddressBook;
         r.amount_min = Btc("0.5");
         r.amount_max = Btc("0.5");
         r.outputs_max = 1;
       },
       no_change, true},
      {"all but one hold",
       [](Rule& r) {
         r.wallets = {"hot"};
         r.requesters = {"traders"};
         r.destination.kind = DestinationKind::kAddressBook;
         r.amount_min = Btc("0.4");
         r.amount_max = Sats(49999999);
         r.outputs_max = 1;
       },
       no_change, false},
  };
  for (const ConditionCase& c : cases) {
    SCOPED_TRACE(c.name);
    PolicyFields fields = BaseFields();
    Rule deny;
    deny.name = "blocked";
    deny.action = RuleAction::kDeny;
    c.condition(deny);
    fields.rules.insert(fields.rules.begin(), deny);
    const Policy policy = MakePolicy(fields);
    IntentFields intent = BaseIntent();
    c.change(intent);
    const Verdict verdict = EvaluateOne(WithApprovals(Sign(intent), policy, {}), policy);
    if (c.matches) {
      EXPECT_TRUE(IsRefused(verdict, RefusalCode::kRuleDenies, 0, {"rule 'blocked' denies"}));
      EXPECT_EQ(verdict.refusal->rule, "blocked");
    } else {
      ASSERT_TRUE(IsAllowed(verdict));
      EXPECT_EQ(verdict.intents[0].rule, "open");
    }
  }
}

TEST(EvaluateTest, FirstMatchingRuleDecides) {
  PolicyFields fields = BaseFields();
  Rule deny;
  deny.name = "deny all";
  deny.action = RuleAction::kDeny;
  fields.rules.push_back(deny);  // After "open": never reached.
  const Policy open_first = MakePolicy(fields);
  const Verdict allowed =
      EvaluateOne(WithApprovals(Sign(BaseIntent()), open_first, {}), open_first);
  ASSERT_TRUE(IsAllowed(allowed));
  EXPECT_EQ(allowed.intents[0].rule, "open");

  std::swap(fields.rules[0], fields.rules[1]);
  const Policy deny_first = MakePolicy(fields);
  const Verdict denied = EvaluateOne(WithApprovals(Sign(BaseIntent()), deny_first, {}), deny_first);
  EXPECT_TRUE(IsRefused(denied, RefusalCode::kRuleDenies, 0, {"'deny all'"}));
  EXPECT_EQ(denied.refusal->rule, "deny all");
}

TEST(EvaluateTest, NoMatchingRuleIsRefused) {
  PolicyFields fields = BaseFields();
  fields.rules[0].wallets = {"cold"};
  const Policy policy = MakePolicy(fields);
  const Verdict verdict = EvaluateOne(WithApprovals(Sign(BaseIntent()), policy, {}), policy);
  EXPECT_TRUE(IsRefused(
      verdict, RefusalCode::kNoMatchingRule, 0,
      {"no rule matches", "wallet hot", "requester alice", "0.50000000 BTC to 1 output)"}));
  EXPECT_TRUE(verdict.refusal->rule.empty());
}

// Step 1: each case changes one thing of the base intent or of `now`.
struct IntentCase {
  std::string name;
  std::function<void(IntentFields&)> change;
  uint64_t now;
  std::optional<RefusalCode> refused;
  std::vector<std::string> parts;
};

TEST(EvaluateTest, IntentChecks) {
  const std::vector<IntentCase> cases = {
      {"base", [](IntentFields&) {}, kNow, std::nullopt, {}},
      {"unknown requester",
       [](IntentFields& f) { f.requester = Id("mallory"); },
       kNow,
       RefusalCode::kUnknownRequester,
       {"requester key " + IdPrefix("mallory"), "not a key of the policy"}},
      {"another network",
       [](IntentFields& f) {
         f.network = btc::Network::kTestnet;
         f.outputs[0].address = Address(1, btc::Network::kTestnet);
       },
       kNow,
       RefusalCode::kWrongNetwork,
       {"network test, the policy's is main"}},
      {"last second before expiry", [](IntentFields&) {}, kExpires - 1, std::nullopt, {}},
      {"expired",
       [](IntentFields&) {},
       kExpires,
       RefusalCode::kIntentExpired,
       {"expired at " + std::to_string(kExpires)}},
      {"created at the clock skew",
       [](IntentFields&) {},
       kCreated - kMaxClockSkew,
       std::nullopt,
       {}},
      {"created beyond the clock skew",
       [](IntentFields&) {},
       kCreated - kMaxClockSkew - 1,
       RefusalCode::kIntentFromFuture,
       {"created at " + std::to_string(kCreated)}},
  };
  const Policy policy = MakePolicy(BaseFields());
  for (const IntentCase& c : cases) {
    SCOPED_TRACE(c.name);
    IntentFields fields = BaseIntent();
    c.change(fields);
    const Verdict verdict = EvaluateOne(WithApprovals(Sign(fields), policy, {}), policy, c.now);
    if (!c.refused.has_value()) {
      EXPECT_TRUE(IsAllowed(verdict));
    } else {
      EXPECT_TRUE(IsRefused(verdict, *c.refused, 0, c.parts));
      EXPECT_TRUE(verdict.refusal->detail.starts_with("intent 0 (id 0100000000000000"))
          << verdict.refusal->detail;
    }
  }
}

TEST(EvaluateTest, SameIntentIdTwiceIsRefused) {
  const Policy policy = MakePolicy(BaseFields());
  IntentFields other = BaseIntent();
  other.outputs[0].amount = Btc("0.25");  // Another intent, the same id.
  const Verdict verdict = Evaluate(
      {WithApprovals(Sign(BaseIntent()), policy, {}), WithApprovals(Sign(BaseIntent()), policy, {}),
       WithApprovals(Sign(other), policy, {})},
      policy, VelocityState{}, kNow);
  EXPECT_TRUE(
      IsRefused(verdict, RefusalCode::kDuplicateIntent, 1, {"intent 1", "same id as intent 0"}));

  other.id[0] = 0x02;
  EXPECT_TRUE(IsAllowed(Evaluate(
      {WithApprovals(Sign(BaseIntent()), policy, {}), WithApprovals(Sign(other), policy, {})},
      policy, VelocityState{}, kNow)));
}

// The policy of the approval cases: one rule needing 2 of treasury and 1 of security. carol is
// in both groups; alice (the requester) is in treasury; admin is in neither.
Policy ApprovalPolicy() {
  PolicyFields fields = BaseFields();
  fields.rules[0].name = "two and one";
  fields.rules[0].approvals = {{.group = "treasury", .threshold = 2},
                               {.group = "security", .threshold = 1}};
  return MakePolicy(fields);
}

struct ApprovalCase {
  std::string name;
  std::vector<std::pair<std::string, Decision>> approvals;
  std::optional<RefusalCode> refused;
  std::vector<std::string> parts;      // Of the refusal's detail.
  std::vector<std::string> approvers;  // When allowed.
};

TEST(EvaluateTest, ApprovalRequirements) {
  constexpr Decision kYes = Decision::kApprove;
  constexpr Decision kNo = Decision::kReject;
  const std::vector<ApprovalCase> cases = {
      {"two of treasury, one of security",
       {{"bob", kYes}, {"dave", kYes}, {"erin", kYes}},
       std::nullopt,
       {},
       {"bob", "dave", "erin"}},
      {"none",
       {},
       RefusalCode::kApprovalsMissing,
       {"rule 'two and one' needs 2 of treasury (have 0), 1 of security (have 0)"},
       {}},
      {"one of treasury",
       {{"bob", kYes}},
       RefusalCode::kApprovalsMissing,
       {"needs 2 of treasury (have 1: bob), 1 of security (have 0)"},
       {}},
      {"a key in both groups counts once",
       {{"bob", kYes}, {"carol", kYes}},
       RefusalCode::kApprovalsMissing,
       {"needs 2 of treasury (have 2: bob, carol), 1 of security (have 0)"},
       {}},
      {"the shared key moves to the group that needs it",
       {{"dave", kYes}, {"carol", kYes}, {"bob", kYes}},
       std::nullopt,
       {},
       {"bob", "carol", "dave"}},
      {"the shared key counted for treasury",
       {{"erin", kYes}, {"carol", kYes}, {"bob", kYes}},
       std::nullopt,
       {},
       {"bob", "carol", "erin"}},
      {"more than needed: keys are placed in label order",
       {{"erin", kYes}, {"dave", kYes}, {"bob", kYes}, {"carol", kYes}},
       std::nullopt,
       {},
       {"bob", "carol", "dave"}},
      {"the requester's own approval does not count",
       {{"alice", kYes}, {"bob", kYes}, {"erin", kYes}},
       RefusalCode::kApprovalsMissing,
       {"needs 2 of treasury (have 1: bob), 1 of security (have 1: erin)",
        "the requester alice approved its own intent, which does not count"},
       {}},
      {"a key outside the groups does not count",
       {{"admin", kYes}, {"bob", kYes}, {"erin", kYes}},
       RefusalCode::kApprovalsMissing,
       {"needs 2 of treasury (have 1: bob), 1 of security (have 1: erin)"},
       {}},
      {"a reject by a required approver refuses although the thresholds are met",
       {{"bob", kYes}, {"dave", kYes}, {"erin", kYes}, {"carol", kNo}},
       RefusalCode::kApprovalRejected,
       {"rule 'two and one': carol of required group treasury rejected (approval 3)"},
       {}},
      {"a reject by a security member",
       {{"bob", kYes}, {"dave", kYes}, {"erin", kNo}},
       RefusalCode::kApprovalRejected,
       {"erin of required group security rejected (approval 2)"},
       {}},
      {"a reject by the requester, a treasury member",
       {{"bob", kYes}, {"dave", kYes}, {"erin", kYes}, {"alice", kNo}},
       RefusalCode::kApprovalRejected,
       {"alice of required group treasury rejected (approval 3)"},
       {}},
      {"a reject by a key outside the required groups is ignored",
       {{"bob", kYes}, {"dave", kYes}, {"erin", kYes}, {"admin", kNo}},
       std::nullopt,
       {},
       {"bob", "dave", "erin"}},
  };
  const Policy policy = ApprovalPolicy();
  const SignedIntent intent = Sign(BaseIntent());
  for (const ApprovalCase& c : cases) {
    SCOPED_TRACE(c.name);
    IntentWithApprovals item{.intent = intent, .approvals = {}};
    for (const auto& [label, decision] : c.approvals) {
      item.approvals.push_back(MakeApproval(intent, policy.digest(), label, decision));
    }
    const Verdict verdict = EvaluateOne(item, policy);
    if (!c.refused.has_value()) {
      ASSERT_TRUE(IsAllowed(verdict));
      EXPECT_EQ(verdict.intents[0].rule, "two and one");
      EXPECT_EQ(verdict.intents[0].approvers, c.approvers);
    } else {
      EXPECT_TRUE(IsRefused(verdict, *c.refused, 0, c.parts));
      EXPECT_EQ(verdict.refusal->rule, "two and one");
    }
  }
}

TEST(EvaluateTest, DenyRuleDoesNotLookAtApprovals) {
  PolicyFields fields = BaseFields();
  fields.rules[0].action = RuleAction::kDeny;
  const Policy policy = MakePolicy(fields);
  const Verdict verdict =
      EvaluateOne(WithApprovals(Sign(BaseIntent()), policy, {"bob", "carol", "erin"}), policy);
  EXPECT_TRUE(IsRefused(verdict, RefusalCode::kRuleDenies, 0, {"rule 'open' denies"}));
}

// Step 2: one valid approval of the base intent (by bob), then one thing changed. An invalid
// approval is refused even where the rule needs no approval at all.
struct InvalidApprovalCase {
  std::string name;
  std::function<std::vector<SignedApproval>(const SignedIntent&, const Policy&)> approvals;
  std::optional<std::vector<std::string>> refused_parts;  // nullopt: allowed.
};

TEST(EvaluateTest, InvalidApprovalsAreRefused) {
  const auto by = [](const std::string& label, uint64_t time = kApproved) {
    return [=](const SignedIntent& intent, const Policy& policy) {
      return std::vector<SignedApproval>{
          MakeApproval(intent, policy.digest(), label, Decision::kApprove, time)};
    };
  };
  IntentFields other_fields = BaseIntent();
  other_fields.id[0] = 0x02;
  other_fields.outputs[0].amount = Btc("4502.9");
  const SignedIntent other = Sign(other_fields);
  Digest other_policy{};
  other_policy.fill(0xaa);

  const std::vector<InvalidApprovalCase> cases = {
      {"valid", by("bob"), std::nullopt},
      {"approval of another intent",
       [&](const SignedIntent&, const Policy& policy) {
         return std::vector<SignedApproval>{MakeApproval(other, policy.digest(), "bob")};
       },
       std::vector<std::string>{"approval 0 by bob: for another intent"}},
      {"approval under another policy",
       [&](const SignedIntent& intent, const Policy&) {
         return std::vector<SignedApproval>{MakeApproval(intent, other_policy, "bob")};
       },
       std::vector<std::string>{"approval 0 by bob: for another policy"}},
      {"approval before the intent was created", by("bob", kCreated - 1),
       std::vector<std::string>{"approval 0 by bob: made before the intent was created"}},
      {"approval after the intent expired", by("bob", kExpires),
       std::vector<std::string>{"approval 0 by bob: made after the intent expired"}},
      {"approver not named in the policy", by("mallory"),
       std::vector<std::string>{"approval 0 by key " + IdPrefix("mallory"),
                                "not a key of the policy"}},
      {"approval at the clock skew", by("bob", kNow + kMaxClockSkew), std::nullopt},
      {"approval beyond the clock skew", by("bob", kNow + kMaxClockSkew + 1),
       std::vector<std::string>{"approval 0 by bob: made at " +
                                std::to_string(kNow + kMaxClockSkew + 1)}},
      {"the same key twice",
       [](const SignedIntent& intent, const Policy& policy) {
         return std::vector<SignedApproval>{
             MakeApproval(intent, policy.digest(), "bob"),
             MakeApproval(intent, policy.digest(), "carol"),
             MakeApproval(intent, policy.digest(), "bob", Decision::kApprove, kApproved + 1)};
       },
       std::vector<std::string>{"approval 2 by bob: the same key gave approval 0"}},
      {"the same key approving and rejecting",
       [](const SignedIntent& intent, const Policy& policy) {
         return std::vector<SignedApproval>{
             MakeApproval(intent, policy.digest(), "bob", Decision::kReject),
             MakeApproval(intent, policy.digest(), "bob", Decision::kApprove, kApproved + 1)};
       },
       std::vector<std::string>{"approval 1 by bob: the same key gave approval 0"}},
  };
  const Policy policy = MakePolicy(BaseFields());  // The open rule needs no approval.
  const SignedIntent intent = Sign(BaseIntent());
  for (const InvalidApprovalCase& c : cases) {
    SCOPED_TRACE(c.name);
    const Verdict verdict =
        EvaluateOne({.intent = intent, .approvals = c.approvals(intent, policy)}, policy);
    if (!c.refused_parts.has_value()) {
      EXPECT_TRUE(IsAllowed(verdict));
    } else {
      EXPECT_TRUE(IsRefused(verdict, RefusalCode::kInvalidApproval, 0, *c.refused_parts));
    }
  }
}

TEST(EvaluateTest, ApprovalMovedToAnotherIntentOfTheRequestIsRefused) {
  const Policy policy = ApprovalPolicy();
  IntentFields small_fields = BaseIntent();
  small_fields.outputs[0].amount = Btc("0.001");
  IntentFields large_fields = BaseIntent();
  large_fields.id[0] = 0x02;
  large_fields.outputs[0].amount = Btc("45");
  const SignedIntent small = Sign(small_fields);
  const SignedIntent large = Sign(large_fields);
  const IntentWithApprovals approved_small = WithApprovals(small, policy, {"bob", "dave", "erin"});

  // Honest: each intent with its own approvals.
  EXPECT_TRUE(IsAllowed(Evaluate(
      {approved_small, WithApprovals(large, policy, {"bob", "dave", "erin"})}, policy, {}, kNow)));

  // The approvals of the small intent presented for the large one.
  IntentWithApprovals moved{.intent = large, .approvals = approved_small.approvals};
  const Verdict verdict = Evaluate({approved_small, moved}, policy, {}, kNow);
  EXPECT_TRUE(IsRefused(verdict, RefusalCode::kInvalidApproval, 1,
                        {"intent 1 (id 02", "approval 0 by bob: for another intent"}));
}

// The attack of DESIGN.md section 1: the output of a signed intent altered on its way to the
// signer. It never reaches evaluation: the signed object does not decode.
TEST(EvaluateTest, IntentAlteredAfterSigningDoesNotDecode) {
  const SignedIntent honest = Sign(BaseIntent());
  IntentFields altered_fields = BaseIntent();
  altered_fields.outputs[0].address = Address(0x66);  // The attacker's address.
  const Intent altered = Intent::Create(altered_fields).value();

  // map {0: the altered intent, 1: the requester's signature of the honest one}.
  CborWriter head;
  head.MapHeader(2);
  head.Uint(0);
  std::vector<uint8_t> forged = head.bytes();
  forged.insert(forged.end(), altered.Encode().begin(), altered.Encode().end());
  CborWriter tail;
  tail.Uint(1);
  EncodeSignature(honest.signature(), tail);
  forged.insert(forged.end(), tail.bytes().begin(), tail.bytes().end());

  // The same construction with the honest intent decodes, so the refusal is the signature's.
  std::vector<uint8_t> rebuilt = head.bytes();
  rebuilt.insert(rebuilt.end(), honest.intent().Encode().begin(), honest.intent().Encode().end());
  rebuilt.insert(rebuilt.end(), tail.bytes().begin(), tail.bytes().end());
  EXPECT_TRUE(SignedIntent::Decode(rebuilt).ok());

  const util::Result<SignedIntent> decoded = SignedIntent::Decode(forged);
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().code(), util::StatusCode::kPermissionDenied);
  EXPECT_NE(decoded.status().message().find("requester signature"), std::string::npos)
      << decoded.status();
}

// Steps 5 to 7: each case changes one limit of the base policy or one thing of the request
// (two intents from "hot" of 0.5 and 0.3 BTC, one output each, fee ceiling 10 sat/vB).
struct LimitCase {
  std::string name;
  std::function<void(Limits&)> limits;
  std::function<void(IntentFields&)> change_second;
  std::optional<RefusalCode> refused;
  std::string limit;
  std::optional<size_t> intent_index;
  std::vector<std::string> parts;
};

TEST(EvaluateTest, TransactionLimits) {
  const auto none = [](IntentFields&) {};
  const std::vector<LimitCase> cases = {
      {"no limits", [](Limits&) {}, none, std::nullopt, "", std::nullopt, {}},
      {"per_transaction equal",
       [](Limits& l) { l.per_transaction = Btc("0.8"); },
       none,
       std::nullopt,
       "",
       std::nullopt,
       {}},
      {"per_transaction below the total",
       [](Limits& l) { l.per_transaction = Sats(79999999); },
       none,
       RefusalCode::kPerTransactionLimit,
       "per_transaction",
       std::nullopt,
       {"0.80000000 BTC", "0.79999999 BTC"}},
      {"outputs_max equal",
       [](Limits& l) { l.outputs_max = 2; },
       none,
       std::nullopt,
       "",
       std::nullopt,
       {}},
      {"outputs_max below",
       [](Limits& l) { l.outputs_max = 2; },
       [](IntentFields& f) {
         f.outputs.push_back({Address(2), Btc("0.1")});
       },
       RefusalCode::kOutputsLimit,
       "outputs_max",
       std::nullopt,
       {"3 intent outputs", "outputs_max 2"}},
      {"intent fee rate ceiling equal to the policy's",
       [](Limits& l) { l.fee_rate_max_sat_per_kvb = 10000; },
       none,
       std::nullopt,
       "",
       std::nullopt,
       {}},
      {"intent fee rate ceiling above the policy's",
       [](Limits& l) { l.fee_rate_max_sat_per_kvb = 10000; },
       [](IntentFields& f) { f.fee.max_rate_sat_per_kvb = 10001; },
       RefusalCode::kFeeCeilingExceeded,
       "fee_rate_max",
       1,
       {"intent 1", "max_rate"}},
      {"intent max_fee equal to the policy's",
       [](Limits& l) { l.fee_max = Sats(5000); },
       [](IntentFields& f) { f.fee.max_fee = Sats(5000); },
       std::nullopt,
       "",
       std::nullopt,
       {}},
      {"intent max_fee above the policy's",
       [](Limits& l) { l.fee_max = Sats(5000); },
       [](IntentFields& f) { f.fee.max_fee = Sats(5001); },
       RefusalCode::kFeeCeilingExceeded,
       "fee_max",
       1,
       {"intent 1", "max_fee 0.00005001 BTC", "fee_max 0.00005000 BTC"}},
      {"an intent without max_fee under a policy fee_max",
       [](Limits& l) { l.fee_max = Sats(5000); },
       none,
       std::nullopt,
       "",
       std::nullopt,
       {}},
  };
  for (const LimitCase& c : cases) {
    SCOPED_TRACE(c.name);
    PolicyFields fields = BaseFields();
    c.limits(fields.limits);
    const Policy policy = MakePolicy(fields);
    IntentFields second = BaseIntent();
    second.id[0] = 0x02;
    second.outputs[0].amount = Btc("0.3");
    c.change_second(second);
    const Verdict verdict = Evaluate(
        {WithApprovals(Sign(BaseIntent()), policy, {}), WithApprovals(Sign(second), policy, {})},
        policy, VelocityState{}, kNow);
    if (!c.refused.has_value()) {
      ASSERT_TRUE(IsAllowed(verdict));
      EXPECT_EQ(verdict.intents.size(), 2u);
    } else {
      EXPECT_TRUE(IsRefused(verdict, *c.refused, c.intent_index, c.parts));
      EXPECT_EQ(verdict.refusal->limit, c.limit);
    }
  }
}

TEST(EvaluateTest, IntentsTotallingMoreThanAllBitcoinAreRefused) {
  const Policy policy = MakePolicy(BaseFields());  // No per_transaction limit.
  IntentFields first = BaseIntent();
  first.outputs[0].amount = Btc("11000000");
  IntentFields second = first;
  second.id[0] = 0x02;
  const Verdict verdict =
      Evaluate({WithApprovals(Sign(first), policy, {}), WithApprovals(Sign(second), policy, {})},
               policy, VelocityState{}, kNow);
  EXPECT_TRUE(IsRefused(verdict, RefusalCode::kPerTransactionLimit, std::nullopt,
                        {"more than 21000000 BTC"}));
  EXPECT_EQ(verdict.refusal->limit, "max_money");

  second.outputs[0].amount = Btc("10000000");
  EXPECT_TRUE(IsAllowed(
      Evaluate({WithApprovals(Sign(first), policy, {}), WithApprovals(Sign(second), policy, {})},
               policy, VelocityState{}, kNow)));
}

// Step 9: the base intent (10 sat/vB ceiling) paid by a transaction of `fee` for `vsize`.
struct FeeCase {
  std::string name;
  std::function<void(Limits&)> limits;
  std::function<void(FeeCeiling&)> ceiling;
  int64_t fee;
  uint64_t vsize;
  std::optional<std::string> refused_limit;  // nullopt: allowed.
  std::optional<size_t> intent_index;
};

TEST(EvaluateTest, TransactionFees) {
  const auto no_limits = [](Limits&) {};
  const auto base_ceiling = [](FeeCeiling&) {};
  const auto policy_rate = [](uint64_t rate) {
    return [=](Limits& l) { l.fee_rate_max_sat_per_kvb = rate; };
  };
  const auto no_intent_rate = [](FeeCeiling& c) {
    c.max_rate_sat_per_kvb.reset();
    c.max_fee = Btc("1");
  };
  const std::vector<FeeCase> cases = {
      {"at the intent's rate", no_limits, base_ceiling, 1000, 100, std::nullopt, std::nullopt},
      {"above the intent's rate", no_limits, base_ceiling, 1001, 100, "max_rate", 0},
      // 10001 sat for 1001 vB is 9991.0089... sat/kvB: rounding down would let it pass 9991.
      {"above the policy's rate by a fraction", policy_rate(9991), no_intent_rate, 10001, 1001,
       "fee_rate_max", std::nullopt},
      {"below the policy's rate", policy_rate(9992), no_intent_rate, 10001, 1001, std::nullopt,
       std::nullopt},
      {"above the intent's rate by a fraction", no_limits,
       [](FeeCeiling& c) { c.max_rate_sat_per_kvb = 9991; }, 10001, 1001, "max_rate", 0},
      {"a huge size does not overflow the policy's rate", policy_rate(1), no_intent_rate, 1000,
       std::numeric_limits<uint64_t>::max(), std::nullopt, std::nullopt},
      {"a huge size does not overflow the intent's rate", no_limits, base_ceiling, 1000,
       std::numeric_limits<uint64_t>::max(), std::nullopt, std::nullopt},
      {"at the policy's fee_max", [](Limits& l) { l.fee_max = Sats(1000); }, base_ceiling, 1000,
       100, std::nullopt, std::nullopt},
      {"above the policy's fee_max", [](Limits& l) { l.fee_max = Sats(999); }, base_ceiling, 1000,
       100, "fee_max", std::nullopt},
      {"at the intent's max_fee", no_limits, [](FeeCeiling& c) { c.max_fee = Sats(1000); }, 1000,
       100, std::nullopt, std::nullopt},
      {"above the intent's max_fee", no_limits, [](FeeCeiling& c) { c.max_fee = Sats(999); }, 1000,
       100, "max_fee", 0},
  };
  for (const FeeCase& c : cases) {
    SCOPED_TRACE(c.name);
    PolicyFields fields = BaseFields();
    c.limits(fields.limits);
    const Policy policy = MakePolicy(fields);
    IntentFields intent = BaseIntent();
    c.ceiling(intent.fee);
    const Verdict verdict =
        Evaluate({WithApprovals(Sign(intent), policy, {})}, policy, VelocityState{}, kNow,
                 TransactionFacts{.fee = Sats(c.fee), .vsize = c.vsize});
    if (!c.refused_limit.has_value()) {
      EXPECT_TRUE(IsAllowed(verdict));
    } else {
      EXPECT_TRUE(IsRefused(verdict, RefusalCode::kFeeCeilingExceeded, c.intent_index));
      EXPECT_EQ(verdict.refusal->limit, *c.refused_limit);
    }
  }
}

TEST(EvaluateTest, FeeRateInRefusalIsExactOrSaysRounded) {
  PolicyFields fields = BaseFields();
  fields.limits.fee_rate_max_sat_per_kvb = 9991;
  const Policy policy = MakePolicy(fields);
  IntentFields intent = BaseIntent();
  intent.fee.max_rate_sat_per_kvb = 9991;
  const std::vector<IntentWithApprovals> request = {WithApprovals(Sign(intent), policy, {})};
  EXPECT_TRUE(IsRefused(
      Evaluate(request, policy, {}, kNow, TransactionFacts{.fee = Sats(10001), .vsize = 1001}),
      RefusalCode::kFeeCeilingExceeded, std::nullopt,
      {"fee 0.00010001 BTC for 1001 vB (more than 9.991 sat/vB)", "fee_rate_max 9.991 sat/vB"}));
  EXPECT_TRUE(IsRefused(
      Evaluate(request, policy, {}, kNow, TransactionFacts{.fee = Sats(10000), .vsize = 1000}),
      RefusalCode::kFeeCeilingExceeded, std::nullopt, {"for 1000 vB (10 sat/vB)"}));
}

// Step 8: windows of 1 hour (max 0.6 BTC) and 1 day (max 1 BTC) per wallet. The request pays
// `hot` and `cold` from two intents.
struct WindowCase {
  std::string name;
  std::vector<Spend> spends;
  std::string hot_amount;
  std::optional<std::string> refused_limit;  // nullopt: allowed.
  std::vector<std::string> parts;
};

TEST(EvaluateTest, VelocityWindows) {
  const auto spend = [](std::string wallet, uint64_t age, std::string_view amount) {
    return Spend{.wallet = std::move(wallet), .time = kNow - age, .amount = Btc(amount)};
  };
  const std::vector<WindowCase> cases = {
      {"no spends", {}, "0.5", std::nullopt, {}},
      {"up to the day's max", {spend("hot", 86399, "0.5")}, "0.5", std::nullopt, {}},
      {"above the day's max",
       {spend("hot", 86399, "0.5")},
       "0.50000001",
       "window 1d",
       {"wallet hot", "used 0.50000000 BTC", "this 0.50000001 BTC", "max 1.00000000 BTC"}},
      {"a spend at the window's edge is outside",
       {spend("hot", 86400, "0.5")},
       "0.50000001",
       std::nullopt,
       {}},
      {"a spend after now is not counted",
       {Spend{.wallet = "hot", .time = kNow + 1, .amount = Btc("1")}},
       "0.5",
       std::nullopt,
       {}},
      {"another wallet's spends do not count", {spend("warm", 10, "1")}, "0.5", std::nullopt, {}},
      {"the shorter window binds first",
       {spend("hot", 3599, "0.2")},
       "0.40000001",
       "window 1h",
       {"used 0.20000000 BTC", "this 0.40000001 BTC", "max 0.60000000 BTC"}},
      {"the shorter window's edge", {spend("hot", 3600, "0.2")}, "0.40000001", std::nullopt, {}},
      {"several spends add up",
       {spend("hot", 50000, "0.3"), spend("hot", 40000, "0.3"), spend("hot", 30000, "0.3")},
       "0.10000001",
       "window 1d",
       {"used 0.90000000 BTC"}},
      {"the other wallet's window",
       {spend("cold", 100, "0.5")},
       "0.1",
       "window 1h",
       {"wallet cold", "used 0.50000000 BTC", "this 0.20000000 BTC"}},
      {"a used amount beyond the max",
       {spend("hot", 10, "0.7"), spend("hot", 20, "0.7")},
       "0.1",
       "window 1h",
       {"used more than 0.60000000 BTC"}},
  };
  PolicyFields fields = BaseFields();
  fields.limits.windows = {{.duration = 86400, .max = Btc("1")},
                           {.duration = 3600, .max = Btc("0.6")}};
  const Policy policy = MakePolicy(fields);
  IntentFields cold = BaseIntent();
  cold.id[0] = 0x02;
  cold.wallet = "cold";
  cold.outputs[0].amount = Btc("0.2");
  for (const WindowCase& c : cases) {
    SCOPED_TRACE(c.name);
    IntentFields hot = BaseIntent();
    hot.outputs[0].amount = Btc(c.hot_amount);
    const Verdict verdict =
        Evaluate({WithApprovals(Sign(hot), policy, {}), WithApprovals(Sign(cold), policy, {})},
                 policy, VelocityState{.spends = c.spends}, kNow);
    if (!c.refused_limit.has_value()) {
      ASSERT_TRUE(IsAllowed(verdict));
      EXPECT_EQ(verdict.spends,
                (std::vector<Spend>{{.wallet = "cold", .time = kNow, .amount = Btc("0.2")},
                                    {.wallet = "hot", .time = kNow, .amount = Btc(c.hot_amount)}}));
    } else {
      EXPECT_TRUE(IsRefused(verdict, RefusalCode::kWindowLimit, std::nullopt, c.parts));
      EXPECT_EQ(verdict.refusal->limit, *c.refused_limit);
    }
  }
}

TEST(EvaluateTest, WindowCountsEveryIntentOfTheWallet) {
  PolicyFields fields = BaseFields();
  fields.limits.windows = {{.duration = 86400, .max = Btc("1")}};
  const Policy policy = MakePolicy(fields);
  IntentFields second = BaseIntent();
  second.id[0] = 0x02;
  const Verdict at_max = Evaluate(
      {WithApprovals(Sign(BaseIntent()), policy, {}), WithApprovals(Sign(second), policy, {})},
      policy, VelocityState{}, kNow);
  ASSERT_TRUE(IsAllowed(at_max));
  EXPECT_EQ(at_max.spends,
            (std::vector<Spend>{{.wallet = "hot", .time = kNow, .amount = Btc("1")}}));

  second.outputs[0].amount = Sats(50000001);
  const Verdict above = Evaluate(
      {WithApprovals(Sign(BaseIntent()), policy, {}), WithApprovals(Sign(second), policy, {})},
      policy, VelocityState{}, kNow);
  EXPECT_TRUE(IsRefused(above, RefusalCode::kWindowLimit, std::nullopt,
                        {"used 0.00000000 BTC", "this 1.00000001 BTC"}));
}

// A fee leaves the wallet too: with the transaction known, it counts toward the windows and
// is part of the spend recorded, so that fees cannot move past a window what outputs may not.
TEST(EvaluateTest, WindowCountsTheFeeWhenTheTransactionIsKnown) {
  PolicyFields fields = BaseFields();
  fields.limits.windows = {{.duration = 86400, .max = Btc("1")}};
  const Policy policy = MakePolicy(fields);
  IntentFields intent = BaseIntent();  // 0.5 BTC.
  intent.fee = {.max_fee = Btc("0.6"), .max_rate_sat_per_kvb = std::nullopt};
  const std::vector<IntentWithApprovals> request = {WithApprovals(Sign(intent), policy, {})};
  const VelocityState used{.spends = {{.wallet = "hot", .time = kNow - 10, .amount = Btc("0.4")}}};

  // Without the transaction: 0.4 + 0.5 fits the 1 BTC window.
  ASSERT_TRUE(IsAllowed(Evaluate(request, policy, used, kNow)));
  // With a fee of 0.1 BTC it just fits, and the spend recorded is 0.6 BTC.
  const Verdict at_max =
      Evaluate(request, policy, used, kNow, TransactionFacts{.fee = Btc("0.1"), .vsize = 200});
  ASSERT_TRUE(IsAllowed(at_max));
  EXPECT_EQ(at_max.spends,
            (std::vector<Spend>{{.wallet = "hot", .time = kNow, .amount = Btc("0.6")}}));
  // One satoshi more of fee is above the window.
  const Verdict above = Evaluate(request, policy, used, kNow,
                                 TransactionFacts{.fee = Sats(10'000'001), .vsize = 200});
  EXPECT_TRUE(IsRefused(
      above, RefusalCode::kWindowLimit, std::nullopt,
      {"used 0.40000000 BTC", "this 0.60000001 BTC (with the fee)", "max 1.00000000 BTC"}));
}

TEST(EvaluateTest, FirstRefusedIntentDecidesAndIsNamed) {
  const Policy policy = ApprovalPolicy();
  IntentFields second = BaseIntent();
  second.id[0] = 0x02;
  const SignedIntent first = Sign(BaseIntent());
  const SignedIntent unapproved = Sign(second);
  const Verdict verdict = Evaluate({WithApprovals(first, policy, {"bob", "dave", "erin"}),
                                    WithApprovals(unapproved, policy, {"bob"})},
                                   policy, VelocityState{}, kNow);
  EXPECT_TRUE(
      IsRefused(verdict, RefusalCode::kApprovalsMissing, 1, {"intent 1 (id 02", "have 1: bob"}));
}

TEST(EvaluateTest, AllowedRequestReportsEachIntent) {
  PolicyFields fields = BaseFields();
  Rule small = OpenRule();
  small.name = "small";
  small.amount_max = Btc("0.1");
  fields.rules[0].name = "large";
  fields.rules[0].approvals = {{.group = "security", .threshold = 1}};
  fields.rules.insert(fields.rules.begin(), small);
  const Policy policy = MakePolicy(fields);
  IntentFields tiny = BaseIntent();
  tiny.id[0] = 0x02;
  tiny.outputs[0].amount = Btc("0.1");
  const Verdict verdict = Evaluate({WithApprovals(Sign(BaseIntent()), policy, {"erin", "bob"}),
                                    WithApprovals(Sign(tiny), policy, {})},
                                   policy, VelocityState{}, kNow);
  ASSERT_TRUE(IsAllowed(verdict));
  EXPECT_EQ(verdict.intents, (std::vector<IntentDecision>{{.rule = "large", .approvers = {"erin"}},
                                                          {.rule = "small", .approvers = {}}}));
  EXPECT_EQ(verdict.spends,
            (std::vector<Spend>{{.wallet = "hot", .time = kNow, .amount = Btc("0.6")}}));
}

TEST(EvaluateTest, EvaluationIsDeterministic) {
  const Policy policy = ApprovalPolicy();
  const IntentWithApprovals item =
      WithApprovals(Sign(BaseIntent()), policy, {"dave", "carol", "bob"});
  const Verdict a = EvaluateOne(item, policy);
  const Verdict b = EvaluateOne(item, policy);
  ASSERT_TRUE(IsAllowed(a));
  EXPECT_EQ(a.intents, b.intents);
  EXPECT_EQ(a.spends, b.spends);
}

}  // namespace
}  // namespace kinko::policy
