#include "signerd/service.h"

#include <algorithm>
#include <bit>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <mutex>
#include <span>
#include <string_view>
#include <system_error>
#include <utility>
#include <variant>
#include <vector>

#include "auditlog/entry.h"
#include "auditlog/merkle_log.h"
#include "auditlog/tree_head.h"
#include "btc/descriptor.h"
#include "btc/psbt_sign.h"
#include "crypto/ed25519.h"
#include "crypto/hash.h"
#include "crypto/keyfile.h"
#include "crypto/rng.h"
#include "crypto/secp256k1.h"
#include "policy/governance.h"
#include "signer/decide.h"
#include "signerapi/audit_codec.h"
#include "signerapi/json_codec.h"
#include "signerapi/messages.h"
#include "signerd/internal/metrics.h"
#include "signerd/key_backend.h"
#include "signerd/setup.h"
#include "signerd/state_store.h"
#include "util/check.h"
#include "util/hex.h"

namespace kinko::signerd {
namespace {

constexpr std::string_view kJsonContentType = "application/json";
constexpr std::string_view kMetricsContentType = "text/plain; version=0.0.4";
// A key file is a few hundred bytes; anything much larger is not one.
constexpr size_t kMaxKeyFileSize = 4096;

uint64_t SystemClock() {
  const auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::seconds>(since_epoch).count());
}

// The body limit of the GET endpoints, which take no body: a small one is let through for the
// routes to judge.
constexpr size_t kMaxOtherBodySize = 64 * 1024;

HttpReply JsonReply(int status, std::string body) {
  HttpReply reply;
  reply.status = status;
  reply.content_type = std::string(kJsonContentType);
  reply.body = std::move(body);
  return reply;
}

// The reply for a failed Status: HttpStatusFor its code, with ErrorBodyFor's escaped message.
HttpReply StatusReply(const util::Status& status) {
  return JsonReply(signerapi::HttpStatusFor(status.code()),
                   signerapi::EncodeErrorBody(signerapi::ErrorBodyFor(status)));
}

// An error of the HTTP layer (413, 415, 405), whose codes are not util::StatusCodes.
// `message` is built here from constants and numbers, never from request data.
HttpReply HttpLayerError(int status, std::string code, std::string message) {
  return JsonReply(status, signerapi::EncodeErrorBody(signerapi::ErrorBody{
                               .code = std::move(code), .message = std::move(message)}));
}

// True when the media type of `content_type` is application/json (ASCII case-insensitive;
// parameters such as "; charset=utf-8" are ignored: the decoders accept UTF-8 only anyway).
bool IsJsonContentType(std::string_view content_type) {
  std::string_view media_type = content_type.substr(0, content_type.find(';'));
  while (!media_type.empty() && (media_type.back() == ' ' || media_type.back() == '\t')) {
    media_type.remove_suffix(1);
  }
  if (media_type.size() != kJsonContentType.size()) return false;
  for (size_t i = 0; i < media_type.size(); ++i) {
    const char c = media_type[i];
    const char lower = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    if (lower != kJsonContentType[i]) return false;
  }
  return true;
}

// `text` cut to at most `max` bytes without splitting a UTF-8 sequence (the audit log's and the
// API's text bounds). Texts here are display-safe UTF-8 from the decisions.
std::string BoundedText(std::string_view text, size_t max) {
  if (text.size() <= max) return std::string(text);
  size_t end = max;
  while (end > 0 && (static_cast<uint8_t>(text[end]) & 0xc0) == 0x80) --end;
  return std::string(text.substr(0, end));
}

std::span<const uint8_t> BodyBytes(const std::string& body) {
  return std::span(reinterpret_cast<const uint8_t*>(body.data()), body.size());
}

// Reads the whole of a small file. Fails with kNotFound when it cannot be opened, kUnavailable
// when it cannot be read, kInvalidArgument when it is larger than `max_size`.
util::Result<std::vector<uint8_t>> ReadSmallFile(const std::string& path, size_t max_size) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return util::NotFoundError("file " + path + ": cannot be opened");
  std::vector<uint8_t> bytes;
  char c = 0;
  while (in.get(c)) {
    if (bytes.size() == max_size) {
      return util::InvalidArgumentError("file " + path + ": larger than " +
                                        std::to_string(max_size) + " bytes");
    }
    bytes.push_back(static_cast<uint8_t>(c));
  }
  if (in.bad()) return util::UnavailableError("file " + path + ": read error");
  return bytes;
}

// True when the wallet's outputs are taproot (tr() or rawtr(): BIP371 derivations).
util::Result<bool> WalletUsesTaproot(const crypto::Secp256k1Context& ctx,
                                     const signer::WalletConfig& wallet) {
  util::Result<btc::ScriptInfo> info = wallet.branch(signer::WalletBranch::kReceive).Expand(ctx, 0);
  if (!info.ok()) return info.status();
  return !info->tap_bip32_derivations.empty();
}

// Decrypts the identity key file. Fails with ReadSmallFile's errors, KeyFile::Parse's
// (kInvalidArgument) and Decrypt's (kPermissionDenied for a wrong passphrase).
util::Result<crypto::Ed25519PrivateKey> OpenIdentityKey(const std::string& path,
                                                        const crypto::SecretBytes& passphrase) {
  util::Result<std::vector<uint8_t>> bytes = ReadSmallFile(path, kMaxKeyFileSize);
  if (!bytes.ok()) return bytes.status();
  util::Result<crypto::KeyFile> file = crypto::KeyFile::Parse(*bytes);
  if (!file.ok()) return file.status().WithPrefix("identity key file " + path);
  util::Result<crypto::Ed25519PrivateKey> key = file->Decrypt(passphrase);
  if (!key.ok()) return key.status().WithPrefix("identity key file " + path);
  return key;
}

// Opens the key backend the pinned configuration names.
util::Result<std::unique_ptr<KeyBackend>> OpenKeyBackend(const crypto::Secp256k1Context& ctx,
                                                         const std::string& dir,
                                                         const PinnedConfig& config,
                                                         const crypto::SecretBytes& passphrase,
                                                         const std::optional<TokenPin>& pin) {
  // The database was written by init: another backend name means it was altered.
  if (config.key_backend != "file" && config.key_backend != "pkcs11") {
    return util::DataLossError("state database: unknown key backend '" +
                               BoundedText(config.key_backend, 32) + "'");
  }
  return OpenWalletKey(ctx, dir,
                       WalletKeySettings{.key_backend = config.key_backend,
                                         .key_file = config.key_file,
                                         .pkcs11_module = config.pkcs11_module,
                                         .pkcs11_token_label = config.pkcs11_token_label,
                                         .pkcs11_key_label = config.pkcs11_key_label},
                       passphrase, pin);
}

// The time of the last stored entry (0 for an empty log), so that `now` never goes back.
util::Result<uint64_t> LastEntryTime(const StateStore& store, uint64_t entry_count) {
  if (entry_count == 0) return uint64_t{0};
  util::Result<std::vector<std::vector<uint8_t>>> last = store.ReadEntries(entry_count - 1, 1);
  if (!last.ok()) return last.status();
  if (last->size() != 1) return util::DataLossError("state database: last audit entry missing");
  util::Result<auditlog::Entry> entry = auditlog::Entry::Decode(last->front());
  if (!entry.ok()) return entry.status().WithPrefix("state database: last audit entry");
  return entry->time();
}

// A query parameter that is a decimal number: 1..20 digits, no sign, no leading zero (other
// than "0" itself), at most 2^64 - 1. Fails with kInvalidArgument naming the parameter.
util::Result<uint64_t> DecimalParameter(const std::map<std::string, std::string>& query,
                                        const std::string& name) {
  const auto found = query.find(name);
  if (found == query.end()) {
    return util::InvalidArgumentError("query parameter '" + name + "': missing");
  }
  const std::string& text = found->second;
  const bool digits =
      !text.empty() && text.size() <= 20 &&
      std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!digits || (text.size() > 1 && text[0] == '0')) {
    return util::InvalidArgumentError("query parameter '" + name +
                                      "': expected a decimal integer without sign or leading zero");
  }
  uint64_t value = 0;
  for (char c : text) {
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (value > (std::numeric_limits<uint64_t>::max() - digit) / 10) {
      return util::InvalidArgumentError("query parameter '" + name + "': above 2^64-1");
    }
    value = value * 10 + digit;
  }
  return value;
}

// OK when every parameter of `query` is one of `allowed`; kInvalidArgument naming the first
// other one (quoted, cut; ErrorBodyFor escapes what it quotes).
util::Status CheckQueryParameters(const std::map<std::string, std::string>& query,
                                  std::initializer_list<std::string_view> allowed) {
  for (const auto& [name, value] : query) {
    if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
      return util::InvalidArgumentError("unknown query parameter '" + BoundedText(name, 64) + "'");
    }
  }
  return util::OkStatus();
}

// What the decision entries say about an allowed request: the rules that allowed its intents,
// distinct, in request order.
std::string AllowingRules(const std::vector<policy::IntentDecision>& intents) {
  std::vector<std::string_view> rules;
  for (const policy::IntentDecision& intent : intents) {
    if (std::find(rules.begin(), rules.end(), intent.rule) == rules.end()) {
      rules.push_back(intent.rule);
    }
  }
  std::string text;
  for (std::string_view rule : rules) {
    if (!text.empty()) text += ", ";
    text += rule;
  }
  return text;
}

// RFC 6962 section 2.1: the root of the tree of `log`'s leaves followed by `leaf_hashes`, without
// changing `log`.
//
// MTH splits a tree at the largest power of two below its size, so the tree of n leaves is
// made of the perfect subtrees whose sizes are the bits of n, largest (leftmost) first: its
// "frontier" F_1..F_m, and MTH = H(F_1, H(F_2, ... H(F_m-1, F_m))). The audit path of the last
// leaf (n - 1) is, bottom-up, its k = countr_zero(n) siblings inside F_m, then F_m-1, ..., F_1.
// Appending a leaf is adding 1 to n in binary: equal-sized subtrees at the end merge.
util::Result<auditlog::Hash> RootAfterAppending(const auditlog::MerkleLog& log,
                                                std::span<const auditlog::Hash> leaf_hashes) {
  struct Subtree {
    auditlog::Hash hash;
    uint64_t size;
  };
  std::vector<Subtree> frontier;
  const uint64_t n = log.size();
  if (n > 0) {
    util::Result<std::vector<auditlog::Hash>> path = log.InclusionProof(n - 1, n);
    if (!path.ok()) return path.status();
    util::Result<auditlog::Hash> last = log.LeafHash(n - 1);
    if (!last.ok()) return last.status();
    const size_t inside = static_cast<size_t>(std::countr_zero(n));
    if (path->size() != inside + static_cast<size_t>(std::popcount(n)) - 1) {
      return util::InternalError("audit path of the last leaf has an unexpected length");
    }
    // F_m: the last leaf is the rightmost leaf of its subtree, so every sibling is on the left.
    auditlog::Hash last_subtree = *last;
    for (size_t i = 0; i < inside; ++i) {
      last_subtree = auditlog::HashChildren((*path)[i], last_subtree);
    }
    // F_1..F_m-1 are the rest of the path, smallest first; their sizes are the bits of n above
    // the lowest, largest first.
    uint64_t bits = n & (n - 1);
    std::vector<uint64_t> sizes;
    for (; bits != 0; bits &= bits - 1) sizes.push_back(bits & (~bits + 1));  // Lowest bit.
    for (size_t i = 0; i < sizes.size(); ++i) {
      frontier.push_back(
          Subtree{.hash = (*path)[path->size() - 1 - i], .size = sizes[sizes.size() - 1 - i]});
    }
    frontier.push_back(Subtree{.hash = last_subtree, .size = uint64_t{1} << inside});
  }
  for (const auditlog::Hash& leaf_hash : leaf_hashes) {
    frontier.push_back(Subtree{.hash = leaf_hash, .size = 1});
    while (frontier.size() >= 2 &&
           frontier[frontier.size() - 1].size == frontier[frontier.size() - 2].size) {
      const Subtree right = frontier.back();
      frontier.pop_back();
      frontier.back() = Subtree{.hash = auditlog::HashChildren(frontier.back().hash, right.hash),
                                .size = 2 * right.size};
    }
  }
  if (frontier.empty()) return auditlog::EmptyRoot();
  auditlog::Hash root = frontier.back().hash;
  for (size_t i = frontier.size() - 1; i > 0; --i) {
    root = auditlog::HashChildren(frontier[i - 1].hash, root);
  }
  return root;
}

}  // namespace

struct SignerService::Impl {
  Impl(std::function<uint64_t()> clock_in, std::unique_ptr<crypto::Secp256k1Context> ctx_in,
       PinnedConfig pinned_in, signer::SignerConfig config_in,
       crypto::Ed25519PrivateKey identity_in, std::unique_ptr<KeyBackend> backend_in,
       StateStore store_in, LoadedState loaded, uint64_t last_time_in)
      : clock(std::move(clock_in)),
        ctx(std::move(ctx_in)),
        pinned(std::move(pinned_in)),
        config(std::move(config_in)),
        identity(std::move(identity_in)),
        backend(std::move(backend_in)),
        store(std::move(store_in)),
        state(std::move(loaded.state)),
        log(std::move(loaded.log)),
        head(std::move(loaded.latest_head)),
        last_time(last_time_in) {}

  // Immutable after Open.
  const std::function<uint64_t()> clock;
  // Heap-allocated so that its address is stable: the PKCS#11 key keeps a reference to it.
  const std::unique_ptr<crypto::Secp256k1Context> ctx;
  const PinnedConfig pinned;
  const signer::SignerConfig config;
  const crypto::Ed25519PrivateKey identity;  // Signs the tree heads.
  const std::unique_ptr<KeyBackend> backend;
  crypto::SystemRng rng;  // BIP340 auxiliary randomness; stateless.
  internal::Metrics metrics;

  // Serialises every request that reads or changes the state below.
  mutable std::mutex mutex;
  // Guarded by `mutex`. Invariant: `state`, `log` and `head` are what `store` holds: they change
  // only after StateStore::Apply returned OK.
  StateStore store;
  signer::SignerState state;
  auditlog::MerkleLog log;
  std::optional<auditlog::SignedTreeHead> head;  // Of the whole log, after the first commit.
  uint64_t last_time = 0;                        // The time of the last entry.

  // DESIGN.md section 5: decisions see a clock that never goes back, so a clock stepped back
  // cannot reopen a velocity window or revive an expired intent.
  uint64_t NowLocked() const { return std::max(clock(), last_time); }

  signerapi::AuditHead CurrentHeadLocked() const {
    signerapi::AuditHead current;
    current.tree_size = log.size();
    current.root_hash = log.Root();
    if (head.has_value() && head->head().size == log.size()) {
      current.signed_tree_head = head->Encode();
    }
    return current;
  }

  // Appends `bodies` at `now` with `change`, signs the head of the log after them, and commits
  // all of it in one StateStore::Apply; then (only then) updates the in-memory state and log.
  // Returns the head after the commit (its last entry is the last of `bodies`).
  // A pending policy whose time has come is promoted in the same commit, with a policy change
  // entry before `bodies`. Fails with Apply's errors (kUnavailable: nothing was written) and
  // kInternal when an entry breaks the audit log's rules.
  util::Result<signerapi::AuditHead> CommitLocked(uint64_t now,
                                                  std::vector<auditlog::EntryBody> bodies,
                                                  signer::StateChange change) {
    const policy::GovernanceState& governance = state.governance;
    if (governance.pending.has_value() && governance.pending_from <= now) {
      bodies.insert(bodies.begin(), auditlog::PolicyChangeEntry{
                                        .old_digest = governance.active.policy().digest(),
                                        .new_digest = governance.pending->policy().digest(),
                                        .sequence = governance.pending->policy().fields().sequence,
                                        .effective_time = governance.pending_from});
      if (!change.governance.has_value()) change.governance = policy::Advance(governance, now);
    }

    std::vector<auditlog::Entry> entries;
    for (auditlog::EntryBody& body : bodies) {
      util::Result<auditlog::Entry> entry = auditlog::Entry::Create(now, std::move(body));
      if (!entry.ok()) return util::InternalError("audit entry: " + entry.status().message());
      entries.push_back(std::move(*entry));
    }
    // The root after the append, computed without changing `log`, which stays the committed
    // one if Apply fails (copying the log instead costs O(n): 8 ms at 100000 entries).
    std::vector<auditlog::Hash> leaf_hashes;
    for (const auditlog::Entry& entry : entries) leaf_hashes.push_back(entry.LeafHash());
    util::Result<auditlog::Hash> root = RootAfterAppending(log, leaf_hashes);
    if (!root.ok()) return util::InternalError("audit log: " + root.status().message());
    const uint64_t first_index = log.size();
    auditlog::SignedTreeHead signed_head = auditlog::SignedTreeHead::Sign(
        auditlog::TreeHead{.size = first_index + entries.size(), .root = *root, .time = now},
        identity);

    Commit commit{.entries = std::move(entries), .change = std::move(change), .head = signed_head};
    if (util::Status applied = store.Apply(commit); !applied.ok()) {
      // Apply's kInvalidArgument means a head that does not fit the log: a bug here, which
      // must not reach the client as a 400.
      if (applied.code() == util::StatusCode::kInvalidArgument) {
        return util::InternalError("state store: " + applied.message());
      }
      return applied;
    }

    signer::ApplyChange(state, commit.change);
    for (const auditlog::Hash& leaf_hash : leaf_hashes) log.AppendLeafHash(leaf_hash);
    // Invariant: the committed head is the head of the log in memory.
    CHECK(log.Root() == signed_head.head().root);
    head = std::move(signed_head);
    last_time = now;
    return CurrentHeadLocked();
  }

  signerapi::StatusResponse StatusLocked(uint64_t now) const {
    signerapi::StatusResponse status;
    status.signer = config.signer_id;
    status.wallet = pinned.wallet_id;
    if (state.frozen()) status.freeze = state.freezes.front().freeze().digest();
    const policy::SignedPolicy& in_force = policy::InForce(state.governance, now);
    status.policy = {.sequence = in_force.policy().fields().sequence,
                     .digest = in_force.policy().digest()};
    const policy::GovernanceState& governance = state.governance;
    if (governance.pending.has_value() && governance.pending_from > now) {
      status.pending_policy =
          signerapi::PendingPolicy{.sequence = governance.pending->policy().fields().sequence,
                                   .digest = governance.pending->policy().digest(),
                                   .activates_at = governance.pending_from};
    }
    status.audit = CurrentHeadLocked();
    return status;
  }

  internal::Gauges GaugesLocked(uint64_t now) const {
    internal::Gauges gauges;
    gauges.frozen = state.frozen();
    gauges.audit_tree_size = log.size();
    const policy::Policy& in_force = policy::InForce(state.governance, now).policy();
    gauges.policy_sequence = in_force.fields().sequence;
    // The windows as policy::Evaluate counts them: spends at or before `now`, less than
    // `duration` seconds old.
    for (const policy::Window& window : in_force.fields().limits.windows) {
      uint64_t used = 0;
      for (const policy::Spend& spend : state.velocity.spends) {
        if (spend.wallet != pinned.wallet_id || spend.time > now ||
            now - spend.time >= window.duration) {
          continue;
        }
        const uint64_t amount = static_cast<uint64_t>(spend.amount.sats());
        used = amount > std::numeric_limits<uint64_t>::max() - used
                   ? std::numeric_limits<uint64_t>::max()
                   : used + amount;
      }
      gauges.windows.push_back(
          internal::WindowGauge{.wallet = pinned.wallet_id,
                                .duration = window.duration,
                                .used_sats = used,
                                .limit_sats = static_cast<uint64_t>(window.max.sats())});
    }
    return gauges;
  }

  // The exposition of the counters and of the gauges as of now (taking `mutex`).
  std::string RenderMetrics() const {
    internal::Gauges gauges;
    {
      std::lock_guard<std::mutex> lock(mutex);
      gauges = GaugesLocked(NowLocked());
    }
    return metrics.Render(gauges);
  }

  // The checks every POST shares: the body limit (413) and the content type (415).
  std::optional<HttpReply> CheckPost(const HttpRequest& request, std::string_view what,
                                     size_t limit) const {
    if (request.body.size() > limit) {
      return HttpLayerError(413, "too_large",
                            std::string(what) + ": body of " + std::to_string(request.body.size()) +
                                " bytes is larger than the limit of " + std::to_string(limit));
    }
    if (!IsJsonContentType(request.content_type)) {
      return HttpLayerError(415, "unsupported_media_type",
                            std::string(what) + ": content type must be application/json");
    }
    return std::nullopt;
  }

  // Logs a sign request whose signatures do not verify (a request entry and a refused decision
  // "invalid_signature" whose detail is `status`'s escaped message) and answers 403 with an
  // ErrorBody of code "invalid_signature" and the same message. `intent_ids` are those of the
  // request when it decoded (a known head that this signer did not sign), else empty: nothing
  // in the body can be trusted. Requires !status.ok(). Answers Commit's error (503) when the
  // entries cannot be committed.
  HttpReply RefuseInvalidSignature(const auditlog::Hash& request_digest,
                                   std::vector<auditlog::IntentId> intent_ids,
                                   const util::Status& status,
                                   std::chrono::steady_clock::time_point started) {
    const signerapi::ErrorBody error{.code = std::string(signer::kRefusalInvalidSignature),
                                     .message = signerapi::ErrorBodyFor(status).message};
    auditlog::DecisionEntry entry;
    entry.request_digest = request_digest;
    entry.intent_ids = intent_ids;
    entry.outcome = auditlog::Outcome::kRefused;
    entry.code = error.code;
    entry.detail = BoundedText(error.message, signerapi::kMaxDetailSize);
    std::vector<auditlog::EntryBody> bodies;
    bodies.push_back(auditlog::SignRequestEntry{.request_digest = request_digest,
                                                .intent_ids = std::move(intent_ids)});
    bodies.push_back(std::move(entry));
    {
      std::lock_guard<std::mutex> lock(mutex);
      util::Result<signerapi::AuditHead> committed =
          CommitLocked(NowLocked(), std::move(bodies), signer::StateChange{});
      if (!committed.ok()) return StatusReply(committed.status());
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    metrics.CountDecision(false, error.code, seconds);
    return JsonReply(signerapi::HttpStatusFor(status.code()), signerapi::EncodeErrorBody(error));
  }

  // Logs a refused policy update, freeze or unfreeze (a refused decision entry: the body's
  // digest, no intent ids, `code`, and `status`'s escaped message as detail) and answers
  // HttpStatusFor(status.code()) with an ErrorBody of code `code` and the same message.
  // Requires !status.ok(). Answers Commit's error (503) when the entry cannot be committed.
  HttpReply RefuseChangeLocked(uint64_t now, const std::string& body, std::string_view code,
                               const util::Status& status) {
    const signerapi::ErrorBody error{.code = std::string(code),
                                     .message = signerapi::ErrorBodyFor(status).message};
    auditlog::DecisionEntry entry;
    entry.request_digest = crypto::Sha256(BodyBytes(body));
    entry.outcome = auditlog::Outcome::kRefused;
    entry.code = error.code;
    entry.detail = BoundedText(error.message, signerapi::kMaxDetailSize);
    std::vector<auditlog::EntryBody> bodies;
    bodies.push_back(std::move(entry));
    util::Result<signerapi::AuditHead> committed =
        CommitLocked(now, std::move(bodies), signer::StateChange{});
    if (!committed.ok()) return StatusReply(committed.status());
    return JsonReply(signerapi::HttpStatusFor(status.code()), signerapi::EncodeErrorBody(error));
  }

  // The answer to a policy update, freeze or unfreeze body that did not decode: 400 and nothing
  // logged when malformed; logged as "invalid_signature" (403) when a signature in it does not
  // verify (the decoders' kPermissionDenied).
  HttpReply RefuseUndecodedChange(const std::string& body, const util::Status& status) {
    if (status.code() != util::StatusCode::kPermissionDenied) return StatusReply(status);
    std::lock_guard<std::mutex> lock(mutex);
    return RefuseChangeLocked(NowLocked(), body, signer::kRefusalInvalidSignature, status);
  }

  HttpReply Sign(const HttpRequest& request);
  HttpReply PolicyUpdate(const HttpRequest& request);
  HttpReply Freeze(const HttpRequest& request);
  HttpReply Unfreeze(const HttpRequest& request);
  HttpReply Status(const HttpRequest& request);
  HttpReply AuditHead(const HttpRequest& request);
  HttpReply InclusionProof(const HttpRequest& request);
  HttpReply ConsistencyProof(const HttpRequest& request);
  HttpReply Entries(const HttpRequest& request);
  HttpReply Health(const HttpRequest& request);
  HttpReply Metrics(const HttpRequest& request);
  HttpReply Route(const HttpRequest& request);
};

HttpReply SignerService::Impl::Sign(const HttpRequest& request) {
  if (std::optional<HttpReply> refused =
          CheckPost(request, "sign request", signerapi::kMaxSignRequestSize)) {
    return *refused;
  }
  const auto started = std::chrono::steady_clock::now();
  const auditlog::Hash request_digest = crypto::Sha256(BodyBytes(request.body));
  // Malformed requests are answered here, before anything is logged. A request whose
  // signatures do not verify (an intent altered in transit: the 2024 theft) is an attack, and
  // logged; nothing in it can be trusted, so its entries name no intent.
  util::Result<signerapi::SignRequest> decoded = signerapi::DecodeSignRequest(request.body);
  if (!decoded.ok()) {
    if (decoded.status().code() != util::StatusCode::kPermissionDenied) {
      return StatusReply(decoded.status());
    }
    return RefuseInvalidSignature(request_digest, {}, decoded.status(), started);
  }
  std::vector<auditlog::IntentId> intent_ids;
  for (const policy::IntentWithApprovals& intent : decoded->intents) {
    intent_ids.push_back(intent.intent.intent().fields().id);
  }
  // The head the coordinator holds must be one this signer signed (with its identity key, the
  // head key of its start-up entries); one that does not decode is malformed (400, not logged).
  std::optional<auditlog::TreeHead> known_head;
  if (decoded->known_head.has_value()) {
    constexpr std::string_view kField = "sign request: field 'known_head'";
    util::Result<auditlog::SignedTreeHead> claimed =
        auditlog::SignedTreeHead::Decode(*decoded->known_head);
    if (!claimed.ok() && claimed.status().code() != util::StatusCode::kPermissionDenied) {
      return StatusReply(claimed.status().WithPrefix(kField));
    }
    const util::Status signed_here =
        claimed.ok() ? claimed->Verify(identity.public_key()) : claimed.status();
    if (!signed_here.ok()) {
      return RefuseInvalidSignature(request_digest, std::move(intent_ids),
                                    signed_here.WithPrefix(kField), started);
    }
    known_head = claimed->head();
  }

  std::unique_lock<std::mutex> lock(mutex);
  const uint64_t now = NowLocked();
  // What this signer's log says about the known head, for the decision (signer::KnownHead).
  std::optional<signer::KnownHead> known;
  if (known_head.has_value()) {
    known = signer::KnownHead{.size = known_head->size,
                              .root = known_head->root,
                              .log_size = log.size(),
                              .log_root = std::nullopt};
    if (known_head->size <= log.size()) {
      util::Result<auditlog::Hash> root = log.RootAt(known_head->size);
      // RootAt fails only beyond the log's size, which the condition excludes.
      if (!root.ok()) {
        return StatusReply(util::InternalError("audit log: " + root.status().message()));
      }
      known->log_root = *root;
    }
  }
  signer::SignDecision decision = signer::DecideSign(*ctx, config, state, *decoded, known, now);

  // The decision entry, its texts cut to the audit log's bounds (the API's are the same).
  auditlog::DecisionEntry entry;
  entry.request_digest = request_digest;
  entry.intent_ids = intent_ids;
  if (decision.allowed()) {
    // DecideSign's contract: an allowed decision carries the checked transaction.
    CHECK(decision.transaction.has_value());
    entry.outcome = auditlog::Outcome::kSigned;
    entry.rule = BoundedText(AllowingRules(decision.intents), signerapi::kMaxRuleSize);
    entry.detail = "policy " + std::to_string(decision.policy_sequence) + " " +
                   util::HexEncode(decision.policy_digest);
    entry.txid = decision.transaction->txid.bytes();
  } else {
    const signer::SignRefusal& refusal = *decision.refusal;
    entry.outcome = auditlog::Outcome::kRefused;
    entry.code = refusal.code;
    entry.rule = BoundedText(refusal.rule, signerapi::kMaxRuleSize);
    entry.limit = BoundedText(refusal.limit, signerapi::kMaxLimitSize);
    entry.detail = BoundedText(refusal.detail, signerapi::kMaxDetailSize);
  }
  std::vector<auditlog::EntryBody> bodies;
  bodies.push_back(auditlog::SignRequestEntry{.request_digest = request_digest,
                                              .intent_ids = std::move(intent_ids)});
  bodies.push_back(entry);
  util::Result<signerapi::AuditHead> committed =
      CommitLocked(now, std::move(bodies), decision.change);
  if (!committed.ok()) return StatusReply(committed.status());
  lock.unlock();

  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  metrics.CountDecision(decision.allowed(), entry.code, seconds);
  // The decision entry is the last one of the commit.
  const signerapi::AuditReceipt receipt{.index = committed->tree_size - 1, .head = *committed};

  if (!decision.allowed()) {
    const signer::SignRefusal& refusal = *decision.refusal;
    signerapi::RefusedResult refused;
    refused.code = entry.code;
    if (refusal.intent_index.has_value()) refused.intent_index = *refusal.intent_index;
    refused.rule = entry.rule;
    refused.limit = entry.limit;
    refused.detail = entry.detail;
    refused.audit = receipt;
    const int status = signerapi::HttpStatusForRefusal(refused.code);
    return JsonReply(status, signerapi::EncodeSignResponse(signerapi::SignResponse{
                                 .request_id = decoded->request_id, .result = std::move(refused)}));
  }

  // The decision is durable: sign. A failure now is a bug or a broken backend; the intents
  // stay consumed, so a signature that might have been made is never made twice.
  const auto failed = [&](const std::string& why) {
    return StatusReply(util::InternalError("sign request: allowed and logged as audit entry " +
                                           std::to_string(receipt.index) +
                                           ", but not signed: " + why));
  };
  btc::PsbtSigningKeys keys;
  if (util::Status added = backend->AddTo(keys); !added.ok()) return failed(added.message());
  util::Result<btc::PsbtSignResult> signed_psbt = btc::SignPsbt(
      *ctx, std::move(decoded->psbt), keys, btc::PsbtSignOptions{.schnorr_aux_rng = &rng});
  if (!signed_psbt.ok()) return failed(signed_psbt.status().message());
  if (signed_psbt->signatures_added == 0) return failed("the key signs no input of the psbt");

  signerapi::SignedResult result;
  result.psbt = std::move(signed_psbt->psbt);
  result.audit = receipt;
  for (size_t i = 0; i < decoded->intents.size() && i < decision.intents.size(); ++i) {
    result.intents.push_back(signerapi::IntentSummary{
        .intent_id = decoded->intents[i].intent.intent().fields().id,
        .rule = BoundedText(decision.intents[i].rule, signerapi::kMaxRuleSize),
        .approvers = decision.intents[i].approvers});
  }
  return JsonReply(200, signerapi::EncodeSignResponse(signerapi::SignResponse{
                            .request_id = decoded->request_id, .result = std::move(result)}));
}

HttpReply SignerService::Impl::PolicyUpdate(const HttpRequest& request) {
  if (std::optional<HttpReply> refused =
          CheckPost(request, "policy update request", signerapi::kMaxPolicyUpdateRequestSize)) {
    return *refused;
  }
  util::Result<signerapi::PolicyUpdateRequest> decoded =
      signerapi::DecodePolicyUpdateRequest(request.body);
  if (!decoded.ok()) return RefuseUndecodedChange(request.body, decoded.status());

  std::lock_guard<std::mutex> lock(mutex);
  const uint64_t now = NowLocked();
  signer::PolicyDecision decision =
      signer::DecidePolicy(config, state, decoded->signed_policy, now);
  if (!decision.accepted()) {
    return RefuseChangeLocked(now, request.body, decision.refusal->code, decision.refusal->status);
  }
  const policy::Policy& next = decoded->signed_policy.policy();
  std::vector<auditlog::EntryBody> bodies;
  bodies.push_back(auditlog::PolicyChangeEntry{
      .old_digest = policy::InForce(state.governance, now).policy().digest(),
      .new_digest = next.digest(),
      .sequence = next.fields().sequence,
      .effective_time = decision.acceptance->effective_from});
  util::Result<signerapi::AuditHead> committed =
      CommitLocked(now, std::move(bodies), std::move(decision.change));
  if (!committed.ok()) return StatusReply(committed.status());
  return JsonReply(200, signerapi::EncodeStatusResponse(StatusLocked(now)));
}

HttpReply SignerService::Impl::Freeze(const HttpRequest& request) {
  if (std::optional<HttpReply> refused =
          CheckPost(request, "freeze request", signerapi::kMaxFreezeRequestSize)) {
    return *refused;
  }
  util::Result<signerapi::FreezeRequest> decoded = signerapi::DecodeFreezeRequest(request.body);
  if (!decoded.ok()) return RefuseUndecodedChange(request.body, decoded.status());

  std::lock_guard<std::mutex> lock(mutex);
  const uint64_t now = NowLocked();
  signer::ChangeDecision decision = signer::DecideFreeze(config, state, decoded->freeze, now);
  if (!decision.accepted()) {
    return RefuseChangeLocked(now, request.body, decision.refusal->code, decision.refusal->status);
  }
  // A freeze already in force changes nothing and is not logged again.
  if (!decision.change.empty()) {
    std::vector<auditlog::EntryBody> bodies;
    bodies.push_back(auditlog::FreezeEntry{.reason = decoded->freeze.freeze().fields().reason});
    util::Result<signerapi::AuditHead> committed =
        CommitLocked(now, std::move(bodies), std::move(decision.change));
    if (!committed.ok()) return StatusReply(committed.status());
  }
  return JsonReply(200, signerapi::EncodeStatusResponse(StatusLocked(now)));
}

HttpReply SignerService::Impl::Unfreeze(const HttpRequest& request) {
  if (std::optional<HttpReply> refused =
          CheckPost(request, "unfreeze request", signerapi::kMaxUnfreezeRequestSize)) {
    return *refused;
  }
  util::Result<signerapi::UnfreezeRequest> decoded = signerapi::DecodeUnfreezeRequest(request.body);
  if (!decoded.ok()) return RefuseUndecodedChange(request.body, decoded.status());

  std::lock_guard<std::mutex> lock(mutex);
  const uint64_t now = NowLocked();
  signer::ChangeDecision decision = signer::DecideUnfreeze(config, state, decoded->unfreeze, now);
  if (!decision.accepted()) {
    return RefuseChangeLocked(now, request.body, decision.refusal->code, decision.refusal->status);
  }
  const signerapi::Unfreeze& unfreeze = decoded->unfreeze.unfreeze();
  std::vector<auditlog::EntryBody> bodies;
  bodies.push_back(auditlog::UnfreezeEntry{.reason = unfreeze.fields().reason,
                                           .authorization_digest = unfreeze.digest()});
  util::Result<signerapi::AuditHead> committed =
      CommitLocked(now, std::move(bodies), std::move(decision.change));
  if (!committed.ok()) return StatusReply(committed.status());
  return JsonReply(200, signerapi::EncodeStatusResponse(StatusLocked(now)));
}

HttpReply SignerService::Impl::Status(const HttpRequest& request) {
  if (util::Status checked = CheckQueryParameters(request.query, {}); !checked.ok()) {
    return StatusReply(checked);
  }
  std::lock_guard<std::mutex> lock(mutex);
  return JsonReply(200, signerapi::EncodeStatusResponse(StatusLocked(NowLocked())));
}

HttpReply SignerService::Impl::AuditHead(const HttpRequest& request) {
  if (util::Status checked = CheckQueryParameters(request.query, {}); !checked.ok()) {
    return StatusReply(checked);
  }
  std::lock_guard<std::mutex> lock(mutex);
  return JsonReply(200, signerapi::EncodeAuditHead(CurrentHeadLocked()));
}

HttpReply SignerService::Impl::InclusionProof(const HttpRequest& request) {
  if (util::Status checked = CheckQueryParameters(request.query, {"index", "size"});
      !checked.ok()) {
    return StatusReply(checked);
  }
  util::Result<uint64_t> index = DecimalParameter(request.query, "index");
  if (!index.ok()) return StatusReply(index.status());
  util::Result<uint64_t> size = DecimalParameter(request.query, "size");
  if (!size.ok()) return StatusReply(size.status());
  if (*index >= *size) {
    return StatusReply(util::InvalidArgumentError("query parameter 'index': must be below 'size'"));
  }
  std::lock_guard<std::mutex> lock(mutex);
  if (*size > log.size()) {
    return StatusReply(util::NotFoundError("audit log has " + std::to_string(log.size()) +
                                           " entries, not " + std::to_string(*size)));
  }
  util::Result<std::vector<auditlog::Hash>> proof = log.InclusionProof(*index, *size);
  if (!proof.ok()) return StatusReply(util::InternalError(proof.status().message()));
  return JsonReply(200, signerapi::EncodeInclusionProof(signerapi::InclusionProofResponse{
                            .index = *index, .tree_size = *size, .hashes = std::move(*proof)}));
}

HttpReply SignerService::Impl::ConsistencyProof(const HttpRequest& request) {
  if (util::Status checked = CheckQueryParameters(request.query, {"from", "to"}); !checked.ok()) {
    return StatusReply(checked);
  }
  util::Result<uint64_t> from = DecimalParameter(request.query, "from");
  if (!from.ok()) return StatusReply(from.status());
  util::Result<uint64_t> to = DecimalParameter(request.query, "to");
  if (!to.ok()) return StatusReply(to.status());
  if (*from == 0 || *from > *to) {
    return StatusReply(util::InvalidArgumentError("query parameters: expected 0 < 'from' <= 'to'"));
  }
  std::lock_guard<std::mutex> lock(mutex);
  if (*to > log.size()) {
    return StatusReply(util::NotFoundError("audit log has " + std::to_string(log.size()) +
                                           " entries, not " + std::to_string(*to)));
  }
  util::Result<std::vector<auditlog::Hash>> proof = log.ConsistencyProof(*from, *to);
  if (!proof.ok()) return StatusReply(util::InternalError(proof.status().message()));
  return JsonReply(200, signerapi::EncodeConsistencyProof(signerapi::ConsistencyProofResponse{
                            .from = *from, .to = *to, .hashes = std::move(*proof)}));
}

HttpReply SignerService::Impl::Entries(const HttpRequest& request) {
  if (util::Status checked = CheckQueryParameters(request.query, {"from", "count"});
      !checked.ok()) {
    return StatusReply(checked);
  }
  util::Result<uint64_t> from = DecimalParameter(request.query, "from");
  if (!from.ok()) return StatusReply(from.status());
  util::Result<uint64_t> count = DecimalParameter(request.query, "count");
  if (!count.ok()) return StatusReply(count.status());
  if (*count == 0 || *count > signerapi::kMaxEntriesPerPage) {
    return StatusReply(util::InvalidArgumentError("query parameter 'count': must be 1.." +
                                                  std::to_string(signerapi::kMaxEntriesPerPage)));
  }
  std::lock_guard<std::mutex> lock(mutex);
  if (*from >= log.size()) {
    return StatusReply(util::NotFoundError("audit log has " + std::to_string(log.size()) +
                                           " entries; none at index " + std::to_string(*from)));
  }
  util::Result<std::vector<std::vector<uint8_t>>> entries = store.ReadEntries(*from, *count);
  if (!entries.ok()) return StatusReply(entries.status());
  return JsonReply(200, signerapi::EncodeEntries(signerapi::EntriesResponse{
                            .from = *from, .entries = std::move(*entries)}));
}

HttpReply SignerService::Impl::Health(const HttpRequest&) {
  // The service exists only with its store, log and key open, and a failed commit leaves the
  // state in memory as committed: an open service can always decide.
  HttpReply reply;
  reply.content_type = "text/plain";
  reply.body = "ok\n";
  return reply;
}

HttpReply SignerService::Impl::Metrics(const HttpRequest&) {
  HttpReply reply;
  reply.content_type = std::string(kMetricsContentType);
  reply.body = RenderMetrics();
  return reply;
}

HttpReply SignerService::Impl::Route(const HttpRequest& request) {
  struct Endpoint {
    std::string_view path;
    std::string_view method;
    HttpReply (Impl::*handler)(const HttpRequest&);
  };
  static constexpr Endpoint kRoutes[] = {
      {"/v1/sign", "POST", &Impl::Sign},
      {"/v1/policy", "POST", &Impl::PolicyUpdate},
      {"/v1/freeze", "POST", &Impl::Freeze},
      {"/v1/unfreeze", "POST", &Impl::Unfreeze},
      {"/v1/status", "GET", &Impl::Status},
      {"/v1/audit/head", "GET", &Impl::AuditHead},
      {"/v1/audit/proof/inclusion", "GET", &Impl::InclusionProof},
      {"/v1/audit/proof/consistency", "GET", &Impl::ConsistencyProof},
      {"/v1/audit/entries", "GET", &Impl::Entries},
      {"/healthz", "GET", &Impl::Health},
      {"/metrics", "GET", &Impl::Metrics},
  };
  static_assert(std::size(kRoutes) == internal::kEndpoints.size());
  for (const Endpoint& endpoint : kRoutes) {
    if (endpoint.path != request.path) continue;
    if (endpoint.method != request.method) {
      HttpReply reply = HttpLayerError(405, "method_not_allowed",
                                       "method not allowed; use " + std::string(endpoint.method));
      reply.headers["Allow"] = std::string(endpoint.method);
      return reply;
    }
    return (this->*endpoint.handler)(request);
  }
  return StatusReply(
      util::NotFoundError("no endpoint at path '" + BoundedText(request.path, 128) + "'"));
}

util::Result<std::unique_ptr<SignerService>> SignerService::Open(ServiceOptions options) {
  std::function<uint64_t()> clock =
      options.clock ? std::move(options.clock) : std::function<uint64_t()>(SystemClock);
  crypto::SystemRng rng;
  auto ctx = std::make_unique<crypto::Secp256k1Context>(crypto::Secp256k1Context::Create(rng));
  const std::string& dir = options.dir;
  std::error_code error;
  if (!std::filesystem::is_directory(dir, error)) {
    return util::NotFoundError("state directory " + dir + ": not found");
  }

  util::Result<StateStore> store = StateStore::Open(dir + "/" + std::string(kStateDatabaseFile));
  if (!store.ok()) return store.status();
  util::Result<LoadedState> loaded = store->Load();
  if (!loaded.ok()) return loaded.status();
  const PinnedConfig& pinned = loaded->config;

  util::Result<crypto::Ed25519PrivateKey> identity =
      OpenIdentityKey(dir + "/" + std::string(kIdentityKeyFile), options.passphrase);
  if (!identity.ok()) return identity.status();
  if (identity->public_key() != pinned.identity_public_key) {
    return util::FailedPreconditionError("identity key file " + dir + "/" +
                                         std::string(kIdentityKeyFile) +
                                         ": not the identity key pinned in the state database");
  }

  util::Result<std::unique_ptr<KeyBackend>> backend =
      OpenKeyBackend(*ctx, dir, pinned, options.passphrase, options.pin);
  if (!backend.ok()) return backend.status();
  util::Result<btc::Descriptor> descriptor =
      btc::Descriptor::Parse(*ctx, pinned.descriptor, pinned.network);
  if (!descriptor.ok()) return descriptor.status().WithPrefix("pinned wallet descriptor");
  if (!DescriptorNamesKey(descriptor->ToString(), (*backend)->descriptor_key())) {
    return util::FailedPreconditionError("key backend '" + std::string((*backend)->kind()) +
                                         "': key " + (*backend)->descriptor_key() +
                                         " is not a key of the pinned wallet descriptor");
  }
  util::Result<signer::WalletConfig> wallet =
      signer::WalletConfig::Create(*ctx, pinned.wallet_id, pinned.network, std::move(*descriptor),
                                   pinned.receive_index_max, pinned.change_index_max);
  if (!wallet.ok()) return wallet.status().WithPrefix("pinned wallet");
  util::Result<bool> taproot = WalletUsesTaproot(*ctx, *wallet);
  if (!taproot.ok()) return taproot.status().WithPrefix("pinned wallet");
  if (util::Status supported = CheckBackendSupportsWallet(**backend, *taproot); !supported.ok()) {
    return supported;
  }

  util::Result<uint64_t> count = store->EntryCount();
  if (!count.ok()) return count.status();
  util::Result<uint64_t> last_time = LastEntryTime(*store, *count);
  if (!last_time.ok()) return last_time.status();

  signer::SignerConfig config{.signer_id = policy::Ed25519KeyId(pinned.identity_public_key),
                              .wallet = std::move(*wallet),
                              .watchers = pinned.watchers};
  PinnedConfig pinned_copy = pinned;
  auto impl = std::make_unique<Impl>(std::move(clock), std::move(ctx), std::move(pinned_copy),
                                     std::move(config), std::move(*identity), std::move(*backend),
                                     std::move(*store), std::move(*loaded), *last_time);

  // The start-up entry, with the head that covers it.
  {
    std::lock_guard<std::mutex> lock(impl->mutex);
    const uint64_t now = impl->NowLocked();
    const policy::SignedPolicy& in_force = policy::InForce(impl->state.governance, now);
    std::vector<auditlog::EntryBody> bodies;
    bodies.push_back(
        auditlog::StartupEntry{.software = std::string(kSignerSoftware),
                               .head_key = impl->identity.public_key(),
                               .policy_digest = in_force.policy().digest(),
                               .policy_sequence = in_force.policy().fields().sequence});
    util::Result<signerapi::AuditHead> committed =
        impl->CommitLocked(now, std::move(bodies), signer::StateChange{});
    if (!committed.ok()) return committed.status();
  }
  return std::unique_ptr<SignerService>(new SignerService(std::move(impl)));
}

SignerService::SignerService(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

SignerService::~SignerService() = default;

HttpReply SignerService::Handle(const HttpRequest& request) {
  HttpReply reply = impl_->Route(request);
  impl_->metrics.CountRequest(request.path, reply.status);
  return reply;
}

std::string SignerService::MetricsText() const { return impl_->RenderMetrics(); }

size_t SignerService::BodyLimit(std::string_view path) const {
  if (path == "/v1/sign") return signerapi::kMaxSignRequestSize;
  if (path == "/v1/policy") return signerapi::kMaxPolicyUpdateRequestSize;
  if (path == "/v1/freeze") return signerapi::kMaxFreezeRequestSize;
  if (path == "/v1/unfreeze") return signerapi::kMaxUnfreezeRequestSize;
  return kMaxOtherBodySize;
}

HttpReply SignerService::ErrorReply(int status, std::string_view code, std::string message) const {
  // ErrorBodyFor escapes what the message quotes; the code is the HTTP layer's own.
  signerapi::ErrorBody error =
      signerapi::ErrorBodyFor(util::InvalidArgumentError(std::move(message)));
  error.code = std::string(code);
  return JsonReply(status, signerapi::EncodeErrorBody(error));
}

void SignerService::CountRequest(const std::string& endpoint, int status) {
  impl_->metrics.CountRequest(endpoint, status);
}

}  // namespace kinko::signerd
