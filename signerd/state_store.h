// The signer's durable state: one SQLite database (`signer.db` in the state directory) holding
// the pinned configuration, the policy history, consumed intent ids, the velocity ledger,
// freezes, the audit log's entries and the signed tree heads (doc/signer-daemon.md, "State";
// doc/decisions/0008-signer-state-and-rollback.md).
//
// Durability: WAL journal, synchronous=FULL, so a transaction that Commit returned OK for
// survives a crash or power loss; a crash during Commit leaves the state as before it. Every
// decision is committed (its audit entries, its state change and the new signed tree head)
// before any signature leaves the process.
//
// Integrity: Load re-hashes every stored entry into the Merkle log and checks that every stored
// signed tree head matches it, so a database whose log was edited, truncated or reordered does
// not load (kDataLoss). A database copied back from an older backup is consistent with itself;
// it is detected by whoever holds a later signed head (decision 0008).
//
// Not thread-safe: one owner (the daemon serialises decisions); one process at a time (Open
// takes an exclusive lock on the database).
#ifndef KINKO_SIGNERD_STATE_STORE_H_
#define KINKO_SIGNERD_STATE_STORE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "auditlog/entry.h"
#include "auditlog/merkle_log.h"
#include "auditlog/tree_head.h"
#include "btc/address.h"
#include "crypto/ed25519.h"
#include "policy/governance.h"
#include "policy/identity.h"
#include "policy/policy.h"
#include "signer/decide.h"
#include "util/result.h"
#include "util/status.h"

struct sqlite3;

namespace kinko::signerd {

// DO NOT CHANGE without a migration: the schema version stored in the database.
inline constexpr uint32_t kStateSchemaVersion = 1;

// What `kinko-signer init` pins, as stored. Texts are the forms the operator gave.
struct PinnedConfig {
  std::string wallet_id;
  btc::Network network = btc::Network::kMainnet;
  std::string descriptor;  // The public multipath descriptor (btc::Descriptor::ToString).
  uint32_t receive_index_max = 0;
  uint32_t change_index_max = 0;
  std::vector<policy::KeyId> governance_admins;  // Sorted, no duplicates.
  uint32_t governance_threshold = 0;
  std::vector<policy::KeyId> watchers;  // Sorted, no duplicates.
  // The signer's Ed25519 identity public key (its key id is the signer id; it signs tree heads).
  crypto::Ed25519PublicKey identity_public_key{};
  // "file" or "pkcs11" (signerd/key_backend.h), and how to open it: for "file" the key file's
  // name in the state directory; for "pkcs11" the module path, token label and key label.
  std::string key_backend;
  std::string key_file;
  std::string pkcs11_module;
  std::string pkcs11_token_label;
  std::string pkcs11_key_label;
  uint64_t created_at = 0;  // Seconds since the Unix epoch.

  friend bool operator==(const PinnedConfig&, const PinnedConfig&) = default;
};

// Everything Load reads.
struct LoadedState {
  PinnedConfig config;
  signer::SignerState state;
  auditlog::MerkleLog log;  // Rebuilt from the stored entries.
  // The latest signed tree head (of the whole log); absent only for a log never signed.
  std::optional<auditlog::SignedTreeHead> latest_head;
};

// One durable step: audit entries to append (in order), the state change, and the signed tree
// head of the log after the entries are appended.
struct Commit {
  std::vector<auditlog::Entry> entries;
  signer::StateChange change;
  auditlog::SignedTreeHead head;
};

// Movable, not copyable.
class StateStore final {
 public:
  // Creates the database at `path` (which must not exist) with `config`, the first policy's
  // governance state and the first commit (its start-up and policy-change entries and head),
  // all in one transaction; file mode 0600. Fails with kAlreadyExists when `path` exists,
  // kInvalidArgument when `config` is not valid (unknown key backend, empty admins, threshold
  // 0 or above the number of admins, unsorted key lists), and kUnavailable naming the SQLite
  // error when the file cannot be created (nothing is left behind).
  static util::Result<StateStore> Create(const std::string& path, const PinnedConfig& config,
                                         const policy::GovernanceState& governance,
                                         const Commit& first);

  // Opens an existing database for reading and writing, holding an exclusive lock until the
  // store is destroyed. Fails with kNotFound when `path` does not exist, kFailedPrecondition
  // when another process holds it ("state database is in use by another process") or its
  // schema version is not kStateSchemaVersion, kDataLoss when it is not a kinko signer
  // database or SQLite reports corruption, kUnavailable for other SQLite errors.
  static util::Result<StateStore> Open(const std::string& path);

  // Opens an existing database read-only (for `kinko audit verify --dir`, status tools) without
  // taking the writer's lock; reads see the last committed transaction. Fails as Open, except
  // that another process's lock is not an error.
  static util::Result<StateStore> OpenReadOnly(const std::string& path);

  ~StateStore();
  StateStore(StateStore&& other) noexcept;
  StateStore& operator=(StateStore&& other) noexcept;
  StateStore(const StateStore&) = delete;
  StateStore& operator=(const StateStore&) = delete;

  // Reads the whole state. Fails with kDataLoss naming what is wrong when: a stored entry does
  // not decode, its stored leaf hash is not HashLeaf(entry), the entry indexes have a gap, a
  // stored signed tree head is not signed by the pinned identity key or does not match the log
  // (auditlog::VerifyLogMatchesHead), the latest head is not of the whole log, a stored policy
  // does not decode or its digest differs, or a stored value is out of range; kUnavailable for
  // SQLite errors.
  util::Result<LoadedState> Load() const;

  // Appends `commit.entries` after the last stored entry, applies `commit.change` and stores
  // `commit.head`, in one transaction, durably (returns after fsync). Fails with
  // kInvalidArgument when `commit.head.head().size` is not the entry count after the append;
  // kUnavailable naming the SQLite error (disk full, I/O error), and then nothing was written.
  // Requires a store made by Create or Open (not OpenReadOnly).
  util::Status Apply(const Commit& commit);

  // The number of stored entries.
  util::Result<uint64_t> EntryCount() const;

  // Up to `count` encoded entries from index `from` (fewer at the end of the log). Fails with
  // kNotFound when `from` >= EntryCount().
  util::Result<std::vector<std::vector<uint8_t>>> ReadEntries(uint64_t from, uint64_t count) const;

  // Every stored signed tree head, by increasing tree size.
  util::Result<std::vector<auditlog::SignedTreeHead>> ReadHeads() const;

  // For benchmarks and tests only: synchronous=OFF (no fsync). Never used by the daemon.
  void DisableSyncForBenchmark();

 private:
  StateStore(sqlite3* db, bool read_only, int lock_fd)
      : db_(db), read_only_(read_only), lock_fd_(lock_fd) {}
  sqlite3* db_ = nullptr;
  bool read_only_ = false;
  // The writer's lock: an open descriptor of `<path>-lock` holding an exclusive flock(2) until
  // it is closed; -1 for a read-only store.
  int lock_fd_ = -1;
};

}  // namespace kinko::signerd

#endif  // KINKO_SIGNERD_STATE_STORE_H_
