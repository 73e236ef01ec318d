// A client of kinkod's HTTP API for the `kinko` commands (`kinko utxo import`, `kinko demo`):
// each request is signed with an identity key (coordinator/api_auth.h, the Authorization
// header), bodies are JSON, and kinkod's error document ({"error": {"code", "message"}}) becomes
// a Status naming the request.
//
// Not thread-safe; one owner.
#ifndef KINKO_CLI_INTERNAL_KINKOD_CLIENT_H_
#define KINKO_CLI_INTERNAL_KINKOD_CLIENT_H_

#include <functional>
#include <string>
#include <string_view>

#include "cli/json_output.h"
#include "crypto/ed25519.h"
#include "net/http_client.h"
#include "util/result.h"

namespace kinko::cli::internal {

// Movable, not copyable.
class KinkodClient final {
 public:
  // A client of the kinkod at `url` (http://HOST:PORT or https://HOST:PORT) signing as `key`,
  // which must outlive the client. `ca_cert`: PEM file of trusted CAs for https (empty: the
  // system's). Fails with kInvalidArgument for a URL of another form.
  static util::Result<KinkodClient> Create(std::string_view url,
                                           const crypto::Ed25519PrivateKey& key,
                                           const std::string& ca_cert = "");

  // GET `target` (path and query). Returns the JSON body of a 2xx answer. Fails with
  // kUnavailable when kinkod cannot be reached, with the code matching the HTTP status of an
  // error answer (400 kInvalidArgument, 401/403/422 kPermissionDenied, 404 kNotFound, 409
  // kFailedPrecondition, 503 kUnavailable, others kInternal) and the message
  // "<METHOD> <target>: <status> <code>: <message>", and with kInvalidArgument when a 2xx body
  // is not JSON.
  util::Result<Json> Get(const std::string& target);

  // POST `body` (JSON) to `target`. Fails as Get.
  util::Result<Json> Post(const std::string& target, const Json& body);

  const std::string& url() const { return client_.url(); }

  KinkodClient(KinkodClient&&) = default;
  KinkodClient& operator=(KinkodClient&&) = default;
  KinkodClient(const KinkodClient&) = delete;
  KinkodClient& operator=(const KinkodClient&) = delete;

 private:
  KinkodClient(net::HttpClient client, const crypto::Ed25519PrivateKey& key)
      : client_(std::move(client)), key_(&key) {}

  util::Result<Json> Call(std::string_view method, const std::string& target,
                          const std::string& body);

  net::HttpClient client_;
  const crypto::Ed25519PrivateKey* key_;  // Not owned; never null.
};

}  // namespace kinko::cli::internal

#endif  // KINKO_CLI_INTERNAL_KINKOD_CLIENT_H_
