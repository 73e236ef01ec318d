// Secret bytes (keys, seeds, nonces, tokens) and constant-time comparison (STYLE.md section 5).
//
// A SecretBytes cannot be copied, printed or logged, and is wiped when destroyed. Reading its
// bytes needs a SecretAccess token, whose only source is SecretAccess::Get(); CI allows calls to
// Get() only in crypto/ and signer/, so every place that touches secret bytes is easy to find.
//
// Thread-safe: SecretBytes has one owner; CtEqual is pure.
#ifndef KINKO_CRYPTO_SECRET_H_
#define KINKO_CRYPTO_SECRET_H_

#include <cstdint>
#include <span>
#include <vector>

namespace kinko::crypto {

// Permission to read secret bytes. Copyable; carries no state.
class SecretAccess final {
 public:
  static SecretAccess Get() { return SecretAccess(); }

 private:
  SecretAccess() = default;
};

// Movable, not copyable. WARNING: MUST NOT be logged or formatted; it has no operator<<.
class SecretBytes final {
 public:
  // `size` zero bytes.
  explicit SecretBytes(size_t size);
  // A copy of `bytes`; the caller wipes its own copy.
  static SecretBytes FromSpan(std::span<const uint8_t> bytes);
  ~SecretBytes();

  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  SecretBytes(SecretBytes&& other) noexcept;
  SecretBytes& operator=(SecretBytes&& other) noexcept;

  size_t size() const { return bytes_.size(); }
  std::span<const uint8_t> Reveal(SecretAccess) const { return bytes_; }
  std::span<uint8_t> RevealMutable(SecretAccess) { return bytes_; }

 private:
  void Wipe();
  std::vector<uint8_t> bytes_;
};

// Overwrites `bytes` with zeros in a way the compiler may not optimise away.
void Wipe(std::span<uint8_t> bytes);

// True when `a` and `b` are equal. Runs in time that depends only on the sizes.
bool CtEqual(std::span<const uint8_t> a, std::span<const uint8_t> b);

}  // namespace kinko::crypto

#endif  // KINKO_CRYPTO_SECRET_H_
