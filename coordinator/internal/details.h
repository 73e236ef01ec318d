// The JSON documents the coordinator writes into the store's `detail` columns (intents and
// batches), shown by the API as they are (doc/coordinator-api.md):
//   intent, awaiting_approvals: {"rule", "missing": [{"group", "needed", "have"}], "detail",
//                                "note"}
//   intent, approved:           {"rule", "approvers": [...], "note"}
//   intent, refused:            {"code", "rule", "limit", "detail", "signers": [SignerEntry]}
//   intent, other problems:     {"code", "detail"[, "signers": [...]]}
//   batch:                      {"request_id", "signers": [SignerEntry], "error"}
// where SignerEntry is {"id", "url", "outcome", "code"|null, "detail"|null,
// "audit_index"|null, "tree_size"|null}.
//
// The store is untrusted: ParseBatchDetail reads a batch detail back defensively (a field of
// the wrong type is dropped, never an exception). No exception of the JSON library leaves here.
//
// Thread-safe: pure functions.
#ifndef KINKO_COORDINATOR_INTERNAL_DETAILS_H_
#define KINKO_COORDINATOR_INTERNAL_DETAILS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "coordinator/signer_pool.h"

namespace kinko::coordinator::internal {

// One signer's answer as persisted in a batch's detail.
struct SignerEntry {
  std::string id;  // Hex key id.
  std::string url;
  std::string outcome;  // SignerOutcomeName.
  std::optional<std::string> code;
  std::optional<std::string> detail;
  std::optional<uint64_t> audit_index;
  std::optional<uint64_t> tree_size;
  friend bool operator==(const SignerEntry&, const SignerEntry&) = default;
};

SignerEntry EntryOf(const SignerAnswer& answer);

struct BatchDetail {
  std::string request_id;  // Hex, of the last round.
  std::vector<SignerEntry> signers;
  std::string error;
  friend bool operator==(const BatchDetail&, const BatchDetail&) = default;
};

std::string WriteBatchDetail(const BatchDetail& detail);
// The detail of `text`; an empty detail for text that is not such a document.
BatchDetail ParseBatchDetail(std::string_view text);

// One unmet approval requirement.
struct MissingApprovals {
  std::string group;
  uint32_t needed = 0;
  uint32_t have = 0;
};

std::string ApprovedDetail(std::string_view rule, const std::vector<std::string>& approvers,
                           std::string_view note);
std::string AwaitingDetail(std::string_view rule, const std::vector<MissingApprovals>& missing,
                           std::string_view detail, std::string_view note);
std::string RefusedDetail(std::string_view code, std::string_view rule, std::string_view limit,
                          std::string_view detail, const std::vector<SignerEntry>& signers);
std::string ProblemDetail(std::string_view code, std::string_view detail,
                          const std::vector<SignerEntry>& signers);

}  // namespace kinko::coordinator::internal

#endif  // KINKO_COORDINATOR_INTERNAL_DETAILS_H_
