#include "signerd/internal/ecdsa_encoding.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "crypto/hash.h"
#include "util/hex.h"

namespace kinko::signerd::internal {
namespace {

const crypto::Secp256k1Context& Ctx() {
  static crypto::SystemRng rng;
  static const crypto::Secp256k1Context ctx = crypto::Secp256k1Context::Create(rng);
  return ctx;
}

std::vector<uint8_t> Hex(const std::string& hex) {
  std::vector<uint8_t> out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

const std::string kN = "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141";
const std::string kNMinus1 = "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364140";
const std::string kHalfN = "7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0";
const std::string kHalfNPlus1 = "7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a1";
const std::string kOne = std::string(62, '0') + "01";
const std::string kZero = std::string(64, '0');

TEST(EcdsaEncodingTest, CompactToLowSDerKnownAnswers) {
  struct Case {
    std::string r, s, der;
  };
  const Case cases[] = {
      // Smallest values: one-byte integers.
      {kOne, kOne, "3006020101020101"},
      // S = n - 1 is high: it becomes 1.
      {kOne, kNMinus1, "3006020101020101"},
      // S = n/2 is the largest low S; n/2 + 1 becomes n/2 (n is odd).
      {kOne, kHalfN,
       "3025020101022"
       "0" +
           kHalfN},
      {kOne, kHalfNPlus1,
       "3025020101022"
       "0" +
           kHalfN},
      // An R with its top bit set gets a 0x00 sign byte; leading zero bytes are dropped.
      {kNMinus1, "0000" + kOne.substr(4), "3026022100" + kNMinus1 + "020101"},
  };
  for (const Case& c : cases) {
    util::Result<std::vector<uint8_t>> der = CompactSignatureToLowSDer(Hex(c.r + c.s));
    ASSERT_TRUE(der.ok()) << der.status();
    EXPECT_EQ(util::HexEncode(*der), c.der) << c.r << " " << c.s;
  }
}

TEST(EcdsaEncodingTest, CompactToLowSDerRejectsEachRule) {
  const std::string valid = kOne + kOne;
  ASSERT_TRUE(CompactSignatureToLowSDer(Hex(valid)).ok());
  const std::string rejected[] = {
      valid.substr(2),        // 63 bytes.
      valid + "00",           // 65 bytes.
      kZero + kOne,           // r = 0.
      kOne + kZero,           // s = 0.
      kN + kOne,              // r = n.
      kOne + kN,              // s = n.
      std::string(128, 'f'),  // r and s above n.
  };
  for (const std::string& hex : rejected) {
    util::Result<std::vector<uint8_t>> der = CompactSignatureToLowSDer(Hex(hex));
    ASSERT_FALSE(der.ok()) << hex;
    EXPECT_EQ(der.status().code(), util::StatusCode::kInvalidArgument);
  }
}

// Against libsecp256k1: its low-S DER signature, turned into r || s and, half of the time, into
// r || n - s (the high-S twin a token may return), converts back to the same bytes.
TEST(EcdsaEncodingTest, MatchesLibsecp256k1Signatures) {
  crypto::SystemRng rng;
  const crypto::PrivateKey key = crypto::PrivateKey::Generate(rng);
  for (uint8_t i = 0; i < 50; ++i) {
    const std::array<uint8_t, 1> message = {i};
    const crypto::Hash256Bytes digest = crypto::Sha256(message);
    const std::vector<uint8_t> der =
        crypto::EcdsaSign(Ctx(), key, digest, crypto::LowRGrinding::kNone);
    // DER: 30 len 02 rlen r 02 slen s; integers at most 33 bytes with a sign byte.
    const size_t r_len = der[3];
    const size_t s_len = der[5 + r_len];
    std::array<uint8_t, 64> compact{};
    const size_t r_copy = std::min<size_t>(r_len, 32);
    std::copy(der.begin() + 4 + static_cast<long>(r_len - r_copy),
              der.begin() + 4 + static_cast<long>(r_len),
              compact.begin() + static_cast<long>(32 - r_copy));
    const size_t s_copy = std::min<size_t>(s_len, 32);
    std::copy(der.end() - static_cast<long>(s_copy), der.end(),
              compact.begin() + static_cast<long>(64 - s_copy));
    if (i % 2 == 1) {
      // s := n - s.
      const std::vector<uint8_t> n = Hex(kN);
      int borrow = 0;
      for (int b = 31; b >= 0; --b) {
        const int d = n[static_cast<size_t>(b)] - compact[32 + static_cast<size_t>(b)] - borrow;
        compact[32 + static_cast<size_t>(b)] = static_cast<uint8_t>(d & 0xff);
        borrow = d < 0 ? 1 : 0;
      }
    }
    util::Result<std::vector<uint8_t>> converted = CompactSignatureToLowSDer(compact);
    ASSERT_TRUE(converted.ok());
    EXPECT_EQ(*converted, der) << int{i};
  }
}

TEST(EcdsaEncodingTest, ParseEcPoint) {
  const std::string g_x = "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798";
  const std::string g_y = "483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8";
  util::Result<crypto::PublicKey> g = ParseEcPoint(Hex("044104" + g_x + g_y));
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_TRUE(g->IsCompressed());
  EXPECT_EQ(util::HexEncode(g->SerializeCompressed()), "02" + g_x);

  const std::string y_plus_1 = g_y.substr(0, 63) + "9";  // Not on the curve.
  const std::string rejected[] = {
      "044004" + g_x + g_y,  // Length byte.
      "034104" + g_x + g_y,  // BIT STRING tag.
      "044106" + g_x + g_y,  // Hybrid point.
      "04410"
      "4" +
          g_x + y_plus_1,  // Not on the curve.
      "04"
      "4104" +
          g_x + g_y + "00",  // Trailing byte.
      "04" + g_x + g_y,      // Bare point, no OCTET STRING.
      "042102" + g_x,        // Compressed point.
      "",
  };
  for (const std::string& hex : rejected) {
    util::Result<crypto::PublicKey> point = ParseEcPoint(Hex(hex));
    ASSERT_FALSE(point.ok()) << hex;
    EXPECT_EQ(point.status().code(), util::StatusCode::kInvalidArgument);
  }
}

}  // namespace
}  // namespace kinko::signerd::internal
