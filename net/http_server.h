// An HTTP server for kinko's daemons (kinko-signer, kinkod): reads requests on a TCP socket
// (HTTP/1.1, optionally TLS) and hands each to an HttpHandler (net/http.h). Built on cpp-httplib
// (Debian's libcpp-httplib-dev); nothing of it appears in this header.
//
// Limits: request bodies above the handler's limit for the path (HttpHandler::BodyLimit) are
// answered 413 before they are read; headers and URIs are bounded by the library; idle
// connections time out after 5 seconds. Requests are served by a small thread pool; the handler
// serialises what must be serialised.
//
// Thread-safe: Stop may be called from any thread or a signal handler's helper thread.
#ifndef KINKO_NET_HTTP_SERVER_H_
#define KINKO_NET_HTTP_SERVER_H_

#include <cstdint>
#include <memory>
#include <string>

#include "net/http.h"
#include "util/result.h"
#include "util/status.h"

namespace kinko::net {

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;  // 0: any free port (see HttpServer::port()).
  // TLS: both set, or neither (plain HTTP). PEM files.
  std::string tls_certificate;
  std::string tls_private_key;
};

class HttpServer final {
 public:
  // Binds the socket. Fails with kInvalidArgument for a bad host or only one TLS file,
  // kUnavailable when the address cannot be bound (naming it) or the TLS files cannot be
  // loaded. `handler` must outlive the server.
  static util::Result<std::unique_ptr<HttpServer>> Create(HttpHandler& handler,
                                                          const HttpServerOptions& options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The bound port.
  uint16_t port() const;
  // Serves until Stop. Returns OK after Stop, kUnavailable when the listener fails.
  util::Status Run();
  // Makes Run return after the requests in progress are answered.
  void Stop();

 private:
  struct Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kinko::net

#endif  // KINKO_NET_HTTP_SERVER_H_
