#include "signerd/memory_lock.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>

namespace kinko::signerd {
namespace {

using ::testing::HasSubstr;

TEST(MemoryLockTest, LocksOnlyWithoutALimitAndAlwaysStopsDumps) {
  rlimit saved{};
  ASSERT_EQ(getrlimit(RLIMIT_MEMLOCK, &saved), 0);

  rlimit limited = saved;
  limited.rlim_cur = 64 * 1024;
  if (limited.rlim_max != RLIM_INFINITY && limited.rlim_max < limited.rlim_cur) {
    limited.rlim_cur = limited.rlim_max;
  }
  ASSERT_EQ(setrlimit(RLIMIT_MEMLOCK, &limited), 0);
  util::Status status = LockProcessMemory();
  EXPECT_EQ(status.code(), util::StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("RLIMIT_MEMLOCK is 64 KiB"));
  EXPECT_EQ(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 0);

  // Raising the limit needs privilege (CAP_SYS_RESOURCE); without it, that part is not run.
  rlimit unlimited{.rlim_cur = RLIM_INFINITY, .rlim_max = RLIM_INFINITY};
  if (setrlimit(RLIMIT_MEMLOCK, &unlimited) == 0) {
    EXPECT_TRUE(LockProcessMemory().ok());
    munlockall();
  }
  setrlimit(RLIMIT_MEMLOCK, &saved);
}

}  // namespace
}  // namespace kinko::signerd
