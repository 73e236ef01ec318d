#include "cli/script_format.h"

#include <optional>
#include <string_view>
#include <vector>

#include "util/hex.h"

namespace kinko::cli {
namespace {

// Core's mapSigHashTypes.
std::optional<std::string_view> SighashTypeName(uint8_t type) {
  switch (type) {
    case 0x01:
      return "ALL";
    case 0x81:
      return "ALL|ANYONECANPAY";
    case 0x02:
      return "NONE";
    case 0x82:
      return "NONE|ANYONECANPAY";
    case 0x03:
      return "SINGLE";
    case 0x83:
      return "SINGLE|ANYONECANPAY";
    default:
      return std::nullopt;
  }
}

// The value of a push of at most 4 bytes as a script number, minimal or not (CScriptNum with
// fRequireMinimal=false): little-endian magnitude, sign in the top bit of the last byte.
int64_t SmallScriptNum(std::span<const uint8_t> data) {
  if (data.empty()) return 0;
  int64_t value = 0;
  for (size_t i = 0; i < data.size(); ++i) value |= static_cast<int64_t>(data[i]) << (8 * i);
  if (data.back() & 0x80) {
    return -(value & ~(static_cast<int64_t>(0x80) << (8 * (data.size() - 1))));
  }
  return value;
}

}  // namespace

bool IsStrictDerSignature(std::span<const uint8_t> sig) {
  // BIP66: 0x30 [total-length] 0x02 [R-length] [R] 0x02 [S-length] [S] [sighash].
  if (sig.size() < 9 || sig.size() > 73) return false;
  if (sig[0] != 0x30) return false;
  if (sig[1] != sig.size() - 3) return false;
  const size_t len_r = sig[3];
  if (5 + len_r >= sig.size()) return false;
  const size_t len_s = sig[5 + len_r];
  if (len_r + len_s + 7 != sig.size()) return false;
  if (sig[2] != 0x02) return false;
  if (len_r == 0) return false;
  if (sig[4] & 0x80) return false;                                    // R negative.
  if (len_r > 1 && sig[4] == 0x00 && !(sig[5] & 0x80)) return false;  // R padded.
  if (sig[len_r + 4] != 0x02) return false;
  if (len_s == 0) return false;
  if (sig[len_r + 6] & 0x80) return false;  // S negative.
  if (len_s > 1 && sig[len_r + 6] == 0x00 && !(sig[len_r + 7] & 0x80)) return false;
  return true;
}

std::string ScriptSigToAsm(const btc::Script& script) {
  const std::vector<uint8_t>& bytes = script.bytes();
  const bool unspendable = (!bytes.empty() && bytes[0] == 0x6a) || bytes.size() > 10'000;
  std::string out;
  size_t pos = 0;
  while (pos < bytes.size()) {
    if (!out.empty()) out += ' ';
    std::optional<btc::ScriptOp> op = btc::GetOp(bytes, &pos);
    if (!op) {
      out += "[error]";
      return out;
    }
    if (op->opcode > 0x4e) {  // Not a push: OP_1NEGATE, OP_1..OP_16 and the rest by name.
      out += btc::OpcodeName(op->opcode);
      continue;
    }
    if (op->data.size() <= 4) {
      out += std::to_string(SmallScriptNum(op->data));
      continue;
    }
    std::span<const uint8_t> data = op->data;
    std::optional<std::string_view> type;
    if (!unspendable && IsStrictDerSignature(data)) {
      type = SighashTypeName(data.back());
      if (type) data = data.first(data.size() - 1);
    }
    out += util::HexEncode(data);
    if (type) {
      out += '[';
      out += *type;
      out += ']';
    }
  }
  return out;
}

}  // namespace kinko::cli
