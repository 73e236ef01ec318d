#include "signerapi/internal/strict_json.h"

#include <algorithm>
#include <utility>

#include "btc/psbt.h"
#include "policy/intent.h"

namespace kinko::signerapi::internal {
namespace {

util::Status Invalid(std::string_view context, std::string_view what) {
  return util::InvalidArgumentError(std::string(context) + ": " + std::string(what));
}

std::string Quoted(std::string_view name) { return "'" + Printable(name, 64) + "'"; }

util::Status FieldError(std::string_view context, std::string_view name, std::string_view what) {
  return Invalid(context, "field " + Quoted(name) + ": " + std::string(what));
}

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
      return "negative integer";
    case Json::value_t::number_unsigned:
      return "unsigned integer";
    case Json::value_t::number_float:
      return "number with a fraction or exponent";
    case Json::value_t::binary:
      return "binary";
    case Json::value_t::discarded:
      return "discarded value";
  }
  return "unknown";
}

util::Status TypeError(std::string_view context, std::string_view name, std::string_view expected,
                       const Json& got) {
  return FieldError(context, name, "expected " + std::string(expected) + ", got " + TypeName(got));
}

// A SAX handler (nlohmann::json::sax_parse) that builds the document and stops at the first
// repeated key or at nesting deeper than the limit, so that neither a second value for a key
// nor a deeply nested body is ever built. Movable, not copyable.
class StrictDomBuilder final {
 public:
  explicit StrictDomBuilder(size_t max_depth) : max_depth_(max_depth) {}
  StrictDomBuilder(const StrictDomBuilder&) = delete;
  StrictDomBuilder& operator=(const StrictDomBuilder&) = delete;

  bool null() { return Add(Json(nullptr)) != nullptr; }
  bool boolean(bool value) { return Add(Json(value)) != nullptr; }
  bool number_integer(Json::number_integer_t value) { return Add(Json(value)) != nullptr; }
  bool number_unsigned(Json::number_unsigned_t value) { return Add(Json(value)) != nullptr; }
  bool number_float(Json::number_float_t value, const Json::string_t& /*text*/) {
    return Add(Json(value)) != nullptr;
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
    if (stack_.size() >= max_depth_) {
      error_ = "nested deeper than " + std::to_string(max_depth_) + " levels";
      return false;
    }
    stack_.push_back(Add(std::move(container)));
    return true;
  }

  const size_t max_depth_;
  Json root_;
  std::vector<Json*> stack_;  // The open objects and arrays, innermost last.
  std::string key_;           // The key of the value the open object expects next.
  std::string error_;
};

bool IsLowerHex(std::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

util::Result<std::vector<uint8_t>> DecodeBase64Value(const Json& value, std::string_view what,
                                                     size_t min_size, size_t max_size,
                                                     std::string_view context) {
  if (!value.is_string()) return TypeError(context, what, "a base64 string", value);
  const std::string& text = value.get_ref<const std::string&>();
  // Checked before decoding, so no large buffer is made for an oversized value.
  if (text.size() / 4 * 3 > max_size + 2) {
    return FieldError(context, what, "longer than " + std::to_string(max_size) + " bytes");
  }
  util::Result<std::vector<uint8_t>> bytes = btc::DecodeBase64(text);
  if (!bytes.ok()) return FieldError(context, what, bytes.status().message());
  if (bytes->size() < min_size || bytes->size() > max_size) {
    return FieldError(context, what,
                      "must be " + std::to_string(min_size) + ".." + std::to_string(max_size) +
                          " bytes, not " + std::to_string(bytes->size()));
  }
  return bytes;
}

util::Result<std::string> DecodeTextValue(const Json& value, std::string_view what, size_t min_size,
                                          size_t max_size, std::string_view context) {
  if (!value.is_string()) return TypeError(context, what, "a string", value);
  const std::string& text = value.get_ref<const std::string&>();
  if (text.size() < min_size || text.size() > max_size) {
    return FieldError(context, what,
                      "must be " + std::to_string(min_size) + ".." + std::to_string(max_size) +
                          " bytes, not " + std::to_string(text.size()));
  }
  if (!policy::IsDisplaySafeText(text)) {
    return FieldError(context, what, "contains control or bidirectional characters");
  }
  return text;
}

}  // namespace

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

util::Result<Json> ParseObject(std::string_view body, std::string_view context, size_t max_size,
                               size_t max_depth) {
  if (body.size() > max_size) {
    return Invalid(context, "body of " + std::to_string(body.size()) +
                                " bytes is larger than the limit of " + std::to_string(max_size));
  }
  // The parser would skip it silently; another parser might not.
  if (body.substr(0, 3) == "\xef\xbb\xbf") return Invalid(context, "byte order mark");
  StrictDomBuilder builder(max_depth);
  bool parsed = false;
  try {
    parsed = Json::sax_parse(body.begin(), body.end(), &builder, Json::input_format_t::json,
                             /*strict=*/true, /*ignore_comments=*/false);
  } catch (const Json::exception&) {
    // sax_parse reports errors through the handler; this is a safety net.
    return Invalid(context, "malformed json");
  }
  if (!parsed) {
    return Invalid(context, builder.error().empty() ? "malformed json" : builder.error());
  }
  if (!builder.root().is_object()) {
    return Invalid(context, "expected a json object, got " + TypeName(builder.root()));
  }
  return std::move(builder.root());
}

util::Status OnlyFields(const Json& object, std::initializer_list<std::string_view> names,
                        std::string_view context) {
  CHECK(object.is_object());
  // Keys are visited in byte order, so the error names the same field every time.
  for (const auto& item : object.items()) {
    if (std::find(names.begin(), names.end(), item.key()) == names.end()) {
      return Invalid(context, "unknown field " + Quoted(item.key()));
    }
  }
  return util::OkStatus();
}

util::Status ExpectObject(const Json& item, std::string_view context) {
  if (!item.is_object()) return Invalid(context, "expected an object, got " + TypeName(item));
  return util::OkStatus();
}

bool HasField(const Json& object, std::string_view name) {
  CHECK(object.is_object());
  return object.find(name) != object.end();
}

util::Result<const Json*> Field(const Json& object, std::string_view name,
                                std::string_view context) {
  CHECK(object.is_object());
  const auto it = object.find(name);
  if (it == object.end()) return Invalid(context, "missing field " + Quoted(name));
  return &*it;
}

util::Result<std::string_view> StringField(const Json& object, std::string_view name,
                                           std::string_view context) {
  util::Result<const Json*> value = Field(object, name, context);
  if (!value.ok()) return value.status();
  if (!(*value)->is_string()) return TypeError(context, name, "a string", **value);
  return std::string_view((*value)->get_ref<const std::string&>());
}

util::Result<uint64_t> UintField(const Json& object, std::string_view name,
                                 std::string_view context) {
  util::Result<const Json*> value = Field(object, name, context);
  if (!value.ok()) return value.status();
  // Integers that do not fit 64 bits, and any number with a fraction or exponent, are parsed as
  // floating point and refused here.
  if (!(*value)->is_number_unsigned()) {
    return TypeError(context, name, "an unsigned integer", **value);
  }
  return (*value)->get<uint64_t>();
}

util::Result<bool> BoolField(const Json& object, std::string_view name, std::string_view context) {
  util::Result<const Json*> value = Field(object, name, context);
  if (!value.ok()) return value.status();
  if (!(*value)->is_boolean()) return TypeError(context, name, "a boolean", **value);
  return (*value)->get<bool>();
}

util::Result<const Json*> ObjectField(const Json& object, std::string_view name,
                                      std::string_view context) {
  util::Result<const Json*> value = Field(object, name, context);
  if (!value.ok()) return value.status();
  if (!(*value)->is_object()) return TypeError(context, name, "an object", **value);
  return value;
}

util::Result<const Json*> ArrayField(const Json& object, std::string_view name, size_t min,
                                     size_t max, std::string_view context) {
  util::Result<const Json*> value = Field(object, name, context);
  if (!value.ok()) return value.status();
  if (!(*value)->is_array()) return TypeError(context, name, "an array", **value);
  const size_t size = (*value)->size();
  if (size < min || size > max) {
    return FieldError(context, name,
                      "must have " + std::to_string(min) + ".." + std::to_string(max) +
                          " items, not " + std::to_string(size));
  }
  return value;
}

util::Status CheckVersion(const Json& object, uint64_t version, std::string_view context) {
  util::Result<uint64_t> value = UintField(object, "version", context);
  if (!value.ok()) return value.status();
  if (*value != version) {
    return FieldError(context, "version",
                      "unsupported version " + std::to_string(*value) + " (expected " +
                          std::to_string(version) + ")");
  }
  return util::OkStatus();
}

util::Result<std::vector<uint8_t>> HexField(const Json& object, std::string_view name, size_t size,
                                            std::string_view context) {
  util::Result<const Json*> value = Field(object, name, context);
  if (!value.ok()) return value.status();
  if (!(*value)->is_string()) return TypeError(context, name, "a hex string", **value);
  const std::string& text = (*value)->get_ref<const std::string&>();
  if (text.size() != 2 * size || !IsLowerHex(text)) {
    return FieldError(context, name,
                      "expected " + std::to_string(2 * size) + " lowercase hex characters");
  }
  return util::HexDecode(text);
}

util::Result<std::vector<uint8_t>> Base64Field(const Json& object, std::string_view name,
                                               size_t min_size, size_t max_size,
                                               std::string_view context) {
  util::Result<const Json*> value = Field(object, name, context);
  if (!value.ok()) return value.status();
  return DecodeBase64Value(**value, name, min_size, max_size, context);
}

util::Result<std::vector<uint8_t>> Base64Item(const Json& item, std::string_view what,
                                              size_t min_size, size_t max_size,
                                              std::string_view context) {
  return DecodeBase64Value(item, what, min_size, max_size, context);
}

util::Result<std::string> TextField(const Json& object, std::string_view name, size_t min_size,
                                    size_t max_size, std::string_view context) {
  util::Result<const Json*> value = Field(object, name, context);
  if (!value.ok()) return value.status();
  return DecodeTextValue(**value, name, min_size, max_size, context);
}

util::Result<std::string> TextItem(const Json& item, std::string_view what, size_t min_size,
                                   size_t max_size, std::string_view context) {
  return DecodeTextValue(item, what, min_size, max_size, context);
}

std::string Dump(const nlohmann::ordered_json& value) {
  try {
    return value.dump(-1, ' ', /*ensure_ascii=*/false,
                      nlohmann::ordered_json::error_handler_t::replace);
  } catch (const nlohmann::ordered_json::exception&) {
    // With error_handler_t::replace, dump does not throw; reaching this is a bug.
    CHECK(false);
  }
  return {};
}

}  // namespace kinko::signerapi::internal
