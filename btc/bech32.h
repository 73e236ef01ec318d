// Bech32 (BIP173) and Bech32m (BIP350) strings, and the conversion between 8-bit bytes and the
// 5-bit groups they carry. Segwit addresses are built on these in btc/address.h.
//
// Thread-safe: pure functions.
#ifndef KINKO_BTC_BECH32_H_
#define KINKO_BTC_BECH32_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace kinko::btc {

// Which checksum constant a string uses: 1 for Bech32 (BIP173), 0x2bc830a3 for Bech32m
// (BIP350).
enum class Bech32Encoding { kBech32, kBech32m };

// BIP173: a Bech32 string is at most 90 characters long.
inline constexpr size_t kBech32MaxLength = 90;

// Returns `hrp` || '1' || data characters || 6 checksum characters, all lowercase.
// Requires: `hrp` is 1..83 characters in 33..126 without uppercase letters, and every value of
// `values5` is below 32 (programmer errors; checked). The length limit of 90 is not enforced
// here: Bech32Decode rejects longer strings.
std::string Bech32Encode(Bech32Encoding encoding, std::string_view hrp,
                         std::span<const uint8_t> values5);

struct Bech32Decoded {
  Bech32Encoding encoding;
  std::string hrp;               // Lowercase.
  std::vector<uint8_t> values5;  // The data part without the checksum, values 0..31.
};

// Decodes a Bech32 or Bech32m string. Fails with kInvalidArgument when:
//   the string is longer than 90 characters;
//   a character is outside 33..126 (position named);
//   it mixes upper and lower case (position of the first letter of the other case named);
//   it has no separator '1', an empty human-readable part, or fewer than 6 characters after
//   the last '1';
//   a data character is not in the Bech32 alphabet (position named);
//   the checksum matches neither Bech32 nor Bech32m (when changing one character would make it
//   valid, the message names that character's position as the likely error; the string is
//   never corrected, as BIP173 advises).
util::Result<Bech32Decoded> Bech32Decode(std::string_view str);

// Regroups bytes into 5-bit values, padding the last group with zero bits (ConvertBits<8, 5,
// true> in Bitcoin Core).
std::vector<uint8_t> ConvertBits8To5(std::span<const uint8_t> bytes);

// Regroups 5-bit values into bytes without padding (ConvertBits<5, 8, false>). Fails with
// kInvalidArgument when a value is 32 or more, when 5 or more bits are left over (a whole
// group of padding), or when the leftover padding bits are not zero (BIP173).
util::Result<std::vector<uint8_t>> ConvertBits5To8(std::span<const uint8_t> values5);

}  // namespace kinko::btc

#endif  // KINKO_BTC_BECH32_H_
