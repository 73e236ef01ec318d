#include "storage/store.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

namespace kinko::storage {
namespace {

// The names are stored in databases and shown by the API: pinned here, character for character.
TEST(StoreTest, IntentStateNamesArePinnedAndParseBack) {
  const std::vector<std::pair<IntentState, std::string>> table = {
      {IntentState::kReceived, "received"},
      {IntentState::kAwaitingApprovals, "awaiting_approvals"},
      {IntentState::kApproved, "approved"},
      {IntentState::kBuilding, "building"},
      {IntentState::kSigning, "signing"},
      {IntentState::kSigned, "signed"},
      {IntentState::kBroadcast, "broadcast"},
      {IntentState::kConfirmed, "confirmed"},
      {IntentState::kRefused, "refused"},
      {IntentState::kExpired, "expired"},
  };
  for (const auto& [state, name] : table) {
    EXPECT_EQ(IntentStateName(state), name);
    EXPECT_EQ(ParseIntentState(name), state) << name;
  }
}

TEST(StoreTest, UtxoStateNamesArePinnedAndParseBack) {
  const std::vector<std::pair<UtxoState, std::string>> table = {
      {UtxoState::kAvailable, "available"},
      {UtxoState::kReserved, "reserved"},
      {UtxoState::kSpent, "spent"},
  };
  for (const auto& [state, name] : table) {
    EXPECT_EQ(UtxoStateName(state), name);
    EXPECT_EQ(ParseUtxoState(name), state) << name;
  }
}

TEST(StoreTest, BatchStateNamesArePinnedAndParseBack) {
  const std::vector<std::pair<BatchState, std::string>> table = {
      {BatchState::kBuilding, "building"},   {BatchState::kSigning, "signing"},
      {BatchState::kSigned, "signed"},       {BatchState::kBroadcast, "broadcast"},
      {BatchState::kConfirmed, "confirmed"}, {BatchState::kFailed, "failed"},
  };
  for (const auto& [state, name] : table) {
    EXPECT_EQ(BatchStateName(state), name);
    EXPECT_EQ(ParseBatchState(name), state) << name;
  }
}

TEST(StoreTest, ParseRefusesNamesThatAreNotExactlyAState) {
  for (const std::string name : {"", "Received", "APPROVED", " approved", "approved ",
                                 "awaiting-approvals", "fail", "unknown"}) {
    EXPECT_EQ(ParseIntentState(name), std::nullopt) << name;
    EXPECT_EQ(ParseUtxoState(name), std::nullopt) << name;
    EXPECT_EQ(ParseBatchState(name), std::nullopt) << name;
  }
  // A name of one kind is not a name of another.
  EXPECT_EQ(ParseBatchState("approved"), std::nullopt);
  EXPECT_EQ(ParseIntentState("failed"), std::nullopt);
  EXPECT_EQ(ParseUtxoState("building"), std::nullopt);
}

TEST(StoreTest, FinalIntentStatesAreConfirmedRefusedAndExpired) {
  const std::set<IntentState> final_states = {IntentState::kConfirmed, IntentState::kRefused,
                                              IntentState::kExpired};
  for (IntentState state : {IntentState::kReceived, IntentState::kAwaitingApprovals,
                            IntentState::kApproved, IntentState::kBuilding, IntentState::kSigning,
                            IntentState::kSigned, IntentState::kBroadcast, IntentState::kConfirmed,
                            IntentState::kRefused, IntentState::kExpired}) {
    EXPECT_EQ(IsFinal(state), final_states.contains(state)) << IntentStateName(state);
  }
}

}  // namespace
}  // namespace kinko::storage
