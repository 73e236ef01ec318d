// A real Bitcoin Core node on regtest for tests: started from $BITCOIND (or `bitcoind` on
// PATH) in a temporary data directory, on loopback only with free RPC and P2P ports, reached
// over JSON-RPC with its cookie; a "miner" wallet to fund addresses and mine blocks; stopped
// (`stop`, then SIGKILL after a timeout) and its directory removed when the object goes.
//
//   util::Result<std::unique_ptr<BitcoindNode>> node = BitcoindNode::Start();
//   if (node.status().code() == util::StatusCode::kNotFound) GTEST_SKIP() << kBitcoindSkip;
//   ASSERT_TRUE(node.ok()) << node.status();
//
// TEST CODE ONLY. Not thread-safe; one owner per node.
#ifndef KINKO_TEST_SUPPORT_BITCOIND_H_
#define KINKO_TEST_SUPPORT_BITCOIND_H_

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "crypto/hash.h"
#include "net/http_client.h"
#include "util/hex.h"
#include "util/result.h"
#include "util/status.h"

extern char** environ;

namespace kinko::testing {

inline constexpr char kBitcoindSkip[] =
    "set BITCOIND=/path/to/bitcoind to run the Bitcoin Core tests";

// The bitcoind to run: $BITCOIND when set, else the first executable `bitcoind` on PATH;
// nullopt when there is none.
inline std::optional<std::string> FindBitcoind() {
  const char* env = getenv("BITCOIND");
  if (env != nullptr && env[0] != '\0') {
    if (access(env, X_OK) == 0) return std::string(env);
    return std::nullopt;
  }
  const char* path = getenv("PATH");
  if (path == nullptr) return std::nullopt;
  std::stringstream dirs(path);
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty()) continue;
    const std::string candidate = dir + "/bitcoind";
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return std::nullopt;
}

// A TCP port on 127.0.0.1 that was free a moment ago (the kernel's choice for port 0).
inline util::Result<uint16_t> FreeLoopbackPort() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return util::UnavailableError("socket failed");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t size = sizeof(address);
  const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
                  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) == 0;
  close(fd);
  if (!ok) return util::UnavailableError("cannot find a free port");
  return ntohs(address.sin_port);
}

// HMAC-SHA256 (RFC 2104) of `message` under `key`, for -rpcauth lines.
inline crypto::Hash256Bytes TestHmacSha256(std::string_view key, std::string_view message) {
  std::array<uint8_t, 64> block{};
  if (key.size() > block.size()) {
    const crypto::Hash256Bytes hashed =
        crypto::Sha256({reinterpret_cast<const uint8_t*>(key.data()), key.size()});
    std::copy(hashed.begin(), hashed.end(), block.begin());
  } else {
    std::copy(key.begin(), key.end(), block.begin());
  }
  std::vector<uint8_t> inner;
  for (const uint8_t b : block) inner.push_back(b ^ 0x36);
  inner.insert(inner.end(), message.begin(), message.end());
  const crypto::Hash256Bytes inner_hash = crypto::Sha256(inner);
  std::vector<uint8_t> outer;
  for (const uint8_t b : block) outer.push_back(b ^ 0x5c);
  outer.insert(outer.end(), inner_hash.begin(), inner_hash.end());
  return crypto::Sha256(outer);
}

// Bitcoin Core's -rpcauth value for `user` and `password` (share/rpcauth/rpcauth.py).
inline std::string RpcAuthLine(const std::string& user, const std::string& password) {
  const std::string salt = "6b696e6b6f2d746573742d73616c7421";  // Any hex string.
  return user + ":" + salt + "$" + util::HexEncode(TestHmacSha256(salt, password));
}

// `sats` as a BTC decimal string, which Bitcoin Core's RPCs accept for amounts.
inline std::string TestBtcString(int64_t sats) {
  std::string fraction = std::to_string(sats % 100'000'000);
  fraction.insert(0, 8 - fraction.size(), '0');
  return std::to_string(sats / 100'000'000) + "." + fraction;
}

struct BitcoindOptions {
  // Users the node accepts besides its cookie (-rpcauth): {user, password}.
  std::vector<std::pair<std::string, std::string>> rpc_users;
  // More command-line arguments.
  std::vector<std::string> extra_args;
  // How long start-up and shutdown may take.
  std::chrono::seconds timeout{60};
};

// Not copyable, not movable.
class BitcoindNode final {
 public:
  // Starts a node and waits until it answers `getblockchaininfo`. Fails with kNotFound when
  // there is no bitcoind (FindBitcoind), and with kUnavailable, quoting the end of its log,
  // when it exits or does not answer in time.
  static util::Result<std::unique_ptr<BitcoindNode>> Start(BitcoindOptions options = {}) {
    const std::optional<std::string> binary = FindBitcoind();
    if (!binary) return util::NotFoundError(kBitcoindSkip);
    std::string datadir = (std::filesystem::temp_directory_path() / "kinko-bitcoind-XXXXXX");
    if (mkdtemp(datadir.data()) == nullptr) return util::UnavailableError("mkdtemp failed");
    util::Result<uint16_t> rpc_port = FreeLoopbackPort();
    if (!rpc_port.ok()) return rpc_port.status();
    util::Result<uint16_t> p2p_port = FreeLoopbackPort();
    if (!p2p_port.ok()) return p2p_port.status();
    auto node = std::unique_ptr<BitcoindNode>(new BitcoindNode(datadir, *rpc_port));
    node->timeout_ = options.timeout;

    std::vector<std::string> argv = {*binary,
                                     "-datadir=" + datadir,
                                     "-regtest",
                                     "-daemon=0",
                                     "-server",
                                     "-printtoconsole=0",
                                     "-bind=127.0.0.1",
                                     "-port=" + std::to_string(*p2p_port),
                                     "-rpcbind=127.0.0.1",
                                     "-rpcallowip=127.0.0.1",
                                     "-rpcport=" + std::to_string(*rpc_port),
                                     "-natpmp=0",
                                     "-dnsseed=0",
                                     "-fixedseeds=0",
                                     "-listenonion=0",
                                     "-discover=0",
                                     "-txindex=0",
                                     "-persistmempool=0",
                                     "-keypool=10",
                                     "-fallbackfee=0.0002"};
    for (const auto& [user, password] : options.rpc_users) {
      argv.push_back("-rpcauth=" + RpcAuthLine(user, password));
    }
    argv.insert(argv.end(), options.extra_args.begin(), options.extra_args.end());

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    const std::string out = datadir + "/bitcoind.out";
    posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    posix_spawn_file_actions_addopen(&actions, 2, out.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    std::vector<char*> args;
    for (std::string& arg : argv) args.push_back(arg.data());
    args.push_back(nullptr);
    pid_t pid = 0;
    const int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) return util::UnavailableError("cannot start " + *binary);
    node->pid_ = pid;

    const auto deadline = std::chrono::steady_clock::now() + options.timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (waitpid(pid, &status, WNOHANG) == pid) {
        node->pid_ = -1;
        return util::UnavailableError("bitcoind exited during start-up: " + node->LogTail());
      }
      if (node->Rpc("getblockchaininfo").ok()) return node;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return util::UnavailableError("bitcoind did not answer in time: " + node->LogTail());
  }

  ~BitcoindNode() {
    (void)Stop();  // Always OK.
    std::error_code ignored;
    std::filesystem::remove_all(datadir_, ignored);
  }
  BitcoindNode(const BitcoindNode&) = delete;
  BitcoindNode& operator=(const BitcoindNode&) = delete;

  std::string rpc_url() const { return "http://127.0.0.1:" + std::to_string(rpc_port_); }
  uint16_t rpc_port() const { return rpc_port_; }
  const std::string& datadir() const { return datadir_; }
  std::string cookie_file() const { return datadir_ + "/regtest/.cookie"; }
  bool running() const { return pid_ > 0; }

  // Calls `method` with `params` on the node (on the wallet `wallet`'s endpoint when not
  // empty), authenticated by the cookie. Returns the "result"; fails with kUnavailable when
  // the node does not answer and kFailedPrecondition "bitcoind: <method>: <message> (code n)"
  // for an RPC error.
  util::Result<nlohmann::json> Rpc(std::string_view method,
                                   nlohmann::json params = nlohmann::json::array(),
                                   std::string_view wallet = "") const {
    std::ifstream in(cookie_file());
    std::string cookie;
    if (!std::getline(in, cookie)) return util::UnavailableError("bitcoind: no cookie yet");
    const size_t colon = cookie.find(':');
    if (colon == std::string::npos) return util::UnavailableError("bitcoind: bad cookie");
    net::HttpClientOptions http;
    http.basic_user = cookie.substr(0, colon);
    http.basic_password = cookie.substr(colon + 1);
    http.read_timeout_seconds = 120;
    util::Result<net::HttpClient> client = net::HttpClient::Create(rpc_url(), std::move(http));
    if (!client.ok()) return client.status();
    nlohmann::json request = {{"jsonrpc", "2.0"},
                              {"id", 1},
                              {"method", std::string(method)},
                              {"params", std::move(params)}};
    const std::string path = wallet.empty() ? "/" : "/wallet/" + std::string(wallet);
    util::Result<net::HttpResponse> response =
        client->Post(path, request.dump(), "application/json");
    if (!response.ok()) return response.status();
    const nlohmann::json reply = nlohmann::json::parse(response->body, nullptr, false);
    const std::string where = "bitcoind: " + std::string(method);
    if (reply.is_discarded() || !reply.is_object()) {
      return util::UnavailableError(where + ": http " + std::to_string(response->status));
    }
    const auto error = reply.find("error");
    if (error != reply.end() && error->is_object()) {
      return util::FailedPreconditionError(where + ": " + error->value("message", "") + " (code " +
                                           std::to_string(error->value("code", 0)) + ")");
    }
    if (!reply.contains("result")) return util::UnavailableError(where + ": no result");
    return reply["result"];
  }

  // Creates the "miner" wallet and mines 101 blocks to it (one spendable coinbase of 50 BTC).
  util::Status CreateMiner() {
    util::Result<nlohmann::json> created = Rpc("createwallet", {"miner"});
    if (!created.ok()) return created.status();
    util::Result<nlohmann::json> address = Rpc("getnewaddress", nlohmann::json::array(), "miner");
    if (!address.ok()) return address.status();
    miner_address_ = address->get<std::string>();
    return Mine(101);
  }

  // A new address of the miner wallet. Requires CreateMiner().
  util::Result<std::string> NewMinerAddress() {
    util::Result<nlohmann::json> address = Rpc("getnewaddress", nlohmann::json::array(), "miner");
    if (!address.ok()) return address.status();
    return address->get<std::string>();
  }

  // Mines `blocks` blocks to the miner. Requires CreateMiner().
  util::Status Mine(int blocks) {
    util::Result<nlohmann::json> mined = Rpc("generatetoaddress", {blocks, miner_address_});
    if (!mined.ok()) return mined.status();
    return SyncWallets();
  }

  // Pays `sats` to `address` from the miner wallet; returns the txid (display hex). The
  // transaction stays in the mempool until Mine. Requires CreateMiner().
  util::Result<std::string> Fund(const std::string& address, int64_t sats) {
    util::Result<nlohmann::json> txid =
        Rpc("sendtoaddress", {address, TestBtcString(sats)}, "miner");
    if (!txid.ok()) return txid.status();
    util::Status synced = SyncWallets();
    if (!synced.ok()) return synced;
    return txid->get<std::string>();
  }

  // Waits until the wallets have seen every transaction and block the node has (wallets learn
  // of them asynchronously).
  util::Status SyncWallets() { return Rpc("syncwithvalidationinterfacequeue").status(); }

  // Stops the node: `stop`, then waits for the process; SIGKILL when it has not exited within
  // the timeout. Returns OK once the process is gone (also when it was already).
  util::Status Stop() {
    if (pid_ <= 0) return util::OkStatus();
    (void)Rpc("stop");
    const auto deadline = std::chrono::steady_clock::now() + timeout_;
    int status = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      const pid_t done = waitpid(pid_, &status, WNOHANG);
      if (done == pid_ || (done < 0 && errno != EINTR)) {
        pid_ = -1;
        return util::OkStatus();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    kill(pid_, SIGKILL);
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    return util::OkStatus();
  }

  // The last 2000 bytes of the node's debug.log, for failure messages.
  std::string LogTail() const {
    std::ifstream in(datadir_ + "/regtest/debug.log", std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    const std::string log = text.str();
    return log.size() > 2000 ? log.substr(log.size() - 2000) : log;
  }

 private:
  BitcoindNode(std::string datadir, uint16_t rpc_port)
      : datadir_(std::move(datadir)), rpc_port_(rpc_port) {}

  std::string datadir_;
  uint16_t rpc_port_ = 0;
  pid_t pid_ = -1;
  std::chrono::seconds timeout_{60};
  std::string miner_address_;
};

}  // namespace kinko::testing

#endif  // KINKO_TEST_SUPPORT_BITCOIND_H_
