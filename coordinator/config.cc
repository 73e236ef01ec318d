#include "coordinator/config.h"

#include <toml++/toml.h>

#include <algorithm>
#include <exception>
#include <fstream>
#include <initializer_list>
#include <map>
#include <set>
#include <sstream>
#include <utility>

#include "policy/intent.h"
#include "policy/policy.h"
#include "util/hex.h"

namespace kinko::coordinator {
namespace {

// DO NOT CHANGE: operators and tests match on it ("config:12: wallet[0].threshold: ...").
constexpr std::string_view kSource = "config";

uint32_t LineOf(const toml::node& node) { return node.source().begin.line; }

std::string Join(std::string_view path, std::string_view key) {
  return path.empty() ? std::string(key) : std::string(path) + "." + std::string(key);
}

util::Status Error(uint32_t line, std::string_view path, std::string_view problem) {
  // The path and problem may quote the file: escape what a terminal would interpret.
  return util::InvalidArgumentError(std::string(kSource) + ":" + std::to_string(line) + ": " +
                                    policy::EscapeForMessage(path) + ": " +
                                    policy::EscapeForMessage(problem));
}

util::Status Error(const toml::node& node, std::string_view path, std::string_view problem) {
  return Error(LineOf(node), path, problem);
}

// Fails naming the first key of `table` that is not in `known`.
util::Status CheckKeys(const toml::table& table, std::string_view path,
                       std::initializer_list<std::string_view> known) {
  for (const auto& [key, value] : table) {
    if (std::find(known.begin(), known.end(), key.str()) == known.end()) {
      return Error(key.source().begin.line, Join(path, key.str()), "unknown key");
    }
  }
  return util::OkStatus();
}

util::Result<std::string> String(const toml::node& node, std::string_view path) {
  const toml::value<std::string>* value = node.as_string();
  if (value == nullptr) return Error(node, path, "must be a string");
  return value->get();
}

// An integer in [min, max].
util::Result<uint64_t> Integer(const toml::node& node, std::string_view path, uint64_t min,
                               uint64_t max) {
  const toml::value<int64_t>* value = node.as_integer();
  if (value == nullptr) return Error(node, path, "must be an integer");
  const int64_t n = value->get();
  if (n < 0 || static_cast<uint64_t>(n) < min || static_cast<uint64_t>(n) > max) {
    return Error(node, path,
                 "must be between " + std::to_string(min) + " and " + std::to_string(max));
  }
  return static_cast<uint64_t>(n);
}

util::Result<bool> Boolean(const toml::node& node, std::string_view path) {
  const toml::value<bool>* value = node.as_boolean();
  if (value == nullptr) return Error(node, path, "must be true or false");
  return value->get();
}

// A relative path is taken from the configuration file's directory.
std::string Resolve(std::string_view base_dir, const std::string& path) {
  if (path.empty() || path.front() == '/' || base_dir.empty()) return path;
  std::string out(base_dir);
  if (out.back() != '/') out += '/';
  return out + path;
}

bool IsDigits(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// "host:port" or "[v6]:port" with a port of 0..65535 (0: any free port).
bool IsValidListen(std::string_view listen) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  const std::string_view host = listen.substr(0, colon);
  const std::string_view port = listen.substr(colon + 1);
  if (!IsDigits(port) || port.size() > 5) return false;
  uint32_t number = 0;
  for (char c : port) number = number * 10 + static_cast<uint32_t>(c - '0');
  if (number > 65535) return false;
  if (host.front() == '[') return host.size() > 2 && host.back() == ']';
  return std::all_of(host.begin(), host.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '-';
  });
}

// "http://host:port" or "https://host:port", as net::HttpClient takes it.
bool IsValidUrl(std::string_view url) {
  std::string_view rest;
  if (url.starts_with("http://")) {
    rest = url.substr(7);
  } else if (url.starts_with("https://")) {
    rest = url.substr(8);
  } else {
    return false;
  }
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  return IsValidListen(rest);
}

// The parsed document into a Config. Every error names the line and the key path.
class Reader final {
 public:
  explicit Reader(std::string_view base_dir) : base_dir_(base_dir) {}

  util::Result<Config> Read(const toml::table& root);

 private:
  util::Result<std::vector<crypto::Ed25519PublicKey>> PublicKeys(const toml::node& node,
                                                                 std::string_view path) const;
  util::Status ReadStorage(const toml::node& node, StorageSettings& storage) const;
  util::Status ReadChain(const toml::node& node, ChainSettings& chain) const;
  util::Result<WalletSettings> ReadWallet(const toml::node& node, std::string_view path) const;
  util::Result<SignerEndpoint> ReadSigner(const toml::node& node, std::string_view path) const;

  std::string base_dir_;
};

util::Result<std::vector<crypto::Ed25519PublicKey>> Reader::PublicKeys(
    const toml::node& node, std::string_view path) const {
  const toml::array* array = node.as_array();
  if (array == nullptr) return Error(node, path, "must be an array of public keys");
  std::vector<crypto::Ed25519PublicKey> keys;
  for (size_t i = 0; i < array->size(); ++i) {
    const toml::node& item = *array->get(i);
    const std::string item_path = std::string(path) + "[" + std::to_string(i) + "]";
    util::Result<std::string> hex = String(item, item_path);
    if (!hex.ok()) return hex.status();
    util::Result<std::vector<uint8_t>> bytes =
        util::HexDecodeExact(*hex, crypto::kEd25519PublicKeySize);
    if (!bytes.ok()) return Error(item, item_path, "expected 64 hex characters");
    crypto::Ed25519PublicKey key{};
    std::copy(bytes->begin(), bytes->end(), key.begin());
    if (!crypto::IsValidEd25519PublicKey(key)) {
      return Error(item, item_path, "not a valid Ed25519 public key");
    }
    if (std::find(keys.begin(), keys.end(), key) != keys.end()) {
      return Error(item, item_path, "listed twice");
    }
    keys.push_back(key);
  }
  return keys;
}

util::Status Reader::ReadStorage(const toml::node& node, StorageSettings& storage) const {
  const toml::table* table = node.as_table();
  if (table == nullptr) return Error(node, "storage", "must be a table");
  if (util::Status s = CheckKeys(*table, "storage", {"backend", "path", "url"}); !s.ok()) return s;
  if (const toml::node* backend = table->get("backend"); backend != nullptr) {
    util::Result<std::string> name = String(*backend, "storage.backend");
    if (!name.ok()) return name.status();
    if (*name != "sqlite" && *name != "postgres") {
      return Error(*backend, "storage.backend", "must be \"sqlite\" or \"postgres\"");
    }
    storage.backend = *name;
  }
  const std::string_view needed = storage.backend == "sqlite" ? "path" : "url";
  const std::string_view unused = storage.backend == "sqlite" ? "url" : "path";
  if (const toml::node* other = table->get(unused); other != nullptr) {
    return Error(*other, Join("storage", unused), "not used by backend " + storage.backend);
  }
  const toml::node* value = table->get(needed);
  if (value == nullptr) {
    return Error(*table, Join("storage", needed), "missing (backend " + storage.backend + ")");
  }
  util::Result<std::string> text = String(*value, Join("storage", needed));
  if (!text.ok()) return text.status();
  if (text->empty()) return Error(*value, Join("storage", needed), "must not be empty");
  if (storage.backend == "sqlite") {
    storage.path = Resolve(base_dir_, *text);
  } else {
    storage.url = *text;
  }
  return util::OkStatus();
}

util::Status Reader::ReadChain(const toml::node& node, ChainSettings& chain) const {
  const toml::table* table = node.as_table();
  if (table == nullptr) return Error(node, "chain", "must be a table");
  if (util::Status s = CheckKeys(
          *table, "chain",
          {"backend", "export_dir", "rpc_url", "rpc_cookie_file", "rpc_user", "rpc_password_file"});
      !s.ok()) {
    return s;
  }
  if (const toml::node* backend = table->get("backend"); backend != nullptr) {
    util::Result<std::string> name = String(*backend, "chain.backend");
    if (!name.ok()) return name.status();
    if (*name != "offline" && *name != "bitcoin-core") {
      return Error(*backend, "chain.backend", "must be \"offline\" or \"bitcoin-core\"");
    }
    chain.backend = *name;
  }
  // Every key of the table, read as a string (each is one).
  std::map<std::string, std::pair<std::string, const toml::node*>> values;
  for (const auto& [key, value] : *table) {
    util::Result<std::string> text = String(value, Join("chain", key.str()));
    if (!text.ok()) return text.status();
    if (text->empty()) return Error(value, Join("chain", key.str()), "must not be empty");
    values[std::string(key.str())] = {*text, &value};
  }
  const auto used_by = [&](std::initializer_list<std::string_view> keys) -> util::Status {
    for (const auto& [key, value] : values) {
      if (key == "backend") continue;
      if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
        return Error(*value.second, Join("chain", key), "not used by backend " + chain.backend);
      }
    }
    return util::OkStatus();
  };
  if (chain.backend == "offline") {
    if (util::Status s = used_by({"export_dir"}); !s.ok()) return s;
    if (values.count("export_dir") == 0) {
      return Error(*table, "chain.export_dir", "missing (backend offline)");
    }
    chain.export_dir = Resolve(base_dir_, values["export_dir"].first);
    return util::OkStatus();
  }
  if (util::Status s = used_by({"rpc_url", "rpc_cookie_file", "rpc_user", "rpc_password_file"});
      !s.ok()) {
    return s;
  }
  if (values.count("rpc_url") == 0) {
    return Error(*table, "chain.rpc_url", "missing (backend bitcoin-core)");
  }
  if (!IsValidUrl(values["rpc_url"].first)) {
    return Error(*values["rpc_url"].second, "chain.rpc_url",
                 "expected http://host:port or https://host:port");
  }
  chain.rpc_url = values["rpc_url"].first;
  const bool cookie = values.count("rpc_cookie_file") != 0;
  const bool user = values.count("rpc_user") != 0;
  const bool password = values.count("rpc_password_file") != 0;
  if (cookie && (user || password)) {
    return Error(*values["rpc_cookie_file"].second, "chain.rpc_cookie_file",
                 "give either rpc_cookie_file or rpc_user and rpc_password_file");
  }
  if (user != password) {
    return Error(*table, user ? "chain.rpc_password_file" : "chain.rpc_user",
                 "rpc_user and rpc_password_file go together");
  }
  if (!cookie && !user) {
    return Error(*table, "chain.rpc_cookie_file", "missing (or rpc_user and rpc_password_file)");
  }
  if (cookie) chain.rpc_cookie_file = Resolve(base_dir_, values["rpc_cookie_file"].first);
  if (user) {
    chain.rpc_user = values["rpc_user"].first;
    chain.rpc_password_file = Resolve(base_dir_, values["rpc_password_file"].first);
  }
  return util::OkStatus();
}

util::Result<SignerEndpoint> Reader::ReadSigner(const toml::node& node,
                                                std::string_view path) const {
  const toml::table* table = node.as_table();
  if (table == nullptr) return Error(node, path, "must be a table");
  if (util::Status s = CheckKeys(*table, path, {"url", "id", "ca_cert"}); !s.ok()) return s;
  SignerEndpoint signer;
  const toml::node* url = table->get("url");
  if (url == nullptr) return Error(*table, Join(path, "url"), "missing");
  util::Result<std::string> url_text = String(*url, Join(path, "url"));
  if (!url_text.ok()) return url_text.status();
  if (!IsValidUrl(*url_text)) {
    return Error(*url, Join(path, "url"), "expected http://host:port or https://host:port");
  }
  signer.url = *url_text;
  const toml::node* id = table->get("id");
  if (id == nullptr) return Error(*table, Join(path, "id"), "missing");
  util::Result<std::string> id_text = String(*id, Join(path, "id"));
  if (!id_text.ok()) return id_text.status();
  util::Result<std::vector<uint8_t>> id_bytes = util::HexDecodeExact(*id_text, signer.id.size());
  if (!id_bytes.ok()) return Error(*id, Join(path, "id"), "expected 64 hex characters (a key id)");
  std::copy(id_bytes->begin(), id_bytes->end(), signer.id.begin());
  if (const toml::node* ca = table->get("ca_cert"); ca != nullptr) {
    util::Result<std::string> ca_text = String(*ca, Join(path, "ca_cert"));
    if (!ca_text.ok()) return ca_text.status();
    if (!ca_text->empty() && !signer.url.starts_with("https://")) {
      return Error(*ca, Join(path, "ca_cert"), "only used with an https:// url");
    }
    signer.ca_cert = Resolve(base_dir_, *ca_text);
  }
  return signer;
}

util::Result<WalletSettings> Reader::ReadWallet(const toml::node& node,
                                                std::string_view path) const {
  const toml::table* table = node.as_table();
  if (table == nullptr) return Error(node, path, "must be a table");
  if (util::Status s = CheckKeys(
          *table, path,
          {"id", "network", "descriptor", "policy_file", "threshold", "signer", "batching",
           "max_inputs", "fee_rate_floor", "fee_rate_ceiling", "fee_rate_fallback",
           "confirmation_target", "min_confirmations", "change_index_max"});
      !s.ok()) {
    return s;
  }
  WalletSettings wallet;
  const auto required_string = [&](std::string_view key) -> util::Result<std::string> {
    const toml::node* value = table->get(key);
    if (value == nullptr) return Error(*table, Join(path, key), "missing");
    util::Result<std::string> text = String(*value, Join(path, key));
    if (!text.ok()) return text.status();
    if (text->empty()) return Error(*value, Join(path, key), "must not be empty");
    return text;
  };
  util::Result<std::string> id = required_string("id");
  if (!id.ok()) return id.status();
  if (!policy::IsValidWalletId(*id)) {
    return Error(*table->get("id"), Join(path, "id"),
                 "'" + *id + "': must be 1..64 characters of [A-Za-z0-9._:-]");
  }
  wallet.id = *id;
  util::Result<std::string> network = required_string("network");
  if (!network.ok()) return network.status();
  util::Result<btc::Network> parsed_network = btc::ParseNetwork(*network);
  if (!parsed_network.ok()) {
    return Error(*table->get("network"), Join(path, "network"), parsed_network.status().message());
  }
  wallet.network = *parsed_network;
  util::Result<std::string> descriptor = required_string("descriptor");
  if (!descriptor.ok()) return descriptor.status();
  wallet.descriptor = *descriptor;
  util::Result<std::string> policy_file = required_string("policy_file");
  if (!policy_file.ok()) return policy_file.status();
  wallet.policy_file = Resolve(base_dir_, *policy_file);

  const toml::node* signers = table->get("signer");
  if (signers == nullptr) return Error(*table, Join(path, "signer"), "missing");
  const toml::array* signer_array = signers->as_array();
  if (signer_array == nullptr || signer_array->empty()) {
    return Error(*signers, Join(path, "signer"), "must be one or more [[wallet.signer]] tables");
  }
  for (size_t i = 0; i < signer_array->size(); ++i) {
    const std::string signer_path = Join(path, "signer[" + std::to_string(i) + "]");
    util::Result<SignerEndpoint> signer = ReadSigner(*signer_array->get(i), signer_path);
    if (!signer.ok()) return signer.status();
    for (const SignerEndpoint& seen : wallet.signers) {
      if (seen.id == signer->id) {
        return Error(*signer_array->get(i), Join(signer_path, "id"), "signer listed twice");
      }
    }
    wallet.signers.push_back(std::move(*signer));
  }

  const toml::node* threshold = table->get("threshold");
  if (threshold == nullptr) return Error(*table, Join(path, "threshold"), "missing");
  util::Result<uint64_t> threshold_value =
      Integer(*threshold, Join(path, "threshold"), 1, wallet.signers.size());
  if (!threshold_value.ok()) return threshold_value.status();
  wallet.threshold = static_cast<uint32_t>(*threshold_value);

  if (const toml::node* batching = table->get("batching"); batching != nullptr) {
    util::Result<bool> value = Boolean(*batching, Join(path, "batching"));
    if (!value.ok()) return value.status();
    wallet.batching = *value;
  }
  // Optional integers: key, where it goes, bounds.
  struct Bounded {
    std::string_view key;
    uint64_t min;
    uint64_t max;
  };
  const auto read_optional = [&](const Bounded& b) -> util::Result<std::optional<uint64_t>> {
    const toml::node* value = table->get(b.key);
    if (value == nullptr) return std::optional<uint64_t>();
    util::Result<uint64_t> n = Integer(*value, Join(path, b.key), b.min, b.max);
    if (!n.ok()) return n.status();
    return std::optional<uint64_t>(*n);
  };
  // 21 million BTC per kvB is the largest fee rate that means anything.
  constexpr uint64_t kMaxFeeRate = 2'100'000'000'000'000;
  const std::pair<Bounded, uint64_t*> fee_fields[] = {
      {{"fee_rate_floor", 1, kMaxFeeRate}, &wallet.fee_rate_floor},
      {{"fee_rate_ceiling", 1, kMaxFeeRate}, &wallet.fee_rate_ceiling},
      {{"fee_rate_fallback", 1, kMaxFeeRate}, &wallet.fee_rate_fallback},
  };
  for (const auto& [bounds, target] : fee_fields) {
    util::Result<std::optional<uint64_t>> value = read_optional(bounds);
    if (!value.ok()) return value.status();
    if (value->has_value()) *target = **value;
  }
  const std::pair<Bounded, uint32_t*> count_fields[] = {
      {{"max_inputs", 1, 10000}, &wallet.max_inputs},
      {{"confirmation_target", 1, 1008}, &wallet.confirmation_target},
      {{"min_confirmations", 0, 1000000}, &wallet.min_confirmations},
      // BIP 32: non-hardened indexes are below 2^31.
      {{"change_index_max", 1, 0x7fffffff}, &wallet.change_index_max},
  };
  for (const auto& [bounds, target] : count_fields) {
    util::Result<std::optional<uint64_t>> value = read_optional(bounds);
    if (!value.ok()) return value.status();
    if (value->has_value()) *target = static_cast<uint32_t>(**value);
  }
  if (wallet.fee_rate_floor > wallet.fee_rate_ceiling) {
    return Error(*table, Join(path, "fee_rate_floor"),
                 "must not be above fee_rate_ceiling (" + std::to_string(wallet.fee_rate_floor) +
                     " > " + std::to_string(wallet.fee_rate_ceiling) + ")");
  }
  if (wallet.fee_rate_fallback < wallet.fee_rate_floor ||
      wallet.fee_rate_fallback > wallet.fee_rate_ceiling) {
    return Error(*table, Join(path, "fee_rate_fallback"),
                 "must be between fee_rate_floor and fee_rate_ceiling");
  }
  return wallet;
}

util::Result<Config> Reader::Read(const toml::table& root) {
  if (util::Status s = CheckKeys(root, "",
                                 {"listen", "instance", "tls_certificate", "tls_private_key",
                                  "clients", "operators", "storage", "chain", "wallet"});
      !s.ok()) {
    return s;
  }
  Config config;
  if (const toml::node* listen = root.get("listen"); listen != nullptr) {
    util::Result<std::string> text = String(*listen, "listen");
    if (!text.ok()) return text.status();
    if (!IsValidListen(*text)) {
      return Error(*listen, "listen", "expected host:port (port 0..65535)");
    }
    config.listen = *text;
  }
  if (const toml::node* instance = root.get("instance"); instance != nullptr) {
    util::Result<std::string> text = String(*instance, "instance");
    if (!text.ok()) return text.status();
    if (!policy::IsValidName(*text)) {
      return Error(*instance, "instance", "must be 1..64 characters of [A-Za-z0-9._ -]");
    }
    config.instance = *text;
  }
  for (const auto& [key, target] :
       {std::pair<std::string_view, std::string*>{"tls_certificate", &config.tls_certificate},
        {"tls_private_key", &config.tls_private_key}}) {
    if (const toml::node* value = root.get(key); value != nullptr) {
      util::Result<std::string> text = String(*value, key);
      if (!text.ok()) return text.status();
      if (text->empty()) return Error(*value, key, "must not be empty");
      *target = Resolve(base_dir_, *text);
    }
  }
  if (config.tls_certificate.empty() != config.tls_private_key.empty()) {
    return Error(root, config.tls_certificate.empty() ? "tls_certificate" : "tls_private_key",
                 "tls_certificate and tls_private_key go together");
  }
  for (const auto& [key, target] :
       {std::pair<std::string_view, std::vector<crypto::Ed25519PublicKey>*>{"clients",
                                                                            &config.clients},
        {"operators", &config.operators}}) {
    if (const toml::node* value = root.get(key); value != nullptr) {
      util::Result<std::vector<crypto::Ed25519PublicKey>> keys = PublicKeys(*value, key);
      if (!keys.ok()) return keys.status();
      *target = std::move(*keys);
    }
  }
  const toml::node* storage = root.get("storage");
  if (storage == nullptr) return Error(root, "storage", "missing");
  if (util::Status s = ReadStorage(*storage, config.storage); !s.ok()) return s;
  const toml::node* chain = root.get("chain");
  if (chain == nullptr) return Error(root, "chain", "missing");
  if (util::Status s = ReadChain(*chain, config.chain); !s.ok()) return s;

  const toml::node* wallets = root.get("wallet");
  if (wallets == nullptr) return Error(root, "wallet", "missing (one or more [[wallet]] tables)");
  const toml::array* wallet_array = wallets->as_array();
  if (wallet_array == nullptr || wallet_array->empty()) {
    return Error(*wallets, "wallet", "must be one or more [[wallet]] tables");
  }
  std::set<std::string> ids;
  for (size_t i = 0; i < wallet_array->size(); ++i) {
    const std::string path = "wallet[" + std::to_string(i) + "]";
    util::Result<WalletSettings> wallet = ReadWallet(*wallet_array->get(i), path);
    if (!wallet.ok()) return wallet.status();
    if (!ids.insert(wallet->id).second) {
      return Error(*wallet_array->get(i), path + ".id",
                   "wallet '" + wallet->id + "' is listed twice");
    }
    config.wallets.push_back(std::move(*wallet));
  }
  return config;
}

}  // namespace

util::Result<Config> ParseConfig(std::string_view toml_text, std::string_view base_dir) {
  // toml++ reports errors by exception: they stop here.
  toml::table root;
  try {
    root = toml::parse(toml_text, kSource);
  } catch (const toml::parse_error& error) {
    const toml::source_position& at = error.source().begin;
    return util::InvalidArgumentError(std::string(kSource) + ":" + std::to_string(at.line) + ":" +
                                      std::to_string(at.column) + ": " +
                                      policy::EscapeForMessage(error.description()));
  } catch (const std::exception& error) {
    return util::InvalidArgumentError(std::string(kSource) +
                                      ": cannot parse: " + policy::EscapeForMessage(error.what()));
  }
  Reader reader(base_dir);
  return reader.Read(root);
}

util::Result<Config> LoadConfig(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return util::NotFoundError("config file '" + path + "': cannot be opened");
  std::ostringstream text;
  text << file.rdbuf();
  if (file.bad()) return util::UnavailableError("config file '" + path + "': cannot be read");
  const size_t slash = path.rfind('/');
  const std::string base_dir = slash == std::string::npos ? "." : path.substr(0, slash + 1);
  util::Result<Config> config = ParseConfig(text.str(), base_dir);
  if (!config.ok()) return config.status().WithPrefix("config file '" + path + "'");
  return config;
}

}  // namespace kinko::coordinator
