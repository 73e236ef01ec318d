// Deterministic actors, policies, intents, approvals, wallets and PSBTs for the tests and
// benchmarks of the signer (signer/, signerd/, bench/). TEST CODE ONLY: every key here is
// derived from a one-byte seed that anyone can read, so NEVER use them for real funds.
//
// The pieces fit together: MakeActors() gives the identity keys; MakePolicy() a regtest policy
// for wallet kFixtureWalletId signed by two of the three admins; MakeIntent() and Approve() the
// signed intents and approvals the policy decides on; TestWallet (or any public multipath
// descriptor) a signer::WalletConfig; BuildPsbt() the PSBT a coordinator would send for the
// intents; SignWithWalletKey() and FinalizeAndVerify() the cosigners and the network.
//
// Failures of the library calls made here are programmer errors in a test: the functions abort
// (Result::value()) rather than return them, except SignWithWalletKey and FinalizeAndVerify,
// whose failures a test may want to look at. A test that needs a failing Create or Parse calls
// it directly.
//
// Thread-safe: pure functions; TestContext() is created once (thread-safe static).
#ifndef KINKO_TEST_SUPPORT_SIGNER_FIXTURE_H_
#define KINKO_TEST_SUPPORT_SIGNER_FIXTURE_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "btc/address.h"
#include "btc/amount.h"
#include "btc/bip32.h"
#include "btc/descriptor.h"
#include "btc/interpreter.h"
#include "btc/psbt.h"
#include "btc/psbt_roles.h"
#include "btc/psbt_sign.h"
#include "btc/standard.h"
#include "btc/transaction.h"
#include "crypto/ed25519.h"
#include "crypto/hash.h"
#include "crypto/rng.h"
#include "crypto/secp256k1.h"
#include "crypto/secret.h"
#include "policy/approval.h"
#include "policy/governance.h"
#include "policy/identity.h"
#include "policy/intent.h"
#include "policy/policy.h"
#include "signer/decide.h"
#include "signer/transaction_check.h"
#include "util/result.h"
#include "util/status.h"

namespace kinko::testing {

inline constexpr char kFixtureWalletId[] = "treasury-hot";
inline constexpr btc::Network kFixtureNetwork = btc::Network::kRegtest;
// 2026-01-01T00:00:00Z: a time for tests that need one.
inline constexpr uint64_t kFixtureNow = 1767225600;
// Index bounds of MakeWalletConfig on both branches.
inline constexpr uint32_t kFixtureIndexMax = 1000;

// A randomized secp256k1 context shared by the tests of one binary.
inline const crypto::Secp256k1Context& TestContext() {
  static crypto::SystemRng rng;
  static const crypto::Secp256k1Context ctx = crypto::Secp256k1Context::Create(rng);
  return ctx;
}

inline btc::Amount Sats(int64_t sats) { return btc::Amount::FromSats(sats).value(); }

// The Ed25519 key whose RFC 8032 seed is `seed` repeated 32 times.
inline crypto::Ed25519PrivateKey TestIdentityKey(uint8_t seed) {
  const std::vector<uint8_t> bytes(32, seed);
  return crypto::Ed25519PrivateKey::FromSeed(crypto::SecretBytes::FromSpan(bytes)).value();
}

inline policy::KeyId IdOf(const crypto::Ed25519PrivateKey& key) {
  return policy::Ed25519KeyId(key.public_key());
}

// The people and systems of the fixture, with the seeds of their identity keys. The seeds of
// admins, approvers and requester are those of doc/examples/policy.toml.
// Movable, not copyable (keys are not copyable).
struct Actors {
  std::vector<crypto::Ed25519PrivateKey> admins;     // admin-1..3: 0x21, 0x22, 0x23.
  crypto::Ed25519PrivateKey requester;               // ops-bot: 0x29.
  std::vector<crypto::Ed25519PrivateKey> approvers;  // alice, bob, carol (treasury): 0x24..0x26.
  crypto::Ed25519PrivateKey watcher;                 // A registered watcher: 0x2a.
  crypto::Ed25519PrivateKey outsider;                // A key nobody registered: 0x2b.
  crypto::Ed25519PrivateKey signer;                  // The signer's identity key: 0x2c.
};

inline Actors MakeActors() {
  std::vector<crypto::Ed25519PrivateKey> admins;
  for (uint8_t seed : {0x21, 0x22, 0x23}) admins.push_back(TestIdentityKey(seed));
  std::vector<crypto::Ed25519PrivateKey> approvers;
  for (uint8_t seed : {0x24, 0x25, 0x26}) approvers.push_back(TestIdentityKey(seed));
  return Actors{.admins = std::move(admins),
                .requester = TestIdentityKey(0x29),
                .approvers = std::move(approvers),
                .watcher = TestIdentityKey(0x2a),
                .outsider = TestIdentityKey(0x2b),
                .signer = TestIdentityKey(0x2c)};
}

// Labels of Actors::approvers, in order, as the policy names them.
inline const std::vector<std::string>& ApproverLabels() {
  static const std::vector<std::string>* labels =
      new std::vector<std::string>{"alice", "bob", "carol"};
  return *labels;
}

// What MakePolicy may vary. The defaults give the plain fixture policy.
struct PolicyOptions {
  std::vector<policy::AddressBookEntry> address_book = {};  // (label, address) in authored order.
  std::optional<btc::Amount> per_transaction = std::nullopt;
  std::optional<btc::Amount> window_24h = std::nullopt;  // A 24-hour window limit, when set.
  std::optional<btc::Amount> fee_max = std::nullopt;
  std::optional<uint64_t> fee_rate_max_sat_per_kvb = std::nullopt;
  std::optional<uint32_t> outputs_max = std::nullopt;
  uint64_t activation_delay = 86400;
  uint64_t sequence = 1;
  std::optional<policy::Digest> predecessor = std::nullopt;
  // The amount_max of rule "small withdrawals".
  btc::Amount small_max = Sats(100'000'000);
  // Whether the last rule "everything else" denies (without it an intent that no rule matches
  // is refused with no_matching_rule).
  bool final_deny = true;
  // Indexes into Actors::admins of the admins that sign.
  std::vector<size_t> signed_by = {0, 1};
};

// The fixture policy for wallet kFixtureWalletId on regtest: admins admin-1..3 (threshold 2),
// keys of the approvers and ops-bot, group treasury = {alice, bob, carol}, and the rules
//   "small withdrawals"     any destination, amount <= options.small_max, no approvals;
//   "to the address book"   address-book destinations, 2 of treasury;
//   "everything else"       deny (unless !options.final_deny);
// signed by the admins options.signed_by names.
inline policy::SignedPolicy MakePolicy(const Actors& actors, const PolicyOptions& options = {}) {
  policy::PolicyFields f;
  f.network = kFixtureNetwork;
  f.sequence = options.sequence;
  f.activation_delay = options.activation_delay;
  f.predecessor = options.predecessor;
  f.governance = {.admins = {"admin-1", "admin-2", "admin-3"}, .threshold = 2};
  for (size_t i = 0; i < actors.admins.size(); ++i) {
    f.keys.push_back({"admin-" + std::to_string(i + 1), IdOf(actors.admins[i])});
  }
  for (size_t i = 0; i < actors.approvers.size(); ++i) {
    f.keys.push_back({ApproverLabels()[i], IdOf(actors.approvers[i])});
  }
  f.keys.push_back({"ops-bot", IdOf(actors.requester)});
  f.groups = {{.name = "treasury", .members = ApproverLabels()}};
  f.address_book = options.address_book;
  f.limits.per_transaction = options.per_transaction;
  if (options.window_24h)
    f.limits.windows.push_back({.duration = 86400, .max = *options.window_24h});
  f.limits.fee_max = options.fee_max;
  f.limits.fee_rate_max_sat_per_kvb = options.fee_rate_max_sat_per_kvb;
  f.limits.outputs_max = options.outputs_max;

  policy::Rule small;
  small.name = "small withdrawals";
  small.wallets = {kFixtureWalletId};
  small.amount_max = options.small_max;
  f.rules.push_back(small);
  policy::Rule book;
  book.name = "to the address book";
  book.wallets = {kFixtureWalletId};
  book.destination.kind = policy::DestinationKind::kAddressBook;
  book.approvals = {{.group = "treasury", .threshold = 2}};
  f.rules.push_back(book);
  if (options.final_deny) {
    policy::Rule deny;
    deny.name = "everything else";
    deny.action = policy::RuleAction::kDeny;
    f.rules.push_back(deny);
  }

  policy::SignedPolicy signed_policy =
      policy::SignedPolicy::Unsigned(policy::Policy::Create(std::move(f)).value());
  for (size_t admin : options.signed_by) {
    signed_policy = signed_policy.AddSignature(actors.admins.at(admin)).value();
  }
  return signed_policy;
}

// The governance state of a signer that installed `policy` at `now` with the fixture's admins.
inline policy::GovernanceState InstallPolicy(const Actors& actors, policy::SignedPolicy policy,
                                             uint64_t now) {
  std::vector<policy::KeyId> admins;
  for (const crypto::Ed25519PrivateKey& admin : actors.admins) admins.push_back(IdOf(admin));
  std::sort(admins.begin(), admins.end());
  return policy::Install(std::move(policy), admins, 2, now).value();
}

// A signer's state with `governance` and nothing else: not frozen, nothing consumed or spent.
inline signer::SignerState MakeSignerState(policy::GovernanceState governance) {
  return signer::SignerState{.governance = std::move(governance),
                             .consumed = {},
                             .velocity = {},
                             .freezes = {},
                             .lifted_freezes = {}};
}

// One output of an intent: an address on the intent's network and an amount in satoshi.
struct OutputSpec {
  std::string address;
  int64_t sats = 0;
};

// A P2WPKH address outside any wallet (the hash of `tag`), on `network`.
inline std::string ForeignAddress(uint8_t tag, btc::Network network = kFixtureNetwork) {
  const std::vector<uint8_t> data = {tag};
  return btc::EncodeAddress(btc::P2wpkhScript(crypto::Hash160(data)), network).value();
}

struct IntentOptions {
  std::string wallet = kFixtureWalletId;
  btc::Network network = kFixtureNetwork;
  policy::FeeCeiling fee = {.max_fee = Sats(10'000), .max_rate_sat_per_kvb = std::nullopt};
  uint64_t lifetime = 3600;                        // expires = created + lifetime.
  std::optional<uint64_t> created = std::nullopt;  // Default: `now`.
  // The intent id is the first 16 bytes of SHA-256("kinko test intent " + id_seed).
  uint64_t id_seed = 1;
  // The requester's key; default: actors.requester.
  const crypto::Ed25519PrivateKey* requester = nullptr;
};

inline policy::IntentId TestIntentId(uint64_t seed) {
  const std::string text = "kinko test intent " + std::to_string(seed);
  const crypto::Hash256Bytes hash =
      crypto::Sha256({reinterpret_cast<const uint8_t*>(text.data()), text.size()});
  policy::IntentId id{};
  std::copy_n(hash.begin(), id.size(), id.begin());
  return id;
}

// An intent paying `outputs`, created at `now` (or options.created), signed by the requester.
inline policy::SignedIntent MakeIntent(const Actors& actors, const std::vector<OutputSpec>& outputs,
                                       uint64_t now, const IntentOptions& options = {}) {
  policy::IntentFields f;
  f.id = TestIntentId(options.id_seed);
  f.wallet = options.wallet;
  f.network = options.network;
  for (const OutputSpec& out : outputs) f.outputs.push_back({out.address, Sats(out.sats)});
  f.fee = options.fee;
  const crypto::Ed25519PrivateKey& requester =
      options.requester != nullptr ? *options.requester : actors.requester;
  f.requester = IdOf(requester);
  f.created = options.created.value_or(now);
  f.expires = f.created + options.lifetime;
  return policy::SignedIntent::Sign(policy::Intent::Create(std::move(f)).value(), requester)
      .value();
}

// `key`'s approval (or rejection) of `intent` under the policy `policy_digest`, made at `now`.
inline policy::SignedApproval Approve(const crypto::Ed25519PrivateKey& key,
                                      const policy::SignedIntent& intent,
                                      const policy::Digest& policy_digest, uint64_t now,
                                      bool approve = true) {
  policy::ApprovalFields f;
  f.intent_digest = intent.intent().digest();
  f.policy_digest = policy_digest;
  f.approver = IdOf(key);
  f.decision = approve ? policy::Decision::kApprove : policy::Decision::kReject;
  f.time = now;
  return policy::SignedApproval::Sign(policy::Approval::Create(f).value(), key).value();
}

// A 2-of-3 P2WSH wallet on regtest: three account keys at m/48'/1'/0'/2' of the masters whose
// BIP32 seeds are 0xa1, 0xb2 and 0xc3 repeated 32 times, and its public descriptor
// "wsh(multi(2,[fp/48'/1'/0'/2']tpub.../<0;1>/*,...))". Movable, not copyable.
struct TestWallet {
  std::vector<btc::ExtendedKey> accounts;  // tprv account keys, in descriptor order.
  std::vector<btc::KeyOrigin> origins;     // Their origins (master fingerprint, path).
  std::string descriptor;                  // Public: no private key in it.
};

inline TestWallet MakeTestWallet(const crypto::Secp256k1Context& ctx) {
  TestWallet wallet;
  std::string keys;
  for (uint8_t seed : {0xa1, 0xb2, 0xc3}) {
    const std::vector<uint8_t> bytes(32, seed);
    const btc::ExtendedKey master = btc::ExtendedKey::FromSeed(ctx, bytes, kFixtureNetwork).value();
    const btc::KeyOrigin origin{.fingerprint = master.Fingerprint(),
                                .path = btc::KeyPath::Parse("48h/1h/0h/2h").value()};
    btc::ExtendedKey account = master.DerivePath(ctx, origin.path).value();
    if (!keys.empty()) keys += ",";
    keys += "[" + origin.ToString() + "]" + account.Neuter().ToString() + "/<0;1>/*";
    wallet.accounts.push_back(std::move(account));
    wallet.origins.push_back(origin);
  }
  wallet.descriptor = "wsh(multi(2," + keys + "))";
  return wallet;
}

// The wallet configuration of the public multipath descriptor `descriptor_text` (TestWallet's,
// or any other, e.g. one made from `kinko-signer keygen` keys) on regtest, with index bounds
// kFixtureIndexMax on both branches.
inline signer::WalletConfig MakeWalletConfig(const crypto::Secp256k1Context& ctx,
                                             const std::string& descriptor_text,
                                             const std::string& wallet_id = kFixtureWalletId) {
  btc::Descriptor descriptor =
      btc::Descriptor::Parse(ctx, descriptor_text, kFixtureNetwork).value();
  return signer::WalletConfig::Create(ctx, wallet_id, kFixtureNetwork, std::move(descriptor),
                                      kFixtureIndexMax, kFixtureIndexMax)
      .value();
}

// The signer's pinned configuration: the actors' signer key and watcher, and `wallet`.
inline signer::SignerConfig MakeSignerConfig(const Actors& actors, signer::WalletConfig wallet) {
  return signer::SignerConfig{.signer_id = IdOf(actors.signer),
                              .wallet = std::move(wallet),
                              .watchers = {IdOf(actors.watcher)}};
}

struct PsbtOptions {
  // One input per amount, spending the wallet's receive address at index 0, 1, ... Empty: one
  // input of the intents' total + fee + 100000 sat.
  std::vector<int64_t> input_sats = {};
  // Within the default ceiling of MakeIntent (max_fee 10000 sat) at any size.
  int64_t fee_sats = 2'000;
  // The change output (whatever the inputs leave after the intents and the fee) goes to the
  // change branch at this index; no change output when nothing is left.
  uint32_t change_index = 0;
  // Varies the funding transaction (and so every outpoint) between PSBTs of one test.
  uint32_t funding_seed = 0;
};

// The outputs the PSBT's inputs spend, in input order, from their previous transactions (or
// witness UTXOs). Requires each input to carry one of them.
inline std::vector<btc::TxOut> SpentOutputs(const btc::Psbt& psbt) {
  std::vector<btc::TxOut> spent;
  for (size_t i = 0; i < psbt.inputs.size(); ++i) {
    const btc::PsbtInput& input = psbt.inputs[i];
    const btc::Outpoint& prevout = psbt.unsigned_tx->inputs[i].prevout;
    if (input.non_witness_utxo) {
      spent.push_back(input.non_witness_utxo->outputs.at(prevout.index));
    } else {
      spent.push_back(input.witness_utxo.value());
    }
  }
  return spent;
}

// The PSBT a coordinator sends for `intents` (deterministic): a fake funding transaction pays
// the wallet's receive addresses 0, 1, ... (one output per input amount); the transaction
// spends them and pays every intent output (intent order, then output order), then the change.
// The descriptor updater (btc::UpdatePsbtWithDescriptor) adds the previous transactions,
// witness UTXOs, witness scripts and BIP32 derivations of the inputs and the change output.
inline btc::Psbt BuildPsbt(const crypto::Secp256k1Context& ctx, const signer::WalletConfig& wallet,
                           const std::vector<policy::SignedIntent>& intents,
                           const PsbtOptions& options = {}) {
  btc::Transaction tx;
  tx.version = 2;
  int64_t paid = 0;
  for (const policy::SignedIntent& intent : intents) {
    for (const policy::IntentOutput& out : intent.intent().fields().outputs) {
      const btc::Script script =
          btc::DecodeAddress(out.address, wallet.network()).value().script_pubkey;
      tx.outputs.push_back({out.amount.sats(), script});
      paid += out.amount.sats();
    }
  }
  std::vector<int64_t> input_sats = options.input_sats;
  if (input_sats.empty()) input_sats.push_back(paid + options.fee_sats + 100'000);

  btc::Transaction funding;
  funding.version = 2;
  funding.inputs.resize(1);
  const std::string seed_text = "kinko test funding " + std::to_string(options.funding_seed);
  funding.inputs[0].prevout.txid = btc::Txid(
      crypto::Sha256({reinterpret_cast<const uint8_t*>(seed_text.data()), seed_text.size()}));
  int64_t input_total = 0;
  for (size_t i = 0; i < input_sats.size(); ++i) {
    const btc::Script script = wallet.branch(signer::WalletBranch::kReceive)
                                   .Expand(ctx, static_cast<uint32_t>(i))
                                   .value()
                                   .script_pubkey;
    funding.outputs.push_back({input_sats[i], script});
    input_total += input_sats[i];
  }
  const btc::Txid funding_txid = funding.ComputeTxid();
  for (size_t i = 0; i < input_sats.size(); ++i) {
    btc::TxIn in;
    in.prevout = {funding_txid, static_cast<uint32_t>(i)};
    tx.inputs.push_back(in);
  }
  const int64_t change = input_total - paid - options.fee_sats;
  if (change > 0) {
    tx.outputs.push_back({change, wallet.branch(signer::WalletBranch::kChange)
                                      .Expand(ctx, options.change_index)
                                      .value()
                                      .script_pubkey});
  }

  btc::PsbtDescriptorUpdateOptions update;
  // Scan only the indexes used: the intents' foreign outputs would otherwise be tried at every
  // index below the default range.
  update.range =
      std::max<uint32_t>(static_cast<uint32_t>(input_sats.size()), options.change_index + 1);
  btc::Psbt psbt = btc::CreatePsbt(std::move(tx)).value();
  return btc::UpdatePsbtWithDescriptor(ctx, std::move(psbt), wallet.descriptor(),
                                       std::vector<btc::Transaction>{funding}, update)
      .value();
}

// `psbt` with the signatures of `wallet`'s account key `key_index` (0..2) added.
inline util::Result<btc::Psbt> SignWithWalletKey(const crypto::Secp256k1Context& ctx,
                                                 btc::Psbt psbt, const TestWallet& wallet,
                                                 size_t key_index) {
  btc::PsbtSigningKeys keys;
  util::Status added =
      keys.AddExtendedKey(wallet.accounts.at(key_index).Clone(), wallet.origins.at(key_index));
  if (!added.ok()) return added;
  util::Result<btc::PsbtSignResult> signed_psbt = btc::SignPsbt(ctx, std::move(psbt), keys);
  if (!signed_psbt.ok()) return signed_psbt.status();
  return std::move(signed_psbt)->psbt;
}

// Finalizes `psbt`, extracts the network transaction and verifies every input with the script
// interpreter (standard flags) against the output it spends. Returns the transaction. Fails
// with kFailedPrecondition when the PSBT cannot be finalized (too few signatures), with the
// finalizer's or extractor's error, and with kInvalidArgument naming the input when a script
// fails.
inline util::Result<btc::Transaction> FinalizeAndVerify(const crypto::Secp256k1Context& ctx,
                                                        btc::Psbt psbt) {
  const std::vector<btc::TxOut> spent = SpentOutputs(psbt);
  util::Result<btc::PsbtFinalizeResult> finalized = btc::FinalizePsbt(std::move(psbt));
  if (!finalized.ok()) return finalized.status();
  if (!finalized->complete) {
    return util::FailedPreconditionError("psbt: not every input is final");
  }
  util::Result<btc::Transaction> tx = btc::ExtractTransaction(finalized->psbt);
  if (!tx.ok()) return tx.status();
  const btc::TxVerifyResult verified =
      btc::VerifyTransaction(ctx, *tx, spent, btc::StandardVerifyFlags());
  if (!verified.valid) {
    return util::InvalidArgumentError("transaction: " + verified.detail);
  }
  return tx;
}

}  // namespace kinko::testing

#endif  // KINKO_TEST_SUPPORT_SIGNER_FIXTURE_H_
