// The attack suite's world with the coordinator in it: the three real `kinko-signer` processes
// of an AttackWorld (test/attacks/attack_harness.h), a real `kinkod` process
// (test/integration/kinkod_process.h) on SQLite with the offline chain backend in front of them,
// and between kinkod and each signer a SignerTap: a forwarding proxy that records every sign
// request kinkod sends (so that each signer's audit log can be searched for the exact body) and
// lets a scenario rewrite one on its way (the attacker who owns the coordinator's host or the
// network).
//
// The scenario submits signed intents and approvals to kinkod over HTTP, as the requester and
// the approvers would, and executes them as kinkod's operator; the attacker writes to kinkod's
// SQLite database (Sql) or restores an old copy of it (Snapshot, RestoreSnapshot). The checks:
//   - KinkodRefused: kinkod shows the intent refused, with every signer's refusal code; every
//     signer refused the body it was sent with that code and logged it; no signer's log has a
//     signed decision for the intent; no exported transaction pays it;
//   - PaidOnceAndValid (the honest twin): kinkod shows the intent broadcast, exactly one exported
//     transaction pays its outputs, and its inputs verify with the script interpreter against the
//     coins the world funded.
//
// Everything is in namespace kinko::testing::through_kinkod so that these inline definitions
// cannot collide with other attack files' helpers in the one attack_test binary.
//
// TEST CODE ONLY: the passphrase and every fixture key are public.
//
// Not thread-safe; one owner per world (each SignerTap serves kinkod from its own thread and
// guards what it records).
#ifndef KINKO_TEST_ATTACKS_KINKOD_SUPPORT_H_
#define KINKO_TEST_ATTACKS_KINKOD_SUPPORT_H_

#include <gtest/gtest.h>
#include <httplib.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include "btc/address.h"
#include "btc/interpreter.h"
#include "btc/transaction.h"
#include "policy/approval.h"
#include "policy/intent.h"
#include "test/attacks/attack_harness.h"
#include "test/integration/kinkod_process.h"
#include "util/hex.h"
#include "util/result.h"

namespace kinko::testing::through_kinkod {

using nlohmann::json;

inline constexpr char kWalletPath[] = "/v1/wallets/treasury-hot";

inline std::string IdHex(const policy::SignedIntent& intent) {
  return util::HexEncode(intent.intent().fields().id);
}

// A proxy in front of one signer: every request (any path, GET or POST) is forwarded to the
// signer and its answer returned unchanged, except that the body of a POST /v1/sign first goes
// through the rewrite function when one is set. Records each POST /v1/sign body as forwarded.
// Not copyable or movable (its server thread holds `this`).
class SignerTap final {
 public:
  // Listens on 127.0.0.1 (any free port) and forwards to `upstream` ("http://host:port").
  static util::Result<std::unique_ptr<SignerTap>> Start(const std::string& upstream) {
    auto tap = std::unique_ptr<SignerTap>(new SignerTap(upstream));
    tap->port_ = tap->server_.bind_to_any_port("127.0.0.1");
    if (tap->port_ <= 0) return util::UnavailableError("signer tap: cannot bind");
    tap->thread_ = std::thread([raw = tap.get()] { raw->server_.listen_after_bind(); });
    return tap;
  }

  ~SignerTap() {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }
  SignerTap(const SignerTap&) = delete;
  SignerTap& operator=(const SignerTap&) = delete;

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // Every POST /v1/sign body forwarded so far, in order.
  std::vector<std::string> SignBodies() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return sign_bodies_;
  }
  // From now on, each POST /v1/sign body is replaced by `rewrite(body)` before it is forwarded
  // (an empty function: forwarded unchanged).
  void SetRewrite(std::function<std::string(const std::string&)> rewrite) {
    std::lock_guard<std::mutex> lock(mutex_);
    rewrite_ = std::move(rewrite);
  }

 private:
  explicit SignerTap(std::string upstream) : upstream_(std::move(upstream)) {
    server_.Get(".*",
                [this](const httplib::Request& req, httplib::Response& res) { Forward(req, res); });
    server_.Post(
        ".*", [this](const httplib::Request& req, httplib::Response& res) { Forward(req, res); });
  }

  void Forward(const httplib::Request& req, httplib::Response& res) {
    httplib::Client client(upstream_);
    client.set_read_timeout(120, 0);
    std::string body = req.body;
    if (req.method == "POST" && req.path == "/v1/sign") {
      std::lock_guard<std::mutex> lock(mutex_);
      if (rewrite_) body = rewrite_(body);
      sign_bodies_.push_back(body);
    }
    httplib::Result answer =
        req.method == "POST"
            ? client.Post(req.target, body, req.get_header_value("Content-Type").c_str())
            : client.Get(req.target);
    if (!answer) {
      res.status = 502;
      return;
    }
    res.status = answer->status;
    res.set_content(answer->body, answer->get_header_value("Content-Type"));
  }

  std::string upstream_;
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  mutable std::mutex mutex_;
  std::vector<std::string> sign_bodies_;                    // Guarded by mutex_.
  std::function<std::string(const std::string&)> rewrite_;  // Guarded by mutex_.
};

// One scenario's world: the signers, their taps and kinkod (see the top of this file). Not
// copyable or movable; the destructor stops kinkod, then the taps, then the signers.
class KinkodWorld final {
 public:
  // The funding coins every world starts with: two coins at receive indexes 0 and 1.
  static constexpr int64_t kCoinSats = 10'000'000;
  // The seeds of the fixture's keys (MakeActors): ops-bot, and alice (bob, carol follow).
  static constexpr uint8_t kRequesterSeed = 0x29;
  static constexpr uint8_t kFirstApproverSeed = 0x24;

  // Starts the signers (AttackWorld::Start(name, policy_options)), a tap in front of each, and
  // kinkod on SQLite in the world's directory, and imports the funding coins.
  static util::Result<std::unique_ptr<KinkodWorld>> Start(
      const std::string& name,
      const PolicyOptions& policy_options = Deployment::DefaultPolicyOptions()) {
    util::Result<std::unique_ptr<AttackWorld>> signers =
        AttackWorld::Start("kinkod-" + name, policy_options);
    if (!signers.ok()) return signers.status();
    auto world = std::unique_ptr<KinkodWorld>(new KinkodWorld(*std::move(signers)));
    AttackWorld& w = *world->signers_;
    KinkodSettings settings;
    for (size_t i = 0; i < w.signer_count(); ++i) {
      util::Result<std::unique_ptr<SignerTap>> tap = SignerTap::Start(w.signer(i).url());
      if (!tap.ok()) return tap.status();
      settings.signers.push_back({.url = (*tap)->url(), .id = w.deployment().keys()[i].signer_id});
      world->taps_.push_back(*std::move(tap));
    }
    const std::string policy_file = w.root() + "/policy.bin";
    const std::vector<uint8_t> policy = w.policy().Encode();
    if (util::Status s = WriteFile(policy_file, std::string(policy.begin(), policy.end()));
        !s.ok()) {
      return s;
    }
    world->db_path_ = w.root() + "/kinkod.db";
    world->export_dir_ = w.root() + "/out";
    std::filesystem::create_directories(world->export_dir_);
    settings.instance = "kinkod-attacks";
    settings.storage_backend = "sqlite";
    settings.storage_path = world->db_path_;
    settings.chain_backend = "offline";
    settings.export_dir = world->export_dir_;
    settings.descriptor = w.deployment().descriptor();
    settings.policy_file = policy_file;
    settings.threshold = static_cast<uint32_t>(w.threshold());
    settings.min_confirmations = 0;  // Imported coins have no height.
    world->config_path_ = w.root() + "/kinkod.toml";
    if (util::Status s = WriteFile(world->config_path_, KinkodConfigToml(settings)); !s.ok()) {
      return s;
    }
    if (util::Status s = world->StartKinkod(); !s.ok()) return s;

    // The funding transaction's made-up outpoint differs between worlds (seeded by the name).
    world->funding_ = FundingTransaction(w.deployment().descriptor(), {kCoinSats, kCoinSats}, 0,
                                         static_cast<uint32_t>(std::hash<std::string>{}(name)));
    util::Result<ApiReply> imported =
        world->Operator().Post(std::string(kWalletPath) + "/utxos/import",
                               json{{"raw_tx", util::HexEncode(world->funding_.Serialize())}});
    if (!imported.ok()) return imported.status();
    if (imported->status != 200 || imported->body["utxos"].size() != 2) {
      return util::InternalError("importing the funding coins: " + imported->text);
    }
    return world;
  }

  ~KinkodWorld() {
    if (kinkod_ != nullptr) kinkod_->Stop();
  }
  KinkodWorld(const KinkodWorld&) = delete;
  KinkodWorld& operator=(const KinkodWorld&) = delete;

  AttackWorld& signers() { return *signers_; }
  KinkodProcess& kinkod() { return *kinkod_; }
  SignerTap& tap(size_t i) { return *taps_.at(i); }
  const std::string& db_path() const { return db_path_; }

  // API clients signing as `key`, the requester (ops-bot) and kinkod's operator.
  KinkodClient Client(crypto::Ed25519PrivateKey key) const {
    return KinkodClient::Create(kinkod_->url(), std::move(key)).value();
  }
  KinkodClient Requester() const { return Client(TestIdentityKey(kRequesterSeed)); }
  KinkodClient Operator() const { return Client(OperatorKey()); }

  // POST /v1/intents as the requester.
  ApiReply Submit(const policy::SignedIntent& intent) {
    return Reply(
        Requester().Post("/v1/intents", json{{"signed_intent", util::HexEncode(intent.Encode())}}));
  }
  // POST /v1/intents/{id}/approvals with the approval of `intent` by the fixture's approver
  // `approver` (0..2: alice, bob, carol), who also signs the API request.
  ApiReply Approve(size_t approver, const policy::SignedIntent& intent) {
    const policy::SignedApproval approval =
        signers_->Approval(signers_->actors().approvers.at(approver), intent);
    return Reply(Client(TestIdentityKey(static_cast<uint8_t>(kFirstApproverSeed + approver)))
                     .Post("/v1/intents/" + IdHex(intent) + "/approvals",
                           json{{"signed_approval", util::HexEncode(approval.Encode())}}));
  }
  // POST execute for `intents` as the operator.
  ApiReply Execute(const std::vector<policy::SignedIntent>& intents) {
    std::vector<std::string> ids;
    for (const policy::SignedIntent& intent : intents) ids.push_back(IdHex(intent));
    return Reply(Operator().Post(std::string(kWalletPath) + "/execute", json{{"intents", ids}}));
  }
  // GET /v1/intents/{id} as the requester.
  ApiReply Get(const policy::SignedIntent& intent) {
    return Reply(Requester().Get("/v1/intents/" + IdHex(intent)));
  }
  std::string StateOf(const policy::SignedIntent& intent) {
    const ApiReply reply = Get(intent);
    return reply.body.is_object() ? reply.body.value("state", "") : "";
  }

  // The attacker's write to kinkod's database; the rows changed, or -1 (a test failure).
  int Sql(const std::string& sql) {
    std::string error;
    const int changed = RunSqlite(db_path_, sql, error);
    EXPECT_GE(changed, 0) << sql << ": " << error;
    return changed;
  }
  // A consistent copy of kinkod's database at `path` (SQLite's VACUUM INTO), made while kinkod
  // runs: the backup the attacker later restores.
  util::Status Snapshot(const std::string& path) {
    std::string error;
    if (RunSqlite(db_path_, "VACUUM INTO '" + path + "'", error) < 0) {
      return util::UnavailableError("snapshot: " + error);
    }
    return util::OkStatus();
  }
  // Stops kinkod, puts the copy at `path` in place of its database, and starts it again.
  util::Status RestoreSnapshot(const std::string& path) {
    if (kinkod_->Stop() != 0) return util::InternalError("kinkod did not stop cleanly");
    kinkod_.reset();
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
      std::filesystem::remove(db_path_ + suffix);
    }
    std::filesystem::copy_file(path, db_path_);
    return StartKinkod();
  }

  // Every final transaction kinkod exported (the offline backend's "broadcast"), by txid.
  std::map<std::string, btc::Transaction> Exported() const {
    std::map<std::string, btc::Transaction> out;
    for (const auto& entry : std::filesystem::directory_iterator(export_dir_)) {
      if (entry.path().extension() != ".hex") continue;
      std::string text = ReadWholeFile(entry.path().string());
      while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
      util::Result<btc::Transaction> tx = btc::Transaction::ParseHex(text);
      EXPECT_TRUE(tx.ok()) << entry.path() << ": " << tx.status().message();
      if (tx.ok()) out.emplace(entry.path().stem().string(), *std::move(tx));
    }
    return out;
  }

  // The exported transactions that pay every output of `intent` (script and amount).
  std::vector<btc::Transaction> Paying(const policy::SignedIntent& intent) const {
    std::vector<btc::Transaction> paying;
    for (const auto& [txid, tx] : Exported()) {
      std::vector<btc::TxOut> unmatched = tx.outputs;
      bool all = true;
      for (const policy::IntentOutput& out : intent.intent().fields().outputs) {
        const btc::Script script =
            btc::DecodeAddress(out.address, kFixtureNetwork).value().script_pubkey;
        const auto match = std::find_if(unmatched.begin(), unmatched.end(), [&](const auto& o) {
          return o.script_pubkey == script && o.value == out.amount.sats();
        });
        if (match == unmatched.end()) {
          all = false;
          break;
        }
        unmatched.erase(match);
      }
      if (all) paying.push_back(tx);
    }
    return paying;
  }

  // The decision entries of signer `i`'s audit log that name `intent`, with outcome `outcome`.
  size_t LoggedDecisions(size_t i, const policy::SignedIntent& intent, auditlog::Outcome outcome) {
    util::Result<std::vector<auditlog::Entry>> log = signers_->AuditLog(i);
    EXPECT_TRUE(log.ok()) << log.status().ToString();
    if (!log.ok()) return 0;
    size_t found = 0;
    for (const auditlog::Entry& entry : *log) {
      const auto* decision = std::get_if<auditlog::DecisionEntry>(&entry.body());
      if (decision == nullptr || decision->outcome != outcome) continue;
      const auto& ids = decision->intent_ids;
      if (std::find(ids.begin(), ids.end(), intent.intent().fields().id) != ids.end()) ++found;
    }
    return found;
  }
  // Signed decisions for `intent` in all the signers' logs together.
  size_t SignedDecisions(const policy::SignedIntent& intent) {
    size_t total = 0;
    for (size_t i = 0; i < signers_->signer_count(); ++i) {
      total += LoggedDecisions(i, intent, auditlog::Outcome::kSigned);
    }
    return total;
  }

  // --- The checks ---

  // The honest twin: kinkod shows `intent` broadcast, exactly one exported transaction pays
  // it, that transaction spends only the world's funding coins (or change of earlier ones) and
  // every input verifies with the script interpreter.
  ::testing::AssertionResult PaidOnceAndValid(const policy::SignedIntent& intent) {
    const ApiReply shown = Get(intent);
    if (shown.body.value("state", "") != "broadcast") {
      return ::testing::AssertionFailure() << "intent is not broadcast: " << shown.text;
    }
    const std::vector<btc::Transaction> paying = Paying(intent);
    if (paying.size() != 1) {
      return ::testing::AssertionFailure() << paying.size() << " exported transactions pay it";
    }
    // The coins it may spend: the funding transaction's and the exported ones' (change).
    std::vector<btc::Transaction> known = {funding_};
    for (const auto& [txid, exported] : Exported()) known.push_back(exported);
    std::map<btc::Outpoint, btc::TxOut> coins;
    for (const btc::Transaction& tx : known) {
      for (size_t i = 0; i < tx.outputs.size(); ++i) {
        coins[{tx.ComputeTxid(), static_cast<uint32_t>(i)}] = tx.outputs[i];
      }
    }
    std::vector<btc::TxOut> spent;
    for (const btc::TxIn& in : paying[0].inputs) {
      const auto coin = coins.find(in.prevout);
      if (coin == coins.end()) {
        return ::testing::AssertionFailure() << "the transaction spends a coin never funded";
      }
      spent.push_back(coin->second);
    }
    const btc::TxVerifyResult verified =
        btc::VerifyTransaction(TestContext(), paying[0], spent, btc::StandardVerifyFlags());
    if (!verified.valid) return ::testing::AssertionFailure() << verified.detail;
    return ::testing::AssertionSuccess();
  }

  // The attack through kinkod: kinkod shows `intent` refused with `code`, and each signer's
  // answer in its detail is a refusal with `code` and an audit index; each signer refused the
  // last body kinkod sent it (through its tap) and logged that refusal with `code`; no signer's
  // log has a signed decision naming the intent; no exported transaction pays it.
  ::testing::AssertionResult KinkodRefused(const policy::SignedIntent& intent,
                                           std::string_view code) {
    const ApiReply shown = Get(intent);
    const json& detail = shown.body["detail"];
    if (shown.body.value("state", "") != "refused" || !detail.is_object() ||
        detail.value("code", "") != code) {
      return ::testing::AssertionFailure()
             << "kinkod does not show the intent refused with '" << code << "': " << shown.text;
    }
    if (!detail["signers"].is_array() || detail["signers"].size() != signers_->signer_count()) {
      return ::testing::AssertionFailure() << "not every signer's answer is shown: " << shown.text;
    }
    for (const json& answer : detail["signers"]) {
      if (answer.value("outcome", "") != "refused" || answer.value("code", "") != code ||
          !answer["audit_index"].is_number_integer()) {
        return ::testing::AssertionFailure() << "signer answer: " << answer.dump();
      }
    }
    for (size_t i = 0; i < signers_->signer_count(); ++i) {
      const std::vector<std::string> bodies = taps_[i]->SignBodies();
      if (bodies.empty()) return ::testing::AssertionFailure() << "signer " << i << " not asked";
      util::Result<std::vector<LoggedRefusal>> logged = signers_->LoggedRefusals(i, bodies.back());
      if (!logged.ok()) return ::testing::AssertionFailure() << logged.status().ToString();
      if (std::none_of(logged->begin(), logged->end(),
                       [&](const LoggedRefusal& r) { return r.entry.code == code; })) {
        return ::testing::AssertionFailure()
               << "signer " << i << " logged no refusal '" << code << "' of the request";
      }
      if (LoggedDecisions(i, intent, auditlog::Outcome::kSigned) != 0) {
        return ::testing::AssertionFailure() << "signer " << i << " SIGNED the intent";
      }
    }
    if (!Paying(intent).empty()) {
      return ::testing::AssertionFailure() << "an exported transaction pays the intent";
    }
    return ::testing::AssertionSuccess();
  }

 private:
  explicit KinkodWorld(std::unique_ptr<AttackWorld> signers) : signers_(std::move(signers)) {}

  util::Status StartKinkod() {
    util::Result<std::unique_ptr<KinkodProcess>> kinkod =
        KinkodProcess::Start(config_path_, signers_->root() + "/kinkod");
    if (!kinkod.ok()) return kinkod.status();
    kinkod_ = *std::move(kinkod);
    return util::OkStatus();
  }

  static ApiReply Reply(util::Result<ApiReply> reply) {
    EXPECT_TRUE(reply.ok()) << reply.status().message();
    return reply.ok() ? *std::move(reply) : ApiReply{};
  }

  // Declared first: destroyed last, after kinkod and the taps in front of the signers.
  std::unique_ptr<AttackWorld> signers_;
  std::vector<std::unique_ptr<SignerTap>> taps_;
  std::unique_ptr<KinkodProcess> kinkod_;
  std::string db_path_;
  std::string export_dir_;
  std::string config_path_;
  btc::Transaction funding_;
};

}  // namespace kinko::testing::through_kinkod

#endif  // KINKO_TEST_ATTACKS_KINKOD_SUPPORT_H_
