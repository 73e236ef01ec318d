// Builds the unsigned PSBT of a batch: the intents' outputs (in intent order, then output order),
// the selected coins as inputs (each with its full previous transaction, witness UTXO, scripts
// and the BIP32 derivations of every key, which the signers require), change to the wallet's
// change branch at the given index (with its derivations), RBF signalled (sequence 0xfffffffd),
// nLockTime 0, version 2.
//
// Thread-safe: pure functions.
#ifndef KINKO_COORDINATOR_PSBT_BUILDER_H_
#define KINKO_COORDINATOR_PSBT_BUILDER_H_

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "btc/descriptor.h"
#include "btc/psbt.h"
#include "btc/transaction.h"
#include "coordinator/coin_selection.h"
#include "crypto/secp256k1.h"
#include "storage/store.h"
#include "util/result.h"

namespace kinko::coordinator {

struct BuildInput {
  storage::Utxo coin;                // branch (change) and index say how to derive it.
  std::vector<uint8_t> previous_tx;  // The raw transaction that created it.
};

struct BuildParams {
  std::vector<storage::PayOutput> outputs;  // Every intent's outputs, in order.
  std::vector<BuildInput> inputs;           // In transaction order.
  std::optional<uint32_t> change_index;     // With change_sats > 0.
  int64_t change_sats = 0;
};

// The vsize estimates the selection needs for `descriptor` (a public multipath descriptor
// <receive;change>) on `network`: a signed input, a change output, spending that change.
struct WalletSizes {
  uint64_t input_vbytes = 0;
  uint64_t change_output_vbytes = 0;
  uint64_t change_spend_vbytes = 0;
};
util::Result<WalletSizes> SizesFor(const crypto::Secp256k1Context& ctx,
                                   const btc::Descriptor& descriptor);

// The base vsize (without inputs and change) of a transaction paying `outputs` on `network`.
// Fails with kInvalidArgument naming an address that does not decode.
util::Result<uint64_t> BaseVbytes(std::span<const storage::PayOutput> outputs,
                                  btc::Network network);

// The PSBT. Fails with kInvalidArgument when an address does not decode on `network`, a previous
// transaction is not the coin's (txid or output mismatch), or a coin's script is not the
// descriptor's at its branch and index.
util::Result<btc::Psbt> BuildPsbt(const crypto::Secp256k1Context& ctx,
                                  const btc::Descriptor& descriptor, btc::Network network,
                                  const BuildParams& params);

}  // namespace kinko::coordinator

#endif  // KINKO_COORDINATOR_PSBT_BUILDER_H_
