// Benchmarks of the coordinator's SQLite store (storage/sqlite_store.h), each against a baseline
// measured in the same run:
// - BM_StorageBaselineSqliteInsert: a bare SQLite INSERT of the same bytes (one row: a 16-byte
//   id and a 320-byte blob) in one BEGIN IMMEDIATE transaction, WAL and synchronous=FULL, as
//   the store configures it: the cost of one durable commit, which every write of the store pays.
// - BM_StorageInsertIntent: SqliteStore::InsertIntent of a new intent (320-byte signed intent,
//   two outputs): one transaction, three rows.
// - BM_StorageGetIntent: SqliteStore::GetIntent from a store of 10,000 intents (a read
//   transaction, two queries), against BM_StorageBaselineSqliteSelect: a bare SELECT of one
//   blob by primary key from a table of 10,000 rows.
// - BM_StorageBatchCycle: SqliteStore::CreateBatch of two approved intents and two coins, then
//   UpdateBatch to failed with the intents put back to approved (so the next iteration builds
//   them again): two durable transactions, against the baseline's one.
//
// Wall-clock time: an fsync waits for the disk, not the CPU. The databases live in $TMPDIR
// (else /tmp): measure on the disk kinkod will use.
#include <benchmark/benchmark.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "storage/sqlite_store.h"
#include "util/check.h"

namespace kinko::storage {
namespace {

constexpr size_t kSignedIntentSize = 320;
constexpr int kGetIntents = 10000;

// A directory under $TMPDIR (or /tmp) removed when the object is destroyed.
class BenchDir {
 public:
  BenchDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "kinko-storage-bench-XXXXXX").string();
    CHECK(mkdtemp(pattern.data()) != nullptr);
    path_ = pattern;
  }
  ~BenchDir() { std::filesystem::remove_all(path_); }
  BenchDir(const BenchDir&) = delete;
  BenchDir& operator=(const BenchDir&) = delete;

  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

IntentId IdOf(uint64_t n) {
  IntentId id{};
  for (size_t i = 0; i < 8; ++i) id[i] = static_cast<uint8_t>(n >> (8 * i));
  id[15] = 0xbe;
  return id;
}

IntentRecord IntentOf(uint64_t n) {
  IntentRecord record;
  record.id = IdOf(n);
  record.wallet = "treasury";
  record.signed_intent.assign(kSignedIntentSize, 0xa5);
  std::copy(record.id.begin(), record.id.end(), record.signed_intent.begin());
  record.outputs = {
      {.address = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080", .sats = 150000},
      {.address = "bcrt1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q", .sats = 2500000}};
  record.requester.fill(0x42);
  record.external_ref = "payout-" + std::to_string(n);
  record.created_at = 1'760'000'000;
  record.expires_at = 1'760'003'600;
  record.received_at = 1'760'000'000 + n;
  record.updated_at = record.received_at;
  return record;
}

std::unique_ptr<SqliteStore> OpenStore(const std::string& path) {
  util::Result<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(path);
  CHECK(store.ok());
  return std::move(*store);
}

// A bare connection configured as the store configures its own.
sqlite3* OpenBare(const std::string& path) {
  sqlite3* db = nullptr;
  CHECK(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) ==
        SQLITE_OK);
  CHECK(sqlite3_exec(db,
                     "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; "
                     "CREATE TABLE rows (id BLOB PRIMARY KEY, body BLOB NOT NULL) STRICT",
                     nullptr, nullptr, nullptr) == SQLITE_OK);
  return db;
}

void BM_StorageBaselineSqliteInsert(benchmark::State& state) {
  BenchDir dir;
  sqlite3* db = OpenBare(dir.File("bare.db"));
  sqlite3_stmt* insert = nullptr;
  CHECK(sqlite3_prepare_v2(db, "INSERT INTO rows (id, body) VALUES (?1, ?2)", -1, &insert,
                           nullptr) == SQLITE_OK);
  uint64_t n = 0;
  for (auto _ : state) {
    const IntentRecord record = IntentOf(n++);
    CHECK(sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_bind_blob(insert, 1, record.id.data(), static_cast<int>(record.id.size()),
                      SQLITE_TRANSIENT);
    sqlite3_bind_blob(insert, 2, record.signed_intent.data(),
                      static_cast<int>(record.signed_intent.size()), SQLITE_TRANSIENT);
    CHECK(sqlite3_step(insert) == SQLITE_DONE);
    sqlite3_reset(insert);
    CHECK(sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr) == SQLITE_OK);
  }
  sqlite3_finalize(insert);
  sqlite3_close(db);
}
BENCHMARK(BM_StorageBaselineSqliteInsert)->UseRealTime()->Unit(benchmark::kMicrosecond);

void BM_StorageInsertIntent(benchmark::State& state) {
  BenchDir dir;
  std::unique_ptr<SqliteStore> store = OpenStore(dir.File("store.db"));
  uint64_t n = 0;
  for (auto _ : state) {
    util::Result<bool> inserted = store->InsertIntent(IntentOf(n++));
    CHECK(inserted.ok() && *inserted);
  }
}
BENCHMARK(BM_StorageInsertIntent)->UseRealTime()->Unit(benchmark::kMicrosecond);

void BM_StorageBaselineSqliteSelect(benchmark::State& state) {
  BenchDir dir;
  sqlite3* db = OpenBare(dir.File("bare.db"));
  sqlite3_stmt* insert = nullptr;
  CHECK(sqlite3_prepare_v2(db, "INSERT INTO rows (id, body) VALUES (?1, ?2)", -1, &insert,
                           nullptr) == SQLITE_OK);
  CHECK(sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr) == SQLITE_OK);
  for (int n = 0; n < kGetIntents; ++n) {
    const IntentRecord record = IntentOf(static_cast<uint64_t>(n));
    sqlite3_bind_blob(insert, 1, record.id.data(), 16, SQLITE_TRANSIENT);
    sqlite3_bind_blob(insert, 2, record.signed_intent.data(),
                      static_cast<int>(record.signed_intent.size()), SQLITE_TRANSIENT);
    CHECK(sqlite3_step(insert) == SQLITE_DONE);
    sqlite3_reset(insert);
  }
  CHECK(sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_finalize(insert);
  uint64_t n = 0;
  for (auto _ : state) {
    const IntentId id = IdOf(n++ % kGetIntents);
    // Prepared per call, as the store prepares its statements.
    sqlite3_stmt* select = nullptr;
    CHECK(sqlite3_prepare_v2(db, "SELECT body FROM rows WHERE id = ?1", -1, &select, nullptr) ==
          SQLITE_OK);
    sqlite3_bind_blob(select, 1, id.data(), 16, SQLITE_TRANSIENT);
    CHECK(sqlite3_step(select) == SQLITE_ROW);
    std::vector<uint8_t> body(static_cast<const uint8_t*>(sqlite3_column_blob(select, 0)),
                              static_cast<const uint8_t*>(sqlite3_column_blob(select, 0)) +
                                  sqlite3_column_bytes(select, 0));
    benchmark::DoNotOptimize(body);
    sqlite3_finalize(select);
  }
  sqlite3_close(db);
}
BENCHMARK(BM_StorageBaselineSqliteSelect)->UseRealTime()->Unit(benchmark::kMicrosecond);

void BM_StorageGetIntent(benchmark::State& state) {
  BenchDir dir;
  std::unique_ptr<SqliteStore> store = OpenStore(dir.File("store.db"));
  for (int n = 0; n < kGetIntents; ++n) CHECK(store->InsertIntent(IntentOf(n)).ok());
  uint64_t n = 0;
  for (auto _ : state) {
    util::Result<IntentRecord> intent = store->GetIntent(IdOf(n++ % kGetIntents));
    CHECK(intent.ok());
    benchmark::DoNotOptimize(*intent);
  }
}
BENCHMARK(BM_StorageGetIntent)->UseRealTime()->Unit(benchmark::kMicrosecond);

void BM_StorageBatchCycle(benchmark::State& state) {
  BenchDir dir;
  std::unique_ptr<SqliteStore> store = OpenStore(dir.File("store.db"));
  NewBatch request;
  request.wallet = "treasury";
  std::vector<Utxo> coins;
  for (uint64_t n = 0; n < 2; ++n) {
    CHECK(store->InsertIntent(IntentOf(n)).ok());
    CHECK(store
              ->UpdateIntentState(IdOf(n), IntentState::kReceived, IntentState::kApproved, "{}",
                                  1'760'000'100)
              .ok());
    request.intents.push_back(IdOf(n));
    Utxo coin;
    coin.wallet = "treasury";
    coin.outpoint.txid = btc::Txid(std::array<uint8_t, 32>{static_cast<uint8_t>(n + 1)});
    coin.sats = 5'000'000;
    coin.script_pubkey.assign(22, 0x14);
    coin.index = static_cast<uint32_t>(n);
    coin.height = 800'000;
    coins.push_back(coin);
    request.inputs.push_back(coin.outpoint);
  }
  CHECK(store->AddUtxos(coins).ok());
  request.has_change = true;
  request.psbt.assign(900, 0x70);
  request.owner = "kinkod-1";
  request.now = 1'760'000'200;
  for (auto _ : state) {
    util::Result<BatchRecord> batch = store->CreateBatch(request);
    CHECK(batch.ok());
    BatchUpdate update;
    update.id = batch->id;
    update.from = BatchState::kBuilding;
    update.to = BatchState::kFailed;
    update.owner = "kinkod-1";
    update.intents_on_failure = IntentState::kApproved;
    update.now = request.now;
    util::Result<BatchRecord> failed = store->UpdateBatch(update);
    CHECK(failed.ok());
  }
}
BENCHMARK(BM_StorageBatchCycle)->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace kinko::storage
