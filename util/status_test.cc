#include "util/status.h"

#include <gtest/gtest.h>

#include "util/result.h"

namespace kinko::util {
namespace {

TEST(StatusTest, DefaultIsOk) {
  Status status;
  EXPECT_TRUE(status.ok());
  EXPECT_EQ(status.ToString(), "OK");
}

TEST(StatusTest, ErrorCarriesCodeAndMessage) {
  Status status = InvalidArgumentError("psbt input 3: missing witness_utxo");
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(status.ToString(), "INVALID_ARGUMENT: psbt input 3: missing witness_utxo");
}

TEST(StatusTest, WithPrefixKeepsCode) {
  Status status = NotFoundError("no such row").WithPrefix("intent 7");
  EXPECT_EQ(status.code(), StatusCode::kNotFound);
  EXPECT_EQ(status.message(), "intent 7: no such row");
  EXPECT_TRUE(OkStatus().WithPrefix("x").ok());
}

TEST(StatusTest, EveryCodeHasAName) {
  for (StatusCode code :
       {StatusCode::kInvalidArgument, StatusCode::kNotFound, StatusCode::kAlreadyExists,
        StatusCode::kPermissionDenied, StatusCode::kFailedPrecondition, StatusCode::kUnavailable,
        StatusCode::kAborted, StatusCode::kDataLoss, StatusCode::kInternal}) {
    EXPECT_NE(StatusCodeName(code), "UNKNOWN");
    EXPECT_NE(StatusCodeName(code), "OK");
  }
}

TEST(StatusDeathTest, ErrorWithOkCodeAborts) {
  EXPECT_DEATH((void)Status(StatusCode::kOk, "x"), "CHECK failed");
}

TEST(ResultTest, HoldsValue) {
  Result<int> r = 42;
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 42);
  EXPECT_TRUE(r.status().ok());
}

TEST(ResultTest, HoldsError) {
  Result<int> r = DataLossError("flipped byte");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
}

TEST(ResultDeathTest, ValueOfErrorAborts) {
  Result<int> r = InternalError("bug");
  EXPECT_DEATH((void)r.value(), "CHECK failed");
}

TEST(ResultDeathTest, OkStatusAsErrorAborts) {
  EXPECT_DEATH((void)Result<int>{OkStatus()}, "CHECK failed");
}

}  // namespace
}  // namespace kinko::util
