// The Authorization header parser (coordinator/api_auth.h): arbitrary headers never crash; a
// header accepted for one request is refused for any other body, and an accepted key signs the
// digest of the request it was accepted for.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "coordinator/api_auth.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using kinko::coordinator::VerifyAuthorization;
  const std::string_view header(reinterpret_cast<const char*>(data), size);
  constexpr uint64_t kNow = 1767225600;
  kinko::util::Result<kinko::coordinator::Caller> caller =
      VerifyAuthorization(header, "GET", "/v1/intents", "", kNow);
  if (!caller.ok()) {
    const kinko::util::StatusCode code = caller.status().code();
    if (code != kinko::util::StatusCode::kInvalidArgument &&
        code != kinko::util::StatusCode::kPermissionDenied) {
      __builtin_trap();
    }
    return 0;
  }
  // Only a forged signature could get here; it must not verify for another body.
  if (VerifyAuthorization(header, "GET", "/v1/intents", "x", kNow).ok()) __builtin_trap();
  return 0;
}
