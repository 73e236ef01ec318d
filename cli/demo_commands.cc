// kinko demo [--keep DIR] [--regtest]: the whole system on one machine, told step by step for a
// treasury engineer (issue 7, "The main job"):
//
//   1. identities: five admins, the requester ops-bot, four approvers, kinkod's operator, a
//      watcher (Ed25519 keys, written as key files);
//   2. the key ceremony: three `kinko-signer keygen`, the 2-of-3 P2WSH descriptor of their
//      public keys, the first policy compiled from TOML and signed by 3 of the 5 admins,
//      `kinko-signer init` and `run` three times;
//   3. kinkod on SQLite with the offline chain backend (or, with --regtest, Bitcoin Core);
//   4. a funding coin (a made-up transaction imported offline, or a mined one on regtest);
//   5. a 0.4 BTC customer withdrawal that needs no approval, executed and signed;
//   6. a 7 BTC transfer to the address book that needs two approvals, approved, executed;
//   7. the 2024 attack: an approved intent's row in kinkod's database rewritten to pay the
//      attacker more; every signer refuses, and each refusal is read back from its audit log;
//   8. every signer's audit log verified (`kinko audit verify`);
//   9. everything stopped, the directory removed (unless --keep).
//
// The demo drives the real programs (kinko-signer, kinkod, bitcoind) as child processes over
// HTTP, exactly as an operator would; nothing is simulated but the funding coin offline. The
// children are killed if the demo dies (cli/internal/process.h), and stopped in reverse order
// of start on every way out of DemoRun, including SIGINT, SIGTERM or SIGHUP (blocked while the
// demo runs and looked at between steps: the demo cleans up, then the signal ends it).
//
// Unlike the other commands, the demo prints as it goes (it runs for seconds); an error ends it
// with a message on stderr and exit status 2 after everything it started is stopped.
#include <signal.h>
#include <sqlite3.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auditlog/entry.h"
#include "btc/address.h"
#include "btc/descriptor.h"
#include "btc/transaction.h"
#include "cli/command.h"
#include "cli/internal/kinkod_client.h"
#include "cli/internal/narrator.h"
#include "cli/internal/process.h"
#include "cli/internal/regtest_node.h"
#include "cli/secure_io.h"
#include "crypto/ed25519.h"
#include "crypto/hash.h"
#include "crypto/keyfile.h"
#include "crypto/rng.h"
#include "crypto/secp256k1.h"
#include "net/http_client.h"
#include "policy/approval.h"
#include "policy/identity.h"
#include "policy/intent.h"
#include "policy/policy.h"
#include "policy/policy_toml.h"
#include "signerapi/audit_codec.h"
#include "util/hex.h"

namespace kinko::cli {
namespace {

using internal::ChildProcess;
using internal::FormatBtc;
using internal::KinkodClient;
using internal::Narrator;
using internal::ProcessOptions;

// --- The demo's fixed choices ---------------------------------------------------------------

constexpr btc::Network kNetwork = btc::Network::kRegtest;
constexpr char kWalletId[] = "hot";
constexpr size_t kSigners = 3;
constexpr uint32_t kThreshold = 2;
constexpr int64_t kSatsPerBtc = 100'000'000;
constexpr int64_t kOfflineFundingSats = 10 * kSatsPerBtc;
constexpr int64_t kWithdrawalSats = 40'000'000;        // 0.4 BTC
constexpr int64_t kColdStorageSats = 7 * kSatsPerBtc;  // 7 BTC
constexpr int64_t kAttackedIntentSats = 50'000'000;    // 0.5 BTC, as ops-bot signed it
constexpr int64_t kAttackerSats = 2 * kSatsPerBtc;     // 2 BTC, as the attacker rewrote it
// The demo's passphrase for every key file and signer. PUBLIC: demo keys protect nothing.
constexpr char kDemoPassphrase[] = "kinko demo passphrase (public)";
// Cheap Argon2id for the demo's key files (the real default is 64 MiB, 3 passes).
constexpr uint32_t kDemoKdfMemoryKib = crypto::kKdfMinMemoryKib;
constexpr uint32_t kDemoKdfPasses = 1;

constexpr std::chrono::milliseconds kCommandTimeout{30'000};
constexpr std::chrono::milliseconds kStartTimeout{30'000};
constexpr std::chrono::milliseconds kStopGrace{10'000};

struct DemoOptions {
  std::string keep_dir;
  bool regtest = false;
};

// --- Small helpers --------------------------------------------------------------------------

// Fields of kinkod's and the signers' JSON answers, read without exceptions: a missing field or
// one of another type reads as empty (the demo shows what it got; the checks that matter are
// explicit).
std::string Text(const Json& object, const char* name) {
  if (!object.is_object() || !object.contains(name)) return "";
  const Json& value = object[name];
  if (value.is_string()) return value.get<std::string>();
  if (value.is_null()) return "";
  return value.dump();
}

int64_t Number(const Json& object, const char* name) {
  if (!object.is_object() || !object.contains(name)) return 0;
  const Json& value = object[name];
  return value.is_number_integer() ? value.get<int64_t>() : 0;
}

const Json& Member(const Json& object, const char* name) {
  static const Json kNull = nullptr;
  if (!object.is_object() || !object.contains(name)) return kNull;
  return object[name];
}

util::Result<Json> ParseJsonText(const std::string& text, std::string_view what) {
  Json parsed = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    return util::InvalidArgumentError(std::string(what) +
                                      ": not JSON: " + internal::LastLines(text, 3));
  }
  return parsed;
}

std::string ShortHex(std::string_view hex) {
  return hex.size() <= 16 ? std::string(hex) : std::string(hex.substr(0, 16)) + "...";
}

uint64_t Now() { return static_cast<uint64_t>(std::time(nullptr)); }

crypto::SecretBytes DemoPassphrase() {
  const std::string_view text = kDemoPassphrase;
  return crypto::SecretBytes::FromSpan(
      {reinterpret_cast<const uint8_t*>(text.data()), text.size()});
}

// A made-up P2WPKH address whose program is the first 20 bytes of SHA-256(`name`): stable from
// run to run, and nobody holds its key.
std::string MadeUpAddress(std::string_view name) {
  const crypto::Hash256Bytes hash =
      crypto::Sha256({reinterpret_cast<const uint8_t*>(name.data()), name.size()});
  std::vector<uint8_t> script = {0x00, 0x14};
  script.insert(script.end(), hash.begin(), hash.begin() + 20);
  util::Result<std::string> address = btc::EncodeAddress(btc::Script(script), kNetwork);
  CHECK(address.ok());
  return *address;
}

// An identity: its label, key and key id.
struct Actor {
  std::string label;
  crypto::Ed25519PrivateKey key;
  policy::KeyId id{};
  std::string id_hex() const { return util::HexEncode(id); }
};

// A decision entry of a signer's audit log and its index there.
struct LoggedDecision {
  uint64_t index = 0;
  auditlog::DecisionEntry entry;
};

struct SignerNode {
  int number = 0;  // 1..3, as the demo names them.
  std::string dir;
  std::string descriptor_key;  // "[fingerprint/48'/1'/0'/2']tpub..."
  std::string signer_id;       // Hex key id of its identity key.
  std::string identity_public_key;
  std::string url;
};

// Everything a run started, stopped in reverse order of start on every way out. Not copyable.
class Processes final {
 public:
  Processes() = default;
  Processes(const Processes&) = delete;
  Processes& operator=(const Processes&) = delete;
  ~Processes() { StopAll(); }

  // Adds `process`, called `label` in StopAll's results.
  ChildProcess& Add(ChildProcess process, std::string label) {
    processes_.push_back(std::make_unique<ChildProcess>(std::move(process)));
    labels_.push_back(std::move(label));
    return *processes_.back();
  }
  void AddNode(std::unique_ptr<internal::RegtestNode> node) { node_ = std::move(node); }

  // Stops every process (SIGTERM, then SIGKILL after kStopGrace), newest first, then the node.
  // Returns one "name: exit status" per process.
  std::vector<std::string> StopAll() {
    std::vector<std::string> results;
    while (!processes_.empty()) {
      const int status = processes_.back()->Stop(kStopGrace);
      results.push_back(labels_.back() + ": " +
                        (status >= 0 ? "exit status " + std::to_string(status)
                                     : "killed by signal " + std::to_string(-status)));
      processes_.pop_back();
      labels_.pop_back();
    }
    if (node_) {
      const int status = node_->Stop();
      results.push_back("bitcoind (regtest node): exit status " + std::to_string(status));
      node_.reset();
    }
    return results;
  }

 private:
  std::vector<std::unique_ptr<ChildProcess>> processes_;
  std::vector<std::string> labels_;  // One per process.
  std::unique_ptr<internal::RegtestNode> node_;
};

// The demo's directory: a new temporary one, removed at the end; or --keep DIR, kept.
class WorkDir final {
 public:
  static util::Result<WorkDir> Create(const std::string& keep_dir) {
    if (!keep_dir.empty()) {
      std::error_code error;
      if (std::filesystem::exists(keep_dir) && !std::filesystem::is_empty(keep_dir, error)) {
        return util::FailedPreconditionError("--keep " + keep_dir + ": not an empty directory");
      }
      std::filesystem::create_directories(keep_dir, error);
      if (error) return util::UnavailableError("--keep " + keep_dir + ": " + error.message());
      return WorkDir(std::filesystem::absolute(keep_dir).string(), /*keep=*/true);
    }
    std::string pattern = (std::filesystem::temp_directory_path() / "kinko-demo-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) {
      return util::UnavailableError("cannot create a temporary directory");
    }
    return WorkDir(pattern, /*keep=*/false);
  }
  WorkDir(WorkDir&& other) noexcept : path_(std::move(other.path_)), keep_(other.keep_) {
    other.keep_ = true;
  }
  WorkDir& operator=(WorkDir&&) = delete;
  WorkDir(const WorkDir&) = delete;
  WorkDir& operator=(const WorkDir&) = delete;
  ~WorkDir() {
    if (!keep_) {
      std::error_code ignored;
      std::filesystem::remove_all(path_, ignored);
    }
  }
  const std::string& path() const { return path_; }
  bool keep() const { return keep_; }

 private:
  WorkDir(std::string path, bool keep) : path_(std::move(path)), keep_(keep) {}
  std::string path_;
  bool keep_;
};

// The name of a stop signal (SIGINT, SIGTERM, SIGHUP) that is pending, or nullopt.
std::optional<std::string> PendingStopSignal() {
  sigset_t pending;
  if (sigpending(&pending) != 0) return std::nullopt;
  if (sigismember(&pending, SIGINT) == 1) return "SIGINT";
  if (sigismember(&pending, SIGTERM) == 1) return "SIGTERM";
  if (sigismember(&pending, SIGHUP) == 1) return "SIGHUP";
  return std::nullopt;
}

// --- The demo ------------------------------------------------------------------------------

class Demo final {
 public:
  Demo(const DemoOptions& options, std::string dir, Narrator& say)
      : options_(options),
        dir_(std::move(dir)),
        say_(say),
        ctx_(crypto::Secp256k1Context::Create(rng_)) {}

  util::Status Run();

 private:
  util::Status FindPrograms();
  util::Status MakeIdentities();
  util::Status KeyCeremony();
  util::Status WriteAndSignPolicy();
  util::Status StartSigners();
  util::Status StartCoordinator();
  util::Status Fund();
  util::Status CustomerWithdrawal();
  util::Status ColdStorageTransfer();
  util::Status ReplayAttack();
  util::Status VerifyAuditLogs();

  // Helpers of the steps.
  util::Result<Json> RunJson(const std::vector<std::string>& argv, const std::string& name,
                             bool with_passphrase);
  const Actor& Find(std::string_view label) const;
  util::Result<Json> SubmitIntent(const std::string& address, int64_t sats,
                                  const std::string& external_ref);
  util::Result<Json> Approve(const Actor& approver, const policy::SignedIntent& intent,
                             const std::string& intent_id_hex);
  util::Result<Json> Execute(const std::string& intent_id_hex);
  std::string DescribeState(const Json& intent) const;
  std::string SignerName(const Json& signer_entry) const;
  util::Status ShowSignedBatch(const Json& execute_answer);
  util::Status AfterBroadcast(const std::string& batch_id, const std::string& txid);
  std::vector<std::string> ExportedFiles() const;
  util::Status RewriteIntentRow(const std::string& intent_id_hex, const std::string& address,
                                int64_t sats);
  util::Result<std::optional<LoggedDecision>> FindDecision(const SignerNode& signer,
                                                           const policy::IntentId& intent_id);

  const DemoOptions& options_;
  const std::string dir_;
  Narrator& say_;
  crypto::SystemRng rng_;
  const crypto::Secp256k1Context ctx_;

  std::string kinko_;
  std::string kinko_signer_;
  std::string kinkod_;
  std::string bitcoind_;

  std::vector<Actor> actors_;
  std::vector<SignerNode> signers_;
  std::string descriptor_;
  std::string receive_address_;  // Receive index 0.
  std::string customer_address_ = MadeUpAddress("kinko demo: a customer");
  std::string second_customer_address_ = MadeUpAddress("kinko demo: another customer");
  std::string cold_storage_address_ = MadeUpAddress("kinko demo: cold storage");
  std::string attacker_address_ = MadeUpAddress("kinko demo: the attacker");
  std::string policy_file_;
  policy::Digest policy_digest_{};
  std::string kinkod_db_;
  std::string export_dir_;
  std::optional<KinkodClient> operator_client_;
  std::string kinkod_url_;
  Processes processes_;
  internal::RegtestNode* node_ = nullptr;                // Owned by processes_; set with --regtest.
  std::map<std::string, policy::SignedIntent> intents_;  // By id hex.
};

util::Status Demo::Run() {
  const auto start = std::chrono::steady_clock::now();
  say_.Paragraph(
      "kinko demo: a 2-of-3 Bitcoin custody wallet on " +
      std::string(options_.regtest ? "a regtest node started for the demo"
                                   : "regtest, without a node (offline chain backend)") +
      ", run by three kinko-signer processes and a kinkod coordinator, from withdrawal requests "
      "to signed transactions, and then the 2024 attack replayed against it. Everything lives "
      "in " +
      dir_ + (options_.keep_dir.empty() ? " (removed at the end)." : " (kept).") +
      " Every key, coin and address here is made up for the demo.");
  using StepFunction = util::Status (Demo::*)();
  const StepFunction steps[] = {&Demo::FindPrograms,
                                &Demo::MakeIdentities,
                                &Demo::KeyCeremony,
                                &Demo::WriteAndSignPolicy,
                                &Demo::StartSigners,
                                &Demo::StartCoordinator,
                                &Demo::Fund,
                                &Demo::CustomerWithdrawal,
                                &Demo::ColdStorageTransfer,
                                &Demo::ReplayAttack,
                                &Demo::VerifyAuditLogs};
  for (const StepFunction step : steps) {
    if (util::Status s = (this->*step)(); !s.ok()) return s;
    // SIGINT, SIGTERM and SIGHUP are blocked during the demo (DemoRun) and looked at between
    // steps, so that an interrupted demo still stops what it started and removes its directory.
    if (std::optional<std::string> signal = PendingStopSignal()) {
      return util::AbortedError("interrupted by " + *signal);
    }
  }

  // Our keep-alive connection would hold one of kinkod's workers until it idles out.
  operator_client_.reset();
  say_.Step("Stopping everything (SIGTERM, then a wait):");
  for (const std::string& result : processes_.StopAll()) say_.Item(result);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  char elapsed[32];
  std::snprintf(elapsed, sizeof(elapsed), "%.1f", seconds);
  say_.Paragraph(std::string("Demo finished in ") + elapsed + " s." +
                 (options_.keep_dir.empty() ? " Removing " + dir_ + "."
                                            : " Everything is kept in " + dir_ + "."));
  return util::OkStatus();
}

util::Status Demo::FindPrograms() {
  util::Result<std::string> self = internal::ExecutableDirectory();
  if (!self.ok()) return self.status();
  kinko_ = *self + "/kinko";
  util::Result<std::string> signer =
      internal::FindProgram("kinko-signer", "KINKO_SIGNER_BINARY", "signerd");
  if (!signer.ok()) return signer.status();
  kinko_signer_ = *signer;
  util::Result<std::string> kinkod =
      internal::FindProgram("kinkod", "KINKOD_BINARY", "coordinator");
  if (!kinkod.ok()) return kinkod.status();
  kinkod_ = *kinkod;
  if (options_.regtest) {
    const char* bitcoind = std::getenv("BITCOIND");
    if (bitcoind == nullptr || *bitcoind == '\0' || access(bitcoind, X_OK) != 0) {
      return util::FailedPreconditionError(
          "--regtest needs $BITCOIND: the path of a bitcoind (Bitcoin Core; tested with 31.0)");
    }
    bitcoind_ = bitcoind;
  }
  return util::OkStatus();
}

// Runs `argv` to completion and parses its stdout as JSON; the demo passphrase goes to fd 3
// when `with_passphrase`.
util::Result<Json> Demo::RunJson(const std::vector<std::string>& argv, const std::string& name,
                                 bool with_passphrase) {
  ProcessOptions options{.argv = argv,
                         .stdout_path = dir_ + "/logs/" + name + ".out",
                         .stderr_path = dir_ + "/logs/" + name + ".err"};
  if (with_passphrase) options.secret_input = kDemoPassphrase;
  util::Result<internal::ProcessResult> result = internal::RunProcess(options, kCommandTimeout);
  if (!result.ok()) return result.status().WithPrefix(name);
  if (result->exit_code != 0) {
    return util::FailedPreconditionError(name + ": exit status " +
                                         std::to_string(result->exit_code) + ": " +
                                         internal::LastLines(result->err, 3));
  }
  return ParseJsonText(result->out, name);
}

const Actor& Demo::Find(std::string_view label) const {
  for (const Actor& actor : actors_) {
    if (actor.label == label) return actor;
  }
  CHECK(false);
  return actors_.front();
}

// Step 1: the identities.
util::Status Demo::MakeIdentities() {
  std::error_code error;
  for (const char* sub : {"keys", "logs", "out"}) {
    std::filesystem::create_directories(dir_ + "/" + sub, error);
    if (error) return util::UnavailableError("cannot create " + dir_ + "/" + sub);
  }
  const std::vector<std::string> labels = {"admin-1", "admin-2", "admin-3",  "admin-4",
                                           "admin-5", "ops-bot", "alice",    "bob",
                                           "carol",   "dave",    "operator", "watcher"};
  const crypto::SecretBytes passphrase = DemoPassphrase();
  for (const std::string& label : labels) {
    crypto::Ed25519PrivateKey key = crypto::Ed25519PrivateKey::Generate(rng_);
    const policy::KeyId id = policy::Ed25519KeyId(key.public_key());
    util::Result<crypto::KeyFile> file = crypto::KeyFile::Encrypt(
        key, label, passphrase,
        crypto::KdfParams{.passes = kDemoKdfPasses, .memory_kib = kDemoKdfMemoryKib}, rng_);
    if (!file.ok()) return file.status().WithPrefix(label);
    if (util::Status s = WriteNewFile(dir_ + "/keys/" + label + ".key", file->Serialize(), 0600);
        !s.ok()) {
      return s;
    }
    actors_.push_back(Actor{.label = label, .key = std::move(key), .id = id});
  }
  say_.Step(
      "People and services. Twelve Ed25519 identity keys, one per person or service, as `kinko "
      "key new --ed25519` makes them (files in keys/): admin-1 to admin-5, who sign policies "
      "(3 of 5 needed); ops-bot, the back-office bot that requests withdrawals; alice, bob, carol "
      "and dave, the treasury approvers; the operator who runs kinkod; and a watcher allowed to "
      "freeze the signers. Their key ids:");
  for (const Actor& actor : actors_) {
    std::string label = actor.label;
    label.resize(10, ' ');
    say_.Item(label + policy::GroupedHex(std::span(actor.id).first(8)) + " ...");
  }
  return util::OkStatus();
}

// Step 2: the signers' keys and the wallet descriptor.
util::Status Demo::KeyCeremony() {
  say_.Step(
      "Key ceremony. Each of the three signers makes its own wallet key inside its own state "
      "directory (`kinko-signer keygen`, the key encrypted under the signer's passphrase, given "
      "on a pipe); only the public halves come out:");
  for (size_t i = 0; i < kSigners; ++i) {
    SignerNode node;
    node.number = static_cast<int>(i + 1);
    node.dir = dir_ + "/signer-" + std::to_string(i + 1);
    util::Result<Json> key =
        RunJson({kinko_signer_, "keygen", "--dir", node.dir, "--network", "regtest",
                 "--passphrase-fd", std::to_string(internal::kSecretInputFd), "--kdf-memory-kib",
                 std::to_string(kDemoKdfMemoryKib), "--kdf-passes", std::to_string(kDemoKdfPasses)},
                "signer-" + std::to_string(i + 1) + "-keygen", /*with_passphrase=*/true);
    if (!key.ok()) return key.status();
    node.descriptor_key = Text(*key, "descriptor_key");
    node.signer_id = Text(*key, "signer_id");
    node.identity_public_key = Text(*key, "identity_public_key");
    if (node.descriptor_key.empty() || node.signer_id.empty()) {
      return util::InternalError("kinko-signer keygen printed no descriptor_key or signer_id");
    }
    say_.Item("signer " + std::to_string(node.number) + "  " + node.descriptor_key);
    signers_.push_back(std::move(node));
  }
  std::string keys;
  for (const SignerNode& node : signers_) {
    if (!keys.empty()) keys += ",";
    keys += node.descriptor_key + "/<0;1>/*";
  }
  const std::string text = "wsh(sortedmulti(" + std::to_string(kThreshold) + "," + keys + "))";
  util::Result<btc::Descriptor> descriptor = btc::Descriptor::Parse(ctx_, text, kNetwork);
  if (!descriptor.ok()) return descriptor.status().WithPrefix("the wallet descriptor");
  descriptor_ = descriptor->ToString();
  const std::vector<btc::Descriptor> branches = descriptor->SplitMultipath();
  util::Result<btc::ScriptInfo> receive = branches[0].Expand(ctx_, 0);
  if (!receive.ok()) return receive.status().WithPrefix("receive address 0");
  util::Result<std::string> address = btc::EncodeAddress(receive->script_pubkey, kNetwork);
  if (!address.ok()) return address.status();
  receive_address_ = *address;
  say_.Say(
      "The wallet is any 2 of these 3 keys, a P2WSH multisig with a receive and a change branch "
      "(each operator checks that their key is in it):");
  say_.Item(descriptor_);
  say_.Say("Its first receive address (index 0) is " + receive_address_ + ".");
  return util::OkStatus();
}

// Step 3: the policy, init of the three signers; then they start.
util::Status Demo::WriteAndSignPolicy() {
  std::string toml =
      "# The demo's first policy (kinko demo).\n"
      "network = \"regtest\"\n"
      "sequence = 1\n"
      "activation_delay = \"24h\"\n\n"
      "[governance]\n"
      "admins = [\"admin-1\", \"admin-2\", \"admin-3\", \"admin-4\", \"admin-5\"]\n"
      "threshold = 3\n\n"
      "[keys]\n";
  for (const Actor& actor : actors_) {
    if (actor.label == "operator" || actor.label == "watcher") continue;
    toml += actor.label + " = \"" + actor.id_hex() + "\"\n";
  }
  toml +=
      "\n[groups]\n"
      "treasury = [\"alice\", \"bob\", \"carol\", \"dave\"]\n\n"
      "[[address_book]]\n"
      "label = \"cold-storage\"\n"
      "address = \"" +
      cold_storage_address_ +
      "\"\n\n"
      "[[rule]]\n"
      "name = \"customer withdrawals\"\n"
      "wallets = [\"hot\"]\n"
      "requesters = [\"ops-bot\"]\n"
      "amount_max = \"1 BTC\"\n"
      "approvals = []\n\n"
      "[[rule]]\n"
      "name = \"to the address book\"\n"
      "wallets = [\"hot\"]\n"
      "destination = \"address_book\"\n"
      "approvals = [{ group = \"treasury\", threshold = 2 }]\n\n"
      "[[rule]]\n"
      "name = \"everything else\"\n"
      "action = \"deny\"\n";
  const std::vector<uint8_t> toml_bytes(toml.begin(), toml.end());
  if (util::Status s = WriteNewFile(dir_ + "/policy.toml", toml_bytes, 0644); !s.ok()) return s;
  util::Result<policy::Policy> compiled = policy::CompilePolicyToml(toml, "policy.toml");
  if (!compiled.ok()) return compiled.status();
  policy_digest_ = compiled->digest();
  policy::SignedPolicy signed_policy = policy::SignedPolicy::Unsigned(*std::move(compiled));
  for (const char* admin : {"admin-1", "admin-2", "admin-3"}) {
    util::Result<policy::SignedPolicy> next = signed_policy.AddSignature(Find(admin).key);
    if (!next.ok()) return next.status().WithPrefix(admin);
    signed_policy = *std::move(next);
  }
  policy_file_ = dir_ + "/policy.policy";
  if (util::Status s = WriteNewFile(policy_file_, signed_policy.Encode(), 0644); !s.ok()) return s;

  say_.Step(
      "The policy. Written in TOML (policy.toml), compiled to its canonical form and signed by "
      "admin-1, admin-2 and admin-3, 3 of the 5 admins (policy.policy). First match wins:");
  say_.Item(
      "customer withdrawals: requested by ops-bot, at most 1 BTC, to any address: no "
      "approval needed");
  say_.Item("to the address book: to cold-storage (" + cold_storage_address_ +
            "): 2 approvals from treasury (alice, bob, carol, dave)");
  say_.Item("everything else: denied");
  say_.Say("Policy digest " + policy::GroupedHex(std::span(policy_digest_).first(16)) + " ...");

  std::vector<std::string> admins;
  for (const Actor& actor : actors_) {
    if (actor.label.starts_with("admin-")) admins.push_back(actor.id_hex());
  }
  for (const SignerNode& node : signers_) {
    std::vector<std::string> argv = {kinko_signer_, "init",
                                     "--dir",       node.dir,
                                     "--wallet-id", kWalletId,
                                     "--wallet",    descriptor_,
                                     "--policy",    policy_file_,
                                     "--threshold", "3",
                                     "--watcher",   Find("watcher").id_hex(),
                                     "--governance"};
    argv.insert(argv.end(), admins.begin(), admins.end());
    argv.insert(argv.end(), {"--passphrase-fd", std::to_string(internal::kSecretInputFd)});
    util::Result<Json> init =
        RunJson(argv, "signer-" + std::to_string(node.number) + "-init", /*with_passphrase=*/true);
    if (!init.ok()) return init.status();
  }
  say_.Say(
      "Each signer pins the wallet, the five admin keys (3 needed for any later policy), the "
      "watcher and this first policy (`kinko-signer init`), after checking the admins' "
      "signatures itself.");
  return util::OkStatus();
}

util::Status Demo::StartSigners() {
  for (SignerNode& node : signers_) {
    const std::string name = "signer-" + std::to_string(node.number);
    const std::string port_file = node.dir + "/port";
    const std::string log = dir_ + "/logs/" + name + ".log";
    util::Result<ChildProcess> process = ChildProcess::Start(ProcessOptions{
        .argv = {kinko_signer_, "run", "--dir", node.dir, "--listen", "127.0.0.1:0", "--port-file",
                 port_file, "--passphrase-fd", std::to_string(internal::kSecretInputFd)},
        .stdout_path = log,
        .stderr_path = log,
        .secret_input = kDemoPassphrase});
    if (!process.ok()) return process.status();
    ChildProcess& running = processes_.Add(
        *std::move(process), "kinko-signer (signer " + std::to_string(node.number) + ")");
    util::Result<uint16_t> port = internal::WaitForPortFile(running, port_file, log, kStartTimeout);
    if (!port.ok()) return port.status().WithPrefix(name);
    node.url = "http://127.0.0.1:" + std::to_string(*port);
  }
  say_.Say(
      "The three signers run (`kinko-signer run`), each its own process with its own "
      "database and audit log: " +
      signers_[0].url + ", " + signers_[1].url + " and " + signers_[2].url + ".");
  return util::OkStatus();
}

// Step 4: kinkod (and the regtest node).
util::Status Demo::StartCoordinator() {
  kinkod_db_ = dir_ + "/kinkod.db";
  export_dir_ = dir_ + "/out";
  std::string chain;
  if (options_.regtest) {
    util::Result<std::unique_ptr<internal::RegtestNode>> node =
        internal::RegtestNode::Start(bitcoind_, dir_ + "/bitcoind", kStartTimeout);
    if (!node.ok()) return node.status();
    node_ = node->get();
    processes_.AddNode(*std::move(node));
    chain = "backend = \"bitcoin-core\"\nrpc_url = \"" + node_->rpc_url() +
            "\"\nrpc_cookie_file = \"" + node_->cookie_file() + "\"\n";
  } else {
    chain = "backend = \"offline\"\nexport_dir = \"" + export_dir_ + "\"\n";
  }
  std::string config =
      "# kinkod's configuration for the demo (coordinator/config.h, doc/deployment.md).\n"
      "listen = \"127.0.0.1:0\"\n"
      "instance = \"kinkod-demo\"\n"
      "operators = [\"" +
      util::HexEncode(Find("operator").key.public_key()) +
      "\"]\n\n"
      "[storage]\n"
      "backend = \"sqlite\"\n"
      "path = \"" +
      kinkod_db_ +
      "\"\n\n"
      "[chain]\n" +
      chain +
      "\n[[wallet]]\n"
      "id = \"hot\"\n"
      "network = \"regtest\"\n"
      "descriptor = \"" +
      descriptor_ +
      "\"\n"
      "policy_file = \"" +
      policy_file_ +
      "\"\n"
      "threshold = 2\n"
      "batching = true\n"
      "fee_rate_fallback = 2000\n"
      "min_confirmations = " +
      (options_.regtest ? "1" : "0") + "\n";
  for (const SignerNode& node : signers_) {
    config += "\n[[wallet.signer]]\nurl = \"" + node.url + "\"\nid = \"" + node.signer_id + "\"\n";
  }
  const std::string config_file = dir_ + "/kinkod.toml";
  if (util::Status s =
          WriteNewFile(config_file, std::vector<uint8_t>(config.begin(), config.end()), 0644);
      !s.ok()) {
    return s;
  }
  const std::string port_file = dir_ + "/kinkod.port";
  const std::string log = dir_ + "/logs/kinkod.log";
  util::Result<ChildProcess> process = ChildProcess::Start(
      ProcessOptions{.argv = {kinkod_, "run", "--config", config_file, "--port-file", port_file},
                     .stdout_path = log,
                     .stderr_path = log});
  if (!process.ok()) return process.status();
  ChildProcess& running = processes_.Add(*std::move(process), "kinkod");
  util::Result<uint16_t> port = internal::WaitForPortFile(running, port_file, log, kStartTimeout);
  if (!port.ok()) return port.status().WithPrefix("kinkod");
  kinkod_url_ = "http://127.0.0.1:" + std::to_string(*port);
  util::Result<KinkodClient> client = KinkodClient::Create(kinkod_url_, Find("operator").key);
  if (!client.ok()) return client.status();
  operator_client_.emplace(*std::move(client));

  say_.Step("The coordinator. kinkod runs on " + kinkod_url_ +
            " (kinkod.toml): SQLite store (kinkod.db), " +
            (options_.regtest
                 ? "Bitcoin Core at " + node_->rpc_url() + " (a regtest node started for the demo)"
                 : std::string("offline chain backend: no node; signed transactions are written "
                               "to out/ for broadcast elsewhere")) +
            "; it asks the three signers and needs 2 signatures. kinkod is UNTRUSTED: whoever "
            "owns it can change anything it stores or sends, and the signers check everything "
            "against what people signed.");
  return util::OkStatus();
}

// Step 5: the funding coin.
util::Status Demo::Fund() {
  if (options_.regtest) {
    // One block to the wallet, then 100 to a made-up address so that its coinbase matures.
    util::Result<Json> mined = node_->Call("generatetoaddress", Json::array({1, receive_address_}));
    if (!mined.ok()) return mined.status();
    util::Result<Json> matured =
        node_->Call("generatetoaddress", Json::array({100, MadeUpAddress("kinko demo: a miner")}));
    if (!matured.ok()) return matured.status();
    util::Result<Json> utxos = operator_client_->Get("/v1/wallets/hot/utxos");
    if (!utxos.ok()) return utxos.status();
    say_.Step(
        "Funding. The node mines a block paying its reward to the wallet's receive "
        "address 0 and 100 more so that it can be spent. kinkod sees the wallet's coins "
        "through Bitcoin Core:");
    for (const Json& coin : Member(*utxos, "utxos")) {
      say_.Item(FormatBtc(Number(coin, "sats")) + " in " + ShortHex(Text(coin, "txid")) + ":" +
                Text(coin, "vout") + " at " + Text(coin, "address") + ", " + Text(coin, "state"));
    }
    return util::OkStatus();
  }
  // A deterministic transaction: one input spending a made-up outpoint, one 10 BTC output to
  // receive address 0. It could never be mined; the offline backend takes it on the operator's
  // word, as it takes any imported transaction.
  util::Result<btc::DecodedAddress> receive = btc::DecodeAddress(receive_address_, kNetwork);
  if (!receive.ok()) return receive.status();
  btc::Transaction funding;
  btc::TxIn input;
  const std::string_view seed = "kinko demo: funding";
  const crypto::Hash256Bytes fake_txid =
      crypto::Sha256({reinterpret_cast<const uint8_t*>(seed.data()), seed.size()});
  input.prevout.txid = btc::Txid::FromSpan(fake_txid);
  input.prevout.index = 0;
  input.sequence = 0xfffffffd;
  funding.inputs.push_back(input);
  funding.outputs.push_back(
      btc::TxOut{.value = kOfflineFundingSats, .script_pubkey = receive->script_pubkey});
  const std::string raw = util::HexEncode(funding.Serialize());
  util::Result<Json> imported =
      operator_client_->Post("/v1/wallets/hot/utxos/import", Json{{"raw_tx", raw}});
  if (!imported.ok()) return imported.status();
  say_.Step("Funding. A DEMO COIN: a made-up transaction " + btc::TxidToHex(funding.ComputeTxid()) +
            " paying 10 BTC to receive address 0 (it spends nothing real and could never be "
            "mined). The operator imports it the way an air-gapped deployment imports real "
            "deposits (POST /v1/wallets/hot/utxos/import, as `kinko utxo import` does); kinkod "
            "found:");
  for (const Json& coin : Member(*imported, "utxos")) {
    say_.Item(FormatBtc(Number(coin, "sats")) + " at " + Text(coin, "address") +
              " (receive index " + Text(coin, "index") + ")");
  }
  if (Member(*imported, "utxos").empty()) {
    return util::InternalError("kinkod found no coin in the funding transaction");
  }
  return util::OkStatus();
}

util::Result<Json> Demo::SubmitIntent(const std::string& address, int64_t sats,
                                      const std::string& external_ref) {
  const Actor& bot = Find("ops-bot");
  policy::IntentFields fields;
  rng_.Fill(fields.id);
  fields.wallet = kWalletId;
  fields.network = kNetwork;
  util::Result<btc::Amount> amount = btc::Amount::FromSats(sats);
  if (!amount.ok()) return amount.status();
  fields.outputs.push_back(policy::IntentOutput{.address = address, .amount = *amount});
  fields.fee = policy::FeeCeiling{.max_fee = btc::Amount::FromSats(100'000).value(),
                                  .max_rate_sat_per_kvb = 50'000};
  fields.requester = bot.id;
  fields.created = Now();
  fields.expires = fields.created + 3600;
  fields.external_ref = external_ref;
  util::Result<policy::Intent> intent = policy::Intent::Create(fields);
  if (!intent.ok()) return intent.status();
  util::Result<policy::SignedIntent> signed_intent =
      policy::SignedIntent::Sign(*std::move(intent), bot.key);
  if (!signed_intent.ok()) return signed_intent.status();
  util::Result<KinkodClient> client = KinkodClient::Create(kinkod_url_, bot.key);
  if (!client.ok()) return client.status();
  util::Result<Json> answer = client->Post(
      "/v1/intents", Json{{"signed_intent", util::HexEncode(signed_intent->Encode())}});
  if (!answer.ok()) return answer.status();
  intents_.emplace(util::HexEncode(fields.id), *signed_intent);
  return answer;
}

util::Result<Json> Demo::Approve(const Actor& approver, const policy::SignedIntent& intent,
                                 const std::string& intent_id_hex) {
  util::Result<policy::Approval> approval =
      policy::Approval::Create(policy::ApprovalFields{.intent_digest = intent.intent().digest(),
                                                      .policy_digest = policy_digest_,
                                                      .approver = approver.id,
                                                      .decision = policy::Decision::kApprove,
                                                      .time = Now(),
                                                      .comment_hash = std::nullopt});
  if (!approval.ok()) return approval.status();
  util::Result<policy::SignedApproval> signed_approval =
      policy::SignedApproval::Sign(*std::move(approval), approver.key);
  if (!signed_approval.ok()) return signed_approval.status();
  util::Result<KinkodClient> client = KinkodClient::Create(kinkod_url_, approver.key);
  if (!client.ok()) return client.status();
  return client->Post("/v1/intents/" + intent_id_hex + "/approvals",
                      Json{{"signed_approval", util::HexEncode(signed_approval->Encode())}});
}

util::Result<Json> Demo::Execute(const std::string& intent_id_hex) {
  return operator_client_->Post("/v1/wallets/hot/execute",
                                Json{{"intents", Json::array({intent_id_hex})}});
}

// "approved: rule 'customer withdrawals', no approval needed", "awaiting approvals: treasury 0
// of 2", ... from an Intent object.
std::string Demo::DescribeState(const Json& intent) const {
  const std::string state = Text(intent, "state");
  const Json& detail = Member(intent, "detail");
  const std::string rule = Text(detail, "rule");
  if (state == "awaiting_approvals") {
    std::string missing;
    for (const Json& group : Member(detail, "missing")) {
      if (!missing.empty()) missing += ", ";
      missing += Text(group, "group") + " " + Text(group, "have") + " of " + Text(group, "needed");
    }
    return "awaiting approvals: " + (missing.empty() ? std::string("?") : missing) +
           (rule.empty() ? "" : " (rule '" + rule + "')");
  }
  if (state == "approved") {
    const size_t approvals = Member(intent, "approvals").size();
    return "approved: rule '" + rule + "', " +
           (approvals == 0 ? std::string("no approval needed")
                           : std::to_string(approvals) + " approvals");
  }
  if (state == "refused") {
    return "refused: " + Text(detail, "code") + (rule.empty() ? "" : " (rule '" + rule + "')") +
           " " + Text(detail, "detail");
  }
  return state;
}

std::string Demo::SignerName(const Json& signer_entry) const {
  const std::string url = Text(signer_entry, "url");
  const std::string id = Text(signer_entry, "id");
  for (const SignerNode& node : signers_) {
    if (node.url == url || node.signer_id == id) return "Signer " + std::to_string(node.number);
  }
  return "Signer " + ShortHex(id);
}

std::vector<std::string> Demo::ExportedFiles() const {
  std::vector<std::string> files;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(export_dir_, error)) {
    files.push_back(entry.path().filename().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// Shows the batch of an execute answer: each signer's decision, the txid, where it went.
util::Status Demo::ShowSignedBatch(const Json& execute_answer) {
  const Json& batches = Member(execute_answer, "batches");
  if (!batches.is_array() || batches.empty()) {
    return util::FailedPreconditionError("kinkod built no batch: " + execute_answer.dump());
  }
  const Json& batch = batches[0];
  const size_t inputs = Member(batch, "inputs").size();
  say_.Say("kinkod builds a transaction (" + std::to_string(inputs) +
           (inputs == 1 ? " input" : " inputs") + ", fee " +
           std::to_string(Number(batch, "fee_sats")) + " sat at " +
           std::to_string(Number(batch, "fee_rate_sat_per_kvb") / 1000) +
           " sat/vB, change back to the wallet) and sends it with the signed intent and its "
           "approvals to the signers. Each checks everything itself:");
  for (const Json& signer : Member(batch, "signers")) {
    const std::string outcome = Text(signer, "outcome");
    std::string line = SignerName(signer) + " " + outcome;
    if (!Text(signer, "code").empty()) line += ": " + Text(signer, "code");
    if (!Text(signer, "audit_index").empty()) {
      line += " (audit entry " + Text(signer, "audit_index") + ")";
    }
    say_.Item(line);
  }
  const std::string txid = Text(batch, "txid");
  if (Text(batch, "state") == "failed" || txid.empty()) {
    return util::FailedPreconditionError("batch " + Text(batch, "id") +
                                         " was not signed: " + batch.dump());
  }
  say_.Say("Two signatures: transaction " + txid + " is signed and finalized (batch " +
           Text(batch, "id") + ", " + Text(batch, "state") + ").");
  return AfterBroadcast(Text(batch, "id"), txid);
}

// Where a signed transaction went: the export file offline (checked against kinkod's copy); the
// chain on regtest, where a block is mined so that it confirms.
util::Status Demo::AfterBroadcast(const std::string& batch_id, const std::string& txid) {
  util::Result<Json> transaction =
      operator_client_->Get("/v1/batches/" + batch_id + "/transaction");
  if (!transaction.ok()) return transaction.status();
  if (!options_.regtest) {
    const std::string file = export_dir_ + "/" + txid + ".hex";
    std::string exported = internal::ReadTextFile(file);
    while (!exported.empty() && (exported.back() == '\n' || exported.back() == '\r')) {
      exported.pop_back();
    }
    if (exported.empty() || exported != Text(*transaction, "hex")) {
      return util::FailedPreconditionError("kinkod exported no file " + file +
                                           " holding the signed transaction");
    }
    say_.Say("Exported for broadcast: out/" + txid + ".hex (" +
             std::to_string(exported.size() / 2) + " bytes).");
    return util::OkStatus();
  }
  util::Result<Json> mined =
      node_->Call("generatetoaddress", Json::array({1, MadeUpAddress("kinko demo: a miner")}));
  if (!mined.ok()) return mined.status();
  util::Result<Json> tx = node_->Call("getrawtransaction", Json::array({txid, true}));
  if (!tx.ok()) return tx.status();
  say_.Say("Broadcast to the regtest node, and a block mined: " + Text(*tx, "confirmations") +
           " confirmation (block " + ShortHex(Text(*tx, "blockhash")) + ").");
  return util::OkStatus();
}

// Step 6: a withdrawal the policy allows without approval.
util::Status Demo::CustomerWithdrawal() {
  say_.Step("A customer withdrawal. ops-bot signs an intent with its own key: pay " +
            FormatBtc(kWithdrawalSats) + " to " + customer_address_ +
            " (a customer), and submits it to kinkod.");
  util::Result<Json> intent = SubmitIntent(customer_address_, kWithdrawalSats, "withdrawal-1001");
  if (!intent.ok()) return intent.status();
  say_.Say("kinkod: " + DescribeState(*intent) + ".");
  if (Text(*intent, "state") != "approved") {
    return util::FailedPreconditionError("the withdrawal is not approved: " + intent->dump());
  }
  say_.Say("The operator executes it (POST /v1/wallets/hot/execute).");
  util::Result<Json> executed = Execute(Text(*intent, "id"));
  if (!executed.ok()) return executed.status();
  return ShowSignedBatch(*executed);
}

// Step 7: a transfer that needs two approvals.
util::Status Demo::ColdStorageTransfer() {
  say_.Step("A transfer to cold storage. ops-bot asks for " + FormatBtc(kColdStorageSats) +
            " to cold-storage (" + cold_storage_address_ + "), above what it may send alone.");
  util::Result<Json> intent =
      SubmitIntent(cold_storage_address_, kColdStorageSats, "rebalance-2026-12");
  if (!intent.ok()) return intent.status();
  say_.Say("kinkod: " + DescribeState(*intent) + ".");
  if (Text(*intent, "state") != "awaiting_approvals") {
    return util::FailedPreconditionError("the transfer is not awaiting approvals: " +
                                         intent->dump());
  }
  const std::string id = Text(*intent, "id");
  const policy::SignedIntent& signed_intent = intents_.at(id);
  Json state = *intent;
  for (const char* approver : {"alice", "bob"}) {
    util::Result<Json> approved = Approve(Find(approver), signed_intent, id);
    if (!approved.ok()) return approved.status();
    state = *approved;
    say_.Say(std::string(approver) +
             " reads the intent on their own screen and signs an approval of its digest. "
             "kinkod: " +
             DescribeState(state) + ".");
  }
  if (Text(state, "state") != "approved") {
    return util::FailedPreconditionError("the transfer is not approved: " + state.dump());
  }
  say_.Say("The operator executes it.");
  util::Result<Json> executed = Execute(id);
  if (!executed.ok()) return executed.status();
  return ShowSignedBatch(*executed);
}

// The attacker's move: rewrite the outputs kinkod stored for the intent, straight in SQLite
// (kinkod keeps running; SQLite lets another process write with its locking).
util::Status Demo::RewriteIntentRow(const std::string& intent_id_hex, const std::string& address,
                                    int64_t sats) {
  util::Result<std::vector<uint8_t>> id = util::HexDecodeExact(intent_id_hex, 16);
  if (!id.ok()) return id.status();
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(kinkod_db_.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    const std::string message = db != nullptr ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return util::UnavailableError("cannot open " + kinkod_db_ + ": " + message);
  }
  sqlite3_busy_timeout(db, 5000);
  // storage/sqlite_store.cc: intent_outputs (intent_id, position, address, sats).
  const char* sql = "UPDATE intent_outputs SET address = ?1, sats = ?2 WHERE intent_id = ?3";
  sqlite3_stmt* statement = nullptr;
  int rc = sqlite3_prepare_v2(db, sql, -1, &statement, nullptr);
  if (rc == SQLITE_OK) {
    sqlite3_bind_text(statement, 1, address.c_str(), static_cast<int>(address.size()),
                      SQLITE_TRANSIENT);
    sqlite3_bind_int64(statement, 2, sats);
    sqlite3_bind_blob(statement, 3, id->data(), static_cast<int>(id->size()), SQLITE_TRANSIENT);
    rc = sqlite3_step(statement);
  }
  const std::string message = sqlite3_errmsg(db);
  const int changed = sqlite3_changes(db);
  sqlite3_finalize(statement);
  sqlite3_close(db);
  if (rc != SQLITE_DONE) return util::UnavailableError("rewriting kinkod.db: " + message);
  if (changed == 0) return util::NotFoundError("kinkod.db has no output row for the intent");
  return util::OkStatus();
}

// The latest decision of `signer` about `intent_id` among the last 100 entries of its audit log
// (GET /v1/audit/head and /v1/audit/entries), or nullopt when there is none.
util::Result<std::optional<LoggedDecision>> Demo::FindDecision(const SignerNode& signer,
                                                               const policy::IntentId& intent_id) {
  util::Result<net::HttpClient> client = net::HttpClient::Create(signer.url);
  if (!client.ok()) return client.status();
  util::Result<net::HttpResponse> head = client->Get("/v1/audit/head");
  if (!head.ok()) return head.status();
  util::Result<signerapi::AuditHead> decoded_head = signerapi::DecodeAuditHead(head->body);
  if (!decoded_head.ok()) return decoded_head.status().WithPrefix(signer.url + "/v1/audit/head");
  const uint64_t size = decoded_head->tree_size;
  const uint64_t from = size > 100 ? size - 100 : 0;
  const std::string path =
      "/v1/audit/entries?from=" + std::to_string(from) + "&count=" + std::to_string(size - from);
  util::Result<net::HttpResponse> page = client->Get(path);
  if (!page.ok()) return page.status();
  util::Result<signerapi::EntriesResponse> entries = signerapi::DecodeEntries(page->body);
  if (!entries.ok()) return entries.status().WithPrefix(signer.url + path);
  std::optional<LoggedDecision> found;
  for (size_t i = 0; i < entries->entries.size(); ++i) {
    util::Result<auditlog::Entry> entry = auditlog::Entry::Decode(entries->entries[i]);
    if (!entry.ok()) return entry.status().WithPrefix(signer.url + " audit entry");
    const auto* decision = std::get_if<auditlog::DecisionEntry>(&entry->body());
    if (decision == nullptr) continue;
    if (std::find(decision->intent_ids.begin(), decision->intent_ids.end(), intent_id) ==
        decision->intent_ids.end()) {
      continue;
    }
    found = LoggedDecision{.index = entries->from + i, .entry = *decision};
  }
  return found;
}

// Step 8: the 2024 attack.
util::Status Demo::ReplayAttack() {
  say_.Step(
      "The 2024 attack, replayed. In May 2024 an exchange lost 4,502.9 BTC: attackers inside a "
      "vendor's systems altered a legitimate transfer request, destination and amount, and the "
      "altered request was signed. Here ops-bot asks for " +
      FormatBtc(kAttackedIntentSats) + " to a customer (" + second_customer_address_ + ").");
  util::Result<Json> intent =
      SubmitIntent(second_customer_address_, kAttackedIntentSats, "withdrawal-1002");
  if (!intent.ok()) return intent.status();
  const std::string id = Text(*intent, "id");
  say_.Say("kinkod: " + DescribeState(*intent) + ".");
  if (Text(*intent, "state") != "approved") {
    return util::FailedPreconditionError("the third intent is not approved: " + intent->dump());
  }
  const std::vector<std::string> exported_before = ExportedFiles();
  if (util::Status s = RewriteIntentRow(id, attacker_address_, kAttackerSats); !s.ok()) return s;
  util::Result<Json> rewritten = operator_client_->Get("/v1/intents/" + id);
  if (!rewritten.ok()) return rewritten.status();
  std::string shown;
  for (const Json& output : Member(*rewritten, "outputs")) {
    shown += FormatBtc(Number(output, "sats")) + " to " + Text(output, "address");
  }
  say_.Say(
      "Now an attacker who owns kinkod's host rewrites that intent's row in kinkod's database "
      "(kinkod.db, with SQLite, while kinkod runs): kinkod now shows the intent as paying " +
      shown +
      " (the attacker's address, and more than ops-bot may send alone). The operator, "
      "seeing an approved intent, executes it.");
  util::Result<Json> executed = Execute(id);
  if (!executed.ok()) {
    say_.Say("kinkod answers: " + executed.status().message() + ".");
  } else {
    const Json& batches = Member(*executed, "batches");
    if (batches.is_array() && !batches.empty()) {
      say_.Say("kinkod builds a transaction paying the attacker (batch " + Text(batches[0], "id") +
               ") and asks the signers.");
    }
  }
  const policy::IntentId intent_id = intents_.at(id).intent().fields().id;
  say_.Say(
      "Each signer checks the transaction against the intent ops-bot signed, not against "
      "kinkod's database, and logs its decision before it answers. Read back from each signer's "
      "own audit log (GET /v1/audit/entries, decoded here):");
  size_t refusals = 0;
  for (const SignerNode& node : signers_) {
    util::Result<std::optional<LoggedDecision>> decision = FindDecision(node, intent_id);
    if (!decision.ok()) return decision.status();
    const std::string name = "Signer " + std::to_string(node.number);
    if (!decision->has_value()) {
      say_.Item(name + ": was not asked (no decision about this intent in its log)");
      continue;
    }
    const auditlog::DecisionEntry& entry = (*decision)->entry;
    const uint64_t index = (*decision)->index;
    if (entry.outcome == auditlog::Outcome::kSigned) {
      return util::InternalError(name + " SIGNED the attacker's transaction (audit entry " +
                                 std::to_string(index) + ")");
    }
    ++refusals;
    say_.Item(name + " refused: " + entry.code + " — " + entry.detail + " (audit entry " +
              std::to_string(index) + ")");
  }
  util::Result<Json> after = operator_client_->Get("/v1/intents/" + id);
  if (!after.ok()) return after.status();
  say_.Say("kinkod records the intent as " + Text(*after, "state") +
           ", with each signer's "
           "reason in its detail.");
  if (!options_.regtest) {
    const std::vector<std::string> exported_after = ExportedFiles();
    if (exported_after != exported_before) {
      return util::InternalError("a file was exported for the attacked intent");
    }
    say_.Say("Nothing was exported for it: out/ still holds " +
             std::to_string(exported_after.size()) +
             " transactions, the two that people asked for. The attacker got nothing.");
  } else {
    util::Result<Json> mempool = node_->Call("getrawmempool", Json::array());
    if (!mempool.ok()) return mempool.status();
    if (!mempool->empty()) {
      return util::InternalError("the node's mempool is not empty: " + mempool->dump());
    }
    say_.Say(
        "Nothing was broadcast for it: the node's mempool is empty. The attacker got "
        "nothing.");
  }
  util::Result<Json> wallet = operator_client_->Get("/v1/wallets/hot");
  if (!wallet.ok()) return wallet.status();
  const Json& balance = Member(*wallet, "balance");
  say_.Say("The wallet now has " + FormatBtc(Number(balance, "available")) +
           " to spend: what it was funded with, less the two payments people asked for and "
           "their fees.");
  if (refusals < 2) {
    return util::InternalError("fewer than two signers refused the attacker's transaction");
  }
  return util::OkStatus();
}

// Step 9: the audit logs.
util::Status Demo::VerifyAuditLogs() {
  say_.Step(
      "Audit logs. Each signer's log is rebuilt from its first entry and checked against every "
      "signed tree head, with the head key each signer printed at the ceremony (`kinko audit "
      "verify --signer URL --signer-key KEY`):");
  for (const SignerNode& node : signers_) {
    const std::string name = "signer-" + std::to_string(node.number) + "-audit-verify";
    util::Result<Json> verified = RunJson({kinko_, "audit", "verify", "--signer", node.url,
                                           "--signer-key", node.identity_public_key, "--json"},
                                          name, /*with_passphrase=*/false);
    if (!verified.ok()) return verified.status();
    if (!Member(*verified, "verified").is_boolean() || !Member(*verified, "verified").get<bool>()) {
      return util::DataLossError("signer " + std::to_string(node.number) +
                                 "'s audit log does not verify: " + verified->dump());
    }
    const Json& decisions = Member(*verified, "decisions");
    say_.Item("Signer " + std::to_string(node.number) + ": audit log verified, " +
              Text(*verified, "tree_size") + " entries (" + Text(decisions, "signed") +
              " signed, " + Text(decisions, "refused") + " refused), head " +
              ShortHex(Text(*verified, "root_hash")));
  }
  say_.Say(
      "A monitor keeps these heads; a signer whose later log does not extend them has been "
      "tampered with or rolled back.");
  return util::OkStatus();
}

// The signals that stop the demo, blocked while it runs (and unblocked in its children).
sigset_t StopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  return set;
}

// Blocks StopSignals() while it lives; a signal that arrived meanwhile is delivered when it is
// destroyed (after the cleanup), ending the process as it would have. Not copyable.
class StopSignalsBlocked final {
 public:
  StopSignalsBlocked() {
    const sigset_t set = StopSignals();
    sigprocmask(SIG_BLOCK, &set, &saved_);
  }
  ~StopSignalsBlocked() { sigprocmask(SIG_SETMASK, &saved_, nullptr); }
  StopSignalsBlocked(const StopSignalsBlocked&) = delete;
  StopSignalsBlocked& operator=(const StopSignalsBlocked&) = delete;

 private:
  sigset_t saved_;
};

util::Result<CommandOutput> DemoRun(const DemoOptions& options) {
  const StopSignalsBlocked blocked;
  util::Result<WorkDir> dir = WorkDir::Create(options.keep_dir);
  if (!dir.ok()) return dir.status();
  Narrator narrator(stdout);
  util::Status status = util::OkStatus();
  {
    // Demo's destructor stops every process before the directory is removed.
    Demo demo(options, dir->path(), narrator);
    status = demo.Run();
  }
  if (!status.ok()) {
    return status.WithPrefix("demo failed (logs in " + dir->path() + "/logs" +
                             (dir->keep() ? "" : ", removed; run with --keep DIR to keep them") +
                             ")");
  }
  return CommandOutput{.text = std::string()};
}

}  // namespace

void RegisterDemoCommands(CLI::App& app, Dispatcher& dispatcher) {
  auto options = std::make_shared<DemoOptions>();
  CLI::App* demo = app.add_subcommand(
      "demo",
      "Run the whole system on this machine: three kinko-signer processes, a kinkod, a 2-of-3 "
      "wallet, two withdrawals and the 2024 attack replayed; told step by step as it runs");
  demo->add_option("--keep", options->keep_dir,
                   "Work in DIR (new or empty) and keep it: keys, policy, databases, logs");
  demo->add_flag("--regtest", options->regtest,
                 "Use a Bitcoin Core regtest node ($BITCOIND) instead of the offline backend");
  demo->callback(
      [&dispatcher, options] { dispatcher.Select([options] { return DemoRun(*options); }); });
}

}  // namespace kinko::cli
