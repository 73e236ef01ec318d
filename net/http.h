// HTTP requests and replies as kinko's daemons see them, and the handler a server hands them to
// (net/http_server.h). Plain values: no library type appears here.
//
// Thread-safe: values; an HttpHandler states its own thread-safety (HttpServer calls it from
// several threads at once).
#ifndef KINKO_NET_HTTP_H_
#define KINKO_NET_HTTP_H_

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace kinko::net {

// A request as the HTTP layer read it.
struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string path;    // "/v1/sign"
  // The request target exactly as sent: the path, still percent-encoded, and its query
  // string ("/v1/intents?state=approved"), for signatures over the request (kinkod's API).
  std::string target;
  std::map<std::string, std::string> query;  // Decoded query parameters, each name once.
  std::string content_type;                  // The Content-Type header, or "".
  // Other headers a handler asked for (HttpHandler::RequestHeaders), by lowercase name.
  std::map<std::string, std::string> headers;
  std::string body;
};

// The answer.
struct HttpReply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  // Extra headers ("Retry-After", "Allow").
  std::map<std::string, std::string> headers;
};

// What a server serves. Implementations must be safe to call from several threads at once.
class HttpHandler {
 public:
  virtual ~HttpHandler() = default;

  // Answers one request. Never throws; every error is a reply.
  virtual HttpReply Handle(const HttpRequest& request) = 0;

  // The largest body accepted on `path`: the server answers 413 from the Content-Length header
  // alone, before reading the body, when it is larger.
  virtual size_t BodyLimit(std::string_view path) const = 0;

  // The reply for an error the server finds itself (413, a malformed Content-Length, a repeated
  // query parameter): `code` is a snake_case name, `message` a sentence that may hold bytes of
  // the request (the handler escapes what it must).
  virtual HttpReply ErrorReply(int status, std::string_view code, std::string message) const = 0;

  // Counts a request the server answered itself, for the handler's metrics.
  virtual void CountRequest(const std::string& path, int status) = 0;

  // Lowercase names of the request headers the handler wants in HttpRequest::headers.
  virtual const std::vector<std::string>& RequestHeaders() const {
    static const std::vector<std::string> kNone;
    return kNone;
  }
};

}  // namespace kinko::net

#endif  // KINKO_NET_HTTP_H_
