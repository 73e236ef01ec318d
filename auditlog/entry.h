// Audit log entries: what a signer records, one entry per leaf of its Merkle log, before any
// signature leaves the process (DESIGN.md section 5, step 7; doc/audit-log.md).
//
// Kinds: start-up, sign request (the request's digest and its intents' ids), decision (signed or
// refused, with the machine-readable code, the rule, the limit, a human detail, the intents'
// ids and, when signed, the transaction id), policy change, freeze and unfreeze.
//
// Encoding (one per entry; Decode(Encode(e)) == e and Encode(Decode(b)) == b):
//   entry = version (0x01) || kind (1 byte) || time (8 bytes, big-endian) || field*
//   field = tag (1 byte) || length (2 bytes, big-endian) || value (length bytes)
// Each kind has a fixed list of fields, in increasing tag order; only two are optional (the txid
// of a decision, present exactly when it is signed; the old policy digest of a policy change,
// absent for the first policy). The value types: text (UTF-8 without control characters, up to
// a per-field limit), 32 bytes (digests, keys, txids), uint64 (8 bytes, big-endian), outcome
// (1 byte), intent ids (16 bytes each, 0 to 256 of them, in the request's order). The tags and
// limits are in the table of entry.cc and in doc/audit-log.md.
// DO NOT CHANGE the version, kinds, tags or layout: stored in the audit log.
//
// Thread-safe: value types and pure functions.
#ifndef KINKO_AUDITLOG_ENTRY_H_
#define KINKO_AUDITLOG_ENTRY_H_

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "auditlog/merkle.h"
#include "crypto/ed25519.h"
#include "util/result.h"

namespace kinko::auditlog {

// DO NOT CHANGE: stored in the audit log.
inline constexpr uint8_t kEntryVersion = 0x01;
// The largest encoded entry Decode reads (every field at its limit fits in half of it).
inline constexpr size_t kMaxEntrySize = 16384;
// The most intent ids one entry holds; a signer refuses larger requests before logging them.
inline constexpr size_t kMaxIntentIds = 256;
// The latest time an entry may carry: 9999-12-31T23:59:59Z, so that every time renders.
inline constexpr uint64_t kMaxEntryTime = 253402300799;

// An intent's random 128-bit id (policy/intent.h IntentId; the same 16 bytes).
using IntentId = std::array<uint8_t, 16>;

// DO NOT CHANGE the values: stored in the audit log.
enum class EntryKind : uint8_t {
  kStartup = 1,
  kSignRequest = 2,
  kDecision = 3,
  kPolicyChange = 4,
  kFreeze = 5,
  kUnfreeze = 6,
};

// "startup", "sign_request", "decision", "policy_change", "freeze", "unfreeze".
std::string_view EntryKindName(EntryKind kind);

// DO NOT CHANGE the values: stored in the audit log.
enum class Outcome : uint8_t {
  kSigned = 1,
  kRefused = 2,
};

// The signer started: its software, the key that signs its tree heads, the policy in force.
struct StartupEntry {
  std::string software;  // E.g. "kinko-signer 0.1.0"; 1 to 128 bytes.
  crypto::Ed25519PublicKey head_key{};
  Hash policy_digest{};
  uint64_t policy_sequence = 0;

  friend bool operator==(const StartupEntry&, const StartupEntry&) = default;
};

// A signing request arrived (logged before it is checked).
struct SignRequestEntry {
  Hash request_digest{};             // The digest of the request as received.
  std::vector<IntentId> intent_ids;  // In the request's order; up to kMaxIntentIds.

  friend bool operator==(const SignRequestEntry&, const SignRequestEntry&) = default;
};

// The decision on a request. Signed: `code` and `limit` are empty and `txid` is present.
// Refused: `code` is the machine-readable reason (policy::RefusalCodeName, or the signer's own,
// e.g. "frozen"; [a-z0-9_], 1 to 64 bytes) and `txid` is absent.
struct DecisionEntry {
  Hash request_digest{};
  std::vector<IntentId> intent_ids;
  Outcome outcome = Outcome::kRefused;
  std::string code;          // Up to 64 bytes.
  std::string rule;          // The deciding rule, if any; up to 256 bytes.
  std::string limit;         // The limit that refused, if any; up to 128 bytes.
  std::string detail;        // For a human; up to 4096 bytes.
  std::optional<Hash> txid;  // Internal byte order (btc::Txid), present iff signed.

  friend bool operator==(const DecisionEntry&, const DecisionEntry&) = default;
};

// A new policy was pinned.
struct PolicyChangeEntry {
  std::optional<Hash> old_digest;  // Absent for the first policy.
  Hash new_digest{};
  uint64_t sequence = 0;        // The new policy's sequence number.
  uint64_t effective_time = 0;  // When it takes effect; at most kMaxEntryTime.

  friend bool operator==(const PolicyChangeEntry&, const PolicyChangeEntry&) = default;
};

// The signer was frozen: it signs nothing until unfrozen.
struct FreezeEntry {
  std::string reason;  // 1 to 1024 bytes.

  friend bool operator==(const FreezeEntry&, const FreezeEntry&) = default;
};

// The signer was unfrozen by the governance quorum.
struct UnfreezeEntry {
  std::string reason;           // 1 to 1024 bytes.
  Hash authorization_digest{};  // The digest of the signed unfreeze authorization.

  friend bool operator==(const UnfreezeEntry&, const UnfreezeEntry&) = default;
};

using EntryBody = std::variant<StartupEntry, SignRequestEntry, DecisionEntry, PolicyChangeEntry,
                               FreezeEntry, UnfreezeEntry>;

// One audit log entry. Every Entry that exists satisfies the rules above.
// Copyable and movable.
class Entry final {
 public:
  // An entry at `time` (seconds since the Unix epoch). Fails with kInvalidArgument, naming the
  // field, when `time` (or a policy change's effective time) is after kMaxEntryTime; a text is
  // not UTF-8, contains a control character (U+0000-U+001F, U+007F-U+009F) or is longer than
  // its limit; a required text is empty; a refusal code has a character outside [a-z0-9_]; there
  // are more than kMaxIntentIds intent ids; or a decision breaks the signed/refused rules above.
  static util::Result<Entry> Create(uint64_t time, EntryBody body);

  // Parses an encoded entry (file comment). Fails with kInvalidArgument, naming the field or
  // offset, when `bytes` is longer than kMaxEntrySize, is truncated or has trailing bytes; the
  // version or kind is unknown; a field is missing, unknown, repeated, out of order or of the
  // wrong length for its type; an outcome byte is unknown; or Create refuses the values.
  static util::Result<Entry> Decode(std::span<const uint8_t> bytes);

  // The encoding (file comment).
  std::vector<uint8_t> Encode() const;

  // HashLeaf(Encode()): the entry's leaf hash in the log.
  Hash LeafHash() const;

  EntryKind kind() const;
  uint64_t time() const { return time_; }
  const EntryBody& body() const { return body_; }

  Entry(const Entry&) = default;
  Entry& operator=(const Entry&) = default;
  Entry(Entry&&) = default;
  Entry& operator=(Entry&&) = default;

  friend bool operator==(const Entry&, const Entry&) = default;

 private:
  Entry(uint64_t time, EntryBody body) : time_(time), body_(std::move(body)) {}

  uint64_t time_ = 0;
  EntryBody body_;
};

// One line for a human (`kinko audit show`): the time in UTC (ISO 8601), the kind, and the
// fields as name=value, texts in double quotes with `"` and `\` escaped and bidirectional
// formatting characters shown as \u{XXXX}, digests and ids in hex, a txid byte-reversed as
// Bitcoin displays it. E.g.
//   2026-01-01T00:00:00Z decision refused code=rule_denies rule="to exchanges" limit=""
//   detail="..." request=1a2b... intents=00112233...
// (one line; wrapped here). Contains no newline.
std::string RenderEntry(const Entry& entry);

}  // namespace kinko::auditlog

#endif  // KINKO_AUDITLOG_ENTRY_H_
