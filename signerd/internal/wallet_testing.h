// Test support, header only, for the signerd tests and benchmarks: a transaction paying to a
// wallet descriptor, a PSBT spending it, and the whole signing flow as separate signers run it
// (each backend signs on its own, the PSBTs are combined, finalized, extracted and the final
// transaction is checked by kinko's script interpreter under the standard flags).
//
// Thread-safe: pure functions.
#ifndef KINKO_SIGNERD_INTERNAL_WALLET_TESTING_H_
#define KINKO_SIGNERD_INTERNAL_WALLET_TESTING_H_

#include <span>
#include <string>
#include <utility>
#include <vector>

#include "btc/descriptor.h"
#include "btc/interpreter.h"
#include "btc/psbt_roles.h"
#include "btc/psbt_sign.h"
#include "signerd/key_backend.h"

namespace kinko::signerd::internal {

struct TestSpend {
  btc::Transaction funding;       // Pays 100000 sat to the descriptor's script at index 0.
  btc::Psbt psbt;                 // Spends it, updated from the descriptor.
  std::vector<btc::TxOut> spent;  // The output spent, for the interpreter.
};

inline util::Result<TestSpend> MakeTestSpend(const crypto::Secp256k1Context& ctx,
                                             const std::string& descriptor_text,
                                             btc::Network network) {
  util::Result<btc::Descriptor> descriptor = btc::Descriptor::Parse(ctx, descriptor_text, network);
  if (!descriptor.ok()) return descriptor.status();
  util::Result<btc::ScriptInfo> info = descriptor->Expand(ctx, 0);
  if (!info.ok()) return info.status();
  TestSpend spend;
  spend.funding.version = 2;
  spend.funding.inputs.resize(1);
  spend.funding.inputs[0].prevout.txid = btc::Txid(std::array<uint8_t, 32>{0x42});
  spend.funding.outputs.push_back(
      btc::TxOut{.value = 100000, .script_pubkey = info->script_pubkey});
  spend.spent = spend.funding.outputs;

  btc::Transaction spending;
  spending.version = 2;
  btc::TxIn in;
  in.prevout = btc::Outpoint{spend.funding.ComputeTxid(), 0};
  spending.inputs.push_back(in);
  spending.outputs.push_back(btc::TxOut{.value = 99000, .script_pubkey = info->script_pubkey});
  util::Result<btc::Psbt> created = btc::CreatePsbt(spending);
  if (!created.ok()) return created.status();
  const std::vector<btc::Transaction> previous = {spend.funding};
  util::Result<btc::Psbt> updated =
      btc::UpdatePsbtWithDescriptor(ctx, std::move(*created), *descriptor, previous);
  if (!updated.ok()) return updated.status();
  spend.psbt = std::move(*updated);
  return spend;
}

// Each of `backends` signs `spend.psbt` on its own; the results are combined, finalized and
// extracted, and the transaction is verified. Returns OK, or the first failure.
inline util::Status SignFinalizeVerify(const crypto::Secp256k1Context& ctx, const TestSpend& spend,
                                       std::span<const KeyBackend* const> backends) {
  std::vector<btc::Psbt> signed_psbts;
  for (const KeyBackend* backend : backends) {
    btc::PsbtSigningKeys keys;
    if (util::Status status = backend->AddTo(keys); !status.ok()) return status;
    util::Result<btc::PsbtSignResult> result = btc::SignPsbt(ctx, spend.psbt, keys);
    if (!result.ok()) return result.status();
    if (result->signatures_added != 1) {
      return util::InternalError("backend " + std::string(backend->kind()) + " added " +
                                 std::to_string(result->signatures_added) + " signatures");
    }
    signed_psbts.push_back(std::move(result->psbt));
  }
  util::Result<btc::Psbt> combined = btc::CombinePsbts(signed_psbts);
  if (!combined.ok()) return combined.status();
  util::Result<btc::PsbtFinalizeResult> finalized = btc::FinalizePsbt(std::move(*combined));
  if (!finalized.ok()) return finalized.status();
  if (!finalized->complete) return util::InternalError("psbt not complete after signing");
  util::Result<btc::Transaction> tx = btc::ExtractTransaction(finalized->psbt);
  if (!tx.ok()) return tx.status();
  const btc::TxVerifyResult verified =
      btc::VerifyTransaction(ctx, *tx, spend.spent, btc::StandardVerifyFlags());
  if (!verified.valid) return util::InternalError("final transaction: " + verified.detail);
  return util::OkStatus();
}

}  // namespace kinko::signerd::internal

#endif  // KINKO_SIGNERD_INTERNAL_WALLET_TESTING_H_
