// Audit log entry decoder: whatever Decode accepts encodes back to exactly the same bytes (one
// encoding per entry), decodes again to an equal entry, has the leaf hash of those bytes, and
// renders as one line without control characters.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "auditlog/entry.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> input(data, size);
  kinko::util::Result<kinko::auditlog::Entry> entry = kinko::auditlog::Entry::Decode(input);
  if (!entry.ok()) return 0;
  const std::vector<uint8_t> bytes = entry->Encode();
  if (bytes.size() != size || !std::equal(bytes.begin(), bytes.end(), input.begin())) {
    __builtin_trap();
  }
  kinko::util::Result<kinko::auditlog::Entry> again = kinko::auditlog::Entry::Decode(bytes);
  if (!again.ok() || !(*again == *entry)) __builtin_trap();
  if (entry->LeafHash() != kinko::auditlog::HashLeaf(input)) __builtin_trap();
  const std::string line = kinko::auditlog::RenderEntry(*entry);
  for (char c : line) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) __builtin_trap();
  }
  return 0;
}
