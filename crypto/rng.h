// Random bytes, behind an interface so that tests can inject a deterministic source.
//
// Thread-safe: SystemRng may be shared; test implementations document their own rules.
#ifndef KINKO_CRYPTO_RNG_H_
#define KINKO_CRYPTO_RNG_H_

#include <cstdint>
#include <span>

namespace kinko::crypto {

class Rng {
 public:
  virtual ~Rng() = default;
  // Fills `out` with random bytes. Aborts if the system cannot supply them: kinko never
  // continues with weak randomness.
  virtual void Fill(std::span<uint8_t> out) = 0;
};

// The kernel's CSPRNG (getrandom(2)). Thread-safe.
class SystemRng final : public Rng {
 public:
  void Fill(std::span<uint8_t> out) override;
};

}  // namespace kinko::crypto

#endif  // KINKO_CRYPTO_RNG_H_
