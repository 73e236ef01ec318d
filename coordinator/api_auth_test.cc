#include "coordinator/api_auth.h"

#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

#include "crypto/secret.h"
#include "util/hex.h"

namespace kinko::coordinator {
namespace {

// The pinned values below were computed once, independently of this code, by Node.js 18's
// crypto module (SHA-256 and Ed25519 from OpenSSL):
//   tag = sha256("kinko/api-request/v1")
//   digest = sha256(tag || tag || method || 0 || target || 0 || String(time) || 0 || sha256(body))
//   key = Ed25519 private key of seed 01 02 .. 20 (PKCS#8 DER prefix
//   302e020100300506032b657004220420) sig = crypto.sign(null, digest, key)
// test/cli/kinkod_test.js carries the same computation and signs its requests with it.
constexpr std::string_view kMethod = "POST";
constexpr std::string_view kTarget = "/v1/intents?state=approved";
constexpr uint64_t kTime = 1767225600;
constexpr std::string_view kBody = R"({"signed_intent":"00"})";
constexpr std::string_view kDigestHex =
    "5862cd03b469da4ff5910178a0c155931b646607253f3f9b61683c7d5dd5f426";
constexpr std::string_view kPublicKeyHex =
    "79b5562e8fe654f94078b112e8a98ba7901f853ae695bed7e0e3910bad049664";
constexpr std::string_view kSignatureHex =
    "6f60eab3b339d6b62468d7bfc3dd8f392b5ac2a09f1175f9a9f3d7b5b483065e"
    "3e946d36c8de624f233b147feada1fb7c32da8f2aca8c11fccd786e503f2e103";
// GET /v1/batches/7 at time 0 with an empty body, by the same computation.
constexpr std::string_view kEmptyBodyDigestHex =
    "e153fc0bfe7654265d90ed139a0e4accfc6d8faef24bc2deb7aed0dc477aa576";

crypto::Ed25519PrivateKey TestKey() {
  std::array<uint8_t, 32> seed{};
  for (size_t i = 0; i < seed.size(); ++i) seed[i] = static_cast<uint8_t>(i + 1);
  util::Result<crypto::Ed25519PrivateKey> key =
      crypto::Ed25519PrivateKey::FromSeed(crypto::SecretBytes::FromSpan(seed));
  CHECK(key.ok());
  return std::move(key).value();
}

std::string PinnedHeader() {
  return "Kinko-Ed25519 key=" + std::string(kPublicKeyHex) + ",time=" + std::to_string(kTime) +
         ",sig=" + std::string(kSignatureHex);
}

TEST(ApiAuthTest, RequestDigestMatchesIndependentComputation) {
  EXPECT_EQ(util::HexEncode(RequestDigest(kMethod, kTarget, kTime, kBody)), kDigestHex);
  EXPECT_EQ(util::HexEncode(RequestDigest("GET", "/v1/batches/7", 0, "")), kEmptyBodyDigestHex);
}

TEST(ApiAuthTest, AuthorizationHeaderMatchesIndependentSignature) {
  const crypto::Ed25519PrivateKey key = TestKey();
  EXPECT_EQ(util::HexEncode(key.public_key()), kPublicKeyHex);
  EXPECT_EQ(AuthorizationHeader(key, kMethod, kTarget, kTime, kBody), PinnedHeader());
}

TEST(ApiAuthTest, VerifyAcceptsPinnedHeader) {
  util::Result<Caller> caller = VerifyAuthorization(PinnedHeader(), kMethod, kTarget, kBody, kTime);
  ASSERT_TRUE(caller.ok()) << caller.status();
  EXPECT_EQ(util::HexEncode(caller->public_key), kPublicKeyHex);
  EXPECT_EQ(caller->id, policy::Ed25519KeyId(caller->public_key));
}

TEST(ApiAuthTest, VerifyAcceptsSkewUpToTheBound) {
  for (uint64_t now : {kTime - kMaxClockSkewSeconds, kTime + kMaxClockSkewSeconds}) {
    EXPECT_TRUE(VerifyAuthorization(PinnedHeader(), kMethod, kTarget, kBody, now).ok()) << now;
  }
}

TEST(ApiAuthTest, VerifyRefusesSkewBeyondTheBound) {
  for (uint64_t now : {kTime - kMaxClockSkewSeconds - 1, kTime + kMaxClockSkewSeconds + 1,
                       uint64_t{0}, ~uint64_t{0}}) {
    util::Result<Caller> caller = VerifyAuthorization(PinnedHeader(), kMethod, kTarget, kBody, now);
    ASSERT_FALSE(caller.ok()) << now;
    EXPECT_EQ(caller.status().code(), util::StatusCode::kPermissionDenied) << now;
    EXPECT_NE(caller.status().message().find("time"), std::string::npos);
  }
}

// Each case changes one thing of a valid request: the signature no longer covers it.
TEST(ApiAuthTest, VerifyRefusesChangedRequest) {
  struct Case {
    std::string name;
    std::string method;
    std::string target;
    std::string body;
  };
  const std::vector<Case> cases = {
      {"method", "GET", std::string(kTarget), std::string(kBody)},
      {"method case", "post", std::string(kTarget), std::string(kBody)},
      {"path", std::string(kMethod), "/v1/intentz?state=approved", std::string(kBody)},
      {"query", std::string(kMethod), "/v1/intents?state=refused", std::string(kBody)},
      {"query dropped", std::string(kMethod), "/v1/intents", std::string(kBody)},
      {"body", std::string(kMethod), std::string(kTarget), R"({"signed_intent":"01"})"},
      {"body empty", std::string(kMethod), std::string(kTarget), ""},
  };
  for (const Case& c : cases) {
    util::Result<Caller> caller =
        VerifyAuthorization(PinnedHeader(), c.method, c.target, c.body, kTime);
    ASSERT_FALSE(caller.ok()) << c.name;
    EXPECT_EQ(caller.status().code(), util::StatusCode::kPermissionDenied) << c.name;
    EXPECT_NE(caller.status().message().find("signature"), std::string::npos) << c.name;
  }
}

std::string Replace(std::string text, std::string_view from, std::string_view to) {
  const size_t at = text.find(from);
  CHECK(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

// Each case changes one thing of the valid header.
TEST(ApiAuthTest, VerifyRefusesChangedHeader) {
  const std::string valid = PinnedHeader();
  const std::string key = "key=" + std::string(kPublicKeyHex);
  const std::string time = "time=" + std::to_string(kTime);
  const std::string sig = "sig=" + std::string(kSignatureHex);
  std::string other_sig(kSignatureHex);
  other_sig[0] = other_sig[0] == '0' ? '1' : '0';
  std::string other_key(kPublicKeyHex);
  other_key[63] = other_key[63] == '0' ? '1' : '0';
  struct Case {
    std::string header;
    util::StatusCode code;
    std::string message_part;
  };
  const util::StatusCode kBad = util::StatusCode::kInvalidArgument;
  const util::StatusCode kDenied = util::StatusCode::kPermissionDenied;
  const std::vector<Case> cases = {
      {"", kBad, "scheme"},
      {Replace(valid, "Kinko-Ed25519", "Bearer"), kBad, "scheme"},
      {Replace(valid, "Kinko-Ed25519", "kinko-ed25519"), kBad, "scheme"},
      {Replace(valid, "Kinko-Ed25519 ", "Kinko-Ed25519"), kBad, "scheme"},
      {Replace(valid, "Kinko-Ed25519 ", "Kinko-Ed25519  "), kBad, "field"},
      {"Kinko-Ed25519 ", kBad, "field"},
      {Replace(valid, key + ",", ""), kBad, "missing field 'key'"},
      {Replace(valid, "," + time, ""), kBad, "missing field 'time'"},
      {Replace(valid, "," + sig, ""), kBad, "missing field 'sig'"},
      {valid + "," + time, kBad, "'time' repeated"},
      {Replace(valid, key, key + "," + key), kBad, "'key' repeated"},
      {valid + "," + sig, kBad, "'sig' repeated"},
      {valid + ",nonce=1", kBad, "unknown field 'nonce'"},
      {valid + ",", kBad, "field"},
      {Replace(valid, ",time", ", time"), kBad, "unknown field ' time'"},
      {Replace(valid, "key=", "key:"), kBad, "field"},
      {Replace(valid, kPublicKeyHex, kPublicKeyHex.substr(2)), kBad, "key"},
      {Replace(valid, kPublicKeyHex, std::string(kPublicKeyHex) + "00"), kBad, "key"},
      {Replace(valid, kPublicKeyHex, "79B5" + std::string(kPublicKeyHex.substr(4))), kBad, "key"},
      {Replace(valid, kPublicKeyHex, "zz" + std::string(kPublicKeyHex.substr(2))), kBad, "key"},
      {Replace(valid, kSignatureHex, kSignatureHex.substr(2)), kBad, "sig"},
      {Replace(valid, kSignatureHex, "G" + std::string(kSignatureHex.substr(1))), kBad, "sig"},
      {Replace(valid, time, "time=0" + std::to_string(kTime)), kBad, "time"},
      {Replace(valid, time, "time=+" + std::to_string(kTime)), kBad, "time"},
      {Replace(valid, time, "time=" + std::to_string(kTime) + ".0"), kBad, "time"},
      {Replace(valid, time, "time="), kBad, "time"},
      {Replace(valid, time, "time=99999999999999999999"), kBad, "time"},
      {Replace(valid, time, "time=" + std::to_string(kTime + 1)), kDenied, "signature"},
      {Replace(valid, kSignatureHex, other_sig), kDenied, "signature"},
      {Replace(valid, kPublicKeyHex, other_key), kDenied, "signature"},
  };
  for (const Case& c : cases) {
    util::Result<Caller> caller = VerifyAuthorization(c.header, kMethod, kTarget, kBody, kTime);
    ASSERT_FALSE(caller.ok()) << c.header;
    EXPECT_EQ(caller.status().code(), c.code) << c.header << ": " << caller.status();
    EXPECT_NE(caller.status().message().find(c.message_part), std::string::npos)
        << c.header << ": " << caller.status();
  }
}

TEST(ApiAuthTest, FieldOrderIsFree) {
  const std::string header = "Kinko-Ed25519 sig=" + std::string(kSignatureHex) +
                             ",time=" + std::to_string(kTime) +
                             ",key=" + std::string(kPublicKeyHex);
  EXPECT_TRUE(VerifyAuthorization(header, kMethod, kTarget, kBody, kTime).ok());
}

TEST(ApiAuthTest, SignThenVerifyRoundTrips) {
  const crypto::Ed25519PrivateKey key = TestKey();
  const std::string header = AuthorizationHeader(key, "GET", "/v1/wallets/w", 42, "");
  util::Result<Caller> caller = VerifyAuthorization(header, "GET", "/v1/wallets/w", "", 42);
  ASSERT_TRUE(caller.ok()) << caller.status();
  EXPECT_EQ(caller->public_key, key.public_key());
}

}  // namespace
}  // namespace kinko::coordinator
