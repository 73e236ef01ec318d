#include "crypto/hash.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "util/check.h"

namespace kinko::crypto {
namespace {

// OpenSSL 3 looks an implicitly fetched algorithm (EVP_sha256()) up in its provider table on
// every use; fetching each digest once and keeping it (immutable, safe to share between threads)
// removes that cost from every hash. A failure inside OpenSSL here means a broken installation.
const EVP_MD* Fetch(const char* name) {
  EVP_MD* md = EVP_MD_fetch(nullptr, name, nullptr);
  CHECK(md != nullptr);
  return md;
}
const EVP_MD* Sha256Md() {
  static const EVP_MD* const md = Fetch("SHA256");
  return md;
}
const EVP_MD* Sha512Md() {
  static const EVP_MD* const md = Fetch("SHA512");
  return md;
}
const EVP_MD* Sha1Md() {
  static const EVP_MD* const md = Fetch("SHA1");
  return md;
}
const EVP_MD* Ripemd160Md() {
  static const EVP_MD* const md = Fetch("RIPEMD160");
  return md;
}

template <size_t N>
std::array<uint8_t, N> Digest(const EVP_MD* md, std::span<const uint8_t> data) {
  std::array<uint8_t, N> out;
  unsigned int len = 0;
  CHECK(EVP_Digest(data.data(), data.size(), out.data(), &len, md, nullptr) == 1);
  CHECK(len == N);
  return out;
}

EVP_MD_CTX* Ctx(void* p) { return static_cast<EVP_MD_CTX*>(p); }

}  // namespace

Hash256Bytes Sha256(std::span<const uint8_t> data) { return Digest<32>(Sha256Md(), data); }
Hash512Bytes Sha512(std::span<const uint8_t> data) { return Digest<64>(Sha512Md(), data); }
Hash160Bytes Ripemd160(std::span<const uint8_t> data) { return Digest<20>(Ripemd160Md(), data); }
Hash160Bytes Sha1(std::span<const uint8_t> data) { return Digest<20>(Sha1Md(), data); }
Hash160Bytes Hash160(std::span<const uint8_t> data) { return Ripemd160(Sha256(data)); }
Hash256Bytes Hash256(std::span<const uint8_t> data) { return Sha256(Sha256(data)); }

Hash512Bytes HmacSha512(std::span<const uint8_t> key, std::span<const uint8_t> data) {
  Hash512Bytes out;
  unsigned int len = 0;
  CHECK(HMAC(Sha512Md(), key.data(), static_cast<int>(key.size()), data.data(), data.size(),
             out.data(), &len) != nullptr);
  CHECK(len == out.size());
  return out;
}

Sha256Hasher::Sha256Hasher() : ctx_(EVP_MD_CTX_new()) {
  CHECK(ctx_ != nullptr);
  CHECK(EVP_DigestInit_ex(Ctx(ctx_), Sha256Md(), nullptr) == 1);
}

Sha256Hasher::~Sha256Hasher() { EVP_MD_CTX_free(Ctx(ctx_)); }

Sha256Hasher::Sha256Hasher(const Sha256Hasher& other) : ctx_(EVP_MD_CTX_new()) {
  CHECK(ctx_ != nullptr);
  CHECK(EVP_MD_CTX_copy_ex(Ctx(ctx_), Ctx(other.ctx_)) == 1);
}

Sha256Hasher& Sha256Hasher::operator=(const Sha256Hasher& other) {
  if (this != &other) CHECK(EVP_MD_CTX_copy_ex(Ctx(ctx_), Ctx(other.ctx_)) == 1);
  return *this;
}

Sha256Hasher::Sha256Hasher(Sha256Hasher&& other) noexcept : ctx_(other.ctx_) {
  other.ctx_ = nullptr;
}

Sha256Hasher& Sha256Hasher::operator=(Sha256Hasher&& other) noexcept {
  if (this != &other) {
    EVP_MD_CTX_free(Ctx(ctx_));
    ctx_ = other.ctx_;
    other.ctx_ = nullptr;
  }
  return *this;
}

Sha256Hasher& Sha256Hasher::Write(std::span<const uint8_t> data) {
  CHECK(ctx_ != nullptr);
  CHECK(EVP_DigestUpdate(Ctx(ctx_), data.data(), data.size()) == 1);
  return *this;
}

Hash256Bytes Sha256Hasher::Finalize() {
  CHECK(ctx_ != nullptr);
  Hash256Bytes out;
  unsigned int len = 0;
  CHECK(EVP_DigestFinal_ex(Ctx(ctx_), out.data(), &len) == 1);
  CHECK(len == out.size());
  return out;
}

Sha256Hasher TaggedHasher(std::string_view tag) {
  const Hash256Bytes tag_hash =
      crypto::Sha256(std::span(reinterpret_cast<const uint8_t*>(tag.data()), tag.size()));
  Sha256Hasher hasher;
  hasher.Write(tag_hash).Write(tag_hash);
  return hasher;
}

Hash256Bytes TaggedHash(std::string_view tag, std::span<const uint8_t> data) {
  return TaggedHasher(tag).Write(data).Finalize();
}

}  // namespace kinko::crypto
