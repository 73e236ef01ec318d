// Fuzz target: the input bytes as a script. Checks that GetOp, IsWellFormed, IsPushOnly and
// ToAsm agree on where a script breaks; that every template Classify, ParseWitnessProgram and
// MatchMultiA recognise is rebuilt byte for byte from what they return; FindAndDelete's
// identities; and script-number minimality.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "btc/script.h"
#include "btc/standard.h"
#include "util/check.h"

namespace kinko::btc {
namespace {

constexpr uint8_t kOpPushData1 = 0x4c;
constexpr uint8_t kOpPushData2 = 0x4d;
constexpr uint8_t kOpPushData4 = 0x4e;

// Writes `op` back with its own opcode and length field.
void Reencode(const ScriptOp& op, std::vector<uint8_t>& out) {
  out.push_back(op.opcode);
  const size_t size = op.data.size();
  const size_t length_bytes = op.opcode == kOpPushData1   ? 1
                              : op.opcode == kOpPushData2 ? 2
                              : op.opcode == kOpPushData4 ? 4
                                                          : 0;
  for (size_t i = 0; i < length_bytes; ++i) out.push_back(static_cast<uint8_t>(size >> (8 * i)));
  out.insert(out.end(), op.data.begin(), op.data.end());
}

template <size_t N>
std::span<const uint8_t, N> Fixed(const std::vector<uint8_t>& bytes) {
  CHECK(bytes.size() == N);
  return std::span<const uint8_t, N>(bytes.data(), N);
}

void CheckOperations(const Script& script) {
  std::vector<uint8_t> rebuilt;
  size_t pos = 0;
  while (std::optional<ScriptOp> op = GetOp(script.bytes(), &pos)) {
    CHECK(op->offset == rebuilt.size());
    CHECK(op->opcode <= kOpPushData4 || op->data.empty());
    Reencode(*op, rebuilt);
    CHECK(rebuilt.size() == pos);
  }
  const bool well_formed = IsWellFormed(script);
  CHECK((pos == script.size()) == well_formed);
  CHECK(std::equal(rebuilt.begin(), rebuilt.end(), script.bytes().begin()));
  if (IsPushOnly(script)) CHECK(well_formed);
  const std::string asm_text = ToAsm(script);
  CHECK((asm_text.find("[error]") != std::string::npos) == !well_formed);
}

// The multisig solutions rebuild the script exactly when every key is a direct push (Core's
// matcher also accepts keys pushed with OP_PUSHDATA1/2/4).
bool MultisigKeysAreDirectPushes(const Script& script) {
  size_t pos = 0;
  std::optional<ScriptOp> op = GetOp(script.bytes(), &pos);  // The threshold.
  while ((op = GetOp(script.bytes(), &pos)) && IsValidPubkeySize(op->data)) {
    if (op->opcode != op->data.size()) return false;
  }
  return true;
}

void CheckClassify(const Script& script) {
  const StandardScript standard = Classify(script);
  const std::vector<std::vector<uint8_t>>& s = standard.solutions;
  std::optional<Script> rebuilt;
  switch (standard.kind) {
    case ScriptKind::kNonStandard:
    case ScriptKind::kNullData:
      CHECK(s.empty());
      break;
    case ScriptKind::kAnchor:
      CHECK(s.empty());
      CHECK(script == Script(std::vector<uint8_t>{0x51, 0x02, 0x4e, 0x73}));
      break;
    case ScriptKind::kP2pk:
      CHECK(s.size() == 1);
      rebuilt = P2pkScript(s[0]);
      break;
    case ScriptKind::kP2pkh:
      CHECK(s.size() == 1);
      rebuilt = P2pkhScript(Fixed<20>(s[0]));
      break;
    case ScriptKind::kP2sh:
      CHECK(s.size() == 1);
      rebuilt = P2shScript(Fixed<20>(s[0]));
      break;
    case ScriptKind::kP2wpkh:
      CHECK(s.size() == 1);
      rebuilt = P2wpkhScript(Fixed<20>(s[0]));
      break;
    case ScriptKind::kP2wsh:
      CHECK(s.size() == 1);
      rebuilt = P2wshScript(Fixed<32>(s[0]));
      break;
    case ScriptKind::kP2tr:
      CHECK(s.size() == 1);
      rebuilt = P2trScript(Fixed<32>(s[0]));
      break;
    case ScriptKind::kWitnessUnknown:
      CHECK(s.size() == 2 && s[0].size() == 1);
      rebuilt = WitnessProgramScript(s[0][0], s[1]);
      break;
    case ScriptKind::kMultisig: {
      CHECK(s.size() >= 3 && s.front().size() == 1 && s.back().size() == 1);
      const std::vector<std::vector<uint8_t>> keys(s.begin() + 1, s.end() - 1);
      CHECK(keys.size() == s.back()[0]);
      Script multisig = MultisigScript(s.front()[0], keys);
      CHECK(Classify(multisig) == standard);
      if (MultisigKeysAreDirectPushes(script)) rebuilt = multisig;
      break;
    }
  }
  if (rebuilt) {
    CHECK(*rebuilt == script);
    CHECK(Classify(*rebuilt) == standard);
  }
  if (std::optional<WitnessProgram> wp = ParseWitnessProgram(script)) {
    CHECK(WitnessProgramScript(wp->version, wp->program) == script);
  }
  if (std::optional<MultiA> multi_a = MatchMultiA(script)) {
    CHECK(MultiAScript(multi_a->threshold, multi_a->keys) == script);
  }
}

void CheckFindAndDelete(const Script& script) {
  FindAndDeleteResult none = FindAndDeleteCounted(script, Script());
  CHECK(none.removed == 0 && none.script == script);
  CHECK(FindAndDelete(script, Script()) == script);
  if (script.empty()) return;
  FindAndDeleteResult all = FindAndDeleteCounted(script, script);
  CHECK(all.removed == 1 && all.script.empty());
  // The first operation as the pattern: it is found at least once, and exactly its copies go.
  size_t pos = 0;
  if (!GetOp(script.bytes(), &pos)) return;
  Script pattern(std::span<const uint8_t>(script.bytes()).first(pos));
  FindAndDeleteResult first = FindAndDeleteCounted(script, pattern);
  CHECK(first.removed >= 1);
  CHECK(first.script.size() + first.removed * pattern.size() == script.size());
}

void CheckScriptNumbers(const Script& script) {
  size_t pos = 0;
  while (std::optional<ScriptOp> op = GetOp(script.bytes(), &pos)) {
    if (op->data.size() > 8) continue;
    util::Result<int64_t> lax = DecodeScriptNum(op->data, /*require_minimal=*/false, 8);
    CHECK(lax.ok());
    const std::vector<uint8_t> encoded = EncodeScriptNum(*lax);
    CHECK(encoded.size() <= op->data.size());
    util::Result<int64_t> again = DecodeScriptNum(encoded, /*require_minimal=*/true, 8);
    CHECK(again.ok() && *again == *lax);
    util::Result<int64_t> strict = DecodeScriptNum(op->data, /*require_minimal=*/true, 8);
    // The minimal encoding is unique.
    const bool is_encoding =
        std::equal(encoded.begin(), encoded.end(), op->data.begin(), op->data.end());
    CHECK(strict.ok() == is_encoding);
    // PushInt of a value pushes it minimally.
    Script pushed;
    pushed.PushInt(*lax);
    size_t pushed_pos = 0;
    std::optional<ScriptOp> push = GetOp(pushed.bytes(), &pushed_pos);
    CHECK(push && pushed_pos == pushed.size() && IsMinimalPush(push->opcode, push->data));
  }
}

void Run(std::span<const uint8_t> input) {
  const Script script(input);
  CheckOperations(script);
  CheckClassify(script);
  CheckFindAndDelete(script);
  CheckScriptNumbers(script);
}

}  // namespace
}  // namespace kinko::btc

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  kinko::btc::Run(std::span<const uint8_t>(data, size));
  return 0;
}
