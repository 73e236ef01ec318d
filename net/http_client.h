// An HTTP/1.1 client for kinko's own peers: the coordinator calling signers and Bitcoin Core's
// JSON-RPC, the CLI calling a signer or kinkod. Keep-alive on one connection, TLS with
// certificate verification for https:// URLs, bounded answers. Built on cpp-httplib; nothing of
// it appears in this header.
//
// Not thread-safe; one owner (make one client per thread, they are cheap).
#ifndef KINKO_NET_HTTP_CLIENT_H_
#define KINKO_NET_HTTP_CLIENT_H_

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "util/result.h"

namespace kinko::net {

struct HttpClientOptions {
  // PEM file of the CA certificates trusted for https:// URLs; empty: the system's store.
  std::string ca_cert;
  int connect_timeout_seconds = 5;
  int read_timeout_seconds = 30;
  // HTTP basic authentication (Bitcoin Core's RPC): sent when `basic_user` is not empty. The
  // password is not logged or put in error messages.
  std::string basic_user;
  std::string basic_password;
  // Answers with a larger body are refused (kInvalidArgument).
  size_t max_response_size = 32 * 1024 * 1024;
};

struct HttpResponse {
  int status = 0;
  std::string content_type;
  std::string body;
};

// Movable, not copyable.
class HttpClient final {
 public:
  // A client for `url`: "http://host:port" or "https://host:port" (no path; a trailing '/' is
  // dropped). Fails with kInvalidArgument when the URL has another form.
  static util::Result<HttpClient> Create(std::string_view url, HttpClientOptions options = {});

  HttpClient(HttpClient&&) noexcept;
  HttpClient& operator=(HttpClient&&) noexcept;
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;
  ~HttpClient();

  // The URL given to Create, without a trailing '/'.
  const std::string& url() const { return url_; }

  // GET `path` (with its query string). Returns the answer whatever its status. Fails with
  // kUnavailable naming the URL and path when no answer came (connection refused, timeout, TLS
  // failure), and kInvalidArgument when the body is larger than max_response_size.
  util::Result<HttpResponse> Get(const std::string& path,
                                 const std::map<std::string, std::string>& headers = {});

  // POST `body` to `path` with `content_type`. Fails as Get.
  util::Result<HttpResponse> Post(const std::string& path, std::string_view body,
                                  std::string_view content_type,
                                  const std::map<std::string, std::string>& headers = {});

 private:
  struct Impl;
  HttpClient(std::string url, std::unique_ptr<Impl> impl);
  std::string url_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kinko::net

#endif  // KINKO_NET_HTTP_CLIENT_H_
