// The recursive definitions of RFC 6962 section 2.1 (the Merkle Tree Hash's split, the audit path
// PATH and the consistency proof PROOF), written once over any source of subtree hashes, so that
// the whole-list functions of auditlog/merkle.h and the cached MerkleLog produce proofs with the
// same code.
//
// Thread-safe: pure functions (as thread-safe as the SubtreeHashFn given).
#ifndef KINKO_AUDITLOG_INTERNAL_RFC6962_H_
#define KINKO_AUDITLOG_INTERNAL_RFC6962_H_

#include <cstdint>
#include <functional>
#include <vector>

#include "auditlog/merkle.h"

namespace kinko::auditlog::internal {

// Returns MTH(D[begin:end]), the Merkle Tree Hash of leaves begin..end-1. The recursions below
// call it only with 0 <= begin < end <= size and ranges that RFC 6962's split produces: `begin`
// is a multiple of the smallest power of two >= end - begin.
using SubtreeHashFn = std::function<Hash(uint64_t begin, uint64_t end)>;

// RFC 6962 section 2.1: k, the largest power of two smaller than `n`. Requires n > 1.
uint64_t SplitPoint(uint64_t n);

// RFC 6962 section 2.1.1: PATH(index, D[size]), leaf level first. Requires index < size.
std::vector<Hash> Path(uint64_t index, uint64_t size, const SubtreeHashFn& subtree_hash);

// RFC 6962 section 2.1.2: PROOF(old_size, D[size]). Requires 0 < old_size <= size.
std::vector<Hash> Proof(uint64_t old_size, uint64_t size, const SubtreeHashFn& subtree_hash);

}  // namespace kinko::auditlog::internal

#endif  // KINKO_AUDITLOG_INTERNAL_RFC6962_H_
