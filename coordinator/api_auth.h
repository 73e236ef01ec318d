// How clients authenticate to kinkod's API (doc/coordinator-api.md "Authentication"): each
// request carries an Ed25519 signature by one of the identities the coordinator knows (the keys
// the wallets' policies name, and the configured clients and operators) over the request itself.
// No passwords, tokens or cookies: a stolen request is useless for anything but itself, for
// kMaxClockSkewSeconds, and a replayed POST is idempotent (intents by id, approvals by approver).
//
//   Authorization: Kinko-Ed25519 key=<64 hex public key>,time=<decimal seconds>,sig=<128 hex>
//
// The signature is over RequestDigest(method, target, time, body):
//   TaggedHash("kinko/api-request/v1",
//              method || 0x00 || target || 0x00 || decimal(time) || 0x00 || SHA-256(body))
// where target is the path with its query string exactly as sent ("/v1/intents?state=approved").
// DO NOT CHANGE: clients compute it (test/cli has an independent Node.js implementation).
//
// Thread-safe: pure functions.
#ifndef KINKO_COORDINATOR_API_AUTH_H_
#define KINKO_COORDINATOR_API_AUTH_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "crypto/ed25519.h"
#include "policy/identity.h"
#include "util/result.h"

namespace kinko::coordinator {

inline constexpr std::string_view kAuthScheme = "Kinko-Ed25519";
inline constexpr std::string_view kRequestTag = "kinko/api-request/v1";
inline constexpr uint64_t kMaxClockSkewSeconds = 300;

policy::Digest RequestDigest(std::string_view method, std::string_view target, uint64_t time,
                             std::string_view body);

// The Authorization header value for a request signed by `key` at `time`.
std::string AuthorizationHeader(const crypto::Ed25519PrivateKey& key, std::string_view method,
                                std::string_view target, uint64_t time, std::string_view body);

struct Caller {
  crypto::Ed25519PublicKey public_key{};
  policy::KeyId id{};  // policy::Ed25519KeyId(public_key)
};

// Parses `header` and verifies its signature over the request at `now`. Fails with
// kInvalidArgument naming the part for a malformed header (wrong scheme, missing or repeated
// field, bad hex), and kPermissionDenied for a time more than kMaxClockSkewSeconds from `now`
// or a signature that does not verify. Whether the key is one the coordinator knows is the
// caller's check.
util::Result<Caller> VerifyAuthorization(std::string_view header, std::string_view method,
                                         std::string_view target, std::string_view body,
                                         uint64_t now);

}  // namespace kinko::coordinator

#endif  // KINKO_COORDINATOR_API_AUTH_H_
