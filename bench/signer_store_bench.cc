// Benchmarks of the signer's state store (signerd/state_store.h), each against a baseline
// measured in the same run:
// - BM_SignerStoreApplyDecision/SyncFull: StateStore::Apply of one signed decision's commit (a
//   request entry and a decision entry, one consumed intent id, one spend, one signed tree
//   head), durably (synchronous=FULL: fsync of the WAL per commit); and /NoSync, the same with
//   DisableSyncForBenchmark, whose difference is the fsync's cost. Wall-clock time: an fsync
//   waits for the disk, not the CPU.
// - BM_SignerStoreLoad: StateStore::Load of a store of 100,000 entries (one first commit and
//   49,999 decisions, so 50,000 signed heads), against BM_SignerStoreLoadBaselineMerkleLog:
//   rebuilding a MerkleLog from the same 100,000 leaf hashes alone, and
//   BM_SignerStoreLoadBaselineHeads: decoding and verifying the 50,000 heads alone.
//
// Commits (and their head signatures) are built before the timed loops. The databases live in
// $TMPDIR (else /tmp): measure on the disk the signer will use.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "auditlog/merkle.h"
#include "crypto/hash.h"
#include "signerd/state_store.h"
#include "test/support/signer_fixture.h"
#include "util/check.h"

namespace kinko::signerd {
namespace {

constexpr uint64_t kLoadEntries = 100000;

// A directory under $TMPDIR (or /tmp) removed when the object is destroyed.
class BenchDir {
 public:
  BenchDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "kinko-store-bench-XXXXXX").string();
    CHECK(mkdtemp(pattern.data()) != nullptr);
    path_ = pattern;
  }
  ~BenchDir() { std::filesystem::remove_all(path_); }
  BenchDir(const BenchDir&) = delete;
  BenchDir& operator=(const BenchDir&) = delete;

  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

crypto::Hash256Bytes HashOf(const std::string& text) {
  return crypto::Sha256({reinterpret_cast<const uint8_t*>(text.data()), text.size()});
}

// Builds a signer's commits in order, as the daemon makes them: each head signs the log after
// the commit's entries.
class CommitBuilder {
 public:
  CommitBuilder()
      : actors_(testing::MakeActors()),
        policy_(testing::MakePolicy(actors_)),
        governance_(testing::InstallPolicy(actors_, policy_, testing::kFixtureNow)) {}

  PinnedConfig Config() const {
    std::vector<policy::KeyId> admins;
    for (const crypto::Ed25519PrivateKey& admin : actors_.admins) {
      admins.push_back(testing::IdOf(admin));
    }
    std::sort(admins.begin(), admins.end());
    return PinnedConfig{.wallet_id = testing::kFixtureWalletId,
                        .network = testing::kFixtureNetwork,
                        .descriptor = "wsh(sortedmulti(2,...))",
                        .receive_index_max = testing::kFixtureIndexMax,
                        .change_index_max = testing::kFixtureIndexMax,
                        .governance_admins = admins,
                        .governance_threshold = 2,
                        .watchers = {},
                        .identity_public_key = actors_.signer.public_key(),
                        .key_backend = "file",
                        .key_file = "signing.key",
                        .pkcs11_module = "",
                        .pkcs11_token_label = "",
                        .pkcs11_key_label = "",
                        .created_at = testing::kFixtureNow};
  }
  const policy::GovernanceState& governance() const { return governance_; }

  // The start-up and first-policy entries.
  Commit First() {
    const policy::Policy& p = policy_.policy();
    return Make(
        {Entry(testing::kFixtureNow, auditlog::StartupEntry{.software = "kinko-signer 0.1.0",
                                                            .head_key = actors_.signer.public_key(),
                                                            .policy_digest = p.digest(),
                                                            .policy_sequence = 1}),
         Entry(testing::kFixtureNow,
               auditlog::PolicyChangeEntry{.old_digest = std::nullopt,
                                           .new_digest = p.digest(),
                                           .sequence = 1,
                                           .effective_time = testing::kFixtureNow})},
        {}, testing::kFixtureNow);
  }

  // The next signed decision: two entries, one consumed id, one spend, one head.
  Commit Decision() {
    const uint64_t n = decisions_++;
    const uint64_t now = testing::kFixtureNow + n;
    const policy::IntentId id = testing::TestIntentId(n);
    const auditlog::Hash request = HashOf("request " + std::to_string(n));
    signer::StateChange change;
    change.consumed = {id};
    change.spends = {policy::Spend{
        .wallet = testing::kFixtureWalletId, .time = now, .amount = testing::Sats(50000)}};
    return Make(
        {Entry(now, auditlog::SignRequestEntry{.request_digest = request, .intent_ids = {id}}),
         Entry(now, auditlog::DecisionEntry{.request_digest = request,
                                            .intent_ids = {id},
                                            .outcome = auditlog::Outcome::kSigned,
                                            .code = "",
                                            .rule = "small withdrawals",
                                            .limit = "",
                                            .detail = "",
                                            .txid = HashOf("tx " + std::to_string(n))})},
        std::move(change), now);
  }

  const auditlog::MerkleLog& log() const { return log_; }

 private:
  static auditlog::Entry Entry(uint64_t time, auditlog::EntryBody body) {
    return auditlog::Entry::Create(time, std::move(body)).value();
  }

  Commit Make(std::vector<auditlog::Entry> entries, signer::StateChange change, uint64_t now) {
    for (const auditlog::Entry& entry : entries) log_.Append(entry.Encode());
    auditlog::SignedTreeHead head = auditlog::SignedTreeHead::Sign(
        {.size = log_.size(), .root = log_.Root(), .time = now}, actors_.signer);
    return Commit{.entries = std::move(entries), .change = std::move(change), .head = head};
  }

  testing::Actors actors_;
  policy::SignedPolicy policy_;
  policy::GovernanceState governance_;
  auditlog::MerkleLog log_;
  uint64_t decisions_ = 0;
};

StateStore CreateStore(const std::string& path, CommitBuilder& builder) {
  const Commit first = builder.First();
  return StateStore::Create(path, builder.Config(), builder.governance(), first).value();
}

void BM_SignerStoreApplyDecision(benchmark::State& state, bool sync) {
  BenchDir dir;
  CommitBuilder builder;
  StateStore store = CreateStore(dir.File("signer.db"), builder);
  if (!sync) store.DisableSyncForBenchmark();
  std::vector<Commit> commits;
  commits.reserve(static_cast<size_t>(state.max_iterations));
  for (benchmark::IterationCount i = 0; i < state.max_iterations; ++i) {
    commits.push_back(builder.Decision());
  }
  size_t next = 0;
  for (auto _ : state) {
    CHECK(store.Apply(commits[next++]).ok());
  }
}
BENCHMARK_CAPTURE(BM_SignerStoreApplyDecision, SyncFull, true)
    ->Iterations(300)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_SignerStoreApplyDecision, NoSync, false)
    ->Iterations(5000)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

// One store of kLoadEntries entries, built once (without fsync, to build it fast), and its leaf
// hashes and encoded heads for the baselines.
struct LoadFixture {
  LoadFixture() {
    CommitBuilder builder;
    {
      const Commit first = builder.First();
      heads.push_back(first.head.Encode());
      StateStore store =
          StateStore::Create(path, builder.Config(), builder.governance(), first).value();
      store.DisableSyncForBenchmark();
      while (builder.log().size() < kLoadEntries) {
        const Commit commit = builder.Decision();
        CHECK(store.Apply(commit).ok());
        heads.push_back(commit.head.Encode());
      }
    }
    CHECK(builder.log().size() == kLoadEntries);
    for (uint64_t i = 0; i < kLoadEntries; ++i) leaf_hashes.push_back(*builder.log().LeafHash(i));
    identity = builder.Config().identity_public_key;
  }

  BenchDir dir;
  std::string path = dir.File("signer.db");
  std::vector<auditlog::Hash> leaf_hashes;
  std::vector<std::vector<uint8_t>> heads;  // Every stored head, encoded.
  crypto::Ed25519PublicKey identity{};
};

LoadFixture& Loaded() {
  static LoadFixture* fixture = new LoadFixture();
  return *fixture;
}

void BM_SignerStoreLoad(benchmark::State& state) {
  StateStore store = StateStore::OpenReadOnly(Loaded().path).value();
  for (auto _ : state) {
    util::Result<LoadedState> loaded = store.Load();
    CHECK(loaded.ok());
    CHECK(loaded->log.size() == kLoadEntries);
    benchmark::DoNotOptimize(loaded);
  }
}
BENCHMARK(BM_SignerStoreLoad)->Iterations(3)->Unit(benchmark::kMillisecond);

void BM_SignerStoreLoadBaselineMerkleLog(benchmark::State& state) {
  for (auto _ : state) {
    auditlog::MerkleLog log;
    for (const auditlog::Hash& leaf_hash : Loaded().leaf_hashes) log.AppendLeafHash(leaf_hash);
    benchmark::DoNotOptimize(log.Root());
  }
}
BENCHMARK(BM_SignerStoreLoadBaselineMerkleLog)->Iterations(10)->Unit(benchmark::kMillisecond);

void BM_SignerStoreLoadBaselineHeads(benchmark::State& state) {
  for (auto _ : state) {
    for (const std::vector<uint8_t>& encoded : Loaded().heads) {
      util::Result<auditlog::SignedTreeHead> head = auditlog::SignedTreeHead::Decode(encoded);
      CHECK(head.ok() && head->Verify(Loaded().identity).ok());
    }
  }
}
BENCHMARK(BM_SignerStoreLoadBaselineHeads)->Iterations(3)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace kinko::signerd
