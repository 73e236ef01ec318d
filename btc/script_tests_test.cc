// Bitcoin Core's script_tests.json, every entry, under exactly the flags it names: each is run
// the way Core's script_json_test runs it (a crediting and a spending transaction around the
// scripts), and the error must be the one named. Then, as Core does, removing any flag from a
// passing entry must keep it passing and adding any flag to a failing entry must keep it
// failing.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "btc/interpreter.h"
#include "btc/script.h"
#include "btc/sighash.h"
#include "btc/transaction.h"
#include "crypto/rng.h"
#include "crypto/secp256k1.h"
#include "util/hex.h"

namespace kinko::btc {
namespace {

nlohmann::json ReadVectors(const std::string& name) {
  std::ifstream in(std::string(KINKO_VECTORS_DIR) + "/" + name);
  EXPECT_TRUE(in.good()) << name;
  return nlohmann::json::parse(in);
}

// The x coordinate of the generator: the x-only public key of private key 1 (Core's key0),
// the internal key of the taproot outputs that script_tests.json asks to be generated.
constexpr char kKey0XOnly[] = "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798";

struct ScriptCase {
  Script script_sig;
  Script script_pubkey;
  std::vector<std::vector<uint8_t>> witness;
  int64_t amount = 0;
  VerifyFlags flags;
  std::string expected;
};

// Core's BuildCreditingTransaction / BuildSpendingTransaction.
Transaction Credit(const Script& script_pubkey, int64_t amount) {
  Transaction tx;
  tx.version = 1;
  tx.lock_time = 0;
  TxIn in;
  in.prevout.txid = Txid();
  in.prevout.index = 0xffffffff;
  in.script_sig = Script(std::vector<uint8_t>{0x00, 0x00});
  in.sequence = 0xffffffff;
  tx.inputs.push_back(in);
  tx.outputs.push_back(TxOut{amount, script_pubkey});
  return tx;
}

Transaction Spend(const ScriptCase& c, const Transaction& credit) {
  Transaction tx;
  tx.version = 1;
  tx.lock_time = 0;
  TxIn in;
  in.prevout.txid = credit.ComputeTxid();
  in.prevout.index = 0;
  in.script_sig = c.script_sig;
  in.witness = c.witness;
  in.sequence = 0xffffffff;
  tx.inputs.push_back(in);
  tx.outputs.push_back(TxOut{credit.outputs[0].value, Script()});
  return tx;
}

ScriptError RunCase(const crypto::Secp256k1Context& ctx, const ScriptCase& c, VerifyFlags flags) {
  const Transaction credit = Credit(c.script_pubkey, c.amount);
  const Transaction spend = Spend(c, credit);
  util::Result<PrecomputedTransactionData> precomputed =
      PrecomputedTransactionData::Create(spend, {credit.outputs[0]});
  EXPECT_TRUE(precomputed.ok()) << precomputed.status();
  if (!precomputed.ok()) return ScriptError::kUnknownError;
  TransactionSignatureChecker checker(ctx, spend, 0, c.amount, *precomputed);
  return VerifyScript(c.script_sig, c.script_pubkey, c.witness, flags, checker);
}

// Reads one entry: [[witness..., amount]?, scriptSig, scriptPubKey, flags, error, comment?].
// Returns an error message when the entry cannot be read.
std::string ReadCase(const crypto::Secp256k1Context& ctx, const nlohmann::json& entry,
                     ScriptCase* out) {
  size_t pos = 0;
  std::optional<Script> tapleaf;
  std::optional<std::array<uint8_t, 32>> output_key;
  if (entry[0].is_array()) {
    const nlohmann::json& w = entry[0];
    for (size_t i = 0; i + 1 < w.size(); ++i) {
      const std::string element = w[i].get<std::string>();
      if (element.starts_with("#SCRIPT#")) {
        util::Result<Script> script = ParseAsm(element.substr(8));
        if (!script.ok()) return "witness script: " + script.status().message();
        out->witness.push_back(script->bytes());
      } else if (element == "#CONTROLBLOCK#") {
        // A one-leaf tree over the previous witness item, with key0 as internal key.
        if (out->witness.empty()) return "control block without script";
        Script leaf(out->witness.back());
        const std::array<uint8_t, 32> leaf_hash = ComputeTapleafHash(0xc0, leaf);
        std::vector<uint8_t> internal = *util::HexDecode(kKey0XOnly);
        util::Result<crypto::XOnlyPublicKey> key = crypto::XOnlyPublicKey::Parse(internal);
        if (!key.ok()) return "internal key";
        util::Result<crypto::TweakedPublicKey> tweaked =
            crypto::TaprootTweakPublicKey(ctx, *key, leaf_hash);
        if (!tweaked.ok()) return "tweak";
        std::vector<uint8_t> control{static_cast<uint8_t>(0xc0 | (tweaked->parity_odd ? 1 : 0))};
        control.insert(control.end(), internal.begin(), internal.end());
        out->witness.push_back(control);
        output_key = tweaked->key.bytes();
        tapleaf = leaf;
      } else {
        util::Result<std::vector<uint8_t>> bytes = util::HexDecode(element);
        if (!bytes.ok()) return "witness item: " + bytes.status().message();
        out->witness.push_back(*bytes);
      }
    }
    out->amount = std::llround(w.back().get<double>() * 1e8);
    pos = 1;
  }
  if (entry.size() < pos + 4) return "too few fields";
  util::Result<Script> script_sig = ParseAsm(entry[pos].get<std::string>());
  if (!script_sig.ok()) return "scriptSig: " + script_sig.status().message();
  out->script_sig = *script_sig;
  const std::string pubkey_text = entry[pos + 1].get<std::string>();
  if (pubkey_text == "0x51 0x20 #TAPROOTOUTPUT#") {
    if (!output_key) return "taproot output without control block";
    out->script_pubkey = Script().PushOpcode(0x51).PushData(*output_key);
  } else {
    util::Result<Script> script_pubkey = ParseAsm(pubkey_text);
    if (!script_pubkey.ok()) return "scriptPubKey: " + script_pubkey.status().message();
    out->script_pubkey = *script_pubkey;
  }
  util::Result<VerifyFlags> flags = ParseVerifyFlags(entry[pos + 2].get<std::string>());
  if (!flags.ok()) return "flags: " + flags.status().message();
  out->flags = *flags;
  out->expected = entry[pos + 3].get<std::string>();
  return "";
}

TEST(ScriptTestsTest, EveryEntryGivesTheNamedResult) {
  crypto::SystemRng rng;
  const crypto::Secp256k1Context ctx = crypto::Secp256k1Context::Create(rng);
  const nlohmann::json tests = ReadVectors("script_tests.json");
  ASSERT_TRUE(tests.is_array());

  std::mt19937 random(20260101);
  size_t comments = 0;
  size_t run = 0;
  size_t passed = 0;
  for (size_t idx = 0; idx < tests.size(); ++idx) {
    const nlohmann::json& entry = tests[idx];
    const size_t min_size = entry[0].is_array() ? 5 : 4;
    if (entry.size() < min_size) {
      // Core skips only one-element entries, which are comments.
      ASSERT_EQ(entry.size(), 1u) << "malformed entry " << idx << ": " << entry.dump();
      ++comments;
      continue;
    }
    ++run;
    ScriptCase c;
    const std::string read_error = ReadCase(ctx, entry, &c);
    ASSERT_EQ(read_error, "") << "entry " << idx << ": " << entry.dump();

    const ScriptError error = RunCase(ctx, c, c.flags);
    EXPECT_EQ(ScriptErrorName(error), c.expected) << "entry " << idx << ": " << entry.dump();
    if (ScriptErrorName(error) != c.expected) continue;
    ++passed;

    // Flag monotonicity, as Core's DoTest checks it: dropping flags never fails a passing
    // entry, adding flags never passes a failing entry. Each single flag, then random sets
    // (from a fixed seed, so a failure reproduces).
    const bool expect_ok = c.expected == "OK";
    std::vector<VerifyFlags> variations;
    for (size_t f = 0; f < kVerifyFlagCount; ++f) {
      const VerifyFlag flag = static_cast<VerifyFlag>(f);
      variations.push_back(expect_ok ? c.flags.Without(flag) : c.flags.With(flag));
    }
    for (int r = 0; r < 16; ++r) {
      const uint32_t bits = static_cast<uint32_t>(random());
      variations.push_back(
          VerifyFlags::FromBits(expect_ok ? (c.flags.bits() & ~bits) : (c.flags.bits() | bits)));
    }
    for (const VerifyFlags varied : variations) {
      const ScriptError e = RunCase(ctx, c, varied);
      EXPECT_EQ(e == ScriptError::kOk, expect_ok)
          << "entry " << idx << " with flags " << FormatVerifyFlags(varied) << ": " << entry.dump();
    }
  }
  // Every entry is either a comment or was run; none may be skipped.
  EXPECT_EQ(comments + run, tests.size());
  EXPECT_EQ(passed, run);
  // The counts of the pinned file (test/vectors/SHA256SUMS): a changed file must be looked at.
  EXPECT_EQ(run, 1222u);
  EXPECT_EQ(comments, 51u);
  std::printf("script_tests.json: %zu entries run, %zu passed, %zu comments\n", run, passed,
              comments);
}

}  // namespace
}  // namespace kinko::btc
