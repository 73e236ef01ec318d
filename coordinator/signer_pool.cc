#include "coordinator/signer_pool.h"

#include <ctime>
#include <string>
#include <utility>
#include <variant>

#include "auditlog/tree_head.h"
#include "net/http_client.h"
#include "policy/identity.h"
#include "signerapi/audit_codec.h"
#include "signerapi/json_codec.h"
#include "util/hex.h"

namespace kinko::coordinator {
namespace {

// The pinned signer's key, as a head or an answer names it, in short hex for messages.
std::string ShortId(const policy::KeyId& id) {
  return util::HexEncode(std::span<const uint8_t>(id.data(), 8));
}

net::HttpClientOptions ClientOptions(const SignerEndpoint& endpoint) {
  net::HttpClientOptions options;
  options.ca_cert = endpoint.ca_cert;
  options.max_response_size = signerapi::kMaxSignResponseSize;
  return options;
}

// Checks `receipt`'s head against the head kept for `endpoint` (decision 0008) and keeps the
// new one. OK when the head is signed by the pinned signer's identity key (its key id is
// endpoint.id: the head carries the public key, the configuration pins its id), states the
// receipt's size and root, and extends the kept head (same size: same root; larger: a
// consistency proof from the signer verifies). Fails with kDataLoss or kPermissionDenied naming
// what is wrong (the caller reports kRolledBack), kUnavailable when the proof cannot be fetched
// or the store is down.
util::Status CheckAuditHead(const SignerEndpoint& endpoint, const signerapi::AuditReceipt& receipt,
                            net::HttpClient& client, storage::Store& store, uint64_t now) {
  if (receipt.head.signed_tree_head.empty()) {
    // kinko-signer signs a head with every commit: an unsigned claim proves nothing here.
    return util::PermissionDeniedError("audit head: not signed");
  }
  util::Result<auditlog::SignedTreeHead> signed_head =
      auditlog::SignedTreeHead::Decode(receipt.head.signed_tree_head);
  if (!signed_head.ok()) return signed_head.status().WithPrefix("audit head");
  if (policy::Ed25519KeyId(signed_head->public_key()) != endpoint.id) {
    return util::PermissionDeniedError("audit head: signed by key " +
                                       ShortId(policy::Ed25519KeyId(signed_head->public_key())) +
                                       "..., not by signer " + ShortId(endpoint.id) + "...");
  }
  const auditlog::TreeHead& head = signed_head->head();
  if (head.size != receipt.head.tree_size || head.root != receipt.head.root_hash) {
    return util::DataLossError("audit head: the signed head is not the receipt's size and root");
  }

  util::Result<std::optional<storage::SignerHead>> kept = store.GetSignerHead(endpoint.id);
  if (!kept.ok()) return kept.status();
  if (kept->has_value()) {
    const storage::SignerHead& old = **kept;
    const auditlog::TreeHead old_head{.size = old.tree_size, .root = old.root_hash, .time = 0};
    std::vector<auditlog::Hash> proof;
    if (old.tree_size > 0 && head.size > old.tree_size) {
      util::Result<net::HttpResponse> response =
          client.Get("/v1/audit/proof/consistency?from=" + std::to_string(old.tree_size) +
                     "&to=" + std::to_string(head.size));
      if (!response.ok()) return response.status();
      if (response->status != 200) {
        return util::UnavailableError("audit consistency proof: http status " +
                                      std::to_string(response->status));
      }
      util::Result<signerapi::ConsistencyProofResponse> decoded =
          signerapi::DecodeConsistencyProof(response->body);
      if (!decoded.ok()) return decoded.status();
      if (decoded->from != old.tree_size || decoded->to != head.size) {
        return util::DataLossError("audit consistency proof: for other sizes than asked");
      }
      proof = std::move(decoded->hashes);
    }
    // kDataLoss for a smaller size, another root at the same size, or a proof that fails.
    util::Status consistent = auditlog::VerifyHeadConsistency(old_head, head, proof);
    if (!consistent.ok()) {
      return consistent.WithPrefix("audit head of size " + std::to_string(head.size) +
                                   " does not extend the kept head of size " +
                                   std::to_string(old.tree_size));
    }
    // Invariant: the kept head only grows. A concurrent round may have kept a larger one.
    if (head.size <= old.tree_size) return util::OkStatus();
  }
  util::Result<std::optional<storage::SignerHead>> latest = store.GetSignerHead(endpoint.id);
  if (!latest.ok()) return latest.status();
  if (latest->has_value() && (*latest)->tree_size >= head.size) return util::OkStatus();
  return store.PutSignerHead({.signer = endpoint.id,
                              .tree_size = head.size,
                              .root_hash = head.root,
                              .signed_tree_head = receipt.head.signed_tree_head,
                              .seen_at = now});
}

// The error code of a sign request whose signatures do not verify; the signer logs it as a
// refused decision (signer::kRefusalInvalidSignature).
constexpr std::string_view kInvalidSignature = "invalid_signature";

// Asks one signer. Never fails: every problem is an answer of kind kError or kRolledBack.
SignerAnswer AskOne(const SignerEndpoint& endpoint, const signerapi::SignRequest& request,
                    const btc::Transaction& unsigned_tx, storage::Store& store) {
  SignerAnswer answer;
  answer.url = endpoint.url;
  answer.signer = endpoint.id;
  // The signer's latest head kept here goes with the request (decision 0008): a signer whose
  // state was restored from an older copy refuses to sign ("state_rolled_back") rather than
  // signing with forgotten consumed intents and spends.
  util::Result<std::optional<storage::SignerHead>> kept = store.GetSignerHead(endpoint.id);
  if (!kept.ok()) {
    answer.error = "kept audit head: " + kept.status().message();
    return answer;
  }
  signerapi::SignRequest with_head = request;
  if (kept->has_value() && !(*kept)->signed_tree_head.empty()) {
    with_head.known_head = (*kept)->signed_tree_head;
  }
  const std::string body = signerapi::EncodeSignRequest(with_head);
  util::Result<net::HttpClient> client =
      net::HttpClient::Create(endpoint.url, ClientOptions(endpoint));
  if (!client.ok()) {
    answer.error = client.status().message();
    return answer;
  }
  util::Result<net::HttpResponse> response = client->Post("/v1/sign", body, "application/json");
  if (!response.ok()) {
    answer.error = response.status().message();
    return answer;
  }
  // A body with "error" is not a decision (doc/signer-api.md, "How to tell a decision from an
  // error"); a body with "result" is, whatever its status.
  util::Result<signerapi::SignResponse> decoded = signerapi::DecodeSignResponse(response->body);
  if (!decoded.ok()) {
    util::Result<signerapi::ErrorBody> error = signerapi::DecodeErrorBody(response->body);
    // One error is a decision all the same: a signature in the request did not verify (an
    // intent or approval forged or altered on its way). The signer logged it as a refusal
    // (doc/signer-api.md), and calling it an outage would invite a retry of the forgery.
    if (error.ok() && error->code == kInvalidSignature) {
      answer.outcome = SignerAnswer::Outcome::kRefused;
      signerapi::RefusedResult refusal;
      refusal.code = error->code;
      refusal.detail = error->message;
      answer.refusal = std::move(refusal);
      return answer;
    }
    answer.error = error.ok() ? "http " + std::to_string(response->status) + ": " + error->code +
                                    ": " + error->message
                              : "http " + std::to_string(response->status) +
                                    ": answer does not decode: " + decoded.status().message();
    return answer;
  }
  if (decoded->request_id != request.request_id) {
    answer.error = "answer is for another request id";
    return answer;
  }

  const signerapi::AuditReceipt* receipt = nullptr;
  if (auto* signed_result = std::get_if<signerapi::SignedResult>(&decoded->result)) {
    if (response->status != 200) {
      answer.error = "signed answer with http status " + std::to_string(response->status);
      return answer;
    }
    util::Result<btc::Transaction> tx = signed_result->psbt.GetUnsignedTx();
    if (!tx.ok() || *tx != unsigned_tx) {
      answer.error = "signed answer: the psbt describes another transaction";
      return answer;
    }
    answer.outcome = SignerAnswer::Outcome::kSigned;
    answer.psbt = std::move(signed_result->psbt);
    answer.audit = signed_result->audit;
    receipt = &*answer.audit;
  } else {
    auto& refused = std::get<signerapi::RefusedResult>(decoded->result);
    answer.outcome = SignerAnswer::Outcome::kRefused;
    answer.audit = refused.audit;
    answer.refusal = std::move(refused);
    if (answer.audit) receipt = &*answer.audit;
  }

  if (receipt != nullptr) {
    util::Status head = CheckAuditHead(endpoint, *receipt, *client, store,
                                       static_cast<uint64_t>(std::time(nullptr)));
    if (head.code() == util::StatusCode::kUnavailable) {
      // The head could not be checked now: the answer is not used, and not called a rollback.
      answer.outcome = SignerAnswer::Outcome::kError;
      answer.psbt.reset();
      answer.error = head.message();
    } else if (!head.ok()) {
      answer.outcome = SignerAnswer::Outcome::kRolledBack;
      answer.psbt.reset();
      answer.error = head.message();
    }
  }
  return answer;
}

}  // namespace

std::string_view SignerOutcomeName(SignerAnswer::Outcome outcome) {
  switch (outcome) {
    case SignerAnswer::Outcome::kSigned:
      return "signed";
    case SignerAnswer::Outcome::kRefused:
      return "refused";
    case SignerAnswer::Outcome::kError:
      return "error";
    case SignerAnswer::Outcome::kRolledBack:
      return "rolled_back";
  }
  return "error";
}

bool SignOutcome::enough() const { return signed_psbts.size() >= threshold; }

SignerPool::SignerPool(std::vector<SignerEndpoint> signers, uint32_t threshold,
                       storage::Store& store)
    : signers_(std::move(signers)), threshold_(threshold), store_(&store) {}

util::Result<SignOutcome> SignerPool::Sign(
    const signerapi::SignRequest& request,
    const std::function<util::Status(const SignerAnswer&)>& on_answer) {
  util::Result<btc::Transaction> unsigned_tx = request.psbt.GetUnsignedTx();
  if (!unsigned_tx.ok()) return unsigned_tx.status().WithPrefix("sign request");
  SignOutcome outcome;
  outcome.threshold = threshold_;
  for (const SignerEndpoint& endpoint : signers_) {
    if (outcome.enough()) break;
    SignerAnswer answer = AskOne(endpoint, request, *unsigned_tx, *store_);
    util::Status persisted = on_answer(answer);
    if (!persisted.ok()) return persisted;
    if (answer.outcome == SignerAnswer::Outcome::kSigned)
      outcome.signed_psbts.push_back(*answer.psbt);
    outcome.answers.push_back(std::move(answer));
  }
  return outcome;
}

std::vector<std::optional<signerapi::StatusResponse>> SignerPool::Status() {
  std::vector<std::optional<signerapi::StatusResponse>> out;
  for (const SignerEndpoint& endpoint : signers_) {
    std::optional<signerapi::StatusResponse> status;
    util::Result<net::HttpClient> client =
        net::HttpClient::Create(endpoint.url, ClientOptions(endpoint));
    if (client.ok()) {
      util::Result<net::HttpResponse> response = client->Get("/v1/status");
      if (response.ok() && response->status == 200) {
        util::Result<signerapi::StatusResponse> decoded =
            signerapi::DecodeStatusResponse(response->body);
        // A status naming another signer than the pinned one is not this signer's.
        if (decoded.ok() && decoded->signer == endpoint.id) status = *std::move(decoded);
      }
    }
    out.push_back(std::move(status));
  }
  return out;
}

}  // namespace kinko::coordinator
