#include "signerd/secret_input.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "crypto/keyfile.h"

namespace kinko::signerd {
namespace {

// A pipe whose write end has received `text` and is closed; returns the read end.
int PipeWith(const std::string& text) {
  int fds[2];
  CHECK(pipe(fds) == 0);
  CHECK(write(fds[1], text.data(), text.size()) == static_cast<ssize_t>(text.size()));
  close(fds[1]);
  return fds[0];
}

TEST(SecretInputTest, PinFromFdDropsOneTrailingNewline) {
  struct Case {
    std::string input;
    std::string pin;
  };
  const Case cases[] = {{"1234", "1234"},
                        {"1234\n", "1234"},
                        {"1234\r\n", "1234"},
                        {"12 34\n\n", "12 34\n"},
                        {std::string(1024, 'x') + "\n", std::string(1024, 'x')}};
  for (const Case& c : cases) {
    const int fd = PipeWith(c.input);
    util::Result<TokenPin> pin = TokenPin::ReadFromFd(fd);
    close(fd);
    ASSERT_TRUE(pin.ok()) << pin.status();
    EXPECT_EQ(std::string(pin->bytes().begin(), pin->bytes().end()), c.pin);
  }
}

TEST(SecretInputTest, RefusesEmptyLongAndUnreadable) {
  for (const std::string& input : {std::string(""), std::string("\n"), std::string(1025, 'x')}) {
    const int fd = PipeWith(input);
    util::Result<TokenPin> pin = TokenPin::ReadFromFd(fd);
    util::Result<crypto::SecretBytes> passphrase = ReadPassphraseFromFd(fd);
    close(fd);
    ASSERT_FALSE(pin.ok()) << input.size();
    EXPECT_EQ(pin.status().code(), util::StatusCode::kInvalidArgument);
    EXPECT_FALSE(passphrase.ok());
  }
  util::Result<crypto::SecretBytes> closed = ReadPassphraseFromFd(-1);
  ASSERT_FALSE(closed.ok());
  EXPECT_EQ(closed.status().message(), "passphrase: cannot read file descriptor -1");
  EXPECT_FALSE(TokenPin::FromText("").ok());
}

// The passphrase read from a file descriptor is the one typed: it opens a key file encrypted
// under the same text.
TEST(SecretInputTest, PassphraseFromFdOpensTheKeyFile) {
  crypto::SystemRng rng;
  const crypto::Secp256k1Context ctx = crypto::Secp256k1Context::Create(rng);
  const std::string text = "correct horse";
  const crypto::SecretBytes typed = crypto::SecretBytes::FromSpan(
      std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
  const crypto::Secp256k1KeyFile file =
      crypto::Secp256k1KeyFile::Encrypt(ctx, crypto::PrivateKey::Generate(rng), "k", "", typed,
                                        {.passes = 1, .memory_kib = 8}, rng)
          .value();
  const int fd = PipeWith(text + "\n");
  util::Result<crypto::SecretBytes> passphrase = ReadPassphraseFromFd(fd);
  close(fd);
  ASSERT_TRUE(passphrase.ok());
  EXPECT_EQ(passphrase->size(), text.size());
  EXPECT_TRUE(file.Decrypt(ctx, *passphrase).ok());
}

}  // namespace
}  // namespace kinko::signerd
