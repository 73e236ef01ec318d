// MerkleLog: an append-only RFC 6962 Merkle tree held in memory, answering roots and proofs for
// the current size and for every earlier size.
//
// It keeps every complete subtree's hash: level 0 holds the leaf hashes, level k the hash of each
// aligned block of 2^k leaves (about 2n hashes, 64 bytes per leaf, in all). So:
// - Append costs one leaf hash plus, amortised, one HashChildren (at most log2(n) for a single
//   append that completes large subtrees);
// - Root and RootAt(m) cost one HashChildren per one bit of m (at most 63);
// - an inclusion or consistency proof at any size costs O(log n) subtree hashes, each found in
//   the cache except those of the incomplete subtrees on the tree's right edge, which cost one
//   HashChildren per one bit of their size: O(log^2 n) HashChildren in the worst case, usually a
//   handful.
//
// The log holds no entries, only their leaf hashes: a store keeps the entries (or their leaf
// hashes) and rebuilds a MerkleLog by appending them in order after a restart, in one pass.
//
// Not thread-safe; one owner. Copyable and movable (a copy is a snapshot).
#ifndef KINKO_AUDITLOG_MERKLE_LOG_H_
#define KINKO_AUDITLOG_MERKLE_LOG_H_

#include <cstdint>
#include <span>
#include <vector>

#include "auditlog/merkle.h"
#include "util/result.h"

namespace kinko::auditlog {

// Copyable (a copy is a snapshot) and movable.
class MerkleLog final {
 public:
  // The empty log (size 0, root EmptyRoot()).
  MerkleLog() = default;

  MerkleLog(const MerkleLog&) = default;
  MerkleLog& operator=(const MerkleLog&) = default;
  MerkleLog(MerkleLog&&) = default;
  MerkleLog& operator=(MerkleLog&&) = default;

  // The number of leaves.
  uint64_t size() const { return levels_.empty() ? 0 : levels_[0].size(); }

  // Appends the leaf whose input is `entry` (an encoded Entry, auditlog/entry.h) and returns its
  // leaf hash, HashLeaf(entry).
  Hash Append(std::span<const uint8_t> entry);
  // Appends a leaf by its hash (when rebuilding from stored leaf hashes).
  void AppendLeafHash(const Hash& leaf_hash);

  // The leaf hash at `index`. Fails with kInvalidArgument when `index` >= size().
  util::Result<Hash> LeafHash(uint64_t index) const;

  // The root of the whole log: MTH of all leaves, EmptyRoot() when empty.
  Hash Root() const;
  // The root the log had when it held `tree_size` leaves. Fails with kInvalidArgument when
  // `tree_size` > size().
  util::Result<Hash> RootAt(uint64_t tree_size) const;

  // The audit path of leaf `index` in the tree of the first `tree_size` leaves (RFC 6962 section
  // 2.1.1; verify it with VerifyInclusion). Fails with kInvalidArgument unless
  // index < tree_size <= size().
  util::Result<std::vector<Hash>> InclusionProof(uint64_t index, uint64_t tree_size) const;

  // The consistency proof between the trees of the first `old_size` and the first `new_size`
  // leaves (RFC 6962 section 2.1.2; verify it with VerifyConsistency). Empty when the sizes are
  // equal. Fails with kInvalidArgument unless 0 < old_size <= new_size <= size().
  util::Result<std::vector<Hash>> ConsistencyProof(uint64_t old_size, uint64_t new_size) const;

 private:
  // MTH(D[begin:end]). Requires 0 <= begin < end <= size() and `begin` a multiple of the
  // smallest power of two >= end - begin (the ranges RFC 6962's recursion produces).
  Hash SubtreeHash(uint64_t begin, uint64_t end) const;

  // Invariant: levels_[k][i] = MTH(D[i * 2^k : (i + 1) * 2^k]) and levels_[k].size() ==
  // size() >> k, for every k < levels_.size(); the last level is not empty.
  std::vector<std::vector<Hash>> levels_;
};

}  // namespace kinko::auditlog

#endif  // KINKO_AUDITLOG_MERKLE_LOG_H_
