// Status: the outcome of an operation that can fail in an expected way (STYLE.md section 2).
//
// A Status is either OK or carries one canonical code and a lowercase message that names the
// thing that is wrong ("psbt input 3: missing witness_utxo"). Messages never contain secrets.
//
// Thread-safe: immutable after construction. Copyable and movable.
#ifndef KINKO_UTIL_STATUS_H_
#define KINKO_UTIL_STATUS_H_

#include <ostream>
#include <string>
#include <string_view>

namespace kinko::util {

// The canonical codes, with the retry meaning of abseil's codes.
enum class StatusCode {
  kOk,
  kInvalidArgument,     // Malformed input; retrying the same input fails again.
  kNotFound,            // The named thing does not exist.
  kAlreadyExists,       // The thing to create exists already.
  kPermissionDenied,    // Authentication failed or policy denies.
  kFailedPrecondition,  // State must change before a retry can succeed.
  kUnavailable,         // Transient; retry the call.
  kAborted,             // Concurrency conflict; retry the whole transaction.
  kDataLoss,            // Corruption or audit-log mismatch.
  kInternal,            // A bug.
};

// Returns the code's name, e.g. "INVALID_ARGUMENT".
std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status final {
 public:
  // An OK status.
  Status() = default;
  // Requires `code` != kOk; use Status() for OK.
  Status(StatusCode code, std::string message);

  Status(const Status&) = default;
  Status& operator=(const Status&) = default;
  Status(Status&&) = default;
  Status& operator=(Status&&) = default;

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // Returns a status with the same code and "`prefix`: message", for adding context
  // ("input 3: " + inner error). Returns OK unchanged.
  Status WithPrefix(std::string_view prefix) const;

  // "OK" or "INVALID_ARGUMENT: message".
  std::string ToString() const;

  friend bool operator==(const Status&, const Status&) = default;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

std::ostream& operator<<(std::ostream& os, const Status& status);

inline Status OkStatus() { return Status(); }
Status InvalidArgumentError(std::string message);
Status NotFoundError(std::string message);
Status AlreadyExistsError(std::string message);
Status PermissionDeniedError(std::string message);
Status FailedPreconditionError(std::string message);
Status UnavailableError(std::string message);
Status AbortedError(std::string message);
Status DataLossError(std::string message);
Status InternalError(std::string message);

}  // namespace kinko::util

#endif  // KINKO_UTIL_STATUS_H_
