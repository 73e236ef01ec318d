// Shared by the PSBT signer, finalizer and fee estimate: which output an input spends, and the
// final scriptSig and witness an input gets from its partial signatures (or from placeholder
// signatures of the largest size, for estimating the final transaction's size).
//
// Thread-safe: pure functions.
#ifndef KINKO_BTC_INTERNAL_PSBT_SOLVE_H_
#define KINKO_BTC_INTERNAL_PSBT_SOLVE_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "btc/psbt.h"
#include "btc/script.h"
#include "btc/transaction.h"
#include "util/result.h"

namespace kinko::btc::internal {

// The output `input` (input `index` of a PSBT, spending `prevout`) spends: from its full
// previous transaction when present, else from its witness UTXO; nullopt when it has neither.
// Fails with kInvalidArgument, naming input `index`, when the previous transaction's txid is not
// the prevout's txid, when it has no output of the prevout's index, or when both are present
// and disagree.
util::Result<std::optional<TxOut>> SpentOutput(const PsbtInput& input, const Outpoint& prevout,
                                               size_t index);

// Where SolveInput takes signatures from.
enum class SignatureSource {
  kPartialSignatures,  // The input's partial_sigs, tap_key_sig and tap_script_sigs.
  kPlaceholders,       // Every key signs, with a signature of the largest size: 72 bytes for
                       // ECDSA (71-byte low-S DER, as without low-R grinding, and the sighash
                       // byte), 64 or 65 for Schnorr.
};

// The final scriptSig and witness stack of an input.
struct InputSolution {
  Script script_sig;
  std::vector<std::vector<uint8_t>> witness;
};

// Builds the final scriptSig and witness of `input` spending an output with `script_pubkey`:
// P2PK, P2PKH, bare multisig, P2SH of those, P2WPKH, P2WSH of P2PK/P2PKH/multisig, both
// wrapped in P2SH, and P2TR by key path or by a `pk` or `multi_a` leaf of tap_leaf_scripts
// (the leaf with the smallest witness). Multisig signatures are placed in key order, the first
// m available. Signatures are not checked. Returns nullopt when the input lacks a script, a
// public key or enough signatures, or when a script is none of the kinds above.
std::optional<InputSolution> SolveInput(const PsbtInput& input, const Script& script_pubkey,
                                        SignatureSource source);

// Bitcoin Core's PushAll: a script pushing each item, the empty item as OP_0 and one-byte items
// 1..16 and 0x81 as OP_1..OP_16 and OP_1NEGATE.
Script PushAll(const std::vector<std::vector<uint8_t>>& items);

// The key of `script` when it is `<32-byte x-only key> OP_CHECKSIG` (a tapscript `pk` leaf),
// else nullopt.
std::optional<std::array<uint8_t, 32>> MatchTapscriptPk(const Script& script);

}  // namespace kinko::btc::internal

#endif  // KINKO_BTC_INTERNAL_PSBT_SOLVE_H_
