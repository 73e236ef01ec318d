// The signer and finalizer on every input kind they support, in one transaction, with the
// final transaction checked by the script interpreter under the standard flags.
#include "btc/psbt_sign.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "btc/bip32.h"
#include "btc/interpreter.h"
#include "btc/psbt_roles.h"
#include "btc/sighash.h"
#include "btc/standard.h"
#include "crypto/hash.h"
#include "crypto/key_export.h"
#include "crypto/rng.h"
#include "crypto/secp256k1.h"
#include "util/hex.h"

namespace kinko::btc {
namespace {

using ::testing::HasSubstr;

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

// Keys m/0/i of a test master, with their origins.
struct TestKey {
  std::vector<uint8_t> pubkey;  // Compressed.
  XOnlyBytes xonly;
  KeyOrigin origin;
};

TestKey Key(const ExtendedKey& master, uint32_t index) {
  KeyOrigin origin{.fingerprint = master.Fingerprint(), .path = KeyPath{{0, index}}};
  util::Result<ExtendedKey> child = master.DerivePath(Ctx(), origin.path);
  EXPECT_TRUE(child.ok());
  const auto compressed = child->public_key().SerializeCompressed();
  return TestKey{.pubkey = std::vector<uint8_t>(compressed.begin(), compressed.end()),
                 .xonly = crypto::XOnlyPublicKey::FromPublicKey(child->public_key()).bytes(),
                 .origin = origin};
}

std::array<uint8_t, 20> Hash160(std::span<const uint8_t> data) { return crypto::Hash160(data); }
std::array<uint8_t, 32> Sha256(std::span<const uint8_t> data) { return crypto::Sha256(data); }

Script TapPkLeaf(const XOnlyBytes& key) {
  Script script;
  script.PushData(key);
  script.PushOpcode(static_cast<uint8_t>(Opcode::kCheckSig));
  return script;
}

// A taproot output: internal key, leaves (script, control block) and output script.
struct TaprootOutput {
  XOnlyBytes internal_key;
  std::optional<std::array<uint8_t, 32>> merkle_root;
  std::vector<std::pair<Script, std::vector<uint8_t>>> leaves;
  Script script_pubkey;
};

// A tree of one leaf or of two leaves under one branch.
TaprootOutput MakeTaproot(const XOnlyBytes& internal_key, const std::vector<Script>& leaves) {
  TaprootOutput out{
      .internal_key = internal_key, .merkle_root = {}, .leaves = {}, .script_pubkey = {}};
  std::vector<TapLeafHash> hashes;
  for (const Script& leaf : leaves) hashes.push_back(ComputeTapleafHash(0xc0, leaf));
  if (hashes.size() == 1) out.merkle_root = hashes[0];
  if (hashes.size() == 2) out.merkle_root = ComputeTapBranchHash(hashes[0], hashes[1]);
  util::Result<crypto::XOnlyPublicKey> internal = crypto::XOnlyPublicKey::Parse(internal_key);
  EXPECT_TRUE(internal.ok());
  util::Result<crypto::TweakedPublicKey> tweaked =
      crypto::TaprootTweakPublicKey(Ctx(), *internal, out.merkle_root);
  EXPECT_TRUE(tweaked.ok());
  out.script_pubkey = P2trScript(tweaked->key.bytes());
  for (size_t i = 0; i < leaves.size(); ++i) {
    std::vector<uint8_t> control{static_cast<uint8_t>(0xc0 | (tweaked->parity_odd ? 1 : 0))};
    control.insert(control.end(), internal_key.begin(), internal_key.end());
    if (hashes.size() == 2) {
      const TapLeafHash& sibling = hashes[1 - i];
      control.insert(control.end(), sibling.begin(), sibling.end());
    }
    out.leaves.emplace_back(leaves[i], control);
  }
  return out;
}

void AddTaprootFields(PsbtInput& input, const TaprootOutput& out,
                      const std::vector<TestKey>& keys) {
  input.tap_internal_key = out.internal_key;
  input.tap_merkle_root = out.merkle_root;
  for (const auto& [script, control] : out.leaves) {
    input.tap_leaf_scripts.emplace(control, std::make_pair(script, uint8_t{0xc0}));
  }
  for (const TestKey& key : keys) {
    std::vector<TapLeafHash> leaf_hashes;
    for (const auto& [script, control] : out.leaves) {
      leaf_hashes.push_back(ComputeTapleafHash(0xc0, script));
    }
    if (key.xonly == out.internal_key) leaf_hashes.clear();
    input.tap_bip32_derivations.emplace(key.xonly, std::make_pair(leaf_hashes, key.origin));
  }
}

// One transaction spending one output of each kind, built and updated as a wallet would.
struct Fixture {
  ExtendedKey master = Master(0x11);
  std::vector<TestKey> keys;
  Transaction funding;
  Psbt psbt;
  std::vector<TxOut> spent;

  Fixture() {
    for (uint32_t i = 0; i < 12; ++i) keys.push_back(Key(master, i));
    const XOnlyBytes unspendable = Key(Master(0x22), 0).xonly;  // Not held by any signer.

    PsbtUpdateData data;
    for (const TestKey& key : keys) data.key_origins.emplace(key.pubkey, key.origin);
    std::vector<Script> spks;
    // 0: P2PKH.
    spks.push_back(P2pkhScript(Hash160(keys[0].pubkey)));
    // 1: P2SH-P2WPKH.
    const Script nested_wpkh = P2wpkhScript(Hash160(keys[1].pubkey));
    data.scripts.push_back(nested_wpkh);
    spks.push_back(P2shScript(Hash160(nested_wpkh.bytes())));
    // 2: P2WPKH.
    spks.push_back(P2wpkhScript(Hash160(keys[2].pubkey)));
    // 3: P2WSH 2-of-3.
    const Script multisig =
        SortedMultisigScript(2, {keys[3].pubkey, keys[4].pubkey, keys[5].pubkey});
    data.scripts.push_back(multisig);
    spks.push_back(P2wshScript(Sha256(multisig.bytes())));
    // 4: P2SH-P2WSH 2-of-3 (same witness script).
    const Script nested_wsh = P2wshScript(Sha256(multisig.bytes()));
    data.scripts.push_back(nested_wsh);
    spks.push_back(P2shScript(Hash160(nested_wsh.bytes())));
    // 5: P2SH 2-of-3 (legacy).
    const Script legacy_multisig =
        SortedMultisigScript(2, {keys[0].pubkey, keys[1].pubkey, keys[2].pubkey});
    data.scripts.push_back(legacy_multisig);
    spks.push_back(P2shScript(Hash160(legacy_multisig.bytes())));
    // 6: P2TR key path, no script tree.
    const TaprootOutput key_only = MakeTaproot(keys[6].xonly, {});
    spks.push_back(key_only.script_pubkey);
    // 7: P2TR key path with a tree (pk and multi_a leaves).
    const Script pk_leaf = TapPkLeaf(keys[8].xonly);
    const Script multi_a_leaf = MultiAScript(2, {keys[9].xonly, keys[10].xonly, keys[11].xonly});
    const TaprootOutput with_tree = MakeTaproot(keys[7].xonly, {pk_leaf, multi_a_leaf});
    spks.push_back(with_tree.script_pubkey);
    // 8: P2TR script path, `pk` leaf (unspendable internal key; the pk leaf is the cheapest).
    const TaprootOutput pk_path = MakeTaproot(unspendable, {pk_leaf, multi_a_leaf});
    spks.push_back(pk_path.script_pubkey);
    // 9: P2TR script path, the only leaf is multi_a 2-of-3.
    const TaprootOutput multi_a_path = MakeTaproot(unspendable, {multi_a_leaf});
    spks.push_back(multi_a_path.script_pubkey);

    funding.version = 2;
    funding.inputs.resize(1);
    funding.inputs[0].prevout.index = 7;
    funding.inputs[0].prevout.txid = Txid(std::array<uint8_t, 32>{0xaa});
    for (size_t i = 0; i < spks.size(); ++i) {
      funding.outputs.push_back(
          TxOut{.value = 100000 + static_cast<int64_t>(i), .script_pubkey = spks[i]});
    }
    data.previous_transactions.push_back(funding);

    Transaction spending;
    spending.version = 2;
    for (size_t i = 0; i < spks.size(); ++i) {
      TxIn in;
      in.prevout = Outpoint{funding.ComputeTxid(), static_cast<uint32_t>(i)};
      in.sequence = 0xfffffffd;
      spending.inputs.push_back(in);
      spent.push_back(funding.outputs[i]);
    }
    spending.outputs.push_back(TxOut{.value = 900000, .script_pubkey = spks[2]});
    util::Result<Psbt> created = CreatePsbt(spending);
    EXPECT_TRUE(created.ok());
    util::Result<Psbt> updated = UpdatePsbt(*created, data);
    EXPECT_TRUE(updated.ok());
    psbt = std::move(*updated);

    AddTaprootFields(psbt.inputs[6], key_only, {keys[6]});
    AddTaprootFields(psbt.inputs[7], with_tree, {keys[7], keys[8], keys[9], keys[10], keys[11]});
    AddTaprootFields(psbt.inputs[8], pk_path, {keys[8], keys[9], keys[10], keys[11]});
    AddTaprootFields(psbt.inputs[9], multi_a_path, {keys[9], keys[10], keys[11]});
  }
};

// Finalizes, extracts and verifies with the interpreter.
void ExpectFinalTransactionVerifies(const Fixture& f, const Psbt& signed_psbt) {
  util::Result<PsbtFinalizeResult> finalized = FinalizePsbt(signed_psbt);
  ASSERT_TRUE(finalized.ok()) << finalized.status();
  ASSERT_TRUE(finalized->complete);
  util::Result<Transaction> tx = ExtractTransaction(finalized->psbt);
  ASSERT_TRUE(tx.ok()) << tx.status();
  TxVerifyResult verified = VerifyTransaction(Ctx(), *tx, f.spent, StandardVerifyFlags());
  EXPECT_TRUE(verified.valid) << verified.detail;

  // Key path where the internal key signs; otherwise the cheapest leaf.
  EXPECT_EQ(tx->inputs[6].witness.size(), 1u);
  EXPECT_EQ(tx->inputs[7].witness.size(), 1u);
  EXPECT_EQ(tx->inputs[8].witness.size(), 3u);  // sig, pk leaf, control block
  EXPECT_EQ(tx->inputs[9].witness.size(), 5u);  // three multi_a slots, leaf, control block

  // The pre-signing size estimate is an upper bound, tight for taproot and at most one
  // virtual byte per ECDSA signature above (72-byte placeholders).
  util::Result<PsbtFeeFacts> estimate = ComputeFeeFacts(f.psbt);
  ASSERT_TRUE(estimate.ok());
  ASSERT_TRUE(estimate->estimated_vsize.has_value());
  EXPECT_GE(*estimate->estimated_vsize, tx->VirtualSize());
  EXPECT_LE(*estimate->estimated_vsize, tx->VirtualSize() + 8);
  EXPECT_FALSE(estimate->amount_from_witness_utxo_only);
  EXPECT_EQ(*estimate->fee, 1000045 - 900000);
}

TEST(PsbtSignTest, MasterXprvSignsEveryKindAndTheResultVerifies) {
  Fixture f;
  PsbtSigningKeys keys;
  ASSERT_TRUE(keys.AddExtendedKey(f.master.Clone(), std::nullopt).ok());
  util::Result<PsbtSignResult> signed_psbt = SignPsbt(Ctx(), f.psbt, keys);
  ASSERT_TRUE(signed_psbt.ok()) << signed_psbt.status();
  EXPECT_TRUE(signed_psbt->complete);
  // 1 + 1 + 1 + 3 + 3 + 3 ECDSA; taproot: 1 key path, 1 + 1 + 3 leaf (input 7), 1 + 3 (8), 3 (9).
  EXPECT_EQ(signed_psbt->signatures_added, 12u + 1u + 5u + 4u + 3u);
  ExpectFinalTransactionVerifies(f, signed_psbt->psbt);
}

TEST(PsbtSignTest, TwoSignersCombineToAFinalTransaction) {
  Fixture f;
  // Signer A holds the even keys, signer B the odd ones, as single keys.
  PsbtSigningKeys a;
  PsbtSigningKeys b;
  for (uint32_t i = 0; i < 12; ++i) {
    util::Result<ExtendedKey> child = f.master.DerivePath(Ctx(), KeyPath{{0, i}});
    ASSERT_TRUE(child.ok());
    (i % 2 == 0 ? a : b).AddKey(Ctx(), crypto::CopyPrivateKey(*child->private_key()));
  }
  util::Result<PsbtSignResult> signed_a = SignPsbt(Ctx(), f.psbt, a);
  util::Result<PsbtSignResult> signed_b = SignPsbt(Ctx(), f.psbt, b);
  ASSERT_TRUE(signed_a.ok() && signed_b.ok());
  EXPECT_FALSE(signed_a->complete);
  EXPECT_FALSE(signed_b->complete);
  const std::vector<Psbt> both = {signed_a->psbt, signed_b->psbt};
  util::Result<Psbt> combined = CombinePsbts(both);
  ASSERT_TRUE(combined.ok());
  ExpectFinalTransactionVerifies(f, *combined);
}

TEST(PsbtSignTest, XprvWithOriginSignsKeysBelowIt) {
  Fixture f;
  // The account key m/0, named by its origin: derivations m/0/i extend it.
  util::Result<ExtendedKey> account = f.master.DerivePath(Ctx(), KeyPath{{0}});
  ASSERT_TRUE(account.ok());
  PsbtSigningKeys keys;
  ASSERT_TRUE(
      keys.AddExtendedKey(std::move(*account),
                          KeyOrigin{.fingerprint = f.master.Fingerprint(), .path = KeyPath{{0}}})
          .ok());
  util::Result<PsbtSignResult> signed_psbt = SignPsbt(Ctx(), f.psbt, keys);
  ASSERT_TRUE(signed_psbt.ok());
  EXPECT_TRUE(signed_psbt->complete);
  ExpectFinalTransactionVerifies(f, signed_psbt->psbt);

  // The same key under a wrong origin signs nothing.
  util::Result<ExtendedKey> account2 = f.master.DerivePath(Ctx(), KeyPath{{1}});
  ASSERT_TRUE(account2.ok());
  PsbtSigningKeys wrong;
  ASSERT_TRUE(
      wrong
          .AddExtendedKey(std::move(*account2),
                          KeyOrigin{.fingerprint = f.master.Fingerprint(), .path = KeyPath{{0}}})
          .ok());
  util::Result<PsbtSignResult> unsigned_psbt = SignPsbt(Ctx(), f.psbt, wrong);
  ASSERT_TRUE(unsigned_psbt.ok());
  EXPECT_EQ(unsigned_psbt->signatures_added, 0u);
}

TEST(PsbtSignTest, NothingToSignWithoutUtxos) {
  Fixture f;
  Psbt psbt = f.psbt;
  for (PsbtInput& input : psbt.inputs) {
    input.non_witness_utxo.reset();
    input.witness_utxo.reset();
  }
  PsbtSigningKeys keys;
  ASSERT_TRUE(keys.AddExtendedKey(f.master.Clone(), std::nullopt).ok());
  util::Result<PsbtSignResult> signed_psbt = SignPsbt(Ctx(), psbt, keys);
  ASSERT_TRUE(signed_psbt.ok());
  EXPECT_EQ(signed_psbt->signatures_added, 0u);
  EXPECT_FALSE(signed_psbt->complete);
}

TEST(PsbtSignTest, TaprootNeedsEveryInputsSpentOutput) {
  Fixture f;
  Psbt psbt = f.psbt;
  psbt.inputs[0].non_witness_utxo.reset();  // Input 0's amount unknown: BIP341 cannot sign.
  PsbtSigningKeys keys;
  ASSERT_TRUE(keys.AddExtendedKey(f.master.Clone(), std::nullopt).ok());
  util::Result<PsbtSignResult> signed_psbt = SignPsbt(Ctx(), psbt, keys);
  ASSERT_TRUE(signed_psbt.ok());
  EXPECT_FALSE(signed_psbt->complete);
  for (size_t i = 6; i < 10; ++i) {
    EXPECT_FALSE(signed_psbt->psbt.inputs[i].tap_key_sig.has_value());
    EXPECT_TRUE(signed_psbt->psbt.inputs[i].tap_script_sigs.empty());
  }
  EXPECT_FALSE(signed_psbt->psbt.inputs[2].partial_sigs.empty());  // Segwit v0 still signs.
}

TEST(PsbtSignTest, RefusesTaprootInternalKeyThatDoesNotGiveTheOutputKey) {
  Fixture f;
  Psbt psbt = f.psbt;
  psbt.inputs[7].tap_merkle_root->at(0) ^= 1;
  PsbtSigningKeys keys;
  ASSERT_TRUE(keys.AddExtendedKey(f.master.Clone(), std::nullopt).ok());
  util::Result<PsbtSignResult> signed_psbt = SignPsbt(Ctx(), psbt, keys);
  ASSERT_FALSE(signed_psbt.ok());
  EXPECT_THAT(signed_psbt.status().message(),
              HasSubstr("psbt input 7: taproot internal key and merkle root"));
}

TEST(PsbtSignTest, RefusesWitnessScriptOfAnotherProgram) {
  Fixture f;
  Psbt psbt = f.psbt;
  psbt.inputs[3].witness_script = psbt.inputs[5].redeem_script;
  PsbtSigningKeys keys;
  ASSERT_TRUE(keys.AddExtendedKey(f.master.Clone(), std::nullopt).ok());
  util::Result<PsbtSignResult> signed_psbt = SignPsbt(Ctx(), psbt, keys);
  ASSERT_FALSE(signed_psbt.ok());
  EXPECT_THAT(signed_psbt.status().message(),
              HasSubstr("psbt input 3: witness script does not match the spent output's script"));
}

TEST(PsbtSignTest, RefusesWitnessUtxoThatDisagreesWithThePreviousTransaction) {
  Fixture f;
  Psbt psbt = f.psbt;
  ASSERT_TRUE(psbt.inputs[2].witness_utxo.has_value());
  psbt.inputs[2].witness_utxo->value -= 1;
  PsbtSigningKeys keys;
  util::Result<PsbtSignResult> signed_psbt = SignPsbt(Ctx(), psbt, keys);
  ASSERT_FALSE(signed_psbt.ok());
  EXPECT_THAT(signed_psbt.status().message(),
              HasSubstr("psbt input 2: witness utxo differs from the previous transaction"));
  EXPECT_FALSE(ComputeFeeFacts(psbt).ok());
}

TEST(PsbtSignTest, TaprootSighashAllAddsTheTypeByte) {
  Fixture f;
  Psbt psbt = f.psbt;
  for (size_t i = 6; i < 10; ++i) psbt.inputs[i].sighash_type = kSighashAll;
  PsbtSigningKeys keys;
  ASSERT_TRUE(keys.AddExtendedKey(f.master.Clone(), std::nullopt).ok());
  util::Result<PsbtSignResult> signed_psbt = SignPsbt(Ctx(), psbt, keys);
  ASSERT_TRUE(signed_psbt.ok()) << signed_psbt.status();
  ASSERT_TRUE(signed_psbt->psbt.inputs[6].tap_key_sig.has_value());
  EXPECT_EQ(signed_psbt->psbt.inputs[6].tap_key_sig->size(), 65u);
  for (const auto& [key, sig] : signed_psbt->psbt.inputs[9].tap_script_sigs) {
    EXPECT_EQ(sig.size(), 65u);
  }
  f.psbt = psbt;
  ExpectFinalTransactionVerifies(f, signed_psbt->psbt);
}

TEST(PsbtSignTest, TaprootSighashSingleRefusedOnlyWhereTheSignerSigns) {
  Fixture f;
  Psbt psbt = f.psbt;
  psbt.inputs[6].sighash_type = kSighashSingle;
  PsbtSigningKeys keys;
  ASSERT_TRUE(keys.AddExtendedKey(f.master.Clone(), std::nullopt).ok());
  util::Result<PsbtSignResult> refused = SignPsbt(Ctx(), psbt, keys);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), util::StatusCode::kPermissionDenied);
  EXPECT_THAT(refused.status().message(), HasSubstr("psbt input 6: sighash type 3"));

  // A signer without the key of input 6 signs the rest.
  PsbtSigningKeys other;
  util::Result<ExtendedKey> key2 = f.master.DerivePath(Ctx(), KeyPath{{0, 2}});
  ASSERT_TRUE(key2.ok());
  other.AddKey(Ctx(), crypto::CopyPrivateKey(*key2->private_key()));
  util::Result<PsbtSignResult> signed_psbt = SignPsbt(Ctx(), psbt, other);
  ASSERT_TRUE(signed_psbt.ok()) << signed_psbt.status();
  EXPECT_EQ(signed_psbt->signatures_added, 2u);  // Inputs 2 (P2WPKH) and 5 (P2SH multisig).
}

// An external key that wraps an in-process key, and can be told to misbehave.
class TestExternalKey final : public ExternalEcdsaKey {
 public:
  enum class Fault { kNone, kError, kWrongDigest, kHighS, kNotDer };

  TestExternalKey(const ExtendedKey& key, Fault fault)
      : key_(crypto::CopyPrivateKey(*key.private_key())),
        public_key_(key.public_key()),
        fault_(fault) {}

  const crypto::PublicKey& public_key() const override { return public_key_; }
  std::string name() const override { return "test"; }
  util::Result<std::vector<uint8_t>> SignDigest(const crypto::Hash256Bytes& digest) const override {
    ++calls_;
    crypto::Hash256Bytes signed_digest = digest;
    switch (fault_) {
      case Fault::kNone:
      case Fault::kHighS:
      case Fault::kNotDer:
        break;
      case Fault::kError:
        return util::UnavailableError("device unplugged");
      case Fault::kWrongDigest:
        signed_digest[0] ^= 1;
        break;
    }
    std::vector<uint8_t> sig = crypto::EcdsaSign(Ctx(), key_, signed_digest);
    if (fault_ == Fault::kHighS) sig = WithHighS(sig);
    if (fault_ == Fault::kNotDer) sig.push_back(0);  // Trailing garbage.
    return sig;
  }
  int calls() const { return calls_; }

 private:
  // The same signature with S replaced by n - S (also valid, but not low S).
  static std::vector<uint8_t> WithHighS(const std::vector<uint8_t>& der) {
    static constexpr std::array<uint8_t, 32> kOrder = {
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xfe, 0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48,
        0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41};
    // DER: 30 len 02 rlen r 02 slen s.
    const size_t r_len = der[3];
    const std::vector<uint8_t> r(der.begin() + 4, der.begin() + 4 + static_cast<long>(r_len));
    const size_t s_len = der[5 + r_len];
    std::array<uint8_t, 32> s{};
    std::copy(der.end() - static_cast<long>(s_len), der.end(), s.end() - static_cast<long>(s_len));
    std::array<uint8_t, 32> high{};
    int borrow = 0;
    for (int i = 31; i >= 0; --i) {
      const int d = kOrder[i] - s[i] - borrow;
      high[i] = static_cast<uint8_t>(d & 0xff);
      borrow = d < 0 ? 1 : 0;
    }
    // A high S has its top bit set: it needs a 0x00 sign byte.
    std::vector<uint8_t> s_der{0x00};
    s_der.insert(s_der.end(), high.begin(), high.end());
    std::vector<uint8_t> out{0x30, static_cast<uint8_t>(4 + r.size() + s_der.size()), 0x02,
                             static_cast<uint8_t>(r.size())};
    out.insert(out.end(), r.begin(), r.end());
    out.push_back(0x02);
    out.push_back(static_cast<uint8_t>(s_der.size()));
    out.insert(out.end(), s_der.begin(), s_der.end());
    return out;
  }

  crypto::PrivateKey key_;
  crypto::PublicKey public_key_;
  Fault fault_;
  mutable int calls_ = 0;
};

ExtendedKey Child(const Fixture& f, uint32_t index) {
  util::Result<ExtendedKey> child = f.master.DerivePath(Ctx(), KeyPath{{0, index}});
  EXPECT_TRUE(child.ok());
  return std::move(*child);
}

TEST(PsbtSignTest, ExternalKeysSignEcdsaInputsLikeInProcessKeys) {
  Fixture f;
  // Keys 0..5 (the ECDSA inputs) external, keys 6..11 (taproot only) in process.
  PsbtSigningKeys external;
  PsbtSigningKeys internal;
  std::vector<std::shared_ptr<const TestExternalKey>> backends;
  for (uint32_t i = 0; i < 12; ++i) {
    const ExtendedKey child = Child(f, i);
    if (i < 6) {
      backends.push_back(std::make_shared<TestExternalKey>(child, TestExternalKey::Fault::kNone));
      external.AddExternalKey(backends.back());
    } else {
      external.AddKey(Ctx(), crypto::CopyPrivateKey(*child.private_key()));
    }
    internal.AddKey(Ctx(), crypto::CopyPrivateKey(*child.private_key()));
  }
  util::Result<PsbtSignResult> with_external = SignPsbt(Ctx(), f.psbt, external);
  ASSERT_TRUE(with_external.ok()) << with_external.status();
  EXPECT_TRUE(with_external->complete);
  ExpectFinalTransactionVerifies(f, with_external->psbt);

  // RFC 6979 with the same grinding: the same signatures as the in-process keys.
  util::Result<PsbtSignResult> with_internal = SignPsbt(Ctx(), f.psbt, internal);
  ASSERT_TRUE(with_internal.ok());
  EXPECT_EQ(with_external->signatures_added, with_internal->signatures_added);
  for (size_t i = 0; i < 6; ++i) {
    EXPECT_FALSE(with_external->psbt.inputs[i].partial_sigs.empty()) << i;
    EXPECT_EQ(with_external->psbt.inputs[i].partial_sigs,
              with_internal->psbt.inputs[i].partial_sigs)
        << "input " << i;
  }
  int calls = 0;
  for (const auto& backend : backends) calls += backend->calls();
  EXPECT_EQ(calls, 12);  // 1 + 1 + 1 + 3 + 3 + 3 ECDSA signatures.
}

TEST(PsbtSignTest, ExternalKeyFaultsFailTheWholeCall) {
  struct Case {
    TestExternalKey::Fault fault;
    util::StatusCode code;
    const char* message;
  };
  const Case cases[] = {
      {TestExternalKey::Fault::kError, util::StatusCode::kUnavailable,
       "psbt input 2: external key 'test' (%): device unplugged"},
      {TestExternalKey::Fault::kWrongDigest, util::StatusCode::kInternal,
       "psbt input 2: external key 'test' (%): returned a signature that does not verify"},
      {TestExternalKey::Fault::kHighS, util::StatusCode::kInternal,
       "psbt input 2: external key 'test' (%): returned a signature with a high S"},
      {TestExternalKey::Fault::kNotDer, util::StatusCode::kInternal,
       "psbt input 2: external key 'test' (%): returned a signature that does not verify"},
  };
  Fixture f;
  const ExtendedKey child = Child(f, 2);  // P2WPKH input 2 (and legacy multisig input 5).
  const std::string pubkey_hex = util::HexEncode(child.public_key().SerializeCompressed());
  // The well-behaved key signs: the cases below differ from it only in the fault.
  {
    PsbtSigningKeys keys;
    keys.AddExternalKey(std::make_shared<TestExternalKey>(child, TestExternalKey::Fault::kNone));
    util::Result<PsbtSignResult> signed_psbt = SignPsbt(Ctx(), f.psbt, keys);
    ASSERT_TRUE(signed_psbt.ok()) << signed_psbt.status();
    EXPECT_EQ(signed_psbt->signatures_added, 2u);
  }
  for (const Case& c : cases) {
    PsbtSigningKeys keys;
    keys.AddExternalKey(std::make_shared<TestExternalKey>(child, c.fault));
    util::Result<PsbtSignResult> signed_psbt = SignPsbt(Ctx(), f.psbt, keys);
    ASSERT_FALSE(signed_psbt.ok());
    std::string expected = c.message;
    expected.replace(expected.find('%'), 1, pubkey_hex);
    EXPECT_EQ(signed_psbt.status().code(), c.code) << expected;
    EXPECT_EQ(signed_psbt.status().message(), expected);
  }
}

TEST(PsbtSignTest, TaprootInputNeedingAnExternalKeyFailsClearly) {
  struct Case {
    uint32_t key_index;
    const char* input;
  };
  // Key 6 is input 6's internal key (key path); key 9 is in input 7's multi_a leaf.
  const Case cases[] = {{6, "psbt input 6: "}, {9, "psbt input 7: "}};
  Fixture f;
  for (const Case& c : cases) {
    PsbtSigningKeys keys;
    keys.AddExternalKey(
        std::make_shared<TestExternalKey>(Child(f, c.key_index), TestExternalKey::Fault::kNone));
    util::Result<PsbtSignResult> signed_psbt = SignPsbt(Ctx(), f.psbt, keys);
    ASSERT_FALSE(signed_psbt.ok());
    EXPECT_EQ(signed_psbt.status().code(), util::StatusCode::kFailedPrecondition);
    EXPECT_THAT(signed_psbt.status().message(),
                HasSubstr(std::string(c.input) + "taproot needs a schnorr signature by " +
                          "external key 'test'"));
    EXPECT_THAT(signed_psbt.status().message(), HasSubstr("makes ecdsa signatures only"));
  }
}

}  // namespace
}  // namespace kinko::btc
