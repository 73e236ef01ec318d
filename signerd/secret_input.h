// Reading secrets handed to the signer daemon: the key file's passphrase and the PKCS#11 user
// PIN come from a file descriptor (a pipe, or a file readable only by the daemon's user),
// never from the command line or the environment, where other processes can read them.
//
// Not thread-safe; one caller per file descriptor.
#ifndef KINKO_SIGNERD_SECRET_INPUT_H_
#define KINKO_SIGNERD_SECRET_INPUT_H_

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "crypto/secret.h"
#include "util/result.h"

namespace kinko::signerd {

inline constexpr size_t kMaxSecretInputSize = 1024;

// Reads a passphrase from `fd`: everything up to end of file, one trailing "\n" or "\r\n"
// removed. Fails with kInvalidArgument when `fd` cannot be read, or the passphrase is empty or
// longer than 1024 bytes.
util::Result<crypto::SecretBytes> ReadPassphraseFromFd(int fd);

// A PKCS#11 user PIN. It is a credential for a device, not key material, and must be handed to
// C_Login as bytes; crypto::SecretBytes is readable only in crypto/ and signer/, so the PIN has
// this small container of its own, with the same promises: wiped on destruction, no
// operator<<, never in a message. Movable, not copyable.
class TokenPin final {
 public:
  // Reads the PIN from `fd` as ReadPassphraseFromFd does. Fails with kInvalidArgument like it.
  static util::Result<TokenPin> ReadFromFd(int fd);
  // A PIN given in code (tests, benchmarks). Fails with kInvalidArgument when `pin` is empty or
  // longer than 1024 bytes.
  static util::Result<TokenPin> FromText(std::string_view pin);

  ~TokenPin();
  TokenPin(TokenPin&& other) noexcept;
  TokenPin& operator=(TokenPin&& other) noexcept;
  TokenPin(const TokenPin&) = delete;
  TokenPin& operator=(const TokenPin&) = delete;

  // WARNING: the PIN itself. Only for C_Login; never log or copy it.
  std::span<const uint8_t> bytes() const { return bytes_; }

 private:
  explicit TokenPin(std::vector<uint8_t> bytes) : bytes_(std::move(bytes)) {}
  std::vector<uint8_t> bytes_;
};

}  // namespace kinko::signerd

#endif  // KINKO_SIGNERD_SECRET_INPUT_H_
