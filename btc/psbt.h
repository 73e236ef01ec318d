// Partially Signed Bitcoin Transactions: the data model and the binary and base64 formats of
// BIP174 (version 0), BIP370 (version 2) and the BIP371 taproot fields.
//
// Parse() checks everything that can be checked on one PSBT without other data: the magic, the
// map structure, every standard key's key length and value size (and, where Bitcoin Core checks
// them, public keys and DER signature encodings), duplicate keys, the fields a version requires
// and forbids, and the input and output counts. Unknown and proprietary keys are kept and written
// back. Serialize() writes the canonical form: fields in the order Bitcoin Core writes them (see
// doc/psbt.md), so that Serialize(Parse(x)) == x for every PSBT Bitcoin Core or kinko wrote, and
// Parse(Serialize(p)) == p for every parsed `p`.
//
// Checks that need a role (does a script match the spent output, are signatures valid) belong
// to the roles built on this model, not to Parse().
//
// Thread-safe: value types with one owner; functions are pure.
#ifndef KINKO_BTC_PSBT_H_
#define KINKO_BTC_PSBT_H_

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "btc/bip32.h"
#include "btc/script.h"
#include "btc/transaction.h"
#include "util/result.h"

namespace kinko::btc {

// Key types (BIP174, BIP370, BIP371). DO NOT CHANGE: wire values.
inline constexpr uint8_t kPsbtGlobalUnsignedTx = 0x00;
inline constexpr uint8_t kPsbtGlobalXpub = 0x01;
inline constexpr uint8_t kPsbtGlobalTxVersion = 0x02;
inline constexpr uint8_t kPsbtGlobalFallbackLocktime = 0x03;
inline constexpr uint8_t kPsbtGlobalInputCount = 0x04;
inline constexpr uint8_t kPsbtGlobalOutputCount = 0x05;
inline constexpr uint8_t kPsbtGlobalTxModifiable = 0x06;
inline constexpr uint8_t kPsbtGlobalVersion = 0xfb;
inline constexpr uint8_t kPsbtProprietary = 0xfc;  // In all three kinds of map.

inline constexpr uint8_t kPsbtInNonWitnessUtxo = 0x00;
inline constexpr uint8_t kPsbtInWitnessUtxo = 0x01;
inline constexpr uint8_t kPsbtInPartialSig = 0x02;
inline constexpr uint8_t kPsbtInSighashType = 0x03;
inline constexpr uint8_t kPsbtInRedeemScript = 0x04;
inline constexpr uint8_t kPsbtInWitnessScript = 0x05;
inline constexpr uint8_t kPsbtInBip32Derivation = 0x06;
inline constexpr uint8_t kPsbtInFinalScriptSig = 0x07;
inline constexpr uint8_t kPsbtInFinalScriptWitness = 0x08;
inline constexpr uint8_t kPsbtInRipemd160 = 0x0a;
inline constexpr uint8_t kPsbtInSha256 = 0x0b;
inline constexpr uint8_t kPsbtInHash160 = 0x0c;
inline constexpr uint8_t kPsbtInHash256 = 0x0d;
inline constexpr uint8_t kPsbtInPreviousTxid = 0x0e;
inline constexpr uint8_t kPsbtInOutputIndex = 0x0f;
inline constexpr uint8_t kPsbtInSequence = 0x10;
inline constexpr uint8_t kPsbtInRequiredTimeLocktime = 0x11;
inline constexpr uint8_t kPsbtInRequiredHeightLocktime = 0x12;
inline constexpr uint8_t kPsbtInTapKeySig = 0x13;
inline constexpr uint8_t kPsbtInTapScriptSig = 0x14;
inline constexpr uint8_t kPsbtInTapLeafScript = 0x15;
inline constexpr uint8_t kPsbtInTapBip32Derivation = 0x16;
inline constexpr uint8_t kPsbtInTapInternalKey = 0x17;
inline constexpr uint8_t kPsbtInTapMerkleRoot = 0x18;

inline constexpr uint8_t kPsbtOutRedeemScript = 0x00;
inline constexpr uint8_t kPsbtOutWitnessScript = 0x01;
inline constexpr uint8_t kPsbtOutBip32Derivation = 0x02;
inline constexpr uint8_t kPsbtOutAmount = 0x03;
inline constexpr uint8_t kPsbtOutScript = 0x04;
inline constexpr uint8_t kPsbtOutTapInternalKey = 0x05;
inline constexpr uint8_t kPsbtOutTapTree = 0x06;
inline constexpr uint8_t kPsbtOutTapBip32Derivation = 0x07;

// BIP370 PSBT_GLOBAL_TX_MODIFIABLE bits.
inline constexpr uint8_t kPsbtInputsModifiable = 0x01;
inline constexpr uint8_t kPsbtOutputsModifiable = 0x02;
inline constexpr uint8_t kPsbtHasSighashSingle = 0x04;

// A key-value pair kinko does not interpret: an unknown key type, or a proprietary key (type
// 0xFC: identifier, subtype, key data). `key` is the whole key, type included.
struct PsbtUnknown {
  std::vector<uint8_t> key;
  std::vector<uint8_t> value;
  friend bool operator==(const PsbtUnknown&, const PsbtUnknown&) = default;
};

// BIP371 (x-only public key, leaf hash) and (leaf hashes, origin) pairs.
using XOnlyBytes = std::array<uint8_t, 32>;
using TapLeafHash = std::array<uint8_t, 32>;
using TapBip32Derivation = std::pair<std::vector<TapLeafHash>, KeyOrigin>;

struct PsbtInput {
  // Kept as given, witnesses included (Serialize writes it back in the same form).
  std::optional<Transaction> non_witness_utxo;
  std::optional<TxOut> witness_utxo;
  // Public key (33 or 65 bytes) -> DER signature with its sighash byte.
  std::map<std::vector<uint8_t>, std::vector<uint8_t>> partial_sigs;
  std::optional<uint32_t> sighash_type;
  std::optional<Script> redeem_script;
  std::optional<Script> witness_script;
  // Public key (33 or 65 bytes) -> origin.
  std::map<std::vector<uint8_t>, KeyOrigin> bip32_derivations;
  std::optional<Script> final_script_sig;
  std::optional<std::vector<std::vector<uint8_t>>> final_script_witness;
  // Hash (20 or 32 bytes, as the type says) -> preimage.
  std::map<std::vector<uint8_t>, std::vector<uint8_t>> ripemd160_preimages;
  std::map<std::vector<uint8_t>, std::vector<uint8_t>> sha256_preimages;
  std::map<std::vector<uint8_t>, std::vector<uint8_t>> hash160_preimages;
  std::map<std::vector<uint8_t>, std::vector<uint8_t>> hash256_preimages;

  // Version 2 (BIP370). previous_txid is in internal byte order, as in an outpoint.
  std::optional<Txid> previous_txid;
  std::optional<uint32_t> output_index;
  std::optional<uint32_t> sequence;
  std::optional<uint32_t> time_locktime;    // >= 500000000
  std::optional<uint32_t> height_locktime;  // 1 .. 499999999

  // Taproot (BIP371).
  std::optional<std::vector<uint8_t>> tap_key_sig;  // 64 or 65 bytes.
  // (x-only key, leaf hash) -> signature of 64 or 65 bytes.
  std::map<std::pair<XOnlyBytes, TapLeafHash>, std::vector<uint8_t>> tap_script_sigs;
  // Control block (33 + 32m bytes, m <= 128) -> (script, leaf version): the key data and the
  // value of PSBT_IN_TAP_LEAF_SCRIPT, whose value is script || leaf version.
  std::map<std::vector<uint8_t>, std::pair<Script, uint8_t>> tap_leaf_scripts;
  // x-only key -> (leaf hashes in the order given, origin).
  std::map<XOnlyBytes, TapBip32Derivation> tap_bip32_derivations;
  std::optional<XOnlyBytes> tap_internal_key;
  std::optional<std::array<uint8_t, 32>> tap_merkle_root;

  // Proprietary keys in key order, then the other unknown keys in key order.
  std::vector<PsbtUnknown> unknown;

  friend bool operator==(const PsbtInput&, const PsbtInput&) = default;
};

struct PsbtOutput {
  std::optional<Script> redeem_script;
  std::optional<Script> witness_script;
  std::map<std::vector<uint8_t>, KeyOrigin> bip32_derivations;

  // Version 2 (BIP370).
  std::optional<int64_t> amount;
  std::optional<Script> script;

  // Taproot (BIP371).
  std::optional<XOnlyBytes> tap_internal_key;
  // The leaves in depth-first order: (depth, leaf version, script). Empty when absent (BIP371
  // forbids an empty tree).
  std::vector<std::tuple<uint8_t, uint8_t, Script>> tap_tree;
  std::map<XOnlyBytes, TapBip32Derivation> tap_bip32_derivations;

  // Proprietary keys in key order, then the other unknown keys in key order.
  std::vector<PsbtUnknown> unknown;

  friend bool operator==(const PsbtOutput&, const PsbtOutput&) = default;
};

struct Psbt {
  uint32_t version = 0;  // 0 or 2.
  // Version 0 only (required there): the transaction without scriptSigs and witnesses.
  std::optional<Transaction> unsigned_tx;
  // Extended public key (78 bytes: version, depth, parent fingerprint, child number, chain
  // code, compressed key) -> origin. Parse() leaves them in Bitcoin Core's order (origin, then
  // key and chain code); Serialize() writes them in that order whatever the vector's order.
  std::vector<std::pair<std::vector<uint8_t>, KeyOrigin>> global_xpubs;

  // Version 2 (BIP370; tx_version is required there). The input and output counts are
  // inputs.size() and outputs.size().
  std::optional<uint32_t> tx_version;
  std::optional<uint32_t> fallback_locktime;
  std::optional<uint8_t> tx_modifiable;  // kPsbtInputsModifiable | kPsbtOutputsModifiable | ...

  std::vector<PsbtInput> inputs;
  std::vector<PsbtOutput> outputs;
  // Proprietary keys in key order, then the other unknown keys in key order.
  std::vector<PsbtUnknown> unknown;

  // Parses the binary format. Fails with kInvalidArgument, naming the map ("global",
  // "input N", "output N"), the key type and the byte offset, when: the magic is not
  // "psbt\xff"; the data ends inside a map or has bytes after the last output map; a key type is
  // a non-canonical CompactSize; a key appears twice in a map (or two global xpubs share
  // chain code and key, as Bitcoin Core counts duplicates); a standard key has the wrong
  // length for its type or its value the wrong size or content (see doc/psbt.md); the version
  // is other than 0 or 2; a field the version requires is missing or one it forbids is present;
  // the unsigned transaction has a scriptSig or witness; the number of input or output maps
  // differs from the transaction's (v0) or the counts (v2); a non-witness UTXO's txid differs
  // from the input's previous txid or lacks the spent output.
  static util::Result<Psbt> Parse(std::span<const uint8_t> bytes);
  // Decodes strict base64 (RFC 4648 alphabet, padding required, no whitespace), then as Parse.
  // Fails with kInvalidArgument on invalid base64 or as Parse.
  static util::Result<Psbt> ParseBase64(std::string_view text);

  // The canonical binary form. Requires a PSBT in the shape Parse() returns (fields of the
  // right sizes); Serialize writes what it is given and does not check the version rules.
  std::vector<uint8_t> Serialize() const;
  // Base64 of Serialize() (RFC 4648, padded).
  std::string ToBase64() const;

  // The transaction the PSBT describes, with empty scriptSigs and witnesses: v0 the unsigned
  // transaction; v2 built from the per-input and per-output fields, sequences defaulting to
  // 0xffffffff and the lock time chosen as BIP370 "Determining Lock Time" says. Fails with
  // kInvalidArgument when a required field is missing (a PSBT built by hand) or when v2 inputs
  // require lock time types that no single lock time satisfies.
  util::Result<Transaction> GetUnsignedTx() const;

  // The output input `index` spends: witness_utxo if present, else the non-witness UTXO's
  // output at the spent index. Fails with kNotFound when neither is present, kInvalidArgument
  // when `index` is out of range or the outpoint is not in the non-witness UTXO.
  util::Result<TxOut> GetInputUtxo(size_t index) const;

  friend bool operator==(const Psbt&, const Psbt&) = default;
};

// Strict base64 (RFC 4648 section 4, with padding), as PSBTs are exchanged.
std::string EncodeBase64(std::span<const uint8_t> bytes);
// Fails with kInvalidArgument, naming the offset, on a character outside the alphabet, missing
// or misplaced padding, a length not a multiple of 4, or non-zero bits after the last byte.
util::Result<std::vector<uint8_t>> DecodeBase64(std::string_view text);

}  // namespace kinko::btc

#endif  // KINKO_BTC_PSBT_H_
