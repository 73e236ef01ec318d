// kinkod's configuration: one TOML file (doc/coordinator-api.md "Configuration",
// doc/deployment.md has a full example). Read once at start-up; everything is checked before
// the daemon serves.
//
//   listen = "127.0.0.1:8080"           # host:port
//   instance = "kinkod-1"               # names this instance's leases (default: host name + pid)
//   clients = ["<64 hex Ed25519 public key>", ...]  # may call the API (besides every key the
//                                                   # wallets' policies name)
//   operators = ["<64 hex Ed25519 public key>"]     # may also import coins and execute intents
//   [storage]
//   backend = "sqlite"                  # or "postgres"
//   path = "/var/lib/kinkod/kinkod.db"  # sqlite
//   url = "postgresql://kinkod@/kinkod" # postgres (libpq connection string)
//   [chain]
//   backend = "offline"                 # or "bitcoin-core"
//   export_dir = "/var/lib/kinkod/out"  # offline: final transactions written here
//   rpc_url = "http://127.0.0.1:8332"   # bitcoin-core
//   rpc_cookie_file = "/var/lib/bitcoind/.cookie"   # or rpc_user + rpc_password_file
//   [[wallet]]
//   id = "treasury-hot"
//   network = "regtest"
//   descriptor = "wsh(multi(2,...<0;1>/*,...))"
//   policy_file = "policy.bin"          # the signed policy in force (to show missing approvals)
//   threshold = 2                       # signatures needed (m of the descriptor)
//   batching = true
//   max_inputs = 100
//   fee_rate_floor = 1000               # sat/kvB
//   fee_rate_ceiling = 100000
//   fee_rate_fallback = 2000            # when the backend has no estimate
//   confirmation_target = 6
//   min_confirmations = 1               # coins selected only with this many
//   [[wallet.signer]]
//   url = "http://10.0.0.11:7443"
//   id = "<64 hex signer identity key id>"
//   ca_cert = ""                        # PEM for https
//
// Thread-safe: immutable values.
#ifndef KINKO_COORDINATOR_CONFIG_H_
#define KINKO_COORDINATOR_CONFIG_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "btc/address.h"
#include "crypto/ed25519.h"
#include "policy/identity.h"
#include "util/result.h"

namespace kinko::coordinator {

struct SignerEndpoint {
  std::string url;  // http://host:port or https://host:port
  policy::KeyId id{};
  std::string ca_cert;
};

struct WalletSettings {
  std::string id;
  btc::Network network = btc::Network::kMainnet;
  std::string descriptor;
  std::string policy_file;
  uint32_t threshold = 0;
  std::vector<SignerEndpoint> signers;
  bool batching = true;
  uint32_t max_inputs = 100;
  uint64_t fee_rate_floor = 1000;
  uint64_t fee_rate_ceiling = 100000;
  uint64_t fee_rate_fallback = 2000;
  uint32_t confirmation_target = 6;
  uint32_t min_confirmations = 1;
  uint32_t change_index_max = 100000;  // As the signers' change_index_max.
};

struct StorageSettings {
  std::string backend = "sqlite";  // "sqlite" or "postgres"
  std::string path;
  std::string url;
};

struct ChainSettings {
  std::string backend = "offline";  // "offline" or "bitcoin-core"
  std::string export_dir;
  std::string rpc_url;
  std::string rpc_cookie_file;
  std::string rpc_user;
  std::string rpc_password_file;
};

struct Config {
  std::string listen = "127.0.0.1:8080";
  std::string instance;
  std::string tls_certificate;
  std::string tls_private_key;
  std::vector<crypto::Ed25519PublicKey> clients;
  std::vector<crypto::Ed25519PublicKey> operators;
  StorageSettings storage;
  ChainSettings chain;
  std::vector<WalletSettings> wallets;
};

// Parses and checks the TOML text of a configuration; relative paths are resolved against
// `base_dir`. Fails with kInvalidArgument "config:LINE: KEY: problem" for a syntax error, an
// unknown key, a wrong type, a missing required key, a bad URL, key id or network, a threshold
// of 0 or above the number of signers, duplicate wallet ids, or floor > ceiling.
util::Result<Config> ParseConfig(std::string_view toml_text, std::string_view base_dir);

// Reads and parses the file at `path` (kNotFound when missing).
util::Result<Config> LoadConfig(const std::string& path);

}  // namespace kinko::coordinator

#endif  // KINKO_COORDINATOR_CONFIG_H_
