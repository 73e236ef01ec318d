// The canonical byte encoding of kinko's signed objects (intents, approvals): the subset of CBOR
// (RFC 8949) that they use, written and read under RFC 8949 section 4.2.1 "core deterministic
// encoding" (doc/intent-encoding.md):
//   - integers, lengths and counts in the shortest form of their head;
//   - definite lengths only (no indefinite-length strings, arrays or maps);
//   - map keys are unsigned integers in strictly increasing order (for such keys this is the
//     bytewise order of their encodings that RFC 8949 prescribes, and it forbids duplicates);
//   - only major types 0 (unsigned integer), 2 (byte string), 3 (UTF-8 text string), 4 (array)
//     and 5 (map): no negative integers, tags, floats or simple values;
//   - text strings are well-formed UTF-8 (no overlong forms, surrogates or values above
//     U+10FFFF).
// The reader refuses anything else, so an object has exactly one encoding and decoding then
// re-encoding gives back the same bytes.
//
// Thread-safe: a writer or reader has one owner.
#ifndef KINKO_POLICY_CANONICAL_H_
#define KINKO_POLICY_CANONICAL_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace kinko::policy {

// Appends canonical CBOR items. Copyable and movable.
class CborWriter final {
 public:
  void Uint(uint64_t value);
  void Bytes(std::span<const uint8_t> bytes);
  // Requires `text` to be well-formed UTF-8 (IsValidUtf8).
  void Text(std::string_view text);
  void ArrayHeader(uint64_t count);
  void MapHeader(uint64_t count);

  const std::vector<uint8_t>& bytes() const { return bytes_; }

 private:
  void Head(uint8_t major, uint64_t value);
  std::vector<uint8_t> bytes_;
};

// Reads canonical CBOR items from a byte span, refusing every non-canonical form. Errors are
// kInvalidArgument "`context` at byte N: reason", where `context` names the object being read
// ("intent") and N is the offset of the offending item.
// Copyable and movable; the span must outlive the reader.
class CborReader final {
 public:
  CborReader(std::span<const uint8_t> bytes, std::string_view context)
      : bytes_(bytes), context_(context) {}

  // An unsigned integer (major type 0). `what` names the field in error messages.
  util::Result<uint64_t> Uint(std::string_view what);
  // A byte string of exactly `size` bytes.
  util::Result<std::vector<uint8_t>> BytesExact(std::string_view what, size_t size);
  // A UTF-8 text string of at most `max_size` bytes.
  util::Result<std::string> Text(std::string_view what, size_t max_size);
  // The count of an array of `min`..`max` items.
  util::Result<uint64_t> ArrayHeader(std::string_view what, uint64_t min, uint64_t max);
  // The count of a map of `min`..`max` pairs.
  util::Result<uint64_t> MapHeader(std::string_view what, uint64_t min, uint64_t max);
  // The next key of a map: an unsigned integer greater than `previous` (pass -1 for the
  // first key), and at most `max_key`.
  util::Result<uint64_t> MapKey(std::string_view what, int64_t previous, uint64_t max_key);

  // OK when every byte was read; otherwise "trailing bytes".
  util::Status ExpectEnd() const;
  size_t offset() const { return offset_; }
  // An error at the current offset.
  util::Status Error(std::string_view what, std::string_view reason) const;

 private:
  // Reads a head of major type `major` and returns its argument.
  util::Result<uint64_t> Head(std::string_view what, uint8_t major);

  std::span<const uint8_t> bytes_;
  std::string context_;
  size_t offset_ = 0;
};

// True when `text` is well-formed UTF-8 (RFC 3629).
bool IsValidUtf8(std::string_view text);

}  // namespace kinko::policy

#endif  // KINKO_POLICY_CANONICAL_H_
