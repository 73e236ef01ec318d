// Attacks with the attacker in front of, or inside, a real `kinkod` (the coordinator) that runs
// the whole flow next to three real `kinko-signer` processes (test/attacks/kinkod_support.h):
// signed intents and approvals are submitted to kinkod over HTTP and executed by its operator;
// the attacker forges API calls, writes to kinkod's SQLite database, splices what kinkod sends
// to the signers, resends recorded sign requests, or restores an old copy of the database. Each
// scenario first runs its honest twin in the same kinkod, which ends signed, broadcast
// (exported) and valid.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "btc/psbt.h"
#include "coordinator/api_auth.h"
#include "policy/identity.h"
#include "test/attacks/kinkod_support.h"

namespace kinko::testing::through_kinkod {
namespace {

// The honest flow's end: `intent`, submitted by the requester and approved (it needs no
// approvals, or got them), is executed by the operator in one batch, signed by the threshold
// of signers, exported, and valid.
void ExpectHonestTwinSigned(KinkodWorld& world, const policy::SignedIntent& intent) {
  const ApiReply executed = world.Execute({intent});
  EXPECT_EQ(executed.status, 200) << executed.text << "\n" << world.kinkod().LogTail();
  EXPECT_EQ(executed.body["batches"].size(), 1u) << executed.text;
  EXPECT_TRUE(world.PaidOnceAndValid(intent));
  EXPECT_EQ(world.SignedDecisions(intent), world.signers().threshold());
}

// A policy whose address book holds BookAddress() and under which anything above 100,000 sat
// goes only to the address book with 2 of treasury (alice, bob, carol).
std::string BookAddress() { return ForeignAddress(0xb0); }
PolicyOptions ApprovalPolicy() {
  PolicyOptions options = Deployment::DefaultPolicyOptions();
  options.address_book = {{.label = "cold storage", .address = BookAddress()}};
  options.small_max = Sats(100'000);
  return options;
}
constexpr int64_t kBookSats = 200'000;

std::string SqlBlob(std::span<const uint8_t> bytes) { return "X'" + util::HexEncode(bytes) + "'"; }

// DMM Bitcoin, May 2024: the attacker owns kinkod's host and rewrites, in its database, the
// outputs of an approved intent (another destination, 50 times the amount) between submission
// and execution, as `kinko demo` replays. kinkod builds and sends the rewritten payment, but
// every signer checks the transaction against the intent the requester signed, not kinkod's
// rows: the attacker's output is no output of the intent.
TEST(ThroughKinkod, RewrittenIntentRowInDatabaseIsRefusedByEverySigner) {
  util::Result<std::unique_ptr<KinkodWorld>> started = KinkodWorld::Start("rewritten-row");
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  KinkodWorld& world = **started;
  const policy::SignedIntent honest =
      world.signers().Intent({{ForeignAddress(0x01), 40'000}}, {.id_seed = 1});
  ASSERT_EQ(world.Submit(honest).status, 201);
  ExpectHonestTwinSigned(world, honest);

  const policy::SignedIntent intent =
      world.signers().Intent({{ForeignAddress(0x02), 40'000}}, {.id_seed = 2});
  const ApiReply submitted = world.Submit(intent);
  ASSERT_EQ(submitted.status, 201) << submitted.text;
  ASSERT_EQ(submitted.body["state"], "approved") << submitted.text;
  const std::string attacker = ForeignAddress(0xee);
  ASSERT_EQ(world.Sql("UPDATE intent_outputs SET address = '" + attacker +
                      "', sats = 2000000 WHERE intent_id = X'" + IdHex(intent) + "'"),
            1);
  // kinkod believes its row.
  const ApiReply rewritten = world.Get(intent);
  ASSERT_EQ(rewritten.body["outputs"][0]["address"], attacker) << rewritten.text;
  ASSERT_EQ(rewritten.body["outputs"][0]["sats"], 2'000'000) << rewritten.text;

  const ApiReply executed = world.Execute({intent});
  EXPECT_EQ(executed.status, 200) << executed.text;
  EXPECT_TRUE(world.KinkodRefused(intent, "unexpected_output"));
  EXPECT_EQ(world.Exported().size(), 1u);  // The honest twin's transaction only.
}

// The attacker's rows for `intent` in kinkod's database: an approved intent (with the times and
// detail of the stored intent `like`) and its outputs. Returns the rows inserted (one more than
// the intent has outputs).
int InjectApprovedIntent(KinkodWorld& world, const policy::SignedIntent& intent,
                         const policy::SignedIntent& like) {
  const policy::IntentFields& fields = intent.intent().fields();
  int rows = world.Sql(
      "INSERT INTO intents (id, wallet, state, signed_intent, requester, external_ref, "
      "created_at, expires_at, received_at, updated_at, batch_id, detail, revision) SELECT X'" +
      IdHex(intent) + "', wallet, 'approved', " + SqlBlob(intent.Encode()) + ", " +
      SqlBlob(fields.requester) +
      ", '', created_at, expires_at, received_at, updated_at, NULL, detail, 1 FROM intents "
      "WHERE id = X'" +
      IdHex(like) + "'");
  for (size_t i = 0; i < fields.outputs.size(); ++i) {
    rows +=
        world.Sql("INSERT INTO intent_outputs (intent_id, position, address, sats) VALUES (X'" +
                  IdHex(intent) + "', " + std::to_string(i) + ", '" + fields.outputs[i].address +
                  "', " + std::to_string(fields.outputs[i].amount.sats()) + ")");
  }
  return rows;
}

// The signed intent `intent` altered as the attacker alters it in transit: one output to
// `address` of `sats`, with the requester's original signature kept.
std::vector<uint8_t> AlteredIntent(const policy::SignedIntent& intent, const std::string& address,
                                   int64_t sats) {
  policy::IntentFields fields = intent.intent().fields();
  fields.outputs = {{.address = address, .amount = Sats(sats)}};
  const policy::Intent altered = policy::Intent::Create(fields).value();
  return ForgedSignedBytes(altered.Encode(), intent.signature());
}

// Every signer refused the last sign request kinkod sent it (as its tap forwarded it) with
// `code` and logged that refusal, and signed nothing for `intent`; kinkod shows the intent
// refused, with each signer's answer a refusal naming `code` (a 403 invalid_signature error body
// is a logged decision, and kinkod records it as a refusal, not as an outage to retry).
void ExpectEverySignerRefusedAndLogged(KinkodWorld& world, const policy::SignedIntent& intent,
                                       const std::string& code) {
  for (size_t i = 0; i < world.signers().signer_count(); ++i) {
    SCOPED_TRACE("signer " + std::to_string(i));
    const std::vector<std::string> bodies = world.tap(i).SignBodies();
    ASSERT_FALSE(bodies.empty());
    util::Result<std::vector<LoggedRefusal>> logged =
        world.signers().LoggedRefusals(i, bodies.back());
    ASSERT_TRUE(logged.ok()) << logged.status().ToString();
    ASSERT_EQ(logged->size(), 1u);
    EXPECT_EQ(logged->at(0).entry.code, code);
    EXPECT_EQ(world.LoggedDecisions(i, intent, auditlog::Outcome::kSigned), 0u);
  }
  const ApiReply shown = world.Get(intent);
  EXPECT_EQ(shown.body["state"], "refused") << shown.text;
  ASSERT_EQ(shown.body["detail"]["signers"].size(), world.signers().signer_count()) << shown.text;
  for (const json& answer : shown.body["detail"]["signers"]) {
    EXPECT_EQ(answer["outcome"], "refused") << answer.dump();
    EXPECT_NE(answer.dump().find(code), std::string::npos) << answer.dump();
  }
}

// DMM Bitcoin, May 2024, as it happened: the transfer request is altered in transit,
// destination and amount, with the requester's original signature kept. The attacker owns
// kinkod's host: it rewrites the intent's outputs in the database (kinkod builds the payment to
// the attacker) and swaps, in the sign request on its way to each signer, the signed intent for
// one whose outputs say the same. Each signer verifies the requester's signature over the
// intent it is given while decoding the request, and refuses invalid_signature (logged).
TEST(ThroughKinkod, IntentAlteredInTransitWithOriginalSignatureIsRefused) {
  util::Result<std::unique_ptr<KinkodWorld>> started = KinkodWorld::Start("altered-in-transit");
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  KinkodWorld& world = **started;
  const policy::SignedIntent honest =
      world.signers().Intent({{ForeignAddress(0x08), 40'000}}, {.id_seed = 1});
  ASSERT_EQ(world.Submit(honest).status, 201);
  ExpectHonestTwinSigned(world, honest);

  const policy::SignedIntent intent =
      world.signers().Intent({{ForeignAddress(0x09), 40'000}}, {.id_seed = 2});
  ASSERT_EQ(world.Submit(intent).body["state"], "approved");
  const std::string attacker = ForeignAddress(0xee);
  ASSERT_EQ(world.Sql("UPDATE intent_outputs SET address = '" + attacker +
                      "', sats = 2000000 WHERE intent_id = X'" + IdHex(intent) + "'"),
            1);
  const std::string altered = btc::EncodeBase64(AlteredIntent(intent, attacker, 2'000'000));
  for (size_t i = 0; i < world.signers().signer_count(); ++i) {
    world.tap(i).SetRewrite([altered](const std::string& body) {
      json request = json::parse(body);
      request["intents"][0]["intent"] = altered;
      return request.dump();
    });
  }
  const ApiReply executed = world.Execute({intent});
  EXPECT_EQ(executed.status, 200) << executed.text;
  ExpectEverySignerRefusedAndLogged(world, intent, "invalid_signature");
  EXPECT_EQ(world.Exported().size(), 1u);
}

// The attacker owns kinkod's database and holds an intent the requester signed long ago, now
// expired (kinkod refuses it at submission and stores nothing). It injects the intent into the
// database as approved, with a fresh expiry in kinkod's row. kinkod builds and sends it; every
// signer reads the expiry from the intent the requester signed and refuses intent_expired.
TEST(ThroughKinkod, ExpiredIntentInjectedIntoDatabaseIsRefused) {
  util::Result<std::unique_ptr<KinkodWorld>> started = KinkodWorld::Start("injected-expired");
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  KinkodWorld& world = **started;
  const policy::SignedIntent honest =
      world.signers().Intent({{ForeignAddress(0x0a), 20'000}}, {.id_seed = 1});
  ASSERT_EQ(world.Submit(honest).body["state"], "approved");

  const uint64_t now = world.signers().Now();
  const policy::SignedIntent intent = world.signers().Intent(
      {{ForeignAddress(0x0b), 20'000}}, {.lifetime = 3600, .created = now - 7200, .id_seed = 2});
  const ApiReply submitted = world.Submit(intent);
  EXPECT_EQ(submitted.status, 422) << submitted.text;
  EXPECT_EQ(submitted.body["error"]["code"], "failed_precondition") << submitted.text;
  EXPECT_EQ(world.Get(intent).status, 404);
  // The rows copy the honest intent's times: kinkod's row says it expires in an hour.
  ASSERT_EQ(InjectApprovedIntent(world, intent, honest), 2);
  ASSERT_EQ(world.StateOf(intent), "approved");

  ExpectHonestTwinSigned(world, honest);
  const ApiReply executed = world.Execute({intent});
  EXPECT_EQ(executed.status, 200) << executed.text;
  EXPECT_TRUE(world.KinkodRefused(intent, "intent_expired"));
  EXPECT_EQ(world.Exported().size(), 1u);
}

// A compromised web page or workstation that can reach kinkod's API but holds no registered
// key forges API calls: a captured Authorization header on another body, a flipped signature
// byte, the requester's key id on the attacker's own signature, an old time, another target,
// no header; and its own valid signature. kinkod answers each with 401 or 403 before reading
// the body, and stores nothing; the same body correctly signed is accepted and ends signed.
TEST(ThroughKinkod, ForgedApiRequestSignatureIsRefusedAndNothingIsStored) {
  util::Result<std::unique_ptr<KinkodWorld>> started = KinkodWorld::Start("forged-api-signature");
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  KinkodWorld& world = **started;
  const crypto::Ed25519PrivateKey& requester = world.signers().actors().requester;
  const crypto::Ed25519PrivateKey& outsider = world.signers().actors().outsider;
  const policy::SignedIntent intent =
      world.signers().Intent({{ForeignAddress(0x03), 30'000}}, {.id_seed = 1});
  const std::string target = "/v1/intents";
  const std::string body = json{{"signed_intent", util::HexEncode(intent.Encode())}}.dump();
  const uint64_t now = world.signers().Now();
  const std::string good = coordinator::AuthorizationHeader(requester, "POST", target, now, body);
  const std::string outsider_header =
      coordinator::AuthorizationHeader(outsider, "POST", target, now, body);

  std::string flipped = good;
  flipped.back() = flipped.back() == '0' ? '1' : '0';
  std::string stolen_key = outsider_header;
  const std::string outsider_key = util::HexEncode(outsider.public_key());
  stolen_key.replace(stolen_key.find(outsider_key), outsider_key.size(),
                     util::HexEncode(requester.public_key()));
  struct Case {
    std::string name;
    std::string authorization;
    int status;
    std::string code;
  };
  const std::vector<Case> cases = {
      {"captured header of another body",
       coordinator::AuthorizationHeader(requester, "POST", target, now, "{}"), 401,
       "unauthenticated"},
      {"flipped signature byte", flipped, 401, "unauthenticated"},
      {"requester's key, attacker's signature", stolen_key, 401, "unauthenticated"},
      {"ten minutes old",
       coordinator::AuthorizationHeader(requester, "POST", target, now - 600, body), 401,
       "unauthenticated"},
      {"signed for another target",
       coordinator::AuthorizationHeader(requester, "POST", "/v1/intents?x=1", now, body), 401,
       "unauthenticated"},
      {"no signature", "", 401, "unauthenticated"},
      {"an unknown key's own signature", outsider_header, 403, "forbidden"},
  };
  KinkodClient client = world.Requester();
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    util::Result<ApiReply> reply = client.PostSigned(target, body, c.authorization);
    ASSERT_TRUE(reply.ok()) << reply.status().message();
    EXPECT_EQ(reply->status, c.status) << reply->text;
    EXPECT_EQ(reply->body["error"]["code"], c.code) << reply->text;
  }
  // Nothing was stored.
  util::Result<ApiReply> listed = client.Get("/v1/intents");
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->body["intents"].size(), 0u) << listed->text;
  EXPECT_EQ(world.Get(intent).status, 404);

  // The honest twin: the same body, signed by the requester's key.
  util::Result<ApiReply> accepted = client.PostSigned(target, body, good);
  ASSERT_TRUE(accepted.ok());
  ASSERT_EQ(accepted->status, 201) << accepted->text;
  ExpectHonestTwinSigned(world, intent);
  for (size_t i = 0; i < world.signers().signer_count(); ++i) {
    EXPECT_EQ(world.LoggedDecisions(i, intent, auditlog::Outcome::kRefused), 0u);
  }
}

// A compromised web page or workstation with access to kinkod's API submits an intent signed
// by a key of its own (no registered requester's): kinkod refuses it (422 permission_denied)
// and stores nothing. The attacker who also owns kinkod's database injects it there as an
// approved intent, and kinkod sends it: every signer refuses unknown_requester, because only
// the policy the governance quorum signed names requesters.
TEST(ThroughKinkod, IntentSignedByOutsiderKeyIsRefusedByKinkodAndEverySigner) {
  util::Result<std::unique_ptr<KinkodWorld>> started = KinkodWorld::Start("outsider-intent");
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  KinkodWorld& world = **started;
  const policy::SignedIntent honest =
      world.signers().Intent({{ForeignAddress(0x04), 30'000}}, {.id_seed = 1});
  ASSERT_EQ(world.Submit(honest).body["state"], "approved");

  const crypto::Ed25519PrivateKey& outsider = world.signers().actors().outsider;
  const policy::SignedIntent forged = world.signers().Intent(
      {{ForeignAddress(0x05), 30'000}}, {.id_seed = 2, .requester = &outsider});
  const ApiReply submitted = world.Submit(forged);
  EXPECT_EQ(submitted.status, 422) << submitted.text;
  EXPECT_EQ(submitted.body["error"]["code"], "permission_denied") << submitted.text;
  EXPECT_EQ(world.Get(forged).status, 404);

  ASSERT_EQ(InjectApprovedIntent(world, forged, honest), 2);
  ASSERT_EQ(world.StateOf(forged), "approved");

  ExpectHonestTwinSigned(world, honest);
  const ApiReply executed = world.Execute({forged});
  EXPECT_EQ(executed.status, 200) << executed.text;
  EXPECT_TRUE(world.KinkodRefused(forged, "unknown_requester"));
  EXPECT_EQ(world.Exported().size(), 1u);
}

// `approver`'s approval of `intent` as the attacker forges it: the right fields and approver
// key, and signature bytes the attacker made with its own key (it does not hold `approver`'s).
std::vector<uint8_t> ForgedApproval(KinkodWorld& world, const crypto::Ed25519PublicKey& approver,
                                    const policy::SignedIntent& intent,
                                    const crypto::Ed25519PrivateKey& attacker) {
  policy::ApprovalFields fields;
  fields.intent_digest = intent.intent().digest();
  fields.policy_digest = world.signers().policy_digest();
  fields.approver = policy::Ed25519KeyId(approver);
  fields.time = world.signers().Now();
  const policy::Approval approval = policy::Approval::Create(fields).value();
  policy::Signature signature = policy::SignDigest(attacker, approval.digest());
  signature.public_key = approver;
  return ForgedSignedBytes(approval.Encode(), signature);
}

// The attacker owns kinkod's host and database and wants an intent that needs 2 of treasury
// paid without them. It inserts approval rows of alice and bob whose signatures it forged, and
// marks the intent approved: kinkod itself finds the stored approvals do not verify and stops
// (data_loss) before asking any signer. The attacker then deletes the rows and splices the
// forged approvals into the sign request kinkod sends: every signer verifies each approval's
// signature against the approver key the policy names and refuses invalid_signature.
TEST(ThroughKinkod, ForgedApprovalRowIsRefusedWithInvalidSignature) {
  util::Result<std::unique_ptr<KinkodWorld>> started =
      KinkodWorld::Start("forged-approval", ApprovalPolicy());
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  KinkodWorld& world = **started;
  const Actors& actors = world.signers().actors();
  const policy::SignedIntent honest =
      world.signers().Intent({{BookAddress(), kBookSats}}, {.id_seed = 1});
  ASSERT_EQ(world.Submit(honest).body["state"], "awaiting_approvals");
  ASSERT_EQ(world.Approve(0, honest).status, 201);
  ASSERT_EQ(world.Approve(1, honest).body["state"], "approved");
  ExpectHonestTwinSigned(world, honest);

  const policy::SignedIntent intent =
      world.signers().Intent({{BookAddress(), kBookSats + 1}}, {.id_seed = 2});
  ASSERT_EQ(world.Submit(intent).body["state"], "awaiting_approvals");
  const crypto::Ed25519PrivateKey& attacker = actors.outsider;
  std::vector<std::vector<uint8_t>> forged;
  for (size_t approver : {0, 1}) {
    const crypto::Ed25519PublicKey& key = actors.approvers[approver].public_key();
    forged.push_back(ForgedApproval(world, key, intent, attacker));
    ASSERT_EQ(
        world.Sql("INSERT INTO approvals (intent_id, approver, signed_approval, "
                  "received_at) VALUES (X'" +
                  IdHex(intent) + "', " + SqlBlob(policy::Ed25519KeyId(key)) + ", " +
                  SqlBlob(forged.back()) + ", " + std::to_string(world.signers().Now()) + ")"),
        1);
  }
  ASSERT_EQ(world.Sql("UPDATE intents SET state = 'approved' WHERE id = X'" + IdHex(intent) + "'"),
            1);
  std::vector<size_t> asked_before;
  for (size_t i = 0; i < world.signers().signer_count(); ++i) {
    asked_before.push_back(world.tap(i).SignBodies().size());
  }
  const ApiReply stopped = world.Execute({intent});
  EXPECT_EQ(stopped.status, 500) << stopped.text;
  EXPECT_EQ(stopped.body["error"]["code"], "data_loss") << stopped.text;
  for (size_t i = 0; i < world.signers().signer_count(); ++i) {
    EXPECT_EQ(world.tap(i).SignBodies().size(), asked_before[i]) << "signer " << i << " was asked";
    EXPECT_EQ(world.LoggedDecisions(i, intent, auditlog::Outcome::kRefused), 0u);
  }

  // The forged approvals go into the request on its way to the signers instead.
  ASSERT_EQ(world.Sql("DELETE FROM approvals WHERE intent_id = X'" + IdHex(intent) + "'"), 2);
  for (size_t i = 0; i < world.signers().signer_count(); ++i) {
    world.tap(i).SetRewrite([forged](const std::string& body) {
      json request = json::parse(body);
      for (const std::vector<uint8_t>& approval : forged) {
        request["intents"][0]["approvals"].push_back(btc::EncodeBase64(approval));
      }
      return request.dump();
    });
  }
  const ApiReply executed = world.Execute({intent});
  EXPECT_EQ(executed.status, 200) << executed.text;
  ExpectEverySignerRefusedAndLogged(world, intent, "invalid_signature");
  EXPECT_TRUE(world.Paying(intent).empty());
  EXPECT_EQ(world.Exported().size(), 1u);
}

// The attacker owns kinkod's database. Intent A went through with its two treasury approvals;
// intent B, to the same address book entry, has none. The attacker copies A's approval rows
// onto B and marks B approved. The approvals' signatures are genuine, so kinkod sends them, but
// each approval signs A's digest: every signer refuses invalid_approval (an approval for one
// intent is worthless for any other).
TEST(ThroughKinkod, ApprovalOfAnotherIntentAttachedInDatabaseIsRefused) {
  util::Result<std::unique_ptr<KinkodWorld>> started =
      KinkodWorld::Start("spliced-approval", ApprovalPolicy());
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  KinkodWorld& world = **started;
  const policy::SignedIntent honest =
      world.signers().Intent({{BookAddress(), kBookSats}}, {.id_seed = 1});
  ASSERT_EQ(world.Submit(honest).body["state"], "awaiting_approvals");
  ASSERT_EQ(world.Approve(0, honest).status, 201);
  ASSERT_EQ(world.Approve(1, honest).body["state"], "approved");
  ExpectHonestTwinSigned(world, honest);

  const policy::SignedIntent intent =
      world.signers().Intent({{BookAddress(), kBookSats + 1}}, {.id_seed = 2});
  ASSERT_EQ(world.Submit(intent).body["state"], "awaiting_approvals");
  ASSERT_EQ(world.Sql("INSERT INTO approvals (intent_id, approver, signed_approval, received_at) "
                      "SELECT X'" +
                      IdHex(intent) + "', approver, signed_approval, received_at FROM approvals " +
                      "WHERE intent_id = X'" + IdHex(honest) + "'"),
            2);
  ASSERT_EQ(world.Sql("UPDATE intents SET state = 'approved' WHERE id = X'" + IdHex(intent) + "'"),
            1);
  const ApiReply executed = world.Execute({intent});
  EXPECT_EQ(executed.status, 200) << executed.text;
  EXPECT_TRUE(world.KinkodRefused(intent, "invalid_approval"));
  EXPECT_EQ(world.Exported().size(), 1u);
}

// After an intent was signed and exported, the attacker (a compromised operator workstation,
// or the network) replays it: executes it again, resubmits it, executes "everything approved";
// kinkod treats each idempotently and builds no second transaction. Then, owning the network,
// it resends to each signer the very sign request it recorded: every signer that signed it has
// consumed the intent id and refuses intent_replayed (nothing is signed twice for one intent).
TEST(ThroughKinkod, ReplayedExecuteAndResentSignRequestSignNothingTwice) {
  util::Result<std::unique_ptr<KinkodWorld>> started = KinkodWorld::Start("replayed-execute");
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  KinkodWorld& world = **started;
  const policy::SignedIntent intent =
      world.signers().Intent({{ForeignAddress(0x06), 25'000}}, {.id_seed = 1});
  ASSERT_EQ(world.Submit(intent).status, 201);
  ExpectHonestTwinSigned(world, intent);

  const ApiReply again = world.Execute({intent});
  EXPECT_EQ(again.status, 409) << again.text;
  EXPECT_EQ(again.body["error"]["code"], "failed_precondition") << again.text;
  const ApiReply resubmitted = world.Submit(intent);
  EXPECT_EQ(resubmitted.status, 200) << resubmitted.text;
  EXPECT_EQ(resubmitted.body["state"], "broadcast") << resubmitted.text;
  const ApiReply everything = world.Execute({});
  EXPECT_EQ(everything.status, 200) << everything.text;
  EXPECT_TRUE(everything.body["batches"].empty()) << everything.text;
  EXPECT_EQ(world.Exported().size(), 1u);
  EXPECT_EQ(world.SignedDecisions(intent), world.signers().threshold());

  size_t replayed = 0;
  for (size_t i = 0; i < world.signers().signer_count(); ++i) {
    for (const std::string& body : world.tap(i).SignBodies()) {
      SCOPED_TRACE("signer " + std::to_string(i));
      const Answer answer = world.signers().Post(i, "/v1/sign", body);
      EXPECT_FALSE(answer.signed_psbt());
      EXPECT_EQ(answer.status, 409) << answer.body;
      EXPECT_EQ(answer.code(), "intent_replayed") << answer.body;
      util::Result<std::vector<LoggedRefusal>> logged = world.signers().LoggedRefusals(i, body);
      ASSERT_TRUE(logged.ok()) << logged.status().ToString();
      ASSERT_EQ(logged->size(), 1u);
      EXPECT_EQ(logged->at(0).entry.code, "intent_replayed");
      ++replayed;
    }
  }
  EXPECT_EQ(replayed, world.signers().threshold());
  EXPECT_EQ(world.SignedDecisions(intent), world.signers().threshold());
  EXPECT_EQ(world.Paying(intent).size(), 1u);
}

// The rollback class, on the coordinator: the attacker restores a copy of kinkod's database
// taken before an intent was signed, so kinkod forgets the signing and shows the intent
// approved again, and re-executes it. Each signer that signed keeps its own record of consumed
// intent ids and refuses intent_replayed: too few signatures, no second transaction. (The
// signer that was not asked the first time has not consumed the intent and signs; alone it is
// below the threshold.)
TEST(ThroughKinkod, RolledBackDatabaseReExecutedIsRefusedAsReplay) {
  util::Result<std::unique_ptr<KinkodWorld>> started = KinkodWorld::Start("rolled-back-db");
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  KinkodWorld& world = **started;
  const policy::SignedIntent intent =
      world.signers().Intent({{ForeignAddress(0x07), 35'000}}, {.id_seed = 1});
  ASSERT_EQ(world.Submit(intent).body["state"], "approved");
  const std::string backup = world.signers().root() + "/kinkod-backup.db";
  ASSERT_TRUE(world.Snapshot(backup).ok());
  ExpectHonestTwinSigned(world, intent);
  std::vector<bool> signed_before;
  for (size_t i = 0; i < world.signers().signer_count(); ++i) {
    signed_before.push_back(world.LoggedDecisions(i, intent, auditlog::Outcome::kSigned) == 1);
  }

  ASSERT_TRUE(world.RestoreSnapshot(backup).ok());
  ASSERT_EQ(world.StateOf(intent), "approved");  // kinkod forgot the signing.
  const ApiReply executed = world.Execute({intent});
  EXPECT_EQ(executed.status, 200) << executed.text;

  const ApiReply shown = world.Get(intent);
  EXPECT_EQ(shown.body["state"], "refused") << shown.text;
  EXPECT_EQ(shown.body["detail"]["code"], "intent_replayed") << shown.text;
  size_t signed_again = 0;
  for (const json& answer : shown.body["detail"]["signers"]) {
    signed_again += answer["outcome"] == "signed";
  }
  EXPECT_LT(signed_again, world.signers().threshold()) << shown.text;
  for (size_t i = 0; i < world.signers().signer_count(); ++i) {
    if (!signed_before[i]) continue;
    SCOPED_TRACE("signer " + std::to_string(i));
    const std::string id = util::HexEncode(world.signers().deployment().keys()[i].signer_id);
    const auto answer =
        std::find_if(shown.body["detail"]["signers"].begin(), shown.body["detail"]["signers"].end(),
                     [&](const json& a) { return a["id"] == id; });
    ASSERT_NE(answer, shown.body["detail"]["signers"].end()) << shown.text;
    EXPECT_EQ((*answer)["outcome"], "refused") << answer->dump();
    EXPECT_EQ((*answer)["code"], "intent_replayed") << answer->dump();
    const std::vector<std::string> bodies = world.tap(i).SignBodies();
    util::Result<std::vector<LoggedRefusal>> logged =
        world.signers().LoggedRefusals(i, bodies.back());
    ASSERT_TRUE(logged.ok()) << logged.status().ToString();
    ASSERT_EQ(logged->size(), 1u);
    EXPECT_EQ(logged->at(0).entry.code, "intent_replayed");
  }
  EXPECT_EQ(world.Exported().size(), 1u);
  EXPECT_EQ(world.Paying(intent).size(), 1u);
}

}  // namespace
}  // namespace kinko::testing::through_kinkod
