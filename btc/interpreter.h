// Bitcoin's script interpreter: verifies that a transaction input may spend the output it names,
// exactly as Bitcoin Core's consensus rules and standard policy flags decide. Covers legacy
// script, P2SH (BIP16), segwit v0 (BIP141/143: P2WPKH, P2WSH, nested in P2SH), taproot (BIP341:
// key path, script path, control blocks, annex), tapscript (BIP342), CHECKLOCKTIMEVERIFY
// (BIP65) and CHECKSEQUENCEVERIFY (BIP112), and the transaction-level checks of Core's
// CheckTransaction.
//
// kinko uses it to check transactions before they are broadcast and in tests; it is not a full
// node: it checks one transaction against the outputs it spends as given, and knows nothing of
// the chain (no UTXO set, no block height or time, no sequence locks, no sigop limits).
//
// Thread-safe: functions are pure; a SignatureChecker is immutable after construction and may be
// shared by threads when the objects it references are.
#ifndef KINKO_BTC_INTERPRETER_H_
#define KINKO_BTC_INTERPRETER_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "btc/script.h"
#include "btc/sighash.h"
#include "btc/transaction.h"
#include "crypto/secp256k1.h"
#include "util/result.h"

namespace kinko::btc {

// Script verification flags, with Bitcoin Core's names (SCRIPT_VERIFY_<NAME>). Each is a switch
// that turns a rule on. DO NOT REORDER: the bit positions are used by VerifyFlags::FromBits.
enum class VerifyFlag : uint8_t {
  kP2sh,                                // BIP16 pay-to-script-hash.
  kStrictEnc,                           // Defined sighash types, valid public key encodings.
  kDerSig,                              // BIP66 strict DER signatures.
  kLowS,                                // ECDSA S at most n/2.
  kNullDummy,                           // BIP147: CHECKMULTISIG dummy must be empty.
  kSigPushOnly,                         // scriptSig may contain only pushes.
  kMinimalData,                         // Minimal pushes and script numbers.
  kDiscourageUpgradableNops,            // NOP1, NOP4..NOP10 fail.
  kCleanStack,                          // Exactly one stack element after evaluation.
  kCheckLockTimeVerify,                 // BIP65.
  kCheckSequenceVerify,                 // BIP112.
  kWitness,                             // BIP141 segregated witness.
  kDiscourageUpgradableWitnessProgram,  // Unknown witness versions fail.
  kMinimalIf,                           // Segwit v0: IF/NOTIF argument is empty or 0x01.
  kNullFail,                            // A failed signature check requires empty signatures.
  kWitnessPubkeyType,                   // Segwit v0: compressed public keys only.
  kConstScriptCode,                     // Legacy: no OP_CODESEPARATOR, no FindAndDelete match.
  kTaproot,                             // BIP341/342.
  kDiscourageUpgradableTaprootVersion,  // Unknown tapleaf versions fail.
  kDiscourageOpSuccess,                 // OP_SUCCESSx fails.
  kDiscourageUpgradablePubkeyType,      // Tapscript keys of unknown type fail.
};
inline constexpr size_t kVerifyFlagCount = 21;

// A set of VerifyFlag. Copyable value type.
class VerifyFlags final {
 public:
  // The empty set ("NONE").
  constexpr VerifyFlags() = default;
  // The flags whose bit (1 << VerifyFlag) is set in `bits`; other bits are ignored.
  static constexpr VerifyFlags FromBits(uint32_t bits) {
    return VerifyFlags(bits & ((uint32_t{1} << kVerifyFlagCount) - 1));
  }
  constexpr uint32_t bits() const { return bits_; }
  constexpr bool Has(VerifyFlag flag) const { return (bits_ & Bit(flag)) != 0; }
  constexpr VerifyFlags With(VerifyFlag flag) const { return VerifyFlags(bits_ | Bit(flag)); }
  constexpr VerifyFlags Without(VerifyFlag flag) const { return VerifyFlags(bits_ & ~Bit(flag)); }
  friend constexpr bool operator==(VerifyFlags, VerifyFlags) = default;

 private:
  explicit constexpr VerifyFlags(uint32_t bits) : bits_(bits) {}
  static constexpr uint32_t Bit(VerifyFlag flag) {
    return uint32_t{1} << static_cast<uint8_t>(flag);
  }
  uint32_t bits_ = 0;
};

// Bitcoin Core's name of `flag`, e.g. "DISCOURAGE_UPGRADABLE_NOPS".
std::string_view VerifyFlagName(VerifyFlag flag);

// Parses a comma-separated list of flag names ("P2SH,WITNESS"). "NONE" and the empty string give
// the empty set. Fails with kInvalidArgument naming the first unknown name.
util::Result<VerifyFlags> ParseVerifyFlags(std::string_view comma_list);
// The names of `flags`, comma-separated, in VerifyFlag order; "NONE" for the empty set.
std::string FormatVerifyFlags(VerifyFlags flags);

// Mainnet's standard policy set (Bitcoin Core 31.0 STANDARD_SCRIPT_VERIFY_FLAGS): every flag
// above except SIGPUSHONLY.
VerifyFlags StandardVerifyFlags();
// The consensus set for blocks after taproot activation (MANDATORY_SCRIPT_VERIFY_FLAGS): P2SH,
// DERSIG, NULLDUMMY, CHECKLOCKTIMEVERIFY, CHECKSEQUENCEVERIFY, WITNESS, TAPROOT.
VerifyFlags MandatoryVerifyFlags();

// Why a script failed, with Bitcoin Core's script error vocabulary (as in script_tests.json),
// plus kBadTx for transactions that fail CheckTransaction.
enum class ScriptError : uint8_t {
  kOk,
  kUnknownError,
  kEvalFalse,
  kOpReturn,
  kScriptNum,
  kScriptSize,
  kPushSize,
  kOpCount,
  kStackSize,
  kSigCount,
  kPubkeyCount,
  kVerify,
  kEqualVerify,
  kCheckMultisigVerify,
  kCheckSigVerify,
  kNumEqualVerify,
  kBadOpcode,
  kDisabledOpcode,
  kInvalidStackOperation,
  kInvalidAltstackOperation,
  kUnbalancedConditional,
  kNegativeLockTime,
  kUnsatisfiedLockTime,
  kSigHashType,
  kSigDer,
  kMinimalData,
  kSigPushOnly,
  kSigHighS,
  kSigNullDummy,
  kPubkeyType,
  kCleanStack,
  kMinimalIf,
  kSigNullFail,
  kDiscourageUpgradableNops,
  kDiscourageUpgradableWitnessProgram,
  kDiscourageUpgradableTaprootVersion,
  kDiscourageOpSuccess,
  kDiscourageUpgradablePubkeyType,
  kWitnessProgramWrongLength,
  kWitnessProgramWitnessEmpty,
  kWitnessProgramMismatch,
  kWitnessMalleated,
  kWitnessMalleatedP2sh,
  kWitnessUnexpected,
  kWitnessPubkeyType,
  kSchnorrSigSize,
  kSchnorrSigHashType,
  kSchnorrSig,
  kTaprootWrongControlSize,
  kTapscriptValidationWeight,
  kTapscriptCheckMultisig,
  kTapscriptMinimalIf,
  kTapscriptEmptyPubkey,
  kOpCodeSeparator,
  kSigFindAndDelete,
  kBadTx,
};

// The name script_tests.json uses for `error` ("OK", "EVAL_FALSE", "NULLFAIL", "BADTX", ...).
std::string_view ScriptErrorName(ScriptError error);
// A short English description of `error`, for messages.
std::string_view ScriptErrorDescription(ScriptError error);

// What a script needs to know about the transaction: signature checks, lock times and the
// taproot commitment (which needs the curve). An interface so that tests and the fuzz target can
// substitute deterministic checkers.
class SignatureChecker {
 public:
  virtual ~SignatureChecker() = default;

  // True when `signature` (DER followed by the sighash-type byte) signs this input with
  // `pubkey` (any byte string; invalid keys give false) under `version` (kBase or kWitnessV0)
  // and `script_code` (from the last executed OP_CODESEPARATOR; for kBase the signature has
  // already been removed by FindAndDelete).
  virtual bool CheckEcdsaSignature(std::span<const uint8_t> signature,
                                   std::span<const uint8_t> pubkey, const Script& script_code,
                                   SigVersion version) const = 0;
  // BIP340 check of `signature` (64 bytes, or 65 with an explicit sighash type) for the 32-byte
  // `pubkey` under `version` (kTaproot or kTapscript) and `extras`. Returns kOk, or
  // kSchnorrSigSize, kSchnorrSigHashType or kSchnorrSig.
  virtual ScriptError CheckSchnorrSignature(std::span<const uint8_t> signature,
                                            std::span<const uint8_t, 32> pubkey, SigVersion version,
                                            const TaprootSighashExtras& extras) const = 0;
  // BIP65: true when the transaction's lock time satisfies `lock_time` (0 <= lock_time < 2^40).
  virtual bool CheckLockTime(int64_t lock_time) const = 0;
  // BIP112: true when the input's sequence satisfies `sequence` (0 <= sequence < 2^40).
  virtual bool CheckSequence(int64_t sequence) const = 0;
  // BIP341: true when `output_key` is `internal_key` tweaked with `merkle_root`, with Y parity
  // `parity_odd`. False when either key is not a valid x coordinate.
  virtual bool CheckTaprootCommitment(std::span<const uint8_t, 32> output_key, bool parity_odd,
                                      std::span<const uint8_t, 32> internal_key,
                                      std::span<const uint8_t, 32> merkle_root) const = 0;
};

// The checker for input `input` of `tx`, which spends an output worth `amount` satoshi.
// `ctx`, `tx` and `precomputed` must outlive the checker. Requires input < tx.inputs.size().
// Taproot signature checks need `precomputed` built with the spent outputs; without them they
// fail with kSchnorrSigHashType.
// Not copyable or movable (holds references).
class TransactionSignatureChecker final : public SignatureChecker {
 public:
  TransactionSignatureChecker(const crypto::Secp256k1Context& ctx, const Transaction& tx,
                              size_t input, int64_t amount,
                              const PrecomputedTransactionData& precomputed);
  TransactionSignatureChecker(const TransactionSignatureChecker&) = delete;
  TransactionSignatureChecker& operator=(const TransactionSignatureChecker&) = delete;

  bool CheckEcdsaSignature(std::span<const uint8_t> signature, std::span<const uint8_t> pubkey,
                           const Script& script_code, SigVersion version) const override;
  ScriptError CheckSchnorrSignature(std::span<const uint8_t> signature,
                                    std::span<const uint8_t, 32> pubkey, SigVersion version,
                                    const TaprootSighashExtras& extras) const override;
  bool CheckLockTime(int64_t lock_time) const override;
  bool CheckSequence(int64_t sequence) const override;
  bool CheckTaprootCommitment(std::span<const uint8_t, 32> output_key, bool parity_odd,
                              std::span<const uint8_t, 32> internal_key,
                              std::span<const uint8_t, 32> merkle_root) const override;

 private:
  const crypto::Secp256k1Context& ctx_;
  const Transaction& tx_;
  size_t input_;
  int64_t amount_;
  const PrecomputedTransactionData& precomputed_;
};

// Verifies one input: `script_sig` and `witness` (its stack items, bottom first) against the
// spent output's `script_pubkey`, under `flags`, as Bitcoin Core's VerifyScript does. Returns
// ScriptError::kOk when the input is valid, otherwise the rule it breaks.
// Core requires callers to pass flags where CLEANSTACK implies WITNESS and WITNESS implies P2SH;
// here those implications are applied to `flags` before verifying, so every set is accepted.
ScriptError VerifyScript(const Script& script_sig, const Script& script_pubkey,
                         std::span<const std::vector<uint8_t>> witness, VerifyFlags flags,
                         const SignatureChecker& checker);

// Bitcoin Core's CheckTransaction: context-free validity (at least one input and one output,
// no output below 0 or above 21e6 BTC nor a total above it, no duplicate inputs, base size
// within the block weight limit, coinbase scriptSig of 2..100 bytes, no null prevout in a
// non-coinbase). Returns OK, or kInvalidArgument with Core's reject reason as the message
// ("bad-txns-inputs-duplicate").
util::Status CheckTransaction(const Transaction& tx);

struct TxVerifyResult {
  bool valid = false;
  std::optional<size_t> input;  // The failing input, when one failed.
  ScriptError error = ScriptError::kUnknownError;
  std::string detail;  // Human-readable; names the input and the rule.
};

// CheckTransaction, then VerifyScript for every input in order against `spent_outputs` (the
// outputs the inputs spend, in input order), stopping at the first failure. Returns {valid=true,
// error=kOk} when all pass; {error=kBadTx} when CheckTransaction fails or spent_outputs.size() !=
// tx.inputs.size() (no input named); else the first failing input and its error.
TxVerifyResult VerifyTransaction(const crypto::Secp256k1Context& ctx, const Transaction& tx,
                                 std::span<const TxOut> spent_outputs, VerifyFlags flags);

}  // namespace kinko::btc

#endif  // KINKO_BTC_INTERPRETER_H_
