// The signer's whole decision (signer/decide.h), and the shared test fixture it is tested with
// (test/support/signer_fixture.h).
#include "signer/decide.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "btc/address.h"
#include "btc/sighash.h"
#include "btc/transaction.h"
#include "policy/evaluate.h"
#include "policy/governance.h"
#include "signerapi/freeze.h"
#include "signerapi/messages.h"
#include "test/support/signer_fixture.h"
#include "util/hex.h"

namespace kinko::signer {
namespace {

using testing::ForeignAddress;
using testing::kFixtureNow;
using testing::Sats;
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

// ---------------------------------------------------------------------------------------------
// DecideSign: one valid request, and every refusal starting from it.

const testing::Actors& Actors() {
  static const testing::Actors* actors = new testing::Actors(testing::MakeActors());
  return *actors;
}

const testing::TestWallet& Wallet() {
  static const testing::TestWallet* wallet =
      new testing::TestWallet(testing::MakeTestWallet(TestContext()));
  return *wallet;
}

const std::string& BookAddress() {
  static const std::string* address = new std::string(ForeignAddress(9));
  return *address;
}

// A fee ceiling by rate only: 50 sat/vB.
constexpr uint64_t kIntentMaxRate = 50'000;
constexpr uint32_t kChangeIndex = 7;
constexpr int64_t kSmallPay = 50'000;
constexpr int64_t kBookPay = 150'000'000;
constexpr int64_t kFee = 2'000;

// Everything the valid request is made of; a case changes one thing.
struct Scenario {
  // The policy: the fixture's rules with every limit set, and the address "cold".
  testing::PolicyOptions policy = {
      .address_book = {{.label = "cold", .address = BookAddress()}},
      .per_transaction = Sats(200'000'000),
      .window_24h = Sats(300'000'000),
      .fee_max = Sats(50'000),
      .fee_rate_max_sat_per_kvb = 100'000,
      .outputs_max = 3,
  };
  // Intent 0: a small withdrawal. Intent 1: to the address book, approved by alice and bob.
  std::vector<testing::OutputSpec> outputs0 = {{ForeignAddress(1), kSmallPay}};
  testing::IntentOptions options0 = {
      .fee = {.max_fee = std::nullopt, .max_rate_sat_per_kvb = kIntentMaxRate}, .id_seed = 1};
  std::vector<testing::OutputSpec> outputs1 = {{BookAddress(), kBookPay}};
  testing::IntentOptions options1 = {
      .fee = {.max_fee = std::nullopt, .max_rate_sat_per_kvb = kIntentMaxRate}, .id_seed = 2};
  std::vector<size_t> approvers1 = {0, 1};  // Indexes into Actors().approvers.
  testing::PsbtOptions psbt = {.fee_sats = kFee, .change_index = kChangeIndex};
  // The signer's wallet configuration.
  std::string wallet_id = testing::kFixtureWalletId;
  btc::Network wallet_network = btc::Network::kRegtest;
  uint32_t change_index_max = testing::kFixtureIndexMax;
  uint64_t now = kFixtureNow;
  // What the signer's log says about the head the coordinator holds; none by default.
  std::optional<KnownHead> known_head;
  // Edits after the valid pieces are built.
  std::function<void(SignerState&)> edit_state;
  std::function<void(signerapi::SignRequest&, const policy::Digest& policy_digest)> edit_request;
};

struct Built {
  SignerConfig config;
  SignerState state;
  signerapi::SignRequest request;
  std::optional<KnownHead> known_head;
  uint64_t now = 0;
};

Built Build(const Scenario& s) {
  const crypto::Secp256k1Context& ctx = TestContext();
  const testing::Actors& actors = Actors();
  util::Result<btc::Descriptor> descriptor =
      btc::Descriptor::Parse(ctx, Wallet().descriptor, s.wallet_network);
  EXPECT_TRUE(descriptor.ok()) << descriptor.status();
  util::Result<WalletConfig> wallet =
      WalletConfig::Create(ctx, s.wallet_id, s.wallet_network, std::move(descriptor).value(),
                           testing::kFixtureIndexMax, s.change_index_max);
  EXPECT_TRUE(wallet.ok()) << wallet.status();

  Built built{.config = testing::MakeSignerConfig(actors, std::move(wallet).value()),
              .state = testing::MakeSignerState(testing::InstallPolicy(
                  actors, testing::MakePolicy(actors, s.policy), kFixtureNow - 1000)),
              .request = {},
              .known_head = s.known_head,
              .now = s.now};
  const policy::Digest digest = built.state.governance.active.policy().digest();

  const policy::SignedIntent intent0 =
      testing::MakeIntent(actors, s.outputs0, kFixtureNow, s.options0);
  const policy::SignedIntent intent1 =
      testing::MakeIntent(actors, s.outputs1, kFixtureNow, s.options1);
  std::vector<policy::SignedApproval> approvals1;
  for (size_t approver : s.approvers1) {
    approvals1.push_back(
        testing::Approve(actors.approvers[approver], intent1, digest, kFixtureNow));
  }
  // The PSBT is built with the regtest wallet whatever the signer's configuration says.
  const WalletConfig psbt_wallet = testing::MakeWalletConfig(ctx, Wallet().descriptor);
  built.request.psbt = testing::BuildPsbt(ctx, psbt_wallet, {intent0, intent1}, s.psbt);
  built.request.intents = {{intent0, {}}, {intent1, approvals1}};
  if (s.edit_state) s.edit_state(built.state);
  if (s.edit_request) s.edit_request(built.request, digest);
  return built;
}

SignDecision Decide(const Built& built) {
  return DecideSign(TestContext(), built.config, built.state, built.request, built.known_head,
                    built.now);
}

signerapi::SignedFreeze MakeFreeze(const crypto::Ed25519PrivateKey& key,
                                   std::optional<policy::KeyId> scope, uint8_t nonce = 1) {
  signerapi::FreezeFields f;
  f.scope.signer = scope;
  f.reason = "withdrawal anomaly: halting";
  f.time = kFixtureNow;
  f.nonce.fill(nonce);
  return signerapi::SignedFreeze::Sign(signerapi::Freeze::Create(std::move(f)).value(), key);
}

signerapi::SignedUnfreeze MakeUnfreeze(const std::vector<const crypto::Ed25519PrivateKey*>& keys,
                                       const policy::Digest& freeze_digest,
                                       std::optional<policy::KeyId> scope) {
  signerapi::UnfreezeFields f;
  f.scope.signer = scope;
  f.reason = "anomaly explained";
  f.time = kFixtureNow + 60;
  f.nonce.fill(2);
  f.freeze_digest = freeze_digest;
  signerapi::SignedUnfreeze unfreeze = signerapi::SignedUnfreeze::Sign(
      signerapi::Unfreeze::Create(std::move(f)).value(), *keys.at(0));
  for (size_t i = 1; i < keys.size(); ++i) unfreeze = unfreeze.AddSignature(*keys[i]).value();
  return unfreeze;
}

btc::TxOut& ChangeOutputOf(signerapi::SignRequest& request) {
  return request.psbt.unsigned_tx->outputs.back();
}

TEST(DecideSignTest, ValidRequestIsAllowedAndConsumesItsIntents) {
  const Built built = Build(Scenario{});
  const SignDecision decision = Decide(built);
  ASSERT_TRUE(decision.allowed()) << decision.refusal->code << ": " << decision.refusal->detail;

  const policy::Policy& policy = built.state.governance.active.policy();
  EXPECT_EQ(decision.policy_digest, policy.digest());
  EXPECT_EQ(decision.policy_sequence, 1u);
  ASSERT_TRUE(decision.transaction.has_value());
  EXPECT_EQ(decision.transaction->txid, built.request.psbt.unsigned_tx->ComputeTxid());
  EXPECT_EQ(decision.transaction->fee, Sats(kFee));
  ASSERT_EQ(decision.intents.size(), 2u);
  EXPECT_EQ(decision.intents[0],
            (policy::IntentDecision{.rule = "small withdrawals", .approvers = {}}));
  EXPECT_EQ(decision.intents[1],
            (policy::IntentDecision{.rule = "to the address book", .approvers = {"alice", "bob"}}));
  EXPECT_EQ(decision.change.consumed,
            (std::vector<policy::IntentId>{testing::TestIntentId(1), testing::TestIntentId(2)}));
  EXPECT_EQ(decision.change.spends,
            (std::vector<policy::Spend>{{.wallet = testing::kFixtureWalletId,
                                         .time = kFixtureNow,
                                         .amount = Sats(kSmallPay + kBookPay + kFee)}}));
  EXPECT_FALSE(decision.change.governance.has_value());
  EXPECT_FALSE(decision.change.freeze_added.has_value());
  EXPECT_FALSE(decision.change.freeze_lifted.has_value());

  // Once the change is applied, the same request is a replay of intent 0.
  SignerState after = built.state;
  ApplyChange(after, decision.change);
  EXPECT_EQ(after.consumed.size(), 2u);
  EXPECT_EQ(after.velocity.spends, decision.change.spends);
  const SignDecision again =
      DecideSign(TestContext(), built.config, after, built.request, std::nullopt, built.now);
  ASSERT_FALSE(again.allowed());
  EXPECT_EQ(again.refusal->code, kRefusalIntentReplayed);
  EXPECT_EQ(again.refusal->intent_index, 0u);
  EXPECT_TRUE(again.change.empty());
}

// The valid request's PSBT, signed by two of the three wallet keys, is a valid transaction for
// the script interpreter and for the `kinko tx verify` command.
TEST(DecideSignTest, AllowedTransactionSignedByTwoKeysVerifiesInProcessAndWithTheCli) {
  const crypto::Secp256k1Context& ctx = TestContext();
  const Built built = Build(Scenario{});
  const SignDecision decision = Decide(built);
  ASSERT_TRUE(decision.allowed()) << decision.refusal->detail;

  util::Result<btc::Psbt> psbt = testing::SignWithWalletKey(ctx, built.request.psbt, Wallet(), 0);
  ASSERT_TRUE(psbt.ok()) << psbt.status();
  psbt = testing::SignWithWalletKey(ctx, *std::move(psbt), Wallet(), 1);
  ASSERT_TRUE(psbt.ok()) << psbt.status();
  const std::vector<btc::TxOut> spent = testing::SpentOutputs(*psbt);
  util::Result<btc::Transaction> tx = testing::FinalizeAndVerify(ctx, *psbt);
  ASSERT_TRUE(tx.ok()) << tx.status();
  EXPECT_EQ(tx->ComputeTxid(), decision.transaction->txid);

  nlohmann::json prevouts = nlohmann::json::array();
  for (size_t i = 0; i < tx->inputs.size(); ++i) {
    prevouts.push_back({{"txid", btc::TxidToHex(tx->inputs[i].prevout.txid)},
                        {"vout", tx->inputs[i].prevout.index},
                        {"scriptPubKey", util::HexEncode(spent[i].script_pubkey.bytes())},
                        {"amount", spent[i].value}});
  }
  const std::string dir = ::testing::TempDir() + "/decide_test_cli_" + std::to_string(getpid());
  ASSERT_EQ(::mkdir(dir.c_str(), 0700), 0);
  const std::string prevouts_path = dir + "/prevouts.json";
  std::ofstream(prevouts_path) << prevouts.dump();
  const std::string tx_hex = util::HexEncode(tx->Serialize());

  const std::string command = std::string(KINKO_CLI_BINARY) + " tx verify " + tx_hex +
                              " --prevouts @" + prevouts_path + " 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char buffer[4096];
  for (size_t n; (n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0;) output.append(buffer, n);
  const int status = ::pclose(pipe);
  ASSERT_TRUE(WIFEXITED(status)) << output;
  EXPECT_EQ(WEXITSTATUS(status), 0) << output;
  const nlohmann::json answer = nlohmann::json::parse(output, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(answer.is_discarded()) << output;
  EXPECT_EQ(answer.value("valid", false), true) << output;

  // The same command refuses the transaction with one signature byte changed.
  btc::Transaction broken = *tx;
  std::vector<uint8_t>& signature = broken.inputs[0].witness.at(1);
  signature[10] ^= 0x01;
  const std::string broken_command = std::string(KINKO_CLI_BINARY) + " tx verify " +
                                     util::HexEncode(broken.Serialize()) + " --prevouts @" +
                                     prevouts_path + " >/dev/null 2>&1";
  const int broken_status = std::system(broken_command.c_str());
  ASSERT_TRUE(WIFEXITED(broken_status));
  EXPECT_EQ(WEXITSTATUS(broken_status), 1);
  std::filesystem::remove_all(dir);
}

// A head of `size` entries whose root is filled with `root_fill`, against a log of `log_size`
// entries whose root at `size` is filled with `log_root_fill` (absent when the log is shorter).
KnownHead KnownHeadOf(uint64_t size, uint8_t root_fill, uint64_t log_size,
                      std::optional<uint8_t> log_root_fill) {
  KnownHead head{.size = size, .root = {}, .log_size = log_size, .log_root = std::nullopt};
  head.root.fill(root_fill);
  if (log_root_fill.has_value()) {
    head.log_root.emplace();
    head.log_root->fill(*log_root_fill);
  }
  return head;
}

struct RefusalCase {
  std::string name;
  std::function<void(Scenario&)> change;
  std::string code;
  std::optional<size_t> intent_index;
  std::string rule;
  std::string limit;
};

const std::vector<RefusalCase>& RefusalCases() {
  using signerapi::SignRequest;
  static const std::vector<RefusalCase>* cases = new std::vector<RefusalCase>{
      // The signer's own codes.
      {"Frozen",
       [](Scenario& s) {
         s.edit_state = [](SignerState& state) {
           state.freezes.push_back(MakeFreeze(Actors().watcher, std::nullopt));
         };
       },
       "frozen", std::nullopt, "", ""},
      {"IntentReplayed",
       [](Scenario& s) {
         s.edit_state = [](SignerState& state) {
           state.consumed.insert(testing::TestIntentId(2));
         };
       },
       "intent_replayed", 1, "", ""},
      // The coordinator holds a head of size 57 signed by this signer.
      {"KnownHeadBeyondTheLog",
       [](Scenario& s) { s.known_head = KnownHeadOf(57, 0x57, 41, std::nullopt); },
       "state_rolled_back", std::nullopt, "", ""},
      {"KnownHeadRootDiffersFromTheLogs",
       [](Scenario& s) { s.known_head = KnownHeadOf(57, 0x57, 60, 0x99); },
       "state_rolled_back", std::nullopt, "", ""},
      // policy::Evaluate without the transaction's facts.
      {"UnknownRequester", [](Scenario& s) { s.options0.requester = &Actors().outsider; },
       "unknown_requester", 0, "", ""},
      {"IntentOnAnotherNetwork",
       [](Scenario& s) {
         s.edit_request = [](SignRequest& request, const policy::Digest&) {
           testing::IntentOptions options = {.network = btc::Network::kTestnet, .id_seed = 1};
           request.intents[0].intent = testing::MakeIntent(
               Actors(), {{ForeignAddress(1, btc::Network::kTestnet), kSmallPay}}, kFixtureNow,
               options);
         };
       },
       "wrong_network", 0, "", ""},
      {"IntentExpired", [](Scenario& s) { s.now = kFixtureNow + 3600; }, "intent_expired", 0, "",
       ""},
      {"IntentFromFuture",
       [](Scenario& s) { s.options0.created = kFixtureNow + policy::kMaxClockSkew + 1; },
       "intent_from_future", 0, "", ""},
      {"DuplicateIntent", [](Scenario& s) { s.options1.id_seed = 1; }, "duplicate_intent", 1, "",
       ""},
      {"ApprovalByUnknownKey",
       [](Scenario& s) {
         s.edit_request = [](SignRequest& request, const policy::Digest& digest) {
           request.intents[1].approvals.push_back(testing::Approve(
               Actors().outsider, request.intents[1].intent, digest, kFixtureNow));
         };
       },
       "invalid_approval", 1, "", ""},
      {"ApprovalForAnotherPolicy",
       [](Scenario& s) {
         s.edit_request = [](SignRequest& request, const policy::Digest&) {
           const policy::Digest other =
               testing::MakePolicy(Actors(), {.sequence = 9}).policy().digest();
           request.intents[1].approvals[1] = testing::Approve(
               Actors().approvers[1], request.intents[1].intent, other, kFixtureNow);
         };
       },
       "invalid_approval", 1, "", ""},
      {"NoMatchingRule",
       [](Scenario& s) {
         s.policy.final_deny = false;
         s.outputs0 = {{ForeignAddress(1), 110'000'000}};
       },
       "no_matching_rule", 0, "", ""},
      {"RuleDenies", [](Scenario& s) { s.outputs0 = {{ForeignAddress(1), 110'000'000}}; },
       "rule_denies", 0, "everything else", ""},
      {"ApprovalsMissing", [](Scenario& s) { s.approvers1 = {0}; }, "approvals_missing", 1,
       "to the address book", ""},
      {"ApprovalRejected",
       [](Scenario& s) {
         s.edit_request = [](SignRequest& request, const policy::Digest& digest) {
           request.intents[1].approvals.push_back(testing::Approve(
               Actors().approvers[2], request.intents[1].intent, digest, kFixtureNow, false));
         };
       },
       "approval_rejected", 1, "to the address book", ""},
      {"IntentMaxFeeAbovePolicy",
       [](Scenario& s) { s.options0.fee = {.max_fee = Sats(60'000), .max_rate_sat_per_kvb = {}}; },
       "fee_ceiling_exceeded", 0, "", "fee_max"},
      {"IntentMaxRateAbovePolicy",
       [](Scenario& s) {
         s.options0.fee = {.max_fee = std::nullopt, .max_rate_sat_per_kvb = 200'000};
       },
       "fee_ceiling_exceeded", 0, "", "fee_rate_max"},
      {"OutputsLimit",
       [](Scenario& s) {
         s.outputs0 = {{ForeignAddress(1), 10'000},
                       {ForeignAddress(2), 10'000},
                       {ForeignAddress(3), 10'000}};
       },
       "outputs_limit", std::nullopt, "", "outputs_max"},
      {"PerTransactionLimit", [](Scenario& s) { s.outputs1 = {{BookAddress(), 199'960'000}}; },
       "per_transaction_limit", std::nullopt, "", "per_transaction"},
      {"WindowLimit",
       [](Scenario& s) {
         s.edit_state = [](SignerState& state) {
           state.velocity.spends.push_back({.wallet = testing::kFixtureWalletId,
                                            .time = kFixtureNow - 3600,
                                            .amount = Sats(200'000'000)});
         };
       },
       "window_limit", std::nullopt, "", "window 1d"},
      // CheckTransaction.
      {"MalformedPsbt",
       [](Scenario& s) {
         s.edit_request = [](SignRequest& request, const policy::Digest&) {
           request.psbt.inputs.push_back({});
         };
       },
       "malformed_psbt", std::nullopt, "", ""},
      {"EmptyTransaction",
       [](Scenario& s) {
         s.edit_request = [](SignRequest& request, const policy::Digest&) {
           request.psbt.unsigned_tx->outputs.clear();
           request.psbt.outputs.clear();
         };
       },
       "empty_transaction", std::nullopt, "", ""},
      {"WrongWallet", [](Scenario& s) { s.wallet_id = "treasury-cold"; }, "wrong_wallet",
       std::nullopt, "", ""},
      {"WalletOnAnotherNetwork", [](Scenario& s) { s.wallet_network = btc::Network::kTestnet; },
       "wrong_network", std::nullopt, "", ""},
      {"DuplicateInput",
       [](Scenario& s) {
         s.edit_request = [](SignRequest& request, const policy::Digest&) {
           request.psbt.unsigned_tx->inputs.push_back(request.psbt.unsigned_tx->inputs[0]);
           request.psbt.inputs.push_back(request.psbt.inputs[0]);
         };
       },
       "duplicate_input", std::nullopt, "", ""},
      {"InputFinalized",
       [](Scenario& s) {
         s.edit_request = [](SignRequest& request, const policy::Digest&) {
           request.psbt.inputs[0].final_script_witness =
               std::vector<std::vector<uint8_t>>{{0x01}};
         };
       },
       "input_finalized", std::nullopt, "", ""},
      {"MissingPreviousTransaction",
       [](Scenario& s) {
         s.edit_request = [](SignRequest& request, const policy::Digest&) {
           request.psbt.inputs[0].non_witness_utxo.reset();
         };
       },
       "missing_previous_transaction", std::nullopt, "", ""},
      {"PreviousTransactionMismatch",
       [](Scenario& s) {
         s.edit_request = [](SignRequest& request, const policy::Digest&) {
           request.psbt.inputs[0].non_witness_utxo->lock_time = 1;
         };
       },
       "previous_transaction_mismatch", std::nullopt, "", ""},
      {"WitnessUtxoMismatch",
       [](Scenario& s) {
         s.edit_request = [](SignRequest& request, const policy::Digest&) {
           request.psbt.inputs[0].witness_utxo->value -= 1;
         };
       },
       "witness_utxo_mismatch", std::nullopt, "", ""},
      {"InputNotInWallet",
       [](Scenario& s) {
         // The coin pays someone else; its previous transaction, outpoint and witness UTXO
         // agree with each other.
         s.edit_request = [](SignRequest& request, const policy::Digest&) {
           btc::PsbtInput& input = request.psbt.inputs[0];
           btc::TxOut& coin = input.non_witness_utxo->outputs[0];
           coin.script_pubkey =
               btc::DecodeAddress(ForeignAddress(0xee), btc::Network::kRegtest)->script_pubkey;
           input.witness_utxo = coin;
           request.psbt.unsigned_tx->inputs[0].prevout.txid =
               input.non_witness_utxo->ComputeTxid();
         };
       },
       "input_not_in_wallet", std::nullopt, "", ""},
      {"UnsupportedSighash",
       [](Scenario& s) {
         s.edit_request = [](SignRequest& request, const policy::Digest&) {
           request.psbt.inputs[0].sighash_type = btc::kSighashNone;
         };
       },
       "unsupported_sighash", std::nullopt, "", ""},
      {"AmountOutOfRange",
       [](Scenario& s) {
         s.edit_request = [](SignRequest& request, const policy::Digest&) {
           ChangeOutputOf(request).value = -1;
         };
       },
       "amount_out_of_range", std::nullopt, "", ""},
      {"UnexpectedOutput",
       [](Scenario& s) {
         s.edit_request = [](SignRequest& request, const policy::Digest&) {
           ChangeOutputOf(request).value -= 1'000;
           request.psbt.unsigned_tx->outputs.push_back(
               {1'000,
                btc::DecodeAddress(ForeignAddress(0xee), btc::Network::kRegtest)->script_pubkey});
           request.psbt.outputs.push_back({});
         };
       },
       "unexpected_output", std::nullopt, "", ""},
      {"ChangeIndexOutOfBounds", [](Scenario& s) { s.change_index_max = kChangeIndex - 1; },
       "change_index_out_of_bounds", std::nullopt, "", ""},
      {"MissingIntentOutput",
       [](Scenario& s) {
         s.edit_request = [](SignRequest& request, const policy::Digest&) {
           request.psbt.unsigned_tx->outputs.erase(request.psbt.unsigned_tx->outputs.begin());
           request.psbt.outputs.erase(request.psbt.outputs.begin());
         };
       },
       "missing_intent_output", std::nullopt, "", ""},
      {"FeeNegative",
       [](Scenario& s) {
         s.edit_request = [](SignRequest& request, const policy::Digest&) {
           ChangeOutputOf(request).value += kFee + 1;
         };
       },
       "fee_negative", std::nullopt, "", ""},
      // 20000 sat is about 85 sat/vB: above the intents' 50, below the policy's 100.
      {"IntentFeeCeiling", [](Scenario& s) { s.psbt.fee_sats = 20'000; }, "intent_fee_ceiling",
       std::nullopt, "", ""},
      // policy::Evaluate with the transaction's facts: the intents cap only the rate, so the
      // policy's fee_max binds the transaction's fee only now.
      {"TransactionFeeAbovePolicyFeeMax",
       [](Scenario& s) { s.policy.fee_max = Sats(kFee - 1); }, "fee_ceiling_exceeded",
       std::nullopt, "", "fee_max"},
  };
  return *cases;
}

class DecideSignRefusalTest : public ::testing::TestWithParam<RefusalCase> {};

INSTANTIATE_TEST_SUITE_P(Cases, DecideSignRefusalTest, ::testing::ValuesIn(RefusalCases()),
                         [](const auto& param_info) { return param_info.param.name; });

TEST_P(DecideSignRefusalTest, RefusesWithTheExactCode) {
  const RefusalCase& c = GetParam();
  Scenario scenario;
  c.change(scenario);
  const Built built = Build(scenario);
  const SignDecision decision = Decide(built);
  ASSERT_FALSE(decision.allowed());
  EXPECT_EQ(decision.refusal->code, c.code) << decision.refusal->detail;
  EXPECT_EQ(decision.refusal->intent_index, c.intent_index) << decision.refusal->detail;
  EXPECT_EQ(decision.refusal->rule, c.rule);
  EXPECT_EQ(decision.refusal->limit, c.limit);
  EXPECT_FALSE(decision.refusal->detail.empty());
  EXPECT_LE(decision.refusal->detail.size(), 4096u);
  EXPECT_TRUE(policy::IsDisplaySafeText(decision.refusal->detail)) << decision.refusal->detail;
  EXPECT_TRUE(decision.change.empty());
  EXPECT_FALSE(decision.transaction.has_value());
  EXPECT_TRUE(decision.intents.empty());
  EXPECT_EQ(decision.policy_digest, built.state.governance.active.policy().digest());
}

// Every refusal code the signer can give through DecideSign appears in the table above.
TEST(DecideSignTest, TableCoversEveryReachableCode) {
  std::set<std::string> codes;
  for (const RefusalCase& c : RefusalCases()) codes.insert(c.code);
  EXPECT_TRUE(codes.contains(std::string(kRefusalFrozen)));
  EXPECT_TRUE(codes.contains(std::string(kRefusalIntentReplayed)));
  EXPECT_TRUE(codes.contains(std::string(kRefusalStateRolledBack)));
  for (int code = 0; code <= static_cast<int>(policy::RefusalCode::kWindowLimit); ++code) {
    const std::string name(policy::RefusalCodeName(static_cast<policy::RefusalCode>(code)));
    EXPECT_TRUE(codes.contains(name)) << name;
  }
  for (int code = 0; code <= static_cast<int>(TransactionRefusal::kIntentFeeCeiling); ++code) {
    const std::string name(TransactionRefusalName(static_cast<TransactionRefusal>(code)));
    EXPECT_TRUE(codes.contains(name)) << name;
  }
}

// The frozen refusal names the freeze (digest and reason); the replay names the intent's id.
TEST(DecideSignTest, FrozenAndReplayDetailsNameWhatDecided) {
  const signerapi::SignedFreeze freeze = MakeFreeze(Actors().watcher, std::nullopt);
  Scenario frozen;
  frozen.edit_state = [&](SignerState& state) { state.freezes.push_back(freeze); };
  const SignDecision decision = Decide(Build(frozen));
  ASSERT_FALSE(decision.allowed());
  EXPECT_NE(decision.refusal->detail.find(util::HexEncode(freeze.freeze().digest())),
            std::string::npos)
      << decision.refusal->detail;
  EXPECT_NE(decision.refusal->detail.find(freeze.freeze().fields().reason), std::string::npos);

  Scenario replayed;
  replayed.edit_state = [](SignerState& state) { state.consumed.insert(testing::TestIntentId(1)); };
  const SignDecision replay = Decide(Build(replayed));
  ASSERT_FALSE(replay.allowed());
  EXPECT_NE(replay.refusal->detail.find(util::HexEncode(testing::TestIntentId(1))),
            std::string::npos)
      << replay.refusal->detail;
}

// A frozen signer refuses even a replay, and a replay is reported before an invalid intent.
TEST(DecideSignTest, FrozenComesFirstThenReplay) {
  Scenario s;
  s.options0.requester = &Actors().outsider;  // unknown_requester, were it looked at
  s.edit_state = [](SignerState& state) { state.consumed.insert(testing::TestIntentId(1)); };
  EXPECT_EQ(Decide(Build(s)).refusal->code, kRefusalIntentReplayed);
  s.edit_state = [](SignerState& state) {
    state.consumed.insert(testing::TestIntentId(1));
    state.freezes.push_back(MakeFreeze(Actors().watcher, std::nullopt));
  };
  EXPECT_EQ(Decide(Build(s)).refusal->code, kRefusalFrozen);
}

// A head the log extends (the same size and root, or a smaller size whose root the log had) is
// no reason to refuse; a head the log does not extend is named in the detail with both sizes.
TEST(DecideSignTest, KnownHeadTheLogExtendsIsAllowedAndARolledBackLogIsNamed) {
  struct Case {
    std::string name;
    KnownHead head;
    bool allowed;
    std::string detail;
  };
  const std::string root57 = util::HexEncode(KnownHeadOf(57, 0x57, 0, std::nullopt).root);
  const std::vector<Case> cases = {
      {"the current head", KnownHeadOf(57, 0x57, 57, 0x57), true, ""},
      {"an earlier head", KnownHeadOf(57, 0x57, 90, 0x57), true, ""},
      {"the empty head", KnownHeadOf(0, 0x57, 90, 0x57), true, ""},
      {"a head beyond the log", KnownHeadOf(57, 0x57, 41, std::nullopt), false,
       "the coordinator holds head 57 (root " + root57 +
           ") signed by this signer; this signer's log has 41 entries: its state was restored "
           "from an older copy"},
      {"another root at the same size", KnownHeadOf(57, 0x57, 57, 0x99), false,
       "this signer's log has 57 entries and its root at size 57 is " +
           util::HexEncode(KnownHeadOf(0, 0x99, 0, std::nullopt).root) +
           ": its state was restored from an older copy"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Scenario s;
    s.known_head = c.head;
    const SignDecision decision = Decide(Build(s));
    EXPECT_EQ(decision.allowed(), c.allowed);
    if (c.allowed) continue;
    ASSERT_TRUE(decision.refusal.has_value());
    EXPECT_EQ(decision.refusal->code, kRefusalStateRolledBack);
    EXPECT_NE(decision.refusal->detail.find(c.detail), std::string::npos)
        << decision.refusal->detail;
  }
}

// The order: frozen, then a rolled-back state, then a replay.
TEST(DecideSignTest, RolledBackComesAfterFrozenAndBeforeReplay) {
  Scenario s;
  s.known_head = KnownHeadOf(57, 0x57, 41, std::nullopt);
  s.edit_state = [](SignerState& state) { state.consumed.insert(testing::TestIntentId(1)); };
  EXPECT_EQ(Decide(Build(s)).refusal->code, kRefusalStateRolledBack);
  s.edit_state = [](SignerState& state) {
    state.consumed.insert(testing::TestIntentId(1));
    state.freezes.push_back(MakeFreeze(Actors().watcher, std::nullopt));
  };
  EXPECT_EQ(Decide(Build(s)).refusal->code, kRefusalFrozen);
}

// A loosening policy (small withdrawals up to 2 BTC) accepted at kFixtureNow takes effect one
// activation delay later, to the second: not used before, used (and its promotion carried in
// the change) from then on.
TEST(DecideSignTest, PendingPolicyDecidesFromItsSecondAndTheChangeCarriesThePromotion) {
  const testing::Actors& actors = Actors();
  const testing::PolicyOptions first_options = {.activation_delay = 86400};
  const policy::SignedPolicy first = testing::MakePolicy(actors, first_options);
  const policy::SignedPolicy second =
      testing::MakePolicy(actors, {.activation_delay = 86400,
                                   .sequence = 2,
                                   .predecessor = first.policy().digest(),
                                   .small_max = Sats(200'000'000)});
  SignerState state =
      testing::MakeSignerState(testing::InstallPolicy(actors, first, kFixtureNow - 1000));
  util::Result<policy::Acceptance> accepted =
      policy::Propose(state.governance, second, kFixtureNow);
  ASSERT_TRUE(accepted.ok()) << accepted.status();
  ASSERT_FALSE(accepted->immediate);
  state.governance = accepted->state;
  const uint64_t from = kFixtureNow + 86400;
  ASSERT_EQ(state.governance.pending_from, from);

  const crypto::Secp256k1Context& ctx = TestContext();
  const SignerConfig config =
      testing::MakeSignerConfig(actors, testing::MakeWalletConfig(ctx, Wallet().descriptor));
  const policy::SignedIntent intent =
      testing::MakeIntent(actors, {{ForeignAddress(1), 150'000'000}}, from - 60, {.id_seed = 7});
  signerapi::SignRequest request;
  request.psbt = testing::BuildPsbt(ctx, config.wallet, {intent});
  request.intents = {{intent, {}}};

  const SignDecision before = DecideSign(ctx, config, state, request, std::nullopt, from - 1);
  ASSERT_FALSE(before.allowed());
  EXPECT_EQ(before.refusal->code, "rule_denies");
  EXPECT_EQ(before.refusal->rule, "everything else");
  EXPECT_EQ(before.policy_sequence, 1u);
  EXPECT_EQ(before.policy_digest, first.policy().digest());
  EXPECT_TRUE(before.change.empty());

  const SignDecision at = DecideSign(ctx, config, state, request, std::nullopt, from);
  ASSERT_TRUE(at.allowed()) << at.refusal->detail;
  EXPECT_EQ(at.policy_sequence, 2u);
  EXPECT_EQ(at.policy_digest, second.policy().digest());
  EXPECT_EQ(at.intents[0].rule, "small withdrawals");
  ASSERT_TRUE(at.change.governance.has_value());
  EXPECT_EQ(at.change.governance->active, second);
  EXPECT_EQ(at.change.governance->active_since, from);
  EXPECT_FALSE(at.change.governance->pending.has_value());

  SignerState after = state;
  ApplyChange(after, at.change);
  EXPECT_EQ(after.governance.active, second);
  EXPECT_FALSE(after.governance.pending.has_value());
}

// A request without intents is refused, not passed to Evaluate (which requires one).
TEST(DecideSignTest, RequestWithoutIntentsIsRefused) {
  Built built = Build(Scenario{});
  built.request.intents.clear();
  const SignDecision decision = Decide(built);
  ASSERT_FALSE(decision.allowed());
  EXPECT_EQ(decision.refusal->code, "empty_transaction");
}

// ---------------------------------------------------------------------------------------------
// DecideFreeze and DecideUnfreeze.

struct FreezeFixture {
  SignerConfig config = testing::MakeSignerConfig(
      Actors(), testing::MakeWalletConfig(TestContext(), Wallet().descriptor));
  SignerState state = testing::MakeSignerState(
      testing::InstallPolicy(Actors(), testing::MakePolicy(Actors()), kFixtureNow - 1000));
};

TEST(DecideFreezeTest, WatcherAndAdminsMayFreezeOthersMayNot) {
  FreezeFixture f;
  const policy::KeyId self = testing::IdOf(Actors().signer);
  const policy::KeyId other = testing::IdOf(Actors().outsider);
  struct Case {
    std::string name;
    const crypto::Ed25519PrivateKey* key;
    std::optional<policy::KeyId> scope;
    std::optional<util::StatusCode> error;
    std::string_view code;
  };
  const std::vector<Case> cases = {
      {"watcher, every signer", &Actors().watcher, std::nullopt, std::nullopt, ""},
      {"watcher, this signer", &Actors().watcher, self, std::nullopt, ""},
      {"admin-3", &Actors().admins[2], std::nullopt, std::nullopt, ""},
      {"approver", &Actors().approvers[0], std::nullopt, util::StatusCode::kPermissionDenied,
       kFreezeNotAuthorized},
      {"unknown key", &Actors().outsider, std::nullopt, util::StatusCode::kPermissionDenied,
       kFreezeNotAuthorized},
      {"another signer", &Actors().watcher, other, util::StatusCode::kFailedPrecondition,
       kFreezeWrongSigner},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const signerapi::SignedFreeze freeze = MakeFreeze(*c.key, c.scope);
    const ChangeDecision decision = DecideFreeze(f.config, f.state, freeze, kFixtureNow);
    if (c.error) {
      ASSERT_FALSE(decision.accepted());
      EXPECT_EQ(decision.refusal->code, c.code);
      EXPECT_EQ(decision.refusal->status.code(), *c.error) << decision.refusal->status;
      EXPECT_TRUE(decision.change.empty());
      continue;
    }
    ASSERT_TRUE(decision.accepted()) << decision.refusal->status;
    EXPECT_EQ(decision.change.freeze_added, freeze);
    EXPECT_FALSE(decision.change.freeze_lifted.has_value());
    EXPECT_TRUE(decision.change.consumed.empty());
  }
}

TEST(DecideFreezeTest, SameFreezeTwiceChangesNothingAndLiftedFreezeIsNotReplayed) {
  FreezeFixture f;
  const signerapi::SignedFreeze freeze = MakeFreeze(Actors().watcher, std::nullopt);
  const ChangeDecision first = DecideFreeze(f.config, f.state, freeze, kFixtureNow);
  ASSERT_TRUE(first.accepted()) << first.refusal->status;
  ApplyChange(f.state, first.change);
  ASSERT_TRUE(f.state.frozen());

  const ChangeDecision again = DecideFreeze(f.config, f.state, freeze, kFixtureNow + 1);
  ASSERT_TRUE(again.accepted()) << again.refusal->status;
  EXPECT_TRUE(again.change.empty());

  // Another freeze (another nonce) is a second freeze in force.
  const ChangeDecision second =
      DecideFreeze(f.config, f.state, MakeFreeze(Actors().admins[0], std::nullopt, 9), kFixtureNow);
  ASSERT_TRUE(second.accepted()) << second.refusal->status;
  EXPECT_TRUE(second.change.freeze_added.has_value());

  const ChangeDecision lift =
      DecideUnfreeze(f.config, f.state,
                     MakeUnfreeze({&Actors().admins[0], &Actors().admins[1]},
                                  freeze.freeze().digest(), std::nullopt),
                     kFixtureNow + 60);
  ASSERT_TRUE(lift.accepted()) << lift.refusal->status;
  ApplyChange(f.state, lift.change);
  EXPECT_FALSE(f.state.frozen());
  EXPECT_TRUE(f.state.lifted_freezes.contains(freeze.freeze().digest()));

  const ChangeDecision replayed = DecideFreeze(f.config, f.state, freeze, kFixtureNow + 120);
  ASSERT_FALSE(replayed.accepted());
  EXPECT_EQ(replayed.refusal->code, kFreezeReplayed);
  EXPECT_EQ(replayed.refusal->status.code(), util::StatusCode::kFailedPrecondition);
  EXPECT_NE(replayed.refusal->status.message().find("lifted before"), std::string::npos)
      << replayed.refusal->status;
  EXPECT_TRUE(replayed.change.empty());
}

TEST(DecideUnfreezeTest, NeedsTheThresholdOfAdminsInForceAndTheFreezeInForce) {
  FreezeFixture f;
  const signerapi::SignedFreeze freeze = MakeFreeze(Actors().watcher, std::nullopt);
  ApplyChange(f.state, DecideFreeze(f.config, f.state, freeze, kFixtureNow).change);
  const policy::Digest digest = freeze.freeze().digest();
  const testing::Actors& a = Actors();
  const policy::KeyId self = testing::IdOf(a.signer);
  struct Case {
    std::string name;
    std::vector<const crypto::Ed25519PrivateKey*> keys;
    policy::Digest freeze_digest;
    std::optional<policy::KeyId> scope;
    std::optional<util::StatusCode> error;
    std::string_view code;
    std::string message;
  };
  policy::Digest unknown = digest;
  unknown[0] ^= 0x01;
  const std::vector<Case> cases = {
      {"two admins", {&a.admins[0], &a.admins[1]}, digest, std::nullopt, std::nullopt, "", ""},
      {"three admins",
       {&a.admins[0], &a.admins[1], &a.admins[2]},
       digest,
       std::nullopt,
       std::nullopt,
       "",
       ""},
      {"one admin and others",
       {&a.admins[2], &a.watcher, &a.outsider, &a.approvers[0]},
       digest,
       std::nullopt,
       util::StatusCode::kPermissionDenied,
       kUnfreezeNotAuthorized,
       "unfreeze has 1 of the 2 admin signatures it needs (signed by: admin-3)"},
      {"no admin",
       {&a.watcher},
       digest,
       std::nullopt,
       util::StatusCode::kPermissionDenied,
       kUnfreezeNotAuthorized,
       "unfreeze has 0 of the 2 admin signatures it needs (signed by: none)"},
      {"unknown freeze",
       {&a.admins[0], &a.admins[1]},
       unknown,
       std::nullopt,
       util::StatusCode::kFailedPrecondition,
       kUnfreezeUnknownFreeze,
       "which is not in force"},
      {"other scope",
       {&a.admins[0], &a.admins[1]},
       digest,
       self,
       util::StatusCode::kFailedPrecondition,
       kUnfreezeScopeMismatch,
       "unfreeze scope differs from the freeze's"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const ChangeDecision decision = DecideUnfreeze(
        f.config, f.state, MakeUnfreeze(c.keys, c.freeze_digest, c.scope), kFixtureNow + 60);
    if (c.error) {
      ASSERT_FALSE(decision.accepted());
      EXPECT_EQ(decision.refusal->code, c.code);
      EXPECT_EQ(decision.refusal->status.code(), *c.error) << decision.refusal->status;
      EXPECT_NE(decision.refusal->status.message().find(c.message), std::string::npos)
          << decision.refusal->status;
      EXPECT_TRUE(decision.change.empty());
      continue;
    }
    ASSERT_TRUE(decision.accepted()) << decision.refusal->status;
    EXPECT_EQ(decision.change.freeze_lifted, digest);
    EXPECT_FALSE(decision.change.freeze_added.has_value());
  }

  // Applied, the same unfreeze is a replay: its freeze is no longer in force.
  const signerapi::SignedUnfreeze unfreeze =
      MakeUnfreeze({&a.admins[0], &a.admins[1]}, digest, std::nullopt);
  ApplyChange(f.state, DecideUnfreeze(f.config, f.state, unfreeze, kFixtureNow + 60).change);
  const ChangeDecision replay = DecideUnfreeze(f.config, f.state, unfreeze, kFixtureNow + 120);
  ASSERT_FALSE(replay.accepted());
  EXPECT_EQ(replay.refusal->code, kUnfreezeUnknownFreeze);
  EXPECT_EQ(replay.refusal->status.code(), util::StatusCode::kFailedPrecondition);
}

// The codes are stored in audit logs and matched by clients and monitors: pinned here.
TEST(DecideTest, RefusalCodesAreStable) {
  const std::vector<std::pair<std::string_view, std::string_view>> codes = {
      {kRefusalFrozen, "frozen"},
      {kRefusalIntentReplayed, "intent_replayed"},
      {kRefusalStateRolledBack, "state_rolled_back"},
      {kRefusalInvalidSignature, "invalid_signature"},
      {kPolicyNotAuthorized, "policy_not_authorized"},
      {kPolicyWrongNetwork, "policy_wrong_network"},
      {kPolicyStaleSequence, "policy_stale_sequence"},
      {kPolicyWrongPredecessor, "policy_wrong_predecessor"},
      {kPolicyAlreadyKnown, "policy_already_known"},
      {kFreezeNotAuthorized, "freeze_not_authorized"},
      {kFreezeWrongSigner, "freeze_wrong_signer"},
      {kFreezeReplayed, "freeze_replayed"},
      {kUnfreezeNotAuthorized, "unfreeze_not_authorized"},
      {kUnfreezeUnknownFreeze, "unfreeze_unknown_freeze"},
      {kUnfreezeScopeMismatch, "unfreeze_scope_mismatch"},
  };
  for (const auto& [constant, pinned] : codes) EXPECT_EQ(constant, pinned);
}

// ---------------------------------------------------------------------------------------------
// DecidePolicy.

TEST(DecidePolicyTest, AcceptsProposalsAndRefusesTheSamePolicyAgain) {
  const testing::Actors& a = Actors();
  FreezeFixture f;
  const policy::SignedPolicy& first = f.state.governance.active;
  const policy::Digest first_digest = first.policy().digest();

  // The policy in force, even with other signatures, is refused as such.
  const policy::SignedPolicy first_resigned = testing::MakePolicy(a, {.signed_by = {1, 2}});
  ASSERT_EQ(first_resigned.policy().digest(), first_digest);
  const PolicyDecision same = DecidePolicy(f.config, f.state, first_resigned, kFixtureNow);
  ASSERT_FALSE(same.accepted());
  EXPECT_EQ(same.refusal->code, kPolicyAlreadyKnown);
  EXPECT_EQ(same.refusal->status.code(), util::StatusCode::kAlreadyExists);
  EXPECT_NE(same.refusal->status.message().find("already in force"), std::string::npos);
  EXPECT_FALSE(same.acceptance.has_value());
  EXPECT_TRUE(same.change.empty());

  // A loosening (a new address-book entry) becomes pending; proposed again, it is refused.
  const policy::SignedPolicy loosening =
      testing::MakePolicy(a, {.address_book = {{.label = "cold", .address = BookAddress()}},
                              .sequence = 2,
                              .predecessor = first_digest});
  const PolicyDecision pending = DecidePolicy(f.config, f.state, loosening, kFixtureNow);
  ASSERT_TRUE(pending.accepted()) << pending.refusal->status;
  ASSERT_TRUE(pending.acceptance.has_value());
  EXPECT_FALSE(pending.acceptance->immediate);
  ASSERT_TRUE(pending.change.governance.has_value());
  EXPECT_EQ(pending.change.governance->pending, loosening);
  EXPECT_EQ(pending.change.governance->pending_from, kFixtureNow + 86400);
  ApplyChange(f.state, pending.change);
  const PolicyDecision again = DecidePolicy(f.config, f.state, loosening, kFixtureNow + 1);
  ASSERT_FALSE(again.accepted());
  EXPECT_EQ(again.refusal->code, kPolicyAlreadyKnown);
  EXPECT_EQ(again.refusal->status.code(), util::StatusCode::kAlreadyExists);
  EXPECT_NE(again.refusal->status.message().find("already pending"), std::string::npos);
  // Once its time has come it is the policy in force.
  const PolicyDecision later = DecidePolicy(f.config, f.state, loosening, kFixtureNow + 86400);
  ASSERT_FALSE(later.accepted());
  EXPECT_EQ(later.refusal->code, kPolicyAlreadyKnown);
  EXPECT_NE(later.refusal->status.message().find("already in force"), std::string::npos);

  // A tightening (a per-transaction limit) over the pending one takes effect at once.
  const policy::SignedPolicy tightening =
      testing::MakePolicy(a, {.per_transaction = Sats(100'000),
                              .sequence = 3,
                              .predecessor = loosening.policy().digest()});
  const PolicyDecision immediate = DecidePolicy(f.config, f.state, tightening, kFixtureNow + 2);
  ASSERT_TRUE(immediate.accepted()) << immediate.refusal->status;
  EXPECT_TRUE(immediate.acceptance->immediate);
  EXPECT_EQ(immediate.change.governance->active, tightening);
}

// Each of Propose's refusals, starting from a valid successor and changing one thing, has its
// own code and Propose's status unchanged.
TEST(DecidePolicyTest, NamesEachProposeRefusalWithItsCode) {
  const testing::Actors& a = Actors();
  FreezeFixture f;
  const policy::Digest first_digest = f.state.governance.active.policy().digest();
  const testing::PolicyOptions valid = {.sequence = 2, .predecessor = first_digest};
  ASSERT_TRUE(
      DecidePolicy(f.config, f.state, testing::MakePolicy(a, valid), kFixtureNow).accepted());
  const auto with = [&](const std::function<void(testing::PolicyOptions&)>& change) {
    testing::PolicyOptions options = valid;
    change(options);
    return testing::MakePolicy(a, options);
  };
  // The valid successor for another network, signed by the same admins.
  policy::PolicyFields testnet = testing::MakePolicy(a, valid).policy().fields();
  testnet.network = btc::Network::kTestnet;
  policy::SignedPolicy on_testnet =
      policy::SignedPolicy::Unsigned(policy::Policy::Create(std::move(testnet)).value());
  for (size_t admin : {0, 1}) on_testnet = on_testnet.AddSignature(a.admins[admin]).value();
  struct Case {
    std::string name;
    policy::SignedPolicy next;
    std::string_view code;
    util::StatusCode status;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"one admin signature", with([](testing::PolicyOptions& o) { o.signed_by = {0}; }),
       kPolicyNotAuthorized, util::StatusCode::kPermissionDenied,
       "policy has 1 of the 2 admin signatures"},
      {"another network", on_testnet, kPolicyWrongNetwork, util::StatusCode::kFailedPrecondition,
       "policy network test"},
      {"stale sequence", with([](testing::PolicyOptions& o) {
         o.sequence = 1;
         o.activation_delay = 3600;
       }),
       kPolicyStaleSequence, util::StatusCode::kFailedPrecondition, "stale sequence"},
      {"other predecessor", with([](testing::PolicyOptions& o) { o.predecessor.reset(); }),
       kPolicyWrongPredecessor, util::StatusCode::kFailedPrecondition, "predecessor"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const PolicyDecision decision = DecidePolicy(f.config, f.state, c.next, kFixtureNow);
    ASSERT_FALSE(decision.accepted());
    EXPECT_EQ(decision.refusal->code, c.code);
    EXPECT_EQ(decision.refusal->status.code(), c.status) << decision.refusal->status;
    EXPECT_NE(decision.refusal->status.message().find(c.message), std::string::npos)
        << decision.refusal->status;
    EXPECT_FALSE(decision.acceptance.has_value());
    EXPECT_TRUE(decision.change.empty());
  }
}

}  // namespace
}  // namespace kinko::signer
