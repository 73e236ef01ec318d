#include "signerd/setup.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <string_view>
#include <utility>

#include "auditlog/entry.h"
#include "auditlog/merkle_log.h"
#include "auditlog/tree_head.h"
#include "btc/descriptor.h"
#include "crypto/ed25519.h"
#include "policy/governance.h"
#include "signer/transaction_check.h"
#include "signerd/file_key.h"
#include "signerd/key_backend.h"
#include "signerd/pkcs11_key.h"
#include "signerd/service.h"
#include "signerd/state_store.h"
#include "util/fd_io.h"

namespace kinko::signerd {
namespace {

using Json = nlohmann::json;

// The largest backend.json and identity.key accepted (both are a few hundred bytes).
constexpr size_t kMaxSmallFileSize = 64 * 1024;

std::string Join(const std::string& dir, std::string_view name) {
  return dir + "/" + std::string(name);
}

bool Exists(const std::string& path) {
  struct stat st {};
  return lstat(path.c_str(), &st) == 0;
}

// Creates `path` (never replacing anything: O_EXCL) with mode 0600, writes `bytes` and fsyncs
// it. On failure after creating it, the file is removed.
util::Status WriteNewFile(const std::string& path, std::span<const uint8_t> bytes) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0 && errno == EEXIST) {
    return util::AlreadyExistsError(path + ": already exists (not overwritten)");
  }
  if (fd < 0)
    return util::UnavailableError(path + ": cannot create (" + std::strerror(errno) + ")");
  const auto fail = [&](std::string_view what) {
    close(fd);
    unlink(path.c_str());
    return util::UnavailableError(path + ": " + std::string(what));
  };
  if (fchmod(fd, 0600) != 0) return fail("cannot set permissions");
  if (util::Status synced = util::WriteAllAndSync(fd, bytes); !synced.ok()) {
    return fail(synced.message());
  }
  if (close(fd) != 0) {
    unlink(path.c_str());
    return util::UnavailableError(path + ": close failed");
  }
  return util::OkStatus();
}

// The bytes of the regular file `path`, at most kMaxSmallFileSize. kNotFound when it does not
// exist.
util::Result<std::vector<uint8_t>> ReadSmallFile(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0 && errno == ENOENT) return util::NotFoundError(path + ": does not exist");
  if (fd < 0) return util::UnavailableError(path + ": cannot open (" + std::strerror(errno) + ")");
  std::vector<uint8_t> bytes;
  uint8_t buffer[4096];
  while (true) {
    const ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      close(fd);
      return util::UnavailableError(path + ": read error");
    }
    if (n == 0) break;
    bytes.insert(bytes.end(), buffer, buffer + n);
    if (bytes.size() > kMaxSmallFileSize) {
      close(fd);
      return util::InvalidArgumentError(path + ": larger than " +
                                        std::to_string(kMaxSmallFileSize) + " bytes");
    }
  }
  close(fd);
  return bytes;
}

// Makes `dir` (mode 0700) or takes an existing empty directory. Sets `created` when it made it.
util::Status PrepareEmptyDirectory(const std::string& dir, bool& created) {
  created = false;
  if (dir.empty()) return util::InvalidArgumentError("state directory: empty path");
  if (mkdir(dir.c_str(), 0700) == 0) {
    created = true;
    // The umask may have removed bits; the directory is exactly 0700 whatever it is.
    if (chmod(dir.c_str(), 0700) != 0) return util::UnavailableError(dir + ": cannot set mode");
    return util::OkStatus();
  }
  if (errno != EEXIST) {
    return util::UnavailableError(dir + ": cannot create (" + std::strerror(errno) + ")");
  }
  DIR* handle = opendir(dir.c_str());
  if (handle == nullptr) return util::AlreadyExistsError(dir + ": exists and is not a directory");
  bool empty = true;
  while (const dirent* item = readdir(handle)) {
    const std::string_view name = item->d_name;
    if (name != "." && name != "..") empty = false;
  }
  closedir(handle);
  if (!empty) return util::AlreadyExistsError(dir + ": exists and is not empty");
  if (chmod(dir.c_str(), 0700) != 0) return util::UnavailableError(dir + ": cannot set mode");
  return util::OkStatus();
}

// Removes what Keygen made in `dir` when a later step fails.
class KeygenCleanup final {
 public:
  KeygenCleanup(std::string dir, bool remove_dir) : dir_(std::move(dir)), remove_dir_(remove_dir) {}
  ~KeygenCleanup() {
    if (done_) return;
    for (std::string_view name : {kIdentityKeyFile, kSigningKeyFile, kBackendFile}) {
      unlink(Join(dir_, name).c_str());
    }
    if (remove_dir_) rmdir(dir_.c_str());
  }
  KeygenCleanup(const KeygenCleanup&) = delete;
  KeygenCleanup& operator=(const KeygenCleanup&) = delete;
  void Done() { done_ = true; }

 private:
  std::string dir_;
  bool remove_dir_;
  bool done_ = false;
};

// backend.json: how to open the wallet key, and the network the keys were made for.
struct BackendRecord {
  btc::Network network = btc::Network::kMainnet;
  std::string key_backend;  // "file" or "pkcs11".
  std::string pkcs11_module;
  std::string pkcs11_token_label;
  std::string pkcs11_key_label;
};

std::string EncodeBackendRecord(const BackendRecord& record) {
  nlohmann::ordered_json out;
  out["network"] = std::string(btc::NetworkName(record.network));
  out["key_backend"] = record.key_backend;
  if (record.key_backend == "file") {
    out["key_file"] = std::string(kSigningKeyFile);
  } else {
    out["pkcs11_module"] = record.pkcs11_module;
    out["pkcs11_token_label"] = record.pkcs11_token_label;
    out["pkcs11_key_label"] = record.pkcs11_key_label;
  }
  return out.dump(2, ' ', true) + "\n";
}

util::Result<BackendRecord> DecodeBackendRecord(const std::string& path,
                                                std::span<const uint8_t> bytes) {
  const Json json = Json::parse(bytes.begin(), bytes.end(), nullptr, /*allow_exceptions=*/false);
  const auto bad = [&](const std::string& what) {
    return util::InvalidArgumentError(path + ": " + what);
  };
  if (!json.is_object()) return bad("not a json object");
  const auto text = [&](const char* name) -> util::Result<std::string> {
    const auto it = json.find(name);
    if (it == json.end() || !it->is_string()) {
      return bad(std::string("missing text '") + name + "'");
    }
    return it->get<std::string>();
  };
  BackendRecord record;
  util::Result<std::string> network = text("network");
  if (!network.ok()) return network.status();
  util::Result<btc::Network> parsed = btc::ParseNetwork(*network);
  if (!parsed.ok()) return parsed.status().WithPrefix(path);
  record.network = *parsed;
  util::Result<std::string> backend = text("key_backend");
  if (!backend.ok()) return backend.status();
  record.key_backend = *backend;
  if (record.key_backend == "file") {
    util::Result<std::string> key_file = text("key_file");
    if (!key_file.ok()) return key_file.status();
    if (*key_file != kSigningKeyFile) {
      return bad("key_file must be '" + std::string(kSigningKeyFile) + "'");
    }
  } else if (record.key_backend == "pkcs11") {
    util::Result<std::string> module = text("pkcs11_module");
    if (!module.ok()) return module.status();
    util::Result<std::string> token = text("pkcs11_token_label");
    if (!token.ok()) return token.status();
    util::Result<std::string> key = text("pkcs11_key_label");
    if (!key.ok()) return key.status();
    record.pkcs11_module = *module;
    record.pkcs11_token_label = *token;
    record.pkcs11_key_label = *key;
  } else {
    return bad("unknown key backend '" + record.key_backend + "'");
  }
  return record;
}

// BIP48 P2WSH account path: m/48'/coin'/0'/2', coin 0 on mainnet and 1 elsewhere.
btc::KeyPath DefaultAccountPath(btc::Network network) {
  constexpr uint32_t kHardened = 0x80000000u;
  const uint32_t coin = network == btc::Network::kMainnet ? 0 : 1;
  return btc::KeyPath{.steps = {48 | kHardened, coin | kHardened, 0 | kHardened, 2 | kHardened}};
}

bool IsKeyCharacter(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// `text` with every hardened marker inside an origin's brackets written as "'" (descriptors
// print "h" or "'"). Outside brackets nothing changes (an xpub's base58 may contain 'h').
std::string NormalizeOrigins(std::string_view text) {
  std::string out(text);
  bool in_origin = false;
  for (char& c : out) {
    if (c == '[') in_origin = true;
    if (c == ']') in_origin = false;
    if (in_origin && (c == 'h' || c == 'H')) c = '\'';
  }
  return out;
}

WalletKeySettings SettingsOf(const BackendRecord& record) {
  return WalletKeySettings{.key_backend = record.key_backend,
                           .key_file = std::string(kSigningKeyFile),
                           .pkcs11_module = record.pkcs11_module,
                           .pkcs11_token_label = record.pkcs11_token_label,
                           .pkcs11_key_label = record.pkcs11_key_label};
}

// Taproot outputs come only from tr() and rawtr(), which appear only at the top level.
bool UsesTaproot(std::string_view descriptor_text) {
  return descriptor_text.starts_with("tr(") || descriptor_text.starts_with("rawtr(");
}

// `keys` sorted; kInvalidArgument naming `what` when a key appears twice.
util::Result<std::vector<policy::KeyId>> SortedUnique(std::vector<policy::KeyId> keys,
                                                      std::string_view what) {
  std::sort(keys.begin(), keys.end());
  if (std::adjacent_find(keys.begin(), keys.end()) != keys.end()) {
    return util::InvalidArgumentError(std::string(what) + ": a key appears twice");
  }
  return keys;
}

// The identity key of `dir`, decrypted.
util::Result<crypto::Ed25519PrivateKey> OpenIdentityKey(const std::string& dir,
                                                        const crypto::SecretBytes& passphrase) {
  const std::string path = Join(dir, kIdentityKeyFile);
  util::Result<std::vector<uint8_t>> bytes = ReadSmallFile(path);
  if (!bytes.ok()) return bytes.status();
  util::Result<crypto::KeyFile> file = crypto::KeyFile::Parse(*bytes);
  if (!file.ok()) return file.status().WithPrefix(path);
  util::Result<crypto::Ed25519PrivateKey> key = file->Decrypt(passphrase);
  if (!key.ok()) {
    if (key.status().code() == util::StatusCode::kPermissionDenied) {
      return util::PermissionDeniedError(path + ": wrong passphrase or corrupted file");
    }
    return key.status().WithPrefix(path);
  }
  return key;
}

}  // namespace

util::Result<KeygenResult> Keygen(const crypto::Secp256k1Context& ctx, const KeygenOptions& options,
                                  const crypto::SecretBytes& passphrase,
                                  const std::optional<TokenPin>& pin, crypto::Rng& rng) {
  BackendRecord record;
  record.network = options.network;
  record.key_backend = options.key_backend;
  if (options.key_backend == "pkcs11") {
    if (options.pkcs11_module.empty() || options.pkcs11_token_label.empty() ||
        options.pkcs11_key_label.empty()) {
      return util::InvalidArgumentError(
          "key backend 'pkcs11': the module, token label and key label are required");
    }
    if (!pin) return util::InvalidArgumentError("key backend 'pkcs11': a PIN is required");
    record.pkcs11_module = options.pkcs11_module;
    record.pkcs11_token_label = options.pkcs11_token_label;
    record.pkcs11_key_label = options.pkcs11_key_label;
  } else if (options.key_backend != "file") {
    return util::InvalidArgumentError("unknown key backend '" + options.key_backend +
                                      "' (expected 'file' or 'pkcs11')");
  }
  if (passphrase.size() == 0) return util::InvalidArgumentError("passphrase: empty");

  bool created = false;
  if (util::Status s = PrepareEmptyDirectory(options.dir, created); !s.ok()) return s;
  KeygenCleanup cleanup(options.dir, created);

  // The identity key: signs the audit log's tree heads; its key id is the signer id.
  const crypto::Ed25519PrivateKey identity = crypto::Ed25519PrivateKey::Generate(rng);
  util::Result<crypto::KeyFile> identity_file =
      crypto::KeyFile::Encrypt(identity, "kinko-signer-identity", passphrase, options.kdf, rng);
  if (!identity_file.ok()) return identity_file.status();
  if (util::Status s =
          WriteNewFile(Join(options.dir, kIdentityKeyFile), identity_file->Serialize());
      !s.ok()) {
    return s;
  }

  // The wallet key.
  std::string descriptor_key;
  if (options.key_backend == "file") {
    util::Result<FileKey> key = FileKey::Generate(
        ctx, Join(options.dir, kSigningKeyFile), passphrase, rng,
        FileKeyOptions{
            .network = options.network,
            .account_path = options.account_path.value_or(DefaultAccountPath(options.network)),
            .kdf = options.kdf});
    if (!key.ok()) return key.status();
    descriptor_key = key->descriptor_key();
  } else {
    util::Result<std::shared_ptr<const Pkcs11Module>> module =
        Pkcs11Module::Load(options.pkcs11_module);
    if (!module.ok()) return module.status();
    util::Result<Pkcs11Key> key =
        Pkcs11Key::Generate(ctx, *module,
                            Pkcs11KeyConfig{.token_label = options.pkcs11_token_label,
                                            .key_label = options.pkcs11_key_label},
                            *pin);
    if (!key.ok()) return key.status();
    descriptor_key = key->descriptor_key();
  }

  const std::string record_text = EncodeBackendRecord(record);
  if (util::Status s = WriteNewFile(
          Join(options.dir, kBackendFile),
          std::span(reinterpret_cast<const uint8_t*>(record_text.data()), record_text.size()));
      !s.ok()) {
    return s;
  }
  cleanup.Done();
  return KeygenResult{.descriptor_key = std::move(descriptor_key),
                      .identity_public_key = identity.public_key(),
                      .signer_id = policy::Ed25519KeyId(identity.public_key())};
}

util::Result<KeygenResult> Init(const crypto::Secp256k1Context& ctx, const InitOptions& options,
                                const crypto::SecretBytes& passphrase,
                                const std::optional<TokenPin>& pin) {
  const std::string backend_path = Join(options.dir, kBackendFile);
  if (!Exists(Join(options.dir, kIdentityKeyFile)) || !Exists(backend_path)) {
    return util::NotFoundError(options.dir + ": no signer keys (run `kinko-signer keygen` first)");
  }
  const std::string database_path = Join(options.dir, kStateDatabaseFile);
  if (Exists(database_path)) {
    return util::AlreadyExistsError(database_path + ": already exists (the signer is set up)");
  }

  // The keys: the passphrase (and PIN) must open both.
  util::Result<std::vector<uint8_t>> record_bytes = ReadSmallFile(backend_path);
  if (!record_bytes.ok()) return record_bytes.status();
  util::Result<BackendRecord> record = DecodeBackendRecord(backend_path, *record_bytes);
  if (!record.ok()) return record.status();
  util::Result<crypto::Ed25519PrivateKey> identity = OpenIdentityKey(options.dir, passphrase);
  if (!identity.ok()) return identity.status();
  util::Result<std::unique_ptr<KeyBackend>> backend =
      OpenWalletKey(ctx, options.dir, SettingsOf(*record), passphrase, pin);
  if (!backend.ok()) return backend.status();

  // The wallet, on the keys' network, with this signer's key in it.
  util::Result<btc::Descriptor> descriptor =
      btc::Descriptor::Parse(ctx, options.descriptor, record->network);
  if (!descriptor.ok()) return descriptor.status().WithPrefix("wallet descriptor");
  const std::string descriptor_text = descriptor->ToString();
  util::Result<signer::WalletConfig> wallet =
      signer::WalletConfig::Create(ctx, options.wallet_id, record->network, std::move(*descriptor),
                                   options.receive_index_max, options.change_index_max);
  if (!wallet.ok()) return wallet.status().WithPrefix("wallet");
  const std::string descriptor_key = (*backend)->descriptor_key();
  if (!DescriptorNamesKey(descriptor_text, descriptor_key)) {
    return util::InvalidArgumentError("wallet descriptor does not contain this signer's key " +
                                      descriptor_key);
  }
  if (util::Status s = CheckBackendSupportsWallet(**backend, UsesTaproot(descriptor_text));
      !s.ok()) {
    return s;
  }

  // Governance keys and watchers.
  util::Result<std::vector<policy::KeyId>> admins =
      SortedUnique(options.governance_admins, "governance keys");
  if (!admins.ok()) return admins.status();
  if (admins->empty()) return util::InvalidArgumentError("governance keys: none given");
  if (options.governance_threshold == 0 || options.governance_threshold > admins->size()) {
    return util::InvalidArgumentError(
        "governance threshold " + std::to_string(options.governance_threshold) +
        " is not between 1 and the number of keys (" + std::to_string(admins->size()) + ")");
  }
  util::Result<std::vector<policy::KeyId>> watchers = SortedUnique(options.watchers, "watchers");
  if (!watchers.ok()) return watchers.status();

  // The first policy.
  util::Result<policy::SignedPolicy> first = policy::SignedPolicy::Decode(options.first_policy);
  if (!first.ok()) return first.status().WithPrefix("first policy");
  const policy::Policy& first_policy = first->policy();
  if (first_policy.fields().network != record->network) {
    return util::InvalidArgumentError(
        "first policy: network " + std::string(btc::NetworkName(first_policy.fields().network)) +
        " is not the wallet's network " + std::string(btc::NetworkName(record->network)));
  }
  const policy::Digest digest = first_policy.digest();
  const uint64_t sequence = first_policy.fields().sequence;
  util::Result<policy::GovernanceState> governance =
      policy::Install(std::move(*first), *admins, options.governance_threshold, options.now);
  if (!governance.ok()) return governance.status().WithPrefix("first policy");

  // The first audit entries and the head that covers them.
  util::Result<auditlog::Entry> startup = auditlog::Entry::Create(
      options.now, auditlog::StartupEntry{.software = std::string(kSignerSoftware),
                                          .head_key = identity->public_key(),
                                          .policy_digest = digest,
                                          .policy_sequence = sequence});
  if (!startup.ok()) return startup.status();
  util::Result<auditlog::Entry> policy_change = auditlog::Entry::Create(
      options.now, auditlog::PolicyChangeEntry{.old_digest = std::nullopt,
                                               .new_digest = digest,
                                               .sequence = sequence,
                                               .effective_time = options.now});
  if (!policy_change.ok()) return policy_change.status();
  std::vector<auditlog::Entry> entries = {std::move(*startup), std::move(*policy_change)};
  auditlog::MerkleLog log;
  for (const auditlog::Entry& entry : entries) log.Append(entry.Encode());
  auditlog::SignedTreeHead head = auditlog::SignedTreeHead::Sign(
      auditlog::TreeHead{.size = log.size(), .root = log.Root(), .time = options.now}, *identity);
  const Commit commit{.entries = std::move(entries), .change = {}, .head = std::move(head)};

  PinnedConfig config{.wallet_id = options.wallet_id,
                      .network = record->network,
                      .descriptor = descriptor_text,
                      .receive_index_max = options.receive_index_max,
                      .change_index_max = options.change_index_max,
                      .governance_admins = std::move(*admins),
                      .governance_threshold = options.governance_threshold,
                      .watchers = std::move(*watchers),
                      .identity_public_key = identity->public_key(),
                      .key_backend = record->key_backend,
                      .key_file = record->key_backend == "file" ? std::string(kSigningKeyFile) : "",
                      .pkcs11_module = record->pkcs11_module,
                      .pkcs11_token_label = record->pkcs11_token_label,
                      .pkcs11_key_label = record->pkcs11_key_label,
                      .created_at = options.now};
  util::Result<StateStore> store = StateStore::Create(database_path, config, *governance, commit);
  if (!store.ok()) return store.status();
  return KeygenResult{.descriptor_key = descriptor_key,
                      .identity_public_key = identity->public_key(),
                      .signer_id = policy::Ed25519KeyId(identity->public_key())};
}

util::Result<std::unique_ptr<KeyBackend>> OpenWalletKey(const crypto::Secp256k1Context& ctx,
                                                        const std::string& dir,
                                                        const WalletKeySettings& settings,
                                                        const crypto::SecretBytes& passphrase,
                                                        const std::optional<TokenPin>& pin) {
  if (settings.key_backend == "file") {
    util::Result<FileKey> key = FileKey::Open(ctx, Join(dir, settings.key_file), passphrase);
    if (!key.ok()) return key.status();
    return std::unique_ptr<KeyBackend>(std::make_unique<FileKey>(std::move(*key)));
  }
  if (settings.key_backend != "pkcs11") {
    return util::InvalidArgumentError("unknown key backend '" + settings.key_backend.substr(0, 32) +
                                      "'");
  }
  if (!pin) return util::InvalidArgumentError("key backend 'pkcs11': a PIN is required");
  util::Result<std::shared_ptr<const Pkcs11Module>> module =
      Pkcs11Module::Load(settings.pkcs11_module);
  if (!module.ok()) return module.status();
  util::Result<Pkcs11Key> key =
      Pkcs11Key::Open(ctx, *module,
                      Pkcs11KeyConfig{.token_label = settings.pkcs11_token_label,
                                      .key_label = settings.pkcs11_key_label},
                      *pin);
  if (!key.ok()) return key.status();
  return std::unique_ptr<KeyBackend>(std::make_unique<Pkcs11Key>(std::move(*key)));
}

bool DescriptorNamesKey(std::string_view descriptor_text, std::string_view key) {
  const std::string text = NormalizeOrigins(descriptor_text);
  const std::string wanted = NormalizeOrigins(key);
  std::string_view origin;
  std::string_view bare = wanted;
  if (!bare.empty() && bare.front() == '[') {
    const size_t close = bare.find(']');
    if (close == std::string_view::npos) return false;
    origin = bare.substr(0, close + 1);
    bare = bare.substr(close + 1);
  }
  if (bare.empty()) return false;
  const std::string_view all = text;
  for (size_t at = all.find(bare); at != std::string_view::npos; at = all.find(bare, at + 1)) {
    const size_t end = at + bare.size();
    if (end < all.size() && IsKeyCharacter(all[end])) continue;
    if (at > 0 && IsKeyCharacter(all[at - 1])) continue;
    if (origin.empty()) return true;
    if (at >= origin.size() && all.substr(at - origin.size(), origin.size()) == origin) {
      return true;
    }
  }
  return false;
}

}  // namespace kinko::signerd
