// Signature hashes: the digests a transaction signature commits to. Three schemes exist:
//   - legacy (pre-segwit), Bitcoin Core's SignatureHash with SigVersion::BASE;
//   - BIP143 for segwit v0 inputs (P2WPKH, P2WSH and their P2SH-wrapped forms);
//   - BIP341 (key path) and BIP342 (tapscript) for taproot inputs.
// BIP143 and BIP341 hash per-transaction parts once (PrecomputedTransactionData), so computing
// every input's sighash is O(n) overall; legacy signs a modified copy of the whole transaction
// per input and is inherently O(n^2). See doc/transactions.md.
//
// Thread-safe: pure functions; a PrecomputedTransactionData is immutable after Create and may be
// shared between threads.
#ifndef KINKO_BTC_SIGHASH_H_
#define KINKO_BTC_SIGHASH_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "btc/script.h"
#include "btc/transaction.h"
#include "util/result.h"

namespace kinko::btc {

// Which rules a signature is checked under (Bitcoin Core's SigVersion).
enum class SigVersion {
  kBase,       // Legacy scripts, including P2SH.
  kWitnessV0,  // BIP143.
  kTaproot,    // BIP341 key path.
  kTapscript,  // BIP342 script path.
};

// Sighash types (the byte appended to a signature). kSighashDefault exists only for taproot.
inline constexpr uint8_t kSighashDefault = 0x00;
inline constexpr uint8_t kSighashAll = 0x01;
inline constexpr uint8_t kSighashNone = 0x02;
inline constexpr uint8_t kSighashSingle = 0x03;
inline constexpr uint8_t kSighashAnyoneCanPay = 0x80;

// A signature hash in internal byte order: the 32 bytes that are signed.
using SighashBytes = std::array<uint8_t, 32>;

// The per-transaction parts of the BIP143 and BIP341 signature hashes, computed once in O(n)
// so that hashing all n inputs is O(n) overall.
// Copyable and movable; immutable after Create.
class PrecomputedTransactionData final {
 public:
  // Hashes the prevouts, sequences and outputs of `tx` (single and double SHA-256) and, when
  // `spent_outputs` is not empty, the amounts and scriptPubKeys it spends. `spent_outputs` are
  // the outputs each input spends, in input order; leave it empty when unknown (then only the
  // legacy and segwit v0 sighashes can be computed).
  // Fails with kInvalidArgument when `spent_outputs` is neither empty nor one per input.
  // The result holds no reference to `tx`; it must only be used with `tx` unchanged.
  static util::Result<PrecomputedTransactionData> Create(const Transaction& tx,
                                                         std::vector<TxOut> spent_outputs);

  bool has_spent_outputs() const { return !spent_outputs_.empty(); }
  const std::vector<TxOut>& spent_outputs() const { return spent_outputs_; }

  // BIP341 single SHA-256 hashes: sha_prevouts, sha_amounts, sha_scriptpubkeys, sha_sequences,
  // sha_outputs. sha_amounts and sha_scriptpubkeys are all-zero without spent outputs.
  const std::array<uint8_t, 32>& sha_prevouts() const { return sha_prevouts_; }
  const std::array<uint8_t, 32>& sha_amounts() const { return sha_amounts_; }
  const std::array<uint8_t, 32>& sha_script_pubkeys() const { return sha_script_pubkeys_; }
  const std::array<uint8_t, 32>& sha_sequences() const { return sha_sequences_; }
  const std::array<uint8_t, 32>& sha_outputs() const { return sha_outputs_; }

  // BIP143 double SHA-256 hashes: hashPrevouts, hashSequence, hashOutputs (for SIGHASH_ALL).
  const std::array<uint8_t, 32>& hash_prevouts() const { return hash_prevouts_; }
  const std::array<uint8_t, 32>& hash_sequence() const { return hash_sequence_; }
  const std::array<uint8_t, 32>& hash_outputs() const { return hash_outputs_; }

  // The shape of the transaction this was computed for; the sighash functions CHECK it.
  size_t input_count() const { return input_count_; }
  size_t output_count() const { return output_count_; }

 private:
  PrecomputedTransactionData() = default;

  std::vector<TxOut> spent_outputs_;
  size_t input_count_ = 0;
  size_t output_count_ = 0;
  std::array<uint8_t, 32> sha_prevouts_{};
  std::array<uint8_t, 32> sha_amounts_{};
  std::array<uint8_t, 32> sha_script_pubkeys_{};
  std::array<uint8_t, 32> sha_sequences_{};
  std::array<uint8_t, 32> sha_outputs_{};
  std::array<uint8_t, 32> hash_prevouts_{};
  std::array<uint8_t, 32> hash_sequence_{};
  std::array<uint8_t, 32> hash_outputs_{};
};

// Legacy (pre-segwit) sighash, as Bitcoin Core's SignatureHash with SigVersion::BASE: the
// double SHA-256 of the transaction with every script_sig emptied except input `input`'s, which
// is replaced by `script_code` with its OP_CODESEPARATORs removed, adjusted for NONE, SINGLE
// and ANYONECANPAY (low five bits and bit 0x80 of `hash_type`), followed by `hash_type` as a
// 32-bit little-endian integer. Any `hash_type` is accepted, as in consensus.
// Returns the "one" hash (0x01 then 31 zero bytes, internal order) for SIGHASH_SINGLE when
// `input` has no output of the same index (the historical SIGHASH_SINGLE bug).
// The caller has already removed the signature from `script_code` (FindAndDelete).
// Requires input < tx.inputs.size().
SighashBytes LegacySighash(const Transaction& tx, size_t input, const Script& script_code,
                           int32_t hash_type);

// BIP143 signature message (the preimage that is double-SHA-256 hashed). `amount` is the value
// of the output input `input` spends; `script_code` is used as given.
// Requires input < tx.inputs.size() and `precomputed` made from `tx`.
std::vector<uint8_t> SegwitV0SighashPreimage(const Transaction& tx, size_t input,
                                             const Script& script_code, int64_t amount,
                                             int32_t hash_type,
                                             const PrecomputedTransactionData& precomputed);

// BIP143 signature hash: HASH256 of SegwitV0SighashPreimage. SIGHASH_SINGLE without a
// matching output commits to a zero hashOutputs, as BIP143 says.
// Requires input < tx.inputs.size() and `precomputed` made from `tx`.
SighashBytes SegwitV0Sighash(const Transaction& tx, size_t input, const Script& script_code,
                             int64_t amount, int32_t hash_type,
                             const PrecomputedTransactionData& precomputed);

// What a taproot signature commits to beyond the transaction.
struct TaprootSighashExtras {
  // Set for the script path (BIP342 tapscript, ext_flag 1): the executed leaf's TapLeaf hash.
  std::optional<std::array<uint8_t, 32>> leaf_hash;
  // Script path only: opcode position of the last executed OP_CODESEPARATOR, or 0xffffffff.
  uint32_t codesep_pos = 0xffffffff;
  // The full annex including its 0x50 first byte, when the witness has one.
  std::optional<std::vector<uint8_t>> annex;
};

// BIP341 SigMsg with the leading epoch byte 0x00 (the bytes hashed with the TapSighash tag),
// extended by BIP342's leaf_hash, key_version 0 and codesep_pos when `extras.leaf_hash` is set.
// Fails with kInvalidArgument for a `hash_type` other than 0x00-0x03 and 0x81-0x83, for
// SIGHASH_SINGLE when `input` has no output of the same index, when `precomputed` has no spent
// outputs, or when `extras.annex` is set but does not start with 0x50.
// Requires input < tx.inputs.size() and `precomputed` made from `tx`.
util::Result<std::vector<uint8_t>> TaprootSigMsg(const Transaction& tx, size_t input,
                                                 uint8_t hash_type,
                                                 const PrecomputedTransactionData& precomputed,
                                                 const TaprootSighashExtras& extras);

// BIP341/342 signature hash: TaggedHash("TapSighash", TaprootSigMsg(...)). Fails as
// TaprootSigMsg. Requires input < tx.inputs.size() and `precomputed` made from `tx`.
util::Result<SighashBytes> TaprootSighash(const Transaction& tx, size_t input, uint8_t hash_type,
                                          const PrecomputedTransactionData& precomputed,
                                          const TaprootSighashExtras& extras);

// BIP341 TapLeaf hash: TaggedHash("TapLeaf", leaf_version || compact_size(script) || script).
std::array<uint8_t, 32> ComputeTapleafHash(uint8_t leaf_version, const Script& script);

// BIP341 TapBranch hash: TaggedHash("TapBranch", min(a, b) || max(a, b)), bytewise order.
std::array<uint8_t, 32> ComputeTapBranchHash(std::span<const uint8_t, 32> a,
                                             std::span<const uint8_t, 32> b);

}  // namespace kinko::btc

#endif  // KINKO_BTC_SIGHASH_H_
