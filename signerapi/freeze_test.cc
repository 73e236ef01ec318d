#include "signerapi/freeze.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "crypto/hash.h"
#include "policy/approval.h"
#include "policy/intent.h"
#include "policy/policy.h"
#include "util/hex.h"

namespace kinko::signerapi {
namespace {

using policy::CborWriter;

crypto::Ed25519PrivateKey KeyFromFill(uint8_t fill) {
  const std::vector<uint8_t> seed(32, fill);
  return crypto::Ed25519PrivateKey::FromSeed(crypto::SecretBytes::FromSpan(seed)).value();
}

const crypto::Ed25519PrivateKey& Watcher() {
  static const crypto::Ed25519PrivateKey* key = new crypto::Ed25519PrivateKey(KeyFromFill(0x21));
  return *key;
}

policy::KeyId SignerId() {
  policy::KeyId id;
  id.fill(0x5a);
  return id;
}

FreezeFields ValidFreezeFields() {
  FreezeFields f;
  f.scope.signer = SignerId();
  f.reason = "spend 9f2c... matches no logged decision";
  f.time = 1767225600;
  f.nonce = {0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
             0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f};
  return f;
}

Freeze ValidFreeze() { return Freeze::Create(ValidFreezeFields()).value(); }

UnfreezeFields ValidUnfreezeFields() {
  const FreezeFields freeze = ValidFreezeFields();
  UnfreezeFields f;
  f.scope = freeze.scope;
  f.reason = "investigated: the spend was a test of the watcher";
  f.time = freeze.time + 3600;
  f.nonce = {0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27,
             0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f};
  f.freeze_digest = ValidFreeze().digest();
  return f;
}

Unfreeze ValidUnfreeze() { return Unfreeze::Create(ValidUnfreezeFields()).value(); }

SignedUnfreeze TwoAdminUnfreeze() {
  return SignedUnfreeze::Sign(ValidUnfreeze(), KeyFromFill(0x31))
      .AddSignature(KeyFromFill(0x32))
      .value();
}

// map {0: object bytes, 1: signature object}, as SignedFreeze encodes.
std::vector<uint8_t> SignedBytes(const std::vector<uint8_t>& object,
                                 const policy::Signature& signature) {
  CborWriter head;
  head.MapHeader(2);
  head.Uint(0);
  std::vector<uint8_t> out = head.bytes();
  out.insert(out.end(), object.begin(), object.end());
  CborWriter tail;
  tail.Uint(1);
  policy::EncodeSignature(signature, tail);
  out.insert(out.end(), tail.bytes().begin(), tail.bytes().end());
  return out;
}

// map {0: object bytes, 1: [signatures]}, as SignedUnfreeze encodes.
std::vector<uint8_t> MultiSignedBytes(const std::vector<uint8_t>& object,
                                      const std::vector<policy::Signature>& signatures) {
  CborWriter head;
  head.MapHeader(2);
  head.Uint(0);
  std::vector<uint8_t> out = head.bytes();
  out.insert(out.end(), object.begin(), object.end());
  CborWriter tail;
  tail.Uint(1);
  tail.ArrayHeader(signatures.size());
  for (const policy::Signature& s : signatures) policy::EncodeSignature(s, tail);
  out.insert(out.end(), tail.bytes().begin(), tail.bytes().end());
  return out;
}

TEST(FreezeTest, CreateEncodeDecodeRoundTrip) {
  for (const bool one_signer : {true, false}) {
    FreezeFields fields = ValidFreezeFields();
    if (!one_signer) fields.scope.signer.reset();
    const Freeze freeze = Freeze::Create(fields).value();
    const Freeze decoded = Freeze::Decode(freeze.Encode()).value();
    EXPECT_EQ(decoded.fields(), fields);
    EXPECT_EQ(decoded.Encode(), freeze.Encode());
    EXPECT_EQ(decoded.digest(), freeze.digest());

    const SignedFreeze signed_freeze = SignedFreeze::Sign(freeze, Watcher());
    const SignedFreeze again = SignedFreeze::Decode(signed_freeze.Encode()).value();
    EXPECT_EQ(again, signed_freeze);
    EXPECT_EQ(again.Encode(), signed_freeze.Encode());
    EXPECT_EQ(again.signer(), policy::Ed25519KeyId(Watcher().public_key()));
  }
}

TEST(FreezeTest, UnfreezeRoundTripWithSortedSignatures) {
  const SignedUnfreeze unfreeze = TwoAdminUnfreeze();
  const SignedUnfreeze decoded = SignedUnfreeze::Decode(unfreeze.Encode()).value();
  EXPECT_EQ(decoded, unfreeze);
  EXPECT_EQ(decoded.Encode(), unfreeze.Encode());
  EXPECT_EQ(decoded.unfreeze().fields(), ValidUnfreezeFields());
  std::vector<policy::KeyId> expected = {policy::Ed25519KeyId(KeyFromFill(0x31).public_key()),
                                         policy::Ed25519KeyId(KeyFromFill(0x32).public_key())};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(decoded.signers(), expected);
  // Adding in the other order gives the same object.
  const SignedUnfreeze other_order = SignedUnfreeze::Sign(ValidUnfreeze(), KeyFromFill(0x32))
                                         .AddSignature(KeyFromFill(0x31))
                                         .value();
  EXPECT_EQ(other_order.Encode(), unfreeze.Encode());
}

TEST(FreezeTest, PinnedEncodingsAndTags) {
  // DO NOT CHANGE: written from the CBOR rules by hand, not by the encoder.
  FreezeFields all;
  all.reason = "r";
  all.time = 1;
  const Freeze freeze = Freeze::Create(all).value();
  EXPECT_EQ(util::HexEncode(freeze.Encode()),
            "a5"                                      // map(5)
            "0001"                                    // 0: version 1
            "0101"                                    // 1: scope kind 1 (all)
            "036172"                                  // 3: "r"
            "0401"                                    // 4: time 1
            "055000000000000000000000000000000000");  // 5: nonce, 16 bytes
  EXPECT_EQ(freeze.digest(), crypto::TaggedHash("kinko/freeze/v1", freeze.Encode()));

  FreezeFields one = all;
  one.scope.signer = SignerId();
  EXPECT_EQ(util::HexEncode(Freeze::Create(one).value().Encode()),
            "a6000101020258"
            "20"
            "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a"
            "03617204010550"
            "00000000000000000000000000000000");

  UnfreezeFields u{.scope = {}, .reason = "r", .time = 1, .nonce = {}, .freeze_digest = {}};
  u.freeze_digest.fill(0xfd);
  const Unfreeze unfreeze = Unfreeze::Create(u).value();
  EXPECT_EQ(util::HexEncode(unfreeze.Encode()),
            "a6000101010361720401055000000000000000000000000000000000"
            "065820fdfdfdfdfdfdfdfdfdfdfdfdfdfdfdfdfdfdfdfdfdfdfdfdfdfdfdfdfdfdfdfd");
  EXPECT_EQ(unfreeze.digest(), crypto::TaggedHash("kinko/unfreeze/v1", unfreeze.Encode()));
  EXPECT_EQ(kFreezeTag, "kinko/freeze/v1");
  EXPECT_EQ(kUnfreezeTag, "kinko/unfreeze/v1");
}

TEST(FreezeTest, ScopeAppliesToNamedSignerOrAll) {
  policy::KeyId other;
  other.fill(0x77);
  const FreezeScope one{.signer = SignerId()};
  EXPECT_TRUE(one.AppliesTo(SignerId()));
  EXPECT_FALSE(one.AppliesTo(other));
  const FreezeScope all{};
  EXPECT_TRUE(all.AppliesTo(SignerId()));
  EXPECT_TRUE(all.AppliesTo(other));
}

TEST(FreezeTest, CreateRefusesEachBrokenRule) {
  struct Case {
    std::string name;
    std::function<void(FreezeFields&)> change;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"empty reason", [](FreezeFields& f) { f.reason = ""; }, "freeze reason: must be 1..512"},
      {"long reason", [](FreezeFields& f) { f.reason = std::string(513, 'x'); },
       "freeze reason: must be 1..512"},
      {"newline", [](FreezeFields& f) { f.reason = "a\nb"; }, "freeze reason: not utf-8"},
      {"bidi override", [](FreezeFields& f) { f.reason = "a\u202eb"; }, "freeze reason: not utf-8"},
      {"invalid utf-8", [](FreezeFields& f) { f.reason = "a\xff"; }, "freeze reason: not utf-8"},
      {"time", [](FreezeFields& f) { f.time = policy::kMaxTime + 1; }, "freeze time: after"},
  };
  for (const Case& c : cases) {
    FreezeFields fields = ValidFreezeFields();
    c.change(fields);
    util::Result<Freeze> freeze = Freeze::Create(fields);
    ASSERT_FALSE(freeze.ok()) << c.name;
    EXPECT_EQ(freeze.status().code(), util::StatusCode::kInvalidArgument) << c.name;
    EXPECT_NE(freeze.status().message().find(c.message), std::string::npos)
        << c.name << ": " << freeze.status().message();
    // The same rules hold for an unfreeze.
    UnfreezeFields u = ValidUnfreezeFields();
    u.reason = fields.reason;
    u.time = fields.time;
    EXPECT_FALSE(Unfreeze::Create(u).ok()) << c.name;
  }
  FreezeFields longest = ValidFreezeFields();
  longest.reason = std::string(512, 'x');
  longest.time = policy::kMaxTime;
  EXPECT_TRUE(Freeze::Create(longest).ok());
}

// Writes a freeze map by hand: `keys` are (key, writer of the value) in the order given.
std::vector<uint8_t> HandMap(
    const std::vector<std::pair<uint64_t, std::function<void(CborWriter&)>>>& keys) {
  CborWriter w;
  w.MapHeader(keys.size());
  for (const auto& [key, write] : keys) {
    w.Uint(key);
    write(w);
  }
  return w.bytes();
}

TEST(FreezeTest, DecodeRefusesEachNonCanonicalOrInvalidForm) {
  using Entry = std::pair<uint64_t, std::function<void(CborWriter&)>>;
  const FreezeNonce nonce{};
  const auto version = [](uint64_t v) { return Entry{0, [v](CborWriter& w) { w.Uint(v); }}; };
  const auto kind = [](uint64_t k) { return Entry{1, [k](CborWriter& w) { w.Uint(k); }}; };
  const Entry signer{2, [](CborWriter& w) { w.Bytes(SignerId()); }};
  const Entry reason{3, [](CborWriter& w) { w.Text("r"); }};
  const Entry time{4, [](CborWriter& w) { w.Uint(1); }};
  const Entry nonce_entry{5, [nonce](CborWriter& w) { w.Bytes(nonce); }};
  // The valid baseline decodes; each case below changes one thing in it.
  ASSERT_TRUE(Freeze::Decode(HandMap({version(1), kind(1), reason, time, nonce_entry})).ok());
  ASSERT_TRUE(
      Freeze::Decode(HandMap({version(1), kind(2), signer, reason, time, nonce_entry})).ok());

  struct Case {
    std::string name;
    std::vector<uint8_t> bytes;
    std::string message;
  };
  std::vector<uint8_t> trailing = HandMap({version(1), kind(1), reason, time, nonce_entry});
  trailing.push_back(0x00);
  const std::vector<Case> cases = {
      {"version 2", HandMap({version(2), kind(1), reason, time, nonce_entry}), "unknown version"},
      {"scope kind 3", HandMap({version(1), kind(3), reason, time, nonce_entry}),
       "unknown scope kind 3"},
      {"signer with scope all", HandMap({version(1), kind(1), signer, reason, time, nonce_entry}),
       "signer"},
      {"no signer with scope one", HandMap({version(1), kind(2), reason, time, nonce_entry}),
       "missing map key 2"},
      {"missing time", HandMap({version(1), kind(2), signer, reason, nonce_entry}),
       "missing map key 4"},
      {"missing version", HandMap({kind(2), signer, reason, time, nonce_entry}),
       "missing map key 0"},
      {"unknown key 6",
       HandMap({version(1), kind(1), reason, time, nonce_entry, Entry{6, signer.second}}), "key"},
      {"too few keys", HandMap({version(1), kind(1), reason, time}), "freeze"},
      {"keys out of order", HandMap({version(1), kind(1), time, reason, nonce_entry}), "key"},
      {"short nonce",
       HandMap({version(1), kind(1), reason, time,
                Entry{5, [](CborWriter& w) { w.Bytes(std::vector<uint8_t>(15)); }}}),
       "nonce"},
      {"reason with newline",
       HandMap({version(1), kind(1), Entry{3, [](CborWriter& w) { w.Text("a\nb"); }}, time,
                nonce_entry}),
       "freeze reason"},
      {"trailing byte", trailing, "trailing"},
      {"empty", {}, "freeze"},
  };
  for (const Case& c : cases) {
    util::Result<Freeze> freeze = Freeze::Decode(c.bytes);
    ASSERT_FALSE(freeze.ok()) << c.name;
    EXPECT_EQ(freeze.status().code(), util::StatusCode::kInvalidArgument) << c.name;
    EXPECT_NE(freeze.status().message().find(c.message), std::string::npos)
        << c.name << ": " << freeze.status().message();
  }
  // A freeze is not an unfreeze: the freeze digest is required there.
  EXPECT_FALSE(Unfreeze::Decode(ValidFreeze().Encode()).ok());
  EXPECT_FALSE(Freeze::Decode(ValidUnfreeze().Encode()).ok());
}

TEST(FreezeTest, EveryFlippedByteOfASignedFreezeIsRefused) {
  const std::vector<uint8_t> bytes = SignedFreeze::Sign(ValidFreeze(), Watcher()).Encode();
  for (size_t i = 0; i < bytes.size(); ++i) {
    for (const uint8_t mask : {uint8_t{0x01}, uint8_t{0x80}, uint8_t{0xff}}) {
      std::vector<uint8_t> bad = bytes;
      bad[i] ^= mask;
      EXPECT_FALSE(SignedFreeze::Decode(bad).ok()) << "byte " << i << " mask " << int{mask};
    }
  }
  for (size_t size = 0; size < bytes.size(); ++size) {
    EXPECT_FALSE(SignedFreeze::Decode(std::span(bytes).first(size)).ok()) << size;
  }
}

TEST(FreezeTest, EveryFlippedByteOfASignedUnfreezeIsRefused) {
  const std::vector<uint8_t> bytes = TwoAdminUnfreeze().Encode();
  for (size_t i = 0; i < bytes.size(); ++i) {
    for (const uint8_t mask : {uint8_t{0x01}, uint8_t{0x80}, uint8_t{0xff}}) {
      std::vector<uint8_t> bad = bytes;
      bad[i] ^= mask;
      EXPECT_FALSE(SignedUnfreeze::Decode(bad).ok()) << "byte " << i << " mask " << int{mask};
    }
  }
}

TEST(FreezeTest, AlteredFreezeUnderTheOriginalSignatureIsPermissionDenied) {
  const SignedFreeze original = SignedFreeze::Sign(ValidFreeze(), Watcher());
  FreezeFields fields = ValidFreezeFields();
  fields.scope.signer.reset();  // Widen the scope to every signer.
  const std::vector<uint8_t> bytes =
      SignedBytes(Freeze::Create(fields).value().Encode(), original.signature());
  util::Result<SignedFreeze> decoded = SignedFreeze::Decode(bytes);
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().code(), util::StatusCode::kPermissionDenied);
  EXPECT_NE(decoded.status().message().find("freeze signature: does not verify"), std::string::npos)
      << decoded.status().message();
}

TEST(FreezeTest, FreezeSignatureIsNotAnUnfreezeIntentOrApprovalSignature) {
  // An unfreeze carrying a freeze's signature (by the same key) is refused.
  const Unfreeze unfreeze = ValidUnfreeze();
  const crypto::Ed25519PrivateKey admin = KeyFromFill(0x31);
  const SignedFreeze freeze = SignedFreeze::Sign(ValidFreeze(), admin);
  util::Result<SignedUnfreeze> as_unfreeze =
      SignedUnfreeze::Decode(MultiSignedBytes(unfreeze.Encode(), {freeze.signature()}));
  ASSERT_FALSE(as_unfreeze.ok());
  EXPECT_EQ(as_unfreeze.status().code(), util::StatusCode::kPermissionDenied);
  EXPECT_NE(as_unfreeze.status().message().find("unfreeze signer 0 signature: does not verify"),
            std::string::npos)
      << as_unfreeze.status().message();
  // And the other way round.
  const SignedUnfreeze signed_unfreeze = SignedUnfreeze::Sign(unfreeze, admin);
  util::Result<SignedFreeze> as_freeze =
      SignedFreeze::Decode(SignedBytes(ValidFreeze().Encode(), signed_unfreeze.signatures()[0]));
  ASSERT_FALSE(as_freeze.ok());
  EXPECT_EQ(as_freeze.status().code(), util::StatusCode::kPermissionDenied);

  // The same bytes digested under the other kinko tags give other digests, over which the
  // freeze signature does not verify.
  const policy::KeyId id = freeze.signer();
  const std::vector<uint8_t>& encoding = freeze.freeze().Encode();
  for (const std::string_view tag :
       {kUnfreezeTag, policy::kIntentTag, policy::kApprovalTag, policy::kPolicyTag}) {
    EXPECT_FALSE(
        policy::VerifySignature(freeze.signature(), id, crypto::TaggedHash(tag, encoding), "x")
            .ok())
        << tag;
  }
  EXPECT_TRUE(
      policy::VerifySignature(freeze.signature(), id, crypto::TaggedHash(kFreezeTag, encoding), "x")
          .ok());
}

TEST(FreezeTest, IntentSignatureIsNotAFreezeSignature) {
  // A requester's signature over an intent, attached to a freeze, is refused.
  const crypto::Ed25519PrivateKey requester = KeyFromFill(0x41);
  policy::IntentFields f;
  f.wallet = "hot";
  f.outputs = {{"bc1qvyq0cc6rahyvsazfdje0twl7ez82ndmuac2lhv", btc::Amount::FromSats(1000).value()}};
  f.fee.max_fee = btc::Amount::FromSats(500).value();
  f.requester = policy::Ed25519KeyId(requester.public_key());
  f.created = 1;
  f.expires = 2;
  const policy::SignedIntent intent =
      policy::SignedIntent::Sign(policy::Intent::Create(f).value(), requester).value();
  util::Result<SignedFreeze> decoded =
      SignedFreeze::Decode(SignedBytes(ValidFreeze().Encode(), intent.signature()));
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().code(), util::StatusCode::kPermissionDenied);
}

TEST(FreezeTest, UnfreezeSignaturesMustBeSortedUniqueAndBounded) {
  const Unfreeze unfreeze = ValidUnfreeze();
  const SignedUnfreeze two = TwoAdminUnfreeze();
  const policy::Signature first = two.signatures()[0];
  const policy::Signature second = two.signatures()[1];
  ASSERT_TRUE(SignedUnfreeze::Decode(MultiSignedBytes(unfreeze.Encode(), {first, second})).ok());

  struct Case {
    std::string name;
    std::vector<policy::Signature> signatures;
    util::StatusCode code;
    std::string message;
  };
  policy::Signature broken = second;
  broken.signature[10] ^= 0x01;
  std::vector<policy::Signature> too_many;
  for (uint8_t i = 0; i < kMaxUnfreezeSignatures + 1; ++i) {
    too_many.push_back(
        policy::SignDigest(KeyFromFill(static_cast<uint8_t>(0x80 + i)), unfreeze.digest()));
  }
  std::sort(too_many.begin(), too_many.end(),
            [](const policy::Signature& a, const policy::Signature& b) {
              return policy::SignerKeyId(a) < policy::SignerKeyId(b);
            });
  const std::vector<Case> cases = {
      {"none", {}, util::StatusCode::kInvalidArgument, "signatures"},
      {"reversed", {second, first}, util::StatusCode::kInvalidArgument, "increasing key id"},
      {"repeated", {first, first}, util::StatusCode::kInvalidArgument, "increasing key id"},
      {"33", too_many, util::StatusCode::kInvalidArgument, "signatures"},
      {"second does not verify",
       {first, broken},
       util::StatusCode::kPermissionDenied,
       "unfreeze signer 1 signature: does not verify"},
  };
  for (const Case& c : cases) {
    util::Result<SignedUnfreeze> decoded =
        SignedUnfreeze::Decode(MultiSignedBytes(unfreeze.Encode(), c.signatures));
    ASSERT_FALSE(decoded.ok()) << c.name;
    EXPECT_EQ(decoded.status().code(), c.code) << c.name;
    EXPECT_NE(decoded.status().message().find(c.message), std::string::npos)
        << c.name << ": " << decoded.status().message();
  }
  // 32 signatures are accepted.
  too_many.pop_back();
  EXPECT_TRUE(SignedUnfreeze::Decode(MultiSignedBytes(unfreeze.Encode(), too_many)).ok());
}

TEST(FreezeTest, AddSignatureRefusesARepeatedKeyAndTheThirtyThird) {
  util::Result<SignedUnfreeze> again = TwoAdminUnfreeze().AddSignature(KeyFromFill(0x31));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), util::StatusCode::kAlreadyExists);

  SignedUnfreeze unfreeze = SignedUnfreeze::Sign(ValidUnfreeze(), KeyFromFill(0x80));
  for (uint8_t i = 1; i < kMaxUnfreezeSignatures; ++i) {
    unfreeze = unfreeze.AddSignature(KeyFromFill(static_cast<uint8_t>(0x80 + i))).value();
  }
  EXPECT_EQ(unfreeze.signatures().size(), kMaxUnfreezeSignatures);
  util::Result<SignedUnfreeze> full = unfreeze.AddSignature(KeyFromFill(0x01));
  ASSERT_FALSE(full.ok());
  EXPECT_EQ(full.status().code(), util::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace kinko::signerapi
