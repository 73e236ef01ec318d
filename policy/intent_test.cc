#include "policy/intent.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "policy/approval.h"
#include "util/hex.h"

namespace kinko::policy {
namespace {

std::vector<uint8_t> Hex(std::string_view hex) { return util::HexDecode(hex).value(); }

crypto::Ed25519PrivateKey KeyFromSeedHex(std::string_view hex) {
  return crypto::Ed25519PrivateKey::FromSeed(crypto::SecretBytes::FromSpan(Hex(hex))).value();
}

const crypto::Ed25519PrivateKey& Requester() {
  static const crypto::Ed25519PrivateKey* key = new crypto::Ed25519PrivateKey(
      KeyFromSeedHex("1111111111111111111111111111111111111111111111111111111111111111"));
  return *key;
}

IntentFields Fields() {
  IntentFields f;
  f.id = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
          0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};
  f.wallet = "treasury-hot";
  f.network = btc::Network::kMainnet;
  f.outputs = {
      {"bc1qvyq0cc6rahyvsazfdje0twl7ez82ndmuac2lhv", btc::Amount::FromSats(50000000).value()},
      {"1FsSia9rv4NeEwvJ2GvXrX7LyxYspbN2mo", btc::Amount::FromSats(1234).value()}};
  f.fee.max_fee = btc::Amount::FromSats(20000).value();
  f.requester = Ed25519KeyId(Requester().public_key());
  f.created = 1767225600;
  f.expires = 1767229200;
  f.external_ref = "withdrawal-42";
  f.memo = "monthly payout";
  return f;
}

SignedIntent MakeSigned(IntentFields f = Fields()) {
  return SignedIntent::Sign(Intent::Create(std::move(f)).value(), Requester()).value();
}

TEST(IntentTest, CreateEncodeDecodeRoundTrip) {
  const Intent intent = Intent::Create(Fields()).value();
  const Intent decoded = Intent::Decode(intent.Encode()).value();
  EXPECT_EQ(decoded.fields(), Fields());
  EXPECT_EQ(decoded.Encode(), intent.Encode());
  EXPECT_EQ(decoded.digest(), intent.digest());
  EXPECT_EQ(decoded.total().sats(), 50001234);
  ASSERT_EQ(decoded.output_scripts().size(), 2u);
  EXPECT_EQ(decoded.output_scripts()[0].size(), 22u);

  const SignedIntent signed_intent = MakeSigned();
  const SignedIntent again = SignedIntent::Decode(signed_intent.Encode()).value();
  EXPECT_EQ(again, signed_intent);
  EXPECT_EQ(again.Encode(), signed_intent.Encode());
}

TEST(IntentTest, DigestIsDomainSeparatedTaggedHash) {
  const Intent intent = Intent::Create(Fields()).value();
  EXPECT_EQ(intent.digest(), crypto::TaggedHash("kinko/intent/v1", intent.Encode()));
  EXPECT_NE(intent.digest(), crypto::TaggedHash("kinko/approval/v1", intent.Encode()));
  EXPECT_NE(intent.digest(), crypto::Sha256(intent.Encode()));
}

TEST(IntentTest, EveryFlippedByteOfASignedIntentIsRefused) {
  const std::vector<uint8_t> bytes = MakeSigned().Encode();
  for (size_t i = 0; i < bytes.size(); ++i) {
    for (uint8_t mask : {uint8_t{0x01}, uint8_t{0x80}, uint8_t{0xff}}) {
      std::vector<uint8_t> bad = bytes;
      bad[i] ^= mask;
      EXPECT_FALSE(SignedIntent::Decode(bad).ok()) << "byte " << i << " mask " << int{mask};
    }
  }
  for (size_t size = 0; size < bytes.size(); ++size) {
    EXPECT_FALSE(SignedIntent::Decode(std::span(bytes).first(size)).ok()) << size;
  }
}

// May 2024: the destination and the amount of a signed request were changed in transit.
TEST(IntentTest, AlteredOutputIsRefusedNamingTheRequesterSignature) {
  const SignedIntent original = MakeSigned();
  IntentFields altered = Fields();
  altered.outputs[0] = {"bc1qhxt04s5xnpy0kxw4x99n5hpdf5pmtzpqs52es2",
                        btc::Amount::FromSats(450290000000).value()};
  const Intent forged = Intent::Create(altered).value();
  // The attacker keeps the requester's signature and re-encodes canonically.
  CborWriter head;
  head.MapHeader(2);
  head.Uint(0);
  std::vector<uint8_t> bytes = head.bytes();
  bytes.insert(bytes.end(), forged.Encode().begin(), forged.Encode().end());
  CborWriter tail;
  tail.Uint(1);
  EncodeSignature(original.signature(), tail);
  bytes.insert(bytes.end(), tail.bytes().begin(), tail.bytes().end());

  util::Result<SignedIntent> decoded = SignedIntent::Decode(bytes);
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().code(), util::StatusCode::kPermissionDenied);
  EXPECT_NE(decoded.status().message().find("requester signature: does not verify"),
            std::string::npos)
      << decoded.status().message();
}

TEST(IntentTest, SignatureByAnotherKeyIsRefused) {
  const crypto::Ed25519PrivateKey other =
      KeyFromSeedHex("2222222222222222222222222222222222222222222222222222222222222222");
  // Sign refuses a key that is not the requester's.
  EXPECT_FALSE(SignedIntent::Sign(Intent::Create(Fields()).value(), other).ok());
  // A forged envelope: the other key's valid signature over the right digest.
  const Intent intent = Intent::Create(Fields()).value();
  CborWriter w;
  w.MapHeader(2);
  w.Uint(0);
  std::vector<uint8_t> bytes = w.bytes();
  bytes.insert(bytes.end(), intent.Encode().begin(), intent.Encode().end());
  CborWriter tail;
  tail.Uint(1);
  EncodeSignature(SignDigest(other, intent.digest()), tail);
  bytes.insert(bytes.end(), tail.bytes().begin(), tail.bytes().end());
  util::Result<SignedIntent> decoded = SignedIntent::Decode(bytes);
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.status().message().find("requester signature: public key is not key"),
            std::string::npos);
}

TEST(IntentTest, CreateChecksAddressesAgainstTheNetwork) {
  IntentFields f = Fields();
  f.network = btc::Network::kTestnet;
  EXPECT_FALSE(Intent::Create(f).ok());
  f = Fields();
  f.outputs[0].address = "BC1QVYQ0CC6RAHYVSAZFDJE0TWL7EZ82NDMUAC2LHV";  // Valid, not canonical.
  util::Result<Intent> upper = Intent::Create(f);
  ASSERT_FALSE(upper.ok());
  EXPECT_NE(upper.status().message().find("canonical"), std::string::npos);
  f = Fields();
  f.outputs[0].address = "bcrt1qdavt4j2sd7dlhqsavtnfxvzppw6k7qy97tmnu9";
  EXPECT_FALSE(Intent::Create(f).ok());
  f.network = btc::Network::kRegtest;
  f.outputs.resize(1);
  EXPECT_TRUE(Intent::Create(f).ok());
}

TEST(IntentTest, CreateRejectsEachRule) {
  auto rejects = [](auto mutate) {
    IntentFields f = Fields();
    mutate(f);
    return !Intent::Create(f).ok();
  };
  EXPECT_TRUE(rejects([](IntentFields& f) { f.wallet = ""; }));
  EXPECT_TRUE(rejects([](IntentFields& f) { f.wallet = "a b"; }));
  EXPECT_TRUE(rejects([](IntentFields& f) { f.wallet = std::string(65, 'w'); }));
  EXPECT_TRUE(rejects([](IntentFields& f) { f.outputs.clear(); }));
  EXPECT_TRUE(rejects([](IntentFields& f) { f.outputs.resize(257, f.outputs[0]); }));
  EXPECT_TRUE(rejects([](IntentFields& f) { f.outputs[1].amount = btc::Amount::Zero(); }));
  EXPECT_TRUE(rejects([](IntentFields& f) {
    f.outputs[0].amount = btc::Amount::FromSats(btc::kMaxMoney).value();
  }));
  EXPECT_TRUE(rejects([](IntentFields& f) { f.fee = FeeCeiling{}; }));
  EXPECT_TRUE(rejects([](IntentFields& f) {
    f.fee.max_rate_sat_per_kvb = static_cast<uint64_t>(btc::kMaxMoney) + 1;
  }));
  EXPECT_TRUE(rejects([](IntentFields& f) { f.expires = f.created; }));
  EXPECT_TRUE(rejects([](IntentFields& f) { f.expires = kMaxTime + 1; }));
  EXPECT_TRUE(rejects([](IntentFields& f) { f.external_ref = std::string(129, 'r'); }));
  EXPECT_TRUE(rejects([](IntentFields& f) { f.memo = std::string(1025, 'm'); }));
  EXPECT_TRUE(rejects([](IntentFields& f) { f.memo = "pay \x1b[2Jnow"; }));
  EXPECT_TRUE(rejects([](IntentFields& f) {
    f.memo =
        "abc\xe2\x80\xae"
        "cba";
  }));  // RLO.
  EXPECT_TRUE(rejects([](IntentFields& f) { f.external_ref = "a\nb"; }));
  EXPECT_TRUE(rejects([](IntentFields& f) { f.memo = "\xc2\x9b"; }));  // C1 CSI.
  EXPECT_FALSE(rejects([](IntentFields& f) { f.memo = "caf\xc3\xa9 \xe2\x82\xac"; }));
  EXPECT_FALSE(rejects([](IntentFields& f) {
    f.fee = FeeCeiling{.max_fee = std::nullopt, .max_rate_sat_per_kvb = 25000};
  }));
}

// Rewrites the intent encoding with one byte range replaced.
std::vector<uint8_t> Splice(const std::vector<uint8_t>& bytes, size_t at, size_t erase,
                            std::string_view insert_hex) {
  std::vector<uint8_t> out(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(at));
  const std::vector<uint8_t> insert = Hex(insert_hex);
  out.insert(out.end(), insert.begin(), insert.end());
  out.insert(out.end(), bytes.begin() + static_cast<std::ptrdiff_t>(at + erase), bytes.end());
  return out;
}

TEST(IntentTest, DecodeRejectsNonCanonicalEncodings) {
  const std::vector<uint8_t> good = Intent::Create(Fields()).value().Encode();
  ASSERT_EQ(good[0], 0xab);  // Map of 11.
  ASSERT_EQ(good[1], 0x00);  // Key 0.
  ASSERT_EQ(good[2], 0x01);  // Version 1.
  EXPECT_TRUE(Intent::Decode(good).ok());
  // Version as a two-byte integer.
  EXPECT_FALSE(Intent::Decode(Splice(good, 2, 1, "1801")).ok());
  // Key 0 as a two-byte integer.
  EXPECT_FALSE(Intent::Decode(Splice(good, 1, 1, "1800")).ok());
  // Map length in a longer head.
  EXPECT_FALSE(Intent::Decode(Splice(good, 0, 1, "b80b")).ok());
  // Indefinite-length map.
  std::vector<uint8_t> indefinite = Splice(good, 0, 1, "bf");
  indefinite.push_back(0xff);
  EXPECT_FALSE(Intent::Decode(indefinite).ok());
  // Trailing byte.
  std::vector<uint8_t> trailing = good;
  trailing.push_back(0x00);
  EXPECT_FALSE(Intent::Decode(trailing).ok());
  // A tag around the whole intent.
  EXPECT_FALSE(Intent::Decode(Splice(good, 0, 0, "d818")).ok());
  // Version 2.
  EXPECT_FALSE(Intent::Decode(Splice(good, 2, 1, "02")).ok());
}

TEST(IntentTest, DecodeRejectsSwappedKeys) {
  // Keys 9 and 10 (external reference and memo) swapped: same content, wrong order.
  IntentFields f = Fields();
  f.external_ref = "";
  f.memo = "";
  const std::vector<uint8_t> good = Intent::Create(f).value().Encode();
  ASSERT_EQ(util::HexEncode(std::span(good).last(4)), "09600a60");
  std::vector<uint8_t> swapped = good;
  swapped[swapped.size() - 4] = 0x0a;
  swapped[swapped.size() - 2] = 0x09;
  util::Result<Intent> decoded = Intent::Decode(swapped);
  ASSERT_FALSE(decoded.ok());
}

TEST(IntentTest, FeeCeilingMapMayHoldEitherOrBoth) {
  for (FeeCeiling fee :
       {FeeCeiling{.max_fee = btc::Amount::FromSats(1).value(),
       .max_rate_sat_per_kvb = std::nullopt},
        FeeCeiling{.max_fee = std::nullopt, .max_rate_sat_per_kvb = 1000},
        FeeCeiling{.max_fee = btc::Amount::FromSats(5000).value(), .max_rate_sat_per_kvb = 2500}}) {
    IntentFields f = Fields();
    f.fee = fee;
    const Intent intent = Intent::Create(f).value();
    EXPECT_EQ(Intent::Decode(intent.Encode()).value().fields().fee, fee);
  }
}

TEST(IntentTest, ExpiryIsAParameter) {
  const Intent intent = Intent::Create(Fields()).value();
  EXPECT_FALSE(intent.IsExpiredAt(Fields().expires - 1));
  EXPECT_TRUE(intent.IsExpiredAt(Fields().expires));
}

// doc/intent-encoding.md's vectors, also checked by test/interop/intent_vectors.js.
TEST(IntentTest, DocumentedVectors) {
  std::ifstream in(std::string(KINKO_VECTORS_DIR) + "/kinko_intent_vectors.json");
  ASSERT_TRUE(in) << "missing kinko_intent_vectors.json";
  const nlohmann::json doc = nlohmann::json::parse(in);
  size_t checked = 0;
  for (const nlohmann::json& v : doc["intents"]) {
    const crypto::Ed25519PrivateKey key = KeyFromSeedHex(v["requester_seed"].get<std::string>());
    EXPECT_EQ(util::HexEncode(key.public_key()), v["requester_public_key"]);
    const nlohmann::json& j = v["fields"];
    IntentFields f;
    std::vector<uint8_t> id = Hex(j["id"].get<std::string>());
    std::copy(id.begin(), id.end(), f.id.begin());
    f.wallet = j["wallet"];
    f.network = btc::ParseNetwork(j["network"].get<std::string>()).value();
    for (const nlohmann::json& o : j["outputs"]) {
      f.outputs.push_back({o["address"], btc::Amount::FromSats(o["amount"]).value()});
    }
    if (j["fee"].contains("max_fee")) {
      f.fee.max_fee = btc::Amount::FromSats(j["fee"]["max_fee"]).value();
    }
    if (j["fee"].contains("max_rate_sat_per_kvb")) {
      f.fee.max_rate_sat_per_kvb = j["fee"]["max_rate_sat_per_kvb"].get<uint64_t>();
    }
    f.requester = Ed25519KeyId(key.public_key());
    EXPECT_EQ(util::HexEncode(f.requester), j["requester"]);
    f.created = j["created"];
    f.expires = j["expires"];
    f.external_ref = j["external_ref"];
    f.memo = j["memo"];
    const SignedIntent s = SignedIntent::Sign(Intent::Create(f).value(), key).value();
    EXPECT_EQ(util::HexEncode(s.intent().Encode()), v["encoding"]) << v["name"];
    EXPECT_EQ(util::HexEncode(s.intent().digest()), v["digest"]) << v["name"];
    EXPECT_EQ(util::HexEncode(s.signature().signature), v["signature"]) << v["name"];
    EXPECT_EQ(util::HexEncode(s.Encode()), v["signed"]) << v["name"];
    EXPECT_TRUE(SignedIntent::Decode(Hex(v["signed"].get<std::string>())).ok());
    ++checked;
  }
  for (const nlohmann::json& v : doc["approvals"]) {
    const crypto::Ed25519PrivateKey key = KeyFromSeedHex(v["approver_seed"].get<std::string>());
    const nlohmann::json& j = v["fields"];
    ApprovalFields f;
    std::vector<uint8_t> d = Hex(j["intent_digest"].get<std::string>());
    std::copy(d.begin(), d.end(), f.intent_digest.begin());
    d = Hex(j["policy_digest"].get<std::string>());
    std::copy(d.begin(), d.end(), f.policy_digest.begin());
    f.approver = Ed25519KeyId(key.public_key());
    EXPECT_EQ(util::HexEncode(f.approver), j["approver"]);
    f.decision = j["decision"] == "approve" ? Decision::kApprove : Decision::kReject;
    f.time = j["time"];
    if (j.contains("comment_hash")) {
      d = Hex(j["comment_hash"].get<std::string>());
      f.comment_hash = Digest{};
      std::copy(d.begin(), d.end(), f.comment_hash->begin());
    }
    const SignedApproval s = SignedApproval::Sign(Approval::Create(f).value(), key).value();
    EXPECT_EQ(util::HexEncode(s.approval().Encode()), v["encoding"]) << v["name"];
    EXPECT_EQ(util::HexEncode(s.approval().digest()), v["digest"]) << v["name"];
    EXPECT_EQ(util::HexEncode(s.signature().signature), v["signature"]) << v["name"];
    EXPECT_EQ(util::HexEncode(s.Encode()), v["signed"]) << v["name"];
    ++checked;
  }
  for (const nlohmann::json& v : doc["invalid"]) {
    const std::vector<uint8_t> bytes = Hex(v["hex"].get<std::string>());
    const std::string kind = v["kind"];
    const bool ok = kind == "signed_intent" ? SignedIntent::Decode(bytes).ok()
                                            : SignedApproval::Decode(bytes).ok();
    EXPECT_FALSE(ok) << v["description"];
    ++checked;
  }
  EXPECT_GE(checked, 8u);
}

}  // namespace
}  // namespace kinko::policy
