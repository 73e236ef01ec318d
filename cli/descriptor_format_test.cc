#include "cli/descriptor_format.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>

#include "util/hex.h"

namespace kinko::cli {
namespace {

nlohmann::json ReadVectors() {
  std::ifstream file(std::string(KINKO_VECTORS_DIR) + "/descriptors_bip380-386_test_vectors.json");
  return nlohmann::json::parse(file);
}

TEST(DescriptorFormatTest, ChecksumMatchesBip380Vectors) {
  const nlohmann::json vectors = ReadVectors()["bips"]["380"]["checksum_and_charset"];
  int checked = 0;
  for (const nlohmann::json& v : vectors) {
    const std::string text = v["descriptor"];
    const size_t hash = text.find('#');
    if (hash == std::string::npos) continue;
    const std::string body = text.substr(0, hash);
    const std::string checksum = text.substr(hash + 1);
    std::optional<std::string> computed = DescriptorChecksum(body);
    if (v["valid"].get<bool>()) {
      ASSERT_TRUE(computed.has_value()) << text;
      EXPECT_EQ(*computed, checksum) << text;
    } else {
      EXPECT_TRUE(!computed.has_value() || *computed != checksum) << text;
    }
    ++checked;
  }
  EXPECT_GE(checked, 6);
}

TEST(DescriptorFormatTest, ChecksumRejectsCharactersOutsideTheCharset) {
  EXPECT_FALSE(DescriptorChecksum("raw(\xc3\x9c)").has_value());
  EXPECT_FALSE(DescriptorChecksum("raw(\n)").has_value());
}

// Every BIP381-386 vector whose descriptor is what Core infers from its script alone (keys
// given as hex, no origins): inferring the script gives back the descriptor.
TEST(DescriptorFormatTest, InferDescriptorGivesBackPlainDescriptorsOfTheVectors) {
  const std::regex plain(
      R"(^(pk\((02|03)[0-9a-f]{64}\)|pk\(04[0-9a-f]{128}\)|rawtr\([0-9a-f]{64}\)|multi\(\d+(,(02|03)[0-9a-f]{64})+\)|addr\([A-Za-z0-9]+\))$)");
  int checked = 0;
  const nlohmann::json vectors = ReadVectors();
  for (const auto& [bip, spec] : vectors["bips"].items()) {
    if (!spec.contains("valid")) continue;
    for (const nlohmann::json& v : spec["valid"]) {
      if (!v.contains("scripts") || v["scripts"].size() != 1 || !v["scripts"][0].is_string()) {
        continue;
      }
      std::string descriptor = v["descriptor"];
      descriptor = descriptor.substr(0, descriptor.find('#'));
      if (!std::regex_match(descriptor, plain)) continue;
      const btc::Script script(*util::HexDecode(v["scripts"][0].get<std::string>()));
      const std::string inferred = InferDescriptor(script, btc::Network::kMainnet);
      EXPECT_EQ(inferred, descriptor + "#" + *DescriptorChecksum(descriptor)) << "BIP" << bip;
      ++checked;
    }
  }
  EXPECT_GE(checked, 3);
}

TEST(DescriptorFormatTest, InferDescriptorFallsBackToRaw) {
  // OP_RETURN data and a bare public key of the wrong size have no other descriptor.
  const btc::Script nulldata(*util::HexDecode("6a0401020304"));
  EXPECT_EQ(InferDescriptor(nulldata, btc::Network::kMainnet),
            "raw(6a0401020304)#" + *DescriptorChecksum("raw(6a0401020304)"));
  const btc::Script hybrid_key(*util::HexDecode(
      "4106a34b99f22c790c4e36b2b3c2c35a36db06226e41c692fc82b8b56ac1c540c5bd5b8dec5235a0fa8722476c"
      "7709c02559e3aa73aa03918ba2d492eea75abea235ac"));
  EXPECT_TRUE(InferDescriptor(hybrid_key, btc::Network::kMainnet).starts_with("raw(4106"));
}

}  // namespace
}  // namespace kinko::cli
