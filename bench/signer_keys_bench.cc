// The signer's key backends, each against the in-process libsecp256k1 work measured in the same
// run (the benchmark creates its own SoftHSM2 token in a temporary directory):
//   SignerKeys_Pkcs11SignDigest   Pkcs11Key::SignDigest: C_SignInit + C_Sign (CKM_ECDSA) in
//                                 SoftHSM2, low-S normalisation, DER, libsecp256k1 verification.
//   SignerKeys_Secp256k1SignDigest crypto::EcdsaSign of the same digest with an in-process key
//                                 (RFC 6979, low-R grinding, and its own verification).
//   SignerKeys_PsbtSign/pkcs11    SignPsbt of a one-input 2-of-2 P2WSH PSBT with the HSM key.
//   SignerKeys_PsbtSign/file      The same PSBT with the file key (an xprv with its origin).
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "btc/psbt_sign.h"
#include "crypto/hash.h"
#include "crypto/rng.h"
#include "crypto/secp256k1.h"
#include "signerd/file_key.h"
#include "signerd/internal/softhsm_testing.h"
#include "signerd/internal/wallet_testing.h"
#include "signerd/pkcs11_key.h"
#include "util/check.h"

namespace kinko::signerd {
namespace {

const crypto::Secp256k1Context& Ctx() {
  static crypto::SystemRng rng;
  static const crypto::Secp256k1Context ctx = crypto::Secp256k1Context::Create(rng);
  return ctx;
}

// One token, module, HSM key, file key and PSBT for the whole run.
struct Setup {
  std::unique_ptr<internal::SoftHsmToken> token;
  std::shared_ptr<const Pkcs11Module> module;
  std::unique_ptr<Pkcs11Key> hsm_key;
  std::unique_ptr<FileKey> file_key;
  internal::TestSpend spend;

  Setup() {
    util::Result<std::unique_ptr<internal::SoftHsmToken>> created =
        internal::SoftHsmToken::Create();
    CHECK(created.ok());
    token = std::move(*created);
    util::Result<std::shared_ptr<const Pkcs11Module>> loaded =
        Pkcs11Module::Load(internal::SoftHsmModulePath());
    CHECK(loaded.ok());
    module = std::move(*loaded);
    util::Result<Pkcs11Key> hsm = Pkcs11Key::Generate(
        Ctx(), module, {.token_label = internal::kSoftHsmTokenLabel, .key_label = "bench"},
        TokenPin::FromText(internal::kSoftHsmUserPin).value());
    CHECK(hsm.ok());
    hsm_key = std::make_unique<Pkcs11Key>(std::move(*hsm));

    crypto::SystemRng rng;
    const std::string path = (std::filesystem::temp_directory_path() /
                              ("kinko-bench-" + std::to_string(getpid()) + ".key"))
                                 .string();
    util::Result<FileKey> file = FileKey::Generate(
        Ctx(), path, crypto::SecretBytes::FromSpan(std::vector<uint8_t>{'p', 'w'}), rng,
        {.network = btc::Network::kRegtest,
         .account_path = btc::KeyPath::Parse("m/48'/1'/0'/2'").value(),
         .kdf = {.passes = 1, .memory_kib = 8},
         .label = "bench"});
    std::filesystem::remove(path);
    CHECK(file.ok());
    file_key = std::make_unique<FileKey>(std::move(*file));

    util::Result<internal::TestSpend> made = internal::MakeTestSpend(
        Ctx(),
        "wsh(multi(2," + hsm_key->descriptor_key() + "," + file_key->descriptor_key() + "/0/*))",
        btc::Network::kRegtest);
    CHECK(made.ok());
    spend = std::move(*made);
  }
  ~Setup() {
    hsm_key.reset();
    module.reset();  // C_Finalize before the token directory goes.
  }
};

Setup& GetSetup() {
  static Setup setup;
  return setup;
}

crypto::Hash256Bytes Digest() {
  const std::array<uint8_t, 5> message = {'k', 'i', 'n', 'k', 'o'};
  return crypto::Sha256(message);
}

void SignerKeys_Pkcs11SignDigest(benchmark::State& state) {
  const Pkcs11Key& key = *GetSetup().hsm_key;
  const crypto::Hash256Bytes digest = Digest();
  for (auto _ : state) {
    util::Result<std::vector<uint8_t>> sig = key.SignDigest(digest);
    CHECK(sig.ok());
    benchmark::DoNotOptimize(sig->data());
  }
}
BENCHMARK(SignerKeys_Pkcs11SignDigest)->Unit(benchmark::kMicrosecond);

void SignerKeys_Secp256k1SignDigest(benchmark::State& state) {
  crypto::SystemRng rng;
  const crypto::PrivateKey key = crypto::PrivateKey::Generate(rng);
  const crypto::Hash256Bytes digest = Digest();
  for (auto _ : state) {
    std::vector<uint8_t> sig = crypto::EcdsaSign(Ctx(), key, digest);
    benchmark::DoNotOptimize(sig.data());
  }
}
BENCHMARK(SignerKeys_Secp256k1SignDigest)->Unit(benchmark::kMicrosecond);

void SignerKeys_PsbtSign(benchmark::State& state, bool hsm) {
  Setup& setup = GetSetup();
  btc::PsbtSigningKeys keys;
  const KeyBackend& backend =
      hsm ? static_cast<const KeyBackend&>(*setup.hsm_key) : *setup.file_key;
  CHECK(backend.AddTo(keys).ok());
  for (auto _ : state) {
    util::Result<btc::PsbtSignResult> result = btc::SignPsbt(Ctx(), setup.spend.psbt, keys);
    CHECK(result.ok() && result->signatures_added == 1);
    benchmark::DoNotOptimize(result->psbt);
  }
}
BENCHMARK_CAPTURE(SignerKeys_PsbtSign, pkcs11, true)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(SignerKeys_PsbtSign, file, false)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace kinko::signerd
