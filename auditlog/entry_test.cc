#include "auditlog/entry.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "util/hex.h"

namespace kinko::auditlog {
namespace {

using util::StatusCode;

std::vector<uint8_t> Bytes(std::string_view hex) { return util::HexDecode(hex).value(); }

Hash Filled(uint8_t byte) {
  Hash out;
  out.fill(byte);
  return out;
}

IntentId Id(uint8_t byte) {
  IntentId out;
  out.fill(byte);
  return out;
}

constexpr uint64_t kTime = 1767225600;  // 2026-01-01T00:00:00Z = 0x6955b900.

StartupEntry Startup() {
  return StartupEntry{.software = "kinko-signer 0.1.0",
                      .head_key = Filled(0x4b),
                      .policy_digest = Filled(0x50),
                      .policy_sequence = 7};
}

SignRequestEntry SignRequest() {
  return SignRequestEntry{.request_digest = Filled(0x52), .intent_ids = {Id(0x01), Id(0x02)}};
}

DecisionEntry Refused() {
  return DecisionEntry{.request_digest = Filled(0x52),
                       .intent_ids = {Id(0x01), Id(0x02)},
                       .outcome = Outcome::kRefused,
                       .code = "window_limit",
                       .rule = "to exchanges",
                       .limit = "window 24h",
                       .detail = "wallet hot: 1.2 BTC in 24h, limit 1 BTC",
                       .txid = std::nullopt};
}

DecisionEntry Signed() {
  Hash txid{};
  for (size_t i = 0; i < txid.size(); ++i) txid[i] = static_cast<uint8_t>(i);
  return DecisionEntry{.request_digest = Filled(0x52),
                       .intent_ids = {Id(0x01)},
                       .outcome = Outcome::kSigned,
                       .code = "",
                       .rule = "small payouts",
                       .limit = "",
                       .detail = "",
                       .txid = txid};
}

PolicyChangeEntry PolicyChange() {
  return PolicyChangeEntry{.old_digest = Filled(0x0d),
                           .new_digest = Filled(0x0e),
                           .sequence = 8,
                           .effective_time = kTime + 86400};
}

FreezeEntry Freeze() { return FreezeEntry{.reason = "watcher: unknown spend"}; }

UnfreezeEntry Unfreeze() {
  return UnfreezeEntry{.reason = "incident 12 closed", .authorization_digest = Filled(0xa0)};
}

std::vector<Entry> AllKinds() {
  std::vector<Entry> out;
  for (EntryBody body : std::vector<EntryBody>{Startup(), SignRequest(), Refused(), Signed(),
                                               PolicyChange(), Freeze(), Unfreeze()}) {
    out.push_back(Entry::Create(kTime, std::move(body)).value());
  }
  PolicyChangeEntry first = PolicyChange();
  first.old_digest.reset();
  out.push_back(Entry::Create(kTime, first).value());
  return out;
}

std::string Hex(std::string_view text) {
  return util::HexEncode(std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

std::string Repeat(std::string_view byte_hex, size_t count) {
  std::string out;
  for (size_t i = 0; i < count; ++i) out += byte_hex;
  return out;
}

// ---------------------------------------------------------------------------------------------
// The encoding, pinned: each expected value is written out from doc/audit-log.md by hand.

TEST(EntryTest, EncodingsArePinned) {
  const std::string header = "01";
  const std::string time = "000000006955b900";
  struct Case {
    EntryBody body;
    std::string hex;
  };
  const std::vector<Case> cases = {
      {Startup(), header + "01" + time + "010012" + Hex("kinko-signer 0.1.0") + "020020" +
                      Repeat("4b", 32) + "030020" + Repeat("50", 32) + "040008" +
                      "0000000000000007"},
      {SignRequest(), header + "02" + time + "050020" + Repeat("52", 32) + "060020" +
                          Repeat("01", 16) + Repeat("02", 16)},
      {Refused(), header + "03" + time + "050020" + Repeat("52", 32) + "060020" + Repeat("01", 16) +
                      Repeat("02", 16) + "07000102" + "08000c" + Hex("window_limit") + "09000c" +
                      Hex("to exchanges") + "0a000a" + Hex("window 24h") + "0b0027" +
                      Hex("wallet hot: 1.2 BTC in 24h, limit 1 BTC")},
      {Signed(), header + "03" + time + "050020" + Repeat("52", 32) + "060010" + Repeat("01", 16) +
                     "07000101" + "080000" + "09000d" + Hex("small payouts") + "0a0000" + "0b0000" +
                     "0c0020" + "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"},
      {PolicyChange(), header + "04" + time + "040008" + "0000000000000008" + "0d0020" +
                           Repeat("0d", 32) + "0e0020" + Repeat("0e", 32) + "0f0008" +
                           "0000000069570a80"},
      {Freeze(), header + "05" + time + "100016" + Hex("watcher: unknown spend")},
      {Unfreeze(),
       header + "06" + time + "100012" + Hex("incident 12 closed") + "110020" + Repeat("a0", 32)},
  };
  for (const Case& c : cases) {
    const Entry entry = Entry::Create(kTime, c.body).value();
    EXPECT_EQ(util::HexEncode(entry.Encode()), c.hex) << EntryKindName(entry.kind());
    EXPECT_EQ(entry.LeafHash(), HashLeaf(Bytes(c.hex)));
  }
}

TEST(EntryTest, KindsAndNames) {
  const std::vector<Entry> entries = AllKinds();
  const std::vector<std::string_view> names = {"startup",  "sign_request",  "decision",
                                               "decision", "policy_change", "freeze",
                                               "unfreeze", "policy_change"};
  ASSERT_EQ(entries.size(), names.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    EXPECT_EQ(EntryKindName(entries[i].kind()), names[i]);
    EXPECT_EQ(entries[i].Encode()[1], static_cast<uint8_t>(entries[i].kind()));
  }
}

TEST(EntryTest, DecodeEncodeRoundTrip) {
  for (const Entry& entry : AllKinds()) {
    const std::vector<uint8_t> bytes = entry.Encode();
    const Entry decoded = Entry::Decode(bytes).value();
    EXPECT_EQ(decoded, entry) << RenderEntry(entry);
    EXPECT_EQ(decoded.Encode(), bytes);
  }
  // Limits are inclusive.
  DecisionEntry big = Refused();
  big.intent_ids.assign(kMaxIntentIds, Id(0x33));
  big.detail = std::string(4096, 'd');
  big.rule = std::string(256, 'r');
  big.limit = std::string(128, 'l');
  big.code = std::string(64, 'c');
  const Entry entry = Entry::Create(kMaxEntryTime, big).value();
  EXPECT_LE(entry.Encode().size(), kMaxEntrySize);
  EXPECT_EQ(Entry::Decode(entry.Encode()).value(), entry);
  // Non-ASCII text.
  const Entry japanese = Entry::Create(kTime, FreezeEntry{.reason = "金庫: 凍結 🔒"}).value();
  EXPECT_EQ(Entry::Decode(japanese.Encode()).value(), japanese);
}

// ---------------------------------------------------------------------------------------------
// Create: each rule, starting from a valid entry and changing one thing.

TEST(EntryTest, CreateRefusesEachBrokenRule) {
  struct Case {
    std::string name;
    uint64_t time;
    EntryBody body;
    std::string message;
  };
  std::vector<Case> cases;
  cases.push_back({"time", kMaxEntryTime + 1, Freeze(),
                   "audit log entry: freeze: time 253402300800 is after year 9999"});
  PolicyChangeEntry policy = PolicyChange();
  policy.effective_time = kMaxEntryTime + 1;
  cases.push_back({"effective time", kTime, policy,
                   "audit log entry: policy_change: effective_time 253402300800 is after year "
                   "9999"});
  StartupEntry startup = Startup();
  startup.software = "";
  cases.push_back({"empty software", kTime, startup, "audit log entry: startup: software: empty"});
  startup.software = std::string(129, 's');
  cases.push_back({"long software", kTime, startup,
                   "audit log entry: startup: software: 129 bytes, more than 128"});
  FreezeEntry freeze = Freeze();
  freeze.reason = "";
  cases.push_back({"empty reason", kTime, freeze, "audit log entry: freeze: reason: empty"});
  freeze.reason = "line one\nline two";
  cases.push_back(
      {"newline", kTime, freeze, "audit log entry: freeze: reason: control character at byte 8"});
  freeze.reason = "red \x1b[31m";
  cases.push_back(
      {"escape", kTime, freeze, "audit log entry: freeze: reason: control character at byte 4"});
  freeze.reason = "csi \xc2\x9b";
  cases.push_back({"C1 control", kTime, freeze,
                   "audit log entry: freeze: reason: control character at byte 4"});
  freeze.reason = "del \x7f";
  cases.push_back(
      {"DEL", kTime, freeze, "audit log entry: freeze: reason: control character at byte 4"});
  freeze.reason = std::string("nul \0", 5);
  cases.push_back(
      {"NUL", kTime, freeze, "audit log entry: freeze: reason: control character at byte 4"});
  freeze.reason = "bad \xff";
  cases.push_back(
      {"invalid byte", kTime, freeze, "audit log entry: freeze: reason: invalid UTF-8 at byte 4"});
  freeze.reason = "overlong \xc0\xaf";
  cases.push_back(
      {"overlong 2", kTime, freeze, "audit log entry: freeze: reason: invalid UTF-8 at byte 9"});
  freeze.reason = "overlong \xe0\x80\xaf";
  cases.push_back(
      {"overlong 3", kTime, freeze, "audit log entry: freeze: reason: invalid UTF-8 at byte 9"});
  freeze.reason = "surrogate \xed\xa0\x80";
  cases.push_back(
      {"surrogate", kTime, freeze, "audit log entry: freeze: reason: invalid UTF-8 at byte 10"});
  freeze.reason = "beyond \xf4\x90\x80\x80";
  cases.push_back({"above U+10FFFF", kTime, freeze,
                   "audit log entry: freeze: reason: invalid UTF-8 at byte 7"});
  freeze.reason = "cut \xe9\x87";
  cases.push_back({"truncated sequence", kTime, freeze,
                   "audit log entry: freeze: reason: invalid UTF-8 at byte 4"});
  freeze.reason = "lone \x80";
  cases.push_back({"lone continuation", kTime, freeze,
                   "audit log entry: freeze: reason: invalid UTF-8 at byte 5"});
  UnfreezeEntry unfreeze = Unfreeze();
  unfreeze.reason = std::string(1025, 'u');
  cases.push_back({"long reason", kTime, unfreeze,
                   "audit log entry: unfreeze: reason: 1025 bytes, more than 1024"});
  SignRequestEntry request = SignRequest();
  request.intent_ids.assign(kMaxIntentIds + 1, Id(0x01));
  cases.push_back({"too many ids", kTime, request,
                   "audit log entry: sign_request: intent_ids: 257 ids, more than 256"});
  DecisionEntry decision = Refused();
  decision.intent_ids.assign(kMaxIntentIds + 1, Id(0x01));
  cases.push_back({"too many decision ids", kTime, decision,
                   "audit log entry: decision: intent_ids: 257 ids, more than 256"});
  decision = Refused();
  decision.code = "";
  cases.push_back(
      {"refused without code", kTime, decision, "audit log entry: decision: code: empty"});
  decision.code = "Rule-Denies";
  cases.push_back({"code characters", kTime, decision,
                   "audit log entry: decision: code: character outside [a-z0-9_] at byte 0"});
  decision = Refused();
  decision.txid = Filled(0x01);
  cases.push_back({"refused with txid", kTime, decision,
                   "audit log entry: decision: a refused decision has no txid"});
  decision = Refused();
  decision.detail = std::string(4097, 'd');
  cases.push_back({"long detail", kTime, decision,
                   "audit log entry: decision: detail: 4097 bytes, more than 4096"});
  decision.detail = "";
  decision.rule = std::string(257, 'r');
  cases.push_back(
      {"long rule", kTime, decision, "audit log entry: decision: rule: 257 bytes, more than 256"});
  decision.rule = "";
  decision.limit = std::string(129, 'l');
  cases.push_back({"long limit", kTime, decision,
                   "audit log entry: decision: limit: 129 bytes, more than 128"});
  decision = Signed();
  decision.txid.reset();
  cases.push_back({"signed without txid", kTime, decision,
                   "audit log entry: decision: a signed decision needs a txid"});
  decision = Signed();
  decision.code = "rule_denies";
  cases.push_back({"signed with code", kTime, decision,
                   "audit log entry: decision: a signed decision has no code or limit"});
  decision = Signed();
  decision.limit = "window 24h";
  cases.push_back({"signed with limit", kTime, decision,
                   "audit log entry: decision: a signed decision has no code or limit"});
  decision = Signed();
  decision.outcome = static_cast<Outcome>(3);
  cases.push_back(
      {"unknown outcome", kTime, decision, "audit log entry: decision: unknown outcome 3"});
  for (const Case& c : cases) {
    const util::Result<Entry> entry = Entry::Create(c.time, c.body);
    EXPECT_EQ(entry.status().code(), StatusCode::kInvalidArgument) << c.name;
    EXPECT_EQ(entry.status().message(), c.message) << c.name;
  }
}

// ---------------------------------------------------------------------------------------------
// Decode: each rule, starting from a valid encoding and changing one thing.

TEST(EntryTest, DecodeRefusesEachMalformation) {
  const std::vector<uint8_t> freeze = Entry::Create(kTime, Freeze()).value().Encode();
  const std::vector<uint8_t> unfreeze = Entry::Create(kTime, Unfreeze()).value().Encode();
  const std::vector<uint8_t> refused = Entry::Create(kTime, Refused()).value().Encode();
  const std::vector<uint8_t> policy = Entry::Create(kTime, PolicyChange()).value().Encode();
  const std::vector<uint8_t> request = Entry::Create(kTime, SignRequest()).value().Encode();
  struct Case {
    std::string name;
    std::vector<uint8_t> bytes;
    std::string message;
  };
  std::vector<Case> cases;
  auto with = [](std::vector<uint8_t> bytes, size_t offset, uint8_t value) {
    bytes[offset] = value;
    return bytes;
  };
  auto append = [](std::vector<uint8_t> bytes, const std::vector<uint8_t>& more) {
    bytes.insert(bytes.end(), more.begin(), more.end());
    return bytes;
  };
  cases.push_back({"empty", {}, "audit log entry: 0 bytes, shorter than the 10-byte header"});
  cases.push_back({"short header", std::vector<uint8_t>(freeze.begin(), freeze.begin() + 9),
                   "audit log entry: 9 bytes, shorter than the 10-byte header"});
  cases.push_back({"oversize", std::vector<uint8_t>(kMaxEntrySize + 1, 0x01),
                   "audit log entry: 16385 bytes, more than 16384"});
  cases.push_back({"version", with(freeze, 0, 0x02), "audit log entry: unknown version 2"});
  cases.push_back({"kind 0", with(freeze, 1, 0x00), "audit log entry: unknown kind 0"});
  cases.push_back({"kind 7", with(freeze, 1, 0x07), "audit log entry: unknown kind 7"});
  cases.push_back({"time after 9999", append(with(with(freeze, 2, 0xff), 3, 0xff), {}),
                   "audit log entry: freeze: time 18446462600500066560 is after year 9999"});
  cases.push_back({"no fields", std::vector<uint8_t>(freeze.begin(), freeze.begin() + 10),
                   "audit log entry: freeze: missing field reason"});
  cases.push_back({"truncated field header",
                   std::vector<uint8_t>(freeze.begin(), freeze.begin() + 12),
                   "audit log entry: freeze: reason: truncated field header at byte 10"});
  cases.push_back({"truncated value", std::vector<uint8_t>(freeze.begin(), freeze.end() - 1),
                   "audit log entry: freeze: reason: value of 22 bytes at byte 13 is truncated"});
  cases.push_back({"trailing byte", append(freeze, {0x10}),
                   "audit log entry: freeze: field reason at byte 35 is not allowed here "
                   "(expected no more fields): out of order, repeated, or not a field of this "
                   "kind"});
  cases.push_back({"repeated field", append(freeze, {0x10, 0x00, 0x01, 0x61}),
                   "audit log entry: freeze: field reason at byte 35 is not allowed here "
                   "(expected no more fields): out of order, repeated, or not a field of this "
                   "kind"});
  cases.push_back({"unknown tag", append(freeze, {0x7a, 0x00, 0x00}),
                   "audit log entry: freeze: unknown field tag 0x7a at byte 35"});
  cases.push_back({"unknown tag first", with(freeze, 10, 0x12),
                   "audit log entry: freeze: unknown field tag 0x12 at byte 10"});
  cases.push_back({"field of another kind", with(freeze, 10, 0x11),
                   "audit log entry: freeze: field authorization_digest at byte 10 is not "
                   "allowed here (expected field reason): out of order, repeated, or not a field "
                   "of this kind"});
  cases.push_back({"missing last field",
                   std::vector<uint8_t>(unfreeze.begin(), unfreeze.end() - 35),
                   "audit log entry: unfreeze: missing field authorization_digest"});
  std::vector<uint8_t> short_digest(unfreeze.begin(), unfreeze.end() - 1);
  short_digest[short_digest.size() - 32] = 0x1f;  // Length 31.
  cases.push_back({"31-byte digest", short_digest,
                   "audit log entry: unfreeze: authorization_digest: 31 bytes, expected 32"});
  // In the policy change: sequence (8 bytes at 13), old digest (tag at 21), new digest.
  cases.push_back({"u64 of 9 bytes",
                   [&] {
                     std::vector<uint8_t> b = policy;
                     b[12] = 0x09;
                     b.insert(b.begin() + 13, 0x00);
                     return b;
                   }(),
                   "audit log entry: policy_change: policy_sequence: 9 bytes, expected 8"});
  cases.push_back({"out of order",
                   [&] {
                     // Swap the old (0x0d) and new (0x0e) digest fields, both 35 bytes.
                     std::vector<uint8_t> b = policy;
                     std::swap_ranges(b.begin() + 21, b.begin() + 56, b.begin() + 56);
                     return b;
                   }(),
                   "audit log entry: policy_change: field old_policy_digest at byte 56 is not "
                   "allowed here (expected field effective_time): out of order, repeated, or "
                   "not a field of this kind"});
  // In the refused decision: request digest (10..45), ids (45..80), outcome (80..84).
  cases.push_back({"unknown outcome", with(refused, 83, 0x03),
                   "audit log entry: decision: outcome: unknown outcome 3"});
  cases.push_back({"outcome 0", with(refused, 83, 0x00),
                   "audit log entry: decision: outcome: unknown outcome 0"});
  cases.push_back({"ids not a multiple of 16",
                   [&] {
                     std::vector<uint8_t> b = request;
                     b[47] = 0x21;
                     b.push_back(0x00);
                     return b;
                   }(),
                   "audit log entry: sign_request: intent_ids: 33 bytes, expected a multiple of "
                   "16"});
  cases.push_back({"too many ids",
                   [&] {
                     std::vector<uint8_t> b(request.begin(), request.begin() + 45);
                     const size_t length = (kMaxIntentIds + 1) * 16;
                     b.push_back(0x06);
                     b.push_back(static_cast<uint8_t>(length >> 8));
                     b.push_back(static_cast<uint8_t>(length));
                     b.resize(b.size() + length, 0x01);
                     return b;
                   }(),
                   "audit log entry: sign_request: intent_ids: 257 ids, more than 256"});
  cases.push_back({"text too long",
                   [&] {
                     std::vector<uint8_t> b(freeze.begin(), freeze.begin() + 10);
                     b.push_back(0x10);
                     b.push_back(0x04);
                     b.push_back(0x01);  // 1025 bytes.
                     b.resize(b.size() + 1025, 'a');
                     return b;
                   }(),
                   "audit log entry: freeze: reason: 1025 bytes, more than 1024"});
  cases.push_back({"control character in text", with(freeze, 13, '\n'),
                   "audit log entry: freeze: reason: control character at byte 0"});
  cases.push_back({"invalid UTF-8 in text", with(freeze, 14, 0xc0),
                   "audit log entry: freeze: reason: invalid UTF-8 at byte 1"});
  for (const Case& c : cases) {
    const util::Result<Entry> entry = Entry::Decode(c.bytes);
    EXPECT_EQ(entry.status().code(), StatusCode::kInvalidArgument) << c.name;
    EXPECT_EQ(entry.status().message(), c.message) << c.name;
  }
}

// Every proper prefix of every encoding is refused; so is every encoding with a byte appended.
TEST(EntryTest, DecodeRefusesEveryTruncationAndExtension) {
  for (const Entry& entry : AllKinds()) {
    const std::vector<uint8_t> bytes = entry.Encode();
    for (size_t length = 0; length < bytes.size(); ++length) {
      const std::vector<uint8_t> prefix(bytes.begin(), bytes.begin() + length);
      EXPECT_FALSE(Entry::Decode(prefix).ok()) << EntryKindName(entry.kind()) << " " << length;
    }
    for (int byte = 0; byte < 256; ++byte) {
      std::vector<uint8_t> longer = bytes;
      longer.push_back(static_cast<uint8_t>(byte));
      EXPECT_FALSE(Entry::Decode(longer).ok());
    }
  }
}

// A changed byte either is refused or decodes to another entry whose encoding is exactly the
// changed bytes (one encoding per entry), never to the original entry.
TEST(EntryTest, EveryChangedByteIsRefusedOrChangesTheEntry) {
  for (const Entry& entry : AllKinds()) {
    const std::vector<uint8_t> bytes = entry.Encode();
    for (size_t i = 0; i < bytes.size(); ++i) {
      for (uint8_t delta : {0x01, 0x80, 0xff}) {
        std::vector<uint8_t> changed = bytes;
        changed[i] ^= delta;
        const util::Result<Entry> decoded = Entry::Decode(changed);
        if (!decoded.ok()) continue;
        EXPECT_NE(*decoded, entry) << i;
        EXPECT_EQ(decoded->Encode(), changed) << i;
        EXPECT_NE(decoded->LeafHash(), entry.LeafHash());
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Rendering.

TEST(EntryTest, RenderEachKind) {
  const std::vector<Entry> entries = AllKinds();
  const std::vector<std::string> expected = {
      "2026-01-01T00:00:00Z startup software=\"kinko-signer 0.1.0\" head_key=" + Repeat("4b", 32) +
          " policy=" + Repeat("50", 32) + " policy_sequence=7",
      "2026-01-01T00:00:00Z sign_request request=" + Repeat("52", 32) +
          " intents=" + Repeat("01", 16) + "," + Repeat("02", 16),
      "2026-01-01T00:00:00Z decision refused code=window_limit rule=\"to exchanges\" "
      "limit=\"window 24h\" detail=\"wallet hot: 1.2 BTC in 24h, limit 1 BTC\" request=" +
          Repeat("52", 32) + " intents=" + Repeat("01", 16) + "," + Repeat("02", 16),
      // The txid byte-reversed, as Bitcoin displays it.
      "2026-01-01T00:00:00Z decision signed "
      "txid=1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100 "
      "rule=\"small payouts\" detail=\"\" request=" +
          Repeat("52", 32) + " intents=" + Repeat("01", 16),
      "2026-01-01T00:00:00Z policy_change sequence=8 old=" + Repeat("0d", 32) +
          " new=" + Repeat("0e", 32) + " effective=2026-01-02T00:00:00Z",
      "2026-01-01T00:00:00Z freeze reason=\"watcher: unknown spend\"",
      "2026-01-01T00:00:00Z unfreeze reason=\"incident 12 closed\" authorization=" +
          Repeat("a0", 32),
      "2026-01-01T00:00:00Z policy_change sequence=8 old=none new=" + Repeat("0e", 32) +
          " effective=2026-01-02T00:00:00Z",
  };
  ASSERT_EQ(entries.size(), expected.size());
  for (size_t i = 0; i < entries.size(); ++i) EXPECT_EQ(RenderEntry(entries[i]), expected[i]);
}

TEST(EntryTest, RenderEscapesQuotesBackslashesAndBidiControls) {
  const Entry entry =
      Entry::Create(0, FreezeEntry{.reason = "say \"hi\" \\ \u202eevil\u2066 金庫"}).value();
  EXPECT_EQ(RenderEntry(entry),
            "1970-01-01T00:00:00Z freeze reason=\"say \\\"hi\\\" \\\\ \\u{202e}evil\\u{2066} "
            "金庫\"");
  const Entry request = Entry::Create(kMaxEntryTime, SignRequestEntry{}).value();
  EXPECT_EQ(RenderEntry(request),
            "9999-12-31T23:59:59Z sign_request request=" + Repeat("00", 32) + " intents=none");
  // A leap day, and seconds within the day.
  const Entry leap = Entry::Create(951782400 + 3723, FreezeEntry{.reason = "x"}).value();
  EXPECT_EQ(RenderEntry(leap), "2000-02-29T01:02:03Z freeze reason=\"x\"");
}

}  // namespace
}  // namespace kinko::auditlog
