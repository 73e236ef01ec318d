// The Coordinator's whole flow through real `kinko-signer` processes over HTTP, a SQLite store
// on a temporary file and an offline chain writing final transactions to a directory.
#include "coordinator/workflow.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "btc/interpreter.h"
#include "coordinator/bitcoin_core.h"
#include "coordinator/offline_chain.h"
#include "storage/sqlite_store.h"
#include "test/coordinator/coordinator_setup.h"
#include "test/signer/signer_process.h"
#include "test/support/bitcoind.h"
#include "util/hex.h"

namespace kinko::coordinator {
namespace {

using kinko::testing::CoordinatorSetup;
using kinko::testing::SignerProcess;
using storage::IntentState;
using Json = nlohmann::json;

constexpr int64_t kFundingSats = 2'000'000'000;  // 20 BTC at receive index 0.

class WorkflowTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = kinko::testing::MakeScratchDir(
        std::string("workflow-") + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    util::Result<CoordinatorSetup> setup = CoordinatorSetup::Create(root_);
    ASSERT_TRUE(setup.ok()) << setup.status();
    setup_ = std::make_unique<CoordinatorSetup>(*std::move(setup));
    for (size_t i = 0; i < CoordinatorSetup::kSigners; ++i) {
      signers_.emplace_back();
      StartSigner(i);
    }
    auto store = storage::SqliteStore::Open(db_path());
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    std::filesystem::create_directories(export_dir());
    auto chain = OfflineChain::Create(export_dir());
    ASSERT_TRUE(chain.ok()) << chain.status();
    chain_ = *std::move(chain);
    coordinator_ = MakeCoordinator("test");
    ASSERT_NE(coordinator_, nullptr);
    funding_ = setup_->Funding({kFundingSats});
    util::Result<std::vector<storage::Utxo>> coins =
        coordinator_->ImportTransaction(kinko::testing::kFixtureWalletId, funding_.Serialize());
    ASSERT_TRUE(coins.ok()) << coins.status();
    ASSERT_EQ(coins->size(), 1u);
  }

  void StartSigner(size_t i) {
    util::Result<std::unique_ptr<SignerProcess>> process =
        SignerProcess::Start(setup_->dirs()[i], setup_->passphrase());
    ASSERT_TRUE(process.ok()) << process.status();
    urls_.resize(CoordinatorSetup::kSigners);
    urls_[i] = (*process)->url();
    signers_[i] = *std::move(process);
  }

  std::unique_ptr<Coordinator> MakeCoordinator(const std::string& instance, bool batching = true) {
    Config config = setup_->MakeConfig(urls_, batching);
    CoordinatorOptions options;
    options.instance = instance;
    options.clock = [this] { return CoordinatorSetup::Now() + clock_offset_.load(); };
    util::Result<std::unique_ptr<Coordinator>> coordinator = Coordinator::Create(
        kinko::testing::TestContext(), config, *store_, *chain_, std::move(options));
    EXPECT_TRUE(coordinator.ok()) << coordinator.status();
    return coordinator.ok() ? *std::move(coordinator) : nullptr;
  }

  std::string db_path() const { return root_ + "/kinkod.db"; }
  std::string export_dir() const { return root_ + "/out"; }

  policy::SignedIntent MakeIntent(uint64_t seed, const std::vector<kinko::testing::OutputSpec>& out,
                                  kinko::testing::IntentOptions options = {}) const {
    options.id_seed = seed;
    return kinko::testing::MakeIntent(setup_->actors(), out, CoordinatorSetup::Now(), options);
  }

  IntentView Submit(const policy::SignedIntent& intent, bool expect_new = true) {
    auto submitted = coordinator_->SubmitIntent(intent.Encode());
    EXPECT_TRUE(submitted.ok()) << submitted.status();
    if (!submitted.ok()) return {};
    EXPECT_EQ(submitted->second, expect_new);
    return submitted->first;
  }

  util::Result<ExecuteResult> ExecuteAll() {
    return coordinator_->Execute(kinko::testing::kFixtureWalletId, {});
  }

  std::vector<std::string> ExportedFiles() const {
    std::vector<std::string> files;
    for (const auto& entry : std::filesystem::directory_iterator(export_dir())) {
      files.push_back(entry.path().filename().string());
    }
    return files;
  }

  // Verifies every input of the batch's final transaction with the script interpreter against
  // the funding outputs and earlier transactions it spends (read from the store's cache).
  void ExpectFinalTransactionVerifies(const storage::BatchRecord& batch) {
    util::Result<btc::Transaction> tx = btc::Transaction::Parse(batch.final_tx);
    ASSERT_TRUE(tx.ok()) << tx.status();
    std::vector<btc::TxOut> spent;
    for (const btc::TxIn& in : tx->inputs) {
      util::Result<std::vector<uint8_t>> raw = store_->GetTransaction(in.prevout.txid);
      ASSERT_TRUE(raw.ok()) << raw.status();
      util::Result<btc::Transaction> previous = btc::Transaction::Parse(*raw);
      ASSERT_TRUE(previous.ok());
      spent.push_back(previous->outputs.at(in.prevout.index));
    }
    const btc::TxVerifyResult verified = btc::VerifyTransaction(kinko::testing::TestContext(), *tx,
                                                                spent, btc::StandardVerifyFlags());
    EXPECT_TRUE(verified.valid) << verified.detail;
    const std::string file = export_dir() + "/" + btc::TxidToHex(tx->ComputeTxid()) + ".hex";
    EXPECT_TRUE(std::filesystem::exists(file)) << file;
  }

  // The outputs of `batch`'s final transaction as (address, sats).
  std::vector<std::pair<std::string, int64_t>> Outputs(const storage::BatchRecord& batch) {
    std::vector<std::pair<std::string, int64_t>> out;
    util::Result<btc::Transaction> tx = btc::Transaction::Parse(batch.final_tx);
    if (!tx.ok()) return out;
    for (const btc::TxOut& o : tx->outputs) {
      out.push_back(
          {btc::EncodeAddress(o.script_pubkey, kinko::testing::kFixtureNetwork).value(), o.value});
    }
    return out;
  }

  static Json Parse(const std::string& text) { return Json::parse(text, nullptr, false); }

  std::string root_;
  std::unique_ptr<CoordinatorSetup> setup_;
  std::vector<std::unique_ptr<SignerProcess>> signers_;
  std::vector<std::string> urls_;
  std::unique_ptr<storage::SqliteStore> store_;
  std::unique_ptr<OfflineChain> chain_;
  std::unique_ptr<Coordinator> coordinator_;
  btc::Transaction funding_;
  std::atomic<uint64_t> clock_offset_{0};
};

TEST_F(WorkflowTest, SmallWithdrawalApprovedAtSubmissionIsSignedVerifiedAndExported) {
  const std::string to = kinko::testing::ForeignAddress(1);
  const IntentView view = Submit(MakeIntent(1, {{to, 40'000'000}}));
  EXPECT_EQ(view.record.state, IntentState::kApproved);
  EXPECT_EQ(view.record.outputs, (std::vector<storage::PayOutput>{{to, 40'000'000}}));
  EXPECT_EQ(Parse(view.record.detail)["rule"], "small withdrawals");

  util::Result<ExecuteResult> executed = ExecuteAll();
  ASSERT_TRUE(executed.ok()) << executed.status();
  ASSERT_EQ(executed->batches.size(), 1u);
  EXPECT_TRUE(executed->waiting.empty());
  util::Result<storage::BatchRecord> batch = coordinator_->GetBatch(executed->batches[0]);
  ASSERT_TRUE(batch.ok()) << batch.status();
  EXPECT_EQ(batch->state, storage::BatchState::kBroadcast) << batch->detail;
  ExpectFinalTransactionVerifies(*batch);
  const auto outputs = Outputs(*batch);
  ASSERT_EQ(outputs.size(), 2u);  // The withdrawal and the change.
  EXPECT_EQ(outputs[0], std::make_pair(to, int64_t{40'000'000}));
  EXPECT_EQ(outputs[0].second + outputs[1].second + batch->fee_sats, kFundingSats);

  const Json detail = Parse(batch->detail);
  ASSERT_TRUE(detail["signers"].is_array()) << batch->detail;
  ASSERT_EQ(detail["signers"].size(), 2u);
  for (const Json& signer : detail["signers"]) {
    EXPECT_EQ(signer["outcome"], "signed");
    EXPECT_TRUE(signer["audit_index"].is_number_unsigned());
    EXPECT_LT(signer["audit_index"].get<uint64_t>(), signer["tree_size"].get<uint64_t>());
  }
  util::Result<IntentView> after = coordinator_->GetIntent(view.record.id);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->record.state, IntentState::kBroadcast);
  EXPECT_EQ(after->record.batch_id, batch->id);
}

TEST_F(WorkflowTest, AddressBookTransferWaitsForTwoTreasuryApprovals) {
  const policy::SignedIntent intent =
      MakeIntent(2, {{CoordinatorSetup::BookAddress(), 700'000'000}});
  const IntentView view = Submit(intent);
  EXPECT_EQ(view.record.state, IntentState::kAwaitingApprovals);
  Json detail = Parse(view.record.detail);
  EXPECT_EQ(detail["rule"], "to the address book");
  ASSERT_EQ(detail["missing"].size(), 1u) << view.record.detail;
  EXPECT_EQ(detail["missing"][0]["group"], "treasury");
  EXPECT_EQ(detail["missing"][0]["needed"], 2);
  EXPECT_EQ(detail["missing"][0]["have"], 0);

  // Not approved yet: nothing to execute.
  util::Result<ExecuteResult> early = ExecuteAll();
  ASSERT_TRUE(early.ok()) << early.status();
  EXPECT_TRUE(early->batches.empty());

  const policy::Digest& policy_digest = setup_->policy().policy().digest();
  const uint64_t now = CoordinatorSetup::Now();
  auto first = coordinator_->SubmitApproval(
      view.record.id,
      kinko::testing::Approve(setup_->actors().approvers[0], intent, policy_digest, now).Encode());
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->record.state, IntentState::kAwaitingApprovals);
  EXPECT_EQ(Parse(first->record.detail)["missing"][0]["have"], 1);

  // The requester cannot approve, nor an approver of another intent's digest.
  const policy::SignedIntent other = MakeIntent(3, {{CoordinatorSetup::BookAddress(), 1000}});
  auto wrong = coordinator_->SubmitApproval(
      view.record.id,
      kinko::testing::Approve(setup_->actors().approvers[1], other, policy_digest, now).Encode());
  EXPECT_EQ(wrong.status().code(), util::StatusCode::kInvalidArgument);

  auto second = coordinator_->SubmitApproval(
      view.record.id,
      kinko::testing::Approve(setup_->actors().approvers[1], intent, policy_digest, now).Encode());
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->record.state, IntentState::kApproved) << second->record.detail;
  EXPECT_EQ(second->approvals.size(), 2u);

  util::Result<ExecuteResult> executed = ExecuteAll();
  ASSERT_TRUE(executed.ok()) << executed.status();
  ASSERT_EQ(executed->batches.size(), 1u);
  util::Result<storage::BatchRecord> batch = coordinator_->GetBatch(executed->batches[0]);
  ASSERT_TRUE(batch.ok());
  EXPECT_EQ(batch->state, storage::BatchState::kBroadcast) << batch->detail;
  ExpectFinalTransactionVerifies(*batch);
  EXPECT_EQ(Outputs(*batch).at(0),
            std::make_pair(CoordinatorSetup::BookAddress(), int64_t{700'000'000}));
}

TEST_F(WorkflowTest, BatchingPaysThreeIntentsInOneTransaction) {
  std::vector<storage::IntentId> ids;
  for (uint64_t i = 0; i < 3; ++i) {
    ids.push_back(
        Submit(MakeIntent(10 + i, {{kinko::testing::ForeignAddress(static_cast<uint8_t>(10 + i)),
                                    1'000'000 * static_cast<int64_t>(i + 1)}}))
            .record.id);
  }
  util::Result<ExecuteResult> executed = ExecuteAll();
  ASSERT_TRUE(executed.ok()) << executed.status();
  ASSERT_EQ(executed->batches.size(), 1u);
  util::Result<storage::BatchRecord> batch = coordinator_->GetBatch(executed->batches[0]);
  ASSERT_TRUE(batch.ok());
  EXPECT_EQ(batch->state, storage::BatchState::kBroadcast) << batch->detail;
  EXPECT_EQ(batch->intents.size(), 3u);
  ExpectFinalTransactionVerifies(*batch);
  const auto outputs = Outputs(*batch);
  ASSERT_EQ(outputs.size(), 4u);
  // The outputs are paid in the batch's intent order (received, then id).
  EXPECT_TRUE(
      std::is_permutation(ids.begin(), ids.end(), batch->intents.begin(), batch->intents.end()));
  for (size_t i = 0; i < 3; ++i) {
    util::Result<IntentView> view = coordinator_->GetIntent(batch->intents[i]);
    ASSERT_TRUE(view.ok());
    EXPECT_EQ(view->record.state, IntentState::kBroadcast);
    EXPECT_EQ(outputs[i].first, view->record.outputs[0].address);
    EXPECT_EQ(outputs[i].second, view->record.outputs[0].sats);
  }
  EXPECT_EQ(ExportedFiles().size(), 1u);
}

TEST_F(WorkflowTest, WithoutBatchingEachIntentHasItsOwnTransaction) {
  coordinator_ = MakeCoordinator("test", /*batching=*/false);
  for (uint64_t i = 0; i < 2; ++i) {
    Submit(MakeIntent(20 + i,
                      {{kinko::testing::ForeignAddress(static_cast<uint8_t>(20 + i)), 2'000'000}}));
  }
  util::Result<ExecuteResult> executed = ExecuteAll();
  ASSERT_TRUE(executed.ok()) << executed.status();
  EXPECT_EQ(executed->batches.size(), 2u);
  EXPECT_EQ(ExportedFiles().size(), 2u);  // The second spends the first one's change.
}

// The May 2024 theft: the coordinator's database row of an approved intent is rewritten to
// another address and a larger amount. Every signer checks the transaction against the signed
// intent and refuses; nothing leaves.
TEST_F(WorkflowTest, Attack2024RewrittenOutputsAreRefusedByEverySigner) {
  const IntentView view =
      Submit(MakeIntent(30, {{kinko::testing::ForeignAddress(30), 40'000'000}}));
  ASSERT_EQ(view.record.state, IntentState::kApproved);

  const std::string attacker = kinko::testing::ForeignAddress(99);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_path().c_str(), &db), SQLITE_OK);
  const std::string sql = "UPDATE intent_outputs SET address = '" + attacker +
                          "', sats = 900000000 WHERE intent_id = x'" +
                          util::HexEncode(view.record.id) + "'";
  char* error = nullptr;
  ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK) << error;
  EXPECT_EQ(sqlite3_changes(db), 1);
  sqlite3_close(db);
  util::Result<IntentView> rewritten = coordinator_->GetIntent(view.record.id);
  ASSERT_TRUE(rewritten.ok());
  ASSERT_EQ(rewritten->record.outputs[0].address, attacker);

  util::Result<ExecuteResult> executed = ExecuteAll();
  ASSERT_TRUE(executed.ok()) << executed.status();
  ASSERT_EQ(executed->batches.size(), 1u);
  util::Result<storage::BatchRecord> batch = coordinator_->GetBatch(executed->batches[0]);
  ASSERT_TRUE(batch.ok());
  EXPECT_EQ(batch->state, storage::BatchState::kFailed);
  EXPECT_TRUE(batch->final_tx.empty());
  EXPECT_TRUE(ExportedFiles().empty());

  util::Result<IntentView> after = coordinator_->GetIntent(view.record.id);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->record.state, IntentState::kRefused);
  const Json detail = Parse(after->record.detail);
  ASSERT_EQ(detail["signers"].size(), 3u) << after->record.detail;
  for (const Json& signer : detail["signers"]) {
    EXPECT_EQ(signer["outcome"], "refused");
    ASSERT_TRUE(signer["code"].is_string());
    const std::string code = signer["code"];
    EXPECT_TRUE(code == "missing_intent_output" || code == "unexpected_output") << code;
    EXPECT_TRUE(signer["audit_index"].is_number_unsigned());  // The refusal is logged.
  }
  // The coins are released.
  util::Result<std::vector<storage::Utxo>> coins =
      store_->ListUtxos(kinko::testing::kFixtureWalletId, storage::UtxoState::kAvailable);
  ASSERT_TRUE(coins.ok());
  EXPECT_EQ(coins->size(), 1u);
}

TEST_F(WorkflowTest, RolledBackSignerIsReportedAndItsSignatureNotUsed) {
  // An old copy of signer 1's state, taken while it is stopped.
  signers_[0]->Stop();
  const std::string backup = root_ + "/signer-1-backup";
  std::filesystem::copy(setup_->dirs()[0], backup, std::filesystem::copy_options::recursive);
  StartSigner(0);
  coordinator_ = MakeCoordinator("test");

  Submit(MakeIntent(40, {{kinko::testing::ForeignAddress(40), 1'000'000}}));
  util::Result<ExecuteResult> first = ExecuteAll();
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ(coordinator_->GetBatch(first->batches.at(0))->state, storage::BatchState::kBroadcast);

  // Signer 1's log is rolled back to the copy.
  signers_[0]->Stop();
  std::filesystem::remove_all(setup_->dirs()[0]);
  std::filesystem::copy(backup, setup_->dirs()[0], std::filesystem::copy_options::recursive);
  StartSigner(0);
  coordinator_ = MakeCoordinator("test");

  Submit(MakeIntent(41, {{kinko::testing::ForeignAddress(41), 1'000'000}}));
  util::Result<ExecuteResult> second = ExecuteAll();
  ASSERT_TRUE(second.ok()) << second.status();
  util::Result<storage::BatchRecord> batch = coordinator_->GetBatch(second->batches.at(0));
  ASSERT_TRUE(batch.ok());
  EXPECT_EQ(batch->state, storage::BatchState::kBroadcast) << batch->detail;
  const Json detail = Parse(batch->detail);
  ASSERT_EQ(detail["signers"].size(), 3u) << batch->detail;
  EXPECT_EQ(detail["signers"][0]["outcome"], "rolled_back");
  EXPECT_EQ(detail["signers"][1]["outcome"], "signed");
  EXPECT_EQ(detail["signers"][2]["outcome"], "signed");
  ExpectFinalTransactionVerifies(*batch);
}

TEST_F(WorkflowTest, StoppedSignerIsAnErrorAndTheOtherTwoSuffice) {
  signers_[0]->Stop();
  Submit(MakeIntent(50, {{kinko::testing::ForeignAddress(50), 1'000'000}}));
  util::Result<ExecuteResult> executed = ExecuteAll();
  ASSERT_TRUE(executed.ok()) << executed.status();
  util::Result<storage::BatchRecord> batch = coordinator_->GetBatch(executed->batches.at(0));
  ASSERT_TRUE(batch.ok());
  EXPECT_EQ(batch->state, storage::BatchState::kBroadcast) << batch->detail;
  const Json detail = Parse(batch->detail);
  ASSERT_EQ(detail["signers"].size(), 3u);
  EXPECT_EQ(detail["signers"][0]["outcome"], "error");
  EXPECT_EQ(detail["signers"][1]["outcome"], "signed");
  EXPECT_EQ(detail["signers"][2]["outcome"], "signed");
}

TEST_F(WorkflowTest, ResubmissionIsIdempotentAndAnotherIntentWithTheSameIdIsRefused) {
  const policy::SignedIntent intent = MakeIntent(60, {{kinko::testing::ForeignAddress(60), 5000}});
  const IntentView first = Submit(intent, true);
  const IntentView again = Submit(intent, false);
  EXPECT_EQ(first.record, again.record);

  const policy::SignedIntent other = MakeIntent(60, {{kinko::testing::ForeignAddress(61), 5000}});
  auto conflict = coordinator_->SubmitIntent(other.Encode());
  EXPECT_EQ(conflict.status().code(), util::StatusCode::kAlreadyExists);

  std::vector<uint8_t> tampered = intent.Encode();
  tampered[tampered.size() / 2] ^= 1;
  EXPECT_FALSE(coordinator_->SubmitIntent(tampered).ok());

  kinko::testing::IntentOptions foreign;
  foreign.wallet = "unknown-wallet";
  auto unknown = coordinator_->SubmitIntent(
      MakeIntent(62, {{kinko::testing::ForeignAddress(62), 5000}}, foreign).Encode());
  EXPECT_EQ(unknown.status().code(), util::StatusCode::kNotFound);
}

TEST_F(WorkflowTest, ExpiredIntentsAreRefusedAtSubmissionAndExpiredByResume) {
  kinko::testing::IntentOptions old;
  old.created = CoordinatorSetup::Now() - 7200;
  old.lifetime = 3600;
  auto late = coordinator_->SubmitIntent(
      MakeIntent(70, {{kinko::testing::ForeignAddress(70), 5000}}, old).Encode());
  EXPECT_EQ(late.status().code(), util::StatusCode::kFailedPrecondition);

  const IntentView view = Submit(MakeIntent(71, {{kinko::testing::ForeignAddress(71), 5000}}));
  ASSERT_EQ(view.record.state, IntentState::kApproved);
  clock_offset_ = 7200;
  ASSERT_TRUE(coordinator_->Resume().ok());
  util::Result<IntentView> after = coordinator_->GetIntent(view.record.id);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->record.state, IntentState::kExpired);
  EXPECT_EQ(Parse(after->record.detail)["code"], "intent_expired");
  util::Result<ExecuteResult> executed = ExecuteAll();
  ASSERT_TRUE(executed.ok()) << executed.status();
  EXPECT_TRUE(executed->batches.empty());
}

// A coordinator gets one signature and loses the other signers; a fresh coordinator (another
// instance, as after a crash) resumes the batch with the persisted signature and asks only the
// signers that did not answer.
TEST_F(WorkflowTest, ResumeFinishesABatchLeftInSigningWithThePersistedSignature) {
  signers_[1]->Stop();
  signers_[2]->Stop();
  const IntentView view = Submit(MakeIntent(80, {{kinko::testing::ForeignAddress(80), 1'000'000}}));
  util::Result<ExecuteResult> executed = ExecuteAll();
  ASSERT_TRUE(executed.ok()) << executed.status();
  util::Result<storage::BatchRecord> waiting = coordinator_->GetBatch(executed->batches.at(0));
  ASSERT_TRUE(waiting.ok());
  ASSERT_EQ(waiting->state, storage::BatchState::kSigning) << waiting->detail;
  EXPECT_EQ(coordinator_->GetIntent(view.record.id)->record.state, IntentState::kSigning);

  StartSigner(1);
  clock_offset_ = 2;  // The released lease is over.
  std::unique_ptr<Coordinator> fresh = MakeCoordinator("after-crash");
  ASSERT_NE(fresh, nullptr);
  ASSERT_TRUE(fresh->Resume().ok());
  util::Result<storage::BatchRecord> batch = fresh->GetBatch(waiting->id);
  ASSERT_TRUE(batch.ok());
  EXPECT_EQ(batch->state, storage::BatchState::kBroadcast) << batch->detail;
  EXPECT_EQ(batch->owner, "after-crash");
  ExpectFinalTransactionVerifies(*batch);
  const Json detail = Parse(batch->detail);
  ASSERT_EQ(detail["signers"].size(), 2u) << batch->detail;
  EXPECT_EQ(detail["signers"][0]["id"], util::HexEncode(setup_->keys()[0].signer_id));
  EXPECT_EQ(detail["signers"][1]["id"], util::HexEncode(setup_->keys()[1].signer_id));
  EXPECT_EQ(fresh->GetIntent(view.record.id)->record.state, IntentState::kBroadcast);
}

}  // namespace
}  // namespace kinko::coordinator

namespace kinko::coordinator {
namespace {

TEST_F(WorkflowTest, ApprovalsThatDoNotCountOrRejectAreShown) {
  const policy::SignedIntent intent =
      MakeIntent(90, {{CoordinatorSetup::BookAddress(), 200'000'000}});
  const IntentView view = Submit(intent);
  ASSERT_EQ(view.record.state, IntentState::kAwaitingApprovals);
  const policy::Digest& digest = setup_->policy().policy().digest();
  const uint64_t now = CoordinatorSetup::Now();

  // A key the policy does not name: refused, not stored.
  auto outsider = coordinator_->SubmitApproval(
      view.record.id,
      kinko::testing::Approve(setup_->actors().outsider, intent, digest, now).Encode());
  EXPECT_EQ(outsider.status().code(), util::StatusCode::kPermissionDenied);
  // An approval under another policy: refused, not stored.
  policy::Digest other_policy = digest;
  other_policy[0] ^= 1;
  auto stale = coordinator_->SubmitApproval(
      view.record.id,
      kinko::testing::Approve(setup_->actors().approvers[0], intent, other_policy, now).Encode());
  EXPECT_EQ(stale.status().code(), util::StatusCode::kPermissionDenied);
  EXPECT_TRUE(coordinator_->GetIntent(view.record.id)->approvals.empty());

  // The requester's own approval is stored and does not count.
  auto own = coordinator_->SubmitApproval(
      view.record.id,
      kinko::testing::Approve(setup_->actors().requester, intent, digest, now).Encode());
  ASSERT_TRUE(own.ok()) << own.status();
  EXPECT_EQ(own->record.state, IntentState::kAwaitingApprovals);
  EXPECT_EQ(Parse(own->record.detail)["missing"][0]["have"], 0);

  // A treasury member rejects: refused, naming the code.
  auto rejected = coordinator_->SubmitApproval(
      view.record.id,
      kinko::testing::Approve(setup_->actors().approvers[2], intent, digest, now, false).Encode());
  ASSERT_TRUE(rejected.ok()) << rejected.status();
  EXPECT_EQ(rejected->record.state, IntentState::kRefused);
  EXPECT_EQ(Parse(rejected->record.detail)["code"], "approval_rejected");
  // Past approval now.
  auto late = coordinator_->SubmitApproval(
      view.record.id,
      kinko::testing::Approve(setup_->actors().approvers[0], intent, digest, now).Encode());
  EXPECT_EQ(late.status().code(), util::StatusCode::kFailedPrecondition);
}

TEST_F(WorkflowTest, ExecuteRefusesWhatItCannotBuild) {
  const std::string wallet = kinko::testing::kFixtureWalletId;
  EXPECT_EQ(coordinator_->Execute("no-such-wallet", {}).status().code(),
            util::StatusCode::kNotFound);
  const storage::IntentId unknown{};
  EXPECT_EQ(coordinator_->Execute(wallet, std::span(&unknown, 1)).status().code(),
            util::StatusCode::kNotFound);

  // Awaiting approvals: not executable by name.
  const policy::SignedIntent big =
      MakeIntent(100, {{CoordinatorSetup::BookAddress(), 2'500'000'000}});  // 25 BTC > 20.
  const IntentView waiting = Submit(big);
  EXPECT_EQ(coordinator_->Execute(wallet, std::span(&waiting.record.id, 1)).status().code(),
            util::StatusCode::kFailedPrecondition);

  // Approved but more than the wallet holds: insufficient funds, still approved.
  const policy::Digest& digest = setup_->policy().policy().digest();
  for (size_t i = 0; i < 2; ++i) {
    ASSERT_TRUE(coordinator_
                    ->SubmitApproval(waiting.record.id,
                                     kinko::testing::Approve(setup_->actors().approvers[i], big,
                                                             digest, CoordinatorSetup::Now())
                                         .Encode())
                    .ok());
  }
  util::Result<ExecuteResult> poor = ExecuteAll();
  EXPECT_EQ(poor.status().code(), util::StatusCode::kFailedPrecondition);
  EXPECT_EQ(coordinator_->GetIntent(waiting.record.id)->record.state, IntentState::kApproved);

  // A fee rate ceiling below the wallet's floor (1000 sat/kvB) can never be met: refused.
  kinko::testing::IntentOptions cheap;
  cheap.fee = {.max_fee = std::nullopt, .max_rate_sat_per_kvb = 500};
  const IntentView stingy =
      Submit(MakeIntent(101, {{kinko::testing::ForeignAddress(101), 10'000}}, cheap));
  ASSERT_EQ(stingy.record.state, IntentState::kApproved);
  util::Result<ExecuteResult> executed =
      coordinator_->Execute(wallet, std::span(&stingy.record.id, 1));
  ASSERT_TRUE(executed.ok()) << executed.status();
  EXPECT_TRUE(executed->batches.empty());
  util::Result<IntentView> refused = coordinator_->GetIntent(stingy.record.id);
  EXPECT_EQ(refused->record.state, IntentState::kRefused);
  EXPECT_EQ(Parse(refused->record.detail)["code"], "fee_ceiling_exceeded");
  EXPECT_TRUE(ExportedFiles().empty());
}

TEST_F(WorkflowTest, ImportFindsOnlyTheWalletsOutputs) {
  const std::string wallet = kinko::testing::kFixtureWalletId;
  btc::Transaction tx = setup_->Funding({1000, 2000}, 7);
  tx.outputs.push_back({.value = 3000,
                        .script_pubkey = btc::DecodeAddress(kinko::testing::ForeignAddress(5),
                                                            kinko::testing::kFixtureNetwork)
                                             ->script_pubkey});
  util::Result<std::vector<storage::Utxo>> found =
      coordinator_->ImportTransaction(wallet, tx.Serialize());
  ASSERT_TRUE(found.ok()) << found.status();
  ASSERT_EQ(found->size(), 2u);
  EXPECT_EQ((*found)[1].index, 1u);
  EXPECT_FALSE((*found)[1].change);
  EXPECT_EQ((*found)[1].sats, 2000);
  const std::vector<uint8_t> garbage = {1, 2, 3};
  EXPECT_EQ(coordinator_->ImportTransaction(wallet, garbage).status().code(),
            util::StatusCode::kInvalidArgument);
  util::Result<std::vector<storage::Utxo>> coins = coordinator_->Utxos(wallet);
  ASSERT_TRUE(coins.ok());
  EXPECT_EQ(coins->size(), 3u);  // With the funding of SetUp.
}

}  // namespace
}  // namespace kinko::coordinator

namespace kinko::coordinator {
namespace {

// A coordinator that stopped right after creating a batch (before building its PSBT): another
// instance builds, signs and exports it once the lease is over.
TEST_F(WorkflowTest, ResumeBuildsABatchLeftInBuilding) {
  const IntentView view = Submit(MakeIntent(110, {{kinko::testing::ForeignAddress(110), 50'000}}));
  ASSERT_EQ(view.record.state, IntentState::kApproved);
  storage::NewBatch created;
  created.wallet = kinko::testing::kFixtureWalletId;
  created.intents = {view.record.id};
  created.inputs = {{.txid = funding_.ComputeTxid(), .index = 0}};
  created.has_change = true;
  created.fee_sats = 2'000;
  created.fee_rate_sat_per_kvb = 5'000;
  created.owner = "crashed";
  created.now = CoordinatorSetup::Now();
  created.lease_seconds = 60;
  util::Result<storage::BatchRecord> batch = store_->CreateBatch(created);
  ASSERT_TRUE(batch.ok()) << batch.status();

  // The lease still runs: left alone.
  ASSERT_TRUE(coordinator_->Resume().ok());
  EXPECT_EQ(coordinator_->GetBatch(batch->id)->state, storage::BatchState::kBuilding);

  clock_offset_ = 120;
  ASSERT_TRUE(coordinator_->Resume().ok());
  util::Result<storage::BatchRecord> resumed = coordinator_->GetBatch(batch->id);
  ASSERT_TRUE(resumed.ok());
  EXPECT_EQ(resumed->state, storage::BatchState::kBroadcast) << resumed->detail;
  EXPECT_EQ(resumed->owner, "test");
  ExpectFinalTransactionVerifies(*resumed);
  EXPECT_EQ(coordinator_->GetIntent(view.record.id)->record.state, IntentState::kBroadcast);
}

}  // namespace
}  // namespace kinko::coordinator

namespace kinko::coordinator {
namespace {

// The same flow on a regtest Bitcoin Core node (when $BITCOIND or `bitcoind` on PATH exists):
// the wallet is funded by the node's miner, the withdrawal is test-accepted, broadcast, mined,
// and Resume follows it to confirmation.
TEST_F(WorkflowTest, RegtestWithdrawalIsBroadcastAndConfirmed) {
  util::Result<std::unique_ptr<kinko::testing::BitcoindNode>> node =
      kinko::testing::BitcoindNode::Start();
  if (node.status().code() == util::StatusCode::kNotFound) {
    GTEST_SKIP() << kinko::testing::kBitcoindSkip;
  }
  ASSERT_TRUE(node.ok()) << node.status();
  ASSERT_TRUE((*node)->CreateMiner().ok());
  BitcoinCoreOptions chain_options;
  chain_options.rpc_url = (*node)->rpc_url();
  chain_options.cookie_file = (*node)->cookie_file();
  auto chain = BitcoinCoreChain::Create(chain_options);
  ASSERT_TRUE(chain.ok()) << chain.status();
  auto store = storage::SqliteStore::Open(root_ + "/regtest.db");
  ASSERT_TRUE(store.ok()) << store.status();
  CoordinatorOptions options;
  options.instance = "regtest";
  util::Result<std::unique_ptr<Coordinator>> coordinator =
      Coordinator::Create(kinko::testing::TestContext(), setup_->MakeConfig(urls_), **store,
                          **chain, std::move(options));
  ASSERT_TRUE(coordinator.ok()) << coordinator.status();

  const std::string receive =
      btc::EncodeAddress(funding_.outputs[0].script_pubkey, kinko::testing::kFixtureNetwork)
          .value();
  ASSERT_TRUE((*node)->Fund(receive, 1'000'000'000).ok());
  ASSERT_TRUE((*node)->Mine(1).ok());
  ASSERT_TRUE((*node)->SyncWallets().ok());

  const std::string to = kinko::testing::ForeignAddress(120);
  auto submitted = (*coordinator)->SubmitIntent(MakeIntent(120, {{to, 40'000'000}}).Encode());
  ASSERT_TRUE(submitted.ok()) << submitted.status();
  ASSERT_EQ(submitted->first.record.state, IntentState::kApproved);
  util::Result<ExecuteResult> executed =
      (*coordinator)->Execute(kinko::testing::kFixtureWalletId, {});
  ASSERT_TRUE(executed.ok()) << executed.status();
  ASSERT_EQ(executed->batches.size(), 1u);
  util::Result<storage::BatchRecord> batch = (*coordinator)->GetBatch(executed->batches[0]);
  ASSERT_TRUE(batch.ok());
  ASSERT_EQ(batch->state, storage::BatchState::kBroadcast) << batch->detail;

  ASSERT_TRUE((*node)->Mine(1).ok());
  ASSERT_TRUE((*node)->SyncWallets().ok());
  ASSERT_TRUE((*coordinator)->Resume().ok());
  batch = (*coordinator)->GetBatch(executed->batches[0]);
  ASSERT_TRUE(batch.ok());
  EXPECT_EQ(batch->state, storage::BatchState::kConfirmed) << batch->detail;
  EXPECT_TRUE(batch->confirmed_height.has_value());
  EXPECT_EQ((*coordinator)->GetIntent(submitted->first.record.id)->record.state,
            IntentState::kConfirmed);
  // The funding coin is spent; the change is the wallet's coin now.
  util::Result<std::vector<storage::Utxo>> coins =
      (*coordinator)->Utxos(kinko::testing::kFixtureWalletId);
  ASSERT_TRUE(coins.ok()) << coins.status();
  int64_t available = 0;
  for (const storage::Utxo& coin : *coins) {
    if (coin.state == storage::UtxoState::kAvailable) {
      EXPECT_TRUE(coin.change);
      available += coin.sats;
    }
  }
  EXPECT_EQ(available, 1'000'000'000 - 40'000'000 - batch->fee_sats);
}

}  // namespace
}  // namespace kinko::coordinator

namespace kinko::coordinator {
namespace {

// Two coordinators on one store execute the same approved intents at once: the store's
// compare-and-set gives each intent to one batch, and one transaction pays it.
TEST_F(WorkflowTest, TwoCoordinatorsExecutingAtOnceBuildOneTransactionPerIntent) {
  std::vector<storage::IntentId> ids;
  for (uint64_t i = 0; i < 4; ++i) {
    ids.push_back(
        Submit(MakeIntent(130 + i, {{kinko::testing::ForeignAddress(static_cast<uint8_t>(130 + i)),
                                     100'000}}))
            .record.id);
  }
  std::unique_ptr<Coordinator> other = MakeCoordinator("other");
  ASSERT_NE(other, nullptr);
  util::Result<ExecuteResult> a = util::InternalError("not run");
  util::Result<ExecuteResult> b = util::InternalError("not run");
  std::thread first([&] { a = coordinator_->Execute(kinko::testing::kFixtureWalletId, {}); });
  std::thread second([&] { b = other->Execute(kinko::testing::kFixtureWalletId, {}); });
  first.join();
  second.join();
  ASSERT_TRUE(a.ok() || b.ok()) << a.status() << " / " << b.status();

  std::set<int64_t> batches;
  for (const storage::IntentId& id : ids) {
    util::Result<IntentView> view = coordinator_->GetIntent(id);
    ASSERT_TRUE(view.ok());
    EXPECT_EQ(view->record.state, IntentState::kBroadcast) << view->record.detail;
    ASSERT_TRUE(view->record.batch_id.has_value());
    batches.insert(*view->record.batch_id);
  }
  // Every exported transaction is one of those batches', and pays each intent once.
  EXPECT_EQ(ExportedFiles().size(), batches.size());
  std::multiset<std::string> paid;
  for (int64_t id : batches) {
    util::Result<storage::BatchRecord> batch = coordinator_->GetBatch(id);
    ASSERT_TRUE(batch.ok());
    for (const auto& [address, sats] : Outputs(*batch)) paid.insert(address);
  }
  for (uint64_t i = 0; i < 4; ++i) {
    EXPECT_EQ(paid.count(kinko::testing::ForeignAddress(static_cast<uint8_t>(130 + i))), 1u);
  }
}

}  // namespace
}  // namespace kinko::coordinator

namespace kinko::coordinator {
namespace {

TEST_F(WorkflowTest, HundredApprovedIntentsArePaidByOneTransaction) {
  constexpr uint64_t kIntents = 100;
  for (uint64_t i = 0; i < kIntents; ++i) {
    Submit(MakeIntent(1000 + i, {{kinko::testing::ForeignAddress(static_cast<uint8_t>(i)),
                                  100'000 + static_cast<int64_t>(i)}}));
  }
  util::Result<ExecuteResult> executed = ExecuteAll();
  ASSERT_TRUE(executed.ok()) << executed.status();
  ASSERT_EQ(executed->batches.size(), 1u);
  util::Result<storage::BatchRecord> batch = coordinator_->GetBatch(executed->batches[0]);
  ASSERT_TRUE(batch.ok());
  EXPECT_EQ(batch->state, storage::BatchState::kBroadcast) << batch->detail;
  EXPECT_EQ(batch->intents.size(), kIntents);
  EXPECT_EQ(Outputs(*batch).size(), kIntents + 1);
  ExpectFinalTransactionVerifies(*batch);
}

}  // namespace
}  // namespace kinko::coordinator
