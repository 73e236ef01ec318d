// Base58 and Base58Check, the encodings of legacy addresses, WIF private keys and BIP32 extended
// keys (Bitcoin Core's base58.cpp is the reference).
//
// Unlike Bitcoin Core's DecodeBase58, the decoders here do not skip leading or trailing
// whitespace: every character must be in the alphabet.
//
// Thread-safe: pure functions.
#ifndef KINKO_BTC_BASE58_H_
#define KINKO_BTC_BASE58_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace kinko::btc {

// Returns the Base58 encoding of `data`: one '1' per leading zero byte, then the big-endian
// number in base 58. The empty input encodes to the empty string.
std::string Base58Encode(std::span<const uint8_t> data);

// Returns the bytes of `text`. Fails with kInvalidArgument naming the position of the first
// character outside the Base58 alphabet, or when the result would be longer than `max_size`
// bytes. The empty string decodes to no bytes.
util::Result<std::vector<uint8_t>> Base58Decode(std::string_view text, size_t max_size = 256);

// Returns Base58Encode(payload || first 4 bytes of HASH256(payload)).
std::string Base58CheckEncode(std::span<const uint8_t> payload);

// Returns the payload of a Base58Check string. Fails with kInvalidArgument when `text` is not
// Base58 (see Base58Decode), when the payload would be longer than `max_payload` bytes, when
// the decoded bytes are shorter than the 4-byte checksum, or when the checksum does not match.
util::Result<std::vector<uint8_t>> Base58CheckDecode(std::string_view text,
                                                     size_t max_payload = 256);

}  // namespace kinko::btc

#endif  // KINKO_BTC_BASE58_H_
