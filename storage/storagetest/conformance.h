// The conformance suite of storage::Store (storage/store.h): one set of GoogleTest cases that
// every backend runs, so that the SQLite and PostgreSQL stores behave the same way, error codes
// included. TEST CODE ONLY.
//
// A backend describes how to make a fresh database and how to open a store on it:
//
//   kinko::storagetest::StoreBackend SqliteBackend() {
//     return {.create_database = ..., .open = ..., .drop_database = ...};
//   }
//   INSTANTIATE_STORE_CONFORMANCE(Sqlite, SqliteBackend());
//
// which registers every case as the test `Sqlite/StoreConformance.<Case>`. Each case gets a new
// empty database. Opening a second store on the same database (`handle`: a SQLite file path, a
// PostgreSQL connection URL) gives the race tests two independent clients, as two kinkod
// instances would be.
//
// The suite pins a few behaviours the header leaves open, so that both backends agree; each is
// named "(pinned)" in its case: an unknown `after` in ListIntents is kNotFound; an intent or coin
// of another wallet in CreateBatch is kInvalidArgument; a coin added again with another wallet,
// amount or script is kAlreadyExists; a failed batch clears the batch_id of the intents it puts
// back to kApproved and keeps it on intents it refuses; X→X is refused for the final batch
// states; the first change index of a wallet is 0, or one past the highest change coin stored.
//
// Header-only: include it from ONE source file per test binary per backend (the cases are
// registered at static initialization by the macro).
//
// Thread-safe as GoogleTest is: cases run one at a time; the race cases start their own threads.
#ifndef KINKO_STORAGE_STORAGETEST_CONFORMANCE_H_
#define KINKO_STORAGE_STORAGETEST_CONFORMANCE_H_

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "btc/transaction.h"
#include "storage/store.h"
#include "util/result.h"
#include "util/status.h"

namespace kinko::storagetest {

// How the suite makes databases and stores of one backend.
struct StoreBackend {
  // Creates a new, empty database and returns its handle (a file path, a connection URL).
  // kFailedPrecondition when the backend cannot run on this machine: every case is then skipped
  // with the status's message. Any other failure fails the case.
  std::function<util::Result<std::string>()> create_database;
  // Opens a new store (its own connections) on the database `handle`. Stores opened on one
  // handle share the database.
  std::function<util::Result<std::unique_ptr<storage::Store>>(const std::string& handle)> open;
  // Removes the database `handle` once the case has closed its stores. May be empty.
  std::function<void(const std::string& handle)> drop_database;
};

// The fixture of every case: a fresh database and a store open on it.
class StoreConformanceTest : public ::testing::Test {
 public:
  using Body = void (*)(StoreConformanceTest&);

  StoreConformanceTest(StoreBackend backend, Body body)
      : backend_(std::move(backend)), body_(body) {}

  void SetUp() override { ASSERT_NO_FATAL_FAILURE(FreshDatabase()); }

  void TearDown() override { CloseAndDrop(); }

  void TestBody() override {
    if (store_ == nullptr) return;  // Skipped in SetUp.
    body_(*this);
  }

  storage::Store& store() { return *store_; }
  const std::string& handle() const { return handle_; }

  // Replaces the current database with a new empty one (for table-driven cases that need a clean
  // start per row). Fatal failure when it cannot be made.
  void FreshDatabase() {
    CloseAndDrop();
    util::Result<std::string> handle = backend_.create_database();
    if (!handle.ok() && handle.status().code() == util::StatusCode::kFailedPrecondition) {
      GTEST_SKIP() << handle.status().message();
    }
    ASSERT_TRUE(handle.ok()) << handle.status();
    handle_ = *handle;
    std::unique_ptr<storage::Store> store = Open();
    ASSERT_NE(store, nullptr);
    store_ = std::move(store);
  }

  // A second (third ...) store on the current database; null (with a failure) when it cannot be
  // opened.
  std::unique_ptr<storage::Store> Open() {
    util::Result<std::unique_ptr<storage::Store>> store = backend_.open(handle_);
    EXPECT_TRUE(store.ok()) << store.status();
    if (!store.ok()) return nullptr;
    return std::move(*store);
  }

  // Closes the store and opens the database again.
  void Reopen() {
    store_.reset();
    std::unique_ptr<storage::Store> store = Open();
    ASSERT_NE(store, nullptr);
    store_ = std::move(store);
  }

 private:
  void CloseAndDrop() {
    store_.reset();
    if (!handle_.empty() && backend_.drop_database) backend_.drop_database(handle_);
    handle_.clear();
  }

  StoreBackend backend_;
  Body body_;
  std::string handle_;
  std::unique_ptr<storage::Store> store_;
};

// --- Test data ----------------------------------------------------------------------------------
// Deterministic records numbered by a small integer `n`.

namespace data {

using storage::BatchRecord;
using storage::BatchState;
using storage::IntentId;
using storage::IntentRecord;
using storage::IntentState;
using storage::KeyId;
using storage::Utxo;
using storage::UtxoState;

inline constexpr uint64_t kNow = 1'760'000'000;

// Filters, spelled out (designated initializers that skip members are warnings here).
inline storage::IntentFilter IntentsWhere(std::optional<std::string> wallet,
                                          std::vector<storage::IntentState> states = {},
                                          std::optional<storage::IntentId> after = std::nullopt,
                                          size_t limit = 100) {
  storage::IntentFilter filter;
  filter.wallet = std::move(wallet);
  filter.states = std::move(states);
  filter.after = after;
  filter.limit = limit;
  return filter;
}

inline storage::BatchFilter BatchesWhere(std::optional<std::string> wallet,
                                         std::vector<storage::BatchState> states = {},
                                         size_t limit = 100) {
  storage::BatchFilter filter;
  filter.wallet = std::move(wallet);
  filter.states = std::move(states);
  filter.limit = limit;
  return filter;
}

// Intent ids sort by `n` (first byte).
inline IntentId IntentIdOf(int n) {
  IntentId id{};
  id[0] = static_cast<uint8_t>(n);
  id[15] = 0x1d;
  return id;
}

inline KeyId KeyIdOf(int n) {
  KeyId id{};
  id.fill(static_cast<uint8_t>(n));
  return id;
}

// Intent `n` of `wallet`, state received, received at kNow + n.
inline IntentRecord Intent(int n, const std::string& wallet = "w1") {
  IntentRecord record;
  record.id = IntentIdOf(n);
  record.wallet = wallet;
  record.state = IntentState::kReceived;
  record.signed_intent = {0xa1, 0x00, static_cast<uint8_t>(n), 0x7f, 0x00, 0x01};
  record.outputs = {{.address = "bcrt1qintent" + std::to_string(n), .sats = 10'000 + n}};
  record.requester = KeyIdOf(0x40 + n);
  record.external_ref = "ref-" + std::to_string(n);
  record.created_at = kNow - 60;
  record.expires_at = kNow + 3600;
  record.received_at = kNow + static_cast<uint64_t>(n);
  record.updated_at = record.received_at;
  record.detail = "{}";
  return record;
}

inline btc::Txid TxidOf(int n) {
  std::array<uint8_t, 32> bytes{};
  bytes[0] = static_cast<uint8_t>(n);
  bytes[31] = 0xc0;
  return btc::Txid(bytes);
}

inline btc::Outpoint OutpointOf(int n, uint32_t index = 0) {
  return {.txid = TxidOf(n), .index = index};
}

// Coin `n` of `wallet`: available, confirmed at height 100 + n, on the receive branch.
inline Utxo Coin(int n, const std::string& wallet = "w1", int64_t sats = 50'000) {
  Utxo coin;
  coin.wallet = wallet;
  coin.outpoint = OutpointOf(n);
  coin.sats = sats;
  coin.script_pubkey = {0x00, 0x14, static_cast<uint8_t>(n), 0x01, 0x02, 0x03};
  coin.change = false;
  coin.index = static_cast<uint32_t>(n);
  coin.height = 100 + static_cast<uint32_t>(n);
  coin.state = UtxoState::kAvailable;
  return coin;
}

inline storage::NewBatch NewBatchOf(const std::vector<int>& intents, const std::vector<int>& coins,
                                    const std::string& wallet = "w1") {
  storage::NewBatch batch;
  batch.wallet = wallet;
  for (int n : intents) batch.intents.push_back(IntentIdOf(n));
  for (int n : coins) batch.inputs.push_back(OutpointOf(n));
  batch.has_change = true;
  batch.psbt = {0x70, 0x73, 0x62, 0x74, 0xff};
  batch.txid = TxidOf(0x99);
  batch.fee_sats = 1234;
  batch.fee_rate_sat_per_kvb = 2000;
  batch.owner = "instance-a";
  batch.now = kNow + 1000;
  batch.lease_seconds = 60;
  return batch;
}

inline storage::SignerHead Head(int signer, uint64_t size) {
  storage::SignerHead head;
  head.signer = KeyIdOf(0x80 + signer);
  head.tree_size = size;
  head.root_hash.fill(static_cast<uint8_t>(size));
  head.signed_tree_head = {0x5e, static_cast<uint8_t>(signer), static_cast<uint8_t>(size)};
  head.seen_at = kNow + size;
  return head;
}

inline const std::vector<IntentState>& AllIntentStates() {
  static const std::vector<IntentState> states = {
      IntentState::kReceived,  IntentState::kAwaitingApprovals, IntentState::kApproved,
      IntentState::kBuilding,  IntentState::kSigning,           IntentState::kSigned,
      IntentState::kBroadcast, IntentState::kConfirmed,         IntentState::kRefused,
      IntentState::kExpired,
  };
  return states;
}

inline const std::vector<BatchState>& AllBatchStates() {
  static const std::vector<BatchState> states = {
      BatchState::kBuilding,  BatchState::kSigning,   BatchState::kSigned,
      BatchState::kBroadcast, BatchState::kConfirmed, BatchState::kFailed,
  };
  return states;
}

}  // namespace data

// --- Helpers for the cases ----------------------------------------------------------------------
// They use ASSERT_*: call them inside ASSERT_NO_FATAL_FAILURE.

namespace helpers {

using storage::BatchRecord;
using storage::BatchState;
using storage::IntentRecord;
using storage::IntentState;
using storage::Store;
using storage::Utxo;
using util::StatusCode;

inline void ExpectCode(const util::Status& status, StatusCode code, const std::string& what) {
  EXPECT_EQ(status.code(), code) << what << ": " << status;
}

inline void MustInsert(Store& store, const IntentRecord& record) {
  util::Result<bool> inserted = store.InsertIntent(record);
  ASSERT_TRUE(inserted.ok()) << inserted.status();
  ASSERT_TRUE(*inserted);
}

inline void MustMove(Store& store, int n, IntentState from, IntentState to) {
  util::Status moved =
      store.UpdateIntentState(data::IntentIdOf(n), from, to, "{}", data::kNow + 500);
  ASSERT_TRUE(moved.ok()) << moved;
}

// Inserts intents `ns` of `wallet` and approves them.
inline void MustInsertApproved(Store& store, const std::vector<int>& ns,
                               const std::string& wallet = "w1") {
  for (int n : ns) {
    ASSERT_NO_FATAL_FAILURE(MustInsert(store, data::Intent(n, wallet)));
    ASSERT_NO_FATAL_FAILURE(MustMove(store, n, IntentState::kReceived, IntentState::kApproved));
  }
}

inline void MustAddCoins(Store& store, const std::vector<int>& ns,
                         const std::string& wallet = "w1") {
  std::vector<Utxo> coins;
  for (int n : ns) coins.push_back(data::Coin(n, wallet));
  util::Status added = store.AddUtxos(coins);
  ASSERT_TRUE(added.ok()) << added;
}

inline IntentRecord MustGetIntent(Store& store, int n) {
  util::Result<IntentRecord> got = store.GetIntent(data::IntentIdOf(n));
  EXPECT_TRUE(got.ok()) << "intent " << n << ": " << got.status();
  return got.ok() ? *got : IntentRecord{};
}

inline BatchRecord MustGetBatch(Store& store, int64_t id) {
  util::Result<BatchRecord> got = store.GetBatch(id);
  EXPECT_TRUE(got.ok()) << "batch " << id << ": " << got.status();
  return got.ok() ? *got : BatchRecord{};
}

// The coin `outpoint` of `wallet` as listed.
inline std::optional<Utxo> FindCoin(Store& store, const std::string& wallet,
                                    const btc::Outpoint& outpoint) {
  util::Result<std::vector<Utxo>> coins = store.ListUtxos(wallet, std::nullopt);
  EXPECT_TRUE(coins.ok()) << coins.status();
  if (!coins.ok()) return std::nullopt;
  for (const Utxo& coin : *coins) {
    if (coin.outpoint == outpoint) return coin;
  }
  return std::nullopt;
}

// Everything the suite can read back, for "nothing changed" checks.
struct Snapshot {
  std::vector<IntentRecord> intents;
  std::vector<std::vector<storage::ApprovalRecord>> approvals;
  std::vector<Utxo> coins;
  std::vector<BatchRecord> batches;
  friend bool operator==(const Snapshot&, const Snapshot&) = default;
};

inline Snapshot TakeSnapshot(Store& store) {
  Snapshot snapshot;
  util::Result<std::vector<IntentRecord>> intents =
      store.ListIntents(data::IntentsWhere(std::nullopt, {}, std::nullopt, 1000));
  EXPECT_TRUE(intents.ok()) << intents.status();
  if (intents.ok()) snapshot.intents = *intents;
  for (const IntentRecord& intent : snapshot.intents) {
    util::Result<std::vector<storage::ApprovalRecord>> approvals = store.ListApprovals(intent.id);
    EXPECT_TRUE(approvals.ok()) << approvals.status();
    if (approvals.ok()) snapshot.approvals.push_back(*approvals);
  }
  for (const char* wallet : {"w1", "w2"}) {
    util::Result<std::vector<Utxo>> coins = store.ListUtxos(wallet, std::nullopt);
    EXPECT_TRUE(coins.ok()) << coins.status();
    if (coins.ok()) snapshot.coins.insert(snapshot.coins.end(), coins->begin(), coins->end());
  }
  util::Result<std::vector<BatchRecord>> batches =
      store.ListBatches(data::BatchesWhere(std::nullopt, {}, 1000));
  EXPECT_TRUE(batches.ok()) << batches.status();
  if (batches.ok()) snapshot.batches = *batches;
  return snapshot;
}

// Creates batch of intents `intents` (approved here) and coins `coins` (added here).
inline BatchRecord MustCreateBatch(Store& store, const std::vector<int>& intents,
                                   const std::vector<int>& coins) {
  EXPECT_NO_FATAL_FAILURE(MustInsertApproved(store, intents));
  EXPECT_NO_FATAL_FAILURE(MustAddCoins(store, coins));
  util::Result<BatchRecord> batch = store.CreateBatch(data::NewBatchOf(intents, coins));
  EXPECT_TRUE(batch.ok()) << batch.status();
  return batch.ok() ? *batch : BatchRecord{};
}

inline storage::BatchUpdate Move(int64_t id, BatchState from, BatchState to) {
  storage::BatchUpdate update;
  update.id = id;
  update.from = from;
  update.to = to;
  update.owner = "instance-a";
  update.now = data::kNow + 2000;
  return update;
}

// Moves batch `id` along building→signing→signed→broadcast→confirmed up to `target` (or to
// failed from broadcast when `target` is failed... use MoveToFailed for that).
inline void MustWalkTo(Store& store, int64_t id, BatchState target) {
  const std::vector<BatchState> path = {BatchState::kBuilding, BatchState::kSigning,
                                        BatchState::kSigned, BatchState::kBroadcast,
                                        BatchState::kConfirmed};
  if (target == BatchState::kFailed) {
    util::Result<BatchRecord> failed =
        store.UpdateBatch(Move(id, BatchState::kBuilding, BatchState::kFailed));
    ASSERT_TRUE(failed.ok()) << failed.status();
    return;
  }
  for (size_t i = 0; i + 1 < path.size() && path[i] != target; ++i) {
    util::Result<BatchRecord> moved = store.UpdateBatch(Move(id, path[i], path[i + 1]));
    ASSERT_TRUE(moved.ok()) << moved.status();
  }
}

}  // namespace helpers

// --- The cases ----------------------------------------------------------------------------------

namespace cases {

using data::BatchesWhere;
using data::Coin;
using data::Intent;
using data::IntentIdOf;
using data::IntentsWhere;
using data::kNow;
using data::OutpointOf;
using helpers::ExpectCode;
using helpers::FindCoin;
using helpers::MustAddCoins;
using helpers::MustCreateBatch;
using helpers::MustGetBatch;
using helpers::MustGetIntent;
using helpers::MustInsert;
using helpers::MustInsertApproved;
using helpers::MustMove;
using helpers::Snapshot;
using helpers::TakeSnapshot;
using storage::ApprovalRecord;
using storage::BatchRecord;
using storage::BatchState;
using storage::BatchUpdate;
using storage::IntentFilter;
using storage::IntentRecord;
using storage::IntentState;
using storage::Store;
using storage::Utxo;
using storage::UtxoState;
using util::StatusCode;
using T = StoreConformanceTest;

// --- Intents ---

inline void InsertIntentStoresItWithRevisionOne(T& t) {
  IntentRecord record = Intent(1);
  record.outputs = {{.address = "bcrt1qzz", .sats = 7}, {.address = "bcrt1qaa", .sats = 900}};
  util::Result<bool> inserted = t.store().InsertIntent(record);
  ASSERT_TRUE(inserted.ok()) << inserted.status();
  EXPECT_TRUE(*inserted);
  record.revision = 1;
  EXPECT_EQ(MustGetIntent(t.store(), 1), record);
}

inline void InsertIntentAgainWithSameBytesIsIdempotent(T& t) {
  ASSERT_NO_FATAL_FAILURE(MustInsert(t.store(), Intent(1)));
  ASSERT_NO_FATAL_FAILURE(MustMove(t.store(), 1, IntentState::kReceived, IntentState::kApproved));
  const IntentRecord stored = MustGetIntent(t.store(), 1);
  // Same id and bytes; other fields differ: the stored intent is left as it is.
  IntentRecord again = Intent(1);
  again.external_ref = "changed";
  again.received_at = kNow + 999;
  util::Result<bool> inserted = t.store().InsertIntent(again);
  ASSERT_TRUE(inserted.ok()) << inserted.status();
  EXPECT_FALSE(*inserted);
  EXPECT_EQ(MustGetIntent(t.store(), 1), stored);
}

inline void InsertIntentWithTakenIdAndOtherBytesIsAlreadyExists(T& t) {
  ASSERT_NO_FATAL_FAILURE(MustInsert(t.store(), Intent(1)));
  const Snapshot before = TakeSnapshot(t.store());
  IntentRecord other = Intent(1);
  other.signed_intent.back() ^= 0x01;
  ExpectCode(t.store().InsertIntent(other).status(), StatusCode::kAlreadyExists, "other bytes");
  IntentRecord longer = Intent(1);
  longer.signed_intent.push_back(0x00);
  ExpectCode(t.store().InsertIntent(longer).status(), StatusCode::kAlreadyExists, "longer");
  EXPECT_EQ(TakeSnapshot(t.store()), before);
}

inline void InsertIntentRefusesInvalidRecords(T& t) {
  struct Case {
    std::string name;
    std::function<void(IntentRecord&)> change;
  };
  const std::vector<Case> table = {
      {"empty wallet", [](IntentRecord& r) { r.wallet.clear(); }},
      {"no outputs", [](IntentRecord& r) { r.outputs.clear(); }},
      {"zero amount", [](IntentRecord& r) { r.outputs[0].sats = 0; }},
      {"negative amount in second output",
       [](IntentRecord& r) { r.outputs.push_back({.address = "bcrt1qx", .sats = -1}); }},
      {"257 outputs",
       [](IntentRecord& r) { r.outputs.assign(257, {.address = "bcrt1qx", .sats = 1}); }},
  };
  // The valid record is accepted (checked in a fresh database at the end).
  for (const Case& c : table) {
    IntentRecord record = Intent(1);
    c.change(record);
    ExpectCode(t.store().InsertIntent(record).status(), StatusCode::kInvalidArgument, c.name);
    ExpectCode(t.store().GetIntent(IntentIdOf(1)).status(), StatusCode::kNotFound, c.name);
  }
  IntentRecord most = Intent(1);
  most.outputs.assign(256, {.address = "bcrt1qx", .sats = 1});
  util::Result<bool> inserted = t.store().InsertIntent(most);
  ASSERT_TRUE(inserted.ok()) << inserted.status();
  EXPECT_EQ(MustGetIntent(t.store(), 1).outputs.size(), 256u);
}

inline void GetIntentOfUnknownIdIsNotFound(T& t) {
  ASSERT_NO_FATAL_FAILURE(MustInsert(t.store(), Intent(1)));
  ExpectCode(t.store().GetIntent(IntentIdOf(2)).status(), StatusCode::kNotFound, "unknown id");
}

inline void ListIntentsPagesInReceivedOrderThenId(T& t) {
  // Received times out of id order, with ties broken by id.
  const std::vector<std::pair<int, uint64_t>> received = {
      {5, kNow + 10}, {1, kNow + 30}, {9, kNow + 10}, {3, kNow + 20},
      {7, kNow + 5},  {2, kNow + 30}, {8, kNow + 20},
  };
  for (const auto& [n, at] : received) {
    IntentRecord record = Intent(n);
    record.received_at = at;
    ASSERT_NO_FATAL_FAILURE(MustInsert(t.store(), record));
  }
  const std::vector<int> expected = {7, 5, 9, 3, 8, 1, 2};
  for (size_t limit : {size_t{1}, size_t{2}, size_t{3}, size_t{7}, size_t{100}}) {
    std::vector<int> seen;
    std::optional<storage::IntentId> after;
    for (int page = 0; page < 10; ++page) {
      util::Result<std::vector<IntentRecord>> got =
          t.store().ListIntents(IntentsWhere(std::nullopt, {}, after, limit));
      ASSERT_TRUE(got.ok()) << got.status();
      ASSERT_LE(got->size(), limit);
      if (got->empty()) break;
      for (const IntentRecord& record : *got) seen.push_back(record.id[0]);
      after = got->back().id;
    }
    EXPECT_EQ(seen, expected) << "limit " << limit;
  }
}

inline void ListIntentsFiltersByWalletAndStates(T& t) {
  for (int n = 1; n <= 6; ++n) {
    ASSERT_NO_FATAL_FAILURE(MustInsert(t.store(), Intent(n, n % 2 == 0 ? "w2" : "w1")));
  }
  ASSERT_NO_FATAL_FAILURE(MustMove(t.store(), 1, IntentState::kReceived, IntentState::kApproved));
  ASSERT_NO_FATAL_FAILURE(MustMove(t.store(), 2, IntentState::kReceived, IntentState::kApproved));
  ASSERT_NO_FATAL_FAILURE(MustMove(t.store(), 3, IntentState::kReceived, IntentState::kRefused));
  ASSERT_NO_FATAL_FAILURE(
      MustMove(t.store(), 4, IntentState::kReceived, IntentState::kAwaitingApprovals));
  struct Case {
    std::string name;
    IntentFilter filter;
    std::vector<int> expected;
  };
  const std::vector<Case> table = {
      {"all", IntentsWhere(std::nullopt), {1, 2, 3, 4, 5, 6}},
      {"wallet w1", IntentsWhere("w1"), {1, 3, 5}},
      {"wallet w2", IntentsWhere("w2"), {2, 4, 6}},
      {"unknown wallet", IntentsWhere("w3"), {}},
      {"approved", IntentsWhere(std::nullopt, {IntentState::kApproved}), {1, 2}},
      {"approved or refused",
       IntentsWhere(std::nullopt, {IntentState::kRefused, IntentState::kApproved}),
       {1, 2, 3}},
      {"w2 approved or awaiting",
       IntentsWhere("w2", {IntentState::kApproved, IntentState::kAwaitingApprovals}),
       {2, 4}},
      {"received", IntentsWhere(std::nullopt, {IntentState::kReceived}), {5, 6}},
      {"confirmed", IntentsWhere(std::nullopt, {IntentState::kConfirmed}), {}},
      // Pagination from an intent the filter excludes: its position counts.
      {"w1 after intent 2", IntentsWhere("w1", {}, IntentIdOf(2)), {3, 5}},
      {"received after intent 5",
       IntentsWhere(std::nullopt, {IntentState::kReceived}, IntentIdOf(5)),
       {6}},
      {"w2 limit 2", IntentsWhere("w2", {}, std::nullopt, 2), {2, 4}},
  };
  for (const Case& c : table) {
    util::Result<std::vector<IntentRecord>> got = t.store().ListIntents(c.filter);
    ASSERT_TRUE(got.ok()) << c.name << ": " << got.status();
    std::vector<int> ids;
    for (const IntentRecord& record : *got) ids.push_back(record.id[0]);
    EXPECT_EQ(ids, c.expected) << c.name;
  }
}

inline void ListIntentsRefusesBadLimitAndUnknownAfter(T& t) {
  ASSERT_NO_FATAL_FAILURE(MustInsert(t.store(), Intent(1)));
  ExpectCode(t.store().ListIntents(IntentsWhere(std::nullopt, {}, std::nullopt, 0)).status(),
             StatusCode::kInvalidArgument, "limit 0");
  ExpectCode(t.store().ListIntents(IntentsWhere(std::nullopt, {}, std::nullopt, 1001)).status(),
             StatusCode::kInvalidArgument, "limit 1001");
  util::Result<std::vector<IntentRecord>> most =
      t.store().ListIntents(IntentsWhere(std::nullopt, {}, std::nullopt, 1000));
  ASSERT_TRUE(most.ok()) << most.status();
  EXPECT_EQ(most->size(), 1u);
  // (pinned) An `after` that names no intent.
  ExpectCode(t.store().ListIntents(IntentsWhere(std::nullopt, {}, IntentIdOf(2))).status(),
             StatusCode::kNotFound, "unknown after");
}

inline void UpdateIntentStateMovesAndReplacesDetail(T& t) {
  ASSERT_NO_FATAL_FAILURE(MustInsert(t.store(), Intent(1)));
  IntentRecord expected = MustGetIntent(t.store(), 1);
  const std::string detail = R"({"missing":[{"group":"treasury","needed":2,"have":1}]})";
  util::Status moved = t.store().UpdateIntentState(
      IntentIdOf(1), IntentState::kReceived, IntentState::kAwaitingApprovals, detail, kNow + 77);
  ASSERT_TRUE(moved.ok()) << moved;
  expected.state = IntentState::kAwaitingApprovals;
  expected.detail = detail;
  expected.updated_at = kNow + 77;
  expected.revision = 2;
  EXPECT_EQ(MustGetIntent(t.store(), 1), expected);
  moved = t.store().UpdateIntentState(IntentIdOf(1), IntentState::kAwaitingApprovals,
                                      IntentState::kApproved, "{}", kNow + 78);
  ASSERT_TRUE(moved.ok()) << moved;
  expected.state = IntentState::kApproved;
  expected.detail = "{}";
  expected.updated_at = kNow + 78;
  expected.revision = 3;
  EXPECT_EQ(MustGetIntent(t.store(), 1), expected);
}

inline void UpdateIntentStateFromAnotherStateIsAbortedAndChangesNothing(T& t) {
  ASSERT_NO_FATAL_FAILURE(MustInsert(t.store(), Intent(1)));
  ASSERT_NO_FATAL_FAILURE(MustMove(t.store(), 1, IntentState::kReceived, IntentState::kApproved));
  const Snapshot before = TakeSnapshot(t.store());
  for (IntentState from : data::AllIntentStates()) {
    if (from == IntentState::kApproved) continue;
    ExpectCode(t.store().UpdateIntentState(IntentIdOf(1), from, IntentState::kRefused, "{\"x\":1}",
                                           kNow + 9),
               StatusCode::kAborted, std::string(storage::IntentStateName(from)));
  }
  EXPECT_EQ(TakeSnapshot(t.store()), before);
}

inline void UpdateIntentStateOfUnknownIntentIsNotFound(T& t) {
  ASSERT_NO_FATAL_FAILURE(MustInsert(t.store(), Intent(1)));
  ExpectCode(t.store().UpdateIntentState(IntentIdOf(2), IntentState::kReceived,
                                         IntentState::kApproved, "{}", kNow),
             StatusCode::kNotFound, "unknown intent");
}

inline void CountIntentsCountsEveryState(T& t) {
  auto counts = [&t]() {
    std::map<IntentState, uint64_t> out;
    util::Result<std::vector<std::pair<IntentState, uint64_t>>> got = t.store().CountIntents();
    EXPECT_TRUE(got.ok()) << got.status();
    if (!got.ok()) return out;
    EXPECT_EQ(got->size(), data::AllIntentStates().size());
    for (const auto& [state, count] : *got) {
      EXPECT_TRUE(out.emplace(state, count).second) << "listed twice";
    }
    return out;
  };
  std::map<IntentState, uint64_t> expected;
  for (IntentState state : data::AllIntentStates()) expected[state] = 0;
  EXPECT_EQ(counts(), expected);
  for (int n = 1; n <= 5; ++n) ASSERT_NO_FATAL_FAILURE(MustInsert(t.store(), Intent(n)));
  ASSERT_NO_FATAL_FAILURE(MustInsert(t.store(), Intent(6, "w2")));
  ASSERT_NO_FATAL_FAILURE(MustMove(t.store(), 1, IntentState::kReceived, IntentState::kApproved));
  ASSERT_NO_FATAL_FAILURE(MustMove(t.store(), 2, IntentState::kReceived, IntentState::kApproved));
  ASSERT_NO_FATAL_FAILURE(MustMove(t.store(), 3, IntentState::kReceived, IntentState::kExpired));
  expected[IntentState::kReceived] = 3;
  expected[IntentState::kApproved] = 2;
  expected[IntentState::kExpired] = 1;
  EXPECT_EQ(counts(), expected);
}

// --- Approvals ---

inline ApprovalRecord Approval(int intent, int approver, uint64_t at) {
  return {.intent_id = IntentIdOf(intent),
          .approver = data::KeyIdOf(approver),
          .signed_approval = {0xa9, static_cast<uint8_t>(intent), static_cast<uint8_t>(approver)},
          .received_at = at};
}

inline void InsertApprovalIsIdempotent(T& t) {
  ASSERT_NO_FATAL_FAILURE(MustInsert(t.store(), Intent(1)));
  const IntentRecord intent = MustGetIntent(t.store(), 1);
  const ApprovalRecord approval = Approval(1, 0x21, kNow + 5);
  util::Result<bool> first = t.store().InsertApproval(approval);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE(*first);
  ApprovalRecord again = approval;
  again.received_at = kNow + 50;  // Same bytes: the stored one stays.
  util::Result<bool> second = t.store().InsertApproval(again);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_FALSE(*second);
  util::Result<std::vector<ApprovalRecord>> listed = t.store().ListApprovals(IntentIdOf(1));
  ASSERT_TRUE(listed.ok()) << listed.status();
  EXPECT_EQ(*listed, std::vector<ApprovalRecord>{approval});
  // An approval is not a change of the intent's row.
  EXPECT_EQ(MustGetIntent(t.store(), 1), intent);
}

inline void InsertApprovalWithOtherBytesIsAlreadyExists(T& t) {
  ASSERT_NO_FATAL_FAILURE(MustInsert(t.store(), Intent(1)));
  const ApprovalRecord approval = Approval(1, 0x21, kNow + 5);
  ASSERT_TRUE(t.store().InsertApproval(approval).ok());
  const Snapshot before = TakeSnapshot(t.store());
  ApprovalRecord other = approval;
  other.signed_approval.push_back(0x01);
  ExpectCode(t.store().InsertApproval(other).status(), StatusCode::kAlreadyExists, "other bytes");
  EXPECT_EQ(TakeSnapshot(t.store()), before);
}

inline void InsertApprovalOfUnknownIntentIsNotFound(T& t) {
  ASSERT_NO_FATAL_FAILURE(MustInsert(t.store(), Intent(1)));
  ExpectCode(t.store().InsertApproval(Approval(2, 0x21, kNow)).status(), StatusCode::kNotFound,
             "unknown intent");
  util::Result<std::vector<ApprovalRecord>> listed = t.store().ListApprovals(IntentIdOf(1));
  ASSERT_TRUE(listed.ok()) << listed.status();
  EXPECT_TRUE(listed->empty());
}

inline void ListApprovalsInTheOrderReceived(T& t) {
  ASSERT_NO_FATAL_FAILURE(MustInsert(t.store(), Intent(1)));
  ASSERT_NO_FATAL_FAILURE(MustInsert(t.store(), Intent(2)));
  // Approver ids descending, so that an order by approver would show.
  const std::vector<ApprovalRecord> approvals = {
      Approval(1, 0x30, kNow + 1), Approval(1, 0x20, kNow + 2), Approval(1, 0x10, kNow + 3)};
  for (const ApprovalRecord& approval : approvals) {
    ASSERT_TRUE(t.store().InsertApproval(approval).ok());
    // One approver approving two intents is two approvals.
    ASSERT_TRUE(t.store().InsertApproval(Approval(2, approval.approver[0], kNow + 9)).ok());
  }
  util::Result<std::vector<ApprovalRecord>> listed = t.store().ListApprovals(IntentIdOf(1));
  ASSERT_TRUE(listed.ok()) << listed.status();
  EXPECT_EQ(*listed, approvals);
  listed = t.store().ListApprovals(IntentIdOf(2));
  ASSERT_TRUE(listed.ok()) << listed.status();
  EXPECT_EQ(listed->size(), 3u);
}

// --- Coins and transactions ---

inline void AddUtxosListsThemByOutpoint(T& t) {
  Utxo a = Coin(3);
  Utxo b = Coin(1);
  b.outpoint.index = 2;
  b.change = true;
  b.index = 4;
  b.height = std::nullopt;
  Utxo c = Coin(1);
  c.outpoint.index = 1;
  Utxo other = Coin(2, "w2");
  const std::vector<Utxo> coins = {a, b, other, c};
  ASSERT_TRUE(t.store().AddUtxos(coins).ok());
  util::Result<std::vector<Utxo>> listed = t.store().ListUtxos("w1", std::nullopt);
  ASSERT_TRUE(listed.ok()) << listed.status();
  EXPECT_EQ(*listed, (std::vector<Utxo>{c, b, a}));
  listed = t.store().ListUtxos("w1", UtxoState::kAvailable);
  ASSERT_TRUE(listed.ok()) << listed.status();
  EXPECT_EQ(*listed, (std::vector<Utxo>{c, b, a}));
  listed = t.store().ListUtxos("w1", UtxoState::kReserved);
  ASSERT_TRUE(listed.ok()) << listed.status();
  EXPECT_TRUE(listed->empty());
  listed = t.store().ListUtxos("w2", std::nullopt);
  ASSERT_TRUE(listed.ok()) << listed.status();
  EXPECT_EQ(*listed, std::vector<Utxo>{other});
  listed = t.store().ListUtxos("w3", std::nullopt);
  ASSERT_TRUE(listed.ok()) << listed.status();
  EXPECT_TRUE(listed->empty());
}

inline void AddUtxosAgainKeepsStateAndBatchAndUpdatesHeight(T& t) {
  const BatchRecord batch = MustCreateBatch(t.store(), {1}, {1});
  ASSERT_NO_FATAL_FAILURE(MustAddCoins(t.store(), {2}));
  // Reported again: coin 1 (reserved) now deeper, coin 2 (available) unconfirmed by a reorg.
  Utxo one = Coin(1);
  one.height = 500;
  Utxo two = Coin(2);
  two.height = std::nullopt;
  const std::vector<Utxo> again = {one, two};
  ASSERT_TRUE(t.store().AddUtxos(again).ok());
  std::optional<Utxo> got_one = FindCoin(t.store(), "w1", OutpointOf(1));
  ASSERT_TRUE(got_one.has_value());
  EXPECT_EQ(got_one->state, UtxoState::kReserved);
  EXPECT_EQ(got_one->batch_id, batch.id);
  EXPECT_EQ(got_one->height, 500u);
  std::optional<Utxo> got_two = FindCoin(t.store(), "w1", OutpointOf(2));
  ASSERT_TRUE(got_two.has_value());
  EXPECT_EQ(got_two->state, UtxoState::kAvailable);
  EXPECT_EQ(got_two->height, std::nullopt);
  // A spent coin stays spent when reported again.
  const std::vector<btc::Outpoint> none;
  ASSERT_TRUE(t.store().RetainUtxos("w1", none).ok());
  ASSERT_TRUE(t.store().AddUtxos(again).ok());
  got_two = FindCoin(t.store(), "w1", OutpointOf(2));
  ASSERT_TRUE(got_two.has_value());
  EXPECT_EQ(got_two->state, UtxoState::kSpent);
}

inline void AddUtxosRefusesInvalidCoinsAndStoresNoneOfTheCall(T& t) {
  struct Case {
    std::string name;
    std::function<void(Utxo&)> change;
    StatusCode code;
  };
  ASSERT_NO_FATAL_FAILURE(MustAddCoins(t.store(), {5}));
  const std::vector<Case> table = {
      {"zero amount", [](Utxo& c) { c.sats = 0; }, StatusCode::kInvalidArgument},
      {"negative amount", [](Utxo& c) { c.sats = -5; }, StatusCode::kInvalidArgument},
      {"empty wallet", [](Utxo& c) { c.wallet.clear(); }, StatusCode::kInvalidArgument},
      // (pinned) The outpoint of coin 5 claimed with other content.
      {"stored coin, other wallet", [](Utxo& c) { c = Coin(5, "w2"); }, StatusCode::kAlreadyExists},
      {"stored coin, other amount", [](Utxo& c) { c = Coin(5, "w1", 1); },
       StatusCode::kAlreadyExists},
      {"stored coin, other script",
       [](Utxo& c) {
         c = Coin(5);
         c.script_pubkey.push_back(0x00);
       },
       StatusCode::kAlreadyExists},
  };
  const Snapshot before = TakeSnapshot(t.store());
  for (const Case& c : table) {
    Utxo bad = Coin(2);
    c.change(bad);
    // A valid coin first: the call stores nothing.
    const std::vector<Utxo> coins = {Coin(1), bad};
    ExpectCode(t.store().AddUtxos(coins), c.code, c.name);
    EXPECT_EQ(TakeSnapshot(t.store()), before) << c.name;
  }
}

inline void RetainUtxosSpendsMissingAvailableCoinsOnly(T& t) {
  const BatchRecord batch = MustCreateBatch(t.store(), {1}, {1});
  ASSERT_NO_FATAL_FAILURE(MustAddCoins(t.store(), {2, 3, 4}));
  ASSERT_NO_FATAL_FAILURE(MustAddCoins(t.store(), {9}, "w2"));
  const std::vector<btc::Outpoint> unspent = {OutpointOf(3), OutpointOf(9)};
  ASSERT_TRUE(t.store().RetainUtxos("w1", unspent).ok());
  struct Expected {
    int n;
    std::string wallet;
    UtxoState state;
  };
  for (const Expected& e : std::vector<Expected>{{1, "w1", UtxoState::kReserved},
                                                 {2, "w1", UtxoState::kSpent},
                                                 {3, "w1", UtxoState::kAvailable},
                                                 {4, "w1", UtxoState::kSpent},
                                                 {9, "w2", UtxoState::kAvailable}}) {
    std::optional<Utxo> coin = FindCoin(t.store(), e.wallet, OutpointOf(e.n));
    ASSERT_TRUE(coin.has_value()) << "coin " << e.n;
    EXPECT_EQ(coin->state, e.state) << "coin " << e.n;
  }
  EXPECT_EQ(FindCoin(t.store(), "w1", OutpointOf(1))->batch_id, batch.id);
  util::Result<std::vector<Utxo>> spent = t.store().ListUtxos("w1", UtxoState::kSpent);
  ASSERT_TRUE(spent.ok()) << spent.status();
  ASSERT_EQ(spent->size(), 2u);
  EXPECT_EQ((*spent)[0].outpoint, OutpointOf(2));
  EXPECT_EQ((*spent)[1].outpoint, OutpointOf(4));
  EXPECT_EQ((*spent)[0].batch_id, std::nullopt);
}

inline void TransactionsAreCachedIdempotently(T& t) {
  const std::vector<uint8_t> raw = {0x02, 0x00, 0x00, 0x00, 0x01, 0xab, 0xcd};
  ExpectCode(t.store().GetTransaction(data::TxidOf(1)).status(), StatusCode::kNotFound,
             "before put");
  ASSERT_TRUE(t.store().PutTransaction(data::TxidOf(1), raw).ok());
  ASSERT_TRUE(t.store().PutTransaction(data::TxidOf(1), raw).ok());
  util::Result<std::vector<uint8_t>> got = t.store().GetTransaction(data::TxidOf(1));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, raw);
  ExpectCode(t.store().GetTransaction(data::TxidOf(2)).status(), StatusCode::kNotFound,
             "other txid");
}

// --- Batches ---

inline void CreateBatchReservesCoinsAndMovesIntents(T& t) {
  ASSERT_NO_FATAL_FAILURE(MustInsertApproved(t.store(), {1, 2, 3}));
  ASSERT_NO_FATAL_FAILURE(MustAddCoins(t.store(), {1, 2, 3}));
  const IntentRecord before_two = MustGetIntent(t.store(), 2);
  // Intents and inputs in an order that is not sorted: it is kept.
  const storage::NewBatch request = data::NewBatchOf({2, 1}, {3, 1});
  util::Result<BatchRecord> created = t.store().CreateBatch(request);
  ASSERT_TRUE(created.ok()) << created.status();
  BatchRecord expected;
  expected.id = created->id;
  expected.wallet = "w1";
  expected.state = BatchState::kBuilding;
  expected.intents = request.intents;
  expected.inputs = request.inputs;
  expected.change_index = 0;
  expected.psbt = request.psbt;
  expected.txid = request.txid;
  expected.fee_sats = request.fee_sats;
  expected.fee_rate_sat_per_kvb = request.fee_rate_sat_per_kvb;
  expected.detail = "{}";
  expected.owner = request.owner;
  expected.lease_until = request.now + request.lease_seconds;
  expected.created_at = request.now;
  expected.updated_at = request.now;
  expected.revision = 1;
  EXPECT_EQ(*created, expected);
  EXPECT_EQ(MustGetBatch(t.store(), created->id), expected);

  IntentRecord two = before_two;
  two.state = IntentState::kBuilding;
  two.batch_id = created->id;
  two.updated_at = request.now;
  two.revision = before_two.revision + 1;
  EXPECT_EQ(MustGetIntent(t.store(), 2), two);
  EXPECT_EQ(MustGetIntent(t.store(), 1).state, IntentState::kBuilding);
  EXPECT_EQ(MustGetIntent(t.store(), 3).state, IntentState::kApproved);
  EXPECT_EQ(MustGetIntent(t.store(), 3).batch_id, std::nullopt);
  for (int n : {1, 3}) {
    Utxo coin = Coin(n);
    coin.state = UtxoState::kReserved;
    coin.batch_id = created->id;
    EXPECT_EQ(FindCoin(t.store(), "w1", OutpointOf(n)), coin) << "coin " << n;
  }
  EXPECT_EQ(FindCoin(t.store(), "w1", OutpointOf(2)), Coin(2));
  ExpectCode(t.store().GetBatch(created->id + 1).status(), StatusCode::kNotFound, "other id");
}

inline void CreateBatchWithoutChangeAllocatesNoIndex(T& t) {
  ASSERT_NO_FATAL_FAILURE(MustInsertApproved(t.store(), {1, 2}));
  ASSERT_NO_FATAL_FAILURE(MustAddCoins(t.store(), {1, 2}));
  storage::NewBatch request = data::NewBatchOf({1}, {1});
  request.has_change = false;
  request.psbt.clear();
  request.txid = std::nullopt;
  util::Result<BatchRecord> created = t.store().CreateBatch(request);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->change_index, std::nullopt);
  EXPECT_TRUE(created->psbt.empty());
  EXPECT_EQ(created->txid, std::nullopt);
  EXPECT_EQ(MustGetBatch(t.store(), created->id), *created);
  util::Result<BatchRecord> next = t.store().CreateBatch(data::NewBatchOf({2}, {2}));
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(next->change_index, 0u);
  EXPECT_GT(next->id, created->id);
}

// Each row starts from a valid request in a fresh database and changes one thing; the store must
// answer with `code` and change nothing (every row compared), and the valid request must then
// still succeed with change index 0 (a refused call allocates none).
inline void CreateBatchRefusalsChangeNothing(T& t) {
  struct Case {
    std::string name;
    // Changes the database or the request (intents 1, 2 approved; coins 1, 2 available;
    // intent 3 received, coin 3 available; intent 4 and coin 4 of wallet w2).
    std::function<void(Store&, storage::NewBatch&)> change;
    StatusCode code;
    // Undoes the change so that the valid request succeeds (empty: the request was changed).
    std::function<void(Store&)> undo;
  };
  auto move_intent = [](int n, IntentState from, IntentState to) {
    return [=](Store& store) {
      ASSERT_TRUE(store.UpdateIntentState(IntentIdOf(n), from, to, "{}", kNow + 600).ok());
    };
  };
  const std::vector<Case> table = {
      {"intent not approved (received)",
       [](Store&, storage::NewBatch& b) { b.intents.push_back(IntentIdOf(3)); },
       StatusCode::kAborted,
       {}},
      {"intent awaiting approvals",
       [&](Store& s, storage::NewBatch&) {
         move_intent(2, IntentState::kApproved, IntentState::kAwaitingApprovals)(s);
       },
       StatusCode::kAborted,
       move_intent(2, IntentState::kAwaitingApprovals, IntentState::kApproved)},
      {"intent already building in another batch",
       [](Store& s, storage::NewBatch&) {
         ASSERT_TRUE(s.CreateBatch(data::NewBatchOf({2}, {5})).ok());
       },
       StatusCode::kAborted,
       {}},
      {"coin reserved by another batch",
       [](Store& s, storage::NewBatch&) {
         ASSERT_NO_FATAL_FAILURE(MustInsertApproved(s, {6}));
         ASSERT_TRUE(s.CreateBatch(data::NewBatchOf({6}, {2})).ok());
       },
       StatusCode::kAborted,
       {}},
      {"coin spent",
       [](Store& s, storage::NewBatch&) {
         const std::vector<btc::Outpoint> keep = {OutpointOf(1), OutpointOf(3), OutpointOf(5)};
         ASSERT_TRUE(s.RetainUtxos("w1", keep).ok());
       },
       StatusCode::kAborted,
       {}},
      {"unknown intent",
       [](Store&, storage::NewBatch& b) { b.intents.push_back(IntentIdOf(77)); },
       StatusCode::kNotFound,
       {}},
      {"unknown coin",
       [](Store&, storage::NewBatch& b) { b.inputs.push_back(OutpointOf(77)); },
       StatusCode::kNotFound,
       {}},
      {"unknown output index of a stored transaction",
       [](Store&, storage::NewBatch& b) { b.inputs.push_back(OutpointOf(1, 1)); },
       StatusCode::kNotFound,
       {}},
      // (pinned) Another wallet's intent or coin.
      {"intent of another wallet",
       [](Store&, storage::NewBatch& b) { b.intents.push_back(IntentIdOf(4)); },
       StatusCode::kInvalidArgument,
       {}},
      {"coin of another wallet",
       [](Store&, storage::NewBatch& b) { b.inputs.push_back(OutpointOf(4)); },
       StatusCode::kInvalidArgument,
       {}},
      {"no intents",
       [](Store&, storage::NewBatch& b) { b.intents.clear(); },
       StatusCode::kInvalidArgument,
       {}},
      {"no inputs",
       [](Store&, storage::NewBatch& b) { b.inputs.clear(); },
       StatusCode::kInvalidArgument,
       {}},
      {"duplicate intent",
       [](Store&, storage::NewBatch& b) { b.intents.push_back(b.intents[0]); },
       StatusCode::kInvalidArgument,
       {}},
      {"duplicate input",
       [](Store&, storage::NewBatch& b) { b.inputs.push_back(b.inputs[1]); },
       StatusCode::kInvalidArgument,
       {}},
  };
  for (const Case& c : table) {
    SCOPED_TRACE(c.name);
    ASSERT_NO_FATAL_FAILURE(t.FreshDatabase());
    Store& store = t.store();
    ASSERT_NO_FATAL_FAILURE(MustInsertApproved(store, {1, 2}));
    ASSERT_NO_FATAL_FAILURE(MustInsert(store, Intent(3)));
    ASSERT_NO_FATAL_FAILURE(MustInsertApproved(store, {4}, "w2"));
    ASSERT_NO_FATAL_FAILURE(MustAddCoins(store, {1, 2, 3, 5}));
    ASSERT_NO_FATAL_FAILURE(MustAddCoins(store, {4}, "w2"));
    const storage::NewBatch valid = data::NewBatchOf({1, 2}, {1, 2});
    storage::NewBatch request = valid;
    ASSERT_NO_FATAL_FAILURE(c.change(store, request));
    const Snapshot before = TakeSnapshot(store);
    util::Result<BatchRecord> refused = store.CreateBatch(request);
    ExpectCode(refused.status(), c.code, c.name);
    EXPECT_EQ(TakeSnapshot(store), before);
    if (c.undo) {
      ASSERT_NO_FATAL_FAILURE(c.undo(store));
    }
    if (request.intents == valid.intents && request.inputs == valid.inputs && !c.undo) continue;
    util::Result<BatchRecord> created = store.CreateBatch(valid);
    ASSERT_TRUE(created.ok()) << created.status();
    // The refused call allocated no change index.
    EXPECT_EQ(created->change_index, 0u);
  }
}

inline void ChangeIndexesAreNeverHandedOutTwice(T& t) {
  std::unique_ptr<Store> second = t.Open();
  ASSERT_NE(second, nullptr);
  ASSERT_NO_FATAL_FAILURE(MustInsertApproved(t.store(), {1, 2, 3, 4, 5, 6}));
  ASSERT_NO_FATAL_FAILURE(MustInsertApproved(t.store(), {7}, "w2"));
  ASSERT_NO_FATAL_FAILURE(MustAddCoins(t.store(), {1, 2, 3, 4, 5, 6}));
  ASSERT_NO_FATAL_FAILURE(MustAddCoins(t.store(), {7}, "w2"));
  std::vector<std::optional<uint32_t>> indexes;
  for (int n = 1; n <= 6; ++n) {
    // Alternating stores on one database; batch 3 fails (its index is not reused); batch 4 has
    // no change.
    Store& store = n % 2 == 0 ? *second : t.store();
    storage::NewBatch request = data::NewBatchOf({n}, {n});
    request.has_change = n != 4;
    util::Result<BatchRecord> created = store.CreateBatch(request);
    ASSERT_TRUE(created.ok()) << created.status();
    indexes.push_back(created->change_index);
    if (n == 3) {
      ASSERT_TRUE(
          store.UpdateBatch(helpers::Move(created->id, BatchState::kBuilding, BatchState::kFailed))
              .ok());
    }
  }
  const std::vector<std::optional<uint32_t>> expected = {0, 1, 2, std::nullopt, 3, 4};
  EXPECT_EQ(indexes, expected);
  // Each wallet has its own branch.
  util::Result<BatchRecord> other = t.store().CreateBatch(data::NewBatchOf({7}, {7}, "w2"));
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_EQ(other->change_index, 0u);
}

// (pinned) The next unused change index is past every change coin the store knows.
inline void ChangeIndexSkipsChangeCoinsAlreadyStored(T& t) {
  ASSERT_NO_FATAL_FAILURE(MustInsertApproved(t.store(), {1, 2}));
  Utxo change = Coin(1);
  change.change = true;
  change.index = 7;
  Utxo receive = Coin(2);
  receive.index = 40;  // The receive branch does not count.
  const std::vector<Utxo> coins = {change, receive};
  ASSERT_TRUE(t.store().AddUtxos(coins).ok());
  util::Result<BatchRecord> created = t.store().CreateBatch(data::NewBatchOf({1}, {1}));
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->change_index, 8u);
  util::Result<BatchRecord> next = t.store().CreateBatch(data::NewBatchOf({2}, {2}));
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(next->change_index, 9u);
}

inline void UpdateBatchWalksTheLifecycle(T& t) {
  const BatchRecord created = MustCreateBatch(t.store(), {1, 2}, {1, 2});
  ASSERT_NE(created.id, 0);
  ASSERT_NO_FATAL_FAILURE(MustAddCoins(t.store(), {3}));
  BatchRecord expected = created;
  struct Step {
    BatchState from;
    BatchState to;
    IntentState intents;
  };
  const std::vector<Step> steps = {
      {BatchState::kBuilding, BatchState::kBuilding, IntentState::kBuilding},
      {BatchState::kBuilding, BatchState::kSigning, IntentState::kSigning},
      {BatchState::kSigning, BatchState::kSigning, IntentState::kSigning},
      {BatchState::kSigning, BatchState::kSigned, IntentState::kSigned},
      {BatchState::kSigned, BatchState::kSigned, IntentState::kSigned},
      {BatchState::kSigned, BatchState::kBroadcast, IntentState::kBroadcast},
      {BatchState::kBroadcast, BatchState::kBroadcast, IntentState::kBroadcast},
      {BatchState::kBroadcast, BatchState::kConfirmed, IntentState::kConfirmed},
  };
  uint64_t now = kNow + 2000;
  uint8_t marker = 0;
  for (const Step& step : steps) {
    const std::string name = std::string(storage::BatchStateName(step.from)) + " to " +
                             std::string(storage::BatchStateName(step.to));
    SCOPED_TRACE(name);
    ++marker;
    now += 10;
    BatchUpdate update = helpers::Move(created.id, step.from, step.to);
    update.psbt = std::vector<uint8_t>{0x70, marker};
    update.detail = "{\"step\":" + std::to_string(marker) + "}";
    update.intent_detail = "{\"intent_step\":" + std::to_string(marker) + "}";
    if (step.to == BatchState::kSigned) update.final_tx = std::vector<uint8_t>{0x02, marker};
    if (step.to == BatchState::kBuilding) update.txid = data::TxidOf(0x55);
    if (step.to == BatchState::kConfirmed) update.confirmed_height = 812;
    update.now = now;
    update.lease_seconds = 30;
    util::Result<BatchRecord> updated = t.store().UpdateBatch(update);
    ASSERT_TRUE(updated.ok()) << updated.status();
    expected.state = step.to;
    expected.psbt = *update.psbt;
    expected.detail = *update.detail;
    if (update.final_tx) expected.final_tx = *update.final_tx;
    if (update.txid) expected.txid = *update.txid;
    if (update.confirmed_height) expected.confirmed_height = *update.confirmed_height;
    expected.lease_until = now + 30;
    expected.updated_at = now;
    ++expected.revision;
    EXPECT_EQ(*updated, expected);
    EXPECT_EQ(MustGetBatch(t.store(), created.id), expected);
    for (int n : {1, 2}) {
      const IntentRecord intent = MustGetIntent(t.store(), n);
      EXPECT_EQ(intent.state, step.intents) << "intent " << n;
      EXPECT_EQ(intent.detail, *update.intent_detail) << "intent " << n;
      EXPECT_EQ(intent.batch_id, created.id) << "intent " << n;
      EXPECT_EQ(intent.updated_at, now) << "intent " << n;
    }
    const UtxoState inputs =
        step.to == BatchState::kConfirmed ? UtxoState::kSpent : UtxoState::kReserved;
    for (int n : {1, 2}) {
      std::optional<Utxo> coin = FindCoin(t.store(), "w1", OutpointOf(n));
      ASSERT_TRUE(coin.has_value());
      EXPECT_EQ(coin->state, inputs) << "coin " << n;
      EXPECT_EQ(coin->batch_id, created.id) << "coin " << n;
    }
    EXPECT_EQ(FindCoin(t.store(), "w1", OutpointOf(3)), Coin(3));
  }
  // Revisions: insert 1, approve 2, batch 3, then one per update.
  EXPECT_EQ(MustGetIntent(t.store(), 1).revision, 3 + steps.size());
}

inline void UpdateBatchWithoutOptionalFieldsKeepsThem(T& t) {
  const BatchRecord created = MustCreateBatch(t.store(), {1}, {1});
  BatchUpdate update = helpers::Move(created.id, BatchState::kBuilding, BatchState::kSigning);
  update.owner.clear();  // No owner: any instance may move it.
  util::Result<BatchRecord> updated = t.store().UpdateBatch(update);
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->psbt, created.psbt);
  EXPECT_EQ(updated->txid, created.txid);
  EXPECT_EQ(updated->detail, created.detail);
  EXPECT_EQ(updated->owner, created.owner);
  EXPECT_EQ(MustGetIntent(t.store(), 1).detail, "{}");
}

inline void UpdateBatchToFailedReleasesInputsFromEveryNonFinalState(T& t) {
  for (BatchState from :
       {BatchState::kBuilding, BatchState::kSigning, BatchState::kSigned, BatchState::kBroadcast}) {
    for (IntentState on_failure : {IntentState::kApproved, IntentState::kRefused}) {
      SCOPED_TRACE(std::string(storage::BatchStateName(from)) + " to failed, intents " +
                   std::string(storage::IntentStateName(on_failure)));
      ASSERT_NO_FATAL_FAILURE(t.FreshDatabase());
      const BatchRecord created = MustCreateBatch(t.store(), {1, 2}, {1, 2});
      ASSERT_NO_FATAL_FAILURE(helpers::MustWalkTo(t.store(), created.id, from));
      BatchUpdate update = helpers::Move(created.id, from, BatchState::kFailed);
      update.intents_on_failure = on_failure;
      update.intent_detail = R"({"code":"refused"})";
      util::Result<BatchRecord> failed = t.store().UpdateBatch(update);
      ASSERT_TRUE(failed.ok()) << failed.status();
      EXPECT_EQ(failed->state, BatchState::kFailed);
      for (int n : {1, 2}) {
        const IntentRecord intent = MustGetIntent(t.store(), n);
        EXPECT_EQ(intent.state, on_failure);
        EXPECT_EQ(intent.detail, R"({"code":"refused"})");
        // (pinned) Intents put back to be built again leave the batch; refused ones keep it.
        const std::optional<int64_t> batch_id = on_failure == IntentState::kApproved
                                                    ? std::nullopt
                                                    : std::optional<int64_t>(created.id);
        EXPECT_EQ(intent.batch_id, batch_id);
        EXPECT_EQ(FindCoin(t.store(), "w1", OutpointOf(n)), Coin(n)) << "coin " << n;
      }
      // The inputs and (approved) intents can be built again.
      if (on_failure == IntentState::kApproved) {
        util::Result<BatchRecord> again = t.store().CreateBatch(data::NewBatchOf({1, 2}, {1, 2}));
        ASSERT_TRUE(again.ok()) << again.status();
        EXPECT_NE(again->id, created.id);
        EXPECT_NE(again->change_index, created.change_index);
      }
    }
  }
}

inline void UpdateBatchRefusesMovesTheStateMachineDoesNotHave(T& t) {
  using S = BatchState;
  auto allowed = [](S from, S to) {
    const bool final_from = from == S::kConfirmed || from == S::kFailed;
    if (final_from) return false;
    if (from == to || to == S::kFailed) return true;
    return (from == S::kBuilding && to == S::kSigning) ||
           (from == S::kSigning && to == S::kSigned) ||
           (from == S::kSigned && to == S::kBroadcast) ||
           (from == S::kBroadcast && to == S::kConfirmed);
  };
  for (S from : data::AllBatchStates()) {
    ASSERT_NO_FATAL_FAILURE(t.FreshDatabase());
    const BatchRecord created = MustCreateBatch(t.store(), {1}, {1});
    ASSERT_NO_FATAL_FAILURE(helpers::MustWalkTo(t.store(), created.id, from));
    const Snapshot before = TakeSnapshot(t.store());
    for (S to : data::AllBatchStates()) {
      if (allowed(from, to)) continue;
      ExpectCode(t.store().UpdateBatch(helpers::Move(created.id, from, to)).status(),
                 StatusCode::kInvalidArgument,
                 std::string(storage::BatchStateName(from)) + " to " +
                     std::string(storage::BatchStateName(to)));
    }
    EXPECT_EQ(TakeSnapshot(t.store()), before);
  }
  // Intents may only go back to approved or to refused when a batch fails.
  ASSERT_NO_FATAL_FAILURE(t.FreshDatabase());
  const BatchRecord created = MustCreateBatch(t.store(), {1}, {1});
  const Snapshot before = TakeSnapshot(t.store());
  for (IntentState state : data::AllIntentStates()) {
    if (state == IntentState::kApproved || state == IntentState::kRefused) continue;
    BatchUpdate update = helpers::Move(created.id, S::kBuilding, S::kFailed);
    update.intents_on_failure = state;
    ExpectCode(t.store().UpdateBatch(update).status(), StatusCode::kInvalidArgument,
               "intents on failure " + std::string(storage::IntentStateName(state)));
  }
  EXPECT_EQ(TakeSnapshot(t.store()), before);
}

inline void UpdateBatchFromAnotherStateOrOwnerIsAborted(T& t) {
  const BatchRecord created = MustCreateBatch(t.store(), {1}, {1});
  ASSERT_NO_FATAL_FAILURE(helpers::MustWalkTo(t.store(), created.id, BatchState::kSigning));
  const Snapshot before = TakeSnapshot(t.store());
  ExpectCode(
      t.store()
          .UpdateBatch(helpers::Move(created.id, BatchState::kBuilding, BatchState::kSigning))
          .status(),
      StatusCode::kAborted, "from building");
  ExpectCode(t.store()
                 .UpdateBatch(helpers::Move(created.id, BatchState::kBuilding, BatchState::kFailed))
                 .status(),
             StatusCode::kAborted, "from building to failed");
  BatchUpdate other_owner = helpers::Move(created.id, BatchState::kSigning, BatchState::kSigned);
  other_owner.owner = "instance-b";
  ExpectCode(t.store().UpdateBatch(other_owner).status(), StatusCode::kAborted, "other owner");
  EXPECT_EQ(TakeSnapshot(t.store()), before);
  ExpectCode(
      t.store()
          .UpdateBatch(helpers::Move(created.id + 1, BatchState::kSigning, BatchState::kSigned))
          .status(),
      StatusCode::kNotFound, "unknown batch");
  // The owner itself, from the right state.
  EXPECT_TRUE(t.store()
                  .UpdateBatch(helpers::Move(created.id, BatchState::kSigning, BatchState::kSigned))
                  .ok());
}

inline void ClaimBatchFollowsTheLease(T& t) {
  const BatchRecord created = MustCreateBatch(t.store(), {1}, {1});
  const uint64_t until = created.lease_until;
  const Snapshot before = TakeSnapshot(t.store());
  ExpectCode(t.store().ClaimBatch(created.id, "instance-b", until - 1, 60).status(),
             StatusCode::kAborted, "lease running");
  EXPECT_EQ(TakeSnapshot(t.store()), before);
  ExpectCode(t.store().ClaimBatch(created.id + 1, "instance-b", until, 60).status(),
             StatusCode::kNotFound, "unknown batch");

  // The owner renews its own lease at any time.
  util::Result<BatchRecord> renewed = t.store().ClaimBatch(created.id, "instance-a", until - 1, 60);
  ASSERT_TRUE(renewed.ok()) << renewed.status();
  EXPECT_EQ(renewed->owner, "instance-a");
  EXPECT_EQ(renewed->lease_until, until - 1 + 60);
  EXPECT_EQ(renewed->revision, created.revision + 1);

  // Expired at `now` == lease_until: another instance takes it over.
  const uint64_t expiry = renewed->lease_until;
  util::Result<BatchRecord> taken = t.store().ClaimBatch(created.id, "instance-b", expiry, 90);
  ASSERT_TRUE(taken.ok()) << taken.status();
  BatchRecord expected = *renewed;
  expected.owner = "instance-b";
  expected.lease_until = expiry + 90;
  expected.updated_at = expiry;
  expected.revision = renewed->revision + 1;
  EXPECT_EQ(*taken, expected);
  EXPECT_EQ(MustGetBatch(t.store(), created.id), expected);

  // The former owner can no longer move it; the new one can.
  BatchUpdate old_owner = helpers::Move(created.id, BatchState::kBuilding, BatchState::kSigning);
  ExpectCode(t.store().UpdateBatch(old_owner).status(), StatusCode::kAborted, "former owner");
  BatchUpdate new_owner = old_owner;
  new_owner.owner = "instance-b";
  EXPECT_TRUE(t.store().UpdateBatch(new_owner).ok());
}

inline void ClaimBatchRefusesFinishedBatches(T& t) {
  for (BatchState final_state : {BatchState::kConfirmed, BatchState::kFailed}) {
    SCOPED_TRACE(std::string(storage::BatchStateName(final_state)));
    ASSERT_NO_FATAL_FAILURE(t.FreshDatabase());
    const BatchRecord created = MustCreateBatch(t.store(), {1}, {1});
    ASSERT_NO_FATAL_FAILURE(helpers::MustWalkTo(t.store(), created.id, final_state));
    const Snapshot before = TakeSnapshot(t.store());
    const uint64_t later = kNow + 1'000'000;
    ExpectCode(t.store().ClaimBatch(created.id, "instance-a", later, 60).status(),
               StatusCode::kAborted, "same owner");
    ExpectCode(t.store().ClaimBatch(created.id, "instance-b", later, 60).status(),
               StatusCode::kAborted, "other owner");
    EXPECT_EQ(TakeSnapshot(t.store()), before);
  }
}

inline void ListBatchesNewestFirstWithFilters(T& t) {
  ASSERT_NO_FATAL_FAILURE(MustInsertApproved(t.store(), {1, 2, 3}));
  ASSERT_NO_FATAL_FAILURE(MustInsertApproved(t.store(), {4}, "w2"));
  ASSERT_NO_FATAL_FAILURE(MustAddCoins(t.store(), {1, 2, 3}));
  ASSERT_NO_FATAL_FAILURE(MustAddCoins(t.store(), {4}, "w2"));
  std::vector<int64_t> ids;
  for (int n = 1; n <= 4; ++n) {
    util::Result<BatchRecord> created =
        t.store().CreateBatch(data::NewBatchOf({n}, {n}, n == 4 ? "w2" : "w1"));
    ASSERT_TRUE(created.ok()) << created.status();
    ids.push_back(created->id);
  }
  ASSERT_TRUE(t.store()
                  .UpdateBatch(helpers::Move(ids[1], BatchState::kBuilding, BatchState::kSigning))
                  .ok());
  auto list = [&t](const storage::BatchFilter& filter) {
    std::vector<int64_t> out;
    util::Result<std::vector<BatchRecord>> got = t.store().ListBatches(filter);
    EXPECT_TRUE(got.ok()) << got.status();
    if (got.ok()) {
      for (const BatchRecord& batch : *got) out.push_back(batch.id);
    }
    return out;
  };
  EXPECT_EQ(list(BatchesWhere(std::nullopt)),
            (std::vector<int64_t>{ids[3], ids[2], ids[1], ids[0]}));
  EXPECT_EQ(list(BatchesWhere("w1")), (std::vector<int64_t>{ids[2], ids[1], ids[0]}));
  EXPECT_EQ(list(BatchesWhere("w2")), (std::vector<int64_t>{ids[3]}));
  EXPECT_EQ(list(BatchesWhere(std::nullopt, {BatchState::kBuilding})),
            (std::vector<int64_t>{ids[3], ids[2], ids[0]}));
  EXPECT_EQ(list(BatchesWhere("w1", {BatchState::kSigning, BatchState::kConfirmed})),
            (std::vector<int64_t>{ids[1]}));
  EXPECT_EQ(list(BatchesWhere(std::nullopt, {}, 2)), (std::vector<int64_t>{ids[3], ids[2]}));
  util::Result<std::vector<BatchRecord>> full =
      t.store().ListBatches(BatchesWhere(std::nullopt, {}, 1));
  ASSERT_TRUE(full.ok()) << full.status();
  ASSERT_EQ(full->size(), 1u);
  EXPECT_EQ((*full)[0], MustGetBatch(t.store(), ids[3]));
  ExpectCode(t.store().ListBatches(BatchesWhere(std::nullopt, {}, 0)).status(),
             StatusCode::kInvalidArgument, "limit 0");
  ExpectCode(t.store().ListBatches(BatchesWhere(std::nullopt, {}, 1001)).status(),
             StatusCode::kInvalidArgument, "limit 1001");
}

// --- Signer heads ---

inline void SignerHeadsAreReplacedPerSigner(T& t) {
  util::Result<std::optional<storage::SignerHead>> none =
      t.store().GetSignerHead(data::Head(1, 0).signer);
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_EQ(*none, std::nullopt);
  ASSERT_TRUE(t.store().PutSignerHead(data::Head(1, 5)).ok());
  ASSERT_TRUE(t.store().PutSignerHead(data::Head(2, 9)).ok());
  ASSERT_TRUE(t.store().PutSignerHead(data::Head(1, 7)).ok());
  for (const storage::SignerHead& expected : {data::Head(1, 7), data::Head(2, 9)}) {
    util::Result<std::optional<storage::SignerHead>> got = t.store().GetSignerHead(expected.signer);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(*got, expected);
  }
}

// --- Persistence ---

inline void EverythingSurvivesReopening(T& t) {
  const BatchRecord batch = MustCreateBatch(t.store(), {1, 2}, {1, 2});
  ASSERT_NO_FATAL_FAILURE(MustInsert(t.store(), Intent(3, "w2")));
  ASSERT_TRUE(t.store().InsertApproval(Approval(1, 0x21, kNow)).ok());
  ASSERT_TRUE(t.store().PutTransaction(data::TxidOf(1), std::vector<uint8_t>{1, 2, 3}).ok());
  ASSERT_TRUE(t.store().PutSignerHead(data::Head(1, 5)).ok());
  const Snapshot before = TakeSnapshot(t.store());
  ASSERT_NO_FATAL_FAILURE(t.Reopen());
  EXPECT_EQ(TakeSnapshot(t.store()), before);
  util::Result<std::vector<uint8_t>> raw = t.store().GetTransaction(data::TxidOf(1));
  ASSERT_TRUE(raw.ok()) << raw.status();
  EXPECT_EQ(*raw, (std::vector<uint8_t>{1, 2, 3}));
  util::Result<std::optional<storage::SignerHead>> head =
      t.store().GetSignerHead(data::Head(1, 5).signer);
  ASSERT_TRUE(head.ok()) << head.status();
  EXPECT_EQ(*head, data::Head(1, 5));
  // The counters continue: ids and change indexes are not handed out again.
  ASSERT_NO_FATAL_FAILURE(MustInsertApproved(t.store(), {4}));
  ASSERT_NO_FATAL_FAILURE(MustAddCoins(t.store(), {4}));
  util::Result<BatchRecord> next = t.store().CreateBatch(data::NewBatchOf({4}, {4}));
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_GT(next->id, batch.id);
  EXPECT_EQ(next->change_index, 1u);
}

// --- Races between two stores on one database ---

inline constexpr int kRaceThreads = 8;

// Runs `attempt(store, thread)` on kRaceThreads threads, half on each store, started together.
inline void RunRace(Store& first, Store& second, const std::function<void(Store&, int)>& attempt) {
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kRaceThreads; ++i) {
    threads.emplace_back([&, i] {
      ready.fetch_add(1);
      while (ready.load() < kRaceThreads) std::this_thread::yield();
      attempt(i % 2 == 0 ? first : second, i);
    });
  }
  for (std::thread& thread : threads) thread.join();
}

inline void RaceForTheSameIntentsMakesOneBatch(T& t) {
  std::unique_ptr<Store> second = t.Open();
  ASSERT_NE(second, nullptr);
  ASSERT_NO_FATAL_FAILURE(MustInsertApproved(t.store(), {1, 2, 3}));
  std::vector<int> coins;
  for (int i = 0; i < kRaceThreads; ++i) coins.push_back(10 + i);
  ASSERT_NO_FATAL_FAILURE(MustAddCoins(t.store(), coins));
  std::atomic<int> won{0};
  std::atomic<int> other_errors{0};
  // Every thread wants intents 1..3 with its own coin.
  RunRace(t.store(), *second, [&](Store& store, int i) {
    storage::NewBatch request = data::NewBatchOf({1, 2, 3}, {10 + i});
    request.owner = "instance-" + std::to_string(i);
    util::Result<BatchRecord> created = store.CreateBatch(request);
    if (created.ok()) {
      won.fetch_add(1);
    } else if (created.status().code() != StatusCode::kAborted) {
      ADD_FAILURE() << "thread " << i << ": " << created.status();
      other_errors.fetch_add(1);
    }
  });
  EXPECT_EQ(won.load(), 1);
  util::Result<std::vector<BatchRecord>> batches =
      t.store().ListBatches(BatchesWhere(std::nullopt));
  ASSERT_TRUE(batches.ok()) << batches.status();
  ASSERT_EQ(batches->size(), 1u);
  const BatchRecord& batch = (*batches)[0];
  for (int n : {1, 2, 3}) EXPECT_EQ(MustGetIntent(t.store(), n).batch_id, batch.id);
  util::Result<std::vector<Utxo>> reserved = t.store().ListUtxos("w1", UtxoState::kReserved);
  ASSERT_TRUE(reserved.ok()) << reserved.status();
  ASSERT_EQ(reserved->size(), 1u);
  EXPECT_EQ((*reserved)[0].outpoint, batch.inputs[0]);
}

inline void RaceForTheSameCoinsMakesOneBatch(T& t) {
  std::unique_ptr<Store> second = t.Open();
  ASSERT_NE(second, nullptr);
  std::vector<int> intents;
  for (int i = 0; i < kRaceThreads; ++i) intents.push_back(10 + i);
  ASSERT_NO_FATAL_FAILURE(MustInsertApproved(t.store(), intents));
  ASSERT_NO_FATAL_FAILURE(MustAddCoins(t.store(), {1, 2}));
  std::atomic<int> won{0};
  // Every thread wants coins 1 and 2 for its own intent.
  RunRace(t.store(), *second, [&](Store& store, int i) {
    util::Result<BatchRecord> created = store.CreateBatch(data::NewBatchOf({10 + i}, {2, 1}));
    if (created.ok()) {
      won.fetch_add(1);
    } else if (created.status().code() != StatusCode::kAborted) {
      ADD_FAILURE() << "thread " << i << ": " << created.status();
    }
  });
  EXPECT_EQ(won.load(), 1);
  util::Result<std::vector<IntentRecord>> building =
      t.store().ListIntents(IntentsWhere(std::nullopt, {IntentState::kBuilding}));
  ASSERT_TRUE(building.ok()) << building.status();
  EXPECT_EQ(building->size(), 1u);
}

// Many rounds of overlapping requests from both stores: every intent and coin ends in at most one
// batch, each batch's rows point at it, and no change index repeats.
inline void RaceOfOverlappingBatchesKeepsEveryInvariant(T& t) {
  std::unique_ptr<Store> second = t.Open();
  ASSERT_NE(second, nullptr);
  constexpr int kIntents = 24;
  constexpr int kCoins = 24;
  std::vector<int> intents;
  std::vector<int> coins;
  for (int n = 1; n <= kIntents; ++n) intents.push_back(n);
  for (int n = 1; n <= kCoins; ++n) coins.push_back(n);
  ASSERT_NO_FATAL_FAILURE(MustInsertApproved(t.store(), intents));
  ASSERT_NO_FATAL_FAILURE(MustAddCoins(t.store(), coins));
  RunRace(t.store(), *second, [&](Store& store, int thread) {
    for (int round = 0; round < 12; ++round) {
      // Deterministic, overlapping choices: two intents and two coins per request.
      const int a = 1 + (thread * 5 + round * 7) % kIntents;
      const int b = 1 + (thread * 3 + round * 11 + 1) % kIntents;
      const int c = 1 + (thread * 7 + round * 5) % kCoins;
      const int d = 1 + (thread * 11 + round * 3 + 2) % kCoins;
      if (a == b || c == d) continue;
      util::Result<BatchRecord> created = store.CreateBatch(data::NewBatchOf({a, b}, {c, d}));
      if (!created.ok() && created.status().code() != StatusCode::kAborted) {
        ADD_FAILURE() << "thread " << thread << ": " << created.status();
      }
    }
  });
  util::Result<std::vector<BatchRecord>> batches =
      t.store().ListBatches(BatchesWhere(std::nullopt, {}, 1000));
  ASSERT_TRUE(batches.ok()) << batches.status();
  EXPECT_FALSE(batches->empty());
  std::set<storage::IntentId> seen_intents;
  std::set<btc::Outpoint> seen_coins;
  std::set<uint32_t> seen_change;
  for (const BatchRecord& batch : *batches) {
    for (const storage::IntentId& id : batch.intents) {
      EXPECT_TRUE(seen_intents.insert(id).second) << "intent " << int{id[0]} << " twice";
      util::Result<IntentRecord> intent = t.store().GetIntent(id);
      ASSERT_TRUE(intent.ok()) << intent.status();
      EXPECT_EQ(intent->batch_id, batch.id);
      EXPECT_EQ(intent->state, IntentState::kBuilding);
    }
    for (const btc::Outpoint& input : batch.inputs) {
      EXPECT_TRUE(seen_coins.insert(input).second) << "coin in two batches";
      std::optional<Utxo> coin = FindCoin(t.store(), "w1", input);
      ASSERT_TRUE(coin.has_value());
      EXPECT_EQ(coin->batch_id, batch.id);
      EXPECT_EQ(coin->state, UtxoState::kReserved);
    }
    ASSERT_TRUE(batch.change_index.has_value());
    EXPECT_TRUE(seen_change.insert(*batch.change_index).second) << "change index twice";
  }
  // Rows outside every batch are untouched.
  util::Result<std::vector<IntentRecord>> approved = t.store().ListIntents(
      IntentsWhere(std::nullopt, {IntentState::kApproved}, std::nullopt, 1000));
  ASSERT_TRUE(approved.ok()) << approved.status();
  EXPECT_EQ(approved->size() + seen_intents.size(), static_cast<size_t>(kIntents));
  for (const IntentRecord& intent : *approved) EXPECT_EQ(intent.batch_id, std::nullopt);
  util::Result<std::vector<Utxo>> available = t.store().ListUtxos("w1", UtxoState::kAvailable);
  ASSERT_TRUE(available.ok()) << available.status();
  EXPECT_EQ(available->size() + seen_coins.size(), static_cast<size_t>(kCoins));
}

inline void RaceToMoveOrClaimABatchHasOneWinner(T& t) {
  std::unique_ptr<Store> second = t.Open();
  ASSERT_NE(second, nullptr);
  const BatchRecord created = MustCreateBatch(t.store(), {1}, {1});
  std::atomic<int> moved{0};
  RunRace(t.store(), *second, [&](Store& store, int i) {
    BatchUpdate update = helpers::Move(created.id, BatchState::kBuilding, BatchState::kSigning);
    update.owner.clear();
    update.detail = "{\"thread\":" + std::to_string(i) + "}";
    util::Result<BatchRecord> result = store.UpdateBatch(update);
    if (result.ok()) {
      moved.fetch_add(1);
    } else if (result.status().code() != StatusCode::kAborted) {
      ADD_FAILURE() << "thread " << i << ": " << result.status();
    }
  });
  EXPECT_EQ(moved.load(), 1);
  const BatchRecord signing = MustGetBatch(t.store(), created.id);
  EXPECT_EQ(signing.state, BatchState::kSigning);
  EXPECT_EQ(signing.revision, created.revision + 1);

  // The lease has expired: every thread claims it for itself at the same time.
  const uint64_t later = signing.lease_until + 100;
  std::atomic<int> claimed{0};
  RunRace(t.store(), *second, [&](Store& store, int i) {
    util::Result<BatchRecord> result =
        store.ClaimBatch(created.id, "instance-" + std::to_string(100 + i), later, 60);
    if (result.ok()) {
      claimed.fetch_add(1);
    } else if (result.status().code() != StatusCode::kAborted) {
      ADD_FAILURE() << "thread " << i << ": " << result.status();
    }
  });
  EXPECT_EQ(claimed.load(), 1);
}

}  // namespace cases

// --- Registration -------------------------------------------------------------------------------

struct ConformanceCase {
  const char* name;
  StoreConformanceTest::Body body;
};

inline const std::vector<ConformanceCase>& AllConformanceCases() {
#define KINKO_STORAGETEST_CASE(name) \
  { #name, &cases::name }
  static const std::vector<ConformanceCase> all = {
      KINKO_STORAGETEST_CASE(InsertIntentStoresItWithRevisionOne),
      KINKO_STORAGETEST_CASE(InsertIntentAgainWithSameBytesIsIdempotent),
      KINKO_STORAGETEST_CASE(InsertIntentWithTakenIdAndOtherBytesIsAlreadyExists),
      KINKO_STORAGETEST_CASE(InsertIntentRefusesInvalidRecords),
      KINKO_STORAGETEST_CASE(GetIntentOfUnknownIdIsNotFound),
      KINKO_STORAGETEST_CASE(ListIntentsPagesInReceivedOrderThenId),
      KINKO_STORAGETEST_CASE(ListIntentsFiltersByWalletAndStates),
      KINKO_STORAGETEST_CASE(ListIntentsRefusesBadLimitAndUnknownAfter),
      KINKO_STORAGETEST_CASE(UpdateIntentStateMovesAndReplacesDetail),
      KINKO_STORAGETEST_CASE(UpdateIntentStateFromAnotherStateIsAbortedAndChangesNothing),
      KINKO_STORAGETEST_CASE(UpdateIntentStateOfUnknownIntentIsNotFound),
      KINKO_STORAGETEST_CASE(CountIntentsCountsEveryState),
      KINKO_STORAGETEST_CASE(InsertApprovalIsIdempotent),
      KINKO_STORAGETEST_CASE(InsertApprovalWithOtherBytesIsAlreadyExists),
      KINKO_STORAGETEST_CASE(InsertApprovalOfUnknownIntentIsNotFound),
      KINKO_STORAGETEST_CASE(ListApprovalsInTheOrderReceived),
      KINKO_STORAGETEST_CASE(AddUtxosListsThemByOutpoint),
      KINKO_STORAGETEST_CASE(AddUtxosAgainKeepsStateAndBatchAndUpdatesHeight),
      KINKO_STORAGETEST_CASE(AddUtxosRefusesInvalidCoinsAndStoresNoneOfTheCall),
      KINKO_STORAGETEST_CASE(RetainUtxosSpendsMissingAvailableCoinsOnly),
      KINKO_STORAGETEST_CASE(TransactionsAreCachedIdempotently),
      KINKO_STORAGETEST_CASE(CreateBatchReservesCoinsAndMovesIntents),
      KINKO_STORAGETEST_CASE(CreateBatchWithoutChangeAllocatesNoIndex),
      KINKO_STORAGETEST_CASE(CreateBatchRefusalsChangeNothing),
      KINKO_STORAGETEST_CASE(ChangeIndexesAreNeverHandedOutTwice),
      KINKO_STORAGETEST_CASE(ChangeIndexSkipsChangeCoinsAlreadyStored),
      KINKO_STORAGETEST_CASE(UpdateBatchWalksTheLifecycle),
      KINKO_STORAGETEST_CASE(UpdateBatchWithoutOptionalFieldsKeepsThem),
      KINKO_STORAGETEST_CASE(UpdateBatchToFailedReleasesInputsFromEveryNonFinalState),
      KINKO_STORAGETEST_CASE(UpdateBatchRefusesMovesTheStateMachineDoesNotHave),
      KINKO_STORAGETEST_CASE(UpdateBatchFromAnotherStateOrOwnerIsAborted),
      KINKO_STORAGETEST_CASE(ClaimBatchFollowsTheLease),
      KINKO_STORAGETEST_CASE(ClaimBatchRefusesFinishedBatches),
      KINKO_STORAGETEST_CASE(ListBatchesNewestFirstWithFilters),
      KINKO_STORAGETEST_CASE(SignerHeadsAreReplacedPerSigner),
      KINKO_STORAGETEST_CASE(EverythingSurvivesReopening),
      KINKO_STORAGETEST_CASE(RaceForTheSameIntentsMakesOneBatch),
      KINKO_STORAGETEST_CASE(RaceForTheSameCoinsMakesOneBatch),
      KINKO_STORAGETEST_CASE(RaceOfOverlappingBatchesKeepsEveryInvariant),
      KINKO_STORAGETEST_CASE(RaceToMoveOrClaimABatchHasOneWinner),
  };
#undef KINKO_STORAGETEST_CASE
  return all;
}

// Registers every case as `<prefix>/StoreConformance.<Case>` for `backend`. Call before
// RUN_ALL_TESTS (the macro below does it at static initialization).
inline bool RegisterConformanceTests(const std::string& prefix, const StoreBackend& backend) {
  const std::string suite = prefix + "/StoreConformance";
  for (const ConformanceCase& c : AllConformanceCases()) {
    ::testing::RegisterTest(suite.c_str(), c.name, nullptr, nullptr, __FILE__, __LINE__,
                            [backend, body = c.body]() -> StoreConformanceTest* {
                              return new StoreConformanceTest(backend, body);
                            });
  }
  return true;
}

}  // namespace kinko::storagetest

// Registers the conformance suite for a backend: `prefix` an identifier (Sqlite, Postgres),
// `backend` an expression giving a StoreBackend. Use at namespace scope, once per backend.
#define INSTANTIATE_STORE_CONFORMANCE(prefix, backend)                       \
  [[maybe_unused]] static const bool kinko_storagetest_registered_##prefix = \
      ::kinko::storagetest::RegisterConformanceTests(#prefix, (backend))

#endif  // KINKO_STORAGE_STORAGETEST_CONFORMANCE_H_
