#include "signerd/internal/ecdsa_encoding.h"

#include <algorithm>
#include <array>

namespace kinko::signerd::internal {
namespace {

using Scalar = std::array<uint8_t, 32>;

// SEC 2: the order n of secp256k1 and n/2 (rounded down).
constexpr Scalar kOrder = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                           0xff, 0xff, 0xff, 0xff, 0xfe, 0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48,
                           0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41};
constexpr Scalar kHalfOrder = {0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                               0xff, 0xff, 0xff, 0xff, 0xff, 0x5d, 0x57, 0x6e, 0x73, 0x57, 0xa4,
                               0x50, 0x1d, 0xdf, 0xe9, 0x2f, 0x46, 0x68, 0x1b, 0x20, 0xa0};

bool IsZero(const Scalar& x) {
  return std::all_of(x.begin(), x.end(), [](uint8_t b) { return b == 0; });
}

// n - s, for 0 < s < n.
Scalar OrderMinus(const Scalar& s) {
  Scalar out{};
  int borrow = 0;
  for (size_t i = 32; i-- > 0;) {
    const int digit = int{kOrder[i]} - int{s[i]} - borrow;
    out[i] = static_cast<uint8_t>(digit & 0xff);
    borrow = digit < 0 ? 1 : 0;
  }
  return out;
}

// DER INTEGER of a positive value: no superfluous leading zero, a 0x00 when the top bit is set.
void AppendDerInteger(std::vector<uint8_t>& out, const Scalar& x) {
  size_t first = 0;
  while (first < 31 && x[first] == 0) ++first;
  const bool sign_byte = (x[first] & 0x80) != 0;
  out.push_back(0x02);
  out.push_back(static_cast<uint8_t>(32 - first + (sign_byte ? 1 : 0)));
  if (sign_byte) out.push_back(0x00);
  out.insert(out.end(), x.begin() + static_cast<std::ptrdiff_t>(first), x.end());
}

}  // namespace

util::Result<crypto::PublicKey> ParseEcPoint(std::span<const uint8_t> value) {
  // DER OCTET STRING, tag 0x04, short-form length 0x41 (65), then the SEC 1 point 0x04 X Y.
  if (value.size() != 67 || value[0] != 0x04 || value[1] != 0x41 || value[2] != 0x04) {
    return util::InvalidArgumentError(
        "pkcs11: CKA_EC_POINT is not a DER octet string of an uncompressed point");
  }
  util::Result<crypto::PublicKey> uncompressed = crypto::PublicKey::Parse(value.subspan(2));
  if (!uncompressed.ok()) {
    return util::InvalidArgumentError("pkcs11: CKA_EC_POINT is not a point on secp256k1");
  }
  return crypto::PublicKey::Parse(uncompressed->SerializeCompressed());
}

util::Result<std::vector<uint8_t>> CompactSignatureToLowSDer(std::span<const uint8_t> compact) {
  if (compact.size() != 64) {
    return util::InvalidArgumentError("pkcs11: ecdsa signature is not 64 bytes (r || s)");
  }
  Scalar r{};
  Scalar s{};
  std::copy_n(compact.begin(), 32, r.begin());
  std::copy_n(compact.begin() + 32, 32, s.begin());
  // std::array compares lexicographically: for big-endian scalars, that is numeric order.
  if (IsZero(r) || IsZero(s) || r >= kOrder || s >= kOrder) {
    return util::InvalidArgumentError("pkcs11: ecdsa signature has r or s outside 1..n-1");
  }
  // BIP146 LOW_S: (r, s) and (r, n - s) are both valid; only the one with s <= n/2 is standard.
  if (s > kHalfOrder) s = OrderMinus(s);
  std::vector<uint8_t> body;
  AppendDerInteger(body, r);
  AppendDerInteger(body, s);
  std::vector<uint8_t> der = {0x30, static_cast<uint8_t>(body.size())};
  der.insert(der.end(), body.begin(), body.end());
  return der;
}

}  // namespace kinko::signerd::internal
