#include "signerd/state_store.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include "crypto/hash.h"
#include "signerd/internal/sqlite.h"
#include "test/support/signer_fixture.h"
#include "util/check.h"
#include "util/hex.h"

namespace kinko::signerd {
namespace {

using auditlog::Entry;
using testing::kFixtureNow;

// A fresh directory under the system's temporary directory, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "kinko-state-store-XXXXXX").string();
    CHECK(mkdtemp(pattern.data()) != nullptr);
    path_ = pattern;
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

crypto::Hash256Bytes HashOf(const std::string& text) {
  return crypto::Sha256({reinterpret_cast<const uint8_t*>(text.data()), text.size()});
}

void ExpectSameState(const signer::SignerState& got, const signer::SignerState& want) {
  EXPECT_EQ(got.governance.active, want.governance.active);
  EXPECT_EQ(got.governance.active_since, want.governance.active_since);
  EXPECT_EQ(got.governance.pending, want.governance.pending);
  EXPECT_EQ(got.governance.pending_from, want.governance.pending_from);
  EXPECT_EQ(got.consumed, want.consumed);
  EXPECT_EQ(got.velocity.spends, want.velocity.spends);
  EXPECT_EQ(got.freezes, want.freezes);
  EXPECT_EQ(got.lifted_freezes, want.lifted_freezes);
}

// A signer's history as the daemon writes it: commits whose entries, state changes and signed
// heads fit together, and the state and log that applying them leads to. Make* build a commit
// for the history as recorded so far; Record adds a commit that was applied.
class History {
 public:
  History()
      : actors_(testing::MakeActors()),
        first_policy_(testing::MakePolicy(actors_)),
        initial_governance_(testing::InstallPolicy(actors_, first_policy_, kFixtureNow)),
        state_{.governance = initial_governance_,
               .consumed = {},
               .velocity = {},
               .freezes = {},
               .lifted_freezes = {}} {}

  // Continues the history that `loaded` holds, whose commits after the first are MakeDecision(n)
  // for n = 0, 1, ... (the crash test's child).
  void Resume(const LoadedState& loaded) {
    state_ = loaded.state;
    log_ = loaded.log;
    decisions_ = loaded.state.consumed.size();
  }

  const testing::Actors& actors() const { return actors_; }
  const policy::GovernanceState& initial_governance() const { return initial_governance_; }
  const signer::SignerState& state() const { return state_; }
  const auditlog::MerkleLog& log() const { return log_; }
  const std::vector<Entry>& entries() const { return entries_; }
  uint64_t decisions() const { return decisions_; }

  PinnedConfig Config() const {
    std::vector<policy::KeyId> admins;
    for (const crypto::Ed25519PrivateKey& admin : actors_.admins) {
      admins.push_back(testing::IdOf(admin));
    }
    std::sort(admins.begin(), admins.end());
    return PinnedConfig{
        .wallet_id = testing::kFixtureWalletId,
        .network = testing::kFixtureNetwork,
        .descriptor =
            "wsh(sortedmulti(2,[00000001/48h/1h/0h/2h]tpubA/<0;1>/*,"
            "[00000002/48h/1h/0h/2h]tpubB/<0;1>/*))",
        .receive_index_max = testing::kFixtureIndexMax,
        .change_index_max = testing::kFixtureIndexMax,
        .governance_admins = admins,
        .governance_threshold = 2,
        .watchers = {testing::IdOf(actors_.watcher)},
        .identity_public_key = actors_.signer.public_key(),
        .key_backend = "file",
        .key_file = "signing.key",
        .pkcs11_module = "",
        .pkcs11_token_label = "",
        .pkcs11_key_label = "",
        .created_at = kFixtureNow,
    };
  }

  // The first commit: the start-up and the first policy's entries.
  Commit MakeFirst() const {
    const policy::Policy& p = first_policy_.policy();
    return Make(
        {MakeEntry(kFixtureNow, auditlog::StartupEntry{.software = "kinko-signer 0.1.0",
                                                       .head_key = actors_.signer.public_key(),
                                                       .policy_digest = p.digest(),
                                                       .policy_sequence = 1}),
         MakeEntry(kFixtureNow, auditlog::PolicyChangeEntry{.old_digest = std::nullopt,
                                                            .new_digest = p.digest(),
                                                            .sequence = 1,
                                                            .effective_time = kFixtureNow})},
        {}, kFixtureNow);
  }

  // Decision `n` (n = decisions() for the next one): a request and its signed decision,
  // consuming TestIntentId(n) and spending 1000 + n satoshi at kFixtureNow + 10 (n + 1).
  Commit MakeDecision(uint64_t n) const {
    const uint64_t now = kFixtureNow + 10 * (n + 1);
    const policy::IntentId id = testing::TestIntentId(n);
    const auditlog::Hash request = HashOf("request " + std::to_string(n));
    signer::StateChange change;
    change.consumed = {id};
    change.spends = {policy::Spend{.wallet = testing::kFixtureWalletId,
                                   .time = now,
                                   .amount = testing::Sats(1000 + static_cast<int64_t>(n))}};
    return Make(
        {MakeEntry(now, auditlog::SignRequestEntry{.request_digest = request, .intent_ids = {id}}),
         MakeEntry(now,
                   auditlog::DecisionEntry{.request_digest = request,
                                           .intent_ids = {id},
                                           .outcome = auditlog::Outcome::kSigned,
                                           .code = "",
                                           .rule = "small withdrawals",
                                           .limit = "",
                                           .detail = "",
                                           .txid = HashOf("transaction " + std::to_string(n))})},
        std::move(change), now);
  }

  // A watcher's freeze with nonce byte `nonce`.
  signerapi::SignedFreeze MakeSignedFreeze(uint8_t nonce) const {
    signerapi::FreezeNonce nonce_bytes{};
    nonce_bytes.fill(nonce);
    signerapi::Freeze freeze =
        signerapi::Freeze::Create(
            {.scope = {}, .reason = "unexpected spend", .time = kFixtureNow, .nonce = nonce_bytes})
            .value();
    return signerapi::SignedFreeze::Sign(std::move(freeze), actors_.watcher);
  }

  Commit MakeFreeze(const signerapi::SignedFreeze& freeze, uint64_t now) const {
    signer::StateChange change;
    change.freeze_added = freeze;
    return Make({MakeEntry(now, auditlog::FreezeEntry{.reason = freeze.freeze().fields().reason})},
                std::move(change), now);
  }

  Commit MakeUnfreeze(const policy::Digest& freeze_digest, uint64_t now) const {
    signer::StateChange change;
    change.freeze_lifted = freeze_digest;
    return Make(
        {MakeEntry(now, auditlog::UnfreezeEntry{.reason = "explained",
                                                .authorization_digest = HashOf("unfreeze")})},
        std::move(change), now);
  }

  // A successor of the latest accepted policy with `options` (sequence and predecessor set
  // here), accepted at `now` by policy::Propose.
  Commit MakePolicyChange(testing::PolicyOptions options, uint64_t now) const {
    const policy::GovernanceState& governance = state_.governance;
    const policy::SignedPolicy& latest =
        governance.pending.has_value() ? *governance.pending : governance.active;
    options.sequence = latest.policy().fields().sequence + 1;
    options.predecessor = latest.policy().digest();
    policy::SignedPolicy next = testing::MakePolicy(actors_, options);
    policy::Acceptance acceptance = policy::Propose(governance, next, now).value();
    signer::StateChange change;
    change.governance = acceptance.state;
    return Make(
        {MakeEntry(now,
                   auditlog::PolicyChangeEntry{.old_digest = governance.active.policy().digest(),
                                               .new_digest = next.policy().digest(),
                                               .sequence = next.policy().fields().sequence,
                                               .effective_time = acceptance.effective_from})},
        std::move(change), now);
  }

  // Records `commit` as applied.
  void Record(const Commit& commit) {
    for (const Entry& entry : commit.entries) {
      log_.Append(entry.Encode());
      entries_.push_back(entry);
    }
    // As the daemon updates its state in memory: Load must give back the same.
    signer::ApplyChange(state_, commit.change);
    if (!commit.change.consumed.empty()) ++decisions_;
  }

  // The head of `log` at `time`, signed by `key`.
  auditlog::SignedTreeHead SignHead(const auditlog::MerkleLog& log, uint64_t time,
                                    const crypto::Ed25519PrivateKey& key) const {
    return auditlog::SignedTreeHead::Sign({.size = log.size(), .root = log.Root(), .time = time},
                                          key);
  }

 private:
  static Entry MakeEntry(uint64_t time, auditlog::EntryBody body) {
    return Entry::Create(time, std::move(body)).value();
  }

  Commit Make(std::vector<Entry> entries, signer::StateChange change, uint64_t now) const {
    auditlog::MerkleLog after = log_;
    for (const Entry& entry : entries) after.Append(entry.Encode());
    auditlog::SignedTreeHead head = SignHead(after, now, actors_.signer);
    return Commit{.entries = std::move(entries), .change = std::move(change), .head = head};
  }

  testing::Actors actors_;
  policy::SignedPolicy first_policy_;
  policy::GovernanceState initial_governance_;
  signer::SignerState state_;
  auditlog::MerkleLog log_;
  std::vector<Entry> entries_;
  uint64_t decisions_ = 0;
};

// Creates a store at `path` with `history`'s first commit, recorded.
StateStore CreateStore(const std::string& path, History& history) {
  const Commit first = history.MakeFirst();
  util::Result<StateStore> store =
      StateStore::Create(path, history.Config(), history.initial_governance(), first);
  CHECK(store.ok());
  history.Record(first);
  return std::move(store).value();
}

void ApplyAndRecord(StateStore& store, History& history, const Commit& commit) {
  util::Status applied = store.Apply(commit);
  ASSERT_TRUE(applied.ok()) << applied;
  history.Record(commit);
}

void ExpectLoadEquals(const StateStore& store, const History& history) {
  util::Result<LoadedState> loaded = store.Load();
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->config, history.Config());
  ExpectSameState(loaded->state, history.state());
  EXPECT_EQ(loaded->log.size(), history.log().size());
  EXPECT_EQ(loaded->log.Root(), history.log().Root());
  ASSERT_TRUE(loaded->latest_head.has_value());
  EXPECT_EQ(loaded->latest_head->head().size, history.log().size());
  EXPECT_EQ(loaded->latest_head->head().root, history.log().Root());
}

// Runs `sql` on a connection of its own to the database at `path`, as someone editing the file
// with the sqlite3 shell would (constraints and foreign keys not enforced unless asked).
void RunSql(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr),
            SQLITE_OK);
  util::Status done = internal::Exec(db, sql.c_str());
  EXPECT_TRUE(done.ok()) << done;
  ASSERT_EQ(sqlite3_close(db), SQLITE_OK);
}

// The blob of the first row and column of `query`.
std::vector<uint8_t> QueryBlob(const std::string& path, const std::string& query) {
  sqlite3* db = nullptr;
  CHECK(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  std::vector<uint8_t> out;
  {
    util::Result<internal::Statement> select = internal::Statement::Prepare(db, query);
    CHECK(select.ok());
    util::Result<bool> row = select->Step();
    CHECK(row.ok() && *row);
    out = select->ColumnBlob(0);
  }
  CHECK(sqlite3_close(db) == SQLITE_OK);
  return out;
}

std::string Blob(std::span<const uint8_t> bytes) { return "x'" + util::HexEncode(bytes) + "'"; }

// A database with the first commit, three decisions, a freeze in force and one lifted, and a
// loosening (pending) policy change: 2 + 6 + 3 + 1 = 12 entries, heads at 2, 4, 6, 8, 9, 10, 11,
// 12.
void BuildRichHistory(StateStore& store, History& history) {
  for (uint64_t n = 0; n < 3; ++n) ApplyAndRecord(store, history, history.MakeDecision(n));
  const signerapi::SignedFreeze lifted = history.MakeSignedFreeze(1);
  ApplyAndRecord(store, history, history.MakeFreeze(lifted, kFixtureNow + 100));
  ApplyAndRecord(store, history, history.MakeUnfreeze(lifted.freeze().digest(), kFixtureNow + 110));
  ApplyAndRecord(store, history,
                 history.MakeFreeze(history.MakeSignedFreeze(2), kFixtureNow + 120));
  // A higher small_max loosens: the policy becomes pending for the activation delay.
  ApplyAndRecord(
      store, history,
      history.MakePolicyChange({.small_max = testing::Sats(200'000'000)}, kFixtureNow + 130));
}

TEST(StateStoreTest, CreateThenLoadGivesWhatWasStored) {
  TempDir dir;
  History history;
  StateStore store = CreateStore(dir.File("signer.db"), history);
  ExpectLoadEquals(store, history);
  util::Result<uint64_t> count = store.EntryCount();
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, 2u);
}

// The tables and columns of schema version 1, as written (doc/signer-state.md). A change
// needs a new kStateSchemaVersion and a migration.
TEST(StateStoreTest, SchemaVersion1IsPinned) {
  TempDir dir;
  const std::string path = dir.File("signer.db");
  History history;
  { StateStore store = CreateStore(path, history); }
  const std::string columns =
      "SELECT m.name || ':' || group_concat(p.name, ',') FROM sqlite_schema AS m, "
      "pragma_table_info(m.name) AS p WHERE m.type = 'table' GROUP BY m.name ORDER BY m.name";
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  std::vector<std::string> tables;
  {
    util::Result<internal::Statement> select = internal::Statement::Prepare(db, columns);
    ASSERT_TRUE(select.ok()) << select.status();
    for (;;) {
      util::Result<bool> row = select->Step();
      ASSERT_TRUE(row.ok()) << row.status();
      if (!*row) break;
      tables.push_back(select->ColumnText(0));
    }
  }
  int64_t version = -1;
  std::string application;
  {
    util::Result<internal::Statement> select =
        internal::Statement::Prepare(db, "PRAGMA user_version");
    ASSERT_TRUE(select.ok() && *select->Step());
    version = select->ColumnInt64(0);
    select = internal::Statement::Prepare(db, "SELECT key || '=' || value FROM meta");
    ASSERT_TRUE(select.ok() && *select->Step());
    application = select->ColumnText(0);
  }
  ASSERT_EQ(sqlite3_close(db), SQLITE_OK);

  EXPECT_EQ(kStateSchemaVersion, 1u);
  EXPECT_EQ(version, 1);
  EXPECT_EQ(application, "application=kinko-signer");
  EXPECT_EQ(tables,
            (std::vector<std::string>{
                "audit_entries:idx,entry,leaf_hash",
                "config:id,wallet_id,network,descriptor,receive_index_max,change_index_max,"
                "governance_admins,governance_threshold,watchers,identity_public_key,key_backend,"
                "key_file,pkcs11_module,pkcs11_token_label,pkcs11_key_label,created_at",
                "consumed_intents:id",
                "freezes:digest,position,signed_freeze,state",
                "governance:id,active_digest,active_since,pending_digest,pending_from",
                "meta:key,value",
                "policies:digest,sequence,signed_policy,status,effective_from",
                "spends:id,wallet,time,amount",
                "tree_heads:tree_size,signed_head",
            }));
}

TEST(StateStoreTest, ReopenAfterApplySeesEverything) {
  TempDir dir;
  const std::string path = dir.File("signer.db");
  History history;
  {
    StateStore store = CreateStore(path, history);
    BuildRichHistory(store, history);
    ExpectLoadEquals(store, history);
  }
  // The history has something in every table.
  ASSERT_TRUE(history.state().governance.pending.has_value());
  ASSERT_EQ(history.state().freezes.size(), 1u);
  ASSERT_EQ(history.state().lifted_freezes.size(), 1u);
  ASSERT_EQ(history.state().consumed.size(), 3u);

  util::Result<StateStore> reopened = StateStore::Open(path);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  ExpectLoadEquals(*reopened, history);
  util::Result<std::vector<std::vector<uint8_t>>> entries = reopened->ReadEntries(0, 100);
  ASSERT_TRUE(entries.ok()) << entries.status();
  ASSERT_EQ(entries->size(), history.entries().size());
  for (size_t i = 0; i < entries->size(); ++i) {
    EXPECT_EQ((*entries)[i], history.entries()[i].Encode()) << "entry " << i;
  }
  util::Result<std::vector<auditlog::SignedTreeHead>> heads = reopened->ReadHeads();
  ASSERT_TRUE(heads.ok()) << heads.status();
  std::vector<uint64_t> sizes;
  for (const auditlog::SignedTreeHead& head : *heads) sizes.push_back(head.head().size);
  EXPECT_EQ(sizes, (std::vector<uint64_t>{2, 4, 6, 8, 9, 10, 11, 12}));
}

TEST(StateStoreTest, PromotedPolicySupersedesTheOldOne) {
  TempDir dir;
  const std::string path = dir.File("signer.db");
  History history;
  StateStore store = CreateStore(path, history);
  // A tightening change (lower small_max) takes effect at once.
  ApplyAndRecord(
      store, history,
      history.MakePolicyChange({.small_max = testing::Sats(50'000'000)}, kFixtureNow + 10));
  ExpectLoadEquals(store, history);
  const std::vector<uint8_t> statuses =
      QueryBlob(path,
                "SELECT CAST(group_concat(status, ',') AS BLOB) FROM "
                "(SELECT status FROM policies ORDER BY sequence)");
  EXPECT_EQ(std::string(statuses.begin(), statuses.end()), "superseded,active");
}

TEST(StateStoreTest, CreateMakesAFileOnlyItsOwnerReads) {
  TempDir dir;
  const std::string path = dir.File("signer.db");
  History history;
  StateStore store = CreateStore(path, history);
  struct stat info {};
  ASSERT_EQ(stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
}

TEST(StateStoreTest, CreateRefusesAnExistingFile) {
  TempDir dir;
  const std::string path = dir.File("signer.db");
  { std::ofstream(path) << "keep me"; }
  History history;
  util::Result<StateStore> store =
      StateStore::Create(path, history.Config(), history.initial_governance(), history.MakeFirst());
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), util::StatusCode::kAlreadyExists);
  std::ifstream in(path);
  std::string content;
  std::getline(in, content);
  EXPECT_EQ(content, "keep me");
}

// What a failed Create may leave behind: nothing.
void ExpectNoDatabaseFiles(const std::string& path) {
  for (const char* suffix : {"", "-wal", "-shm", "-lock"}) {
    EXPECT_FALSE(std::filesystem::exists(path + suffix)) << path + suffix;
  }
}

TEST(StateStoreTest, CreateRefusesAnInvalidConfig) {
  History history;
  const PinnedConfig valid = history.Config();
  ASSERT_EQ(valid.governance_admins.size(), 3u);
  const struct {
    const char* name;
    std::function<void(PinnedConfig&)> change;
    const char* message;
  } kCases[] = {
      {"unknown backend", [](PinnedConfig& c) { c.key_backend = "tpm"; }, "key backend 'tpm'"},
      {"no admins", [](PinnedConfig& c) { c.governance_admins.clear(); },
       "governance admins: none"},
      {"threshold 0", [](PinnedConfig& c) { c.governance_threshold = 0; },
       "governance threshold 0"},
      {"threshold above admins", [](PinnedConfig& c) { c.governance_threshold = 4; },
       "governance threshold 4: must be 1 to 3"},
      {"admins unsorted",
       [](PinnedConfig& c) { std::swap(c.governance_admins[0], c.governance_admins[1]); },
       "governance admins: not sorted"},
      {"admin twice", [](PinnedConfig& c) { c.governance_admins[1] = c.governance_admins[0]; },
       "governance admins: not sorted, or listed twice"},
      {"watchers unsorted",
       [&](PinnedConfig& c) {
         c.watchers = {valid.governance_admins[1], valid.governance_admins[0]};
       },
       "watchers: not sorted"},
  };
  for (const auto& test : kCases) {
    SCOPED_TRACE(test.name);
    TempDir dir;
    const std::string path = dir.File("signer.db");
    PinnedConfig config = valid;
    test.change(config);
    util::Result<StateStore> store =
        StateStore::Create(path, config, history.initial_governance(), history.MakeFirst());
    ASSERT_FALSE(store.ok());
    EXPECT_EQ(store.status().code(), util::StatusCode::kInvalidArgument);
    EXPECT_NE(store.status().message().find(test.message), std::string::npos) << store.status();
    ExpectNoDatabaseFiles(path);
  }
}

TEST(StateStoreTest, CreateRefusesAFirstHeadOfTheWrongSizeAndLeavesNothing) {
  TempDir dir;
  const std::string path = dir.File("signer.db");
  History history;
  Commit first = history.MakeFirst();
  first.entries.pop_back();  // The head still says 2 entries.
  util::Result<StateStore> store =
      StateStore::Create(path, history.Config(), history.initial_governance(), first);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), util::StatusCode::kInvalidArgument);
  EXPECT_NE(store.status().message().find("tree head of size 2 does not describe the log after "
                                          "the commit (1 entries)"),
            std::string::npos)
      << store.status();
  ExpectNoDatabaseFiles(path);
}

TEST(StateStoreTest, ApplyRefusesAHeadOfTheWrongSizeAndChangesNothing) {
  TempDir dir;
  History history;
  StateStore store = CreateStore(dir.File("signer.db"), history);
  for (int delta : {-1, +1}) {
    SCOPED_TRACE(delta);
    Commit commit = history.MakeDecision(0);
    const auditlog::TreeHead& head = commit.head.head();
    commit.head = auditlog::SignedTreeHead::Sign(
        {.size = head.size + static_cast<uint64_t>(delta), .root = head.root, .time = head.time},
        history.actors().signer);
    util::Status applied = store.Apply(commit);
    EXPECT_EQ(applied.code(), util::StatusCode::kInvalidArgument) << applied;
    ExpectLoadEquals(store, history);
  }
}

// Each failure happens after some of the commit was written; the transaction rolls it all back,
// and the store stays usable.
TEST(StateStoreTest, ApplyRollsBackAFailingCommit) {
  TempDir dir;
  const std::string path = dir.File("signer.db");
  History history;
  StateStore store = CreateStore(path, history);
  ApplyAndRecord(store, history, history.MakeDecision(0));
  const signerapi::SignedFreeze freeze = history.MakeSignedFreeze(7);
  ApplyAndRecord(store, history, history.MakeFreeze(freeze, kFixtureNow + 50));

  const struct {
    const char* name;
    std::function<Commit()> make;
    util::StatusCode code;
    const char* message;
  } kCases[] = {
      {"intent consumed again",
       [&] {
         // Decision 1's entries and spend, but decision 0's intent id.
         Commit commit = history.MakeDecision(1);
         commit.change.consumed = {testing::TestIntentId(0)};
         return commit;
       },
       util::StatusCode::kInvalidArgument, "is consumed already"},
      {"freeze stored twice", [&] { return history.MakeFreeze(freeze, kFixtureNow + 60); },
       util::StatusCode::kInvalidArgument, "is stored already"},
      {"lifting a freeze not in force",
       [&] { return history.MakeUnfreeze(HashOf("no such freeze"), kFixtureNow + 60); },
       util::StatusCode::kInvalidArgument, "is not in force"},
  };
  for (const auto& test : kCases) {
    SCOPED_TRACE(test.name);
    util::Status applied = store.Apply(test.make());
    EXPECT_EQ(applied.code(), test.code) << applied;
    EXPECT_NE(applied.message().find(test.message), std::string::npos) << applied;
    ExpectLoadEquals(store, history);
  }

  // An SQLite failure at the last statement of the commit (storing the head), injected by a
  // trigger that another connection installs.
  RunSql(path,
         "CREATE TRIGGER fail_head BEFORE INSERT ON tree_heads "
         "BEGIN SELECT RAISE(ABORT, 'injected failure'); END");
  util::Status applied = store.Apply(history.MakeDecision(1));
  EXPECT_EQ(applied.code(), util::StatusCode::kUnavailable) << applied;
  EXPECT_NE(applied.message().find("state database " + path), std::string::npos) << applied;
  EXPECT_NE(applied.message().find("injected failure"), std::string::npos) << applied;
  ExpectLoadEquals(store, history);

  RunSql(path, "DROP TRIGGER fail_head");
  ApplyAndRecord(store, history, history.MakeDecision(1));
  ExpectLoadEquals(store, history);
}

TEST(StateStoreTest, ASecondWriterIsRefusedWhileTheFirstHoldsTheLock) {
  TempDir dir;
  const std::string path = dir.File("signer.db");
  History history;
  {
    StateStore store = CreateStore(path, history);
    // In this process, through a second open file description.
    util::Result<StateStore> second = StateStore::Open(path);
    ASSERT_FALSE(second.ok());
    EXPECT_EQ(second.status().code(), util::StatusCode::kFailedPrecondition);
    EXPECT_EQ(second.status().message(),
              "state database " + path + " is in use by another process");

    // In another process.
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      util::Result<StateStore> other = StateStore::Open(path);
      _exit(!other.ok() && other.status().code() == util::StatusCode::kFailedPrecondition ? 0 : 1);
    }
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0) << "the other process could open the database";

    // The first writer still works after the refused attempts.
    ApplyAndRecord(store, history, history.MakeDecision(0));
  }
  // Once the first is closed, the database opens again.
  util::Result<StateStore> reopened = StateStore::Open(path);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  ExpectLoadEquals(*reopened, history);
}

TEST(StateStoreTest, OpenReadOnlyReadsWhileTheWriterRuns) {
  TempDir dir;
  const std::string path = dir.File("signer.db");
  History history;
  StateStore writer = CreateStore(path, history);
  util::Result<StateStore> reader = StateStore::OpenReadOnly(path);
  ASSERT_TRUE(reader.ok()) << reader.status();
  ExpectLoadEquals(*reader, history);

  // The reader sees each commit of the writer.
  ApplyAndRecord(writer, history, history.MakeDecision(0));
  ExpectLoadEquals(*reader, history);
  util::Result<uint64_t> count = reader->EntryCount();
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, 4u);

  // And a second writer is still refused.
  EXPECT_EQ(StateStore::Open(path).status().code(), util::StatusCode::kFailedPrecondition);
}

TEST(StateStoreTest, OpenRefusesWhatIsNotAKinkoSignerDatabase) {
  const struct {
    const char* name;
    // Makes the file at `path`, given a valid database at `valid`.
    std::function<void(const std::string& path)> make;
    util::StatusCode code;
    const char* message;
  } kCases[] = {
      {"not a database",
       [](const std::string& path) { std::ofstream(path) << std::string(4096, 'x'); },
       util::StatusCode::kDataLoss, "file is not a database"},
      {"another application's database",
       [](const std::string& path) { RunSql(path, "CREATE TABLE accounts (id INTEGER)"); },
       util::StatusCode::kDataLoss, "not a kinko signer database"},
      {"a meta table naming another application",
       [](const std::string& path) {
         RunSql(path,
                "CREATE TABLE meta (key TEXT, value TEXT);"
                "INSERT INTO meta VALUES ('application', 'something-else')");
       },
       util::StatusCode::kDataLoss, "not a kinko signer database"},
      {"another schema version",
       [](const std::string& path) {
         History history;
         { StateStore store = CreateStore(path, history); }
         RunSql(path, "PRAGMA user_version = 2");
       },
       util::StatusCode::kFailedPrecondition, "has schema version 2, but this program reads 1"},
  };
  for (const auto& test : kCases) {
    SCOPED_TRACE(test.name);
    TempDir dir;
    const std::string path = dir.File("signer.db");
    test.make(path);
    for (bool read_only : {false, true}) {
      SCOPED_TRACE(read_only ? "OpenReadOnly" : "Open");
      util::Result<StateStore> store =
          read_only ? StateStore::OpenReadOnly(path) : StateStore::Open(path);
      ASSERT_FALSE(store.ok());
      EXPECT_EQ(store.status().code(), test.code) << store.status();
      EXPECT_NE(store.status().message().find(test.message), std::string::npos) << store.status();
    }
  }
}

TEST(StateStoreTest, OpenOfAMissingFileIsNotFound) {
  TempDir dir;
  const std::string path = dir.File("signer.db");
  EXPECT_EQ(StateStore::Open(path).status().code(), util::StatusCode::kNotFound);
  EXPECT_EQ(StateStore::OpenReadOnly(path).status().code(), util::StatusCode::kNotFound);
  EXPECT_FALSE(std::filesystem::exists(path));
}

// Tampering with a closed database: each edit makes Load fail with kDataLoss naming the damage.
TEST(StateStoreTest, LoadRefusesATamperedDatabase) {
  // Built once: the rich history, and what the tampering cases need from it.
  TempDir source_dir;
  const std::string source = source_dir.File("signer.db");
  History history;
  {
    StateStore store = CreateStore(source, history);
    BuildRichHistory(store, history);
  }
  ASSERT_EQ(history.log().size(), 12u);
  const std::string active = Blob(history.state().governance.active.policy().digest());
  const std::string frozen = Blob(history.state().freezes.at(0).freeze().digest());
  auto entry_at = [&](uint64_t index) { return history.entries().at(index).Encode(); };
  // Entry 4 with the last byte of its time changed: still a valid entry.
  std::vector<uint8_t> edited_entry = entry_at(4);
  edited_entry.at(9) ^= 0x01;
  ASSERT_TRUE(Entry::Decode(edited_entry).ok());
  // The head of size 4, signed by a key that is not the signer's.
  auditlog::MerkleLog first_four;
  for (uint64_t i = 0; i < 4; ++i) first_four.Append(entry_at(i));
  const auditlog::SignedTreeHead foreign_head =
      history.SignHead(first_four, kFixtureNow + 20, history.actors().outsider);
  // The head of size 4 signed by the signer, over another root.
  const auditlog::SignedTreeHead wrong_root_head = auditlog::SignedTreeHead::Sign(
      {.size = 4, .root = HashOf("another root"), .time = kFixtureNow + 20},
      history.actors().signer);
  // Another valid policy than the active one.
  const policy::SignedPolicy other_policy =
      testing::MakePolicy(history.actors(), {.small_max = testing::Sats(1)});
  std::vector<uint8_t> edited_policy = history.state().governance.active.Encode();
  edited_policy.at(edited_policy.size() / 2) ^= 0x01;

  const struct {
    const char* name;
    std::string sql;
    std::string message;
  } kCases[] = {
      {"an entry byte edited",
       "UPDATE audit_entries SET entry = " + Blob(edited_entry) + " WHERE idx = 4",
       "audit entry 4: the stored leaf hash is not the entry's"},
      {"an entry that does not decode", "UPDATE audit_entries SET entry = x'01ff' WHERE idx = 4",
       "audit entry 4 does not decode"},
      {"an entry and its leaf hash edited",
       "UPDATE audit_entries SET entry = " + Blob(edited_entry) +
           ", leaf_hash = " + Blob(auditlog::HashLeaf(edited_entry)) + " WHERE idx = 4",
       "tree head of size 6: "},
      {"the last entry deleted", "DELETE FROM audit_entries WHERE idx = 11",
       "tree head of size 12: "},
      {"an entry in the middle deleted", "DELETE FROM audit_entries WHERE idx = 5",
       "audit entry 5 is missing (the next stored entry is 6)"},
      {"two entries swapped",
       "UPDATE audit_entries SET idx = 1000 WHERE idx = 2;"
       "UPDATE audit_entries SET idx = 2 WHERE idx = 3;"
       "UPDATE audit_entries SET idx = 3 WHERE idx = 1000",
       "tree head of size 4: "},
      {"a head replaced by one signed by another key",
       "UPDATE tree_heads SET signed_head = " + Blob(foreign_head.Encode()) +
           " WHERE tree_size = 4",
       "tree head of size 4: "},
      {"a head over another root",
       "UPDATE tree_heads SET signed_head = " + Blob(wrong_root_head.Encode()) +
           " WHERE tree_size = 4",
       "tree head of size 4: "},
      {"a head stored under another size",
       "UPDATE tree_heads SET tree_size = 5 WHERE tree_size = 4",
       "tree head of size 5 holds a head of size 4"},
      {"a head that does not decode",
       "UPDATE tree_heads SET signed_head = x'00' WHERE tree_size = 4",
       "tree head of size 4 does not decode"},
      {"the latest head deleted", "DELETE FROM tree_heads WHERE tree_size = 12",
       "the latest tree head is of size 11 but the log has 12 entries"},
      {"every head deleted", "DELETE FROM tree_heads",
       "the log has 12 entries but no signed tree head"},
      {"a policy byte edited",
       "UPDATE policies SET signed_policy = " + Blob(edited_policy) + " WHERE digest = " + active,
       "policy " + util::HexEncode(history.state().governance.active.policy().digest()) +
           " does not decode"},
      {"a policy replaced by another",
       "UPDATE policies SET signed_policy = " + Blob(other_policy.Encode()) +
           " WHERE digest = " + active,
       "is stored under another digest"},
      {"a policy's sequence edited", "UPDATE policies SET sequence = 9 WHERE digest = " + active,
       "stored sequence 9 is not its sequence 1"},
      {"the active policy marked superseded",
       "UPDATE policies SET status = 'superseded' WHERE digest = " + active,
       "active policy " + util::HexEncode(history.state().governance.active.policy().digest()) +
           " is stored with status 'superseded'"},
      {"the pending policy's time edited",
       "UPDATE policies SET effective_from = 1 WHERE status = 'pending'",
       "is stored with time 1, the governance row says"},
      {"the governance row deleted", "DELETE FROM governance", "governance: missing"},
      {"the config row deleted", "DELETE FROM config", "config: missing"},
      {"the config's threshold edited", "UPDATE config SET governance_threshold = 0",
       "config: governance threshold 0"},
      {"the config's identity key cut", "UPDATE config SET identity_public_key = x'00'",
       "config identity_public_key: 1 bytes, not 32"},
      {"the config's receive index bound out of range",
       "UPDATE config SET receive_index_max = 4294967296",
       "config receive_index_max: 4294967296 is out of range"},
      {"the config's network edited", "UPDATE config SET network = 'moon'", "config network: "},
      {"a consumed id cut",
       "PRAGMA ignore_check_constraints = ON; UPDATE consumed_intents SET id = x'00' WHERE id = " +
           Blob(testing::TestIntentId(1)),
       "consumed intent id: 1 bytes, not 16"},
      {"a spend made negative",
       "PRAGMA ignore_check_constraints = ON; UPDATE spends SET amount = -5 WHERE id = 2",
       "spend 2 amount: "},
      {"a freeze edited", "UPDATE freezes SET signed_freeze = x'a0' WHERE digest = " + frozen,
       "freeze " + util::HexEncode(history.state().freezes.at(0).freeze().digest()) +
           " does not decode"},
      {"a freeze's state edited",
       "PRAGMA ignore_check_constraints = ON; UPDATE freezes SET state = 'melted' WHERE digest "
       "= " +
           frozen,
       "unknown state 'melted'"},
  };
  for (const auto& test : kCases) {
    SCOPED_TRACE(test.name);
    TempDir dir;
    const std::string path = dir.File("signer.db");
    std::filesystem::copy_file(source, path);
    RunSql(path, test.sql);
    util::Result<StateStore> store = StateStore::Open(path);
    ASSERT_TRUE(store.ok()) << store.status();
    util::Result<LoadedState> loaded = store->Load();
    ASSERT_FALSE(loaded.ok());
    EXPECT_EQ(loaded.status().code(), util::StatusCode::kDataLoss) << loaded.status();
    EXPECT_NE(loaded.status().message().find("state database " + path + ": "), std::string::npos)
        << loaded.status();
    EXPECT_NE(loaded.status().message().find(test.message), std::string::npos) << loaded.status();
  }

  // The untouched copy loads: each failure above is the edit's.
  util::Result<StateStore> store = StateStore::Open(source);
  ASSERT_TRUE(store.ok()) << store.status();
  ExpectLoadEquals(*store, history);
}

TEST(StateStoreTest, ReadEntriesAndEntryCountBounds) {
  TempDir dir;
  History history;
  StateStore store = CreateStore(dir.File("signer.db"), history);
  for (uint64_t n = 0; n < 3; ++n) ApplyAndRecord(store, history, history.MakeDecision(n));
  const uint64_t size = history.entries().size();
  ASSERT_EQ(size, 8u);
  util::Result<uint64_t> count = store.EntryCount();
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, size);

  const struct {
    uint64_t from;
    uint64_t count;
    size_t expected;  // Entries returned, from `from` on.
  } kCases[] = {
      {0, 0, 0},   {0, 1, 1}, {0, 8, 8}, {0, 100, 8},        {3, 2, 2},
      {5, 100, 3}, {7, 1, 1}, {7, 2, 1}, {7, UINT64_MAX, 1}, {0, UINT64_MAX, 8},
  };
  for (const auto& test : kCases) {
    SCOPED_TRACE(std::to_string(test.from) + "+" + std::to_string(test.count));
    util::Result<std::vector<std::vector<uint8_t>>> entries =
        store.ReadEntries(test.from, test.count);
    ASSERT_TRUE(entries.ok()) << entries.status();
    ASSERT_EQ(entries->size(), test.expected);
    for (size_t i = 0; i < entries->size(); ++i) {
      EXPECT_EQ((*entries)[i], history.entries()[test.from + i].Encode());
    }
  }
  for (uint64_t from : {size, size + 1, uint64_t{UINT64_MAX}}) {
    SCOPED_TRACE(from);
    util::Result<std::vector<std::vector<uint8_t>>> entries = store.ReadEntries(from, 1);
    ASSERT_FALSE(entries.ok());
    EXPECT_EQ(entries.status().code(), util::StatusCode::kNotFound);
  }
}

// The intent ids of the signed decisions among `entries`.
std::set<policy::IntentId> SignedIntentIds(const std::vector<std::vector<uint8_t>>& entries) {
  std::set<policy::IntentId> ids;
  for (const std::vector<uint8_t>& bytes : entries) {
    const Entry entry = Entry::Decode(bytes).value();
    const auto* decision = std::get_if<auditlog::DecisionEntry>(&entry.body());
    if (decision != nullptr && decision->outcome == auditlog::Outcome::kSigned) {
      ids.insert(decision->intent_ids.begin(), decision->intent_ids.end());
    }
  }
  return ids;
}

// A child process applies decisions in a loop and is killed (SIGKILL) at a random moment of
// that loop (0 to 50 ms after it says it is ready, whatever the machine's speed); the database
// must then load, and hold exactly the first k decisions for some k: the entries, the consumed
// ids and the spends agree with each other. Repeated on the same database, so each child starts
// from where the last one was killed.
TEST(StateStoreTest, KilledWriterLeavesAPrefixOfItsCommits) {
  TempDir dir;
  const std::string path = dir.File("signer.db");
  History reference;  // Decision n of the reference is decision n of every child.
  { StateStore store = CreateStore(path, reference); }

  const unsigned seed = std::random_device()();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 random(seed);
  std::uniform_int_distribution<int> delay_ms(0, 50);

  uint64_t decisions = 0;
  for (int round = 0; round < 30; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    int ready[2] = {-1, -1};  // The child writes one byte to ready[1] when it starts applying.
    ASSERT_EQ(pipe(ready), 0);
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      close(ready[0]);
      util::Result<StateStore> store = StateStore::Open(path);
      if (!store.ok()) _exit(2);
      util::Result<LoadedState> loaded = store->Load();
      if (!loaded.ok()) _exit(3);
      History history;
      history.Resume(*loaded);
      const char byte = 1;
      if (write(ready[1], &byte, 1) != 1) _exit(5);
      for (;;) {
        const Commit commit = history.MakeDecision(history.decisions());
        if (!store->Apply(commit).ok()) _exit(4);
        history.Record(commit);
      }
    }
    close(ready[1]);
    char byte = 0;
    const ssize_t got = read(ready[0], &byte, 1);  // 0 when the child ended before it was ready.
    close(ready[0]);
    if (got == 1) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(random)));
    ASSERT_EQ(kill(child, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the child exited with " << WEXITSTATUS(status);

    util::Result<StateStore> store = StateStore::Open(path);
    ASSERT_TRUE(store.ok()) << store.status();
    util::Result<LoadedState> loaded = store->Load();
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    const uint64_t k = loaded->state.consumed.size();
    ASSERT_GE(k, decisions) << "a committed decision was lost";
    decisions = k;

    // The reference history up to decision k.
    while (reference.decisions() < k) {
      reference.Record(reference.MakeDecision(reference.decisions()));
    }
    ExpectSameState(loaded->state, reference.state());
    ASSERT_EQ(loaded->log.size(), reference.log().size());
    EXPECT_EQ(loaded->log.Root(), reference.log().Root());
    util::Result<std::vector<std::vector<uint8_t>>> entries =
        store->ReadEntries(0, loaded->log.size());
    ASSERT_TRUE(entries.ok()) << entries.status();
    EXPECT_EQ(SignedIntentIds(*entries), loaded->state.consumed);
  }
  EXPECT_GT(decisions, 0u) << "no child committed anything";
}

}  // namespace
}  // namespace kinko::signerd
