#include "btc/psbt_roles.h"

#include <algorithm>
#include <string>
#include <utility>

#include "btc/amount.h"
#include "btc/internal/psbt_solve.h"
#include "btc/standard.h"
#include "crypto/hash.h"

namespace kinko::btc {
namespace {

std::string InputName(size_t index) { return "psbt input " + std::to_string(index); }

bool SameBytes(std::span<const uint8_t> a, std::span<const uint8_t> b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end());
}

bool IsFinal(const PsbtInput& input) {
  return input.final_script_sig.has_value() || input.final_script_witness.has_value();
}

// The scripts and keys an updater fills in for one script (an input's spent output or an
// output), found in `data`.
struct ScriptFields {
  std::optional<Script> redeem_script;
  std::optional<Script> witness_script;
  std::map<std::vector<uint8_t>, KeyOrigin> key_origins;
  bool segwit = false;
};

const Script* FindScript(const PsbtUpdateData& data, std::span<const uint8_t> hash) {
  for (const Script& script : data.scripts) {
    const bool match = hash.size() == 20 ? SameBytes(crypto::Hash160(script.bytes()), hash)
                                         : SameBytes(crypto::Sha256(script.bytes()), hash);
    if (match) return &script;
  }
  return nullptr;
}

void AddOrigin(const PsbtUpdateData& data, const std::vector<uint8_t>& pubkey,
               ScriptFields& fields) {
  auto it = data.key_origins.find(pubkey);
  if (it != data.key_origins.end()) fields.key_origins.emplace(pubkey, it->second);
}

void AddOriginByHash(const PsbtUpdateData& data, std::span<const uint8_t> hash,
                     ScriptFields& fields) {
  for (const auto& [pubkey, origin] : data.key_origins) {
    if (SameBytes(crypto::Hash160(pubkey), hash)) fields.key_origins.emplace(pubkey, origin);
  }
}

// Key origins of the keys in a P2PK, P2PKH or multisig `script`.
void AddKeyScriptOrigins(const PsbtUpdateData& data, const Script& script, ScriptFields& fields) {
  const StandardScript standard = Classify(script);
  switch (standard.kind) {
    case ScriptKind::kP2pk:
      AddOrigin(data, standard.solutions[0], fields);
      return;
    case ScriptKind::kP2pkh:
      AddOriginByHash(data, standard.solutions[0], fields);
      return;
    case ScriptKind::kMultisig:
      for (size_t i = 1; i + 1 < standard.solutions.size(); ++i) {
        AddOrigin(data, standard.solutions[i], fields);
      }
      return;
    case ScriptKind::kNonStandard:
    case ScriptKind::kP2sh:
    case ScriptKind::kNullData:
    case ScriptKind::kP2wpkh:
    case ScriptKind::kP2wsh:
    case ScriptKind::kP2tr:
    case ScriptKind::kAnchor:
    case ScriptKind::kWitnessUnknown:
      return;
  }
}

// Walks `script_pubkey` (P2SH, then a witness program) as Bitcoin Core's ProduceSignature does.
// `known_redeem` and `known_witness` are scripts the PSBT already has.
ScriptFields CollectScriptFields(const PsbtUpdateData& data, const Script& script_pubkey,
                                 const std::optional<Script>& known_redeem,
                                 const std::optional<Script>& known_witness) {
  ScriptFields fields;
  Script script = script_pubkey;
  StandardScript standard = Classify(script);
  if (standard.kind == ScriptKind::kP2sh) {
    const Script* redeem = nullptr;
    if (known_redeem.has_value() &&
        SameBytes(crypto::Hash160(known_redeem->bytes()), standard.solutions[0])) {
      redeem = &*known_redeem;
    } else {
      redeem = FindScript(data, standard.solutions[0]);
    }
    if (redeem == nullptr) return fields;
    fields.redeem_script = *redeem;
    script = *redeem;
    standard = Classify(script);
  }
  switch (standard.kind) {
    case ScriptKind::kP2wpkh:
      fields.segwit = true;
      AddOriginByHash(data, standard.solutions[0], fields);
      return fields;
    case ScriptKind::kP2wsh: {
      fields.segwit = true;
      const Script* witness = nullptr;
      if (known_witness.has_value() &&
          SameBytes(crypto::Sha256(known_witness->bytes()), standard.solutions[0])) {
        witness = &*known_witness;
      } else {
        witness = FindScript(data, standard.solutions[0]);
      }
      if (witness == nullptr) return fields;
      fields.witness_script = *witness;
      AddKeyScriptOrigins(data, *witness, fields);
      return fields;
    }
    case ScriptKind::kP2tr:
    case ScriptKind::kWitnessUnknown:
    case ScriptKind::kAnchor:
      fields.segwit = true;
      return fields;
    case ScriptKind::kP2pk:
    case ScriptKind::kP2pkh:
    case ScriptKind::kMultisig:
      AddKeyScriptOrigins(data, script, fields);
      return fields;
    case ScriptKind::kNonStandard:
    case ScriptKind::kP2sh:
    case ScriptKind::kNullData:
      return fields;
  }
  return fields;
}

// Merges the unknown pairs of `from` into `into`, keeping `into`'s value for a key in both,
// proprietary keys (type 0xfc) first and each group in key order, as psbt.h keeps them.
void MergeUnknown(std::vector<PsbtUnknown>& into, const std::vector<PsbtUnknown>& from) {
  std::map<std::vector<uint8_t>, std::vector<uint8_t>> proprietary;
  std::map<std::vector<uint8_t>, std::vector<uint8_t>> other;
  auto add = [&](const PsbtUnknown& pair) {
    const bool is_proprietary = !pair.key.empty() && pair.key[0] == kPsbtProprietary;
    (is_proprietary ? proprietary : other).emplace(pair.key, pair.value);
  };
  for (const PsbtUnknown& pair : into) add(pair);
  for (const PsbtUnknown& pair : from) add(pair);
  into.clear();
  for (auto& [key, value] : proprietary) into.push_back(PsbtUnknown{key, value});
  for (auto& [key, value] : other) into.push_back(PsbtUnknown{key, value});
}

template <typename T>
void MergeOptional(std::optional<T>& into, const std::optional<T>& from) {
  if (!into.has_value() && from.has_value()) into = from;
}

template <typename Map>
void MergeMap(Map& into, const Map& from) {
  for (const auto& [key, value] : from) into.emplace(key, value);
}

void MergeInput(PsbtInput& into, const PsbtInput& from) {
  MergeOptional(into.non_witness_utxo, from.non_witness_utxo);
  MergeOptional(into.witness_utxo, from.witness_utxo);
  MergeMap(into.partial_sigs, from.partial_sigs);
  MergeOptional(into.sighash_type, from.sighash_type);
  MergeOptional(into.redeem_script, from.redeem_script);
  MergeOptional(into.witness_script, from.witness_script);
  MergeMap(into.bip32_derivations, from.bip32_derivations);
  MergeOptional(into.final_script_sig, from.final_script_sig);
  MergeOptional(into.final_script_witness, from.final_script_witness);
  MergeMap(into.ripemd160_preimages, from.ripemd160_preimages);
  MergeMap(into.sha256_preimages, from.sha256_preimages);
  MergeMap(into.hash160_preimages, from.hash160_preimages);
  MergeMap(into.hash256_preimages, from.hash256_preimages);
  MergeOptional(into.previous_txid, from.previous_txid);
  MergeOptional(into.output_index, from.output_index);
  MergeOptional(into.sequence, from.sequence);
  MergeOptional(into.time_locktime, from.time_locktime);
  MergeOptional(into.height_locktime, from.height_locktime);
  MergeOptional(into.tap_key_sig, from.tap_key_sig);
  MergeMap(into.tap_script_sigs, from.tap_script_sigs);
  MergeMap(into.tap_leaf_scripts, from.tap_leaf_scripts);
  MergeMap(into.tap_bip32_derivations, from.tap_bip32_derivations);
  MergeOptional(into.tap_internal_key, from.tap_internal_key);
  MergeOptional(into.tap_merkle_root, from.tap_merkle_root);
  MergeUnknown(into.unknown, from.unknown);
}

void MergeOutput(PsbtOutput& into, const PsbtOutput& from) {
  MergeOptional(into.redeem_script, from.redeem_script);
  MergeOptional(into.witness_script, from.witness_script);
  MergeMap(into.bip32_derivations, from.bip32_derivations);
  MergeOptional(into.amount, from.amount);
  MergeOptional(into.script, from.script);
  MergeOptional(into.tap_internal_key, from.tap_internal_key);
  if (into.tap_tree.empty()) into.tap_tree = from.tap_tree;
  MergeMap(into.tap_bip32_derivations, from.tap_bip32_derivations);
  MergeUnknown(into.unknown, from.unknown);
}

// BIP174 finalizer: all but the UTXOs, unknown pairs and (BIP370) the fields that define the
// transaction are cleared once the final scripts are set.
using TransactionsByTxid = std::map<Txid, const Transaction*>;

TransactionsByTxid IndexByTxid(std::span<const Transaction> transactions) {
  TransactionsByTxid by_txid;
  for (const Transaction& tx : transactions) by_txid.emplace(tx.ComputeTxid(), &tx);
  return by_txid;
}

// The updaters' common first step for input `index`: attach the previous transaction it spends
// when one was given and the input has none, then return the output it spends (nullopt when
// the PSBT does not say).
util::Result<std::optional<TxOut>> AttachSpentOutput(PsbtInput& input, const Outpoint& prevout,
                                                     size_t index,
                                                     const TransactionsByTxid& by_txid) {
  if (!input.non_witness_utxo.has_value()) {
    auto it = by_txid.find(prevout.txid);
    if (it != by_txid.end()) input.non_witness_utxo = *it->second;
  }
  return internal::SpentOutput(input, prevout, index);
}

void SetFinal(PsbtInput& input, internal::InputSolution solution) {
  PsbtInput final_input;
  final_input.non_witness_utxo = std::move(input.non_witness_utxo);
  final_input.witness_utxo = std::move(input.witness_utxo);
  if (!solution.script_sig.empty()) final_input.final_script_sig = std::move(solution.script_sig);
  if (!solution.witness.empty()) final_input.final_script_witness = std::move(solution.witness);
  final_input.previous_txid = input.previous_txid;
  final_input.output_index = input.output_index;
  final_input.sequence = input.sequence;
  final_input.time_locktime = input.time_locktime;
  final_input.height_locktime = input.height_locktime;
  final_input.unknown = std::move(input.unknown);
  input = std::move(final_input);
}

}  // namespace

util::Result<Psbt> CreatePsbt(Transaction tx) {
  for (size_t i = 0; i < tx.inputs.size(); ++i) {
    if (!tx.inputs[i].script_sig.empty() || !tx.inputs[i].witness.empty()) {
      return util::InvalidArgumentError("transaction input " + std::to_string(i) +
                                        ": unsigned transaction has a scriptSig or witness");
    }
  }
  Psbt psbt;
  psbt.version = 0;
  psbt.inputs.resize(tx.inputs.size());
  psbt.outputs.resize(tx.outputs.size());
  psbt.unsigned_tx = std::move(tx);
  return psbt;
}

util::Result<Psbt> UpdatePsbt(Psbt psbt, const PsbtUpdateData& data,
                              const PsbtUpdateOptions& options) {
  util::Result<Transaction> unsigned_tx = psbt.GetUnsignedTx();
  if (!unsigned_tx.ok()) return unsigned_tx.status();
  const Transaction& tx = *unsigned_tx;
  const TransactionsByTxid by_txid = IndexByTxid(data.previous_transactions);

  for (size_t i = 0; i < psbt.inputs.size(); ++i) {
    PsbtInput& input = psbt.inputs[i];
    if (IsFinal(input)) continue;
    util::Result<std::optional<TxOut>> spent =
        AttachSpentOutput(input, tx.inputs[i].prevout, i, by_txid);
    if (!spent.ok()) return spent.status();
    if (!spent->has_value()) continue;
    ScriptFields fields = CollectScriptFields(data, (*spent)->script_pubkey, input.redeem_script,
                                              input.witness_script);
    MergeOptional(input.redeem_script, fields.redeem_script);
    MergeOptional(input.witness_script, fields.witness_script);
    MergeMap(input.bip32_derivations, fields.key_origins);
    if (fields.segwit) {
      input.witness_utxo = **spent;
      if (options.segwit_utxo == SegwitUtxoFields::kWitnessUtxoOnly) {
        input.non_witness_utxo.reset();
      }
    }
  }
  for (size_t i = 0; i < psbt.outputs.size(); ++i) {
    PsbtOutput& output = psbt.outputs[i];
    ScriptFields fields = CollectScriptFields(data, tx.outputs[i].script_pubkey,
                                              output.redeem_script, output.witness_script);
    MergeOptional(output.redeem_script, fields.redeem_script);
    MergeOptional(output.witness_script, fields.witness_script);
    MergeMap(output.bip32_derivations, fields.key_origins);
  }
  return psbt;
}

namespace {

bool IsSegwitScript(const ScriptInfo& info) {
  const Script& inner = info.redeem_script.has_value() ? *info.redeem_script : info.script_pubkey;
  return ParseWitnessProgram(inner).has_value();
}

void ApplyToInput(const ScriptInfo& info, PsbtInput& input) {
  MergeOptional(input.redeem_script, info.redeem_script);
  MergeOptional(input.witness_script, info.witness_script);
  for (const auto& [pubkey, origin] : info.bip32_derivations) {
    input.bip32_derivations.emplace(pubkey, origin);
  }
  MergeOptional(input.tap_internal_key, info.tap_internal_key);
  MergeOptional(input.tap_merkle_root, info.tap_merkle_root);
  for (const TapLeafInfo& leaf : info.tap_leaves) {
    input.tap_leaf_scripts.emplace(leaf.control_block,
                                   std::make_pair(leaf.script, leaf.leaf_version));
  }
  for (const TapKeyOrigin& key : info.tap_bip32_derivations) {
    input.tap_bip32_derivations.emplace(key.xonly_key, std::make_pair(key.leaf_hashes, key.origin));
  }
}

void ApplyToOutput(const ScriptInfo& info, PsbtOutput& output) {
  MergeOptional(output.redeem_script, info.redeem_script);
  MergeOptional(output.witness_script, info.witness_script);
  for (const auto& [pubkey, origin] : info.bip32_derivations) {
    output.bip32_derivations.emplace(pubkey, origin);
  }
  MergeOptional(output.tap_internal_key, info.tap_internal_key);
  if (output.tap_tree.empty()) {
    for (const TapLeafInfo& leaf : info.tap_leaves) {
      // BIP341 control block: 33 bytes, then one 32-byte hash per level below the root.
      const auto depth = static_cast<uint8_t>((leaf.control_block.size() - 33) / 32);
      output.tap_tree.emplace_back(depth, leaf.leaf_version, leaf.script);
    }
  }
  for (const TapKeyOrigin& key : info.tap_bip32_derivations) {
    output.tap_bip32_derivations.emplace(key.xonly_key,
                                         std::make_pair(key.leaf_hashes, key.origin));
  }
}

// Finds the expansion of one of `descriptors` that produces a script: first at the index the
// derivations name, else by expanding indexes 0..range-1 once for all lookups.
class DescriptorMatcher {
 public:
  DescriptorMatcher(const crypto::Secp256k1Context& ctx, std::vector<Descriptor> descriptors,
                    uint32_t range)
      : ctx_(ctx), descriptors_(std::move(descriptors)), range_(range) {}

  util::Result<std::optional<ScriptInfo>> Find(const Script& script_pubkey,
                                               const std::vector<KeyOrigin>& origins) {
    for (const Descriptor& descriptor : descriptors_) {
      std::optional<uint32_t> index = MatchScriptPubKey(ctx_, descriptor, script_pubkey, origins);
      if (!index.has_value()) continue;
      util::Result<ScriptInfo> info = descriptor.Expand(ctx_, *index);
      if (!info.ok()) return info.status();
      return std::optional<ScriptInfo>(std::move(*info));
    }
    if (!scanned_) {
      scanned_ = true;
      for (const Descriptor& descriptor : descriptors_) {
        const uint32_t count = descriptor.IsRange() ? range_ : 1;
        for (uint32_t i = 0; i < count; ++i) {
          util::Result<ScriptInfo> info = descriptor.Expand(ctx_, i);
          if (!info.ok()) return info.status();
          Script key = info->script_pubkey;
          by_script_.emplace(std::move(key), std::move(*info));
        }
      }
    }
    auto it = by_script_.find(script_pubkey);
    if (it == by_script_.end()) return std::optional<ScriptInfo>();
    return std::optional<ScriptInfo>(it->second);
  }

 private:
  const crypto::Secp256k1Context& ctx_;
  std::vector<Descriptor> descriptors_;
  uint32_t range_;
  bool scanned_ = false;
  std::map<Script, ScriptInfo> by_script_;
};

template <typename Fields>
std::vector<KeyOrigin> OriginsOf(const Fields& fields) {
  std::vector<KeyOrigin> origins;
  for (const auto& [pubkey, origin] : fields.bip32_derivations) origins.push_back(origin);
  for (const auto& [xonly, derivation] : fields.tap_bip32_derivations) {
    origins.push_back(derivation.second);
  }
  return origins;
}

}  // namespace

util::Result<Psbt> UpdatePsbtWithDescriptor(const crypto::Secp256k1Context& ctx, Psbt psbt,
                                            const Descriptor& descriptor,
                                            std::span<const Transaction> previous_transactions,
                                            const PsbtDescriptorUpdateOptions& options) {
  util::Result<Transaction> unsigned_tx = psbt.GetUnsignedTx();
  if (!unsigned_tx.ok()) return unsigned_tx.status();
  const Transaction& tx = *unsigned_tx;
  const TransactionsByTxid by_txid = IndexByTxid(previous_transactions);
  DescriptorMatcher matcher(ctx, descriptor.SplitMultipath(), options.range);

  for (size_t i = 0; i < psbt.inputs.size(); ++i) {
    PsbtInput& input = psbt.inputs[i];
    if (IsFinal(input)) continue;
    util::Result<std::optional<TxOut>> spent =
        AttachSpentOutput(input, tx.inputs[i].prevout, i, by_txid);
    if (!spent.ok()) return spent.status();
    if (!spent->has_value()) continue;
    util::Result<std::optional<ScriptInfo>> info =
        matcher.Find((*spent)->script_pubkey, OriginsOf(input));
    if (!info.ok()) return info.status();
    if (!info->has_value()) continue;
    ApplyToInput(**info, input);
    if (IsSegwitScript(**info)) {
      input.witness_utxo = **spent;
      if (options.segwit_utxo == SegwitUtxoFields::kWitnessUtxoOnly) {
        input.non_witness_utxo.reset();
      }
    }
  }
  for (size_t i = 0; i < psbt.outputs.size(); ++i) {
    util::Result<std::optional<ScriptInfo>> info =
        matcher.Find(tx.outputs[i].script_pubkey, OriginsOf(psbt.outputs[i]));
    if (!info.ok()) return info.status();
    if (info->has_value()) ApplyToOutput(**info, psbt.outputs[i]);
  }
  return psbt;
}

util::Result<Psbt> CombinePsbts(std::span<const Psbt> psbts) {
  if (psbts.empty()) return util::InvalidArgumentError("psbt combine: no psbt given");
  util::Result<Transaction> first_tx = psbts[0].GetUnsignedTx();
  if (!first_tx.ok()) return first_tx.status();
  const Txid txid = first_tx->ComputeTxid();
  Psbt out = psbts[0];
  for (size_t n = 1; n < psbts.size(); ++n) {
    const Psbt& other = psbts[n];
    util::Result<Transaction> other_tx = other.GetUnsignedTx();
    if (!other_tx.ok()) return other_tx.status();
    if (other.version != out.version || other_tx->ComputeTxid() != txid ||
        other.inputs.size() != out.inputs.size() || other.outputs.size() != out.outputs.size()) {
      return util::InvalidArgumentError("psbt combine: psbt " + std::to_string(n) +
                                        " describes a different transaction");
    }
    for (const auto& xpub : other.global_xpubs) {
      const bool known = std::any_of(out.global_xpubs.begin(), out.global_xpubs.end(),
                                     [&](const auto& entry) { return entry.first == xpub.first; });
      if (!known) out.global_xpubs.push_back(xpub);
    }
    MergeOptional(out.fallback_locktime, other.fallback_locktime);
    MergeUnknown(out.unknown, other.unknown);
    for (size_t i = 0; i < out.inputs.size(); ++i) MergeInput(out.inputs[i], other.inputs[i]);
    for (size_t i = 0; i < out.outputs.size(); ++i) MergeOutput(out.outputs[i], other.outputs[i]);
  }
  return out;
}

util::Result<PsbtFinalizeResult> FinalizePsbt(Psbt psbt) {
  util::Result<Transaction> unsigned_tx = psbt.GetUnsignedTx();
  if (!unsigned_tx.ok()) return unsigned_tx.status();
  PsbtFinalizeResult result;
  result.complete = true;
  for (size_t i = 0; i < psbt.inputs.size(); ++i) {
    PsbtInput& input = psbt.inputs[i];
    if (IsFinal(input)) continue;
    util::Result<std::optional<TxOut>> spent =
        internal::SpentOutput(input, unsigned_tx->inputs[i].prevout, i);
    if (!spent.ok()) return spent.status();
    std::optional<internal::InputSolution> solution;
    if (spent->has_value()) {
      solution = internal::SolveInput(input, (*spent)->script_pubkey,
                                      internal::SignatureSource::kPartialSignatures);
    }
    if (!solution.has_value()) {
      result.complete = false;
      continue;
    }
    SetFinal(input, std::move(*solution));
  }
  result.psbt = std::move(psbt);
  return result;
}

util::Result<Transaction> ExtractTransaction(const Psbt& psbt) {
  util::Result<Transaction> unsigned_tx = psbt.GetUnsignedTx();
  if (!unsigned_tx.ok()) return unsigned_tx.status();
  Transaction tx = std::move(*unsigned_tx);
  for (size_t i = 0; i < psbt.inputs.size(); ++i) {
    const PsbtInput& input = psbt.inputs[i];
    if (!IsFinal(input)) {
      return util::FailedPreconditionError(InputName(i) + ": not finalized");
    }
    if (input.final_script_sig.has_value()) tx.inputs[i].script_sig = *input.final_script_sig;
    if (input.final_script_witness.has_value()) {
      tx.inputs[i].witness = *input.final_script_witness;
    }
  }
  return tx;
}

util::Result<PsbtFeeFacts> ComputeFeeFacts(const Psbt& psbt) {
  util::Result<Transaction> unsigned_tx = psbt.GetUnsignedTx();
  if (!unsigned_tx.ok()) return unsigned_tx.status();
  Transaction sized = std::move(*unsigned_tx);
  PsbtFeeFacts facts;

  for (size_t i = 0; i < sized.outputs.size(); ++i) {
    const int64_t value = sized.outputs[i].value;
    if (!MoneyRange(value) || !MoneyRange(facts.output_total + value)) {
      return util::InvalidArgumentError("psbt output " + std::to_string(i) +
                                        ": amount out of range");
    }
    facts.output_total += value;
  }

  int64_t input_total = 0;
  bool inputs_known = true;
  bool size_known = true;
  for (size_t i = 0; i < psbt.inputs.size(); ++i) {
    const PsbtInput& input = psbt.inputs[i];
    util::Result<std::optional<TxOut>> spent =
        internal::SpentOutput(input, sized.inputs[i].prevout, i);
    if (!spent.ok()) return spent.status();
    if (spent->has_value()) {
      const int64_t value = (*spent)->value;
      if (!MoneyRange(value) || !MoneyRange(input_total + value)) {
        return util::InvalidArgumentError(InputName(i) + ": amount out of range");
      }
      input_total += value;
      if (!input.non_witness_utxo.has_value()) facts.amount_from_witness_utxo_only = true;
    } else {
      inputs_known = false;
    }

    if (IsFinal(input)) {
      if (input.final_script_sig.has_value()) sized.inputs[i].script_sig = *input.final_script_sig;
      if (input.final_script_witness.has_value()) {
        sized.inputs[i].witness = *input.final_script_witness;
      }
      continue;
    }
    // The signatures present when they suffice (the size is then exact), else placeholders.
    std::optional<internal::InputSolution> solution;
    if (spent->has_value()) {
      solution = internal::SolveInput(input, (*spent)->script_pubkey,
                                      internal::SignatureSource::kPartialSignatures);
      if (!solution.has_value()) {
        solution = internal::SolveInput(input, (*spent)->script_pubkey,
                                        internal::SignatureSource::kPlaceholders);
      }
    }
    if (!solution.has_value()) {
      size_known = false;
      continue;
    }
    sized.inputs[i].script_sig = std::move(solution->script_sig);
    sized.inputs[i].witness = std::move(solution->witness);
  }

  if (inputs_known) {
    facts.input_total = input_total;
    facts.fee = input_total - facts.output_total;
  }
  if (size_known) facts.estimated_vsize = sized.VirtualSize();
  if (facts.fee.has_value() && facts.estimated_vsize.has_value() && *facts.estimated_vsize > 0) {
    facts.fee_rate_sat_per_kvb = *facts.fee * 1000 / static_cast<int64_t>(*facts.estimated_vsize);
  }
  return facts;
}

}  // namespace kinko::btc
