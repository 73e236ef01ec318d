// Hash functions Bitcoin needs: SHA-256, SHA-512, RIPEMD-160, HASH160, HASH256, HMAC-SHA512 and
// BIP340 tagged hashes. The only code in kinko that calls OpenSSL's digests.
//
// Thread-safe: the free functions are pure; a Sha256Hasher object has one owner.
#ifndef KINKO_CRYPTO_HASH_H_
#define KINKO_CRYPTO_HASH_H_

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

namespace kinko::crypto {

using Hash256Bytes = std::array<uint8_t, 32>;
using Hash160Bytes = std::array<uint8_t, 20>;
using Hash512Bytes = std::array<uint8_t, 64>;

Hash256Bytes Sha256(std::span<const uint8_t> data);
Hash512Bytes Sha512(std::span<const uint8_t> data);
Hash160Bytes Ripemd160(std::span<const uint8_t> data);
// SHA-1, for Bitcoin script's OP_SHA1 only (not collision resistant; never use it for new
// commitments).
Hash160Bytes Sha1(std::span<const uint8_t> data);
// RIPEMD160(SHA256(data)).
Hash160Bytes Hash160(std::span<const uint8_t> data);
// SHA256(SHA256(data)).
Hash256Bytes Hash256(std::span<const uint8_t> data);
Hash512Bytes HmacSha512(std::span<const uint8_t> key, std::span<const uint8_t> data);

// Incremental SHA-256. Copying a hasher copies its state (a midstate), which is how tagged
// hashes are reused without rehashing the tag.
// Copyable and movable; not thread-safe, one owner.
class Sha256Hasher final {
 public:
  Sha256Hasher();
  ~Sha256Hasher();
  Sha256Hasher(const Sha256Hasher& other);
  Sha256Hasher& operator=(const Sha256Hasher& other);
  Sha256Hasher(Sha256Hasher&& other) noexcept;
  Sha256Hasher& operator=(Sha256Hasher&& other) noexcept;

  Sha256Hasher& Write(std::span<const uint8_t> data);
  // Returns the digest of everything written. The hasher must not be used afterwards except
  // to be destroyed or assigned.
  Hash256Bytes Finalize();

 private:
  void* ctx_;  // EVP_MD_CTX*, owned.
};

// BIP340: a SHA-256 hasher that has absorbed SHA256(tag) || SHA256(tag). Write the message,
// then Finalize() to get tagged_hash(tag, message).
Sha256Hasher TaggedHasher(std::string_view tag);
// BIP340 tagged_hash(tag, data).
Hash256Bytes TaggedHash(std::string_view tag, std::span<const uint8_t> data);

}  // namespace kinko::crypto

#endif  // KINKO_CRYPTO_HASH_H_
