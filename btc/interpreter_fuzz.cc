// Fuzz target for the script interpreter: random scripts and witnesses under random flags.
//
// Input: flags (u32 LE), extra flags (u32 LE), a mode byte, an amount byte, then length-prefixed
// (u16 LE) byte strings: scriptSig, scriptPubKey, then witness items until the input ends.
// The mode's low bit picks the checker: the real one (signatures essentially never verify) or a
// deterministic stand-in whose signatures verify when their first byte matches the key's, so
// the paths after a successful check are explored too.
//
// Properties (abort when broken):
// - no crash, and the same result when run twice;
// - adding flags never turns an invalid result valid, and removing flags never turns a valid
//   one invalid, as Bitcoin Core's script_flags fuzz target and script_tests check.
//   Core holds this only for flag sets where WITNESS implies P2SH and CLEANSTACK implies WITNESS
//   (its IsValidFlagCombination; other sets trip an assert there) and excludes the rest. They
//   are real exceptions: without P2SH a P2SH-wrapped witness spend fails WITNESS_UNEXPECTED and
//   P2SH's extra stack items fail CLEANSTACK, so adding P2SH would turn them valid. VerifyScript
//   closes these sets (adds the implied flags) before verifying, which keeps monotonicity for
//   every set, so nothing needs to be excluded here.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "btc/interpreter.h"
#include "btc/script.h"
#include "btc/sighash.h"
#include "btc/transaction.h"
#include "crypto/rng.h"
#include "crypto/secp256k1.h"
#include "util/check.h"

namespace {

using kinko::btc::ScriptError;
using kinko::btc::SigVersion;

class Reader {
 public:
  explicit Reader(std::span<const uint8_t> data) : data_(data) {}
  bool AtEnd() const { return pos_ >= data_.size(); }
  uint32_t U32() {
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(U8()) << (8 * i);
    return v;
  }
  uint8_t U8() { return pos_ < data_.size() ? data_[pos_++] : 0; }
  // A u16-length-prefixed string, cut short at the end of the input.
  std::vector<uint8_t> Bytes() {
    size_t len = U8();
    len |= static_cast<size_t>(U8()) << 8;
    len = std::min(len, data_.size() - std::min(pos_, data_.size()));
    std::vector<uint8_t> out(data_.begin() + static_cast<ptrdiff_t>(pos_),
                             data_.begin() + static_cast<ptrdiff_t>(pos_ + len));
    pos_ += len;
    return out;
  }

 private:
  std::span<const uint8_t> data_;
  size_t pos_ = 0;
};

// Deterministic stand-in: a signature "verifies" when it is non-empty and starts with the
// key's first byte; lock times compare against fixed values.
class FakeChecker final : public kinko::btc::SignatureChecker {
 public:
  bool CheckEcdsaSignature(std::span<const uint8_t> signature, std::span<const uint8_t> pubkey,
                           const kinko::btc::Script&, SigVersion) const override {
    return !signature.empty() && !pubkey.empty() && signature[0] == pubkey[0];
  }
  ScriptError CheckSchnorrSignature(std::span<const uint8_t> signature,
                                    std::span<const uint8_t, 32> pubkey, SigVersion,
                                    const kinko::btc::TaprootSighashExtras&) const override {
    if (signature.size() != 64 && signature.size() != 65) return ScriptError::kSchnorrSigSize;
    if (signature.size() == 65 && signature[64] == 0) return ScriptError::kSchnorrSigHashType;
    return signature[0] == pubkey[0] ? ScriptError::kOk : ScriptError::kSchnorrSig;
  }
  bool CheckLockTime(int64_t lock_time) const override { return lock_time <= 1000; }
  bool CheckSequence(int64_t sequence) const override { return (sequence & 0xffff) <= 10; }
  bool CheckTaprootCommitment(std::span<const uint8_t, 32> output_key, bool parity_odd,
                              std::span<const uint8_t, 32> internal_key,
                              std::span<const uint8_t, 32> merkle_root) const override {
    return output_key[0] == static_cast<uint8_t>(internal_key[0] ^ merkle_root[0]) &&
           parity_odd == ((output_key[1] & 1) != 0);
  }
};

const kinko::crypto::Secp256k1Context& Context() {
  static const kinko::crypto::Secp256k1Context* ctx = [] {
    kinko::crypto::SystemRng rng;
    return new kinko::crypto::Secp256k1Context(kinko::crypto::Secp256k1Context::Create(rng));
  }();
  return *ctx;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kinko::btc;
  if (size > 100000) return 0;
  Reader reader(std::span<const uint8_t>(data, size));
  const VerifyFlags flags = VerifyFlags::FromBits(reader.U32());
  const VerifyFlags extra = VerifyFlags::FromBits(reader.U32());
  const uint8_t mode = reader.U8();
  const int64_t amount = int64_t{reader.U8()} * 1000;
  const Script script_sig(reader.Bytes());
  const Script script_pubkey(reader.Bytes());
  std::vector<std::vector<uint8_t>> witness;
  while (!reader.AtEnd()) witness.push_back(reader.Bytes());

  // The transactions Core's script_tests build around a script pair.
  Transaction credit;
  credit.version = 1;
  TxIn coinbase;
  coinbase.prevout.index = 0xffffffff;
  credit.inputs.push_back(coinbase);
  credit.outputs.push_back(TxOut{amount, script_pubkey});
  Transaction spend;
  spend.version = (mode & 2) ? 2 : 1;
  spend.lock_time = (mode & 4) ? 500 : 0;
  TxIn in;
  in.prevout.txid = credit.ComputeTxid();
  in.script_sig = script_sig;
  in.witness = witness;
  in.sequence = (mode & 8) ? 5 : 0xffffffff;
  spend.inputs.push_back(in);
  spend.outputs.push_back(TxOut{amount, Script()});
  kinko::util::Result<PrecomputedTransactionData> precomputed =
      PrecomputedTransactionData::Create(spend, {credit.outputs[0]});
  CHECK(precomputed.ok());
  const TransactionSignatureChecker real(Context(), spend, 0, amount, *precomputed);
  const FakeChecker fake;
  const SignatureChecker& checker = (mode & 1) ? static_cast<const SignatureChecker&>(fake) : real;

  const ScriptError first = VerifyScript(script_sig, script_pubkey, witness, flags, checker);
  const ScriptError second = VerifyScript(script_sig, script_pubkey, witness, flags, checker);
  CHECK(first == second);
  CHECK(!ScriptErrorName(first).empty());
  CHECK(first != ScriptError::kBadTx);

  const bool valid = first == ScriptError::kOk;
  const VerifyFlags varied =
      VerifyFlags::FromBits(valid ? (flags.bits() & ~extra.bits()) : (flags.bits() | extra.bits()));
  const ScriptError again = VerifyScript(script_sig, script_pubkey, witness, varied, checker);
  CHECK((again == ScriptError::kOk) == valid);
  return 0;
}
