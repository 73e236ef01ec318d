#include "policy/approval.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "util/hex.h"

namespace kinko::policy {
namespace {

crypto::Ed25519PrivateKey KeyFromByte(uint8_t byte) {
  return crypto::Ed25519PrivateKey::FromSeed(
             crypto::SecretBytes::FromSpan(std::vector<uint8_t>(32, byte)))
      .value();
}

SignedIntent MakeIntent(const crypto::Ed25519PrivateKey& requester, uint64_t amount) {
  IntentFields f;
  f.id[0] = static_cast<uint8_t>(amount);
  f.wallet = "treasury";
  f.outputs = {{"bc1qvyq0cc6rahyvsazfdje0twl7ez82ndmuac2lhv",
                btc::Amount::FromSats(static_cast<int64_t>(amount)).value()}};
  f.fee.max_rate_sat_per_kvb = 10000;
  f.requester = Ed25519KeyId(requester.public_key());
  f.created = 1000;
  f.expires = 2000;
  return SignedIntent::Sign(Intent::Create(f).value(), requester).value();
}

Digest PolicyDigest(uint8_t byte) {
  Digest d{};
  d.fill(byte);
  return d;
}

SignedApproval MakeApproval(const SignedIntent& intent, const crypto::Ed25519PrivateKey& approver,
                            Decision decision = Decision::kApprove, uint64_t time = 1500) {
  ApprovalFields f{.intent_digest = intent.intent().digest(),
                   .policy_digest = PolicyDigest(0xaa),
                   .approver = Ed25519KeyId(approver.public_key()),
                   .decision = decision,
                   .time = time,
                   .comment_hash = std::nullopt};
  return SignedApproval::Sign(Approval::Create(f).value(), approver).value();
}

TEST(ApprovalTest, RoundTrip) {
  const auto requester = KeyFromByte(1);
  const auto approver = KeyFromByte(2);
  const SignedIntent intent = MakeIntent(requester, 5000);
  for (Decision decision : {Decision::kApprove, Decision::kReject}) {
    const SignedApproval approval = MakeApproval(intent, approver, decision);
    const SignedApproval decoded = SignedApproval::Decode(approval.Encode()).value();
    EXPECT_EQ(decoded, approval);
    EXPECT_EQ(decoded.approval().fields().decision, decision);
    EXPECT_EQ(decoded.Encode(), approval.Encode());
    EXPECT_TRUE(decoded.CheckBinding(intent, PolicyDigest(0xaa)).ok());
  }
  ApprovalFields f = MakeApproval(intent, approver).approval().fields();
  f.comment_hash = crypto::Sha256(std::vector<uint8_t>{'o', 'k'});
  const Approval with_comment = Approval::Create(f).value();
  EXPECT_EQ(Approval::Decode(with_comment.Encode()).value().fields(), f);
  EXPECT_EQ(with_comment.digest(), crypto::TaggedHash("kinko/approval/v1", with_comment.Encode()));
}

TEST(ApprovalTest, EveryFlippedByteIsRefused) {
  const auto approver = KeyFromByte(2);
  ApprovalFields f = MakeApproval(MakeIntent(KeyFromByte(1), 5000), approver).approval().fields();
  f.comment_hash = PolicyDigest(0x33);
  const std::vector<uint8_t> bytes =
      SignedApproval::Sign(Approval::Create(f).value(), approver).value().Encode();
  for (size_t i = 0; i < bytes.size(); ++i) {
    for (uint8_t mask : {uint8_t{0x01}, uint8_t{0x80}, uint8_t{0xff}}) {
      std::vector<uint8_t> bad = bytes;
      bad[i] ^= mask;
      EXPECT_FALSE(SignedApproval::Decode(bad).ok()) << "byte " << i;
    }
  }
  for (size_t size = 0; size < bytes.size(); ++size) {
    EXPECT_FALSE(SignedApproval::Decode(std::span(bytes).first(size)).ok()) << size;
  }
}

TEST(ApprovalTest, ApprovalMovedToAnotherIntentIsRefused) {
  const auto requester = KeyFromByte(1);
  const SignedIntent small = MakeIntent(requester, 5000);
  const SignedIntent large = MakeIntent(requester, 450290000000);
  const SignedApproval approval = MakeApproval(small, KeyFromByte(2));
  util::Status moved = approval.CheckBinding(large, PolicyDigest(0xaa));
  ASSERT_FALSE(moved.ok());
  EXPECT_EQ(moved.code(), util::StatusCode::kPermissionDenied);
  EXPECT_NE(moved.message().find("for another intent"), std::string::npos);
}

TEST(ApprovalTest, ApprovalUnderAnotherPolicyIsRefused) {
  const SignedIntent intent = MakeIntent(KeyFromByte(1), 5000);
  util::Status status =
      MakeApproval(intent, KeyFromByte(2)).CheckBinding(intent, PolicyDigest(0xab));
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("for another policy"), std::string::npos);
}

TEST(ApprovalTest, ApprovalOutsideTheIntentLifetimeIsRefused) {
  const SignedIntent intent = MakeIntent(KeyFromByte(1), 5000);
  const auto approver = KeyFromByte(2);
  EXPECT_FALSE(MakeApproval(intent, approver, Decision::kApprove, 2000)
                   .CheckBinding(intent, PolicyDigest(0xaa))
                   .ok());
  EXPECT_FALSE(MakeApproval(intent, approver, Decision::kApprove, 999)
                   .CheckBinding(intent, PolicyDigest(0xaa))
                   .ok());
  EXPECT_TRUE(MakeApproval(intent, approver, Decision::kApprove, 1999)
                  .CheckBinding(intent, PolicyDigest(0xaa))
                  .ok());
}

TEST(ApprovalTest, SignatureOfAnotherApproverIsRefused) {
  const SignedIntent intent = MakeIntent(KeyFromByte(1), 5000);
  const auto approver = KeyFromByte(2);
  const auto other = KeyFromByte(3);
  const Approval approval = MakeApproval(intent, approver).approval();
  EXPECT_FALSE(SignedApproval::Sign(approval, other).ok());
  // The requester's intent signature is over a digest of another domain: it cannot stand in
  // for an approval signature even if the requester names itself as approver.
  CborWriter w;
  w.MapHeader(2);
  w.Uint(0);
  std::vector<uint8_t> bytes = w.bytes();
  bytes.insert(bytes.end(), approval.Encode().begin(), approval.Encode().end());
  CborWriter tail;
  tail.Uint(1);
  EncodeSignature(SignDigest(other, approval.digest()), tail);
  bytes.insert(bytes.end(), tail.bytes().begin(), tail.bytes().end());
  util::Result<SignedApproval> decoded = SignedApproval::Decode(bytes);
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().code(), util::StatusCode::kPermissionDenied);
}

TEST(ApprovalTest, IntentSignatureIsNoApprovalSignature) {
  const auto requester = KeyFromByte(1);
  const SignedIntent intent = MakeIntent(requester, 5000);
  // An "approval" whose digest the attacker wants equal to an intent digest cannot exist: the
  // domains differ, so the intent's signature does not verify over any approval digest.
  ApprovalFields f{.intent_digest = intent.intent().digest(),
                   .policy_digest = PolicyDigest(0xaa),
                   .approver = Ed25519KeyId(requester.public_key()),
                   .decision = Decision::kApprove,
                   .time = 1500,
                   .comment_hash = std::nullopt};
  const Approval approval = Approval::Create(f).value();
  EXPECT_FALSE(crypto::Ed25519Verify(requester.public_key(), approval.digest(),
                                     intent.signature().signature));
}

TEST(ApprovalTest, DecodeRejectsEachRule) {
  const SignedIntent intent = MakeIntent(KeyFromByte(1), 5000);
  const std::vector<uint8_t> good = MakeApproval(intent, KeyFromByte(2)).approval().Encode();
  ASSERT_TRUE(Approval::Decode(good).ok());
  auto with = [&](size_t at, uint8_t value) {
    std::vector<uint8_t> bad = good;
    bad[at] = value;
    return Approval::Decode(bad);
  };
  EXPECT_FALSE(with(0, 0xa5).ok());  // 5 entries.
  EXPECT_FALSE(with(0, 0xa8).ok());  // 8 entries.
  EXPECT_FALSE(with(2, 0x02).ok());  // Version 2.
  const size_t decision_at = 1 + 2 + 3 * 35 + 1;
  ASSERT_EQ(good[decision_at - 1], 0x04);
  EXPECT_FALSE(with(decision_at, 0x00).ok());
  EXPECT_FALSE(with(decision_at, 0x03).ok());
  std::vector<uint8_t> trailing = good;
  trailing.push_back(0);
  EXPECT_FALSE(Approval::Decode(trailing).ok());
  ApprovalFields f = MakeApproval(intent, KeyFromByte(2)).approval().fields();
  f.time = kMaxTime + 1;
  EXPECT_FALSE(Approval::Create(f).ok());
}

}  // namespace
}  // namespace kinko::policy
