// SignerPool against real `kinko-signer` processes (test/signer/signer_setup.h's Deployment):
// m-of-n collection, answers passed on in order, audit heads kept and checked.
#include "coordinator/signer_pool.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "storage/sqlite_store.h"
#include "test/signer/signer_process.h"
#include "test/signer/signer_setup.h"

namespace kinko::coordinator {
namespace {

using kinko::testing::Deployment;
using kinko::testing::SignerProcess;

class SignerPoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = kinko::testing::MakeScratchDir(
        std::string("pool-") + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    util::Result<Deployment> deployment = Deployment::Create(root_, 3);
    ASSERT_TRUE(deployment.ok()) << deployment.status();
    deployment_ = std::make_unique<Deployment>(*std::move(deployment));
    for (const std::string& dir : deployment_->dirs()) {
      util::Result<std::unique_ptr<SignerProcess>> process =
          SignerProcess::Start(dir, deployment_->passphrase());
      ASSERT_TRUE(process.ok()) << process.status();
      signers_.push_back(*std::move(process));
    }
    auto store = storage::SqliteStore::Open(root_ + "/kinkod.db");
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }

  std::vector<SignerEndpoint> Endpoints() const {
    std::vector<SignerEndpoint> out;
    for (size_t i = 0; i < signers_.size(); ++i) {
      out.push_back(
          {.url = signers_[i]->url(), .id = deployment_->keys()[i].signer_id, .ca_cert = ""});
    }
    return out;
  }

  std::string root_;
  std::unique_ptr<Deployment> deployment_;
  std::vector<std::unique_ptr<SignerProcess>> signers_;
  std::unique_ptr<storage::SqliteStore> store_;
};

TEST_F(SignerPoolTest, CollectsThresholdSignaturesAndKeepsEachSignersHead) {
  SignerPool pool(Endpoints(), 2, *store_);
  std::vector<SignerAnswer::Outcome> seen;
  util::Result<SignOutcome> outcome =
      pool.Sign(deployment_->MakeSignRequest(0).request, [&](const SignerAnswer& answer) {
        seen.push_back(answer.outcome);
        return util::OkStatus();
      });
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_TRUE(outcome->enough());
  ASSERT_EQ(outcome->answers.size(), 2u);  // The third signer is not asked.
  EXPECT_EQ(seen, (std::vector<SignerAnswer::Outcome>{SignerAnswer::Outcome::kSigned,
                                                      SignerAnswer::Outcome::kSigned}));
  for (size_t i = 0; i < 2; ++i) {
    const SignerAnswer& answer = outcome->answers[i];
    ASSERT_TRUE(answer.audit.has_value());
    util::Result<std::optional<storage::SignerHead>> head =
        store_->GetSignerHead(deployment_->keys()[i].signer_id);
    ASSERT_TRUE(head.ok()) << head.status();
    ASSERT_TRUE(head->has_value());
    EXPECT_EQ((*head)->tree_size, answer.audit->head.tree_size);
  }
  // A second round extends the kept heads (a consistency proof is fetched and verified).
  util::Result<SignOutcome> again = pool.Sign(deployment_->MakeSignRequest(1).request,
                                              [](const SignerAnswer&) { return util::OkStatus(); });
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->enough());
  EXPECT_EQ(again->answers[0].outcome, SignerAnswer::Outcome::kSigned) << again->answers[0].error;
}

TEST_F(SignerPoolTest, HeadSignedByAnotherKeyThanThePinnedIdIsRolledBack) {
  std::vector<SignerEndpoint> endpoints = Endpoints();
  endpoints[0].id = deployment_->keys()[1].signer_id;  // The configuration pins another key.
  SignerPool pool(endpoints, 2, *store_);
  util::Result<SignOutcome> outcome =
      pool.Sign(deployment_->MakeSignRequest(2).request,
                [](const SignerAnswer&) { return util::OkStatus(); });
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(outcome->answers[0].outcome, SignerAnswer::Outcome::kRolledBack);
  EXPECT_FALSE(outcome->answers[0].psbt.has_value());
  EXPECT_EQ(outcome->signed_psbts.size(), 2u);  // Signers 2 and 3.
  EXPECT_EQ(outcome->answers.size(), 3u);
}

// Copies a signer's database files (signer.db and its -wal and -shm, when present) from the
// state directory or backup `from` to `to`, removing those `to` had; the signer must be stopped.
void CopyDatabase(const std::filesystem::path& from, const std::filesystem::path& to) {
  for (const std::string name : {"signer.db", "signer.db-wal", "signer.db-shm"}) {
    std::filesystem::remove(to / name);
    if (std::filesystem::exists(from / name)) std::filesystem::copy_file(from / name, to / name);
  }
}

// Decision 0008: the pool sends each signer the head kept for it, so a signer whose state was
// restored from an older copy refuses to sign itself ("state_rolled_back") instead of signing
// with forgotten consumed intents, and the pool reports it as rolled back.
TEST_F(SignerPoolTest, SendsTheKeptHeadSoASignerRestoredFromAnOlderCopyRefuses) {
  const std::filesystem::path dir = deployment_->dirs()[0];
  const std::filesystem::path backup = root_ + "/backup";
  std::filesystem::create_directories(backup);
  ASSERT_EQ(signers_[0]->Stop(), 0);
  CopyDatabase(dir, backup);
  const auto restart = [&] {
    util::Result<std::unique_ptr<SignerProcess>> process =
        SignerProcess::Start(dir.string(), deployment_->passphrase());
    ASSERT_TRUE(process.ok()) << process.status();
    signers_[0] = *std::move(process);
  };
  restart();

  const auto round = [&](uint64_t n) {
    SignerPool pool(Endpoints(), 2, *store_);
    util::Result<SignOutcome> outcome =
        pool.Sign(deployment_->MakeSignRequest(n).request,
                  [](const SignerAnswer&) { return util::OkStatus(); });
    EXPECT_TRUE(outcome.ok()) << outcome.status();
    return outcome.ok() ? *std::move(outcome) : SignOutcome{};
  };
  // The first round keeps signer 1's head; the second sends it, and the genuine head signs.
  ASSERT_EQ(round(10).answers.at(0).outcome, SignerAnswer::Outcome::kSigned);
  const SignOutcome second = round(11);
  ASSERT_EQ(second.answers.at(0).outcome, SignerAnswer::Outcome::kSigned)
      << second.answers.at(0).error;
  util::Result<std::optional<storage::SignerHead>> kept =
      store_->GetSignerHead(deployment_->keys()[0].signer_id);
  ASSERT_TRUE(kept.ok() && kept->has_value());
  EXPECT_EQ((*kept)->tree_size, second.answers[0].audit->head.tree_size);

  // Restored from the copy taken before both rounds: signer 1 refuses, the others sign.
  ASSERT_EQ(signers_[0]->Stop(), 0);
  CopyDatabase(backup, dir);
  restart();
  const SignOutcome third = round(12);
  ASSERT_EQ(third.answers.size(), 3u);
  const SignerAnswer& refused = third.answers[0];
  EXPECT_EQ(refused.outcome, SignerAnswer::Outcome::kRolledBack) << refused.error;
  ASSERT_TRUE(refused.refusal.has_value()) << refused.error;
  EXPECT_EQ(refused.refusal->code, "state_rolled_back");
  EXPECT_NE(refused.refusal->detail.find("the coordinator holds head " +
                                         std::to_string((*kept)->tree_size)),
            std::string::npos)
      << refused.refusal->detail;
  EXPECT_FALSE(refused.psbt.has_value());
  EXPECT_TRUE(third.enough());
}

// A kept head that the signer did not sign (here: another signer's) is refused by the signer as
// an invalid signature, which shows that the pool sends it.
TEST_F(SignerPoolTest, AKeptHeadOfAnotherSignerIsRefusedAsAnInvalidSignature) {
  SignerPool pool(Endpoints(), 2, *store_);
  util::Result<SignOutcome> first = pool.Sign(deployment_->MakeSignRequest(20).request,
                                              [](const SignerAnswer&) { return util::OkStatus(); });
  ASSERT_TRUE(first.ok()) << first.status();
  util::Result<std::optional<storage::SignerHead>> other =
      store_->GetSignerHead(deployment_->keys()[1].signer_id);
  ASSERT_TRUE(other.ok() && other->has_value());
  storage::SignerHead swapped = **other;
  swapped.signer = deployment_->keys()[0].signer_id;
  ASSERT_TRUE(store_->PutSignerHead(swapped).ok());

  util::Result<SignOutcome> second =
      pool.Sign(deployment_->MakeSignRequest(21).request,
                [](const SignerAnswer&) { return util::OkStatus(); });
  ASSERT_TRUE(second.ok()) << second.status();
  const SignerAnswer& answer = second->answers.at(0);
  // The signer logged it as a refusal, and the pool records it as one (not as an outage).
  EXPECT_EQ(answer.outcome, SignerAnswer::Outcome::kRefused);
  ASSERT_TRUE(answer.refusal.has_value());
  EXPECT_EQ(answer.refusal->code, "invalid_signature");
  EXPECT_NE(answer.refusal->detail.find("known_head"), std::string::npos) << answer.refusal->detail;
  EXPECT_FALSE(answer.psbt.has_value());
}

TEST_F(SignerPoolTest, UnreachableSignerIsAnErrorAndOnAnswerErrorStopsTheRound) {
  signers_[0]->Stop();
  SignerPool pool(Endpoints(), 2, *store_);
  int calls = 0;
  util::Result<SignOutcome> outcome =
      pool.Sign(deployment_->MakeSignRequest(3).request, [&](const SignerAnswer& answer) {
        ++calls;
        if (calls == 1) {
          EXPECT_EQ(answer.outcome, SignerAnswer::Outcome::kError);
        }
        return calls == 2 ? util::UnavailableError("store down") : util::OkStatus();
      });
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.status().code(), util::StatusCode::kUnavailable);
  EXPECT_EQ(calls, 2);

  const std::vector<std::optional<signerapi::StatusResponse>> status = pool.Status();
  ASSERT_EQ(status.size(), 3u);
  EXPECT_FALSE(status[0].has_value());
  ASSERT_TRUE(status[1].has_value());
  EXPECT_EQ(status[1]->signer, deployment_->keys()[1].signer_id);
}

TEST(SignerOutcomeNameTest, NamesEveryOutcome) {
  EXPECT_EQ(SignerOutcomeName(SignerAnswer::Outcome::kSigned), "signed");
  EXPECT_EQ(SignerOutcomeName(SignerAnswer::Outcome::kRefused), "refused");
  EXPECT_EQ(SignerOutcomeName(SignerAnswer::Outcome::kError), "error");
  EXPECT_EQ(SignerOutcomeName(SignerAnswer::Outcome::kRolledBack), "rolled_back");
}

}  // namespace
}  // namespace kinko::coordinator
