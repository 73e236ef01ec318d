#include "cli/command.h"

#include <charconv>

#include "util/hex.h"

namespace kinko::cli {

util::Result<std::vector<uint8_t>> ParseHexArgument(std::string_view what, std::string_view hex) {
  util::Result<std::vector<uint8_t>> bytes = util::HexDecode(hex);
  if (!bytes.ok()) return bytes.status().WithPrefix(what);
  return bytes;
}

util::Result<uint64_t> ParseUnsignedArgument(std::string_view what, std::string_view text,
                                             uint64_t max) {
  int base = 10;
  std::string_view digits = text;
  if (digits.starts_with("0x") || digits.starts_with("0X")) {
    base = 16;
    digits.remove_prefix(2);
  }
  uint64_t value = 0;
  const char* end = digits.data() + digits.size();
  const auto [ptr, ec] = std::from_chars(digits.data(), end, value, base);
  if (digits.empty() || ec == std::errc::invalid_argument || ptr != end) {
    return util::InvalidArgumentError(std::string(what) + ": '" + std::string(text) +
                                      "' is not a number");
  }
  if (ec == std::errc::result_out_of_range || value > max) {
    return util::InvalidArgumentError(std::string(what) + ": " + std::string(text) +
                                      " is larger than " + std::to_string(max));
  }
  return value;
}

}  // namespace kinko::cli
