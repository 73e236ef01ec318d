// Hexadecimal encoding of byte strings, lowercase on output, either case on input.
//
// Thread-safe: pure functions.
#ifndef KINKO_UTIL_HEX_H_
#define KINKO_UTIL_HEX_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace kinko::util {

// Returns the lowercase hex encoding of `bytes`.
std::string HexEncode(std::span<const uint8_t> bytes);

// Returns the bytes of `hex`. Fails with kInvalidArgument, naming the character offset, when
// `hex` has an odd length or a character outside [0-9a-fA-F]. The empty string decodes to no
// bytes.
Result<std::vector<uint8_t>> HexDecode(std::string_view hex);

// Like HexDecode, and also requires exactly `size` bytes.
Result<std::vector<uint8_t>> HexDecodeExact(std::string_view hex, size_t size);

}  // namespace kinko::util

#endif  // KINKO_UTIL_HEX_H_
