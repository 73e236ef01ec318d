#include "policy/canonical.h"

#include <gtest/gtest.h>

#include <vector>

#include "util/hex.h"

namespace kinko::policy {
namespace {

std::vector<uint8_t> Hex(std::string_view hex) { return util::HexDecode(hex).value(); }

TEST(CanonicalTest, WriterUsesShortestHeads) {
  // RFC 8949 appendix A.
  const std::pair<uint64_t, const char*> cases[] = {{0, "00"},
                                                    {23, "17"},
                                                    {24, "1818"},
                                                    {255, "18ff"},
                                                    {256, "190100"},
                                                    {65535, "19ffff"},
                                                    {65536, "1a00010000"},
                                                    {4294967295, "1affffffff"},
                                                    {4294967296, "1b0000000100000000"}};
  for (const auto& [value, hex] : cases) {
    CborWriter writer;
    writer.Uint(value);
    EXPECT_EQ(util::HexEncode(writer.bytes()), hex);
    CborReader reader(writer.bytes(), "test");
    EXPECT_EQ(reader.Uint("n").value(), value);
    EXPECT_TRUE(reader.ExpectEnd().ok());
  }
  CborWriter writer;
  writer.Text("IETF");
  writer.Bytes(Hex("01020304"));
  writer.ArrayHeader(3);
  writer.MapHeader(2);
  EXPECT_EQ(util::HexEncode(writer.bytes()), "6449455446440102030483a2");
}

TEST(CanonicalTest, ReaderRejectsNonShortestIntegers) {
  for (const char* hex : {"1800", "1817", "190000", "1900ff", "1a00000000", "1a0000ffff",
                          "1b0000000000000000", "1b00000000ffffffff"}) {
    const std::vector<uint8_t> bytes = Hex(hex);
    CborReader reader(bytes, "test");
    util::Result<uint64_t> value = reader.Uint("n");
    ASSERT_FALSE(value.ok()) << hex;
    EXPECT_NE(value.status().message().find("shortest"), std::string::npos);
  }
}

TEST(CanonicalTest, ReaderRejectsOtherTypesAndIndefiniteLengths) {
  EXPECT_FALSE(CborReader(Hex("20"), "t").Uint("n").ok());                  // Negative integer.
  EXPECT_FALSE(CborReader(Hex("c000"), "t").Uint("n").ok());                // Tag.
  EXPECT_FALSE(CborReader(Hex("f5"), "t").Uint("n").ok());                  // true.
  EXPECT_FALSE(CborReader(Hex("fb0000000000000000"), "t").Uint("n").ok());  // Float.
  EXPECT_FALSE(CborReader(Hex("1c"), "t").Uint("n").ok());                  // Reserved.
  EXPECT_FALSE(CborReader(Hex("5f4100ff"), "t").BytesExact("b", 1).ok());   // Indefinite.
  EXPECT_FALSE(CborReader(Hex("7f6161ff"), "t").Text("s", 10).ok());
  EXPECT_FALSE(CborReader(Hex("9f00ff"), "t").ArrayHeader("a", 0, 10).ok());
  EXPECT_FALSE(CborReader(Hex("bf0000ff"), "t").MapHeader("m", 0, 10).ok());
}

TEST(CanonicalTest, ReaderChecksSizesAndTruncation) {
  EXPECT_FALSE(CborReader(Hex("420102"), "t").BytesExact("b", 3).ok());
  EXPECT_FALSE(CborReader(Hex("4301"), "t").BytesExact("b", 3).ok());
  EXPECT_FALSE(CborReader(Hex("1901"), "t").Uint("n").ok());
  EXPECT_FALSE(CborReader(Hex(""), "t").Uint("n").ok());
  EXPECT_FALSE(CborReader(Hex("63616263"), "t").Text("s", 2).ok());
  EXPECT_FALSE(CborReader(Hex("83"), "t").ArrayHeader("a", 0, 2).ok());
  EXPECT_FALSE(CborReader(Hex("80"), "t").ArrayHeader("a", 1, 2).ok());
  const std::vector<uint8_t> two = Hex("0000");
  CborReader trailing(two, "t");
  EXPECT_TRUE(trailing.Uint("n").ok());
  EXPECT_FALSE(trailing.ExpectEnd().ok());
}

TEST(CanonicalTest, MapKeysStrictlyIncreasing) {
  const std::vector<uint8_t> keys = Hex("010101");
  CborReader reader(keys, "t");
  EXPECT_EQ(reader.MapKey("k", -1, 5).value(), 1u);
  EXPECT_FALSE(reader.MapKey("k", 1, 5).ok());  // Duplicate.
  const std::vector<uint8_t> zero = Hex("00");
  CborReader lower(zero, "t");
  EXPECT_FALSE(lower.MapKey("k", 1, 5).ok());  // Out of order.
  const std::vector<uint8_t> six = Hex("06");
  CborReader unknown(six, "t");
  EXPECT_FALSE(unknown.MapKey("k", -1, 5).ok());
}

TEST(CanonicalTest, TextMustBeUtf8) {
  EXPECT_TRUE(IsValidUtf8("h\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // Overlong '/'.
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // Surrogate.
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // Above U+10FFFF.
  EXPECT_FALSE(IsValidUtf8("\xe2\x82"));          // Truncated.
  EXPECT_FALSE(IsValidUtf8("\x80"));
  EXPECT_FALSE(CborReader(Hex("62c0af"), "t").Text("s", 10).ok());
}

TEST(CanonicalTest, ErrorsNameContextAndOffset) {
  const std::vector<uint8_t> bytes = Hex("001800");
  CborReader reader(bytes, "intent");
  ASSERT_TRUE(reader.Uint("version").ok());
  util::Result<uint64_t> bad = reader.Uint("created");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "intent at byte 1: created: integer not in its shortest form");
}

}  // namespace
}  // namespace kinko::policy
