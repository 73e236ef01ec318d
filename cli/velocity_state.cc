#include "cli/velocity_state.h"

#include <cstdint>
#include <string>

#include "btc/amount.h"
#include "policy/intent.h"

namespace kinko::cli {

util::Result<policy::VelocityState> ParseVelocityState(std::string_view text,
                                                       std::string_view source) {
  const std::string name(source);
  // Without exceptions: a parse error gives a discarded value.
  const Json json = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return util::InvalidArgumentError(name + ": not valid JSON");
  if (!json.is_object() || json.size() != 1 || !json.contains("spends") ||
      !json["spends"].is_array()) {
    return util::InvalidArgumentError(name + ": expected {\"spends\": [...]}");
  }
  policy::VelocityState state;
  const Json& spends = json["spends"];
  for (size_t i = 0; i < spends.size(); ++i) {
    const Json& spend = spends[i];
    const std::string where = name + ": spends[" + std::to_string(i) + "]";
    if (!spend.is_object() || spend.size() != 3 || !spend.contains("wallet") ||
        !spend.contains("time") || !spend.contains("amount_sat")) {
      return util::InvalidArgumentError(where + ": expected {wallet, time, amount_sat}");
    }
    const Json& wallet = spend["wallet"];
    if (!wallet.is_string() || !policy::IsValidWalletId(wallet.get<std::string>())) {
      return util::InvalidArgumentError(where + ".wallet: expected a wallet id");
    }
    const Json& time = spend["time"];
    // is_number_unsigned: a non-negative integer (not a float, not negative).
    if (!time.is_number_unsigned() || time.get<uint64_t>() > policy::kMaxTime) {
      return util::InvalidArgumentError(where + ".time: expected seconds since 1970");
    }
    const Json& amount_sat = spend["amount_sat"];
    if (!amount_sat.is_number_unsigned() ||
        amount_sat.get<uint64_t>() > static_cast<uint64_t>(btc::kMaxMoney)) {
      return util::InvalidArgumentError(where +
                                        ".amount_sat: expected satoshi, at most 21 million BTC");
    }
    util::Result<btc::Amount> amount =
        btc::Amount::FromSats(static_cast<int64_t>(amount_sat.get<uint64_t>()));
    if (!amount.ok()) return amount.status().WithPrefix(where + ".amount_sat");
    state.spends.push_back(
        {.wallet = wallet.get<std::string>(), .time = time.get<uint64_t>(), .amount = *amount});
  }
  return state;
}

Json VelocityStateJson(const std::vector<policy::Spend>& spends) {
  Json list = Json::array();
  for (const policy::Spend& spend : spends) {
    Json item = Json::object();
    item["wallet"] = spend.wallet;
    item["time"] = spend.time;
    item["amount_sat"] = spend.amount.sats();
    list.push_back(std::move(item));
  }
  Json out = Json::object();
  out["spends"] = std::move(list);
  return out;
}

}  // namespace kinko::cli
