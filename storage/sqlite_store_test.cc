#include "storage/sqlite_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "storage/storagetest/conformance.h"
#include "util/check.h"

namespace kinko::storage {
namespace {

// A fresh directory under the system's temporary directory, removed at exit.
const std::string& TestDirectory() {
  static const std::string* dir = [] {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "kinko-sqlite-store-XXXXXX").string();
    CHECK(mkdtemp(pattern.data()) != nullptr);
    auto* path = new std::string(pattern);
    std::atexit([] { std::filesystem::remove_all(*dir); });
    return path;
  }();
  return *dir;
}

std::string NewDatabasePath() {
  static std::atomic<int> counter{0};
  return TestDirectory() + "/store-" + std::to_string(counter.fetch_add(1)) + ".db";
}

void RemoveDatabase(const std::string& path) {
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
}

storagetest::StoreBackend SqliteBackend() {
  storagetest::StoreBackend backend;
  backend.create_database = []() -> util::Result<std::string> { return NewDatabasePath(); };
  backend.open = [](const std::string& path) -> util::Result<std::unique_ptr<Store>> {
    util::Result<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(path);
    if (!store.ok()) return store.status();
    return std::unique_ptr<Store>(std::move(*store));
  };
  backend.drop_database = RemoveDatabase;
  return backend;
}

INSTANTIATE_STORE_CONFORMANCE(Sqlite, SqliteBackend());

// --- SQLite only: the file, its schema, damaged rows -------------------------------------------

// A direct connection to a database file, for setting up and inspecting what the store sees.
class RawDatabase {
 public:
  explicit RawDatabase(const std::string& path) {
    CHECK(sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                          nullptr) == SQLITE_OK);
    sqlite3_busy_timeout(db_, 5000);
  }
  ~RawDatabase() { sqlite3_close(db_); }
  RawDatabase(const RawDatabase&) = delete;
  RawDatabase& operator=(const RawDatabase&) = delete;

  // Runs `sql`; returns SQLite's result code.
  int Exec(const std::string& sql) {
    return sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr);
  }
  // The first column of the first row of `sql` as text ("" when there is none).
  std::string Query(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    CHECK(sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK);
    std::string out;
    if (sqlite3_step(stmt) == SQLITE_ROW) {
      const unsigned char* text = sqlite3_column_text(stmt, 0);
      if (text != nullptr) out = reinterpret_cast<const char*>(text);
    }
    sqlite3_finalize(stmt);
    return out;
  }

 private:
  sqlite3* db_ = nullptr;
};

std::unique_ptr<SqliteStore> MustOpen(const std::string& path, SqliteStoreOptions options = {}) {
  util::Result<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(path, options);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? std::move(*store) : nullptr;
}

const std::vector<std::string> kTables = {
    "approvals",      "batch_inputs", "batch_intents", "batches",      "change_indexes",
    "intent_outputs", "intents",      "signer_heads",  "transactions", "utxos",
};

std::string TableNames(RawDatabase& raw) {
  return raw.Query(
      "SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_schema WHERE type = 'table' "
      "AND name NOT LIKE 'sqlite_%' ORDER BY name)");
}

std::string JoinedTables() {
  std::string out;
  for (const std::string& table : kTables) out += (out.empty() ? "" : ",") + table;
  return out;
}

TEST(SqliteStoreTest, OpenCreatesTheFileWithMode0600AndTheSchema) {
  const std::string path = NewDatabasePath();
  const mode_t old_umask = umask(0);  // The store, not the umask, decides the mode.
  std::unique_ptr<SqliteStore> store = MustOpen(path);
  umask(old_umask);
  ASSERT_NE(store, nullptr);
  struct stat info {};
  ASSERT_EQ(stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  RawDatabase raw(path);
  EXPECT_EQ(raw.Query("PRAGMA user_version"), std::to_string(kSchemaVersion));
  EXPECT_EQ(raw.Query("PRAGMA application_id"), std::to_string(kSqliteApplicationId));
  EXPECT_EQ(raw.Query("PRAGMA journal_mode"), "wal");
  EXPECT_EQ(TableNames(raw), JoinedTables());
  for (const std::string& table : kTables) {
    // STRICT tables: a value of another type is refused, not converted.
    EXPECT_EQ(raw.Query("SELECT strict FROM pragma_table_list WHERE name = '" + table + "'"), "1")
        << table;
  }
  RemoveDatabase(path);
}

TEST(SqliteStoreTest, OpenMigratesAnEmptyFileAndKeepsItsMode) {
  const std::string path = NewDatabasePath();
  { std::ofstream create(path); }
  ASSERT_EQ(chmod(path.c_str(), 0640), 0);
  std::unique_ptr<SqliteStore> store = MustOpen(path);
  ASSERT_NE(store, nullptr);
  struct stat info {};
  ASSERT_EQ(stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0640u);  // An existing file is the operator's choice.
  store.reset();
  RawDatabase raw(path);
  EXPECT_EQ(raw.Query("PRAGMA user_version"), std::to_string(kSchemaVersion));
  EXPECT_EQ(TableNames(raw), JoinedTables());
  RemoveDatabase(path);
}

TEST(SqliteStoreTest, OpeningAgainDoesNotMigrateAgain) {
  const std::string path = NewDatabasePath();
  std::unique_ptr<SqliteStore> store = MustOpen(path);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->PutSignerHead(storagetest::data::Head(1, 3)).ok());
  store.reset();
  // Several stores at once, as several processes would: every one opens.
  std::vector<std::unique_ptr<SqliteStore>> stores;
  for (int i = 0; i < 3; ++i) stores.push_back(MustOpen(path));
  for (const auto& opened : stores) ASSERT_NE(opened, nullptr);
  util::Result<std::optional<SignerHead>> head =
      stores[2]->GetSignerHead(storagetest::data::Head(1, 3).signer);
  ASSERT_TRUE(head.ok()) << head.status();
  EXPECT_EQ(*head, storagetest::data::Head(1, 3));
  stores.clear();
  RemoveDatabase(path);
}

TEST(SqliteStoreTest, ConcurrentOpensOfANewFileMigrateOnce) {
  const std::string path = NewDatabasePath();
  std::vector<std::thread> threads;
  std::atomic<int> opened{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      util::Result<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(path);
      if (store.ok()) {
        opened.fetch_add(1);
      } else {
        ADD_FAILURE() << store.status();
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(opened.load(), 4);
  RawDatabase raw(path);
  EXPECT_EQ(raw.Query("PRAGMA user_version"), std::to_string(kSchemaVersion));
  RemoveDatabase(path);
}

TEST(SqliteStoreTest, OpenRefusesANewerSchemaAndLeavesTheFileAlone) {
  const std::string path = NewDatabasePath();
  ASSERT_NE(MustOpen(path), nullptr);
  {
    RawDatabase raw(path);
    ASSERT_EQ(raw.Exec("PRAGMA user_version = " + std::to_string(kSchemaVersion + 1)), SQLITE_OK);
  }
  util::Result<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(path);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), util::StatusCode::kFailedPrecondition) << store.status();
  EXPECT_NE(store.status().message().find("schema version 2 is newer"), std::string::npos)
      << store.status();
  RawDatabase raw(path);
  EXPECT_EQ(raw.Query("PRAGMA user_version"), std::to_string(kSchemaVersion + 1));
  RemoveDatabase(path);
}

TEST(SqliteStoreTest, OpenRefusesAnotherApplicationsDatabase) {
  struct Case {
    std::string name;
    std::string sql;
  };
  const std::vector<Case> table = {
      {"tables without a schema version", "CREATE TABLE config (id INTEGER)"},
      {"another application id", "PRAGMA application_id = 42"},
      {"a schema version without our application id", "PRAGMA user_version = 1"},
  };
  for (const Case& c : table) {
    const std::string path = NewDatabasePath();
    {
      RawDatabase raw(path);
      ASSERT_EQ(raw.Exec(c.sql), SQLITE_OK) << c.name;
    }
    util::Result<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(path);
    ASSERT_FALSE(store.ok()) << c.name;
    EXPECT_EQ(store.status().code(), util::StatusCode::kFailedPrecondition)
        << c.name << ": " << store.status();
    RawDatabase raw(path);
    EXPECT_EQ(raw.Query("SELECT count(*) FROM sqlite_schema WHERE name = 'intents'"), "0")
        << c.name;
    RemoveDatabase(path);
  }
}

TEST(SqliteStoreTest, OpenOfAFileThatIsNotADatabaseIsDataLoss) {
  const std::string path = NewDatabasePath();
  {
    std::ofstream file(path, std::ios::binary);
    file << std::string(4096, 'x');
  }
  util::Result<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(path);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), util::StatusCode::kDataLoss) << store.status();
  RemoveDatabase(path);
}

TEST(SqliteStoreTest, AWriteLockHeldBeyondTheBusyTimeoutIsUnavailable) {
  const std::string path = NewDatabasePath();
  std::unique_ptr<SqliteStore> store = MustOpen(path, {.busy_timeout_ms = 50});
  ASSERT_NE(store, nullptr);
  RawDatabase raw(path);
  ASSERT_EQ(raw.Exec("BEGIN IMMEDIATE"), SQLITE_OK);
  util::Result<bool> inserted = store->InsertIntent(storagetest::data::Intent(1));
  EXPECT_EQ(inserted.status().code(), util::StatusCode::kUnavailable) << inserted.status();
  ASSERT_EQ(raw.Exec("ROLLBACK"), SQLITE_OK);
  inserted = store->InsertIntent(storagetest::data::Intent(1));
  ASSERT_TRUE(inserted.ok()) << inserted.status();
  EXPECT_TRUE(*inserted);
  RemoveDatabase(path);
}

// Each row damages one stored value the way a person with the file could (CHECK constraints
// off), and the read that meets it fails with kDataLoss naming the table and column.
TEST(SqliteStoreTest, DamagedRowsAreDataLossNamingTableAndColumn) {
  using storagetest::data::IntentIdOf;
  struct Case {
    std::string sql;
    std::string names;  // "<table>.<column>" or the table the message names.
    std::function<util::Status(Store&)> read;
  };
  auto get_intent = [](Store& s) { return s.GetIntent(IntentIdOf(1)).status(); };
  auto list_intents = [](Store& s) { return s.ListIntents({}).status(); };
  auto list_coins = [](Store& s) { return s.ListUtxos("w1", std::nullopt).status(); };
  auto get_batch = [](Store& s) {
    util::Result<std::vector<BatchRecord>> batches = s.ListBatches({});
    if (!batches.ok()) return batches.status();
    return s.GetBatch(1).status();
  };
  const std::vector<Case> table = {
      {"UPDATE intents SET state = 'bogus'", "intents.state", get_intent},
      {"UPDATE intents SET state = 'bogus'", "intents.state", list_intents},
      {"UPDATE intents SET state = 'approved\n'", "intents.state",
       [](Store& s) { return s.CountIntents().status(); }},
      {"UPDATE intents SET requester = x'00'", "intents.requester", get_intent},
      {"UPDATE intents SET id = x'0102'", "intents.id", list_intents},
      {"DELETE FROM intent_outputs", "intent_outputs", get_intent},
      {"UPDATE intent_outputs SET position = 5", "intent_outputs.position", get_intent},
      {"UPDATE intent_outputs SET sats = -1", "intent_outputs.sats", get_intent},
      {"UPDATE utxos SET state = 'gone'", "utxos.state", list_coins},
      {"UPDATE utxos SET vout = -1", "utxos.vout", list_coins},
      {"UPDATE utxos SET is_change = 2", "utxos.is_change", list_coins},
      {"UPDATE utxos SET height = 4294967296", "utxos.height", list_coins},
      {"UPDATE batches SET state = 'lost'", "batches.state", get_batch},
      {"UPDATE batches SET change_index = -1", "batches.change_index", get_batch},
      {"UPDATE batches SET txid = x'aa'", "batches.txid", get_batch},
      {"DELETE FROM batch_inputs", "batch_inputs", get_batch},
      {"UPDATE batch_intents SET intent_id = x'01'", "batch_intents.intent_id", get_batch},
      {"UPDATE approvals SET approver = x'01'", "approvals.approver",
       [](Store& s) { return s.ListApprovals(IntentIdOf(1)).status(); }},
      {"UPDATE signer_heads SET root_hash = x'01'", "signer_heads.root_hash",
       [](Store& s) { return s.GetSignerHead(storagetest::data::Head(1, 3).signer).status(); }},
  };
  for (const Case& c : table) {
    SCOPED_TRACE(c.sql);
    const std::string path = NewDatabasePath();
    std::unique_ptr<SqliteStore> store = MustOpen(path);
    ASSERT_NE(store, nullptr);
    ASSERT_NO_FATAL_FAILURE(storagetest::helpers::MustCreateBatch(*store, {1}, {1}));
    ASSERT_TRUE(store
                    ->InsertApproval({.intent_id = IntentIdOf(1),
                                      .approver = storagetest::data::KeyIdOf(7),
                                      .signed_approval = {1},
                                      .received_at = 5})
                    .ok());
    ASSERT_TRUE(store->PutSignerHead(storagetest::data::Head(1, 3)).ok());
    ASSERT_TRUE(c.read(*store).ok());
    {
      RawDatabase raw(path);
      ASSERT_EQ(
          raw.Exec("PRAGMA ignore_check_constraints = ON; PRAGMA foreign_keys = OFF; " + c.sql),
          SQLITE_OK);
    }
    const util::Status status = c.read(*store);
    EXPECT_EQ(status.code(), util::StatusCode::kDataLoss) << status;
    EXPECT_NE(status.message().find(c.names), std::string::npos) << status;
    EXPECT_NE(status.message().find(path), std::string::npos) << status;
    store.reset();
    RemoveDatabase(path);
  }
}

}  // namespace
}  // namespace kinko::storage
