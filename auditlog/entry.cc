#include "auditlog/entry.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "util/check.h"
#include "util/hex.h"

namespace kinko::auditlog {
namespace {

// ---------------------------------------------------------------------------------------------
// The fields. DO NOT CHANGE the tags, types or order: stored in the audit log. A tag means the
// same thing in every kind that has it.

enum class FieldType { kText, kBytes32, kUint64, kOutcome, kIntentIds };

struct Field {
  uint8_t tag;
  std::string_view name;
  FieldType type;
  size_t max_text;  // For kText: the most bytes.
};

constexpr Field kSoftware = {0x01, "software", FieldType::kText, 128};
constexpr Field kHeadKey = {0x02, "head_key", FieldType::kBytes32, 0};
constexpr Field kPolicyDigest = {0x03, "policy_digest", FieldType::kBytes32, 0};
constexpr Field kPolicySequence = {0x04, "policy_sequence", FieldType::kUint64, 0};
constexpr Field kRequestDigest = {0x05, "request_digest", FieldType::kBytes32, 0};
constexpr Field kIntentIds = {0x06, "intent_ids", FieldType::kIntentIds, 0};
constexpr Field kOutcome = {0x07, "outcome", FieldType::kOutcome, 0};
constexpr Field kCode = {0x08, "code", FieldType::kText, 64};
constexpr Field kRule = {0x09, "rule", FieldType::kText, 256};
constexpr Field kLimit = {0x0a, "limit", FieldType::kText, 128};
constexpr Field kDetail = {0x0b, "detail", FieldType::kText, 4096};
constexpr Field kTxid = {0x0c, "txid", FieldType::kBytes32, 0};
constexpr Field kOldPolicyDigest = {0x0d, "old_policy_digest", FieldType::kBytes32, 0};
constexpr Field kNewPolicyDigest = {0x0e, "new_policy_digest", FieldType::kBytes32, 0};
constexpr Field kEffectiveTime = {0x0f, "effective_time", FieldType::kUint64, 0};
constexpr Field kReason = {0x10, "reason", FieldType::kText, 1024};
constexpr Field kAuthorizationDigest = {0x11, "authorization_digest", FieldType::kBytes32, 0};

constexpr std::array<const Field*, 17> kAllFields = {&kSoftware,
                                                     &kHeadKey,
                                                     &kPolicyDigest,
                                                     &kPolicySequence,
                                                     &kRequestDigest,
                                                     &kIntentIds,
                                                     &kOutcome,
                                                     &kCode,
                                                     &kRule,
                                                     &kLimit,
                                                     &kDetail,
                                                     &kTxid,
                                                     &kOldPolicyDigest,
                                                     &kNewPolicyDigest,
                                                     &kEffectiveTime,
                                                     &kReason,
                                                     &kAuthorizationDigest};

const Field* FieldByTag(uint8_t tag) {
  for (const Field* field : kAllFields) {
    if (field->tag == tag) return field;
  }
  return nullptr;
}

constexpr size_t kHeaderSize = 1 + 1 + 8;   // version, kind, time
constexpr size_t kFieldHeaderSize = 1 + 2;  // tag, length
constexpr size_t kIntentIdSize = sizeof(IntentId);

std::string Hex32(const Hash& bytes) { return util::HexEncode(bytes); }

// ---------------------------------------------------------------------------------------------
// Texts.

struct CodePoint {
  char32_t value;
  size_t length;
};

// The code point at the start of `text` (non-empty), or nothing when `text` does not start with
// well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF).
std::optional<CodePoint> DecodeCodePoint(std::string_view text) {
  const uint8_t lead = static_cast<uint8_t>(text[0]);
  if (lead < 0x80) return CodePoint{lead, 1};
  size_t length = 0;
  char32_t value = 0;
  char32_t min = 0;
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2;
    value = lead & 0x1f;
    min = 0x80;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    value = lead & 0x0f;
    min = 0x800;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    value = lead & 0x07;
    min = 0x10000;
  } else {
    return std::nullopt;
  }
  if (text.size() < length) return std::nullopt;
  for (size_t i = 1; i < length; ++i) {
    const uint8_t byte = static_cast<uint8_t>(text[i]);
    if ((byte & 0xc0) != 0x80) return std::nullopt;
    value = (value << 6) | (byte & 0x3f);
  }
  if (value < min || value > 0x10ffff || (value >= 0xd800 && value <= 0xdfff)) {
    return std::nullopt;
  }
  return CodePoint{value, length};
}

// C0 controls, DEL and C1 controls: never in a text, so that a rendered entry is one line and
// cannot carry terminal escape sequences.
bool IsControl(char32_t c) { return c < 0x20 || (c >= 0x7f && c <= 0x9f); }

// Bidirectional formatting characters, which can make a rendered line read differently from
// its bytes: shown escaped by RenderEntry.
bool IsBidiControl(char32_t c) {
  return c == 0x061c || c == 0x200e || c == 0x200f || (c >= 0x202a && c <= 0x202e) ||
         (c >= 0x2066 && c <= 0x2069);
}

std::string KindPrefix(EntryKind kind) {
  return "audit log entry: " + std::string(EntryKindName(kind)) + ": ";
}

util::Status CheckText(EntryKind kind, const Field& field, std::string_view text, bool required) {
  const std::string where = KindPrefix(kind) + std::string(field.name) + ": ";
  if (required && text.empty()) return util::InvalidArgumentError(where + "empty");
  if (text.size() > field.max_text) {
    return util::InvalidArgumentError(where + std::to_string(text.size()) + " bytes, more than " +
                                      std::to_string(field.max_text));
  }
  size_t offset = 0;
  while (offset < text.size()) {
    const std::optional<CodePoint> c = DecodeCodePoint(text.substr(offset));
    if (!c.has_value()) {
      return util::InvalidArgumentError(where + "invalid UTF-8 at byte " + std::to_string(offset));
    }
    if (IsControl(c->value)) {
      return util::InvalidArgumentError(where + "control character at byte " +
                                        std::to_string(offset));
    }
    offset += c->length;
  }
  return util::OkStatus();
}

util::Status CheckCode(EntryKind kind, std::string_view code) {
  for (size_t i = 0; i < code.size(); ++i) {
    const char c = code[i];
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
      return util::InvalidArgumentError(
          KindPrefix(kind) + "code: character outside [a-z0-9_] at byte " + std::to_string(i));
    }
  }
  return util::OkStatus();
}

util::Status CheckIds(EntryKind kind, const std::vector<IntentId>& ids) {
  if (ids.size() > kMaxIntentIds) {
    return util::InvalidArgumentError(KindPrefix(kind) +
                                      "intent_ids: " + std::to_string(ids.size()) +
                                      " ids, more than " + std::to_string(kMaxIntentIds));
  }
  return util::OkStatus();
}

util::Status CheckTime(EntryKind kind, std::string_view name, uint64_t time) {
  if (time > kMaxEntryTime) {
    return util::InvalidArgumentError(KindPrefix(kind) + std::string(name) + " " +
                                      std::to_string(time) + " is after year 9999");
  }
  return util::OkStatus();
}

// ---------------------------------------------------------------------------------------------
// Validation of each kind.

util::Status Check(const StartupEntry& e) {
  return CheckText(EntryKind::kStartup, kSoftware, e.software, true);
}

util::Status Check(const SignRequestEntry& e) {
  return CheckIds(EntryKind::kSignRequest, e.intent_ids);
}

util::Status Check(const DecisionEntry& e) {
  constexpr EntryKind kind = EntryKind::kDecision;
  util::Status status = CheckIds(kind, e.intent_ids);
  if (!status.ok()) return status;
  status = CheckText(kind, kCode, e.code, e.outcome == Outcome::kRefused);
  if (!status.ok()) return status;
  status = CheckCode(kind, e.code);
  if (!status.ok()) return status;
  status = CheckText(kind, kRule, e.rule, false);
  if (!status.ok()) return status;
  status = CheckText(kind, kLimit, e.limit, false);
  if (!status.ok()) return status;
  status = CheckText(kind, kDetail, e.detail, false);
  if (!status.ok()) return status;
  switch (e.outcome) {
    case Outcome::kSigned:
      if (!e.code.empty() || !e.limit.empty()) {
        return util::InvalidArgumentError(KindPrefix(kind) +
                                          "a signed decision has no code or limit");
      }
      if (!e.txid.has_value()) {
        return util::InvalidArgumentError(KindPrefix(kind) + "a signed decision needs a txid");
      }
      return util::OkStatus();
    case Outcome::kRefused:
      if (e.txid.has_value()) {
        return util::InvalidArgumentError(KindPrefix(kind) + "a refused decision has no txid");
      }
      return util::OkStatus();
  }
  return util::InvalidArgumentError(KindPrefix(kind) + "unknown outcome " +
                                    std::to_string(static_cast<int>(e.outcome)));
}

util::Status Check(const PolicyChangeEntry& e) {
  return CheckTime(EntryKind::kPolicyChange, kEffectiveTime.name, e.effective_time);
}

util::Status Check(const FreezeEntry& e) {
  return CheckText(EntryKind::kFreeze, kReason, e.reason, true);
}

util::Status Check(const UnfreezeEntry& e) {
  return CheckText(EntryKind::kUnfreeze, kReason, e.reason, true);
}

// ---------------------------------------------------------------------------------------------
// Writing.

// Not copyable; one owner.
class Writer final {
 public:
  Writer(EntryKind kind, uint64_t time) {
    out_.push_back(kEntryVersion);
    out_.push_back(static_cast<uint8_t>(kind));
    PutUint64(time);
  }

  void Text(const Field& field, std::string_view text) {
    Put(field, std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
  }
  void Bytes32(const Field& field, const Hash& bytes) { Put(field, bytes); }
  void Uint64(const Field& field, uint64_t value) {
    PutHeader(field, 8);
    PutUint64(value);
  }
  void OutcomeByte(const Field& field, Outcome outcome) {
    const std::array<uint8_t, 1> value = {static_cast<uint8_t>(outcome)};
    Put(field, value);
  }
  void Ids(const Field& field, const std::vector<IntentId>& ids) {
    PutHeader(field, ids.size() * kIntentIdSize);
    for (const IntentId& id : ids) out_.insert(out_.end(), id.begin(), id.end());
  }

  std::vector<uint8_t> Take() { return std::move(out_); }

 private:
  void PutUint64(uint64_t value) {
    for (int shift = 56; shift >= 0; shift -= 8)
      out_.push_back(static_cast<uint8_t>(value >> shift));
  }
  // Requires length <= 0xffff: every value is within its limit (Create), and the largest, 256
  // ids, is 4096 bytes.
  void PutHeader(const Field& field, size_t length) {
    CHECK(length <= 0xffff);
    out_.push_back(field.tag);
    out_.push_back(static_cast<uint8_t>(length >> 8));
    out_.push_back(static_cast<uint8_t>(length));
  }
  void Put(const Field& field, std::span<const uint8_t> value) {
    PutHeader(field, value.size());
    out_.insert(out_.end(), value.begin(), value.end());
  }

  std::vector<uint8_t> out_;
};

void Write(Writer& w, const StartupEntry& e) {
  w.Text(kSoftware, e.software);
  w.Bytes32(kHeadKey, e.head_key);
  w.Bytes32(kPolicyDigest, e.policy_digest);
  w.Uint64(kPolicySequence, e.policy_sequence);
}

void Write(Writer& w, const SignRequestEntry& e) {
  w.Bytes32(kRequestDigest, e.request_digest);
  w.Ids(kIntentIds, e.intent_ids);
}

void Write(Writer& w, const DecisionEntry& e) {
  w.Bytes32(kRequestDigest, e.request_digest);
  w.Ids(kIntentIds, e.intent_ids);
  w.OutcomeByte(kOutcome, e.outcome);
  w.Text(kCode, e.code);
  w.Text(kRule, e.rule);
  w.Text(kLimit, e.limit);
  w.Text(kDetail, e.detail);
  if (e.txid.has_value()) w.Bytes32(kTxid, *e.txid);
}

void Write(Writer& w, const PolicyChangeEntry& e) {
  w.Uint64(kPolicySequence, e.sequence);
  if (e.old_digest.has_value()) w.Bytes32(kOldPolicyDigest, *e.old_digest);
  w.Bytes32(kNewPolicyDigest, e.new_digest);
  w.Uint64(kEffectiveTime, e.effective_time);
}

void Write(Writer& w, const FreezeEntry& e) { w.Text(kReason, e.reason); }

void Write(Writer& w, const UnfreezeEntry& e) {
  w.Text(kReason, e.reason);
  w.Bytes32(kAuthorizationDigest, e.authorization_digest);
}

// ---------------------------------------------------------------------------------------------
// Reading: the fields of a kind, one after the other, each with the tag the kind expects next.

uint64_t GetUint64(std::span<const uint8_t> bytes) {
  uint64_t value = 0;
  for (size_t i = 0; i < 8; ++i) value = (value << 8) | bytes[i];
  return value;
}

// Not copyable; one owner. `bytes`, the whole entry, must outlive it; offsets in messages count
// from the entry's first byte.
class Reader final {
 public:
  // Requires bytes.size() >= kHeaderSize.
  Reader(EntryKind kind, std::span<const uint8_t> bytes)
      : kind_(kind), bytes_(bytes), offset_(kHeaderSize) {
    CHECK(bytes.size() >= kHeaderSize);
  }

  util::Result<std::string> Text(const Field& field) {
    util::Result<std::span<const uint8_t>> value = Take(field);
    if (!value.ok()) return value.status();
    if (value->size() > field.max_text) {
      return Error(field, std::to_string(value->size()) + " bytes, more than " +
                              std::to_string(field.max_text));
    }
    return std::string(value->begin(), value->end());
  }

  util::Result<Hash> Bytes32(const Field& field) {
    util::Result<std::span<const uint8_t>> value = Take(field);
    if (!value.ok()) return value.status();
    if (value->size() != 32) return WrongLength(field, value->size(), "32");
    Hash out;
    std::copy(value->begin(), value->end(), out.begin());
    return out;
  }

  util::Result<std::optional<Hash>> OptionalBytes32(const Field& field) {
    if (!NextIs(field)) return std::optional<Hash>();
    util::Result<Hash> value = Bytes32(field);
    if (!value.ok()) return value.status();
    return std::optional<Hash>(*value);
  }

  util::Result<uint64_t> Uint64(const Field& field) {
    util::Result<std::span<const uint8_t>> value = Take(field);
    if (!value.ok()) return value.status();
    if (value->size() != 8) return WrongLength(field, value->size(), "8");
    return GetUint64(*value);
  }

  util::Result<Outcome> OutcomeValue(const Field& field) {
    util::Result<std::span<const uint8_t>> value = Take(field);
    if (!value.ok()) return value.status();
    if (value->size() != 1) return WrongLength(field, value->size(), "1");
    const uint8_t byte = (*value)[0];
    if (byte != static_cast<uint8_t>(Outcome::kSigned) &&
        byte != static_cast<uint8_t>(Outcome::kRefused)) {
      return Error(field, "unknown outcome " + std::to_string(byte));
    }
    return static_cast<Outcome>(byte);
  }

  util::Result<std::vector<IntentId>> Ids(const Field& field) {
    util::Result<std::span<const uint8_t>> value = Take(field);
    if (!value.ok()) return value.status();
    if (value->size() % kIntentIdSize != 0) {
      return WrongLength(field, value->size(), "a multiple of 16");
    }
    if (value->size() / kIntentIdSize > kMaxIntentIds) {
      return Error(field, std::to_string(value->size() / kIntentIdSize) + " ids, more than " +
                              std::to_string(kMaxIntentIds));
    }
    std::vector<IntentId> ids(value->size() / kIntentIdSize);
    for (size_t i = 0; i < ids.size(); ++i) {
      std::copy_n(value->begin() + i * kIntentIdSize, kIntentIdSize, ids[i].begin());
    }
    return ids;
  }

  // OK when every byte was read.
  util::Status Finish() const {
    if (offset_ == bytes_.size()) return util::OkStatus();
    return UnexpectedField("no more fields");
  }

 private:
  // Whether the next field has `field`'s tag.
  bool NextIs(const Field& field) const {
    return offset_ < bytes_.size() && bytes_[offset_] == field.tag;
  }

  // The value of the next field, which must be `field`.
  util::Result<std::span<const uint8_t>> Take(const Field& field) {
    if (offset_ == bytes_.size()) {
      return util::InvalidArgumentError(KindPrefix(kind_) + "missing field " +
                                        std::string(field.name));
    }
    if (!NextIs(field)) return UnexpectedField("field " + std::string(field.name));
    if (bytes_.size() - offset_ < kFieldHeaderSize) {
      return Error(field, "truncated field header at byte " + std::to_string(offset_));
    }
    const size_t length = (size_t{bytes_[offset_ + 1]} << 8) | bytes_[offset_ + 2];
    const size_t start = offset_ + kFieldHeaderSize;
    if (bytes_.size() - start < length) {
      return Error(field, "value of " + std::to_string(length) + " bytes at byte " +
                              std::to_string(start) + " is truncated");
    }
    offset_ = start + length;
    return bytes_.subspan(start, length);
  }

  // The field at `offset_` is not `expected`: name what it is.
  util::Status UnexpectedField(const std::string& expected) const {
    const uint8_t tag = bytes_[offset_];
    const Field* found = FieldByTag(tag);
    const std::string at = " at byte " + std::to_string(offset_);
    if (found == nullptr) {
      char hex[8];
      std::snprintf(hex, sizeof(hex), "0x%02x", tag);
      return util::InvalidArgumentError(KindPrefix(kind_) + "unknown field tag " + hex + at);
    }
    return util::InvalidArgumentError(KindPrefix(kind_) + "field " + std::string(found->name) + at +
                                      " is not allowed here (expected " + expected +
                                      "): out of order, repeated, or not a field of this kind");
  }

  util::Status Error(const Field& field, const std::string& message) const {
    return util::InvalidArgumentError(KindPrefix(kind_) + std::string(field.name) + ": " + message);
  }

  util::Status WrongLength(const Field& field, size_t length, std::string_view expected) const {
    return Error(field, std::to_string(length) + " bytes, expected " + std::string(expected));
  }

  EntryKind kind_;
  std::span<const uint8_t> bytes_;
  size_t offset_;  // Invariant: kHeaderSize <= offset_ <= bytes_.size().
};

util::Result<EntryBody> Read(Reader& r, EntryKind kind) {
  switch (kind) {
    case EntryKind::kStartup: {
      StartupEntry e;
      util::Result<std::string> software = r.Text(kSoftware);
      if (!software.ok()) return software.status();
      e.software = *std::move(software);
      util::Result<Hash> head_key = r.Bytes32(kHeadKey);
      if (!head_key.ok()) return head_key.status();
      e.head_key = *head_key;
      util::Result<Hash> policy_digest = r.Bytes32(kPolicyDigest);
      if (!policy_digest.ok()) return policy_digest.status();
      e.policy_digest = *policy_digest;
      util::Result<uint64_t> sequence = r.Uint64(kPolicySequence);
      if (!sequence.ok()) return sequence.status();
      e.policy_sequence = *sequence;
      return EntryBody(std::move(e));
    }
    case EntryKind::kSignRequest: {
      SignRequestEntry e;
      util::Result<Hash> request_digest = r.Bytes32(kRequestDigest);
      if (!request_digest.ok()) return request_digest.status();
      e.request_digest = *request_digest;
      util::Result<std::vector<IntentId>> ids = r.Ids(kIntentIds);
      if (!ids.ok()) return ids.status();
      e.intent_ids = *std::move(ids);
      return EntryBody(std::move(e));
    }
    case EntryKind::kDecision: {
      DecisionEntry e;
      util::Result<Hash> request_digest = r.Bytes32(kRequestDigest);
      if (!request_digest.ok()) return request_digest.status();
      e.request_digest = *request_digest;
      util::Result<std::vector<IntentId>> ids = r.Ids(kIntentIds);
      if (!ids.ok()) return ids.status();
      e.intent_ids = *std::move(ids);
      util::Result<Outcome> outcome = r.OutcomeValue(kOutcome);
      if (!outcome.ok()) return outcome.status();
      e.outcome = *outcome;
      for (auto [field, text] : {std::pair{&kCode, &e.code}, std::pair{&kRule, &e.rule},
                                 std::pair{&kLimit, &e.limit}, std::pair{&kDetail, &e.detail}}) {
        util::Result<std::string> value = r.Text(*field);
        if (!value.ok()) return value.status();
        *text = *std::move(value);
      }
      util::Result<std::optional<Hash>> txid = r.OptionalBytes32(kTxid);
      if (!txid.ok()) return txid.status();
      e.txid = *txid;
      return EntryBody(std::move(e));
    }
    case EntryKind::kPolicyChange: {
      PolicyChangeEntry e;
      util::Result<uint64_t> sequence = r.Uint64(kPolicySequence);
      if (!sequence.ok()) return sequence.status();
      e.sequence = *sequence;
      util::Result<std::optional<Hash>> old_digest = r.OptionalBytes32(kOldPolicyDigest);
      if (!old_digest.ok()) return old_digest.status();
      e.old_digest = *old_digest;
      util::Result<Hash> new_digest = r.Bytes32(kNewPolicyDigest);
      if (!new_digest.ok()) return new_digest.status();
      e.new_digest = *new_digest;
      util::Result<uint64_t> effective = r.Uint64(kEffectiveTime);
      if (!effective.ok()) return effective.status();
      e.effective_time = *effective;
      return EntryBody(std::move(e));
    }
    case EntryKind::kFreeze: {
      FreezeEntry e;
      util::Result<std::string> reason = r.Text(kReason);
      if (!reason.ok()) return reason.status();
      e.reason = *std::move(reason);
      return EntryBody(std::move(e));
    }
    case EntryKind::kUnfreeze: {
      UnfreezeEntry e;
      util::Result<std::string> reason = r.Text(kReason);
      if (!reason.ok()) return reason.status();
      e.reason = *std::move(reason);
      util::Result<Hash> authorization = r.Bytes32(kAuthorizationDigest);
      if (!authorization.ok()) return authorization.status();
      e.authorization_digest = *authorization;
      return EntryBody(std::move(e));
    }
  }
  return util::InternalError("audit log entry: unhandled kind");
}

// ---------------------------------------------------------------------------------------------
// Rendering.

std::string FormatTime(uint64_t time) {
  // Requires time <= kMaxEntryTime, so the day count fits an int.
  const std::chrono::sys_days day{std::chrono::days(static_cast<int>(time / 86400))};
  const std::chrono::year_month_day date(day);
  const uint64_t seconds = time % 86400;
  char out[32];
  std::snprintf(out, sizeof(out), "%04d-%02u-%02uT%02u:%02u:%02uZ", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                static_cast<unsigned>(seconds / 3600), static_cast<unsigned>(seconds / 60 % 60),
                static_cast<unsigned>(seconds % 60));
  return out;
}

// `text` (valid, without controls: an Entry's) in double quotes.
std::string Quote(std::string_view text) {
  std::string out = "\"";
  size_t offset = 0;
  while (offset < text.size()) {
    const std::optional<CodePoint> c = DecodeCodePoint(text.substr(offset));
    CHECK(c.has_value());  // Entry texts are valid UTF-8 (Create).
    if (c->value == '"' || c->value == '\\') {
      out += '\\';
      out += static_cast<char>(c->value);
    } else if (IsBidiControl(c->value)) {
      char escaped[16];
      std::snprintf(escaped, sizeof(escaped), "\\u{%04x}", static_cast<unsigned>(c->value));
      out += escaped;
    } else {
      out += text.substr(offset, c->length);
    }
    offset += c->length;
  }
  out += '"';
  return out;
}

std::string Ids(const std::vector<IntentId>& ids) {
  if (ids.empty()) return "none";
  std::string out;
  for (const IntentId& id : ids) {
    if (!out.empty()) out += ',';
    out += util::HexEncode(id);
  }
  return out;
}

std::string Render(const StartupEntry& e) {
  return "software=" + Quote(e.software) + " head_key=" + util::HexEncode(e.head_key) +
         " policy=" + Hex32(e.policy_digest) +
         " policy_sequence=" + std::to_string(e.policy_sequence);
}

std::string Render(const SignRequestEntry& e) {
  return "request=" + Hex32(e.request_digest) + " intents=" + Ids(e.intent_ids);
}

std::string Render(const DecisionEntry& e) {
  std::string out;
  switch (e.outcome) {
    case Outcome::kSigned: {
      Hash display = *e.txid;  // Present when signed (Create).
      std::reverse(display.begin(), display.end());
      out = "signed txid=" + Hex32(display) + " rule=" + Quote(e.rule);
      break;
    }
    case Outcome::kRefused:
      out = "refused code=" + e.code + " rule=" + Quote(e.rule) + " limit=" + Quote(e.limit);
      break;
  }
  return out + " detail=" + Quote(e.detail) + " request=" + Hex32(e.request_digest) +
         " intents=" + Ids(e.intent_ids);
}

std::string Render(const PolicyChangeEntry& e) {
  return "sequence=" + std::to_string(e.sequence) +
         " old=" + (e.old_digest.has_value() ? Hex32(*e.old_digest) : std::string("none")) +
         " new=" + Hex32(e.new_digest) + " effective=" + FormatTime(e.effective_time);
}

std::string Render(const FreezeEntry& e) { return "reason=" + Quote(e.reason); }

std::string Render(const UnfreezeEntry& e) {
  return "reason=" + Quote(e.reason) + " authorization=" + Hex32(e.authorization_digest);
}

// The kind of each body type.
struct KindOf {
  EntryKind operator()(const StartupEntry&) const { return EntryKind::kStartup; }
  EntryKind operator()(const SignRequestEntry&) const { return EntryKind::kSignRequest; }
  EntryKind operator()(const DecisionEntry&) const { return EntryKind::kDecision; }
  EntryKind operator()(const PolicyChangeEntry&) const { return EntryKind::kPolicyChange; }
  EntryKind operator()(const FreezeEntry&) const { return EntryKind::kFreeze; }
  EntryKind operator()(const UnfreezeEntry&) const { return EntryKind::kUnfreeze; }
};

}  // namespace

std::string_view EntryKindName(EntryKind kind) {
  switch (kind) {
    case EntryKind::kStartup:
      return "startup";
    case EntryKind::kSignRequest:
      return "sign_request";
    case EntryKind::kDecision:
      return "decision";
    case EntryKind::kPolicyChange:
      return "policy_change";
    case EntryKind::kFreeze:
      return "freeze";
    case EntryKind::kUnfreeze:
      return "unfreeze";
  }
  return "unknown";
}

util::Result<Entry> Entry::Create(uint64_t time, EntryBody body) {
  const EntryKind kind = std::visit(KindOf(), body);
  util::Status status = CheckTime(kind, "time", time);
  if (!status.ok()) return status;
  status = std::visit([](const auto& e) { return Check(e); }, body);
  if (!status.ok()) return status;
  return Entry(time, std::move(body));
}

util::Result<Entry> Entry::Decode(std::span<const uint8_t> bytes) {
  if (bytes.size() > kMaxEntrySize) {
    return util::InvalidArgumentError("audit log entry: " + std::to_string(bytes.size()) +
                                      " bytes, more than " + std::to_string(kMaxEntrySize));
  }
  if (bytes.size() < kHeaderSize) {
    return util::InvalidArgumentError("audit log entry: " + std::to_string(bytes.size()) +
                                      " bytes, shorter than the " + std::to_string(kHeaderSize) +
                                      "-byte header");
  }
  if (bytes[0] != kEntryVersion) {
    return util::InvalidArgumentError("audit log entry: unknown version " +
                                      std::to_string(bytes[0]));
  }
  const uint8_t kind_byte = bytes[1];
  if (kind_byte < static_cast<uint8_t>(EntryKind::kStartup) ||
      kind_byte > static_cast<uint8_t>(EntryKind::kUnfreeze)) {
    return util::InvalidArgumentError("audit log entry: unknown kind " + std::to_string(kind_byte));
  }
  const EntryKind kind = static_cast<EntryKind>(kind_byte);
  const uint64_t time = GetUint64(bytes.subspan(2));
  Reader reader(kind, bytes);
  util::Result<EntryBody> body = Read(reader, kind);
  if (!body.ok()) return body.status();
  const util::Status finished = reader.Finish();
  if (!finished.ok()) return finished;
  return Create(time, *std::move(body));
}

std::vector<uint8_t> Entry::Encode() const {
  Writer writer(kind(), time_);
  std::visit([&writer](const auto& e) { Write(writer, e); }, body_);
  return writer.Take();
}

Hash Entry::LeafHash() const { return HashLeaf(Encode()); }

EntryKind Entry::kind() const { return std::visit(KindOf(), body_); }

std::string RenderEntry(const Entry& entry) {
  const std::string fields = std::visit([](const auto& e) { return Render(e); }, entry.body());
  return FormatTime(entry.time()) + " " + std::string(EntryKindName(entry.kind())) + " " + fields;
}

}  // namespace kinko::auditlog
