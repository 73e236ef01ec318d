#include "cli/descriptor_format.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "btc/descriptor.h"
#include "util/hex.h"

namespace kinko::cli {
namespace {

nlohmann::json ReadVectors() {
  std::ifstream file(std::string(KINKO_VECTORS_DIR) + "/descriptors_bip380-386_test_vectors.json");
  return nlohmann::json::parse(file);
}

// True for pk(HEX), rawtr(HEX), multi(K,HEX,...) and addr(ADDRESS): the descriptors Core infers
// from a script alone (no key origins, extended keys or WIF keys).
bool IsPlainDescriptor(std::string_view text) {
  const size_t open = text.find('(');
  if (open == std::string_view::npos || !text.ends_with(")")) return false;
  const std::string_view name = text.substr(0, open);
  const std::string_view body = text.substr(open + 1, text.size() - open - 2);
  auto all_of = [body](auto pred) {
    return !body.empty() && std::all_of(body.begin(), body.end(), pred);
  };
  const auto hex_or_comma = [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == ',';
  };
  if (name == "pk" || name == "rawtr" || name == "multi") return all_of(hex_or_comma);
  if (name == "addr")
    return all_of([](char c) { return std::isalnum(static_cast<unsigned char>(c)); });
  return false;
}

// Every BIP381-386 vector whose descriptor is what Core infers from its script alone (keys
// given as hex, no origins): inferring the script gives back the descriptor.
TEST(DescriptorFormatTest, InferDescriptorGivesBackPlainDescriptorsOfTheVectors) {
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
      if (!IsPlainDescriptor(descriptor)) continue;
      const btc::Script script(*util::HexDecode(v["scripts"][0].get<std::string>()));
      const std::string inferred = InferDescriptor(script, btc::Network::kMainnet);
      EXPECT_EQ(inferred, descriptor + "#" + btc::DescriptorChecksum(descriptor)) << "BIP" << bip;
      ++checked;
    }
  }
  EXPECT_GE(checked, 3);
}

TEST(DescriptorFormatTest, InferDescriptorFallsBackToRaw) {
  // OP_RETURN data and a bare public key of the wrong size have no other descriptor.
  const btc::Script nulldata(*util::HexDecode("6a0401020304"));
  EXPECT_EQ(InferDescriptor(nulldata, btc::Network::kMainnet),
            "raw(6a0401020304)#" + btc::DescriptorChecksum("raw(6a0401020304)"));
  const btc::Script hybrid_key(*util::HexDecode(
      "4106a34b99f22c790c4e36b2b3c2c35a36db06226e41c692fc82b8b56ac1c540c5bd5b8dec5235a0fa8722476c"
      "7709c02559e3aa73aa03918ba2d492eea75abea235ac"));
  EXPECT_TRUE(InferDescriptor(hybrid_key, btc::Network::kMainnet).starts_with("raw(4106"));
}

}  // namespace
}  // namespace kinko::cli
