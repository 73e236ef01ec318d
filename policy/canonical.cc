#include "policy/canonical.h"

#include <string>

#include "util/check.h"

namespace kinko::policy {
namespace {

constexpr uint8_t kMajorUint = 0;
constexpr uint8_t kMajorBytes = 2;
constexpr uint8_t kMajorText = 3;
constexpr uint8_t kMajorArray = 4;
constexpr uint8_t kMajorMap = 5;

const char* MajorName(uint8_t major) {
  switch (major) {
    case 0:
      return "unsigned integer";
    case 1:
      return "negative integer";
    case 2:
      return "byte string";
    case 3:
      return "text string";
    case 4:
      return "array";
    case 5:
      return "map";
    case 6:
      return "tag";
    default:
      return "float or simple value";
  }
}

}  // namespace

void CborWriter::Head(uint8_t major, uint64_t value) {
  const uint8_t type = static_cast<uint8_t>(major << 5);
  if (value < 24) {
    bytes_.push_back(static_cast<uint8_t>(type | value));
    return;
  }
  int size = 8;
  uint8_t info = 27;
  if (value <= 0xff) {
    size = 1;
    info = 24;
  } else if (value <= 0xffff) {
    size = 2;
    info = 25;
  } else if (value <= 0xffffffff) {
    size = 4;
    info = 26;
  }
  bytes_.push_back(static_cast<uint8_t>(type | info));
  for (int i = size - 1; i >= 0; --i) bytes_.push_back(static_cast<uint8_t>(value >> (8 * i)));
}

void CborWriter::Uint(uint64_t value) { Head(kMajorUint, value); }

void CborWriter::Bytes(std::span<const uint8_t> bytes) {
  Head(kMajorBytes, bytes.size());
  bytes_.insert(bytes_.end(), bytes.begin(), bytes.end());
}

void CborWriter::Text(std::string_view text) {
  CHECK(IsValidUtf8(text));
  Head(kMajorText, text.size());
  bytes_.insert(bytes_.end(), text.begin(), text.end());
}

void CborWriter::ArrayHeader(uint64_t count) { Head(kMajorArray, count); }
void CborWriter::MapHeader(uint64_t count) { Head(kMajorMap, count); }

util::Status CborReader::Error(std::string_view what, std::string_view reason) const {
  std::string message = context_ + " at byte " + std::to_string(offset_) + ": ";
  message += what;
  message += ": ";
  message += reason;
  return util::InvalidArgumentError(std::move(message));
}

util::Result<uint64_t> CborReader::Head(std::string_view what, uint8_t major) {
  if (offset_ >= bytes_.size()) return Error(what, "truncated");
  const uint8_t initial = bytes_[offset_];
  const uint8_t found = static_cast<uint8_t>(initial >> 5);
  const uint8_t info = initial & 0x1f;
  if (found != major) {
    return Error(what, std::string("expected ") + MajorName(major) + ", found " + MajorName(found));
  }
  if (info < 24) {
    ++offset_;
    return uint64_t{info};
  }
  if (info > 27) {
    // 28..30 are reserved; 31 is an indefinite length.
    return Error(what, info == 31 ? "indefinite length" : "reserved additional information");
  }
  const size_t size = size_t{1} << (info - 24);
  if (bytes_.size() - offset_ - 1 < size) return Error(what, "truncated");
  uint64_t value = 0;
  for (size_t i = 0; i < size; ++i) value = (value << 8) | bytes_[offset_ + 1 + i];
  // RFC 8949 section 4.2.1: the argument uses the shortest form.
  const uint64_t min = size == 1 ? 24 : (uint64_t{1} << (4 * size));
  if (value < min) return Error(what, "integer not in its shortest form");
  offset_ += 1 + size;
  return value;
}

util::Result<uint64_t> CborReader::Uint(std::string_view what) { return Head(what, kMajorUint); }

util::Result<std::vector<uint8_t>> CborReader::BytesExact(std::string_view what, size_t size) {
  const size_t start = offset_;
  util::Result<uint64_t> length = Head(what, kMajorBytes);
  if (!length.ok()) return length.status();
  if (*length != size) {
    offset_ = start;
    return Error(what, "must be " + std::to_string(size) + " bytes");
  }
  if (bytes_.size() - offset_ < size) return Error(what, "truncated");
  std::vector<uint8_t> out(bytes_.begin() + static_cast<std::ptrdiff_t>(offset_),
                           bytes_.begin() + static_cast<std::ptrdiff_t>(offset_ + size));
  offset_ += size;
  return out;
}

util::Result<std::string> CborReader::Text(std::string_view what, size_t max_size) {
  const size_t start = offset_;
  util::Result<uint64_t> length = Head(what, kMajorText);
  if (!length.ok()) return length.status();
  if (*length > max_size) {
    offset_ = start;
    return Error(what, "longer than " + std::to_string(max_size) + " bytes");
  }
  if (bytes_.size() - offset_ < *length) return Error(what, "truncated");
  std::string out(bytes_.begin() + static_cast<std::ptrdiff_t>(offset_),
                  bytes_.begin() + static_cast<std::ptrdiff_t>(offset_ + *length));
  if (!IsValidUtf8(out)) return Error(what, "not valid utf-8");
  offset_ += *length;
  return out;
}

util::Result<uint64_t> CborReader::ArrayHeader(std::string_view what, uint64_t min, uint64_t max) {
  const size_t start = offset_;
  util::Result<uint64_t> count = Head(what, kMajorArray);
  if (!count.ok()) return count.status();
  if (*count < min || *count > max) {
    offset_ = start;
    return Error(what, "must have " + std::to_string(min) + ".." + std::to_string(max) + " items");
  }
  return count;
}

util::Result<uint64_t> CborReader::MapHeader(std::string_view what, uint64_t min, uint64_t max) {
  const size_t start = offset_;
  util::Result<uint64_t> count = Head(what, kMajorMap);
  if (!count.ok()) return count.status();
  if (*count < min || *count > max) {
    offset_ = start;
    return Error(what,
                 "must have " + std::to_string(min) + ".." + std::to_string(max) + " entries");
  }
  return count;
}

util::Result<uint64_t> CborReader::MapKey(std::string_view what, int64_t previous,
                                          uint64_t max_key) {
  const size_t start = offset_;
  util::Result<uint64_t> key = Head(what, kMajorUint);
  if (!key.ok()) return key.status();
  if (previous >= 0 && *key <= static_cast<uint64_t>(previous)) {
    offset_ = start;
    return Error(what, "map keys not in strictly increasing order");
  }
  if (*key > max_key) {
    offset_ = start;
    return Error(what, "unknown key " + std::to_string(*key));
  }
  return key;
}

util::Status CborReader::ExpectEnd() const {
  if (offset_ != bytes_.size()) return Error("end", "trailing bytes");
  return util::OkStatus();
}

bool IsValidUtf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const uint8_t b = static_cast<uint8_t>(text[i]);
    if (b < 0x80) {
      ++i;
      continue;
    }
    size_t extra = 0;
    uint32_t code = 0;
    uint32_t min = 0;
    if ((b & 0xe0) == 0xc0) {
      extra = 1;
      code = b & 0x1f;
      min = 0x80;
    } else if ((b & 0xf0) == 0xe0) {
      extra = 2;
      code = b & 0x0f;
      min = 0x800;
    } else if ((b & 0xf8) == 0xf0) {
      extra = 3;
      code = b & 0x07;
      min = 0x10000;
    } else {
      return false;
    }
    if (text.size() - i <= extra) return false;
    for (size_t k = 1; k <= extra; ++k) {
      const uint8_t c = static_cast<uint8_t>(text[i + k]);
      if ((c & 0xc0) != 0x80) return false;
      code = (code << 6) | (c & 0x3f);
    }
    if (code < min || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return false;
    i += 1 + extra;
  }
  return true;
}

}  // namespace kinko::policy
