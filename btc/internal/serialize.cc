#include "btc/internal/serialize.h"

#include <string>

namespace kinko::btc::internal {

util::Status Reader::Error(std::string_view field, std::string_view what) const {
  std::string msg(field);
  msg += " at byte ";
  msg += std::to_string(offset_);
  msg += ": ";
  msg += what;
  return util::InvalidArgumentError(std::move(msg));
}

util::Result<std::span<const uint8_t>> Reader::ReadBytes(std::string_view field, size_t n) {
  if (n > remaining()) {
    return Error(field, "truncated (need " + std::to_string(n) + " bytes, " +
                            std::to_string(remaining()) + " left)");
  }
  std::span<const uint8_t> out = bytes_.subspan(offset_, n);
  offset_ += n;
  return out;
}

namespace {
template <typename T>
util::Result<T> ReadLe(Reader& r, std::string_view field) {
  util::Result<std::span<const uint8_t>> b = r.ReadBytes(field, sizeof(T));
  if (!b.ok()) return b.status();
  T v = 0;
  for (size_t i = 0; i < sizeof(T); ++i) v |= static_cast<T>(static_cast<T>((*b)[i]) << (8 * i));
  return v;
}

template <typename T>
void WriteLe(std::vector<uint8_t>& out, T v) {
  for (size_t i = 0; i < sizeof(T); ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
}  // namespace

util::Result<uint8_t> Reader::ReadU8(std::string_view field) {
  return ReadLe<uint8_t>(*this, field);
}
util::Result<uint16_t> Reader::ReadU16(std::string_view field) {
  return ReadLe<uint16_t>(*this, field);
}
util::Result<uint32_t> Reader::ReadU32(std::string_view field) {
  return ReadLe<uint32_t>(*this, field);
}
util::Result<uint64_t> Reader::ReadU64(std::string_view field) {
  return ReadLe<uint64_t>(*this, field);
}
util::Result<int64_t> Reader::ReadI64(std::string_view field) {
  util::Result<uint64_t> v = ReadU64(field);
  if (!v.ok()) return v.status();
  return static_cast<int64_t>(*v);
}

util::Result<uint64_t> Reader::ReadCompactSize(std::string_view field, uint64_t max) {
  const size_t start = offset_;
  util::Result<uint8_t> first = ReadU8(field);
  if (!first.ok()) return first.status();
  uint64_t v = 0;
  uint64_t min = 0;
  if (*first < 0xfd) {
    v = *first;
  } else if (*first == 0xfd) {
    util::Result<uint16_t> x = ReadU16(field);
    if (!x.ok()) return x.status();
    v = *x;
    min = 0xfd;
  } else if (*first == 0xfe) {
    util::Result<uint32_t> x = ReadU32(field);
    if (!x.ok()) return x.status();
    v = *x;
    min = 0x10000;
  } else {
    util::Result<uint64_t> x = ReadU64(field);
    if (!x.ok()) return x.status();
    v = *x;
    min = 0x100000000;
  }
  if (v < min) {
    offset_ = start;
    return Error(field, "non-canonical compact size");
  }
  if (v > max) {
    offset_ = start;
    return Error(field, "size " + std::to_string(v) + " exceeds " + std::to_string(max));
  }
  return v;
}

util::Result<std::vector<uint8_t>> Reader::ReadVarBytes(std::string_view field) {
  util::Result<uint64_t> n = ReadCompactSize(field);
  if (!n.ok()) return n.status();
  util::Result<std::span<const uint8_t>> b = ReadBytes(field, static_cast<size_t>(*n));
  if (!b.ok()) return b.status();
  return std::vector<uint8_t>(b->begin(), b->end());
}

void WriteU8(std::vector<uint8_t>& out, uint8_t v) { out.push_back(v); }
void WriteU16(std::vector<uint8_t>& out, uint16_t v) { WriteLe(out, v); }
void WriteU32(std::vector<uint8_t>& out, uint32_t v) { WriteLe(out, v); }
void WriteU64(std::vector<uint8_t>& out, uint64_t v) { WriteLe(out, v); }
void WriteI64(std::vector<uint8_t>& out, int64_t v) { WriteLe(out, static_cast<uint64_t>(v)); }

void WriteCompactSize(std::vector<uint8_t>& out, uint64_t v) {
  if (v < 0xfd) {
    WriteU8(out, static_cast<uint8_t>(v));
  } else if (v <= 0xffff) {
    WriteU8(out, 0xfd);
    WriteU16(out, static_cast<uint16_t>(v));
  } else if (v <= 0xffffffff) {
    WriteU8(out, 0xfe);
    WriteU32(out, static_cast<uint32_t>(v));
  } else {
    WriteU8(out, 0xff);
    WriteU64(out, v);
  }
}

size_t CompactSizeLength(uint64_t v) {
  if (v < 0xfd) return 1;
  if (v <= 0xffff) return 3;
  if (v <= 0xffffffff) return 5;
  return 9;
}

void WriteBytes(std::vector<uint8_t>& out, std::span<const uint8_t> bytes) {
  out.insert(out.end(), bytes.begin(), bytes.end());
}

void WriteVarBytes(std::vector<uint8_t>& out, std::span<const uint8_t> bytes) {
  WriteCompactSize(out, bytes.size());
  WriteBytes(out, bytes);
}

}  // namespace kinko::btc::internal
