// Bitcoin scripts: the byte string, its opcodes, iteration over operations, minimal-push rules
// and Bitcoin Core's asm notation (the one used by script_tests.json).
//
// Thread-safe: Script is a value type with one owner; functions are pure.
#ifndef KINKO_BTC_SCRIPT_H_
#define KINKO_BTC_SCRIPT_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace kinko::btc {

// Opcodes, with Bitcoin's names (OP_ prefix dropped, kPascalCase).
enum class Opcode : uint8_t {
  k0 = 0x00,
  kPushData1 = 0x4c,
  kPushData2 = 0x4d,
  kPushData4 = 0x4e,
  k1Negate = 0x4f,
  kReserved = 0x50,
  k1 = 0x51,
  k16 = 0x60,
  kNop = 0x61,
  kVer = 0x62,
  kIf = 0x63,
  kNotIf = 0x64,
  kVerIf = 0x65,
  kVerNotIf = 0x66,
  kElse = 0x67,
  kEndIf = 0x68,
  kVerify = 0x69,
  kReturn = 0x6a,
  kToAltStack = 0x6b,
  kFromAltStack = 0x6c,
  k2Drop = 0x6d,
  k2Dup = 0x6e,
  k3Dup = 0x6f,
  k2Over = 0x70,
  k2Rot = 0x71,
  k2Swap = 0x72,
  kIfDup = 0x73,
  kDepth = 0x74,
  kDrop = 0x75,
  kDup = 0x76,
  kNip = 0x77,
  kOver = 0x78,
  kPick = 0x79,
  kRoll = 0x7a,
  kRot = 0x7b,
  kSwap = 0x7c,
  kTuck = 0x7d,
  kCat = 0x7e,
  kSubstr = 0x7f,
  kLeft = 0x80,
  kRight = 0x81,
  kSize = 0x82,
  kInvert = 0x83,
  kAnd = 0x84,
  kOr = 0x85,
  kXor = 0x86,
  kEqual = 0x87,
  kEqualVerify = 0x88,
  kReserved1 = 0x89,
  kReserved2 = 0x8a,
  k1Add = 0x8b,
  k1Sub = 0x8c,
  k2Mul = 0x8d,
  k2Div = 0x8e,
  kNegate = 0x8f,
  kAbs = 0x90,
  kNot = 0x91,
  k0NotEqual = 0x92,
  kAdd = 0x93,
  kSub = 0x94,
  kMul = 0x95,
  kDiv = 0x96,
  kMod = 0x97,
  kLShift = 0x98,
  kRShift = 0x99,
  kBoolAnd = 0x9a,
  kBoolOr = 0x9b,
  kNumEqual = 0x9c,
  kNumEqualVerify = 0x9d,
  kNumNotEqual = 0x9e,
  kLessThan = 0x9f,
  kGreaterThan = 0xa0,
  kLessThanOrEqual = 0xa1,
  kGreaterThanOrEqual = 0xa2,
  kMin = 0xa3,
  kMax = 0xa4,
  kWithin = 0xa5,
  kRipemd160 = 0xa6,
  kSha1 = 0xa7,
  kSha256 = 0xa8,
  kHash160 = 0xa9,
  kHash256 = 0xaa,
  kCodeSeparator = 0xab,
  kCheckSig = 0xac,
  kCheckSigVerify = 0xad,
  kCheckMultiSig = 0xae,
  kCheckMultiSigVerify = 0xaf,
  kNop1 = 0xb0,
  kCheckLockTimeVerify = 0xb1,  // NOP2
  kCheckSequenceVerify = 0xb2,  // NOP3
  kNop4 = 0xb3,
  kNop5 = 0xb4,
  kNop6 = 0xb5,
  kNop7 = 0xb6,
  kNop8 = 0xb7,
  kNop9 = 0xb8,
  kNop10 = 0xb9,
  kCheckSigAdd = 0xba,  // BIP342
  kInvalidOpcode = 0xff,
};

// Bitcoin Core's name of `op` ("OP_CHECKSIG", "OP_NOP2" is printed "OP_CHECKLOCKTIMEVERIFY"),
// or "OP_UNKNOWN" for undefined values.
std::string_view OpcodeName(uint8_t op);

// The small-integer value of OP_0..OP_16 (0..16). Requires
// op == 0 or 0x51 <= op <= 0x60.
int DecodeSmallInt(uint8_t op);
// OP_0..OP_16 for 0 <= n <= 16.
uint8_t EncodeSmallInt(int n);

// One operation of a script: an opcode and, for pushes, the pushed bytes.
struct ScriptOp {
  uint8_t opcode = 0;
  std::span<const uint8_t> data;  // Points into the script; empty for non-push opcodes.
  size_t offset = 0;              // Byte offset of the opcode in the script.
};

// A script as bytes. Any byte string is a Script; whether it parses into operations is a
// separate question (GetOp / IsWellFormed), as in Bitcoin.
// Copyable and movable.
class Script final {
 public:
  Script() = default;
  explicit Script(std::vector<uint8_t> bytes) : bytes_(std::move(bytes)) {}
  explicit Script(std::span<const uint8_t> bytes) : bytes_(bytes.begin(), bytes.end()) {}

  const std::vector<uint8_t>& bytes() const { return bytes_; }
  size_t size() const { return bytes_.size(); }
  bool empty() const { return bytes_.empty(); }

  // Builders. PushData chooses the minimal push for `data` (OP_0, OP_1..OP_16, OP_1NEGATE are
  // used only by PushInt; PushData of a one-byte value uses a direct push, as Core's
  // `CScript() << std::vector` does).
  Script& PushOpcode(uint8_t op);
  Script& PushData(std::span<const uint8_t> data);
  // Pushes a script number with the minimal encoding (OP_0..OP_16, OP_1NEGATE, or data).
  Script& PushInt(int64_t n);

  friend bool operator==(const Script&, const Script&) = default;
  friend auto operator<=>(const Script&, const Script&) = default;

 private:
  std::vector<uint8_t> bytes_;
};

// Reads the operation at `*pos` and advances `*pos` past it. Returns nullopt (without
// advancing) when `*pos` is at the end or the push runs past the end of the script.
std::optional<ScriptOp> GetOp(std::span<const uint8_t> script, size_t* pos);

// True when every operation parses (no truncated push).
bool IsWellFormed(const Script& script);
// True when every operation parses and has an opcode <= OP_16 (Bitcoin Core's IsPushOnly: the
// pushes, OP_1NEGATE, OP_1..OP_16 and also OP_RESERVED, which fails when executed anyway).
// False on a truncated push. The empty script is push-only.
bool IsPushOnly(const Script& script);
// BIP62 minimal push rule for `opcode` pushing `data` (Bitcoin Core's CheckMinimalPush, what
// SCRIPT_VERIFY_MINIMALDATA checks): empty data must use OP_0, one byte 1..16 or 0x81 must use
// OP_1..OP_16 or OP_1NEGATE, up to 75 bytes a direct push, up to 255 bytes OP_PUSHDATA1, up to
// 65535 bytes OP_PUSHDATA2. Opcodes above OP_PUSHDATA4 push nothing and are minimal by
// definition (returns true).
bool IsMinimalPush(uint8_t opcode, std::span<const uint8_t> data);

// Script numbers (Bitcoin Core's CScriptNum): little-endian magnitude with the sign in the top
// bit of the last byte; zero is the empty string.
//
// Returns the minimal encoding of `n`, e.g. 0 -> {}, -1 -> {0x81}, 128 -> {0x80, 0x00},
// -255 -> {0xff, 0x80}.
std::vector<uint8_t> EncodeScriptNum(int64_t n);
// Returns the value of `bytes`. Fails with kInvalidArgument when `bytes` is longer than
// `max_size` ("script number overflow"), or, when `require_minimal`, when it is not the minimal
// encoding: the last byte, sign bit excluded, is zero and either there is one byte (this
// rejects 0x00 and negative zero 0x80) or the byte before it has its top bit clear ("non-minimal
// script number"). Arithmetic uses max_size 4; OP_CHECKLOCKTIMEVERIFY and
// OP_CHECKSEQUENCEVERIFY read their operand with max_size 5. Requires max_size <= 8.
util::Result<int64_t> DecodeScriptNum(std::span<const uint8_t> bytes, bool require_minimal,
                                      size_t max_size = 4);

// Legacy script semantics (Bitcoin Core's FindAndDelete): returns `script` with every
// occurrence of `pattern` removed, matching only at operation boundaries, in one pass (copies
// that a removal brings together are not removed again). Legacy OP_CHECKSIG and
// OP_CHECKMULTISIG use it to take the signature pushes out of the script code.
// An empty `pattern` removes nothing. A truncated push ends the walk: matching is still tried
// where it starts, and the bytes from there on are kept.
Script FindAndDelete(const Script& script, const Script& pattern);

// FindAndDelete together with the number of occurrences removed (the legacy interpreter fails
// under SCRIPT_VERIFY_CONST_SCRIPTCODE when it is not zero).
struct FindAndDeleteResult {
  Script script;
  size_t removed = 0;
};
FindAndDeleteResult FindAndDeleteCounted(const Script& script, const Script& pattern);

// Bitcoin Core's ScriptToAsmStr(script, false): the `decodescript`/`decoderawtransaction`
// "asm" form, e.g. "OP_DUP OP_HASH160 89ab... OP_EQUALVERIFY OP_CHECKSIG". Operations are
// separated by one space. A push (opcodes 0x00..OP_PUSHDATA4) of at most 4 bytes prints as the
// decimal script number it encodes, minimal or not (so OP_0 prints "0" and the push 0x0100 prints
// "1"); a longer push prints as lowercase hex. Every other opcode prints its OpcodeName, so
// OP_1NEGATE and OP_1..OP_16 print "-1" and "1".."16". A truncated push prints "[error]" and
// ends the output, as Core does.
std::string ToAsm(const Script& script);

// Parses the notation of Bitcoin Core's script_tests.json (ParseScript in core_io.cpp). Tokens
// are separated by spaces, tabs or newlines. A token is
// - a decimal number, optionally with a leading '-', in -0xffffffff..0xffffffff: pushed as
//   PushInt does;
// - "0x" followed by an even, nonzero number of hex digits: the bytes inserted as they are;
// - a string in single quotes (no spaces inside): its characters pushed as PushData does;
// - an opcode name, with or without the "OP_" prefix: OP_RESERVED and OP_NOP..OP_NOP10 under
//   their OpcodeName (so "NOP1", "CHECKLOCKTIMEVERIFY", "OP_NOP10"). As in Core, OP_0..OP_16,
//   OP_1NEGATE and OP_PUSHDATA1/2/4 have no name here (write numbers or raw hex), and neither do
//   "NOP2", "NOP3" (use CHECKLOCKTIMEVERIFY, CHECKSEQUENCEVERIFY) or OP_CHECKSIGADD (write 0xba):
//   ParseAsm accepts exactly the texts Core's ParseScript accepts.
// Fails with kInvalidArgument naming the offending token and its byte offset in `asm_text`
// ("script asm token 'FOO' at offset 12: unknown opcode"; tokens over 64 bytes are cut and end
// in "..."). The empty text is the empty script.
util::Result<Script> ParseAsm(std::string_view asm_text);

}  // namespace kinko::btc

#endif  // KINKO_BTC_SCRIPT_H_
