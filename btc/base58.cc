#include "btc/base58.h"

#include <algorithm>
#include <string>

#include "crypto/hash.h"
#include "crypto/secret.h"

namespace kinko::btc {
namespace {

constexpr char kAlphabet[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

// Value of a Base58 character, or -1.
int DigitValue(char c) {
  const char* end = kAlphabet + 58;
  const char* it = std::find(kAlphabet, end, c);
  return it == end ? -1 : static_cast<int>(it - kAlphabet);
}

}  // namespace

std::string Base58Encode(std::span<const uint8_t> data) {
  size_t zeros = 0;
  while (zeros < data.size() && data[zeros] == 0) ++zeros;
  // Base-58 digits, little-endian. log(256)/log(58) < 1.37, so this never grows past the size.
  std::vector<uint8_t> digits((data.size() - zeros) * 138 / 100 + 1);
  size_t used = 0;  // Invariant: digits[used..] are zero.
  for (size_t i = zeros; i < data.size(); ++i) {
    int carry = data[i];
    size_t j = 0;
    for (; j < used || carry != 0; ++j) {
      carry += 256 * digits[j];
      digits[j] = static_cast<uint8_t>(carry % 58);
      carry /= 58;
    }
    used = j;
  }
  std::string out(zeros, '1');
  for (size_t j = used; j > 0; --j) out.push_back(kAlphabet[digits[j - 1]]);
  // The input may be a private key (WIF, xprv).
  crypto::Wipe(digits);
  return out;
}

util::Result<std::vector<uint8_t>> Base58Decode(std::string_view text, size_t max_size) {
  size_t zeros = 0;
  while (zeros < text.size() && text[zeros] == '1') ++zeros;
  if (zeros > max_size) {
    return util::InvalidArgumentError("base58: decodes to more than " + std::to_string(max_size) +
                                      " bytes");
  }
  // Base-256 digits, little-endian.
  std::vector<uint8_t> bytes;
  for (size_t i = zeros; i < text.size(); ++i) {
    const int value = DigitValue(text[i]);
    if (value < 0) {
      crypto::Wipe(bytes);
      return util::InvalidArgumentError("base58: invalid character at position " +
                                        std::to_string(i));
    }
    int carry = value;
    for (uint8_t& b : bytes) {
      carry += 58 * b;
      b = static_cast<uint8_t>(carry & 0xff);
      carry >>= 8;
    }
    while (carry != 0) {
      bytes.push_back(static_cast<uint8_t>(carry & 0xff));
      carry >>= 8;
    }
    if (zeros + bytes.size() > max_size) {
      crypto::Wipe(bytes);
      return util::InvalidArgumentError("base58: decodes to more than " + std::to_string(max_size) +
                                        " bytes");
    }
  }
  std::vector<uint8_t> out(zeros, 0);
  out.insert(out.end(), bytes.rbegin(), bytes.rend());
  // The bytes may be a private key (WIF, xprv).
  crypto::Wipe(bytes);
  return out;
}

std::string Base58CheckEncode(std::span<const uint8_t> payload) {
  std::vector<uint8_t> data(payload.begin(), payload.end());
  const crypto::Hash256Bytes hash = crypto::Hash256(payload);
  data.insert(data.end(), hash.begin(), hash.begin() + 4);
  std::string out = Base58Encode(data);
  // The payload may be a private key (WIF, xprv).
  crypto::Wipe(data);
  return out;
}

util::Result<std::vector<uint8_t>> Base58CheckDecode(std::string_view text, size_t max_payload) {
  util::Result<std::vector<uint8_t>> data = Base58Decode(text, max_payload + 4);
  if (!data.ok()) return data.status();
  std::vector<uint8_t>& bytes = *data;
  if (bytes.size() < 4) {
    return util::InvalidArgumentError("base58check: shorter than the 4-byte checksum");
  }
  const size_t payload_size = bytes.size() - 4;
  const crypto::Hash256Bytes hash =
      crypto::Hash256(std::span<const uint8_t>(bytes).first(payload_size));
  if (!std::equal(hash.begin(), hash.begin() + 4, bytes.begin() + payload_size)) {
    crypto::Wipe(bytes);
    return util::InvalidArgumentError("base58check: checksum mismatch");
  }
  crypto::Wipe(std::span<uint8_t>(bytes).subspan(payload_size));
  bytes.resize(payload_size);
  return data;
}

}  // namespace kinko::btc
