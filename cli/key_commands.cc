// kinko key derive | new: BIP32 extended keys.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <memory>
#include <string>

#include "btc/address.h"
#include "btc/bip32.h"
#include "cli/command.h"
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

// The description of `key`: xprv (private keys only), xpub, its own fingerprint, its parent's,
// depth, child number and compressed public key.
Json DescribeKey(const btc::ExtendedKey& key) {
  Json out = Json::object();
  if (key.IsPrivate()) out["xprv"] = key.ToString();
  out["xpub"] = key.Neuter().ToString();
  out["fingerprint"] = util::HexEncode(key.Fingerprint());
  out["parent_fingerprint"] = util::HexEncode(key.parent_fingerprint());
  out["depth"] = key.depth();
  out["child_number"] = key.child_number();
  out["pubkey"] = util::HexEncode(key.public_key().SerializeCompressed());
  return out;
}

struct DeriveOptions {
  std::string xkey;
  std::string path;
};

util::Result<CommandOutput> KeyDerive(const DeriveOptions& options) {
  crypto::SystemRng rng;
  const crypto::Secp256k1Context ctx = crypto::Secp256k1Context::Create(rng);
  util::Result<btc::ExtendedKey> key = btc::ExtendedKey::Parse(ctx, options.xkey);
  if (!key.ok()) return key.status().WithPrefix("XKEY");
  util::Result<btc::KeyPath> path = btc::KeyPath::Parse(options.path);
  if (!path.ok()) return path.status().WithPrefix("PATH");
  util::Result<btc::ExtendedKey> child = key->DerivePath(ctx, *path);
  if (!child.ok()) return child.status().WithPrefix("PATH");
  Json out = DescribeKey(*child);
  out["path"] = path->ToString();
  return CommandOutput{.json = std::move(out)};
}

struct NewOptions {
  std::string network = "main";
};

util::Result<CommandOutput> KeyNew(const NewOptions& options) {
  util::Result<btc::Network> network = ParseNetworkOption(options.network);
  if (!network.ok()) return network.status();
  crypto::SystemRng rng;
  const crypto::Secp256k1Context ctx = crypto::Secp256k1Context::Create(rng);
  std::array<uint8_t, 32> seed;
  rng.Fill(seed);
  util::Result<btc::ExtendedKey> key = btc::ExtendedKey::FromSeed(ctx, seed, *network);
  // The seed is not needed again: the key (printed below) is derived from it.
  std::fill(seed.begin(), seed.end(), uint8_t{0});
  if (!key.ok()) return key.status();
  Json out = DescribeKey(*key);
  out["network"] = std::string(btc::NetworkName(*network));
  return CommandOutput{.json = std::move(out)};
}

}  // namespace

void RegisterKeyCommands(CLI::App& app, Dispatcher& dispatcher) {
  CLI::App* group = app.add_subcommand("key", "BIP32 key tools");
  group->require_subcommand(1);

  auto derive = std::make_shared<DeriveOptions>();
  CLI::App* derive_cmd =
      group->add_subcommand("derive",
                            "Derive a child of an extended key (BIP32): {xprv, xpub, fingerprint, "
                            "parent_fingerprint, depth, child_number, pubkey, path}");
  derive_cmd->add_option("XKEY", derive->xkey, "An xprv or xpub (or tprv/tpub)")->required();
  derive_cmd
      ->add_option("PATH", derive->path,
                   "A path such as m/84h/0h/0h/0/5 (h or ' marks hardened steps); m for the key "
                   "itself")
      ->required();
  derive_cmd->callback(
      [&dispatcher, derive] { dispatcher.Select([derive] { return KeyDerive(*derive); }); });

  auto make = std::make_shared<NewOptions>();
  CLI::App* new_cmd = group->add_subcommand(
      "new",
      "Generate a master key from 32 random bytes (BIP32 seed). WARNING: prints the private "
      "key");
  new_cmd->add_option("--network", make->network, "main, test, signet or regtest")
      ->capture_default_str();
  new_cmd->callback([&dispatcher, make] { dispatcher.Select([make] { return KeyNew(*make); }); });
}

}  // namespace kinko::cli
