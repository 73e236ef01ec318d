// Coin selection, after Bitcoin Core's wallet (src/wallet/coinselection.cpp: SelectCoinsBnB and
// the knapsack solver; Murch, "An Evaluation of Coin Selection Strategies", 2016), with two
// simplifications that make every choice reproducible and easy to check:
//
// - Deterministic order. The coins whose effective value (sats minus the fee of spending them
//   at the fee rate) is positive are sorted by effective value, largest first, ties by outpoint.
//   Coins whose effective value is 0 or less are never selected (they cost more than they bring).
//   Core shuffles the pool before its searches; here nothing is random.
// - Long-term fee rate = current fee rate. Core weighs each input by (fee rate - long-term fee
//   rate); with both equal that term is 0, so the waste of a selection is its excess over the
//   target (changeless) or the cost of change (with change).
//
// Amounts used below, all in satoshi:
//   selection target  = target_sats + FeeFor(base_vbytes)     what the inputs' effective values
//                                                              must cover without change
//   change output fee = FeeFor(change_output_vbytes)
//   cost of change    = change output fee + FeeFor(change_spend_vbytes)
//
// 1. Funds. If the max_inputs coins of largest effective value do not cover the selection
//    target, no selection exists: kFailedPrecondition "insufficient funds: ...".
// 2. Branch and bound (Core's SelectCoinsBnB): a depth-first search over the sorted coins, each
//    coin first included then omitted, for a set whose effective value lies in
//    [selection target, selection target + cost of change]: such a set pays the outputs and the
//    fee, and what it leaves over is less than making and later spending a change output would
//    cost, so it goes to the fee and there is no change. A branch is cut when its value exceeds
//    the upper bound, when the coins left cannot reach the lower bound, or when it holds
//    max_inputs coins; a coin equal (effective value and fee) to the omitted coin before it is
//    not tried again. At most kMaxTries steps. The best set has the least excess, then the fewest
//    inputs, then was found first.
// 3. Otherwise, with change (Core's knapsack fallback, made deterministic): (a) the smallest
//    single coin covering the selection target, the change output fee and the dust limit (a
//    transaction with one input and change of at least dust); (b) the largest coins, in order,
//    until they cover the selection target. Of the two, the one with fewer inputs, then the
//    least waste, then (a).
// Every selection is finished the same way (Finish): the fee of the transaction with change is
// computed once over its whole vsize; change below `dust_sats` is not made and goes to the fee.
// Rounding: FeeFor rounds up, and a sum of rounded-up fees is at least the rounded-up fee of the
// sum, so the fee paid is never below FeeFor(vbytes).
#include "coordinator/coin_selection.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "btc/amount.h"
#include "util/check.h"
#include "util/status.h"

namespace kinko::coordinator {
namespace {

// Core's TOTAL_TRIES: bounds the search at about a millisecond per call.
constexpr size_t kMaxTries = 100'000;
// Bounds that keep every product and sum below 2^63: a fee rate of 100,000 sat/vB and a
// vsize of a whole block (BIP141: 4,000,000 weight units).
constexpr uint64_t kMaxFeeRateSatPerKvb = 100'000'000;
constexpr uint64_t kMaxVbytes = 1'000'000;

// A spendable coin, as the searches see it.
struct Candidate {
  const Coin* coin = nullptr;
  int64_t input_fee = 0;  // FeeFor(coin->input_vbytes).
  int64_t effective = 0;  // coin->sats - input_fee; > 0.
};

std::string OutpointName(const btc::Outpoint& outpoint) {
  return btc::TxidToHex(outpoint.txid) + ":" + std::to_string(outpoint.index);
}

util::Status CheckParams(std::span<const Coin> coins, const SelectionParams& params) {
  if (params.target_sats <= 0 || !btc::MoneyRange(params.target_sats)) {
    return util::InvalidArgumentError("coin selection: target " +
                                      std::to_string(params.target_sats) + " sat out of range");
  }
  if (params.fee_rate_sat_per_kvb == 0 || params.fee_rate_sat_per_kvb > kMaxFeeRateSatPerKvb) {
    return util::InvalidArgumentError("coin selection: fee rate " +
                                      std::to_string(params.fee_rate_sat_per_kvb) +
                                      " sat/kvB out of range");
  }
  if (params.max_inputs == 0) {
    return util::InvalidArgumentError("coin selection: max_inputs is 0");
  }
  if (params.base_vbytes > kMaxVbytes || params.change_output_vbytes > kMaxVbytes ||
      params.change_spend_vbytes > kMaxVbytes) {
    return util::InvalidArgumentError("coin selection: a vsize exceeds a block");
  }
  if (!btc::MoneyRange(params.dust_sats)) {
    return util::InvalidArgumentError("coin selection: dust limit out of range");
  }
  // Invariant after this loop: every sum of coin amounts is at most kMaxMoney.
  int64_t total = 0;
  for (const Coin& coin : coins) {
    if (!btc::MoneyRange(coin.sats) || coin.input_vbytes > kMaxVbytes) {
      return util::InvalidArgumentError("coin " + OutpointName(coin.outpoint) +
                                        ": amount or size out of range");
    }
    total += coin.sats;
    if (total > btc::kMaxMoney) {
      return util::InvalidArgumentError("coins: total amount out of range");
    }
  }
  return util::Status();
}

// The spendable coins, sorted: effective value descending, then outpoint ascending. Fails with
// kInvalidArgument when an outpoint appears twice.
util::Result<std::vector<Candidate>> SortedCandidates(std::span<const Coin> coins,
                                                      uint64_t fee_rate) {
  std::vector<Candidate> pool;
  pool.reserve(coins.size());
  for (const Coin& coin : coins) {
    const int64_t input_fee = FeeFor(coin.input_vbytes, fee_rate);
    const int64_t effective = coin.sats - input_fee;
    if (effective > 0) pool.push_back({&coin, input_fee, effective});
  }
  std::sort(pool.begin(), pool.end(), [](const Candidate& a, const Candidate& b) {
    if (a.effective != b.effective) return a.effective > b.effective;
    return a.coin->outpoint < b.coin->outpoint;
  });
  // Every coin, spendable or not, is checked: one outpoint given twice is a caller's error.
  std::vector<btc::Outpoint> outpoints;
  outpoints.reserve(coins.size());
  for (const Coin& coin : coins) outpoints.push_back(coin.outpoint);
  std::sort(outpoints.begin(), outpoints.end());
  const auto duplicate = std::adjacent_find(outpoints.begin(), outpoints.end());
  if (duplicate != outpoints.end()) {
    return util::InvalidArgumentError("coin " + OutpointName(*duplicate) + " is given twice");
  }
  return pool;
}

// Branch and bound (see the file comment): the indexes into `pool` of the changeless set with
// the least excess over `target`, or nullopt when none is found within kMaxTries steps.
// Requires `pool` sorted as SortedCandidates sorts it.
std::optional<std::vector<size_t>> BranchAndBound(const std::vector<Candidate>& pool,
                                                  int64_t target, int64_t cost_of_change,
                                                  size_t max_inputs) {
  // Invariant: `available` is the effective value of the coins at `index` and after it (the
  // coins the current branch may still include).
  int64_t available = 0;
  for (const Candidate& candidate : pool) available += candidate.effective;
  if (available < target) return std::nullopt;

  std::vector<size_t> selection;  // Indexes included on the current branch, increasing.
  int64_t value = 0;              // Their effective value.
  std::optional<std::vector<size_t>> best;
  int64_t best_excess = std::numeric_limits<int64_t>::max();

  size_t index = 0;
  for (size_t tries = 0; tries < kMaxTries; ++tries, ++index) {
    bool backtrack = false;
    if (value + available < target || value > target + cost_of_change) {
      backtrack = true;  // Cannot reach the range, or already past it.
    } else if (value >= target) {
      const int64_t excess = value - target;
      if (excess < best_excess || (excess == best_excess && selection.size() < best->size())) {
        best = selection;
        best_excess = excess;
      }
      backtrack = true;  // More coins would only add to the excess.
    } else if (selection.size() == max_inputs || index == pool.size()) {
      backtrack = true;  // Below the range with no input (or no coin) left to add.
    }

    if (backtrack) {
      if (selection.empty()) break;  // Every branch was explored.
      // The coins omitted after the last included one become available again...
      for (--index; index > selection.back(); --index) available += pool[index].effective;
      // ...and the last included one is omitted: the loop's ++index moves past it.
      value -= pool[index].effective;
      selection.pop_back();
    } else {
      available -= pool[index].effective;
      // A coin equal to the previous coin, which this branch omitted, would only repeat the
      // subtree explored when that coin was included.
      const bool previous_omitted =
          index > 0 && (selection.empty() || selection.back() != index - 1);
      const bool same_as_previous = index > 0 &&
                                    pool[index].effective == pool[index - 1].effective &&
                                    pool[index].input_fee == pool[index - 1].input_fee;
      if (!(previous_omitted && same_as_previous)) {
        selection.push_back(index);
        value += pool[index].effective;
      }
    }
  }
  return best;
}

// The Selection for the coins `chosen` (indexes into `pool`), or nullopt when they do not pay
// the target and the fee. With `allow_change`, change is made when it would be at least the dust
// limit (and positive); otherwise everything above the target goes to the fee.
std::optional<Selection> Finish(const std::vector<Candidate>& pool,
                                const std::vector<size_t>& chosen, const SelectionParams& params,
                                bool allow_change, SelectionAlgorithm algorithm) {
  Selection selection;
  selection.algorithm = algorithm;
  uint64_t vbytes = params.base_vbytes;
  for (size_t i : chosen) {
    selection.inputs.push_back(pool[i].coin->outpoint);
    selection.input_sats += pool[i].coin->sats;
    vbytes += pool[i].coin->input_vbytes;
  }
  if (allow_change) {
    const uint64_t with_change = vbytes + params.change_output_vbytes;
    const int64_t fee = FeeFor(with_change, params.fee_rate_sat_per_kvb);
    const int64_t change = selection.input_sats - params.target_sats - fee;
    if (change > 0 && change >= params.dust_sats) {
      selection.change_sats = change;
      selection.fee_sats = fee;
      selection.vbytes = with_change;
      return selection;
    }
  }
  selection.fee_sats = selection.input_sats - params.target_sats;
  selection.vbytes = vbytes;
  if (selection.fee_sats < FeeFor(vbytes, params.fee_rate_sat_per_kvb)) return std::nullopt;
  return selection;
}

// Core's waste with the long-term fee rate equal to the fee rate: the cost of change for a
// selection with change, else the excess over target plus fee.
int64_t Waste(const Selection& selection, const SelectionParams& params, int64_t cost_of_change) {
  if (selection.change_sats > 0) return cost_of_change;
  return selection.fee_sats - FeeFor(selection.vbytes, params.fee_rate_sat_per_kvb);
}

}  // namespace

int64_t FeeFor(uint64_t vbytes, uint64_t fee_rate_sat_per_kvb) {
  uint64_t product = 0;
  CHECK(!__builtin_mul_overflow(vbytes, fee_rate_sat_per_kvb, &product));
  const uint64_t fee = product / 1000 + (product % 1000 != 0 ? 1 : 0);
  CHECK(fee <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()));
  return static_cast<int64_t>(fee);
}

util::Result<Selection> SelectCoins(std::span<const Coin> coins, const SelectionParams& params) {
  if (util::Status valid = CheckParams(coins, params); !valid.ok()) return valid;
  util::Result<std::vector<Candidate>> sorted =
      SortedCandidates(coins, params.fee_rate_sat_per_kvb);
  if (!sorted.ok()) return sorted.status();
  const std::vector<Candidate>& pool = *sorted;

  const uint64_t rate = params.fee_rate_sat_per_kvb;
  const int64_t selection_target = params.target_sats + FeeFor(params.base_vbytes, rate);
  const int64_t change_output_fee = FeeFor(params.change_output_vbytes, rate);
  const int64_t cost_of_change = change_output_fee + FeeFor(params.change_spend_vbytes, rate);

  // 1. The largest coins that fit in max_inputs bound what any selection can reach.
  const size_t usable = std::min(pool.size(), params.max_inputs);
  int64_t largest_effective = 0;
  int64_t largest_sats = 0;
  int64_t largest_fees = 0;
  for (size_t i = 0; i < usable; ++i) {
    largest_effective += pool[i].effective;
    largest_sats += pool[i].coin->sats;
    largest_fees += pool[i].input_fee;
  }
  if (largest_effective < selection_target) {
    const std::string need = std::to_string(selection_target + largest_fees);
    if (pool.size() <= params.max_inputs) {
      return util::FailedPreconditionError("insufficient funds: need " + need + " sat, the " +
                                           std::to_string(pool.size()) + " spendable coins have " +
                                           std::to_string(largest_sats) + " sat");
    }
    return util::FailedPreconditionError(
        "insufficient funds: need " + need + " sat with at most " +
        std::to_string(params.max_inputs) + " inputs, the largest " +
        std::to_string(params.max_inputs) + " coins have " + std::to_string(largest_sats) + " sat");
  }

  // 2. A changeless selection.
  const std::optional<std::vector<size_t>> exact =
      BranchAndBound(pool, selection_target, cost_of_change, params.max_inputs);
  if (exact.has_value()) {
    std::optional<Selection> selection =
        Finish(pool, *exact, params, /*allow_change=*/false, SelectionAlgorithm::kBranchAndBound);
    // Invariant: effective values cover target + fee, so the rounded total fee is paid too.
    CHECK(selection.has_value());
    return *std::move(selection);
  }

  // 3a. The smallest single coin that pays target, fee and a change output of at least dust.
  std::optional<Selection> single;
  const int64_t single_target = selection_target + change_output_fee + params.dust_sats;
  std::optional<size_t> smallest;
  for (size_t i = 0; i < pool.size(); ++i) {
    if (pool[i].effective < single_target) break;  // Sorted: every later coin is smaller.
    if (!smallest.has_value() || pool[i].effective < pool[*smallest].effective) smallest = i;
  }
  if (smallest.has_value()) {
    single =
        Finish(pool, {*smallest}, params, /*allow_change=*/true, SelectionAlgorithm::kKnapsack);
  }

  // 3b. The largest coins until they pay target and fee (step 1 showed they do within usable).
  std::vector<size_t> largest_first;
  int64_t value = 0;
  for (size_t i = 0; i < usable && value < selection_target; ++i) {
    largest_first.push_back(i);
    value += pool[i].effective;
  }
  std::optional<Selection> accumulated =
      Finish(pool, largest_first, params, /*allow_change=*/true, SelectionAlgorithm::kLargestFirst);
  CHECK(accumulated.has_value());

  if (single.has_value()) {
    const size_t single_inputs = single->inputs.size();
    const size_t accumulated_inputs = accumulated->inputs.size();
    const bool accumulated_better =
        accumulated_inputs < single_inputs ||
        (accumulated_inputs == single_inputs &&
         Waste(*accumulated, params, cost_of_change) < Waste(*single, params, cost_of_change));
    if (!accumulated_better) return *std::move(single);
  }
  return *std::move(accumulated);
}

}  // namespace kinko::coordinator
