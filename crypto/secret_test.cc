#include "crypto/secret.h"

#include <gtest/gtest.h>

#include <array>
#include <utility>
#include <vector>

#include "crypto/rng.h"

namespace kinko::crypto {
namespace {

TEST(SecretBytesTest, SizeConstructorGivesZeros) {
  SecretBytes secret(16);
  ASSERT_EQ(secret.size(), 16u);
  for (uint8_t b : secret.Reveal(SecretAccess::Get())) EXPECT_EQ(b, 0);
}

TEST(SecretBytesTest, FromSpanCopiesTheBytes) {
  std::vector<uint8_t> bytes = {1, 2, 3, 4};
  SecretBytes secret = SecretBytes::FromSpan(bytes);
  bytes[0] = 9;  // The secret holds its own copy.
  const std::span<const uint8_t> revealed = secret.Reveal(SecretAccess::Get());
  EXPECT_EQ(std::vector<uint8_t>(revealed.begin(), revealed.end()),
            (std::vector<uint8_t>{1, 2, 3, 4}));
}

TEST(SecretBytesTest, MoveConstructionLeavesSourceEmpty) {
  SecretBytes source = SecretBytes::FromSpan(std::vector<uint8_t>{5, 6, 7});
  SecretBytes target(std::move(source));
  EXPECT_EQ(source.size(), 0u);  // NOLINT(bugprone-use-after-move): the point of the test.
  ASSERT_EQ(target.size(), 3u);
  EXPECT_EQ(target.Reveal(SecretAccess::Get())[2], 7);
}

TEST(SecretBytesTest, MoveAssignmentLeavesSourceEmptyAndReplacesTarget) {
  SecretBytes source = SecretBytes::FromSpan(std::vector<uint8_t>{5, 6, 7});
  SecretBytes target = SecretBytes::FromSpan(std::vector<uint8_t>{1, 2});
  target = std::move(source);
  EXPECT_EQ(source.size(), 0u);  // NOLINT(bugprone-use-after-move): the point of the test.
  ASSERT_EQ(target.size(), 3u);
  EXPECT_EQ(target.Reveal(SecretAccess::Get())[0], 5);
}

TEST(SecretBytesTest, RevealMutableWritesThrough) {
  SecretBytes secret(2);
  secret.RevealMutable(SecretAccess::Get())[1] = 0xab;
  EXPECT_EQ(secret.Reveal(SecretAccess::Get())[1], 0xab);
}

TEST(WipeTest, ZeroesEveryByte) {
  std::array<uint8_t, 33> bytes;
  bytes.fill(0xff);
  Wipe(bytes);
  for (uint8_t b : bytes) EXPECT_EQ(b, 0);
  Wipe({});  // An empty span is fine.
}

TEST(CtEqualTest, EqualInputs) {
  const std::vector<uint8_t> a = {1, 2, 3, 4, 5};
  const std::vector<uint8_t> b = {1, 2, 3, 4, 5};
  EXPECT_TRUE(CtEqual(a, b));
  EXPECT_TRUE(CtEqual({}, {}));
}

TEST(CtEqualTest, UnequalInputsOfSameSize) {
  const std::vector<uint8_t> a = {1, 2, 3, 4, 5};
  for (size_t i = 0; i < a.size(); ++i) {
    std::vector<uint8_t> b = a;
    b[i] ^= 0x80;
    EXPECT_FALSE(CtEqual(a, b)) << "differs at " << i;
  }
}

TEST(CtEqualTest, DifferentSizesAreUnequal) {
  const std::vector<uint8_t> a = {1, 2, 3};
  const std::vector<uint8_t> prefix = {1, 2};
  EXPECT_FALSE(CtEqual(a, prefix));
  EXPECT_FALSE(CtEqual(prefix, a));
  EXPECT_FALSE(CtEqual(a, {}));
}

TEST(SystemRngTest, FillsLargeBuffersWithVaryingBytes) {
  SystemRng rng;
  // More than getrandom(2)'s 256-byte single-call guarantee, so the loop is exercised.
  std::vector<uint8_t> a(4096), b(4096);
  rng.Fill(a);
  rng.Fill(b);
  EXPECT_NE(a, b);
  // Not all zero (probability 2^-32768 for a working source).
  EXPECT_NE(a, std::vector<uint8_t>(4096, 0));
  rng.Fill({});
}

}  // namespace
}  // namespace kinko::crypto
