// Result<T>: a value of type T, or the Status that explains why there is none (STYLE.md section 2).
//
//   Result<Transaction> tx = Transaction::Parse(bytes);
//   if (!tx.ok()) return tx.status();
//   Use(*tx);
//
// Reading the value of a failed Result is a bug and aborts (CHECK).
//
// Not thread-safe; one owner. Copyable when T is; movable.
#ifndef KINKO_UTIL_RESULT_H_
#define KINKO_UTIL_RESULT_H_

#include <type_traits>
#include <utility>
#include <variant>

#include "util/check.h"
#include "util/status.h"

namespace kinko::util {

template <typename T>
class [[nodiscard]] Result final {
  static_assert(!std::is_same_v<std::remove_cvref_t<T>, Status>, "use Status");

 public:
  // A successful result holding `value`.
  Result(const T& value) : data_(value) {}        // NOLINT: implicit by design.
  Result(T&& value) : data_(std::move(value)) {}  // NOLINT: implicit by design.
  // A failed result. Requires !status.ok().
  Result(Status status) : data_(std::move(status)) {  // NOLINT: implicit by design.
    CHECK(!std::get<Status>(data_).ok());
  }

  Result(const Result&) = default;
  Result& operator=(const Result&) = default;
  Result(Result&&) = default;
  Result& operator=(Result&&) = default;

  bool ok() const { return std::holds_alternative<T>(data_); }

  // OK when a value is present, else the failure.
  Status status() const {
    if (ok()) return Status();
    return std::get<Status>(data_);
  }

  // Requires ok().
  const T& value() const& {
    CHECK(ok());
    return std::get<T>(data_);
  }
  T& value() & {
    CHECK(ok());
    return std::get<T>(data_);
  }
  T&& value() && {
    CHECK(ok());
    return std::get<T>(std::move(data_));
  }

  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

 private:
  std::variant<Status, T> data_;
};

}  // namespace kinko::util

#endif  // KINKO_UTIL_RESULT_H_
