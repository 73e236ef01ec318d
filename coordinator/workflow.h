// The coordinator's request lifecycle (DESIGN.md section 3): intents and approvals come in,
// are checked and stored; the policy in force is evaluated to show what is missing; approved
// intents are built into transactions (batched per wallet when batching is on), sent to the
// signers, combined, finalized, verified with the script interpreter, broadcast and followed to
// confirmation. Every step is a transaction of the store, so a coordinator killed at any point
// resumes (Resume) without building a second transaction for an intent or losing one.
//
// The coordinator is UNTRUSTED: none of this protects funds (the signers do). It checks what it
// can anyway (signatures on submission, the policy's verdict for display, the interpreter on the
// final transaction) so that honest mistakes are caught early with a clear reason.
//
// Signing (Execute, Resume): the signers are asked in their configured order until the wallet's
// threshold signed; each answer is persisted in the batch's detail (and its signatures combined
// into the batch's PSBT) before the next signer is asked, and signers whose audit head does not
// extend the one kept for them (SignerPool) are not used. Then:
//   - enough signatures: combined, finalized, every input verified with the script
//     interpreter, test-accepted and broadcast (offline: exported);
//   - a signer refused (a decision, logged by it): the batch fails and its intents are refused,
//     with every signer's code and detail in the intents' detail;
//   - some signed, none refused, the others unreachable: the batch stays in signing with its
//     lease released; Resume asks the signers that did not answer (the ones that signed have
//     consumed the intents, so a new batch could not be signed by them);
//   - nobody signed, nobody refused: the batch fails and its intents are approved again.
// The JSON of the detail columns is described in coordinator/internal/details.h.
//
// Residual risk: a signer that signed and whose answer was lost before it was persisted (a
// crash between the signer's answer and the store's update) has consumed the intents; asked
// again after Resume it answers intent_replayed, which counts as a refusal (not signed). With
// too few other signers the batch then fails and its intents are refused.
//
// Thread-safe: every method may be called from several threads, and several coordinators may
// share one store (PostgreSQL): the store's compare-and-set transitions decide races.
#ifndef KINKO_COORDINATOR_WORKFLOW_H_
#define KINKO_COORDINATOR_WORKFLOW_H_

#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "coordinator/chain.h"
#include "coordinator/config.h"
#include "crypto/secp256k1.h"
#include "policy/approval.h"
#include "policy/intent.h"
#include "storage/store.h"
#include "util/result.h"

namespace kinko::coordinator {

// The intent's state as the API shows it.
struct IntentView {
  storage::IntentRecord record;
  std::vector<storage::ApprovalRecord> approvals;
};

struct ExecuteResult {
  std::vector<int64_t> batches;            // Batches created or resumed by this call.
  std::vector<storage::IntentId> waiting;  // Approved intents left for a later call (none, or
                                           // coins insufficient / max_inputs reached).
};

struct CoordinatorOptions {
  std::string instance;  // Lease owner name.
  uint64_t lease_seconds = 60;
  std::function<uint64_t()> clock;  // Seconds since the Unix epoch; default system clock.
};

class Coordinator {
 public:
  // Loads each wallet's descriptor and policy file, makes the chain backend watch each wallet.
  // Fails with kInvalidArgument for a descriptor or policy that does not decode (naming the
  // wallet), and with the chain backend's errors. `store` and `chain` must outlive it.
  static util::Result<std::unique_ptr<Coordinator>> Create(const crypto::Secp256k1Context& ctx,
                                                           const Config& config,
                                                           storage::Store& store,
                                                           ChainBackend& chain,
                                                           CoordinatorOptions options);
  virtual ~Coordinator() = default;

  // Stores a signed intent (the encoding of policy::SignedIntent) and evaluates it: the state
  // becomes awaiting_approvals, approved, or refused (the policy denies it; detail names the
  // rule). Returns the view and whether it was new. Idempotent by intent id. Fails with
  // kInvalidArgument (does not decode), kPermissionDenied (requester signature), kNotFound
  // (unknown wallet), kFailedPrecondition (expired), kAlreadyExists (id taken by another intent).
  virtual util::Result<std::pair<IntentView, bool>> SubmitIntent(
      std::span<const uint8_t> signed_intent) = 0;

  // Stores an approval (policy::SignedApproval encoding) of the stored intent `id` and
  // re-evaluates it. Fails with kInvalidArgument (does not decode, or approves another intent's
  // digest), kPermissionDenied (signature), kNotFound (unknown intent),
  // kFailedPrecondition (the intent is past approval: building or later, or final),
  // kAlreadyExists (the approver decided differently before).
  virtual util::Result<IntentView> SubmitApproval(const storage::IntentId& id,
                                                  std::span<const uint8_t> signed_approval) = 0;

  virtual util::Result<IntentView> GetIntent(const storage::IntentId& id) = 0;
  virtual util::Result<std::vector<storage::IntentRecord>> ListIntents(
      const storage::IntentFilter& filter) = 0;

  // Refreshes the wallet's coins from the chain backend (no-op offline) and returns them.
  virtual util::Result<std::vector<storage::Utxo>> Utxos(std::string_view wallet) = 0;

  // Imports the wallet's coins found in `raw_tx` (outputs paying the descriptor's scripts within
  // its range) and caches the transaction. Returns the coins found (kInvalidArgument when the
  // transaction does not decode; an empty list when it pays the wallet nothing).
  virtual util::Result<std::vector<storage::Utxo>> ImportTransaction(
      std::string_view wallet, std::span<const uint8_t> raw_tx) = 0;

  // Builds, signs and broadcasts the wallet's approved intents (all of them, or `intents` when
  // not empty): one batch per call when batching is on, else one per intent. Runs the whole
  // flow before returning; refusals are recorded in the intents' detail. Fails with kNotFound
  // (unknown wallet or intent), kFailedPrecondition (an intent given is not approved;
  // insufficient funds), kUnavailable (store or chain backend down).
  virtual util::Result<ExecuteResult> Execute(std::string_view wallet,
                                              std::span<const storage::IntentId> intents) = 0;

  // Takes over and finishes every batch left unfinished by a stopped coordinator (lease expired),
  // marks expired intents, and follows broadcast batches to confirmation. Called at start-up and
  // periodically.
  virtual util::Status Resume() = 0;

  virtual util::Result<storage::BatchRecord> GetBatch(int64_t id) = 0;
};

}  // namespace kinko::coordinator

#endif  // KINKO_COORDINATOR_WORKFLOW_H_
