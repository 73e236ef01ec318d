// Keeping the signer daemon's memory, and the private keys in it, out of swap and core dumps.
//
// A file key is decrypted into crypto::PrivateKey objects (and BIP32 children are derived from
// it while signing), whose bytes only crypto/ can reach; rather than lock each buffer, the
// daemon locks all of its memory, present and future, with mlockall(2), and marks itself not
// dumpable, before it reads any secret.
//
// Thread-safe: the calls act on the whole process; call once, at start-up.
#ifndef KINKO_SIGNERD_MEMORY_LOCK_H_
#define KINKO_SIGNERD_MEMORY_LOCK_H_

#include "util/status.h"

namespace kinko::signerd {

// Marks the process not dumpable (no core dump, no ptrace by other processes of the same user)
// and, when RLIMIT_MEMLOCK is unlimited, locks all its memory (mlockall MCL_CURRENT |
// MCL_FUTURE). Returns OK when both were done. Fails with kFailedPrecondition when
// RLIMIT_MEMLOCK is limited (locking future memory under a limit would make later allocations
// fail; raise it, e.g. systemd LimitMEMLOCK=infinity), and with kUnavailable when prctl or
// mlockall fails. A failure is a warning for the operator, not a reason to refuse to run.
util::Status LockProcessMemory();

}  // namespace kinko::signerd

#endif  // KINKO_SIGNERD_MEMORY_LOCK_H_
