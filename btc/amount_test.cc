#include "btc/amount.h"

#include <gtest/gtest.h>

namespace kinko::btc {
namespace {

TEST(AmountTest, FromSatsAcceptsTheMoneyRange) {
  EXPECT_TRUE(Amount::FromSats(0).ok());
  EXPECT_TRUE(Amount::FromSats(kMaxMoney).ok());
  EXPECT_FALSE(Amount::FromSats(-1).ok());
  EXPECT_FALSE(Amount::FromSats(kMaxMoney + 1).ok());
  EXPECT_FALSE(Amount::FromSats(INT64_MIN).ok());
  EXPECT_EQ(Amount::FromSats(-1).status().code(), util::StatusCode::kInvalidArgument);
  EXPECT_TRUE(MoneyRange(0));
  EXPECT_TRUE(MoneyRange(kMaxMoney));
  EXPECT_FALSE(MoneyRange(-1));
  EXPECT_FALSE(MoneyRange(kMaxMoney + 1));
}

TEST(AmountTest, ParseBtcReadsDecimals) {
  const struct {
    const char* text;
    int64_t sats;
  } cases[] = {
      {"0", 0},
      {"0.5", 50'000'000},
      {"0.00000001", 1},
      {"1", kCoin},
      {"1.50000000", 150'000'000},
      {"21000000", kMaxMoney},
      {"21000000.00000000", kMaxMoney},
      {"20999999.99999999", kMaxMoney - 1},
      {"0.1", 10'000'000},
      {"12.345", 1'234'500'000},
  };
  for (const auto& c : cases) {
    util::Result<Amount> a = Amount::ParseBtc(c.text);
    ASSERT_TRUE(a.ok()) << c.text << ": " << a.status();
    EXPECT_EQ(a->sats(), c.sats) << c.text;
  }
}

TEST(AmountTest, ParseBtcRejectsEachMalformedForm) {
  for (const char* text : {"",
                           "-1",
                           "+1",
                           "1e3",
                           "1E3",
                           ".5",
                           "1.",
                           "00.5",
                           "01",
                           " 1",
                           "1 ",
                           "1,5",
                           "0.000000001",
                           "1.2.3",
                           "0x10",
                           "21000000.00000001",
                           "21000001",
                           "999999999",
                           "99999999999999999999",
                           "NaN",
                           "inf",
                           "."}) {
    util::Result<Amount> a = Amount::ParseBtc(text);
    EXPECT_FALSE(a.ok()) << "accepted '" << text << "'";
    if (!a.ok()) {
      EXPECT_EQ(a.status().code(), util::StatusCode::kInvalidArgument);
    }
  }
}

TEST(AmountTest, ToBtcStringPrintsEightDecimals) {
  EXPECT_EQ(Amount::Zero().ToBtcString(), "0.00000000");
  EXPECT_EQ(Amount::FromSats(1)->ToBtcString(), "0.00000001");
  EXPECT_EQ(Amount::FromSats(50'000'000)->ToBtcString(), "0.50000000");
  EXPECT_EQ(Amount::FromSats(kMaxMoney)->ToBtcString(), "21000000.00000000");
  EXPECT_EQ(Amount::FromSats(123'456'789)->ToBtcString(), "1.23456789");
}

TEST(AmountTest, ToBtcStringRoundTripsThroughParse) {
  for (int64_t sats : {int64_t{0}, int64_t{1}, int64_t{99}, kCoin - 1, kCoin, kCoin + 1,
                       int64_t{123'456'789'012}, kMaxMoney - 1, kMaxMoney}) {
    Amount a = *Amount::FromSats(sats);
    util::Result<Amount> back = Amount::ParseBtc(a.ToBtcString());
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(*back, a);
  }
}

TEST(AmountTest, AddStopsAtMaxMoney) {
  EXPECT_EQ(Amount::Add(*Amount::FromSats(1), *Amount::FromSats(2))->sats(), 3);
  EXPECT_TRUE(Amount::Add(*Amount::FromSats(kMaxMoney - 1), *Amount::FromSats(1)).ok());
  EXPECT_FALSE(Amount::Add(*Amount::FromSats(kMaxMoney), *Amount::FromSats(1)).ok());
  EXPECT_FALSE(Amount::Add(*Amount::FromSats(kMaxMoney), *Amount::FromSats(kMaxMoney)).ok());
}

TEST(AmountTest, ComparesBySats) {
  EXPECT_LT(*Amount::FromSats(1), *Amount::FromSats(2));
  EXPECT_EQ(*Amount::FromSats(7), *Amount::FromSats(7));
  EXPECT_NE(*Amount::FromSats(7), Amount::Zero());
}

}  // namespace
}  // namespace kinko::btc
