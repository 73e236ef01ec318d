#include "util/hex.h"

#include <gtest/gtest.h>

namespace kinko::util {
namespace {

TEST(HexTest, RoundTrip) {
  std::vector<uint8_t> bytes = {0x00, 0x01, 0xab, 0xff};
  EXPECT_EQ(HexEncode(bytes), "0001abff");
  Result<std::vector<uint8_t>> decoded = HexDecode("0001ABff");
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, bytes);
}

TEST(HexTest, EmptyIsEmpty) {
  EXPECT_EQ(HexEncode({}), "");
  Result<std::vector<uint8_t>> decoded = HexDecode("");
  ASSERT_TRUE(decoded.ok());
  EXPECT_TRUE(decoded->empty());
}

TEST(HexTest, RejectsOddLength) {
  Result<std::vector<uint8_t>> decoded = HexDecode("abc");
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().message(), "hex string has odd length 3");
}

TEST(HexTest, RejectsBadCharacterNamingOffset) {
  Result<std::vector<uint8_t>> decoded = HexDecode("00zz");
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().message(), "invalid hex character at offset 2");
  decoded = HexDecode("0 ");
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().message(), "invalid hex character at offset 1");
}

TEST(HexTest, DecodeExactChecksSize) {
  EXPECT_TRUE(HexDecodeExact("0011", 2).ok());
  Result<std::vector<uint8_t>> decoded = HexDecodeExact("0011", 3);
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().message(), "expected 3 bytes of hex, got 2");
}

}  // namespace
}  // namespace kinko::util
