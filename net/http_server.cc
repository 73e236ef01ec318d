#include "net/http_server.h"

#include <httplib.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <string_view>
#include <thread>
#include <utility>

namespace kinko::net {
namespace {

// Idle connections, and reading or writing one request, time out after this many seconds.
constexpr time_t kTimeoutSeconds = 5;

// Above this the library itself refuses a body; each path's own limit is the handler's.
constexpr size_t kMaxBodySize = 64 * 1024 * 1024;

void SetReply(httplib::Response& res, HttpReply reply) {
  res.status = reply.status;
  for (const auto& [name, value] : reply.headers) res.set_header(name, value);
  res.set_content(std::move(reply.body), reply.content_type);
}

// Parses a Content-Length value: decimal digits only. nullopt for anything else.
std::optional<uint64_t> ParseLength(std::string_view text) {
  if (text.empty() || text.size() > 19) return std::nullopt;
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  return value;
}

// TLS: TLS 1.2 or later, the certificate chain and key from PEM files.
bool SetUpTls(SSL_CTX& ctx, const std::string& certificate, const std::string& private_key) {
  return SSL_CTX_set_min_proto_version(&ctx, TLS1_2_VERSION) == 1 &&
         SSL_CTX_use_certificate_chain_file(&ctx, certificate.c_str()) == 1 &&
         SSL_CTX_use_PrivateKey_file(&ctx, private_key.c_str(), SSL_FILETYPE_PEM) == 1 &&
         SSL_CTX_check_private_key(&ctx) == 1;
}

}  // namespace

struct HttpServer::Impl {
  HttpHandler* handler = nullptr;
  std::unique_ptr<httplib::Server> server;
  uint16_t port = 0;
  std::atomic<bool> stopped{false};
  std::atomic<bool> running{false};

  // Answers 413 from the headers alone, before the body is read.
  httplib::Server::HandlerResponse CheckLength(const httplib::Request& req,
                                               httplib::Response& res) {
    if (!req.has_header("Content-Length")) return httplib::Server::HandlerResponse::Unhandled;
    const std::optional<uint64_t> length = ParseLength(req.get_header_value("Content-Length"));
    const size_t limit = handler->BodyLimit(req.path);
    if (!length) {
      SetReply(res,
               handler->ErrorReply(400, "invalid_argument", "malformed Content-Length header"));
    } else if (*length > limit) {
      SetReply(res, handler->ErrorReply(413, "too_large",
                                        "request body of " + std::to_string(*length) +
                                            " bytes is larger than the " + std::to_string(limit) +
                                            " bytes this endpoint accepts"));
    } else {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    // The body was not read: the connection cannot carry another request.
    res.set_header("Connection", "close");
    handler->CountRequest(req.path, res.status);
    return httplib::Server::HandlerResponse::Handled;
  }

  void Serve(const httplib::Request& req, httplib::Response& res) {
    HttpRequest request{.method = req.method,
                        .path = req.path,
                        .target = req.target,
                        .query = {},
                        .content_type = req.get_header_value("Content-Type"),
                        .headers = {},
                        .body = req.body};
    for (const std::string& name : handler->RequestHeaders()) {
      if (req.has_header(name)) request.headers.emplace(name, req.get_header_value(name));
    }
    for (const auto& [name, value] : req.params) {
      // A repeated parameter would have two meanings; the handler sees each name once.
      if (!request.query.emplace(name, value).second) {
        SetReply(res,
                 handler->ErrorReply(400, "invalid_argument",
                                     "query parameter '" + name.substr(0, 64) + "' is repeated"));
        handler->CountRequest(req.path, res.status);
        return;
      }
    }
    SetReply(res, handler->Handle(request));
  }
};

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() { Stop(); }

util::Result<std::unique_ptr<HttpServer>> HttpServer::Create(HttpHandler& handler,
                                                             const HttpServerOptions& options) {
  if (options.host.empty()) return util::InvalidArgumentError("listen address: empty host");
  if (options.tls_certificate.empty() != options.tls_private_key.empty()) {
    return util::InvalidArgumentError(
        "tls: give both the certificate and the private key, or neither");
  }
  auto impl = std::make_unique<Impl>();
  impl->handler = &handler;
  if (options.tls_certificate.empty()) {
    impl->server = std::make_unique<httplib::Server>();
  } else {
    const std::string certificate = options.tls_certificate;
    const std::string private_key = options.tls_private_key;
    auto server = std::make_unique<httplib::SSLServer>(
        [&](SSL_CTX& ctx) { return SetUpTls(ctx, certificate, private_key); });
    if (!server->is_valid()) {
      return util::UnavailableError("tls: cannot load the certificate '" + certificate +
                                    "' and private key '" + private_key + "'");
    }
    impl->server = std::move(server);
  }
  httplib::Server& server = *impl->server;
  // SO_REUSEADDR only: the library's default also sets SO_REUSEPORT, which would let a second
  // process bind the same port and take a share of the connections.
  server.set_socket_options([](socket_t sock) {
    const int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  // Answers go out at once: with Nagle's algorithm a response written in two parts waits for
  // the client's delayed acknowledgement (about 40 ms) on a keep-alive connection.
  server.set_tcp_nodelay(true);
  server.set_payload_max_length(kMaxBodySize);
  server.set_read_timeout(kTimeoutSeconds, 0);
  server.set_write_timeout(kTimeoutSeconds, 0);
  server.set_keep_alive_timeout(kTimeoutSeconds);
  Impl* raw = impl.get();
  server.set_pre_routing_handler([raw](const httplib::Request& req, httplib::Response& res) {
    return raw->CheckLength(req, res);
  });
  const auto serve = [raw](const httplib::Request& req, httplib::Response& res) {
    raw->Serve(req, res);
  };
  // Every method and path goes to the handler, which answers 404 and 405 itself.
  constexpr const char* kAnyPath = ".*";
  server.Get(kAnyPath, serve);
  server.Post(kAnyPath, serve);
  server.Put(kAnyPath, serve);
  server.Patch(kAnyPath, serve);
  server.Delete(kAnyPath, serve);
  server.Options(kAnyPath, serve);

  const std::string where = options.host + ":" + std::to_string(options.port);
  if (options.port == 0) {
    const int port = server.bind_to_any_port(options.host);
    if (port <= 0) return util::UnavailableError("cannot listen on " + where);
    impl->port = static_cast<uint16_t>(port);
  } else {
    if (!server.bind_to_port(options.host, options.port)) {
      return util::UnavailableError("cannot listen on " + where);
    }
    impl->port = options.port;
  }
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

uint16_t HttpServer::port() const { return impl_->port; }

util::Status HttpServer::Run() {
  impl_->running = true;
  const bool listened = impl_->stopped ? true : impl_->server->listen_after_bind();
  impl_->running = false;
  if (impl_->stopped) return util::OkStatus();
  if (!listened) return util::UnavailableError("http server: the listener failed");
  return util::OkStatus();
}

void HttpServer::Stop() {
  impl_->stopped = true;
  // A Run that has begun but is not listening yet would miss a single stop(): repeat until it
  // has returned.
  while (impl_->running) {
    impl_->server->stop();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace kinko::net
