#include "cli/json_output.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

namespace kinko::cli {
namespace {

TEST(JsonOutputTest, BtcValuePrintsEightDecimalsLikeCore) {
  // Bitcoin Core's ValueFromAmount: "%s%d.%08d" of the magnitude's quotient and remainder.
  EXPECT_EQ(WriteJson(BtcValue(0)), "0.00000000\n");
  EXPECT_EQ(WriteJson(BtcValue(1)), "0.00000001\n");
  EXPECT_EQ(WriteJson(BtcValue(112340000)), "1.12340000\n");
  EXPECT_EQ(WriteJson(BtcValue(2'100'000'000'000'000)), "21000000.00000000\n");
  EXPECT_EQ(WriteJson(BtcValue(-1)), "-0.00000001\n");
  EXPECT_EQ(WriteJson(BtcValue(-150000000)), "-1.50000000\n");
  EXPECT_EQ(WriteJson(BtcValue(std::numeric_limits<int64_t>::max())), "92233720368.54775807\n");
  EXPECT_EQ(WriteJson(BtcValue(std::numeric_limits<int64_t>::min())), "-92233720368.54775808\n");
}

TEST(JsonOutputTest, WriteJsonKeepsInsertionOrderAndIndents) {
  Json json = Json::object();
  json["txid"] = "ab";
  json["hash"] = "cd";
  json["vin"] = Json::array({Json{{"z", 1}, {"a", true}}});
  json["vout"] = Json::array();
  json["value"] = BtcValue(5);
  EXPECT_EQ(WriteJson(json),
            "{\n"
            "  \"txid\": \"ab\",\n"
            "  \"hash\": \"cd\",\n"
            "  \"vin\": [\n"
            "    {\n"
            "      \"z\": 1,\n"
            "      \"a\": true\n"
            "    }\n"
            "  ],\n"
            "  \"vout\": [],\n"
            "  \"value\": 0.00000005\n"
            "}\n");
}

TEST(JsonOutputTest, WriteJsonEscapesStringsAndReplacesInvalidUtf8) {
  Json json = Json::object();
  json["s"] = std::string("a\"b\\\x01\xff", 6);
  EXPECT_EQ(WriteJson(json), "{\n  \"s\": \"a\\\"b\\\\\\u0001\xef\xbf\xbd\"\n}\n");
}

TEST(JsonOutputTest, ParsedJsonCannotCarryARawNumber) {
  // A raw number is a binary value with kinko's subtype; JSON text never parses to binary, so a
  // string that looks like a number stays a string.
  const Json parsed = Json::parse(R"({"value": "1.00000000"})");
  EXPECT_EQ(WriteJson(parsed), "{\n  \"value\": \"1.00000000\"\n}\n");
}

}  // namespace
}  // namespace kinko::cli
