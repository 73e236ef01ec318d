#include "cli/internal/kinkod_client.h"

#include <ctime>
#include <map>

#include "coordinator/api_auth.h"

namespace kinko::cli::internal {
namespace {

// kinkod's error answer as a Status of the code its HTTP status means.
util::Status ErrorStatus(int http_status, std::string message) {
  switch (http_status) {
    case 400:
    case 413:
    case 415:
      return util::InvalidArgumentError(std::move(message));
    case 401:
    case 403:
    case 422:
      return util::PermissionDeniedError(std::move(message));
    case 404:
      return util::NotFoundError(std::move(message));
    case 409:
      return util::FailedPreconditionError(std::move(message));
    case 503:
      return util::UnavailableError(std::move(message));
    default:
      return util::InternalError(std::move(message));
  }
}

// Parses a JSON body without letting nlohmann's exception escape.
util::Result<Json> ParseJson(const std::string& body) {
  Json parsed = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return util::InvalidArgumentError("answer is not JSON");
  return parsed;
}

}  // namespace

util::Result<KinkodClient> KinkodClient::Create(std::string_view url,
                                                const crypto::Ed25519PrivateKey& key,
                                                const std::string& ca_cert) {
  net::HttpClientOptions options;
  options.ca_cert = ca_cert;
  util::Result<net::HttpClient> client = net::HttpClient::Create(url, options);
  if (!client.ok()) return client.status();
  return KinkodClient(*std::move(client), key);
}

util::Result<Json> KinkodClient::Get(const std::string& target) { return Call("GET", target, ""); }

util::Result<Json> KinkodClient::Post(const std::string& target, const Json& body) {
  return Call("POST", target, body.dump());
}

util::Result<Json> KinkodClient::Call(std::string_view method, const std::string& target,
                                      const std::string& body) {
  const uint64_t now = static_cast<uint64_t>(std::time(nullptr));
  const std::map<std::string, std::string> headers = {
      {"Authorization", coordinator::AuthorizationHeader(*key_, method, target, now, body)}};
  util::Result<net::HttpResponse> response =
      method == "GET" ? client_.Get(target, headers)
                      : client_.Post(target, body, "application/json", headers);
  const std::string what = std::string(method) + " " + target;
  if (!response.ok()) return response.status().WithPrefix(what);
  util::Result<Json> parsed = ParseJson(response->body);
  if (response->status >= 200 && response->status < 300) {
    if (!parsed.ok()) return parsed.status().WithPrefix(what);
    return parsed;
  }
  std::string message = what + ": " + std::to_string(response->status);
  if (parsed.ok() && parsed->contains("error") && (*parsed)["error"].is_object()) {
    const Json& error = (*parsed)["error"];
    const auto text_of = [&error](const char* field) {
      return error.contains(field) && error[field].is_string() ? error[field].get<std::string>()
                                                               : std::string();
    };
    message += " " + text_of("code") + ": " + text_of("message");
  }
  return ErrorStatus(response->status, std::move(message));
}

}  // namespace kinko::cli::internal
