// The updater from wallet descriptors, and signing with the descriptor's xprv: a 2-of-3 P2WSH
// wallet and a taproot wallet with `pk` and `multi_a` leaves, through every role to a final
// transaction that the script interpreter accepts.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "btc/bip32.h"
#include "btc/descriptor.h"
#include "btc/interpreter.h"
#include "btc/psbt_roles.h"
#include "btc/psbt_sign.h"
#include "crypto/rng.h"
#include "crypto/secp256k1.h"

namespace kinko::btc {
namespace {

const crypto::Secp256k1Context& Ctx() {
  static crypto::SystemRng rng;
  static const crypto::Secp256k1Context ctx = crypto::Secp256k1Context::Create(rng);
  return ctx;
}

ExtendedKey Master(uint8_t seed_byte) {
  const std::vector<uint8_t> seed(32, seed_byte);
  util::Result<ExtendedKey> master = ExtendedKey::FromSeed(Ctx(), seed, Network::kRegtest);
  EXPECT_TRUE(master.ok());
  return std::move(*master);
}

Descriptor ParseDescriptor(const std::string& text) {
  util::Result<Descriptor> descriptor = Descriptor::Parse(Ctx(), text, Network::kRegtest);
  EXPECT_TRUE(descriptor.ok()) << descriptor.status() << " " << text;
  return std::move(*descriptor);
}

Script ScriptAt(const Descriptor& descriptor, uint32_t index) {
  util::Result<ScriptInfo> info = descriptor.Expand(Ctx(), index);
  EXPECT_TRUE(info.ok());
  return info->script_pubkey;
}

struct Wallets {
  ExtendedKey a = Master(0x0a);
  ExtendedKey b = Master(0x0b);
  ExtendedKey c = Master(0x0c);
  // Signer A's view: its own xprv, the others' xpubs.
  Descriptor wsh =
      ParseDescriptor("wsh(sortedmulti(2," + a.ToString() + "/0/*," + b.Neuter().ToString() +
                      "/0/*," + c.Neuter().ToString() + "/0/*))");
  Descriptor tr = ParseDescriptor("tr(" + b.Neuter().ToString() + "/1/*,{pk(" + a.ToString() +
                                  "/2/*),multi_a(2," + a.ToString() + "/3/*," +
                                  c.Neuter().ToString() + "/3/*)})");
};

TEST(PsbtDescriptorTest, UpdateSignCombineFinalizeVerify) {
  Wallets w;
  Transaction funding;
  funding.version = 2;
  funding.inputs.resize(1);
  funding.outputs.push_back(TxOut{.value = 70000, .script_pubkey = ScriptAt(w.wsh, 5)});
  funding.outputs.push_back(TxOut{.value = 80000, .script_pubkey = ScriptAt(w.tr, 7)});

  Transaction spending;
  spending.version = 2;
  for (uint32_t i = 0; i < 2; ++i) {
    TxIn in;
    in.prevout = Outpoint{funding.ComputeTxid(), i};
    spending.inputs.push_back(in);
  }
  spending.outputs.push_back(TxOut{.value = 100000, .script_pubkey = ScriptAt(w.wsh, 9)});
  spending.outputs.push_back(TxOut{.value = 49000, .script_pubkey = ScriptAt(w.tr, 11)});
  util::Result<Psbt> created = CreatePsbt(spending);
  ASSERT_TRUE(created.ok());

  const std::vector<Transaction> previous = {funding};
  util::Result<Psbt> updated = UpdatePsbtWithDescriptor(Ctx(), *created, w.wsh, previous);
  ASSERT_TRUE(updated.ok()) << updated.status();
  updated = UpdatePsbtWithDescriptor(Ctx(), *updated, w.tr, previous);
  ASSERT_TRUE(updated.ok()) << updated.status();
  const Psbt& psbt = *updated;

  // P2WSH input and change: the witness script and the three keys' origins.
  EXPECT_TRUE(psbt.inputs[0].non_witness_utxo.has_value());
  EXPECT_TRUE(psbt.inputs[0].witness_utxo.has_value());
  EXPECT_TRUE(psbt.inputs[0].witness_script.has_value());
  EXPECT_EQ(psbt.inputs[0].bip32_derivations.size(), 3u);
  for (const auto& [pubkey, origin] : psbt.inputs[0].bip32_derivations) {
    EXPECT_EQ(origin.path.steps, (std::vector<uint32_t>{0, 5}));
  }
  EXPECT_TRUE(psbt.outputs[0].witness_script.has_value());
  EXPECT_EQ(psbt.outputs[0].bip32_derivations.size(), 3u);
  // Taproot input and change: internal key, merkle root, both leaves, every key's origin.
  EXPECT_TRUE(psbt.inputs[1].tap_internal_key.has_value());
  EXPECT_TRUE(psbt.inputs[1].tap_merkle_root.has_value());
  EXPECT_EQ(psbt.inputs[1].tap_leaf_scripts.size(), 2u);
  EXPECT_EQ(psbt.inputs[1].tap_bip32_derivations.size(), 4u);
  EXPECT_TRUE(psbt.outputs[1].tap_internal_key.has_value());
  EXPECT_EQ(psbt.outputs[1].tap_tree.size(), 2u);
  EXPECT_EQ(psbt.outputs[1].tap_bip32_derivations.size(), 4u);

  // The update round-trips through the binary form and is stable.
  util::Result<Psbt> reparsed = Psbt::Parse(psbt.Serialize());
  ASSERT_TRUE(reparsed.ok()) << reparsed.status();
  EXPECT_EQ(*reparsed, psbt);
  util::Result<Psbt> again = UpdatePsbtWithDescriptor(Ctx(), psbt, w.wsh, previous);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, psbt);

  // Signer A signs with the descriptor's xprv; signer C with its master.
  PsbtSigningKeys keys_a;
  for (const auto& [key, origin] : w.wsh.PrivateExtendedKeys()) {
    ASSERT_TRUE(keys_a.AddExtendedKey(key->Clone(), origin).ok());
  }
  PsbtSigningKeys keys_c;
  ASSERT_TRUE(keys_c.AddExtendedKey(w.c.Clone(), std::nullopt).ok());
  util::Result<PsbtSignResult> signed_a = SignPsbt(Ctx(), psbt, keys_a);
  ASSERT_TRUE(signed_a.ok()) << signed_a.status();
  // One ECDSA signature; the pk leaf and the multi_a leaf (the same master A).
  EXPECT_EQ(signed_a->signatures_added, 3u);
  // The pk leaf alone completes the taproot input; the P2WSH input needs signer C.
  EXPECT_FALSE(signed_a->complete);
  util::Result<PsbtSignResult> signed_c = SignPsbt(Ctx(), psbt, keys_c);
  ASSERT_TRUE(signed_c.ok());
  EXPECT_EQ(signed_c->signatures_added, 2u);

  const std::vector<Psbt> both = {signed_a->psbt, signed_c->psbt};
  util::Result<Psbt> combined = CombinePsbts(both);
  ASSERT_TRUE(combined.ok());
  util::Result<PsbtFinalizeResult> finalized = FinalizePsbt(*combined);
  ASSERT_TRUE(finalized.ok());
  ASSERT_TRUE(finalized->complete);
  util::Result<Transaction> tx = ExtractTransaction(finalized->psbt);
  ASSERT_TRUE(tx.ok());
  TxVerifyResult verified = VerifyTransaction(Ctx(), *tx, funding.outputs, StandardVerifyFlags());
  EXPECT_TRUE(verified.valid) << verified.detail;
  EXPECT_EQ(tx->inputs[1].witness.size(), 3u);  // The pk leaf: signature, script, control block.

  util::Result<PsbtFeeFacts> facts = ComputeFeeFacts(psbt);
  ASSERT_TRUE(facts.ok());
  EXPECT_EQ(facts->fee, 1000);
  EXPECT_FALSE(facts->amount_from_witness_utxo_only);
  // Unsigned, the estimate assumes the taproot key path (the internal key is the wallet's);
  // once signed, the signatures present give the exact size.
  ASSERT_TRUE(facts->estimated_vsize.has_value());
  EXPECT_LT(*facts->estimated_vsize, tx->VirtualSize());
  util::Result<PsbtFeeFacts> signed_facts = ComputeFeeFacts(*combined);
  ASSERT_TRUE(signed_facts.ok());
  EXPECT_EQ(signed_facts->estimated_vsize, tx->VirtualSize());
}

TEST(PsbtDescriptorTest, ScriptsOutsideTheRangeAreLeftAlone) {
  Wallets w;
  Transaction funding;
  funding.version = 2;
  funding.inputs.resize(1);
  funding.outputs.push_back(TxOut{.value = 70000, .script_pubkey = ScriptAt(w.wsh, 50)});
  Transaction spending;
  TxIn in;
  in.prevout = Outpoint{funding.ComputeTxid(), 0};
  spending.inputs.push_back(in);
  spending.outputs.push_back(TxOut{.value = 1000, .script_pubkey = ScriptAt(w.wsh, 60)});
  util::Result<Psbt> created = CreatePsbt(spending);
  ASSERT_TRUE(created.ok());
  const std::vector<Transaction> previous = {funding};
  PsbtDescriptorUpdateOptions options;
  options.range = 10;
  util::Result<Psbt> updated = UpdatePsbtWithDescriptor(Ctx(), *created, w.wsh, previous, options);
  ASSERT_TRUE(updated.ok());
  EXPECT_TRUE(updated->inputs[0].non_witness_utxo.has_value());
  EXPECT_FALSE(updated->inputs[0].witness_script.has_value());
  EXPECT_FALSE(updated->outputs[0].witness_script.has_value());
  options.range = 61;
  updated = UpdatePsbtWithDescriptor(Ctx(), *created, w.wsh, previous, options);
  ASSERT_TRUE(updated.ok());
  EXPECT_TRUE(updated->inputs[0].witness_script.has_value());
  EXPECT_TRUE(updated->outputs[0].witness_script.has_value());
}

}  // namespace
}  // namespace kinko::btc
