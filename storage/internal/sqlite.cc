#include "storage/internal/sqlite.h"

#include <limits>
#include <utility>

#include "util/check.h"

namespace kinko::storage::internal {

std::string Where(sqlite3* db) {
  const char* path = db == nullptr ? nullptr : sqlite3_db_filename(db, "main");
  return "coordinator database " + std::string(path == nullptr ? "" : path);
}

util::Status SqliteError(sqlite3* db, int rc) {
  const std::string message =
      db == nullptr ? std::string(sqlite3_errstr(rc)) : std::string(sqlite3_errmsg(db));
  std::string text = Where(db) + ": " + message;
  // The primary code is the low byte of an extended one.
  const int primary = rc & 0xff;
  if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB) {
    return util::DataLossError(std::move(text));
  }
  return util::UnavailableError(std::move(text));
}

util::Status Exec(sqlite3* db, const char* sql) {
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return SqliteError(db, rc);
  return util::OkStatus();
}

util::Result<Statement> Statement::Prepare(sqlite3* db, std::string_view sql) {
  CHECK(sql.size() < static_cast<size_t>(std::numeric_limits<int>::max()));
  sqlite3_stmt* stmt = nullptr;
  const char* tail = nullptr;
  const int rc = sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &stmt, &tail);
  if (rc != SQLITE_OK) {
    util::Status error = SqliteError(db, rc);
    sqlite3_finalize(stmt);  // Null on failure; finalizing null is a no-op.
    return error;
  }
  // One statement per Prepare: text after it would be silently ignored.
  CHECK(tail == sql.data() + sql.size());
  CHECK(stmt != nullptr);  // Null only for an empty statement, a programmer error.
  return Statement(db, stmt);
}

Statement::~Statement() {
  // sqlite3_finalize repeats the last Step's error, which Step reported already.
  if (stmt_ != nullptr) sqlite3_finalize(stmt_);
}

Statement::Statement(Statement&& other) noexcept
    : db_(other.db_), stmt_(std::exchange(other.stmt_, nullptr)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    if (stmt_ != nullptr) sqlite3_finalize(stmt_);
    db_ = other.db_;
    stmt_ = std::exchange(other.stmt_, nullptr);
  }
  return *this;
}

util::Status Statement::BindInt64(int index, int64_t value) {
  const int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK) return SqliteError(db_, rc);
  return util::OkStatus();
}

util::Status Statement::BindUint64(int index, uint64_t value) {
  return BindInt64(index, static_cast<int64_t>(value));
}

util::Status Statement::BindBlob(int index, std::span<const uint8_t> value) {
  // sqlite3_bind_blob64 with a null pointer would store NULL, not an empty blob.
  static constexpr uint8_t kEmpty = 0;
  const void* data = value.empty() ? &kEmpty : value.data();
  const int rc = sqlite3_bind_blob64(stmt_, index, data, value.size(), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK) return SqliteError(db_, rc);
  return util::OkStatus();
}

util::Status Statement::BindText(int index, std::string_view value) {
  // A null pointer would bind NULL: an empty text is bound from a valid one.
  const char* data = value.empty() ? "" : value.data();
  const int rc =
      sqlite3_bind_text64(stmt_, index, data, value.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  if (rc != SQLITE_OK) return SqliteError(db_, rc);
  return util::OkStatus();
}

util::Status Statement::BindNull(int index) {
  const int rc = sqlite3_bind_null(stmt_, index);
  if (rc != SQLITE_OK) return SqliteError(db_, rc);
  return util::OkStatus();
}

util::Result<bool> Statement::Step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return SqliteError(db_, rc);
}

util::Status Statement::Run() {
  util::Result<bool> row = Step();
  if (!row.ok()) return row.status();
  if (*row) {
    const char* sql = sqlite3_sql(stmt_);
    return util::InternalError(
        Where(db_) + ": statement returned a row: " + std::string(sql == nullptr ? "" : sql));
  }
  return util::OkStatus();
}

util::Status Statement::Reset() {
  // sqlite3_reset repeats the last Step's error, reported by Step already.
  sqlite3_reset(stmt_);
  const int rc = sqlite3_clear_bindings(stmt_);
  if (rc != SQLITE_OK) return SqliteError(db_, rc);
  return util::OkStatus();
}

int Statement::ColumnType(int column) const { return sqlite3_column_type(stmt_, column); }

int64_t Statement::ColumnInt64(int column) const { return sqlite3_column_int64(stmt_, column); }

std::vector<uint8_t> Statement::ColumnBlob(int column) const {
  // sqlite3_column_blob before sqlite3_column_bytes (SQLite's documented order).
  const auto* data = static_cast<const uint8_t*>(sqlite3_column_blob(stmt_, column));
  const int size = sqlite3_column_bytes(stmt_, column);
  if (data == nullptr || size <= 0) return {};
  return std::vector<uint8_t>(data, data + size);
}

std::string Statement::ColumnText(int column) const {
  const auto* data = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  const int size = sqlite3_column_bytes(stmt_, column);
  if (data == nullptr || size <= 0) return {};
  return std::string(data, static_cast<size_t>(size));
}

util::Status FirstFailure(std::initializer_list<util::Status> results) {
  for (const util::Status& result : results) {
    if (!result.ok()) return result;
  }
  return util::OkStatus();
}

util::Result<Transaction> Transaction::Begin(sqlite3* db, Mode mode) {
  util::Status begun = Exec(db, mode == Mode::kWrite ? "BEGIN IMMEDIATE" : "BEGIN");
  if (!begun.ok()) return begun;
  return Transaction(db);
}

Transaction::~Transaction() {
  // After some errors (disk full, I/O error) SQLite has rolled back already and the connection
  // is in autocommit mode: there is nothing to roll back. A failed ROLLBACK leaves the
  // transaction open, and the next Begin reports it.
  if (db_ != nullptr && sqlite3_get_autocommit(db_) == 0) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
}

Transaction::Transaction(Transaction&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}

util::Status Transaction::Commit() {
  CHECK(db_ != nullptr);
  util::Status committed = Exec(db_, "COMMIT");
  if (!committed.ok()) return committed;
  db_ = nullptr;
  return util::OkStatus();
}

void RowReader::Fail(std::string_view name, const std::string& what) {
  if (!status_.ok()) return;
  status_ =
      util::DataLossError(Where(row_.db()) + ": " + table_ + "." + std::string(name) + ": " + what);
}

bool RowReader::HasType(int column, int type, std::string_view name, const char* type_name) {
  if (!status_.ok()) return false;
  if (row_.ColumnType(column) == type) return true;
  Fail(name, std::string("not ") + type_name);
  return false;
}

int64_t RowReader::Int64(int column, std::string_view name) {
  if (!HasType(column, SQLITE_INTEGER, name, "an integer")) return 0;
  return row_.ColumnInt64(column);
}

uint64_t RowReader::Uint64(int column, std::string_view name) {
  return static_cast<uint64_t>(Int64(column, name));
}

uint32_t RowReader::Uint32(int column, std::string_view name) {
  const int64_t value = Int64(column, name);
  if (value < 0 || value > std::numeric_limits<uint32_t>::max()) {
    Fail(name, std::to_string(value) + " is out of range");
    return 0;
  }
  return static_cast<uint32_t>(value);
}

std::optional<uint32_t> RowReader::OptionalUint32(int column, std::string_view name) {
  if (row_.ColumnType(column) == SQLITE_NULL) return std::nullopt;
  return Uint32(column, name);
}

std::optional<int64_t> RowReader::OptionalInt64(int column, std::string_view name) {
  if (row_.ColumnType(column) == SQLITE_NULL) return std::nullopt;
  return Int64(column, name);
}

bool RowReader::Bool(int column, std::string_view name) {
  const int64_t value = Int64(column, name);
  if (value != 0 && value != 1) {
    Fail(name, std::to_string(value) + " is neither 0 nor 1");
    return false;
  }
  return value == 1;
}

std::string RowReader::Text(int column, std::string_view name) {
  if (!HasType(column, SQLITE_TEXT, name, "a text")) return {};
  return row_.ColumnText(column);
}

std::vector<uint8_t> RowReader::Blob(int column, std::string_view name) {
  if (!HasType(column, SQLITE_BLOB, name, "a blob")) return {};
  return row_.ColumnBlob(column);
}

}  // namespace kinko::storage::internal
