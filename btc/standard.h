// Standard output script templates: recognising them (Bitcoin Core's Solver, BIP141 witness
// programs, BIP342 multi_a leaves) and building them (P2PK, P2PKH, P2SH, P2WPKH, P2WSH, P2TR,
// bare multisig with BIP67 sorting, multi_a, OP_RETURN data).
//
// Thread-safe: pure functions.
#ifndef KINKO_BTC_STANDARD_H_
#define KINKO_BTC_STANDARD_H_

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "btc/script.h"

namespace kinko::btc {

// The output types of Bitcoin Core's Solver (TxoutType).
enum class ScriptKind {
  kNonStandard,
  kP2pk,
  kP2pkh,
  kP2sh,
  kMultisig,
  kNullData,
  kP2wpkh,
  kP2wsh,
  kP2tr,
  kAnchor,  // Pay-to-anchor: OP_1 <0x4e73> (Bitcoin Core 28+).
  kWitnessUnknown,
};

// Bitcoin Core's name of `kind` (GetTxnOutputType, the "type" field of its RPCs):
// "nonstandard", "pubkey", "pubkeyhash", "scripthash", "multisig", "nulldata",
// "witness_v0_keyhash", "witness_v0_scripthash", "witness_v1_taproot", "anchor",
// "witness_unknown".
std::string_view ScriptKindName(ScriptKind kind);

// Largest key count of a bare CHECKMULTISIG (consensus MAX_PUBKEYS_PER_MULTISIG).
inline constexpr int kMaxMultisigKeys = 20;
// Largest key count of a multi_a leaf (Bitcoin Core's MAX_PUBKEYS_PER_MULTI_A).
inline constexpr int kMaxMultiAKeys = 999;

// True when `pubkey` has a size that its first byte allows (Bitcoin Core's
// CPubKey::ValidSize): 33 bytes starting 02 or 03, or 65 bytes starting 04, 06 or 07. Says
// nothing about the point being on the curve.
bool IsValidPubkeySize(std::span<const uint8_t> pubkey);

// A BIP141 witness program: version 0..16 and the 2..40 program bytes.
struct WitnessProgram {
  int version = 0;
  std::vector<uint8_t> program;

  friend bool operator==(const WitnessProgram&, const WitnessProgram&) = default;
};

// Returns the witness program of `script` when the script is 4..42 bytes long and is OP_0 or
// OP_1..OP_16 followed by one direct push (of 2..40 bytes) that ends the script; else nullopt.
// Any version and program size in range is returned, e.g. a 25-byte version-0 program (which
// consensus then rejects).
std::optional<WitnessProgram> ParseWitnessProgram(const Script& script);

// The kind of an output script and the data its template holds, as Bitcoin Core's Solver:
// - kP2pk: [pubkey (33 or 65 bytes)]
// - kP2pkh, kP2sh: [20-byte hash]
// - kMultisig: [{m}, pubkey 1, ..., pubkey n, {n}], m and n as one byte each (1 <= m <= n <= 20)
// - kP2wpkh: [20-byte program]; kP2wsh, kP2tr: [32-byte program]
// - kWitnessUnknown: [{version}, program] (version 1..16, as one byte)
// - kNullData, kAnchor, kNonStandard: no solutions.
struct StandardScript {
  ScriptKind kind = ScriptKind::kNonStandard;
  std::vector<std::vector<uint8_t>> solutions;

  friend bool operator==(const StandardScript&, const StandardScript&) = default;
};

// Classifies `script` with Bitcoin Core's Solver rules, checked in this order:
// - P2SH: OP_HASH160 <20> OP_EQUAL, exactly 23 bytes.
// - A witness program (ParseWitnessProgram): v0 with 20 bytes is P2WPKH, v0 with 32 bytes P2WSH,
//   v1 with 32 bytes P2TR, OP_1 <0x4e73> is the anchor, any other version 1..16 is
//   kWitnessUnknown; any other v0 size is kNonStandard.
// - OP_RETURN followed only by push operations (IsPushOnly, so OP_1..OP_16 count; no size
//   limit here, that is policy): kNullData.
// - <pubkey> OP_CHECKSIG with IsValidPubkeySize(pubkey), a direct push: kP2pk.
// - OP_DUP OP_HASH160 <20> OP_EQUALVERIFY OP_CHECKSIG: kP2pkh.
// - <m> <pubkey>... <n> OP_CHECKMULTISIG, with 1 <= m <= n <= 20, m and n as OP_1..OP_16 or as
//   minimal pushes of minimal script numbers (17..20), every key passing IsValidPubkeySize and
//   exactly n keys: kMultisig. (Whether a bare multisig is relayed is policy, not decided here.)
// Everything else, including scripts with truncated pushes, is kNonStandard.
StandardScript Classify(const Script& script);

// A BIP342 multi_a tapscript: <key 1> OP_CHECKSIG <key 2> OP_CHECKSIGADD ... <key n>
// OP_CHECKSIGADD <threshold> OP_NUMEQUAL.
struct MultiA {
  int threshold = 0;
  std::vector<std::array<uint8_t, 32>> keys;

  friend bool operator==(const MultiA&, const MultiA&) = default;
};

// Returns the threshold and x-only keys of `leaf_script` when it is exactly the multi_a template
// (Bitcoin Core's MatchMultiA): 1..999 keys, each a direct 32-byte push; the threshold
// 1 <= m <= n as OP_1..OP_16 or a minimal push of a minimal script number of at most 4 bytes.
// Else nullopt.
std::optional<MultiA> MatchMultiA(const Script& leaf_script);

// Builders. Each output is classified by Classify (or MatchMultiA) as its kind with the inputs as
// solutions, when the preconditions hold.

// <pubkey> OP_CHECKSIG. Requires IsValidPubkeySize(pubkey).
Script P2pkScript(std::span<const uint8_t> pubkey);
// OP_DUP OP_HASH160 <pubkey_hash> OP_EQUALVERIFY OP_CHECKSIG.
Script P2pkhScript(std::span<const uint8_t, 20> pubkey_hash);
// OP_HASH160 <script_hash> OP_EQUAL.
Script P2shScript(std::span<const uint8_t, 20> script_hash);
// OP_0 <pubkey_hash>.
Script P2wpkhScript(std::span<const uint8_t, 20> pubkey_hash);
// OP_0 <script_hash>.
Script P2wshScript(std::span<const uint8_t, 32> script_hash);
// OP_1 <output_key>.
Script P2trScript(std::span<const uint8_t, 32> output_key);
// OP_version <program>. Requires 0 <= version <= 16 and 2 <= program.size() <= 40 (BIP141).
Script WitnessProgramScript(int version, std::span<const uint8_t> program);
// <threshold> <pubkey>... <n> OP_CHECKMULTISIG, keys in the given order (Bitcoin Core's
// GetScriptForMultisig; numbers above 16 are pushed as script numbers). Requires
// 1 <= threshold <= pubkeys.size() <= 20 and IsValidPubkeySize for every key.
Script MultisigScript(int threshold, const std::vector<std::vector<uint8_t>>& pubkeys);
// MultisigScript with the keys in BIP67 order: sorted as byte strings, lexicographically.
// Same requirements.
Script SortedMultisigScript(int threshold, std::vector<std::vector<uint8_t>> pubkeys);
// The multi_a leaf script of `xonly_keys` in the given order. Requires
// 1 <= threshold <= xonly_keys.size() <= 999.
Script MultiAScript(int threshold, const std::vector<std::array<uint8_t, 32>>& xonly_keys);
// MultiAScript with the keys sorted lexicographically (BIP387 sortedmulti_a).
Script SortedMultiAScript(int threshold, std::vector<std::array<uint8_t, 32>> xonly_keys);
// OP_RETURN <data>, `data` pushed as PushData does (OP_0 when empty). Any size; relay limits
// are policy.
Script NullDataScript(std::span<const uint8_t> data);

}  // namespace kinko::btc

#endif  // KINKO_BTC_STANDARD_H_
