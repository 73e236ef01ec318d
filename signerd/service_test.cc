#include "signerd/service.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "auditlog/entry.h"
#include "auditlog/merkle.h"
#include "auditlog/merkle_log.h"
#include "auditlog/tree_head.h"
#include "btc/psbt.h"
#include "crypto/hash.h"
#include "crypto/rng.h"
#include "policy/canonical.h"
#include "policy/identity.h"
#include "signerapi/audit_codec.h"
#include "signerapi/freeze.h"
#include "signerapi/json_codec.h"
#include "signerapi/messages.h"
#include "signerd/internal/softhsm_testing.h"
#include "signerd/setup.h"
#include "signerd/state_store.h"
#include "test/support/signer_fixture.h"
#include "util/check.h"
#include "util/hex.h"

namespace kinko::signerd {
namespace {

using testing::Actors;
using ::testing::HasSubstr;
using testing::kFixtureNow;
using testing::kFixtureWalletId;
using testing::MakeActors;
using testing::MakeIntent;
using testing::OutputSpec;
using testing::PolicyOptions;
using testing::Sats;
using testing::TestContext;

crypto::SecretBytes Passphrase(std::string_view text = "correct horse") {
  return crypto::SecretBytes::FromSpan(
      std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

// A fresh directory, removed with its contents at the end of the test.
class TempDir final {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "kinko-service-XXXXXX").string();
    CHECK(mkdtemp(pattern.data()) != nullptr);
    path_ = pattern;
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

HttpRequest Post(std::string path, std::string body) {
  HttpRequest request;
  request.method = "POST";
  request.path = std::move(path);
  request.content_type = "application/json";
  request.body = std::move(body);
  return request;
}

HttpRequest Get(std::string path, std::map<std::string, std::string> query = {}) {
  HttpRequest request;
  request.method = "GET";
  request.path = std::move(path);
  request.query = std::move(query);
  return request;
}

testing::IntentOptions WithSeed(uint64_t seed) {
  testing::IntentOptions options;
  options.id_seed = seed;
  return options;
}

policy::Digest DigestOf(const policy::SignedPolicy& policy) { return policy.policy().digest(); }

// A signer set up as `kinko-signer keygen` and `init` do, in a temporary directory: its key is
// the first of a 2-of-3 P2WSH wallet whose other keys are the fixture's cosigners 0 and 1.
class ServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    crypto::SystemRng rng;
    dir_ = std::make_unique<TempDir>();
    state_dir_ = dir_->path() + "/signer";
    KeygenOptions keygen;
    keygen.dir = state_dir_;
    keygen.network = testing::kFixtureNetwork;
    keygen.key_backend = "file";
    keygen.kdf = {.passes = 1, .memory_kib = 8};
    ConfigureKeygen(keygen);
    util::Result<KeygenResult> keys = Keygen(TestContext(), keygen, Passphrase(), Pin(), rng);
    ASSERT_TRUE(keys.ok()) << keys.status();
    keys_ = *keys;

    cosigners_ = testing::MakeTestWallet(TestContext());
    // A file key is an xpub, derived per branch and index; a PKCS#11 key is a single key.
    const bool extended = keys_.descriptor_key.starts_with("[");
    descriptor_ = "wsh(multi(2," + keys_.descriptor_key + (extended ? "/<0;1>/*" : "");
    for (size_t i = 0; i < 2; ++i) {
      descriptor_ += ",[" + cosigners_.origins[i].ToString() + "]" +
                     cosigners_.accounts[i].Neuter().ToString() + "/<0;1>/*";
    }
    descriptor_ += "))";

    first_policy_ = testing::MakePolicy(actors_, FirstPolicyOptions());
    InitOptions init{.dir = state_dir_,
                     .wallet_id = kFixtureWalletId,
                     .descriptor = descriptor_,
                     .receive_index_max = testing::kFixtureIndexMax,
                     .change_index_max = testing::kFixtureIndexMax,
                     .governance_admins = AdminIds(),
                     .governance_threshold = 2,
                     .watchers = {testing::IdOf(actors_.watcher)},
                     .first_policy = first_policy_.Encode(),
                     .now = kFixtureNow};
    util::Result<KeygenResult> initialised = Init(TestContext(), init, Passphrase(), Pin());
    ASSERT_TRUE(initialised.ok()) << initialised.status();
    OpenService();
  }

  // The key backend: the file backend unless a derived fixture says otherwise.
  virtual void ConfigureKeygen(KeygenOptions&) {}
  virtual std::optional<TokenPin> Pin() const { return std::nullopt; }

  // The first policy: the fixture's, with an address book entry and a 24-hour window of 3 BTC.
  PolicyOptions FirstPolicyOptions() const {
    PolicyOptions options;
    options.address_book = {{.label = "cold", .address = testing::ForeignAddress(0x70)}};
    options.window_24h = Sats(300'000'000);
    return options;
  }

  std::vector<policy::KeyId> AdminIds() const {
    std::vector<policy::KeyId> admins;
    for (const crypto::Ed25519PrivateKey& admin : actors_.admins) {
      admins.push_back(testing::IdOf(admin));
    }
    std::sort(admins.begin(), admins.end());
    return admins;
  }

  void OpenService() {
    service_.reset();
    ServiceOptions options{
        .dir = state_dir_, .passphrase = Passphrase(), .pin = Pin(), .clock = [this] {
          return now_.load();
        }};
    util::Result<std::unique_ptr<SignerService>> opened = SignerService::Open(std::move(options));
    ASSERT_TRUE(opened.ok()) << opened.status();
    service_ = std::move(*opened);
  }

  const signer::WalletConfig& Wallet() {
    if (!wallet_.has_value())
      wallet_.emplace(testing::MakeWalletConfig(TestContext(), descriptor_));
    return *wallet_;
  }

  // A sign request for `intents` (each with its approvals) and a PSBT that pays them.
  std::string SignRequestBody(const std::vector<policy::IntentWithApprovals>& intents,
                              uint32_t funding_seed = 0) {
    std::vector<policy::SignedIntent> signed_intents;
    for (const policy::IntentWithApprovals& intent : intents) {
      signed_intents.push_back(intent.intent);
    }
    signerapi::SignRequest request;
    request.request_id = {0xa0, 0xa1};
    testing::PsbtOptions options;
    options.funding_seed = funding_seed;
    request.psbt = testing::BuildPsbt(TestContext(), Wallet(), signed_intents, options);
    request.intents = intents;
    return signerapi::EncodeSignRequest(request);
  }

  // The fee of every request's PSBT (BuildPsbt's default); it counts toward the windows.
  static constexpr int64_t kRequestFee = testing::PsbtOptions{}.fee_sats;

  // A request for one intent of `sats` to a foreign address (rule "small withdrawals" when at
  // most 1 BTC), intent id from `seed`.
  std::string SmallRequest(uint64_t seed, int64_t sats = 50'000) {
    policy::SignedIntent intent = MakeIntent(
        actors_, {OutputSpec{testing::ForeignAddress(0x51), sats}}, now_.load(), WithSeed(seed));
    return SignRequestBody({{.intent = intent, .approvals = {}}}, static_cast<uint32_t>(seed));
  }

  HttpReply Sign(const std::string& body) { return service_->Handle(Post("/v1/sign", body)); }

  // `body` (a valid sign request) with `known_head` set.
  static std::string WithKnownHead(const std::string& body, std::vector<uint8_t> known_head) {
    signerapi::SignRequest request = signerapi::DecodeSignRequest(body).value();
    request.known_head = std::move(known_head);
    return signerapi::EncodeSignRequest(request);
  }

  // The signer's current signed tree head (GET /v1/status).
  std::vector<uint8_t> CurrentHead() { return Status().audit.signed_tree_head; }

  // Sends `request` and checks that it is refused with `status` and an ErrorBody of `code`, and
  // logged as a refused decision entry with that code, the body's SHA-256, the error's message
  // as detail and no intent id (after a sign request entry with the same digest and no intent
  // id, for POST /v1/sign). Returns the error body.
  signerapi::ErrorBody ExpectRefusedAndLogged(const HttpRequest& request, int status,
                                              std::string_view code) {
    const uint64_t size = TreeSize();
    const HttpReply reply = service_->Handle(request);
    EXPECT_EQ(reply.status, status) << reply.body;
    util::Result<signerapi::ErrorBody> error = signerapi::DecodeErrorBody(reply.body);
    EXPECT_TRUE(error.ok()) << error.status() << " " << reply.body;
    if (!error.ok()) return {};
    EXPECT_EQ(error->code, code);
    const std::vector<auditlog::Entry> log = ReadLog();
    const bool sign = request.path == "/v1/sign";
    EXPECT_EQ(log.size(), size + (sign ? 2 : 1));
    const auditlog::Hash digest = crypto::Sha256(
        std::span(reinterpret_cast<const uint8_t*>(request.body.data()), request.body.size()));
    if (sign) {
      const auto* logged = std::get_if<auditlog::SignRequestEntry>(&log[log.size() - 2].body());
      EXPECT_NE(logged, nullptr);
      if (logged != nullptr) {
        EXPECT_EQ(logged->request_digest, digest);
        EXPECT_TRUE(logged->intent_ids.empty());
      }
    }
    const auto* decision = std::get_if<auditlog::DecisionEntry>(&log.back().body());
    EXPECT_NE(decision, nullptr);
    if (decision == nullptr) return *error;
    EXPECT_EQ(decision->outcome, auditlog::Outcome::kRefused);
    EXPECT_EQ(decision->code, code);
    EXPECT_EQ(decision->request_digest, digest);
    EXPECT_TRUE(decision->intent_ids.empty());
    EXPECT_EQ(decision->detail, error->message);
    EXPECT_FALSE(decision->txid.has_value());
    return *error;
  }

  signerapi::SignResponse DecodeResponse(const HttpReply& reply) {
    util::Result<signerapi::SignResponse> response = signerapi::DecodeSignResponse(reply.body);
    CHECK(response.ok());
    return *response;
  }

  signerapi::StatusResponse Status() {
    HttpReply reply = service_->Handle(Get("/v1/status"));
    CHECK(reply.status == 200);
    util::Result<signerapi::StatusResponse> status = signerapi::DecodeStatusResponse(reply.body);
    CHECK(status.ok());
    return *status;
  }

  uint64_t TreeSize() { return Status().audit.tree_size; }

  // Every entry of the log, read through GET /v1/audit/entries.
  std::vector<auditlog::Entry> ReadLog() {
    std::vector<auditlog::Entry> entries;
    const uint64_t size = TreeSize();
    while (entries.size() < size) {
      HttpReply reply = service_->Handle(
          Get("/v1/audit/entries", {{"from", std::to_string(entries.size())}, {"count", "1000"}}));
      CHECK(reply.status == 200);
      util::Result<signerapi::EntriesResponse> page = signerapi::DecodeEntries(reply.body);
      CHECK(page.ok());
      for (const std::vector<uint8_t>& bytes : page->entries) {
        entries.push_back(auditlog::Entry::Decode(bytes).value());
      }
    }
    return entries;
  }

  // Checks that entry `index` is in the tree of `head` (through GET /v1/audit/entries and
  // /v1/audit/proof/inclusion) and that the head is signed by the signer's identity key.
  void ExpectReceiptVerifies(const signerapi::AuditReceipt& receipt) {
    util::Result<auditlog::SignedTreeHead> head =
        auditlog::SignedTreeHead::Decode(receipt.head.signed_tree_head);
    ASSERT_TRUE(head.ok()) << head.status();
    EXPECT_TRUE(head->Verify(keys_.identity_public_key).ok());
    EXPECT_EQ(head->head().size, receipt.head.tree_size);
    EXPECT_EQ(head->head().root, receipt.head.root_hash);

    HttpReply entry_reply = service_->Handle(
        Get("/v1/audit/entries", {{"from", std::to_string(receipt.index)}, {"count", "1"}}));
    ASSERT_EQ(entry_reply.status, 200) << entry_reply.body;
    util::Result<signerapi::EntriesResponse> entries = signerapi::DecodeEntries(entry_reply.body);
    ASSERT_TRUE(entries.ok()) << entries.status();
    ASSERT_EQ(entries->entries.size(), 1u);

    HttpReply proof_reply = service_->Handle(
        Get("/v1/audit/proof/inclusion", {{"index", std::to_string(receipt.index)},
                                          {"size", std::to_string(receipt.head.tree_size)}}));
    ASSERT_EQ(proof_reply.status, 200) << proof_reply.body;
    util::Result<signerapi::InclusionProofResponse> proof =
        signerapi::DecodeInclusionProof(proof_reply.body);
    ASSERT_TRUE(proof.ok()) << proof.status();
    EXPECT_TRUE(auditlog::VerifyInclusion(auditlog::HashLeaf(entries->entries[0]), receipt.index,
                                          receipt.head.tree_size, proof->hashes, head->head().root)
                    .ok());
  }

  // The decision entry at `index`.
  auditlog::DecisionEntry DecisionAt(uint64_t index) {
    const std::vector<auditlog::Entry> log = ReadLog();
    CHECK(index < log.size());
    CHECK(log[index].kind() == auditlog::EntryKind::kDecision);
    return std::get<auditlog::DecisionEntry>(log[index].body());
  }

  HttpReply FreezeBy(const crypto::Ed25519PrivateKey& key, uint8_t nonce) {
    signerapi::Freeze freeze =
        signerapi::Freeze::Create(
            {.scope = {}, .reason = "unexplained spend", .time = now_.load(), .nonce = {nonce}})
            .value();
    return service_->Handle(Post(
        "/v1/freeze",
        signerapi::EncodeFreezeRequest({.freeze = signerapi::SignedFreeze::Sign(freeze, key)})));
  }

  HttpReply UnfreezeBy(const std::vector<size_t>& admins, const policy::Digest& freeze_digest) {
    signerapi::Unfreeze unfreeze = signerapi::Unfreeze::Create({.scope = {},
                                                                .reason = "explained",
                                                                .time = now_.load(),
                                                                .nonce = {0x0e},
                                                                .freeze_digest = freeze_digest})
                                       .value();
    signerapi::SignedUnfreeze signed_unfreeze =
        signerapi::SignedUnfreeze::Sign(unfreeze, actors_.admins.at(admins.at(0)));
    for (size_t i = 1; i < admins.size(); ++i) {
      signed_unfreeze = signed_unfreeze.AddSignature(actors_.admins.at(admins[i])).value();
    }
    return service_->Handle(
        Post("/v1/unfreeze", signerapi::EncodeUnfreezeRequest({.unfreeze = signed_unfreeze})));
  }

  HttpReply ProposePolicy(const policy::SignedPolicy& next) {
    return service_->Handle(
        Post("/v1/policy", signerapi::EncodePolicyUpdateRequest({.signed_policy = next})));
  }

  Actors actors_ = MakeActors();
  std::unique_ptr<TempDir> dir_;
  std::string state_dir_;
  KeygenResult keys_;
  testing::TestWallet cosigners_;
  std::string descriptor_;
  policy::SignedPolicy first_policy_ = testing::MakePolicy(actors_);
  std::optional<signer::WalletConfig> wallet_;
  std::atomic<uint64_t> now_{kFixtureNow + 60};
  std::unique_ptr<SignerService> service_;
};

TEST_F(ServiceTest, SignsAValidRequestAndItsReceiptVerifies) {
  const uint64_t size_before = TreeSize();
  HttpReply reply = Sign(SmallRequest(1));
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(reply.content_type, "application/json");
  const signerapi::SignResponse response = DecodeResponse(reply);
  ASSERT_TRUE(std::holds_alternative<signerapi::SignedResult>(response.result));
  const auto& result = std::get<signerapi::SignedResult>(response.result);
  ASSERT_EQ(result.intents.size(), 1u);
  EXPECT_EQ(result.intents[0].intent_id, testing::TestIntentId(1));
  EXPECT_EQ(result.intents[0].rule, "small withdrawals");

  // This signer's signature is in the PSBT: with one cosigner's it completes the 2-of-3 spend.
  ASSERT_EQ(result.psbt.inputs.size(), 1u);
  EXPECT_EQ(result.psbt.inputs[0].partial_sigs.size(), 1u);
  util::Result<btc::Psbt> cosigned =
      testing::SignWithWalletKey(TestContext(), result.psbt, cosigners_, 0);
  ASSERT_TRUE(cosigned.ok()) << cosigned.status();
  util::Result<btc::Transaction> tx = testing::FinalizeAndVerify(TestContext(), *cosigned);
  ASSERT_TRUE(tx.ok()) << tx.status();

  // The request and decision entries were logged; the receipt names the decision.
  EXPECT_EQ(result.audit.head.tree_size, size_before + 2);
  EXPECT_EQ(result.audit.index, size_before + 1);
  ExpectReceiptVerifies(result.audit);
  const auditlog::DecisionEntry decision = DecisionAt(result.audit.index);
  EXPECT_EQ(decision.outcome, auditlog::Outcome::kSigned);
  EXPECT_EQ(decision.txid, tx->ComputeTxid().bytes());
  EXPECT_EQ(decision.intent_ids, std::vector<auditlog::IntentId>{testing::TestIntentId(1)});
  EXPECT_EQ(decision.rule, "small withdrawals");
}

TEST_F(ServiceTest, ARepeatedRequestIsRefusedAsAReplayAndLogged) {
  const std::string body = SmallRequest(1);
  ASSERT_EQ(Sign(body).status, 200);
  const uint64_t size_before = TreeSize();
  HttpReply reply = Sign(body);
  ASSERT_EQ(reply.status, 409) << reply.body;
  const signerapi::SignResponse response = DecodeResponse(reply);
  ASSERT_TRUE(std::holds_alternative<signerapi::RefusedResult>(response.result));
  const auto& refused = std::get<signerapi::RefusedResult>(response.result);
  EXPECT_EQ(refused.code, "intent_replayed");
  ASSERT_TRUE(refused.audit.has_value());
  EXPECT_EQ(refused.audit->head.tree_size, size_before + 2);
  ExpectReceiptVerifies(*refused.audit);
  const auditlog::DecisionEntry decision = DecisionAt(refused.audit->index);
  EXPECT_EQ(decision.outcome, auditlog::Outcome::kRefused);
  EXPECT_EQ(decision.code, "intent_replayed");
  EXPECT_FALSE(decision.txid.has_value());
}

TEST_F(ServiceTest, ARefusalByThePolicyIs403AndLoggedWithItsCode) {
  // 2 BTC to the address book needs 2 of treasury; alice alone approved.
  policy::SignedIntent intent =
      MakeIntent(actors_, {OutputSpec{testing::ForeignAddress(0x70), 200'000'000}}, now_.load());
  policy::SignedApproval approval =
      testing::Approve(actors_.approvers[0], intent, DigestOf(first_policy_), now_.load());
  HttpReply reply = Sign(SignRequestBody({{.intent = intent, .approvals = {approval}}}));
  ASSERT_EQ(reply.status, 403) << reply.body;
  const auto refused = std::get<signerapi::RefusedResult>(DecodeResponse(reply).result);
  EXPECT_EQ(refused.code, "approvals_missing");
  EXPECT_EQ(refused.rule, "to the address book");
  EXPECT_EQ(refused.intent_index, std::optional<uint64_t>(0));
  ASSERT_TRUE(refused.audit.has_value());
  const auditlog::DecisionEntry decision = DecisionAt(refused.audit->index);
  EXPECT_EQ(decision.code, "approvals_missing");
  EXPECT_EQ(decision.rule, "to the address book");
  EXPECT_EQ(decision.detail, refused.detail);

  // The same intent with bob's approval as well is signed.
  policy::SignedApproval second =
      testing::Approve(actors_.approvers[1], intent, DigestOf(first_policy_), now_.load());
  HttpReply signed_reply =
      Sign(SignRequestBody({{.intent = intent, .approvals = {approval, second}}}));
  ASSERT_EQ(signed_reply.status, 200) << signed_reply.body;
  const auto result = std::get<signerapi::SignedResult>(DecodeResponse(signed_reply).result);
  EXPECT_EQ(result.intents[0].approvers, (std::vector<std::string>{"alice", "bob"}));
}

TEST_F(ServiceTest, ErrorsOfTheHttpLayerAreAnsweredAndNotLogged) {
  const uint64_t size = TreeSize();
  struct Case {
    std::string name;
    HttpRequest request;
    int status;
    std::string code;
  };
  HttpRequest wrong_type = Post("/v1/sign", SmallRequest(1));
  wrong_type.content_type = "text/plain";
  HttpRequest no_type = Post("/v1/sign", SmallRequest(1));
  no_type.content_type = "";
  std::vector<Case> cases = {
      {"malformed json", Post("/v1/sign", "{\"version\": 1,"), 400, "invalid_argument"},
      {"unknown field", Post("/v1/sign", "{\"fee\": 1}"), 400, "invalid_argument"},
      {"too large", Post("/v1/sign", std::string(signerapi::kMaxSignRequestSize + 1, ' ')), 413,
       "too_large"},
      {"freeze too large",
       Post("/v1/freeze", std::string(signerapi::kMaxFreezeRequestSize + 1, ' ')), 413,
       "too_large"},
      {"wrong content type", wrong_type, 415, "unsupported_media_type"},
      {"no content type", no_type, 415, "unsupported_media_type"},
      {"unknown path", Get("/v1/sing"), 404, "not_found"},
      {"unknown version", Post("/v2/sign", "{}"), 404, "not_found"},
      {"get on sign", Get("/v1/sign"), 405, "method_not_allowed"},
      {"post on status", Post("/v1/status", "{}"), 405, "method_not_allowed"},
      {"bad policy", Post("/v1/policy", "{\"version\": 1, \"signed_policy\": \"AA==\"}"), 400,
       "invalid_argument"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    HttpReply reply = service_->Handle(c.request);
    EXPECT_EQ(reply.status, c.status) << reply.body;
    util::Result<signerapi::ErrorBody> error = signerapi::DecodeErrorBody(reply.body);
    ASSERT_TRUE(error.ok()) << error.status() << " " << reply.body;
    EXPECT_EQ(error->code, c.code);
  }
  EXPECT_EQ(TreeSize(), size);
  EXPECT_EQ(service_->Handle(Get("/v1/sign")).headers["Allow"], "POST");
  EXPECT_EQ(service_->Handle(Post("/v1/audit/head", "{}")).headers["Allow"], "GET");
  // A JSON content type with parameters, in any case, is JSON.
  HttpRequest charset = Post("/v1/sign", SmallRequest(2));
  charset.content_type = "Application/JSON; charset=utf-8";
  EXPECT_EQ(service_->Handle(charset).status, 200);
}

// The May 2024 theft: a requester-signed intent altered in transit (destination and amount)
// with its signature kept; and an approval whose signature does not verify. Each is refused with
// 403 "invalid_signature" and logged under the body's SHA-256, naming no intent (nothing in the
// body can be trusted); the unaltered request is signed.
TEST_F(ServiceTest, ARequestWhoseSignaturesDoNotVerifyIs403InvalidSignatureAndLogged) {
  const policy::SignedIntent intent = MakeIntent(
      actors_, {OutputSpec{testing::ForeignAddress(0x70), 200'000'000}}, now_.load(), WithSeed(1));
  const std::vector<policy::SignedApproval> approvals = {
      testing::Approve(actors_.approvers[0], intent, DigestOf(first_policy_), now_.load()),
      testing::Approve(actors_.approvers[1], intent, DigestOf(first_policy_), now_.load())};
  const std::string honest = SignRequestBody({{.intent = intent, .approvals = approvals}});
  nlohmann::json json = nlohmann::json::parse(honest);

  // map {0: the altered intent, 1: the requester's original signature}.
  policy::IntentFields altered_fields = intent.intent().fields();
  altered_fields.outputs[0] = {testing::ForeignAddress(0x66),
                               btc::Amount::FromSats(250'000'000).value()};
  const policy::Intent altered = policy::Intent::Create(altered_fields).value();
  policy::CborWriter head;
  head.MapHeader(2);
  head.Uint(0);
  std::vector<uint8_t> altered_bytes = head.bytes();
  altered_bytes.insert(altered_bytes.end(), altered.Encode().begin(), altered.Encode().end());
  policy::CborWriter tail;
  tail.Uint(1);
  policy::EncodeSignature(intent.signature(), tail);
  altered_bytes.insert(altered_bytes.end(), tail.bytes().begin(), tail.bytes().end());
  nlohmann::json altered_json = json;
  altered_json["intents"][0]["intent"] = btc::EncodeBase64(altered_bytes);

  std::vector<uint8_t> approval = approvals[1].Encode();
  approval.back() ^= 0x01;
  nlohmann::json forged_approval = json;
  forged_approval["intents"][0]["approvals"][1] = btc::EncodeBase64(approval);

  const signerapi::ErrorBody altered_error =
      ExpectRefusedAndLogged(Post("/v1/sign", altered_json.dump()), 403, "invalid_signature");
  EXPECT_THAT(altered_error.message, HasSubstr("requester signature: does not verify"));
  const signerapi::ErrorBody approval_error =
      ExpectRefusedAndLogged(Post("/v1/sign", forged_approval.dump()), 403, "invalid_signature");
  EXPECT_THAT(approval_error.message, HasSubstr("approver signature: does not verify"));
  EXPECT_THAT(service_->MetricsText(),
              HasSubstr("kinko_signer_decisions_total{result=\"refused\",reason=\"invalid_"
                        "signature\"} 2\n"));

  // The honest twin.
  HttpReply signed_reply = Sign(honest);
  ASSERT_EQ(signed_reply.status, 200) << signed_reply.body;
}

// A malformed body is answered 400 and not logged, on every POST endpoint.
TEST_F(ServiceTest, MalformedBodiesAre400AndNotLogged) {
  const uint64_t size = TreeSize();
  for (const std::string path : {"/v1/sign", "/v1/policy", "/v1/freeze", "/v1/unfreeze"}) {
    SCOPED_TRACE(path);
    for (const std::string body :
         {"{\"version\": 1,", "{\"version\": 1, \"signed_freeze\": \"AA==\"}", "[]"}) {
      HttpReply reply = service_->Handle(Post(path, body));
      EXPECT_EQ(reply.status, 400) << reply.body;
      EXPECT_EQ(signerapi::DecodeErrorBody(reply.body).value().code, "invalid_argument");
    }
  }
  EXPECT_EQ(TreeSize(), size);
}

// Each refused policy update, from a valid successor changing one thing, is answered with its
// stable code and its status, and logged; the valid successor is accepted.
TEST_F(ServiceTest, RefusedPolicyUpdatesAreLoggedWithTheirCodes) {
  PolicyOptions valid = FirstPolicyOptions();
  valid.sequence = 2;
  valid.predecessor = DigestOf(first_policy_);
  valid.per_transaction = Sats(40'000);
  const auto with = [&](const std::function<void(PolicyOptions&)>& change) {
    PolicyOptions options = valid;
    change(options);
    return signerapi::EncodePolicyUpdateRequest(
        {.signed_policy = testing::MakePolicy(actors_, options)});
  };
  policy::PolicyFields testnet_fields = testing::MakePolicy(actors_, valid).policy().fields();
  testnet_fields.network = btc::Network::kTestnet;
  testnet_fields.address_book.clear();
  policy::SignedPolicy testnet =
      policy::SignedPolicy::Unsigned(policy::Policy::Create(std::move(testnet_fields)).value());
  for (size_t admin : {0, 1}) testnet = testnet.AddSignature(actors_.admins[admin]).value();
  std::vector<uint8_t> flipped = testing::MakePolicy(actors_, valid).Encode();
  flipped.back() ^= 0x01;
  const std::string forged =
      nlohmann::json{{"version", 1}, {"signed_policy", btc::EncodeBase64(flipped)}}.dump();

  struct Case {
    std::string name;
    std::string body;
    int status;
    std::string code;
  };
  const std::vector<Case> cases = {
      {"one admin", with([](PolicyOptions& o) { o.signed_by = {0}; }), 403,
       "policy_not_authorized"},
      {"another network", signerapi::EncodePolicyUpdateRequest({.signed_policy = testnet}), 409,
       "policy_wrong_network"},
      {"stale sequence", with([](PolicyOptions& o) { o.sequence = 1; }), 409,
       "policy_stale_sequence"},
      {"no predecessor", with([](PolicyOptions& o) { o.predecessor.reset(); }), 409,
       "policy_wrong_predecessor"},
      {"the policy in force",
       signerapi::EncodePolicyUpdateRequest({.signed_policy = first_policy_}), 409,
       "policy_already_known"},
      {"a signature that does not verify", forged, 403, "invalid_signature"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    ExpectRefusedAndLogged(Post("/v1/policy", c.body), c.status, c.code);
  }
  EXPECT_EQ(Status().policy.sequence, 1u);

  // The honest twin, then the same again: already known.
  HttpReply accepted = service_->Handle(Post("/v1/policy", with([](PolicyOptions&) {})));
  ASSERT_EQ(accepted.status, 200) << accepted.body;
  EXPECT_EQ(ReadLog().back().kind(), auditlog::EntryKind::kPolicyChange);
  ExpectRefusedAndLogged(Post("/v1/policy", with([](PolicyOptions&) {})), 409,
                         "policy_already_known");
}

// Each refused freeze and unfreeze, from a valid one changing one thing, is answered with its
// stable code and its status, and logged; the valid ones are accepted.
TEST_F(ServiceTest, RefusedFreezesAndUnfreezesAreLoggedWithTheirCodes) {
  const auto freeze_body = [&](const crypto::Ed25519PrivateKey& key,
                               std::optional<policy::KeyId> scope, uint8_t nonce) {
    signerapi::Freeze freeze = signerapi::Freeze::Create({.scope = {.signer = scope},
                                                          .reason = "unexplained spend",
                                                          .time = now_.load(),
                                                          .nonce = {nonce}})
                                   .value();
    return signerapi::EncodeFreezeRequest({.freeze = signerapi::SignedFreeze::Sign(freeze, key)});
  };
  const auto unfreeze_body = [&](const std::vector<size_t>& admins, const policy::Digest& digest,
                                 std::optional<policy::KeyId> scope) {
    signerapi::Unfreeze unfreeze = signerapi::Unfreeze::Create({.scope = {.signer = scope},
                                                                .reason = "explained",
                                                                .time = now_.load(),
                                                                .nonce = {0x0e},
                                                                .freeze_digest = digest})
                                       .value();
    signerapi::SignedUnfreeze signed_unfreeze =
        signerapi::SignedUnfreeze::Sign(unfreeze, actors_.admins.at(admins.at(0)));
    for (size_t i = 1; i < admins.size(); ++i) {
      signed_unfreeze = signed_unfreeze.AddSignature(actors_.admins.at(admins[i])).value();
    }
    return signerapi::EncodeUnfreezeRequest({.unfreeze = signed_unfreeze});
  };
  // `body` with the last byte of its embedded object flipped (a signature byte).
  const auto forged = [](const std::string& body, const std::string& field) {
    nlohmann::json json = nlohmann::json::parse(body);
    std::vector<uint8_t> bytes = btc::DecodeBase64(json[field].get<std::string>()).value();
    bytes.back() ^= 0x01;
    json[field] = btc::EncodeBase64(bytes);
    return json.dump();
  };
  const policy::KeyId other_signer = testing::IdOf(actors_.outsider);

  struct Case {
    std::string name;
    std::string path;
    std::string body;
    int status;
    std::string code;
  };
  std::vector<Case> cases = {
      {"freeze by an outsider", "/v1/freeze", freeze_body(actors_.outsider, std::nullopt, 1), 403,
       "freeze_not_authorized"},
      {"freeze of another signer", "/v1/freeze", freeze_body(actors_.watcher, other_signer, 1), 409,
       "freeze_wrong_signer"},
      {"freeze with a bad signature", "/v1/freeze",
       forged(freeze_body(actors_.watcher, std::nullopt, 1), "signed_freeze"), 403,
       "invalid_signature"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    ExpectRefusedAndLogged(Post(c.path, c.body), c.status, c.code);
  }
  EXPECT_FALSE(Status().frozen());

  // The honest freeze.
  const std::string freeze = freeze_body(actors_.watcher, std::nullopt, 1);
  HttpReply frozen = service_->Handle(Post("/v1/freeze", freeze));
  ASSERT_EQ(frozen.status, 200) << frozen.body;
  const policy::Digest digest = *signerapi::DecodeStatusResponse(frozen.body).value().freeze;
  policy::Digest unknown = digest;
  unknown[0] ^= 0x01;
  cases = {
      {"unfreeze by one admin", "/v1/unfreeze", unfreeze_body({0}, digest, std::nullopt), 403,
       "unfreeze_not_authorized"},
      {"unfreeze of an unknown freeze", "/v1/unfreeze",
       unfreeze_body({0, 1}, unknown, std::nullopt), 409, "unfreeze_unknown_freeze"},
      {"unfreeze of another scope", "/v1/unfreeze", unfreeze_body({0, 1}, digest, keys_.signer_id),
       409, "unfreeze_scope_mismatch"},
      {"unfreeze with a bad signature", "/v1/unfreeze",
       forged(unfreeze_body({0, 1}, digest, std::nullopt), "signed_unfreeze"), 403,
       "invalid_signature"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    ExpectRefusedAndLogged(Post(c.path, c.body), c.status, c.code);
  }
  EXPECT_TRUE(Status().frozen());

  // The honest unfreeze; then the freeze again is a replay.
  HttpReply unfrozen =
      service_->Handle(Post("/v1/unfreeze", unfreeze_body({0, 1}, digest, std::nullopt)));
  ASSERT_EQ(unfrozen.status, 200) << unfrozen.body;
  EXPECT_EQ(ReadLog().back().kind(), auditlog::EntryKind::kUnfreeze);
  ExpectRefusedAndLogged(Post("/v1/freeze", freeze), 409, "freeze_replayed");
  EXPECT_FALSE(Status().frozen());
}

// The head the coordinator holds: the genuine current head signs; a head signed by another key
// is 403 "invalid_signature", logged with the request's intent ids; a head that does not decode
// is 400 and not logged.
TEST_F(ServiceTest, AKnownHeadMustBeSignedByThisSigner) {
  ASSERT_EQ(Sign(SmallRequest(1)).status, 200);
  const std::vector<uint8_t> genuine = CurrentHead();
  const auditlog::SignedTreeHead decoded = auditlog::SignedTreeHead::Decode(genuine).value();

  const uint64_t size = TreeSize();
  HttpReply malformed = Sign(WithKnownHead(SmallRequest(2), std::vector<uint8_t>(10, 1)));
  EXPECT_EQ(malformed.status, 400) << malformed.body;
  EXPECT_EQ(signerapi::DecodeErrorBody(malformed.body).value().code, "invalid_argument");
  EXPECT_EQ(TreeSize(), size);

  const std::string other_body = WithKnownHead(
      SmallRequest(2), auditlog::SignedTreeHead::Sign(decoded.head(), actors_.outsider).Encode());
  HttpReply other = Sign(other_body);
  EXPECT_EQ(other.status, 403) << other.body;
  const signerapi::ErrorBody error = signerapi::DecodeErrorBody(other.body).value();
  EXPECT_EQ(error.code, "invalid_signature");
  EXPECT_THAT(error.message, HasSubstr("sign request: field 'known_head'"));
  const std::vector<auditlog::Entry> log = ReadLog();
  ASSERT_EQ(log.size(), size + 2);
  const auto& request_entry = std::get<auditlog::SignRequestEntry>(log[size].body());
  EXPECT_EQ(request_entry.intent_ids, std::vector<auditlog::IntentId>{testing::TestIntentId(2)});
  const auto& decision = std::get<auditlog::DecisionEntry>(log[size + 1].body());
  EXPECT_EQ(decision.code, "invalid_signature");
  EXPECT_EQ(decision.intent_ids, std::vector<auditlog::IntentId>{testing::TestIntentId(2)});
  EXPECT_EQ(decision.detail, error.message);
  EXPECT_EQ(decision.request_digest,
            crypto::Sha256(
                std::span(reinterpret_cast<const uint8_t*>(other_body.data()), other_body.size())));

  // The genuine head, and an older genuine one (the log extends both), sign.
  HttpReply current = Sign(WithKnownHead(SmallRequest(2), CurrentHead()));
  ASSERT_EQ(current.status, 200) << current.body;
  HttpReply older = Sign(WithKnownHead(SmallRequest(3), genuine));
  ASSERT_EQ(older.status, 200) << older.body;
}

// Decision 0008: signer.db restored from an older copy. The coordinator presents the later head
// this signer signed; the signer refuses "state_rolled_back" (409), logged with the intent ids,
// first while its log is shorter than the head, then when it has grown past it with other
// entries (another root at that size). The replayed intent was consumed after the copy was
// taken: without the check it would be signed again.
TEST_F(ServiceTest, ASignerRestoredFromAnOlderCopyRefusesToSign) {
  const std::filesystem::path dir = state_dir_;
  const std::filesystem::path backup = dir_->path() + "/backup";
  std::filesystem::create_directories(backup);
  const auto copy_database = [](const std::filesystem::path& from,
                                const std::filesystem::path& to) {
    for (const std::string name : {"signer.db", "signer.db-wal", "signer.db-shm"}) {
      std::filesystem::remove(to / name);
      if (std::filesystem::exists(from / name)) std::filesystem::copy_file(from / name, to / name);
    }
  };
  service_.reset();
  copy_database(dir, backup);
  OpenService();

  const std::string consumed = SmallRequest(1);
  ASSERT_EQ(Sign(consumed).status, 200);
  ASSERT_EQ(Sign(SmallRequest(2)).status, 200);
  const std::vector<uint8_t> later = CurrentHead();
  const auditlog::TreeHead later_head = auditlog::SignedTreeHead::Decode(later).value().head();

  service_.reset();
  copy_database(backup, dir);
  OpenService();
  uint64_t size = TreeSize();
  ASSERT_LT(size, later_head.size);

  const std::string replay = WithKnownHead(consumed, later);
  HttpReply refused = Sign(replay);
  ASSERT_EQ(refused.status, 409) << refused.body;
  signerapi::RefusedResult result =
      std::get<signerapi::RefusedResult>(DecodeResponse(refused).result);
  EXPECT_EQ(result.code, "state_rolled_back");
  EXPECT_FALSE(result.intent_index.has_value());
  EXPECT_EQ(result.detail, "the coordinator holds head " + std::to_string(later_head.size) +
                               " (root " + util::HexEncode(later_head.root) +
                               ") signed by this signer; this signer's log has " +
                               std::to_string(size) +
                               " entries: its state was restored from an older copy");
  ASSERT_TRUE(result.audit.has_value());
  ExpectReceiptVerifies(*result.audit);
  auditlog::DecisionEntry decision = DecisionAt(result.audit->index);
  EXPECT_EQ(decision.code, "state_rolled_back");
  EXPECT_EQ(decision.intent_ids, std::vector<auditlog::IntentId>{testing::TestIntentId(1)});
  EXPECT_EQ(decision.detail, result.detail);

  // Grown past the head's size with other entries: its root at that size differs.
  for (uint64_t seed = 10; TreeSize() < later_head.size; ++seed) {
    ASSERT_EQ(Sign(SmallRequest(seed, 1'000)).status, 200);
  }
  HttpReply again = Sign(replay);
  ASSERT_EQ(again.status, 409) << again.body;
  result = std::get<signerapi::RefusedResult>(DecodeResponse(again).result);
  EXPECT_EQ(result.code, "state_rolled_back");
  EXPECT_THAT(result.detail,
              HasSubstr("and its root at size " + std::to_string(later_head.size) + " is "));
  EXPECT_EQ(DecisionAt(result.audit->index).code, "state_rolled_back");

  // The honest twin: the restored signer's own current head signs.
  HttpReply current = Sign(WithKnownHead(SmallRequest(3), CurrentHead()));
  EXPECT_EQ(current.status, 200) << current.body;
}

TEST_F(ServiceTest, AFreezeByAWatcherStopsSigningUntilTwoAdminsUnfreeze) {
  ASSERT_EQ(Sign(SmallRequest(1)).status, 200);
  HttpReply frozen = FreezeBy(actors_.watcher, 1);
  ASSERT_EQ(frozen.status, 200) << frozen.body;
  const signerapi::StatusResponse status = signerapi::DecodeStatusResponse(frozen.body).value();
  ASSERT_TRUE(status.frozen());
  EXPECT_EQ(status.signer, keys_.signer_id);

  HttpReply refused = Sign(SmallRequest(2));
  ASSERT_EQ(refused.status, 423) << refused.body;
  EXPECT_EQ(std::get<signerapi::RefusedResult>(DecodeResponse(refused).result).code, "frozen");

  // A key that is neither watcher nor admin cannot freeze; one admin cannot unfreeze.
  EXPECT_EQ(FreezeBy(actors_.outsider, 2).status, 403);
  EXPECT_EQ(UnfreezeBy({0}, *status.freeze).status, 403);
  EXPECT_TRUE(Status().frozen());

  HttpReply unfrozen = UnfreezeBy({0, 1}, *status.freeze);
  ASSERT_EQ(unfrozen.status, 200) << unfrozen.body;
  EXPECT_FALSE(signerapi::DecodeStatusResponse(unfrozen.body).value().frozen());
  // The same unfreeze again lifts nothing; the freeze again is a replay.
  EXPECT_EQ(UnfreezeBy({0, 1}, *status.freeze).status, 409);
  EXPECT_EQ(FreezeBy(actors_.watcher, 1).status, 409);

  ASSERT_EQ(Sign(SmallRequest(2)).status, 200);
  std::vector<auditlog::EntryKind> kinds;
  for (const auditlog::Entry& entry : ReadLog()) kinds.push_back(entry.kind());
  EXPECT_EQ(std::count(kinds.begin(), kinds.end(), auditlog::EntryKind::kFreeze), 1);
  EXPECT_EQ(std::count(kinds.begin(), kinds.end(), auditlog::EntryKind::kUnfreeze), 1);
}

TEST_F(ServiceTest, ATighteningPolicyIsInForceAtOnceALooseningOneAfterItsDelay) {
  PolicyOptions tighter = FirstPolicyOptions();
  tighter.sequence = 2;
  tighter.predecessor = DigestOf(first_policy_);
  tighter.per_transaction = Sats(40'000);
  const policy::SignedPolicy second = testing::MakePolicy(actors_, tighter);
  HttpReply accepted = ProposePolicy(second);
  ASSERT_EQ(accepted.status, 200) << accepted.body;
  signerapi::StatusResponse status = signerapi::DecodeStatusResponse(accepted.body).value();
  EXPECT_EQ(status.policy.sequence, 2u);
  EXPECT_EQ(status.policy.digest, DigestOf(second));
  EXPECT_FALSE(status.pending_policy.has_value());
  EXPECT_EQ(ProposePolicy(second).status, 409);  // Already in force.
  // Not enough admins; a stale sequence.
  PolicyOptions one_admin = tighter;
  one_admin.sequence = 3;
  one_admin.predecessor = DigestOf(second);
  one_admin.signed_by = {0};
  EXPECT_EQ(ProposePolicy(testing::MakePolicy(actors_, one_admin)).status, 403);
  EXPECT_EQ(ProposePolicy(first_policy_).status, 409);

  // 50000 sat is now above the per-transaction limit.
  HttpReply refused = Sign(SmallRequest(1));
  ASSERT_EQ(refused.status, 403) << refused.body;
  EXPECT_EQ(std::get<signerapi::RefusedResult>(DecodeResponse(refused).result).code,
            "per_transaction_limit");

  // Removing the limit loosens: pending for the activation delay.
  PolicyOptions looser = FirstPolicyOptions();
  looser.sequence = 3;
  looser.predecessor = DigestOf(second);
  const policy::SignedPolicy third = testing::MakePolicy(actors_, looser);
  HttpReply pending = ProposePolicy(third);
  ASSERT_EQ(pending.status, 200) << pending.body;
  status = signerapi::DecodeStatusResponse(pending.body).value();
  EXPECT_EQ(status.policy.sequence, 2u);
  ASSERT_TRUE(status.pending_policy.has_value());
  EXPECT_EQ(status.pending_policy->sequence, 3u);
  EXPECT_EQ(status.pending_policy->activates_at, now_.load() + looser.activation_delay);
  EXPECT_EQ(Sign(SmallRequest(2)).status, 403);

  // After the delay it is in force; the next commit records the promotion.
  now_ += looser.activation_delay;
  status = Status();
  EXPECT_EQ(status.policy.sequence, 3u);
  EXPECT_FALSE(status.pending_policy.has_value());
  const uint64_t size = TreeSize();
  HttpReply signed_reply = Sign(SmallRequest(3));
  ASSERT_EQ(signed_reply.status, 200) << signed_reply.body;
  const std::vector<auditlog::Entry> log = ReadLog();
  ASSERT_EQ(log.size(), size + 3);
  ASSERT_EQ(log[size].kind(), auditlog::EntryKind::kPolicyChange);
  const auto& change = std::get<auditlog::PolicyChangeEntry>(log[size].body());
  EXPECT_EQ(change.new_digest, DigestOf(third));
  EXPECT_EQ(change.old_digest, DigestOf(second));
  EXPECT_EQ(change.sequence, 3u);

  // The promotion is durable: after a restart, policy 3 is in force with no pending policy.
  OpenService();
  status = Status();
  EXPECT_EQ(status.policy.sequence, 3u);
  EXPECT_FALSE(status.pending_policy.has_value());
}

TEST_F(ServiceTest, StateAndLogSurviveARestart) {
  ASSERT_EQ(Sign(SmallRequest(1)).status, 200);
  // 1.5 BTC to the address book, approved by two: 1.5 of the 3 BTC window used.
  policy::SignedIntent big = MakeIntent(
      actors_, {OutputSpec{testing::ForeignAddress(0x70), 150'000'000}}, now_.load(), WithSeed(2));
  std::vector<policy::SignedApproval> approvals = {
      testing::Approve(actors_.approvers[0], big, DigestOf(first_policy_), now_.load()),
      testing::Approve(actors_.approvers[1], big, DigestOf(first_policy_), now_.load())};
  const std::string big_body = SignRequestBody({{.intent = big, .approvals = approvals}}, 2);
  ASSERT_EQ(Sign(big_body).status, 200);
  const signerapi::AuditHead old_head = Status().audit;

  OpenService();
  now_ += 60;
  // Consumed intents survive.
  HttpReply replay = Sign(big_body);
  ASSERT_EQ(replay.status, 409) << replay.body;
  // The window counts the spends before the restart: 1.5 + 0.0005 + 1.5 BTC is above 3 BTC.
  policy::SignedIntent another = MakeIntent(
      actors_, {OutputSpec{testing::ForeignAddress(0x70), 150'000'000}}, now_.load(), WithSeed(3));
  std::vector<policy::SignedApproval> more = {
      testing::Approve(actors_.approvers[0], another, DigestOf(first_policy_), now_.load()),
      testing::Approve(actors_.approvers[1], another, DigestOf(first_policy_), now_.load())};
  HttpReply window = Sign(SignRequestBody({{.intent = another, .approvals = more}}, 3));
  ASSERT_EQ(window.status, 403) << window.body;
  EXPECT_EQ(std::get<signerapi::RefusedResult>(DecodeResponse(window).result).code, "window_limit");

  // The log: a start-up entry per opening, every stored head signed and matching the log, and
  // the head from before the restart extended by the current one.
  const std::vector<auditlog::Entry> entries = ReadLog();
  auditlog::MerkleLog log;
  for (const auditlog::Entry& entry : entries) log.Append(entry.Encode());
  EXPECT_EQ(std::count_if(
                entries.begin(), entries.end(),
                [](const auditlog::Entry& e) { return e.kind() == auditlog::EntryKind::kStartup; }),
            3);  // Init, the first Open and the second.
  util::Result<StateStore> reader =
      StateStore::OpenReadOnly(state_dir_ + "/" + std::string(kStateDatabaseFile));
  ASSERT_TRUE(reader.ok()) << reader.status();
  util::Result<std::vector<auditlog::SignedTreeHead>> heads = reader->ReadHeads();
  ASSERT_TRUE(heads.ok()) << heads.status();
  EXPECT_GE(heads->size(), 6u);
  for (const auditlog::SignedTreeHead& head : *heads) {
    EXPECT_TRUE(head.Verify(keys_.identity_public_key).ok());
    EXPECT_TRUE(auditlog::VerifyLogMatchesHead(log, head.head()).ok());
  }
  EXPECT_EQ(heads->back().head().size, log.size());

  const signerapi::AuditHead current = Status().audit;
  HttpReply proof_reply = service_->Handle(Get(
      "/v1/audit/proof/consistency",
      {{"from", std::to_string(old_head.tree_size)}, {"to", std::to_string(current.tree_size)}}));
  ASSERT_EQ(proof_reply.status, 200) << proof_reply.body;
  util::Result<signerapi::ConsistencyProofResponse> proof =
      signerapi::DecodeConsistencyProof(proof_reply.body);
  ASSERT_TRUE(proof.ok()) << proof.status();
  const auditlog::SignedTreeHead old_signed =
      auditlog::SignedTreeHead::Decode(old_head.signed_tree_head).value();
  const auditlog::SignedTreeHead current_signed =
      auditlog::SignedTreeHead::Decode(current.signed_tree_head).value();
  EXPECT_TRUE(
      auditlog::VerifyHeadConsistency(old_signed.head(), current_signed.head(), proof->hashes)
          .ok());
}

TEST_F(ServiceTest, AClockSteppedBackDoesNotMoveTheLogBack) {
  ASSERT_EQ(Sign(SmallRequest(1)).status, 200);
  const uint64_t before = now_.load();
  const std::string second = SmallRequest(2, 60'000);
  now_ = before - 86400;
  ASSERT_EQ(Sign(second).status, 200);
  const std::vector<auditlog::Entry> log = ReadLog();
  EXPECT_EQ(log.back().time(), before);
  // The window still counts both spends (amounts and fees).
  EXPECT_THAT(service_->MetricsText(),
              HasSubstr("kinko_signer_window_used_sats{wallet=\"treasury-hot\",window=\"86400\"} " +
                        std::to_string(110'000 + 2 * kRequestFee) + "\n"));
}

TEST_F(ServiceTest, MetricsCountDecisionsAndRequests) {
  ASSERT_EQ(Sign(SmallRequest(1)).status, 200);
  ASSERT_EQ(Sign(SmallRequest(1)).status, 409);
  ASSERT_EQ(Sign("[]").status, 400);
  ASSERT_EQ(service_->Handle(Get("/nope")).status, 404);
  service_->CountRequest("/v1/sign", 413);
  service_->CountRequest("/attacker-chosen", 413);

  HttpReply reply = service_->Handle(Get("/metrics"));
  ASSERT_EQ(reply.status, 200);
  EXPECT_EQ(reply.content_type, "text/plain; version=0.0.4");
  const uint64_t size = TreeSize();
  for (const std::string& line : {
           std::string("kinko_signer_decisions_total{result=\"signed\",reason=\"\"} 1\n"),
           std::string(
               "kinko_signer_decisions_total{result=\"refused\",reason=\"intent_replayed\"} 1\n"),
           std::string("kinko_signer_decision_seconds_count{result=\"signed\"} 1\n"),
           std::string("kinko_signer_decision_seconds_count{result=\"refused\"} 1\n"),
           std::string("kinko_signer_decision_seconds_bucket{result=\"refused\",le=\"+Inf\"} 1\n"),
           std::string("kinko_signer_requests_total{endpoint=\"/v1/sign\",status=\"200\"} 1\n"),
           std::string("kinko_signer_requests_total{endpoint=\"/v1/sign\",status=\"409\"} 1\n"),
           std::string("kinko_signer_requests_total{endpoint=\"/v1/sign\",status=\"400\"} 1\n"),
           std::string("kinko_signer_requests_total{endpoint=\"/v1/sign\",status=\"413\"} 1\n"),
           std::string("kinko_signer_requests_total{endpoint=\"other\",status=\"404\"} 1\n"),
           std::string("kinko_signer_requests_total{endpoint=\"other\",status=\"413\"} 1\n"),
           std::string("kinko_signer_frozen 0\n"),
           "kinko_signer_window_used_sats{wallet=\"treasury-hot\",window=\"86400\"} " +
               std::to_string(50'000 + kRequestFee) + "\n",
           std::string("kinko_signer_window_limit_sats{wallet=\"treasury-hot\",window=\"86400\"} "
                       "300000000\n"),
           std::string("kinko_signer_policy_sequence 1\n"),
           "kinko_signer_audit_tree_size " + std::to_string(size) + "\n",
       }) {
    EXPECT_THAT(reply.body, HasSubstr(line));
  }
  EXPECT_THAT(reply.body, ::testing::Not(HasSubstr("nope")));
  EXPECT_THAT(reply.body, ::testing::Not(HasSubstr("attacker")));
  ASSERT_EQ(FreezeBy(actors_.watcher, 1).status, 200);
  EXPECT_THAT(service_->MetricsText(), HasSubstr("kinko_signer_frozen 1\n"));
}

TEST_F(ServiceTest, AuditQueriesAreStrictAndBoundedByTheLog) {
  ASSERT_EQ(Sign(SmallRequest(1)).status, 200);
  const uint64_t size = TreeSize();
  const std::string size_text = std::to_string(size);
  const std::string beyond = std::to_string(size + 1);
  struct Case {
    std::string path;
    std::map<std::string, std::string> query;
    int status;
  };
  const std::vector<Case> cases = {
      {"/v1/audit/proof/inclusion", {{"index", "0"}, {"size", size_text}}, 200},
      {"/v1/audit/proof/inclusion", {{"index", "0"}}, 400},
      {"/v1/audit/proof/inclusion", {{"index", "-1"}, {"size", size_text}}, 400},
      {"/v1/audit/proof/inclusion", {{"index", "+1"}, {"size", size_text}}, 400},
      {"/v1/audit/proof/inclusion", {{"index", "01"}, {"size", size_text}}, 400},
      {"/v1/audit/proof/inclusion", {{"index", "1 "}, {"size", size_text}}, 400},
      {"/v1/audit/proof/inclusion", {{"index", ""}, {"size", size_text}}, 400},
      {"/v1/audit/proof/inclusion", {{"index", "0x1"}, {"size", size_text}}, 400},
      {"/v1/audit/proof/inclusion", {{"index", "18446744073709551616"}, {"size", size_text}}, 400},
      {"/v1/audit/proof/inclusion", {{"index", size_text}, {"size", size_text}}, 400},
      {"/v1/audit/proof/inclusion", {{"index", "0"}, {"size", size_text}, {"x", "1"}}, 400},
      {"/v1/audit/proof/inclusion", {{"index", "0"}, {"size", beyond}}, 404},
      {"/v1/audit/proof/inclusion", {{"index", "0"}, {"size", "18446744073709551615"}}, 404},
      {"/v1/audit/proof/consistency", {{"from", "1"}, {"to", size_text}}, 200},
      {"/v1/audit/proof/consistency", {{"from", size_text}, {"to", size_text}}, 200},
      {"/v1/audit/proof/consistency", {{"from", "0"}, {"to", size_text}}, 400},
      {"/v1/audit/proof/consistency", {{"from", "2"}, {"to", "1"}}, 400},
      {"/v1/audit/proof/consistency", {{"from", "1"}, {"to", beyond}}, 404},
      {"/v1/audit/entries", {{"from", "0"}, {"count", "1000"}}, 200},
      {"/v1/audit/entries", {{"from", "0"}, {"count", "0"}}, 400},
      {"/v1/audit/entries", {{"from", "0"}, {"count", "1001"}}, 400},
      {"/v1/audit/entries", {{"from", size_text}, {"count", "1"}}, 404},
      {"/v1/audit/head", {}, 200},
      {"/v1/audit/head", {{"size", "1"}}, 400},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.path + " " + std::to_string(c.query.size()) + " " + std::to_string(c.status));
    HttpReply reply = service_->Handle(Get(c.path, c.query));
    EXPECT_EQ(reply.status, c.status) << reply.body;
  }

  // The bodies decode and prove what they claim.
  const signerapi::AuditHead head =
      signerapi::DecodeAuditHead(service_->Handle(Get("/v1/audit/head")).body).value();
  EXPECT_EQ(head, Status().audit);
  const signerapi::EntriesResponse page =
      signerapi::DecodeEntries(
          service_->Handle(Get("/v1/audit/entries", {{"from", "0"}, {"count", "1000"}})).body)
          .value();
  ASSERT_EQ(page.entries.size(), size);
  std::vector<auditlog::Hash> leaves;
  for (const std::vector<uint8_t>& entry : page.entries)
    leaves.push_back(auditlog::HashLeaf(entry));
  EXPECT_EQ(auditlog::MerkleTreeHash(leaves), head.root_hash);
  EXPECT_EQ(
      std::get<auditlog::StartupEntry>(auditlog::Entry::Decode(page.entries[0])->body()).head_key,
      keys_.identity_public_key);
  const signerapi::EntriesResponse tail =
      signerapi::DecodeEntries(
          service_
              ->Handle(
                  Get("/v1/audit/entries", {{"from", std::to_string(size - 1)}, {"count", "5"}}))
              .body)
          .value();
  EXPECT_EQ(tail.entries.size(), 1u);

  const signerapi::ConsistencyProofResponse consistency =
      signerapi::DecodeConsistencyProof(
          service_->Handle(Get("/v1/audit/proof/consistency", {{"from", "1"}, {"to", size_text}}))
              .body)
          .value();
  EXPECT_TRUE(auditlog::VerifyConsistency(1, size, auditlog::MerkleTreeHash({leaves.data(), 1}),
                                          head.root_hash, consistency.hashes)
                  .ok());
}

TEST_F(ServiceTest, EveryHeadIsSignedAndIsTheRootOfTheLogAtItsSize) {
  // Commits of two entries (sign requests) and of one (freezes), so that the log passes
  // through sizes of every shape; each time the head must be the root of all the entries.
  const std::string body = SmallRequest(1);
  for (uint8_t i = 0; i < 24; ++i) {
    SCOPED_TRACE(static_cast<int>(i));
    if (i % 3 == 2) {
      ASSERT_EQ(FreezeBy(actors_.watcher, i).status, 200);
    } else {
      ASSERT_THAT(Sign(body).status, ::testing::AnyOf(200, 409, 423));
    }
    const signerapi::AuditHead head = Status().audit;
    std::vector<auditlog::Hash> leaves;
    for (const auditlog::Entry& entry : ReadLog()) leaves.push_back(entry.LeafHash());
    ASSERT_EQ(leaves.size(), head.tree_size);
    EXPECT_EQ(auditlog::MerkleTreeHash(leaves), head.root_hash);
    util::Result<auditlog::SignedTreeHead> signed_head =
        auditlog::SignedTreeHead::Decode(head.signed_tree_head);
    ASSERT_TRUE(signed_head.ok()) << signed_head.status();
    EXPECT_EQ(signed_head->head().root, head.root_hash);
    EXPECT_TRUE(signed_head->Verify(keys_.identity_public_key).ok());
  }
}

TEST_F(ServiceTest, ConcurrentRequestsAreDecidedOneAtATime) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 5;
  std::vector<std::vector<std::string>> bodies(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kPerThread; ++i) {
      bodies[t].push_back(SmallRequest(static_cast<uint64_t>(1 + t * kPerThread + i), 1'000));
    }
  }
  const uint64_t size = TreeSize();
  std::atomic<int> signed_count{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (const std::string& body : bodies[t]) {
        if (Sign(body).status == 200) ++signed_count;
        // Readers interleave with the decisions.
        service_->Handle(Get("/v1/status"));
        service_->MetricsText();
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(signed_count.load(), kThreads * kPerThread);
  EXPECT_EQ(TreeSize(), size + 2 * kThreads * kPerThread);
  EXPECT_THAT(service_->MetricsText(),
              HasSubstr("kinko_signer_window_used_sats{wallet=\"treasury-hot\",window=\"86400\"} " +
                        std::to_string((1'000 + kRequestFee) * kThreads * kPerThread) + "\n"));
}

TEST_F(ServiceTest, HealthAndStatus) {
  HttpReply health = service_->Handle(Get("/healthz"));
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.content_type, "text/plain");
  const signerapi::StatusResponse status = Status();
  EXPECT_EQ(status.signer, keys_.signer_id);
  EXPECT_EQ(status.wallet, kFixtureWalletId);
  EXPECT_FALSE(status.frozen());
  EXPECT_EQ(status.policy.digest, DigestOf(first_policy_));
  util::Result<auditlog::SignedTreeHead> head =
      auditlog::SignedTreeHead::Decode(status.audit.signed_tree_head);
  ASSERT_TRUE(head.ok()) << head.status();
  EXPECT_EQ(head->head().size, status.audit.tree_size);
}

TEST_F(ServiceTest, OpenRefusesAWrongPassphraseAMissingDirectoryAndASecondOpener) {
  util::Result<std::unique_ptr<SignerService>> wrong = SignerService::Open(ServiceOptions{
      .dir = state_dir_, .passphrase = Passphrase("wrong"), .pin = std::nullopt, .clock = nullptr});
  ASSERT_FALSE(wrong.ok());
  // The running service holds the database: either error is a refusal to open.
  EXPECT_THAT(wrong.status().code(), ::testing::AnyOf(util::StatusCode::kPermissionDenied,
                                                      util::StatusCode::kFailedPrecondition));
  util::Result<std::unique_ptr<SignerService>> second = SignerService::Open(ServiceOptions{
      .dir = state_dir_, .passphrase = Passphrase(), .pin = std::nullopt, .clock = nullptr});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), util::StatusCode::kFailedPrecondition);

  service_.reset();
  wrong = SignerService::Open(ServiceOptions{
      .dir = state_dir_, .passphrase = Passphrase("wrong"), .pin = std::nullopt, .clock = nullptr});
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().code(), util::StatusCode::kPermissionDenied);
  util::Result<std::unique_ptr<SignerService>> missing =
      SignerService::Open(ServiceOptions{.dir = state_dir_ + "-missing",
                                         .passphrase = Passphrase(),
                                         .pin = std::nullopt,
                                         .clock = nullptr});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), util::StatusCode::kNotFound);
}

// The same signer with its wallet key in a SoftHSM2 token (the pkcs11 backend).
class Pkcs11ServiceTest : public ServiceTest {
 protected:
  void SetUp() override {
    util::Result<std::unique_ptr<internal::SoftHsmToken>> token = internal::SoftHsmToken::Create();
    ASSERT_TRUE(token.ok()) << token.status();
    token_ = std::move(*token);
    ServiceTest::SetUp();
  }
  void TearDown() override {
    service_.reset();
    token_.reset();
  }
  void ConfigureKeygen(KeygenOptions& keygen) override {
    keygen.key_backend = "pkcs11";
    keygen.pkcs11_module = internal::SoftHsmModulePath();
    keygen.pkcs11_token_label = internal::kSoftHsmTokenLabel;
    keygen.pkcs11_key_label = "wallet-key";
  }
  std::optional<TokenPin> Pin() const override {
    return TokenPin::FromText(internal::kSoftHsmUserPin).value();
  }

  std::unique_ptr<internal::SoftHsmToken> token_;
};

TEST_F(Pkcs11ServiceTest, SignsWithTheTokenKeyAndRefusesAWrongPin) {
  HttpReply reply = Sign(SmallRequest(1));
  ASSERT_EQ(reply.status, 200) << reply.body;
  const auto result = std::get<signerapi::SignedResult>(DecodeResponse(reply).result);
  EXPECT_EQ(result.psbt.inputs[0].partial_sigs.size(), 1u);
  util::Result<btc::Psbt> cosigned =
      testing::SignWithWalletKey(TestContext(), result.psbt, cosigners_, 1);
  ASSERT_TRUE(cosigned.ok()) << cosigned.status();
  EXPECT_TRUE(testing::FinalizeAndVerify(TestContext(), *cosigned).ok());
  ExpectReceiptVerifies(result.audit);

  service_.reset();
  util::Result<std::unique_ptr<SignerService>> wrong_pin =
      SignerService::Open(ServiceOptions{.dir = state_dir_,
                                         .passphrase = Passphrase(),
                                         .pin = TokenPin::FromText("0000").value(),
                                         .clock = nullptr});
  ASSERT_FALSE(wrong_pin.ok());
  EXPECT_EQ(wrong_pin.status().code(), util::StatusCode::kPermissionDenied);
  util::Result<std::unique_ptr<SignerService>> no_pin = SignerService::Open(ServiceOptions{
      .dir = state_dir_, .passphrase = Passphrase(), .pin = std::nullopt, .clock = nullptr});
  ASSERT_FALSE(no_pin.ok());
  EXPECT_EQ(no_pin.status().code(), util::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace kinko::signerd
