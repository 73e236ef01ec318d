#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "net/http_server.h"
#include "signerapi/json_codec.h"
#include "signerd/service.h"
#include "signerd/setup.h"
#include "test/support/signer_fixture.h"
#include "util/check.h"

namespace kinko::signerd {
namespace {

using kinko::testing::TestContext;

class TempDir final {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "kinko-http-XXXXXX").string();
    CHECK(mkdtemp(pattern.data()) != nullptr);
    path_ = pattern;
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

crypto::SecretBytes Passphrase() {
  constexpr std::string_view kText = "correct horse";
  return crypto::SecretBytes::FromSpan(
      std::span(reinterpret_cast<const uint8_t*>(kText.data()), kText.size()));
}

// A signer set up by Keygen and Init in `dir`, opened as a service.
std::unique_ptr<SignerService> OpenTestService(const std::string& dir) {
  KeygenOptions keygen;
  keygen.dir = dir;
  keygen.network = btc::Network::kRegtest;
  keygen.kdf = crypto::KdfParams{.passes = 1, .memory_kib = 8};
  crypto::SystemRng rng;
  const KeygenResult keys = Keygen(TestContext(), keygen, Passphrase(), std::nullopt, rng).value();
  const testing::TestWallet wallet = testing::MakeTestWallet(TestContext());
  const testing::Actors actors = testing::MakeActors();
  InitOptions init;
  init.dir = dir;
  init.wallet_id = testing::kFixtureWalletId;
  init.descriptor = "wsh(sortedmulti(2," + keys.descriptor_key + "/<0;1>/*,[" +
                    wallet.origins[1].ToString() + "]" + wallet.accounts[1].Neuter().ToString() +
                    "/<0;1>/*))";
  for (const crypto::Ed25519PrivateKey& admin : actors.admins) {
    init.governance_admins.push_back(testing::IdOf(admin));
  }
  init.governance_threshold = 2;
  init.first_policy = testing::MakePolicy(actors).Encode();
  init.now = testing::kFixtureNow;
  CHECK(Init(TestContext(), init, Passphrase(), std::nullopt).ok());
  return SignerService::Open(ServiceOptions{.dir = dir,
                                            .passphrase = Passphrase(),
                                            .pin = std::nullopt,
                                            .clock = [] { return testing::kFixtureNow + 60; }})
      .value();
}

net::HttpServerOptions Options(std::string host, uint16_t port, std::string cert = "",
                               std::string key = "") {
  net::HttpServerOptions options;
  options.host = std::move(host);
  options.port = port;
  options.tls_certificate = std::move(cert);
  options.tls_private_key = std::move(key);
  return options;
}

// A server running on its own thread until the fixture ends.
class RunningServer final {
 public:
  RunningServer(SignerService& service, const net::HttpServerOptions& options)
      : server_(net::HttpServer::Create(service, options).value()),
        thread_([this] { result_ = server_->Run(); }) {}
  ~RunningServer() {
    server_->Stop();
    thread_.join();
    EXPECT_TRUE(result_.ok()) << result_;
  }
  uint16_t port() const { return server_->port(); }

 private:
  std::unique_ptr<net::HttpServer> server_;
  util::Status result_;
  std::thread thread_;
};

class HttpServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    temp_ = new TempDir();
    service_ = OpenTestService(temp_->path() + "/signer").release();
  }
  static void TearDownTestSuite() {
    delete service_;
    delete temp_;
  }
  static TempDir* temp_;
  static SignerService* service_;
};
TempDir* HttpServerTest::temp_ = nullptr;
SignerService* HttpServerTest::service_ = nullptr;

// Sends `head` (request line and headers) on a plain TCP connection and returns everything the
// server writes before closing or the 5 s read timeout.
std::string RawExchange(uint16_t port, const std::string& head) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  CHECK(fd >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  CHECK(connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0);
  CHECK(write(fd, head.data(), head.size()) == static_cast<ssize_t>(head.size()));
  std::string answer;
  char buffer[4096];
  while (true) {
    const ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n <= 0) break;
    answer.append(buffer, static_cast<size_t>(n));
    if (answer.find("\r\n\r\n") != std::string::npos && answer.find("}") != std::string::npos) {
      break;
    }
  }
  close(fd);
  return answer;
}

TEST_F(HttpServerTest, AnswersThroughTheService) {
  RunningServer server(*service_, net::HttpServerOptions{});
  ASSERT_NE(server.port(), 0);
  httplib::Client client("127.0.0.1", server.port());

  httplib::Result health = client.Get("/healthz");
  ASSERT_TRUE(health) << httplib::to_string(health.error());
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(health->body, "ok\n");

  httplib::Result status = client.Get("/v1/status");
  ASSERT_TRUE(status);
  EXPECT_EQ(status->status, 200);
  const util::Result<signerapi::StatusResponse> decoded =
      signerapi::DecodeStatusResponse(status->body);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->wallet, testing::kFixtureWalletId);

  httplib::Result malformed = client.Post("/v1/sign", "{\"version\":", "application/json");
  ASSERT_TRUE(malformed);
  EXPECT_EQ(malformed->status, 400);
  const signerapi::ErrorBody error = signerapi::DecodeErrorBody(malformed->body).value();
  EXPECT_EQ(error.code, "invalid_argument");

  httplib::Result unknown = client.Get("/v1/nothing");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404);

  httplib::Result wrong_method = client.Get("/v1/sign");
  ASSERT_TRUE(wrong_method);
  EXPECT_EQ(wrong_method->status, 405);
  EXPECT_EQ(wrong_method->get_header_value("Allow"), "POST");

  httplib::Result inclusion = client.Get("/v1/audit/proof/inclusion?index=0&size=2");
  ASSERT_TRUE(inclusion);
  EXPECT_EQ(inclusion->status, 200) << inclusion->body;

  httplib::Result repeated = client.Get("/v1/audit/proof/inclusion?index=0&index=1&size=2");
  ASSERT_TRUE(repeated);
  EXPECT_EQ(repeated->status, 400);
  const signerapi::ErrorBody repeated_error = signerapi::DecodeErrorBody(repeated->body).value();
  EXPECT_EQ(repeated_error.code, "invalid_argument");
  EXPECT_NE(repeated_error.message.find("query parameter 'index' is repeated"), std::string::npos);
}

TEST_F(HttpServerTest, RefusesOversizeBodiesFromTheHeadersAlone) {
  RunningServer server(*service_, net::HttpServerOptions{});
  // Only the headers are sent: the server answers 413 without waiting for the body.
  struct Case {
    std::string path;
    size_t length;
  };
  const std::vector<Case> cases = {
      {"/v1/sign", signerapi::kMaxSignRequestSize + 1},
      {"/v1/freeze", signerapi::kMaxFreezeRequestSize + 1},
      {"/v1/unfreeze", signerapi::kMaxUnfreezeRequestSize + 1},
      {"/v1/policy", signerapi::kMaxPolicyUpdateRequestSize + 1},
      {"/v1/sign", size_t{1} << 40},
  };
  for (const Case& c : cases) {
    const std::string answer =
        RawExchange(server.port(), "POST " + c.path +
                                       " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                       "Content-Length: " +
                                       std::to_string(c.length) + "\r\n\r\n");
    EXPECT_EQ(answer.rfind("HTTP/1.1 413", 0), 0u) << c.path << ": " << answer;
    EXPECT_NE(answer.find("\"too_large\""), std::string::npos) << c.path << ": " << answer;
  }
  // At the limit, the body is read and judged by the service (here: not JSON).
  httplib::Client client("127.0.0.1", server.port());
  httplib::Result at_limit = client.Post(
      "/v1/freeze", std::string(signerapi::kMaxFreezeRequestSize, ' '), "application/json");
  ASSERT_TRUE(at_limit);
  EXPECT_EQ(at_limit->status, 400);
  // The 413s were counted.
  EXPECT_NE(service_->MetricsText().find("413"), std::string::npos);
}

TEST_F(HttpServerTest, CreateRefusesBadOptions) {
  EXPECT_EQ(net::HttpServer::Create(*service_, Options("", 0)).status().code(),
            util::StatusCode::kInvalidArgument);
  EXPECT_EQ(net::HttpServer::Create(*service_, Options("127.0.0.1", 0, "cert.pem")).status().code(),
            util::StatusCode::kInvalidArgument);
  EXPECT_EQ(net::HttpServer::Create(*service_,
                                    Options("127.0.0.1", 0, "/nonexistent.pem", "/nonexistent.key"))
                .status()
                .code(),
            util::StatusCode::kUnavailable);
  // A port in use.
  std::unique_ptr<net::HttpServer> first =
      net::HttpServer::Create(*service_, net::HttpServerOptions{}).value();
  const util::Status in_use =
      net::HttpServer::Create(*service_, Options("127.0.0.1", first->port())).status();
  EXPECT_EQ(in_use.code(), util::StatusCode::kUnavailable) << in_use;
  EXPECT_NE(in_use.message().find(std::to_string(first->port())), std::string::npos) << in_use;
  // Stopped before it ran: Run returns at once.
  first->Stop();
  EXPECT_TRUE(first->Run().ok());
}

TEST_F(HttpServerTest, ServesTlsWithAVerifiedCertificate) {
  const std::string cert = temp_->path() + "/cert.pem";
  const std::string key = temp_->path() + "/key.pem";
  const std::string command =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 "
      "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout " +
      key + " -out " + cert + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  RunningServer server(*service_, Options("127.0.0.1", 0, cert, key));
  httplib::SSLClient client("127.0.0.1", server.port());
  client.set_ca_cert_path(cert.c_str());
  client.enable_server_certificate_verification(true);
  httplib::Result health = client.Get("/healthz");
  ASSERT_TRUE(health) << httplib::to_string(health.error());
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(health->body, "ok\n");

  // A client that trusts another CA refuses the server.
  const std::string other_cert = temp_->path() + "/other.pem";
  const std::string other =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
      "-nodes -days 1 -subj /CN=other -keyout " +
      temp_->path() + "/other.key -out " + other_cert + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(other.c_str()), 0);
  httplib::SSLClient untrusting("127.0.0.1", server.port());
  untrusting.set_ca_cert_path(other_cert.c_str());
  untrusting.enable_server_certificate_verification(true);
  EXPECT_FALSE(untrusting.Get("/healthz"));

  // Plain HTTP on the TLS port gets no answer.
  httplib::Client plain("127.0.0.1", server.port());
  plain.set_read_timeout(2, 0);
  httplib::Result answer = plain.Get("/healthz");
  EXPECT_TRUE(!answer || answer->status != 200);
}

}  // namespace
}  // namespace kinko::signerd
