// Helpers of the network, signer-backup and one-signer scenarios (network_test.cc), on top of
// test/attacks/attack_harness.h:
//   - what a coordinator holds and sends besides the sign request: each signer's signed tree
//     head (GET /v1/audit/head), sent back as the request's known_head (doc/signer-api.md,
//     decision 0008), one body per signer as coordinator/signer_pool.cc does;
//   - the governance messages the network carries: policy updates, freezes of every signer by
//     the watcher, unfreezes by two admins;
//   - what an attacker holding a signer's disk or key does: copy a stopped signer's state
//     directory and put the copy back later, sign a PSBT with the signer's wallet key read from
//     its key file;
//   - checks for scenarios where not every signer answers the same: one answer refused with a
//     code and status and logged, the governance answers accepted, and the released signatures
//     not enough to finalize.
//
// TEST CODE ONLY: the passphrase and every fixture key are public.
//
// Not thread-safe; one owner per world, as AttackWorld.
#ifndef KINKO_TEST_ATTACKS_NETWORK_SUPPORT_H_
#define KINKO_TEST_ATTACKS_NETWORK_SUPPORT_H_

#include <gtest/gtest.h>
#include <httplib.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <variant>
#include <vector>

#include "btc/psbt.h"
#include "btc/psbt_roles.h"
#include "btc/psbt_sign.h"
#include "crypto/secret.h"
#include "policy/intent.h"
#include "policy/policy.h"
#include "signerapi/audit_codec.h"
#include "signerapi/freeze.h"
#include "signerapi/json_codec.h"
#include "signerapi/messages.h"
#include "signerd/file_key.h"
#include "signerd/setup.h"
#include "test/attacks/attack_harness.h"
#include "test/support/signer_fixture.h"
#include "util/check.h"
#include "util/result.h"
#include "util/status.h"

namespace kinko::testing {

// --- What the coordinator holds ---

// The body of GET `path` from signer `i`. Fails with kUnavailable when it does not answer and
// with kInternal for a status other than 200.
inline util::Result<std::string> GetFrom(AttackWorld& world, size_t i, const std::string& path) {
  httplib::Client client(world.signer(i).url());
  client.set_read_timeout(60, 0);
  httplib::Result res = client.Get(path);
  if (!res) return util::UnavailableError("GET " + path + ": no answer");
  if (res->status != 200) {
    return util::InternalError("GET " + path + ": HTTP " + std::to_string(res->status));
  }
  return res->body;
}

// Signer `i`'s current signed tree head (the encoding a coordinator keeps and sends back as
// known_head). Fails as GetFrom, or with the decoder's error.
inline util::Result<std::vector<uint8_t>> SignedHead(AttackWorld& world, size_t i) {
  util::Result<std::string> body = GetFrom(world, i, "/v1/audit/head");
  if (!body.ok()) return body.status();
  util::Result<signerapi::AuditHead> head = signerapi::DecodeAuditHead(*body);
  if (!head.ok()) return head.status().WithPrefix("GET /v1/audit/head");
  if (head->signed_tree_head.empty()) {
    return util::InternalError("GET /v1/audit/head: the head is not signed");
  }
  return head->signed_tree_head;
}

// Every signer's current signed tree head, in signer order.
inline util::Result<std::vector<std::vector<uint8_t>>> SignedHeads(AttackWorld& world) {
  std::vector<std::vector<uint8_t>> heads;
  for (size_t i = 0; i < world.signer_count(); ++i) {
    util::Result<std::vector<uint8_t>> head = SignedHead(world, i);
    if (!head.ok()) return head.status().WithPrefix("signer " + std::to_string(i));
    heads.push_back(*std::move(head));
  }
  return heads;
}

// One body sent to one signer and its answer.
struct Sent {
  std::string body;
  Answer answer;
};

// POST /v1/sign of `request` to every signer, each with its own head `heads[i]` as known_head
// (none when `heads[i]` is empty), as the coordinator's signer pool sends it.
inline std::vector<Sent> SignWithHeads(AttackWorld& world, const signerapi::SignRequest& request,
                                       const std::vector<std::vector<uint8_t>>& heads) {
  std::vector<Sent> sent;
  for (size_t i = 0; i < world.signer_count(); ++i) {
    signerapi::SignRequest with_head = request;
    with_head.known_head = std::nullopt;
    if (i < heads.size() && !heads[i].empty()) with_head.known_head = heads[i];
    const std::string body = AttackWorld::Encode(with_head);
    sent.push_back({.body = body, .answer = world.Post(i, "/v1/sign", body)});
  }
  return sent;
}

inline std::vector<Answer> AnswersOf(const std::vector<Sent>& sent) {
  std::vector<Answer> answers;
  for (const Sent& one : sent) answers.push_back(one.answer);
  return answers;
}

// --- What the network carries besides sign requests ---

// The keys of admin-1 and admin-2: the governance threshold of the world's policy, which may
// lift a freeze (UnfreezeOf).
inline std::vector<const crypto::Ed25519PrivateKey*> AdminThreshold(const AttackWorld& world) {
  return {&world.actors().admins.at(0), &world.actors().admins.at(1)};
}

// `body` with the signed intent `altered` carrying `original`'s requester signature instead of
// its own: what a relay that rewrites an intent's fields in transit sends. `body` must contain
// `altered`'s encoding (a request made with it).
inline std::string WithSignatureOf(std::string body, const policy::SignedIntent& altered,
                                   const policy::SignedIntent& original) {
  const std::vector<uint8_t> forged =
      ForgedSignedBytes(altered.intent().Encode(), original.signature());
  const std::string honest = btc::EncodeBase64(altered.Encode());
  const size_t where = body.find(honest);
  CHECK(where != std::string::npos);
  body.replace(where, honest.size(), btc::EncodeBase64(forged));
  return body;
}

// --- What an attacker with a signer's disk or key does ---

// Copies the (stopped) signer's state directory `from` to the new directory `to`, files and
// permissions: the backup an attacker takes.
inline util::Status CopyStateDir(const std::string& from, const std::string& to) {
  std::error_code error;
  std::filesystem::copy(from, to, std::filesystem::copy_options::recursive, error);
  if (error) return util::UnavailableError("copy " + from + " to " + to + ": " + error.message());
  return util::OkStatus();
}

// Replaces the (stopped) signer's state directory `dir` with the copy `backup`.
inline util::Status RestoreStateDir(const std::string& backup, const std::string& dir) {
  std::error_code error;
  std::filesystem::remove_all(dir, error);
  if (error) return util::UnavailableError("remove " + dir + ": " + error.message());
  return CopyStateDir(backup, dir);
}

// `psbt` signed with signer `i`'s wallet key, read from its key file with the deployment's
// passphrase (both public in tests): what an attacker holding that signer outright releases,
// whatever the signer's check would say.
inline util::Result<btc::Psbt> SignWithSignerKey(AttackWorld& world, size_t i, btc::Psbt psbt) {
  const std::string passphrase = world.deployment().passphrase();
  util::Result<signerd::FileKey> key = signerd::FileKey::Open(
      world.ctx(), world.deployment().dirs().at(i) + "/" + std::string(signerd::kSigningKeyFile),
      crypto::SecretBytes::FromSpan(
          {reinterpret_cast<const uint8_t*>(passphrase.data()), passphrase.size()}));
  if (!key.ok()) return key.status();
  btc::PsbtSigningKeys keys;
  if (util::Status added = key->AddTo(keys); !added.ok()) return added;
  util::Result<btc::PsbtSignResult> signed_psbt = btc::SignPsbt(world.ctx(), std::move(psbt), keys);
  if (!signed_psbt.ok()) return signed_psbt.status();
  if (signed_psbt->signatures_added == 0) {
    return util::InternalError("the signer's key signs no input of the psbt");
  }
  return std::move(signed_psbt)->psbt;
}

// --- Checks ---

// `answer` (to `body`) is a refusal with `code` and HTTP `status`, carries no signature, and
// the signer's log has a refused decision entry with `code` for `body`.
inline ::testing::AssertionResult RefusedAndLogged(AttackWorld& world, const Answer& answer,
                                                   std::string_view body, std::string_view code,
                                                   int status) {
  if (answer.signed_psbt()) {
    return ::testing::AssertionFailure() << "signer " << answer.signer << " SIGNED";
  }
  if (answer.status != status || answer.code() != code) {
    return ::testing::AssertionFailure()
           << "signer " << answer.signer << ": expected HTTP " << status << " '" << code
           << "', got HTTP " << answer.status << " '" << answer.code() << "': " << answer.body;
  }
  util::Result<std::vector<LoggedRefusal>> logged = world.LoggedRefusals(answer.signer, body);
  if (!logged.ok()) {
    return ::testing::AssertionFailure()
           << "signer " << answer.signer << ": audit log: " << logged.status().ToString();
  }
  for (const LoggedRefusal& refusal : *logged) {
    if (refusal.entry.code == code) return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "signer " << answer.signer << ": no refused decision '"
                                       << code << "' for the request in its audit log";
}

// The PSBTs the answers released (the signed ones).
inline std::vector<btc::Psbt> ReleasedPsbts(const std::vector<Answer>& answers) {
  std::vector<btc::Psbt> psbts;
  for (const Answer& answer : answers) {
    if (answer.signed_psbt()) {
      psbts.push_back(std::get<signerapi::SignedResult>(answer.response->result).psbt);
    }
  }
  return psbts;
}

// `released` (the PSBTs with whatever signatures left any signer, at least one) combined
// carry fewer than `threshold` signatures on some input and do not finalize into a
// transaction.
inline ::testing::AssertionResult CannotFinalize(const crypto::Secp256k1Context& ctx,
                                                 const std::vector<btc::Psbt>& released,
                                                 size_t threshold) {
  if (released.empty()) return ::testing::AssertionFailure() << "nothing was released";
  util::Result<btc::Psbt> combined = btc::CombinePsbts(released);
  if (!combined.ok()) {
    return ::testing::AssertionFailure() << "combine: " << combined.status().ToString();
  }
  bool short_of_threshold = false;
  for (const btc::PsbtInput& input : combined->inputs) {
    if (input.partial_sigs.size() < threshold) short_of_threshold = true;
  }
  if (!short_of_threshold) {
    return ::testing::AssertionFailure() << "every input has " << threshold << " signatures";
  }
  util::Result<btc::Transaction> tx = FinalizeAndVerify(ctx, *std::move(combined));
  if (tx.ok()) return ::testing::AssertionFailure() << "the released signatures FINALIZE";
  if (tx.status().code() != util::StatusCode::kFailedPrecondition) {
    return ::testing::AssertionFailure()
           << "finalize failed for another reason than missing signatures: "
           << tx.status().ToString();
  }
  return ::testing::AssertionSuccess();
}

}  // namespace kinko::testing

#endif  // KINKO_TEST_ATTACKS_NETWORK_SUPPORT_H_
