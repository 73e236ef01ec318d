#include "signerd/secret_input.h"

#include <unistd.h>

#include <cerrno>
#include <string>
#include <utility>

namespace kinko::signerd {
namespace {

// Reads `fd` to its end into a buffer reserved up front, so that it never reallocates and
// leaves no unwiped copy behind. On failure the buffer is wiped and the status returned.
util::Result<std::vector<uint8_t>> ReadSecret(int fd, std::string_view what) {
  std::vector<uint8_t> buffer;
  buffer.reserve(kMaxSecretInputSize + 2);
  auto fail = [&](const std::string& reason) {
    crypto::Wipe(buffer);
    return util::InvalidArgumentError(std::string(what) + ": " + reason);
  };
  uint8_t byte = 0;
  while (buffer.size() < kMaxSecretInputSize + 2) {
    const ssize_t n = read(fd, &byte, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail("cannot read file descriptor " + std::to_string(fd));
    if (n == 0) break;
    buffer.push_back(byte);
  }
  byte = 0;
  if (!buffer.empty() && buffer.back() == '\n') buffer.pop_back();
  if (!buffer.empty() && buffer.back() == '\r') buffer.pop_back();
  if (buffer.size() > kMaxSecretInputSize) return fail("longer than 1024 bytes");
  if (buffer.empty()) return fail("empty");
  return buffer;
}

}  // namespace

util::Result<crypto::SecretBytes> ReadPassphraseFromFd(int fd) {
  util::Result<std::vector<uint8_t>> buffer = ReadSecret(fd, "passphrase");
  if (!buffer.ok()) return buffer.status();
  crypto::SecretBytes secret = crypto::SecretBytes::FromSpan(*buffer);
  crypto::Wipe(*buffer);
  return secret;
}

util::Result<TokenPin> TokenPin::ReadFromFd(int fd) {
  util::Result<std::vector<uint8_t>> buffer = ReadSecret(fd, "pkcs11 pin");
  if (!buffer.ok()) return buffer.status();
  return TokenPin(std::move(*buffer));
}

util::Result<TokenPin> TokenPin::FromText(std::string_view pin) {
  if (pin.empty() || pin.size() > kMaxSecretInputSize) {
    return util::InvalidArgumentError("pkcs11 pin: must be 1..1024 bytes");
  }
  return TokenPin(std::vector<uint8_t>(pin.begin(), pin.end()));
}

TokenPin::~TokenPin() { crypto::Wipe(bytes_); }

TokenPin::TokenPin(TokenPin&& other) noexcept : bytes_(std::move(other.bytes_)) {
  other.bytes_.clear();
}

TokenPin& TokenPin::operator=(TokenPin&& other) noexcept {
  if (this != &other) {
    crypto::Wipe(bytes_);
    bytes_ = std::move(other.bytes_);
    other.bytes_.clear();
  }
  return *this;
}

}  // namespace kinko::signerd
