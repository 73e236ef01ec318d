#include "policy/lint.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

namespace kinko::policy {
namespace {

KeyId IdOf(uint8_t fill) {
  KeyId id;
  id.fill(fill);
  return id;
}

btc::Amount Btc(std::string_view text) { return btc::Amount::ParseBtc(text).value(); }

Rule MakeRule(std::string name, RuleAction action = RuleAction::kAllow) {
  Rule rule;
  rule.name = std::move(name);
  rule.action = action;
  return rule;
}

// A policy without findings:
//   keys   admin, ops-bot, bob, carol, dave; admins {admin}
//   groups bots {ops-bot}, treasury {bob, carol, dave}
//   limits 10 BTC per wallet per 24h
//   rules  "small":        hot, bots, <= 0.5 BTC, allow without approval
//          "approved":     bots, <= 5 BTC, allow with 2 of treasury
//          "nothing else": deny
PolicyFields CleanFields() {
  PolicyFields f;
  f.network = btc::Network::kMainnet;
  f.sequence = 1;
  f.governance = {.admins = {"admin"}, .threshold = 1};
  f.keys = {{"admin", IdOf(1)},
            {"ops-bot", IdOf(2)},
            {"bob", IdOf(3)},
            {"carol", IdOf(4)},
            {"dave", IdOf(5)}};
  f.groups = {{"bots", {"ops-bot"}}, {"treasury", {"bob", "carol", "dave"}}};
  f.limits.windows = {{.duration = 86400, .max = Btc("10")}};
  Rule small = MakeRule("small");
  small.wallets = {"hot"};
  small.requesters = {"bots"};
  small.amount_max = Btc("0.5");
  Rule approved = MakeRule("approved");
  approved.requesters = {"bots"};
  approved.amount_max = Btc("5");
  approved.approvals = {{.group = "treasury", .threshold = 2}};
  f.rules = {small, approved, MakeRule("nothing else", RuleAction::kDeny)};
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

std::string Describe(const LintReport& report) {
  std::string out;
  for (const LintFinding& finding : report.findings) {
    out += "  " + std::string(LintKindName(finding.kind)) + " " + finding.subject + ": " +
           finding.message + "\n";
  }
  for (const UnapprovedExposure& e : report.exposure) {
    out += "  exposure " + e.requester + ": " +
           (e.max_24h.has_value() ? e.max_24h->ToBtcString() : "unbounded") + " (" + e.explanation +
           ")\n";
  }
  return out;
}

TEST(LintTest, KindNames) {
  EXPECT_EQ(LintKindName(LintKind::kShadowedRule), "shadowed_rule");
  EXPECT_EQ(LintKindName(LintKind::kUnlimitedAllow), "unlimited_allow");
  EXPECT_EQ(LintKindName(LintKind::kGroupTooSmall), "group_too_small");
  EXPECT_EQ(LintKindName(LintKind::kSelfApprovalPossible), "self_approval_possible");
  EXPECT_EQ(LintKindName(LintKind::kUnusedGroup), "unused_group");
  EXPECT_EQ(LintKindName(LintKind::kUnusedKey), "unused_key");
}

TEST(LintTest, CleanPolicyHasNoFindings) {
  const LintReport report = Lint(MakePolicy(CleanFields()));
  EXPECT_TRUE(report.findings.empty()) << Describe(report);
}

// Each case changes the clean policy and expects exactly `findings` (kind and subject).
struct LintCase {
  std::string name;
  std::function<void(PolicyFields&)> change;
  std::vector<std::pair<LintKind, std::string>> findings;
};

TEST(LintTest, Findings) {
  const std::vector<LintCase> cases = {
      {"a key that can do nothing",
       [](PolicyFields& f) {
         f.keys.push_back({"erin", IdOf(6)});
       },
       {{LintKind::kUnusedKey, "key 'erin'"}}},
      {"a key used only through a rule open to any requester is used",
       [](PolicyFields& f) {
         f.keys.push_back({"erin", IdOf(6)});
         Rule open = MakeRule("anyone may ask");
         open.amount_max = Btc("0.1");
         f.rules.insert(f.rules.begin() + 2, open);
       },
       {}},
      {"a group no rule names",
       [](PolicyFields& f) {
         f.groups.push_back({"spare", {"bob"}});
       },
       {{LintKind::kUnusedGroup, "group 'spare'"}}},
      {"a rule covered by an earlier one",
       [](PolicyFields& f) {
         Rule tiny = MakeRule("tiny");
         tiny.wallets = {"hot"};
         tiny.requesters = {"ops-bot"};  // The only member of bots.
         tiny.amount_max = Btc("0.1");
         f.rules.insert(f.rules.begin() + 1, tiny);
       },
       {{LintKind::kShadowedRule, "rule 'tiny'"}}},
      {"a rule after the final deny rule",
       [](PolicyFields& f) {
         Rule late = MakeRule("late", RuleAction::kDeny);
         late.wallets = {"cold"};
         f.rules.push_back(late);
       },
       {{LintKind::kShadowedRule, "rule 'late'"}}},
      {"an allow rule without any amount bound",
       [](PolicyFields& f) {
         f.limits.windows.clear();
         RuleNamed(f, "approved").amount_max.reset();
       },
       {{LintKind::kUnlimitedAllow, "rule 'approved'"}}},
      {"a per-transaction limit bounds an allow rule without amount_max",
       [](PolicyFields& f) {
         f.limits.windows.clear();
         f.limits.per_transaction = Btc("1");
         RuleNamed(f, "approved").amount_max.reset();
       },
       {}},
      {"a requester in the approving group leaves too few approvers",
       [](PolicyFields& f) {
         RuleNamed(f, "approved").requesters = {"bob", "bots"};
         RuleNamed(f, "approved").approvals = {{.group = "treasury", .threshold = 3}};
       },
       {{LintKind::kGroupTooSmall, "rule 'approved'"},
        {LintKind::kSelfApprovalPossible, "rule 'approved'"}}},
      {"requirements together need more keys than their groups have",
       [](PolicyFields& f) {
         f.groups.push_back({"seniors", {"carol", "dave"}});
         RuleNamed(f, "approved").approvals = {{.group = "treasury", .threshold = 2},
                                               {.group = "seniors", .threshold = 2}};
       },
       {{LintKind::kGroupTooSmall, "rule 'approved'"}}},
      {"a requester who may also approve",
       [](PolicyFields& f) {
         RuleNamed(f, "approved").requesters = {"bots", "carol"};
       },
       {{LintKind::kSelfApprovalPossible, "rule 'approved'"}}},
      {"a rule open to any requester may be approved by its requester",
       [](PolicyFields& f) { RuleNamed(f, "approved").requesters.clear(); },
       {{LintKind::kSelfApprovalPossible, "rule 'approved'"}}},
  };
  for (const LintCase& c : cases) {
    SCOPED_TRACE(c.name);
    PolicyFields f = CleanFields();
    c.change(f);
    const LintReport report = Lint(MakePolicy(f));
    std::vector<std::pair<LintKind, std::string>> have;
    for (const LintFinding& finding : report.findings) {
      have.emplace_back(finding.kind, finding.subject);
      EXPECT_FALSE(finding.message.empty());
    }
    EXPECT_EQ(have, c.findings) << Describe(report);
  }
}

TEST(LintTest, FindingsComeInPolicyOrder) {
  PolicyFields f = CleanFields();
  f.keys.push_back({"erin", IdOf(6)});
  f.groups.push_back({"spare", {"bob"}});
  f.rules.push_back(MakeRule("late", RuleAction::kDeny));
  const LintReport report = Lint(MakePolicy(f));
  std::vector<LintKind> kinds;
  for (const LintFinding& finding : report.findings) kinds.push_back(finding.kind);
  EXPECT_EQ(kinds, (std::vector<LintKind>{LintKind::kUnusedKey, LintKind::kUnusedGroup,
                                          LintKind::kShadowedRule}))
      << Describe(report);
}

TEST(LintTest, SelfApprovalMessageNamesTheKeys) {
  PolicyFields f = CleanFields();
  RuleNamed(f, "approved").requesters = {"bots", "carol", "dave"};
  const LintReport report = Lint(MakePolicy(f));
  ASSERT_EQ(report.findings.size(), 1u) << Describe(report);
  EXPECT_EQ(report.findings[0].message,
            "keys 'carol', 'dave' may both request and approve under rule 'approved': their "
            "approvals never count for their own intents, so such an intent needs another "
            "approver");
}

// Exposure cases: the clean policy lets ops-bot move up to 0.5 BTC per intent from "hot"
// without approval, and 10 BTC per 24h leave a wallet at most.
struct ExposureCase {
  std::string name;
  std::function<void(PolicyFields&)> change;
  std::vector<std::pair<std::string, std::optional<int64_t>>> exposure;  // Label, sats.
  std::string explanation_part;                                          // Of the first exposure.
};

TEST(LintTest, UnapprovedExposure) {
  constexpr int64_t kBtc = btc::kCoin;
  const std::vector<ExposureCase> cases = {
      {"one wallet, one day window",
       [](PolicyFields&) {},
       {{"ops-bot", 10 * kBtc}},
       "1 wallet times 10.00000000 BTC in 24h by the window 24h of 10.00000000 BTC per wallet"},
      {"a shorter window is repeated over the day",
       [](PolicyFields& f) { f.limits.windows.push_back({.duration = 3600, .max = Btc("0.1")}); },
       {{"ops-bot", 24 * kBtc / 10}},
       "window 1h of 0.10000000 BTC per wallet (24 windows in 24h)"},
      {"a shorter window looser over the day than the day window",
       [](PolicyFields& f) { f.limits.windows.push_back({.duration = 3600, .max = Btc("1")}); },
       {{"ops-bot", 10 * kBtc}},
       "window 24h"},
      {"a window that does not divide the day counts its partial period",
       [](PolicyFields& f) { f.limits.windows = {{.duration = 7 * 3600, .max = Btc("1")}}; },
       {{"ops-bot", 4 * kBtc}},
       "(4 windows in 24h)"},
      {"a window longer than a day bounds the day",
       [](PolicyFields& f) { f.limits.windows = {{.duration = 7 * 86400, .max = Btc("3")}}; },
       {{"ops-bot", 3 * kBtc}},
       "window 168h"},
      {"two wallets double it",
       [](PolicyFields& f) {
         RuleNamed(f, "small").wallets = {"hot", "warm"};
       },
       {{"ops-bot", 20 * kBtc}},
       "2 wallets times 10.00000000 BTC"},
      {"any wallet is unbounded",
       [](PolicyFields& f) { RuleNamed(f, "small").wallets.clear(); },
       {{"ops-bot", std::nullopt}},
       "the policy does not bound the number of wallets"},
      {"no window is unbounded, whatever the per-transaction limit",
       [](PolicyFields& f) {
         f.limits.windows.clear();
         f.limits.per_transaction = Btc("0.01");
       },
       {{"ops-bot", std::nullopt}},
       "no window limits the total"},
      {"rules that need approval give no exposure",
       [](PolicyFields& f) {
         std::erase_if(f.rules, [](const Rule& r) { return r.name == "small"; });
       },
       {},
       ""},
      {"a shadowed rule gives no exposure",
       [](PolicyFields& f) {
         f.rules.insert(f.rules.begin(), MakeRule("freeze", RuleAction::kDeny));
       },
       {},
       ""},
      {"a rule open to any requester exposes every key",
       [](PolicyFields& f) { RuleNamed(f, "small").requesters.clear(); },
       {{"admin", 10 * kBtc},
        {"bob", 10 * kBtc},
        {"carol", 10 * kBtc},
        {"dave", 10 * kBtc},
        {"ops-bot", 10 * kBtc}},
       "may request without approval under rules 'small'"},
  };
  for (const ExposureCase& c : cases) {
    SCOPED_TRACE(c.name);
    PolicyFields f = CleanFields();
    c.change(f);
    const LintReport report = Lint(MakePolicy(f));
    std::vector<std::pair<std::string, std::optional<int64_t>>> have;
    for (const UnapprovedExposure& e : report.exposure) {
      have.emplace_back(e.requester, e.max_24h.has_value()
                                         ? std::optional<int64_t>(e.max_24h->sats())
                                         : std::nullopt);
    }
    EXPECT_EQ(have, c.exposure) << Describe(report);
    if (!report.exposure.empty()) {
      EXPECT_NE(report.exposure[0].explanation.find(c.explanation_part), std::string::npos)
          << Describe(report);
    }
  }
}

TEST(LintTest, ExposureIsCappedAtAllTheMoney) {
  PolicyFields f = CleanFields();
  f.limits.windows = {{.duration = 1, .max = Btc("1000000")}};
  const LintReport report = Lint(MakePolicy(f));
  ASSERT_EQ(report.exposure.size(), 1u);
  EXPECT_EQ(report.exposure[0].max_24h, btc::Amount::FromSats(btc::kMaxMoney).value());
}

}  // namespace
}  // namespace kinko::policy
