// The BIP174 roles other than the signer (btc/psbt_sign.h): creator, updater, combiner,
// finalizer and transaction extractor; and the amount and fee facts a PSBT proves.
//
// Thread-safe: pure functions over values.
#ifndef KINKO_BTC_PSBT_ROLES_H_
#define KINKO_BTC_PSBT_ROLES_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <vector>

#include "btc/bip32.h"
#include "btc/descriptor.h"
#include "btc/psbt.h"
#include "btc/script.h"
#include "btc/transaction.h"
#include "crypto/secp256k1.h"
#include "util/result.h"

namespace kinko::btc {

// Creator: a version 0 PSBT of `tx`, with one empty map per input and output.
// Fails with kInvalidArgument when an input of `tx` has a scriptSig or a witness (BIP174: the
// unsigned transaction must have none).
util::Result<Psbt> CreatePsbt(Transaction tx);

// What an updater knows, besides the PSBT: previous transactions, scripts and the origins of
// public keys (Bitcoin Core's signing provider without private keys).
struct PsbtUpdateData {
  // Found by txid, for the inputs that spend them.
  std::vector<Transaction> previous_transactions;
  // Redeem and witness scripts, found by the HASH160 (P2SH) or SHA256 (P2WSH) they hash to.
  std::vector<Script> scripts;
  // Public key (33 or 65 bytes) -> origin, for bip32_derivations.
  std::map<std::vector<uint8_t>, KeyOrigin> key_origins;
};

// Which UTXO fields a segwit input gets.
enum class SegwitUtxoFields {
  // The witness UTXO and, when known, the full previous transaction (Bitcoin Core since 0.20.1:
  // the full transaction proves the amount of a segwit v0 input; kinko's signer requires it).
  kBoth,
  // Only the witness UTXO, as BIP174 first described (and its test vectors show).
  kWitnessUtxoOnly,
};

struct PsbtUpdateOptions {
  SegwitUtxoFields segwit_utxo = SegwitUtxoFields::kBoth;
};

// Updater: fills in, where `data` has them, each input's previous transaction, witness UTXO
// (for segwit spends), redeem script, witness script and the origins of the keys in its scripts
// (multisig and P2PK keys, and the key of a P2PKH or P2WPKH hash when `data` knows it); and the
// same scripts and origins for each output. Fields already present are kept.
// Fails with kInvalidArgument as GetUnsignedTx does, or when an input's previous transaction
// is not the one it spends.
util::Result<Psbt> UpdatePsbt(Psbt psbt, const PsbtUpdateData& data,
                              const PsbtUpdateOptions& options = {});

struct PsbtDescriptorUpdateOptions {
  // For a ranged descriptor, the indexes 0 .. range-1 are tried for the scripts that the PSBT's
  // own derivations do not place (Bitcoin Core's utxoupdatepsbt tries 0..1000 by default).
  uint32_t range = 1001;
  SegwitUtxoFields segwit_utxo = SegwitUtxoFields::kBoth;
};

// Updater from a wallet descriptor: sets each input's previous transaction from
// `previous_transactions` (by txid) where missing; then, for every input whose spent output and
// every output whose script `descriptor` produces (at the index its derivations name, found with
// MatchScriptPubKey, or else at an index below options.range), fills in the redeem and witness
// scripts, the BIP32 derivations, the taproot internal key, merkle root, leaf scripts (inputs),
// tap tree (outputs) and taproot derivations, and, for segwit inputs, the witness UTXO. Fields
// already present are kept. A multipath descriptor is used with each of its paths.
// Fails with kInvalidArgument as GetUnsignedTx or Descriptor::Expand do (e.g. a hardened step
// below an xpub), or when an input's previous transaction is not the one it spends.
util::Result<Psbt> UpdatePsbtWithDescriptor(const crypto::Secp256k1Context& ctx, Psbt psbt,
                                            const Descriptor& descriptor,
                                            std::span<const Transaction> previous_transactions,
                                            const PsbtDescriptorUpdateOptions& options = {});

// Combiner: the union of `psbts`, which must describe the same unsigned transaction. Each field
// present in any PSBT is present in the result; where two PSBTs give different values for one
// key, the first one's is kept (as Bitcoin Core does). Unknown and proprietary pairs are kept,
// in key order.
// Fails with kInvalidArgument when `psbts` is empty, or when the PSBTs differ in version,
// unsigned transaction, or input or output count.
util::Result<Psbt> CombinePsbts(std::span<const Psbt> psbts);

struct PsbtFinalizeResult {
  Psbt psbt;
  // True when every input now has a final scriptSig or witness.
  bool complete = false;
};

// Finalizer: for each input that is not final and has enough signatures and scripts, builds
// its final scriptSig and witness (internal/psbt_solve.h lists the kinds; multisig signatures
// in key order) and, as BIP174 says, clears every other field except the UTXOs, the BIP370
// outpoint, sequence and lock time fields, and the unknown and proprietary pairs. Other inputs
// are left as they are. Signatures are not verified here: verify the extracted transaction
// (btc/interpreter.h) before relying on it.
// Fails with kInvalidArgument as GetUnsignedTx does, or when an input's previous transaction
// is not the one it spends or disagrees with its witness UTXO.
util::Result<PsbtFinalizeResult> FinalizePsbt(Psbt psbt);

// Extractor: the network transaction of a PSBT whose inputs are all final.
// Fails with kFailedPrecondition naming the first input that is not final, or kInvalidArgument
// as GetUnsignedTx does.
util::Result<Transaction> ExtractTransaction(const Psbt& psbt);

// What a PSBT proves about amounts and fees. Amounts are in satoshi.
struct PsbtFeeFacts {
  // The sum of the spent amounts: each from the input's full previous transaction when present,
  // else from its witness UTXO. nullopt when some input has neither.
  std::optional<int64_t> input_total;
  // True when some input's amount comes only from a witness UTXO: for segwit v0 that amount is
  // not committed to by anything the PSBT proves, and may be understated (the 2020 segwit fee
  // attack), so the fee is then a claim, not a fact.
  bool amount_from_witness_utxo_only = false;
  int64_t output_total = 0;
  // input_total - output_total, when input_total is known.
  std::optional<int64_t> fee;
  // The final transaction's virtual size: exact for final inputs and for inputs whose
  // signatures suffice; for the others, as if finalized with signatures of the largest size
  // (72-byte ECDSA, 64/65-byte Schnorr) by every key, taproot by the key path when the internal
  // key has a derivation (or there is no leaf), else by the leaf with the smallest witness.
  // nullopt when an input's final size cannot be told (unknown spent output, missing scripts).
  std::optional<size_t> estimated_vsize;
  // fee * 1000 / estimated_vsize, rounded down (Bitcoin Core's CFeeRate(fee, vsize)): satoshi
  // per 1000 virtual bytes. Present when both are.
  std::optional<int64_t> fee_rate_sat_per_kvb;
};

// Computes the facts above. Fails with kInvalidArgument when a previous transaction is not the
// one spent or disagrees with the witness UTXO, when an amount or a total is outside
// [0, 21e6 BTC], or as GetUnsignedTx does.
util::Result<PsbtFeeFacts> ComputeFeeFacts(const Psbt& psbt);

}  // namespace kinko::btc

#endif  // KINKO_BTC_PSBT_ROLES_H_
