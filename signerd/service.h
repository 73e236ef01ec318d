// The signer service: what `kinko-signer run` serves (doc/signer-api.md). It owns the state store,
// the in-memory state and audit log, the key backend and the identity key, and answers each HTTP
// request (already read by net/http_server.h) with a reply: status, content type and body.
//
// A sign request is handled as DESIGN.md section 5 says: the body is decoded strictly
// (signerapi/json_codec.h; 400 and nothing logged when malformed; when a signature in it does
// not verify, or its known head was not signed by this signer, 403 "invalid_signature" and a
// request entry and a refused decision entry logged), then signer::DecideSign decides at the
// service clock's `now` (with what the log says about the known head); the request entry and
// the decision
// entry are appended to the audit log, the state change committed and a new tree head signed,
// in one durable StateStore::Apply; only then, when allowed, is the PSBT signed with the key
// backend and returned. If Apply fails the answer is 503 and nothing is signed; if signing fails
// after the decision was committed, the answer is 500 and the intents stay consumed (a signature
// that might have been made is never made twice).
//
// A policy update, freeze or unfreeze that decoded (or failed to decode only because a signature
// does not verify) and is refused is logged as a refused decision entry (the body's digest, no
// intent ids, the stable code of signer/decide.h or "invalid_signature") and answered with an
// ErrorBody carrying that code. Accepted ones are logged as policy change, freeze and unfreeze
// entries; a freeze already in force is accepted again and not logged.
//
// The clock is monotonic as the decisions see it: `now` is the later of the clock and the time
// of the last logged entry, so a clock stepped back cannot reopen a velocity window.
//
// Thread-safe: Handle may be called from several threads; requests that read or change the
// state are serialised by one mutex (decisions are sequential), metrics are atomic.
#ifndef KINKO_SIGNERD_SERVICE_H_
#define KINKO_SIGNERD_SERVICE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "crypto/secret.h"
#include "net/http.h"
#include "signerd/secret_input.h"
#include "util/result.h"
#include "util/status.h"

namespace kinko::signerd {

// The software name logged in start-up entries.
inline constexpr std::string_view kSignerSoftware = "kinko-signer 0.1.0";

// Requests and replies as net/http.h defines them.
using HttpRequest = net::HttpRequest;
using HttpReply = net::HttpReply;

struct ServiceOptions {
  std::string dir;  // The state directory made by `kinko-signer init`.
  // The passphrase of the identity key file (and of the signing key file for the file backend).
  crypto::SecretBytes passphrase;
  // The PKCS#11 user PIN, for the pkcs11 backend.
  std::optional<TokenPin> pin;
  // Seconds since the Unix epoch; defaults to the system clock.
  std::function<uint64_t()> clock;
};

// Movable only through its unique_ptr.
class SignerService final : public net::HttpHandler {
 public:
  // Opens the state directory: the state database (exclusive lock), the identity key and the key
  // backend (its key must be one of the wallet descriptor's keys: kFailedPrecondition
  // otherwise; a taproot wallet needs the file backend: kFailedPrecondition naming it), loads
  // and verifies the state (StateStore::Load), and logs a start-up entry. Fails with the store's
  // and the backends' errors (kNotFound for a missing directory or file, kPermissionDenied for a
  // wrong passphrase or PIN, kDataLoss for a damaged state).
  static util::Result<std::unique_ptr<SignerService>> Open(ServiceOptions options);

  ~SignerService();
  SignerService(const SignerService&) = delete;
  SignerService& operator=(const SignerService&) = delete;

  // Answers one request (the routes, statuses and bodies of doc/signer-api.md; unknown path
  // 404, wrong method 405 with "Allow", body over the endpoint's limit 413, a POST whose
  // Content-Type is not application/json 415). Never throws; every error is a reply with an
  // ErrorBody.
  HttpReply Handle(const HttpRequest& request) override;

  // The body limits of signerapi/json_codec.h for the POST endpoints; 64 KiB elsewhere.
  size_t BodyLimit(std::string_view path) const override;

  // A reply with an ErrorBody (unprintable bytes of `message` written as \xNN).
  HttpReply ErrorReply(int status, std::string_view code, std::string message) const override;

  // The Prometheus text exposition (GET /metrics).
  std::string MetricsText() const;

  // Counts a request the HTTP layer answered itself (e.g. 413 before reading the body) in
  // kinko_signer_requests_total.
  void CountRequest(const std::string& endpoint, int status) override;

 private:
  struct Impl;
  explicit SignerService(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kinko::signerd

#endif  // KINKO_SIGNERD_SERVICE_H_
