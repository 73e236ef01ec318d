#include "coordinator/offline_chain.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "btc/transaction.h"
#include "util/hex.h"
#include "util/status.h"

namespace kinko::coordinator {
namespace {

using util::StatusCode;

// A fresh scratch directory, removed at the end of the test.
class OfflineChainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string dir = (std::filesystem::temp_directory_path() / "kinko-offline-XXXXXX").string();
    ASSERT_NE(mkdtemp(dir.data()), nullptr);
    scratch_ = dir;
  }
  void TearDown() override { std::filesystem::remove_all(scratch_); }

  std::unique_ptr<OfflineChain> Chain() {
    util::Result<std::unique_ptr<OfflineChain>> chain = OfflineChain::Create(scratch_ + "/out");
    EXPECT_TRUE(chain.ok()) << chain.status();
    return std::move(chain).value();
  }

  // The names of the files in `dir`.
  static std::vector<std::string> Files(const std::string& dir) {
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      names.push_back(entry.path().filename().string());
    }
    return names;
  }

  static std::string Read(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  }

  std::string scratch_;
};

// A segwit transaction: one input with a witness, two outputs.
btc::Transaction SampleTransaction(uint8_t seed) {
  btc::Transaction tx;
  tx.version = 2;
  tx.inputs.resize(1);
  tx.inputs[0].prevout = {btc::Txid(std::array<uint8_t, 32>{seed}), 1};
  tx.inputs[0].witness = {{0x30, 0x44, seed}, {0x02, seed}};
  tx.outputs.push_back({50'000, btc::Script(std::vector<uint8_t>{0x00, 0x14, seed})});
  tx.outputs.push_back({7'000, btc::Script(std::vector<uint8_t>{0x51})});
  return tx;
}

const ChainWallet kWallet{.wallet_id = "cold", .descriptor = "wsh(...)", .range = 10};

TEST_F(OfflineChainTest, CreateMakesTheDirectoryPrivate) {
  std::unique_ptr<OfflineChain> chain = Chain();
  struct stat info {};
  ASSERT_EQ(stat(chain->export_dir().c_str(), &info), 0);
  EXPECT_TRUE(S_ISDIR(info.st_mode));
  EXPECT_EQ(info.st_mode & 0777, 0700u);
  EXPECT_EQ(chain->name(), "offline");
}

TEST_F(OfflineChainTest, CreateAcceptsAnExistingDirectory) {
  ASSERT_TRUE(OfflineChain::Create(scratch_).ok());
  ASSERT_TRUE(OfflineChain::Create(scratch_ + "/").ok());
}

TEST_F(OfflineChainTest, CreateRefusesWhatIsNotAUsableDirectory) {
  std::ofstream(scratch_ + "/file") << "x";
  struct Case {
    std::string dir;
    StatusCode code;
  };
  const std::vector<Case> cases = {
      {"", StatusCode::kInvalidArgument},
      {scratch_ + "/file", StatusCode::kFailedPrecondition},
      {scratch_ + "/missing/out", StatusCode::kFailedPrecondition},
  };
  for (const Case& c : cases) {
    util::Result<std::unique_ptr<OfflineChain>> chain = OfflineChain::Create(c.dir);
    ASSERT_FALSE(chain.ok()) << c.dir;
    EXPECT_EQ(chain.status().code(), c.code) << c.dir << ": " << chain.status();
  }
}

TEST_F(OfflineChainTest, BroadcastWritesTheHexFileNamedByTxid) {
  std::unique_ptr<OfflineChain> chain = Chain();
  const btc::Transaction tx = SampleTransaction(1);
  const std::vector<uint8_t> raw = tx.Serialize();
  util::Result<btc::Txid> txid = chain->Broadcast(raw);
  ASSERT_TRUE(txid.ok()) << txid.status();
  EXPECT_EQ(*txid, tx.ComputeTxid());
  const std::string name = btc::TxidToHex(tx.ComputeTxid()) + ".hex";
  EXPECT_EQ(chain->ExportPath(*txid), chain->export_dir() + "/" + name);
  EXPECT_EQ(Files(chain->export_dir()), std::vector<std::string>{name});
  EXPECT_EQ(Read(chain->export_dir() + "/" + name), util::HexEncode(raw) + "\n");
}

TEST_F(OfflineChainTest, BroadcastIsIdempotent) {
  std::unique_ptr<OfflineChain> chain = Chain();
  const std::vector<uint8_t> raw = SampleTransaction(2).Serialize();
  util::Result<btc::Txid> first = chain->Broadcast(raw);
  util::Result<btc::Txid> second = chain->Broadcast(raw);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(*first, *second);
  ASSERT_EQ(Files(chain->export_dir()).size(), 1u);
  EXPECT_EQ(Read(chain->ExportPath(*first)), util::HexEncode(raw) + "\n");
}

TEST_F(OfflineChainTest, TwoTransactionsTwoFiles) {
  std::unique_ptr<OfflineChain> chain = Chain();
  ASSERT_TRUE(chain->Broadcast(SampleTransaction(3).Serialize()).ok());
  ASSERT_TRUE(chain->Broadcast(SampleTransaction(4).Serialize()).ok());
  EXPECT_EQ(Files(chain->export_dir()).size(), 2u);
}

TEST_F(OfflineChainTest, BroadcastRefusesBytesThatAreNotATransaction) {
  std::unique_ptr<OfflineChain> chain = Chain();
  std::vector<uint8_t> raw = SampleTransaction(5).Serialize();
  raw.push_back(0x00);  // Trailing byte.
  util::Result<btc::Txid> txid = chain->Broadcast(raw);
  ASSERT_FALSE(txid.ok());
  EXPECT_EQ(txid.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Files(chain->export_dir()).empty());
}

TEST_F(OfflineChainTest, BroadcastIntoAVanishedDirectoryIsUnavailable) {
  std::unique_ptr<OfflineChain> chain = Chain();
  std::filesystem::remove_all(chain->export_dir());
  util::Result<btc::Txid> txid = chain->Broadcast(SampleTransaction(6).Serialize());
  ASSERT_FALSE(txid.ok());
  EXPECT_EQ(txid.status().code(), StatusCode::kUnavailable) << txid.status();
}

TEST_F(OfflineChainTest, TxStatusIsKnownOnceExported) {
  std::unique_ptr<OfflineChain> chain = Chain();
  const btc::Transaction tx = SampleTransaction(7);
  util::Result<TxStatus> before = chain->GetTxStatus(kWallet, tx.ComputeTxid());
  ASSERT_TRUE(before.ok()) << before.status();
  EXPECT_FALSE(before->known);
  ASSERT_TRUE(chain->Broadcast(tx.Serialize()).ok());
  util::Result<TxStatus> after = chain->GetTxStatus(kWallet, tx.ComputeTxid());
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_TRUE(after->known);
  EXPECT_EQ(after->confirmations, 0u);
  EXPECT_FALSE(after->block_height.has_value());
}

TEST_F(OfflineChainTest, HasNoViewOfTheChain) {
  std::unique_ptr<OfflineChain> chain = Chain();
  EXPECT_TRUE(chain->Watch(kWallet).ok());
  util::Result<std::vector<ChainUtxo>> utxos = chain->ListUnspent(kWallet, 0);
  ASSERT_FALSE(utxos.ok());
  EXPECT_EQ(utxos.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(utxos.status().message(), "offline backend: coins are imported (kinko utxo import)");
  EXPECT_EQ(chain->GetRawTransaction(SampleTransaction(8).ComputeTxid()).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(chain->EstimateFeeRate(6).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(chain->TestAccept(SampleTransaction(8).Serialize()).ok());
}

}  // namespace
}  // namespace kinko::coordinator
