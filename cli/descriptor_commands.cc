// kinko descriptor info | derive: output descriptors like Bitcoin Core's getdescriptorinfo and
// deriveaddresses.
#include <CLI/CLI.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "btc/address.h"
#include "btc/descriptor.h"
#include "btc/standard.h"
#include "cli/command.h"
#include "crypto/rng.h"
#include "crypto/secp256k1.h"

namespace kinko::cli {
namespace {

// Bitcoin Core's deriveaddresses limit on the number of indexes of one call.
constexpr uint64_t kMaxRangeSize = 1000000;

util::Result<btc::Network> ParseNetworkOption(const std::string& name) {
  util::Result<btc::Network> network = btc::ParseNetwork(name);
  if (!network.ok()) return network.status().WithPrefix("--network");
  return network;
}

struct InfoOptions {
  std::string descriptor;
  std::string network = "main";
};

// getdescriptorinfo: {descriptor, [multipath_expansion], checksum, isrange, issolvable,
// hasprivatekeys}. As in Core, "descriptor" is the first single-path descriptor of a multipath
// one, "multipath_expansion" lists them all, and "checksum" is the checksum of the text given
// (without its own "#..." part).
util::Result<CommandOutput> DescriptorInfo(const InfoOptions& options) {
  util::Result<btc::Network> network = ParseNetworkOption(options.network);
  if (!network.ok()) return network.status();
  crypto::SystemRng rng;
  const crypto::Secp256k1Context ctx = crypto::Secp256k1Context::Create(rng);
  util::Result<btc::Descriptor> desc = btc::Descriptor::Parse(ctx, options.descriptor, *network);
  if (!desc.ok()) return desc.status().WithPrefix("DESCRIPTOR");
  const std::vector<btc::Descriptor> parts = desc->SplitMultipath();
  Json out = Json::object();
  out["descriptor"] = parts[0].ToString();
  if (parts.size() > 1) {
    Json expansion = Json::array();
    for (const btc::Descriptor& part : parts) expansion.push_back(part.ToString());
    out["multipath_expansion"] = std::move(expansion);
  }
  const std::string_view text = options.descriptor;
  out["checksum"] = btc::DescriptorChecksum(text.substr(0, text.find('#')));
  out["isrange"] = desc->IsRange();
  out["issolvable"] = desc->IsSolvable();
  out["hasprivatekeys"] = desc->HasPrivateKeys();
  return CommandOutput{.json = std::move(out)};
}

struct DeriveOptions {
  std::string descriptor;
  std::string range;
  std::optional<std::string> index;
  std::string network = "main";
};

// "A,B" (inclusive) or "B" (meaning 0,B), as Core's deriveaddresses "range" [A,B] or B.
util::Result<std::pair<uint32_t, uint32_t>> ParseRange(const std::string& text) {
  const size_t comma = text.find(',');
  uint64_t begin = 0;
  uint64_t end = 0;
  if (comma == std::string::npos) {
    util::Result<uint64_t> b = ParseUnsignedArgument("--range", text, btc::kHardened - 1);
    if (!b.ok()) return b.status();
    end = *b;
  } else {
    util::Result<uint64_t> a =
        ParseUnsignedArgument("--range", text.substr(0, comma), btc::kHardened - 1);
    if (!a.ok()) return a.status();
    util::Result<uint64_t> b =
        ParseUnsignedArgument("--range", text.substr(comma + 1), btc::kHardened - 1);
    if (!b.ok()) return b.status();
    begin = *a;
    end = *b;
  }
  if (begin > end) return util::InvalidArgumentError("--range: end is before begin");
  if (end - begin >= kMaxRangeSize) return util::InvalidArgumentError("--range: too large");
  return std::make_pair(static_cast<uint32_t>(begin), static_cast<uint32_t>(end));
}

// The addresses of `desc` (single path) at indexes begin..end. As Core: combo()'s P2PK script
// has no address and is left out; any other script without an address is an error.
util::Result<Json> DeriveAddresses(const crypto::Secp256k1Context& ctx, const btc::Descriptor& desc,
                                   uint32_t begin, uint32_t end, btc::Network network) {
  Json out = Json::array();
  for (uint64_t i = begin; i <= end; ++i) {
    util::Result<std::vector<btc::Script>> scripts =
        desc.ExpandScripts(ctx, static_cast<uint32_t>(i));
    if (!scripts.ok()) return scripts.status().WithPrefix("DESCRIPTOR");
    for (const btc::Script& script : *scripts) {
      util::Result<std::string> address = btc::EncodeAddress(script, network);
      if (!address.ok()) {
        if (scripts->size() > 1 && btc::Classify(script).kind == btc::ScriptKind::kP2pk) continue;
        return util::InvalidArgumentError(
            "DESCRIPTOR: descriptor does not have a corresponding address");
      }
      out.push_back(*address);
    }
  }
  return out;
}

// deriveaddresses: the addresses, or for a multipath descriptor one list per path.
util::Result<CommandOutput> DescriptorDerive(const DeriveOptions& options) {
  util::Result<btc::Network> network = ParseNetworkOption(options.network);
  if (!network.ok()) return network.status();
  // As Core's deriveaddresses, the checksum is required: a typo must not give other addresses.
  if (options.descriptor.find('#') == std::string::npos) {
    return util::InvalidArgumentError(
        "DESCRIPTOR: missing checksum (kinko descriptor info prints the descriptor with it)");
  }
  crypto::SystemRng rng;
  const crypto::Secp256k1Context ctx = crypto::Secp256k1Context::Create(rng);
  util::Result<btc::Descriptor> desc = btc::Descriptor::Parse(ctx, options.descriptor, *network);
  if (!desc.ok()) return desc.status().WithPrefix("DESCRIPTOR");
  uint32_t begin = 0;
  uint32_t end = 0;
  const bool has_range = !options.range.empty() || options.index.has_value();
  if (!options.range.empty() && options.index.has_value()) {
    return util::InvalidArgumentError("--range and --index: give one of them");
  }
  if (desc->IsRange() && !has_range) {
    return util::InvalidArgumentError("--range or --index must be given for a ranged descriptor");
  }
  if (!desc->IsRange() && has_range) {
    return util::InvalidArgumentError(
        "--range and --index must not be given for an un-ranged descriptor");
  }
  if (options.index.has_value()) {
    util::Result<uint64_t> i = ParseUnsignedArgument("--index", *options.index, btc::kHardened - 1);
    if (!i.ok()) return i.status();
    begin = end = static_cast<uint32_t>(*i);
  } else if (!options.range.empty()) {
    util::Result<std::pair<uint32_t, uint32_t>> range = ParseRange(options.range);
    if (!range.ok()) return range.status();
    begin = range->first;
    end = range->second;
  }
  const std::vector<btc::Descriptor> parts = desc->SplitMultipath();
  if (parts.size() == 1) {
    util::Result<Json> addresses = DeriveAddresses(ctx, parts[0], begin, end, *network);
    if (!addresses.ok()) return addresses.status();
    return CommandOutput{.json = std::move(*addresses)};
  }
  Json out = Json::array();
  for (const btc::Descriptor& part : parts) {
    util::Result<Json> addresses = DeriveAddresses(ctx, part, begin, end, *network);
    if (!addresses.ok()) return addresses.status();
    out.push_back(std::move(*addresses));
  }
  return CommandOutput{.json = std::move(out)};
}

}  // namespace

void RegisterDescriptorCommands(CLI::App& app, Dispatcher& dispatcher) {
  CLI::App* group = app.add_subcommand("descriptor", "Output descriptors (BIP380-386, BIP389)");
  group->require_subcommand(1);

  auto info = std::make_shared<InfoOptions>();
  CLI::App* info_cmd = group->add_subcommand(
      "info",
      "Check a descriptor and print it with its checksum, like Bitcoin Core's "
      "getdescriptorinfo: {descriptor, [multipath_expansion], checksum, isrange, issolvable, "
      "hasprivatekeys}");
  info_cmd->add_option("DESCRIPTOR", info->descriptor, "The descriptor (checksum optional)")
      ->required();
  info_cmd->add_option("--network", info->network, "main, test, signet or regtest")
      ->capture_default_str();
  info_cmd->callback(
      [&dispatcher, info] { dispatcher.Select([info] { return DescriptorInfo(*info); }); });

  auto derive = std::make_shared<DeriveOptions>();
  CLI::App* derive_cmd = group->add_subcommand(
      "derive",
      "Derive addresses, like Bitcoin Core's deriveaddresses: a list of addresses, or one list "
      "per path of a multipath descriptor");
  derive_cmd->add_option("DESCRIPTOR", derive->descriptor, "The descriptor with its #checksum")
      ->required();
  derive_cmd->add_option("--range", derive->range,
                         "Indexes A,B (inclusive) or B (meaning 0,B); ranged descriptors only");
  derive_cmd->add_option("--index", derive->index, "One index; ranged descriptors only");
  derive_cmd->add_option("--network", derive->network, "main, test, signet or regtest")
      ->capture_default_str();
  derive_cmd->callback(
      [&dispatcher, derive] { dispatcher.Select([derive] { return DescriptorDerive(*derive); }); });
}

}  // namespace kinko::cli
