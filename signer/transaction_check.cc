#include "signer/transaction_check.h"

#include <algorithm>
#include <set>
#include <tuple>
#include <utility>
#include <variant>

#include "btc/bip32.h"
#include "btc/sighash.h"
#include "btc/standard.h"
#include "util/check.h"
#include "util/hex.h"

namespace kinko::signer {
namespace {

// A value, or the refusal that explains why there is none.
template <typename T>
using OrRefusal = std::variant<T, TransactionCheckRefusal>;

TransactionCheckRefusal Refusal(TransactionRefusal code, std::string detail) {
  return TransactionCheckRefusal{.code = code, .detail = std::move(detail)};
}

TransactionCheckOutcome Refused(TransactionCheckRefusal refusal) {
  return TransactionCheckOutcome{.checked = std::nullopt, .refusal = std::move(refusal)};
}

std::string Sats(int64_t sats) { return std::to_string(sats) + " sat"; }

// The address of `script` on `network`, or its hex when it has none (OP_RETURN, bare scripts).
std::string DescribeScript(const btc::Script& script, btc::Network network) {
  util::Result<std::string> address = btc::EncodeAddress(script, network);
  if (address.ok()) return address.value();
  return "script " + util::HexEncode(script.bytes());
}

std::string IntentName(size_t index, const policy::SignedIntent& intent) {
  return "intent " + std::to_string(index) + " (id " +
         util::HexEncode(intent.intent().fields().id) + ")";
}

// Bitcoin's CompactSize length prefix of `n`.
size_t CompactSizeLength(size_t n) {
  if (n < 0xfd) return 1;
  if (n <= 0xffff) return 3;
  if (n <= 0xffffffff) return 5;
  return 9;
}

bool IsTaproot(const btc::Script& script) {
  return btc::Classify(script).kind == btc::ScriptKind::kP2tr;
}

// The origins an input or output's BIP32 and taproot derivations name.
template <typename PsbtMap>
std::vector<btc::KeyOrigin> Origins(const PsbtMap& map) {
  std::vector<btc::KeyOrigin> origins;
  for (const auto& [pubkey, origin] : map.bip32_derivations) origins.push_back(origin);
  for (const auto& [xonly, leaves_and_origin] : map.tap_bip32_derivations) {
    origins.push_back(leaves_and_origin.second);
  }
  return origins;
}

struct Location {
  WalletBranch branch = WalletBranch::kReceive;
  uint32_t index = 0;
  btc::ScriptInfo info;  // The branch's expansion at `index`; info.script_pubkey is the script.
};

// Where `script` re-derives in `wallet`, on `branches`, at an index `origins` name (never a blind
// scan: see btc::MatchScriptPubKey), with the expansion there, so that each script's keys are
// derived once.
std::optional<Location> Locate(const crypto::Secp256k1Context& ctx, const WalletConfig& wallet,
                               std::span<const WalletBranch> branches, const btc::Script& script,
                               std::span<const btc::KeyOrigin> origins) {
  for (WalletBranch branch : branches) {
    std::optional<btc::ScriptMatch> match =
        btc::MatchScriptInfo(ctx, wallet.branch(branch), script, origins);
    if (match.has_value()) {
      return Location{.branch = branch, .index = match->index, .info = std::move(match->info)};
    }
  }
  return std::nullopt;
}

// Whether every key-path field `input` carries is the descriptor's at the matched index, so that
// the signer's key finder (btc::SignPsbt) derives only the wallet's key at that index and signs
// only the wallet's scripts. Returns an empty string when they are, else what differs.
std::string CompareInputToDescriptor(const btc::PsbtInput& input, const btc::ScriptInfo& info) {
  if (input.redeem_script.has_value() && input.redeem_script != info.redeem_script) {
    return "its redeem script is not the descriptor's";
  }
  if (input.witness_script.has_value() && input.witness_script != info.witness_script) {
    return "its witness script is not the descriptor's";
  }
  for (const auto& [pubkey, origin] : input.bip32_derivations) {
    const auto expected = std::make_pair(pubkey, origin);
    if (std::find(info.bip32_derivations.begin(), info.bip32_derivations.end(), expected) ==
        info.bip32_derivations.end()) {
      return "derivation " + origin.ToString() + " of key " + util::HexEncode(pubkey) +
             " is not the descriptor's";
    }
  }
  if (input.tap_internal_key.has_value() && input.tap_internal_key != info.tap_internal_key) {
    return "its taproot internal key is not the descriptor's";
  }
  if (input.tap_merkle_root.has_value() && input.tap_merkle_root != info.tap_merkle_root) {
    return "its taproot merkle root is not the descriptor's";
  }
  for (const auto& entry : input.tap_bip32_derivations) {
    const btc::XOnlyBytes& xonly = entry.first;
    const btc::KeyOrigin& origin = entry.second.second;
    std::vector<btc::TapLeafHash> leaves = entry.second.first;
    std::sort(leaves.begin(), leaves.end());
    const bool found =
        std::any_of(info.tap_bip32_derivations.begin(), info.tap_bip32_derivations.end(),
                    [&](const btc::TapKeyOrigin& expected) {
                      std::vector<std::array<uint8_t, 32>> expected_leaves = expected.leaf_hashes;
                      std::sort(expected_leaves.begin(), expected_leaves.end());
                      return expected.xonly_key == xonly && expected.origin == origin &&
                             expected_leaves == leaves;
                    });
    if (!found) {
      return "taproot derivation " + origin.ToString() + " of key " + util::HexEncode(xonly) +
             " is not the descriptor's";
    }
  }
  return "";
}

// Step 3 for input `i` spending `prevout`.
OrRefusal<CheckedInput> CheckInput(const crypto::Secp256k1Context& ctx, const WalletConfig& wallet,
                                   const btc::PsbtInput& input, const btc::Outpoint& prevout,
                                   size_t i) {
  const std::string name = "input " + std::to_string(i);
  if (input.final_script_sig.has_value() || input.final_script_witness.has_value()) {
    return Refusal(TransactionRefusal::kInputFinalized,
                   name +
                       ": already finalized; the signer checks and signs only unfinalized "
                       "inputs");
  }
  // The full previous transaction proves the amount: a witness UTXO alone could understate a
  // segwit v0 input's amount (BIP143 signs only the input's own amount), and the fee with it.
  if (!input.non_witness_utxo.has_value()) {
    return Refusal(TransactionRefusal::kMissingPreviousTransaction,
                   name +
                       ": no previous transaction: a segwit v0 input amount could be "
                       "understated");
  }
  const btc::Transaction& previous = *input.non_witness_utxo;
  const btc::Txid previous_txid = previous.ComputeTxid();
  if (previous_txid != prevout.txid) {
    return Refusal(TransactionRefusal::kPreviousTransactionMismatch,
                   name + ": previous transaction " + btc::TxidToHex(previous_txid) +
                       " is not the spent " + btc::TxidToHex(prevout.txid));
  }
  if (prevout.index >= previous.outputs.size()) {
    return Refusal(TransactionRefusal::kPreviousTransactionMismatch,
                   name + ": previous transaction " + btc::TxidToHex(previous_txid) +
                       " has no output " + std::to_string(prevout.index));
  }
  const btc::TxOut& spent = previous.outputs[prevout.index];
  if (input.witness_utxo.has_value() && *input.witness_utxo != spent) {
    return Refusal(TransactionRefusal::kWitnessUtxoMismatch,
                   name + ": witness utxo (" + Sats(input.witness_utxo->value) + " to " +
                       DescribeScript(input.witness_utxo->script_pubkey, wallet.network()) +
                       ") differs from output " + std::to_string(prevout.index) +
                       " of the previous transaction (" + Sats(spent.value) + " to " +
                       DescribeScript(spent.script_pubkey, wallet.network()) + ")");
  }
  util::Result<btc::Amount> amount = btc::Amount::FromSats(spent.value);
  if (!amount.ok()) {
    return Refusal(TransactionRefusal::kAmountOutOfRange,
                   name + ": spent amount " + Sats(spent.value) + " is out of range");
  }

  const std::vector<btc::KeyOrigin> origins = Origins(input);
  // Each derivation may name another index to try: no more than the descriptor has keys.
  if (origins.size() > wallet.derivation_count()) {
    return Refusal(TransactionRefusal::kInputNotInWallet,
                   name + ": carries " + std::to_string(origins.size()) +
                       " key derivations; the wallet's outputs have " +
                       std::to_string(wallet.derivation_count()));
  }
  constexpr WalletBranch kBoth[] = {WalletBranch::kReceive, WalletBranch::kChange};
  const std::optional<Location> location = Locate(ctx, wallet, kBoth, spent.script_pubkey, origins);
  if (!location.has_value()) {
    return Refusal(TransactionRefusal::kInputNotInWallet,
                   name + ": spent output " +
                       DescribeScript(spent.script_pubkey, wallet.network()) +
                       " does not re-derive from wallet '" + wallet.wallet_id() +
                       "' at an index its derivations name");
  }
  const std::string where =
      std::string(WalletBranchName(location->branch)) + " index " + std::to_string(location->index);
  if (location->index > wallet.index_max(location->branch)) {
    return Refusal(TransactionRefusal::kInputNotInWallet,
                   name + ": " + where + " is above the bound " +
                       std::to_string(wallet.index_max(location->branch)));
  }
  // Invariant: MatchScriptInfo returns the expansion that gave the script (WalletConfig::Create
  // refuses combo(), so it is Expand(index)).
  CHECK(location->info.script_pubkey == spent.script_pubkey);
  const std::string difference = CompareInputToDescriptor(input, location->info);
  if (!difference.empty()) {
    return Refusal(TransactionRefusal::kInputNotInWallet, name + " (" + where + "): " + difference);
  }

  // Only SIGHASH_ALL commits to every input and output; taproot's SIGHASH_DEFAULT is the same
  // commitment without the explicit byte.
  if (input.sighash_type.has_value()) {
    const uint32_t type = *input.sighash_type;
    const bool allowed = type == btc::kSighashAll ||
                         (IsTaproot(spent.script_pubkey) && type == btc::kSighashDefault);
    if (!allowed) {
      return Refusal(TransactionRefusal::kUnsupportedSighash,
                     name + ": sighash type " + std::to_string(type) +
                         " is not SIGHASH_ALL (or taproot's SIGHASH_DEFAULT)");
    }
  }
  return CheckedInput{
      .amount = amount.value(), .branch = location->branch, .index = location->index};
}

// The virtual size of `tx` (unsigned: empty scriptSigs, no witnesses) once every input carries
// the wallet descriptor's largest satisfaction (BIP141 weight).
uint64_t EstimateVsize(const btc::Transaction& tx, const btc::Psbt& psbt,
                       const WalletConfig& wallet) {
  size_t weight = tx.BaseSize() * 4;
  size_t witness_weight = 0;
  bool has_witness = false;
  for (size_t i = 0; i < tx.inputs.size(); ++i) {
    // kinko's signers grind for low R (DESIGN.md section 10): ECDSA signatures of at most 71
    // bytes. Schnorr: 64 bytes, 65 with an explicit sighash byte.
    const bool explicit_sighash = psbt.inputs[i].sighash_type == btc::kSighashAll;
    const btc::SignatureSizes sizes{.ecdsa = 71, .schnorr = explicit_sighash ? 65u : 64u};
    const std::optional<btc::SatisfactionSize> size =
        wallet.descriptor().MaxSatisfactionSize(sizes);
    // Invariant: WalletConfig::Create checked that the size is known.
    CHECK(size.has_value());
    // The unsigned transaction has an empty scriptSig: one length byte, counted in BaseSize.
    weight += (CompactSizeLength(size->script_sig_size) - 1 + size->script_sig_size) * 4;
    if (size->witness_size > 0) {
      has_witness = true;
      witness_weight += size->witness_size;
    } else {
      witness_weight += 1;  // The empty witness: a zero item count.
    }
  }
  // BIP144: the marker and flag bytes, then the witnesses, each at weight 1.
  if (has_witness) weight += 2 + witness_weight;
  return (weight + 3) / 4;
}

}  // namespace

std::string_view WalletBranchName(WalletBranch branch) {
  switch (branch) {
    case WalletBranch::kReceive:
      return "receive";
    case WalletBranch::kChange:
      return "change";
  }
  return "";
}

util::Result<WalletConfig> WalletConfig::Create(const crypto::Secp256k1Context& ctx,
                                                std::string wallet_id, btc::Network network,
                                                btc::Descriptor descriptor,
                                                uint32_t receive_index_max,
                                                uint32_t change_index_max) {
  if (!policy::IsValidWalletId(wallet_id)) {
    return util::InvalidArgumentError("wallet '" + wallet_id + "': invalid wallet id");
  }
  const std::string name = "wallet '" + wallet_id + "'";
  if (descriptor.network() != network) {
    return util::InvalidArgumentError(name + ": descriptor is for network " +
                                      std::string(btc::NetworkName(descriptor.network())) +
                                      ", not " + std::string(btc::NetworkName(network)));
  }
  if (descriptor.HasPrivateKeys()) {
    return util::InvalidArgumentError(name + ": descriptor has private keys");
  }
  if (!descriptor.IsRange()) {
    return util::InvalidArgumentError(name + ": descriptor is not ranged");
  }
  if (descriptor.MultipathCount() != 2) {
    return util::InvalidArgumentError(
        name + ": descriptor must have exactly two multipath alternatives <receive;change>, has " +
        std::to_string(descriptor.MultipathCount()));
  }
  if (!descriptor.MaxSatisfactionSize().has_value()) {
    return util::InvalidArgumentError(name + ": descriptor has no known satisfaction size");
  }
  if (receive_index_max >= btc::kHardened || change_index_max >= btc::kHardened) {
    return util::InvalidArgumentError(name + ": index bounds must be below 2^31");
  }
  std::vector<btc::Descriptor> branches = descriptor.SplitMultipath();
  CHECK(branches.size() == 2);
  util::Result<btc::ScriptInfo> receive_script = branches[0].Expand(ctx, 0);
  if (!receive_script.ok()) return receive_script.status().WithPrefix(name + ": receive branch");
  util::Result<btc::ScriptInfo> change_script = branches[1].Expand(ctx, 0);
  if (!change_script.ok()) return change_script.status().WithPrefix(name + ": change branch");
  if (receive_script.value().script_pubkey == change_script.value().script_pubkey) {
    return util::InvalidArgumentError(name + ": receive and change branches give the same script");
  }
  return WalletConfig(std::move(wallet_id), network, std::move(descriptor), std::move(branches[0]),
                      std::move(branches[1]), receive_index_max, change_index_max,
                      receive_script.value().bip32_derivations.size() +
                          receive_script.value().tap_bip32_derivations.size());
}

const btc::Descriptor& WalletConfig::branch(WalletBranch branch) const {
  switch (branch) {
    case WalletBranch::kReceive:
      return receive_;
    case WalletBranch::kChange:
      return change_;
  }
  CHECK(false);
  return receive_;
}

uint32_t WalletConfig::index_max(WalletBranch branch) const {
  switch (branch) {
    case WalletBranch::kReceive:
      return receive_index_max_;
    case WalletBranch::kChange:
      return change_index_max_;
  }
  CHECK(false);
  return 0;
}

std::string_view TransactionRefusalName(TransactionRefusal code) {
  switch (code) {
    case TransactionRefusal::kMalformedPsbt:
      return "malformed_psbt";
    case TransactionRefusal::kEmptyTransaction:
      return "empty_transaction";
    case TransactionRefusal::kWrongWallet:
      return "wrong_wallet";
    case TransactionRefusal::kWrongNetwork:
      return "wrong_network";
    case TransactionRefusal::kDuplicateInput:
      return "duplicate_input";
    case TransactionRefusal::kInputFinalized:
      return "input_finalized";
    case TransactionRefusal::kMissingPreviousTransaction:
      return "missing_previous_transaction";
    case TransactionRefusal::kPreviousTransactionMismatch:
      return "previous_transaction_mismatch";
    case TransactionRefusal::kWitnessUtxoMismatch:
      return "witness_utxo_mismatch";
    case TransactionRefusal::kInputNotInWallet:
      return "input_not_in_wallet";
    case TransactionRefusal::kUnsupportedSighash:
      return "unsupported_sighash";
    case TransactionRefusal::kAmountOutOfRange:
      return "amount_out_of_range";
    case TransactionRefusal::kUnexpectedOutput:
      return "unexpected_output";
    case TransactionRefusal::kChangeIndexOutOfBounds:
      return "change_index_out_of_bounds";
    case TransactionRefusal::kMissingIntentOutput:
      return "missing_intent_output";
    case TransactionRefusal::kFeeNegative:
      return "fee_negative";
    case TransactionRefusal::kIntentFeeCeiling:
      return "intent_fee_ceiling";
  }
  return "";
}

util::Status TransactionCheckRefusal::ToStatus() const {
  return util::PermissionDeniedError(
      "transaction refused: " + std::string(TransactionRefusalName(code)) + ": " + detail);
}

policy::TransactionFacts CheckedTransaction::Facts() const {
  return policy::TransactionFacts{.fee = fee, .vsize = estimated_vsize};
}

util::Status TransactionCheckOutcome::status() const {
  if (ok()) return util::OkStatus();
  CHECK(refusal.has_value());
  return refusal->ToStatus();
}

std::optional<TransactionCheckRefusal> CheckIntentsForWallet(
    const WalletConfig& wallet, std::span<const policy::SignedIntent> intents) {
  if (intents.empty()) return Refusal(TransactionRefusal::kEmptyTransaction, "no intent to pay");
  for (size_t i = 0; i < intents.size(); ++i) {
    const policy::IntentFields& fields = intents[i].intent().fields();
    if (fields.wallet != wallet.wallet_id()) {
      return Refusal(TransactionRefusal::kWrongWallet,
                     IntentName(i, intents[i]) + ": wallet '" + fields.wallet +
                         "' is not this signer's wallet '" + wallet.wallet_id() + "'");
    }
    if (fields.network != wallet.network()) {
      return Refusal(TransactionRefusal::kWrongNetwork,
                     IntentName(i, intents[i]) + ": network " +
                         std::string(btc::NetworkName(fields.network)) + " is not " +
                         std::string(btc::NetworkName(wallet.network())));
    }
  }
  return std::nullopt;
}

TransactionCheckOutcome CheckTransaction(const crypto::Secp256k1Context& ctx, const btc::Psbt& psbt,
                                         const WalletConfig& wallet,
                                         std::span<const policy::SignedIntent> intents) {
  // 1. The intents are for this wallet and network.
  if (std::optional<TransactionCheckRefusal> refused = CheckIntentsForWallet(wallet, intents)) {
    return Refused(*std::move(refused));
  }

  // 2. The transaction.
  util::Result<btc::Transaction> unsigned_tx = psbt.GetUnsignedTx();
  if (!unsigned_tx.ok()) {
    return Refused(Refusal(TransactionRefusal::kMalformedPsbt, unsigned_tx.status().message()));
  }
  const btc::Transaction& tx = unsigned_tx.value();
  if (psbt.inputs.size() != tx.inputs.size() || psbt.outputs.size() != tx.outputs.size()) {
    return Refused(Refusal(TransactionRefusal::kMalformedPsbt,
                           "input or output maps do not match the transaction"));
  }
  if (tx.inputs.empty() || tx.outputs.empty()) {
    return Refused(Refusal(TransactionRefusal::kEmptyTransaction,
                           "transaction has " + std::to_string(tx.inputs.size()) + " inputs and " +
                               std::to_string(tx.outputs.size()) + " outputs"));
  }
  std::set<btc::Outpoint> spent;
  for (size_t i = 0; i < tx.inputs.size(); ++i) {
    const btc::Outpoint& prevout = tx.inputs[i].prevout;
    if (!spent.insert(prevout).second) {
      return Refused(Refusal(TransactionRefusal::kDuplicateInput,
                             "input " + std::to_string(i) + ": spends " +
                                 btc::TxidToHex(prevout.txid) + ":" +
                                 std::to_string(prevout.index) + " a second time"));
    }
  }

  CheckedTransaction checked;
  checked.txid = tx.ComputeTxid();

  // 3. Every input is the wallet's, with a proven amount.
  for (size_t i = 0; i < tx.inputs.size(); ++i) {
    OrRefusal<CheckedInput> input =
        CheckInput(ctx, wallet, psbt.inputs[i], tx.inputs[i].prevout, i);
    if (auto* refusal = std::get_if<TransactionCheckRefusal>(&input)) return Refused(*refusal);
    const CheckedInput& good = std::get<CheckedInput>(input);
    util::Result<btc::Amount> total = btc::Amount::Add(checked.input_total, good.amount);
    if (!total.ok()) {
      return Refused(
          Refusal(TransactionRefusal::kAmountOutOfRange, "input total is above 21 million BTC"));
    }
    checked.input_total = total.value();
    checked.inputs.push_back(good);
  }

  // 4. Output amounts.
  for (size_t k = 0; k < tx.outputs.size(); ++k) {
    util::Result<btc::Amount> amount = btc::Amount::FromSats(tx.outputs[k].value);
    if (!amount.ok()) {
      return Refused(Refusal(TransactionRefusal::kAmountOutOfRange,
                             "output " + std::to_string(k) + ": amount " +
                                 Sats(tx.outputs[k].value) + " is out of range"));
    }
    util::Result<btc::Amount> total = btc::Amount::Add(checked.output_total, amount.value());
    if (!total.ok()) {
      return Refused(
          Refusal(TransactionRefusal::kAmountOutOfRange, "output total is above 21 million BTC"));
    }
    checked.output_total = total.value();
  }

  // 5. Outputs: the multiset of intent outputs, plus change. Matching is exact on (script,
  // amount), so consuming the first unconsumed equal intent output is a perfect matching
  // whenever one exists.
  struct Wanted {
    size_t intent_index;
    size_t output_index;
    const btc::Script* script;
    btc::Amount amount;
    bool paid;
  };
  std::vector<Wanted> wanted;
  for (size_t i = 0; i < intents.size(); ++i) {
    const policy::Intent& intent = intents[i].intent();
    for (size_t j = 0; j < intent.fields().outputs.size(); ++j) {
      wanted.push_back(Wanted{.intent_index = i,
                              .output_index = j,
                              .script = &intent.output_scripts()[j],
                              .amount = intent.fields().outputs[j].amount,
                              .paid = false});
    }
  }
  for (size_t k = 0; k < tx.outputs.size(); ++k) {
    const btc::TxOut& out = tx.outputs[k];
    auto match = std::find_if(wanted.begin(), wanted.end(), [&](const Wanted& w) {
      return !w.paid && *w.script == out.script_pubkey && w.amount.sats() == out.value;
    });
    if (match != wanted.end()) {
      match->paid = true;
      checked.intent_outputs.push_back(PaidIntentOutput{.intent_index = match->intent_index,
                                                        .output_index = match->output_index,
                                                        .tx_output_index = k});
      continue;
    }
    // Not an intent output: it must be change, re-derived from the change branch at an index
    // its own derivations name. A derivation that does not re-derive the script is no change.
    const std::string name = "output " + std::to_string(k) + " (" +
                             DescribeScript(out.script_pubkey, wallet.network()) + ", " +
                             Sats(out.value) + ")";
    const std::vector<btc::KeyOrigin> origins = Origins(psbt.outputs[k]);
    constexpr WalletBranch kChangeOnly[] = {WalletBranch::kChange};
    // As for inputs, no more derivations than the descriptor has keys.
    const std::optional<Location> location =
        origins.size() > wallet.derivation_count()
            ? std::nullopt
            : Locate(ctx, wallet, kChangeOnly, out.script_pubkey, origins);
    if (!location.has_value()) {
      return Refused(Refusal(
          TransactionRefusal::kUnexpectedOutput,
          name + " is neither an intent output nor change of wallet '" + wallet.wallet_id() + "'"));
    }
    if (location->index > wallet.index_max(WalletBranch::kChange)) {
      return Refused(Refusal(TransactionRefusal::kChangeIndexOutOfBounds,
                             name + ": change index " + std::to_string(location->index) +
                                 " is above the bound " +
                                 std::to_string(wallet.index_max(WalletBranch::kChange))));
    }
    checked.change.push_back(ChangeOutput{.output_index = k,
                                          .derivation_index = location->index,
                                          .amount = btc::Amount::FromSats(out.value).value()});
  }
  for (const Wanted& w : wanted) {
    if (w.paid) continue;
    const policy::IntentOutput& output =
        intents[w.intent_index].intent().fields().outputs[w.output_index];
    return Refused(Refusal(TransactionRefusal::kMissingIntentOutput,
                           IntentName(w.intent_index, intents[w.intent_index]) + ": output " +
                               std::to_string(w.output_index) + " (" + output.address + ", " +
                               Sats(output.amount.sats()) + ") is not paid by the transaction"));
  }
  std::sort(checked.intent_outputs.begin(), checked.intent_outputs.end(),
            [](const PaidIntentOutput& a, const PaidIntentOutput& b) {
              return std::tie(a.intent_index, a.output_index) <
                     std::tie(b.intent_index, b.output_index);
            });

  // 6. Fee.
  if (checked.output_total > checked.input_total) {
    return Refused(Refusal(TransactionRefusal::kFeeNegative,
                           "outputs (" + Sats(checked.output_total.sats()) + ") exceed inputs (" +
                               Sats(checked.input_total.sats()) + ")"));
  }
  // Both totals are in [0, kMaxMoney], so the difference is a valid amount.
  checked.fee =
      btc::Amount::FromSats(checked.input_total.sats() - checked.output_total.sats()).value();
  checked.estimated_vsize = EstimateVsize(tx, psbt, wallet);
  // fee <= 21e14 sat, so fee * 1000 fits in 64 bits.
  checked.fee_rate_sat_per_kvb =
      static_cast<uint64_t>(checked.fee.sats()) * 1000 / checked.estimated_vsize;
  for (size_t i = 0; i < intents.size(); ++i) {
    const policy::FeeCeiling& ceiling = intents[i].intent().fields().fee;
    if (ceiling.max_fee.has_value() && checked.fee > *ceiling.max_fee) {
      return Refused(Refusal(TransactionRefusal::kIntentFeeCeiling,
                             IntentName(i, intents[i]) + ": fee " + Sats(checked.fee.sats()) +
                                 " is above its ceiling of " + Sats(ceiling.max_fee->sats())));
    }
    if (ceiling.max_rate_sat_per_kvb.has_value() &&
        checked.fee_rate_sat_per_kvb > *ceiling.max_rate_sat_per_kvb) {
      return Refused(Refusal(
          TransactionRefusal::kIntentFeeCeiling,
          IntentName(i, intents[i]) + ": fee rate " + std::to_string(checked.fee_rate_sat_per_kvb) +
              " sat/kvB (" + Sats(checked.fee.sats()) + " over " +
              std::to_string(checked.estimated_vsize) + " vbytes) is above its ceiling of " +
              std::to_string(*ceiling.max_rate_sat_per_kvb) + " sat/kvB"));
    }
  }
  return TransactionCheckOutcome{.checked = std::move(checked), .refusal = std::nullopt};
}

}  // namespace kinko::signer
