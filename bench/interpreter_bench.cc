// Script interpreter benchmarks: verifying a 2-of-3 P2WSH input and a taproot key-path input,
// each next to a baseline that makes the same libsecp256k1 verify calls (two ECDSA, one
// Schnorr) on pre-parsed keys and precomputed digests. The *Overhead benchmarks time both in
// the same run and report the interpreter's overhead over the signature checks in percent
// (counter "overhead_pct"): parsing keys and signatures, sighashes, script execution.
#include <benchmark/benchmark.h>

#include <array>
#include <ctime>
#include <optional>
#include <vector>

#include "btc/interpreter.h"
#include "btc/script.h"
#include "btc/sighash.h"
#include "btc/transaction.h"
#include "crypto/hash.h"
#include "crypto/rng.h"
#include "crypto/secp256k1.h"
#include "util/check.h"

namespace kinko::btc {
namespace {

using Bytes = std::vector<uint8_t>;

crypto::PrivateKey Key(uint8_t n) {
  std::array<uint8_t, 32> secret{};
  secret[0] = 0x42;
  secret[31] = n;
  return *crypto::PrivateKey::FromBytes(secret);
}

// One input spending `script_pubkey` worth `amount`, to one output.
Transaction SpendingTx(int64_t amount) {
  Transaction tx;
  TxIn in;
  in.prevout.txid = Txid(std::array<uint8_t, 32>{7, 7, 7});
  in.prevout.index = 1;
  in.sequence = 0xfffffffd;
  tx.inputs.push_back(in);
  tx.outputs.push_back(TxOut{amount - 1000, Script().PushOpcode(0x00).PushData(Bytes(20, 3))});
  return tx;
}

crypto::Secp256k1Context MakeContext() {
  crypto::SystemRng rng;
  return crypto::Secp256k1Context::Create(rng);
}

// A 2-of-3 P2WSH input signed by the second and third keys. CHECKMULTISIG matches signatures
// to keys from the top of the stack, so this makes exactly two ECDSA verify calls (signing with
// the first two keys would make three: the last signature is first tried against key 3).
struct P2wshCase {
  P2wshCase() : ctx(MakeContext()), tx(SpendingTx(100000)) {
    Script multisig = Script().PushOpcode(0x52);
    std::vector<crypto::PrivateKey> keys;
    for (uint8_t i = 1; i <= 3; ++i) {
      keys.push_back(Key(i));
      pubkeys.push_back(crypto::DerivePublicKey(ctx, keys.back()));
      multisig.PushData(pubkeys.back().Serialize());
    }
    multisig.PushOpcode(0x53).PushOpcode(0xae);
    spent = TxOut{100000, Script().PushOpcode(0x00).PushData(crypto::Sha256(multisig.bytes()))};
    precomputed.emplace(*PrecomputedTransactionData::Create(tx, {spent}));
    digest = SegwitV0Sighash(tx, 0, multisig, spent.value, kSighashAll, *precomputed);
    Bytes sig1 = crypto::EcdsaSign(ctx, keys[1], digest);
    Bytes sig2 = crypto::EcdsaSign(ctx, keys[2], digest);
    ders = {sig1, sig2};
    sig1.push_back(kSighashAll);
    sig2.push_back(kSighashAll);
    tx.inputs[0].witness = {{}, sig1, sig2, multisig.bytes()};
  }
  crypto::Secp256k1Context ctx;
  Transaction tx;
  TxOut spent;
  std::vector<crypto::PublicKey> pubkeys;
  std::optional<PrecomputedTransactionData> precomputed;
  SighashBytes digest;
  std::vector<Bytes> ders;
};

// A taproot key-path input: one Schnorr verify call.
struct TaprootCase {
  TaprootCase() : ctx(MakeContext()), tx(SpendingTx(100000)) {
    const crypto::PrivateKey key = Key(9);
    const crypto::XOnlyPublicKey internal =
        crypto::XOnlyPublicKey::FromPublicKey(crypto::DerivePublicKey(ctx, key));
    const crypto::TweakedPublicKey tweaked =
        *crypto::TaprootTweakPublicKey(ctx, internal, std::nullopt);
    output_key.emplace(tweaked.key);
    spent = TxOut{100000, Script().PushOpcode(0x51).PushData(tweaked.key.bytes())};
    precomputed.emplace(*PrecomputedTransactionData::Create(tx, {spent}));
    digest = *TaprootSighash(tx, 0, kSighashDefault, *precomputed, {});
    const std::array<uint8_t, 32> aux{};
    signature = crypto::SchnorrSign(ctx, *crypto::TaprootTweakPrivateKey(ctx, key, std::nullopt),
                                    digest, aux);
    tx.inputs[0].witness = {Bytes(signature.begin(), signature.end())};
  }
  crypto::Secp256k1Context ctx;
  Transaction tx;
  TxOut spent;
  std::optional<crypto::XOnlyPublicKey> output_key;
  std::optional<PrecomputedTransactionData> precomputed;
  SighashBytes digest;
  std::array<uint8_t, 64> signature;
};

bool VerifyInput(const crypto::Secp256k1Context& ctx, const Transaction& tx, const TxOut& spent,
                 const PrecomputedTransactionData& precomputed) {
  TransactionSignatureChecker checker(ctx, tx, 0, spent.value, precomputed);
  return VerifyScript(tx.inputs[0].script_sig, spent.script_pubkey, tx.inputs[0].witness,
                      StandardVerifyFlags(), checker) == ScriptError::kOk;
}

bool P2wshBaseline(const P2wshCase& c) {
  return crypto::EcdsaVerify(c.ctx, c.pubkeys[2], c.digest, c.ders[1], crypto::DerParsing::kLax) &&
         crypto::EcdsaVerify(c.ctx, c.pubkeys[1], c.digest, c.ders[0], crypto::DerParsing::kLax);
}

bool TaprootBaseline(const TaprootCase& c) {
  return crypto::SchnorrVerify(c.ctx, *c.output_key, c.digest, c.signature);
}

void BM_VerifyP2wsh2Of3(benchmark::State& state) {
  const P2wshCase c;
  CHECK(VerifyInput(c.ctx, c.tx, c.spent, *c.precomputed));
  for (auto _ : state) {
    benchmark::DoNotOptimize(VerifyInput(c.ctx, c.tx, c.spent, *c.precomputed));
  }
}
BENCHMARK(BM_VerifyP2wsh2Of3);

void BM_EcdsaVerifyTwiceBaseline(benchmark::State& state) {
  const P2wshCase c;
  CHECK(P2wshBaseline(c));
  for (auto _ : state) benchmark::DoNotOptimize(P2wshBaseline(c));
}
BENCHMARK(BM_EcdsaVerifyTwiceBaseline);

void BM_VerifyTaprootKeyPath(benchmark::State& state) {
  const TaprootCase c;
  CHECK(VerifyInput(c.ctx, c.tx, c.spent, *c.precomputed));
  for (auto _ : state) {
    benchmark::DoNotOptimize(VerifyInput(c.ctx, c.tx, c.spent, *c.precomputed));
  }
}
BENCHMARK(BM_VerifyTaprootKeyPath);

void BM_SchnorrVerifyBaseline(benchmark::State& state) {
  const TaprootCase c;
  CHECK(TaprootBaseline(c));
  for (auto _ : state) benchmark::DoNotOptimize(TaprootBaseline(c));
}
BENCHMARK(BM_SchnorrVerifyBaseline);

// This thread's CPU time in nanoseconds: unaffected by other processes on a shared machine.
int64_t ThreadCpuNanos() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

// Alternates interpreter and baseline in one loop, so both see the same machine state, and
// reports the interpreter's CPU time over the baseline's, minus one, in percent.
template <typename Case, typename Baseline>
void RunOverhead(benchmark::State& state, const Case& c, Baseline baseline) {
  int64_t interpreter = 0;
  int64_t signatures = 0;
  for (auto _ : state) {
    const int64_t t0 = ThreadCpuNanos();
    benchmark::DoNotOptimize(VerifyInput(c.ctx, c.tx, c.spent, *c.precomputed));
    const int64_t t1 = ThreadCpuNanos();
    benchmark::DoNotOptimize(baseline(c));
    const int64_t t2 = ThreadCpuNanos();
    interpreter += t1 - t0;
    signatures += t2 - t1;
  }
  state.counters["overhead_pct"] =
      100.0 * (static_cast<double>(interpreter) / static_cast<double>(signatures) - 1.0);
}

void BM_P2wsh2Of3Overhead(benchmark::State& state) {
  const P2wshCase c;
  RunOverhead(state, c, P2wshBaseline);
}
BENCHMARK(BM_P2wsh2Of3Overhead);

void BM_TaprootKeyPathOverhead(benchmark::State& state) {
  const TaprootCase c;
  RunOverhead(state, c, TaprootBaseline);
}
BENCHMARK(BM_TaprootKeyPathOverhead);

}  // namespace
}  // namespace kinko::btc
