// TOML policy compiler: arbitrary text never crashes or throws; whatever compiles encodes to a
// policy that decodes back to an equal policy with the same encoding and digest, and renders.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "policy/policy.h"
#include "policy/policy_toml.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using kinko::policy::Policy;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  kinko::util::Result<Policy> policy = kinko::policy::CompilePolicyToml(text, "fuzz.toml");
  if (!policy.ok()) return 0;
  kinko::util::Result<Policy> decoded = Policy::Decode(policy->Encode());
  if (!decoded.ok() || !(*decoded == *policy) || decoded->digest() != policy->digest() ||
      !(decoded->fields() == policy->fields())) {
    __builtin_trap();
  }
  if (kinko::policy::RenderPolicy(*policy).empty()) __builtin_trap();
  return 0;
}
