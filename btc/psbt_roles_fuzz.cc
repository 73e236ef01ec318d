// Fuzz target for the PSBT roles over any PSBT that Psbt::Parse accepts. Properties:
//   - combining a PSBT with itself gives it back;
//   - the finalizer never fails on a PSBT whose UTXOs are consistent, finalizing twice changes
//     nothing more, and every input it finalizes keeps its UTXOs; when complete, the extractor
//     succeeds;
//   - the signer (a fixed master key and one single key) either refuses or returns a PSBT that
//     serializes and parses back to itself, without adding signatures on a second run;
//   - the fee facts are consistent (fee = inputs - outputs when inputs are known).
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "btc/bip32.h"
#include "btc/psbt.h"
#include "btc/psbt_roles.h"
#include "btc/psbt_sign.h"
#include "crypto/rng.h"
#include "crypto/secp256k1.h"
#include "util/check.h"

namespace {

namespace btc = kinko::btc;
namespace crypto = kinko::crypto;
namespace util = kinko::util;

const crypto::Secp256k1Context& Ctx() {
  static crypto::SystemRng rng;
  static const crypto::Secp256k1Context ctx = crypto::Secp256k1Context::Create(rng);
  return ctx;
}

const btc::PsbtSigningKeys& Keys() {
  static const btc::PsbtSigningKeys* keys = [] {
    auto* k = new btc::PsbtSigningKeys();
    const std::vector<uint8_t> seed(32, 0x5a);
    util::Result<btc::ExtendedKey> master =
        btc::ExtendedKey::FromSeed(Ctx(), seed, btc::Network::kTestnet);
    CHECK(master.ok());
    CHECK(k->AddExtendedKey(std::move(*master), std::nullopt).ok());
    std::vector<uint8_t> single(32, 0);
    single[31] = 1;
    util::Result<crypto::PrivateKey> key = crypto::PrivateKey::FromBytes(single);
    CHECK(key.ok());
    k->AddKey(Ctx(), std::move(*key));
    return k;
  }();
  return *keys;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  util::Result<btc::Psbt> parsed = btc::Psbt::Parse(std::span<const uint8_t>(data, size));
  if (!parsed.ok()) return 0;
  const btc::Psbt& psbt = *parsed;
  if (!psbt.GetUnsignedTx().ok()) return 0;

  const std::vector<btc::Psbt> twice = {psbt, psbt};
  util::Result<btc::Psbt> combined = btc::CombinePsbts(twice);
  CHECK(combined.ok());
  CHECK(*combined == psbt);

  util::Result<btc::PsbtFeeFacts> facts = btc::ComputeFeeFacts(psbt);
  util::Result<btc::PsbtFinalizeResult> finalized = btc::FinalizePsbt(psbt);
  if (finalized.ok()) {
    for (size_t i = 0; i < psbt.inputs.size(); ++i) {
      CHECK(finalized->psbt.inputs[i].non_witness_utxo == psbt.inputs[i].non_witness_utxo);
      CHECK(finalized->psbt.inputs[i].witness_utxo == psbt.inputs[i].witness_utxo);
    }
    util::Result<btc::PsbtFinalizeResult> again = btc::FinalizePsbt(finalized->psbt);
    CHECK(again.ok());
    CHECK(again->psbt == finalized->psbt);
    CHECK(again->complete == finalized->complete);
    if (finalized->complete) CHECK(btc::ExtractTransaction(finalized->psbt).ok());
  }
  if (facts.ok() && facts->input_total.has_value()) {
    CHECK(facts->fee.has_value() && *facts->fee == *facts->input_total - facts->output_total);
  }

  util::Result<btc::PsbtSignResult> signed_psbt = btc::SignPsbt(Ctx(), psbt, Keys());
  if (signed_psbt.ok()) {
    util::Result<btc::Psbt> reparsed = btc::Psbt::Parse(signed_psbt->psbt.Serialize());
    CHECK(reparsed.ok());
    CHECK(*reparsed == signed_psbt->psbt);
    util::Result<btc::PsbtSignResult> again = btc::SignPsbt(Ctx(), signed_psbt->psbt, Keys());
    CHECK(again.ok());
    CHECK(again->signatures_added == 0);
  }
  return 0;
}
