// The signer's decision and signing of one request, against the pure cryptographic work of the
// same request measured in the same run (doc/performance.md, "Signer decision and signing").
//
// The request (test/support/signer_fixture.h): one intent of the requester paying an
// address-book address of the fixture policy, so that rule "to the address book" needs two
// approvals of the treasury group (alice and bob); a PSBT of the 2-of-3 P2WSH test wallet
// spending N receive coins (full previous transactions, derivations) and paying the intent and
// change; the signer holds account key 0, as signerd's file key gives it to btc::SignPsbt.
//
// SignerDecideAndSign/N alternates, in every iteration, the two sides below and times each with
// the thread's CPU clock (the machine is shared: process and wall time would count other work).
// The benchmark's time is the measured side's; the counters are
//   crypto_ms   the baseline side, per iteration
//   ratio       measured / baseline over all iterations
//   decode_ms, decide_ms, sign_ms, ed25519_ms, derive_ms, ecdsa_ms   the parts of each side
//   key_checks_ms   outside both sides: crypto::IsValidEd25519PublicKey of the 3 signatures'
//                   keys, which decoding a signature (policy/identity.cc) does before verifying.
//
// Measured: what the daemon does with a request once the HTTP body is parsed, minus the audit
// log and the state store's fsync (bench/signer_store_bench.cc measures those):
//   1. policy::SignedIntent::Decode and policy::SignedApproval::Decode of the canonical
//      encodings (the requester's and approvers' Ed25519 signature checks happen here);
//   2. signer::DecideSign (policy evaluation, signer::CheckTransaction, evaluation with fees);
//   3. btc::SignPsbt with the account key, as signerd's file key adds it.
// Baseline, with the same library calls underneath:
//   - crypto::Ed25519Verify of the intent's and the two approvals' digests (3);
//   - btc::ExtendedKey::Derive (CKDpub) of the 3 cosigners' keys at each input's index and at
//     the change output's, from the branch keys: 3 (N + 1), the check's re-derivation;
//   - btc::ExtendedKey::Derive (CKDpriv) of the signer's receive branch key once, and of its
//     key at each input's index: N + 1;
//   - crypto::EcdsaSign (low-R grinding, DER, the post-signing verification) of each input's
//     BIP143 sighash: N.
// Not in either side: decoding the JSON body and its PSBT (SignerDecodeSignRequest/N reports
// it), building the PSBT's signed result, the audit log and the fsync.
#include <benchmark/benchmark.h>
#include <time.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "btc/bip32.h"
#include "btc/psbt.h"
#include "btc/psbt_sign.h"
#include "btc/sighash.h"
#include "crypto/ed25519.h"
#include "crypto/secp256k1.h"
#include "policy/approval.h"
#include "policy/intent.h"
#include "signer/decide.h"
#include "signerapi/json_codec.h"
#include "signerapi/messages.h"
#include "test/support/signer_fixture.h"
#include "util/check.h"

namespace kinko::signer {
namespace {

constexpr int64_t kCoin = 1'000'000;
constexpr int64_t kPay = 500'000;
// Above kPay: rule "small withdrawals" does not match, "to the address book" does.
constexpr int64_t kSmallMax = 100'000;

// The thread's CPU time in seconds.
double ThreadCpuSeconds() {
  timespec now{};
  CHECK(clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now) == 0);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) * 1e-9;
}

// A signature check as the baseline makes it: the key, the message and the signature.
struct Ed25519Check {
  crypto::Ed25519PublicKey public_key;
  policy::Digest digest;
  crypto::Ed25519Signature signature;
};

// Everything one request needs, built once per benchmark run.
struct Setup {
  const crypto::Secp256k1Context& ctx = testing::TestContext();
  testing::TestWallet wallet = testing::MakeTestWallet(ctx);
  // Set by MakeSetup (neither has a default).
  std::optional<SignerConfig> config;
  std::optional<SignerState> state;
  signerapi::SignRequest request;
  // The canonical encodings the daemon's decoder verifies.
  std::vector<uint8_t> intent_bytes;
  std::vector<std::vector<uint8_t>> approval_bytes;
  // For the baseline.
  std::vector<Ed25519Check> ed25519_checks;
  std::vector<btc::ExtendedKey> receive_branch_keys;  // account/0 of each cosigner (public).
  std::vector<btc::ExtendedKey> change_branch_keys;   // account/1 of each cosigner (public).
  uint32_t change_index = 0;
  std::vector<btc::SighashBytes> sighashes;  // BIP143, per input.
};

std::unique_ptr<Setup> MakeSetup(uint32_t inputs) {
  auto setup = std::make_unique<Setup>();
  const crypto::Secp256k1Context& ctx = setup->ctx;
  const testing::Actors actors = testing::MakeActors();
  const std::string destination = testing::ForeignAddress(7);
  const policy::SignedPolicy signed_policy = testing::MakePolicy(
      actors, {.address_book = {{"exchange", destination}}, .small_max = testing::Sats(kSmallMax)});
  const policy::Digest policy_digest = signed_policy.policy().digest();
  setup->state =
      SignerState{.governance = testing::InstallPolicy(actors, signed_policy, testing::kFixtureNow),
                  .consumed = {},
                  .velocity = {},
                  .freezes = {},
                  .lifted_freezes = {}};
  setup->config =
      testing::MakeSignerConfig(actors, testing::MakeWalletConfig(ctx, setup->wallet.descriptor));

  const policy::SignedIntent intent =
      testing::MakeIntent(actors, {{destination, kPay}}, testing::kFixtureNow);
  std::vector<policy::SignedApproval> approvals;
  for (size_t approver : {size_t{0}, size_t{1}}) {
    approvals.push_back(
        testing::Approve(actors.approvers[approver], intent, policy_digest, testing::kFixtureNow));
  }
  const std::vector<int64_t> input_sats(inputs, kCoin);
  setup->change_index = 3;
  setup->request.psbt = testing::BuildPsbt(
      ctx, setup->config->wallet, {intent},
      {.input_sats = input_sats, .fee_sats = 2'000, .change_index = setup->change_index});
  setup->request.request_id.fill(0x5a);
  setup->request.intents.push_back({intent, approvals});

  setup->intent_bytes = intent.Encode();
  setup->ed25519_checks.push_back(
      {intent.signature().public_key, intent.intent().digest(), intent.signature().signature});
  for (const policy::SignedApproval& approval : approvals) {
    setup->approval_bytes.push_back(approval.Encode());
    setup->ed25519_checks.push_back({approval.signature().public_key, approval.approval().digest(),
                                     approval.signature().signature});
  }
  for (const btc::ExtendedKey& account : setup->wallet.accounts) {
    setup->receive_branch_keys.push_back(account.Neuter().Derive(ctx, 0).value());
    setup->change_branch_keys.push_back(account.Neuter().Derive(ctx, 1).value());
  }

  // The sighashes SignPsbt computes, so that the baseline grinds the same nonces.
  const btc::Psbt& psbt = setup->request.psbt;
  const btc::Transaction tx = psbt.GetUnsignedTx().value();
  const std::vector<btc::TxOut> spent = testing::SpentOutputs(psbt);
  const btc::PrecomputedTransactionData precomputed =
      btc::PrecomputedTransactionData::Create(tx, spent).value();
  for (size_t i = 0; i < tx.inputs.size(); ++i) {
    setup->sighashes.push_back(btc::SegwitV0Sighash(tx, i, psbt.inputs[i].witness_script.value(),
                                                    spent[i].value, btc::kSighashAll, precomputed));
  }
  return setup;
}

// The measured side's parts, in seconds.
struct MeasuredTimes {
  double decode = 0;
  double decide = 0;
  double sign = 0;
};

// Decodes the signed objects, decides and signs, as the daemon does; `psbt` is the request's
// PSBT (copied by the caller outside the timed region).
MeasuredTimes DecideAndSign(const Setup& setup, btc::Psbt psbt, size_t inputs) {
  MeasuredTimes times;
  const double start = ThreadCpuSeconds();
  signerapi::SignRequest request{
      .request_id = setup.request.request_id, .psbt = std::move(psbt), .intents = {}};
  util::Result<policy::SignedIntent> intent = policy::SignedIntent::Decode(setup.intent_bytes);
  CHECK(intent.ok());
  std::vector<policy::SignedApproval> approvals;
  for (const std::vector<uint8_t>& bytes : setup.approval_bytes) {
    util::Result<policy::SignedApproval> approval = policy::SignedApproval::Decode(bytes);
    CHECK(approval.ok());
    approvals.push_back(std::move(approval).value());
  }
  request.intents.push_back({std::move(intent).value(), std::move(approvals)});
  const double decoded = ThreadCpuSeconds();

  const SignDecision decision = DecideSign(setup.ctx, *setup.config, *setup.state, request,
                                           std::nullopt, testing::kFixtureNow);
  CHECK(decision.allowed());
  const double decided = ThreadCpuSeconds();

  btc::PsbtSigningKeys keys;
  CHECK(keys.AddExtendedKey(setup.wallet.accounts[0].Clone(), setup.wallet.origins[0]).ok());
  util::Result<btc::PsbtSignResult> signed_psbt =
      btc::SignPsbt(setup.ctx, std::move(request.psbt), keys);
  CHECK(signed_psbt.ok() && signed_psbt->signatures_added == inputs);
  const double signed_at = ThreadCpuSeconds();
  benchmark::DoNotOptimize(signed_psbt);

  times.decode = decoded - start;
  times.decide = decided - decoded;
  times.sign = signed_at - decided;
  return times;
}

// The baseline side's parts, in seconds.
struct CryptoTimes {
  double ed25519 = 0;
  double derive = 0;
  double ecdsa = 0;
  // Not in the baseline: the main-subgroup check of each signature's public key
  // (crypto::IsValidEd25519PublicKey) that decoding a signature makes before verifying it.
  double key_checks = 0;
};

CryptoTimes CryptoWork(const Setup& setup, uint32_t inputs) {
  const crypto::Secp256k1Context& ctx = setup.ctx;
  CryptoTimes times;
  const double start = ThreadCpuSeconds();
  for (const Ed25519Check& check : setup.ed25519_checks) {
    CHECK(crypto::Ed25519Verify(check.public_key, check.digest, check.signature));
  }
  const double verified = ThreadCpuSeconds();

  for (uint32_t i = 0; i < inputs; ++i) {
    for (const btc::ExtendedKey& key : setup.receive_branch_keys) {
      util::Result<btc::ExtendedKey> child = key.Derive(ctx, i);
      benchmark::DoNotOptimize(child);
    }
  }
  for (const btc::ExtendedKey& key : setup.change_branch_keys) {
    util::Result<btc::ExtendedKey> child = key.Derive(ctx, setup.change_index);
    benchmark::DoNotOptimize(child);
  }
  util::Result<btc::ExtendedKey> branch = setup.wallet.accounts[0].Derive(ctx, 0);
  CHECK(branch.ok());
  std::vector<btc::ExtendedKey> signing_keys;
  signing_keys.reserve(inputs);
  for (uint32_t i = 0; i < inputs; ++i) {
    util::Result<btc::ExtendedKey> child = branch->Derive(ctx, i);
    CHECK(child.ok());
    signing_keys.push_back(std::move(child).value());
  }
  const double derived = ThreadCpuSeconds();

  for (uint32_t i = 0; i < inputs; ++i) {
    std::vector<uint8_t> sig = crypto::EcdsaSign(ctx, *signing_keys[i].private_key(),
                                                 setup.sighashes[i], crypto::LowRGrinding::kGrind);
    benchmark::DoNotOptimize(sig);
  }
  const double signed_at = ThreadCpuSeconds();

  for (const Ed25519Check& check : setup.ed25519_checks) {
    CHECK(crypto::IsValidEd25519PublicKey(check.public_key));
  }
  const double keys_checked = ThreadCpuSeconds();

  times.ed25519 = verified - start;
  times.derive = derived - verified;
  times.ecdsa = signed_at - derived;
  times.key_checks = keys_checked - signed_at;
  return times;
}

void SignerDecideAndSign(benchmark::State& state) {
  const uint32_t inputs = static_cast<uint32_t>(state.range(0));
  const std::unique_ptr<Setup> setup = MakeSetup(inputs);
  MeasuredTimes measured_total;
  CryptoTimes crypto_total;
  for (auto _ : state) {
    btc::Psbt psbt = setup->request.psbt;  // Not timed: the daemon owns the decoded request.
    const MeasuredTimes measured = DecideAndSign(*setup, std::move(psbt), inputs);
    const CryptoTimes crypto_work = CryptoWork(*setup, inputs);
    state.SetIterationTime(measured.decode + measured.decide + measured.sign);
    measured_total.decode += measured.decode;
    measured_total.decide += measured.decide;
    measured_total.sign += measured.sign;
    crypto_total.ed25519 += crypto_work.ed25519;
    crypto_total.derive += crypto_work.derive;
    crypto_total.ecdsa += crypto_work.ecdsa;
    crypto_total.key_checks += crypto_work.key_checks;
  }
  const double iterations = static_cast<double>(state.iterations());
  const double measured_sum = measured_total.decode + measured_total.decide + measured_total.sign;
  const double crypto_sum = crypto_total.ed25519 + crypto_total.derive + crypto_total.ecdsa;
  auto ms = [&](double seconds) { return seconds / iterations * 1e3; };
  state.counters["crypto_ms"] = ms(crypto_sum);
  state.counters["ratio"] = measured_sum / crypto_sum;
  state.counters["decode_ms"] = ms(measured_total.decode);
  state.counters["decide_ms"] = ms(measured_total.decide);
  state.counters["sign_ms"] = ms(measured_total.sign);
  state.counters["ed25519_ms"] = ms(crypto_total.ed25519);
  state.counters["derive_ms"] = ms(crypto_total.derive);
  state.counters["ecdsa_ms"] = ms(crypto_total.ecdsa);
  state.counters["key_checks_ms"] = ms(crypto_total.key_checks);
}
BENCHMARK(SignerDecideAndSign)
    ->Arg(1)
    ->Arg(10)
    ->Arg(100)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

// Decoding the same request's JSON body (signerapi::DecodeSignRequest: the PSBT's parse, with
// its public key checks, and the intents' and approvals' decoding with their signature checks):
// work the daemon does before the decision, reported for scale.
void SignerDecodeSignRequest(benchmark::State& state) {
  const std::unique_ptr<Setup> setup = MakeSetup(static_cast<uint32_t>(state.range(0)));
  const std::string body = signerapi::EncodeSignRequest(setup->request);
  CHECK(signerapi::DecodeSignRequest(body).ok());
  for (auto _ : state) {
    util::Result<signerapi::SignRequest> request = signerapi::DecodeSignRequest(body);
    benchmark::DoNotOptimize(request);
  }
  state.counters["body_kb"] = static_cast<double>(body.size()) / 1000.0;
}
BENCHMARK(SignerDecodeSignRequest)->Arg(1)->Arg(10)->Arg(100)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace kinko::signer
