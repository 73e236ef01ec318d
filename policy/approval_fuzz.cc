// Approval decoder: whatever Approval::Decode or SignedApproval::Decode accepts re-encodes to
// exactly the input bytes, and decoding that again gives an equal object.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "policy/approval.h"

namespace {

bool Same(std::span<const uint8_t> a, const std::vector<uint8_t>& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using kinko::policy::Approval;
  using kinko::policy::SignedApproval;
  const std::span<const uint8_t> input(data, size);
  kinko::util::Result<Approval> approval = Approval::Decode(input);
  if (approval.ok()) {
    if (!Same(input, approval->Encode())) __builtin_trap();
    kinko::util::Result<Approval> again = Approval::Decode(approval->Encode());
    if (!again.ok() || !(again->fields() == approval->fields()) ||
        again->digest() != approval->digest()) {
      __builtin_trap();
    }
  }
  kinko::util::Result<SignedApproval> signed_approval = SignedApproval::Decode(input);
  if (signed_approval.ok()) {
    const std::vector<uint8_t> bytes = signed_approval->Encode();
    if (!Same(input, bytes)) __builtin_trap();
    kinko::util::Result<SignedApproval> again = SignedApproval::Decode(bytes);
    if (!again.ok() || !(*again == *signed_approval)) __builtin_trap();
  }
  return 0;
}
