#include "btc/interpreter.h"

#include <algorithm>
#include <array>
#include <limits>
#include <set>
#include <utility>

#include "btc/internal/serialize.h"
#include "crypto/hash.h"
#include "util/check.h"

namespace kinko::btc {
namespace {

// Consensus limits (Bitcoin Core script/script.h, script/interpreter.h).
constexpr size_t kMaxScriptSize = 10000;
constexpr size_t kMaxElementSize = 520;
constexpr int kMaxOpsPerScript = 201;
constexpr size_t kMaxStackSize = 1000;
constexpr int kMaxPubkeysPerMultisig = 20;
constexpr int64_t kLockTimeThreshold = 500000000;
constexpr uint32_t kSequenceFinal = 0xffffffff;
constexpr int64_t kSequenceDisableFlag = int64_t{1} << 31;
constexpr int64_t kSequenceTypeFlag = int64_t{1} << 22;
constexpr int64_t kSequenceMask = 0x0000ffff;
// BIP341/342.
constexpr uint8_t kAnnexTag = 0x50;
constexpr uint8_t kTapleafMask = 0xfe;
constexpr uint8_t kTapleafTapscript = 0xc0;
constexpr size_t kControlBaseSize = 33;
constexpr size_t kControlNodeSize = 32;
constexpr size_t kControlMaxSize = kControlBaseSize + kControlNodeSize * 128;
constexpr int64_t kValidationWeightPerSigop = 50;
constexpr int64_t kValidationWeightOffset = 50;
// CheckTransaction.
constexpr int64_t kMaxMoney = int64_t{21000000} * 100000000;
constexpr size_t kMaxBlockWeight = 4000000;
constexpr size_t kWitnessScaleFactor = 4;

constexpr uint8_t Op(Opcode op) { return static_cast<uint8_t>(op); }

using Bytes = std::vector<uint8_t>;
using Stack = std::vector<Bytes>;

// State shared between the witness-program checks and the tapscript evaluation.
struct ExecutionData {
  std::optional<std::array<uint8_t, 32>> tapleaf_hash;
  std::optional<std::vector<uint8_t>> annex;
  uint32_t codesep_pos = 0xffffffff;
  int64_t validation_weight_left = 0;
};

// --- Script numbers -------------------------------------------------------------------------

// Core's CScriptNum::getint(): clamps to the int range.
int ClampToInt(int64_t value) {
  if (value > std::numeric_limits<int>::max()) return std::numeric_limits<int>::max();
  if (value < std::numeric_limits<int>::min()) return std::numeric_limits<int>::min();
  return static_cast<int>(value);
}

bool CastToBool(std::span<const uint8_t> bytes) {
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (bytes[i] != 0) {
      // Negative zero (0x80 as last byte, all else zero) is false.
      return !(i == bytes.size() - 1 && bytes[i] == 0x80);
    }
  }
  return false;
}

// --- Encodings -------------------------------------------------------------------------------

// BIP66 strict DER of `sig` (which ends with the sighash byte): 0x30 len 0x02 lenR R 0x02 lenS
// S hashtype, R and S positive and minimally encoded. Consensus since BIP66.
bool IsValidSignatureEncoding(std::span<const uint8_t> sig) {
  if (sig.size() < 9 || sig.size() > 73) return false;
  if (sig[0] != 0x30) return false;
  if (sig[1] != sig.size() - 3) return false;
  const size_t len_r = sig[3];
  if (5 + len_r >= sig.size()) return false;
  const size_t len_s = sig[5 + len_r];
  if (len_r + len_s + 7 != sig.size()) return false;
  if (sig[2] != 0x02) return false;
  if (len_r == 0) return false;
  if (sig[4] & 0x80) return false;
  if (len_r > 1 && sig[4] == 0x00 && !(sig[5] & 0x80)) return false;
  if (sig[len_r + 4] != 0x02) return false;
  if (len_s == 0) return false;
  if (sig[len_r + 6] & 0x80) return false;
  if (len_s > 1 && sig[len_r + 6] == 0x00 && !(sig[len_r + 7] & 0x80)) return false;
  return true;
}

// Half the secp256k1 group order, big-endian, and the order itself.
constexpr std::array<uint8_t, 32> kHalfOrder = {
    0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0x5d, 0x57, 0x6e, 0x73, 0x57, 0xa4, 0x50, 0x1d, 0xdf, 0xe9, 0x2f, 0x46, 0x68, 0x1b, 0x20, 0xa0};
constexpr std::array<uint8_t, 32> kOrder = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
    0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41};

// A DER integer as Bitcoin Core's lax parser reads it: leading zeros dropped, then it must fit
// in 32 bytes and be below the group order. nullopt when it overflows.
std::optional<std::array<uint8_t, 32>> LaxScalar(std::span<const uint8_t> bytes) {
  while (!bytes.empty() && bytes.front() == 0) bytes = bytes.subspan(1);
  if (bytes.size() > 32) return std::nullopt;
  std::array<uint8_t, 32> padded{};
  std::copy(bytes.begin(), bytes.end(), padded.begin() + static_cast<ptrdiff_t>(32 - bytes.size()));
  if (padded >= kOrder) return std::nullopt;
  return padded;
}

// Core's CPubKey::CheckLowS on a strictly DER-encoded `sig` (with sighash byte): S at most n/2.
// The lax parser turns a signature whose R or S overflows into the all-zero signature, whose S
// counts as low (it then fails verification instead). Requires IsValidSignatureEncoding(sig).
bool HasLowS(std::span<const uint8_t> sig) {
  const size_t len_r = sig[3];
  const std::optional<std::array<uint8_t, 32>> r = LaxScalar(sig.subspan(4, len_r));
  const std::optional<std::array<uint8_t, 32>> s =
      LaxScalar(sig.subspan(6 + len_r, sig[5 + len_r]));
  if (!r || !s) return true;
  return *s <= kHalfOrder;
}

bool IsDefinedHashtypeSignature(std::span<const uint8_t> sig) {
  if (sig.empty()) return false;
  const uint8_t type = sig.back() & static_cast<uint8_t>(~kSighashAnyoneCanPay);
  return type >= kSighashAll && type <= kSighashSingle;
}

// The encoding rules the flags impose on an ECDSA signature. An empty signature always passes
// (it is the compact way to fail CHECK(MULTI)SIG).
ScriptError CheckSignatureEncoding(std::span<const uint8_t> sig, VerifyFlags flags) {
  if (sig.empty()) return ScriptError::kOk;
  if ((flags.Has(VerifyFlag::kDerSig) || flags.Has(VerifyFlag::kLowS) ||
       flags.Has(VerifyFlag::kStrictEnc)) &&
      !IsValidSignatureEncoding(sig)) {
    return ScriptError::kSigDer;
  }
  if (flags.Has(VerifyFlag::kLowS) && !HasLowS(sig)) return ScriptError::kSigHighS;
  if (flags.Has(VerifyFlag::kStrictEnc) && !IsDefinedHashtypeSignature(sig)) {
    return ScriptError::kSigHashType;
  }
  return ScriptError::kOk;
}

bool IsCompressedOrUncompressedPubkey(std::span<const uint8_t> key) {
  if (key.size() < 33) return false;
  if (key[0] == 0x04) return key.size() == 65;
  if (key[0] == 0x02 || key[0] == 0x03) return key.size() == 33;
  return false;
}

bool IsCompressedPubkey(std::span<const uint8_t> key) {
  return key.size() == 33 && (key[0] == 0x02 || key[0] == 0x03);
}

ScriptError CheckPubkeyEncoding(std::span<const uint8_t> key, VerifyFlags flags,
                                SigVersion version) {
  if (flags.Has(VerifyFlag::kStrictEnc) && !IsCompressedOrUncompressedPubkey(key)) {
    return ScriptError::kPubkeyType;
  }
  if (flags.Has(VerifyFlag::kWitnessPubkeyType) && version == SigVersion::kWitnessV0 &&
      !IsCompressedPubkey(key)) {
    return ScriptError::kWitnessPubkeyType;
  }
  return ScriptError::kOk;
}

// BIP342: opcodes that make a tapscript succeed unconditionally.
bool IsOpSuccess(uint8_t op) {
  return op == 80 || op == 98 || (op >= 126 && op <= 129) || (op >= 131 && op <= 134) ||
         (op >= 137 && op <= 138) || (op >= 141 && op <= 142) || (op >= 149 && op <= 153) ||
         (op >= 187 && op <= 254);
}

bool IsDisabledOpcode(uint8_t op) {
  switch (op) {
    case Op(Opcode::kCat):
    case Op(Opcode::kSubstr):
    case Op(Opcode::kLeft):
    case Op(Opcode::kRight):
    case Op(Opcode::kInvert):
    case Op(Opcode::kAnd):
    case Op(Opcode::kOr):
    case Op(Opcode::kXor):
    case Op(Opcode::k2Mul):
    case Op(Opcode::k2Div):
    case Op(Opcode::kMul):
    case Op(Opcode::kDiv):
    case Op(Opcode::kMod):
    case Op(Opcode::kLShift):
    case Op(Opcode::kRShift):
      return true;
    default:
      return false;
  }
}

bool IsPayToScriptHash(const Script& script) {
  const Bytes& b = script.bytes();
  return b.size() == 23 && b[0] == Op(Opcode::kHash160) && b[1] == 0x14 &&
         b[22] == Op(Opcode::kEqual);
}

// BIP141: a version byte (OP_0..OP_16) followed by one direct push of 2..40 bytes.
struct Program {
  int version;
  std::span<const uint8_t> program;
};
std::optional<Program> WitnessProgramOf(const Script& script) {
  const Bytes& b = script.bytes();
  if (b.size() < 4 || b.size() > 42) return std::nullopt;
  if (b[0] != Op(Opcode::k0) && (b[0] < Op(Opcode::k1) || b[0] > Op(Opcode::k16))) {
    return std::nullopt;
  }
  if (static_cast<size_t>(b[1]) + 2 != b.size()) return std::nullopt;
  return Program{DecodeSmallInt(b[0]), std::span<const uint8_t>(b).subspan(2)};
}

// Pay-to-anchor (BIP 431 ephemeral anchors): OP_1 <0x4e73>, spendable by anyone.
bool IsPayToAnchor(const Program& program) {
  return program.version == 1 && program.program.size() == 2 && program.program[0] == 0x4e &&
         program.program[1] == 0x73;
}

// --- Condition stack (Core's ConditionStack) ----------------------------------------------------

// The IF/ELSE nesting, stored as its depth and the position of the first false entry, since
// only "is everything true" is ever asked.
class ConditionStack final {
 public:
  bool empty() const { return size_ == 0; }
  bool AllTrue() const { return first_false_ == kNoFalse; }
  void Push(bool value) {
    if (first_false_ == kNoFalse && !value) first_false_ = size_;
    ++size_;
  }
  // Requires !empty().
  void Pop() {
    --size_;
    if (first_false_ == size_) first_false_ = kNoFalse;
  }
  // Requires !empty().
  void ToggleTop() {
    if (first_false_ == kNoFalse) {
      first_false_ = size_ - 1;
    } else if (first_false_ == size_ - 1) {
      first_false_ = kNoFalse;
    }
    // Otherwise a deeper false keeps everything inactive; the toggle is unobservable.
  }

 private:
  static constexpr uint32_t kNoFalse = std::numeric_limits<uint32_t>::max();
  uint32_t size_ = 0;
  uint32_t first_false_ = kNoFalse;
};

// --- Signature opcodes -----------------------------------------------------------------------

// OP_CHECKSIG in legacy and segwit v0 scripts. Sets `*success`; returns an error when the
// script must fail outright.
ScriptError EvalChecksigPreTapscript(std::span<const uint8_t> sig, std::span<const uint8_t> key,
                                     std::span<const uint8_t> code_from_separator,
                                     VerifyFlags flags, const SignatureChecker& checker,
                                     SigVersion version, bool* success) {
  Script script_code(code_from_separator);
  if (version == SigVersion::kBase) {
    // Legacy: the signature is removed from the script it signs.
    Script stripped = FindAndDelete(script_code, Script().PushData(sig));
    if (stripped.size() != script_code.size() && flags.Has(VerifyFlag::kConstScriptCode)) {
      return ScriptError::kSigFindAndDelete;
    }
    script_code = std::move(stripped);
  }
  if (ScriptError e = CheckSignatureEncoding(sig, flags); e != ScriptError::kOk) return e;
  if (ScriptError e = CheckPubkeyEncoding(key, flags, version); e != ScriptError::kOk) return e;
  *success = checker.CheckEcdsaSignature(sig, key, script_code, version);
  if (!*success && flags.Has(VerifyFlag::kNullFail) && !sig.empty()) {
    return ScriptError::kSigNullFail;
  }
  return ScriptError::kOk;
}

// BIP342 OP_CHECKSIG/OP_CHECKSIGVERIFY/OP_CHECKSIGADD. The order of the rules below is
// consensus: the budget is charged for every non-empty signature (even with an unknown key
// type), an empty key fails, and a non-empty invalid signature fails the script.
ScriptError EvalChecksigTapscript(std::span<const uint8_t> sig, std::span<const uint8_t> key,
                                  ExecutionData& exec, VerifyFlags flags,
                                  const SignatureChecker& checker, bool* success) {
  *success = !sig.empty();
  if (*success) {
    exec.validation_weight_left -= kValidationWeightPerSigop;
    if (exec.validation_weight_left < 0) return ScriptError::kTapscriptValidationWeight;
  }
  if (key.empty()) return ScriptError::kTapscriptEmptyPubkey;
  if (key.size() == 32) {
    if (*success) {
      TaprootSighashExtras extras;
      extras.leaf_hash = exec.tapleaf_hash;
      extras.codesep_pos = exec.codesep_pos;
      extras.annex = exec.annex;
      ScriptError e =
          checker.CheckSchnorrSignature(sig, key.first<32>(), SigVersion::kTapscript, extras);
      if (e != ScriptError::kOk) return e;
    }
  } else if (flags.Has(VerifyFlag::kDiscourageUpgradablePubkeyType)) {
    // Unknown key types are reserved for soft forks and succeed by consensus.
    return ScriptError::kDiscourageUpgradablePubkeyType;
  }
  return ScriptError::kOk;
}

// --- EvalScript ------------------------------------------------------------------------------

// Runs `script` on `stack` (Core's EvalScript). `version` is kBase, kWitnessV0 or kTapscript.
ScriptError EvalScript(Stack& stack, const Script& script, VerifyFlags flags,
                       const SignatureChecker& checker, SigVersion version, ExecutionData& exec) {
  CHECK(version != SigVersion::kTaproot);
  const bool pre_tapscript = version == SigVersion::kBase || version == SigVersion::kWitnessV0;
  std::span<const uint8_t> bytes = script.bytes();
  if (pre_tapscript && bytes.size() > kMaxScriptSize) return ScriptError::kScriptSize;

  const Bytes kTrue{1};
  const Bytes kFalse;
  const bool require_minimal = flags.Has(VerifyFlag::kMinimalData);
  ConditionStack exec_stack;
  Stack altstack;
  int op_count = 0;
  size_t code_begin = 0;  // Where the script code starts (after the last OP_CODESEPARATOR).
  uint32_t opcode_pos = 0;
  exec.codesep_pos = 0xffffffff;

  // Stack access from the top: Top(1) is the top element. Callers check the size first.
  auto top = [&stack](size_t i) -> Bytes& { return stack[stack.size() - i]; };

  size_t pos = 0;
  for (; pos < bytes.size(); ++opcode_pos) {
    const bool executing = exec_stack.AllTrue();
    std::optional<ScriptOp> op = GetOp(bytes, &pos);
    if (!op) return ScriptError::kBadOpcode;
    const uint8_t opcode = op->opcode;
    if (op->data.size() > kMaxElementSize) return ScriptError::kPushSize;

    // Non-push opcodes count towards the limit even when not executed.
    if (pre_tapscript && opcode > Op(Opcode::k16) && ++op_count > kMaxOpsPerScript) {
      return ScriptError::kOpCount;
    }
    // Disabled opcodes fail even in unexecuted branches (CVE-2010-5137).
    if (IsDisabledOpcode(opcode)) return ScriptError::kDisabledOpcode;
    if (opcode == Op(Opcode::kCodeSeparator) && version == SigVersion::kBase &&
        flags.Has(VerifyFlag::kConstScriptCode)) {
      return ScriptError::kOpCodeSeparator;
    }

    if (executing && opcode <= Op(Opcode::kPushData4)) {
      if (require_minimal && !IsMinimalPush(opcode, op->data)) return ScriptError::kMinimalData;
      stack.emplace_back(op->data.begin(), op->data.end());
    } else if (executing || (opcode >= Op(Opcode::kIf) && opcode <= Op(Opcode::kEndIf))) {
      switch (opcode) {
        case Op(Opcode::k1Negate):
        case Op(Opcode::k1):
        case 0x52:
        case 0x53:
        case 0x54:
        case 0x55:
        case 0x56:
        case 0x57:
        case 0x58:
        case 0x59:
        case 0x5a:
        case 0x5b:
        case 0x5c:
        case 0x5d:
        case 0x5e:
        case 0x5f:
        case Op(Opcode::k16):
          stack.push_back(EncodeScriptNum(static_cast<int64_t>(opcode) - (Op(Opcode::k1) - 1)));
          break;

        case Op(Opcode::kNop):
          break;

        case Op(Opcode::kCheckLockTimeVerify): {
          if (!flags.Has(VerifyFlag::kCheckLockTimeVerify)) break;  // NOP2 before BIP65.
          if (stack.empty()) return ScriptError::kInvalidStackOperation;
          // Five bytes: lock times reach 2^32 - 1, beyond the 4-byte operand range.
          util::Result<int64_t> lock_time = DecodeScriptNum(top(1), require_minimal, 5);
          if (!lock_time.ok()) return ScriptError::kScriptNum;
          if (*lock_time < 0) return ScriptError::kNegativeLockTime;
          if (!checker.CheckLockTime(*lock_time)) return ScriptError::kUnsatisfiedLockTime;
          break;
        }

        case Op(Opcode::kCheckSequenceVerify): {
          if (!flags.Has(VerifyFlag::kCheckSequenceVerify)) break;  // NOP3 before BIP112.
          if (stack.empty()) return ScriptError::kInvalidStackOperation;
          util::Result<int64_t> sequence = DecodeScriptNum(top(1), require_minimal, 5);
          if (!sequence.ok()) return ScriptError::kScriptNum;
          if (*sequence < 0) return ScriptError::kNegativeLockTime;
          // The disable flag makes the operand a NOP, reserved for future soft forks.
          if ((*sequence & kSequenceDisableFlag) != 0) break;
          if (!checker.CheckSequence(*sequence)) return ScriptError::kUnsatisfiedLockTime;
          break;
        }

        case Op(Opcode::kNop1):
        case Op(Opcode::kNop4):
        case Op(Opcode::kNop5):
        case Op(Opcode::kNop6):
        case Op(Opcode::kNop7):
        case Op(Opcode::kNop8):
        case Op(Opcode::kNop9):
        case Op(Opcode::kNop10):
          if (flags.Has(VerifyFlag::kDiscourageUpgradableNops)) {
            return ScriptError::kDiscourageUpgradableNops;
          }
          break;

        case Op(Opcode::kIf):
        case Op(Opcode::kNotIf): {
          bool value = false;
          if (executing) {
            if (stack.empty()) return ScriptError::kInvalidStackOperation;
            const Bytes& arg = top(1);
            const bool minimal_arg = arg.empty() || (arg.size() == 1 && arg[0] == 1);
            if (version == SigVersion::kTapscript && !minimal_arg) {
              return ScriptError::kTapscriptMinimalIf;  // BIP342: consensus in tapscript.
            }
            if (version == SigVersion::kWitnessV0 && flags.Has(VerifyFlag::kMinimalIf) &&
                !minimal_arg) {
              return ScriptError::kMinimalIf;
            }
            value = CastToBool(arg);
            if (opcode == Op(Opcode::kNotIf)) value = !value;
            stack.pop_back();
          }
          exec_stack.Push(value);
          break;
        }

        case Op(Opcode::kElse):
          if (exec_stack.empty()) return ScriptError::kUnbalancedConditional;
          exec_stack.ToggleTop();
          break;

        case Op(Opcode::kEndIf):
          if (exec_stack.empty()) return ScriptError::kUnbalancedConditional;
          exec_stack.Pop();
          break;

        case Op(Opcode::kVerify):
          if (stack.empty()) return ScriptError::kInvalidStackOperation;
          if (!CastToBool(top(1))) return ScriptError::kVerify;
          stack.pop_back();
          break;

        case Op(Opcode::kReturn):
          return ScriptError::kOpReturn;

        case Op(Opcode::kToAltStack):
          if (stack.empty()) return ScriptError::kInvalidStackOperation;
          altstack.push_back(std::move(top(1)));
          stack.pop_back();
          break;

        case Op(Opcode::kFromAltStack):
          if (altstack.empty()) return ScriptError::kInvalidAltstackOperation;
          stack.push_back(std::move(altstack.back()));
          altstack.pop_back();
          break;

        case Op(Opcode::k2Drop):
          if (stack.size() < 2) return ScriptError::kInvalidStackOperation;
          stack.pop_back();
          stack.pop_back();
          break;

        case Op(Opcode::k2Dup): {
          if (stack.size() < 2) return ScriptError::kInvalidStackOperation;
          Bytes a = top(2);
          Bytes b = top(1);
          stack.push_back(std::move(a));
          stack.push_back(std::move(b));
          break;
        }

        case Op(Opcode::k3Dup): {
          if (stack.size() < 3) return ScriptError::kInvalidStackOperation;
          Bytes a = top(3);
          Bytes b = top(2);
          Bytes c = top(1);
          stack.push_back(std::move(a));
          stack.push_back(std::move(b));
          stack.push_back(std::move(c));
          break;
        }

        case Op(Opcode::k2Over): {
          if (stack.size() < 4) return ScriptError::kInvalidStackOperation;
          Bytes a = top(4);
          Bytes b = top(3);
          stack.push_back(std::move(a));
          stack.push_back(std::move(b));
          break;
        }

        case Op(Opcode::k2Rot): {
          if (stack.size() < 6) return ScriptError::kInvalidStackOperation;
          Bytes a = std::move(top(6));
          Bytes b = std::move(top(5));
          stack.erase(stack.end() - 6, stack.end() - 4);
          stack.push_back(std::move(a));
          stack.push_back(std::move(b));
          break;
        }

        case Op(Opcode::k2Swap):
          if (stack.size() < 4) return ScriptError::kInvalidStackOperation;
          std::swap(top(4), top(2));
          std::swap(top(3), top(1));
          break;

        case Op(Opcode::kIfDup): {
          if (stack.empty()) return ScriptError::kInvalidStackOperation;
          if (CastToBool(top(1))) {
            Bytes copy = top(1);
            stack.push_back(std::move(copy));
          }
          break;
        }

        case Op(Opcode::kDepth):
          stack.push_back(EncodeScriptNum(static_cast<int64_t>(stack.size())));
          break;

        case Op(Opcode::kDrop):
          if (stack.empty()) return ScriptError::kInvalidStackOperation;
          stack.pop_back();
          break;

        case Op(Opcode::kDup): {
          if (stack.empty()) return ScriptError::kInvalidStackOperation;
          Bytes copy = top(1);
          stack.push_back(std::move(copy));
          break;
        }

        case Op(Opcode::kNip):
          if (stack.size() < 2) return ScriptError::kInvalidStackOperation;
          stack.erase(stack.end() - 2);
          break;

        case Op(Opcode::kOver): {
          if (stack.size() < 2) return ScriptError::kInvalidStackOperation;
          Bytes copy = top(2);
          stack.push_back(std::move(copy));
          break;
        }

        case Op(Opcode::kPick):
        case Op(Opcode::kRoll): {
          if (stack.size() < 2) return ScriptError::kInvalidStackOperation;
          util::Result<int64_t> n64 = DecodeScriptNum(top(1), require_minimal);
          if (!n64.ok()) return ScriptError::kScriptNum;
          const int n = ClampToInt(*n64);
          stack.pop_back();
          if (n < 0 || static_cast<size_t>(n) >= stack.size()) {
            return ScriptError::kInvalidStackOperation;
          }
          Bytes value = top(static_cast<size_t>(n) + 1);
          if (opcode == Op(Opcode::kRoll)) stack.erase(stack.end() - n - 1);
          stack.push_back(std::move(value));
          break;
        }

        case Op(Opcode::kRot):
          if (stack.size() < 3) return ScriptError::kInvalidStackOperation;
          std::swap(top(3), top(2));
          std::swap(top(2), top(1));
          break;

        case Op(Opcode::kSwap):
          if (stack.size() < 2) return ScriptError::kInvalidStackOperation;
          std::swap(top(2), top(1));
          break;

        case Op(Opcode::kTuck): {
          if (stack.size() < 2) return ScriptError::kInvalidStackOperation;
          Bytes copy = top(1);
          stack.insert(stack.end() - 2, std::move(copy));
          break;
        }

        case Op(Opcode::kSize):
          if (stack.empty()) return ScriptError::kInvalidStackOperation;
          stack.push_back(EncodeScriptNum(static_cast<int64_t>(top(1).size())));
          break;

        case Op(Opcode::kEqual):
        case Op(Opcode::kEqualVerify): {
          if (stack.size() < 2) return ScriptError::kInvalidStackOperation;
          const bool equal = top(2) == top(1);
          stack.pop_back();
          stack.pop_back();
          if (opcode == Op(Opcode::kEqualVerify)) {
            if (!equal) return ScriptError::kEqualVerify;
          } else {
            stack.push_back(equal ? kTrue : kFalse);
          }
          break;
        }

        case Op(Opcode::k1Add):
        case Op(Opcode::k1Sub):
        case Op(Opcode::kNegate):
        case Op(Opcode::kAbs):
        case Op(Opcode::kNot):
        case Op(Opcode::k0NotEqual): {
          if (stack.empty()) return ScriptError::kInvalidStackOperation;
          util::Result<int64_t> n = DecodeScriptNum(top(1), require_minimal);
          if (!n.ok()) return ScriptError::kScriptNum;
          int64_t result = 0;
          switch (opcode) {
            case Op(Opcode::k1Add):
              result = *n + 1;
              break;
            case Op(Opcode::k1Sub):
              result = *n - 1;
              break;
            case Op(Opcode::kNegate):
              result = -*n;
              break;
            case Op(Opcode::kAbs):
              result = *n < 0 ? -*n : *n;
              break;
            case Op(Opcode::kNot):
              result = *n == 0;
              break;
            default:  // OP_0NOTEQUAL
              result = *n != 0;
              break;
          }
          stack.pop_back();
          stack.push_back(EncodeScriptNum(result));
          break;
        }

        case Op(Opcode::kAdd):
        case Op(Opcode::kSub):
        case Op(Opcode::kBoolAnd):
        case Op(Opcode::kBoolOr):
        case Op(Opcode::kNumEqual):
        case Op(Opcode::kNumEqualVerify):
        case Op(Opcode::kNumNotEqual):
        case Op(Opcode::kLessThan):
        case Op(Opcode::kGreaterThan):
        case Op(Opcode::kLessThanOrEqual):
        case Op(Opcode::kGreaterThanOrEqual):
        case Op(Opcode::kMin):
        case Op(Opcode::kMax): {
          if (stack.size() < 2) return ScriptError::kInvalidStackOperation;
          util::Result<int64_t> a = DecodeScriptNum(top(2), require_minimal);
          if (!a.ok()) return ScriptError::kScriptNum;
          util::Result<int64_t> b = DecodeScriptNum(top(1), require_minimal);
          if (!b.ok()) return ScriptError::kScriptNum;
          int64_t result = 0;
          switch (opcode) {
            case Op(Opcode::kAdd):
              result = *a + *b;
              break;
            case Op(Opcode::kSub):
              result = *a - *b;
              break;
            case Op(Opcode::kBoolAnd):
              result = *a != 0 && *b != 0;
              break;
            case Op(Opcode::kBoolOr):
              result = *a != 0 || *b != 0;
              break;
            case Op(Opcode::kNumEqual):
            case Op(Opcode::kNumEqualVerify):
              result = *a == *b;
              break;
            case Op(Opcode::kNumNotEqual):
              result = *a != *b;
              break;
            case Op(Opcode::kLessThan):
              result = *a < *b;
              break;
            case Op(Opcode::kGreaterThan):
              result = *a > *b;
              break;
            case Op(Opcode::kLessThanOrEqual):
              result = *a <= *b;
              break;
            case Op(Opcode::kGreaterThanOrEqual):
              result = *a >= *b;
              break;
            case Op(Opcode::kMin):
              result = std::min(*a, *b);
              break;
            default:  // OP_MAX
              result = std::max(*a, *b);
              break;
          }
          stack.pop_back();
          stack.pop_back();
          if (opcode == Op(Opcode::kNumEqualVerify)) {
            if (result == 0) return ScriptError::kNumEqualVerify;
          } else {
            stack.push_back(EncodeScriptNum(result));
          }
          break;
        }

        case Op(Opcode::kWithin): {
          if (stack.size() < 3) return ScriptError::kInvalidStackOperation;
          util::Result<int64_t> x = DecodeScriptNum(top(3), require_minimal);
          if (!x.ok()) return ScriptError::kScriptNum;
          util::Result<int64_t> low = DecodeScriptNum(top(2), require_minimal);
          if (!low.ok()) return ScriptError::kScriptNum;
          util::Result<int64_t> high = DecodeScriptNum(top(1), require_minimal);
          if (!high.ok()) return ScriptError::kScriptNum;
          const bool within = *low <= *x && *x < *high;
          stack.resize(stack.size() - 3);
          stack.push_back(within ? kTrue : kFalse);
          break;
        }

        case Op(Opcode::kRipemd160):
        case Op(Opcode::kSha1):
        case Op(Opcode::kSha256):
        case Op(Opcode::kHash160):
        case Op(Opcode::kHash256): {
          if (stack.empty()) return ScriptError::kInvalidStackOperation;
          const Bytes& in = top(1);
          Bytes digest;
          if (opcode == Op(Opcode::kRipemd160)) {
            auto h = crypto::Ripemd160(in);
            digest.assign(h.begin(), h.end());
          } else if (opcode == Op(Opcode::kSha1)) {
            auto h = crypto::Sha1(in);
            digest.assign(h.begin(), h.end());
          } else if (opcode == Op(Opcode::kSha256)) {
            auto h = crypto::Sha256(in);
            digest.assign(h.begin(), h.end());
          } else if (opcode == Op(Opcode::kHash160)) {
            auto h = crypto::Hash160(in);
            digest.assign(h.begin(), h.end());
          } else {
            auto h = crypto::Hash256(in);
            digest.assign(h.begin(), h.end());
          }
          top(1) = std::move(digest);
          break;
        }

        case Op(Opcode::kCodeSeparator):
          // Executed separators only: signatures commit to the code after the last one.
          code_begin = pos;
          exec.codesep_pos = opcode_pos;
          break;

        case Op(Opcode::kCheckSig):
        case Op(Opcode::kCheckSigVerify): {
          if (stack.size() < 2) return ScriptError::kInvalidStackOperation;
          bool success = true;
          ScriptError e =
              pre_tapscript ? EvalChecksigPreTapscript(top(2), top(1), bytes.subspan(code_begin),
                                                       flags, checker, version, &success)
                            : EvalChecksigTapscript(top(2), top(1), exec, flags, checker, &success);
          if (e != ScriptError::kOk) return e;
          stack.pop_back();
          stack.pop_back();
          if (opcode == Op(Opcode::kCheckSigVerify)) {
            if (!success) return ScriptError::kCheckSigVerify;
          } else {
            stack.push_back(success ? kTrue : kFalse);
          }
          break;
        }

        case Op(Opcode::kCheckSigAdd): {
          // BIP342; an undefined opcode before tapscript.
          if (pre_tapscript) return ScriptError::kBadOpcode;
          if (stack.size() < 3) return ScriptError::kInvalidStackOperation;
          util::Result<int64_t> n = DecodeScriptNum(top(2), require_minimal);
          if (!n.ok()) return ScriptError::kScriptNum;
          bool success = true;
          ScriptError e = EvalChecksigTapscript(top(3), top(1), exec, flags, checker, &success);
          if (e != ScriptError::kOk) return e;
          stack.resize(stack.size() - 3);
          stack.push_back(EncodeScriptNum(*n + (success ? 1 : 0)));
          break;
        }

        case Op(Opcode::kCheckMultiSig):
        case Op(Opcode::kCheckMultiSigVerify): {
          if (version == SigVersion::kTapscript) return ScriptError::kTapscriptCheckMultisig;
          // Stack, from the top: n, n keys, m, m signatures, a dummy element (Satoshi's
          // off-by-one, which BIP147 NULLDUMMY requires to be empty).
          size_t i = 1;
          if (stack.size() < i) return ScriptError::kInvalidStackOperation;
          util::Result<int64_t> n64 = DecodeScriptNum(top(i), require_minimal);
          if (!n64.ok()) return ScriptError::kScriptNum;
          int key_count = ClampToInt(*n64);
          if (key_count < 0 || key_count > kMaxPubkeysPerMultisig) {
            return ScriptError::kPubkeyCount;
          }
          op_count += key_count;
          if (op_count > kMaxOpsPerScript) return ScriptError::kOpCount;
          size_t key_index = ++i;
          // Elements still to be checked against NULLFAIL are below n, the keys and m.
          int unchecked_by_nullfail = key_count + 2;
          i += static_cast<size_t>(key_count);
          if (stack.size() < i) return ScriptError::kInvalidStackOperation;
          util::Result<int64_t> m64 = DecodeScriptNum(top(i), require_minimal);
          if (!m64.ok()) return ScriptError::kScriptNum;
          int sig_count = ClampToInt(*m64);
          if (sig_count < 0 || sig_count > key_count) return ScriptError::kSigCount;
          size_t sig_index = ++i;
          i += static_cast<size_t>(sig_count);
          if (stack.size() < i) return ScriptError::kInvalidStackOperation;

          Script script_code(bytes.subspan(code_begin));
          if (version == SigVersion::kBase) {
            for (int k = 0; k < sig_count; ++k) {
              const Bytes& sig = top(sig_index + static_cast<size_t>(k));
              Script stripped = FindAndDelete(script_code, Script().PushData(sig));
              if (stripped.size() != script_code.size() &&
                  flags.Has(VerifyFlag::kConstScriptCode)) {
                return ScriptError::kSigFindAndDelete;
              }
              script_code = std::move(stripped);
            }
          }

          bool success = true;
          while (success && sig_count > 0) {
            const Bytes& sig = top(sig_index);
            const Bytes& key = top(key_index);
            if (ScriptError e = CheckSignatureEncoding(sig, flags); e != ScriptError::kOk) {
              return e;
            }
            if (ScriptError e = CheckPubkeyEncoding(key, flags, version); e != ScriptError::kOk) {
              return e;
            }
            if (checker.CheckEcdsaSignature(sig, key, script_code, version)) {
              ++sig_index;
              --sig_count;
            }
            ++key_index;
            --key_count;
            // More signatures left than keys: no way to succeed.
            if (sig_count > key_count) success = false;
          }

          // Pop everything but the dummy; after a failure, every signature must be empty
          // under NULLFAIL.
          while (i-- > 1) {
            if (!success && flags.Has(VerifyFlag::kNullFail) && unchecked_by_nullfail == 0 &&
                !top(1).empty()) {
              return ScriptError::kSigNullFail;
            }
            if (unchecked_by_nullfail > 0) --unchecked_by_nullfail;
            stack.pop_back();
          }
          if (stack.empty()) return ScriptError::kInvalidStackOperation;
          if (flags.Has(VerifyFlag::kNullDummy) && !top(1).empty()) {
            return ScriptError::kSigNullDummy;
          }
          stack.pop_back();
          if (opcode == Op(Opcode::kCheckMultiSigVerify)) {
            if (!success) return ScriptError::kCheckMultisigVerify;
          } else {
            stack.push_back(success ? kTrue : kFalse);
          }
          break;
        }

        default:
          return ScriptError::kBadOpcode;
      }
    }

    if (stack.size() + altstack.size() > kMaxStackSize) return ScriptError::kStackSize;
  }

  if (!exec_stack.empty()) return ScriptError::kUnbalancedConditional;
  return ScriptError::kOk;
}

// --- Witness programs ------------------------------------------------------------------------

// Runs a segwit v0 or tapscript `script` on the witness `stack` and requires exactly one true
// element to remain (BIP141 and BIP342 make CLEANSTACK consensus).
ScriptError ExecuteWitnessScript(std::span<const Bytes> initial, const Script& script,
                                 VerifyFlags flags, SigVersion version,
                                 const SignatureChecker& checker, ExecutionData& exec) {
  Stack stack(initial.begin(), initial.end());
  if (version == SigVersion::kTapscript) {
    // BIP342: any OP_SUCCESSx makes the script succeed, checked before anything else runs; a
    // script that does not parse fails.
    std::span<const uint8_t> bytes = script.bytes();
    size_t pos = 0;
    while (pos < bytes.size()) {
      std::optional<ScriptOp> op = GetOp(bytes, &pos);
      if (!op) return ScriptError::kBadOpcode;
      if (IsOpSuccess(op->opcode)) {
        if (flags.Has(VerifyFlag::kDiscourageOpSuccess)) return ScriptError::kDiscourageOpSuccess;
        return ScriptError::kOk;
      }
    }
    if (stack.size() > kMaxStackSize) return ScriptError::kStackSize;
  }
  for (const Bytes& element : stack) {
    if (element.size() > kMaxElementSize) return ScriptError::kPushSize;
  }
  if (ScriptError e = EvalScript(stack, script, flags, checker, version, exec);
      e != ScriptError::kOk) {
    return e;
  }
  if (stack.size() != 1) return ScriptError::kCleanStack;
  if (!CastToBool(stack.back())) return ScriptError::kEvalFalse;
  return ScriptError::kOk;
}

// The serialized size of a witness stack (a CompactSize count, then each item with its
// CompactSize length), which sets the tapscript signature budget.
int64_t WitnessSerializedSize(std::span<const Bytes> witness) {
  size_t size = internal::CompactSizeLength(witness.size());
  for (const Bytes& item : witness) {
    size += internal::CompactSizeLength(item.size()) + item.size();
  }
  return static_cast<int64_t>(size);
}

std::array<uint8_t, 32> TaprootMerkleRoot(std::span<const uint8_t> control,
                                          const std::array<uint8_t, 32>& leaf_hash) {
  std::array<uint8_t, 32> node = leaf_hash;
  const size_t path_length = (control.size() - kControlBaseSize) / kControlNodeSize;
  for (size_t i = 0; i < path_length; ++i) {
    std::span<const uint8_t, 32> sibling =
        control.subspan(kControlBaseSize + kControlNodeSize * i).first<32>();
    node = ComputeTapBranchHash(node, sibling);
  }
  return node;
}

ScriptError VerifyWitnessProgram(std::span<const Bytes> witness, const Program& program,
                                 VerifyFlags flags, const SignatureChecker& checker, bool is_p2sh) {
  ExecutionData exec;
  std::span<const Bytes> stack = witness;
  if (program.version == 0) {
    if (program.program.size() == 32) {
      // P2WSH: the last witness item is the script, committed to by its SHA-256.
      if (stack.empty()) return ScriptError::kWitnessProgramWitnessEmpty;
      Script script(stack.back());
      stack = stack.first(stack.size() - 1);
      const crypto::Hash256Bytes hash = crypto::Sha256(script.bytes());
      if (!std::equal(hash.begin(), hash.end(), program.program.begin())) {
        return ScriptError::kWitnessProgramMismatch;
      }
      return ExecuteWitnessScript(stack, script, flags, SigVersion::kWitnessV0, checker, exec);
    }
    if (program.program.size() == 20) {
      // P2WPKH: exactly a signature and a key, run through the implied P2PKH script.
      if (stack.size() != 2) return ScriptError::kWitnessProgramMismatch;
      Script script;
      script.PushOpcode(Op(Opcode::kDup)).PushOpcode(Op(Opcode::kHash160));
      script.PushData(program.program);
      script.PushOpcode(Op(Opcode::kEqualVerify)).PushOpcode(Op(Opcode::kCheckSig));
      return ExecuteWitnessScript(stack, script, flags, SigVersion::kWitnessV0, checker, exec);
    }
    return ScriptError::kWitnessProgramWrongLength;
  }
  if (program.version == 1 && program.program.size() == 32 && !is_p2sh) {
    // BIP341 taproot. Nested in P2SH it stays an unencumbered future version.
    if (!flags.Has(VerifyFlag::kTaproot)) return ScriptError::kOk;
    if (stack.empty()) return ScriptError::kWitnessProgramWitnessEmpty;
    if (stack.size() >= 2 && !stack.back().empty() && stack.back()[0] == kAnnexTag) {
      exec.annex = stack.back();
      stack = stack.first(stack.size() - 1);
    }
    std::span<const uint8_t, 32> output_key = program.program.first<32>();
    if (stack.size() == 1) {
      // Key path: one signature for the output key.
      TaprootSighashExtras extras;
      extras.annex = exec.annex;
      return checker.CheckSchnorrSignature(stack.front(), output_key, SigVersion::kTaproot, extras);
    }
    // Script path: ... script control_block.
    const Bytes& control = stack.back();
    const Bytes& script_bytes = stack[stack.size() - 2];
    stack = stack.first(stack.size() - 2);
    if (control.size() < kControlBaseSize || control.size() > kControlMaxSize ||
        (control.size() - kControlBaseSize) % kControlNodeSize != 0) {
      return ScriptError::kTaprootWrongControlSize;
    }
    const uint8_t leaf_version = control[0] & kTapleafMask;
    Script script(script_bytes);
    exec.tapleaf_hash = ComputeTapleafHash(leaf_version, script);
    const std::array<uint8_t, 32> merkle_root = TaprootMerkleRoot(control, *exec.tapleaf_hash);
    std::span<const uint8_t, 32> internal_key =
        std::span<const uint8_t>(control).subspan(1).first<32>();
    if (!checker.CheckTaprootCommitment(output_key, (control[0] & 1) != 0, internal_key,
                                        merkle_root)) {
      return ScriptError::kWitnessProgramMismatch;
    }
    if (leaf_version == kTapleafTapscript) {
      // BIP342: a budget of 50 per signature plus the witness size.
      exec.validation_weight_left = WitnessSerializedSize(witness) + kValidationWeightOffset;
      return ExecuteWitnessScript(stack, script, flags, SigVersion::kTapscript, checker, exec);
    }
    // Unknown leaf versions are reserved for soft forks.
    if (flags.Has(VerifyFlag::kDiscourageUpgradableTaprootVersion)) {
      return ScriptError::kDiscourageUpgradableTaprootVersion;
    }
    return ScriptError::kOk;
  }
  if (!is_p2sh && IsPayToAnchor(program)) return ScriptError::kOk;
  // Unknown versions and lengths are reserved for soft forks.
  if (flags.Has(VerifyFlag::kDiscourageUpgradableWitnessProgram)) {
    return ScriptError::kDiscourageUpgradableWitnessProgram;
  }
  return ScriptError::kOk;
}

// CLEANSTACK implies WITNESS, and WITNESS implies P2SH: Core only defines these combinations.
VerifyFlags FillImpliedFlags(VerifyFlags flags) {
  if (flags.Has(VerifyFlag::kCleanStack)) flags = flags.With(VerifyFlag::kWitness);
  if (flags.Has(VerifyFlag::kWitness)) flags = flags.With(VerifyFlag::kP2sh);
  return flags;
}

struct FlagName {
  VerifyFlag flag;
  std::string_view name;
};
constexpr std::array<FlagName, kVerifyFlagCount> kFlagNames = {{
    {VerifyFlag::kP2sh, "P2SH"},
    {VerifyFlag::kStrictEnc, "STRICTENC"},
    {VerifyFlag::kDerSig, "DERSIG"},
    {VerifyFlag::kLowS, "LOW_S"},
    {VerifyFlag::kNullDummy, "NULLDUMMY"},
    {VerifyFlag::kSigPushOnly, "SIGPUSHONLY"},
    {VerifyFlag::kMinimalData, "MINIMALDATA"},
    {VerifyFlag::kDiscourageUpgradableNops, "DISCOURAGE_UPGRADABLE_NOPS"},
    {VerifyFlag::kCleanStack, "CLEANSTACK"},
    {VerifyFlag::kCheckLockTimeVerify, "CHECKLOCKTIMEVERIFY"},
    {VerifyFlag::kCheckSequenceVerify, "CHECKSEQUENCEVERIFY"},
    {VerifyFlag::kWitness, "WITNESS"},
    {VerifyFlag::kDiscourageUpgradableWitnessProgram, "DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM"},
    {VerifyFlag::kMinimalIf, "MINIMALIF"},
    {VerifyFlag::kNullFail, "NULLFAIL"},
    {VerifyFlag::kWitnessPubkeyType, "WITNESS_PUBKEYTYPE"},
    {VerifyFlag::kConstScriptCode, "CONST_SCRIPTCODE"},
    {VerifyFlag::kTaproot, "TAPROOT"},
    {VerifyFlag::kDiscourageUpgradableTaprootVersion, "DISCOURAGE_UPGRADABLE_TAPROOT_VERSION"},
    {VerifyFlag::kDiscourageOpSuccess, "DISCOURAGE_OP_SUCCESS"},
    {VerifyFlag::kDiscourageUpgradablePubkeyType, "DISCOURAGE_UPGRADABLE_PUBKEYTYPE"},
}};

struct ErrorName {
  std::string_view name;
  std::string_view description;
};
// Indexed by ScriptError.
constexpr std::array<ErrorName, static_cast<size_t>(ScriptError::kBadTx) + 1> kErrorNames = {{
    {"OK", "no error"},
    {"UNKNOWN_ERROR", "unknown error"},
    {"EVAL_FALSE", "script evaluated without error but finished with a false or empty top element"},
    {"OP_RETURN", "OP_RETURN was encountered"},
    {"SCRIPTNUM", "script number overflow or non-minimal encoding"},
    {"SCRIPT_SIZE", "script is too big"},
    {"PUSH_SIZE", "push value size limit exceeded"},
    {"OP_COUNT", "operation limit exceeded"},
    {"STACK_SIZE", "stack size limit exceeded"},
    {"SIG_COUNT", "signature count negative or greater than public key count"},
    {"PUBKEY_COUNT", "public key count negative or limit exceeded"},
    {"VERIFY", "script failed an OP_VERIFY operation"},
    {"EQUALVERIFY", "script failed an OP_EQUALVERIFY operation"},
    {"CHECKMULTISIGVERIFY", "script failed an OP_CHECKMULTISIGVERIFY operation"},
    {"CHECKSIGVERIFY", "script failed an OP_CHECKSIGVERIFY operation"},
    {"NUMEQUALVERIFY", "script failed an OP_NUMEQUALVERIFY operation"},
    {"BAD_OPCODE", "opcode missing or not understood"},
    {"DISABLED_OPCODE", "attempted to use a disabled opcode"},
    {"INVALID_STACK_OPERATION", "operation not valid with the current stack size"},
    {"INVALID_ALTSTACK_OPERATION", "operation not valid with the current altstack size"},
    {"UNBALANCED_CONDITIONAL", "invalid OP_IF construction"},
    {"NEGATIVE_LOCKTIME", "negative locktime"},
    {"UNSATISFIED_LOCKTIME", "locktime requirement not satisfied"},
    {"SIG_HASHTYPE", "signature hash type missing or not understood"},
    {"SIG_DER", "non-canonical DER signature"},
    {"MINIMALDATA", "data push larger than necessary"},
    {"SIG_PUSHONLY", "only push operators allowed in signatures"},
    {"SIG_HIGH_S", "non-canonical signature: S value is unnecessarily high"},
    {"SIG_NULLDUMMY", "dummy CHECKMULTISIG argument must be zero"},
    {"PUBKEYTYPE", "public key is neither compressed or uncompressed"},
    {"CLEANSTACK", "stack size must be exactly one after execution"},
    {"MINIMALIF", "OP_IF/NOTIF argument must be minimal"},
    {"NULLFAIL", "signature must be zero for failed CHECK(MULTI)SIG operation"},
    {"DISCOURAGE_UPGRADABLE_NOPS", "NOPx reserved for soft-fork upgrades"},
    {"DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM", "witness version reserved for soft-fork upgrades"},
    {"DISCOURAGE_UPGRADABLE_TAPROOT_VERSION", "taproot version reserved for soft-fork upgrades"},
    {"DISCOURAGE_OP_SUCCESS", "OP_SUCCESSx reserved for soft-fork upgrades"},
    {"DISCOURAGE_UPGRADABLE_PUBKEYTYPE", "public key version reserved for soft-fork upgrades"},
    {"WITNESS_PROGRAM_WRONG_LENGTH", "witness program has incorrect length"},
    {"WITNESS_PROGRAM_WITNESS_EMPTY", "witness program was passed an empty witness"},
    {"WITNESS_PROGRAM_MISMATCH", "witness program hash mismatch"},
    {"WITNESS_MALLEATED", "witness requires empty scriptSig"},
    {"WITNESS_MALLEATED_P2SH", "witness requires only-redeemscript scriptSig"},
    {"WITNESS_UNEXPECTED", "witness provided for non-witness script"},
    {"WITNESS_PUBKEYTYPE", "using non-compressed keys in segwit"},
    {"SCHNORR_SIG_SIZE", "invalid Schnorr signature size"},
    {"SCHNORR_SIG_HASHTYPE", "invalid Schnorr signature hash type"},
    {"SCHNORR_SIG", "invalid Schnorr signature"},
    {"TAPROOT_WRONG_CONTROL_SIZE", "invalid taproot control block size"},
    {"TAPSCRIPT_VALIDATION_WEIGHT", "too much signature validation relative to witness weight"},
    {"TAPSCRIPT_CHECKMULTISIG", "OP_CHECKMULTISIG(VERIFY) is not available in tapscript"},
    {"TAPSCRIPT_MINIMALIF", "OP_IF/NOTIF argument must be minimal in tapscript"},
    {"TAPSCRIPT_EMPTY_PUBKEY", "empty public key in tapscript"},
    {"OP_CODESEPARATOR", "using OP_CODESEPARATOR in non-witness script"},
    {"SIG_FINDANDDELETE", "signature is found in scriptCode"},
    {"BADTX", "transaction fails CheckTransaction"},
}};

// Core's CPubKey accepts what libsecp256k1 parses, including the hybrid encodings 0x06/0x07
// (uncompressed, with the Y parity repeated in the first byte).
std::optional<crypto::PublicKey> ParseConsensusPubkey(std::span<const uint8_t> key) {
  util::Result<crypto::PublicKey> parsed = crypto::PublicKey::ParseAllowingHybrid(key);
  if (!parsed.ok()) return std::nullopt;
  return *parsed;
}

}  // namespace

std::string_view VerifyFlagName(VerifyFlag flag) {
  return kFlagNames[static_cast<size_t>(flag)].name;
}

util::Result<VerifyFlags> ParseVerifyFlags(std::string_view comma_list) {
  VerifyFlags flags;
  if (comma_list.empty() || comma_list == "NONE") return flags;
  size_t start = 0;
  while (true) {
    const size_t comma = comma_list.find(',', start);
    std::string_view word = comma_list.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    auto it = std::find_if(kFlagNames.begin(), kFlagNames.end(),
                           [&](const FlagName& f) { return f.name == word; });
    if (it == kFlagNames.end()) {
      return util::InvalidArgumentError("verify flags: unknown flag \"" + std::string(word) + "\"");
    }
    flags = flags.With(it->flag);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return flags;
}

std::string FormatVerifyFlags(VerifyFlags flags) {
  std::string out;
  for (const FlagName& f : kFlagNames) {
    if (!flags.Has(f.flag)) continue;
    if (!out.empty()) out += ',';
    out += f.name;
  }
  return out.empty() ? "NONE" : out;
}

VerifyFlags MandatoryVerifyFlags() {
  return VerifyFlags()
      .With(VerifyFlag::kP2sh)
      .With(VerifyFlag::kDerSig)
      .With(VerifyFlag::kNullDummy)
      .With(VerifyFlag::kCheckLockTimeVerify)
      .With(VerifyFlag::kCheckSequenceVerify)
      .With(VerifyFlag::kWitness)
      .With(VerifyFlag::kTaproot);
}

VerifyFlags StandardVerifyFlags() {
  VerifyFlags flags;
  for (const FlagName& f : kFlagNames) flags = flags.With(f.flag);
  return flags.Without(VerifyFlag::kSigPushOnly);
}

std::string_view ScriptErrorName(ScriptError error) {
  return kErrorNames[static_cast<size_t>(error)].name;
}

std::string_view ScriptErrorDescription(ScriptError error) {
  return kErrorNames[static_cast<size_t>(error)].description;
}

TransactionSignatureChecker::TransactionSignatureChecker(
    const crypto::Secp256k1Context& ctx, const Transaction& tx, size_t input, int64_t amount,
    const PrecomputedTransactionData& precomputed)
    : ctx_(ctx), tx_(tx), input_(input), amount_(amount), precomputed_(precomputed) {
  CHECK(input < tx.inputs.size());
}

bool TransactionSignatureChecker::CheckEcdsaSignature(std::span<const uint8_t> signature,
                                                      std::span<const uint8_t> pubkey,
                                                      const Script& script_code,
                                                      SigVersion version) const {
  std::optional<crypto::PublicKey> key = ParseConsensusPubkey(pubkey);
  if (!key) return false;
  if (signature.empty()) return false;
  const int32_t hash_type = signature.back();
  std::span<const uint8_t> der = signature.first(signature.size() - 1);
  SighashBytes sighash;
  switch (version) {
    case SigVersion::kBase:
      sighash = LegacySighash(tx_, input_, script_code, hash_type);
      break;
    case SigVersion::kWitnessV0:
      sighash = SegwitV0Sighash(tx_, input_, script_code, amount_, hash_type, precomputed_);
      break;
    case SigVersion::kTaproot:
    case SigVersion::kTapscript:
      return false;
  }
  return crypto::EcdsaVerify(ctx_, *key, sighash, der, crypto::DerParsing::kLax);
}

ScriptError TransactionSignatureChecker::CheckSchnorrSignature(
    std::span<const uint8_t> signature, std::span<const uint8_t, 32> pubkey, SigVersion version,
    const TaprootSighashExtras& extras) const {
  CHECK(version == SigVersion::kTaproot || version == SigVersion::kTapscript);
  if (signature.size() != 64 && signature.size() != 65) return ScriptError::kSchnorrSigSize;
  uint8_t hash_type = kSighashDefault;
  if (signature.size() == 65) {
    hash_type = signature.back();
    // BIP341: SIGHASH_DEFAULT is only implied by a 64-byte signature, never explicit.
    if (hash_type == kSighashDefault) return ScriptError::kSchnorrSigHashType;
  }
  util::Result<SighashBytes> sighash = TaprootSighash(tx_, input_, hash_type, precomputed_, extras);
  if (!sighash.ok()) return ScriptError::kSchnorrSigHashType;
  util::Result<crypto::XOnlyPublicKey> key = crypto::XOnlyPublicKey::Parse(pubkey);
  if (!key.ok()) return ScriptError::kSchnorrSig;
  if (!crypto::SchnorrVerify(ctx_, *key, *sighash, signature.first<64>())) {
    return ScriptError::kSchnorrSig;
  }
  return ScriptError::kOk;
}

bool TransactionSignatureChecker::CheckLockTime(int64_t lock_time) const {
  // BIP65: the same kind (height below 500000000, else time) as the transaction's lock time,
  // not above it, and the input not final (a final input disables the lock time).
  const int64_t tx_lock_time = tx_.lock_time;
  if ((tx_lock_time < kLockTimeThreshold) != (lock_time < kLockTimeThreshold)) return false;
  if (lock_time > tx_lock_time) return false;
  return tx_.inputs[input_].sequence != kSequenceFinal;
}

bool TransactionSignatureChecker::CheckSequence(int64_t sequence) const {
  // BIP112: relative lock times need version 2 and an input whose sequence enables them, of
  // the same kind (blocks or 512-second units) and at least the script's value.
  const int64_t tx_sequence = tx_.inputs[input_].sequence;
  if (tx_.version < 2) return false;
  if ((tx_sequence & kSequenceDisableFlag) != 0) return false;
  const int64_t mask = kSequenceTypeFlag | kSequenceMask;
  const int64_t tx_masked = tx_sequence & mask;
  const int64_t masked = sequence & mask;
  if ((tx_masked < kSequenceTypeFlag) != (masked < kSequenceTypeFlag)) return false;
  return masked <= tx_masked;
}

bool TransactionSignatureChecker::CheckTaprootCommitment(
    std::span<const uint8_t, 32> output_key, bool parity_odd,
    std::span<const uint8_t, 32> internal_key, std::span<const uint8_t, 32> merkle_root) const {
  util::Result<crypto::XOnlyPublicKey> internal = crypto::XOnlyPublicKey::Parse(internal_key);
  if (!internal.ok()) return false;
  util::Result<crypto::XOnlyPublicKey> output = crypto::XOnlyPublicKey::Parse(output_key);
  if (!output.ok()) return false;
  return crypto::TaprootCheckTweak(ctx_, *output, parity_odd, *internal, merkle_root);
}

ScriptError VerifyScript(const Script& script_sig, const Script& script_pubkey,
                         std::span<const std::vector<uint8_t>> witness, VerifyFlags flags,
                         const SignatureChecker& checker) {
  flags = FillImpliedFlags(flags);
  if (flags.Has(VerifyFlag::kSigPushOnly) && !IsPushOnly(script_sig)) {
    return ScriptError::kSigPushOnly;
  }

  // scriptSig and scriptPubKey run separately (since 2010), sharing only the main stack.
  ExecutionData exec;
  Stack stack;
  if (ScriptError e = EvalScript(stack, script_sig, flags, checker, SigVersion::kBase, exec);
      e != ScriptError::kOk) {
    return e;
  }
  Stack stack_after_sig;
  if (flags.Has(VerifyFlag::kP2sh)) stack_after_sig = stack;
  if (ScriptError e = EvalScript(stack, script_pubkey, flags, checker, SigVersion::kBase, exec);
      e != ScriptError::kOk) {
    return e;
  }
  if (stack.empty() || !CastToBool(stack.back())) return ScriptError::kEvalFalse;

  bool had_witness = false;
  if (flags.Has(VerifyFlag::kWitness)) {
    if (std::optional<Program> program = WitnessProgramOf(script_pubkey)) {
      had_witness = true;
      // Native witness spends must leave the scriptSig empty, or it could be malleated.
      if (!script_sig.empty()) return ScriptError::kWitnessMalleated;
      if (ScriptError e = VerifyWitnessProgram(witness, *program, flags, checker, false);
          e != ScriptError::kOk) {
        return e;
      }
      // Bypass the cleanstack check of the legacy evaluation.
      stack.resize(1);
    }
  }

  if (flags.Has(VerifyFlag::kP2sh) && IsPayToScriptHash(script_pubkey)) {
    // BIP16: the scriptSig must be push-only, and its last push is the redeem script, run on
    // the rest of the scriptSig's stack.
    if (!IsPushOnly(script_sig)) return ScriptError::kSigPushOnly;
    std::swap(stack, stack_after_sig);
    // Invariant: the scriptPubKey's HASH160 consumed an element, so the stack is not empty.
    CHECK(!stack.empty());
    Script redeem(std::move(stack.back()));
    stack.pop_back();
    if (ScriptError e = EvalScript(stack, redeem, flags, checker, SigVersion::kBase, exec);
        e != ScriptError::kOk) {
      return e;
    }
    if (stack.empty() || !CastToBool(stack.back())) return ScriptError::kEvalFalse;

    if (flags.Has(VerifyFlag::kWitness)) {
      if (std::optional<Program> program = WitnessProgramOf(redeem)) {
        had_witness = true;
        // The scriptSig must be exactly one push of the redeem script.
        if (script_sig != Script().PushData(redeem.bytes())) {
          return ScriptError::kWitnessMalleatedP2sh;
        }
        if (ScriptError e = VerifyWitnessProgram(witness, *program, flags, checker, true);
            e != ScriptError::kOk) {
          return e;
        }
        stack.resize(1);
      }
    }
  }

  // CLEANSTACK (policy for legacy scripts; witness scripts enforce it by consensus above).
  if (flags.Has(VerifyFlag::kCleanStack) && stack.size() != 1) return ScriptError::kCleanStack;

  // A witness on an input that does not spend a witness program could be malleated.
  if (flags.Has(VerifyFlag::kWitness) && !had_witness && !witness.empty()) {
    return ScriptError::kWitnessUnexpected;
  }
  return ScriptError::kOk;
}

util::Status CheckTransaction(const Transaction& tx) {
  if (tx.inputs.empty()) return util::InvalidArgumentError("bad-txns-vin-empty");
  if (tx.outputs.empty()) return util::InvalidArgumentError("bad-txns-vout-empty");
  // The size limit, counted without witnesses (as Core's CheckTransaction does).
  if (tx.BaseSize() * kWitnessScaleFactor > kMaxBlockWeight) {
    return util::InvalidArgumentError("bad-txns-oversize");
  }
  int64_t total = 0;
  for (const TxOut& out : tx.outputs) {
    if (out.value < 0) return util::InvalidArgumentError("bad-txns-vout-negative");
    if (out.value > kMaxMoney) return util::InvalidArgumentError("bad-txns-vout-toolarge");
    total += out.value;  // Cannot overflow: each term and the running total are <= kMaxMoney.
    if (total > kMaxMoney) return util::InvalidArgumentError("bad-txns-txouttotal-toolarge");
  }
  std::set<Outpoint> seen;
  for (const TxIn& in : tx.inputs) {
    if (!seen.insert(in.prevout).second) {
      return util::InvalidArgumentError("bad-txns-inputs-duplicate");
    }
  }
  const bool is_coinbase = tx.inputs.size() == 1 && tx.inputs[0].prevout.IsNull();
  if (is_coinbase) {
    const size_t size = tx.inputs[0].script_sig.size();
    if (size < 2 || size > 100) return util::InvalidArgumentError("bad-cb-length");
  } else {
    for (const TxIn& in : tx.inputs) {
      if (in.prevout.IsNull()) return util::InvalidArgumentError("bad-txns-prevout-null");
    }
  }
  return util::OkStatus();
}

TxVerifyResult VerifyTransaction(const crypto::Secp256k1Context& ctx, const Transaction& tx,
                                 std::span<const TxOut> spent_outputs, VerifyFlags flags) {
  TxVerifyResult result;
  if (util::Status status = CheckTransaction(tx); !status.ok()) {
    result.error = ScriptError::kBadTx;
    result.detail = "transaction: " + status.message();
    return result;
  }
  if (spent_outputs.size() != tx.inputs.size()) {
    result.error = ScriptError::kBadTx;
    result.detail = "spent outputs: " + std::to_string(spent_outputs.size()) + " given for " +
                    std::to_string(tx.inputs.size()) + " inputs";
    return result;
  }
  util::Result<PrecomputedTransactionData> precomputed = PrecomputedTransactionData::Create(
      tx, std::vector<TxOut>(spent_outputs.begin(), spent_outputs.end()));
  if (!precomputed.ok()) {
    result.error = ScriptError::kBadTx;
    result.detail = "spent outputs: " + precomputed.status().message();
    return result;
  }
  for (size_t i = 0; i < tx.inputs.size(); ++i) {
    const TxIn& in = tx.inputs[i];
    TransactionSignatureChecker checker(ctx, tx, i, spent_outputs[i].value, *precomputed);
    ScriptError error =
        VerifyScript(in.script_sig, spent_outputs[i].script_pubkey, in.witness, flags, checker);
    if (error != ScriptError::kOk) {
      result.input = i;
      result.error = error;
      result.detail = "input " + std::to_string(i) + ": " + std::string(ScriptErrorName(error)) +
                      " (" + std::string(ScriptErrorDescription(error)) + ")";
      return result;
    }
  }
  result.valid = true;
  result.error = ScriptError::kOk;
  return result;
}

}  // namespace kinko::btc
