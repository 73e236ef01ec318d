#include "policy/policy_toml.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "util/hex.h"

namespace kinko::policy {
namespace {

KeyId SeedKeyId(uint8_t fill) {
  const std::vector<uint8_t> seed(32, fill);
  const crypto::Ed25519PrivateKey key =
      crypto::Ed25519PrivateKey::FromSeed(crypto::SecretBytes::FromSpan(seed)).value();
  return Ed25519KeyId(key.public_key());
}

std::string ReadExample() {
  std::ifstream in(std::string(KINKO_VECTORS_DIR) + "/../../doc/examples/policy.toml");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

btc::Amount Btc(std::string_view text) { return btc::Amount::ParseBtc(text).value(); }

TEST(PolicyTomlTest, CompilesTheDocumentedExample) {
  const std::string text = ReadExample();
  ASSERT_FALSE(text.empty());
  const util::Result<Policy> policy = CompilePolicyToml(text, "policy.toml");
  ASSERT_TRUE(policy.ok()) << policy.status().ToString();
  const PolicyFields& f = policy->fields();
  EXPECT_EQ(f.network, btc::Network::kMainnet);
  EXPECT_EQ(f.sequence, 7u);
  EXPECT_EQ(f.activation_delay, 86400u);
  ASSERT_TRUE(f.predecessor);
  EXPECT_EQ(util::HexEncode(*f.predecessor),
            "5d1e5b2a8c0f43e1b7a9c6d2e4f80a1b3c5d7e9f02468ace13579bdf2468ace0");
  EXPECT_EQ(f.governance.admins, (std::vector<std::string>{"admin-1", "admin-2", "admin-3"}));
  EXPECT_EQ(f.governance.threshold, 2u);
  // The key ids are those of the seeds the file names.
  const std::vector<std::string> labels = {"admin-1", "admin-2", "admin-3", "alice",  "bob",
                                           "carol",   "dave",    "erin",    "ops-bot"};
  ASSERT_EQ(f.keys.size(), labels.size());
  for (size_t i = 0; i < labels.size(); ++i) {
    EXPECT_EQ(policy->KeyIdOf(labels[i]), SeedKeyId(static_cast<uint8_t>(0x21 + i))) << labels[i];
  }
  EXPECT_EQ(policy->Members("treasury"),
            (std::vector<KeyId>{SeedKeyId(0x25), SeedKeyId(0x26), SeedKeyId(0x27)}));
  ASSERT_EQ(f.address_book.size(), 4u);
  EXPECT_EQ(f.address_book[1].label, "cold-storage");
  EXPECT_EQ(f.address_book[2].address, "36j4NfKv6Akva9amjWrLG6MuSQym1GuEmm");
  EXPECT_EQ(f.limits.per_transaction, Btc("10"));
  ASSERT_EQ(f.limits.windows.size(), 2u);
  EXPECT_EQ(f.limits.windows[0].duration, 3600u);
  EXPECT_EQ(f.limits.windows[0].max, Btc("20"));
  EXPECT_EQ(f.limits.windows[1].duration, 86400u);
  EXPECT_EQ(f.limits.windows[1].max, Btc("100"));
  EXPECT_EQ(f.limits.fee_max, Btc("0.01"));
  EXPECT_EQ(f.limits.fee_rate_max_sat_per_kvb, 300000u);
  EXPECT_EQ(f.limits.outputs_max, 50u);
  ASSERT_EQ(f.rules.size(), 5u);
  const Rule& sweep = f.rules[0];
  EXPECT_EQ(sweep.name, "sweep to cold storage");
  EXPECT_EQ(sweep.wallets, (std::vector<std::string>{"hot", "warm"}));
  EXPECT_EQ(sweep.destination.kind, DestinationKind::kLabels);
  EXPECT_EQ(sweep.destination.labels, (std::vector<std::string>{"cold-storage"}));
  EXPECT_EQ(sweep.approvals, (std::vector<ApprovalRequirement>{{"treasury", 1}}));
  const Rule& withdrawals = f.rules[1];
  EXPECT_EQ(withdrawals.destination.kind, DestinationKind::kAny);
  EXPECT_EQ(withdrawals.amount_max, Btc("0.5"));
  EXPECT_EQ(withdrawals.outputs_max, 10u);
  EXPECT_TRUE(withdrawals.approvals.empty());
  EXPECT_EQ(withdrawals.action, RuleAction::kAllow);
  const Rule& known = f.rules[3];
  EXPECT_EQ(known.destination.kind, DestinationKind::kAddressBook);
  EXPECT_EQ(known.approvals, (std::vector<ApprovalRequirement>{{"treasury", 2}, {"security", 1}}));
  EXPECT_EQ(f.rules[4].action, RuleAction::kDeny);
  EXPECT_TRUE(f.rules[4].approvals.empty());

  const util::Result<Policy> decoded = Policy::Decode(policy->Encode());
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, *policy);
  EXPECT_EQ(decoded->fields(), f);
}

constexpr std::string_view kMinimal = R"(network = "regtest"
sequence = 1
activation_delay = "1h"

[governance]
admins = ["admin"]
threshold = 1

[keys]
admin = "0101010101010101010101010101010101010101010101010101010101010101"
)";

TEST(PolicyTomlTest, CompilesAMinimalPolicy) {
  const util::Result<Policy> policy = CompilePolicyToml(kMinimal, "min.toml");
  ASSERT_TRUE(policy.ok()) << policy.status().ToString();
  EXPECT_EQ(policy->fields().network, btc::Network::kRegtest);
  EXPECT_FALSE(policy->fields().predecessor);
  EXPECT_TRUE(policy->fields().rules.empty());
  EXPECT_EQ(policy->fields().limits, Limits{});
}

// The examples of doc/policy-encoding.md section 5. DO NOT CHANGE: the encoding is signed.
// The digests were computed from these bytes by an independent SHA-256 (Python's hashlib).
constexpr std::string_view kTestnet = R"(network = "testnet"
sequence = 2
activation_delay = "90m"
predecessor = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

[governance]
admins = ["a", "b"]
threshold = 2

[keys]
a = "0101010101010101010101010101010101010101010101010101010101010101"
b = "0202020202020202020202020202020202020202020202020202020202020202"
c = "0303030303030303030303030303030303030303030303030303030303030303"

[groups]
ops = ["c", "a"]

[[address_book]]
label = "faucet"
address = "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx"

[limits]
windows = { "1w" = "5 BTC", "7200s" = "100000 sat" }
fee_rate_max = "12.5 sat/vB"

[[rule]]
name = "faucet"
requesters = ["ops"]
destination = "address_book"
amount_min = "1000 sats"
approvals = [{ group = "ops", threshold = 1 }]

[[rule]]
name = "small"
wallets = ["w:1", "w.2"]
amount_max = "0.001 btc"
outputs_max = 3
approvals = []
)";

TEST(PolicyTomlTest, DocumentedEncodingsAndDigests) {
  const Policy minimal = CompilePolicyToml(kMinimal, "min.toml").value();
  EXPECT_EQ(util::HexEncode(minimal.Encode()),
            "a60001016772656774657374020103190e1005a200816561646d696e01010681a2006561646d696e"
            "0158200101010101010101010101010101010101010101010101010101010101010101");
  EXPECT_EQ(util::HexEncode(minimal.digest()),
            "702159c210add84e6253946582759fecebbb5f40542bb1832a91cfc41a9f6872");
  const Policy testnet = CompilePolicyToml(kTestnet, "testnet.toml").value();
  EXPECT_EQ(util::HexEncode(testnet.Encode()),
            "ab000101647465737402020319151804582000112233445566778899aabbccddeeff001122334455"
            "66778899aabbccddeeff05a200826161616201020683a20061610158200101010101010101010101"
            "010101010101010101010101010101010101010101a2006162015820020202020202020202020202"
            "0202020202020202020202020202020202020202a200616301582003030303030303030303030303"
            "030303030303030303030303030303030303030781a200636f70730182616161630881a200666661"
            "7563657401782a7462317177353038643671656a7874646734793572337a61727661727930633578"
            "77376b78706a7a737809a20182a200191c20011a000186a0a2001a00093a80011a1dcd6500031930"
            "d40a82a600666661756365740281636f70730302051903e808010981a200636f70730101a6006573"
            "6d616c6c018263772e3263773a310301061a000186a007030801");
  EXPECT_EQ(util::HexEncode(testnet.digest()),
            "bb48e3a7cc33ec35bc4948d6c0b80f1e7bf74abd33fbc3ab53bbea353dfec36a");
}

// A valid policy whose lines the error cases below refer to.
constexpr std::string_view kValid = R"(network = "mainnet"
sequence = 3
activation_delay = "2d"

[governance]
admins = ["admin-1", "admin-2"]
threshold = 2

[keys]
admin-1 = "0101010101010101010101010101010101010101010101010101010101010101"
admin-2 = "0202020202020202020202020202020202020202020202020202020202020202"
bob = "0303030303030303030303030303030303030303030303030303030303030303"
carol = "0404040404040404040404040404040404040404040404040404040404040404"

[groups]
treasury = ["bob", "carol"]

[[address_book]]
label = "cold"
address = "bc1qvyq0cc6rahyvsazfdje0twl7ez82ndmuac2lhv"

[limits]
per_transaction = "10 BTC"
windows = { "1h" = "20 BTC" }

[[rule]]
name = "x"
wallets = ["hot"]
requesters = ["bob"]
destination = ["cold"]
amount_max = "1 BTC"
approvals = [{ group = "treasury", threshold = 1 }]

[[rule]]
name = "rest"
action = "deny"
)";

// Replaces the first occurrence of `from` in kValid by `to`.
std::string Edited(std::string_view from, std::string_view to) {
  std::string text(kValid);
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

TEST(PolicyTomlTest, CompilesTheBaseOfTheErrorCases) {
  const util::Result<Policy> policy = CompilePolicyToml(kValid, "policy.toml");
  ASSERT_TRUE(policy.ok()) << policy.status().ToString();
  EXPECT_EQ(policy->fields().rules.size(), 2u);
}

TEST(PolicyTomlTest, ErrorsNameTheSourceLineAndKey) {
  struct Case {
    std::string from;
    std::string to;
    std::string message;  // The whole expected message.
  };
  const std::vector<Case> cases = {
      // Syntax.
      {"threshold = 2", "threshold = = 2", "policy.toml:7:13: "},
      // The top level.
      {"sequence = 3", "sequence = 3\nversion = 2", "policy.toml:3: version: unknown key"},
      {"network = \"mainnet\"\n", "", "policy.toml:1: network: missing"},
      {"\"mainnet\"", "\"main\"",
       "policy.toml:1: network: 'main' is not mainnet, testnet, signet or regtest"},
      {"\"mainnet\"", "1", "policy.toml:1: network: must be a string"},
      {"sequence = 3", "sequence = 0", "policy.toml:2: sequence: must be at least 1"},
      {"sequence = 3", "sequence = \"3\"", "policy.toml:2: sequence: must be an integer"},
      {"\"2d\"", "\"2 days\"",
       "policy.toml:3: activation_delay: duration '2 days': expected a positive whole number and "
       "s, m, h, d or w, as in \"24h\""},
      {"sequence = 3", "sequence = 3\npredecessor = \"AB\"",
       "policy.toml:3: predecessor: must be 64 lowercase hex characters"},
      // Governance.
      {"threshold = 2", "threshold = 2\nquorum = 2",
       "policy.toml:8: governance.quorum: unknown key"},
      {"threshold = 2", "threshold = 3",
       "policy.toml:7: governance.threshold: must be between 1 and the number of admins (2)"},
      {"threshold = 2", "", "policy.toml:5: governance.threshold: missing"},
      {"[\"admin-1\", \"admin-2\"]", "[\"admin-1\", \"admin-3\"]",
       "policy.toml:6: governance.admins[1]: 'admin-3' is not a key"},
      {"[\"admin-1\", \"admin-2\"]", "[\"admin-1\", \"admin-1\"]",
       "policy.toml:6: governance.admins[1]: 'admin-1' is listed twice"},
      {"[\"admin-1\", \"admin-2\"]", "[]", "policy.toml:6: governance.admins: names no admin"},
      // Keys.
      {"bob = \"0303", "bob = \"0303030303",
       "policy.toml:12: keys.bob: must be a key id: 64 lowercase hex characters"},
      {"carol = \"0404040404040404040404040404040404040404040404040404040404040404\"",
       "carol = \"0303030303030303030303030303030303030303030303030303030303030303\"",
       "policy.toml:13: keys.carol: the same key id as 'bob'"},
      {"carol = \"0404040404040404040404040404040404040404040404040404040404040404\"",
       "carol = \"040404040404040404040404040404040404040404040404040404040404040A\"",
       "policy.toml:13: keys.carol: must be a key id: 64 lowercase hex characters"},
      {"bob = ", "\"bob!\" = ", "policy.toml:12: keys.bob!: 'bob!' is not a valid name"},
      {"bob = ", "\"bob\\u001b\" = ",
       "policy.toml:12: keys.bob\\x1b: 'bob\\x1b' is not a valid name"},
      // Groups.
      {"treasury = [\"bob\", \"carol\"]", "treasury = [\"bob\", \"dave\"]",
       "policy.toml:16: groups.treasury[1]: 'dave' is not a key"},
      {"treasury = [\"bob\", \"carol\"]", "bob = [\"carol\"]",
       "policy.toml:16: groups.bob: 'bob' is also a key label"},
      {"treasury = [\"bob\", \"carol\"]", "treasury = []",
       "policy.toml:16: groups.treasury: has no members"},
      // Address book.
      {"label = \"cold\"", "label = \"cold\"\nmemo = \"x\"",
       "policy.toml:20: address_book[0].memo: unknown key"},
      {"bc1qvyq0cc6rahyvsazfdje0twl7ez82ndmuac2lhv", "BC1QVYQ0CC6RAHYVSAZFDJE0TWL7EZ82NDMUAC2LHV",
       "policy.toml:20: address_book[0].address: 'BC1QVYQ0CC6RAHYVSAZFDJE0TWL7EZ82NDMUAC2LHV' is "
       "not in canonical form (segwit addresses are lowercase)"},
      {"bc1qvyq0cc6rahyvsazfdje0twl7ez82ndmuac2lhv", "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx",
       "policy.toml:20: address_book[0].address: 'tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx' is "
       "not a main address: "},
      {"address = \"bc1qvyq0cc6rahyvsazfdje0twl7ez82ndmuac2lhv\"",
       "address = \"bc1qvyq0cc6rahyvsazfdje0twl7ez82ndmuac2lhv\"\n[[address_book]]\nlabel = "
       "\"again\"\naddress = \"bc1qvyq0cc6rahyvsazfdje0twl7ez82ndmuac2lhv\"",
       "policy.toml:23: address_book[1].address: 'bc1qvyq0cc6rahyvsazfdje0twl7ez82ndmuac2lhv' is "
       "already address_book[0]"},
      {"label = \"cold\"", "label = \" cold\"",
       "policy.toml:19: address_book[0].label: ' cold' is not a valid name"},
      // Limits.
      {"per_transaction = \"10 BTC\"", "per_transaction = \"10\"",
       "policy.toml:23: limits.per_transaction: amount '10': expected a number and a unit"},
      {"per_transaction = \"10 BTC\"", "per_tx = \"10 BTC\"",
       "policy.toml:23: limits.per_tx: unknown key"},
      {"{ \"1h\" = \"20 BTC\" }", "{ \"1h\" = \"20 BTC\", \"60m\" = \"30 BTC\" }",
       "policy.toml:24: limits.windows.60m: the same duration as '1h'"},
      {"{ \"1h\" = \"20 BTC\" }", "{ \"1y\" = \"20 BTC\" }",
       "policy.toml:24: limits.windows.1y: duration '1y'"},
      {"per_transaction = \"10 BTC\"", "outputs_max = 0",
       "policy.toml:23: limits.outputs_max: must be between 1 and 4294967295"},
      {"per_transaction = \"10 BTC\"", "fee_rate_max = \"300 sat/byte\"",
       "policy.toml:23: limits.fee_rate_max: fee rate '300 sat/byte'"},
      // Rules.
      {"name = \"x\"", "name = \"x\"\npriority = 1",
       "policy.toml:28: rule[0].priority: unknown key"},
      {"name = \"rest\"", "name = \"x\"", "policy.toml:35: rule 'x': the name of rule 1 too"},
      {"name = \"x\"\n", "", "policy.toml:26: rule[0].name: missing"},
      {"wallets = [\"hot\"]", "wallets = [\"hot wallet\"]",
       "policy.toml:28: rule 'x': wallets[0]: 'hot wallet' is not a wallet id"},
      {"requesters = [\"bob\"]", "requesters = [\"bob\", \"dave\"]",
       "policy.toml:29: rule 'x': requesters[1]: 'dave' is not a key or group"},
      {"destination = [\"cold\"]", "destination = [\"warm\"]",
       "policy.toml:30: rule 'x': destination[0]: 'warm' is not an address-book label"},
      {"destination = [\"cold\"]", "destination = \"everywhere\"",
       "policy.toml:30: rule 'x': destination: 'everywhere' is not \"any\", \"address_book\" or a "
       "list of address-book labels"},
      {"destination = [\"cold\"]", "destination = []",
       "policy.toml:30: rule 'x': destination: the list of labels is empty"},
      {"amount_max = \"1 BTC\"", "amount_min = \"2 BTC\"\namount_max = \"1 BTC\"",
       "policy.toml:32: rule 'x': amount_max: below amount_min"},
      {"amount_max = \"1 BTC\"", "amount_max = \"1.123456789 BTC\"",
       "policy.toml:31: rule 'x': amount_max: amount '1.123456789 BTC'"},
      {"approvals = [{ group = \"treasury\", threshold = 1 }]", "",
       "policy.toml:26: rule 'x': approvals: missing: an allow rule must list its approvals (write "
       "[] for none)"},
      {"{ group = \"treasury\", threshold = 1 }", "{ group = \"tresury\", threshold = 1 }",
       "policy.toml:32: rule 'x': approvals[0].group: 'tresury' is not a group"},
      {"{ group = \"treasury\", threshold = 1 }", "{ group = \"treasury\", threshold = 3 }",
       "policy.toml:32: rule 'x': approvals[0].threshold: must be between 1 and the size of group "
       "'treasury' (2)"},
      {"{ group = \"treasury\", threshold = 1 }",
       "{ group = \"treasury\", threshold = 1 }, { group = \"treasury\", threshold = 2 }",
       "policy.toml:32: rule 'x': approvals[1].group: 'treasury' is listed twice"},
      {"{ group = \"treasury\", threshold = 1 }", "{ group = \"treasury\", at_least = 1 }",
       "policy.toml:32: rule 'x': approvals[0].at_least: unknown key"},
      {"action = \"deny\"", "action = \"deny\"\napprovals = []",
       "policy.toml:37: rule 'rest': approvals: a deny rule has no approvals"},
      {"action = \"deny\"", "action = \"refuse\"",
       "policy.toml:36: rule 'rest': action: 'refuse' is not \"allow\" or \"deny\""},
  };
  for (const Case& c : cases) {
    const util::Result<Policy> policy = CompilePolicyToml(Edited(c.from, c.to), "policy.toml");
    ASSERT_FALSE(policy.ok()) << c.message;
    EXPECT_EQ(policy.status().code(), util::StatusCode::kInvalidArgument) << c.message;
    EXPECT_EQ(policy.status().message().substr(0, c.message.size()), c.message)
        << "got: " << policy.status().message();
  }
}

TEST(PolicyTomlTest, NoExceptionEscapesOnBrokenText) {
  for (std::string_view text :
       {std::string_view("["), std::string_view("a = "), std::string_view("\xff\xfe"),
        std::string_view("x = [1, \"a\"]"), std::string_view("[[rule]]\n[rule]")}) {
    const util::Result<Policy> policy = CompilePolicyToml(text, "bad.toml");
    ASSERT_FALSE(policy.ok());
    EXPECT_EQ(policy.status().message().rfind("bad.toml:", 0), 0u) << policy.status().message();
  }
}

TEST(PolicyTomlTest, ParseAmountWithUnit) {
  const std::vector<std::pair<std::string, int64_t>> good = {{"10 BTC", 1000000000},
                                                             {"0.5btc", 50000000},
                                                             {"1.25 BTC", 125000000},
                                                             {"0.00000001 BTC", 1},
                                                             {"21000000 BTC", 2100000000000000},
                                                             {"50000 sat", 50000},
                                                             {"50000 sats", 50000},
                                                             {"50000SAT", 50000},
                                                             {"0 sat", 0},
                                                             {"1 Btc", 100000000}};
  for (const auto& [text, sats] : good) {
    const util::Result<btc::Amount> amount = ParseAmountWithUnit(text);
    ASSERT_TRUE(amount.ok()) << text << ": " << amount.status().ToString();
    EXPECT_EQ(amount->sats(), sats) << text;
  }
  for (std::string_view text :
       {"", "10", "BTC", "10 BTC ", " 10 BTC", "10  BTC", "-1 BTC", "1e3 BTC", ".5 BTC", "1. BTC",
        "0.000000001 BTC", "21000000.00000001 BTC", "1.5 sat", "007 sat", "2100000000000001 sat",
        "99999999999999999 sat", "10 bitcoin", "10 mBTC", "1,000 sat"}) {
    EXPECT_FALSE(ParseAmountWithUnit(text).ok()) << text;
  }
}

TEST(PolicyTomlTest, ParseDuration) {
  const std::vector<std::pair<std::string, uint64_t>> good = {
      {"90s", 90},     {"30m", 1800}, {"24h", 86400},       {"7d", 604800},
      {"2w", 1209600}, {"1s", 1},     {"3660d", 316224000}, {"316224000s", kMaxDuration}};
  for (const auto& [text, seconds] : good) {
    const util::Result<uint64_t> duration = ParseDuration(text);
    ASSERT_TRUE(duration.ok()) << text << ": " << duration.status().ToString();
    EXPECT_EQ(*duration, seconds) << text;
  }
  for (std::string_view text : {"", "s", "0s", "0h", "24", "24 h", "24H", "1y", "-1h", "1.5h",
                                "01h", "3661d", "316224001s", "999999999999w", "9999999999999s"}) {
    EXPECT_FALSE(ParseDuration(text).ok()) << text;
  }
}

TEST(PolicyTomlTest, ParseFeeRate) {
  const std::vector<std::pair<std::string, uint64_t>> good = {
      {"300 sat/vB", 300000}, {"12.5 sat/vB", 12500}, {"1.001sat/vb", 1001},
      {"0.1 SAT/VB", 100},    {"0 sat/vB", 0},        {"2100000000000 sat/vB", 2100000000000000}};
  for (const auto& [text, rate] : good) {
    const util::Result<uint64_t> parsed = ParseFeeRate(text);
    ASSERT_TRUE(parsed.ok()) << text << ": " << parsed.status().ToString();
    EXPECT_EQ(*parsed, rate) << text;
  }
  for (std::string_view text :
       {"", "300", "300 sat/B", "300 sat/kvB", "1.0001 sat/vB", "1. sat/vB", ".5 sat/vB",
        "2100000000000.001 sat/vB", "99999999999999 sat/vB", "1.2.3 sat/vB", "-1 sat/vB"}) {
    EXPECT_FALSE(ParseFeeRate(text).ok()) << text;
  }
}

TEST(PolicyTomlTest, FormatDurationAndFeeRateReadBack) {
  EXPECT_EQ(FormatDuration(86400), "1d");
  EXPECT_EQ(FormatDuration(5400), "90m");
  EXPECT_EQ(FormatDuration(604800), "1w");
  EXPECT_EQ(FormatDuration(90), "90s");
  EXPECT_EQ(FormatDuration(7200), "2h");
  EXPECT_EQ(FormatFeeRate(12500), "12.5 sat/vB");
  EXPECT_EQ(FormatFeeRate(300000), "300 sat/vB");
  EXPECT_EQ(FormatFeeRate(1001), "1.001 sat/vB");
  EXPECT_EQ(FormatFeeRate(50), "0.05 sat/vB");
  for (uint64_t seconds :
       std::vector<uint64_t>{1, 59, 60, 61, 3600, 86399, 1209600, kMaxDuration}) {
    EXPECT_EQ(ParseDuration(FormatDuration(seconds)).value(), seconds) << seconds;
  }
  for (uint64_t rate : std::vector<uint64_t>{0, 1, 10, 999, 1000, 123456}) {
    EXPECT_EQ(ParseFeeRate(FormatFeeRate(rate)).value(), rate) << rate;
  }
}

TEST(PolicyTomlTest, RenderShowsEveryPart) {
  const Policy policy = CompilePolicyToml(ReadExample(), "policy.toml").value();
  const std::string text = RenderPolicy(policy);
  for (std::string_view expected : {
           "network: main\n",
           "sequence: 7\n",
           "activation delay: 1d (86400 seconds)\n",
           "predecessor: 5d1e 5b2a 8c0f 43e1",
           "governance: 2 of 3 admins: admin-1, admin-2, admin-3\n",
           "  bob: afe4 7980 6420 89cc",
           "  treasury: bob, carol, dave\n",
           "  partner-exchange: 36j4NfKv6Akva9amjWrLG6MuSQym1GuEmm\n",
           "  per transaction: 10.00000000 BTC (1000000000 sat)\n",
           "  per wallet within 1h: 20.00000000 BTC (2000000000 sat)\n",
           "  fee rate max: 300 sat/vB\n",
           "  outputs max: 50\n",
           "  1. sweep to cold storage: allow\n",
           "     destination: address-book entries labelled cold-storage\n",
           "     approvals: none\n",
           "     approvals: 2 of treasury and 1 of security\n",
           "  5. everything else: deny\n",
       }) {
    EXPECT_NE(text.find(expected), std::string::npos) << expected << "\nin:\n" << text;
  }
  EXPECT_EQ(text.back(), '\n');
  EXPECT_NE(text.find("digest: " + GroupedHex(policy.digest())), std::string::npos);
}

}  // namespace
}  // namespace kinko::policy
