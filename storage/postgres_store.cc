#include "storage/postgres_store.h"

#include <libpq-fe.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <limits>
#include <map>
#include <mutex>
#include <set>
#include <type_traits>
#include <utility>

#include "util/hex.h"

namespace kinko::storage {
namespace {

// --- libpq values ---

// Type OIDs fixed by PostgreSQL's catalog (pg_type.dat); every parameter and result column is
// one of these, in binary format.
constexpr Oid kBoolOid = 16;
constexpr Oid kByteaOid = 17;
constexpr Oid kInt8Oid = 20;
constexpr Oid kTextOid = 25;

// The largest number a BIGINT column holds.
constexpr uint64_t kMaxStored = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
// An intent pays 1..256 outputs (store.h).
constexpr size_t kMaxOutputs = 256;
constexpr size_t kMaxListLimit = 1000;

struct ResultDeleter {
  void operator()(PGresult* result) const { PQclear(result); }
};
using PgResult = std::unique_ptr<PGresult, ResultDeleter>;

struct ConnDeleter {
  void operator()(PGconn* conn) const { PQfinish(conn); }
};
using PgConn = std::unique_ptr<PGconn, ConnDeleter>;

// The bound parameters of one statement, all in binary format with their types given, so the
// server never parses a value as SQL or guesses its type.
class Params final {
 public:
  Params& Int(int64_t value) {
    std::string bytes(8, '\0');
    const auto bits = static_cast<uint64_t>(value);
    for (size_t i = 0; i < 8; ++i) bytes[i] = static_cast<char>(bits >> (56 - 8 * i));
    return Add(kInt8Oid, std::move(bytes));
  }
  // Requires value <= kMaxStored (checked by the callers' validation).
  Params& Unsigned(uint64_t value) {
    CHECK(value <= kMaxStored);
    return Int(static_cast<int64_t>(value));
  }
  Params& OptionalInt(std::optional<int64_t> value) {
    if (!value.has_value()) return Add(kInt8Oid, std::nullopt);
    return Int(*value);
  }
  Params& Bool(bool value) { return Add(kBoolOid, std::string(1, value ? '\1' : '\0')); }
  Params& Text(std::string_view value) { return Add(kTextOid, std::string(value)); }
  Params& OptionalText(const std::optional<std::string>& value) {
    if (!value.has_value()) return Add(kTextOid, std::nullopt);
    return Text(*value);
  }
  Params& Bytes(std::span<const uint8_t> value) {
    return Add(kByteaOid, std::string(value.begin(), value.end()));
  }
  Params& OptionalBytes(const std::optional<std::vector<uint8_t>>& value) {
    if (!value.has_value()) return Add(kByteaOid, std::nullopt);
    return Bytes(*value);
  }
  Params& OptionalTxid(const std::optional<btc::Txid>& value) {
    if (!value.has_value()) return Add(kByteaOid, std::nullopt);
    return Bytes(value->span());
  }

  int size() const { return static_cast<int>(types_.size()); }
  const Oid* types() const { return types_.data(); }
  // The value pointers (nullptr for NULL) and lengths, valid while this object lives.
  std::vector<const char*> Values() const {
    std::vector<const char*> out;
    for (const std::optional<std::string>& value : values_) {
      out.push_back(value.has_value() ? value->data() : nullptr);
    }
    return out;
  }
  std::vector<int> Lengths() const {
    std::vector<int> out;
    for (const std::optional<std::string>& value : values_) {
      out.push_back(value.has_value() ? static_cast<int>(value->size()) : 0);
    }
    return out;
  }

 private:
  Params& Add(Oid type, std::optional<std::string> value) {
    types_.push_back(type);
    values_.push_back(std::move(value));
    return *this;
  }

  std::vector<Oid> types_;
  std::vector<std::optional<std::string>> values_;
};

// Reads the columns of one row of a binary-format result by name. A column that is missing,
// of another type, of a wrong length or out of range (a damaged or rewritten database) is
// remembered; status() reports the first one as kDataLoss naming the table, row and column.
class RowReader final {
 public:
  RowReader(const PGresult* result, int row, std::string what)
      : result_(result), row_(row), what_(std::move(what)) {}

  int64_t Int(const char* column) {
    std::optional<std::string_view> raw = Raw(column, kInt8Oid);
    if (!raw.has_value()) return 0;
    if (raw->size() != 8) {
      Fail(column, "not 8 bytes");
      return 0;
    }
    uint64_t bits = 0;
    for (char byte : *raw) bits = (bits << 8) | static_cast<uint8_t>(byte);
    return static_cast<int64_t>(bits);
  }
  // A BIGINT that must lie in [min, max].
  int64_t IntIn(const char* column, int64_t min, int64_t max) {
    int64_t value = Int(column);
    if (value < min || value > max) {
      Fail(column, "out of range");
      return 0;
    }
    return value;
  }
  uint64_t Unsigned(const char* column) {
    return static_cast<uint64_t>(IntIn(column, 0, std::numeric_limits<int64_t>::max()));
  }
  uint32_t Uint32(const char* column) {
    return static_cast<uint32_t>(IntIn(column, 0, std::numeric_limits<uint32_t>::max()));
  }
  bool IsNull(const char* column) {
    int index = Index(column);
    return index >= 0 && PQgetisnull(result_, row_, index) != 0;
  }
  std::optional<int64_t> OptionalInt(const char* column) {
    if (IsNull(column)) return std::nullopt;
    return Int(column);
  }
  std::optional<uint32_t> OptionalUint32(const char* column) {
    if (IsNull(column)) return std::nullopt;
    return Uint32(column);
  }
  bool Bool(const char* column) {
    std::optional<std::string_view> raw = Raw(column, kBoolOid);
    if (!raw.has_value()) return false;
    if (raw->size() != 1) {
      Fail(column, "not 1 byte");
      return false;
    }
    return (*raw)[0] != 0;
  }
  std::string Text(const char* column) {
    std::optional<std::string_view> raw = Raw(column, kTextOid);
    if (!raw.has_value()) return "";
    return std::string(*raw);
  }
  std::vector<uint8_t> Bytes(const char* column) {
    std::optional<std::string_view> raw = Raw(column, kByteaOid);
    if (!raw.has_value()) return {};
    return std::vector<uint8_t>(raw->begin(), raw->end());
  }
  template <size_t N>
  std::array<uint8_t, N> Array(const char* column) {
    std::array<uint8_t, N> out{};
    std::optional<std::string_view> raw = Raw(column, kByteaOid);
    if (!raw.has_value()) return out;
    if (raw->size() != N) {
      Fail(column, "not " + std::to_string(N) + " bytes");
      return out;
    }
    std::memcpy(out.data(), raw->data(), N);
    return out;
  }
  btc::Txid Txid(const char* column) { return btc::Txid(Array<32>(column)); }
  std::optional<btc::Txid> OptionalTxid(const char* column) {
    if (IsNull(column)) return std::nullopt;
    return Txid(column);
  }
  // Records that `column` holds a value this code does not accept (e.g. an unknown state).
  void Fail(const char* column, std::string_view why) {
    if (status_.ok()) {
      status_ = util::DataLossError(what_ + ": column " + column + ": " + std::string(why));
    }
  }

  util::Status status() const { return status_; }

 private:
  int Index(const char* column) {
    int index = PQfnumber(result_, column);
    if (index < 0) Fail(column, "missing");
    return index;
  }
  // The bytes of a non-NULL value of `type`, or nullopt (recorded) otherwise.
  std::optional<std::string_view> Raw(const char* column, Oid type) {
    int index = Index(column);
    if (index < 0) return std::nullopt;
    if (PQftype(result_, index) != type) {
      Fail(column, "unexpected type");
      return std::nullopt;
    }
    if (PQgetisnull(result_, row_, index) != 0) {
      Fail(column, "null");
      return std::nullopt;
    }
    return std::string_view(PQgetvalue(result_, row_, index),
                            static_cast<size_t>(PQgetlength(result_, row_, index)));
  }

  const PGresult* result_;
  int row_;
  std::string what_;
  util::Status status_;
};

std::string Trim(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

// The status for a failed statement (or a failed connection when `result` is null). The
// message is the server's primary message, never the statement's values.
util::Status ErrorFrom(PGconn* conn, const PGresult* result, std::string_view what) {
  const char* sqlstate = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  const char* primary =
      result != nullptr ? PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  std::string message = "postgres: " + std::string(what) + ": " +
                        (primary != nullptr ? std::string(primary) : Trim(PQerrorMessage(conn)));
  if (sqlstate == nullptr) {
    // No server error: libpq failed on its side, almost always a lost connection.
    if (PQstatus(conn) == CONNECTION_BAD) return util::UnavailableError(std::move(message));
    return util::InternalError(std::move(message));
  }
  const std::string state(sqlstate);
  message += " (sqlstate " + state + ")";
  // Class 08: connection exception; 53: insufficient resources (too many connections);
  // 57P01..57P03: the server is shutting down or starting.
  if (PQstatus(conn) == CONNECTION_BAD || state.starts_with("08") || state.starts_with("53") ||
      state == "57P01" || state == "57P02" || state == "57P03") {
    return util::UnavailableError(std::move(message));
  }
  if (state == "40001" || state == "40P01") return util::AbortedError(std::move(message));
  if (state == "23505") return util::AlreadyExistsError(std::move(message));
  // Class 22: data exception (text that is not UTF-8 or holds NUL, a number out of range).
  if (state.starts_with("22")) return util::InvalidArgumentError(std::move(message));
  return util::InternalError(std::move(message));
}

bool IsConflict(const PGresult* result) {
  const char* sqlstate = PQresultErrorField(result, PG_DIAG_SQLSTATE);
  return sqlstate != nullptr &&
         (std::strcmp(sqlstate, "40001") == 0 || std::strcmp(sqlstate, "40P01") == 0);
}

}  // namespace

// --- The connection pool ---

namespace internal {

// At most `size` connections to one server, opened on demand and kept while they work.
// Thread-safe (mu_ guards idle_ and open_).
class PostgresPool final {
 public:
  PostgresPool(std::string conninfo, size_t size) : conninfo_(std::move(conninfo)), size_(size) {}
  // Not copyable or movable.
  PostgresPool(const PostgresPool&) = delete;
  PostgresPool& operator=(const PostgresPool&) = delete;

  // A connection for one caller: an idle one, a new one while fewer than `size` are open, or
  // the next one returned. kUnavailable when a new connection fails.
  util::Result<PgConn> Take() {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return !idle_.empty() || open_ < size_; });
      if (!idle_.empty()) {
        PgConn conn = std::move(idle_.back());
        idle_.pop_back();
        return conn;
      }
      ++open_;  // Reserved for the connection opened below, outside the lock.
    }
    util::Result<PgConn> conn = Connect();
    if (!conn.ok()) Release();
    return conn;
  }

  size_t size() const { return size_; }

  // Gives back a connection from Take. It is kept only when it is healthy and outside any
  // transaction; otherwise it is closed and its place freed.
  void Give(PgConn conn) {
    if (PQstatus(conn.get()) != CONNECTION_OK || PQtransactionStatus(conn.get()) != PQTRANS_IDLE) {
      conn.reset();
      Release();
      return;
    }
    std::lock_guard<std::mutex> lock(mu_);
    idle_.push_back(std::move(conn));
    cv_.notify_one();
  }

 private:
  util::Result<PgConn> Connect() {
    PgConn conn(PQconnectdb(conninfo_.c_str()));
    if (conn == nullptr) return util::UnavailableError("postgres: connect: out of memory");
    if (PQstatus(conn.get()) != CONNECTION_OK) {
      return util::UnavailableError("postgres: connect: " + Trim(PQerrorMessage(conn.get())));
    }
    // Notices (e.g. "relation already exists, skipping") are not errors: keep them off stderr.
    PQsetNoticeProcessor(
        conn.get(), [](void*, const char*) {}, nullptr);
    return conn;
  }

  void Release() {
    std::lock_guard<std::mutex> lock(mu_);
    --open_;
    cv_.notify_one();
  }

  const std::string conninfo_;
  const size_t size_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<PgConn> idle_;  // Guarded by mu_.
  size_t open_ = 0;           // Guarded by mu_: idle and taken connections.
};

}  // namespace internal

namespace {

using internal::PostgresPool;

// A connection taken from the pool for one transaction; given back when destroyed.
class PooledConnection final {
 public:
  PooledConnection(PostgresPool& pool, PgConn conn) : pool_(pool), conn_(std::move(conn)) {}
  ~PooledConnection() { pool_.Give(std::move(conn_)); }
  PooledConnection(const PooledConnection&) = delete;
  PooledConnection& operator=(const PooledConnection&) = delete;

  PGconn* get() const { return conn_.get(); }

 private:
  PostgresPool& pool_;
  PgConn conn_;
};

// The statements of one transaction on one connection. Not thread-safe.
class Tx final {
 public:
  explicit Tx(PGconn* conn) : conn_(conn) {}

  // Runs `sql` with `params`; the rows come back in binary format. Fails as ErrorFrom.
  util::Result<PgResult> Exec(const char* sql, const Params& params = Params()) {
    std::vector<const char*> values = params.Values();
    std::vector<int> lengths = params.Lengths();
    std::vector<int> formats(values.size(), 1);
    PgResult result(PQexecParams(conn_, sql, params.size(), params.types(), values.data(),
                                 lengths.data(), formats.data(), /*resultFormat=*/1));
    return Check(std::move(result), "statement");
  }

  // Runs `sql`, which may hold several statements and no parameters (schema changes).
  util::Status Script(const char* sql, std::string_view what) {
    util::Result<PgResult> result = Check(PgResult(PQexec(conn_, sql)), what);
    return result.status();
  }

  // Whether a statement failed with a deadlock or serialization failure (worth a retry).
  bool conflict() const { return conflict_; }
  PGconn* conn() const { return conn_; }

 private:
  util::Result<PgResult> Check(PgResult result, std::string_view what) {
    if (result != nullptr) {
      ExecStatusType status = PQresultStatus(result.get());
      if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return result;
      if (IsConflict(result.get())) conflict_ = true;
    }
    return ErrorFrom(conn_, result.get(), what);
  }

  PGconn* conn_;
  bool conflict_ = false;
};

enum class TxMode {
  kReadWrite,  // READ COMMITTED; compare-and-set through row locks.
  kReadOnly,   // REPEATABLE READ READ ONLY: one snapshot for several statements.
};

inline util::Status StatusOf(const util::Status& status) { return status; }
template <typename T>
util::Status StatusOf(const util::Result<T>& result) {
  return result.status();
}

// Runs `fn(tx)` in one transaction, committing when it succeeds and rolling back when it
// fails. When a statement failed with a deadlock or serialization failure, runs it again, up
// to `attempts` times in all. Returns what `fn` returned, or the failure to begin or commit.
template <typename Fn>
std::invoke_result_t<Fn&, Tx&> RunTransaction(PostgresPool& pool, TxMode mode, int attempts,
                                              Fn&& fn) {
  util::Status last;
  // Pooled connections that broke while idle (the server restarted) fail at BEGIN, before
  // anything happened: each is dropped and the next one tried, up to one more than the pool
  // holds (by then a new connection).
  size_t broken = 0;
  for (int attempt = 0; attempt < attempts;) {
    util::Result<PgConn> taken = pool.Take();
    if (!taken.ok()) return taken.status();
    PooledConnection conn(pool, std::move(taken).value());
    Tx tx(conn.get());
    util::Status begun =
        tx.Script(mode == TxMode::kReadOnly ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
                                            : "BEGIN ISOLATION LEVEL READ COMMITTED",
                  "begin");
    if (!begun.ok()) {
      if (PQstatus(conn.get()) == CONNECTION_BAD && broken++ < pool.size()) continue;
      return begun;
    }
    std::invoke_result_t<Fn&, Tx&> result = fn(tx);
    util::Status status = StatusOf(result);
    if (status.ok()) {
      // Invariant: fn succeeded, so every statement did and the transaction is open. (COMMIT
      // of a failed transaction would silently roll back.)
      if (PQtransactionStatus(conn.get()) != PQTRANS_INTRANS) {
        return util::InternalError("postgres: transaction not open at commit");
      }
      util::Status committed = tx.Script("COMMIT", "commit");
      if (committed.ok()) return result;
      status = committed;
    } else {
      // Ignored: a connection that cannot roll back is broken and the pool drops it.
      (void)tx.Script("ROLLBACK", "rollback");
    }
    if (!tx.conflict()) return status;
    last = status;
    ++attempt;
  }
  return util::AbortedError("postgres: gave up after " + std::to_string(attempts) +
                            " attempts: " + last.message());
}

// --- Validation of what is written ---

util::Status CheckStorable(uint64_t value, std::string_view what) {
  if (value > kMaxStored) return util::InvalidArgumentError(std::string(what) + ": above 2^63-1");
  return util::OkStatus();
}

// now + lease_seconds, or kInvalidArgument when it does not fit a BIGINT.
util::Result<uint64_t> LeaseEnd(uint64_t now, uint64_t lease_seconds) {
  if (now > kMaxStored || lease_seconds > kMaxStored - now) {
    return util::InvalidArgumentError("lease: now + lease_seconds above 2^63-1");
  }
  return now + lease_seconds;
}

std::string IntentName(const IntentId& id) { return "intent " + util::HexEncode(id); }

std::string CoinName(const btc::Outpoint& outpoint) {
  return "coin " + btc::TxidToHex(outpoint.txid) + ":" + std::to_string(outpoint.index);
}

// The states as one text parameter ("approved,building"), split by the query with
// string_to_array; NULL (no filter) when empty. The names are this code's constants.
template <typename State, typename NameFn>
std::optional<std::string> StateList(const std::vector<State>& states, NameFn name) {
  if (states.empty()) return std::nullopt;
  std::string out;
  for (State state : states) {
    if (!out.empty()) out += ',';
    out += name(state);
  }
  return out;
}

// A list of ids as one text parameter: comma-separated hex, which a statement turns back
// into rows with `SELECT decode(h, 'hex') FROM unnest(string_to_array($n, ',')) AS h`.
std::string IntentList(const std::vector<IntentId>& ids) {
  std::string out;
  for (const IntentId& id : ids) {
    if (!out.empty()) out += ',';
    out += util::HexEncode(id);
  }
  return out;
}

// A list of outpoints as one text parameter: comma-separated "<txid hex, internal byte
// order>:<index>", split back with split_part.
std::string OutpointList(const std::vector<btc::Outpoint>& outpoints) {
  std::string out;
  for (const btc::Outpoint& outpoint : outpoints) {
    if (!out.empty()) out += ',';
    out += util::HexEncode(outpoint.txid.span()) + ":" + std::to_string(outpoint.index);
  }
  return out;
}

// --- The schema ---

// DO NOT CHANGE a step once released: databases were migrated with it. Step i (0-based) takes
// the schema from version i to version i + 1. Integers are BIGINT (uint32 values are checked
// on reading); ids, hashes and blobs are BYTEA; states are their names (store.h).
constexpr const char* kMigrations[] = {
    R"sql(
CREATE TABLE intents (
  id BYTEA PRIMARY KEY,
  wallet TEXT NOT NULL,
  state TEXT NOT NULL,
  signed_intent BYTEA NOT NULL,
  requester BYTEA NOT NULL,
  external_ref TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  received_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  batch_id BIGINT,
  detail TEXT NOT NULL,
  revision BIGINT NOT NULL
);
CREATE INDEX intents_by_page ON intents (received_at, id);
CREATE INDEX intents_by_wallet ON intents (wallet, state);
CREATE INDEX intents_by_batch ON intents (batch_id);
CREATE TABLE intent_outputs (
  intent_id BYTEA NOT NULL REFERENCES intents (id),
  seq BIGINT NOT NULL,
  address TEXT NOT NULL,
  sats BIGINT NOT NULL,
  PRIMARY KEY (intent_id, seq)
);
CREATE TABLE approvals (
  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  intent_id BYTEA NOT NULL REFERENCES intents (id),
  approver BYTEA NOT NULL,
  signed_approval BYTEA NOT NULL,
  received_at BIGINT NOT NULL,
  UNIQUE (intent_id, approver)
);
CREATE TABLE utxos (
  txid BYTEA NOT NULL,
  vout BIGINT NOT NULL,
  wallet TEXT NOT NULL,
  sats BIGINT NOT NULL,
  script_pubkey BYTEA NOT NULL,
  change BOOLEAN NOT NULL,
  derivation_index BIGINT NOT NULL,
  height BIGINT,
  state TEXT NOT NULL,
  batch_id BIGINT,
  PRIMARY KEY (txid, vout)
);
CREATE INDEX utxos_by_wallet ON utxos (wallet, state);
CREATE INDEX utxos_by_batch ON utxos (batch_id);
CREATE INDEX utxos_by_change_index ON utxos (wallet, change, derivation_index);
CREATE TABLE transactions (
  txid BYTEA PRIMARY KEY,
  raw BYTEA NOT NULL
);
CREATE TABLE wallet_counters (
  wallet TEXT PRIMARY KEY,
  next_change_index BIGINT NOT NULL
);
CREATE TABLE batches (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  wallet TEXT NOT NULL,
  state TEXT NOT NULL,
  change_index BIGINT,
  psbt BYTEA NOT NULL,
  final_tx BYTEA NOT NULL,
  txid BYTEA,
  fee_sats BIGINT NOT NULL,
  fee_rate_sat_per_kvb BIGINT NOT NULL,
  detail TEXT NOT NULL,
  owner TEXT NOT NULL,
  lease_until BIGINT NOT NULL,
  confirmed_height BIGINT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  revision BIGINT NOT NULL
);
CREATE INDEX batches_by_wallet ON batches (wallet, state);
CREATE TABLE batch_intents (
  batch_id BIGINT NOT NULL REFERENCES batches (id),
  seq BIGINT NOT NULL,
  intent_id BYTEA NOT NULL REFERENCES intents (id),
  PRIMARY KEY (batch_id, seq)
);
CREATE TABLE batch_inputs (
  batch_id BIGINT NOT NULL REFERENCES batches (id),
  seq BIGINT NOT NULL,
  txid BYTEA NOT NULL,
  vout BIGINT NOT NULL,
  PRIMARY KEY (batch_id, seq)
);
CREATE TABLE signer_heads (
  signer BYTEA PRIMARY KEY,
  tree_size BIGINT NOT NULL,
  root_hash BYTEA NOT NULL,
  signed_tree_head BYTEA NOT NULL,
  seen_at BIGINT NOT NULL
);
)sql",
};
static_assert(std::size(kMigrations) == kSchemaVersion, "one migration step per version");

// One migration step under the advisory lock. Returns true when it applied a step, false when
// the schema is at kSchemaVersion; kFailedPrecondition when it is newer.
util::Result<bool> MigrateOneStep(Tx& tx) {
  util::Result<PgResult> locked =
      tx.Exec("SELECT pg_advisory_xact_lock($1)", Params().Int(kPostgresMigrationLockKey));
  if (!locked.ok()) return locked.status();
  util::Status created =
      tx.Script("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)",
                "create schema_version");
  if (!created.ok()) return created;
  util::Result<PgResult> rows = tx.Exec("SELECT version FROM schema_version");
  if (!rows.ok()) return rows.status();
  const int count = PQntuples(rows->get());
  if (count > 1) return util::DataLossError("postgres: schema_version: more than one row");
  int64_t version = 0;
  if (count == 1) {
    RowReader row(rows->get(), 0, "schema_version");
    version = row.IntIn("version", 0, std::numeric_limits<int64_t>::max());
    if (!row.status().ok()) return row.status();
  }
  if (version > kSchemaVersion) {
    return util::FailedPreconditionError("postgres: schema version " + std::to_string(version) +
                                         " is newer than this code's " +
                                         std::to_string(kSchemaVersion) + " (upgrade kinkod)");
  }
  if (version == kSchemaVersion) return false;
  const std::string step = "migration to version " + std::to_string(version + 1);
  util::Status applied = tx.Script(kMigrations[version], step);
  if (!applied.ok()) return applied;
  util::Result<PgResult> recorded =
      count == 0
          ? tx.Exec("INSERT INTO schema_version (version) VALUES ($1)", Params().Int(version + 1))
          : tx.Exec("UPDATE schema_version SET version = $1", Params().Int(version + 1));
  if (!recorded.ok()) return recorded.status();
  return true;
}

// --- Reading records ---

// The outputs of the intents `ids`, by intent, in order.
util::Result<std::map<IntentId, std::vector<PayOutput>>> LoadOutputs(
    Tx& tx, const std::vector<IntentId>& ids) {
  std::map<IntentId, std::vector<PayOutput>> out;
  if (ids.empty()) return out;
  util::Result<PgResult> rows = tx.Exec(
      "SELECT intent_id, address, sats FROM intent_outputs "
      "WHERE intent_id IN (SELECT decode(h, 'hex') FROM unnest(string_to_array($1, ',')) AS h) "
      "ORDER BY intent_id, seq",
      Params().Text(IntentList(ids)));
  if (!rows.ok()) return rows.status();
  for (int i = 0; i < PQntuples(rows->get()); ++i) {
    RowReader row(rows->get(), i, "intent_outputs");
    IntentId id = row.Array<16>("intent_id");
    PayOutput output{.address = row.Text("address"),
                     .sats = row.IntIn("sats", 1, std::numeric_limits<int64_t>::max())};
    if (!row.status().ok()) return row.status();
    out[id].push_back(std::move(output));
  }
  return out;
}

// The intents `sql` selects (every column of `intents`, read by name), with their outputs.
util::Result<std::vector<IntentRecord>> ReadIntents(Tx& tx, const char* sql, const Params& params) {
  util::Result<PgResult> rows = tx.Exec(sql, params);
  if (!rows.ok()) return rows.status();
  std::vector<IntentRecord> intents;
  for (int i = 0; i < PQntuples(rows->get()); ++i) {
    RowReader row(rows->get(), i, "intents row " + std::to_string(i));
    IntentRecord record;
    record.id = row.Array<16>("id");
    record.wallet = row.Text("wallet");
    std::optional<IntentState> state = ParseIntentState(row.Text("state"));
    if (!state.has_value()) row.Fail("state", "unknown state");
    record.state = state.value_or(IntentState::kReceived);
    record.signed_intent = row.Bytes("signed_intent");
    record.requester = row.Array<32>("requester");
    record.external_ref = row.Text("external_ref");
    record.created_at = row.Unsigned("created_at");
    record.expires_at = row.Unsigned("expires_at");
    record.received_at = row.Unsigned("received_at");
    record.updated_at = row.Unsigned("updated_at");
    record.batch_id = row.OptionalInt("batch_id");
    record.detail = row.Text("detail");
    record.revision = row.Unsigned("revision");
    if (!row.status().ok()) return row.status();
    intents.push_back(std::move(record));
  }
  std::vector<IntentId> ids;
  for (const IntentRecord& record : intents) ids.push_back(record.id);
  util::Result<std::map<IntentId, std::vector<PayOutput>>> outputs = LoadOutputs(tx, ids);
  if (!outputs.ok()) return outputs.status();
  for (IntentRecord& record : intents) {
    std::vector<PayOutput>& found = (*outputs)[record.id];
    if (found.empty() || found.size() > kMaxOutputs) {
      return util::DataLossError("postgres: " + IntentName(record.id) + ": " +
                                 std::to_string(found.size()) + " outputs");
    }
    record.outputs = std::move(found);
  }
  return intents;
}

// The batches `sql` selects (every column of `batches`, read by name), with their intents and
// inputs.
util::Result<std::vector<BatchRecord>> ReadBatches(Tx& tx, const char* sql, const Params& params) {
  util::Result<PgResult> rows = tx.Exec(sql, params);
  if (!rows.ok()) return rows.status();
  std::vector<BatchRecord> batches;
  std::map<int64_t, size_t> position;  // Batch id -> index in `batches`.
  std::string id_list;                 // "1,2,3": one text parameter, split by the query.
  for (int i = 0; i < PQntuples(rows->get()); ++i) {
    RowReader row(rows->get(), i, "batches row " + std::to_string(i));
    BatchRecord record;
    record.id = row.Int("id");
    record.wallet = row.Text("wallet");
    std::optional<BatchState> state = ParseBatchState(row.Text("state"));
    if (!state.has_value()) row.Fail("state", "unknown state");
    record.state = state.value_or(BatchState::kBuilding);
    record.change_index = row.OptionalUint32("change_index");
    record.psbt = row.Bytes("psbt");
    record.final_tx = row.Bytes("final_tx");
    record.txid = row.OptionalTxid("txid");
    record.fee_sats = row.IntIn("fee_sats", 0, std::numeric_limits<int64_t>::max());
    record.fee_rate_sat_per_kvb = row.Unsigned("fee_rate_sat_per_kvb");
    record.detail = row.Text("detail");
    record.owner = row.Text("owner");
    record.lease_until = row.Unsigned("lease_until");
    record.confirmed_height = row.OptionalUint32("confirmed_height");
    record.created_at = row.Unsigned("created_at");
    record.updated_at = row.Unsigned("updated_at");
    record.revision = row.Unsigned("revision");
    if (!row.status().ok()) return row.status();
    position[record.id] = batches.size();
    if (!id_list.empty()) id_list += ',';
    id_list += std::to_string(record.id);
    batches.push_back(std::move(record));
  }
  if (batches.empty()) return batches;

  util::Result<PgResult> intents = tx.Exec(
      "SELECT batch_id, intent_id FROM batch_intents "
      "WHERE batch_id = ANY(string_to_array($1, ',')::BIGINT[]) ORDER BY batch_id, seq",
      Params().Text(id_list));
  if (!intents.ok()) return intents.status();
  for (int i = 0; i < PQntuples(intents->get()); ++i) {
    RowReader row(intents->get(), i, "batch_intents");
    int64_t batch_id = row.Int("batch_id");
    IntentId intent_id = row.Array<16>("intent_id");
    if (!row.status().ok()) return row.status();
    batches[position.at(batch_id)].intents.push_back(intent_id);
  }
  util::Result<PgResult> inputs = tx.Exec(
      "SELECT batch_id, txid, vout FROM batch_inputs "
      "WHERE batch_id = ANY(string_to_array($1, ',')::BIGINT[]) ORDER BY batch_id, seq",
      Params().Text(id_list));
  if (!inputs.ok()) return inputs.status();
  for (int i = 0; i < PQntuples(inputs->get()); ++i) {
    RowReader row(inputs->get(), i, "batch_inputs");
    int64_t batch_id = row.Int("batch_id");
    btc::Outpoint outpoint{.txid = row.Txid("txid"), .index = row.Uint32("vout")};
    if (!row.status().ok()) return row.status();
    batches[position.at(batch_id)].inputs.push_back(outpoint);
  }
  for (const BatchRecord& batch : batches) {
    if (batch.intents.empty() || batch.inputs.empty()) {
      return util::DataLossError("postgres: batch " + std::to_string(batch.id) +
                                 ": no intents or no inputs");
    }
  }
  return batches;
}

util::Result<BatchRecord> LoadBatch(Tx& tx, int64_t id) {
  util::Result<std::vector<BatchRecord>> batches =
      ReadBatches(tx,
                  "SELECT id, wallet, state, change_index, psbt, final_tx, txid, fee_sats, "
                  "fee_rate_sat_per_kvb, detail, owner, lease_until, confirmed_height, "
                  "created_at, updated_at, revision FROM batches WHERE id = $1",
                  Params().Int(id));
  if (!batches.ok()) return batches.status();
  if (batches->empty()) return util::NotFoundError("batch " + std::to_string(id) + " not found");
  return std::move(batches->front());
}

util::Result<Utxo> ReadUtxo(const PGresult* result, int i) {
  RowReader row(result, i, "utxos row " + std::to_string(i));
  Utxo utxo;
  utxo.wallet = row.Text("wallet");
  utxo.outpoint = btc::Outpoint{.txid = row.Txid("txid"), .index = row.Uint32("vout")};
  utxo.sats = row.IntIn("sats", 1, std::numeric_limits<int64_t>::max());
  utxo.script_pubkey = row.Bytes("script_pubkey");
  utxo.change = row.Bool("change");
  utxo.index = row.Uint32("derivation_index");
  utxo.height = row.OptionalUint32("height");
  std::optional<UtxoState> state = ParseUtxoState(row.Text("state"));
  if (!state.has_value()) row.Fail("state", "unknown state");
  utxo.state = state.value_or(UtxoState::kAvailable);
  utxo.batch_id = row.OptionalInt("batch_id");
  if (!row.status().ok()) return row.status();
  return utxo;
}

// The wallet's next unused change index: one past both the last one handed out and the highest
// change coin stored (the chain may know change coins the counter does not, e.g. after a
// restore). The upsert locks the wallet's counter row, so concurrent batches get distinct
// indexes; an aborted batch's increment is rolled back with it. kFailedPrecondition when the
// change branch is used up.
util::Result<uint32_t> AllocateChangeIndex(Tx& tx, const std::string& wallet) {
  util::Result<PgResult> coins = tx.Exec(
      "SELECT COALESCE(max(derivation_index) + 1, 0) AS floor FROM utxos "
      "WHERE wallet = $1 AND change",
      Params().Text(wallet));
  if (!coins.ok()) return coins.status();
  RowReader coins_row(coins->get(), 0, "utxos change index");
  const int64_t floor = coins_row.IntIn("floor", 0, int64_t{1} << 32);
  if (!coins_row.status().ok()) return coins_row.status();
  util::Result<PgResult> counter = tx.Exec(
      "INSERT INTO wallet_counters AS c (wallet, next_change_index) VALUES ($1, $2 + 1) "
      "ON CONFLICT (wallet) DO UPDATE "
      "SET next_change_index = GREATEST(c.next_change_index, $2) + 1 "
      "RETURNING next_change_index - 1 AS change_index",
      Params().Text(wallet).Int(floor));
  if (!counter.ok()) return counter.status();
  RowReader row(counter->get(), 0, "wallet_counters");
  const int64_t index = row.IntIn("change_index", 0, std::numeric_limits<int64_t>::max() - 1);
  if (!row.status().ok()) return row.status();
  if (index > std::numeric_limits<uint32_t>::max()) {
    return util::FailedPreconditionError("wallet '" + wallet + "': change indexes used up");
  }
  return static_cast<uint32_t>(index);
}

// The intent state that follows a batch in `state` (not kFailed: see BatchUpdate).
IntentState IntentStateOf(BatchState state) {
  switch (state) {
    case BatchState::kBuilding:
      return IntentState::kBuilding;
    case BatchState::kSigning:
      return IntentState::kSigning;
    case BatchState::kSigned:
      return IntentState::kSigned;
    case BatchState::kBroadcast:
      return IntentState::kBroadcast;
    case BatchState::kConfirmed:
      return IntentState::kConfirmed;
    case BatchState::kFailed:
      break;
  }
  CHECK(false);
  return IntentState::kReceived;
}

bool IsFinalBatch(BatchState state) {
  return state == BatchState::kConfirmed || state == BatchState::kFailed;
}

// The moves of store.h: building→signing→signed→broadcast→confirmed, any non-final→failed,
// and X→X for the non-final states (nothing records progress on a finished batch).
bool IsBatchMove(BatchState from, BatchState to) {
  if (from == to) return !IsFinalBatch(from);
  if (to == BatchState::kFailed) return !IsFinalBatch(from);
  switch (from) {
    case BatchState::kBuilding:
      return to == BatchState::kSigning;
    case BatchState::kSigning:
      return to == BatchState::kSigned;
    case BatchState::kSigned:
      return to == BatchState::kBroadcast;
    case BatchState::kBroadcast:
      return to == BatchState::kConfirmed;
    case BatchState::kConfirmed:
    case BatchState::kFailed:
      return false;
  }
  return false;
}

}  // namespace

// --- The store ---

PostgresStore::PostgresStore(std::unique_ptr<PostgresPool> pool, PostgresStoreOptions options)
    : pool_(std::move(pool)), options_(options) {}

PostgresStore::~PostgresStore() = default;

util::Result<std::unique_ptr<PostgresStore>> PostgresStore::Open(const std::string& conninfo,
                                                                 PostgresStoreOptions options) {
  if (options.connections < 1) {
    return util::InvalidArgumentError("postgres options: connections: must be at least 1");
  }
  if (options.attempts < 1) {
    return util::InvalidArgumentError("postgres options: attempts: must be at least 1");
  }
  auto pool = std::make_unique<PostgresPool>(conninfo, options.connections);
  // Each step is one transaction under the advisory lock; at most kSchemaVersion steps run.
  for (int step = 0; step <= kSchemaVersion; ++step) {
    util::Result<bool> migrated =
        RunTransaction(*pool, TxMode::kReadWrite, options.attempts, MigrateOneStep);
    if (!migrated.ok()) return migrated.status();
    if (!*migrated) {
      return std::unique_ptr<PostgresStore>(new PostgresStore(std::move(pool), options));
    }
  }
  return util::InternalError("postgres: schema not at version " + std::to_string(kSchemaVersion) +
                             " after every migration");
}

// --- Intents ---

util::Result<bool> PostgresStore::InsertIntent(const IntentRecord& record) {
  if (record.wallet.empty())
    return util::InvalidArgumentError(IntentName(record.id) + ": empty wallet");
  if (record.outputs.empty() || record.outputs.size() > kMaxOutputs) {
    return util::InvalidArgumentError(IntentName(record.id) + ": needs 1 to 256 outputs");
  }
  for (size_t i = 0; i < record.outputs.size(); ++i) {
    if (record.outputs[i].sats <= 0) {
      return util::InvalidArgumentError(IntentName(record.id) + ": output " + std::to_string(i) +
                                        ": amount not positive");
    }
  }
  for (auto [value, what] :
       {std::pair{record.created_at, "created_at"}, std::pair{record.expires_at, "expires_at"},
        std::pair{record.received_at, "received_at"}, std::pair{record.updated_at, "updated_at"}}) {
    util::Status storable = CheckStorable(value, IntentName(record.id) + ": " + what);
    if (!storable.ok()) return storable;
  }
  return RunTransaction(
      *pool_, TxMode::kReadWrite, options_.attempts, [&](Tx& tx) -> util::Result<bool> {
        // ON CONFLICT DO NOTHING waits for a concurrent insert of the same id to finish; the
        // SELECT below then sees the row it committed.
        util::Result<PgResult> inserted = tx.Exec(
            "INSERT INTO intents (id, wallet, state, signed_intent, requester, external_ref, "
            "created_at, expires_at, received_at, updated_at, batch_id, detail, revision) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 1) "
            "ON CONFLICT (id) DO NOTHING RETURNING id",
            Params()
                .Bytes(record.id)
                .Text(record.wallet)
                .Text(IntentStateName(record.state))
                .Bytes(record.signed_intent)
                .Bytes(record.requester)
                .Text(record.external_ref)
                .Unsigned(record.created_at)
                .Unsigned(record.expires_at)
                .Unsigned(record.received_at)
                .Unsigned(record.updated_at)
                .OptionalInt(record.batch_id)
                .Text(record.detail));
        if (!inserted.ok()) return inserted.status();
        if (PQntuples(inserted->get()) == 0) {
          util::Result<PgResult> existing =
              tx.Exec("SELECT signed_intent FROM intents WHERE id = $1", Params().Bytes(record.id));
          if (!existing.ok()) return existing.status();
          if (PQntuples(existing->get()) != 1) {
            return util::InternalError("postgres: " + IntentName(record.id) + ": vanished");
          }
          RowReader row(existing->get(), 0, IntentName(record.id));
          std::vector<uint8_t> stored = row.Bytes("signed_intent");
          if (!row.status().ok()) return row.status();
          if (stored != record.signed_intent) {
            return util::AlreadyExistsError(IntentName(record.id) + ": id taken by another intent");
          }
          return false;
        }
        for (size_t i = 0; i < record.outputs.size(); ++i) {
          util::Result<PgResult> output = tx.Exec(
              "INSERT INTO intent_outputs (intent_id, seq, address, sats) VALUES ($1, $2, $3, $4)",
              Params()
                  .Bytes(record.id)
                  .Int(static_cast<int64_t>(i))
                  .Text(record.outputs[i].address)
                  .Int(record.outputs[i].sats));
          if (!output.ok()) return output.status();
        }
        return true;
      });
}

util::Result<IntentRecord> PostgresStore::GetIntent(const IntentId& id) {
  return RunTransaction(
      *pool_, TxMode::kReadOnly, options_.attempts, [&](Tx& tx) -> util::Result<IntentRecord> {
        util::Result<std::vector<IntentRecord>> intents = ReadIntents(
            tx,
            "SELECT id, wallet, state, signed_intent, requester, external_ref, created_at, "
            "expires_at, received_at, updated_at, batch_id, detail, revision "
            "FROM intents WHERE id = $1",
            Params().Bytes(id));
        if (!intents.ok()) return intents.status();
        if (intents->empty()) return util::NotFoundError(IntentName(id) + " not found");
        return std::move(intents->front());
      });
}

util::Result<std::vector<IntentRecord>> PostgresStore::ListIntents(const IntentFilter& filter) {
  if (filter.limit < 1 || filter.limit > kMaxListLimit) {
    return util::InvalidArgumentError("intent filter: limit: must be 1 to 1000");
  }
  std::optional<std::string> states = StateList(filter.states, IntentStateName);
  std::optional<std::vector<uint8_t>> after;
  if (filter.after.has_value()) after.emplace(filter.after->begin(), filter.after->end());
  return RunTransaction(
      *pool_, TxMode::kReadOnly, options_.attempts,
      [&](Tx& tx) -> util::Result<std::vector<IntentRecord>> {
        if (after.has_value()) {
          util::Result<PgResult> found =
              tx.Exec("SELECT 1 FROM intents WHERE id = $1", Params().OptionalBytes(after));
          if (!found.ok()) return found.status();
          if (PQntuples(found->get()) == 0) {
            return util::NotFoundError("intent filter: after: " + IntentName(*filter.after) +
                                       " not found");
          }
        }
        return ReadIntents(
            tx,
            "SELECT id, wallet, state, signed_intent, requester, external_ref, created_at, "
            "expires_at, received_at, updated_at, batch_id, detail, revision FROM intents "
            "WHERE ($1::TEXT IS NULL OR wallet = $1) "
            "AND ($2::TEXT IS NULL OR state = ANY(string_to_array($2, ','))) "
            "AND ($3::BYTEA IS NULL OR "
            "(received_at, id) > (SELECT received_at, id FROM intents WHERE id = $3)) "
            "ORDER BY received_at, id LIMIT $4",
            Params()
                .OptionalText(filter.wallet)
                .OptionalText(states)
                .OptionalBytes(after)
                .Int(static_cast<int64_t>(filter.limit)));
      });
}

util::Status PostgresStore::UpdateIntentState(const IntentId& id, IntentState from, IntentState to,
                                              std::string_view detail, uint64_t now) {
  util::Status storable = CheckStorable(now, IntentName(id) + ": now");
  if (!storable.ok()) return storable;
  return RunTransaction(*pool_, TxMode::kReadWrite, options_.attempts, [&](Tx& tx) -> util::Status {
    // The conditional UPDATE is the compare-and-set: it waits for a concurrent change of the
    // row and re-checks `state = $2` against the committed result.
    util::Result<PgResult> moved = tx.Exec(
        "UPDATE intents SET state = $3, detail = $4, updated_at = $5, revision = revision + 1 "
        "WHERE id = $1 AND state = $2 RETURNING id",
        Params()
            .Bytes(id)
            .Text(IntentStateName(from))
            .Text(IntentStateName(to))
            .Text(detail)
            .Unsigned(now));
    if (!moved.ok()) return moved.status();
    if (PQntuples(moved->get()) == 1) return util::OkStatus();
    util::Result<PgResult> found =
        tx.Exec("SELECT state FROM intents WHERE id = $1", Params().Bytes(id));
    if (!found.ok()) return found.status();
    if (PQntuples(found->get()) == 0) return util::NotFoundError(IntentName(id) + " not found");
    return util::AbortedError(IntentName(id) + ": not " + std::string(IntentStateName(from)));
  });
}

util::Result<std::vector<std::pair<IntentState, uint64_t>>> PostgresStore::CountIntents() {
  return RunTransaction(
      *pool_, TxMode::kReadOnly, options_.attempts,
      [&](Tx& tx) -> util::Result<std::vector<std::pair<IntentState, uint64_t>>> {
        util::Result<PgResult> rows =
            tx.Exec("SELECT state, count(*) AS n FROM intents GROUP BY state");
        if (!rows.ok()) return rows.status();
        std::map<IntentState, uint64_t> counts;
        for (int i = 0; i < PQntuples(rows->get()); ++i) {
          RowReader row(rows->get(), i, "intents state count");
          std::optional<IntentState> state = ParseIntentState(row.Text("state"));
          if (!state.has_value()) row.Fail("state", "unknown state");
          uint64_t n = row.Unsigned("n");
          if (!row.status().ok()) return row.status();
          counts[*state] = n;
        }
        std::vector<std::pair<IntentState, uint64_t>> out;
        for (IntentState state :
             {IntentState::kReceived, IntentState::kAwaitingApprovals, IntentState::kApproved,
              IntentState::kBuilding, IntentState::kSigning, IntentState::kSigned,
              IntentState::kBroadcast, IntentState::kConfirmed, IntentState::kRefused,
              IntentState::kExpired}) {
          out.emplace_back(state, counts[state]);
        }
        return out;
      });
}

// --- Approvals ---

util::Result<bool> PostgresStore::InsertApproval(const ApprovalRecord& record) {
  util::Status storable = CheckStorable(record.received_at, "approval: received_at");
  if (!storable.ok()) return storable;
  return RunTransaction(
      *pool_, TxMode::kReadWrite, options_.attempts, [&](Tx& tx) -> util::Result<bool> {
        // The intent row is only read: intents are never deleted, so it cannot vanish before the
        // insert (whose foreign key would refuse it anyway).
        util::Result<PgResult> intent =
            tx.Exec("SELECT 1 FROM intents WHERE id = $1", Params().Bytes(record.intent_id));
        if (!intent.ok()) return intent.status();
        if (PQntuples(intent->get()) == 0) {
          return util::NotFoundError(IntentName(record.intent_id) + " not found");
        }
        util::Result<PgResult> inserted = tx.Exec(
            "INSERT INTO approvals (intent_id, approver, signed_approval, received_at) "
            "VALUES ($1, $2, $3, $4) ON CONFLICT (intent_id, approver) DO NOTHING RETURNING seq",
            Params()
                .Bytes(record.intent_id)
                .Bytes(record.approver)
                .Bytes(record.signed_approval)
                .Unsigned(record.received_at));
        if (!inserted.ok()) return inserted.status();
        if (PQntuples(inserted->get()) == 1) return true;
        util::Result<PgResult> existing =
            tx.Exec("SELECT signed_approval FROM approvals WHERE intent_id = $1 AND approver = $2",
                    Params().Bytes(record.intent_id).Bytes(record.approver));
        if (!existing.ok()) return existing.status();
        if (PQntuples(existing->get()) != 1) {
          return util::InternalError("postgres: approval of " + IntentName(record.intent_id) +
                                     ": vanished");
        }
        RowReader row(existing->get(), 0, "approvals");
        std::vector<uint8_t> stored = row.Bytes("signed_approval");
        if (!row.status().ok()) return row.status();
        if (stored != record.signed_approval) {
          return util::AlreadyExistsError(IntentName(record.intent_id) + ": approver " +
                                          util::HexEncode(record.approver) + " decided already");
        }
        return false;
      });
}

util::Result<std::vector<ApprovalRecord>> PostgresStore::ListApprovals(const IntentId& intent) {
  return RunTransaction(
      *pool_, TxMode::kReadOnly, options_.attempts,
      [&](Tx& tx) -> util::Result<std::vector<ApprovalRecord>> {
        util::Result<PgResult> rows = tx.Exec(
            "SELECT intent_id, approver, signed_approval, received_at FROM approvals "
            "WHERE intent_id = $1 ORDER BY seq",
            Params().Bytes(intent));
        if (!rows.ok()) return rows.status();
        std::vector<ApprovalRecord> out;
        for (int i = 0; i < PQntuples(rows->get()); ++i) {
          RowReader row(rows->get(), i, "approvals row " + std::to_string(i));
          ApprovalRecord record;
          record.intent_id = row.Array<16>("intent_id");
          record.approver = row.Array<32>("approver");
          record.signed_approval = row.Bytes("signed_approval");
          record.received_at = row.Unsigned("received_at");
          if (!row.status().ok()) return row.status();
          out.push_back(std::move(record));
        }
        return out;
      });
}

// --- Coins and transactions ---

util::Status PostgresStore::AddUtxos(std::span<const Utxo> utxos) {
  for (const Utxo& utxo : utxos) {
    if (utxo.wallet.empty()) {
      return util::InvalidArgumentError(CoinName(utxo.outpoint) + ": empty wallet");
    }
    if (utxo.sats <= 0) {
      return util::InvalidArgumentError(CoinName(utxo.outpoint) + ": amount not positive");
    }
  }
  // In outpoint order, the order every transaction locks coins in.
  std::vector<const Utxo*> sorted;
  for (const Utxo& utxo : utxos) sorted.push_back(&utxo);
  std::sort(sorted.begin(), sorted.end(),
            [](const Utxo* a, const Utxo* b) { return a->outpoint < b->outpoint; });
  return RunTransaction(*pool_, TxMode::kReadWrite, options_.attempts, [&](Tx& tx) -> util::Status {
    for (const Utxo* coin : sorted) {
      const Utxo& utxo = *coin;
      std::optional<int64_t> height;
      if (utxo.height.has_value()) height = *utxo.height;
      util::Result<PgResult> added = tx.Exec(
          "INSERT INTO utxos (txid, vout, wallet, sats, script_pubkey, change, "
          "derivation_index, height, state, batch_id) "
          "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) "
          "ON CONFLICT (txid, vout) DO NOTHING RETURNING vout",
          Params()
              .Bytes(utxo.outpoint.txid.span())
              .Int(utxo.outpoint.index)
              .Text(utxo.wallet)
              .Int(utxo.sats)
              .Bytes(utxo.script_pubkey)
              .Bool(utxo.change)
              .Int(utxo.index)
              .OptionalInt(height)
              .Text(UtxoStateName(utxo.state))
              .OptionalInt(utxo.batch_id));
      if (!added.ok()) return added.status();
      if (PQntuples(added->get()) == 1) continue;
      // Stored already: it keeps its state and batch and takes the new height, unless the
      // outpoint is claimed with other content.
      util::Result<PgResult> stored = tx.Exec(
          "SELECT wallet, sats, script_pubkey FROM utxos WHERE txid = $1 AND vout = $2 "
          "FOR UPDATE",
          Params().Bytes(utxo.outpoint.txid.span()).Int(utxo.outpoint.index));
      if (!stored.ok()) return stored.status();
      if (PQntuples(stored->get()) != 1) {
        return util::InternalError("postgres: " + CoinName(utxo.outpoint) + ": vanished");
      }
      RowReader row(stored->get(), 0, CoinName(utxo.outpoint));
      const bool same = row.Text("wallet") == utxo.wallet && row.Int("sats") == utxo.sats &&
                        row.Bytes("script_pubkey") == utxo.script_pubkey;
      if (!row.status().ok()) return row.status();
      if (!same) {
        return util::AlreadyExistsError(CoinName(utxo.outpoint) +
                                        ": stored with another wallet, amount or script");
      }
      util::Result<PgResult> updated = tx.Exec(
          "UPDATE utxos SET height = $3 WHERE txid = $1 AND vout = $2",
          Params().Bytes(utxo.outpoint.txid.span()).Int(utxo.outpoint.index).OptionalInt(height));
      if (!updated.ok()) return updated.status();
    }
    return util::OkStatus();
  });
}

util::Status PostgresStore::RetainUtxos(std::string_view wallet,
                                        std::span<const btc::Outpoint> unspent) {
  const std::set<btc::Outpoint> keep(unspent.begin(), unspent.end());
  return RunTransaction(*pool_, TxMode::kReadWrite, options_.attempts, [&](Tx& tx) -> util::Status {
    // Locked in outpoint order, the order CreateBatch locks coins in.
    util::Result<PgResult> rows = tx.Exec(
        "SELECT txid, vout FROM utxos WHERE wallet = $1 AND state = 'available' "
        "ORDER BY txid, vout FOR UPDATE",
        Params().Text(wallet));
    if (!rows.ok()) return rows.status();
    for (int i = 0; i < PQntuples(rows->get()); ++i) {
      RowReader row(rows->get(), i, "utxos row " + std::to_string(i));
      btc::Outpoint outpoint{.txid = row.Txid("txid"), .index = row.Uint32("vout")};
      if (!row.status().ok()) return row.status();
      if (keep.contains(outpoint)) continue;
      util::Result<PgResult> spent =
          tx.Exec("UPDATE utxos SET state = 'spent' WHERE txid = $1 AND vout = $2",
                  Params().Bytes(outpoint.txid.span()).Int(outpoint.index));
      if (!spent.ok()) return spent.status();
    }
    return util::OkStatus();
  });
}

util::Result<std::vector<Utxo>> PostgresStore::ListUtxos(std::string_view wallet,
                                                         std::optional<UtxoState> state) {
  std::optional<std::string> state_name;
  if (state.has_value()) state_name = std::string(UtxoStateName(*state));
  return RunTransaction(
      *pool_, TxMode::kReadOnly, options_.attempts, [&](Tx& tx) -> util::Result<std::vector<Utxo>> {
        util::Result<PgResult> rows = tx.Exec(
            "SELECT txid, vout, wallet, sats, script_pubkey, change, derivation_index, height, "
            "state, batch_id FROM utxos WHERE wallet = $1 AND ($2::TEXT IS NULL OR state = $2) "
            "ORDER BY txid, vout",  // bytea compares bytewise: btc::Outpoint's order.
            Params().Text(wallet).OptionalText(state_name));
        if (!rows.ok()) return rows.status();
        std::vector<Utxo> out;
        for (int i = 0; i < PQntuples(rows->get()); ++i) {
          util::Result<Utxo> utxo = ReadUtxo(rows->get(), i);
          if (!utxo.ok()) return utxo.status();
          out.push_back(std::move(utxo).value());
        }
        return out;
      });
}

util::Status PostgresStore::PutTransaction(const btc::Txid& txid, std::span<const uint8_t> raw) {
  return RunTransaction(*pool_, TxMode::kReadWrite, options_.attempts, [&](Tx& tx) -> util::Status {
    return tx
        .Exec("INSERT INTO transactions (txid, raw) VALUES ($1, $2) ON CONFLICT (txid) DO NOTHING",
              Params().Bytes(txid.span()).Bytes(raw))
        .status();
  });
}

util::Result<std::vector<uint8_t>> PostgresStore::GetTransaction(const btc::Txid& txid) {
  return RunTransaction(
      *pool_, TxMode::kReadOnly, options_.attempts,
      [&](Tx& tx) -> util::Result<std::vector<uint8_t>> {
        util::Result<PgResult> rows =
            tx.Exec("SELECT raw FROM transactions WHERE txid = $1", Params().Bytes(txid.span()));
        if (!rows.ok()) return rows.status();
        if (PQntuples(rows->get()) == 0) {
          return util::NotFoundError("transaction " + btc::TxidToHex(txid) + " not cached");
        }
        RowReader row(rows->get(), 0, "transactions");
        std::vector<uint8_t> raw = row.Bytes("raw");
        if (!row.status().ok()) return row.status();
        return raw;
      });
}

// --- Batches ---

util::Result<BatchRecord> PostgresStore::CreateBatch(const NewBatch& batch) {
  if (batch.wallet.empty()) return util::InvalidArgumentError("new batch: empty wallet");
  if (batch.intents.empty()) return util::InvalidArgumentError("new batch: no intents");
  if (batch.inputs.empty()) return util::InvalidArgumentError("new batch: no inputs");
  // Sorted copies: the order rows are locked in (store header), and duplicates side by side.
  std::vector<IntentId> intents = batch.intents;
  std::sort(intents.begin(), intents.end());
  if (std::adjacent_find(intents.begin(), intents.end()) != intents.end()) {
    return util::InvalidArgumentError("new batch: duplicate intent");
  }
  std::vector<btc::Outpoint> inputs = batch.inputs;
  std::sort(inputs.begin(), inputs.end());
  if (std::adjacent_find(inputs.begin(), inputs.end()) != inputs.end()) {
    return util::InvalidArgumentError("new batch: duplicate input");
  }
  if (batch.fee_sats < 0) return util::InvalidArgumentError("new batch: negative fee");
  util::Status storable = CheckStorable(batch.fee_rate_sat_per_kvb, "new batch: fee rate");
  if (!storable.ok()) return storable;
  util::Result<uint64_t> lease_until = LeaseEnd(batch.now, batch.lease_seconds);
  if (!lease_until.ok()) return lease_until.status();
  // The lists travel as text parameters in the batch's order; the statements split them.
  const std::string intent_list = IntentList(batch.intents);
  const std::string input_list = OutpointList(batch.inputs);

  return RunTransaction(
      *pool_, TxMode::kReadWrite, options_.attempts, [&](Tx& tx) -> util::Result<BatchRecord> {
        // Lock every intent and coin first (FOR UPDATE, sorted: rows are locked in the order
        // the sort returns them), then check: a concurrent CreateBatch waits here and then sees
        // the rows as this one commits them.
        util::Result<PgResult> intent_rows = tx.Exec(
            "SELECT id, wallet, state FROM intents "
            "WHERE id IN (SELECT decode(h, 'hex') FROM unnest(string_to_array($1, ',')) AS h) "
            "ORDER BY id FOR UPDATE",
            Params().Text(intent_list));
        if (!intent_rows.ok()) return intent_rows.status();
        std::map<IntentId, std::pair<std::string, std::optional<IntentState>>> found_intents;
        for (int i = 0; i < PQntuples(intent_rows->get()); ++i) {
          RowReader row(intent_rows->get(), i, "intents row " + std::to_string(i));
          IntentId id = row.Array<16>("id");
          std::string wallet = row.Text("wallet");
          std::optional<IntentState> state = ParseIntentState(row.Text("state"));
          if (!state.has_value()) row.Fail("state", "unknown state");
          if (!row.status().ok()) return row.status();
          found_intents[id] = {std::move(wallet), state};
        }
        for (const IntentId& id : intents) {
          auto found = found_intents.find(id);
          if (found == found_intents.end()) {
            return util::NotFoundError(IntentName(id) + " not found");
          }
          const auto& [wallet, state] = found->second;
          if (wallet != batch.wallet) {
            return util::InvalidArgumentError(IntentName(id) + ": of wallet '" + wallet + "'");
          }
          if (*state != IntentState::kApproved) {
            return util::AbortedError(IntentName(id) + ": " + std::string(IntentStateName(*state)) +
                                      ", not approved");
          }
        }
        util::Result<PgResult> coin_rows = tx.Exec(
            "SELECT txid, vout, wallet, state FROM utxos WHERE (txid, vout) IN "
            "(SELECT decode(split_part(p, ':', 1), 'hex'), split_part(p, ':', 2)::BIGINT "
            "FROM unnest(string_to_array($1, ',')) AS p) "
            "ORDER BY txid, vout FOR UPDATE",
            Params().Text(input_list));
        if (!coin_rows.ok()) return coin_rows.status();
        std::map<btc::Outpoint, std::pair<std::string, std::optional<UtxoState>>> found_coins;
        for (int i = 0; i < PQntuples(coin_rows->get()); ++i) {
          RowReader row(coin_rows->get(), i, "utxos row " + std::to_string(i));
          btc::Outpoint outpoint{.txid = row.Txid("txid"), .index = row.Uint32("vout")};
          std::string wallet = row.Text("wallet");
          std::optional<UtxoState> state = ParseUtxoState(row.Text("state"));
          if (!state.has_value()) row.Fail("state", "unknown state");
          if (!row.status().ok()) return row.status();
          found_coins[outpoint] = {std::move(wallet), state};
        }
        for (const btc::Outpoint& outpoint : inputs) {
          auto found = found_coins.find(outpoint);
          if (found == found_coins.end()) {
            return util::NotFoundError(CoinName(outpoint) + " not found");
          }
          const auto& [wallet, state] = found->second;
          if (wallet != batch.wallet) {
            return util::InvalidArgumentError(CoinName(outpoint) + ": of wallet '" + wallet + "'");
          }
          if (*state != UtxoState::kAvailable) {
            return util::AbortedError(CoinName(outpoint) + ": " +
                                      std::string(UtxoStateName(*state)) + ", not available");
          }
        }
        std::optional<int64_t> change_index;
        if (batch.has_change) {
          util::Result<uint32_t> allocated = AllocateChangeIndex(tx, batch.wallet);
          if (!allocated.ok()) return allocated.status();
          change_index = *allocated;
        }
        util::Result<PgResult> created = tx.Exec(
            "INSERT INTO batches (wallet, state, change_index, psbt, final_tx, txid, fee_sats, "
            "fee_rate_sat_per_kvb, detail, owner, lease_until, confirmed_height, created_at, "
            "updated_at, revision) "
            "VALUES ($1, 'building', $2, $3, '', $4, $5, $6, '{}', $7, $8, NULL, $9, $9, 1) "
            "RETURNING id",
            Params()
                .Text(batch.wallet)
                .OptionalInt(change_index)
                .Bytes(batch.psbt)
                .OptionalTxid(batch.txid)
                .Int(batch.fee_sats)
                .Unsigned(batch.fee_rate_sat_per_kvb)
                .Text(batch.owner)
                .Unsigned(*lease_until)
                .Unsigned(batch.now));
        if (!created.ok()) return created.status();
        RowReader created_row(created->get(), 0, "batches");
        const int64_t id = created_row.Int("id");
        if (!created_row.status().ok()) return created_row.status();

        // The batch's intents and inputs in its order (WITH ORDINALITY: the position in the
        // list), then the rows moved.
        util::Result<PgResult> linked_intents = tx.Exec(
            "INSERT INTO batch_intents (batch_id, seq, intent_id) "
            "SELECT $1, t.n - 1, decode(t.h, 'hex') "
            "FROM unnest(string_to_array($2, ',')) WITH ORDINALITY AS t(h, n)",
            Params().Int(id).Text(intent_list));
        if (!linked_intents.ok()) return linked_intents.status();
        util::Result<PgResult> moved = tx.Exec(
            "UPDATE intents SET state = 'building', batch_id = $1, updated_at = $2, "
            "revision = revision + 1 "
            "WHERE id IN (SELECT decode(h, 'hex') FROM unnest(string_to_array($3, ',')) AS h)",
            Params().Int(id).Unsigned(batch.now).Text(intent_list));
        if (!moved.ok()) return moved.status();
        util::Result<PgResult> linked_inputs = tx.Exec(
            "INSERT INTO batch_inputs (batch_id, seq, txid, vout) "
            "SELECT $1, t.n - 1, decode(split_part(t.p, ':', 1), 'hex'), "
            "split_part(t.p, ':', 2)::BIGINT "
            "FROM unnest(string_to_array($2, ',')) WITH ORDINALITY AS t(p, n)",
            Params().Int(id).Text(input_list));
        if (!linked_inputs.ok()) return linked_inputs.status();
        util::Result<PgResult> reserved = tx.Exec(
            "UPDATE utxos SET state = 'reserved', batch_id = $1 WHERE (txid, vout) IN "
            "(SELECT decode(split_part(p, ':', 1), 'hex'), split_part(p, ':', 2)::BIGINT "
            "FROM unnest(string_to_array($2, ',')) AS p)",
            Params().Int(id).Text(input_list));
        if (!reserved.ok()) return reserved.status();
        return LoadBatch(tx, id);
      });
}

util::Result<BatchRecord> PostgresStore::GetBatch(int64_t id) {
  return RunTransaction(*pool_, TxMode::kReadOnly, options_.attempts,
                        [&](Tx& tx) { return LoadBatch(tx, id); });
}

util::Result<std::vector<BatchRecord>> PostgresStore::ListBatches(const BatchFilter& filter) {
  if (filter.limit < 1 || filter.limit > kMaxListLimit) {
    return util::InvalidArgumentError("batch filter: limit: must be 1 to 1000");
  }
  std::optional<std::string> states = StateList(filter.states, BatchStateName);
  return RunTransaction(*pool_, TxMode::kReadOnly, options_.attempts, [&](Tx& tx) {
    return ReadBatches(tx,
                       "SELECT id, wallet, state, change_index, psbt, final_tx, txid, fee_sats, "
                       "fee_rate_sat_per_kvb, detail, owner, lease_until, confirmed_height, "
                       "created_at, updated_at, revision FROM batches "
                       "WHERE ($1::TEXT IS NULL OR wallet = $1) "
                       "AND ($2::TEXT IS NULL OR state = ANY(string_to_array($2, ','))) "
                       "ORDER BY id DESC LIMIT $3",
                       Params()
                           .OptionalText(filter.wallet)
                           .OptionalText(states)
                           .Int(static_cast<int64_t>(filter.limit)));
  });
}

util::Result<BatchRecord> PostgresStore::UpdateBatch(const BatchUpdate& update) {
  const std::string name = "batch " + std::to_string(update.id);
  if (!IsBatchMove(update.from, update.to)) {
    return util::InvalidArgumentError(name + ": no move from " +
                                      std::string(BatchStateName(update.from)) + " to " +
                                      std::string(BatchStateName(update.to)));
  }
  if (update.to == BatchState::kFailed && update.intents_on_failure != IntentState::kApproved &&
      update.intents_on_failure != IntentState::kRefused) {
    return util::InvalidArgumentError(name + ": intents_on_failure: must be approved or refused");
  }
  util::Result<uint64_t> lease_until = LeaseEnd(update.now, update.lease_seconds);
  if (!lease_until.ok()) return lease_until.status();
  const IntentState intent_state =
      update.to == BatchState::kFailed ? update.intents_on_failure : IntentStateOf(update.to);
  std::optional<int64_t> confirmed_height;
  if (update.confirmed_height.has_value()) confirmed_height = *update.confirmed_height;

  return RunTransaction(
      *pool_, TxMode::kReadWrite, options_.attempts, [&](Tx& tx) -> util::Result<BatchRecord> {
        // The batch row's lock serialises every change of the batch (compare-and-set on state
        // and owner).
        util::Result<PgResult> rows = tx.Exec(
            "SELECT state, owner FROM batches WHERE id = $1 FOR UPDATE", Params().Int(update.id));
        if (!rows.ok()) return rows.status();
        if (PQntuples(rows->get()) == 0) return util::NotFoundError(name + " not found");
        RowReader row(rows->get(), 0, name);
        std::optional<BatchState> state = ParseBatchState(row.Text("state"));
        if (!state.has_value()) row.Fail("state", "unknown state");
        std::string owner = row.Text("owner");
        if (!row.status().ok()) return row.status();
        if (*state != update.from) {
          return util::AbortedError(name + ": " + std::string(BatchStateName(*state)) + ", not " +
                                    std::string(BatchStateName(update.from)));
        }
        if (!update.owner.empty() && owner != update.owner) {
          return util::AbortedError(name + ": owned by another instance");
        }
        util::Result<PgResult> updated = tx.Exec(
            "UPDATE batches SET state = $2, psbt = COALESCE($3, psbt), "
            "final_tx = COALESCE($4, final_tx), txid = COALESCE($5, txid), "
            "detail = COALESCE($6, detail), confirmed_height = COALESCE($7, confirmed_height), "
            "lease_until = $8, updated_at = $9, revision = revision + 1 WHERE id = $1",
            Params()
                .Int(update.id)
                .Text(BatchStateName(update.to))
                .OptionalBytes(update.psbt)
                .OptionalBytes(update.final_tx)
                .OptionalTxid(update.txid)
                .OptionalText(update.detail)
                .OptionalInt(confirmed_height)
                .Unsigned(*lease_until)
                .Unsigned(update.now));
        if (!updated.ok()) return updated.status();

        if (update.from != update.to || update.intent_detail.has_value()) {
          // Intents locked in id order (the order CreateBatch locks them in), then moved. Intents
          // sent back to approved leave the batch so that a new batch may take them.
          util::Result<PgResult> locked =
              tx.Exec("SELECT id FROM intents WHERE batch_id = $1 ORDER BY id FOR UPDATE",
                      Params().Int(update.id));
          if (!locked.ok()) return locked.status();
          util::Result<PgResult> moved = tx.Exec(
              "UPDATE intents SET state = $2, detail = COALESCE($3, detail), "
              "batch_id = CASE WHEN $4 THEN NULL ELSE batch_id END, updated_at = $5, "
              "revision = revision + 1 WHERE batch_id = $1",
              Params()
                  .Int(update.id)
                  .Text(IntentStateName(intent_state))
                  .OptionalText(update.intent_detail)
                  .Bool(intent_state == IntentState::kApproved)
                  .Unsigned(update.now));
          if (!moved.ok()) return moved.status();
        }
        if (update.to == BatchState::kFailed || update.to == BatchState::kConfirmed) {
          util::Result<PgResult> locked = tx.Exec(
              "SELECT txid FROM utxos WHERE batch_id = $1 AND state = 'reserved' "
              "ORDER BY txid, vout FOR UPDATE",
              Params().Int(update.id));
          if (!locked.ok()) return locked.status();
          util::Result<PgResult> coins =
              update.to == BatchState::kFailed
                  ? tx.Exec(
                        "UPDATE utxos SET state = 'available', batch_id = NULL "
                        "WHERE batch_id = $1 AND state = 'reserved'",
                        Params().Int(update.id))
                  : tx.Exec(
                        "UPDATE utxos SET state = 'spent' "
                        "WHERE batch_id = $1 AND state = 'reserved'",
                        Params().Int(update.id));
          if (!coins.ok()) return coins.status();
        }
        return LoadBatch(tx, update.id);
      });
}

util::Result<BatchRecord> PostgresStore::ClaimBatch(int64_t id, std::string_view owner,
                                                    uint64_t now, uint64_t lease_seconds) {
  const std::string name = "batch " + std::to_string(id);
  util::Result<uint64_t> lease_until = LeaseEnd(now, lease_seconds);
  if (!lease_until.ok()) return lease_until.status();
  return RunTransaction(
      *pool_, TxMode::kReadWrite, options_.attempts, [&](Tx& tx) -> util::Result<BatchRecord> {
        util::Result<PgResult> rows =
            tx.Exec("SELECT state, owner, lease_until FROM batches WHERE id = $1 FOR UPDATE",
                    Params().Int(id));
        if (!rows.ok()) return rows.status();
        if (PQntuples(rows->get()) == 0) return util::NotFoundError(name + " not found");
        RowReader row(rows->get(), 0, name);
        std::optional<BatchState> state = ParseBatchState(row.Text("state"));
        if (!state.has_value()) row.Fail("state", "unknown state");
        std::string current_owner = row.Text("owner");
        uint64_t current_lease = row.Unsigned("lease_until");
        if (!row.status().ok()) return row.status();
        if (IsFinalBatch(*state)) {
          return util::AbortedError(name + ": " + std::string(BatchStateName(*state)));
        }
        if (current_owner != owner && now < current_lease) {
          return util::AbortedError(name + ": leased by another instance");
        }
        util::Result<PgResult> claimed = tx.Exec(
            "UPDATE batches SET owner = $2, lease_until = $3, updated_at = $4, "
            "revision = revision + 1 WHERE id = $1",
            Params().Int(id).Text(owner).Unsigned(*lease_until).Unsigned(now));
        if (!claimed.ok()) return claimed.status();
        return LoadBatch(tx, id);
      });
}

// --- Signer heads ---

util::Status PostgresStore::PutSignerHead(const SignerHead& head) {
  util::Status storable = CheckStorable(head.tree_size, "signer head: tree_size");
  if (!storable.ok()) return storable;
  storable = CheckStorable(head.seen_at, "signer head: seen_at");
  if (!storable.ok()) return storable;
  return RunTransaction(*pool_, TxMode::kReadWrite, options_.attempts, [&](Tx& tx) -> util::Status {
    return tx
        .Exec(
            "INSERT INTO signer_heads (signer, tree_size, root_hash, signed_tree_head, seen_at) "
            "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (signer) DO UPDATE SET "
            "tree_size = EXCLUDED.tree_size, root_hash = EXCLUDED.root_hash, "
            "signed_tree_head = EXCLUDED.signed_tree_head, seen_at = EXCLUDED.seen_at",
            Params()
                .Bytes(head.signer)
                .Unsigned(head.tree_size)
                .Bytes(head.root_hash)
                .Bytes(head.signed_tree_head)
                .Unsigned(head.seen_at))
        .status();
  });
}

util::Result<std::optional<SignerHead>> PostgresStore::GetSignerHead(const KeyId& signer) {
  return RunTransaction(
      *pool_, TxMode::kReadOnly, options_.attempts,
      [&](Tx& tx) -> util::Result<std::optional<SignerHead>> {
        util::Result<PgResult> rows = tx.Exec(
            "SELECT signer, tree_size, root_hash, signed_tree_head, seen_at FROM signer_heads "
            "WHERE signer = $1",
            Params().Bytes(signer));
        if (!rows.ok()) return rows.status();
        if (PQntuples(rows->get()) == 0) return std::optional<SignerHead>();
        RowReader row(rows->get(), 0, "signer_heads");
        SignerHead head;
        head.signer = row.Array<32>("signer");
        head.tree_size = row.Unsigned("tree_size");
        head.root_hash = row.Array<32>("root_hash");
        head.signed_tree_head = row.Bytes("signed_tree_head");
        head.seen_at = row.Unsigned("seen_at");
        if (!row.status().ok()) return row.status();
        return std::optional<SignerHead>(std::move(head));
      });
}

}  // namespace kinko::storage
