#include "signerd/file_key.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "crypto/keyfile.h"
#include "signerd/internal/wallet_testing.h"

namespace kinko::signerd {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

const crypto::Secp256k1Context& Ctx() {
  static crypto::SystemRng rng;
  static const crypto::Secp256k1Context ctx = crypto::Secp256k1Context::Create(rng);
  return ctx;
}

crypto::SecretBytes Passphrase(std::string_view text) {
  return crypto::SecretBytes::FromSpan(
      std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

// A fresh directory, removed with its contents at the end of the test.
class TempDir final {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "kinko-file-key-XXXXXX").string();
    CHECK(mkdtemp(pattern.data()) != nullptr);
    path_ = pattern;
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

FileKeyOptions TestOptions() {
  return FileKeyOptions{.network = btc::Network::kRegtest,
                        .account_path = btc::KeyPath::Parse("m/48'/1'/0'/2'").value(),
                        .kdf = {.passes = 1, .memory_kib = 8},
                        .label = "kinko-signer"};
}

std::vector<uint8_t> ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

TEST(FileKeyTest, GenerateThenOpenGivesTheSameKey) {
  TempDir dir;
  crypto::SystemRng rng;
  const std::string path = dir.File("signer.key");
  util::Result<FileKey> generated =
      FileKey::Generate(Ctx(), path, Passphrase("correct horse"), rng, TestOptions());
  ASSERT_TRUE(generated.ok()) << generated.status();
  EXPECT_EQ(generated->kind(), "file");
  EXPECT_TRUE(generated->can_sign_taproot());
  EXPECT_EQ(generated->origin().path.ToString(), "m/48'/1'/0'/2'");
  EXPECT_EQ(generated->xpub().depth(), 4);
  EXPECT_THAT(generated->descriptor_key(),
              StartsWith("[" + generated->origin().ToString() + "]tpub"));

  util::Result<FileKey> opened = FileKey::Open(Ctx(), path, Passphrase("correct horse"));
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(opened->descriptor_key(), generated->descriptor_key());
  EXPECT_EQ(opened->origin(), generated->origin());
  EXPECT_EQ(opened->xpub().ToString(), generated->xpub().ToString());

  // Two generations give two different keys.
  util::Result<FileKey> other = FileKey::Generate(Ctx(), dir.File("other.key"),
                                                  Passphrase("correct horse"), rng, TestOptions());
  ASSERT_TRUE(other.ok());
  EXPECT_NE(other->descriptor_key(), generated->descriptor_key());
}

TEST(FileKeyTest, FileIsOwnerOnlyWhateverTheUmask) {
  TempDir dir;
  crypto::SystemRng rng;
  const mode_t saved = umask(0);
  util::Result<FileKey> key =
      FileKey::Generate(Ctx(), dir.File("k"), Passphrase("p"), rng, TestOptions());
  umask(saved);
  ASSERT_TRUE(key.ok());
  struct stat st {};
  ASSERT_EQ(stat(dir.File("k").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
}

TEST(FileKeyTest, ExistingFileIsNotOverwritten) {
  TempDir dir;
  crypto::SystemRng rng;
  const std::string path = dir.File("signer.key");
  ASSERT_TRUE(FileKey::Generate(Ctx(), path, Passphrase("first"), rng, TestOptions()).ok());
  const std::vector<uint8_t> before = ReadAll(path);
  util::Result<FileKey> again =
      FileKey::Generate(Ctx(), path, Passphrase("second"), rng, TestOptions());
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), util::StatusCode::kAlreadyExists);
  EXPECT_EQ(ReadAll(path), before);
  EXPECT_TRUE(FileKey::Open(Ctx(), path, Passphrase("first")).ok());
}

TEST(FileKeyTest, WrongPassphraseIsRefusedWithoutKeyMaterial) {
  TempDir dir;
  crypto::SystemRng rng;
  const std::string path = dir.File("signer.key");
  ASSERT_TRUE(FileKey::Generate(Ctx(), path, Passphrase("correct horse"), rng, TestOptions()).ok());
  util::Result<FileKey> key = FileKey::Open(Ctx(), path, Passphrase("correct horse "));
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.status().code(), util::StatusCode::kPermissionDenied);
  EXPECT_EQ(key.status().message(), "key file " + path + ": wrong passphrase or corrupted file");

  // A flipped ciphertext byte reads the same.
  std::vector<uint8_t> bytes = ReadAll(path);
  bytes.back() ^= 1;
  const std::string altered = dir.File("altered.key");
  std::ofstream(altered, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()),
             static_cast<std::streamsize>(bytes.size()));
  util::Result<FileKey> corrupted = FileKey::Open(Ctx(), altered, Passphrase("correct horse"));
  ASSERT_FALSE(corrupted.ok());
  EXPECT_EQ(corrupted.status().code(), util::StatusCode::kPermissionDenied);
}

TEST(FileKeyTest, OpenRefusesMissingAndForeignFiles) {
  TempDir dir;
  util::Result<FileKey> missing = FileKey::Open(Ctx(), dir.File("none"), Passphrase("p"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), util::StatusCode::kNotFound);

  // An identity key file (scheme 0x01) is not a signer key file.
  crypto::SystemRng rng;
  const crypto::KeyFile identity =
      crypto::KeyFile::Encrypt(crypto::Ed25519PrivateKey::Generate(rng), "alice", Passphrase("p"),
                               {.passes = 1, .memory_kib = 8}, rng)
          .value();
  const std::vector<uint8_t> bytes = identity.Serialize();
  std::ofstream(dir.File("identity.key"), std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()),
             static_cast<std::streamsize>(bytes.size()));
  util::Result<FileKey> foreign = FileKey::Open(Ctx(), dir.File("identity.key"), Passphrase("p"));
  ASSERT_FALSE(foreign.ok());
  EXPECT_EQ(foreign.status().code(), util::StatusCode::kInvalidArgument);
  EXPECT_THAT(foreign.status().message(), HasSubstr("unknown signature scheme"));
}

// Key files written by other programs with the same format: each public info that does not
// describe the encrypted key is refused, from a valid one changed in one way.
TEST(FileKeyTest, OpenRefusesPublicInfoThatIsNotTheKey) {
  const btc::ExtendedKey master =
      btc::ExtendedKey::FromSeed(Ctx(), std::vector<uint8_t>(32, 7), btc::Network::kRegtest)
          .value();
  const btc::KeyPath path = btc::KeyPath::Parse("m/48'/1'/0'/2'").value();
  const btc::ExtendedKey account = master.DerivePath(Ctx(), path).value();
  const btc::ExtendedKey other = master.DerivePath(Ctx(), btc::KeyPath{{1}}).value();
  const std::string fp = btc::KeyOrigin{.fingerprint = master.Fingerprint(), .path = {}}.ToString();
  const std::string xpub = account.Neuter().ToString();
  struct Case {
    std::string info;
    util::StatusCode code;
    const char* message;
  };
  const std::vector<Case> cases = {
      {"[" + fp + "/48'/1'/0'/2']" + xpub, util::StatusCode::kOk, ""},
      {fp + "/48'/1'/0'/2'" + xpub, util::StatusCode::kInvalidArgument, "is not \"[origin]xpub\""},
      {"[zz/48'/1'/0'/2']" + xpub, util::StatusCode::kInvalidArgument, "public info: "},
      {"[" + fp + "/48'/1'/0'/2']" + xpub + "x", util::StatusCode::kInvalidArgument,
       "public info: "},
      {"[" + fp + "/48'/1'/0'/2']" + account.ToString(), util::StatusCode::kInvalidArgument,
       "holds a private key"},
      {"[" + fp + "/48'/1'/0'/2']" + other.Neuter().ToString(), util::StatusCode::kDataLoss,
       "the xpub is not the file's public key"},
      {"[" + fp + "/48'/1'/0'/3']" + xpub, util::StatusCode::kDataLoss, "not its origin's"},
      {"[" + fp + "/1'/0'/2']" + xpub, util::StatusCode::kDataLoss, "not its origin's"},
  };
  TempDir dir;
  crypto::SystemRng rng;
  int n = 0;
  for (const Case& c : cases) {
    const crypto::Secp256k1KeyFile file =
        crypto::Secp256k1KeyFile::Encrypt(Ctx(), *account.private_key(), "k", c.info,
                                          Passphrase("p"), {.passes = 1, .memory_kib = 8}, rng)
            .value();
    const std::vector<uint8_t> bytes = file.Serialize();
    const std::string file_path = dir.File(std::to_string(n++));
    std::ofstream(file_path, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()),
               static_cast<std::streamsize>(bytes.size()));
    util::Result<FileKey> key = FileKey::Open(Ctx(), file_path, Passphrase("p"));
    EXPECT_EQ(key.status().code(), c.code) << c.info;
    if (c.code != util::StatusCode::kOk) {
      EXPECT_THAT(key.status().message(), HasSubstr(c.message)) << c.info;
      EXPECT_THAT(key.status().message(), ::testing::Not(HasSubstr("tprv")));
    }
  }
}

TEST(FileKeyTest, OpenedKeySignsAWalletPsbt) {
  TempDir dir;
  crypto::SystemRng rng;
  const std::string path = dir.File("signer.key");
  ASSERT_TRUE(FileKey::Generate(Ctx(), path, Passphrase("pw"), rng, TestOptions()).ok());
  util::Result<FileKey> key = FileKey::Open(Ctx(), path, Passphrase("pw"));
  ASSERT_TRUE(key.ok());
  const KeyBackend* backends[] = {&*key};
  for (const std::string& descriptor :
       {"wpkh(" + key->descriptor_key() + "/0/*)", "tr(" + key->descriptor_key() + "/1/*)"}) {
    util::Result<internal::TestSpend> spend =
        internal::MakeTestSpend(Ctx(), descriptor, btc::Network::kRegtest);
    ASSERT_TRUE(spend.ok()) << spend.status();
    util::Status status = internal::SignFinalizeVerify(Ctx(), *spend, backends);
    EXPECT_TRUE(status.ok()) << descriptor << ": " << status;
  }
}

}  // namespace
}  // namespace kinko::signerd
