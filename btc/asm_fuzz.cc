// Fuzz target for the asm notations. The input is read twice: as asm text and as script bytes.
// - ParseAsm never crashes and is deterministic; the concatenation of two texts parses to the
//   concatenation of their scripts.
// - Any script, written in the parseable notation (the bytes of each operation as Core's
//   FormatScript writes them: numbers for OP_0..OP_16 and OP_1NEGATE, names for named opcodes,
//   0x hex for the rest), parses back to the same bytes.
// - ToAsm output parses back to the same script when every operation is one ToAsm and ParseAsm
//   agree on: a named opcode, OP_0, OP_1NEGATE, OP_1..OP_16, or a minimal push of a minimal
//   script number of at most 4 bytes.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "btc/script.h"
#include "util/check.h"
#include "util/hex.h"

namespace kinko::btc {
namespace {

constexpr uint8_t kOpPushData4 = 0x4e;
constexpr uint8_t kOp1Negate = 0x4f;
constexpr uint8_t kOpReserved = 0x50;
constexpr uint8_t kOp1 = 0x51;
constexpr uint8_t kOp16 = 0x60;
constexpr uint8_t kOpNop = 0x61;
constexpr uint8_t kOpNop10 = 0xb9;

bool HasAsmName(uint8_t opcode) {
  return opcode == kOpReserved || (opcode >= kOpNop && opcode <= kOpNop10);
}

std::string HexToken(std::span<const uint8_t> bytes) { return "0x" + util::HexEncode(bytes); }

// The script in ParseAsm's notation, every byte accounted for.
std::string ToParseableText(const Script& script) {
  const std::vector<uint8_t>& bytes = script.bytes();
  std::string out;
  size_t pos = 0;
  while (pos < bytes.size()) {
    if (!out.empty()) out += ' ';
    const size_t start = pos;
    std::optional<ScriptOp> op = GetOp(bytes, &pos);
    if (!op) {
      out += HexToken(std::span(bytes).subspan(start));
      break;
    }
    if (op->opcode == 0x00) {
      out += "0";
    } else if (op->opcode == kOp1Negate || (op->opcode >= kOp1 && op->opcode <= kOp16)) {
      out += std::string(OpcodeName(op->opcode));
    } else if (HasAsmName(op->opcode)) {
      out += std::string(OpcodeName(op->opcode).substr(3));
    } else if (op->opcode <= kOpPushData4) {
      const size_t header = pos - start - op->data.size();
      out += HexToken(std::span(bytes).subspan(start, header));
      if (!op->data.empty()) out += " " + HexToken(op->data);
    } else {
      out += HexToken(std::span(bytes).subspan(start, 1));
    }
  }
  return out;
}

// True when ToAsm prints `op` as a token that ParseAsm turns back into the same bytes.
bool IsAsmStable(const ScriptOp& op) {
  if (op.opcode == 0x00 || op.opcode == kOp1Negate) return true;
  if (op.opcode >= kOp1 && op.opcode <= kOp16) return true;
  if (HasAsmName(op.opcode)) return true;
  if (op.opcode > kOpPushData4) return false;
  return op.data.size() <= 4 && IsMinimalPush(op.opcode, op.data) &&
         DecodeScriptNum(op.data, /*require_minimal=*/true).ok();
}

void CheckText(std::string_view text) {
  util::Result<Script> first = ParseAsm(text);
  util::Result<Script> second = ParseAsm(text);
  CHECK(first.ok() == second.ok());
  if (!first.ok()) {
    CHECK(first.status().code() == util::StatusCode::kInvalidArgument);
    CHECK(first.status() == second.status());
    return;
  }
  CHECK(*first == *second);
  const std::string doubled = std::string(text) + " " + std::string(text);
  util::Result<Script> both = ParseAsm(doubled);
  CHECK(both.ok());
  std::vector<uint8_t> expected = first->bytes();
  expected.insert(expected.end(), first->bytes().begin(), first->bytes().end());
  CHECK(both->bytes() == expected);
  util::Result<Script> reparsed = ParseAsm(ToParseableText(*first));
  CHECK(reparsed.ok() && *reparsed == *first);
}

void CheckBytes(const Script& script) {
  util::Result<Script> reparsed = ParseAsm(ToParseableText(script));
  CHECK(reparsed.ok() && *reparsed == script);

  const std::string asm_text = ToAsm(script);
  bool stable = true;
  size_t pos = 0;
  while (pos < script.size()) {
    std::optional<ScriptOp> op = GetOp(script.bytes(), &pos);
    if (!op || !IsAsmStable(*op)) {
      stable = false;
      break;
    }
  }
  if (stable) {
    util::Result<Script> from_asm = ParseAsm(asm_text);
    CHECK(from_asm.ok() && *from_asm == script);
  }
}

void Run(std::span<const uint8_t> input) {
  CheckText(std::string_view(reinterpret_cast<const char*>(input.data()), input.size()));
  CheckBytes(Script(input));
}

}  // namespace
}  // namespace kinko::btc

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  kinko::btc::Run(std::span<const uint8_t>(data, size));
  return 0;
}
