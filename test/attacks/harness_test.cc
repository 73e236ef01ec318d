// The harness of the attack suite against itself: an honest request is signed by every signer
// and makes a valid transaction; a request whose PSBT pays another address than its intent is
// refused by every signer, no signature leaves any, and each signer's log records the refusal.
// (Not a scenario of doc/threat-model.md: the scenarios are in the other files.)
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "btc/address.h"
#include "test/attacks/attack_harness.h"

namespace kinko::testing {
namespace {

TEST(Harness, HonestRequestSignsAndSubstitutedOutputIsRefusedAndLogged) {
  util::Result<std::unique_ptr<AttackWorld>> started = AttackWorld::Start("harness");
  ASSERT_TRUE(started.ok()) << started.status();
  AttackWorld& world = **started;

  const policy::SignedIntent honest =
      world.Intent({{ForeignAddress(0x01), 50'000}}, {.id_seed = 1});
  const std::string honest_body = AttackWorld::Encode(world.HonestRequest(honest));
  btc::Transaction tx;
  EXPECT_TRUE(world.SignedAndValid(world.SignEverywhere(honest_body), &tx));
  EXPECT_EQ(tx.outputs.at(0).value, 50'000);

  const policy::SignedIntent intent =
      world.Intent({{ForeignAddress(0x02), 50'000}}, {.id_seed = 2});
  signerapi::SignRequest request = world.HonestRequest(intent, {}, {.funding_seed = 2});
  request.psbt.unsigned_tx->outputs.at(0).script_pubkey =
      btc::DecodeAddress(ForeignAddress(0xee), kFixtureNetwork).value().script_pubkey;
  const std::string body = AttackWorld::Encode(request);
  const std::vector<Answer> answers = world.SignEverywhere(body);
  EXPECT_TRUE(world.RefusedEverywhere(body, answers, "unexpected_output"));
  // A refusal with another code, or a body nobody sent, is not mistaken for this one.
  EXPECT_FALSE(world.RefusedEverywhere(body, answers, "missing_intent_output"));
  EXPECT_FALSE(world.LoggedEverywhere(honest_body, "unexpected_output"));
}

}  // namespace
}  // namespace kinko::testing
