#include "coordinator/offline_chain.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "util/fd_io.h"
#include "util/hex.h"

namespace kinko::coordinator {
namespace {

std::string Reason() { return std::string(strerror(errno)); }

// Closes `fd` when it goes out of scope. Not copyable, not movable.
class FdCloser final {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;
  ~FdCloser() {
    if (fd_ >= 0) close(fd_);
  }

 private:
  const int fd_;
};

}  // namespace

OfflineChain::OfflineChain(std::string export_dir) : export_dir_(std::move(export_dir)) {}

util::Result<std::unique_ptr<OfflineChain>> OfflineChain::Create(std::string export_dir) {
  if (export_dir.empty()) return util::InvalidArgumentError("offline backend: no export directory");
  while (export_dir.size() > 1 && export_dir.back() == '/') export_dir.pop_back();
  const std::string where = "offline backend: export directory '" + export_dir + "'";
  if (mkdir(export_dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return util::FailedPreconditionError(where + ": cannot create (" + Reason() + ")");
  }
  struct stat info {};
  if (stat(export_dir.c_str(), &info) != 0) {
    return util::FailedPreconditionError(where + ": " + Reason());
  }
  if (!S_ISDIR(info.st_mode)) {
    return util::FailedPreconditionError(where + ": not a directory");
  }
  return std::unique_ptr<OfflineChain>(new OfflineChain(std::move(export_dir)));
}

std::string OfflineChain::ExportPath(const btc::Txid& txid) const {
  return export_dir_ + "/" + btc::TxidToHex(txid) + ".hex";
}

util::Status OfflineChain::Watch(const ChainWallet& /*wallet*/) { return util::OkStatus(); }

util::Result<std::vector<ChainUtxo>> OfflineChain::ListUnspent(const ChainWallet& /*wallet*/,
                                                               uint32_t /*min_confirmations*/) {
  return util::FailedPreconditionError("offline backend: coins are imported (kinko utxo import)");
}

util::Result<std::vector<uint8_t>> OfflineChain::GetRawTransaction(const btc::Txid& txid) {
  return util::NotFoundError("offline backend: transaction " + btc::TxidToHex(txid) +
                             " is not known (import it with kinko utxo import)");
}

util::Result<uint64_t> OfflineChain::EstimateFeeRate(uint32_t /*target_blocks*/) {
  return util::NotFoundError("offline backend: no fee estimates");
}

util::Status OfflineChain::TestAccept(std::span<const uint8_t> /*raw_tx*/) {
  return util::OkStatus();
}

util::Result<btc::Txid> OfflineChain::Broadcast(std::span<const uint8_t> raw_tx) {
  util::Result<btc::Transaction> tx = btc::Transaction::Parse(raw_tx);
  if (!tx.ok()) return tx.status().WithPrefix("offline backend: transaction");
  const btc::Txid txid = tx->ComputeTxid();
  const std::string path = ExportPath(txid);
  const std::string where = "offline backend: '" + path + "'";
  const std::string text = util::HexEncode(raw_tx) + "\n";

  // A hidden temporary name, so that "*.hex" never matches a partial file.
  std::string temp = export_dir_ + "/." + btc::TxidToHex(txid) + ".hex.XXXXXX";
  const int fd = mkostemp(temp.data(), O_CLOEXEC);
  if (fd < 0)
    return util::UnavailableError(where + ": cannot create a temporary file (" + Reason() + ")");
  util::Status written = util::WriteAllAndSync(
      fd, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
  if (close(fd) != 0 && written.ok()) {
    written = util::UnavailableError("close failed (" + Reason() + ")");
  }
  if (!written.ok()) {
    unlink(temp.c_str());
    return written.WithPrefix(where);
  }
  if (rename(temp.c_str(), path.c_str()) != 0) {
    const std::string reason = Reason();
    unlink(temp.c_str());
    return util::UnavailableError(where + ": rename failed (" + reason + ")");
  }
  // The rename is durable once the directory is.
  const int dir_fd = open(export_dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) {
    return util::UnavailableError(where + ": cannot open the directory (" + Reason() + ")");
  }
  FdCloser closer(dir_fd);
  if (fsync(dir_fd) != 0) {
    return util::UnavailableError(where + ": directory fsync failed (" + Reason() + ")");
  }
  return txid;
}

util::Result<TxStatus> OfflineChain::GetTxStatus(const ChainWallet& /*wallet*/,
                                                 const btc::Txid& txid) {
  const std::string path = ExportPath(txid);
  struct stat info {};
  if (stat(path.c_str(), &info) == 0) {
    return TxStatus{.known = true, .confirmations = 0, .block_height = std::nullopt};
  }
  if (errno == ENOENT) return TxStatus{};
  return util::UnavailableError("offline backend: '" + path + "': " + Reason());
}

}  // namespace kinko::coordinator
