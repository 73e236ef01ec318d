#include "coordinator/api.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <utility>

#include "btc/address.h"
#include "btc/script.h"
#include "coordinator/api_auth.h"
#include "crypto/rng.h"
#include "policy/approval.h"
#include "policy/identity.h"
#include "policy/policy.h"
#include "signerapi/json_codec.h"
#include "signerapi/messages.h"
#include "util/hex.h"

namespace kinko::coordinator {
namespace {

using Json = nlohmann::ordered_json;

constexpr std::string_view kJsonContentType = "application/json";
constexpr std::string_view kMetricsContentType = "text/plain; version=0.0.4";
// Nesting deeper than this is not one of our request bodies.
constexpr size_t kMaxRequestDepth = 4;
// A signed policy file is at most a few megabytes (kMaxAddressBookEntries entries).
constexpr size_t kMaxPolicyFileSize = 64 * 1024 * 1024;
constexpr size_t kMaxExecuteIntents = 1000;

uint64_t SystemClock() {
  const auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::seconds>(since_epoch).count());
}

void LogToStderr(const std::string& line) {
  const std::string text = line + "\n";
  std::fwrite(text.data(), 1, text.size(), stderr);
  std::fflush(stderr);
}

// JSON text of `value`; invalid UTF-8 (from request bytes) is replaced, never thrown about.
std::string Dump(const Json& value) {
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// `text` cut to `max` bytes, for logs and messages quoting request data (escaped later).
std::string Cut(std::string_view text, size_t max) {
  return std::string(text.substr(0, std::min(text.size(), max)));
}

// --- Strict request decoding ---

util::Status Invalid(std::string_view what) {
  return util::InvalidArgumentError("request body: " + std::string(what));
}

// Parses `body` as one JSON object, refusing duplicate keys and nesting deeper than
// kMaxRequestDepth. The parser's exceptions are turned off; the callback sees every key.
util::Result<nlohmann::json> ParseObject(std::string_view body) {
  if (body.substr(0, 3) == "\xef\xbb\xbf") return Invalid("byte order mark");
  std::vector<std::set<std::string>> keys;  // Per open object, innermost last.
  std::optional<std::string> duplicate;
  size_t depth = 0;
  bool too_deep = false;
  const nlohmann::json::parser_callback_t check = [&](int, nlohmann::json::parse_event_t event,
                                                      nlohmann::json& parsed) {
    switch (event) {
      case nlohmann::json::parse_event_t::object_start:
        keys.emplace_back();
        [[fallthrough]];
      case nlohmann::json::parse_event_t::array_start:
        if (++depth > kMaxRequestDepth) too_deep = true;
        break;
      case nlohmann::json::parse_event_t::object_end:
        if (!keys.empty()) keys.pop_back();
        [[fallthrough]];
      case nlohmann::json::parse_event_t::array_end:
        if (depth > 0) --depth;
        break;
      case nlohmann::json::parse_event_t::key:
        if (!keys.empty() && parsed.is_string() &&
            !keys.back().insert(parsed.get_ref<const std::string&>()).second &&
            !duplicate.has_value()) {
          duplicate = parsed.get_ref<const std::string&>();
        }
        break;
      case nlohmann::json::parse_event_t::value:
        break;
    }
    return true;
  };
  nlohmann::json root = nlohmann::json::parse(body.begin(), body.end(), check,
                                              /*allow_exceptions=*/false,
                                              /*ignore_comments=*/false);
  if (root.is_discarded()) return Invalid("malformed json");
  if (too_deep) return Invalid("nested too deeply");
  if (duplicate) return Invalid("field '" + Cut(*duplicate, 64) + "' repeated");
  if (!root.is_object()) return Invalid("expected a json object");
  return root;
}

std::string TypeName(const nlohmann::json& value) { return value.type_name(); }

// OK when every key of `object` is in `names`; else names the first unknown one.
util::Status OnlyFields(const nlohmann::json& object,
                        std::initializer_list<std::string_view> names) {
  for (const auto& item : object.items()) {
    if (std::find(names.begin(), names.end(), item.key()) == names.end()) {
      return Invalid("unknown field '" + Cut(item.key(), 64) + "'");
    }
  }
  return util::OkStatus();
}

// Lowercase hex, even length, at least one byte, at most `max_bytes`.
util::Result<std::vector<uint8_t>> LowerHex(const nlohmann::json& value, std::string_view field,
                                            size_t max_bytes) {
  if (!value.is_string()) {
    return Invalid("field '" + std::string(field) + "': expected a string, got " + TypeName(value));
  }
  const std::string& text = value.get_ref<const std::string&>();
  const bool lowercase = std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  });
  if (text.empty() || text.size() % 2 != 0 || !lowercase) {
    return Invalid("field '" + std::string(field) + "': expected lowercase hex of whole bytes");
  }
  if (text.size() / 2 > max_bytes) {
    return Invalid("field '" + std::string(field) + "': longer than " + std::to_string(max_bytes) +
                   " bytes");
  }
  return util::HexDecode(text);
}

// {"<field>": "<hex>"} and nothing else.
util::Result<std::vector<uint8_t>> DecodeHexObject(std::string_view body, std::string_view field,
                                                   size_t max_bytes) {
  util::Result<nlohmann::json> root = ParseObject(body);
  if (!root.ok()) return root.status();
  if (util::Status s = OnlyFields(*root, {field}); !s.ok()) return s;
  const auto it = root->find(field);
  if (it == root->end()) return Invalid("missing field '" + std::string(field) + "'");
  return LowerHex(*it, field, max_bytes);
}

util::Result<storage::IntentId> ParseIntentId(std::string_view text, std::string_view what) {
  const bool lowercase = std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  });
  storage::IntentId id{};
  if (text.size() != 2 * id.size() || !lowercase) {
    return util::InvalidArgumentError(std::string(what) + ": expected 32 lowercase hex characters");
  }
  util::Result<std::vector<uint8_t>> bytes = util::HexDecodeExact(text, id.size());
  if (!bytes.ok()) return bytes.status().WithPrefix(what);
  std::copy(bytes->begin(), bytes->end(), id.begin());
  return id;
}

// --- Routes ---

enum class Route {
  kIntents,           // /v1/intents
  kIntent,            // /v1/intents/{id}
  kApprovals,         // /v1/intents/{id}/approvals
  kWallet,            // /v1/wallets/{wallet}
  kUtxos,             // /v1/wallets/{wallet}/utxos
  kImport,            // /v1/wallets/{wallet}/utxos/import
  kExecute,           // /v1/wallets/{wallet}/execute
  kBatch,             // /v1/batches/{id}
  kBatchTransaction,  // /v1/batches/{id}/transaction
  kHealth,            // /healthz
  kMetrics,           // /metrics
};

struct RouteInfo {
  Route route;
  std::string_view label;    // Metrics label: the path template.
  std::string_view methods;  // "GET", "POST" or "GET, POST" (the Allow header).
  bool authenticated;
  bool operators_only;
  size_t body_limit;
};

constexpr RouteInfo kRoutes[] = {
    {Route::kIntents, "/v1/intents", "GET, POST", true, false, kMaxIntentRequestSize},
    {Route::kIntent, "/v1/intents/{id}", "GET", true, false, kMaxOtherRequestSize},
    {Route::kApprovals, "/v1/intents/{id}/approvals", "POST", true, false, kMaxApprovalRequestSize},
    {Route::kWallet, "/v1/wallets/{wallet}", "GET", true, false, kMaxOtherRequestSize},
    {Route::kUtxos, "/v1/wallets/{wallet}/utxos", "GET", true, false, kMaxOtherRequestSize},
    {Route::kImport, "/v1/wallets/{wallet}/utxos/import", "POST", true, true,
     kMaxImportRequestSize},
    {Route::kExecute, "/v1/wallets/{wallet}/execute", "POST", true, true, kMaxOtherRequestSize},
    {Route::kBatch, "/v1/batches/{id}", "GET", true, false, kMaxOtherRequestSize},
    {Route::kBatchTransaction, "/v1/batches/{id}/transaction", "GET", true, false,
     kMaxOtherRequestSize},
    {Route::kHealth, "/healthz", "GET", false, false, kMaxOtherRequestSize},
    {Route::kMetrics, "/metrics", "GET", false, false, kMaxOtherRequestSize},
};
constexpr std::string_view kOtherRoute = "other";

const RouteInfo& InfoOf(Route route) {
  for (const RouteInfo& info : kRoutes) {
    if (info.route == route) return info;
  }
  CHECK(false);
  return kRoutes[0];
}

struct Match {
  Route route;
  std::string param;  // The {id} or {wallet} segment, as in the path.
};

std::vector<std::string_view> Segments(std::string_view path) {
  std::vector<std::string_view> out;
  if (path.empty() || path.front() != '/') return out;
  path.remove_prefix(1);
  while (true) {
    const size_t slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

// The route of `path`, or nullopt. Empty segments never match (no "//", no trailing "/").
std::optional<Match> MatchRoute(std::string_view path) {
  const std::vector<std::string_view> s = Segments(path);
  if (s.empty() || std::any_of(s.begin(), s.end(), [](std::string_view x) { return x.empty(); })) {
    return std::nullopt;
  }
  if (s.size() == 1 && s[0] == "healthz") return Match{Route::kHealth, ""};
  if (s.size() == 1 && s[0] == "metrics") return Match{Route::kMetrics, ""};
  if (s.size() < 2 || s[0] != "v1") return std::nullopt;
  const std::string param = s.size() >= 3 ? std::string(s[2]) : "";
  if (s[1] == "intents") {
    if (s.size() == 2) return Match{Route::kIntents, ""};
    if (s.size() == 3) return Match{Route::kIntent, param};
    if (s.size() == 4 && s[3] == "approvals") return Match{Route::kApprovals, param};
  } else if (s[1] == "wallets") {
    if (s.size() == 3) return Match{Route::kWallet, param};
    if (s.size() == 4 && s[3] == "utxos") return Match{Route::kUtxos, param};
    if (s.size() == 5 && s[3] == "utxos" && s[4] == "import") return Match{Route::kImport, param};
    if (s.size() == 4 && s[3] == "execute") return Match{Route::kExecute, param};
  } else if (s[1] == "batches") {
    if (s.size() == 3) return Match{Route::kBatch, param};
    if (s.size() == 4 && s[3] == "transaction") return Match{Route::kBatchTransaction, param};
  }
  return std::nullopt;
}

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

// --- Replies ---

net::HttpReply JsonReply(int status, const Json& body) {
  net::HttpReply reply;
  reply.status = status;
  reply.content_type = std::string(kJsonContentType);
  reply.body = Dump(body);
  return reply;
}

Json ErrorJson(std::string_view code, const std::string& message) {
  // ErrorBodyFor escapes every byte outside printable ASCII of the message and bounds it.
  const signerapi::ErrorBody escaped = signerapi::ErrorBodyFor(util::InvalidArgumentError(message));
  return Json{{"error", Json{{"code", std::string(code)}, {"message", escaped.message}}}};
}

net::HttpReply Error(int status, std::string_view code, const std::string& message) {
  net::HttpReply reply = JsonReply(status, ErrorJson(code, message));
  if (status == 503) reply.headers["Retry-After"] = "1";
  return reply;
}

// The HTTP status of a failure of the Coordinator or the Store (doc/coordinator-api.md,
// "Errors"). kPermissionDenied here is about a signature inside the submitted object (the
// caller was authenticated before), so it is 422, not 403.
int HttpStatusOf(util::StatusCode code) {
  if (code == util::StatusCode::kPermissionDenied) return 422;
  return signerapi::HttpStatusFor(code);
}

net::HttpReply StatusReply(const util::Status& status) {
  return Error(HttpStatusOf(status.code()), signerapi::ErrorCodeName(status.code()),
               status.message());
}

// --- JSON of the API's objects ---

Json DetailJson(const std::string& detail) {
  // The coordinator writes it; the store is untrusted, so a row that is not a JSON object is
  // shown as text rather than failing the request.
  Json parsed = Json::parse(detail, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_object()) return Json{{"text", detail}};
  return parsed;
}

Json OptionalJson(const std::optional<int64_t>& value) {
  return value ? Json(*value) : Json(nullptr);
}

Json IntentJson(const storage::IntentRecord& record,
                const std::vector<storage::ApprovalRecord>& approvals) {
  Json outputs = Json::array();
  int64_t total = 0;
  for (const storage::PayOutput& output : record.outputs) {
    outputs.push_back(Json{{"address", output.address}, {"sats", output.sats}});
    total += output.sats;  // 256 outputs of at most 21e14 each: no overflow.
  }
  Json approval_list = Json::array();
  for (const storage::ApprovalRecord& approval : approvals) {
    Json decision = nullptr;
    util::Result<policy::SignedApproval> decoded =
        policy::SignedApproval::Decode(approval.signed_approval);
    if (decoded.ok()) {
      decision = std::string(policy::DecisionName(decoded->approval().fields().decision));
    }
    approval_list.push_back(Json{{"approver", util::HexEncode(approval.approver)},
                                 {"decision", decision},
                                 {"received_at", approval.received_at}});
  }
  return Json{{"id", util::HexEncode(record.id)},
              {"wallet", record.wallet},
              {"state", std::string(storage::IntentStateName(record.state))},
              {"outputs", std::move(outputs)},
              {"total_sats", total},
              {"requester", util::HexEncode(record.requester)},
              {"external_ref", record.external_ref},
              {"created_at", record.created_at},
              {"expires_at", record.expires_at},
              {"received_at", record.received_at},
              {"updated_at", record.updated_at},
              {"batch_id", OptionalJson(record.batch_id)},
              {"revision", record.revision},
              {"approvals", std::move(approval_list)},
              {"detail", DetailJson(record.detail)}};
}

Json IntentViewJson(const IntentView& view) { return IntentJson(view.record, view.approvals); }

// A field of a signer's entry in the batch detail, or null.
Json FieldOrNull(const Json& object, std::string_view name) {
  const auto it = object.find(name);
  return it == object.end() ? Json(nullptr) : *it;
}

Json BatchJson(const storage::BatchRecord& batch) {
  Json intents = Json::array();
  for (const storage::IntentId& id : batch.intents) intents.push_back(util::HexEncode(id));
  Json inputs = Json::array();
  for (const btc::Outpoint& input : batch.inputs) {
    inputs.push_back(Json{{"txid", btc::TxidToHex(input.txid)}, {"vout", input.index}});
  }
  // The signers' answers, from the detail the coordinator writes ({"signers": [...]}).
  Json signers = Json::array();
  const Json detail = DetailJson(batch.detail);
  if (const auto it = detail.find("signers"); it != detail.end() && it->is_array()) {
    for (const Json& answer : *it) {
      if (!answer.is_object()) continue;
      signers.push_back(Json{{"id", FieldOrNull(answer, "id")},
                             {"url", FieldOrNull(answer, "url")},
                             {"outcome", FieldOrNull(answer, "outcome")},
                             {"code", FieldOrNull(answer, "code")},
                             {"detail", FieldOrNull(answer, "detail")},
                             {"audit_index", FieldOrNull(answer, "audit_index")},
                             {"tree_size", FieldOrNull(answer, "tree_size")}});
    }
  }
  return Json{
      {"id", batch.id},
      {"wallet", batch.wallet},
      {"state", std::string(storage::BatchStateName(batch.state))},
      {"intents", std::move(intents)},
      {"inputs", std::move(inputs)},
      {"change_index", batch.change_index ? Json(*batch.change_index) : Json(nullptr)},
      {"txid", batch.txid ? Json(btc::TxidToHex(*batch.txid)) : Json(nullptr)},
      {"fee_sats", batch.fee_sats},
      {"fee_rate_sat_per_kvb", batch.fee_rate_sat_per_kvb},
      {"signers", std::move(signers)},
      {"created_at", batch.created_at},
      {"updated_at", batch.updated_at},
      {"confirmed_height", batch.confirmed_height ? Json(*batch.confirmed_height) : Json(nullptr)}};
}

Json UtxoJson(const storage::Utxo& utxo, btc::Network network) {
  util::Result<std::string> address =
      btc::EncodeAddress(btc::Script(std::span<const uint8_t>(utxo.script_pubkey)), network);
  return Json{{"txid", btc::TxidToHex(utxo.outpoint.txid)},
              {"vout", utxo.outpoint.index},
              {"sats", utxo.sats},
              {"address", address.ok() ? Json(*address) : Json(nullptr)},
              {"change", utxo.change},
              {"index", utxo.index},
              {"height", utxo.height ? Json(*utxo.height) : Json(nullptr)},
              {"state", std::string(storage::UtxoStateName(utxo.state))},
              {"batch_id", OptionalJson(utxo.batch_id)}};
}

Json UtxosJson(const std::vector<storage::Utxo>& utxos, btc::Network network) {
  Json list = Json::array();
  for (const storage::Utxo& utxo : utxos) list.push_back(UtxoJson(utxo, network));
  return Json{{"utxos", std::move(list)}};
}

// --- Metrics ---

// The upper bounds (seconds) of kinkod_request_duration_seconds's buckets, besides +Inf.
constexpr std::array<double, 12> kDurationBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                     0.1,   0.25,   0.5,   1.0,  2.5,   10.0};

std::string FormatDouble(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.17g", value);
  return buffer;
}

std::string FormatBound(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%g", value);
  return buffer;
}

void AppendHeader(std::string& out, std::string_view name, std::string_view type,
                  std::string_view help) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n");
  out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

// A label value from a fixed set or a snake_case word; anything else is "other", so that no
// label carries request or peer text.
std::string SafeLabel(std::string_view value) {
  const bool safe =
      !value.empty() && value.size() <= 64 && std::all_of(value.begin(), value.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
      });
  return safe ? std::string(value) : "other";
}

// Not copyable or movable (it holds a mutex).
class MetricsRegistry final {
 public:
  void CountRequest(std::string_view route, int status, double seconds) {
    std::lock_guard<std::mutex> lock(mutex_);
    ++requests_[{std::string(route), status}];
    Histogram& histogram = durations_[std::string(route)];
    for (size_t i = 0; i < kDurationBuckets.size(); ++i) {
      if (seconds <= kDurationBuckets[i]) ++histogram.buckets[i];
    }
    ++histogram.count;
    histogram.sum += seconds;
  }

  void CountBatch(std::string_view outcome) {
    std::lock_guard<std::mutex> lock(mutex_);
    ++batches_[SafeLabel(outcome)];
  }

  void CountSignerAnswer(const std::string& signer, std::string_view outcome) {
    std::lock_guard<std::mutex> lock(mutex_);
    ++signer_answers_[{signer, SafeLabel(outcome)}];
  }

  // `intents`: the store's counts, or nullopt when it could not be read.
  std::string Render(
      const std::optional<std::vector<std::pair<storage::IntentState, uint64_t>>>& intents) {
    std::string out;
    std::lock_guard<std::mutex> lock(mutex_);
    AppendHeader(out, "kinkod_requests_total", "counter",
                 "HTTP requests answered, by route and status.");
    for (const auto& [labels, count] : requests_) {
      out.append("kinkod_requests_total{route=\"")
          .append(labels.first)
          .append("\",status=\"")
          .append(std::to_string(labels.second))
          .append("\"} ")
          .append(std::to_string(count))
          .append("\n");
    }
    AppendHeader(out, "kinkod_request_duration_seconds", "histogram",
                 "Time to answer a request, by route.");
    for (const auto& [route, histogram] : durations_) {
      const std::string prefix =
          "kinkod_request_duration_seconds_bucket{route=\"" + route + "\",le=\"";
      for (size_t i = 0; i < kDurationBuckets.size(); ++i) {
        out.append(prefix)
            .append(FormatBound(kDurationBuckets[i]))
            .append("\"} ")
            .append(std::to_string(histogram.buckets[i]))
            .append("\n");
      }
      out.append(prefix).append("+Inf\"} ").append(std::to_string(histogram.count)).append("\n");
      out.append("kinkod_request_duration_seconds_sum{route=\"")
          .append(route)
          .append("\"} ")
          .append(FormatDouble(histogram.sum))
          .append("\n");
      out.append("kinkod_request_duration_seconds_count{route=\"")
          .append(route)
          .append("\"} ")
          .append(std::to_string(histogram.count))
          .append("\n");
    }
    AppendHeader(out, "kinkod_intents", "gauge", "Intents in the store, by state.");
    if (intents) {
      for (const auto& [state, count] : *intents) {
        out.append("kinkod_intents{state=\"")
            .append(storage::IntentStateName(state))
            .append("\"} ")
            .append(std::to_string(count))
            .append("\n");
      }
    }
    AppendHeader(out, "kinkod_batches_total", "counter",
                 "Batches returned by execute calls of this process, by their state then.");
    for (const auto& [outcome, count] : batches_) {
      out.append("kinkod_batches_total{outcome=\"")
          .append(outcome)
          .append("\"} ")
          .append(std::to_string(count))
          .append("\n");
    }
    AppendHeader(out, "kinkod_signer_answers_total", "counter",
                 "Signer answers recorded in the batches returned by execute calls, by signer id "
                 "and outcome.");
    for (const auto& [labels, count] : signer_answers_) {
      out.append("kinkod_signer_answers_total{signer=\"")
          .append(labels.first)
          .append("\",outcome=\"")
          .append(labels.second)
          .append("\"} ")
          .append(std::to_string(count))
          .append("\n");
    }
    return out;
  }

 private:
  struct Histogram {
    std::array<uint64_t, kDurationBuckets.size()> buckets{};  // Cumulative counts.
    uint64_t count = 0;
    double sum = 0;
  };
  std::mutex mutex_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;
  std::map<std::string, Histogram> durations_;
  std::map<std::string, uint64_t> batches_;
  std::map<std::pair<std::string, std::string>, uint64_t> signer_answers_;
};

util::Result<std::vector<uint8_t>> ReadPolicyFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return util::NotFoundError("policy file '" + path + "': cannot be opened");
  std::vector<uint8_t> bytes;
  char buffer[65536];
  while (in.read(buffer, sizeof(buffer)) || in.gcount() > 0) {
    bytes.insert(bytes.end(), buffer, buffer + in.gcount());
    if (bytes.size() > kMaxPolicyFileSize) {
      return util::InvalidArgumentError("policy file '" + path + "': too large");
    }
  }
  if (in.bad()) return util::UnavailableError("policy file '" + path + "': read error");
  return bytes;
}

}  // namespace

util::Result<std::vector<uint8_t>> DecodeIntentRequest(std::string_view body) {
  return DecodeHexObject(body, "signed_intent", kMaxIntentRequestSize / 2);
}

util::Result<std::vector<uint8_t>> DecodeApprovalRequest(std::string_view body) {
  return DecodeHexObject(body, "signed_approval", kMaxApprovalRequestSize / 2);
}

util::Result<std::vector<uint8_t>> DecodeImportRequest(std::string_view body) {
  return DecodeHexObject(body, "raw_tx", kMaxImportRequestSize / 2);
}

util::Result<std::vector<storage::IntentId>> DecodeExecuteRequest(std::string_view body) {
  util::Result<nlohmann::json> root = ParseObject(body);
  if (!root.ok()) return root.status();
  if (util::Status s = OnlyFields(*root, {"intents"}); !s.ok()) return s;
  const auto it = root->find("intents");
  if (it == root->end()) return Invalid("missing field 'intents'");
  if (!it->is_array()) return Invalid("field 'intents': expected an array, got " + TypeName(*it));
  if (it->size() > kMaxExecuteIntents) {
    return Invalid("field 'intents': more than " + std::to_string(kMaxExecuteIntents) + " ids");
  }
  std::vector<storage::IntentId> ids;
  for (size_t i = 0; i < it->size(); ++i) {
    const nlohmann::json& item = (*it)[i];
    const std::string field = "intents[" + std::to_string(i) + "]";
    if (!item.is_string()) {
      return Invalid("field '" + field + "': expected a string, got " + TypeName(item));
    }
    util::Result<storage::IntentId> id =
        ParseIntentId(item.get_ref<const std::string&>(), "request body: field '" + field + "'");
    if (!id.ok()) return id.status();
    if (std::find(ids.begin(), ids.end(), *id) != ids.end()) {
      return Invalid("field '" + field + "': listed twice");
    }
    ids.push_back(*id);
  }
  return ids;
}

struct ApiHandler::Impl {
  Coordinator* coordinator = nullptr;
  storage::Store* store = nullptr;
  ChainBackend* chain = nullptr;
  Config config;
  std::function<uint64_t()> clock;
  std::function<void(const std::string&)> log;
  std::set<policy::KeyId> known;      // Every key id that may call the API.
  std::set<policy::KeyId> operators;  // Key ids that may also import and execute.
  MetricsRegistry metrics;
  std::mutex rng_mutex;
  crypto::SystemRng rng;

  std::string NewRequestId() {
    std::array<uint8_t, 8> bytes{};
    std::lock_guard<std::mutex> lock(rng_mutex);
    rng.Fill(bytes);
    return util::HexEncode(bytes);
  }

  const WalletSettings* FindWallet(std::string_view id) const {
    for (const WalletSettings& wallet : config.wallets) {
      if (wallet.id == id) return &wallet;
    }
    return nullptr;
  }

  // The request after routing and authentication. `caller` is empty for open routes.
  net::HttpReply Dispatch(const Match& match, const net::HttpRequest& request);

  net::HttpReply PostIntent(const net::HttpRequest& request);
  net::HttpReply ListIntents(const net::HttpRequest& request);
  net::HttpReply GetIntent(const std::string& id);
  net::HttpReply PostApproval(const std::string& id, const net::HttpRequest& request);
  net::HttpReply GetWallet(const WalletSettings& wallet);
  net::HttpReply GetUtxos(const WalletSettings& wallet);
  net::HttpReply Import(const WalletSettings& wallet, const net::HttpRequest& request);
  net::HttpReply Execute(const WalletSettings& wallet, const net::HttpRequest& request);
  net::HttpReply GetBatch(const std::string& id, bool transaction);
  net::HttpReply Health();
  net::HttpReply Metrics();
};

net::HttpReply ApiHandler::Impl::PostIntent(const net::HttpRequest& request) {
  util::Result<std::vector<uint8_t>> bytes = DecodeIntentRequest(request.body);
  if (!bytes.ok()) return StatusReply(bytes.status());
  util::Result<std::pair<IntentView, bool>> submitted = coordinator->SubmitIntent(*bytes);
  if (!submitted.ok()) {
    // The coordinator's failed preconditions for a new intent are about the intent itself
    // (expired, or made in the future), not a state to wait for: 422, not 409.
    if (submitted.status().code() == util::StatusCode::kFailedPrecondition) {
      return Error(422, "failed_precondition", submitted.status().message());
    }
    return StatusReply(submitted.status());
  }
  const IntentView& view = submitted->first;
  // Stored, but refused by the policy or already expired: the error says so, the intent shows
  // the detail.
  const auto refused = [&](std::string_view code, const std::string& why) {
    Json body = ErrorJson(code, "intent " + util::HexEncode(view.record.id) + " " + why);
    body["intent"] = IntentViewJson(view);
    return JsonReply(422, body);
  };
  if (view.record.state == storage::IntentState::kRefused) {
    return refused("policy_refused", "is refused by the policy");
  }
  if (view.record.state == storage::IntentState::kExpired) {
    return refused("expired", "has expired");
  }
  return JsonReply(submitted->second ? 201 : 200, IntentViewJson(view));
}

net::HttpReply ApiHandler::Impl::ListIntents(const net::HttpRequest& request) {
  storage::IntentFilter filter;
  for (const auto& [name, value] : request.query) {
    if (name == "wallet") {
      filter.wallet = value;
    } else if (name == "state") {
      std::string_view rest = value;
      while (true) {
        const size_t comma = rest.find(',');
        const std::string_view name_text = rest.substr(0, comma);
        const std::optional<storage::IntentState> state = storage::ParseIntentState(name_text);
        if (!state) {
          return StatusReply(util::InvalidArgumentError(
              "query parameter 'state': '" + Cut(name_text, 64) + "' is not an intent state"));
        }
        filter.states.push_back(*state);
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
      }
    } else if (name == "after") {
      util::Result<storage::IntentId> after = ParseIntentId(value, "query parameter 'after'");
      if (!after.ok()) return StatusReply(after.status());
      filter.after = *after;
    } else if (name == "limit") {
      const bool digits =
          !value.empty() && value.size() <= 4 &&
          std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; });
      size_t limit = 0;
      for (char c : digits ? value : std::string())
        limit = limit * 10 + static_cast<size_t>(c - '0');
      if (!digits || limit < 1 || limit > 1000) {
        return StatusReply(util::InvalidArgumentError("query parameter 'limit': must be 1..1000"));
      }
      filter.limit = limit;
    } else {
      return StatusReply(
          util::InvalidArgumentError("unknown query parameter '" + Cut(name, 64) + "'"));
    }
  }
  util::Result<std::vector<storage::IntentRecord>> records = coordinator->ListIntents(filter);
  if (!records.ok()) return StatusReply(records.status());
  Json intents = Json::array();
  for (const storage::IntentRecord& record : *records) {
    util::Result<IntentView> view = coordinator->GetIntent(record.id);
    intents.push_back(view.ok() ? IntentViewJson(*view) : IntentJson(record, {}));
  }
  Json next = nullptr;
  if (records->size() == filter.limit && !records->empty()) {
    next = util::HexEncode(records->back().id);
  }
  return JsonReply(200, Json{{"intents", std::move(intents)}, {"next", next}});
}

net::HttpReply ApiHandler::Impl::GetIntent(const std::string& id_text) {
  util::Result<storage::IntentId> id = ParseIntentId(id_text, "intent id");
  if (!id.ok()) return StatusReply(id.status());
  util::Result<IntentView> view = coordinator->GetIntent(*id);
  if (!view.ok()) return StatusReply(view.status());
  return JsonReply(200, IntentViewJson(*view));
}

net::HttpReply ApiHandler::Impl::PostApproval(const std::string& id_text,
                                              const net::HttpRequest& request) {
  util::Result<storage::IntentId> id = ParseIntentId(id_text, "intent id");
  if (!id.ok()) return StatusReply(id.status());
  util::Result<std::vector<uint8_t>> bytes = DecodeApprovalRequest(request.body);
  if (!bytes.ok()) return StatusReply(bytes.status());
  // Whether this approval is new: the approvals before and after (the Coordinator's call is
  // idempotent and does not say).
  util::Result<IntentView> before = coordinator->GetIntent(*id);
  if (!before.ok()) return StatusReply(before.status());
  util::Result<IntentView> after = coordinator->SubmitApproval(*id, *bytes);
  if (!after.ok()) return StatusReply(after.status());
  const bool is_new = after->approvals.size() > before->approvals.size();
  return JsonReply(is_new ? 201 : 200, IntentViewJson(*after));
}

net::HttpReply ApiHandler::Impl::GetWallet(const WalletSettings& wallet) {
  util::Result<std::vector<storage::Utxo>> utxos = coordinator->Utxos(wallet.id);
  if (!utxos.ok()) return StatusReply(utxos.status());
  int64_t available = 0;
  int64_t reserved = 0;
  int64_t confirmed = 0;
  int64_t unconfirmed = 0;
  for (const storage::Utxo& utxo : *utxos) {
    if (utxo.state == storage::UtxoState::kSpent) continue;
    (utxo.state == storage::UtxoState::kAvailable ? available : reserved) += utxo.sats;
    (utxo.height ? confirmed : unconfirmed) += utxo.sats;
  }
  Json signers = Json::array();
  for (const SignerEndpoint& signer : wallet.signers) {
    signers.push_back(Json{{"url", signer.url}, {"id", util::HexEncode(signer.id)}});
  }
  return JsonReply(200, Json{{"wallet", wallet.id},
                             {"network", std::string(btc::NetworkName(wallet.network))},
                             {"descriptor", wallet.descriptor},
                             {"balance", Json{{"available", available},
                                              {"reserved", reserved},
                                              {"confirmed", confirmed},
                                              {"unconfirmed", unconfirmed}}},
                             {"signers", std::move(signers)},
                             {"threshold", wallet.threshold}});
}

net::HttpReply ApiHandler::Impl::GetUtxos(const WalletSettings& wallet) {
  util::Result<std::vector<storage::Utxo>> utxos = coordinator->Utxos(wallet.id);
  if (!utxos.ok()) return StatusReply(utxos.status());
  return JsonReply(200, UtxosJson(*utxos, wallet.network));
}

net::HttpReply ApiHandler::Impl::Import(const WalletSettings& wallet,
                                        const net::HttpRequest& request) {
  util::Result<std::vector<uint8_t>> raw = DecodeImportRequest(request.body);
  if (!raw.ok()) return StatusReply(raw.status());
  util::Result<std::vector<storage::Utxo>> found = coordinator->ImportTransaction(wallet.id, *raw);
  if (!found.ok()) return StatusReply(found.status());
  return JsonReply(200, UtxosJson(*found, wallet.network));
}

net::HttpReply ApiHandler::Impl::Execute(const WalletSettings& wallet,
                                         const net::HttpRequest& request) {
  util::Result<std::vector<storage::IntentId>> ids = DecodeExecuteRequest(request.body);
  if (!ids.ok()) return StatusReply(ids.status());
  util::Result<ExecuteResult> result = coordinator->Execute(wallet.id, *ids);
  if (!result.ok()) return StatusReply(result.status());
  Json batches = Json::array();
  for (int64_t id : result->batches) {
    util::Result<storage::BatchRecord> batch = coordinator->GetBatch(id);
    if (!batch.ok()) return StatusReply(batch.status());
    const Json batch_json = BatchJson(*batch);
    metrics.CountBatch(storage::BatchStateName(batch->state));
    for (const Json& signer : batch_json["signers"]) {
      const std::string signer_id = signer["id"].is_string()
                                        ? SafeLabel(signer["id"].get<std::string>())
                                        : std::string("other");
      const std::string outcome =
          signer["outcome"].is_string() ? signer["outcome"].get<std::string>() : "other";
      metrics.CountSignerAnswer(signer_id, outcome);
    }
    batches.push_back(batch_json);
  }
  Json waiting = Json::array();
  for (const storage::IntentId& id : result->waiting) waiting.push_back(util::HexEncode(id));
  return JsonReply(200, Json{{"batches", std::move(batches)}, {"waiting", std::move(waiting)}});
}

net::HttpReply ApiHandler::Impl::GetBatch(const std::string& id_text, bool transaction) {
  // A positive decimal int64 without leading zero.
  const bool digits =
      !id_text.empty() && id_text.size() <= 18 && id_text[0] != '0' &&
      std::all_of(id_text.begin(), id_text.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!digits) {
    return StatusReply(util::InvalidArgumentError("batch id: expected a positive decimal number"));
  }
  int64_t id = 0;
  for (char c : id_text) id = id * 10 + (c - '0');
  util::Result<storage::BatchRecord> batch = coordinator->GetBatch(id);
  if (!batch.ok()) return StatusReply(batch.status());
  if (!transaction) return JsonReply(200, BatchJson(*batch));
  if (batch->final_tx.empty()) {
    return StatusReply(util::NotFoundError("batch " + id_text + ": no signed transaction yet"));
  }
  util::Result<btc::Transaction> tx = btc::Transaction::Parse(batch->final_tx);
  const std::string txid = tx.ok() ? btc::TxidToHex(tx->ComputeTxid())
                                   : (batch->txid ? btc::TxidToHex(*batch->txid) : "");
  return JsonReply(200, Json{{"txid", txid}, {"hex", util::HexEncode(batch->final_tx)}});
}

net::HttpReply ApiHandler::Impl::Health() {
  util::Result<std::vector<std::pair<storage::IntentState, uint64_t>>> counts =
      store->CountIntents();
  const bool storage_ok = counts.ok();
  // Any answer but "unreachable" means the backend is there (offline and fresh regtest nodes
  // have no estimate: kNotFound).
  util::Result<uint64_t> estimate = chain->EstimateFeeRate(6);
  const bool chain_ok = estimate.ok() || estimate.status().code() != util::StatusCode::kUnavailable;
  const bool ok = storage_ok && chain_ok;
  net::HttpReply reply =
      JsonReply(ok ? 200 : 503, Json{{"status", ok ? "ok" : "unavailable"},
                                     {"storage", storage_ok ? "ok" : "unavailable"},
                                     {"chain", chain_ok ? "ok" : "unavailable"}});
  if (!ok) reply.headers["Retry-After"] = "1";
  return reply;
}

net::HttpReply ApiHandler::Impl::Metrics() {
  net::HttpReply reply;
  reply.content_type = std::string(kMetricsContentType);
  util::Result<std::vector<std::pair<storage::IntentState, uint64_t>>> counts =
      store->CountIntents();
  reply.body = metrics.Render(counts.ok() ? std::optional(std::move(*counts)) : std::nullopt);
  return reply;
}

net::HttpReply ApiHandler::Impl::Dispatch(const Match& match, const net::HttpRequest& request) {
  const WalletSettings* wallet = nullptr;
  switch (match.route) {
    case Route::kWallet:
    case Route::kUtxos:
    case Route::kImport:
    case Route::kExecute:
      wallet = FindWallet(match.param);
      if (wallet == nullptr) {
        return StatusReply(util::NotFoundError("no wallet '" + Cut(match.param, 64) + "'"));
      }
      break;
    case Route::kIntents:
    case Route::kIntent:
    case Route::kApprovals:
    case Route::kBatch:
    case Route::kBatchTransaction:
    case Route::kHealth:
    case Route::kMetrics:
      break;
  }
  switch (match.route) {
    case Route::kIntents:
      return request.method == "POST" ? PostIntent(request) : ListIntents(request);
    case Route::kIntent:
      return GetIntent(match.param);
    case Route::kApprovals:
      return PostApproval(match.param, request);
    case Route::kWallet:
      return GetWallet(*wallet);
    case Route::kUtxos:
      return GetUtxos(*wallet);
    case Route::kImport:
      return Import(*wallet, request);
    case Route::kExecute:
      return Execute(*wallet, request);
    case Route::kBatch:
      return GetBatch(match.param, false);
    case Route::kBatchTransaction:
      return GetBatch(match.param, true);
    case Route::kHealth:
      return Health();
    case Route::kMetrics:
      return Metrics();
  }
  return StatusReply(util::InternalError("unhandled route"));
}

util::Result<std::unique_ptr<ApiHandler>> ApiHandler::Create(Coordinator& coordinator,
                                                             storage::Store& store,
                                                             ChainBackend& chain,
                                                             const Config& config,
                                                             ApiOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->coordinator = &coordinator;
  impl->store = &store;
  impl->chain = &chain;
  impl->config = config;
  impl->clock = options.clock ? std::move(options.clock) : std::function<uint64_t()>(SystemClock);
  impl->log =
      options.log ? std::move(options.log) : std::function<void(const std::string&)>(LogToStderr);
  for (const WalletSettings& wallet : config.wallets) {
    util::Result<std::vector<uint8_t>> bytes = ReadPolicyFile(wallet.policy_file);
    if (!bytes.ok()) return bytes.status().WithPrefix("wallet '" + wallet.id + "'");
    util::Result<policy::SignedPolicy> signed_policy = policy::SignedPolicy::Decode(*bytes);
    if (!signed_policy.ok()) {
      return util::InvalidArgumentError("wallet '" + wallet.id + "': policy file '" +
                                        wallet.policy_file +
                                        "': " + signed_policy.status().message());
    }
    for (const policy::NamedKey& key : signed_policy->policy().fields().keys) {
      impl->known.insert(key.id);
    }
  }
  for (const crypto::Ed25519PublicKey& key : config.clients) {
    impl->known.insert(policy::Ed25519KeyId(key));
  }
  for (const crypto::Ed25519PublicKey& key : config.operators) {
    impl->known.insert(policy::Ed25519KeyId(key));
    impl->operators.insert(policy::Ed25519KeyId(key));
  }
  return std::unique_ptr<ApiHandler>(new ApiHandler(std::move(impl)));
}

ApiHandler::ApiHandler(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

ApiHandler::~ApiHandler() = default;

net::HttpReply ApiHandler::Handle(const net::HttpRequest& request) {
  const auto start = std::chrono::steady_clock::now();
  const std::string request_id = impl_->NewRequestId();
  std::string caller;  // Key id hex once authenticated.
  const std::optional<Match> match = MatchRoute(request.path);
  const std::string_view route = match ? InfoOf(match->route).label : kOtherRoute;

  const auto answer = [&]() -> net::HttpReply {
    if (!match) {
      return StatusReply(util::NotFoundError("no route at path '" + Cut(request.path, 128) + "'"));
    }
    const RouteInfo& info = InfoOf(match->route);
    const bool allowed =
        info.methods == request.method ||
        (info.methods == "GET, POST" && (request.method == "GET" || request.method == "POST"));
    if (!allowed) {
      net::HttpReply reply =
          Error(405, "method_not_allowed", "method not allowed; use " + std::string(info.methods));
      reply.headers["Allow"] = std::string(info.methods);
      return reply;
    }
    if (info.authenticated) {
      const auto header = request.headers.find("authorization");
      if (header == request.headers.end()) {
        return Error(401, "unauthenticated", "missing Authorization header");
      }
      // Without a raw target (a handler called directly) the path stands for it.
      const std::string& target = request.target.empty() ? request.path : request.target;
      util::Result<Caller> verified =
          VerifyAuthorization(header->second, request.method, target, request.body, impl_->clock());
      if (!verified.ok()) return Error(401, "unauthenticated", verified.status().message());
      caller = util::HexEncode(verified->id);
      if (impl_->known.count(verified->id) == 0) {
        return Error(403, "forbidden", "key " + caller + " is not known to this coordinator");
      }
      if (info.operators_only && impl_->operators.count(verified->id) == 0) {
        return Error(403, "forbidden", "key " + caller + " is not an operator");
      }
    }
    if (request.method == "POST" && !IsJsonContentType(request.content_type)) {
      return Error(415, "unsupported_media_type", "content type must be application/json");
    }
    return impl_->Dispatch(*match, request);
  };
  net::HttpReply reply = answer();
  reply.headers["X-Request-Id"] = request_id;

  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  impl_->metrics.CountRequest(route, reply.status, seconds);
  Json line{{"time", impl_->clock()},
            {"level", reply.status >= 500 ? "error" : "info"},
            {"event", "request"},
            {"request_id", request_id},
            {"method", Cut(request.method, 16)},
            {"path", Cut(request.path, 256)},
            {"route", std::string(route)},
            {"status", reply.status},
            {"duration_ms", static_cast<uint64_t>(seconds * 1000.0)},
            {"caller", caller.empty() ? Json(nullptr) : Json(caller)}};
  impl_->log(Dump(line));
  return reply;
}

size_t ApiHandler::BodyLimit(std::string_view path) const {
  const std::optional<Match> match = MatchRoute(path);
  return match ? InfoOf(match->route).body_limit : kMaxOtherRequestSize;
}

net::HttpReply ApiHandler::ErrorReply(int status, std::string_view code,
                                      std::string message) const {
  return Error(status, code, message);
}

void ApiHandler::CountRequest(const std::string& path, int status) {
  const std::optional<Match> match = MatchRoute(path);
  impl_->metrics.CountRequest(match ? InfoOf(match->route).label : kOtherRoute, status, 0.0);
  impl_->log(Dump(Json{{"time", impl_->clock()},
                       {"level", "info"},
                       {"event", "request"},
                       {"request_id", nullptr},
                       {"path", Cut(path, 256)},
                       {"status", status},
                       {"answered_by", "http layer"}}));
}

const std::vector<std::string>& ApiHandler::RequestHeaders() const {
  static const std::vector<std::string>* kHeaders = new std::vector<std::string>{"authorization"};
  return *kHeaders;
}

std::string ApiHandler::MetricsText() { return impl_->Metrics().body; }

}  // namespace kinko::coordinator
