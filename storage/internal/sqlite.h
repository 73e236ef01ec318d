// Small owning wrappers over SQLite's C API for the coordinator's SQLite store
// (storage/sqlite_store.h): a prepared statement with bound parameters, a transaction that rolls
// back unless committed, and a row reader that checks every stored value's type and range. Every
// SQLite return code is checked; a failure becomes a Status whose message starts with
// "coordinator database <path>", <path> being the connection's database file.
//
// SQL is only ever constant text of the store with `?N` parameters: values are bound, never
// spliced into SQL.
//
// Not thread-safe; one owner. A Statement or Transaction must not outlive its connection.
#ifndef KINKO_STORAGE_INTERNAL_SQLITE_H_
#define KINKO_STORAGE_INTERNAL_SQLITE_H_

#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"
#include "util/status.h"

namespace kinko::storage::internal {

// "coordinator database <path>" for `db`'s main file, the start of every message.
std::string Where(sqlite3* db);

// The Status for SQLite result code `rc` returned by a call on `db`: kDataLoss for
// SQLITE_CORRUPT and SQLITE_NOTADB (a damaged file, or not a database), kUnavailable for every
// other code (I/O error, disk full, busy ...). Message "coordinator database <path>: <message>",
// the message being sqlite3_errmsg(db) (sqlite3_errstr(rc) when `db` is null). Call it right
// after the failing call. Requires `rc` to be an error code.
util::Status SqliteError(sqlite3* db, int rc);

// Runs `sql` (statements that return no rows, or whose rows are ignored: DDL, PRAGMA settings,
// BEGIN ...). Fails as SqliteError.
util::Status Exec(sqlite3* db, const char* sql);

// A prepared statement. Movable, not copyable.
class Statement final {
 public:
  // Prepares the one statement `sql`. Fails as SqliteError.
  static util::Result<Statement> Prepare(sqlite3* db, std::string_view sql);

  ~Statement();
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Bind parameter `index` (1-based, ?NNN). Blobs and texts are copied (SQLITE_TRANSIENT); an
  // empty blob is bound as a zero-length blob, not NULL. Fail as SqliteError.
  util::Status BindInt64(int index, int64_t value);
  // A uint64_t is stored as the int64_t with the same bits (SQLite integers are signed).
  util::Status BindUint64(int index, uint64_t value);
  util::Status BindBlob(int index, std::span<const uint8_t> value);
  util::Status BindText(int index, std::string_view value);
  util::Status BindNull(int index);

  // Runs one step. Returns true when a row is ready, false when the statement has finished.
  // Fails as SqliteError.
  util::Result<bool> Step();
  // Runs a statement that returns no row to its end. Fails as SqliteError, and with kInternal
  // when it returns a row.
  util::Status Run();
  // Makes the statement runnable again, with its bindings cleared. Fails as SqliteError.
  util::Status Reset();

  // The current row's column `column` (0-based); only while Step's last answer was true.
  int ColumnType(int column) const;  // SQLITE_INTEGER, SQLITE_BLOB, SQLITE_TEXT, SQLITE_NULL...
  int64_t ColumnInt64(int column) const;
  std::vector<uint8_t> ColumnBlob(int column) const;
  std::string ColumnText(int column) const;

  sqlite3* db() const { return db_; }

 private:
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
};

// The first failure among `results` (the Bind calls of one statement, evaluated in order), or
// OK.
util::Status FirstFailure(std::initializer_list<util::Status> results);

// A transaction on one connection: BEGIN at Begin, COMMIT at Commit, ROLLBACK when destroyed
// uncommitted. Movable, not copyable.
class Transaction final {
 public:
  enum class Mode {
    kRead,   // BEGIN (deferred): one consistent snapshot for a series of reads.
    kWrite,  // BEGIN IMMEDIATE: takes the database's write lock at once (waiting for it up to
             // the busy timeout), so that what the transaction reads stays true until COMMIT.
  };

  // Begins a transaction. Fails as SqliteError (kUnavailable when the write lock stays taken
  // beyond the busy timeout).
  static util::Result<Transaction> Begin(sqlite3* db, Mode mode);

  // Rolls back unless committed.
  ~Transaction();
  Transaction(Transaction&& other) noexcept;
  Transaction& operator=(Transaction&& other) = delete;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  // Commits (durably, after fsync, with synchronous=FULL). Fails as SqliteError; the
  // transaction is then rolled back when this object is destroyed.
  util::Status Commit();

 private:
  explicit Transaction(sqlite3* db) : db_(db) {}
  sqlite3* db_ = nullptr;  // Null once committed or moved from.
};

// Reads the columns of the current row of `row`, checking each stored value: the database may
// have been edited, so a value of the wrong type or out of range is kDataLoss
// "coordinator database <path>: <table>.<column>: <what is wrong>". The first failure is kept
// and the readers return a zero value after it: read every column, then check status().
//
//   RowReader read(statement, "intents");
//   record.wallet = read.Text(0, "wallet");
//   record.revision = read.Uint64(1, "revision");
//   if (!read.status().ok()) return read.status();
class RowReader final {
 public:
  // `row` must outlive the reader and stay on its row.
  RowReader(const Statement& row, std::string_view table) : row_(row), table_(table) {}
  RowReader(const RowReader&) = delete;
  RowReader& operator=(const RowReader&) = delete;

  int64_t Int64(int column, std::string_view name);
  uint64_t Uint64(int column, std::string_view name);  // The int64 with the same bits.
  uint32_t Uint32(int column, std::string_view name);  // 0..2^32-1.
  std::optional<uint32_t> OptionalUint32(int column, std::string_view name);  // NULL: nullopt.
  std::optional<int64_t> OptionalInt64(int column, std::string_view name);
  bool Bool(int column, std::string_view name);  // 0 or 1.
  std::string Text(int column, std::string_view name);
  std::vector<uint8_t> Blob(int column, std::string_view name);
  template <size_t N>
  std::array<uint8_t, N> Fixed(int column, std::string_view name) {
    std::array<uint8_t, N> out{};
    const std::vector<uint8_t> bytes = Blob(column, name);
    if (!status_.ok()) return out;
    if (bytes.size() != N) {
      Fail(name, std::to_string(bytes.size()) + " bytes, not " + std::to_string(N));
      return out;
    }
    std::copy(bytes.begin(), bytes.end(), out.begin());
    return out;
  }
  // A NULL column is nullopt; otherwise as Fixed.
  template <size_t N>
  std::optional<std::array<uint8_t, N>> OptionalFixed(int column, std::string_view name) {
    if (row_.ColumnType(column) == SQLITE_NULL) return std::nullopt;
    return Fixed<N>(column, name);
  }

  // Records kDataLoss for `name` (a value that has the right type but does not decode: an
  // unknown state name, say), unless a failure was recorded before.
  void Fail(std::string_view name, const std::string& what);

  const util::Status& status() const { return status_; }

 private:
  bool HasType(int column, int type, std::string_view name, const char* type_name);

  const Statement& row_;
  std::string table_;
  util::Status status_;
};

}  // namespace kinko::storage::internal

#endif  // KINKO_STORAGE_INTERNAL_SQLITE_H_
