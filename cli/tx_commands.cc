// kinko tx decode | sighash | verify: transactions in the shape of Bitcoin Core's RPCs.
#include <CLI/CLI.hpp>
#include <array>
#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "btc/address.h"
#include "btc/interpreter.h"
#include "btc/sighash.h"
#include "btc/standard.h"
#include "btc/transaction.h"
#include "cli/command.h"
#include "cli/descriptor_format.h"
#include "cli/script_format.h"
#include "cli/tx_format.h"
#include "crypto/hash.h"
#include "crypto/rng.h"
#include "crypto/secp256k1.h"
#include "util/hex.h"

namespace kinko::cli {
namespace {

util::Result<btc::Transaction> ParseTransactionArgument(const std::string& hex) {
  util::Result<std::vector<uint8_t>> bytes = ParseHexArgument("HEX", hex);
  if (!bytes.ok()) return bytes.status();
  util::Result<btc::Transaction> tx = btc::Transaction::Parse(*bytes);
  if (!tx.ok()) return tx.status().WithPrefix("HEX");
  return tx;
}

util::Result<btc::Network> ParseNetworkOption(const std::string& name) {
  util::Result<btc::Network> network = btc::ParseNetwork(name);
  if (!network.ok()) return network.status().WithPrefix("--network");
  return network;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// tx decode (also used by psbt decode, through cli/tx_format.h)

// Bitcoin Core's ScriptToUniv(script, include_hex=true, include_address=true).
Json ScriptPubKeyJson(const btc::Script& script, btc::Network network) {
  Json out = Json::object();
  out["asm"] = btc::ToAsm(script);
  out["desc"] = InferDescriptor(script, network);
  out["hex"] = util::HexEncode(script.bytes());
  const btc::ScriptKind kind = btc::Classify(script).kind;
  // Core shows an address for every destination except a bare public key.
  if (kind != btc::ScriptKind::kP2pk) {
    util::Result<std::string> address = btc::EncodeAddress(script, network);
    if (address.ok()) out["address"] = *address;
  }
  out["type"] = std::string(btc::ScriptKindName(kind));
  return out;
}

// Bitcoin Core's TxToUniv as decoderawtransaction calls it (no block hash, no hex, no undo).
Json TransactionJson(const btc::Transaction& tx, btc::Network network) {
  Json out = Json::object();
  out["txid"] = btc::TxidToHex(tx.ComputeTxid());
  out["hash"] = btc::WtxidToHex(tx.ComputeWtxid());
  out["version"] = tx.version;  // Unsigned, as in Core since version 28.
  out["size"] = tx.TotalSize();
  out["vsize"] = tx.VirtualSize();
  out["weight"] = tx.Weight();
  out["locktime"] = tx.lock_time;
  // Core's IsCoinBase: exactly one input, spending the null outpoint.
  const bool coinbase = tx.inputs.size() == 1 && tx.inputs[0].prevout.IsNull();
  Json vin = Json::array();
  for (const btc::TxIn& in : tx.inputs) {
    Json item = Json::object();
    if (coinbase) {
      item["coinbase"] = util::HexEncode(in.script_sig.bytes());
    } else {
      item["txid"] = btc::TxidToHex(in.prevout.txid);
      item["vout"] = in.prevout.index;
      Json script_sig = Json::object();
      script_sig["asm"] = ScriptSigToAsm(in.script_sig);
      script_sig["hex"] = util::HexEncode(in.script_sig.bytes());
      item["scriptSig"] = std::move(script_sig);
    }
    if (!in.witness.empty()) {
      Json witness = Json::array();
      for (const std::vector<uint8_t>& element : in.witness) {
        witness.push_back(util::HexEncode(element));
      }
      item["txinwitness"] = std::move(witness);
    }
    item["sequence"] = in.sequence;
    vin.push_back(std::move(item));
  }
  out["vin"] = std::move(vin);
  Json vout = Json::array();
  for (size_t i = 0; i < tx.outputs.size(); ++i) {
    Json item = Json::object();
    item["value"] = BtcValue(tx.outputs[i].value);
    item["n"] = i;
    item["scriptPubKey"] = ScriptPubKeyJson(tx.outputs[i].script_pubkey, network);
    vout.push_back(std::move(item));
  }
  out["vout"] = std::move(vout);
  return out;
}

namespace {

struct DecodeOptions {
  std::string hex;
  std::string network = "main";
};

util::Result<CommandOutput> TxDecode(const DecodeOptions& options) {
  util::Result<btc::Network> network = ParseNetworkOption(options.network);
  if (!network.ok()) return network.status();
  util::Result<btc::Transaction> tx = ParseTransactionArgument(options.hex);
  if (!tx.ok()) return tx.status();
  return CommandOutput{.json = TransactionJson(*tx, *network)};
}

// ---------------------------------------------------------------------------------------------
// --prevouts

// The text of --prevouts: inline JSON, or @FILE to read it from a file.
util::Result<std::string> ReadPrevoutsText(const std::string& value) {
  if (!value.starts_with("@")) return value;
  std::ifstream file(value.substr(1), std::ios::binary);
  if (!file) {
    return util::InvalidArgumentError("--prevouts: cannot read file '" + value.substr(1) + "'");
  }
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

// Parses --prevouts: a JSON array of {"txid", "vout", "scriptPubKey" (hex), "amount" (satoshi)},
// one per input of `tx` and in input order; each must name the outpoint its input spends.
util::Result<std::vector<btc::TxOut>> ParsePrevouts(const std::string& value,
                                                    const btc::Transaction& tx) {
  util::Result<std::string> text = ReadPrevoutsText(value);
  if (!text.ok()) return text.status();
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(*text);
  } catch (const nlohmann::json::parse_error& e) {
    // nlohmann counts bytes from 1; the offset of the offending byte is one less.
    return util::InvalidArgumentError("--prevouts: not JSON: syntax error at byte offset " +
                                      std::to_string(e.byte == 0 ? 0 : e.byte - 1));
  }
  if (!json.is_array()) return util::InvalidArgumentError("--prevouts: expected a JSON array");
  if (json.size() != tx.inputs.size()) {
    return util::InvalidArgumentError("--prevouts: has " + std::to_string(json.size()) +
                                      " entries but the transaction has " +
                                      std::to_string(tx.inputs.size()) + " inputs");
  }
  std::vector<btc::TxOut> spent;
  for (size_t i = 0; i < json.size(); ++i) {
    const nlohmann::json& entry = json[i];
    const std::string where = "--prevouts[" + std::to_string(i) + "]";
    if (!entry.is_object()) return util::InvalidArgumentError(where + ": expected an object");
    for (const char* key : {"txid", "vout", "scriptPubKey", "amount"}) {
      if (!entry.contains(key)) {
        return util::InvalidArgumentError(where + ": missing \"" + key + "\"");
      }
    }
    const nlohmann::json& txid_json = entry["txid"];
    if (!txid_json.is_string()) {
      return util::InvalidArgumentError(where + ".txid: expected a hex string");
    }
    util::Result<btc::Txid> txid = btc::TxidFromHex(txid_json.get<std::string>());
    if (!txid.ok()) return txid.status().WithPrefix(where + ".txid");
    const nlohmann::json& vout = entry["vout"];
    if (!vout.is_number_unsigned() || vout.get<uint64_t>() > 0xffffffff) {
      return util::InvalidArgumentError(where + ".vout: expected an integer in 0..4294967295");
    }
    const btc::Outpoint outpoint{.txid = *txid, .index = vout.get<uint32_t>()};
    if (outpoint != tx.inputs[i].prevout) {
      return util::InvalidArgumentError(where + ": names " + txid_json.get<std::string>() + ":" +
                                        std::to_string(outpoint.index) + " but input " +
                                        std::to_string(i) + " spends " +
                                        btc::TxidToHex(tx.inputs[i].prevout.txid) + ":" +
                                        std::to_string(tx.inputs[i].prevout.index));
    }
    const nlohmann::json& script_json = entry["scriptPubKey"];
    if (!script_json.is_string()) {
      return util::InvalidArgumentError(where + ".scriptPubKey: expected a hex string");
    }
    util::Result<std::vector<uint8_t>> script = util::HexDecode(script_json.get<std::string>());
    if (!script.ok()) return script.status().WithPrefix(where + ".scriptPubKey");
    const nlohmann::json& amount = entry["amount"];
    if (!amount.is_number_integer() || amount.get<int64_t>() < 0) {
      return util::InvalidArgumentError(where +
                                        ".amount: expected a non-negative integer (satoshi)");
    }
    spent.push_back(btc::TxOut{.value = amount.get<int64_t>(),
                               .script_pubkey = btc::Script(std::move(*script))});
  }
  return spent;
}

// ---------------------------------------------------------------------------------------------
// tx sighash

struct SighashOptions {
  std::string hex;
  std::string prevouts;
  std::string input;
  std::optional<std::string> hash_type;
  std::optional<std::string> leaf_hash;
  std::optional<std::string> codesep_pos;
  std::optional<std::string> annex;
  std::optional<std::string> sigversion;
  std::optional<std::string> script_code;
};

std::string_view SigVersionName(btc::SigVersion version) {
  switch (version) {
    case btc::SigVersion::kBase:
      return "base";
    case btc::SigVersion::kWitnessV0:
      return "witness_v0";
    case btc::SigVersion::kTaproot:
      return "taproot";
    case btc::SigVersion::kTapscript:
      return "tapscript";
  }
  return "";
}

util::Result<btc::SigVersion> ParseSigVersion(std::string_view name) {
  for (btc::SigVersion v : {btc::SigVersion::kBase, btc::SigVersion::kWitnessV0,
                            btc::SigVersion::kTaproot, btc::SigVersion::kTapscript}) {
    if (name == SigVersionName(v)) return v;
  }
  return util::InvalidArgumentError("--sigversion: '" + std::string(name) +
                                    "' is not one of base, witness_v0, taproot, tapscript");
}

bool IsP2sh(const btc::Script& script) {
  const std::vector<uint8_t>& b = script.bytes();
  return b.size() == 23 && b[0] == 0xa9 && b[1] == 0x14 && b[22] == 0x87;
}

// The last push of a push-only scriptSig (a P2SH redeem script), or nullopt.
std::optional<btc::Script> LastPush(const btc::Script& script_sig) {
  std::optional<btc::Script> last;
  size_t pos = 0;
  while (pos < script_sig.size()) {
    std::optional<btc::ScriptOp> op = btc::GetOp(script_sig.bytes(), &pos);
    if (!op || op->opcode > 0x60) return std::nullopt;
    last = btc::Script(op->data);
  }
  return last;
}

// How the sighash of one input is computed.
struct SighashPlan {
  btc::SigVersion version = btc::SigVersion::kBase;
  std::optional<btc::Script> script_code;  // Base and witness v0.
  btc::TaprootSighashExtras extras;        // Taproot and tapscript.
};

// Decides the sighash scheme and script code of input `index` from the script it spends and
// its scriptSig and witness, unless the options say otherwise (see doc/cli.md).
util::Result<SighashPlan> PlanSighash(const btc::Transaction& tx, size_t index,
                                      const btc::TxOut& spent, const SighashOptions& options) {
  const btc::TxIn& in = tx.inputs[index];
  const std::string where = "input " + std::to_string(index);
  SighashPlan plan;

  // The script whose kind decides: the spent script, or the redeem script of a P2SH input.
  btc::Script script = spent.script_pubkey;
  bool missing_redeem_script = false;
  if (IsP2sh(script)) {
    std::optional<btc::Script> redeem = LastPush(in.script_sig);
    if (redeem) {
      script = *redeem;
    } else {
      missing_redeem_script = true;
    }
  }
  std::optional<btc::WitnessProgram> program = btc::ParseWitnessProgram(script);
  // Only v1 programs of 32 bytes outside P2SH are taproot (BIP341).
  const bool taproot = program && program->version == 1 && program->program.size() == 32 &&
                       !IsP2sh(spent.script_pubkey);
  if (options.sigversion) {
    util::Result<btc::SigVersion> version = ParseSigVersion(*options.sigversion);
    if (!version.ok()) return version.status();
    plan.version = *version;
  } else if (taproot) {
    plan.version = options.leaf_hash ? btc::SigVersion::kTapscript : btc::SigVersion::kTaproot;
  } else if (program && program->version == 0) {
    plan.version = btc::SigVersion::kWitnessV0;
  } else {
    plan.version = btc::SigVersion::kBase;
  }

  if (options.script_code) {
    util::Result<std::vector<uint8_t>> code =
        ParseHexArgument("--script-code", *options.script_code);
    if (!code.ok()) return code.status();
    plan.script_code = btc::Script(std::move(*code));
  }

  const bool taproot_plan =
      plan.version == btc::SigVersion::kTaproot || plan.version == btc::SigVersion::kTapscript;
  if (!taproot_plan && (options.leaf_hash || options.codesep_pos || options.annex)) {
    return util::InvalidArgumentError(where + " is signed as " +
                                      std::string(SigVersionName(plan.version)) +
                                      ": --leaf-hash, --codesep-pos and --annex apply to taproot");
  }
  if (taproot_plan && options.script_code) {
    return util::InvalidArgumentError(where + ": --script-code does not apply to taproot");
  }

  switch (plan.version) {
    case btc::SigVersion::kBase:
      if (plan.script_code) return plan;
      if (missing_redeem_script) {
        return util::InvalidArgumentError(
            where +
            ": spends P2SH but its scriptSig holds no redeem script; give --script-code "
            "(and --sigversion witness_v0 for P2SH-wrapped segwit)");
      }
      plan.script_code = script;
      return plan;
    case btc::SigVersion::kWitnessV0:
      if (plan.script_code) return plan;
      if (program && program->version == 0 && program->program.size() == 20) {
        // BIP143: the scriptCode of P2WPKH is the P2PKH script of the key hash.
        plan.script_code =
            btc::P2pkhScript(std::span<const uint8_t, 20>(program->program.data(), 20));
        return plan;
      }
      if (program && program->version == 0 && program->program.size() == 32) {
        // BIP143 P2WSH: the witness script is the last witness item and hashes to the program.
        if (in.witness.empty()) {
          return util::InvalidArgumentError(
              where + ": spends P2WSH but has no witness script; give --script-code");
        }
        const crypto::Hash256Bytes hash = crypto::Sha256(in.witness.back());
        if (!std::equal(hash.begin(), hash.end(), program->program.begin())) {
          return util::InvalidArgumentError(
              where +
              ": the last witness item does not hash to the P2WSH program; give "
              "--script-code");
        }
        plan.script_code = btc::Script(in.witness.back());
        return plan;
      }
      return util::InvalidArgumentError(
          where + ": spends no segwit v0 program; give --script-code for --sigversion witness_v0");
    case btc::SigVersion::kTaproot:
    case btc::SigVersion::kTapscript:
      break;
  }

  // Taproot: the annex is the last witness item when there are two or more and it starts with
  // 0x50 (BIP341), unless --annex gives one.
  std::vector<std::vector<uint8_t>> stack = in.witness;
  std::optional<std::vector<uint8_t>> witness_annex;
  if (stack.size() >= 2 && !stack.back().empty() && stack.back()[0] == 0x50) {
    witness_annex = stack.back();
    stack.pop_back();
  }
  if (options.annex) {
    util::Result<std::vector<uint8_t>> annex = ParseHexArgument("--annex", *options.annex);
    if (!annex.ok()) return annex.status();
    if (annex->empty() || (*annex)[0] != 0x50) {
      return util::InvalidArgumentError("--annex: must start with the byte 0x50 (BIP341)");
    }
    plan.extras.annex = std::move(*annex);
  } else {
    plan.extras.annex = witness_annex;
  }
  if (plan.version == btc::SigVersion::kTaproot) {
    if (options.leaf_hash || options.codesep_pos) {
      return util::InvalidArgumentError(
          "--leaf-hash and --codesep-pos apply to --sigversion tapscript only");
    }
    return plan;
  }
  // Tapscript: the leaf hash from --leaf-hash, or from the witness's script and control block.
  if (options.leaf_hash) {
    util::Result<std::vector<uint8_t>> leaf = ParseHexArgument("--leaf-hash", *options.leaf_hash);
    if (!leaf.ok()) return leaf.status();
    if (leaf->size() != 32) {
      return util::InvalidArgumentError("--leaf-hash: expected 32 bytes, got " +
                                        std::to_string(leaf->size()));
    }
    std::array<uint8_t, 32> hash;
    std::copy(leaf->begin(), leaf->end(), hash.begin());
    plan.extras.leaf_hash = hash;
  } else {
    if (stack.size() < 2 || stack.back().empty()) {
      return util::InvalidArgumentError(
          where + ": has no taproot script path in its witness; give --leaf-hash");
    }
    const uint8_t leaf_version = stack.back()[0] & 0xfe;
    plan.extras.leaf_hash =
        btc::ComputeTapleafHash(leaf_version, btc::Script(stack[stack.size() - 2]));
  }
  if (options.codesep_pos) {
    util::Result<uint64_t> pos =
        ParseUnsignedArgument("--codesep-pos", *options.codesep_pos, 0xffffffff);
    if (!pos.ok()) return pos.status();
    plan.extras.codesep_pos = static_cast<uint32_t>(*pos);
  }
  return plan;
}

util::Result<CommandOutput> TxSighash(const SighashOptions& options) {
  util::Result<btc::Transaction> tx = ParseTransactionArgument(options.hex);
  if (!tx.ok()) return tx.status();
  util::Result<uint64_t> input = ParseUnsignedArgument("--input", options.input, 0xffffffff);
  if (!input.ok()) return input.status();
  if (*input >= tx->inputs.size()) {
    return util::InvalidArgumentError("--input: " + std::to_string(*input) +
                                      " is out of range; the transaction has " +
                                      std::to_string(tx->inputs.size()) + " inputs");
  }
  const size_t index = static_cast<size_t>(*input);
  util::Result<std::vector<btc::TxOut>> spent = ParsePrevouts(options.prevouts, *tx);
  if (!spent.ok()) return spent.status();
  util::Result<SighashPlan> plan = PlanSighash(*tx, index, (*spent)[index], options);
  if (!plan.ok()) return plan.status();

  const bool taproot =
      plan->version == btc::SigVersion::kTaproot || plan->version == btc::SigVersion::kTapscript;
  // The default hash type: SIGHASH_ALL, or SIGHASH_DEFAULT for taproot.
  uint64_t hash_type = taproot ? btc::kSighashDefault : btc::kSighashAll;
  if (options.hash_type) {
    // Legacy and BIP143 commit to a 32-bit hash type; taproot to one byte.
    util::Result<uint64_t> parsed =
        ParseUnsignedArgument("--hashtype", *options.hash_type, taproot ? 0xff : 0xffffffff);
    if (!parsed.ok()) return parsed.status();
    hash_type = *parsed;
  }

  util::Result<btc::PrecomputedTransactionData> precomputed =
      btc::PrecomputedTransactionData::Create(*tx, *spent);
  if (!precomputed.ok()) return precomputed.status();

  btc::SighashBytes sighash{};
  switch (plan->version) {
    case btc::SigVersion::kBase:
      sighash = btc::LegacySighash(*tx, index, *plan->script_code,
                                   static_cast<int32_t>(static_cast<uint32_t>(hash_type)));
      break;
    case btc::SigVersion::kWitnessV0:
      sighash = btc::SegwitV0Sighash(*tx, index, *plan->script_code, (*spent)[index].value,
                                     static_cast<int32_t>(static_cast<uint32_t>(hash_type)),
                                     *precomputed);
      break;
    case btc::SigVersion::kTaproot:
    case btc::SigVersion::kTapscript: {
      util::Result<btc::SighashBytes> hash = btc::TaprootSighash(
          *tx, index, static_cast<uint8_t>(hash_type), *precomputed, plan->extras);
      if (!hash.ok()) return hash.status().WithPrefix("input " + std::to_string(index));
      sighash = *hash;
      break;
    }
  }

  Json out = Json::object();
  out["sighash"] = util::HexEncode(sighash);
  out["input"] = index;
  out["sigversion"] = std::string(SigVersionName(plan->version));
  out["hashtype"] = hash_type;
  if (plan->script_code) out["script_code"] = util::HexEncode(plan->script_code->bytes());
  if (plan->extras.leaf_hash) out["leaf_hash"] = util::HexEncode(*plan->extras.leaf_hash);
  if (plan->version == btc::SigVersion::kTapscript) out["codesep_pos"] = plan->extras.codesep_pos;
  if (taproot && plan->extras.annex) out["annex"] = util::HexEncode(*plan->extras.annex);
  return CommandOutput{.json = std::move(out)};
}

// ---------------------------------------------------------------------------------------------
// tx verify

struct VerifyOptions {
  std::string hex;
  std::string prevouts;
  std::optional<std::string> flags;
};

util::Result<CommandOutput> TxVerify(const VerifyOptions& options) {
  util::Result<btc::Transaction> tx = ParseTransactionArgument(options.hex);
  if (!tx.ok()) return tx.status();
  util::Result<std::vector<btc::TxOut>> spent = ParsePrevouts(options.prevouts, *tx);
  if (!spent.ok()) return spent.status();
  btc::VerifyFlags flags = btc::StandardVerifyFlags();
  if (options.flags) {
    util::Result<btc::VerifyFlags> parsed = btc::ParseVerifyFlags(*options.flags);
    if (!parsed.ok()) return parsed.status().WithPrefix("--flags");
    flags = *parsed;
  }
  crypto::SystemRng rng;
  const crypto::Secp256k1Context ctx = crypto::Secp256k1Context::Create(rng);
  const btc::TxVerifyResult result = btc::VerifyTransaction(ctx, *tx, *spent, flags);
  Json out = Json::object();
  out["valid"] = result.valid;
  if (result.valid) return CommandOutput{.json = std::move(out)};
  if (result.input) out["input"] = *result.input;
  out["error"] = std::string(btc::ScriptErrorName(result.error));
  out["detail"] = result.detail;
  return CommandOutput{.json = std::move(out), .exit_code = kExitNegative};
}

}  // namespace

void RegisterTxCommands(CLI::App& app, Dispatcher& dispatcher) {
  CLI::App* group = app.add_subcommand("tx", "Transaction tools");
  group->require_subcommand(1);

  auto decode = std::make_shared<DecodeOptions>();
  CLI::App* decode_cmd = group->add_subcommand(
      "decode", "Decode a raw transaction as Bitcoin Core's decoderawtransaction does");
  decode_cmd->add_option("HEX", decode->hex, "The serialized transaction, hex-encoded")->required();
  decode_cmd
      ->add_option("--network", decode->network,
                   "Network of the addresses shown: main, test, signet, regtest")
      ->capture_default_str();
  decode_cmd->callback(
      [&dispatcher, decode] { dispatcher.Select([decode] { return TxDecode(*decode); }); });

  auto sighash = std::make_shared<SighashOptions>();
  CLI::App* sighash_cmd = group->add_subcommand(
      "sighash",
      "Compute the signature hash of one input. The spent script decides the scheme: legacy, "
      "BIP143 (P2WPKH, P2WSH, also inside P2SH) or BIP341 (P2TR)");
  sighash_cmd->add_option("HEX", sighash->hex, "The serialized transaction, hex-encoded")
      ->required();
  sighash_cmd
      ->add_option("--prevouts", sighash->prevouts,
                   "JSON array, one per input in order: {\"txid\", \"vout\", \"scriptPubKey\" "
                   "(hex), \"amount\" (satoshi)}; or @FILE")
      ->required();
  sighash_cmd->add_option("--input", sighash->input, "Index of the input to hash")->required();
  sighash_cmd->add_option("--hashtype", sighash->hash_type,
                          "Sighash type (decimal or 0x hex); default 0x01 (ALL), and 0x00 "
                          "(DEFAULT) for taproot");
  sighash_cmd->add_option("--leaf-hash", sighash->leaf_hash,
                          "Tapscript: the TapLeaf hash (hex); default: from the witness's "
                          "script and control block");
  sighash_cmd->add_option("--codesep-pos", sighash->codesep_pos,
                          "Tapscript: position of the last executed OP_CODESEPARATOR; default "
                          "0xffffffff (none)");
  sighash_cmd->add_option("--annex", sighash->annex,
                          "Taproot: the annex (hex, starting with 50); default: from the "
                          "witness");
  sighash_cmd->add_option("--sigversion", sighash->sigversion,
                          "Override the scheme: base, witness_v0, taproot or tapscript");
  sighash_cmd->add_option("--script-code", sighash->script_code,
                          "Base and witness_v0: the script code (hex); default: the spent "
                          "script, the P2SH redeem script, the P2WPKH P2PKH script or the "
                          "P2WSH witness script");
  sighash_cmd->callback(
      [&dispatcher, sighash] { dispatcher.Select([sighash] { return TxSighash(*sighash); }); });

  auto verify = std::make_shared<VerifyOptions>();
  CLI::App* verify_cmd = group->add_subcommand(
      "verify",
      "Verify every input's scripts against the outputs they spend. Prints {\"valid\": true} "
      "(exit 0) or {\"valid\": false, \"input\", \"error\", \"detail\"} (exit 1)");
  verify_cmd->add_option("HEX", verify->hex, "The serialized transaction, hex-encoded")->required();
  verify_cmd
      ->add_option("--prevouts", verify->prevouts,
                   "JSON array, one per input in order: {\"txid\", \"vout\", \"scriptPubKey\" "
                   "(hex), \"amount\" (satoshi)}; or @FILE")
      ->required();
  verify_cmd->add_option("--flags", verify->flags,
                         "Comma-separated script verification flags (P2SH,WITNESS,...) or NONE; "
                         "default: Bitcoin Core's standard flags");
  verify_cmd->callback(
      [&dispatcher, verify] { dispatcher.Select([verify] { return TxVerify(*verify); }); });
}

}  // namespace kinko::cli
