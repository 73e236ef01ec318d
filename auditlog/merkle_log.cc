#include "auditlog/merkle_log.h"

#include <bit>
#include <string>

#include "auditlog/internal/rfc6962.h"
#include "util/check.h"

namespace kinko::auditlog {

Hash MerkleLog::Append(std::span<const uint8_t> entry) {
  const Hash leaf_hash = HashLeaf(entry);
  AppendLeafHash(leaf_hash);
  return leaf_hash;
}

void MerkleLog::AppendLeafHash(const Hash& leaf_hash) {
  if (levels_.empty()) levels_.emplace_back();
  levels_[0].push_back(leaf_hash);
  // Each level that now holds an even number of nodes has completed a pair: its parent is the
  // next node of the level above (the carry of a binary counter).
  for (size_t k = 0; levels_[k].size() % 2 == 0; ++k) {
    if (k + 1 == levels_.size()) levels_.emplace_back();
    const std::vector<Hash>& level = levels_[k];
    const Hash parent = HashChildren(level[level.size() - 2], level[level.size() - 1]);
    levels_[k + 1].push_back(parent);
  }
}

util::Result<Hash> MerkleLog::LeafHash(uint64_t index) const {
  if (index >= size()) {
    return util::InvalidArgumentError("audit log: leaf index " + std::to_string(index) +
                                      " is not below the log size " + std::to_string(size()));
  }
  return levels_[0][index];
}

Hash MerkleLog::Root() const {
  if (size() == 0) return EmptyRoot();
  return SubtreeHash(0, size());
}

util::Result<Hash> MerkleLog::RootAt(uint64_t tree_size) const {
  if (tree_size > size()) {
    return util::InvalidArgumentError("audit log: tree size " + std::to_string(tree_size) +
                                      " is beyond the log size " + std::to_string(size()));
  }
  if (tree_size == 0) return EmptyRoot();
  return SubtreeHash(0, tree_size);
}

util::Result<std::vector<Hash>> MerkleLog::InclusionProof(uint64_t index,
                                                          uint64_t tree_size) const {
  if (tree_size > size() || index >= tree_size) {
    return util::InvalidArgumentError(
        "audit log: inclusion proof of leaf " + std::to_string(index) + " in a tree of size " +
        std::to_string(tree_size) + ": not in a log of size " + std::to_string(size()));
  }
  return internal::Path(index, tree_size,
                        [this](uint64_t begin, uint64_t end) { return SubtreeHash(begin, end); });
}

util::Result<std::vector<Hash>> MerkleLog::ConsistencyProof(uint64_t old_size,
                                                            uint64_t new_size) const {
  if (old_size == 0 || old_size > new_size || new_size > size()) {
    return util::InvalidArgumentError("audit log: consistency proof from size " +
                                      std::to_string(old_size) + " to size " +
                                      std::to_string(new_size) + ": not in a log of size " +
                                      std::to_string(size()) + " (requires 0 < old <= new)");
  }
  return internal::Proof(old_size, new_size,
                         [this](uint64_t begin, uint64_t end) { return SubtreeHash(begin, end); });
}

Hash MerkleLog::SubtreeHash(uint64_t begin, uint64_t end) const {
  CHECK(begin < end && end <= size());
  const uint64_t length = end - begin;
  CHECK(begin % std::bit_ceil(length) == 0);
  // RFC 6962 splits D[begin:end] into a complete left subtree of the largest power of two
  // below its length and the rest, recursively: the range is the complete subtrees of the one
  // bits of `length`, largest first, and its hash folds them from the right.
  Hash hash{};
  bool have_right = false;
  uint64_t position = end;
  for (int k = 0; k < 64; ++k) {
    const uint64_t block = uint64_t{1} << k;
    if ((length & block) == 0) continue;
    position -= block;
    // Invariant: `position` is a multiple of `block`, so the block is one cached node.
    const Hash& node = levels_[k][position >> k];
    hash = have_right ? HashChildren(node, hash) : node;
    have_right = true;
  }
  return hash;
}

}  // namespace kinko::auditlog
