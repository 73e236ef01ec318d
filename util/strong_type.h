// Strong types for values that must not be mixed up (STYLE.md section 3).
//
//   using Txid = util::FixedBytes<struct TxidTag, 32>;
//   using Wtxid = util::FixedBytes<struct WtxidTag, 32>;   // not assignable to Txid
//
// Thread-safe: value types. Copyable and movable.
#ifndef KINKO_UTIL_STRONG_TYPE_H_
#define KINKO_UTIL_STRONG_TYPE_H_

#include <algorithm>
#include <array>
#include <compare>
#include <cstdint>
#include <span>

#include "util/check.h"

namespace kinko::util {

// A fixed-size byte string with its own type. The bytes are stored in the order given; types
// that display reversed (Bitcoin's txid) say so where they are formatted.
template <typename Tag, size_t N>
class FixedBytes final {
 public:
  static constexpr size_t kSize = N;

  // All zero.
  constexpr FixedBytes() = default;
  explicit constexpr FixedBytes(const std::array<uint8_t, N>& bytes) : bytes_(bytes) {}
  // Requires bytes.size() == N.
  static FixedBytes FromSpan(std::span<const uint8_t> bytes) {
    CHECK(bytes.size() == N);
    FixedBytes out;
    std::copy(bytes.begin(), bytes.end(), out.bytes_.begin());
    return out;
  }

  const std::array<uint8_t, N>& bytes() const { return bytes_; }
  std::span<const uint8_t, N> span() const { return bytes_; }
  const uint8_t* data() const { return bytes_.data(); }
  static constexpr size_t size() { return N; }
  bool IsZero() const {
    return std::all_of(bytes_.begin(), bytes_.end(), [](uint8_t b) { return b == 0; });
  }

  friend auto operator<=>(const FixedBytes&, const FixedBytes&) = default;
  friend bool operator==(const FixedBytes&, const FixedBytes&) = default;

 private:
  std::array<uint8_t, N> bytes_{};
};

}  // namespace kinko::util

#endif  // KINKO_UTIL_STRONG_TYPE_H_
