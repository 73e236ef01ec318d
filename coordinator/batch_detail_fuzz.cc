// The batch detail reader (coordinator/internal/details.h) reads what an untrusted store holds:
// it never throws or crashes, and what it reads, written and read again, is the same detail.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "coordinator/internal/details.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace internal = kinko::coordinator::internal;
  const internal::BatchDetail detail =
      internal::ParseBatchDetail(std::string_view(reinterpret_cast<const char*>(data), size));
  const internal::BatchDetail again =
      internal::ParseBatchDetail(internal::WriteBatchDetail(detail));
  if (!(again == detail)) __builtin_trap();
  return 0;
}
