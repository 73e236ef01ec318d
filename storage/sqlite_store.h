// The coordinator's store in one SQLite file (storage/store.h): the embedded default of kinkod,
// for one instance. doc/coordinator-storage.md describes the tables, the state machines and how
// to back the file up while kinkod runs.
//
// The file is opened in WAL mode with synchronous=FULL (a committed call survives a power loss),
// foreign keys on and STRICT tables. Every Store method is one transaction; the methods that
// write take the database's write lock at their start (BEGIN IMMEDIATE), so the compare-and-set
// transitions are right even when several processes open the same file: their writers take
// turns, waiting up to `busy_timeout_ms` for each other (then kUnavailable).
//
// Thread-safe: one connection, used by one call at a time (a mutex serialises the calls of one
// SqliteStore). Calls from several threads wait for each other; for concurrent instances use
// PostgreSQL (storage/postgres_store.h).
#ifndef KINKO_STORAGE_SQLITE_STORE_H_
#define KINKO_STORAGE_SQLITE_STORE_H_

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "storage/store.h"
#include "util/result.h"
#include "util/status.h"

namespace kinko::storage {

struct SqliteStoreOptions {
  // How long a call waits for the write lock another connection holds before kUnavailable.
  int busy_timeout_ms = 5000;
};

// DO NOT CHANGE: stored in every coordinator database file (PRAGMA application_id, "knkc"), so
// that Open refuses another application's SQLite file (the signer's state database, say).
inline constexpr int32_t kSqliteApplicationId = 0x6b6e6b63;

class SqliteStore final : public Store {
 public:
  // Opens the database file `path`, creating it (mode 0600) when it does not exist, and migrates
  // its schema to kSchemaVersion (PRAGMA user_version; each step in one transaction, so a
  // failed step leaves the previous version). Returns the open store. Fails with
  // kFailedPrecondition when the file's schema is newer than this code's, or when it is another
  // application's database (a PRAGMA application_id not ours, or tables without one);
  // kDataLoss when the file is not a database or is damaged; kUnavailable when it cannot be
  // created, opened or locked (permissions, disk, busy).
  static util::Result<std::unique_ptr<SqliteStore>> Open(const std::string& path,
                                                         SqliteStoreOptions options = {});

  // Closes the connection. Not copyable or movable.
  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  // Store (storage/store.h states what each returns). Beyond the codes stated there, every
  // method fails with kUnavailable when SQLite reports an I/O error, a full disk or a lock held
  // beyond the busy timeout, and with kDataLoss naming "<table>.<column>" for a stored value
  // that does not decode.
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
  explicit SqliteStore(sqlite3* db) : db_(db) {}

  std::mutex mutex_;
  sqlite3* const db_;  // Used only with mutex_ held.
};

}  // namespace kinko::storage

#endif  // KINKO_STORAGE_SQLITE_STORE_H_
