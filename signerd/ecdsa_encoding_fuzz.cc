// The PKCS#11 encodings (signerd/internal/ecdsa_encoding.h): whatever CKA_EC_POINT ParseEcPoint
// accepts is the uncompressed form of the key it returns; whatever r || s
// CompactSignatureToLowSDer accepts gives a strict DER, low-S signature of the same r, at most
// 72 bytes.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "crypto/rng.h"
#include "crypto/secp256k1.h"
#include "signerd/internal/ecdsa_encoding.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static kinko::crypto::SystemRng rng;
  static const kinko::crypto::Secp256k1Context ctx = kinko::crypto::Secp256k1Context::Create(rng);
  const std::span<const uint8_t> input(data, size);

  kinko::util::Result<kinko::crypto::PublicKey> point =
      kinko::signerd::internal::ParseEcPoint(input);
  if (point.ok()) {
    const auto uncompressed = point->SerializeUncompressed();
    if (size != 67 || !point->IsCompressed() ||
        !std::equal(uncompressed.begin(), uncompressed.end(), input.begin() + 2)) {
      __builtin_trap();
    }
  }

  kinko::util::Result<std::vector<uint8_t>> der =
      kinko::signerd::internal::CompactSignatureToLowSDer(input);
  if (der.ok()) {
    if (size != 64 || der->size() > 72 ||
        !kinko::crypto::EcdsaIsLowS(ctx, *der, kinko::crypto::DerParsing::kStrict)) {
      __builtin_trap();
    }
    // Idempotent on its own output's r || s.
    const size_t r_len = (*der)[3];
    const std::vector<uint8_t> r(der->begin() + 4, der->begin() + 4 + static_cast<long>(r_len));
    std::vector<uint8_t> r_expected(input.begin(), input.begin() + 32);
    while (r_expected.size() > 1 && r_expected[0] == 0) r_expected.erase(r_expected.begin());
    if ((r_expected[0] & 0x80) != 0) r_expected.insert(r_expected.begin(), 0);
    if (r != r_expected) __builtin_trap();
  }
  return 0;
}
