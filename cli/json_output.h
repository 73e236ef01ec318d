// JSON documents as the `kinko` command prints them: objects keep their insertion order (so a
// command prints Bitcoin Core's field order), and amounts print as JSON numbers with exactly
// eight decimals ("value": 0.00010000), as Bitcoin Core's ValueFromAmount does.
//
// Thread-safe: pure functions.
#ifndef KINKO_CLI_JSON_OUTPUT_H_
#define KINKO_CLI_JSON_OUTPUT_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace kinko::cli {

// An ordered JSON document.
using Json = nlohmann::ordered_json;

// A JSON number whose text is written verbatim by WriteJson. Requires `text` to be a valid JSON
// number (it comes from kinko's own formatting, never from input).
Json RawNumber(std::string_view text);

// An amount in satoshi as Bitcoin Core prints it: a JSON number in BTC with 8 decimals
// (-0.00000001, 0.50000000, 21000000.00000000). Any int64 is accepted: transactions may hold
// values outside the money range and Core prints them all the same.
Json BtcValue(int64_t sats);

// The text of `json`, indented by two spaces, with a final newline. Strings that are not
// valid UTF-8 have their bad bytes replaced (U+FFFD), so this never fails.
std::string WriteJson(const Json& json);

}  // namespace kinko::cli

#endif  // KINKO_CLI_JSON_OUTPUT_H_
