// kinko utxo import: gives kinkod a raw transaction paying one of its wallets, for the offline
// chain backend (deposits seen on another machine, the change of transactions broadcast
// elsewhere). POST /v1/wallets/{wallet}/utxos/import, signed by an operator's identity key
// (coordinator/api_auth.h); kinkod answers with the wallet's coins it found in the transaction.
//
// The transaction is parsed here first, so that a typo is reported before anything is sent.
#include <CLI/CLI.hpp>
#include <memory>
#include <optional>
#include <string>

#include "btc/transaction.h"
#include "cli/command.h"
#include "cli/internal/kinkod_client.h"
#include "cli/secure_io.h"
#include "cli/signed_files.h"
#include "policy/intent.h"
#include "util/hex.h"

namespace kinko::cli {
namespace {

// A raw transaction's hex text in a file: 4 MB of weight as hex, with room for a newline.
constexpr size_t kMaxTransactionFileSize = 8 * 1024 * 1024 + 2;

struct ImportOptions {
  std::string coordinator;
  std::string wallet;
  std::string key;
  std::optional<int> passphrase_fd;
  std::string hex;
  std::string file;
  std::string ca_cert;
};

// The transaction's hex from --hex or --file (surrounding whitespace removed).
util::Result<std::string> TransactionHex(const ImportOptions& options) {
  if (options.hex.empty() == options.file.empty()) {
    return util::InvalidArgumentError("give exactly one of --hex and --file");
  }
  if (!options.hex.empty()) return options.hex;
  util::Result<std::vector<uint8_t>> bytes = ReadSmallFile(options.file, kMaxTransactionFileSize);
  if (!bytes.ok()) return bytes.status();
  std::string text(bytes->begin(), bytes->end());
  const size_t first = text.find_first_not_of(" \t\r\n");
  const size_t last = text.find_last_not_of(" \t\r\n");
  if (first == std::string::npos) return util::InvalidArgumentError(options.file + ": empty");
  return text.substr(first, last - first + 1);
}

util::Result<CommandOutput> UtxoImport(const ImportOptions& options) {
  if (!policy::IsValidWalletId(options.wallet)) {
    return util::InvalidArgumentError("--wallet: must be 1..64 characters of [A-Za-z0-9._:-]");
  }
  util::Result<std::string> hex = TransactionHex(options);
  if (!hex.ok()) return hex.status();
  const std::string what = options.hex.empty() ? options.file : "--hex";
  util::Result<btc::Transaction> tx = btc::Transaction::ParseHex(*hex);
  if (!tx.ok()) return tx.status().WithPrefix(what);
  util::Result<crypto::Ed25519PrivateKey> key = UnlockKey(options.key, options.passphrase_fd);
  if (!key.ok()) return key.status();
  util::Result<internal::KinkodClient> client =
      internal::KinkodClient::Create(options.coordinator, *key, options.ca_cert);
  if (!client.ok()) return client.status().WithPrefix("--coordinator");
  // The hex as kinko serializes it: lowercase, whatever case was given.
  util::Result<Json> answer = client->Post("/v1/wallets/" + options.wallet + "/utxos/import",
                                           Json{{"raw_tx", util::HexEncode(tx->Serialize())}});
  if (!answer.ok()) return answer.status();
  if (!answer->is_object() || !answer->contains("utxos") || !(*answer)["utxos"].is_array()) {
    return util::InvalidArgumentError("kinkod's answer has no utxos list");
  }
  Json out = Json::object();
  out["wallet"] = options.wallet;
  out["txid"] = btc::TxidToHex(tx->ComputeTxid());
  out["utxos"] = (*answer)["utxos"];
  return CommandOutput{.json = std::move(out)};
}

}  // namespace

void RegisterUtxoCommands(CLI::App& app, Dispatcher& dispatcher) {
  CLI::App* group = app.add_subcommand("utxo", "A wallet's coins as kinkod sees them");
  group->require_subcommand(1);

  auto import = std::make_shared<ImportOptions>();
  CLI::App* import_cmd = group->add_subcommand(
      "import",
      "Give kinkod a raw transaction paying one of its wallets (offline chain backend), signed "
      "with an operator's key: {wallet, txid, utxos: [the wallet's coins found in it]}");
  import_cmd->add_option("--coordinator", import->coordinator, "kinkod's URL: http(s)://HOST:PORT")
      ->required();
  import_cmd->add_option("--wallet", import->wallet, "The wallet id")->required();
  import_cmd->add_option("--key", import->key, "The operator's identity key file")->required();
  import_cmd->add_option("--passphrase-fd", import->passphrase_fd,
                         "Read the key's passphrase from this file descriptor (default: prompt "
                         "on the terminal)");
  import_cmd->add_option("--hex", import->hex, "The raw transaction in hex");
  import_cmd->add_option("--file", import->file, "A file holding the raw transaction in hex");
  import_cmd->add_option("--ca-cert", import->ca_cert,
                         "For an https:// coordinator: a PEM file of trusted CAs (default: the "
                         "system's)");
  import_cmd->callback(
      [&dispatcher, import] { dispatcher.Select([import] { return UtxoImport(*import); }); });
}

}  // namespace kinko::cli
