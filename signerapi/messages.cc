#include "signerapi/messages.h"

#include "signerapi/internal/strict_json.h"

namespace kinko::signerapi {

bool operator==(const SignRequest& a, const SignRequest& b) {
  if (a.request_id != b.request_id || !(a.psbt == b.psbt) || a.known_head != b.known_head) {
    return false;
  }
  if (a.intents.size() != b.intents.size()) return false;
  for (size_t i = 0; i < a.intents.size(); ++i) {
    if (!(a.intents[i].intent == b.intents[i].intent)) return false;
    if (a.intents[i].approvals != b.intents[i].approvals) return false;
  }
  return true;
}

std::string_view ErrorCodeName(util::StatusCode code) {
  switch (code) {
    case util::StatusCode::kOk:
      return "ok";
    case util::StatusCode::kInvalidArgument:
      return "invalid_argument";
    case util::StatusCode::kNotFound:
      return "not_found";
    case util::StatusCode::kAlreadyExists:
      return "already_exists";
    case util::StatusCode::kPermissionDenied:
      return "permission_denied";
    case util::StatusCode::kFailedPrecondition:
      return "failed_precondition";
    case util::StatusCode::kUnavailable:
      return "unavailable";
    case util::StatusCode::kAborted:
      return "aborted";
    case util::StatusCode::kDataLoss:
      return "data_loss";
    case util::StatusCode::kInternal:
      return "internal";
  }
  return "internal";
}

int HttpStatusFor(util::StatusCode code) {
  switch (code) {
    case util::StatusCode::kOk:
      return 200;
    case util::StatusCode::kInvalidArgument:
      return 400;
    case util::StatusCode::kPermissionDenied:
      return 403;
    case util::StatusCode::kNotFound:
      return 404;
    case util::StatusCode::kAlreadyExists:
    case util::StatusCode::kFailedPrecondition:
      return 409;
    case util::StatusCode::kUnavailable:
    case util::StatusCode::kAborted:
      return 503;
    case util::StatusCode::kDataLoss:
    case util::StatusCode::kInternal:
      return 500;
  }
  return 500;
}

int HttpStatusForRefusal(std::string_view code) {
  if (code == "frozen") return 423;
  if (code == "intent_replayed" || code == "state_rolled_back") return 409;
  return 403;
}

ErrorBody ErrorBodyFor(const util::Status& status) {
  CHECK(!status.ok());
  return ErrorBody{.code = std::string(ErrorCodeName(status.code())),
                   .message = internal::Printable(status.message(), kMaxErrorMessageSize)};
}

}  // namespace kinko::signerapi
