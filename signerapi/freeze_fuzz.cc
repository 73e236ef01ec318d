// Freeze and unfreeze decoders on arbitrary bytes: the canonical CBOR objects (Freeze, Unfreeze,
// SignedFreeze, SignedUnfreeze) and the JSON requests that carry them (POST /v1/freeze,
// /v1/unfreeze, and /v1/policy). Properties:
//   - whatever a CBOR decoder accepts re-encodes to exactly the input bytes (one object, one
//     encoding, one digest), and decodes again to an equal object;
//   - whatever a JSON decoder accepts re-encodes to text that decodes to an equal request;
//   - every refusal is kInvalidArgument or kPermissionDenied (HTTP 400 or 403).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "signerapi/freeze.h"
#include "signerapi/json_codec.h"

namespace {

using kinko::util::Result;
using kinko::util::StatusCode;

bool Same(std::span<const uint8_t> a, const std::vector<uint8_t>& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

void CheckCode(StatusCode code) {
  if (code != StatusCode::kInvalidArgument && code != StatusCode::kPermissionDenied) {
    __builtin_trap();
  }
}

// `T::Decode` accepts only its own encoding.
template <typename T, typename EncodeFn>
void CheckCanonical(std::span<const uint8_t> input, EncodeFn encode) {
  Result<T> object = T::Decode(input);
  if (!object.ok()) {
    CheckCode(object.status().code());
    return;
  }
  const std::vector<uint8_t> bytes = encode(*object);
  if (!Same(input, bytes)) __builtin_trap();
  Result<T> again = T::Decode(bytes);
  if (!again.ok() || !(*again == *object)) __builtin_trap();
}

template <typename T, typename Decode, typename Encode>
void CheckJsonRoundTrip(std::string_view input, Decode decode, Encode encode) {
  Result<T> message = decode(input);
  if (!message.ok()) {
    CheckCode(message.status().code());
    return;
  }
  const std::string encoded = encode(*message);
  Result<T> again = decode(encoded);
  if (!again.ok() || !(*again == *message)) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace api = kinko::signerapi;
  const std::span<const uint8_t> bytes(data, size);
  CheckCanonical<api::Freeze>(bytes, [](const api::Freeze& f) { return f.Encode(); });
  CheckCanonical<api::Unfreeze>(bytes, [](const api::Unfreeze& u) { return u.Encode(); });
  CheckCanonical<api::SignedFreeze>(bytes, [](const api::SignedFreeze& f) { return f.Encode(); });
  CheckCanonical<api::SignedUnfreeze>(bytes,
                                      [](const api::SignedUnfreeze& u) { return u.Encode(); });
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  CheckJsonRoundTrip<api::FreezeRequest>(text, api::DecodeFreezeRequest, api::EncodeFreezeRequest);
  CheckJsonRoundTrip<api::UnfreezeRequest>(text, api::DecodeUnfreezeRequest,
                                           api::EncodeUnfreezeRequest);
  CheckJsonRoundTrip<api::PolicyUpdateRequest>(text, api::DecodePolicyUpdateRequest,
                                               api::EncodePolicyUpdateRequest);
  return 0;
}
