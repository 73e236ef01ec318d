// The TOML form of a policy, as administrators write it (doc/policy.md), compiled to a Policy,
// and the human notations of amounts, durations and fee rates that it uses.
//
// The schema, with every key, is doc/examples/policy.toml: `network` (mainnet, testnet, signet
// or regtest), `sequence`, `activation_delay`, optional `predecessor`, tables `governance`,
// `keys`, optional `groups`, `limits`, and arrays of tables `address_book` and `rule`.
//
// Compilation is strict: an unknown key, a value of the wrong type, a name that is not defined,
// or anything Policy::Create refuses is an error that names the TOML key and its line. Nothing
// is defaulted silently except what doc/policy.md says is optional (a rule's destination
// defaults to "any" and its action to "allow"; an allow rule must still write `approvals = []`
// to need no approval).
//
// Thread-safe: pure functions.
#ifndef KINKO_POLICY_POLICY_TOML_H_
#define KINKO_POLICY_POLICY_TOML_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "btc/amount.h"
#include "policy/policy.h"
#include "util/result.h"

namespace kinko::policy {

// Compiles the TOML text of a policy. `source` names it in error messages ("policy.toml").
// Fails with kInvalidArgument "source:line:column: message" for a TOML syntax error, and
// "source:line: key: message" for anything else ("policy.toml:31: rule 'x':
// approvals[0].group: 'tresury' is not a group"). Bytes outside printable ASCII in messages are
// escaped (EscapeForMessage). No exception escapes.
util::Result<Policy> CompilePolicyToml(std::string_view text, std::string_view source);

// An amount with its unit: "10 BTC", "0.5btc", "1.25 BTC", "50000 sat", "50000 sats" (the
// space is optional; units are case-insensitive; BTC has at most 8 decimals, sat none). Fails
// with kInvalidArgument for anything else, a missing unit, or a value above 21 million BTC.
util::Result<btc::Amount> ParseAmountWithUnit(std::string_view text);

// A duration: a positive integer followed by s, m, h, d or w ("90s", "30m", "24h", "7d",
// "2w"), at most kMaxDuration. Returns seconds. Fails with kInvalidArgument otherwise.
util::Result<uint64_t> ParseDuration(std::string_view text);

// A fee rate: "300 sat/vB" or "12.5 sat/vB" (at most 3 decimals; unit case-insensitive,
// space optional). Returns satoshi per 1000 virtual bytes. Fails with kInvalidArgument
// otherwise or above 21 million BTC per kvB.
util::Result<uint64_t> ParseFeeRate(std::string_view text);

// The shortest notation ParseDuration reads back: 86400 -> "1d", 5400 -> "90m".
std::string FormatDuration(uint64_t seconds);
// "12.5 sat/vB" for 12500 sat/kvB.
std::string FormatFeeRate(uint64_t sat_per_kvb);

}  // namespace kinko::policy

#endif  // KINKO_POLICY_POLICY_TOML_H_
