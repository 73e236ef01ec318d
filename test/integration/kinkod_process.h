// Test helpers that run `kinkod run` as a real process next to real `kinko-signer` processes
// (test/signer/signer_process.h, test/signer/signer_setup.h): write its TOML configuration,
// spawn it, wait until it has written its port file, talk to its API over loopback HTTP with
// signed requests (coordinator/api_auth.h), and stop it with SIGTERM or SIGKILL and start it
// again on the same configuration.
//
// The path of the executable comes from the build (KINKOD_BINARY). Failures to start are
// reported as util::Status so that tests can ASSERT on them.
//
// TEST CODE ONLY: every identity key here is the fixture's public one.
//
// Not thread-safe; one owner per KinkodProcess and per KinkodClient (make one client per
// thread), except KinkodProcess::Kill, which another thread may call (the crash test's killer).
#ifndef KINKO_TEST_INTEGRATION_KINKOD_PROCESS_H_
#define KINKO_TEST_INTEGRATION_KINKOD_PROCESS_H_

#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "btc/transaction.h"
#include "coordinator/api_auth.h"
#include "crypto/ed25519.h"
#include "net/http_client.h"
#include "policy/identity.h"
#include "test/signer/signer_process.h"
#include "test/signer/signer_setup.h"
#include "test/support/signer_fixture.h"
#include "util/hex.h"
#include "util/result.h"
#include "util/status.h"

namespace kinko::testing {

// The operator of the tests' coordinators: may import coins and execute intents. The seed is
// outside those of the fixture's actors (0x21..0x2c).
inline crypto::Ed25519PrivateKey OperatorKey() { return TestIdentityKey(0x31); }

// One signer as kinkod's configuration names it.
struct SignerEntry {
  std::string url;
  policy::KeyId id{};
};

// What goes into one kinkod configuration file (coordinator/config.h documents each key).
struct KinkodSettings {
  std::string instance = "kinkod-1";
  std::string storage_backend = "sqlite";  // "sqlite" or "postgres"
  std::string storage_path;                // sqlite
  std::string storage_url;                 // postgres
  std::string chain_backend = "offline";   // "offline" or "bitcoin-core"
  std::string export_dir;                  // offline
  std::string rpc_url;                     // bitcoin-core
  std::string rpc_cookie_file;             // bitcoin-core
  std::string descriptor;
  std::string policy_file;
  uint32_t threshold = 2;
  std::vector<SignerEntry> signers;
  bool batching = true;
  uint32_t max_inputs = 100;
  uint32_t min_confirmations = 1;
  std::vector<crypto::Ed25519PublicKey> operators = {OperatorKey().public_key()};
};

// A TOML basic string: the tests' paths and URLs hold no quote, backslash or control character.
inline std::string TomlString(const std::string& text) { return "\"" + text + "\""; }

// The configuration text of `settings` for wallet kFixtureWalletId on regtest.
inline std::string KinkodConfigToml(const KinkodSettings& settings) {
  std::string toml;
  toml += "listen = \"127.0.0.1:0\"\n";
  toml += "instance = " + TomlString(settings.instance) + "\n";
  toml += "operators = [";
  for (size_t i = 0; i < settings.operators.size(); ++i) {
    if (i > 0) toml += ", ";
    toml += TomlString(util::HexEncode(settings.operators[i]));
  }
  toml += "]\n\n[storage]\n";
  toml += "backend = " + TomlString(settings.storage_backend) + "\n";
  if (settings.storage_backend == "sqlite") {
    toml += "path = " + TomlString(settings.storage_path) + "\n";
  } else {
    toml += "url = " + TomlString(settings.storage_url) + "\n";
  }
  toml += "\n[chain]\n";
  toml += "backend = " + TomlString(settings.chain_backend) + "\n";
  if (settings.chain_backend == "offline") {
    toml += "export_dir = " + TomlString(settings.export_dir) + "\n";
  } else {
    toml += "rpc_url = " + TomlString(settings.rpc_url) + "\n";
    toml += "rpc_cookie_file = " + TomlString(settings.rpc_cookie_file) + "\n";
  }
  toml += "\n[[wallet]]\n";
  toml += "id = " + TomlString(kFixtureWalletId) + "\n";
  toml += "network = \"regtest\"\n";
  toml += "descriptor = " + TomlString(settings.descriptor) + "\n";
  toml += "policy_file = " + TomlString(settings.policy_file) + "\n";
  toml += "threshold = " + std::to_string(settings.threshold) + "\n";
  toml += std::string("batching = ") + (settings.batching ? "true" : "false") + "\n";
  toml += "max_inputs = " + std::to_string(settings.max_inputs) + "\n";
  toml += "min_confirmations = " + std::to_string(settings.min_confirmations) + "\n";
  // As the signers' change_index_max (Deployment: kFixtureIndexMax).
  toml += "change_index_max = " + std::to_string(kFixtureIndexMax) + "\n";
  for (const SignerEntry& signer : settings.signers) {
    toml += "\n[[wallet.signer]]\n";
    toml += "url = " + TomlString(signer.url) + "\n";
    toml += "id = " + TomlString(util::HexEncode(signer.id)) + "\n";
  }
  return toml;
}

// Writes `text` to `path` (replacing it). Fails with kUnavailable.
inline util::Status WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) return util::UnavailableError("cannot write " + path);
  return util::OkStatus();
}

// One `kinkod run` process. Movable, not copyable; the destructor kills a process still running.
class KinkodProcess final {
 public:
  // Starts kinkod on `config_path` with its port file, stdout and stderr in `dir`, and waits (up
  // to `timeout`) until it has written its port file. Fails with kUnavailable, quoting kinkod's
  // stderr, when it exits or does not write the file in time.
  static util::Result<std::unique_ptr<KinkodProcess>> Start(
      const std::string& config_path, const std::string& dir,
      std::chrono::milliseconds timeout = std::chrono::seconds(120)) {
    std::filesystem::create_directories(dir);
    const std::string port_file = dir + "/kinkod.port";
    const std::string err_file = dir + "/kinkod.err";
    std::filesystem::remove(port_file);
    const std::vector<std::string> argv = {KINKOD_BINARY, "run",         "--config",
                                           config_path,   "--port-file", port_file};
    util::Result<pid_t> pid = Spawn(argv, dir + "/kinkod.out", err_file, -1, -1);
    if (!pid.ok()) return pid.status();
    auto process = std::unique_ptr<KinkodProcess>(new KinkodProcess(*pid, config_path, dir));
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (waitpid(*pid, &status, WNOHANG) == *pid) {
        process->pid_ = -1;
        return util::UnavailableError("kinkod exited during start-up: " + Tail(err_file));
      }
      const uint16_t port = ParsePort(ReadWholeFile(port_file));
      if (port != 0) {
        process->port_ = port;
        return process;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return util::UnavailableError("kinkod wrote no port file in time: " + Tail(err_file));
  }

  ~KinkodProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      Wait();
    }
  }
  KinkodProcess(const KinkodProcess&) = delete;
  KinkodProcess& operator=(const KinkodProcess&) = delete;

  uint16_t port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  const std::string& dir() const { return dir_; }
  const std::string& config_path() const { return config_path_; }
  // The end of kinkod's log (stderr), for failure messages.
  std::string LogTail() const { return Tail(dir_ + "/kinkod.err"); }

  // Sends `signal` to the process (any thread); no effect once it has been waited for.
  void Kill(int signal) {
    const pid_t pid = pid_.load();
    if (pid > 0) kill(pid, signal);
  }

  // Waits for the process to end; returns its exit status, or minus the signal that ended it.
  int Wait() {
    const pid_t pid = pid_.exchange(-1);
    if (pid <= 0) return -1;
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  }

  // SIGTERM, then waits: a clean stop (exit status 0 expected).
  int Stop() {
    Kill(SIGTERM);
    return Wait();
  }

  // A new kinkod on the same configuration and directory (after Stop, Kill or a crash).
  util::Result<std::unique_ptr<KinkodProcess>> Restart() const { return Start(config_path_, dir_); }

 private:
  KinkodProcess(pid_t pid, std::string config_path, std::string dir)
      : pid_(pid), config_path_(std::move(config_path)), dir_(std::move(dir)) {}

  static std::string Tail(const std::string& path) {
    const std::string text = ReadWholeFile(path);
    return text.size() > 4000 ? text.substr(text.size() - 4000) : text;
  }

  std::atomic<pid_t> pid_;
  std::string config_path_;
  std::string dir_;
  uint16_t port_ = 0;
};

// An answer of kinkod: the status and the body parsed as JSON (null when it is not JSON).
struct ApiReply {
  int status = 0;
  nlohmann::json body;
  std::string text;  // The raw body, for failure messages.
};

// A client of kinkod's API that signs every request with one identity key (the Authorization
// header of coordinator/api_auth.h) over one keep-alive connection. Movable, not copyable.
class KinkodClient final {
 public:
  // A client of the kinkod at `url` signing with `key`.
  static util::Result<KinkodClient> Create(const std::string& url, crypto::Ed25519PrivateKey key) {
    // Execute runs a whole signing round before it answers: allow it minutes on a loaded host.
    net::HttpClientOptions options;
    options.connect_timeout_seconds = 10;
    options.read_timeout_seconds = 300;
    util::Result<net::HttpClient> http = net::HttpClient::Create(url, options);
    if (!http.ok()) return http.status();
    return KinkodClient(*std::move(http), std::move(key));
  }

  // GET `target` (path and query). Fails with kUnavailable when no answer came.
  util::Result<ApiReply> Get(const std::string& target) { return Send("GET", target, ""); }

  // POST `body` (JSON) to `target`.
  util::Result<ApiReply> Post(const std::string& target, const nlohmann::json& body) {
    return Send("POST", target, body.dump());
  }

  // GET `target` with no Authorization header (/healthz, and the tests of authentication).
  util::Result<ApiReply> GetUnsigned(const std::string& target) {
    util::Result<net::HttpResponse> response = http_.Get(target);
    if (!response.ok()) return response.status();
    return ToReply(*std::move(response));
  }

  // The Authorization header value for a request signed now (the benchmark signs in advance).
  std::string Authorization(std::string_view method, std::string_view target,
                            std::string_view body) const {
    return coordinator::AuthorizationHeader(key_, method, target, Now(), body);
  }

  // POST with a header made earlier by Authorization (the benchmark's timed loop).
  util::Result<ApiReply> PostSigned(const std::string& target, const std::string& body,
                                    const std::string& authorization) {
    util::Result<net::HttpResponse> response =
        http_.Post(target, body, "application/json", {{"Authorization", authorization}});
    if (!response.ok()) return response.status();
    return ToReply(*std::move(response));
  }

  KinkodClient(KinkodClient&&) = default;
  KinkodClient& operator=(KinkodClient&&) = default;
  KinkodClient(const KinkodClient&) = delete;
  KinkodClient& operator=(const KinkodClient&) = delete;

 private:
  KinkodClient(net::HttpClient http, crypto::Ed25519PrivateKey key)
      : http_(std::move(http)), key_(std::move(key)) {}

  static uint64_t Now() { return static_cast<uint64_t>(std::time(nullptr)); }

  static ApiReply ToReply(net::HttpResponse response) {
    ApiReply reply;
    reply.status = response.status;
    reply.text = std::move(response.body);
    reply.body = nlohmann::json::parse(reply.text, nullptr, /*allow_exceptions=*/false);
    if (reply.body.is_discarded()) reply.body = nullptr;
    return reply;
  }

  util::Result<ApiReply> Send(const std::string& method, const std::string& target,
                              const std::string& body) {
    const std::map<std::string, std::string> headers = {
        {"Authorization", coordinator::AuthorizationHeader(key_, method, target, Now(), body)}};
    util::Result<net::HttpResponse> response =
        method == "GET" ? http_.Get(target, headers)
                        : http_.Post(target, body, "application/json", headers);
    if (!response.ok()) return response.status();
    return ToReply(*std::move(response));
  }

  net::HttpClient http_;
  crypto::Ed25519PrivateKey key_;
};

// The signers of a Deployment as kinkod's configuration names them, in order.
inline std::vector<SignerEntry> SignerEntries(
    const Deployment& deployment, const std::vector<std::unique_ptr<SignerProcess>>& signers) {
  std::vector<SignerEntry> entries;
  for (size_t i = 0; i < signers.size(); ++i) {
    entries.push_back({.url = signers[i]->url(), .id = deployment.keys()[i].signer_id});
  }
  return entries;
}

// The policy a Deployment pinned in its signers (MakePolicy is deterministic: Ed25519
// signatures are), encoded, for kinkod's policy_file.
inline std::vector<uint8_t> DeploymentPolicyEncoding() {
  PolicyOptions options;
  options.window_24h = Sats(Deployment::kWindowSats);
  return MakePolicy(MakeActors(), options).Encode();
}

// A transaction paying `sats[i]` to the wallet's receive address at index `first_index + i`,
// spending a made-up outpoint named by `seed` (the offline backend and the signers look only
// at its outputs and txid).
inline btc::Transaction FundingTransaction(const std::string& descriptor,
                                           const std::vector<int64_t>& sats, uint32_t first_index,
                                           uint32_t seed) {
  const signer::WalletConfig wallet = MakeWalletConfig(TestContext(), descriptor);
  btc::Transaction funding;
  funding.version = 2;
  funding.inputs.resize(1);
  const std::string seed_text = "kinko e2e funding " + std::to_string(seed);
  funding.inputs[0].prevout.txid = btc::Txid(
      crypto::Sha256({reinterpret_cast<const uint8_t*>(seed_text.data()), seed_text.size()}));
  for (size_t i = 0; i < sats.size(); ++i) {
    const btc::Script script = wallet.branch(signer::WalletBranch::kReceive)
                                   .Expand(TestContext(), first_index + static_cast<uint32_t>(i))
                                   .value()
                                   .script_pubkey;
    funding.outputs.push_back({sats[i], script});
  }
  return funding;
}

// Runs `sql` on the SQLite database at `path`, as an attacker who owns kinkod's host does while
// kinkod runs (SQLite's locking lets another process write). Returns the number of rows changed
// by the last statement, or -1 with the error in `error`.
inline int RunSqlite(const std::string& path, const std::string& sql, std::string& error) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    error = db != nullptr ? sqlite3_errmsg(db) : "cannot open";
    sqlite3_close(db);
    return -1;
  }
  sqlite3_busy_timeout(db, 30'000);
  char* message = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message);
  int changed = sqlite3_changes(db);
  if (rc != SQLITE_OK) {
    error = message != nullptr ? message : "sqlite3_exec failed";
    changed = -1;
  }
  sqlite3_free(message);
  sqlite3_close(db);
  return changed;
}

}  // namespace kinko::testing

#endif  // KINKO_TEST_INTEGRATION_KINKOD_PROCESS_H_
