#include "btc/address.h"

#include <algorithm>
#include <array>
#include <string>

#include "btc/base58.h"
#include "btc/bech32.h"
#include "btc/standard.h"
#include "crypto/key_export.h"
#include "crypto/secret.h"

namespace kinko::btc {
namespace {

// Base58 version bytes (Bitcoin Core's chainparams).
struct Prefixes {
  uint8_t p2pkh;
  uint8_t p2sh;
  std::string_view hrp;
};

Prefixes PrefixesOf(Network network) {
  switch (network) {
    case Network::kMainnet:
      return {0x00, 0x05, "bc"};
    case Network::kTestnet:
      return {0x6f, 0xc4, "tb"};
    case Network::kSignet:
      return {0x6f, 0xc4, "tb"};
    case Network::kRegtest:
      return {0x6f, 0xc4, "bcrt"};
  }
  CHECK(false);
  return {};
}

std::string HexByte(uint8_t b) {
  static constexpr char kDigits[] = "0123456789abcdef";
  return std::string("0x") + kDigits[b >> 4] + kDigits[b & 0xf];
}

// Which networks use `version` as a P2PKH or P2SH prefix, for error messages.
std::string NetworksOfVersion(uint8_t version) {
  if (version == 0x00 || version == 0x05) return "main";
  if (version == 0x6f || version == 0xc4) return "test, signet and regtest";
  return "";
}

util::Result<DecodedAddress> DecodeBase58Address(std::string_view address, Network network) {
  const Prefixes prefixes = PrefixesOf(network);
  util::Result<std::vector<uint8_t>> data = Base58CheckDecode(address, 21);
  if (!data.ok()) {
    // Name the likely mistake: a segwit address of another network.
    util::Result<Bech32Decoded> bech = Bech32Decode(address);
    if (bech.ok()) {
      return util::InvalidArgumentError("address: segwit prefix '" + bech->hrp + "' is not " +
                                        std::string(NetworkName(network)) + "'s '" +
                                        std::string(prefixes.hrp) + "'");
    }
    return util::InvalidArgumentError("address: " + data.status().message());
  }
  const std::vector<uint8_t>& bytes = *data;
  if (bytes.empty()) return util::InvalidArgumentError("address: empty base58 payload");
  const uint8_t version = bytes[0];
  if (version != prefixes.p2pkh && version != prefixes.p2sh) {
    const std::string owners = NetworksOfVersion(version);
    if (!owners.empty()) {
      return util::InvalidArgumentError("address: base58 version " + HexByte(version) + " is for " +
                                        owners + ", not " + std::string(NetworkName(network)));
    }
    return util::InvalidArgumentError("address: unknown base58 version " + HexByte(version));
  }
  if (bytes.size() != 21) {
    return util::InvalidArgumentError("address: base58 payload of " + std::to_string(bytes.size()) +
                                      " bytes, expected 21");
  }
  const std::span<const uint8_t, 20> hash = std::span<const uint8_t>(bytes).subspan<1, 20>();
  DecodedAddress out;
  if (version == prefixes.p2pkh) {
    out.script_pubkey = P2pkhScript(hash);
    out.type = AddressType::kP2pkh;
  } else {
    out.script_pubkey = P2shScript(hash);
    out.type = AddressType::kP2sh;
  }
  out.program.assign(hash.begin(), hash.end());
  return out;
}

util::Result<DecodedAddress> DecodeSegwitAddress(std::string_view address, Network network) {
  const Prefixes prefixes = PrefixesOf(network);
  util::Result<Bech32Decoded> dec = Bech32Decode(address);
  if (!dec.ok()) return util::InvalidArgumentError("address: " + dec.status().message());
  if (dec->hrp != prefixes.hrp) {
    return util::InvalidArgumentError("address: segwit prefix '" + dec->hrp + "' is not " +
                                      std::string(NetworkName(network)) + "'s '" +
                                      std::string(prefixes.hrp) + "'");
  }
  if (dec->values5.empty()) return util::InvalidArgumentError("address: empty data part");
  const int version = dec->values5[0];
  if (version > 16) {
    return util::InvalidArgumentError("address: witness version " + std::to_string(version) +
                                      " is above 16");
  }
  // BIP350: version 0 uses Bech32, versions 1..16 use Bech32m.
  if (version == 0 && dec->encoding != Bech32Encoding::kBech32) {
    return util::InvalidArgumentError("address: witness version 0 must use a bech32 checksum");
  }
  if (version != 0 && dec->encoding != Bech32Encoding::kBech32m) {
    return util::InvalidArgumentError("address: witness version " + std::to_string(version) +
                                      " must use a bech32m checksum");
  }
  util::Result<std::vector<uint8_t>> program =
      ConvertBits5To8(std::span<const uint8_t>(dec->values5).subspan(1));
  if (!program.ok()) {
    return util::InvalidArgumentError("address: witness program: " + program.status().message());
  }
  const size_t size = program->size();
  if (version == 0 && size != 20 && size != 32) {
    return util::InvalidArgumentError("address: witness v0 program of " + std::to_string(size) +
                                      " bytes, expected 20 or 32 (bip141)");
  }
  if (size < 2 || size > 40) {
    return util::InvalidArgumentError("address: witness program of " + std::to_string(size) +
                                      " bytes, expected 2 to 40");
  }
  DecodedAddress out;
  out.script_pubkey = WitnessProgramScript(version, *program);
  out.type = *AddressTypeOf(out.script_pubkey);
  out.witness_version = version;
  out.program = std::move(*program);
  return out;
}

}  // namespace

std::string_view NetworkName(Network network) {
  switch (network) {
    case Network::kMainnet:
      return "main";
    case Network::kTestnet:
      return "test";
    case Network::kSignet:
      return "signet";
    case Network::kRegtest:
      return "regtest";
  }
  CHECK(false);
  return "";
}

util::Result<Network> ParseNetwork(std::string_view name) {
  if (name == "main" || name == "mainnet" || name == "bitcoin") return Network::kMainnet;
  if (name == "test" || name == "testnet" || name == "testnet3" || name == "testnet4") {
    return Network::kTestnet;
  }
  if (name == "signet") return Network::kSignet;
  if (name == "regtest") return Network::kRegtest;
  return util::InvalidArgumentError("unknown network '" + std::string(name) + "'");
}

std::string_view AddressTypeName(AddressType type) {
  switch (type) {
    case AddressType::kP2pkh:
      return "p2pkh";
    case AddressType::kP2sh:
      return "p2sh";
    case AddressType::kP2wpkh:
      return "p2wpkh";
    case AddressType::kP2wsh:
      return "p2wsh";
    case AddressType::kP2tr:
      return "p2tr";
    case AddressType::kWitnessUnknown:
      return "witness_unknown";
  }
  CHECK(false);
  return "";
}

std::optional<AddressType> AddressTypeOf(const Script& script_pubkey) {
  switch (Classify(script_pubkey).kind) {
    case ScriptKind::kP2pkh:
      return AddressType::kP2pkh;
    case ScriptKind::kP2sh:
      return AddressType::kP2sh;
    case ScriptKind::kP2wpkh:
      return AddressType::kP2wpkh;
    case ScriptKind::kP2wsh:
      return AddressType::kP2wsh;
    case ScriptKind::kP2tr:
      return AddressType::kP2tr;
    // Core encodes pay-to-anchor (OP_1 <0x4e73>) like any other v1+ program.
    case ScriptKind::kAnchor:
    case ScriptKind::kWitnessUnknown:
      return AddressType::kWitnessUnknown;
    case ScriptKind::kNonStandard:
    case ScriptKind::kP2pk:
    case ScriptKind::kMultisig:
    case ScriptKind::kNullData:
      return std::nullopt;
  }
  CHECK(false);
  return std::nullopt;
}

util::Result<DecodedAddress> DecodeAddress(std::string_view address, Network network) {
  const std::string_view hrp = PrefixesOf(network).hrp;
  // As Core: a string that starts with the network's HRP (in either case) is a segwit address,
  // anything else is Base58.
  bool is_segwit = address.size() >= hrp.size();
  for (size_t i = 0; is_segwit && i < hrp.size(); ++i) {
    char c = address[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    is_segwit = c == hrp[i];
  }
  if (is_segwit) return DecodeSegwitAddress(address, network);
  return DecodeBase58Address(address, network);
}

util::Result<std::string> EncodeAddress(const Script& script_pubkey, Network network) {
  const Prefixes prefixes = PrefixesOf(network);
  const std::optional<AddressType> type = AddressTypeOf(script_pubkey);
  if (!type)
    return util::InvalidArgumentError("script has no address (not a standard output type)");
  switch (*type) {
    case AddressType::kP2pkh:
    case AddressType::kP2sh: {
      const StandardScript standard = Classify(script_pubkey);
      std::vector<uint8_t> payload = {*type == AddressType::kP2pkh ? prefixes.p2pkh
                                                                   : prefixes.p2sh};
      // Invariant: Classify gives P2PKH and P2SH one solution, the 20-byte hash.
      CHECK(standard.solutions.size() == 1 && standard.solutions[0].size() == 20);
      const std::vector<uint8_t>& hash = standard.solutions[0];
      payload.insert(payload.end(), hash.begin(), hash.end());
      return Base58CheckEncode(payload);
    }
    case AddressType::kP2wpkh:
    case AddressType::kP2wsh:
    case AddressType::kP2tr:
    case AddressType::kWitnessUnknown:
      break;
  }
  // Invariant: AddressTypeOf gives a segwit type only for witness programs.
  const std::optional<WitnessProgram> wp = ParseWitnessProgram(script_pubkey);
  CHECK(wp.has_value());
  std::vector<uint8_t> values = {static_cast<uint8_t>(wp->version)};
  const std::vector<uint8_t> converted = ConvertBits8To5(wp->program);
  values.insert(values.end(), converted.begin(), converted.end());
  return Bech32Encode(wp->version == 0 ? Bech32Encoding::kBech32 : Bech32Encoding::kBech32m,
                      prefixes.hrp, values);
}

util::Result<WifKey> DecodeWif(std::string_view wif) {
  util::Result<std::vector<uint8_t>> data = Base58CheckDecode(wif, 34);
  if (!data.ok()) return util::InvalidArgumentError("wif: " + data.status().message());
  std::vector<uint8_t>& bytes = *data;
  util::Status error;
  Network network = Network::kMainnet;
  bool compressed = false;
  if (bytes.empty() || (bytes[0] != 0x80 && bytes[0] != 0xef)) {
    error = util::InvalidArgumentError("wif: unknown version byte");
  } else if (bytes.size() == 34 && bytes[33] == 0x01) {
    compressed = true;
  } else if (bytes.size() != 33) {
    error = util::InvalidArgumentError("wif: payload is not 33 bytes or 34 bytes ending in 0x01");
  }
  if (!error.ok()) {
    crypto::Wipe(bytes);
    return error;
  }
  if (bytes[0] == 0xef) network = Network::kTestnet;
  util::Result<crypto::PrivateKey> key =
      crypto::PrivateKey::FromBytes(std::span<const uint8_t>(bytes).subspan(1, 32));
  crypto::Wipe(bytes);
  if (!key.ok()) return util::InvalidArgumentError("wif: private key not in 1..n-1");
  return WifKey{std::move(*key), compressed, network};
}

std::string EncodeWif(const crypto::PrivateKey& key, bool compressed, Network network) {
  std::vector<uint8_t> payload = {network == Network::kMainnet ? uint8_t{0x80} : uint8_t{0xef}};
  std::array<uint8_t, 32> secret = crypto::ExportPrivateKeyBytes(key);
  payload.insert(payload.end(), secret.begin(), secret.end());
  crypto::Wipe(secret);
  if (compressed) payload.push_back(0x01);
  std::string out = Base58CheckEncode(payload);
  crypto::Wipe(payload);
  return out;
}

}  // namespace kinko::btc
