#include "cli/internal/regtest_node.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

namespace kinko::cli::internal {
namespace {

constexpr auto kStopGrace = std::chrono::seconds(15);
constexpr auto kPollInterval = std::chrono::milliseconds(50);

// A TCP port on 127.0.0.1 that was free a moment ago (bitcoind has no port file: the port is
// chosen here; another program could take it in between, which start-up then reports).
util::Result<uint16_t> FreeLoopbackPort() {
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
  if (!ok) return util::UnavailableError("cannot find a free port on 127.0.0.1");
  return ntohs(address.sin_port);
}

// The cookie "__cookie__:PASSWORD" as user and password.
std::optional<std::pair<std::string, std::string>> ParseCookie(const std::string& text) {
  const size_t colon = text.find(':');
  if (colon == std::string::npos) return std::nullopt;
  std::string password = text.substr(colon + 1);
  while (!password.empty() && (password.back() == '\n' || password.back() == '\r')) {
    password.pop_back();
  }
  if (password.empty()) return std::nullopt;
  return std::make_pair(text.substr(0, colon), password);
}

}  // namespace

RegtestNode::RegtestNode(ChildProcess process, std::string dir, uint16_t port)
    : process_(std::move(process)),
      dir_(std::move(dir)),
      rpc_url_("http://127.0.0.1:" + std::to_string(port)),
      cookie_file_(dir_ + "/regtest/.cookie") {}

RegtestNode::~RegtestNode() {
  if (!stopped_) Stop();
}

util::Result<std::unique_ptr<RegtestNode>> RegtestNode::Start(const std::string& bitcoind,
                                                              const std::string& dir,
                                                              std::chrono::milliseconds timeout) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) return util::UnavailableError("cannot create " + dir + ": " + error.message());
  util::Result<uint16_t> port = FreeLoopbackPort();
  if (!port.ok()) return port.status();
  const std::string log = dir + "/bitcoind.log";
  util::Result<ChildProcess> process = ChildProcess::Start(ProcessOptions{
      .argv = {bitcoind, "-regtest", "-datadir=" + dir, "-listen=0", "-rpcbind=127.0.0.1",
               "-rpcallowip=127.0.0.1", "-rpcport=" + std::to_string(*port), "-natpmp=0",
               "-dnsseed=0", "-fixedseeds=0", "-listenonion=0", "-txindex=1", "-printtoconsole=1"},
      .stdout_path = log,
      .stderr_path = log});
  if (!process.ok()) return process.status();
  auto node = std::unique_ptr<RegtestNode>(new RegtestNode(*std::move(process), dir, *port));
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  util::Status last = util::UnavailableError("no answer yet");
  while (std::chrono::steady_clock::now() < deadline) {
    if (!node->process_.Running()) {
      node->stopped_ = true;
      return util::UnavailableError("bitcoind exited during start-up: " +
                                    LastLines(ReadTextFile(log), 5));
    }
    util::Result<Json> info = node->Call("getblockchaininfo", Json::array());
    if (info.ok()) return node;
    last = info.status();
    std::this_thread::sleep_for(kPollInterval);
  }
  node->Stop();
  return util::UnavailableError("bitcoind did not answer in time: " + last.message());
}

util::Result<Json> RegtestNode::Call(std::string_view method, const Json& params) {
  if (!client_) {
    const std::optional<std::pair<std::string, std::string>> cookie =
        ParseCookie(ReadTextFile(cookie_file_));
    if (!cookie) return util::UnavailableError("bitcoind: no RPC cookie yet");
    net::HttpClientOptions options;
    options.read_timeout_seconds = 60;
    options.basic_user = cookie->first;
    options.basic_password = cookie->second;
    util::Result<net::HttpClient> client = net::HttpClient::Create(rpc_url_, options);
    if (!client.ok()) return client.status();
    client_.emplace(*std::move(client));
  }
  const Json request = {
      {"jsonrpc", "1.0"}, {"id", "kinko-demo"}, {"method", method}, {"params", params}};
  util::Result<net::HttpResponse> response = client_->Post("/", request.dump(), "application/json");
  if (!response.ok()) return response.status();
  const Json answer = Json::parse(response->body, nullptr, /*allow_exceptions=*/false);
  const std::string what = "bitcoind " + std::string(method);
  if (answer.is_discarded() || !answer.is_object()) {
    return util::UnavailableError(what + ": HTTP " + std::to_string(response->status) +
                                  ", no JSON-RPC answer");
  }
  if (answer.contains("error") && answer["error"].is_object()) {
    const Json& error = answer["error"];
    const std::string code = error.contains("code") ? error["code"].dump() : "?";
    const std::string message = error.contains("message") && error["message"].is_string()
                                    ? error["message"].get<std::string>()
                                    : "";
    // -28: still warming up; the caller retries.
    if (code == "-28") return util::UnavailableError(what + ": " + message);
    return util::FailedPreconditionError(what + ": " + code + " " + message);
  }
  if (!answer.contains("result")) return util::UnavailableError(what + ": no result");
  return answer["result"];
}

int RegtestNode::Stop() {
  if (stopped_) return process_.Stop(std::chrono::milliseconds(0));
  stopped_ = true;
  if (client_) {
    // Errors are ignored: a node that does not take the RPC is stopped by signal below.
    (void)Call("stop", Json::array());
    util::Result<int> status = process_.Wait(kStopGrace);
    if (status.ok()) return *status;
  }
  return process_.Stop(kStopGrace);
}

}  // namespace kinko::cli::internal
