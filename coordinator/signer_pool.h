// The coordinator's side of the signer protocol (doc/signer-api.md): sends a sign request to a
// wallet's signers over HTTP, one after another, until `threshold` of them have signed, and
// checks every audit head a signer returns against the last one kept for it (decision 0008): the
// new head must be signed by the signer's identity key and extend the kept one (a consistency
// proof fetched from the signer, GET /v1/audit/proof/consistency); a signer whose log was rolled
// back or rewritten is reported and its signature NOT used.
//
// Thread-safe: Sign may be called from several threads at once (one HTTP client per call).
#ifndef KINKO_COORDINATOR_SIGNER_POOL_H_
#define KINKO_COORDINATOR_SIGNER_POOL_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "btc/psbt.h"
#include "coordinator/config.h"
#include "crypto/ed25519.h"
#include "signerapi/messages.h"
#include "storage/store.h"
#include "util/result.h"

namespace kinko::coordinator {

// What one signer answered.
struct SignerAnswer {
  std::string url;
  policy::KeyId signer{};
  enum class Outcome {
    kSigned,      // 200: `psbt` holds its signatures.
    kRefused,     // 403/409/423...: a decision, with `refusal` (logged by the signer); also
                  // a 403 error body "invalid_signature" (a forged or altered request).
    kError,       // No decision: unreachable, 4xx/5xx error body, bad answer; `error` says.
    kRolledBack,  // Its audit head does not extend the kept one (or is not validly signed).
  } outcome = Outcome::kError;
  std::optional<btc::Psbt> psbt;
  std::optional<signerapi::RefusedResult> refusal;
  std::optional<signerapi::AuditReceipt> audit;
  std::string error;
};

// "signed", "refused", "error", "rolled_back".
std::string_view SignerOutcomeName(SignerAnswer::Outcome outcome);

struct SignOutcome {
  std::vector<SignerAnswer> answers;  // In the order asked.
  // The signed PSBTs (answers with kSigned), at least `threshold` when enough signed.
  std::vector<btc::Psbt> signed_psbts;
  bool enough() const;  // signed_psbts.size() >= threshold
  uint32_t threshold = 0;
};

class SignerPool {
 public:
  // `signers` in the order they are asked; `store` keeps their audit heads.
  SignerPool(std::vector<SignerEndpoint> signers, uint32_t threshold, storage::Store& store);

  // Sends `request` to the signers in order until `threshold` signed or all were asked, each
  // with the latest signed audit head kept for it as known_head (none before its first answer;
  // `request.known_head` is replaced). A signer whose kept head cannot be read (store down) is
  // not asked: its answer is kError. Called
  // after each answer with it, so the caller can persist it before the next signer is asked
  // (`on_answer` returning an error stops the round with that error). Never fails for a
  // signer's refusal or absence: those are answers.
  util::Result<SignOutcome> Sign(const signerapi::SignRequest& request,
                                 const std::function<util::Status(const SignerAnswer&)>& on_answer);

  // GET /v1/status of every signer (for /healthz and the demo): nullopt for one unreachable.
  std::vector<std::optional<signerapi::StatusResponse>> Status();

 private:
  std::vector<SignerEndpoint> signers_;
  uint32_t threshold_;
  storage::Store* store_;
};

}  // namespace kinko::coordinator

#endif  // KINKO_COORDINATOR_SIGNER_POOL_H_
