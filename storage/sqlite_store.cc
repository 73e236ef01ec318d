#include "storage/sqlite_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iterator>
#include <limits>
#include <map>
#include <set>
#include <utility>

#include "storage/internal/sqlite.h"
#include "util/check.h"
#include "util/hex.h"

namespace kinko::storage {
namespace {

using internal::Exec;
using internal::FirstFailure;
using internal::RowReader;
using internal::SqliteError;
using internal::Statement;
using internal::Transaction;
using internal::Where;

// Schema version 1 (doc/coordinator-storage.md describes every column). DO NOT CHANGE: add a
// migration instead.
//
// Integers are SQLite's signed 64-bit: a uint64_t (times, revisions) is stored as the int64_t
// with the same bits. States are stored by name (IntentStateName, UtxoStateName,
// BatchStateName). The lists of a record (an intent's outputs, a batch's intents and inputs)
// are rows numbered by `position` from 0.
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE intents (
  id BLOB PRIMARY KEY NOT NULL CHECK (length(id) = 16),
  wallet TEXT NOT NULL CHECK (wallet <> ''),
  state TEXT NOT NULL CHECK (state IN ('received', 'awaiting_approvals', 'approved', 'building',
    'signing', 'signed', 'broadcast', 'confirmed', 'refused', 'expired')),
  signed_intent BLOB NOT NULL,
  requester BLOB NOT NULL CHECK (length(requester) = 32),
  external_ref TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  received_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  batch_id INTEGER REFERENCES batches (id),
  detail TEXT NOT NULL,
  revision INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX intents_by_received ON intents (received_at, id);
CREATE INDEX intents_by_wallet ON intents (wallet, received_at, id);
CREATE INDEX intents_by_state ON intents (state, received_at, id);
CREATE INDEX intents_by_batch ON intents (batch_id);

CREATE TABLE intent_outputs (
  intent_id BLOB NOT NULL REFERENCES intents (id),
  position INTEGER NOT NULL CHECK (position >= 0),
  address TEXT NOT NULL,
  sats INTEGER NOT NULL CHECK (sats > 0),
  PRIMARY KEY (intent_id, position)
) STRICT, WITHOUT ROWID;

CREATE TABLE approvals (
  seq INTEGER PRIMARY KEY,
  intent_id BLOB NOT NULL REFERENCES intents (id),
  approver BLOB NOT NULL CHECK (length(approver) = 32),
  signed_approval BLOB NOT NULL,
  received_at INTEGER NOT NULL,
  UNIQUE (intent_id, approver)
) STRICT;

CREATE TABLE utxos (
  txid BLOB NOT NULL CHECK (length(txid) = 32),
  vout INTEGER NOT NULL CHECK (vout BETWEEN 0 AND 4294967295),
  wallet TEXT NOT NULL CHECK (wallet <> ''),
  sats INTEGER NOT NULL CHECK (sats > 0),
  script_pubkey BLOB NOT NULL,
  is_change INTEGER NOT NULL CHECK (is_change IN (0, 1)),
  branch_index INTEGER NOT NULL CHECK (branch_index BETWEEN 0 AND 4294967295),
  height INTEGER CHECK (height BETWEEN 0 AND 4294967295),
  state TEXT NOT NULL CHECK (state IN ('available', 'reserved', 'spent')),
  batch_id INTEGER REFERENCES batches (id),
  PRIMARY KEY (txid, vout)
) STRICT, WITHOUT ROWID;
CREATE INDEX utxos_by_wallet ON utxos (wallet, state);
CREATE INDEX utxos_by_batch ON utxos (batch_id);

CREATE TABLE transactions (
  txid BLOB PRIMARY KEY NOT NULL CHECK (length(txid) = 32),
  raw BLOB NOT NULL
) STRICT, WITHOUT ROWID;

-- AUTOINCREMENT: a batch id is never handed out twice.
CREATE TABLE batches (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  wallet TEXT NOT NULL CHECK (wallet <> ''),
  state TEXT NOT NULL CHECK (state IN ('building', 'signing', 'signed', 'broadcast',
    'confirmed', 'failed')),
  change_index INTEGER CHECK (change_index BETWEEN 0 AND 2147483647),
  psbt BLOB NOT NULL,
  final_tx BLOB NOT NULL,
  txid BLOB CHECK (length(txid) = 32),
  fee_sats INTEGER NOT NULL,
  fee_rate_sat_per_kvb INTEGER NOT NULL,
  detail TEXT NOT NULL,
  owner TEXT NOT NULL,
  lease_until INTEGER NOT NULL,
  confirmed_height INTEGER CHECK (confirmed_height BETWEEN 0 AND 4294967295),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  revision INTEGER NOT NULL
) STRICT;
CREATE INDEX batches_by_wallet ON batches (wallet, id);

CREATE TABLE batch_intents (
  batch_id INTEGER NOT NULL REFERENCES batches (id),
  position INTEGER NOT NULL CHECK (position >= 0),
  intent_id BLOB NOT NULL REFERENCES intents (id),
  PRIMARY KEY (batch_id, position)
) STRICT, WITHOUT ROWID;

CREATE TABLE batch_inputs (
  batch_id INTEGER NOT NULL REFERENCES batches (id),
  position INTEGER NOT NULL CHECK (position >= 0),
  txid BLOB NOT NULL,
  vout INTEGER NOT NULL,
  PRIMARY KEY (batch_id, position),
  FOREIGN KEY (txid, vout) REFERENCES utxos (txid, vout)
) STRICT, WITHOUT ROWID;

-- The next change index of each wallet that has had one allocated.
CREATE TABLE change_indexes (
  wallet TEXT PRIMARY KEY NOT NULL,
  next_index INTEGER NOT NULL CHECK (next_index BETWEEN 0 AND 2147483648)
) STRICT, WITHOUT ROWID;

CREATE TABLE signer_heads (
  signer BLOB PRIMARY KEY NOT NULL CHECK (length(signer) = 32),
  tree_size INTEGER NOT NULL,
  root_hash BLOB NOT NULL CHECK (length(root_hash) = 32),
  signed_tree_head BLOB NOT NULL,
  seen_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

PRAGMA application_id = 1802398563;
PRAGMA user_version = 1;
)sql";

// kMigrations[v] takes a database from schema version v to v + 1, setting user_version.
constexpr const char* kMigrations[] = {kSchemaV1};
static_assert(std::size(kMigrations) == kSchemaVersion);
static_assert(kSqliteApplicationId == 1802398563);  // The value kSchemaV1 writes.

// A change index is a non-hardened BIP 32 child index.
constexpr uint32_t kChangeIndexLimit = 0x80000000;

constexpr size_t kMaxOutputs = 256;
constexpr size_t kMaxListLimit = 1000;

std::string IntentLabel(const IntentId& id) { return "intent " + util::HexEncode(id); }

std::string CoinLabel(const btc::Outpoint& outpoint) {
  return "coin " + btc::TxidToHex(outpoint.txid) + ":" + std::to_string(outpoint.index);
}

std::string BatchLabel(int64_t id) { return "batch " + std::to_string(id); }

// A stored text for a message: printable ASCII only, at most 64 characters.
std::string Quote(std::string_view text) {
  std::string out = "'";
  for (char c : text.substr(0, 64)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  return out + (text.size() > 64 ? "...'" : "'");
}

// The JSON array of `names`, bound to `state IN (SELECT value FROM json_each(?))`; the names are
// the state names of store.h, which need no escaping.
template <typename State, typename NameOf>
std::optional<std::string> StateList(const std::vector<State>& states, NameOf name_of) {
  if (states.empty()) return std::nullopt;
  std::string out = "[";
  for (size_t i = 0; i < states.size(); ++i) {
    if (i > 0) out += ",";
    out += "\"" + std::string(name_of(states[i])) + "\"";
  }
  return out + "]";
}

util::Status BindOptionalText(Statement& statement, int index,
                              const std::optional<std::string>& value) {
  return value ? statement.BindText(index, *value) : statement.BindNull(index);
}

util::Status BindOptionalInt64(Statement& statement, int index, std::optional<int64_t> value) {
  return value ? statement.BindInt64(index, *value) : statement.BindNull(index);
}

util::Status BindOptionalUint32(Statement& statement, int index, std::optional<uint32_t> value) {
  return value ? statement.BindInt64(index, *value) : statement.BindNull(index);
}

util::Status BindOptionalBlob(Statement& statement, int index,
                              const std::optional<std::vector<uint8_t>>& value) {
  return value ? statement.BindBlob(index, *value) : statement.BindNull(index);
}

util::Status BindOptionalTxid(Statement& statement, int index,
                              const std::optional<btc::Txid>& value) {
  return value ? statement.BindBlob(index, value->span()) : statement.BindNull(index);
}

IntentState ReadIntentState(RowReader& read, int column) {
  const std::string name = read.Text(column, "state");
  if (!read.status().ok()) return IntentState::kReceived;
  std::optional<IntentState> state = ParseIntentState(name);
  if (!state) read.Fail("state", Quote(name) + " is not an intent state");
  return state.value_or(IntentState::kReceived);
}

UtxoState ReadUtxoState(RowReader& read, int column) {
  const std::string name = read.Text(column, "state");
  if (!read.status().ok()) return UtxoState::kAvailable;
  std::optional<UtxoState> state = ParseUtxoState(name);
  if (!state) read.Fail("state", Quote(name) + " is not a coin state");
  return state.value_or(UtxoState::kAvailable);
}

BatchState ReadBatchState(RowReader& read, int column) {
  const std::string name = read.Text(column, "state");
  if (!read.status().ok()) return BatchState::kBuilding;
  std::optional<BatchState> state = ParseBatchState(name);
  if (!state) read.Fail("state", Quote(name) + " is not a batch state");
  return state.value_or(BatchState::kBuilding);
}

btc::Txid ReadTxid(RowReader& read, int column, std::string_view name) {
  return btc::Txid(read.Fixed<32>(column, name));
}

// --- Opening -----------------------------------------------------------------------------------

// Creates `path` as an empty file with mode 0600 (an empty file is an empty SQLite database;
// SQLite gives its -wal and -shm files the database file's mode), unless it exists. A new file's
// name is made durable (fsync of its directory).
util::Status CreateIfMissing(const std::string& path) {
  const std::string where = "coordinator database " + path;
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0 && errno == EEXIST) return util::OkStatus();
  if (fd < 0) {
    return util::UnavailableError(where + ": cannot create (" + std::strerror(errno) + ")");
  }
  // The umask may have removed bits; the file is exactly 0600 whatever it is.
  const bool chmod_ok = fchmod(fd, 0600) == 0;
  const bool close_ok = close(fd) == 0;
  if (!chmod_ok || !close_ok) {
    unlink(path.c_str());
    return util::UnavailableError(where + ": cannot set its permissions");
  }
  const size_t slash = path.rfind('/');
  const std::string dir =
      slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  const int dir_fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) return util::UnavailableError(where + ": cannot open its directory");
  const bool synced = fsync(dir_fd) == 0;
  close(dir_fd);
  if (!synced) return util::UnavailableError(where + ": cannot sync its directory");
  return util::OkStatus();
}

util::Result<int64_t> ReadPragma(sqlite3* db, const char* sql) {
  util::Result<Statement> pragma = Statement::Prepare(db, sql);
  if (!pragma.ok()) return pragma.status();
  util::Result<bool> row = pragma->Step();
  if (!row.ok()) return row.status();
  if (!*row || pragma->ColumnType(0) != SQLITE_INTEGER) {
    return util::InternalError(Where(db) + ": " + sql + " returned no integer");
  }
  return pragma->ColumnInt64(0);
}

util::Status Configure(sqlite3* db, const SqliteStoreOptions& options) {
  const int rc = sqlite3_busy_timeout(db, options.busy_timeout_ms);
  if (rc != SQLITE_OK) return SqliteError(db, rc);
  // trusted_schema off: the schema of a file someone else edited runs no functions of ours.
  util::Status set = Exec(db, "PRAGMA foreign_keys = ON; PRAGMA trusted_schema = OFF");
  if (!set.ok()) return set;
  util::Result<Statement> wal = Statement::Prepare(db, "PRAGMA journal_mode = WAL");
  if (!wal.ok()) return wal.status();
  util::Result<bool> row = wal->Step();
  if (!row.ok()) return row.status();
  if (!*row || wal->ColumnType(0) != SQLITE_TEXT || wal->ColumnText(0) != "wal") {
    return util::UnavailableError(Where(db) + ": cannot switch to WAL mode");
  }
  // Per connection, after journal_mode (WAL's FULL: every commit is synced).
  return Exec(db, "PRAGMA synchronous = FULL");
}

// Brings the schema to kSchemaVersion, one migration per transaction. Each step re-reads the
// version under the write lock: another process may have migrated the file meanwhile.
util::Status Migrate(sqlite3* db) {
  while (true) {
    util::Result<Transaction> tx = Transaction::Begin(db, Transaction::Mode::kWrite);
    if (!tx.ok()) return tx.status();
    util::Result<int64_t> version = ReadPragma(db, "PRAGMA user_version");
    if (!version.ok()) return version.status();
    util::Result<int64_t> application = ReadPragma(db, "PRAGMA application_id");
    if (!application.ok()) return application.status();
    util::Result<int64_t> objects = ReadPragma(db, "SELECT count(*) FROM sqlite_schema");
    if (!objects.ok()) return objects.status();

    if (*version > kSchemaVersion) {
      return util::FailedPreconditionError(
          Where(db) + ": schema version " + std::to_string(*version) +
          " is newer than this program's (" + std::to_string(kSchemaVersion) + ")");
    }
    if (*version < 0) {
      return util::FailedPreconditionError(Where(db) + ": schema version " +
                                           std::to_string(*version) + " is not one of kinko's");
    }
    const bool ours = *application == kSqliteApplicationId;
    const bool empty = *version == 0 && *application == 0 && *objects == 0;
    if (!ours && !empty) {
      return util::FailedPreconditionError(Where(db) +
                                           ": not a kinko coordinator database (application id " +
                                           std::to_string(*application) + ")");
    }
    if (*version == kSchemaVersion) return util::OkStatus();  // Rolls back the read.

    util::Status migrated = Exec(db, kMigrations[*version]);
    if (!migrated.ok())
      return migrated.WithPrefix("migration to schema " + std::to_string(*version + 1));
    util::Status committed = tx->Commit();
    if (!committed.ok()) return committed;
  }
}

// --- Intents -----------------------------------------------------------------------------------

constexpr const char* kSelectIntent =
    "SELECT id, wallet, state, signed_intent, requester, external_ref, created_at, expires_at, "
    "received_at, updated_at, batch_id, detail, revision FROM intents";

util::Status CheckIntent(const IntentRecord& record) {
  const std::string label = IntentLabel(record.id);
  if (record.wallet.empty()) return util::InvalidArgumentError(label + ": empty wallet");
  if (record.outputs.empty()) return util::InvalidArgumentError(label + ": no outputs");
  if (record.outputs.size() > kMaxOutputs) {
    return util::InvalidArgumentError(label + ": " + std::to_string(record.outputs.size()) +
                                      " outputs, more than 256");
  }
  for (size_t i = 0; i < record.outputs.size(); ++i) {
    if (record.outputs[i].sats <= 0) {
      return util::InvalidArgumentError(label + ": output " + std::to_string(i) + ": amount " +
                                        std::to_string(record.outputs[i].sats) +
                                        " is not positive");
    }
  }
  return util::OkStatus();
}

// The intent on the current row of a kSelectIntent query, without its outputs.
util::Result<IntentRecord> DecodeIntent(const Statement& row) {
  RowReader read(row, "intents");
  IntentRecord record;
  record.id = read.Fixed<16>(0, "id");
  record.wallet = read.Text(1, "wallet");
  record.state = ReadIntentState(read, 2);
  record.signed_intent = read.Blob(3, "signed_intent");
  record.requester = read.Fixed<32>(4, "requester");
  record.external_ref = read.Text(5, "external_ref");
  record.created_at = read.Uint64(6, "created_at");
  record.expires_at = read.Uint64(7, "expires_at");
  record.received_at = read.Uint64(8, "received_at");
  record.updated_at = read.Uint64(9, "updated_at");
  record.batch_id = read.OptionalInt64(10, "batch_id");
  record.detail = read.Text(11, "detail");
  record.revision = read.Uint64(12, "revision");
  if (!read.status().ok()) return read.status();
  return record;
}

constexpr const char* kSelectOutputs =
    "SELECT position, address, sats FROM intent_outputs WHERE intent_id = ?1 ORDER BY position";

// Reads the outputs of `record` with `select` (a prepared kSelectOutputs), then resets it.
util::Status LoadOutputs(Statement& select, IntentRecord& record) {
  if (util::Status bound = select.BindBlob(1, record.id); !bound.ok()) return bound;
  while (true) {
    util::Result<bool> row = select.Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    RowReader read(select, "intent_outputs");
    const int64_t position = read.Int64(0, "position");
    PayOutput output{.address = read.Text(1, "address"), .sats = read.Int64(2, "sats")};
    if (read.status().ok() && position != static_cast<int64_t>(record.outputs.size())) {
      read.Fail("position", IntentLabel(record.id) + ": output " + std::to_string(position) +
                                " where " + std::to_string(record.outputs.size()) +
                                " was expected");
    }
    if (read.status().ok() && output.sats <= 0) {
      read.Fail("sats", IntentLabel(record.id) + ": amount is not positive");
    }
    if (!read.status().ok()) return read.status();
    record.outputs.push_back(std::move(output));
  }
  if (record.outputs.empty() || record.outputs.size() > kMaxOutputs) {
    return util::DataLossError(Where(select.db()) + ": intent_outputs: " + IntentLabel(record.id) +
                               " has " + std::to_string(record.outputs.size()) + " outputs");
  }
  return select.Reset();
}

util::Result<IntentRecord> ReadIntent(sqlite3* db, const IntentId& id) {
  util::Result<Statement> select =
      Statement::Prepare(db, std::string(kSelectIntent) + " WHERE id = ?1");
  if (!select.ok()) return select.status();
  if (util::Status bound = select->BindBlob(1, id); !bound.ok()) return bound;
  util::Result<bool> row = select->Step();
  if (!row.ok()) return row.status();
  if (!*row) return util::NotFoundError(IntentLabel(id) + " does not exist");
  util::Result<IntentRecord> record = DecodeIntent(*select);
  if (!record.ok()) return record.status();
  util::Result<Statement> outputs = Statement::Prepare(db, kSelectOutputs);
  if (!outputs.ok()) return outputs.status();
  if (util::Status loaded = LoadOutputs(*outputs, *record); !loaded.ok()) return loaded;
  return record;
}

// The stored state of intent `id`; kNotFound when there is none.
util::Result<IntentState> ReadIntentStateOf(sqlite3* db, const IntentId& id, std::string* wallet) {
  util::Result<Statement> select =
      Statement::Prepare(db, "SELECT state, wallet FROM intents WHERE id = ?1");
  if (!select.ok()) return select.status();
  if (util::Status bound = select->BindBlob(1, id); !bound.ok()) return bound;
  util::Result<bool> row = select->Step();
  if (!row.ok()) return row.status();
  if (!*row) return util::NotFoundError(IntentLabel(id) + " does not exist");
  RowReader read(*select, "intents");
  const IntentState state = ReadIntentState(read, 0);
  const std::string stored_wallet = read.Text(1, "wallet");
  if (!read.status().ok()) return read.status();
  if (wallet != nullptr) *wallet = stored_wallet;
  return state;
}

// --- Coins -------------------------------------------------------------------------------------

constexpr const char* kSelectUtxo =
    "SELECT txid, vout, wallet, sats, script_pubkey, is_change, branch_index, height, state, "
    "batch_id FROM utxos";

util::Result<Utxo> DecodeUtxo(const Statement& row) {
  RowReader read(row, "utxos");
  Utxo coin;
  coin.outpoint.txid = ReadTxid(read, 0, "txid");
  coin.outpoint.index = read.Uint32(1, "vout");
  coin.wallet = read.Text(2, "wallet");
  coin.sats = read.Int64(3, "sats");
  coin.script_pubkey = read.Blob(4, "script_pubkey");
  coin.change = read.Bool(5, "is_change");
  coin.index = read.Uint32(6, "branch_index");
  coin.height = read.OptionalUint32(7, "height");
  coin.state = ReadUtxoState(read, 8);
  coin.batch_id = read.OptionalInt64(9, "batch_id");
  if (!read.status().ok()) return read.status();
  return coin;
}

util::Status BindOutpoint(Statement& statement, int first, const btc::Outpoint& outpoint) {
  return FirstFailure({statement.BindBlob(first, outpoint.txid.span()),
                       statement.BindInt64(first + 1, outpoint.index)});
}

// The stored coin `outpoint`, or nullopt.
util::Result<std::optional<Utxo>> ReadUtxo(sqlite3* db, const btc::Outpoint& outpoint) {
  util::Result<Statement> select =
      Statement::Prepare(db, std::string(kSelectUtxo) + " WHERE txid = ?1 AND vout = ?2");
  if (!select.ok()) return select.status();
  if (util::Status bound = BindOutpoint(*select, 1, outpoint); !bound.ok()) return bound;
  util::Result<bool> row = select->Step();
  if (!row.ok()) return row.status();
  if (!*row) return std::optional<Utxo>();
  util::Result<Utxo> coin = DecodeUtxo(*select);
  if (!coin.ok()) return coin.status();
  return std::optional<Utxo>(std::move(*coin));
}

util::Status CheckUtxo(const Utxo& coin) {
  if (coin.wallet.empty()) {
    return util::InvalidArgumentError(CoinLabel(coin.outpoint) + ": empty wallet");
  }
  if (coin.sats <= 0) {
    return util::InvalidArgumentError(CoinLabel(coin.outpoint) + ": amount " +
                                      std::to_string(coin.sats) + " is not positive");
  }
  return util::OkStatus();
}

// --- Batches -----------------------------------------------------------------------------------

constexpr const char* kSelectBatch =
    "SELECT id, wallet, state, change_index, psbt, final_tx, txid, fee_sats, "
    "fee_rate_sat_per_kvb, detail, owner, lease_until, confirmed_height, created_at, updated_at, "
    "revision FROM batches";
constexpr const char* kSelectBatchIntents =
    "SELECT position, intent_id FROM batch_intents WHERE batch_id = ?1 ORDER BY position";
constexpr const char* kSelectBatchInputs =
    "SELECT position, txid, vout FROM batch_inputs WHERE batch_id = ?1 ORDER BY position";

util::Result<BatchRecord> DecodeBatch(const Statement& row) {
  RowReader read(row, "batches");
  BatchRecord batch;
  batch.id = read.Int64(0, "id");
  batch.wallet = read.Text(1, "wallet");
  batch.state = ReadBatchState(read, 2);
  batch.change_index = read.OptionalUint32(3, "change_index");
  batch.psbt = read.Blob(4, "psbt");
  batch.final_tx = read.Blob(5, "final_tx");
  std::optional<std::array<uint8_t, 32>> txid = read.OptionalFixed<32>(6, "txid");
  if (txid) batch.txid = btc::Txid(*txid);
  batch.fee_sats = read.Int64(7, "fee_sats");
  batch.fee_rate_sat_per_kvb = read.Uint64(8, "fee_rate_sat_per_kvb");
  batch.detail = read.Text(9, "detail");
  batch.owner = read.Text(10, "owner");
  batch.lease_until = read.Uint64(11, "lease_until");
  batch.confirmed_height = read.OptionalUint32(12, "confirmed_height");
  batch.created_at = read.Uint64(13, "created_at");
  batch.updated_at = read.Uint64(14, "updated_at");
  batch.revision = read.Uint64(15, "revision");
  if (!read.status().ok()) return read.status();
  return batch;
}

// Checks that the row's position (column 0) is the next one of a list of `size` items.
void CheckPosition(RowReader& read, size_t size, int64_t batch_id) {
  const int64_t position = read.Int64(0, "position");
  if (read.status().ok() && position != static_cast<int64_t>(size)) {
    read.Fail("position", BatchLabel(batch_id) + ": item " + std::to_string(position) + " where " +
                              std::to_string(size) + " was expected");
  }
}

// Reads the intents and inputs of `batch` with prepared kSelectBatchIntents and
// kSelectBatchInputs, then resets them.
util::Status LoadBatchLists(Statement& intents, Statement& inputs, BatchRecord& batch) {
  if (util::Status bound = intents.BindInt64(1, batch.id); !bound.ok()) return bound;
  while (true) {
    util::Result<bool> row = intents.Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    RowReader read(intents, "batch_intents");
    CheckPosition(read, batch.intents.size(), batch.id);
    const IntentId id = read.Fixed<16>(1, "intent_id");
    if (!read.status().ok()) return read.status();
    batch.intents.push_back(id);
  }
  if (util::Status bound = inputs.BindInt64(1, batch.id); !bound.ok()) return bound;
  while (true) {
    util::Result<bool> row = inputs.Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    RowReader read(inputs, "batch_inputs");
    CheckPosition(read, batch.inputs.size(), batch.id);
    btc::Outpoint input{.txid = ReadTxid(read, 1, "txid"), .index = read.Uint32(2, "vout")};
    if (!read.status().ok()) return read.status();
    batch.inputs.push_back(input);
  }
  if (batch.intents.empty() || batch.inputs.empty()) {
    return util::DataLossError(Where(intents.db()) + ": batch_intents, batch_inputs: " +
                               BatchLabel(batch.id) + " has no intents or no inputs");
  }
  return FirstFailure({intents.Reset(), inputs.Reset()});
}

util::Result<BatchRecord> ReadBatch(sqlite3* db, int64_t id) {
  util::Result<Statement> select =
      Statement::Prepare(db, std::string(kSelectBatch) + " WHERE id = ?1");
  if (!select.ok()) return select.status();
  if (util::Status bound = select->BindInt64(1, id); !bound.ok()) return bound;
  util::Result<bool> row = select->Step();
  if (!row.ok()) return row.status();
  if (!*row) return util::NotFoundError(BatchLabel(id) + " does not exist");
  util::Result<BatchRecord> batch = DecodeBatch(*select);
  if (!batch.ok()) return batch.status();
  util::Result<Statement> intents = Statement::Prepare(db, kSelectBatchIntents);
  if (!intents.ok()) return intents.status();
  util::Result<Statement> inputs = Statement::Prepare(db, kSelectBatchInputs);
  if (!inputs.ok()) return inputs.status();
  if (util::Status loaded = LoadBatchLists(*intents, *inputs, *batch); !loaded.ok()) return loaded;
  return batch;
}

util::Status CheckNewBatch(const NewBatch& batch) {
  if (batch.wallet.empty()) return util::InvalidArgumentError("new batch: empty wallet");
  if (batch.intents.empty()) return util::InvalidArgumentError("new batch: no intents");
  if (batch.inputs.empty()) return util::InvalidArgumentError("new batch: no inputs");
  const std::set<IntentId> intents(batch.intents.begin(), batch.intents.end());
  if (intents.size() != batch.intents.size()) {
    return util::InvalidArgumentError("new batch: an intent is listed twice");
  }
  const std::set<btc::Outpoint> inputs(batch.inputs.begin(), batch.inputs.end());
  if (inputs.size() != batch.inputs.size()) {
    return util::InvalidArgumentError("new batch: an input is listed twice");
  }
  return util::OkStatus();
}

bool IsFinal(BatchState state) {
  return state == BatchState::kConfirmed || state == BatchState::kFailed;
}

// The moves of the batch state machine (store.h, UpdateBatch): forward one step along
// building → signing → signed → broadcast → confirmed, any non-final state to failed, and a
// non-final state to itself (progress).
bool IsAllowedMove(BatchState from, BatchState to) {
  if (IsFinal(from)) return false;
  if (from == to || to == BatchState::kFailed) return true;
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
  CHECK(false);
  return false;
}

// The state of a batch's intents when the batch moves to `to` (not kFailed).
IntentState IntentStateFor(BatchState to) {
  switch (to) {
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
  CHECK(false);  // kFailed moves intents to BatchUpdate::intents_on_failure.
  return IntentState::kRefused;
}

// Allocates the next unused change index of `wallet`: past the last one allocated and past
// every change coin stored (a coin seen on the chain marks its index as used).
util::Result<uint32_t> AllocateChangeIndex(sqlite3* db, const std::string& wallet) {
  util::Result<Statement> select = Statement::Prepare(
      db,
      "SELECT max(coalesce((SELECT next_index FROM change_indexes WHERE wallet = ?1), 0), "
      "coalesce((SELECT max(branch_index) + 1 FROM utxos WHERE wallet = ?1 AND is_change = 1), "
      "0))");
  if (!select.ok()) return select.status();
  if (util::Status bound = select->BindText(1, wallet); !bound.ok()) return bound;
  util::Result<bool> row = select->Step();
  if (!row.ok()) return row.status();
  RowReader read(*select, "change_indexes");
  const int64_t next = *row ? read.Int64(0, "next_index") : 0;
  if (!read.status().ok()) return read.status();
  if (next < 0 || next >= kChangeIndexLimit) {
    return util::FailedPreconditionError(Where(db) +
                                         ": the change branch of the wallet is used "
                                         "up (next index " +
                                         std::to_string(next) + ")");
  }
  util::Result<Statement> upsert =
      Statement::Prepare(db,
                         "INSERT INTO change_indexes (wallet, next_index) VALUES (?1, ?2) "
                         "ON CONFLICT (wallet) DO UPDATE SET next_index = excluded.next_index");
  if (!upsert.ok()) return upsert.status();
  util::Status bound = FirstFailure({upsert->BindText(1, wallet), upsert->BindInt64(2, next + 1)});
  if (!bound.ok()) return bound;
  if (util::Status ran = upsert->Run(); !ran.ok()) return ran;
  return static_cast<uint32_t>(next);
}

// Runs `statement` and checks it changed exactly `expected` rows: under the write lock a
// mismatch is a bug (kInternal), since the rows were read in the same transaction.
util::Status RunChanging(Statement& statement, int expected, const std::string& what) {
  if (util::Status ran = statement.Run(); !ran.ok()) return ran;
  const int changed = sqlite3_changes(statement.db());
  if (changed != expected) {
    return util::InternalError(Where(statement.db()) + ": " + what + ": changed " +
                               std::to_string(changed) + " rows, not " + std::to_string(expected));
  }
  return util::OkStatus();
}

}  // namespace

// --- SqliteStore -------------------------------------------------------------------------------

util::Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(const std::string& path,
                                                             SqliteStoreOptions options) {
  if (util::Status created = CreateIfMissing(path); !created.ok()) return created;
  sqlite3* db = nullptr;
  // The file exists: SQLite must not create another one (a race with its removal).
  const int rc =
      sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW, nullptr);
  if (rc != SQLITE_OK) {
    const util::Status error = SqliteError(db, rc);
    sqlite3_close(db);  // Null-safe; SQLite returns a handle on most failures.
    return error;
  }
  std::unique_ptr<SqliteStore> store(new SqliteStore(db));  // Closes `db` from here on.
  if (util::Status configured = Configure(db, options); !configured.ok()) return configured;
  if (util::Status migrated = Migrate(db); !migrated.ok()) return migrated;
  return store;
}

SqliteStore::~SqliteStore() {
  // Every statement is finalized when its call returns, so the close succeeds.
  sqlite3_close(db_);
}

util::Result<bool> SqliteStore::InsertIntent(const IntentRecord& record) {
  if (util::Status valid = CheckIntent(record); !valid.ok()) return valid;
  std::lock_guard<std::mutex> lock(mutex_);
  util::Result<Transaction> tx = Transaction::Begin(db_, Transaction::Mode::kWrite);
  if (!tx.ok()) return tx.status();

  util::Result<Statement> existing =
      Statement::Prepare(db_, "SELECT signed_intent FROM intents WHERE id = ?1");
  if (!existing.ok()) return existing.status();
  if (util::Status bound = existing->BindBlob(1, record.id); !bound.ok()) return bound;
  util::Result<bool> row = existing->Step();
  if (!row.ok()) return row.status();
  if (*row) {
    RowReader read(*existing, "intents");
    const std::vector<uint8_t> stored = read.Blob(0, "signed_intent");
    if (!read.status().ok()) return read.status();
    if (stored != record.signed_intent) {
      return util::AlreadyExistsError(IntentLabel(record.id) +
                                      " exists with another signed intent");
    }
    return false;  // The same intent again: nothing to write.
  }

  util::Result<Statement> insert = Statement::Prepare(
      db_,
      "INSERT INTO intents (id, wallet, state, signed_intent, requester, external_ref, "
      "created_at, expires_at, received_at, updated_at, batch_id, detail, revision) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, 1)");
  if (!insert.ok()) return insert.status();
  util::Status bound = FirstFailure({
      insert->BindBlob(1, record.id),
      insert->BindText(2, record.wallet),
      insert->BindText(3, IntentStateName(record.state)),
      insert->BindBlob(4, record.signed_intent),
      insert->BindBlob(5, record.requester),
      insert->BindText(6, record.external_ref),
      insert->BindUint64(7, record.created_at),
      insert->BindUint64(8, record.expires_at),
      insert->BindUint64(9, record.received_at),
      insert->BindUint64(10, record.updated_at),
      BindOptionalInt64(*insert, 11, record.batch_id),
      insert->BindText(12, record.detail),
  });
  if (!bound.ok()) return bound;
  if (util::Status ran = insert->Run(); !ran.ok()) return ran;

  util::Result<Statement> output = Statement::Prepare(
      db_,
      "INSERT INTO intent_outputs (intent_id, position, address, sats) VALUES (?1, ?2, ?3, ?4)");
  if (!output.ok()) return output.status();
  for (size_t i = 0; i < record.outputs.size(); ++i) {
    util::Status bound_output = FirstFailure({
        output->BindBlob(1, record.id),
        output->BindInt64(2, static_cast<int64_t>(i)),
        output->BindText(3, record.outputs[i].address),
        output->BindInt64(4, record.outputs[i].sats),
    });
    if (!bound_output.ok()) return bound_output;
    if (util::Status ran = output->Run(); !ran.ok()) return ran;
    if (util::Status reset = output->Reset(); !reset.ok()) return reset;
  }
  if (util::Status committed = tx->Commit(); !committed.ok()) return committed;
  return true;
}

util::Result<IntentRecord> SqliteStore::GetIntent(const IntentId& id) {
  std::lock_guard<std::mutex> lock(mutex_);
  util::Result<Transaction> tx = Transaction::Begin(db_, Transaction::Mode::kRead);
  if (!tx.ok()) return tx.status();
  return ReadIntent(db_, id);
}

util::Result<std::vector<IntentRecord>> SqliteStore::ListIntents(const IntentFilter& filter) {
  if (filter.limit < 1 || filter.limit > kMaxListLimit) {
    return util::InvalidArgumentError("intent filter: limit " + std::to_string(filter.limit) +
                                      " is not in 1..1000");
  }
  std::lock_guard<std::mutex> lock(mutex_);
  util::Result<Transaction> tx = Transaction::Begin(db_, Transaction::Mode::kRead);
  if (!tx.ok()) return tx.status();

  // Pagination resumes after the position of `after` in (received_at, id) order.
  std::optional<int64_t> after_received;
  if (filter.after) {
    util::Result<Statement> after =
        Statement::Prepare(db_, "SELECT received_at FROM intents WHERE id = ?1");
    if (!after.ok()) return after.status();
    if (util::Status bound = after->BindBlob(1, *filter.after); !bound.ok()) return bound;
    util::Result<bool> row = after->Step();
    if (!row.ok()) return row.status();
    if (!*row) {
      return util::NotFoundError("intent filter: after: " + IntentLabel(*filter.after) +
                                 " does not exist");
    }
    RowReader read(*after, "intents");
    after_received = read.Int64(0, "received_at");
    if (!read.status().ok()) return read.status();
  }

  util::Result<Statement> select =
      Statement::Prepare(db_, std::string(kSelectIntent) +
                                  " WHERE (?1 IS NULL OR wallet = ?1)"
                                  " AND (?2 IS NULL OR state IN (SELECT value FROM json_each(?2)))"
                                  " AND (?3 IS NULL OR (received_at, id) > (?3, ?4))"
                                  " ORDER BY received_at, id LIMIT ?5");
  if (!select.ok()) return select.status();
  util::Status bound = FirstFailure({
      BindOptionalText(*select, 1, filter.wallet),
      BindOptionalText(*select, 2, StateList(filter.states, IntentStateName)),
      BindOptionalInt64(*select, 3, after_received),
      filter.after ? select->BindBlob(4, *filter.after) : select->BindNull(4),
      select->BindInt64(5, static_cast<int64_t>(filter.limit)),
  });
  if (!bound.ok()) return bound;
  util::Result<Statement> outputs = Statement::Prepare(db_, kSelectOutputs);
  if (!outputs.ok()) return outputs.status();

  std::vector<IntentRecord> records;
  while (true) {
    util::Result<bool> row = select->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    util::Result<IntentRecord> record = DecodeIntent(*select);
    if (!record.ok()) return record.status();
    if (util::Status loaded = LoadOutputs(*outputs, *record); !loaded.ok()) return loaded;
    records.push_back(std::move(*record));
  }
  return records;
}

util::Status SqliteStore::UpdateIntentState(const IntentId& id, IntentState from, IntentState to,
                                            std::string_view detail, uint64_t now) {
  std::lock_guard<std::mutex> lock(mutex_);
  util::Result<Transaction> tx = Transaction::Begin(db_, Transaction::Mode::kWrite);
  if (!tx.ok()) return tx.status();
  util::Result<IntentState> state = ReadIntentStateOf(db_, id, nullptr);
  if (!state.ok()) return state.status();
  if (*state != from) {
    return util::AbortedError(IntentLabel(id) + " is " + std::string(IntentStateName(*state)) +
                              ", not " + std::string(IntentStateName(from)));
  }
  util::Result<Statement> update = Statement::Prepare(
      db_,
      "UPDATE intents SET state = ?2, detail = ?3, updated_at = ?4, revision = revision + 1 "
      "WHERE id = ?1");
  if (!update.ok()) return update.status();
  util::Status bound = FirstFailure({
      update->BindBlob(1, id),
      update->BindText(2, IntentStateName(to)),
      update->BindText(3, detail),
      update->BindUint64(4, now),
  });
  if (!bound.ok()) return bound;
  if (util::Status ran = RunChanging(*update, 1, IntentLabel(id)); !ran.ok()) return ran;
  return tx->Commit();
}

util::Result<std::vector<std::pair<IntentState, uint64_t>>> SqliteStore::CountIntents() {
  std::lock_guard<std::mutex> lock(mutex_);
  util::Result<Transaction> tx = Transaction::Begin(db_, Transaction::Mode::kRead);
  if (!tx.ok()) return tx.status();
  util::Result<Statement> select =
      Statement::Prepare(db_, "SELECT state, count(*) FROM intents GROUP BY state");
  if (!select.ok()) return select.status();
  std::map<IntentState, uint64_t> counts;
  while (true) {
    util::Result<bool> row = select->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    RowReader read(*select, "intents");
    const IntentState state = ReadIntentState(read, 0);
    const uint64_t count = read.Uint64(1, "count");
    if (!read.status().ok()) return read.status();
    counts[state] = count;
  }
  std::vector<std::pair<IntentState, uint64_t>> out;
  for (IntentState state : {IntentState::kReceived, IntentState::kAwaitingApprovals,
                            IntentState::kApproved, IntentState::kBuilding, IntentState::kSigning,
                            IntentState::kSigned, IntentState::kBroadcast, IntentState::kConfirmed,
                            IntentState::kRefused, IntentState::kExpired}) {
    out.emplace_back(state, counts[state]);
  }
  return out;
}

util::Result<bool> SqliteStore::InsertApproval(const ApprovalRecord& record) {
  std::lock_guard<std::mutex> lock(mutex_);
  util::Result<Transaction> tx = Transaction::Begin(db_, Transaction::Mode::kWrite);
  if (!tx.ok()) return tx.status();
  util::Result<IntentState> intent = ReadIntentStateOf(db_, record.intent_id, nullptr);
  if (!intent.ok()) return intent.status();

  util::Result<Statement> existing = Statement::Prepare(
      db_, "SELECT signed_approval FROM approvals WHERE intent_id = ?1 AND approver = ?2");
  if (!existing.ok()) return existing.status();
  util::Status bound = FirstFailure(
      {existing->BindBlob(1, record.intent_id), existing->BindBlob(2, record.approver)});
  if (!bound.ok()) return bound;
  util::Result<bool> row = existing->Step();
  if (!row.ok()) return row.status();
  if (*row) {
    RowReader read(*existing, "approvals");
    const std::vector<uint8_t> stored = read.Blob(0, "signed_approval");
    if (!read.status().ok()) return read.status();
    if (stored != record.signed_approval) {
      return util::AlreadyExistsError(IntentLabel(record.intent_id) + ": approver " +
                                      util::HexEncode(record.approver) +
                                      " gave another approval before");
    }
    return false;
  }
  util::Result<Statement> insert = Statement::Prepare(
      db_,
      "INSERT INTO approvals (intent_id, approver, signed_approval, received_at) "
      "VALUES (?1, ?2, ?3, ?4)");
  if (!insert.ok()) return insert.status();
  bound = FirstFailure({
      insert->BindBlob(1, record.intent_id),
      insert->BindBlob(2, record.approver),
      insert->BindBlob(3, record.signed_approval),
      insert->BindUint64(4, record.received_at),
  });
  if (!bound.ok()) return bound;
  if (util::Status ran = insert->Run(); !ran.ok()) return ran;
  if (util::Status committed = tx->Commit(); !committed.ok()) return committed;
  return true;
}

util::Result<std::vector<ApprovalRecord>> SqliteStore::ListApprovals(const IntentId& intent) {
  std::lock_guard<std::mutex> lock(mutex_);
  util::Result<Transaction> tx = Transaction::Begin(db_, Transaction::Mode::kRead);
  if (!tx.ok()) return tx.status();
  util::Result<Statement> select =
      Statement::Prepare(db_,
                         "SELECT intent_id, approver, signed_approval, received_at FROM approvals "
                         "WHERE intent_id = ?1 ORDER BY seq");
  if (!select.ok()) return select.status();
  if (util::Status bound = select->BindBlob(1, intent); !bound.ok()) return bound;
  std::vector<ApprovalRecord> approvals;
  while (true) {
    util::Result<bool> row = select->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    RowReader read(*select, "approvals");
    ApprovalRecord approval;
    approval.intent_id = read.Fixed<16>(0, "intent_id");
    approval.approver = read.Fixed<32>(1, "approver");
    approval.signed_approval = read.Blob(2, "signed_approval");
    approval.received_at = read.Uint64(3, "received_at");
    if (!read.status().ok()) return read.status();
    approvals.push_back(std::move(approval));
  }
  return approvals;
}

util::Status SqliteStore::AddUtxos(std::span<const Utxo> utxos) {
  for (const Utxo& coin : utxos) {
    if (util::Status valid = CheckUtxo(coin); !valid.ok()) return valid;
  }
  std::lock_guard<std::mutex> lock(mutex_);
  util::Result<Transaction> tx = Transaction::Begin(db_, Transaction::Mode::kWrite);
  if (!tx.ok()) return tx.status();
  util::Result<Statement> insert = Statement::Prepare(
      db_,
      "INSERT INTO utxos (txid, vout, wallet, sats, script_pubkey, is_change, branch_index, "
      "height, state, batch_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
  if (!insert.ok()) return insert.status();
  util::Result<Statement> update_height =
      Statement::Prepare(db_, "UPDATE utxos SET height = ?3 WHERE txid = ?1 AND vout = ?2");
  if (!update_height.ok()) return update_height.status();

  for (const Utxo& coin : utxos) {
    util::Result<std::optional<Utxo>> stored = ReadUtxo(db_, coin.outpoint);
    if (!stored.ok()) return stored.status();
    if (stored->has_value()) {
      // A txid commits to its outputs: the same outpoint with other content is a wrong report.
      const Utxo& known = **stored;
      if (known.wallet != coin.wallet || known.sats != coin.sats ||
          known.script_pubkey != coin.script_pubkey) {
        return util::AlreadyExistsError(CoinLabel(coin.outpoint) +
                                        " is stored with another wallet, amount or script");
      }
      util::Status bound = FirstFailure({BindOutpoint(*update_height, 1, coin.outpoint),
                                         BindOptionalUint32(*update_height, 3, coin.height)});
      if (!bound.ok()) return bound;
      if (util::Status ran = update_height->Run(); !ran.ok()) return ran;
      if (util::Status reset = update_height->Reset(); !reset.ok()) return reset;
      continue;
    }
    util::Status bound = FirstFailure({
        BindOutpoint(*insert, 1, coin.outpoint),
        insert->BindText(3, coin.wallet),
        insert->BindInt64(4, coin.sats),
        insert->BindBlob(5, coin.script_pubkey),
        insert->BindInt64(6, coin.change ? 1 : 0),
        insert->BindInt64(7, coin.index),
        BindOptionalUint32(*insert, 8, coin.height),
        insert->BindText(9, UtxoStateName(coin.state)),
        BindOptionalInt64(*insert, 10, coin.batch_id),
    });
    if (!bound.ok()) return bound;
    if (util::Status ran = insert->Run(); !ran.ok()) return ran;
    if (util::Status reset = insert->Reset(); !reset.ok()) return reset;
  }
  return tx->Commit();
}

util::Status SqliteStore::RetainUtxos(std::string_view wallet,
                                      std::span<const btc::Outpoint> unspent) {
  const std::set<btc::Outpoint> keep(unspent.begin(), unspent.end());
  std::lock_guard<std::mutex> lock(mutex_);
  util::Result<Transaction> tx = Transaction::Begin(db_, Transaction::Mode::kWrite);
  if (!tx.ok()) return tx.status();
  util::Result<Statement> select = Statement::Prepare(
      db_, "SELECT txid, vout FROM utxos WHERE wallet = ?1 AND state = 'available'");
  if (!select.ok()) return select.status();
  if (util::Status bound = select->BindText(1, wallet); !bound.ok()) return bound;
  std::vector<btc::Outpoint> gone;
  while (true) {
    util::Result<bool> row = select->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    RowReader read(*select, "utxos");
    btc::Outpoint outpoint{.txid = ReadTxid(read, 0, "txid"), .index = read.Uint32(1, "vout")};
    if (!read.status().ok()) return read.status();
    if (!keep.contains(outpoint)) gone.push_back(outpoint);
  }
  util::Result<Statement> spend =
      Statement::Prepare(db_, "UPDATE utxos SET state = 'spent' WHERE txid = ?1 AND vout = ?2");
  if (!spend.ok()) return spend.status();
  for (const btc::Outpoint& outpoint : gone) {
    if (util::Status bound = BindOutpoint(*spend, 1, outpoint); !bound.ok()) return bound;
    if (util::Status ran = RunChanging(*spend, 1, CoinLabel(outpoint)); !ran.ok()) return ran;
    if (util::Status reset = spend->Reset(); !reset.ok()) return reset;
  }
  return tx->Commit();
}

util::Result<std::vector<Utxo>> SqliteStore::ListUtxos(std::string_view wallet,
                                                       std::optional<UtxoState> state) {
  std::lock_guard<std::mutex> lock(mutex_);
  util::Result<Transaction> tx = Transaction::Begin(db_, Transaction::Mode::kRead);
  if (!tx.ok()) return tx.status();
  util::Result<Statement> select = Statement::Prepare(
      db_, std::string(kSelectUtxo) +
               " WHERE wallet = ?1 AND (?2 IS NULL OR state = ?2) ORDER BY txid, vout");
  if (!select.ok()) return select.status();
  util::Status bound = FirstFailure({
      select->BindText(1, wallet),
      state ? select->BindText(2, UtxoStateName(*state)) : select->BindNull(2),
  });
  if (!bound.ok()) return bound;
  std::vector<Utxo> coins;
  while (true) {
    util::Result<bool> row = select->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    util::Result<Utxo> coin = DecodeUtxo(*select);
    if (!coin.ok()) return coin.status();
    coins.push_back(std::move(*coin));
  }
  return coins;
}

util::Status SqliteStore::PutTransaction(const btc::Txid& txid, std::span<const uint8_t> raw) {
  std::lock_guard<std::mutex> lock(mutex_);
  util::Result<Transaction> tx = Transaction::Begin(db_, Transaction::Mode::kWrite);
  if (!tx.ok()) return tx.status();
  util::Result<Statement> insert = Statement::Prepare(
      db_, "INSERT INTO transactions (txid, raw) VALUES (?1, ?2) ON CONFLICT (txid) DO NOTHING");
  if (!insert.ok()) return insert.status();
  util::Status bound = FirstFailure({insert->BindBlob(1, txid.span()), insert->BindBlob(2, raw)});
  if (!bound.ok()) return bound;
  if (util::Status ran = insert->Run(); !ran.ok()) return ran;
  return tx->Commit();
}

util::Result<std::vector<uint8_t>> SqliteStore::GetTransaction(const btc::Txid& txid) {
  std::lock_guard<std::mutex> lock(mutex_);
  util::Result<Transaction> tx = Transaction::Begin(db_, Transaction::Mode::kRead);
  if (!tx.ok()) return tx.status();
  util::Result<Statement> select =
      Statement::Prepare(db_, "SELECT raw FROM transactions WHERE txid = ?1");
  if (!select.ok()) return select.status();
  if (util::Status bound = select->BindBlob(1, txid.span()); !bound.ok()) return bound;
  util::Result<bool> row = select->Step();
  if (!row.ok()) return row.status();
  if (!*row) return util::NotFoundError("transaction " + btc::TxidToHex(txid) + " is not cached");
  RowReader read(*select, "transactions");
  std::vector<uint8_t> raw = read.Blob(0, "raw");
  if (!read.status().ok()) return read.status();
  return raw;
}

util::Result<BatchRecord> SqliteStore::CreateBatch(const NewBatch& batch) {
  if (util::Status valid = CheckNewBatch(batch); !valid.ok()) return valid;
  std::lock_guard<std::mutex> lock(mutex_);
  // The write lock from the start: what is checked below stays true until COMMIT, so two
  // processes cannot both see an intent approved or a coin available.
  util::Result<Transaction> tx = Transaction::Begin(db_, Transaction::Mode::kWrite);
  if (!tx.ok()) return tx.status();

  // Every check before the first write.
  for (const IntentId& id : batch.intents) {
    std::string wallet;
    util::Result<IntentState> state = ReadIntentStateOf(db_, id, &wallet);
    if (!state.ok()) return state.status();
    if (wallet != batch.wallet) {
      return util::InvalidArgumentError("new batch: " + IntentLabel(id) +
                                        " belongs to another wallet");
    }
    if (*state != IntentState::kApproved) {
      return util::AbortedError("new batch: " + IntentLabel(id) + " is " +
                                std::string(IntentStateName(*state)) + ", not approved");
    }
  }
  for (const btc::Outpoint& input : batch.inputs) {
    util::Result<std::optional<Utxo>> coin = ReadUtxo(db_, input);
    if (!coin.ok()) return coin.status();
    if (!coin->has_value())
      return util::NotFoundError("new batch: " + CoinLabel(input) + " does not exist");
    if ((*coin)->wallet != batch.wallet) {
      return util::InvalidArgumentError("new batch: " + CoinLabel(input) +
                                        " belongs to another wallet");
    }
    if ((*coin)->state != UtxoState::kAvailable) {
      return util::AbortedError("new batch: " + CoinLabel(input) + " is " +
                                std::string(UtxoStateName((*coin)->state)) + ", not available");
    }
  }

  std::optional<uint32_t> change_index;
  if (batch.has_change) {
    util::Result<uint32_t> allocated = AllocateChangeIndex(db_, batch.wallet);
    if (!allocated.ok()) return allocated.status();
    change_index = *allocated;
  }
  util::Result<Statement> insert = Statement::Prepare(
      db_,
      "INSERT INTO batches (wallet, state, change_index, psbt, final_tx, txid, fee_sats, "
      "fee_rate_sat_per_kvb, detail, owner, lease_until, confirmed_height, created_at, "
      "updated_at, revision) "
      "VALUES (?1, 'building', ?2, ?3, x'', ?4, ?5, ?6, '{}', ?7, ?8, NULL, ?9, ?9, 1)");
  if (!insert.ok()) return insert.status();
  util::Status bound = FirstFailure({
      insert->BindText(1, batch.wallet),
      BindOptionalUint32(*insert, 2, change_index),
      insert->BindBlob(3, batch.psbt),
      BindOptionalTxid(*insert, 4, batch.txid),
      insert->BindInt64(5, batch.fee_sats),
      insert->BindUint64(6, batch.fee_rate_sat_per_kvb),
      insert->BindText(7, batch.owner),
      insert->BindUint64(8, batch.now + batch.lease_seconds),
      insert->BindUint64(9, batch.now),
  });
  if (!bound.ok()) return bound;
  if (util::Status ran = insert->Run(); !ran.ok()) return ran;
  const int64_t id = sqlite3_last_insert_rowid(db_);

  util::Result<Statement> add_intent = Statement::Prepare(
      db_, "INSERT INTO batch_intents (batch_id, position, intent_id) VALUES (?1, ?2, ?3)");
  if (!add_intent.ok()) return add_intent.status();
  util::Result<Statement> move_intent =
      Statement::Prepare(db_,
                         "UPDATE intents SET state = 'building', batch_id = ?1, updated_at = ?2, "
                         "revision = revision + 1 WHERE id = ?3 AND state = 'approved'");
  if (!move_intent.ok()) return move_intent.status();
  for (size_t i = 0; i < batch.intents.size(); ++i) {
    bound = FirstFailure({
        add_intent->BindInt64(1, id),
        add_intent->BindInt64(2, static_cast<int64_t>(i)),
        add_intent->BindBlob(3, batch.intents[i]),
        move_intent->BindInt64(1, id),
        move_intent->BindUint64(2, batch.now),
        move_intent->BindBlob(3, batch.intents[i]),
    });
    if (!bound.ok()) return bound;
    if (util::Status ran = add_intent->Run(); !ran.ok()) return ran;
    util::Status moved = RunChanging(*move_intent, 1, IntentLabel(batch.intents[i]));
    if (!moved.ok()) return moved;
    util::Status reset = FirstFailure({add_intent->Reset(), move_intent->Reset()});
    if (!reset.ok()) return reset;
  }

  util::Result<Statement> add_input = Statement::Prepare(
      db_, "INSERT INTO batch_inputs (batch_id, position, txid, vout) VALUES (?1, ?2, ?3, ?4)");
  if (!add_input.ok()) return add_input.status();
  util::Result<Statement> reserve =
      Statement::Prepare(db_,
                         "UPDATE utxos SET state = 'reserved', batch_id = ?1 "
                         "WHERE txid = ?2 AND vout = ?3 AND state = 'available'");
  if (!reserve.ok()) return reserve.status();
  for (size_t i = 0; i < batch.inputs.size(); ++i) {
    bound = FirstFailure({
        add_input->BindInt64(1, id),
        add_input->BindInt64(2, static_cast<int64_t>(i)),
        BindOutpoint(*add_input, 3, batch.inputs[i]),
        reserve->BindInt64(1, id),
        BindOutpoint(*reserve, 2, batch.inputs[i]),
    });
    if (!bound.ok()) return bound;
    if (util::Status ran = add_input->Run(); !ran.ok()) return ran;
    util::Status reserved = RunChanging(*reserve, 1, CoinLabel(batch.inputs[i]));
    if (!reserved.ok()) return reserved;
    util::Status reset = FirstFailure({add_input->Reset(), reserve->Reset()});
    if (!reset.ok()) return reset;
  }

  util::Result<BatchRecord> created = ReadBatch(db_, id);
  if (!created.ok()) return created.status();
  if (util::Status committed = tx->Commit(); !committed.ok()) return committed;
  return created;
}

util::Result<BatchRecord> SqliteStore::GetBatch(int64_t id) {
  std::lock_guard<std::mutex> lock(mutex_);
  util::Result<Transaction> tx = Transaction::Begin(db_, Transaction::Mode::kRead);
  if (!tx.ok()) return tx.status();
  return ReadBatch(db_, id);
}

util::Result<std::vector<BatchRecord>> SqliteStore::ListBatches(const BatchFilter& filter) {
  if (filter.limit < 1 || filter.limit > kMaxListLimit) {
    return util::InvalidArgumentError("batch filter: limit " + std::to_string(filter.limit) +
                                      " is not in 1..1000");
  }
  std::lock_guard<std::mutex> lock(mutex_);
  util::Result<Transaction> tx = Transaction::Begin(db_, Transaction::Mode::kRead);
  if (!tx.ok()) return tx.status();
  util::Result<Statement> select =
      Statement::Prepare(db_, std::string(kSelectBatch) +
                                  " WHERE (?1 IS NULL OR wallet = ?1)"
                                  " AND (?2 IS NULL OR state IN (SELECT value FROM json_each(?2)))"
                                  " ORDER BY id DESC LIMIT ?3");
  if (!select.ok()) return select.status();
  util::Status bound = FirstFailure({
      BindOptionalText(*select, 1, filter.wallet),
      BindOptionalText(*select, 2, StateList(filter.states, BatchStateName)),
      select->BindInt64(3, static_cast<int64_t>(filter.limit)),
  });
  if (!bound.ok()) return bound;
  util::Result<Statement> intents = Statement::Prepare(db_, kSelectBatchIntents);
  if (!intents.ok()) return intents.status();
  util::Result<Statement> inputs = Statement::Prepare(db_, kSelectBatchInputs);
  if (!inputs.ok()) return inputs.status();
  std::vector<BatchRecord> batches;
  while (true) {
    util::Result<bool> row = select->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    util::Result<BatchRecord> batch = DecodeBatch(*select);
    if (!batch.ok()) return batch.status();
    if (util::Status loaded = LoadBatchLists(*intents, *inputs, *batch); !loaded.ok()) {
      return loaded;
    }
    batches.push_back(std::move(*batch));
  }
  return batches;
}

util::Result<BatchRecord> SqliteStore::UpdateBatch(const BatchUpdate& update) {
  const std::string label = BatchLabel(update.id);
  if (!IsAllowedMove(update.from, update.to)) {
    return util::InvalidArgumentError(label + ": " + std::string(BatchStateName(update.from)) +
                                      " to " + std::string(BatchStateName(update.to)) +
                                      " is not a move of the batch state machine");
  }
  const bool failing = update.to == BatchState::kFailed;
  if (failing && update.intents_on_failure != IntentState::kApproved &&
      update.intents_on_failure != IntentState::kRefused) {
    return util::InvalidArgumentError(label +
                                      ": intents on failure must go to approved or refused, not " +
                                      std::string(IntentStateName(update.intents_on_failure)));
  }
  std::lock_guard<std::mutex> lock(mutex_);
  util::Result<Transaction> tx = Transaction::Begin(db_, Transaction::Mode::kWrite);
  if (!tx.ok()) return tx.status();

  util::Result<Statement> select =
      Statement::Prepare(db_, "SELECT state, owner FROM batches WHERE id = ?1");
  if (!select.ok()) return select.status();
  if (util::Status bound = select->BindInt64(1, update.id); !bound.ok()) return bound;
  util::Result<bool> row = select->Step();
  if (!row.ok()) return row.status();
  if (!*row) return util::NotFoundError(label + " does not exist");
  RowReader read(*select, "batches");
  const BatchState state = ReadBatchState(read, 0);
  const std::string owner = read.Text(1, "owner");
  if (!read.status().ok()) return read.status();
  if (state != update.from) {
    return util::AbortedError(label + " is " + std::string(BatchStateName(state)) + ", not " +
                              std::string(BatchStateName(update.from)));
  }
  if (!update.owner.empty() && update.owner != owner) {
    return util::AbortedError(label + " is owned by another instance");
  }

  util::Result<Statement> write_batch = Statement::Prepare(
      db_,
      "UPDATE batches SET state = ?2, psbt = coalesce(?3, psbt), "
      "final_tx = coalesce(?4, final_tx), txid = coalesce(?5, txid), "
      "detail = coalesce(?6, detail), confirmed_height = coalesce(?7, confirmed_height), "
      "lease_until = ?8, updated_at = ?9, revision = revision + 1 WHERE id = ?1");
  if (!write_batch.ok()) return write_batch.status();
  util::Status bound = FirstFailure({
      write_batch->BindInt64(1, update.id),
      write_batch->BindText(2, BatchStateName(update.to)),
      BindOptionalBlob(*write_batch, 3, update.psbt),
      BindOptionalBlob(*write_batch, 4, update.final_tx),
      BindOptionalTxid(*write_batch, 5, update.txid),
      BindOptionalText(*write_batch, 6, update.detail),
      BindOptionalUint32(*write_batch, 7, update.confirmed_height),
      write_batch->BindUint64(8, update.now + update.lease_seconds),
      write_batch->BindUint64(9, update.now),
  });
  if (!bound.ok()) return bound;
  if (util::Status ran = RunChanging(*write_batch, 1, label); !ran.ok()) return ran;

  // The intents follow the batch. On failure, intents put back to approved leave the batch
  // (they are free to be built again); refused ones keep it, to show which batch failed.
  const IntentState intents_to = failing ? update.intents_on_failure : IntentStateFor(update.to);
  util::Result<Statement> move_intents = Statement::Prepare(
      db_,
      "UPDATE intents SET state = ?2, detail = coalesce(?3, detail), batch_id = ?4, "
      "updated_at = ?5, revision = revision + 1 WHERE batch_id = ?1");
  if (!move_intents.ok()) return move_intents.status();
  bound = FirstFailure({
      move_intents->BindInt64(1, update.id),
      move_intents->BindText(2, IntentStateName(intents_to)),
      BindOptionalText(*move_intents, 3, update.intent_detail),
      intents_to == IntentState::kApproved ? move_intents->BindNull(4)
                                           : move_intents->BindInt64(4, update.id),
      move_intents->BindUint64(5, update.now),
  });
  if (!bound.ok()) return bound;
  if (util::Status ran = move_intents->Run(); !ran.ok()) return ran;

  // The inputs: released on failure, spent on confirmation.
  const char* move_coins = nullptr;
  if (failing) {
    move_coins =
        "UPDATE utxos SET state = 'available', batch_id = NULL "
        "WHERE batch_id = ?1 AND state = 'reserved'";
  } else if (update.to == BatchState::kConfirmed) {
    move_coins = "UPDATE utxos SET state = 'spent' WHERE batch_id = ?1";
  }
  if (move_coins != nullptr) {
    util::Result<Statement> coins = Statement::Prepare(db_, move_coins);
    if (!coins.ok()) return coins.status();
    if (util::Status bound_id = coins->BindInt64(1, update.id); !bound_id.ok()) return bound_id;
    if (util::Status ran = coins->Run(); !ran.ok()) return ran;
  }

  util::Result<BatchRecord> updated = ReadBatch(db_, update.id);
  if (!updated.ok()) return updated.status();
  if (util::Status committed = tx->Commit(); !committed.ok()) return committed;
  return updated;
}

util::Result<BatchRecord> SqliteStore::ClaimBatch(int64_t id, std::string_view owner, uint64_t now,
                                                  uint64_t lease_seconds) {
  const std::string label = BatchLabel(id);
  std::lock_guard<std::mutex> lock(mutex_);
  util::Result<Transaction> tx = Transaction::Begin(db_, Transaction::Mode::kWrite);
  if (!tx.ok()) return tx.status();
  util::Result<Statement> select =
      Statement::Prepare(db_, "SELECT state, owner, lease_until FROM batches WHERE id = ?1");
  if (!select.ok()) return select.status();
  if (util::Status bound = select->BindInt64(1, id); !bound.ok()) return bound;
  util::Result<bool> row = select->Step();
  if (!row.ok()) return row.status();
  if (!*row) return util::NotFoundError(label + " does not exist");
  RowReader read(*select, "batches");
  const BatchState state = ReadBatchState(read, 0);
  const std::string current_owner = read.Text(1, "owner");
  const uint64_t lease_until = read.Uint64(2, "lease_until");
  if (!read.status().ok()) return read.status();
  if (IsFinal(state)) {
    return util::AbortedError(label + " is " + std::string(BatchStateName(state)));
  }
  // The lease runs while now < lease_until.
  if (current_owner != owner && now < lease_until) {
    return util::AbortedError(label + " is leased to another instance until " +
                              std::to_string(lease_until));
  }
  util::Result<Statement> claim =
      Statement::Prepare(db_,
                         "UPDATE batches SET owner = ?2, lease_until = ?3, updated_at = ?4, "
                         "revision = revision + 1 WHERE id = ?1");
  if (!claim.ok()) return claim.status();
  util::Status bound = FirstFailure({
      claim->BindInt64(1, id),
      claim->BindText(2, owner),
      claim->BindUint64(3, now + lease_seconds),
      claim->BindUint64(4, now),
  });
  if (!bound.ok()) return bound;
  if (util::Status ran = RunChanging(*claim, 1, label); !ran.ok()) return ran;
  util::Result<BatchRecord> claimed = ReadBatch(db_, id);
  if (!claimed.ok()) return claimed.status();
  if (util::Status committed = tx->Commit(); !committed.ok()) return committed;
  return claimed;
}

util::Status SqliteStore::PutSignerHead(const SignerHead& head) {
  std::lock_guard<std::mutex> lock(mutex_);
  util::Result<Transaction> tx = Transaction::Begin(db_, Transaction::Mode::kWrite);
  if (!tx.ok()) return tx.status();
  util::Result<Statement> upsert = Statement::Prepare(
      db_,
      "INSERT INTO signer_heads (signer, tree_size, root_hash, signed_tree_head, seen_at) "
      "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (signer) DO UPDATE SET "
      "tree_size = excluded.tree_size, root_hash = excluded.root_hash, "
      "signed_tree_head = excluded.signed_tree_head, seen_at = excluded.seen_at");
  if (!upsert.ok()) return upsert.status();
  util::Status bound = FirstFailure({
      upsert->BindBlob(1, head.signer),
      upsert->BindUint64(2, head.tree_size),
      upsert->BindBlob(3, head.root_hash),
      upsert->BindBlob(4, head.signed_tree_head),
      upsert->BindUint64(5, head.seen_at),
  });
  if (!bound.ok()) return bound;
  if (util::Status ran = upsert->Run(); !ran.ok()) return ran;
  return tx->Commit();
}

util::Result<std::optional<SignerHead>> SqliteStore::GetSignerHead(const KeyId& signer) {
  std::lock_guard<std::mutex> lock(mutex_);
  util::Result<Transaction> tx = Transaction::Begin(db_, Transaction::Mode::kRead);
  if (!tx.ok()) return tx.status();
  util::Result<Statement> select = Statement::Prepare(
      db_,
      "SELECT signer, tree_size, root_hash, signed_tree_head, seen_at FROM signer_heads "
      "WHERE signer = ?1");
  if (!select.ok()) return select.status();
  if (util::Status bound = select->BindBlob(1, signer); !bound.ok()) return bound;
  util::Result<bool> row = select->Step();
  if (!row.ok()) return row.status();
  if (!*row) return std::optional<SignerHead>();
  RowReader read(*select, "signer_heads");
  SignerHead head;
  head.signer = read.Fixed<32>(0, "signer");
  head.tree_size = read.Uint64(1, "tree_size");
  head.root_hash = read.Fixed<32>(2, "root_hash");
  head.signed_tree_head = read.Blob(3, "signed_tree_head");
  head.seen_at = read.Uint64(4, "seen_at");
  if (!read.status().ok()) return read.status();
  return std::optional<SignerHead>(std::move(head));
}

}  // namespace kinko::storage
