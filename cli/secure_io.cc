#include "cli/secure_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "util/fd_io.h"

namespace kinko::cli {
namespace {

constexpr size_t kMaxPassphraseSize = 1024;

std::string DirectoryOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// Reads from `fd` until end of file or a newline when `line`. The buffer is wiped by the caller.
bool ReadFd(int fd, bool line, std::vector<uint8_t>& out) {
  uint8_t byte = 0;
  while (out.size() <= kMaxPassphraseSize) {
    const ssize_t n = read(fd, &byte, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (n == 0) break;
    if (line && byte == '\n') break;
    out.push_back(byte);
  }
  byte = 0;
  return true;
}

util::Result<crypto::SecretBytes> Finish(std::vector<uint8_t>& buffer) {
  if (!buffer.empty() && buffer.back() == '\n') buffer.pop_back();
  if (!buffer.empty() && buffer.back() == '\r') buffer.pop_back();
  if (buffer.size() > kMaxPassphraseSize) {
    crypto::Wipe(buffer);
    return util::InvalidArgumentError("passphrase: longer than 1024 bytes");
  }
  if (buffer.empty()) return util::InvalidArgumentError("passphrase: empty");
  crypto::SecretBytes secret = crypto::SecretBytes::FromSpan(buffer);
  crypto::Wipe(buffer);
  return secret;
}

// One line from the terminal `tty` with echo off.
bool PromptLine(int tty, std::string_view prompt, std::vector<uint8_t>& out) {
  termios saved{};
  if (tcgetattr(tty, &saved) != 0) return false;
  termios quiet = saved;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  if (write(tty, prompt.data(), prompt.size()) < 0) return false;
  if (tcsetattr(tty, TCSAFLUSH, &quiet) != 0) return false;
  const bool ok = ReadFd(tty, /*line=*/true, out);
  tcsetattr(tty, TCSAFLUSH, &saved);
  (void)!write(tty, "\n", 1);
  return ok;
}

}  // namespace

util::Result<std::vector<uint8_t>> ReadSmallFile(const std::string& path, size_t max_size) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return util::NotFoundError(path + ": cannot open (" + std::strerror(errno) + ")");
  std::vector<uint8_t> out;
  uint8_t chunk[4096];
  for (;;) {
    const ssize_t n = read(fd, chunk, sizeof(chunk));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      close(fd);
      return util::UnavailableError(path + ": read error");
    }
    if (n == 0) break;
    out.insert(out.end(), chunk, chunk + n);
    if (out.size() > max_size) {
      close(fd);
      return util::InvalidArgumentError(path + ": larger than " + std::to_string(max_size) +
                                        " bytes");
    }
  }
  close(fd);
  return out;
}

namespace {

// Writes `bytes` to a new temporary file beside `path` with permissions `mode`, flushed to
// disk. Returns the temporary file's path; the caller links or renames it, then removes it.
util::Result<std::string> WriteTemporaryFile(const std::string& path,
                                             std::span<const uint8_t> bytes, unsigned mode) {
  std::string temp = DirectoryOf(path) + "/.kinko-tmp-XXXXXX";
  const int fd = mkstemp(temp.data());
  if (fd < 0) return util::UnavailableError(path + ": cannot create a temporary file");
  auto fail = [&](std::string_view what) {
    close(fd);
    unlink(temp.c_str());
    return util::UnavailableError(path + ": " + std::string(what));
  };
  if (fchmod(fd, static_cast<mode_t>(mode)) != 0) return fail("cannot set permissions");
  if (util::Status synced = util::WriteAllAndSync(fd, bytes); !synced.ok()) {
    return fail(synced.message());
  }
  if (close(fd) != 0) {
    unlink(temp.c_str());
    return util::UnavailableError(path + ": close failed");
  }
  return temp;
}

}  // namespace

util::Status WriteNewFile(const std::string& path, std::span<const uint8_t> bytes, unsigned mode) {
  if (access(path.c_str(), F_OK) == 0) {
    return util::AlreadyExistsError(path + ": already exists (not overwritten)");
  }
  util::Result<std::string> temp = WriteTemporaryFile(path, bytes, mode);
  if (!temp.ok()) return temp.status();
  // link() fails when `path` exists, so a file that appeared meanwhile is never replaced.
  if (link(temp->c_str(), path.c_str()) != 0) {
    const int error = errno;
    unlink(temp->c_str());
    if (error == EEXIST)
      return util::AlreadyExistsError(path + ": already exists (not overwritten)");
    return util::UnavailableError(path + ": cannot create (" + std::strerror(error) + ")");
  }
  unlink(temp->c_str());
  return util::OkStatus();
}

util::Status ReplaceFile(const std::string& path, std::span<const uint8_t> bytes, unsigned mode) {
  util::Result<std::string> temp = WriteTemporaryFile(path, bytes, mode);
  if (!temp.ok()) return temp.status();
  // rename() replaces `path` atomically: readers see the old or the new bytes, never a mix.
  if (rename(temp->c_str(), path.c_str()) != 0) {
    const int error = errno;
    unlink(temp->c_str());
    return util::UnavailableError(path + ": cannot replace (" + std::strerror(error) + ")");
  }
  return util::OkStatus();
}

util::Result<crypto::SecretBytes> ReadPassphrase(std::optional<int> fd, std::string_view prompt,
                                                 bool confirm) {
  std::vector<uint8_t> buffer;
  buffer.reserve(kMaxPassphraseSize + 2);  // No reallocation: no unwiped copies left behind.
  if (fd) {
    if (!ReadFd(*fd, /*line=*/false, buffer)) {
      crypto::Wipe(buffer);
      return util::InvalidArgumentError("--passphrase-fd: cannot read file descriptor " +
                                        std::to_string(*fd));
    }
    return Finish(buffer);
  }
  const int tty = open("/dev/tty", O_RDWR | O_CLOEXEC);
  if (tty < 0) {
    return util::InvalidArgumentError(
        "passphrase: no terminal to prompt on; pass it with --passphrase-fd N");
  }
  const bool ok = PromptLine(tty, std::string(prompt) + ": ", buffer);
  if (!ok) {
    close(tty);
    crypto::Wipe(buffer);
    return util::InvalidArgumentError("passphrase: cannot read from the terminal");
  }
  if (confirm) {
    std::vector<uint8_t> again;
    again.reserve(kMaxPassphraseSize + 2);
    const bool ok2 = PromptLine(tty, "Repeat the passphrase: ", again);
    const bool same = ok2 && crypto::CtEqual(buffer, again);
    crypto::Wipe(again);
    if (!same) {
      close(tty);
      crypto::Wipe(buffer);
      return util::InvalidArgumentError("passphrase: the two entries differ");
    }
  }
  close(tty);
  return Finish(buffer);
}

}  // namespace kinko::cli
