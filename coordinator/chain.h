// The coordinator's view of the chain (DESIGN.md section 6), behind one interface owned here:
//   - BitcoinCoreChain (coordinator/bitcoin_core.h): Bitcoin Core's JSON-RPC, with a watch-only
//     descriptor wallet holding the custody descriptor;
//   - OfflineChain (coordinator/offline_chain.h): no node; coins come from raw transactions
//     imported into the store (`kinko utxo import`), final transactions are written to files for
//     broadcast elsewhere (air-gapped flows, and the demo).
// Nothing the chain backend says is trusted by the signers: they re-derive every input from the
// full previous transaction the coordinator must supply.
//
// Thread-safe: implementations may be called from several threads at once.
#ifndef KINKO_COORDINATOR_CHAIN_H_
#define KINKO_COORDINATOR_CHAIN_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "btc/transaction.h"
#include "util/result.h"
#include "util/status.h"

namespace kinko::coordinator {

// A wallet as the chain backend must know it.
struct ChainWallet {
  std::string wallet_id;
  // The public multipath descriptor "<0;1>" (with checksum or without).
  std::string descriptor;
  // How many indexes of each branch to watch from 0 (Bitcoin Core's descriptor range).
  uint32_t range = 1000;
};

// A coin the backend sees paying one of the wallet's scripts.
struct ChainUtxo {
  btc::Outpoint outpoint;
  int64_t sats = 0;
  std::vector<uint8_t> script_pubkey;
  uint32_t confirmations = 0;  // 0: in the mempool.
};

// What the backend knows of a transaction.
struct TxStatus {
  bool known = false;          // In the mempool or a block (for the offline backend: exported).
  uint32_t confirmations = 0;  // 0 while unconfirmed.
  std::optional<uint32_t> block_height;
};

class ChainBackend {
 public:
  virtual ~ChainBackend() = default;

  // "bitcoin-core" or "offline", for logs and /healthz.
  virtual std::string_view name() const = 0;

  // Makes the backend watch `wallet` (Bitcoin Core: creates or loads a watch-only descriptor
  // wallet named after wallet_id and imports both branches with `importdescriptors`; idempotent).
  // Fails with kUnavailable when the node cannot be reached, kInvalidArgument when it refuses the
  // descriptor (naming the node's message).
  virtual util::Status Watch(const ChainWallet& wallet) = 0;

  // The coins the backend sees for `wallet` (watched first), with at least `min_confirmations`.
  // The offline backend has no view of its own: it returns kFailedPrecondition (its coins are
  // imported into the store). Fails with kUnavailable when the node cannot be reached.
  virtual util::Result<std::vector<ChainUtxo>> ListUnspent(const ChainWallet& wallet,
                                                           uint32_t min_confirmations) = 0;

  // The raw transaction `txid` (previous transactions of PSBT inputs). kNotFound when the
  // backend does not have it.
  virtual util::Result<std::vector<uint8_t>> GetRawTransaction(const btc::Txid& txid) = 0;

  // The fee rate for confirmation within `target_blocks`, in satoshi per 1000 virtual bytes.
  // kNotFound when the backend has no estimate (a fresh regtest node, the offline backend):
  // the caller then uses its configured fallback.
  virtual util::Result<uint64_t> EstimateFeeRate(uint32_t target_blocks) = 0;

  // Whether the node would accept `raw_tx` into its mempool: OK, or kFailedPrecondition with the
  // node's reject reason. The offline backend always returns OK (it cannot know).
  virtual util::Status TestAccept(std::span<const uint8_t> raw_tx) = 0;

  // Sends `raw_tx` to the network (offline: writes it to the export directory as
  // "<txid>.hex", fsynced). Idempotent: a transaction the node already has is OK. Fails with
  // kFailedPrecondition and the node's reject reason, kUnavailable when unreachable.
  virtual util::Result<btc::Txid> Broadcast(std::span<const uint8_t> raw_tx) = 0;

  // What the backend knows of `txid`, for `wallet` (whose watch-only wallet tracks it).
  virtual util::Result<TxStatus> GetTxStatus(const ChainWallet& wallet, const btc::Txid& txid) = 0;
};

}  // namespace kinko::coordinator

#endif  // KINKO_COORDINATOR_CHAIN_H_
