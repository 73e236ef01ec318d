// The signer daemon as real processes (test/signer/signer_process.h):
// - three `kinko-signer` processes of a 2-of-3 wallet: two sign, the PSBTs are combined,
//   finalized and the transaction verified (interpreter and `kinko tx verify`); the third,
//   frozen by a watcher, refuses with 423 and logs the refusal;
// - one signer SIGKILLed at random moments (20 to 150 ms after each start) while a client sends
//   it 500 sign requests, resending each after a restart: every signature the client received is
//   in the log, no intent is signed twice, and the velocity state matches the signed decisions.
#include "test/signer/signer_process.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "auditlog/entry.h"
#include "btc/interpreter.h"
#include "btc/psbt_roles.h"
#include "signerapi/json_codec.h"
#include "signerapi/messages.h"
#include "signerd/setup.h"
#include "signerd/state_store.h"
#include "test/signer/signer_setup.h"
#include "util/hex.h"

namespace kinko::testing {
namespace {

using std::chrono::microseconds;

// The answer to POST /v1/sign, decoded; fails the test on anything but a sign response.
struct SignAnswer {
  int status = 0;
  signerapi::SignResponse response;
};

util::Result<SignAnswer> PostSign(const std::string& url, const std::string& body) {
  httplib::Client client(url);
  client.set_read_timeout(60, 0);
  httplib::Result res = client.Post("/v1/sign", body, "application/json");
  if (!res) return util::UnavailableError("POST /v1/sign: " + httplib::to_string(res.error()));
  util::Result<signerapi::SignResponse> response = signerapi::DecodeSignResponse(res->body);
  if (!response.ok()) {
    return util::InternalError("POST /v1/sign: HTTP " + std::to_string(res->status) + ": " +
                               res->body);
  }
  return SignAnswer{.status = res->status, .response = *std::move(response)};
}

// The transaction's inputs as `kinko tx verify --prevouts` reads them.
std::string PrevoutsJson(const btc::Transaction& tx, const std::vector<btc::TxOut>& spent) {
  std::string json = "[";
  for (size_t i = 0; i < tx.inputs.size(); ++i) {
    if (i > 0) json += ",";
    json += "{\"txid\":\"" + btc::TxidToHex(tx.inputs[i].prevout.txid) +
            "\",\"vout\":" + std::to_string(tx.inputs[i].prevout.index) + ",\"scriptPubKey\":\"" +
            util::HexEncode(spent[i].script_pubkey.bytes()) +
            "\",\"amount\":" + std::to_string(spent[i].value) + "}";
  }
  return json + "]";
}

TEST(SignerProcessTest, TwoOfThreeSignCombineVerifyAndFreezeTheThird) {
  const std::string root = MakeScratchDir("two-of-three");
  util::Result<Deployment> deployment = Deployment::Create(root, /*signers=*/3);
  ASSERT_TRUE(deployment.ok()) << deployment.status();

  std::vector<std::unique_ptr<SignerProcess>> signers;
  for (const std::string& dir : deployment->dirs()) {
    util::Result<std::unique_ptr<SignerProcess>> process =
        SignerProcess::Start(dir, deployment->passphrase());
    ASSERT_TRUE(process.ok()) << process.status();
    signers.push_back(*std::move(process));
  }

  const SignRequestCase request = deployment->MakeSignRequest(0);
  const std::string body = signerapi::EncodeSignRequest(request.request);
  std::vector<btc::Psbt> signed_psbts;
  for (size_t s = 0; s < 2; ++s) {
    util::Result<SignAnswer> answer = PostSign(signers[s]->url(), body);
    ASSERT_TRUE(answer.ok()) << answer.status();
    ASSERT_EQ(answer->status, 200) << signerapi::EncodeSignResponse(answer->response);
    const auto* result = std::get_if<signerapi::SignedResult>(&answer->response.result);
    ASSERT_NE(result, nullptr);
    ASSERT_EQ(result->intents.size(), 1u);
    EXPECT_EQ(result->intents[0].intent_id, request.intent_ids[0]);
    EXPECT_LT(result->audit.index, result->audit.head.tree_size);
    signed_psbts.push_back(result->psbt);
  }

  // One signature is not enough; two are.
  util::Result<btc::PsbtFinalizeResult> one = btc::FinalizePsbt(signed_psbts[0]);
  ASSERT_TRUE(one.ok()) << one.status();
  EXPECT_FALSE(one->complete);
  util::Result<btc::Psbt> combined = btc::CombinePsbts(signed_psbts);
  ASSERT_TRUE(combined.ok()) << combined.status();
  util::Result<btc::PsbtFinalizeResult> final_psbt = btc::FinalizePsbt(*std::move(combined));
  ASSERT_TRUE(final_psbt.ok()) << final_psbt.status();
  ASSERT_TRUE(final_psbt->complete);
  util::Result<btc::Transaction> tx = btc::ExtractTransaction(final_psbt->psbt);
  ASSERT_TRUE(tx.ok()) << tx.status();

  const btc::TxVerifyResult verdict = btc::VerifyTransaction(
      deployment->ctx(), *tx, request.spent_outputs, btc::StandardVerifyFlags());
  EXPECT_TRUE(verdict.valid) << verdict.detail;
  const ProcessOutput cli = RunKinko({"tx", "verify", util::HexEncode(tx->Serialize()),
                                      "--prevouts", PrevoutsJson(*tx, request.spent_outputs)},
                                     root);
  EXPECT_EQ(cli.exit_code, 0) << cli.out << cli.err;

  // A transaction with one signature byte changed does not verify.
  btc::Transaction altered = *tx;
  ASSERT_FALSE(altered.inputs[0].witness.empty());
  std::vector<uint8_t>& signature = altered.inputs[0].witness[1];
  signature[signature.size() / 2] ^= 0x01;
  EXPECT_FALSE(btc::VerifyTransaction(deployment->ctx(), altered, request.spent_outputs,
                                      btc::StandardVerifyFlags())
                   .valid);

  // A watcher freezes the third signer: it refuses the same request with 423 and logs it.
  httplib::Client third(signers[2]->url());
  httplib::Result frozen =
      third.Post("/v1/freeze", deployment->FreezeRequestBody(2), "application/json");
  ASSERT_TRUE(frozen);
  ASSERT_EQ(frozen->status, 200) << frozen->body;
  util::Result<SignAnswer> refused = PostSign(signers[2]->url(), body);
  ASSERT_TRUE(refused.ok()) << refused.status();
  EXPECT_EQ(refused->status, 423) << signerapi::EncodeSignResponse(refused->response);
  const auto* refusal = std::get_if<signerapi::RefusedResult>(&refused->response.result);
  ASSERT_NE(refusal, nullptr);
  EXPECT_EQ(refusal->code, "frozen");
  ASSERT_TRUE(refusal->audit.has_value());
  const ProcessOutput show = RunKinko({"audit", "show", "--signer", signers[2]->url(), "--from",
                                       std::to_string(refusal->audit->index), "--count", "1"},
                                      root);
  EXPECT_EQ(show.exit_code, 0) << show.err;
  EXPECT_NE(show.out.find(std::to_string(refusal->audit->index) + " "), std::string::npos);
  EXPECT_NE(show.out.find("decision refused code=frozen"), std::string::npos) << show.out;

  // The two signers that signed: their logs verify against their signed heads and keys.
  for (size_t s = 0; s < 2; ++s) {
    const ProcessOutput verify =
        RunKinko({"audit", "verify", "--signer", signers[s]->url(), "--signer-key",
                  util::HexEncode(deployment->keys()[s].identity_public_key)},
                 root);
    EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
    EXPECT_NE(verify.out.find("audit log verified"), std::string::npos) << verify.out;
    EXPECT_NE(verify.out.find("1 signed, 0 refused"), std::string::npos) << verify.out;
  }
  for (std::unique_ptr<SignerProcess>& signer : signers) EXPECT_EQ(signer->Stop(), 0);
}

// What the client of the crash test received for one request.
struct Received {
  bool signed_here = false;         // 200: a signature left the signer.
  signerapi::AuditReceipt receipt;  // When signed.
  bool replayed = false;            // 409 intent_replayed after a resend.
};

TEST(SignerProcessTest, SigkillAtRandomMomentsLosesNoDecisionAndSignsNothingTwice) {
  constexpr size_t kRequests = 500;
  const std::string root = MakeScratchDir("crash");
  util::Result<Deployment> deployment = Deployment::Create(root, /*signers=*/1);
  ASSERT_TRUE(deployment.ok()) << deployment.status();
  const std::string dir = deployment->dirs()[0];

  std::vector<SignRequestCase> requests;
  for (size_t i = 0; i < kRequests; ++i) requests.push_back(deployment->MakeSignRequest(i));

  util::Result<std::unique_ptr<SignerProcess>> started =
      SignerProcess::Start(dir, deployment->passphrase());
  ASSERT_TRUE(started.ok()) << started.status();
  std::unique_ptr<SignerProcess> signer = *std::move(started);
  std::string url = signer->url();

  // Some requests, chosen by a seeded generator, get a kill of the signer 0 to 3 ms after they
  // are sent: before the request is read, while the decision is being written, after the answer
  // left, or between two requests. Each kill is joined before the next request is sent, so each
  // one kills the process that was serving and forces one restart.
  std::mt19937 rng(20261203);  // Seeded: a failure replays with the same kill schedule.
  std::bernoulli_distribution kill_during(0.06);
  std::uniform_int_distribution<int> kill_after_us(0, 3000);
  int kills = 0;
  std::vector<Received> received(kRequests);
  int restarts = 0;
  for (size_t i = 0; i < kRequests; ++i) {
    const std::string body = signerapi::EncodeSignRequest(requests[i].request);
    for (int attempt = 0;; ++attempt) {
      ASSERT_LT(attempt, 50) << "request " << i << " never answered";
      std::thread killer;
      if (attempt == 0 && kill_during(rng)) {
        const microseconds pause(kill_after_us(rng));
        killer = std::thread([&signer, pause] {
          std::this_thread::sleep_for(pause);
          signer->Kill(SIGKILL);
        });
        ++kills;
      }
      util::Result<SignAnswer> answer = PostSign(url, body);
      if (killer.joinable()) killer.join();
      if (answer.ok() && answer->status == 200) {
        const auto& result = std::get<signerapi::SignedResult>(answer->response.result);
        received[i].signed_here = true;
        received[i].receipt = result.audit;
        break;
      }
      const auto* refused =
          answer.ok() ? std::get_if<signerapi::RefusedResult>(&answer->response.result) : nullptr;
      if (refused != nullptr && refused->code == "intent_replayed") {
        EXPECT_EQ(answer->status, 409) << "request " << i;
        ASSERT_GT(attempt, 0) << "request " << i << " replayed on its first attempt";
        received[i].replayed = true;
        break;
      }
      ASSERT_FALSE(answer.ok() && answer->status != 503)
          << "request " << i << ": HTTP " << answer->status << " "
          << signerapi::EncodeSignResponse(answer->response);
      if (!answer.ok() && answer.status().code() != util::StatusCode::kUnavailable) {
        FAIL() << "request " << i << ": " << answer.status();
      }
      // The signer was killed (or is busy): make sure it is gone, then start it again.
      signer->Kill(SIGKILL);
      signer->Wait();
      util::Result<std::unique_ptr<SignerProcess>> restarted =
          SignerProcess::Start(dir, deployment->passphrase());
      ASSERT_TRUE(restarted.ok()) << restarted.status();
      signer = *std::move(restarted);
      url = signer->url();
      ++restarts;
    }
  }
  EXPECT_EQ(signer->Stop(), 0);
  EXPECT_GE(restarts, kills);  // Every kill was noticed and the signer started again.
  EXPECT_GT(kills, 10);        // The test tested something.
  std::printf("crash test: %d kills, %d restarts\n", kills, restarts);

  // The state as it is on disk: it loads (the heads match the log).
  util::Result<signerd::StateStore> store =
      signerd::StateStore::OpenReadOnly(dir + "/" + std::string(signerd::kStateDatabaseFile));
  ASSERT_TRUE(store.ok()) << store.status();
  util::Result<signerd::LoadedState> loaded = store->Load();
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  util::Result<uint64_t> count = store->EntryCount();
  ASSERT_TRUE(count.ok());
  util::Result<std::vector<std::vector<uint8_t>>> encoded = store->ReadEntries(0, *count);
  ASSERT_TRUE(encoded.ok()) << encoded.status();
  std::vector<auditlog::Entry> entries;
  for (const std::vector<uint8_t>& bytes : *encoded) {
    util::Result<auditlog::Entry> entry = auditlog::Entry::Decode(bytes);
    ASSERT_TRUE(entry.ok()) << entry.status();
    entries.push_back(*std::move(entry));
  }
  // Every request we sent that the log decided was decided on at most once as signed.
  std::map<auditlog::IntentId, size_t> request_of;
  for (size_t i = 0; i < kRequests; ++i) request_of[requests[i].intent_ids[0]] = i;
  std::set<auditlog::IntentId> signed_ids;
  int64_t signed_sats = 0;
  for (const auditlog::Entry& entry : entries) {
    const auto* decision = std::get_if<auditlog::DecisionEntry>(&entry.body());
    if (decision == nullptr || decision->outcome != auditlog::Outcome::kSigned) continue;
    for (const auditlog::IntentId& id : decision->intent_ids) {
      EXPECT_TRUE(signed_ids.insert(id).second) << "intent signed twice";
      ASSERT_TRUE(request_of.contains(id));
      // What left the wallet: the intent's amount and the transaction's fee.
      const SignRequestCase& request = requests[request_of[id]];
      int64_t fee = 0;
      for (const btc::TxOut& spent : request.spent_outputs) fee += spent.value;
      for (const btc::TxOut& out : request.request.psbt.unsigned_tx->outputs) fee -= out.value;
      signed_sats += request.amount.sats() + fee;
    }
  }
  // Every signature the client received has its signed decision at the receipt's index.
  size_t received_signatures = 0;
  for (size_t i = 0; i < kRequests; ++i) {
    if (!received[i].signed_here) {
      // Answered 409: the signature was made before a kill, so its decision is in the log.
      EXPECT_TRUE(received[i].replayed);
      EXPECT_TRUE(signed_ids.contains(requests[i].intent_ids[0])) << "request " << i;
      continue;
    }
    ++received_signatures;
    const uint64_t index = received[i].receipt.index;
    ASSERT_LT(index, entries.size()) << "request " << i;
    const auto* decision = std::get_if<auditlog::DecisionEntry>(&entries[index].body());
    ASSERT_NE(decision, nullptr) << "request " << i << ": entry " << index;
    EXPECT_EQ(decision->outcome, auditlog::Outcome::kSigned);
    EXPECT_EQ(decision->intent_ids, requests[i].intent_ids) << "request " << i;
  }
  EXPECT_EQ(signed_ids.size(), kRequests);  // Each request was signed exactly once.
  EXPECT_GT(received_signatures, kRequests / 2);
  int64_t spent_sats = 0;
  for (const policy::Spend& spend : loaded->state.velocity.spends)
    spent_sats += spend.amount.sats();
  EXPECT_EQ(spent_sats, signed_sats);
  EXPECT_EQ(loaded->state.consumed.size(), signed_ids.size());

  // And the log verifies with `kinko audit verify --dir`.
  const ProcessOutput verify = RunKinko({"audit", "verify", "--dir", dir}, root);
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
}

}  // namespace
}  // namespace kinko::testing
