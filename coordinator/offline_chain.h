// The offline chain backend: ChainBackend (coordinator/chain.h) without a node, for air-gapped
// flows and the demo. Coins come from raw transactions imported into the coordinator's store
// (`kinko utxo import`); a final transaction is "broadcast" by writing it to the export
// directory as "<txid>.hex" (lowercase hex and a newline), from where an operator carries it to
// a node (`bitcoin-cli sendrawtransaction $(cat <txid>.hex)`).
//
// Files are written atomically and durably: a temporary file in the directory, fsynced, renamed
// over "<txid>.hex", then the directory fsynced. A reader never sees a partial file.
//
// Thread-safe: no mutable state; concurrent writes of one transaction each rename a complete
// file of the same content.
#ifndef KINKO_COORDINATOR_OFFLINE_CHAIN_H_
#define KINKO_COORDINATOR_OFFLINE_CHAIN_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "btc/transaction.h"
#include "coordinator/chain.h"
#include "util/result.h"
#include "util/status.h"

namespace kinko::coordinator {

// Not copyable, not movable.
class OfflineChain final : public ChainBackend {
 public:
  // A backend exporting to `export_dir`, which is created with mode 0700 when missing (its
  // parent must exist). Fails with kInvalidArgument when `export_dir` is empty, and with
  // kFailedPrecondition naming the path when it cannot be created or is not a directory.
  static util::Result<std::unique_ptr<OfflineChain>> Create(std::string export_dir);

  OfflineChain(const OfflineChain&) = delete;
  OfflineChain& operator=(const OfflineChain&) = delete;

  const std::string& export_dir() const { return export_dir_; }

  // The path of the exported transaction `txid`: "<export_dir>/<txid>.hex" (display form).
  std::string ExportPath(const btc::Txid& txid) const;

  std::string_view name() const override { return "offline"; }

  // OK: there is nothing to watch.
  util::Status Watch(const ChainWallet& wallet) override;

  // Always kFailedPrecondition "offline backend: coins are imported (kinko utxo import)".
  util::Result<std::vector<ChainUtxo>> ListUnspent(const ChainWallet& wallet,
                                                   uint32_t min_confirmations) override;

  // Always kNotFound: the coordinator's store keeps the imported transactions.
  util::Result<std::vector<uint8_t>> GetRawTransaction(const btc::Txid& txid) override;

  // Always kNotFound: the caller uses its configured fee rate.
  util::Result<uint64_t> EstimateFeeRate(uint32_t target_blocks) override;

  // Always OK: without a node nothing can be checked.
  util::Status TestAccept(std::span<const uint8_t> raw_tx) override;

  // Writes `raw_tx` to ExportPath(its txid) and returns the txid. Writing a transaction again
  // replaces the file atomically (idempotent). Fails with kInvalidArgument when `raw_tx` does
  // not parse as a transaction, and kUnavailable naming the file when it cannot be written.
  util::Result<btc::Txid> Broadcast(std::span<const uint8_t> raw_tx) override;

  // Known (with 0 confirmations) iff the transaction's file exists in the export directory.
  // Fails with kUnavailable when the file cannot be looked at.
  util::Result<TxStatus> GetTxStatus(const ChainWallet& wallet, const btc::Txid& txid) override;

 private:
  explicit OfflineChain(std::string export_dir);

  const std::string export_dir_;
};

}  // namespace kinko::coordinator

#endif  // KINKO_COORDINATOR_OFFLINE_CHAIN_H_
