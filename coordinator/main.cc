// kinkod: the coordinator daemon (doc/coordinator-api.md).
//
//   kinkod run --config FILE [--port-file F]  serves the API until SIGTERM or SIGINT;
//   kinkod migrate --config FILE              brings the store's schema up to date and exits;
//   kinkod version                            prints the version.
//
// `run` logs one JSON object per line on stderr ({"time", "level", "event", ...}); request
// bodies, signatures and passwords are never logged. It resumes unfinished work (Coordinator::
// Resume) at start and every kResumeSeconds on a thread of its own.
//
// Exit status: 0 success; 1 the server failed while running (listener error); 2 usage;
// 3 configuration error (the file, a wallet's descriptor or policy file); 4 storage error
// (cannot open or migrate the store); 5 chain backend error (cannot create it or watch a wallet).
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "coordinator/api.h"
#include "coordinator/bitcoin_core.h"
#include "coordinator/config.h"
#include "coordinator/offline_chain.h"
#include "coordinator/workflow.h"
#include "crypto/rng.h"
#include "crypto/secp256k1.h"
#include "net/http_server.h"
#include "storage/postgres_store.h"
#include "storage/sqlite_store.h"

namespace kinko::coordinator {
namespace {

using Json = nlohmann::ordered_json;

constexpr std::string_view kSoftware = "kinkod 0.1.0";
constexpr int kResumeSeconds = 10;

// DO NOT CHANGE: documented in doc/coordinator-api.md ("Exit status") and used by scripts.
constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;
constexpr int kExitConfig = 3;
constexpr int kExitStorage = 4;
constexpr int kExitChain = 5;

// One JSON line on stderr. Never given a secret.
void Log(std::string_view level, std::string_view event, Json fields = Json::object()) {
  Json line;
  line["time"] = static_cast<uint64_t>(std::time(nullptr));
  line["level"] = level;
  line["event"] = event;
  for (auto& [name, value] : fields.items()) line[name] = value;
  const std::string text = line.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
  std::fwrite(text.data(), 1, text.size(), stderr);
  std::fflush(stderr);
}

int Fail(int exit_code, std::string_view event, const util::Status& status) {
  Log("error", event, Json{{"error", status.ToString()}, {"exit", exit_code}});
  return exit_code;
}

util::Result<std::unique_ptr<storage::Store>> OpenStore(const StorageSettings& settings) {
  if (settings.backend == "postgres") {
    util::Result<std::unique_ptr<storage::PostgresStore>> store =
        storage::PostgresStore::Open(settings.url);
    if (!store.ok()) return store.status();
    return std::unique_ptr<storage::Store>(std::move(*store));
  }
  util::Result<std::unique_ptr<storage::SqliteStore>> store =
      storage::SqliteStore::Open(settings.path);
  if (!store.ok()) return store.status();
  return std::unique_ptr<storage::Store>(std::move(*store));
}

util::Result<std::unique_ptr<ChainBackend>> OpenChain(const ChainSettings& settings) {
  if (settings.backend == "bitcoin-core") {
    BitcoinCoreOptions options;
    options.rpc_url = settings.rpc_url;
    options.cookie_file = settings.rpc_cookie_file;
    options.rpc_user = settings.rpc_user;
    options.password_file = settings.rpc_password_file;
    util::Result<std::unique_ptr<BitcoinCoreChain>> chain =
        BitcoinCoreChain::Create(std::move(options));
    if (!chain.ok()) return chain.status();
    return std::unique_ptr<ChainBackend>(std::move(*chain));
  }
  util::Result<std::unique_ptr<OfflineChain>> chain = OfflineChain::Create(settings.export_dir);
  if (!chain.ok()) return chain.status();
  return std::unique_ptr<ChainBackend>(std::move(*chain));
}

// "HOST:PORT" as ParseConfig checked it (a bracketed IPv6 host loses its brackets).
std::pair<std::string, uint16_t> SplitListen(const std::string& listen) {
  const size_t colon = listen.rfind(':');
  std::string host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  uint32_t port = 0;
  for (char c : listen.substr(colon + 1)) port = port * 10 + static_cast<uint32_t>(c - '0');
  return {host, static_cast<uint16_t>(port)};
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

std::string DefaultInstance() {
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
  return std::string(host[0] != '\0' ? host : "kinkod") + "-" + std::to_string(getpid());
}

// Calls Resume now and every kResumeSeconds until Stop. Not copyable.
class Resumer final {
 public:
  explicit Resumer(Coordinator& coordinator)
      : coordinator_(coordinator), thread_([this] { Loop(); }) {}
  ~Resumer() { Stop(); }
  Resumer(const Resumer&) = delete;
  Resumer& operator=(const Resumer&) = delete;

  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  void Loop() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!stopping_) {
      lock.unlock();
      const util::Status resumed = coordinator_.Resume();
      if (!resumed.ok()) Log("warning", "resume", Json{{"error", resumed.ToString()}});
      lock.lock();
      wake_.wait_for(lock, std::chrono::seconds(kResumeSeconds), [this] { return stopping_; });
    }
  }

  Coordinator& coordinator_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;  // Guarded by mutex_.
  std::thread thread_;     // Last: started once the members it uses exist.
};

int RunServe(const std::string& config_path, const std::string& port_file) {
  // SIGTERM and SIGINT are taken by a thread of their own (sigwait), never by a handler: block
  // them before any other thread exists, so every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  if (pthread_sigmask(SIG_BLOCK, &signals, nullptr) != 0) {
    return Fail(kExitFailed, "start", util::UnavailableError("cannot block SIGTERM and SIGINT"));
  }
  // A client that goes away must not kill the daemon: writes to it fail with EPIPE instead.
  std::signal(SIGPIPE, SIG_IGN);

  Log("info", "start", Json{{"software", kSoftware}, {"config", config_path}});
  util::Result<Config> config = LoadConfig(config_path);
  if (!config.ok()) return Fail(kExitConfig, "config", config.status());
  if (config->instance.empty()) config->instance = DefaultInstance();

  util::Result<std::unique_ptr<storage::Store>> store = OpenStore(config->storage);
  if (!store.ok()) return Fail(kExitStorage, "storage", store.status());
  util::Result<std::unique_ptr<ChainBackend>> chain = OpenChain(config->chain);
  if (!chain.ok()) return Fail(kExitChain, "chain", chain.status());

  crypto::SystemRng rng;
  const crypto::Secp256k1Context ctx = crypto::Secp256k1Context::Create(rng);
  util::Result<std::unique_ptr<Coordinator>> coordinator = Coordinator::Create(
      ctx, *config, **store, **chain,
      CoordinatorOptions{.instance = config->instance, .lease_seconds = 60, .clock = nullptr});
  if (!coordinator.ok()) {
    // A descriptor or policy file that does not decode is the configuration's fault; anything
    // else came from the chain backend (Watch).
    const util::StatusCode code = coordinator.status().code();
    const bool config_error =
        code == util::StatusCode::kInvalidArgument || code == util::StatusCode::kNotFound;
    return Fail(config_error ? kExitConfig : kExitChain, "coordinator", coordinator.status());
  }
  util::Result<std::unique_ptr<ApiHandler>> handler =
      ApiHandler::Create(**coordinator, **store, **chain, *config, ApiOptions{});
  if (!handler.ok()) return Fail(kExitConfig, "config", handler.status());

  const auto [host, port] = SplitListen(config->listen);
  util::Result<std::unique_ptr<net::HttpServer>> server = net::HttpServer::Create(
      **handler, net::HttpServerOptions{.host = host,
                                        .port = port,
                                        .tls_certificate = config->tls_certificate,
                                        .tls_private_key = config->tls_private_key});
  if (!server.ok()) return Fail(kExitFailed, "listen", server.status());

  Resumer resumer(**coordinator);
  if (!port_file.empty()) {
    if (util::Status s = WritePortFile(port_file, (*server)->port()); !s.ok()) {
      return Fail(kExitFailed, "port_file", s);
    }
  }
  Log("info", "listening",
      Json{{"host", host},
           {"port", (*server)->port()},
           {"tls", !config->tls_certificate.empty()},
           {"instance", config->instance},
           {"storage", config->storage.backend},
           {"chain", std::string((*chain)->name())},
           {"wallets", config->wallets.size()}});

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
  resumer.Stop();
  if (!served.ok()) return Fail(kExitFailed, "stop", served);
  Log("info", "stop", Json{{"signal", received == SIGINT ? "SIGINT" : "SIGTERM"}});
  return kExitOk;
}

int RunMigrate(const std::string& config_path) {
  util::Result<Config> config = LoadConfig(config_path);
  if (!config.ok()) return Fail(kExitConfig, "config", config.status());
  // Opening a store runs its migrations (storage/store.h).
  util::Result<std::unique_ptr<storage::Store>> store = OpenStore(config->storage);
  if (!store.ok()) return Fail(kExitStorage, "storage", store.status());
  Log("info", "migrated",
      Json{{"storage", config->storage.backend}, {"schema_version", storage::kSchemaVersion}});
  return kExitOk;
}

int MainOrThrow(int argc, char** argv) {
  CLI::App app(
      "kinkod: the coordinator. run serves the API; migrate updates the store's schema.\n"
      "Exit status: 0 success, 1 failed, 2 usage, 3 configuration, 4 storage, 5 chain backend.",
      "kinkod");
  app.require_subcommand(1);
  app.failure_message([](const CLI::App*, const CLI::Error& e) {
    return "kinkod: error: " + std::string(e.what()) + "\nRun with --help for more information.\n";
  });
  std::function<int()> action;

  std::string run_config;
  std::string port_file;
  CLI::App* run_cmd =
      app.add_subcommand("run", "Serve the coordinator API until SIGTERM or SIGINT");
  run_cmd->add_option("--config", run_config, "The configuration file (TOML)")->required();
  run_cmd->add_option("--port-file", port_file, "Write the bound port to this file");
  run_cmd->callback([&] { action = [&] { return RunServe(run_config, port_file); }; });

  std::string migrate_config;
  CLI::App* migrate_cmd =
      app.add_subcommand("migrate", "Bring the store's schema up to date, then exit");
  migrate_cmd->add_option("--config", migrate_config, "The configuration file (TOML)")->required();
  migrate_cmd->callback([&] { action = [&] { return RunMigrate(migrate_config); }; });

  CLI::App* version_cmd = app.add_subcommand("version", "Print the version");
  version_cmd->callback([&] {
    action = [] {
      std::printf("%s\n", std::string(kSoftware).c_str());
      return kExitOk;
    };
  });

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
}  // namespace kinko::coordinator

int main(int argc, char** argv) {
  // No exception may escape: CLI11 and nlohmann throw, and our own code does not.
  try {
    return kinko::coordinator::MainOrThrow(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kinkod: internal error: %s\n", e.what());
  } catch (...) {
    std::fputs("kinkod: internal error\n", stderr);
  }
  return 1;
}
