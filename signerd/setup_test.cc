#include "signerd/setup.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "auditlog/entry.h"
#include "signerd/internal/softhsm_testing.h"
#include "signerd/service.h"
#include "signerd/state_store.h"
#include "test/support/signer_fixture.h"
#include "util/check.h"

namespace kinko::signerd {
namespace {

using kinko::testing::MakeActors;
using kinko::testing::MakePolicy;
using kinko::testing::TestContext;

class TempDir final {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "kinko-setup-XXXXXX").string();
    CHECK(mkdtemp(pattern.data()) != nullptr);
    path_ = pattern;
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

crypto::SecretBytes Passphrase(std::string_view text = "correct horse") {
  return crypto::SecretBytes::FromSpan(
      std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

// Cheap Argon2id for tests.
constexpr crypto::KdfParams kTestKdf{.passes = 1, .memory_kib = 8};

KeygenOptions FileKeygen(const std::string& dir) {
  KeygenOptions options;
  options.dir = dir;
  options.network = btc::Network::kRegtest;
  options.kdf = kTestKdf;
  return options;
}

uint32_t Mode(const std::string& path) {
  struct stat st {};
  CHECK(stat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

// A 2-of-3 descriptor of `key` and two keys of the fixture's test wallet.
std::string DescriptorWith(const std::string& key) {
  const testing::TestWallet wallet = testing::MakeTestWallet(TestContext());
  std::string others;
  for (size_t i = 1; i < 3; ++i) {
    others += ",[" + wallet.origins[i].ToString() + "]" + wallet.accounts[i].Neuter().ToString() +
              "/<0;1>/*";
  }
  return "wsh(sortedmulti(2," + key + "/<0;1>/*" + others + "))";
}

std::vector<policy::KeyId> AdminIds(const testing::Actors& actors) {
  std::vector<policy::KeyId> ids;
  for (const crypto::Ed25519PrivateKey& admin : actors.admins) ids.push_back(testing::IdOf(admin));
  return ids;
}

InitOptions ValidInit(const std::string& dir, const KeygenResult& keys) {
  const testing::Actors actors = MakeActors();
  InitOptions options;
  options.dir = dir;
  options.wallet_id = testing::kFixtureWalletId;
  options.descriptor = DescriptorWith(keys.descriptor_key);
  options.governance_admins = AdminIds(actors);
  options.governance_threshold = 2;
  options.watchers = {testing::IdOf(actors.watcher)};
  options.first_policy = MakePolicy(actors).Encode();
  options.now = testing::kFixtureNow;
  return options;
}

TEST(SetupTest, KeygenMakesPrivateFilesAndNamesTheKeys) {
  TempDir temp;
  const std::string dir = temp.path() + "/signer";
  crypto::SystemRng rng;
  const KeygenResult keys =
      Keygen(TestContext(), FileKeygen(dir), Passphrase(), std::nullopt, rng).value();
  EXPECT_EQ(Mode(dir), 0700u);
  for (std::string_view name : {kIdentityKeyFile, kSigningKeyFile, kBackendFile}) {
    EXPECT_EQ(Mode(dir + "/" + std::string(name)), 0600u) << name;
  }
  EXPECT_EQ(keys.signer_id, policy::Ed25519KeyId(keys.identity_public_key));
  // Regtest: BIP48 coin type 1, a tpub.
  EXPECT_NE(keys.descriptor_key.find("/48'/1'/0'/2']tpub"), std::string::npos)
      << keys.descriptor_key;
  // A second keygen in the same directory never replaces the keys.
  const util::Status again =
      Keygen(TestContext(), FileKeygen(dir), Passphrase(), std::nullopt, rng).status();
  EXPECT_EQ(again.code(), util::StatusCode::kAlreadyExists) << again;
}

TEST(SetupTest, KeygenTakesAnEmptyDirectoryAndAnAccountPath) {
  TempDir temp;
  KeygenOptions options = FileKeygen(temp.path());
  options.account_path = btc::KeyPath::Parse("m/48'/1'/7'/2'").value();
  crypto::SystemRng rng;
  const KeygenResult keys = Keygen(TestContext(), options, Passphrase(), std::nullopt, rng).value();
  EXPECT_NE(keys.descriptor_key.find("/48'/1'/7'/2']tpub"), std::string::npos);
  EXPECT_EQ(Mode(temp.path()), 0700u);
}

TEST(SetupTest, KeygenRefusalsLeaveNothingBehind) {
  struct Case {
    std::string name;
    std::function<void(KeygenOptions&)> change;
    util::StatusCode code;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"unknown backend", [](KeygenOptions& o) { o.key_backend = "hsm"; },
       util::StatusCode::kInvalidArgument, "unknown key backend 'hsm'"},
      {"pkcs11 without settings", [](KeygenOptions& o) { o.key_backend = "pkcs11"; },
       util::StatusCode::kInvalidArgument, "module, token label and key label are required"},
      {"bad kdf", [](KeygenOptions& o) { o.kdf.memory_kib = 1; },
       util::StatusCode::kInvalidArgument, ""},
  };
  for (const Case& c : cases) {
    TempDir temp;
    const std::string dir = temp.path() + "/signer";
    KeygenOptions options = FileKeygen(dir);
    c.change(options);
    crypto::SystemRng rng;
    const util::Status status =
        Keygen(TestContext(), options, Passphrase(), std::nullopt, rng).status();
    EXPECT_EQ(status.code(), c.code) << c.name << ": " << status;
    EXPECT_NE(status.message().find(c.message), std::string::npos) << c.name << ": " << status;
    EXPECT_FALSE(std::filesystem::exists(dir)) << c.name;
  }
  // A directory that is not empty.
  TempDir temp;
  std::ofstream(temp.path() + "/other") << "x";
  crypto::SystemRng rng;
  EXPECT_EQ(Keygen(TestContext(), FileKeygen(temp.path()), Passphrase(), std::nullopt, rng)
                .status()
                .code(),
            util::StatusCode::kAlreadyExists);
  EXPECT_FALSE(std::filesystem::exists(temp.path() + "/" + std::string(kIdentityKeyFile)));
}

TEST(SetupTest, InitPinsTheWalletAndWritesTheFirstCommit) {
  TempDir temp;
  crypto::SystemRng rng;
  const KeygenResult keys =
      Keygen(TestContext(), FileKeygen(temp.path()), Passphrase(), std::nullopt, rng).value();
  const InitOptions options = ValidInit(temp.path(), keys);
  const KeygenResult init = Init(TestContext(), options, Passphrase(), std::nullopt).value();
  EXPECT_EQ(init.signer_id, keys.signer_id);
  EXPECT_EQ(init.descriptor_key, keys.descriptor_key);
  const std::string database = temp.path() + "/" + std::string(kStateDatabaseFile);
  EXPECT_EQ(Mode(database), 0600u);

  StateStore store = StateStore::OpenReadOnly(database).value();
  const LoadedState loaded = store.Load().value();
  const PinnedConfig& config = loaded.config;
  EXPECT_EQ(config.wallet_id, testing::kFixtureWalletId);
  EXPECT_EQ(config.network, btc::Network::kRegtest);
  EXPECT_EQ(config.identity_public_key, keys.identity_public_key);
  EXPECT_EQ(config.key_backend, "file");
  EXPECT_EQ(config.key_file, kSigningKeyFile);
  EXPECT_EQ(config.governance_threshold, 2u);
  std::vector<policy::KeyId> admins = options.governance_admins;
  std::sort(admins.begin(), admins.end());
  EXPECT_EQ(config.governance_admins, admins);
  EXPECT_EQ(config.watchers, options.watchers);
  EXPECT_EQ(config.created_at, testing::kFixtureNow);
  const policy::SignedPolicy first = policy::SignedPolicy::Decode(options.first_policy).value();
  EXPECT_EQ(loaded.state.governance.active.policy().digest(), first.policy().digest());

  // Two entries: the start-up and the first policy, under a head signed by the identity key.
  EXPECT_EQ(loaded.log.size(), 2u);
  ASSERT_TRUE(loaded.latest_head.has_value());
  EXPECT_EQ(loaded.latest_head->head().size, 2u);
  EXPECT_EQ(loaded.latest_head->head().root, loaded.log.Root());
  EXPECT_EQ(loaded.latest_head->public_key(), keys.identity_public_key);
  const std::vector<std::vector<uint8_t>> entries = store.ReadEntries(0, 2).value();
  const auditlog::Entry startup = auditlog::Entry::Decode(entries[0]).value();
  const auto& body = std::get<auditlog::StartupEntry>(startup.body());
  EXPECT_EQ(body.software, kSignerSoftware);
  EXPECT_EQ(body.head_key, keys.identity_public_key);
  EXPECT_EQ(body.policy_digest, first.policy().digest());
  const auditlog::Entry change = auditlog::Entry::Decode(entries[1]).value();
  const auto& policy_change = std::get<auditlog::PolicyChangeEntry>(change.body());
  EXPECT_FALSE(policy_change.old_digest.has_value());
  EXPECT_EQ(policy_change.new_digest, first.policy().digest());
  EXPECT_EQ(policy_change.sequence, first.policy().fields().sequence);

  // Never twice.
  const util::Status again = Init(TestContext(), options, Passphrase(), std::nullopt).status();
  EXPECT_EQ(again.code(), util::StatusCode::kAlreadyExists) << again;
}

TEST(SetupTest, InitRefusesEachProblemAndWritesNothing) {
  TempDir temp;
  crypto::SystemRng rng;
  const KeygenResult keys =
      Keygen(TestContext(), FileKeygen(temp.path()), Passphrase(), std::nullopt, rng).value();
  const testing::Actors actors = MakeActors();
  struct Case {
    std::string name;
    std::function<void(InitOptions&)> change;
    util::StatusCode code;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"descriptor without this signer's key",
       [](InitOptions& o) { o.descriptor = testing::MakeTestWallet(TestContext()).descriptor; },
       util::StatusCode::kInvalidArgument, "does not contain this signer's key"},
      {"descriptor does not parse", [](InitOptions& o) { o.descriptor = "wsh(nonsense)"; },
       util::StatusCode::kInvalidArgument, "wallet descriptor"},
      {"descriptor for mainnet keys",
       [](InitOptions& o) {
         o.descriptor =
             "wpkh("
             "xpub661MyMwAqRbcFtXgS5sYJABqqG9YLmC4Q1Rdap9gSE8NqtwybGhePY2gZ29ESFjqJoCu1Rupje8YtGqse"
             "fD265TMg7usUDFdp6W1EGMcet8/<0;1>/*)";
       },
       util::StatusCode::kInvalidArgument, "wallet descriptor"},
      {"descriptor without multipath",
       [&keys](InitOptions& o) {
         o.descriptor = "wsh(sortedmulti(1," + keys.descriptor_key + "/0/*))";
       },
       util::StatusCode::kInvalidArgument, "wallet"},
      {"bad wallet id", [](InitOptions& o) { o.wallet_id = "bad wallet"; },
       util::StatusCode::kInvalidArgument, "wallet"},
      {"admin listed twice",
       [](InitOptions& o) { o.governance_admins.push_back(o.governance_admins[0]); },
       util::StatusCode::kInvalidArgument, "governance keys: a key appears twice"},
      {"no admins", [](InitOptions& o) { o.governance_admins.clear(); },
       util::StatusCode::kInvalidArgument, "governance keys: none given"},
      {"threshold 0", [](InitOptions& o) { o.governance_threshold = 0; },
       util::StatusCode::kInvalidArgument, "governance threshold 0"},
      {"threshold above the admins", [](InitOptions& o) { o.governance_threshold = 4; },
       util::StatusCode::kInvalidArgument, "governance threshold 4"},
      {"watcher listed twice", [](InitOptions& o) { o.watchers.push_back(o.watchers[0]); },
       util::StatusCode::kInvalidArgument, "watchers: a key appears twice"},
      {"policy does not decode",
       [](InitOptions& o) {
         o.first_policy = {0x01, 0x02};
       },
       util::StatusCode::kInvalidArgument, "first policy"},
      {"policy signed by one admin",
       [&actors](InitOptions& o) {
         o.first_policy = MakePolicy(actors, {.signed_by = {0}}).Encode();
       },
       util::StatusCode::kPermissionDenied, "first policy"},
      {"policy signed by admins that are not pinned",
       [&actors](InitOptions& o) {
         o.governance_admins = {testing::IdOf(actors.outsider), testing::IdOf(actors.watcher)};
       },
       util::StatusCode::kPermissionDenied, "first policy"},
      {"policy with a predecessor",
       [&actors](InitOptions& o) {
         policy::Digest predecessor;
         predecessor.fill(0x55);
         o.first_policy = MakePolicy(actors, {.sequence = 2, .predecessor = predecessor}).Encode();
       },
       util::StatusCode::kInvalidArgument, "first policy"},
  };
  for (const Case& c : cases) {
    InitOptions options = ValidInit(temp.path(), keys);
    c.change(options);
    const util::Status status = Init(TestContext(), options, Passphrase(), std::nullopt).status();
    EXPECT_EQ(status.code(), c.code) << c.name << ": " << status;
    EXPECT_NE(status.message().find(c.message), std::string::npos) << c.name << ": " << status;
    EXPECT_FALSE(std::filesystem::exists(temp.path() + "/" + std::string(kStateDatabaseFile)))
        << c.name;
  }
  const util::Status wrong =
      Init(TestContext(), ValidInit(temp.path(), keys), Passphrase("wrong"), std::nullopt).status();
  EXPECT_EQ(wrong.code(), util::StatusCode::kPermissionDenied) << wrong;
  EXPECT_NE(wrong.message().find("wrong passphrase"), std::string::npos) << wrong;

  TempDir empty;
  EXPECT_EQ(Init(TestContext(), ValidInit(empty.path(), keys), Passphrase(), std::nullopt)
                .status()
                .code(),
            util::StatusCode::kNotFound);
  // After all the refusals, the valid options still work.
  EXPECT_TRUE(Init(TestContext(), ValidInit(temp.path(), keys), Passphrase(), std::nullopt).ok());
}

TEST(SetupTest, Pkcs11KeyInitAndTaprootRefusal) {
  std::unique_ptr<internal::SoftHsmToken> token = internal::SoftHsmToken::Create().value();
  TempDir temp;
  KeygenOptions options = FileKeygen(temp.path() + "/signer");
  options.key_backend = "pkcs11";
  options.pkcs11_module = internal::SoftHsmModulePath();
  options.pkcs11_token_label = internal::kSoftHsmTokenLabel;
  options.pkcs11_key_label = "wallet-key";
  const std::optional<TokenPin> pin = TokenPin::FromText(internal::kSoftHsmUserPin).value();
  crypto::SystemRng rng;
  const KeygenResult keys = Keygen(TestContext(), options, Passphrase(), pin, rng).value();
  // A PKCS#11 key is named by its hex compressed public key.
  EXPECT_EQ(keys.descriptor_key.size(), 66u);
  EXPECT_FALSE(std::filesystem::exists(options.dir + "/" + std::string(kSigningKeyFile)));

  // The label is taken now: a second keygen on the token fails and leaves nothing.
  KeygenOptions second = options;
  second.dir = temp.path() + "/second";
  const util::Status taken = Keygen(TestContext(), second, Passphrase(), pin, rng).status();
  EXPECT_EQ(taken.code(), util::StatusCode::kAlreadyExists) << taken;
  EXPECT_FALSE(std::filesystem::exists(second.dir));

  InitOptions init = ValidInit(options.dir, keys);
  // A taproot wallet needs the file backend.
  const testing::TestWallet wallet = testing::MakeTestWallet(TestContext());
  init.descriptor = "tr(" + keys.descriptor_key + ",pk([" + wallet.origins[1].ToString() + "]" +
                    wallet.accounts[1].Neuter().ToString() + "/<0;1>/*))";
  const util::Status taproot = Init(TestContext(), init, Passphrase(), pin).status();
  EXPECT_EQ(taproot.code(), util::StatusCode::kFailedPrecondition) << taproot;

  init = ValidInit(options.dir, keys);
  init.descriptor = "wsh(sortedmulti(2," + keys.descriptor_key + ",[" +
                    wallet.origins[1].ToString() + "]" + wallet.accounts[1].Neuter().ToString() +
                    "/<0;1>/*))";
  const util::Status no_pin = Init(TestContext(), init, Passphrase(), std::nullopt).status();
  EXPECT_EQ(no_pin.code(), util::StatusCode::kInvalidArgument) << no_pin;
  EXPECT_TRUE(Init(TestContext(), init, Passphrase(), pin).ok());
  StateStore store =
      StateStore::OpenReadOnly(options.dir + "/" + std::string(kStateDatabaseFile)).value();
  const LoadedState loaded = store.Load().value();
  EXPECT_EQ(loaded.config.key_backend, "pkcs11");
  EXPECT_EQ(loaded.config.pkcs11_key_label, "wallet-key");
  EXPECT_EQ(loaded.config.pkcs11_token_label, internal::kSoftHsmTokenLabel);
}

}  // namespace
}  // namespace kinko::signerd
