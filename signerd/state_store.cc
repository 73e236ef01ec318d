#include "signerd/state_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "auditlog/merkle.h"
#include "signerd/internal/sqlite.h"
#include "util/check.h"
#include "util/hex.h"

namespace kinko::signerd {
namespace {

using internal::Exec;
using internal::SqliteError;
using internal::Statement;
using internal::Transaction;

// DO NOT CHANGE: stored in every state database (table meta, key 'application'); Open refuses a
// database that does not carry it.
constexpr std::string_view kApplicationName = "kinko-signer";

// How long a connection waits for a lock another connection holds (a reader's snapshot while
// the writer checkpoints, say) before SQLITE_BUSY.
constexpr int kBusyTimeoutMs = 5000;

// The schema of version kStateSchemaVersion (doc/signer-state.md describes every column).
// DO NOT CHANGE without a migration and a new kStateSchemaVersion.
//
// SQLite integers are signed 64-bit: a uint64_t (times, sequences) is stored as the int64_t
// with the same bits and read back the same way. Key id lists are their 32-byte ids
// concatenated. Objects are stored in their own encodings (SignedPolicy::Encode,
// SignedFreeze::Encode, Entry::Encode, SignedTreeHead::Encode), so that Load re-verifies them
// with their own decoders.
constexpr const char* kSchema = R"sql(
-- One row ('application', 'kinko-signer'): Open refuses a database without it.
CREATE TABLE meta (
  key TEXT PRIMARY KEY NOT NULL,
  value TEXT NOT NULL
) STRICT;
-- One row: the PinnedConfig. Key id lists are 32-byte ids concatenated, sorted.
CREATE TABLE config (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  wallet_id TEXT NOT NULL,
  network TEXT NOT NULL,
  descriptor TEXT NOT NULL,
  receive_index_max INTEGER NOT NULL,
  change_index_max INTEGER NOT NULL,
  governance_admins BLOB NOT NULL,
  governance_threshold INTEGER NOT NULL,
  watchers BLOB NOT NULL,
  identity_public_key BLOB NOT NULL,
  key_backend TEXT NOT NULL,
  key_file TEXT NOT NULL,
  pkcs11_module TEXT NOT NULL,
  pkcs11_token_label TEXT NOT NULL,
  pkcs11_key_label TEXT NOT NULL,
  created_at INTEGER NOT NULL
) STRICT;
-- Every accepted policy. effective_from: when the active one took effect, when the pending one
-- will; a superseded one keeps its last value.
CREATE TABLE policies (
  digest BLOB PRIMARY KEY NOT NULL,
  sequence INTEGER NOT NULL,
  signed_policy BLOB NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('active', 'pending', 'superseded')),
  effective_from INTEGER NOT NULL
) STRICT;
-- One row: with policies, the policy::GovernanceState.
CREATE TABLE governance (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  active_digest BLOB NOT NULL REFERENCES policies (digest),
  active_since INTEGER NOT NULL,
  pending_digest BLOB REFERENCES policies (digest),
  pending_from INTEGER NOT NULL
) STRICT;
-- Every intent id that a signed decision consumed.
CREATE TABLE consumed_intents (
  id BLOB PRIMARY KEY NOT NULL CHECK (length(id) = 16)
) STRICT, WITHOUT ROWID;
-- The velocity ledger, in the order of the spends (id), amounts in satoshi.
CREATE TABLE spends (
  id INTEGER PRIMARY KEY,
  wallet TEXT NOT NULL,
  time INTEGER NOT NULL,
  amount INTEGER NOT NULL CHECK (amount >= 0)
) STRICT;
-- Every freeze applied, in order (position), in force or lifted.
CREATE TABLE freezes (
  digest BLOB PRIMARY KEY NOT NULL CHECK (length(digest) = 32),
  position INTEGER NOT NULL UNIQUE,
  signed_freeze BLOB NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('in_force', 'lifted'))
) STRICT;
-- The audit log: entry idx is leaf idx; leaf_hash = HashLeaf(entry).
CREATE TABLE audit_entries (
  idx INTEGER PRIMARY KEY CHECK (idx >= 0),
  entry BLOB NOT NULL,
  leaf_hash BLOB NOT NULL CHECK (length(leaf_hash) = 32)
) STRICT;
-- Every signed tree head, one per log size.
CREATE TABLE tree_heads (
  tree_size INTEGER PRIMARY KEY CHECK (tree_size >= 0),
  signed_head BLOB NOT NULL
) STRICT;
)sql";

int64_t ToSql(uint64_t value) { return static_cast<int64_t>(value); }
uint64_t FromSql(int64_t value) { return static_cast<uint64_t>(value); }

std::string Where(sqlite3* db) { return "state database " + internal::DatabasePath(db); }
std::string WherePath(const std::string& path) { return "state database " + path; }

// kDataLoss "state database <path>: <what>": a stored value that Load refuses.
util::Status Damaged(sqlite3* db, const std::string& what) {
  return util::DataLossError(Where(db) + ": " + what);
}

bool IsConstraintViolation(const Statement& statement) {
  return (statement.last_result() & 0xff) == SQLITE_CONSTRAINT;
}

// --- Files and the writer's lock --------------------------------------------------------------

// Creates `path` as an empty file with mode 0600 (an empty file is an empty SQLite database;
// SQLite gives its -wal and -shm files the database file's mode). Never replaces a file.
util::Status CreateEmptyFile(const std::string& path) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0 && errno == EEXIST) {
    return util::AlreadyExistsError(WherePath(path) + " already exists");
  }
  if (fd < 0) {
    return util::UnavailableError(WherePath(path) + ": cannot create (" + std::strerror(errno) +
                                  ")");
  }
  // The umask may have removed bits; the file is exactly 0600 whatever it is.
  const bool chmod_ok = fchmod(fd, 0600) == 0;
  const bool close_ok = close(fd) == 0;
  if (!chmod_ok || !close_ok) {
    unlink(path.c_str());
    return util::UnavailableError(WherePath(path) + ": cannot set its permissions");
  }
  return util::OkStatus();
}

// Removes what a failed Create made: the database, its WAL and shared-memory files and the lock
// file. Requires the connection to be closed.
void RemoveDatabaseFiles(const std::string& path) {
  for (const char* suffix : {"", "-wal", "-shm", "-lock"}) {
    unlink((path + suffix).c_str());
  }
}

// fsync of the directory holding `path`, so that a new file's name survives a power loss.
util::Status SyncParentDirectory(const std::string& path) {
  const size_t slash = path.rfind('/');
  const std::string dir =
      slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  const int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return util::UnavailableError(WherePath(path) + ": cannot open its directory");
  const bool synced = fsync(fd) == 0;
  close(fd);
  if (!synced) return util::UnavailableError(WherePath(path) + ": cannot sync its directory");
  return util::OkStatus();
}

// Takes the writer's lock on the database `path`: an exclusive flock(2) on `<path>-lock`
// (created with mode 0600 when missing), held until the returned descriptor is closed or the
// process ends, whatever way it ends.
//
// Why a lock file: SQLite's locking_mode=EXCLUSIVE keeps WAL readers out too (OpenReadOnly
// must read while the daemon runs), and a write transaction held open would hide every commit
// from readers. flock on the database file itself would share the file with SQLite's POSIX
// locks, which any close() of that file by this process releases. A lock file has neither
// problem; readers do not take it.
util::Result<int> LockWriter(const std::string& path) {
  const std::string lock_path = path + "-lock";
  const int fd = open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    return util::UnavailableError(WherePath(path) + ": cannot open lock file " + lock_path + " (" +
                                  std::strerror(errno) + ")");
  }
  int rc = 0;
  do {
    rc = flock(fd, LOCK_EX | LOCK_NB);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    const int error = errno;
    close(fd);
    if (error == EWOULDBLOCK) {
      return util::FailedPreconditionError(WherePath(path) + " is in use by another process");
    }
    return util::UnavailableError(WherePath(path) + ": cannot lock " + lock_path + " (" +
                                  std::strerror(error) + ")");
  }
  return fd;
}

util::Status CheckExists(const std::string& path) {
  struct stat info {};
  if (stat(path.c_str(), &info) == 0) return util::OkStatus();
  if (errno == ENOENT) return util::NotFoundError(WherePath(path) + " does not exist");
  return util::UnavailableError(WherePath(path) + ": " + std::strerror(errno));
}

// Opens a connection to the existing file `path` with `flags` (SQLITE_OPEN_READWRITE or
// SQLITE_OPEN_READONLY; never SQLITE_OPEN_CREATE: Create makes the file itself).
util::Result<sqlite3*> OpenConnection(const std::string& path, int flags) {
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    // On most failures SQLite still returns a handle that holds the message.
    const util::Status error =
        db == nullptr ? util::UnavailableError(WherePath(path) + ": " + sqlite3_errstr(rc))
                      : util::UnavailableError(WherePath(path) + ": " + sqlite3_errmsg(db));
    sqlite3_close(db);
    return error;
  }
  const int timeout_rc = sqlite3_busy_timeout(db, kBusyTimeoutMs);
  if (timeout_rc != SQLITE_OK) {
    const util::Status error = SqliteError(db, timeout_rc);
    sqlite3_close(db);
    return error;
  }
  return db;
}

// --- Reading stored values -----------------------------------------------------------------
// The file may have been edited, so each stored value's type and range is checked: kDataLoss
// naming `what` otherwise.

util::Result<int64_t> ReadInt64(sqlite3* db, const Statement& row, int column,
                                const std::string& what) {
  if (row.ColumnType(column) != SQLITE_INTEGER) return Damaged(db, what + ": not an integer");
  return row.ColumnInt64(column);
}

util::Result<uint64_t> ReadUint64(sqlite3* db, const Statement& row, int column,
                                  const std::string& what) {
  util::Result<int64_t> value = ReadInt64(db, row, column, what);
  if (!value.ok()) return value.status();
  return FromSql(*value);
}

util::Result<uint32_t> ReadUint32(sqlite3* db, const Statement& row, int column,
                                  const std::string& what) {
  util::Result<int64_t> value = ReadInt64(db, row, column, what);
  if (!value.ok()) return value.status();
  if (*value < 0 || *value > std::numeric_limits<uint32_t>::max()) {
    return Damaged(db, what + ": " + std::to_string(*value) + " is out of range");
  }
  return static_cast<uint32_t>(*value);
}

util::Result<std::string> ReadText(sqlite3* db, const Statement& row, int column,
                                   const std::string& what) {
  if (row.ColumnType(column) != SQLITE_TEXT) return Damaged(db, what + ": not a text");
  return row.ColumnText(column);
}

util::Result<std::vector<uint8_t>> ReadBlob(sqlite3* db, const Statement& row, int column,
                                            const std::string& what) {
  if (row.ColumnType(column) != SQLITE_BLOB) return Damaged(db, what + ": not a blob");
  return row.ColumnBlob(column);
}

template <size_t N>
util::Result<std::array<uint8_t, N>> ReadFixed(sqlite3* db, const Statement& row, int column,
                                               const std::string& what) {
  util::Result<std::vector<uint8_t>> bytes = ReadBlob(db, row, column, what);
  if (!bytes.ok()) return bytes.status();
  if (bytes->size() != N) {
    return Damaged(
        db, what + ": " + std::to_string(bytes->size()) + " bytes, not " + std::to_string(N));
  }
  std::array<uint8_t, N> out{};
  std::copy(bytes->begin(), bytes->end(), out.begin());
  return out;
}

// Runs a query that must return exactly one row and leaves `statement` on it.
util::Status StepToSingleRow(sqlite3* db, Statement& statement, const std::string& what) {
  util::Result<bool> row = statement.Step();
  if (!row.ok()) return row.status();
  if (!*row) return Damaged(db, what + ": missing");
  return util::OkStatus();
}

util::Status ExpectNoMoreRows(sqlite3* db, Statement& statement, const std::string& what) {
  util::Result<bool> row = statement.Step();
  if (!row.ok()) return row.status();
  if (*row) return Damaged(db, what + ": more than one row");
  return util::OkStatus();
}

// --- The pinned configuration ----------------------------------------------------------------

bool IsSortedUnique(const std::vector<policy::KeyId>& ids) {
  return std::adjacent_find(
             ids.begin(), ids.end(),
             [](const policy::KeyId& a, const policy::KeyId& b) { return !(a < b); }) == ids.end();
}

// The rules of a PinnedConfig (StateStore::Create's comment). Messages name the field.
util::Status CheckConfig(const PinnedConfig& config) {
  if (config.key_backend != "file" && config.key_backend != "pkcs11") {
    return util::InvalidArgumentError("key backend '" +
                                      policy::EscapeForMessage(config.key_backend) +
                                      "' is neither file nor pkcs11");
  }
  if (config.governance_admins.empty()) {
    return util::InvalidArgumentError("governance admins: none");
  }
  if (config.governance_threshold == 0 ||
      config.governance_threshold > config.governance_admins.size()) {
    return util::InvalidArgumentError(
        "governance threshold " + std::to_string(config.governance_threshold) + ": must be 1 to " +
        std::to_string(config.governance_admins.size()) + " (the number of admins)");
  }
  if (!IsSortedUnique(config.governance_admins)) {
    return util::InvalidArgumentError("governance admins: not sorted, or listed twice");
  }
  if (!IsSortedUnique(config.watchers)) {
    return util::InvalidArgumentError("watchers: not sorted, or listed twice");
  }
  return util::OkStatus();
}

std::vector<uint8_t> EncodeKeyIds(const std::vector<policy::KeyId>& ids) {
  std::vector<uint8_t> out;
  out.reserve(ids.size() * sizeof(policy::KeyId));
  for (const policy::KeyId& id : ids) out.insert(out.end(), id.begin(), id.end());
  return out;
}

util::Result<std::vector<policy::KeyId>> DecodeKeyIds(sqlite3* db,
                                                      const std::vector<uint8_t>& bytes,
                                                      const std::string& what) {
  if (bytes.size() % sizeof(policy::KeyId) != 0) {
    return Damaged(db, what + ": " + std::to_string(bytes.size()) + " bytes, not a multiple of 32");
  }
  std::vector<policy::KeyId> ids(bytes.size() / sizeof(policy::KeyId));
  for (size_t i = 0; i < ids.size(); ++i) {
    std::copy_n(bytes.begin() + static_cast<std::ptrdiff_t>(i * sizeof(policy::KeyId)),
                sizeof(policy::KeyId), ids[i].begin());
  }
  return ids;
}

util::Status WriteConfig(sqlite3* db, const PinnedConfig& config) {
  util::Result<Statement> insert = Statement::Prepare(
      db,
      "INSERT INTO config (id, wallet_id, network, descriptor, receive_index_max, "
      "change_index_max, governance_admins, governance_threshold, watchers, identity_public_key, "
      "key_backend, key_file, pkcs11_module, pkcs11_token_label, pkcs11_key_label, created_at) "
      "VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)");
  if (!insert.ok()) return insert.status();
  for (util::Status bound : {
           insert->BindText(1, config.wallet_id),
           insert->BindText(2, btc::NetworkName(config.network)),
           insert->BindText(3, config.descriptor),
           insert->BindInt64(4, config.receive_index_max),
           insert->BindInt64(5, config.change_index_max),
           insert->BindBlob(6, EncodeKeyIds(config.governance_admins)),
           insert->BindInt64(7, config.governance_threshold),
           insert->BindBlob(8, EncodeKeyIds(config.watchers)),
           insert->BindBlob(9, config.identity_public_key),
           insert->BindText(10, config.key_backend),
           insert->BindText(11, config.key_file),
           insert->BindText(12, config.pkcs11_module),
           insert->BindText(13, config.pkcs11_token_label),
           insert->BindText(14, config.pkcs11_key_label),
           insert->BindInt64(15, ToSql(config.created_at)),
       }) {
    if (!bound.ok()) return bound;
  }
  return insert->Run();
}

util::Result<PinnedConfig> ReadConfig(sqlite3* db) {
  util::Result<Statement> select = Statement::Prepare(
      db,
      "SELECT wallet_id, network, descriptor, receive_index_max, change_index_max, "
      "governance_admins, governance_threshold, watchers, identity_public_key, key_backend, "
      "key_file, pkcs11_module, pkcs11_token_label, pkcs11_key_label, created_at FROM config");
  if (!select.ok()) return select.status();
  if (util::Status one = StepToSingleRow(db, *select, "config"); !one.ok()) return one;
  const Statement& row = *select;

  PinnedConfig config;
  util::Result<std::string> wallet_id = ReadText(db, row, 0, "config wallet_id");
  util::Result<std::string> network = ReadText(db, row, 1, "config network");
  util::Result<std::string> descriptor = ReadText(db, row, 2, "config descriptor");
  util::Result<uint32_t> receive_max = ReadUint32(db, row, 3, "config receive_index_max");
  util::Result<uint32_t> change_max = ReadUint32(db, row, 4, "config change_index_max");
  util::Result<std::vector<uint8_t>> admins = ReadBlob(db, row, 5, "config governance_admins");
  util::Result<uint32_t> threshold = ReadUint32(db, row, 6, "config governance_threshold");
  util::Result<std::vector<uint8_t>> watchers = ReadBlob(db, row, 7, "config watchers");
  util::Result<crypto::Ed25519PublicKey> identity =
      ReadFixed<crypto::kEd25519PublicKeySize>(db, row, 8, "config identity_public_key");
  util::Result<std::string> backend = ReadText(db, row, 9, "config key_backend");
  util::Result<std::string> key_file = ReadText(db, row, 10, "config key_file");
  util::Result<std::string> module = ReadText(db, row, 11, "config pkcs11_module");
  util::Result<std::string> token = ReadText(db, row, 12, "config pkcs11_token_label");
  util::Result<std::string> key_label = ReadText(db, row, 13, "config pkcs11_key_label");
  util::Result<uint64_t> created_at = ReadUint64(db, row, 14, "config created_at");
  for (const util::Status& read :
       {wallet_id.status(), network.status(), descriptor.status(), receive_max.status(),
        change_max.status(), admins.status(), threshold.status(), watchers.status(),
        identity.status(), backend.status(), key_file.status(), module.status(), token.status(),
        key_label.status(), created_at.status()}) {
    if (!read.ok()) return read;
  }
  util::Result<btc::Network> parsed_network = btc::ParseNetwork(*network);
  if (!parsed_network.ok()) {
    return Damaged(db, "config network: " + parsed_network.status().message());
  }
  util::Result<std::vector<policy::KeyId>> admin_ids =
      DecodeKeyIds(db, *admins, "config governance_admins");
  if (!admin_ids.ok()) return admin_ids.status();
  util::Result<std::vector<policy::KeyId>> watcher_ids =
      DecodeKeyIds(db, *watchers, "config watchers");
  if (!watcher_ids.ok()) return watcher_ids.status();

  config.wallet_id = std::move(*wallet_id);
  config.network = *parsed_network;
  config.descriptor = std::move(*descriptor);
  config.receive_index_max = *receive_max;
  config.change_index_max = *change_max;
  config.governance_admins = std::move(*admin_ids);
  config.governance_threshold = *threshold;
  config.watchers = std::move(*watcher_ids);
  config.identity_public_key = *identity;
  config.key_backend = std::move(*backend);
  config.key_file = std::move(*key_file);
  config.pkcs11_module = std::move(*module);
  config.pkcs11_token_label = std::move(*token);
  config.pkcs11_key_label = std::move(*key_label);
  config.created_at = *created_at;
  if (util::Status valid = CheckConfig(config); !valid.ok()) {
    return Damaged(db, "config: " + valid.message());
  }
  if (util::Status single = ExpectNoMoreRows(db, *select, "config"); !single.ok()) return single;
  return config;
}

// --- Governance and the policy history ----------------------------------------------------

util::Status UpsertPolicy(sqlite3* db, const policy::SignedPolicy& signed_policy,
                          std::string_view status, uint64_t effective_from) {
  util::Result<Statement> upsert = Statement::Prepare(
      db,
      "INSERT INTO policies (digest, sequence, signed_policy, status, effective_from) "
      "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (digest) DO UPDATE SET "
      "signed_policy = excluded.signed_policy, status = excluded.status, "
      "effective_from = excluded.effective_from");
  if (!upsert.ok()) return upsert.status();
  const policy::Policy& p = signed_policy.policy();
  for (util::Status bound : {
           upsert->BindBlob(1, p.digest()),
           upsert->BindInt64(2, ToSql(p.fields().sequence)),
           upsert->BindBlob(3, signed_policy.Encode()),
           upsert->BindText(4, status),
           upsert->BindInt64(5, ToSql(effective_from)),
       }) {
    if (!bound.ok()) return bound;
  }
  return upsert->Run();
}

// Makes `state` the stored governance state: every earlier active or pending policy becomes
// superseded, `state`'s policies are stored (or updated) as active and pending, and the one
// governance row points at them.
util::Status WriteGovernance(sqlite3* db, const policy::GovernanceState& state) {
  if (util::Status superseded = Exec(db,
                                     "UPDATE policies SET status = 'superseded' "
                                     "WHERE status != 'superseded'");
      !superseded.ok()) {
    return superseded;
  }
  if (util::Status active = UpsertPolicy(db, state.active, "active", state.active_since);
      !active.ok()) {
    return active;
  }
  if (state.pending.has_value()) {
    if (util::Status pending = UpsertPolicy(db, *state.pending, "pending", state.pending_from);
        !pending.ok()) {
      return pending;
    }
  }
  util::Result<Statement> upsert = Statement::Prepare(
      db,
      "INSERT INTO governance (id, active_digest, active_since, pending_digest, pending_from) "
      "VALUES (1, ?1, ?2, ?3, ?4) ON CONFLICT (id) DO UPDATE SET "
      "active_digest = excluded.active_digest, active_since = excluded.active_since, "
      "pending_digest = excluded.pending_digest, pending_from = excluded.pending_from");
  if (!upsert.ok()) return upsert.status();
  for (util::Status bound : {
           upsert->BindBlob(1, state.active.policy().digest()),
           upsert->BindInt64(2, ToSql(state.active_since)),
           state.pending.has_value() ? upsert->BindBlob(3, state.pending->policy().digest())
                                     : upsert->BindNull(3),
           upsert->BindInt64(4, ToSql(state.pending_from)),
       }) {
    if (!bound.ok()) return bound;
  }
  return upsert->Run();
}

struct StoredPolicy {
  policy::SignedPolicy signed_policy;
  std::string status;
  uint64_t effective_from = 0;
};

util::Result<std::map<policy::Digest, StoredPolicy>> ReadPolicies(sqlite3* db) {
  util::Result<Statement> select = Statement::Prepare(
      db, "SELECT digest, sequence, signed_policy, status, effective_from FROM policies");
  if (!select.ok()) return select.status();
  std::map<policy::Digest, StoredPolicy> policies;
  for (;;) {
    util::Result<bool> row = select->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    util::Result<policy::Digest> digest = ReadFixed<32>(db, *select, 0, "policy digest");
    if (!digest.ok()) return digest.status();
    const std::string what = "policy " + util::HexEncode(*digest);
    util::Result<uint64_t> sequence = ReadUint64(db, *select, 1, what + " sequence");
    util::Result<std::vector<uint8_t>> encoded = ReadBlob(db, *select, 2, what);
    util::Result<std::string> status = ReadText(db, *select, 3, what + " status");
    util::Result<uint64_t> effective_from = ReadUint64(db, *select, 4, what + " effective_from");
    for (const util::Status& read :
         {sequence.status(), encoded.status(), status.status(), effective_from.status()}) {
      if (!read.ok()) return read;
    }
    util::Result<policy::SignedPolicy> decoded = policy::SignedPolicy::Decode(*encoded);
    if (!decoded.ok()) {
      return Damaged(db, what + " does not decode: " + decoded.status().message());
    }
    if (decoded->policy().digest() != *digest) {
      return Damaged(db, what + " is stored under another digest (its digest is " +
                             util::HexEncode(decoded->policy().digest()) + ")");
    }
    if (decoded->policy().fields().sequence != *sequence) {
      return Damaged(db, what + ": stored sequence " + std::to_string(*sequence) +
                             " is not its sequence " +
                             std::to_string(decoded->policy().fields().sequence));
    }
    if (*status != "active" && *status != "pending" && *status != "superseded") {
      return Damaged(db, what + ": unknown status '" + policy::EscapeForMessage(*status) + "'");
    }
    policies.emplace(*digest, StoredPolicy{.signed_policy = std::move(*decoded),
                                           .status = std::move(*status),
                                           .effective_from = *effective_from});
  }
  return policies;
}

// Rebuilds the governance state from the governance row and the policies it names, and checks
// that the policies' statuses and times agree with it.
util::Result<policy::GovernanceState> ReadGovernance(sqlite3* db) {
  util::Result<std::map<policy::Digest, StoredPolicy>> policies = ReadPolicies(db);
  if (!policies.ok()) return policies.status();

  util::Result<Statement> select = Statement::Prepare(
      db, "SELECT active_digest, active_since, pending_digest, pending_from FROM governance");
  if (!select.ok()) return select.status();
  if (util::Status one = StepToSingleRow(db, *select, "governance"); !one.ok()) return one;
  util::Result<policy::Digest> active_digest =
      ReadFixed<32>(db, *select, 0, "governance active_digest");
  util::Result<uint64_t> active_since = ReadUint64(db, *select, 1, "governance active_since");
  util::Result<uint64_t> pending_from = ReadUint64(db, *select, 3, "governance pending_from");
  for (const util::Status& read :
       {active_digest.status(), active_since.status(), pending_from.status()}) {
    if (!read.ok()) return read;
  }
  std::optional<policy::Digest> pending_digest;
  if (select->ColumnType(2) != SQLITE_NULL) {
    util::Result<policy::Digest> digest =
        ReadFixed<32>(db, *select, 2, "governance pending_digest");
    if (!digest.ok()) return digest.status();
    pending_digest = *digest;
  }
  if (util::Status single = ExpectNoMoreRows(db, *select, "governance"); !single.ok()) {
    return single;
  }

  // The policy the governance row names as `role`, which must be stored with that status and
  // time.
  auto named = [&](const policy::Digest& digest, std::string_view role,
                   uint64_t time) -> util::Result<policy::SignedPolicy> {
    const std::string what = std::string(role) + " policy " + util::HexEncode(digest);
    const auto found = policies->find(digest);
    if (found == policies->end()) return Damaged(db, what + " is not stored");
    if (found->second.status != role) {
      return Damaged(db, what + " is stored with status '" + found->second.status + "'");
    }
    if (found->second.effective_from != time) {
      return Damaged(db, what + " is stored with time " +
                             std::to_string(found->second.effective_from) +
                             ", the governance row says " + std::to_string(time));
    }
    return found->second.signed_policy;
  };

  util::Result<policy::SignedPolicy> active = named(*active_digest, "active", *active_since);
  if (!active.ok()) return active.status();
  policy::GovernanceState state{.active = std::move(*active),
                                .active_since = *active_since,
                                .pending = std::nullopt,
                                .pending_from = *pending_from};
  if (pending_digest.has_value()) {
    util::Result<policy::SignedPolicy> pending = named(*pending_digest, "pending", *pending_from);
    if (!pending.ok()) return pending.status();
    state.pending = std::move(*pending);
  }
  // Every other stored policy is history.
  for (const auto& [digest, stored] : *policies) {
    const bool named_here = digest == *active_digest || digest == pending_digest;
    if (!named_here && stored.status != "superseded") {
      return Damaged(db, "policy " + util::HexEncode(digest) + " is stored with status '" +
                             stored.status + "' but the governance row does not name it");
    }
  }
  return state;
}

// --- The audit log -----------------------------------------------------------------------------

// The number of stored entries: one more than the greatest index (Load checks that there is no
// gap), found in the primary key's b-tree without a scan.
util::Result<uint64_t> CountEntries(sqlite3* db) {
  util::Result<Statement> select =
      Statement::Prepare(db, "SELECT COALESCE(MAX(idx) + 1, 0) FROM audit_entries");
  if (!select.ok()) return select.status();
  if (util::Status one = StepToSingleRow(db, *select, "audit entry count"); !one.ok()) return one;
  return ReadUint64(db, *select, 0, "audit entry count");
}

// Reads every entry in index order, checks that each decodes, that its stored leaf hash is
// HashLeaf(entry) and that the indexes have no gap, and returns the log of their leaf hashes.
util::Result<auditlog::MerkleLog> ReadLog(sqlite3* db) {
  util::Result<Statement> select =
      Statement::Prepare(db, "SELECT idx, entry, leaf_hash FROM audit_entries ORDER BY idx");
  if (!select.ok()) return select.status();
  auditlog::MerkleLog log;
  for (;;) {
    util::Result<bool> row = select->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    const uint64_t expected = log.size();
    const std::string what = "audit entry " + std::to_string(expected);
    util::Result<uint64_t> index = ReadUint64(db, *select, 0, what + " index");
    if (!index.ok()) return index.status();
    if (*index != expected) {
      return Damaged(
          db, what + " is missing (the next stored entry is " + std::to_string(*index) + ")");
    }
    util::Result<std::vector<uint8_t>> entry = ReadBlob(db, *select, 1, what);
    if (!entry.ok()) return entry.status();
    util::Result<auditlog::Hash> leaf_hash = ReadFixed<32>(db, *select, 2, what + " leaf hash");
    if (!leaf_hash.ok()) return leaf_hash.status();
    util::Result<auditlog::Entry> decoded = auditlog::Entry::Decode(*entry);
    if (!decoded.ok()) {
      return Damaged(db, what + " does not decode: " + decoded.status().message());
    }
    if (auditlog::HashLeaf(*entry) != *leaf_hash) {
      return Damaged(db, what + ": the stored leaf hash is not the entry's");
    }
    log.AppendLeafHash(*leaf_hash);
  }
  return log;
}

util::Result<auditlog::SignedTreeHead> DecodeStoredHead(sqlite3* db, const Statement& row) {
  util::Result<uint64_t> size = ReadUint64(db, row, 0, "tree head size");
  if (!size.ok()) return size.status();
  const std::string what = "tree head of size " + std::to_string(*size);
  util::Result<std::vector<uint8_t>> encoded = ReadBlob(db, row, 1, what);
  if (!encoded.ok()) return encoded.status();
  util::Result<auditlog::SignedTreeHead> head = auditlog::SignedTreeHead::Decode(*encoded);
  if (!head.ok()) return Damaged(db, what + " does not decode: " + head.status().message());
  if (head->head().size != *size) {
    return Damaged(db, what + " holds a head of size " + std::to_string(head->head().size));
  }
  return head;
}

// Checks every stored head against `log` and the pinned identity key; returns the latest (of
// the whole log), or nullopt when the log is empty and no head is stored.
util::Result<std::optional<auditlog::SignedTreeHead>> ReadAndVerifyHeads(
    sqlite3* db, const auditlog::MerkleLog& log, const crypto::Ed25519PublicKey& identity) {
  util::Result<Statement> select =
      Statement::Prepare(db, "SELECT tree_size, signed_head FROM tree_heads ORDER BY tree_size");
  if (!select.ok()) return select.status();
  std::optional<auditlog::SignedTreeHead> latest;
  for (;;) {
    util::Result<bool> row = select->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    util::Result<auditlog::SignedTreeHead> head = DecodeStoredHead(db, *select);
    if (!head.ok()) return head.status();
    const std::string what = "tree head of size " + std::to_string(head->head().size);
    if (util::Status signer = head->Verify(identity); !signer.ok()) {
      return Damaged(db, what + ": " + signer.message());
    }
    if (util::Status matches = auditlog::VerifyLogMatchesHead(log, head->head()); !matches.ok()) {
      return Damaged(db, what + ": " + matches.message());
    }
    latest = std::move(*head);
  }
  if (!latest.has_value() && log.size() > 0) {
    return Damaged(
        db, "the log has " + std::to_string(log.size()) + " entries but no signed tree head");
  }
  if (latest.has_value() && latest->head().size != log.size()) {
    return Damaged(db, "the latest tree head is of size " + std::to_string(latest->head().size) +
                           " but the log has " + std::to_string(log.size()) + " entries");
  }
  return latest;
}

// --- The rest of the signer state --------------------------------------------------------------

util::Result<std::set<policy::IntentId>> ReadConsumed(sqlite3* db) {
  util::Result<Statement> select = Statement::Prepare(db, "SELECT id FROM consumed_intents");
  if (!select.ok()) return select.status();
  std::set<policy::IntentId> consumed;
  for (;;) {
    util::Result<bool> row = select->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    util::Result<policy::IntentId> id = ReadFixed<16>(db, *select, 0, "consumed intent id");
    if (!id.ok()) return id.status();
    consumed.insert(*id);
  }
  return consumed;
}

util::Result<std::vector<policy::Spend>> ReadSpends(sqlite3* db) {
  util::Result<Statement> select =
      Statement::Prepare(db, "SELECT id, wallet, time, amount FROM spends ORDER BY id");
  if (!select.ok()) return select.status();
  std::vector<policy::Spend> spends;
  for (;;) {
    util::Result<bool> row = select->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    const std::string what = "spend " + std::to_string(select->ColumnInt64(0));
    util::Result<std::string> wallet = ReadText(db, *select, 1, what + " wallet");
    util::Result<uint64_t> time = ReadUint64(db, *select, 2, what + " time");
    util::Result<int64_t> sats = ReadInt64(db, *select, 3, what + " amount");
    for (const util::Status& read : {wallet.status(), time.status(), sats.status()}) {
      if (!read.ok()) return read;
    }
    util::Result<btc::Amount> amount = btc::Amount::FromSats(*sats);
    if (!amount.ok()) return Damaged(db, what + " amount: " + amount.status().message());
    spends.push_back(policy::Spend{.wallet = std::move(*wallet), .time = *time, .amount = *amount});
  }
  return spends;
}

// The freezes in force (in the order they were applied) and the digests of the lifted ones.
util::Status ReadFreezes(sqlite3* db, signer::SignerState& state) {
  util::Result<Statement> select =
      Statement::Prepare(db, "SELECT digest, signed_freeze, state FROM freezes ORDER BY position");
  if (!select.ok()) return select.status();
  for (;;) {
    util::Result<bool> row = select->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    util::Result<policy::Digest> digest = ReadFixed<32>(db, *select, 0, "freeze digest");
    if (!digest.ok()) return digest.status();
    const std::string what = "freeze " + util::HexEncode(*digest);
    util::Result<std::vector<uint8_t>> encoded = ReadBlob(db, *select, 1, what);
    util::Result<std::string> freeze_state = ReadText(db, *select, 2, what + " state");
    for (const util::Status& read : {encoded.status(), freeze_state.status()}) {
      if (!read.ok()) return read;
    }
    util::Result<signerapi::SignedFreeze> freeze = signerapi::SignedFreeze::Decode(*encoded);
    if (!freeze.ok()) return Damaged(db, what + " does not decode: " + freeze.status().message());
    if (freeze->freeze().digest() != *digest) {
      return Damaged(db, what + " is stored under another digest (its digest is " +
                             util::HexEncode(freeze->freeze().digest()) + ")");
    }
    if (*freeze_state == "in_force") {
      state.freezes.push_back(std::move(*freeze));
    } else if (*freeze_state == "lifted") {
      state.lifted_freezes.insert(*digest);
    } else {
      return Damaged(db,
                     what + ": unknown state '" + policy::EscapeForMessage(*freeze_state) + "'");
    }
  }
  return util::OkStatus();
}

// --- Writing a commit --------------------------------------------------------------------------

util::Status AppendEntries(sqlite3* db, uint64_t first_index,
                           const std::vector<auditlog::Entry>& entries) {
  util::Result<Statement> insert = Statement::Prepare(
      db, "INSERT INTO audit_entries (idx, entry, leaf_hash) VALUES (?1, ?2, ?3)");
  if (!insert.ok()) return insert.status();
  for (size_t i = 0; i < entries.size(); ++i) {
    const std::vector<uint8_t> encoded = entries[i].Encode();
    for (util::Status bound : {
             insert->BindInt64(1, ToSql(first_index + i)),
             insert->BindBlob(2, encoded),
             insert->BindBlob(3, auditlog::HashLeaf(encoded)),
         }) {
      if (!bound.ok()) return bound;
    }
    if (util::Status run = insert->Run(); !run.ok()) return run;
    if (util::Status reset = insert->Reset(); !reset.ok()) return reset;
  }
  return util::OkStatus();
}

util::Status InsertConsumed(sqlite3* db, const std::vector<policy::IntentId>& ids) {
  util::Result<Statement> insert =
      Statement::Prepare(db, "INSERT INTO consumed_intents (id) VALUES (?1)");
  if (!insert.ok()) return insert.status();
  for (const policy::IntentId& id : ids) {
    if (util::Status bound = insert->BindBlob(1, id); !bound.ok()) return bound;
    util::Status run = insert->Run();
    // A consumed id that is consumed again would be a replay the decision missed.
    if (!run.ok() && IsConstraintViolation(*insert)) {
      return util::InvalidArgumentError(Where(db) + ": intent " + util::HexEncode(id) +
                                        " is consumed already");
    }
    if (!run.ok()) return run;
    if (util::Status reset = insert->Reset(); !reset.ok()) return reset;
  }
  return util::OkStatus();
}

util::Status InsertSpends(sqlite3* db, const std::vector<policy::Spend>& spends) {
  util::Result<Statement> insert =
      Statement::Prepare(db, "INSERT INTO spends (wallet, time, amount) VALUES (?1, ?2, ?3)");
  if (!insert.ok()) return insert.status();
  for (const policy::Spend& spend : spends) {
    for (util::Status bound : {
             insert->BindText(1, spend.wallet),
             insert->BindInt64(2, ToSql(spend.time)),
             insert->BindInt64(3, spend.amount.sats()),
         }) {
      if (!bound.ok()) return bound;
    }
    if (util::Status run = insert->Run(); !run.ok()) return run;
    if (util::Status reset = insert->Reset(); !reset.ok()) return reset;
  }
  return util::OkStatus();
}

util::Status AddFreeze(sqlite3* db, const signerapi::SignedFreeze& freeze) {
  // Its position is after every freeze stored, so that Load returns freezes in the order they
  // were applied.
  util::Result<Statement> insert = Statement::Prepare(
      db,
      "INSERT INTO freezes (digest, position, signed_freeze, state) VALUES "
      "(?1, (SELECT COALESCE(MAX(position) + 1, 0) FROM freezes), ?2, 'in_force')");
  if (!insert.ok()) return insert.status();
  const policy::Digest& digest = freeze.freeze().digest();
  for (util::Status bound : {insert->BindBlob(1, digest), insert->BindBlob(2, freeze.Encode())}) {
    if (!bound.ok()) return bound;
  }
  util::Status run = insert->Run();
  if (!run.ok() && IsConstraintViolation(*insert)) {
    return util::InvalidArgumentError(Where(db) + ": freeze " + util::HexEncode(digest) +
                                      " is stored already");
  }
  return run;
}

util::Status LiftFreeze(sqlite3* db, const policy::Digest& digest) {
  util::Result<Statement> update = Statement::Prepare(
      db, "UPDATE freezes SET state = 'lifted' WHERE digest = ?1 AND state = 'in_force'");
  if (!update.ok()) return update.status();
  if (util::Status bound = update->BindBlob(1, digest); !bound.ok()) return bound;
  if (util::Status run = update->Run(); !run.ok()) return run;
  if (sqlite3_changes(db) != 1) {
    return util::InvalidArgumentError(Where(db) + ": freeze " + util::HexEncode(digest) +
                                      " is not in force");
  }
  return util::OkStatus();
}

util::Status ApplyStateChange(sqlite3* db, const signer::StateChange& change) {
  if (util::Status consumed = InsertConsumed(db, change.consumed); !consumed.ok()) {
    return consumed;
  }
  if (util::Status spends = InsertSpends(db, change.spends); !spends.ok()) return spends;
  if (change.governance.has_value()) {
    if (util::Status governance = WriteGovernance(db, *change.governance); !governance.ok()) {
      return governance;
    }
  }
  if (change.freeze_added.has_value()) {
    if (util::Status added = AddFreeze(db, *change.freeze_added); !added.ok()) return added;
  }
  if (change.freeze_lifted.has_value()) {
    if (util::Status lifted = LiftFreeze(db, *change.freeze_lifted); !lifted.ok()) return lifted;
  }
  return util::OkStatus();
}

util::Status StoreHead(sqlite3* db, const auditlog::SignedTreeHead& head) {
  // A second head for the same size (a commit without entries) replaces the first: both sign
  // the same log, the later one at a later time.
  util::Result<Statement> upsert = Statement::Prepare(
      db,
      "INSERT INTO tree_heads (tree_size, signed_head) VALUES (?1, ?2) "
      "ON CONFLICT (tree_size) DO UPDATE SET signed_head = excluded.signed_head");
  if (!upsert.ok()) return upsert.status();
  for (util::Status bound :
       {upsert->BindInt64(1, ToSql(head.head().size)), upsert->BindBlob(2, head.Encode())}) {
    if (!bound.ok()) return bound;
  }
  return upsert->Run();
}

// Writes `commit` inside the caller's write transaction.
util::Status WriteCommit(sqlite3* db, const Commit& commit) {
  util::Result<uint64_t> count = CountEntries(db);
  if (!count.ok()) return count.status();
  const uint64_t size_after = *count + commit.entries.size();
  if (commit.head.head().size != size_after) {
    return util::InvalidArgumentError(
        Where(db) + ": tree head of size " + std::to_string(commit.head.head().size) +
        " does not describe the log after the commit (" + std::to_string(size_after) + " entries)");
  }
  if (util::Status entries = AppendEntries(db, *count, commit.entries); !entries.ok()) {
    return entries;
  }
  if (util::Status change = ApplyStateChange(db, commit.change); !change.ok()) return change;
  return StoreHead(db, commit.head);
}

// --- Opening -------------------------------------------------------------------------------------

// Checks, before anything is written, that `db` is a kinko signer database of schema version
// kStateSchemaVersion.
util::Status CheckIdentity(sqlite3* db) {
  util::Result<Statement> has_meta = Statement::Prepare(
      db, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'meta'");
  if (!has_meta.ok()) return has_meta.status();
  if (util::Status one = StepToSingleRow(db, *has_meta, "schema"); !one.ok()) return one;
  if (has_meta->ColumnInt64(0) == 0) {
    return Damaged(db, "not a kinko signer database (it has no meta table)");
  }

  util::Result<Statement> application =
      Statement::Prepare(db, "SELECT value FROM meta WHERE key = 'application'");
  if (!application.ok()) return application.status();
  util::Result<bool> row = application->Step();
  if (!row.ok()) return row.status();
  if (!*row || application->ColumnType(0) != SQLITE_TEXT ||
      application->ColumnText(0) != kApplicationName) {
    return Damaged(db, "not a kinko signer database (its meta table does not name " +
                           std::string(kApplicationName) + ")");
  }

  util::Result<Statement> version = Statement::Prepare(db, "PRAGMA user_version");
  if (!version.ok()) return version.status();
  if (util::Status one = StepToSingleRow(db, *version, "user_version"); !one.ok()) return one;
  const int64_t stored = version->ColumnInt64(0);
  if (stored != kStateSchemaVersion) {
    return util::FailedPreconditionError(Where(db) + " has schema version " +
                                         std::to_string(stored) + ", but this program reads " +
                                         std::to_string(kStateSchemaVersion));
  }
  return util::OkStatus();
}

// The writer's settings: WAL journal, fsync on every commit, foreign keys enforced.
util::Status ConfigureWriter(sqlite3* db) {
  // journal_mode answers the mode in effect, which is not WAL when WAL cannot be used.
  util::Result<Statement> wal = Statement::Prepare(db, "PRAGMA journal_mode = WAL");
  if (!wal.ok()) return wal.status();
  if (util::Status one = StepToSingleRow(db, *wal, "journal_mode"); !one.ok()) return one;
  if (wal->ColumnText(0) != "wal") {
    return util::UnavailableError(Where(db) + ": cannot use the WAL journal (journal mode is " +
                                  wal->ColumnText(0) + ")");
  }
  return Exec(db, "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON");
}

}  // namespace

util::Result<StateStore> StateStore::Create(const std::string& path, const PinnedConfig& config,
                                            const policy::GovernanceState& governance,
                                            const Commit& first) {
  if (util::Status valid = CheckConfig(config); !valid.ok()) {
    return util::InvalidArgumentError(WherePath(path) + ": pinned config: " + valid.message());
  }
  if (util::Status created = CreateEmptyFile(path); !created.ok()) return created;

  // Everything after the file exists: on any failure the connection is closed (the store is
  // destroyed) and the files are removed.
  auto initialize = [&]() -> util::Result<StateStore> {
    util::Result<int> lock = LockWriter(path);
    if (!lock.ok()) return lock.status();
    util::Result<sqlite3*> db = OpenConnection(path, SQLITE_OPEN_READWRITE);
    if (!db.ok()) {
      close(*lock);
      return db.status();
    }
    StateStore store(*db, /*read_only=*/false, *lock);
    if (util::Status configured = ConfigureWriter(store.db_); !configured.ok()) return configured;
    util::Result<Transaction> transaction =
        Transaction::Begin(store.db_, Transaction::Mode::kWrite);
    if (!transaction.ok()) return transaction.status();
    const std::string version = "PRAGMA user_version = " + std::to_string(kStateSchemaVersion);
    for (const char* sql : {kSchema, version.c_str()}) {
      if (util::Status done = Exec(store.db_, sql); !done.ok()) return done;
    }
    util::Result<Statement> meta =
        Statement::Prepare(store.db_, "INSERT INTO meta (key, value) VALUES ('application', ?1)");
    if (!meta.ok()) return meta.status();
    if (util::Status bound = meta->BindText(1, kApplicationName); !bound.ok()) return bound;
    if (util::Status run = meta->Run(); !run.ok()) return run;
    if (util::Status stored = WriteConfig(store.db_, config); !stored.ok()) return stored;
    if (util::Status stored = WriteGovernance(store.db_, governance); !stored.ok()) return stored;
    if (util::Status stored = WriteCommit(store.db_, first); !stored.ok()) return stored;
    if (util::Status committed = transaction->Commit(); !committed.ok()) return committed;
    if (util::Status synced = SyncParentDirectory(path); !synced.ok()) return synced;
    return store;
  };
  util::Result<StateStore> store = initialize();
  if (!store.ok()) RemoveDatabaseFiles(path);
  return store;
}

util::Result<StateStore> StateStore::Open(const std::string& path) {
  if (util::Status exists = CheckExists(path); !exists.ok()) return exists;
  util::Result<int> lock = LockWriter(path);
  if (!lock.ok()) return lock.status();
  util::Result<sqlite3*> db = OpenConnection(path, SQLITE_OPEN_READWRITE);
  if (!db.ok()) {
    close(*lock);
    return db.status();
  }
  StateStore store(*db, /*read_only=*/false, *lock);
  if (util::Status identity = CheckIdentity(store.db_); !identity.ok()) return identity;
  if (util::Status configured = ConfigureWriter(store.db_); !configured.ok()) return configured;
  return store;
}

util::Result<StateStore> StateStore::OpenReadOnly(const std::string& path) {
  if (util::Status exists = CheckExists(path); !exists.ok()) return exists;
  util::Result<sqlite3*> db = OpenConnection(path, SQLITE_OPEN_READONLY);
  if (!db.ok()) return db.status();
  StateStore store(*db, /*read_only=*/true, /*lock_fd=*/-1);
  if (util::Status identity = CheckIdentity(store.db_); !identity.ok()) return identity;
  return store;
}

StateStore::~StateStore() {
  if (db_ != nullptr) {
    // SQLITE_BUSY is the only failure, for a statement left unfinalized: a bug here.
    CHECK(sqlite3_close(db_) == SQLITE_OK);
  }
  // The lock is released after the connection is closed, so that no second writer opens the
  // database while this one may still write.
  if (lock_fd_ >= 0) close(lock_fd_);
}

StateStore::StateStore(StateStore&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)),
      read_only_(other.read_only_),
      lock_fd_(std::exchange(other.lock_fd_, -1)) {}

StateStore& StateStore::operator=(StateStore&& other) noexcept {
  if (this != &other) {
    StateStore old(std::move(*this));  // Closed when this scope ends.
    db_ = std::exchange(other.db_, nullptr);
    read_only_ = other.read_only_;
    lock_fd_ = std::exchange(other.lock_fd_, -1);
  }
  return *this;
}

util::Result<LoadedState> StateStore::Load() const {
  // One read transaction: one consistent snapshot even while a writer commits.
  util::Result<Transaction> transaction = Transaction::Begin(db_, Transaction::Mode::kRead);
  if (!transaction.ok()) return transaction.status();

  util::Result<PinnedConfig> config = ReadConfig(db_);
  if (!config.ok()) return config.status();
  util::Result<auditlog::MerkleLog> log = ReadLog(db_);
  if (!log.ok()) return log.status();
  util::Result<std::optional<auditlog::SignedTreeHead>> latest =
      ReadAndVerifyHeads(db_, *log, config->identity_public_key);
  if (!latest.ok()) return latest.status();
  util::Result<policy::GovernanceState> governance = ReadGovernance(db_);
  if (!governance.ok()) return governance.status();
  util::Result<std::set<policy::IntentId>> consumed = ReadConsumed(db_);
  if (!consumed.ok()) return consumed.status();
  // Every spend is returned, however old: a later policy may add a longer window, and a
  // restarted signer must count what one that kept running counts.
  util::Result<std::vector<policy::Spend>> spends = ReadSpends(db_);
  if (!spends.ok()) return spends.status();

  signer::SignerState state{.governance = std::move(*governance),
                            .consumed = std::move(*consumed),
                            .velocity = {.spends = std::move(*spends)},
                            .freezes = {},
                            .lifted_freezes = {}};
  if (util::Status freezes = ReadFreezes(db_, state); !freezes.ok()) return freezes;
  if (util::Status ended = transaction->Commit(); !ended.ok()) return ended;
  return LoadedState{.config = std::move(*config),
                     .state = std::move(state),
                     .log = std::move(*log),
                     .latest_head = std::move(*latest)};
}

util::Status StateStore::Apply(const Commit& commit) {
  CHECK(!read_only_);
  util::Result<Transaction> transaction = Transaction::Begin(db_, Transaction::Mode::kWrite);
  if (!transaction.ok()) return transaction.status();
  // On any failure the transaction's destructor rolls back: nothing was written.
  if (util::Status written = WriteCommit(db_, commit); !written.ok()) return written;
  return transaction->Commit();
}

util::Result<uint64_t> StateStore::EntryCount() const { return CountEntries(db_); }

util::Result<std::vector<std::vector<uint8_t>>> StateStore::ReadEntries(uint64_t from,
                                                                        uint64_t count) const {
  util::Result<Transaction> transaction = Transaction::Begin(db_, Transaction::Mode::kRead);
  if (!transaction.ok()) return transaction.status();
  util::Result<uint64_t> size = CountEntries(db_);
  if (!size.ok()) return size.status();
  if (from >= *size) {
    return util::NotFoundError(Where(db_) + ": no audit entry " + std::to_string(from) +
                               " (the log has " + std::to_string(*size) + " entries)");
  }
  const uint64_t end = from + std::min(count, *size - from);
  util::Result<Statement> select = Statement::Prepare(
      db_, "SELECT idx, entry FROM audit_entries WHERE idx >= ?1 AND idx < ?2 ORDER BY idx");
  if (!select.ok()) return select.status();
  for (util::Status bound : {select->BindInt64(1, ToSql(from)), select->BindInt64(2, ToSql(end))}) {
    if (!bound.ok()) return bound;
  }
  std::vector<std::vector<uint8_t>> entries;
  for (uint64_t index = from; index < end; ++index) {
    const std::string what = "audit entry " + std::to_string(index);
    util::Result<bool> row = select->Step();
    if (!row.ok()) return row.status();
    if (!*row) return Damaged(db_, what + " is missing");
    util::Result<uint64_t> stored = ReadUint64(db_, *select, 0, what + " index");
    if (!stored.ok()) return stored.status();
    if (*stored != index) return Damaged(db_, what + " is missing");
    util::Result<std::vector<uint8_t>> entry = ReadBlob(db_, *select, 1, what);
    if (!entry.ok()) return entry.status();
    entries.push_back(std::move(*entry));
  }
  if (util::Status ended = transaction->Commit(); !ended.ok()) return ended;
  return entries;
}

util::Result<std::vector<auditlog::SignedTreeHead>> StateStore::ReadHeads() const {
  util::Result<Statement> select =
      Statement::Prepare(db_, "SELECT tree_size, signed_head FROM tree_heads ORDER BY tree_size");
  if (!select.ok()) return select.status();
  std::vector<auditlog::SignedTreeHead> heads;
  for (;;) {
    util::Result<bool> row = select->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    util::Result<auditlog::SignedTreeHead> head = DecodeStoredHead(db_, *select);
    if (!head.ok()) return head.status();
    heads.push_back(std::move(*head));
  }
  return heads;
}

void StateStore::DisableSyncForBenchmark() {
  CHECK(!read_only_);
  CHECK(Exec(db_, "PRAGMA synchronous = OFF").ok());
}

}  // namespace kinko::signerd
