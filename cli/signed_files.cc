#include "cli/signed_files.h"

#include <ctime>
#include <vector>

#include "cli/secure_io.h"
#include "crypto/keyfile.h"

namespace kinko::cli {

util::Result<crypto::Ed25519PrivateKey> UnlockKey(const std::string& path,
                                                  std::optional<int> passphrase_fd) {
  util::Result<std::vector<uint8_t>> bytes = ReadSmallFile(path, kMaxKeyFileSize);
  if (!bytes.ok()) return bytes.status();
  util::Result<crypto::KeyFile> file = crypto::KeyFile::Parse(*bytes);
  if (!file.ok()) return file.status().WithPrefix(path);
  util::Result<crypto::SecretBytes> passphrase =
      ReadPassphrase(passphrase_fd, "Passphrase for " + file->label(), /*confirm=*/false);
  if (!passphrase.ok()) return passphrase.status();
  util::Result<crypto::Ed25519PrivateKey> key = file->Decrypt(*passphrase);
  if (!key.ok()) return key.status().WithPrefix(path);
  return key;
}

util::Result<policy::SignedIntent> ReadIntentFile(const std::string& path) {
  util::Result<std::vector<uint8_t>> bytes = ReadSmallFile(path, kMaxSignedFileSize);
  if (!bytes.ok()) return bytes.status();
  util::Result<policy::SignedIntent> intent = policy::SignedIntent::Decode(*bytes);
  if (!intent.ok()) return intent.status().WithPrefix(path);
  return intent;
}

util::Result<policy::SignedApproval> ReadApprovalFile(const std::string& path) {
  util::Result<std::vector<uint8_t>> bytes = ReadSmallFile(path, kMaxSignedFileSize);
  if (!bytes.ok()) return bytes.status();
  util::Result<policy::SignedApproval> approval = policy::SignedApproval::Decode(*bytes);
  if (!approval.ok()) return approval.status().WithPrefix(path);
  return approval;
}

std::string IsoTime(uint64_t seconds) {
  const std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  if (gmtime_r(&t, &tm) == nullptr) return "";
  char text[32];
  if (std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) return "";
  return text;
}

std::string BtcAndSats(const btc::Amount& amount) {
  return amount.ToBtcString() + " BTC (" + std::to_string(amount.sats()) + " sat)";
}

void AppendLine(std::string& out, std::string_view name, std::string_view value, size_t width) {
  out += name;
  out.append(name.size() < width ? width - name.size() : 1, ' ');
  out += value;
  out += '\n';
}

}  // namespace kinko::cli
