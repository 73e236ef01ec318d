// The signer's whole decision (signer/decide.h), and the shared test fixture it is tested with
// (test/support/signer_fixture.h).
#include "signer/decide.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "test/support/signer_fixture.h"

namespace kinko::signer {
namespace {

using testing::ForeignAddress;
using testing::kFixtureNow;
using testing::TestContext;

// The fixture's own promise: its PSBT passes the transaction check, one wallet signature does
// not finalize, two do and the result verifies.
TEST(SignerFixtureTest, PsbtPassesCheckAndTwoOfThreeSignaturesVerify) {
  const crypto::Secp256k1Context& ctx = TestContext();
  const testing::Actors actors = testing::MakeActors();
  const testing::TestWallet wallet = testing::MakeTestWallet(ctx);
  const WalletConfig config = testing::MakeWalletConfig(ctx, wallet.descriptor);
  const std::vector<policy::SignedIntent> intents = {
      testing::MakeIntent(actors, {{ForeignAddress(1), 50'000}, {ForeignAddress(2), 70'000}},
                          kFixtureNow, {.id_seed = 1}),
      testing::MakeIntent(actors, {{ForeignAddress(3), 30'000}}, kFixtureNow, {.id_seed = 2})};
  const btc::Psbt psbt =
      testing::BuildPsbt(ctx, config, intents,
                         {.input_sats = {100'000, 80'000}, .fee_sats = 3'000, .change_index = 5});

  const TransactionCheckOutcome outcome = CheckTransaction(ctx, psbt, config, intents);
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(outcome.checked->fee, testing::Sats(3'000));
  ASSERT_EQ(outcome.checked->inputs.size(), 2u);
  EXPECT_EQ(outcome.checked->inputs[1].index, 1u);
  ASSERT_EQ(outcome.checked->change.size(), 1u);
  EXPECT_EQ(outcome.checked->change[0].derivation_index, 5u);
  EXPECT_EQ(outcome.checked->change[0].amount, testing::Sats(180'000 - 150'000 - 3'000));

  util::Result<btc::Psbt> one = testing::SignWithWalletKey(ctx, psbt, wallet, 0);
  ASSERT_TRUE(one.ok()) << one.status();
  EXPECT_EQ(testing::FinalizeAndVerify(ctx, *one).status().code(),
            util::StatusCode::kFailedPrecondition);
  util::Result<btc::Psbt> two = testing::SignWithWalletKey(ctx, *one, wallet, 2);
  ASSERT_TRUE(two.ok()) << two.status();
  util::Result<btc::Transaction> tx = testing::FinalizeAndVerify(ctx, *two);
  ASSERT_TRUE(tx.ok()) << tx.status();
  EXPECT_EQ(tx->ComputeTxid(), outcome.checked->txid);
}

// The fixture policy is signed by two admins, installs, and allows the plain intent.
TEST(SignerFixtureTest, PolicyInstallsAndAllowsASmallWithdrawal) {
  const testing::Actors actors = testing::MakeActors();
  const policy::GovernanceState state =
      testing::InstallPolicy(actors, testing::MakePolicy(actors), kFixtureNow);
  const policy::SignedIntent intent =
      testing::MakeIntent(actors, {{ForeignAddress(1), 50'000}}, kFixtureNow);
  const policy::Verdict verdict =
      policy::Evaluate({{intent, {}}}, state.active.policy(), {}, kFixtureNow);
  ASSERT_TRUE(verdict.allowed) << verdict.refusal->detail;
  EXPECT_EQ(verdict.intents[0].rule, "small withdrawals");
}

}  // namespace
}  // namespace kinko::signer
