#include "signerapi/json_codec.h"

#include <algorithm>
#include <utility>

#include "btc/psbt.h"
#include "signerapi/internal/strict_json.h"
#include "util/hex.h"

namespace kinko::signerapi {
namespace {

using internal::Json;
using OrderedJson = nlohmann::ordered_json;

// Bounds of the embedded objects, far above their largest valid encodings: a signed intent with
// 256 outputs and the longest texts is under 32 KiB; a signed approval under 300 bytes; a signed
// freeze under 1 KiB; a signed unfreeze with 32 signatures under 5 KiB.
constexpr size_t kMaxSignedIntentSize = 64 * 1024;
constexpr size_t kMaxSignedApprovalSize = 1024;
constexpr size_t kMaxSignedFreezeSize = 4 * 1024;
constexpr size_t kMaxSignedUnfreezeSize = 8 * 1024;

std::string Index(std::string_view name, size_t i) {
  return std::string(name) + "[" + std::to_string(i) + "]";
}

// A stable snake_case name: 1..64 characters of [a-z0-9_].
bool IsSnakeCase(std::string_view code) {
  return !code.empty() && code.size() <= kMaxLabelSize &&
         std::all_of(code.begin(), code.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
         });
}

util::Result<std::string> SnakeCaseField(const Json& object, std::string_view name,
                                         std::string_view context) {
  util::Result<std::string_view> code = internal::StringField(object, name, context);
  if (!code.ok()) return code.status();
  if (!IsSnakeCase(*code)) {
    return util::InvalidArgumentError(std::string(context) + ": field '" + std::string(name) +
                                      "': expected 1..64 characters of [a-z0-9_]");
  }
  return std::string(*code);
}

// Decodes the base64 field `name` of `object` with `decode` (a Decode function of an embedded
// object), prefixing its errors with where the object was.
template <typename T, typename DecodeFn>
util::Result<T> EmbeddedField(const Json& object, std::string_view name, size_t max_size,
                              std::string_view context, DecodeFn decode) {
  util::Result<std::vector<uint8_t>> bytes =
      internal::Base64Field(object, name, 1, max_size, context);
  if (!bytes.ok()) return bytes.status();
  util::Result<T> decoded = decode(*bytes);
  if (!decoded.ok()) {
    return decoded.status().WithPrefix(std::string(context) + ": field '" + std::string(name) +
                                       "'");
  }
  return decoded;
}

// --- Audit heads and receipts ---

OrderedJson AuditHeadJson(const AuditHead& head) {
  OrderedJson out;
  out["tree_size"] = head.tree_size;
  out["root_hash"] = util::HexEncode(head.root_hash);
  out["signed_tree_head"] = btc::EncodeBase64(head.signed_tree_head);
  return out;
}

util::Result<AuditHead> DecodeAuditHead(const Json& object, std::string_view context) {
  if (util::Status s = internal::ExpectObject(object, context); !s.ok()) return s;
  if (util::Status s =
          internal::OnlyFields(object, {"tree_size", "root_hash", "signed_tree_head"}, context);
      !s.ok()) {
    return s;
  }
  AuditHead head;
  util::Result<uint64_t> size = internal::UintField(object, "tree_size", context);
  if (!size.ok()) return size.status();
  head.tree_size = *size;
  util::Result<policy::Digest> root = internal::FixedHexField<32>(object, "root_hash", context);
  if (!root.ok()) return root.status();
  head.root_hash = *root;
  util::Result<std::vector<uint8_t>> signed_tree_head =
      internal::Base64Field(object, "signed_tree_head", 0, kMaxSignedTreeHeadSize, context);
  if (!signed_tree_head.ok()) return signed_tree_head.status();
  head.signed_tree_head = std::move(*signed_tree_head);
  return head;
}

OrderedJson AuditReceiptJson(const AuditReceipt& receipt) {
  OrderedJson out;
  out["index"] = receipt.index;
  out["head"] = AuditHeadJson(receipt.head);
  return out;
}

util::Result<AuditReceipt> DecodeAuditReceipt(const Json& object, std::string_view context) {
  if (util::Status s = internal::ExpectObject(object, context); !s.ok()) return s;
  if (util::Status s = internal::OnlyFields(object, {"index", "head"}, context); !s.ok()) return s;
  AuditReceipt receipt;
  util::Result<uint64_t> index = internal::UintField(object, "index", context);
  if (!index.ok()) return index.status();
  receipt.index = *index;
  util::Result<const Json*> head = internal::Field(object, "head", context);
  if (!head.ok()) return head.status();
  util::Result<AuditHead> decoded = DecodeAuditHead(**head, std::string(context) + ".head");
  if (!decoded.ok()) return decoded.status();
  receipt.head = std::move(*decoded);
  if (receipt.index >= receipt.head.tree_size) {
    return util::InvalidArgumentError(
        std::string(context) + ": index " + std::to_string(receipt.index) +
        " is not below the tree size " + std::to_string(receipt.head.tree_size));
  }
  return receipt;
}

// --- Sign response parts ---

util::Result<SignedResult> DecodeSignedResult(const Json& object, std::string_view context) {
  if (util::Status s = internal::OnlyFields(
          object, {"version", "request_id", "result", "psbt", "intents", "audit"}, context);
      !s.ok()) {
    return s;
  }
  SignedResult result;
  util::Result<btc::Psbt> psbt = EmbeddedField<btc::Psbt>(
      object, "psbt", kMaxSignResponseSize, context,
      [](std::span<const uint8_t> bytes) { return btc::Psbt::Parse(bytes); });
  if (!psbt.ok()) return psbt.status();
  result.psbt = std::move(*psbt);
  util::Result<const Json*> intents =
      internal::ArrayField(object, "intents", 1, kMaxSignRequestIntents, context);
  if (!intents.ok()) return intents.status();
  for (size_t i = 0; i < (*intents)->size(); ++i) {
    const Json& item = (**intents)[i];
    const std::string item_context = std::string(context) + ": " + Index("intents", i);
    if (util::Status s = internal::ExpectObject(item, item_context); !s.ok()) return s;
    if (util::Status s =
            internal::OnlyFields(item, {"intent_id", "rule", "approvers"}, item_context);
        !s.ok()) {
      return s;
    }
    IntentSummary summary;
    util::Result<policy::IntentId> id =
        internal::FixedHexField<16>(item, "intent_id", item_context);
    if (!id.ok()) return id.status();
    summary.intent_id = *id;
    util::Result<std::string> rule =
        internal::TextField(item, "rule", 1, kMaxRuleSize, item_context);
    if (!rule.ok()) return rule.status();
    summary.rule = std::move(*rule);
    util::Result<const Json*> approvers =
        internal::ArrayField(item, "approvers", 0, kMaxApproversPerIntent, item_context);
    if (!approvers.ok()) return approvers.status();
    for (size_t j = 0; j < (*approvers)->size(); ++j) {
      util::Result<std::string> label = internal::TextItem((**approvers)[j], Index("approvers", j),
                                                           1, kMaxLabelSize, item_context);
      if (!label.ok()) return label.status();
      summary.approvers.push_back(std::move(*label));
    }
    result.intents.push_back(std::move(summary));
  }
  util::Result<const Json*> audit = internal::Field(object, "audit", context);
  if (!audit.ok()) return audit.status();
  util::Result<AuditReceipt> receipt =
      DecodeAuditReceipt(**audit, std::string(context) + ": audit");
  if (!receipt.ok()) return receipt.status();
  result.audit = std::move(*receipt);
  return result;
}

util::Result<RefusedResult> DecodeRefusedResult(const Json& object, std::string_view context) {
  if (util::Status s = internal::OnlyFields(object,
                                            {"version", "request_id", "result", "code",
                                             "intent_index", "rule", "limit", "detail", "audit"},
                                            context);
      !s.ok()) {
    return s;
  }
  RefusedResult result;
  util::Result<std::string> code = SnakeCaseField(object, "code", context);
  if (!code.ok()) return code.status();
  result.code = std::move(*code);
  if (internal::HasField(object, "intent_index")) {
    util::Result<uint64_t> index = internal::UintField(object, "intent_index", context);
    if (!index.ok()) return index.status();
    if (*index >= kMaxSignRequestIntents) {
      return util::InvalidArgumentError(std::string(context) +
                                        ": field 'intent_index': must be below " +
                                        std::to_string(kMaxSignRequestIntents));
    }
    result.intent_index = *index;
  }
  util::Result<std::string> rule = internal::TextField(object, "rule", 0, kMaxRuleSize, context);
  if (!rule.ok()) return rule.status();
  result.rule = std::move(*rule);
  util::Result<std::string> limit = internal::TextField(object, "limit", 0, kMaxLimitSize, context);
  if (!limit.ok()) return limit.status();
  result.limit = std::move(*limit);
  util::Result<std::string> detail =
      internal::TextField(object, "detail", 0, kMaxDetailSize, context);
  if (!detail.ok()) return detail.status();
  result.detail = std::move(*detail);
  if (internal::HasField(object, "audit")) {
    util::Result<AuditReceipt> receipt =
        DecodeAuditReceipt(object.at("audit"), std::string(context) + ": audit");
    if (!receipt.ok()) return receipt.status();
    result.audit = std::move(*receipt);
  }
  return result;
}

// A request whose only content is one base64 field `name` holding an object that `decode`
// decodes and verifies.
template <typename T, typename DecodeFn>
util::Result<T> DecodeSingleObjectRequest(std::string_view body, std::string_view context,
                                          size_t max_body, std::string_view name, size_t max_object,
                                          DecodeFn decode) {
  util::Result<Json> json = internal::ParseObject(body, context, max_body, kMaxJsonDepth);
  if (!json.ok()) return json.status();
  if (util::Status s = internal::OnlyFields(*json, {"version", name}, context); !s.ok()) return s;
  if (util::Status s = internal::CheckVersion(*json, kApiVersion, context); !s.ok()) return s;
  return EmbeddedField<T>(*json, name, max_object, context, decode);
}

}  // namespace

// --- POST /v1/sign ---

util::Result<SignRequest> DecodeSignRequest(std::string_view body) {
  constexpr std::string_view kContext = "sign request";
  util::Result<Json> json =
      internal::ParseObject(body, kContext, kMaxSignRequestSize, kMaxJsonDepth);
  if (!json.ok()) return json.status();
  if (util::Status s = internal::OnlyFields(
          *json, {"version", "request_id", "psbt", "intents", "known_head"}, kContext);
      !s.ok()) {
    return s;
  }
  if (util::Status s = internal::CheckVersion(*json, kApiVersion, kContext); !s.ok()) return s;
  SignRequest request;
  util::Result<RequestId> id = internal::FixedHexField<16>(*json, "request_id", kContext);
  if (!id.ok()) return id.status();
  request.request_id = *id;
  util::Result<btc::Psbt> psbt = EmbeddedField<btc::Psbt>(
      *json, "psbt", kMaxSignRequestSize, kContext,
      [](std::span<const uint8_t> bytes) { return btc::Psbt::Parse(bytes); });
  if (!psbt.ok()) return psbt.status();
  request.psbt = std::move(*psbt);

  util::Result<const Json*> intents =
      internal::ArrayField(*json, "intents", 1, kMaxSignRequestIntents, kContext);
  if (!intents.ok()) return intents.status();
  for (size_t i = 0; i < (*intents)->size(); ++i) {
    const Json& item = (**intents)[i];
    const std::string context = std::string(kContext) + ": " + Index("intents", i);
    if (util::Status s = internal::ExpectObject(item, context); !s.ok()) return s;
    if (util::Status s = internal::OnlyFields(item, {"intent", "approvals"}, context); !s.ok()) {
      return s;
    }
    // Decoding verifies the requester's signature: an intent altered in transit (the 2024 theft)
    // is refused here with kPermissionDenied, before anything else looks at it.
    util::Result<policy::SignedIntent> intent = EmbeddedField<policy::SignedIntent>(
        item, "intent", kMaxSignedIntentSize, context,
        [](std::span<const uint8_t> bytes) { return policy::SignedIntent::Decode(bytes); });
    if (!intent.ok()) return intent.status();
    std::vector<policy::SignedApproval> approvals;
    util::Result<const Json*> list =
        internal::ArrayField(item, "approvals", 0, kMaxApprovalsPerIntent, context);
    if (!list.ok()) return list.status();
    for (size_t j = 0; j < (*list)->size(); ++j) {
      const std::string what = Index("approvals", j);
      util::Result<std::vector<uint8_t>> bytes =
          internal::Base64Item((**list)[j], what, 1, kMaxSignedApprovalSize, context);
      if (!bytes.ok()) return bytes.status();
      util::Result<policy::SignedApproval> approval = policy::SignedApproval::Decode(*bytes);
      if (!approval.ok()) return approval.status().WithPrefix(context + ": field '" + what + "'");
      approvals.push_back(std::move(*approval));
    }
    request.intents.push_back(policy::IntentWithApprovals{.intent = std::move(*intent),
                                                          .approvals = std::move(approvals)});
  }
  // Optional. Only its size is checked here: signerapi does not depend on the audit log, and the
  // signer decodes the head and checks that it signed it.
  if (internal::HasField(*json, "known_head")) {
    util::Result<std::vector<uint8_t>> head =
        internal::Base64Field(*json, "known_head", 1, kMaxSignedTreeHeadSize, kContext);
    if (!head.ok()) return head.status();
    request.known_head = std::move(*head);
  }
  return request;
}

std::string EncodeSignRequest(const SignRequest& request) {
  OrderedJson out;
  out["version"] = kApiVersion;
  out["request_id"] = util::HexEncode(request.request_id);
  out["psbt"] = request.psbt.ToBase64();
  OrderedJson intents = OrderedJson::array();
  for (const policy::IntentWithApprovals& item : request.intents) {
    OrderedJson entry;
    entry["intent"] = btc::EncodeBase64(item.intent.Encode());
    OrderedJson approvals = OrderedJson::array();
    for (const policy::SignedApproval& approval : item.approvals) {
      approvals.push_back(btc::EncodeBase64(approval.Encode()));
    }
    entry["approvals"] = std::move(approvals);
    intents.push_back(std::move(entry));
  }
  out["intents"] = std::move(intents);
  if (request.known_head.has_value()) out["known_head"] = btc::EncodeBase64(*request.known_head);
  return internal::Dump(out);
}

std::string EncodeSignResponse(const SignResponse& response) {
  OrderedJson out;
  out["version"] = kApiVersion;
  out["request_id"] = util::HexEncode(response.request_id);
  if (const SignedResult* signed_result = std::get_if<SignedResult>(&response.result)) {
    out["result"] = "signed";
    out["psbt"] = signed_result->psbt.ToBase64();
    OrderedJson intents = OrderedJson::array();
    for (const IntentSummary& summary : signed_result->intents) {
      OrderedJson entry;
      entry["intent_id"] = util::HexEncode(summary.intent_id);
      entry["rule"] = summary.rule;
      entry["approvers"] = summary.approvers;
      intents.push_back(std::move(entry));
    }
    out["intents"] = std::move(intents);
    out["audit"] = AuditReceiptJson(signed_result->audit);
  } else {
    const RefusedResult& refused = std::get<RefusedResult>(response.result);
    out["result"] = "refused";
    out["code"] = refused.code;
    if (refused.intent_index) out["intent_index"] = *refused.intent_index;
    out["rule"] = refused.rule;
    out["limit"] = refused.limit;
    out["detail"] = refused.detail;
    if (refused.audit) out["audit"] = AuditReceiptJson(*refused.audit);
  }
  return internal::Dump(out);
}

util::Result<SignResponse> DecodeSignResponse(std::string_view body) {
  constexpr std::string_view kContext = "sign response";
  util::Result<Json> json =
      internal::ParseObject(body, kContext, kMaxSignResponseSize, kMaxJsonDepth);
  if (!json.ok()) return json.status();
  util::Result<std::string_view> kind = internal::StringField(*json, "result", kContext);
  if (!kind.ok()) return kind.status();
  if (*kind != "signed" && *kind != "refused") {
    return util::InvalidArgumentError(
        "sign response: field 'result': expected \"signed\" or \"refused\"");
  }
  const bool is_signed = *kind == "signed";
  SignResponse response;
  if (is_signed) {
    util::Result<SignedResult> result = DecodeSignedResult(*json, kContext);
    if (!result.ok()) return result.status();
    response.result = std::move(*result);
  } else {
    util::Result<RefusedResult> result = DecodeRefusedResult(*json, kContext);
    if (!result.ok()) return result.status();
    response.result = std::move(*result);
  }
  // Unknown fields were refused above, before the version is read, as in the requests.
  if (util::Status s = internal::CheckVersion(*json, kApiVersion, kContext); !s.ok()) return s;
  util::Result<RequestId> id = internal::FixedHexField<16>(*json, "request_id", kContext);
  if (!id.ok()) return id.status();
  response.request_id = *id;
  return response;
}

// --- POST /v1/policy, /v1/freeze, /v1/unfreeze ---

util::Result<PolicyUpdateRequest> DecodePolicyUpdateRequest(std::string_view body) {
  return DecodeSingleObjectRequest<PolicyUpdateRequest>(
      body, "policy update request", kMaxPolicyUpdateRequestSize, "signed_policy",
      kMaxSignedPolicySize,
      [](std::span<const uint8_t> bytes) -> util::Result<PolicyUpdateRequest> {
        util::Result<policy::SignedPolicy> signed_policy = policy::SignedPolicy::Decode(bytes);
        if (!signed_policy.ok()) return signed_policy.status();
        return PolicyUpdateRequest{.signed_policy = std::move(*signed_policy)};
      });
}

std::string EncodePolicyUpdateRequest(const PolicyUpdateRequest& request) {
  OrderedJson out;
  out["version"] = kApiVersion;
  out["signed_policy"] = btc::EncodeBase64(request.signed_policy.Encode());
  return internal::Dump(out);
}

util::Result<FreezeRequest> DecodeFreezeRequest(std::string_view body) {
  return DecodeSingleObjectRequest<FreezeRequest>(
      body, "freeze request", kMaxFreezeRequestSize, "signed_freeze", kMaxSignedFreezeSize,
      [](std::span<const uint8_t> bytes) -> util::Result<FreezeRequest> {
        util::Result<SignedFreeze> freeze = SignedFreeze::Decode(bytes);
        if (!freeze.ok()) return freeze.status();
        return FreezeRequest{.freeze = std::move(*freeze)};
      });
}

std::string EncodeFreezeRequest(const FreezeRequest& request) {
  OrderedJson out;
  out["version"] = kApiVersion;
  out["signed_freeze"] = btc::EncodeBase64(request.freeze.Encode());
  return internal::Dump(out);
}

util::Result<UnfreezeRequest> DecodeUnfreezeRequest(std::string_view body) {
  return DecodeSingleObjectRequest<UnfreezeRequest>(
      body, "unfreeze request", kMaxUnfreezeRequestSize, "signed_unfreeze", kMaxSignedUnfreezeSize,
      [](std::span<const uint8_t> bytes) -> util::Result<UnfreezeRequest> {
        util::Result<SignedUnfreeze> unfreeze = SignedUnfreeze::Decode(bytes);
        if (!unfreeze.ok()) return unfreeze.status();
        return UnfreezeRequest{.unfreeze = std::move(*unfreeze)};
      });
}

std::string EncodeUnfreezeRequest(const UnfreezeRequest& request) {
  OrderedJson out;
  out["version"] = kApiVersion;
  out["signed_unfreeze"] = btc::EncodeBase64(request.unfreeze.Encode());
  return internal::Dump(out);
}

// --- GET /v1/status ---

std::string EncodeStatusResponse(const StatusResponse& response) {
  OrderedJson out;
  out["version"] = kApiVersion;
  out["signer"] = util::HexEncode(response.signer);
  out["wallet"] = response.wallet;
  out["frozen"] = response.frozen();
  if (response.freeze) out["freeze"] = util::HexEncode(*response.freeze);
  OrderedJson policy;
  policy["sequence"] = response.policy.sequence;
  policy["digest"] = util::HexEncode(response.policy.digest);
  out["policy"] = std::move(policy);
  if (response.pending_policy) {
    OrderedJson pending;
    pending["sequence"] = response.pending_policy->sequence;
    pending["digest"] = util::HexEncode(response.pending_policy->digest);
    pending["activates_at"] = response.pending_policy->activates_at;
    out["pending_policy"] = std::move(pending);
  }
  out["audit"] = AuditHeadJson(response.audit);
  return internal::Dump(out);
}

util::Result<StatusResponse> DecodeStatusResponse(std::string_view body) {
  constexpr std::string_view kContext = "status response";
  util::Result<Json> json =
      internal::ParseObject(body, kContext, kMaxStatusResponseSize, kMaxJsonDepth);
  if (!json.ok()) return json.status();
  if (util::Status s = internal::OnlyFields(
          *json,
          {"version", "signer", "wallet", "frozen", "freeze", "policy", "pending_policy", "audit"},
          kContext);
      !s.ok()) {
    return s;
  }
  if (util::Status s = internal::CheckVersion(*json, kApiVersion, kContext); !s.ok()) return s;
  StatusResponse response;
  util::Result<policy::KeyId> signer = internal::FixedHexField<32>(*json, "signer", kContext);
  if (!signer.ok()) return signer.status();
  response.signer = *signer;
  util::Result<std::string_view> wallet = internal::StringField(*json, "wallet", kContext);
  if (!wallet.ok()) return wallet.status();
  if (!policy::IsValidWalletId(*wallet)) {
    return util::InvalidArgumentError(
        "status response: field 'wallet': must be 1..64 characters of [A-Za-z0-9._:-]");
  }
  response.wallet = std::string(*wallet);
  util::Result<bool> frozen = internal::BoolField(*json, "frozen", kContext);
  if (!frozen.ok()) return frozen.status();
  // "freeze" is present exactly when frozen, so the two can never disagree.
  if (*frozen) {
    util::Result<policy::Digest> freeze = internal::FixedHexField<32>(*json, "freeze", kContext);
    if (!freeze.ok()) return freeze.status();
    response.freeze = *freeze;
  } else if (internal::HasField(*json, "freeze")) {
    return util::InvalidArgumentError("status response: field 'freeze': present while not frozen");
  }
  util::Result<const Json*> policy_json = internal::ObjectField(*json, "policy", kContext);
  if (!policy_json.ok()) return policy_json.status();
  {
    const std::string context = "status response: policy";
    if (util::Status s = internal::OnlyFields(**policy_json, {"sequence", "digest"}, context);
        !s.ok()) {
      return s;
    }
    util::Result<uint64_t> sequence = internal::UintField(**policy_json, "sequence", context);
    if (!sequence.ok()) return sequence.status();
    util::Result<policy::Digest> digest =
        internal::FixedHexField<32>(**policy_json, "digest", context);
    if (!digest.ok()) return digest.status();
    response.policy = PolicySummary{.sequence = *sequence, .digest = *digest};
  }
  if (internal::HasField(*json, "pending_policy")) {
    const std::string context = "status response: pending_policy";
    util::Result<const Json*> pending = internal::ObjectField(*json, "pending_policy", kContext);
    if (!pending.ok()) return pending.status();
    if (util::Status s =
            internal::OnlyFields(**pending, {"sequence", "digest", "activates_at"}, context);
        !s.ok()) {
      return s;
    }
    util::Result<uint64_t> sequence = internal::UintField(**pending, "sequence", context);
    if (!sequence.ok()) return sequence.status();
    util::Result<policy::Digest> digest = internal::FixedHexField<32>(**pending, "digest", context);
    if (!digest.ok()) return digest.status();
    util::Result<uint64_t> activates_at = internal::UintField(**pending, "activates_at", context);
    if (!activates_at.ok()) return activates_at.status();
    response.pending_policy =
        PendingPolicy{.sequence = *sequence, .digest = *digest, .activates_at = *activates_at};
  }
  util::Result<const Json*> audit = internal::Field(*json, "audit", kContext);
  if (!audit.ok()) return audit.status();
  util::Result<AuditHead> head = DecodeAuditHead(**audit, "status response: audit");
  if (!head.ok()) return head.status();
  response.audit = std::move(*head);
  return response;
}

// --- Error bodies ---

std::string EncodeErrorBody(const ErrorBody& error) {
  OrderedJson inner;
  inner["code"] = error.code;
  inner["message"] = error.message;
  OrderedJson out;
  out["error"] = std::move(inner);
  return internal::Dump(out);
}

util::Result<ErrorBody> DecodeErrorBody(std::string_view body) {
  constexpr std::string_view kContext = "error body";
  util::Result<Json> json = internal::ParseObject(body, kContext, kMaxErrorBodySize, kMaxJsonDepth);
  if (!json.ok()) return json.status();
  if (util::Status s = internal::OnlyFields(*json, {"error"}, kContext); !s.ok()) return s;
  util::Result<const Json*> inner = internal::ObjectField(*json, "error", kContext);
  if (!inner.ok()) return inner.status();
  const std::string context = "error body: error";
  if (util::Status s = internal::OnlyFields(**inner, {"code", "message"}, context); !s.ok()) {
    return s;
  }
  ErrorBody error;
  util::Result<std::string> code = SnakeCaseField(**inner, "code", context);
  if (!code.ok()) return code.status();
  error.code = std::move(*code);
  util::Result<std::string> message =
      internal::TextField(**inner, "message", 0, kMaxErrorMessageSize, context);
  if (!message.ok()) return message.status();
  error.message = std::move(*message);
  return error;
}

}  // namespace kinko::signerapi
