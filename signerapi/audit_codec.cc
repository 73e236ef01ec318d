#include "signerapi/audit_codec.h"

#include <string>
#include <utility>

#include "btc/psbt.h"
#include "signerapi/internal/strict_json.h"
#include "signerapi/json_codec.h"
#include "util/hex.h"

namespace kinko::signerapi {
namespace {

using internal::Json;
using OrderedJson = nlohmann::ordered_json;

// auditlog::kMaxEntrySize: signerapi sits below auditlog, so the bound is repeated here.
constexpr size_t kMaxEntrySize = 16384;

OrderedJson HashesJson(const std::vector<policy::Digest>& hashes) {
  OrderedJson out = OrderedJson::array();
  for (const policy::Digest& hash : hashes) out.push_back(util::HexEncode(hash));
  return out;
}

// Field "hashes": 0..kMaxProofHashes strings of lowercase hex of 32 bytes.
util::Result<std::vector<policy::Digest>> HashesField(const Json& object,
                                                      std::string_view context) {
  util::Result<const Json*> list =
      internal::ArrayField(object, "hashes", 0, kMaxProofHashes, context);
  if (!list.ok()) return list.status();
  std::vector<policy::Digest> hashes;
  hashes.reserve((*list)->size());
  for (size_t i = 0; i < (*list)->size(); ++i) {
    const Json& item = (**list)[i];
    const std::string what = std::string(context) + ": field 'hashes[" + std::to_string(i) + "]'";
    if (!item.is_string()) {
      return util::InvalidArgumentError(what + ": expected a hex string, got " + item.type_name());
    }
    const std::string& text = item.get_ref<const std::string&>();
    util::Result<std::vector<uint8_t>> bytes = util::HexDecodeExact(text, 32);
    // Lowercase only: one hash, one spelling.
    if (!bytes.ok() || util::HexEncode(*bytes) != text) {
      return util::InvalidArgumentError(what + ": expected 64 lowercase hex characters");
    }
    policy::Digest hash{};
    std::copy(bytes->begin(), bytes->end(), hash.begin());
    hashes.push_back(hash);
  }
  return hashes;
}

}  // namespace

// --- GET /v1/audit/head ---

std::string EncodeAuditHead(const AuditHead& head) {
  OrderedJson out;
  out["tree_size"] = head.tree_size;
  out["root_hash"] = util::HexEncode(head.root_hash);
  out["signed_tree_head"] = btc::EncodeBase64(head.signed_tree_head);
  return internal::Dump(out);
}

util::Result<AuditHead> DecodeAuditHead(std::string_view body) {
  constexpr std::string_view kContext = "audit head";
  util::Result<Json> json =
      internal::ParseObject(body, kContext, kMaxAuditHeadResponseSize, kMaxJsonDepth);
  if (!json.ok()) return json.status();
  if (util::Status s =
          internal::OnlyFields(*json, {"tree_size", "root_hash", "signed_tree_head"}, kContext);
      !s.ok()) {
    return s;
  }
  AuditHead head;
  util::Result<uint64_t> size = internal::UintField(*json, "tree_size", kContext);
  if (!size.ok()) return size.status();
  head.tree_size = *size;
  util::Result<policy::Digest> root = internal::FixedHexField<32>(*json, "root_hash", kContext);
  if (!root.ok()) return root.status();
  head.root_hash = *root;
  util::Result<std::vector<uint8_t>> signed_tree_head =
      internal::Base64Field(*json, "signed_tree_head", 0, kMaxSignedTreeHeadSize, kContext);
  if (!signed_tree_head.ok()) return signed_tree_head.status();
  head.signed_tree_head = std::move(*signed_tree_head);
  return head;
}

// --- GET /v1/audit/proof/inclusion ---

std::string EncodeInclusionProof(const InclusionProofResponse& proof) {
  OrderedJson out;
  out["index"] = proof.index;
  out["tree_size"] = proof.tree_size;
  out["hashes"] = HashesJson(proof.hashes);
  return internal::Dump(out);
}

util::Result<InclusionProofResponse> DecodeInclusionProof(std::string_view body) {
  constexpr std::string_view kContext = "inclusion proof";
  util::Result<Json> json =
      internal::ParseObject(body, kContext, kMaxProofResponseSize, kMaxJsonDepth);
  if (!json.ok()) return json.status();
  if (util::Status s = internal::OnlyFields(*json, {"index", "tree_size", "hashes"}, kContext);
      !s.ok()) {
    return s;
  }
  InclusionProofResponse proof;
  util::Result<uint64_t> index = internal::UintField(*json, "index", kContext);
  if (!index.ok()) return index.status();
  proof.index = *index;
  util::Result<uint64_t> size = internal::UintField(*json, "tree_size", kContext);
  if (!size.ok()) return size.status();
  proof.tree_size = *size;
  if (proof.index >= proof.tree_size) {
    return util::InvalidArgumentError("inclusion proof: index " + std::to_string(proof.index) +
                                      " is not below the tree size " +
                                      std::to_string(proof.tree_size));
  }
  util::Result<std::vector<policy::Digest>> hashes = HashesField(*json, kContext);
  if (!hashes.ok()) return hashes.status();
  proof.hashes = std::move(*hashes);
  return proof;
}

// --- GET /v1/audit/proof/consistency ---

std::string EncodeConsistencyProof(const ConsistencyProofResponse& proof) {
  OrderedJson out;
  out["from"] = proof.from;
  out["to"] = proof.to;
  out["hashes"] = HashesJson(proof.hashes);
  return internal::Dump(out);
}

util::Result<ConsistencyProofResponse> DecodeConsistencyProof(std::string_view body) {
  constexpr std::string_view kContext = "consistency proof";
  util::Result<Json> json =
      internal::ParseObject(body, kContext, kMaxProofResponseSize, kMaxJsonDepth);
  if (!json.ok()) return json.status();
  if (util::Status s = internal::OnlyFields(*json, {"from", "to", "hashes"}, kContext); !s.ok()) {
    return s;
  }
  ConsistencyProofResponse proof;
  util::Result<uint64_t> from = internal::UintField(*json, "from", kContext);
  if (!from.ok()) return from.status();
  proof.from = *from;
  util::Result<uint64_t> to = internal::UintField(*json, "to", kContext);
  if (!to.ok()) return to.status();
  proof.to = *to;
  if (proof.from == 0) {
    return util::InvalidArgumentError("consistency proof: field 'from': must be at least 1");
  }
  if (proof.from > proof.to) {
    return util::InvalidArgumentError("consistency proof: from " + std::to_string(proof.from) +
                                      " is above to " + std::to_string(proof.to));
  }
  util::Result<std::vector<policy::Digest>> hashes = HashesField(*json, kContext);
  if (!hashes.ok()) return hashes.status();
  proof.hashes = std::move(*hashes);
  return proof;
}

// --- GET /v1/audit/entries ---

std::string EncodeEntries(const EntriesResponse& entries) {
  OrderedJson out;
  out["from"] = entries.from;
  OrderedJson list = OrderedJson::array();
  for (const std::vector<uint8_t>& entry : entries.entries) {
    list.push_back(btc::EncodeBase64(entry));
  }
  out["entries"] = std::move(list);
  return internal::Dump(out);
}

util::Result<EntriesResponse> DecodeEntries(std::string_view body) {
  constexpr std::string_view kContext = "audit entries";
  util::Result<Json> json =
      internal::ParseObject(body, kContext, kMaxEntriesResponseSize, kMaxJsonDepth);
  if (!json.ok()) return json.status();
  if (util::Status s = internal::OnlyFields(*json, {"from", "entries"}, kContext); !s.ok()) {
    return s;
  }
  EntriesResponse entries;
  util::Result<uint64_t> from = internal::UintField(*json, "from", kContext);
  if (!from.ok()) return from.status();
  entries.from = *from;
  util::Result<const Json*> list =
      internal::ArrayField(*json, "entries", 1, kMaxEntriesPerPage, kContext);
  if (!list.ok()) return list.status();
  entries.entries.reserve((*list)->size());
  for (size_t i = 0; i < (*list)->size(); ++i) {
    util::Result<std::vector<uint8_t>> entry = internal::Base64Item(
        (**list)[i], "entries[" + std::to_string(i) + "]", 1, kMaxEntrySize, kContext);
    if (!entry.ok()) return entry.status();
    entries.entries.push_back(std::move(*entry));
  }
  return entries;
}

}  // namespace kinko::signerapi
