#include "btc/psbt_sign.h"

#include <algorithm>
#include <map>
#include <span>
#include <string>
#include <utility>

#include "btc/internal/psbt_solve.h"
#include "btc/sighash.h"
#include "btc/standard.h"
#include "crypto/hash.h"
#include "util/check.h"
#include "util/hex.h"

namespace kinko::btc {

void PsbtSigningKeys::AddKey(const crypto::Secp256k1Context& ctx, crypto::PrivateKey key) {
  const crypto::PublicKey pubkey = crypto::DerivePublicKey(ctx, key);
  single_keys_.push_back(SingleKey{.key = std::move(key),
                                   .compressed = pubkey.SerializeCompressed(),
                                   .uncompressed = pubkey.SerializeUncompressed()});
}

void PsbtSigningKeys::AddExternalKey(std::shared_ptr<const ExternalEcdsaKey> key) {
  CHECK(key != nullptr);
  const crypto::PublicKey& pubkey = key->public_key();
  external_keys_.push_back(ExternalKey{.key = std::move(key),
                                       .compressed = pubkey.SerializeCompressed(),
                                       .uncompressed = pubkey.SerializeUncompressed()});
}

util::Status PsbtSigningKeys::AddExtendedKey(ExtendedKey key, std::optional<KeyOrigin> origin) {
  if (!key.IsPrivate()) {
    return util::InvalidArgumentError("signing key: extended key is not private");
  }
  KeyOrigin key_origin = origin.has_value()
                             ? std::move(*origin)
                             : KeyOrigin{.fingerprint = key.Fingerprint(), .path = {}};
  extended_keys_.push_back(OriginKey{.key = std::move(key), .origin = std::move(key_origin)});
  return util::OkStatus();
}

// Finds the private key for a public key named in a PSBT input, deriving each BIP32 node at
// most once per SignPsbt call (the parents of sibling keys are shared).
// Not copyable; lives for one SignPsbt call.
class PsbtKeyFinder final {
 public:
  PsbtKeyFinder(const crypto::Secp256k1Context& ctx, const PsbtSigningKeys& keys)
      : ctx_(ctx), keys_(keys) {}
  PsbtKeyFinder(const PsbtKeyFinder&) = delete;
  PsbtKeyFinder& operator=(const PsbtKeyFinder&) = delete;

  // The key whose public key is `pubkey` (33 or 65 bytes), or nullptr.
  const crypto::PrivateKey* ForPubkey(const std::vector<uint8_t>& pubkey,
                                      const std::map<std::vector<uint8_t>, KeyOrigin>& origins) {
    for (const auto& single : keys_.single_keys_) {
      if (std::ranges::equal(single.compressed, pubkey) ||
          std::ranges::equal(single.uncompressed, pubkey)) {
        return &single.key;
      }
    }
    auto it = origins.find(pubkey);
    if (it == origins.end()) return nullptr;
    const ExtendedKey* derived = Derive(it->second, [&](const crypto::PublicKey& candidate) {
      return pubkey.size() == 33 ? std::ranges::equal(candidate.SerializeCompressed(), pubkey)
                                 : std::ranges::equal(candidate.SerializeUncompressed(), pubkey);
    });
    return derived == nullptr ? nullptr : derived->private_key();
  }

  // The external key whose public key is `pubkey` (33 or 65 bytes), or nullptr.
  const ExternalEcdsaKey* ExternalForPubkey(const std::vector<uint8_t>& pubkey) const {
    for (const auto& external : keys_.external_keys_) {
      if (std::ranges::equal(external.compressed, pubkey) ||
          std::ranges::equal(external.uncompressed, pubkey)) {
        return external.key.get();
      }
    }
    return nullptr;
  }

  // The public keys (both encodings) of the single and external keys whose HASH160 is `hash`.
  std::vector<std::vector<uint8_t>> SingleKeysWithHash(std::span<const uint8_t> hash) const {
    std::vector<std::vector<uint8_t>> found;
    auto add_matching = [&](std::span<const uint8_t> encoding) {
      const crypto::Hash160Bytes key_hash = crypto::Hash160(encoding);
      if (std::equal(key_hash.begin(), key_hash.end(), hash.begin(), hash.end())) {
        found.emplace_back(encoding.begin(), encoding.end());
      }
    };
    for (const auto& single : keys_.single_keys_) {
      add_matching(single.compressed);
      add_matching(single.uncompressed);
    }
    for (const auto& external : keys_.external_keys_) {
      add_matching(external.compressed);
      add_matching(external.uncompressed);
    }
    return found;
  }

  // The external key whose x-only public key is `xonly`, or nullptr.
  const ExternalEcdsaKey* ExternalForXOnly(const XOnlyBytes& xonly) const {
    for (const auto& external : keys_.external_keys_) {
      if (std::equal(xonly.begin(), xonly.end(), external.compressed.begin() + 1)) {
        return external.key.get();
      }
    }
    return nullptr;
  }

  // The key whose x-only public key is `xonly`, or nullptr.
  const crypto::PrivateKey* ForXOnly(const XOnlyBytes& xonly,
                                     const std::map<XOnlyBytes, TapBip32Derivation>& origins) {
    for (const auto& single : keys_.single_keys_) {
      if (std::equal(xonly.begin(), xonly.end(), single.compressed.begin() + 1)) {
        return &single.key;
      }
    }
    auto it = origins.find(xonly);
    if (it == origins.end()) return nullptr;
    const ExtendedKey* derived = Derive(it->second.second, [&](const crypto::PublicKey& candidate) {
      return crypto::XOnlyPublicKey::FromPublicKey(candidate).bytes() == xonly;
    });
    return derived == nullptr ? nullptr : derived->private_key();
  }

 private:
  // The first extended key whose origin is a prefix of `origin`, derived along the rest of the
  // path, whose public key passes `matches`; nullptr when none.
  template <typename Matches>
  const ExtendedKey* Derive(const KeyOrigin& origin, Matches matches) {
    for (size_t k = 0; k < keys_.extended_keys_.size(); ++k) {
      const auto& held = keys_.extended_keys_[k];
      const std::vector<uint32_t>& prefix = held.origin.path.steps;
      const std::vector<uint32_t>& path = origin.path.steps;
      if (held.origin.fingerprint != origin.fingerprint || path.size() < prefix.size() ||
          !std::equal(prefix.begin(), prefix.end(), path.begin())) {
        continue;
      }
      const ExtendedKey* node =
          DeriveCached(k, std::span<const uint32_t>(path).subspan(prefix.size()));
      if (node != nullptr && matches(node->public_key())) return node;
    }
    return nullptr;
  }

  const ExtendedKey* DeriveCached(size_t key_index, std::span<const uint32_t> relative) {
    if (relative.empty()) return &keys_.extended_keys_[key_index].key;
    auto cache_key =
        std::make_pair(key_index, std::vector<uint32_t>(relative.begin(), relative.end()));
    auto it = cache_.find(cache_key);
    if (it != cache_.end()) return &it->second;
    const ExtendedKey* parent = DeriveCached(key_index, relative.first(relative.size() - 1));
    if (parent == nullptr) return nullptr;
    util::Result<ExtendedKey> child = parent->Derive(ctx_, relative.back());
    // An invalid child (probability below 2^-127) or depth 255: no key for this path.
    if (!child.ok()) return nullptr;
    return &cache_.emplace(std::move(cache_key), std::move(*child)).first->second;
  }

  const crypto::Secp256k1Context& ctx_;
  const PsbtSigningKeys& keys_;
  std::map<std::pair<size_t, std::vector<uint32_t>>, ExtendedKey> cache_;
};

namespace {

util::Status InputError(size_t index, const std::string& reason) {
  return util::InvalidArgumentError("psbt input " + std::to_string(index) + ": " + reason);
}

bool SameBytes(std::span<const uint8_t> a, std::span<const uint8_t> b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end());
}

// "external key 'name' (02ab...)": how errors name an external key.
std::string ExternalKeyName(const ExternalEcdsaKey& key) {
  return "external key '" + key.name() + "' (" +
         util::HexEncode(key.public_key().SerializeCompressed()) + ")";
}

// Taproot needs Schnorr signatures, which an external ECDSA key cannot make.
util::Status TaprootNeedsExternalKey(size_t index, const ExternalEcdsaKey& key) {
  return util::FailedPreconditionError(
      "psbt input " + std::to_string(index) + ": taproot needs a schnorr signature by " +
      ExternalKeyName(key) + ", which makes ecdsa signatures only; hold this key in a backend " +
      "that can sign taproot");
}

// The signing of one input: its transaction, spent output and the shared precomputed hashes.
class InputSigner {
 public:
  InputSigner(const crypto::Secp256k1Context& ctx, PsbtKeyFinder& finder,
              const PsbtSignOptions& options, const Transaction& tx,
              const PrecomputedTransactionData& precomputed, size_t index, PsbtInput& input)
      : ctx_(ctx),
        finder_(finder),
        options_(options),
        tx_(tx),
        precomputed_(precomputed),
        index_(index),
        input_(input) {}

  size_t signatures_added() const { return signatures_added_; }

  util::Status Sign(const TxOut& spent, bool witness_utxo_only) {
    const StandardScript standard = Classify(spent.script_pubkey);
    switch (standard.kind) {
      case ScriptKind::kP2pk:
      case ScriptKind::kP2pkh:
      case ScriptKind::kMultisig:
        if (witness_utxo_only) {
          return InputError(index_, "witness utxo given for a non-witness output");
        }
        return SignKeyScript(spent.script_pubkey, SigVersion::kBase, spent.value);
      case ScriptKind::kP2sh: {
        if (!input_.redeem_script.has_value()) return util::OkStatus();
        const Script& redeem = *input_.redeem_script;
        if (!SameBytes(crypto::Hash160(redeem.bytes()), standard.solutions[0])) {
          return InputError(index_, "redeem script does not match the spent output's script");
        }
        const StandardScript inner = Classify(redeem);
        switch (inner.kind) {
          case ScriptKind::kP2wpkh:
            return SignP2wpkh(inner.solutions[0], spent.value);
          case ScriptKind::kP2wsh:
            return SignP2wsh(inner.solutions[0], spent.value, "redeem script");
          case ScriptKind::kP2pk:
          case ScriptKind::kP2pkh:
          case ScriptKind::kMultisig:
            if (witness_utxo_only) {
              return InputError(index_, "witness utxo given for a non-witness output");
            }
            return SignKeyScript(redeem, SigVersion::kBase, spent.value);
          case ScriptKind::kNonStandard:
          case ScriptKind::kP2sh:
          case ScriptKind::kNullData:
          case ScriptKind::kP2tr:
          case ScriptKind::kAnchor:
          case ScriptKind::kWitnessUnknown:
            return util::OkStatus();  // Not a kind this signer solves.
        }
        return util::OkStatus();
      }
      case ScriptKind::kP2wpkh:
        return SignP2wpkh(standard.solutions[0], spent.value);
      case ScriptKind::kP2wsh:
        return SignP2wsh(standard.solutions[0], spent.value, "spent output's script");
      case ScriptKind::kP2tr:
        return SignP2tr(standard.solutions[0]);
      case ScriptKind::kNonStandard:
      case ScriptKind::kNullData:
      case ScriptKind::kAnchor:
      case ScriptKind::kWitnessUnknown:
        return util::OkStatus();
    }
    return util::OkStatus();
  }

 private:
  util::Status CheckEcdsaSighash(uint32_t hash_type) const {
    if (hash_type == kSighashAll || options_.allow_any_sighash) return util::OkStatus();
    return util::PermissionDeniedError("psbt input " + std::to_string(index_) + ": sighash type " +
                                       std::to_string(hash_type) + " is not SIGHASH_ALL");
  }

  // Signs for `pubkey` in `script_code` unless a signature is there or no key is held.
  util::Status SignEcdsa(const std::vector<uint8_t>& pubkey, const Script& script_code,
                         SigVersion version, int64_t amount) {
    if (input_.partial_sigs.contains(pubkey)) return util::OkStatus();
    const crypto::PrivateKey* key = finder_.ForPubkey(pubkey, input_.bip32_derivations);
    const ExternalEcdsaKey* external = key == nullptr ? finder_.ExternalForPubkey(pubkey) : nullptr;
    if (key == nullptr && external == nullptr) return util::OkStatus();
    const uint32_t hash_type = input_.sighash_type.value_or(kSighashAll);
    if (util::Status status = CheckEcdsaSighash(hash_type); !status.ok()) return status;
    // The sighash field is 32 bits; consensus hashes it as a signed 32-bit integer and the
    // signature carries its low byte.
    const auto signed_type = static_cast<int32_t>(hash_type);
    SighashBytes sighash;
    switch (version) {
      case SigVersion::kBase:
        sighash = LegacySighash(tx_, index_, script_code, signed_type);
        break;
      case SigVersion::kWitnessV0:
        sighash = SegwitV0Sighash(tx_, index_, script_code, amount, signed_type, precomputed_);
        break;
      case SigVersion::kTaproot:
      case SigVersion::kTapscript:
        CHECK(false);
    }
    std::vector<uint8_t> sig;
    if (key != nullptr) {
      sig = crypto::EcdsaSign(ctx_, *key, sighash, options_.grinding);
    } else {
      util::Result<std::vector<uint8_t>> external_sig = SignExternal(*external, sighash);
      if (!external_sig.ok()) return external_sig.status();
      sig = std::move(*external_sig);
    }
    sig.push_back(static_cast<uint8_t>(hash_type));
    input_.partial_sigs.emplace(pubkey, std::move(sig));
    ++signatures_added_;
    return util::OkStatus();
  }

  // The signature of `sighash` by `key`, checked before it is used: the key lives outside the
  // process, so a faulty or tampered backend must not be able to put a signature into the PSBT
  // that would not verify or would be non-standard (high S, non-strict DER).
  util::Result<std::vector<uint8_t>> SignExternal(const ExternalEcdsaKey& key,
                                                  const SighashBytes& sighash) const {
    const std::string where = "psbt input " + std::to_string(index_) + ": " + ExternalKeyName(key);
    util::Result<std::vector<uint8_t>> sig = key.SignDigest(sighash);
    if (!sig.ok()) {
      return util::Status(sig.status().code(), where + ": " + sig.status().message());
    }
    // Strict DER is what libsecp256k1's parser accepts (DerParsing::kStrict); EcdsaVerify
    // accepts a high S, so low S is checked on its own.
    if (!crypto::EcdsaVerify(ctx_, key.public_key(), sighash, *sig, crypto::DerParsing::kStrict)) {
      return util::InternalError(where + ": returned a signature that does not verify");
    }
    if (!crypto::EcdsaIsLowS(ctx_, *sig, crypto::DerParsing::kStrict)) {
      return util::InternalError(where + ": returned a signature with a high S");
    }
    return sig;
  }

  // P2PK, P2PKH or multisig `script`, which is also the script code.
  util::Status SignKeyScript(const Script& script, SigVersion version, int64_t amount) {
    const StandardScript standard = Classify(script);
    switch (standard.kind) {
      case ScriptKind::kP2pk:
        return SignEcdsa(standard.solutions[0], script, version, amount);
      case ScriptKind::kP2pkh:
        for (const auto& pubkey : PubkeysWithHash(standard.solutions[0])) {
          if (util::Status s = SignEcdsa(pubkey, script, version, amount); !s.ok()) return s;
        }
        return util::OkStatus();
      case ScriptKind::kMultisig:
        for (size_t i = 1; i + 1 < standard.solutions.size(); ++i) {
          util::Status s = SignEcdsa(standard.solutions[i], script, version, amount);
          if (!s.ok()) return s;
        }
        return util::OkStatus();
      case ScriptKind::kNonStandard:
      case ScriptKind::kP2sh:
      case ScriptKind::kNullData:
      case ScriptKind::kP2wpkh:
      case ScriptKind::kP2wsh:
      case ScriptKind::kP2tr:
      case ScriptKind::kAnchor:
      case ScriptKind::kWitnessUnknown:
        return util::OkStatus();
    }
    return util::OkStatus();
  }

  // The public keys named in the input (derivations, signatures) whose HASH160 is `hash`.
  std::vector<std::vector<uint8_t>> PubkeysWithHash(std::span<const uint8_t> hash) const {
    std::vector<std::vector<uint8_t>> found;
    for (const auto& [pubkey, origin] : input_.bip32_derivations) {
      if (SameBytes(crypto::Hash160(pubkey), hash)) found.push_back(pubkey);
    }
    for (const auto& [pubkey, sig] : input_.partial_sigs) {
      if (SameBytes(crypto::Hash160(pubkey), hash)) found.push_back(pubkey);
    }
    if (found.empty()) {
      // A single key held by the signer may be the one, though the PSBT does not name it.
      found = finder_.SingleKeysWithHash(hash);
    }
    return found;
  }

  util::Status SignP2wpkh(std::span<const uint8_t> program, int64_t amount) {
    // BIP143: the script code of P2WPKH is the P2PKH script of the key hash.
    const Script script_code = P2pkhScript(program.first<20>());
    return SignKeyScript(script_code, SigVersion::kWitnessV0, amount);
  }

  util::Status SignP2wsh(std::span<const uint8_t> program, int64_t amount,
                         const char* program_source) {
    if (!input_.witness_script.has_value()) return util::OkStatus();
    if (!SameBytes(crypto::Sha256(input_.witness_script->bytes()), program)) {
      return InputError(index_, std::string("witness script does not match the ") + program_source);
    }
    return SignKeyScript(*input_.witness_script, SigVersion::kWitnessV0, amount);
  }

  util::Status SignP2tr(std::span<const uint8_t> output_key) {
    const uint32_t hash_type = input_.sighash_type.value_or(kSighashDefault);
    if (hash_type > 0xff) {
      return InputError(
          index_, "taproot sighash type " + std::to_string(hash_type) + " does not fit one byte");
    }
    // BIP341 commits to every spent output: without them no taproot signature can be made.
    if (!precomputed_.has_spent_outputs()) return util::OkStatus();

    // Key path: the internal key, tweaked by the merkle root (absent for a key-only output).
    if (!input_.tap_key_sig.has_value() && input_.tap_internal_key.has_value()) {
      const crypto::PrivateKey* key =
          finder_.ForXOnly(*input_.tap_internal_key, input_.tap_bip32_derivations);
      if (key == nullptr) {
        const ExternalEcdsaKey* external = finder_.ExternalForXOnly(*input_.tap_internal_key);
        if (external != nullptr) return TaprootNeedsExternalKey(index_, *external);
      }
      if (key != nullptr) {
        util::Result<crypto::PrivateKey> tweaked =
            crypto::TaprootTweakPrivateKey(ctx_, *key, input_.tap_merkle_root);
        if (!tweaked.ok()) return InputError(index_, "taproot tweak failed");
        const crypto::PublicKey tweaked_pub = crypto::DerivePublicKey(ctx_, *tweaked);
        if (!SameBytes(crypto::XOnlyPublicKey::FromPublicKey(tweaked_pub).bytes(), output_key)) {
          return InputError(index_,
                            "taproot internal key and merkle root do not give the output key");
        }
        util::Result<std::vector<uint8_t>> sig = SignSchnorr(*tweaked, hash_type, std::nullopt);
        if (!sig.ok()) return sig.status();
        input_.tap_key_sig = std::move(*sig);
        ++signatures_added_;
      }
    }

    // Script path: every `pk` and `multi_a` leaf, every key held.
    for (const auto& [control_block, leaf] : input_.tap_leaf_scripts) {
      const auto& [script, leaf_version] = leaf;
      if (leaf_version != 0xc0) continue;
      std::vector<XOnlyBytes> leaf_keys;
      if (auto pk = internal::MatchTapscriptPk(script); pk.has_value()) {
        leaf_keys.push_back(*pk);
      } else if (auto multi_a = MatchMultiA(script); multi_a.has_value()) {
        leaf_keys = multi_a->keys;
      } else {
        continue;
      }
      const TapLeafHash leaf_hash = ComputeTapleafHash(leaf_version, script);
      for (const XOnlyBytes& xonly : leaf_keys) {
        if (input_.tap_script_sigs.contains({xonly, leaf_hash})) continue;
        const crypto::PrivateKey* key = finder_.ForXOnly(xonly, input_.tap_bip32_derivations);
        if (key == nullptr) {
          const ExternalEcdsaKey* external = finder_.ExternalForXOnly(xonly);
          if (external != nullptr) return TaprootNeedsExternalKey(index_, *external);
          continue;
        }
        util::Result<std::vector<uint8_t>> sig = SignSchnorr(*key, hash_type, leaf_hash);
        if (!sig.ok()) return sig.status();
        input_.tap_script_sigs.emplace(std::make_pair(xonly, leaf_hash), std::move(*sig));
        ++signatures_added_;
      }
    }
    return util::OkStatus();
  }

  util::Result<std::vector<uint8_t>> SignSchnorr(const crypto::PrivateKey& key, uint32_t hash_type,
                                                 std::optional<TapLeafHash> leaf_hash) {
    if (hash_type != kSighashDefault && hash_type != kSighashAll && !options_.allow_any_sighash) {
      return util::PermissionDeniedError("psbt input " + std::to_string(index_) +
                                         ": sighash type " + std::to_string(hash_type) +
                                         " is not SIGHASH_DEFAULT or SIGHASH_ALL");
    }
    TaprootSighashExtras extras;
    extras.leaf_hash = leaf_hash;
    util::Result<SighashBytes> sighash =
        TaprootSighash(tx_, index_, static_cast<uint8_t>(hash_type), precomputed_, extras);
    if (!sighash.ok()) return InputError(index_, sighash.status().message());
    std::array<uint8_t, 32> aux{};
    if (options_.schnorr_aux_rng != nullptr) options_.schnorr_aux_rng->Fill(aux);
    const std::array<uint8_t, 64> sig = crypto::SchnorrSign(ctx_, key, *sighash, aux);
    std::vector<uint8_t> out(sig.begin(), sig.end());
    // BIP341: SIGHASH_DEFAULT signatures are 64 bytes; others carry the type byte.
    if (hash_type != kSighashDefault) out.push_back(static_cast<uint8_t>(hash_type));
    return out;
  }

  const crypto::Secp256k1Context& ctx_;
  PsbtKeyFinder& finder_;
  const PsbtSignOptions& options_;
  const Transaction& tx_;
  const PrecomputedTransactionData& precomputed_;
  const size_t index_;
  PsbtInput& input_;
  size_t signatures_added_ = 0;
};

}  // namespace

util::Result<PsbtSignResult> SignPsbt(const crypto::Secp256k1Context& ctx, Psbt psbt,
                                      const PsbtSigningKeys& keys, const PsbtSignOptions& options) {
  util::Result<Transaction> unsigned_tx = psbt.GetUnsignedTx();
  if (!unsigned_tx.ok()) return unsigned_tx.status();
  const Transaction& tx = *unsigned_tx;
  if (tx.inputs.size() != psbt.inputs.size()) {
    return util::InvalidArgumentError("psbt: input count differs from the transaction's");
  }

  // The spent outputs, checked once; all of them or none go into the precomputed hashes.
  std::vector<std::optional<TxOut>> spent(psbt.inputs.size());
  bool all_spent_known = true;
  for (size_t i = 0; i < psbt.inputs.size(); ++i) {
    util::Result<std::optional<TxOut>> out =
        internal::SpentOutput(psbt.inputs[i], tx.inputs[i].prevout, i);
    if (!out.ok()) return out.status();
    spent[i] = std::move(*out);
    if (!spent[i].has_value()) all_spent_known = false;
  }
  std::vector<TxOut> spent_outputs;
  if (all_spent_known) {
    spent_outputs.reserve(spent.size());
    for (const auto& out : spent) spent_outputs.push_back(*out);
  }
  util::Result<PrecomputedTransactionData> precomputed =
      PrecomputedTransactionData::Create(tx, std::move(spent_outputs));
  if (!precomputed.ok()) return precomputed.status();

  PsbtKeyFinder finder(ctx, keys);
  PsbtSignResult result;
  result.complete = true;
  for (size_t i = 0; i < psbt.inputs.size(); ++i) {
    PsbtInput& input = psbt.inputs[i];
    const bool is_final =
        input.final_script_sig.has_value() || input.final_script_witness.has_value();
    if (is_final) continue;
    if (!spent[i].has_value()) {
      result.complete = false;
      continue;
    }
    const bool witness_utxo_only =
        !input.non_witness_utxo.has_value() && input.witness_utxo.has_value();
    InputSigner signer(ctx, finder, options, tx, *precomputed, i, input);
    if (util::Status status = signer.Sign(*spent[i], witness_utxo_only); !status.ok()) {
      return status;
    }
    result.signatures_added += signer.signatures_added();
    if (!internal::SolveInput(input, spent[i]->script_pubkey,
                              internal::SignatureSource::kPartialSignatures)
             .has_value()) {
      result.complete = false;
    }
  }
  result.psbt = std::move(psbt);
  return result;
}

}  // namespace kinko::btc
