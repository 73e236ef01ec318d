// Helpers of the scenarios of test/attacks/intents_test.cc: what a coordinator that rewrites a
// signed intent or approval in its database sends (the altered content with the original
// signature, which SignedIntent and SignedApproval cannot hold because it is not valid), a sign
// request body with one intent's or approval's bytes replaced by such bytes, and the PSBT that pays
// what the altered intents say (the attacker keeps the PSBT consistent with the intents it sends);
// and a check of the rule and limit that refused a request.
//
// TEST CODE ONLY: every fixture key is public.
//
// Thread-safe: pure functions.
#ifndef KINKO_TEST_ATTACKS_INTENTS_SUPPORT_H_
#define KINKO_TEST_ATTACKS_INTENTS_SUPPORT_H_

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "btc/psbt.h"
#include "policy/identity.h"
#include "policy/intent.h"
#include "signerapi/messages.h"
#include "test/attacks/attack_harness.h"
#include "test/support/signer_fixture.h"

namespace kinko::testing {

// The content of `intent` with `edit` applied to its fields: what the coordinator's database
// holds after the attacker rewrote it. Requires the edited fields to make a valid intent
// (Intent::Create; aborts otherwise: a bug in the test).
inline policy::Intent RewrittenIntent(const policy::SignedIntent& intent,
                                      const std::function<void(policy::IntentFields&)>& edit) {
  policy::IntentFields fields = intent.intent().fields();
  edit(fields);
  return policy::Intent::Create(std::move(fields)).value();
}

// `body`, an encoded sign request (doc/signer-api.md), with the base64 of intents[`index`].intent
// replaced by that of `intent_bytes`. Everything else in the request stays as it was.
inline std::string WithIntentBytes(const std::string& body, size_t index,
                                   std::span<const uint8_t> intent_bytes) {
  nlohmann::json json = nlohmann::json::parse(body);
  json.at("intents").at(index).at("intent") = btc::EncodeBase64(intent_bytes);
  return json.dump();
}

// `body`, an encoded sign request, with the base64 of intents[`intent_index`].approvals[
// `approval_index`] replaced by that of `approval_bytes`.
inline std::string WithApprovalBytes(const std::string& body, size_t intent_index,
                                     size_t approval_index,
                                     std::span<const uint8_t> approval_bytes) {
  nlohmann::json json = nlohmann::json::parse(body);
  json.at("intents").at(intent_index).at("approvals").at(approval_index) =
      btc::EncodeBase64(approval_bytes);
  return json.dump();
}

// The outputs of `content` as OutputSpecs.
inline std::vector<OutputSpec> OutputsOf(const policy::Intent& content) {
  std::vector<OutputSpec> outputs;
  for (const policy::IntentOutput& out : content.fields().outputs) {
    outputs.push_back({out.address, out.amount.sats()});
  }
  return outputs;
}

// The PSBT an honest coordinator builds for intents paying `outputs` (one list per intent, in
// request order; regtest addresses) from the world's wallet: BuildPsbt, which reads only the
// intents' outputs. The intents handed to it are stand-ins signed by the fixture's outsider key
// and never sent: the content the attacker sends may carry no valid signature at all.
inline btc::Psbt PsbtPaying(const AttackWorld& world,
                            const std::vector<std::vector<OutputSpec>>& outputs,
                            const PsbtOptions& options = {}) {
  std::vector<policy::SignedIntent> stand_ins;
  for (size_t i = 0; i < outputs.size(); ++i) {
    stand_ins.push_back(world.Intent(
        outputs[i], {.id_seed = 1'000'000 + i, .requester = &world.actors().outsider}));
  }
  return world.Psbt(stand_ins, options);
}

// Every answer is a sign response refused by rule `rule` (the policy rule that decided, or "")
// and limit `limit` (the limit that refused, or ""): the refusal's reason beyond its code.
inline ::testing::AssertionResult DecidedBy(const std::vector<Answer>& answers,
                                            std::string_view rule, std::string_view limit) {
  for (const Answer& answer : answers) {
    const signerapi::RefusedResult* refused =
        answer.response.has_value()
            ? std::get_if<signerapi::RefusedResult>(&answer.response->result)
            : nullptr;
    if (refused == nullptr) {
      return ::testing::AssertionFailure()
             << "signer " << answer.signer << ": not a refused sign response: " << answer.body;
    }
    if (refused->rule != rule || refused->limit != limit) {
      return ::testing::AssertionFailure()
             << "signer " << answer.signer << ": expected rule '" << rule << "' and limit '"
             << limit << "', got rule '" << refused->rule << "' and limit '" << refused->limit
             << "': " << refused->detail;
    }
  }
  return ::testing::AssertionSuccess();
}

}  // namespace kinko::testing

#endif  // KINKO_TEST_ATTACKS_INTENTS_SUPPORT_H_
