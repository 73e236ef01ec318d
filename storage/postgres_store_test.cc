// PostgresStore against a real PostgreSQL server started by the test (test/support/
// postgres_server.h): the conformance suite of every Store, then what only PostgreSQL has:
// migrations of instances starting together, races between two connection pools, a server that
// goes away, and rows damaged behind the store's back. Skipped, with the reason, when no
// PostgreSQL server binaries are installed.
#include "storage/postgres_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "storage/storagetest/conformance.h"
#include "test/support/postgres_server.h"

namespace kinko::storage {
namespace {

using kinko::testing::PostgresServer;
using storagetest::data::Coin;
using storagetest::data::Intent;
using storagetest::data::IntentIdOf;
using storagetest::data::kNow;
using storagetest::data::NewBatchOf;
using storagetest::data::OutpointOf;
using storagetest::helpers::MustAddCoins;
using storagetest::helpers::MustInsertApproved;
using util::StatusCode;

// Every database of this binary gets a new name on the shared server.
std::string NewDatabaseName(const std::string& prefix) {
  static std::atomic<int> counter{0};
  return prefix + "_" + std::to_string(counter.fetch_add(1));
}

std::string DatabaseOf(const std::string& url) { return url.substr(url.rfind('/') + 1); }

storagetest::StoreBackend PostgresBackend() {
  return {
      .create_database = []() -> util::Result<std::string> {
        util::Result<PostgresServer*> server = PostgresServer::Shared();
        if (!server.ok()) return server.status();
        return (*server)->CreateDatabase(NewDatabaseName("conformance"));
      },
      .open = [](const std::string& url) -> util::Result<std::unique_ptr<Store>> {
        util::Result<std::unique_ptr<PostgresStore>> store = PostgresStore::Open(url);
        if (!store.ok()) return store.status();
        return std::unique_ptr<Store>(std::move(store).value());
      },
      .drop_database =
          [](const std::string& url) {
            util::Result<PostgresServer*> server = PostgresServer::Shared();
            if (server.ok()) (*server)->DropDatabase(DatabaseOf(url));
          },
  };
}

INSTANTIATE_STORE_CONFORMANCE(Postgres, PostgresBackend());

// A fresh database on the shared server for each test.
class PostgresStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    util::Result<PostgresServer*> server = PostgresServer::Shared();
    if (!server.ok() && server.status().code() == StatusCode::kFailedPrecondition) {
      GTEST_SKIP() << server.status().message();
    }
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *server;
    database_ = NewDatabaseName("pgtest");
    util::Result<std::string> url = server_->CreateDatabase(database_);
    ASSERT_TRUE(url.ok()) << url.status();
    url_ = *url;
  }

  void TearDown() override {
    if (server_ != nullptr) server_->DropDatabase(database_);
  }

  std::unique_ptr<PostgresStore> MustOpen(PostgresStoreOptions options = {}) {
    util::Result<std::unique_ptr<PostgresStore>> store = PostgresStore::Open(url_, options);
    EXPECT_TRUE(store.ok()) << store.status();
    if (!store.ok()) return nullptr;
    return std::move(store).value();
  }

  // Runs `sql` on the test's database behind the store's back.
  void MustRun(const std::string& sql) { ASSERT_TRUE(server_->Run(sql, database_)) << sql; }

  PostgresServer* server_ = nullptr;
  std::string database_;
  std::string url_;
};

TEST_F(PostgresStoreTest, OpenRefusesBadOptions) {
  for (PostgresStoreOptions options : {PostgresStoreOptions{.connections = 0, .attempts = 5},
                                       PostgresStoreOptions{.connections = 4, .attempts = 0}}) {
    util::Result<std::unique_ptr<PostgresStore>> store = PostgresStore::Open(url_, options);
    EXPECT_EQ(store.status().code(), StatusCode::kInvalidArgument);
  }
}

TEST_F(PostgresStoreTest, MigrationsRunOnceWhenStoresOpenTogether) {
  // Without the advisory lock, instances would all see no schema and all create the tables:
  // every one but the first would fail on "relation already exists".
  constexpr int kInstances = 6;
  std::atomic<int> ready{0};
  std::atomic<int> opened{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kInstances; ++i) {
    threads.emplace_back([&] {
      ready.fetch_add(1);
      while (ready.load() < kInstances) std::this_thread::yield();
      util::Result<std::unique_ptr<PostgresStore>> store = PostgresStore::Open(url_);
      if (store.ok()) {
        opened.fetch_add(1);
      } else {
        ADD_FAILURE() << store.status();
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(opened.load(), kInstances);
  // One version row, at the current version; the tables work.
  EXPECT_TRUE(
      server_->Run("DO $$ BEGIN IF (SELECT count(*) FROM schema_version) <> 1 OR "
                   "(SELECT version FROM schema_version) <> " +
                       std::to_string(kSchemaVersion) +
                       " THEN RAISE EXCEPTION 'bad schema_version'; END IF; END $$",
                   database_));
  std::unique_ptr<PostgresStore> store = MustOpen();
  ASSERT_NE(store, nullptr);
  util::Result<bool> inserted = store->InsertIntent(Intent(1));
  ASSERT_TRUE(inserted.ok()) << inserted.status();
  EXPECT_TRUE(*inserted);
}

TEST_F(PostgresStoreTest, NewerSchemaIsFailedPrecondition) {
  ASSERT_NE(MustOpen(), nullptr);
  ASSERT_NO_FATAL_FAILURE(
      MustRun("UPDATE schema_version SET version = " + std::to_string(kSchemaVersion + 1)));
  util::Result<std::unique_ptr<PostgresStore>> store = PostgresStore::Open(url_);
  EXPECT_EQ(store.status().code(), StatusCode::kFailedPrecondition) << store.status();
}

TEST_F(PostgresStoreTest, DamagedSchemaVersionIsDataLoss) {
  ASSERT_NE(MustOpen(), nullptr);
  ASSERT_NO_FATAL_FAILURE(MustRun("INSERT INTO schema_version (version) VALUES (1)"));
  util::Result<std::unique_ptr<PostgresStore>> store = PostgresStore::Open(url_);
  EXPECT_EQ(store.status().code(), StatusCode::kDataLoss) << store.status();
}

TEST_F(PostgresStoreTest, UnreachableServerIsUnavailable) {
  // Port 1 on loopback: nothing listens there.
  util::Result<std::unique_ptr<PostgresStore>> store =
      PostgresStore::Open("postgresql://kinko@127.0.0.1:1/" + database_ + "?connect_timeout=5");
  EXPECT_EQ(store.status().code(), StatusCode::kUnavailable) << store.status();
}

TEST_F(PostgresStoreTest, StoppedServerIsUnavailableUntilItReturns) {
  std::unique_ptr<PostgresStore> store = MustOpen();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->InsertIntent(Intent(1)).ok());
  const IntentRecord before = storagetest::helpers::MustGetIntent(*store, 1);
  server_->Stop();
  // Every kind of call: pooled connections are broken, new ones are refused.
  EXPECT_EQ(store->GetIntent(IntentIdOf(1)).status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(store->InsertIntent(Intent(2)).status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(store->CreateBatch(NewBatchOf({1}, {1})).status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(PostgresStore::Open(url_).status().code(), StatusCode::kUnavailable);
  util::Status resumed = server_->Resume();
  ASSERT_TRUE(resumed.ok()) << resumed;
  // The same store works again on new connections.
  util::Result<IntentRecord> got = store->GetIntent(IntentIdOf(1));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, before);
  util::Result<bool> inserted = store->InsertIntent(Intent(2));
  ASSERT_TRUE(inserted.ok()) << inserted.status();
}

// Two instances (two pools of four connections, four threads each) batching the same approved
// intents and coins over and over, and failing some of their batches so that intents and coins
// come back and are raced for again.
TEST_F(PostgresStoreTest, RaceBetweenTwoInstancesKeepsOneBatchPerIntentAndCoin) {
  std::unique_ptr<PostgresStore> first = MustOpen({.connections = 4, .attempts = 5});
  std::unique_ptr<PostgresStore> second = MustOpen({.connections = 4, .attempts = 5});
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  constexpr int kIntents = 20;
  constexpr int kCoins = 20;
  constexpr int kThreadsPerInstance = 4;
  constexpr int kRounds = 15;
  std::vector<int> numbers;
  for (int n = 1; n <= kIntents; ++n) numbers.push_back(n);
  ASSERT_NO_FATAL_FAILURE(MustInsertApproved(*first, numbers));
  ASSERT_NO_FATAL_FAILURE(MustAddCoins(*first, numbers));

  std::atomic<int> ready{0};
  std::atomic<int> created{0};
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 2 * kThreadsPerInstance; ++t) {
    PostgresStore* store = t % 2 == 0 ? first.get() : second.get();
    threads.emplace_back([&, store, t] {
      ready.fetch_add(1);
      while (ready.load() < 2 * kThreadsPerInstance) std::this_thread::yield();
      for (int round = 0; round < kRounds; ++round) {
        // Deterministic overlapping picks, in different orders per thread.
        const int a = 1 + (t * 7 + round * 3) % kIntents;
        const int b = 1 + (t * 3 + round * 5 + 2) % kIntents;
        const int c = 1 + (t * 5 + round * 7 + 1) % kCoins;
        const int d = 1 + (t * 11 + round * 13 + 3) % kCoins;
        if (a == b || c == d) continue;
        util::Result<BatchRecord> batch = store->CreateBatch(NewBatchOf({a, b}, {d, c}));
        if (!batch.ok()) {
          if (batch.status().code() != StatusCode::kAborted) ADD_FAILURE() << batch.status();
          continue;
        }
        created.fetch_add(1);
        if (round % 3 != 0) continue;
        // Give a third back: its intents to approved, its coins to available.
        BatchUpdate update;
        update.id = batch->id;
        update.from = BatchState::kBuilding;
        update.to = BatchState::kFailed;
        update.owner = batch->owner;
        update.intents_on_failure = IntentState::kApproved;
        update.now = kNow + 2000;
        util::Result<BatchRecord> released = store->UpdateBatch(update);
        if (released.ok()) {
          failed.fetch_add(1);
        } else {
          ADD_FAILURE() << released.status();
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_GT(created.load(), 0);

  util::Result<std::vector<BatchRecord>> batches =
      first->ListBatches(storagetest::data::BatchesWhere(std::nullopt, {}, 1000));
  ASSERT_TRUE(batches.ok()) << batches.status();
  EXPECT_EQ(batches->size(), static_cast<size_t>(created.load()));
  std::set<IntentId> live_intents;
  std::set<btc::Outpoint> live_coins;
  std::set<uint32_t> change_indexes;
  int failed_seen = 0;
  for (const BatchRecord& batch : *batches) {
    ASSERT_TRUE(batch.change_index.has_value());
    EXPECT_TRUE(change_indexes.insert(*batch.change_index).second)
        << "change index " << *batch.change_index << " twice";
    if (batch.state == BatchState::kFailed) {
      ++failed_seen;
      continue;
    }
    EXPECT_EQ(batch.state, BatchState::kBuilding);
    for (const IntentId& id : batch.intents) {
      EXPECT_TRUE(live_intents.insert(id).second) << "intent " << int{id[0]} << " twice";
      util::Result<IntentRecord> intent = first->GetIntent(id);
      ASSERT_TRUE(intent.ok()) << intent.status();
      EXPECT_EQ(intent->state, IntentState::kBuilding);
      EXPECT_EQ(intent->batch_id, batch.id);
    }
    for (const btc::Outpoint& input : batch.inputs) {
      EXPECT_TRUE(live_coins.insert(input).second) << "coin in two batches";
      std::optional<Utxo> coin = storagetest::helpers::FindCoin(*first, "w1", input);
      ASSERT_TRUE(coin.has_value());
      EXPECT_EQ(coin->state, UtxoState::kReserved);
      EXPECT_EQ(coin->batch_id, batch.id);
    }
  }
  EXPECT_EQ(failed_seen, failed.load());
  // Everything outside a live batch is back where it started.
  util::Result<std::vector<IntentRecord>> approved = first->ListIntents(
      storagetest::data::IntentsWhere(std::nullopt, {IntentState::kApproved}, std::nullopt, 1000));
  ASSERT_TRUE(approved.ok()) << approved.status();
  EXPECT_EQ(approved->size() + live_intents.size(), static_cast<size_t>(kIntents));
  for (const IntentRecord& intent : *approved) EXPECT_EQ(intent.batch_id, std::nullopt);
  util::Result<std::vector<Utxo>> available = first->ListUtxos("w1", UtxoState::kAvailable);
  ASSERT_TRUE(available.ok()) << available.status();
  EXPECT_EQ(available->size() + live_coins.size(), static_cast<size_t>(kCoins));
}

TEST_F(PostgresStoreTest, OneConnectionServesManyThreads) {
  std::unique_ptr<PostgresStore> store = MustOpen({.connections = 1, .attempts = 5});
  ASSERT_NE(store, nullptr);
  std::vector<std::thread> threads;
  std::atomic<int> inserted{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5; ++i) {
        util::Result<bool> result = store->InsertIntent(Intent(1 + t * 5 + i));
        if (result.ok() && *result) inserted.fetch_add(1);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(inserted.load(), 40);
}

TEST_F(PostgresStoreTest, ValuesPostgresCannotHoldAreInvalidArgument) {
  std::unique_ptr<PostgresStore> store = MustOpen();
  ASSERT_NE(store, nullptr);
  struct Case {
    std::string name;
    std::function<void(IntentRecord&)> change;
  };
  const std::vector<Case> table = {
      {"time above 2^63-1", [](IntentRecord& r) { r.expires_at = uint64_t{1} << 63; }},
      {"nul byte in text", [](IntentRecord& r) { r.external_ref = std::string("a\0b", 3); }},
      {"text not utf-8", [](IntentRecord& r) { r.detail = "\xff\xfe"; }},
  };
  for (const Case& c : table) {
    IntentRecord record = Intent(1);
    c.change(record);
    EXPECT_EQ(store->InsertIntent(record).status().code(), StatusCode::kInvalidArgument) << c.name;
    EXPECT_EQ(store->GetIntent(IntentIdOf(1)).status().code(), StatusCode::kNotFound) << c.name;
  }
  NewBatch batch = NewBatchOf({1}, {1});
  batch.lease_seconds = ~uint64_t{0};
  EXPECT_EQ(store->CreateBatch(batch).status().code(), StatusCode::kInvalidArgument);
}

// Each row damaged in one way behind the store's back, from a valid database: the read that
// meets it fails with kDataLoss (and does not abort or return a half-decoded record).
TEST_F(PostgresStoreTest, DamagedRowsAreDataLoss) {
  struct Case {
    std::string name;
    std::string damage;
    std::function<util::Status(Store&)> read;
  };
  const auto get_intent = [](Store& s) { return s.GetIntent(IntentIdOf(1)).status(); };
  const auto list_intents = [](Store& s) {
    return s.ListIntents(storagetest::data::IntentsWhere("w1")).status();
  };
  const auto get_batch = [](Store& s) { return s.GetBatch(1).status(); };
  const auto list_coins = [](Store& s) { return s.ListUtxos("w1", std::nullopt).status(); };
  const std::vector<Case> table = {
      {"unknown intent state", "UPDATE intents SET state = 'paid'", get_intent},
      {"short intent id in a batch",
       "ALTER TABLE batch_intents DROP CONSTRAINT batch_intents_intent_id_fkey; "
       "UPDATE batch_intents SET intent_id = '\\x01'",
       get_batch},
      {"short requester", "UPDATE intents SET requester = '\\x0102'", list_intents},
      {"negative time", "UPDATE intents SET received_at = -1", get_intent},
      {"output of zero sats", "UPDATE intent_outputs SET sats = 0", get_intent},
      {"no outputs", "DELETE FROM intent_outputs", list_intents},
      {"coin index above 2^32", "UPDATE utxos SET vout = 4294967296", list_coins},
      {"unknown coin state", "UPDATE utxos SET state = 'lost'", list_coins},
      {"short txid", "UPDATE utxos SET txid = '\\x00'", list_coins},
      {"unknown batch state", "UPDATE batches SET state = 'done'", get_batch},
      {"negative change index", "UPDATE batches SET change_index = -1", get_batch},
      {"batch without inputs", "DELETE FROM batch_inputs", get_batch},
  };
  for (const Case& c : table) {
    SCOPED_TRACE(c.name);
    // A fresh database per row.
    TearDown();
    ASSERT_NO_FATAL_FAILURE(SetUp());
    std::unique_ptr<PostgresStore> store = MustOpen();
    ASSERT_NE(store, nullptr);
    ASSERT_NO_FATAL_FAILURE(MustInsertApproved(*store, {1}));
    ASSERT_NO_FATAL_FAILURE(MustAddCoins(*store, {1}));
    util::Result<BatchRecord> batch = store->CreateBatch(NewBatchOf({1}, {1}));
    ASSERT_TRUE(batch.ok()) << batch.status();
    ASSERT_EQ(batch->id, 1);
    ASSERT_TRUE(c.read(*store).ok()) << "before the damage";
    ASSERT_NO_FATAL_FAILURE(MustRun(c.damage));
    util::Status status = c.read(*store);
    EXPECT_EQ(status.code(), StatusCode::kDataLoss) << status;
  }
}

}  // namespace
}  // namespace kinko::storage
