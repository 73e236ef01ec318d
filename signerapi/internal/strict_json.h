// Strict reading of JSON objects for signerapi's decoders: the one place that calls the JSON
// parser (nlohmann::json) on untrusted bytes, and the field readers that name every problem.
//
// Every error is kInvalidArgument "`context`: ..." where `context` names the object being read
// ("sign request", "sign request: intents[2]"). Names that come from the input (unknown field
// names) are quoted with every byte outside printable ASCII written as \xNN and cut at 64
// characters, so messages are safe to log and show.
//
// No exception leaves these functions.
//
// Thread-safe: pure functions.
#ifndef KINKO_SIGNERAPI_INTERNAL_STRICT_JSON_H_
#define KINKO_SIGNERAPI_INTERNAL_STRICT_JSON_H_

#include <array>
#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "util/hex.h"
#include "util/result.h"

namespace kinko::signerapi::internal {

using Json = nlohmann::json;

// Parses `body` as one JSON object. Fails when `body` is larger than `max_size` bytes, starts
// with a UTF-8 byte order mark, is not JSON (naming the byte offset), repeats a key within one
// object (naming the key), nests objects and arrays deeper than `max_depth`, or is not an
// object.
util::Result<Json> ParseObject(std::string_view body, std::string_view context, size_t max_size,
                               size_t max_depth);

// `text` with every byte outside printable ASCII (0x20..0x7e), and the backslash, written as
// \xNN; when that is longer than `max_size` bytes, cut to at most `max_size` bytes ending in
// "...". Requires max_size >= 3.
std::string Printable(std::string_view text, size_t max_size);

// OK when every key of `object` is one of `names`; otherwise "unknown field 'x'" for the first
// unknown key in byte order. Requires object.is_object().
util::Status OnlyFields(const Json& object, std::initializer_list<std::string_view> names,
                        std::string_view context);

// OK when `item` is an object; otherwise "`context`: expected an object, got T".
util::Status ExpectObject(const Json& item, std::string_view context);

// True when `object` has the key `name`. Requires object.is_object().
bool HasField(const Json& object, std::string_view name);

// The value of field `name`: "missing field 'name'" when absent. Requires object.is_object().
util::Result<const Json*> Field(const Json& object, std::string_view name,
                                std::string_view context);

// Typed fields. Fail as Field, and with "field 'name': expected T, got U" for another type.
util::Result<std::string_view> StringField(const Json& object, std::string_view name,
                                           std::string_view context);
// An unsigned integer written without fraction or exponent that fits 64 bits.
util::Result<uint64_t> UintField(const Json& object, std::string_view name,
                                 std::string_view context);
util::Result<bool> BoolField(const Json& object, std::string_view name, std::string_view context);
util::Result<const Json*> ObjectField(const Json& object, std::string_view name,
                                      std::string_view context);
// An array of `min`..`max` items.
util::Result<const Json*> ArrayField(const Json& object, std::string_view name, size_t min,
                                     size_t max, std::string_view context);

// OK when field "version" is the unsigned integer `version`.
util::Status CheckVersion(const Json& object, uint64_t version, std::string_view context);

// A string of lowercase hex of exactly `size` bytes.
util::Result<std::vector<uint8_t>> HexField(const Json& object, std::string_view name, size_t size,
                                            std::string_view context);
template <size_t N>
util::Result<std::array<uint8_t, N>> FixedHexField(const Json& object, std::string_view name,
                                                   std::string_view context) {
  util::Result<std::vector<uint8_t>> bytes = HexField(object, name, N, context);
  if (!bytes.ok()) return bytes.status();
  std::array<uint8_t, N> out{};
  std::copy(bytes->begin(), bytes->end(), out.begin());
  return out;
}

// A string of strict base64 (RFC 4648, padded, no whitespace) of `min_size`..`max_size` bytes.
util::Result<std::vector<uint8_t>> Base64Field(const Json& object, std::string_view name,
                                               size_t min_size, size_t max_size,
                                               std::string_view context);
// Decodes one item of an array of base64 strings, as Base64Field; `what` names the item
// ("approvals[3]").
util::Result<std::vector<uint8_t>> Base64Item(const Json& item, std::string_view what,
                                              size_t min_size, size_t max_size,
                                              std::string_view context);

// A string of `min_size`..`max_size` bytes of display-safe text (policy::IsDisplaySafeText).
util::Result<std::string> TextField(const Json& object, std::string_view name, size_t min_size,
                                    size_t max_size, std::string_view context);
// One item of an array of texts, as TextField.
util::Result<std::string> TextItem(const Json& item, std::string_view what, size_t min_size,
                                   size_t max_size, std::string_view context);

// Serializes `value` compactly, replacing invalid UTF-8 (there is none in what the encoders
// build) rather than throwing.
std::string Dump(const nlohmann::ordered_json& value);

}  // namespace kinko::signerapi::internal

#endif  // KINKO_SIGNERAPI_INTERNAL_STRICT_JSON_H_
