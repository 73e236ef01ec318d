#include "signerapi/json_codec.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "policy/canonical.h"
#include "util/hex.h"

namespace kinko::signerapi {
namespace {

using nlohmann::json;

// BIP 174 test vector (valid): "PSBT with unknown types in the inputs".
constexpr std::string_view kPsbtBase64 =
    "cHNidP8BAD8CAAAAAf//////////////////////////////////////////AAAAAAD/////AQAAAAAAAAAAA2oBAAAA"
    "AAAACvABAgMEBQYHCAkPAQIDBAUGBwgJCgsMDQ4PAAA=";
// BIP 174 test vector (valid): "PSBT with 0 inputs".
constexpr std::string_view kOtherPsbtBase64 =
    "cHNidP8BAEwCAAAAAALT3/UFAAAAABl2qRTQxZkDxbrChodg6Q/VIaRmWqdlIIisAOH1BQAAAAAXqRQ1RebjO4MsRwUP"
    "JNPuuTycA5SLx4ezLhMAAAAA";

crypto::Ed25519PrivateKey KeyFromFill(uint8_t fill) {
  const std::vector<uint8_t> seed(32, fill);
  return crypto::Ed25519PrivateKey::FromSeed(crypto::SecretBytes::FromSpan(seed)).value();
}

const crypto::Ed25519PrivateKey& Requester() {
  static const crypto::Ed25519PrivateKey* key = new crypto::Ed25519PrivateKey(KeyFromFill(0x11));
  return *key;
}

const crypto::Ed25519PrivateKey& Approver() {
  static const crypto::Ed25519PrivateKey* key = new crypto::Ed25519PrivateKey(KeyFromFill(0x12));
  return *key;
}

policy::Digest PolicyDigest() {
  policy::Digest d;
  d.fill(0xd1);
  return d;
}

btc::Amount Sats(int64_t sats) { return btc::Amount::FromSats(sats).value(); }

policy::IntentFields IntentFieldsFor(uint8_t id_fill) {
  policy::IntentFields f;
  f.id.fill(id_fill);
  f.wallet = "treasury-hot";
  f.network = btc::Network::kMainnet;
  f.outputs = {{"bc1qvyq0cc6rahyvsazfdje0twl7ez82ndmuac2lhv", Sats(50000000)},
               {"1FsSia9rv4NeEwvJ2GvXrX7LyxYspbN2mo", Sats(1234)}};
  f.fee.max_fee = Sats(20000);
  f.requester = policy::Ed25519KeyId(Requester().public_key());
  f.created = 1767225600;
  f.expires = 1767229200;
  f.external_ref = "withdrawal-42";
  f.memo = "monthly payout";
  return f;
}

policy::SignedIntent SignedIntentFor(uint8_t id_fill) {
  return policy::SignedIntent::Sign(policy::Intent::Create(IntentFieldsFor(id_fill)).value(),
                                    Requester())
      .value();
}

policy::SignedApproval ApprovalOf(const policy::SignedIntent& intent) {
  const policy::Approval approval =
      policy::Approval::Create(
          policy::ApprovalFields{.intent_digest = intent.intent().digest(),
                                 .policy_digest = PolicyDigest(),
                                 .approver = policy::Ed25519KeyId(Approver().public_key()),
                                 .decision = policy::Decision::kApprove,
                                 .time = intent.intent().fields().created + 60,
                                 .comment_hash = std::nullopt})
          .value();
  return policy::SignedApproval::Sign(approval, Approver()).value();
}

SignRequest ValidRequest() {
  SignRequest request;
  request.request_id = {0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
                        0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf};
  request.psbt = btc::Psbt::ParseBase64(kPsbtBase64).value();
  const policy::SignedIntent first = SignedIntentFor(0x01);
  const policy::SignedIntent second = SignedIntentFor(0x02);
  request.intents.push_back({first, {ApprovalOf(first)}});
  request.intents.push_back({second, {}});
  return request;
}

std::string B64(const std::vector<uint8_t>& bytes) { return btc::EncodeBase64(bytes); }

std::string Repeat(std::string_view text, size_t count) {
  std::string out;
  for (size_t i = 0; i < count; ++i) out += text;
  return out;
}

// The valid request written independently of the encoder.
json ValidRequestJson() {
  const SignRequest request = ValidRequest();
  return json{
      {"version", 1},
      {"request_id", "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf"},
      {"psbt", std::string(kPsbtBase64)},
      {"intents", json::array({json{{"intent", B64(request.intents[0].intent.Encode())},
                                    {"approvals",
                                     json::array({B64(request.intents[0].approvals[0].Encode())})}},
                               json{{"intent", B64(request.intents[1].intent.Encode())},
                                    {"approvals", json::array()}}})}};
}

void ExpectError(const util::Status& status, util::StatusCode code, std::string_view message,
                 std::string_view name) {
  EXPECT_EQ(status.code(), code) << name << ": " << status;
  EXPECT_NE(status.message().find(message), std::string::npos) << name << ": " << status;
}

TEST(JsonCodecTest, SignRequestRoundTrip) {
  const SignRequest request = ValidRequest();
  const std::string body = EncodeSignRequest(request);
  EXPECT_EQ(json::parse(body), ValidRequestJson());
  const SignRequest decoded = DecodeSignRequest(body).value();
  EXPECT_TRUE(decoded == request);
  EXPECT_EQ(EncodeSignRequest(decoded), body);
  // The independently written form decodes to the same request.
  EXPECT_TRUE(DecodeSignRequest(ValidRequestJson().dump()).value() == request);
  // Whitespace between tokens and any key order are JSON, and accepted.
  EXPECT_TRUE(DecodeSignRequest(ValidRequestJson().dump(2)).value() == request);
}

// 145 bytes standing for an encoded signed tree head: this component checks only its size.
std::vector<uint8_t> KnownHeadBytes() {
  std::vector<uint8_t> bytes(145);
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i * 7 + 1);
  return bytes;
}

TEST(JsonCodecTest, SignRequestWithAKnownHeadRoundTrips) {
  SignRequest request = ValidRequest();
  request.known_head = KnownHeadBytes();
  const std::string body = EncodeSignRequest(request);
  json expected = ValidRequestJson();
  expected["known_head"] = B64(KnownHeadBytes());
  EXPECT_EQ(json::parse(body), expected);
  const SignRequest decoded = DecodeSignRequest(body).value();
  ASSERT_TRUE(decoded.known_head.has_value());
  EXPECT_EQ(*decoded.known_head, KnownHeadBytes());
  EXPECT_TRUE(decoded == request);
  EXPECT_EQ(EncodeSignRequest(decoded), body);
  EXPECT_TRUE(DecodeSignRequest(expected.dump(2)).value() == request);
  // Absent is no claim, and is not written.
  EXPECT_FALSE(DecodeSignRequest(ValidRequestJson().dump()).value().known_head.has_value());
  EXPECT_EQ(EncodeSignRequest(ValidRequest()).find("known_head"), std::string::npos);
}

TEST(JsonCodecTest, SignRequestEqualityLooksAtEveryPart) {
  const SignRequest request = ValidRequest();
  SignRequest other = request;
  other.request_id[0] ^= 1;
  EXPECT_FALSE(other == request);
  other = request;
  other.psbt = btc::Psbt::ParseBase64(kOtherPsbtBase64).value();
  EXPECT_FALSE(other == request);
  other = request;
  other.intents[1].approvals.push_back(ApprovalOf(request.intents[1].intent));
  EXPECT_FALSE(other == request);
  other = request;
  std::swap(other.intents[0], other.intents[1]);
  EXPECT_FALSE(other == request);
  other = request;
  other.known_head = KnownHeadBytes();
  EXPECT_FALSE(other == request);
}

struct RequestCase {
  std::string name;
  std::function<std::string()> body;
  util::StatusCode code;
  std::string message;
};

// `change` applied to the valid request's JSON.
std::function<std::string()> Changed(std::function<void(json&)> change) {
  return [change] {
    json j = ValidRequestJson();
    change(j);
    return j.dump();
  };
}

// The valid request's compact text with `from` replaced by `to` once.
std::function<std::string()> Replaced(std::string from, std::string to) {
  return [from, to] {
    std::string body = ValidRequestJson().dump();
    const size_t at = body.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return body.replace(at, from.size(), to);
  };
}

std::vector<uint8_t> Unbase64(const json& value) {
  return btc::DecodeBase64(value.get<std::string>()).value();
}

TEST(JsonCodecTest, SignRequestRefusesEachProblemNamingIt) {
  constexpr auto kInvalid = util::StatusCode::kInvalidArgument;
  constexpr auto kDenied = util::StatusCode::kPermissionDenied;
  const std::vector<RequestCase> cases = {
      // Body.
      {"not json", [] { return std::string("{\"version\": 1,"); }, kInvalid,
       "sign request: malformed json at byte"},
      {"empty", [] { return std::string(); }, kInvalid, "sign request: malformed json"},
      {"two values", [] { return ValidRequestJson().dump() + "{}"; }, kInvalid, "malformed json"},
      {"array", [] { return std::string("[1]"); }, kInvalid,
       "sign request: expected a json object, got array"},
      {"byte order mark", [] { return "\xef\xbb\xbf" + ValidRequestJson().dump(); }, kInvalid,
       "byte order mark"},
      {"invalid utf-8", Replaced("\"version\"", "\"v\xffrsion\""), kInvalid, "malformed json"},
      {"comment", Replaced("{", "{/* c */"), kInvalid, "malformed json"},
      {"too deep", Changed([](json& j) { j["x"] = json::parse("[[[[[[[[1]]]]]]]]"); }), kInvalid,
       "nested deeper than 8 levels"},
      {"too large",
       [] { return ValidRequestJson().dump() + std::string(kMaxSignRequestSize, ' '); }, kInvalid,
       "is larger than the limit of 4194304"},
      // Duplicate keys: nlohmann would keep the last value silently.
      {"duplicate version", Replaced("{\"intents\"", "{\"version\":2,\"intents\""), kInvalid,
       "duplicate key 'version'"},
      {"duplicate nested key", Replaced("{\"approvals\":[]", "{\"approvals\":[],\"approvals\":[]"),
       kInvalid, "duplicate key 'approvals'"},
      // Fields.
      {"unknown field", Changed([](json& j) { j["fee"] = 1; }), kInvalid,
       "sign request: unknown field 'fee'"},
      {"unknown field with control bytes", Changed([](json& j) { j["a\x01\\b"] = 1; }), kInvalid,
       "sign request: unknown field 'a\\x01\\x5cb'"},
      {"missing psbt", Changed([](json& j) { j.erase("psbt"); }), kInvalid,
       "sign request: missing field 'psbt'"},
      {"missing version", Changed([](json& j) { j.erase("version"); }), kInvalid,
       "missing field 'version'"},
      {"version 2", Changed([](json& j) { j["version"] = 2; }), kInvalid,
       "sign request: field 'version': unsupported version 2 (expected 1)"},
      {"version string", Changed([](json& j) { j["version"] = "1"; }), kInvalid,
       "field 'version': expected an unsigned integer, got string"},
      {"version 1.0", Replaced("\"version\":1", "\"version\":1.0"), kInvalid,
       "field 'version': expected an unsigned integer, got number with a fraction or exponent"},
      {"version 1e0", Replaced("\"version\":1", "\"version\":1e0"), kInvalid,
       "got number with a fraction or exponent"},
      {"version -1", Changed([](json& j) { j["version"] = -1; }), kInvalid,
       "expected an unsigned integer, got negative integer"},
      {"version 2^64", Replaced("\"version\":1", "\"version\":18446744073709551617"), kInvalid,
       "got number with a fraction or exponent"},
      {"version 1e400", Replaced("\"version\":1", "\"version\":1e400"), kInvalid,
       "malformed json at byte"},
      {"version null", Changed([](json& j) { j["version"] = nullptr; }), kInvalid, "got null"},
      {"request id uppercase",
       Changed([](json& j) { j["request_id"] = "A0A1A2A3A4A5A6A7A8A9AAABACADAEAF"; }), kInvalid,
       "field 'request_id': expected 32 lowercase hex characters"},
      {"request id short", Changed([](json& j) { j["request_id"] = "a0a1"; }), kInvalid,
       "field 'request_id': expected 32 lowercase hex characters"},
      {"request id not hex", Changed([](json& j) { j["request_id"] = std::string(32, 'g'); }),
       kInvalid, "field 'request_id': expected 32 lowercase hex characters"},
      {"request id number", Changed([](json& j) { j["request_id"] = 5; }), kInvalid,
       "field 'request_id': expected a hex string, got unsigned integer"},
      {"psbt with newline", Changed([](json& j) {
         std::string p = j["psbt"];
         j["psbt"] = p.substr(0, 8) + "\n" + p.substr(8);
       }),
       kInvalid, "field 'psbt': base64"},
      {"psbt without padding", Changed([](json& j) {
         std::string p = j["psbt"];
         j["psbt"] = p.substr(0, p.size() - 1);
       }),
       kInvalid, "field 'psbt': base64"},
      {"psbt with non-zero trailing bits", Changed([](json& j) {
         std::string p = j["psbt"];
         p[p.size() - 2] = 'B';  // "AA=" -> "AB=": the last byte's unused bits are set.
         j["psbt"] = p;
       }),
       kInvalid, "field 'psbt': base64"},
      {"psbt not a psbt", Changed([](json& j) { j["psbt"] = "aGVsbG8="; }), kInvalid,
       "sign request: field 'psbt': "},
      {"psbt empty", Changed([](json& j) { j["psbt"] = ""; }), kInvalid,
       "field 'psbt': must be 1.."},
      {"intents not array", Changed([](json& j) { j["intents"] = json::object(); }), kInvalid,
       "field 'intents': expected an array, got object"},
      {"no intents", Changed([](json& j) { j["intents"] = json::array(); }), kInvalid,
       "field 'intents': must have 1..256 items, not 0"},
      {"257 intents", Changed([](json& j) {
         const json one = j["intents"][1];
         j["intents"] = json::array();
         for (int i = 0; i < 257; ++i) j["intents"].push_back(one);
       }),
       kInvalid, "field 'intents': must have 1..256 items, not 257"},
      {"intent item not object", Changed([](json& j) { j["intents"][1] = "x"; }), kInvalid,
       "sign request: intents[1]: expected an object, got string"},
      {"intent item unknown field", Changed([](json& j) { j["intents"][1]["amount"] = 5; }),
       kInvalid, "sign request: intents[1]: unknown field 'amount'"},
      {"intent item missing approvals",
       Changed([](json& j) { j["intents"][1].erase("approvals"); }), kInvalid,
       "sign request: intents[1]: missing field 'approvals'"},
      {"approvals not array", Changed([](json& j) { j["intents"][0]["approvals"] = "x"; }),
       kInvalid, "sign request: intents[0]: field 'approvals': expected an array, got string"},
      {"33 approvals", Changed([](json& j) {
         const json one = j["intents"][0]["approvals"][0];
         for (int i = 0; i < 32; ++i) j["intents"][0]["approvals"].push_back(one);
       }),
       kInvalid, "field 'approvals': must have 0..32 items, not 33"},
      {"approval not string", Changed([](json& j) { j["intents"][0]["approvals"][0] = 7; }),
       kInvalid,
       "sign request: intents[0]: field 'approvals[0]': expected a base64 string, got unsigned"},
      {"intent not canonical cbor", Changed([](json& j) {
         j["intents"][0]["intent"] = B64({0xa2, 0x00});
       }),
       kInvalid, "sign request: intents[0]: field 'intent': signed intent"},
      {"intent is an approval",
       Changed([](json& j) { j["intents"][0]["intent"] = j["intents"][0]["approvals"][0]; }),
       kInvalid, "sign request: intents[0]: field 'intent': "},
      {"approval with a flipped signature byte", Changed([](json& j) {
         std::vector<uint8_t> bytes = Unbase64(j["intents"][0]["approvals"][0]);
         bytes[bytes.size() - 1] ^= 0x01;
         j["intents"][0]["approvals"][0] = B64(bytes);
       }),
       kDenied,
       "sign request: intents[0]: field 'approvals[0]': approval: approver signature: does not "
       "verify"},
      {"intent with a flipped signature byte", Changed([](json& j) {
         std::vector<uint8_t> bytes = Unbase64(j["intents"][1]["intent"]);
         bytes[bytes.size() - 1] ^= 0x01;
         j["intents"][1]["intent"] = B64(bytes);
       }),
       kDenied, "sign request: intents[1]: field 'intent': intent 0202"},
      // The known head: optional, strict base64 of 1..1024 bytes.
      {"known head not a string", Changed([](json& j) { j["known_head"] = 145; }), kInvalid,
       "sign request: field 'known_head': expected a base64 string, got unsigned integer"},
      {"known head null", Changed([](json& j) { j["known_head"] = nullptr; }), kInvalid,
       "field 'known_head': expected a base64 string, got null"},
      {"known head not base64", Changed([](json& j) { j["known_head"] = "!!!!"; }), kInvalid,
       "sign request: field 'known_head': base64"},
      {"known head without padding", Changed([](json& j) {
         const std::string head = B64(KnownHeadBytes());
         j["known_head"] = head.substr(0, head.size() - 1);
       }),
       kInvalid, "field 'known_head': base64"},
      {"known head empty", Changed([](json& j) { j["known_head"] = ""; }), kInvalid,
       "field 'known_head': must be 1.."},
      {"known head too large",
       Changed([](json& j) { j["known_head"] = B64(std::vector<uint8_t>(1025, 1)); }), kInvalid,
       "field 'known_head': must be 1..1024"},
      {"known head repeated",
       Replaced("{\"intents\"", "{\"known_head\":\"AA==\",\"known_head\":\"AA==\",\"intents\""),
       kInvalid, "duplicate key 'known_head'"},
      {"unknown field beside a known head", Changed([](json& j) {
         j["known_head"] = B64(KnownHeadBytes());
         j["head"] = B64(KnownHeadBytes());
       }),
       kInvalid, "sign request: unknown field 'head'"},
  };
  // The valid request itself is accepted, so each case fails for its one change.
  ASSERT_TRUE(DecodeSignRequest(ValidRequestJson().dump()).ok());
  for (const RequestCase& c : cases) {
    util::Result<SignRequest> decoded = DecodeSignRequest(c.body());
    ASSERT_FALSE(decoded.ok()) << c.name;
    ExpectError(decoded.status(), c.code, c.message, c.name);
  }
}

TEST(JsonCodecTest, SignRequestAtTheLimitsIsAccepted) {
  json j = ValidRequestJson();
  const json one = j["intents"][0];
  j["intents"] = json::array();
  for (size_t i = 0; i < kMaxSignRequestIntents; ++i) j["intents"].push_back(one);
  const json approval = one["approvals"][0];
  for (size_t i = 1; i < kMaxApprovalsPerIntent; ++i)
    j["intents"][0]["approvals"].push_back(approval);
  util::Result<SignRequest> decoded = DecodeSignRequest(j.dump());
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->intents.size(), kMaxSignRequestIntents);
  EXPECT_EQ(decoded->intents[0].approvals.size(), kMaxApprovalsPerIntent);

  // Padding with whitespace up to exactly the limit is accepted; one more byte is not.
  std::string body = ValidRequestJson().dump();
  body.append(kMaxSignRequestSize - body.size(), ' ');
  EXPECT_TRUE(DecodeSignRequest(body).ok());
  body.push_back(' ');
  EXPECT_FALSE(DecodeSignRequest(body).ok());
}

// The May 2024 theft at the wire level: the destination and amount of a requester-signed intent
// are changed in transit and the original signature is kept. The signer's decoder refuses the
// request with kPermissionDenied (HTTP 403) naming the requester signature.
TEST(JsonCodecTest, Attack2024AlteredIntentIsRefusedNamingTheRequesterSignature) {
  const policy::SignedIntent original = SignedIntentFor(0x01);
  policy::IntentFields altered_fields = original.intent().fields();
  altered_fields.outputs[0] = {"bc1qhxt04s5xnpy0kxw4x99n5hpdf5pmtzpqs52es2", Sats(450290000000)};
  const policy::Intent altered = policy::Intent::Create(altered_fields).value();
  // map {0: altered intent, 1: the requester's original signature}.
  policy::CborWriter head;
  head.MapHeader(2);
  head.Uint(0);
  std::vector<uint8_t> bytes = head.bytes();
  bytes.insert(bytes.end(), altered.Encode().begin(), altered.Encode().end());
  policy::CborWriter tail;
  tail.Uint(1);
  policy::EncodeSignature(original.signature(), tail);
  bytes.insert(bytes.end(), tail.bytes().begin(), tail.bytes().end());

  json j = ValidRequestJson();
  j["intents"][0]["intent"] = B64(bytes);
  util::Result<SignRequest> decoded = DecodeSignRequest(j.dump());
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().code(), util::StatusCode::kPermissionDenied);
  EXPECT_EQ(decoded.status().message(), "sign request: intents[0]: field 'intent': intent " +
                                            util::HexEncode(altered_fields.id) +
                                            ": requester signature: does not verify over digest " +
                                            util::HexEncode(altered.digest()));
  EXPECT_EQ(HttpStatusFor(decoded.status().code()), 403);
  const ErrorBody error = ErrorBodyFor(decoded.status());
  EXPECT_EQ(error.code, "permission_denied");
}

SignResponse SignedResponse() {
  SignResponse response;
  response.request_id = ValidRequest().request_id;
  SignedResult result;
  result.psbt = btc::Psbt::ParseBase64(kOtherPsbtBase64).value();
  result.intents = {
      IntentSummary{
          .intent_id = {0x01}, .rule = "customer withdrawals", .approvers = {"bob", "carol"}},
      IntentSummary{.intent_id = {0x02}, .rule = "small", .approvers = {}}};
  result.audit.index = 41;
  result.audit.head.tree_size = 42;
  result.audit.head.root_hash.fill(0x42);
  result.audit.head.signed_tree_head = {'c', 'p'};
  response.result = result;
  return response;
}

SignResponse RefusedResponse() {
  SignResponse response;
  response.request_id = ValidRequest().request_id;
  response.result = RefusedResult{.code = "approvals_missing",
                                  .intent_index = 0,
                                  .rule = "to cold storage",
                                  .limit = "",
                                  .detail = "needs 2 of treasury (have 1: bob)",
                                  .audit = std::nullopt};
  return response;
}

TEST(JsonCodecTest, SignResponseRoundTrips) {
  // A refusal that was logged and names no intent.
  SignResponse refused_logged = RefusedResponse();
  RefusedResult& refusal = std::get<RefusedResult>(refused_logged.result);
  refusal.audit = std::get<SignedResult>(SignedResponse().result).audit;
  refusal.intent_index.reset();
  for (const SignResponse& response : {SignedResponse(), RefusedResponse(), refused_logged}) {
    const std::string body = EncodeSignResponse(response);
    util::Result<SignResponse> decoded = DecodeSignResponse(body);
    ASSERT_TRUE(decoded.ok()) << decoded.status() << "\n" << body;
    EXPECT_EQ(*decoded, response) << body;
  }
  // The shape, written independently.
  const json signed_json = json::parse(EncodeSignResponse(SignedResponse()));
  EXPECT_EQ(signed_json, (json{{"version", 1},
                               {"request_id", "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf"},
                               {"result", "signed"},
                               {"psbt", std::string(kOtherPsbtBase64)},
                               {"intents",
                                {{{"intent_id", "01000000000000000000000000000000"},
                                  {"rule", "customer withdrawals"},
                                  {"approvers", {"bob", "carol"}}},
                                 {{"intent_id", "02000000000000000000000000000000"},
                                  {"rule", "small"},
                                  {"approvers", json::array()}}}},
                               {"audit",
                                {{"index", 41},
                                 {"head",
                                  {{"tree_size", 42},
                                   {"root_hash", Repeat("42", 32)},
                                   {"signed_tree_head", "Y3A="}}}}}}));
  const json refused_json = json::parse(EncodeSignResponse(RefusedResponse()));
  EXPECT_EQ(refused_json, (json{{"version", 1},
                                {"request_id", "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf"},
                                {"result", "refused"},
                                {"code", "approvals_missing"},
                                {"intent_index", 0},
                                {"rule", "to cold storage"},
                                {"limit", ""},
                                {"detail", "needs 2 of treasury (have 1: bob)"}}));
}

TEST(JsonCodecTest, SignResponseRefusesEachProblem) {
  const json signed_json = json::parse(EncodeSignResponse(SignedResponse()));
  const json refused_json = json::parse(EncodeSignResponse(RefusedResponse()));
  ASSERT_TRUE(DecodeSignResponse(signed_json.dump()).ok());
  ASSERT_TRUE(DecodeSignResponse(refused_json.dump()).ok());
  struct Case {
    std::string name;
    json base;
    std::function<void(json&)> change;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"unknown result", refused_json, [](json& j) { j["result"] = "maybe"; },
       "field 'result': expected \"signed\" or \"refused\""},
      {"refusal fields in a signed response", signed_json, [](json& j) { j["code"] = "x"; },
       "sign response: unknown field 'code'"},
      {"psbt in a refusal", refused_json, [](json& j) { j["psbt"] = kPsbtBase64; },
       "sign response: unknown field 'psbt'"},
      {"code not snake case", refused_json, [](json& j) { j["code"] = "Rule-Denies"; },
       "field 'code': expected 1..64 characters of [a-z0-9_]"},
      {"empty code", refused_json, [](json& j) { j["code"] = ""; }, "field 'code'"},
      {"detail with escape sequence", refused_json, [](json& j) { j["detail"] = "ok\x1b[2Jfake"; },
       "field 'detail': contains control"},
      {"detail too long", refused_json,
       [](json& j) { j["detail"] = std::string(kMaxDetailSize + 1, 'x'); },
       "field 'detail': must be 0..4096 bytes"},
      {"intent index too large", refused_json, [](json& j) { j["intent_index"] = 256; },
       "field 'intent_index': must be below 256"},
      {"audit index at tree size", signed_json, [](json& j) { j["audit"]["index"] = 42; },
       "sign response: audit: index 42 is not below the tree size 42"},
      {"audit head unknown field", signed_json, [](json& j) { j["audit"]["head"]["x"] = 1; },
       "sign response: audit.head: unknown field 'x'"},
      {"root hash short", signed_json, [](json& j) { j["audit"]["head"]["root_hash"] = "42"; },
       "field 'root_hash': expected 64 lowercase hex characters"},
      {"no intents", signed_json, [](json& j) { j["intents"] = json::array(); },
       "field 'intents': must have 1..256 items"},
      {"empty rule", signed_json, [](json& j) { j["intents"][0]["rule"] = ""; },
       "sign response: intents[0]: field 'rule': must be 1..256 bytes"},
      {"approver not text", signed_json, [](json& j) { j["intents"][0]["approvers"][1] = 1; },
       "sign response: intents[0]: field 'approvers[1]': expected a string"},
      {"version 0", signed_json, [](json& j) { j["version"] = 0; }, "unsupported version 0"},
  };
  for (const Case& c : cases) {
    json j = c.base;
    c.change(j);
    util::Result<SignResponse> decoded = DecodeSignResponse(j.dump());
    ASSERT_FALSE(decoded.ok()) << c.name;
    ExpectError(decoded.status(), util::StatusCode::kInvalidArgument, c.message, c.name);
  }
}

policy::SignedPolicy ValidSignedPolicy() {
  const crypto::Ed25519PrivateKey admin = KeyFromFill(0x51);
  policy::PolicyFields f;
  f.network = btc::Network::kMainnet;
  f.sequence = 2;
  f.keys = {{"admin-1", policy::Ed25519KeyId(admin.public_key())}};
  f.governance = {.admins = {"admin-1"}, .threshold = 1};
  policy::Rule deny;
  deny.name = "nothing";
  deny.action = policy::RuleAction::kDeny;
  f.rules = {deny};
  return policy::SignedPolicy::Unsigned(policy::Policy::Create(f).value())
      .AddSignature(admin)
      .value();
}

SignedFreeze ValidSignedFreeze() {
  FreezeFields f;
  f.reason = "unexplained spend";
  f.time = 1767225600;
  f.nonce.fill(0x0f);
  return SignedFreeze::Sign(Freeze::Create(f).value(), KeyFromFill(0x61));
}

SignedUnfreeze ValidSignedUnfreeze() {
  UnfreezeFields f;
  f.reason = "explained";
  f.time = 1767229200;
  f.nonce.fill(0x0e);
  f.freeze_digest = ValidSignedFreeze().freeze().digest();
  return SignedUnfreeze::Sign(Unfreeze::Create(f).value(), KeyFromFill(0x51))
      .AddSignature(KeyFromFill(0x52))
      .value();
}

TEST(JsonCodecTest, PolicyFreezeAndUnfreezeRequestsRoundTrip) {
  const PolicyUpdateRequest policy_request{.signed_policy = ValidSignedPolicy()};
  const std::string policy_body = EncodePolicyUpdateRequest(policy_request);
  EXPECT_EQ(json::parse(policy_body),
            (json{{"version", 1}, {"signed_policy", B64(ValidSignedPolicy().Encode())}}));
  EXPECT_EQ(DecodePolicyUpdateRequest(policy_body).value(), policy_request);

  const FreezeRequest freeze_request{.freeze = ValidSignedFreeze()};
  const std::string freeze_body = EncodeFreezeRequest(freeze_request);
  EXPECT_EQ(json::parse(freeze_body),
            (json{{"version", 1}, {"signed_freeze", B64(ValidSignedFreeze().Encode())}}));
  EXPECT_EQ(DecodeFreezeRequest(freeze_body).value(), freeze_request);

  const UnfreezeRequest unfreeze_request{.unfreeze = ValidSignedUnfreeze()};
  const std::string unfreeze_body = EncodeUnfreezeRequest(unfreeze_request);
  EXPECT_EQ(json::parse(unfreeze_body),
            (json{{"version", 1}, {"signed_unfreeze", B64(ValidSignedUnfreeze().Encode())}}));
  EXPECT_EQ(DecodeUnfreezeRequest(unfreeze_body).value(), unfreeze_request);
}

std::vector<uint8_t> FlipLast(std::vector<uint8_t> bytes) {
  bytes.back() ^= 0x01;
  return bytes;
}

TEST(JsonCodecTest, PolicyFreezeAndUnfreezeRequestsRefuseEachProblem) {
  struct Case {
    std::string name;
    std::function<util::Status(const std::string&)> decode;
    std::string body;
    util::StatusCode code;
    std::string message;
  };
  const auto policy = [](const std::string& b) { return DecodePolicyUpdateRequest(b).status(); };
  const auto freeze = [](const std::string& b) { return DecodeFreezeRequest(b).status(); };
  const auto unfreeze = [](const std::string& b) { return DecodeUnfreezeRequest(b).status(); };
  const std::string freeze_b64 = B64(ValidSignedFreeze().Encode());
  const std::vector<Case> cases = {
      {"freeze unknown field", freeze,
       json{{"version", 1}, {"signed_freeze", freeze_b64}, {"force", true}}.dump(),
       util::StatusCode::kInvalidArgument, "freeze request: unknown field 'force'"},
      {"freeze version 2", freeze, json{{"version", 2}, {"signed_freeze", freeze_b64}}.dump(),
       util::StatusCode::kInvalidArgument, "freeze request: field 'version': unsupported"},
      {"freeze missing", freeze, json{{"version", 1}}.dump(), util::StatusCode::kInvalidArgument,
       "freeze request: missing field 'signed_freeze'"},
      {"freeze duplicate key", freeze,
       "{\"version\":1,\"signed_freeze\":\"" + freeze_b64 + "\",\"signed_freeze\":\"" + freeze_b64 +
           "\"}",
       util::StatusCode::kInvalidArgument, "duplicate key 'signed_freeze'"},
      {"freeze bad signature", freeze,
       json{{"version", 1}, {"signed_freeze", B64(FlipLast(ValidSignedFreeze().Encode()))}}.dump(),
       util::StatusCode::kPermissionDenied,
       "freeze request: field 'signed_freeze': freeze signature: does not verify"},
      {"freeze too large", freeze,
       json{{"version", 1}, {"signed_freeze", freeze_b64}}.dump() +
           std::string(kMaxFreezeRequestSize, ' '),
       util::StatusCode::kInvalidArgument, "larger than the limit of 65536"},
      {"unfreeze given a freeze", unfreeze,
       json{{"version", 1}, {"signed_unfreeze", freeze_b64}}.dump(),
       util::StatusCode::kInvalidArgument, "unfreeze request: field 'signed_unfreeze': "},
      {"unfreeze bad signature", unfreeze,
       json{{"version", 1}, {"signed_unfreeze", B64(FlipLast(ValidSignedUnfreeze().Encode()))}}
           .dump(),
       util::StatusCode::kPermissionDenied, "unfreeze signer 1 signature: does not verify"},
      {"policy bad signature", policy,
       json{{"version", 1}, {"signed_policy", B64(FlipLast(ValidSignedPolicy().Encode()))}}.dump(),
       util::StatusCode::kPermissionDenied, "policy update request: field 'signed_policy': "},
      {"policy not base64", policy, json{{"version", 1}, {"signed_policy", "!!!!"}}.dump(),
       util::StatusCode::kInvalidArgument, "field 'signed_policy': base64"},
      {"policy not an object", policy, "\"policy\"", util::StatusCode::kInvalidArgument,
       "policy update request: expected a json object, got string"},
  };
  for (const Case& c : cases) {
    const util::Status status = c.decode(c.body);
    ASSERT_FALSE(status.ok()) << c.name;
    ExpectError(status, c.code, c.message, c.name);
  }
}

StatusResponse ValidStatus() {
  StatusResponse status;
  status.signer.fill(0x5a);
  status.wallet = "treasury-hot";
  status.policy = {.sequence = 7, .digest = PolicyDigest()};
  status.audit.tree_size = 1000;
  status.audit.root_hash.fill(0x33);
  return status;
}

TEST(JsonCodecTest, StatusResponseRoundTripsAndKeepsFrozenConsistent) {
  StatusResponse frozen = ValidStatus();
  frozen.freeze = ValidSignedFreeze().freeze().digest();
  frozen.pending_policy = PendingPolicy{.sequence = 8, .digest = {}, .activates_at = 1767312000};
  for (const StatusResponse& status : {ValidStatus(), frozen}) {
    const std::string body = EncodeStatusResponse(status);
    util::Result<StatusResponse> decoded = DecodeStatusResponse(body);
    ASSERT_TRUE(decoded.ok()) << decoded.status() << "\n" << body;
    EXPECT_EQ(*decoded, status);
    EXPECT_EQ(json::parse(body)["frozen"].get<bool>(), status.frozen());
  }
  const json valid = json::parse(EncodeStatusResponse(ValidStatus()));
  struct Case {
    std::string name;
    std::function<void(json&)> change;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"frozen without freeze", [](json& j) { j["frozen"] = true; }, "missing field 'freeze'"},
      {"freeze while not frozen", [](json& j) { j["freeze"] = std::string(64, 'a'); },
       "field 'freeze': present while not frozen"},
      {"frozen not boolean", [](json& j) { j["frozen"] = 0; },
       "field 'frozen': expected a boolean, got unsigned integer"},
      {"wallet invalid", [](json& j) { j["wallet"] = "hot wallet"; }, "field 'wallet'"},
      {"policy unknown field", [](json& j) { j["policy"]["x"] = 1; },
       "status response: policy: unknown field 'x'"},
      {"pending policy not object", [](json& j) { j["pending_policy"] = 1; },
       "field 'pending_policy': expected an object"},
      {"signed tree head too large",
       [](json& j) {
         j["audit"]["signed_tree_head"] =
             btc::EncodeBase64(std::vector<uint8_t>(kMaxSignedTreeHeadSize + 1));
       },
       "field 'signed_tree_head': must be 0..1024 bytes"},
  };
  for (const Case& c : cases) {
    json j = valid;
    c.change(j);
    util::Result<StatusResponse> decoded = DecodeStatusResponse(j.dump());
    ASSERT_FALSE(decoded.ok()) << c.name;
    ExpectError(decoded.status(), util::StatusCode::kInvalidArgument, c.message, c.name);
  }
}

TEST(JsonCodecTest, ErrorBodiesAreSafeToShow) {
  const ErrorBody error =
      ErrorBodyFor(util::InvalidArgumentError("sign request: unknown field 'a\x1b[2J\xff\\'"));
  EXPECT_EQ(error.code, "invalid_argument");
  EXPECT_EQ(error.message, "sign request: unknown field 'a\\x1b[2J\\xff\\x5c'");
  const std::string body = EncodeErrorBody(error);
  EXPECT_EQ(json::parse(body),
            (json{{"error",
                   {{"code", "invalid_argument"},
                    {"message", "sign request: unknown field 'a\\x1b[2J\\xff\\x5c'"}}}}));
  EXPECT_EQ(DecodeErrorBody(body).value(), error);
  // Long messages are cut.
  const ErrorBody long_error =
      ErrorBodyFor(util::InternalError(std::string(2 * kMaxErrorMessageSize, 'x')));
  EXPECT_LE(long_error.message.size(), kMaxErrorMessageSize);
  EXPECT_TRUE(DecodeErrorBody(EncodeErrorBody(long_error)).ok());
  // Decoding refuses what is not safe to show.
  EXPECT_FALSE(DecodeErrorBody(R"({"error":{"code":"internal","message":"a\u202eb"}})").ok());
  EXPECT_FALSE(DecodeErrorBody(R"({"error":{"code":"Internal","message":""}})").ok());
  EXPECT_FALSE(DecodeErrorBody(R"({"error":{"code":"internal","message":"","x":1}})").ok());
}

TEST(JsonCodecTest, HttpStatusOfEachCode) {
  struct Case {
    util::StatusCode code;
    int http;
    std::string_view name;
  };
  const std::vector<Case> cases = {
      {util::StatusCode::kInvalidArgument, 400, "invalid_argument"},
      {util::StatusCode::kPermissionDenied, 403, "permission_denied"},
      {util::StatusCode::kNotFound, 404, "not_found"},
      {util::StatusCode::kAlreadyExists, 409, "already_exists"},
      {util::StatusCode::kFailedPrecondition, 409, "failed_precondition"},
      {util::StatusCode::kUnavailable, 503, "unavailable"},
      {util::StatusCode::kAborted, 503, "aborted"},
      {util::StatusCode::kDataLoss, 500, "data_loss"},
      {util::StatusCode::kInternal, 500, "internal"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(HttpStatusFor(c.code), c.http) << c.name;
    EXPECT_EQ(ErrorCodeName(c.code), c.name);
  }
  EXPECT_EQ(HttpStatusForRefusal("frozen"), 423);
  EXPECT_EQ(HttpStatusForRefusal("intent_replayed"), 409);
  EXPECT_EQ(HttpStatusForRefusal("state_rolled_back"), 409);
  EXPECT_EQ(HttpStatusForRefusal("rule_denies"), 403);
  EXPECT_EQ(HttpStatusForRefusal("window_limit"), 403);
}

// The committed seeds that the documentation quotes still decode (regenerate them with
// DISABLED_WriteFuzzSeeds when a format changes).
TEST(JsonCodecTest, CommittedSeedsDecode) {
  const std::filesystem::path root =
      std::filesystem::path(KINKO_VECTORS_DIR) / ".." / ".." / "fuzz" / "corpus";
  const auto read = [&](const std::string& path) {
    std::ifstream in(root / path, std::ios::binary);
    EXPECT_TRUE(in.good()) << path;
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  };
  for (const std::string name :
       {"two_intents.json", "one_intent.json", "pretty.json", "known_head.json"}) {
    EXPECT_TRUE(DecodeSignRequest(read("sign_request_fuzz/" + name)).ok()) << name;
  }
  EXPECT_TRUE(DecodeSignResponse(read("sign_request_fuzz/signed_response.json")).ok());
  EXPECT_TRUE(DecodeSignResponse(read("sign_request_fuzz/refused_response.json")).ok());
  EXPECT_TRUE(DecodeStatusResponse(read("sign_request_fuzz/status.json")).ok());
  EXPECT_TRUE(DecodeErrorBody(read("sign_request_fuzz/error.json")).ok());
  EXPECT_TRUE(DecodeFreezeRequest(read("freeze_fuzz/freeze_request.json")).ok());
  EXPECT_TRUE(DecodeUnfreezeRequest(read("freeze_fuzz/unfreeze_request.json")).ok());
  EXPECT_TRUE(DecodePolicyUpdateRequest(read("freeze_fuzz/policy_request.json")).ok());
  EXPECT_FALSE(DecodeSignRequest(read("sign_request_fuzz/duplicate_key.json")).ok());
}

// Writes the seed corpora of the fuzz targets (run by hand with
// --gtest_also_run_disabled_tests --gtest_filter='*WriteFuzzSeeds').
TEST(JsonCodecTest, DISABLED_WriteFuzzSeeds) {
  const std::filesystem::path root =
      std::filesystem::path(KINKO_VECTORS_DIR) / ".." / ".." / "fuzz" / "corpus";
  const auto write = [&](const std::string& target, const std::string& name,
                         const std::string& bytes) {
    std::filesystem::create_directories(root / target);
    std::ofstream out(root / target / name, std::ios::binary);
    out << bytes;
    ASSERT_TRUE(out.good()) << name;
  };
  const auto text = [](const std::vector<uint8_t>& bytes) {
    return std::string(bytes.begin(), bytes.end());
  };
  SignRequest one = ValidRequest();
  one.intents.pop_back();
  write("sign_request_fuzz", "two_intents.json", EncodeSignRequest(ValidRequest()));
  write("sign_request_fuzz", "one_intent.json", EncodeSignRequest(one));
  write("sign_request_fuzz", "pretty.json", ValidRequestJson().dump(2));
  SignRequest with_head = one;
  with_head.known_head = KnownHeadBytes();
  write("sign_request_fuzz", "known_head.json", EncodeSignRequest(with_head));
  write("sign_request_fuzz", "duplicate_key.json",
        "{\"version\":1,\"version\":1,\"request_id\":\"a0a1a2a3a4a5a6a7a8a9aaabacadaeaf\"}");
  write("sign_request_fuzz", "unknown_field.json", "{\"version\":1,\"fee\":1}");
  write("sign_request_fuzz", "signed_response.json", EncodeSignResponse(SignedResponse()));
  write("sign_request_fuzz", "refused_response.json", EncodeSignResponse(RefusedResponse()));
  StatusResponse frozen = ValidStatus();
  frozen.freeze = ValidSignedFreeze().freeze().digest();
  write("sign_request_fuzz", "status.json", EncodeStatusResponse(frozen));
  write("sign_request_fuzz", "error.json",
        EncodeErrorBody(ErrorBodyFor(util::InvalidArgumentError("sign request: x"))));
  write("freeze_fuzz", "policy_request.json",
        EncodePolicyUpdateRequest(PolicyUpdateRequest{.signed_policy = ValidSignedPolicy()}));
  write("freeze_fuzz", "signed_freeze", text(ValidSignedFreeze().Encode()));
  write("freeze_fuzz", "signed_unfreeze", text(ValidSignedUnfreeze().Encode()));
  write("freeze_fuzz", "freeze", text(ValidSignedFreeze().freeze().Encode()));
  write("freeze_fuzz", "unfreeze", text(ValidSignedUnfreeze().unfreeze().Encode()));
  write("freeze_fuzz", "freeze_request.json",
        EncodeFreezeRequest(FreezeRequest{.freeze = ValidSignedFreeze()}));
  write("freeze_fuzz", "unfreeze_request.json",
        EncodeUnfreezeRequest(UnfreezeRequest{.unfreeze = ValidSignedUnfreeze()}));
}

}  // namespace
}  // namespace kinko::signerapi
