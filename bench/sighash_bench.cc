// Signature hashes of every input of an n-input, 2-output transaction, for legacy P2PKH, P2WPKH
// (BIP143) and P2TR key path (BIP341). Segwit and taproot runs include building the
// PrecomputedTransactionData. The "per_input" counter is the time per input: flat for BIP143
// and BIP341 (O(n) in total), growing with n for legacy (O(n^2) in total).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "btc/sighash.h"
#include "btc/transaction.h"

namespace kinko::btc {
namespace {

Script P2pkhScript(uint8_t fill) {
  std::vector<uint8_t> s = {0x76, 0xa9, 0x14};
  s.resize(23, fill);
  s.push_back(0x88);
  s.push_back(0xac);
  return Script(std::move(s));
}

Script P2trScript(uint8_t fill) {
  std::vector<uint8_t> s = {0x51, 0x20};
  s.resize(34, fill);
  return Script(std::move(s));
}

Transaction MakeTx(size_t inputs) {
  Transaction tx;
  tx.version = 2;
  tx.inputs.resize(inputs);
  for (size_t i = 0; i < inputs; ++i) {
    std::array<uint8_t, 32> txid{};
    for (size_t j = 0; j < 8; ++j) txid[j] = static_cast<uint8_t>(i >> (8 * j));
    tx.inputs[i].prevout.txid = Txid(txid);
    tx.inputs[i].prevout.index = static_cast<uint32_t>(i % 3);
    tx.inputs[i].sequence = 0xfffffffd;
  }
  tx.outputs.push_back(TxOut{.value = 150000, .script_pubkey = P2pkhScript(0x11)});
  tx.outputs.push_back(TxOut{.value = 8000, .script_pubkey = P2trScript(0x22)});
  return tx;
}

void SetPerInput(benchmark::State& state, size_t inputs) {
  state.counters["per_input"] = benchmark::Counter(
      static_cast<double>(inputs),
      benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

void BM_SighashLegacyP2pkh(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  const Transaction tx = MakeTx(n);
  const Script script_code = P2pkhScript(0x33);
  for (auto _ : state) {
    for (size_t i = 0; i < n; ++i) {
      benchmark::DoNotOptimize(LegacySighash(tx, i, script_code, kSighashAll));
    }
  }
  SetPerInput(state, n);
}
BENCHMARK(BM_SighashLegacyP2pkh)->Arg(10)->Arg(100)->Arg(1000);

void BM_SighashP2wpkh(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  const Transaction tx = MakeTx(n);
  const Script script_code = P2pkhScript(0x33);  // BIP143 scriptCode of P2WPKH
  for (auto _ : state) {
    util::Result<PrecomputedTransactionData> precomputed =
        PrecomputedTransactionData::Create(tx, {});
    for (size_t i = 0; i < n; ++i) {
      benchmark::DoNotOptimize(
          SegwitV0Sighash(tx, i, script_code, 100000, kSighashAll, *precomputed));
    }
  }
  SetPerInput(state, n);
}
BENCHMARK(BM_SighashP2wpkh)->Arg(10)->Arg(100)->Arg(1000);

void BM_SighashP2trKeyPath(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  const Transaction tx = MakeTx(n);
  const std::vector<TxOut> spent(n, TxOut{.value = 100000, .script_pubkey = P2trScript(0x44)});
  for (auto _ : state) {
    util::Result<PrecomputedTransactionData> precomputed =
        PrecomputedTransactionData::Create(tx, spent);
    for (size_t i = 0; i < n; ++i) {
      util::Result<SighashBytes> sighash =
          TaprootSighash(tx, i, kSighashDefault, *precomputed, TaprootSighashExtras{});
      benchmark::DoNotOptimize(sighash);
    }
  }
  SetPerInput(state, n);
}
BENCHMARK(BM_SighashP2trKeyPath)->Arg(10)->Arg(100)->Arg(1000);

}  // namespace
}  // namespace kinko::btc
