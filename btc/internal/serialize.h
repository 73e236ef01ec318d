// Little-endian and CompactSize reading and writing for Bitcoin's wire formats, with error
// messages that name the field and the byte offset. For btc/ implementation files only.
//
// Not thread-safe; one owner.
#ifndef KINKO_BTC_INTERNAL_SERIALIZE_H_
#define KINKO_BTC_INTERNAL_SERIALIZE_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace kinko::btc::internal {

// Bitcoin Core's MAX_SIZE: the largest CompactSize a deserializer accepts for a length.
inline constexpr uint64_t kMaxCompactSize = 0x02000000;

// Reads from a byte span. Every read fails with kInvalidArgument "FIELD: truncated at byte N"
// (or a more specific reason) instead of reading past the end. `bytes` must outlive the reader.
class Reader final {
 public:
  explicit Reader(std::span<const uint8_t> bytes) : bytes_(bytes) {}

  size_t offset() const { return offset_; }
  size_t remaining() const { return bytes_.size() - offset_; }
  bool AtEnd() const { return offset_ == bytes_.size(); }

  util::Result<uint8_t> ReadU8(std::string_view field);
  util::Result<uint16_t> ReadU16(std::string_view field);
  util::Result<uint32_t> ReadU32(std::string_view field);
  util::Result<uint64_t> ReadU64(std::string_view field);
  util::Result<int64_t> ReadI64(std::string_view field);
  // A canonical (minimally encoded) CompactSize no larger than `max`.
  util::Result<uint64_t> ReadCompactSize(std::string_view field, uint64_t max = kMaxCompactSize);
  // `n` raw bytes; the span points into the reader's input.
  util::Result<std::span<const uint8_t>> ReadBytes(std::string_view field, size_t n);
  // A CompactSize length followed by that many bytes.
  util::Result<std::vector<uint8_t>> ReadVarBytes(std::string_view field);

  // An error naming `field` at the current offset: "FIELD at byte N: WHAT".
  util::Status Error(std::string_view field, std::string_view what) const;

 private:
  std::span<const uint8_t> bytes_;
  size_t offset_ = 0;
};

void WriteU8(std::vector<uint8_t>& out, uint8_t v);
void WriteU16(std::vector<uint8_t>& out, uint16_t v);
void WriteU32(std::vector<uint8_t>& out, uint32_t v);
void WriteU64(std::vector<uint8_t>& out, uint64_t v);
void WriteI64(std::vector<uint8_t>& out, int64_t v);
void WriteCompactSize(std::vector<uint8_t>& out, uint64_t v);
void WriteBytes(std::vector<uint8_t>& out, std::span<const uint8_t> bytes);
void WriteVarBytes(std::vector<uint8_t>& out, std::span<const uint8_t> bytes);
// The number of bytes WriteCompactSize(v) writes.
size_t CompactSizeLength(uint64_t v);

}  // namespace kinko::btc::internal

#endif  // KINKO_BTC_INTERNAL_SERIALIZE_H_
