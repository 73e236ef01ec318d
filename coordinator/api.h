// kinkod's HTTP API (doc/coordinator-api.md): routes, authentication, strict JSON request
// decoding, error bodies, one JSON log line per request, and the Prometheus metrics. The
// handler is thin: every decision about intents, approvals, coins and batches is the
// Coordinator's (coordinator/workflow.h); this file maps HTTP to its calls and its answers to
// JSON.
//
// Every route except GET /healthz and GET /metrics requires the Authorization header of
// coordinator/api_auth.h by a known key: a key named in a wallet's policy (policy_file), a
// configured client or a configured operator. Importing coins and executing intents need an
// operator. Authentication comes after routing (404, 405) and before anything else (415, 400).
//
// Statuses: 400 malformed request (naming the field), 401 no or bad signature, 403 unknown key
// or not an operator, 404 unknown route or object, 405 wrong method (with Allow), 409 id taken
// by other content or a state conflict, 413 body over the route's limit, 415 a POST that is not
// application/json, 422 the coordinator refuses the object (a signature inside it, an expired
// intent, a policy refusal of a submitted intent), 500 a bug or a damaged store, 503 the store
// or the chain backend is down (with Retry-After).
//
// Thread-safe: Handle may be called from several threads at once; the Coordinator and Store are
// thread-safe, the metrics are under their own mutex.
#ifndef KINKO_COORDINATOR_API_H_
#define KINKO_COORDINATOR_API_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "coordinator/chain.h"
#include "coordinator/config.h"
#include "coordinator/workflow.h"
#include "net/http.h"
#include "storage/store.h"
#include "util/result.h"

namespace kinko::coordinator {

// Body limits (HttpHandler::BodyLimit), in bytes.
inline constexpr size_t kMaxIntentRequestSize = 1024 * 1024;      // POST /v1/intents
inline constexpr size_t kMaxApprovalRequestSize = 1024 * 1024;    // POST .../approvals
inline constexpr size_t kMaxImportRequestSize = 4 * 1024 * 1024;  // POST .../utxos/import
inline constexpr size_t kMaxOtherRequestSize = 64 * 1024;         // execute and every GET

// --- Request bodies, decoded strictly: one JSON object, no duplicate key, no unknown field,
// the right types, lowercase hex. Each fails with kInvalidArgument naming the field. ---

// {"signed_intent": "<hex>"}: the bytes of the hex (not decoded further).
util::Result<std::vector<uint8_t>> DecodeIntentRequest(std::string_view body);
// {"signed_approval": "<hex>"}.
util::Result<std::vector<uint8_t>> DecodeApprovalRequest(std::string_view body);
// {"raw_tx": "<hex>"}.
util::Result<std::vector<uint8_t>> DecodeImportRequest(std::string_view body);
// {"intents": ["<32 hex>", ...]} (at most 1000, no duplicates; may be empty).
util::Result<std::vector<storage::IntentId>> DecodeExecuteRequest(std::string_view body);

struct ApiOptions {
  // Seconds since the Unix epoch (request signatures' time check); default: the system clock.
  std::function<uint64_t()> clock;
  // Receives each log line (one JSON object, no newline); default: written to stderr.
  std::function<void(const std::string&)> log;
};

// Movable only through its unique_ptr.
class ApiHandler final : public net::HttpHandler {
 public:
  // Reads the signed policy of every wallet of `config` (its policy_file) for the key ids it
  // names. Fails with kNotFound naming the wallet when a policy file cannot be opened, and
  // kInvalidArgument when it does not decode. `coordinator`, `store` and `chain` must outlive
  // the handler.
  static util::Result<std::unique_ptr<ApiHandler>> Create(Coordinator& coordinator,
                                                          storage::Store& store,
                                                          ChainBackend& chain, const Config& config,
                                                          ApiOptions options);
  ~ApiHandler() override;
  ApiHandler(const ApiHandler&) = delete;
  ApiHandler& operator=(const ApiHandler&) = delete;

  // Answers one request (doc/coordinator-api.md), with an X-Request-Id header, and logs it.
  net::HttpReply Handle(const net::HttpRequest& request) override;
  // kMax*RequestSize of the route `path` names (kMaxOtherRequestSize for any other path).
  size_t BodyLimit(std::string_view path) const override;
  // {"error": {"code": `code`, "message": `message` escaped}}.
  net::HttpReply ErrorReply(int status, std::string_view code, std::string message) const override;
  // Counts a request the HTTP layer answered (413) in kinkod_requests_total.
  void CountRequest(const std::string& path, int status) override;
  // {"authorization"}.
  const std::vector<std::string>& RequestHeaders() const override;

  // The Prometheus text exposition (GET /metrics).
  std::string MetricsText();

 private:
  struct Impl;
  explicit ApiHandler(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kinko::coordinator

#endif  // KINKO_COORDINATOR_API_H_
