#include "btc/bech32.h"

#include <array>
#include <optional>
#include <string>

#include "util/check.h"

namespace kinko::btc {
namespace {

constexpr char kCharset[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
constexpr size_t kChecksumSize = 6;

// BIP173 checksum constants: the residue a valid string's polymod leaves.
constexpr uint32_t kBech32Const = 1;
constexpr uint32_t kBech32mConst = 0x2bc830a3;

uint32_t EncodingConst(Bech32Encoding encoding) {
  switch (encoding) {
    case Bech32Encoding::kBech32:
      return kBech32Const;
    case Bech32Encoding::kBech32m:
      return kBech32mConst;
  }
  CHECK(false);
  return 0;
}

// Value of a lowercase data character, or -1.
int CharValue(char c) {
  for (int i = 0; i < 32; ++i) {
    if (kCharset[i] == c) return i;
  }
  return -1;
}

// BIP173 polymod over the generator 0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3.
uint32_t PolymodStep(uint32_t chk, uint8_t value) {
  static constexpr uint32_t kGen[5] = {0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3};
  const uint32_t top = chk >> 25;
  chk = ((chk & 0x1ffffff) << 5) ^ value;
  for (int i = 0; i < 5; ++i) {
    if ((top >> i) & 1) chk ^= kGen[i];
  }
  return chk;
}

// Polymod of the expanded `hrp` (high bits, 0, low bits) followed by `values`.
uint32_t Polymod(std::string_view hrp, std::span<const uint8_t> values) {
  uint32_t chk = 1;
  for (char c : hrp) chk = PolymodStep(chk, static_cast<uint8_t>(static_cast<uint8_t>(c) >> 5));
  chk = PolymodStep(chk, 0);
  for (char c : hrp) chk = PolymodStep(chk, static_cast<uint8_t>(c & 0x1f));
  for (uint8_t v : values) chk = PolymodStep(chk, v);
  return chk;
}

// When changing one of `values` would make the checksum valid (for either constant), returns
// that value's index. Polymod is affine in the values: changing value j by XOR e changes the
// residue by G_j(e), the state reached from e after the (size - 1 - j) later zero steps, and G_j
// is linear in e. So each position needs its 5 basis images only.
std::optional<size_t> LocateSingleError(uint32_t residue, std::span<const uint8_t> values) {
  std::array<uint32_t, 5> basis = {1, 2, 4, 8, 16};  // G_j(2^b) for the last position.
  for (size_t j = values.size(); j > 0; --j) {
    for (uint32_t e = 1; e < 32; ++e) {
      uint32_t change = 0;
      for (int b = 0; b < 5; ++b) {
        if ((e >> b) & 1) change ^= basis[b];
      }
      const uint32_t fixed = residue ^ change;
      if (fixed == kBech32Const || fixed == kBech32mConst) return j - 1;
    }
    for (uint32_t& g : basis) g = PolymodStep(g, 0);
  }
  return std::nullopt;
}

}  // namespace

std::string Bech32Encode(Bech32Encoding encoding, std::string_view hrp,
                         std::span<const uint8_t> values5) {
  CHECK(!hrp.empty() && hrp.size() <= 83);
  for (char c : hrp) CHECK(c >= 33 && c <= 126 && !(c >= 'A' && c <= 'Z'));
  std::vector<uint8_t> values(values5.begin(), values5.end());
  for (uint8_t v : values) CHECK(v < 32);
  values.insert(values.end(), kChecksumSize, 0);
  const uint32_t mod = Polymod(hrp, values) ^ EncodingConst(encoding);
  for (size_t i = 0; i < kChecksumSize; ++i) {
    values[values5.size() + i] = static_cast<uint8_t>((mod >> (5 * (5 - i))) & 31);
  }
  std::string out(hrp);
  out.push_back('1');
  for (uint8_t v : values) out.push_back(kCharset[v]);
  return out;
}

util::Result<Bech32Decoded> Bech32Decode(std::string_view str) {
  if (str.size() > kBech32MaxLength) {
    return util::InvalidArgumentError("bech32: " + std::to_string(str.size()) +
                                      " characters, more than 90");
  }
  bool has_lower = false;
  bool has_upper = false;
  for (size_t i = 0; i < str.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(str[i]);
    if (c < 33 || c > 126) {
      return util::InvalidArgumentError("bech32: invalid character at position " +
                                        std::to_string(i));
    }
    const bool lower = c >= 'a' && c <= 'z';
    const bool upper = c >= 'A' && c <= 'Z';
    if ((lower && has_upper) || (upper && has_lower)) {
      return util::InvalidArgumentError("bech32: mixed case at position " + std::to_string(i));
    }
    has_lower = has_lower || lower;
    has_upper = has_upper || upper;
  }
  const size_t sep = str.rfind('1');
  if (sep == std::string_view::npos) return util::InvalidArgumentError("bech32: no separator");
  if (sep == 0) return util::InvalidArgumentError("bech32: empty human-readable part");
  if (str.size() - sep - 1 < kChecksumSize) {
    return util::InvalidArgumentError("bech32: data part shorter than the 6-character checksum");
  }
  Bech32Decoded out;
  out.hrp.reserve(sep);
  for (size_t i = 0; i < sep; ++i) {
    char c = str[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    out.hrp.push_back(c);
  }
  std::vector<uint8_t> values;
  values.reserve(str.size() - sep - 1);
  for (size_t i = sep + 1; i < str.size(); ++i) {
    char c = str[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    const int v = CharValue(c);
    if (v < 0) {
      return util::InvalidArgumentError("bech32: invalid data character at position " +
                                        std::to_string(i));
    }
    values.push_back(static_cast<uint8_t>(v));
  }
  const uint32_t mod = Polymod(out.hrp, values);
  if (mod == kBech32Const) {
    out.encoding = Bech32Encoding::kBech32;
  } else if (mod == kBech32mConst) {
    out.encoding = Bech32Encoding::kBech32m;
  } else {
    const std::optional<size_t> error = LocateSingleError(mod, values);
    if (error) {
      return util::InvalidArgumentError("bech32: invalid checksum (likely error at position " +
                                        std::to_string(sep + 1 + *error) + ")");
    }
    return util::InvalidArgumentError("bech32: invalid checksum");
  }
  values.resize(values.size() - kChecksumSize);
  out.values5 = std::move(values);
  return out;
}

std::vector<uint8_t> ConvertBits8To5(std::span<const uint8_t> bytes) {
  std::vector<uint8_t> out;
  out.reserve((bytes.size() * 8 + 4) / 5);
  uint32_t acc = 0;
  int bits = 0;
  for (uint8_t b : bytes) {
    acc = ((acc << 8) | b) & 0xfff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out.push_back(static_cast<uint8_t>((acc >> bits) & 31));
    }
  }
  if (bits > 0) out.push_back(static_cast<uint8_t>((acc << (5 - bits)) & 31));
  return out;
}

util::Result<std::vector<uint8_t>> ConvertBits5To8(std::span<const uint8_t> values5) {
  std::vector<uint8_t> out;
  out.reserve(values5.size() * 5 / 8);
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < values5.size(); ++i) {
    const uint8_t v = values5[i];
    if (v >= 32) {
      return util::InvalidArgumentError("5-bit value " + std::to_string(v) + " at index " +
                                        std::to_string(i) + " is not below 32");
    }
    acc = ((acc << 5) | v) & 0xfff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<uint8_t>((acc >> bits) & 0xff));
    }
  }
  // BIP173: at most 4 bits of padding, all zero.
  if (bits >= 5) return util::InvalidArgumentError("more than 4 bits of padding");
  if (((acc << (8 - bits)) & 0xff) != 0) return util::InvalidArgumentError("non-zero padding");
  return out;
}

}  // namespace kinko::btc
