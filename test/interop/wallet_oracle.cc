// interop_wallet_oracle: kinko's side of test/interop/wallets.js. It builds wallets from
// descriptors and runs the PSBT roles on them, one JSON request per line on stdin, one JSON
// answer per line on stdout, so that hundreds of wallets cost one process.
//
// Every answer echoes the request's "id" and carries either the result fields or "error".
// Requests ("op" and its fields; bytes are hex, PSBTs base64):
//   derive    {descriptor, network, index}  -> {script, address, descriptor (public form)}
//   create    {tx (unsigned)}               -> {psbt}
//   update    {psbt, descriptor, network, indices [n], prev_txs [hex]} -> {psbt}
//             Fills each input with UpdatePsbt (previous transaction, witness UTXO, scripts and
//             key origins of the descriptor at the index whose script the input spends) and the
//             descriptor's taproot fields (internal key, merkle root, leaves, key origins).
//   sign      {psbt, descriptor (with xprv), network} -> {psbt, signatures_added, complete}
//   combine   {psbts [base64]}              -> {psbt}
//   finalize  {psbt}                        -> {psbt, complete}
//   extract   {psbt}                        -> {tx, txid}
//   verify    {tx, prevouts [{script, amount}]} -> {valid, script_error, detail}
//             VerifyTransaction with the standard flags.
#include <cstdint>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "btc/address.h"
#include "btc/descriptor.h"
#include "btc/interpreter.h"
#include "btc/psbt.h"
#include "btc/psbt_roles.h"
#include "btc/psbt_sign.h"
#include "btc/transaction.h"
#include "crypto/rng.h"
#include "crypto/secp256k1.h"
#include "util/hex.h"

namespace kinko {
namespace {

using Json = nlohmann::json;

// Reading a request field: throws std::runtime_error, caught per request below. This is test
// code; the exception never leaves the request loop.
std::string Field(const Json& request, const char* name) {
  if (!request.contains(name) || !request[name].is_string()) {
    throw std::runtime_error(std::string("request field '") + name + "' missing or not a string");
  }
  return request[name].get<std::string>();
}

template <typename T>
T Value(util::Result<T> result, const std::string& what) {
  if (!result.ok()) throw std::runtime_error(what + ": " + result.status().message());
  return *std::move(result);
}

std::vector<uint8_t> Hex(const std::string& text, const std::string& what) {
  return Value(util::HexDecode(text), what);
}

btc::Network NetworkField(const Json& request) {
  return Value(btc::ParseNetwork(Field(request, "network")), "network");
}

btc::Descriptor DescriptorField(const Json& request, const crypto::Secp256k1Context& ctx) {
  return Value(btc::Descriptor::Parse(ctx, Field(request, "descriptor"), NetworkField(request)),
               "descriptor");
}

btc::Psbt PsbtField(const Json& request) {
  return Value(btc::Psbt::ParseBase64(Field(request, "psbt")), "psbt");
}

Json AnswerDerive(const Json& request, const crypto::Secp256k1Context& ctx) {
  const btc::Descriptor descriptor = DescriptorField(request, ctx);
  const uint32_t index = request.at("index").get<uint32_t>();
  const btc::ScriptInfo info = Value(descriptor.Expand(ctx, index), "expand");
  return Json{
      {"script", util::HexEncode(info.script_pubkey.bytes())},
      {"address", Value(btc::EncodeAddress(info.script_pubkey, NetworkField(request)), "address")},
      {"descriptor", descriptor.ToString()}};
}

Json AnswerCreate(const Json& request) {
  btc::Transaction tx = Value(btc::Transaction::ParseHex(Field(request, "tx")), "tx");
  return Json{{"psbt", Value(btc::CreatePsbt(std::move(tx)), "create").ToBase64()}};
}

// Adds the taproot fields of `info` to `input`, keeping fields already present.
void AddTaprootFields(const btc::ScriptInfo& info, btc::PsbtInput& input) {
  if (info.tap_internal_key && !input.tap_internal_key) {
    input.tap_internal_key = info.tap_internal_key;
  }
  if (info.tap_merkle_root && !input.tap_merkle_root) input.tap_merkle_root = info.tap_merkle_root;
  for (const btc::TapLeafInfo& leaf : info.tap_leaves) {
    input.tap_leaf_scripts.try_emplace(leaf.control_block, leaf.script, leaf.leaf_version);
  }
  for (const btc::TapKeyOrigin& key : info.tap_bip32_derivations) {
    input.tap_bip32_derivations.try_emplace(key.xonly_key, key.leaf_hashes, key.origin);
  }
}

Json AnswerUpdate(const Json& request, const crypto::Secp256k1Context& ctx) {
  const btc::Descriptor descriptor = DescriptorField(request, ctx);
  btc::Psbt psbt = PsbtField(request);
  btc::PsbtUpdateData data;
  for (const Json& hex : request.at("prev_txs")) {
    data.previous_transactions.push_back(
        Value(btc::Transaction::ParseHex(hex.get<std::string>()), "prev_txs"));
  }
  std::vector<btc::ScriptInfo> infos;
  for (const Json& index : request.at("indices")) {
    btc::ScriptInfo info = Value(descriptor.Expand(ctx, index.get<uint32_t>()), "expand");
    if (info.redeem_script) data.scripts.push_back(*info.redeem_script);
    if (info.witness_script) data.scripts.push_back(*info.witness_script);
    for (const auto& [key, origin] : info.bip32_derivations) data.key_origins[key] = origin;
    infos.push_back(std::move(info));
  }
  psbt = Value(btc::UpdatePsbt(std::move(psbt), data), "update");
  for (size_t i = 0; i < psbt.inputs.size(); ++i) {
    const btc::TxOut spent = Value(psbt.GetInputUtxo(i), "input " + std::to_string(i));
    for (const btc::ScriptInfo& info : infos) {
      if (info.script_pubkey == spent.script_pubkey) AddTaprootFields(info, psbt.inputs[i]);
    }
  }
  return Json{{"psbt", psbt.ToBase64()}};
}

Json AnswerSign(const Json& request, const crypto::Secp256k1Context& ctx) {
  const btc::Descriptor descriptor = DescriptorField(request, ctx);
  btc::PsbtSigningKeys keys;
  for (const auto& [key, origin] : descriptor.PrivateExtendedKeys()) {
    const util::Status status = keys.AddExtendedKey(key->Clone(), origin);
    if (!status.ok()) throw std::runtime_error("key: " + status.message());
  }
  if (keys.empty()) throw std::runtime_error("descriptor has no xprv");
  btc::PsbtSignResult result = Value(btc::SignPsbt(ctx, PsbtField(request), keys), "sign");
  return Json{{"psbt", result.psbt.ToBase64()},
              {"signatures_added", result.signatures_added},
              {"complete", result.complete}};
}

Json AnswerCombine(const Json& request) {
  std::vector<btc::Psbt> psbts;
  for (const Json& text : request.at("psbts")) {
    psbts.push_back(Value(btc::Psbt::ParseBase64(text.get<std::string>()), "psbts"));
  }
  return Json{{"psbt", Value(btc::CombinePsbts(psbts), "combine").ToBase64()}};
}

Json AnswerFinalize(const Json& request) {
  btc::PsbtFinalizeResult result = Value(btc::FinalizePsbt(PsbtField(request)), "finalize");
  return Json{{"psbt", result.psbt.ToBase64()}, {"complete", result.complete}};
}

Json AnswerExtract(const Json& request) {
  const btc::Transaction tx = Value(btc::ExtractTransaction(PsbtField(request)), "extract");
  return Json{{"tx", util::HexEncode(tx.Serialize())}, {"txid", btc::TxidToHex(tx.ComputeTxid())}};
}

Json AnswerVerify(const Json& request, const crypto::Secp256k1Context& ctx) {
  const btc::Transaction tx = Value(btc::Transaction::ParseHex(Field(request, "tx")), "tx");
  std::vector<btc::TxOut> spent;
  for (const Json& prevout : request.at("prevouts")) {
    spent.push_back(
        btc::TxOut{.value = prevout.at("amount").get<int64_t>(),
                   .script_pubkey = btc::Script(Hex(Field(prevout, "script"), "script"))});
  }
  const btc::TxVerifyResult result =
      btc::VerifyTransaction(ctx, tx, spent, btc::StandardVerifyFlags());
  return Json{{"valid", result.valid},
              {"script_error", std::string(btc::ScriptErrorName(result.error))},
              {"detail", result.detail}};
}

Json Answer(const Json& request, const crypto::Secp256k1Context& ctx) {
  const std::string op = Field(request, "op");
  if (op == "derive") return AnswerDerive(request, ctx);
  if (op == "create") return AnswerCreate(request);
  if (op == "update") return AnswerUpdate(request, ctx);
  if (op == "sign") return AnswerSign(request, ctx);
  if (op == "combine") return AnswerCombine(request);
  if (op == "finalize") return AnswerFinalize(request);
  if (op == "extract") return AnswerExtract(request);
  if (op == "verify") return AnswerVerify(request, ctx);
  throw std::runtime_error("unknown op " + op);
}

}  // namespace
}  // namespace kinko

int main() {
  kinko::crypto::SystemRng rng;
  const kinko::crypto::Secp256k1Context ctx = kinko::crypto::Secp256k1Context::Create(rng);
  std::ios::sync_with_stdio(false);
  std::string line;
  while (std::getline(std::cin, line)) {
    nlohmann::json answer;
    try {
      const nlohmann::json request = nlohmann::json::parse(line);
      answer = kinko::Answer(request, ctx);
      answer["id"] = request.value("id", nlohmann::json());
    } catch (const std::exception& e) {
      answer = nlohmann::json{{"error", e.what()}};
      try {
        answer["id"] = nlohmann::json::parse(line).value("id", nlohmann::json());
      } catch (const std::exception&) {
      }
    }
    std::cout << answer.dump() << '\n' << std::flush;
  }
  return 0;
}
