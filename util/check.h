// CHECK: invariants that, when broken, mean a bug in kinko (STYLE.md section 2).
//
// CHECK is compiled in every build, release included, and aborts with file:line and the failed
// condition. There is no DCHECK. Never CHECK data that comes from users, peers, files, the
// database or the coordinator: return a Status for those.
//
// Thread-safe.
#ifndef KINKO_UTIL_CHECK_H_
#define KINKO_UTIL_CHECK_H_

namespace kinko::util::internal {
[[noreturn]] void CheckFailed(const char* file, int line, const char* condition);
}  // namespace kinko::util::internal

#define CHECK(condition)                                                    \
  do {                                                                      \
    if (!(condition)) [[unlikely]] {                                        \
      ::kinko::util::internal::CheckFailed(__FILE__, __LINE__, #condition); \
    }                                                                       \
  } while (false)

#endif  // KINKO_UTIL_CHECK_H_
