// The two places where a private key's bytes leave crypto/ on purpose, for the formats whose
// job is to carry a key (WIF, BIP32 xprv), and BIP32's hardened derivation, which hashes the
// parent key.
//
// Thread-safe: pure functions.
#ifndef KINKO_CRYPTO_KEY_EXPORT_H_
#define KINKO_CRYPTO_KEY_EXPORT_H_

#include <array>
#include <cstdint>
#include <span>

#include "crypto/hash.h"
#include "crypto/secp256k1.h"

namespace kinko::crypto {

// WARNING: EXPORTS THE KEY. Returns the 32-byte big-endian secret of `key` in ordinary memory.
// Only for encoding a key into a format that carries it (WIF, xprv). The caller MUST wipe the
// copy (Wipe) as soon as it is encoded, and MUST NOT log it.
std::array<uint8_t, 32> ExportPrivateKeyBytes(const PrivateKey& key);

// Returns a second PrivateKey holding the same secret.
PrivateKey CopyPrivateKey(const PrivateKey& key);

// Returns HMAC-SHA512(key = `hmac_key`, data = `prefix` || 32 bytes of `key` || `suffix`),
// without exposing the key: BIP32 hardened derivation uses prefix {0x00} and suffix ser32(i).
Hash512Bytes HmacSha512WithPrivateKey(std::span<const uint8_t> hmac_key,
                                      std::span<const uint8_t> prefix, const PrivateKey& key,
                                      std::span<const uint8_t> suffix);

}  // namespace kinko::crypto

#endif  // KINKO_CRYPTO_KEY_EXPORT_H_
