// Coin selection for the coordinator's transactions: which of a wallet's coins pay a set of
// outputs at a fee rate. Pure functions of their arguments (the random tie-breaking of Bitcoin
// Core's selection is replaced by deterministic orders, so that a test or an operator can
// reproduce a choice).
//
// Order of attempts (as Bitcoin Core's wallet): branch-and-bound for a changeless solution whose
// excess over target + fee is below the cost of making and later spending a change output; then
// a knapsack/largest-first solution with change. Never more than `max_inputs` inputs.
//
// Thread-safe: pure functions.
#ifndef KINKO_COORDINATOR_COIN_SELECTION_H_
#define KINKO_COORDINATOR_COIN_SELECTION_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "btc/transaction.h"
#include "util/result.h"

namespace kinko::coordinator {

struct Coin {
  btc::Outpoint outpoint;
  int64_t sats = 0;
  // The virtual size this coin adds as a signed input (outpoint, sequence, script sig, and the
  // witness of the descriptor's largest satisfaction, in vbytes rounded up).
  uint64_t input_vbytes = 0;
};

struct SelectionParams {
  int64_t target_sats = 0;            // The sum of the outputs to pay (> 0).
  uint64_t fee_rate_sat_per_kvb = 0;  // Fee rate (> 0).
  // The vsize of the transaction without inputs and without change: version, locktime, counts,
  // segwit marker and flag, and the outputs to pay.
  uint64_t base_vbytes = 0;
  uint64_t change_output_vbytes = 0;  // The vsize a change output adds.
  uint64_t change_spend_vbytes = 0;   // The vsize of later spending that change output.
  int64_t dust_sats = 0;              // Change below this is not made (it goes to the fee).
  size_t max_inputs = 100;
};

enum class SelectionAlgorithm { kBranchAndBound, kKnapsack, kLargestFirst };

struct Selection {
  std::vector<btc::Outpoint> inputs;  // In the order chosen.
  int64_t input_sats = 0;
  int64_t fee_sats = 0;
  int64_t change_sats = 0;  // 0: no change output.
  uint64_t vbytes = 0;      // The estimated signed vsize, change included.
  SelectionAlgorithm algorithm = SelectionAlgorithm::kBranchAndBound;
};

// Selects coins from `coins` for `params`. Fails with kInvalidArgument for non-positive target
// or fee rate, or max_inputs == 0; with kFailedPrecondition "insufficient funds: ..." naming the
// amounts when all coins (or the max_inputs largest) cannot pay target plus fee.
util::Result<Selection> SelectCoins(std::span<const Coin> coins, const SelectionParams& params);

// The fee in satoshi for `vbytes` at `fee_rate_sat_per_kvb`, rounded up.
int64_t FeeFor(uint64_t vbytes, uint64_t fee_rate_sat_per_kvb);

}  // namespace kinko::coordinator

#endif  // KINKO_COORDINATOR_COIN_SELECTION_H_
