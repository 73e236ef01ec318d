#include "crypto/internal/lax_der.h"

#include <algorithm>

namespace kinko::crypto::internal {
namespace {

// A read position in the input; every read checks the bounds first.
class Reader final {
 public:
  explicit Reader(std::span<const uint8_t> input) : input_(input) {}

  size_t pos() const { return pos_; }
  size_t remaining() const { return input_.size() - pos_; }

  // Consumes one byte equal to `tag`.
  bool ExpectTag(uint8_t tag) {
    if (remaining() == 0 || input_[pos_] != tag) return false;
    ++pos_;
    return true;
  }

  std::optional<uint8_t> ReadByte() {
    if (remaining() == 0) return std::nullopt;
    return input_[pos_++];
  }

  // Skips `n` bytes. Requires n <= remaining().
  void Skip(size_t n) { pos_ += n; }
  uint8_t Peek() const { return input_[pos_]; }

 private:
  std::span<const uint8_t> input_;
  size_t pos_ = 0;
};

// Reads an integer length: one byte below 0x80, or 0x80+k followed by k big-endian bytes of
// which, after leading zeros, fewer than 4 remain (Core's limit; 0x80 alone means length 0).
std::optional<size_t> ReadIntegerLength(Reader& reader) {
  const std::optional<uint8_t> first = reader.ReadByte();
  if (!first) return std::nullopt;
  if ((*first & 0x80) == 0) return *first;
  size_t count = *first - 0x80u;
  if (count > reader.remaining()) return std::nullopt;
  while (count > 0 && reader.Peek() == 0) {
    reader.Skip(1);
    --count;
  }
  if (count >= 4) return std::nullopt;
  size_t length = 0;
  while (count > 0) {
    length = (length << 8) | reader.Peek();
    reader.Skip(1);
    --count;
  }
  return length;
}

// Reads 0x02 <len> and returns the integer's bytes, which must fit in the input.
std::optional<std::span<const uint8_t>> ReadInteger(Reader& reader,
                                                    std::span<const uint8_t> input) {
  if (!reader.ExpectTag(0x02)) return std::nullopt;
  const std::optional<size_t> length = ReadIntegerLength(reader);
  if (!length || *length > reader.remaining()) return std::nullopt;
  const std::span<const uint8_t> value = input.subspan(reader.pos(), *length);
  reader.Skip(*length);
  return value;
}

std::span<const uint8_t> StripLeadingZeros(std::span<const uint8_t> value) {
  while (!value.empty() && value.front() == 0) value = value.subspan(1);
  return value;
}

}  // namespace

std::optional<std::array<uint8_t, 64>> ParseDerLax(std::span<const uint8_t> input) {
  Reader reader(input);
  if (!reader.ExpectTag(0x30)) return std::nullopt;

  // The sequence length: its long form is skipped, and its value is never used.
  const std::optional<uint8_t> sequence_length = reader.ReadByte();
  if (!sequence_length) return std::nullopt;
  if (*sequence_length & 0x80) {
    const size_t count = *sequence_length - 0x80u;
    if (count > reader.remaining()) return std::nullopt;
    reader.Skip(count);
  }

  const std::optional<std::span<const uint8_t>> r = ReadInteger(reader, input);
  if (!r) return std::nullopt;
  const std::optional<std::span<const uint8_t>> s = ReadInteger(reader, input);
  if (!s) return std::nullopt;
  // Whatever follows S is ignored.

  std::array<uint8_t, 64> compact{};
  const std::span<const uint8_t> r_digits = StripLeadingZeros(*r);
  const std::span<const uint8_t> s_digits = StripLeadingZeros(*s);
  if (r_digits.size() > 32 || s_digits.size() > 32) return compact;  // Overflow: all zero.
  std::copy(r_digits.begin(), r_digits.end(), compact.begin() + (32 - r_digits.size()));
  std::copy(s_digits.begin(), s_digits.end(), compact.end() - s_digits.size());
  return compact;
}

}  // namespace kinko::crypto::internal
