// Helpers of the insider scenarios (test/attacks/insider_test.cc) on top of the attack
// harness: the scenarios' policy (the fixture policy with an address book and a window large
// enough for a 7 BTC transfer), successors of a policy signed by chosen keys, signed freezes and
// unfreezes, the signers' status, and checks of the answers to POST /v1/policy, /v1/freeze and
// /v1/unfreeze.
//
// TEST CODE ONLY: every key here is a fixture key anyone can read.
//
// Not thread-safe; the functions that take an AttackWorld use it as its owner does.
#ifndef KINKO_TEST_ATTACKS_INSIDER_SUPPORT_H_
#define KINKO_TEST_ATTACKS_INSIDER_SUPPORT_H_

#include <gtest/gtest.h>
#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include "crypto/ed25519.h"
#include "policy/policy.h"
#include "signerapi/freeze.h"
#include "signerapi/json_codec.h"
#include "signerapi/messages.h"
#include "test/attacks/attack_harness.h"
#include "test/support/signer_fixture.h"
#include "util/result.h"

namespace kinko::testing {

// The one address-book entry of the scenarios' policy, and the address an attacker wants paid.
inline constexpr char kBookLabel[] = "cold-storage";
inline std::string BookAddress() { return ForeignAddress(0xb0); }
inline std::string AttackerAddress() { return ForeignAddress(0xa7); }

// The honest twin of the approver scenarios pays this much (7 BTC) to the address book.
inline constexpr int64_t kBookTransferSats = 700'000'000;

// Deployment::DefaultPolicyOptions() with the address book {kBookLabel: BookAddress()} and a
// 24-hour window of 100 BTC: a 7 BTC transfer to the address book matches the rule "to the
// address book" (2 of treasury) and is within every limit; anything above 1 BTC elsewhere is
// denied by "everything else".
inline PolicyOptions InsiderPolicyOptions() {
  PolicyOptions options = Deployment::DefaultPolicyOptions();
  options.address_book = {{.label = kBookLabel, .address = BookAddress()}};
  options.window_24h = Sats(10'000'000'000);
  return options;
}

// `options` made the successor of `current`: the next sequence number and `current`'s digest as
// predecessor. The caller changes what the successor changes.
inline PolicyOptions SuccessorOptions(PolicyOptions options, const policy::SignedPolicy& current) {
  options.sequence = current.policy().fields().sequence + 1;
  options.predecessor = current.policy().digest();
  return options;
}

// The policy of `fields` signed by `keys`, in order (MakePolicy for fields it cannot make).
inline policy::SignedPolicy SignPolicy(policy::PolicyFields fields,
                                       const std::vector<const crypto::Ed25519PrivateKey*>& keys) {
  policy::SignedPolicy signed_policy =
      policy::SignedPolicy::Unsigned(policy::Policy::Create(std::move(fields)).value());
  for (const crypto::Ed25519PrivateKey* key : keys) {
    signed_policy = signed_policy.AddSignature(*key).value();
  }
  return signed_policy;
}

// The status of every signer, in order; fails with the first signer's error.
inline util::Result<std::vector<signerapi::StatusResponse>> StatusEverywhere(AttackWorld& world) {
  std::vector<signerapi::StatusResponse> statuses;
  for (size_t i = 0; i < world.signer_count(); ++i) {
    util::Result<signerapi::StatusResponse> status = SignerStatus(world, i);
    if (!status.ok()) return status.status().WithPrefix("signer " + std::to_string(i));
    statuses.push_back(*std::move(status));
  }
  return statuses;
}

// Every answer has HTTP status `http_status`.
inline ::testing::AssertionResult StatusIs(const std::vector<Answer>& answers, int http_status) {
  for (const Answer& answer : answers) {
    if (answer.status != http_status) {
      return ::testing::AssertionFailure()
             << "signer " << answer.signer << ": HTTP " << answer.status << ", expected "
             << http_status << ": " << answer.body;
    }
  }
  return ::testing::AssertionSuccess();
}

// Every answer's refusal detail (a refused sign response's detail, or an error body's message)
// contains `text`.
inline ::testing::AssertionResult DetailsContain(const std::vector<Answer>& answers,
                                                 std::string_view text) {
  for (const Answer& answer : answers) {
    std::string detail;
    if (answer.response.has_value()) {
      if (const auto* refused = std::get_if<signerapi::RefusedResult>(&answer.response->result)) {
        detail = refused->detail;
      }
    } else if (answer.error.has_value()) {
      detail = answer.error->message;
    }
    if (detail.find(text) == std::string::npos) {
      return ::testing::AssertionFailure() << "signer " << answer.signer << ": detail '" << detail
                                           << "' does not contain '" << text << "'";
    }
  }
  return ::testing::AssertionSuccess();
}

// Waits (polling GET /v1/status) until every signer has the policy `sequence` in force, at most
// `timeout`. Fails with the last status seen otherwise.
inline ::testing::AssertionResult WaitForPolicyInForce(AttackWorld& world, uint64_t sequence,
                                                       std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    util::Result<std::vector<signerapi::StatusResponse>> statuses = StatusEverywhere(world);
    if (!statuses.ok()) return ::testing::AssertionFailure() << statuses.status().ToString();
    const bool all = std::ranges::all_of(*statuses, [&](const signerapi::StatusResponse& s) {
      return s.policy.sequence == sequence;
    });
    if (all) return ::testing::AssertionSuccess();
    if (std::chrono::steady_clock::now() > deadline) {
      return ::testing::AssertionFailure()
             << "policy " << sequence << " not in force everywhere after " << timeout.count()
             << " ms";
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace kinko::testing

#endif  // KINKO_TEST_ATTACKS_INSIDER_SUPPORT_H_
