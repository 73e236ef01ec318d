#include "btc/base58.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "crypto/hash.h"
#include "util/hex.h"

namespace kinko::btc {
namespace {

nlohmann::json ReadVectors(const std::string& name) {
  std::ifstream in(std::string(KINKO_VECTORS_DIR) + "/" + name);
  EXPECT_TRUE(in.good()) << name;
  return nlohmann::json::parse(in);
}

// Bitcoin Core's src/test/data/base58_encode_decode.json: [hex, base58] pairs.
TEST(Base58Test, EncodeDecodeVectors) {
  const nlohmann::json vectors = ReadVectors("base58_encode_decode.json");
  size_t passed = 0;
  for (const auto& v : vectors) {
    const std::vector<uint8_t> bytes = *util::HexDecode(v[0].get<std::string>());
    const std::string text = v[1].get<std::string>();
    EXPECT_EQ(Base58Encode(bytes), text);
    util::Result<std::vector<uint8_t>> decoded = Base58Decode(text);
    ASSERT_TRUE(decoded.ok()) << text << ": " << decoded.status();
    EXPECT_EQ(*decoded, bytes) << text;
    ++passed;
  }
  EXPECT_EQ(passed, 21u);
}

TEST(Base58Test, DecodeRejectsCharactersOutsideTheAlphabet) {
  for (const char* text :
       {"0", "O", "I", "l", "3SEo3LWLoPntC ", " 3SEo3LWLoPntC", "abc+", "\xff"}) {
    util::Result<std::vector<uint8_t>> r = Base58Decode(text);
    EXPECT_FALSE(r.ok()) << text;
  }
  util::Result<std::vector<uint8_t>> r = Base58Decode("12l4");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "base58: invalid character at position 2");
  // An embedded NUL is rejected, not treated as the end of the string.
  EXPECT_FALSE(Base58Decode(std::string_view("2g\0", 3)).ok());
}

TEST(Base58Test, DecodeRejectsResultsAboveMaxSize) {
  EXPECT_TRUE(Base58Decode("a3gV", 3).ok());  // 626262
  EXPECT_FALSE(Base58Decode("a3gV", 2).ok());
  EXPECT_TRUE(Base58Decode("111", 3).ok());
  EXPECT_FALSE(Base58Decode("1111", 3).ok());  // Leading zeros count.
}

TEST(Base58Test, CheckRoundTrips) {
  for (const std::vector<uint8_t>& payload :
       {std::vector<uint8_t>{}, std::vector<uint8_t>{0}, std::vector<uint8_t>{0, 0, 1, 2},
        std::vector<uint8_t>(78, 0xab)}) {
    const std::string text = Base58CheckEncode(payload);
    util::Result<std::vector<uint8_t>> back = Base58CheckDecode(text);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(*back, payload);
  }
}

TEST(Base58Test, CheckEncodeAppendsTheHash256Checksum) {
  const std::vector<uint8_t> payload = {0x00, 0x01, 0x02};
  std::vector<uint8_t> with_checksum = payload;
  const crypto::Hash256Bytes h = crypto::Hash256(payload);
  with_checksum.insert(with_checksum.end(), h.begin(), h.begin() + 4);
  EXPECT_EQ(Base58CheckEncode(payload), Base58Encode(with_checksum));
}

TEST(Base58Test, CheckDecodeRejectsBadChecksum) {
  // Bitcoin Core's key_io_valid.json address, last character changed.
  EXPECT_TRUE(Base58CheckDecode("1FsSia9rv4NeEwvJ2GvXrX7LyxYspbN2mo").ok());
  util::Result<std::vector<uint8_t>> r = Base58CheckDecode("1FsSia9rv4NeEwvJ2GvXrX7LyxYspbN2mp");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "base58check: checksum mismatch");
}

TEST(Base58Test, CheckDecodeRejectsShortInput) {
  EXPECT_FALSE(Base58CheckDecode("").ok());
  EXPECT_FALSE(Base58CheckDecode("2g").ok());  // One byte.
  EXPECT_FALSE(Base58CheckDecode(Base58Encode(std::vector<uint8_t>{1, 2, 3})).ok());
}

TEST(Base58Test, CheckDecodeRejectsPayloadAboveMax) {
  const std::string text = Base58CheckEncode(std::vector<uint8_t>(21, 7));
  EXPECT_TRUE(Base58CheckDecode(text, 21).ok());
  EXPECT_FALSE(Base58CheckDecode(text, 20).ok());
}

}  // namespace
}  // namespace kinko::btc
