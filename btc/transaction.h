// Bitcoin transactions: outpoints, inputs, outputs, witnesses; the legacy and BIP144 segwit
// serializations; txid, wtxid, size, weight and virtual size (BIP141).
//
// Thread-safe: value types with one owner; functions are pure.
#ifndef KINKO_BTC_TRANSACTION_H_
#define KINKO_BTC_TRANSACTION_H_

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "btc/script.h"
#include "util/result.h"
#include "util/strong_type.h"

namespace kinko::btc {

// Transaction ids in internal byte order (as hashed); Bitcoin displays them byte-reversed.
using Txid = util::FixedBytes<struct TxidTag, 32>;
using Wtxid = util::FixedBytes<struct WtxidTag, 32>;

// The display form: byte-reversed hex, as in Bitcoin Core's RPCs.
std::string TxidToHex(const Txid& txid);
std::string WtxidToHex(const Wtxid& wtxid);
// Parses the display form (64 hex characters, byte-reversed). kInvalidArgument otherwise.
util::Result<Txid> TxidFromHex(std::string_view hex);

struct Outpoint {
  Txid txid;
  uint32_t index = 0;
  // The null outpoint of a coinbase input.
  bool IsNull() const { return txid.IsZero() && index == 0xffffffff; }
  friend auto operator<=>(const Outpoint&, const Outpoint&) = default;
  friend bool operator==(const Outpoint&, const Outpoint&) = default;
};

struct TxIn {
  Outpoint prevout;
  Script script_sig;
  uint32_t sequence = 0xffffffff;
  std::vector<std::vector<uint8_t>> witness;  // Witness stack items, bottom first.
  friend bool operator==(const TxIn&, const TxIn&) = default;
};

struct TxOut {
  int64_t value = 0;  // Satoshi. Parsed as-is; range rules belong to the checks that need them.
  Script script_pubkey;
  friend bool operator==(const TxOut&, const TxOut&) = default;
};

enum class WitnessSerialization {
  kWith,     // BIP144 form when any input has a witness (marker 0x00, flag 0x01).
  kWithout,  // Legacy form, as hashed for the txid.
};

struct Transaction {
  uint32_t version = 2;
  std::vector<TxIn> inputs;
  std::vector<TxOut> outputs;
  uint32_t lock_time = 0;

  // Parses the serialization Bitcoin Core accepts (legacy, or BIP144 with witnesses). Fails with
  // kInvalidArgument naming the field and byte offset on truncation, trailing bytes, an
  // impossible count, a non-canonical compact size, a witness flag other than 1, or a
  // superfluous witness (all witnesses empty with the flag set).
  static util::Result<Transaction> Parse(std::span<const uint8_t> bytes);
  // Parses hex, then as Parse.
  static util::Result<Transaction> ParseHex(std::string_view hex);

  std::vector<uint8_t> Serialize(WitnessSerialization witness = WitnessSerialization::kWith) const;

  bool HasWitness() const;
  Txid ComputeTxid() const;
  Wtxid ComputeWtxid() const;
  // Bytes of the full serialization, and of the serialization without witnesses.
  size_t TotalSize() const;
  size_t BaseSize() const;
  // BIP141: base_size * 3 + total_size.
  size_t Weight() const;
  // ceil(weight / 4).
  size_t VirtualSize() const;

  friend bool operator==(const Transaction&, const Transaction&) = default;
};

}  // namespace kinko::btc

#endif  // KINKO_BTC_TRANSACTION_H_
