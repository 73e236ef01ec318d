// Output script descriptors (BIP 380-386, multipath key expressions of BIP 389, multi_a and
// sortedmulti_a of BIP 387): parsing, printing with checksums, derivation of output scripts at
// an index, and the question a signer asks of every input and change output: "is this
// scriptPubKey produced by our descriptor, and at which index?", answered by re-deriving.
//
// Supported script expressions: pk, pkh, wpkh, combo, sh, wsh, multi, sortedmulti, multi_a,
// sortedmulti_a, tr (with script trees whose leaves are pk, pkh, multi_a or sortedmulti_a),
// rawtr, addr and raw. Other miniscript expressions are rejected.
//
// What is valid where follows Bitcoin Core's descriptor parser:
// - sh, combo, addr, raw, tr and rawtr only at the top level; wsh at the top or inside sh; wpkh
//   at the top or inside sh; multi and sortedmulti at the top, in sh or in wsh; multi_a and
//   sortedmulti_a only in tr leaves; pkh and pk anywhere a script is expected.
// - Uncompressed keys only at the top level and directly in sh (never in segwit or taproot);
//   hybrid keys never; 32-byte x-only hex keys only inside tr and rawtr.
// - multi/sortedmulti: 1..20 keys, 1 <= threshold <= keys; at the top level at most 3 keys;
//   inside sh the redeem script must fit in 520 bytes. multi_a: 1..999 keys. tr trees: at most
//   128 levels.
// - Key expressions: "[fingerprint/path]" origin (hardened written ' or h; "H" is rejected),
//   then a hex public key, a WIF private key, or an xpub/xprv with "/" steps, optionally one
//   multipath step "<a;b;...>" (at least two distinct values) and a final "*" or "*'" ("*h").
//   All multipath key expressions of a descriptor must have the same number of alternatives.
// - xpub/xprv and WIF versions must belong to the network given to Parse (test, signet and
//   regtest share tpub/tprv and the 0xef WIF prefix); addr() is decoded for that network.
//
// Printing follows Bitcoin Core: keys print as given (hex keys in their 33/65/32-byte form,
// xprv -> xpub in the public form), a key expression's hardened steps print with an apostrophe
// when the last hardened marker written in it was an apostrophe and with 'h' otherwise (Core's
// rule, which keeps its checksums), addresses in their canonical (lowercase) encoding.
//
// Thread-safe: a Descriptor is immutable after Parse; its const methods may be called from
// several threads. Functions are pure.
#ifndef KINKO_BTC_DESCRIPTOR_H_
#define KINKO_BTC_DESCRIPTOR_H_

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "btc/address.h"
#include "btc/bip32.h"
#include "btc/script.h"
#include "crypto/secp256k1.h"
#include "util/result.h"

namespace kinko::btc {

namespace internal {
struct DescriptorNode;
}  // namespace internal

// A BIP341 script leaf of a tr() descriptor, expanded at one index.
struct TapLeafInfo {
  Script script;
  uint8_t leaf_version = 0xc0;
  // BIP341 control block: (leaf_version | parity of the output key) || internal key || the
  // sibling hashes from the leaf up to the root.
  std::vector<uint8_t> control_block;
};

// A key of a tr() descriptor with the leaves it appears in (empty for the internal key alone),
// as PSBT_IN_TAP_BIP32_DERIVATION carries it.
struct TapKeyOrigin {
  std::array<uint8_t, 32> xonly_key{};
  std::vector<std::array<uint8_t, 32>> leaf_hashes;
  KeyOrigin origin;
};

// Everything a PSBT updater or signer needs about one output script of a descriptor at one
// index.
struct ScriptInfo {
  Script script_pubkey;
  std::optional<Script> redeem_script;   // sh(...): the script whose hash is in script_pubkey.
  std::optional<Script> witness_script;  // wsh(...): the script whose SHA256 is the program.
  // Public key (33 or 65 bytes, as used in the scripts) -> full origin: the fingerprint of the
  // master and the full path, derived steps included. Keys without an origin get the
  // fingerprint of the key itself (HASH160 of the public key, or of the xpub's key) and the
  // path from it, as Bitcoin Core does. Not used for tr() (see tap_bip32_derivations).
  std::vector<std::pair<std::vector<uint8_t>, KeyOrigin>> bip32_derivations;
  // tr(): the internal key (rawtr() has none: its key is the output key).
  std::optional<std::array<uint8_t, 32>> tap_internal_key;
  std::optional<std::array<uint8_t, 32>> tap_merkle_root;  // tr() with a script tree.
  std::vector<TapLeafInfo> tap_leaves;                     // In the order written.
  // tr() and rawtr(): each key once, with the hashes of the leaves it appears in.
  std::vector<TapKeyOrigin> tap_bip32_derivations;
};

// Where MatchScriptInfo found a script: the index, and the descriptor's expansion there.
struct ScriptMatch {
  uint32_t index = 0;
  // Expand(index) for a descriptor that is not combo(); for combo() the ScriptInfo of the one
  // of its scripts that matched. info.script_pubkey is the matched script.
  ScriptInfo info;
};

// The signature sizes Descriptor::MaxSatisfactionSize assumes, sighash byte included.
struct SignatureSizes {
  // ECDSA: a DER signature and the sighash byte. 72 covers every low-S signature; 71 covers
  // every low-S signature with a low R (32 bytes at most), which Bitcoin Core and kinko make by
  // grinding the nonce.
  size_t ecdsa = 72;
  // BIP340 Schnorr: 64 with SIGHASH_DEFAULT, 65 with an explicit sighash byte.
  size_t schnorr = 65;
};

// The largest final scriptSig and witness that spend an output of a descriptor.
struct SatisfactionSize {
  // Bytes of the scriptSig, without its own length prefix.
  size_t script_sig_size = 0;
  // Bytes of the witness as a transaction serializes it: the CompactSize item count, then each
  // item's CompactSize length and bytes. 0 for a spend without a witness (a transaction that
  // has witnesses writes one byte, the zero count, for such an input).
  size_t witness_size = 0;

  friend bool operator==(const SatisfactionSize&, const SatisfactionSize&) = default;
};

// A parsed output descriptor.
// Movable, not copyable (it may hold private keys); Clone() makes an explicit copy.
class Descriptor final {
 public:
  // Parses `text`, with or without a "#checksum" suffix. Fails with kInvalidArgument, the
  // message naming the expression at fault, when: a checksum is present and is not 8
  // characters or does not match; the text has characters outside the BIP380 character set;
  // the text is not one of the expressions above or breaks one of the rules above; a key does
  // not parse or belongs to another network.
  // Parse derives each extended key along its steps once (per multipath alternative, the steps
  // before the multipath step once for all; not for a final "*'"), so that Expand and
  // MatchScriptPubKey derive one child per key.
  static util::Result<Descriptor> Parse(const crypto::Secp256k1Context& ctx, std::string_view text,
                                        Network network);

  Descriptor(Descriptor&&) noexcept;
  Descriptor& operator=(Descriptor&&) noexcept;
  Descriptor(const Descriptor&) = delete;
  Descriptor& operator=(const Descriptor&) = delete;
  ~Descriptor();

  // A copy of this descriptor, private keys included.
  Descriptor Clone() const;

  // The public form followed by "#" and its checksum (Bitcoin Core's getdescriptorinfo
  // "descriptor"): xprv printed as xpub, WIF as the public key. Parse(ToString()) gives a
  // descriptor with the same ToString().
  std::string ToString() const;
  // The form with xprv and WIF keys where the text had them, followed by "#" and its checksum.
  // WARNING: the result contains private keys; never log it.
  std::string ToPrivateString() const;

  // True when some key has a "*" step (the scripts depend on the index).
  bool IsRange() const;
  // False for addr() and raw() (nothing is known about how to spend), true otherwise.
  bool IsSolvable() const;
  // True when some key is a WIF key or an xprv (Bitcoin Core's getdescriptorinfo
  // "hasprivatekeys").
  bool HasPrivateKeys() const;

  // The number of alternatives of the multipath key expressions, 1 when there are none.
  size_t MultipathCount() const;
  // One single-path descriptor per alternative of <a;b;...>, in the order written (a copy of
  // this descriptor when MultipathCount() == 1).
  std::vector<Descriptor> SplitMultipath() const;

  // The output scripts at child `index` (ignored when !IsRange()): one script, or for combo()
  // P2PK, P2PKH and, for a compressed key, P2WPKH and P2SH-P2WPKH. Fails with
  // kInvalidArgument when MultipathCount() != 1, when `index` >= 2^31, or when a step (fixed or
  // "*'") is hardened and its key is an xpub (no private key to derive with).
  util::Result<std::vector<Script>> ExpandScripts(const crypto::Secp256k1Context& ctx,
                                                  uint32_t index) const;
  // The one output script at `index` with its redeem/witness script, key origins and taproot
  // data. Fails like ExpandScripts, and with kInvalidArgument for combo() (several scripts).
  util::Result<ScriptInfo> Expand(const crypto::Secp256k1Context& ctx, uint32_t index) const;

  // The largest final scriptSig and witness that spend an output of this descriptor, with
  // signatures of the sizes in `sizes` (as Bitcoin Core's MaxSatisfactionWeight): pk, pkh and
  // wpkh one signature (and the key); multi and sortedmulti the threshold's signatures and the
  // CHECKMULTISIG dummy; sh and wsh add their redeem or witness script; tr() the largest of the
  // key path (one signature) and each leaf (its signatures, with an empty item for each key of
  // multi_a beyond the threshold, then the leaf script and its control block); rawtr() the key
  // path. The same at every index and for every multipath alternative. nullopt for combo()
  // (several scripts), addr() and raw() (nothing is known about how to spend them).
  std::optional<SatisfactionSize> MaxSatisfactionSize(const SignatureSizes& sizes = {}) const;

  // Each xprv of the descriptor (in the order written) with the origin of the xprv itself: the
  // key origin written before it, or, without one, the key's own fingerprint and the empty path.
  // Children at a path P below the xprv have the origin path (origin.path + P). The pointers
  // are valid while this descriptor lives. (WIF keys are not included.)
  std::vector<std::pair<const ExtendedKey*, KeyOrigin>> PrivateExtendedKeys() const;

  // The network the descriptor was parsed for.
  Network network() const { return network_; }

 private:
  Descriptor(std::unique_ptr<internal::DescriptorNode> root, Network network);
  friend std::optional<ScriptMatch> MatchScriptInfo(const crypto::Secp256k1Context& ctx,
                                                    const Descriptor& descriptor,
                                                    const Script& script_pubkey,
                                                    std::span<const KeyOrigin> origins);

  std::unique_ptr<internal::DescriptorNode> root_;  // Invariant: never null.
  Network network_;
};

// The BIP380 checksum (8 characters) of `descriptor` (without "#..."), or "" when the text has
// characters outside the descriptor character set.
std::string DescriptorChecksum(std::string_view descriptor);

// Is `script_pubkey` produced by `descriptor` at some index, according to `origins` (the BIP32
// derivations a PSBT carries for that input or output)? For a ranged descriptor, the candidate
// indexes are the last step of each origin whose fingerprint and path up to that step are the
// ones of a ranged key of the descriptor (its origin, or its own fingerprint, followed by its
// path); a non-ranged descriptor has the single candidate 0. Never a blind scan. Returns the
// first candidate at which the descriptor re-derives exactly `script_pubkey` (any of combo()'s
// scripts), or nullopt. Requires descriptor.MultipathCount() == 1 (else nullopt).
std::optional<uint32_t> MatchScriptPubKey(const crypto::Secp256k1Context& ctx,
                                          const Descriptor& descriptor, const Script& script_pubkey,
                                          std::span<const KeyOrigin> origins);

// MatchScriptPubKey (the same candidates, tried in the same order, giving the same index), also
// returning the descriptor's expansion at that index, so that a caller that checks a PSBT's
// redeem and witness scripts and derivations against the descriptor derives the keys once.
std::optional<ScriptMatch> MatchScriptInfo(const crypto::Secp256k1Context& ctx,
                                           const Descriptor& descriptor,
                                           const Script& script_pubkey,
                                           std::span<const KeyOrigin> origins);

}  // namespace kinko::btc

#endif  // KINKO_BTC_DESCRIPTOR_H_
