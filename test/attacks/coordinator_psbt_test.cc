// Attacks by the owner of the coordinator host and its database on the PSBT it builds. The
// intents and approvals the requests carry are genuine (honestly signed); only the PSBT is
// forged: its outputs, its change, its inputs' amounts, previous transactions and derivations,
// its sighash types and its fee. Each scenario first has the honest twin (the same flow, built
// by an honest coordinator) signed by every signer into a valid transaction, then sends the
// forged PSBT and checks that every signer refuses it with the exact code of
// doc/signer-check.md, that no signature leaves any signer, and that every signer's audit log
// records the refusal.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "btc/address.h"
#include "btc/psbt.h"
#include "test/attacks/attack_harness.h"
#include "test/attacks/coordinator_psbt_support.h"

namespace kinko::testing {
namespace {

// The attacker's address: an address outside the wallet.
const std::string& AttackerAddress() {
  static const std::string* address = new std::string(ForeignAddress(0xee));
  return *address;
}

// A PSBT spending one coin of 1,000,000 sat (room for the attacks that move value between
// outputs) from the funding transaction of `funding_seed`.
PsbtOptions OneCoin(uint32_t funding_seed) {
  return {.input_sats = {1'000'000}, .funding_seed = funding_seed};
}

// A PSBT spending two coins, of 600,000 and 400,000 sat, from the funding transaction of
// `funding_seed`.
PsbtOptions TwoCoins(uint32_t funding_seed) {
  return {.input_sats = {600'000, 400'000}, .funding_seed = funding_seed};
}

// The honest twin of a one-intent scenario: `sats` to ForeignAddress(tag) with the intent id
// seed `id_seed`, built by an honest coordinator with `options`; checks that it is signed by
// every signer and that the transaction verifies.
::testing::AssertionResult HonestTwinSigns(AttackWorld& world, uint64_t id_seed, uint8_t tag,
                                           int64_t sats, const PsbtOptions& options) {
  const policy::SignedIntent intent =
      world.Intent({{ForeignAddress(tag), sats}}, {.id_seed = id_seed});
  const std::string body = AttackWorld::Encode(world.HonestRequest(intent, {}, options));
  return world.SignedAndValid(world.SignEverywhere(body));
}

// --- Outputs ---

// Owns the coordinator. Rewrites the intent's output in the PSBT: the attacker's address and
// ten times the amount, the change lowered to match (DMM Bitcoin, May 2024: destination and
// amount altered between the request and the signing). The intent is genuine; the output pays
// no intent output and is not the wallet's change, so it is refused.
TEST(CoordinatorPsbt, RewrittenDestinationAndAmountIsRefused) {
  util::Result<std::unique_ptr<AttackWorld>> started = AttackWorld::Start("psbt-destination");
  ASSERT_TRUE(started.ok()) << started.status();
  AttackWorld& world = **started;
  EXPECT_TRUE(HonestTwinSigns(world, 1, 0x11, 50'000, OneCoin(1)));

  const policy::SignedIntent intent =
      world.Intent({{ForeignAddress(0x12), 50'000}}, {.id_seed = 2});
  signerapi::SignRequest request = world.HonestRequest(intent, {}, OneCoin(2));
  btc::TxOut& paid = request.psbt.unsigned_tx->outputs.at(0);
  paid.script_pubkey = ScriptOf(AttackerAddress());
  paid.value = 500'000;
  ChangeOutput(request.psbt).value -= 450'000;
  const std::string body = AttackWorld::Encode(request);
  EXPECT_TRUE(RefusedNaming(world, body, "unexpected_output",
                            "output 0 (" + AttackerAddress() + ", 500000 sat)"));
}

// Owns the coordinator. Keeps the intent's address but raises its amount, taking the difference
// from the change (DMM Bitcoin class: amount altered). The recipient may be the attacker's
// accomplice; the output matches no intent output (amounts must be equal) and is not change.
TEST(CoordinatorPsbt, RaisedAmountToTheIntentAddressIsRefused) {
  util::Result<std::unique_ptr<AttackWorld>> started = AttackWorld::Start("psbt-raised");
  ASSERT_TRUE(started.ok()) << started.status();
  AttackWorld& world = **started;
  EXPECT_TRUE(HonestTwinSigns(world, 1, 0x13, 50'000, OneCoin(1)));

  const policy::SignedIntent intent =
      world.Intent({{ForeignAddress(0x14), 50'000}}, {.id_seed = 2});
  signerapi::SignRequest request = world.HonestRequest(intent, {}, OneCoin(2));
  request.psbt.unsigned_tx->outputs.at(0).value += 400'000;
  ChangeOutput(request.psbt).value -= 400'000;
  const std::string body = AttackWorld::Encode(request);
  EXPECT_TRUE(RefusedNaming(world, body, "unexpected_output",
                            "output 0 (" + ForeignAddress(0x14) + ", 450000 sat)"));
}

// Owns the coordinator. Pays the intent's address less than the intent says and sends the
// difference to its own address in a new output (DMM Bitcoin class: amount altered, skimmed).
// The totals are unchanged, but the lowered output matches no intent output.
TEST(CoordinatorPsbt, LoweredAmountWithTheDifferenceToTheAttackerIsRefused) {
  util::Result<std::unique_ptr<AttackWorld>> started = AttackWorld::Start("psbt-lowered");
  ASSERT_TRUE(started.ok()) << started.status();
  AttackWorld& world = **started;
  EXPECT_TRUE(HonestTwinSigns(world, 1, 0x15, 50'000, OneCoin(1)));

  const policy::SignedIntent intent =
      world.Intent({{ForeignAddress(0x16), 50'000}}, {.id_seed = 2});
  signerapi::SignRequest request = world.HonestRequest(intent, {}, OneCoin(2));
  request.psbt.unsigned_tx->outputs.at(0).value -= 10'000;
  InsertOutput(request.psbt, 1, 10'000, ScriptOf(AttackerAddress()));
  const std::string body = AttackWorld::Encode(request);
  EXPECT_TRUE(RefusedNaming(world, body, "unexpected_output",
                            "output 0 (" + ForeignAddress(0x16) + ", 40000 sat)"));
}

// Owns the coordinator. Leaves every intent output as approved and adds one more output to its
// own address, paid from the change (DMM Bitcoin class: the transaction signed is not the one
// requested). Every output must be an intent output or the wallet's change.
TEST(CoordinatorPsbt, ExtraOutputToTheAttackerIsRefused) {
  util::Result<std::unique_ptr<AttackWorld>> started = AttackWorld::Start("psbt-extra");
  ASSERT_TRUE(started.ok()) << started.status();
  AttackWorld& world = **started;
  EXPECT_TRUE(HonestTwinSigns(world, 1, 0x17, 50'000, OneCoin(1)));

  const policy::SignedIntent intent =
      world.Intent({{ForeignAddress(0x18), 50'000}}, {.id_seed = 2});
  signerapi::SignRequest request = world.HonestRequest(intent, {}, OneCoin(2));
  ChangeOutput(request.psbt).value -= 300'000;
  InsertOutput(request.psbt, request.psbt.outputs.size(), 300'000, ScriptOf(AttackerAddress()));
  const std::string body = AttackWorld::Encode(request);
  EXPECT_TRUE(RefusedNaming(world, body, "unexpected_output",
                            "output 2 (" + AttackerAddress() + ", 300000 sat)"));
}

// Owns the coordinator. Drops the intent's output and keeps its amount in the change: the
// signers would consume the intent id (the payment counts as made) while the recipient is never
// paid. Every intent output must be paid.
TEST(CoordinatorPsbt, DroppedIntentOutputIsRefused) {
  util::Result<std::unique_ptr<AttackWorld>> started = AttackWorld::Start("psbt-dropped");
  ASSERT_TRUE(started.ok()) << started.status();
  AttackWorld& world = **started;
  EXPECT_TRUE(HonestTwinSigns(world, 1, 0x19, 50'000, OneCoin(1)));

  const policy::SignedIntent intent =
      world.Intent({{ForeignAddress(0x1a), 50'000}}, {.id_seed = 2});
  signerapi::SignRequest request = world.HonestRequest(intent, {}, OneCoin(2));
  RemoveOutput(request.psbt, 0);
  ChangeOutput(request.psbt).value += 50'000;
  const std::string body = AttackWorld::Encode(request);
  EXPECT_TRUE(RefusedNaming(world, body, "missing_intent_output",
                            "output 0 (" + ForeignAddress(0x1a) + ", 50000 sat) is not paid"));
}

// Owns the coordinator, and the recipient is its accomplice. Pays the intent's output twice,
// the second copy from the change (DMM Bitcoin class: the amount paid altered). Outputs are
// matched as a multiset: the second copy has no intent output left to match.
TEST(CoordinatorPsbt, IntentOutputPaidTwiceIsRefused) {
  util::Result<std::unique_ptr<AttackWorld>> started = AttackWorld::Start("psbt-paid-twice");
  ASSERT_TRUE(started.ok()) << started.status();
  AttackWorld& world = **started;
  EXPECT_TRUE(HonestTwinSigns(world, 1, 0x1b, 50'000, OneCoin(1)));

  const policy::SignedIntent intent =
      world.Intent({{ForeignAddress(0x1c), 50'000}}, {.id_seed = 2});
  signerapi::SignRequest request = world.HonestRequest(intent, {}, OneCoin(2));
  const btc::TxOut copy = request.psbt.unsigned_tx->outputs.at(0);
  InsertOutput(request.psbt, 1, copy.value, copy.script_pubkey);
  ChangeOutput(request.psbt).value -= copy.value;
  const std::string body = AttackWorld::Encode(request);
  EXPECT_TRUE(RefusedNaming(world, body, "unexpected_output",
                            "output 1 (" + ForeignAddress(0x1c) + ", 50000 sat)"));
}

// Owns the coordinator. An intent pays one address twice the same amount (two identical
// outputs, e.g. two invoices); the PSBT pays it once and keeps the rest as change. A set
// comparison would accept it; the signer matches outputs as a multiset, so the second intent
// output is unpaid.
TEST(CoordinatorPsbt, TwoIdenticalIntentOutputsPaidOnceIsRefused) {
  util::Result<std::unique_ptr<AttackWorld>> started = AttackWorld::Start("psbt-paid-once");
  ASSERT_TRUE(started.ok()) << started.status();
  AttackWorld& world = **started;
  const policy::SignedIntent honest = world.Intent(
      {{ForeignAddress(0x1d), 25'000}, {ForeignAddress(0x1d), 25'000}}, {.id_seed = 1});
  const std::string honest_body = AttackWorld::Encode(world.HonestRequest(honest, {}, OneCoin(1)));
  EXPECT_TRUE(world.SignedAndValid(world.SignEverywhere(honest_body)));

  const policy::SignedIntent intent = world.Intent(
      {{ForeignAddress(0x1e), 25'000}, {ForeignAddress(0x1e), 25'000}}, {.id_seed = 2});
  signerapi::SignRequest request = world.HonestRequest(intent, {}, OneCoin(2));
  RemoveOutput(request.psbt, 1);
  ChangeOutput(request.psbt).value += 25'000;
  const std::string body = AttackWorld::Encode(request);
  EXPECT_TRUE(RefusedNaming(world, body, "missing_intent_output",
                            "output 1 (" + ForeignAddress(0x1e) + ", 25000 sat) is not paid"));
}

// Owns the coordinator. Batches two genuine intents and swaps their amounts: the small one's
// recipient (the accomplice) gets the large amount and the other the small one; the total and
// fee are unchanged (DMM Bitcoin class: amounts altered). Each output must equal an intent
// output in script and amount.
TEST(CoordinatorPsbt, SwappedAmountsBetweenBatchedIntentsAreRefused) {
  util::Result<std::unique_ptr<AttackWorld>> started = AttackWorld::Start("psbt-swapped");
  ASSERT_TRUE(started.ok()) << started.status();
  AttackWorld& world = **started;
  const auto batch = [&](uint64_t seed, uint8_t tag) {
    const policy::SignedIntent small =
        world.Intent({{ForeignAddress(tag), 30'000}}, {.id_seed = seed});
    const policy::SignedIntent large =
        world.Intent({{ForeignAddress(tag + 1), 70'000}}, {.id_seed = seed + 1});
    return world.Request({{.intent = small, .approvals = {}}, {.intent = large, .approvals = {}}},
                         world.Psbt({small, large}, OneCoin(static_cast<uint32_t>(seed))));
  };
  EXPECT_TRUE(world.SignedAndValid(world.SignEverywhere(AttackWorld::Encode(batch(1, 0x20)))));

  signerapi::SignRequest request = batch(3, 0x22);
  std::vector<btc::TxOut>& outputs = request.psbt.unsigned_tx->outputs;
  std::swap(outputs.at(0).value, outputs.at(1).value);
  const std::string body = AttackWorld::Encode(request);
  EXPECT_TRUE(RefusedNaming(world, body, "unexpected_output",
                            "output 0 (" + ForeignAddress(0x22) + ", 70000 sat)"));
}

// Owns the coordinator, whose database also serves a test-network deployment. Sends a genuine
// intent the requester signed for the test network, with a PSBT that pays the same witness
// program on this network (the ETH/ETC 2016 replay / wrong-network class: a valid authorisation
// used on another chain). The intent names another network than the signers'.
TEST(CoordinatorPsbt, GenuineIntentForAnotherNetworkIsRefused) {
  util::Result<std::unique_ptr<AttackWorld>> started = AttackWorld::Start("psbt-network");
  ASSERT_TRUE(started.ok()) << started.status();
  AttackWorld& world = **started;
  EXPECT_TRUE(HonestTwinSigns(world, 1, 0x40, 50'000, OneCoin(1)));

  const policy::SignedIntent testnet =
      world.Intent({{ForeignAddress(0x41, btc::Network::kTestnet), 50'000}},
                   {.network = btc::Network::kTestnet, .id_seed = 2});
  const policy::SignedIntent here = world.Intent({{ForeignAddress(0x41), 50'000}}, {.id_seed = 2});
  ASSERT_EQ(ScriptOf(ForeignAddress(0x41)),
            btc::DecodeAddress(ForeignAddress(0x41, btc::Network::kTestnet), btc::Network::kTestnet)
                .value()
                .script_pubkey);
  signerapi::SignRequest request =
      world.Request({{.intent = testnet, .approvals = {}}}, world.Psbt({here}, OneCoin(2)));
  const std::string body = AttackWorld::Encode(request);
  EXPECT_TRUE(RefusedNaming(world, body, "wrong_network", "network test, the policy's is regtest"));
}

// --- Change ---

// Owns the coordinator. Replaces the change output's script with its own address and keeps the
// change output's witness script and BIP32 derivations (a fake change derivation: the
// hardware-wallet change attack class). The signer re-derives the change script at the index
// the derivations name; it is not this one.
TEST(CoordinatorPsbt, ChangeToTheAttackerUnderTheWalletsChangeDerivationIsRefused) {
  util::Result<std::unique_ptr<AttackWorld>> started = AttackWorld::Start("psbt-fake-change");
  ASSERT_TRUE(started.ok()) << started.status();
  AttackWorld& world = **started;
  EXPECT_TRUE(HonestTwinSigns(world, 1, 0x24, 50'000, OneCoin(1)));

  const policy::SignedIntent intent =
      world.Intent({{ForeignAddress(0x25), 50'000}}, {.id_seed = 2});
  signerapi::SignRequest request = world.HonestRequest(intent, {}, OneCoin(2));
  ASSERT_FALSE(request.psbt.outputs.back().bip32_derivations.empty());
  ChangeOutput(request.psbt).script_pubkey = ScriptOf(AttackerAddress());
  const std::string body = AttackWorld::Encode(request);
  EXPECT_TRUE(RefusedNaming(world, body, "unexpected_output",
                            "output 1 (" + AttackerAddress() + ", 948000 sat)"));
}

// Owns the coordinator. Sends the change to the wallet's real change branch but at an index
// above the bound (2^31 - 1, and the bound + 1): in the wallet in theory, but at an index no
// wallet software scans, so the funds are stranded (hardware-wallet change attack class). The
// twin puts the change exactly at the bound.
TEST(CoordinatorPsbt, ChangeAtAnUnscannedIndexIsRefused) {
  util::Result<std::unique_ptr<AttackWorld>> started = AttackWorld::Start("psbt-change-index");
  ASSERT_TRUE(started.ok()) << started.status();
  AttackWorld& world = **started;
  EXPECT_TRUE(HonestTwinSigns(
      world, 1, 0x26, 50'000,
      {.input_sats = {1'000'000}, .change_index = kFixtureIndexMax, .funding_seed = 1}));

  const policy::SignedIntent intent =
      world.Intent({{ForeignAddress(0x27), 50'000}}, {.id_seed = 2});
  for (const uint32_t index : {uint32_t{0x7fffffff}, kFixtureIndexMax + 1}) {
    SCOPED_TRACE("change index " + std::to_string(index));
    signerapi::SignRequest request = world.HonestRequest(intent, {}, OneCoin(2));
    const size_t change = request.psbt.outputs.size() - 1;
    PayOutputTo(
        request.psbt, change,
        world.wallet().branch(signer::WalletBranch::kChange).Expand(world.ctx(), index).value());
    const std::string body = AttackWorld::Encode(request);
    EXPECT_TRUE(RefusedNaming(world, body, "change_index_out_of_bounds",
                              "change index " + std::to_string(index) + " is above the bound"));
  }
}

// Owns the coordinator. Sends the change to a 2-of-3 multisig of two wallet keys and the
// attacker's key in place of the third signer's, with derivations that name the wallet's
// fingerprints and change path (hardware-wallet change attack class: cosigner substituted). The
// script does not re-derive from the wallet's descriptor; the attacker needs one more key.
TEST(CoordinatorPsbt, ChangeToAMultisigWithASubstitutedCosignerIsRefused) {
  util::Result<std::unique_ptr<AttackWorld>> started = AttackWorld::Start("psbt-cosigner");
  ASSERT_TRUE(started.ok()) << started.status();
  AttackWorld& world = **started;
  EXPECT_TRUE(HonestTwinSigns(world, 1, 0x28, 50'000, OneCoin(1)));

  const btc::ScriptInfo substituted = ExpandBranch(
      SubstitutedCosignerDescriptor(world.deployment(), 2), signer::WalletBranch::kChange, 0);
  const btc::ScriptInfo real =
      world.wallet().branch(signer::WalletBranch::kChange).Expand(world.ctx(), 0).value();
  ASSERT_NE(substituted.script_pubkey, real.script_pubkey);
  // Two of the three derivations are the wallet's own; all three name the wallet's origins
  // (fingerprints and change path).
  ASSERT_EQ(substituted.bip32_derivations.size(), 3u);
  size_t shared = 0;
  for (const auto& derivation : substituted.bip32_derivations) {
    shared += std::count(real.bip32_derivations.begin(), real.bip32_derivations.end(), derivation);
    EXPECT_TRUE(std::any_of(real.bip32_derivations.begin(), real.bip32_derivations.end(),
                            [&](const auto& own) { return own.second == derivation.second; }));
  }
  EXPECT_EQ(shared, 2u);

  const policy::SignedIntent intent =
      world.Intent({{ForeignAddress(0x29), 50'000}}, {.id_seed = 2});
  signerapi::SignRequest request = world.HonestRequest(intent, {}, OneCoin(2));
  PayOutputTo(request.psbt, request.psbt.outputs.size() - 1, substituted);
  const std::string body = AttackWorld::Encode(request);
  const std::string address =
      btc::EncodeAddress(substituted.script_pubkey, kFixtureNetwork).value();
  EXPECT_TRUE(RefusedNaming(world, body, "unexpected_output", "output 1 (" + address + ", "));
}

// --- Inputs ---

// Owns the coordinator. Understates the segwit v0 coin's amount in its witness UTXO by 100,000
// sat and lowers the change by as much: a signer that trusted the witness UTXO would see a
// 2,000 sat fee and sign a 102,000 sat one (the segwit fee vulnerability, 2020). The full
// previous transaction shows the real amount.
TEST(CoordinatorPsbt, UnderstatedSegwitInputAmountIsRefused) {
  util::Result<std::unique_ptr<AttackWorld>> started = AttackWorld::Start("psbt-understated");
  ASSERT_TRUE(started.ok()) << started.status();
  AttackWorld& world = **started;
  EXPECT_TRUE(HonestTwinSigns(world, 1, 0x2a, 50'000, OneCoin(1)));

  const policy::SignedIntent intent =
      world.Intent({{ForeignAddress(0x2b), 50'000}}, {.id_seed = 2});
  signerapi::SignRequest request = world.HonestRequest(intent, {}, OneCoin(2));
  request.psbt.inputs.at(0).witness_utxo->value -= 100'000;
  ChangeOutput(request.psbt).value -= 100'000;
  const std::string body = AttackWorld::Encode(request);
  EXPECT_TRUE(
      RefusedNaming(world, body, "witness_utxo_mismatch", "input 0: witness utxo (900000 sat"));
}

// Owns the coordinator. The two-round form of the segwit fee vulnerability (2020): one
// transaction spends two coins and pays 100,000 sat more fee than it shows; round 1 understates
// coin 0, round 2 coin 1, so that each round looks like a 2,000 sat fee and the signatures of
// the two rounds (BIP143 commits to each input's own amount only) combine into the real
// transaction. Both rounds are refused: the previous transactions show the real amounts; and
// the same transaction stated truthfully is refused for its fee.
TEST(CoordinatorPsbt, UnderstatedAmountsOverTwoRoundsAreBothRefused) {
  util::Result<std::unique_ptr<AttackWorld>> started = AttackWorld::Start("psbt-two-rounds");
  ASSERT_TRUE(started.ok()) << started.status();
  AttackWorld& world = **started;
  EXPECT_TRUE(HonestTwinSigns(world, 1, 0x2c, 50'000, TwoCoins(1)));

  const policy::SignedIntent intent =
      world.Intent({{ForeignAddress(0x2d), 50'000}}, {.id_seed = 2});
  signerapi::SignRequest forged = world.HonestRequest(intent, {}, TwoCoins(2));
  ChangeOutput(forged.psbt).value -= 100'000;
  for (size_t understated = 0; understated < 2; ++understated) {
    SCOPED_TRACE("round " + std::to_string(understated + 1));
    signerapi::SignRequest request =
        world.Request({{.intent = intent, .approvals = {}}}, forged.psbt);
    request.psbt.inputs.at(understated).witness_utxo->value -= 100'000;
    const std::string body = AttackWorld::Encode(request);
    EXPECT_TRUE(RefusedNaming(world, body, "witness_utxo_mismatch",
                              "input " + std::to_string(understated) + ": witness utxo"));
  }
  const std::string truthful = AttackWorld::Encode(forged);
  EXPECT_TRUE(RefusedNaming(world, truthful, "intent_fee_ceiling",
                            "fee 102000 sat is above its ceiling of 10000 sat"));
}

// Owns the coordinator. Strips the previous transaction from a segwit v0 input and understates
// the witness UTXO's amount, the change lowered to match (the segwit fee vulnerability, 2020,
// against a signer that would accept a witness UTXO alone). Without the previous transaction the
// amount is unproven.
TEST(CoordinatorPsbt, StrippedPreviousTransactionIsRefused) {
  util::Result<std::unique_ptr<AttackWorld>> started = AttackWorld::Start("psbt-stripped");
  ASSERT_TRUE(started.ok()) << started.status();
  AttackWorld& world = **started;
  EXPECT_TRUE(HonestTwinSigns(world, 1, 0x2e, 50'000, OneCoin(1)));

  const policy::SignedIntent intent =
      world.Intent({{ForeignAddress(0x2f), 50'000}}, {.id_seed = 2});
  signerapi::SignRequest request = world.HonestRequest(intent, {}, OneCoin(2));
  request.psbt.inputs.at(0).non_witness_utxo.reset();
  request.psbt.inputs.at(0).witness_utxo->value -= 100'000;
  ChangeOutput(request.psbt).value -= 100'000;
  const std::string body = AttackWorld::Encode(request);
  EXPECT_TRUE(RefusedNaming(world, body, "missing_previous_transaction",
                            "input 0: no previous transaction"));
}

// Owns the coordinator. Replaces a segwit v0 input's previous transaction with a forged one that
// pays the understated amount to the same script, and the witness UTXO to match (the segwit fee
// vulnerability, 2020, with a forged proof). The forged transaction's txid is not the outpoint's,
// which the PSBT decoder already checks (BIP174): the request is refused as malformed (400
// invalid_argument) before any decision, and so, like every request that does not decode, it is
// not in the audit log (the check's own previous_transaction_mismatch is never reached).
TEST(CoordinatorPsbt, SubstitutedPreviousTransactionIsRefusedAsMalformed) {
  util::Result<std::unique_ptr<AttackWorld>> started = AttackWorld::Start("psbt-substituted-prev");
  ASSERT_TRUE(started.ok()) << started.status();
  AttackWorld& world = **started;
  EXPECT_TRUE(HonestTwinSigns(world, 1, 0x30, 50'000, OneCoin(1)));

  const policy::SignedIntent intent =
      world.Intent({{ForeignAddress(0x31), 50'000}}, {.id_seed = 2});
  signerapi::SignRequest request = world.HonestRequest(intent, {}, OneCoin(2));
  btc::Transaction forged = FundingOf(request.psbt, 0);
  forged.outputs.at(0).value -= 100'000;
  request.psbt.inputs.at(0).non_witness_utxo = forged;
  request.psbt.inputs.at(0).witness_utxo = forged.outputs.at(0);
  ChangeOutput(request.psbt).value -= 100'000;
  const std::string body = AttackWorld::Encode(request);
  const std::vector<Answer> answers = world.SignEverywhere(body);
  ASSERT_EQ(answers.size(), world.signer_count());
  for (const Answer& answer : answers) {
    SCOPED_TRACE("signer " + std::to_string(answer.signer));
    EXPECT_FALSE(answer.signed_psbt());
    EXPECT_EQ(answer.status, 400);
    EXPECT_EQ(answer.code(), "invalid_argument");
    ASSERT_TRUE(answer.error.has_value()) << answer.body;
    EXPECT_NE(answer.error->message.find("non-witness utxo's txid differs from the spent outpoint"),
              std::string::npos)
        << answer.error->message;
    util::Result<std::vector<LoggedRefusal>> logged = world.LoggedRefusals(answer.signer, body);
    ASSERT_TRUE(logged.ok()) << logged.status();
    EXPECT_TRUE(logged->empty());
  }
}

// Owns the coordinator. Makes the second input spend a coin outside the wallet (a 2-of-3
// multisig with the attacker's key in place of a signer's) while it keeps the BIP32 derivations
// and witness script of the wallet's receive address 1: the signers would sign with their keys
// for a coin the attacker chose. The spent script does not re-derive from the wallet.
TEST(CoordinatorPsbt, ForeignInputWithForgedWalletDerivationsIsRefused) {
  util::Result<std::unique_ptr<AttackWorld>> started = AttackWorld::Start("psbt-foreign-input");
  ASSERT_TRUE(started.ok()) << started.status();
  AttackWorld& world = **started;
  EXPECT_TRUE(HonestTwinSigns(world, 1, 0x32, 50'000, TwoCoins(1)));

  const policy::SignedIntent intent =
      world.Intent({{ForeignAddress(0x33), 50'000}}, {.id_seed = 2});
  signerapi::SignRequest request = world.HonestRequest(intent, {}, TwoCoins(2));
  ASSERT_FALSE(request.psbt.inputs.at(1).bip32_derivations.empty());
  btc::Transaction funding = FundingOf(request.psbt, 1);
  funding.outputs.at(1).script_pubkey =
      ExpandBranch(SubstitutedCosignerDescriptor(world.deployment(), 2),
                   signer::WalletBranch::kReceive, 1)
          .script_pubkey;
  ReplaceFunding(request.psbt, funding);
  const std::string body = AttackWorld::Encode(request);
  EXPECT_TRUE(RefusedNaming(world, body, "input_not_in_wallet", "input 1: spent output"));
}

// Owns the coordinator. Spends a coin at the wallet's receive index 1,001, one above the bound,
// with its true derivations: the signers would derive and sign with keys at an index the
// coordinator chose, outside the range the wallet is pinned to. The index is above the bound.
TEST(CoordinatorPsbt, InputAboveTheReceiveIndexBoundIsRefused) {
  util::Result<std::unique_ptr<AttackWorld>> started = AttackWorld::Start("psbt-input-index");
  ASSERT_TRUE(started.ok()) << started.status();
  AttackWorld& world = **started;
  EXPECT_TRUE(HonestTwinSigns(world, 1, 0x34, 50'000, OneCoin(1)));

  const policy::SignedIntent intent =
      world.Intent({{ForeignAddress(0x35), 50'000}}, {.id_seed = 2});
  signerapi::SignRequest request = world.HonestRequest(intent, {}, OneCoin(2));
  const btc::ScriptInfo far = world.wallet()
                                  .branch(signer::WalletBranch::kReceive)
                                  .Expand(world.ctx(), kFixtureIndexMax + 1)
                                  .value();
  btc::Transaction funding = FundingOf(request.psbt, 0);
  funding.outputs.at(0).script_pubkey = far.script_pubkey;
  ReplaceFunding(request.psbt, funding);
  btc::PsbtInput& input = request.psbt.inputs.at(0);
  input.witness_script = far.witness_script;
  input.bip32_derivations.clear();
  for (const auto& [key, origin] : far.bip32_derivations) input.bip32_derivations[key] = origin;
  const std::string body = AttackWorld::Encode(request);
  EXPECT_TRUE(RefusedNaming(world, body, "input_not_in_wallet",
                            "input 0: receive index 1001 is above the bound 1000"));
}

// Owns the coordinator. Asks for a signature that does not commit to every input and output
// (SIGHASH_NONE, SIGHASH_SINGLE|ANYONECANPAY, SIGHASH_ALL|ANYONECANPAY): with such a signature
// the attacker could redirect the outputs or add inputs after signing (Bybit and WazirX class:
// what is signed is not the transaction approved). Only SIGHASH_ALL is signed.
TEST(CoordinatorPsbt, NonAllSighashTypesAreRefused) {
  util::Result<std::unique_ptr<AttackWorld>> started = AttackWorld::Start("psbt-sighash");
  ASSERT_TRUE(started.ok()) << started.status();
  AttackWorld& world = **started;
  EXPECT_TRUE(HonestTwinSigns(world, 1, 0x36, 50'000, OneCoin(1)));

  const policy::SignedIntent intent =
      world.Intent({{ForeignAddress(0x37), 50'000}}, {.id_seed = 2});
  for (const uint32_t sighash : {0x02u, 0x83u, 0x81u}) {
    SCOPED_TRACE("sighash type " + std::to_string(sighash));
    signerapi::SignRequest request = world.HonestRequest(intent, {}, OneCoin(2));
    request.psbt.inputs.at(0).sighash_type = sighash;
    const std::string body = AttackWorld::Encode(request);
    EXPECT_TRUE(RefusedNaming(world, body, "unsupported_sighash",
                              "sighash type " + std::to_string(sighash) + " is not SIGHASH_ALL"));
  }
}

// Owns the coordinator. Marks the second input as already finalized (a final witness), so that
// a signer that skipped final inputs would count its amount without checking that the coin is
// the wallet's or what it is worth. The signer checks and signs only inputs it can verify.
TEST(CoordinatorPsbt, FinalizedInputIsRefused) {
  util::Result<std::unique_ptr<AttackWorld>> started = AttackWorld::Start("psbt-finalized");
  ASSERT_TRUE(started.ok()) << started.status();
  AttackWorld& world = **started;
  EXPECT_TRUE(HonestTwinSigns(world, 1, 0x38, 50'000, TwoCoins(1)));

  const policy::SignedIntent intent =
      world.Intent({{ForeignAddress(0x39), 50'000}}, {.id_seed = 2});
  signerapi::SignRequest request = world.HonestRequest(intent, {}, TwoCoins(2));
  request.psbt.inputs.at(1).final_script_witness =
      std::vector<std::vector<uint8_t>>{{}, std::vector<uint8_t>(72, 0x30)};
  const std::string body = AttackWorld::Encode(request);
  EXPECT_TRUE(RefusedNaming(world, body, "input_finalized", "input 1: already finalized"));
}

// Owns the coordinator. Spends one coin twice in the same transaction, so that a signer that
// added up the inputs would count it twice and see outputs that the real coin cannot pay (an
// understated fee, or funds that are not there). Such a transaction is invalid anyway; the
// signer refuses it before looking at amounts.
TEST(CoordinatorPsbt, CoinSpentTwiceIsRefused) {
  util::Result<std::unique_ptr<AttackWorld>> started = AttackWorld::Start("psbt-duplicate-input");
  ASSERT_TRUE(started.ok()) << started.status();
  AttackWorld& world = **started;
  EXPECT_TRUE(HonestTwinSigns(world, 1, 0x3a, 50'000, OneCoin(1)));

  const policy::SignedIntent intent =
      world.Intent({{ForeignAddress(0x3b), 50'000}}, {.id_seed = 2});
  signerapi::SignRequest request = world.HonestRequest(intent, {}, OneCoin(2));
  request.psbt.unsigned_tx->inputs.push_back(request.psbt.unsigned_tx->inputs.at(0));
  request.psbt.inputs.push_back(request.psbt.inputs.at(0));
  ChangeOutput(request.psbt).value += 1'000'000;
  const std::string body = AttackWorld::Encode(request);
  EXPECT_TRUE(RefusedNaming(world, body, "duplicate_input", "input 1: spends"));
}

// --- Fee ---

// Owns the coordinator (or colludes with a miner). Drops the change: the intent's 50,000 sat are
// paid and the other 948,000 sat of the coin go to the miner as fee (an absurd fee burns funds
// no output shows). The intent accepts at most 10,000 sat of fee.
TEST(CoordinatorPsbt, AbsurdFeeWithoutChangeIsRefusedByTheIntentCeiling) {
  util::Result<std::unique_ptr<AttackWorld>> started = AttackWorld::Start("psbt-absurd-fee");
  ASSERT_TRUE(started.ok()) << started.status();
  AttackWorld& world = **started;
  EXPECT_TRUE(HonestTwinSigns(world, 1, 0x3c, 50'000, OneCoin(1)));

  const policy::SignedIntent intent =
      world.Intent({{ForeignAddress(0x3d), 50'000}}, {.id_seed = 2});
  signerapi::SignRequest request = world.HonestRequest(intent, {}, OneCoin(2));
  RemoveOutput(request.psbt, request.psbt.outputs.size() - 1);
  ASSERT_EQ(request.psbt.unsigned_tx->outputs.size(), 1u);
  const std::string body = AttackWorld::Encode(request);
  EXPECT_TRUE(RefusedNaming(world, body, "intent_fee_ceiling",
                            "fee 950000 sat is above its ceiling of 10000 sat"));
}

// Owns the coordinator. The policy caps the fee at 5,000 sat; the intent states only a fee rate
// ceiling (1,000 sat/vB), which the policy's absolute cap then bounds. The PSBT takes 50,000 sat
// of fee from the change: within the intent's rate, above the policy's fee_max. The policy's
// ceilings apply to the fee re-derived from the transaction.
TEST(CoordinatorPsbt, FeeAboveThePolicyCeilingIsRefused) {
  PolicyOptions options = Deployment::DefaultPolicyOptions();
  options.fee_max = Sats(5'000);
  util::Result<std::unique_ptr<AttackWorld>> started =
      AttackWorld::Start("psbt-policy-fee", options);
  ASSERT_TRUE(started.ok()) << started.status();
  AttackWorld& world = **started;
  const IntentOptions rate_only = {
      .fee = {.max_fee = std::nullopt, .max_rate_sat_per_kvb = 1'000'000}};
  IntentOptions honest_options = rate_only;
  honest_options.id_seed = 1;
  const policy::SignedIntent honest =
      world.Intent({{ForeignAddress(0x3e), 50'000}}, honest_options);
  EXPECT_TRUE(world.SignedAndValid(
      world.SignEverywhere(AttackWorld::Encode(world.HonestRequest(honest, {}, OneCoin(1))))));

  IntentOptions attack_options = rate_only;
  attack_options.id_seed = 2;
  const policy::SignedIntent intent =
      world.Intent({{ForeignAddress(0x3f), 50'000}}, attack_options);
  signerapi::SignRequest request = world.HonestRequest(intent, {}, OneCoin(2));
  ChangeOutput(request.psbt).value -= 48'000;
  const std::string body = AttackWorld::Encode(request);
  EXPECT_TRUE(RefusedNaming(world, body, "fee_ceiling_exceeded",
                            "fee 0.00050000 BTC is above the policy's fee_max"));
}

}  // namespace
}  // namespace kinko::testing
