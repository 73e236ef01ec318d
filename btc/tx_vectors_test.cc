// Bitcoin Core's tx_valid.json and tx_invalid.json, every entry, run as Core's transaction_tests
// runs them:
// - tx_valid: the flags named are the ones to leave out; the transaction passes CheckTransaction
//   and every input verifies under all other flags, still verifies with any further flag left
//   out, and fails when any one of the named flags is put back (the list is minimal).
// - tx_invalid: "BADTX" entries fail CheckTransaction; the others pass it and fail script
//   verification under exactly the flags named, and still fail with any flag added.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "btc/interpreter.h"
#include "btc/script.h"
#include "btc/transaction.h"
#include "crypto/rng.h"
#include "crypto/secp256k1.h"

namespace kinko::btc {
namespace {

nlohmann::json ReadVectors(const std::string& name) {
  std::ifstream in(std::string(KINKO_VECTORS_DIR) + "/" + name);
  EXPECT_TRUE(in.good()) << name;
  return nlohmann::json::parse(in);
}

VerifyFlags AllFlags() { return VerifyFlags::FromBits(0xffffffff); }

VerifyFlags Complement(VerifyFlags flags) {
  return VerifyFlags::FromBits(~flags.bits() & AllFlags().bits());
}

// Core's TrimFlags: WITNESS needs P2SH, CLEANSTACK needs WITNESS; drops what lacks its need.
VerifyFlags Trim(VerifyFlags flags) {
  if (!flags.Has(VerifyFlag::kP2sh)) flags = flags.Without(VerifyFlag::kWitness);
  if (!flags.Has(VerifyFlag::kWitness)) flags = flags.Without(VerifyFlag::kCleanStack);
  return flags;
}

struct TxCase {
  Transaction tx;
  std::vector<TxOut> spent;
  std::string flags_text;
};

// Reads [[[txid, index, scriptPubKey, amount?]...], tx hex, flags]. Returns an error message
// when the entry cannot be read.
std::string ReadCase(const nlohmann::json& entry, TxCase* out) {
  if (entry.size() != 3 || !entry[1].is_string() || !entry[2].is_string()) return "shape";
  std::map<Outpoint, TxOut> prevouts;
  for (const nlohmann::json& input : entry[0]) {
    if (!input.is_array() || input.size() < 3 || input.size() > 4) return "prevout shape";
    util::Result<Txid> txid = TxidFromHex(input[0].get<std::string>());
    if (!txid.ok()) return "txid: " + txid.status().message();
    Outpoint outpoint{*txid, static_cast<uint32_t>(input[1].get<int64_t>())};
    util::Result<Script> script = ParseAsm(input[2].get<std::string>());
    if (!script.ok()) return "scriptPubKey: " + script.status().message();
    const int64_t amount = input.size() == 4 ? input[3].get<int64_t>() : 0;
    prevouts[outpoint] = TxOut{amount, *script};
  }
  util::Result<Transaction> tx = Transaction::ParseHex(entry[1].get<std::string>());
  if (!tx.ok()) return "transaction: " + tx.status().message();
  out->tx = *tx;
  for (const TxIn& in : out->tx.inputs) {
    auto it = prevouts.find(in.prevout);
    if (it == prevouts.end()) return "input spends an outpoint the entry does not list";
    out->spent.push_back(it->second);
  }
  out->flags_text = entry[2].get<std::string>();
  return "";
}

bool Valid(const crypto::Secp256k1Context& ctx, const TxCase& c, VerifyFlags flags) {
  return VerifyTransaction(ctx, c.tx, c.spent, flags).valid;
}

TEST(TxVectorsTest, EveryTxValidEntryVerifies) {
  crypto::SystemRng rng;
  const crypto::Secp256k1Context ctx = crypto::Secp256k1Context::Create(rng);
  const nlohmann::json tests = ReadVectors("tx_valid.json");
  size_t run = 0;
  size_t passed = 0;
  size_t comments = 0;
  for (size_t idx = 0; idx < tests.size(); ++idx) {
    const nlohmann::json& entry = tests[idx];
    if (!entry[0].is_array()) {
      // Core skips these too: comments, one or more strings.
      ASSERT_TRUE(entry[0].is_string()) << "entry " << idx << ": " << entry.dump();
      ++comments;
      continue;
    }
    ++run;
    TxCase c;
    const std::string read_error = ReadCase(entry, &c);
    ASSERT_EQ(read_error, "") << "entry " << idx << ": " << entry.dump();
    ASSERT_TRUE(CheckTransaction(c.tx).ok()) << "entry " << idx << ": " << entry.dump();
    util::Result<VerifyFlags> excluded = ParseVerifyFlags(c.flags_text);
    ASSERT_TRUE(excluded.ok()) << excluded.status();

    const TxVerifyResult result = VerifyTransaction(ctx, c.tx, c.spent, Complement(*excluded));
    EXPECT_TRUE(result.valid) << "entry " << idx << ": " << result.detail << ": " << entry.dump();
    if (!result.valid) continue;

    bool all_ok = true;
    for (size_t f = 0; f < kVerifyFlagCount; ++f) {
      const VerifyFlag flag = static_cast<VerifyFlag>(f);
      // Leaving out one more flag keeps the transaction valid.
      if (!Valid(ctx, c, Trim(Complement(excluded->With(flag))))) {
        ADD_FAILURE() << "entry " << idx << " fails without " << VerifyFlagName(flag);
        all_ok = false;
      }
      // Putting back any left-out flag makes it invalid (the list names no needless flag).
      // As in Core, the shorter list is trimmed first, and skipped when that undoes the change.
      if (excluded->Has(flag)) {
        const VerifyFlags fewer = Trim(excluded->Without(flag));
        if (fewer != *excluded && Valid(ctx, c, Complement(fewer))) {
          ADD_FAILURE() << "entry " << idx << " still valid with " << VerifyFlagName(flag);
          all_ok = false;
        }
      }
    }
    if (all_ok) ++passed;
  }
  EXPECT_EQ(run + comments, tests.size());
  EXPECT_EQ(passed, run);
  EXPECT_EQ(run, 121u);  // The pinned file's count (test/vectors/SHA256SUMS).
  std::printf("tx_valid.json: %zu entries run, %zu passed, %zu comments\n", run, passed, comments);
}

TEST(TxVectorsTest, EveryTxInvalidEntryFails) {
  crypto::SystemRng rng;
  const crypto::Secp256k1Context ctx = crypto::Secp256k1Context::Create(rng);
  const nlohmann::json tests = ReadVectors("tx_invalid.json");
  size_t run = 0;
  size_t passed = 0;
  size_t comments = 0;
  size_t badtx = 0;
  for (size_t idx = 0; idx < tests.size(); ++idx) {
    const nlohmann::json& entry = tests[idx];
    if (!entry[0].is_array()) {
      // Core skips these too: comments, one or more strings.
      ASSERT_TRUE(entry[0].is_string()) << "entry " << idx << ": " << entry.dump();
      ++comments;
      continue;
    }
    ++run;
    TxCase c;
    const std::string read_error = ReadCase(entry, &c);
    ASSERT_EQ(read_error, "") << "entry " << idx << ": " << entry.dump();

    if (!CheckTransaction(c.tx).ok()) {
      EXPECT_EQ(c.flags_text, "BADTX") << "entry " << idx << ": " << entry.dump();
      const TxVerifyResult result = VerifyTransaction(ctx, c.tx, c.spent, StandardVerifyFlags());
      EXPECT_FALSE(result.valid);
      EXPECT_EQ(result.error, ScriptError::kBadTx);
      EXPECT_FALSE(result.input.has_value());
      if (c.flags_text == "BADTX" && result.error == ScriptError::kBadTx) {
        ++passed;
        ++badtx;
      }
      continue;
    }
    ASSERT_NE(c.flags_text, "BADTX") << "entry " << idx << " passes CheckTransaction";
    util::Result<VerifyFlags> flags = ParseVerifyFlags(c.flags_text);
    ASSERT_TRUE(flags.ok()) << flags.status();

    const TxVerifyResult result = VerifyTransaction(ctx, c.tx, c.spent, *flags);
    EXPECT_FALSE(result.valid) << "entry " << idx << ": " << entry.dump();
    if (result.valid) continue;
    EXPECT_TRUE(result.input.has_value());
    EXPECT_NE(result.error, ScriptError::kOk);

    bool all_ok = true;
    for (size_t f = 0; f < kVerifyFlagCount; ++f) {
      const VerifyFlag flag = static_cast<VerifyFlag>(f);
      if (Valid(ctx, c, flags->With(flag))) {
        ADD_FAILURE() << "entry " << idx << " passes with " << VerifyFlagName(flag);
        all_ok = false;
      }
    }
    if (all_ok) ++passed;
  }
  EXPECT_EQ(run + comments, tests.size());
  EXPECT_EQ(passed, run);
  EXPECT_EQ(run, 93u);  // The pinned file's count (test/vectors/SHA256SUMS).
  EXPECT_EQ(badtx, 9u);
  std::printf("tx_invalid.json: %zu entries run, %zu passed (%zu BADTX), %zu comments\n", run,
              passed, badtx, comments);
}

}  // namespace
}  // namespace kinko::btc
