// The coordinator's storage (kinkod): intents as submitted, approvals, the wallet's coins, the
// batches (transactions) built from them, cached raw transactions and the last audit head seen
// from each signer. One interface, two backends: SQLite (storage/sqlite_store.h, the embedded
// default, one file) and PostgreSQL (storage/postgres_store.h, shared by several kinkod
// instances). Both pass one conformance suite (storage/storagetest/conformance.h).
//
// The store holds the coordinator's view only. It is UNTRUSTED by design (DESIGN.md section 2):
// whoever owns the database can rewrite any row; the signers check everything that matters
// against the signed objects. Blobs (signed intents, approvals, PSBTs, transactions) are stored
// as given and decoded by the caller; storage knows no policy.
//
// Every method is one database transaction: it happens entirely or not at all. The state
// transitions that decide what is built and signed (CreateBatch, UpdateBatch, UpdateIntentState)
// are compare-and-set: when two coordinators race, one wins and the other gets kAborted with
// nothing changed, so two instances never build two transactions for one intent.
//
// Errors: kNotFound for a missing row; kAlreadyExists for an id taken by different content;
// kAborted for a compare-and-set that lost (re-read and decide again); kInvalidArgument for a
// record that breaks a rule stated here; kUnavailable when the database cannot be reached (retry
// later); kDataLoss for a row that does not decode (a damaged or rewritten database).
//
// Thread-safe: a Store may be used from several threads at once (each backend serialises or
// pools its connections).
#ifndef KINKO_STORAGE_STORE_H_
#define KINKO_STORAGE_STORE_H_

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "btc/transaction.h"
#include "util/result.h"
#include "util/status.h"

namespace kinko::storage {

// The schema version written by this code. Opening a store migrates an older schema to it (each
// step in one transaction) and refuses a newer one with kFailedPrecondition.
inline constexpr int kSchemaVersion = 1;

using IntentId = std::array<uint8_t, 16>;  // policy::IntentId
using KeyId = std::array<uint8_t, 32>;     // policy::KeyId

// Where an intent is. DO NOT CHANGE the names (IntentStateName): they are stored and shown by
// the coordinator's API.
enum class IntentState {
  kReceived,           // "received": stored, not evaluated yet
  kAwaitingApprovals,  // "awaiting_approvals": the policy needs approvals not given yet
  kApproved,           // "approved": ready to be built
  kBuilding,           // "building": in a batch whose transaction is being built
  kSigning,            // "signing": its batch's PSBT is with the signers
  kSigned,             // "signed": its batch's transaction is signed and finalized
  kBroadcast,          // "broadcast": sent to the network (or exported, offline)
  kConfirmed,          // "confirmed": in a block
  kRefused,            // "refused": the policy or the signers refused it (detail says why)
  kExpired,            // "expired": its expiry time passed before it was signed
};
std::string_view IntentStateName(IntentState state);
// The state named `name`, or nullopt.
std::optional<IntentState> ParseIntentState(std::string_view name);
// True for confirmed, refused and expired: nothing moves the intent any more.
bool IsFinal(IntentState state);

// One output the coordinator pays for an intent: its work order. Copied from the signed intent
// at submission; the builder pays exactly these. (Rewriting them in the database is the attack
// the signers refuse: they check the transaction against the signed intent, not this row.)
struct PayOutput {
  std::string address;
  int64_t sats = 0;
  friend bool operator==(const PayOutput&, const PayOutput&) = default;
};

struct IntentRecord {
  IntentId id{};
  std::string wallet;
  IntentState state = IntentState::kReceived;
  std::vector<uint8_t> signed_intent;  // policy::SignedIntent encoding, as submitted.
  std::vector<PayOutput> outputs;      // 1..256 outputs.
  KeyId requester{};
  std::string external_ref;
  uint64_t created_at = 0;  // The intent's own times (seconds since the Unix epoch).
  uint64_t expires_at = 0;
  uint64_t received_at = 0;  // The coordinator's clock.
  uint64_t updated_at = 0;
  std::optional<int64_t> batch_id;  // The batch it is in (building and after).
  // Why the intent is in its state, for people and the API: a JSON document the coordinator
  // writes (approvals missing by group, each signer's refusal, ...). Opaque to the store.
  std::string detail = "{}";
  // Incremented by every change of the row (starts at 1).
  uint64_t revision = 0;
  friend bool operator==(const IntentRecord&, const IntentRecord&) = default;
};

struct IntentFilter {
  std::optional<std::string> wallet;
  std::vector<IntentState> states;  // Empty: any state.
  // Pagination in (received_at, id) order: intents strictly after this one.
  std::optional<IntentId> after;
  size_t limit = 100;  // 1..1000.
};

struct ApprovalRecord {
  IntentId intent_id{};
  KeyId approver{};
  std::vector<uint8_t> signed_approval;  // policy::SignedApproval encoding, as submitted.
  uint64_t received_at = 0;
  friend bool operator==(const ApprovalRecord&, const ApprovalRecord&) = default;
};

enum class UtxoState {
  kAvailable,  // "available": may be selected
  kReserved,   // "reserved": an input of a batch not yet confirmed or failed
  kSpent,      // "spent": spent by a confirmed batch, or gone from the chain backend's view
};
std::string_view UtxoStateName(UtxoState state);
std::optional<UtxoState> ParseUtxoState(std::string_view name);

// A coin of a wallet: an output paying one of its descriptor's scripts.
struct Utxo {
  std::string wallet;
  btc::Outpoint outpoint;
  int64_t sats = 0;
  std::vector<uint8_t> script_pubkey;
  bool change = false;             // The descriptor branch: receive (false) or change (true)...
  uint32_t index = 0;              // ...and the index on it.
  std::optional<uint32_t> height;  // The block it confirmed in; nullopt while unconfirmed.
  UtxoState state = UtxoState::kAvailable;
  std::optional<int64_t> batch_id;  // The batch that reserved or spent it.
  friend bool operator==(const Utxo&, const Utxo&) = default;
};

// What a batch (one transaction) is doing. DO NOT CHANGE the names (BatchStateName).
enum class BatchState {
  kBuilding,   // "building": created with its unsigned PSBT
  kSigning,    // "signing": sent to the signers
  kSigned,     // "signed": final transaction ready
  kBroadcast,  // "broadcast": sent (or exported)
  kConfirmed,  // "confirmed": in a block
  kFailed,     // "failed": abandoned; its inputs were released
};
std::string_view BatchStateName(BatchState state);
std::optional<BatchState> ParseBatchState(std::string_view name);

struct BatchRecord {
  int64_t id = 0;
  std::string wallet;
  BatchState state = BatchState::kBuilding;
  std::vector<IntentId> intents;         // In the order their outputs appear.
  std::vector<btc::Outpoint> inputs;     // In transaction order.
  std::optional<uint32_t> change_index;  // The change output's index on the change branch.
  std::vector<uint8_t> psbt;      // The unsigned PSBT, then the combined partially signed one.
  std::vector<uint8_t> final_tx;  // The finalized transaction (signed and after).
  std::optional<btc::Txid> txid;  // The unsigned transaction's txid (known from the start).
  int64_t fee_sats = 0;
  uint64_t fee_rate_sat_per_kvb = 0;
  // Each signer's answer and other facts, as JSON the coordinator writes. Opaque to the store.
  std::string detail = "{}";
  // The instance working on the batch and until when (seconds since the Unix epoch); another
  // instance may take it over after the lease expires (ClaimBatch).
  std::string owner;
  uint64_t lease_until = 0;
  std::optional<uint32_t> confirmed_height;
  uint64_t created_at = 0;
  uint64_t updated_at = 0;
  uint64_t revision = 0;
  friend bool operator==(const BatchRecord&, const BatchRecord&) = default;
};

struct NewBatch {
  std::string wallet;
  std::vector<IntentId> intents;      // 1..; each must be kApproved.
  std::vector<btc::Outpoint> inputs;  // 1..; each must be an kAvailable coin of `wallet`.
  bool has_change = false;            // Allocate a change index (the wallet's next unused).
  std::vector<uint8_t> psbt;          // May be empty when built after creation.
  std::optional<btc::Txid> txid;
  int64_t fee_sats = 0;
  uint64_t fee_rate_sat_per_kvb = 0;
  std::string owner;
  uint64_t now = 0;
  uint64_t lease_seconds = 60;
};

// A change to a batch, applied only if the batch is still in `from` (and, when `owner` is not
// empty, still owned by it). Its intents move to the state matching `to` (building, signing,
// signed, broadcast, confirmed) or, for kFailed, to `intents_on_failure` (kApproved to build
// them again, or kRefused), and its inputs are released (available) on kFailed and marked
// spent on kConfirmed.
struct BatchUpdate {
  int64_t id = 0;
  BatchState from = BatchState::kBuilding;
  BatchState to = BatchState::kBuilding;
  std::string owner;
  std::optional<std::vector<uint8_t>> psbt;      // Replaces the PSBT when set.
  std::optional<std::vector<uint8_t>> final_tx;  // Replaces the final transaction when set.
  std::optional<btc::Txid> txid;
  std::optional<std::string> detail;  // Replaces the batch's detail when set.
  // Replaces the detail of every intent of the batch when set.
  std::optional<std::string> intent_detail;
  std::optional<uint32_t> confirmed_height;
  IntentState intents_on_failure = IntentState::kApproved;
  uint64_t now = 0;
  uint64_t lease_seconds = 60;  // Renews the lease.
};

struct BatchFilter {
  std::optional<std::string> wallet;
  std::vector<BatchState> states;  // Empty: any state.
  size_t limit = 100;              // 1..1000, newest first.
};

// The last audit head the coordinator verified from a signer (decision 0008): the next one it
// sees must extend it (a consistency proof), or the signer's log was rolled back or rewritten.
struct SignerHead {
  KeyId signer{};
  uint64_t tree_size = 0;
  std::array<uint8_t, 32> root_hash{};
  std::vector<uint8_t> signed_tree_head;  // auditlog::SignedTreeHead encoding.
  uint64_t seen_at = 0;
  friend bool operator==(const SignerHead&, const SignerHead&) = default;
};

class Store {
 public:
  virtual ~Store() = default;

  // --- Intents ---
  // Stores a new intent (its revision becomes 1). Returns true when stored, false when an intent
  // with this id and the same signed_intent bytes exists already (idempotent resubmission: the
  // stored one is left as it is). Fails with kAlreadyExists when the id is taken by other bytes,
  // kInvalidArgument for an empty wallet, no outputs or a non-positive amount.
  virtual util::Result<bool> InsertIntent(const IntentRecord& record) = 0;
  // kNotFound when there is none.
  virtual util::Result<IntentRecord> GetIntent(const IntentId& id) = 0;
  virtual util::Result<std::vector<IntentRecord>> ListIntents(const IntentFilter& filter) = 0;
  // Moves the intent from `from` to `to` and replaces its detail. kNotFound; kAborted when it is
  // not in `from`. (Batch-driven moves go through CreateBatch and UpdateBatch.)
  virtual util::Status UpdateIntentState(const IntentId& id, IntentState from, IntentState to,
                                         std::string_view detail, uint64_t now) = 0;
  // Counts of intents per state (every state present, zero included), for metrics.
  virtual util::Result<std::vector<std::pair<IntentState, uint64_t>>> CountIntents() = 0;

  // --- Approvals ---
  // Stores an approval. Returns true when stored, false when the same approver's identical
  // approval of this intent exists. Fails with kNotFound for an unknown intent and
  // kAlreadyExists when the approver gave other bytes for this intent before (an approver
  // decides once per intent).
  virtual util::Result<bool> InsertApproval(const ApprovalRecord& record) = 0;
  // In the order received.
  virtual util::Result<std::vector<ApprovalRecord>> ListApprovals(const IntentId& intent) = 0;

  // --- Coins and transactions ---
  // Adds coins the chain backend reported (or an import found). A coin already stored keeps its
  // state and batch; only its height is updated. Fails with kInvalidArgument for a
  // non-positive amount or a coin whose wallet is empty.
  virtual util::Status AddUtxos(std::span<const Utxo> utxos) = 0;
  // Marks the AVAILABLE coins of `wallet` that are not in `unspent` as spent (the chain backend
  // no longer reports them). Reserved coins are left to their batch.
  virtual util::Status RetainUtxos(std::string_view wallet,
                                   std::span<const btc::Outpoint> unspent) = 0;
  // The coins of `wallet` in `state` (any state when nullopt), by outpoint.
  virtual util::Result<std::vector<Utxo>> ListUtxos(std::string_view wallet,
                                                    std::optional<UtxoState> state) = 0;
  // Caches a raw transaction (the previous transactions PSBT inputs carry). Idempotent.
  virtual util::Status PutTransaction(const btc::Txid& txid, std::span<const uint8_t> raw) = 0;
  // kNotFound when not cached.
  virtual util::Result<std::vector<uint8_t>> GetTransaction(const btc::Txid& txid) = 0;

  // --- Batches ---
  // Creates a batch in kBuilding, atomically: every intent kApproved → kBuilding (batch_id set),
  // every input kAvailable → kReserved, and, when has_change, the wallet's next change index
  // allocated (never handed out twice). Fails with kAborted, changing nothing, when an intent is
  // not kApproved or an input not kAvailable (another instance took it); kNotFound for an
  // unknown intent or coin; kInvalidArgument for an empty list or a duplicate.
  virtual util::Result<BatchRecord> CreateBatch(const NewBatch& batch) = 0;
  virtual util::Result<BatchRecord> GetBatch(int64_t id) = 0;
  virtual util::Result<std::vector<BatchRecord>> ListBatches(const BatchFilter& filter) = 0;
  // Applies `update` (see BatchUpdate). Returns the batch as updated. kNotFound; kAborted when
  // the batch is not in update.from or is owned by another instance; kInvalidArgument for a move
  // the state machine does not have (building→signing→signed→broadcast→confirmed, any
  // non-final→failed, and X→X to record progress).
  virtual util::Result<BatchRecord> UpdateBatch(const BatchUpdate& update) = 0;
  // Takes over batch `id` for `owner` when its lease has expired at `now` (or `owner` holds it
  // already). Returns the batch; kAborted when another owner's lease is still running, or the
  // batch is confirmed or failed.
  virtual util::Result<BatchRecord> ClaimBatch(int64_t id, std::string_view owner, uint64_t now,
                                               uint64_t lease_seconds) = 0;

  // --- Signer heads ---
  // Replaces the head kept for head.signer.
  virtual util::Status PutSignerHead(const SignerHead& head) = 0;
  // nullopt when no head was kept for `signer`.
  virtual util::Result<std::optional<SignerHead>> GetSignerHead(const KeyId& signer) = 0;
};

}  // namespace kinko::storage

#endif  // KINKO_STORAGE_STORE_H_
