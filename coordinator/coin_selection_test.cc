#include "coordinator/coin_selection.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "btc/transaction.h"
#include "util/status.h"

namespace kinko::coordinator {
namespace {

// Sizes of the tables below: at 1 sat/vB every input costs 100 sat, so a coin of E + 100 sat
// has effective value E; the base costs 50 sat; change costs 43 sat to make and 100 to spend
// (cost of change 143); change below 330 sat is dust.
constexpr uint64_t kRate = 1000;  // sat/kvB
constexpr uint64_t kInputVbytes = 100;
constexpr uint64_t kBaseVbytes = 50;
constexpr uint64_t kChangeOutputVbytes = 43;
constexpr uint64_t kChangeSpendVbytes = 100;
constexpr int64_t kDust = 330;

btc::Outpoint TestOutpoint(uint32_t n) {
  std::array<uint8_t, 32> txid{};
  txid[0] = static_cast<uint8_t>(n >> 16);
  txid[1] = static_cast<uint8_t>(n >> 8);
  txid[2] = static_cast<uint8_t>(n & 0xff);
  return {.txid = btc::Txid(txid), .index = n % 3};
}

// Coins whose effective values at kRate are `effective` (in order, outpoints 0, 1, ...).
std::vector<Coin> CoinsOfEffectiveValues(const std::vector<int64_t>& effective) {
  std::vector<Coin> coins;
  for (size_t i = 0; i < effective.size(); ++i) {
    coins.push_back({.outpoint = TestOutpoint(static_cast<uint32_t>(i)),
                     .sats = effective[i] + 100,
                     .input_vbytes = kInputVbytes});
  }
  return coins;
}

// Parameters whose selection target (target + base fee) is `selection_target`.
SelectionParams ParamsFor(int64_t selection_target, size_t max_inputs = 100) {
  return {.target_sats = selection_target - 50,
          .fee_rate_sat_per_kvb = kRate,
          .base_vbytes = kBaseVbytes,
          .change_output_vbytes = kChangeOutputVbytes,
          .change_spend_vbytes = kChangeSpendVbytes,
          .dust_sats = kDust,
          .max_inputs = max_inputs};
}

// The effective values of the selected coins, sorted.
std::multiset<int64_t> SelectedEffective(const std::vector<Coin>& coins, const Selection& s) {
  std::multiset<int64_t> values;
  for (const btc::Outpoint& in : s.inputs) {
    for (const Coin& coin : coins) {
      if (coin.outpoint == in) values.insert(coin.sats - 100);
    }
  }
  return values;
}

TEST(FeeForTest, RoundsUp) {
  struct Case {
    uint64_t vbytes;
    uint64_t rate;
    int64_t fee;
  };
  const Case cases[] = {{0, 1000, 0},     {1, 1, 1},        {1000, 1000, 1000},
                        {141, 1000, 141}, {141, 1500, 212}, {999, 1, 1},
                        {1001, 1, 2},     {250, 2000, 500}, {123, 12345, 1519}};
  for (const Case& c : cases) {
    EXPECT_EQ(FeeFor(c.vbytes, c.rate), c.fee) << c.vbytes << " vB at " << c.rate;
  }
}

TEST(CoinSelectionTest, BranchAndBoundFindsChangelessSolutions) {
  struct Case {
    std::string name;
    std::vector<int64_t> effective;
    int64_t selection_target;
    std::multiset<int64_t> expected;
  };
  const std::vector<Case> cases = {
      {"exact pair, fewest inputs", {1000, 2000, 3000, 5000}, 6000, {5000, 1000}},
      {"exact single", {4000, 6000, 9000}, 6000, {6000}},
      {"excess within cost of change", {2000, 4100}, 6000, {2000, 4100}},
      {"least excess wins", {3050, 3000, 3100, 2990}, 6000, {3050, 2990}},
      {"exact pair before exact triple", {7000, 4000, 2600, 1700, 1300, 400}, 4300, {2600, 1700}},
      {"exact triple", {7000, 4500, 2600, 1300, 400}, 4300, {2600, 1300, 400}},
      {"all coins", {1000, 1000, 1000, 1000}, 4000, {1000, 1000, 1000, 1000}},
      {"small coins skip the large", {100000, 30000, 20000, 500}, 50500, {30000, 20000, 500}},
  };
  for (const Case& c : cases) {
    const std::vector<Coin> coins = CoinsOfEffectiveValues(c.effective);
    util::Result<Selection> s = SelectCoins(coins, ParamsFor(c.selection_target));
    ASSERT_TRUE(s.ok()) << c.name << ": " << s.status().message();
    EXPECT_EQ(s->algorithm, SelectionAlgorithm::kBranchAndBound) << c.name;
    EXPECT_EQ(s->change_sats, 0) << c.name;
    EXPECT_EQ(SelectedEffective(coins, *s), c.expected) << c.name;
    EXPECT_EQ(s->fee_sats, s->input_sats - (c.selection_target - 50)) << c.name;
    EXPECT_EQ(s->vbytes, kBaseVbytes + kInputVbytes * s->inputs.size()) << c.name;
  }
}

TEST(CoinSelectionTest, PrefersChangelessOverASingleLargeCoin) {
  // The 100,000 coin alone would pay with change; 3,000 + 2,000 pays exactly.
  const std::vector<Coin> coins = CoinsOfEffectiveValues({100000, 3000, 2000});
  util::Result<Selection> s = SelectCoins(coins, ParamsFor(5000));
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->algorithm, SelectionAlgorithm::kBranchAndBound);
  EXPECT_EQ(SelectedEffective(coins, *s), (std::multiset<int64_t>{3000, 2000}));
  EXPECT_EQ(s->change_sats, 0);
}

TEST(CoinSelectionTest, WithoutAnExactSolutionTheSmallestSufficientCoinPaysWithChange) {
  // Nothing lands in [5000, 5143]; the smallest coin covering 5000 + 43 + 330 is 7000.
  const std::vector<Coin> coins = CoinsOfEffectiveValues({100000, 7000, 4000, 900});
  util::Result<Selection> s = SelectCoins(coins, ParamsFor(5000));
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->algorithm, SelectionAlgorithm::kKnapsack);
  EXPECT_EQ(SelectedEffective(coins, *s), (std::multiset<int64_t>{7000}));
  // 1 input + base + change output = 193 vbytes, 193 sat at 1 sat/vB.
  EXPECT_EQ(s->vbytes, 193u);
  EXPECT_EQ(s->fee_sats, 193);
  EXPECT_EQ(s->change_sats, 7100 - 4950 - 193);
}

TEST(CoinSelectionTest, WithoutASufficientCoinTheLargestAccumulate) {
  const std::vector<Coin> coins = CoinsOfEffectiveValues({4000, 3000, 2000});
  // 4000 + 3000 = 7000 >= 6500, but outside the changeless range; no single coin suffices.
  util::Result<Selection> s = SelectCoins(coins, ParamsFor(6500));
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->algorithm, SelectionAlgorithm::kLargestFirst);
  EXPECT_EQ(SelectedEffective(coins, *s), (std::multiset<int64_t>{4000, 3000}));
  EXPECT_EQ(s->inputs[0], coins[0].outpoint);
  EXPECT_EQ(s->inputs[1], coins[1].outpoint);
  // 2 inputs + base + change: 293 vbytes.
  EXPECT_EQ(s->fee_sats, 293);
  EXPECT_EQ(s->change_sats, 7200 - 6450 - 293);
}

TEST(CoinSelectionTest, ChangeBelowDustGoesToTheFee) {
  // 5300 is 300 over the target: more than the cost of change (143), so not changeless by
  // branch and bound, and 300 - 43 = 257 of change is below the dust limit of 330.
  const std::vector<Coin> coins = CoinsOfEffectiveValues({5300});
  util::Result<Selection> s = SelectCoins(coins, ParamsFor(5000));
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->change_sats, 0);
  EXPECT_EQ(s->vbytes, kBaseVbytes + kInputVbytes);
  EXPECT_EQ(s->fee_sats, 5400 - 4950);
}

TEST(CoinSelectionTest, RespectsMaxInputs) {
  const std::vector<Coin> coins = CoinsOfEffectiveValues(std::vector<int64_t>(10, 1000));
  util::Result<Selection> five = SelectCoins(coins, ParamsFor(5000, 5));
  ASSERT_TRUE(five.ok()) << five.status().message();
  EXPECT_EQ(five->inputs.size(), 5u);
  EXPECT_EQ(five->algorithm, SelectionAlgorithm::kBranchAndBound);

  // An exact solution needs 3 inputs, only 2 are allowed: the largest pays with change.
  const std::vector<Coin> mixed = CoinsOfEffectiveValues({3000, 2500, 1000, 1000, 1000});
  util::Result<Selection> two = SelectCoins(mixed, ParamsFor(5000, 2));
  ASSERT_TRUE(two.ok()) << two.status().message();
  EXPECT_EQ(two->inputs.size(), 2u);
  EXPECT_EQ(SelectedEffective(mixed, *two), (std::multiset<int64_t>{3000, 2500}));
  util::Result<Selection> three = SelectCoins(mixed, ParamsFor(5000, 3));
  ASSERT_TRUE(three.ok());
  EXPECT_EQ(three->algorithm, SelectionAlgorithm::kBranchAndBound);
}

TEST(CoinSelectionTest, InsufficientFundsWithinMaxInputsNamesTheAmounts) {
  const std::vector<Coin> coins = CoinsOfEffectiveValues(std::vector<int64_t>(10, 1000));
  util::Result<Selection> s = SelectCoins(coins, ParamsFor(5000, 3));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), util::StatusCode::kFailedPrecondition);
  // Need: 4950 to pay + 50 base fee + 3 * 100 input fees; have 3 * 1100.
  EXPECT_EQ(s.status().message(),
            "insufficient funds: need 5300 sat with at most 3 inputs, the largest 3 coins have "
            "3300 sat");
}

TEST(CoinSelectionTest, InsufficientFundsOverall) {
  const std::vector<Coin> coins = CoinsOfEffectiveValues({1000, 2000});
  util::Result<Selection> s = SelectCoins(coins, ParamsFor(3001));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), util::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.status().message(),
            "insufficient funds: need 3201 sat, the 2 spendable coins have "
            "3200 sat");
  EXPECT_TRUE(SelectCoins(coins, ParamsFor(3000)).ok());
}

TEST(CoinSelectionTest, CoinsWorthLessThanTheirFeeAreNeverSpent) {
  std::vector<Coin> coins = CoinsOfEffectiveValues({5000});
  coins.push_back({.outpoint = TestOutpoint(7), .sats = 100, .input_vbytes = kInputVbytes});
  coins.push_back({.outpoint = TestOutpoint(8), .sats = 60, .input_vbytes = kInputVbytes});
  util::Result<Selection> s = SelectCoins(coins, ParamsFor(5000));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->inputs, std::vector<btc::Outpoint>{coins[0].outpoint});
  util::Result<Selection> more = SelectCoins(coins, ParamsFor(5001));
  ASSERT_FALSE(more.ok());
  EXPECT_EQ(more.status().message(),
            "insufficient funds: need 5101 sat, the 1 spendable coins have 5100 sat");
}

TEST(CoinSelectionTest, EqualCoinsAreChosenByOutpoint) {
  std::vector<Coin> coins = CoinsOfEffectiveValues({1000, 1000, 1000});
  std::reverse(coins.begin(), coins.end());
  util::Result<Selection> s = SelectCoins(coins, ParamsFor(1000));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->inputs, std::vector<btc::Outpoint>{TestOutpoint(0)});
}

TEST(CoinSelectionTest, RejectsInvalidParameters) {
  const std::vector<Coin> coins = CoinsOfEffectiveValues({5000, 3000});
  struct Case {
    std::string name;
    void (*change)(SelectionParams&, std::vector<Coin>&);
  };
  const Case cases[] = {
      {"target 0", [](SelectionParams& p, std::vector<Coin>&) { p.target_sats = 0; }},
      {"negative target", [](SelectionParams& p, std::vector<Coin>&) { p.target_sats = -5; }},
      {"fee rate 0", [](SelectionParams& p, std::vector<Coin>&) { p.fee_rate_sat_per_kvb = 0; }},
      {"max_inputs 0", [](SelectionParams& p, std::vector<Coin>&) { p.max_inputs = 0; }},
      {"absurd fee rate",
       [](SelectionParams& p, std::vector<Coin>&) { p.fee_rate_sat_per_kvb = 1ull << 40; }},
      {"absurd base size",
       [](SelectionParams& p, std::vector<Coin>&) { p.base_vbytes = 1ull << 40; }},
      {"negative dust", [](SelectionParams& p, std::vector<Coin>&) { p.dust_sats = -1; }},
      {"duplicate coin", [](SelectionParams&, std::vector<Coin>& c) { c.push_back(c[0]); }},
      {"negative coin", [](SelectionParams&, std::vector<Coin>& c) { c[1].sats = -1; }},
      {"coins above all money",
       [](SelectionParams&, std::vector<Coin>& c) {
         c[0].sats = 21'000'000LL * 100'000'000LL;
         c[1].sats = 1;
       }},
  };
  for (const Case& c : cases) {
    SelectionParams params = ParamsFor(4000);
    std::vector<Coin> changed = coins;
    ASSERT_TRUE(SelectCoins(changed, params).ok()) << c.name;
    c.change(params, changed);
    util::Result<Selection> s = SelectCoins(changed, params);
    ASSERT_FALSE(s.ok()) << c.name;
    EXPECT_EQ(s.status().code(), util::StatusCode::kInvalidArgument) << c.name;
  }
}

// The least excess of a changeless subset of at most `max_inputs` coins (effective values in
// [target, target + cost_of_change]), by enumerating every subset.
std::optional<int64_t> BruteForceLeastExcess(const std::vector<int64_t>& effective, int64_t target,
                                             int64_t cost_of_change, size_t max_inputs) {
  std::optional<int64_t> best;
  for (uint32_t mask = 1; mask < (1u << effective.size()); ++mask) {
    int64_t value = 0;
    size_t count = 0;
    for (size_t i = 0; i < effective.size(); ++i) {
      if ((mask >> i) & 1) {
        value += effective[i];
        ++count;
      }
    }
    if (count > max_inputs || value < target || value > target + cost_of_change) continue;
    if (!best.has_value() || value - target < *best) best = value - target;
  }
  return best;
}

// Random coin sets and targets (seeded): every selection pays target + fee from unique coins of
// the set, within max_inputs, with change 0 or at least dust, and a fee of at least the
// rounded-up fee of its size; insufficient funds only when the largest coins cannot pay; and
// for small sets, branch and bound finds the least-excess changeless set whenever one exists.
TEST(CoinSelectionTest, RandomizedProperties) {
  std::mt19937_64 rng(20261204);
  auto uniform = [&rng](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  int changeless = 0;
  int with_change = 0;
  int insufficient = 0;
  for (int iteration = 0; iteration < 4000; ++iteration) {
    const bool small = iteration % 2 == 0;
    const size_t count = static_cast<size_t>(small ? uniform(1, 12) : uniform(1, 200));
    const uint64_t rate = static_cast<uint64_t>(uniform(1000, 50000));
    const uint64_t input_vbytes = static_cast<uint64_t>(uniform(58, 200));
    std::vector<Coin> coins;
    for (size_t i = 0; i < count; ++i) {
      // Round amounts make exact sums likely; some coins are dust at high fee rates.
      const int64_t sats = uniform(0, 3) == 0 ? uniform(1, 20) * 10'000 : uniform(1, 2'000'000);
      coins.push_back({.outpoint = TestOutpoint(static_cast<uint32_t>(i * 7 + 1)),
                       .sats = sats,
                       .input_vbytes = input_vbytes});
    }
    const SelectionParams params = {.target_sats = uniform(1, 3'000'000),
                                    .fee_rate_sat_per_kvb = rate,
                                    .base_vbytes = static_cast<uint64_t>(uniform(10, 400)),
                                    .change_output_vbytes = static_cast<uint64_t>(uniform(31, 43)),
                                    .change_spend_vbytes = input_vbytes,
                                    .dust_sats = uniform(0, 1000),
                                    .max_inputs = static_cast<size_t>(uniform(1, 30))};
    const std::string where = "iteration " + std::to_string(iteration);

    std::vector<int64_t> effective;
    for (const Coin& coin : coins) {
      const int64_t value = coin.sats - FeeFor(coin.input_vbytes, rate);
      if (value > 0) effective.push_back(value);
    }
    std::sort(effective.rbegin(), effective.rend());
    const int64_t target = params.target_sats + FeeFor(params.base_vbytes, rate);
    int64_t reachable = 0;
    for (size_t i = 0; i < std::min(effective.size(), params.max_inputs); ++i) {
      reachable += effective[i];
    }

    util::Result<Selection> s = SelectCoins(coins, params);
    if (!s.ok()) {
      EXPECT_EQ(s.status().code(), util::StatusCode::kFailedPrecondition) << where;
      EXPECT_LT(reachable, target) << where;
      ++insufficient;
      continue;
    }
    EXPECT_GE(reachable, target) << where;
    ASSERT_FALSE(s->inputs.empty()) << where;
    EXPECT_LE(s->inputs.size(), params.max_inputs) << where;
    std::set<btc::Outpoint> unique;
    int64_t input_sats = 0;
    uint64_t vbytes = params.base_vbytes;
    for (const btc::Outpoint& in : s->inputs) {
      EXPECT_TRUE(unique.insert(in).second) << where;
      auto coin =
          std::find_if(coins.begin(), coins.end(), [&](const Coin& c) { return c.outpoint == in; });
      ASSERT_NE(coin, coins.end()) << where;
      input_sats += coin->sats;
      vbytes += coin->input_vbytes;
    }
    if (s->change_sats > 0) vbytes += params.change_output_vbytes;
    EXPECT_EQ(s->input_sats, input_sats) << where;
    EXPECT_EQ(s->vbytes, vbytes) << where;
    EXPECT_EQ(s->input_sats, params.target_sats + s->fee_sats + s->change_sats) << where;
    EXPECT_GE(s->fee_sats, FeeFor(s->vbytes, rate)) << where;
    EXPECT_TRUE(s->change_sats == 0 || s->change_sats >= params.dust_sats) << where;
    EXPECT_GE(s->change_sats, 0) << where;
    if (s->change_sats > 0) {
      ++with_change;
    } else {
      ++changeless;
    }

    if (small) {
      const int64_t cost_of_change =
          FeeFor(params.change_output_vbytes, rate) + FeeFor(params.change_spend_vbytes, rate);
      const std::optional<int64_t> least =
          BruteForceLeastExcess(effective, target, cost_of_change, params.max_inputs);
      if (least.has_value()) {
        EXPECT_EQ(s->algorithm, SelectionAlgorithm::kBranchAndBound) << where;
        int64_t selected_effective = 0;
        for (const btc::Outpoint& in : s->inputs) {
          auto coin = std::find_if(coins.begin(), coins.end(),
                                   [&](const Coin& c) { return c.outpoint == in; });
          selected_effective += coin->sats - FeeFor(coin->input_vbytes, rate);
        }
        EXPECT_EQ(selected_effective - target, *least) << where;
      } else {
        EXPECT_NE(s->algorithm, SelectionAlgorithm::kBranchAndBound) << where;
      }
    }
  }
  // The generator reaches every outcome.
  EXPECT_GT(changeless, 100);
  EXPECT_GT(with_change, 100);
  EXPECT_GT(insufficient, 100);
}

}  // namespace
}  // namespace kinko::coordinator
