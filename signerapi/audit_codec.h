// The JSON form of the signer's audit endpoints (doc/signer-api.md, "GET /v1/audit/..."): the
// tree head, inclusion and consistency proofs, and pages of log entries. Decoded strictly, as
// signerapi/json_codec.h decodes the other messages (same rules, same kInvalidArgument
// messages naming the field): a verifier (`kinko audit verify --signer URL`) reads what an
// untrusted network hands it.
//
// Decoding checks only the shape; whether a proof proves anything is for auditlog/merkle.h's
// verifiers, and whether a signed tree head is the signer's for auditlog/tree_head.h.
//
// Thread-safe: pure functions.
#ifndef KINKO_SIGNERAPI_AUDIT_CODEC_H_
#define KINKO_SIGNERAPI_AUDIT_CODEC_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "policy/identity.h"
#include "signerapi/messages.h"
#include "util/result.h"

namespace kinko::signerapi {

// The most hashes a proof has (a tree of 2^64 leaves needs 64; a consistency proof one more).
inline constexpr size_t kMaxProofHashes = 128;
// The most entries one GET /v1/audit/entries returns.
inline constexpr size_t kMaxEntriesPerPage = 1000;
// Response body limits for the decoders.
inline constexpr size_t kMaxAuditHeadResponseSize = 4096;
inline constexpr size_t kMaxProofResponseSize = 64 * 1024;
inline constexpr size_t kMaxEntriesResponseSize = 32 * 1024 * 1024;

// GET /v1/audit/proof/inclusion: {"index": I, "tree_size": N, "hashes": [hex, ...]}.
struct InclusionProofResponse {
  uint64_t index = 0;
  uint64_t tree_size = 0;
  std::vector<policy::Digest> hashes;

  friend bool operator==(const InclusionProofResponse&, const InclusionProofResponse&) = default;
};

// GET /v1/audit/proof/consistency: {"from": M, "to": N, "hashes": [hex, ...]}.
struct ConsistencyProofResponse {
  uint64_t from = 0;
  uint64_t to = 0;
  std::vector<policy::Digest> hashes;

  friend bool operator==(const ConsistencyProofResponse&,
                         const ConsistencyProofResponse&) = default;
};

// GET /v1/audit/entries: {"from": I, "entries": [base64, ...]}, 1..kMaxEntriesPerPage entries of
// 1..auditlog::kMaxEntrySize (16384) bytes each.
struct EntriesResponse {
  uint64_t from = 0;
  std::vector<std::vector<uint8_t>> entries;

  friend bool operator==(const EntriesResponse&, const EntriesResponse&) = default;
};

// GET /v1/audit/head: {"tree_size": N, "root_hash": hex, "signed_tree_head": base64} (the
// "audit" object of the status response; the signed tree head may be "").
std::string EncodeAuditHead(const AuditHead& head);
util::Result<AuditHead> DecodeAuditHead(std::string_view body);

// Decoding requires index < tree_size and at most kMaxProofHashes hashes.
std::string EncodeInclusionProof(const InclusionProofResponse& proof);
util::Result<InclusionProofResponse> DecodeInclusionProof(std::string_view body);

// Decoding requires 0 < from <= to and at most kMaxProofHashes hashes.
std::string EncodeConsistencyProof(const ConsistencyProofResponse& proof);
util::Result<ConsistencyProofResponse> DecodeConsistencyProof(std::string_view body);

std::string EncodeEntries(const EntriesResponse& entries);
util::Result<EntriesResponse> DecodeEntries(std::string_view body);

}  // namespace kinko::signerapi

#endif  // KINKO_SIGNERAPI_AUDIT_CODEC_H_
