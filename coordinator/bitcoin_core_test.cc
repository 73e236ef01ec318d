// BitcoinCoreChain against a real Bitcoin Core regtest node (test/support/bitcoind.h; skipped
// with a message when $BITCOIND is not set and there is no bitcoind on PATH), and its
// configuration and error mapping without a node (a stand-in HTTP server).
#include "coordinator/bitcoin_core.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "btc/address.h"
#include "btc/descriptor.h"
#include "btc/psbt_roles.h"
#include "btc/transaction.h"
#include "net/http.h"
#include "net/http_server.h"
#include "test/support/bitcoind.h"
#include "test/support/signer_fixture.h"
#include "util/hex.h"
#include "util/status.h"

namespace kinko::coordinator {
namespace {

using ::kinko::testing::BitcoindNode;
using ::kinko::testing::BitcoindOptions;
using ::kinko::testing::kBitcoindSkip;
using ::kinko::testing::TestContext;
using util::StatusCode;

constexpr char kRpcUser[] = "kinko";
constexpr char kRpcPassword[] = "correct-horse-battery-staple";

std::string WriteTempFile(const std::string& name, const std::string& text) {
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("kinko-chain-test-" + std::to_string(getpid()) + "-" + name))
                               .string();
  std::ofstream(path) << text;
  return path;
}

// The receive (0) or change (1) script of the fixture wallet at `index`.
btc::Script WalletScript(const std::string& descriptor, size_t branch, uint32_t index) {
  const crypto::Secp256k1Context& ctx = TestContext();
  const btc::Descriptor parsed =
      btc::Descriptor::Parse(ctx, descriptor, btc::Network::kRegtest).value();
  return parsed.SplitMultipath().at(branch).Expand(ctx, index).value().script_pubkey;
}

std::string Address(const btc::Script& script) {
  return btc::EncodeAddress(script, btc::Network::kRegtest).value();
}

btc::Txid Txid(const std::string& hex) { return btc::TxidFromHex(hex).value(); }

BitcoinCoreOptions CookieOptions(const std::string& url, const std::string& cookie_file) {
  BitcoinCoreOptions options;
  options.rpc_url = url;
  options.cookie_file = cookie_file;
  return options;
}

BitcoinCoreOptions PasswordOptions(const std::string& url, const std::string& password_file) {
  BitcoinCoreOptions options;
  options.rpc_url = url;
  options.rpc_user = kRpcUser;
  options.password_file = password_file;
  return options;
}

// A node that also accepts kRpcUser with kRpcPassword.
BitcoindOptions NodeOptions() {
  BitcoindOptions options;
  options.rpc_users = {{kRpcUser, kRpcPassword}};
  return options;
}

// One regtest node with a funded miner wallet for the whole suite (started on first use);
// tests use distinct wallet ids so that they do not see each other's coins.
class BitcoinCoreNodeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    util::Result<std::unique_ptr<BitcoindNode>> node = BitcoindNode::Start(NodeOptions());
    start_status_ = new util::Status(node.status());
    if (!node.ok()) return;
    util::Status miner = (*node)->CreateMiner();
    if (!miner.ok()) {
      *start_status_ = miner;
      return;
    }
    node_ = std::move(*node).release();
  }
  static void TearDownTestSuite() {
    delete node_;
    node_ = nullptr;
    delete start_status_;
    start_status_ = nullptr;
  }

  void SetUp() override {
    if (start_status_->code() == StatusCode::kNotFound) GTEST_SKIP() << kBitcoindSkip;
    ASSERT_TRUE(start_status_->ok()) << *start_status_;
  }

  BitcoindNode& node() { return *node_; }

  std::unique_ptr<BitcoinCoreChain> CookieChain() {
    return BitcoinCoreChain::Create(CookieOptions(node_->rpc_url(), node_->cookie_file())).value();
  }

  std::unique_ptr<BitcoinCoreChain> PasswordChain(const std::string& password) {
    return BitcoinCoreChain::Create(
               PasswordOptions(node_->rpc_url(), WriteTempFile("password", password + "\n")))
        .value();
  }

  // The fixture's wallet (whose keys sign), for the one test that funds it.
  static ChainWallet FixtureWallet(const std::string& id) {
    return ChainWallet{.wallet_id = id,
                       .descriptor = testing::MakeTestWallet(TestContext()).descriptor,
                       .range = 20};
  }

  // A 2-of-3 wallet of its own for each test (keys from seeds `seed`, `seed` + 1, `seed` + 2),
  // so that tests sharing the node do not see each other's coins.
  static ChainWallet OwnWallet(const std::string& id, uint8_t seed) {
    const crypto::Secp256k1Context& ctx = TestContext();
    std::string keys;
    for (uint8_t i = 0; i < 3; ++i) {
      const std::vector<uint8_t> bytes(32, static_cast<uint8_t>(seed + i));
      const btc::ExtendedKey master =
          btc::ExtendedKey::FromSeed(ctx, bytes, btc::Network::kRegtest).value();
      if (!keys.empty()) keys += ",";
      keys += master.Neuter().ToString() + "/<0;1>/*";
    }
    return ChainWallet{.wallet_id = id, .descriptor = "wsh(multi(2," + keys + "))", .range = 20};
  }

  static inline BitcoindNode* node_ = nullptr;
  static inline util::Status* start_status_ = nullptr;
};

// The whole life of two coins: watched, funded, seen unconfirmed then confirmed, their
// previous transaction fetched, spent by a 2-of-3 transaction the fixture signs, which is
// test-accepted, broadcast (twice), tracked to its confirmation, and leaves no coin behind.
TEST_F(BitcoinCoreNodeTest, WatchFundSpendAndConfirm) {
  const crypto::Secp256k1Context& ctx = TestContext();
  const testing::TestWallet wallet = testing::MakeTestWallet(ctx);
  const ChainWallet watched = FixtureWallet("flow");
  std::unique_ptr<BitcoinCoreChain> chain = CookieChain();
  ASSERT_TRUE(chain->Watch(watched).ok());

  const btc::Script script0 = WalletScript(wallet.descriptor, 0, 0);
  const btc::Script script1 = WalletScript(wallet.descriptor, 0, 1);
  util::Result<std::string> funding0 = node().Fund(Address(script0), 100'000'000);
  ASSERT_TRUE(funding0.ok()) << funding0.status();
  util::Result<std::string> funding1 = node().Fund(Address(script1), 50'000'000);
  ASSERT_TRUE(funding1.ok()) << funding1.status();

  // In the mempool: seen with 0 confirmations, not at minconf 1.
  util::Result<std::vector<ChainUtxo>> pending = chain->ListUnspent(watched, 0);
  ASSERT_TRUE(pending.ok()) << pending.status();
  ASSERT_EQ(pending->size(), 2u);
  util::Result<std::vector<ChainUtxo>> none_confirmed = chain->ListUnspent(watched, 1);
  ASSERT_TRUE(none_confirmed.ok()) << none_confirmed.status();
  EXPECT_TRUE(none_confirmed->empty());

  ASSERT_TRUE(node().Mine(1).ok());
  util::Result<std::vector<ChainUtxo>> confirmed = chain->ListUnspent(watched, 1);
  ASSERT_TRUE(confirmed.ok()) << confirmed.status();
  ASSERT_EQ(confirmed->size(), 2u);
  std::vector<btc::Transaction> previous;
  std::vector<btc::Outpoint> outpoints;
  for (const auto& [txid_hex, script, sats] :
       {std::tuple{*funding0, script0, int64_t{100'000'000}},
        std::tuple{*funding1, script1, int64_t{50'000'000}}}) {
    const auto coin = std::find_if(confirmed->begin(), confirmed->end(), [&](const ChainUtxo& u) {
      return u.outpoint.txid == Txid(txid_hex);
    });
    ASSERT_NE(coin, confirmed->end()) << txid_hex;
    EXPECT_EQ(coin->sats, sats);
    EXPECT_EQ(coin->script_pubkey, script.bytes());
    EXPECT_EQ(coin->confirmations, 1u);

    // Confirmed, and the node has no -txindex: found through the watch-only wallet.
    util::Result<std::vector<uint8_t>> raw = chain->GetRawTransaction(Txid(txid_hex));
    ASSERT_TRUE(raw.ok()) << raw.status();
    btc::Transaction tx = btc::Transaction::Parse(*raw).value();
    EXPECT_EQ(tx.ComputeTxid(), Txid(txid_hex));
    ASSERT_LT(coin->outpoint.index, tx.outputs.size());
    EXPECT_EQ(tx.outputs[coin->outpoint.index].script_pubkey, script);
    EXPECT_EQ(tx.outputs[coin->outpoint.index].value, sats);
    outpoints.push_back(coin->outpoint);
    previous.push_back(std::move(tx));
  }

  // A 2-of-3 spend of both coins back to the miner, signed by keys 0 and 1.
  util::Result<std::string> destination = node().NewMinerAddress();
  ASSERT_TRUE(destination.ok()) << destination.status();
  btc::Transaction unsigned_tx;
  unsigned_tx.version = 2;
  for (const btc::Outpoint& outpoint : outpoints) {
    btc::TxIn in;
    in.prevout = outpoint;
    in.sequence = 0xfffffffd;
    unsigned_tx.inputs.push_back(in);
  }
  unsigned_tx.outputs.push_back(
      {149'990'000,
       btc::DecodeAddress(*destination, btc::Network::kRegtest).value().script_pubkey});
  const btc::Descriptor descriptor =
      btc::Descriptor::Parse(ctx, wallet.descriptor, btc::Network::kRegtest).value();
  btc::Psbt psbt =
      btc::UpdatePsbtWithDescriptor(ctx, btc::CreatePsbt(std::move(unsigned_tx)).value(),
                                    descriptor, previous, {.range = 2})
          .value();
  util::Result<btc::Psbt> signed0 = testing::SignWithWalletKey(ctx, std::move(psbt), wallet, 0);
  ASSERT_TRUE(signed0.ok()) << signed0.status();
  util::Result<btc::Psbt> signed1 = testing::SignWithWalletKey(ctx, std::move(*signed0), wallet, 1);
  ASSERT_TRUE(signed1.ok()) << signed1.status();
  util::Result<btc::Transaction> spend = testing::FinalizeAndVerify(ctx, std::move(*signed1));
  ASSERT_TRUE(spend.ok()) << spend.status();
  const std::vector<uint8_t> raw_spend = spend->Serialize();
  const btc::Txid spend_txid = spend->ComputeTxid();

  util::Result<TxStatus> before = chain->GetTxStatus(watched, spend_txid);
  ASSERT_TRUE(before.ok()) << before.status();
  EXPECT_FALSE(before->known);
  EXPECT_TRUE(chain->TestAccept(raw_spend).ok());

  util::Result<btc::Txid> sent = chain->Broadcast(raw_spend);
  ASSERT_TRUE(sent.ok()) << sent.status();
  EXPECT_EQ(*sent, spend_txid);
  util::Result<btc::Txid> again = chain->Broadcast(raw_spend);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(*again, spend_txid);

  util::Result<TxStatus> in_mempool = chain->GetTxStatus(watched, spend_txid);
  ASSERT_TRUE(in_mempool.ok()) << in_mempool.status();
  EXPECT_TRUE(in_mempool->known);
  EXPECT_EQ(in_mempool->confirmations, 0u);
  EXPECT_FALSE(in_mempool->block_height.has_value());
  util::Result<std::vector<uint8_t>> from_mempool = chain->GetRawTransaction(spend_txid);
  ASSERT_TRUE(from_mempool.ok()) << from_mempool.status();
  EXPECT_EQ(*from_mempool, raw_spend);

  ASSERT_TRUE(node().Mine(1).ok());
  util::Result<nlohmann::json> height = node().Rpc("getblockcount");
  ASSERT_TRUE(height.ok()) << height.status();
  util::Result<TxStatus> mined = chain->GetTxStatus(watched, spend_txid);
  ASSERT_TRUE(mined.ok()) << mined.status();
  EXPECT_TRUE(mined->known);
  EXPECT_EQ(mined->confirmations, 1u);
  EXPECT_EQ(mined->block_height, height->get<uint32_t>());

  // In a block: broadcasting again is still OK, and the coins are gone.
  util::Result<btc::Txid> after_block = chain->Broadcast(raw_spend);
  ASSERT_TRUE(after_block.ok()) << after_block.status();
  EXPECT_EQ(*after_block, spend_txid);
  util::Result<std::vector<ChainUtxo>> left = chain->ListUnspent(watched, 0);
  ASSERT_TRUE(left.ok()) << left.status();
  EXPECT_TRUE(left->empty());
}

TEST_F(BitcoinCoreNodeTest, ChangeBranchCoinsAreListed) {
  const ChainWallet watched = OwnWallet("change", 0x10);
  std::unique_ptr<BitcoinCoreChain> chain = CookieChain();
  ASSERT_TRUE(chain->Watch(watched).ok());
  const btc::Script change5 = WalletScript(watched.descriptor, 1, 5);
  ASSERT_TRUE(node().Fund(Address(change5), 12'345'678).ok());
  util::Result<std::vector<ChainUtxo>> utxos = chain->ListUnspent(watched, 0);
  ASSERT_TRUE(utxos.ok()) << utxos.status();
  ASSERT_EQ(utxos->size(), 1u);
  EXPECT_EQ((*utxos)[0].script_pubkey, change5.bytes());
  EXPECT_EQ((*utxos)[0].sats, 12'345'678);
}

TEST_F(BitcoinCoreNodeTest, CoinsBeyondTheRangeAreNotSeen) {
  const ChainWallet watched = OwnWallet("range", 0x13);  // Indexes 0..19.
  std::unique_ptr<BitcoinCoreChain> chain = CookieChain();
  ASSERT_TRUE(chain->Watch(watched).ok());
  ASSERT_TRUE(node().Fund(Address(WalletScript(watched.descriptor, 0, 25)), 1'000'000).ok());
  util::Result<std::vector<ChainUtxo>> utxos = chain->ListUnspent(watched, 0);
  ASSERT_TRUE(utxos.ok()) << utxos.status();
  EXPECT_TRUE(utxos->empty());
}

TEST_F(BitcoinCoreNodeTest, WatchIsIdempotentAcrossBackends) {
  const ChainWallet watched = OwnWallet("twice", 0x16);
  std::unique_ptr<BitcoinCoreChain> first = CookieChain();
  ASSERT_TRUE(first->Watch(watched).ok());
  ASSERT_TRUE(first->Watch(watched).ok());
  // Another backend (another kinkod) finds the wallet loaded already.
  std::unique_ptr<BitcoinCoreChain> second = CookieChain();
  util::Status again = second->Watch(watched);
  EXPECT_TRUE(again.ok()) << again;
  util::Result<nlohmann::json> info =
      node().Rpc("getwalletinfo", nlohmann::json::array(), BitcoinCoreChain::WalletName("twice"));
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_FALSE((*info)["private_keys_enabled"].get<bool>());
  util::Result<nlohmann::json> descriptors =
      node().Rpc("listdescriptors", nlohmann::json::array(), BitcoinCoreChain::WalletName("twice"));
  ASSERT_TRUE(descriptors.ok()) << descriptors.status();
  ASSERT_EQ((*descriptors)["descriptors"].size(), 2u);
}

TEST_F(BitcoinCoreNodeTest, UnloadedWalletIsLoadedAgain) {
  const ChainWallet watched = OwnWallet("unloaded", 0x19);
  std::unique_ptr<BitcoinCoreChain> chain = CookieChain();
  ASSERT_TRUE(chain->Watch(watched).ok());
  ASSERT_TRUE(node().Fund(Address(WalletScript(watched.descriptor, 0, 3)), 2'000'000).ok());
  ASSERT_TRUE(node().Rpc("unloadwallet", {BitcoinCoreChain::WalletName("unloaded")}).ok());
  util::Result<std::vector<ChainUtxo>> utxos = chain->ListUnspent(watched, 0);
  ASSERT_TRUE(utxos.ok()) << utxos.status();
  EXPECT_EQ(utxos->size(), 1u);
}

TEST_F(BitcoinCoreNodeTest, ListUnspentOfAWalletNeverWatchedIsFailedPrecondition) {
  util::Result<std::vector<ChainUtxo>> utxos =
      CookieChain()->ListUnspent(OwnWallet("never-watched", 0x1c), 0);
  ASSERT_FALSE(utxos.ok());
  EXPECT_EQ(utxos.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(utxos.status().message().find("kinko-never-watched"), std::string::npos);
}

TEST_F(BitcoinCoreNodeTest, WalletNameTakenByAWalletWithKeysIsRefused) {
  ASSERT_TRUE(node().Rpc("createwallet", {BitcoinCoreChain::WalletName("taken")}).ok());
  util::Status watched = CookieChain()->Watch(OwnWallet("taken", 0x1f));
  EXPECT_EQ(watched.code(), StatusCode::kFailedPrecondition) << watched;
  EXPECT_NE(watched.message().find("not a watch-only descriptor wallet"), std::string::npos);
}

TEST_F(BitcoinCoreNodeTest, DescriptorTheNodeRefusesIsInvalidArgument) {
  ChainWallet wallet = OwnWallet("refused", 0x22);
  wallet.descriptor = "wsh(multi(2,tpubNOTAKEY/<0;1>/*,tpubNOTAKEYEITHER/<0;1>/*))";
  util::Status watched = CookieChain()->Watch(wallet);
  EXPECT_EQ(watched.code(), StatusCode::kInvalidArgument) << watched;
  EXPECT_NE(watched.message().find("getdescriptorinfo"), std::string::npos) << watched;
}

TEST_F(BitcoinCoreNodeTest, WatchOfRangeZeroIsInvalidArgument) {
  ChainWallet wallet = OwnWallet("zero", 0x25);
  wallet.range = 0;
  EXPECT_EQ(CookieChain()->Watch(wallet).code(), StatusCode::kInvalidArgument);
}

TEST_F(BitcoinCoreNodeTest, EstimateFeeRateOnAFreshNodeIsNotFound) {
  util::Result<uint64_t> rate = CookieChain()->EstimateFeeRate(6);
  ASSERT_FALSE(rate.ok());
  EXPECT_EQ(rate.status().code(), StatusCode::kNotFound) << rate.status();
}

TEST_F(BitcoinCoreNodeTest, EstimateFeeRateForTargetZeroIsInvalidArgument) {
  util::Result<uint64_t> rate = CookieChain()->EstimateFeeRate(0);
  ASSERT_FALSE(rate.ok());
  EXPECT_EQ(rate.status().code(), StatusCode::kInvalidArgument) << rate.status();
}

// A well-formed transaction spending an output that does not exist.
btc::Transaction SpendOfMissingCoin() {
  btc::Transaction tx;
  tx.inputs.resize(1);
  tx.inputs[0].prevout = {Txid(std::string(64, '7')), 0};
  tx.outputs.push_back(
      {10'000, WalletScript(testing::MakeTestWallet(TestContext()).descriptor, 0, 0)});
  return tx;
}

TEST_F(BitcoinCoreNodeTest, TestAcceptOfAnInvalidTransactionGivesTheRejectReason) {
  util::Status accepted = CookieChain()->TestAccept(SpendOfMissingCoin().Serialize());
  EXPECT_EQ(accepted.code(), StatusCode::kFailedPrecondition) << accepted;
  EXPECT_NE(accepted.message().find("missing-inputs"), std::string::npos) << accepted;
}

TEST_F(BitcoinCoreNodeTest, BroadcastOfAnInvalidTransactionIsFailedPrecondition) {
  util::Result<btc::Txid> sent = CookieChain()->Broadcast(SpendOfMissingCoin().Serialize());
  ASSERT_FALSE(sent.ok());
  EXPECT_EQ(sent.status().code(), StatusCode::kFailedPrecondition) << sent.status();
}

TEST_F(BitcoinCoreNodeTest, BytesThatAreNotATransactionAreRefusedBeforeTheNode) {
  const std::vector<uint8_t> garbage = {0x01, 0x02, 0x03};
  std::unique_ptr<BitcoinCoreChain> chain = CookieChain();
  EXPECT_EQ(chain->TestAccept(garbage).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(chain->Broadcast(garbage).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(BitcoinCoreNodeTest, UnknownTransactionIsNotFoundAndNotKnown) {
  const ChainWallet watched = OwnWallet("unknown-tx", 0x28);
  std::unique_ptr<BitcoinCoreChain> chain = CookieChain();
  ASSERT_TRUE(chain->Watch(watched).ok());
  const btc::Txid unknown = Txid(std::string(64, 'a'));
  EXPECT_EQ(chain->GetRawTransaction(unknown).status().code(), StatusCode::kNotFound);
  util::Result<TxStatus> status = chain->GetTxStatus(watched, unknown);
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_FALSE(status->known);
}

TEST_F(BitcoinCoreNodeTest, MinerTransactionBroadcastByAnotherNodeWalletIsKnown) {
  // A transaction the node has already (the miner wallet sent it): broadcasting it is OK.
  util::Result<std::string> txid = node().Fund(node().NewMinerAddress().value(), 1'000'000);
  ASSERT_TRUE(txid.ok()) << txid.status();
  std::unique_ptr<BitcoinCoreChain> chain = CookieChain();
  util::Result<std::vector<uint8_t>> raw = chain->GetRawTransaction(Txid(*txid));
  ASSERT_TRUE(raw.ok()) << raw.status();
  util::Result<btc::Txid> sent = chain->Broadcast(*raw);
  ASSERT_TRUE(sent.ok()) << sent.status();
  EXPECT_EQ(*sent, Txid(*txid));
}

TEST_F(BitcoinCoreNodeTest, UserAndPasswordAuthenticate) {
  std::unique_ptr<BitcoinCoreChain> chain = PasswordChain(kRpcPassword);
  util::Status watched = chain->Watch(OwnWallet("password", 0x2b));
  EXPECT_TRUE(watched.ok()) << watched;
}

TEST_F(BitcoinCoreNodeTest, WrongPasswordIsPermissionDeniedAndNotRepeated) {
  const std::string wrong = "wrong-password-9f3a";
  std::unique_ptr<BitcoinCoreChain> chain = PasswordChain(wrong);
  util::Status watched = chain->Watch(OwnWallet("wrong", 0x2e));
  EXPECT_EQ(watched.code(), StatusCode::kPermissionDenied) << watched;
  EXPECT_EQ(watched.message(), "bitcoin core: rpc authentication failed");
  util::Result<uint64_t> rate = chain->EstimateFeeRate(2);
  EXPECT_EQ(rate.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(rate.status().message().find(wrong), std::string::npos);
}

TEST_F(BitcoinCoreNodeTest, MissingCookieFileIsUnavailable) {
  std::unique_ptr<BitcoinCoreChain> chain =
      BitcoinCoreChain::Create(
          CookieOptions(node().rpc_url(), node().datadir() + "/no-such-cookie"))
          .value();
  util::Result<uint64_t> rate = chain->EstimateFeeRate(2);
  EXPECT_EQ(rate.status().code(), StatusCode::kUnavailable) << rate.status();
  EXPECT_NE(rate.status().message().find("no-such-cookie"), std::string::npos);
}

// Its own node, stopped under the backend.
TEST(BitcoinCoreStoppedNodeTest, EveryCallIsUnavailable) {
  util::Result<std::unique_ptr<BitcoindNode>> node = BitcoindNode::Start(NodeOptions());
  if (node.status().code() == StatusCode::kNotFound) GTEST_SKIP() << kBitcoindSkip;
  ASSERT_TRUE(node.ok()) << node.status();
  // bitcoind deletes its cookie when it stops: a password outlives it, so that what is seen
  // is the connection refused.
  std::unique_ptr<BitcoinCoreChain> chain =
      BitcoinCoreChain::Create(
          PasswordOptions((*node)->rpc_url(),
                          WriteTempFile("stopped-password", std::string(kRpcPassword))))
          .value();
  ASSERT_EQ(chain->EstimateFeeRate(2).status().code(), StatusCode::kNotFound);
  ASSERT_TRUE((*node)->Stop().ok());

  const ChainWallet wallet{.wallet_id = "stopped",
                           .descriptor = testing::MakeTestWallet(TestContext()).descriptor,
                           .range = 20};
  const btc::Txid txid = Txid(std::string(64, 'b'));
  EXPECT_EQ(chain->Watch(wallet).code(), StatusCode::kUnavailable);
  EXPECT_EQ(chain->ListUnspent(wallet, 0).status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(chain->GetRawTransaction(txid).status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(chain->EstimateFeeRate(2).status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(chain->TestAccept(SpendOfMissingCoin().Serialize()).code(), StatusCode::kUnavailable);
  EXPECT_EQ(chain->Broadcast(SpendOfMissingCoin().Serialize()).status().code(),
            StatusCode::kUnavailable);
  EXPECT_EQ(chain->GetTxStatus(wallet, txid).status().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace kinko::coordinator
