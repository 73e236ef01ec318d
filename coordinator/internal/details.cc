#include "coordinator/internal/details.h"

#include <nlohmann/json.hpp>

#include "util/hex.h"

namespace kinko::coordinator::internal {
namespace {

using Json = nlohmann::json;

// Never throws: bytes that are not UTF-8 (a signer's text is display-safe, but the store's is
// not trusted) are replaced.
std::string Dump(const Json& json) {
  return json.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Json OptionalString(const std::optional<std::string>& value) {
  return value ? Json(*value) : Json(nullptr);
}

Json OptionalNumber(const std::optional<uint64_t>& value) {
  return value ? Json(*value) : Json(nullptr);
}

Json SignersJson(const std::vector<SignerEntry>& signers) {
  Json list = Json::array();
  for (const SignerEntry& entry : signers) {
    list.push_back(Json{{"id", entry.id},
                        {"url", entry.url},
                        {"outcome", entry.outcome},
                        {"code", OptionalString(entry.code)},
                        {"detail", OptionalString(entry.detail)},
                        {"audit_index", OptionalNumber(entry.audit_index)},
                        {"tree_size", OptionalNumber(entry.tree_size)}});
  }
  return list;
}

std::string StringOr(const Json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::optional<std::string> OptionalStringOf(const Json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

std::optional<uint64_t> OptionalNumberOf(const Json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_number_unsigned()) return std::nullopt;
  return it->get<uint64_t>();
}

}  // namespace

SignerEntry EntryOf(const SignerAnswer& answer) {
  SignerEntry entry;
  entry.id = util::HexEncode(answer.signer);
  entry.url = answer.url;
  entry.outcome = std::string(SignerOutcomeName(answer.outcome));
  if (answer.refusal) {
    entry.code = answer.refusal->code;
    entry.detail = answer.refusal->detail;
  }
  if (!answer.error.empty()) entry.detail = answer.error;
  if (answer.audit) {
    entry.audit_index = answer.audit->index;
    entry.tree_size = answer.audit->head.tree_size;
  }
  return entry;
}

std::string WriteBatchDetail(const BatchDetail& detail) {
  Json json{{"request_id", detail.request_id}, {"signers", SignersJson(detail.signers)}};
  if (!detail.error.empty()) json["error"] = detail.error;
  return Dump(json);
}

BatchDetail ParseBatchDetail(std::string_view text) {
  BatchDetail detail;
  const Json json = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object()) return detail;
  detail.request_id = StringOr(json, "request_id");
  detail.error = StringOr(json, "error");
  auto signers = json.find("signers");
  if (signers == json.end() || !signers->is_array()) return detail;
  for (const Json& item : *signers) {
    if (!item.is_object()) continue;
    SignerEntry entry;
    entry.id = StringOr(item, "id");
    entry.url = StringOr(item, "url");
    entry.outcome = StringOr(item, "outcome");
    entry.code = OptionalStringOf(item, "code");
    entry.detail = OptionalStringOf(item, "detail");
    entry.audit_index = OptionalNumberOf(item, "audit_index");
    entry.tree_size = OptionalNumberOf(item, "tree_size");
    detail.signers.push_back(std::move(entry));
  }
  return detail;
}

std::string ApprovedDetail(std::string_view rule, const std::vector<std::string>& approvers,
                           std::string_view note) {
  return Dump(Json{{"rule", rule}, {"approvers", approvers}, {"note", note}});
}

std::string AwaitingDetail(std::string_view rule, const std::vector<MissingApprovals>& missing,
                           std::string_view detail, std::string_view note) {
  Json list = Json::array();
  for (const MissingApprovals& m : missing) {
    list.push_back(Json{{"group", m.group}, {"needed", m.needed}, {"have", m.have}});
  }
  return Dump(Json{{"rule", rule}, {"missing", list}, {"detail", detail}, {"note", note}});
}

std::string RefusedDetail(std::string_view code, std::string_view rule, std::string_view limit,
                          std::string_view detail, const std::vector<SignerEntry>& signers) {
  return Dump(Json{{"code", code},
                   {"rule", rule},
                   {"limit", limit},
                   {"detail", detail},
                   {"signers", SignersJson(signers)}});
}

std::string ProblemDetail(std::string_view code, std::string_view detail,
                          const std::vector<SignerEntry>& signers) {
  Json json{{"code", code}, {"detail", detail}};
  if (!signers.empty()) json["signers"] = SignersJson(signers);
  return Dump(json);
}

}  // namespace kinko::coordinator::internal
