// Policies: the rules an organisation sets for its transfers, signed by its governance quorum
// (DESIGN.md sections 4 and 5, doc/policy.md).
//
// A Policy is the signed content: network, sequence number, activation delay, the digest of its
// predecessor, governance (admin keys and threshold), named keys, groups of keys, an address
// book, limits, and ordered rules (first match wins). It is authored in TOML
// (policy/policy_toml.h) and has one canonical encoding (canonical CBOR, policy/canonical.h) and
// a digest TaggedHash("kinko/policy/v1", encoding). A SignedPolicy carries the admins'
// signatures over that digest; which admins' signatures count is governance's question
// (policy/governance.h).
//
// Every Policy that exists is valid: names are unique and well-formed, every name a group, rule
// or governance refers to exists, thresholds are between 1 and the size of what they count,
// address-book addresses decode on the policy's network and are in canonical form, and amounts
// are in range. Lookups that evaluation needs (a key's label, group membership, an address-book
// entry by output script) are indexed when the policy is created: none scans.
//
// Thread-safe: immutable values.
#ifndef KINKO_POLICY_POLICY_H_
#define KINKO_POLICY_POLICY_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "btc/address.h"
#include "btc/amount.h"
#include "btc/script.h"
#include "crypto/ed25519.h"
#include "policy/canonical.h"
#include "policy/identity.h"
#include "util/result.h"

namespace kinko::policy {

inline constexpr uint64_t kPolicyVersion = 1;
// DO NOT CHANGE: the domain tag of policy digests.
inline constexpr std::string_view kPolicyTag = "kinko/policy/v1";

inline constexpr size_t kMaxNameSize = 64;  // Key, group, rule and address-book labels.
inline constexpr size_t kMaxKeys = 1000;
inline constexpr size_t kMaxGroups = 100;
inline constexpr size_t kMaxRules = 1000;
inline constexpr size_t kMaxAddressBookEntries = 1000000;
inline constexpr size_t kMaxWindows = 16;
inline constexpr size_t kMaxRuleWallets = 1000;  // Wallet ids in one rule's condition.
inline constexpr uint64_t kMaxDuration = 10ULL * 366 * 24 * 3600;  // Ten years, in seconds.

// True when `name` is 1..64 characters of [A-Za-z0-9._ -], not starting or ending with a space
// (labels of keys, groups, rules and address-book entries).
bool IsValidName(std::string_view name);

// `text` with every byte outside printable ASCII (below 0x20, 0x7f and above) written as \xNN,
// so that an error message quoting input cannot carry control characters to a terminal or log.
std::string EscapeForMessage(std::string_view text);

// A key the policy names: requesters, approvers and admins are referred to by label.
struct NamedKey {
  std::string label;
  KeyId id{};

  friend bool operator==(const NamedKey&, const NamedKey&) = default;
};

// A group of keys, by label. Members are key labels, sorted and unique.
struct Group {
  std::string name;
  std::vector<std::string> members;

  friend bool operator==(const Group&, const Group&) = default;
};

struct Governance {
  std::vector<std::string> admins;  // Key labels, sorted and unique.
  uint32_t threshold = 0;           // 1 <= threshold <= admins.size().

  friend bool operator==(const Governance&, const Governance&) = default;
};

struct AddressBookEntry {
  std::string label;    // Not unique: one label may name several addresses.
  std::string address;  // Canonical form, on the policy's network; unique in the book.

  friend bool operator==(const AddressBookEntry&, const AddressBookEntry&) = default;
};

// A rolling window: at most `max` may leave one wallet within any `duration` seconds.
struct Window {
  uint64_t duration = 0;  // Seconds, 1..kMaxDuration; unique within the limits.
  btc::Amount max = btc::Amount::Zero();

  friend bool operator==(const Window&, const Window&) = default;
};

// Limits apply to every transaction on top of the rules. An absent limit does not bind.
struct Limits {
  std::optional<btc::Amount> per_transaction;  // Sum of all intent outputs of one transaction.
  std::vector<Window> windows;                 // Sorted by duration, per wallet.
  std::optional<btc::Amount> fee_max;          // Absolute fee of one transaction.
  std::optional<uint64_t> fee_rate_max_sat_per_kvb;  // Satoshi per 1000 virtual bytes.
  std::optional<uint32_t> outputs_max;               // Intent outputs of one transaction.

  friend bool operator==(const Limits&, const Limits&) = default;
};

// DO NOT CHANGE: these numbers are part of signed policies.
enum class DestinationKind : uint8_t {
  kAny = 1,          // Any address.
  kAddressBook = 2,  // Every output pays an address-book entry.
  kLabels = 3,       // Every output pays an address-book entry with one of `labels`.
};

struct Destination {
  DestinationKind kind = DestinationKind::kAny;
  std::vector<std::string> labels;  // kLabels only: sorted, unique, each used in the book.

  friend bool operator==(const Destination&, const Destination&) = default;
};

// DO NOT CHANGE: these numbers are part of signed policies.
enum class RuleAction : uint8_t {
  kAllow = 1,
  kDeny = 2,
};

// "At least `threshold` distinct approving keys of `group`".
struct ApprovalRequirement {
  std::string group;
  uint32_t threshold = 0;  // 1 <= threshold <= the group's size.

  friend bool operator==(const ApprovalRequirement&, const ApprovalRequirement&) = default;
};

// A rule matches an intent when every present condition holds; the first rule that matches an
// intent decides it. Absent conditions match everything.
struct Rule {
  std::string name;  // Unique among the rules.
  // Conditions.
  std::vector<std::string> wallets;     // Wallet ids; empty: any wallet. Sorted, unique.
  std::vector<std::string> requesters;  // Key labels or group names; empty: any. Sorted, unique.
  Destination destination;
  std::optional<btc::Amount> amount_min;  // The intent's total >= amount_min.
  std::optional<btc::Amount> amount_max;  // The intent's total <= amount_max.
  std::optional<uint32_t> outputs_max;    // The intent's number of outputs <= outputs_max.
  // Action.
  RuleAction action = RuleAction::kAllow;
  // kAllow only: all must be met (AND). Empty: no approval needed. Group names unique.
  std::vector<ApprovalRequirement> approvals;

  friend bool operator==(const Rule&, const Rule&) = default;
};

struct PolicyFields {
  btc::Network network = btc::Network::kMainnet;
  uint64_t sequence = 0;              // Greater than the predecessor's.
  uint64_t activation_delay = 0;      // Seconds before a loosening change takes effect.
  std::optional<Digest> predecessor;  // Absent only in a first policy.
  Governance governance;
  std::vector<NamedKey> keys;                  // Sorted by label; labels and ids unique.
  std::vector<Group> groups;                   // Sorted by name; names unique and not key labels.
  std::vector<AddressBookEntry> address_book;  // In authored order.
  Limits limits;
  std::vector<Rule> rules;  // In order: the first match wins.

  friend bool operator==(const PolicyFields&, const PolicyFields&) = default;
};

// Copyable and movable.
class Policy final {
 public:
  // Returns the policy of `fields`, after sorting what must be sorted (keys, groups, members,
  // admins, labels, wallets, requesters, windows). Fails with kInvalidArgument naming the
  // field ("rule 'x': approvals: group 'y' is not defined") when any rule of this header's
  // comments is broken.
  static util::Result<Policy> Create(PolicyFields fields);

  // Decodes the canonical encoding and checks it as Create does; the fields must already be in
  // their sorted order, and absent optional fields and empty lists omitted. Fails with
  // kInvalidArgument naming the byte and field for a non-canonical encoding, and "policy: ..."
  // with Create's message for an invalid policy.
  static util::Result<Policy> Decode(std::span<const uint8_t> bytes);
  static util::Result<Policy> DecodeFrom(CborReader& reader);

  // The canonical encoding (doc/policy-encoding.md). Decode(Encode()) gives back an equal
  // policy.
  const std::vector<uint8_t>& Encode() const { return encoding_; }
  // TaggedHash("kinko/policy/v1", Encode()).
  const Digest& digest() const { return digest_; }
  const PolicyFields& fields() const { return fields_; }

  // The label of the key `id`; nullopt when the policy does not name it.
  std::optional<std::string_view> KeyLabel(const KeyId& id) const;
  // The key id of label `label`; nullopt when there is none.
  std::optional<KeyId> KeyIdOf(std::string_view label) const;
  // True when the key `id` is a member of group `group` (false for unknown names).
  bool IsMember(std::string_view group, const KeyId& id) const;
  // The key ids of group `group`'s members; empty for an unknown group.
  std::vector<KeyId> Members(std::string_view group) const;
  // True when a requester condition naming `name` (a key label or group name) includes `id`.
  bool RefersTo(std::string_view name, const KeyId& id) const;
  // The admins' key ids, sorted.
  std::vector<KeyId> AdminIds() const;
  // The address-book entry paying `script_pubkey`; nullptr when the book has none. O(1).
  const AddressBookEntry* FindAddress(const btc::Script& script_pubkey) const;

  friend bool operator==(const Policy& a, const Policy& b) { return a.encoding_ == b.encoding_; }

 private:
  Policy() = default;
  util::Status BuildIndexes();

  PolicyFields fields_;
  std::vector<uint8_t> encoding_;
  Digest digest_{};
  std::unordered_map<std::string, size_t> key_by_label_;       // -> index in fields_.keys
  std::unordered_map<std::string, size_t> key_by_id_;          // id bytes -> index
  std::unordered_map<std::string, size_t> group_by_name_;      // -> index in fields_.groups
  std::unordered_map<std::string, size_t> address_by_script_;  // script bytes -> book index
};

// A policy with admins' signatures over its digest. Signatures are sorted by signer key id and
// there is at most one per key. Copyable and movable.
//
// Encoding: map {0: policy, 1: array of signature objects (policy/identity.h)}
// (doc/policy-encoding.md section 4).
class SignedPolicy final {
 public:
  // A policy without signatures yet.
  static SignedPolicy Unsigned(Policy policy);

  // Returns this signed policy with `key`'s signature added. Fails with kAlreadyExists when
  // that key has signed already.
  util::Result<SignedPolicy> AddSignature(const crypto::Ed25519PrivateKey& key) const;

  // Decodes a signed policy and verifies that every signature verifies over the policy's
  // digest. Fails with kInvalidArgument for a non-canonical or invalid encoding (as
  // Policy::Decode), signatures out of order or duplicated, more than kMaxKeys signatures, and
  // with kPermissionDenied "signature N: policy signature: ..." when one does not verify. Whether
  // the signers are the right admins, and enough of them, is governance's question
  // (policy/governance.h).
  static util::Result<SignedPolicy> Decode(std::span<const uint8_t> bytes);

  // The canonical encoding. Decode(Encode()) gives back an equal signed policy.
  std::vector<uint8_t> Encode() const;

  const Policy& policy() const { return policy_; }
  const std::vector<Signature>& signatures() const { return signatures_; }

  friend bool operator==(const SignedPolicy&, const SignedPolicy&) = default;

 private:
  SignedPolicy(Policy policy, std::vector<Signature> signatures)
      : policy_(std::move(policy)), signatures_(std::move(signatures)) {}
  Policy policy_;
  std::vector<Signature> signatures_;
};

// The policy for a human: every field, amounts in BTC and satoshi, keys with their ids in
// groups of four, rules in order with their conditions and approvals. Several lines, each
// ending in '\n'.
std::string RenderPolicy(const Policy& policy);

}  // namespace kinko::policy

#endif  // KINKO_POLICY_POLICY_H_
