// Writing a whole buffer to a file descriptor durably: the loop every writer of key files and
// other small files needs (short writes, EINTR, then fsync), once.
//
// Thread-safe: no shared state.
#ifndef KINKO_UTIL_FD_IO_H_
#define KINKO_UTIL_FD_IO_H_

#include <cstdint>
#include <span>

#include "util/status.h"

namespace kinko::util {

// Writes every byte of `bytes` to `fd`, retrying short writes and writes interrupted by a
// signal, then fsyncs `fd`. Returns OK; or kUnavailable "write error (<reason>)" or "fsync
// failed (<reason>)". Does not close `fd`; on failure the file holds a prefix of `bytes`.
Status WriteAllAndSync(int fd, std::span<const uint8_t> bytes);

}  // namespace kinko::util

#endif  // KINKO_UTIL_FD_IO_H_
