// The "file" key backend: the signer's BIP32 extended private key (an account key, such as
// m/48'/0'/0'/2' of a fresh seed) in a file encrypted under a passphrase with Argon2id and
// XChaCha20-Poly1305 (crypto::Secp256k1KeyFile, scheme 0x02). The file's public info, in the
// clear and authenticated, is the key as the wallet descriptor names it:
// "[<master fingerprint>/<account path>]<xpub>". doc/key-backends.md describes the backend.
//
// The passphrase is read from a file descriptor (signerd/secret_input.h), never from argv. The
// decrypted key lives only in crypto::PrivateKey objects (wiped when destroyed); LockProcessMemory
// (signerd/memory_lock.h) keeps it out of swap.
//
// Thread-safe: a FileKey is immutable once opened.
#ifndef KINKO_SIGNERD_FILE_KEY_H_
#define KINKO_SIGNERD_FILE_KEY_H_

#include <string>
#include <string_view>

#include "btc/address.h"
#include "btc/bip32.h"
#include "btc/psbt_sign.h"
#include "crypto/keyfile.h"
#include "crypto/rng.h"
#include "crypto/secp256k1.h"
#include "crypto/secret.h"
#include "signerd/key_backend.h"
#include "util/result.h"

namespace kinko::signerd {

struct FileKeyOptions {
  btc::Network network = btc::Network::kMainnet;
  // The account path below the fresh master key, e.g. m/48'/0'/0'/2' (BIP48, P2WSH).
  btc::KeyPath account_path;
  crypto::KdfParams kdf;
  // The key file's label (crypto/keyfile.h: 1..64 characters of [A-Za-z0-9._@-]).
  std::string label = "kinko-signer";
};

// An extended private key loaded from its key file. Movable, not copyable.
class FileKey final : public KeyBackend {
 public:
  // Makes a fresh master key from 32 bytes of `rng`, derives `options.account_path` from it
  // and writes the account key, encrypted under `passphrase`, to the new file `path` with
  // permissions 0600. The master seed is not kept: the file is the only copy of the key.
  // Never replaces an existing file. Returns the opened key. Fails with kAlreadyExists when
  // `path` exists; kInvalidArgument for a bad label, KDF parameters or empty passphrase, or an
  // account path too deep; kUnavailable when the file cannot be written (nothing is left
  // behind) or Argon2id cannot run.
  static util::Result<FileKey> Generate(const crypto::Secp256k1Context& ctx,
                                        const std::string& path,
                                        const crypto::SecretBytes& passphrase, crypto::Rng& rng,
                                        const FileKeyOptions& options);

  // Reads and decrypts the key file `path`. Fails with kNotFound when it cannot be opened;
  // kInvalidArgument when it is not a secp256k1 key file (the message names the field) or its
  // public info is not "[origin]xpub"; kPermissionDenied "key file <path>: wrong passphrase or
  // corrupted file" (no key material in any message); kDataLoss when the fields disagree (the
  // xpub is not the file's public key, or its depth or child number is not its origin's).
  static util::Result<FileKey> Open(const crypto::Secp256k1Context& ctx, const std::string& path,
                                    const crypto::SecretBytes& passphrase);

  FileKey(FileKey&&) noexcept = default;
  FileKey& operator=(FileKey&&) noexcept = default;
  FileKey(const FileKey&) = delete;
  FileKey& operator=(const FileKey&) = delete;

  std::string_view kind() const override { return "file"; }
  // "[d34db33f/48'/0'/0'/2']xpub...": the file's public info.
  std::string descriptor_key() const override;
  bool can_sign_taproot() const override { return true; }
  // Adds a copy of the extended key with its origin. Always OK.
  util::Status AddTo(btc::PsbtSigningKeys& keys) const override;

  const btc::KeyOrigin& origin() const { return origin_; }
  // The account's public extended key (xpub/tpub).
  const btc::ExtendedKey& xpub() const { return xpub_; }

 private:
  FileKey(btc::ExtendedKey key, btc::ExtendedKey xpub, btc::KeyOrigin origin)
      : key_(std::move(key)), xpub_(std::move(xpub)), origin_(std::move(origin)) {}

  btc::ExtendedKey key_;  // Private.
  btc::ExtendedKey xpub_;
  btc::KeyOrigin origin_;
};

}  // namespace kinko::signerd

#endif  // KINKO_SIGNERD_FILE_KEY_H_
