// The transaction part of the signer's check (DESIGN.md section 5, step 5; doc/signer-check.md):
// does this PSBT spend only the wallet's coins, pay exactly the signed intents' outputs plus
// change back to the wallet, ask only for SIGHASH_ALL, and stay within every intent's fee
// ceiling? Everything is re-derived from the PSBT's raw data and the pinned wallet descriptor;
// nothing the coordinator claims (amounts, change flags, fees, key paths) is trusted.
//
// CheckTransaction is a pure function of its arguments: no I/O, no clock, no state. Which intents
// are allowed at all (signatures, rules, approvals, limits, windows, replays) is decided
// elsewhere (policy/evaluate.h and the signer's state); this check only binds the transaction to
// the intents it is given.
//
// Thread-safe: WalletConfig is immutable after Create; CheckTransaction is pure and may run
// concurrently with the same WalletConfig.
#ifndef KINKO_SIGNER_TRANSACTION_CHECK_H_
#define KINKO_SIGNER_TRANSACTION_CHECK_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "btc/address.h"
#include "btc/amount.h"
#include "btc/descriptor.h"
#include "btc/psbt.h"
#include "btc/transaction.h"
#include "crypto/secp256k1.h"
#include "policy/evaluate.h"
#include "policy/intent.h"
#include "util/result.h"
#include "util/status.h"

namespace kinko::signer {

// The two branches of a wallet's multipath descriptor `<receive;change>`.
enum class WalletBranch {
  kReceive,  // The first alternative (`/<0;1>/*`: 0).
  kChange,   // The second alternative (`/<0;1>/*`: 1).
};

// "receive" or "change".
std::string_view WalletBranchName(WalletBranch branch);

// The wallet a signer is pinned to: its id (as intents name it), network and public multipath
// descriptor, and the highest index the signer accepts on each branch (so that an input or change
// output at an index no wallet software scans for, e.g. 2^31 - 1, is refused: funds sent there
// would be hard to find).
// Movable, not copyable (Descriptor is not copyable).
class WalletConfig final {
 public:
  // Returns the configuration. Fails with kInvalidArgument, naming the problem, when:
  // `wallet_id` is not a valid wallet id (policy::IsValidWalletId); the descriptor was parsed for
  // another network than `network`; it has private keys; it is not ranged; it does not have
  // exactly two multipath alternatives (receive;change); it cannot be expanded at index 0 on
  // either branch (combo(), a hardened step below an xpub, ...); the two branches give the same
  // script at index 0; its largest satisfaction size is unknown (addr(), raw()); or an index
  // bound is 2^31 or more (hardened).
  static util::Result<WalletConfig> Create(const crypto::Secp256k1Context& ctx,
                                           std::string wallet_id, btc::Network network,
                                           btc::Descriptor descriptor, uint32_t receive_index_max,
                                           uint32_t change_index_max);

  WalletConfig(WalletConfig&&) noexcept = default;
  WalletConfig& operator=(WalletConfig&&) noexcept = default;
  WalletConfig(const WalletConfig&) = delete;
  WalletConfig& operator=(const WalletConfig&) = delete;

  const std::string& wallet_id() const { return wallet_id_; }
  btc::Network network() const { return network_; }
  // The multipath descriptor as given.
  const btc::Descriptor& descriptor() const { return descriptor_; }
  // The single-path descriptor of `branch`.
  const btc::Descriptor& branch(WalletBranch branch) const;
  // The highest index accepted on `branch`.
  uint32_t index_max(WalletBranch branch) const;
  // The number of BIP32 and taproot derivations an output of the descriptor has (one per key):
  // the most an input or change output may carry, which bounds the indexes tried per script.
  size_t derivation_count() const { return derivation_count_; }

 private:
  WalletConfig(std::string wallet_id, btc::Network network, btc::Descriptor descriptor,
               btc::Descriptor receive, btc::Descriptor change, uint32_t receive_index_max,
               uint32_t change_index_max, size_t derivation_count)
      : wallet_id_(std::move(wallet_id)),
        network_(network),
        descriptor_(std::move(descriptor)),
        receive_(std::move(receive)),
        change_(std::move(change)),
        receive_index_max_(receive_index_max),
        change_index_max_(change_index_max),
        derivation_count_(derivation_count) {}

  std::string wallet_id_;
  btc::Network network_;
  btc::Descriptor descriptor_;
  btc::Descriptor receive_;
  btc::Descriptor change_;
  uint32_t receive_index_max_;
  uint32_t change_index_max_;
  size_t derivation_count_;
};

// Why a transaction is refused. DO NOT CHANGE the names (TransactionRefusalName): they appear in
// audit logs, metrics and APIs. doc/signer-check.md explains each.
enum class TransactionRefusal {
  kMalformedPsbt,                // "malformed_psbt"
  kEmptyTransaction,             // "empty_transaction": no input, no output or no intent
  kWrongWallet,                  // "wrong_wallet"
  kWrongNetwork,                 // "wrong_network"
  kDuplicateInput,               // "duplicate_input"
  kInputFinalized,               // "input_finalized"
  kMissingPreviousTransaction,   // "missing_previous_transaction"
  kPreviousTransactionMismatch,  // "previous_transaction_mismatch"
  kWitnessUtxoMismatch,          // "witness_utxo_mismatch"
  kInputNotInWallet,             // "input_not_in_wallet"
  kUnsupportedSighash,           // "unsupported_sighash"
  kAmountOutOfRange,             // "amount_out_of_range"
  kUnexpectedOutput,             // "unexpected_output"
  kChangeIndexOutOfBounds,       // "change_index_out_of_bounds"
  kMissingIntentOutput,          // "missing_intent_output"
  kFeeNegative,                  // "fee_negative"
  kIntentFeeCeiling,             // "intent_fee_ceiling"
};

// The stable snake_case name of `code`, as in the comments above.
std::string_view TransactionRefusalName(TransactionRefusal code);

// A refusal: the code, and a sentence for a human naming the input, output or intent by index
// with the amounts and addresses involved ("output 2 (bcrt1q..., 50000 sat) is neither an
// intent output nor change of wallet 'hot'"). Never contains key material.
struct TransactionCheckRefusal {
  TransactionRefusal code = TransactionRefusal::kMalformedPsbt;
  std::string detail;

  // kPermissionDenied "transaction refused: <name>: <detail>".
  util::Status ToStatus() const;
};

// An input of the checked transaction: what it spends, proven by its previous transaction, and
// where in the wallet the spent output was re-derived.
struct CheckedInput {
  btc::Amount amount = btc::Amount::Zero();
  WalletBranch branch = WalletBranch::kReceive;
  uint32_t index = 0;

  friend bool operator==(const CheckedInput&, const CheckedInput&) = default;
};

// A change output: its position in the transaction, the change-branch index it re-derives at,
// and its amount.
struct ChangeOutput {
  size_t output_index = 0;
  uint32_t derivation_index = 0;
  btc::Amount amount = btc::Amount::Zero();

  friend bool operator==(const ChangeOutput&, const ChangeOutput&) = default;
};

// Where an intent output is paid: intent `intent_index`'s output `output_index` by transaction
// output `tx_output_index`.
struct PaidIntentOutput {
  size_t intent_index = 0;
  size_t output_index = 0;
  size_t tx_output_index = 0;

  friend bool operator==(const PaidIntentOutput&, const PaidIntentOutput&) = default;
};

// The facts of a transaction that passed the check.
struct CheckedTransaction {
  // The txid of the unsigned transaction (the txid of the final one: segwit signatures do not
  // change it).
  btc::Txid txid;
  std::vector<CheckedInput> inputs;  // In input order.
  btc::Amount input_total = btc::Amount::Zero();
  btc::Amount output_total = btc::Amount::Zero();
  btc::Amount fee = btc::Amount::Zero();  // input_total - output_total.
  // The final transaction's virtual size when every input is spent by the largest satisfaction
  // of the wallet descriptor (btc::Descriptor::MaxSatisfactionSize) with low-R ECDSA signatures
  // (71 bytes, as kinko's signers make them: DESIGN.md section 10) and Schnorr signatures of 64
  // bytes, or 65 where the input asks for an explicit SIGHASH_ALL.
  uint64_t estimated_vsize = 0;
  // fee * 1000 / estimated_vsize, rounded down (Bitcoin Core's CFeeRate): sat per 1000 vbytes.
  uint64_t fee_rate_sat_per_kvb = 0;
  std::vector<PaidIntentOutput> intent_outputs;  // In intent, then output order.
  std::vector<ChangeOutput> change;              // In output order.

  // The fee and size, as policy::Evaluate takes them.
  policy::TransactionFacts Facts() const;
};

// The outcome of CheckTransaction: exactly one of `checked` and `refusal` is present.
struct TransactionCheckOutcome {
  std::optional<CheckedTransaction> checked;
  std::optional<TransactionCheckRefusal> refusal;

  bool ok() const { return checked.has_value(); }
  // OK, or refusal->ToStatus().
  util::Status status() const;
};

// Step 1 of CheckTransaction on its own: there is at least one intent (kEmptyTransaction), and
// each names `wallet`'s id (kWrongWallet) and network (kWrongNetwork). Returns the first refusal,
// or nullopt when every intent is for this wallet. The signer runs it before the policy, so that
// an intent for another wallet is reported as such rather than as whatever rule it falls to.
std::optional<TransactionCheckRefusal> CheckIntentsForWallet(
    const WalletConfig& wallet, std::span<const policy::SignedIntent> intents);

// Checks that `psbt` may be signed for `intents` under `wallet`. Never fails otherwise than by a
// refusal: every problem with the request, malformed PSBTs included, is a refusal with a code
// (a structured outcome rather than a Status, so that the decision logged names the code without
// parsing a message). The first failing check decides, in this order (doc/signer-check.md):
//   1. there is at least one intent; each names `wallet`'s id and network;
//   2. the PSBT describes a transaction (malformed_psbt) with inputs and outputs, and no
//      outpoint is spent twice;
//   3. each input, in order: not finalized; carries its full previous transaction, whose txid is
//      the outpoint's and which has the spent output; a witness UTXO, if any, equals that output;
//      the spent amount is a valid amount; it carries no more derivations than the descriptor
//      has keys; the spent script re-derives from the receive or change branch at an index the
//      input's BIP32 (or taproot) derivations name, within that
//      branch's bound, and every derivation, redeem and witness script and taproot internal key
//      and merkle root the input carries is the descriptor's at that index; the sighash type is
//      absent or SIGHASH_ALL (taproot: also SIGHASH_DEFAULT);
//   4. every output amount and the totals are valid amounts;
//   5. outputs as a multiset: each intent output (script, amount) consumes one equal transaction
//      output, in output order; every other output re-derives from the change branch at an index
//      its derivations (no more than the descriptor has keys) name (unexpected_output
//      otherwise), at most the change bound; then every
//      intent output must have been consumed;
//   6. the fee (inputs - outputs) is not negative, and neither it nor the fee rate over the
//      estimated size exceeds any intent's ceiling (each intent's ceiling binds the whole
//      transaction's fee).
TransactionCheckOutcome CheckTransaction(const crypto::Secp256k1Context& ctx, const btc::Psbt& psbt,
                                         const WalletConfig& wallet,
                                         std::span<const policy::SignedIntent> intents);

}  // namespace kinko::signer

#endif  // KINKO_SIGNER_TRANSACTION_CHECK_H_
