// The insider scenarios of the threat model (DESIGN.md section 2): the attacker holds one
// approver key, or one admin key (fewer than the governance threshold, 2 of 3 admins in the
// fixture), or two admin keys whose change must still wait out the activation delay. Each
// scenario starts its own world of three real signers, runs its honest twin, then the attack,
// and checks that every signer refused it with the exact code, signed nothing, and logged a
// refused decision for the request's body.
//
// Suite Approver: approvals that must not count (doc/policy.md "Approvals").
// Suite Admin: policy changes, freezes and unfreezes that must not take effect, or not yet
// (doc/policy.md "Changing a policy", doc/signer-api.md "Refused policy updates, freezes and
// unfreezes").
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "crypto/ed25519.h"
#include "policy/approval.h"
#include "policy/intent.h"
#include "policy/policy.h"
#include "signerapi/freeze.h"
#include "signerapi/messages.h"
#include "test/attacks/attack_harness.h"
#include "test/attacks/insider_support.h"
#include "test/support/signer_fixture.h"

namespace kinko::testing {
namespace {

constexpr uint64_t kHour = 3600;
constexpr uint64_t kDay = 86400;
// 0.5 BTC: below the fixture's small_max of 1 BTC (rule "small withdrawals", no approvals).
constexpr int64_t kSmallSats = 50'000'000;
// 5 BTC to a foreign address: denied by the scenarios' policy ("everything else"), allowed
// without approvals by a loosening that raises small_max to kLooseSmallMax.
constexpr int64_t kLargeSats = 500'000'000;
const btc::Amount kLooseSmallMax = Sats(1'000'000'000);

// The body of the request paying `intent` with `approvals`, with its own funding transaction.
std::string Body(AttackWorld& world, const policy::SignedIntent& intent,
                 std::vector<policy::SignedApproval> approvals, uint32_t funding_seed) {
  return AttackWorld::Encode(
      world.HonestRequest(intent, std::move(approvals), {.funding_seed = funding_seed}));
}

// The honest twin of the approver scenarios: ops-bot's 7 BTC transfer to the address book,
// approved by alice and bob under the policy in force, is signed by every signer and makes a
// valid transaction. `seed` is the intent's id seed and the PSBT's funding seed.
::testing::AssertionResult HonestBookTransferSigns(AttackWorld& world, uint32_t seed) {
  const Actors& actors = world.actors();
  const policy::SignedIntent intent =
      world.Intent({{BookAddress(), kBookTransferSats}}, {.id_seed = seed});
  const std::string body = Body(
      world, intent,
      {world.Approval(actors.approvers[0], intent), world.Approval(actors.approvers[1], intent)},
      seed);
  return world.SignedAndValid(world.SignEverywhere(body));
}

// An honest small withdrawal (no approvals needed) is signed by every signer.
::testing::AssertionResult SmallWithdrawalSigns(AttackWorld& world, uint32_t seed) {
  const policy::SignedIntent intent =
      world.Intent({{ForeignAddress(static_cast<uint8_t>(seed)), kSmallSats}}, {.id_seed = seed});
  return world.SignedAndValid(world.SignEverywhere(Body(world, intent, {}, seed)));
}

// Every signer has the policy `in_force` in force, and a pending policy exactly when
// `pending_sequence` is not 0 (then with that sequence).
::testing::AssertionResult PolicyStateIs(AttackWorld& world, const policy::SignedPolicy& in_force,
                                         uint64_t pending_sequence) {
  util::Result<std::vector<signerapi::StatusResponse>> statuses = StatusEverywhere(world);
  if (!statuses.ok()) return ::testing::AssertionFailure() << statuses.status().ToString();
  for (size_t i = 0; i < statuses->size(); ++i) {
    const signerapi::StatusResponse& status = (*statuses)[i];
    if (status.policy.sequence != in_force.policy().fields().sequence ||
        status.policy.digest != in_force.policy().digest()) {
      return ::testing::AssertionFailure()
             << "signer " << i << " has policy " << status.policy.sequence << " in force";
    }
    const uint64_t pending =
        status.pending_policy.has_value() ? status.pending_policy->sequence : 0;
    if (pending != pending_sequence) {
      return ::testing::AssertionFailure() << "signer " << i << " has pending policy " << pending
                                           << ", expected " << pending_sequence;
    }
  }
  return ::testing::AssertionSuccess();
}

// ---------------------------------------------------------------------------------------------
// Suite Approver: the attacker holds one approver key (alice's), or is a requester who also
// approves, or is the coordinator handing approvals to the signers.

// Capability: alice, a treasury member, may also request (no rule names its requesters).
// Attack: she requests 7 BTC to the address book and approves it herself, with bob.
// Class: separation of duties defeated by one person acting in two roles.
// Refused: the requester never counts for its own intent, so "2 of treasury" has only bob.
TEST(Approver, RequesterApprovingItsOwnIntentDoesNotCount) {
  util::Result<std::unique_ptr<AttackWorld>> started =
      AttackWorld::Start("approver-self-approval", InsiderPolicyOptions());
  ASSERT_TRUE(started.ok()) << started.status();
  AttackWorld& world = **started;
  const Actors& actors = world.actors();
  const crypto::Ed25519PrivateKey& alice = actors.approvers[0];
  const crypto::Ed25519PrivateKey& bob = actors.approvers[1];
  const crypto::Ed25519PrivateKey& carol = actors.approvers[2];

  EXPECT_TRUE(HonestBookTransferSigns(world, 1));
  // alice may request: her intent approved by two other members of treasury is signed.
  const policy::SignedIntent own_honest =
      world.Intent({{BookAddress(), kBookTransferSats}}, {.id_seed = 2, .requester = &alice});
  EXPECT_TRUE(world.SignedAndValid(world.SignEverywhere(
      Body(world, own_honest, {world.Approval(bob, own_honest), world.Approval(carol, own_honest)},
           2))));

  const policy::SignedIntent intent =
      world.Intent({{BookAddress(), kBookTransferSats}}, {.id_seed = 3, .requester = &alice});
  const std::string body =
      Body(world, intent, {world.Approval(alice, intent), world.Approval(bob, intent)}, 3);
  const std::vector<Answer> answers = world.SignEverywhere(body);
  EXPECT_TRUE(world.RefusedEverywhere(body, answers, "approvals_missing"));
  EXPECT_TRUE(DetailsContain(answers, "have 1: bob"));
  EXPECT_TRUE(DetailsContain(answers, "approved its own intent"));
}

// Capability: admin-1's key, which the policy names, but not as a member of treasury.
// Attack: admin-1 approves the 7 BTC transfer with bob, filling the second treasury slot with
// a key of another role.
// Class: an approval threshold met by someone the rule does not trust for it.
// Refused: an approval counts only toward a group its key is a member of; the rule still has
// 1 of the 2 treasury approvals it needs.
TEST(Approver, ApprovalByAKeyOutsideTheGroupDoesNotCount) {
  util::Result<std::unique_ptr<AttackWorld>> started =
      AttackWorld::Start("approver-outside-group", InsiderPolicyOptions());
  ASSERT_TRUE(started.ok()) << started.status();
  AttackWorld& world = **started;
  const Actors& actors = world.actors();

  EXPECT_TRUE(HonestBookTransferSigns(world, 1));

  const policy::SignedIntent intent =
      world.Intent({{BookAddress(), kBookTransferSats}}, {.id_seed = 2});
  const std::string body = Body(
      world, intent,
      {world.Approval(actors.admins[0], intent), world.Approval(actors.approvers[1], intent)}, 2);
  const std::vector<Answer> answers = world.SignEverywhere(body);
  EXPECT_TRUE(world.RefusedEverywhere(body, answers, "approvals_missing"));
  EXPECT_TRUE(DetailsContain(answers, "have 1: bob"));
}

// Capability: alice holds a second key of her own, which the policy does not name.
// Attack: she approves with both keys, to fill the two slots of "2 of treasury" alone.
// Class: several keys, one party (Ronin bridge, 2022: 4 of the 5 keys held by one organisation).
// Refused: an approval by a key the policy does not name is refused, not ignored.
TEST(Approver, SecondKeyOfOneApproverIsRefused) {
  util::Result<std::unique_ptr<AttackWorld>> started =
      AttackWorld::Start("approver-second-key", InsiderPolicyOptions());
  ASSERT_TRUE(started.ok()) << started.status();
  AttackWorld& world = **started;
  const crypto::Ed25519PrivateKey& alice = world.actors().approvers[0];
  const crypto::Ed25519PrivateKey alice_second_key = TestIdentityKey(0x31);

  EXPECT_TRUE(HonestBookTransferSigns(world, 1));

  const policy::SignedIntent intent =
      world.Intent({{BookAddress(), kBookTransferSats}}, {.id_seed = 2});
  const std::string body = Body(
      world, intent, {world.Approval(alice, intent), world.Approval(alice_second_key, intent)}, 2);
  const std::vector<Answer> answers = world.SignEverywhere(body);
  EXPECT_TRUE(world.RefusedEverywhere(body, answers, "invalid_approval"));
  EXPECT_TRUE(DetailsContain(answers, "not a key of the policy"));
}

// Capability: alice's key (or a coordinator holding one approval of hers).
// Attack: her approval counted twice: the same approval sent twice, or two approvals she made
// at different times.
// Class: one party filling a threshold meant for several people.
// Refused: a second approval by the same key is refused (each key counts once).
TEST(Approver, SameKeyApprovingTwiceIsRefused) {
  util::Result<std::unique_ptr<AttackWorld>> started =
      AttackWorld::Start("approver-same-key-twice", InsiderPolicyOptions());
  ASSERT_TRUE(started.ok()) << started.status();
  AttackWorld& world = **started;
  const crypto::Ed25519PrivateKey& alice = world.actors().approvers[0];

  EXPECT_TRUE(HonestBookTransferSigns(world, 1));

  struct Case {
    std::string name;
    uint64_t second_age;  // How long before now the second approval was made.
  };
  const std::vector<Case> cases = {{"the same approval sent twice", 0},
                                   {"a second approval made a minute earlier", 60}};
  uint32_t seed = 2;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const uint64_t now = world.Now();
    const policy::SignedIntent intent =
        world.Intent({{BookAddress(), kBookTransferSats}}, {.created = now - 120, .id_seed = seed});
    // Ed25519 signatures are deterministic: with second_age 0 the two are the same bytes.
    const policy::SignedApproval first = Approve(alice, intent, world.policy_digest(), now);
    const policy::SignedApproval second =
        Approve(alice, intent, world.policy_digest(), now - c.second_age);
    const std::string body = Body(world, intent, {first, second}, seed);
    ++seed;
    const std::vector<Answer> answers = world.SignEverywhere(body);
    EXPECT_TRUE(world.RefusedEverywhere(body, answers, "invalid_approval"));
    EXPECT_TRUE(DetailsContain(answers, "the same key gave approval 0"));
  }
}

// Capability: a coordinator that kept alice's and bob's approvals of an intent.
// Attack: it sends them after the intent expired (approved in time, used late).
// Class: a stale authorization used long after it was given (Ronin bridge, 2022: a delegated
// signature never revoked).
// Refused: an expired intent is refused before its approvals are looked at (doc/policy.md,
// order 1), so no approval, however valid, revives it.
TEST(Approver, ApprovalsOfAnExpiredIntentAreRefused) {
  util::Result<std::unique_ptr<AttackWorld>> started =
      AttackWorld::Start("approver-expired-intent", InsiderPolicyOptions());
  ASSERT_TRUE(started.ok()) << started.status();
  AttackWorld& world = **started;
  const Actors& actors = world.actors();

  EXPECT_TRUE(HonestBookTransferSigns(world, 1));

  // Created two hours ago, expired an hour ago; approved a minute after it was created.
  const uint64_t created = world.Now() - 2 * kHour;
  const policy::SignedIntent intent = world.Intent(
      {{BookAddress(), kBookTransferSats}}, {.lifetime = kHour, .created = created, .id_seed = 2});
  const std::string body =
      Body(world, intent,
           {Approve(actors.approvers[0], intent, world.policy_digest(), created + 60),
            Approve(actors.approvers[1], intent, world.policy_digest(), created + 60)},
           2);
  const std::vector<Answer> answers = world.SignEverywhere(body);
  EXPECT_TRUE(world.RefusedEverywhere(body, answers, "intent_expired"));
}

// Capability: alice's key.
// Attack: an approval dated outside the intent's lifetime: after its expiry (the intent itself
// not yet expired), or before it was created.
// Class: an approval that claims another moment than the intent's (a misdated authorization).
// Refused: an approval made outside the intent's lifetime is not valid for it.
TEST(Approver, ApprovalDatedOutsideTheIntentsLifetimeIsRefused) {
  util::Result<std::unique_ptr<AttackWorld>> started =
      AttackWorld::Start("approver-outside-lifetime", InsiderPolicyOptions());
  ASSERT_TRUE(started.ok()) << started.status();
  AttackWorld& world = **started;
  const Actors& actors = world.actors();

  EXPECT_TRUE(HonestBookTransferSigns(world, 1));

  // The intent was created a minute ago and expires in a minute.
  struct Case {
    std::string name;
    int64_t offset;  // The approval's time relative to now (within the 300 s clock skew).
    std::string reason;
  };
  const std::vector<Case> cases = {
      {"dated after the intent's expiry", 120, "made after the intent expired"},
      {"dated before the intent's creation", -120, "made before the intent was created"}};
  uint32_t seed = 2;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const uint64_t now = world.Now();
    const policy::SignedIntent intent =
        world.Intent({{BookAddress(), kBookTransferSats}},
                     {.lifetime = 120, .created = now - 60, .id_seed = seed});
    const policy::SignedApproval misdated =
        Approve(actors.approvers[0], intent, world.policy_digest(),
                static_cast<uint64_t>(static_cast<int64_t>(now) + c.offset));
    const std::string body =
        Body(world, intent, {misdated, world.Approval(actors.approvers[1], intent)}, seed);
    ++seed;
    const std::vector<Answer> answers = world.SignEverywhere(body);
    EXPECT_TRUE(world.RefusedEverywhere(body, answers, "invalid_approval"));
    EXPECT_TRUE(DetailsContain(answers, c.reason));
  }
}

// Capability: the coordinator, which collects approvals and rejects.
// Attack: carol (treasury) rejected the transfer; the coordinator forwards her reject with
// alice's and bob's approvals, hoping two approvals outweigh one reject.
// Class: a dissenting approver overridden by the system that relays the votes.
// Refused: a reject by a member of a required group refuses the intent. What the signer cannot
// see: a reject it is never sent. A coordinator that drops carol's reject sends exactly the
// honest twin's request (two approvals), which is signed; only a record of the reject kept
// outside the coordinator (carol's own tool, a watcher) can show that.
TEST(Approver, RejectForwardedWithTwoApprovalsIsRefused) {
  util::Result<std::unique_ptr<AttackWorld>> started =
      AttackWorld::Start("approver-reject-overridden", InsiderPolicyOptions());
  ASSERT_TRUE(started.ok()) << started.status();
  AttackWorld& world = **started;
  const Actors& actors = world.actors();

  EXPECT_TRUE(HonestBookTransferSigns(world, 1));

  const policy::SignedIntent intent =
      world.Intent({{BookAddress(), kBookTransferSats}}, {.id_seed = 2});
  const std::string body = Body(
      world, intent,
      {world.Approval(actors.approvers[0], intent), world.Approval(actors.approvers[1], intent),
       world.Approval(actors.approvers[2], intent, /*approve=*/false)},
      2);
  const std::vector<Answer> answers = world.SignEverywhere(body);
  EXPECT_TRUE(world.RefusedEverywhere(body, answers, "approval_rejected"));
}

// Capability: alice's key, or a coordinator holding approvals made under another policy.
// Attack: approvals made under the digest of another policy (here a draft successor the
// approvers were shown) are presented for the policy in force.
// Class: an authorization moved out of the context it was given in.
// Refused: approvals are bound to the digest of the policy in force.
TEST(Approver, ApprovalUnderAnotherPolicyIsRefused) {
  util::Result<std::unique_ptr<AttackWorld>> started =
      AttackWorld::Start("approver-other-policy", InsiderPolicyOptions());
  ASSERT_TRUE(started.ok()) << started.status();
  AttackWorld& world = **started;
  const Actors& actors = world.actors();

  EXPECT_TRUE(HonestBookTransferSigns(world, 1));

  const policy::Digest draft =
      MakePolicy(actors, SuccessorOptions(InsiderPolicyOptions(), world.policy()))
          .policy()
          .digest();
  ASSERT_NE(draft, world.policy_digest());
  const policy::SignedIntent intent =
      world.Intent({{BookAddress(), kBookTransferSats}}, {.id_seed = 2});
  const std::string body = Body(world, intent,
                                {Approve(actors.approvers[0], intent, draft, world.Now()),
                                 Approve(actors.approvers[1], intent, draft, world.Now())},
                                2);
  const std::vector<Answer> answers = world.SignEverywhere(body);
  EXPECT_TRUE(world.RefusedEverywhere(body, answers, "invalid_approval"));
  EXPECT_TRUE(DetailsContain(answers, "for another policy"));
}

// Capability: alice's key, on a device whose clock she sets.
// Attack: an approval dated a day ahead (within a week-long intent's lifetime), so that it
// would look given after whatever happens today (a key revoked, a policy changed).
// Class: a forward-dated authorization.
// Refused: an approval dated more than 5 minutes after the signer's clock is not valid.
TEST(Approver, ApprovalDatedFarInTheFutureIsRefused) {
  util::Result<std::unique_ptr<AttackWorld>> started =
      AttackWorld::Start("approver-future-approval", InsiderPolicyOptions());
  ASSERT_TRUE(started.ok()) << started.status();
  AttackWorld& world = **started;
  const Actors& actors = world.actors();

  EXPECT_TRUE(HonestBookTransferSigns(world, 1));

  const policy::SignedIntent intent =
      world.Intent({{BookAddress(), kBookTransferSats}}, {.lifetime = 7 * kDay, .id_seed = 2});
  const std::string body =
      Body(world, intent,
           {Approve(actors.approvers[0], intent, world.policy_digest(), world.Now() + kDay),
            world.Approval(actors.approvers[1], intent)},
           2);
  const std::vector<Answer> answers = world.SignEverywhere(body);
  EXPECT_TRUE(world.RefusedEverywhere(body, answers, "invalid_approval"));
  EXPECT_TRUE(DetailsContain(answers, "s after now"));
}

// ---------------------------------------------------------------------------------------------
// Suite Admin: the attacker holds one admin key (admin-1's), fewer than the threshold of 2, or
// has two admins sign a change that must still wait out the activation delay. Policy updates
// change the signers' state, so where the attack and its twin offer the same policy the attack
// goes first: a refused update changes nothing, and the twin then shows that the same policy,
// properly signed, is accepted.

// Capability: admin-1's key.
// Attack: a loosening (small_max 1 BTC -> 10 BTC) signed by admin-1 alone.
// Class: a governance change by fewer keys than the threshold (Harmony bridge, 2022: a
// threshold two compromised keys could meet).
// Refused: a new policy needs 2 of the 3 admins of the policy in force; the signers keep the
// old policy and keep deciding with it.
TEST(Admin, LooseningSignedByOneAdminIsRefused) {
  util::Result<std::unique_ptr<AttackWorld>> started =
      AttackWorld::Start("admin-one-signature", InsiderPolicyOptions());
  ASSERT_TRUE(started.ok()) << started.status();
  AttackWorld& world = **started;

  EXPECT_TRUE(SmallWithdrawalSigns(world, 1));

  PolicyOptions loose = SuccessorOptions(InsiderPolicyOptions(), world.policy());
  loose.small_max = kLooseSmallMax;
  loose.signed_by = {0};
  const std::string body = PolicyBody(MakePolicy(world.actors(), loose));
  const std::vector<Answer> answers = world.PostEverywhere("/v1/policy", body);
  EXPECT_TRUE(world.RefusedEverywhere(body, answers, "policy_not_authorized"));
  EXPECT_TRUE(StatusIs(answers, 403));
  EXPECT_TRUE(DetailsContain(answers, "1 of the 2 admin signatures"));

  // The old policy is still the only one, and still decides: 5 BTC without approvals is
  // denied, 0.5 BTC is signed.
  EXPECT_TRUE(PolicyStateIs(world, world.policy(), 0));
  const policy::SignedIntent large =
      world.Intent({{ForeignAddress(0x50), kLargeSats}}, {.id_seed = 2});
  const std::string large_body = Body(world, large, {}, 2);
  EXPECT_TRUE(world.RefusedEverywhere(large_body, world.SignEverywhere(large_body), "rule_denies"));
  EXPECT_TRUE(SmallWithdrawalSigns(world, 3));

  // The twin: the same policy with admin-2's signature too is accepted (pending: it loosens).
  loose.signed_by = {0, 1};
  EXPECT_TRUE(AcceptedEverywhere(
      world.PostEverywhere("/v1/policy", PolicyBody(MakePolicy(world.actors(), loose)))));
  EXPECT_TRUE(PolicyStateIs(world, world.policy(), 2));
}

// Capability: two admin keys (the threshold) and a coordinator.
// Attack: a new policy adds the attacker's address to the address book as "cold-storage",
// properly signed, and a 7 BTC transfer to it (approved by two treasury members who trust the
// label) is sent at once.
// Class: a governance change used the moment it passes (Beanstalk, 2022).
// Refused: a new address-book entry loosens; until the in-force policy's delay (24 h) has
// passed the old policy decides, and it denies the address (rule_denies). Approvals under the
// pending policy's digest are not valid either (invalid_approval).
TEST(Admin, NewAddressBookEntryIsUnusableUntilTheDelay) {
  util::Result<std::unique_ptr<AttackWorld>> started =
      AttackWorld::Start("admin-address-book-insertion", InsiderPolicyOptions());
  ASSERT_TRUE(started.ok()) << started.status();
  AttackWorld& world = **started;
  const Actors& actors = world.actors();

  EXPECT_TRUE(HonestBookTransferSigns(world, 1));

  PolicyOptions inserted = SuccessorOptions(InsiderPolicyOptions(), world.policy());
  inserted.address_book.push_back({.label = kBookLabel, .address = AttackerAddress()});
  const policy::SignedPolicy next = MakePolicy(actors, inserted);
  const uint64_t offered = world.Now();
  std::vector<signerapi::StatusResponse> statuses;
  EXPECT_TRUE(AcceptedEverywhere(world.PostEverywhere("/v1/policy", PolicyBody(next)), &statuses));
  for (const signerapi::StatusResponse& status : statuses) {
    ASSERT_TRUE(status.pending_policy.has_value());
    EXPECT_EQ(status.pending_policy->digest, next.policy().digest());
    EXPECT_GE(status.pending_policy->activates_at, offered + kDay);
    EXPECT_EQ(status.policy.digest, world.policy_digest());
  }

  const policy::SignedIntent intent =
      world.Intent({{AttackerAddress(), kBookTransferSats}}, {.id_seed = 2});
  const std::string body = Body(
      world, intent,
      {world.Approval(actors.approvers[0], intent), world.Approval(actors.approvers[1], intent)},
      2);
  EXPECT_TRUE(world.RefusedEverywhere(body, world.SignEverywhere(body), "rule_denies"));

  const std::string pending_body =
      Body(world, intent,
           {Approve(actors.approvers[0], intent, next.policy().digest(), world.Now()),
            Approve(actors.approvers[1], intent, next.policy().digest(), world.Now())},
           3);
  EXPECT_TRUE(world.RefusedEverywhere(pending_body, world.SignEverywhere(pending_body),
                                      "invalid_approval"));
}

// Capability: two admin keys (the threshold) and a coordinator.
// Attack: a genuine loosening (small_max 1 BTC -> 10 BTC, so 5 BTC needs no approval) is used
// before its activation delay (3 s in this world) has passed.
// Class: an upgrade that loosens verification taking effect at once (Nomad bridge, 2022).
// Refused: before the delay the old policy decides (rule_denies); the twin: once the delay has
// passed, the very same request is signed.
TEST(Admin, LooseningIsUsableOnlyAfterItsDelay) {
  PolicyOptions first = InsiderPolicyOptions();
  first.activation_delay = 3;
  util::Result<std::unique_ptr<AttackWorld>> started =
      AttackWorld::Start("admin-loosening-delay", first);
  ASSERT_TRUE(started.ok()) << started.status();
  AttackWorld& world = **started;

  PolicyOptions loose = SuccessorOptions(first, world.policy());
  loose.small_max = kLooseSmallMax;
  const policy::SignedPolicy next = MakePolicy(world.actors(), loose);
  EXPECT_TRUE(AcceptedEverywhere(world.PostEverywhere("/v1/policy", PolicyBody(next))));
  EXPECT_TRUE(PolicyStateIs(world, world.policy(), 2));

  const policy::SignedIntent intent =
      world.Intent({{ForeignAddress(0x50), kLargeSats}}, {.id_seed = 1});
  const std::string body = Body(world, intent, {}, 1);
  EXPECT_TRUE(world.RefusedEverywhere(body, world.SignEverywhere(body), "rule_denies"));

  ASSERT_TRUE(WaitForPolicyInForce(world, 2, std::chrono::seconds(10)));
  EXPECT_TRUE(world.SignedAndValid(world.SignEverywhere(body)));
}

// Capability: two admin keys (the threshold) and a coordinator.
// Attack: a loosening (small_max 10 BTC) that sets its own activation_delay to 0, to take
// effect at once. (A policy has no field that claims a time, so it cannot be backdated; its
// only lever on time is the delay.)
// Class: a governance change executed at once, with no time to react (Beanstalk, 2022).
// Refused: a loosening waits for the delay of the policy IN FORCE (24 h), not its own; until
// then the old policy decides (rule_denies).
TEST(Admin, ZeroDelayInTheNewPolicyDoesNotShortenTheOldOne) {
  util::Result<std::unique_ptr<AttackWorld>> started =
      AttackWorld::Start("admin-zero-delay", InsiderPolicyOptions());
  ASSERT_TRUE(started.ok()) << started.status();
  AttackWorld& world = **started;

  EXPECT_TRUE(SmallWithdrawalSigns(world, 1));

  PolicyOptions loose = SuccessorOptions(InsiderPolicyOptions(), world.policy());
  loose.small_max = kLooseSmallMax;
  loose.activation_delay = 0;
  const policy::SignedPolicy next = MakePolicy(world.actors(), loose);
  const uint64_t offered = world.Now();
  std::vector<signerapi::StatusResponse> statuses;
  EXPECT_TRUE(AcceptedEverywhere(world.PostEverywhere("/v1/policy", PolicyBody(next)), &statuses));
  for (const signerapi::StatusResponse& status : statuses) {
    ASSERT_TRUE(status.pending_policy.has_value());
    EXPECT_GE(status.pending_policy->activates_at, offered + kDay);
    EXPECT_EQ(status.policy.digest, world.policy_digest());
  }

  const policy::SignedIntent intent =
      world.Intent({{ForeignAddress(0x50), kLargeSats}}, {.id_seed = 2});
  const std::string body = Body(world, intent, {}, 2);
  EXPECT_TRUE(world.RefusedEverywhere(body, world.SignEverywhere(body), "rule_denies"));
}

// Capability: two admin keys (the threshold).
// Attack: a loosening that claims the sequence of the policy in force (1), as if it were a
// corrected copy of it rather than its successor.
// Class: an old or parallel signed policy slipped in beside the one in force.
// Refused: a policy replaces the latest accepted one only with a greater sequence.
TEST(Admin, PolicyReusingTheSequenceInForceIsRefused) {
  util::Result<std::unique_ptr<AttackWorld>> started =
      AttackWorld::Start("admin-sequence-reuse", InsiderPolicyOptions());
  ASSERT_TRUE(started.ok()) << started.status();
  AttackWorld& world = **started;

  PolicyOptions loose = SuccessorOptions(InsiderPolicyOptions(), world.policy());
  loose.small_max = kLooseSmallMax;
  loose.sequence = world.policy().policy().fields().sequence;
  const std::string body = PolicyBody(MakePolicy(world.actors(), loose));
  const std::vector<Answer> answers = world.PostEverywhere("/v1/policy", body);
  EXPECT_TRUE(world.RefusedEverywhere(body, answers, "policy_stale_sequence"));
  EXPECT_TRUE(StatusIs(answers, 409));
  EXPECT_TRUE(PolicyStateIs(world, world.policy(), 0));

  // The twin: the same change as sequence 2 is accepted (pending: it loosens).
  loose.sequence = world.policy().policy().fields().sequence + 1;
  EXPECT_TRUE(AcceptedEverywhere(
      world.PostEverywhere("/v1/policy", PolicyBody(MakePolicy(world.actors(), loose)))));
  EXPECT_TRUE(PolicyStateIs(world, world.policy(), 2));
}

// Capability: admin-1's key and the attacker's own key.
// Attack: a new policy names the attacker's key as a fourth admin ("admin-4") and is signed by
// the attacker and admin-1: two signatures of admins, if the new policy's admins counted.
// Class: a crafted message that replaces the keys that authorise (Poly Network, 2021).
// Refused: only admins of the policy IN FORCE count; the attacker's signature is ignored, so
// the policy has 1 of the 2 it needs.
TEST(Admin, AdminNamedOnlyByTheNewPolicyDoesNotCount) {
  util::Result<std::unique_ptr<AttackWorld>> started =
      AttackWorld::Start("admin-self-appointed", InsiderPolicyOptions());
  ASSERT_TRUE(started.ok()) << started.status();
  AttackWorld& world = **started;
  const Actors& actors = world.actors();

  policy::PolicyFields fields =
      MakePolicy(actors, SuccessorOptions(InsiderPolicyOptions(), world.policy()))
          .policy()
          .fields();
  fields.keys.push_back({.label = "admin-4", .id = IdOf(actors.outsider)});
  fields.governance.admins.push_back("admin-4");
  const std::string body = PolicyBody(SignPolicy(fields, {&actors.outsider, &actors.admins[0]}));
  const std::vector<Answer> answers = world.PostEverywhere("/v1/policy", body);
  EXPECT_TRUE(world.RefusedEverywhere(body, answers, "policy_not_authorized"));
  EXPECT_TRUE(StatusIs(answers, 403));
  EXPECT_TRUE(DetailsContain(answers, "1 of the 2 admin signatures"));
  EXPECT_TRUE(PolicyStateIs(world, world.policy(), 0));

  // The twin: the same policy signed by admin-1 and admin-2 is accepted (pending: a new admin
  // loosens).
  EXPECT_TRUE(AcceptedEverywhere(world.PostEverywhere(
      "/v1/policy", PolicyBody(SignPolicy(fields, {&actors.admins[0], &actors.admins[1]})))));
  EXPECT_TRUE(PolicyStateIs(world, world.policy(), 2));
}

// Capability: admin-1's key and the attacker's own key, which two admins (the threshold) made
// an admin in a policy that is still pending.
// Attack: while that policy waits for its delay, the attacker and admin-1 sign the next policy
// (a loosening), as two admins of the pending policy.
// Class: authority taken before the change that grants it is in force (a governance change
// used the moment it passes: Beanstalk, 2022).
// Refused: admins named by a pending policy have no authority until it takes effect; only
// admin-1's signature counts. The twin: admin-1 and admin-2 sign the same successor.
TEST(Admin, AdminOfAPendingPolicyHasNoAuthorityYet) {
  util::Result<std::unique_ptr<AttackWorld>> started =
      AttackWorld::Start("admin-pending-admin", InsiderPolicyOptions());
  ASSERT_TRUE(started.ok()) << started.status();
  AttackWorld& world = **started;
  const Actors& actors = world.actors();
  // The fields of MakePolicy(options) with the attacker's key as a fourth admin.
  const auto with_fourth_admin = [&](const PolicyOptions& options) {
    policy::PolicyFields fields = MakePolicy(actors, options).policy().fields();
    fields.keys.push_back({.label = "admin-4", .id = IdOf(actors.outsider)});
    fields.governance.admins.push_back("admin-4");
    return fields;
  };

  const PolicyOptions second = SuccessorOptions(InsiderPolicyOptions(), world.policy());
  const policy::SignedPolicy pending =
      SignPolicy(with_fourth_admin(second), {&actors.admins[0], &actors.admins[1]});
  EXPECT_TRUE(AcceptedEverywhere(world.PostEverywhere("/v1/policy", PolicyBody(pending))));
  EXPECT_TRUE(PolicyStateIs(world, world.policy(), 2));

  PolicyOptions third = SuccessorOptions(second, pending);
  third.small_max = kLooseSmallMax;
  const policy::PolicyFields fields = with_fourth_admin(third);
  const std::string body = PolicyBody(SignPolicy(fields, {&actors.outsider, &actors.admins[0]}));
  const std::vector<Answer> answers = world.PostEverywhere("/v1/policy", body);
  EXPECT_TRUE(world.RefusedEverywhere(body, answers, "policy_not_authorized"));
  EXPECT_TRUE(StatusIs(answers, 403));
  EXPECT_TRUE(DetailsContain(answers, "1 of the 2 admin signatures"));
  EXPECT_TRUE(PolicyStateIs(world, world.policy(), 2));

  EXPECT_TRUE(AcceptedEverywhere(world.PostEverywhere(
      "/v1/policy", PolicyBody(SignPolicy(fields, {&actors.admins[0], &actors.admins[1]})))));
  EXPECT_TRUE(PolicyStateIs(world, world.policy(), 3));
}

// Capability: a key that is neither a registered watcher nor an admin (an outsider's, an
// approver's, the requester's).
// Attack: a freeze of every signer, to stop all withdrawals.
// Class: denial of service through the emergency stop.
// Refused: only a registered watcher or an admin of the policy in force may freeze; the signers
// keep signing. The twin: the watcher's freeze is accepted and stops signing.
TEST(Admin, FreezeByAnUnauthorizedKeyIsRefused) {
  util::Result<std::unique_ptr<AttackWorld>> started =
      AttackWorld::Start("admin-outsider-freeze", InsiderPolicyOptions());
  ASSERT_TRUE(started.ok()) << started.status();
  AttackWorld& world = **started;
  const Actors& actors = world.actors();

  EXPECT_TRUE(SmallWithdrawalSigns(world, 1));

  struct Case {
    std::string name;
    const crypto::Ed25519PrivateKey* key;
  };
  const std::vector<Case> cases = {{"outsider", &actors.outsider},
                                   {"approver alice", &actors.approvers[0]},
                                   {"requester ops-bot", &actors.requester}};
  uint8_t nonce = 1;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string body = FreezeBody(FreezeAll(*c.key, world.Now(), nonce++));
    const std::vector<Answer> answers = world.PostEverywhere("/v1/freeze", body);
    EXPECT_TRUE(world.RefusedEverywhere(body, answers, "freeze_not_authorized"));
    EXPECT_TRUE(StatusIs(answers, 403));
  }
  EXPECT_TRUE(SmallWithdrawalSigns(world, 2));

  std::vector<signerapi::StatusResponse> statuses;
  EXPECT_TRUE(AcceptedEverywhere(
      world.PostEverywhere("/v1/freeze", FreezeBody(FreezeAll(actors.watcher, world.Now(), nonce))),
      &statuses));
  for (const signerapi::StatusResponse& status : statuses) EXPECT_TRUE(status.frozen());
  const policy::SignedIntent intent =
      world.Intent({{ForeignAddress(0x03), kSmallSats}}, {.id_seed = 3});
  const std::string body = Body(world, intent, {}, 3);
  EXPECT_TRUE(world.RefusedEverywhere(body, world.SignEverywhere(body), "frozen"));
}

// Capability: admin-1's key (plus keys that are not admins).
// Attack: the watcher froze the signers; the attacker lifts the freeze alone, or with a
// signature by a key that is not an admin, to withdraw while the others investigate.
// Class: one insider lifting an emergency stop meant to need the governance quorum.
// Refused: an unfreeze needs 2 distinct admins of the policy in force; other keys are ignored.
// The signers stay frozen. The twin: admin-1 and admin-2 lift it and signing resumes.
TEST(Admin, UnfreezeBelowTheThresholdIsRefused) {
  util::Result<std::unique_ptr<AttackWorld>> started =
      AttackWorld::Start("admin-one-unfreeze", InsiderPolicyOptions());
  ASSERT_TRUE(started.ok()) << started.status();
  AttackWorld& world = **started;
  const Actors& actors = world.actors();

  const signerapi::SignedFreeze freeze = FreezeAll(actors.watcher, world.Now(), 1);
  EXPECT_TRUE(AcceptedEverywhere(world.PostEverywhere("/v1/freeze", FreezeBody(freeze))));

  struct Case {
    std::string name;
    std::vector<const crypto::Ed25519PrivateKey*> keys;
  };
  const std::vector<Case> cases = {
      {"admin-1 alone", {&actors.admins[0]}},
      {"admin-1 and an outsider", {&actors.admins[0], &actors.outsider}},
      {"admin-1 and the watcher", {&actors.admins[0], &actors.watcher}},
      {"admin-1 and approver alice", {&actors.admins[0], &actors.approvers[0]}}};
  uint8_t nonce = 2;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string body = UnfreezeBody(UnfreezeOf(freeze, world.Now(), nonce++, c.keys));
    const std::vector<Answer> answers = world.PostEverywhere("/v1/unfreeze", body);
    EXPECT_TRUE(world.RefusedEverywhere(body, answers, "unfreeze_not_authorized"));
    EXPECT_TRUE(StatusIs(answers, 403));
    EXPECT_TRUE(DetailsContain(answers, "1 of the 2 admin signatures"));
  }
  const policy::SignedIntent intent =
      world.Intent({{ForeignAddress(0x01), kSmallSats}}, {.id_seed = 1});
  const std::string body = Body(world, intent, {}, 1);
  EXPECT_TRUE(world.RefusedEverywhere(body, world.SignEverywhere(body), "frozen"));

  std::vector<signerapi::StatusResponse> statuses;
  EXPECT_TRUE(AcceptedEverywhere(
      world.PostEverywhere("/v1/unfreeze",
                           UnfreezeBody(UnfreezeOf(freeze, world.Now(), nonce,
                                                   {&actors.admins[0], &actors.admins[1]}))),
      &statuses));
  for (const signerapi::StatusResponse& status : statuses) EXPECT_FALSE(status.frozen());
  EXPECT_TRUE(SmallWithdrawalSigns(world, 2));
}

}  // namespace
}  // namespace kinko::testing
