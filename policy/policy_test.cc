#include "policy/policy.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "crypto/hash.h"
#include "util/hex.h"

namespace kinko::policy {
namespace {

KeyId IdOf(uint8_t fill) {
  KeyId id;
  id.fill(fill);
  return id;
}

btc::Amount Sats(int64_t sats) { return btc::Amount::FromSats(sats).value(); }

btc::Script ScriptOf(std::string_view address) {
  return btc::DecodeAddress(address, btc::Network::kMainnet).value().script_pubkey;
}

constexpr std::string_view kCold = "bc1qvyq0cc6rahyvsazfdje0twl7ez82ndmuac2lhv";
constexpr std::string_view kPartner = "1FsSia9rv4NeEwvJ2GvXrX7LyxYspbN2mo";
constexpr std::string_view kOther = "bc1qhxt04s5xnpy0kxw4x99n5hpdf5pmtzpqs52es2";

// A valid policy that uses every feature; tests change one thing in it.
PolicyFields ValidFields() {
  PolicyFields f;
  f.network = btc::Network::kMainnet;
  f.sequence = 7;
  f.activation_delay = 86400;
  f.predecessor = IdOf(0xee);
  f.keys = {{"ops-bot", IdOf(1)}, {"bob", IdOf(2)},     {"carol", IdOf(3)},
            {"dave", IdOf(4)},    {"admin-1", IdOf(5)}, {"admin-2", IdOf(6)}};
  f.governance = {.admins = {"admin-2", "admin-1"}, .threshold = 2};
  f.groups = {{"treasury", {"dave", "carol", "bob"}}, {"auditors", {"carol"}}};
  f.address_book = {{"cold-storage", std::string(kCold)}, {"partner", std::string(kPartner)}};
  f.limits.per_transaction = Sats(1000000000);
  f.limits.windows = {{86400, Sats(10000000000)}, {3600, Sats(2000000000)}};
  f.limits.fee_max = Sats(1000000);
  f.limits.fee_rate_max_sat_per_kvb = 300000;
  f.limits.outputs_max = 50;
  Rule withdrawals;
  withdrawals.name = "customer withdrawals";
  withdrawals.wallets = {"hot"};
  withdrawals.requesters = {"ops-bot", "treasury"};
  withdrawals.amount_max = Sats(50000000);
  withdrawals.outputs_max = 10;
  withdrawals.approvals = {{"treasury", 1}};
  Rule cold;
  cold.name = "to cold storage";
  cold.destination = {DestinationKind::kLabels, {"cold-storage"}};
  cold.amount_min = Sats(10000000);
  cold.approvals = {{"treasury", 2}, {"auditors", 1}};
  Rule deny;
  deny.name = "nothing else";
  deny.action = RuleAction::kDeny;
  f.rules = {withdrawals, cold, deny};
  return f;
}

TEST(PolicyTest, CreateSortsUnorderedLists) {
  const Policy policy = Policy::Create(ValidFields()).value();
  const PolicyFields& f = policy.fields();
  EXPECT_EQ(f.keys.front().label, "admin-1");
  EXPECT_EQ(f.keys.back().label, "ops-bot");
  EXPECT_EQ(f.groups[0].name, "auditors");
  EXPECT_EQ(f.groups[1].members, (std::vector<std::string>{"bob", "carol", "dave"}));
  EXPECT_EQ(f.governance.admins, (std::vector<std::string>{"admin-1", "admin-2"}));
  EXPECT_EQ(f.limits.windows[0].duration, 3600u);
  EXPECT_EQ(f.rules[0].requesters, (std::vector<std::string>{"ops-bot", "treasury"}));
  // Rules and the address book keep their authored order.
  EXPECT_EQ(f.rules[0].name, "customer withdrawals");
  EXPECT_EQ(f.address_book[1].label, "partner");
}

TEST(PolicyTest, SameContentInAnotherOrderHasTheSameEncoding) {
  PolicyFields shuffled = ValidFields();
  std::reverse(shuffled.keys.begin(), shuffled.keys.end());
  std::reverse(shuffled.groups.begin(), shuffled.groups.end());
  std::reverse(shuffled.limits.windows.begin(), shuffled.limits.windows.end());
  const Policy a = Policy::Create(ValidFields()).value();
  const Policy b = Policy::Create(shuffled).value();
  EXPECT_EQ(a.Encode(), b.Encode());
  EXPECT_EQ(a.digest(), b.digest());
}

TEST(PolicyTest, DigestIsTheTaggedHashOfTheEncoding) {
  const Policy policy = Policy::Create(ValidFields()).value();
  EXPECT_EQ(policy.digest(), crypto::TaggedHash("kinko/policy/v1", policy.Encode()));
  EXPECT_NE(policy.digest(), crypto::TaggedHash("kinko/intent/v1", policy.Encode()));
}

TEST(PolicyTest, EncodingStartsWithVersionNetworkSequence) {
  const std::vector<uint8_t> bytes = Policy::Create(ValidFields()).value().Encode();
  // Map of 11 entries; 0: 1; 1: "main"; 2: 7.
  const std::vector<uint8_t> head = {0xab, 0x00, 0x01, 0x01, 0x64, 'm', 'a', 'i', 'n', 0x02, 0x07};
  ASSERT_GE(bytes.size(), head.size());
  EXPECT_EQ(std::vector<uint8_t>(bytes.begin(), bytes.begin() + head.size()), head);
}

TEST(PolicyTest, Accessors) {
  const Policy policy = Policy::Create(ValidFields()).value();
  EXPECT_EQ(policy.KeyLabel(IdOf(3)), "carol");
  EXPECT_EQ(policy.KeyLabel(IdOf(9)), std::nullopt);
  EXPECT_EQ(policy.KeyIdOf("dave"), IdOf(4));
  EXPECT_EQ(policy.KeyIdOf("treasury"), std::nullopt);
  EXPECT_TRUE(policy.IsMember("treasury", IdOf(2)));
  EXPECT_FALSE(policy.IsMember("treasury", IdOf(1)));
  EXPECT_FALSE(policy.IsMember("auditors", IdOf(2)));
  EXPECT_FALSE(policy.IsMember("bob", IdOf(2)));  // A key is not a group.
  EXPECT_FALSE(policy.IsMember("nobody", IdOf(2)));
  EXPECT_EQ(policy.Members("treasury"), (std::vector<KeyId>{IdOf(2), IdOf(3), IdOf(4)}));
  EXPECT_TRUE(policy.Members("nobody").empty());
  EXPECT_TRUE(policy.RefersTo("ops-bot", IdOf(1)));
  EXPECT_FALSE(policy.RefersTo("ops-bot", IdOf(2)));
  EXPECT_TRUE(policy.RefersTo("treasury", IdOf(4)));
  EXPECT_FALSE(policy.RefersTo("treasury", IdOf(1)));
  EXPECT_FALSE(policy.RefersTo("nobody", IdOf(1)));
  EXPECT_EQ(policy.AdminIds(), (std::vector<KeyId>{IdOf(5), IdOf(6)}));
  const AddressBookEntry* cold = policy.FindAddress(ScriptOf(kCold));
  ASSERT_NE(cold, nullptr);
  EXPECT_EQ(cold->label, "cold-storage");
  const AddressBookEntry* partner = policy.FindAddress(ScriptOf(kPartner));
  ASSERT_NE(partner, nullptr);
  EXPECT_EQ(partner->label, "partner");
  EXPECT_EQ(policy.FindAddress(ScriptOf(kOther)), nullptr);
}

TEST(PolicyTest, EscapeForMessage) {
  EXPECT_EQ(EscapeForMessage("plain text-1.0"), "plain text-1.0");
  EXPECT_EQ(EscapeForMessage(std::string("a\x1b[31mb\n\x7f\xc3\xa9\0", 12)),
            "a\\x1b[31mb\\x0a\\x7f\\xc3\\xa9\\x00");
}

TEST(PolicyTest, FindAddressInALargeBook) {
  // 5000 distinct P2WPKH addresses under 50 labels; every one is found with its own label.
  PolicyFields f = ValidFields();
  f.address_book.clear();
  std::vector<btc::Script> scripts;
  for (uint32_t i = 0; i < 5000; ++i) {
    std::vector<uint8_t> script = {0x00, 0x14};
    const crypto::Hash256Bytes hash =
        crypto::Sha256(std::span(reinterpret_cast<const uint8_t*>(&i), sizeof(i)));
    script.insert(script.end(), hash.begin(), hash.begin() + 20);
    scripts.emplace_back(script);
    f.address_book.push_back({"label-" + std::to_string(i % 50),
                              btc::EncodeAddress(scripts.back(), btc::Network::kMainnet).value()});
  }
  f.rules[1].destination.labels = {"label-7"};
  const Policy policy = Policy::Create(f).value();
  for (size_t i = 0; i < scripts.size(); ++i) {
    const AddressBookEntry* entry = policy.FindAddress(scripts[i]);
    ASSERT_NE(entry, nullptr) << i;
    EXPECT_EQ(entry, &policy.fields().address_book[i]);
  }
  EXPECT_EQ(policy.FindAddress(ScriptOf(kCold)), nullptr);
  const util::Result<Policy> decoded = Policy::Decode(policy.Encode());
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->FindAddress(scripts[4321])->label, "label-21");
}

TEST(PolicyTest, IsValidName) {
  EXPECT_TRUE(IsValidName("a"));
  EXPECT_TRUE(IsValidName("customer withdrawals"));
  EXPECT_TRUE(IsValidName("Ops_Bot-2.v1"));
  EXPECT_TRUE(IsValidName(std::string(64, 'x')));
  EXPECT_FALSE(IsValidName(""));
  EXPECT_FALSE(IsValidName(std::string(65, 'x')));
  EXPECT_FALSE(IsValidName(" a"));
  EXPECT_FALSE(IsValidName("a "));
  EXPECT_FALSE(IsValidName("a:b"));
  EXPECT_FALSE(IsValidName("a'b"));
  EXPECT_FALSE(IsValidName("a\tb"));
  EXPECT_FALSE(IsValidName("caf\xc3\xa9"));
}

struct RefusalCase {
  std::string name;
  std::function<void(PolicyFields&)> change;
  std::string message;  // A part of the expected message.
};

std::vector<RefusalCase> RefusalCases() {
  return {
      {"sequence zero", [](PolicyFields& f) { f.sequence = 0; }, "sequence: must be at least 1"},
      {"delay too long", [](PolicyFields& f) { f.activation_delay = kMaxDuration + 1; },
       "activation delay"},
      {"no keys", [](PolicyFields& f) { f.keys.clear(); }, "keys: must have 1..1000 keys"},
      {"too many keys",
       [](PolicyFields& f) {
         for (size_t i = 0; i < kMaxKeys; ++i) {
           KeyId id{};
           id[0] = 0x80;
           id[1] = static_cast<uint8_t>(i >> 8);
           id[2] = static_cast<uint8_t>(i);
           f.keys.push_back({"k" + std::to_string(i), id});
         }
       },
       "keys: must have 1..1000 keys"},
      {"bad key label", [](PolicyFields& f) { f.keys[0].label = "ops bot "; },
       "keys: 'ops bot ' is not a valid name"},
      {"duplicate key label",
       [](PolicyFields& f) {
         f.keys.push_back({"bob", IdOf(9)});
       },
       "keys: 'bob' is defined twice"},
      {"duplicate key id",
       [](PolicyFields& f) {
         f.keys.push_back({"erin", IdOf(2)});
       },
       "keys: 'erin' has the same key id as 'bob'"},
      {"bad group name", [](PolicyFields& f) { f.groups[0].name = "tre$sury"; },
       "groups: 'tre$sury' is not a valid name"},
      {"group named like a key",
       [](PolicyFields& f) {
         f.groups.push_back({"bob", {"bob"}});
       },
       "groups: 'bob' is also a key label"},
      {"duplicate group",
       [](PolicyFields& f) {
         f.groups.push_back({"auditors", {"bob"}});
       },
       "groups: 'auditors' is defined twice"},
      {"too many groups",
       [](PolicyFields& f) {
         for (size_t i = 0; i < kMaxGroups; ++i)
           f.groups.push_back({"g" + std::to_string(i), {"bob"}});
       },
       "groups: more than 100 groups"},
      {"empty group", [](PolicyFields& f) { f.groups[1].members.clear(); },
       "group 'auditors': has no members"},
      {"member not a key", [](PolicyFields& f) { f.groups[0].members.push_back("erin"); },
       "group 'treasury': members: 'erin' is not a key"},
      {"member twice", [](PolicyFields& f) { f.groups[0].members.push_back("bob"); },
       "group 'treasury': members: 'bob' is listed twice"},
      {"admin not a key", [](PolicyFields& f) { f.governance.admins.push_back("treasury"); },
       "governance: admins: 'treasury' is not a key"},
      {"admin twice", [](PolicyFields& f) { f.governance.admins.push_back("admin-1"); },
       "governance: admins: 'admin-1' is listed twice"},
      {"threshold zero", [](PolicyFields& f) { f.governance.threshold = 0; },
       "governance: threshold 0 must be between 1 and the number of admins (2)"},
      {"threshold above admins", [](PolicyFields& f) { f.governance.threshold = 3; },
       "governance: threshold 3"},
      {"no admins",
       [](PolicyFields& f) {
         f.governance.admins.clear();
         f.governance.threshold = 1;
       },
       "governance: threshold 1 must be between 1 and the number of admins (0)"},
      {"bad book label", [](PolicyFields& f) { f.address_book[0].label = ""; },
       "address book entry 0 label"},
      {"address of another network",
       [](PolicyFields& f) {
         f.address_book[1].address = "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx";
       },
       "address book entry 1 address"},
      {"address not canonical",
       [](PolicyFields& f) {
         std::string upper;
         for (char c : kCold) upper.push_back(static_cast<char>(std::toupper(c)));
         f.address_book[0].address = upper;
       },
       "address book entry 0 address: not in canonical form"},
      {"address twice",
       [](PolicyFields& f) {
         f.address_book.push_back({"again", std::string(kCold)});
       },
       "address book entry 2 address: " + std::string(kCold) + " is already entry 0"},
      {"address too long",
       [](PolicyFields& f) { f.address_book[0].address = "bc1q" + std::string(120, 'q'); },
       "longer than 100 bytes"},
      {"too many windows",
       [](PolicyFields& f) {
         for (uint64_t i = 1; i <= kMaxWindows; ++i) f.limits.windows.push_back({i, Sats(1)});
       },
       "limits: windows: more than 16 windows"},
      {"window of zero seconds", [](PolicyFields& f) { f.limits.windows[0].duration = 0; },
       "limits: windows: duration 0 must be 1 second to ten years"},
      {"window too long", [](PolicyFields& f) { f.limits.windows[0].duration = kMaxDuration + 1; },
       "must be 1 second to ten years"},
      {"window twice", [](PolicyFields& f) { f.limits.windows[0].duration = 3600; },
       "limits: windows: duration 3600 seconds is listed twice"},
      {"fee rate too high",
       [](PolicyFields& f) {
         f.limits.fee_rate_max_sat_per_kvb = static_cast<uint64_t>(btc::kMaxMoney) + 1;
       },
       "limits: fee rate max: above 21 million BTC per kvB"},
      {"limits outputs zero", [](PolicyFields& f) { f.limits.outputs_max = 0; },
       "limits: outputs max: must be at least 1"},
      {"bad rule name", [](PolicyFields& f) { f.rules[0].name = "x\n"; },
       "rules: 'x\\x0a' is not a valid name"},
      {"rule name twice", [](PolicyFields& f) { f.rules[2].name = "to cold storage"; },
       "rule 'to cold storage': name is used twice"},
      {"too many rules",
       [](PolicyFields& f) {
         Rule rule = f.rules[2];
         for (size_t i = 0; i < kMaxRules; ++i) {
           rule.name = "r" + std::to_string(i);
           f.rules.push_back(rule);
         }
       },
       "rules: more than 1000 rules"},
      {"bad wallet", [](PolicyFields& f) { f.rules[0].wallets.push_back("hot wallet"); },
       "rule 'customer withdrawals': wallets: 'hot wallet' is not a wallet id"},
      {"wallet twice", [](PolicyFields& f) { f.rules[0].wallets.push_back("hot"); },
       "rule 'customer withdrawals': wallets: 'hot' is listed twice"},
      {"requester undefined", [](PolicyFields& f) { f.rules[0].requesters.push_back("erin"); },
       "rule 'customer withdrawals': requesters: 'erin' is not a key or group"},
      {"requester twice", [](PolicyFields& f) { f.rules[0].requesters.push_back("ops-bot"); },
       "rule 'customer withdrawals': requesters: 'ops-bot' is listed twice"},
      {"labels with any", [](PolicyFields& f) { f.rules[0].destination.labels = {"cold-storage"}; },
       "rule 'customer withdrawals': destination: labels are only for a list of labels"},
      {"labels with address book",
       [](PolicyFields& f) {
         f.rules[0].destination = {DestinationKind::kAddressBook, {"cold-storage"}};
       },
       "destination: labels are only for a list of labels"},
      {"empty labels", [](PolicyFields& f) { f.rules[1].destination.labels.clear(); },
       "rule 'to cold storage': destination: the list of labels is empty"},
      {"unknown label",
       [](PolicyFields& f) { f.rules[1].destination.labels.push_back("cold storage"); },
       "rule 'to cold storage': destination: 'cold storage' is not an address-book label"},
      {"label twice",
       [](PolicyFields& f) { f.rules[1].destination.labels.push_back("cold-storage"); },
       "rule 'to cold storage': destination: 'cold-storage' is listed twice"},
      {"min above max", [](PolicyFields& f) { f.rules[0].amount_min = Sats(50000001); },
       "rule 'customer withdrawals': amount min is above amount max"},
      {"rule outputs zero", [](PolicyFields& f) { f.rules[0].outputs_max = 0; },
       "rule 'customer withdrawals': outputs max: must be at least 1"},
      {"deny with approvals",
       [](PolicyFields& f) {
         f.rules[2].approvals = {{"treasury", 1}};
       },
       "rule 'nothing else': approvals: a deny rule has no approvals"},
      {"approval group undefined",
       [](PolicyFields& f) {
         f.rules[0].approvals = {{"tresury", 1}};
       },
       "rule 'customer withdrawals': approvals: group 'tresury' is not defined"},
      {"approval group is a key",
       [](PolicyFields& f) {
         f.rules[0].approvals = {{"bob", 1}};
       },
       "approvals: group 'bob' is not defined"},
      {"approval group twice",
       [](PolicyFields& f) {
         f.rules[1].approvals.push_back({"treasury", 1});
       },
       "rule 'to cold storage': approvals: group 'treasury' is listed twice"},
      {"approval threshold zero", [](PolicyFields& f) { f.rules[0].approvals[0].threshold = 0; },
       "rule 'customer withdrawals': approvals: group 'treasury': threshold 0 must be between 1 "
       "and 3"},
      {"approval threshold above group",
       [](PolicyFields& f) { f.rules[1].approvals[1].threshold = 2; },
       "approvals: group 'auditors': threshold 2 must be between 1 and 1"},
  };
}

TEST(PolicyTest, CreateRefusesEachBrokenRule) {
  ASSERT_TRUE(Policy::Create(ValidFields()).ok());
  for (const RefusalCase& c : RefusalCases()) {
    PolicyFields f = ValidFields();
    c.change(f);
    const util::Result<Policy> policy = Policy::Create(f);
    ASSERT_FALSE(policy.ok()) << c.name;
    EXPECT_EQ(policy.status().code(), util::StatusCode::kInvalidArgument) << c.name;
    EXPECT_NE(policy.status().message().find(c.message), std::string::npos)
        << c.name << ": " << policy.status().message();
  }
}

TEST(PolicyTest, MinimalPolicyWithoutOptionalParts) {
  PolicyFields f;
  f.sequence = 1;
  f.keys = {{"admin", IdOf(1)}};
  f.governance = {.admins = {"admin"}, .threshold = 1};
  const Policy policy = Policy::Create(f).value();
  // Map of 6 entries: version, network, sequence, delay, governance, keys.
  ASSERT_FALSE(policy.Encode().empty());
  EXPECT_EQ(policy.Encode()[0], 0xa6);
  EXPECT_FALSE(policy.fields().predecessor);
}

crypto::Ed25519PrivateKey KeyFromSeedByte(uint8_t fill) {
  std::vector<uint8_t> seed(32, fill);
  return crypto::Ed25519PrivateKey::FromSeed(crypto::SecretBytes::FromSpan(seed)).value();
}

TEST(PolicyTest, DecodeOfEncodeIsTheIdentity) {
  const Policy policy = Policy::Create(ValidFields()).value();
  const util::Result<Policy> decoded = Policy::Decode(policy.Encode());
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->fields(), policy.fields());
  EXPECT_EQ(decoded->Encode(), policy.Encode());
  EXPECT_EQ(decoded->digest(), policy.digest());
  // The indexes are rebuilt.
  EXPECT_EQ(decoded->KeyLabel(IdOf(3)), "carol");
  ASSERT_NE(decoded->FindAddress(ScriptOf(kPartner)), nullptr);
}

TEST(PolicyTest, EveryNetworkRoundTrips) {
  for (const auto& [network, address] : std::vector<std::pair<btc::Network, std::string>>{
           {btc::Network::kMainnet, "bc1qvyq0cc6rahyvsazfdje0twl7ez82ndmuac2lhv"},
           {btc::Network::kTestnet, "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx"},
           {btc::Network::kSignet, "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx"},
           {btc::Network::kRegtest, "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"}}) {
    PolicyFields f;
    f.network = network;
    f.sequence = 1;
    f.keys = {{"admin", IdOf(1)}};
    f.governance = {.admins = {"admin"}, .threshold = 1};
    f.address_book = {{"x", address}};
    const util::Result<Policy> policy = Policy::Create(f);
    ASSERT_TRUE(policy.ok()) << address << ": " << policy.status().ToString();
    const util::Result<Policy> decoded = Policy::Decode(policy->Encode());
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    EXPECT_EQ(decoded->fields().network, network);
  }
}

// A hand-written encoding, one entry of the top-level map per writer, so that tests can
// reorder, drop or add entries. The base is a minimal policy: keys "a" and "b", admin "a", one
// allow rule "r".
using Entry = std::function<void(CborWriter&)>;

std::vector<Entry> BaseEntries() {
  return {
      [](CborWriter& w) { w.Uint(0), w.Uint(1); },
      [](CborWriter& w) { w.Uint(1), w.Text("main"); },
      [](CborWriter& w) { w.Uint(2), w.Uint(1); },
      [](CborWriter& w) { w.Uint(3), w.Uint(3600); },
      [](CborWriter& w) {
        w.Uint(5);
        w.MapHeader(2), w.Uint(0), w.ArrayHeader(1), w.Text("a"), w.Uint(1), w.Uint(1);
      },
      [](CborWriter& w) {
        w.Uint(6);
        w.ArrayHeader(2);
        w.MapHeader(2), w.Uint(0), w.Text("a"), w.Uint(1), w.Bytes(IdOf(1));
        w.MapHeader(2), w.Uint(0), w.Text("b"), w.Uint(1), w.Bytes(IdOf(2));
      },
      [](CborWriter& w) {
        w.Uint(10);
        w.ArrayHeader(1);
        w.MapHeader(3), w.Uint(0), w.Text("r"), w.Uint(3), w.Uint(1), w.Uint(8), w.Uint(1);
      },
  };
}

std::vector<uint8_t> Encoded(const std::vector<Entry>& entries) {
  CborWriter w;
  w.MapHeader(entries.size());
  for (const Entry& entry : entries) entry(w);
  return w.bytes();
}

PolicyFields BaseFields() {
  PolicyFields f;
  f.sequence = 1;
  f.activation_delay = 3600;
  f.keys = {{"a", IdOf(1)}, {"b", IdOf(2)}};
  f.governance = {.admins = {"a"}, .threshold = 1};
  Rule rule;
  rule.name = "r";
  f.rules = {rule};
  return f;
}

TEST(PolicyTest, EncodingMatchesTheDocumentedLayout) {
  const std::vector<uint8_t> expected = Encoded(BaseEntries());
  EXPECT_EQ(util::HexEncode(Policy::Create(BaseFields()).value().Encode()),
            util::HexEncode(expected));
  const util::Result<Policy> decoded = Policy::Decode(expected);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->fields(), Policy::Create(BaseFields()).value().fields());
}

TEST(PolicyTest, DecodeRefusesNonCanonicalEncodings) {
  struct Case {
    std::string name;
    std::function<void(std::vector<Entry>&)> change;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"top-level keys swapped", [](auto& e) { std::swap(e[1], e[2]); },
       "policy key: map keys not in strictly increasing order"},
      {"unknown version", [](auto& e) { e[0] = [](CborWriter& w) { w.Uint(0), w.Uint(2); }; },
       "unknown version 2"},
      {"network by another name",
       [](auto& e) { e[1] = [](CborWriter& w) { w.Uint(1), w.Text("mainnet"); }; },
       "unknown network mainnet"},
      {"sequence zero", [](auto& e) { e[2] = [](CborWriter& w) { w.Uint(2), w.Uint(0); }; },
       "sequence: must be at least 1"},
      {"missing keys", [](auto& e) { e.erase(e.begin() + 5); }, "missing a required key"},
      {"unknown key", [](auto& e) { e.push_back([](CborWriter& w) { w.Uint(11), w.Uint(0); }); },
       "unknown key 11"},
      {"keys not sorted",
       [](auto& e) {
         e[5] = [](CborWriter& w) {
           w.Uint(6);
           w.ArrayHeader(2);
           w.MapHeader(2), w.Uint(0), w.Text("b"), w.Uint(1), w.Bytes(IdOf(2));
           w.MapHeader(2), w.Uint(0), w.Text("a"), w.Uint(1), w.Bytes(IdOf(1));
         };
       },
       "keys: not sorted by label"},
      {"key entry keys swapped",
       [](auto& e) {
         e[5] = [](CborWriter& w) {
           w.Uint(6);
           w.ArrayHeader(1);
           w.MapHeader(2), w.Uint(1), w.Bytes(IdOf(1)), w.Uint(0), w.Text("a");
         };
       },
       "key: unknown key 1"},
      {"admins not sorted",
       [](auto& e) {
         e[4] = [](CborWriter& w) {
           w.Uint(5);
           w.MapHeader(2), w.Uint(0), w.ArrayHeader(2), w.Text("b"), w.Text("a");
           w.Uint(1), w.Uint(1);
         };
       },
       "admins: not in sorted order, or listed twice"},
      {"admin twice",
       [](auto& e) {
         e[4] = [](CborWriter& w) {
           w.Uint(5);
           w.MapHeader(2), w.Uint(0), w.ArrayHeader(2), w.Text("a"), w.Text("a");
           w.Uint(1), w.Uint(1);
         };
       },
       "admins: not in sorted order, or listed twice"},
      {"empty groups present",
       [](auto& e) { e.insert(e.begin() + 6, [](CborWriter& w) { w.Uint(7), w.ArrayHeader(0); }); },
       "groups: must have 1..100 items"},
      {"empty address book present",
       [](auto& e) { e.insert(e.begin() + 6, [](CborWriter& w) { w.Uint(8), w.ArrayHeader(0); }); },
       "address book: must have 1..1000000 items"},
      {"empty limits present",
       [](auto& e) { e.insert(e.begin() + 6, [](CborWriter& w) { w.Uint(9), w.MapHeader(0); }); },
       "limits: must have 1..5 entries"},
      {"windows not sorted",
       [](auto& e) {
         e.insert(e.begin() + 6, [](CborWriter& w) {
           w.Uint(9), w.MapHeader(1), w.Uint(1), w.ArrayHeader(2);
           w.MapHeader(2), w.Uint(0), w.Uint(3600), w.Uint(1), w.Uint(5);
           w.MapHeader(2), w.Uint(0), w.Uint(60), w.Uint(1), w.Uint(5);
         });
       },
       "windows: not sorted by duration"},
      {"amount above 21 million BTC",
       [](auto& e) {
         e.insert(e.begin() + 6, [](CborWriter& w) {
           w.Uint(9), w.MapHeader(1), w.Uint(0), w.Uint(2100000000000001);
         });
       },
       "per transaction: above 21 million BTC"},
      {"empty rules present",
       [](auto& e) { e[6] = [](CborWriter& w) { w.Uint(10), w.ArrayHeader(0); }; },
       "rules: must have 1..1000 items"},
      {"rule keys swapped",
       [](auto& e) {
         e[6] = [](CborWriter& w) {
           w.Uint(10), w.ArrayHeader(1);
           w.MapHeader(3), w.Uint(0), w.Text("r"), w.Uint(8), w.Uint(1), w.Uint(3), w.Uint(1);
         };
       },
       "rule key: map keys not in strictly increasing order"},
      {"rule without action",
       [](auto& e) {
         e[6] = [](CborWriter& w) {
           w.Uint(10), w.ArrayHeader(1);
           w.MapHeader(3), w.Uint(0), w.Text("r"), w.Uint(3), w.Uint(1), w.Uint(7), w.Uint(1);
         };
       },
       "rule: needs a name, a destination and an action"},
      {"unknown destination",
       [](auto& e) {
         e[6] = [](CborWriter& w) {
           w.Uint(10), w.ArrayHeader(1);
           w.MapHeader(3), w.Uint(0), w.Text("r"), w.Uint(3), w.Uint(4), w.Uint(8), w.Uint(1);
         };
       },
       "unknown kind 4"},
      {"unknown action",
       [](auto& e) {
         e[6] = [](CborWriter& w) {
           w.Uint(10), w.ArrayHeader(1);
           w.MapHeader(3), w.Uint(0), w.Text("r"), w.Uint(3), w.Uint(1), w.Uint(8), w.Uint(3);
         };
       },
       "unknown action 3"},
      {"empty wallets present",
       [](auto& e) {
         e[6] = [](CborWriter& w) {
           w.Uint(10), w.ArrayHeader(1);
           w.MapHeader(4), w.Uint(0), w.Text("r"), w.Uint(1), w.ArrayHeader(0);
           w.Uint(3), w.Uint(1), w.Uint(8), w.Uint(1);
         };
       },
       "rule wallets: must have 1..1000 items"},
      {"labels with destination any",
       [](auto& e) {
         e[6] = [](CborWriter& w) {
           w.Uint(10), w.ArrayHeader(1);
           w.MapHeader(4), w.Uint(0), w.Text("r"), w.Uint(3), w.Uint(1);
           w.Uint(4), w.ArrayHeader(1), w.Text("x"), w.Uint(8), w.Uint(1);
         };
       },
       "destination: labels are only for a list of labels"},
      {"requesters not sorted",
       [](auto& e) {
         e[6] = [](CborWriter& w) {
           w.Uint(10), w.ArrayHeader(1);
           w.MapHeader(4), w.Uint(0), w.Text("r"), w.Uint(2), w.ArrayHeader(2), w.Text("b");
           w.Text("a"), w.Uint(3), w.Uint(1), w.Uint(8), w.Uint(1);
         };
       },
       "rule requesters: not in sorted order"},
      {"threshold above 32 bits",
       [](auto& e) {
         e[4] = [](CborWriter& w) {
           w.Uint(5);
           w.MapHeader(2), w.Uint(0), w.ArrayHeader(1), w.Text("a"), w.Uint(1);
           w.Uint(uint64_t{1} << 32 | 1);
         };
       },
       "above 4294967295"},
  };
  ASSERT_TRUE(Policy::Decode(Encoded(BaseEntries())).ok());
  for (const Case& c : cases) {
    std::vector<Entry> entries = BaseEntries();
    c.change(entries);
    const util::Result<Policy> decoded = Policy::Decode(Encoded(entries));
    ASSERT_FALSE(decoded.ok()) << c.name;
    EXPECT_EQ(decoded.status().code(), util::StatusCode::kInvalidArgument) << c.name;
    EXPECT_NE(decoded.status().message().find(c.message), std::string::npos)
        << c.name << ": " << decoded.status().message();
  }
}

TEST(PolicyTest, DecodeRefusesNonShortestIntegersAndTrailingBytes) {
  const std::vector<uint8_t> good = Encoded(BaseEntries());
  ASSERT_EQ(good[0], 0xa7);  // Map of 7.
  ASSERT_EQ(good[9], 0x02);  // Key 2 (sequence), after 00 01 01 64 "main".
  std::vector<uint8_t> long_map = good;
  long_map[0] = 0x07;
  long_map.insert(long_map.begin(), 0xb8);  // Map of 7 in a one-byte head.
  EXPECT_FALSE(Policy::Decode(long_map).ok());
  std::vector<uint8_t> trailing = good;
  trailing.push_back(0x00);
  EXPECT_FALSE(Policy::Decode(trailing).ok());
  for (size_t size = 0; size < good.size(); ++size) {
    EXPECT_FALSE(Policy::Decode(std::span(good).first(size)).ok()) << size;
  }
}

SignedPolicy SignedBy(std::initializer_list<uint8_t> seeds) {
  SignedPolicy signed_policy = SignedPolicy::Unsigned(Policy::Create(ValidFields()).value());
  for (uint8_t seed : seeds)
    signed_policy = signed_policy.AddSignature(KeyFromSeedByte(seed)).value();
  return signed_policy;
}

// The named seeds of the decoder's fuzz target (*.cbor) are valid encodings of the current
// format. (The inputs fuzzing added, named by their SHA-1, may be anything.)
TEST(SignedPolicyTest, DecoderFuzzSeedsDecode) {
  const std::filesystem::path dir =
      std::filesystem::path(KINKO_VECTORS_DIR) / "../../fuzz/corpus/policy_decode_fuzz";
  size_t policies = 0;
  size_t signed_policies = 0;
  for (const auto& file : std::filesystem::directory_iterator(dir)) {
    std::ifstream in(file.path(), std::ios::binary);
    const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                                     std::istreambuf_iterator<char>());
    const std::string name = file.path().filename().string();
    if (!name.ends_with(".cbor")) continue;
    if (name.ends_with("-policy.cbor")) {
      EXPECT_TRUE(Policy::Decode(bytes).ok()) << name;
      ++policies;
    } else {
      const util::Result<SignedPolicy> decoded = SignedPolicy::Decode(bytes);
      ASSERT_TRUE(decoded.ok()) << name << ": " << decoded.status().ToString();
      EXPECT_EQ(decoded->signatures().size(), name.ends_with("-unsigned.cbor") ? 0u : 2u) << name;
      ++signed_policies;
    }
  }
  EXPECT_EQ(policies, 3u);
  EXPECT_EQ(signed_policies, 6u);
}

TEST(SignedPolicyTest, SignaturesAreSortedBySignerKeyId) {
  const SignedPolicy a = SignedBy({1, 2, 3});
  const SignedPolicy b = SignedBy({3, 1, 2});
  ASSERT_EQ(a.signatures().size(), 3u);
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.Encode(), b.Encode());
  for (size_t i = 1; i < a.signatures().size(); ++i) {
    EXPECT_LT(SignerKeyId(a.signatures()[i - 1]), SignerKeyId(a.signatures()[i]));
  }
}

TEST(SignedPolicyTest, AddSignatureRefusesASecondSignatureByOneKey) {
  const util::Result<SignedPolicy> twice = SignedBy({1}).AddSignature(KeyFromSeedByte(1));
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.status().code(), util::StatusCode::kAlreadyExists);
}

TEST(SignedPolicyTest, DecodeOfEncodeIsTheIdentity) {
  for (const SignedPolicy& original : {SignedBy({}), SignedBy({7}), SignedBy({1, 2, 3})}) {
    const util::Result<SignedPolicy> decoded = SignedPolicy::Decode(original.Encode());
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    EXPECT_EQ(*decoded, original);
    EXPECT_EQ(decoded->Encode(), original.Encode());
  }
}

TEST(SignedPolicyTest, EncodingIsPolicyThenSignatures) {
  const SignedPolicy signed_policy = SignedBy({4});
  CborWriter w;
  w.MapHeader(2);
  w.Uint(0);
  std::vector<uint8_t> expected = w.bytes();
  const std::vector<uint8_t>& policy = signed_policy.policy().Encode();
  expected.insert(expected.end(), policy.begin(), policy.end());
  CborWriter tail;
  tail.Uint(1);
  tail.ArrayHeader(1);
  EncodeSignature(signed_policy.signatures()[0], tail);
  expected.insert(expected.end(), tail.bytes().begin(), tail.bytes().end());
  EXPECT_EQ(signed_policy.Encode(), expected);
}

std::vector<uint8_t> SignedEncoding(const Policy& policy,
                                    const std::vector<Signature>& signatures) {
  CborWriter w;
  w.MapHeader(2);
  w.Uint(0);
  std::vector<uint8_t> out = w.bytes();
  out.insert(out.end(), policy.Encode().begin(), policy.Encode().end());
  CborWriter tail;
  tail.Uint(1);
  tail.ArrayHeader(signatures.size());
  for (const Signature& s : signatures) EncodeSignature(s, tail);
  out.insert(out.end(), tail.bytes().begin(), tail.bytes().end());
  return out;
}

TEST(SignedPolicyTest, DecodeRefusesUnsortedOrDuplicateSignatures) {
  const SignedPolicy two = SignedBy({1, 2});
  const Policy& policy = two.policy();
  const std::vector<Signature>& sigs = two.signatures();
  ASSERT_TRUE(SignedPolicy::Decode(SignedEncoding(policy, sigs)).ok());
  const util::Result<SignedPolicy> reversed =
      SignedPolicy::Decode(SignedEncoding(policy, {sigs[1], sigs[0]}));
  ASSERT_FALSE(reversed.ok());
  EXPECT_NE(reversed.status().message().find("not sorted by signer key id"), std::string::npos);
  const util::Result<SignedPolicy> duplicate =
      SignedPolicy::Decode(SignedEncoding(policy, {sigs[0], sigs[0]}));
  ASSERT_FALSE(duplicate.ok());
  EXPECT_EQ(duplicate.status().code(), util::StatusCode::kInvalidArgument);
}

TEST(SignedPolicyTest, SignatureOverAnotherPolicyIsRefused) {
  PolicyFields other_fields = ValidFields();
  other_fields.sequence = 8;
  const Policy other = Policy::Create(other_fields).value();
  const SignedPolicy signed_other =
      SignedPolicy::Unsigned(other).AddSignature(KeyFromSeedByte(1)).value();
  // The signature over sequence 8 moved onto sequence 7.
  const util::Result<SignedPolicy> moved = SignedPolicy::Decode(
      SignedEncoding(Policy::Create(ValidFields()).value(), signed_other.signatures()));
  ASSERT_FALSE(moved.ok());
  EXPECT_EQ(moved.status().code(), util::StatusCode::kPermissionDenied);
  EXPECT_NE(moved.status().message().find("signature 0: policy signature: does not verify"),
            std::string::npos)
      << moved.status().message();
}

TEST(SignedPolicyTest, EveryFlippedByteIsRefused) {
  const std::vector<uint8_t> bytes = SignedBy({1}).Encode();
  for (size_t i = 0; i < bytes.size(); ++i) {
    for (uint8_t mask : {uint8_t{0x01}, uint8_t{0x80}, uint8_t{0xff}}) {
      std::vector<uint8_t> bad = bytes;
      bad[i] ^= mask;
      EXPECT_FALSE(SignedPolicy::Decode(bad).ok()) << "byte " << i << " mask " << int{mask};
    }
  }
  for (size_t size = 0; size < bytes.size(); ++size) {
    EXPECT_FALSE(SignedPolicy::Decode(std::span(bytes).first(size)).ok()) << size;
  }
}

}  // namespace
}  // namespace kinko::policy
