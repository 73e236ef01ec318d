// kinko psbt decode | create | update | sign | combine | finalize | extract: the BIP174 roles, in
// the JSON shapes of Bitcoin Core's decodepsbt, createpsbt, utxoupdatepsbt, walletprocesspsbt,
// combinepsbt and finalizepsbt. A PSBT argument is base64 text, @FILE (base64 text or the
// binary form) or - for standard input.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "btc/address.h"
#include "btc/amount.h"
#include "btc/base58.h"
#include "btc/bip32.h"
#include "btc/descriptor.h"
#include "btc/psbt.h"
#include "btc/psbt_roles.h"
#include "btc/psbt_sign.h"
#include "btc/sighash.h"
#include "btc/standard.h"
#include "btc/transaction.h"
#include "cli/command.h"
#include "cli/script_format.h"
#include "cli/tx_format.h"
#include "crypto/rng.h"
#include "crypto/secp256k1.h"
#include "util/hex.h"

namespace kinko::cli {
namespace {

util::Result<btc::Network> ParseNetworkOption(const std::string& name) {
  util::Result<btc::Network> network = btc::ParseNetwork(name);
  if (!network.ok()) return network.status().WithPrefix("--network");
  return network;
}

// The bytes of a PSBT argument: the text itself, the file after '@', or standard input for '-'.
util::Result<std::string> ReadPsbtText(const std::string& what, const std::string& value) {
  if (value == "-") {
    std::ostringstream text;
    text << std::cin.rdbuf();
    return text.str();
  }
  if (!value.starts_with("@")) return value;
  std::ifstream file(value.substr(1), std::ios::binary);
  if (!file) {
    return util::InvalidArgumentError(what + ": cannot read file '" + value.substr(1) + "'");
  }
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

// A PSBT argument: the binary form (starting with the magic "psbt\xff") or base64 text, with
// surrounding whitespace (a final newline in a file) ignored.
util::Result<btc::Psbt> ParsePsbtArgument(const std::string& what, const std::string& value) {
  util::Result<std::string> text = ReadPsbtText(what, value);
  if (!text.ok()) return text.status();
  if (text->starts_with(std::string("psbt\xff", 5))) {
    const std::vector<uint8_t> bytes(text->begin(), text->end());
    util::Result<btc::Psbt> psbt = btc::Psbt::Parse(bytes);
    if (!psbt.ok()) return psbt.status().WithPrefix(what);
    return psbt;
  }
  const size_t begin = text->find_first_not_of(" \t\r\n");
  const size_t end = text->find_last_not_of(" \t\r\n");
  const std::string trimmed =
      begin == std::string::npos ? "" : text->substr(begin, end - begin + 1);
  util::Result<btc::Psbt> psbt = btc::Psbt::ParseBase64(trimmed);
  if (!psbt.ok()) return psbt.status().WithPrefix(what);
  return psbt;
}

crypto::Secp256k1Context MakeContext() {
  crypto::SystemRng rng;
  return crypto::Secp256k1Context::Create(rng);
}

// Bitcoin Core's SighashToStr: the names of the defined types, "" for others.
std::string SighashName(uint32_t type) {
  switch (type) {
    case btc::kSighashDefault:
      return "DEFAULT";
    case btc::kSighashAll:
      return "ALL";
    case btc::kSighashNone:
      return "NONE";
    case btc::kSighashSingle:
      return "SINGLE";
    case btc::kSighashAll | btc::kSighashAnyoneCanPay:
      return "ALL|ANYONECANPAY";
    case btc::kSighashNone | btc::kSighashAnyoneCanPay:
      return "NONE|ANYONECANPAY";
    case btc::kSighashSingle | btc::kSighashAnyoneCanPay:
      return "SINGLE|ANYONECANPAY";
    default:
      return "";
  }
}

// Bitcoin Core's ScriptToUniv(script) for redeem and witness scripts: asm, hex, type.
Json ScriptJson(const btc::Script& script) {
  Json out = Json::object();
  out["asm"] = btc::ToAsm(script);
  out["hex"] = util::HexEncode(script.bytes());
  out["type"] = std::string(btc::ScriptKindName(btc::Classify(script).kind));
  return out;
}

std::string FingerprintHex(const btc::KeyOrigin& origin) {
  return util::HexEncode(origin.fingerprint);
}

Json Bip32DerivsJson(const std::map<std::vector<uint8_t>, btc::KeyOrigin>& derivations) {
  Json out = Json::array();
  for (const auto& [pubkey, origin] : derivations) {
    Json item = Json::object();
    item["pubkey"] = util::HexEncode(pubkey);
    item["master_fingerprint"] = FingerprintHex(origin);
    item["path"] = origin.path.ToString();
    out.push_back(std::move(item));
  }
  return out;
}

Json TapBip32DerivsJson(const std::map<btc::XOnlyBytes, btc::TapBip32Derivation>& derivations) {
  Json out = Json::array();
  for (const auto& [xonly, derivation] : derivations) {
    const auto& [leaf_hashes, origin] = derivation;
    Json item = Json::object();
    item["pubkey"] = util::HexEncode(xonly);
    item["master_fingerprint"] = FingerprintHex(origin);
    item["path"] = origin.path.ToString();
    Json hashes = Json::array();
    for (const auto& hash : leaf_hashes) hashes.push_back(util::HexEncode(hash));
    item["leaf_hashes"] = std::move(hashes);
    out.push_back(std::move(item));
  }
  return out;
}

Json PreimagesJson(const std::map<std::vector<uint8_t>, std::vector<uint8_t>>& preimages) {
  Json out = Json::object();
  for (const auto& [hash, preimage] : preimages) {
    out[util::HexEncode(hash)] = util::HexEncode(preimage);
  }
  return out;
}

// Splits unknown pairs as Core shows them: proprietary ones (type 0xfc: compact-size identifier
// length, identifier, compact-size subtype, key data) and the rest as hex key -> hex value.
void AddUnknownJson(const std::vector<btc::PsbtUnknown>& pairs, bool always, Json& out) {
  Json proprietary = Json::array();
  Json unknown = Json::object();
  for (const btc::PsbtUnknown& pair : pairs) {
    // Parse() accepted these keys; single-byte compact sizes are the only ones worth decoding
    // here, anything longer is shown as unknown.
    const std::vector<uint8_t>& key = pair.key;
    if (!key.empty() && key[0] == btc::kPsbtProprietary && key.size() >= 2 && key[1] < 0xfd &&
        key.size() >= 2u + key[1] + 1 && key[2 + key[1]] < 0xfd) {
      const size_t id_len = key[1];
      Json item = Json::object();
      item["identifier"] = util::HexEncode(std::span<const uint8_t>(key.data() + 2, id_len));
      item["subtype"] = key[2 + id_len];
      item["key"] = util::HexEncode(std::span<const uint8_t>(key).subspan(3 + id_len));
      item["value"] = util::HexEncode(pair.value);
      proprietary.push_back(std::move(item));
    } else {
      unknown[util::HexEncode(key)] = util::HexEncode(pair.value);
    }
  }
  if (always || !proprietary.empty()) out["proprietary"] = std::move(proprietary);
  if (always || !unknown.empty()) out["unknown"] = std::move(unknown);
}

Json InputJson(const btc::PsbtInput& input, btc::Network network) {
  Json in = Json::object();
  if (input.witness_utxo.has_value()) {
    Json utxo = Json::object();
    utxo["amount"] = BtcValue(input.witness_utxo->value);
    utxo["scriptPubKey"] = ScriptPubKeyJson(input.witness_utxo->script_pubkey, network);
    in["witness_utxo"] = std::move(utxo);
  }
  if (input.non_witness_utxo.has_value()) {
    in["non_witness_utxo"] = TransactionJson(*input.non_witness_utxo, network);
  }
  if (!input.partial_sigs.empty()) {
    Json sigs = Json::object();
    for (const auto& [pubkey, sig] : input.partial_sigs) {
      sigs[util::HexEncode(pubkey)] = util::HexEncode(sig);
    }
    in["partial_signatures"] = std::move(sigs);
  }
  if (input.sighash_type.has_value()) {
    // Core shows the low byte's name.
    in["sighash"] = SighashName(*input.sighash_type & 0xff);
  }
  if (input.redeem_script.has_value()) in["redeem_script"] = ScriptJson(*input.redeem_script);
  if (input.witness_script.has_value()) in["witness_script"] = ScriptJson(*input.witness_script);
  if (!input.bip32_derivations.empty()) {
    in["bip32_derivs"] = Bip32DerivsJson(input.bip32_derivations);
  }
  if (input.final_script_sig.has_value()) {
    Json script_sig = Json::object();
    script_sig["asm"] = ScriptSigToAsm(*input.final_script_sig);
    script_sig["hex"] = util::HexEncode(input.final_script_sig->bytes());
    in["final_scriptSig"] = std::move(script_sig);
  }
  if (input.final_script_witness.has_value()) {
    Json witness = Json::array();
    for (const auto& item : *input.final_script_witness) witness.push_back(util::HexEncode(item));
    in["final_scriptwitness"] = std::move(witness);
  }
  if (!input.ripemd160_preimages.empty()) {
    in["ripemd160_preimages"] = PreimagesJson(input.ripemd160_preimages);
  }
  if (!input.sha256_preimages.empty()) {
    in["sha256_preimages"] = PreimagesJson(input.sha256_preimages);
  }
  if (!input.hash160_preimages.empty()) {
    in["hash160_preimages"] = PreimagesJson(input.hash160_preimages);
  }
  if (!input.hash256_preimages.empty()) {
    in["hash256_preimages"] = PreimagesJson(input.hash256_preimages);
  }
  if (input.tap_key_sig.has_value())
    in["taproot_key_path_sig"] = util::HexEncode(*input.tap_key_sig);
  if (!input.tap_script_sigs.empty()) {
    Json sigs = Json::array();
    for (const auto& [key_leaf, sig] : input.tap_script_sigs) {
      Json item = Json::object();
      item["pubkey"] = util::HexEncode(key_leaf.first);
      item["leaf_hash"] = util::HexEncode(key_leaf.second);
      item["sig"] = util::HexEncode(sig);
      sigs.push_back(std::move(item));
    }
    in["taproot_script_path_sigs"] = std::move(sigs);
  }
  if (!input.tap_leaf_scripts.empty()) {
    // Core groups control blocks by (script, leaf version).
    std::map<std::pair<btc::Script, uint8_t>, std::vector<std::vector<uint8_t>>> by_leaf;
    for (const auto& [control_block, leaf] : input.tap_leaf_scripts) {
      by_leaf[leaf].push_back(control_block);
    }
    Json scripts = Json::array();
    for (const auto& [leaf, control_blocks] : by_leaf) {
      Json item = Json::object();
      item["script"] = util::HexEncode(leaf.first.bytes());
      item["leaf_ver"] = leaf.second;
      Json blocks = Json::array();
      for (const auto& block : control_blocks) blocks.push_back(util::HexEncode(block));
      item["control_blocks"] = std::move(blocks);
      scripts.push_back(std::move(item));
    }
    in["taproot_scripts"] = std::move(scripts);
  }
  if (!input.tap_bip32_derivations.empty()) {
    in["taproot_bip32_derivs"] = TapBip32DerivsJson(input.tap_bip32_derivations);
  }
  if (input.tap_internal_key.has_value()) {
    in["taproot_internal_key"] = util::HexEncode(*input.tap_internal_key);
  }
  if (input.tap_merkle_root.has_value()) {
    in["taproot_merkle_root"] = util::HexEncode(*input.tap_merkle_root);
  }
  AddUnknownJson(input.unknown, /*always=*/false, in);
  return in;
}

Json OutputJson(const btc::PsbtOutput& output) {
  Json out = Json::object();
  if (output.redeem_script.has_value()) out["redeem_script"] = ScriptJson(*output.redeem_script);
  if (output.witness_script.has_value()) {
    out["witness_script"] = ScriptJson(*output.witness_script);
  }
  if (!output.bip32_derivations.empty()) {
    out["bip32_derivs"] = Bip32DerivsJson(output.bip32_derivations);
  }
  if (output.tap_internal_key.has_value()) {
    out["taproot_internal_key"] = util::HexEncode(*output.tap_internal_key);
  }
  if (!output.tap_tree.empty()) {
    Json tree = Json::array();
    for (const auto& [depth, leaf_version, script] : output.tap_tree) {
      Json item = Json::object();
      item["depth"] = depth;
      item["leaf_ver"] = leaf_version;
      item["script"] = util::HexEncode(script.bytes());
      tree.push_back(std::move(item));
    }
    out["taproot_tree"] = std::move(tree);
  }
  if (!output.tap_bip32_derivations.empty()) {
    out["taproot_bip32_derivs"] = TapBip32DerivsJson(output.tap_bip32_derivations);
  }
  AddUnknownJson(output.unknown, /*always=*/false, out);
  return out;
}

// ---------------------------------------------------------------------------------------------
// psbt decode

struct DecodeOptions {
  std::string psbt;
  std::string network = "main";
};

util::Result<CommandOutput> PsbtDecode(const DecodeOptions& options) {
  util::Result<btc::Network> network = ParseNetworkOption(options.network);
  if (!network.ok()) return network.status();
  util::Result<btc::Psbt> psbt = ParsePsbtArgument("PSBT", options.psbt);
  if (!psbt.ok()) return psbt.status();
  util::Result<btc::Transaction> tx = psbt->GetUnsignedTx();
  if (!tx.ok()) return tx.status().WithPrefix("PSBT");

  Json out = Json::object();
  out["tx"] = TransactionJson(*tx, *network);
  Json xpubs = Json::array();
  for (const auto& [xpub, origin] : psbt->global_xpubs) {
    Json item = Json::object();
    // The 78-byte serialization in Base58Check, as Core's EncodeBase58Check.
    item["xpub"] = btc::Base58CheckEncode(xpub);
    item["master_fingerprint"] = FingerprintHex(origin);
    item["path"] = origin.path.ToString();
    xpubs.push_back(std::move(item));
  }
  out["global_xpubs"] = std::move(xpubs);
  out["psbt_version"] = psbt->version;
  AddUnknownJson(psbt->unknown, /*always=*/true, out);
  Json inputs = Json::array();
  for (const btc::PsbtInput& input : psbt->inputs) inputs.push_back(InputJson(input, *network));
  out["inputs"] = std::move(inputs);
  Json outputs = Json::array();
  for (const btc::PsbtOutput& output : psbt->outputs) outputs.push_back(OutputJson(output));
  out["outputs"] = std::move(outputs);
  // The fee when every spent amount is known (a PSBT whose UTXOs disagree shows none).
  util::Result<btc::PsbtFeeFacts> facts = btc::ComputeFeeFacts(*psbt);
  if (facts.ok() && facts->fee.has_value()) out["fee"] = BtcValue(*facts->fee);
  return CommandOutput{.json = std::move(out)};
}

// ---------------------------------------------------------------------------------------------
// psbt create

struct CreateOptions {
  std::string inputs;
  std::string outputs;
  std::string locktime = "0";
  bool replaceable = false;
  std::string network = "main";
};

util::Result<nlohmann::json> ParseJsonOption(const std::string& what, const std::string& text) {
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    return util::InvalidArgumentError(what + ": not JSON: syntax error at byte offset " +
                                      std::to_string(e.byte == 0 ? 0 : e.byte - 1));
  }
}

// An amount in BTC, as a JSON number or string ("1.5"), at most 8 decimals.
util::Result<int64_t> ParseBtcAmount(const std::string& what, const nlohmann::json& value) {
  std::string text;
  if (value.is_string()) {
    text = value.get<std::string>();
  } else if (value.is_number()) {
    text = value.dump();
  } else {
    return util::InvalidArgumentError(what + ": expected an amount in BTC");
  }
  util::Result<btc::Amount> amount = btc::Amount::ParseBtc(text);
  if (!amount.ok()) return amount.status().WithPrefix(what);
  return amount->sats();
}

util::Result<CommandOutput> PsbtCreate(const CreateOptions& options) {
  util::Result<btc::Network> network = ParseNetworkOption(options.network);
  if (!network.ok()) return network.status();
  util::Result<uint64_t> locktime =
      ParseUnsignedArgument("--locktime", options.locktime, 0xffffffff);
  if (!locktime.ok()) return locktime.status();
  btc::Transaction tx;
  tx.version = 2;
  tx.lock_time = static_cast<uint32_t>(*locktime);

  util::Result<nlohmann::json> inputs = ParseJsonOption("--inputs", options.inputs);
  if (!inputs.ok()) return inputs.status();
  if (!inputs->is_array()) return util::InvalidArgumentError("--inputs: expected a JSON array");
  for (size_t i = 0; i < inputs->size(); ++i) {
    const nlohmann::json& entry = (*inputs)[i];
    const std::string where = "--inputs[" + std::to_string(i) + "]";
    if (!entry.is_object() || !entry.contains("txid") || !entry["txid"].is_string() ||
        !entry.contains("vout") || !entry["vout"].is_number_unsigned() ||
        entry["vout"].get<uint64_t>() > 0xffffffff) {
      return util::InvalidArgumentError(where +
                                        ": expected {\"txid\": hex, \"vout\": n, \"sequence\": n}");
    }
    util::Result<btc::Txid> txid = btc::TxidFromHex(entry["txid"].get<std::string>());
    if (!txid.ok()) return txid.status().WithPrefix(where + ".txid");
    btc::TxIn in;
    in.prevout = btc::Outpoint{.txid = *txid, .index = entry["vout"].get<uint32_t>()};
    // Bitcoin Core's default: final, or non-final when a lock time is set; BIP125 signalling
    // with --replaceable.
    in.sequence = options.replaceable ? 0xfffffffd : (tx.lock_time != 0 ? 0xfffffffe : 0xffffffff);
    if (entry.contains("sequence")) {
      const nlohmann::json& sequence = entry["sequence"];
      if (!sequence.is_number_unsigned() || sequence.get<uint64_t>() > 0xffffffff) {
        return util::InvalidArgumentError(where +
                                          ".sequence: expected an integer in 0..4294967295");
      }
      in.sequence = sequence.get<uint32_t>();
    }
    tx.inputs.push_back(std::move(in));
  }

  // Outputs: an array of one-key objects {"address": amount} or {"data": hex}, or one object.
  util::Result<nlohmann::json> outputs = ParseJsonOption("--outputs", options.outputs);
  if (!outputs.ok()) return outputs.status();
  std::vector<std::pair<std::string, nlohmann::json>> pairs;
  if (outputs->is_object()) {
    for (auto it = outputs->begin(); it != outputs->end(); ++it)
      pairs.emplace_back(it.key(), it.value());
  } else if (outputs->is_array()) {
    for (const nlohmann::json& entry : *outputs) {
      if (!entry.is_object() || entry.size() != 1) {
        return util::InvalidArgumentError("--outputs: each entry must be an object of one key");
      }
      pairs.emplace_back(entry.begin().key(), entry.begin().value());
    }
  } else {
    return util::InvalidArgumentError("--outputs: expected a JSON object or array");
  }
  for (const auto& [key, value] : pairs) {
    if (key == "data") {
      if (!value.is_string()) return util::InvalidArgumentError("--outputs.data: expected hex");
      util::Result<std::vector<uint8_t>> data =
          ParseHexArgument("--outputs.data", value.get<std::string>());
      if (!data.ok()) return data.status();
      tx.outputs.push_back(btc::TxOut{.value = 0, .script_pubkey = btc::NullDataScript(*data)});
      continue;
    }
    util::Result<btc::DecodedAddress> address = btc::DecodeAddress(key, *network);
    if (!address.ok()) return address.status().WithPrefix("--outputs." + key);
    util::Result<int64_t> amount = ParseBtcAmount("--outputs." + key, value);
    if (!amount.ok()) return amount.status();
    tx.outputs.push_back(btc::TxOut{.value = *amount, .script_pubkey = address->script_pubkey});
  }
  util::Result<btc::Psbt> psbt = btc::CreatePsbt(std::move(tx));
  if (!psbt.ok()) return psbt.status();
  return CommandOutput{.json = Json(psbt->ToBase64())};
}

// ---------------------------------------------------------------------------------------------
// psbt update

struct UpdateOptions {
  std::string psbt;
  std::string descriptor;
  std::vector<std::string> prevtxs;
  std::string range = "1001";
  std::string network = "main";
};

util::Result<CommandOutput> PsbtUpdate(const UpdateOptions& options) {
  util::Result<btc::Network> network = ParseNetworkOption(options.network);
  if (!network.ok()) return network.status();
  util::Result<btc::Psbt> psbt = ParsePsbtArgument("PSBT", options.psbt);
  if (!psbt.ok()) return psbt.status();
  util::Result<uint64_t> range = ParseUnsignedArgument("--range", options.range, 1000000);
  if (!range.ok()) return range.status();
  const crypto::Secp256k1Context ctx = MakeContext();
  util::Result<btc::Descriptor> descriptor =
      btc::Descriptor::Parse(ctx, options.descriptor, *network);
  if (!descriptor.ok()) return descriptor.status().WithPrefix("--descriptor");
  std::vector<btc::Transaction> previous;
  for (size_t i = 0; i < options.prevtxs.size(); ++i) {
    util::Result<btc::Transaction> tx = btc::Transaction::ParseHex(options.prevtxs[i]);
    if (!tx.ok()) return tx.status().WithPrefix("--prevtx " + std::to_string(i));
    previous.push_back(std::move(*tx));
  }
  btc::PsbtDescriptorUpdateOptions update_options;
  update_options.range = static_cast<uint32_t>(*range);
  util::Result<btc::Psbt> updated =
      btc::UpdatePsbtWithDescriptor(ctx, std::move(*psbt), *descriptor, previous, update_options);
  if (!updated.ok()) return updated.status();
  return CommandOutput{.json = Json(updated->ToBase64())};
}

// ---------------------------------------------------------------------------------------------
// psbt sign

struct SignOptions {
  std::string psbt;
  std::vector<std::string> privkeys;
  std::vector<std::string> xprvs;
  std::vector<std::string> descriptors;
  std::string network = "main";
};

util::Result<CommandOutput> PsbtSign(const SignOptions& options) {
  util::Result<btc::Network> network = ParseNetworkOption(options.network);
  if (!network.ok()) return network.status();
  util::Result<btc::Psbt> psbt = ParsePsbtArgument("PSBT", options.psbt);
  if (!psbt.ok()) return psbt.status();
  const crypto::Secp256k1Context ctx = MakeContext();
  btc::PsbtSigningKeys keys;
  for (const std::string& wif : options.privkeys) {
    util::Result<btc::WifKey> key = btc::DecodeWif(wif);
    if (!key.ok()) return key.status().WithPrefix("--privkey");
    keys.AddKey(ctx, std::move(key->key));
  }
  for (const std::string& text : options.xprvs) {
    util::Result<btc::ExtendedKey> key = btc::ExtendedKey::Parse(ctx, text);
    if (!key.ok()) return key.status().WithPrefix("--xprv");
    util::Status added = keys.AddExtendedKey(std::move(*key), std::nullopt);
    if (!added.ok()) return added.WithPrefix("--xprv");
  }
  for (const std::string& text : options.descriptors) {
    util::Result<btc::Descriptor> descriptor = btc::Descriptor::Parse(ctx, text, *network);
    if (!descriptor.ok()) return descriptor.status().WithPrefix("--descriptor");
    for (const auto& [key, origin] : descriptor->PrivateExtendedKeys()) {
      util::Status added = keys.AddExtendedKey(key->Clone(), origin);
      if (!added.ok()) return added.WithPrefix("--descriptor");
    }
  }
  if (keys.empty()) {
    return util::InvalidArgumentError(
        "no signing key: give --privkey, --xprv or a --descriptor with private keys");
  }
  crypto::SystemRng rng;
  btc::PsbtSignOptions sign_options;
  sign_options.schnorr_aux_rng = &rng;
  util::Result<btc::PsbtSignResult> result =
      btc::SignPsbt(ctx, std::move(*psbt), keys, sign_options);
  if (!result.ok()) return result.status();
  Json out = Json::object();
  out["psbt"] = result->psbt.ToBase64();
  out["complete"] = result->complete;
  return CommandOutput{.json = std::move(out)};
}

// ---------------------------------------------------------------------------------------------
// psbt combine | finalize | extract

struct CombineOptions {
  std::vector<std::string> psbts;
};

util::Result<CommandOutput> PsbtCombine(const CombineOptions& options) {
  std::vector<btc::Psbt> psbts;
  for (size_t i = 0; i < options.psbts.size(); ++i) {
    util::Result<btc::Psbt> psbt = ParsePsbtArgument("PSBT " + std::to_string(i), options.psbts[i]);
    if (!psbt.ok()) return psbt.status();
    psbts.push_back(std::move(*psbt));
  }
  util::Result<btc::Psbt> combined = btc::CombinePsbts(psbts);
  if (!combined.ok()) return combined.status();
  return CommandOutput{.json = Json(combined->ToBase64())};
}

struct FinalizeOptions {
  std::string psbt;
  bool no_extract = false;
};

util::Result<CommandOutput> PsbtFinalize(const FinalizeOptions& options) {
  util::Result<btc::Psbt> psbt = ParsePsbtArgument("PSBT", options.psbt);
  if (!psbt.ok()) return psbt.status();
  util::Result<btc::PsbtFinalizeResult> finalized = btc::FinalizePsbt(std::move(*psbt));
  if (!finalized.ok()) return finalized.status();
  Json out = Json::object();
  if (finalized->complete && !options.no_extract) {
    util::Result<btc::Transaction> tx = btc::ExtractTransaction(finalized->psbt);
    if (!tx.ok()) return tx.status();
    out["hex"] = util::HexEncode(tx->Serialize());
  } else {
    out["psbt"] = finalized->psbt.ToBase64();
  }
  out["complete"] = finalized->complete;
  return CommandOutput{.json = std::move(out)};
}

struct ExtractOptions {
  std::string psbt;
};

util::Result<CommandOutput> PsbtExtract(const ExtractOptions& options) {
  util::Result<btc::Psbt> psbt = ParsePsbtArgument("PSBT", options.psbt);
  if (!psbt.ok()) return psbt.status();
  util::Result<btc::Transaction> tx = btc::ExtractTransaction(*psbt);
  if (!tx.ok()) return tx.status();
  Json out = Json::object();
  out["hex"] = util::HexEncode(tx->Serialize());
  out["txid"] = btc::TxidToHex(tx->ComputeTxid());
  return CommandOutput{.json = std::move(out)};
}

constexpr const char* kPsbtHelp = "The PSBT: base64, @FILE (base64 or binary) or - for stdin";
constexpr const char* kNetworkHelp = "Network of addresses and keys: main, test, signet, regtest";

}  // namespace

void RegisterPsbtCommands(CLI::App& app, Dispatcher& dispatcher) {
  CLI::App* group = app.add_subcommand("psbt", "Partially signed transactions (BIP174)");
  group->require_subcommand(1);

  auto decode = std::make_shared<DecodeOptions>();
  CLI::App* decode_cmd =
      group->add_subcommand("decode", "Decode a PSBT as Bitcoin Core's decodepsbt does");
  decode_cmd->add_option("PSBT", decode->psbt, kPsbtHelp)->required();
  decode_cmd->add_option("--network", decode->network, kNetworkHelp)->capture_default_str();
  decode_cmd->callback(
      [&dispatcher, decode] { dispatcher.Select([decode] { return PsbtDecode(*decode); }); });

  auto create = std::make_shared<CreateOptions>();
  CLI::App* create_cmd = group->add_subcommand(
      "create", "Create a PSBT (version 0) as Bitcoin Core's createpsbt does; prints its base64");
  create_cmd
      ->add_option("--inputs", create->inputs,
                   "JSON array of {\"txid\": hex, \"vout\": n, \"sequence\": n (optional)}")
      ->required();
  create_cmd
      ->add_option("--outputs", create->outputs,
                   "JSON array of {\"address\": amount in BTC} or {\"data\": hex} (or one object)")
      ->required();
  create_cmd->add_option("--locktime", create->locktime, "Lock time")->capture_default_str();
  create_cmd->add_flag("--replaceable", create->replaceable,
                       "Signal BIP125 replaceability (sequence 0xfffffffd)");
  create_cmd->add_option("--network", create->network, kNetworkHelp)->capture_default_str();
  create_cmd->callback(
      [&dispatcher, create] { dispatcher.Select([create] { return PsbtCreate(*create); }); });

  auto update = std::make_shared<UpdateOptions>();
  CLI::App* update_cmd = group->add_subcommand(
      "update",
      "Add previous transactions, scripts and key origins from a wallet descriptor; prints the "
      "base64 (as Bitcoin Core's utxoupdatepsbt)");
  update_cmd->add_option("PSBT", update->psbt, kPsbtHelp)->required();
  update_cmd->add_option("--descriptor", update->descriptor, "The wallet's output descriptor")
      ->required();
  update_cmd->add_option("--prevtx", update->prevtxs,
                         "A previous transaction (hex) spent by the PSBT; repeatable");
  update_cmd
      ->add_option("--range", update->range,
                   "Indexes 0..N-1 of a ranged descriptor tried for scripts without derivations")
      ->capture_default_str();
  update_cmd->add_option("--network", update->network, kNetworkHelp)->capture_default_str();
  update_cmd->callback(
      [&dispatcher, update] { dispatcher.Select([update] { return PsbtUpdate(*update); }); });

  auto sign = std::make_shared<SignOptions>();
  CLI::App* sign_cmd = group->add_subcommand(
      "sign",
      "Sign every input the keys can sign (SIGHASH_ALL, or taproot's default); prints "
      "{\"psbt\", \"complete\"}");
  sign_cmd->add_option("PSBT", sign->psbt, kPsbtHelp)->required();
  sign_cmd->add_option("--privkey", sign->privkeys, "A WIF private key; repeatable");
  sign_cmd->add_option("--xprv", sign->xprvs,
                       "A master extended private key (xprv/tprv); repeatable");
  sign_cmd->add_option("--descriptor", sign->descriptors,
                       "A descriptor whose xprv keys sign, named by their origins; repeatable");
  sign_cmd->add_option("--network", sign->network, kNetworkHelp)->capture_default_str();
  sign_cmd->callback(
      [&dispatcher, sign] { dispatcher.Select([sign] { return PsbtSign(*sign); }); });

  auto combine = std::make_shared<CombineOptions>();
  CLI::App* combine_cmd = group->add_subcommand(
      "combine", "Combine PSBTs of one transaction; prints the base64 (as combinepsbt)");
  combine_cmd->add_option("PSBT", combine->psbts, kPsbtHelp)->required();
  combine_cmd->callback(
      [&dispatcher, combine] { dispatcher.Select([combine] { return PsbtCombine(*combine); }); });

  auto finalize = std::make_shared<FinalizeOptions>();
  CLI::App* finalize_cmd = group->add_subcommand(
      "finalize",
      "Finalize the inputs that have enough signatures, as Bitcoin Core's finalizepsbt: "
      "{\"hex\", \"complete\"} when complete, else {\"psbt\", \"complete\"}");
  finalize_cmd->add_option("PSBT", finalize->psbt, kPsbtHelp)->required();
  finalize_cmd->add_flag("--no-extract", finalize->no_extract,
                         "Print the finalized PSBT even when complete");
  finalize_cmd->callback([&dispatcher, finalize] {
    dispatcher.Select([finalize] { return PsbtFinalize(*finalize); });
  });

  auto extract = std::make_shared<ExtractOptions>();
  CLI::App* extract_cmd = group->add_subcommand(
      "extract", "Extract the network transaction of a finalized PSBT: {\"hex\", \"txid\"}");
  extract_cmd->add_option("PSBT", extract->psbt, kPsbtHelp)->required();
  extract_cmd->callback(
      [&dispatcher, extract] { dispatcher.Select([extract] { return PsbtExtract(*extract); }); });
}

}  // namespace kinko::cli
