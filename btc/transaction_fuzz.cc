// Fuzz target for Transaction::Parse. Properties, for every input the parser accepts:
//   - Serialize() gives back exactly the input bytes, and parsing that again gives an equal
//     Transaction;
//   - TotalSize, BaseSize, Weight and the txid/wtxid agree with the two serializations;
// and the signature hashes of every scheme run without failing a CHECK on any parsed
// transaction (legacy always succeeds; taproot fails only for the documented reasons).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "btc/sighash.h"
#include "btc/transaction.h"
#include "crypto/hash.h"
#include "util/check.h"

namespace {

using kinko::btc::PrecomputedTransactionData;
using kinko::btc::Transaction;
using kinko::btc::TxOut;
using kinko::btc::WitnessSerialization;

void CheckSighashes(const Transaction& tx) {
  if (tx.inputs.empty()) return;
  // The outputs stand in for the spent outputs, cycled to one per input.
  std::vector<TxOut> spent;
  if (!tx.outputs.empty()) {
    for (size_t i = 0; i < tx.inputs.size(); ++i) {
      spent.push_back(tx.outputs[i % tx.outputs.size()]);
    }
  }
  kinko::util::Result<PrecomputedTransactionData> precomputed =
      PrecomputedTransactionData::Create(tx, spent);
  CHECK(precomputed.ok());
  CHECK(precomputed->has_spent_outputs() == !spent.empty());

  // Bounded, so that a transaction with many inputs stays fast (legacy is O(n) per input).
  const size_t inputs = std::min<size_t>(tx.inputs.size(), 4);
  for (size_t i = 0; i < inputs; ++i) {
    const kinko::btc::Script& script_code = tx.inputs[i].script_sig;
    const int32_t hash_type = static_cast<int32_t>(tx.inputs[i].sequence);
    (void)kinko::btc::LegacySighash(tx, i, script_code, hash_type);
    (void)kinko::btc::SegwitV0Sighash(tx, i, script_code, 1, hash_type, *precomputed);
    const auto taproot_type = static_cast<uint8_t>(tx.inputs[i].prevout.index);
    kinko::util::Result<kinko::btc::SighashBytes> taproot = kinko::btc::TaprootSighash(
        tx, i, taproot_type, *precomputed, kinko::btc::TaprootSighashExtras{});
    const bool valid_type = taproot_type <= 3 || (taproot_type >= 0x81 && taproot_type <= 0x83);
    const bool single = (taproot_type & 0x03) == 0x03;
    const bool expect_ok = !spent.empty() && valid_type && !(single && i >= tx.outputs.size());
    CHECK(taproot.ok() == expect_ok);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> bytes(data, size);
  kinko::util::Result<Transaction> tx = Transaction::Parse(bytes);
  if (!tx.ok()) return 0;

  const std::vector<uint8_t> full = tx->Serialize();
  CHECK(full.size() == bytes.size());
  CHECK(std::equal(full.begin(), full.end(), bytes.begin()));
  kinko::util::Result<Transaction> again = Transaction::Parse(full);
  CHECK(again.ok());
  CHECK(*again == *tx);

  const std::vector<uint8_t> base = tx->Serialize(WitnessSerialization::kWithout);
  CHECK(tx->TotalSize() == full.size());
  CHECK(tx->BaseSize() == base.size());
  CHECK(tx->Weight() == base.size() * 3 + full.size());
  CHECK(tx->VirtualSize() * 4 >= tx->Weight() && tx->VirtualSize() * 4 < tx->Weight() + 4);
  CHECK(tx->ComputeTxid().bytes() == kinko::crypto::Hash256(base));
  CHECK(tx->ComputeWtxid().bytes() == kinko::crypto::Hash256(full));
  CHECK(tx->HasWitness() == (full.size() != base.size()));

  CheckSighashes(*tx);
  return 0;
}
