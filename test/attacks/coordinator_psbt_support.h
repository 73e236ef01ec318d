// Tools of the coordinator-PSBT scenarios (coordinator_psbt_test.cc): what an attacker who
// builds the PSBT needs to forge one from the honest PSBT of test/support/signer_fixture.h
// (BuildPsbt): scripts of addresses, a copy of the wallet's descriptor with one cosigner key
// replaced by the attacker's, and edits of outputs and inputs that keep the PSBT's maps in step
// with its transaction; and a check of a refusal's detail on top of the harness's checks.
//
// TEST CODE ONLY: the attacker's key is derived from a public one-byte seed.
//
// Thread-safe: pure functions (TestContext() is a thread-safe static).
#ifndef KINKO_TEST_ATTACKS_COORDINATOR_PSBT_SUPPORT_H_
#define KINKO_TEST_ATTACKS_COORDINATOR_PSBT_SUPPORT_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "btc/address.h"
#include "btc/bip32.h"
#include "btc/descriptor.h"
#include "btc/psbt.h"
#include "btc/transaction.h"
#include "signer/transaction_check.h"
#include "test/attacks/attack_harness.h"
#include "test/signer/signer_setup.h"
#include "test/support/signer_fixture.h"

namespace kinko::testing {

// The scriptPubKey of `address` (an address on the fixture's network).
inline btc::Script ScriptOf(const std::string& address) {
  return btc::DecodeAddress(address, kFixtureNetwork).value().script_pubkey;
}

// The attacker's account key (tpub) at m/48'/1'/0'/2' of the master whose BIP32 seed is 0xe7
// repeated 32 times: the shape of a wallet key, in no signer.
inline std::string AttackerAccountKey() {
  const crypto::Secp256k1Context& ctx = TestContext();
  const std::vector<uint8_t> seed(32, 0xe7);
  const btc::ExtendedKey master = btc::ExtendedKey::FromSeed(ctx, seed, kFixtureNetwork).value();
  return master.DerivePath(ctx, btc::KeyPath::Parse("48h/1h/0h/2h").value())
      .value()
      .Neuter()
      .ToString();
}

// The descriptor of `deployment`'s wallet with the key of signer `replaced` swapped for the
// attacker's account key under the replaced key's origin ("[fingerprint/path]"), so that every
// derivation an output of it carries names the wallet's fingerprints and paths:
// wsh(multi(2,K1/<0;1>/*,K2/<0;1>/*,[origin3]ATTACKER/<0;1>/*)) for replaced = 2.
inline btc::Descriptor SubstitutedCosignerDescriptor(const Deployment& deployment,
                                                     size_t replaced) {
  std::string keys;
  for (size_t i = 0; i < deployment.keys().size(); ++i) {
    std::string key = deployment.keys()[i].descriptor_key;
    if (i == replaced) key = key.substr(0, key.find(']') + 1) + AttackerAccountKey();
    if (!keys.empty()) keys += ",";
    keys += key + "/<0;1>/*";
  }
  const size_t threshold = std::min<size_t>(2, deployment.keys().size());
  const std::string text = "wsh(multi(" + std::to_string(threshold) + "," + keys + "))";
  return btc::Descriptor::Parse(TestContext(), text, kFixtureNetwork).value();
}

// The expansion of the multipath `descriptor` (<receive;change>) on `branch` at `index`.
inline btc::ScriptInfo ExpandBranch(const btc::Descriptor& descriptor, signer::WalletBranch branch,
                                    uint32_t index) {
  const size_t alternative = branch == signer::WalletBranch::kReceive ? 0 : 1;
  return descriptor.SplitMultipath().at(alternative).Expand(TestContext(), index).value();
}

// Points output `index` of `psbt` (v0) at `info`: its script, and the witness script and BIP32
// derivations an updater would attach to it. The amount is kept.
inline void PayOutputTo(btc::Psbt& psbt, size_t index, const btc::ScriptInfo& info) {
  psbt.unsigned_tx->outputs.at(index).script_pubkey = info.script_pubkey;
  btc::PsbtOutput& out = psbt.outputs.at(index);
  out.witness_script = info.witness_script;
  out.bip32_derivations.clear();
  for (const auto& [key, origin] : info.bip32_derivations) out.bip32_derivations[key] = origin;
}

// Inserts an output paying `sats` to `script` at position `index` of `psbt` (v0), with an empty
// output map (what a foreign address carries).
inline void InsertOutput(btc::Psbt& psbt, size_t index, int64_t sats, const btc::Script& script) {
  auto& outputs = psbt.unsigned_tx->outputs;
  outputs.insert(outputs.begin() + static_cast<std::ptrdiff_t>(index), {sats, script});
  psbt.outputs.insert(psbt.outputs.begin() + static_cast<std::ptrdiff_t>(index), btc::PsbtOutput{});
}

// Removes output `index` of `psbt` (v0) and its map.
inline void RemoveOutput(btc::Psbt& psbt, size_t index) {
  auto& outputs = psbt.unsigned_tx->outputs;
  outputs.erase(outputs.begin() + static_cast<std::ptrdiff_t>(index));
  psbt.outputs.erase(psbt.outputs.begin() + static_cast<std::ptrdiff_t>(index));
}

// The last output of a BuildPsbt PSBT with change: the change output.
inline btc::TxOut& ChangeOutput(btc::Psbt& psbt) { return psbt.unsigned_tx->outputs.back(); }

// Makes every input of `psbt` (v0) spend `funding` instead of the transaction it spent, at the
// same output index: the outpoint's txid, the previous transaction and the witness UTXO (all of
// BuildPsbt's inputs spend one funding transaction).
inline void ReplaceFunding(btc::Psbt& psbt, const btc::Transaction& funding) {
  const btc::Txid txid = funding.ComputeTxid();
  for (size_t i = 0; i < psbt.inputs.size(); ++i) {
    btc::TxIn& in = psbt.unsigned_tx->inputs.at(i);
    in.prevout.txid = txid;
    psbt.inputs[i].non_witness_utxo = funding;
    psbt.inputs[i].witness_utxo = funding.outputs.at(in.prevout.index);
  }
}

// The previous transaction input `index` of `psbt` carries.
inline btc::Transaction FundingOf(const btc::Psbt& psbt, size_t index) {
  return psbt.inputs.at(index).non_witness_utxo.value();
}

// Sends `body` to every signer and checks AttackWorld::RefusedEverywhere with `code`, and that
// every refusal's detail contains `detail` (the output, input or figure the attack is about:
// the request was refused for the reason the scenario means, not another with the same code).
inline ::testing::AssertionResult RefusedNaming(AttackWorld& world, const std::string& body,
                                                std::string_view code, std::string_view detail) {
  const std::vector<Answer> answers = world.SignEverywhere(body);
  ::testing::AssertionResult refused = world.RefusedEverywhere(body, answers, code);
  if (!refused) return refused;
  for (const Answer& answer : answers) {
    const auto& result = std::get<signerapi::RefusedResult>(answer.response.value().result);
    if (result.detail.find(detail) == std::string::npos) {
      return ::testing::AssertionFailure()
             << "signer " << answer.signer << ": detail '" << result.detail
             << "' does not contain '" << detail << "'";
    }
  }
  return ::testing::AssertionSuccess();
}

}  // namespace kinko::testing

#endif  // KINKO_TEST_ATTACKS_COORDINATOR_PSBT_SUPPORT_H_
