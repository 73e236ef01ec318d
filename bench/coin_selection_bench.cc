// The coordinator's coin selection and PSBT builder, each against a baseline measured in the
// same run (doc/coordinator.md, "Building transactions").
//
// SelectCoins/N: coordinator::SelectCoins over N coins (seeded random amounts of 10,000 to
//   1,000,000 sat, a 2-of-3 P2WSH input size) for a target of 2,500,000 sat at 10 sat/vB.
//   Branch and bound searches up to its 100,000-step bound when no changeless set exists.
// SelectCoinsBaselineSort/N: the same coins copied and sorted by amount, then the largest taken
//   until they pay the target: the least any selection that looks at every coin does.
// BuildPsbt/N: coordinator::BuildPsbt of the fixture's 2-of-3 P2WSH wallet spending N coins
//   (full previous transactions, derivations) to one output and change.
// BuildPsbtBaselineExpand/N: btc::Descriptor::Expand of the N inputs' and the change output's
//   scripts alone (3 CKDpub each), the derivations the builder cannot avoid.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <random>
#include <vector>

#include "btc/descriptor.h"
#include "coordinator/coin_selection.h"
#include "coordinator/psbt_builder.h"
#include "test/support/signer_fixture.h"
#include "util/check.h"

namespace kinko::coordinator {
namespace {

namespace fixture = ::kinko::testing;

std::vector<Coin> RandomCoins(size_t count) {
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<int64_t> sats(10'000, 1'000'000);
  std::vector<Coin> coins;
  for (size_t i = 0; i < count; ++i) {
    std::array<uint8_t, 32> txid{};
    for (size_t b = 0; b < 8; ++b) txid[b] = static_cast<uint8_t>(rng());
    coins.push_back({.outpoint = {.txid = btc::Txid(txid), .index = static_cast<uint32_t>(i % 4)},
                     .sats = sats(rng),
                     .input_vbytes = 105});
  }
  return coins;
}

const SelectionParams kParams = {.target_sats = 2'500'000,
                                 .fee_rate_sat_per_kvb = 10'000,
                                 .base_vbytes = 42,
                                 .change_output_vbytes = 43,
                                 .change_spend_vbytes = 105,
                                 .dust_sats = 330,
                                 .max_inputs = 100};

void BM_SelectCoins(benchmark::State& state) {
  const std::vector<Coin> coins = RandomCoins(static_cast<size_t>(state.range(0)));
  size_t inputs = 0;
  for (auto _ : state) {
    util::Result<Selection> selection = SelectCoins(coins, kParams);
    CHECK(selection.ok());
    inputs = selection->inputs.size();
    benchmark::DoNotOptimize(selection);
  }
  state.counters["inputs"] = static_cast<double>(inputs);
}
BENCHMARK(BM_SelectCoins)->Arg(1'000)->Arg(10'000)->Unit(benchmark::kMicrosecond);

void BM_SelectCoinsBaselineSort(benchmark::State& state) {
  const std::vector<Coin> coins = RandomCoins(static_cast<size_t>(state.range(0)));
  for (auto _ : state) {
    std::vector<Coin> sorted = coins;
    std::sort(sorted.begin(), sorted.end(),
              [](const Coin& a, const Coin& b) { return a.sats > b.sats; });
    int64_t value = 0;
    size_t taken = 0;
    while (taken < sorted.size() && value < kParams.target_sats) value += sorted[taken++].sats;
    benchmark::DoNotOptimize(taken);
  }
}
BENCHMARK(BM_SelectCoinsBaselineSort)->Arg(1'000)->Arg(10'000)->Unit(benchmark::kMicrosecond);

struct BuildFixture {
  const crypto::Secp256k1Context& ctx = fixture::TestContext();
  fixture::TestWallet wallet = fixture::MakeTestWallet(ctx);
  btc::Descriptor descriptor =
      btc::Descriptor::Parse(ctx, wallet.descriptor, fixture::kFixtureNetwork).value();
  std::vector<btc::Descriptor> branches = descriptor.SplitMultipath();
  BuildParams params;

  explicit BuildFixture(size_t inputs) {
    btc::Transaction funding;
    funding.inputs.resize(1);
    for (size_t i = 0; i < inputs; ++i) {
      funding.outputs.push_back(
          {100'000, branches[0].Expand(ctx, static_cast<uint32_t>(i)).value().script_pubkey});
    }
    const std::vector<uint8_t> raw = funding.Serialize();
    const btc::Txid txid = funding.ComputeTxid();
    for (size_t i = 0; i < inputs; ++i) {
      storage::Utxo coin;
      coin.outpoint = {txid, static_cast<uint32_t>(i)};
      coin.sats = 100'000;
      coin.script_pubkey = funding.outputs[i].script_pubkey.bytes();
      coin.index = static_cast<uint32_t>(i);
      params.inputs.push_back({std::move(coin), raw});
    }
    params.outputs = {{fixture::ForeignAddress(1), 50'000}};
    params.change_index = 7;
    params.change_sats = static_cast<int64_t>(inputs) * 100'000 - 60'000;
  }
};

void BM_BuildPsbt(benchmark::State& state) {
  const BuildFixture f(static_cast<size_t>(state.range(0)));
  for (auto _ : state) {
    util::Result<btc::Psbt> psbt =
        BuildPsbt(f.ctx, f.descriptor, fixture::kFixtureNetwork, f.params);
    CHECK(psbt.ok());
    benchmark::DoNotOptimize(psbt);
  }
}
BENCHMARK(BM_BuildPsbt)->Arg(1)->Arg(10)->Arg(100)->Unit(benchmark::kMicrosecond);

void BM_BuildPsbtBaselineExpand(benchmark::State& state) {
  const BuildFixture f(static_cast<size_t>(state.range(0)));
  for (auto _ : state) {
    for (const BuildInput& input : f.params.inputs) {
      benchmark::DoNotOptimize(f.branches[0].Expand(f.ctx, input.coin.index));
    }
    benchmark::DoNotOptimize(f.branches[1].Expand(f.ctx, *f.params.change_index));
  }
}
BENCHMARK(BM_BuildPsbtBaselineExpand)->Arg(1)->Arg(10)->Arg(100)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace kinko::coordinator
