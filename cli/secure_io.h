// File and passphrase input/output for the identity, intent and policy commands: reading small
// files, writing new files atomically (temporary file, fsync, then link into place, never
// replacing an existing file), replacing a file atomically (rename), and reading passphrases
// from a file descriptor or a terminal prompt without echo. Passphrases are never taken from the
// command line or the environment.
//
// Not thread-safe (the prompt changes the terminal's mode); one caller at a time.
#ifndef KINKO_CLI_SECURE_IO_H_
#define KINKO_CLI_SECURE_IO_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/secret.h"
#include "util/result.h"

namespace kinko::cli {

// The bytes of `path` (at most `max_size`). Fails with kNotFound when the file cannot be
// opened and kInvalidArgument when it is larger than `max_size`.
util::Result<std::vector<uint8_t>> ReadSmallFile(const std::string& path, size_t max_size);

// Writes `bytes` to the new file `path` with permissions `mode` (0600 for keys): a temporary
// file in the same directory is written, flushed to disk and then linked to `path`, so `path`
// either does not exist or holds all of `bytes`. Fails with kAlreadyExists when `path` exists
// and kUnavailable for any other I/O error.
util::Status WriteNewFile(const std::string& path, std::span<const uint8_t> bytes, unsigned mode);

// Replaces the contents of `path` (or creates it) with `bytes` and permissions `mode`: a
// temporary file in the same directory is written, flushed to disk and renamed over `path`, so
// `path` holds either all of its old bytes or all of `bytes`. Two writers racing on one path:
// the last rename wins. Fails with kUnavailable for any I/O error (then `path` is unchanged).
util::Status ReplaceFile(const std::string& path, std::span<const uint8_t> bytes, unsigned mode);

// Reads a passphrase: from file descriptor `fd` when given (everything up to end of file, one
// trailing newline removed), otherwise from a prompt on the controlling terminal with echo off
// (asked twice when `confirm`). Fails with kInvalidArgument when it is empty, longer than 1024
// bytes, the two entries differ, or there is no terminal and no `fd`.
util::Result<crypto::SecretBytes> ReadPassphrase(std::optional<int> fd, std::string_view prompt,
                                                 bool confirm);

}  // namespace kinko::cli

#endif  // KINKO_CLI_SECURE_IO_H_
