#include "auditlog/merkle.h"

#include <algorithm>
#include <array>
#include <bit>
#include <string>

#include "auditlog/internal/rfc6962.h"
#include "util/hex.h"

namespace kinko::auditlog {
namespace {

// RFC 6962 section 2.1: the domain-separation prefixes. DO NOT CHANGE: part of every root.
constexpr uint8_t kLeafPrefix = 0x00;
constexpr uint8_t kNodePrefix = 0x01;

// The number of hashes in the audit path of leaf `index` in a tree of `size` leaves (as RFC
// 6962's PATH produces it): one per level below the point where the paths to `index` and to the
// last leaf part (those siblings are complete subtrees), plus one per left sibling above it
// (the levels where `index` lies in a right subtree). Requires index < size.
// x >> n, and 0 when n is 64 (where C++ leaves the shift undefined).
uint64_t ShiftRight(uint64_t x, uint64_t n) { return n >= 64 ? 0 : x >> n; }

uint64_t InclusionProofSize(uint64_t index, uint64_t size) {
  const uint64_t inner = std::bit_width(index ^ (size - 1));
  const uint64_t border = std::popcount(ShiftRight(index, inner));
  return inner + border;
}

// The number of hashes in PROOF(old_size, D[new_size]). It is the audit path of the last old
// leaf (old_size - 1) in the new tree, without the levels below the largest complete subtree
// that ends at old_size (those are inside a node the proof gives whole), plus that node itself
// unless it is the whole old tree (old_size a power of two: the verifier has its root already).
// Requires 0 < old_size < new_size.
uint64_t ConsistencyProofSize(uint64_t old_size, uint64_t new_size) {
  const uint64_t last = old_size - 1;
  const uint64_t inner = std::bit_width(last ^ (new_size - 1));
  const uint64_t border = std::popcount(ShiftRight(last, inner));
  // Invariant: shift < inner. `last` ends in `shift` one bits, and new_size - 1 > last, so the
  // two differ in a bit above those.
  const uint64_t shift = std::countr_zero(old_size);
  const uint64_t seed = std::has_single_bit(old_size) ? 0 : 1;
  return seed + (inner - shift) + border;
}

std::string Hex(const Hash& hash) { return util::HexEncode(hash); }

// MTH(D[n]) by its definition. Recursion depth <= 64.
Hash TreeHash(std::span<const Hash> leaf_hashes) {
  if (leaf_hashes.empty()) return EmptyRoot();
  if (leaf_hashes.size() == 1) return leaf_hashes[0];
  const uint64_t k = internal::SplitPoint(leaf_hashes.size());
  return HashChildren(TreeHash(leaf_hashes.first(k)), TreeHash(leaf_hashes.subspan(k)));
}

}  // namespace

Hash HashLeaf(std::span<const uint8_t> data) {
  const std::array<uint8_t, 1> prefix = {kLeafPrefix};
  crypto::Sha256Hasher hasher;
  hasher.Write(prefix).Write(data);
  return hasher.Finalize();
}

Hash HashChildren(const Hash& left, const Hash& right) {
  std::array<uint8_t, 1 + 2 * sizeof(Hash)> message;
  message[0] = kNodePrefix;
  std::copy(left.begin(), left.end(), message.begin() + 1);
  std::copy(right.begin(), right.end(), message.begin() + 1 + sizeof(Hash));
  return crypto::Sha256(message);
}

Hash EmptyRoot() { return crypto::Sha256({}); }

Hash MerkleTreeHash(std::span<const Hash> leaf_hashes) { return TreeHash(leaf_hashes); }

util::Result<std::vector<Hash>> InclusionProof(std::span<const Hash> leaf_hashes, uint64_t index) {
  if (index >= leaf_hashes.size()) {
    return util::InvalidArgumentError("audit log: inclusion proof: leaf index " +
                                      std::to_string(index) + " is not below the tree size " +
                                      std::to_string(leaf_hashes.size()));
  }
  return internal::Path(index, leaf_hashes.size(), [&](uint64_t begin, uint64_t end) {
    return TreeHash(leaf_hashes.subspan(begin, end - begin));
  });
}

util::Result<std::vector<Hash>> ConsistencyProof(std::span<const Hash> leaf_hashes,
                                                 uint64_t old_size) {
  if (old_size == 0 || old_size > leaf_hashes.size()) {
    return util::InvalidArgumentError(
        "audit log: consistency proof: old tree size " + std::to_string(old_size) +
        " is not between 1 and the tree size " + std::to_string(leaf_hashes.size()));
  }
  return internal::Proof(old_size, leaf_hashes.size(), [&](uint64_t begin, uint64_t end) {
    return TreeHash(leaf_hashes.subspan(begin, end - begin));
  });
}

util::Status VerifyInclusion(const Hash& leaf_hash, uint64_t index, uint64_t tree_size,
                             std::span<const Hash> proof, const Hash& root) {
  const std::string what =
      "leaf " + std::to_string(index) + " of a tree of size " + std::to_string(tree_size);
  // RFC 9162 section 2.1.3.2, step 1.
  if (index >= tree_size) {
    return util::InvalidArgumentError("audit log: inclusion proof: leaf index " +
                                      std::to_string(index) + " is not below the tree size " +
                                      std::to_string(tree_size));
  }
  // Not in the RFC's algorithm (which reaches the same verdict at step 4a or 5): a proof of the
  // wrong length is malformed, which is a different failure from a proof that does not match.
  const uint64_t expected = InclusionProofSize(index, tree_size);
  if (proof.size() != expected) {
    return util::InvalidArgumentError("audit log: inclusion proof for " + what + " has " +
                                      std::to_string(proof.size()) + " hashes, expected " +
                                      std::to_string(expected));
  }
  // Steps 2 and 3.
  uint64_t fn = index;
  uint64_t sn = tree_size - 1;
  Hash r = leaf_hash;
  // Step 4.
  for (const Hash& p : proof) {
    // Step 4a. Unreachable with the length checked above; kept as the RFC's guard.
    if (sn == 0) {
      return util::InvalidArgumentError("audit log: inclusion proof for " + what + " is too long");
    }
    if ((fn & 1) == 1 || fn == sn) {
      // Step 4b: `p` is a left sibling.
      r = HashChildren(p, r);
      while (fn != 0 && (fn & 1) == 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      // `p` is a right sibling.
      r = HashChildren(r, p);
    }
    // Step 4c.
    fn >>= 1;
    sn >>= 1;
  }
  // Step 5.
  if (sn != 0) {
    return util::InvalidArgumentError("audit log: inclusion proof for " + what + " is too short");
  }
  if (r != root) {
    return util::DataLossError("audit log: inclusion proof does not match: " + what +
                               " leads to root " + Hex(r) + ", not " + Hex(root));
  }
  return util::OkStatus();
}

util::Status VerifyConsistency(uint64_t old_size, uint64_t new_size, const Hash& old_root,
                               const Hash& new_root, std::span<const Hash> proof) {
  const std::string what =
      "from size " + std::to_string(old_size) + " to size " + std::to_string(new_size);
  if (old_size == 0) {
    return util::InvalidArgumentError(
        "audit log: consistency proof " + what +
        ": a proof from the empty tree proves nothing (compare the old root with the empty root)");
  }
  if (old_size > new_size) {
    return util::InvalidArgumentError("audit log: consistency proof " + what +
                                      ": the old size is greater than the new size");
  }
  if (old_size == new_size) {
    // Not covered by RFC 9162 (it requires first < second): a tree is consistent with itself
    // only, and needs no proof.
    if (!proof.empty()) {
      return util::InvalidArgumentError("audit log: consistency proof " + what + " has " +
                                        std::to_string(proof.size()) +
                                        " hashes, expected none for equal sizes");
    }
    if (old_root != new_root) {
      return util::DataLossError("audit log: consistency proof does not match: two trees of size " +
                                 std::to_string(old_size) + " have different roots " +
                                 Hex(old_root) + " and " + Hex(new_root));
    }
    return util::OkStatus();
  }
  // Not in the RFC's algorithm (which fails at step 1, 6a or 7): a proof of the wrong length is
  // malformed, which is a different failure from a proof that does not match.
  const uint64_t expected = ConsistencyProofSize(old_size, new_size);
  if (proof.size() != expected) {
    return util::InvalidArgumentError("audit log: consistency proof " + what + " has " +
                                      std::to_string(proof.size()) + " hashes, expected " +
                                      std::to_string(expected));
  }
  // RFC 9162 section 2.1.4.2. Step 1 (an empty proof) is excluded by the length check, as
  // expected >= 1 when old_size < new_size. Step 2: when the old tree is a complete subtree, its
  // root is the first node of the path, so the walk starts from `old_root`.
  std::span<const Hash> rest = proof;
  Hash first = old_root;
  if (!std::has_single_bit(old_size)) {
    first = rest[0];
    rest = rest.subspan(1);
  }
  // Step 3.
  uint64_t fn = old_size - 1;
  uint64_t sn = new_size - 1;
  // Step 4.
  while ((fn & 1) == 1) {
    fn >>= 1;
    sn >>= 1;
  }
  // Step 5.
  Hash fr = first;
  Hash sr = first;
  // Step 6.
  for (const Hash& c : rest) {
    // Step 6a. Unreachable with the length checked above; kept as the RFC's guard.
    if (sn == 0) {
      return util::InvalidArgumentError("audit log: consistency proof " + what + " is too long");
    }
    if ((fn & 1) == 1 || fn == sn) {
      // Step 6b: `c` is a left sibling of both paths.
      fr = HashChildren(c, fr);
      sr = HashChildren(c, sr);
      while (fn != 0 && (fn & 1) == 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      // `c` is a right sibling, in the new tree only.
      sr = HashChildren(sr, c);
    }
    // Step 6c.
    fn >>= 1;
    sn >>= 1;
  }
  // Step 7.
  if (sn != 0) {
    return util::InvalidArgumentError("audit log: consistency proof " + what + " is too short");
  }
  if (fr != old_root) {
    return util::DataLossError("audit log: consistency proof does not match: " + what +
                               ": the proof leads to old root " + Hex(fr) + ", not " +
                               Hex(old_root));
  }
  if (sr != new_root) {
    return util::DataLossError("audit log: consistency proof does not match: " + what +
                               ": the proof leads to new root " + Hex(sr) + ", not " +
                               Hex(new_root));
  }
  return util::OkStatus();
}

}  // namespace kinko::auditlog
