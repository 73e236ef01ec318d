// The PKCS#11 backend against a real SoftHSM2 token that each test creates for itself.
#include "signerd/pkcs11_key.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "crypto/hash.h"
#include "signerd/file_key.h"
#include "signerd/internal/softhsm_testing.h"
#include "signerd/internal/wallet_testing.h"
#include "util/hex.h"

#define CRYPTOKI_GNU 1
#include <p11-kit/pkcs11.h>

namespace kinko::signerd {
namespace {

using ::testing::HasSubstr;

const crypto::Secp256k1Context& Ctx() {
  static crypto::SystemRng rng;
  static const crypto::Secp256k1Context ctx = crypto::Secp256k1Context::Create(rng);
  return ctx;
}

TokenPin Pin(std::string_view text) { return TokenPin::FromText(text).value(); }

const Pkcs11KeyConfig kConfig = {.token_label = internal::kSoftHsmTokenLabel,
                                 .key_label = "signer-1"};

class Pkcs11KeyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    util::Result<std::unique_ptr<internal::SoftHsmToken>> token = internal::SoftHsmToken::Create();
    ASSERT_TRUE(token.ok()) << token.status();
    token_ = std::move(*token);
    LoadModule();
  }
  void TearDown() override {
    module_.reset();
    token_.reset();
  }
  void LoadModule() {
    util::Result<std::shared_ptr<const Pkcs11Module>> module =
        Pkcs11Module::Load(internal::SoftHsmModulePath());
    ASSERT_TRUE(module.ok()) << module.status();
    module_ = std::move(*module);
  }

  std::unique_ptr<internal::SoftHsmToken> token_;
  std::shared_ptr<const Pkcs11Module> module_;
};

TEST_F(Pkcs11KeyTest, GeneratedKeyIsFoundAgainByLabel) {
  util::Result<Pkcs11Key> generated = Pkcs11Key::Generate(Ctx(), module_, kConfig, Pin("1234"));
  ASSERT_TRUE(generated.ok()) << generated.status();
  EXPECT_EQ(generated->kind(), "pkcs11");
  EXPECT_FALSE(generated->can_sign_taproot());
  EXPECT_EQ(generated->descriptor_key(),
            util::HexEncode(generated->public_key().SerializeCompressed()));
  EXPECT_TRUE(generated->public_key().IsCompressed());

  util::Result<Pkcs11Key> opened = Pkcs11Key::Open(Ctx(), module_, kConfig, Pin("1234"));
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(opened->public_key(), generated->public_key());

  // A second key pair with the same label is refused.
  util::Result<Pkcs11Key> again = Pkcs11Key::Generate(Ctx(), module_, kConfig, Pin("1234"));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), util::StatusCode::kAlreadyExists);

  // Another label is another key.
  util::Result<Pkcs11Key> other = Pkcs11Key::Generate(
      Ctx(), module_, {.token_label = kConfig.token_label, .key_label = "signer-2"}, Pin("1234"));
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_FALSE(other->public_key() == generated->public_key());

  // The key pair is a token object: it outlives the module's initialisation.
  const crypto::PublicKey public_key = generated->public_key();
  generated = util::InternalError("released");
  opened = util::InternalError("released");
  other = util::InternalError("released");
  module_.reset();
  LoadModule();
  util::Result<Pkcs11Key> reopened = Pkcs11Key::Open(Ctx(), module_, kConfig, Pin("1234"));
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_EQ(reopened->public_key(), public_key);
}

TEST_F(Pkcs11KeyTest, SignaturesVerifyAreLowSAndStrictDer) {
  util::Result<Pkcs11Key> key = Pkcs11Key::Generate(Ctx(), module_, kConfig, Pin("1234"));
  ASSERT_TRUE(key.ok()) << key.status();
  // The token's raw S is high for about half of the digests, so 100 digests exercise the
  // normalisation (the chance that none needs it is 2^-100).
  for (uint32_t i = 0; i < 100; ++i) {
    const std::array<uint8_t, 4> seed = {static_cast<uint8_t>(i), 1, 2, 3};
    const crypto::Hash256Bytes digest = crypto::Sha256(seed);
    util::Result<std::vector<uint8_t>> sig = key->SignDigest(digest);
    ASSERT_TRUE(sig.ok()) << sig.status();
    EXPECT_TRUE(
        crypto::EcdsaVerify(Ctx(), key->public_key(), digest, *sig, crypto::DerParsing::kStrict))
        << i;
    EXPECT_TRUE(crypto::EcdsaIsLowS(Ctx(), *sig, crypto::DerParsing::kStrict)) << i;
    // Strict DER: SEQUENCE of two INTEGERs with their exact lengths, at most 72 bytes.
    ASSERT_GE(sig->size(), 8u);
    EXPECT_LE(sig->size(), 72u);
    EXPECT_EQ((*sig)[0], 0x30);
    EXPECT_EQ((*sig)[1], sig->size() - 2);
    // Another digest, another signature; the same key.
    crypto::Hash256Bytes other = digest;
    other[31] ^= 1;
    EXPECT_FALSE(
        crypto::EcdsaVerify(Ctx(), key->public_key(), other, *sig, crypto::DerParsing::kStrict));
  }
}

TEST_F(Pkcs11KeyTest, WrongPinIsRefused) {
  ASSERT_TRUE(Pkcs11Key::Generate(Ctx(), module_, kConfig, Pin("1234")).ok());
  // A fresh initialisation: the login state of the generating session is gone.
  module_.reset();
  LoadModule();
  util::Result<Pkcs11Key> key = Pkcs11Key::Open(Ctx(), module_, kConfig, Pin("4321"));
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.status().code(), util::StatusCode::kPermissionDenied);
  EXPECT_EQ(key.status().message(), "pkcs11: C_Login: CKR_PIN_INCORRECT");
  EXPECT_THAT(key.status().message(), ::testing::Not(HasSubstr("4321")));
  EXPECT_TRUE(Pkcs11Key::Open(Ctx(), module_, kConfig, Pin("1234")).ok());
}

TEST_F(Pkcs11KeyTest, UnknownTokenOrKeyLabelIsNotFound) {
  ASSERT_TRUE(Pkcs11Key::Generate(Ctx(), module_, kConfig, Pin("1234")).ok());
  util::Result<Pkcs11Key> no_token = Pkcs11Key::Open(
      Ctx(), module_, {.token_label = "kinko-other", .key_label = "signer-1"}, Pin("1234"));
  ASSERT_FALSE(no_token.ok());
  EXPECT_EQ(no_token.status().code(), util::StatusCode::kNotFound);
  EXPECT_EQ(no_token.status().message(), "pkcs11: no token labelled 'kinko-other'");

  util::Result<Pkcs11Key> no_key = Pkcs11Key::Open(
      Ctx(), module_, {.token_label = kConfig.token_label, .key_label = "signer-9"}, Pin("1234"));
  ASSERT_FALSE(no_key.ok());
  EXPECT_EQ(no_key.status().code(), util::StatusCode::kNotFound);
  EXPECT_EQ(no_key.status().message(), "pkcs11: no private key labelled 'signer-9'");
}

TEST_F(Pkcs11KeyTest, ModuleIsInitialisedOncePerProcess) {
  util::Result<std::shared_ptr<const Pkcs11Module>> second =
      Pkcs11Module::Load(internal::SoftHsmModulePath());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), util::StatusCode::kFailedPrecondition);
  EXPECT_EQ(second.status().message(), "pkcs11: C_Initialize: CKR_CRYPTOKI_ALREADY_INITIALIZED");

  util::Result<std::shared_ptr<const Pkcs11Module>> missing =
      Pkcs11Module::Load("/nonexistent/libpkcs11.so");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), util::StatusCode::kNotFound);
}

// The 2-of-2 wallet of the brief: one key in the HSM, one in a key file. Each signs on its own,
// the PSBTs are combined and finalized, and the interpreter checks the final transaction.
TEST_F(Pkcs11KeyTest, HsmAndFileKeysSignATwoOfTwoWallet) {
  util::Result<Pkcs11Key> hsm_key = Pkcs11Key::Generate(Ctx(), module_, kConfig, Pin("1234"));
  ASSERT_TRUE(hsm_key.ok()) << hsm_key.status();
  crypto::SystemRng rng;
  const std::string path =
      (std::filesystem::temp_directory_path() / ("kinko-2of2-" + std::to_string(getpid())))
          .string();
  std::filesystem::remove(path);
  util::Result<FileKey> file_key = FileKey::Generate(
      Ctx(), path, crypto::SecretBytes::FromSpan(std::vector<uint8_t>{'p', 'w'}), rng,
      {.network = btc::Network::kRegtest,
       .account_path = btc::KeyPath::Parse("m/48'/1'/0'/2'").value(),
       .kdf = {.passes = 1, .memory_kib = 8},
       .label = "kinko-signer"});
  std::filesystem::remove(path);
  ASSERT_TRUE(file_key.ok()) << file_key.status();

  const KeyBackend* both[] = {&*hsm_key, &*file_key};
  for (const char* shape : {"wsh(multi(2,%h,%f/0/*))", "wsh(sortedmulti(2,%f/1/*,%h))",
                            "sh(wsh(multi(2,%h,%f/0/*)))"}) {
    std::string descriptor = shape;
    descriptor.replace(descriptor.find("%h"), 2, hsm_key->descriptor_key());
    descriptor.replace(descriptor.find("%f"), 2, file_key->descriptor_key());
    util::Result<internal::TestSpend> spend =
        internal::MakeTestSpend(Ctx(), descriptor, btc::Network::kRegtest);
    ASSERT_TRUE(spend.ok()) << spend.status();
    util::Status status = internal::SignFinalizeVerify(Ctx(), *spend, both);
    EXPECT_TRUE(status.ok()) << shape << ": " << status;

    // One signature is not enough: the HSM key alone leaves the PSBT incomplete.
    const KeyBackend* hsm_only[] = {&*hsm_key};
    EXPECT_FALSE(internal::SignFinalizeVerify(Ctx(), *spend, hsm_only).ok());
  }
}

TEST_F(Pkcs11KeyTest, TaprootNeedsTheFileBackend) {
  util::Result<Pkcs11Key> key = Pkcs11Key::Generate(Ctx(), module_, kConfig, Pin("1234"));
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_TRUE(CheckBackendSupportsWallet(*key, /*wallet_uses_taproot=*/false).ok());
  util::Status refused = CheckBackendSupportsWallet(*key, /*wallet_uses_taproot=*/true);
  EXPECT_EQ(refused.code(), util::StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.message(), HasSubstr("key backend 'pkcs11': cannot sign taproot"));
  EXPECT_THAT(refused.message(), HasSubstr("needs the 'file' key backend"));

  // And at signing time: a taproot output whose key is the HSM key.
  const std::string xonly = key->descriptor_key().substr(2);
  util::Result<internal::TestSpend> spend =
      internal::MakeTestSpend(Ctx(), "tr(" + xonly + ")", btc::Network::kRegtest);
  ASSERT_TRUE(spend.ok()) << spend.status();
  btc::PsbtSigningKeys keys;
  ASSERT_TRUE(key->AddTo(keys).ok());
  util::Result<btc::PsbtSignResult> signed_psbt = btc::SignPsbt(Ctx(), spend->psbt, keys);
  ASSERT_FALSE(signed_psbt.ok());
  EXPECT_EQ(signed_psbt.status().code(), util::StatusCode::kFailedPrecondition);
  EXPECT_THAT(signed_psbt.status().message(),
              HasSubstr("external key 'pkcs11 token 'kinko-test' key 'signer-1''"));
}

// A key pair made without kinko, as other tooling might leave it on a token.
struct RawKeyPair {
  std::vector<uint8_t> curve_oid;
  bool sensitive = true;
  bool extractable = false;
  std::string private_label;
  std::string public_label;
};

void GenerateRawKeyPair(const Pkcs11Module& module, const RawKeyPair& pair) {
  const ck_function_list& p11 = module.functions();
  unsigned long count = 16;
  std::vector<ck_slot_id_t> slots(count);
  ASSERT_EQ(p11.C_GetSlotList(1, slots.data(), &count), CKR_OK);
  ck_slot_id_t slot = 0;
  bool found = false;
  for (unsigned long i = 0; i < count; ++i) {
    ck_token_info info{};
    ASSERT_EQ(p11.C_GetTokenInfo(slots[i], &info), CKR_OK);
    if (std::string(reinterpret_cast<const char*>(info.label), 10) == "kinko-test") {
      slot = slots[i];
      found = true;
    }
  }
  ASSERT_TRUE(found);
  ck_session_handle_t session = 0;
  ASSERT_EQ(
      p11.C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &session),
      CKR_OK);
  std::string pin = internal::kSoftHsmUserPin;
  const ck_rv_t login =
      p11.C_Login(session, CKU_USER, reinterpret_cast<unsigned char*>(pin.data()), pin.size());
  ASSERT_TRUE(login == CKR_OK || login == CKR_USER_ALREADY_LOGGED_IN);
  unsigned char yes = 1;
  unsigned char sensitive = pair.sensitive ? 1 : 0;
  unsigned char extractable = pair.extractable ? 1 : 0;
  std::vector<uint8_t> oid = pair.curve_oid;
  std::string public_label = pair.public_label;
  std::string private_label = pair.private_label;
  ck_attribute public_template[] = {{CKA_TOKEN, &yes, 1},
                                    {CKA_EC_PARAMS, oid.data(), oid.size()},
                                    {CKA_LABEL, public_label.data(), public_label.size()}};
  ck_attribute private_template[] = {{CKA_TOKEN, &yes, 1},
                                     {CKA_PRIVATE, &yes, 1},
                                     {CKA_SIGN, &yes, 1},
                                     {CKA_SENSITIVE, &sensitive, 1},
                                     {CKA_EXTRACTABLE, &extractable, 1},
                                     {CKA_LABEL, private_label.data(), private_label.size()}};
  ck_mechanism mechanism{
      .mechanism = CKM_EC_KEY_PAIR_GEN, .parameter = nullptr, .parameter_len = 0};
  ck_object_handle_t public_key = 0;
  ck_object_handle_t private_key = 0;
  EXPECT_EQ(p11.C_GenerateKeyPair(session, &mechanism, public_template, 3, private_template, 6,
                                  &public_key, &private_key),
            CKR_OK);
  p11.C_CloseSession(session);
}

const std::vector<uint8_t> kSecp256k1Oid = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x0a};
const std::vector<uint8_t> kP256Oid = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};

// Each refusal of a key pair found on the token, from a valid pair changed in one way.
TEST_F(Pkcs11KeyTest, OpenRefusesKeysThatAreNotSafeSecp256k1KeyPairs) {
  struct Case {
    RawKeyPair pair;
    util::StatusCode code;
    std::string message;
  };
  const Case cases[] = {
      {{kSecp256k1Oid, true, false, "valid", "valid"}, util::StatusCode::kOk, ""},
      {{kP256Oid, true, false, "p256", "p256"},
       util::StatusCode::kFailedPrecondition,
       "pkcs11: key 'p256': not on the secp256k1 curve"},
      {{kSecp256k1Oid, true, true, "extractable", "extractable"},
       util::StatusCode::kFailedPrecondition,
       "pkcs11: key 'extractable': the private key is extractable or not sensitive"},
      {{kSecp256k1Oid, false, false, "clear", "clear"},
       util::StatusCode::kFailedPrecondition,
       "pkcs11: key 'clear': the private key is extractable or not sensitive"},
  };
  for (const Case& c : cases) {
    GenerateRawKeyPair(*module_, c.pair);
    util::Result<Pkcs11Key> key = Pkcs11Key::Open(
        Ctx(), module_, {.token_label = kConfig.token_label, .key_label = c.pair.private_label},
        Pin("1234"));
    EXPECT_EQ(key.status().code(), c.code) << c.pair.private_label << ": " << key.status();
    if (c.code != util::StatusCode::kOk) {
      EXPECT_EQ(key.status().message(), c.message);
    }
  }

  // The private key of one pair and the public key of another under one label.
  GenerateRawKeyPair(*module_, {kSecp256k1Oid, true, false, "other-1", "mixed"});
  GenerateRawKeyPair(*module_, {kSecp256k1Oid, true, false, "mixed", "other-2"});
  util::Result<Pkcs11Key> mixed = Pkcs11Key::Open(
      Ctx(), module_, {.token_label = kConfig.token_label, .key_label = "mixed"}, Pin("1234"));
  EXPECT_EQ(mixed.status().code(), util::StatusCode::kDataLoss);
  EXPECT_EQ(mixed.status().message(),
            "pkcs11: key 'mixed': the private key does not sign for CKA_EC_POINT's public key");

  // Two private keys under one label.
  GenerateRawKeyPair(*module_, {kSecp256k1Oid, true, false, "twice", "twice-1"});
  GenerateRawKeyPair(*module_, {kSecp256k1Oid, true, false, "twice", "twice-2"});
  util::Result<Pkcs11Key> twice = Pkcs11Key::Open(
      Ctx(), module_, {.token_label = kConfig.token_label, .key_label = "twice"}, Pin("1234"));
  EXPECT_EQ(twice.status().code(), util::StatusCode::kFailedPrecondition);
  EXPECT_EQ(twice.status().message(), "pkcs11: several private keys are labelled 'twice'");
}

}  // namespace
}  // namespace kinko::signerd
