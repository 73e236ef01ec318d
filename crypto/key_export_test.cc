#include "crypto/key_export.h"

#include <gtest/gtest.h>

#include <vector>

#include "crypto/hash.h"

namespace kinko::crypto {
namespace {

std::array<uint8_t, 32> SampleKey() {
  std::array<uint8_t, 32> bytes;
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i + 1);
  return bytes;
}

TEST(KeyExportTest, ExportReturnsTheKeyBytes) {
  const std::array<uint8_t, 32> bytes = SampleKey();
  util::Result<PrivateKey> key = PrivateKey::FromBytes(bytes);
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(ExportPrivateKeyBytes(*key), bytes);
}

TEST(KeyExportTest, CopyHoldsTheSameKey) {
  util::Result<PrivateKey> key = PrivateKey::FromBytes(SampleKey());
  ASSERT_TRUE(key.ok());
  const PrivateKey copy = CopyPrivateKey(*key);
  EXPECT_EQ(ExportPrivateKeyBytes(copy), SampleKey());
}

TEST(KeyExportTest, HmacWithPrivateKeyHashesPrefixKeySuffix) {
  util::Result<PrivateKey> key = PrivateKey::FromBytes(SampleKey());
  ASSERT_TRUE(key.ok());
  const std::vector<uint8_t> hmac_key = {9, 8, 7};
  const std::vector<uint8_t> prefix = {0x00};
  const std::vector<uint8_t> suffix = {0x80, 0, 0, 1};
  std::vector<uint8_t> data = prefix;
  const std::array<uint8_t, 32> bytes = SampleKey();
  data.insert(data.end(), bytes.begin(), bytes.end());
  data.insert(data.end(), suffix.begin(), suffix.end());
  EXPECT_EQ(HmacSha512WithPrivateKey(hmac_key, prefix, *key, suffix), HmacSha512(hmac_key, data));
}

}  // namespace
}  // namespace kinko::crypto
