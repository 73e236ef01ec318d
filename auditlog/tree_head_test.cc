#include "auditlog/tree_head.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "crypto/hash.h"
#include "util/hex.h"

namespace kinko::auditlog {
namespace {

using util::StatusCode;

std::vector<uint8_t> Bytes(std::string_view hex) { return util::HexDecode(hex).value(); }

Hash HashFromHex(std::string_view hex) {
  const std::vector<uint8_t> bytes = Bytes(hex);
  Hash hash;
  std::copy(bytes.begin(), bytes.end(), hash.begin());
  return hash;
}

crypto::Ed25519PrivateKey KeyFromByte(uint8_t byte) {
  return crypto::Ed25519PrivateKey::FromSeed(
             crypto::SecretBytes::FromSpan(std::vector<uint8_t>(32, byte)))
      .value();
}

const crypto::Ed25519PrivateKey& SignerKey() {
  static const crypto::Ed25519PrivateKey* key = new crypto::Ed25519PrivateKey(KeyFromByte(0x22));
  return *key;
}

// The pinned vector, computed independently (Python hashlib and the `cryptography` package's
// Ed25519): seed 0x22 repeated, size 1000000, root SHA-256(0x01 || 00 01 .. 3f), time
// 1767225600 (2026-01-01T00:00:00Z).
constexpr std::string_view kRootHex =
    "1a378704c17da31e2d05b6d121c2bb2c7d76f6ee6fa8f983e596c2d034963c57";
constexpr std::string_view kDigestHex =
    "25be37b1a1208c57aa5d988a4c4c556d569a0bb6a8c1a36a787a8c4c787d8556";
constexpr std::string_view kEncodingHex =
    "0100000000000f42401a378704c17da31e2d05b6d121c2bb2c7d76f6ee6fa8f983e596c2d034963c57000000006955"
    "b900a09aa5f47a6759802ff955f8dc2d2a14a5c99d23be97f864127ff9383455a4f0876628be3c2a839329bf7a8909"
    "9252ea8fbbd7dc99191530ce82d3355cfa6691287f838d0b51efb4d2ffe3e9bc11811d9c9e1407a6d32f56d393720d"
    "aec04407";

TreeHead PinnedHead() {
  return TreeHead{.size = 1000000, .root = HashFromHex(kRootHex), .time = 1767225600};
}

TEST(TreeHeadTest, DigestAndEncodingArePinned) {
  EXPECT_EQ(util::HexEncode(TreeHeadDigest(PinnedHead())), kDigestHex);
  const SignedTreeHead signed_head = SignedTreeHead::Sign(PinnedHead(), SignerKey());
  EXPECT_EQ(util::HexEncode(signed_head.Encode()), kEncodingHex);
  EXPECT_EQ(signed_head.Encode().size(), kSignedTreeHeadSize);
}

TEST(TreeHeadTest, DigestIsTheTaggedHashOfSizeRootTime) {
  // BIP 340: SHA-256(SHA-256(tag) || SHA-256(tag) || message), written out by hand.
  const std::string tag = "kinko/audit-head/v1";
  const Hash tag_hash = crypto::Sha256(std::vector<uint8_t>(tag.begin(), tag.end()));
  std::vector<uint8_t> message(tag_hash.begin(), tag_hash.end());
  message.insert(message.end(), tag_hash.begin(), tag_hash.end());
  const std::vector<uint8_t> fields =
      Bytes("00000000000f4240" + std::string(kRootHex) + "000000006955b900");
  message.insert(message.end(), fields.begin(), fields.end());
  EXPECT_EQ(TreeHeadDigest(PinnedHead()), crypto::Sha256(message));
  // Each field changes the digest.
  TreeHead head = PinnedHead();
  ++head.size;
  EXPECT_NE(TreeHeadDigest(head), TreeHeadDigest(PinnedHead()));
  head = PinnedHead();
  head.root[31] ^= 1;
  EXPECT_NE(TreeHeadDigest(head), TreeHeadDigest(PinnedHead()));
  head = PinnedHead();
  ++head.time;
  EXPECT_NE(TreeHeadDigest(head), TreeHeadDigest(PinnedHead()));
}

TEST(TreeHeadTest, SignDecodeVerifyRoundTrip) {
  const SignedTreeHead signed_head = SignedTreeHead::Sign(PinnedHead(), SignerKey());
  const SignedTreeHead decoded = SignedTreeHead::Decode(signed_head.Encode()).value();
  EXPECT_EQ(decoded, signed_head);
  EXPECT_EQ(decoded.head(), PinnedHead());
  EXPECT_EQ(decoded.public_key(), SignerKey().public_key());
  EXPECT_TRUE(crypto::Ed25519Verify(SignerKey().public_key(), TreeHeadDigest(PinnedHead()),
                                    decoded.signature()));
  EXPECT_TRUE(decoded.Verify(SignerKey().public_key()).ok());
}

TEST(TreeHeadTest, VerifyRefusesAnotherSigner) {
  const crypto::Ed25519PrivateKey other = KeyFromByte(0x44);
  const SignedTreeHead signed_head = SignedTreeHead::Sign(PinnedHead(), other);
  const util::Status status = signed_head.Verify(SignerKey().public_key());
  EXPECT_EQ(status.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(status.message(), "audit log: signed tree head (size 1000000 root " +
                                  std::string(kRootHex) + ") is signed by key " +
                                  util::HexEncode(other.public_key()) + ", expected " +
                                  util::HexEncode(SignerKey().public_key()));
}

TEST(TreeHeadTest, DecodeRefusesEachMalformation) {
  const std::vector<uint8_t> valid = Bytes(kEncodingHex);
  ASSERT_TRUE(SignedTreeHead::Decode(valid).ok());
  struct Case {
    std::string name;
    std::vector<uint8_t> bytes;
    StatusCode code;
    std::string message;
  };
  std::vector<Case> cases;
  cases.push_back({"empty",
                   {},
                   StatusCode::kInvalidArgument,
                   "audit log: signed tree head: 0 bytes, expected 145"});
  std::vector<uint8_t> bytes(valid.begin(), valid.end() - 1);
  cases.push_back({"truncated", bytes, StatusCode::kInvalidArgument,
                   "audit log: signed tree head: 144 bytes, expected 145"});
  bytes = valid;
  bytes.push_back(0);
  cases.push_back({"trailing byte", bytes, StatusCode::kInvalidArgument,
                   "audit log: signed tree head: 146 bytes, expected 145"});
  bytes = valid;
  bytes[0] = 0x02;
  cases.push_back({"version", bytes, StatusCode::kInvalidArgument,
                   "audit log: signed tree head: unknown version 2"});
  bytes = valid;
  std::fill(bytes.begin() + 49, bytes.begin() + 81, 0);
  bytes[49] = 0x01;  // The identity point: small order.
  cases.push_back({"small-order key", bytes, StatusCode::kInvalidArgument,
                   "audit log: signed tree head: invalid public key "
                   "0100000000000000000000000000000000000000000000000000000000000000"});
  bytes = valid;
  bytes[8] ^= 0x01;  // Size 1000001.
  cases.push_back({"altered size", bytes, StatusCode::kPermissionDenied,
                   "audit log: signed tree head (size 1000001 root " + std::string(kRootHex) +
                       "): the signature does not verify under key " +
                       util::HexEncode(SignerKey().public_key())});
  for (const Case& c : cases) {
    const util::Result<SignedTreeHead> decoded = SignedTreeHead::Decode(c.bytes);
    EXPECT_EQ(decoded.status().code(), c.code) << c.name;
    EXPECT_EQ(decoded.status().message(), c.message) << c.name;
  }
}

// Every single-bit change of the encoding is refused: in the version byte as unknown, in the
// public key as invalid or not verifying, anywhere else as a signature that does not verify.
TEST(TreeHeadTest, DecodeRefusesEveryFlippedBit) {
  const std::vector<uint8_t> valid = Bytes(kEncodingHex);
  for (size_t bit = 0; bit < valid.size() * 8; ++bit) {
    std::vector<uint8_t> bytes = valid;
    bytes[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    const util::Result<SignedTreeHead> decoded = SignedTreeHead::Decode(bytes);
    ASSERT_FALSE(decoded.ok()) << "bit " << bit;
    const size_t byte = bit / 8;
    if (byte == 0) {
      EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument);
    } else if (byte < 49 || byte >= 81) {
      EXPECT_EQ(decoded.status().code(), StatusCode::kPermissionDenied) << "bit " << bit;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// A log against its heads.

std::vector<std::vector<uint8_t>> Entries(int count) {
  std::vector<std::vector<uint8_t>> out;
  for (int i = 0; i < count; ++i) out.push_back({static_cast<uint8_t>(i), 0xee});
  return out;
}

MerkleLog LogOf(const std::vector<std::vector<uint8_t>>& entries) {
  MerkleLog log;
  for (const std::vector<uint8_t>& entry : entries) log.Append(entry);
  return log;
}

TreeHead HeadOf(const MerkleLog& log, uint64_t size) {
  return TreeHead{.size = size, .root = log.RootAt(size).value(), .time = 1767225600 + size};
}

TEST(TreeHeadTest, LogMatchesItsHeads) {
  const MerkleLog log = LogOf(Entries(20));
  for (uint64_t size = 0; size <= 20; ++size) {
    EXPECT_TRUE(VerifyLogMatchesHead(log, HeadOf(log, size)).ok()) << size;
  }
}

TEST(TreeHeadTest, TruncatedLogFailsAgainstAHead) {
  const MerkleLog full = LogOf(Entries(20));
  std::vector<std::vector<uint8_t>> entries = Entries(20);
  entries.pop_back();
  const util::Status status = VerifyLogMatchesHead(LogOf(entries), HeadOf(full, 20));
  EXPECT_EQ(status.code(), StatusCode::kDataLoss);
  EXPECT_EQ(status.message(),
            "audit log: the log has 19 entries, fewer than the 20 of a signed head (entries were "
            "removed)");
}

TEST(TreeHeadTest, AlteredLogFailsAgainstAHead) {
  const MerkleLog full = LogOf(Entries(20));
  const TreeHead head = HeadOf(full, 15);
  // A flipped byte in each entry in turn: every entry before the head's size is covered.
  for (size_t i = 0; i < 20; ++i) {
    std::vector<std::vector<uint8_t>> entries = Entries(20);
    entries[i][1] ^= 0x01;
    const util::Status status = VerifyLogMatchesHead(LogOf(entries), head);
    if (i < 15) {
      EXPECT_EQ(status.code(), StatusCode::kDataLoss) << i;
      EXPECT_TRUE(status.message().starts_with("audit log: the log's first 15 entries have root "));
    } else {
      EXPECT_TRUE(status.ok()) << i;  // After the head: not covered by it.
    }
  }
  // Two entries swapped.
  std::vector<std::vector<uint8_t>> entries = Entries(20);
  std::swap(entries[3], entries[4]);
  EXPECT_EQ(VerifyLogMatchesHead(LogOf(entries), head).code(), StatusCode::kDataLoss);
  // One removed in the middle and one appended (same size).
  entries = Entries(20);
  entries.erase(entries.begin() + 7);
  entries.push_back({0x99});
  EXPECT_EQ(VerifyLogMatchesHead(LogOf(entries), head).code(), StatusCode::kDataLoss);
  // One inserted in the middle.
  entries = Entries(20);
  entries.insert(entries.begin() + 7, std::vector<uint8_t>{0x99});
  EXPECT_EQ(VerifyLogMatchesHead(LogOf(entries), head).code(), StatusCode::kDataLoss);
}

TEST(TreeHeadTest, HeadConsistencyAcceptsAnExtendedLog) {
  const MerkleLog log = LogOf(Entries(20));
  for (uint64_t old_size = 0; old_size <= 20; ++old_size) {
    for (uint64_t new_size = old_size; new_size <= 20; ++new_size) {
      std::vector<Hash> proof;
      if (old_size > 0) proof = log.ConsistencyProof(old_size, new_size).value();
      EXPECT_TRUE(VerifyHeadConsistency(HeadOf(log, old_size), HeadOf(log, new_size), proof).ok())
          << old_size << "->" << new_size;
    }
  }
}

TEST(TreeHeadTest, HeadConsistencyRefusesRollback) {
  const MerkleLog log = LogOf(Entries(20));
  const util::Status status = VerifyHeadConsistency(HeadOf(log, 12), HeadOf(log, 11), {});
  EXPECT_EQ(status.code(), StatusCode::kDataLoss);
  EXPECT_TRUE(status.message().ends_with("): the log was rolled back")) << status;
}

// A forked checkpoint: the signer shows one watcher a head and then continues from a rewritten
// history. Every head of the fork at or beyond the altered entry is refused.
TEST(TreeHeadTest, HeadConsistencyRefusesAFork) {
  const MerkleLog honest = LogOf(Entries(20));
  std::vector<std::vector<uint8_t>> entries = Entries(20);
  entries[9][0] ^= 0x80;
  const MerkleLog forked = LogOf(entries);
  for (uint64_t old_size = 10; old_size <= 20; ++old_size) {
    for (uint64_t new_size = old_size; new_size <= 20; ++new_size) {
      const std::vector<Hash> proof = forked.ConsistencyProof(old_size, new_size).value();
      EXPECT_EQ(
          VerifyHeadConsistency(HeadOf(honest, old_size), HeadOf(forked, new_size), proof).code(),
          StatusCode::kDataLoss)
          << old_size << "->" << new_size;
    }
  }
  // Same size, different roots.
  const util::Status status = VerifyHeadConsistency(HeadOf(honest, 20), HeadOf(forked, 20), {});
  EXPECT_EQ(status.code(), StatusCode::kDataLoss);
  EXPECT_TRUE(status.message().starts_with("audit log: consistency proof does not match: "));
}

TEST(TreeHeadTest, HeadConsistencyFromTheEmptyLog) {
  const MerkleLog log = LogOf(Entries(5));
  const TreeHead empty = HeadOf(log, 0);
  EXPECT_EQ(empty.root, EmptyRoot());
  EXPECT_TRUE(VerifyHeadConsistency(empty, HeadOf(log, 5), {}).ok());
  EXPECT_TRUE(VerifyHeadConsistency(empty, empty, {}).ok());
  TreeHead bad_empty = empty;
  bad_empty.root[0] ^= 1;
  EXPECT_EQ(VerifyHeadConsistency(bad_empty, HeadOf(log, 5), {}).code(), StatusCode::kDataLoss);
  EXPECT_EQ(VerifyHeadConsistency(empty, bad_empty, {}).code(), StatusCode::kDataLoss);
  const std::vector<Hash> junk = {EmptyRoot()};
  EXPECT_EQ(VerifyHeadConsistency(empty, HeadOf(log, 5), junk).code(),
            StatusCode::kInvalidArgument);
}

TEST(TreeHeadTest, HeadConsistencyRefusesAMalformedProof) {
  const MerkleLog log = LogOf(Entries(20));
  std::vector<Hash> proof = log.ConsistencyProof(7, 20).value();
  proof.pop_back();
  EXPECT_EQ(VerifyHeadConsistency(HeadOf(log, 7), HeadOf(log, 20), proof).code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace kinko::auditlog
