// The velocity state file of `kinko policy check --state`: what already left each wallet, as
// JSON (doc/policy.md "The velocity state file"):
//
//   {"spends": [{"wallet": "hot", "time": 1767225600, "amount_sat": 150000000}, ...]}
//
// Parsing is strict: every spend has exactly these three fields, a valid wallet id
// (policy::IsValidWalletId), a time of at most policy::kMaxTime seconds since the Unix epoch
// and an amount of at most 21 million BTC in satoshi; any other field is refused.
//
// Thread-safe: pure functions.
#ifndef KINKO_CLI_VELOCITY_STATE_H_
#define KINKO_CLI_VELOCITY_STATE_H_

#include <string_view>
#include <vector>

#include "cli/json_output.h"
#include "policy/evaluate.h"
#include "util/result.h"

namespace kinko::cli {

// The velocity state in the JSON `text`. `source` names it in messages. Fails with
// kInvalidArgument "`source`: not valid JSON", "`source`: expected {"spends": [...]}" or
// "`source`: spends[N].field: ..." naming the first spend and field that is wrong.
util::Result<policy::VelocityState> ParseVelocityState(std::string_view text,
                                                       std::string_view source);

// The spends as the file holds them: {"spends": [...]}. ParseVelocityState reads it back.
Json VelocityStateJson(const std::vector<policy::Spend>& spends);

}  // namespace kinko::cli

#endif  // KINKO_CLI_VELOCITY_STATE_H_
