// kinko key new --ed25519 | key show: identity keys (Ed25519) of requesters, approvers, admins
// and services, kept in encrypted key files (crypto/keyfile.h, doc/identities.md).
#include <CLI/CLI.hpp>
#include <memory>
#include <optional>
#include <string>

#include "cli/command.h"
#include "cli/secure_io.h"
#include "crypto/ed25519.h"
#include "crypto/keyfile.h"
#include "crypto/rng.h"
#include "policy/identity.h"
#include "util/hex.h"

namespace kinko::cli {
namespace {

constexpr size_t kMaxKeyFileSize = 4096;

Json DescribeIdentity(const crypto::KeyFile& file) {
  const policy::KeyId id = policy::Ed25519KeyId(file.public_key());
  Json out = Json::object();
  out["label"] = file.label();
  out["scheme"] = "ed25519";
  out["key_id"] = util::HexEncode(id);
  out["key_id_grouped"] = policy::GroupedHex(id);
  out["public_key"] = util::HexEncode(file.public_key());
  Json kdf = Json::object();
  kdf["algorithm"] = "argon2id";
  kdf["passes"] = file.kdf_params().passes;
  kdf["memory_kib"] = file.kdf_params().memory_kib;
  out["kdf"] = std::move(kdf);
  return out;
}

struct NewOptions {
  bool ed25519 = false;
  std::string label;
  std::string out;
  std::optional<int> passphrase_fd;
};

util::Result<CommandOutput> IdentityNew(const NewOptions& options) {
  if (!crypto::IsValidKeyLabel(options.label)) {
    return util::InvalidArgumentError("--label: must be 1..64 characters of [A-Za-z0-9._@-]");
  }
  const std::string path = options.out.empty() ? options.label + ".key" : options.out;
  util::Result<crypto::SecretBytes> passphrase = ReadPassphrase(
      options.passphrase_fd, "Passphrase for the new key " + options.label, /*confirm=*/true);
  if (!passphrase.ok()) return passphrase.status();
  crypto::SystemRng rng;
  const crypto::Ed25519PrivateKey key = crypto::Ed25519PrivateKey::Generate(rng);
  util::Result<crypto::KeyFile> file =
      crypto::KeyFile::Encrypt(key, options.label, *passphrase, crypto::KdfParams{}, rng);
  if (!file.ok()) return file.status();
  if (util::Status written = WriteNewFile(path, file->Serialize(), 0600); !written.ok()) {
    return written;
  }
  Json out = DescribeIdentity(*file);
  out["file"] = path;
  return CommandOutput{.json = std::move(out)};
}

util::Result<CommandOutput> IdentityShow(const std::string& path) {
  util::Result<std::vector<uint8_t>> bytes = ReadSmallFile(path, kMaxKeyFileSize);
  if (!bytes.ok()) return bytes.status();
  util::Result<crypto::KeyFile> file = crypto::KeyFile::Parse(*bytes);
  if (!file.ok()) return file.status().WithPrefix(path);
  Json out = DescribeIdentity(*file);
  out["file"] = path;
  return CommandOutput{.json = std::move(out)};
}

}  // namespace

void RegisterIdentityCommands(CLI::App& app, Dispatcher& dispatcher) {
  // `key` and `key new` belong to key_commands.cc (BIP32 keys); --ed25519 turns `key new` into
  // the generation of an identity key.
  CLI::App* group = app.get_subcommand("key");
  CLI::App* new_cmd = group->get_subcommand("new");
  new_cmd->description(
      "Generate a BIP32 master key (prints the private key), or with --ed25519 an identity key "
      "written encrypted to LABEL.key: {file, label, scheme, key_id, key_id_grouped, public_key, "
      "kdf}");
  auto make = std::make_shared<NewOptions>();
  new_cmd->add_flag("--ed25519", make->ed25519, "Generate an Ed25519 identity key");
  new_cmd->add_option("--label", make->label, "Identity key: its label, [A-Za-z0-9._@-]{1,64}");
  new_cmd->add_option("--out", make->out, "Identity key: the file to write (default LABEL.key)");
  new_cmd->add_option("--passphrase-fd", make->passphrase_fd,
                      "Identity key: read the passphrase from this file descriptor (default: "
                      "prompt on the terminal)");
  // CLI11 runs a group's callback after its subcommand's: with --ed25519 the identity action
  // replaces the BIP32 one that `key new` selected. Nothing runs until parsing is over.
  group->callback([&dispatcher, make] {
    if (make->ed25519) {
      dispatcher.Select([make] { return IdentityNew(*make); });
    } else if (!make->label.empty() || !make->out.empty() || make->passphrase_fd) {
      dispatcher.Select([]() -> util::Result<CommandOutput> {
        return util::InvalidArgumentError("--label, --out and --passphrase-fd need --ed25519");
      });
    }
  });

  auto show_path = std::make_shared<std::string>();
  CLI::App* show = group->add_subcommand(
      "show",
      "Show an identity key file without decrypting it: {file, label, scheme, key_id, "
      "key_id_grouped, public_key, kdf}");
  show->add_option("FILE", *show_path, "A key file written by kinko key new --ed25519")->required();
  show->callback([&dispatcher, show_path] {
    dispatcher.Select([show_path] { return IdentityShow(*show_path); });
  });
}

}  // namespace kinko::cli
