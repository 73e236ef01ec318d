// Fuzz target for Psbt::Parse and the strict base64 codec. Properties:
//   - anything Parse accepts, Serialize writes in a form Parse accepts again (no accepted-then-
//     rejected flip), parsing to an equal Psbt, and serializing that gives the same bytes (the
//     canonical form is a fixed point);
//   - Serialize only reorders: each map of the input holds the same key-value pairs as the same
//     map of the output (an explicit PSBT_GLOBAL_VERSION 0 aside, which is not written), so a
//     PSBT already in canonical order comes back byte for byte;
//   - ToBase64 and ParseBase64 agree with Serialize and Parse;
//   - GetUnsignedTx and GetInputUtxo never fail a CHECK; for v0, GetUnsignedTx is unsigned_tx;
//   - the input read as text: DecodeBase64 accepts only the one canonical encoding of its
//     result.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "btc/psbt.h"
#include "util/check.h"

namespace {

using kinko::btc::Psbt;

using RawEntry = std::pair<std::vector<uint8_t>, std::vector<uint8_t>>;
using RawMap = std::vector<RawEntry>;

// A CompactSize at `pos`, advancing it; nullopt when truncated.
std::optional<uint64_t> ReadSize(std::span<const uint8_t> b, size_t& pos) {
  if (pos >= b.size()) return std::nullopt;
  const uint8_t first = b[pos++];
  size_t n = first < 0xfd ? 0 : first == 0xfd ? 2 : first == 0xfe ? 4 : 8;
  if (n == 0) return first;
  if (b.size() - pos < n) return std::nullopt;
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v |= static_cast<uint64_t>(b[pos + i]) << (8 * i);
  pos += n;
  return v;
}

// Splits a PSBT that Parse accepted into its maps of raw key-value pairs, each map sorted.
std::vector<RawMap> SplitMaps(std::span<const uint8_t> b) {
  std::vector<RawMap> maps;
  size_t pos = 5;
  RawMap current;
  while (pos < b.size()) {
    std::optional<uint64_t> key_len = ReadSize(b, pos);
    CHECK(key_len.has_value());
    if (*key_len == 0) {
      std::sort(current.begin(), current.end());
      maps.push_back(std::move(current));
      current.clear();
      continue;
    }
    CHECK(b.size() - pos >= *key_len);
    std::vector<uint8_t> key(b.begin() + pos, b.begin() + pos + *key_len);
    pos += *key_len;
    std::optional<uint64_t> value_len = ReadSize(b, pos);
    CHECK(value_len.has_value() && b.size() - pos >= *value_len);
    std::vector<uint8_t> value(b.begin() + pos, b.begin() + pos + *value_len);
    pos += *value_len;
    current.emplace_back(std::move(key), std::move(value));
  }
  CHECK(current.empty());
  return maps;
}

void CheckAccepted(std::span<const uint8_t> bytes, const Psbt& psbt) {
  const std::vector<uint8_t> out = psbt.Serialize();
  kinko::util::Result<Psbt> again = Psbt::Parse(out);
  CHECK(again.ok());
  CHECK(*again == psbt);
  CHECK(again->Serialize() == out);

  std::vector<RawMap> in_maps = SplitMaps(bytes);
  const std::vector<RawMap> out_maps = SplitMaps(out);
  CHECK(!in_maps.empty());
  const RawEntry version_zero = {{0xfb}, {0, 0, 0, 0}};
  std::erase(in_maps[0], version_zero);
  CHECK(in_maps == out_maps);

  kinko::util::Result<Psbt> from_base64 = Psbt::ParseBase64(psbt.ToBase64());
  CHECK(from_base64.ok());
  CHECK(*from_base64 == psbt);

  kinko::util::Result<kinko::btc::Transaction> tx = psbt.GetUnsignedTx();
  if (psbt.version == 0) {
    CHECK(tx.ok());
    CHECK(*tx == *psbt.unsigned_tx);
  }
  if (tx.ok()) {
    CHECK(tx->inputs.size() == psbt.inputs.size());
    CHECK(tx->outputs.size() == psbt.outputs.size());
  }
  for (size_t i = 0; i < psbt.inputs.size(); ++i) {
    kinko::util::Result<kinko::btc::TxOut> utxo = psbt.GetInputUtxo(i);
    if (psbt.inputs[i].witness_utxo || psbt.inputs[i].non_witness_utxo) CHECK(utxo.ok());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> bytes(data, size);
  kinko::util::Result<Psbt> psbt = Psbt::Parse(bytes);
  if (psbt.ok()) CheckAccepted(bytes, *psbt);

  const std::string_view text(reinterpret_cast<const char*>(data), size);
  kinko::util::Result<std::vector<uint8_t>> decoded = kinko::btc::DecodeBase64(text);
  if (decoded.ok()) {
    CHECK(kinko::btc::EncodeBase64(*decoded) == text);
    kinko::util::Result<Psbt> from_text = Psbt::ParseBase64(text);
    kinko::util::Result<Psbt> from_bytes = Psbt::Parse(*decoded);
    CHECK(from_text.ok() == from_bytes.ok());
    if (from_bytes.ok()) CheckAccepted(*decoded, *from_bytes);
  }
  return 0;
}
