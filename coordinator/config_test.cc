#include "coordinator/config.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "util/hex.h"

namespace kinko::coordinator {
namespace {

// Ed25519 public keys of the seeds 01 02 .. 20 (see api_auth_test.cc) and 00 .. 00, computed by
// Node.js's crypto module.
constexpr std::string_view kKeyA =
    "79b5562e8fe654f94078b112e8a98ba7901f853ae695bed7e0e3910bad049664";
constexpr std::string_view kKeyB =
    "3b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048a18b59da29";
constexpr std::string_view kSignerId1 =
    "1111111111111111111111111111111111111111111111111111111111111111";
constexpr std::string_view kSignerId2 =
    "2222222222222222222222222222222222222222222222222222222222222222";

// A complete valid configuration; each refusal case changes one thing of it.
std::string ValidConfig() {
  std::string text = R"toml(listen = "127.0.0.1:8080"
instance = "kinkod-1"
clients = ["KEY_A"]
operators = ["KEY_B"]

[storage]
backend = "sqlite"
path = "kinkod.db"

[chain]
backend = "offline"
export_dir = "out"

[[wallet]]
id = "treasury-hot"
network = "regtest"
descriptor = "wsh(multi(2,A,B,C))"
policy_file = "policy.bin"
threshold = 2
batching = true
max_inputs = 50
fee_rate_floor = 1000
fee_rate_ceiling = 100000
fee_rate_fallback = 2000
confirmation_target = 6
min_confirmations = 1

[[wallet.signer]]
url = "http://10.0.0.11:7443"
id = "SIGNER_1"

[[wallet.signer]]
url = "https://10.0.0.12:7443"
id = "SIGNER_2"
ca_cert = "ca.pem"
)toml";
  for (const auto& [name, value] : {std::pair<std::string_view, std::string_view>{"KEY_A", kKeyA},
                                    {"KEY_B", kKeyB},
                                    {"SIGNER_1", kSignerId1},
                                    {"SIGNER_2", kSignerId2}}) {
    text.replace(text.find(name), name.size(), value);
  }
  return text;
}

std::string Replace(std::string text, std::string_view from, std::string_view to) {
  const size_t at = text.find(from);
  CHECK(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

TEST(ConfigTest, ParsesValidConfig) {
  util::Result<Config> config = ParseConfig(ValidConfig(), "/etc/kinkod");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->listen, "127.0.0.1:8080");
  EXPECT_EQ(config->instance, "kinkod-1");
  ASSERT_EQ(config->clients.size(), 1u);
  EXPECT_EQ(util::HexEncode(config->clients[0]), kKeyA);
  ASSERT_EQ(config->operators.size(), 1u);
  EXPECT_EQ(util::HexEncode(config->operators[0]), kKeyB);
  EXPECT_EQ(config->storage.backend, "sqlite");
  EXPECT_EQ(config->storage.path, "/etc/kinkod/kinkod.db");
  EXPECT_EQ(config->chain.backend, "offline");
  EXPECT_EQ(config->chain.export_dir, "/etc/kinkod/out");
  ASSERT_EQ(config->wallets.size(), 1u);
  const WalletSettings& wallet = config->wallets[0];
  EXPECT_EQ(wallet.id, "treasury-hot");
  EXPECT_EQ(wallet.network, btc::Network::kRegtest);
  EXPECT_EQ(wallet.descriptor, "wsh(multi(2,A,B,C))");
  EXPECT_EQ(wallet.policy_file, "/etc/kinkod/policy.bin");
  EXPECT_EQ(wallet.threshold, 2u);
  EXPECT_TRUE(wallet.batching);
  EXPECT_EQ(wallet.max_inputs, 50u);
  EXPECT_EQ(wallet.fee_rate_floor, 1000u);
  EXPECT_EQ(wallet.fee_rate_ceiling, 100000u);
  EXPECT_EQ(wallet.fee_rate_fallback, 2000u);
  EXPECT_EQ(wallet.confirmation_target, 6u);
  EXPECT_EQ(wallet.min_confirmations, 1u);
  ASSERT_EQ(wallet.signers.size(), 2u);
  EXPECT_EQ(wallet.signers[0].url, "http://10.0.0.11:7443");
  EXPECT_EQ(util::HexEncode(wallet.signers[0].id), kSignerId1);
  EXPECT_EQ(wallet.signers[0].ca_cert, "");
  EXPECT_EQ(wallet.signers[1].ca_cert, "/etc/kinkod/ca.pem");
}

TEST(ConfigTest, DefaultsApplyWhenOptionalKeysAreAbsent) {
  const std::string text = std::string(R"([storage]
path = "/var/lib/kinkod/kinkod.db"
[chain]
export_dir = "/var/lib/kinkod/out"
[[wallet]]
id = "w"
network = "mainnet"
descriptor = "d"
policy_file = "p"
threshold = 1
[[wallet.signer]]
url = "http://127.0.0.1:7443"
id = ")") + std::string(kSignerId1) +
                           "\"\n";
  util::Result<Config> config = ParseConfig(text, "base");
  ASSERT_TRUE(config.ok()) << config.status();
  const Config defaults;
  const WalletSettings wallet_defaults;
  EXPECT_EQ(config->listen, defaults.listen);
  EXPECT_EQ(config->instance, "");
  EXPECT_TRUE(config->clients.empty());
  EXPECT_TRUE(config->operators.empty());
  EXPECT_EQ(config->storage.backend, "sqlite");
  EXPECT_EQ(config->storage.path, "/var/lib/kinkod/kinkod.db");  // Absolute: kept.
  EXPECT_EQ(config->wallets[0].policy_file, "base/p");
  EXPECT_EQ(config->wallets[0].batching, wallet_defaults.batching);
  EXPECT_EQ(config->wallets[0].max_inputs, wallet_defaults.max_inputs);
  EXPECT_EQ(config->wallets[0].fee_rate_floor, wallet_defaults.fee_rate_floor);
  EXPECT_EQ(config->wallets[0].change_index_max, wallet_defaults.change_index_max);
}

TEST(ConfigTest, ParsesOtherBackends) {
  std::string text = Replace(ValidConfig(), "backend = \"sqlite\"\npath = \"kinkod.db\"",
                             "backend = \"postgres\"\nurl = \"postgresql://kinkod@/kinkod\"");
  text = Replace(text, "backend = \"offline\"\nexport_dir = \"out\"",
                 "backend = \"bitcoin-core\"\nrpc_url = \"http://127.0.0.1:18443\"\n"
                 "rpc_user = \"kinkod\"\nrpc_password_file = \"rpc.pass\"");
  util::Result<Config> config = ParseConfig(text, "/etc/kinkod");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->storage.backend, "postgres");
  EXPECT_EQ(config->storage.url, "postgresql://kinkod@/kinkod");
  EXPECT_EQ(config->storage.path, "");
  EXPECT_EQ(config->chain.backend, "bitcoin-core");
  EXPECT_EQ(config->chain.rpc_url, "http://127.0.0.1:18443");
  EXPECT_EQ(config->chain.rpc_user, "kinkod");
  EXPECT_EQ(config->chain.rpc_password_file, "/etc/kinkod/rpc.pass");

  text = Replace(text, "rpc_user = \"kinkod\"\nrpc_password_file = \"rpc.pass\"",
                 "rpc_cookie_file = \"/var/lib/bitcoind/.cookie\"");
  config = ParseConfig(text, "/etc/kinkod");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->chain.rpc_cookie_file, "/var/lib/bitcoind/.cookie");
}

TEST(ConfigTest, AcceptsListenVariants) {
  for (std::string_view listen : {"0.0.0.0:0", "localhost:65535", "[::1]:8080"}) {
    const std::string text =
        Replace(ValidConfig(), "\"127.0.0.1:8080\"", "\"" + std::string(listen) + "\"");
    util::Result<Config> config = ParseConfig(text, "/");
    ASSERT_TRUE(config.ok()) << listen << ": " << config.status();
    EXPECT_EQ(config->listen, listen);
  }
}

// Each case changes one thing of ValidConfig() and names the message expected, line included.
TEST(ConfigTest, RefusesInvalidConfig) {
  struct Case {
    std::string from;
    std::string to;
    std::string message;
  };
  const std::string key_a(kKeyA);
  const std::string signer_id1(kSignerId1);
  const std::vector<Case> cases = {
      // Syntax.
      {"listen = \"127.0.0.1:8080\"", "listen = \"127.0.0.1:8080", "config:1:"},
      {"[storage]", "[storage", "config:6:"},
      // Unknown keys, at every level.
      {"instance = \"kinkod-1\"", "instanse = \"kinkod-1\"", "config:2: instanse: unknown key"},
      {"path = \"kinkod.db\"", "path = \"kinkod.db\"\npaht = \"x\"",
       "config:9: storage.paht: unknown key"},
      {"export_dir = \"out\"", "export_dir = \"out\"\nexport = \"x\"",
       "config:13: chain.export: unknown key"},
      {"threshold = 2", "threshold = 2\nthresold = 2",
       "config:20: wallet[0].thresold: unknown key"},
      {"ca_cert = \"ca.pem\"", "ca_cert = \"ca.pem\"\ncert = \"x\"",
       "config:36: wallet[0].signer[1].cert: unknown key"},
      // Types.
      {"listen = \"127.0.0.1:8080\"", "listen = 8080", "config:1: listen: must be a string"},
      {"threshold = 2", "threshold = \"2\"", "config:19: wallet[0].threshold: must be an integer"},
      {"batching = true", "batching = 1", "config:20: wallet[0].batching: must be true or false"},
      {"clients = [\"" + key_a + "\"]", "clients = \"" + key_a + "\"",
       "config:3: clients: must be an array"},
      {"clients = [\"" + key_a + "\"]", "clients = [1]", "config:3: clients[0]: must be a string"},
      {"[storage]\nbackend = \"sqlite\"\npath = \"kinkod.db\"\n", "storage = 1\n",
       "config:6: storage: must be a table"},
      // Values.
      {"\"127.0.0.1:8080\"", "\"127.0.0.1\"", "config:1: listen: expected host:port"},
      {"\"127.0.0.1:8080\"", "\"127.0.0.1:65536\"", "config:1: listen: expected host:port"},
      {"\"127.0.0.1:8080\"", "\":8080\"", "config:1: listen: expected host:port"},
      {"\"127.0.0.1:8080\"", "\"127.0.0.1:80a\"", "config:1: listen: expected host:port"},
      {"\"kinkod-1\"", "\"\"", "config:2: instance: must be 1..64"},
      {key_a, key_a.substr(2), "config:3: clients[0]: expected 64 hex characters"},
      {key_a, std::string(64, '0'), "config:3: clients[0]: not a valid Ed25519 public key"},
      {"clients = [\"" + key_a + "\"]", "clients = [\"" + key_a + "\", \"" + key_a + "\"]",
       "config:3: clients[1]: listed twice"},
      {"backend = \"sqlite\"", "backend = \"mysql\"",
       "config:7: storage.backend: must be \"sqlite\" or \"postgres\""},
      {"path = \"kinkod.db\"", "url = \"postgresql://x\"",
       "storage.url: not used by backend sqlite"},
      {"path = \"kinkod.db\"", "path = \"\"", "config:8: storage.path: must not be empty"},
      {"backend = \"sqlite\"", "backend = \"postgres\"",
       "storage.path: not used by backend postgres"},
      {"backend = \"offline\"", "backend = \"bitcoin\"",
       "config:11: chain.backend: must be \"offline\" or \"bitcoin-core\""},
      {"export_dir = \"out\"", "rpc_url = \"http://127.0.0.1:8332\"",
       "chain.rpc_url: not used by backend offline"},
      {"backend = \"offline\"", "backend = \"bitcoin-core\"",
       "chain.export_dir: not used by backend bitcoin-core"},
      {"id = \"treasury-hot\"", "id = \"treasury hot\"", "config:15: wallet[0].id: 'treasury hot'"},
      {"network = \"regtest\"", "network = \"moonnet\"", "config:16: wallet[0].network:"},
      {"descriptor = \"wsh(multi(2,A,B,C))\"", "descriptor = \"\"",
       "config:17: wallet[0].descriptor: must not be empty"},
      {"policy_file = \"policy.bin\"\n", "", "wallet[0].policy_file: missing"},
      {"threshold = 2", "threshold = 0", "config:19: wallet[0].threshold: must be between 1 and 2"},
      {"threshold = 2", "threshold = 3", "config:19: wallet[0].threshold: must be between 1 and 2"},
      {"threshold = 2", "threshold = -1", "wallet[0].threshold: must be between 1 and 2"},
      {"threshold = 2\n", "", "wallet[0].threshold: missing"},
      {"max_inputs = 50", "max_inputs = 0", "config:21: wallet[0].max_inputs: must be between"},
      {"fee_rate_floor = 1000", "fee_rate_floor = 200000",
       "wallet[0].fee_rate_floor: must not be above fee_rate_ceiling"},
      {"fee_rate_fallback = 2000", "fee_rate_fallback = 500",
       "wallet[0].fee_rate_fallback: must be between fee_rate_floor and fee_rate_ceiling"},
      {"confirmation_target = 6", "confirmation_target = 0",
       "config:25: wallet[0].confirmation_target: must be between 1 and 1008"},
      {"url = \"http://10.0.0.11:7443\"", "url = \"ftp://10.0.0.11:7443\"",
       "config:29: wallet[0].signer[0].url: expected http://host:port"},
      {"url = \"http://10.0.0.11:7443\"", "url = \"http://10.0.0.11\"",
       "config:29: wallet[0].signer[0].url: expected http://host:port"},
      {"id = \"" + signer_id1 + "\"", "id = \"" + signer_id1.substr(1) + "\"",
       "config:30: wallet[0].signer[0].id: expected 64 hex characters"},
      {"id = \"" + std::string(kSignerId2) + "\"", "id = \"" + signer_id1 + "\"",
       "wallet[0].signer[1].id: signer listed twice"},
      {"url = \"https://10.0.0.12:7443\"", "url = \"http://10.0.0.12:7443\"",
       "config:35: wallet[0].signer[1].ca_cert: only used with an https:// url"},
  };
  for (const Case& c : cases) {
    const std::string text = Replace(ValidConfig(), c.from, c.to);
    util::Result<Config> config = ParseConfig(text, "/etc/kinkod");
    ASSERT_FALSE(config.ok()) << c.message;
    EXPECT_EQ(config.status().code(), util::StatusCode::kInvalidArgument) << c.message;
    EXPECT_NE(config.status().message().find(c.message), std::string::npos)
        << "expected '" << c.message << "' in: " << config.status().message();
  }
}

TEST(ConfigTest, RefusesMissingSectionsAndPairs) {
  struct Case {
    std::string text;
    std::string message;
  };
  const std::string valid = ValidConfig();
  const std::vector<Case> cases = {
      {Replace(valid, "[storage]\nbackend = \"sqlite\"\npath = \"kinkod.db\"\n", ""),
       "storage: missing"},
      {Replace(valid, "[chain]\nbackend = \"offline\"\nexport_dir = \"out\"\n", ""),
       "chain: missing"},
      {valid.substr(0, valid.find("[[wallet]]")), "wallet: missing"},
      {Replace(valid, "export_dir = \"out\"\n", ""), "chain.export_dir: missing"},
      {valid.substr(0, valid.find("[[wallet.signer]]")), "wallet[0].signer: missing"},
      {valid +
           "\n[[wallet]]\nid = \"treasury-hot\"\nnetwork = \"regtest\"\ndescriptor = \"d\"\n"
           "policy_file = \"p\"\nthreshold = 1\n[[wallet.signer]]\n"
           "url = \"http://127.0.0.1:1\"\nid = \"" +
           std::string(kSignerId1) + "\"\n",
       "wallet[1].id: wallet 'treasury-hot' is listed twice"},
      {Replace(valid, "instance = \"kinkod-1\"", "tls_certificate = \"cert.pem\""),
       "tls_private_key: tls_certificate and tls_private_key go together"},
      {Replace(valid, "instance = \"kinkod-1\"", "instance = \"a\"\ninstance = \"b\""), "config:3"},
  };
  for (const Case& c : cases) {
    util::Result<Config> config = ParseConfig(c.text, "/");
    ASSERT_FALSE(config.ok()) << c.message;
    EXPECT_NE(config.status().message().find(c.message), std::string::npos)
        << "expected '" << c.message << "' in: " << config.status().message();
  }
}

TEST(ConfigTest, RefusesBitcoinCoreCredentialMixes) {
  const std::string base =
      Replace(ValidConfig(), "backend = \"offline\"\nexport_dir = \"out\"",
              "backend = \"bitcoin-core\"\nrpc_url = \"http://127.0.0.1:8332\"\n"
              "CREDENTIALS");
  struct Case {
    std::string credentials;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"", "chain.rpc_cookie_file: missing"},
      {"rpc_user = \"u\"", "chain.rpc_password_file: rpc_user and rpc_password_file go together"},
      {"rpc_password_file = \"p\"", "chain.rpc_user: rpc_user and rpc_password_file go together"},
      {"rpc_cookie_file = \"c\"\nrpc_user = \"u\"\nrpc_password_file = \"p\"",
       "chain.rpc_cookie_file: give either"},
      {"rpc_cookie_file = 1", "chain.rpc_cookie_file: must be a string"},
  };
  for (const Case& c : cases) {
    util::Result<Config> config = ParseConfig(Replace(base, "CREDENTIALS", c.credentials), "/");
    ASSERT_FALSE(config.ok()) << c.message;
    EXPECT_NE(config.status().message().find(c.message), std::string::npos)
        << "expected '" << c.message << "' in: " << config.status().message();
  }
  util::Result<Config> bad_url =
      ParseConfig(Replace(Replace(base, "CREDENTIALS", "rpc_cookie_file = \"c\""),
                          "http://127.0.0.1:8332", "127.0.0.1:8332"),
                  "/");
  ASSERT_FALSE(bad_url.ok());
  EXPECT_NE(bad_url.status().message().find("chain.rpc_url: expected"), std::string::npos);
}

TEST(ConfigTest, MessagesEscapeControlCharacters) {
  util::Result<Config> config =
      ParseConfig(Replace(ValidConfig(), "instance = \"kinkod-1\"", "\"in\\u001bst\" = 1"), "/");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().message().find('\x1b'), std::string::npos);
  EXPECT_NE(config.status().message().find("in\\x1bst: unknown key"), std::string::npos)
      << config.status().message();
}

TEST(ConfigTest, LoadConfigResolvesAgainstTheFilesDirectory) {
  const std::string dir = ::testing::TempDir();
  const std::string path = dir + "/kinkod-config-test.toml";
  {
    std::ofstream file(path);
    file << ValidConfig();
  }
  util::Result<Config> config = LoadConfig(path);
  std::remove(path.c_str());
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->storage.path, dir + "/kinkod.db");

  util::Result<Config> missing = LoadConfig(dir + "/no-such-kinkod-config.toml");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), util::StatusCode::kNotFound);
}

}  // namespace
}  // namespace kinko::coordinator
