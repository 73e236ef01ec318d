#include "util/fd_io.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace kinko::util {

Status WriteAllAndSync(int fd, std::span<const uint8_t> bytes) {
  size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return UnavailableError(std::string("write error (") + std::strerror(errno) + ")");
    if (n == 0) return UnavailableError("write error (nothing written)");
    written += static_cast<size_t>(n);
  }
  if (fsync(fd) != 0) {
    return UnavailableError(std::string("fsync failed (") + std::strerror(errno) + ")");
  }
  return OkStatus();
}

}  // namespace kinko::util
