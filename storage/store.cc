#include "storage/store.h"

#include "util/check.h"

namespace kinko::storage {

// The names are stored in the databases and shown by the coordinator's API: DO NOT CHANGE.

std::string_view IntentStateName(IntentState state) {
  switch (state) {
    case IntentState::kReceived:
      return "received";
    case IntentState::kAwaitingApprovals:
      return "awaiting_approvals";
    case IntentState::kApproved:
      return "approved";
    case IntentState::kBuilding:
      return "building";
    case IntentState::kSigning:
      return "signing";
    case IntentState::kSigned:
      return "signed";
    case IntentState::kBroadcast:
      return "broadcast";
    case IntentState::kConfirmed:
      return "confirmed";
    case IntentState::kRefused:
      return "refused";
    case IntentState::kExpired:
      return "expired";
  }
  CHECK(false);  // An enumerator the switch does not cover: a cast from a bad integer.
  return {};
}

std::optional<IntentState> ParseIntentState(std::string_view name) {
  for (IntentState state : {IntentState::kReceived, IntentState::kAwaitingApprovals,
                            IntentState::kApproved, IntentState::kBuilding, IntentState::kSigning,
                            IntentState::kSigned, IntentState::kBroadcast, IntentState::kConfirmed,
                            IntentState::kRefused, IntentState::kExpired}) {
    if (IntentStateName(state) == name) return state;
  }
  return std::nullopt;
}

bool IsFinal(IntentState state) {
  switch (state) {
    case IntentState::kConfirmed:
    case IntentState::kRefused:
    case IntentState::kExpired:
      return true;
    case IntentState::kReceived:
    case IntentState::kAwaitingApprovals:
    case IntentState::kApproved:
    case IntentState::kBuilding:
    case IntentState::kSigning:
    case IntentState::kSigned:
    case IntentState::kBroadcast:
      return false;
  }
  CHECK(false);
  return false;
}

std::string_view UtxoStateName(UtxoState state) {
  switch (state) {
    case UtxoState::kAvailable:
      return "available";
    case UtxoState::kReserved:
      return "reserved";
    case UtxoState::kSpent:
      return "spent";
  }
  CHECK(false);
  return {};
}

std::optional<UtxoState> ParseUtxoState(std::string_view name) {
  for (UtxoState state : {UtxoState::kAvailable, UtxoState::kReserved, UtxoState::kSpent}) {
    if (UtxoStateName(state) == name) return state;
  }
  return std::nullopt;
}

std::string_view BatchStateName(BatchState state) {
  switch (state) {
    case BatchState::kBuilding:
      return "building";
    case BatchState::kSigning:
      return "signing";
    case BatchState::kSigned:
      return "signed";
    case BatchState::kBroadcast:
      return "broadcast";
    case BatchState::kConfirmed:
      return "confirmed";
    case BatchState::kFailed:
      return "failed";
  }
  CHECK(false);
  return {};
}

std::optional<BatchState> ParseBatchState(std::string_view name) {
  for (BatchState state : {BatchState::kBuilding, BatchState::kSigning, BatchState::kSigned,
                           BatchState::kBroadcast, BatchState::kConfirmed, BatchState::kFailed}) {
    if (BatchStateName(state) == name) return state;
  }
  return std::nullopt;
}

}  // namespace kinko::storage
