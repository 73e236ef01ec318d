// Property: Compare is sound. For random small policies and random changes to them, whenever
// Compare reports no loosening change, every request that the later policy allows, the earlier
// one allows too (Evaluate, for random intents, approvals, velocity states and fees).
//
// Deterministic: fixed seeds, a fixed universe of keys, wallets and addresses.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "btc/address.h"
#include "btc/script.h"
#include "policy/evaluate.h"
#include "policy/governance.h"

namespace kinko::policy {
namespace {

constexpr size_t kKeyCount = 7;  // k0..k5 may be in a policy; k6 only by a change.
constexpr uint64_t kNow = 1'800'000'000;
const std::vector<std::string> kWallets = {"w1", "w2"};
const std::vector<std::string> kBookLabels = {"L1", "L2"};
const std::vector<int64_t> kAmounts = {1, 1000, 5000, 20000, 100000};

const crypto::Ed25519PrivateKey& Key(size_t i) {
  static const auto* keys = [] {
    auto* out = new std::vector<crypto::Ed25519PrivateKey>();
    for (size_t k = 0; k < kKeyCount; ++k) {
      out->push_back(
          crypto::Ed25519PrivateKey::FromSeed(crypto::SecretBytes::FromSpan(std::vector<uint8_t>(
                                                  32, static_cast<uint8_t>(0x90 + k))))
              .value());
    }
    return out;
  }();
  return keys->at(i);
}

KeyId Id(size_t i) { return Ed25519KeyId(Key(i).public_key()); }

// Addresses 1..4 may be in the book; 5 never is.
std::string Address(size_t n) {
  btc::Script script;
  script.PushOpcode(0x00);
  script.PushData(std::vector<uint8_t>(20, static_cast<uint8_t>(n)));
  return btc::EncodeAddress(script, btc::Network::kRegtest).value();
}

btc::Amount Sats(int64_t sats) { return btc::Amount::FromSats(sats).value(); }

class Gen final {
 public:
  explicit Gen(uint64_t seed) : rng_(seed) {}

  size_t Below(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }
  bool Chance(double p) { return std::bernoulli_distribution(p)(rng_); }
  template <typename T>
  const T& Pick(const std::vector<T>& items) {
    return items[Below(items.size())];
  }
  template <typename T>
  std::vector<T> Subset(const std::vector<T>& items, double p) {
    std::vector<T> out;
    for (const T& item : items) {
      if (Chance(p)) out.push_back(item);
    }
    return out;
  }
  std::optional<btc::Amount> MaybeAmount(double p, int64_t scale) {
    if (!Chance(p)) return std::nullopt;
    return Sats(Pick(kAmounts) * scale);
  }

 private:
  std::mt19937_64 rng_;
};

std::vector<std::string> KeyLabels(const PolicyFields& f) {
  std::vector<std::string> out;
  for (const NamedKey& k : f.keys) out.push_back(k.label);
  return out;
}

std::vector<std::string> GroupNames(const PolicyFields& f) {
  std::vector<std::string> out;
  for (const Group& g : f.groups) out.push_back(g.name);
  return out;
}

std::vector<std::string> UsedBookLabels(const PolicyFields& f) {
  std::vector<std::string> out;
  for (const AddressBookEntry& e : f.address_book) {
    if (std::find(out.begin(), out.end(), e.label) == out.end()) out.push_back(e.label);
  }
  return out;
}

Rule RandomRule(Gen& g, const PolicyFields& f, const std::string& name) {
  Rule r;
  r.name = name;
  if (g.Chance(0.3)) r.wallets = g.Subset(kWallets, 0.5);
  if (g.Chance(0.5)) {
    std::vector<std::string> names = KeyLabels(f);
    for (const std::string& group : GroupNames(f)) names.push_back(group);
    r.requesters = g.Subset(names, 0.3);
  }
  const std::vector<std::string> labels = UsedBookLabels(f);
  const size_t kind = g.Below(3);
  if (kind == 1 && !f.address_book.empty()) r.destination.kind = DestinationKind::kAddressBook;
  if (kind == 2 && !labels.empty()) {
    r.destination.kind = DestinationKind::kLabels;
    r.destination.labels = g.Subset(labels, 0.6);
    if (r.destination.labels.empty()) r.destination.kind = DestinationKind::kAny;
  }
  r.amount_min = g.MaybeAmount(0.2, 1);
  r.amount_max = g.MaybeAmount(0.4, 2);
  if (g.Chance(0.2)) r.outputs_max = static_cast<uint32_t>(1 + g.Below(3));
  r.action = g.Chance(0.75) ? RuleAction::kAllow : RuleAction::kDeny;
  if (r.action == RuleAction::kAllow) {
    for (const Group& group : f.groups) {
      if (!g.Chance(0.3)) continue;
      r.approvals.push_back(
          {.group = group.name,
           .threshold = static_cast<uint32_t>(1 + g.Below(group.members.size()))});
    }
  }
  return r;
}

PolicyFields RandomFields(Gen& g) {
  PolicyFields f;
  f.network = btc::Network::kRegtest;
  f.sequence = 1;
  f.activation_delay = 3600;
  for (size_t k = 0; k + 1 < kKeyCount; ++k) {
    if (k < 2 || g.Chance(0.7)) f.keys.push_back({.label = "k" + std::to_string(k), .id = Id(k)});
  }
  f.governance = {.admins = {"k0"}, .threshold = 1};
  const std::vector<std::string> labels = KeyLabels(f);
  for (size_t i = 0; i < 3; ++i) {
    if (!g.Chance(0.6)) continue;
    std::vector<std::string> members = g.Subset(labels, 0.4);
    if (members.empty()) members.push_back(g.Pick(labels));
    f.groups.push_back({.name = "g" + std::to_string(i), .members = members});
  }
  for (size_t a = 1; a <= 4; ++a) {
    if (g.Chance(0.5))
      f.address_book.push_back({.label = g.Pick(kBookLabels), .address = Address(a)});
  }
  f.limits.per_transaction = g.MaybeAmount(0.3, 4);
  if (g.Chance(0.3))
    f.limits.windows.push_back({.duration = 3600, .max = Sats(g.Pick(kAmounts) * 5)});
  if (g.Chance(0.3))
    f.limits.windows.push_back({.duration = 86400, .max = Sats(g.Pick(kAmounts) * 8)});
  f.limits.fee_max = g.MaybeAmount(0.3, 1);
  if (g.Chance(0.3)) f.limits.fee_rate_max_sat_per_kvb = 1000 * (1 + g.Below(20));
  if (g.Chance(0.2)) f.limits.outputs_max = static_cast<uint32_t>(1 + g.Below(4));
  const size_t rules = 1 + g.Below(5);
  for (size_t i = 0; i < rules; ++i) f.rules.push_back(RandomRule(g, f, "r" + std::to_string(i)));
  if (g.Chance(0.4)) {  // A catch-all allow rule, so that fewer intents match no rule.
    Rule last = RandomRule(g, f, "last");
    last.wallets.clear();
    last.requesters.clear();
    last.destination = {};
    last.amount_min.reset();
    last.action = RuleAction::kAllow;
    f.rules.push_back(last);
  }
  return f;
}

// What the generator changes and how requests look.
struct Options {
  bool approvals_only = false;  // Only group members and approval requirements change.
  double reject = 0.15;         // The chance that an approver rejects.
};

// One random change; the result may be invalid (then the caller tries again).
void Mutate(Gen& g, PolicyFields& f, const Options& options) {
  size_t kind = g.Below(16);
  if (options.approvals_only) kind = g.Chance(0.5) ? 5 : 15;
  switch (kind) {
    case 0:
      f.limits.per_transaction = g.MaybeAmount(0.7, 4);
      return;
    case 1:
      f.limits.fee_max = g.MaybeAmount(0.7, 1);
      return;
    case 2:
      if (g.Chance(0.5)) {
        f.limits.fee_rate_max_sat_per_kvb.reset();
      } else {
        f.limits.fee_rate_max_sat_per_kvb = 1000 * (1 + g.Below(20));
      }
      return;
    case 3:
      if (g.Chance(0.3)) {
        f.limits.outputs_max.reset();
      } else {
        f.limits.outputs_max = static_cast<uint32_t>(1 + g.Below(4));
      }
      return;
    case 4: {  // A window added, removed or changed.
      const uint64_t duration = g.Chance(0.5) ? 3600 : 86400;
      std::erase_if(f.limits.windows, [&](const Window& w) { return w.duration == duration; });
      if (g.Chance(0.7))
        f.limits.windows.push_back({.duration = duration, .max = Sats(g.Pick(kAmounts) * 6)});
      return;
    }
    case 5: {  // A group member added or removed.
      if (f.groups.empty()) return;
      Group& group = f.groups[g.Below(f.groups.size())];
      const std::string label = g.Pick(KeyLabels(f));
      const auto it = std::find(group.members.begin(), group.members.end(), label);
      if (it == group.members.end()) {
        group.members.push_back(label);
      } else {
        group.members.erase(it);
      }
      return;
    }
    case 6: {  // An address-book entry added, removed or relabelled.
      const std::string address = Address(1 + g.Below(4));
      const auto it = std::find_if(f.address_book.begin(), f.address_book.end(),
                                   [&](const AddressBookEntry& e) { return e.address == address; });
      if (it == f.address_book.end()) {
        f.address_book.push_back({.label = g.Pick(kBookLabels), .address = address});
      } else if (g.Chance(0.5)) {
        f.address_book.erase(it);
      } else {
        it->label = it->label == "L1" ? "L2" : "L1";
      }
      return;
    }
    case 7: {  // A key added, removed, or a label pointed to another key.
      const size_t k = g.Below(kKeyCount);
      const auto it = std::find_if(f.keys.begin(), f.keys.end(),
                                   [&](const NamedKey& key) { return key.id == Id(k); });
      if (it == f.keys.end()) {
        if (g.Chance(0.5) && f.keys.size() > 1) {
          f.keys[1 + g.Below(f.keys.size() - 1)].id = Id(k);
        } else {
          f.keys.push_back({.label = "k" + std::to_string(k) + "x", .id = Id(k)});
        }
        return;
      }
      const std::string label = it->label;
      f.keys.erase(it);
      for (Group& group : f.groups) std::erase(group.members, label);
      for (Rule& rule : f.rules) std::erase(rule.requesters, label);
      return;
    }
    case 8:  // A rule inserted.
      f.rules.insert(f.rules.begin() + static_cast<std::ptrdiff_t>(g.Below(f.rules.size() + 1)),
                     RandomRule(g, f, "n" + std::to_string(g.Below(1000))));
      return;
    case 9:  // A rule removed.
      if (f.rules.size() > 1)
        f.rules.erase(f.rules.begin() + static_cast<std::ptrdiff_t>(g.Below(f.rules.size())));
      return;
    case 10: {  // Two rules swapped.
      const size_t a = g.Below(f.rules.size());
      const size_t b = g.Below(f.rules.size());
      std::swap(f.rules[a], f.rules[b]);
      return;
    }
    default: {  // One condition or the action or approvals of one rule.
      Rule& r = f.rules[g.Below(f.rules.size())];
      const Rule fresh = RandomRule(g, f, r.name);
      switch (options.approvals_only ? 7 : g.Below(8)) {
        case 0:
          r.wallets = fresh.wallets;
          return;
        case 1:
          r.requesters = fresh.requesters;
          return;
        case 2:
          r.destination = fresh.destination;
          return;
        case 3:
          r.amount_min = fresh.amount_min;
          return;
        case 4:
          r.amount_max = fresh.amount_max;
          return;
        case 5:
          r.outputs_max = fresh.outputs_max;
          return;
        case 6:
          r.action = fresh.action;
          r.approvals = fresh.approvals;
          return;
        default:
          if (r.action == RuleAction::kAllow) {
            if (!r.approvals.empty() && g.Chance(0.5)) {
              ApprovalRequirement& req = r.approvals[g.Below(r.approvals.size())];
              req.threshold = g.Chance(0.5) ? req.threshold + 1 : std::max(1u, req.threshold - 1);
            } else {
              r.approvals = fresh.approvals;
            }
          }
          return;
      }
    }
  }
}

std::optional<Policy> TryCreate(const PolicyFields& f) {
  util::Result<Policy> p = Policy::Create(f);
  if (!p.ok()) return std::nullopt;
  return std::move(p).value();
}

// A request as the requesters and approvers would make it, before approvals are bound to a
// policy: the signed intents, and for each the approvers' key indices and decisions.
struct RequestPlan {
  std::vector<SignedIntent> intents;
  std::vector<std::vector<std::pair<size_t, Decision>>> approvers;
  VelocityState velocity;
  std::optional<TransactionFacts> facts;
};

RequestPlan RandomRequest(Gen& g, uint64_t serial, const PolicyFields& likely,
                          const Options& options) {
  RequestPlan plan;
  const size_t intents = g.Chance(0.8) ? 1 : 2;
  for (size_t i = 0; i < intents; ++i) {
    IntentFields f;
    for (size_t b = 0; b < 8; ++b) f.id[b] = static_cast<uint8_t>(serial >> (8 * b));
    f.id[15] = static_cast<uint8_t>(i);
    f.wallet = g.Pick(kWallets);
    f.network = g.Chance(0.98) ? btc::Network::kRegtest : btc::Network::kTestnet;
    const size_t outputs = 1 + g.Below(g.Chance(0.7) ? 1 : 3);
    for (size_t o = 0; o < outputs; ++o) {
      f.outputs.push_back({.address = Address(1 + g.Below(5)), .amount = Sats(g.Pick(kAmounts))});
    }
    if (f.network == btc::Network::kTestnet) {
      for (IntentOutput& out : f.outputs) {
        btc::Script script =
            btc::DecodeAddress(out.address, btc::Network::kRegtest).value().script_pubkey;
        out.address = btc::EncodeAddress(script, btc::Network::kTestnet).value();
      }
    }
    if (g.Chance(0.7)) f.fee.max_rate_sat_per_kvb = 1000 * (1 + g.Below(20));
    if (!f.fee.max_rate_sat_per_kvb.has_value() || g.Chance(0.3))
      f.fee.max_fee = Sats(g.Pick(kAmounts));
    // Mostly a key of the later policy, so that requests are often allowed.
    size_t requester = g.Below(kKeyCount);
    if (g.Chance(0.9)) {
      const KeyId id = g.Pick(likely.keys).id;
      while (Id(requester) != id) requester = (requester + 1) % kKeyCount;
    }
    f.requester = Id(requester);
    f.created = kNow - 1000;
    f.expires = kNow + 1000;
    plan.intents.push_back(SignedIntent::Sign(Intent::Create(f).value(), Key(requester)).value());
    std::vector<std::pair<size_t, Decision>> approvers;
    // Mostly keys of the later policy: an approval by a key it does not name is refused.
    const bool outsiders = g.Chance(0.05);
    for (size_t k = 0; k < kKeyCount; ++k) {
      const bool named = std::any_of(likely.keys.begin(), likely.keys.end(),
                                     [&](const NamedKey& key) { return key.id == Id(k); });
      if (!(named || outsiders) || !g.Chance(0.5)) continue;
      approvers.emplace_back(k,
                             g.Chance(1 - options.reject) ? Decision::kApprove : Decision::kReject);
    }
    plan.approvers.push_back(std::move(approvers));
  }
  const size_t spends = g.Below(4);
  for (size_t s = 0; s < spends; ++s) {
    plan.velocity.spends.push_back({.wallet = g.Pick(kWallets),
                                    .time = kNow - g.Below(100000),
                                    .amount = Sats(g.Pick(kAmounts) * 2)});
  }
  if (g.Chance(0.5)) {
    plan.facts = TransactionFacts{.fee = Sats(g.Pick(kAmounts)), .vsize = 100 + g.Below(400)};
  }
  return plan;
}

// The request with every approval bound to `policy` (approvals sign the policy digest).
std::vector<IntentWithApprovals> BindTo(const RequestPlan& plan, const Policy& policy) {
  std::vector<IntentWithApprovals> out;
  for (size_t i = 0; i < plan.intents.size(); ++i) {
    IntentWithApprovals item{.intent = plan.intents[i], .approvals = {}};
    for (const auto& [k, decision] : plan.approvers[i]) {
      const ApprovalFields f{.intent_digest = plan.intents[i].intent().digest(),
                             .policy_digest = policy.digest(),
                             .approver = Id(k),
                             .decision = decision,
                             .time = kNow - 500,
                             .comment_hash = std::nullopt};
      item.approvals.push_back(SignedApproval::Sign(Approval::Create(f).value(), Key(k)).value());
    }
    out.push_back(std::move(item));
  }
  return out;
}

std::string Describe(const PolicyFields& f) { return RenderPolicy(Policy::Create(f).value()); }

struct Tally {
  size_t pairs = 0;
  size_t not_loosening = 0;
  size_t allowed_after = 0;
  size_t witnesses_of_loosening = 0;  // Loosening changes where after allowed and before refused.
};

void RunSeed(uint64_t seed, size_t pairs, size_t requests, const Options& options, Tally& tally) {
  Gen g(seed);
  uint64_t serial = seed << 32;
  while (tally.pairs < pairs) {
    const std::optional<Policy> before = TryCreate(RandomFields(g));
    if (!before.has_value()) continue;
    PolicyFields changed = before->fields();
    changed.sequence += 1;
    changed.predecessor = before->digest();
    const size_t mutations = 1 + g.Below(2);
    for (size_t m = 0; m < mutations; ++m) Mutate(g, changed, options);
    const std::optional<Policy> after = TryCreate(changed);
    if (!after.has_value()) continue;
    ++tally.pairs;
    const std::vector<Change> changes = Compare(*before, *after);
    const bool loosens = Loosens(changes);
    if (!loosens) ++tally.not_loosening;
    // Loosening changes get a few requests, to witness that some do allow more.
    const size_t tries = loosens ? requests / 4 : requests;
    for (size_t r = 0; r < tries; ++r) {
      const RequestPlan plan = RandomRequest(g, ++serial, after->fields(), options);
      const Verdict in_after =
          Evaluate(BindTo(plan, *after), *after, plan.velocity, kNow, plan.facts);
      if (!in_after.allowed) continue;
      ++tally.allowed_after;
      const Verdict in_before =
          Evaluate(BindTo(plan, *before), *before, plan.velocity, kNow, plan.facts);
      if (in_before.allowed) continue;
      if (loosens) {
        ++tally.witnesses_of_loosening;
        break;
      }
      std::string diff;
      for (const Change& c : changes) {
        diff += "  " + c.path + ": [" + c.before + "] -> [" + c.after + "] " +
                std::string(ChangeEffectName(c.effect)) + "\n";
      }
      ADD_FAILURE() << "seed " << seed << ": allowed after a change classified as not loosening;"
                    << " before refused: " << in_before.refusal->detail << "\nchanges:\n"
                    << diff << "before:\n"
                    << Describe(before->fields()) << "after:\n"
                    << Describe(after->fields());
      return;
    }
  }
}

Tally RunSeeds(uint64_t seeds, size_t pairs, size_t requests, const Options& options) {
  Tally tally;
  for (uint64_t seed = 1; seed <= seeds; ++seed) {
    Tally one;
    RunSeed(seed, pairs, requests, options, one);
    tally.pairs += one.pairs;
    tally.not_loosening += one.not_loosening;
    tally.allowed_after += one.allowed_after;
    tally.witnesses_of_loosening += one.witnesses_of_loosening;
  }
  std::printf("pairs %zu, not loosening %zu, allowed after %zu, loosening witnessed %zu\n",
              tally.pairs, tally.not_loosening, tally.allowed_after, tally.witnesses_of_loosening);
  return tally;
}

TEST(GovernancePropertyTest, ANonLooseningChangeAllowsNothingNew) {
  const Tally tally = RunSeeds(8, 250, 16, Options{});
  // The generator must exercise the property: many non-loosening changes, many allowed
  // requests, and loosening changes that really do allow more.
  EXPECT_EQ(tally.pairs, 2000u);
  EXPECT_GT(tally.not_loosening, 1000u);
  EXPECT_GT(tally.allowed_after, 2000u);
  EXPECT_GT(tally.witnesses_of_loosening, 50u);
}

// Group membership and approval requirements only, with frequent rejects: the reject rule
// (a member of a required group vetoes) and the requirement matching.
TEST(GovernancePropertyTest, ApprovalChangesAllowNothingNew) {
  const Tally tally = RunSeeds(4, 150, 24, Options{.approvals_only = true, .reject = 0.3});
  EXPECT_EQ(tally.pairs, 600u);
  EXPECT_GT(tally.not_loosening, 200u);
  EXPECT_GT(tally.allowed_after, 500u);
  EXPECT_GT(tally.witnesses_of_loosening, 20u);
}

}  // namespace
}  // namespace kinko::policy
