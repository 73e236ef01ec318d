// Tests of auditlog/merkle.h and auditlog/merkle_log.h: the published RFC 6962 vectors
// (test/vectors/rfc6962_merkle_vectors.json), a naive recursive reference implementation kept
// here only, and corruption of every kind (flipped bits in proofs, roots, indices and sizes).
#include "auditlog/merkle.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "auditlog/merkle_log.h"
#include "crypto/hash.h"
#include "util/hex.h"

namespace kinko::auditlog {
namespace {

using util::StatusCode;

// ---------------------------------------------------------------------------------------------
// The reference: RFC 6962 section 2.1 read literally, hashing byte strings built by hand (not
// HashLeaf/HashChildren), with every subtree recomputed from the leaves. It also reports the
// role of each proof hash, which is what a verifier's result depends on besides the hashes.

Hash RefLeaf(const std::vector<uint8_t>& data) {
  std::vector<uint8_t> message = {0x00};
  message.insert(message.end(), data.begin(), data.end());
  return crypto::Sha256(message);
}

Hash RefNode(const Hash& left, const Hash& right) {
  std::vector<uint8_t> message = {0x01};
  message.insert(message.end(), left.begin(), left.end());
  message.insert(message.end(), right.begin(), right.end());
  return crypto::Sha256(message);
}

// k: the largest power of two smaller than n (n > 1).
uint64_t RefSplit(uint64_t n) {
  uint64_t k = 1;
  while (k < n - k) k *= 2;  // k * 2 < n, without overflow.
  return k;
}

// MTH(D[begin:end]).
Hash RefMth(const std::vector<Hash>& leaves, uint64_t begin, uint64_t end) {
  if (end == begin) return crypto::Sha256({});
  if (end - begin == 1) return leaves[begin];
  const uint64_t k = RefSplit(end - begin);
  return RefNode(RefMth(leaves, begin, begin + k), RefMth(leaves, begin + k, end));
}

// How a proof hash is used: the sibling on the left or on the right of the path, or (in a
// consistency proof) the first node, the root of a complete subtree of the old tree.
enum class Role { kLeft, kRight, kSeed };

struct ProofNode {
  Hash hash{};
  Role role = Role::kLeft;
};

// PATH(m, D[begin:end]). With `leaves` null, only the roles (the proof's shape).
std::vector<ProofNode> RefPath(uint64_t m, uint64_t begin, uint64_t end,
                               const std::vector<Hash>* leaves) {
  if (end - begin == 1) return {};
  const uint64_t k = RefSplit(end - begin);
  std::vector<ProofNode> path;
  ProofNode node;
  if (m < k) {
    path = RefPath(m, begin, begin + k, leaves);
    if (leaves != nullptr) node.hash = RefMth(*leaves, begin + k, end);
    node.role = Role::kRight;
  } else {
    path = RefPath(m - k, begin + k, end, leaves);
    if (leaves != nullptr) node.hash = RefMth(*leaves, begin, begin + k);
    node.role = Role::kLeft;
  }
  path.push_back(node);
  return path;
}

// SUBPROOF(m, D[begin:end], b). With `leaves` null, only the roles.
std::vector<ProofNode> RefSubProof(uint64_t m, uint64_t begin, uint64_t end, bool b,
                                   const std::vector<Hash>* leaves) {
  if (m == end - begin) {
    if (b) return {};
    ProofNode seed;
    if (leaves != nullptr) seed.hash = RefMth(*leaves, begin, end);
    seed.role = Role::kSeed;
    return {seed};
  }
  const uint64_t k = RefSplit(end - begin);
  std::vector<ProofNode> proof;
  ProofNode node;
  if (m <= k) {
    proof = RefSubProof(m, begin, begin + k, b, leaves);
    if (leaves != nullptr) node.hash = RefMth(*leaves, begin + k, end);
    node.role = Role::kRight;
  } else {
    proof = RefSubProof(m - k, begin + k, end, false, leaves);
    if (leaves != nullptr) node.hash = RefMth(*leaves, begin, begin + k);
    node.role = Role::kLeft;
  }
  proof.push_back(node);
  return proof;
}

std::vector<Hash> Hashes(const std::vector<ProofNode>& nodes) {
  std::vector<Hash> out;
  for (const ProofNode& node : nodes) out.push_back(node.hash);
  return out;
}

std::vector<Role> Roles(const std::vector<ProofNode>& nodes) {
  std::vector<Role> out;
  for (const ProofNode& node : nodes) out.push_back(node.role);
  return out;
}

// The shape of an inclusion proof for (index, size), or nothing when there is no such proof.
std::optional<std::vector<Role>> InclusionShape(uint64_t index, uint64_t size) {
  if (index >= size) return std::nullopt;
  return Roles(RefPath(index, 0, size, nullptr));
}

// The shape of a consistency proof for (old_size, new_size), or nothing when there is none.
std::optional<std::vector<Role>> ConsistencyShape(uint64_t old_size, uint64_t new_size) {
  if (old_size == 0 || old_size > new_size) return std::nullopt;
  return Roles(RefSubProof(old_size, 0, new_size, true, nullptr));
}

// ---------------------------------------------------------------------------------------------
// Helpers.

Hash HashFromHex(const std::string& hex) {
  const std::vector<uint8_t> bytes = util::HexDecodeExact(hex, 32).value();
  Hash hash;
  std::copy(bytes.begin(), bytes.end(), hash.begin());
  return hash;
}

std::vector<uint8_t> Bytes(const std::string& hex) { return util::HexDecode(hex).value(); }

// A value of a probe: a hash when it has 32 bytes, nothing otherwise.
std::optional<Hash> MaybeHash(const std::string& hex) {
  if (hex.size() != 64) return std::nullopt;
  return HashFromHex(hex);
}

std::optional<std::vector<Hash>> MaybeHashes(const nlohmann::json& list) {
  std::vector<Hash> out;
  for (const nlohmann::json& item : list) {
    std::optional<Hash> hash = MaybeHash(item.get<std::string>());
    if (!hash.has_value()) return std::nullopt;
    out.push_back(*hash);
  }
  return out;
}

const nlohmann::json& Vectors() {
  static const nlohmann::json* vectors = [] {
    std::ifstream in(std::string(KINKO_VECTORS_DIR) + "/rfc6962_merkle_vectors.json");
    return new nlohmann::json(nlohmann::json::parse(in));
  }();
  return *vectors;
}

std::vector<Hash> VectorLeafHashes() {
  std::vector<Hash> out;
  for (const nlohmann::json& input : Vectors()["leaf_inputs"]) {
    out.push_back(HashLeaf(Bytes(input.get<std::string>())));
  }
  return out;
}

std::vector<Hash> VectorRoots() {
  std::vector<Hash> out;
  for (const nlohmann::json& root : Vectors()["roots"]) {
    out.push_back(HashFromHex(root.get<std::string>()));
  }
  return out;
}

// `count` leaves with distinct inputs of varying length.
std::vector<std::vector<uint8_t>> LeafInputs(uint64_t count) {
  std::vector<std::vector<uint8_t>> out;
  for (uint64_t i = 0; i < count; ++i) {
    std::vector<uint8_t> input(i % 7);
    for (size_t j = 0; j < input.size(); ++j) input[j] = static_cast<uint8_t>(i >> (8 * j));
    input.push_back(static_cast<uint8_t>(i));
    input.push_back(static_cast<uint8_t>(i >> 8));
    out.push_back(input);
  }
  return out;
}

std::vector<Hash> RefLeafHashes(const std::vector<std::vector<uint8_t>>& inputs) {
  std::vector<Hash> out;
  for (const std::vector<uint8_t>& input : inputs) out.push_back(RefLeaf(input));
  return out;
}

MerkleLog LogOf(const std::vector<std::vector<uint8_t>>& inputs) {
  MerkleLog log;
  for (const std::vector<uint8_t>& input : inputs) log.Append(input);
  return log;
}

Hash FlipBit(Hash hash, size_t bit) {
  hash[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
  return hash;
}

// ---------------------------------------------------------------------------------------------
// Hashing.

TEST(MerkleTest, HashesHaveTheRfcPrefixes) {
  const std::vector<uint8_t> data = {0x61, 0x62, 0x63};
  EXPECT_EQ(HashLeaf(data), crypto::Sha256(std::vector<uint8_t>{0x00, 0x61, 0x62, 0x63}));
  const Hash left = crypto::Sha256(std::vector<uint8_t>{1});
  const Hash right = crypto::Sha256(std::vector<uint8_t>{2});
  EXPECT_EQ(HashChildren(left, right), RefNode(left, right));
  EXPECT_NE(HashChildren(left, right), HashChildren(right, left));
  // SHA-256("") (FIPS 180-2 example).
  EXPECT_EQ(util::HexEncode(EmptyRoot()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

// ---------------------------------------------------------------------------------------------
// Published vectors.

TEST(MerkleVectorsTest, LeafAndNodeHashes) {
  const nlohmann::json& levels = Vectors()["node_hashes"];
  const std::vector<Hash> leaves = VectorLeafHashes();
  ASSERT_EQ(leaves.size(), 8u);
  ASSERT_EQ(levels.size(), 4u);
  for (size_t k = 0; k < levels.size(); ++k) {
    const uint64_t width = uint64_t{1} << k;
    ASSERT_EQ(levels[k].size(), 8 / width);
    for (size_t i = 0; i < levels[k].size(); ++i) {
      const std::vector<Hash> block(leaves.begin() + i * width, leaves.begin() + (i + 1) * width);
      EXPECT_EQ(MerkleTreeHash(block), HashFromHex(levels[k][i].get<std::string>()))
          << "level " << k << " node " << i;
    }
  }
}

TEST(MerkleVectorsTest, RootsOfEverySize) {
  const std::vector<Hash> leaves = VectorLeafHashes();
  const std::vector<Hash> roots = VectorRoots();
  ASSERT_EQ(roots.size(), 9u);
  EXPECT_EQ(roots[0], EmptyRoot());
  MerkleLog log;
  EXPECT_EQ(log.Root(), roots[0]);
  for (uint64_t n = 1; n <= 8; ++n) {
    const std::vector<Hash> prefix(leaves.begin(), leaves.begin() + n);
    EXPECT_EQ(MerkleTreeHash(prefix), roots[n]) << "size " << n;
    log.AppendLeafHash(leaves[n - 1]);
    EXPECT_EQ(log.Root(), roots[n]) << "size " << n;
  }
  for (uint64_t n = 0; n <= 8; ++n) EXPECT_EQ(log.RootAt(n).value(), roots[n]) << "size " << n;
}

TEST(MerkleVectorsTest, PublishedInclusionProofs) {
  const std::vector<Hash> leaves = VectorLeafHashes();
  const std::vector<Hash> roots = VectorRoots();
  MerkleLog log;
  for (const Hash& leaf : leaves) log.AppendLeafHash(leaf);
  const nlohmann::json& proofs = Vectors()["inclusion_proofs"];
  ASSERT_EQ(proofs.size(), 5u);
  for (const nlohmann::json& v : proofs) {
    const uint64_t index = v["leaf_index"];
    const uint64_t size = v["tree_size"];
    const std::vector<Hash> expected = *MaybeHashes(v["proof"]);
    const std::vector<Hash> prefix(leaves.begin(), leaves.begin() + size);
    EXPECT_EQ(InclusionProof(prefix, index).value(), expected) << index << " of " << size;
    EXPECT_EQ(log.InclusionProof(index, size).value(), expected) << index << " of " << size;
    EXPECT_TRUE(VerifyInclusion(leaves[index], index, size, expected, roots[size]).ok());
  }
}

TEST(MerkleVectorsTest, PublishedConsistencyProofs) {
  const std::vector<Hash> leaves = VectorLeafHashes();
  const std::vector<Hash> roots = VectorRoots();
  MerkleLog log;
  for (const Hash& leaf : leaves) log.AppendLeafHash(leaf);
  const nlohmann::json& proofs = Vectors()["consistency_proofs"];
  ASSERT_EQ(proofs.size(), 5u);
  for (const nlohmann::json& v : proofs) {
    const uint64_t old_size = v["old_size"];
    const uint64_t new_size = v["new_size"];
    const std::vector<Hash> expected = *MaybeHashes(v["proof"]);
    const std::vector<Hash> prefix(leaves.begin(), leaves.begin() + new_size);
    EXPECT_EQ(ConsistencyProof(prefix, old_size).value(), expected) << old_size << "->" << new_size;
    EXPECT_EQ(log.ConsistencyProof(old_size, new_size).value(), expected);
    EXPECT_TRUE(
        VerifyConsistency(old_size, new_size, roots[old_size], roots[new_size], expected).ok());
  }
}

// Every inclusion and consistency proof in the trees of up to 8 of the vectors' leaves: the one
// generated equals the reference's, verifies against the published roots, and its hashes that
// are complete subtrees are the published node hashes.
TEST(MerkleVectorsTest, EveryProofUpToEightLeaves) {
  const std::vector<Hash> leaves = VectorLeafHashes();
  const std::vector<Hash> roots = VectorRoots();
  const nlohmann::json& levels = Vectors()["node_hashes"];
  std::vector<Hash> published_nodes;
  for (const nlohmann::json& level : levels) {
    for (const nlohmann::json& node : level) {
      published_nodes.push_back(HashFromHex(node.get<std::string>()));
    }
  }
  MerkleLog log;
  for (const Hash& leaf : leaves) log.AppendLeafHash(leaf);
  int proofs = 0;
  for (uint64_t n = 1; n <= 8; ++n) {
    const std::vector<Hash> prefix(leaves.begin(), leaves.begin() + n);
    for (uint64_t i = 0; i < n; ++i) {
      const std::vector<Hash> proof = InclusionProof(prefix, i).value();
      EXPECT_EQ(proof, Hashes(RefPath(i, 0, n, &prefix)));
      EXPECT_EQ(log.InclusionProof(i, n).value(), proof);
      EXPECT_TRUE(VerifyInclusion(leaves[i], i, n, proof, roots[n]).ok()) << i << " of " << n;
      ++proofs;
    }
    for (uint64_t m = 1; m <= n; ++m) {
      const std::vector<Hash> proof = ConsistencyProof(prefix, m).value();
      EXPECT_EQ(proof, Hashes(RefSubProof(m, 0, n, true, &prefix)));
      EXPECT_EQ(log.ConsistencyProof(m, n).value(), proof);
      EXPECT_TRUE(VerifyConsistency(m, n, roots[m], roots[n], proof).ok()) << m << "->" << n;
      ++proofs;
    }
  }
  EXPECT_EQ(proofs, 36 + 36);
  // Spot check against the published nodes: in the tree of 8, every path hash is complete.
  for (uint64_t i = 0; i < 8; ++i) {
    const std::vector<Hash> proof = log.InclusionProof(i, 8).value();
    for (const Hash& hash : proof) {
      EXPECT_NE(std::find(published_nodes.begin(), published_nodes.end(), hash),
                published_nodes.end());
    }
  }
}

// The published probes: honest proofs and their corruptions, each with its expected verdict.
// kinko's hashes are fixed 32-byte values, so a probe with a value of another length cannot be
// given to the verifiers (the decoder of a stored proof refuses it first); those are counted.
TEST(MerkleVectorsTest, InclusionProbes) {
  int run = 0;
  int not_representable = 0;
  for (const nlohmann::json& p : Vectors()["inclusion_probes"]) {
    const std::optional<Hash> leaf = MaybeHash(p["leaf_hash"]);
    const std::optional<Hash> root = MaybeHash(p["root"]);
    const std::optional<std::vector<Hash>> proof = MaybeHashes(p["proof"]);
    if (!leaf || !root || !proof) {
      ++not_representable;
      continue;
    }
    const util::Status status =
        VerifyInclusion(*leaf, p["leaf_index"], p["tree_size"], *proof, *root);
    EXPECT_EQ(status.ok(), !p["want_error"].get<bool>()) << p["file"] << ": " << status;
    ++run;
  }
  // The counts of the pinned file (test/vectors/SHA256SUMS).
  EXPECT_EQ(run, 72);
  EXPECT_EQ(not_representable, 26);
}

TEST(MerkleVectorsTest, ConsistencyProbes) {
  int run = 0;
  int not_representable = 0;
  for (const nlohmann::json& p : Vectors()["consistency_probes"]) {
    const std::optional<Hash> old_root = MaybeHash(p["old_root"]);
    const std::optional<Hash> new_root = MaybeHash(p["new_root"]);
    const std::optional<std::vector<Hash>> proof = MaybeHashes(p["proof"]);
    if (!old_root || !new_root || !proof) {
      ++not_representable;
      continue;
    }
    const util::Status status =
        VerifyConsistency(p["old_size"], p["new_size"], *old_root, *new_root, *proof);
    EXPECT_EQ(status.ok(), !p["want_error"].get<bool>()) << p["file"] << ": " << status;
    ++run;
  }
  EXPECT_EQ(run, 71);
  EXPECT_EQ(not_representable, 27);
}

// ---------------------------------------------------------------------------------------------
// The empty tree.

TEST(MerkleTest, EmptyTree) {
  EXPECT_EQ(MerkleTreeHash({}), EmptyRoot());
  const MerkleLog log;
  EXPECT_EQ(log.size(), 0u);
  EXPECT_EQ(log.Root(), EmptyRoot());
  EXPECT_EQ(log.RootAt(0).value(), EmptyRoot());
  EXPECT_EQ(log.RootAt(1).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(log.LeafHash(0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(log.InclusionProof(0, 0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(log.ConsistencyProof(0, 0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(InclusionProof({}, 0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ConsistencyProof({}, 0).status().code(), StatusCode::kInvalidArgument);
  const Hash leaf = HashLeaf({});
  EXPECT_EQ(VerifyInclusion(leaf, 0, 0, {}, EmptyRoot()).code(), StatusCode::kInvalidArgument);
  // Not even the empty tree against itself: a proof from size 0 proves nothing.
  EXPECT_EQ(VerifyConsistency(0, 0, EmptyRoot(), EmptyRoot(), {}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(VerifyConsistency(0, 1, EmptyRoot(), leaf, {}).code(), StatusCode::kInvalidArgument);
}

// ---------------------------------------------------------------------------------------------
// Argument checks and messages.

TEST(MerkleTest, RefusesMalformedArgumentsWithPreciseMessages) {
  const std::vector<Hash> leaves = RefLeafHashes(LeafInputs(8));
  const Hash root = MerkleTreeHash(leaves);
  const std::vector<Hash> path = InclusionProof(leaves, 3).value();
  ASSERT_EQ(path.size(), 3u);

  util::Status status = VerifyInclusion(leaves[3], 8, 8, path, root);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "audit log: inclusion proof: leaf index 8 is not below the tree size 8");

  std::vector<Hash> shorter(path.begin(), path.end() - 1);
  status = VerifyInclusion(leaves[3], 3, 8, shorter, root);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "audit log: inclusion proof for leaf 3 of a tree of size 8 has 2 hashes, expected 3");

  status = VerifyInclusion(leaves[4], 3, 8, path, root);
  EXPECT_EQ(status.code(), StatusCode::kDataLoss);
  EXPECT_TRUE(status.message().starts_with(
      "audit log: inclusion proof does not match: leaf 3 of a tree of size 8 leads to root "))
      << status;

  const Hash old_root = MerkleTreeHash(std::vector<Hash>(leaves.begin(), leaves.begin() + 3));
  const std::vector<Hash> consistency = ConsistencyProof(leaves, 3).value();
  status = VerifyConsistency(4, 3, old_root, root, consistency);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "audit log: consistency proof from size 4 to size 3: the old size is greater than the "
            "new size");
  status = VerifyConsistency(3, 8, old_root, root, {});
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "audit log: consistency proof from size 3 to size 8 has 0 hashes, expected 4");
  status = VerifyConsistency(3, 8, old_root, FlipBit(root, 0), consistency);
  EXPECT_EQ(status.code(), StatusCode::kDataLoss);
  EXPECT_TRUE(status.message().starts_with(
      "audit log: consistency proof does not match: from size 3 to size 8: the proof leads to "
      "new root "))
      << status;
  status = VerifyConsistency(3, 8, FlipBit(old_root, 0), root, consistency);
  EXPECT_EQ(status.code(), StatusCode::kDataLoss);
  EXPECT_TRUE(status.message().starts_with(
      "audit log: consistency proof does not match: from size 3 to size 8: the proof leads to "
      "old root "))
      << status;
  status = VerifyConsistency(8, 8, root, old_root, {});
  EXPECT_EQ(status.code(), StatusCode::kDataLoss);
  status = VerifyConsistency(8, 8, root, root, consistency);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);

  EXPECT_EQ(ConsistencyProof(leaves, 9).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(InclusionProof(leaves, 8).status().code(), StatusCode::kInvalidArgument);
}

// ---------------------------------------------------------------------------------------------
// MerkleLog against the reference, and randomised proofs.

TEST(MerkleLogTest, MatchesTheReferenceForEverySizeUpTo130) {
  const std::vector<std::vector<uint8_t>> inputs = LeafInputs(130);
  const std::vector<Hash> leaves = RefLeafHashes(inputs);
  MerkleLog log;
  for (uint64_t n = 1; n <= inputs.size(); ++n) {
    EXPECT_EQ(log.Append(inputs[n - 1]), leaves[n - 1]);
    ASSERT_EQ(log.size(), n);
    ASSERT_EQ(log.Root(), RefMth(leaves, 0, n)) << "size " << n;
    ASSERT_EQ(MerkleTreeHash(std::vector<Hash>(leaves.begin(), leaves.begin() + n)), log.Root());
  }
  // Every proof at every earlier size, from the final log: generated as the reference does, and
  // verified against the reference's roots.
  for (uint64_t n = 1; n <= inputs.size(); ++n) {
    const Hash root = RefMth(leaves, 0, n);
    EXPECT_EQ(log.RootAt(n).value(), root);
    for (uint64_t i = 0; i < n; ++i) {
      const std::vector<Hash> proof = log.InclusionProof(i, n).value();
      ASSERT_EQ(proof, Hashes(RefPath(i, 0, n, &leaves))) << i << " of " << n;
      ASSERT_TRUE(VerifyInclusion(leaves[i], i, n, proof, root).ok()) << i << " of " << n;
    }
    for (uint64_t m = 1; m <= n; ++m) {
      const std::vector<Hash> proof = log.ConsistencyProof(m, n).value();
      ASSERT_EQ(proof, Hashes(RefSubProof(m, 0, n, true, &leaves))) << m << "->" << n;
      ASSERT_TRUE(VerifyConsistency(m, n, RefMth(leaves, 0, m), root, proof).ok())
          << m << "->" << n;
    }
  }
}

TEST(MerkleLogTest, RandomProofsInALogOfThousandsVerify) {
  constexpr uint64_t kLeaves = 4100;
  const std::vector<Hash> leaves = RefLeafHashes(LeafInputs(kLeaves));
  MerkleLog log;
  for (const Hash& leaf : leaves) log.AppendLeafHash(leaf);
  std::vector<Hash> roots;  // roots[n] for every n, from the log (checked against the reference
                            // at the sizes sampled below).
  for (uint64_t n = 0; n <= kLeaves; ++n) roots.push_back(log.RootAt(n).value());
  std::mt19937_64 rng(6962);
  for (int trial = 0; trial < 3000; ++trial) {
    const uint64_t n = 1 + rng() % kLeaves;
    const uint64_t i = rng() % n;
    const uint64_t m = 1 + rng() % n;
    const std::vector<Hash> inclusion = log.InclusionProof(i, n).value();
    ASSERT_TRUE(VerifyInclusion(leaves[i], i, n, inclusion, roots[n]).ok()) << i << " of " << n;
    const std::vector<Hash> consistency = log.ConsistencyProof(m, n).value();
    ASSERT_TRUE(VerifyConsistency(m, n, roots[m], roots[n], consistency).ok()) << m << "->" << n;
    if (trial % 100 == 0) {
      ASSERT_EQ(roots[n], RefMth(leaves, 0, n));
      const std::vector<Hash> prefix(leaves.begin(), leaves.begin() + n);
      ASSERT_EQ(inclusion, InclusionProof(prefix, i).value());
      ASSERT_EQ(consistency, ConsistencyProof(prefix, m).value());
      ASSERT_EQ(inclusion, Hashes(RefPath(i, 0, n, &leaves)));
      ASSERT_EQ(consistency, Hashes(RefSubProof(m, 0, n, true, &leaves)));
    }
  }
}

// Corruption: every single-bit change to a proof hash, the leaf hash, the root, or the index
// fails. A changed tree size fails unless the proof has the same shape (the same sibling roles)
// at the changed size: then the proof cannot tell the sizes apart, and only the signed tree
// head, which binds size and root together, does. The shape comes from the reference.
TEST(MerkleLogTest, EveryBitFlipInAnInclusionClaimFails) {
  constexpr uint64_t kLeaves = 3000;
  const std::vector<Hash> leaves = RefLeafHashes(LeafInputs(kLeaves));
  MerkleLog log;
  for (const Hash& leaf : leaves) log.AppendLeafHash(leaf);
  const std::vector<std::pair<uint64_t, uint64_t>> cases = {
      {0, 1},    {0, 2},      {1, 2},       {2, 3},       {4, 7},       {6, 7},       {5, 8},
      {0, 13},   {12, 13},    {31, 32},     {32, 33},     {100, 255},   {255, 256},   {256, 257},
      {0, 1000}, {999, 1000}, {1234, 2047}, {2047, 2048}, {2048, 2049}, {1500, 3000}, {2999, 3000}};
  int size_flips_accepted = 0;
  for (const auto& [index, size] : cases) {
    const Hash root = log.RootAt(size).value();
    const std::vector<Hash> proof = log.InclusionProof(index, size).value();
    ASSERT_TRUE(VerifyInclusion(leaves[index], index, size, proof, root).ok());
    for (size_t e = 0; e < proof.size(); ++e) {
      for (size_t bit = 0; bit < 256; ++bit) {
        std::vector<Hash> bad = proof;
        bad[e] = FlipBit(bad[e], bit);
        ASSERT_EQ(VerifyInclusion(leaves[index], index, size, bad, root).code(),
                  StatusCode::kDataLoss)
            << index << " of " << size << " element " << e << " bit " << bit;
      }
    }
    for (size_t bit = 0; bit < 256; ++bit) {
      ASSERT_EQ(VerifyInclusion(leaves[index], index, size, proof, FlipBit(root, bit)).code(),
                StatusCode::kDataLoss);
      ASSERT_EQ(VerifyInclusion(FlipBit(leaves[index], bit), index, size, proof, root).code(),
                StatusCode::kDataLoss);
    }
    for (int bit = 0; bit < 64; ++bit) {
      const uint64_t flip = uint64_t{1} << bit;
      ASSERT_FALSE(VerifyInclusion(leaves[index], index ^ flip, size, proof, root).ok())
          << index << " of " << size << " index bit " << bit;
      const uint64_t other_size = size ^ flip;
      const bool same_shape = InclusionShape(index, other_size) == InclusionShape(index, size);
      ASSERT_EQ(VerifyInclusion(leaves[index], index, other_size, proof, root).ok(), same_shape)
          << index << " of " << size << " size bit " << bit;
      if (same_shape) ++size_flips_accepted;
    }
  }
  // The shape rule is not vacuous: e.g. leaf 0 has the same path shape in trees of 6 and 7
  // (three right siblings), so its path in the tree of 6 also "proves" it in a tree of 7 leaves
  // whose root is the root of the 6.
  EXPECT_GT(size_flips_accepted, 0);
  EXPECT_EQ(InclusionShape(0, 6), InclusionShape(0, 7));
}

TEST(MerkleLogTest, EveryBitFlipInAConsistencyClaimFails) {
  constexpr uint64_t kLeaves = 3000;
  const std::vector<Hash> leaves = RefLeafHashes(LeafInputs(kLeaves));
  MerkleLog log;
  for (const Hash& leaf : leaves) log.AppendLeafHash(leaf);
  const std::vector<std::pair<uint64_t, uint64_t>> cases = {
      {1, 2},    {1, 3},      {2, 3},       {3, 4},       {4, 7},       {6, 7},       {6, 8},
      {5, 13},   {7, 8},      {31, 32},     {32, 33},     {100, 255},   {255, 256},   {256, 257},
      {1, 1000}, {999, 1000}, {1234, 2047}, {2047, 2048}, {2048, 2049}, {1500, 3000}, {2999, 3000}};
  int size_flips_accepted = 0;
  for (const auto& [old_size, new_size] : cases) {
    const Hash old_root = log.RootAt(old_size).value();
    const Hash new_root = log.RootAt(new_size).value();
    const std::vector<Hash> proof = log.ConsistencyProof(old_size, new_size).value();
    ASSERT_TRUE(VerifyConsistency(old_size, new_size, old_root, new_root, proof).ok());
    for (size_t e = 0; e < proof.size(); ++e) {
      for (size_t bit = 0; bit < 256; ++bit) {
        std::vector<Hash> bad = proof;
        bad[e] = FlipBit(bad[e], bit);
        ASSERT_EQ(VerifyConsistency(old_size, new_size, old_root, new_root, bad).code(),
                  StatusCode::kDataLoss)
            << old_size << "->" << new_size << " element " << e << " bit " << bit;
      }
    }
    for (size_t bit = 0; bit < 256; ++bit) {
      ASSERT_EQ(
          VerifyConsistency(old_size, new_size, FlipBit(old_root, bit), new_root, proof).code(),
          StatusCode::kDataLoss);
      ASSERT_EQ(
          VerifyConsistency(old_size, new_size, old_root, FlipBit(new_root, bit), proof).code(),
          StatusCode::kDataLoss);
    }
    for (int bit = 0; bit < 64; ++bit) {
      const uint64_t flip = uint64_t{1} << bit;
      const std::optional<std::vector<Role>> shape = ConsistencyShape(old_size, new_size);
      const uint64_t other_old = old_size ^ flip;
      bool same_shape = ConsistencyShape(other_old, new_size) == shape;
      ASSERT_EQ(VerifyConsistency(other_old, new_size, old_root, new_root, proof).ok(), same_shape)
          << old_size << "->" << new_size << " old size bit " << bit;
      size_flips_accepted += same_shape ? 1 : 0;
      const uint64_t other_new = new_size ^ flip;
      same_shape = ConsistencyShape(old_size, other_new) == shape;
      ASSERT_EQ(VerifyConsistency(old_size, other_new, old_root, new_root, proof).ok(), same_shape)
          << old_size << "->" << new_size << " new size bit " << bit;
      size_flips_accepted += same_shape ? 1 : 0;
    }
  }
  EXPECT_GT(size_flips_accepted, 0);
}

// Truncating, extending or reordering a proof fails.
TEST(MerkleLogTest, TruncatedExtendedOrReorderedProofsFail) {
  const std::vector<Hash> leaves = RefLeafHashes(LeafInputs(1000));
  MerkleLog log;
  for (const Hash& leaf : leaves) log.AppendLeafHash(leaf);
  const Hash root = log.Root();
  for (uint64_t index : {0u, 1u, 500u, 998u, 999u}) {
    const std::vector<Hash> proof = log.InclusionProof(index, 1000).value();
    ASSERT_GE(proof.size(), 2u);
    std::vector<Hash> bad(proof.begin(), proof.end() - 1);
    EXPECT_EQ(VerifyInclusion(leaves[index], index, 1000, bad, root).code(),
              StatusCode::kInvalidArgument);
    bad = proof;
    bad.push_back(root);
    EXPECT_EQ(VerifyInclusion(leaves[index], index, 1000, bad, root).code(),
              StatusCode::kInvalidArgument);
    bad = proof;
    std::swap(bad[0], bad[1]);
    EXPECT_EQ(VerifyInclusion(leaves[index], index, 1000, bad, root).code(), StatusCode::kDataLoss);
  }
  for (uint64_t old_size : {1u, 3u, 256u, 500u, 511u, 999u}) {
    const Hash old_root = log.RootAt(old_size).value();
    const std::vector<Hash> proof = log.ConsistencyProof(old_size, 1000).value();
    ASSERT_GE(proof.size(), 2u);
    std::vector<Hash> bad(proof.begin() + 1, proof.end());
    EXPECT_EQ(VerifyConsistency(old_size, 1000, old_root, root, bad).code(),
              StatusCode::kInvalidArgument);
    bad = proof;
    bad.push_back(root);
    EXPECT_EQ(VerifyConsistency(old_size, 1000, old_root, root, bad).code(),
              StatusCode::kInvalidArgument);
    bad = proof;
    std::swap(bad[bad.size() - 1], bad[bad.size() - 2]);
    EXPECT_EQ(VerifyConsistency(old_size, 1000, old_root, root, bad).code(), StatusCode::kDataLoss);
  }
}

// A rewritten history: two logs that share a prefix and then differ (a fork). No consistency
// proof from one's head leads to the other's.
TEST(MerkleLogTest, ForkedLogIsNotConsistent) {
  const std::vector<std::vector<uint8_t>> inputs = LeafInputs(40);
  MerkleLog honest = LogOf(inputs);
  std::vector<std::vector<uint8_t>> rewritten = inputs;
  rewritten[17].push_back(0xff);  // One entry altered.
  MerkleLog forked = LogOf(rewritten);
  for (uint64_t old_size = 18; old_size <= 40; ++old_size) {
    const Hash honest_old = honest.RootAt(old_size).value();
    for (uint64_t new_size = old_size; new_size <= 40; ++new_size) {
      const std::vector<Hash> proof = forked.ConsistencyProof(old_size, new_size).value();
      EXPECT_EQ(
          VerifyConsistency(old_size, new_size, honest_old, forked.RootAt(new_size).value(), proof)
              .code(),
          StatusCode::kDataLoss)
          << old_size << "->" << new_size;
    }
  }
  // Before the altered entry the two agree.
  for (uint64_t old_size = 1; old_size <= 17; ++old_size) {
    EXPECT_EQ(honest.RootAt(old_size).value(), forked.RootAt(old_size).value());
    const std::vector<Hash> proof = forked.ConsistencyProof(old_size, 40).value();
    EXPECT_TRUE(
        VerifyConsistency(old_size, 40, honest.RootAt(old_size).value(), forked.Root(), proof)
            .ok());
  }
}

TEST(MerkleLogTest, CopyIsASnapshot) {
  MerkleLog log = LogOf(LeafInputs(5));
  const MerkleLog snapshot = log;
  log.Append(std::vector<uint8_t>{1, 2, 3});
  EXPECT_EQ(snapshot.size(), 5u);
  EXPECT_EQ(log.size(), 6u);
  EXPECT_EQ(snapshot.Root(), log.RootAt(5).value());
  EXPECT_EQ(log.LeafHash(5).value(), HashLeaf(std::vector<uint8_t>{1, 2, 3}));
}

}  // namespace
}  // namespace kinko::auditlog
