// kinko audit verify | show: a signer's audit log (doc/audit-log.md), read from the signer over
// HTTP (GET /v1/audit/head, /v1/audit/entries, /v1/audit/proof/consistency; doc/signer-api.md)
// or from its state directory (signerd/state_store.h, read-only).
//
// `verify` trusts nothing it reads: every entry is decoded and re-hashed into a Merkle log of its
// own, every signed tree head is checked against the signer's head key and against that log, and
// a head saved by an earlier run (--from-head) must be extended by the current one, checked both
// with the signer's consistency proof and with the log rebuilt here. A log that fails any check
// is a negative answer (exit status 1); a signer that cannot be reached, a missing directory or
// bad usage is exit status 2.
//
// `show` prints the entries as they are stored, one line each; it checks nothing but their
// encoding.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "auditlog/entry.h"
#include "auditlog/merkle_log.h"
#include "auditlog/tree_head.h"
#include "cli/command.h"
#include "cli/secure_io.h"
#include "cli/signed_files.h"
#include "net/http_client.h"
#include "signerapi/audit_codec.h"
#include "signerapi/messages.h"
#include "signerd/setup.h"
#include "signerd/state_store.h"
#include "util/hex.h"

namespace kinko::cli {
namespace {

// A saved head file is one encoded SignedTreeHead (145 bytes in version 1); this bound leaves
// room for later versions and refuses reading anything large.
constexpr size_t kMaxHeadFileSize = signerapi::kMaxSignedTreeHeadSize;

// Where the log is read from: exactly one of the two is set.
struct SourceOptions {
  std::string signer_url;
  std::string dir;
  std::string ca_cert;  // For https:// URLs: a PEM file of trusted CAs (default: the system's).
};

// A signer's audit endpoints over HTTP(S). Movable, not copyable; one owner.
class SignerClient final {
 public:
  // A client for `url` ("http://host:port" or "https://host:port", no path). Fails with
  // kInvalidArgument when the URL has another form.
  static util::Result<SignerClient> Create(const std::string& url, const std::string& ca_cert) {
    net::HttpClientOptions options;
    options.ca_cert = ca_cert;
    util::Result<net::HttpClient> client = net::HttpClient::Create(url, std::move(options));
    if (!client.ok()) return client.status().WithPrefix("--signer");
    return SignerClient(std::move(*client));
  }

  const std::string& url() const { return client_.url(); }

  // The body of a 200 answer to GET `path`. Fails with kUnavailable naming the URL and path when
  // the signer cannot be reached or answers another status, and with kInvalidArgument when the
  // body is larger than `max_size`.
  util::Result<std::string> Get(const std::string& path, size_t max_size) const {
    util::Result<net::HttpResponse> response = client_.Get(path);
    if (!response.ok()) return response.status();
    const std::string where = client_.url() + path;
    if (response->status != 200) {
      return util::UnavailableError(where + ": HTTP " + std::to_string(response->status));
    }
    if (response->body.size() > max_size) {
      return util::InvalidArgumentError(
          where + ": body of " + std::to_string(response->body.size()) +
          " bytes is larger than the limit of " + std::to_string(max_size));
    }
    return std::move(response->body);
  }

 private:
  explicit SignerClient(net::HttpClient client) : client_(std::move(client)) {}

  // Get is const to its callers; the connection it keeps alive is not.
  mutable net::HttpClient client_;
};

util::Result<signerapi::AuditHead> FetchHead(const SignerClient& client) {
  util::Result<std::string> body =
      client.Get("/v1/audit/head", signerapi::kMaxAuditHeadResponseSize);
  if (!body.ok()) return body.status();
  util::Result<signerapi::AuditHead> head = signerapi::DecodeAuditHead(*body);
  if (!head.ok()) return head.status().WithPrefix(client.url() + "/v1/audit/head");
  return head;
}

// Entries [from, from + count), fetched a page at a time. Fails as Get, with kInvalidArgument
// for a page that does not decode or starts elsewhere, and kNotFound when the signer has fewer
// entries than asked.
util::Result<std::vector<std::vector<uint8_t>>> FetchEntries(const SignerClient& client,
                                                             uint64_t from, uint64_t count) {
  std::vector<std::vector<uint8_t>> entries;
  while (entries.size() < count) {
    const uint64_t next = from + entries.size();
    const uint64_t page = std::min<uint64_t>(count - entries.size(), signerapi::kMaxEntriesPerPage);
    const std::string path =
        "/v1/audit/entries?from=" + std::to_string(next) + "&count=" + std::to_string(page);
    util::Result<std::string> body = client.Get(path, signerapi::kMaxEntriesResponseSize);
    if (!body.ok()) return body.status();
    util::Result<signerapi::EntriesResponse> decoded = signerapi::DecodeEntries(*body);
    if (!decoded.ok()) return decoded.status().WithPrefix(client.url() + path);
    if (decoded->from != next) {
      return util::InvalidArgumentError(client.url() + path + ": page starts at entry " +
                                        std::to_string(decoded->from));
    }
    if (decoded->entries.size() > page) decoded->entries.resize(page);
    for (std::vector<uint8_t>& entry : decoded->entries) entries.push_back(std::move(entry));
  }
  return entries;
}

util::Result<std::vector<auditlog::Hash>> FetchConsistencyProof(const SignerClient& client,
                                                                uint64_t from, uint64_t to) {
  const std::string path =
      "/v1/audit/proof/consistency?from=" + std::to_string(from) + "&to=" + std::to_string(to);
  util::Result<std::string> body = client.Get(path, signerapi::kMaxProofResponseSize);
  if (!body.ok()) return body.status();
  util::Result<signerapi::ConsistencyProofResponse> proof =
      signerapi::DecodeConsistencyProof(*body);
  if (!proof.ok()) return proof.status().WithPrefix(client.url() + path);
  if (proof->from != from || proof->to != to) {
    return util::InvalidArgumentError(client.url() + path + ": a proof from " +
                                      std::to_string(proof->from) + " to " +
                                      std::to_string(proof->to));
  }
  return std::vector<auditlog::Hash>(proof->hashes.begin(), proof->hashes.end());
}

util::Result<signerd::StateStore> OpenStore(const std::string& dir) {
  return signerd::StateStore::OpenReadOnly(dir + "/" + std::string(signerd::kStateDatabaseFile));
}

// Entries [from, from + count) of the store, or fewer at the end of the log.
util::Result<std::vector<std::vector<uint8_t>>> ReadStoreEntries(const signerd::StateStore& store,
                                                                 uint64_t from, uint64_t count) {
  std::vector<std::vector<uint8_t>> entries;
  while (entries.size() < count) {
    const uint64_t page = std::min<uint64_t>(count - entries.size(), signerapi::kMaxEntriesPerPage);
    util::Result<std::vector<std::vector<uint8_t>>> read =
        store.ReadEntries(from + entries.size(), page);
    if (!read.ok()) return read.status();
    if (read->empty()) break;
    for (std::vector<uint8_t>& entry : *read) entries.push_back(std::move(entry));
  }
  return entries;
}

// Everything verify reads, before any of it is checked.
struct CollectedLog {
  std::vector<std::vector<uint8_t>> entries;
  // The signed tree heads the source holds: every stored head of a directory; the current head
  // of a signer.
  std::vector<auditlog::SignedTreeHead> heads;
};

util::Result<CollectedLog> CollectFromSigner(const SignerClient& client) {
  util::Result<signerapi::AuditHead> head = FetchHead(client);
  if (!head.ok()) return head.status();
  if (head->signed_tree_head.empty()) {
    return util::DataLossError(client.url() + "/v1/audit/head: the current head of " +
                               std::to_string(head->tree_size) + " entries is not signed");
  }
  util::Result<auditlog::SignedTreeHead> signed_head =
      auditlog::SignedTreeHead::Decode(head->signed_tree_head);
  if (!signed_head.ok()) {
    return signed_head.status().WithPrefix(client.url() + "/v1/audit/head: signed_tree_head");
  }
  if (signed_head->head().size != head->tree_size || signed_head->head().root != head->root_hash) {
    return util::DataLossError(client.url() +
                               "/v1/audit/head: the signed tree head is not of the size and root "
                               "the answer states");
  }
  CollectedLog log;
  util::Result<std::vector<std::vector<uint8_t>>> entries =
      FetchEntries(client, 0, head->tree_size);
  if (!entries.ok()) return entries.status();
  log.entries = std::move(*entries);
  log.heads.push_back(*std::move(signed_head));
  return log;
}

// The stored heads and entries as of one commit. The store answers each read from the last
// committed transaction and every commit stores a new head, so when the heads are the same before
// and after the entries are read, no commit came in between. A running signer may commit in
// between: then read again.
util::Result<CollectedLog> CollectFromDir(const signerd::StateStore& store) {
  constexpr int kAttempts = 5;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    util::Result<std::vector<auditlog::SignedTreeHead>> before = store.ReadHeads();
    if (!before.ok()) return before.status();
    util::Result<uint64_t> count = store.EntryCount();
    if (!count.ok()) return count.status();
    util::Result<std::vector<std::vector<uint8_t>>> entries = ReadStoreEntries(store, 0, *count);
    if (!entries.ok()) return entries.status();
    util::Result<std::vector<auditlog::SignedTreeHead>> after = store.ReadHeads();
    if (!after.ok()) return after.status();
    if (*before != *after) continue;
    if (after->empty()) return util::DataLossError("the state database holds no signed tree head");
    return CollectedLog{.entries = std::move(*entries), .heads = std::move(*after)};
  }
  return util::UnavailableError("the state database changed during every read; try again");
}

// What a verified log holds.
struct Summary {
  uint64_t tree_size = 0;
  auditlog::Hash root{};
  std::map<std::string, uint64_t> kinds = {};  // Entries by kind name.
  uint64_t signed_decisions = 0;
  uint64_t refused_decisions = 0;
  crypto::Ed25519PublicKey head_key{};
  bool head_key_pinned = false;  // Given with --signer-key, else the first start-up entry's.
  uint64_t heads_checked = 0;
  auditlog::SignedTreeHead current;
  std::optional<auditlog::TreeHead> from_head = std::nullopt;
};

// Checks `collected` (doc/audit-log.md, "Checking a log", steps 1 to 4). `signer_proof` is the
// consistency proof the signer gave from `saved`'s size to the current head's size, when read
// from a signer. Returns the summary; fails with the reason the log is not what its heads say
// (every failure is a negative answer).
util::Result<Summary> VerifyCollected(
    const CollectedLog& collected, const std::optional<crypto::Ed25519PublicKey>& signer_key,
    const std::optional<auditlog::SignedTreeHead>& saved,
    const std::optional<std::vector<auditlog::Hash>>& signer_proof, bool whole_log_signed) {
  Summary summary{.current = collected.heads.back()};
  // Step 1: decode every entry and rebuild the Merkle log.
  auditlog::MerkleLog log;
  std::optional<crypto::Ed25519PublicKey> logged_key;
  for (size_t i = 0; i < collected.entries.size(); ++i) {
    const std::string where = "audit log entry " + std::to_string(i);
    util::Result<auditlog::Entry> entry = auditlog::Entry::Decode(collected.entries[i]);
    if (!entry.ok()) return util::DataLossError(where + ": " + entry.status().message());
    log.Append(collected.entries[i]);
    ++summary.kinds[std::string(auditlog::EntryKindName(entry->kind()))];
    if (const auto* decision = std::get_if<auditlog::DecisionEntry>(&entry->body())) {
      if (decision->outcome == auditlog::Outcome::kSigned) {
        ++summary.signed_decisions;
      } else {
        ++summary.refused_decisions;
      }
    }
    if (const auto* startup = std::get_if<auditlog::StartupEntry>(&entry->body())) {
      // The head key is the signer's identity key: it never changes, so every start-up entry
      // names the same one, and a given --signer-key must be it.
      const crypto::Ed25519PublicKey& expected =
          signer_key ? *signer_key : logged_key.value_or(startup->head_key);
      if (startup->head_key != expected) {
        return util::DataLossError(where + ": start-up entry names head key " +
                                   util::HexEncode(startup->head_key) + ", not " +
                                   util::HexEncode(expected));
      }
      logged_key = startup->head_key;
    }
  }
  if (!signer_key && !logged_key) {
    return util::DataLossError(
        "audit log: no start-up entry names the signer's head key (give --signer-key)");
  }
  summary.head_key = signer_key ? *signer_key : *logged_key;
  summary.head_key_pinned = signer_key.has_value();
  summary.tree_size = log.size();
  summary.root = log.Root();

  // Step 2: every signed head is the signer's and describes this log; step 3: each extends the
  // one before (two heads of one size with different roots are a fork).
  std::optional<auditlog::TreeHead> previous;
  for (const auditlog::SignedTreeHead& head : collected.heads) {
    const std::string where = "signed tree head of size " + std::to_string(head.head().size);
    if (util::Status s = head.Verify(summary.head_key); !s.ok()) return s.WithPrefix(where);
    if (util::Status s = auditlog::VerifyLogMatchesHead(log, head.head()); !s.ok()) {
      return s.WithPrefix(where);
    }
    if (previous) {
      std::vector<auditlog::Hash> proof;
      if (previous->size > 0) {
        util::Result<std::vector<auditlog::Hash>> p =
            log.ConsistencyProof(std::min(previous->size, head.head().size), head.head().size);
        if (!p.ok()) return p.status().WithPrefix(where);
        proof = std::move(*p);
      }
      if (util::Status s = auditlog::VerifyHeadConsistency(*previous, head.head(), proof);
          !s.ok()) {
        return s.WithPrefix(where + ": does not extend the head of size " +
                            std::to_string(previous->size));
      }
    }
    previous = head.head();
    ++summary.heads_checked;
  }
  const auditlog::TreeHead& current = summary.current.head();
  if (whole_log_signed && current.size != log.size()) {
    return util::DataLossError("audit log: " + std::to_string(log.size() - current.size) +
                               " entries after the latest signed tree head of size " +
                               std::to_string(current.size));
  }

  // Step 4: the head saved earlier is extended by the current one.
  if (saved) {
    const auditlog::TreeHead& old_head = saved->head();
    const std::string prefix = "audit log rolled back or rewritten: ";
    if (util::Status s = saved->Verify(summary.head_key); !s.ok()) {
      return s.WithPrefix("--from-head");
    }
    if (old_head.size > current.size) {
      return util::DataLossError(prefix + "the saved head has " + std::to_string(old_head.size) +
                                 " entries, the current signed head only " +
                                 std::to_string(current.size));
    }
    std::vector<auditlog::Hash> own_proof;
    if (old_head.size > 0) {
      util::Result<std::vector<auditlog::Hash>> p =
          log.ConsistencyProof(old_head.size, current.size);
      if (!p.ok()) return p.status();
      own_proof = std::move(*p);
    }
    if (util::Status s = auditlog::VerifyHeadConsistency(old_head, current, own_proof); !s.ok()) {
      return util::DataLossError(prefix + s.message());
    }
    if (signer_proof) {
      if (util::Status s = auditlog::VerifyHeadConsistency(old_head, current, *signer_proof);
          !s.ok()) {
        return util::DataLossError(prefix + "the signer's consistency proof: " + s.message());
      }
    }
    summary.from_head = old_head;
  }
  return summary;
}

// Failures that say the log could not be read at all, rather than that it is wrong.
bool IsUnreadable(const util::Status& status) {
  return status.code() == util::StatusCode::kUnavailable ||
         status.code() == util::StatusCode::kNotFound ||
         status.code() == util::StatusCode::kFailedPrecondition;
}

util::Status CheckSource(const SourceOptions& source) {
  if (source.signer_url.empty() == source.dir.empty()) {
    return util::InvalidArgumentError("give exactly one of --signer URL and --dir DIR");
  }
  return util::OkStatus();
}

struct VerifyOptions {
  SourceOptions source;
  std::string from_head;
  std::string save_head;
  std::string signer_key;
  bool json = false;
};

CommandOutput VerifyFailed(const util::Status& status, bool json) {
  if (json) {
    Json out = Json::object();
    out["verified"] = false;
    out["reason"] = status.message();
    return CommandOutput{.json = std::move(out), .exit_code = kExitNegative};
  }
  std::string text;
  AppendLine(text, "FAILED", status.message(), 10);
  return CommandOutput{.text = std::move(text), .exit_code = kExitNegative};
}

util::Result<CommandOutput> AuditVerify(const VerifyOptions& options) {
  if (util::Status s = CheckSource(options.source); !s.ok()) return s;
  std::optional<crypto::Ed25519PublicKey> signer_key;
  if (!options.signer_key.empty()) {
    util::Result<std::vector<uint8_t>> bytes =
        util::HexDecodeExact(options.signer_key, crypto::kEd25519PublicKeySize);
    if (!bytes.ok()) return bytes.status().WithPrefix("--signer-key");
    signer_key.emplace();
    std::copy(bytes->begin(), bytes->end(), signer_key->begin());
  }
  std::optional<auditlog::SignedTreeHead> saved;
  if (!options.from_head.empty()) {
    util::Result<std::vector<uint8_t>> bytes = ReadSmallFile(options.from_head, kMaxHeadFileSize);
    if (!bytes.ok()) return bytes.status();
    util::Result<auditlog::SignedTreeHead> head = auditlog::SignedTreeHead::Decode(*bytes);
    if (!head.ok()) return head.status().WithPrefix(options.from_head);
    saved = *std::move(head);
  }

  // Read everything first; a signer that cannot be reached is not a failed verification.
  util::Result<CollectedLog> collected = util::InternalError("unset");
  std::optional<SignerClient> client;
  if (!options.source.signer_url.empty()) {
    util::Result<SignerClient> created =
        SignerClient::Create(options.source.signer_url, options.source.ca_cert);
    if (!created.ok()) return created.status();
    client.emplace(*std::move(created));
    collected = CollectFromSigner(*client);
  } else {
    util::Result<signerd::StateStore> store = OpenStore(options.source.dir);
    if (!store.ok()) {
      if (IsUnreadable(store.status())) return store.status().WithPrefix(options.source.dir);
      return VerifyFailed(store.status().WithPrefix(options.source.dir), options.json);
    }
    collected = CollectFromDir(*store);
  }
  if (!collected.ok()) {
    if (IsUnreadable(collected.status())) return collected.status();
    return VerifyFailed(collected.status(), options.json);
  }
  // The signer's own consistency proof, checked besides the one computed from the log; a
  // rollback (a saved head larger than the current one) is reported by VerifyCollected.
  std::optional<std::vector<auditlog::Hash>> signer_proof;
  const auditlog::TreeHead& current = collected->heads.back().head();
  if (client && saved && saved->head().size > 0 && saved->head().size <= current.size) {
    util::Result<std::vector<auditlog::Hash>> proof =
        FetchConsistencyProof(*client, saved->head().size, current.size);
    if (!proof.ok()) {
      if (IsUnreadable(proof.status())) return proof.status();
      return VerifyFailed(proof.status(), options.json);
    }
    signer_proof = *std::move(proof);
  }

  util::Result<Summary> summary = VerifyCollected(*collected, signer_key, saved, signer_proof,
                                                  /*whole_log_signed=*/!client.has_value());
  if (!summary.ok()) return VerifyFailed(summary.status(), options.json);

  if (!options.save_head.empty()) {
    const std::vector<uint8_t> bytes = summary->current.Encode();
    if (util::Status s = ReplaceFile(options.save_head, bytes, 0644); !s.ok()) return s;
  }

  const std::string source =
      client ? client->url() : options.source.dir + "/" + std::string(signerd::kStateDatabaseFile);
  const auditlog::TreeHead& head = summary->current.head();
  if (options.json) {
    Json out = Json::object();
    out["verified"] = true;
    out["source"] = source;
    out["tree_size"] = summary->tree_size;
    out["root_hash"] = util::HexEncode(summary->root);
    Json kinds = Json::object();
    for (const auto& [kind, count] : summary->kinds) kinds[kind] = count;
    out["entries"] = std::move(kinds);
    out["decisions"] =
        Json{{"signed", summary->signed_decisions}, {"refused", summary->refused_decisions}};
    out["head_key"] = util::HexEncode(summary->head_key);
    out["head_key_source"] = summary->head_key_pinned ? "signer_key" : "startup_entry";
    out["signed_heads_checked"] = summary->heads_checked;
    out["signed_head"] = Json{
        {"tree_size", head.size}, {"root_hash", util::HexEncode(head.root)}, {"time", head.time}};
    out["from_head"] = summary->from_head
                           ? Json{{"tree_size", summary->from_head->size},
                                  {"root_hash", util::HexEncode(summary->from_head->root)}}
                           : Json(nullptr);
    return CommandOutput{.json = std::move(out)};
  }
  std::string kinds;
  for (const auto& [kind, count] : summary->kinds) {
    if (!kinds.empty()) kinds += ", ";
    kinds += kind + " " + std::to_string(count);
  }
  std::string text;
  const size_t width = 14;
  AppendLine(text, "source", source, width);
  AppendLine(text, "entries", std::to_string(summary->tree_size) + " (" + kinds + ")", width);
  AppendLine(text, "decisions",
             std::to_string(summary->signed_decisions) + " signed, " +
                 std::to_string(summary->refused_decisions) + " refused",
             width);
  AppendLine(text, "tree size", std::to_string(summary->tree_size), width);
  AppendLine(text, "root", util::HexEncode(summary->root), width);
  AppendLine(text, "head key",
             util::HexEncode(summary->head_key) +
                 (summary->head_key_pinned ? " (--signer-key)"
                                           : " (from the log's start-up entry, not pinned)"),
             width);
  AppendLine(text, "signed heads",
             std::to_string(summary->heads_checked) + " checked, latest of size " +
                 std::to_string(head.size) + " at " + IsoTime(head.time),
             width);
  if (summary->from_head) {
    AppendLine(text, "from head",
               "size " + std::to_string(summary->from_head->size) + ": extended by the current",
               width);
  }
  if (!options.save_head.empty()) AppendLine(text, "saved head", options.save_head, width);
  text += "audit log verified\n";
  return CommandOutput{.text = std::move(text)};
}

struct ShowOptions {
  SourceOptions source;
  uint64_t from = 0;
  uint64_t count = UINT64_MAX;  // To the end of the log.
  bool json = false;
};

util::Result<CommandOutput> AuditShow(const ShowOptions& options) {
  if (util::Status s = CheckSource(options.source); !s.ok()) return s;
  util::Result<std::vector<std::vector<uint8_t>>> entries = util::InternalError("unset");
  if (!options.source.signer_url.empty()) {
    util::Result<SignerClient> client =
        SignerClient::Create(options.source.signer_url, options.source.ca_cert);
    if (!client.ok()) return client.status();
    util::Result<signerapi::AuditHead> head = FetchHead(*client);
    if (!head.ok()) return head.status();
    if (options.from >= head->tree_size) {
      return util::NotFoundError("--from " + std::to_string(options.from) + ": the log has " +
                                 std::to_string(head->tree_size) + " entries");
    }
    const uint64_t available = head->tree_size - options.from;
    entries = FetchEntries(*client, options.from, std::min(available, options.count));
  } else {
    util::Result<signerd::StateStore> store = OpenStore(options.source.dir);
    if (!store.ok()) return store.status().WithPrefix(options.source.dir);
    util::Result<uint64_t> size = store->EntryCount();
    if (!size.ok()) return size.status();
    if (options.from >= *size) {
      return util::NotFoundError("--from " + std::to_string(options.from) + ": the log has " +
                                 std::to_string(*size) + " entries");
    }
    const uint64_t available = *size - options.from;
    entries = ReadStoreEntries(*store, options.from, std::min(available, options.count));
  }
  if (!entries.ok()) return entries.status();

  std::string text;
  Json lines = Json::array();
  for (size_t i = 0; i < entries->size(); ++i) {
    const uint64_t index = options.from + i;
    util::Result<auditlog::Entry> entry = auditlog::Entry::Decode((*entries)[i]);
    if (!entry.ok()) {
      return util::DataLossError("audit log entry " + std::to_string(index) + ": " +
                                 entry.status().message());
    }
    const std::string line = auditlog::RenderEntry(*entry);
    if (options.json) {
      lines.push_back(Json{{"index", index},
                           {"kind", std::string(auditlog::EntryKindName(entry->kind()))},
                           {"time", entry->time()},
                           {"text", line},
                           {"leaf_hash", util::HexEncode(entry->LeafHash())}});
    } else {
      text += std::to_string(index) + " " + line + "\n";
    }
  }
  if (options.json) return CommandOutput{.json = Json{{"entries", std::move(lines)}}};
  return CommandOutput{.text = std::move(text)};
}

void AddSourceOptions(CLI::App* cmd, SourceOptions& source) {
  cmd->add_option("--signer", source.signer_url,
                  "The signer's URL: http://HOST:PORT or https://HOST:PORT");
  cmd->add_option("--dir", source.dir, "The signer's state directory (read-only)");
  cmd->add_option("--ca-cert", source.ca_cert,
                  "For an https:// signer: a PEM file of trusted CAs (default: the system's)");
}

}  // namespace

void RegisterAuditCommands(CLI::App& app, Dispatcher& dispatcher) {
  CLI::App* group = app.add_subcommand(
      "audit", "A signer's audit log: verify it against its signed heads, show it");
  group->require_subcommand(1);

  auto verify = std::make_shared<VerifyOptions>();
  CLI::App* verify_cmd = group->add_subcommand(
      "verify",
      "Rebuild a signer's audit log and check it against its signed tree heads, and that it "
      "extends a head saved earlier (exit 1 when it does not)");
  AddSourceOptions(verify_cmd, verify->source);
  verify_cmd->add_option("--from-head", verify->from_head,
                         "A signed tree head saved earlier (--save-head) that the log must extend");
  verify_cmd->add_option("--save-head", verify->save_head,
                         "Write the current signed tree head here when the log verifies");
  verify_cmd->add_option("--signer-key", verify->signer_key,
                         "The signer's head key (hex Ed25519 public key; default: the one in the "
                         "log's first start-up entry)");
  verify_cmd->add_flag("--json", verify->json, "Print JSON instead of text");
  verify_cmd->callback(
      [&dispatcher, verify] { dispatcher.Select([verify] { return AuditVerify(*verify); }); });

  auto show = std::make_shared<ShowOptions>();
  CLI::App* show_cmd =
      group->add_subcommand("show", "Print a signer's audit log entries, one line each");
  AddSourceOptions(show_cmd, show->source);
  show_cmd->add_option("--from", show->from, "The first entry's index (default 0)");
  show_cmd->add_option("--count", show->count, "How many entries (default: to the end)");
  show_cmd->add_flag("--json", show->json, "Print JSON instead of text");
  show_cmd->callback(
      [&dispatcher, show] { dispatcher.Select([show] { return AuditShow(*show); }); });
}

}  // namespace kinko::cli
