// JSON-RPC as Bitcoin Core speaks it (JSON-RPC 1.0 and 2.0, https://www.jsonrpc.org/specification;
// Bitcoin Core's doc/JSON-RPC-interface.md): the request text, the reply parsed without
// exceptions, typed readers of the reply's fields, and amounts read exactly from their decimal
// text. Used by BitcoinCoreChain (coordinator/bitcoin_core.h); internal to coordinator/.
//
// Amounts: Bitcoin Core writes BTC amounts as JSON numbers with 8 decimals ("0.00012345"). A
// double cannot hold every such number, so ParseJson keeps the literal text of every number
// written with a fraction or an exponent, in a `binary` value (JSON text never produces binary
// values, so a string from the node cannot pass for a number), and ParseBtcAmount reads that
// text as a decimal.
//
// Every error is kInvalidArgument naming what is wrong; text that comes from the node is passed
// through Printable. No exception leaves these functions.
//
// Thread-safe: pure functions.
#ifndef KINKO_COORDINATOR_INTERNAL_JSON_RPC_H_
#define KINKO_COORDINATOR_INTERNAL_JSON_RPC_H_

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "util/result.h"

namespace kinko::coordinator::json_rpc {

using Json = nlohmann::json;

// Objects and arrays nest at most this deep in a reply (Bitcoin Core's go 4 or 5 deep).
inline constexpr size_t kMaxDepth = 64;
// Node messages are cut to this many bytes in our errors.
inline constexpr size_t kMaxMessageSize = 300;

// Parses `text` as one JSON value (RFC 8259, no comments, no byte order mark). A number with a
// fraction or an exponent becomes a binary value holding its literal text (see above;
// DecimalText reads it). Fails when `text` is not JSON (naming the byte offset), repeats a key
// within one object, or nests deeper than kMaxDepth.
util::Result<Json> ParseJson(std::string_view text);

// The literal text of a number that ParseJson read with a fraction or an exponent
// ("0.00012345"), or nullopt when `value` is not one.
std::optional<std::string> DecimalText(const Json& value);

// The request object {"jsonrpc": "2.0", "id": `id`, "method": `method`, "params": `params`},
// compact. `params` is an array (positional) or an object (named); invalid UTF-8 in strings is
// replaced rather than thrown on.
std::string BuildRequest(std::string_view method, const Json& params, uint64_t id);

// An error the node answered (its "error" member).
struct RpcError {
  int64_t code = 0;     // Bitcoin Core's RPCErrorCode (src/rpc/protocol.h), e.g. -5, -26.
  std::string message;  // Printable, at most kMaxMessageSize bytes.
};

// A reply: the "result" member (any JSON, null included), or the error.
struct Reply {
  Json result;
  std::optional<RpcError> error;
};

// Parses the body of a reply to the request with `id`, in either version: 1.0 ("result" and
// "error" both present, one null) or 2.0 ("result" or "error"). Fails when the body is not JSON
// (as ParseJson) or not an object, when its "id" is not `id`, when "error" is neither null nor
// an object with an integer "code" and a string "message", or when neither an error nor
// "result" is present.
util::Result<Reply> ParseReply(std::string_view body, uint64_t id);

// Typed members of `object` (requires object.is_object()). Each fails with "missing field
// 'name'" when absent and "field 'name': expected T, got U" for another type.
util::Result<const Json*> Member(const Json& object, std::string_view name);
util::Result<std::string> StringMember(const Json& object, std::string_view name);
util::Result<bool> BoolMember(const Json& object, std::string_view name);
// An integer (no fraction, no exponent) that fits int64_t.
util::Result<int64_t> IntMember(const Json& object, std::string_view name);
// An amount in BTC, as ParseBtcAmount.
util::Result<int64_t> BtcAmountMember(const Json& object, std::string_view name);

// The satoshis of a BTC amount written as a JSON number: an integer, or a decimal with at most
// 8 digits after the point ("0.00012345", "21"), no exponent, not negative, at most 21,000,000
// BTC. Fails with kInvalidArgument naming the rule otherwise.
util::Result<int64_t> ParseBtcAmount(const Json& value);

// `sats` as Bitcoin Core writes it: "0.00012345" (8 decimals). Requires sats >= 0.
std::string FormatBtcAmount(int64_t sats);

// `text` with every byte outside printable ASCII (0x20..0x7e), and the backslash, written as
// \xNN, and cut to at most `max_size` bytes ending in "..." when longer. Requires max_size >= 3.
std::string Printable(std::string_view text, size_t max_size);

}  // namespace kinko::coordinator::json_rpc

#endif  // KINKO_COORDINATOR_INTERNAL_JSON_RPC_H_
