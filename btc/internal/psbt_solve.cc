#include "btc/internal/psbt_solve.h"

#include <algorithm>
#include <string>
#include <utility>

#include "btc/sighash.h"
#include "btc/standard.h"
#include "crypto/hash.h"

namespace kinko::btc::internal {
namespace {

using Stack = std::vector<std::vector<uint8_t>>;

// Largest signatures: a low-S DER ECDSA signature is at most 71 bytes (70 with low-R grinding,
// DESIGN.md section 10), plus the sighash byte; a BIP340 signature is 64 bytes, plus a sighash
// byte unless DEFAULT.
constexpr size_t kPlaceholderEcdsaSize = 72;
constexpr size_t kTaprootLeafVersion = 0xc0;

bool SameBytes(std::span<const uint8_t> a, std::span<const uint8_t> b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end());
}

// Signs for `pubkey` in a legacy or segwit v0 script.
std::optional<std::vector<uint8_t>> EcdsaSignature(const PsbtInput& input,
                                                   const std::vector<uint8_t>& pubkey,
                                                   SignatureSource source) {
  switch (source) {
    case SignatureSource::kPartialSignatures: {
      auto it = input.partial_sigs.find(pubkey);
      if (it == input.partial_sigs.end()) return std::nullopt;
      return it->second;
    }
    case SignatureSource::kPlaceholders:
      return std::vector<uint8_t>(kPlaceholderEcdsaSize, 0);
  }
  return std::nullopt;
}

size_t SchnorrSize(const PsbtInput& input) { return input.sighash_type.value_or(0) == 0 ? 64 : 65; }

// The public key whose HASH160 is `hash`, from the input's signatures and derivations; for
// placeholders any 33-byte key will do when none is known.
std::optional<std::vector<uint8_t>> FindPubkeyByHash(const PsbtInput& input,
                                                     std::span<const uint8_t> hash,
                                                     SignatureSource source) {
  for (const auto& [pubkey, sig] : input.partial_sigs) {
    if (SameBytes(crypto::Hash160(pubkey), hash)) return pubkey;
  }
  if (source == SignatureSource::kPlaceholders) {
    for (const auto& [pubkey, origin] : input.bip32_derivations) {
      if (SameBytes(crypto::Hash160(pubkey), hash)) return pubkey;
    }
    return std::vector<uint8_t>(33, 0x02);
  }
  return std::nullopt;
}

// The stack that satisfies a P2PK, P2PKH or multisig `script` (legacy or witness v0), or
// nullopt.
std::optional<Stack> SolveKeyScript(const PsbtInput& input, const Script& script,
                                    SignatureSource source) {
  const StandardScript standard = Classify(script);
  switch (standard.kind) {
    case ScriptKind::kP2pk: {
      auto sig = EcdsaSignature(input, standard.solutions[0], source);
      if (!sig.has_value()) return std::nullopt;
      return Stack{std::move(*sig)};
    }
    case ScriptKind::kP2pkh: {
      auto pubkey = FindPubkeyByHash(input, standard.solutions[0], source);
      if (!pubkey.has_value()) return std::nullopt;
      auto sig = EcdsaSignature(input, *pubkey, source);
      if (!sig.has_value()) return std::nullopt;
      return Stack{std::move(*sig), std::move(*pubkey)};
    }
    case ScriptKind::kMultisig: {
      // [m, key 1, ..., key n, n]. CHECKMULTISIG consumes one extra item (the dummy, empty by
      // NULLDUMMY), then the signatures in the order of their keys.
      const size_t required = standard.solutions.front()[0];
      Stack stack{{}};
      for (size_t i = 1; i + 1 < standard.solutions.size() && stack.size() < required + 1; ++i) {
        auto sig = EcdsaSignature(input, standard.solutions[i], source);
        if (sig.has_value()) stack.push_back(std::move(*sig));
      }
      if (stack.size() != required + 1) return std::nullopt;
      return stack;
    }
    case ScriptKind::kNonStandard:
    case ScriptKind::kP2sh:
    case ScriptKind::kNullData:
    case ScriptKind::kP2wpkh:
    case ScriptKind::kP2wsh:
    case ScriptKind::kP2tr:
    case ScriptKind::kAnchor:
    case ScriptKind::kWitnessUnknown:
      return std::nullopt;
  }
  return std::nullopt;
}

// The witness of a P2WPKH output with `program`.
std::optional<Stack> SolveP2wpkh(const PsbtInput& input, std::span<const uint8_t> program,
                                 SignatureSource source) {
  auto pubkey = FindPubkeyByHash(input, program, source);
  if (!pubkey.has_value()) return std::nullopt;
  auto sig = EcdsaSignature(input, *pubkey, source);
  if (!sig.has_value()) return std::nullopt;
  return Stack{std::move(*sig), std::move(*pubkey)};
}

// The witness of a P2WSH output with `program`: the witness script's stack, then the script.
std::optional<Stack> SolveP2wsh(const PsbtInput& input, std::span<const uint8_t> program,
                                SignatureSource source) {
  if (!input.witness_script.has_value()) return std::nullopt;
  const Script& witness_script = *input.witness_script;
  if (!SameBytes(crypto::Sha256(witness_script.bytes()), program)) return std::nullopt;
  auto stack = SolveKeyScript(input, witness_script, source);
  if (!stack.has_value()) return std::nullopt;
  stack->push_back(witness_script.bytes());
  return stack;
}

// The stack satisfying a tapscript leaf (`pk` or `multi_a`) with leaf hash `leaf_hash`.
std::optional<Stack> SolveTapLeaf(const PsbtInput& input, const Script& script,
                                  const TapLeafHash& leaf_hash, SignatureSource source) {
  auto signature = [&](const XOnlyBytes& key) -> std::optional<std::vector<uint8_t>> {
    switch (source) {
      case SignatureSource::kPartialSignatures: {
        auto it = input.tap_script_sigs.find({key, leaf_hash});
        if (it == input.tap_script_sigs.end()) return std::nullopt;
        return it->second;
      }
      case SignatureSource::kPlaceholders:
        return std::vector<uint8_t>(SchnorrSize(input), 0);
    }
    return std::nullopt;
  };
  if (auto key = MatchTapscriptPk(script); key.has_value()) {
    auto sig = signature(*key);
    if (!sig.has_value()) return std::nullopt;
    return Stack{std::move(*sig)};
  }
  if (auto multi_a = MatchMultiA(script); multi_a.has_value()) {
    // BIP342 multi_a: key 1 is checked first, so its signature is on top of the stack (last).
    // Exactly m signatures, the first m available in key order; the other keys get an empty
    // signature, which CHECKSIG/CHECKSIGADD count as "no".
    const size_t threshold = static_cast<size_t>(multi_a->threshold);
    Stack reversed;
    size_t found = 0;
    for (const XOnlyBytes& key : multi_a->keys) {
      std::optional<std::vector<uint8_t>> sig;
      if (found < threshold) sig = signature(key);
      if (sig.has_value()) {
        ++found;
        reversed.push_back(std::move(*sig));
      } else {
        reversed.emplace_back();
      }
    }
    if (found != threshold) return std::nullopt;
    return Stack(reversed.rbegin(), reversed.rend());
  }
  return std::nullopt;
}

size_t StackSize(const Stack& stack) {
  size_t size = 0;
  for (const auto& item : stack) size += item.size() + (item.size() < 253 ? 1 : 3);
  return size;
}

std::optional<Stack> SolveP2tr(const PsbtInput& input, SignatureSource source) {
  switch (source) {
    case SignatureSource::kPartialSignatures:
      if (input.tap_key_sig.has_value()) return Stack{*input.tap_key_sig};
      break;
    case SignatureSource::kPlaceholders:
      // The key path is the cheapest; assume it when the internal key is known and not a
      // provably unspendable one, which is what a wallet's derivations say (a derivation of
      // the internal key with no leaf hashes).
      if (input.tap_key_sig.has_value()) return Stack{*input.tap_key_sig};
      if (input.tap_internal_key.has_value()) {
        auto it = input.tap_bip32_derivations.find(*input.tap_internal_key);
        if (it != input.tap_bip32_derivations.end() || input.tap_leaf_scripts.empty()) {
          return Stack{std::vector<uint8_t>(SchnorrSize(input), 0)};
        }
      }
      break;
  }
  // Script path: the leaf with the smallest witness.
  std::optional<Stack> best;
  for (const auto& [control_block, leaf] : input.tap_leaf_scripts) {
    const auto& [script, leaf_version] = leaf;
    if (leaf_version != kTaprootLeafVersion) continue;
    const TapLeafHash leaf_hash = ComputeTapleafHash(leaf_version, script);
    auto stack = SolveTapLeaf(input, script, leaf_hash, source);
    if (!stack.has_value()) continue;
    stack->push_back(script.bytes());
    stack->push_back(control_block);
    if (!best.has_value() || StackSize(*stack) < StackSize(*best)) best = std::move(stack);
  }
  return best;
}

}  // namespace

util::Result<std::optional<TxOut>> SpentOutput(const PsbtInput& input, const Outpoint& prevout,
                                               size_t index) {
  std::optional<TxOut> from_tx;
  if (input.non_witness_utxo.has_value()) {
    if (input.non_witness_utxo->ComputeTxid() != prevout.txid) {
      return util::InvalidArgumentError("psbt input " + std::to_string(index) +
                                        ": previous transaction is not the one spent");
    }
    if (prevout.index >= input.non_witness_utxo->outputs.size()) {
      return util::InvalidArgumentError("psbt input " + std::to_string(index) +
                                        ": previous transaction has no output " +
                                        std::to_string(prevout.index));
    }
    from_tx = input.non_witness_utxo->outputs[prevout.index];
  }
  if (input.witness_utxo.has_value()) {
    if (from_tx.has_value() && *from_tx != *input.witness_utxo) {
      return util::InvalidArgumentError("psbt input " + std::to_string(index) +
                                        ": witness utxo differs from the previous transaction");
    }
    return std::optional<TxOut>(*input.witness_utxo);
  }
  return from_tx;
}

std::optional<InputSolution> SolveInput(const PsbtInput& input, const Script& script_pubkey,
                                        SignatureSource source) {
  const StandardScript standard = Classify(script_pubkey);
  InputSolution solution;
  switch (standard.kind) {
    case ScriptKind::kP2pk:
    case ScriptKind::kP2pkh:
    case ScriptKind::kMultisig: {
      auto stack = SolveKeyScript(input, script_pubkey, source);
      if (!stack.has_value()) return std::nullopt;
      solution.script_sig = PushAll(*stack);
      return solution;
    }
    case ScriptKind::kP2sh: {
      if (!input.redeem_script.has_value()) return std::nullopt;
      const Script& redeem = *input.redeem_script;
      if (!SameBytes(crypto::Hash160(redeem.bytes()), standard.solutions[0])) return std::nullopt;
      const StandardScript inner = Classify(redeem);
      std::optional<Stack> stack;
      switch (inner.kind) {
        case ScriptKind::kP2wpkh:
          stack = SolveP2wpkh(input, inner.solutions[0], source);
          if (!stack.has_value()) return std::nullopt;
          solution.witness = std::move(*stack);
          solution.script_sig = PushAll({redeem.bytes()});
          return solution;
        case ScriptKind::kP2wsh:
          stack = SolveP2wsh(input, inner.solutions[0], source);
          if (!stack.has_value()) return std::nullopt;
          solution.witness = std::move(*stack);
          solution.script_sig = PushAll({redeem.bytes()});
          return solution;
        case ScriptKind::kP2pk:
        case ScriptKind::kP2pkh:
        case ScriptKind::kMultisig:
          stack = SolveKeyScript(input, redeem, source);
          if (!stack.has_value()) return std::nullopt;
          stack->push_back(redeem.bytes());
          solution.script_sig = PushAll(*stack);
          return solution;
        case ScriptKind::kNonStandard:
        case ScriptKind::kP2sh:
        case ScriptKind::kNullData:
        case ScriptKind::kP2tr:
        case ScriptKind::kAnchor:
        case ScriptKind::kWitnessUnknown:
          return std::nullopt;
      }
      return std::nullopt;
    }
    case ScriptKind::kP2wpkh: {
      auto stack = SolveP2wpkh(input, standard.solutions[0], source);
      if (!stack.has_value()) return std::nullopt;
      solution.witness = std::move(*stack);
      return solution;
    }
    case ScriptKind::kP2wsh: {
      auto stack = SolveP2wsh(input, standard.solutions[0], source);
      if (!stack.has_value()) return std::nullopt;
      solution.witness = std::move(*stack);
      return solution;
    }
    case ScriptKind::kP2tr: {
      auto stack = SolveP2tr(input, source);
      if (!stack.has_value()) return std::nullopt;
      solution.witness = std::move(*stack);
      return solution;
    }
    case ScriptKind::kNonStandard:
    case ScriptKind::kNullData:
    case ScriptKind::kAnchor:
    case ScriptKind::kWitnessUnknown:
      return std::nullopt;
  }
  return std::nullopt;
}

Script PushAll(const std::vector<std::vector<uint8_t>>& items) {
  Script script;
  for (const auto& item : items) {
    if (item.empty()) {
      script.PushOpcode(static_cast<uint8_t>(Opcode::k0));
    } else if (item.size() == 1 && item[0] >= 1 && item[0] <= 16) {
      script.PushOpcode(EncodeSmallInt(item[0]));
    } else if (item.size() == 1 && item[0] == 0x81) {
      script.PushOpcode(static_cast<uint8_t>(Opcode::k1Negate));
    } else {
      script.PushData(item);
    }
  }
  return script;
}

std::optional<std::array<uint8_t, 32>> MatchTapscriptPk(const Script& script) {
  const std::vector<uint8_t>& bytes = script.bytes();
  if (bytes.size() != 34 || bytes[0] != 32 ||
      bytes[33] != static_cast<uint8_t>(Opcode::kCheckSig)) {
    return std::nullopt;
  }
  std::array<uint8_t, 32> key;
  std::copy(bytes.begin() + 1, bytes.begin() + 33, key.begin());
  return key;
}

}  // namespace kinko::btc::internal
