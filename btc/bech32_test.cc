#include "btc/bech32.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "util/hex.h"

namespace kinko::btc {
namespace {

nlohmann::json ReadVectors(const std::string& name) {
  std::ifstream in(std::string(KINKO_VECTORS_DIR) + "/" + name);
  EXPECT_TRUE(in.good()) << name;
  return nlohmann::json::parse(in);
}

// The string of a vector entry; bytes_hex carries strings with non-ASCII bytes.
std::string VectorString(const nlohmann::json& v) {
  const std::vector<uint8_t> bytes = *util::HexDecode(v["bytes_hex"].get<std::string>());
  return std::string(bytes.begin(), bytes.end());
}

std::string Lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

// BIP173 and BIP350 valid strings decode with their own checksum type and re-encode to the
// lowercase string.
TEST(Bech32Test, ValidStringVectors) {
  const nlohmann::json vectors = ReadVectors("bech32_bech32m_test_vectors.json");
  size_t passed = 0;
  for (const auto& [section, key, encoding] :
       {std::tuple{"bip173", "bech32_valid_strings", Bech32Encoding::kBech32},
        std::tuple{"bip350", "bech32m_valid_strings", Bech32Encoding::kBech32m}}) {
    for (const auto& v : vectors[section][key]) {
      const std::string str = VectorString(v);
      util::Result<Bech32Decoded> d = Bech32Decode(str);
      ASSERT_TRUE(d.ok()) << str << ": " << d.status();
      EXPECT_EQ(d->encoding, encoding) << str;
      EXPECT_EQ(Bech32Encode(d->encoding, d->hrp, d->values5), Lower(str));
      // One flipped data character breaks the checksum.
      std::string flipped = Lower(str);
      char& last = flipped.back();
      last = last == 'q' ? 'p' : 'q';
      EXPECT_FALSE(Bech32Decode(flipped).ok()) << flipped;
      ++passed;
    }
  }
  EXPECT_EQ(passed, 14u);
}

// BIP173 and BIP350 invalid strings are rejected. An invalid string of one BIP must not
// decode under the other checksum either, since Bech32Decode accepts both.
TEST(Bech32Test, InvalidStringVectors) {
  const nlohmann::json vectors = ReadVectors("bech32_bech32m_test_vectors.json");
  size_t passed = 0;
  for (const auto& [section, key] : {std::pair{"bip173", "bech32_invalid_strings"},
                                     std::pair{"bip350", "bech32m_invalid_strings"}}) {
    for (const auto& v : vectors[section][key]) {
      const std::string str = VectorString(v);
      util::Result<Bech32Decoded> d = Bech32Decode(str);
      EXPECT_FALSE(d.ok()) << str << " (" << v["reason"] << ")";
      if (!d.ok()) {
        EXPECT_EQ(d.status().code(), util::StatusCode::kInvalidArgument);
      }
      ++passed;
    }
  }
  EXPECT_EQ(passed, 26u);
}

TEST(Bech32Test, ErrorsNamePositions) {
  util::Result<Bech32Decoded> r = Bech32Decode("abc1qqqqqbqqqqqq");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "bech32: invalid data character at position 9");
  r = Bech32Decode("abc1qqqqqQqqqqqq");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "bech32: mixed case at position 9");
  r = Bech32Decode("ab c1qqqqqqqqqqqq");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "bech32: invalid character at position 2");
}

TEST(Bech32Test, ChecksumErrorsNameTheLikelyPosition) {
  // BIP173's valid "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw", one character changed at a
  // time: the error names that character's position.
  const std::string valid = "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw";
  ASSERT_TRUE(Bech32Decode(valid).ok());
  for (size_t pos = 7; pos < valid.size(); ++pos) {
    std::string broken = valid;
    broken[pos] = broken[pos] == 'q' ? 'p' : 'q';
    util::Result<Bech32Decoded> r = Bech32Decode(broken);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().message(),
              "bech32: invalid checksum (likely error at position " + std::to_string(pos) + ")");
  }
}

TEST(Bech32Test, DecodeRejectsEachRule) {
  const std::vector<uint8_t> values = {0, 1, 2, 3, 31};
  const std::string good = Bech32Encode(Bech32Encoding::kBech32m, "hrp", values);
  ASSERT_TRUE(Bech32Decode(good).ok());
  // Length: exactly 90 is fine, 91 is not.
  const std::string at_limit =
      Bech32Encode(Bech32Encoding::kBech32, "a", std::vector<uint8_t>(90 - 8, 0));
  ASSERT_EQ(at_limit.size(), 90u);
  EXPECT_TRUE(Bech32Decode(at_limit).ok());
  const std::string over =
      Bech32Encode(Bech32Encoding::kBech32, "a", std::vector<uint8_t>(91 - 8, 0));
  EXPECT_FALSE(Bech32Decode(over).ok());
  // No separator, empty HRP, short checksum.
  EXPECT_FALSE(Bech32Decode("hrpqqqqqqqq").ok());
  EXPECT_FALSE(Bech32Decode(good.substr(3)).ok());
  EXPECT_FALSE(Bech32Decode("hrp1qqqqq").ok());
  // Upper case as a whole is accepted and gives the lowercase HRP.
  std::string upper = good;
  for (char& c : upper) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  util::Result<Bech32Decoded> d = Bech32Decode(upper);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->hrp, "hrp");
  EXPECT_EQ(d->values5, values);
}

TEST(Bech32Test, ConvertBitsRoundTrips) {
  for (size_t n = 0; n <= 42; ++n) {
    std::vector<uint8_t> bytes(n);
    for (size_t i = 0; i < n; ++i) bytes[i] = static_cast<uint8_t>(i * 37 + 11);
    const std::vector<uint8_t> five = ConvertBits8To5(bytes);
    EXPECT_EQ(five.size(), (n * 8 + 4) / 5);
    util::Result<std::vector<uint8_t>> back = ConvertBits5To8(five);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(*back, bytes);
  }
}

TEST(Bech32Test, ConvertBits5To8RejectsBadPadding) {
  // One 5-bit group is 5 bits of padding: more than 4.
  EXPECT_FALSE(ConvertBits5To8(std::vector<uint8_t>{0}).ok());
  // Two groups: one byte plus 2 padding bits, which must be zero.
  EXPECT_TRUE(ConvertBits5To8(std::vector<uint8_t>{31, 28}).ok());
  EXPECT_FALSE(ConvertBits5To8(std::vector<uint8_t>{31, 29}).ok());
  // Values must be below 32.
  EXPECT_FALSE(ConvertBits5To8(std::vector<uint8_t>{32, 0}).ok());
}

}  // namespace
}  // namespace kinko::btc
