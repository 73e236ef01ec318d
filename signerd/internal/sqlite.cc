#include "signerd/internal/sqlite.h"

#include <limits>
#include <utility>

#include "util/check.h"

namespace kinko::signerd::internal {

std::string DatabasePath(sqlite3* db) {
  const char* path = db == nullptr ? nullptr : sqlite3_db_filename(db, "main");
  return path == nullptr ? std::string() : std::string(path);
}

util::Status SqliteError(sqlite3* db, int rc) {
  const std::string message =
      db == nullptr ? std::string(sqlite3_errstr(rc)) : std::string(sqlite3_errmsg(db));
  std::string text = "state database " + DatabasePath(db) + ": " + message;
  // The primary code is the low byte of an extended one.
  const int primary = rc & 0xff;
  if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB) {
    return util::DataLossError(std::move(text));
  }
  return util::UnavailableError(std::move(text));
}

util::Status Exec(sqlite3* db, const char* sql) {
  // The error message is read with sqlite3_errmsg, so sqlite3_exec's copy is not asked for.
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
  CHECK(stmt != nullptr);  // Null only for an empty statement, which is a programmer error.
  return Statement(db, stmt);
}

Statement::~Statement() {
  // sqlite3_finalize repeats the statement's last error, which Step already reported.
  if (stmt_ != nullptr) sqlite3_finalize(stmt_);
}

Statement::Statement(Statement&& other) noexcept
    : db_(other.db_),
      stmt_(std::exchange(other.stmt_, nullptr)),
      last_result_(other.last_result_) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    if (stmt_ != nullptr) sqlite3_finalize(stmt_);
    db_ = other.db_;
    stmt_ = std::exchange(other.stmt_, nullptr);
    last_result_ = other.last_result_;
  }
  return *this;
}

util::Status Statement::BindInt64(int index, int64_t value) {
  const int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK) return SqliteError(db_, rc);
  return util::OkStatus();
}

util::Status Statement::BindBlob(int index, std::span<const uint8_t> value) {
  // A zero-length blob is bound as such (not NULL): sqlite3_bind_blob64 with a null pointer
  // would store NULL.
  static constexpr uint8_t kEmpty = 0;
  const void* data = value.empty() ? &kEmpty : value.data();
  const int rc = sqlite3_bind_blob64(stmt_, index, data, value.size(), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK) return SqliteError(db_, rc);
  return util::OkStatus();
}

util::Status Statement::BindText(int index, std::string_view value) {
  const int rc =
      sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  if (rc != SQLITE_OK) return SqliteError(db_, rc);
  return util::OkStatus();
}

util::Status Statement::BindNull(int index) {
  const int rc = sqlite3_bind_null(stmt_, index);
  if (rc != SQLITE_OK) return SqliteError(db_, rc);
  return util::OkStatus();
}

util::Result<bool> Statement::Step() {
  last_result_ = sqlite3_step(stmt_);
  if (last_result_ == SQLITE_ROW) return true;
  if (last_result_ == SQLITE_DONE) return false;
  return SqliteError(db_, last_result_);
}

util::Status Statement::Run() {
  util::Result<bool> row = Step();
  if (!row.ok()) return row.status();
  if (*row) return util::InternalError("state database statement returned a row: " + Sql());
  return util::OkStatus();
}

util::Status Statement::Reset() {
  // sqlite3_reset repeats the last Step's error; that error was reported by Step, so only
  // sqlite3_clear_bindings's result matters here.
  sqlite3_reset(stmt_);
  last_result_ = SQLITE_OK;
  const int rc = sqlite3_clear_bindings(stmt_);
  if (rc != SQLITE_OK) return SqliteError(db_, rc);
  return util::OkStatus();
}

std::string Statement::Sql() const {
  const char* sql = sqlite3_sql(stmt_);
  return sql == nullptr ? std::string() : std::string(sql);
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

util::Result<Transaction> Transaction::Begin(sqlite3* db, Mode mode) {
  util::Status begun = Exec(db, mode == Mode::kWrite ? "BEGIN IMMEDIATE" : "BEGIN");
  if (!begun.ok()) return begun;
  return Transaction(db);
}

Transaction::~Transaction() {
  // After some errors (disk full, I/O error) SQLite has rolled back already; the connection is
  // then in autocommit mode and there is nothing to roll back. A failed ROLLBACK is reported by
  // the next Begin (header comment).
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

}  // namespace kinko::signerd::internal
