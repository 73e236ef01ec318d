#include "auditlog/tree_head.h"

#include <algorithm>
#include <array>
#include <string>

#include "crypto/hash.h"
#include "util/hex.h"

namespace kinko::auditlog {
namespace {

void PutUint64(std::vector<uint8_t>& out, uint64_t value) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(value >> shift));
}

uint64_t GetUint64(std::span<const uint8_t> bytes) {
  uint64_t value = 0;
  for (size_t i = 0; i < 8; ++i) value = (value << 8) | bytes[i];
  return value;
}

template <size_t N>
std::array<uint8_t, N> GetArray(std::span<const uint8_t> bytes) {
  std::array<uint8_t, N> out;
  std::copy(bytes.begin(), bytes.begin() + N, out.begin());
  return out;
}

// size || root || time, the message under the tag.
std::vector<uint8_t> HeadBytes(const TreeHead& head) {
  std::vector<uint8_t> out;
  out.reserve(8 + 32 + 8);
  PutUint64(out, head.size);
  out.insert(out.end(), head.root.begin(), head.root.end());
  PutUint64(out, head.time);
  return out;
}

std::string Describe(const TreeHead& head) {
  return "size " + std::to_string(head.size) + " root " + util::HexEncode(head.root);
}

}  // namespace

Hash TreeHeadDigest(const TreeHead& head) {
  return crypto::TaggedHash(kTreeHeadTag, HeadBytes(head));
}

SignedTreeHead::SignedTreeHead(const TreeHead& head, const crypto::Ed25519PublicKey& public_key,
                               const crypto::Ed25519Signature& signature)
    : head_(head), public_key_(public_key), signature_(signature) {}

SignedTreeHead SignedTreeHead::Sign(const TreeHead& head, const crypto::Ed25519PrivateKey& key) {
  const Hash digest = TreeHeadDigest(head);
  return SignedTreeHead(head, key.public_key(), key.Sign(digest));
}

util::Result<SignedTreeHead> SignedTreeHead::Decode(std::span<const uint8_t> bytes) {
  if (bytes.size() != kSignedTreeHeadSize) {
    return util::InvalidArgumentError(
        "audit log: signed tree head: " + std::to_string(bytes.size()) + " bytes, expected " +
        std::to_string(kSignedTreeHeadSize));
  }
  if (bytes[0] != kSignedTreeHeadVersion) {
    return util::InvalidArgumentError("audit log: signed tree head: unknown version " +
                                      std::to_string(bytes[0]));
  }
  TreeHead head;
  head.size = GetUint64(bytes.subspan(1));
  head.root = GetArray<32>(bytes.subspan(9));
  head.time = GetUint64(bytes.subspan(41));
  const crypto::Ed25519PublicKey public_key = GetArray<32>(bytes.subspan(49));
  const crypto::Ed25519Signature signature = GetArray<64>(bytes.subspan(81));
  if (!crypto::IsValidEd25519PublicKey(public_key)) {
    return util::InvalidArgumentError("audit log: signed tree head: invalid public key " +
                                      util::HexEncode(public_key));
  }
  if (!crypto::Ed25519Verify(public_key, TreeHeadDigest(head), signature)) {
    return util::PermissionDeniedError("audit log: signed tree head (" + Describe(head) +
                                       "): the signature does not verify under key " +
                                       util::HexEncode(public_key));
  }
  return SignedTreeHead(head, public_key, signature);
}

std::vector<uint8_t> SignedTreeHead::Encode() const {
  std::vector<uint8_t> out;
  out.reserve(kSignedTreeHeadSize);
  out.push_back(kSignedTreeHeadVersion);
  const std::vector<uint8_t> head = HeadBytes(head_);
  out.insert(out.end(), head.begin(), head.end());
  out.insert(out.end(), public_key_.begin(), public_key_.end());
  out.insert(out.end(), signature_.begin(), signature_.end());
  return out;
}

util::Status SignedTreeHead::Verify(const crypto::Ed25519PublicKey& signer_key) const {
  // The signature was checked when this object was made (the class invariant); what remains is
  // whose key made it.
  if (public_key_ != signer_key) {
    return util::PermissionDeniedError("audit log: signed tree head (" + Describe(head_) +
                                       ") is signed by key " + util::HexEncode(public_key_) +
                                       ", expected " + util::HexEncode(signer_key));
  }
  return util::OkStatus();
}

util::Status VerifyLogMatchesHead(const MerkleLog& log, const TreeHead& head) {
  if (head.size > log.size()) {
    return util::DataLossError("audit log: the log has " + std::to_string(log.size()) +
                               " entries, fewer than the " + std::to_string(head.size) +
                               " of a signed head (entries were removed)");
  }
  const Hash root = log.RootAt(head.size).value();  // head.size <= log.size(), checked above.
  if (root != head.root) {
    return util::DataLossError("audit log: the log's first " + std::to_string(head.size) +
                               " entries have root " + util::HexEncode(root) +
                               ", not the signed head's " + util::HexEncode(head.root) +
                               " (entries were altered, removed or reordered)");
  }
  return util::OkStatus();
}

util::Status VerifyHeadConsistency(const TreeHead& old_head, const TreeHead& new_head,
                                   std::span<const Hash> proof) {
  if (new_head.size < old_head.size) {
    return util::DataLossError("audit log: the new head (" + Describe(new_head) +
                               ") is smaller than the saved head (" + Describe(old_head) +
                               "): the log was rolled back");
  }
  if (old_head.size == 0) {
    // Every log extends the empty one; there is nothing to prove.
    if (old_head.root != EmptyRoot()) {
      return util::DataLossError("audit log: the saved head of size 0 has root " +
                                 util::HexEncode(old_head.root) + ", not the empty tree's");
    }
    if (new_head.size == 0 && new_head.root != EmptyRoot()) {
      return util::DataLossError("audit log: the new head of size 0 has root " +
                                 util::HexEncode(new_head.root) + ", not the empty tree's");
    }
    if (!proof.empty()) {
      return util::InvalidArgumentError("audit log: consistency proof from size 0 has " +
                                        std::to_string(proof.size()) + " hashes, expected none");
    }
    return util::OkStatus();
  }
  return VerifyConsistency(old_head.size, new_head.size, old_head.root, new_head.root, proof);
}

}  // namespace kinko::auditlog
