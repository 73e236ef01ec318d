// kinko address decode | encode: addresses like Bitcoin Core's validateaddress.
#include <CLI/CLI.hpp>
#include <memory>
#include <optional>
#include <string>

#include "btc/address.h"
#include "cli/command.h"
#include "util/hex.h"

namespace kinko::cli {
namespace {

constexpr btc::Network kNetworks[] = {btc::Network::kMainnet, btc::Network::kTestnet,
                                      btc::Network::kSignet, btc::Network::kRegtest};

util::Result<btc::Network> ParseNetworkOption(const std::string& name) {
  util::Result<btc::Network> network = btc::ParseNetwork(name);
  if (!network.ok()) return network.status().WithPrefix("--network");
  return network;
}

// The segwit HRP of `network` followed by '1' (BIP173 separator).
std::string_view SegwitPrefix(btc::Network network) {
  switch (network) {
    case btc::Network::kMainnet:
      return "bc1";
    case btc::Network::kTestnet:
    case btc::Network::kSignet:
      return "tb1";
    case btc::Network::kRegtest:
      return "bcrt1";
  }
  return "";
}

bool StartsWithIgnoringCase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    char c = text[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != prefix[i]) return false;
  }
  return true;
}

// Bitcoin Core's validateaddress fields (DescribeAddressVisitor), then kinko's network and type.
Json DescribeAddress(const std::string& address, const btc::DecodedAddress& decoded,
                     btc::Network network) {
  Json out = Json::object();
  out["isvalid"] = true;
  out["address"] = address;
  out["scriptPubKey"] = util::HexEncode(decoded.script_pubkey.bytes());
  // Core's PayToAnchor (witness v1 program 4e73, BIP-less "P2A") has no version or program.
  const bool anchor = decoded.witness_version == 1 && decoded.program.size() == 2 &&
                      decoded.program[0] == 0x4e && decoded.program[1] == 0x73;
  switch (decoded.type) {
    case btc::AddressType::kP2pkh:
      out["isscript"] = false;
      out["iswitness"] = false;
      break;
    case btc::AddressType::kP2sh:
      out["isscript"] = true;
      out["iswitness"] = false;
      break;
    case btc::AddressType::kP2wpkh:
      out["isscript"] = false;
      out["iswitness"] = true;
      break;
    case btc::AddressType::kP2wsh:
    case btc::AddressType::kP2tr:
      out["isscript"] = true;
      out["iswitness"] = true;
      break;
    case btc::AddressType::kWitnessUnknown:
      if (anchor) out["isscript"] = true;
      out["iswitness"] = true;
      break;
  }
  if (decoded.witness_version && !anchor) {
    out["witness_version"] = *decoded.witness_version;
    out["witness_program"] = util::HexEncode(decoded.program);
  }
  out["network"] = std::string(btc::NetworkName(network));
  out["type"] = std::string(btc::AddressTypeName(decoded.type));
  return out;
}

struct DecodeOptions {
  std::string address;
  std::optional<std::string> network;
};

util::Result<CommandOutput> AddressDecode(const DecodeOptions& options) {
  if (options.network) {
    util::Result<btc::Network> network = ParseNetworkOption(*options.network);
    if (!network.ok()) return network.status();
    util::Result<btc::DecodedAddress> decoded = btc::DecodeAddress(options.address, *network);
    if (!decoded.ok()) return decoded.status().WithPrefix("ADDRESS");
    return CommandOutput{.json = DescribeAddress(options.address, *decoded, *network)};
  }
  // Without --network: the first network that accepts it. Test, signet and regtest share the
  // Base58 prefixes, and test and signet the segwit HRP; those decode as "test".
  std::optional<util::Status> error;
  for (btc::Network network : kNetworks) {
    util::Result<btc::DecodedAddress> decoded = btc::DecodeAddress(options.address, network);
    if (decoded.ok()) {
      return CommandOutput{.json = DescribeAddress(options.address, *decoded, network)};
    }
    // Report the error of the network whose HRP the address carries, else mainnet's.
    if (!error || StartsWithIgnoringCase(options.address, SegwitPrefix(network))) {
      error = decoded.status();
    }
  }
  return error->WithPrefix("ADDRESS");
}

struct EncodeOptions {
  std::string script_hex;
  std::string network = "main";
};

util::Result<CommandOutput> AddressEncode(const EncodeOptions& options) {
  util::Result<btc::Network> network = ParseNetworkOption(options.network);
  if (!network.ok()) return network.status();
  util::Result<std::vector<uint8_t>> bytes = ParseHexArgument("SCRIPT_HEX", options.script_hex);
  if (!bytes.ok()) return bytes.status();
  const btc::Script script(std::move(*bytes));
  util::Result<std::string> address = btc::EncodeAddress(script, *network);
  if (!address.ok()) return address.status().WithPrefix("SCRIPT_HEX");
  Json out = Json::object();
  out["address"] = *address;
  out["scriptPubKey"] = util::HexEncode(script.bytes());
  out["network"] = std::string(btc::NetworkName(*network));
  std::optional<btc::AddressType> type = btc::AddressTypeOf(script);
  if (type) out["type"] = std::string(btc::AddressTypeName(*type));
  return CommandOutput{.json = std::move(out)};
}

}  // namespace

void RegisterAddressCommands(CLI::App& app, Dispatcher& dispatcher) {
  CLI::App* group = app.add_subcommand("address", "Address tools");
  group->require_subcommand(1);

  auto decode = std::make_shared<DecodeOptions>();
  CLI::App* decode_cmd = group->add_subcommand(
      "decode",
      "Decode an address like Bitcoin Core's validateaddress: {isvalid, address, scriptPubKey, "
      "isscript, iswitness, witness_version, witness_program, network, type}");
  decode_cmd->add_option("ADDRESS", decode->address, "The address")->required();
  decode_cmd->add_option("--network", decode->network,
                         "main, test, signet or regtest; default: the first that accepts it");
  decode_cmd->callback(
      [&dispatcher, decode] { dispatcher.Select([decode] { return AddressDecode(*decode); }); });

  auto encode = std::make_shared<EncodeOptions>();
  CLI::App* encode_cmd =
      group->add_subcommand("encode", "Encode the address of an output script (scriptPubKey)");
  encode_cmd->add_option("SCRIPT_HEX", encode->script_hex, "The output script, hex-encoded")
      ->required();
  encode_cmd->add_option("--network", encode->network, "main, test, signet or regtest")
      ->capture_default_str();
  encode_cmd->callback(
      [&dispatcher, encode] { dispatcher.Select([encode] { return AddressEncode(*encode); }); });
}

}  // namespace kinko::cli
