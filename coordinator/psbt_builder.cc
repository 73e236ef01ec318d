// The unsigned PSBT of a batch, and the sizes coin selection needs.
//
// Every input and the change output are derived at the branch and index the coordinator knows
// for them: the builder expands the descriptor there, checks that the coin's script is the one
// expanded, and puts the expansion's BIP32 (or taproot) derivations into the PSBT before the
// descriptor updater (btc::UpdatePsbtWithDescriptor) runs. The updater then finds each script at
// the index the derivations name (btc::MatchScriptPubKey) and never scans a range of indexes
// (options.range = 0), so a coin at index 90,000 costs what a coin at index 0 does.
#include "coordinator/psbt_builder.h"

#include <algorithm>
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

// BIP125: any sequence below 0xfffffffe signals replaceability; 0xfffffffd is the highest such
// value and, being below 0xfffffffe, also leaves nLockTime enforced (Bitcoin Core's choice).
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

// The derivations of `info` as a PSBT input or output carries them, so that the updater finds
// the script at its index without scanning.
template <typename Fields>
void AddDerivations(const btc::ScriptInfo& info, Fields& fields) {
  for (const auto& [pubkey, origin] : info.bip32_derivations) {
    fields.bip32_derivations.emplace(pubkey, origin);
  }
  for (const btc::TapKeyOrigin& key : info.tap_bip32_derivations) {
    fields.tap_bip32_derivations.emplace(key.xonly_key,
                                         std::make_pair(key.leaf_hashes, key.origin));
  }
}

bool IsSegwit(const btc::ScriptInfo& info) {
  const btc::Script& inner =
      info.redeem_script.has_value() ? *info.redeem_script : info.script_pubkey;
  return btc::ParseWitnessProgram(inner).has_value();
}

// Checks what the signers require of every input and the change output after the update.
// A failure here is a bug (the updater did not place a script the builder derived).
util::Status CheckComplete(const btc::Psbt& psbt, const std::vector<btc::ScriptInfo>& inputs,
                           const std::optional<size_t>& change_output) {
  for (size_t i = 0; i < psbt.inputs.size(); ++i) {
    const btc::PsbtInput& input = psbt.inputs[i];
    const size_t derivations = input.bip32_derivations.size() + input.tap_bip32_derivations.size();
    const size_t expected =
        inputs[i].bip32_derivations.size() + inputs[i].tap_bip32_derivations.size();
    if (!input.non_witness_utxo.has_value() || derivations != expected ||
        (IsSegwit(inputs[i]) && !input.witness_utxo.has_value()) ||
        input.witness_script != inputs[i].witness_script ||
        input.redeem_script != inputs[i].redeem_script) {
      return util::InternalError("psbt builder: input " + std::to_string(i) +
                                 " was not completed by the descriptor updater");
    }
  }
  if (change_output.has_value()) {
    const btc::PsbtOutput& output = psbt.outputs[*change_output];
    if (output.bip32_derivations.empty() && output.tap_bip32_derivations.empty()) {
      return util::InternalError("psbt builder: the change output has no derivations");
    }
  }
  return util::Status();
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
  previous.reserve(params.inputs.size());
  input_infos.reserve(params.inputs.size());
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
  for (size_t i = 0; i < input_infos.size(); ++i) AddDerivations(input_infos[i], psbt.inputs[i]);
  if (change_output.has_value()) AddDerivations(*change_info, psbt.outputs[*change_output]);

  // The updater adds the previous transactions, witness UTXOs, redeem and witness scripts (and
  // taproot data) where the derivations placed a script; range 0: no index is scanned.
  util::Result<btc::Psbt> updated = btc::UpdatePsbtWithDescriptor(
      ctx, std::move(psbt), descriptor, previous,
      btc::PsbtDescriptorUpdateOptions{.range = 0, .segwit_utxo = btc::SegwitUtxoFields::kBoth});
  if (!updated.ok()) return updated.status();
  if (util::Status complete = CheckComplete(*updated, input_infos, change_output); !complete.ok()) {
    return complete;
  }
  return updated;
}

}  // namespace kinko::coordinator
