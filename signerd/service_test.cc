#include "signerd/service.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "auditlog/entry.h"
#include "auditlog/merkle.h"
#include "auditlog/merkle_log.h"
#include "auditlog/tree_head.h"
#include "crypto/rng.h"
#include "signerapi/audit_codec.h"
#include "signerapi/freeze.h"
#include "signerapi/json_codec.h"
#include "signerapi/messages.h"
#include "signerd/internal/softhsm_testing.h"
#include "signerd/setup.h"
#include "signerd/state_store.h"
#include "test/support/signer_fixture.h"
#include "util/check.h"

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

  // A request for one intent of `sats` to a foreign address (rule "small withdrawals" when at
  // most 1 BTC), intent id from `seed`.
  std::string SmallRequest(uint64_t seed, int64_t sats = 50'000) {
    policy::SignedIntent intent = MakeIntent(
        actors_, {OutputSpec{testing::ForeignAddress(0x51), sats}}, now_.load(), WithSeed(seed));
    return SignRequestBody({{.intent = intent, .approvals = {}}}, static_cast<uint32_t>(seed));
  }

  HttpReply Sign(const std::string& body) { return service_->Handle(Post("/v1/sign", body)); }

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

TEST_F(ServiceTest, AnIntentSignatureThatDoesNotVerifyIs403AndNotLogged) {
  std::string body = SmallRequest(1);
  // Change one base64 character of the intent (its amount or signature): the decoder refuses.
  const size_t at = body.find("\"intent\":");
  ASSERT_NE(at, std::string::npos);
  const size_t flip = body.find('"', at + 9) + 1 + 60;
  body[flip] = body[flip] == 'A' ? 'B' : 'A';
  const uint64_t size = TreeSize();
  HttpReply reply = Sign(body);
  EXPECT_THAT(reply.status, ::testing::AnyOf(400, 403));
  EXPECT_THAT(reply.body, HasSubstr("\"error\""));
  EXPECT_EQ(TreeSize(), size);
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
  // The window still counts both spends.
  EXPECT_THAT(service_->MetricsText(),
              HasSubstr("kinko_signer_window_used_sats{wallet=\"treasury-hot\",window=\"86400\"} "
                        "110000\n"));
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
           std::string(
               "kinko_signer_window_used_sats{wallet=\"treasury-hot\",window=\"86400\"} 50000\n"),
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
                        std::to_string(1'000 * kThreads * kPerThread) + "\n"));
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
