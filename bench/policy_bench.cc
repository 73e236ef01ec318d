// Policy evaluation of one intent with 5 approvals, against a policy of 200 rules (the matching
// rule is the 198th) and a 100,000-entry address book, with baselines measured in the same run:
//   PolicyEvaluate             policy::Evaluate of the decoded request (no facts, empty
//                              velocity state).
//   PolicyEvaluateWithVelocity the same with transaction facts and a velocity state of 10,000
//                              spends over 100 wallets, against a 1-hour and a 1-day window.
//   PolicyDecodeRequest        (baseline a) SignedIntent::Decode and 5 SignedApproval::Decode
//                              of the same request: canonical CBOR decoding and the 6 Ed25519
//                              signature checks that come before evaluation.
//   PolicyDecodePolicy         (baseline b) Policy::Decode of the same policy: a load-time
//                              cost, paid once per policy, not per request.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <vector>

#include "btc/address.h"
#include "btc/script.h"
#include "policy/approval.h"
#include "policy/evaluate.h"
#include "policy/intent.h"
#include "policy/policy.h"
#include "util/check.h"

namespace kinko::policy {
namespace {

constexpr size_t kRules = 200;
constexpr size_t kMatchingRule = 197;
constexpr size_t kBookEntries = 100000;
constexpr uint64_t kNow = 1'800'000'000;

crypto::Ed25519PrivateKey KeyFromByte(uint8_t byte) {
  util::Result<crypto::Ed25519PrivateKey> key = crypto::Ed25519PrivateKey::FromSeed(
      crypto::SecretBytes::FromSpan(std::vector<uint8_t>(32, byte)));
  CHECK(key.ok());
  return std::move(*key);
}

btc::Amount Sats(int64_t sats) {
  util::Result<btc::Amount> amount = btc::Amount::FromSats(sats);
  CHECK(amount.ok());
  return *amount;
}

// The P2WPKH address whose 20-byte hash starts with the 4 bytes of `n`.
std::string BookAddress(uint32_t n) {
  std::vector<uint8_t> hash(20, 0x5a);
  for (size_t i = 0; i < 4; ++i) hash[i] = static_cast<uint8_t>(n >> (8 * i));
  btc::Script script;
  script.PushOpcode(0x00);
  script.PushData(hash);
  util::Result<std::string> address = btc::EncodeAddress(script, btc::Network::kMainnet);
  CHECK(address.ok());
  return *address;
}

// Keys: 0 admin, 1 requester, 2..6 the approvers; treasury {2, 3, 4, 5}, security {5, 6}
// (key 5 in both). 200 rules; each rule before the matching one fails on one condition, in
// turn the wallet, the requester, the destination label and the amount, so every kind of
// condition is evaluated. Address-book entry i is labelled "partner-<i mod 1000>", except the
// intent's destination, labelled "exchange".
struct Fixture {
  std::vector<crypto::Ed25519PrivateKey> keys;
  Policy policy;
  std::vector<uint8_t> policy_bytes;
  std::vector<uint8_t> intent_bytes;
  std::vector<std::vector<uint8_t>> approval_bytes;
  std::vector<IntentWithApprovals> request;
  VelocityState velocity;
  TransactionFacts facts;
};

std::string KeyLabel(size_t i) { return "key-" + std::to_string(i); }

Policy MakePolicy(const std::vector<crypto::Ed25519PrivateKey>& keys) {
  PolicyFields f;
  f.network = btc::Network::kMainnet;
  f.sequence = 1;
  f.governance = {.admins = {KeyLabel(0)}, .threshold = 1};
  for (size_t i = 0; i < keys.size(); ++i) {
    f.keys.push_back({.label = KeyLabel(i), .id = Ed25519KeyId(keys[i].public_key())});
  }
  f.groups = {
      {.name = "other-desk", .members = {KeyLabel(0)}},
      {.name = "security", .members = {KeyLabel(5), KeyLabel(6)}},
      {.name = "traders", .members = {KeyLabel(1)}},
      {.name = "treasury", .members = {KeyLabel(2), KeyLabel(3), KeyLabel(4), KeyLabel(5)}}};
  f.address_book.reserve(kBookEntries);
  for (uint32_t i = 0; i < kBookEntries; ++i) {
    const std::string label =
        i == kBookEntries / 2 ? "exchange" : "partner-" + std::to_string(i % 1000);
    f.address_book.push_back({.label = label, .address = BookAddress(i)});
  }
  f.limits.per_transaction = Sats(100 * btc::kCoin);
  f.limits.windows = {{.duration = 3600, .max = Sats(50 * btc::kCoin)},
                      {.duration = 86400, .max = Sats(200 * btc::kCoin)}};
  f.limits.fee_max = Sats(btc::kCoin / 100);
  f.limits.fee_rate_max_sat_per_kvb = 200'000;
  f.limits.outputs_max = 100;
  for (size_t i = 0; i < kRules; ++i) {
    Rule rule;
    rule.name = "rule " + std::to_string(i);
    if (i < kMatchingRule) {
      rule.wallets = {"hot"};
      rule.requesters = {"traders"};
      rule.destination = {.kind = DestinationKind::kLabels, .labels = {"exchange"}};
      switch (i % 4) {
        case 0:
          rule.wallets = {"cold-" + std::to_string(i)};
          break;
        case 1:
          rule.requesters = {"other-desk"};
          break;
        case 2:
          rule.destination.labels = {"partner-" + std::to_string(i)};
          break;
        case 3:
          rule.amount_min = Sats(50 * btc::kCoin);
          break;
      }
      rule.approvals = {{.group = "treasury", .threshold = 1}};
    } else if (i == kMatchingRule) {
      rule.wallets = {"hot"};
      rule.requesters = {"traders"};
      rule.destination = {.kind = DestinationKind::kLabels, .labels = {"exchange"}};
      rule.amount_max = Sats(10 * btc::kCoin);
      rule.approvals = {{.group = "treasury", .threshold = 3},
                        {.group = "security", .threshold = 2}};
    } else {
      rule.action = RuleAction::kDeny;
    }
    f.rules.push_back(std::move(rule));
  }
  util::Result<Policy> policy = Policy::Create(std::move(f));
  CHECK(policy.ok());
  return std::move(*policy);
}

const Fixture& GetFixture() {
  static const Fixture* fixture = [] {
    std::vector<crypto::Ed25519PrivateKey> keys;
    for (uint8_t i = 0; i < 7; ++i) keys.push_back(KeyFromByte(static_cast<uint8_t>(0x70 + i)));
    Policy policy = MakePolicy(keys);

    IntentFields fields;
    fields.id[0] = 0x01;
    fields.wallet = "hot";
    fields.network = btc::Network::kMainnet;
    fields.outputs = {{BookAddress(kBookEntries / 2), Sats(2 * btc::kCoin)}};
    fields.fee.max_rate_sat_per_kvb = 50'000;
    fields.requester = Ed25519KeyId(keys[1].public_key());
    fields.created = kNow - 600;
    fields.expires = kNow + 3600;
    util::Result<Intent> intent = Intent::Create(fields);
    CHECK(intent.ok());
    util::Result<SignedIntent> signed_intent = SignedIntent::Sign(*intent, keys[1]);
    CHECK(signed_intent.ok());

    IntentWithApprovals item{.intent = *signed_intent, .approvals = {}};
    for (size_t k = 2; k <= 6; ++k) {
      util::Result<Approval> approval =
          Approval::Create({.intent_digest = intent->digest(),
                            .policy_digest = policy.digest(),
                            .approver = Ed25519KeyId(keys[k].public_key()),
                            .decision = Decision::kApprove,
                            .time = kNow - 300,
                            .comment_hash = std::nullopt});
      CHECK(approval.ok());
      util::Result<SignedApproval> signed_approval = SignedApproval::Sign(*approval, keys[k]);
      CHECK(signed_approval.ok());
      item.approvals.push_back(*signed_approval);
    }

    auto* f = new Fixture{.keys = std::move(keys),
                          .policy = policy,
                          .policy_bytes = policy.Encode(),
                          .intent_bytes = signed_intent->Encode(),
                          .approval_bytes = {},
                          .request = {item},
                          .velocity = {},
                          .facts = {.fee = Sats(5000), .vsize = 141}};
    for (const SignedApproval& approval : item.approvals) {
      f->approval_bytes.push_back(approval.Encode());
    }
    for (uint64_t i = 0; i < 10000; ++i) {
      f->velocity.spends.push_back({.wallet = i % 100 == 0 ? "hot" : "w" + std::to_string(i % 100),
                                    .time = kNow - i * 17,
                                    .amount = Sats(100000)});
    }
    const Verdict verdict = Evaluate(f->request, f->policy, f->velocity, kNow, f->facts);
    CHECK(verdict.allowed);
    CHECK(verdict.intents[0].rule == "rule 197");
    return f;
  }();
  return *fixture;
}

void PolicyEvaluate(benchmark::State& state) {
  const Fixture& f = GetFixture();
  const VelocityState empty;
  for (auto _ : state) {
    Verdict verdict = Evaluate(f.request, f.policy, empty, kNow);
    benchmark::DoNotOptimize(verdict);
  }
}
BENCHMARK(PolicyEvaluate)->Unit(benchmark::kMicrosecond);

void PolicyEvaluateWithVelocity(benchmark::State& state) {
  const Fixture& f = GetFixture();
  for (auto _ : state) {
    Verdict verdict = Evaluate(f.request, f.policy, f.velocity, kNow, f.facts);
    benchmark::DoNotOptimize(verdict);
  }
}
BENCHMARK(PolicyEvaluateWithVelocity)->Unit(benchmark::kMicrosecond);

void PolicyDecodeRequest(benchmark::State& state) {
  const Fixture& f = GetFixture();
  for (auto _ : state) {
    util::Result<SignedIntent> intent = SignedIntent::Decode(f.intent_bytes);
    CHECK(intent.ok());
    benchmark::DoNotOptimize(intent);
    for (const std::vector<uint8_t>& bytes : f.approval_bytes) {
      util::Result<SignedApproval> approval = SignedApproval::Decode(bytes);
      CHECK(approval.ok());
      benchmark::DoNotOptimize(approval);
    }
  }
}
BENCHMARK(PolicyDecodeRequest)->Unit(benchmark::kMicrosecond);

void PolicyDecodePolicy(benchmark::State& state) {
  const Fixture& f = GetFixture();
  state.counters["bytes"] = static_cast<double>(f.policy_bytes.size());
  for (auto _ : state) {
    util::Result<Policy> policy = Policy::Decode(f.policy_bytes);
    CHECK(policy.ok());
    benchmark::DoNotOptimize(policy);
  }
}
BENCHMARK(PolicyDecodePolicy)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace kinko::policy
