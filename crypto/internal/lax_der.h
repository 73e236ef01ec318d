// Bitcoin Core's lax DER parser for ECDSA signatures (Core: src/pubkey.cpp,
// ecdsa_signature_parse_der_lax, itself from libsecp256k1's contrib/lax_der_parsing.c).
//
// Signatures in blocks before BIP66 were checked by OpenSSL, which accepted many violations of
// DER: negative integers, excess padding, overlong length descriptors, garbage after the
// sequence, a sequence length that does not match. This parser accepts everything that parser
// accepts, with the same result, so that kinko verifies old signatures exactly as Bitcoin Core
// does. Only crypto/ uses it (through crypto::EcdsaVerify with DerParsing::kLax).
//
// Thread-safe: a pure function.
#ifndef KINKO_CRYPTO_INTERNAL_LAX_DER_H_
#define KINKO_CRYPTO_INTERNAL_LAX_DER_H_

#include <array>
#include <cstdint>
#include <optional>
#include <span>

namespace kinko::crypto::internal {

// Returns R || S as 64 big-endian bytes (each right-aligned in 32 bytes, leading zero bytes of
// the encoding dropped) when `input` has the shape
//   0x30 <len> 0x02 <len> R 0x02 <len> S [anything]
// where each <len> is one byte, or 0x80+k followed by k bytes. The sequence length is skipped,
// never checked; R and S lengths are read big-endian, must have fewer than 4 significant bytes,
// and must fit in `input`. R and S are read as unsigned (a "negative" R is its magnitude bytes).
// When R or S has more than 32 significant bytes, both are returned as zero: like Core, such a
// signature parses but is the invalid all-zero signature that no key verifies. Values >= n are
// returned as they are (the caller maps them to the all-zero signature too).
// Returns nullopt when `input` does not have that shape.
std::optional<std::array<uint8_t, 64>> ParseDerLax(std::span<const uint8_t> input);

}  // namespace kinko::crypto::internal

#endif  // KINKO_CRYPTO_INTERNAL_LAX_DER_H_
