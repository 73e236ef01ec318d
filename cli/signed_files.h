// Reading the signed objects of the identity, intent, approval and policy commands from files,
// unlocking identity keys, and the shared ways of showing times and amounts to a person.
//
// Not thread-safe (unlocking a key may prompt on the terminal); one caller at a time.
#ifndef KINKO_CLI_SIGNED_FILES_H_
#define KINKO_CLI_SIGNED_FILES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "btc/amount.h"
#include "crypto/ed25519.h"
#include "policy/approval.h"
#include "policy/intent.h"
#include "util/result.h"

namespace kinko::cli {

inline constexpr size_t kMaxKeyFileSize = 4096;
inline constexpr size_t kMaxSignedFileSize = 1 << 20;  // Intents and approvals.

// The identity key in the key file `path`, decrypted with the passphrase read from
// `passphrase_fd` (or a terminal prompt). Fails with kNotFound when the file cannot be opened,
// and kInvalidArgument "`path`: ..." for a malformed file, a wrong passphrase or no passphrase.
util::Result<crypto::Ed25519PrivateKey> UnlockKey(const std::string& path,
                                                  std::optional<int> passphrase_fd);

// The signed intent in `path`, its requester signature verified. Fails with kNotFound when the
// file cannot be opened, kInvalidArgument "`path`: ..." when it is malformed, and
// kPermissionDenied "`path`: intent ...: requester signature: ..." when it was altered.
util::Result<policy::SignedIntent> ReadIntentFile(const std::string& path);

// The signed approval in `path`, its approver signature verified. Fails as ReadIntentFile.
util::Result<policy::SignedApproval> ReadApprovalFile(const std::string& path);

// "2026-01-01T00:00:00Z" (UTC, ISO 8601) for seconds since the Unix epoch.
std::string IsoTime(uint64_t seconds);

// "0.50000000 BTC (50000000 sat)".
std::string BtcAndSats(const btc::Amount& amount);

// Appends `name`, padded with spaces to `width` characters (at least one space), `value` and a
// newline to `out`: the aligned "name  value" lines of the text answers.
void AppendLine(std::string& out, std::string_view name, std::string_view value, size_t width);

}  // namespace kinko::cli

#endif  // KINKO_CLI_SIGNED_FILES_H_
