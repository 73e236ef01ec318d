#include "btc/internal/serialize.h"

#include <gtest/gtest.h>

namespace kinko::btc::internal {
namespace {

TEST(SerializeTest, CompactSizeRoundTripsAtEveryBoundary) {
  for (uint64_t v :
       {0ull, 0xfcull, 0xfdull, 0xffffull, 0x10000ull, 0xffffffffull, 0x100000000ull}) {
    std::vector<uint8_t> out;
    WriteCompactSize(out, v);
    EXPECT_EQ(out.size(), CompactSizeLength(v));
    Reader r(out);
    util::Result<uint64_t> back = r.ReadCompactSize("n", UINT64_MAX);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(*back, v);
    EXPECT_TRUE(r.AtEnd());
  }
}

TEST(SerializeTest, CompactSizeRejectsNonCanonical) {
  std::vector<uint8_t> bytes = {0xfd, 0xfc, 0x00};
  Reader r(bytes);
  util::Result<uint64_t> v = r.ReadCompactSize("input count");
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().message(), "input count at byte 0: non-canonical compact size");
}

TEST(SerializeTest, CompactSizeRejectsAboveMax) {
  std::vector<uint8_t> bytes;
  WriteCompactSize(bytes, kMaxCompactSize + 1);
  Reader r(bytes);
  EXPECT_FALSE(r.ReadCompactSize("n").ok());
}

TEST(SerializeTest, TruncationNamesFieldAndOffset) {
  std::vector<uint8_t> bytes = {1, 2, 3};
  Reader r(bytes);
  ASSERT_TRUE(r.ReadU16("version").ok());
  util::Result<uint32_t> v = r.ReadU32("lock_time");
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().message(), "lock_time at byte 2: truncated (need 4 bytes, 1 left)");
}

TEST(SerializeTest, LittleEndian) {
  std::vector<uint8_t> out;
  WriteU32(out, 0x01020304);
  EXPECT_EQ(out, (std::vector<uint8_t>{4, 3, 2, 1}));
  Reader r(out);
  EXPECT_EQ(*r.ReadU32("x"), 0x01020304u);
}

}  // namespace
}  // namespace kinko::btc::internal
