// Key backends: where the signer's one key of an m-of-n wallet lives, and how it takes part in
// signing a PSBT. Two backends exist (doc/key-backends.md):
// - "file" (signerd/file_key.h): a BIP32 extended private key in a passphrase-encrypted file,
//   loaded into the process; signs ECDSA and taproot (Schnorr) inputs;
// - "pkcs11" (signerd/pkcs11_key.h): a secp256k1 key that never leaves a PKCS#11 token (an
//   HSM, or SoftHSM2 in tests); signs ECDSA inputs only, since PKCS#11 has no BIP340 Schnorr
//   mechanism.
//
// Thread-safe: the const methods of every backend may be called from several threads.
#ifndef KINKO_SIGNERD_KEY_BACKEND_H_
#define KINKO_SIGNERD_KEY_BACKEND_H_

#include <string>
#include <string_view>

#include "btc/psbt_sign.h"
#include "util/status.h"

namespace kinko::signerd {

// Interface of a key backend. Implementations are final classes in signerd/.
class KeyBackend {
 public:
  virtual ~KeyBackend() = default;

  // "file" or "pkcs11". DO NOT CHANGE: the names appear in signer configurations.
  virtual std::string_view kind() const = 0;

  // The key as the wallet descriptor names it (BIP380 KEY expression, without a derivation
  // suffix): "[d34db33f/48'/0'/0'/2']xpub..." for a file key, the hex compressed public key
  // for a PKCS#11 key (a single key has no BIP32 derivation).
  virtual std::string descriptor_key() const = 0;

  // True when the backend can make BIP340 Schnorr signatures (taproot inputs).
  virtual bool can_sign_taproot() const = 0;

  // Adds this backend's key to `keys`, for btc::SignPsbt. The key stays usable while this
  // backend lives: `keys` may share the backend's device session. Returns OK, or the
  // backend's error (none for the file and PKCS#11 backends today).
  virtual util::Status AddTo(btc::PsbtSigningKeys& keys) const = 0;
};

// Checks, when a signer is configured, that `backend` can sign for a wallet that has taproot
// inputs (`wallet_uses_taproot`). Returns OK, or kFailedPrecondition naming the backend and
// saying that taproot needs the file backend.
util::Status CheckBackendSupportsWallet(const KeyBackend& backend, bool wallet_uses_taproot);

}  // namespace kinko::signerd

#endif  // KINKO_SIGNERD_KEY_BACKEND_H_
