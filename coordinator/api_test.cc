// Tests of kinkod's HTTP handler: routing, authentication, strict request bodies, error mapping,
// the request log and the metrics. The Coordinator, Store and ChainBackend here are small fakes
// written for this test (the real Coordinator is exercised end to end by test/cli/kinkod_test.js
// and the integration tests): the handler's job is the mapping, which these fakes let every test
// control exactly.
#include "coordinator/api.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "coordinator/api_auth.h"
#include "test/support/signer_fixture.h"
#include "util/hex.h"

namespace kinko::coordinator {
namespace {

using Json = nlohmann::json;
using testing::kFixtureNow;
using testing::kFixtureWalletId;

util::Status Unused() { return util::InternalError("not used by this test"); }

// A Store whose only working call is CountIntents (for /healthz and /metrics).
class FakeStore final : public storage::Store {
 public:
  bool down = false;

  util::Result<bool> InsertIntent(const storage::IntentRecord&) override { return Unused(); }
  util::Result<storage::IntentRecord> GetIntent(const storage::IntentId&) override {
    return Unused();
  }
  util::Result<std::vector<storage::IntentRecord>> ListIntents(
      const storage::IntentFilter&) override {
    return Unused();
  }
  util::Status UpdateIntentState(const storage::IntentId&, storage::IntentState,
                                 storage::IntentState, std::string_view, uint64_t) override {
    return Unused();
  }
  util::Result<std::vector<std::pair<storage::IntentState, uint64_t>>> CountIntents() override {
    if (down) return util::UnavailableError("database down");
    return std::vector<std::pair<storage::IntentState, uint64_t>>{
        {storage::IntentState::kReceived, 0}, {storage::IntentState::kAwaitingApprovals, 3}};
  }
  util::Result<bool> InsertApproval(const storage::ApprovalRecord&) override { return Unused(); }
  util::Result<std::vector<storage::ApprovalRecord>> ListApprovals(
      const storage::IntentId&) override {
    return Unused();
  }
  util::Status AddUtxos(std::span<const storage::Utxo>) override { return Unused(); }
  util::Status RetainUtxos(std::string_view, std::span<const btc::Outpoint>) override {
    return Unused();
  }
  util::Result<std::vector<storage::Utxo>> ListUtxos(std::string_view,
                                                     std::optional<storage::UtxoState>) override {
    return Unused();
  }
  util::Status PutTransaction(const btc::Txid&, std::span<const uint8_t>) override {
    return Unused();
  }
  util::Result<std::vector<uint8_t>> GetTransaction(const btc::Txid&) override { return Unused(); }
  util::Result<storage::BatchRecord> CreateBatch(const storage::NewBatch&) override {
    return Unused();
  }
  util::Result<storage::BatchRecord> GetBatch(int64_t) override { return Unused(); }
  util::Result<std::vector<storage::BatchRecord>> ListBatches(
      const storage::BatchFilter&) override {
    return Unused();
  }
  util::Result<storage::BatchRecord> UpdateBatch(const storage::BatchUpdate&) override {
    return Unused();
  }
  util::Result<storage::BatchRecord> ClaimBatch(int64_t, std::string_view, uint64_t,
                                                uint64_t) override {
    return Unused();
  }
  util::Status PutSignerHead(const storage::SignerHead&) override { return Unused(); }
  util::Result<std::optional<storage::SignerHead>> GetSignerHead(const storage::KeyId&) override {
    return Unused();
  }
};

class FakeChain final : public ChainBackend {
 public:
  bool down = false;
  std::string_view name() const override { return "offline"; }
  util::Status Watch(const ChainWallet&) override { return util::OkStatus(); }
  util::Result<std::vector<ChainUtxo>> ListUnspent(const ChainWallet&, uint32_t) override {
    return Unused();
  }
  util::Result<std::vector<uint8_t>> GetRawTransaction(const btc::Txid&) override {
    return Unused();
  }
  util::Result<uint64_t> EstimateFeeRate(uint32_t) override {
    if (down) return util::UnavailableError("node down");
    return util::NotFoundError("no estimate");
  }
  util::Status TestAccept(std::span<const uint8_t>) override { return util::OkStatus(); }
  util::Result<btc::Txid> Broadcast(std::span<const uint8_t>) override { return Unused(); }
  util::Result<TxStatus> GetTxStatus(const ChainWallet&, const btc::Txid&) override {
    return Unused();
  }
};

// A Coordinator that stores decoded intents in memory, records what it was called with, and
// fails with `fail` when set.
class FakeCoordinator final : public Coordinator {
 public:
  std::optional<util::Status> fail;
  storage::IntentState state_after_submit = storage::IntentState::kAwaitingApprovals;
  std::map<storage::IntentId, IntentView> intents;
  std::vector<storage::Utxo> utxos;
  std::map<int64_t, storage::BatchRecord> batches;
  ExecuteResult execute_result;
  std::optional<storage::IntentFilter> last_filter;
  std::vector<storage::IntentId> last_execute;
  std::vector<uint8_t> last_import;

  util::Result<std::pair<IntentView, bool>> SubmitIntent(
      std::span<const uint8_t> signed_intent) override {
    if (fail) return *fail;
    util::Result<policy::SignedIntent> decoded = policy::SignedIntent::Decode(signed_intent);
    if (!decoded.ok()) return decoded.status();
    const policy::IntentFields& f = decoded->intent().fields();
    if (const auto it = intents.find(f.id); it != intents.end()) {
      return std::make_pair(it->second, false);
    }
    IntentView view;
    view.record.id = f.id;
    view.record.wallet = f.wallet;
    view.record.state = state_after_submit;
    view.record.signed_intent.assign(signed_intent.begin(), signed_intent.end());
    for (const policy::IntentOutput& output : f.outputs) {
      view.record.outputs.push_back({output.address, output.amount.sats()});
    }
    view.record.requester = f.requester;
    view.record.created_at = f.created;
    view.record.expires_at = f.expires;
    view.record.received_at = kFixtureNow;
    view.record.updated_at = kFixtureNow;
    view.record.detail =
        R"({"rule":"to the address book","missing":[{"group":"treasury","needed":2,"have":0}]})";
    view.record.revision = 1;
    intents[f.id] = view;
    return std::make_pair(view, true);
  }

  util::Result<IntentView> SubmitApproval(const storage::IntentId& id,
                                          std::span<const uint8_t> signed_approval) override {
    if (fail) return *fail;
    const auto it = intents.find(id);
    if (it == intents.end()) return util::NotFoundError("intent not found");
    util::Result<policy::SignedApproval> decoded = policy::SignedApproval::Decode(signed_approval);
    if (!decoded.ok()) return decoded.status();
    const policy::KeyId approver = decoded->approval().fields().approver;
    for (const storage::ApprovalRecord& seen : it->second.approvals) {
      if (seen.approver == approver) return it->second;
    }
    it->second.approvals.push_back(storage::ApprovalRecord{
        .intent_id = id,
        .approver = approver,
        .signed_approval = std::vector<uint8_t>(signed_approval.begin(), signed_approval.end()),
        .received_at = kFixtureNow});
    return it->second;
  }

  util::Result<IntentView> GetIntent(const storage::IntentId& id) override {
    if (fail) return *fail;
    const auto it = intents.find(id);
    if (it == intents.end()) return util::NotFoundError("intent not found");
    return it->second;
  }

  util::Result<std::vector<storage::IntentRecord>> ListIntents(
      const storage::IntentFilter& filter) override {
    if (fail) return *fail;
    last_filter = filter;
    std::vector<storage::IntentRecord> out;
    for (const auto& [id, view] : intents) {
      if (out.size() == filter.limit) break;
      out.push_back(view.record);
    }
    return out;
  }

  util::Result<std::vector<storage::Utxo>> Utxos(std::string_view) override {
    if (fail) return *fail;
    return utxos;
  }

  util::Result<std::vector<storage::Utxo>> ImportTransaction(
      std::string_view, std::span<const uint8_t> raw_tx) override {
    if (fail) return *fail;
    last_import.assign(raw_tx.begin(), raw_tx.end());
    return utxos;
  }

  util::Result<ExecuteResult> Execute(std::string_view,
                                      std::span<const storage::IntentId> ids) override {
    if (fail) return *fail;
    last_execute.assign(ids.begin(), ids.end());
    return execute_result;
  }

  util::Status Resume() override { return util::OkStatus(); }

  util::Result<storage::BatchRecord> GetBatch(int64_t id) override {
    if (fail) return *fail;
    const auto it = batches.find(id);
    if (it == batches.end()) return util::NotFoundError("batch not found");
    return it->second;
  }
};

class ApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    policy_path_ = ::testing::TempDir() + "/kinkod-api-test-" +
                   std::to_string(reinterpret_cast<uintptr_t>(this)) + ".policy";
    {
      const std::vector<uint8_t> bytes = testing::MakePolicy(actors_).Encode();
      std::ofstream out(policy_path_, std::ios::binary);
      out.write(reinterpret_cast<const char*>(bytes.data()),
                static_cast<std::streamsize>(bytes.size()));
    }
    config_.wallets.push_back(WalletSettings{
        .id = kFixtureWalletId,
        .network = testing::kFixtureNetwork,
        .descriptor = "wsh(multi(2,...))",
        .policy_file = policy_path_,
        .threshold = 1,
        .signers = {SignerEndpoint{.url = "http://127.0.0.1:7443", .id = {}, .ca_cert = ""}}});
    config_.clients.push_back(client_.public_key());
    config_.operators.push_back(operator_.public_key());
    util::Result<std::unique_ptr<ApiHandler>> handler =
        ApiHandler::Create(coordinator_, store_, chain_, config_,
                           ApiOptions{.clock = [] { return kFixtureNow; },
                                      .log =
                                          [this](const std::string& line) {
                                            std::lock_guard<std::mutex> lock(log_mutex_);
                                            log_.push_back(line);
                                          }});
    ASSERT_TRUE(handler.ok()) << handler.status();
    handler_ = std::move(*handler);
  }

  void TearDown() override { std::remove(policy_path_.c_str()); }

  // A request for `target` ("/path?query"), signed by `key` when given.
  static net::HttpRequest Request(std::string method, const std::string& target, std::string body,
                                  const crypto::Ed25519PrivateKey* key,
                                  uint64_t time = kFixtureNow) {
    net::HttpRequest request;
    request.method = std::move(method);
    request.target = target;
    const size_t question = target.find('?');
    request.path = target.substr(0, question);
    if (question != std::string::npos) {
      std::string_view rest = std::string_view(target).substr(question + 1);
      while (!rest.empty()) {
        const size_t amp = rest.find('&');
        const std::string_view pair = rest.substr(0, amp);
        const size_t equals = pair.find('=');
        request.query[std::string(pair.substr(0, equals))] =
            equals == std::string_view::npos ? "" : std::string(pair.substr(equals + 1));
        if (amp == std::string_view::npos) break;
        rest.remove_prefix(amp + 1);
      }
    }
    request.content_type = "application/json";
    request.body = std::move(body);
    if (key != nullptr) {
      request.headers["authorization"] =
          AuthorizationHeader(*key, request.method, target, time, request.body);
    }
    return request;
  }

  net::HttpReply Call(const std::string& method, const std::string& target,
                      const std::string& body = "") {
    return handler_->Handle(Request(method, target, body, &requester()));
  }

  const crypto::Ed25519PrivateKey& requester() const { return actors_.requester; }

  static Json Body(const net::HttpReply& reply) {
    Json parsed = Json::parse(reply.body, nullptr, false);
    EXPECT_FALSE(parsed.is_discarded()) << reply.body;
    return parsed;
  }

  static std::string ErrorCode(const net::HttpReply& reply) {
    const Json body = Body(reply);
    if (!body.contains("error")) return "";
    return body["error"]["code"].get<std::string>();
  }

  std::string IntentBody(uint64_t seed = 1) const {
    const policy::SignedIntent intent =
        testing::MakeIntent(actors_, {{testing::ForeignAddress(1), 50'000}}, kFixtureNow,
                            testing::IntentOptions{.id_seed = seed});
    return Json{{"signed_intent", util::HexEncode(intent.Encode())}}.dump();
  }

  testing::Actors actors_ = testing::MakeActors();
  crypto::Ed25519PrivateKey client_ = testing::TestIdentityKey(0x41);
  crypto::Ed25519PrivateKey operator_ = testing::TestIdentityKey(0x42);
  std::string policy_path_;
  Config config_;
  FakeStore store_;
  FakeChain chain_;
  FakeCoordinator coordinator_;
  std::unique_ptr<ApiHandler> handler_;
  std::mutex log_mutex_;
  std::vector<std::string> log_;
};

TEST_F(ApiTest, HealthIsOpenAndReportsEachDependency) {
  net::HttpReply reply = handler_->Handle(Request("GET", "/healthz", "", nullptr));
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(Body(reply), (Json{{"status", "ok"}, {"storage", "ok"}, {"chain", "ok"}}));

  store_.down = true;
  reply = handler_->Handle(Request("GET", "/healthz", "", nullptr));
  EXPECT_EQ(reply.status, 503);
  EXPECT_EQ(Body(reply)["storage"], "unavailable");
  EXPECT_EQ(Body(reply)["chain"], "ok");
  EXPECT_EQ(reply.headers["Retry-After"], "1");

  store_.down = false;
  chain_.down = true;
  reply = handler_->Handle(Request("GET", "/healthz", "", nullptr));
  EXPECT_EQ(reply.status, 503);
  EXPECT_EQ(Body(reply)["chain"], "unavailable");
}

TEST_F(ApiTest, EveryReplyHasARequestIdAndOneLogLine) {
  const std::string secret_marker = "bodymarker0123";
  net::HttpReply reply = handler_->Handle(
      Request("POST", "/v1/intents", R"({"signed_intent":")" + secret_marker + R"("})", &client_));
  EXPECT_EQ(reply.status, 400);
  const std::string id = reply.headers["X-Request-Id"];
  ASSERT_EQ(id.size(), 16u);
  ASSERT_EQ(log_.size(), 1u);
  const Json line = Json::parse(log_[0]);
  EXPECT_EQ(line["event"], "request");
  EXPECT_EQ(line["request_id"], id);
  EXPECT_EQ(line["method"], "POST");
  EXPECT_EQ(line["path"], "/v1/intents");
  EXPECT_EQ(line["status"], 400);
  EXPECT_EQ(line["caller"], util::HexEncode(policy::Ed25519KeyId(client_.public_key())));
  EXPECT_TRUE(line["duration_ms"].is_number_unsigned());
  EXPECT_EQ(line["time"], kFixtureNow);
  EXPECT_EQ(log_[0].find(secret_marker), std::string::npos);
  EXPECT_EQ(log_[0].find("Kinko-Ed25519"), std::string::npos);

  net::HttpReply second = handler_->Handle(Request("GET", "/healthz", "", nullptr));
  EXPECT_NE(second.headers["X-Request-Id"], id);
}

TEST_F(ApiTest, RoutingErrors) {
  struct Case {
    std::string method;
    std::string target;
    int status;
    std::string allow;
  };
  const std::vector<Case> cases = {
      {"GET", "/", 404, ""},
      {"GET", "/v1", 404, ""},
      {"GET", "/v1/nothing", 404, ""},
      {"GET", "/v1/intents/", 404, ""},
      {"GET", "/v1//intents", 404, ""},
      {"GET", "/v2/intents", 404, ""},
      {"GET", "/v1/wallets/treasury-hot/utxos/import/x", 404, ""},
      {"GET", "/healthz/", 404, ""},
      {"DELETE", "/v1/intents", 405, "GET, POST"},
      {"PUT", "/v1/intents/00000000000000000000000000000000", 405, "GET"},
      {"GET", "/v1/intents/00000000000000000000000000000000/approvals", 405, "POST"},
      {"GET", "/v1/wallets/treasury-hot/execute", 405, "POST"},
      {"GET", "/v1/wallets/treasury-hot/utxos/import", 405, "POST"},
      {"POST", "/v1/batches/1", 405, "GET"},
      {"POST", "/healthz", 405, "GET"},
      {"POST", "/metrics", 405, "GET"},
  };
  for (const Case& c : cases) {
    net::HttpReply reply = handler_->Handle(Request(c.method, c.target, "", nullptr));
    EXPECT_EQ(reply.status, c.status) << c.method << " " << c.target;
    EXPECT_EQ(ErrorCode(reply), c.status == 404 ? "not_found" : "method_not_allowed") << c.target;
    if (!c.allow.empty()) {
      EXPECT_EQ(reply.headers["Allow"], c.allow) << c.target;
    }
  }
}

TEST_F(ApiTest, AuthenticationRefusals) {
  const std::string target = "/v1/intents/" + std::string(32, '0');
  struct Case {
    std::string name;
    net::HttpRequest request;
    int status;
    std::string code;
    std::string message_part;
  };
  net::HttpRequest unsigned_request = Request("GET", target, "", nullptr);
  net::HttpRequest bad_scheme = Request("GET", target, "", &requester());
  bad_scheme.headers["authorization"] = "Bearer abc";
  net::HttpRequest stale = Request("GET", target, "", &requester(), kFixtureNow - 301);
  net::HttpRequest other_target = Request("GET", target, "", &requester());
  other_target.target = target + "?x=1";
  net::HttpRequest other_body = Request("GET", target, "", &requester());
  other_body.body = "{}";
  net::HttpRequest other_method = Request("GET", target, "", &requester());
  other_method.headers["authorization"] =
      AuthorizationHeader(requester(), "POST", target, kFixtureNow, "");
  const std::vector<Case> cases = {
      {"no header", unsigned_request, 401, "unauthenticated", "missing Authorization"},
      {"bad scheme", bad_scheme, 401, "unauthenticated", "scheme"},
      {"stale", stale, 401, "unauthenticated", "time"},
      {"other target", other_target, 401, "unauthenticated", "signature"},
      {"other body", other_body, 401, "unauthenticated", "signature"},
      {"other method", other_method, 401, "unauthenticated", "signature"},
      {"unknown key", Request("GET", target, "", &actors_.outsider), 403, "forbidden", "not known"},
      {"client on operator route",
       Request("POST", "/v1/wallets/treasury-hot/execute", R"({"intents":[]})", &client_), 403,
       "forbidden", "not an operator"},
      {"policy key on operator route",
       Request("POST", "/v1/wallets/treasury-hot/utxos/import", R"({"raw_tx":"00"})",
               &actors_.approvers[0]),
       403, "forbidden", "not an operator"},
  };
  for (const Case& c : cases) {
    net::HttpReply reply = handler_->Handle(c.request);
    EXPECT_EQ(reply.status, c.status) << c.name << ": " << reply.body;
    EXPECT_EQ(ErrorCode(reply), c.code) << c.name;
    EXPECT_NE(Body(reply)["error"]["message"].get<std::string>().find(c.message_part),
              std::string::npos)
        << c.name << ": " << reply.body;
  }
}

TEST_F(ApiTest, KnownKeysAreAccepted) {
  const std::string target = "/v1/intents/" + std::string(32, '0');
  // Keys the policy names (requester, approvers, admins), a client and an operator: past
  // authentication, the fake coordinator answers 404 for the unknown intent.
  std::vector<const crypto::Ed25519PrivateKey*> keys = {&actors_.requester, &actors_.admins[0],
                                                        &client_, &operator_};
  for (const crypto::Ed25519PrivateKey& approver : actors_.approvers) keys.push_back(&approver);
  for (const crypto::Ed25519PrivateKey* key : keys) {
    net::HttpReply reply = handler_->Handle(Request("GET", target, "", key));
    EXPECT_EQ(reply.status, 404) << reply.body;
    EXPECT_EQ(ErrorCode(reply), "not_found");
  }
  net::HttpReply reply = handler_->Handle(
      Request("POST", "/v1/wallets/treasury-hot/execute", R"({"intents":[]})", &operator_));
  EXPECT_EQ(reply.status, 200) << reply.body;
}

TEST_F(ApiTest, PostNeedsJsonContentType) {
  for (const std::string& type : {std::string(""), std::string("text/plain"),
                                  std::string("application/jsonx"), std::string("json")}) {
    net::HttpRequest request = Request("POST", "/v1/intents", IntentBody(), &requester());
    request.content_type = type;
    net::HttpReply reply = handler_->Handle(request);
    EXPECT_EQ(reply.status, 415) << type;
    EXPECT_EQ(ErrorCode(reply), "unsupported_media_type");
  }
  net::HttpRequest request = Request("POST", "/v1/intents", IntentBody(), &requester());
  request.content_type = "Application/JSON; charset=utf-8";
  EXPECT_EQ(handler_->Handle(request).status, 201);
}

TEST_F(ApiTest, SubmitIntentThenAgain) {
  net::HttpReply first = Call("POST", "/v1/intents", IntentBody());
  ASSERT_EQ(first.status, 201) << first.body;
  const Json intent = Body(first);
  const std::string id = util::HexEncode(testing::TestIntentId(1));
  EXPECT_EQ(intent["id"], id);
  EXPECT_EQ(intent["wallet"], kFixtureWalletId);
  EXPECT_EQ(intent["state"], "awaiting_approvals");
  EXPECT_EQ(intent["outputs"],
            (Json::array({Json{{"address", testing::ForeignAddress(1)}, {"sats", 50'000}}})));
  EXPECT_EQ(intent["total_sats"], 50'000);
  EXPECT_EQ(intent["requester"], util::HexEncode(testing::IdOf(actors_.requester)));
  EXPECT_EQ(intent["batch_id"], nullptr);
  EXPECT_EQ(intent["revision"], 1);
  EXPECT_EQ(intent["approvals"], Json::array());
  EXPECT_EQ(intent["detail"]["missing"][0]["group"], "treasury");
  const std::vector<std::string> keys = {"id",         "wallet",      "state",        "outputs",
                                         "total_sats", "requester",   "external_ref", "created_at",
                                         "expires_at", "received_at", "updated_at",   "batch_id",
                                         "revision",   "approvals",   "detail"};
  for (const std::string& key : keys) EXPECT_TRUE(intent.contains(key)) << key;
  EXPECT_EQ(intent.size(), keys.size());

  net::HttpReply again = Call("POST", "/v1/intents", IntentBody());
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(Body(again), intent);

  net::HttpReply got = Call("GET", "/v1/intents/" + id);
  EXPECT_EQ(got.status, 200);
  EXPECT_EQ(Body(got), intent);
}

TEST_F(ApiTest, RefusedOrExpiredIntentIs422WithTheIntent) {
  coordinator_.state_after_submit = storage::IntentState::kRefused;
  net::HttpReply reply = Call("POST", "/v1/intents", IntentBody());
  EXPECT_EQ(reply.status, 422);
  EXPECT_EQ(ErrorCode(reply), "policy_refused");
  EXPECT_EQ(Body(reply)["intent"]["state"], "refused");

  coordinator_.state_after_submit = storage::IntentState::kExpired;
  reply = Call("POST", "/v1/intents", IntentBody(2));
  EXPECT_EQ(reply.status, 422);
  EXPECT_EQ(ErrorCode(reply), "expired");
  EXPECT_EQ(Body(reply)["intent"]["state"], "expired");
}

TEST_F(ApiTest, ApprovalIs201ThenOnce200) {
  ASSERT_EQ(Call("POST", "/v1/intents", IntentBody()).status, 201);
  const policy::SignedIntent intent = testing::MakeIntent(
      actors_, {{testing::ForeignAddress(1), 50'000}}, kFixtureNow, testing::IntentOptions{});
  const policy::SignedApproval approval = testing::Approve(
      actors_.approvers[0], intent, testing::MakePolicy(actors_).policy().digest(), kFixtureNow);
  const std::string body = Json{{"signed_approval", util::HexEncode(approval.Encode())}}.dump();
  const std::string target =
      "/v1/intents/" + util::HexEncode(testing::TestIntentId(1)) + "/approvals";
  net::HttpReply first = Call("POST", target, body);
  ASSERT_EQ(first.status, 201) << first.body;
  const Json approvals = Body(first)["approvals"];
  ASSERT_EQ(approvals.size(), 1u);
  EXPECT_EQ(approvals[0]["approver"], util::HexEncode(testing::IdOf(actors_.approvers[0])));
  EXPECT_EQ(approvals[0]["decision"], "approve");
  EXPECT_EQ(approvals[0]["received_at"], kFixtureNow);
  EXPECT_EQ(Call("POST", target, body).status, 200);
  EXPECT_EQ(Call("POST", "/v1/intents/" + std::string(32, 'f') + "/approvals", body).status, 404);
}

// Each case is a valid body of its route changed in one way.
TEST_F(ApiTest, MalformedBodiesAre400NamingTheProblem) {
  const std::string id = std::string(32, 'a');
  struct Case {
    std::string target;
    std::string body;
    std::string message_part;
  };
  const std::vector<Case> cases = {
      {"/v1/intents", "", "malformed json"},
      {"/v1/intents", "{", "malformed json"},
      {"/v1/intents", R"({"signed_intent":"00"} x)", "malformed json"},
      {"/v1/intents", "[]", "expected a json object"},
      {"/v1/intents", "\xef\xbb\xbf{}", "byte order mark"},
      {"/v1/intents", R"({})", "missing field 'signed_intent'"},
      {"/v1/intents", R"({"signed_intent":"00","extra":1})", "unknown field 'extra'"},
      {"/v1/intents", R"({"signed_intent":"00","signed_intent":"00"})",
       "field 'signed_intent' repeated"},
      {"/v1/intents", R"({"signed_intent":0})", "field 'signed_intent': expected a string"},
      {"/v1/intents", R"({"signed_intent":"0"})", "lowercase hex"},
      {"/v1/intents", R"({"signed_intent":"AB"})", "lowercase hex"},
      {"/v1/intents", R"({"signed_intent":""})", "lowercase hex"},
      {"/v1/intents", R"({"signed_intent":"zz"})", "lowercase hex"},
      {"/v1/intents", R"({"signed_intent":"00"})", ""},  // Hex fine; does not decode.
      {"/v1/intents/" + id + "/approvals", R"({"signed_approval":null})", "expected a string"},
      {"/v1/intents/" + id + "/approvals", R"({"approval":"00"})", "unknown field 'approval'"},
      {"/v1/wallets/treasury-hot/execute", R"({"intents":"all"})", "expected an array"},
      {"/v1/wallets/treasury-hot/execute", R"({"intents":[1]})",
       "field 'intents[0]': expected a string"},
      {"/v1/wallets/treasury-hot/execute", R"({"intents":["abc"]})", "intents[0]"},
      {"/v1/wallets/treasury-hot/execute", R"({"intents":[")" + id + R"(",")" + id + R"("]})",
       "intents[1]': listed twice"},
      {"/v1/wallets/treasury-hot/execute", R"({"intents":[[[[[]]]]]})", "nested too deeply"},
      {"/v1/wallets/treasury-hot/utxos/import", R"({"raw_tx":"0"})", "lowercase hex"},
      {"/v1/wallets/treasury-hot/utxos/import", R"({"raw_tx":"00","x":{"y":1}})",
       "unknown field 'x'"},
  };
  for (const Case& c : cases) {
    net::HttpReply reply = handler_->Handle(Request("POST", c.target, c.body, &operator_));
    EXPECT_EQ(reply.status, 400) << c.target << " " << c.body << ": " << reply.body;
    EXPECT_EQ(ErrorCode(reply), "invalid_argument") << c.body;
    EXPECT_NE(Body(reply)["error"]["message"].get<std::string>().find(c.message_part),
              std::string::npos)
        << c.body << ": " << reply.body;
  }
}

TEST_F(ApiTest, BadPathParametersAre400Or404) {
  struct Case {
    std::string target;
    int status;
  };
  const std::vector<Case> cases = {
      {"/v1/intents/" + std::string(31, 'a'), 400},
      {"/v1/intents/" + std::string(32, 'A'), 400},
      {"/v1/intents/" + std::string(32, 'a'), 404},
      {"/v1/batches/0", 400},
      {"/v1/batches/-1", 400},
      {"/v1/batches/01", 400},
      {"/v1/batches/x", 400},
      {"/v1/batches/1234567890123456789", 400},
      {"/v1/batches/7", 404},
      {"/v1/batches/7/transaction", 404},
      {"/v1/wallets/nope", 404},
      {"/v1/wallets/nope/utxos", 404},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(Call("GET", c.target).status, c.status) << c.target;
  }
}

TEST_F(ApiTest, CoordinatorErrorsMapToStatuses) {
  struct Case {
    util::Status status;
    int http;
    std::string code;
  };
  const std::vector<Case> cases = {
      {util::InvalidArgumentError("x"), 400, "invalid_argument"},
      {util::PermissionDeniedError("requester signature"), 422, "permission_denied"},
      {util::NotFoundError("x"), 404, "not_found"},
      {util::AlreadyExistsError("x"), 409, "already_exists"},
      {util::FailedPreconditionError("expired at 5"), 422, "failed_precondition"},
      {util::UnavailableError("x"), 503, "unavailable"},
      {util::AbortedError("x"), 503, "aborted"},
      {util::DataLossError("x"), 500, "data_loss"},
      {util::InternalError("x"), 500, "internal"},
  };
  for (const Case& c : cases) {
    coordinator_.fail = c.status;
    net::HttpReply reply = Call("POST", "/v1/intents", IntentBody());
    EXPECT_EQ(reply.status, c.http) << c.status;
    EXPECT_EQ(ErrorCode(reply), c.code) << c.status;
    if (c.http == 503) {
      EXPECT_EQ(reply.headers["Retry-After"], "1");
    }
  }
  // A failed precondition elsewhere is a state conflict.
  coordinator_.fail = util::FailedPreconditionError("intent is building");
  EXPECT_EQ(Call("GET", "/v1/intents/" + std::string(32, 'a')).status, 409);
}

TEST_F(ApiTest, ListIntentsQuery) {
  for (uint64_t seed = 1; seed <= 3; ++seed) {
    ASSERT_EQ(Call("POST", "/v1/intents", IntentBody(seed)).status, 201);
  }
  net::HttpReply reply =
      Call("GET",
           "/v1/intents?wallet=treasury-hot&state=approved,awaiting_approvals&limit=2&"
           "after=" +
               std::string(32, '0'));
  ASSERT_EQ(reply.status, 200) << reply.body;
  ASSERT_TRUE(coordinator_.last_filter.has_value());
  EXPECT_EQ(coordinator_.last_filter->wallet, "treasury-hot");
  EXPECT_EQ(coordinator_.last_filter->states,
            (std::vector<storage::IntentState>{storage::IntentState::kApproved,
                                               storage::IntentState::kAwaitingApprovals}));
  EXPECT_EQ(coordinator_.last_filter->limit, 2u);
  EXPECT_EQ(coordinator_.last_filter->after, storage::IntentId{});
  const Json body = Body(reply);
  ASSERT_EQ(body["intents"].size(), 2u);
  EXPECT_EQ(body["next"], body["intents"][1]["id"]);

  reply = Call("GET", "/v1/intents");
  EXPECT_EQ(Body(reply)["intents"].size(), 3u);
  EXPECT_EQ(Body(reply)["next"], nullptr);

  for (const std::string& query :
       {std::string("state=approved,nope"), std::string("state="), std::string("limit=0"),
        std::string("limit=1001"), std::string("limit=x"), std::string("after=abc"),
        std::string("colour=red")}) {
    EXPECT_EQ(Call("GET", "/v1/intents?" + query).status, 400) << query;
  }
}

TEST_F(ApiTest, WalletBalanceAndUtxos) {
  storage::Utxo coin;
  coin.wallet = kFixtureWalletId;
  coin.outpoint.index = 1;
  coin.sats = 70'000;
  coin.script_pubkey = std::vector<uint8_t>(34, 0);
  coin.script_pubkey[1] = 0x20;  // OP_0 <32 bytes>: a P2WSH script.
  coin.height = 100;
  storage::Utxo reserved = coin;
  reserved.outpoint.index = 2;
  reserved.sats = 20'000;
  reserved.state = storage::UtxoState::kReserved;
  reserved.height = std::nullopt;
  reserved.batch_id = 4;
  storage::Utxo spent = coin;
  spent.outpoint.index = 3;
  spent.state = storage::UtxoState::kSpent;
  coordinator_.utxos = {coin, reserved, spent};

  net::HttpReply reply = Call("GET", "/v1/wallets/treasury-hot");
  ASSERT_EQ(reply.status, 200) << reply.body;
  const Json wallet = Body(reply);
  EXPECT_EQ(wallet["wallet"], kFixtureWalletId);
  EXPECT_EQ(wallet["network"], "regtest");
  EXPECT_EQ(wallet["balance"], (Json{{"available", 70'000},
                                     {"reserved", 20'000},
                                     {"confirmed", 70'000},
                                     {"unconfirmed", 20'000}}));
  EXPECT_EQ(wallet["signers"][0]["url"], "http://127.0.0.1:7443");
  EXPECT_EQ(wallet["threshold"], 1);

  reply = Call("GET", "/v1/wallets/treasury-hot/utxos");
  ASSERT_EQ(reply.status, 200);
  const Json utxos = Body(reply)["utxos"];
  ASSERT_EQ(utxos.size(), 3u);
  EXPECT_EQ(utxos[0]["vout"], 1);
  EXPECT_EQ(utxos[0]["height"], 100);
  EXPECT_EQ(utxos[0]["state"], "available");
  EXPECT_EQ(utxos[0]["batch_id"], nullptr);
  EXPECT_TRUE(utxos[0]["address"].get<std::string>().starts_with("bcrt1q"));
  EXPECT_EQ(utxos[1]["height"], nullptr);
  EXPECT_EQ(utxos[1]["batch_id"], 4);
  EXPECT_EQ(utxos[2]["state"], "spent");
}

TEST_F(ApiTest, ImportAndExecuteAsOperator) {
  net::HttpReply reply = handler_->Handle(Request("POST", "/v1/wallets/treasury-hot/utxos/import",
                                                  R"({"raw_tx":"0102ff"})", &operator_));
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(coordinator_.last_import, (std::vector<uint8_t>{0x01, 0x02, 0xff}));
  EXPECT_EQ(Body(reply), (Json{{"utxos", Json::array()}}));

  storage::BatchRecord batch;
  batch.id = 7;
  batch.wallet = kFixtureWalletId;
  batch.state = storage::BatchState::kBroadcast;
  batch.intents = {testing::TestIntentId(1)};
  batch.fee_sats = 500;
  batch.detail = R"({"signers":[{"id":"aa","url":"http://s1","outcome":"signed","audit_index":4},)"
                 R"({"id":"bb","url":"http://s2","outcome":"refused","code":"window_limit"}]})";
  batch.final_tx = {0x02, 0x00};
  coordinator_.batches[7] = batch;
  coordinator_.execute_result =
      ExecuteResult{.batches = {7}, .waiting = {testing::TestIntentId(2)}};
  const std::string id1 = util::HexEncode(testing::TestIntentId(1));
  reply = handler_->Handle(Request("POST", "/v1/wallets/treasury-hot/execute",
                                   R"({"intents":[")" + id1 + R"("]})", &operator_));
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(coordinator_.last_execute, (std::vector<storage::IntentId>{testing::TestIntentId(1)}));
  const Json body = Body(reply);
  ASSERT_EQ(body["batches"].size(), 1u);
  const Json& b = body["batches"][0];
  EXPECT_EQ(b["id"], 7);
  EXPECT_EQ(b["state"], "broadcast");
  EXPECT_EQ(b["intents"], Json::array({id1}));
  EXPECT_EQ(b["txid"], nullptr);
  EXPECT_EQ(b["change_index"], nullptr);
  EXPECT_EQ(b["signers"][0]["outcome"], "signed");
  EXPECT_EQ(b["signers"][0]["audit_index"], 4);
  EXPECT_EQ(b["signers"][0]["code"], nullptr);
  EXPECT_EQ(b["signers"][1]["code"], "window_limit");
  EXPECT_EQ(body["waiting"], Json::array({util::HexEncode(testing::TestIntentId(2))}));

  EXPECT_EQ(Body(Call("GET", "/v1/batches/7")), b);
  reply = Call("GET", "/v1/batches/7/transaction");
  ASSERT_EQ(reply.status, 200);
  EXPECT_EQ(Body(reply)["hex"], "0200");

  const std::string metrics = handler_->MetricsText();
  EXPECT_NE(metrics.find("kinkod_batches_total{outcome=\"broadcast\"} 1\n"), std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("kinkod_signer_answers_total{signer=\"aa\",outcome=\"signed\"} 1\n"),
            std::string::npos);
  EXPECT_NE(metrics.find("kinkod_signer_answers_total{signer=\"bb\",outcome=\"refused\"} 1\n"),
            std::string::npos);
}

TEST_F(ApiTest, MetricsCountRequestsByRouteAndIntentsByState) {
  Call("GET", "/v1/intents/" + std::string(32, 'a'));
  Call("GET", "/v1/intents/" + std::string(32, 'b'));
  handler_->Handle(Request("GET", "/secret-path-x", "", nullptr));
  handler_->CountRequest("/v1/intents", 413);
  net::HttpReply reply = handler_->Handle(Request("GET", "/metrics", "", nullptr));
  ASSERT_EQ(reply.status, 200);
  EXPECT_EQ(reply.content_type, "text/plain; version=0.0.4");
  const std::string& text = reply.body;
  EXPECT_NE(text.find("kinkod_requests_total{route=\"/v1/intents/{id}\",status=\"404\"} 2\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("kinkod_requests_total{route=\"other\",status=\"404\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("kinkod_requests_total{route=\"/v1/intents\",status=\"413\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("kinkod_request_duration_seconds_count{route=\"/v1/intents/{id}\"} 2\n"),
            std::string::npos);
  EXPECT_NE(
      text.find(
          "kinkod_request_duration_seconds_bucket{route=\"/v1/intents/{id}\",le=\"+Inf\"} 2\n"),
      std::string::npos);
  EXPECT_NE(text.find("kinkod_intents{state=\"awaiting_approvals\"} 3\n"), std::string::npos);
  EXPECT_EQ(text.find("secret-path-x"), std::string::npos);
}

TEST_F(ApiTest, BodyLimitsPerRoute) {
  EXPECT_EQ(handler_->BodyLimit("/v1/intents"), 1024u * 1024);
  EXPECT_EQ(handler_->BodyLimit("/v1/intents/" + std::string(32, 'a') + "/approvals"),
            1024u * 1024);
  EXPECT_EQ(handler_->BodyLimit("/v1/wallets/w/utxos/import"), 4u * 1024 * 1024);
  EXPECT_EQ(handler_->BodyLimit("/v1/wallets/w/execute"), 64u * 1024);
  EXPECT_EQ(handler_->BodyLimit("/v1/batches/1"), 64u * 1024);
  EXPECT_EQ(handler_->BodyLimit("/anything"), 64u * 1024);
  const net::HttpReply reply = handler_->ErrorReply(413, "too_large", "body\x01 too large");
  EXPECT_EQ(reply.status, 413);
  EXPECT_EQ(ErrorCode(reply), "too_large");
  EXPECT_EQ(reply.body.find('\x01'), std::string::npos);
}

TEST_F(ApiTest, CreateFailsOnMissingOrBadPolicyFile) {
  Config config = config_;
  config.wallets[0].policy_file = policy_path_ + ".missing";
  util::Result<std::unique_ptr<ApiHandler>> handler =
      ApiHandler::Create(coordinator_, store_, chain_, config, {});
  ASSERT_FALSE(handler.ok());
  EXPECT_EQ(handler.status().code(), util::StatusCode::kNotFound);
  EXPECT_NE(handler.status().message().find("wallet 'treasury-hot'"), std::string::npos);

  const std::string garbage = policy_path_ + ".bad";
  {
    std::ofstream out(garbage);
    out << "not a policy";
  }
  config.wallets[0].policy_file = garbage;
  handler = ApiHandler::Create(coordinator_, store_, chain_, config, {});
  std::remove(garbage.c_str());
  ASSERT_FALSE(handler.ok());
  EXPECT_EQ(handler.status().code(), util::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace kinko::coordinator
