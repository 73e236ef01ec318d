// The BIP174 signer role: adds the signatures that a set of private keys can make to a PSBT.
//
// Signs P2PKH, P2PK, bare and P2SH multisig, P2SH-P2WPKH, P2WPKH, P2WSH and P2SH-P2WSH (P2PK,
// P2PKH or multisig witness scripts), P2TR by key path (the internal key, tweaked by the merkle
// root) and P2TR by script path for `pk` and `multi_a` leaves (BIP342). ECDSA signatures use
// RFC 6979 nonces, low S and, by default, low-R grinding as Bitcoin Core does; Schnorr
// signatures follow BIP340. Every sighash is recomputed from the PSBT; nothing handed in is
// signed as is.
//
// Before signing an input the signer checks what BIP174 asks of it and refuses the whole PSBT
// (nothing signed) when: a previous transaction is not the one spent, or disagrees with the
// witness UTXO; only a witness UTXO is given for an output that is not segwit; a redeem script
// does not hash to the spent P2SH output; a witness script does not hash to the P2WSH program;
// a taproot internal key and merkle root do not give the spent output key; or an input it
// holds a key for asks for a sighash type other than SIGHASH_ALL (and taproot's
// SIGHASH_DEFAULT) without `allow_any_sighash`.
//
// A key whose private part lives outside the process (a hardware security module, say) takes
// part through ExternalEcdsaKey: SignPsbt computes the sighash, asks the key for a signature
// and verifies it (valid for that key and sighash, strict DER, low S) before putting it in the
// PSBT. Such a key makes ECDSA signatures only; a taproot input that needs it is refused.
//
// Thread-safe: PsbtSigningKeys is not thread-safe (one owner); SignPsbt is pure apart from
// reading `keys` (and calling their external keys), and may run concurrently on different
// PSBTs with the same const keys when their external keys are thread-safe.
#ifndef KINKO_BTC_PSBT_SIGN_H_
#define KINKO_BTC_PSBT_SIGN_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "btc/bip32.h"
#include "btc/psbt.h"
#include "crypto/hash.h"
#include "crypto/rng.h"
#include "crypto/secp256k1.h"
#include "util/result.h"
#include "util/status.h"

namespace kinko::btc {

// An ECDSA private key held outside this process, known by its public key. Implementations
// (signerd's PKCS#11 backend, say) live outside btc/. An interface: PsbtSigningKeys holds
// implementations by std::shared_ptr<const ExternalEcdsaKey>; they must be thread-safe for
// SignPsbt to run concurrently with them.
class ExternalEcdsaKey {
 public:
  virtual ~ExternalEcdsaKey() = default;

  // The public key of the held private key (compressed).
  virtual const crypto::PublicKey& public_key() const = 0;

  // A short name for error messages ("pkcs11 token 'vault' key 'signer-1'"). Never secret.
  virtual std::string name() const = 0;

  // Returns the DER signature (no sighash byte) of the 32-byte `digest` by the held key, with
  // low S. Fails with the backend's error (kUnavailable when the device cannot be reached,
  // say). SignPsbt verifies whatever is returned, so a faulty backend cannot put a bad
  // signature in a PSBT.
  virtual util::Result<std::vector<uint8_t>> SignDigest(
      const crypto::Hash256Bytes& digest) const = 0;
};

// The private keys a signer holds: single keys, and extended private keys with the origin that
// PSBT derivations name them by. Movable, not copyable.
class PsbtSigningKeys final {
 public:
  PsbtSigningKeys() = default;
  PsbtSigningKeys(PsbtSigningKeys&&) noexcept = default;
  PsbtSigningKeys& operator=(PsbtSigningKeys&&) noexcept = default;
  PsbtSigningKeys(const PsbtSigningKeys&) = delete;
  PsbtSigningKeys& operator=(const PsbtSigningKeys&) = delete;

  // Adds a single key (a WIF key, say). It signs wherever its compressed or uncompressed public
  // key, or its x-only key, appears.
  void AddKey(const crypto::Secp256k1Context& ctx, crypto::PrivateKey key);

  // Adds an extended private key whose origin is `origin`: the fingerprint of its master key and
  // the path from the master to it. Without `origin` the key is taken as a master key (its own
  // fingerprint, the empty path). It signs for a public key whose derivation in the PSBT has
  // that fingerprint and a path that extends the origin's path, after checking that the derived
  // key is that public key. Fails with kInvalidArgument when `key` is not private.
  util::Status AddExtendedKey(ExtendedKey key, std::optional<KeyOrigin> origin);

  // Adds a key held outside the process. It signs ECDSA wherever its compressed or
  // uncompressed public key appears; SignPsbt fails (kFailedPrecondition) on a taproot input
  // whose internal key or leaf key is its x-only key. Requires `key` != nullptr.
  void AddExternalKey(std::shared_ptr<const ExternalEcdsaKey> key);

  bool empty() const {
    return single_keys_.empty() && extended_keys_.empty() && external_keys_.empty();
  }

 private:
  friend class PsbtKeyFinder;
  struct SingleKey {
    crypto::PrivateKey key;
    std::array<uint8_t, 33> compressed;
    std::array<uint8_t, 65> uncompressed;
  };
  struct OriginKey {
    ExtendedKey key;
    KeyOrigin origin;
  };
  struct ExternalKey {
    std::shared_ptr<const ExternalEcdsaKey> key;
    std::array<uint8_t, 33> compressed;
    std::array<uint8_t, 65> uncompressed;
  };
  std::vector<SingleKey> single_keys_;
  std::vector<OriginKey> extended_keys_;
  std::vector<ExternalKey> external_keys_;
};

struct PsbtSignOptions {
  // Also sign inputs that ask for sighash types other than SIGHASH_ALL (or taproot's
  // SIGHASH_DEFAULT). Off by default: a signer that signs NONE or SINGLE lets others change the
  // outputs.
  bool allow_any_sighash = false;
  // kGrind (default) as Bitcoin Core since 0.17; kNone reproduces older signatures, such as
  // the BIP174 test vectors'.
  crypto::LowRGrinding grinding = crypto::LowRGrinding::kGrind;
  // Source of BIP340 auxiliary randomness; when null, the all-zero auxiliary data is used
  // (BIP340 allows it: nonces stay unique, derived from the key and the message).
  crypto::Rng* schnorr_aux_rng = nullptr;
};

struct PsbtSignResult {
  Psbt psbt;                    // The PSBT with the new signatures.
  size_t signatures_added = 0;  // ECDSA and Schnorr signatures made.
  // True when every input is final or has the signatures and scripts to be finalized.
  bool complete = false;
};

// Signs every input of `psbt` that `keys` can sign and that is not final yet. Signatures
// already present are kept, never replaced. Inputs without a spent output (neither a previous
// transaction nor a witness UTXO), of an unsupported kind, or for which `keys` has no key are
// left unsigned (and `complete` is false). Taproot inputs are signed only when the spent
// output of every input is known (BIP341 commits to all of them).
// Fails with kInvalidArgument, naming the input and the reason, for the signer checks listed
// at the top of this file, and with kPermissionDenied for a sighash type not allowed by
// `options`. With external keys (AddExternalKey) it also fails with: the external key's own
// error, prefixed with the input and the key's name, when SignDigest fails; kInternal when the
// returned signature is not strict DER, not low S or does not verify for the key and sighash;
// kFailedPrecondition when a taproot input needs the external key. On failure nothing is
// signed.
util::Result<PsbtSignResult> SignPsbt(const crypto::Secp256k1Context& ctx, Psbt psbt,
                                      const PsbtSigningKeys& keys,
                                      const PsbtSignOptions& options = {});

}  // namespace kinko::btc

#endif  // KINKO_BTC_PSBT_SIGN_H_
