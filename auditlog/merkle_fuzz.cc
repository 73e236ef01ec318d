// Merkle proofs: for a log and parameters chosen by the input, the honest inclusion and
// consistency proofs verify, and the same proofs with one flipped bit (chosen by the input) do
// not. The log's root also equals MerkleTreeHash of its leaf hashes.
//
// Input: n (2 bytes, big-endian; 1 + n % 1024 leaves), index (2), old size (2), bit (2), then
// bytes mixed into every leaf.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "auditlog/merkle.h"
#include "auditlog/merkle_log.h"

namespace {

uint64_t Take16(std::span<const uint8_t> input, size_t offset) {
  return (uint64_t{input[offset]} << 8) | input[offset + 1];
}

// `proof` with bit `bit` (modulo its size in bits) flipped. Requires a non-empty proof.
std::vector<kinko::auditlog::Hash> Flip(std::vector<kinko::auditlog::Hash> proof, uint64_t bit) {
  bit %= proof.size() * 256;
  proof[bit / 256][(bit % 256) / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
  return proof;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using kinko::auditlog::Hash;
  const std::span<const uint8_t> input(data, size);
  if (input.size() < 8) return 0;
  const uint64_t n = 1 + Take16(input, 0) % 1024;
  const uint64_t index = Take16(input, 2) % n;
  const uint64_t old_size = 1 + Take16(input, 4) % n;
  const uint64_t bit = Take16(input, 6);
  const std::span<const uint8_t> salt = input.subspan(8);

  kinko::auditlog::MerkleLog log;
  std::vector<Hash> leaves;
  for (uint64_t i = 0; i < n; ++i) {
    std::vector<uint8_t> leaf = {static_cast<uint8_t>(i), static_cast<uint8_t>(i >> 8)};
    leaf.insert(leaf.end(), salt.begin(), salt.end());
    leaves.push_back(log.Append(leaf));
  }
  const Hash root = log.Root();
  if (root != kinko::auditlog::MerkleTreeHash(leaves)) __builtin_trap();

  const std::vector<Hash> inclusion = log.InclusionProof(index, n).value();
  if (!kinko::auditlog::VerifyInclusion(leaves[index], index, n, inclusion, root).ok()) {
    __builtin_trap();
  }
  if (!inclusion.empty() &&
      kinko::auditlog::VerifyInclusion(leaves[index], index, n, Flip(inclusion, bit), root).ok()) {
    __builtin_trap();
  }

  const Hash old_root = log.RootAt(old_size).value();
  const std::vector<Hash> consistency = log.ConsistencyProof(old_size, n).value();
  if (!kinko::auditlog::VerifyConsistency(old_size, n, old_root, root, consistency).ok()) {
    __builtin_trap();
  }
  if (!consistency.empty() &&
      kinko::auditlog::VerifyConsistency(old_size, n, old_root, root, Flip(consistency, bit))
          .ok()) {
    __builtin_trap();
  }
  return 0;
}
