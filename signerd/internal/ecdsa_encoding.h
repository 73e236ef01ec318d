// The encodings a PKCS#11 token uses for secp256k1 keys and ECDSA signatures, turned into
// Bitcoin's: CKA_EC_POINT (a DER OCTET STRING around the uncompressed SEC 1 point) to a
// compressed public key, and CKM_ECDSA's raw r || s to a low-S DER signature (BIP62/BIP146
// LOW_S, BIP66 strict DER). Both parse data from a device, so both are fuzzed
// (signerd/ecdsa_encoding_fuzz.cc).
//
// Thread-safe: pure functions.
#ifndef KINKO_SIGNERD_INTERNAL_ECDSA_ENCODING_H_
#define KINKO_SIGNERD_INTERNAL_ECDSA_ENCODING_H_

#include <cstdint>
#include <span>
#include <vector>

#include "crypto/secp256k1.h"
#include "util/result.h"

namespace kinko::signerd::internal {

// Parses a CKA_EC_POINT value: exactly 04 41 04 X Y (an OCTET STRING of 65 bytes holding the
// uncompressed point). Returns the compressed public key. Fails with kInvalidArgument for any
// other length, tag, length byte or point prefix, or a point not on the curve.
util::Result<crypto::PublicKey> ParseEcPoint(std::span<const uint8_t> value);

// Converts the 64-byte CKM_ECDSA signature r || s (big-endian) to DER with S replaced by n - S
// when S > n/2. Returns the DER bytes (at most 72). Fails with kInvalidArgument when the input
// is not 64 bytes or r or s is 0 or >= n (the curve order).
util::Result<std::vector<uint8_t>> CompactSignatureToLowSDer(std::span<const uint8_t> compact);

}  // namespace kinko::signerd::internal

#endif  // KINKO_SIGNERD_INTERNAL_ECDSA_ENCODING_H_
