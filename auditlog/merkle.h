// Merkle trees of the audit log, as RFC 6962 section 2.1 defines them (hashing, audit paths and
// consistency proofs), verified with the algorithms of RFC 9162 sections 2.1.3.2 and 2.1.4.2.
//
// A leaf hash is HashLeaf(entry bytes) = SHA-256(0x00 || entry); an interior node is
// HashChildren(l, r) = SHA-256(0x01 || l || r); the tree of no leaves has EmptyRoot() =
// SHA-256(""). The different prefixes for leaves and nodes (domain separation) make it impossible
// to pass an interior node off as a leaf, or the reverse (RFC 6962 section 2.1).
//
// The proof functions here work on a whole list of leaf hashes and cost O(n) hashing each; an
// append-only log that answers proofs in O(log n) is MerkleLog (auditlog/merkle_log.h).
//
// Errors of the verifiers: a proof whose shape is wrong for the sizes given (wrong number of
// hashes, an index outside the tree, sizes in the wrong order) fails with kInvalidArgument; a
// well-formed proof that does not lead to the expected root fails with kDataLoss (the log, the
// proof or the head is not what it claims to be).
//
// Thread-safe: pure functions.
#ifndef KINKO_AUDITLOG_MERKLE_H_
#define KINKO_AUDITLOG_MERKLE_H_

#include <cstdint>
#include <span>
#include <vector>

#include "crypto/hash.h"
#include "util/result.h"
#include "util/status.h"

namespace kinko::auditlog {

// A SHA-256 value: a leaf hash, an interior node, or a tree's root.
using Hash = crypto::Hash256Bytes;

// RFC 6962 section 2.1: SHA-256(0x00 || data), the hash of the leaf whose input is `data`.
// DO NOT CHANGE: the prefixes are part of every stored root.
Hash HashLeaf(std::span<const uint8_t> data);

// RFC 6962 section 2.1: SHA-256(0x01 || left || right), the hash of an interior node.
Hash HashChildren(const Hash& left, const Hash& right);

// RFC 6962 section 2.1: SHA-256 of the empty string, the root of the tree of no leaves.
Hash EmptyRoot();

// RFC 6962 section 2.1: the Merkle Tree Hash MTH(D[n]) of the tree whose leaf hashes are
// `leaf_hashes` (HashLeaf already applied), in order. EmptyRoot() when there are none.
Hash MerkleTreeHash(std::span<const Hash> leaf_hashes);

// RFC 6962 section 2.1.1: the audit path PATH(index, D[n]) of leaf `index` in the tree of
// `leaf_hashes`, from the leaf's sibling up to the root's child. Fails with kInvalidArgument when
// `index` >= leaf_hashes.size().
util::Result<std::vector<Hash>> InclusionProof(std::span<const Hash> leaf_hashes, uint64_t index);

// RFC 6962 section 2.1.2: the consistency proof PROOF(old_size, D[n]) between the tree of the
// first `old_size` leaf hashes and the tree of all of `leaf_hashes`. Empty when old_size == n.
// Fails with kInvalidArgument when `old_size` is 0 (a proof from the empty tree proves nothing;
// RFC 9162 section 2.1.4 requires 0 < old_size) or greater than leaf_hashes.size().
util::Result<std::vector<Hash>> ConsistencyProof(std::span<const Hash> leaf_hashes,
                                                 uint64_t old_size);

// RFC 9162 section 2.1.3.2: checks that `proof` is the audit path of a leaf whose hash is
// `leaf_hash` at position `index` in a tree of `tree_size` leaves whose root is `root`.
// Returns OK when it is. Fails with kInvalidArgument when `index` >= `tree_size` or `proof` does
// not have the number of hashes that a path of that leaf in that tree has; with kDataLoss
// ("audit log: inclusion proof does not match: ...") when the path does not lead to `root`.
util::Status VerifyInclusion(const Hash& leaf_hash, uint64_t index, uint64_t tree_size,
                             std::span<const Hash> proof, const Hash& root);

// RFC 9162 section 2.1.4.2: checks that `proof` proves the tree of `old_size` leaves with root
// `old_root` to be a prefix of the tree of `new_size` leaves with root `new_root`. When the sizes
// are equal, the proof must be empty and the roots equal. Returns OK when the proof holds.
// Fails with kInvalidArgument when `old_size` is 0 (check old_root == EmptyRoot() instead; any
// tree extends the empty one), when `old_size` > `new_size`, or when `proof` does not have the
// number of hashes such a proof has; with kDataLoss ("audit log: consistency proof does not
// match: ...") when the proof does not lead to both roots.
util::Status VerifyConsistency(uint64_t old_size, uint64_t new_size, const Hash& old_root,
                               const Hash& new_root, std::span<const Hash> proof);

}  // namespace kinko::auditlog

#endif  // KINKO_AUDITLOG_MERKLE_H_
