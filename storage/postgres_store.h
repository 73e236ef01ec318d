// The coordinator's store on PostgreSQL (libpq), for several kinkod instances sharing one
// database (doc/postgresql.md). Implements storage/store.h; the contract is there.
//
// Schema: the tables of schema version kSchemaVersion in the connection's default schema
// (search_path), with the version in the one-row table `schema_version`. Open migrates an older
// schema step by step, each step in one transaction that first takes the transaction-level
// advisory lock kPostgresMigrationLockKey (pg_advisory_xact_lock), so instances starting
// together migrate once, one after the other; it refuses a newer schema (kFailedPrecondition).
//
// Concurrency: every method is one transaction at READ COMMITTED. The compare-and-set
// transitions read the rows they move with SELECT ... FOR UPDATE (or move them with a
// conditional UPDATE ... WHERE state = ...), so the check and the write see the same committed
// row, and a second instance waiting on the lock sees the first one's result and gets kAborted.
// READ COMMITTED with row locks is chosen over SERIALIZABLE because the conflicts are exactly
// the rows moved: they are locked, so no transaction has to be retried for reading rows others
// wrote. Locks are taken in one order (batch row, then intents by id, then coins by outpoint,
// then the wallet's counter row), so deadlocks should not occur; a deadlock (40P01) or
// serialization failure (40001) the server still reports is retried up to
// PostgresStoreOptions::attempts times, then kAborted. Reads that take more than one statement
// run in a READ ONLY REPEATABLE READ transaction (one snapshot, never a serialization failure).
// Change indexes come from an upsert ... RETURNING on the wallet's counter row, which the
// upsert locks, so one index is never handed out twice.
//
// Connections: a small pool (a mutex, a condition variable and at most
// PostgresStoreOptions::connections connections, opened on demand). A call waits for a free
// connection. A connection that breaks is dropped and the call fails with kUnavailable; the
// next call opens a new one, so the store recovers by itself when the server returns. When the
// connection breaks during COMMIT the outcome is unknown: the call returns kUnavailable and the
// caller re-reads.
//
// Errors, besides those of store.h: kUnavailable when the server cannot be reached or shuts
// down; kAborted after `attempts` deadlocks or serialization failures; kDataLoss for a row that
// does not decode (a wrong type, length, state name or range: a damaged or rewritten database);
// kInvalidArgument for a time or counter above 2^63-1 (PostgreSQL's BIGINT) or text that is not
// UTF-8 or holds a NUL byte; kInternal for any other server error. Every value is sent as a
// bound parameter (binary format); no SQL is built from data.
//
// Thread-safe.
#ifndef KINKO_STORAGE_POSTGRES_STORE_H_
#define KINKO_STORAGE_POSTGRES_STORE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "storage/store.h"
#include "util/result.h"
#include "util/status.h"

namespace kinko::storage {

// DO NOT CHANGE: the key of the advisory lock that serialises schema migrations between
// instances (pg_advisory_xact_lock(bigint)). Other applications sharing the database must not
// use it. It is the ASCII of "kinkomig".
inline constexpr int64_t kPostgresMigrationLockKey = 0x6b696e6b6f6d6967;

struct PostgresStoreOptions {
  // The most connections the store opens at once (>= 1). Calls beyond it wait.
  size_t connections = 4;
  // How many times a transaction is run when the server reports a deadlock or a serialization
  // failure (>= 1). After the last, the call fails with kAborted.
  int attempts = 5;
};

namespace internal {
class PostgresPool;
}

class PostgresStore final : public Store {
 public:
  // Connects with `conninfo` (a libpq connection string: "host=... dbname=..." or a
  // "postgresql://" URL), runs the schema migrations, and returns the store. Fails with
  // kInvalidArgument for bad options, kUnavailable when the server cannot be reached,
  // kFailedPrecondition when the database's schema is newer than this code's, kDataLoss when
  // the schema_version table is damaged, kInternal when a migration fails.
  static util::Result<std::unique_ptr<PostgresStore>> Open(const std::string& conninfo,
                                                           PostgresStoreOptions options = {});

  // Closes every connection. Requires that no call is in progress.
  ~PostgresStore() override;
  // Neither copyable nor movable (owns the pool that calls in progress use).
  PostgresStore(const PostgresStore&) = delete;
  PostgresStore& operator=(const PostgresStore&) = delete;

  util::Result<bool> InsertIntent(const IntentRecord& record) override;
  util::Result<IntentRecord> GetIntent(const IntentId& id) override;
  util::Result<std::vector<IntentRecord>> ListIntents(const IntentFilter& filter) override;
  util::Status UpdateIntentState(const IntentId& id, IntentState from, IntentState to,
                                 std::string_view detail, uint64_t now) override;
  util::Result<std::vector<std::pair<IntentState, uint64_t>>> CountIntents() override;

  util::Result<bool> InsertApproval(const ApprovalRecord& record) override;
  util::Result<std::vector<ApprovalRecord>> ListApprovals(const IntentId& intent) override;

  util::Status AddUtxos(std::span<const Utxo> utxos) override;
  util::Status RetainUtxos(std::string_view wallet,
                           std::span<const btc::Outpoint> unspent) override;
  util::Result<std::vector<Utxo>> ListUtxos(std::string_view wallet,
                                            std::optional<UtxoState> state) override;
  util::Status PutTransaction(const btc::Txid& txid, std::span<const uint8_t> raw) override;
  util::Result<std::vector<uint8_t>> GetTransaction(const btc::Txid& txid) override;

  util::Result<BatchRecord> CreateBatch(const NewBatch& batch) override;
  util::Result<BatchRecord> GetBatch(int64_t id) override;
  util::Result<std::vector<BatchRecord>> ListBatches(const BatchFilter& filter) override;
  util::Result<BatchRecord> UpdateBatch(const BatchUpdate& update) override;
  util::Result<BatchRecord> ClaimBatch(int64_t id, std::string_view owner, uint64_t now,
                                       uint64_t lease_seconds) override;

  util::Status PutSignerHead(const SignerHead& head) override;
  util::Result<std::optional<SignerHead>> GetSignerHead(const KeyId& signer) override;

 private:
  PostgresStore(std::unique_ptr<internal::PostgresPool> pool, PostgresStoreOptions options);

  std::unique_ptr<internal::PostgresPool> pool_;
  const PostgresStoreOptions options_;
};

}  // namespace kinko::storage

#endif  // KINKO_STORAGE_POSTGRES_STORE_H_
