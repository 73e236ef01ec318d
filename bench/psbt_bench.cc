// PSBT parse and serialize throughput (bytes/s) on a 2-of-3 P2WSH PSBT with 100 inputs, as a
// second signer receives it: every input with its full previous transaction (non-witness UTXO),
// its witness UTXO, witness script, three BIP32 derivations, SIGHASH_ALL and one partial
// signature; two outputs, the change one with its witness script and derivations.
// Parse validates every public key on the curve (4 per input), which dominates its time; the
// "NoKeys" variant carries the same keys and signature as unknown key-value pairs (a similar
// size, nothing to validate), for comparison.
#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>
#include <vector>

#include "btc/psbt.h"
#include "util/check.h"
#include "util/hex.h"

namespace kinko::btc {
namespace {

// The compressed keys G, 2G and 3G: valid points, as Parse requires.
constexpr std::array<const char*, 3> kPubkeys = {
    "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798",
    "02c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5",
    "02f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9",
};

std::vector<uint8_t> Hex(const char* hex) { return *util::HexDecode(hex); }

Script MultisigScript() {
  std::vector<uint8_t> s = {0x52};  // OP_2
  for (const char* k : kPubkeys) {
    s.push_back(33);
    std::vector<uint8_t> key = Hex(k);
    s.insert(s.end(), key.begin(), key.end());
  }
  s.push_back(0x53);  // OP_3
  s.push_back(0xae);  // OP_CHECKMULTISIG
  return Script(std::move(s));
}

Script P2wshScript(uint8_t fill) {
  std::vector<uint8_t> s = {0x00, 0x20};
  s.resize(34, fill);
  return Script(std::move(s));
}

KeyOrigin Origin(uint32_t account, uint32_t index) {
  return KeyOrigin{.fingerprint = {0xd3, 0x4d, 0xb3, 0x3f},
                   .path = KeyPath{{48 | kHardened, 0 | kHardened, account | kHardened,
                                    2 | kHardened, 0, index}}};
}

// A previous transaction: one segwit input (with a 2-of-3 witness) and two outputs.
Transaction PreviousTx(size_t n) {
  Transaction tx;
  TxIn in;
  std::array<uint8_t, 32> txid{};
  for (size_t j = 0; j < 8; ++j) txid[j] = static_cast<uint8_t>((n + 1000) >> (8 * j));
  in.prevout = Outpoint{Txid(txid), 1};
  in.sequence = 0xfffffffd;
  in.witness = {
      {}, std::vector<uint8_t>(72, 0x30), std::vector<uint8_t>(71, 0x30), MultisigScript().bytes()};
  tx.inputs.push_back(in);
  tx.outputs.push_back(
      TxOut{.value = 500000 + static_cast<int64_t>(n), .script_pubkey = P2wshScript(0x11)});
  tx.outputs.push_back(TxOut{.value = 1234567, .script_pubkey = P2wshScript(0x22)});
  tx.lock_time = 800000;
  return tx;
}

Psbt MakePsbt(size_t inputs, bool keyed_fields) {
  Psbt psbt;
  Transaction tx;
  const Script multisig = MultisigScript();
  const std::vector<uint8_t> sig =
      Hex("3044022022222222222222222222222222222222222222222222222222222222222222220220"
          "333333333333333333333333333333333333333333333333333333333333333301");
  for (size_t i = 0; i < inputs; ++i) {
    Transaction prev = PreviousTx(i);
    TxIn in;
    in.prevout = Outpoint{prev.ComputeTxid(), 0};
    in.sequence = 0xfffffffd;
    tx.inputs.push_back(in);
    PsbtInput p;
    p.witness_utxo = prev.outputs[0];
    p.non_witness_utxo = std::move(prev);
    p.witness_script = multisig;
    p.sighash_type = 1;
    for (uint32_t k = 0; k < 3; ++k) {
      if (keyed_fields) {
        p.bip32_derivations[Hex(kPubkeys[k])] = Origin(k, static_cast<uint32_t>(i));
      } else {
        std::vector<uint8_t> key = Hex(kPubkeys[k]);
        key.insert(key.begin(), static_cast<uint8_t>(0x40 + k));
        p.unknown.push_back(PsbtUnknown{key, std::vector<uint8_t>(28, 0x01)});
      }
    }
    if (keyed_fields) {
      p.partial_sigs[Hex(kPubkeys[0])] = sig;
    } else {
      std::vector<uint8_t> key = Hex(kPubkeys[0]);
      key.insert(key.begin(), 0x43);
      p.unknown.push_back(PsbtUnknown{key, sig});
    }
    psbt.inputs.push_back(std::move(p));
  }
  tx.outputs.push_back(TxOut{.value = 40000000, .script_pubkey = P2wshScript(0x33)});
  tx.outputs.push_back(TxOut{.value = 9000000, .script_pubkey = P2wshScript(0x44)});
  psbt.unsigned_tx = std::move(tx);
  psbt.outputs.resize(2);
  psbt.outputs[1].witness_script = multisig;
  for (uint32_t k = 0; k < 3; ++k) {
    psbt.outputs[1].bip32_derivations[Hex(kPubkeys[k])] = Origin(k, 7);
  }
  return psbt;
}

void BM_PsbtParse(benchmark::State& state, bool keyed_fields) {
  const std::vector<uint8_t> bytes = MakePsbt(100, keyed_fields).Serialize();
  CHECK(Psbt::Parse(bytes).ok());
  for (auto _ : state) {
    util::Result<Psbt> p = Psbt::Parse(bytes);
    benchmark::DoNotOptimize(p);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes.size()));
  state.counters["psbt_bytes"] = static_cast<double>(bytes.size());
}

void BM_PsbtSerialize(benchmark::State& state, bool keyed_fields) {
  const Psbt psbt = MakePsbt(100, keyed_fields);
  size_t size = 0;
  for (auto _ : state) {
    std::vector<uint8_t> out = psbt.Serialize();
    size = out.size();
    benchmark::DoNotOptimize(out);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * size));
  state.counters["psbt_bytes"] = static_cast<double>(size);
}

void BM_PsbtParseBase64(benchmark::State& state) {
  const std::string text = MakePsbt(100, true).ToBase64();
  for (auto _ : state) {
    util::Result<Psbt> p = Psbt::ParseBase64(text);
    benchmark::DoNotOptimize(p);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}

void BM_PsbtToBase64(benchmark::State& state) {
  const Psbt psbt = MakePsbt(100, true);
  size_t size = 0;
  for (auto _ : state) {
    std::string text = psbt.ToBase64();
    size = text.size();
    benchmark::DoNotOptimize(text);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * size));
}

BENCHMARK_CAPTURE(BM_PsbtParse, P2wsh2of3x100, true)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_PsbtParse, P2wsh2of3x100NoKeys, false)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_PsbtSerialize, P2wsh2of3x100, true)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_PsbtSerialize, P2wsh2of3x100NoKeys, false)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_PsbtParseBase64)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_PsbtToBase64)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace kinko::btc
