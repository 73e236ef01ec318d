// The JSON-RPC layer of BitcoinCoreChain without a node: request and reply parsing, exact
// amounts, descriptor branches, configuration checks, and the mapping of every kind of answer
// to a status (a stand-in HTTP server plays the node).
#include "coordinator/internal/json_rpc.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "btc/transaction.h"
#include "coordinator/bitcoin_core.h"
#include "net/http.h"
#include "net/http_server.h"
#include "util/hex.h"
#include "util/status.h"

namespace kinko::coordinator {
namespace {

using json_rpc::Json;
using util::StatusCode;

TEST(JsonRpcTest, BuildRequestIsJsonRpc2) {
  const Json request =
      Json::parse(json_rpc::BuildRequest("getblockcount", Json::array({1, "two"}), 7));
  EXPECT_EQ(request, Json::parse(R"({"jsonrpc":"2.0","id":7,"method":"getblockcount",
                                     "params":[1,"two"]})"));
}

TEST(JsonRpcTest, BuildRequestReplacesInvalidUtf8) {
  const std::string text = json_rpc::BuildRequest("m", Json::array({std::string("a\xff")}), 1);
  EXPECT_FALSE(Json::parse(text, nullptr, false).is_discarded());
}

TEST(JsonRpcTest, ParseReplyReadsBothVersions) {
  struct Case {
    std::string body;
    std::optional<int64_t> error_code;
  };
  const std::vector<Case> cases = {
      {R"({"result":5,"error":null,"id":3})", std::nullopt},
      {R"({"jsonrpc":"2.0","result":null,"id":3})", std::nullopt},
      {R"({"result":null,"error":{"code":-5,"message":"No such"},"id":3})", -5},
      {R"({"jsonrpc":"2.0","error":{"code":-32601,"message":"Method not found"},"id":3})", -32601},
  };
  for (const Case& c : cases) {
    util::Result<json_rpc::Reply> reply = json_rpc::ParseReply(c.body, 3);
    ASSERT_TRUE(reply.ok()) << c.body << ": " << reply.status();
    ASSERT_EQ(reply->error.has_value(), c.error_code.has_value()) << c.body;
    if (c.error_code) {
      EXPECT_EQ(reply->error->code, *c.error_code);
    }
  }
}

TEST(JsonRpcTest, ParseReplyRefusesWhatIsNotAReply) {
  const std::vector<std::string> bodies = {
      "",
      "not json",
      "[1]",
      R"({"result":1,"id":4})",                          // Another id.
      R"({"result":1})",                                 // No id.
      R"({"result":1,"id":"3"})",                        // Id of another type.
      R"({"id":3})",                                     // Neither result nor error.
      R"({"error":"bad","id":3})",                       // Error not an object.
      R"({"error":{"code":1.5,"message":"m"},"id":3})",  // Code not an integer.
      R"({"error":{"code":-1},"id":3})",                 // No message.
      R"({"result":1,"result":2,"id":3})",               // Repeated key.
      "\xef\xbb\xbf{\"result\":1,\"id\":3}",             // Byte order mark.
      std::string(100, '[') + std::string(100, ']'),     // Too deep.
      R"({"result":"\ud800","id":3})",                   // Lone surrogate.
      "{\"result\":\"\xff\",\"id\":3}",                  // Invalid UTF-8.
  };
  for (const std::string& body : bodies) {
    util::Result<json_rpc::Reply> reply = json_rpc::ParseReply(body, 3);
    ASSERT_FALSE(reply.ok()) << body;
    EXPECT_EQ(reply.status().code(), StatusCode::kInvalidArgument) << body;
  }
}

TEST(JsonRpcTest, ErrorMessagesArePrintableAndBounded) {
  const std::string body =
      R"({"error":{"code":-1,"message":"bad\u0007\n)" + std::string(1000, 'x') + R"("},"id":1})";
  util::Result<json_rpc::Reply> reply = json_rpc::ParseReply(body, 1);
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_TRUE(reply->error->message.starts_with("bad\\x07\\x0a"));
  EXPECT_LE(reply->error->message.size(), json_rpc::kMaxMessageSize);
  EXPECT_TRUE(reply->error->message.ends_with("..."));
}

TEST(JsonRpcTest, ParseBtcAmountIsExact) {
  struct Case {
    std::string text;
    int64_t sats;
  };
  const std::vector<Case> cases = {
      {"0.00012345", 12'345},
      {"0.1", 10'000'000},
      {"1", 100'000'000},
      {"0.00000001", 1},
      {"20999999.99999999", 2'099'999'999'999'999},
      {"21000000.00000000", 2'100'000'000'000'000},
      {"0.29999999", 29'999'999},  // Not a double's 0.29999998999999999.
      {"0", 0},
      {"0.0", 0},
  };
  for (const Case& c : cases) {
    util::Result<Json> value = json_rpc::ParseJson(c.text);
    ASSERT_TRUE(value.ok()) << c.text;
    util::Result<int64_t> sats = json_rpc::ParseBtcAmount(*value);
    ASSERT_TRUE(sats.ok()) << c.text << ": " << sats.status();
    EXPECT_EQ(*sats, c.sats) << c.text;
  }
}

TEST(JsonRpcTest, ParseBtcAmountRefusesWhatIsNotAnAmount) {
  const std::vector<std::string> texts = {
      "-0.1",        "-1",      "1e-5", "1.5E2", "0.000000001", "21000000.00000001",    "100000000",
      "123456789.0", "\"0.1\"", "true", "null",  "[0.1]",       "18446744073709551616",
  };
  for (const std::string& text : texts) {
    util::Result<Json> value = json_rpc::ParseJson(text);
    ASSERT_TRUE(value.ok()) << text;
    util::Result<int64_t> sats = json_rpc::ParseBtcAmount(*value);
    ASSERT_FALSE(sats.ok()) << text;
    EXPECT_EQ(sats.status().code(), StatusCode::kInvalidArgument) << text;
  }
}

TEST(JsonRpcTest, FormatBtcAmountRoundTrips) {
  for (const int64_t sats : {int64_t{0}, int64_t{1}, int64_t{99'999'999}, int64_t{100'000'000},
                             int64_t{2'100'000'000'000'000}}) {
    const std::string text = json_rpc::FormatBtcAmount(sats);
    EXPECT_EQ(text.size() - text.find('.'), 9u) << text;
    EXPECT_EQ(json_rpc::ParseBtcAmount(json_rpc::ParseJson(text).value()).value(), sats) << text;
  }
}

TEST(JsonRpcTest, DecimalsAreNotStrings) {
  const Json number = json_rpc::ParseJson("0.5").value();
  const Json string = json_rpc::ParseJson("\"0.5\"").value();
  EXPECT_EQ(json_rpc::DecimalText(number), "0.5");
  EXPECT_EQ(json_rpc::DecimalText(string), std::nullopt);
}

TEST(JsonRpcTest, IntMemberRange) {
  const Json object =
      json_rpc::ParseJson(R"({"a":-5,"b":9223372036854775807,"c":9223372036854775808,"d":1.0})")
          .value();
  EXPECT_EQ(json_rpc::IntMember(object, "a").value(), -5);
  EXPECT_EQ(json_rpc::IntMember(object, "b").value(), INT64_MAX);
  EXPECT_FALSE(json_rpc::IntMember(object, "c").ok());
  EXPECT_FALSE(json_rpc::IntMember(object, "d").ok());
  EXPECT_FALSE(json_rpc::IntMember(object, "e").ok());
}

TEST(BitcoinCoreBranchesTest, SplitBranches) {
  struct Case {
    std::string descriptor;
    std::string receive;
    std::string change;
  };
  const std::vector<Case> cases = {
      {"wpkh(tpubA/<0;1>/*)", "wpkh(tpubA/0/*)", "wpkh(tpubA/1/*)"},
      {"wsh(multi(2,[aa/48h]tpubA/<0;1>/*,tpubB/<0;1>/*))#abcdefgh",
       "wsh(multi(2,[aa/48h]tpubA/0/*,tpubB/0/*))", "wsh(multi(2,[aa/48h]tpubA/1/*,tpubB/1/*))"},
  };
  for (const Case& c : cases) {
    util::Result<std::pair<std::string, std::string>> split =
        BitcoinCoreChain::SplitBranches(c.descriptor);
    ASSERT_TRUE(split.ok()) << c.descriptor << ": " << split.status();
    EXPECT_EQ(split->first, c.receive);
    EXPECT_EQ(split->second, c.change);
  }
}

TEST(BitcoinCoreBranchesTest, SplitBranchesRefusesOtherForms) {
  for (const std::string descriptor : {
           "wpkh(tpubA/0/*)",          // No multipath group.
           "wpkh(tpubA/<1;0>/*)",      // Another order.
           "wpkh(tpubA/<0;1;2>/*)",    // Three branches.
           "wpkh(tpubA/<0;1>/*)#abc",  // Short checksum.
           "wpkh(tpubA/<0;1>/*)#abcdefgh#",
           "wpkh(tpubA/<0;1>/*",
       }) {
    util::Result<std::pair<std::string, std::string>> split =
        BitcoinCoreChain::SplitBranches(descriptor);
    if (descriptor == "wpkh(tpubA/<0;1>/*") {
      // Unbalanced text is the node's to refuse (getdescriptorinfo).
      EXPECT_TRUE(split.ok());
      continue;
    }
    ASSERT_FALSE(split.ok()) << descriptor;
    EXPECT_EQ(split.status().code(), StatusCode::kInvalidArgument) << descriptor;
  }
}

BitcoinCoreOptions ValidOptions() {
  BitcoinCoreOptions options;
  options.rpc_url = "http://127.0.0.1:18443";
  options.cookie_file = "/nonexistent/.cookie";  // Read at each call, not at Create.
  return options;
}

TEST(BitcoinCoreCreateTest, RefusesEachBadOption) {
  ASSERT_TRUE(BitcoinCoreChain::Create(ValidOptions()).ok());
  struct Case {
    std::string name;
    void (*change)(BitcoinCoreOptions&);
  };
  const std::vector<Case> cases = {
      {"url without scheme", [](BitcoinCoreOptions& o) { o.rpc_url = "127.0.0.1:18443"; }},
      {"url with path", [](BitcoinCoreOptions& o) { o.rpc_url = "http://127.0.0.1:1/x"; }},
      {"no auth", [](BitcoinCoreOptions& o) { o.cookie_file.clear(); }},
      {"both auths", [](BitcoinCoreOptions& o) { o.rpc_user = "u", o.password_file = "/p"; }},
      {"user without password file",
       [](BitcoinCoreOptions& o) { o.cookie_file.clear(), o.rpc_user = "u"; }},
      {"user with colon",
       [](BitcoinCoreOptions& o) {
         o.cookie_file.clear(), o.rpc_user = "u:v", o.password_file = "/p";
       }},
      {"zero timeout", [](BitcoinCoreOptions& o) { o.timeout_seconds = 0; }},
  };
  for (const Case& c : cases) {
    BitcoinCoreOptions options = ValidOptions();
    c.change(options);
    util::Result<std::unique_ptr<BitcoinCoreChain>> chain = BitcoinCoreChain::Create(options);
    ASSERT_FALSE(chain.ok()) << c.name;
    EXPECT_EQ(chain.status().code(), StatusCode::kInvalidArgument) << c.name;
  }
}

TEST(BitcoinCoreCreateTest, WalletName) {
  EXPECT_EQ(BitcoinCoreChain::WalletName("treasury-hot"), "kinko-treasury-hot");
}

// Plays the node: answers every request with `status` and `body`, where "ID" in the body is
// replaced by the request's id; remembers the last request's path, body and Authorization.
class StandInNode final : public net::HttpHandler {
 public:
  void Answer(int status, std::string body) {
    std::lock_guard<std::mutex> lock(mutex_);
    status_ = status;
    body_ = std::move(body);
  }

  net::HttpReply Handle(const net::HttpRequest& request) override {
    std::lock_guard<std::mutex> lock(mutex_);
    last_path_ = request.path;
    last_body_ = request.body;
    const auto auth = request.headers.find("authorization");
    last_authorization_ = auth == request.headers.end() ? "" : auth->second;
    const Json parsed = Json::parse(request.body, nullptr, false);
    const std::string id = parsed.is_object() && parsed.contains("id") ? parsed["id"].dump() : "0";
    std::string body = body_;
    const size_t at = body.find("ID");
    if (at != std::string::npos) body.replace(at, 2, id);
    return net::HttpReply{
        .status = status_, .content_type = "application/json", .body = body, .headers = {}};
  }
  size_t BodyLimit(std::string_view /*path*/) const override { return 1 << 20; }
  net::HttpReply ErrorReply(int status, std::string_view /*code*/,
                            std::string message) const override {
    return net::HttpReply{
        .status = status, .content_type = "text/plain", .body = message, .headers = {}};
  }
  void CountRequest(const std::string& /*path*/, int /*status*/) override {}
  const std::vector<std::string>& RequestHeaders() const override {
    static const std::vector<std::string> kHeaders = {"authorization"};
    return kHeaders;
  }

  std::string last_path() {
    std::lock_guard<std::mutex> lock(mutex_);
    return last_path_;
  }
  std::string last_body() {
    std::lock_guard<std::mutex> lock(mutex_);
    return last_body_;
  }
  std::string last_authorization() {
    std::lock_guard<std::mutex> lock(mutex_);
    return last_authorization_;
  }

 private:
  std::mutex mutex_;
  int status_ = 200;
  std::string body_;
  std::string last_path_;
  std::string last_body_;
  std::string last_authorization_;
};

class BitcoinCoreStandInTest : public ::testing::Test {
 protected:
  void SetUp() override {
    util::Result<std::unique_ptr<net::HttpServer>> server =
        net::HttpServer::Create(node_, net::HttpServerOptions{});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    thread_ = std::thread([this] { (void)server_->Run(); });
    cookie_ = (std::filesystem::temp_directory_path() /
               ("kinko-standin-cookie-" + std::to_string(getpid())))
                  .string();
    std::ofstream(cookie_) << "__cookie__:s3cret";
    BitcoinCoreOptions options;
    options.rpc_url = "http://127.0.0.1:" + std::to_string(server_->port());
    options.cookie_file = cookie_;
    options.timeout_seconds = 10;
    chain_ = BitcoinCoreChain::Create(options).value();
  }
  void TearDown() override {
    if (server_) server_->Stop();
    if (thread_.joinable()) thread_.join();
    std::filesystem::remove(cookie_);
  }

  StandInNode node_;
  std::unique_ptr<net::HttpServer> server_;
  std::thread thread_;
  std::string cookie_;
  std::unique_ptr<BitcoinCoreChain> chain_;
};

TEST_F(BitcoinCoreStandInTest, SendsTheCookieAsBasicAuth) {
  node_.Answer(200, R"({"result":{"feerate":0.00012345,"blocks":2},"error":null,"id":ID})");
  util::Result<uint64_t> rate = chain_->EstimateFeeRate(2);
  ASSERT_TRUE(rate.ok()) << rate.status();
  EXPECT_EQ(*rate, 12'345u);
  EXPECT_EQ(node_.last_authorization(), "Basic X19jb29raWVfXzpzM2NyZXQ=");  // __cookie__:s3cret
  EXPECT_EQ(node_.last_path(), "/");
  const Json request = Json::parse(node_.last_body());
  EXPECT_EQ(request["method"], "estimatesmartfee");
  EXPECT_EQ(request["params"], Json::parse(R"([2,"conservative"])"));
}

TEST_F(BitcoinCoreStandInTest, CookieIsReadAgainForEachCall) {
  node_.Answer(200, R"({"result":{"feerate":0.001,"blocks":2},"id":ID})");
  ASSERT_TRUE(chain_->EstimateFeeRate(2).ok());
  std::ofstream(cookie_) << "__cookie__:rotated";
  ASSERT_TRUE(chain_->EstimateFeeRate(2).ok());
  EXPECT_EQ(node_.last_authorization(), "Basic X19jb29raWVfXzpyb3RhdGVk");  // __cookie__:rotated
}

TEST_F(BitcoinCoreStandInTest, WalletCallsUseTheWalletEndpoint) {
  node_.Answer(200, R"({"result":[],"id":ID})");
  ChainWallet wallet{.wallet_id = "a b/c", .descriptor = "", .range = 1};
  util::Result<std::vector<ChainUtxo>> utxos = chain_->ListUnspent(wallet, 3);
  ASSERT_TRUE(utxos.ok()) << utxos.status();
  // Sent percent-encoded ("/wallet/kinko-a%20b%2Fc"); the server decodes it, as Bitcoin Core.
  EXPECT_EQ(node_.last_path(), "/wallet/kinko-a b/c");
  EXPECT_EQ(Json::parse(node_.last_body())["params"], Json::parse("[3]"));
}

TEST_F(BitcoinCoreStandInTest, ListUnspentReadsAmountsExactly) {
  node_.Answer(200, R"({"result":[{"txid":")" + std::string(64, 'a') +
                        R"(","vout":3,"amount":0.29999999,"scriptPubKey":"0014aa",
                           "confirmations":7}],"id":ID})");
  util::Result<std::vector<ChainUtxo>> utxos =
      chain_->ListUnspent(ChainWallet{.wallet_id = "w", .descriptor = "", .range = 1}, 0);
  ASSERT_TRUE(utxos.ok()) << utxos.status();
  ASSERT_EQ(utxos->size(), 1u);
  EXPECT_EQ((*utxos)[0].outpoint.index, 3u);
  EXPECT_EQ((*utxos)[0].sats, 29'999'999);
  EXPECT_EQ((*utxos)[0].script_pubkey, (std::vector<uint8_t>{0x00, 0x14, 0xaa}));
  EXPECT_EQ((*utxos)[0].confirmations, 7u);
}

TEST_F(BitcoinCoreStandInTest, EveryKindOfAnswerMapsToAStatus) {
  struct Case {
    std::string name;
    int status;
    std::string body;
    StatusCode code;
    std::string message_part;
  };
  const std::vector<Case> cases = {
      {"work queue full", 503, "Work queue depth exceeded", StatusCode::kUnavailable, "http 503"},
      {"bad credentials", 401, "", StatusCode::kPermissionDenied, "rpc authentication failed"},
      {"whitelist", 403, "", StatusCode::kPermissionDenied, "forbidden"},
      {"not json", 200, "<html>", StatusCode::kFailedPrecondition, "unexpected answer"},
      {"not found page", 404, "<html>", StatusCode::kFailedPrecondition, "http 404"},
      {"wrong id", 200, R"({"result":{},"id":999999})", StatusCode::kFailedPrecondition,
       "unexpected answer"},
      {"warming up", 500, R"({"result":null,"error":{"code":-28,"message":"Loading"},"id":ID})",
       StatusCode::kUnavailable, "estimatesmartfee: Loading (code -28)"},
      {"bad parameter", 500,
       R"({"result":null,"error":{"code":-8,"message":"Invalid conf_target"},"id":ID})",
       StatusCode::kInvalidArgument, "Invalid conf_target (code -8)"},
      {"other error", 500,
       R"({"result":null,"error":{"code":-1,"message":"odd\u0000thing"},"id":ID})",
       StatusCode::kFailedPrecondition, "odd\\x00thing (code -1)"},
      {"json-rpc 2.0 error", 200,
       R"({"jsonrpc":"2.0","error":{"code":-32601,"message":"Method not found"},"id":ID})",
       StatusCode::kFailedPrecondition, "Method not found"},
      {"no estimate", 200,
       R"({"result":{"errors":["Insufficient data or no feerate found"],"blocks":0},"id":ID})",
       StatusCode::kNotFound, "Insufficient data"},
      {"feerate as text", 200, R"({"result":{"feerate":"0.001","blocks":2},"id":ID})",
       StatusCode::kFailedPrecondition, "feerate"},
      {"negative feerate", 200, R"({"result":{"feerate":-1,"blocks":2},"id":ID})",
       StatusCode::kFailedPrecondition, "negative"},
      {"result not an object", 200, R"({"result":[],"id":ID})", StatusCode::kFailedPrecondition,
       "unexpected answer"},
  };
  for (const Case& c : cases) {
    node_.Answer(c.status, c.body);
    util::Result<uint64_t> rate = chain_->EstimateFeeRate(2);
    ASSERT_FALSE(rate.ok()) << c.name;
    EXPECT_EQ(rate.status().code(), c.code) << c.name << ": " << rate.status();
    EXPECT_NE(rate.status().message().find(c.message_part), std::string::npos)
        << c.name << ": " << rate.status();
    EXPECT_EQ(rate.status().message().find("s3cret"), std::string::npos) << c.name;
  }
}

TEST_F(BitcoinCoreStandInTest, TransactionOfAnotherTxidIsDataLoss) {
  btc::Transaction tx;
  tx.inputs.resize(1);
  tx.outputs.push_back({1'000, btc::Script(std::vector<uint8_t>{0x51})});
  node_.Answer(200, R"({"result":")" + util::HexEncode(tx.Serialize()) + R"(","id":ID})");
  // Asked for another txid than the transaction's.
  util::Result<std::vector<uint8_t>> raw =
      chain_->GetRawTransaction(btc::TxidFromHex(std::string(64, 'c')).value());
  ASSERT_FALSE(raw.ok());
  EXPECT_EQ(raw.status().code(), StatusCode::kDataLoss) << raw.status();
  // Asked for its own txid: returned.
  util::Result<std::vector<uint8_t>> same = chain_->GetRawTransaction(tx.ComputeTxid());
  ASSERT_TRUE(same.ok()) << same.status();
  EXPECT_EQ(*same, tx.Serialize());
}

TEST_F(BitcoinCoreStandInTest, BroadcastAnswersThatMeanAlreadyKnownAreOk) {
  btc::Transaction tx;
  tx.inputs.resize(1);
  tx.outputs.push_back({1'000, btc::Script(std::vector<uint8_t>{0x51})});
  struct Case {
    std::string body;
    bool ok;
  };
  const std::vector<Case> cases = {
      {R"({"result":")" + btc::TxidToHex(tx.ComputeTxid()) + R"(","id":ID})", true},
      {R"({"error":{"code":-27,"message":"Transaction outputs already in utxo set"},"id":ID})",
       true},
      {R"({"error":{"code":-26,"message":"txn-already-known"},"id":ID})", true},
      {R"({"error":{"code":-26,"message":"txn-same-nonwitness-data-in-mempool"},"id":ID})", true},
      {R"({"error":{"code":-26,"message":"min relay fee not met"},"id":ID})", false},
      {R"({"error":{"code":-25,"message":"bad-txns-inputs-missingorspent"},"id":ID})", false},
      {R"({"result":")" + std::string(64, 'd') + R"(","id":ID})", false},  // Another txid.
  };
  for (const Case& c : cases) {
    node_.Answer(200, c.body);
    util::Result<btc::Txid> sent = chain_->Broadcast(tx.Serialize());
    EXPECT_EQ(sent.ok(), c.ok) << c.body << ": " << sent.status();
    if (sent.ok()) {
      EXPECT_EQ(*sent, tx.ComputeTxid());
    }
  }
}

}  // namespace
}  // namespace kinko::coordinator
