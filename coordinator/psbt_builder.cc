// The unsigned PSBT of a batch, and the sizes coin selection needs.
//
// Every input and the change output are derived at the branch and index the coordinator knows
// for them: the builder expands the descriptor there once (btc::Descriptor::Expand), checks that
// the coin's script is the one expanded, and writes the expansion's fields into the PSBT as
// BIP174's updater role does (btc::UpdatePsbtWithDescriptor writes the same fields; the tests
// check that both give the same PSBT). The updater itself is not used: it re-derives every
// script from the derivations (two more expansions per script) or scans a range of indexes,
// while the index here is already known; so a coin at index 90,000 costs what a coin at index 0
// does, one expansion.
#include "coordinator/psbt_builder.h"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "btc/address.h"
#include "btc/amount.h"
#include "btc/psbt_roles.h"
#include "btc/standard.h"
#include "util/status.h"

namespace kinko::coordinator {
namespace {

// BIP125: a sequence below 0xfffffffe signals replaceability; 0xfffffffd is the highest such
// value (Bitcoin Core's choice). Any sequence below 0xffffffff also keeps nLockTime enforced.
constexpr uint32_t kRbfSequence = 0xfffffffd;
constexpr uint32_t kTransactionVersion = 2;

// Bytes of a CompactSize encoding of `n`.
uint64_t CompactSizeLength(uint64_t n) {
  if (n < 0xfd) return 1;
  if (n <= 0xffff) return 3;
  if (n <= 0xffffffff) return 5;
  return 9;
}

// Bytes of a serialized output paying `script`: amount, script length, script.
uint64_t OutputBytes(const btc::Script& script) {
  return 8 + CompactSizeLength(script.size()) + script.size();
}

uint64_t WeightToVbytes(uint64_t weight) { return (weight + 3) / 4; }

std::string OutpointName(const btc::Outpoint& outpoint) {
  return btc::TxidToHex(outpoint.txid) + ":" + std::to_string(outpoint.index);
}

// The receive and change descriptors of a multipath <receive;change> descriptor.
util::Result<std::vector<btc::Descriptor>> Branches(const btc::Descriptor& descriptor) {
  if (descriptor.MultipathCount() != 2) {
    return util::InvalidArgumentError(
        "descriptor: needs exactly two multipath alternatives <receive;change>, has " +
        std::to_string(descriptor.MultipathCount()));
  }
  return descriptor.SplitMultipath();
}

bool IsSegwit(const btc::ScriptInfo& info) {
  const btc::Script& inner =
      info.redeem_script.has_value() ? *info.redeem_script : info.script_pubkey;
  return btc::ParseWitnessProgram(inner).has_value();
}

// BIP174 and BIP371: what an input spending the output `spent` of `previous`, whose script the
// descriptor expands to `info`, carries for the signers: the full previous transaction (it proves
// the amount), the witness UTXO (segwit), the redeem and witness scripts, the BIP32 derivations
// of every key, and for taproot the internal key, merkle root, leaf scripts and derivations.
void FillInput(const btc::ScriptInfo& info, btc::Transaction previous, const btc::TxOut& spent,
               btc::PsbtInput& input) {
  input.non_witness_utxo = std::move(previous);
  if (IsSegwit(info)) input.witness_utxo = spent;
  input.redeem_script = info.redeem_script;
  input.witness_script = info.witness_script;
  for (const auto& [pubkey, origin] : info.bip32_derivations) {
    input.bip32_derivations.emplace(pubkey, origin);
  }
  input.tap_internal_key = info.tap_internal_key;
  input.tap_merkle_root = info.tap_merkle_root;
  for (const btc::TapLeafInfo& leaf : info.tap_leaves) {
    input.tap_leaf_scripts.emplace(leaf.control_block,
                                   std::make_pair(leaf.script, leaf.leaf_version));
  }
  for (const btc::TapKeyOrigin& key : info.tap_bip32_derivations) {
    input.tap_bip32_derivations.emplace(key.xonly_key, std::make_pair(key.leaf_hashes, key.origin));
  }
}

// The same for the change output: its scripts and derivations, from which the signers re-derive
// it on the change branch.
void FillOutput(const btc::ScriptInfo& info, btc::PsbtOutput& output) {
  output.redeem_script = info.redeem_script;
  output.witness_script = info.witness_script;
  for (const auto& [pubkey, origin] : info.bip32_derivations) {
    output.bip32_derivations.emplace(pubkey, origin);
  }
  output.tap_internal_key = info.tap_internal_key;
  for (const btc::TapLeafInfo& leaf : info.tap_leaves) {
    // BIP341 control block: 33 bytes, then one 32-byte hash per level below the root.
    const auto depth = static_cast<uint8_t>((leaf.control_block.size() - 33) / 32);
    output.tap_tree.emplace_back(depth, leaf.leaf_version, leaf.script);
  }
  for (const btc::TapKeyOrigin& key : info.tap_bip32_derivations) {
    output.tap_bip32_derivations.emplace(key.xonly_key,
                                         std::make_pair(key.leaf_hashes, key.origin));
  }
}

}  // namespace

util::Result<WalletSizes> SizesFor(const crypto::Secp256k1Context& ctx,
                                   const btc::Descriptor& descriptor) {
  util::Result<std::vector<btc::Descriptor>> branches = Branches(descriptor);
  if (!branches.ok()) return branches.status();
  // Signatures of the largest size (72-byte ECDSA): kinko's signers make 71-byte low-R
  // signatures, but a cosigner that does not grind its nonce must not make the fee rate fall
  // below the one chosen.
  const std::optional<btc::SatisfactionSize> satisfaction = descriptor.MaxSatisfactionSize();
  if (!satisfaction.has_value()) {
    return util::InvalidArgumentError("descriptor: the size of its satisfaction is unknown");
  }
  // An input: outpoint (32 + 4), scriptSig with its length, sequence (4); its witness counts a
  // quarter (BIP141 weight).
  const uint64_t script_sig = satisfaction->script_sig_size;
  const uint64_t input_weight =
      4 * (32 + 4 + CompactSizeLength(script_sig) + script_sig + 4) + satisfaction->witness_size;
  util::Result<btc::ScriptInfo> change = (*branches)[1].Expand(ctx, 0);
  if (!change.ok()) return change.status();

  WalletSizes sizes;
  sizes.input_vbytes = WeightToVbytes(input_weight);
  sizes.change_output_vbytes = OutputBytes(change->script_pubkey);
  sizes.change_spend_vbytes = sizes.input_vbytes;
  return sizes;
}

util::Result<uint64_t> BaseVbytes(std::span<const storage::PayOutput> outputs,
                                  btc::Network network) {
  // Version and lock time (4 + 4); the input count, as one byte (fewer than 253 inputs; each
  // further byte of a larger count is not counted); the output count with a change output.
  uint64_t bytes = 4 + 4 + 1 + CompactSizeLength(outputs.size() + 1);
  for (size_t i = 0; i < outputs.size(); ++i) {
    util::Result<btc::DecodedAddress> decoded = btc::DecodeAddress(outputs[i].address, network);
    if (!decoded.ok()) {
      return util::InvalidArgumentError("output " + std::to_string(i) + ": address '" +
                                        outputs[i].address + "': " + decoded.status().message());
    }
    bytes += OutputBytes(decoded->script_pubkey);
  }
  // BIP144: the segwit marker and flag are witness data (one weight unit each).
  return WeightToVbytes(4 * bytes + 2);
}

util::Result<btc::Psbt> BuildPsbt(const crypto::Secp256k1Context& ctx,
                                  const btc::Descriptor& descriptor, btc::Network network,
                                  const BuildParams& params) {
  if (descriptor.network() != network) {
    return util::InvalidArgumentError("descriptor: parsed for another network");
  }
  util::Result<std::vector<btc::Descriptor>> branches = Branches(descriptor);
  if (!branches.ok()) return branches.status();
  if (params.inputs.empty()) return util::InvalidArgumentError("psbt builder: no input");
  if (params.outputs.empty() && params.change_sats == 0) {
    return util::InvalidArgumentError("psbt builder: no output");
  }
  if (params.change_sats < 0 || !btc::MoneyRange(params.change_sats) ||
      params.change_index.has_value() != (params.change_sats > 0)) {
    return util::InvalidArgumentError(
        "psbt builder: change needs both a positive amount and an index");
  }

  btc::Transaction tx;
  tx.version = kTransactionVersion;
  tx.lock_time = 0;

  // Inputs: each previous transaction must be the one the coin names, and the coin's script
  // the descriptor's at its branch and index.
  std::vector<btc::Transaction> previous;
  std::vector<btc::ScriptInfo> input_infos;
  std::vector<btc::TxOut> spent_outputs;
  previous.reserve(params.inputs.size());
  input_infos.reserve(params.inputs.size());
  spent_outputs.reserve(params.inputs.size());
  for (size_t i = 0; i < params.inputs.size(); ++i) {
    const storage::Utxo& coin = params.inputs[i].coin;
    const std::string name =
        "input " + std::to_string(i) + " (" + OutpointName(coin.outpoint) + ")";
    for (size_t j = 0; j < i; ++j) {
      if (params.inputs[j].coin.outpoint == coin.outpoint) {
        return util::InvalidArgumentError(name + ": spent twice");
      }
    }
    util::Result<btc::Transaction> prev = btc::Transaction::Parse(params.inputs[i].previous_tx);
    if (!prev.ok()) {
      return util::InvalidArgumentError(name +
                                        ": previous transaction: " + prev.status().message());
    }
    if (prev->ComputeTxid() != coin.outpoint.txid) {
      return util::InvalidArgumentError(name + ": previous transaction has txid " +
                                        btc::TxidToHex(prev->ComputeTxid()));
    }
    if (coin.outpoint.index >= prev->outputs.size()) {
      return util::InvalidArgumentError(name + ": previous transaction has " +
                                        std::to_string(prev->outputs.size()) + " outputs");
    }
    const btc::TxOut& spent = prev->outputs[coin.outpoint.index];
    if (spent.value != coin.sats || !btc::MoneyRange(spent.value)) {
      return util::InvalidArgumentError(name + ": previous transaction pays " +
                                        std::to_string(spent.value) + " sat, the coin says " +
                                        std::to_string(coin.sats));
    }
    if (spent.script_pubkey.bytes() != coin.script_pubkey) {
      return util::InvalidArgumentError(
          name + ": previous transaction pays another script than the coin's");
    }
    const char* branch_name = coin.change ? "change" : "receive";
    util::Result<btc::ScriptInfo> info = (*branches)[coin.change ? 1 : 0].Expand(ctx, coin.index);
    if (!info.ok()) {
      return util::InvalidArgumentError(name + ": " + branch_name + " index " +
                                        std::to_string(coin.index) + ": " +
                                        info.status().message());
    }
    if (info->script_pubkey.bytes() != coin.script_pubkey) {
      return util::InvalidArgumentError(name + ": script is not the descriptor's at " +
                                        branch_name + " index " + std::to_string(coin.index));
    }
    btc::TxIn in;
    in.prevout = coin.outpoint;
    in.sequence = kRbfSequence;
    tx.inputs.push_back(std::move(in));
    spent_outputs.push_back(spent);
    previous.push_back(*std::move(prev));
    input_infos.push_back(*std::move(info));
  }

  // Outputs: the intents' outputs in order, then change.
  for (size_t i = 0; i < params.outputs.size(); ++i) {
    const storage::PayOutput& out = params.outputs[i];
    util::Result<btc::DecodedAddress> decoded = btc::DecodeAddress(out.address, network);
    if (!decoded.ok()) {
      return util::InvalidArgumentError("output " + std::to_string(i) + ": address '" +
                                        out.address + "': " + decoded.status().message());
    }
    if (out.sats <= 0 || !btc::MoneyRange(out.sats)) {
      return util::InvalidArgumentError("output " + std::to_string(i) + ": amount " +
                                        std::to_string(out.sats) + " sat out of range");
    }
    tx.outputs.push_back({out.sats, decoded->script_pubkey});
  }
  std::optional<btc::ScriptInfo> change_info;
  std::optional<size_t> change_output;
  if (params.change_index.has_value()) {
    util::Result<btc::ScriptInfo> info = (*branches)[1].Expand(ctx, *params.change_index);
    if (!info.ok()) {
      return util::InvalidArgumentError("change index " + std::to_string(*params.change_index) +
                                        ": " + info.status().message());
    }
    change_output = tx.outputs.size();
    tx.outputs.push_back({params.change_sats, info->script_pubkey});
    change_info = *std::move(info);
  }

  util::Result<btc::Psbt> created = btc::CreatePsbt(std::move(tx));
  if (!created.ok()) return created.status();
  btc::Psbt psbt = *std::move(created);
  for (size_t i = 0; i < input_infos.size(); ++i) {
    FillInput(input_infos[i], std::move(previous[i]), spent_outputs[i], psbt.inputs[i]);
  }
  if (change_output.has_value()) FillOutput(*change_info, psbt.outputs[*change_output]);
  return psbt;
}

}  // namespace kinko::coordinator
