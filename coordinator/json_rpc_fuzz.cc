// The JSON-RPC reply parser (coordinator/internal/json_rpc.h) on arbitrary bytes: what a
// Bitcoin Core node, or whatever answers at its address, sends kinkod. Properties:
//   - every refusal is kInvalidArgument; no exception, no crash;
//   - an accepted reply is an error (with a printable message of at most kMaxMessageSize
//     bytes) or a result;
//   - every amount the typed readers accept is within 0..21e6 BTC and formats back to text
//     that parses to the same satoshis;
//   - Printable's output is printable ASCII within its bound.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "coordinator/internal/json_rpc.h"

namespace {

namespace json_rpc = kinko::coordinator::json_rpc;
using json_rpc::Json;
using kinko::util::Result;
using kinko::util::StatusCode;

void Require(bool condition) {
  if (!condition) __builtin_trap();
}

bool IsPrintable(std::string_view text) {
  for (const char c : text) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

void CheckAmount(const Json& value) {
  Result<int64_t> sats = json_rpc::ParseBtcAmount(value);
  if (!sats.ok()) {
    Require(sats.status().code() == StatusCode::kInvalidArgument);
    return;
  }
  Require(*sats >= 0 && *sats <= 2'100'000'000'000'000);
  Result<Json> again = json_rpc::ParseJson(json_rpc::FormatBtcAmount(*sats));
  Require(again.ok());
  Result<int64_t> same = json_rpc::ParseBtcAmount(*again);
  Require(same.ok() && *same == *sats);
}

// Runs the typed readers over every member of every object (bounded by the parser's depth).
void Walk(const Json& value) {
  if (value.is_object()) {
    for (const auto& item : value.items()) {
      const std::string& name = item.key();
      (void)json_rpc::StringMember(value, name);
      (void)json_rpc::BoolMember(value, name);
      (void)json_rpc::IntMember(value, name);
      Result<int64_t> amount = json_rpc::BtcAmountMember(value, name);
      Require(amount.ok() || amount.status().code() == StatusCode::kInvalidArgument);
      CheckAmount(item.value());
      Walk(item.value());
    }
  } else if (value.is_array()) {
    for (const Json& item : value) Walk(item);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  Result<json_rpc::Reply> reply = json_rpc::ParseReply(input, 1);
  if (!reply.ok()) {
    Require(reply.status().code() == StatusCode::kInvalidArgument);
  } else if (reply->error) {
    Require(reply->result.is_null());
    Require(IsPrintable(reply->error->message));
    Require(reply->error->message.size() <= json_rpc::kMaxMessageSize);
  }

  Result<Json> document = json_rpc::ParseJson(input);
  if (document.ok()) {
    CheckAmount(*document);
    Walk(*document);
  } else {
    Require(document.status().code() == StatusCode::kInvalidArgument);
  }

  const std::string printable = json_rpc::Printable(input, 64);
  Require(printable.size() <= 64 && IsPrintable(printable));
  return 0;
}
