// interop_oracle: answers questions about Bitcoin data with kinko's libraries, one JSON request
// per line on stdin, one JSON answer per line on stdout, so that test/interop/interop.js can
// check thousands of cases against independent implementations in one process.
//
// Every answer echoes the request's "id" and carries either the result fields or "error".
// Requests ("op" and its fields; bytes are hex):
//   tx        {hex}                       -> {hex, txid, wtxid, size, base_size, vsize, weight}
//   sighash   {tx, input, sigversion ("base", "witness_v0", "taproot", "tapscript"), hashtype,
//              script_code, amount (base, witness_v0), prevouts [{script, amount}] (taproot),
//              leaf_hash, annex, codesep_pos (optional)}            -> {sighash}
//   address   {script, network}           -> {address, script (decoded back)}
//   bip32     {seed or xkey, path, network} -> {xprv (private keys), xpub}
//   sign      {key, digest}               -> {der}
//   schnorr   {key, msg, aux}             -> {sig}
//   verify    {tx, prevouts [{script, amount}]} (standard flags) -> {valid, input, script_error}
#include <cstdint>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "btc/address.h"
#include "btc/bip32.h"
#include "btc/interpreter.h"
#include "btc/sighash.h"
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

std::vector<uint8_t> HexField(const Json& request, const char* name) {
  util::Result<std::vector<uint8_t>> bytes = util::HexDecode(Field(request, name));
  if (!bytes.ok()) throw std::runtime_error(std::string(name) + ": " + bytes.status().message());
  return *std::move(bytes);
}

template <typename T>
T Value(util::Result<T> result, const char* what) {
  if (!result.ok()) throw std::runtime_error(std::string(what) + ": " + result.status().message());
  return *std::move(result);
}

btc::Network NetworkField(const Json& request) {
  return Value(btc::ParseNetwork(Field(request, "network")), "network");
}

Json AnswerTx(const Json& request) {
  const btc::Transaction tx =
      Value(btc::Transaction::ParseHex(Field(request, "hex")), "transaction");
  return Json{{"hex", util::HexEncode(tx.Serialize())},
              {"txid", btc::TxidToHex(tx.ComputeTxid())},
              {"wtxid", btc::WtxidToHex(tx.ComputeWtxid())},
              {"size", tx.TotalSize()},
              {"base_size", tx.BaseSize()},
              {"vsize", tx.VirtualSize()},
              {"weight", tx.Weight()}};
}

Json AnswerSighash(const Json& request) {
  const btc::Transaction tx = Value(btc::Transaction::ParseHex(Field(request, "tx")), "tx");
  const size_t input = request.at("input").get<size_t>();
  if (input >= tx.inputs.size()) throw std::runtime_error("input out of range");
  const std::string version = Field(request, "sigversion");
  const int64_t hash_type = request.at("hashtype").get<int64_t>();
  std::vector<btc::TxOut> spent;
  if (request.contains("prevouts")) {
    for (const Json& prevout : request["prevouts"]) {
      spent.push_back(btc::TxOut{.value = prevout.at("amount").get<int64_t>(),
                                 .script_pubkey = btc::Script(HexField(prevout, "script"))});
    }
  }
  const btc::PrecomputedTransactionData precomputed =
      Value(btc::PrecomputedTransactionData::Create(tx, spent), "precomputed");
  btc::SighashBytes hash{};
  if (version == "base") {
    hash = btc::LegacySighash(tx, input, btc::Script(HexField(request, "script_code")),
                              static_cast<int32_t>(hash_type));
  } else if (version == "witness_v0") {
    hash = btc::SegwitV0Sighash(tx, input, btc::Script(HexField(request, "script_code")),
                                request.at("amount").get<int64_t>(),
                                static_cast<int32_t>(hash_type), precomputed);
  } else if (version == "taproot" || version == "tapscript") {
    btc::TaprootSighashExtras extras;
    if (request.contains("leaf_hash")) {
      const std::vector<uint8_t> leaf = HexField(request, "leaf_hash");
      if (leaf.size() != 32) throw std::runtime_error("leaf_hash: not 32 bytes");
      std::array<uint8_t, 32> bytes;
      std::copy(leaf.begin(), leaf.end(), bytes.begin());
      extras.leaf_hash = bytes;
    }
    if (request.contains("annex")) extras.annex = HexField(request, "annex");
    if (request.contains("codesep_pos")) {
      extras.codesep_pos = request["codesep_pos"].get<uint32_t>();
    }
    hash =
        Value(btc::TaprootSighash(tx, input, static_cast<uint8_t>(hash_type), precomputed, extras),
              "taproot sighash");
  } else {
    throw std::runtime_error("unknown sigversion " + version);
  }
  return Json{{"sighash", util::HexEncode(hash)}};
}

Json AnswerAddress(const Json& request) {
  const btc::Script script(HexField(request, "script"));
  const btc::Network network = NetworkField(request);
  const std::string address = Value(btc::EncodeAddress(script, network), "encode");
  const btc::DecodedAddress decoded = Value(btc::DecodeAddress(address, network), "decode");
  return Json{{"address", address}, {"script", util::HexEncode(decoded.script_pubkey.bytes())}};
}

Json AnswerBip32(const Json& request, const crypto::Secp256k1Context& ctx) {
  std::optional<btc::ExtendedKey> key;
  if (request.contains("seed")) {
    const std::vector<uint8_t> seed = HexField(request, "seed");
    key.emplace(Value(btc::ExtendedKey::FromSeed(ctx, seed, NetworkField(request)), "seed"));
  } else {
    key.emplace(Value(btc::ExtendedKey::Parse(ctx, Field(request, "xkey")), "xkey"));
  }
  const btc::KeyPath path = Value(btc::KeyPath::Parse(Field(request, "path")), "path");
  const btc::ExtendedKey child = Value(key->DerivePath(ctx, path), "derive");
  Json answer = Json::object();
  if (child.IsPrivate()) answer["xprv"] = child.ToString();
  answer["xpub"] = child.Neuter().ToString();
  return answer;
}

Json AnswerSign(const Json& request, const crypto::Secp256k1Context& ctx) {
  const crypto::PrivateKey key =
      Value(crypto::PrivateKey::FromBytes(HexField(request, "key")), "key");
  const std::vector<uint8_t> digest = HexField(request, "digest");
  if (digest.size() != 32) throw std::runtime_error("digest: not 32 bytes");
  return Json{{"der", util::HexEncode(crypto::EcdsaSign(
                          ctx, key, std::span<const uint8_t, 32>(digest.data(), 32)))}};
}

Json AnswerSchnorr(const Json& request, const crypto::Secp256k1Context& ctx) {
  const crypto::PrivateKey key =
      Value(crypto::PrivateKey::FromBytes(HexField(request, "key")), "key");
  const std::vector<uint8_t> msg = HexField(request, "msg");
  const std::vector<uint8_t> aux = HexField(request, "aux");
  if (msg.size() != 32 || aux.size() != 32) throw std::runtime_error("msg, aux: not 32 bytes");
  return Json{{"sig", util::HexEncode(crypto::SchnorrSign(
                          ctx, key, std::span<const uint8_t, 32>(msg.data(), 32),
                          std::span<const uint8_t, 32>(aux.data(), 32)))}};
}

Json AnswerVerify(const Json& request, const crypto::Secp256k1Context& ctx) {
  const btc::Transaction tx = Value(btc::Transaction::ParseHex(Field(request, "tx")), "tx");
  std::vector<btc::TxOut> spent;
  for (const Json& prevout : request.at("prevouts")) {
    spent.push_back(btc::TxOut{.value = prevout.at("amount").get<int64_t>(),
                               .script_pubkey = btc::Script(HexField(prevout, "script"))});
  }
  const btc::TxVerifyResult result =
      btc::VerifyTransaction(ctx, tx, spent, btc::StandardVerifyFlags());
  Json answer{{"valid", result.valid},
              {"script_error", std::string(btc::ScriptErrorName(result.error))}};
  if (result.input) answer["input"] = *result.input;
  return answer;
}

Json Answer(const Json& request, const crypto::Secp256k1Context& ctx) {
  const std::string op = Field(request, "op");
  if (op == "tx") return AnswerTx(request);
  if (op == "sighash") return AnswerSighash(request);
  if (op == "address") return AnswerAddress(request);
  if (op == "bip32") return AnswerBip32(request, ctx);
  if (op == "sign") return AnswerSign(request, ctx);
  if (op == "schnorr") return AnswerSchnorr(request, ctx);
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
    std::cout << answer.dump() << '\n';
  }
  std::cout.flush();
  return 0;
}
