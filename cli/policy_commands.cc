// kinko policy compile | sign | verify | show | lint | diff | check: policies from their TOML
// source to a signed file, their review, and the dry run of a request against one
// (policy/policy.h, policy_toml.h, governance.h, lint.h, evaluate.h; doc/policy.md).
//
// Every command reads a policy either from its TOML source (a path ending in ".toml", compiled)
// or from a policy file (the canonical encoding of a SignedPolicy, every signature verified on
// reading). Answers are text for a person, or JSON with --json. A refusal (missing admin
// signatures, a signature that does not verify, a stale sequence, a request the policy does not
// allow) is a negative answer, exit status 1; malformed input is exit status 2.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "btc/amount.h"
#include "cli/command.h"
#include "cli/secure_io.h"
#include "cli/signed_files.h"
#include "cli/velocity_state.h"
#include "policy/approval.h"
#include "policy/evaluate.h"
#include "policy/governance.h"
#include "policy/intent.h"
#include "policy/lint.h"
#include "policy/policy.h"
#include "policy/policy_toml.h"
#include "util/hex.h"

namespace kinko::cli {
namespace {

// An address book may hold a million entries: policy files and their sources are larger than
// intents.
constexpr size_t kMaxPolicyFileSize = 64 << 20;
constexpr size_t kMaxStateFileSize = 64 << 20;

uint64_t Now() { return static_cast<uint64_t>(std::time(nullptr)); }

bool EndsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

bool IsTomlPath(std::string_view path) { return EndsWith(path, ".toml"); }

// Refusals are what a signer would refuse: a signature that does not verify or does not count
// (kPermissionDenied) and a proposal that does not follow the current policy
// (kFailedPrecondition). Everything else is malformed input.
bool IsRefusal(const util::Status& status) {
  return status.code() == util::StatusCode::kPermissionDenied ||
         status.code() == util::StatusCode::kFailedPrecondition;
}

// "name          value\n": the aligned lines of the text answers.
void Line(std::string& out, std::string_view name, std::string_view value) {
  AppendLine(out, name, value, 12);
}

// Seconds since the Unix epoch, or an ISO 8601 UTC time "2026-01-01T00:00:00Z"; the current
// time when `text` is empty.
util::Result<uint64_t> ParseTimeArgument(std::string_view what, const std::string& text) {
  if (text.empty()) return Now();
  if (text.find_first_not_of("0123456789") == std::string::npos) {
    return ParseUnsignedArgument(what, text, policy::kMaxTime);
  }
  std::tm tm{};
  char z = 0;
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%c%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &z, &consumed) != 7 ||
      z != 'Z' || static_cast<size_t>(consumed) != text.size()) {
    return util::InvalidArgumentError(std::string(what) + ": " + text +
                                      ": expected seconds since 1970 or 2026-01-31T12:00:00Z");
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  const std::time_t seconds = timegm(&tm);
  // Formatting back refuses what timegm normalized (February 30, hour 24) and early years.
  if (seconds < 0 || IsoTime(static_cast<uint64_t>(seconds)) != text) {
    return util::InvalidArgumentError(std::string(what) + ": " + text + ": not a valid time");
  }
  return static_cast<uint64_t>(seconds);
}

util::Result<policy::Policy> CompileTomlFile(const std::string& path) {
  util::Result<std::vector<uint8_t>> bytes = ReadSmallFile(path, kMaxPolicyFileSize);
  if (!bytes.ok()) return bytes.status();
  const std::string text(bytes->begin(), bytes->end());
  return policy::CompilePolicyToml(text, path);
}

// The signed policy in `path`, every signature verified. Fails with kPermissionDenied
// "`path`: signature N: policy signature: ..." when one does not verify (an altered file).
util::Result<policy::SignedPolicy> ReadPolicyFile(const std::string& path) {
  if (IsTomlPath(path)) {
    return util::InvalidArgumentError(path +
                                      ": a policy source; compile it first with kinko "
                                      "policy compile");
  }
  util::Result<std::vector<uint8_t>> bytes = ReadSmallFile(path, kMaxPolicyFileSize);
  if (!bytes.ok()) return bytes.status();
  util::Result<policy::SignedPolicy> signed_policy = policy::SignedPolicy::Decode(*bytes);
  if (!signed_policy.ok()) return signed_policy.status().WithPrefix(path);
  return signed_policy;
}

// A policy from its TOML source or from a policy file (its signatures verified, not counted).
util::Result<policy::Policy> ReadPolicyOrSource(const std::string& path) {
  if (IsTomlPath(path)) return CompileTomlFile(path);
  util::Result<policy::SignedPolicy> signed_policy = ReadPolicyFile(path);
  if (!signed_policy.ok()) return signed_policy.status();
  return signed_policy->policy();
}

std::string DigestHex(const policy::Digest& digest) { return util::HexEncode(digest); }

// "alice (9163 e333 ...)", or the grouped key id alone for a key the policy does not name.
std::string KeyName(const policy::Policy& policy, const policy::KeyId& id) {
  const std::optional<std::string_view> label = policy.KeyLabel(id);
  if (!label) return "key " + policy::GroupedHex(id) + " (not named in the policy)";
  return std::string(*label) + " (" + policy::GroupedHex(id) + ")";
}

std::string Join(const std::vector<std::string>& items, std::string_view separator) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += separator;
    out += items[i];
  }
  return out;
}

// The labels of the admins of `admins_of` that signed `signed_policy`, sorted.
std::vector<std::string> AdminSigners(const policy::SignedPolicy& signed_policy,
                                      const policy::Policy& admins_of) {
  const std::vector<policy::KeyId> admins = admins_of.AdminIds();
  std::vector<std::string> out;
  for (const policy::Signature& signature : signed_policy.signatures()) {
    const policy::KeyId id = policy::SignerKeyId(signature);
    if (std::find(admins.begin(), admins.end(), id) == admins.end()) continue;
    out.push_back(std::string(admins_of.KeyLabel(id).value_or("?")));
  }
  std::sort(out.begin(), out.end());
  return out;
}

Json AmountJson(const btc::Amount& amount) {
  Json out = Json::object();
  out["btc"] = amount.ToBtcString();
  out["sat"] = amount.sats();
  return out;
}

Json SignaturesJson(const policy::SignedPolicy& signed_policy) {
  Json out = Json::array();
  for (const policy::Signature& signature : signed_policy.signatures()) {
    const policy::KeyId id = policy::SignerKeyId(signature);
    Json s = Json::object();
    s["key_id"] = util::HexEncode(id);
    const std::optional<std::string_view> label = signed_policy.policy().KeyLabel(id);
    s["label"] = label ? Json(std::string(*label)) : Json(nullptr);
    s["verified"] = true;  // SignedPolicy::Decode verified it.
    out.push_back(std::move(s));
  }
  return out;
}

// The policy's fields as JSON, in the order and with the names of the TOML source.
Json DescribePolicy(const policy::Policy& policy) {
  const policy::PolicyFields& f = policy.fields();
  Json out = Json::object();
  out["digest"] = DigestHex(policy.digest());
  out["digest_grouped"] = policy::GroupedHex(policy.digest());
  out["network"] = std::string(btc::NetworkName(f.network));
  out["sequence"] = f.sequence;
  out["activation_delay"] = policy::FormatDuration(f.activation_delay);
  out["activation_delay_seconds"] = f.activation_delay;
  out["predecessor"] = f.predecessor ? Json(DigestHex(*f.predecessor)) : Json(nullptr);
  Json governance = Json::object();
  governance["admins"] = f.governance.admins;
  governance["threshold"] = f.governance.threshold;
  out["governance"] = std::move(governance);
  Json keys = Json::object();
  for (const policy::NamedKey& key : f.keys) keys[key.label] = util::HexEncode(key.id);
  out["keys"] = std::move(keys);
  Json groups = Json::object();
  for (const policy::Group& group : f.groups) groups[group.name] = group.members;
  out["groups"] = std::move(groups);
  Json book = Json::array();
  for (const policy::AddressBookEntry& entry : f.address_book) {
    book.push_back(Json{{"label", entry.label}, {"address", entry.address}});
  }
  out["address_book"] = std::move(book);
  Json limits = Json::object();
  if (f.limits.per_transaction) limits["per_transaction"] = AmountJson(*f.limits.per_transaction);
  if (!f.limits.windows.empty()) {
    Json windows = Json::object();
    for (const policy::Window& window : f.limits.windows) {
      windows[policy::FormatDuration(window.duration)] = AmountJson(window.max);
    }
    limits["windows"] = std::move(windows);
  }
  if (f.limits.fee_max) limits["fee_max"] = AmountJson(*f.limits.fee_max);
  if (f.limits.fee_rate_max_sat_per_kvb) {
    limits["fee_rate_max"] = policy::FormatFeeRate(*f.limits.fee_rate_max_sat_per_kvb);
  }
  if (f.limits.outputs_max) limits["outputs_max"] = *f.limits.outputs_max;
  out["limits"] = std::move(limits);
  Json rules = Json::array();
  for (const policy::Rule& rule : f.rules) {
    Json r = Json::object();
    r["name"] = rule.name;
    if (!rule.wallets.empty()) r["wallets"] = rule.wallets;
    if (!rule.requesters.empty()) r["requesters"] = rule.requesters;
    switch (rule.destination.kind) {
      case policy::DestinationKind::kAny:
        r["destination"] = "any";
        break;
      case policy::DestinationKind::kAddressBook:
        r["destination"] = "address_book";
        break;
      case policy::DestinationKind::kLabels:
        r["destination"] = rule.destination.labels;
        break;
    }
    if (rule.amount_min) r["amount_min"] = AmountJson(*rule.amount_min);
    if (rule.amount_max) r["amount_max"] = AmountJson(*rule.amount_max);
    if (rule.outputs_max) r["outputs_max"] = *rule.outputs_max;
    switch (rule.action) {
      case policy::RuleAction::kAllow: {
        r["action"] = "allow";
        Json approvals = Json::array();
        for (const policy::ApprovalRequirement& requirement : rule.approvals) {
          approvals.push_back(
              Json{{"group", requirement.group}, {"threshold", requirement.threshold}});
        }
        r["approvals"] = std::move(approvals);
        break;
      }
      case policy::RuleAction::kDeny:
        r["action"] = "deny";
        break;
    }
    rules.push_back(std::move(r));
  }
  out["rules"] = std::move(rules);
  return out;
}

// "1 rule", "3 rules".
std::string Count(size_t n, std::string_view one, std::string_view many) {
  return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

// A short summary of a policy: digest, network, sequence, predecessor, governance, sizes.
std::string SummarizePolicy(const policy::Policy& policy) {
  const policy::PolicyFields& f = policy.fields();
  std::string out;
  Line(out, "digest", policy::GroupedHex(policy.digest()));
  Line(out, "network", btc::NetworkName(f.network));
  Line(out, "sequence", std::to_string(f.sequence));
  Line(out, "predecessor",
       f.predecessor ? policy::GroupedHex(*f.predecessor) : "(none: a first policy)");
  Line(out, "delay", policy::FormatDuration(f.activation_delay) + " before a loosening applies");
  Line(out, "governance",
       std::to_string(f.governance.threshold) + " of " + Join(f.governance.admins, ", "));
  Line(out, "contents",
       Count(f.keys.size(), "key", "keys") + ", " + Count(f.groups.size(), "group", "groups") +
           ", " + Count(f.address_book.size(), "address-book entry", "address-book entries") +
           ", " + Count(f.rules.size(), "rule", "rules"));
  return out;
}

// The refusal answer: exit status 1, the reason on stdout.
CommandOutput Refused(std::string_view reason, bool json) {
  if (json) {
    Json out = Json::object();
    out["valid"] = false;
    out["reason"] = std::string(reason);
    return CommandOutput{.json = std::move(out), .exit_code = kExitNegative};
  }
  std::string text;
  Line(text, "refused", reason);
  return CommandOutput{.text = std::move(text), .exit_code = kExitNegative};
}

// ---- compile ----

struct CompileOptions {
  std::string source;
  std::string out;
  std::string predecessor;
  bool json = false;
};

util::Result<CommandOutput> PolicyCompile(const CompileOptions& options) {
  util::Result<policy::Policy> compiled = CompileTomlFile(options.source);
  if (!compiled.ok()) return compiled.status();
  policy::Policy policy = *std::move(compiled);
  if (!options.predecessor.empty()) {
    util::Result<policy::SignedPolicy> current = ReadPolicyFile(options.predecessor);
    if (!current.ok()) return current.status();
    const policy::Digest& digest = current->policy().digest();
    policy::PolicyFields fields = policy.fields();
    if (fields.predecessor && *fields.predecessor != digest) {
      return util::InvalidArgumentError(options.source + ": predecessor " +
                                        DigestHex(*fields.predecessor) + " is not the digest of " +
                                        options.predecessor + " (" + DigestHex(digest) + ")");
    }
    const uint64_t current_sequence = current->policy().fields().sequence;
    if (fields.sequence <= current_sequence) {
      return util::InvalidArgumentError(
          options.source + ": sequence " + std::to_string(fields.sequence) +
          " is not greater than the sequence " + std::to_string(current_sequence) + " of " +
          options.predecessor);
    }
    fields.predecessor = digest;
    util::Result<policy::Policy> with_predecessor = policy::Policy::Create(std::move(fields));
    if (!with_predecessor.ok()) return with_predecessor.status().WithPrefix(options.source);
    policy = *std::move(with_predecessor);
  }
  std::string path = options.out;
  if (path.empty()) {
    path = IsTomlPath(options.source)
               ? options.source.substr(0, options.source.size() - 5) + ".policy"
               : options.source + ".policy";
  }
  const policy::SignedPolicy unsigned_policy = policy::SignedPolicy::Unsigned(policy);
  if (util::Status written = WriteNewFile(path, unsigned_policy.Encode(), 0644); !written.ok()) {
    return written;
  }
  if (options.json) {
    Json out = Json::object();
    out["file"] = path;
    out["digest"] = DigestHex(policy.digest());
    out["digest_grouped"] = policy::GroupedHex(policy.digest());
    out["sequence"] = policy.fields().sequence;
    out["predecessor"] =
        policy.fields().predecessor ? Json(DigestHex(*policy.fields().predecessor)) : Json(nullptr);
    out["signatures"] = 0;
    return CommandOutput{.json = std::move(out)};
  }
  std::string text;
  Line(text, "compiled", options.source + " into " + path + " (no signatures yet)");
  text += SummarizePolicy(policy);
  Line(text, "next", "each admin signs: kinko policy sign " + path + " --key ADMIN.key");
  return CommandOutput{.text = std::move(text)};
}

// ---- sign ----

struct SignOptions {
  std::string path;
  std::string key;
  std::optional<int> passphrase_fd;
  bool json = false;
};

util::Result<CommandOutput> PolicySign(const SignOptions& options) {
  util::Result<policy::SignedPolicy> signed_policy = ReadPolicyFile(options.path);
  if (!signed_policy.ok()) return signed_policy.status();
  util::Result<crypto::Ed25519PrivateKey> key = UnlockKey(options.key, options.passphrase_fd);
  if (!key.ok()) return key.status();
  const policy::KeyId signer = policy::Ed25519KeyId(key->public_key());
  util::Result<policy::SignedPolicy> next = signed_policy->AddSignature(*key);
  if (!next.ok()) {
    if (next.status().code() == util::StatusCode::kAlreadyExists) {
      return util::AlreadyExistsError(options.path + ": already signed by " +
                                      KeyName(signed_policy->policy(), signer));
    }
    return next.status().WithPrefix(options.path);
  }
  if (util::Status written = ReplaceFile(options.path, next->Encode(), 0644); !written.ok()) {
    return written;
  }
  const policy::Policy& policy = next->policy();
  const std::vector<std::string> admins = AdminSigners(*next, policy);
  const std::vector<policy::KeyId> admin_ids = policy.AdminIds();
  const bool is_admin = std::find(admin_ids.begin(), admin_ids.end(), signer) != admin_ids.end();
  if (options.json) {
    Json out = Json::object();
    out["file"] = options.path;
    out["signer"] = util::HexEncode(signer);
    out["signer_label"] =
        policy.KeyLabel(signer) ? Json(std::string(*policy.KeyLabel(signer))) : Json(nullptr);
    out["signer_is_admin"] = is_admin;
    out["signatures"] = next->signatures().size();
    out["admin_signatures"] = admins.size();
    out["threshold"] = policy.fields().governance.threshold;
    return CommandOutput{.json = std::move(out)};
  }
  std::string text;
  Line(text, "signed", options.path);
  Line(text, "signer", KeyName(policy, signer));
  if (!is_admin) {
    Line(text, "note",
         "not an admin of this policy: the signature counts only if the key is an admin of the "
         "policy this one replaces");
  }
  Line(text, "signatures",
       std::to_string(next->signatures().size()) + " (" + std::to_string(admins.size()) +
           " by admins of this policy" + (admins.empty() ? "" : ": " + Join(admins, ", ")) +
           "; its threshold is " + std::to_string(policy.fields().governance.threshold) + ")");
  return CommandOutput{.text = std::move(text)};
}

// ---- verify ----

struct VerifyOptions {
  std::string path;
  std::string current;
  std::string admins;
  std::optional<uint32_t> threshold;
  std::string now;
  bool json = false;
};

util::Result<std::vector<policy::KeyId>> ParseKeyIds(const std::string& list) {
  std::vector<policy::KeyId> out;
  size_t start = 0;
  while (start <= list.size()) {
    const size_t comma = std::min(list.find(',', start), list.size());
    const std::string item = list.substr(start, comma - start);
    util::Result<std::vector<uint8_t>> bytes = util::HexDecodeExact(item, 32);
    if (!bytes.ok()) {
      return bytes.status().WithPrefix("--admins: key id " + std::to_string(out.size() + 1));
    }
    policy::KeyId id{};
    std::copy(bytes->begin(), bytes->end(), id.begin());
    // A key listed twice would make the threshold look reachable with fewer admins.
    if (std::find(out.begin(), out.end(), id) != out.end()) {
      return util::InvalidArgumentError("--admins: key id " + std::to_string(out.size() + 1) +
                                        " is listed twice");
    }
    out.push_back(id);
    start = comma + 1;
  }
  return out;
}

util::Result<CommandOutput> PolicyVerify(const VerifyOptions& options) {
  const bool with_admins = !options.admins.empty() || options.threshold.has_value();
  if (!options.current.empty() && with_admins) {
    return util::InvalidArgumentError("give --current, or --admins with --threshold, not both");
  }
  if (with_admins && (options.admins.empty() || !options.threshold)) {
    return util::InvalidArgumentError("--admins and --threshold go together");
  }
  util::Result<uint64_t> now = ParseTimeArgument("--now", options.now);
  if (!now.ok()) return now.status();
  util::Result<policy::SignedPolicy> signed_policy = ReadPolicyFile(options.path);
  if (!signed_policy.ok()) {
    if (IsRefusal(signed_policy.status())) {
      return Refused(signed_policy.status().message(), options.json);
    }
    return signed_policy.status();
  }
  const policy::Policy& policy = signed_policy->policy();
  Json out = Json::object();
  out["valid"] = true;
  out["file"] = options.path;
  out["digest"] = DigestHex(policy.digest());
  out["sequence"] = policy.fields().sequence;
  std::string text;
  if (!options.current.empty()) {
    util::Result<policy::SignedPolicy> current = ReadPolicyFile(options.current);
    if (!current.ok()) return current.status();
    const policy::GovernanceState state{
        .active = *current, .active_since = *now, .pending = std::nullopt, .pending_from = 0};
    util::Result<policy::Acceptance> acceptance = policy::Propose(state, *signed_policy, *now);
    if (!acceptance.ok()) {
      if (IsRefusal(acceptance.status())) {
        return Refused(acceptance.status().message(), options.json);
      }
      return acceptance.status();
    }
    const std::vector<std::string> signers = AdminSigners(*signed_policy, current->policy());
    const uint64_t delay = current->policy().fields().activation_delay;
    size_t loosening = 0;
    for (const policy::Change& change : acceptance->changes) {
      if (change.effect == policy::ChangeEffect::kLoosens) ++loosening;
    }
    out["signed_by"] = signers;
    out["threshold"] = current->policy().fields().governance.threshold;
    out["changes"] = acceptance->changes.size();
    out["loosening_changes"] = loosening;
    out["immediate"] = acceptance->immediate;
    out["effective_from"] = IsoTime(acceptance->effective_from);
    Line(text, "verified", options.path);
    text += SummarizePolicy(policy);
    Line(text, "signed by",
         Join(signers, ", ") + " (" + std::to_string(signers.size()) + " admins of " +
             options.current + ", which needs " +
             std::to_string(current->policy().fields().governance.threshold) + ")");
    Line(text, "follows",
         options.current + " (sequence " + std::to_string(current->policy().fields().sequence) +
             ", digest " + policy::GroupedHex(current->policy().digest()) + ")");
    Line(text, "changes",
         std::to_string(acceptance->changes.size()) + ", " + std::to_string(loosening) +
             " loosening (kinko policy diff " + options.current + " " + options.path + ")");
    Line(text, "takes effect",
         acceptance->immediate
             ? std::string("at once")
             : "after " + policy::FormatDuration(delay) + " (loosens): from " +
                   IsoTime(acceptance->effective_from) + " if installed at " + IsoTime(*now));
  } else {
    std::vector<policy::KeyId> admins;
    uint32_t threshold = 0;
    std::string against;
    if (with_admins) {
      util::Result<std::vector<policy::KeyId>> ids = ParseKeyIds(options.admins);
      if (!ids.ok()) return ids.status();
      admins = *std::move(ids);
      threshold = *options.threshold;
      if (threshold == 0 || threshold > admins.size()) {
        return util::InvalidArgumentError(
            "--threshold: must be between 1 and the number of "
            "--admins (" +
            std::to_string(admins.size()) + ")");
      }
      against = "the given admins";
    } else {
      admins = policy.AdminIds();
      threshold = policy.fields().governance.threshold;
      against = "its own admins (for a first policy: compare them with the keys you pin)";
    }
    if (util::Status checked = policy::CheckAdminSignatures(*signed_policy, admins, threshold);
        !checked.ok()) {
      if (IsRefusal(checked)) return Refused(checked.message(), options.json);
      return checked;
    }
    std::vector<std::string> signers;
    for (const policy::Signature& signature : signed_policy->signatures()) {
      const policy::KeyId id = policy::SignerKeyId(signature);
      if (std::find(admins.begin(), admins.end(), id) != admins.end()) {
        signers.push_back(KeyName(policy, id));
      }
    }
    out["signed_by"] = signers;
    out["threshold"] = threshold;
    Line(text, "verified", options.path);
    text += SummarizePolicy(policy);
    Line(text, "signed by",
         std::to_string(signers.size()) + " of " + std::to_string(admins.size()) + " admins (" +
             std::to_string(threshold) + " needed), against " + against);
    for (const std::string& signer : signers) Line(text, "", signer);
    if (policy.fields().predecessor) {
      Line(text, "note",
           "it names a predecessor: check the sequence and predecessor with --current");
    }
  }
  if (options.json) return CommandOutput{.json = std::move(out)};
  return CommandOutput{.text = std::move(text)};
}

// ---- show ----

util::Result<CommandOutput> PolicyShow(const std::string& path, bool json) {
  if (IsTomlPath(path)) {
    util::Result<policy::Policy> policy = CompileTomlFile(path);
    if (!policy.ok()) return policy.status();
    if (json) return CommandOutput{.json = DescribePolicy(*policy)};
    // RenderPolicy shows the digest.
    std::string text = policy::RenderPolicy(*policy);
    Line(text, "signatures", "none (a policy source)");
    return CommandOutput{.text = std::move(text)};
  }
  util::Result<policy::SignedPolicy> signed_policy = ReadPolicyFile(path);
  if (!signed_policy.ok()) return signed_policy.status();
  const policy::Policy& policy = signed_policy->policy();
  if (json) {
    Json out = DescribePolicy(policy);
    out["signatures"] = SignaturesJson(*signed_policy);
    return CommandOutput{.json = std::move(out)};
  }
  std::string text = policy::RenderPolicy(policy);
  Line(text, "signatures",
       std::to_string(signed_policy->signatures().size()) +
           " (each verified; kinko policy verify counts them)");
  for (const policy::Signature& signature : signed_policy->signatures()) {
    Line(text, "", KeyName(policy, policy::SignerKeyId(signature)));
  }
  return CommandOutput{.text = std::move(text)};
}

// ---- lint ----

struct LintOptions {
  std::string path;
  bool strict = false;
  bool json = false;
};

util::Result<CommandOutput> PolicyLint(const LintOptions& options) {
  util::Result<policy::Policy> policy = ReadPolicyOrSource(options.path);
  if (!policy.ok()) return policy.status();
  const policy::LintReport report = policy::Lint(*policy);
  const int exit_code = options.strict && !report.findings.empty() ? kExitNegative : kExitOk;
  if (options.json) {
    Json out = Json::object();
    Json findings = Json::array();
    for (const policy::LintFinding& finding : report.findings) {
      findings.push_back(Json{{"kind", std::string(policy::LintKindName(finding.kind))},
                              {"subject", finding.subject},
                              {"message", finding.message}});
    }
    out["findings"] = std::move(findings);
    Json exposure = Json::array();
    for (const policy::UnapprovedExposure& e : report.exposure) {
      Json item = Json::object();
      item["requester"] = e.requester;
      item["max_24h"] = e.max_24h ? AmountJson(*e.max_24h) : Json(nullptr);
      item["explanation"] = e.explanation;
      exposure.push_back(std::move(item));
    }
    out["unapproved_exposure"] = std::move(exposure);
    return CommandOutput{.json = std::move(out), .exit_code = exit_code};
  }
  std::string text;
  for (const policy::LintFinding& finding : report.findings) {
    text += std::string(policy::LintKindName(finding.kind)) + ": " + finding.subject + ": " +
            finding.message + "\n";
  }
  Line(text, "findings", std::to_string(report.findings.size()));
  text += "unapproved exposure (the most one requester key moves out in 24h without approval):\n";
  if (report.exposure.empty()) text += "  none: no requester may move funds without approval\n";
  for (const policy::UnapprovedExposure& e : report.exposure) {
    text += "  " + e.requester + ": " +
            (e.max_24h ? "at most " + BtcAndSats(*e.max_24h) : std::string("unbounded")) +
            (e.explanation.empty() ? "" : " (" + e.explanation + ")") + "\n";
  }
  return CommandOutput{.text = std::move(text), .exit_code = exit_code};
}

// ---- diff ----

util::Result<CommandOutput> PolicyDiff(const std::string& old_path, const std::string& new_path,
                                       bool json) {
  util::Result<policy::Policy> before = ReadPolicyOrSource(old_path);
  if (!before.ok()) return before.status();
  util::Result<policy::Policy> after = ReadPolicyOrSource(new_path);
  if (!after.ok()) return after.status();
  const std::vector<policy::Change> changes = policy::Compare(*before, *after);
  const bool loosens = policy::Loosens(changes);
  // Governance applies the delay of the policy in force, the old one.
  const std::string delay = policy::FormatDuration(before->fields().activation_delay);
  const std::string takes_effect = loosens ? "after " + delay + " (loosens)" : "at once";
  if (json) {
    Json out = Json::object();
    Json list = Json::array();
    for (const policy::Change& change : changes) {
      list.push_back(Json{{"path", change.path},
                          {"before", change.before},
                          {"after", change.after},
                          {"effect", std::string(policy::ChangeEffectName(change.effect))},
                          {"reason", change.reason}});
    }
    out["changes"] = std::move(list);
    out["loosens"] = loosens;
    out["takes_effect"] = takes_effect;
    return CommandOutput{.json = std::move(out)};
  }
  std::string text;
  if (changes.empty()) text += "no changes\n";
  for (const policy::Change& change : changes) {
    std::string effect(policy::ChangeEffectName(change.effect));
    effect.resize(std::max<size_t>(effect.size(), 8), ' ');  // "tightens" is the longest.
    text += effect + " " + change.path + ": " + (change.before.empty() ? "(none)" : change.before) +
            " -> " + (change.after.empty() ? "(none)" : change.after) +
            (change.reason.empty() ? "" : " (" + change.reason + ")") + "\n";
  }
  text += "takes effect: " + takes_effect + "\n";
  return CommandOutput{.text = std::move(text)};
}

// ---- check ----

util::Result<policy::VelocityState> ReadStateFile(const std::string& path) {
  util::Result<std::vector<uint8_t>> bytes = ReadSmallFile(path, kMaxStateFileSize);
  if (!bytes.ok()) return bytes.status();
  const std::string text(bytes->begin(), bytes->end());
  return ParseVelocityState(text, path);
}

struct CheckOptions {
  std::vector<std::string> files;
  std::string policy;
  std::string state;
  std::string now;
  std::optional<uint64_t> fee;
  std::optional<uint64_t> vsize;
  bool json = false;
};

// A refusal before evaluation: an intent or approval whose signature does not verify.
CommandOutput RefusedSignature(const std::string& message, bool json) {
  if (json) {
    Json out = Json::object();
    out["allowed"] = false;
    out["refusal"] = Json{{"code", "invalid_signature"}, {"detail", message}};
    return CommandOutput{.json = std::move(out), .exit_code = kExitNegative};
  }
  std::string text;
  Line(text, "refused", "invalid_signature");
  Line(text, "detail", message);
  return CommandOutput{.text = std::move(text), .exit_code = kExitNegative};
}

util::Result<CommandOutput> PolicyCheck(const CheckOptions& options) {
  util::Result<uint64_t> now = ParseTimeArgument("--now", options.now);
  if (!now.ok()) return now.status();
  std::optional<policy::TransactionFacts> transaction;
  if (options.fee.has_value() != options.vsize.has_value()) {
    return util::InvalidArgumentError("--fee and --vsize go together");
  }
  if (options.fee) {
    if (*options.vsize == 0) return util::InvalidArgumentError("--vsize: must be at least 1");
    if (*options.fee > static_cast<uint64_t>(btc::kMaxMoney)) {
      return util::InvalidArgumentError("--fee: more than 21 million BTC");
    }
    util::Result<btc::Amount> fee = btc::Amount::FromSats(static_cast<int64_t>(*options.fee));
    if (!fee.ok()) return fee.status().WithPrefix("--fee");
    transaction = policy::TransactionFacts{.fee = *fee, .vsize = *options.vsize};
  }
  util::Result<policy::Policy> policy = ReadPolicyOrSource(options.policy);
  if (!policy.ok()) return policy.status();
  policy::VelocityState velocity;
  if (!options.state.empty()) {
    util::Result<policy::VelocityState> state = ReadStateFile(options.state);
    if (!state.ok()) return state.status();
    velocity = *std::move(state);
  }
  // Each file is an intent or an approval: a file that decodes as neither is malformed; one
  // whose signature does not verify (an altered file) is refused as the signer would.
  std::vector<policy::IntentWithApprovals> request;
  std::vector<std::string> intent_paths;
  std::vector<std::pair<std::string, policy::SignedApproval>> approvals;
  for (const std::string& path : options.files) {
    util::Result<policy::SignedIntent> intent = ReadIntentFile(path);
    if (intent.ok()) {
      request.push_back({.intent = *std::move(intent), .approvals = {}});
      intent_paths.push_back(path);
      continue;
    }
    if (intent.status().code() == util::StatusCode::kPermissionDenied) {
      return RefusedSignature(intent.status().message(), options.json);
    }
    if (intent.status().code() != util::StatusCode::kInvalidArgument) return intent.status();
    util::Result<policy::SignedApproval> approval = ReadApprovalFile(path);
    if (approval.ok()) {
      approvals.emplace_back(path, *std::move(approval));
      continue;
    }
    if (approval.status().code() == util::StatusCode::kPermissionDenied) {
      return RefusedSignature(approval.status().message(), options.json);
    }
    return util::InvalidArgumentError(path + ": neither a signed intent nor a signed approval (" +
                                      intent.status().message() + ")");
  }
  if (request.empty()) return util::InvalidArgumentError("no intent file given");
  // Approvals go with the intent whose digest they name, in the order given.
  for (const auto& [path, approval] : approvals) {
    const policy::Digest& approved = approval.approval().fields().intent_digest;
    auto it = std::find_if(request.begin(), request.end(), [&approved](const auto& item) {
      return item.intent.intent().digest() == approved;
    });
    if (it == request.end()) {
      return util::InvalidArgumentError(path +
                                        ": approves none of the intents given (intent digest " +
                                        policy::GroupedHex(approved) + ")");
    }
    it->approvals.push_back(approval);
  }
  const policy::Verdict verdict = policy::Evaluate(request, *policy, velocity, *now, transaction);
  const int exit_code = verdict.allowed ? kExitOk : kExitNegative;
  if (options.json) {
    Json out = Json::object();
    out["allowed"] = verdict.allowed;
    out["policy_digest"] = DigestHex(policy->digest());
    out["now"] = IsoTime(*now);
    if (verdict.refusal) {
      const policy::Refusal& r = *verdict.refusal;
      Json refusal = Json::object();
      refusal["code"] = std::string(policy::RefusalCodeName(r.code));
      refusal["intent_index"] = r.intent_index ? Json(*r.intent_index) : Json(nullptr);
      refusal["rule"] = r.rule;
      refusal["limit"] = r.limit;
      refusal["detail"] = r.detail;
      out["refusal"] = std::move(refusal);
    } else {
      Json intents = Json::array();
      for (size_t i = 0; i < verdict.intents.size(); ++i) {
        intents.push_back(Json{{"id", util::HexEncode(request[i].intent.intent().fields().id)},
                               {"rule", verdict.intents[i].rule},
                               {"approvers", verdict.intents[i].approvers}});
      }
      out["intents"] = std::move(intents);
      out["spends"] = VelocityStateJson(verdict.spends)["spends"];
    }
    return CommandOutput{.json = std::move(out), .exit_code = exit_code};
  }
  std::string text;
  if (verdict.refusal) {
    const policy::Refusal& r = *verdict.refusal;
    Line(text, "refused", policy::RefusalCodeName(r.code));
    if (r.intent_index) {
      Line(text, "intent",
           std::to_string(*r.intent_index) + " (" + intent_paths[*r.intent_index] + ")");
    }
    if (!r.rule.empty()) Line(text, "rule", r.rule);
    if (!r.limit.empty()) Line(text, "limit", r.limit);
    Line(text, "detail", r.detail);
  } else {
    Line(text, "allowed", "policy " + policy::GroupedHex(policy->digest()));
    for (size_t i = 0; i < verdict.intents.size(); ++i) {
      const policy::Intent& intent = request[i].intent.intent();
      Line(text, "intent " + std::to_string(i),
           intent_paths[i] + ": id " + util::HexEncode(intent.fields().id) + ", wallet " +
               intent.fields().wallet + ", " + BtcAndSats(intent.total()));
      Line(text, "  rule", verdict.intents[i].rule);
      Line(text, "  approvers",
           verdict.intents[i].approvers.empty() ? "none needed"
                                                : Join(verdict.intents[i].approvers, ", "));
    }
    for (const policy::Spend& spend : verdict.spends) {
      Line(text, "record",
           "spend of " + BtcAndSats(spend.amount) + " from " + spend.wallet + " at " +
               IsoTime(spend.time) + " (" + std::to_string(spend.time) + "), once signed");
    }
  }
  Line(text, "now", IsoTime(*now));
  return CommandOutput{.text = std::move(text), .exit_code = exit_code};
}

}  // namespace

void RegisterPolicyCommands(CLI::App& app, Dispatcher& dispatcher) {
  CLI::App* group = app.add_subcommand(
      "policy", "Policies: compile from TOML, sign, verify, show, lint, diff, check a request");
  group->require_subcommand(1);

  auto compile = std::make_shared<CompileOptions>();
  CLI::App* compile_cmd = group->add_subcommand(
      "compile", "Compile a TOML policy into an unsigned policy file (default NAME.policy)");
  compile_cmd->add_option("SOURCE", compile->source, "The policy's TOML source")->required();
  compile_cmd->add_option("--out", compile->out, "The policy file to write (never overwritten)");
  compile_cmd->add_option("--predecessor", compile->predecessor,
                          "The policy file in force: its digest becomes the predecessor");
  compile_cmd->add_flag("--json", compile->json, "Print JSON instead of text");
  compile_cmd->callback(
      [&dispatcher, compile] { dispatcher.Select([compile] { return PolicyCompile(*compile); }); });

  auto sign = std::make_shared<SignOptions>();
  CLI::App* sign_cmd = group->add_subcommand(
      "sign", "Add an admin's signature to a policy file (replaced atomically)");
  sign_cmd->add_option("FILE", sign->path, "A policy file")->required();
  sign_cmd->add_option("--key", sign->key, "The admin's key file")->required();
  sign_cmd->add_option("--passphrase-fd", sign->passphrase_fd,
                       "Read the key's passphrase from this file descriptor (default: prompt)");
  sign_cmd->add_flag("--json", sign->json, "Print JSON instead of text");
  sign_cmd->callback(
      [&dispatcher, sign] { dispatcher.Select([sign] { return PolicySign(*sign); }); });

  auto verify = std::make_shared<VerifyOptions>();
  CLI::App* verify_cmd = group->add_subcommand(
      "verify",
      "Check a policy's admin signatures (exit 1 when refused): against the policy in force "
      "(--current, also sequence, predecessor and when it takes effect), given admins, or its "
      "own admins");
  verify_cmd->add_option("FILE", verify->path, "A policy file")->required();
  verify_cmd->add_option("--current", verify->current, "The policy file in force");
  verify_cmd->add_option("--admins", verify->admins, "Admin key ids (hex), comma-separated");
  verify_cmd->add_option("--threshold", verify->threshold, "How many --admins must have signed");
  verify_cmd->add_option("--now", verify->now,
                         "The time of installation: seconds since 1970 or ISO 8601 UTC");
  verify_cmd->add_flag("--json", verify->json, "Print JSON instead of text");
  verify_cmd->callback(
      [&dispatcher, verify] { dispatcher.Select([verify] { return PolicyVerify(*verify); }); });

  auto show = std::make_shared<std::pair<std::string, bool>>();
  CLI::App* show_cmd =
      group->add_subcommand("show", "Show a policy (file or TOML source) for a person");
  show_cmd->add_option("FILE", show->first, "A policy file or TOML source")->required();
  show_cmd->add_flag("--json", show->second, "Print JSON instead of text");
  show_cmd->callback([&dispatcher, show] {
    dispatcher.Select([show] { return PolicyShow(show->first, show->second); });
  });

  auto lint = std::make_shared<LintOptions>();
  CLI::App* lint_cmd = group->add_subcommand(
      "lint", "Report what in a policy is probably a mistake, and what moves without approval");
  lint_cmd->add_option("FILE", lint->path, "A policy file or TOML source")->required();
  lint_cmd->add_flag("--strict", lint->strict, "Exit 1 when there is any finding");
  lint_cmd->add_flag("--json", lint->json, "Print JSON instead of text");
  lint_cmd->callback(
      [&dispatcher, lint] { dispatcher.Select([lint] { return PolicyLint(*lint); }); });

  auto diff = std::make_shared<std::tuple<std::string, std::string, bool>>();
  CLI::App* diff_cmd = group->add_subcommand(
      "diff", "Every change from OLD to NEW, whether it tightens or loosens, and when it applies");
  diff_cmd->add_option("OLD", std::get<0>(*diff), "A policy file or TOML source")->required();
  diff_cmd->add_option("NEW", std::get<1>(*diff), "A policy file or TOML source")->required();
  diff_cmd->add_flag("--json", std::get<2>(*diff), "Print JSON instead of text");
  diff_cmd->callback([&dispatcher, diff] {
    dispatcher.Select(
        [diff] { return PolicyDiff(std::get<0>(*diff), std::get<1>(*diff), std::get<2>(*diff)); });
  });

  auto check = std::make_shared<CheckOptions>();
  CLI::App* check_cmd = group->add_subcommand(
      "check", "Evaluate intents and their approvals against a policy: exit 0 allowed, 1 refused");
  check_cmd->add_option("FILES", check->files, "Intent files and the approval files of them")
      ->required();
  check_cmd->add_option("--policy", check->policy, "A policy file or TOML source")->required();
  check_cmd->add_option("--state", check->state,
                        "Velocity state: {\"spends\":[{\"wallet\",\"time\",\"amount_sat\"}]}");
  check_cmd->add_option("--now", check->now, "The time: seconds since 1970 or ISO 8601 UTC");
  check_cmd->add_option("--fee", check->fee, "The transaction's fee in satoshi (with --vsize)");
  check_cmd->add_option("--vsize", check->vsize, "The transaction's virtual size (with --fee)");
  check_cmd->add_flag("--json", check->json, "Print JSON instead of text");
  check_cmd->callback(
      [&dispatcher, check] { dispatcher.Select([check] { return PolicyCheck(*check); }); });
}

}  // namespace kinko::cli
