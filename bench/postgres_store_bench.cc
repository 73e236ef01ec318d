// Benchmarks of the coordinator's PostgreSQL store (storage/postgres_store.h) against a server
// the benchmark starts itself (test/support/postgres_server.h) with PostgreSQL's default
// durability (every commit flushed), each against a baseline measured in the same run:
// - BM_PostgresInsertIntent: Store::InsertIntent of a new intent (one output, a 300-byte
//   signed intent): one transaction of two INSERTs. With 1 and 4 threads sharing one store of
//   4 connections (wall-clock time per intent: the commit waits for the disk).
// - BM_PostgresBaselineInsert: the bare INSERT of the same id and bytes into a two-column table
//   through libpq in autocommit: one round trip and one commit flush, nothing of the store.
// - BM_PostgresCreateBatchCycle/N: Store::CreateBatch of N approved intents and N coins with a
//   change index, then Store::UpdateBatch building→failed, which puts them back: one cycle of
//   the compare-and-set transitions two kinkod instances race on.
// - BM_PostgresGetIntent: Store::GetIntent of a stored intent (a READ ONLY transaction of two
//   SELECTs).
// Skipped with a message when no PostgreSQL server binaries are installed.
#include <benchmark/benchmark.h>
#include <libpq-fe.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "storage/postgres_store.h"
#include "test/support/postgres_server.h"
#include "util/check.h"

namespace kinko::storage {
namespace {

using kinko::testing::PostgresServer;

constexpr uint64_t kNow = 1'760'000'000;

// The benchmark's server, started on first use; null (with `error` set) when none can run.
PostgresServer* BenchServer(std::string& error) {
  static util::Result<std::unique_ptr<PostgresServer>> server =
      PostgresServer::Start(PostgresServer::Durability::kFull);
  if (!server.ok()) {
    error = server.status().ToString();
    return nullptr;
  }
  return server->get();
}

// A new database named after `prefix` (Google Benchmark runs a function more than once).
std::string NewDatabase(PostgresServer& server, const std::string& prefix) {
  static std::atomic<int> counter{0};
  util::Result<std::string> url =
      server.CreateDatabase(prefix + "_" + std::to_string(counter.fetch_add(1)));
  CHECK(url.ok());
  return *url;
}

// A new database on the benchmark's server and a store of 4 connections on it; null (with
// `error` set) when no server can run.
std::unique_ptr<PostgresStore> NewStore(const std::string& name, std::string& error) {
  PostgresServer* server = BenchServer(error);
  if (server == nullptr) return nullptr;
  util::Result<std::string> url = NewDatabase(*server, name);
  CHECK(url.ok());
  util::Result<std::unique_ptr<PostgresStore>> store =
      PostgresStore::Open(*url, {.connections = 4, .attempts = 5});
  CHECK(store.ok());
  return std::move(store).value();
}

std::unique_ptr<PostgresStore> NewStore(benchmark::State& state, const std::string& name) {
  std::string error;
  std::unique_ptr<PostgresStore> store = NewStore(name, error);
  if (store == nullptr) state.SkipWithError(error.c_str());
  return store;
}

// Intent number `n` of wallet "w1", in `state`.
IntentRecord IntentOf(uint64_t n, IntentState state) {
  IntentRecord record;
  for (size_t i = 0; i < 8; ++i) record.id[i] = static_cast<uint8_t>(n >> (56 - 8 * i));
  record.id[15] = 0x1d;
  record.wallet = "w1";
  record.state = state;
  record.signed_intent.assign(300, static_cast<uint8_t>(n));
  record.outputs = {{.address = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080", .sats = 40'000}};
  record.requester.fill(0x42);
  record.external_ref = "withdrawal-" + std::to_string(n);
  record.created_at = kNow;
  record.expires_at = kNow + 3600;
  record.received_at = kNow + n;
  record.updated_at = kNow + n;
  return record;
}

void BM_PostgresInsertIntent(benchmark::State& state) {
  // One store for every run and thread (a thread-safe static), as kinkod's request threads
  // share one.
  static std::string error;
  static const std::unique_ptr<PostgresStore> store = NewStore("bench_insert", error);
  static std::atomic<uint64_t> next{1};
  if (store == nullptr) {
    state.SkipWithError(error.c_str());
    return;
  }
  for (auto _ : state) {
    util::Result<bool> inserted =
        store->InsertIntent(IntentOf(next.fetch_add(1), IntentState::kReceived));
    CHECK(inserted.ok() && *inserted);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PostgresInsertIntent)->Threads(1)->Threads(4)->UseRealTime();

void BM_PostgresBaselineInsert(benchmark::State& state) {
  std::string error;
  PostgresServer* server = BenchServer(error);
  if (server == nullptr) {
    state.SkipWithError(error.c_str());
    return;
  }
  PGconn* conn = PQconnectdb(NewDatabase(*server, "bench_baseline").c_str());
  CHECK(PQstatus(conn) == CONNECTION_OK);
  PGresult* created = PQexec(conn, "CREATE TABLE blobs (id BYTEA PRIMARY KEY, body BYTEA)");
  CHECK(PQresultStatus(created) == PGRES_COMMAND_OK);
  PQclear(created);
  uint64_t n = 1;
  for (auto _ : state) {
    const IntentRecord record = IntentOf(n++, IntentState::kReceived);
    const char* values[] = {reinterpret_cast<const char*>(record.id.data()),
                            reinterpret_cast<const char*>(record.signed_intent.data())};
    const int lengths[] = {static_cast<int>(record.id.size()),
                           static_cast<int>(record.signed_intent.size())};
    const int formats[] = {1, 1};
    PGresult* result = PQexecParams(conn, "INSERT INTO blobs (id, body) VALUES ($1, $2)", 2,
                                    nullptr, values, lengths, formats, 1);
    CHECK(PQresultStatus(result) == PGRES_COMMAND_OK);
    PQclear(result);
  }
  PQfinish(conn);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PostgresBaselineInsert)->UseRealTime();

void BM_PostgresCreateBatchCycle(benchmark::State& state) {
  const auto size = static_cast<int>(state.range(0));
  std::unique_ptr<PostgresStore> store =
      NewStore(state, "bench_batch_" + std::to_string(state.range(0)));
  if (store == nullptr) return;
  NewBatch batch;
  batch.wallet = "w1";
  batch.has_change = true;
  batch.psbt.assign(200 * static_cast<size_t>(size), 0x70);
  batch.fee_sats = 1000;
  batch.fee_rate_sat_per_kvb = 2000;
  batch.owner = "bench";
  batch.now = kNow;
  std::vector<Utxo> coins;
  for (int i = 1; i <= size; ++i) {
    const IntentRecord intent = IntentOf(static_cast<uint64_t>(i), IntentState::kApproved);
    CHECK(store->InsertIntent(intent).ok());
    batch.intents.push_back(intent.id);
    Utxo coin;
    coin.wallet = "w1";
    coin.outpoint.txid = btc::Txid(std::array<uint8_t, 32>{static_cast<uint8_t>(i), 0xc0});
    coin.sats = 100'000;
    coin.script_pubkey.assign(34, 0x51);
    coin.index = static_cast<uint32_t>(i);
    coins.push_back(coin);
    batch.inputs.push_back(coin.outpoint);
  }
  CHECK(store->AddUtxos(coins).ok());
  for (auto _ : state) {
    util::Result<BatchRecord> created = store->CreateBatch(batch);
    CHECK(created.ok());
    BatchUpdate update;
    update.id = created->id;
    update.from = BatchState::kBuilding;
    update.to = BatchState::kFailed;
    update.owner = "bench";
    update.intents_on_failure = IntentState::kApproved;
    update.now = kNow;
    CHECK(store->UpdateBatch(update).ok());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PostgresCreateBatchCycle)->Arg(1)->Arg(10)->Arg(50)->UseRealTime();

void BM_PostgresGetIntent(benchmark::State& state) {
  std::unique_ptr<PostgresStore> store = NewStore(state, "bench_get");
  if (store == nullptr) return;
  const IntentRecord intent = IntentOf(1, IntentState::kReceived);
  CHECK(store->InsertIntent(intent).ok());
  for (auto _ : state) {
    util::Result<IntentRecord> got = store->GetIntent(intent.id);
    CHECK(got.ok());
    benchmark::DoNotOptimize(got);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PostgresGetIntent)->UseRealTime();

}  // namespace
}  // namespace kinko::storage
