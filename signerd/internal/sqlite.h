// Small owning wrappers over SQLite's C API, for the signer's state store
// (signerd/state_store.h): a prepared statement and a transaction that rolls back unless it is
// committed. Every SQLite return code is checked; a failure becomes a Status whose message is
// "state database <path>: <SQLite's message>", with <path> the connection's database file.
//
// Not thread-safe; one owner. A Statement or Transaction must not outlive its connection.
#ifndef KINKO_SIGNERD_INTERNAL_SQLITE_H_
#define KINKO_SIGNERD_INTERNAL_SQLITE_H_

#include <sqlite3.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"
#include "util/status.h"

namespace kinko::signerd::internal {

// The database file of `db` ("" when SQLite does not say), for messages.
std::string DatabasePath(sqlite3* db);

// The Status for SQLite result code `rc` returned by a call on `db`: kDataLoss for
// SQLITE_CORRUPT and SQLITE_NOTADB (a damaged file, or not a database), kUnavailable for every
// other code (I/O error, disk full, busy ...). Message "state database <path>: <message>", the
// message being sqlite3_errmsg(db) (or sqlite3_errstr(rc) when `db` is null). Call it right
// after the failing call, before anything else uses `db`. Requires `rc` to be an error code.
util::Status SqliteError(sqlite3* db, int rc);

// Runs `sql` (one or more statements that return no rows: DDL, PRAGMA settings, BEGIN ...).
// Fails as SqliteError.
util::Status Exec(sqlite3* db, const char* sql);

// A prepared statement. Movable, not copyable.
class Statement final {
 public:
  // Prepares the one statement `sql`. Fails as SqliteError (kDataLoss when the file is not a
  // database; kUnavailable for a syntax error or a missing table, among others).
  static util::Result<Statement> Prepare(sqlite3* db, std::string_view sql);

  ~Statement();
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Bind the parameter `index` (1-based, ?NNN). Blobs and texts are copied by SQLite
  // (SQLITE_TRANSIENT). Fail as SqliteError (a bad index, a value too large).
  util::Status BindInt64(int index, int64_t value);
  util::Status BindBlob(int index, std::span<const uint8_t> value);
  util::Status BindText(int index, std::string_view value);
  util::Status BindNull(int index);

  // Runs the statement one step. Returns true when a row is ready to be read, false when the
  // statement has finished. Fails as SqliteError (SQLITE_CONSTRAINT included: the caller
  // reports a constraint it expects by its own words).
  util::Result<bool> Step();
  // Runs a statement that returns no row to its end. Fails as SqliteError, and with
  // kInternal when it returns a row.
  util::Status Run();
  // Makes the statement runnable again, with its bindings cleared. Fails as SqliteError.
  util::Status Reset();
  // The last result code of Step, for callers that tell SQLITE_CONSTRAINT apart.
  int last_result() const { return last_result_; }
  // The statement's SQL text, for messages.
  std::string Sql() const;

  // The value of column `column` (0-based) of the current row; only while Step's last answer
  // was true. The type is the stored one: check it before reading a value from a file that may
  // have been edited.
  int ColumnType(int column) const;  // SQLITE_INTEGER, SQLITE_BLOB, SQLITE_TEXT, SQLITE_NULL ...
  int64_t ColumnInt64(int column) const;
  std::vector<uint8_t> ColumnBlob(int column) const;
  std::string ColumnText(int column) const;

 private:
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
  int last_result_ = SQLITE_OK;
};

// A transaction on one connection: BEGIN at Begin, COMMIT at Commit, ROLLBACK when destroyed
// uncommitted (or after a failed COMMIT). Movable, not copyable.
class Transaction final {
 public:
  enum class Mode {
    kRead,   // BEGIN (deferred): one consistent snapshot for a series of reads.
    kWrite,  // BEGIN IMMEDIATE: takes the write lock at once.
  };

  // Begins a transaction. Fails as SqliteError (e.g. kUnavailable when a transaction is open
  // already: an earlier ROLLBACK failed).
  static util::Result<Transaction> Begin(sqlite3* db, Mode mode);

  // Rolls back unless committed. A ROLLBACK that fails leaves the transaction open, and the next
  // Begin then fails with SQLite's message: nothing is lost without an error.
  ~Transaction();
  Transaction(Transaction&& other) noexcept;
  Transaction& operator=(Transaction&& other) = delete;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  // Commits (for a kWrite transaction with synchronous=FULL: durably, after fsync). Fails as
  // SqliteError; the transaction is then rolled back when this object is destroyed.
  util::Status Commit();

 private:
  explicit Transaction(sqlite3* db) : db_(db) {}
  sqlite3* db_ = nullptr;  // Null once committed or moved from.
};

}  // namespace kinko::signerd::internal

#endif  // KINKO_SIGNERD_INTERNAL_SQLITE_H_
