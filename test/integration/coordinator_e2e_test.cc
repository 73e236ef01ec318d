// The whole flow through real processes over loopback HTTP: three `kinko-signer` processes
// (a 2-of-3 wallet of their keys) and `kinkod` on SQLite or PostgreSQL with the offline chain
// backend (coins imported from raw transactions, final transactions exported to files), and on
// Bitcoin Core regtest when BITCOIND names a bitcoind. Every request is signed
// (coordinator/api_auth.h). The tests check what a custodian relies on: the exported
// transaction verifies with the script interpreter and pays exactly the intents; a resubmitted
// intent is one intent; two coordinators on one database never build two transactions for one
// intent; a coordinator killed mid-flow resumes without spending a coin twice or losing an
// intent; a rewritten database row (the 2024 attack) is refused by the signers.
//
// Timing is never asserted: the timeouts are generous for a loaded 2-core machine.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "btc/address.h"
#include "btc/interpreter.h"
#include "btc/transaction.h"
#include "policy/approval.h"
#include "policy/intent.h"
#include "storage/postgres_store.h"
#include "storage/sqlite_store.h"
#include "storage/store.h"
#include "test/integration/kinkod_process.h"
#include "test/signer/signer_process.h"
#include "test/signer/signer_setup.h"
#include "test/support/bitcoind.h"
#include "test/support/postgres_server.h"
#include "test/support/signer_fixture.h"
#include "util/hex.h"

namespace kinko::testing {
namespace {

using nlohmann::json;
using std::chrono::seconds;

constexpr char kWalletPath[] = "/v1/wallets/treasury-hot";
// Long enough for a whole signing round of a large batch on a loaded machine.
constexpr seconds kFlowTimeout{300};

std::string IdHex(const policy::SignedIntent& intent) {
  return util::HexEncode(intent.intent().fields().id);
}

std::string Hex(std::span<const uint8_t> bytes) { return util::HexEncode(bytes); }

// The script an intent output's address pays.
btc::Script ScriptOf(const std::string& address) {
  return btc::DecodeAddress(address, kFixtureNetwork).value().script_pubkey;
}

// The final transactions the offline backend exported: every "*.hex" file of `dir`, by txid.
// A file that does not parse is a failure of the test (a torn export).
std::map<std::string, btc::Transaction> ExportedTransactions(const std::string& dir) {
  std::map<std::string, btc::Transaction> out;
  if (!std::filesystem::exists(dir)) return out;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".hex") continue;
    std::string text = ReadWholeFile(entry.path().string());
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    util::Result<btc::Transaction> tx = btc::Transaction::ParseHex(text);
    EXPECT_TRUE(tx.ok()) << entry.path() << ": " << tx.status().message();
    if (!tx.ok()) continue;
    const std::string txid = btc::TxidToHex(tx->ComputeTxid());
    EXPECT_EQ(entry.path().stem().string(), txid) << "export file named after another txid";
    out.emplace(txid, *std::move(tx));
  }
  return out;
}

// Every coin a test created, by outpoint, so that inputs can be verified against what they
// spend.
using CoinMap = std::map<btc::Outpoint, btc::TxOut>;

void AddCoins(const btc::Transaction& tx, CoinMap& coins) {
  const btc::Txid txid = tx.ComputeTxid();
  for (size_t i = 0; i < tx.outputs.size(); ++i) {
    coins[{txid, static_cast<uint32_t>(i)}] = tx.outputs[i];
  }
}

// Checks `tx`: each input spends a known coin and verifies with the script interpreter
// (standard flags); its outputs are exactly the outputs of `intents` (as a multiset of (script,
// amount)) plus at most one change output to the wallet's change branch.
void ExpectValidPayment(const btc::Transaction& tx, const CoinMap& coins,
                        const std::vector<policy::SignedIntent>& intents,
                        const std::string& descriptor) {
  std::vector<btc::TxOut> spent;
  for (const btc::TxIn& in : tx.inputs) {
    const auto coin = coins.find(in.prevout);
    ASSERT_NE(coin, coins.end()) << "input spends a coin the test never funded: "
                                 << btc::TxidToHex(in.prevout.txid) << ":" << in.prevout.index;
    spent.push_back(coin->second);
  }
  const btc::TxVerifyResult verified =
      btc::VerifyTransaction(TestContext(), tx, spent, btc::StandardVerifyFlags());
  EXPECT_TRUE(verified.valid) << verified.detail;

  std::multiset<std::pair<std::vector<uint8_t>, int64_t>> expected;
  for (const policy::SignedIntent& intent : intents) {
    for (const policy::IntentOutput& out : intent.intent().fields().outputs) {
      expected.insert({ScriptOf(out.address).bytes(), out.amount.sats()});
    }
  }
  const signer::WalletConfig wallet = MakeWalletConfig(TestContext(), descriptor);
  std::set<std::vector<uint8_t>> change_scripts;
  for (uint32_t i = 0; i < 200; ++i) {
    change_scripts.insert(wallet.branch(signer::WalletBranch::kChange)
                              .Expand(TestContext(), i)
                              .value()
                              .script_pubkey.bytes());
  }
  size_t change_outputs = 0;
  int64_t paid = 0;
  for (const btc::TxOut& out : tx.outputs) {
    paid += out.value;
    const auto match = expected.find({out.script_pubkey.bytes(), out.value});
    if (match != expected.end()) {
      expected.erase(match);
    } else {
      EXPECT_TRUE(change_scripts.contains(out.script_pubkey.bytes()))
          << "output of " << out.value << " sat pays neither an intent nor the change branch";
      ++change_outputs;
    }
  }
  EXPECT_TRUE(expected.empty()) << expected.size() << " intent outputs are not paid";
  EXPECT_LE(change_outputs, 1u);
  int64_t in_total = 0;
  for (const btc::TxOut& out : spent) in_total += out.value;
  EXPECT_GT(in_total, paid) << "the fee must be positive";
}

// What a test needs around one wallet: the signers' deployment and processes, the policy file,
// the fixture's actors and every coin funded so far.
class Environment {
 public:
  static constexpr size_t kSigners = 3;

  // Makes the deployment in `root` and starts its signers.
  static std::unique_ptr<Environment> Create(const std::string& root) {
    auto env = std::unique_ptr<Environment>(new Environment(root));
    std::filesystem::create_directories(root + "/signers");
    util::Result<Deployment> deployment = Deployment::Create(root + "/signers", kSigners);
    EXPECT_TRUE(deployment.ok()) << deployment.status().message();
    if (!deployment.ok()) return nullptr;
    env->deployment_ = std::make_unique<Deployment>(*std::move(deployment));
    for (const std::string& dir : env->deployment_->dirs()) {
      util::Result<std::unique_ptr<SignerProcess>> signer =
          SignerProcess::Start(dir, env->deployment_->passphrase());
      EXPECT_TRUE(signer.ok()) << signer.status().message();
      if (!signer.ok()) return nullptr;
      env->signers_.push_back(*std::move(signer));
    }
    env->policy_file_ = root + "/policy.bin";
    const std::vector<uint8_t> policy = DeploymentPolicyEncoding();
    EXPECT_TRUE(WriteFile(env->policy_file_, std::string(policy.begin(), policy.end())).ok());
    return env;
  }

  // Settings of a kinkod for this wallet (storage and chain left to the test).
  KinkodSettings Settings(const std::string& instance) const {
    KinkodSettings settings;
    settings.instance = instance;
    settings.descriptor = deployment_->descriptor();
    settings.policy_file = policy_file_;
    settings.threshold = 2;
    settings.signers = SignerEntries(*deployment_, signers_);
    settings.min_confirmations = 0;  // Imported coins have no height.
    return settings;
  }

  // Writes `settings` to root/<instance>.toml and starts kinkod with its files in
  // root/<instance>/.
  util::Result<std::unique_ptr<KinkodProcess>> StartKinkod(const KinkodSettings& settings) const {
    const std::string config = root_ + "/" + settings.instance + ".toml";
    if (util::Status s = WriteFile(config, KinkodConfigToml(settings)); !s.ok()) return s;
    return KinkodProcess::Start(config, root_ + "/" + settings.instance);
  }

  // A signed intent of the requester paying each of `sats` to its own foreign address (the
  // tag's), with intent id seed `seed`, created now.
  policy::SignedIntent Intent(uint64_t seed, const std::vector<int64_t>& sats) const {
    std::vector<OutputSpec> outputs;
    for (size_t i = 0; i < sats.size(); ++i) {
      outputs.push_back({ForeignAddress(static_cast<uint8_t>((seed * 7 + i) % 251)), sats[i]});
    }
    IntentOptions options;
    options.id_seed = seed;
    return MakeIntent(actors_, outputs, Deployment::Now(), options);
  }

  // Approver `approver`'s (0..2) approval of `intent` under the deployment's policy.
  policy::SignedApproval Approval(size_t approver, const policy::SignedIntent& intent) const {
    return Approve(actors_.approvers[approver], intent, policy_digest_, Deployment::Now());
  }

  // A funding transaction paying `sats` to receive indexes first_index.., remembered as coins.
  btc::Transaction Fund(const std::vector<int64_t>& sats, uint32_t first_index, uint32_t seed) {
    btc::Transaction tx = FundingTransaction(deployment_->descriptor(), sats, first_index, seed);
    AddCoins(tx, coins_);
    return tx;
  }

  const std::string& root() const { return root_; }
  const Deployment& deployment() const { return *deployment_; }
  const Actors& actors() const { return actors_; }
  CoinMap& coins() { return coins_; }

 private:
  explicit Environment(std::string root)
      : root_(std::move(root)), actors_(MakeActors()), policy_digest_([] {
          PolicyOptions options;
          options.window_24h = Sats(Deployment::kWindowSats);
          return MakePolicy(MakeActors(), options).policy().digest();
        }()) {}

  std::string root_;
  Actors actors_;
  policy::Digest policy_digest_;
  std::unique_ptr<Deployment> deployment_;
  std::vector<std::unique_ptr<SignerProcess>> signers_;
  std::string policy_file_;
  CoinMap coins_;
};

// A client of `kinkod` signing as `key`; aborts the test on failure to create it (a bad URL is
// a bug of the harness).
KinkodClient ClientOf(const KinkodProcess& kinkod, crypto::Ed25519PrivateKey key) {
  return KinkodClient::Create(kinkod.url(), std::move(key)).value();
}

// POST /v1/intents with `intent`; the reply.
ApiReply SubmitIntent(KinkodClient& client, const policy::SignedIntent& intent) {
  util::Result<ApiReply> reply =
      client.Post("/v1/intents", json{{"signed_intent", Hex(intent.Encode())}});
  EXPECT_TRUE(reply.ok()) << reply.status().message();
  return reply.ok() ? *reply : ApiReply{};
}

// Imports `tx` into the wallet as the operator; the coins found.
json ImportFunding(KinkodClient& operator_client, const btc::Transaction& tx) {
  util::Result<ApiReply> reply = operator_client.Post(std::string(kWalletPath) + "/utxos/import",
                                                      json{{"raw_tx", Hex(tx.Serialize())}});
  EXPECT_TRUE(reply.ok()) << reply.status().message();
  if (!reply.ok()) return json();
  EXPECT_EQ(reply->status, 200) << reply->text;
  return reply->body;
}

// POST execute for `ids` (empty: every approved intent) as the operator.
util::Result<ApiReply> Execute(KinkodClient& operator_client, const std::vector<std::string>& ids) {
  return operator_client.Post(std::string(kWalletPath) + "/execute", json{{"intents", ids}});
}

std::string StateOf(KinkodClient& client, const std::string& id) {
  util::Result<ApiReply> reply = client.Get("/v1/intents/" + id);
  if (!reply.ok() || reply->status != 200 || !reply->body.is_object()) return "";
  return reply->body.value("state", "");
}

// Polls the intents until each is in one of `states` (or the timeout); returns their objects.
std::map<std::string, json> WaitForStates(KinkodClient& client, const std::vector<std::string>& ids,
                                          const std::set<std::string>& states,
                                          seconds timeout = kFlowTimeout) {
  std::map<std::string, json> out;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (const std::string& id : ids) {
    while (true) {
      util::Result<ApiReply> reply = client.Get("/v1/intents/" + id);
      if (reply.ok() && reply->status == 200 && states.contains(reply->body.value("state", ""))) {
        out[id] = reply->body;
        break;
      }
      if (std::chrono::steady_clock::now() > deadline) {
        ADD_FAILURE() << "intent " << id << " did not reach the expected state: "
                      << (reply.ok() ? reply->text : reply.status().message());
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }
  return out;
}

// The storage backends the tests run on.
enum class Backend { kSqlite, kPostgres };

std::string BackendName(const ::testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::kSqlite ? "Sqlite" : "Postgres";
}

// A fresh database for one test: a SQLite file in the test's directory, or a new database on
// the PostgreSQL server the binary starts once (test/support/postgres_server.h).
struct Database {
  std::string backend;  // "sqlite" or "postgres"
  std::string path;     // sqlite: the file
  std::string name;     // postgres: the database's name on the shared server
  std::string url;      // postgres: its connection URL
};

// Fills `db` for `backend`; false (with the reason) when the backend cannot run here.
bool MakeDatabase(Backend backend, const std::string& root, Database& db, std::string& why_not) {
  if (backend == Backend::kSqlite) {
    db = {.backend = "sqlite", .path = root + "/kinkod.db", .name = "", .url = ""};
    return true;
  }
  util::Result<PostgresServer*> server = PostgresServer::Shared();
  if (!server.ok()) {
    why_not = "PostgreSQL: " + server.status().message();
    return false;
  }
  static int databases = 0;
  const std::string name = "e2e_" + std::to_string(getpid()) + "_" + std::to_string(++databases);
  util::Result<std::string> url = (*server)->CreateDatabase(name);
  if (!url.ok()) {
    why_not = "PostgreSQL: " + url.status().message();
    return false;
  }
  db = {.backend = "postgres", .path = "", .name = name, .url = *url};
  return true;
}

void UseDatabase(const Database& db, KinkodSettings& settings) {
  settings.storage_backend = db.backend;
  settings.storage_path = db.path;
  settings.storage_url = db.url;
}

// The 2024 attack: whoever owns the coordinator's database rewrites a pending intent's outputs
// (the work order the builder pays) to `address` and `sats`. Returns the rows changed (-1 with
// `error` on failure).
int RewriteIntentOutputs(const Database& db, const std::string& id_hex, const std::string& address,
                         int64_t sats, std::string& error) {
  const std::string set =
      "UPDATE intent_outputs SET address = '" + address + "', sats = " + std::to_string(sats);
  if (db.backend == "sqlite") {
    return RunSqlite(db.path, set + " WHERE intent_id = X'" + id_hex + "'", error);
  }
  util::Result<PostgresServer*> server = PostgresServer::Shared();
  if (!server.ok()) {
    error = server.status().message();
    return -1;
  }
  if (!(*server)->Run(set + " WHERE intent_id = '\\x" + id_hex + "'::bytea", db.name)) {
    error = "the UPDATE failed";
    return -1;
  }
  return 1;
}

// The coordinator's database itself, opened by the test (after the kinkod processes stopped).
std::unique_ptr<storage::Store> OpenStore(const Database& db) {
  if (db.backend == "sqlite") {
    util::Result<std::unique_ptr<storage::SqliteStore>> store = storage::SqliteStore::Open(db.path);
    EXPECT_TRUE(store.ok()) << store.status().message();
    if (!store.ok()) return nullptr;
    return *std::move(store);
  }
  util::Result<std::unique_ptr<storage::PostgresStore>> store =
      storage::PostgresStore::Open(db.url);
  EXPECT_TRUE(store.ok()) << store.status().message();
  if (!store.ok()) return nullptr;
  return *std::move(store);
}

// Every batch of the wallet, whatever its state.
std::vector<storage::BatchRecord> ListAllBatches(storage::Store& store) {
  util::Result<std::vector<storage::BatchRecord>> batches =
      store.ListBatches({.wallet = kFixtureWalletId, .states = {}, .limit = 1000});
  EXPECT_TRUE(batches.ok()) << batches.status().message();
  return batches.ok() ? *std::move(batches) : std::vector<storage::BatchRecord>{};
}

// Checks the database against the exported transactions: the batches that did not fail hold
// disjoint intents and disjoint coins, each broadcast one's transaction was exported, every
// coin a batch holds names that batch and is not available, and every broadcast intent is in
// the batch it names. Returns the numbers of batches that failed and that did not.
std::pair<size_t, size_t> ExpectBatchesDisjoint(
    const Database& db, const std::map<std::string, btc::Transaction>& exported) {
  std::unique_ptr<storage::Store> store = OpenStore(db);
  if (store == nullptr) return {0, 0};
  std::map<storage::IntentId, int64_t> intent_batch;
  std::map<btc::Outpoint, int64_t> coin_batch;
  size_t failed = 0;
  size_t live = 0;
  for (const storage::BatchRecord& batch : ListAllBatches(*store)) {
    if (batch.state == storage::BatchState::kFailed) {
      ++failed;
      continue;
    }
    ++live;
    if (batch.state == storage::BatchState::kBroadcast) {
      EXPECT_TRUE(batch.txid.has_value() && exported.contains(btc::TxidToHex(*batch.txid)))
          << "broadcast batch " << batch.id << " was not exported";
    }
    for (const storage::IntentId& intent : batch.intents) {
      const auto [it, inserted] = intent_batch.emplace(intent, batch.id);
      EXPECT_TRUE(inserted) << "intent " << util::HexEncode(intent) << " in batches " << it->second
                            << " and " << batch.id;
    }
    for (const btc::Outpoint& input : batch.inputs) {
      const auto [it, inserted] = coin_batch.emplace(input, batch.id);
      EXPECT_TRUE(inserted) << "coin " << btc::TxidToHex(input.txid) << ":" << input.index
                            << " in batches " << it->second << " and " << batch.id;
    }
  }
  util::Result<std::vector<storage::Utxo>> coins = store->ListUtxos(kFixtureWalletId, std::nullopt);
  EXPECT_TRUE(coins.ok()) << coins.status().message();
  if (coins.ok()) {
    for (const storage::Utxo& coin : *coins) {
      const auto held = coin_batch.find(coin.outpoint);
      if (held == coin_batch.end()) continue;
      EXPECT_EQ(coin.batch_id, held->second) << btc::TxidToHex(coin.outpoint.txid);
      EXPECT_NE(coin.state, storage::UtxoState::kAvailable) << btc::TxidToHex(coin.outpoint.txid);
    }
  }
  util::Result<std::vector<storage::IntentRecord>> intents =
      store->ListIntents({.wallet = kFixtureWalletId,
                          .states = {storage::IntentState::kBroadcast},
                          .after = std::nullopt,
                          .limit = 1000});
  EXPECT_TRUE(intents.ok()) << intents.status().message();
  if (intents.ok()) {
    for (const storage::IntentRecord& intent : *intents) {
      const auto batch = intent_batch.find(intent.id);
      EXPECT_TRUE(batch != intent_batch.end() && intent.batch_id == batch->second)
          << "broadcast intent " << util::HexEncode(intent.id) << " is not in the batch it names";
    }
  }
  return {failed, live};
}

class CoordinatorE2eTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    const std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::string safe = name;
    std::replace(safe.begin(), safe.end(), '/', '-');
    root_ = MakeScratchDir("e2e-" + safe);
    std::string why_not;
    if (!MakeDatabase(GetParam(), root_, db_, why_not)) GTEST_SKIP() << why_not;
    env_ = Environment::Create(root_);
    ASSERT_NE(env_, nullptr);
  }

  void TearDown() override {
    if (!HasFailure() && !root_.empty()) std::filesystem::remove_all(root_);
  }

  // Starts kinkod `instance` on the test's database with the offline backend exporting to
  // root/<instance>-out.
  std::unique_ptr<KinkodProcess> StartOffline(const std::string& instance) {
    KinkodSettings settings = env_->Settings(instance);
    UseDatabase(db_, settings);
    settings.chain_backend = "offline";
    settings.export_dir = ExportDir(instance);
    std::filesystem::create_directories(settings.export_dir);
    util::Result<std::unique_ptr<KinkodProcess>> kinkod = env_->StartKinkod(settings);
    EXPECT_TRUE(kinkod.ok()) << kinkod.status().message();
    return kinkod.ok() ? *std::move(kinkod) : nullptr;
  }

  std::string ExportDir(const std::string& instance) const {
    return root_ + "/" + instance + "-out";
  }

  std::string root_;
  Database db_;
  std::unique_ptr<Environment> env_;
};

TEST_P(CoordinatorE2eTest, ApprovedWithdrawalsAreSignedTwoOfThreeAndPayExactlyTheIntents) {
  std::unique_ptr<KinkodProcess> kinkod = StartOffline("kinkod-a");
  ASSERT_NE(kinkod, nullptr);
  KinkodClient requester = ClientOf(*kinkod, TestIdentityKey(0x29));
  KinkodClient approver = ClientOf(*kinkod, TestIdentityKey(0x24));
  KinkodClient operator_client = ClientOf(*kinkod, OperatorKey());

  util::Result<ApiReply> health = requester.GetUnsigned("/healthz");
  ASSERT_TRUE(health.ok()) << health.status().message();
  EXPECT_EQ(health->status, 200) << health->text;

  const btc::Transaction funding = env_->Fund({300'000, 200'000}, 0, 1);
  const json imported = ImportFunding(operator_client, funding);
  ASSERT_TRUE(imported.contains("utxos")) << imported.dump();
  EXPECT_EQ(imported["utxos"].size(), 2u);

  util::Result<ApiReply> wallet = requester.Get(kWalletPath);
  ASSERT_TRUE(wallet.ok()) << wallet.status().message();
  ASSERT_EQ(wallet->status, 200) << wallet->text;
  EXPECT_EQ(wallet->body["threshold"], 2);
  EXPECT_EQ(wallet->body["signers"].size(), 3u);
  EXPECT_EQ(wallet->body["balance"]["available"], 500'000) << wallet->text;

  // Three intents, one of them with two outputs.
  const std::vector<policy::SignedIntent> intents = {
      env_->Intent(1, {12'345}), env_->Intent(2, {20'000, 7'000}), env_->Intent(3, {31'000})};
  std::vector<std::string> ids;
  for (const policy::SignedIntent& intent : intents) {
    const ApiReply reply = SubmitIntent(requester, intent);
    ASSERT_EQ(reply.status, 201) << reply.text;
    EXPECT_EQ(reply.body["id"], IdHex(intent));
    EXPECT_EQ(reply.body["wallet"], kFixtureWalletId);
    EXPECT_EQ(reply.body["state"], "approved") << reply.text;  // "small withdrawals"
    EXPECT_EQ(reply.body["outputs"].size(), intent.intent().fields().outputs.size());
    EXPECT_EQ(reply.body["requester"], Hex(IdOf(env_->actors().requester)));
    ids.push_back(IdHex(intent));
  }
  EXPECT_EQ(SubmitIntent(requester, intents[1]).body["total_sats"], 27'000);

  // An approval is recorded (the rule needs none; the signers get it with the intent).
  const std::string approvals_path = "/v1/intents/" + ids[0] + "/approvals";
  const json approval_body = {{"signed_approval", Hex(env_->Approval(0, intents[0]).Encode())}};
  util::Result<ApiReply> approval = approver.Post(approvals_path, approval_body);
  ASSERT_TRUE(approval.ok()) << approval.status().message();
  ASSERT_EQ(approval->status, 201) << approval->text;
  ASSERT_EQ(approval->body["approvals"].size(), 1u) << approval->text;
  EXPECT_EQ(approval->body["approvals"][0]["approver"], Hex(IdOf(env_->actors().approvers[0])));
  util::Result<ApiReply> again = approver.Post(approvals_path, approval_body);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->status, 200) << again->text;

  util::Result<ApiReply> executed = Execute(operator_client, ids);
  ASSERT_TRUE(executed.ok()) << executed.status().message() << "\n" << kinkod->LogTail();
  ASSERT_EQ(executed->status, 200) << executed->text;
  ASSERT_EQ(executed->body["batches"].size(), 1u) << executed->text;  // batching is on
  EXPECT_TRUE(executed->body["waiting"].empty()) << executed->text;
  const json batch = executed->body["batches"][0];
  EXPECT_EQ(batch["state"], "broadcast") << batch.dump();
  EXPECT_EQ(batch["intents"].size(), 3u);
  size_t signed_by = 0;
  for (const json& signer : batch["signers"]) signed_by += signer["outcome"] == "signed";
  EXPECT_GE(signed_by, 2u) << batch.dump();

  for (const std::string& id : ids) EXPECT_EQ(StateOf(requester, id), "broadcast");

  util::Result<ApiReply> transaction =
      requester.Get("/v1/batches/" + batch["id"].dump() + "/transaction");
  ASSERT_TRUE(transaction.ok());
  ASSERT_EQ(transaction->status, 200) << transaction->text;
  util::Result<btc::Transaction> tx =
      btc::Transaction::ParseHex(transaction->body["hex"].get<std::string>());
  ASSERT_TRUE(tx.ok()) << tx.status().message();
  EXPECT_EQ(btc::TxidToHex(tx->ComputeTxid()), transaction->body["txid"]);
  EXPECT_EQ(transaction->body["txid"], batch["txid"]);
  ExpectValidPayment(*tx, env_->coins(), intents, env_->deployment().descriptor());

  // The exported file is the same transaction, and the only one.
  const std::map<std::string, btc::Transaction> exported =
      ExportedTransactions(ExportDir("kinkod-a"));
  ASSERT_EQ(exported.size(), 1u);
  EXPECT_EQ(exported.begin()->second, *tx);

  EXPECT_EQ(kinkod->Stop(), 0) << kinkod->LogTail();
}

TEST_P(CoordinatorE2eTest, SameIntentTwiceIsOneIntent) {
  std::unique_ptr<KinkodProcess> kinkod = StartOffline("kinkod-a");
  ASSERT_NE(kinkod, nullptr);
  KinkodClient requester = ClientOf(*kinkod, TestIdentityKey(0x29));

  const policy::SignedIntent intent = env_->Intent(7, {15'000});
  const ApiReply first = SubmitIntent(requester, intent);
  ASSERT_EQ(first.status, 201) << first.text;
  const ApiReply second = SubmitIntent(requester, intent);
  ASSERT_EQ(second.status, 200) << second.text;
  EXPECT_EQ(second.body["id"], first.body["id"]);
  EXPECT_EQ(second.body["received_at"], first.body["received_at"]);

  // Other bytes under the same id: another intent, refused.
  IntentOptions options;
  options.id_seed = 7;
  const policy::SignedIntent other =
      MakeIntent(env_->actors(), {{ForeignAddress(99), 16'000}}, Deployment::Now(), options);
  EXPECT_EQ(SubmitIntent(requester, other).status, 409);

  util::Result<ApiReply> list = requester.Get("/v1/intents?wallet=treasury-hot");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->status, 200) << list->text;
  ASSERT_EQ(list->body["intents"].size(), 1u) << list->text;
  EXPECT_EQ(list->body["intents"][0]["id"], IdHex(intent));
}

TEST_P(CoordinatorE2eTest, RequestsWithoutAKnownSignatureAreRefused) {
  std::unique_ptr<KinkodProcess> kinkod = StartOffline("kinkod-a");
  ASSERT_NE(kinkod, nullptr);
  KinkodClient requester = ClientOf(*kinkod, TestIdentityKey(0x29));
  KinkodClient outsider = ClientOf(*kinkod, TestIdentityKey(0x2b));

  util::Result<ApiReply> unsigned_get = requester.GetUnsigned("/v1/intents");
  ASSERT_TRUE(unsigned_get.ok());
  EXPECT_EQ(unsigned_get->status, 401) << unsigned_get->text;
  EXPECT_EQ(unsigned_get->body["error"]["code"], "unauthenticated") << unsigned_get->text;

  util::Result<ApiReply> stranger = outsider.Get("/v1/intents");
  ASSERT_TRUE(stranger.ok());
  EXPECT_EQ(stranger->status, 403) << stranger->text;

  // The requester is known but is no operator.
  util::Result<ApiReply> execute = Execute(requester, {});
  ASSERT_TRUE(execute.ok());
  EXPECT_EQ(execute->status, 403) << execute->text;
  EXPECT_EQ(execute->body["error"]["code"], "forbidden") << execute->text;
}

TEST_P(CoordinatorE2eTest, FiftyIntentsInOneTransaction) {
  std::unique_ptr<KinkodProcess> kinkod = StartOffline("kinkod-a");
  ASSERT_NE(kinkod, nullptr);
  KinkodClient requester = ClientOf(*kinkod, TestIdentityKey(0x29));
  KinkodClient operator_client = ClientOf(*kinkod, OperatorKey());
  ImportFunding(operator_client, env_->Fund({2'000'000}, 0, 2));

  std::vector<policy::SignedIntent> intents;
  std::vector<std::string> ids;
  for (uint64_t i = 0; i < 50; ++i) {
    intents.push_back(env_->Intent(100 + i, {10'000 + static_cast<int64_t>(i)}));
    const ApiReply reply = SubmitIntent(requester, intents.back());
    ASSERT_EQ(reply.status, 201) << reply.text;
    ids.push_back(IdHex(intents.back()));
  }
  util::Result<ApiReply> executed = Execute(operator_client, {});  // every approved intent
  ASSERT_TRUE(executed.ok()) << executed.status().message() << "\n" << kinkod->LogTail();
  ASSERT_EQ(executed->status, 200) << executed->text;
  ASSERT_EQ(executed->body["batches"].size(), 1u) << executed->text;
  EXPECT_EQ(executed->body["batches"][0]["intents"].size(), 50u);

  const std::map<std::string, btc::Transaction> exported =
      ExportedTransactions(ExportDir("kinkod-a"));
  ASSERT_EQ(exported.size(), 1u);
  ExpectValidPayment(exported.begin()->second, env_->coins(), intents,
                     env_->deployment().descriptor());
  const std::map<std::string, json> states = WaitForStates(requester, ids, {"broadcast"});
  EXPECT_EQ(states.size(), 50u);
}

// Every intent of `intents` ends broadcast or refused with a reason; each broadcast one is paid
// by exactly one exported transaction and each refused one by none; no coin is spent by two
// exported transactions; every exported transaction verifies.
void ExpectEachIntentPaidOnce(KinkodClient& client,
                              const std::vector<policy::SignedIntent>& intents,
                              const std::map<std::string, btc::Transaction>& exported,
                              const CoinMap& coins) {
  std::map<btc::Outpoint, std::string> spender;
  for (const auto& [txid, tx] : exported) {
    for (const btc::TxIn& in : tx.inputs) {
      const auto [it, inserted] = spender.emplace(in.prevout, txid);
      EXPECT_TRUE(inserted) << "coin " << btc::TxidToHex(in.prevout.txid) << ":" << in.prevout.index
                            << " spent by " << it->second << " and " << txid;
    }
    std::vector<btc::TxOut> spent;
    bool known = true;
    for (const btc::TxIn& in : tx.inputs) {
      const auto coin = coins.find(in.prevout);
      if (coin == coins.end()) {
        known = false;
        break;
      }
      spent.push_back(coin->second);
    }
    EXPECT_TRUE(known) << txid << " spends a coin the test never funded";
    if (known) {
      const btc::TxVerifyResult verified =
          btc::VerifyTransaction(TestContext(), tx, spent, btc::StandardVerifyFlags());
      EXPECT_TRUE(verified.valid) << txid << ": " << verified.detail;
    }
  }
  for (const policy::SignedIntent& intent : intents) {
    const std::string id = IdHex(intent);
    // Every output of the test's intents is unique (address, amount): count the transactions
    // paying the first one.
    const policy::IntentOutput& first = intent.intent().fields().outputs.at(0);
    const std::vector<uint8_t> script = ScriptOf(first.address).bytes();
    size_t paying = 0;
    for (const auto& [txid, tx] : exported) {
      for (const btc::TxOut& out : tx.outputs) {
        if (out.script_pubkey.bytes() == script && out.value == first.amount.sats()) ++paying;
      }
    }
    util::Result<ApiReply> reply = client.Get("/v1/intents/" + id);
    ASSERT_TRUE(reply.ok());
    const std::string state = reply->body.value("state", "");
    if (state == "broadcast") {
      EXPECT_EQ(paying, 1u) << "intent " << id << " is paid by " << paying << " transactions";
    } else {
      EXPECT_EQ(state, "refused") << "intent " << id << " ended " << reply->text;
      EXPECT_EQ(paying, 0u) << "refused intent " << id << " was paid";
      EXPECT_FALSE(reply->body["detail"].value("code", "").empty())
          << "refused without a reason: " << reply->text;
    }
  }
}

TEST_P(CoordinatorE2eTest, KilledDuringExecuteResumesWithoutDoubleSpending) {
  std::unique_ptr<KinkodProcess> kinkod = StartOffline("kinkod-a");
  ASSERT_NE(kinkod, nullptr);
  std::vector<policy::SignedIntent> all_intents;
  // Round 0 measures how long an execute of 20 intents takes here (no kill); rounds 1..8 send
  // SIGKILL at 0, 1/8, ..., 7/8 of that time after the request: before and during building,
  // while the signers sign, and around the export.
  constexpr size_t kKillRounds = 8;
  std::chrono::milliseconds execute_time{0};
  for (size_t round = 0; round <= kKillRounds; ++round) {
    const std::chrono::milliseconds delay =
        round == 0 ? std::chrono::milliseconds(0)
                   : execute_time * static_cast<int64_t>(round - 1) / int64_t{kKillRounds};
    SCOPED_TRACE("round " + std::to_string(round) + ", kill after " +
                 std::to_string(delay.count()) + " ms");
    {
      KinkodClient requester = ClientOf(*kinkod, TestIdentityKey(0x29));
      KinkodClient operator_client = ClientOf(*kinkod, OperatorKey());
      // Five coins per round, at receive indexes of their own.
      ImportFunding(operator_client, env_->Fund({100'000, 100'000, 100'000, 100'000, 100'000},
                                                static_cast<uint32_t>(5 * round),
                                                static_cast<uint32_t>(100 + round)));
      std::vector<std::string> ids;
      for (uint64_t i = 0; i < 20; ++i) {
        const uint64_t seed = 1000 + 100 * round + i;
        all_intents.push_back(env_->Intent(seed, {10'000 + static_cast<int64_t>(seed)}));
        const ApiReply reply = SubmitIntent(requester, all_intents.back());
        ASSERT_EQ(reply.status, 201) << reply.text;
        ids.push_back(IdHex(all_intents.back()));
      }
      if (round == 0) {
        const auto start = std::chrono::steady_clock::now();
        util::Result<ApiReply> executed = Execute(operator_client, ids);
        ASSERT_TRUE(executed.ok() && executed->status == 200)
            << (executed.ok() ? executed->text : executed.status().message());
        execute_time = std::chrono::duration_cast<std::chrono::milliseconds>(
            std::chrono::steady_clock::now() - start);
        std::printf("[ info     ] an execute of 20 intents took %lld ms\n",
                    static_cast<long long>(execute_time.count()));
        continue;
      }
      std::thread executor([&] {
        KinkodClient client = ClientOf(*kinkod, OperatorKey());
        // The answer does not matter: kinkod is killed under it (or answers first).
        (void)Execute(client, ids);
      });
      std::this_thread::sleep_for(delay);
      kinkod->Kill(SIGKILL);
      executor.join();
      kinkod->Wait();
    }
    util::Result<std::unique_ptr<KinkodProcess>> restarted = kinkod->Restart();
    ASSERT_TRUE(restarted.ok()) << restarted.status().message();
    kinkod = *std::move(restarted);

    // Resume finishes what was started; what had not started yet is executed again.
    KinkodClient requester = ClientOf(*kinkod, TestIdentityKey(0x29));
    KinkodClient operator_client = ClientOf(*kinkod, OperatorKey());
    // Where the kill left the round (as the restarted kinkod first shows it), for the log.
    std::map<std::string, int> at_restart;
    for (size_t i = all_intents.size() - 20; i < all_intents.size(); ++i) {
      ++at_restart[StateOf(requester, IdHex(all_intents[i]))];
    }
    std::string summary;
    for (const auto& [state, count] : at_restart) {
      summary += " " + state + "=" + std::to_string(count);
    }
    std::printf("[ info     ] killed after %lld ms; intents at restart:%s\n",
                static_cast<long long>(delay.count()), summary.c_str());
    const auto deadline = std::chrono::steady_clock::now() + kFlowTimeout;
    while (true) {
      size_t unfinished = 0;
      bool approved = false;
      for (size_t i = all_intents.size() - 20; i < all_intents.size(); ++i) {
        const std::string state = StateOf(requester, IdHex(all_intents[i]));
        if (state != "broadcast" && state != "refused") ++unfinished;
        if (state == "approved") approved = true;
      }
      if (unfinished == 0) break;
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << unfinished << " intents unfinished\n"
                                                            << kinkod->LogTail();
      if (approved) (void)Execute(operator_client, {});
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
    }
  }
  KinkodClient requester = ClientOf(*kinkod, TestIdentityKey(0x29));
  const std::map<std::string, btc::Transaction> exported =
      ExportedTransactions(ExportDir("kinkod-a"));
  EXPECT_FALSE(exported.empty());
  ExpectEachIntentPaidOnce(requester, all_intents, exported, env_->coins());
  EXPECT_EQ(kinkod->Stop(), 0) << kinkod->LogTail();
  ExpectBatchesDisjoint(db_, exported);
}

// The transactions both instances exported.
std::map<std::string, btc::Transaction> Merge(std::map<std::string, btc::Transaction> a,
                                              const std::map<std::string, btc::Transaction>& b) {
  for (const auto& [txid, tx] : b) {
    const auto [it, inserted] = a.emplace(txid, tx);
    // The same transaction exported by both is one transaction (an idempotent broadcast).
    if (!inserted) {
      EXPECT_EQ(it->second, tx) << txid;
    }
  }
  return a;
}

TEST_P(CoordinatorE2eTest, TwoInstancesExecutingTheSameIntentsBuildOneTransactionPerIntent) {
  if (GetParam() != Backend::kPostgres) {
    GTEST_SKIP() << "several kinkod instances share a database only on PostgreSQL";
  }
  std::unique_ptr<KinkodProcess> kinkod_a = StartOffline("kinkod-a");
  std::unique_ptr<KinkodProcess> kinkod_b = StartOffline("kinkod-b");
  ASSERT_NE(kinkod_a, nullptr);
  ASSERT_NE(kinkod_b, nullptr);
  KinkodClient requester = ClientOf(*kinkod_a, TestIdentityKey(0x29));
  KinkodClient operator_a = ClientOf(*kinkod_a, OperatorKey());

  std::vector<policy::SignedIntent> all_intents;
  constexpr size_t kRounds = 5;
  constexpr size_t kPerRound = 10;
  for (size_t round = 0; round < kRounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    ImportFunding(operator_a,
                  env_->Fund({100'000, 100'000, 100'000}, static_cast<uint32_t>(3 * round),
                             static_cast<uint32_t>(200 + round)));
    std::vector<std::string> ids;
    for (uint64_t i = 0; i < kPerRound; ++i) {
      const uint64_t seed = 2000 + 100 * round + i;
      all_intents.push_back(env_->Intent(seed, {10'000 + static_cast<int64_t>(seed)}));
      const ApiReply reply = SubmitIntent(requester, all_intents.back());
      ASSERT_EQ(reply.status, 201) << reply.text;
      ids.push_back(IdHex(all_intents.back()));
    }
    // Odd rounds name the intents, even rounds execute "every approved intent".
    const std::vector<std::string> named = round % 2 == 1 ? ids : std::vector<std::string>{};
    std::atomic<int> ready{0};
    std::vector<int> statuses(2, 0);
    std::vector<std::string> bodies(2);
    std::vector<std::thread> executors;
    for (size_t side = 0; side < 2; ++side) {
      executors.emplace_back([&, side] {
        KinkodClient client = ClientOf(side == 0 ? *kinkod_a : *kinkod_b, OperatorKey());
        ++ready;
        while (ready.load() < 2) std::this_thread::yield();
        util::Result<ApiReply> reply = Execute(client, named);
        statuses[side] = reply.ok() ? reply->status : -1;
        bodies[side] = reply.ok() ? reply->text : reply.status().message();
      });
    }
    for (std::thread& executor : executors) executor.join();
    // Each answers 200 (it built, or found nothing left to build) or says it lost the race:
    // 409 (the intents are no longer approved) or 503 "aborted" (a compare-and-set of the
    // store lost; retry). Nothing else.
    for (size_t side = 0; side < 2; ++side) {
      const bool lost =
          statuses[side] == 409 ||
          (statuses[side] == 503 && bodies[side].find("\"aborted\"") != std::string::npos);
      EXPECT_TRUE(statuses[side] == 200 || lost) << statuses[side] << " " << bodies[side];
    }
    const std::map<std::string, json> states = WaitForStates(requester, ids, {"broadcast"});
    EXPECT_EQ(states.size(), kPerRound);
  }
  const std::map<std::string, btc::Transaction> exported = Merge(
      ExportedTransactions(ExportDir("kinkod-a")), ExportedTransactions(ExportDir("kinkod-b")));
  ExpectEachIntentPaidOnce(requester, all_intents, exported, env_->coins());

  EXPECT_EQ(kinkod_a->Stop(), 0) << kinkod_a->LogTail();
  EXPECT_EQ(kinkod_b->Stop(), 0) << kinkod_b->LogTail();
  // The database: each intent and coin is in one batch, and no batch failed.
  EXPECT_EQ(ExpectBatchesDisjoint(db_, exported).first, 0u);
}

TEST_P(CoordinatorE2eTest, RewrittenIntentRowIsRefusedByEverySignerAndNothingIsExported) {
  std::unique_ptr<KinkodProcess> kinkod = StartOffline("kinkod-a");
  ASSERT_NE(kinkod, nullptr);
  KinkodClient requester = ClientOf(*kinkod, TestIdentityKey(0x29));
  KinkodClient operator_client = ClientOf(*kinkod, OperatorKey());
  ImportFunding(operator_client, env_->Fund({10'000'000}, 0, 3));

  const policy::SignedIntent intent = env_->Intent(42, {40'000});
  const ApiReply submitted = SubmitIntent(requester, intent);
  ASSERT_EQ(submitted.status, 201) << submitted.text;
  ASSERT_EQ(submitted.body["state"], "approved") << submitted.text;

  // Another address and a larger amount, written straight into the database.
  const std::string attacker = ForeignAddress(0xee);
  std::string error;
  ASSERT_EQ(RewriteIntentOutputs(db_, IdHex(intent), attacker, 2'000'000, error), 1) << error;
  util::Result<ApiReply> rewritten = requester.Get("/v1/intents/" + IdHex(intent));
  ASSERT_TRUE(rewritten.ok());
  ASSERT_EQ(rewritten->body["outputs"][0]["address"], attacker) << rewritten->text;

  util::Result<ApiReply> executed = Execute(operator_client, {IdHex(intent)});
  ASSERT_TRUE(executed.ok()) << executed.status().message();
  const std::map<std::string, json> states =
      WaitForStates(requester, {IdHex(intent)}, {"refused", "broadcast", "signed"});
  ASSERT_EQ(states.size(), 1u);
  const json& refused = states.begin()->second;
  ASSERT_EQ(refused["state"], "refused") << refused.dump();
  EXPECT_FALSE(refused["detail"].value("code", "").empty()) << refused.dump();
  // Every signer was asked (none signed, so the round went on) and each refused with a code
  // and an audit log entry recording the refusal.
  ASSERT_TRUE(refused["detail"]["signers"].is_array()) << refused.dump();
  EXPECT_EQ(refused["detail"]["signers"].size(), Environment::kSigners) << refused.dump();
  for (const json& signer : refused["detail"]["signers"]) {
    EXPECT_EQ(signer["outcome"], "refused") << signer.dump();
    EXPECT_TRUE(signer["code"].is_string() && !signer["code"].get<std::string>().empty())
        << signer.dump();
    EXPECT_TRUE(signer["audit_index"].is_number_integer()) << signer.dump();
  }
  EXPECT_TRUE(ExportedTransactions(ExportDir("kinkod-a")).empty());
  EXPECT_EQ(kinkod->Stop(), 0) << kinkod->LogTail();
}

INSTANTIATE_TEST_SUITE_P(Backends, CoordinatorE2eTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres), BackendName);

// --- Bitcoin Core regtest (BITCOIND) ---

// A regtest node, the signers and kinkod on SQLite with the bitcoin-core backend watching the
// wallet, which is funded by mining one block to its receive address 0 (then 100 more to the
// miner so that the coinbase matures).
class CoordinatorRegtestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    util::Result<std::unique_ptr<BitcoindNode>> node = BitcoindNode::Start();
    if (!node.ok() && node.status().code() == util::StatusCode::kNotFound) {
      GTEST_SKIP() << "BITCOIND not set: " << node.status().message();
    }
    ASSERT_TRUE(node.ok()) << node.status().message();
    node_ = *std::move(node);
    ASSERT_TRUE(node_->CreateMiner().ok());
    root_ = MakeScratchDir(std::string("e2e-regtest-") +
                           ::testing::UnitTest::GetInstance()->current_test_info()->name());
    env_ = Environment::Create(root_);
    ASSERT_NE(env_, nullptr);
    KinkodSettings settings = env_->Settings("kinkod-a");
    settings.storage_backend = "sqlite";
    settings.storage_path = root_ + "/kinkod.db";
    settings.chain_backend = "bitcoin-core";
    settings.rpc_url = node_->rpc_url();
    settings.rpc_cookie_file = node_->cookie_file();
    settings.min_confirmations = 1;
    util::Result<std::unique_ptr<KinkodProcess>> kinkod = env_->StartKinkod(settings);
    ASSERT_TRUE(kinkod.ok()) << kinkod.status().message();
    kinkod_ = *std::move(kinkod);

    const signer::WalletConfig wallet =
        MakeWalletConfig(TestContext(), env_->deployment().descriptor());
    const std::string address = btc::EncodeAddress(wallet.branch(signer::WalletBranch::kReceive)
                                                       .Expand(TestContext(), 0)
                                                       .value()
                                                       .script_pubkey,
                                                   kFixtureNetwork)
                                    .value();
    util::Result<json> blocks = node_->Rpc("generatetoaddress", {1, address});
    ASSERT_TRUE(blocks.ok()) << blocks.status().message();
    ASSERT_TRUE(node_->Mine(100).ok());
    // The coinbase, for verifying inputs.
    util::Result<json> block = node_->Rpc("getblock", {(*blocks)[0], 1});
    ASSERT_TRUE(block.ok()) << block.status().message();
    util::Result<json> raw =
        node_->Rpc("getrawtransaction", {(*block)["tx"][0], false, (*blocks)[0]});
    ASSERT_TRUE(raw.ok()) << raw.status().message();
    util::Result<btc::Transaction> coinbase = btc::Transaction::ParseHex(raw->get<std::string>());
    ASSERT_TRUE(coinbase.ok());
    AddCoins(*coinbase, env_->coins());
    coinbase_sats_ = coinbase->outputs[0].value;
  }

  void TearDown() override {
    if (kinkod_ != nullptr) {
      EXPECT_EQ(kinkod_->Stop(), 0) << kinkod_->LogTail();
    }
    if (!HasFailure() && !root_.empty()) std::filesystem::remove_all(root_);
  }

  // Polls the wallet until its confirmed balance is `sats` (kinkod refreshes its coins from
  // the node when asked for them); returns the wallet object.
  json WaitForConfirmedBalance(KinkodClient& client, int64_t sats) {
    const auto deadline = std::chrono::steady_clock::now() + kFlowTimeout;
    json wallet;
    while (std::chrono::steady_clock::now() < deadline) {
      (void)client.Get(std::string(kWalletPath) + "/utxos");
      util::Result<ApiReply> reply = client.Get(kWalletPath);
      if (reply.ok() && reply->status == 200) {
        wallet = reply->body;
        if (wallet["balance"].value("confirmed", int64_t{-1}) == sats) return wallet;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    ADD_FAILURE() << "confirmed balance never reached " << sats << ": " << wallet.dump();
    return wallet;
  }

  // Submits `intents`, executes them in one batch, checks the broadcast transaction, mines a
  // block and waits until every intent is confirmed. Returns the transaction.
  btc::Transaction WithdrawAndConfirm(const std::vector<policy::SignedIntent>& intents) {
    KinkodClient requester = ClientOf(*kinkod_, TestIdentityKey(0x29));
    KinkodClient operator_client = ClientOf(*kinkod_, OperatorKey());
    std::vector<std::string> ids;
    for (const policy::SignedIntent& intent : intents) {
      const ApiReply reply = SubmitIntent(requester, intent);
      EXPECT_EQ(reply.status, 201) << reply.text;
      ids.push_back(IdHex(intent));
    }
    util::Result<ApiReply> executed = Execute(operator_client, ids);
    EXPECT_TRUE(executed.ok()) << executed.status().message();
    if (!executed.ok()) return {};
    EXPECT_EQ(executed->status, 200) << executed->text << "\n" << kinkod_->LogTail();
    EXPECT_EQ(executed->body["batches"].size(), 1u) << executed->text;
    if (executed->body["batches"].size() != 1) return {};
    const json batch = executed->body["batches"][0];
    EXPECT_EQ(batch["state"], "broadcast") << batch.dump();
    util::Result<ApiReply> transaction =
        requester.Get("/v1/batches/" + batch["id"].dump() + "/transaction");
    EXPECT_TRUE(transaction.ok() && transaction->status == 200);
    if (!transaction.ok() || transaction->status != 200) return {};
    util::Result<btc::Transaction> tx =
        btc::Transaction::ParseHex(transaction->body["hex"].get<std::string>());
    EXPECT_TRUE(tx.ok());
    if (!tx.ok()) return {};
    ExpectValidPayment(*tx, env_->coins(), intents, env_->deployment().descriptor());
    // The node has it in its mempool, then in the block mined next.
    const std::string txid = btc::TxidToHex(tx->ComputeTxid());
    EXPECT_TRUE(node_->Rpc("getmempoolentry", {txid}).ok()) << txid;
    EXPECT_TRUE(node_->Mine(1).ok());
    const std::map<std::string, json> confirmed = WaitForStates(requester, ids, {"confirmed"});
    EXPECT_EQ(confirmed.size(), ids.size());
    util::Result<ApiReply> after = requester.Get("/v1/batches/" + batch["id"].dump());
    EXPECT_TRUE(after.ok());
    if (after.ok()) {
      EXPECT_EQ(after->body["state"], "confirmed") << after->text;
      EXPECT_TRUE(after->body["confirmed_height"].is_number_integer()) << after->text;
    }
    AddCoins(*tx, env_->coins());
    return *tx;
  }

  std::string root_;
  std::unique_ptr<BitcoindNode> node_;
  std::unique_ptr<Environment> env_;
  std::unique_ptr<KinkodProcess> kinkod_;
  int64_t coinbase_sats_ = 0;
};

// The sats a transaction pays to outputs other than the wallet's change, plus its fee: what
// leaves the wallet.
int64_t Outgoing(const btc::Transaction& tx, const CoinMap& coins, const std::string& descriptor) {
  const signer::WalletConfig wallet = MakeWalletConfig(TestContext(), descriptor);
  std::set<std::vector<uint8_t>> change;
  for (uint32_t i = 0; i < 200; ++i) {
    change.insert(wallet.branch(signer::WalletBranch::kChange)
                      .Expand(TestContext(), i)
                      .value()
                      .script_pubkey.bytes());
  }
  int64_t in = 0;
  for (const btc::TxIn& input : tx.inputs) in += coins.at(input.prevout).value;
  int64_t back = 0;
  for (const btc::TxOut& out : tx.outputs) {
    if (change.contains(out.script_pubkey.bytes())) back += out.value;
  }
  return in - back;
}

TEST_F(CoordinatorRegtestTest, WithdrawalConfirmsAndTheBalanceFollows) {
  KinkodClient requester = ClientOf(*kinkod_, TestIdentityKey(0x29));
  const json funded = WaitForConfirmedBalance(requester, coinbase_sats_);
  EXPECT_EQ(funded["network"], "regtest");

  const btc::Transaction tx =
      WithdrawAndConfirm({env_->Intent(1, {25'000}), env_->Intent(2, {40'000, 15'000})});
  ASSERT_FALSE(tx.inputs.empty());
  const int64_t left =
      coinbase_sats_ - Outgoing(tx, env_->coins(), env_->deployment().descriptor());
  const json wallet = WaitForConfirmedBalance(requester, left);
  EXPECT_EQ(wallet["balance"]["reserved"], 0) << wallet.dump();
  EXPECT_EQ(wallet["balance"]["unconfirmed"], 0) << wallet.dump();
}

TEST_F(CoordinatorRegtestTest, FiftyIntentsConfirmInOneTransaction) {
  KinkodClient requester = ClientOf(*kinkod_, TestIdentityKey(0x29));
  WaitForConfirmedBalance(requester, coinbase_sats_);
  std::vector<policy::SignedIntent> intents;
  for (uint64_t i = 0; i < 50; ++i) {
    intents.push_back(env_->Intent(300 + i, {20'000 + static_cast<int64_t>(i)}));
  }
  const btc::Transaction tx = WithdrawAndConfirm(intents);
  ASSERT_FALSE(tx.inputs.empty());
  EXPECT_GE(tx.outputs.size(), 50u);
  // The transaction is in the best block.
  util::Result<json> info = node_->Rpc("getblockchaininfo");
  ASSERT_TRUE(info.ok());
  const json best = node_->Rpc("getblock", {(*info)["bestblockhash"], 1}).value();
  const json& txids = best["tx"];
  EXPECT_NE(std::find(txids.begin(), txids.end(), btc::TxidToHex(tx.ComputeTxid())), txids.end());
}

}  // namespace
}  // namespace kinko::testing
