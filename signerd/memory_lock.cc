#include "signerd/memory_lock.h"

#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace kinko::signerd {

util::Status LockProcessMemory() {
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
    return util::UnavailableError(std::string("memory lock: prctl(PR_SET_DUMPABLE): ") +
                                  std::strerror(errno));
  }
  rlimit limit{};
  if (getrlimit(RLIMIT_MEMLOCK, &limit) != 0) {
    return util::UnavailableError(std::string("memory lock: getrlimit(RLIMIT_MEMLOCK): ") +
                                  std::strerror(errno));
  }
  // With MCL_FUTURE every later allocation must fit under the limit, or it fails: lock only
  // when there is no limit.
  if (limit.rlim_cur != RLIM_INFINITY) {
    return util::FailedPreconditionError(
        "memory lock: not locked, RLIMIT_MEMLOCK is " + std::to_string(limit.rlim_cur / 1024) +
        " KiB; set it to unlimited (systemd: LimitMEMLOCK=infinity) to keep keys out of swap");
  }
  if (mlockall(MCL_CURRENT | MCL_FUTURE) != 0) {
    return util::UnavailableError(std::string("memory lock: mlockall: ") + std::strerror(errno));
  }
  return util::OkStatus();
}

}  // namespace kinko::signerd
