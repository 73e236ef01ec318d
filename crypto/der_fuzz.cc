// Fuzz target for ECDSA DER signature parsing: libsecp256k1's strict parser against kinko's
// port of Bitcoin Core's lax parser (crypto/internal/lax_der.h).
//
// Properties:
// - Neither parser crashes, on any input.
// - Whatever the strict parser accepts, the lax parser accepts, and when the strict parser
//   read both integers without overflow (R, S in (0, n)), the lax one reads the same (R, S).
// - Whatever the lax parser reads as a valid (R, S), strict DER re-encoding of it parses back
//   to the same (R, S) with both parsers.
#include <secp256k1.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <span>

#include "crypto/internal/lax_der.h"
#include "util/check.h"

namespace {

bool IsZero(std::span<const uint8_t> bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](uint8_t b) { return b == 0; });
}

// Strict DER to compact R || S, or nullopt when the strict parser rejects.
std::optional<std::array<uint8_t, 64>> ParseStrict(std::span<const uint8_t> der) {
  if (der.empty()) return std::nullopt;  // libsecp256k1 aborts on a null input.
  secp256k1_ecdsa_signature sig;
  if (secp256k1_ecdsa_signature_parse_der(secp256k1_context_static, &sig, der.data(), der.size()) !=
      1) {
    return std::nullopt;
  }
  std::array<uint8_t, 64> compact;
  CHECK(secp256k1_ecdsa_signature_serialize_compact(secp256k1_context_static, compact.data(),
                                                    &sig) == 1);
  return compact;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> input(data, size);
  const std::optional<std::array<uint8_t, 64>> strict = ParseStrict(input);
  const std::optional<std::array<uint8_t, 64>> lax = kinko::crypto::internal::ParseDerLax(input);

  if (strict) {
    CHECK(lax.has_value());
    // libsecp256k1 maps an overflowing integer (negative, longer than 32 bytes, or >= n) to
    // zero, where the lax parser may read a value; compare only when neither overflowed.
    const bool strict_read_both =
        !IsZero(std::span(*strict).first(32)) && !IsZero(std::span(*strict).last(32));
    if (strict_read_both) CHECK(*lax == *strict);
  }

  if (lax) {
    secp256k1_ecdsa_signature sig;
    if (secp256k1_ecdsa_signature_parse_compact(secp256k1_context_static, &sig, lax->data()) == 1) {
      std::array<uint8_t, 72> der;
      size_t der_len = der.size();
      CHECK(secp256k1_ecdsa_signature_serialize_der(secp256k1_context_static, der.data(), &der_len,
                                                    &sig) == 1);
      const std::span<const uint8_t> reencoded(der.data(), der_len);
      const std::optional<std::array<uint8_t, 64>> strict_again = ParseStrict(reencoded);
      CHECK(strict_again.has_value() && *strict_again == *lax);
      const std::optional<std::array<uint8_t, 64>> lax_again =
          kinko::crypto::internal::ParseDerLax(reencoded);
      CHECK(lax_again.has_value() && *lax_again == *lax);
    }
  }
  return 0;
}
