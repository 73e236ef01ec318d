#include "btc/transaction.h"

#include <algorithm>
#include <string>

#include "btc/internal/serialize.h"
#include "crypto/hash.h"
#include "util/hex.h"

namespace kinko::btc {
namespace {

using internal::Reader;

// The smallest serialization of each repeated element. A count that needs more bytes than are
// left cannot be honest, so it is refused before anything is allocated for it.
constexpr size_t kMinInputSize = 32 + 4 + 1 + 4;  // prevout, empty script_sig, sequence
constexpr size_t kMinOutputSize = 8 + 1;          // value, empty script_pubkey
constexpr size_t kMinWitnessItemSize = 1;         // an empty item's length byte

std::string InputField(size_t i, std::string_view what) {
  return "transaction input " + std::to_string(i) + " " + std::string(what);
}

std::string OutputField(size_t i, std::string_view what) {
  return "transaction output " + std::to_string(i) + " " + std::string(what);
}

// Reads a count of elements that each take at least `min_size` bytes.
util::Result<size_t> ReadCount(Reader& r, std::string_view field, size_t min_size) {
  const size_t start = r.offset();
  util::Result<uint64_t> n = r.ReadCompactSize(field);
  if (!n.ok()) return n.status();
  if (*n > r.remaining() / min_size) {
    return util::InvalidArgumentError(std::string(field) + " at byte " + std::to_string(start) +
                                      ": impossible count " + std::to_string(*n) +
                                      " (needs at least " + std::to_string(*n * min_size) +
                                      " bytes, " + std::to_string(r.remaining()) + " left)");
  }
  return static_cast<size_t>(*n);
}

util::Result<std::vector<TxIn>> ReadInputs(Reader& r) {
  util::Result<size_t> n = ReadCount(r, "transaction input count", kMinInputSize);
  if (!n.ok()) return n.status();
  std::vector<TxIn> inputs(*n);
  for (size_t i = 0; i < inputs.size(); ++i) {
    TxIn& in = inputs[i];
    util::Result<std::span<const uint8_t>> txid = r.ReadBytes(InputField(i, "prevout txid"), 32);
    if (!txid.ok()) return txid.status();
    in.prevout.txid = Txid::FromSpan(*txid);
    util::Result<uint32_t> index = r.ReadU32(InputField(i, "prevout index"));
    if (!index.ok()) return index.status();
    in.prevout.index = *index;
    util::Result<std::vector<uint8_t>> script_sig = r.ReadVarBytes(InputField(i, "script_sig"));
    if (!script_sig.ok()) return script_sig.status();
    in.script_sig = Script(std::move(*script_sig));
    util::Result<uint32_t> sequence = r.ReadU32(InputField(i, "sequence"));
    if (!sequence.ok()) return sequence.status();
    in.sequence = *sequence;
  }
  return inputs;
}

util::Result<std::vector<TxOut>> ReadOutputs(Reader& r) {
  util::Result<size_t> n = ReadCount(r, "transaction output count", kMinOutputSize);
  if (!n.ok()) return n.status();
  std::vector<TxOut> outputs(*n);
  for (size_t i = 0; i < outputs.size(); ++i) {
    util::Result<int64_t> value = r.ReadI64(OutputField(i, "value"));
    if (!value.ok()) return value.status();
    outputs[i].value = *value;
    util::Result<std::vector<uint8_t>> script = r.ReadVarBytes(OutputField(i, "script_pubkey"));
    if (!script.ok()) return script.status();
    outputs[i].script_pubkey = Script(std::move(*script));
  }
  return outputs;
}

util::Status ReadWitness(Reader& r, size_t input, TxIn& in) {
  util::Result<size_t> n =
      ReadCount(r, InputField(input, "witness item count"), kMinWitnessItemSize);
  if (!n.ok()) return n.status();
  in.witness.resize(*n);
  for (size_t j = 0; j < in.witness.size(); ++j) {
    util::Result<std::vector<uint8_t>> item =
        r.ReadVarBytes(InputField(input, "witness item " + std::to_string(j)));
    if (!item.ok()) return item.status();
    in.witness[j] = std::move(*item);
  }
  return util::OkStatus();
}

void WriteTransaction(const Transaction& tx, bool with_witness, std::vector<uint8_t>& out) {
  using namespace internal;  // NOLINT: the Write* helpers.
  WriteU32(out, tx.version);
  if (with_witness) {
    // BIP144: an empty input vector (the marker) then the flag.
    WriteU8(out, 0x00);
    WriteU8(out, 0x01);
  }
  WriteCompactSize(out, tx.inputs.size());
  for (const TxIn& in : tx.inputs) {
    WriteBytes(out, in.prevout.txid.span());
    WriteU32(out, in.prevout.index);
    WriteVarBytes(out, in.script_sig.bytes());
    WriteU32(out, in.sequence);
  }
  WriteCompactSize(out, tx.outputs.size());
  for (const TxOut& o : tx.outputs) {
    WriteI64(out, o.value);
    WriteVarBytes(out, o.script_pubkey.bytes());
  }
  if (with_witness) {
    for (const TxIn& in : tx.inputs) {
      WriteCompactSize(out, in.witness.size());
      for (const std::vector<uint8_t>& item : in.witness) WriteVarBytes(out, item);
    }
  }
  WriteU32(out, tx.lock_time);
}

std::string ReversedHex(std::span<const uint8_t, 32> bytes) {
  std::array<uint8_t, 32> reversed;
  std::reverse_copy(bytes.begin(), bytes.end(), reversed.begin());
  return util::HexEncode(reversed);
}

}  // namespace

std::string TxidToHex(const Txid& txid) { return ReversedHex(txid.span()); }
std::string WtxidToHex(const Wtxid& wtxid) { return ReversedHex(wtxid.span()); }

util::Result<Txid> TxidFromHex(std::string_view hex) {
  util::Result<std::vector<uint8_t>> bytes = util::HexDecodeExact(hex, 32);
  if (!bytes.ok()) return bytes.status().WithPrefix("txid");
  std::reverse(bytes->begin(), bytes->end());
  return Txid::FromSpan(*bytes);
}

// Follows Bitcoin Core's UnserializeTransaction with witnesses allowed: an empty input vector
// is either a transaction without inputs or the BIP144 marker, told apart by the next byte.
util::Result<Transaction> Transaction::Parse(std::span<const uint8_t> bytes) {
  Reader r(bytes);
  Transaction tx;
  util::Result<uint32_t> version = r.ReadU32("transaction version");
  if (!version.ok()) return version.status();
  tx.version = *version;

  util::Result<std::vector<TxIn>> inputs = ReadInputs(r);
  if (!inputs.ok()) return inputs.status();
  tx.inputs = std::move(*inputs);

  uint8_t flag = 0;
  size_t flag_offset = 0;
  if (tx.inputs.empty()) {
    flag_offset = r.offset();
    util::Result<uint8_t> f = r.ReadU8("transaction witness flag");
    if (!f.ok()) return f.status();
    flag = *f;
    if (flag != 0) {
      inputs = ReadInputs(r);
      if (!inputs.ok()) return inputs.status();
      tx.inputs = std::move(*inputs);
      util::Result<std::vector<TxOut>> outputs = ReadOutputs(r);
      if (!outputs.ok()) return outputs.status();
      tx.outputs = std::move(*outputs);
    }
    // With flag 0 the byte was an empty output vector: no inputs and no outputs.
  } else {
    util::Result<std::vector<TxOut>> outputs = ReadOutputs(r);
    if (!outputs.ok()) return outputs.status();
    tx.outputs = std::move(*outputs);
  }

  if ((flag & 1) != 0) {
    for (size_t i = 0; i < tx.inputs.size(); ++i) {
      util::Status s = ReadWitness(r, i, tx.inputs[i]);
      if (!s.ok()) return s;
    }
    if (!tx.HasWitness()) {
      return util::InvalidArgumentError("transaction witness flag at byte " +
                                        std::to_string(flag_offset) +
                                        ": superfluous witness record (every witness is empty)");
    }
    flag ^= 1;
  }
  if (flag != 0) {
    return util::InvalidArgumentError("transaction witness flag at byte " +
                                      std::to_string(flag_offset) +
                                      ": unknown transaction optional data (flag 0x" +
                                      util::HexEncode(std::span<const uint8_t>(&flag, 1)) + ")");
  }

  util::Result<uint32_t> lock_time = r.ReadU32("transaction lock_time");
  if (!lock_time.ok()) return lock_time.status();
  tx.lock_time = *lock_time;
  if (!r.AtEnd()) {
    return r.Error("transaction", std::to_string(r.remaining()) + " trailing bytes");
  }
  return tx;
}

util::Result<Transaction> Transaction::ParseHex(std::string_view hex) {
  util::Result<std::vector<uint8_t>> bytes = util::HexDecode(hex);
  if (!bytes.ok()) return bytes.status().WithPrefix("transaction hex");
  return Parse(*bytes);
}

std::vector<uint8_t> Transaction::Serialize(WitnessSerialization witness) const {
  std::vector<uint8_t> out;
  const bool with_witness = witness == WitnessSerialization::kWith && HasWitness();
  out.reserve(with_witness ? TotalSize() : BaseSize());
  WriteTransaction(*this, with_witness, out);
  return out;
}

bool Transaction::HasWitness() const {
  return std::any_of(inputs.begin(), inputs.end(),
                     [](const TxIn& in) { return !in.witness.empty(); });
}

Txid Transaction::ComputeTxid() const {
  return Txid(crypto::Hash256(Serialize(WitnessSerialization::kWithout)));
}

Wtxid Transaction::ComputeWtxid() const {
  return Wtxid(crypto::Hash256(Serialize(WitnessSerialization::kWith)));
}

size_t Transaction::BaseSize() const {
  using internal::CompactSizeLength;
  size_t size = 4 + CompactSizeLength(inputs.size()) + CompactSizeLength(outputs.size()) + 4;
  for (const TxIn& in : inputs) {
    size += 32 + 4 + CompactSizeLength(in.script_sig.size()) + in.script_sig.size() + 4;
  }
  for (const TxOut& o : outputs) {
    size += 8 + CompactSizeLength(o.script_pubkey.size()) + o.script_pubkey.size();
  }
  return size;
}

size_t Transaction::TotalSize() const {
  using internal::CompactSizeLength;
  size_t size = BaseSize();
  if (!HasWitness()) return size;
  size += 2;  // marker and flag
  for (const TxIn& in : inputs) {
    size += CompactSizeLength(in.witness.size());
    for (const std::vector<uint8_t>& item : in.witness) {
      size += CompactSizeLength(item.size()) + item.size();
    }
  }
  return size;
}

size_t Transaction::Weight() const { return BaseSize() * 3 + TotalSize(); }

size_t Transaction::VirtualSize() const { return (Weight() + 3) / 4; }

}  // namespace kinko::btc
