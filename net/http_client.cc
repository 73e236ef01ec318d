#include "net/http_client.h"

#include <httplib.h>

#include <utility>

#include "util/status.h"

namespace kinko::net {

struct HttpClient::Impl {
  std::unique_ptr<httplib::Client> client;
  size_t max_response_size = 0;
};

HttpClient::HttpClient(std::string url, std::unique_ptr<Impl> impl)
    : url_(std::move(url)), impl_(std::move(impl)) {}
HttpClient::HttpClient(HttpClient&&) noexcept = default;
HttpClient& HttpClient::operator=(HttpClient&&) noexcept = default;
HttpClient::~HttpClient() = default;

util::Result<HttpClient> HttpClient::Create(std::string_view url, HttpClientOptions options) {
  std::string base(url);
  if (!base.empty() && base.back() == '/') base.pop_back();
  const bool https = base.starts_with("https://");
  const std::string expected = "url '" + std::string(url.substr(0, 200)) +
                               "': expected http://HOST:PORT or https://HOST:PORT";
  if (!https && !base.starts_with("http://")) return util::InvalidArgumentError(expected);
  const std::string_view authority = std::string_view(base).substr(https ? 8 : 7);
  if (authority.empty() || authority.find_first_of("/?#@ ") != std::string_view::npos) {
    return util::InvalidArgumentError(expected);
  }
  auto impl = std::make_unique<Impl>();
  impl->client = std::make_unique<httplib::Client>(base);
  if (!impl->client->is_valid()) return util::InvalidArgumentError(expected);
  impl->max_response_size = options.max_response_size;
  httplib::Client& client = *impl->client;
  client.set_connection_timeout(options.connect_timeout_seconds, 0);
  client.set_read_timeout(options.read_timeout_seconds, 0);
  client.set_write_timeout(options.read_timeout_seconds, 0);
  client.set_keep_alive(true);
  client.set_tcp_nodelay(true);
  if (!options.basic_user.empty()) {
    client.set_basic_auth(options.basic_user.c_str(), options.basic_password.c_str());
  }
  if (https) {
    client.enable_server_certificate_verification(true);
    if (!options.ca_cert.empty()) client.set_ca_cert_path(options.ca_cert.c_str());
  }
  return HttpClient(std::move(base), std::move(impl));
}

namespace {

util::Result<HttpResponse> ToResponse(const std::string& where, httplib::Result result,
                                      size_t max_size) {
  if (!result) return util::UnavailableError(where + ": " + httplib::to_string(result.error()));
  if (result->body.size() > max_size) {
    return util::InvalidArgumentError(where + ": answer of " + std::to_string(result->body.size()) +
                                      " bytes is larger than the limit of " +
                                      std::to_string(max_size));
  }
  return HttpResponse{.status = result->status,
                      .content_type = result->get_header_value("Content-Type"),
                      .body = std::move(result->body)};
}

httplib::Headers ToHeaders(const std::map<std::string, std::string>& headers) {
  httplib::Headers out;
  for (const auto& [name, value] : headers) out.emplace(name, value);
  return out;
}

}  // namespace

util::Result<HttpResponse> HttpClient::Get(const std::string& path,
                                           const std::map<std::string, std::string>& headers) {
  return ToResponse(url_ + path, impl_->client->Get(path, ToHeaders(headers)),
                    impl_->max_response_size);
}

util::Result<HttpResponse> HttpClient::Post(const std::string& path, std::string_view body,
                                            std::string_view content_type,
                                            const std::map<std::string, std::string>& headers) {
  return ToResponse(url_ + path,
                    impl_->client->Post(path, ToHeaders(headers), body.data(), body.size(),
                                        std::string(content_type)),
                    impl_->max_response_size);
}

}  // namespace kinko::net
