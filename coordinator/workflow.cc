// The Coordinator (coordinator/workflow.h). Every state change goes through the store's
// compare-and-set transitions, so that two coordinators sharing a store, or one resuming after
// a crash, never build two transactions for one intent.
//
// Residual risk, by design of the signer protocol: a signer that signed a batch and whose answer
// was lost before it was persisted (a crash between its answer and UpdateBatch) has consumed the
// batch's intents; asked again on Resume it answers intent_replayed, which counts as not signed.
// The batch then needs the other signers; with too few it fails and its intents are refused.
#include "coordinator/workflow.h"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <utility>

#include "btc/descriptor.h"
#include "btc/interpreter.h"
#include "btc/psbt_roles.h"
#include "coordinator/coin_selection.h"
#include "coordinator/internal/details.h"
#include "coordinator/psbt_builder.h"
#include "coordinator/signer_pool.h"
#include "crypto/rng.h"
#include "policy/evaluate.h"
#include "policy/policy.h"
#include "util/hex.h"

namespace kinko::coordinator {
namespace {

using storage::BatchRecord;
using storage::BatchState;
using storage::IntentId;
using storage::IntentRecord;
using storage::IntentState;

// Shown with every evaluation: the coordinator's verdict is a preview.
constexpr std::string_view kVelocityNote =
    "evaluated by the coordinator without velocity state: the signers enforce the velocity "
    "windows with their own records of what was spent";
// How often a lost compare-and-set is retried before giving up with kAborted.
constexpr int kMaxCasRetries = 5;
// Bitcoin Core's dust relay fee (sat/kvB): change worth less than spending it at this rate is
// not made.
constexpr uint64_t kDustRelayFeeRate = 3000;
// Indexes of each descriptor branch searched for the wallet's scripts (Bitcoin Core's range).
constexpr uint32_t kScanRange = 1000;

std::string Hex(std::span<const uint8_t> bytes) { return util::HexEncode(bytes); }

std::string IntentName(const IntentId& id) { return "intent " + Hex(id); }

uint64_t SystemClock() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

bool IsPendingApproval(IntentState state) {
  return state == IntentState::kReceived || state == IntentState::kAwaitingApprovals ||
         state == IntentState::kApproved;
}

util::Result<std::vector<uint8_t>> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return util::NotFoundError("cannot read " + path);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
  return bytes;
}

// A PSBT without any signature: what every signer is sent, whatever others signed already.
btc::Psbt WithoutSignatures(btc::Psbt psbt) {
  for (btc::PsbtInput& input : psbt.inputs) {
    input.partial_sigs.clear();
    input.tap_key_sig.reset();
    input.tap_script_sigs.clear();
  }
  return psbt;
}

// What the coordinator keeps of a configured wallet. The script index is built on first use.
// Not copyable or movable (it holds a mutex).
struct Wallet {
  Wallet(WalletSettings settings_in, btc::Descriptor descriptor_in, policy::SignedPolicy policy_in,
         WalletSizes sizes_in)
      : settings(std::move(settings_in)),
        descriptor(std::move(descriptor_in)),
        branches(descriptor.SplitMultipath()),
        policy(std::move(policy_in)),
        chain_wallet{
            .wallet_id = settings.id, .descriptor = settings.descriptor, .range = kScanRange},
        sizes(sizes_in) {}

  const WalletSettings settings;
  const btc::Descriptor descriptor;
  const std::vector<btc::Descriptor> branches;  // Receive, change.
  const policy::SignedPolicy policy;
  const ChainWallet chain_wallet;
  const WalletSizes sizes;

  std::mutex scripts_mutex;
  // Script bytes -> (change branch, index). Guarded by scripts_mutex.
  std::map<std::vector<uint8_t>, std::pair<bool, uint32_t>> scripts;
};

// The evaluation of one intent as shown in its state and detail.
struct Evaluation {
  IntentState state = IntentState::kRefused;
  std::string detail;
};

class CoordinatorImpl final : public Coordinator {
 public:
  CoordinatorImpl(const crypto::Secp256k1Context& ctx, storage::Store& store, ChainBackend& chain,
                  CoordinatorOptions options,
                  std::map<std::string, std::unique_ptr<Wallet>> wallets)
      : ctx_(ctx),
        store_(store),
        chain_(chain),
        options_(std::move(options)),
        wallets_(std::move(wallets)) {
    if (!options_.clock) options_.clock = SystemClock;
  }

  util::Result<std::pair<IntentView, bool>> SubmitIntent(
      std::span<const uint8_t> signed_intent) override;
  util::Result<IntentView> SubmitApproval(const IntentId& id,
                                          std::span<const uint8_t> signed_approval) override;
  util::Result<IntentView> GetIntent(const IntentId& id) override { return ViewOf(id); }
  util::Result<std::vector<IntentRecord>> ListIntents(
      const storage::IntentFilter& filter) override {
    return store_.ListIntents(filter);
  }
  util::Result<std::vector<storage::Utxo>> Utxos(std::string_view wallet) override;
  util::Result<std::vector<storage::Utxo>> ImportTransaction(
      std::string_view wallet, std::span<const uint8_t> raw_tx) override;
  util::Result<ExecuteResult> Execute(std::string_view wallet,
                                      std::span<const IntentId> intents) override;
  util::Status Resume() override;
  util::Result<BatchRecord> GetBatch(int64_t id) override { return store_.GetBatch(id); }

 private:
  uint64_t Now() const { return options_.clock(); }
  util::Result<Wallet*> FindWallet(std::string_view id);
  util::Result<IntentView> ViewOf(const IntentId& id);

  // Intents and approvals.
  util::Result<Evaluation> Evaluate(const Wallet& wallet, const policy::SignedIntent& intent,
                                    const std::vector<policy::SignedApproval>& approvals,
                                    uint64_t now) const;
  util::Result<std::vector<policy::SignedApproval>> StoredApprovals(const IntentId& id);
  util::Status Reevaluate(const Wallet& wallet, const IntentId& id);
  util::Status ExpireIntents();

  // Coins. Returns the outpoints that may be selected (nullopt: every available coin).
  util::Result<std::optional<std::set<btc::Outpoint>>> RefreshCoins(Wallet& wallet);
  std::optional<std::pair<bool, uint32_t>> FindScript(Wallet& wallet,
                                                      std::span<const uint8_t> script);
  util::Result<std::vector<uint8_t>> PreviousTransaction(const btc::Txid& txid);

  // Batches.
  struct Candidate {
    IntentRecord record;
    policy::SignedIntent intent;
    std::vector<policy::SignedApproval> approvals;
  };
  util::Result<std::vector<Candidate>> Candidates(Wallet& wallet,
                                                  std::span<const IntentId> intents);
  std::vector<size_t> FitBatch(const Wallet& wallet, const std::vector<Candidate>& remaining,
                               uint64_t now) const;
  util::Result<BatchRecord> CreateBatch(Wallet& wallet, const std::vector<Candidate>& group,
                                        uint64_t fee_rate,
                                        const std::optional<std::set<btc::Outpoint>>& eligible);
  util::Status RunBatch(Wallet& wallet, BatchRecord batch, bool follow_confirmation);
  util::Result<BatchRecord> Build(Wallet& wallet, const BatchRecord& batch);
  util::Result<BatchRecord> Sign(Wallet& wallet, const BatchRecord& batch);
  util::Result<BatchRecord> Broadcast(Wallet& wallet, const BatchRecord& batch);
  util::Result<BatchRecord> FollowConfirmation(Wallet& wallet, const BatchRecord& batch);
  util::Result<BatchRecord> FailBatch(const BatchRecord& batch, IntentState intents_to,
                                      std::string detail, std::string intent_detail);

  // Batches this process works on: Resume leaves them to their thread.
  bool Claim(int64_t id);
  void Release(int64_t id);

  const crypto::Secp256k1Context& ctx_;
  storage::Store& store_;
  ChainBackend& chain_;
  CoordinatorOptions options_;
  const std::map<std::string, std::unique_ptr<Wallet>> wallets_;

  std::mutex working_mutex_;
  std::set<int64_t> working_;  // Guarded by working_mutex_.
};

util::Result<Wallet*> CoordinatorImpl::FindWallet(std::string_view id) {
  auto it = wallets_.find(std::string(id));
  if (it == wallets_.end()) {
    return util::NotFoundError("wallet '" + std::string(id) + "' is not configured");
  }
  return it->second.get();
}

util::Result<IntentView> CoordinatorImpl::ViewOf(const IntentId& id) {
  util::Result<IntentRecord> record = store_.GetIntent(id);
  if (!record.ok()) return record.status();
  util::Result<std::vector<storage::ApprovalRecord>> approvals = store_.ListApprovals(id);
  if (!approvals.ok()) return approvals.status();
  return IntentView{.record = *std::move(record), .approvals = *std::move(approvals)};
}

// --- Intents and approvals ---

util::Result<Evaluation> CoordinatorImpl::Evaluate(
    const Wallet& wallet, const policy::SignedIntent& intent,
    const std::vector<policy::SignedApproval>& approvals, uint64_t now) const {
  const policy::Policy& policy = wallet.policy.policy();
  const policy::Verdict verdict = policy::Evaluate({{.intent = intent, .approvals = approvals}},
                                                   policy, policy::VelocityState{}, now);
  if (verdict.allowed) {
    return Evaluation{
        .state = IntentState::kApproved,
        .detail = internal::ApprovedDetail(verdict.intents.at(0).rule,
                                           verdict.intents.at(0).approvers, kVelocityNote)};
  }
  const policy::Refusal& refusal = *verdict.refusal;
  switch (refusal.code) {
    case policy::RefusalCode::kUnknownRequester:
      return util::PermissionDeniedError(IntentName(intent.intent().fields().id) + ": " +
                                         refusal.detail);
    case policy::RefusalCode::kIntentFromFuture:
      return util::FailedPreconditionError(IntentName(intent.intent().fields().id) + ": " +
                                           refusal.detail);
    case policy::RefusalCode::kIntentExpired:
      return Evaluation{.state = IntentState::kExpired,
                        .detail = internal::ProblemDetail("intent_expired", refusal.detail, {})};
    case policy::RefusalCode::kApprovalsMissing: {
      // Which requirements are unmet, for display: approving keys of each group, not the
      // requester, each key once (the signers' matching may count a key in one group only).
      std::vector<internal::MissingApprovals> missing;
      for (const policy::Rule& rule : policy.fields().rules) {
        if (rule.name != refusal.rule) continue;
        for (const policy::ApprovalRequirement& requirement : rule.approvals) {
          std::set<policy::KeyId> keys;
          for (const policy::SignedApproval& approval : approvals) {
            const policy::ApprovalFields& f = approval.approval().fields();
            if (f.decision == policy::Decision::kApprove &&
                f.approver != intent.intent().fields().requester &&
                policy.IsMember(requirement.group, f.approver)) {
              keys.insert(f.approver);
            }
          }
          const uint32_t have = static_cast<uint32_t>(keys.size());
          if (have < requirement.threshold) {
            missing.push_back(
                {.group = requirement.group, .needed = requirement.threshold, .have = have});
          }
        }
      }
      return Evaluation{
          .state = IntentState::kAwaitingApprovals,
          .detail = internal::AwaitingDetail(refusal.rule, missing, refusal.detail, kVelocityNote)};
    }
    case policy::RefusalCode::kWrongNetwork:
    case policy::RefusalCode::kDuplicateIntent:
    case policy::RefusalCode::kInvalidApproval:
    case policy::RefusalCode::kNoMatchingRule:
    case policy::RefusalCode::kRuleDenies:
    case policy::RefusalCode::kApprovalRejected:
    case policy::RefusalCode::kFeeCeilingExceeded:
    case policy::RefusalCode::kOutputsLimit:
    case policy::RefusalCode::kPerTransactionLimit:
    case policy::RefusalCode::kWindowLimit:
      break;
  }
  return Evaluation{
      .state = IntentState::kRefused,
      .detail = internal::RefusedDetail(policy::RefusalCodeName(refusal.code), refusal.rule,
                                        refusal.limit, refusal.detail, {})};
}

util::Result<std::pair<IntentView, bool>> CoordinatorImpl::SubmitIntent(
    std::span<const uint8_t> signed_intent) {
  util::Result<policy::SignedIntent> decoded = policy::SignedIntent::Decode(signed_intent);
  if (!decoded.ok()) return decoded.status();
  const policy::IntentFields& fields = decoded->intent().fields();

  // Idempotent by id: the same bytes again are the stored intent, whatever happened since.
  util::Result<IntentRecord> existing = store_.GetIntent(fields.id);
  if (existing.ok()) {
    if (!std::equal(existing->signed_intent.begin(), existing->signed_intent.end(),
                    signed_intent.begin(), signed_intent.end())) {
      return util::AlreadyExistsError(IntentName(fields.id) + ": id taken by another intent");
    }
    util::Result<IntentView> view = ViewOf(fields.id);
    if (!view.ok()) return view.status();
    return std::make_pair(*std::move(view), false);
  }
  if (existing.status().code() != util::StatusCode::kNotFound) return existing.status();

  util::Result<Wallet*> wallet = FindWallet(fields.wallet);
  if (!wallet.ok()) return wallet.status();
  if (fields.network != (*wallet)->settings.network) {
    return util::InvalidArgumentError(IntentName(fields.id) + ": network " +
                                      std::string(btc::NetworkName(fields.network)) +
                                      " is not wallet '" + fields.wallet + "''s " +
                                      std::string(btc::NetworkName((*wallet)->settings.network)));
  }
  const uint64_t now = Now();
  if (decoded->intent().IsExpiredAt(now)) {
    return util::FailedPreconditionError(IntentName(fields.id) + ": expired at " +
                                         std::to_string(fields.expires));
  }
  util::Result<Evaluation> evaluation = Evaluate(**wallet, *decoded, {}, now);
  if (!evaluation.ok()) return evaluation.status();

  IntentRecord record;
  record.id = fields.id;
  record.wallet = fields.wallet;
  record.state = evaluation->state;
  record.signed_intent.assign(signed_intent.begin(), signed_intent.end());
  for (const policy::IntentOutput& output : fields.outputs) {
    record.outputs.push_back({.address = output.address, .sats = output.amount.sats()});
  }
  record.requester = fields.requester;
  record.external_ref = fields.external_ref;
  record.created_at = fields.created;
  record.expires_at = fields.expires;
  record.received_at = now;
  record.updated_at = now;
  record.detail = evaluation->detail;
  util::Result<bool> inserted = store_.InsertIntent(record);
  if (!inserted.ok()) return inserted.status();
  util::Result<IntentView> view = ViewOf(fields.id);
  if (!view.ok()) return view.status();
  return std::make_pair(*std::move(view), *inserted);
}

util::Result<std::vector<policy::SignedApproval>> CoordinatorImpl::StoredApprovals(
    const IntentId& id) {
  util::Result<std::vector<storage::ApprovalRecord>> records = store_.ListApprovals(id);
  if (!records.ok()) return records.status();
  std::vector<policy::SignedApproval> approvals;
  for (const storage::ApprovalRecord& record : *records) {
    util::Result<policy::SignedApproval> approval =
        policy::SignedApproval::Decode(record.signed_approval);
    if (!approval.ok()) {
      return util::DataLossError(
          IntentName(id) + ": a stored approval does not decode: " + approval.status().message());
    }
    approvals.push_back(*std::move(approval));
  }
  return approvals;
}

util::Result<IntentView> CoordinatorImpl::SubmitApproval(const IntentId& id,
                                                         std::span<const uint8_t> signed_approval) {
  util::Result<policy::SignedApproval> approval = policy::SignedApproval::Decode(signed_approval);
  if (!approval.ok()) return approval.status();
  util::Result<IntentRecord> record = store_.GetIntent(id);
  if (!record.ok()) return record.status();
  util::Result<policy::SignedIntent> intent = policy::SignedIntent::Decode(record->signed_intent);
  if (!intent.ok()) {
    return util::DataLossError(IntentName(id) +
                               ": stored intent does not decode: " + intent.status().message());
  }
  const policy::ApprovalFields& fields = approval->approval().fields();
  if (fields.intent_digest != intent->intent().digest()) {
    return util::InvalidArgumentError("approval: approves another intent's digest than " +
                                      IntentName(id) + "'s");
  }
  util::Result<Wallet*> wallet = FindWallet(record->wallet);
  if (!wallet.ok()) return wallet.status();

  // The same approval again is idempotent, even once the intent moved on.
  util::Result<std::vector<storage::ApprovalRecord>> stored = store_.ListApprovals(id);
  if (!stored.ok()) return stored.status();
  for (const storage::ApprovalRecord& existing : *stored) {
    if (existing.approver != fields.approver) continue;
    if (std::equal(existing.signed_approval.begin(), existing.signed_approval.end(),
                   signed_approval.begin(), signed_approval.end())) {
      return ViewOf(id);
    }
    return util::AlreadyExistsError("approval: approver decided on " + IntentName(id) + " before");
  }
  if (!IsPendingApproval(record->state)) {
    return util::FailedPreconditionError(IntentName(id) + ": is " +
                                         std::string(storage::IntentStateName(record->state)) +
                                         ", past approval");
  }
  // An approval the signers would refuse (evaluate.h step 2) would make the whole intent
  // refused: it is not stored.
  const policy::Policy& policy = (*wallet)->policy.policy();
  util::Status bound = approval->CheckBinding(*intent, policy.digest());
  if (!bound.ok()) return bound;
  if (!policy.KeyLabel(fields.approver)) {
    return util::PermissionDeniedError("approval: approver " + Hex(fields.approver) +
                                       " is not named in the policy");
  }
  if (fields.time > Now() + policy::kMaxClockSkew) {
    return util::FailedPreconditionError("approval: made in the future");
  }
  util::Result<bool> inserted = store_.InsertApproval(
      {.intent_id = id,
       .approver = fields.approver,
       .signed_approval = std::vector<uint8_t>(signed_approval.begin(), signed_approval.end()),
       .received_at = Now()});
  if (!inserted.ok()) return inserted.status();
  util::Status evaluated = Reevaluate(**wallet, id);
  if (!evaluated.ok()) return evaluated;
  return ViewOf(id);
}

// Re-evaluates a stored intent with all its approvals and moves it (compare-and-set, retried).
util::Status CoordinatorImpl::Reevaluate(const Wallet& wallet, const IntentId& id) {
  for (int attempt = 0; attempt < kMaxCasRetries; ++attempt) {
    util::Result<IntentRecord> record = store_.GetIntent(id);
    if (!record.ok()) return record.status();
    if (!IsPendingApproval(record->state)) return util::OkStatus();
    util::Result<policy::SignedIntent> intent = policy::SignedIntent::Decode(record->signed_intent);
    if (!intent.ok())
      return util::DataLossError(IntentName(id) + ": stored intent does not decode");
    util::Result<std::vector<policy::SignedApproval>> approvals = StoredApprovals(id);
    if (!approvals.ok()) return approvals.status();
    util::Result<Evaluation> evaluation = Evaluate(wallet, *intent, *approvals, Now());
    if (!evaluation.ok()) return evaluation.status();
    if (evaluation->state == record->state && evaluation->detail == record->detail) {
      return util::OkStatus();
    }
    util::Status moved =
        store_.UpdateIntentState(id, record->state, evaluation->state, evaluation->detail, Now());
    if (moved.code() != util::StatusCode::kAborted) return moved;
  }
  return util::AbortedError(IntentName(id) + ": changed concurrently, try again");
}

util::Status CoordinatorImpl::ExpireIntents() {
  const uint64_t now = Now();
  storage::IntentFilter filter;
  filter.states = {IntentState::kReceived, IntentState::kAwaitingApprovals, IntentState::kApproved};
  filter.limit = 1000;
  while (true) {
    util::Result<std::vector<IntentRecord>> page = store_.ListIntents(filter);
    if (!page.ok()) return page.status();
    for (const IntentRecord& record : *page) {
      if (now < record.expires_at) continue;
      const util::Status moved = store_.UpdateIntentState(
          record.id, record.state, IntentState::kExpired,
          internal::ProblemDetail(
              "intent_expired",
              "expired at " + std::to_string(record.expires_at) + " before it was signed", {}),
          now);
      // kAborted: another coordinator moved it (into a batch, or expired it too).
      if (!moved.ok() && moved.code() != util::StatusCode::kAborted) return moved;
    }
    if (page->size() < filter.limit) return util::OkStatus();
    filter.after = page->back().id;
  }
}

// --- Coins ---

std::optional<std::pair<bool, uint32_t>> CoordinatorImpl::FindScript(
    Wallet& wallet, std::span<const uint8_t> script) {
  std::lock_guard<std::mutex> lock(wallet.scripts_mutex);
  if (wallet.scripts.empty()) {
    for (size_t branch = 0; branch < wallet.branches.size(); ++branch) {
      for (uint32_t index = 0; index < kScanRange; ++index) {
        util::Result<std::vector<btc::Script>> scripts =
            wallet.branches[branch].ExpandScripts(ctx_, index);
        if (!scripts.ok()) break;
        for (const btc::Script& s : *scripts) {
          wallet.scripts.emplace(s.bytes(), std::make_pair(branch == 1, index));
        }
      }
    }
  }
  auto it = wallet.scripts.find(std::vector<uint8_t>(script.begin(), script.end()));
  if (it == wallet.scripts.end()) return std::nullopt;
  return it->second;
}

util::Result<std::optional<std::set<btc::Outpoint>>> CoordinatorImpl::RefreshCoins(Wallet& wallet) {
  util::Result<std::vector<ChainUtxo>> unspent = chain_.ListUnspent(wallet.chain_wallet, 0);
  if (!unspent.ok()) {
    // The offline backend has no view of its own: the imported coins are all there is.
    if (unspent.status().code() == util::StatusCode::kFailedPrecondition) {
      return std::optional<std::set<btc::Outpoint>>();
    }
    return unspent.status();
  }
  util::Result<std::vector<storage::Utxo>> stored = store_.ListUtxos(wallet.settings.id, {});
  if (!stored.ok()) return stored.status();
  std::map<btc::Outpoint, std::optional<uint32_t>> known_heights;
  for (const storage::Utxo& coin : *stored) known_heights[coin.outpoint] = coin.height;

  std::vector<storage::Utxo> coins;
  std::vector<btc::Outpoint> outpoints;
  std::set<btc::Outpoint> eligible;
  std::map<btc::Txid, std::optional<uint32_t>> heights;  // Looked up once per transaction.
  for (const ChainUtxo& utxo : *unspent) {
    outpoints.push_back(utxo.outpoint);
    const std::optional<std::pair<bool, uint32_t>> path = FindScript(wallet, utxo.script_pubkey);
    if (!path) continue;  // Beyond the scanned range: not selectable.
    if (utxo.confirmations >= wallet.settings.min_confirmations) eligible.insert(utxo.outpoint);
    std::optional<uint32_t> height;
    auto known = known_heights.find(utxo.outpoint);
    if (known != known_heights.end() && known->second) height = known->second;
    if (!height && utxo.confirmations > 0) {
      auto cached = heights.find(utxo.outpoint.txid);
      if (cached == heights.end()) {
        util::Result<TxStatus> status = chain_.GetTxStatus(wallet.chain_wallet, utxo.outpoint.txid);
        cached =
            heights.emplace(utxo.outpoint.txid, status.ok() ? status->block_height : std::nullopt)
                .first;
      }
      height = cached->second;
    }
    coins.push_back({.wallet = wallet.settings.id,
                     .outpoint = utxo.outpoint,
                     .sats = utxo.sats,
                     .script_pubkey = utxo.script_pubkey,
                     .change = path->first,
                     .index = path->second,
                     .height = height,
                     .state = storage::UtxoState::kAvailable,
                     .batch_id = std::nullopt});
  }
  if (!coins.empty()) {
    util::Status added = store_.AddUtxos(coins);
    if (!added.ok()) return added;
  }
  util::Status retained = store_.RetainUtxos(wallet.settings.id, outpoints);
  if (!retained.ok()) return retained;
  return std::optional<std::set<btc::Outpoint>>(std::move(eligible));
}

util::Result<std::vector<storage::Utxo>> CoordinatorImpl::Utxos(std::string_view wallet_id) {
  util::Result<Wallet*> wallet = FindWallet(wallet_id);
  if (!wallet.ok()) return wallet.status();
  util::Result<std::optional<std::set<btc::Outpoint>>> refreshed = RefreshCoins(**wallet);
  if (!refreshed.ok()) return refreshed.status();
  return store_.ListUtxos(wallet_id, {});
}

util::Result<std::vector<storage::Utxo>> CoordinatorImpl::ImportTransaction(
    std::string_view wallet_id, std::span<const uint8_t> raw_tx) {
  util::Result<Wallet*> wallet = FindWallet(wallet_id);
  if (!wallet.ok()) return wallet.status();
  util::Result<btc::Transaction> tx = btc::Transaction::Parse(raw_tx);
  if (!tx.ok()) return tx.status().WithPrefix("import");
  const btc::Txid txid = tx->ComputeTxid();
  std::vector<storage::Utxo> found;
  for (size_t i = 0; i < tx->outputs.size(); ++i) {
    const btc::TxOut& output = tx->outputs[i];
    const std::optional<std::pair<bool, uint32_t>> path =
        FindScript(**wallet, output.script_pubkey.bytes());
    if (!path || output.value <= 0) continue;
    found.push_back({.wallet = std::string(wallet_id),
                     .outpoint = {.txid = txid, .index = static_cast<uint32_t>(i)},
                     .sats = output.value,
                     .script_pubkey = output.script_pubkey.bytes(),
                     .change = path->first,
                     .index = path->second,
                     .height = std::nullopt,
                     .state = storage::UtxoState::kAvailable,
                     .batch_id = std::nullopt});
  }
  util::Status cached = store_.PutTransaction(txid, raw_tx);
  if (!cached.ok()) return cached;
  if (!found.empty()) {
    util::Status added = store_.AddUtxos(found);
    if (!added.ok()) return added;
  }
  return found;
}

util::Result<std::vector<uint8_t>> CoordinatorImpl::PreviousTransaction(const btc::Txid& txid) {
  util::Result<std::vector<uint8_t>> cached = store_.GetTransaction(txid);
  if (cached.ok() || cached.status().code() != util::StatusCode::kNotFound) return cached;
  util::Result<std::vector<uint8_t>> raw = chain_.GetRawTransaction(txid);
  if (!raw.ok()) return raw.status().WithPrefix("previous transaction " + btc::TxidToHex(txid));
  util::Status put = store_.PutTransaction(txid, *raw);
  if (!put.ok()) return put;
  return raw;
}

// --- Batches ---

util::Result<std::vector<CoordinatorImpl::Candidate>> CoordinatorImpl::Candidates(
    Wallet& wallet, std::span<const IntentId> intents) {
  std::vector<IntentRecord> records;
  if (!intents.empty()) {
    for (const IntentId& id : intents) {
      util::Result<IntentRecord> record = store_.GetIntent(id);
      if (!record.ok()) return record.status();
      if (record->wallet != wallet.settings.id) {
        return util::NotFoundError(IntentName(id) + " is not of wallet '" + wallet.settings.id +
                                   "'");
      }
      if (record->state != IntentState::kApproved) {
        return util::FailedPreconditionError(IntentName(id) + ": is " +
                                             std::string(storage::IntentStateName(record->state)) +
                                             ", not approved");
      }
      records.push_back(*std::move(record));
    }
  } else {
    storage::IntentFilter filter;
    filter.wallet = wallet.settings.id;
    filter.states = {IntentState::kApproved};
    filter.limit = 1000;
    while (true) {
      util::Result<std::vector<IntentRecord>> page = store_.ListIntents(filter);
      if (!page.ok()) return page.status();
      records.insert(records.end(), page->begin(), page->end());
      if (page->size() < filter.limit) break;
      filter.after = page->back().id;
    }
  }
  std::vector<Candidate> out;
  const uint64_t now = Now();
  for (IntentRecord& record : records) {
    if (now >= record.expires_at) {
      const util::Status moved = store_.UpdateIntentState(
          record.id, IntentState::kApproved, IntentState::kExpired,
          internal::ProblemDetail(
              "intent_expired",
              "expired at " + std::to_string(record.expires_at) + " before it was signed", {}),
          now);
      if (!moved.ok() && moved.code() != util::StatusCode::kAborted) return moved;
      continue;
    }
    util::Result<policy::SignedIntent> intent = policy::SignedIntent::Decode(record.signed_intent);
    if (!intent.ok()) {
      return util::DataLossError(IntentName(record.id) + ": stored intent does not decode");
    }
    util::Result<std::vector<policy::SignedApproval>> approvals = StoredApprovals(record.id);
    if (!approvals.ok()) return approvals.status();
    out.push_back({.record = std::move(record),
                   .intent = *std::move(intent),
                   .approvals = *std::move(approvals)});
  }
  return out;
}

// The candidates (indexes into `remaining`, in order) that one transaction may pay: added one by
// one while the policy still allows all of them together (its per-transaction and output
// limits), at most kMaxSignRequestIntents. The first candidate is always taken: whether it may
// be paid is the signers' decision.
std::vector<size_t> CoordinatorImpl::FitBatch(const Wallet& wallet,
                                              const std::vector<Candidate>& remaining,
                                              uint64_t now) const {
  std::vector<size_t> chosen = {0};
  if (!wallet.settings.batching) return chosen;
  std::vector<policy::IntentWithApprovals> request = {
      {.intent = remaining[0].intent, .approvals = remaining[0].approvals}};
  for (size_t i = 1; i < remaining.size() && chosen.size() < signerapi::kMaxSignRequestIntents;
       ++i) {
    request.push_back({.intent = remaining[i].intent, .approvals = remaining[i].approvals});
    const policy::Verdict verdict =
        policy::Evaluate(request, wallet.policy.policy(), policy::VelocityState{}, now);
    if (verdict.allowed) {
      chosen.push_back(i);
    } else {
      request.pop_back();
    }
  }
  return chosen;
}

util::Result<BatchRecord> CoordinatorImpl::CreateBatch(
    Wallet& wallet, const std::vector<Candidate>& group, uint64_t fee_rate,
    const std::optional<std::set<btc::Outpoint>>& eligible) {
  std::vector<storage::PayOutput> outputs;
  int64_t target = 0;
  for (const Candidate& c : group) {
    for (const storage::PayOutput& output : c.record.outputs) {
      outputs.push_back(output);
      target += output.sats;
    }
  }
  util::Result<uint64_t> base = BaseVbytes(outputs, wallet.settings.network);
  if (!base.ok()) return base.status();
  util::Result<std::vector<storage::Utxo>> available =
      store_.ListUtxos(wallet.settings.id, storage::UtxoState::kAvailable);
  if (!available.ok()) return available.status();
  std::vector<Coin> coins;
  for (const storage::Utxo& utxo : *available) {
    if (eligible && !eligible->contains(utxo.outpoint)) continue;
    coins.push_back(
        {.outpoint = utxo.outpoint, .sats = utxo.sats, .input_vbytes = wallet.sizes.input_vbytes});
  }
  const SelectionParams params{
      .target_sats = target,
      .fee_rate_sat_per_kvb = fee_rate,
      .base_vbytes = *base,
      .change_output_vbytes = wallet.sizes.change_output_vbytes,
      .change_spend_vbytes = wallet.sizes.change_spend_vbytes,
      .dust_sats = FeeFor(wallet.sizes.change_output_vbytes + wallet.sizes.change_spend_vbytes,
                          kDustRelayFeeRate),
      .max_inputs = wallet.settings.max_inputs};
  util::Result<Selection> selection = SelectCoins(coins, params);
  if (!selection.ok()) return selection.status();
  // An absolute fee ceiling binds the whole transaction (evaluate.h step 9).
  for (const Candidate& c : group) {
    const std::optional<btc::Amount>& max_fee = c.intent.intent().fields().fee.max_fee;
    if (max_fee && selection->fee_sats > max_fee->sats()) {
      return util::FailedPreconditionError(
          IntentName(c.record.id) + ": fee " + std::to_string(selection->fee_sats) + " sat at " +
          std::to_string(fee_rate) + " sat/kvB is above its max_fee " +
          std::to_string(max_fee->sats()));
    }
  }
  storage::NewBatch batch;
  batch.wallet = wallet.settings.id;
  for (const Candidate& c : group) batch.intents.push_back(c.record.id);
  batch.inputs = selection->inputs;
  batch.has_change = selection->change_sats > 0;
  batch.fee_sats = selection->fee_sats;
  batch.fee_rate_sat_per_kvb = fee_rate;
  batch.owner = options_.instance;
  batch.now = Now();
  batch.lease_seconds = options_.lease_seconds;
  return store_.CreateBatch(batch);
}

util::Result<ExecuteResult> CoordinatorImpl::Execute(std::string_view wallet_id,
                                                     std::span<const IntentId> intents) {
  util::Result<Wallet*> found = FindWallet(wallet_id);
  if (!found.ok()) return found.status();
  Wallet& wallet = **found;
  util::Result<std::optional<std::set<btc::Outpoint>>> eligible = RefreshCoins(wallet);
  if (!eligible.ok()) return eligible.status();
  util::Result<std::vector<Candidate>> candidates = Candidates(wallet, intents);
  if (!candidates.ok()) return candidates.status();

  // The fee rate: the backend's estimate (or the fallback), within the configured bounds and
  // the policy's fee_rate_max.
  const WalletSettings& settings = wallet.settings;
  util::Result<uint64_t> estimate = chain_.EstimateFeeRate(settings.confirmation_target);
  uint64_t base_rate = estimate.ok() ? *estimate : settings.fee_rate_fallback;
  base_rate = std::clamp(base_rate, settings.fee_rate_floor, settings.fee_rate_ceiling);
  const std::optional<uint64_t>& policy_max =
      wallet.policy.policy().fields().limits.fee_rate_max_sat_per_kvb;
  if (policy_max) base_rate = std::min(base_rate, *policy_max);

  // An intent whose rate ceiling is below the floor can never be paid: refused.
  std::vector<Candidate> remaining;
  for (Candidate& c : *candidates) {
    const std::optional<uint64_t>& max_rate = c.intent.intent().fields().fee.max_rate_sat_per_kvb;
    if (max_rate && *max_rate < settings.fee_rate_floor) {
      const util::Status moved = store_.UpdateIntentState(
          c.record.id, IntentState::kApproved, IntentState::kRefused,
          internal::RefusedDetail("fee_ceiling_exceeded", "", "max_rate",
                                  "the intent's fee rate ceiling " + std::to_string(*max_rate) +
                                      " sat/kvB is below the wallet's fee rate floor " +
                                      std::to_string(settings.fee_rate_floor) + " sat/kvB",
                                  {}),
          Now());
      if (!moved.ok() && moved.code() != util::StatusCode::kAborted) return moved;
      continue;
    }
    remaining.push_back(std::move(c));
  }

  ExecuteResult result;
  util::Status first_error;
  bool built_any = false;
  while (!remaining.empty()) {
    std::vector<size_t> chosen = FitBatch(wallet, remaining, Now());
    std::optional<BatchRecord> batch;
    util::Status last = util::OkStatus();
    // Fewer intents when the coins cannot pay them all; a lost compare-and-set is retried.
    int aborted = 0;
    std::set<size_t> gone;  // Taken by another coordinator meanwhile: neither built nor waiting.
    while (!chosen.empty()) {
      std::vector<Candidate> group;
      uint64_t rate = base_rate;
      for (size_t i : chosen) {
        group.push_back(remaining[i]);
        const std::optional<uint64_t>& max_rate =
            remaining[i].intent.intent().fields().fee.max_rate_sat_per_kvb;
        if (max_rate) rate = std::min(rate, *max_rate);
      }
      util::Result<BatchRecord> created = CreateBatch(wallet, group, rate, *eligible);
      if (created.ok()) {
        batch = *std::move(created);
        break;
      }
      last = created.status();
      if (last.code() == util::StatusCode::kAborted) {
        if (++aborted > kMaxCasRetries) return last;
        // Another coordinator took an intent or a coin: drop what is no longer approved.
        std::vector<size_t> still;
        for (size_t i : chosen) {
          util::Result<IntentRecord> now = store_.GetIntent(remaining[i].record.id);
          if (now.ok() && now->state == IntentState::kApproved) {
            still.push_back(i);
          } else {
            gone.insert(i);
          }
        }
        chosen = std::move(still);
        continue;
      }
      if (last.code() != util::StatusCode::kFailedPrecondition) return last;
      chosen.pop_back();  // Insufficient funds or a fee ceiling: try with fewer intents.
    }
    std::set<size_t> taken(chosen.begin(), chosen.end());
    taken.insert(gone.begin(), gone.end());
    if (!batch && !gone.contains(0)) {
      // The first candidate cannot be paid now: it waits, the others are tried.
      result.waiting.push_back(remaining[0].record.id);
      if (first_error.ok()) first_error = last;
      taken.insert(0);
    }
    std::vector<Candidate> rest;
    for (size_t i = 0; i < remaining.size(); ++i) {
      if (!taken.contains(i)) rest.push_back(std::move(remaining[i]));
    }
    remaining = std::move(rest);
    if (!batch) continue;

    built_any = true;
    result.batches.push_back(batch->id);
    if (!Claim(batch->id)) continue;
    const util::Status ran = RunBatch(wallet, *std::move(batch), false);
    Release(result.batches.back());
    if (!ran.ok() && first_error.ok()) first_error = ran;
  }
  if (!built_any && !result.waiting.empty()) return first_error;
  return result;
}

bool CoordinatorImpl::Claim(int64_t id) {
  std::lock_guard<std::mutex> lock(working_mutex_);
  return working_.insert(id).second;
}

void CoordinatorImpl::Release(int64_t id) {
  std::lock_guard<std::mutex> lock(working_mutex_);
  working_.erase(id);
}

util::Result<BatchRecord> CoordinatorImpl::FailBatch(const BatchRecord& batch,
                                                     IntentState intents_to, std::string detail,
                                                     std::string intent_detail) {
  storage::BatchUpdate update;
  update.id = batch.id;
  update.from = batch.state;
  update.to = BatchState::kFailed;
  update.owner = options_.instance;
  update.detail = std::move(detail);
  update.intent_detail = std::move(intent_detail);
  update.intents_on_failure = intents_to;
  update.now = Now();
  update.lease_seconds = 0;
  return store_.UpdateBatch(update);
}

// Continues `batch` from its state until it is broadcast (and, with `follow_confirmation`,
// confirmed) or failed.
util::Status CoordinatorImpl::RunBatch(Wallet& wallet, BatchRecord batch,
                                       bool follow_confirmation) {
  while (true) {
    util::Result<BatchRecord> next = batch;
    switch (batch.state) {
      case BatchState::kBuilding:
        next = Build(wallet, batch);
        break;
      case BatchState::kSigning:
        next = Sign(wallet, batch);
        // Still signing: waiting for signers that did not answer (Resume asks them again).
        if (next.ok() && next->state == BatchState::kSigning) return util::OkStatus();
        break;
      case BatchState::kSigned:
        next = Broadcast(wallet, batch);
        break;
      case BatchState::kBroadcast:
        if (!follow_confirmation) return util::OkStatus();
        next = FollowConfirmation(wallet, batch);
        if (next.ok() && next->state == BatchState::kBroadcast) return util::OkStatus();
        break;
      case BatchState::kConfirmed:
      case BatchState::kFailed:
        return util::OkStatus();
    }
    if (!next.ok()) return next.status().WithPrefix("batch " + std::to_string(batch.id));
    batch = *std::move(next);
  }
}

util::Result<BatchRecord> CoordinatorImpl::Build(Wallet& wallet, const BatchRecord& batch) {
  BuildParams params;
  int64_t paid = 0;
  for (const IntentId& id : batch.intents) {
    util::Result<IntentRecord> record = store_.GetIntent(id);
    if (!record.ok()) return record.status();
    for (const storage::PayOutput& output : record->outputs) {
      params.outputs.push_back(output);
      paid += output.sats;
    }
  }
  util::Result<std::vector<storage::Utxo>> coins = store_.ListUtxos(wallet.settings.id, {});
  if (!coins.ok()) return coins.status();
  std::map<btc::Outpoint, const storage::Utxo*> by_outpoint;
  for (const storage::Utxo& coin : *coins) by_outpoint[coin.outpoint] = &coin;
  int64_t input_sats = 0;
  util::Status problem;
  for (const btc::Outpoint& outpoint : batch.inputs) {
    auto it = by_outpoint.find(outpoint);
    if (it == by_outpoint.end()) {
      problem = util::NotFoundError("coin " + btc::TxidToHex(outpoint.txid) + ":" +
                                    std::to_string(outpoint.index) + " is not stored");
      break;
    }
    util::Result<std::vector<uint8_t>> previous = PreviousTransaction(outpoint.txid);
    if (!previous.ok()) {
      if (previous.status().code() == util::StatusCode::kUnavailable) return previous.status();
      problem = previous.status();
      break;
    }
    input_sats += it->second->sats;
    params.inputs.push_back({.coin = *it->second, .previous_tx = *std::move(previous)});
  }
  params.change_index = batch.change_index;
  params.change_sats = batch.change_index ? input_sats - paid - batch.fee_sats : 0;
  util::Result<btc::Psbt> psbt =
      problem.ok() ? BuildPsbt(ctx_, wallet.descriptor, wallet.settings.network, params)
                   : util::Result<btc::Psbt>(problem);
  util::Result<btc::Transaction> tx =
      psbt.ok() ? psbt->GetUnsignedTx() : util::Result<btc::Transaction>(psbt.status());
  if (!tx.ok()) {
    // Nothing was sent to a signer: the intents may be built again later.
    util::Result<BatchRecord> failed =
        FailBatch(batch, IntentState::kApproved,
                  internal::WriteBatchDetail(
                      {.request_id = "", .signers = {}, .error = tx.status().message()}),
                  internal::ProblemDetail("build_failed", tx.status().message(), {}));
    if (!failed.ok()) return failed.status();
    return tx.status();
  }
  storage::BatchUpdate update;
  update.id = batch.id;
  update.from = BatchState::kBuilding;
  update.to = BatchState::kSigning;
  update.owner = options_.instance;
  update.psbt = psbt->Serialize();
  update.txid = tx->ComputeTxid();
  update.now = Now();
  update.lease_seconds = options_.lease_seconds;
  return store_.UpdateBatch(update);
}

util::Result<BatchRecord> CoordinatorImpl::Sign(Wallet& wallet, const BatchRecord& batch) {
  util::Result<btc::Psbt> stored = btc::Psbt::Parse(batch.psbt);
  if (!stored.ok()) {
    return util::DataLossError("stored psbt does not parse: " + stored.status().message());
  }
  btc::Psbt combined = *std::move(stored);
  const btc::Psbt unsigned_psbt = WithoutSignatures(combined);

  // Answers persisted by an earlier round (a resumed batch): a signature or a refusal is a
  // decision and is not asked for again; errors are.
  internal::BatchDetail detail = internal::ParseBatchDetail(batch.detail);
  std::vector<internal::SignerEntry> decided;
  uint32_t signed_before = 0;
  for (const internal::SignerEntry& entry : detail.signers) {
    if (entry.outcome == "signed" || entry.outcome == "refused") {
      decided.push_back(entry);
      if (entry.outcome == "signed") ++signed_before;
    }
  }
  std::vector<SignerEndpoint> ask;
  for (const SignerEndpoint& endpoint : wallet.settings.signers) {
    const std::string id = Hex(endpoint.id);
    const bool answered = std::any_of(decided.begin(), decided.end(),
                                      [&](const internal::SignerEntry& e) { return e.id == id; });
    if (!answered) ask.push_back(endpoint);
  }

  // The request: the PSBT as built, each intent with all its stored approvals.
  signerapi::SignRequest request;
  crypto::SystemRng rng;
  rng.Fill(request.request_id);
  request.psbt = unsigned_psbt;
  for (const IntentId& id : batch.intents) {
    util::Result<IntentRecord> record = store_.GetIntent(id);
    if (!record.ok()) return record.status();
    util::Result<policy::SignedIntent> intent = policy::SignedIntent::Decode(record->signed_intent);
    if (!intent.ok())
      return util::DataLossError(IntentName(id) + ": stored intent does not decode");
    util::Result<std::vector<policy::SignedApproval>> approvals = StoredApprovals(id);
    if (!approvals.ok()) return approvals.status();
    request.intents.push_back({.intent = *std::move(intent), .approvals = *std::move(approvals)});
  }

  detail.request_id = Hex(request.request_id);
  detail.signers = decided;
  BatchRecord current = batch;
  const uint32_t threshold = wallet.settings.threshold;
  const uint32_t needed = signed_before >= threshold ? 0 : threshold - signed_before;
  SignerPool pool(ask, needed, store_);
  // Each answer is persisted (with the signatures combined into the batch's PSBT) before the
  // next signer is asked, so that a crash loses at most the answer in flight.
  util::Result<SignOutcome> outcome = pool.Sign(request, [&](const SignerAnswer& answer) {
    storage::BatchUpdate update;
    update.id = current.id;
    update.from = BatchState::kSigning;
    update.to = BatchState::kSigning;
    update.owner = options_.instance;
    if (answer.outcome == SignerAnswer::Outcome::kSigned) {
      const btc::Psbt both[] = {combined, *answer.psbt};
      util::Result<btc::Psbt> merged = btc::CombinePsbts(both);
      if (!merged.ok()) return merged.status().WithPrefix("combine");
      combined = *std::move(merged);
      update.psbt = combined.Serialize();
    }
    detail.signers.push_back(internal::EntryOf(answer));
    update.detail = internal::WriteBatchDetail(detail);
    update.now = Now();
    update.lease_seconds = options_.lease_seconds;
    util::Result<BatchRecord> updated = store_.UpdateBatch(update);
    if (!updated.ok()) return updated.status();
    current = *std::move(updated);
    return util::OkStatus();
  });
  if (!outcome.ok()) return outcome.status();

  uint32_t signed_count = 0;
  bool refused = false;
  const internal::SignerEntry* first_refusal = nullptr;
  for (const internal::SignerEntry& entry : detail.signers) {
    if (entry.outcome == "signed") ++signed_count;
    if (entry.outcome == "refused") {
      refused = true;
      if (first_refusal == nullptr) first_refusal = &entry;
    }
  }

  if (signed_count < threshold) {
    if (refused) {
      // A decision: the intents are refused, with every signer's answer.
      return FailBatch(current, IntentState::kRefused, internal::WriteBatchDetail(detail),
                       internal::RefusedDetail(first_refusal->code.value_or(""), "", "",
                                               first_refusal->detail.value_or(""), detail.signers));
    }
    if (signed_count > 0) {
      // Some signers signed, none refused, the others did not answer: their signatures are kept
      // (a signer that signed has consumed the intents and would answer intent_replayed to a new
      // batch). The batch stays in signing with its lease released, for Resume to finish.
      storage::BatchUpdate wait;
      wait.id = current.id;
      wait.from = BatchState::kSigning;
      wait.to = BatchState::kSigning;
      wait.owner = options_.instance;
      wait.detail = internal::WriteBatchDetail(detail);
      wait.intent_detail =
          internal::ProblemDetail("signers_unavailable",
                                  "waiting for signers: " + std::to_string(signed_count) + " of " +
                                      std::to_string(threshold) + " signatures",
                                  detail.signers);
      wait.now = Now();
      wait.lease_seconds = 0;
      return store_.UpdateBatch(wait);
    }
    return FailBatch(
        current, IntentState::kApproved, internal::WriteBatchDetail(detail),
        internal::ProblemDetail("signers_unavailable",
                                "too few signers answered: " + std::to_string(signed_count) +
                                    " of " + std::to_string(threshold) + " signatures",
                                detail.signers));
  }

  // Finalize, extract and verify every input with the script interpreter: the last check
  // before the transaction leaves.
  std::vector<btc::TxOut> spent;
  for (size_t i = 0; i < combined.inputs.size(); ++i) {
    util::Result<btc::TxOut> utxo = combined.GetInputUtxo(i);
    if (!utxo.ok()) return utxo.status();
    spent.push_back(*std::move(utxo));
  }
  util::Result<btc::PsbtFinalizeResult> finalized = btc::FinalizePsbt(combined);
  util::Result<btc::Transaction> tx = util::FailedPreconditionError("psbt: not complete");
  if (finalized.ok() && finalized->complete) tx = btc::ExtractTransaction(finalized->psbt);
  std::string problem;
  if (!finalized.ok()) problem = finalized.status().message();
  if (problem.empty() && !tx.ok()) problem = tx.status().message();
  if (problem.empty()) {
    const btc::TxVerifyResult verified =
        btc::VerifyTransaction(ctx_, *tx, spent, btc::StandardVerifyFlags());
    if (!verified.valid) problem = "script verification: " + verified.detail;
  }
  if (!problem.empty()) {
    detail.error = problem;
    util::Result<BatchRecord> failed =
        FailBatch(current, IntentState::kApproved, internal::WriteBatchDetail(detail),
                  internal::ProblemDetail("finalize_failed", problem, detail.signers));
    if (!failed.ok()) return failed.status();
    return util::InternalError("signed transaction does not verify: " + problem);
  }
  storage::BatchUpdate update;
  update.id = current.id;
  update.from = BatchState::kSigning;
  update.to = BatchState::kSigned;
  update.owner = options_.instance;
  update.psbt = combined.Serialize();
  update.final_tx = tx->Serialize();
  update.detail = internal::WriteBatchDetail(detail);
  update.now = Now();
  update.lease_seconds = options_.lease_seconds;
  return store_.UpdateBatch(update);
}

util::Result<BatchRecord> CoordinatorImpl::Broadcast(Wallet& wallet, const BatchRecord& batch) {
  util::Status accepted = chain_.TestAccept(batch.final_tx);
  if (!accepted.ok()) return accepted.WithPrefix("test accept");
  util::Result<btc::Txid> sent = chain_.Broadcast(batch.final_tx);
  if (!sent.ok()) return sent.status().WithPrefix("broadcast");

  // The change comes back to the wallet: known now (the offline backend reports no coins).
  util::Result<btc::Transaction> tx = btc::Transaction::Parse(batch.final_tx);
  if (!tx.ok()) return util::DataLossError("stored final transaction does not parse");
  util::Status cached = store_.PutTransaction(*sent, batch.final_tx);
  if (!cached.ok()) return cached;
  if (batch.change_index) {
    std::vector<storage::Utxo> change;
    for (size_t i = 0; i < tx->outputs.size(); ++i) {
      const std::optional<std::pair<bool, uint32_t>> path =
          FindScript(wallet, tx->outputs[i].script_pubkey.bytes());
      if (!path || !path->first || path->second != *batch.change_index) continue;
      change.push_back({.wallet = wallet.settings.id,
                        .outpoint = {.txid = *sent, .index = static_cast<uint32_t>(i)},
                        .sats = tx->outputs[i].value,
                        .script_pubkey = tx->outputs[i].script_pubkey.bytes(),
                        .change = true,
                        .index = path->second,
                        .height = std::nullopt,
                        .state = storage::UtxoState::kAvailable,
                        .batch_id = std::nullopt});
    }
    if (!change.empty()) {
      util::Status added = store_.AddUtxos(change);
      if (!added.ok()) return added;
    }
  }
  storage::BatchUpdate update;
  update.id = batch.id;
  update.from = BatchState::kSigned;
  update.to = BatchState::kBroadcast;
  update.owner = options_.instance;
  update.now = Now();
  update.lease_seconds = options_.lease_seconds;
  return store_.UpdateBatch(update);
}

util::Result<BatchRecord> CoordinatorImpl::FollowConfirmation(Wallet& wallet,
                                                              const BatchRecord& batch) {
  if (!batch.txid) return batch;
  util::Result<TxStatus> status = chain_.GetTxStatus(wallet.chain_wallet, *batch.txid);
  if (!status.ok()) return status.status();
  if (status->confirmations == 0 || !status->block_height) return batch;
  storage::BatchUpdate update;
  update.id = batch.id;
  update.from = BatchState::kBroadcast;
  update.to = BatchState::kConfirmed;
  update.owner = options_.instance;
  update.confirmed_height = status->block_height;
  update.now = Now();
  update.lease_seconds = 0;
  return store_.UpdateBatch(update);
}

util::Status CoordinatorImpl::Resume() {
  util::Status first_error = ExpireIntents();
  storage::BatchFilter filter;
  filter.states = {BatchState::kBuilding, BatchState::kSigning, BatchState::kSigned,
                   BatchState::kBroadcast};
  filter.limit = 1000;
  util::Result<std::vector<BatchRecord>> batches = store_.ListBatches(filter);
  if (!batches.ok()) return batches.status();
  for (const BatchRecord& listed : *batches) {
    const uint64_t now = Now();
    if (listed.owner != options_.instance && listed.lease_until > now) continue;
    util::Result<Wallet*> wallet = FindWallet(listed.wallet);
    if (!wallet.ok()) continue;       // A wallet no longer configured here.
    if (!Claim(listed.id)) continue;  // This process works on it already.
    util::Result<BatchRecord> claimed =
        store_.ClaimBatch(listed.id, options_.instance, now, options_.lease_seconds);
    util::Status ran =
        claimed.ok() ? RunBatch(**wallet, *std::move(claimed), true)
                     : (claimed.status().code() == util::StatusCode::kAborted ? util::OkStatus()
                                                                              : claimed.status());
    Release(listed.id);
    if (!ran.ok() && first_error.ok()) first_error = ran;
  }
  return first_error;
}

}  // namespace

util::Result<std::unique_ptr<Coordinator>> Coordinator::Create(const crypto::Secp256k1Context& ctx,
                                                               const Config& config,
                                                               storage::Store& store,
                                                               ChainBackend& chain,
                                                               CoordinatorOptions options) {
  std::map<std::string, std::unique_ptr<Wallet>> wallets;
  for (const WalletSettings& settings : config.wallets) {
    const std::string name = "wallet '" + settings.id + "'";
    util::Result<btc::Descriptor> descriptor =
        btc::Descriptor::Parse(ctx, settings.descriptor, settings.network);
    if (!descriptor.ok()) return descriptor.status().WithPrefix(name + ": descriptor");
    if (descriptor->MultipathCount() != 2) {
      return util::InvalidArgumentError(name + ": descriptor: not a <receive;change> descriptor");
    }
    util::Result<std::vector<uint8_t>> policy_bytes = ReadFile(settings.policy_file);
    if (!policy_bytes.ok()) return policy_bytes.status().WithPrefix(name + ": policy");
    util::Result<policy::SignedPolicy> policy = policy::SignedPolicy::Decode(*policy_bytes);
    if (!policy.ok()) {
      return util::InvalidArgumentError(name + ": policy: " + policy.status().message());
    }
    if (policy->policy().fields().network != settings.network) {
      return util::InvalidArgumentError(name + ": policy: for another network");
    }
    util::Result<WalletSizes> sizes = SizesFor(ctx, *descriptor);
    if (!sizes.ok()) return sizes.status().WithPrefix(name);
    auto wallet =
        std::make_unique<Wallet>(settings, *std::move(descriptor), *std::move(policy), *sizes);
    util::Status watched = chain.Watch(wallet->chain_wallet);
    if (!watched.ok()) return watched.WithPrefix(name);
    wallets.emplace(settings.id, std::move(wallet));
  }
  if (options.instance.empty()) options.instance = "kinkod";
  return std::unique_ptr<Coordinator>(
      new CoordinatorImpl(ctx, store, chain, std::move(options), std::move(wallets)));
}

}  // namespace kinko::coordinator
