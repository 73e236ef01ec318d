#include "coordinator/bitcoin_core.h"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <limits>
#include <utility>

#include "coordinator/internal/json_rpc.h"
#include "net/http_client.h"
#include "util/hex.h"

namespace kinko::coordinator {
namespace {

using json_rpc::Json;
using json_rpc::Printable;
using json_rpc::Reply;
using json_rpc::RpcError;

// Bitcoin Core's RPCErrorCode values (src/rpc/protocol.h) that change what we do.
constexpr int64_t kRpcInvalidAddressOrKey = -5;  // Also: no such transaction.
constexpr int64_t kRpcWalletError = -4;
constexpr int64_t kRpcWalletNotFound = -18;
constexpr int64_t kRpcWalletAlreadyLoaded = -35;
constexpr int64_t kRpcWalletAlreadyExists = -36;
constexpr int64_t kRpcVerifyRejected = -26;
constexpr int64_t kRpcVerifyAlreadyInUtxoSet = -27;

// Cookie and password files are a line; anything larger is not one.
constexpr size_t kMaxCredentialFileSize = 4096;

std::string Quoted(std::string_view text) { return "'" + Printable(text, 200) + "'"; }

// The status of an RPC error answered to `method`.
util::Status RpcErrorStatus(std::string_view method, const RpcError& error) {
  std::string message = "bitcoin core: " + std::string(method) + ": " + error.message + " (code " +
                        std::to_string(error.code) + ")";
  switch (error.code) {
    case -28:  // RPC_IN_WARMUP
    case -9:   // RPC_CLIENT_NOT_CONNECTED
    case -10:  // RPC_CLIENT_IN_INITIAL_DOWNLOAD
      return util::UnavailableError(std::move(message));
    case -3:      // RPC_TYPE_ERROR
    case -5:      // RPC_INVALID_ADDRESS_OR_KEY
    case -8:      // RPC_INVALID_PARAMETER
    case -22:     // RPC_DESERIALIZATION_ERROR
    case -32602:  // RPC_INVALID_PARAMS
      return util::InvalidArgumentError(std::move(message));
    default:
      return util::FailedPreconditionError(std::move(message));
  }
}

// A reply that does not have the shape Bitcoin Core documents.
util::Status Unexpected(std::string_view method, const util::Status& status) {
  return util::FailedPreconditionError("bitcoin core: " + std::string(method) +
                                       ": unexpected answer: " + status.message());
}

// The wallet's endpoint. Bitcoin Core URL-decodes the name, so every byte outside RFC 3986's
// unreserved characters is percent-encoded.
std::string WalletEndpoint(std::string_view wallet_name) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string path = "/wallet/";
  for (const char c : wallet_name) {
    const uint8_t b = static_cast<uint8_t>(c);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      path += c;
    } else {
      path += '%';
      path += kHex[b >> 4];
      path += kHex[b & 0x0f];
    }
  }
  return path;
}

// The contents of the small file at `path`. Fails with kUnavailable naming the file (`what`)
// and the reason.
util::Result<std::string> ReadSmallFile(const std::string& path, std::string_view what) {
  const std::string name = "bitcoin core: " + std::string(what) + " " + Quoted(path);
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return util::UnavailableError(name + ": cannot open (" + strerror(errno) + ")");
  std::string text;
  std::array<char, 512> buffer;
  while (true) {
    const ssize_t got = read(fd, buffer.data(), buffer.size());
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      const int error = errno;
      close(fd);
      return util::UnavailableError(name + ": cannot read (" + strerror(error) + ")");
    }
    if (got == 0) break;
    text.append(buffer.data(), static_cast<size_t>(got));
    if (text.size() > kMaxCredentialFileSize) {
      close(fd);
      return util::UnavailableError(name + ": larger than " +
                                    std::to_string(kMaxCredentialFileSize) + " bytes");
    }
  }
  close(fd);
  return text;
}

// `text` up to its first line break.
std::string FirstLine(std::string text) {
  const size_t end = text.find_first_of("\r\n");
  if (end != std::string::npos) text.resize(end);
  return text;
}

// Requires the transaction `bytes` to be the one with `txid`. kDataLoss otherwise.
util::Status CheckTxid(std::string_view method, std::span<const uint8_t> bytes,
                       const btc::Txid& txid) {
  const std::string asked = btc::TxidToHex(txid);
  util::Result<btc::Transaction> tx = btc::Transaction::Parse(bytes);
  if (!tx.ok()) {
    return util::DataLossError("bitcoin core: " + std::string(method) + ": transaction " + asked +
                               ": does not parse: " + tx.status().message());
  }
  const btc::Txid got = tx->ComputeTxid();
  if (got != txid) {
    return util::DataLossError("bitcoin core: " + std::string(method) + ": transaction " + asked +
                               ": the node returned transaction " + btc::TxidToHex(got));
  }
  return util::OkStatus();
}

// The transaction `raw_tx` parsed, or kInvalidArgument.
util::Result<btc::Transaction> ParseTransaction(std::span<const uint8_t> raw_tx) {
  util::Result<btc::Transaction> tx = btc::Transaction::Parse(raw_tx);
  if (!tx.ok()) return tx.status().WithPrefix("transaction");
  return tx;
}

// Is this -26 rejection one of "the node has this transaction already"?
bool IsAlreadyKnown(const RpcError& error) {
  if (error.code != kRpcVerifyRejected) return false;
  for (const std::string_view reason :
       {"txn-already-known", "txn-already-in-mempool", "txn-same-nonwitness-data-in-mempool"}) {
    if (error.message.starts_with(reason)) return true;
  }
  return false;
}

}  // namespace

BitcoinCoreChain::BitcoinCoreChain(BitcoinCoreOptions options) : options_(std::move(options)) {}

util::Result<std::unique_ptr<BitcoinCoreChain>> BitcoinCoreChain::Create(
    BitcoinCoreOptions options) {
  util::Result<net::HttpClient> client = net::HttpClient::Create(options.rpc_url);
  if (!client.ok()) return client.status().WithPrefix("bitcoin core");
  const bool cookie = !options.cookie_file.empty();
  const bool user = !options.rpc_user.empty();
  if (cookie == user) {
    return util::InvalidArgumentError(
        "bitcoin core: give either a cookie file or an rpc user and password file");
  }
  if (user && options.password_file.empty()) {
    return util::InvalidArgumentError("bitcoin core: rpc user without a password file");
  }
  if (user && options.rpc_user.find(':') != std::string::npos) {
    return util::InvalidArgumentError("bitcoin core: rpc user contains ':'");
  }
  if (options.timeout_seconds <= 0) {
    return util::InvalidArgumentError("bitcoin core: timeout must be positive");
  }
  return std::unique_ptr<BitcoinCoreChain>(new BitcoinCoreChain(std::move(options)));
}

std::string BitcoinCoreChain::WalletName(std::string_view wallet_id) {
  return "kinko-" + std::string(wallet_id);
}

util::Result<std::pair<std::string, std::string>> BitcoinCoreChain::SplitBranches(
    std::string_view descriptor) {
  static constexpr std::string_view kMultipath = "<0;1>";
  const size_t hash = descriptor.find('#');
  if (hash != std::string_view::npos) {
    // BIP 380: "#" and 8 checksum characters end the text. The node checks the checksum of
    // each branch we send; this one would only be dropped, so it is not checked here.
    if (hash + 9 != descriptor.size()) {
      return util::InvalidArgumentError(
          "descriptor: '#' must be followed by an 8-character "
          "checksum at the end");
    }
    descriptor = descriptor.substr(0, hash);
  }
  std::string receive;
  std::string change;
  size_t groups = 0;
  size_t from = 0;
  while (true) {
    const size_t open = descriptor.find('<', from);
    receive += descriptor.substr(from, open - from);
    change += descriptor.substr(from, open - from);
    if (open == std::string_view::npos) break;
    if (descriptor.substr(open, kMultipath.size()) != kMultipath) {
      return util::InvalidArgumentError(
          "descriptor: the only multipath group allowed is <0;1> (receive; change)");
    }
    receive += '0';
    change += '1';
    ++groups;
    from = open + kMultipath.size();
  }
  if (groups == 0) {
    return util::InvalidArgumentError("descriptor: no <0;1> multipath group (receive; change)");
  }
  return std::make_pair(std::move(receive), std::move(change));
}

util::Result<std::pair<std::string, std::string>> BitcoinCoreChain::Credentials() const {
  if (!options_.cookie_file.empty()) {
    util::Result<std::string> cookie = ReadSmallFile(options_.cookie_file, "cookie file");
    if (!cookie.ok()) return cookie.status();
    // bitcoind writes "__cookie__:<password>".
    std::string line = FirstLine(std::move(*cookie));
    const size_t colon = line.find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == line.size()) {
      return util::UnavailableError("bitcoin core: cookie file " + Quoted(options_.cookie_file) +
                                    ": expected user:password");
    }
    return std::make_pair(line.substr(0, colon), line.substr(colon + 1));
  }
  util::Result<std::string> password = ReadSmallFile(options_.password_file, "rpc password file");
  if (!password.ok()) return password.status();
  std::string line = FirstLine(std::move(*password));
  if (line.empty()) {
    return util::UnavailableError("bitcoin core: rpc password file " +
                                  Quoted(options_.password_file) + ": empty");
  }
  return std::make_pair(options_.rpc_user, std::move(line));
}

util::Result<Reply> BitcoinCoreChain::Call(const std::string& endpoint, std::string_view method,
                                           const Json& params) {
  const std::string where = "bitcoin core: " + std::string(method);
  util::Result<std::pair<std::string, std::string>> credentials = Credentials();
  if (!credentials.ok()) return credentials.status();
  // Invariant: the password goes only into the client's Authorization header.
  net::HttpClientOptions http;
  http.connect_timeout_seconds = options_.timeout_seconds;
  http.read_timeout_seconds = options_.timeout_seconds;
  http.basic_user = credentials->first;
  http.basic_password = credentials->second;
  util::Result<net::HttpClient> client = net::HttpClient::Create(options_.rpc_url, std::move(http));
  if (!client.ok()) return client.status().WithPrefix("bitcoin core");
  const uint64_t id = next_id_.fetch_add(1);
  util::Result<net::HttpResponse> response =
      client->Post(endpoint, json_rpc::BuildRequest(method, params, id), "application/json");
  if (!response.ok()) return response.status().WithPrefix(where);
  if (response->status == 401) {
    return util::PermissionDeniedError("bitcoin core: rpc authentication failed");
  }
  if (response->status == 403) {
    return util::PermissionDeniedError(where + ": forbidden (http 403; -rpcwhitelist?)");
  }
  util::Result<Reply> reply = json_rpc::ParseReply(response->body, id);
  if (reply.ok()) return reply;
  // Not a JSON-RPC reply: an overloaded node ("work queue depth exceeded", 503) or something
  // else than Bitcoin Core answering.
  const std::string status = "http " + std::to_string(response->status);
  if (response->status >= 500) return util::UnavailableError(where + ": " + status);
  if (response->status != 200) return util::FailedPreconditionError(where + ": " + status);
  return Unexpected(method, reply.status());
}

util::Result<Json> BitcoinCoreChain::CallNode(std::string_view method, const Json& params) {
  util::Result<Reply> reply = Call("/", method, params);
  if (!reply.ok()) return reply.status();
  if (reply->error) return RpcErrorStatus(method, *reply->error);
  return std::move(reply->result);
}

util::Result<Reply> BitcoinCoreChain::LoadWallet(const std::string& wallet_name) {
  util::Result<Reply> reply =
      Call("/", "loadwallet", {{"filename", wallet_name}, {"load_on_startup", true}});
  if (reply.ok() && reply->error && reply->error->code == kRpcWalletAlreadyLoaded) {
    reply->error.reset();
  }
  return reply;
}

util::Result<Reply> BitcoinCoreChain::CallWallet(const std::string& wallet_name,
                                                 std::string_view method, const Json& params) {
  const std::string endpoint = WalletEndpoint(wallet_name);
  util::Result<Reply> reply = Call(endpoint, method, params);
  if (!reply.ok() || !reply->error || reply->error->code != kRpcWalletNotFound) return reply;
  // The node restarted without the wallet loaded (or it was unloaded): load it once, retry.
  util::Result<Reply> loaded = LoadWallet(wallet_name);
  if (!loaded.ok()) return loaded.status();
  if (loaded->error && loaded->error->code == kRpcWalletNotFound) {
    return util::FailedPreconditionError("bitcoin core: wallet " + Quoted(wallet_name) +
                                         " is not on the node (watch the wallet first)");
  }
  if (loaded->error) return RpcErrorStatus("loadwallet", *loaded->error);
  return Call(endpoint, method, params);
}

util::Status BitcoinCoreChain::LoadOrCreateWallet(const std::string& wallet_name) {
  util::Result<Reply> loaded = LoadWallet(wallet_name);
  if (!loaded.ok()) return loaded.status();
  if (loaded->error && loaded->error->code != kRpcWalletNotFound) {
    return RpcErrorStatus("loadwallet", *loaded->error);
  }
  if (loaded->error) {
    util::Result<Reply> created = Call("/", "createwallet",
                                       {{"wallet_name", wallet_name},
                                        {"disable_private_keys", true},
                                        {"blank", true},
                                        {"descriptors", true},
                                        {"load_on_startup", true}});
    if (!created.ok()) return created.status();
    if (created->error) {
      const RpcError create_error = *created->error;
      // Another process created it since our loadwallet: load it.
      if (create_error.code != kRpcWalletError && create_error.code != kRpcWalletAlreadyExists) {
        return RpcErrorStatus("createwallet", create_error);
      }
      loaded = LoadWallet(wallet_name);
      if (!loaded.ok()) return loaded.status();
      if (loaded->error) return RpcErrorStatus("createwallet", create_error);
    }
  }
  // A wallet of this name that holds private keys is not ours: refuse to use it.
  util::Result<Reply> info = CallWallet(wallet_name, "getwalletinfo", Json::array());
  if (!info.ok()) return info.status();
  if (info->error) return RpcErrorStatus("getwalletinfo", *info->error);
  if (!info->result.is_object()) {
    return Unexpected("getwalletinfo", util::InvalidArgumentError("expected an object"));
  }
  util::Result<bool> private_keys = json_rpc::BoolMember(info->result, "private_keys_enabled");
  if (!private_keys.ok()) return Unexpected("getwalletinfo", private_keys.status());
  util::Result<bool> descriptors = json_rpc::BoolMember(info->result, "descriptors");
  if (!descriptors.ok()) return Unexpected("getwalletinfo", descriptors.status());
  if (*private_keys || !*descriptors) {
    return util::FailedPreconditionError("bitcoin core: wallet " + Quoted(wallet_name) +
                                         " exists and is not a watch-only descriptor wallet");
  }
  return util::OkStatus();
}

util::Result<std::string> BitcoinCoreChain::WithChecksum(const std::string& descriptor) {
  util::Result<Json> info = CallNode("getdescriptorinfo", Json::array({descriptor}));
  if (!info.ok()) return info.status();
  if (!info->is_object()) {
    return Unexpected("getdescriptorinfo", util::InvalidArgumentError("expected an object"));
  }
  util::Result<bool> private_keys = json_rpc::BoolMember(*info, "hasprivatekeys");
  if (!private_keys.ok()) return Unexpected("getdescriptorinfo", private_keys.status());
  if (*private_keys) {
    return util::InvalidArgumentError("bitcoin core: descriptor has private keys");
  }
  util::Result<std::string> checksum = json_rpc::StringMember(*info, "checksum");
  if (!checksum.ok()) return Unexpected("getdescriptorinfo", checksum.status());
  if (checksum->size() != 8) {
    return Unexpected("getdescriptorinfo",
                      util::InvalidArgumentError("field 'checksum': expected 8 characters"));
  }
  return descriptor + "#" + *checksum;
}

util::Status BitcoinCoreChain::Watch(const ChainWallet& wallet) {
  if (wallet.range == 0) return util::InvalidArgumentError("bitcoin core: wallet range is 0");
  util::Result<std::pair<std::string, std::string>> branches = SplitBranches(wallet.descriptor);
  if (!branches.ok()) return branches.status().WithPrefix("bitcoin core");
  util::Result<std::string> receive = WithChecksum(branches->first);
  if (!receive.ok()) return receive.status();
  util::Result<std::string> change = WithChecksum(branches->second);
  if (!change.ok()) return change.status();

  const std::string wallet_name = WalletName(wallet.wallet_id);
  util::Status loaded = LoadOrCreateWallet(wallet_name);
  if (!loaded.ok()) return loaded;

  const Json timestamp =
      options_.rescan_since ? Json(*options_.rescan_since) : Json(std::string("now"));
  const Json range = Json::array({0, wallet.range - 1});
  const Json requests = Json::array({
      {{"desc", *receive}, {"timestamp", timestamp}, {"range", range}, {"internal", false}},
      {{"desc", *change}, {"timestamp", timestamp}, {"range", range}, {"internal", true}},
  });
  util::Result<Reply> reply = CallWallet(wallet_name, "importdescriptors", Json::array({requests}));
  if (!reply.ok()) return reply.status();
  if (reply->error) return RpcErrorStatus("importdescriptors", *reply->error);
  const Json& results = reply->result;
  if (!results.is_array() || results.size() != 2) {
    return Unexpected("importdescriptors", util::InvalidArgumentError("expected 2 results"));
  }
  static constexpr std::array<std::string_view, 2> kBranchNames = {"receive", "change"};
  for (size_t i = 0; i < 2; ++i) {
    const std::string branch = std::string(kBranchNames[i]) + " branch";
    if (!results[i].is_object()) {
      return Unexpected("importdescriptors",
                        util::InvalidArgumentError(branch + ": expected an object"));
    }
    util::Result<bool> success = json_rpc::BoolMember(results[i], "success");
    if (!success.ok()) return Unexpected("importdescriptors", success.status().WithPrefix(branch));
    if (*success) continue;
    // {"success": false, "error": {"code": ..., "message": ...}}
    std::string message = "no reason given";
    const auto error = results[i].find("error");
    if (error != results[i].end() && error->is_object()) {
      util::Result<std::string> text = json_rpc::StringMember(*error, "message");
      if (text.ok()) message = Printable(*text, json_rpc::kMaxMessageSize);
    }
    return util::InvalidArgumentError("bitcoin core: importdescriptors: " + branch + ": " +
                                      message);
  }
  std::lock_guard<std::mutex> lock(mutex_);
  watched_wallets_.insert(wallet_name);
  return util::OkStatus();
}

util::Result<std::vector<ChainUtxo>> BitcoinCoreChain::ListUnspent(const ChainWallet& wallet,
                                                                   uint32_t min_confirmations) {
  static constexpr std::string_view kMethod = "listunspent";
  util::Result<Reply> reply =
      CallWallet(WalletName(wallet.wallet_id), kMethod, Json::array({min_confirmations}));
  if (!reply.ok()) return reply.status();
  if (reply->error) return RpcErrorStatus(kMethod, *reply->error);
  if (!reply->result.is_array()) {
    return Unexpected(kMethod, util::InvalidArgumentError("expected an array"));
  }
  std::vector<ChainUtxo> utxos;
  utxos.reserve(reply->result.size());
  for (size_t i = 0; i < reply->result.size(); ++i) {
    const Json& item = reply->result[i];
    const std::string where = "item " + std::to_string(i);
    if (!item.is_object()) {
      return Unexpected(kMethod, util::InvalidArgumentError(where + ": expected an object"));
    }
    ChainUtxo utxo;
    util::Result<std::string> txid = json_rpc::StringMember(item, "txid");
    if (!txid.ok()) return Unexpected(kMethod, txid.status().WithPrefix(where));
    util::Result<btc::Txid> parsed_txid = btc::TxidFromHex(*txid);
    if (!parsed_txid.ok()) return Unexpected(kMethod, parsed_txid.status().WithPrefix(where));
    utxo.outpoint.txid = *parsed_txid;
    util::Result<int64_t> vout = json_rpc::IntMember(item, "vout");
    if (!vout.ok()) return Unexpected(kMethod, vout.status().WithPrefix(where));
    if (*vout < 0 || *vout > std::numeric_limits<uint32_t>::max()) {
      return Unexpected(kMethod, util::InvalidArgumentError(where + ": vout out of range"));
    }
    utxo.outpoint.index = static_cast<uint32_t>(*vout);
    util::Result<int64_t> sats = json_rpc::BtcAmountMember(item, "amount");
    if (!sats.ok()) return Unexpected(kMethod, sats.status().WithPrefix(where));
    utxo.sats = *sats;
    util::Result<std::string> script = json_rpc::StringMember(item, "scriptPubKey");
    if (!script.ok()) return Unexpected(kMethod, script.status().WithPrefix(where));
    util::Result<std::vector<uint8_t>> script_bytes = util::HexDecode(*script);
    if (!script_bytes.ok()) {
      return Unexpected(kMethod, script_bytes.status().WithPrefix(where + ": scriptPubKey"));
    }
    utxo.script_pubkey = std::move(*script_bytes);
    util::Result<int64_t> confirmations = json_rpc::IntMember(item, "confirmations");
    if (!confirmations.ok()) return Unexpected(kMethod, confirmations.status().WithPrefix(where));
    if (*confirmations < 0 || *confirmations > std::numeric_limits<uint32_t>::max()) {
      return Unexpected(kMethod,
                        util::InvalidArgumentError(where + ": confirmations out of range"));
    }
    utxo.confirmations = static_cast<uint32_t>(*confirmations);
    utxos.push_back(std::move(utxo));
  }
  return utxos;
}

util::Result<std::vector<uint8_t>> BitcoinCoreChain::GetRawTransaction(const btc::Txid& txid) {
  const std::string txid_hex = btc::TxidToHex(txid);
  util::Result<Reply> reply = Call("/", "getrawtransaction", Json::array({txid_hex, false}));
  if (!reply.ok()) return reply.status();
  if (reply->error && reply->error->code != kRpcInvalidAddressOrKey) {
    return RpcErrorStatus("getrawtransaction", *reply->error);
  }
  if (!reply->error) {
    if (!reply->result.is_string()) {
      return Unexpected("getrawtransaction", util::InvalidArgumentError("expected a hex string"));
    }
    util::Result<std::vector<uint8_t>> bytes = util::HexDecode(reply->result.get<std::string>());
    if (!bytes.ok()) return Unexpected("getrawtransaction", bytes.status());
    util::Status matches = CheckTxid("getrawtransaction", *bytes, txid);
    if (!matches.ok()) return matches;
    return bytes;
  }
  // -5: not in the mempool, and no -txindex. The watch-only wallets keep their transactions.
  std::set<std::string> wallets;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    wallets = watched_wallets_;
  }
  for (const std::string& wallet_name : wallets) {
    util::Result<Reply> found =
        CallWallet(wallet_name, "gettransaction", Json::array({txid_hex, true}));
    if (!found.ok()) return found.status();
    if (found->error && found->error->code == kRpcInvalidAddressOrKey) continue;
    if (found->error) return RpcErrorStatus("gettransaction", *found->error);
    if (!found->result.is_object()) {
      return Unexpected("gettransaction", util::InvalidArgumentError("expected an object"));
    }
    util::Result<std::string> hex = json_rpc::StringMember(found->result, "hex");
    if (!hex.ok()) return Unexpected("gettransaction", hex.status());
    util::Result<std::vector<uint8_t>> bytes = util::HexDecode(*hex);
    if (!bytes.ok()) return Unexpected("gettransaction", bytes.status());
    util::Status matches = CheckTxid("gettransaction", *bytes, txid);
    if (!matches.ok()) return matches;
    return bytes;
  }
  return util::NotFoundError("bitcoin core: transaction " + txid_hex +
                             " not found (not in the mempool nor in a watched wallet)");
}

util::Result<uint64_t> BitcoinCoreChain::EstimateFeeRate(uint32_t target_blocks) {
  static constexpr std::string_view kMethod = "estimatesmartfee";
  util::Result<Json> estimate = CallNode(kMethod, Json::array({target_blocks, "conservative"}));
  if (!estimate.ok()) return estimate.status();
  if (!estimate->is_object()) {
    return Unexpected(kMethod, util::InvalidArgumentError("expected an object"));
  }
  if (!estimate->contains("feerate")) {
    // {"errors": ["Insufficient data or no feerate found"], "blocks": 0}
    std::string why = "no estimate";
    const auto errors = estimate->find("errors");
    if (errors != estimate->end() && errors->is_array() && !errors->empty() &&
        (*errors)[0].is_string()) {
      why = Printable((*errors)[0].get<std::string>(), json_rpc::kMaxMessageSize);
    }
    return util::NotFoundError("bitcoin core: estimatesmartfee: " + std::to_string(target_blocks) +
                               " blocks: " + why);
  }
  // BTC per 1000 vbytes, so its satoshis are satoshis per 1000 vbytes.
  util::Result<int64_t> sats_per_kvb = json_rpc::BtcAmountMember(*estimate, "feerate");
  if (!sats_per_kvb.ok()) return Unexpected(kMethod, sats_per_kvb.status());
  return static_cast<uint64_t>(*sats_per_kvb);
}

util::Status BitcoinCoreChain::TestAccept(std::span<const uint8_t> raw_tx) {
  static constexpr std::string_view kMethod = "testmempoolaccept";
  util::Result<btc::Transaction> tx = ParseTransaction(raw_tx);
  if (!tx.ok()) return tx.status();
  util::Result<Json> results =
      CallNode(kMethod, Json::array({Json::array({util::HexEncode(raw_tx)})}));
  if (!results.ok()) return results.status();
  if (!results->is_array() || results->size() != 1 || !(*results)[0].is_object()) {
    return Unexpected(kMethod, util::InvalidArgumentError("expected an array of one object"));
  }
  const Json& result = (*results)[0];
  util::Result<bool> allowed = json_rpc::BoolMember(result, "allowed");
  if (!allowed.ok()) return Unexpected(kMethod, allowed.status());
  if (*allowed) return util::OkStatus();
  util::Result<std::string> reason = json_rpc::StringMember(result, "reject-reason");
  const std::string why =
      reason.ok() ? Printable(*reason, json_rpc::kMaxMessageSize) : "no reason given";
  return util::FailedPreconditionError("bitcoin core: testmempoolaccept: rejected: " + why);
}

util::Result<btc::Txid> BitcoinCoreChain::Broadcast(std::span<const uint8_t> raw_tx) {
  static constexpr std::string_view kMethod = "sendrawtransaction";
  util::Result<btc::Transaction> tx = ParseTransaction(raw_tx);
  if (!tx.ok()) return tx.status();
  const btc::Txid txid = tx->ComputeTxid();
  util::Result<Reply> reply = Call("/", kMethod, Json::array({util::HexEncode(raw_tx)}));
  if (!reply.ok()) return reply.status();
  if (reply->error) {
    // The node has it already: broadcasting is idempotent.
    if (reply->error->code == kRpcVerifyAlreadyInUtxoSet || IsAlreadyKnown(*reply->error)) {
      return txid;
    }
    return RpcErrorStatus(kMethod, *reply->error);
  }
  if (!reply->result.is_string()) {
    return Unexpected(kMethod, util::InvalidArgumentError("expected a txid string"));
  }
  util::Result<btc::Txid> sent = btc::TxidFromHex(reply->result.get<std::string>());
  if (!sent.ok()) return Unexpected(kMethod, sent.status());
  if (*sent != txid) {
    return util::DataLossError("bitcoin core: sendrawtransaction: sent " + btc::TxidToHex(txid) +
                               ", the node answered " + btc::TxidToHex(*sent));
  }
  return txid;
}

util::Result<TxStatus> BitcoinCoreChain::GetTxStatus(const ChainWallet& wallet,
                                                     const btc::Txid& txid) {
  const std::string txid_hex = btc::TxidToHex(txid);
  util::Result<Reply> reply =
      CallWallet(WalletName(wallet.wallet_id), "gettransaction", Json::array({txid_hex, true}));
  if (!reply.ok()) return reply.status();
  if (reply->error && reply->error->code != kRpcInvalidAddressOrKey) {
    return RpcErrorStatus("gettransaction", *reply->error);
  }
  if (!reply->error) {
    if (!reply->result.is_object()) {
      return Unexpected("gettransaction", util::InvalidArgumentError("expected an object"));
    }
    util::Result<int64_t> confirmations = json_rpc::IntMember(reply->result, "confirmations");
    if (!confirmations.ok()) return Unexpected("gettransaction", confirmations.status());
    // Negative: conflicted by a transaction that many blocks deep; it will never confirm.
    if (*confirmations < 0) return TxStatus{};
    if (*confirmations > 0) {
      util::Result<int64_t> height = json_rpc::IntMember(reply->result, "blockheight");
      if (!height.ok()) return Unexpected("gettransaction", height.status());
      if (*height < 0 || *height > std::numeric_limits<uint32_t>::max() ||
          *confirmations > std::numeric_limits<uint32_t>::max()) {
        return Unexpected("gettransaction", util::InvalidArgumentError("height out of range"));
      }
      return TxStatus{.known = true,
                      .confirmations = static_cast<uint32_t>(*confirmations),
                      .block_height = static_cast<uint32_t>(*height)};
    }
  }
  // Unconfirmed, or not a wallet transaction: the wallet keeps a transaction the mempool has
  // dropped, so only the mempool says whether it is still pending.
  util::Result<Reply> entry = Call("/", "getmempoolentry", Json::array({txid_hex}));
  if (!entry.ok()) return entry.status();
  if (entry->error && entry->error->code == kRpcInvalidAddressOrKey) return TxStatus{};
  if (entry->error) return RpcErrorStatus("getmempoolentry", *entry->error);
  return TxStatus{.known = true, .confirmations = 0, .block_height = std::nullopt};
}

}  // namespace kinko::coordinator
