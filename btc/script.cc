#include "btc/script.h"

#include <algorithm>
#include <array>
#include <string>

#include "util/check.h"
#include "util/hex.h"

namespace kinko::btc {
namespace {

constexpr uint8_t kOp0 = 0x00;
constexpr uint8_t kOpPushData1 = 0x4c;
constexpr uint8_t kOpPushData2 = 0x4d;
constexpr uint8_t kOpPushData4 = 0x4e;
constexpr uint8_t kOp1Negate = 0x4f;
constexpr uint8_t kOp1 = 0x51;
constexpr uint8_t kOp16 = 0x60;

// The largest decimal magnitude ParseAsm accepts, as Core's ParseScript.
constexpr uint64_t kMaxAsmNumber = 0xffffffff;

}  // namespace

std::string_view OpcodeName(uint8_t op) {
  switch (op) {
    case 0x00:
      return "0";
    case 0x4c:
      return "OP_PUSHDATA1";
    case 0x4d:
      return "OP_PUSHDATA2";
    case 0x4e:
      return "OP_PUSHDATA4";
    case 0x4f:
      return "-1";
    case 0x50:
      return "OP_RESERVED";
    case 0x51:
      return "1";
    case 0x52:
      return "2";
    case 0x53:
      return "3";
    case 0x54:
      return "4";
    case 0x55:
      return "5";
    case 0x56:
      return "6";
    case 0x57:
      return "7";
    case 0x58:
      return "8";
    case 0x59:
      return "9";
    case 0x5a:
      return "10";
    case 0x5b:
      return "11";
    case 0x5c:
      return "12";
    case 0x5d:
      return "13";
    case 0x5e:
      return "14";
    case 0x5f:
      return "15";
    case 0x60:
      return "16";
    case 0x61:
      return "OP_NOP";
    case 0x62:
      return "OP_VER";
    case 0x63:
      return "OP_IF";
    case 0x64:
      return "OP_NOTIF";
    case 0x65:
      return "OP_VERIF";
    case 0x66:
      return "OP_VERNOTIF";
    case 0x67:
      return "OP_ELSE";
    case 0x68:
      return "OP_ENDIF";
    case 0x69:
      return "OP_VERIFY";
    case 0x6a:
      return "OP_RETURN";
    case 0x6b:
      return "OP_TOALTSTACK";
    case 0x6c:
      return "OP_FROMALTSTACK";
    case 0x6d:
      return "OP_2DROP";
    case 0x6e:
      return "OP_2DUP";
    case 0x6f:
      return "OP_3DUP";
    case 0x70:
      return "OP_2OVER";
    case 0x71:
      return "OP_2ROT";
    case 0x72:
      return "OP_2SWAP";
    case 0x73:
      return "OP_IFDUP";
    case 0x74:
      return "OP_DEPTH";
    case 0x75:
      return "OP_DROP";
    case 0x76:
      return "OP_DUP";
    case 0x77:
      return "OP_NIP";
    case 0x78:
      return "OP_OVER";
    case 0x79:
      return "OP_PICK";
    case 0x7a:
      return "OP_ROLL";
    case 0x7b:
      return "OP_ROT";
    case 0x7c:
      return "OP_SWAP";
    case 0x7d:
      return "OP_TUCK";
    case 0x7e:
      return "OP_CAT";
    case 0x7f:
      return "OP_SUBSTR";
    case 0x80:
      return "OP_LEFT";
    case 0x81:
      return "OP_RIGHT";
    case 0x82:
      return "OP_SIZE";
    case 0x83:
      return "OP_INVERT";
    case 0x84:
      return "OP_AND";
    case 0x85:
      return "OP_OR";
    case 0x86:
      return "OP_XOR";
    case 0x87:
      return "OP_EQUAL";
    case 0x88:
      return "OP_EQUALVERIFY";
    case 0x89:
      return "OP_RESERVED1";
    case 0x8a:
      return "OP_RESERVED2";
    case 0x8b:
      return "OP_1ADD";
    case 0x8c:
      return "OP_1SUB";
    case 0x8d:
      return "OP_2MUL";
    case 0x8e:
      return "OP_2DIV";
    case 0x8f:
      return "OP_NEGATE";
    case 0x90:
      return "OP_ABS";
    case 0x91:
      return "OP_NOT";
    case 0x92:
      return "OP_0NOTEQUAL";
    case 0x93:
      return "OP_ADD";
    case 0x94:
      return "OP_SUB";
    case 0x95:
      return "OP_MUL";
    case 0x96:
      return "OP_DIV";
    case 0x97:
      return "OP_MOD";
    case 0x98:
      return "OP_LSHIFT";
    case 0x99:
      return "OP_RSHIFT";
    case 0x9a:
      return "OP_BOOLAND";
    case 0x9b:
      return "OP_BOOLOR";
    case 0x9c:
      return "OP_NUMEQUAL";
    case 0x9d:
      return "OP_NUMEQUALVERIFY";
    case 0x9e:
      return "OP_NUMNOTEQUAL";
    case 0x9f:
      return "OP_LESSTHAN";
    case 0xa0:
      return "OP_GREATERTHAN";
    case 0xa1:
      return "OP_LESSTHANOREQUAL";
    case 0xa2:
      return "OP_GREATERTHANOREQUAL";
    case 0xa3:
      return "OP_MIN";
    case 0xa4:
      return "OP_MAX";
    case 0xa5:
      return "OP_WITHIN";
    case 0xa6:
      return "OP_RIPEMD160";
    case 0xa7:
      return "OP_SHA1";
    case 0xa8:
      return "OP_SHA256";
    case 0xa9:
      return "OP_HASH160";
    case 0xaa:
      return "OP_HASH256";
    case 0xab:
      return "OP_CODESEPARATOR";
    case 0xac:
      return "OP_CHECKSIG";
    case 0xad:
      return "OP_CHECKSIGVERIFY";
    case 0xae:
      return "OP_CHECKMULTISIG";
    case 0xaf:
      return "OP_CHECKMULTISIGVERIFY";
    case 0xb0:
      return "OP_NOP1";
    case 0xb1:
      return "OP_CHECKLOCKTIMEVERIFY";
    case 0xb2:
      return "OP_CHECKSEQUENCEVERIFY";
    case 0xb3:
      return "OP_NOP4";
    case 0xb4:
      return "OP_NOP5";
    case 0xb5:
      return "OP_NOP6";
    case 0xb6:
      return "OP_NOP7";
    case 0xb7:
      return "OP_NOP8";
    case 0xb8:
      return "OP_NOP9";
    case 0xb9:
      return "OP_NOP10";
    case 0xba:
      return "OP_CHECKSIGADD";
    case 0xff:
      return "OP_INVALIDOPCODE";
    default:
      return "OP_UNKNOWN";
  }
}

int DecodeSmallInt(uint8_t op) {
  if (op == kOp0) return 0;
  CHECK(op >= kOp1 && op <= kOp16);
  return op - (kOp1 - 1);
}

uint8_t EncodeSmallInt(int n) {
  CHECK(n >= 0 && n <= 16);
  if (n == 0) return kOp0;
  return static_cast<uint8_t>(kOp1 - 1 + n);
}

Script& Script::PushOpcode(uint8_t op) {
  bytes_.push_back(op);
  return *this;
}

Script& Script::PushData(std::span<const uint8_t> data) {
  // The smallest push opcode that can carry data.size() bytes (Core's CScript::AppendDataSize).
  // Empty data is the direct push of zero bytes, which is OP_0.
  const size_t size = data.size();
  CHECK(size <= 0xffffffff);
  if (size < kOpPushData1) {
    bytes_.push_back(static_cast<uint8_t>(size));
  } else if (size <= 0xff) {
    bytes_.push_back(kOpPushData1);
    bytes_.push_back(static_cast<uint8_t>(size));
  } else if (size <= 0xffff) {
    bytes_.push_back(kOpPushData2);
    bytes_.push_back(static_cast<uint8_t>(size));
    bytes_.push_back(static_cast<uint8_t>(size >> 8));
  } else {
    bytes_.push_back(kOpPushData4);
    for (int i = 0; i < 4; ++i) bytes_.push_back(static_cast<uint8_t>(size >> (8 * i)));
  }
  bytes_.insert(bytes_.end(), data.begin(), data.end());
  return *this;
}

Script& Script::PushInt(int64_t n) {
  // Core's push_int64: the small-number opcodes where they exist, else the script number.
  if (n == -1) return PushOpcode(kOp1Negate);
  if (n >= 0 && n <= 16) return PushOpcode(EncodeSmallInt(static_cast<int>(n)));
  return PushData(EncodeScriptNum(n));
}

std::optional<ScriptOp> GetOp(std::span<const uint8_t> script, size_t* pos) {
  size_t at = *pos;
  if (at >= script.size()) return std::nullopt;
  const size_t start = at;
  const uint8_t opcode = script[at++];
  ScriptOp op{.opcode = opcode, .data = {}, .offset = start};
  if (opcode > kOpPushData4) {
    *pos = at;
    return op;
  }
  size_t remaining = script.size() - at;
  size_t length = 0;
  if (opcode < kOpPushData1) {
    length = opcode;
  } else {
    const size_t length_bytes = opcode == kOpPushData1 ? 1 : opcode == kOpPushData2 ? 2 : 4;
    if (remaining < length_bytes) return std::nullopt;
    for (size_t i = 0; i < length_bytes; ++i) length |= size_t{script[at + i]} << (8 * i);
    at += length_bytes;
    remaining -= length_bytes;
  }
  if (remaining < length) return std::nullopt;
  op.data = script.subspan(at, length);
  *pos = at + length;
  return op;
}

bool IsWellFormed(const Script& script) {
  size_t pos = 0;
  while (pos < script.size()) {
    if (!GetOp(script.bytes(), &pos)) return false;
  }
  return true;
}

bool IsPushOnly(const Script& script) {
  size_t pos = 0;
  while (pos < script.size()) {
    std::optional<ScriptOp> op = GetOp(script.bytes(), &pos);
    if (!op || op->opcode > kOp16) return false;
  }
  return true;
}

bool IsMinimalPush(uint8_t opcode, std::span<const uint8_t> data) {
  if (opcode > kOpPushData4) return true;
  const size_t size = data.size();
  if (size == 0) return opcode == kOp0;
  if (size == 1 && data[0] >= 1 && data[0] <= 16) return false;  // OP_1..OP_16 exist.
  if (size == 1 && data[0] == 0x81) return false;                // OP_1NEGATE exists.
  if (size <= 75) return opcode == size;
  if (size <= 0xff) return opcode == kOpPushData1;
  if (size <= 0xffff) return opcode == kOpPushData2;
  return true;
}

std::vector<uint8_t> EncodeScriptNum(int64_t n) {
  std::vector<uint8_t> out;
  if (n == 0) return out;
  const bool negative = n < 0;
  // Two's complement negation in unsigned arithmetic, so INT64_MIN has a magnitude too.
  uint64_t magnitude = negative ? ~static_cast<uint64_t>(n) + 1 : static_cast<uint64_t>(n);
  while (magnitude != 0) {
    out.push_back(static_cast<uint8_t>(magnitude & 0xff));
    magnitude >>= 8;
  }
  // The top bit of the last byte is the sign: add a byte when the magnitude uses it.
  if (out.back() & 0x80) {
    out.push_back(negative ? 0x80 : 0x00);
  } else if (negative) {
    out.back() |= 0x80;
  }
  return out;
}

util::Result<int64_t> DecodeScriptNum(std::span<const uint8_t> bytes, bool require_minimal,
                                      size_t max_size) {
  CHECK(max_size <= 8);
  if (bytes.size() > max_size) {
    return util::InvalidArgumentError("script number overflow: " + std::to_string(bytes.size()) +
                                      " bytes, at most " + std::to_string(max_size));
  }
  if (bytes.empty()) return int64_t{0};
  if (require_minimal && (bytes.back() & 0x7f) == 0) {
    // A zero last byte (sign aside) is only needed when the byte before it uses the top bit,
    // which would otherwise be read as the sign (+-255 is 0xff00 / 0xff80). This also rejects
    // 0x00 and negative zero 0x80.
    if (bytes.size() == 1 || (bytes[bytes.size() - 2] & 0x80) == 0) {
      return util::InvalidArgumentError("non-minimal script number");
    }
  }
  uint64_t magnitude = 0;
  for (size_t i = 0; i < bytes.size(); ++i) magnitude |= uint64_t{bytes[i]} << (8 * i);
  if (bytes.back() & 0x80) {
    magnitude &= ~(uint64_t{0x80} << (8 * (bytes.size() - 1)));
    return -static_cast<int64_t>(magnitude);
  }
  return static_cast<int64_t>(magnitude);
}

FindAndDeleteResult FindAndDeleteCounted(const Script& script, const Script& pattern) {
  FindAndDeleteResult result{.script = script, .removed = 0};
  if (pattern.empty()) return result;
  // Core's FindAndDelete: at each operation boundary, drop as many back-to-back copies of
  // `pattern` as start there; bytes between boundaries are kept. A truncated push stops the
  // walk and the rest is kept as it is.
  const std::vector<uint8_t>& in = script.bytes();
  const std::vector<uint8_t>& pat = pattern.bytes();
  std::vector<uint8_t> out;
  size_t pos = 0;
  size_t kept_from = 0;  // Start of the bytes not yet copied to `out`.
  while (true) {
    out.insert(out.end(), in.begin() + static_cast<ptrdiff_t>(kept_from),
               in.begin() + static_cast<ptrdiff_t>(pos));
    while (in.size() - pos >= pat.size() &&
           std::equal(pat.begin(), pat.end(), in.begin() + static_cast<ptrdiff_t>(pos))) {
      pos += pat.size();
      ++result.removed;
    }
    kept_from = pos;
    if (!GetOp(in, &pos)) break;
  }
  if (result.removed == 0) return result;
  out.insert(out.end(), in.begin() + static_cast<ptrdiff_t>(kept_from), in.end());
  result.script = Script(std::move(out));
  return result;
}

Script FindAndDelete(const Script& script, const Script& pattern) {
  return FindAndDeleteCounted(script, pattern).script;
}

std::string ToAsm(const Script& script) {
  std::string out;
  size_t pos = 0;
  while (pos < script.size()) {
    if (!out.empty()) out += ' ';
    std::optional<ScriptOp> op = GetOp(script.bytes(), &pos);
    if (!op) {
      out += "[error]";
      return out;
    }
    if (op->opcode <= kOpPushData4) {
      if (op->data.size() <= 4) {
        // At most 4 bytes always decode when minimality is not required.
        out += std::to_string(*DecodeScriptNum(op->data, /*require_minimal=*/false));
      } else {
        out += util::HexEncode(op->data);
      }
    } else {
      out += OpcodeName(op->opcode);
    }
  }
  return out;
}

namespace {

bool IsDecimalDigit(char c) { return c >= '0' && c <= '9'; }

bool IsHexDigit(char c) {
  return IsDecimalDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// The opcode named `name` in the asm notation, or nullopt.
std::optional<uint8_t> LookUpOpcode(std::string_view name) {
  std::string_view bare = name;
  if (bare.starts_with("OP_")) bare.remove_prefix(3);
  // Core's table: OP_RESERVED and OP_NOP..OP_NOP10 (its MAX_OPCODE, so not OP_CHECKSIGADD), with
  // or without "OP_".
  for (unsigned op = 0x50; op <= 0xb9; ++op) {
    if (op > 0x50 && op < 0x61) continue;  // The numbers OP_1..OP_16 are written as digits.
    std::string_view full = OpcodeName(static_cast<uint8_t>(op));
    if (full.substr(3) == bare) return static_cast<uint8_t>(op);
  }
  return std::nullopt;
}

// Tokens longer than this are cut in error messages, so that a huge input does not make a
// huge message.
constexpr size_t kMaxTokenInMessage = 64;

util::Status TokenError(std::string_view token, size_t offset, std::string_view what) {
  std::string shown(token.substr(0, kMaxTokenInMessage));
  if (token.size() > kMaxTokenInMessage) shown += "...";
  return util::InvalidArgumentError("script asm token '" + shown + "' at offset " +
                                    std::to_string(offset) + ": " + std::string(what));
}

void AppendScript(const Script& part, std::vector<uint8_t>& out) {
  out.insert(out.end(), part.bytes().begin(), part.bytes().end());
}

// Appends the bytes that one token stands for to `out`.
util::Status AppendToken(std::string_view token, size_t offset, std::vector<uint8_t>& out) {
  const bool negative = token.size() > 1 && token.front() == '-';
  const std::string_view digits = negative ? token.substr(1) : token;
  if (std::all_of(digits.begin(), digits.end(), IsDecimalDigit)) {
    uint64_t magnitude = 0;
    for (char c : digits) {
      magnitude = magnitude * 10 + static_cast<uint64_t>(c - '0');
      if (magnitude > kMaxAsmNumber) {
        return TokenError(token, offset, "number outside -0xffffffff..0xffffffff");
      }
    }
    const int64_t value = static_cast<int64_t>(magnitude);
    AppendScript(Script().PushInt(negative ? -value : value), out);
    return util::OkStatus();
  }
  if (token.size() > 2 && token.starts_with("0x")) {
    std::string_view hex = token.substr(2);
    if (hex.size() % 2 == 0 && std::all_of(hex.begin(), hex.end(), IsHexDigit)) {
      util::Result<std::vector<uint8_t>> raw = util::HexDecode(hex);
      if (!raw.ok()) return TokenError(token, offset, raw.status().message());
      out.insert(out.end(), raw->begin(), raw->end());
      return util::OkStatus();
    }
    // Like Core, an odd or non-hex 0x token falls through and fails as an unknown opcode.
  }
  if (token.size() >= 2 && token.front() == '\'' && token.back() == '\'') {
    std::string_view text = token.substr(1, token.size() - 2);
    AppendScript(
        Script().PushData(std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size())),
        out);
    return util::OkStatus();
  }
  std::optional<uint8_t> op = LookUpOpcode(token);
  if (!op) return TokenError(token, offset, "unknown opcode");
  out.push_back(*op);
  return util::OkStatus();
}

bool IsSeparator(char c) { return c == ' ' || c == '\t' || c == '\n'; }

}  // namespace

util::Result<Script> ParseAsm(std::string_view asm_text) {
  std::vector<uint8_t> out;
  size_t pos = 0;
  while (pos < asm_text.size()) {
    if (IsSeparator(asm_text[pos])) {
      ++pos;
      continue;
    }
    size_t end = pos;
    while (end < asm_text.size() && !IsSeparator(asm_text[end])) ++end;
    util::Status status = AppendToken(asm_text.substr(pos, end - pos), pos, out);
    if (!status.ok()) return status;
    pos = end;
  }
  return Script(std::move(out));
}

}  // namespace kinko::btc
