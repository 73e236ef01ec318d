// The audit endpoints' JSON decoders on arbitrary bytes: what `kinko audit verify --signer URL`
// reads from the network. Properties: whatever decodes re-encodes, and that encoding decodes to
// an equal value and encodes to the same text; every refusal is kInvalidArgument.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "signerapi/audit_codec.h"

namespace {

using kinko::util::Result;
using kinko::util::StatusCode;

template <typename T, typename Decode, typename Encode>
void CheckRoundTrip(std::string_view input, Decode decode, Encode encode) {
  Result<T> value = decode(input);
  if (!value.ok()) {
    if (value.status().code() != StatusCode::kInvalidArgument) __builtin_trap();
    return;
  }
  const std::string encoded = encode(*value);
  Result<T> again = decode(encoded);
  if (!again.ok() || !(*again == *value)) __builtin_trap();
  if (encode(*again) != encoded) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace api = kinko::signerapi;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  CheckRoundTrip<api::AuditHead>(input, api::DecodeAuditHead, api::EncodeAuditHead);
  CheckRoundTrip<api::InclusionProofResponse>(input, api::DecodeInclusionProof,
                                              api::EncodeInclusionProof);
  CheckRoundTrip<api::ConsistencyProofResponse>(input, api::DecodeConsistencyProof,
                                                api::EncodeConsistencyProof);
  CheckRoundTrip<api::EntriesResponse>(input, api::DecodeEntries, api::EncodeEntries);
  return 0;
}
