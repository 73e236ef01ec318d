#include "btc/standard.h"

#include <algorithm>

#include "util/check.h"

namespace kinko::btc {
namespace {

constexpr uint8_t kOp0 = 0x00;
constexpr uint8_t kOp1 = 0x51;
constexpr uint8_t kOp16 = 0x60;
constexpr uint8_t kOpPushData4 = 0x4e;
constexpr uint8_t kOpReturn = 0x6a;
constexpr uint8_t kOpDup = 0x76;
constexpr uint8_t kOpEqual = 0x87;
constexpr uint8_t kOpEqualVerify = 0x88;
constexpr uint8_t kOpHash160 = 0xa9;
constexpr uint8_t kOpCheckSig = 0xac;
constexpr uint8_t kOpCheckMultiSig = 0xae;
constexpr uint8_t kOpNumEqual = 0x9c;
constexpr uint8_t kOpCheckSigAdd = 0xba;

std::vector<uint8_t> ToVector(std::span<const uint8_t> bytes) {
  return std::vector<uint8_t>(bytes.begin(), bytes.end());
}

// Core's GetScriptNumber: a count in [min, max] written as OP_1..OP_16 or as a minimal push of a
// minimally encoded script number (at most 4 bytes). OP_0 is not accepted.
std::optional<int> ReadCount(const ScriptOp& op, int min, int max) {
  int64_t value = 0;
  if (op.opcode >= kOp1 && op.opcode <= kOp16) {
    value = DecodeSmallInt(op.opcode);
  } else if (op.opcode <= kOpPushData4) {
    if (!IsMinimalPush(op.opcode, op.data)) return std::nullopt;
    util::Result<int64_t> number = DecodeScriptNum(op.data, /*require_minimal=*/true);
    if (!number.ok()) return std::nullopt;
    value = *number;
  } else {
    return std::nullopt;
  }
  if (value < min || value > max) return std::nullopt;
  return static_cast<int>(value);
}

bool IsP2sh(const std::vector<uint8_t>& s) {
  return s.size() == 23 && s[0] == kOpHash160 && s[1] == 20 && s[22] == kOpEqual;
}

bool IsAnchor(const WitnessProgram& wp) {
  return wp.version == 1 && wp.program.size() == 2 && wp.program[0] == 0x4e &&
         wp.program[1] == 0x73;
}

std::optional<std::vector<uint8_t>> MatchP2pk(const std::vector<uint8_t>& s) {
  // The key is a direct push (33 or 65 is the push opcode itself) and fills the script.
  for (size_t key_size : {size_t{65}, size_t{33}}) {
    if (s.size() == key_size + 2 && s[0] == key_size && s.back() == kOpCheckSig) {
      std::span<const uint8_t> key(s.data() + 1, key_size);
      if (IsValidPubkeySize(key)) return ToVector(key);
      return std::nullopt;
    }
  }
  return std::nullopt;
}

std::optional<std::vector<uint8_t>> MatchP2pkh(const std::vector<uint8_t>& s) {
  if (s.size() == 25 && s[0] == kOpDup && s[1] == kOpHash160 && s[2] == 20 &&
      s[23] == kOpEqualVerify && s[24] == kOpCheckSig) {
    return std::vector<uint8_t>(s.begin() + 3, s.begin() + 23);
  }
  return std::nullopt;
}

// Core's MatchMultisig. Returns [{m}, keys..., {n}].
std::optional<std::vector<std::vector<uint8_t>>> MatchMultisig(const std::vector<uint8_t>& s) {
  if (s.empty() || s.back() != kOpCheckMultiSig) return std::nullopt;
  size_t pos = 0;
  std::optional<ScriptOp> op = GetOp(s, &pos);
  if (!op) return std::nullopt;
  std::optional<int> required = ReadCount(*op, 1, kMaxMultisigKeys);
  if (!required) return std::nullopt;
  std::vector<std::vector<uint8_t>> solutions;
  solutions.push_back({static_cast<uint8_t>(*required)});
  // Keys run until the first operation that is not a push of a valid key size; that operation
  // must be the key count.
  while ((op = GetOp(s, &pos)) && IsValidPubkeySize(op->data)) {
    solutions.push_back(ToVector(op->data));
  }
  if (!op) return std::nullopt;
  std::optional<int> count = ReadCount(*op, *required, kMaxMultisigKeys);
  if (!count) return std::nullopt;
  if (solutions.size() - 1 != static_cast<size_t>(*count)) return std::nullopt;
  // Only the OP_CHECKMULTISIG checked above may follow.
  if (pos + 1 != s.size()) return std::nullopt;
  solutions.push_back({static_cast<uint8_t>(*count)});
  return solutions;
}

}  // namespace

std::string_view ScriptKindName(ScriptKind kind) {
  switch (kind) {
    case ScriptKind::kNonStandard:
      return "nonstandard";
    case ScriptKind::kP2pk:
      return "pubkey";
    case ScriptKind::kP2pkh:
      return "pubkeyhash";
    case ScriptKind::kP2sh:
      return "scripthash";
    case ScriptKind::kMultisig:
      return "multisig";
    case ScriptKind::kNullData:
      return "nulldata";
    case ScriptKind::kP2wpkh:
      return "witness_v0_keyhash";
    case ScriptKind::kP2wsh:
      return "witness_v0_scripthash";
    case ScriptKind::kP2tr:
      return "witness_v1_taproot";
    case ScriptKind::kAnchor:
      return "anchor";
    case ScriptKind::kWitnessUnknown:
      return "witness_unknown";
  }
  CHECK(false);
}

bool IsValidPubkeySize(std::span<const uint8_t> pubkey) {
  if (pubkey.empty()) return false;
  switch (pubkey[0]) {
    case 0x02:
    case 0x03:
      return pubkey.size() == 33;
    case 0x04:
    case 0x06:
    case 0x07:
      return pubkey.size() == 65;
    default:
      return false;
  }
}

std::optional<WitnessProgram> ParseWitnessProgram(const Script& script) {
  const std::vector<uint8_t>& s = script.bytes();
  if (s.size() < 4 || s.size() > 42) return std::nullopt;
  if (s[0] != kOp0 && (s[0] < kOp1 || s[0] > kOp16)) return std::nullopt;
  // A direct push whose length makes it end the script (sizes 2..40 follow from the bounds).
  if (size_t{s[1]} + 2 != s.size()) return std::nullopt;
  return WitnessProgram{.version = DecodeSmallInt(s[0]),
                        .program = std::vector<uint8_t>(s.begin() + 2, s.end())};
}

StandardScript Classify(const Script& script) {
  const std::vector<uint8_t>& s = script.bytes();
  if (IsP2sh(s)) {
    return {.kind = ScriptKind::kP2sh, .solutions = {ToVector(std::span(s).subspan(2, 20))}};
  }
  if (std::optional<WitnessProgram> wp = ParseWitnessProgram(script)) {
    if (wp->version == 0 && wp->program.size() == 20) {
      return {.kind = ScriptKind::kP2wpkh, .solutions = {std::move(wp->program)}};
    }
    if (wp->version == 0 && wp->program.size() == 32) {
      return {.kind = ScriptKind::kP2wsh, .solutions = {std::move(wp->program)}};
    }
    if (wp->version == 1 && wp->program.size() == 32) {
      return {.kind = ScriptKind::kP2tr, .solutions = {std::move(wp->program)}};
    }
    if (IsAnchor(*wp)) return {.kind = ScriptKind::kAnchor, .solutions = {}};
    if (wp->version != 0) {
      return {.kind = ScriptKind::kWitnessUnknown,
              .solutions = {{static_cast<uint8_t>(wp->version)}, std::move(wp->program)}};
    }
    return {.kind = ScriptKind::kNonStandard, .solutions = {}};
  }
  // Provably unspendable data carrier: whatever pushes follow OP_RETURN.
  if (!s.empty() && s[0] == kOpReturn &&
      IsPushOnly(Script(std::span<const uint8_t>(s).subspan(1)))) {
    return {.kind = ScriptKind::kNullData, .solutions = {}};
  }
  if (std::optional<std::vector<uint8_t>> key = MatchP2pk(s)) {
    return {.kind = ScriptKind::kP2pk, .solutions = {std::move(*key)}};
  }
  if (std::optional<std::vector<uint8_t>> hash = MatchP2pkh(s)) {
    return {.kind = ScriptKind::kP2pkh, .solutions = {std::move(*hash)}};
  }
  if (std::optional<std::vector<std::vector<uint8_t>>> multisig = MatchMultisig(s)) {
    return {.kind = ScriptKind::kMultisig, .solutions = std::move(*multisig)};
  }
  return {.kind = ScriptKind::kNonStandard, .solutions = {}};
}

std::optional<MultiA> MatchMultiA(const Script& leaf_script) {
  const std::vector<uint8_t>& s = leaf_script.bytes();
  if (s.empty() || s[0] != 32 || s.back() != kOpNumEqual) return std::nullopt;
  MultiA result;
  size_t pos = 0;
  // Keys: while at least a push of 32 bytes and its opcode remain, that is what must be here.
  while (s.size() - pos >= 34) {
    if (s[pos] != 32) return std::nullopt;
    std::array<uint8_t, 32> key;
    std::copy_n(s.begin() + static_cast<ptrdiff_t>(pos) + 1, 32, key.begin());
    result.keys.push_back(key);
    pos += 33;
    const uint8_t expected = result.keys.size() == 1 ? kOpCheckSig : kOpCheckSigAdd;
    if (s[pos] != expected) return std::nullopt;
    ++pos;
  }
  if (result.keys.empty() || result.keys.size() > static_cast<size_t>(kMaxMultiAKeys)) {
    return std::nullopt;
  }
  // Then the threshold and OP_NUMEQUAL, which ends the script.
  std::optional<ScriptOp> op = GetOp(s, &pos);
  if (!op) return std::nullopt;
  if (pos + 1 != s.size() || s[pos] != kOpNumEqual) return std::nullopt;
  std::optional<int> threshold = ReadCount(*op, 1, static_cast<int>(result.keys.size()));
  if (!threshold) return std::nullopt;
  result.threshold = *threshold;
  return result;
}

Script P2pkScript(std::span<const uint8_t> pubkey) {
  CHECK(IsValidPubkeySize(pubkey));
  Script script;
  script.PushData(pubkey).PushOpcode(kOpCheckSig);
  return script;
}

Script P2pkhScript(std::span<const uint8_t, 20> pubkey_hash) {
  Script script;
  script.PushOpcode(kOpDup)
      .PushOpcode(kOpHash160)
      .PushData(pubkey_hash)
      .PushOpcode(kOpEqualVerify)
      .PushOpcode(kOpCheckSig);
  return script;
}

Script P2shScript(std::span<const uint8_t, 20> script_hash) {
  Script script;
  script.PushOpcode(kOpHash160).PushData(script_hash).PushOpcode(kOpEqual);
  return script;
}

Script P2wpkhScript(std::span<const uint8_t, 20> pubkey_hash) {
  return WitnessProgramScript(0, pubkey_hash);
}

Script P2wshScript(std::span<const uint8_t, 32> script_hash) {
  return WitnessProgramScript(0, script_hash);
}

Script P2trScript(std::span<const uint8_t, 32> output_key) {
  return WitnessProgramScript(1, output_key);
}

Script WitnessProgramScript(int version, std::span<const uint8_t> program) {
  CHECK(version >= 0 && version <= 16);
  CHECK(program.size() >= 2 && program.size() <= 40);
  Script script;
  script.PushOpcode(EncodeSmallInt(version)).PushData(program);
  return script;
}

Script MultisigScript(int threshold, const std::vector<std::vector<uint8_t>>& pubkeys) {
  CHECK(threshold >= 1 && static_cast<size_t>(threshold) <= pubkeys.size());
  CHECK(pubkeys.size() <= static_cast<size_t>(kMaxMultisigKeys));
  Script script;
  script.PushInt(threshold);
  for (const std::vector<uint8_t>& key : pubkeys) {
    CHECK(IsValidPubkeySize(key));
    script.PushData(key);
  }
  script.PushInt(static_cast<int64_t>(pubkeys.size())).PushOpcode(kOpCheckMultiSig);
  return script;
}

Script SortedMultisigScript(int threshold, std::vector<std::vector<uint8_t>> pubkeys) {
  // BIP67: sort the public keys as byte strings (std::vector compares lexicographically).
  std::sort(pubkeys.begin(), pubkeys.end());
  return MultisigScript(threshold, pubkeys);
}

Script MultiAScript(int threshold, const std::vector<std::array<uint8_t, 32>>& xonly_keys) {
  CHECK(threshold >= 1 && static_cast<size_t>(threshold) <= xonly_keys.size());
  CHECK(xonly_keys.size() <= static_cast<size_t>(kMaxMultiAKeys));
  Script script;
  for (size_t i = 0; i < xonly_keys.size(); ++i) {
    script.PushData(xonly_keys[i]).PushOpcode(i == 0 ? kOpCheckSig : kOpCheckSigAdd);
  }
  script.PushInt(threshold).PushOpcode(kOpNumEqual);
  return script;
}

Script SortedMultiAScript(int threshold, std::vector<std::array<uint8_t, 32>> xonly_keys) {
  std::sort(xonly_keys.begin(), xonly_keys.end());
  return MultiAScript(threshold, xonly_keys);
}

Script NullDataScript(std::span<const uint8_t> data) {
  Script script;
  script.PushOpcode(kOpReturn).PushData(data);
  return script;
}

}  // namespace kinko::btc
