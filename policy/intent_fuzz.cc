// Canonical intent decoder: whatever Intent::Decode or SignedIntent::Decode accepts re-encodes
// to exactly the input bytes (one intent, one encoding), and decoding that again gives an equal
// object with the same digest.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "policy/intent.h"

namespace {

bool Same(std::span<const uint8_t> a, const std::vector<uint8_t>& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using kinko::policy::Intent;
  using kinko::policy::SignedIntent;
  const std::span<const uint8_t> input(data, size);
  kinko::util::Result<Intent> intent = Intent::Decode(input);
  if (intent.ok()) {
    if (!Same(input, intent->Encode())) __builtin_trap();
    kinko::util::Result<Intent> again = Intent::Decode(intent->Encode());
    if (!again.ok() || !(*again == *intent) || again->digest() != intent->digest() ||
        !(again->fields() == intent->fields())) {
      __builtin_trap();
    }
  }
  kinko::util::Result<SignedIntent> signed_intent = SignedIntent::Decode(input);
  if (signed_intent.ok()) {
    const std::vector<uint8_t> bytes = signed_intent->Encode();
    if (!Same(input, bytes)) __builtin_trap();
    kinko::util::Result<SignedIntent> again = SignedIntent::Decode(bytes);
    if (!again.ok() || !(*again == *signed_intent)) __builtin_trap();
  }
  return 0;
}
