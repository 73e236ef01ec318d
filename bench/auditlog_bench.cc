// Benchmarks of auditlog/: the Merkle log's append, root and proofs at a million leaves, and
// signed tree heads, each against the pure cryptographic work measured in the same run:
// - BM_AuditSha256_64Bytes: one SHA-256 of a 64-byte message, the cost of one HashChildren
//   (65 bytes; the same two compression blocks). Append, root and proof costs read as multiples
//   of it.
// - BM_AuditEd25519Sign / BM_AuditEd25519Verify: raw Ed25519 over a 32-byte message, the work
//   inside SignedTreeHead::Sign and SignedTreeHead::Decode.
//
// The log benchmarks share one MerkleLog of 1,000,000 leaves (not a power of two: its root folds
// seven complete subtrees), built once. Proof benchmarks cycle through 1024 fixed pseudo-random
// indices and old sizes.
#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>
#include <random>
#include <vector>

#include "auditlog/entry.h"
#include "auditlog/merkle.h"
#include "auditlog/merkle_log.h"
#include "auditlog/tree_head.h"
#include "crypto/ed25519.h"
#include "crypto/hash.h"
#include "util/check.h"

namespace kinko::auditlog {
namespace {

constexpr uint64_t kLeaves = 1000000;
constexpr size_t kSamples = 1024;

// An encoded refused decision of typical size (189 bytes), the entry appended most.
std::vector<uint8_t> TypicalEntry() {
  DecisionEntry decision;
  decision.request_digest.fill(0x52);
  decision.intent_ids = {IntentId{}};
  decision.outcome = Outcome::kRefused;
  decision.code = "approvals_missing";
  decision.rule = "to the address book";
  decision.detail = "intent 0 (id 1a2b3c4d): rule 'to the address book' needs 2 of treasury";
  return Entry::Create(1767225600, decision).value().Encode();
}

struct Fixture {
  Fixture() {
    std::mt19937_64 rng(6962);
    std::vector<uint8_t> entry = TypicalEntry();
    for (uint64_t i = 0; i < kLeaves; ++i) {
      // Distinct leaves: the last bytes of the detail text carry the index.
      entry[entry.size() - 1] = static_cast<uint8_t>(i);
      entry[entry.size() - 2] = static_cast<uint8_t>(i >> 8);
      entry[entry.size() - 3] = static_cast<uint8_t>(i >> 16);
      leaf_hashes.push_back(log.Append(entry));
    }
    root = log.Root();
    for (size_t i = 0; i < kSamples; ++i) {
      indices[i] = rng() % kLeaves;
      old_sizes[i] = 1 + rng() % (kLeaves - 1);
      old_roots[i] = log.RootAt(old_sizes[i]).value();
      inclusion[i] = log.InclusionProof(indices[i], kLeaves).value();
      consistency[i] = log.ConsistencyProof(old_sizes[i], kLeaves).value();
    }
  }

  MerkleLog log;
  std::vector<Hash> leaf_hashes;
  Hash root{};
  std::array<uint64_t, kSamples> indices{};
  std::array<uint64_t, kSamples> old_sizes{};
  std::array<Hash, kSamples> old_roots{};
  std::array<std::vector<Hash>, kSamples> inclusion;
  std::array<std::vector<Hash>, kSamples> consistency;
};

const Fixture& GetFixture() {
  static const Fixture* fixture = new Fixture();
  return *fixture;
}

// ---------------------------------------------------------------------------------------------
// Baseline.

void BM_AuditSha256_64Bytes(benchmark::State& state) {
  std::array<uint8_t, 64> message{};
  for (auto _ : state) {
    const Hash hash = crypto::Sha256(message);
    message[0] = hash[0];
    benchmark::DoNotOptimize(message);
  }
}
BENCHMARK(BM_AuditSha256_64Bytes);

// ---------------------------------------------------------------------------------------------
// Append: building a log of 1,000,000 leaves; the time per item is the time per append.

void BM_AuditAppendEntry(benchmark::State& state) {
  std::vector<uint8_t> entry = TypicalEntry();
  for (auto _ : state) {
    MerkleLog log;
    for (uint64_t i = 0; i < kLeaves; ++i) {
      entry[entry.size() - 1] = static_cast<uint8_t>(i);
      log.Append(entry);
    }
    benchmark::DoNotOptimize(log.size());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kLeaves));
}
BENCHMARK(BM_AuditAppendEntry)->Unit(benchmark::kMillisecond)->Iterations(3);

// The tree's part of an append alone: the leaf hash given.
void BM_AuditAppendLeafHash(benchmark::State& state) {
  const Fixture& f = GetFixture();
  for (auto _ : state) {
    MerkleLog log;
    for (const Hash& leaf : f.leaf_hashes) log.AppendLeafHash(leaf);
    benchmark::DoNotOptimize(log.size());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kLeaves));
}
BENCHMARK(BM_AuditAppendLeafHash)->Unit(benchmark::kMillisecond)->Iterations(3);

// ---------------------------------------------------------------------------------------------
// Roots.

void BM_AuditRootAt1M(benchmark::State& state) {
  const Fixture& f = GetFixture();
  for (auto _ : state) benchmark::DoNotOptimize(f.log.Root());
}
BENCHMARK(BM_AuditRootAt1M);

// The root at an earlier size (the sizes of the samples: 10 one bits on average).
void BM_AuditRootAtEarlierSize(benchmark::State& state) {
  const Fixture& f = GetFixture();
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(f.log.RootAt(f.old_sizes[i++ % kSamples]).value());
  }
}
BENCHMARK(BM_AuditRootAtEarlierSize);

// ---------------------------------------------------------------------------------------------
// Proofs at 1,000,000 leaves (20 hashes each).

void BM_AuditInclusionProof1M(benchmark::State& state) {
  const Fixture& f = GetFixture();
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(f.log.InclusionProof(f.indices[i++ % kSamples], kLeaves).value());
  }
}
BENCHMARK(BM_AuditInclusionProof1M);

void BM_AuditVerifyInclusion1M(benchmark::State& state) {
  const Fixture& f = GetFixture();
  size_t i = 0;
  for (auto _ : state) {
    const size_t s = i++ % kSamples;
    const util::Status status =
        VerifyInclusion(f.leaf_hashes[f.indices[s]], f.indices[s], kLeaves, f.inclusion[s], f.root);
    CHECK(status.ok());
  }
}
BENCHMARK(BM_AuditVerifyInclusion1M);

void BM_AuditConsistencyProof1M(benchmark::State& state) {
  const Fixture& f = GetFixture();
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(f.log.ConsistencyProof(f.old_sizes[i++ % kSamples], kLeaves).value());
  }
}
BENCHMARK(BM_AuditConsistencyProof1M);

void BM_AuditVerifyConsistency1M(benchmark::State& state) {
  const Fixture& f = GetFixture();
  size_t i = 0;
  for (auto _ : state) {
    const size_t s = i++ % kSamples;
    const util::Status status =
        VerifyConsistency(f.old_sizes[s], kLeaves, f.old_roots[s], f.root, f.consistency[s]);
    CHECK(status.ok());
  }
}
BENCHMARK(BM_AuditVerifyConsistency1M);

// ---------------------------------------------------------------------------------------------
// Signed tree heads against raw Ed25519.

const crypto::Ed25519PrivateKey& HeadKey() {
  static const crypto::Ed25519PrivateKey* key = new crypto::Ed25519PrivateKey(
      crypto::Ed25519PrivateKey::FromSeed(
          crypto::SecretBytes::FromSpan(std::vector<uint8_t>(32, 0x22)))
          .value());
  return *key;
}

TreeHead Head() { return TreeHead{.size = kLeaves, .root = Hash{}, .time = 1767225600}; }

void BM_AuditEd25519Sign(benchmark::State& state) {
  const Hash digest = TreeHeadDigest(Head());
  for (auto _ : state) benchmark::DoNotOptimize(HeadKey().Sign(digest));
}
BENCHMARK(BM_AuditEd25519Sign);

void BM_AuditSignedTreeHeadSign(benchmark::State& state) {
  const TreeHead head = Head();
  for (auto _ : state) benchmark::DoNotOptimize(SignedTreeHead::Sign(head, HeadKey()).Encode());
}
BENCHMARK(BM_AuditSignedTreeHeadSign);

void BM_AuditEd25519Verify(benchmark::State& state) {
  const Hash digest = TreeHeadDigest(Head());
  const crypto::Ed25519Signature signature = HeadKey().Sign(digest);
  for (auto _ : state) {
    CHECK(crypto::Ed25519Verify(HeadKey().public_key(), digest, signature));
  }
}
BENCHMARK(BM_AuditEd25519Verify);

// Decode checks the layout, the public key and the signature; Verify then compares the key.
void BM_AuditSignedTreeHeadDecodeVerify(benchmark::State& state) {
  const std::vector<uint8_t> bytes = SignedTreeHead::Sign(Head(), HeadKey()).Encode();
  for (auto _ : state) {
    const util::Result<SignedTreeHead> head = SignedTreeHead::Decode(bytes);
    CHECK(head.ok() && head->Verify(HeadKey().public_key()).ok());
  }
}
BENCHMARK(BM_AuditSignedTreeHeadDecodeVerify);

// ---------------------------------------------------------------------------------------------
// Entries.

void BM_AuditEntryDecode(benchmark::State& state) {
  const std::vector<uint8_t> bytes = TypicalEntry();
  for (auto _ : state) benchmark::DoNotOptimize(Entry::Decode(bytes).ok());
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes.size()));
}
BENCHMARK(BM_AuditEntryDecode);

}  // namespace
}  // namespace kinko::auditlog
