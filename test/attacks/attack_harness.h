// The attack suite's world: a 2-of-3 wallet of three real `kinko-signer` processes
// (test/signer/signer_setup.h, test/signer/signer_process.h) with the fixture's actors and a
// policy of the scenario's choosing, and the three checks every attack scenario makes:
//   - every signer refused, with the exact code the scenario names;
//   - no signature left any signer (no answer carries a PSBT);
//   - each signer's own audit log, read back over HTTP (GET /v1/audit/entries) and decoded,
//     records the attempt: a refused decision entry for the request's digest with that code;
// and the check of every honest twin: enough signers signed, and the combined, finalized
// transaction verifies with the script interpreter.
//
// A scenario builds its request from the fixture's pieces (MakeIntent, Approve, BuildPsbt,
// through the helpers below, which use the world's actors, wallet, policy and clock), changes
// the one thing its attacker changes, and sends the encoded body to every signer.
//
// TEST CODE ONLY: the passphrase and every fixture key are public.
//
// Not thread-safe; one owner per world.
#ifndef KINKO_TEST_ATTACKS_ATTACK_HARNESS_H_
#define KINKO_TEST_ATTACKS_ATTACK_HARNESS_H_

#include <gtest/gtest.h>
#include <httplib.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "auditlog/entry.h"
#include "btc/interpreter.h"
#include "btc/psbt.h"
#include "btc/psbt_roles.h"
#include "crypto/ed25519.h"
#include "crypto/hash.h"
#include "policy/approval.h"
#include "policy/canonical.h"
#include "policy/identity.h"
#include "policy/intent.h"
#include "policy/policy.h"
#include "signerapi/audit_codec.h"
#include "signerapi/freeze.h"
#include "signerapi/json_codec.h"
#include "signerapi/messages.h"
#include "test/signer/signer_process.h"
#include "test/signer/signer_setup.h"
#include "test/support/signer_fixture.h"
#include "util/hex.h"
#include "util/result.h"

namespace kinko::testing {

// One signer's answer to one HTTP request.
struct Answer {
  size_t signer = 0;  // Index into the world's signers.
  int status = 0;     // HTTP status; 0 when the request failed at the transport.
  std::string body;
  // The body decoded: a sign response (POST /v1/sign), or an error body; both empty when the
  // body is neither.
  std::optional<signerapi::SignResponse> response;
  std::optional<signerapi::ErrorBody> error;

  // The refusal code the answer carries (RefusedResult::code or ErrorBody::code), or "".
  std::string code() const {
    if (response.has_value()) {
      if (const auto* refused = std::get_if<signerapi::RefusedResult>(&response->result)) {
        return refused->code;
      }
      return "";
    }
    return error.has_value() ? error->code : "";
  }
  // Whether the answer carries a signed PSBT: a signature left the signer.
  bool signed_psbt() const {
    return response.has_value() &&
           std::holds_alternative<signerapi::SignedResult>(response->result);
  }
};

// The refusal entries of one signer's log that match a request.
struct LoggedRefusal {
  uint64_t index = 0;
  auditlog::DecisionEntry entry;
};

class AttackWorld final {
 public:
  // The scenario's policy: Deployment::DefaultPolicyOptions() (the fixture policy with a
  // 24-hour window of 1 BTC) unless the scenario needs another.
  static util::Result<std::unique_ptr<AttackWorld>> Start(
      const std::string& name,
      const PolicyOptions& policy_options = Deployment::DefaultPolicyOptions(),
      size_t signers = 3) {
    const std::string root = MakeScratchDir("attack-" + name);
    util::Result<Deployment> deployment = Deployment::Create(root, signers, policy_options);
    if (!deployment.ok()) return deployment.status();
    auto world = std::unique_ptr<AttackWorld>(new AttackWorld(root, *std::move(deployment)));
    for (const std::string& dir : world->deployment_.dirs()) {
      util::Result<std::unique_ptr<SignerProcess>> process =
          SignerProcess::Start(dir, world->deployment_.passphrase());
      if (!process.ok()) return process.status();
      world->signers_.push_back(*std::move(process));
    }
    return world;
  }

  ~AttackWorld() {
    for (std::unique_ptr<SignerProcess>& signer : signers_) {
      if (signer != nullptr) signer->Stop();
    }
  }
  AttackWorld(const AttackWorld&) = delete;
  AttackWorld& operator=(const AttackWorld&) = delete;

  const std::string& root() const { return root_; }
  const Deployment& deployment() const { return deployment_; }
  const Actors& actors() const { return deployment_.actors(); }
  const signer::WalletConfig& wallet() const { return deployment_.wallet(); }
  const policy::SignedPolicy& policy() const { return deployment_.policy(); }
  const policy::Digest& policy_digest() const { return deployment_.policy_digest(); }
  const crypto::Secp256k1Context& ctx() const { return TestContext(); }
  size_t signer_count() const { return signers_.size(); }
  SignerProcess& signer(size_t i) { return *signers_.at(i); }
  // The wallet's threshold (2 of 3).
  size_t threshold() const { return std::min<size_t>(2, signers_.size()); }
  // The signers' clock: the real time (signers have no other).
  uint64_t Now() const { return Deployment::Now(); }

  // Stops signer `i` (SIGTERM) and starts it again on the same state directory.
  util::Status Restart(size_t i) {
    signers_.at(i)->Stop();
    signers_[i].reset();
    util::Result<std::unique_ptr<SignerProcess>> process =
        SignerProcess::Start(deployment_.dirs().at(i), deployment_.passphrase());
    if (!process.ok()) return process.status();
    signers_[i] = *std::move(process);
    return util::OkStatus();
  }
  // Stops signer `i` without starting it again (Restart or StartStopped brings it back).
  void StopSigner(size_t i) {
    signers_.at(i)->Stop();
    signers_[i].reset();
  }
  util::Status StartStopped(size_t i) {
    util::Result<std::unique_ptr<SignerProcess>> process =
        SignerProcess::Start(deployment_.dirs().at(i), deployment_.passphrase());
    if (!process.ok()) return process.status();
    signers_.at(i) = *std::move(process);
    return util::OkStatus();
  }

  // --- Building requests (the fixture's functions with the world's actors and clock) ---

  // An intent paying `outputs`, created now (unless options.created says otherwise), signed by
  // the requester (or options.requester). Give each intent of a world its own options.id_seed.
  policy::SignedIntent Intent(const std::vector<OutputSpec>& outputs,
                              const IntentOptions& options) const {
    return MakeIntent(actors(), outputs, Now(), options);
  }
  // `key`'s approval (or rejection) of `intent` under the world's first policy, made now.
  policy::SignedApproval Approval(const crypto::Ed25519PrivateKey& key,
                                  const policy::SignedIntent& intent, bool approve = true) const {
    return Approve(key, intent, policy_digest(), Now(), approve);
  }
  // The PSBT an honest coordinator builds for `intents` (BuildPsbt on the world's wallet).
  btc::Psbt Psbt(const std::vector<policy::SignedIntent>& intents,
                 const PsbtOptions& options = {}) const {
    return BuildPsbt(ctx(), wallet(), intents, options);
  }
  // A sign request for `intents` (with their approvals) and `psbt`, with a fresh request id.
  signerapi::SignRequest Request(std::vector<policy::IntentWithApprovals> intents, btc::Psbt psbt) {
    signerapi::SignRequest request;
    ++requests_made_;
    for (size_t i = 0; i < request.request_id.size(); ++i) {
      request.request_id[i] = static_cast<uint8_t>(requests_made_ >> (8 * (i % 8)));
    }
    request.psbt = std::move(psbt);
    request.intents = std::move(intents);
    return request;
  }
  // The common case: one intent (no approvals) and the honest PSBT for it.
  signerapi::SignRequest HonestRequest(const policy::SignedIntent& intent,
                                       std::vector<policy::SignedApproval> approvals = {},
                                       const PsbtOptions& options = {}) {
    return Request({{.intent = intent, .approvals = std::move(approvals)}},
                   Psbt({intent}, options));
  }
  static std::string Encode(const signerapi::SignRequest& request) {
    return signerapi::EncodeSignRequest(request);
  }

  // --- Sending ---

  // POST `path` with `body` to signer `i`.
  Answer Post(size_t i, const std::string& path, const std::string& body) {
    Answer answer;
    answer.signer = i;
    httplib::Client client(signers_.at(i)->url());
    client.set_read_timeout(60, 0);
    httplib::Result res = client.Post(path, body, "application/json");
    if (!res) return answer;
    answer.status = res->status;
    answer.body = res->body;
    if (util::Result<signerapi::SignResponse> response = signerapi::DecodeSignResponse(res->body);
        response.ok()) {
      answer.response = *std::move(response);
    } else if (util::Result<signerapi::ErrorBody> error = signerapi::DecodeErrorBody(res->body);
               error.ok()) {
      answer.error = *std::move(error);
    }
    return answer;
  }
  // POST /v1/sign with `body` to every signer, in order.
  std::vector<Answer> SignEverywhere(const std::string& body) {
    std::vector<Answer> answers;
    for (size_t i = 0; i < signers_.size(); ++i) answers.push_back(Post(i, "/v1/sign", body));
    return answers;
  }
  // POST `path` with `body` to every signer, in order.
  std::vector<Answer> PostEverywhere(const std::string& path, const std::string& body) {
    std::vector<Answer> answers;
    for (size_t i = 0; i < signers_.size(); ++i) answers.push_back(Post(i, path, body));
    return answers;
  }

  // Every entry of signer `i`'s audit log, read over HTTP (GET /v1/audit/head, then
  // /v1/audit/entries in pages) and decoded.
  util::Result<std::vector<auditlog::Entry>> AuditLog(size_t i) {
    httplib::Client client(signers_.at(i)->url());
    client.set_read_timeout(60, 0);
    httplib::Result head = client.Get("/v1/audit/head");
    if (!head) return util::UnavailableError("GET /v1/audit/head: no answer");
    util::Result<signerapi::AuditHead> decoded = signerapi::DecodeAuditHead(head->body);
    if (!decoded.ok()) return decoded.status().WithPrefix("GET /v1/audit/head");
    std::vector<auditlog::Entry> entries;
    while (entries.size() < decoded->tree_size) {
      const uint64_t count = std::min<uint64_t>(1000, decoded->tree_size - entries.size());
      const std::string path = "/v1/audit/entries?from=" + std::to_string(entries.size()) +
                               "&count=" + std::to_string(count);
      httplib::Result page = client.Get(path);
      if (!page) return util::UnavailableError("GET " + path + ": no answer");
      util::Result<signerapi::EntriesResponse> list = signerapi::DecodeEntries(page->body);
      if (!list.ok()) return list.status().WithPrefix("GET " + path);
      if (list->entries.empty()) return util::DataLossError("GET " + path + ": no entries");
      for (const std::vector<uint8_t>& bytes : list->entries) {
        util::Result<auditlog::Entry> entry = auditlog::Entry::Decode(bytes);
        if (!entry.ok()) return entry.status().WithPrefix("audit entry");
        entries.push_back(*std::move(entry));
      }
    }
    return entries;
  }

  // The refused decision entries of signer `i`'s log for the request whose body is `body`.
  util::Result<std::vector<LoggedRefusal>> LoggedRefusals(size_t i, std::string_view body) {
    util::Result<std::vector<auditlog::Entry>> log = AuditLog(i);
    if (!log.ok()) return log.status();
    const crypto::Hash256Bytes digest =
        crypto::Sha256({reinterpret_cast<const uint8_t*>(body.data()), body.size()});
    std::vector<LoggedRefusal> found;
    for (size_t index = 0; index < log->size(); ++index) {
      const auto* decision = std::get_if<auditlog::DecisionEntry>(&(*log)[index].body());
      if (decision != nullptr && decision->outcome == auditlog::Outcome::kRefused &&
          std::equal(decision->request_digest.begin(), decision->request_digest.end(),
                     digest.begin())) {
        found.push_back({.index = index, .entry = *decision});
      }
    }
    return found;
  }

  // --- The checks ---

  // Every answer is a refusal with `code` and carries no signature, and every signer's log has
  // a refused decision entry with `code` for `body` (the request as sent).
  ::testing::AssertionResult RefusedEverywhere(const std::string& body,
                                               const std::vector<Answer>& answers,
                                               std::string_view code) {
    if (answers.size() != signers_.size()) {
      return ::testing::AssertionFailure()
             << answers.size() << " answers for " << signers_.size() << " signers";
    }
    for (const Answer& answer : answers) {
      if (answer.signed_psbt()) {
        return ::testing::AssertionFailure()
               << "signer " << answer.signer << " SIGNED (HTTP " << answer.status << ")";
      }
      if (answer.status < 400 || answer.code() != code) {
        return ::testing::AssertionFailure()
               << "signer " << answer.signer << ": expected refusal '" << code << "', got HTTP "
               << answer.status << " code '" << answer.code() << "': " << answer.body;
      }
    }
    return LoggedEverywhere(body, code);
  }

  // Every signer's log has a refused decision entry with `code` for `body`.
  ::testing::AssertionResult LoggedEverywhere(std::string_view body, std::string_view code) {
    for (size_t i = 0; i < signers_.size(); ++i) {
      util::Result<std::vector<LoggedRefusal>> logged = LoggedRefusals(i, body);
      if (!logged.ok()) {
        return ::testing::AssertionFailure()
               << "signer " << i << ": audit log: " << logged.status().ToString();
      }
      const bool found = std::any_of(logged->begin(), logged->end(),
                                     [&](const LoggedRefusal& r) { return r.entry.code == code; });
      if (!found) {
        return ::testing::AssertionFailure()
               << "signer " << i << ": no refused decision with code '" << code
               << "' for the request in its audit log (" << logged->size() << " refusals for it)";
      }
    }
    return ::testing::AssertionSuccess();
  }

  // The honest twin: `body` sent to every signer was signed by all of them, and their
  // signatures combine into a transaction whose inputs all verify against the outputs they
  // spend. Returns the transaction through `tx` when given.
  ::testing::AssertionResult SignedAndValid(const std::vector<Answer>& answers,
                                            btc::Transaction* tx = nullptr) {
    std::vector<btc::Psbt> psbts;
    for (const Answer& answer : answers) {
      if (!answer.signed_psbt() || answer.status != 200) {
        return ::testing::AssertionFailure()
               << "signer " << answer.signer << " did not sign: HTTP " << answer.status << " code '"
               << answer.code() << "': " << answer.body;
      }
      psbts.push_back(std::get<signerapi::SignedResult>(answer.response->result).psbt);
    }
    if (psbts.size() < threshold()) {
      return ::testing::AssertionFailure()
             << psbts.size() << " signatures, threshold " << threshold();
    }
    util::Result<btc::Psbt> combined = btc::CombinePsbts(psbts);
    if (!combined.ok()) return ::testing::AssertionFailure() << combined.status().ToString();
    util::Result<btc::Transaction> verified = FinalizeAndVerify(ctx(), *std::move(combined));
    if (!verified.ok()) return ::testing::AssertionFailure() << verified.status().ToString();
    if (tx != nullptr) *tx = *std::move(verified);
    return ::testing::AssertionSuccess();
  }

 private:
  AttackWorld(std::string root, Deployment deployment)
      : root_(std::move(root)), deployment_(std::move(deployment)) {}

  std::string root_;
  Deployment deployment_;
  std::vector<std::unique_ptr<SignerProcess>> signers_;
  uint64_t requests_made_ = 0;
};

// --- Forged signed objects ---

// The encoding of a signed object (a signed intent or approval: map {0: content, 1: signature
// object}, doc/intent-encoding.md) whose content is the encoding `content` and whose signature
// is `signature`, made over another content. SignedIntent::Decode and SignedApproval::Decode
// refuse these bytes (the signature does not verify over the content's digest), which is the
// point: they are what an attacker without the key sends.
inline std::vector<uint8_t> ForgedSignedBytes(std::span<const uint8_t> content,
                                              const policy::Signature& signature) {
  policy::CborWriter head;
  head.MapHeader(2);
  head.Uint(0);
  std::vector<uint8_t> bytes = head.bytes();
  bytes.insert(bytes.end(), content.begin(), content.end());
  policy::CborWriter tail;
  tail.Uint(1);
  policy::EncodeSignature(signature, tail);
  bytes.insert(bytes.end(), tail.bytes().begin(), tail.bytes().end());
  return bytes;
}

// --- Policy updates, freezes and unfreezes (the bodies of POST /v1/policy, /v1/freeze and
// /v1/unfreeze) ---

// The body of POST /v1/policy offering `signed_policy`.
inline std::string PolicyBody(const policy::SignedPolicy& signed_policy) {
  return signerapi::EncodePolicyUpdateRequest({.signed_policy = signed_policy});
}

// A freeze of every signer by `key` (the watcher, or an admin), made at `time`, with a nonce of
// `nonce` bytes so that two freezes of one test are two orders.
inline signerapi::SignedFreeze FreezeAll(const crypto::Ed25519PrivateKey& key, uint64_t time,
                                         uint8_t nonce) {
  signerapi::FreezeFields fields{
      .scope = {}, .reason = "watcher: unexplained spend", .time = time, .nonce = {}};
  fields.nonce.fill(nonce);
  return signerapi::SignedFreeze::Sign(signerapi::Freeze::Create(fields).value(), key);
}

inline std::string FreezeBody(const signerapi::SignedFreeze& freeze) {
  return signerapi::EncodeFreezeRequest({.freeze = freeze});
}

// The unfreeze lifting `freeze` (same scope), made at `time`, with a nonce of `nonce` bytes,
// signed by `keys` (at least one, distinct).
inline signerapi::SignedUnfreeze UnfreezeOf(
    const signerapi::SignedFreeze& freeze, uint64_t time, uint8_t nonce,
    const std::vector<const crypto::Ed25519PrivateKey*>& keys) {
  signerapi::UnfreezeFields fields{.scope = freeze.freeze().fields().scope,
                                   .reason = "admins: spend explained",
                                   .time = time,
                                   .nonce = {},
                                   .freeze_digest = freeze.freeze().digest()};
  fields.nonce.fill(nonce);
  signerapi::SignedUnfreeze unfreeze =
      signerapi::SignedUnfreeze::Sign(signerapi::Unfreeze::Create(fields).value(), *keys.at(0));
  for (size_t i = 1; i < keys.size(); ++i) unfreeze = unfreeze.AddSignature(*keys[i]).value();
  return unfreeze;
}

inline std::string UnfreezeBody(const signerapi::SignedUnfreeze& unfreeze) {
  return signerapi::EncodeUnfreezeRequest({.unfreeze = unfreeze});
}

// GET /v1/status of signer `i`, decoded.
inline util::Result<signerapi::StatusResponse> SignerStatus(AttackWorld& world, size_t i) {
  httplib::Client client(world.signer(i).url());
  client.set_read_timeout(60, 0);
  httplib::Result res = client.Get("/v1/status");
  if (!res) return util::UnavailableError("GET /v1/status: no answer");
  return signerapi::DecodeStatusResponse(res->body);
}

// Every answer to a POST /v1/policy, /v1/freeze or /v1/unfreeze is 200 with a status; returns
// the statuses through `statuses` when given.
inline ::testing::AssertionResult AcceptedEverywhere(
    const std::vector<Answer>& answers,
    std::vector<signerapi::StatusResponse>* statuses = nullptr) {
  for (const Answer& answer : answers) {
    util::Result<signerapi::StatusResponse> status = signerapi::DecodeStatusResponse(answer.body);
    if (answer.status != 200 || !status.ok()) {
      return ::testing::AssertionFailure()
             << "signer " << answer.signer << ": HTTP " << answer.status << ": " << answer.body;
    }
    if (statuses != nullptr) statuses->push_back(*std::move(status));
  }
  return ::testing::AssertionSuccess();
}

}  // namespace kinko::testing

#endif  // KINKO_TEST_ATTACKS_ATTACK_HARNESS_H_
