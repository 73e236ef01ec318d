#include "cli/velocity_state.h"

#include <gtest/gtest.h>

#include <string>

namespace kinko::cli {
namespace {

constexpr std::string_view kValid =
    R"({"spends": [{"wallet": "hot", "time": 1767225600, "amount_sat": 150000000},
                   {"wallet": "cold.1", "time": 0, "amount_sat": 2100000000000000}]})";

TEST(VelocityStateTest, ParsesEverySpend) {
  util::Result<policy::VelocityState> state = ParseVelocityState(kValid, "s.json");
  ASSERT_TRUE(state.ok()) << state.status();
  ASSERT_EQ(state->spends.size(), 2u);
  EXPECT_EQ(state->spends[0].wallet, "hot");
  EXPECT_EQ(state->spends[0].time, 1767225600u);
  EXPECT_EQ(state->spends[0].amount.sats(), 150000000);
  EXPECT_EQ(state->spends[1].wallet, "cold.1");
  EXPECT_EQ(state->spends[1].time, 0u);
  EXPECT_EQ(state->spends[1].amount.sats(), btc::kMaxMoney);
}

TEST(VelocityStateTest, EmptyListIsNoSpends) {
  util::Result<policy::VelocityState> state = ParseVelocityState(R"({"spends": []})", "s.json");
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_TRUE(state->spends.empty());
}

TEST(VelocityStateTest, WrittenStateReadsBack) {
  util::Result<policy::VelocityState> state = ParseVelocityState(kValid, "s.json");
  ASSERT_TRUE(state.ok()) << state.status();
  util::Result<policy::VelocityState> again =
      ParseVelocityState(WriteJson(VelocityStateJson(state->spends)), "again.json");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->spends, state->spends);
}

// Each case changes one thing of a valid one-spend document.
TEST(VelocityStateTest, RefusesEachMalformedDocument) {
  const std::string spend = R"({"wallet": "hot", "time": 1767225600, "amount_sat": 5})";
  ASSERT_TRUE(ParseVelocityState(R"({"spends": [)" + spend + "]}", "s.json").ok());
  struct Case {
    std::string text;
    std::string message;
  };
  const Case cases[] = {
      {"", "s.json: not valid JSON"},
      {R"({"spends": [)" + spend, "s.json: not valid JSON"},
      {"[]", R"(s.json: expected {"spends": [...]})"},
      {R"({"spend": []})", R"(s.json: expected {"spends": [...]})"},
      {R"({"spends": {}})", R"(s.json: expected {"spends": [...]})"},
      {R"({"spends": [], "extra": 1})", R"(s.json: expected {"spends": [...]})"},
      {R"({"spends": [5]})", "s.json: spends[0]: expected {wallet, time, amount_sat}"},
      {R"({"spends": [{"wallet": "hot", "time": 1, "amount": 5}]})",
       "s.json: spends[0]: expected {wallet, time, amount_sat}"},
      {R"({"spends": [{"wallet": "hot", "time": 1, "amount_sat": 5, "x": 0}]})",
       "s.json: spends[0]: expected {wallet, time, amount_sat}"},
      {R"({"spends": [{"wallet": "hot wallet", "time": 1, "amount_sat": 5}]})",
       "s.json: spends[0].wallet: expected a wallet id"},
      {R"({"spends": [{"wallet": 7, "time": 1, "amount_sat": 5}]})",
       "s.json: spends[0].wallet: expected a wallet id"},
      {R"({"spends": [{"wallet": "hot", "time": -1, "amount_sat": 5}]})",
       "s.json: spends[0].time: expected seconds since 1970"},
      {R"({"spends": [{"wallet": "hot", "time": 1.5, "amount_sat": 5}]})",
       "s.json: spends[0].time: expected seconds since 1970"},
      {R"({"spends": [{"wallet": "hot", "time": "1", "amount_sat": 5}]})",
       "s.json: spends[0].time: expected seconds since 1970"},
      {R"({"spends": [{"wallet": "hot", "time": 253402300800, "amount_sat": 5}]})",
       "s.json: spends[0].time: expected seconds since 1970"},
      {R"({"spends": [{"wallet": "hot", "time": 1, "amount_sat": 2100000000000001}]})",
       "s.json: spends[0].amount_sat: expected satoshi, at most 21 million BTC"},
      {R"({"spends": [{"wallet": "hot", "time": 1, "amount_sat": -5}]})",
       "s.json: spends[0].amount_sat: expected satoshi, at most 21 million BTC"},
      {R"({"spends": [)" + spend + R"(, {"wallet": "hot", "time": 1, "amount_sat": 0.5}]})",
       "s.json: spends[1].amount_sat: expected satoshi, at most 21 million BTC"},
  };
  for (const Case& c : cases) {
    util::Result<policy::VelocityState> state = ParseVelocityState(c.text, "s.json");
    ASSERT_FALSE(state.ok()) << c.text;
    EXPECT_EQ(state.status().code(), util::StatusCode::kInvalidArgument) << c.text;
    EXPECT_EQ(state.status().message(), c.message) << c.text;
  }
}

}  // namespace
}  // namespace kinko::cli
