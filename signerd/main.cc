// kinko-signer: the signer daemon (doc/signer-daemon.md).
//
//   kinko-signer keygen  makes the signer's keys in a new state directory;
//   kinko-signer init    pins the wallet, the governance keys and the first policy;
//   kinko-signer run     serves the signer API (doc/signer-api.md) until SIGTERM or SIGINT;
//   kinko-signer status  prints the pinned configuration and the audit head (read-only).
//
// Answers are JSON on stdout; errors go to stderr; `run` logs one JSON line per event to
// stderr. Exit status: 0 success, 1 refused or failed, 2 usage. Passphrases and PINs are read
// from file descriptors only, never from arguments or the environment.
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "btc/address.h"
#include "btc/bip32.h"
#include "btc/psbt.h"
#include "crypto/rng.h"
#include "crypto/secp256k1.h"
#include "net/http_server.h"
#include "policy/identity.h"
#include "signerapi/audit_codec.h"
#include "signerd/memory_lock.h"
#include "signerd/secret_input.h"
#include "signerd/service.h"
#include "signerd/setup.h"
#include "signerd/state_store.h"
#include "util/hex.h"

namespace kinko::signerd {
namespace {

using Json = nlohmann::ordered_json;

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

int Fail(const util::Status& status) {
  std::fprintf(stderr, "kinko-signer: error: %s\n", status.message().c_str());
  return kExitFailed;
}

int Print(const Json& out) {
  const std::string text = out.dump(2, ' ', true, Json::error_handler_t::replace) + "\n";
  if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() || std::fflush(stdout) != 0) {
    std::fputs("kinko-signer: error: cannot write to stdout\n", stderr);
    return kExitFailed;
  }
  return kExitOk;
}

// One JSON line on stderr: {"time": ..., "event": ..., fields...}. Never given a secret.
void Log(const std::string& event, Json fields = Json::object()) {
  Json line;
  line["time"] = static_cast<uint64_t>(std::time(nullptr));
  line["event"] = event;
  for (auto& [name, value] : fields.items()) line[name] = value;
  const std::string text = line.dump(-1, ' ', true, Json::error_handler_t::replace) + "\n";
  std::fwrite(text.data(), 1, text.size(), stderr);
  std::fflush(stderr);
}

// A key id as `kinko key new --ed25519` prints it: 64 lowercase hex characters.
util::Result<policy::KeyId> ParseKeyId(const std::string& text, std::string_view what) {
  util::Result<std::vector<uint8_t>> bytes = util::HexDecodeExact(text, 32);
  if (!bytes.ok() || util::HexEncode(*bytes) != text) {
    return util::InvalidArgumentError(std::string(what) + ": '" + text.substr(0, 80) +
                                      "' is not a key id (64 lowercase hex characters)");
  }
  policy::KeyId id{};
  std::copy(bytes->begin(), bytes->end(), id.begin());
  return id;
}

util::Result<std::vector<policy::KeyId>> ParseKeyIds(const std::vector<std::string>& texts,
                                                     std::string_view what) {
  std::vector<policy::KeyId> ids;
  for (const std::string& text : texts) {
    util::Result<policy::KeyId> id = ParseKeyId(text, what);
    if (!id.ok()) return id.status();
    ids.push_back(*id);
  }
  return ids;
}

util::Result<std::optional<TokenPin>> ReadPin(int pin_fd) {
  if (pin_fd < 0) return std::optional<TokenPin>();
  util::Result<TokenPin> pin = TokenPin::ReadFromFd(pin_fd);
  if (!pin.ok()) return pin.status().WithPrefix("--pin-fd");
  return std::optional<TokenPin>(std::move(*pin));
}

util::Result<std::vector<uint8_t>> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return util::NotFoundError(path + ": cannot open");
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
  if (in.bad()) return util::UnavailableError(path + ": read error");
  return bytes;
}

Json KeygenJson(const KeygenResult& result) {
  Json out;
  out["descriptor_key"] = result.descriptor_key;
  out["signer_id"] = util::HexEncode(result.signer_id);
  out["identity_public_key"] = util::HexEncode(result.identity_public_key);
  return out;
}

// --- keygen ---

struct KeygenArgs {
  std::string dir;
  std::string network;
  std::string key_backend = "file";
  std::string account_path;
  std::string pkcs11_module;
  std::string pkcs11_token;
  std::string pkcs11_key_label;
  int passphrase_fd = -1;
  int pin_fd = -1;
  uint32_t kdf_memory_kib = crypto::KdfParams{}.memory_kib;
  uint32_t kdf_passes = crypto::KdfParams{}.passes;
};

int RunKeygen(const KeygenArgs& args) {
  KeygenOptions options;
  options.dir = args.dir;
  util::Result<btc::Network> network = btc::ParseNetwork(args.network);
  if (!network.ok()) return Fail(network.status().WithPrefix("--network"));
  options.network = *network;
  options.key_backend = args.key_backend;
  if (!args.account_path.empty()) {
    util::Result<btc::KeyPath> path = btc::KeyPath::Parse(args.account_path);
    if (!path.ok()) return Fail(path.status().WithPrefix("--account-path"));
    options.account_path = *path;
  }
  options.pkcs11_module = args.pkcs11_module;
  options.pkcs11_token_label = args.pkcs11_token;
  options.pkcs11_key_label = args.pkcs11_key_label;
  options.kdf = crypto::KdfParams{.passes = args.kdf_passes, .memory_kib = args.kdf_memory_kib};
  util::Result<crypto::SecretBytes> passphrase = ReadPassphraseFromFd(args.passphrase_fd);
  if (!passphrase.ok()) return Fail(passphrase.status().WithPrefix("--passphrase-fd"));
  util::Result<std::optional<TokenPin>> pin = ReadPin(args.pin_fd);
  if (!pin.ok()) return Fail(pin.status());
  crypto::SystemRng rng;
  const crypto::Secp256k1Context ctx = crypto::Secp256k1Context::Create(rng);
  util::Result<KeygenResult> result = Keygen(ctx, options, *passphrase, *pin, rng);
  if (!result.ok()) return Fail(result.status());
  return Print(KeygenJson(*result));
}

// --- init ---

struct InitArgs {
  std::string dir;
  std::string wallet_id;
  std::string descriptor;
  std::string policy_file;
  std::vector<std::string> governance;
  uint32_t threshold = 0;
  std::vector<std::string> watchers;
  uint32_t receive_index_max = InitOptions{}.receive_index_max;
  uint32_t change_index_max = InitOptions{}.change_index_max;
  int passphrase_fd = -1;
  int pin_fd = -1;
};

int RunInit(const InitArgs& args) {
  InitOptions options;
  options.dir = args.dir;
  options.wallet_id = args.wallet_id;
  options.descriptor = args.descriptor;
  options.receive_index_max = args.receive_index_max;
  options.change_index_max = args.change_index_max;
  util::Result<std::vector<policy::KeyId>> admins = ParseKeyIds(args.governance, "--governance");
  if (!admins.ok()) return Fail(admins.status());
  options.governance_admins = std::move(*admins);
  options.governance_threshold = args.threshold;
  util::Result<std::vector<policy::KeyId>> watchers = ParseKeyIds(args.watchers, "--watcher");
  if (!watchers.ok()) return Fail(watchers.status());
  options.watchers = std::move(*watchers);
  util::Result<std::vector<uint8_t>> policy = ReadFile(args.policy_file);
  if (!policy.ok()) return Fail(policy.status());
  options.first_policy = std::move(*policy);
  options.now = static_cast<uint64_t>(std::time(nullptr));
  util::Result<crypto::SecretBytes> passphrase = ReadPassphraseFromFd(args.passphrase_fd);
  if (!passphrase.ok()) return Fail(passphrase.status().WithPrefix("--passphrase-fd"));
  util::Result<std::optional<TokenPin>> pin = ReadPin(args.pin_fd);
  if (!pin.ok()) return Fail(pin.status());
  crypto::SystemRng rng;
  const crypto::Secp256k1Context ctx = crypto::Secp256k1Context::Create(rng);
  util::Result<KeygenResult> result = Init(ctx, options, *passphrase, *pin);
  if (!result.ok()) return Fail(result.status());
  Json out = KeygenJson(*result);
  out["wallet_id"] = args.wallet_id;
  out["state_database"] = args.dir + "/" + std::string(kStateDatabaseFile);
  return Print(out);
}

// --- run ---

struct RunArgs {
  std::string dir;
  std::string listen;
  std::string tls_cert;
  std::string tls_key;
  std::string port_file;
  int passphrase_fd = -1;
  int pin_fd = -1;
};

// "HOST:PORT" (the host may be a bracketed IPv6 address).
util::Result<std::pair<std::string, uint16_t>> ParseListen(const std::string& text) {
  const size_t colon = text.rfind(':');
  const auto bad = [&] {
    return util::InvalidArgumentError("--listen: '" + text.substr(0, 80) +
                                      "' is not HOST:PORT (e.g. 127.0.0.1:8443)");
  };
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) return bad();
  std::string host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const std::string port_text = text.substr(colon + 1);
  if (port_text.size() > 5) return bad();
  uint32_t port = 0;
  for (char c : port_text) {
    if (c < '0' || c > '9') return bad();
    port = port * 10 + static_cast<uint32_t>(c - '0');
  }
  if (port > 65535) return bad();
  return std::make_pair(host, static_cast<uint16_t>(port));
}

// Writes `port` to `path` through a temporary file and a rename, so that a reader never sees
// a partial number.
util::Status WritePortFile(const std::string& path, uint16_t port) {
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << port << "\n";
    if (!out.good()) return util::UnavailableError(temporary + ": cannot write");
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    std::remove(temporary.c_str());
    return util::UnavailableError(path + ": cannot write");
  }
  return util::OkStatus();
}

int RunServe(const RunArgs& args) {
  // SIGTERM and SIGINT are taken by a thread of their own (sigwait), never by a handler: block
  // them before any other thread exists, so every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  if (pthread_sigmask(SIG_BLOCK, &signals, nullptr) != 0) {
    return Fail(util::UnavailableError("cannot block SIGTERM and SIGINT"));
  }
  // A peer that closes its connection must not kill the daemon: writes to it fail with EPIPE
  // instead (TLS writes go through OpenSSL, which does not ask the kernel to suppress SIGPIPE).
  std::signal(SIGPIPE, SIG_IGN);
  util::Result<std::pair<std::string, uint16_t>> listen = ParseListen(args.listen);
  if (!listen.ok()) return Fail(listen.status());

  Log("start", Json{{"software", std::string(kSignerSoftware)}, {"dir", args.dir}});
  if (util::Status locked = LockProcessMemory(); !locked.ok()) {
    Log("warning", Json{{"what", "memory not locked"}, {"reason", locked.message()}});
  }

  util::Result<crypto::SecretBytes> passphrase = ReadPassphraseFromFd(args.passphrase_fd);
  if (!passphrase.ok()) return Fail(passphrase.status().WithPrefix("--passphrase-fd"));
  util::Result<std::optional<TokenPin>> pin = ReadPin(args.pin_fd);
  if (!pin.ok()) return Fail(pin.status());
  ServiceOptions options{.dir = args.dir,
                         .passphrase = std::move(*passphrase),
                         .pin = std::move(*pin),
                         .clock = nullptr};
  util::Result<std::unique_ptr<SignerService>> service = SignerService::Open(std::move(options));
  if (!service.ok()) return Fail(service.status());

  util::Result<std::unique_ptr<net::HttpServer>> server =
      net::HttpServer::Create(**service, net::HttpServerOptions{.host = listen->first,
                                                                .port = listen->second,
                                                                .tls_certificate = args.tls_cert,
                                                                .tls_private_key = args.tls_key});
  if (!server.ok()) return Fail(server.status());
  if (!args.port_file.empty()) {
    if (util::Status s = WritePortFile(args.port_file, (*server)->port()); !s.ok()) return Fail(s);
  }
  Log("listening",
      Json{{"host", listen->first}, {"port", (*server)->port()}, {"tls", !args.tls_cert.empty()}});

  net::HttpServer& http = **server;
  std::atomic<int> received{0};
  std::thread signal_thread([&] {
    int signal_number = 0;
    if (sigwait(&signals, &signal_number) == 0) received = signal_number;
    http.Stop();
  });
  const util::Status served = http.Run();
  // Wakes the signal thread if Run ended on its own (the signal is blocked, so sigwait takes it).
  if (received == 0) pthread_kill(signal_thread.native_handle(), SIGTERM);
  signal_thread.join();
  if (!served.ok()) {
    Log("stop", Json{{"error", served.message()}});
    return Fail(served);
  }
  Log("stop", Json{{"signal", received == SIGINT ? "SIGINT" : "SIGTERM"}});
  return kExitOk;
}

// --- status ---

Json KeyIdsJson(const std::vector<policy::KeyId>& ids) {
  Json out = Json::array();
  for (const policy::KeyId& id : ids) out.push_back(util::HexEncode(id));
  return out;
}

int RunStatus(const std::string& dir) {
  util::Result<StateStore> store =
      StateStore::OpenReadOnly(dir + "/" + std::string(kStateDatabaseFile));
  if (!store.ok()) return Fail(store.status());
  util::Result<LoadedState> loaded = store->Load();
  if (!loaded.ok()) return Fail(loaded.status());
  const PinnedConfig& config = loaded->config;
  Json out;
  out["wallet_id"] = config.wallet_id;
  out["network"] = std::string(btc::NetworkName(config.network));
  out["descriptor"] = config.descriptor;
  out["receive_index_max"] = config.receive_index_max;
  out["change_index_max"] = config.change_index_max;
  out["governance_admins"] = KeyIdsJson(config.governance_admins);
  out["governance_threshold"] = config.governance_threshold;
  out["watchers"] = KeyIdsJson(config.watchers);
  out["signer_id"] = util::HexEncode(policy::Ed25519KeyId(config.identity_public_key));
  out["identity_public_key"] = util::HexEncode(config.identity_public_key);
  out["key_backend"] = config.key_backend;
  if (config.key_backend == "pkcs11") {
    out["pkcs11_module"] = config.pkcs11_module;
    out["pkcs11_token_label"] = config.pkcs11_token_label;
    out["pkcs11_key_label"] = config.pkcs11_key_label;
  } else {
    out["key_file"] = config.key_file;
  }
  out["created_at"] = config.created_at;
  const policy::SignedPolicy& active = loaded->state.governance.active;
  out["policy"] = Json{{"sequence", active.policy().fields().sequence},
                       {"digest", util::HexEncode(active.policy().digest())}};
  out["frozen"] = loaded->state.frozen();
  signerapi::AuditHead head{
      .tree_size = loaded->log.size(), .root_hash = loaded->log.Root(), .signed_tree_head = {}};
  if (loaded->latest_head && loaded->latest_head->head().size == head.tree_size) {
    head.signed_tree_head = loaded->latest_head->Encode();
  }
  out["audit"] = Json::parse(signerapi::EncodeAuditHead(head));
  return Print(out);
}

int MainOrThrow(int argc, char** argv) {
  CLI::App app(
      "kinko-signer: the signer daemon. keygen and init set up a state directory; run serves\n"
      "the signer API. Exit status: 0 success, 1 refused or failed, 2 usage.",
      "kinko-signer");
  app.require_subcommand(1);
  app.failure_message([](const CLI::App*, const CLI::Error& e) {
    return "kinko-signer: error: " + std::string(e.what()) +
           "\nRun with --help for more information.\n";
  });
  std::function<int()> action;

  KeygenArgs keygen;
  CLI::App* keygen_cmd = app.add_subcommand(
      "keygen",
      "Make the signer's identity key and wallet key in a new state directory; prints "
      "{descriptor_key, signer_id, identity_public_key}");
  keygen_cmd->add_option("--dir", keygen.dir, "The state directory (created, mode 0700)")
      ->required();
  keygen_cmd->add_option("--network", keygen.network, "main, test, signet or regtest")->required();
  keygen_cmd->add_option("--key-backend", keygen.key_backend, "file (default) or pkcs11")
      ->check(CLI::IsMember({"file", "pkcs11"}));
  keygen_cmd->add_option("--account-path", keygen.account_path,
                         "The file key's account path (default m/48'/coin'/0'/2')");
  keygen_cmd->add_option("--pkcs11-module", keygen.pkcs11_module, "PKCS#11 module path");
  keygen_cmd->add_option("--pkcs11-token", keygen.pkcs11_token, "PKCS#11 token label");
  keygen_cmd->add_option("--pkcs11-key-label", keygen.pkcs11_key_label, "PKCS#11 key label");
  keygen_cmd
      ->add_option("--passphrase-fd", keygen.passphrase_fd,
                   "Read the key files' passphrase from this file descriptor")
      ->required();
  keygen_cmd->add_option("--pin-fd", keygen.pin_fd, "Read the PKCS#11 user PIN from this fd");
  keygen_cmd->add_option("--kdf-memory-kib", keygen.kdf_memory_kib, "Argon2id memory (KiB)");
  keygen_cmd->add_option("--kdf-passes", keygen.kdf_passes, "Argon2id passes");
  keygen_cmd->callback([&] { action = [&] { return RunKeygen(keygen); }; });

  InitArgs init;
  CLI::App* init_cmd = app.add_subcommand(
      "init",
      "Pin the wallet, the governance keys and the first policy in a state directory "
      "made by keygen");
  init_cmd->add_option("--dir", init.dir, "The state directory")->required();
  init_cmd->add_option("--wallet-id", init.wallet_id, "The wallet id the policy names")->required();
  init_cmd
      ->add_option("--wallet", init.descriptor,
                   "The public multipath descriptor (<0;1>/*) with this signer's key")
      ->required();
  init_cmd->add_option("--policy", init.policy_file, "The first policy, signed (kinko policy sign)")
      ->required();
  init_cmd
      ->add_option("--governance", init.governance,
                   "Governance (admin) key ids, 64 lowercase hex characters each")
      ->required();
  init_cmd->add_option("--threshold", init.threshold, "Admin signatures a policy needs")
      ->required();
  init_cmd->add_option("--watcher", init.watchers, "Key ids that may freeze this signer");
  init_cmd->add_option("--receive-index-max", init.receive_index_max,
                       "Highest receive address index accepted");
  init_cmd->add_option("--change-index-max", init.change_index_max,
                       "Highest change address index accepted");
  init_cmd
      ->add_option("--passphrase-fd", init.passphrase_fd,
                   "Read the key files' passphrase from this file descriptor")
      ->required();
  init_cmd->add_option("--pin-fd", init.pin_fd, "Read the PKCS#11 user PIN from this fd");
  init_cmd->callback([&] { action = [&] { return RunInit(init); }; });

  RunArgs run;
  CLI::App* run_cmd = app.add_subcommand("run", "Serve the signer API until SIGTERM or SIGINT");
  run_cmd->add_option("--dir", run.dir, "The state directory")->required();
  run_cmd->add_option("--listen", run.listen, "HOST:PORT to listen on (port 0: any free port)")
      ->required();
  run_cmd->add_option("--tls-cert", run.tls_cert, "TLS certificate chain (PEM)");
  run_cmd->add_option("--tls-key", run.tls_key, "TLS private key (PEM)");
  run_cmd
      ->add_option("--passphrase-fd", run.passphrase_fd,
                   "Read the key files' passphrase from this file descriptor")
      ->required();
  run_cmd->add_option("--pin-fd", run.pin_fd, "Read the PKCS#11 user PIN from this fd");
  run_cmd->add_option("--port-file", run.port_file, "Write the bound port to this file");
  run_cmd->callback([&] { action = [&] { return RunServe(run); }; });

  std::string status_dir;
  CLI::App* status_cmd =
      app.add_subcommand("status", "Print the pinned configuration and the audit head (read-only)");
  status_cmd->add_option("--dir", status_dir, "The state directory")->required();
  status_cmd->callback([&] { action = [&] { return RunStatus(status_dir); }; });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  }
  if (!action) return kExitUsage;
  return action();
}

}  // namespace
}  // namespace kinko::signerd

int main(int argc, char** argv) {
  // No exception may escape: CLI11 and nlohmann throw, and our own code does not.
  try {
    return kinko::signerd::MainOrThrow(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kinko-signer: internal error: %s\n", e.what());
  } catch (...) {
    std::fputs("kinko-signer: internal error\n", stderr);
  }
  return 1;
}
