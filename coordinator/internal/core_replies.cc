#include "coordinator/internal/core_replies.h"

#include <limits>
#include <utility>

#include "btc/transaction.h"
#include "util/check.h"
#include "util/hex.h"
#include "util/status.h"

namespace kinko::coordinator::core_replies {
namespace {

using json_rpc::Json;

constexpr int64_t kMaxUint32 = std::numeric_limits<uint32_t>::max();

util::Status Invalid(std::string what) { return util::InvalidArgumentError(std::move(what)); }

// An integer member within 0..2^32-1.
util::Result<uint32_t> Uint32Member(const Json& object, std::string_view name) {
  util::Result<int64_t> value = json_rpc::IntMember(object, name);
  if (!value.ok()) return value.status();
  if (*value < 0 || *value > kMaxUint32) {
    return Invalid("field '" + std::string(name) + "': out of range");
  }
  return static_cast<uint32_t>(*value);
}

util::Result<std::vector<uint8_t>> HexMember(const Json& object, std::string_view name) {
  util::Result<std::string> text = json_rpc::StringMember(object, name);
  if (!text.ok()) return text.status();
  util::Result<std::vector<uint8_t>> bytes = util::HexDecode(*text);
  if (!bytes.ok()) return bytes.status().WithPrefix("field '" + std::string(name) + "'");
  return bytes;
}

util::Result<ChainUtxo> ParseUnspentItem(const Json& item) {
  if (!item.is_object()) return Invalid("expected an object");
  ChainUtxo utxo;
  util::Result<std::string> txid = json_rpc::StringMember(item, "txid");
  if (!txid.ok()) return txid.status();
  util::Result<btc::Txid> parsed_txid = btc::TxidFromHex(*txid);
  if (!parsed_txid.ok()) return parsed_txid.status().WithPrefix("field 'txid'");
  utxo.outpoint.txid = *parsed_txid;
  util::Result<uint32_t> vout = Uint32Member(item, "vout");
  if (!vout.ok()) return vout.status();
  utxo.outpoint.index = *vout;
  util::Result<int64_t> sats = json_rpc::BtcAmountMember(item, "amount");
  if (!sats.ok()) return sats.status();
  utxo.sats = *sats;
  util::Result<std::vector<uint8_t>> script = HexMember(item, "scriptPubKey");
  if (!script.ok()) return script.status();
  utxo.script_pubkey = std::move(*script);
  util::Result<uint32_t> confirmations = Uint32Member(item, "confirmations");
  if (!confirmations.ok()) return confirmations.status();
  utxo.confirmations = *confirmations;
  return utxo;
}

}  // namespace

util::Result<std::vector<ChainUtxo>> ParseUnspent(const Json& result) {
  if (!result.is_array()) return Invalid("expected an array");
  std::vector<ChainUtxo> utxos;
  utxos.reserve(result.size());
  for (size_t i = 0; i < result.size(); ++i) {
    util::Result<ChainUtxo> utxo = ParseUnspentItem(result[i]);
    if (!utxo.ok()) return utxo.status().WithPrefix("item " + std::to_string(i));
    utxos.push_back(std::move(*utxo));
  }
  return utxos;
}

util::Result<FeeEstimate> ParseFeeEstimate(const Json& result) {
  if (!result.is_object()) return Invalid("expected an object");
  FeeEstimate estimate;
  if (!result.contains("feerate")) {
    // {"errors": ["Insufficient data or no feerate found"], "blocks": 0}
    const auto errors = result.find("errors");
    if (errors != result.end() && errors->is_array() && !errors->empty() &&
        (*errors)[0].is_string()) {
      estimate.no_estimate_reason =
          json_rpc::Printable((*errors)[0].get<std::string>(), json_rpc::kMaxMessageSize);
    }
    return estimate;
  }
  // BTC per 1000 vbytes, so its satoshis are satoshis per 1000 vbytes.
  util::Result<int64_t> sats_per_kvb = json_rpc::BtcAmountMember(result, "feerate");
  if (!sats_per_kvb.ok()) return sats_per_kvb.status();
  estimate.sats_per_kvb = static_cast<uint64_t>(*sats_per_kvb);
  return estimate;
}

util::Result<std::optional<std::string>> ParseTestAccept(const Json& result) {
  if (!result.is_array() || result.size() != 1 || !result[0].is_object()) {
    return Invalid("expected an array of one object");
  }
  util::Result<bool> allowed = json_rpc::BoolMember(result[0], "allowed");
  if (!allowed.ok()) return allowed.status();
  if (*allowed) return std::optional<std::string>();
  util::Result<std::string> reason = json_rpc::StringMember(result[0], "reject-reason");
  return std::optional<std::string>(
      reason.ok() ? json_rpc::Printable(*reason, json_rpc::kMaxMessageSize) : "no reason given");
}

util::Result<std::optional<std::string>> ParseImportResults(const Json& result,
                                                            const std::vector<std::string>& names) {
  if (!result.is_array() || result.size() != names.size()) {
    return Invalid("expected " + std::to_string(names.size()) + " results");
  }
  for (size_t i = 0; i < names.size(); ++i) {
    if (!result[i].is_object()) return Invalid(names[i] + ": expected an object");
    util::Result<bool> success = json_rpc::BoolMember(result[i], "success");
    if (!success.ok()) return success.status().WithPrefix(names[i]);
    if (*success) continue;
    // {"success": false, "error": {"code": ..., "message": ...}}
    std::string message = "no reason given";
    const auto error = result[i].find("error");
    if (error != result[i].end() && error->is_object()) {
      util::Result<std::string> text = json_rpc::StringMember(*error, "message");
      if (text.ok()) message = json_rpc::Printable(*text, json_rpc::kMaxMessageSize);
    }
    return std::optional<std::string>(names[i] + ": " + message);
  }
  return std::optional<std::string>();
}

util::Result<WalletTransaction> ParseWalletTransaction(const Json& result) {
  if (!result.is_object()) return Invalid("expected an object");
  WalletTransaction tx;
  util::Result<int64_t> confirmations = json_rpc::IntMember(result, "confirmations");
  if (!confirmations.ok()) return confirmations.status();
  tx.confirmations = *confirmations;
  if (tx.confirmations > kMaxUint32) return Invalid("field 'confirmations': out of range");
  if (tx.confirmations > 0) {
    util::Result<uint32_t> height = Uint32Member(result, "blockheight");
    if (!height.ok()) return height.status();
    tx.block_height = *height;
  }
  util::Result<std::vector<uint8_t>> raw = HexMember(result, "hex");
  if (!raw.ok()) return raw.status();
  tx.raw_tx = std::move(*raw);
  return tx;
}

util::Result<WalletInfo> ParseWalletInfo(const Json& result) {
  if (!result.is_object()) return Invalid("expected an object");
  util::Result<bool> private_keys = json_rpc::BoolMember(result, "private_keys_enabled");
  if (!private_keys.ok()) return private_keys.status();
  util::Result<bool> descriptors = json_rpc::BoolMember(result, "descriptors");
  if (!descriptors.ok()) return descriptors.status();
  return WalletInfo{.private_keys_enabled = *private_keys, .descriptors = *descriptors};
}

util::Result<DescriptorInfo> ParseDescriptorInfo(const Json& result) {
  if (!result.is_object()) return Invalid("expected an object");
  util::Result<std::string> checksum = json_rpc::StringMember(result, "checksum");
  if (!checksum.ok()) return checksum.status();
  // BIP 380: 8 characters of the checksum alphabet; only they may follow '#'.
  static constexpr std::string_view kCharset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
  if (checksum->size() != 8 || checksum->find_first_not_of(kCharset) != std::string::npos) {
    return Invalid("field 'checksum': expected 8 checksum characters");
  }
  util::Result<bool> private_keys = json_rpc::BoolMember(result, "hasprivatekeys");
  if (!private_keys.ok()) return private_keys.status();
  return DescriptorInfo{.checksum = std::move(*checksum), .has_private_keys = *private_keys};
}

util::Result<std::vector<uint8_t>> ParseHexResult(const Json& result) {
  if (!result.is_string()) return Invalid("expected a hex string");
  return util::HexDecode(result.get<std::string>());
}

}  // namespace kinko::coordinator::core_replies
