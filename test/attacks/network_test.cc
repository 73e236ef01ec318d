// Attack scenarios of three attackers (doc/threat-model.md):
//   Network       owns the links between the coordinator and the signers: records, replays,
//                 reorders and alters any message, holds no key;
//   SignerBackup  holds a copy of one signer's state directory taken earlier and puts it back;
//   OneSigner     holds one signer outright (its wallet key and its state).
// Each scenario runs its honest twin first, then the attack, against three real kinko-signer
// processes of a 2-of-3 wallet (test/attacks/attack_harness.h).
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "btc/address.h"
#include "policy/approval.h"
#include "policy/intent.h"
#include "policy/policy.h"
#include "signerapi/freeze.h"
#include "test/attacks/attack_harness.h"
#include "test/attacks/network_support.h"
#include "test/signer/signer_setup.h"
#include "test/support/signer_fixture.h"

namespace kinko::testing {
namespace {

// The HTTP statuses of the signer's refusals (doc/signer-api.md).
constexpr int kForbidden = 403;
constexpr int kConflict = 409;
constexpr int kLocked = 423;

// The address-book destination of the approval scenarios, and the attacker's address.
constexpr uint8_t kColdStorageTag = 0xc0;
constexpr uint8_t kAttackerTag = 0xee;
// Above this an intent is no "small withdrawal" and needs 2 of treasury to the address book.
constexpr int64_t kSmallMaxSats = 100'000;
constexpr int64_t kApprovedSats = 200'000;

// The deployment's policy, with an address book of one entry and "small withdrawals" up to
// kSmallMaxSats, so that larger intents to the book need two approvals of treasury.
PolicyOptions ApprovalPolicyOptions() {
  PolicyOptions options = Deployment::DefaultPolicyOptions();
  options.small_max = Sats(kSmallMaxSats);
  options.address_book = {{.label = "cold storage", .address = ForeignAddress(kColdStorageTag)}};
  return options;
}

// The successor of the policy `options` made (sequence `sequence`, predecessor `predecessor`)
// with a 24-hour window of `window_sats`, signed by admin-1 and admin-2. A lower window than
// the policy in force tightens it (in force at once), a higher one loosens it (pending).
policy::SignedPolicy Successor(const Actors& actors, PolicyOptions options, uint64_t sequence,
                               const policy::Digest& predecessor, int64_t window_sats) {
  options.sequence = sequence;
  options.predecessor = predecessor;
  options.window_24h = Sats(window_sats);
  return MakePolicy(actors, options);
}

// An intent of `sats` to the cold-storage address with approvals by alice and bob made under
// the policy `policy_digest`.
struct ApprovedIntent {
  policy::SignedIntent intent;
  std::vector<policy::SignedApproval> approvals;
};
ApprovedIntent ApprovedToColdStorage(const AttackWorld& world, uint64_t id_seed,
                                     const policy::Digest& policy_digest) {
  policy::SignedIntent intent =
      world.Intent({{ForeignAddress(kColdStorageTag), kApprovedSats}}, {.id_seed = id_seed});
  std::vector<policy::SignedApproval> approvals;
  for (size_t approver = 0; approver < 2; ++approver) {  // alice and bob.
    approvals.push_back(
        Approve(world.actors().approvers.at(approver), intent, policy_digest, world.Now()));
  }
  return {.intent = std::move(intent), .approvals = std::move(approvals)};
}

// ===================================== Network =====================================

// Attacker: owns the network, holds no key. Records a sign request that was signed and sends it
// again, byte for byte, to every signer. Class: replay (ETH/ETC 2016). Every signer remembers
// the intent ids it signed for (consumed), so the second request is a replay.
TEST(Network, ReplayedSignRequestIsRefusedAsReplay) {
  util::Result<std::unique_ptr<AttackWorld>> started = AttackWorld::Start("network-replay");
  ASSERT_TRUE(started.ok()) << started.status();
  AttackWorld& world = **started;

  const policy::SignedIntent intent =
      world.Intent({{ForeignAddress(0x01), 50'000}}, {.id_seed = 1});
  const std::string body = AttackWorld::Encode(world.HonestRequest(intent));
  EXPECT_TRUE(world.SignedAndValid(world.SignEverywhere(body)));

  EXPECT_TRUE(world.RefusedEverywhere(body, world.SignEverywhere(body), "intent_replayed"));
}

// Attacker: owns the network, holds no key. Takes a consumed intent out of a signed request and
// wraps it in a new request with a new PSBT (other coins): the same payment a second time.
// Class: replay. The replay check is by intent id, whatever the PSBT and request id.
TEST(Network, ConsumedIntentRewrappedWithNewPsbtIsRefusedAsReplay) {
  util::Result<std::unique_ptr<AttackWorld>> started = AttackWorld::Start("network-rewrap");
  ASSERT_TRUE(started.ok()) << started.status();
  AttackWorld& world = **started;

  const policy::SignedIntent intent =
      world.Intent({{ForeignAddress(0x01), 50'000}}, {.id_seed = 1});
  EXPECT_TRUE(world.SignedAndValid(world.SignEverywhere(
      AttackWorld::Encode(world.HonestRequest(intent, {}, {.funding_seed = 1})))));

  const std::string body =
      AttackWorld::Encode(world.HonestRequest(intent, {}, {.funding_seed = 2}));
  EXPECT_TRUE(world.RefusedEverywhere(body, world.SignEverywhere(body), "intent_replayed"));
}

// Attacker: owns the network, holds no key. Batches a consumed intent with a fresh, valid one
// in one new request and PSBT, hoping the fresh intent carries the old one through. Class:
// replay. The replay check covers every intent of a request and comes before any other; the
// refusal consumes nothing, so the fresh intent alone is signed afterwards.
TEST(Network, ConsumedIntentBatchedWithFreshIntentIsRefusedAsReplay) {
  util::Result<std::unique_ptr<AttackWorld>> started = AttackWorld::Start("network-batch");
  ASSERT_TRUE(started.ok()) << started.status();
  AttackWorld& world = **started;

  const policy::SignedIntent consumed =
      world.Intent({{ForeignAddress(0x01), 50'000}}, {.id_seed = 1});
  EXPECT_TRUE(world.SignedAndValid(world.SignEverywhere(
      AttackWorld::Encode(world.HonestRequest(consumed, {}, {.funding_seed = 1})))));

  const policy::SignedIntent fresh = world.Intent({{ForeignAddress(0x02), 40'000}}, {.id_seed = 2});
  const std::string body = AttackWorld::Encode(
      world.Request({{.intent = consumed, .approvals = {}}, {.intent = fresh, .approvals = {}}},
                    world.Psbt({consumed, fresh}, {.funding_seed = 2})));
  const std::vector<Answer> answers = world.SignEverywhere(body);
  EXPECT_TRUE(world.RefusedEverywhere(body, answers, "intent_replayed"));
  for (const Answer& answer : answers) {
    ASSERT_TRUE(answer.response.has_value());
    EXPECT_EQ(std::get<signerapi::RefusedResult>(answer.response->result).intent_index, 0u);
  }

  EXPECT_TRUE(world.SignedAndValid(world.SignEverywhere(
      AttackWorld::Encode(world.HonestRequest(fresh, {}, {.funding_seed = 3})))));
}

// Attacker: owns the network, holds no key. Takes the two treasury approvals of intent A
// (seen on the wire) and attaches them to intent B, which needs the same two approvals.
// Class: multisig approvers' consent moved to another transaction (Bybit 2025, WazirX 2024).
// An approval signs one intent's digest: on B it is invalid, and refused, not ignored.
TEST(Network, ApprovalSplicedFromAnotherIntentIsRefused) {
  util::Result<std::unique_ptr<AttackWorld>> started =
      AttackWorld::Start("network-splice", ApprovalPolicyOptions());
  ASSERT_TRUE(started.ok()) << started.status();
  AttackWorld& world = **started;

  const ApprovedIntent a = ApprovedToColdStorage(world, 1, world.policy_digest());
  EXPECT_TRUE(world.SignedAndValid(world.SignEverywhere(
      AttackWorld::Encode(world.HonestRequest(a.intent, a.approvals, {.funding_seed = 1})))));

  const policy::SignedIntent b =
      world.Intent({{ForeignAddress(kColdStorageTag), kApprovedSats}}, {.id_seed = 2});
  const std::string body =
      AttackWorld::Encode(world.HonestRequest(b, a.approvals, {.funding_seed = 2}));
  EXPECT_TRUE(world.RefusedEverywhere(body, world.SignEverywhere(body), "invalid_approval"));
}

// Attacker: owns the network, holds no key. Records an intent and its approvals under policy 1,
// holds them back, and sends them after the admins installed policy 2 (a tightening, in force
// at once). Class: stale delegated signature never revoked (Ronin 2022). Approvals are bound to
// the policy digest: under policy 2 those made under policy 1 are invalid.
TEST(Network, ApprovalUnderPreviousPolicyIsRefusedAfterPolicyChange) {
  util::Result<std::unique_ptr<AttackWorld>> started =
      AttackWorld::Start("network-old-approval", ApprovalPolicyOptions());
  ASSERT_TRUE(started.ok()) << started.status();
  AttackWorld& world = **started;
  const ApprovedIntent held_back = ApprovedToColdStorage(world, 2, world.policy_digest());

  const policy::SignedPolicy second = Successor(world.actors(), ApprovalPolicyOptions(), 2,
                                                world.policy_digest(), Deployment::kWindowSats / 2);
  std::vector<signerapi::StatusResponse> statuses;
  ASSERT_TRUE(
      AcceptedEverywhere(world.PostEverywhere("/v1/policy", PolicyBody(second)), &statuses));
  for (const signerapi::StatusResponse& status : statuses) {
    EXPECT_EQ(status.policy.digest, second.policy().digest());
  }

  const ApprovedIntent honest = ApprovedToColdStorage(world, 1, second.policy().digest());
  EXPECT_TRUE(world.SignedAndValid(world.SignEverywhere(AttackWorld::Encode(
      world.HonestRequest(honest.intent, honest.approvals, {.funding_seed = 1})))));

  const std::string body = AttackWorld::Encode(
      world.HonestRequest(held_back.intent, held_back.approvals, {.funding_seed = 2}));
  EXPECT_TRUE(world.RefusedEverywhere(body, world.SignEverywhere(body), "invalid_approval"));
}

// Attacker: owns the network, holds no key. Rewrites a signed intent in transit (destination to
// the attacker's address, larger amount), keeps the requester's signature, and sends a PSBT
// that pays the rewritten intent exactly. Class: DMM Bitcoin, May 2024. The requester's
// signature no longer verifies over the intent: 403 invalid_signature, logged.
TEST(Network, IntentAlteredInTransitIsRefusedAsInvalidSignature) {
  util::Result<std::unique_ptr<AttackWorld>> started = AttackWorld::Start("network-alter");
  ASSERT_TRUE(started.ok()) << started.status();
  AttackWorld& world = **started;

  const policy::SignedIntent original =
      world.Intent({{ForeignAddress(0x01), 50'000}}, {.id_seed = 2});
  EXPECT_TRUE(world.SignedAndValid(world.SignEverywhere(AttackWorld::Encode(world.HonestRequest(
      world.Intent({{ForeignAddress(0x01), 50'000}}, {.id_seed = 1}), {}, {.funding_seed = 1})))));

  // The same intent id and times, another destination and amount.
  const policy::SignedIntent altered =
      world.Intent({{ForeignAddress(kAttackerTag), 90'000}},
                   {.created = original.intent().fields().created, .id_seed = 2});
  const std::string body =
      WithSignatureOf(AttackWorld::Encode(world.HonestRequest(altered, {}, {.funding_seed = 2})),
                      altered, original);
  const std::vector<Answer> answers = world.SignEverywhere(body);
  EXPECT_TRUE(world.RefusedEverywhere(body, answers, "invalid_signature"));
  for (const Answer& answer : answers) EXPECT_EQ(answer.status, kForbidden);
}

// Attacker: owns the network, holds no key. Sends an accepted policy update again. Class:
// replay of a governance message (Poly Network 2021: a crafted message replaced the keys). The
// signer knows the policy in force and the pending one by digest: 409 policy_already_known,
// logged.
TEST(Network, ReplayedPolicyUpdateIsRefusedAsAlreadyKnown) {
  util::Result<std::unique_ptr<AttackWorld>> started = AttackWorld::Start("network-policy-replay");
  ASSERT_TRUE(started.ok()) << started.status();
  AttackWorld& world = **started;

  const std::string body =
      PolicyBody(Successor(world.actors(), Deployment::DefaultPolicyOptions(), 2,
                           world.policy_digest(), Deployment::kWindowSats / 2));
  EXPECT_TRUE(AcceptedEverywhere(world.PostEverywhere("/v1/policy", body)));

  const std::vector<Answer> answers = world.PostEverywhere("/v1/policy", body);
  EXPECT_TRUE(world.RefusedEverywhere(body, answers, "policy_already_known"));
  for (const Answer& answer : answers) EXPECT_EQ(answer.status, kConflict);
}

// Attacker: owns the network, holds no key. After the admins tightened the policy (sequence 2,
// a smaller window), serves the older, looser policy 1 again, validly signed, to roll the
// signers' view back. Class: rollback. A policy must have a higher sequence than the latest
// accepted one: 409 policy_stale_sequence, and policy 2 stays in force.
TEST(Network, OlderPolicyServedAfterNewerIsRefusedAsStale) {
  util::Result<std::unique_ptr<AttackWorld>> started = AttackWorld::Start("network-policy-stale");
  ASSERT_TRUE(started.ok()) << started.status();
  AttackWorld& world = **started;

  const policy::SignedPolicy second =
      Successor(world.actors(), Deployment::DefaultPolicyOptions(), 2, world.policy_digest(),
                Deployment::kWindowSats / 2);
  EXPECT_TRUE(AcceptedEverywhere(world.PostEverywhere("/v1/policy", PolicyBody(second))));

  const std::string body = PolicyBody(world.policy());
  const std::vector<Answer> answers = world.PostEverywhere("/v1/policy", body);
  EXPECT_TRUE(world.RefusedEverywhere(body, answers, "policy_stale_sequence"));
  for (size_t i = 0; i < world.signer_count(); ++i) {
    EXPECT_EQ(answers[i].status, kConflict);
    util::Result<signerapi::StatusResponse> status = SignerStatus(world, i);
    ASSERT_TRUE(status.ok()) << status.status();
    EXPECT_EQ(status->policy.sequence, 2u);
  }
}

// Attacker: owns the network, holds no key. Serves a policy signed by the admins as a successor
// of policy 1 (a draft that lost: a much larger window) after policy 2 took its place.
// Class: rollback / forked governance. A policy must name the latest accepted policy as its
// predecessor: 409 policy_wrong_predecessor; the right successor of policy 2 is accepted after.
TEST(Network, PolicyOnAnAbandonedBranchIsRefusedAsWrongPredecessor) {
  util::Result<std::unique_ptr<AttackWorld>> started = AttackWorld::Start("network-policy-fork");
  ASSERT_TRUE(started.ok()) << started.status();
  AttackWorld& world = **started;

  const policy::SignedPolicy second =
      Successor(world.actors(), Deployment::DefaultPolicyOptions(), 2, world.policy_digest(),
                Deployment::kWindowSats / 2);
  EXPECT_TRUE(AcceptedEverywhere(world.PostEverywhere("/v1/policy", PolicyBody(second))));

  const std::string body =
      PolicyBody(Successor(world.actors(), Deployment::DefaultPolicyOptions(), 3,
                           world.policy_digest(), Deployment::kWindowSats * 10));
  const std::vector<Answer> answers = world.PostEverywhere("/v1/policy", body);
  EXPECT_TRUE(world.RefusedEverywhere(body, answers, "policy_wrong_predecessor"));
  for (const Answer& answer : answers) EXPECT_EQ(answer.status, kConflict);

  EXPECT_TRUE(AcceptedEverywhere(world.PostEverywhere(
      "/v1/policy", PolicyBody(Successor(world.actors(), Deployment::DefaultPolicyOptions(), 3,
                                         second.policy().digest(), Deployment::kWindowSats / 4)))));
}

// Attacker: owns the network, holds no key. Delivers policy 3 before policy 2 (reordered).
// Class: reordering of governance messages. Policy 3 names policy 2 as its predecessor, which
// the signers do not have yet: 409 policy_wrong_predecessor; in order, both are accepted.
TEST(Network, PolicyUpdatesDeliveredOutOfOrderAreRefusedUntilInOrder) {
  util::Result<std::unique_ptr<AttackWorld>> started = AttackWorld::Start("network-policy-order");
  ASSERT_TRUE(started.ok()) << started.status();
  AttackWorld& world = **started;

  const policy::SignedPolicy second =
      Successor(world.actors(), Deployment::DefaultPolicyOptions(), 2, world.policy_digest(),
                Deployment::kWindowSats / 2);
  const std::string third_body =
      PolicyBody(Successor(world.actors(), Deployment::DefaultPolicyOptions(), 3,
                           second.policy().digest(), Deployment::kWindowSats / 4));

  const std::vector<Answer> answers = world.PostEverywhere("/v1/policy", third_body);
  EXPECT_TRUE(world.RefusedEverywhere(third_body, answers, "policy_wrong_predecessor"));

  EXPECT_TRUE(AcceptedEverywhere(world.PostEverywhere("/v1/policy", PolicyBody(second))));
  std::vector<signerapi::StatusResponse> statuses;
  EXPECT_TRUE(AcceptedEverywhere(world.PostEverywhere("/v1/policy", third_body), &statuses));
  for (const signerapi::StatusResponse& status : statuses) EXPECT_EQ(status.policy.sequence, 3u);
}

// Attacker: owns the network, holds no key. Replays the watcher's freeze after the admins lifted
// it, to stop the signers again (denial of service). Class: replay. The signer remembers
// lifted freezes by digest: 409 freeze_replayed, and it keeps signing.
TEST(Network, LiftedFreezeReplayedIsRefused) {
  util::Result<std::unique_ptr<AttackWorld>> started = AttackWorld::Start("network-freeze-replay");
  ASSERT_TRUE(started.ok()) << started.status();
  AttackWorld& world = **started;

  const signerapi::SignedFreeze freeze = FreezeAll(world.actors().watcher, world.Now(), 1);
  const std::string body = FreezeBody(freeze);
  std::vector<signerapi::StatusResponse> statuses;
  EXPECT_TRUE(AcceptedEverywhere(world.PostEverywhere("/v1/freeze", body), &statuses));
  for (const signerapi::StatusResponse& status : statuses) EXPECT_TRUE(status.frozen());
  EXPECT_TRUE(AcceptedEverywhere(world.PostEverywhere(
      "/v1/unfreeze", UnfreezeBody(UnfreezeOf(freeze, world.Now(), 2, AdminThreshold(world))))));

  const std::vector<Answer> answers = world.PostEverywhere("/v1/freeze", body);
  EXPECT_TRUE(world.RefusedEverywhere(body, answers, "freeze_replayed"));
  for (const Answer& answer : answers) EXPECT_EQ(answer.status, kConflict);
  const policy::SignedIntent intent =
      world.Intent({{ForeignAddress(0x01), 50'000}}, {.id_seed = 1});
  EXPECT_TRUE(
      world.SignedAndValid(world.SignEverywhere(AttackWorld::Encode(world.HonestRequest(intent)))));
}

// Attacker: owns the network, holds no key. Keeps the admins' unfreeze of an earlier freeze and
// replays it when the watcher freezes the signers again, to lift the new freeze. Class: replay.
// An unfreeze names the digest of the freeze it lifts: 409 unfreeze_unknown_freeze, and the
// signers stay frozen (a sign request is refused with frozen).
TEST(Network, ReplayedUnfreezeDoesNotLiftANewFreeze) {
  util::Result<std::unique_ptr<AttackWorld>> started =
      AttackWorld::Start("network-unfreeze-replay");
  ASSERT_TRUE(started.ok()) << started.status();
  AttackWorld& world = **started;

  const signerapi::SignedFreeze first = FreezeAll(world.actors().watcher, world.Now(), 1);
  EXPECT_TRUE(AcceptedEverywhere(world.PostEverywhere("/v1/freeze", FreezeBody(first))));
  const std::string body = UnfreezeBody(UnfreezeOf(first, world.Now(), 2, AdminThreshold(world)));
  std::vector<signerapi::StatusResponse> statuses;
  EXPECT_TRUE(AcceptedEverywhere(world.PostEverywhere("/v1/unfreeze", body), &statuses));
  for (const signerapi::StatusResponse& status : statuses) EXPECT_FALSE(status.frozen());

  const signerapi::SignedFreeze second = FreezeAll(world.actors().watcher, world.Now(), 3);
  EXPECT_TRUE(AcceptedEverywhere(world.PostEverywhere("/v1/freeze", FreezeBody(second))));
  const std::vector<Answer> answers = world.PostEverywhere("/v1/unfreeze", body);
  EXPECT_TRUE(world.RefusedEverywhere(body, answers, "unfreeze_unknown_freeze"));
  for (const Answer& answer : answers) EXPECT_EQ(answer.status, kConflict);

  const policy::SignedIntent intent =
      world.Intent({{ForeignAddress(0x01), 50'000}}, {.id_seed = 1});
  const std::string sign_body = AttackWorld::Encode(world.HonestRequest(intent));
  const std::vector<Answer> frozen = world.SignEverywhere(sign_body);
  EXPECT_TRUE(world.RefusedEverywhere(sign_body, frozen, "frozen"));
  for (const Answer& answer : frozen) EXPECT_EQ(answer.status, kLocked);
}

// Attacker: owns the network, holds no key. Sends the watcher's freeze of signer 1 to signers 2
// and 3 as well, to stop every signer with one order (denial of service). Class: replay
// against another target. A freeze's signed scope names the one signer it applies to: 409
// freeze_wrong_signer, and signers 2 and 3 keep signing.
TEST(Network, FreezeOfOneSignerReplayedToTheOthersIsRefused) {
  util::Result<std::unique_ptr<AttackWorld>> started = AttackWorld::Start("network-freeze-scope");
  ASSERT_TRUE(started.ok()) << started.status();
  AttackWorld& world = **started;

  const std::string body = world.deployment().FreezeRequestBody(0);
  EXPECT_TRUE(AcceptedEverywhere({world.Post(0, "/v1/freeze", body)}));

  for (size_t i = 1; i < world.signer_count(); ++i) {
    EXPECT_TRUE(RefusedAndLogged(world, world.Post(i, "/v1/freeze", body), body,
                                 "freeze_wrong_signer", kConflict));
  }
  const policy::SignedIntent intent =
      world.Intent({{ForeignAddress(0x01), 50'000}}, {.id_seed = 1});
  const std::string sign_body = AttackWorld::Encode(world.HonestRequest(intent));
  EXPECT_TRUE(
      RefusedAndLogged(world, world.Post(0, "/v1/sign", sign_body), sign_body, "frozen", kLocked));
  EXPECT_TRUE(world.SignedAndValid(
      {world.Post(1, "/v1/sign", sign_body), world.Post(2, "/v1/sign", sign_body)}));
}

// =================================== SignerBackup ===================================

// A world whose signer 0's state directory was copied (stopped, copied, started again) before
// anything was signed: the attacker's backup, at root/backup-signer-1.
struct BackedUp {
  std::unique_ptr<AttackWorld> world;
  std::string backup;
};
util::Result<BackedUp> StartWithBackup(const std::string& name, const PolicyOptions& options) {
  util::Result<std::unique_ptr<AttackWorld>> started = AttackWorld::Start(name, options);
  if (!started.ok()) return started.status();
  BackedUp out{.world = *std::move(started), .backup = ""};
  out.backup = out.world->root() + "/backup-signer-1";
  out.world->StopSigner(0);
  if (util::Status copied = CopyStateDir(out.world->deployment().dirs().at(0), out.backup);
      !copied.ok()) {
    return copied;
  }
  if (util::Status restarted = out.world->StartStopped(0); !restarted.ok()) return restarted;
  return out;
}

// Puts the backup back in place of signer 0's state directory and starts it.
util::Status RestoreSigner0(BackedUp& backed_up) {
  backed_up.world->StopSigner(0);
  if (util::Status restored =
          RestoreStateDir(backed_up.backup, backed_up.world->deployment().dirs().at(0));
      !restored.ok()) {
    return restored;
  }
  return backed_up.world->StartStopped(0);
}

// 60% and 30% of the window fill it to 90%; the next 50% is above the window.
constexpr int64_t kBackupWindowSats = 100'000;

// Attacker: holds a copy of signer 1's state directory taken before the day's spends, and puts
// it back to empty the signer's 24-hour window. The coordinator sends each signer the last
// head it holds of it (known_head). Class: rollback of a security device's state (and the
// velocity limits of Bitfinex 2016). The restored log does not extend the head: 409
// state_rolled_back; the other signers refuse the spend above the window.
TEST(SignerBackup, RestoredCopyToResetVelocityWindowIsRefusedAsRolledBack) {
  PolicyOptions options = Deployment::DefaultPolicyOptions();
  options.window_24h = Sats(kBackupWindowSats);
  util::Result<BackedUp> started = StartWithBackup("backup-velocity", options);
  ASSERT_TRUE(started.ok()) << started.status();
  AttackWorld& world = *started->world;

  // The day's first spend, then signer 0 restarted WITHOUT a restore signs the second.
  const policy::SignedIntent first =
      world.Intent({{ForeignAddress(0x01), kBackupWindowSats * 6 / 10}}, {.id_seed = 1});
  util::Result<std::vector<std::vector<uint8_t>>> heads = SignedHeads(world);
  ASSERT_TRUE(heads.ok()) << heads.status();
  EXPECT_TRUE(world.SignedAndValid(AnswersOf(
      SignWithHeads(world, world.HonestRequest(first, {}, {.funding_seed = 1}), *heads))));
  ASSERT_TRUE(world.Restart(0).ok());
  const policy::SignedIntent second =
      world.Intent({{ForeignAddress(0x02), kBackupWindowSats * 3 / 10}}, {.id_seed = 2});
  heads = SignedHeads(world);
  ASSERT_TRUE(heads.ok()) << heads.status();
  EXPECT_TRUE(world.SignedAndValid(AnswersOf(
      SignWithHeads(world, world.HonestRequest(second, {}, {.funding_seed = 2}), *heads))));

  // The coordinator's heads, then the restore.
  heads = SignedHeads(world);
  ASSERT_TRUE(heads.ok()) << heads.status();
  ASSERT_TRUE(RestoreSigner0(*started).ok());
  const policy::SignedIntent over =
      world.Intent({{ForeignAddress(0x03), kBackupWindowSats / 2}}, {.id_seed = 3});
  const std::vector<Sent> sent =
      SignWithHeads(world, world.HonestRequest(over, {}, {.funding_seed = 3}), *heads);
  EXPECT_TRUE(
      RefusedAndLogged(world, sent[0].answer, sent[0].body, "state_rolled_back", kConflict));
  for (size_t i = 1; i < sent.size(); ++i) {
    EXPECT_TRUE(RefusedAndLogged(world, sent[i].answer, sent[i].body, "window_limit", kForbidden));
  }
}

// Attacker: holds a copy of signer 1's state directory taken before an intent was signed, puts
// it back so that the signer forgets the intent was consumed, and replays the intent with new
// coins. The coordinator sends each signer its last head (known_head). Class: rollback of a
// security device's state. Signer 1 refuses with 409 state_rolled_back, the others with 409
// intent_replayed: nothing is signed.
TEST(SignerBackup, RestoredCopyReplayingConsumedIntentIsRefusedAsRolledBack) {
  util::Result<BackedUp> started =
      StartWithBackup("backup-replay-head", Deployment::DefaultPolicyOptions());
  ASSERT_TRUE(started.ok()) << started.status();
  AttackWorld& world = *started->world;

  const policy::SignedIntent intent =
      world.Intent({{ForeignAddress(0x01), 50'000}}, {.id_seed = 1});
  util::Result<std::vector<std::vector<uint8_t>>> heads = SignedHeads(world);
  ASSERT_TRUE(heads.ok()) << heads.status();
  EXPECT_TRUE(world.SignedAndValid(AnswersOf(
      SignWithHeads(world, world.HonestRequest(intent, {}, {.funding_seed = 1}), *heads))));
  // The honest twin of the restart: signer 0 restarted without a restore, with its head, signs.
  ASSERT_TRUE(world.Restart(0).ok());
  const policy::SignedIntent other = world.Intent({{ForeignAddress(0x02), 40'000}}, {.id_seed = 2});
  heads = SignedHeads(world);
  ASSERT_TRUE(heads.ok()) << heads.status();
  EXPECT_TRUE(world.SignedAndValid(AnswersOf(
      SignWithHeads(world, world.HonestRequest(other, {}, {.funding_seed = 2}), *heads))));

  heads = SignedHeads(world);
  ASSERT_TRUE(heads.ok()) << heads.status();
  ASSERT_TRUE(RestoreSigner0(*started).ok());
  const std::vector<Sent> sent =
      SignWithHeads(world, world.HonestRequest(intent, {}, {.funding_seed = 3}), *heads);
  EXPECT_TRUE(
      RefusedAndLogged(world, sent[0].answer, sent[0].body, "state_rolled_back", kConflict));
  for (size_t i = 1; i < sent.size(); ++i) {
    EXPECT_TRUE(
        RefusedAndLogged(world, sent[i].answer, sent[i].body, "intent_replayed", kConflict));
  }
}

// Attacker: holds a copy of signer 1's state directory taken before an intent was signed, puts
// it back, and (owning the network too) strips known_head from the replayed intent's new
// request. Class: rollback of a security device's state. The restored signer has forgotten the
// intent and signs; the two others refuse with intent_replayed, so one signature is all that
// leaves and the 2-of-3 transaction does not finalize (the residual risk of decision 0008: a
// restored signer without a head to compare is one compromised signer).
TEST(SignerBackup, RestoredCopyWithKnownHeadStrippedSignsAloneButThresholdIsNotReached) {
  util::Result<BackedUp> started =
      StartWithBackup("backup-replay-stripped", Deployment::DefaultPolicyOptions());
  ASSERT_TRUE(started.ok()) << started.status();
  AttackWorld& world = *started->world;

  const policy::SignedIntent intent =
      world.Intent({{ForeignAddress(0x01), 50'000}}, {.id_seed = 1});
  EXPECT_TRUE(world.SignedAndValid(world.SignEverywhere(
      AttackWorld::Encode(world.HonestRequest(intent, {}, {.funding_seed = 1})))));
  ASSERT_TRUE(world.Restart(0).ok());
  const policy::SignedIntent other = world.Intent({{ForeignAddress(0x02), 40'000}}, {.id_seed = 2});
  EXPECT_TRUE(world.SignedAndValid(world.SignEverywhere(
      AttackWorld::Encode(world.HonestRequest(other, {}, {.funding_seed = 2})))));

  ASSERT_TRUE(RestoreSigner0(*started).ok());
  const std::string body =
      AttackWorld::Encode(world.HonestRequest(intent, {}, {.funding_seed = 3}));
  const std::vector<Answer> answers = world.SignEverywhere(body);
  EXPECT_TRUE(answers[0].signed_psbt()) << answers[0].body;
  for (size_t i = 1; i < answers.size(); ++i) {
    EXPECT_TRUE(RefusedAndLogged(world, answers[i], body, "intent_replayed", kConflict));
  }
  EXPECT_TRUE(CannotFinalize(world.ctx(), ReleasedPsbts(answers), world.threshold()));
}

// ===================================== OneSigner =====================================

// Attacker: holds signer 1 outright (its wallet key, read from its key file). Signs a PSBT that
// pays the attacker instead of the intent's destination, and asks the two honest signers for
// the second signature. Class: several keys, one party (Ronin 2022) and a threshold too low
// (Harmony 2022): one key is below the threshold. Both refuse with unexpected_output (logged);
// the attacker's signature alone does not finalize.
TEST(OneSigner, OwnedSignerSignatureOnSubstitutedOutputDoesNotReachThreshold) {
  util::Result<std::unique_ptr<AttackWorld>> started = AttackWorld::Start("one-signer-output");
  ASSERT_TRUE(started.ok()) << started.status();
  AttackWorld& world = **started;

  const policy::SignedIntent honest =
      world.Intent({{ForeignAddress(0x01), 50'000}}, {.id_seed = 1});
  EXPECT_TRUE(world.SignedAndValid(world.SignEverywhere(
      AttackWorld::Encode(world.HonestRequest(honest, {}, {.funding_seed = 1})))));

  const policy::SignedIntent intent =
      world.Intent({{ForeignAddress(0x02), 50'000}}, {.id_seed = 2});
  signerapi::SignRequest request = world.HonestRequest(intent, {}, {.funding_seed = 2});
  request.psbt.unsigned_tx->outputs.at(0).script_pubkey =
      btc::DecodeAddress(ForeignAddress(kAttackerTag), kFixtureNetwork).value().script_pubkey;
  util::Result<btc::Psbt> owned = SignWithSignerKey(world, 0, request.psbt);
  ASSERT_TRUE(owned.ok()) << owned.status();

  const std::string body = AttackWorld::Encode(request);
  std::vector<btc::Psbt> released = {*owned};
  for (size_t i = 1; i < world.signer_count(); ++i) {
    const Answer answer = world.Post(i, "/v1/sign", body);
    EXPECT_TRUE(RefusedAndLogged(world, answer, body, "unexpected_output", kForbidden));
    for (btc::Psbt& psbt : ReleasedPsbts({answer})) released.push_back(std::move(psbt));
  }
  EXPECT_TRUE(CannotFinalize(world.ctx(), released, world.threshold()));
}

// Attacker: holds signer 1 outright and drives requests the policy allows (one valid intent).
// The watcher saw signer 1's unexplained signatures and froze every signer; signer 1 ignores
// it. Class: several keys, one party (Ronin 2022). The honest signers answer 423 frozen
// (logged) to everything, so the owned signature stays alone; after the admins' unfreeze the
// same request is signed (the freeze, not the request, refused it).
TEST(OneSigner, OwnedSignerAndFrozenSignersCannotSign) {
  util::Result<std::unique_ptr<AttackWorld>> started = AttackWorld::Start("one-signer-frozen");
  ASSERT_TRUE(started.ok()) << started.status();
  AttackWorld& world = **started;

  const policy::SignedIntent honest =
      world.Intent({{ForeignAddress(0x01), 50'000}}, {.id_seed = 1});
  EXPECT_TRUE(world.SignedAndValid(world.SignEverywhere(
      AttackWorld::Encode(world.HonestRequest(honest, {}, {.funding_seed = 1})))));

  const signerapi::SignedFreeze freeze = FreezeAll(world.actors().watcher, world.Now(), 1);
  EXPECT_TRUE(AcceptedEverywhere(world.PostEverywhere("/v1/freeze", FreezeBody(freeze))));

  const policy::SignedIntent intent =
      world.Intent({{ForeignAddress(0x02), 50'000}}, {.id_seed = 2});
  const signerapi::SignRequest request = world.HonestRequest(intent, {}, {.funding_seed = 2});
  util::Result<btc::Psbt> owned = SignWithSignerKey(world, 0, request.psbt);
  ASSERT_TRUE(owned.ok()) << owned.status();
  const std::string body = AttackWorld::Encode(request);
  std::vector<btc::Psbt> released = {*owned};
  for (size_t i = 1; i < world.signer_count(); ++i) {
    const Answer answer = world.Post(i, "/v1/sign", body);
    EXPECT_TRUE(RefusedAndLogged(world, answer, body, "frozen", kLocked));
    for (btc::Psbt& psbt : ReleasedPsbts({answer})) released.push_back(std::move(psbt));
  }
  EXPECT_TRUE(CannotFinalize(world.ctx(), released, world.threshold()));

  EXPECT_TRUE(AcceptedEverywhere(world.PostEverywhere(
      "/v1/unfreeze", UnfreezeBody(UnfreezeOf(freeze, world.Now(), 2, AdminThreshold(world))))));
  EXPECT_TRUE(
      world.SignedAndValid({world.Post(1, "/v1/sign", body), world.Post(2, "/v1/sign", body)}));
}

}  // namespace
}  // namespace kinko::testing
