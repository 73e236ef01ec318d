#include "btc/interpreter.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "btc/script.h"
#include "btc/sighash.h"
#include "btc/transaction.h"
#include "crypto/hash.h"
#include "crypto/rng.h"
#include "crypto/secp256k1.h"
#include "util/hex.h"

namespace kinko::btc {
namespace {

using Bytes = std::vector<uint8_t>;
using Witness = std::vector<Bytes>;

constexpr uint8_t kOp0 = 0x00, kOp1 = 0x51, kOp2 = 0x52, kOpIf = 0x63, kOpEndIf = 0x68,
                  kOpDup = 0x76, kOpNot = 0x91, kOpEqual = 0x87, kOpHash160 = 0xa9,
                  kOpCheckSig = 0xac, kOpCheckSigVerify = 0xad, kOpCheckMultiSig = 0xae,
                  kOpCodeSeparator = 0xab, kOpNop = 0x61, kOpNop10 = 0xb9, kOpCltv = 0xb1,
                  kOpCsv = 0xb2, kOpCheckSigAdd = 0xba, kOpEqualVerify = 0x88;

VerifyFlags Flags(std::initializer_list<VerifyFlag> list) {
  VerifyFlags flags;
  for (VerifyFlag f : list) flags = flags.With(f);
  return flags;
}

Bytes Hex(std::string_view hex) { return *util::HexDecode(hex); }

Script P2sh(const Script& redeem) {
  const auto hash = crypto::Hash160(redeem.bytes());
  return Script().PushOpcode(kOpHash160).PushData(hash).PushOpcode(kOpEqual);
}

Script P2wsh(const Script& witness_script) {
  const auto hash = crypto::Sha256(witness_script.bytes());
  return Script().PushOpcode(kOp0).PushData(hash);
}

// Negates S modulo the group order in a DER signature (no sighash byte), giving the high-S
// twin of a low-S signature.
Bytes NegateS(const Bytes& der) {
  static constexpr std::array<uint8_t, 32> kOrder = {
      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
      0xff, 0xff, 0xff, 0xff, 0xfe, 0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48,
      0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41};
  const size_t len_r = der[3];
  Bytes r(der.begin() + 4, der.begin() + 4 + static_cast<ptrdiff_t>(len_r));
  const size_t len_s = der[5 + len_r];
  Bytes s(der.begin() + 6 + static_cast<ptrdiff_t>(len_r),
          der.begin() + 6 + static_cast<ptrdiff_t>(len_r + len_s));
  while (!s.empty() && s.front() == 0) s.erase(s.begin());
  std::array<uint8_t, 32> padded{};
  std::copy(s.begin(), s.end(), padded.end() - static_cast<ptrdiff_t>(s.size()));
  std::array<uint8_t, 32> neg{};
  int borrow = 0;
  for (int i = 31; i >= 0; --i) {
    int d = kOrder[i] - padded[i] - borrow;
    borrow = d < 0 ? 1 : 0;
    neg[i] = static_cast<uint8_t>(d + (borrow ? 256 : 0));
  }
  Bytes new_s(neg.begin(), neg.end());
  while (new_s.size() > 1 && new_s.front() == 0 && !(new_s[1] & 0x80)) new_s.erase(new_s.begin());
  if (new_s.front() & 0x80) new_s.insert(new_s.begin(), 0x00);
  Bytes out{0x30, static_cast<uint8_t>(4 + r.size() + new_s.size()), 0x02,
            static_cast<uint8_t>(r.size())};
  out.insert(out.end(), r.begin(), r.end());
  out.push_back(0x02);
  out.push_back(static_cast<uint8_t>(new_s.size()));
  out.insert(out.end(), new_s.begin(), new_s.end());
  return out;
}

// A crediting transaction with one output and a transaction spending it, as Core's
// script_tests builds them, plus keys to sign with.
class InterpreterTest : public ::testing::Test {
 protected:
  InterpreterTest() : ctx_(MakeContext()) {
    for (uint8_t i = 1; i <= 3; ++i) {
      std::array<uint8_t, 32> secret{};
      secret[31] = i;
      keys_.push_back(*crypto::PrivateKey::FromBytes(secret));
      pubkeys_.push_back(crypto::DerivePublicKey(ctx_, keys_.back()));
    }
  }

  static crypto::Secp256k1Context MakeContext() {
    crypto::SystemRng rng;
    return crypto::Secp256k1Context::Create(rng);
  }

  // Sets up the transactions for spending `script_pubkey` worth `amount`.
  void Prepare(const Script& script_pubkey, int64_t amount = 100000, uint32_t version = 1,
               uint32_t lock_time = 0, uint32_t sequence = 0xffffffff) {
    credit_ = Transaction();
    credit_.version = 1;
    TxIn coinbase;
    coinbase.prevout.index = 0xffffffff;
    coinbase.script_sig = Script(Bytes{0x00, 0x00});
    credit_.inputs.push_back(coinbase);
    credit_.outputs.push_back(TxOut{amount, script_pubkey});
    spend_ = Transaction();
    spend_.version = version;
    spend_.lock_time = lock_time;
    TxIn in;
    in.prevout.txid = credit_.ComputeTxid();
    in.prevout.index = 0;
    in.sequence = sequence;
    spend_.inputs.push_back(in);
    spend_.outputs.push_back(TxOut{amount, Script()});
  }

  ScriptError Verify(const Script& script_sig, const Witness& witness, VerifyFlags flags) {
    spend_.inputs[0].script_sig = script_sig;
    spend_.inputs[0].witness = witness;
    util::Result<PrecomputedTransactionData> precomputed =
        PrecomputedTransactionData::Create(spend_, {credit_.outputs[0]});
    EXPECT_TRUE(precomputed.ok());
    TransactionSignatureChecker checker(ctx_, spend_, 0, credit_.outputs[0].value, *precomputed);
    return VerifyScript(script_sig, credit_.outputs[0].script_pubkey, witness, flags, checker);
  }

  // Expects `flag` (added to `base`) to fail with `error`, and `base` alone to pass.
  void ExpectFlagMatters(const Script& script_sig, const Witness& witness, VerifyFlags base,
                         VerifyFlag flag, ScriptError error) {
    EXPECT_EQ(ScriptErrorName(Verify(script_sig, witness, base.With(flag))), ScriptErrorName(error))
        << VerifyFlagName(flag);
    EXPECT_EQ(ScriptErrorName(Verify(script_sig, witness, base)), "OK") << VerifyFlagName(flag);
  }

  Bytes SignLegacy(const crypto::PrivateKey& key, const Script& script_code, uint8_t hash_type) {
    const SighashBytes sighash = LegacySighash(spend_, 0, script_code, hash_type);
    Bytes sig = crypto::EcdsaSign(ctx_, key, sighash);
    sig.push_back(hash_type);
    return sig;
  }

  Bytes SignSegwit(const crypto::PrivateKey& key, const Script& script_code, uint8_t hash_type) {
    util::Result<PrecomputedTransactionData> precomputed =
        PrecomputedTransactionData::Create(spend_, {credit_.outputs[0]});
    const SighashBytes sighash =
        SegwitV0Sighash(spend_, 0, script_code, credit_.outputs[0].value, hash_type, *precomputed);
    Bytes sig = crypto::EcdsaSign(ctx_, key, sighash);
    sig.push_back(hash_type);
    return sig;
  }

  Bytes SignTaproot(const crypto::PrivateKey& key, const TaprootSighashExtras& extras) {
    util::Result<PrecomputedTransactionData> precomputed =
        PrecomputedTransactionData::Create(spend_, {credit_.outputs[0]});
    const SighashBytes sighash = *TaprootSighash(spend_, 0, kSighashDefault, *precomputed, extras);
    const std::array<uint8_t, 32> aux{};
    const auto sig = crypto::SchnorrSign(ctx_, key, sighash, aux);
    return Bytes(sig.begin(), sig.end());
  }

  crypto::XOnlyPublicKey XOnly(size_t i) const {
    return crypto::XOnlyPublicKey::FromPublicKey(pubkeys_[i]);
  }

  // A one-leaf taproot output over `leaf` with leaf version `leaf_version`, internal key 0:
  // sets up the transactions and returns the control block.
  Bytes PrepareTapscript(const Script& leaf, uint8_t leaf_version = 0xc0) {
    const std::array<uint8_t, 32> leaf_hash = ComputeTapleafHash(leaf_version, leaf);
    const crypto::TweakedPublicKey tweaked =
        *crypto::TaprootTweakPublicKey(ctx_, XOnly(0), leaf_hash);
    Prepare(Script().PushOpcode(kOp1).PushData(tweaked.key.bytes()));
    Bytes control{static_cast<uint8_t>(leaf_version | (tweaked.parity_odd ? 1 : 0))};
    const std::array<uint8_t, 32> internal = XOnly(0).bytes();
    control.insert(control.end(), internal.begin(), internal.end());
    return control;
  }

  crypto::Secp256k1Context ctx_;
  std::vector<crypto::PrivateKey> keys_;
  std::vector<crypto::PublicKey> pubkeys_;
  Transaction credit_;
  Transaction spend_;
};

const VerifyFlags kWitnessBase = Flags({VerifyFlag::kP2sh, VerifyFlag::kWitness});
const VerifyFlags kTaprootBase =
    Flags({VerifyFlag::kP2sh, VerifyFlag::kWitness, VerifyFlag::kTaproot});

// --- Valid spends with real signatures ---------------------------------------------------------

TEST_F(InterpreterTest, P2pkhWithValidSignaturePassesUnderStandardFlags) {
  const Bytes key = pubkeys_[0].Serialize();
  const Script pubkey_script = Script()
                                   .PushOpcode(kOpDup)
                                   .PushOpcode(kOpHash160)
                                   .PushData(crypto::Hash160(key))
                                   .PushOpcode(kOpEqualVerify)
                                   .PushOpcode(kOpCheckSig);
  Prepare(pubkey_script);
  const Bytes sig = SignLegacy(keys_[0], pubkey_script, kSighashAll);
  EXPECT_EQ(Verify(Script().PushData(sig).PushData(key), {}, StandardVerifyFlags()),
            ScriptError::kOk);
  // The same signature for another key fails.
  const Bytes other = pubkeys_[1].Serialize();
  EXPECT_EQ(Verify(Script().PushData(sig).PushData(other), {}, StandardVerifyFlags()),
            ScriptError::kEqualVerify);
}

TEST_F(InterpreterTest, P2wsh2Of3PassesAndWrongOrderFails) {
  Script multisig = Script().PushOpcode(kOp2);
  for (const auto& k : pubkeys_) multisig.PushData(k.Serialize());
  multisig.PushOpcode(0x53).PushOpcode(kOpCheckMultiSig);
  Prepare(P2wsh(multisig));
  const Bytes sig0 = SignSegwit(keys_[0], multisig, kSighashAll);
  const Bytes sig2 = SignSegwit(keys_[2], multisig, kSighashAll);
  EXPECT_EQ(Verify(Script(), {{}, sig0, sig2, multisig.bytes()}, StandardVerifyFlags()),
            ScriptError::kOk);
  // Signatures must be in key order; out of order the check fails and NULLFAIL names it.
  EXPECT_EQ(Verify(Script(), {{}, sig2, sig0, multisig.bytes()}, StandardVerifyFlags()),
            ScriptError::kSigNullFail);
  EXPECT_EQ(Verify(Script(), {{}, sig2, sig0, multisig.bytes()}, kWitnessBase),
            ScriptError::kEvalFalse);
  // A legacy-sighash signature does not satisfy a segwit script.
  const Bytes legacy = SignLegacy(keys_[0], multisig, kSighashAll);
  EXPECT_EQ(Verify(Script(), {{}, legacy, sig2, multisig.bytes()}, kWitnessBase),
            ScriptError::kEvalFalse);
  // Witness script hash mismatch.
  Script other = multisig;
  other.PushOpcode(kOpNop);
  EXPECT_EQ(Verify(Script(), {{}, sig0, sig2, other.bytes()}, kWitnessBase),
            ScriptError::kWitnessProgramMismatch);
}

TEST_F(InterpreterTest, P2shP2wpkhPassesAndRejectsExtraScriptSig) {
  const Bytes key = pubkeys_[1].Serialize();
  const Script program = Script().PushOpcode(kOp0).PushData(crypto::Hash160(key));
  Prepare(P2sh(program));
  const Script code = Script()
                          .PushOpcode(kOpDup)
                          .PushOpcode(kOpHash160)
                          .PushData(crypto::Hash160(key))
                          .PushOpcode(kOpEqualVerify)
                          .PushOpcode(kOpCheckSig);
  const Bytes sig = SignSegwit(keys_[1], code, kSighashAll);
  EXPECT_EQ(Verify(Script().PushData(program.bytes()), {sig, key}, StandardVerifyFlags()),
            ScriptError::kOk);
  EXPECT_EQ(Verify(Script().PushOpcode(kOp1).PushData(program.bytes()), {sig, key},
                   StandardVerifyFlags()),
            ScriptError::kWitnessMalleatedP2sh);
  EXPECT_EQ(Verify(Script().PushData(program.bytes()), {sig}, StandardVerifyFlags()),
            ScriptError::kWitnessProgramMismatch);
}

TEST_F(InterpreterTest, TaprootKeyPathPassesAndRejectsBadSignatures) {
  const crypto::TweakedPublicKey tweaked =
      *crypto::TaprootTweakPublicKey(ctx_, XOnly(0), std::nullopt);
  Prepare(Script().PushOpcode(kOp1).PushData(tweaked.key.bytes()));
  const crypto::PrivateKey tweaked_key =
      *crypto::TaprootTweakPrivateKey(ctx_, keys_[0], std::nullopt);
  Bytes sig = SignTaproot(tweaked_key, {});
  EXPECT_EQ(Verify(Script(), {sig}, StandardVerifyFlags()), ScriptError::kOk);

  Bytes explicit_default = sig;
  explicit_default.push_back(kSighashDefault);
  EXPECT_EQ(Verify(Script(), {explicit_default}, StandardVerifyFlags()),
            ScriptError::kSchnorrSigHashType);
  Bytes undefined_type = sig;
  undefined_type.push_back(0x04);
  EXPECT_EQ(Verify(Script(), {undefined_type}, StandardVerifyFlags()),
            ScriptError::kSchnorrSigHashType);
  EXPECT_EQ(Verify(Script(), {Bytes(63, 1)}, StandardVerifyFlags()), ScriptError::kSchnorrSigSize);
  Bytes flipped = sig;
  flipped[10] ^= 1;
  EXPECT_EQ(Verify(Script(), {flipped}, StandardVerifyFlags()), ScriptError::kSchnorrSig);
  // An annex is committed to by the signature.
  EXPECT_EQ(Verify(Script(), {sig, {0x50, 0x01}}, StandardVerifyFlags()), ScriptError::kSchnorrSig);
  TaprootSighashExtras with_annex;
  with_annex.annex = Bytes{0x50, 0x01};
  const Bytes annex_sig = SignTaproot(tweaked_key, with_annex);
  EXPECT_EQ(Verify(Script(), {annex_sig, {0x50, 0x01}}, StandardVerifyFlags()), ScriptError::kOk);
  EXPECT_EQ(Verify(Script(), {}, StandardVerifyFlags()), ScriptError::kWitnessProgramWitnessEmpty);
  // A scriptSig makes a native witness spend malleable.
  EXPECT_EQ(Verify(Script().PushOpcode(kOp1), {sig}, StandardVerifyFlags()),
            ScriptError::kWitnessMalleated);
}

TEST_F(InterpreterTest, TapscriptChecksigAndChecksigAdd) {
  const Script leaf = Script()
                          .PushData(XOnly(1).bytes())
                          .PushOpcode(kOpCheckSig)
                          .PushData(XOnly(2).bytes())
                          .PushOpcode(kOpCheckSigAdd)
                          .PushOpcode(kOp2)
                          .PushOpcode(kOpEqual);
  const Bytes control = PrepareTapscript(leaf);
  TaprootSighashExtras extras;
  extras.leaf_hash = ComputeTapleafHash(0xc0, leaf);
  const Bytes sig1 = SignTaproot(keys_[1], extras);
  const Bytes sig2 = SignTaproot(keys_[2], extras);
  EXPECT_EQ(Verify(Script(), {sig2, sig1, leaf.bytes(), control}, StandardVerifyFlags()),
            ScriptError::kOk);
  // One empty signature: the sum is 1, so EQUAL fails.
  EXPECT_EQ(Verify(Script(), {{}, sig1, leaf.bytes(), control}, StandardVerifyFlags()),
            ScriptError::kEvalFalse);
  // A non-empty invalid signature fails the script outright.
  EXPECT_EQ(Verify(Script(), {sig1, sig1, leaf.bytes(), control}, StandardVerifyFlags()),
            ScriptError::kSchnorrSig);
  // A wrong control block.
  Bytes bad_control = control;
  bad_control[5] ^= 1;
  EXPECT_EQ(Verify(Script(), {sig2, sig1, leaf.bytes(), bad_control}, StandardVerifyFlags()),
            ScriptError::kWitnessProgramMismatch);
  bad_control = control;
  bad_control.push_back(0);
  EXPECT_EQ(Verify(Script(), {sig2, sig1, leaf.bytes(), bad_control}, StandardVerifyFlags()),
            ScriptError::kTaprootWrongControlSize);
}

TEST_F(InterpreterTest, TapscriptSignatureBudgetIsEnforced) {
  // Each passing signature check costs 50 units of a budget of 50 + the witness size; a short
  // script that checks the same signature many times runs out.
  Script leaf;
  for (int i = 0; i < 12; ++i) {
    leaf.PushOpcode(kOpDup).PushData(XOnly(1).bytes()).PushOpcode(kOpCheckSigVerify);
  }
  leaf.PushData(XOnly(1).bytes()).PushOpcode(kOpCheckSig);
  const Bytes control = PrepareTapscript(leaf);
  TaprootSighashExtras extras;
  extras.leaf_hash = ComputeTapleafHash(0xc0, leaf);
  const Bytes sig = SignTaproot(keys_[1], extras);
  EXPECT_EQ(Verify(Script(), {sig, leaf.bytes(), control}, StandardVerifyFlags()),
            ScriptError::kTapscriptValidationWeight);
  // Padding the witness with an annex raises the budget enough.
  extras.annex = Bytes(200, 0x50);
  const Bytes annex_sig = SignTaproot(keys_[1], extras);
  EXPECT_EQ(
      Verify(Script(), {annex_sig, leaf.bytes(), control, *extras.annex}, StandardVerifyFlags()),
      ScriptError::kOk);
}

TEST_F(InterpreterTest, TapscriptConsensusRules) {
  // MINIMALIF is consensus in tapscript.
  Script leaf = Script().PushOpcode(kOpIf).PushOpcode(kOp1).PushOpcode(kOpEndIf);
  Bytes control = PrepareTapscript(leaf);
  EXPECT_EQ(Verify(Script(), {{0x02}, leaf.bytes(), control}, kTaprootBase),
            ScriptError::kTapscriptMinimalIf);
  EXPECT_EQ(Verify(Script(), {{0x01}, leaf.bytes(), control}, kTaprootBase), ScriptError::kOk);
  // CHECKMULTISIG is gone.
  leaf = Script().PushOpcode(kOp0).PushOpcode(kOp0).PushOpcode(kOp0).PushOpcode(kOpCheckMultiSig);
  control = PrepareTapscript(leaf);
  EXPECT_EQ(Verify(Script(), {leaf.bytes(), control}, kTaprootBase),
            ScriptError::kTapscriptCheckMultisig);
  // An empty key fails even with an empty signature.
  leaf = Script().PushOpcode(kOp0).PushOpcode(kOp0).PushOpcode(kOpCheckSig);
  control = PrepareTapscript(leaf);
  EXPECT_EQ(Verify(Script(), {leaf.bytes(), control}, kTaprootBase),
            ScriptError::kTapscriptEmptyPubkey);
  // OP_SUCCESS makes even an unparsable remainder irrelevant... but a truncated push before it
  // fails.
  leaf = Script(Bytes{0x50, 0x4c});
  control = PrepareTapscript(leaf);
  EXPECT_EQ(Verify(Script(), {leaf.bytes(), control}, kTaprootBase), ScriptError::kOk);
  leaf = Script(Bytes{0x4c, 0x50});
  control = PrepareTapscript(leaf);
  EXPECT_EQ(Verify(Script(), {leaf.bytes(), control}, kTaprootBase), ScriptError::kBadOpcode);
}

TEST_F(InterpreterTest, HashOpcodesGiveKnownDigests) {
  // FIPS 180 "abc" test vector for SHA-1, and SHA-256 of "abc".
  const Bytes abc{'a', 'b', 'c'};
  Prepare(Script()
              .PushOpcode(0xa7)  // SHA1
              .PushData(Hex("a9993e364706816aba3e25717850c26c9cd0d89d"))
              .PushOpcode(kOpEqual));
  EXPECT_EQ(Verify(Script().PushData(abc), {}, StandardVerifyFlags()), ScriptError::kOk);
  Prepare(Script()
              .PushOpcode(0xa8)  // SHA256
              .PushData(Hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"))
              .PushOpcode(kOpEqual));
  EXPECT_EQ(Verify(Script().PushData(abc), {}, StandardVerifyFlags()), ScriptError::kOk);
}

// --- Every flag: fails with it, passes without ------------------------------------------------

TEST_F(InterpreterTest, FlagP2sh) {
  const Script redeem = Script().PushOpcode(kOp0);
  Prepare(P2sh(redeem));
  ExpectFlagMatters(Script().PushData(redeem.bytes()), {}, VerifyFlags(), VerifyFlag::kP2sh,
                    ScriptError::kEvalFalse);
}

TEST_F(InterpreterTest, FlagStrictEnc) {
  const Bytes bad_key = Hex("05" + std::string(64, '1'));
  Prepare(Script().PushData(bad_key).PushOpcode(kOpCheckSig).PushOpcode(kOpNot));
  ExpectFlagMatters(Script().PushOpcode(kOp0), {}, VerifyFlags(), VerifyFlag::kStrictEnc,
                    ScriptError::kPubkeyType);
  // Undefined sighash type on a valid signature.
  const Bytes key = pubkeys_[0].Serialize();
  const Script p2pk = Script().PushData(key).PushOpcode(kOpCheckSig);
  Prepare(p2pk);
  const Bytes sig = SignLegacy(keys_[0], p2pk, 0x21);
  ExpectFlagMatters(Script().PushData(sig), {}, VerifyFlags(), VerifyFlag::kStrictEnc,
                    ScriptError::kSigHashType);
}

TEST_F(InterpreterTest, FlagDerSig) {
  Prepare(Script().PushData(pubkeys_[0].Serialize()).PushOpcode(kOpCheckSig).PushOpcode(kOpNot));
  ExpectFlagMatters(Script().PushData(Bytes{1, 2, 3, 4, 5, 6, 7, 8, 9, 1}), {}, VerifyFlags(),
                    VerifyFlag::kDerSig, ScriptError::kSigDer);
}

TEST_F(InterpreterTest, FlagLowS) {
  const Script p2pk = Script().PushData(pubkeys_[0].Serialize()).PushOpcode(kOpCheckSig);
  Prepare(p2pk);
  Bytes sig = SignLegacy(keys_[0], p2pk, kSighashAll);
  sig.pop_back();
  Bytes high = NegateS(sig);
  high.push_back(kSighashAll);
  ExpectFlagMatters(Script().PushData(high), {}, VerifyFlags(), VerifyFlag::kLowS,
                    ScriptError::kSigHighS);
}

TEST_F(InterpreterTest, LowSTreatsOverflowingSignaturesAsCoreDoes) {
  // Core's lax DER parser maps a signature whose R or S is >= n to all zeros, whose S is low:
  // LOW_S lets it through and the signature check fails instead.
  const std::string order = "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141";
  const std::string order_minus_one =
      "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364140";
  Prepare(Script().PushData(pubkeys_[0].Serialize()).PushOpcode(kOpCheckSig).PushOpcode(kOpNot));
  const VerifyFlags low_s = Flags({VerifyFlag::kLowS});
  // R = n (overflows), S = n - 1 (high).
  const Bytes r_overflow = Hex("3046022100" + order + "022100" + order_minus_one + "01");
  EXPECT_EQ(Verify(Script().PushData(r_overflow), {}, low_s), ScriptError::kOk);
  // R = 1, S = n - 1: high.
  const Bytes high = Hex("3026020101022100" + order_minus_one + "01");
  EXPECT_EQ(Verify(Script().PushData(high), {}, low_s), ScriptError::kSigHighS);
  // R = 1, S = n: overflows, so low.
  const Bytes s_overflow = Hex("3026020101022100" + order + "01");
  EXPECT_EQ(Verify(Script().PushData(s_overflow), {}, low_s), ScriptError::kOk);
  // The same verdicts as libsecp256k1 with the lax parser (DER without the sighash byte).
  auto der = [](const Bytes& sig) { return std::span<const uint8_t>(sig).first(sig.size() - 1); };
  EXPECT_TRUE(crypto::EcdsaIsLowS(ctx_, der(r_overflow), crypto::DerParsing::kLax));
  EXPECT_FALSE(crypto::EcdsaIsLowS(ctx_, der(high), crypto::DerParsing::kLax));
  EXPECT_TRUE(crypto::EcdsaIsLowS(ctx_, der(s_overflow), crypto::DerParsing::kLax));
}

TEST_F(InterpreterTest, LowSAgreesWithLibsecp256k1OnRandomEncodings) {
  // Strict-DER signatures with random R and S of 1..33 bytes, biased towards values near the
  // group order: the interpreter's LOW_S verdict must match libsecp256k1's lax parse.
  Prepare(Script().PushData(pubkeys_[0].Serialize()).PushOpcode(kOpCheckSig).PushOpcode(kOpNot));
  std::mt19937 random(7);
  auto integer = [&random]() {
    const size_t len = 1 + random() % 33;
    Bytes v(len);
    for (uint8_t& b : v) b = static_cast<uint8_t>(random() % 4 == 0 ? 0xff : random());
    if (len == 33) v[0] = 0x00;
    if (len == 33 && random() % 2) v[1] = 0xff;
    if (v[0] & 0x80) v[0] &= 0x7f;                              // Positive.
    if (v.size() > 1 && v[0] == 0 && !(v[1] & 0x80)) v[0] = 1;  // Minimal.
    return v;
  };
  int high_count = 0;
  for (int i = 0; i < 3000; ++i) {
    const Bytes r = integer();
    const Bytes s = integer();
    Bytes der{0x30, static_cast<uint8_t>(4 + r.size() + s.size()), 0x02,
              static_cast<uint8_t>(r.size())};
    der.insert(der.end(), r.begin(), r.end());
    der.push_back(0x02);
    der.push_back(static_cast<uint8_t>(s.size()));
    der.insert(der.end(), s.begin(), s.end());
    const bool low = crypto::EcdsaIsLowS(ctx_, der, crypto::DerParsing::kLax);
    Bytes sig = der;
    sig.push_back(kSighashAll);
    const ScriptError e = Verify(Script().PushData(sig), {}, Flags({VerifyFlag::kLowS}));
    EXPECT_EQ(e, low ? ScriptError::kOk : ScriptError::kSigHighS) << util::HexEncode(der);
    if (!low) ++high_count;
  }
  EXPECT_GT(high_count, 20);  // Both verdicts were exercised.
}

TEST_F(InterpreterTest, FlagNullDummy) {
  Prepare(Script().PushOpcode(kOp0).PushOpcode(kOp0).PushOpcode(kOpCheckMultiSig));
  ExpectFlagMatters(Script().PushOpcode(kOp1), {}, VerifyFlags(), VerifyFlag::kNullDummy,
                    ScriptError::kSigNullDummy);
}

TEST_F(InterpreterTest, FlagSigPushOnly) {
  Prepare(Script().PushOpcode(kOp1));
  ExpectFlagMatters(Script().PushOpcode(kOpNop), {}, VerifyFlags(), VerifyFlag::kSigPushOnly,
                    ScriptError::kSigPushOnly);
}

TEST_F(InterpreterTest, FlagMinimalData) {
  Prepare(Script().PushOpcode(kOp2).PushOpcode(kOpEqual));
  ExpectFlagMatters(Script(Bytes{0x4c, 0x01, 0x02}), {}, VerifyFlags(), VerifyFlag::kMinimalData,
                    ScriptError::kMinimalData);
  // Non-minimal numbers, too.
  Prepare(Script().PushOpcode(0x8b).PushOpcode(kOp1).PushOpcode(kOpEqual));  // 1ADD 1 EQUAL
  ExpectFlagMatters(Script().PushData(Bytes{0x00, 0x00}), {}, VerifyFlags(),
                    VerifyFlag::kMinimalData, ScriptError::kScriptNum);
}

TEST_F(InterpreterTest, FlagDiscourageUpgradableNops) {
  Prepare(Script().PushOpcode(kOpNop10).PushOpcode(kOp1));
  ExpectFlagMatters(Script(), {}, VerifyFlags(), VerifyFlag::kDiscourageUpgradableNops,
                    ScriptError::kDiscourageUpgradableNops);
}

TEST_F(InterpreterTest, FlagCleanStack) {
  Prepare(Script().PushOpcode(kOp1));
  ExpectFlagMatters(Script().PushOpcode(kOp1), {}, kWitnessBase, VerifyFlag::kCleanStack,
                    ScriptError::kCleanStack);
}

TEST_F(InterpreterTest, FlagCheckLockTimeVerify) {
  Prepare(Script().PushInt(500).PushOpcode(kOpCltv));
  ExpectFlagMatters(Script(), {}, VerifyFlags(), VerifyFlag::kCheckLockTimeVerify,
                    ScriptError::kUnsatisfiedLockTime);
  // Satisfied by a lock time of the same kind, at least as late, on a non-final input.
  Prepare(Script().PushInt(500).PushOpcode(kOpCltv), 0, 1, 600, 0xfffffffe);
  const VerifyFlags cltv = Flags({VerifyFlag::kCheckLockTimeVerify});
  EXPECT_EQ(Verify(Script(), {}, cltv), ScriptError::kOk);
  Prepare(Script().PushInt(500).PushOpcode(kOpCltv), 0, 1, 600, 0xffffffff);
  EXPECT_EQ(Verify(Script(), {}, cltv), ScriptError::kUnsatisfiedLockTime);
  Prepare(Script().PushInt(500).PushOpcode(kOpCltv), 0, 1, 500000000, 0);
  EXPECT_EQ(Verify(Script(), {}, cltv), ScriptError::kUnsatisfiedLockTime);
  Prepare(Script().PushInt(-1).PushOpcode(kOpCltv), 0, 1, 600, 0);
  EXPECT_EQ(Verify(Script(), {}, cltv), ScriptError::kNegativeLockTime);
}

TEST_F(InterpreterTest, FlagCheckSequenceVerify) {
  Prepare(Script().PushInt(10).PushOpcode(kOpCsv));
  ExpectFlagMatters(Script(), {}, VerifyFlags(), VerifyFlag::kCheckSequenceVerify,
                    ScriptError::kUnsatisfiedLockTime);
  const VerifyFlags csv = Flags({VerifyFlag::kCheckSequenceVerify});
  Prepare(Script().PushInt(10).PushOpcode(kOpCsv), 0, 2, 0, 10);
  EXPECT_EQ(Verify(Script(), {}, csv), ScriptError::kOk);
  Prepare(Script().PushInt(10).PushOpcode(kOpCsv), 0, 2, 0, 9);
  EXPECT_EQ(Verify(Script(), {}, csv), ScriptError::kUnsatisfiedLockTime);
  // Time-based against height-based.
  Prepare(Script().PushInt(10).PushOpcode(kOpCsv), 0, 2, 0, (1u << 22) | 10);
  EXPECT_EQ(Verify(Script(), {}, csv), ScriptError::kUnsatisfiedLockTime);
}

TEST_F(InterpreterTest, FlagWitness) {
  const Script witness_script = Script().PushOpcode(kOp0);
  Prepare(P2wsh(witness_script));
  ExpectFlagMatters(Script(), {witness_script.bytes()}, Flags({VerifyFlag::kP2sh}),
                    VerifyFlag::kWitness, ScriptError::kEvalFalse);
  // A witness where none is expected.
  Prepare(Script().PushOpcode(kOp1));
  ExpectFlagMatters(Script(), {{0x01}}, Flags({VerifyFlag::kP2sh}), VerifyFlag::kWitness,
                    ScriptError::kWitnessUnexpected);
}

TEST_F(InterpreterTest, FlagDiscourageUpgradableWitnessProgram) {
  Prepare(Script().PushOpcode(kOp2).PushData(Bytes(32, 7)));
  ExpectFlagMatters(Script(), {}, kWitnessBase, VerifyFlag::kDiscourageUpgradableWitnessProgram,
                    ScriptError::kDiscourageUpgradableWitnessProgram);
  // Pay-to-anchor is exempt.
  Prepare(Script().PushOpcode(kOp1).PushData(Bytes{0x4e, 0x73}));
  EXPECT_EQ(Verify(Script(), {}, StandardVerifyFlags()), ScriptError::kOk);
}

TEST_F(InterpreterTest, FlagMinimalIf) {
  // IF with 0x02: true, but not the minimal true (0x01).
  const Script ws = Script().PushOpcode(kOpIf).PushOpcode(kOp1).PushOpcode(kOpEndIf);
  Prepare(P2wsh(ws));
  ExpectFlagMatters(Script(), {{0x02}, ws.bytes()}, kWitnessBase, VerifyFlag::kMinimalIf,
                    ScriptError::kMinimalIf);
}

TEST_F(InterpreterTest, FlagNullFail) {
  Prepare(Script().PushData(pubkeys_[0].Serialize()).PushOpcode(kOpCheckSig).PushOpcode(kOpNot));
  ExpectFlagMatters(Script().PushData(Bytes{1, 2, 3}), {}, VerifyFlags(), VerifyFlag::kNullFail,
                    ScriptError::kSigNullFail);
}

TEST_F(InterpreterTest, FlagWitnessPubkeyType) {
  const Script ws = Script()
                        .PushData(pubkeys_[0].SerializeUncompressed())
                        .PushOpcode(kOpCheckSig)
                        .PushOpcode(kOpNot);
  Prepare(P2wsh(ws));
  ExpectFlagMatters(Script(), {{}, ws.bytes()}, kWitnessBase, VerifyFlag::kWitnessPubkeyType,
                    ScriptError::kWitnessPubkeyType);
}

TEST_F(InterpreterTest, FlagConstScriptCode) {
  Prepare(Script().PushOpcode(kOpCodeSeparator).PushOpcode(kOp1));
  ExpectFlagMatters(Script(), {}, VerifyFlags(), VerifyFlag::kConstScriptCode,
                    ScriptError::kOpCodeSeparator);
  // A signature that also appears in the script it signs.
  const Bytes fake_sig{0x30, 0x01};
  Prepare(Script()
              .PushData(fake_sig)
              .PushOpcode(0x75)  // DROP
              .PushData(pubkeys_[0].Serialize())
              .PushOpcode(kOpCheckSig)
              .PushOpcode(kOpNot));
  ExpectFlagMatters(Script().PushData(fake_sig), {}, VerifyFlags(), VerifyFlag::kConstScriptCode,
                    ScriptError::kSigFindAndDelete);
}

TEST_F(InterpreterTest, FlagTaproot) {
  Prepare(Script().PushOpcode(kOp1).PushData(XOnly(0).bytes()));
  ExpectFlagMatters(Script(), {Bytes(64, 0)}, kWitnessBase, VerifyFlag::kTaproot,
                    ScriptError::kSchnorrSig);
}

TEST_F(InterpreterTest, FlagDiscourageUpgradableTaprootVersion) {
  const Script leaf = Script().PushOpcode(kOp0);
  const Bytes control = PrepareTapscript(leaf, 0xc2);
  ExpectFlagMatters(Script(), {leaf.bytes(), control}, kTaprootBase,
                    VerifyFlag::kDiscourageUpgradableTaprootVersion,
                    ScriptError::kDiscourageUpgradableTaprootVersion);
}

TEST_F(InterpreterTest, FlagDiscourageOpSuccess) {
  const Script leaf = Script().PushOpcode(kOp0).PushOpcode(0x50);
  const Bytes control = PrepareTapscript(leaf);
  ExpectFlagMatters(Script(), {leaf.bytes(), control}, kTaprootBase,
                    VerifyFlag::kDiscourageOpSuccess, ScriptError::kDiscourageOpSuccess);
}

TEST_F(InterpreterTest, FlagDiscourageUpgradablePubkeyType) {
  const Script leaf =
      Script().PushData(pubkeys_[0].Serialize()).PushOpcode(kOpCheckSig).PushOpcode(kOpNot);
  const Bytes control = PrepareTapscript(leaf);
  ExpectFlagMatters(Script(), {{}, leaf.bytes(), control}, kTaprootBase,
                    VerifyFlag::kDiscourageUpgradablePubkeyType,
                    ScriptError::kDiscourageUpgradablePubkeyType);
}

// --- Flags, names, transaction checks --------------------------------------------------------

TEST(VerifyFlagsTest, ParseAndFormatRoundTrip) {
  for (size_t f = 0; f < kVerifyFlagCount; ++f) {
    const VerifyFlag flag = static_cast<VerifyFlag>(f);
    util::Result<VerifyFlags> parsed = ParseVerifyFlags(VerifyFlagName(flag));
    ASSERT_TRUE(parsed.ok()) << VerifyFlagName(flag);
    EXPECT_EQ(*parsed, VerifyFlags().With(flag));
  }
  const VerifyFlags standard = StandardVerifyFlags();
  util::Result<VerifyFlags> again = ParseVerifyFlags(FormatVerifyFlags(standard));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, standard);
  EXPECT_EQ(*ParseVerifyFlags("NONE"), VerifyFlags());
  EXPECT_EQ(*ParseVerifyFlags(""), VerifyFlags());
  EXPECT_EQ(FormatVerifyFlags(VerifyFlags()), "NONE");
}

TEST(VerifyFlagsTest, ParseRejectsUnknownNameAndNamesIt) {
  util::Result<VerifyFlags> parsed = ParseVerifyFlags("P2SH,WITNES");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), util::StatusCode::kInvalidArgument);
  EXPECT_NE(parsed.status().message().find("WITNES"), std::string::npos);
  EXPECT_FALSE(ParseVerifyFlags("P2SH,").ok());
  EXPECT_FALSE(ParseVerifyFlags("p2sh").ok());
}

TEST(VerifyFlagsTest, StandardSetIsCoresPolicySet) {
  const VerifyFlags standard = StandardVerifyFlags();
  EXPECT_FALSE(standard.Has(VerifyFlag::kSigPushOnly));
  for (size_t f = 0; f < kVerifyFlagCount; ++f) {
    const VerifyFlag flag = static_cast<VerifyFlag>(f);
    if (flag == VerifyFlag::kSigPushOnly) continue;
    EXPECT_TRUE(standard.Has(flag)) << VerifyFlagName(flag);
  }
  for (size_t f = 0; f < kVerifyFlagCount; ++f) {
    const VerifyFlag flag = static_cast<VerifyFlag>(f);
    if (MandatoryVerifyFlags().Has(flag)) {
      EXPECT_TRUE(standard.Has(flag));
    }
  }
}

TEST(ScriptErrorTest, NamesAreCoreNames) {
  EXPECT_EQ(ScriptErrorName(ScriptError::kOk), "OK");
  EXPECT_EQ(ScriptErrorName(ScriptError::kSigNullFail), "NULLFAIL");
  EXPECT_EQ(ScriptErrorName(ScriptError::kWitnessProgramMismatch), "WITNESS_PROGRAM_MISMATCH");
  EXPECT_EQ(ScriptErrorName(ScriptError::kSigFindAndDelete), "SIG_FINDANDDELETE");
  EXPECT_EQ(ScriptErrorName(ScriptError::kBadTx), "BADTX");
  for (int e = 0; e <= static_cast<int>(ScriptError::kBadTx); ++e) {
    EXPECT_FALSE(ScriptErrorName(static_cast<ScriptError>(e)).empty());
    EXPECT_FALSE(ScriptErrorDescription(static_cast<ScriptError>(e)).empty());
  }
}

Transaction SimpleTx() {
  Transaction tx;
  TxIn in;
  in.prevout.txid = Txid(std::array<uint8_t, 32>{1});
  in.prevout.index = 0;
  tx.inputs.push_back(in);
  tx.outputs.push_back(TxOut{1000, Script().PushOpcode(kOp1)});
  return tx;
}

TEST(CheckTransactionTest, AcceptsASimpleTransaction) {
  EXPECT_TRUE(CheckTransaction(SimpleTx()).ok());
}

TEST(CheckTransactionTest, RejectsEachRule) {
  auto reason = [](const Transaction& tx) { return CheckTransaction(tx).message(); };
  Transaction tx = SimpleTx();
  tx.inputs.clear();
  EXPECT_EQ(reason(tx), "bad-txns-vin-empty");
  tx = SimpleTx();
  tx.outputs.clear();
  EXPECT_EQ(reason(tx), "bad-txns-vout-empty");
  tx = SimpleTx();
  tx.outputs[0].value = -1;
  EXPECT_EQ(reason(tx), "bad-txns-vout-negative");
  tx = SimpleTx();
  tx.outputs[0].value = 2100000000000001;
  EXPECT_EQ(reason(tx), "bad-txns-vout-toolarge");
  tx = SimpleTx();
  tx.outputs[0].value = 2100000000000000;
  tx.outputs.push_back(TxOut{1, Script()});
  EXPECT_EQ(reason(tx), "bad-txns-txouttotal-toolarge");
  tx = SimpleTx();
  tx.inputs.push_back(tx.inputs[0]);
  EXPECT_EQ(reason(tx), "bad-txns-inputs-duplicate");
  tx = SimpleTx();
  tx.inputs[0].prevout = Outpoint{Txid(), 0xffffffff};
  tx.inputs[0].script_sig = Script(Bytes{0x01});
  EXPECT_EQ(reason(tx), "bad-cb-length");
  tx.inputs[0].script_sig = Script(Bytes(101, 0x01));
  EXPECT_EQ(reason(tx), "bad-cb-length");
  tx.inputs[0].script_sig = Script(Bytes(2, 0x01));
  EXPECT_TRUE(CheckTransaction(tx).ok());
  tx.inputs.push_back(SimpleTx().inputs[0]);
  EXPECT_EQ(reason(tx), "bad-txns-prevout-null");
  tx = SimpleTx();
  tx.outputs[0].script_pubkey = Script(Bytes(1000001, 0x00));
  EXPECT_EQ(reason(tx), "bad-txns-oversize");
}

TEST_F(InterpreterTest, VerifyTransactionNamesTheFailingInput) {
  Transaction tx = SimpleTx();
  TxIn second = tx.inputs[0];
  second.prevout.index = 1;
  second.script_sig = Script().PushOpcode(kOp0);
  tx.inputs.push_back(second);
  const std::vector<TxOut> spent = {TxOut{500, Script().PushOpcode(kOp1)},
                                    TxOut{600, Script().PushOpcode(0x69)}};  // VERIFY
  TxVerifyResult result = VerifyTransaction(ctx_, tx, spent, StandardVerifyFlags());
  EXPECT_FALSE(result.valid);
  ASSERT_TRUE(result.input.has_value());
  EXPECT_EQ(*result.input, 1u);
  EXPECT_EQ(result.error, ScriptError::kVerify);
  EXPECT_NE(result.detail.find("input 1"), std::string::npos);

  result =
      VerifyTransaction(ctx_, tx, std::span<const TxOut>(spent).first(1), StandardVerifyFlags());
  EXPECT_FALSE(result.valid);
  EXPECT_EQ(result.error, ScriptError::kBadTx);
  EXPECT_FALSE(result.input.has_value());

  tx.inputs[1] = tx.inputs[0];
  result = VerifyTransaction(ctx_, tx, spent, StandardVerifyFlags());
  EXPECT_EQ(result.error, ScriptError::kBadTx);
  EXPECT_NE(result.detail.find("bad-txns-inputs-duplicate"), std::string::npos);

  tx.inputs[1].prevout.index = 1;
  tx.inputs[1].script_sig = Script();
  const std::vector<TxOut> ok_spent = {spent[0], spent[0]};
  result = VerifyTransaction(ctx_, tx, ok_spent, StandardVerifyFlags());
  EXPECT_TRUE(result.valid);
  EXPECT_EQ(result.error, ScriptError::kOk);
}

TEST_F(InterpreterTest, HybridKeysVerifyOnlyWithoutStrictEnc) {
  const std::array<uint8_t, 65> full = pubkeys_[0].SerializeUncompressed();
  const Bytes uncompressed(full.begin(), full.end());
  Bytes hybrid = uncompressed;
  hybrid[0] = (uncompressed[64] & 1) ? 0x07 : 0x06;
  const Script p2pk = Script().PushData(hybrid).PushOpcode(kOpCheckSig);
  Prepare(p2pk);
  const Bytes sig = SignLegacy(keys_[0], p2pk, kSighashAll);
  EXPECT_EQ(Verify(Script().PushData(sig), {}, VerifyFlags()), ScriptError::kOk);
  EXPECT_EQ(Verify(Script().PushData(sig), {}, Flags({VerifyFlag::kStrictEnc})),
            ScriptError::kPubkeyType);
  // A hybrid key with the wrong parity byte is not a key.
  hybrid[0] ^= 1;
  const Script bad = Script().PushData(hybrid).PushOpcode(kOpCheckSig).PushOpcode(kOpNot);
  Prepare(bad);
  EXPECT_EQ(Verify(Script().PushData(SignLegacy(keys_[0], bad, kSighashAll)), {}, VerifyFlags()),
            ScriptError::kOk);
}

}  // namespace
}  // namespace kinko::btc
