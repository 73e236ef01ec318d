#include "auditlog/internal/rfc6962.h"

#include <bit>

#include "util/check.h"

namespace kinko::auditlog::internal {
namespace {

// PATH(index, D[begin:end]), with `index` relative to `begin`.
std::vector<Hash> PathIn(uint64_t index, uint64_t begin, uint64_t end,
                         const SubtreeHashFn& subtree_hash) {
  // PATH(0, {d(0)}) = {}.
  if (end - begin == 1) return {};
  const uint64_t k = SplitPoint(end - begin);
  std::vector<Hash> path;
  if (index < k) {
    // PATH(m, D[n]) = PATH(m, D[0:k]) : MTH(D[k:n]) for m < k.
    path = PathIn(index, begin, begin + k, subtree_hash);
    path.push_back(subtree_hash(begin + k, end));
  } else {
    // PATH(m, D[n]) = PATH(m - k, D[k:n]) : MTH(D[0:k]) for m >= k.
    path = PathIn(index - k, begin + k, end, subtree_hash);
    path.push_back(subtree_hash(begin, begin + k));
  }
  return path;
}

// SUBPROOF(m, D[begin:end], b). `old_root_known` is the RFC's b: whether the verifier holds the
// root of the subtree D[begin:begin+m] already (true only along the left edge of the tree).
std::vector<Hash> SubProof(uint64_t m, uint64_t begin, uint64_t end, bool old_root_known,
                           const SubtreeHashFn& subtree_hash) {
  const uint64_t n = end - begin;
  if (m == n) {
    // SUBPROOF(m, D[m], true) = {}; SUBPROOF(m, D[m], false) = {MTH(D[m])}.
    if (old_root_known) return {};
    return {subtree_hash(begin, end)};
  }
  // Here 0 < m < n, so n > 1.
  const uint64_t k = SplitPoint(n);
  std::vector<Hash> proof;
  if (m <= k) {
    // SUBPROOF(m, D[n], b) = SUBPROOF(m, D[0:k], b) : MTH(D[k:n]) for m <= k.
    proof = SubProof(m, begin, begin + k, old_root_known, subtree_hash);
    proof.push_back(subtree_hash(begin + k, end));
  } else {
    // SUBPROOF(m, D[n], b) = SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k]) for m > k.
    proof = SubProof(m - k, begin + k, end, false, subtree_hash);
    proof.push_back(subtree_hash(begin, begin + k));
  }
  return proof;
}

}  // namespace

uint64_t SplitPoint(uint64_t n) {
  CHECK(n > 1);
  // The largest power of two <= n - 1 is the largest one < n.
  return std::bit_floor(n - 1);
}

std::vector<Hash> Path(uint64_t index, uint64_t size, const SubtreeHashFn& subtree_hash) {
  CHECK(index < size);
  return PathIn(index, 0, size, subtree_hash);
}

std::vector<Hash> Proof(uint64_t old_size, uint64_t size, const SubtreeHashFn& subtree_hash) {
  CHECK(0 < old_size && old_size <= size);
  // PROOF(m, D[n]) = SUBPROOF(m, D[n], true).
  return SubProof(old_size, 0, size, true, subtree_hash);
}

}  // namespace kinko::auditlog::internal
