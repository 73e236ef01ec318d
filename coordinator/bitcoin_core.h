// The Bitcoin Core chain backend: ChainBackend (coordinator/chain.h) over Bitcoin Core's
// JSON-RPC (HTTP basic authentication by cookie file or by user and password file).
//
// Each wallet is watched by a watch-only descriptor wallet on the node named
// WalletName(wallet_id) ("kinko-<wallet_id>"): no private keys, both branches of the custody
// descriptor imported with `importdescriptors` (receive: external, change: internal), loaded on
// the node's start-up. Nothing else is asked of the node: it needs neither -txindex (previous
// transactions come from the watch-only wallet when the mempool does not have them) nor an
// unpruned chain once the wallet has seen its coins.
//
// Every call opens its own HTTP connection and reads the credentials again (bitcoind rewrites
// its cookie file each time it starts), so a restarted node is picked up without a restart of
// kinkod. The RPC password is never logged nor put in an error.
//
// Errors of every method: kUnavailable "bitcoin core: ..." when the node cannot be reached
// (connection refused, timeout), cannot read its cookie file, or is starting (RPC error -28),
// not connected (-9) or in initial block download (-10); kPermissionDenied "bitcoin core: rpc
// authentication failed" (HTTP 401) or "... forbidden" (HTTP 403, -rpcwhitelist); for an RPC
// error, "bitcoin core: <method>: <the node's message> (code <n>)" with kInvalidArgument for
// Bitcoin Core's parameter, type, address-or-key and deserialization errors (-8, -3, -5, -22,
// -32602) and kFailedPrecondition for the others; kFailedPrecondition "bitcoin core: <method>:
// unexpected answer: ..." when a reply does not have the documented shape; kDataLoss when a
// transaction from the node does not hash to the txid asked for.
//
// Thread-safe: calls share no connection; the list of watched wallets is behind a mutex.
#ifndef KINKO_COORDINATOR_BITCOIN_CORE_H_
#define KINKO_COORDINATOR_BITCOIN_CORE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "btc/transaction.h"
#include "coordinator/chain.h"
#include "util/result.h"
#include "util/status.h"

namespace kinko::coordinator {

namespace json_rpc {
struct Reply;
}  // namespace json_rpc

struct BitcoinCoreOptions {
  // "http://host:port" (Bitcoin Core's -rpcport; regtest's default is 18443). https:// works
  // too, for a node behind a TLS proxy.
  std::string rpc_url;
  // Authentication: either `cookie_file` (bitcoind's "<datadir>/<chain>/.cookie", read at each
  // call), or `rpc_user` and `password_file` (a file whose first line is the password given to
  // bitcoind's -rpcauth; read at each call, so it can be rotated).
  std::string cookie_file;
  std::string rpc_user;
  std::string password_file;
  // Connection and answer timeout of each call. `importdescriptors` rescans the chain from
  // `rescan_since`, which may take longer than this on mainnet from an old time.
  int timeout_seconds = 120;
  // Where Watch's rescan starts: a Unix time, or nullopt for "now" (the wallet only sees coins
  // that arrive after it is first watched; a descriptor watched before it is funded needs no
  // more).
  std::optional<int64_t> rescan_since;
};

// Not copyable, not movable.
class BitcoinCoreChain final : public ChainBackend {
 public:
  // A backend for the node at options.rpc_url. Does not contact the node. Fails with
  // kInvalidArgument when the URL is not http(s)://host:port, when not exactly one of
  // `cookie_file` and `rpc_user` is given, when `rpc_user` is given without `password_file`
  // or contains ':', or when the timeout is not positive.
  static util::Result<std::unique_ptr<BitcoinCoreChain>> Create(BitcoinCoreOptions options);

  BitcoinCoreChain(const BitcoinCoreChain&) = delete;
  BitcoinCoreChain& operator=(const BitcoinCoreChain&) = delete;

  // The node's name of the watch-only wallet of `wallet_id`: "kinko-" + wallet_id.
  static std::string WalletName(std::string_view wallet_id);

  // The two single-path descriptors of a multipath descriptor "...<0;1>..." (checksum optional):
  // every "<0;1>" replaced by "0" (receive), then by "1" (change), without checksum. Fails with
  // kInvalidArgument when the text has no "<0;1>", another multipath group, or a bad checksum
  // suffix form ("#" not followed by 8 characters at the end).
  static util::Result<std::pair<std::string, std::string>> SplitBranches(
      std::string_view descriptor);

  std::string_view name() const override { return "bitcoin-core"; }

  // Loads the wallet (creating it on the first call: `createwallet` with private keys disabled,
  // blank, descriptors, load on start-up), checks that it is a descriptor wallet without private
  // keys (kFailedPrecondition otherwise: the name is taken by another wallet), gets each
  // branch's checksum from `getdescriptorinfo` (refusing a descriptor with private keys,
  // kInvalidArgument), and imports both branches with the range [0, wallet.range - 1]
  // (kInvalidArgument naming the node's message when an import fails). Idempotent. Requires
  // wallet.range >= 1 (kInvalidArgument).
  util::Status Watch(const ChainWallet& wallet) override;

  // `listunspent` in the watch-only wallet with minconf `min_confirmations` (unconfirmed coins
  // included at 0). A wallet unloaded since Watch (node restart) is loaded again;
  // kFailedPrecondition when the node has no such wallet (Watch first).
  util::Result<std::vector<ChainUtxo>> ListUnspent(const ChainWallet& wallet,
                                                   uint32_t min_confirmations) override;

  // `getrawtransaction` (the mempool, or any transaction with -txindex); when the node does not
  // have it there, `gettransaction` in each wallet watched by this object. kNotFound when none
  // has it. The transaction is checked to hash to `txid` (kDataLoss otherwise).
  util::Result<std::vector<uint8_t>> GetRawTransaction(const btc::Txid& txid) override;

  // `estimatesmartfee` (conservative mode): its BTC/kvB "feerate" read exactly as sat/kvB.
  // kNotFound when the node has no estimate (no "feerate"; a fresh or quiet node);
  // kInvalidArgument for a target the node refuses (0 or above 1008).
  util::Result<uint64_t> EstimateFeeRate(uint32_t target_blocks) override;

  // `testmempoolaccept`: OK when allowed; kFailedPrecondition "bitcoin core: testmempoolaccept:
  // rejected: <reject-reason>" otherwise. kInvalidArgument when `raw_tx` does not parse as a
  // transaction (checked before calling the node).
  util::Status TestAccept(std::span<const uint8_t> raw_tx) override;

  // `sendrawtransaction`. Returns the txid (computed here, and checked against the node's).
  // A transaction the node already has in its mempool or whose outputs are already in the
  // chain (-27; -26 txn-already-known / txn-already-in-mempool /
  // txn-same-nonwitness-data-in-mempool) is OK. kInvalidArgument when `raw_tx` does not parse;
  // kFailedPrecondition with the node's reject reason otherwise.
  util::Result<btc::Txid> Broadcast(std::span<const uint8_t> raw_tx) override;

  // `gettransaction` in the watch-only wallet: known with its confirmations and block height
  // when in a block; when unconfirmed (or not in the wallet), known iff `getmempoolentry` finds
  // it; not known when conflicted (negative confirmations). A wallet unloaded since Watch is
  // loaded again, as ListUnspent.
  util::Result<TxStatus> GetTxStatus(const ChainWallet& wallet, const btc::Txid& txid) override;

 private:
  explicit BitcoinCoreChain(BitcoinCoreOptions options);

  // One call of `method` with `params` on `endpoint` ("/" or "/wallet/<name>"). Returns the
  // node's reply, which may be an RPC error; fails as the header says for everything else.
  util::Result<json_rpc::Reply> Call(const std::string& endpoint, std::string_view method,
                                     const nlohmann::json& params);
  // Call on the root endpoint; an RPC error becomes a Status.
  util::Result<nlohmann::json> CallNode(std::string_view method, const nlohmann::json& params);
  // Call on the wallet's endpoint, loading the wallet again when the node says it is not
  // loaded (-18). Returns the reply (RPC errors included).
  util::Result<json_rpc::Reply> CallWallet(const std::string& wallet_name, std::string_view method,
                                           const nlohmann::json& params);
  // `loadwallet` with load_on_startup; OK when loaded now or already (-35). Returns the reply
  // error (-18: no such wallet) for the caller to decide.
  util::Result<json_rpc::Reply> LoadWallet(const std::string& wallet_name);
  // Loads or creates the watch-only wallet and checks its flags.
  util::Status LoadOrCreateWallet(const std::string& wallet_name);
  // The descriptor with its "#checksum" from `getdescriptorinfo`.
  util::Result<std::string> WithChecksum(const std::string& descriptor);
  // Reads the cookie or password file: {user, password}.
  util::Result<std::pair<std::string, std::string>> Credentials() const;

  const BitcoinCoreOptions options_;
  std::atomic<uint64_t> next_id_{1};
  std::mutex mutex_;
  std::set<std::string> watched_wallets_;  // Guarded by mutex_: node wallet names.
};

}  // namespace kinko::coordinator

#endif  // KINKO_COORDINATOR_BITCOIN_CORE_H_
