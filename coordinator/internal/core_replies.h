// The "result" of each Bitcoin Core RPC that BitcoinCoreChain (coordinator/bitcoin_core.h)
// reads, parsed into what it needs. Field names and shapes as Bitcoin Core 31 documents them
// (`bitcoin-cli help <method>`); unknown fields are ignored (newer nodes add some).
//
// Every function fails with kInvalidArgument naming the field ("item 2: field 'amount': ...")
// when the result does not have the documented shape; the caller reports it as the node's
// unexpected answer. Text from the node is passed through json_rpc::Printable.
//
// Thread-safe: pure functions.
#ifndef KINKO_COORDINATOR_INTERNAL_CORE_REPLIES_H_
#define KINKO_COORDINATOR_INTERNAL_CORE_REPLIES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "coordinator/chain.h"
#include "coordinator/internal/json_rpc.h"
#include "util/result.h"

namespace kinko::coordinator::core_replies {

// `listunspent`: an array of {"txid", "vout", "amount" (BTC), "scriptPubKey" (hex),
// "confirmations"}. Requires vout and confirmations within 0..2^32-1 and amounts as
// json_rpc::ParseBtcAmount.
util::Result<std::vector<ChainUtxo>> ParseUnspent(const json_rpc::Json& result);

// `estimatesmartfee`: {"feerate": BTC/kvB, "blocks"} or, without an estimate, {"errors": [...],
// "blocks"}.
struct FeeEstimate {
  std::optional<uint64_t> sats_per_kvb;  // nullopt: the node has no estimate.
  std::string no_estimate_reason;        // The node's first error, when it gave one.
};
util::Result<FeeEstimate> ParseFeeEstimate(const json_rpc::Json& result);

// `testmempoolaccept` for one transaction: [{"allowed": bool, "reject-reason"?}]. Returns
// nullopt when allowed, else the reject reason ("no reason given" when absent).
util::Result<std::optional<std::string>> ParseTestAccept(const json_rpc::Json& result);

// `importdescriptors` for `count` requests: [{"success": bool, "error"?: {"message"}}, ...].
// Returns nullopt when every import succeeded, else "<names[i]>: <the node's message>" for the
// first that failed. Requires names.size() == count.
util::Result<std::optional<std::string>> ParseImportResults(const json_rpc::Json& result,
                                                            const std::vector<std::string>& names);

// `gettransaction` in a wallet: {"confirmations", "blockheight" (when confirmations > 0),
// "hex"}.
struct WalletTransaction {
  int64_t confirmations = 0;  // Negative: conflicted by a transaction that many blocks deep.
  std::optional<uint32_t> block_height;
  std::vector<uint8_t> raw_tx;
};
util::Result<WalletTransaction> ParseWalletTransaction(const json_rpc::Json& result);

// `getwalletinfo`: whether the wallet has private keys enabled, and is a descriptor wallet.
struct WalletInfo {
  bool private_keys_enabled = true;
  bool descriptors = false;
};
util::Result<WalletInfo> ParseWalletInfo(const json_rpc::Json& result);

// `getdescriptorinfo`: {"checksum" (8 characters), "hasprivatekeys"}.
struct DescriptorInfo {
  std::string checksum;
  bool has_private_keys = false;
};
util::Result<DescriptorInfo> ParseDescriptorInfo(const json_rpc::Json& result);

// A hex string result (`getrawtransaction` with verbose false): its bytes.
util::Result<std::vector<uint8_t>> ParseHexResult(const json_rpc::Json& result);

}  // namespace kinko::coordinator::core_replies

#endif  // KINKO_COORDINATOR_INTERNAL_CORE_REPLIES_H_
