// The signer's JSON decoders on arbitrary bytes, above all DecodeSignRequest (what a signer
// receives from the untrusted coordinator on POST /v1/sign). Properties:
//   - whatever decodes re-encodes, and that encoding decodes to an equal message and encodes to
//     the same text (one message, one meaning, whichever side reads it);
//   - every refusal is a client error (kInvalidArgument or kPermissionDenied: HTTP 400 or 403),
//     and its error body encodes to JSON that decodes (messages are safe to show);
//   - the same for the answers the coordinator decodes (sign response, status, error body).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "signerapi/json_codec.h"

namespace {

using kinko::util::Result;
using kinko::util::Status;
using kinko::util::StatusCode;

void CheckRefusal(const Status& status) {
  if (status.code() != StatusCode::kInvalidArgument &&
      status.code() != StatusCode::kPermissionDenied) {
    __builtin_trap();
  }
  const std::string body =
      kinko::signerapi::EncodeErrorBody(kinko::signerapi::ErrorBodyFor(status));
  if (!kinko::signerapi::DecodeErrorBody(body).ok()) __builtin_trap();
}

// Decode, re-encode, decode again: equal messages and identical encodings.
template <typename T, typename Decode, typename Encode>
void CheckRoundTrip(std::string_view input, Decode decode, Encode encode) {
  Result<T> message = decode(input);
  if (!message.ok()) {
    CheckRefusal(message.status());
    return;
  }
  const std::string encoded = encode(*message);
  Result<T> again = decode(encoded);
  if (!again.ok() || !(*again == *message)) __builtin_trap();
  if (encode(*again) != encoded) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace api = kinko::signerapi;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  CheckRoundTrip<api::SignRequest>(input, api::DecodeSignRequest, api::EncodeSignRequest);
  CheckRoundTrip<api::SignResponse>(input, api::DecodeSignResponse, api::EncodeSignResponse);
  CheckRoundTrip<api::StatusResponse>(input, api::DecodeStatusResponse, api::EncodeStatusResponse);
  CheckRoundTrip<api::ErrorBody>(input, api::DecodeErrorBody, api::EncodeErrorBody);
  return 0;
}
