// Signing a 2-of-3 P2WSH PSBT of n inputs with one key, a master xprv whose children the
// inputs' BIP32 derivations name (m/48'/1'/0'/2'/0/i), against the pure elliptic-curve cost of
// the same work measured in the same run:
//   PsbtSign/n          SignPsbt: parse nothing, derive m/48'/1'/0'/2'/0 once and child i per
//                       input, recompute each BIP143 sighash, sign.
//   PsbtSignBaseline/n  Direct libsecp256k1 calls: the same 5 + n BIP32 derivations
//                       (HMAC-SHA512, secp256k1_ec_seckey_tweak_add, secp256k1_ec_pubkey_create
//                       and serialization, as ExtendedKey::Derive) and, per input, what
//                       crypto::EcdsaSign does: secp256k1_ecdsa_sign with RFC 6979 and low-R
//                       grinding (same keys and digests, so the same retries), DER
//                       serialization, and the fault check after signing
//                       (secp256k1_ec_pubkey_create + secp256k1_ecdsa_verify).
// The "per_input" counter is the time per input; flat when signing is linear in n.
#include <benchmark/benchmark.h>
#include <secp256k1.h>

#include <array>
#include <cstdint>
#include <map>
#include <vector>

#include "btc/bip32.h"
#include "btc/psbt.h"
#include "btc/psbt_roles.h"
#include "btc/psbt_sign.h"
#include "btc/sighash.h"
#include "btc/standard.h"
#include "crypto/hash.h"
#include "crypto/key_export.h"
#include "crypto/rng.h"
#include "crypto/secp256k1.h"
#include "util/check.h"

namespace kinko::btc {
namespace {

const crypto::Secp256k1Context& Ctx() {
  static crypto::SystemRng rng;
  static const crypto::Secp256k1Context ctx = crypto::Secp256k1Context::Create(rng);
  return ctx;
}

ExtendedKey Master(uint8_t seed_byte) {
  const std::vector<uint8_t> seed(32, seed_byte);
  util::Result<ExtendedKey> master = ExtendedKey::FromSeed(Ctx(), seed, Network::kTestnet);
  CHECK(master.ok());
  return std::move(*master);
}

KeyPath Branch() {
  util::Result<KeyPath> path = KeyPath::Parse("m/48'/1'/0'/2'/0");
  CHECK(path.ok());
  return *path;
}

// The PSBT of n inputs, and what the baseline needs: the sighash each input signs.
struct SignCase {
  Psbt psbt;
  std::vector<SighashBytes> sighashes;
};

SignCase MakeCase(const ExtendedKey& ours, size_t n) {
  const ExtendedKey other1 = Master(2);
  const ExtendedKey other2 = Master(3);
  const KeyPath branch = Branch();
  Transaction tx;
  tx.version = 2;
  std::vector<Transaction> previous;
  std::vector<Script> witness_scripts;
  std::vector<std::map<std::vector<uint8_t>, KeyOrigin>> origins(n);
  for (size_t i = 0; i < n; ++i) {
    std::vector<std::vector<uint8_t>> pubkeys;
    for (const ExtendedKey* master : {&ours, &other1, &other2}) {
      KeyPath path = branch;
      path.steps.push_back(static_cast<uint32_t>(i));
      util::Result<ExtendedKey> child = master->DerivePath(Ctx(), path);
      CHECK(child.ok());
      const auto pub = child->public_key().SerializeCompressed();
      pubkeys.emplace_back(pub.begin(), pub.end());
      origins[i].emplace(pubkeys.back(),
                         KeyOrigin{.fingerprint = master->Fingerprint(), .path = path});
    }
    Script witness_script = SortedMultisigScript(2, pubkeys);
    Transaction prev;
    prev.version = 2;
    prev.inputs.resize(1);
    prev.inputs[0].prevout.index = static_cast<uint32_t>(i);
    prev.outputs.push_back(
        TxOut{.value = 50000 + static_cast<int64_t>(i),
              .script_pubkey = P2wshScript(crypto::Sha256(witness_script.bytes()))});
    TxIn in;
    in.prevout = Outpoint{prev.ComputeTxid(), 0};
    tx.inputs.push_back(in);
    previous.push_back(std::move(prev));
    witness_scripts.push_back(std::move(witness_script));
  }
  tx.outputs.push_back(
      TxOut{.value = 1000, .script_pubkey = P2wpkhScript(std::array<uint8_t, 20>{})});
  util::Result<Psbt> psbt = CreatePsbt(tx);
  CHECK(psbt.ok());
  PsbtUpdateData data;
  data.previous_transactions = previous;
  data.scripts = witness_scripts;
  util::Result<Psbt> updated = UpdatePsbt(std::move(*psbt), data);
  CHECK(updated.ok());
  for (size_t i = 0; i < n; ++i) updated->inputs[i].bip32_derivations = origins[i];

  SignCase out{.psbt = std::move(*updated), .sighashes = {}};
  std::vector<TxOut> spent;
  for (const Transaction& prev : previous) spent.push_back(prev.outputs[0]);
  util::Result<PrecomputedTransactionData> precomputed =
      PrecomputedTransactionData::Create(tx, spent);
  CHECK(precomputed.ok());
  for (size_t i = 0; i < n; ++i) {
    out.sighashes.push_back(
        SegwitV0Sighash(tx, i, witness_scripts[i], spent[i].value, kSighashAll, *precomputed));
  }
  return out;
}

void SetPerInput(benchmark::State& state, size_t inputs) {
  state.counters["per_input"] = benchmark::Counter(
      static_cast<double>(inputs),
      benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

void BM_PsbtSign(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  const ExtendedKey master = Master(1);
  const SignCase sign_case = MakeCase(master, n);
  PsbtSigningKeys keys;
  CHECK(keys.AddExtendedKey(master.Clone(), std::nullopt).ok());
  for (auto _ : state) {
    state.PauseTiming();
    Psbt copy = sign_case.psbt;
    state.ResumeTiming();
    util::Result<PsbtSignResult> result = SignPsbt(Ctx(), std::move(copy), keys);
    CHECK(result.ok() && result->signatures_added == n);
    benchmark::DoNotOptimize(result);
  }
  SetPerInput(state, n);
}

// One BIP32 private derivation step with direct calls, as ExtendedKey::Derive does it.
struct RawNode {
  std::array<uint8_t, 32> key;
  std::array<uint8_t, 32> chain_code;
  std::array<uint8_t, 33> pub;
};

RawNode RawDerive(const secp256k1_context* ctx, const RawNode& parent, uint32_t index) {
  std::array<uint8_t, 37> data;
  if (index >= kHardened) {
    data[0] = 0;
    std::copy(parent.key.begin(), parent.key.end(), data.begin() + 1);
  } else {
    std::copy(parent.pub.begin(), parent.pub.end(), data.begin());
  }
  for (int b = 0; b < 4; ++b) data[33 + b] = static_cast<uint8_t>(index >> (24 - 8 * b));
  const crypto::Hash512Bytes hmac = crypto::HmacSha512(parent.chain_code, data);
  RawNode child;
  child.key = parent.key;
  CHECK(secp256k1_ec_seckey_tweak_add(ctx, child.key.data(), hmac.data()) == 1);
  std::copy(hmac.begin() + 32, hmac.end(), child.chain_code.begin());
  secp256k1_pubkey point;
  CHECK(secp256k1_ec_pubkey_create(ctx, &point, child.key.data()) == 1);
  size_t size = child.pub.size();
  secp256k1_ec_pubkey_serialize(ctx, child.pub.data(), &size, &point, SECP256K1_EC_COMPRESSED);
  return child;
}

// crypto::EcdsaSign's libsecp256k1 calls: grind for low R, serialize, verify.
void RawSign(const secp256k1_context* ctx, const std::array<uint8_t, 32>& key,
             const SighashBytes& digest) {
  secp256k1_ecdsa_signature sig;
  CHECK(secp256k1_ecdsa_sign(ctx, &sig, digest.data(), key.data(), secp256k1_nonce_function_rfc6979,
                             nullptr) == 1);
  std::array<uint8_t, 32> extra{};
  uint32_t counter = 0;
  for (;;) {
    unsigned char compact[64];
    secp256k1_ecdsa_signature_serialize_compact(ctx, compact, &sig);
    if (compact[0] < 0x80) break;
    ++counter;
    for (size_t b = 0; b < 4; ++b) extra[b] = static_cast<uint8_t>(counter >> (8 * b));
    CHECK(secp256k1_ecdsa_sign(ctx, &sig, digest.data(), key.data(),
                               secp256k1_nonce_function_rfc6979, extra.data()) == 1);
  }
  std::array<uint8_t, 72> der;
  size_t der_len = der.size();
  CHECK(secp256k1_ecdsa_signature_serialize_der(ctx, der.data(), &der_len, &sig) == 1);
  secp256k1_pubkey point;
  CHECK(secp256k1_ec_pubkey_create(ctx, &point, key.data()) == 1);
  CHECK(secp256k1_ecdsa_verify(ctx, &sig, digest.data(), &point) == 1);
  benchmark::DoNotOptimize(der);
}

void BM_PsbtSignBaseline(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  const ExtendedKey master = Master(1);
  const SignCase sign_case = MakeCase(master, n);
  const auto* ctx = static_cast<const secp256k1_context*>(Ctx().raw());
  RawNode root{.key = crypto::ExportPrivateKeyBytes(*master.private_key()),
               .chain_code = master.chain_code(),
               .pub = master.public_key().SerializeCompressed()};
  const KeyPath branch = Branch();
  for (auto _ : state) {
    RawNode node = root;
    for (uint32_t step : branch.steps) node = RawDerive(ctx, node, step);
    for (size_t i = 0; i < n; ++i) {
      const RawNode child = RawDerive(ctx, node, static_cast<uint32_t>(i));
      RawSign(ctx, child.key, sign_case.sighashes[i]);
    }
  }
  crypto::Wipe(root.key);
  SetPerInput(state, n);
}

BENCHMARK(BM_PsbtSign)->Arg(1)->Arg(10)->Arg(100)->Arg(500)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_PsbtSignBaseline)->Arg(1)->Arg(10)->Arg(100)->Arg(500)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace kinko::btc
