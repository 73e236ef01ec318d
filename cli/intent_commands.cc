// kinko intent new | intent show, kinko approve, kinko approval show: signed intents and bound
// approvals (policy/intent.h, policy/approval.h, doc/identities.md).
#include <CLI/CLI.hpp>
#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "btc/address.h"
#include "btc/amount.h"
#include "cli/command.h"
#include "cli/secure_io.h"
#include "cli/signed_files.h"
#include "crypto/hash.h"
#include "crypto/keyfile.h"
#include "crypto/rng.h"
#include "policy/approval.h"
#include "policy/intent.h"
#include "util/hex.h"

namespace kinko::cli {
namespace {

uint64_t Now() { return static_cast<uint64_t>(std::time(nullptr)); }

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// "0.5btc", "1.25 BTC", "50000sat", "50000 sats": an amount with an explicit unit.
util::Result<btc::Amount> ParseAmountArgument(std::string_view what, std::string_view text) {
  const std::string lower = Lower(text);
  auto strip = [&](std::string_view unit) -> std::optional<std::string> {
    if (lower.size() <= unit.size() ||
        lower.compare(lower.size() - unit.size(), unit.size(), unit) != 0) {
      return std::nullopt;
    }
    std::string number = lower.substr(0, lower.size() - unit.size());
    if (!number.empty() && number.back() == ' ') number.pop_back();
    return number;
  };
  if (std::optional<std::string> btc_text = strip("btc")) {
    util::Result<btc::Amount> amount = btc::Amount::ParseBtc(*btc_text);
    if (!amount.ok()) return amount.status().WithPrefix(what);
    return amount;
  }
  std::optional<std::string> sat_text = strip("sats");
  if (!sat_text) sat_text = strip("sat");
  if (sat_text) {
    util::Result<uint64_t> sats =
        ParseUnsignedArgument(what, *sat_text, static_cast<uint64_t>(btc::kMaxMoney));
    if (!sats.ok()) return sats.status();
    return btc::Amount::FromSats(static_cast<int64_t>(*sats));
  }
  return util::InvalidArgumentError(std::string(what) + ": " + std::string(text) +
                                    ": give a unit, e.g. 0.5btc or 50000sat");
}

// "25", "2.5", "25sat/vb": satoshi per virtual byte with up to 3 decimals, as sat/kvB.
util::Result<uint64_t> ParseFeeRateArgument(std::string_view text) {
  std::string number = Lower(text);
  if (number.size() > 6 && number.compare(number.size() - 6, 6, "sat/vb") == 0) {
    number.resize(number.size() - 6);
  }
  const size_t dot = number.find('.');
  std::string whole = number.substr(0, dot);
  std::string fraction = dot == std::string::npos ? "" : number.substr(dot + 1);
  if (whole.empty() || (dot != std::string::npos && fraction.empty()) || fraction.size() > 3 ||
      whole.find_first_not_of("0123456789") != std::string::npos ||
      fraction.find_first_not_of("0123456789") != std::string::npos || whole.size() > 12) {
    return util::InvalidArgumentError("--fee-rate-max: " + std::string(text) +
                                      ": expected sat/vB with at most 3 decimals, e.g. 12.5");
  }
  fraction.resize(3, '0');
  return std::stoull(whole) * 1000 + std::stoull(fraction);
}

// "90s", "30m", "1h", "7d".
util::Result<uint64_t> ParseDuration(std::string_view text) {
  if (text.size() < 2) {
    return util::InvalidArgumentError("--expires: " + std::string(text) + ": expected e.g. 1h");
  }
  const char unit = text.back();
  const uint64_t scale = unit == 's'   ? 1
                         : unit == 'm' ? 60
                         : unit == 'h' ? 3600
                         : unit == 'd' ? 86400
                                       : 0;
  if (scale == 0) {
    return util::InvalidArgumentError("--expires: " + std::string(text) +
                                      ": unit must be s, m, h or d");
  }
  util::Result<uint64_t> count =
      ParseUnsignedArgument("--expires", text.substr(0, text.size() - 1), 3650);
  if (!count.ok()) return count.status();
  if (*count == 0) return util::InvalidArgumentError("--expires: must be in the future");
  return *count * scale;
}

// "12.5" for 12500 sat/kvB: satoshi per virtual byte with up to 3 decimals.
std::string SatPerVbyte(uint64_t sat_per_kvb) {
  std::string text = std::to_string(sat_per_kvb / 1000);
  if (sat_per_kvb % 1000 != 0) {
    std::string fraction = std::to_string(1000 + sat_per_kvb % 1000).substr(1);
    while (fraction.back() == '0') fraction.pop_back();
    text += "." + fraction;
  }
  return text;
}

Json Sats(const btc::Amount& amount) {
  Json out = Json::object();
  out["btc"] = amount.ToBtcString();
  out["sat"] = amount.sats();
  return out;
}

// The intent as a person compares it: amounts in BTC and satoshi, address types, the digest in
// groups of four.
Json DescribeIntent(const policy::SignedIntent& signed_intent, uint64_t now) {
  const policy::Intent& intent = signed_intent.intent();
  const policy::IntentFields& f = intent.fields();
  Json out = Json::object();
  out["version"] = policy::kIntentVersion;
  out["id"] = util::HexEncode(f.id);
  out["wallet"] = f.wallet;
  out["network"] = std::string(btc::NetworkName(f.network));
  Json outputs = Json::array();
  for (size_t i = 0; i < f.outputs.size(); ++i) {
    Json o = Json::object();
    o["address"] = f.outputs[i].address;
    const std::optional<btc::AddressType> type = btc::AddressTypeOf(intent.output_scripts()[i]);
    o["address_type"] = type ? std::string(btc::AddressTypeName(*type)) : "unknown";
    o["amount"] = Sats(f.outputs[i].amount);
    outputs.push_back(std::move(o));
  }
  out["outputs"] = std::move(outputs);
  out["total"] = Sats(intent.total());
  Json fee = Json::object();
  if (f.fee.max_fee) fee["max_fee"] = Sats(*f.fee.max_fee);
  if (f.fee.max_rate_sat_per_kvb) {
    fee["max_rate_sat_per_vb"] = RawNumber(SatPerVbyte(*f.fee.max_rate_sat_per_kvb));
  }
  out["fee_ceiling"] = std::move(fee);
  out["requester"] = util::HexEncode(f.requester);
  out["requester_grouped"] = policy::GroupedHex(f.requester);
  out["created"] = IsoTime(f.created);
  out["expires"] = IsoTime(f.expires);
  out["expired"] = intent.IsExpiredAt(now);
  out["external_ref"] = f.external_ref;
  out["memo"] = f.memo;
  out["digest"] = util::HexEncode(intent.digest());
  out["digest_grouped"] = policy::GroupedHex(intent.digest());
  Json signature = Json::object();
  signature["scheme"] = std::string(policy::SignatureSchemeName(signed_intent.signature().scheme));
  signature["public_key"] = util::HexEncode(signed_intent.signature().public_key);
  signature["verified"] = true;  // SignedIntent::Decode verified it.
  out["requester_signature"] = std::move(signature);
  return out;
}

Json DescribeApproval(const policy::SignedApproval& signed_approval) {
  const policy::ApprovalFields& f = signed_approval.approval().fields();
  Json out = Json::object();
  out["decision"] = std::string(policy::DecisionName(f.decision));
  out["intent_digest"] = util::HexEncode(f.intent_digest);
  out["intent_digest_grouped"] = policy::GroupedHex(f.intent_digest);
  out["policy_digest"] = util::HexEncode(f.policy_digest);
  out["approver"] = util::HexEncode(f.approver);
  out["time"] = IsoTime(f.time);
  if (f.comment_hash) out["comment_hash"] = util::HexEncode(*f.comment_hash);
  out["digest"] = util::HexEncode(signed_approval.approval().digest());
  Json signature = Json::object();
  signature["scheme"] =
      std::string(policy::SignatureSchemeName(signed_approval.signature().scheme));
  signature["public_key"] = util::HexEncode(signed_approval.signature().public_key);
  signature["verified"] = true;  // SignedApproval::Decode verified it.
  out["approver_signature"] = std::move(signature);
  return out;
}

// The intent as text for a person, one field a line; every text field is display-safe
// (Intent::Create refuses control and bidirectional characters), so it prints as it is.
std::string RenderIntent(const policy::SignedIntent& signed_intent, uint64_t now) {
  const policy::Intent& intent = signed_intent.intent();
  const policy::IntentFields& f = intent.fields();
  std::string out;
  auto line = [&out](std::string_view name, std::string_view value) {
    AppendLine(out, name, value, 14);
  };
  line("intent", util::HexEncode(f.id));
  line("wallet", f.wallet);
  line("network", btc::NetworkName(f.network));
  for (size_t i = 0; i < f.outputs.size(); ++i) {
    const std::optional<btc::AddressType> type = btc::AddressTypeOf(intent.output_scripts()[i]);
    line("output " + std::to_string(i),
         f.outputs[i].address + " (" +
             std::string(type ? btc::AddressTypeName(*type) : "unknown type") + ")");
    line("", BtcAndSats(f.outputs[i].amount));
  }
  line("total", BtcAndSats(intent.total()));
  if (f.fee.max_fee) line("fee at most", BtcAndSats(*f.fee.max_fee));
  if (f.fee.max_rate_sat_per_kvb) {
    line("fee rate max", SatPerVbyte(*f.fee.max_rate_sat_per_kvb) + " sat/vB");
  }
  line("requester", policy::GroupedHex(f.requester));
  line("created", IsoTime(f.created));
  line("expires", IsoTime(f.expires) + (intent.IsExpiredAt(now) ? " (expired)" : ""));
  line("reference", f.external_ref.empty() ? "(none)" : f.external_ref);
  line("memo", f.memo.empty() ? "(none)" : f.memo);
  line("signature", std::string(policy::SignatureSchemeName(signed_intent.signature().scheme)) +
                        " by the requester key, verified");
  line("digest", policy::GroupedHex(intent.digest()));
  return out;
}

std::string RenderApproval(const policy::SignedApproval& signed_approval) {
  const policy::ApprovalFields& f = signed_approval.approval().fields();
  std::string out;
  auto line = [&out](std::string_view name, std::string_view value) {
    AppendLine(out, name, value, 14);
  };
  line("decision", policy::DecisionName(f.decision));
  line("intent digest", policy::GroupedHex(f.intent_digest));
  line("policy digest", policy::GroupedHex(f.policy_digest));
  line("approver", policy::GroupedHex(f.approver));
  line("time", IsoTime(f.time));
  line("comment hash", f.comment_hash ? util::HexEncode(*f.comment_hash) : "(none)");
  line("signature", std::string(policy::SignatureSchemeName(signed_approval.signature().scheme)) +
                        " by the approver key, verified");
  line("digest", policy::GroupedHex(signed_approval.approval().digest()));
  return out;
}

struct IntentNewOptions {
  std::string wallet;
  std::string network = "main";
  std::vector<std::string> to;
  std::vector<std::string> amounts;
  std::string fee_max;
  std::string fee_rate_max;
  std::string expires;
  std::string key;
  std::optional<int> passphrase_fd;
  std::string ref;
  std::string memo;
  std::string out;
};

util::Result<CommandOutput> IntentNew(const IntentNewOptions& options) {
  if (options.to.size() != options.amounts.size()) {
    return util::InvalidArgumentError("each --to needs one --amount");
  }
  policy::IntentFields fields;
  util::Result<btc::Network> network = btc::ParseNetwork(options.network);
  if (!network.ok()) return network.status().WithPrefix("--network");
  fields.network = *network;
  fields.wallet = options.wallet;
  for (size_t i = 0; i < options.to.size(); ++i) {
    util::Result<btc::Amount> amount = ParseAmountArgument("--amount", options.amounts[i]);
    if (!amount.ok()) return amount.status();
    fields.outputs.push_back({options.to[i], *amount});
  }
  if (!options.fee_max.empty()) {
    util::Result<btc::Amount> fee = ParseAmountArgument("--fee-max", options.fee_max);
    if (!fee.ok()) return fee.status();
    fields.fee.max_fee = *fee;
  }
  if (!options.fee_rate_max.empty()) {
    util::Result<uint64_t> rate = ParseFeeRateArgument(options.fee_rate_max);
    if (!rate.ok()) return rate.status();
    fields.fee.max_rate_sat_per_kvb = *rate;
  }
  if (!fields.fee.max_fee && !fields.fee.max_rate_sat_per_kvb) {
    return util::InvalidArgumentError("give --fee-max, --fee-rate-max or both");
  }
  util::Result<uint64_t> lifetime = ParseDuration(options.expires);
  if (!lifetime.ok()) return lifetime.status();
  fields.created = Now();
  fields.expires = fields.created + *lifetime;
  fields.external_ref = options.ref;
  fields.memo = options.memo;
  crypto::SystemRng rng;
  rng.Fill(fields.id);
  // Check the intent (addresses against the network) before asking for the passphrase.
  util::Result<crypto::KeyFile> key_file = [&]() -> util::Result<crypto::KeyFile> {
    util::Result<std::vector<uint8_t>> bytes = ReadSmallFile(options.key, kMaxKeyFileSize);
    if (!bytes.ok()) return bytes.status();
    util::Result<crypto::KeyFile> file = crypto::KeyFile::Parse(*bytes);
    if (!file.ok()) return file.status().WithPrefix(options.key);
    return file;
  }();
  if (!key_file.ok()) return key_file.status();
  fields.requester = policy::Ed25519KeyId(key_file->public_key());
  util::Result<policy::Intent> intent = policy::Intent::Create(fields);
  if (!intent.ok()) return intent.status();
  util::Result<crypto::Ed25519PrivateKey> key = UnlockKey(options.key, options.passphrase_fd);
  if (!key.ok()) return key.status();
  util::Result<policy::SignedIntent> signed_intent = policy::SignedIntent::Sign(*intent, *key);
  if (!signed_intent.ok()) return signed_intent.status();
  const std::string path =
      options.out.empty() ? util::HexEncode(fields.id) + ".intent" : options.out;
  if (util::Status written = WriteNewFile(path, signed_intent->Encode(), 0644); !written.ok()) {
    return written;
  }
  Json out = DescribeIntent(*signed_intent, Now());
  out["file"] = path;
  return CommandOutput{.json = std::move(out)};
}

util::Result<CommandOutput> IntentShow(const std::string& path, bool json) {
  util::Result<policy::SignedIntent> intent = ReadIntentFile(path);
  if (!intent.ok()) return intent.status();
  if (!json) return CommandOutput{.text = RenderIntent(*intent, Now())};
  Json out = DescribeIntent(*intent, Now());
  out["file"] = path;
  return CommandOutput{.json = std::move(out)};
}

struct ApproveOptions {
  std::string intent;
  std::string key;
  std::optional<int> passphrase_fd;
  std::string policy_digest;
  bool reject = false;
  std::string comment;
  std::string out;
};

util::Result<CommandOutput> Approve(const ApproveOptions& options) {
  util::Result<policy::SignedIntent> intent = ReadIntentFile(options.intent);
  if (!intent.ok()) return intent.status();
  const uint64_t now = Now();
  if (intent->intent().IsExpiredAt(now)) {
    return util::FailedPreconditionError(options.intent + ": the intent expired at " +
                                         IsoTime(intent->intent().fields().expires));
  }
  util::Result<std::vector<uint8_t>> policy_digest =
      util::HexDecodeExact(options.policy_digest, 32);
  if (!policy_digest.ok()) return policy_digest.status().WithPrefix("--policy-digest");
  util::Result<crypto::Ed25519PrivateKey> key = UnlockKey(options.key, options.passphrase_fd);
  if (!key.ok()) return key.status();
  const policy::KeyId approver = policy::Ed25519KeyId(key->public_key());
  if (approver == intent->intent().fields().requester) {
    return util::PermissionDeniedError("the requester key cannot approve its own intent");
  }
  policy::ApprovalFields fields;
  fields.intent_digest = intent->intent().digest();
  std::copy(policy_digest->begin(), policy_digest->end(), fields.policy_digest.begin());
  fields.approver = approver;
  fields.decision = options.reject ? policy::Decision::kReject : policy::Decision::kApprove;
  fields.time = now;
  if (!options.comment.empty()) {
    fields.comment_hash = crypto::Sha256(std::span(
        reinterpret_cast<const uint8_t*>(options.comment.data()), options.comment.size()));
  }
  util::Result<policy::Approval> approval = policy::Approval::Create(fields);
  if (!approval.ok()) return approval.status();
  util::Result<policy::SignedApproval> signed_approval =
      policy::SignedApproval::Sign(*approval, *key);
  if (!signed_approval.ok()) return signed_approval.status();
  const std::string path = options.out.empty()
                               ? util::HexEncode(intent->intent().fields().id) + "." +
                                     util::HexEncode(approver).substr(0, 8) + ".approval"
                               : options.out;
  if (util::Status written = WriteNewFile(path, signed_approval->Encode(), 0644); !written.ok()) {
    return written;
  }
  Json out = DescribeApproval(*signed_approval);
  out["file"] = path;
  return CommandOutput{.json = std::move(out)};
}

struct ApprovalShowOptions {
  std::string path;
  std::string intent;
  bool json = false;
};

util::Result<CommandOutput> ApprovalShow(const ApprovalShowOptions& options) {
  util::Result<policy::SignedApproval> approval = ReadApprovalFile(options.path);
  if (!approval.ok()) return approval.status();
  Json out = DescribeApproval(*approval);
  out["file"] = options.path;
  std::string text = RenderApproval(*approval);
  if (!options.intent.empty()) {
    util::Result<policy::SignedIntent> intent = ReadIntentFile(options.intent);
    if (!intent.ok()) return intent.status();
    if (approval->approval().fields().intent_digest != intent->intent().digest()) {
      return util::PermissionDeniedError(options.path + ": approval for another intent than " +
                                         options.intent);
    }
    out["intent_matches"] = true;
    text += "intent        " + options.intent + " (matches the intent digest)\n";
  }
  if (!options.json) return CommandOutput{.text = std::move(text)};
  return CommandOutput{.json = std::move(out)};
}

}  // namespace

void RegisterIntentCommands(CLI::App& app, Dispatcher& dispatcher) {
  CLI::App* group = app.add_subcommand("intent", "Signed payment intents");
  group->require_subcommand(1);

  auto make = std::make_shared<IntentNewOptions>();
  CLI::App* new_cmd = group->add_subcommand(
      "new",
      "Create and sign an intent with the requester's key; writes ID.intent and prints it "
      "as intent show does");
  new_cmd->add_option("--wallet", make->wallet, "Wallet id, [A-Za-z0-9._:-]{1,64}")->required();
  new_cmd->add_option("--network", make->network, "main, test, signet or regtest")
      ->capture_default_str();
  new_cmd->add_option("--to", make->to, "Destination address (repeat for a batch)")->required();
  new_cmd->add_option("--amount", make->amounts, "Amount of the matching --to: 0.5btc or 50000sat")
      ->required();
  new_cmd->add_option("--fee-max", make->fee_max, "Most fee to pay: 0.0002btc or 20000sat");
  new_cmd->add_option("--fee-rate-max", make->fee_rate_max, "Highest fee rate in sat/vB, e.g. 25");
  new_cmd->add_option("--expires", make->expires, "Lifetime: 90s, 30m, 1h or 7d")->required();
  new_cmd->add_option("--key", make->key, "The requester's key file")->required();
  new_cmd->add_option("--passphrase-fd", make->passphrase_fd,
                      "Read the key's passphrase from this file descriptor (default: prompt)");
  new_cmd->add_option("--ref", make->ref, "External reference (e.g. a withdrawal id)");
  new_cmd->add_option("--memo", make->memo, "Free-text memo");
  new_cmd->add_option("--out", make->out, "The file to write (default ID.intent)");
  new_cmd->callback(
      [&dispatcher, make] { dispatcher.Select([make] { return IntentNew(*make); }); });

  auto show_options = std::make_shared<std::pair<std::string, bool>>();
  CLI::App* show = group->add_subcommand(
      "show",
      "Verify the requester's signature and show an intent for a person to compare: "
      "amounts in BTC and satoshi, address types, digest in groups of four");
  show->add_option("FILE", show_options->first, "An intent file")->required();
  show->add_flag("--json", show_options->second, "Print JSON instead of text");
  show->callback([&dispatcher, show_options] {
    dispatcher.Select(
        [show_options] { return IntentShow(show_options->first, show_options->second); });
  });

  auto approve = std::make_shared<ApproveOptions>();
  CLI::App* approve_cmd = app.add_subcommand(
      "approve",
      "Approve (or --reject) an intent: verifies it, signs a decision bound to its "
      "digest and the policy digest, writes ID.KEYID.approval");
  approve_cmd->add_option("FILE", approve->intent, "An intent file")->required();
  approve_cmd->add_option("--key", approve->key, "The approver's key file")->required();
  approve_cmd
      ->add_option("--policy-digest", approve->policy_digest,
                   "Digest (hex) of the policy the decision is made under")
      ->required();
  approve_cmd->add_flag("--reject", approve->reject, "Sign a rejection instead");
  approve_cmd->add_option("--comment", approve->comment, "A comment; its SHA-256 is signed");
  approve_cmd->add_option("--passphrase-fd", approve->passphrase_fd,
                          "Read the key's passphrase from this file descriptor (default: prompt)");
  approve_cmd->add_option("--out", approve->out, "The file to write");
  approve_cmd->callback(
      [&dispatcher, approve] { dispatcher.Select([approve] { return Approve(*approve); }); });

  auto approval_options = std::make_shared<ApprovalShowOptions>();
  CLI::App* approval = app.add_subcommand("approval", "Signed approvals");
  approval->require_subcommand(1);
  CLI::App* approval_show =
      approval->add_subcommand("show", "Verify the approver's signature and show an approval");
  approval_show->add_option("FILE", approval_options->path, "An approval file")->required();
  approval_show->add_option("--intent", approval_options->intent,
                            "Also check that the approval is for this intent file");
  approval_show->add_flag("--json", approval_options->json, "Print JSON instead of text");
  approval_show->callback([&dispatcher, approval_options] {
    dispatcher.Select([approval_options] { return ApprovalShow(*approval_options); });
  });
}

}  // namespace kinko::cli
