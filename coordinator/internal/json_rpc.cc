#include "coordinator/internal/json_rpc.h"

#include <utility>
#include <vector>

#include "util/check.h"
#include "util/status.h"

namespace kinko::coordinator::json_rpc {
namespace {

constexpr int64_t kSatsPerBtc = 100'000'000;
constexpr int64_t kMaxBtc = 21'000'000;

util::Status Invalid(std::string what) { return util::InvalidArgumentError(std::move(what)); }

std::string Quoted(std::string_view name) { return "'" + Printable(name, 64) + "'"; }

std::string TypeName(const Json& value) {
  switch (value.type()) {
    case Json::value_t::null:
      return "null";
    case Json::value_t::object:
      return "object";
    case Json::value_t::array:
      return "array";
    case Json::value_t::string:
      return "string";
    case Json::value_t::boolean:
      return "boolean";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
      return "integer";
    case Json::value_t::number_float:
      return "floating point number";
    case Json::value_t::binary:
      // Only ParseJson makes binary values: the literal text of a decimal number.
      return "decimal number";
    case Json::value_t::discarded:
      return "discarded value";
  }
  return "unknown";
}

util::Status TypeError(std::string_view name, std::string_view expected, const Json& got) {
  return Invalid("field " + Quoted(name) + ": expected " + std::string(expected) + ", got " +
                 TypeName(got));
}

// A SAX handler (nlohmann::json::sax_parse) that builds the document, keeps the literal text of
// decimal numbers, and stops at the first repeated key or at nesting deeper than kMaxDepth, so
// that neither a second value for a key nor a deeply nested document is ever built.
// Not copyable, not movable (the parser holds a pointer to it).
class DomBuilder final {
 public:
  DomBuilder() = default;
  DomBuilder(const DomBuilder&) = delete;
  DomBuilder& operator=(const DomBuilder&) = delete;

  bool null() { return Add(Json(nullptr)) != nullptr; }
  bool boolean(bool value) { return Add(Json(value)) != nullptr; }
  bool number_integer(Json::number_integer_t value) { return Add(Json(value)) != nullptr; }
  bool number_unsigned(Json::number_unsigned_t value) { return Add(Json(value)) != nullptr; }
  bool number_float(Json::number_float_t /*value*/, const Json::string_t& text) {
    // The literal, not the double: amounts are read from it exactly (ParseBtcAmount).
    return Add(Json::binary(std::vector<uint8_t>(text.begin(), text.end()))) != nullptr;
  }
  bool string(Json::string_t& value) { return Add(Json(std::move(value))) != nullptr; }
  bool binary(Json::binary_t& /*value*/) {
    error_ = "binary values are not json";  // Only the binary formats produce them.
    return false;
  }
  bool start_object(size_t /*elements*/) { return Open(Json::object()); }
  bool end_object() {
    stack_.pop_back();
    return true;
  }
  bool start_array(size_t /*elements*/) { return Open(Json::array()); }
  bool end_array() {
    stack_.pop_back();
    return true;
  }
  bool key(Json::string_t& name) {
    // Invariant: the parser calls key() only inside an object.
    Json* object = stack_.back();
    if (object->contains(name)) {
      error_ = "duplicate key " + Quoted(name);
      return false;
    }
    key_ = std::move(name);
    return true;
  }
  bool parse_error(size_t position, const std::string& /*last_token*/,
                   const nlohmann::detail::exception& /*error*/) {
    // The library's message quotes the input; the offset is enough and safe to show.
    error_ = "malformed json at byte " + std::to_string(position);
    return false;
  }

  const std::string& error() const { return error_; }
  Json& root() { return root_; }

 private:
  // Adds `value` where the parser is (the root, the end of the open array, or the pending key
  // of the open object) and returns where it is stored. Pointers into the tree stay valid while
  // their container is open: nothing is added to a parent while a child is open.
  Json* Add(Json value) {
    if (stack_.empty()) {
      root_ = std::move(value);
      return &root_;
    }
    Json* parent = stack_.back();
    if (parent->is_array()) {
      parent->push_back(std::move(value));
      return &parent->back();
    }
    Json& slot = (*parent)[key_];
    slot = std::move(value);
    return &slot;
  }

  bool Open(Json container) {
    if (stack_.size() >= kMaxDepth) {
      error_ = "nested deeper than " + std::to_string(kMaxDepth) + " levels";
      return false;
    }
    stack_.push_back(Add(std::move(container)));
    return true;
  }

  Json root_;
  std::vector<Json*> stack_;  // The open objects and arrays, innermost last.
  std::string key_;           // The key of the value the open object expects next.
  std::string error_;
};

bool IsDigits(std::string_view text) {
  if (text.empty()) return false;
  for (const char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// The value of at most 18 decimal digits. Requires IsDigits(text) and text.size() <= 18.
int64_t DigitsValue(std::string_view text) {
  CHECK(text.size() <= 18);
  int64_t value = 0;
  for (const char c : text) value = value * 10 + (c - '0');
  return value;
}

}  // namespace

util::Result<Json> ParseJson(std::string_view text) {
  // The parser would skip it silently; another parser might not.
  if (text.substr(0, 3) == "\xef\xbb\xbf") return Invalid("json: byte order mark");
  DomBuilder builder;
  bool parsed = false;
  try {
    parsed = Json::sax_parse(text.begin(), text.end(), &builder, Json::input_format_t::json,
                             /*strict=*/true, /*ignore_comments=*/false);
  } catch (const Json::exception&) {
    // sax_parse reports errors through the handler; this is a safety net.
    return Invalid("json: malformed");
  }
  if (!parsed) return Invalid("json: " + (builder.error().empty() ? "malformed" : builder.error()));
  return std::move(builder.root());
}

std::optional<std::string> DecimalText(const Json& value) {
  if (!value.is_binary()) return std::nullopt;
  const Json::binary_t& bytes = value.get_binary();
  return std::string(bytes.begin(), bytes.end());
}

std::string BuildRequest(std::string_view method, const Json& params, uint64_t id) {
  Json request = Json::object();
  request["jsonrpc"] = "2.0";
  request["id"] = id;
  request["method"] = std::string(method);
  request["params"] = params;
  try {
    return request.dump(-1, ' ', /*ensure_ascii=*/false, Json::error_handler_t::replace);
  } catch (const Json::exception&) {
    // With error_handler_t::replace, dump does not throw on text; a binary value in `params`
    // (never built by the callers) would, and is a bug.
    CHECK(false);
  }
  return {};
}

util::Result<Reply> ParseReply(std::string_view body, uint64_t id) {
  util::Result<Json> parsed = ParseJson(body);
  if (!parsed.ok()) return parsed.status();
  Json& object = *parsed;
  if (!object.is_object()) return Invalid("reply: expected an object, got " + TypeName(object));
  util::Result<const Json*> reply_id = Member(object, "id");
  if (!reply_id.ok()) return reply_id.status().WithPrefix("reply");
  if (!(*reply_id)->is_number_unsigned() || (*reply_id)->get<uint64_t>() != id) {
    return Invalid("reply: field 'id': expected " + std::to_string(id));
  }
  Reply reply;
  const auto error = object.find("error");
  if (error != object.end() && !error->is_null()) {
    if (!error->is_object()) return TypeError("error", "an object", *error).WithPrefix("reply");
    util::Result<int64_t> code = IntMember(*error, "code");
    if (!code.ok()) return code.status().WithPrefix("reply: error");
    util::Result<std::string> message = StringMember(*error, "message");
    if (!message.ok()) return message.status().WithPrefix("reply: error");
    reply.error = RpcError{.code = *code, .message = Printable(*message, kMaxMessageSize)};
    return reply;
  }
  const auto result = object.find("result");
  if (result == object.end()) return Invalid("reply: missing field 'result'");
  reply.result = std::move(*result);
  return reply;
}

util::Result<const Json*> Member(const Json& object, std::string_view name) {
  CHECK(object.is_object());
  const auto it = object.find(name);
  if (it == object.end()) return Invalid("missing field " + Quoted(name));
  return &*it;
}

util::Result<std::string> StringMember(const Json& object, std::string_view name) {
  util::Result<const Json*> value = Member(object, name);
  if (!value.ok()) return value.status();
  if (!(*value)->is_string()) return TypeError(name, "a string", **value);
  return (*value)->get<std::string>();
}

util::Result<bool> BoolMember(const Json& object, std::string_view name) {
  util::Result<const Json*> value = Member(object, name);
  if (!value.ok()) return value.status();
  if (!(*value)->is_boolean()) return TypeError(name, "a boolean", **value);
  return (*value)->get<bool>();
}

util::Result<int64_t> IntMember(const Json& object, std::string_view name) {
  util::Result<const Json*> value = Member(object, name);
  if (!value.ok()) return value.status();
  const Json& number = **value;
  // A negative integer is number_integer, a non-negative one number_unsigned; integers beyond
  // 64 bits and numbers with a fraction or exponent are decimals (binary) and refused here.
  if (number.is_number_integer() && !number.is_number_unsigned()) {
    return number.get<int64_t>();
  }
  if (number.is_number_unsigned()) {
    const uint64_t unsigned_value = number.get<uint64_t>();
    if (unsigned_value > static_cast<uint64_t>(INT64_MAX)) {
      return Invalid("field " + Quoted(name) + ": integer out of range");
    }
    return static_cast<int64_t>(unsigned_value);
  }
  return TypeError(name, "an integer", number);
}

util::Result<int64_t> BtcAmountMember(const Json& object, std::string_view name) {
  util::Result<const Json*> value = Member(object, name);
  if (!value.ok()) return value.status();
  util::Result<int64_t> sats = ParseBtcAmount(**value);
  if (!sats.ok()) return sats.status().WithPrefix("field " + Quoted(name));
  return sats;
}

util::Result<int64_t> ParseBtcAmount(const Json& value) {
  const std::string too_large = "amount above " + std::to_string(kMaxBtc) + " btc";
  if (value.is_number_unsigned()) {
    const uint64_t btc = value.get<uint64_t>();
    if (btc > static_cast<uint64_t>(kMaxBtc)) return Invalid(too_large);
    return static_cast<int64_t>(btc) * kSatsPerBtc;
  }
  if (value.is_number_integer()) return Invalid("negative amount");
  const std::optional<std::string> text = DecimalText(value);
  if (!text) return Invalid("amount: expected a number, got " + TypeName(value));
  // JSON's grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?, with a fraction or an
  // exponent here (integers are parsed as integers unless beyond 64 bits).
  if (text->starts_with('-')) return Invalid("negative amount");
  if (text->find_first_of("eE") != std::string::npos) {
    return Invalid("amount '" + Printable(*text, 40) + "': exponent");
  }
  const size_t point = text->find('.');
  const std::string_view whole = std::string_view(*text).substr(0, point);
  const std::string_view fraction =
      point == std::string::npos ? std::string_view() : std::string_view(*text).substr(point + 1);
  if (!IsDigits(whole) || (point != std::string::npos && !IsDigits(fraction))) {
    return Invalid("amount '" + Printable(*text, 40) + "': not a decimal");
  }
  if (fraction.size() > 8) {
    return Invalid("amount '" + Printable(*text, 40) + "': more than 8 decimals");
  }
  // JSON forbids leading zeros, so 8 digits bound the whole part below 10^8 BTC.
  if (whole.size() > 8) return Invalid(too_large);
  std::string padded(fraction);
  padded.resize(8, '0');
  const int64_t sats = DigitsValue(whole) * kSatsPerBtc + DigitsValue(padded);
  if (sats > kMaxBtc * kSatsPerBtc) return Invalid(too_large);
  return sats;
}

std::string FormatBtcAmount(int64_t sats) {
  CHECK(sats >= 0);
  std::string fraction = std::to_string(sats % kSatsPerBtc);
  fraction.insert(0, 8 - fraction.size(), '0');
  return std::to_string(sats / kSatsPerBtc) + "." + fraction;
}

std::string Printable(std::string_view text, size_t max_size) {
  static constexpr char kHex[] = "0123456789abcdef";
  static constexpr std::string_view kCut = "...";
  CHECK(max_size >= kCut.size());
  std::string out;
  size_t fits = 0;  // The length of `out` after the last piece that leaves room for kCut.
  for (const char c : text) {
    const uint8_t b = static_cast<uint8_t>(c);
    if (b >= 0x20 && b <= 0x7e && c != '\\') {
      out += c;
    } else {
      out += "\\x";
      out += kHex[b >> 4];
      out += kHex[b & 0x0f];
    }
    if (out.size() + kCut.size() <= max_size) fits = out.size();
    if (out.size() > max_size) {
      out.resize(fits);
      out += kCut;
      return out;
    }
  }
  return out;
}

}  // namespace kinko::coordinator::json_rpc
