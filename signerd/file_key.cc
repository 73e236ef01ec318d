#include "signerd/file_key.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

#include "btc/base58.h"
#include "crypto/key_export.h"
#include "util/fd_io.h"

namespace kinko::signerd {
namespace {

// A key file is 143 + label (<= 64) + public info (<= 1024) bytes.
constexpr size_t kMaxKeyFileSize = 4096;

// BIP32 version bytes of the private serializations.
constexpr std::array<uint8_t, 4> kXprvVersion = {0x04, 0x88, 0xad, 0xe4};
constexpr std::array<uint8_t, 4> kTprvVersion = {0x04, 0x35, 0x83, 0x94};

std::string Where(const std::string& path) { return "key file " + path; }

util::Result<std::vector<uint8_t>> ReadKeyFile(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return util::NotFoundError(Where(path) + ": cannot open (" + std::strerror(errno) + ")");
  }
  std::vector<uint8_t> out;
  std::array<uint8_t, 1024> chunk{};
  for (;;) {
    const ssize_t n = read(fd, chunk.data(), chunk.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      close(fd);
      return util::UnavailableError(Where(path) + ": read error");
    }
    if (n == 0) break;
    out.insert(out.end(), chunk.begin(), chunk.begin() + n);
    if (out.size() > kMaxKeyFileSize) {
      close(fd);
      return util::InvalidArgumentError(Where(path) + ": larger than a key file");
    }
  }
  close(fd);
  return out;
}

// Creates `path` (never replacing a file: O_EXCL) with permissions 0600 and writes `bytes`,
// flushed to disk. On any failure after creating it, the file is removed.
util::Status WriteNewKeyFile(const std::string& path, std::span<const uint8_t> bytes) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0 && errno == EEXIST) {
    return util::AlreadyExistsError(Where(path) + ": already exists (not overwritten)");
  }
  if (fd < 0) {
    return util::UnavailableError(Where(path) + ": cannot create (" + std::strerror(errno) + ")");
  }
  auto fail = [&](std::string_view what) {
    close(fd);
    unlink(path.c_str());
    return util::UnavailableError(Where(path) + ": " + std::string(what));
  };
  // The umask may have removed bits; the file is exactly 0600 whatever it is.
  if (fchmod(fd, 0600) != 0) return fail("cannot set permissions");
  if (util::Status synced = util::WriteAllAndSync(fd, bytes); !synced.ok()) {
    return fail(synced.message());
  }
  if (close(fd) != 0) {
    unlink(path.c_str());
    return util::UnavailableError(Where(path) + ": close failed");
  }
  return util::OkStatus();
}

struct PublicInfo {
  btc::KeyOrigin origin;
  btc::ExtendedKey xpub;
};

// Parses "[origin]xpub" and checks it against the file's public key. Messages do not quote the
// text.
util::Result<PublicInfo> ParsePublicInfo(const crypto::Secp256k1Context& ctx,
                                         const std::string& path,
                                         const crypto::Secp256k1KeyFile& file) {
  const std::string& info = file.public_info();
  const size_t close_bracket = info.find(']');
  if (info.empty() || info[0] != '[' || close_bracket == std::string::npos) {
    return util::InvalidArgumentError(Where(path) + ": public info is not \"[origin]xpub\"");
  }
  util::Result<btc::KeyOrigin> origin =
      btc::KeyOrigin::Parse(std::string_view(info).substr(1, close_bracket - 1));
  if (!origin.ok()) {
    return util::InvalidArgumentError(Where(path) + ": public info: " + origin.status().message());
  }
  util::Result<btc::ExtendedKey> xpub =
      btc::ExtendedKey::Parse(ctx, std::string_view(info).substr(close_bracket + 1));
  if (!xpub.ok()) {
    return util::InvalidArgumentError(Where(path) + ": public info: " + xpub.status().message());
  }
  if (xpub->IsPrivate()) {
    return util::InvalidArgumentError(Where(path) + ": public info holds a private key");
  }
  if (!(xpub->public_key() == file.public_key())) {
    return util::DataLossError(Where(path) + ": the xpub is not the file's public key");
  }
  const std::vector<uint32_t>& steps = origin->path.steps;
  const bool origin_matches =
      steps.empty() ? xpub->depth() == 0 && origin->fingerprint == xpub->Fingerprint()
                    : xpub->depth() == steps.size() && xpub->child_number() == steps.back();
  if (!origin_matches) {
    return util::DataLossError(Where(path) +
                               ": the xpub's depth or child number is not its origin's");
  }
  return PublicInfo{.origin = std::move(*origin), .xpub = std::move(*xpub)};
}

// The extended private key of `xpub` with private key `key`. ExtendedKey is built only from
// its serialization, so the xprv is encoded (crypto::ExportPrivateKeyBytes, decision 0002:
// encoding a key into the format that carries it) and parsed; every buffer holding the key is
// wiped before returning.
util::Result<btc::ExtendedKey> WithPrivateKey(const crypto::Secp256k1Context& ctx,
                                              const btc::ExtendedKey& xpub,
                                              const crypto::PrivateKey& key) {
  util::Result<std::vector<uint8_t>> payload = btc::Base58CheckDecode(xpub.ToString());
  if (!payload.ok() || payload->size() != 78) {
    return util::InternalError("key file: cannot re-encode the xpub");
  }
  // BIP32 serialization: version(4) depth(1) parent(4) child(4) chain code(32) key data(33).
  const std::array<uint8_t, 4>& version = xpub.IsMainnet() ? kXprvVersion : kTprvVersion;
  std::copy(version.begin(), version.end(), payload->begin());
  std::array<uint8_t, 32> secret = crypto::ExportPrivateKeyBytes(key);
  (*payload)[45] = 0x00;
  std::copy(secret.begin(), secret.end(), payload->begin() + 46);
  crypto::Wipe(secret);
  std::string xprv = btc::Base58CheckEncode(*payload);
  crypto::Wipe(*payload);
  util::Result<btc::ExtendedKey> extended = btc::ExtendedKey::Parse(ctx, xprv);
  crypto::Wipe(std::span(reinterpret_cast<uint8_t*>(xprv.data()), xprv.size()));
  if (!extended.ok()) return util::InternalError("key file: cannot rebuild the extended key");
  return extended;
}

}  // namespace

util::Result<FileKey> FileKey::Generate(const crypto::Secp256k1Context& ctx,
                                        const std::string& path,
                                        const crypto::SecretBytes& passphrase, crypto::Rng& rng,
                                        const FileKeyOptions& options) {
  std::array<uint8_t, 32> seed{};
  rng.Fill(seed);
  util::Result<btc::ExtendedKey> master = btc::ExtendedKey::FromSeed(ctx, seed, options.network);
  crypto::Wipe(seed);
  if (!master.ok()) return master.status();
  util::Result<btc::ExtendedKey> account = master->DerivePath(ctx, options.account_path);
  if (!account.ok()) return account.status();
  btc::KeyOrigin origin{.fingerprint = master->Fingerprint(), .path = options.account_path};
  btc::ExtendedKey xpub = account->Neuter();
  const std::string public_info = "[" + origin.ToString() + "]" + xpub.ToString();

  util::Result<crypto::Secp256k1KeyFile> file = crypto::Secp256k1KeyFile::Encrypt(
      ctx, *account->private_key(), options.label, public_info, passphrase, options.kdf, rng);
  if (!file.ok()) return file.status();
  if (util::Status status = WriteNewKeyFile(path, file->Serialize()); !status.ok()) return status;
  return FileKey(std::move(*account), std::move(xpub), std::move(origin));
}

util::Result<FileKey> FileKey::Open(const crypto::Secp256k1Context& ctx, const std::string& path,
                                    const crypto::SecretBytes& passphrase) {
  util::Result<std::vector<uint8_t>> bytes = ReadKeyFile(path);
  if (!bytes.ok()) return bytes.status();
  util::Result<crypto::Secp256k1KeyFile> file = crypto::Secp256k1KeyFile::Parse(*bytes);
  if (!file.ok()) {
    return util::Status(file.status().code(), Where(path) + ": " + file.status().message());
  }
  util::Result<PublicInfo> info = ParsePublicInfo(ctx, path, *file);
  if (!info.ok()) return info.status();
  util::Result<crypto::PrivateKey> key = file->Decrypt(ctx, passphrase);
  if (!key.ok()) {
    if (key.status().code() == util::StatusCode::kPermissionDenied) {
      return util::PermissionDeniedError(Where(path) + ": wrong passphrase or corrupted file");
    }
    return util::Status(key.status().code(), Where(path) + ": " + key.status().message());
  }
  util::Result<btc::ExtendedKey> extended = WithPrivateKey(ctx, info->xpub, *key);
  if (!extended.ok()) return extended.status();
  return FileKey(std::move(*extended), std::move(info->xpub), std::move(info->origin));
}

std::string FileKey::descriptor_key() const {
  return "[" + origin_.ToString() + "]" + xpub_.ToString();
}

util::Status FileKey::AddTo(btc::PsbtSigningKeys& keys) const {
  return keys.AddExtendedKey(key_.Clone(), origin_);
}

}  // namespace kinko::signerd
