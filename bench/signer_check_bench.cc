// The signer's transaction check (signer::CheckTransaction) on a 2-of-3 P2WSH sortedmulti wallet,
// for a PSBT of 1, 10 and 100 inputs paying one intent output and change, against named
// baselines in the same run:
//   SignerCheckTransaction/N        CheckTransaction on the N-input PSBT
//   SignerCheckDerivationBaseline/N the pure elliptic-curve work of the same check: the BIP32
//                                   public child derivations (CKDpub) of the three cosigners'
//                                   keys at each input's index and at the change output's, from
//                                   the branch keys (account/0 and account/1): 3 (N + 1) CKDpub
//   SignerCheckExpandBaseline/N     Descriptor::Expand of each input's script: the derivations
//                                   of the inputs with the witness scripts and key origins
// CheckTransaction derives each input's and the change output's keys once
// (btc::MatchScriptInfo), and the descriptor derives the branch keys at parse time, so the
// check's overhead over the derivation baseline is what it does besides deriving: the txids of
// the previous transactions, the comparisons, the outputs and the fee.
#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "btc/bip32.h"
#include "btc/descriptor.h"
#include "btc/psbt.h"
#include "btc/psbt_roles.h"
#include "btc/standard.h"
#include "crypto/hash.h"
#include "crypto/rng.h"
#include "crypto/secp256k1.h"
#include "policy/identity.h"
#include "policy/intent.h"
#include "signer/transaction_check.h"
#include "util/check.h"
#include "util/hex.h"

namespace kinko::signer {
namespace {

constexpr btc::Network kNet = btc::Network::kRegtest;
constexpr int64_t kCoin = 100'000;
constexpr int64_t kPay = 50'000;
constexpr int64_t kFeePerInput = 200;

const crypto::Secp256k1Context& Ctx() {
  static crypto::SystemRng rng;
  static const crypto::Secp256k1Context ctx = crypto::Secp256k1Context::Create(rng);
  return ctx;
}

// The account key m/48h/1h/0h/2h of the master key of seed `seed_byte` * 32, with its origin.
struct AccountKey {
  std::array<uint8_t, 4> fingerprint;
  btc::ExtendedKey xpub;
};

AccountKey Account(uint8_t seed_byte) {
  const std::vector<uint8_t> seed(32, seed_byte);
  util::Result<btc::ExtendedKey> master = btc::ExtendedKey::FromSeed(Ctx(), seed, kNet);
  CHECK(master.ok());
  const btc::KeyPath path = btc::KeyPath::Parse("48h/1h/0h/2h").value();
  return AccountKey{.fingerprint = master->Fingerprint(),
                    .xpub = master->DerivePath(Ctx(), path).value().Neuter()};
}

constexpr uint8_t kSeeds[] = {0xa1, 0xb2, 0xc3};

std::string KeyExpression(uint8_t seed_byte) {
  const AccountKey account = Account(seed_byte);
  return "[" + util::HexEncode(account.fingerprint) + "/48h/1h/0h/2h]" + account.xpub.ToString() +
         "/<0;1>/*";
}

const WalletConfig& Wallet() {
  static const WalletConfig* wallet = [] {
    const std::string text = "wsh(sortedmulti(2," + KeyExpression(kSeeds[0]) + "," +
                             KeyExpression(kSeeds[1]) + "," + KeyExpression(kSeeds[2]) + "))";
    util::Result<btc::Descriptor> descriptor = btc::Descriptor::Parse(Ctx(), text, kNet);
    CHECK(descriptor.ok());
    util::Result<WalletConfig> config =
        WalletConfig::Create(Ctx(), "vault", kNet, std::move(descriptor).value(), 1000, 1000);
    CHECK(config.ok());
    return new WalletConfig(std::move(config).value());
  }();
  return *wallet;
}

btc::Script Foreign() {
  const std::vector<uint8_t> data = {0x42};
  return btc::P2wpkhScript(crypto::Hash160(data));
}

std::vector<policy::SignedIntent> Intents() {
  const crypto::Ed25519PrivateKey requester =
      crypto::Ed25519PrivateKey::FromSeed(
          crypto::SecretBytes::FromSpan(std::vector<uint8_t>(32, 7)))
          .value();
  policy::IntentFields f;
  f.id.fill(0xa0);
  f.wallet = "vault";
  f.network = kNet;
  f.outputs.push_back(
      {btc::EncodeAddress(Foreign(), kNet).value(), btc::Amount::FromSats(kPay).value()});
  f.fee.max_fee = btc::Amount::FromSats(btc::kCoin).value();
  f.requester = policy::Ed25519KeyId(requester.public_key());
  f.created = 1767225600;
  f.expires = 1767229200;
  return {
      policy::SignedIntent::Sign(policy::Intent::Create(std::move(f)).value(), requester).value()};
}

btc::Script ScriptAt(WalletBranch branch, uint32_t index) {
  return Wallet().branch(branch).Expand(Ctx(), index).value().script_pubkey;
}

// A PSBT spending receive indexes 0 .. n-1, paying the intent and change at change index 0, as
// the coordinator's creator and updater build it.
btc::Psbt MakePsbt(uint32_t n) {
  btc::Transaction funding;
  funding.inputs.resize(1);
  for (uint32_t i = 0; i < n; ++i) {
    funding.outputs.push_back({kCoin, ScriptAt(WalletBranch::kReceive, i)});
  }
  btc::Transaction tx;
  for (uint32_t i = 0; i < n; ++i) {
    btc::TxIn in;
    in.prevout = btc::Outpoint{funding.ComputeTxid(), i};
    tx.inputs.push_back(in);
  }
  tx.outputs.push_back({kPay, Foreign()});
  tx.outputs.push_back({kCoin * n - kPay - kFeePerInput * n, ScriptAt(WalletBranch::kChange, 0)});
  const std::vector<btc::Transaction> previous = {funding};
  btc::PsbtDescriptorUpdateOptions options;
  options.range = n + 1;
  util::Result<btc::Psbt> psbt = btc::UpdatePsbtWithDescriptor(
      Ctx(), btc::CreatePsbt(tx).value(), Wallet().descriptor(), previous, options);
  CHECK(psbt.ok());
  return std::move(psbt).value();
}

void SignerCheckTransaction(benchmark::State& state) {
  const btc::Psbt psbt = MakePsbt(static_cast<uint32_t>(state.range(0)));
  const std::vector<policy::SignedIntent> intents = Intents();
  CHECK(CheckTransaction(Ctx(), psbt, Wallet(), intents).ok());
  for (auto _ : state) {
    TransactionCheckOutcome outcome = CheckTransaction(Ctx(), psbt, Wallet(), intents);
    benchmark::DoNotOptimize(outcome);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(SignerCheckTransaction)->Arg(1)->Arg(10)->Arg(100)->Unit(benchmark::kMicrosecond);

void SignerCheckDerivationBaseline(benchmark::State& state) {
  const uint32_t n = static_cast<uint32_t>(state.range(0));
  // The branch keys account/0 and account/1 of each cosigner, derived once like the wallet's.
  std::vector<btc::ExtendedKey> receive;
  std::vector<btc::ExtendedKey> change;
  for (uint8_t seed_byte : kSeeds) {
    const AccountKey account = Account(seed_byte);
    receive.push_back(account.xpub.Derive(Ctx(), 0).value());
    change.push_back(account.xpub.Derive(Ctx(), 1).value());
  }
  for (auto _ : state) {
    for (uint32_t i = 0; i < n; ++i) {
      for (const btc::ExtendedKey& key : receive) {
        util::Result<btc::ExtendedKey> child = key.Derive(Ctx(), i);
        benchmark::DoNotOptimize(child);
      }
    }
    for (const btc::ExtendedKey& key : change) {
      util::Result<btc::ExtendedKey> child = key.Derive(Ctx(), 0);
      benchmark::DoNotOptimize(child);
    }
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(SignerCheckDerivationBaseline)->Arg(1)->Arg(10)->Arg(100)->Unit(benchmark::kMicrosecond);

void SignerCheckExpandBaseline(benchmark::State& state) {
  const uint32_t n = static_cast<uint32_t>(state.range(0));
  const btc::Descriptor& receive = Wallet().branch(WalletBranch::kReceive);
  for (auto _ : state) {
    for (uint32_t i = 0; i < n; ++i) {
      util::Result<btc::ScriptInfo> info = receive.Expand(Ctx(), i);
      benchmark::DoNotOptimize(info);
    }
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(SignerCheckExpandBaseline)->Arg(1)->Arg(10)->Arg(100)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace kinko::signer
