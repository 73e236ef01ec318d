// Setting up a signer's state directory (`kinko-signer keygen` and `kinko-signer init`,
// doc/signer-daemon.md "Key ceremony"):
//
//   1. Keygen makes the signer's keys in a new directory: its Ed25519 identity key
//      (`identity.key`, a crypto::KeyFile under the passphrase; its key id is the signer id and
//      it signs the audit log's tree heads) and its wallet key: a file key (`signing.key`,
//      signerd/file_key.h) or a key pair generated in a PKCS#11 token (signerd/pkcs11_key.h),
//      recorded in `backend.json`. It returns the key as a wallet descriptor names it.
//   2. The operators build the wallet descriptor from every signer's key and sign the first
//      policy with the admin keys (`kinko policy sign`).
//   3. Init pins, in a new `signer.db` (signerd/state_store.h): the wallet, the governance keys
//      and threshold, the watchers, the index bounds and the first policy, which must be signed
//      by the threshold of those keys (policy::Install) and name the wallet. The descriptor must
//      contain this signer's key.
//
// Files are created with mode 0600 (the directory 0700) and never replaced; a step that fails
// leaves nothing behind that a retry would trip on.
//
// Thread-safe: no shared state; one process per directory.
#ifndef KINKO_SIGNERD_SETUP_H_
#define KINKO_SIGNERD_SETUP_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "btc/address.h"
#include "btc/bip32.h"
#include "crypto/keyfile.h"
#include "crypto/rng.h"
#include "crypto/secp256k1.h"
#include "crypto/secret.h"
#include "policy/identity.h"
#include "policy/policy.h"
#include "signerd/key_backend.h"
#include "signerd/secret_input.h"
#include "util/result.h"

namespace kinko::signerd {

// File names inside a state directory. DO NOT CHANGE: operators' backups name them.
inline constexpr std::string_view kIdentityKeyFile = "identity.key";
inline constexpr std::string_view kSigningKeyFile = "signing.key";
inline constexpr std::string_view kBackendFile = "backend.json";
inline constexpr std::string_view kStateDatabaseFile = "signer.db";

struct KeygenOptions {
  std::string dir;  // Created (mode 0700); must not exist, or be an empty directory.
  btc::Network network = btc::Network::kMainnet;
  std::string key_backend = "file";  // "file" or "pkcs11".
  // The file backend's account path (default m/48'/coin'/0'/2', BIP48 P2WSH, coin 0 on
  // mainnet and 1 elsewhere).
  std::optional<btc::KeyPath> account_path;
  // The pkcs11 backend: module path, token label, key label.
  std::string pkcs11_module;
  std::string pkcs11_token_label;
  std::string pkcs11_key_label;
  crypto::KdfParams kdf;  // For both key files.
};

struct KeygenResult {
  // The wallet key as a descriptor names it ("[fingerprint/48'/1'/0'/2']tpub..." or the hex
  // public key of a PKCS#11 key).
  std::string descriptor_key;
  crypto::Ed25519PublicKey identity_public_key{};
  policy::KeyId signer_id{};  // policy::Ed25519KeyId(identity_public_key).
};

// Makes the keys (file comment, step 1). Fails with kAlreadyExists when `dir` exists and is not
// empty, kInvalidArgument for an unknown backend or missing pkcs11 settings, and with the key
// backends' errors (kPermissionDenied for a refused PIN, kAlreadyExists for a key label taken on
// the token, kUnavailable for I/O).
util::Result<KeygenResult> Keygen(const crypto::Secp256k1Context& ctx, const KeygenOptions& options,
                                  const crypto::SecretBytes& passphrase,
                                  const std::optional<TokenPin>& pin, crypto::Rng& rng);

struct InitOptions {
  std::string dir;  // Made by Keygen.
  std::string wallet_id;
  std::string descriptor;  // Public multipath descriptor <0;1>, containing this signer's key.
  uint32_t receive_index_max = 100000;
  uint32_t change_index_max = 100000;
  std::vector<policy::KeyId> governance_admins;
  uint32_t governance_threshold = 0;
  std::vector<policy::KeyId> watchers;
  std::vector<uint8_t> first_policy;  // An encoded policy::SignedPolicy.
  uint64_t now = 0;
};

// Pins the wallet and the first policy (file comment, step 3) and writes the state database
// with its first audit entries (start-up and policy change) and signed tree head. Fails with
// kNotFound when `dir` has no keys; kAlreadyExists when it has a state database; kPermissionDenied
// for a wrong passphrase or too few admin signatures on the policy; kInvalidArgument when the
// descriptor does not parse for the network, is not a <receive;change> descriptor
// (signer::WalletConfig::Create), does not contain this signer's key, the policy does not decode
// or is for another network, or a key list has duplicates; kFailedPrecondition when the wallet
// uses taproot and the backend is pkcs11.
util::Result<KeygenResult> Init(const crypto::Secp256k1Context& ctx, const InitOptions& options,
                                const crypto::SecretBytes& passphrase,
                                const std::optional<TokenPin>& pin);

// How a state directory's wallet key is opened: the backend.json record of keygen, the
// PinnedConfig of the state database.
struct WalletKeySettings {
  std::string key_backend;  // "file" or "pkcs11".
  std::string key_file;     // file: the key file's name in the state directory.
  std::string pkcs11_module;
  std::string pkcs11_token_label;
  std::string pkcs11_key_label;
};

// Opens the wallet key of state directory `dir` (a PKCS#11 key keeps its module loaded while it
// lives). Fails with kInvalidArgument for an unknown backend or a pkcs11 backend without `pin`,
// and with the backends' errors (kNotFound, kPermissionDenied for a wrong passphrase or PIN,
// kUnavailable).
util::Result<std::unique_ptr<KeyBackend>> OpenWalletKey(const crypto::Secp256k1Context& ctx,
                                                        const std::string& dir,
                                                        const WalletKeySettings& settings,
                                                        const crypto::SecretBytes& passphrase,
                                                        const std::optional<TokenPin>& pin);

// True when `descriptor_text` (a descriptor's ToString) names `key` (a
// KeyBackend::descriptor_key: "[origin]xpub" or a hex public key) as a whole key expression:
// the key text delimited on both sides, preceded by the same origin (hardened steps compared as
// written with 'h' or an apostrophe), or by any origin or none for a key given without one.
bool DescriptorNamesKey(std::string_view descriptor_text, std::string_view key);

}  // namespace kinko::signerd

#endif  // KINKO_SIGNERD_SETUP_H_
