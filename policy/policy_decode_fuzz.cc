// Canonical policy decoder: whatever Policy::Decode or SignedPolicy::Decode accepts re-encodes to
// exactly the input bytes (one policy, one encoding), and decoding that again gives an equal
// object with the same digest.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "policy/policy.h"

namespace {

bool Same(std::span<const uint8_t> a, const std::vector<uint8_t>& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using kinko::policy::Policy;
  using kinko::policy::SignedPolicy;
  const std::span<const uint8_t> input(data, size);
  kinko::util::Result<Policy> policy = Policy::Decode(input);
  if (policy.ok()) {
    if (!Same(input, policy->Encode())) __builtin_trap();
    kinko::util::Result<Policy> again = Policy::Decode(policy->Encode());
    if (!again.ok() || !(*again == *policy) || again->digest() != policy->digest() ||
        !(again->fields() == policy->fields())) {
      __builtin_trap();
    }
  }
  kinko::util::Result<SignedPolicy> signed_policy = SignedPolicy::Decode(input);
  if (signed_policy.ok()) {
    const std::vector<uint8_t> bytes = signed_policy->Encode();
    if (!Same(input, bytes)) __builtin_trap();
    kinko::util::Result<SignedPolicy> again = SignedPolicy::Decode(bytes);
    if (!again.ok() || !(*again == *signed_policy)) __builtin_trap();
  }
  return 0;
}
