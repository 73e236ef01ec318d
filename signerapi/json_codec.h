// The JSON form of the signer's messages (signerapi/messages.h, doc/signer-api.md) and its
// strict decoder.
//
// Everything a signer receives may come from an attacker, and a signer and a monitor reading the
// same bytes must read the same values. So a decoder accepts exactly one JSON object of the
// documented shape and refuses, with kInvalidArgument and a message naming the field:
//   - a body larger than the endpoint's limit (checked before parsing), a byte order mark,
//     malformed JSON, invalid UTF-8, nesting deeper than kMaxJsonDepth;
//   - a top level that is not an object;
//   - a key repeated in one object (a JSON parser that keeps the first value and one that keeps
//     the last would read different requests);
//   - unknown fields ("sign request: unknown field 'fee'") and missing fields;
//   - wrong types ("sign request: field 'version': expected an unsigned integer, got string");
//     integers must be written without fraction or exponent and fit 64 bits;
//   - a version other than 1;
//   - hex that is not lowercase or not of the exact length, base64 that is not strict RFC 4648
//     (padding required, no whitespace, no non-zero trailing bits), and too many intents,
//     approvals or list items;
//   - any error of the embedded objects' own decoders (PSBT, intent, approval, freeze).
// An intent, approval, freeze or unfreeze whose signature does not verify is refused with the
// policy layer's kPermissionDenied status passed through, prefixed with where it was
// ("sign request: intents[0].intent: intent 0011...: requester signature: does not verify over
// digest ..."). The daemon answers kInvalidArgument with 400 and kPermissionDenied with 403
// (HttpStatusFor in signerapi/messages.h).
//
// So every Decode* below returns the decoded message, or fails with kInvalidArgument (400) or
// kPermissionDenied (403) and no other code.
//
// Encoders write the documented shape, fields in a fixed order, and never fail; what they write
// decodes to an equal message when the message keeps the documented limits.
//
// No exception leaves this component: the JSON library's exceptions are caught here.
//
// Thread-safe: pure functions.
#ifndef KINKO_SIGNERAPI_JSON_CODEC_H_
#define KINKO_SIGNERAPI_JSON_CODEC_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "signerapi/messages.h"
#include "util/result.h"

namespace kinko::signerapi {

// Body size limits, in bytes (doc/signer-api.md, "Limits"). The daemon answers 413 for larger
// bodies before reading them; the decoders refuse them too.
inline constexpr size_t kMaxSignRequestSize = 4 * 1024 * 1024;
inline constexpr size_t kMaxPolicyUpdateRequestSize = 24 * 1024 * 1024;  // Base64 of 16 MiB.
inline constexpr size_t kMaxFreezeRequestSize = 64 * 1024;
inline constexpr size_t kMaxUnfreezeRequestSize = 64 * 1024;
inline constexpr size_t kMaxSignResponseSize = 8 * 1024 * 1024;
inline constexpr size_t kMaxStatusResponseSize = 64 * 1024;
inline constexpr size_t kMaxErrorBodySize = 64 * 1024;
// Objects and arrays nest at most this deep (the messages need 4).
inline constexpr size_t kMaxJsonDepth = 8;

// POST /v1/sign. Fails as the header comment says; the PSBT must parse (btc::Psbt::Parse), every
// intent and approval must decode and verify (policy::SignedIntent::Decode,
// policy::SignedApproval::Decode), 1..256 intents, 0..32 approvals each. The optional
// "known_head" must be strict base64 of 1..kMaxSignedTreeHeadSize bytes (the signer decodes and
// verifies the head itself).
util::Result<SignRequest> DecodeSignRequest(std::string_view body);
std::string EncodeSignRequest(const SignRequest& request);

// POST /v1/policy. The signed policy (at most kMaxSignedPolicySize bytes) must decode and its
// signatures verify (policy::SignedPolicy::Decode); whether they are enough is governance's
// question.
util::Result<PolicyUpdateRequest> DecodePolicyUpdateRequest(std::string_view body);
std::string EncodePolicyUpdateRequest(const PolicyUpdateRequest& request);

// POST /v1/freeze. The freeze must decode and verify (SignedFreeze::Decode).
util::Result<FreezeRequest> DecodeFreezeRequest(std::string_view body);
std::string EncodeFreezeRequest(const FreezeRequest& request);

// POST /v1/unfreeze. The unfreeze must decode and verify (SignedUnfreeze::Decode).
util::Result<UnfreezeRequest> DecodeUnfreezeRequest(std::string_view body);
std::string EncodeUnfreezeRequest(const UnfreezeRequest& request);

// The answer to POST /v1/sign (HTTP 200 when signed; see HttpStatusForRefusal when refused).
// Decoding (by the coordinator) checks the limits of messages.h: texts display-safe and
// bounded, the refusal code snake_case, audit index below the tree size.
std::string EncodeSignResponse(const SignResponse& response);
util::Result<SignResponse> DecodeSignResponse(std::string_view body);

// GET /v1/status. Decoding also requires a valid wallet id and "freeze" present exactly when
// "frozen" is true.
std::string EncodeStatusResponse(const StatusResponse& response);
util::Result<StatusResponse> DecodeStatusResponse(std::string_view body);

// {"error": {"code": ..., "message": ...}}; build `error` with ErrorBodyFor. Decoding requires a
// snake_case code and a display-safe message of at most kMaxErrorMessageSize bytes.
std::string EncodeErrorBody(const ErrorBody& error);
util::Result<ErrorBody> DecodeErrorBody(std::string_view body);

}  // namespace kinko::signerapi

#endif  // KINKO_SIGNERAPI_JSON_CODEC_H_
