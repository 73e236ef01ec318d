// Signed tree head decoder: whatever Decode accepts encodes back to exactly the same bytes (the
// layout is fixed), decodes again to an equal object, and verifies under its own key.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "auditlog/tree_head.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> input(data, size);
  kinko::util::Result<kinko::auditlog::SignedTreeHead> head =
      kinko::auditlog::SignedTreeHead::Decode(input);
  if (!head.ok()) return 0;
  const std::vector<uint8_t> bytes = head->Encode();
  if (bytes.size() != size || !std::equal(bytes.begin(), bytes.end(), input.begin())) {
    __builtin_trap();
  }
  kinko::util::Result<kinko::auditlog::SignedTreeHead> again =
      kinko::auditlog::SignedTreeHead::Decode(bytes);
  if (!again.ok() || !(*again == *head) || !head->Verify(head->public_key()).ok()) {
    __builtin_trap();
  }
  return 0;
}
