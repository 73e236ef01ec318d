#include "btc/sighash.h"

#include <algorithm>
#include <string>

#include "btc/internal/serialize.h"
#include "crypto/hash.h"
#include "util/check.h"

namespace kinko::btc {
namespace {

using internal::WriteBytes;
using internal::WriteCompactSize;
using internal::WriteI64;
using internal::WriteU32;
using internal::WriteU8;
using internal::WriteVarBytes;

constexpr uint8_t kOpCodeSeparator = 0xab;

// Feeds SHA-256 through a small fixed buffer, so that the legacy sighash streams its modified
// transaction into the hash without building a copy of it (and without one hasher call per
// field). Not copyable.
class BufferedSha256 final {
 public:
  BufferedSha256() = default;
  BufferedSha256(const BufferedSha256&) = delete;
  BufferedSha256& operator=(const BufferedSha256&) = delete;

  void Write(std::span<const uint8_t> data) {
    if (data.size() > buffer_.size() - used_) {
      Flush();
      if (data.size() >= buffer_.size()) {
        hasher_.Write(data);
        return;
      }
    }
    std::copy(data.begin(), data.end(), buffer_.begin() + static_cast<ptrdiff_t>(used_));
    used_ += data.size();
  }
  void WriteU32(uint32_t v) {
    const uint8_t b[4] = {static_cast<uint8_t>(v), static_cast<uint8_t>(v >> 8),
                          static_cast<uint8_t>(v >> 16), static_cast<uint8_t>(v >> 24)};
    Write(b);
  }
  void WriteI64(int64_t v) {
    const auto u = static_cast<uint64_t>(v);
    WriteU32(static_cast<uint32_t>(u));
    WriteU32(static_cast<uint32_t>(u >> 32));
  }
  void WriteCompactSize(uint64_t v) {
    if (v < 0xfd) {
      const uint8_t b = static_cast<uint8_t>(v);
      Write(std::span<const uint8_t>(&b, 1));
      return;
    }
    std::vector<uint8_t> b;
    internal::WriteCompactSize(b, v);
    Write(b);
  }
  crypto::Hash256Bytes Finalize() {
    Flush();
    return hasher_.Finalize();
  }

 private:
  void Flush() {
    hasher_.Write(std::span<const uint8_t>(buffer_.data(), used_));
    used_ = 0;
  }

  crypto::Sha256Hasher hasher_;
  std::array<uint8_t, 1024> buffer_{};
  size_t used_ = 0;
};

// Reads one operation as Bitcoin Core's GetScriptOp does, including where it leaves `*pos` when
// a push runs past the end: after the opcode and whatever length bytes were complete. The
// legacy sighash depends on that position for malformed script codes, so it is reproduced here
// rather than taken from GetOp (which does not advance on failure).
bool CoreGetOp(std::span<const uint8_t> script, size_t* pos, uint8_t* opcode) {
  if (*pos >= script.size()) return false;
  const uint8_t op = script[(*pos)++];
  *opcode = op;
  if (op > 0x4e) return true;  // Not a push with an immediate operand.
  size_t size = op;
  size_t length_bytes = 0;
  if (op == 0x4c) length_bytes = 1;
  if (op == 0x4d) length_bytes = 2;
  if (op == 0x4e) length_bytes = 4;
  if (length_bytes > 0) {
    if (script.size() - *pos < length_bytes) return false;
    size = 0;
    for (size_t i = 0; i < length_bytes; ++i)
      size |= static_cast<size_t>(script[*pos + i]) << (8 * i);
    *pos += length_bytes;
  }
  if (script.size() - *pos < size) return false;
  *pos += size;
  return true;
}

// The script code of the signed input with its OP_CODESEPARATORs removed, as Bitcoin Core's
// CTransactionSignatureSerializer::SerializeScriptCode writes it. For a script whose last push
// is truncated, Core declares size - separators but writes only up to where parsing stopped;
// the same bytes are written here so that the hashes agree.
void WriteLegacyScriptCode(BufferedSha256& out, std::span<const uint8_t> script) {
  size_t pos = 0;
  uint8_t op = 0;
  size_t separators = 0;
  while (CoreGetOp(script, &pos, &op)) {
    if (op == kOpCodeSeparator) ++separators;
  }
  out.WriteCompactSize(script.size() - separators);
  pos = 0;
  size_t begin = 0;
  while (CoreGetOp(script, &pos, &op)) {
    if (op == kOpCodeSeparator) {
      out.Write(script.subspan(begin, pos - 1 - begin));
      begin = pos;
    }
  }
  if (begin != script.size()) out.Write(script.subspan(begin, pos - begin));
}

void WriteOutpoint(std::vector<uint8_t>& out, const Outpoint& outpoint) {
  WriteBytes(out, outpoint.txid.span());
  WriteU32(out, outpoint.index);
}

void WriteTxOut(std::vector<uint8_t>& out, const TxOut& txout) {
  WriteI64(out, txout.value);
  WriteVarBytes(out, txout.script_pubkey.bytes());
}

void CheckPrecomputed(const Transaction& tx, size_t input,
                      const PrecomputedTransactionData& precomputed) {
  CHECK(input < tx.inputs.size());
  CHECK(precomputed.input_count() == tx.inputs.size());
  CHECK(precomputed.output_count() == tx.outputs.size());
}

bool IsValidTaprootHashType(uint8_t hash_type) {
  return hash_type <= 0x03 || (hash_type >= 0x81 && hash_type <= 0x83);
}

}  // namespace

util::Result<PrecomputedTransactionData> PrecomputedTransactionData::Create(
    const Transaction& tx, std::vector<TxOut> spent_outputs) {
  if (!spent_outputs.empty() && spent_outputs.size() != tx.inputs.size()) {
    return util::InvalidArgumentError(
        "precomputed transaction data: " + std::to_string(spent_outputs.size()) +
        " spent outputs for " + std::to_string(tx.inputs.size()) + " inputs");
  }
  PrecomputedTransactionData data;
  data.input_count_ = tx.inputs.size();
  data.output_count_ = tx.outputs.size();

  // BIP341 names these sha_*; BIP143's hash* are the same bytes hashed once more.
  std::vector<uint8_t> buf;
  buf.reserve(tx.inputs.size() * 36);
  for (const TxIn& in : tx.inputs) WriteOutpoint(buf, in.prevout);
  data.sha_prevouts_ = crypto::Sha256(buf);

  buf.clear();
  for (const TxIn& in : tx.inputs) WriteU32(buf, in.sequence);
  data.sha_sequences_ = crypto::Sha256(buf);

  buf.clear();
  for (const TxOut& out : tx.outputs) WriteTxOut(buf, out);
  data.sha_outputs_ = crypto::Sha256(buf);

  data.hash_prevouts_ = crypto::Sha256(data.sha_prevouts_);
  data.hash_sequence_ = crypto::Sha256(data.sha_sequences_);
  data.hash_outputs_ = crypto::Sha256(data.sha_outputs_);

  if (!spent_outputs.empty()) {
    buf.clear();
    for (const TxOut& out : spent_outputs) WriteI64(buf, out.value);
    data.sha_amounts_ = crypto::Sha256(buf);
    buf.clear();
    for (const TxOut& out : spent_outputs) WriteVarBytes(buf, out.script_pubkey.bytes());
    data.sha_script_pubkeys_ = crypto::Sha256(buf);
  }
  data.spent_outputs_ = std::move(spent_outputs);
  return data;
}

SighashBytes LegacySighash(const Transaction& tx, size_t input, const Script& script_code,
                           int32_t hash_type) {
  CHECK(input < tx.inputs.size());
  const int base_type = hash_type & 0x1f;
  const bool anyone_can_pay = (hash_type & kSighashAnyoneCanPay) != 0;
  const bool single = base_type == kSighashSingle;
  const bool none = base_type == kSighashNone;

  if (single && input >= tx.outputs.size()) {
    SighashBytes one{};
    one[0] = 0x01;
    return one;
  }

  BufferedSha256 h;
  h.WriteU32(tx.version);

  // Inputs: only the signed one with ANYONECANPAY. Other inputs get an empty script_sig, and
  // with NONE or SINGLE a zero sequence.
  const size_t input_count = anyone_can_pay ? 1 : tx.inputs.size();
  h.WriteCompactSize(input_count);
  for (size_t k = 0; k < input_count; ++k) {
    const size_t i = anyone_can_pay ? input : k;
    const TxIn& in = tx.inputs[i];
    h.Write(in.prevout.txid.span());
    h.WriteU32(in.prevout.index);
    if (i == input) {
      WriteLegacyScriptCode(h, script_code.bytes());
      h.WriteU32(in.sequence);
    } else {
      h.WriteCompactSize(0);
      h.WriteU32((single || none) ? 0 : in.sequence);
    }
  }

  // Outputs: none with NONE; with SINGLE the outputs up to `input`, the earlier ones blanked
  // to value -1 and an empty script (Core's null CTxOut).
  const size_t output_count = none ? 0 : (single ? input + 1 : tx.outputs.size());
  h.WriteCompactSize(output_count);
  for (size_t i = 0; i < output_count; ++i) {
    if (single && i != input) {
      static constexpr uint8_t kNullTxOut[9] = {0xff, 0xff, 0xff, 0xff, 0xff,
                                                0xff, 0xff, 0xff, 0x00};
      h.Write(kNullTxOut);
    } else {
      h.WriteI64(tx.outputs[i].value);
      h.WriteCompactSize(tx.outputs[i].script_pubkey.size());
      h.Write(tx.outputs[i].script_pubkey.bytes());
    }
  }
  h.WriteU32(tx.lock_time);
  h.WriteU32(static_cast<uint32_t>(hash_type));
  return crypto::Sha256(h.Finalize());
}

std::vector<uint8_t> SegwitV0SighashPreimage(const Transaction& tx, size_t input,
                                             const Script& script_code, int64_t amount,
                                             int32_t hash_type,
                                             const PrecomputedTransactionData& precomputed) {
  CheckPrecomputed(tx, input, precomputed);
  const int base_type = hash_type & 0x1f;
  const bool anyone_can_pay = (hash_type & kSighashAnyoneCanPay) != 0;
  const bool single = base_type == kSighashSingle;
  const bool none = base_type == kSighashNone;

  // BIP143: each of these is zero when the hash type excludes what it commits to.
  std::array<uint8_t, 32> hash_prevouts{};
  std::array<uint8_t, 32> hash_sequence{};
  std::array<uint8_t, 32> hash_outputs{};
  if (!anyone_can_pay) hash_prevouts = precomputed.hash_prevouts();
  if (!anyone_can_pay && !single && !none) hash_sequence = precomputed.hash_sequence();
  if (!single && !none) {
    hash_outputs = precomputed.hash_outputs();
  } else if (single && input < tx.outputs.size()) {
    std::vector<uint8_t> out;
    WriteTxOut(out, tx.outputs[input]);
    hash_outputs = crypto::Hash256(out);
  }

  const TxIn& in = tx.inputs[input];
  std::vector<uint8_t> preimage;
  preimage.reserve(156 + 9 + script_code.size());
  WriteU32(preimage, tx.version);
  WriteBytes(preimage, hash_prevouts);
  WriteBytes(preimage, hash_sequence);
  WriteOutpoint(preimage, in.prevout);
  WriteVarBytes(preimage, script_code.bytes());
  WriteI64(preimage, amount);
  WriteU32(preimage, in.sequence);
  WriteBytes(preimage, hash_outputs);
  WriteU32(preimage, tx.lock_time);
  WriteU32(preimage, static_cast<uint32_t>(hash_type));
  return preimage;
}

SighashBytes SegwitV0Sighash(const Transaction& tx, size_t input, const Script& script_code,
                             int64_t amount, int32_t hash_type,
                             const PrecomputedTransactionData& precomputed) {
  return crypto::Hash256(
      SegwitV0SighashPreimage(tx, input, script_code, amount, hash_type, precomputed));
}

util::Result<std::vector<uint8_t>> TaprootSigMsg(const Transaction& tx, size_t input,
                                                 uint8_t hash_type,
                                                 const PrecomputedTransactionData& precomputed,
                                                 const TaprootSighashExtras& extras) {
  CheckPrecomputed(tx, input, precomputed);
  if (!precomputed.has_spent_outputs()) {
    return util::InvalidArgumentError("taproot sighash input " + std::to_string(input) +
                                      ": spent outputs unknown");
  }
  if (!IsValidTaprootHashType(hash_type)) {
    return util::InvalidArgumentError("taproot sighash input " + std::to_string(input) +
                                      ": invalid hash type " + std::to_string(hash_type));
  }
  // Default (no sighash byte) commits to the same data as SIGHASH_ALL.
  const uint8_t output_type = hash_type == kSighashDefault ? kSighashAll : (hash_type & 0x03);
  const bool anyone_can_pay = (hash_type & kSighashAnyoneCanPay) != 0;
  if (output_type == kSighashSingle && input >= tx.outputs.size()) {
    return util::InvalidArgumentError("taproot sighash input " + std::to_string(input) +
                                      ": SIGHASH_SINGLE without a matching output");
  }
  if (extras.annex.has_value() && (extras.annex->empty() || (*extras.annex)[0] != 0x50)) {
    return util::InvalidArgumentError("taproot sighash input " + std::to_string(input) +
                                      ": annex does not start with 0x50");
  }

  std::vector<uint8_t> msg;
  msg.reserve(1 + 1 + 4 + 4 + 5 * 32 + 1 + 36 + 9 + 35 + 4 + 32 + 32 + 32 + 1 + 4);
  WriteU8(msg, 0x00);  // BIP341 epoch
  WriteU8(msg, hash_type);
  WriteU32(msg, tx.version);
  WriteU32(msg, tx.lock_time);
  if (!anyone_can_pay) {
    WriteBytes(msg, precomputed.sha_prevouts());
    WriteBytes(msg, precomputed.sha_amounts());
    WriteBytes(msg, precomputed.sha_script_pubkeys());
    WriteBytes(msg, precomputed.sha_sequences());
  }
  if (output_type == kSighashAll) WriteBytes(msg, precomputed.sha_outputs());

  // spend_type = ext_flag * 2 + annex_present; ext_flag is 1 for tapscript (BIP342).
  const uint8_t ext_flag = extras.leaf_hash.has_value() ? 1 : 0;
  const uint8_t annex_present = extras.annex.has_value() ? 1 : 0;
  WriteU8(msg, static_cast<uint8_t>(ext_flag * 2 + annex_present));
  if (anyone_can_pay) {
    WriteOutpoint(msg, tx.inputs[input].prevout);
    WriteTxOut(msg, precomputed.spent_outputs()[input]);
    WriteU32(msg, tx.inputs[input].sequence);
  } else {
    WriteU32(msg, static_cast<uint32_t>(input));
  }
  if (extras.annex.has_value()) {
    std::vector<uint8_t> annex;
    WriteVarBytes(annex, *extras.annex);
    WriteBytes(msg, crypto::Sha256(annex));
  }
  if (output_type == kSighashSingle) {
    std::vector<uint8_t> out;
    WriteTxOut(out, tx.outputs[input]);
    WriteBytes(msg, crypto::Sha256(out));
  }
  if (extras.leaf_hash.has_value()) {
    // BIP342: tapleaf_hash || key_version (0) || codesep_pos.
    WriteBytes(msg, *extras.leaf_hash);
    WriteU8(msg, 0x00);
    WriteU32(msg, extras.codesep_pos);
  }
  return msg;
}

util::Result<SighashBytes> TaprootSighash(const Transaction& tx, size_t input, uint8_t hash_type,
                                          const PrecomputedTransactionData& precomputed,
                                          const TaprootSighashExtras& extras) {
  util::Result<std::vector<uint8_t>> msg = TaprootSigMsg(tx, input, hash_type, precomputed, extras);
  if (!msg.ok()) return msg.status();
  return crypto::TaggedHash("TapSighash", *msg);
}

std::array<uint8_t, 32> ComputeTapleafHash(uint8_t leaf_version, const Script& script) {
  std::vector<uint8_t> data;
  data.reserve(1 + 9 + script.size());
  WriteU8(data, leaf_version);
  WriteVarBytes(data, script.bytes());
  return crypto::TaggedHash("TapLeaf", data);
}

std::array<uint8_t, 32> ComputeTapBranchHash(std::span<const uint8_t, 32> a,
                                             std::span<const uint8_t, 32> b) {
  const bool a_first = std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end());
  std::array<uint8_t, 64> data;
  std::copy(a.begin(), a.end(), data.begin() + (a_first ? 0 : 32));
  std::copy(b.begin(), b.end(), data.begin() + (a_first ? 32 : 0));
  return crypto::TaggedHash("TapBranch", data);
}

}  // namespace kinko::btc
