// Attack scenarios on intents and approvals (doc/threat-model.md):
//   CoordinatorDatabase: the attacker owns the coordinator and its database, but none of the
//     requester's or approvers' keys. It edits pending intents and approvals before it sends
//     them to the signers, and builds the PSBT that pays what it sends.
//   RequesterKey: the attacker holds the hot requester key (ops-bot) and signs intents of its
//     own; the coordinator relays them honestly.
// Each scenario runs its honest twin first (the same flow without the attack: signed by every
// signer, and the transaction verifies), then the attack: refused by every signer with the
// exact code, no signature, and a refused decision for the request in every signer's audit log.
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "btc/address.h"
#include "btc/amount.h"
#include "policy/approval.h"
#include "policy/intent.h"
#include "test/attacks/attack_harness.h"
#include "test/attacks/intents_support.h"
#include "test/support/signer_fixture.h"

namespace kinko::testing {
namespace {

constexpr int64_t kBtc = 100'000'000;

// A policy with an address book entry "cold storage" (rule "to the address book": 2 of
// treasury) and a 24-hour window of 10 BTC, so that a 7 BTC transfer there is within limits.
PolicyOptions AddressBookPolicy() {
  PolicyOptions options = Deployment::DefaultPolicyOptions();
  options.address_book = {{.label = "cold storage", .address = ForeignAddress(0xc0)}};
  options.window_24h = Sats(10 * kBtc);
  return options;
}

// The body of a request for `intent` with `approvals` and the honest PSBT for it.
std::string HonestBody(AttackWorld& world, const policy::SignedIntent& intent,
                       std::vector<policy::SignedApproval> approvals = {},
                       const PsbtOptions& psbt = {}) {
  return AttackWorld::Encode(world.HonestRequest(intent, std::move(approvals), psbt));
}

// The body of a request that pays the stored intent `intent` as the attacker rewrote it
// (`content`, sent with the requester's original signature), with a PSBT that pays `content`.
std::string RewrittenBody(AttackWorld& world, const policy::SignedIntent& intent,
                          const policy::Intent& content, const PsbtOptions& psbt) {
  const signerapi::SignRequest request = world.Request(
      {{.intent = intent, .approvals = {}}}, PsbtPaying(world, {OutputsOf(content)}, psbt));
  return WithIntentBytes(AttackWorld::Encode(request), 0,
                         ForgedSignedBytes(content.Encode(), intent.signature()));
}

// --- CoordinatorDatabase ---------------------------------------------------------------------

// Attacker: owns the coordinator and its database. It rewrites the destination of a pending
// requester-signed intent to its own address and builds the PSBT paying that address. DMM
// Bitcoin, May 2024: a legitimate request altered in transit and signed. The signers verify the
// requester's signature over the intent's exact bytes: 403 invalid_signature, before deciding.
TEST(CoordinatorDatabase, RewrittenDestinationInStoredIntentIsRefused) {
  util::Result<std::unique_ptr<AttackWorld>> started = AttackWorld::Start("intents-destination");
  ASSERT_TRUE(started.ok()) << started.status();
  AttackWorld& world = **started;

  const policy::SignedIntent honest =
      world.Intent({{ForeignAddress(0x01), 5'000'000}}, {.id_seed = 1});
  EXPECT_TRUE(world.SignedAndValid(world.SignEverywhere(HonestBody(world, honest))));

  const policy::SignedIntent intent =
      world.Intent({{ForeignAddress(0x02), 5'000'000}}, {.id_seed = 2});
  const policy::Intent rewritten = RewrittenIntent(
      intent, [](policy::IntentFields& f) { f.outputs.at(0).address = ForeignAddress(0xee); });
  const std::string body = RewrittenBody(world, intent, rewritten, {.funding_seed = 2});
  const std::vector<Answer> answers = world.SignEverywhere(body);
  EXPECT_TRUE(world.RefusedEverywhere(body, answers, "invalid_signature"));
  for (const Answer& answer : answers) EXPECT_EQ(answer.status, 403) << answer.body;
  // Nothing in the altered body can be trusted, so the refusal names no intent
  // (doc/signer-api.md).
  for (size_t i = 0; i < world.signer_count(); ++i) {
    util::Result<std::vector<LoggedRefusal>> logged = world.LoggedRefusals(i, body);
    ASSERT_TRUE(logged.ok()) << logged.status();
    ASSERT_EQ(logged->size(), 1u);
    EXPECT_TRUE(logged->at(0).entry.intent_ids.empty());
  }
}

// Attacker: owns the coordinator's database. It raises the amount of a pending intent to the
// same destination (say one it controls as a customer) and builds the PSBT paying the larger
// amount. DMM Bitcoin, May 2024 (the amount was altered too). The requester's signature does not
// verify over the altered bytes: invalid_signature.
TEST(CoordinatorDatabase, RewrittenAmountInStoredIntentIsRefused) {
  util::Result<std::unique_ptr<AttackWorld>> started = AttackWorld::Start("intents-amount");
  ASSERT_TRUE(started.ok()) << started.status();
  AttackWorld& world = **started;

  const policy::SignedIntent honest =
      world.Intent({{ForeignAddress(0x03), 5'000'000}}, {.id_seed = 1});
  EXPECT_TRUE(world.SignedAndValid(world.SignEverywhere(HonestBody(world, honest))));

  const policy::SignedIntent intent =
      world.Intent({{ForeignAddress(0x04), 5'000'000}}, {.id_seed = 2});
  const policy::Intent rewritten = RewrittenIntent(
      intent, [](policy::IntentFields& f) { f.outputs.at(0).amount = Sats(90'000'000); });
  const std::string body = RewrittenBody(world, intent, rewritten, {.funding_seed = 2});
  EXPECT_TRUE(world.RefusedEverywhere(body, world.SignEverywhere(body), "invalid_signature"));
}

// Attacker: owns the coordinator's database. It raises a pending intent's fee ceiling (max_fee)
// from 10,000 sat to 0.05 BTC and builds a PSBT that pays 0.04 BTC in fees (burnt to a miner it
// colludes with). The class of DMM Bitcoin (a signed request altered before signing). The
// ceiling is part of the signed bytes: invalid_signature.
TEST(CoordinatorDatabase, RaisedFeeCeilingInStoredIntentIsRefused) {
  util::Result<std::unique_ptr<AttackWorld>> started = AttackWorld::Start("intents-fee-ceiling");
  ASSERT_TRUE(started.ok()) << started.status();
  AttackWorld& world = **started;

  const policy::SignedIntent honest =
      world.Intent({{ForeignAddress(0x05), 5'000'000}}, {.id_seed = 1});
  EXPECT_TRUE(world.SignedAndValid(world.SignEverywhere(HonestBody(world, honest))));

  const policy::SignedIntent intent =
      world.Intent({{ForeignAddress(0x06), 5'000'000}}, {.id_seed = 2});
  const policy::Intent rewritten =
      RewrittenIntent(intent, [](policy::IntentFields& f) { f.fee.max_fee = Sats(5'000'000); });
  const std::string body =
      RewrittenBody(world, intent, rewritten, {.fee_sats = 4'000'000, .funding_seed = 2});
  EXPECT_TRUE(world.RefusedEverywhere(body, world.SignEverywhere(body), "invalid_signature"));
}

// Attacker: owns the coordinator's database. A requester's intent expired unpaid (it was
// abandoned); the attacker extends its expiry by two hours to get it paid after all. The class
// of DMM Bitcoin (a signed request altered before signing). The expiry is part of the signed
// bytes: invalid_signature.
TEST(CoordinatorDatabase, ExtendedExpiryOfStoredIntentIsRefused) {
  util::Result<std::unique_ptr<AttackWorld>> started = AttackWorld::Start("intents-expiry");
  ASSERT_TRUE(started.ok()) << started.status();
  AttackWorld& world = **started;

  const policy::SignedIntent honest =
      world.Intent({{ForeignAddress(0x07), 5'000'000}}, {.id_seed = 1});
  EXPECT_TRUE(world.SignedAndValid(world.SignEverywhere(HonestBody(world, honest))));

  const uint64_t now = world.Now();
  const policy::SignedIntent intent = world.Intent(
      {{ForeignAddress(0x08), 5'000'000}}, {.lifetime = 3600, .created = now - 7200, .id_seed = 2});
  const policy::Intent rewritten =
      RewrittenIntent(intent, [&](policy::IntentFields& f) { f.expires = now + 3600; });
  const std::string body = RewrittenBody(world, intent, rewritten, {.funding_seed = 2});
  EXPECT_TRUE(world.RefusedEverywhere(body, world.SignEverywhere(body), "invalid_signature"));
}

// Attacker: owns the coordinator. It injects an intent of its own, signed by a key of its own
// that the policy does not name (the fixture's outsider), paying its own address. The class of
// DMM Bitcoin (the signing side trusting what the relaying system says). The signature verifies,
// but the signer accepts requests only from keys the policy names: unknown_requester.
TEST(CoordinatorDatabase, InjectedIntentSignedByUnknownKeyIsRefused) {
  util::Result<std::unique_ptr<AttackWorld>> started = AttackWorld::Start("intents-outsider");
  ASSERT_TRUE(started.ok()) << started.status();
  AttackWorld& world = **started;

  const policy::SignedIntent honest =
      world.Intent({{ForeignAddress(0x09), 5'000'000}}, {.id_seed = 1});
  EXPECT_TRUE(world.SignedAndValid(world.SignEverywhere(HonestBody(world, honest))));

  const policy::SignedIntent injected = world.Intent(
      {{ForeignAddress(0xee), 5'000'000}}, {.id_seed = 2, .requester = &world.actors().outsider});
  const std::string body = HonestBody(world, injected, {}, {.funding_seed = 2});
  EXPECT_TRUE(world.RefusedEverywhere(body, world.SignEverywhere(body), "unknown_requester"));
}

// Attacker: owns the coordinator's database. It drops one of the two treasury approvals of a
// 7 BTC transfer to the address book and sends the intent with the one left (an approval it
// could not have, or a rejection it hides, is just as easily dropped). The class of Bybit and
// WazirX (signers relying on what a compromised relay presents). The rule needs 2 of treasury:
// approvals_missing.
TEST(CoordinatorDatabase, DroppedApprovalOfAddressBookTransferIsRefused) {
  util::Result<std::unique_ptr<AttackWorld>> started =
      AttackWorld::Start("intents-dropped-approval", AddressBookPolicy());
  ASSERT_TRUE(started.ok()) << started.status();
  AttackWorld& world = **started;
  const Actors& actors = world.actors();

  const policy::SignedIntent honest =
      world.Intent({{ForeignAddress(0xc0), 7 * kBtc}}, {.id_seed = 1});
  EXPECT_TRUE(world.SignedAndValid(
      world.SignEverywhere(HonestBody(world, honest,
                                      {world.Approval(actors.approvers[0], honest),
                                       world.Approval(actors.approvers[1], honest)}))));

  const policy::SignedIntent intent =
      world.Intent({{ForeignAddress(0xc0), 7 * kBtc}}, {.id_seed = 2});
  const std::string body =
      HonestBody(world, intent, {world.Approval(actors.approvers[0], intent)}, {.funding_seed = 2});
  const std::vector<Answer> answers = world.SignEverywhere(body);
  EXPECT_TRUE(world.RefusedEverywhere(body, answers, "approvals_missing"));
  EXPECT_TRUE(DecidedBy(answers, "to the address book", ""));
}

// Attacker: owns the coordinator's database. It has one treasury approval of a 7 BTC transfer
// to the address book and sends it twice, in place of the second approver's. The class of
// Bybit and WazirX (signers relying on what a compromised relay presents). A key counts once,
// and a repeated approval is refused, not ignored: invalid_approval. The order of approvals
// is no lever either way: the twin sends its two approvals in reverse order and is signed.
TEST(CoordinatorDatabase, ApprovalSentTwiceIsRefusedAndApprovalOrderDoesNotMatter) {
  util::Result<std::unique_ptr<AttackWorld>> started =
      AttackWorld::Start("intents-approval-twice", AddressBookPolicy());
  ASSERT_TRUE(started.ok()) << started.status();
  AttackWorld& world = **started;
  const Actors& actors = world.actors();

  const policy::SignedIntent honest =
      world.Intent({{ForeignAddress(0xc0), 7 * kBtc}}, {.id_seed = 1});
  EXPECT_TRUE(world.SignedAndValid(
      world.SignEverywhere(HonestBody(world, honest,
                                      {world.Approval(actors.approvers[1], honest),
                                       world.Approval(actors.approvers[0], honest)}))));

  const policy::SignedIntent intent =
      world.Intent({{ForeignAddress(0xc0), 7 * kBtc}}, {.id_seed = 2});
  const policy::SignedApproval alice = world.Approval(actors.approvers[0], intent);
  const std::string body = HonestBody(world, intent, {alice, alice}, {.funding_seed = 2});
  EXPECT_TRUE(world.RefusedEverywhere(body, world.SignEverywhere(body), "invalid_approval"));
}

// Attacker: owns the coordinator's database. It holds an intent the requester post-dated (made
// an hour ahead, for a payment not due yet) and sends it now, before its time. The class of
// DMM Bitcoin (the relay deciding what gets signed when). An intent created more than five
// minutes after the signer's clock is refused: intent_from_future.
TEST(CoordinatorDatabase, PostDatedIntentSentEarlyIsRefused) {
  util::Result<std::unique_ptr<AttackWorld>> started = AttackWorld::Start("intents-future");
  ASSERT_TRUE(started.ok()) << started.status();
  AttackWorld& world = **started;

  const policy::SignedIntent honest =
      world.Intent({{ForeignAddress(0x0a), 5'000'000}}, {.id_seed = 1});
  EXPECT_TRUE(world.SignedAndValid(world.SignEverywhere(HonestBody(world, honest))));

  const policy::SignedIntent intent = world.Intent({{ForeignAddress(0x0b), 5'000'000}},
                                                   {.created = world.Now() + 3600, .id_seed = 2});
  const std::string body = HonestBody(world, intent, {}, {.funding_seed = 2});
  EXPECT_TRUE(world.RefusedEverywhere(body, world.SignEverywhere(body), "intent_from_future"));
}

// Attacker: owns the coordinator's database. It resurrects an intent that expired unpaid an
// hour ago (the requester gave up on it) and sends it unchanged. The class of DMM Bitcoin (the
// relay deciding what gets signed when). The signer's clock decides: intent_expired.
TEST(CoordinatorDatabase, ExpiredIntentSentLaterIsRefused) {
  util::Result<std::unique_ptr<AttackWorld>> started = AttackWorld::Start("intents-expired");
  ASSERT_TRUE(started.ok()) << started.status();
  AttackWorld& world = **started;

  const policy::SignedIntent honest =
      world.Intent({{ForeignAddress(0x0c), 5'000'000}}, {.id_seed = 1});
  EXPECT_TRUE(world.SignedAndValid(world.SignEverywhere(HonestBody(world, honest))));

  const policy::SignedIntent intent =
      world.Intent({{ForeignAddress(0x0d), 5'000'000}},
                   {.lifetime = 3600, .created = world.Now() - 7200, .id_seed = 2});
  const std::string body = HonestBody(world, intent, {}, {.funding_seed = 2});
  EXPECT_TRUE(world.RefusedEverywhere(body, world.SignEverywhere(body), "intent_expired"));
}

// Attacker: owns the coordinator's database. It takes an intent the requester signed for
// testnet and sends it to the regtest signers with a PSBT paying the same output scripts (a
// testnet address and a regtest address of one witness program are one script). ETH/ETC 2016
// (replay on another chain). The intent's network is not the policy's: wrong_network.
TEST(CoordinatorDatabase, IntentForAnotherNetworkIsRefused) {
  util::Result<std::unique_ptr<AttackWorld>> started = AttackWorld::Start("intents-network");
  ASSERT_TRUE(started.ok()) << started.status();
  AttackWorld& world = **started;

  const policy::SignedIntent honest =
      world.Intent({{ForeignAddress(0x0e), 5'000'000}}, {.id_seed = 1});
  EXPECT_TRUE(world.SignedAndValid(world.SignEverywhere(HonestBody(world, honest))));

  const policy::SignedIntent intent =
      world.Intent({{ForeignAddress(0x0f, btc::Network::kTestnet), 5'000'000}},
                   {.network = btc::Network::kTestnet, .id_seed = 2});
  const signerapi::SignRequest request =
      world.Request({{.intent = intent, .approvals = {}}},
                    PsbtPaying(world, {{{ForeignAddress(0x0f), 5'000'000}}}, {.funding_seed = 2}));
  ASSERT_EQ(request.psbt.unsigned_tx->outputs.at(0).script_pubkey,
            intent.intent().output_scripts().at(0));
  const std::string body = AttackWorld::Encode(request);
  EXPECT_TRUE(world.RefusedEverywhere(body, world.SignEverywhere(body), "wrong_network"));
}

// Attacker: owns the coordinator's database. It takes an intent the requester signed for
// another wallet ("treasury-cold", whose own limits and velocity window it would be charged to)
// and sends it to the signers of this wallet, with a PSBT spending this wallet's coins: an
// intent for one wallet routed to another. Each signer checks the intents' wallet against its
// pinned wallet before the policy's rules: wrong_wallet.
TEST(CoordinatorDatabase, IntentForAnotherWalletIsRefused) {
  util::Result<std::unique_ptr<AttackWorld>> started = AttackWorld::Start("intents-wallet");
  ASSERT_TRUE(started.ok()) << started.status();
  AttackWorld& world = **started;

  const policy::SignedIntent honest =
      world.Intent({{ForeignAddress(0x10), 5'000'000}}, {.id_seed = 1});
  EXPECT_TRUE(world.SignedAndValid(world.SignEverywhere(HonestBody(world, honest))));

  const policy::SignedIntent intent =
      world.Intent({{ForeignAddress(0x11), 5'000'000}}, {.wallet = "treasury-cold", .id_seed = 2});
  const std::string body = HonestBody(world, intent, {}, {.funding_seed = 2});
  const std::vector<Answer> answers = world.SignEverywhere(body);
  EXPECT_TRUE(world.RefusedEverywhere(body, answers, "wrong_wallet"));
}

// Attacker: owns the coordinator's database. It sends one requester-signed intent twice in one
// request, with a PSBT that pays its output twice (so the transaction check finds every output
// paid). The class of double payment (one approved request paid twice). One intent is paid
// once: duplicate_intent.
TEST(CoordinatorDatabase, SameIntentTwiceInOneRequestIsRefused) {
  util::Result<std::unique_ptr<AttackWorld>> started = AttackWorld::Start("intents-duplicate");
  ASSERT_TRUE(started.ok()) << started.status();
  AttackWorld& world = **started;

  const policy::SignedIntent honest =
      world.Intent({{ForeignAddress(0x12), 5'000'000}}, {.id_seed = 1});
  EXPECT_TRUE(world.SignedAndValid(world.SignEverywhere(HonestBody(world, honest))));

  const policy::SignedIntent intent =
      world.Intent({{ForeignAddress(0x13), 5'000'000}}, {.id_seed = 2});
  const signerapi::SignRequest request =
      world.Request({{.intent = intent, .approvals = {}}, {.intent = intent, .approvals = {}}},
                    world.Psbt({intent, intent}, {.funding_seed = 2}));
  const std::string body = AttackWorld::Encode(request);
  EXPECT_TRUE(world.RefusedEverywhere(body, world.SignEverywhere(body), "duplicate_intent"));
}

// Attacker: owns the coordinator's database. Of the two treasury approvers of a 7 BTC transfer
// to the address book, alice approved and bob rejected; the attacker rewrites the decision in
// bob's stored rejection to "approve" (his signature kept) to reach 2 of treasury. The class of
// Bybit and WazirX (what the signers act on is not what the people decided). The approver's
// signature covers the decision: invalid_signature, before deciding.
TEST(CoordinatorDatabase, RejectionRewrittenAsApprovalIsRefused) {
  util::Result<std::unique_ptr<AttackWorld>> started =
      AttackWorld::Start("intents-rewritten-rejection", AddressBookPolicy());
  ASSERT_TRUE(started.ok()) << started.status();
  AttackWorld& world = **started;
  const Actors& actors = world.actors();

  const policy::SignedIntent honest =
      world.Intent({{ForeignAddress(0xc0), 7 * kBtc}}, {.id_seed = 1});
  EXPECT_TRUE(world.SignedAndValid(
      world.SignEverywhere(HonestBody(world, honest,
                                      {world.Approval(actors.approvers[0], honest),
                                       world.Approval(actors.approvers[1], honest)}))));

  const policy::SignedIntent intent =
      world.Intent({{ForeignAddress(0xc0), 7 * kBtc}}, {.id_seed = 2});
  const policy::SignedApproval rejection =
      world.Approval(actors.approvers[1], intent, /*approve=*/false);
  // Unaltered, bob's rejection refuses the transfer.
  const std::string rejected = HonestBody(
      world, intent, {world.Approval(actors.approvers[0], intent), rejection}, {.funding_seed = 2});
  EXPECT_TRUE(
      world.RefusedEverywhere(rejected, world.SignEverywhere(rejected), "approval_rejected"));

  policy::ApprovalFields approve = rejection.approval().fields();
  approve.decision = policy::Decision::kApprove;
  const std::string body = WithApprovalBytes(
      rejected, 0, 1,
      ForgedSignedBytes(policy::Approval::Create(approve).value().Encode(), rejection.signature()));
  EXPECT_TRUE(world.RefusedEverywhere(body, world.SignEverywhere(body), "invalid_signature"));
}

// --- RequesterKey ----------------------------------------------------------------------------

// Attacker: holds the hot requester key (ops-bot). It drains the wallet by many withdrawals,
// each well under the rule "small withdrawals" (at most 1 BTC, no approval): four that take
// 0.25 BTC each with their fee are signed (the twin: within the policy), then the fifth, and
// even a 10,000 sat one, are refused.
// Bitfinex, Aug 2016 (119,756 BTC in 2,072 transactions that the co-signer's limits did not
// stop). The signer's own 24-hour window of 1 BTC counts every signed withdrawal and its fee:
// window_limit.
TEST(RequesterKey, DrainByManySmallWithdrawalsStopsAtTheWindow) {
  util::Result<std::unique_ptr<AttackWorld>> started = AttackWorld::Start("intents-velocity");
  ASSERT_TRUE(started.ok()) << started.status();
  AttackWorld& world = **started;

  uint32_t seed = 1;
  const int64_t fee = PsbtOptions{}.fee_sats;
  for (int i = 0; i < 4; ++i, ++seed) {
    const policy::SignedIntent withdrawal =
        world.Intent({{ForeignAddress(0xe0), kBtc / 4 - fee}}, {.id_seed = seed});
    EXPECT_TRUE(world.SignedAndValid(
        world.SignEverywhere(HonestBody(world, withdrawal, {}, {.funding_seed = seed}))))
        << "withdrawal " << i;
  }
  for (const int64_t sats : {kBtc / 4, int64_t{10'000}}) {
    const policy::SignedIntent withdrawal =
        world.Intent({{ForeignAddress(0xe0), sats}}, {.id_seed = seed});
    const std::string body = HonestBody(world, withdrawal, {}, {.funding_seed = seed});
    ++seed;
    const std::vector<Answer> answers = world.SignEverywhere(body);
    EXPECT_TRUE(world.RefusedEverywhere(body, answers, "window_limit")) << sats << " sat";
    EXPECT_TRUE(DecidedBy(answers, "", "window 1d")) << sats << " sat";
  }
}

// Attacker: holds the hot requester key. It asks for 7,000 BTC in one withdrawal to its own
// address. Binance, May 2019 (7,000 BTC left the hot wallet in one transaction). No rule allows
// more than 1 BTC without approval, and the policy's last rule denies everything else:
// rule_denies.
TEST(RequesterKey, OneHugeWithdrawalIsDeniedByTheRules) {
  util::Result<std::unique_ptr<AttackWorld>> started = AttackWorld::Start("intents-huge");
  ASSERT_TRUE(started.ok()) << started.status();
  AttackWorld& world = **started;

  const policy::SignedIntent honest =
      world.Intent({{ForeignAddress(0xe1), kBtc / 2}}, {.id_seed = 1});
  EXPECT_TRUE(world.SignedAndValid(world.SignEverywhere(HonestBody(world, honest))));

  const policy::SignedIntent intent =
      world.Intent({{ForeignAddress(0xe1), 7'000 * kBtc}}, {.id_seed = 2});
  const std::string body = HonestBody(world, intent, {}, {.funding_seed = 2});
  const std::vector<Answer> answers = world.SignEverywhere(body);
  EXPECT_TRUE(world.RefusedEverywhere(body, answers, "rule_denies"));
  EXPECT_TRUE(DecidedBy(answers, "everything else", ""));
}

// Attacker: holds the hot requester key, under a policy whose no-approval rule is loose (up to
// 10,000 BTC) but whose per-transaction limit is 2 BTC. It asks for 7,000 BTC in one
// withdrawal. Binance, May 2019 (7,000 BTC in one transaction). A rule never allows more than
// the limits: per_transaction_limit.
TEST(RequesterKey, OneHugeWithdrawalIsStoppedByThePerTransactionLimit) {
  PolicyOptions options = Deployment::DefaultPolicyOptions();
  options.small_max = Sats(10'000 * kBtc);
  options.per_transaction = Sats(2 * kBtc);
  options.window_24h = Sats(20'000 * kBtc);
  util::Result<std::unique_ptr<AttackWorld>> started =
      AttackWorld::Start("intents-huge-per-transaction", options);
  ASSERT_TRUE(started.ok()) << started.status();
  AttackWorld& world = **started;

  const policy::SignedIntent honest =
      world.Intent({{ForeignAddress(0xe2), 3 * kBtc / 2}}, {.id_seed = 1});
  EXPECT_TRUE(world.SignedAndValid(world.SignEverywhere(HonestBody(world, honest))));

  const policy::SignedIntent intent =
      world.Intent({{ForeignAddress(0xe2), 7'000 * kBtc}}, {.id_seed = 2});
  const std::string body = HonestBody(world, intent, {}, {.funding_seed = 2});
  const std::vector<Answer> answers = world.SignEverywhere(body);
  EXPECT_TRUE(world.RefusedEverywhere(body, answers, "per_transaction_limit"));
  EXPECT_TRUE(DecidedBy(answers, "", "per_transaction"));
}

// Attacker: holds the hot requester key, under a policy that pays at most 4 intent outputs per
// transaction. It splits one withdrawal across 20 outputs of 0.01 BTC to as many addresses
// (funds spread out are harder to follow and to freeze). The class of Bitfinex 2016 (many
// payments the limits did not stop). The signer counts the outputs: outputs_limit.
TEST(RequesterKey, WithdrawalSplitAcrossManyOutputsIsRefused) {
  PolicyOptions options = Deployment::DefaultPolicyOptions();
  options.outputs_max = 4;
  util::Result<std::unique_ptr<AttackWorld>> started =
      AttackWorld::Start("intents-outputs", options);
  ASSERT_TRUE(started.ok()) << started.status();
  AttackWorld& world = **started;

  std::vector<OutputSpec> four;
  for (uint8_t tag = 0; tag < 4; ++tag)
    four.push_back({ForeignAddress(static_cast<uint8_t>(0x30 + tag)), kBtc / 100});
  const policy::SignedIntent honest = world.Intent(four, {.id_seed = 1});
  EXPECT_TRUE(world.SignedAndValid(world.SignEverywhere(HonestBody(world, honest))));

  std::vector<OutputSpec> twenty;
  for (uint8_t tag = 0; tag < 20; ++tag)
    twenty.push_back({ForeignAddress(static_cast<uint8_t>(0x40 + tag)), kBtc / 100});
  const policy::SignedIntent intent = world.Intent(twenty, {.id_seed = 2});
  const std::string body = HonestBody(world, intent, {}, {.funding_seed = 2});
  const std::vector<Answer> answers = world.SignEverywhere(body);
  EXPECT_TRUE(world.RefusedEverywhere(body, answers, "outputs_limit"));
  EXPECT_TRUE(DecidedBy(answers, "", "outputs_max"));
}

// Attacker: holds the hot requester key, under a policy with a per-transaction limit of 0.5
// BTC. It signs four intents of 0.2 BTC, each allowed on its own, and has them batched into one
// transaction of 0.8 BTC. The class of Bitfinex 2016 (limits that did not hold). The limit
// binds the transaction's total, however many intents it pays: per_transaction_limit.
TEST(RequesterKey, BatchOfSmallIntentsAboveThePerTransactionLimitIsRefused) {
  PolicyOptions options = Deployment::DefaultPolicyOptions();
  options.per_transaction = Sats(kBtc / 2);
  options.window_24h = Sats(10 * kBtc);
  util::Result<std::unique_ptr<AttackWorld>> started = AttackWorld::Start("intents-batch", options);
  ASSERT_TRUE(started.ok()) << started.status();
  AttackWorld& world = **started;

  const auto batch = [&](uint64_t first_seed, size_t count, uint32_t funding_seed) {
    std::vector<policy::SignedIntent> intents;
    std::vector<policy::IntentWithApprovals> with_approvals;
    for (size_t i = 0; i < count; ++i) {
      intents.push_back(world.Intent({{ForeignAddress(static_cast<uint8_t>(0x50 + i)), kBtc / 5}},
                                     {.id_seed = first_seed + i}));
      with_approvals.push_back({.intent = intents.back(), .approvals = {}});
    }
    return AttackWorld::Encode(world.Request(std::move(with_approvals),
                                             world.Psbt(intents, {.funding_seed = funding_seed})));
  };
  EXPECT_TRUE(world.SignedAndValid(world.SignEverywhere(batch(1, 2, 1))));

  const std::string body = batch(10, 4, 2);
  const std::vector<Answer> answers = world.SignEverywhere(body);
  EXPECT_TRUE(world.RefusedEverywhere(body, answers, "per_transaction_limit"));
  EXPECT_TRUE(DecidedBy(answers, "", "per_transaction"));
}

// Attacker: holds the hot requester key. The hot wallet's 24-hour window (1 BTC) is used up by a
// signed withdrawal of 1 BTC with its fee (the twin); it then signs a 0.5 BTC intent naming
// another wallet ("treasury-cold", whose window is untouched) and sends it to the hot wallet's
// signers. The class of Bitfinex 2016 (limits that did not hold). A signer signs only for its
// pinned wallet, and checks that before the rules and windows: wrong_wallet.
TEST(RequesterKey, IntentNamingAnotherWalletCannotBypassTheWindow) {
  util::Result<std::unique_ptr<AttackWorld>> started = AttackWorld::Start("intents-across-wallets");
  ASSERT_TRUE(started.ok()) << started.status();
  AttackWorld& world = **started;

  const policy::SignedIntent honest =
      world.Intent({{ForeignAddress(0xe3), kBtc - PsbtOptions{}.fee_sats}}, {.id_seed = 1});
  EXPECT_TRUE(world.SignedAndValid(world.SignEverywhere(HonestBody(world, honest))));

  const policy::SignedIntent intent =
      world.Intent({{ForeignAddress(0xe3), kBtc / 2}}, {.wallet = "treasury-cold", .id_seed = 2});
  const std::string body = HonestBody(world, intent, {}, {.funding_seed = 2});
  const std::vector<Answer> answers = world.SignEverywhere(body);
  EXPECT_TRUE(world.RefusedEverywhere(body, answers, "wrong_wallet"));
}

// Attacker: holds the hot requester key. It asks for 2 BTC to the address-book entry "cold
// storage" (rule "to the address book": 2 of treasury) without any approval, hoping that a
// known destination is trusted. The class of Binance 2019 (stolen credentials moving funds with
// no human in the loop). Approvals are the people's keys, not the bot's: approvals_missing.
TEST(RequesterKey, AddressBookWithdrawalWithoutApprovalsIsRefused) {
  util::Result<std::unique_ptr<AttackWorld>> started =
      AttackWorld::Start("intents-book-no-approvals", AddressBookPolicy());
  ASSERT_TRUE(started.ok()) << started.status();
  AttackWorld& world = **started;
  const Actors& actors = world.actors();

  const policy::SignedIntent honest =
      world.Intent({{ForeignAddress(0xc0), 2 * kBtc}}, {.id_seed = 1});
  EXPECT_TRUE(world.SignedAndValid(
      world.SignEverywhere(HonestBody(world, honest,
                                      {world.Approval(actors.approvers[0], honest),
                                       world.Approval(actors.approvers[1], honest)}))));

  const policy::SignedIntent intent =
      world.Intent({{ForeignAddress(0xc0), 2 * kBtc}}, {.id_seed = 2});
  const std::string body = HonestBody(world, intent, {}, {.funding_seed = 2});
  const std::vector<Answer> answers = world.SignEverywhere(body);
  EXPECT_TRUE(world.RefusedEverywhere(body, answers, "approvals_missing"));
  EXPECT_TRUE(DecidedBy(answers, "to the address book", ""));
}

// Attacker: holds the hot requester key, and the coordinator that builds the PSBT. Under the
// default policy (a 24-hour window of 1 BTC, no fee_max), it signs tiny withdrawals whose fee
// ceiling is 0.6 BTC and has PSBTs built that pay 0.6 BTC in fees (to a miner it colludes with):
// funds drained through fees, which no output shows. The first burn fits the window and is
// signed (the policy allows it: set fee_max); the second is refused, because the window counts
// what leaves the wallet, fees included: window_limit. The class of the segwit fee
// vulnerability (a signer made to pay a huge fee) and of Bitfinex 2016 (limits that did not
// hold).
TEST(RequesterKey, FeesCannotDrainPastTheWindow) {
  util::Result<std::unique_ptr<AttackWorld>> started = AttackWorld::Start("intents-fee-drain");
  ASSERT_TRUE(started.ok()) << started.status();
  AttackWorld& world = **started;
  const int64_t burn = 60'000'000;
  const policy::FeeCeiling ceiling = {.max_fee = Sats(burn), .max_rate_sat_per_kvb = std::nullopt};

  const policy::SignedIntent first =
      world.Intent({{ForeignAddress(0xe4), 10'000}}, {.fee = ceiling, .id_seed = 1});
  btc::Transaction paid;
  EXPECT_TRUE(world.SignedAndValid(
      world.SignEverywhere(HonestBody(world, first, {}, {.fee_sats = burn, .funding_seed = 1})),
      &paid));

  const policy::SignedIntent second =
      world.Intent({{ForeignAddress(0xe4), 10'000}}, {.fee = ceiling, .id_seed = 2});
  const std::string body = HonestBody(world, second, {}, {.fee_sats = burn, .funding_seed = 2});
  const std::vector<Answer> answers = world.SignEverywhere(body);
  EXPECT_TRUE(world.RefusedEverywhere(body, answers, "window_limit"));
  EXPECT_TRUE(DecidedBy(answers, "", "window 1d"));
}

// Attacker: holds the hot requester key, and the coordinator that builds the PSBT. Under a
// policy with fee_max 0.01 BTC, it signs a 0.01 BTC withdrawal whose fee ceiling is 1 BTC and has
// a PSBT built that pays 0.9 BTC in fees (to a miner it colludes with). The class of the segwit
// fee vulnerability (a signer made to pay a huge fee). No intent may state a ceiling above the
// policy's, whatever the transaction: fee_ceiling_exceeded (limit fee_max).
TEST(RequesterKey, FeeCeilingAboveThePolicysIsRefused) {
  PolicyOptions options = Deployment::DefaultPolicyOptions();
  options.fee_max = Sats(kBtc / 100);
  util::Result<std::unique_ptr<AttackWorld>> started = AttackWorld::Start("intents-fee", options);
  ASSERT_TRUE(started.ok()) << started.status();
  AttackWorld& world = **started;

  const policy::SignedIntent honest =
      world.Intent({{ForeignAddress(0xe4), kBtc / 100}}, {.id_seed = 1});
  EXPECT_TRUE(world.SignedAndValid(world.SignEverywhere(HonestBody(world, honest))));

  const policy::SignedIntent intent = world.Intent(
      {{ForeignAddress(0xe4), kBtc / 100}},
      {.fee = {.max_fee = Sats(kBtc), .max_rate_sat_per_kvb = std::nullopt}, .id_seed = 2});
  const std::string body =
      HonestBody(world, intent, {}, {.fee_sats = 9 * kBtc / 10, .funding_seed = 2});
  const std::vector<Answer> answers = world.SignEverywhere(body);
  EXPECT_TRUE(world.RefusedEverywhere(body, answers, "fee_ceiling_exceeded"));
  EXPECT_TRUE(DecidedBy(answers, "", "fee_max"));
}

// Attacker: holds the hot requester key. It asks for 2 BTC to the address-book entry "cold
// storage" (2 of treasury) and adds an approval signed with its own key next to alice's, to
// make up the second approver. Separation of duties (a requester approving its own request).
// The requester never counts for its own intent (and ops-bot is in no group): approvals_missing.
TEST(RequesterKey, RequestersOwnApprovalDoesNotCount) {
  util::Result<std::unique_ptr<AttackWorld>> started =
      AttackWorld::Start("intents-own-approval", AddressBookPolicy());
  ASSERT_TRUE(started.ok()) << started.status();
  AttackWorld& world = **started;
  const Actors& actors = world.actors();

  const policy::SignedIntent honest =
      world.Intent({{ForeignAddress(0xc0), 2 * kBtc}}, {.id_seed = 1});
  EXPECT_TRUE(world.SignedAndValid(
      world.SignEverywhere(HonestBody(world, honest,
                                      {world.Approval(actors.approvers[0], honest),
                                       world.Approval(actors.approvers[1], honest)}))));

  const policy::SignedIntent intent =
      world.Intent({{ForeignAddress(0xc0), 2 * kBtc}}, {.id_seed = 2});
  const std::string body = HonestBody(
      world, intent,
      {world.Approval(actors.approvers[0], intent), world.Approval(actors.requester, intent)},
      {.funding_seed = 2});
  const std::vector<Answer> answers = world.SignEverywhere(body);
  EXPECT_TRUE(world.RefusedEverywhere(body, answers, "approvals_missing"));
  EXPECT_TRUE(DecidedBy(answers, "to the address book", ""));
}

}  // namespace
}  // namespace kinko::testing
