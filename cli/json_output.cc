#include "cli/json_output.h"

#include <cinttypes>
#include <cstdio>
#include <vector>

namespace kinko::cli {
namespace {

// The binary subtype that marks a RawNumber. nlohmann's binary values never come from JSON
// text, so no parsed input can carry this mark.
constexpr std::uint8_t kRawNumberSubtype = 0x6e;

void Indent(std::string& out, int depth) { out.append(static_cast<size_t>(depth) * 2, ' '); }

std::string DumpScalar(const Json& json) {
  return json.dump(-1, ' ', false, Json::error_handler_t::replace);
}

void Write(const Json& json, int depth, std::string& out) {
  switch (json.type()) {
    case Json::value_t::object: {
      if (json.empty()) {
        out += "{}";
        return;
      }
      out += "{\n";
      bool first = true;
      for (auto it = json.begin(); it != json.end(); ++it) {
        if (!first) out += ",\n";
        first = false;
        Indent(out, depth + 1);
        out += DumpScalar(Json(it.key()));
        out += ": ";
        Write(it.value(), depth + 1, out);
      }
      out += "\n";
      Indent(out, depth);
      out += "}";
      return;
    }
    case Json::value_t::array: {
      if (json.empty()) {
        out += "[]";
        return;
      }
      out += "[\n";
      bool first = true;
      for (const Json& item : json) {
        if (!first) out += ",\n";
        first = false;
        Indent(out, depth + 1);
        Write(item, depth + 1, out);
      }
      out += "\n";
      Indent(out, depth);
      out += "]";
      return;
    }
    case Json::value_t::binary: {
      const Json::binary_t& bytes = json.get_binary();
      if (bytes.has_subtype() && bytes.subtype() == kRawNumberSubtype) {
        out.append(bytes.begin(), bytes.end());
        return;
      }
      out += DumpScalar(json);
      return;
    }
    case Json::value_t::null:
    case Json::value_t::string:
    case Json::value_t::boolean:
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float:
    case Json::value_t::discarded:
      out += DumpScalar(json);
      return;
  }
}

}  // namespace

Json RawNumber(std::string_view text) {
  return Json::binary(std::vector<std::uint8_t>(text.begin(), text.end()), kRawNumberSubtype);
}

Json BtcValue(int64_t sats) {
  // Core: quotient and remainder of the magnitude, computed without negating INT64_MIN.
  const bool negative = sats < 0;
  int64_t quotient = sats / 100'000'000;
  int64_t remainder = sats % 100'000'000;
  if (negative) {
    quotient = -quotient;
    remainder = -remainder;
  }
  char text[40];
  std::snprintf(text, sizeof(text), "%s%" PRId64 ".%08" PRId64, negative ? "-" : "", quotient,
                remainder);
  return RawNumber(text);
}

std::string WriteJson(const Json& json) {
  std::string out;
  Write(json, 0, out);
  out += "\n";
  return out;
}

}  // namespace kinko::cli
