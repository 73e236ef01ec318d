// The "pkcs11" key backend: a secp256k1 key pair generated inside a PKCS#11 token (an HSM, or
// SoftHSM2 in tests), sensitive and not extractable, that signs through CKM_ECDSA. The module
// is loaded with dlopen from the configured path (e.g. /usr/lib/softhsm/libsofthsm2.so);
// kinko uses p11-kit's <p11-kit/pkcs11.h> for the definitions only. doc/key-backends.md
// describes the backend and how to set up a token.
//
// The token returns r || s; kinko normalises S to the low half (BIP146), encodes DER (BIP66)
// and verifies the signature with libsecp256k1 before returning it. PKCS#11 has no BIP340
// Schnorr mechanism, so this backend cannot sign taproot inputs.
//
// Errors name the PKCS#11 function and return value: "pkcs11: C_Login: CKR_PIN_INCORRECT". The
// PIN is never logged nor put in a message.
//
// Thread-safe: a Pkcs11Key may sign from several threads (one session, calls serialised by a
// mutex); modules are initialised with CKF_OS_LOCKING_OK.
#ifndef KINKO_SIGNERD_PKCS11_KEY_H_
#define KINKO_SIGNERD_PKCS11_KEY_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "btc/psbt_sign.h"
#include "crypto/hash.h"
#include "crypto/secp256k1.h"
#include "signerd/key_backend.h"
#include "signerd/secret_input.h"
#include "util/result.h"

struct ck_function_list;  // <p11-kit/pkcs11.h>, included by pkcs11_key.cc only.

namespace kinko::signerd {

// A PKCS#11 module loaded and initialised in this process. A module may be initialised once per
// process, so load it once and share it between keys. Neither copyable nor movable; shared by
// std::shared_ptr.
class Pkcs11Module final {
 public:
  // Loads the module at `path` (dlopen) and initialises it (C_Initialize with
  // CKF_OS_LOCKING_OK). Fails with kNotFound when the library cannot be loaded or has no
  // C_GetFunctionList; kFailedPrecondition when the module is already initialised in this
  // process (C_Initialize: CKR_CRYPTOKI_ALREADY_INITIALIZED); kUnavailable naming the CKR_ code
  // for other PKCS#11 errors.
  static util::Result<std::shared_ptr<const Pkcs11Module>> Load(const std::string& path);

  // C_Finalize, then dlclose. Every session of this module must be gone (keys hold a
  // shared_ptr to their module, so this holds).
  ~Pkcs11Module();
  Pkcs11Module(const Pkcs11Module&) = delete;
  Pkcs11Module& operator=(const Pkcs11Module&) = delete;

  const ck_function_list& functions() const { return *functions_; }

 private:
  Pkcs11Module(void* library, const ck_function_list* functions)
      : library_(library), functions_(functions) {}
  void* library_;
  const ck_function_list* functions_;
};

// Which key on which token.
struct Pkcs11KeyConfig {
  std::string token_label;  // CKA token label (at most 32 bytes), e.g. "kinko-signer-1".
  std::string key_label;    // CKA_LABEL (and CKA_ID) of the key pair, e.g. "wallet-key".
};

class Pkcs11Session;  // The logged-in session and key handles; defined in pkcs11_key.cc.

// A secp256k1 key in a PKCS#11 token. Movable and copyable (copies share one session).
class Pkcs11Key final : public KeyBackend {
 public:
  // Opens a session on the token labelled `config.token_label`, logs in with `pin` and
  // generates a secp256k1 key pair (CKM_EC_KEY_PAIR_GEN) labelled `config.key_label`: token
  // objects, private key sensitive, not extractable, for signing only. Then works as Open.
  // Fails with kAlreadyExists when a private key with that label exists on the token, and
  // otherwise as Open.
  static util::Result<Pkcs11Key> Generate(const crypto::Secp256k1Context& ctx,
                                          std::shared_ptr<const Pkcs11Module> module,
                                          const Pkcs11KeyConfig& config, const TokenPin& pin);

  // Opens a session on the token, logs in with `pin`, finds the key pair labelled
  // `config.key_label`, checks it (a secp256k1 EC key, sensitive, not extractable) and signs a
  // test digest to check that the private key matches the public key.
  // Fails with: kNotFound when no token or key pair has the label; kFailedPrecondition when
  // several do, or the key is not secp256k1, is extractable or not sensitive;
  // kPermissionDenied for a refused PIN ("pkcs11: C_Login: CKR_PIN_INCORRECT"); kDataLoss when
  // CKA_EC_POINT cannot be parsed or the private key does not sign for it; kUnavailable
  // naming the function and CKR_ code for other PKCS#11 errors.
  // `ctx` must outlive the returned key.
  static util::Result<Pkcs11Key> Open(const crypto::Secp256k1Context& ctx,
                                      std::shared_ptr<const Pkcs11Module> module,
                                      const Pkcs11KeyConfig& config, const TokenPin& pin);

  std::string_view kind() const override { return "pkcs11"; }
  // The hex compressed public key.
  std::string descriptor_key() const override;
  bool can_sign_taproot() const override { return false; }
  // Adds the key as an external ECDSA key (btc::PsbtSigningKeys::AddExternalKey). Always OK.
  util::Status AddTo(btc::PsbtSigningKeys& keys) const override;

  // The compressed public key.
  const crypto::PublicKey& public_key() const;

  // Signs `digest` in the token (CKM_ECDSA) and returns the DER signature with low S, after
  // verifying it with libsecp256k1. Fails with kUnavailable (or kPermissionDenied, e.g.
  // CKR_USER_NOT_LOGGED_IN) naming the function and CKR_ code when the token refuses; with
  // kInternal when the token returns a signature that is malformed or does not verify.
  util::Result<std::vector<uint8_t>> SignDigest(const crypto::Hash256Bytes& digest) const;

 private:
  explicit Pkcs11Key(std::shared_ptr<const Pkcs11Session> session) : session_(std::move(session)) {}
  // Open, after generating the key pair first when `generate`.
  static util::Result<Pkcs11Key> Create(const crypto::Secp256k1Context& ctx,
                                        std::shared_ptr<const Pkcs11Module> module,
                                        const Pkcs11KeyConfig& config, const TokenPin& pin,
                                        bool generate);
  std::shared_ptr<const Pkcs11Session> session_;
};

}  // namespace kinko::signerd

#endif  // KINKO_SIGNERD_PKCS11_KEY_H_
