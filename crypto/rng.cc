#include "crypto/rng.h"

#include <sys/random.h>

#include <cerrno>

#include "util/check.h"

namespace kinko::crypto {

void SystemRng::Fill(std::span<uint8_t> out) {
  size_t done = 0;
  while (done < out.size()) {
    // getrandom(2) may return fewer bytes than asked (requests above 256 bytes, or a signal);
    // keep asking. It blocks only until the kernel pool is first initialised.
    const ssize_t n = getrandom(out.data() + done, out.size() - done, 0);
    if (n < 0 && errno == EINTR) continue;
    // Any other failure (ENOSYS, EFAULT...) leaves no good source of randomness: never
    // continue with weak randomness.
    const bool getrandom_succeeded = n > 0;
    CHECK(getrandom_succeeded);
    done += static_cast<size_t>(n);
  }
}

}  // namespace kinko::crypto
