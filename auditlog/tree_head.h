// Signed tree heads: a signer's signed statement "my audit log had `size` entries with root
// `root` at `time`" (doc/audit-log.md). Watchers and other signers keep the heads they receive;
// a later head that is not consistent with an earlier one (a smaller size, a different root for
// the same size, or no consistency proof) shows a rolled-back or rewritten log.
//
// The signed message is the 32-byte digest
//   TaggedHash("kinko/audit-head/v1", size (8 bytes big-endian) || root (32) || time (8 bytes BE))
// (BIP 340 tagged hash, crypto/hash.h), signed with Ed25519 (RFC 8032, crypto/ed25519.h).
//
// Encoding of a SignedTreeHead: exactly 145 bytes,
//   version 0x01 || size (8, BE) || root (32) || time (8, BE) || public key (32) || signature (64)
// DO NOT CHANGE: heads are stored by watchers and signers, and exchanged between them.
//
// Thread-safe: value types and pure functions.
#ifndef KINKO_AUDITLOG_TREE_HEAD_H_
#define KINKO_AUDITLOG_TREE_HEAD_H_

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "auditlog/merkle.h"
#include "auditlog/merkle_log.h"
#include "crypto/ed25519.h"
#include "util/result.h"
#include "util/status.h"

namespace kinko::auditlog {

// DO NOT CHANGE: the domain tag of the signed message; part of every stored signature.
inline constexpr std::string_view kTreeHeadTag = "kinko/audit-head/v1";
// DO NOT CHANGE: the first byte of an encoded SignedTreeHead.
inline constexpr uint8_t kSignedTreeHeadVersion = 0x01;
inline constexpr size_t kSignedTreeHeadSize = 1 + 8 + 32 + 8 + 32 + 64;

// The state of a log at one moment. Any values are allowed: a head says what a signer claims.
struct TreeHead {
  uint64_t size = 0;  // Number of entries.
  Hash root{};        // MTH of the entries' leaf hashes; EmptyRoot() when size is 0.
  uint64_t time = 0;  // Seconds since the Unix epoch, by the signer's clock.

  friend bool operator==(const TreeHead&, const TreeHead&) = default;
};

// The 32-byte message that is signed for `head` (see the file comment).
Hash TreeHeadDigest(const TreeHead& head);

// A tree head with the public key that signed it and the signature.
// Invariant: `signature` is a valid Ed25519 signature of TreeHeadDigest(head) by `public_key`.
// That says nothing about whether the key is one you trust: check that with Verify.
// Copyable and movable.
class SignedTreeHead final {
 public:
  // Signs `head` with `key`.
  static SignedTreeHead Sign(const TreeHead& head, const crypto::Ed25519PrivateKey& key);

  // Parses the 145-byte encoding (file comment) and checks the signature. Fails with
  // kInvalidArgument when `bytes` is not exactly 145 bytes long, the version byte is not 0x01, or
  // the public key is not a valid Ed25519 key; with kPermissionDenied when the signature does not
  // verify under the public key it carries.
  static util::Result<SignedTreeHead> Decode(std::span<const uint8_t> bytes);

  // The 145-byte encoding. Decode(Encode()) gives back an equal object.
  std::vector<uint8_t> Encode() const;

  // OK when this head was signed by `signer_key` (the signer's pinned head key). Fails with
  // kPermissionDenied, naming both keys, when it was signed by another key.
  util::Status Verify(const crypto::Ed25519PublicKey& signer_key) const;

  const TreeHead& head() const { return head_; }
  const crypto::Ed25519PublicKey& public_key() const { return public_key_; }
  const crypto::Ed25519Signature& signature() const { return signature_; }

  SignedTreeHead(const SignedTreeHead&) = default;
  SignedTreeHead& operator=(const SignedTreeHead&) = default;
  SignedTreeHead(SignedTreeHead&&) = default;
  SignedTreeHead& operator=(SignedTreeHead&&) = default;

  friend bool operator==(const SignedTreeHead&, const SignedTreeHead&) = default;

 private:
  SignedTreeHead(const TreeHead& head, const crypto::Ed25519PublicKey& public_key,
                 const crypto::Ed25519Signature& signature);

  TreeHead head_;
  crypto::Ed25519PublicKey public_key_{};
  crypto::Ed25519Signature signature_{};
};

// Checks that `log` is the log `head` describes, or a longer one that extends it: OK when
// head.size <= log.size() and the log's root at head.size is head.root. Fails with kDataLoss
// when the log is shorter than the head (entries were removed) or its root at that size differs
// (entries were altered, removed or reordered).
util::Status VerifyLogMatchesHead(const MerkleLog& log, const TreeHead& head);

// Checks that `new_head` extends `old_head` (a head saved earlier), with `proof` the consistency
// proof from old_head.size to new_head.size (MerkleLog::ConsistencyProof). When old_head.size
// is 0, the old root must be EmptyRoot() and the proof empty; when the sizes are equal, the roots
// must be equal and the proof empty. Returns OK when it does. Fails with kDataLoss when
// new_head.size < old_head.size (a rolled-back log) or the proof does not match the roots (a
// rewritten log), and with kInvalidArgument when the proof is malformed (wrong number of hashes).
// The times are not compared: clocks step back; the sizes and roots are what is signed.
util::Status VerifyHeadConsistency(const TreeHead& old_head, const TreeHead& new_head,
                                   std::span<const Hash> proof);

}  // namespace kinko::auditlog

#endif  // KINKO_AUDITLOG_TREE_HEAD_H_
