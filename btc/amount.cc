#include "btc/amount.h"

#include <string>

namespace kinko::btc {

util::Result<Amount> Amount::FromSats(int64_t sats) {
  if (!MoneyRange(sats)) {
    return util::InvalidArgumentError("amount " + std::to_string(sats) +
                                      " sats is outside [0, 21000000 btc]");
  }
  return Amount(sats);
}

util::Result<Amount> Amount::ParseBtc(std::string_view text) {
  if (text.empty()) return util::InvalidArgumentError("amount: empty string");
  const size_t point = text.find('.');
  const std::string_view integer = text.substr(0, point);
  const std::string_view fraction =
      point == std::string_view::npos ? std::string_view() : text.substr(point + 1);
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if ((c < '0' || c > '9') && i != point) {
      return util::InvalidArgumentError("amount: invalid character at position " +
                                        std::to_string(i));
    }
  }
  if (integer.empty()) return util::InvalidArgumentError("amount: missing digits before '.'");
  if (point != std::string_view::npos && fraction.empty()) {
    return util::InvalidArgumentError("amount: missing digits after '.'");
  }
  if (integer.size() > 1 && integer[0] == '0') {
    return util::InvalidArgumentError("amount: leading zero");
  }
  if (fraction.size() > 8) return util::InvalidArgumentError("amount: more than 8 decimals");
  // 21,000,000 has 8 digits; anything longer is out of range (and would overflow below).
  if (integer.size() > 8) return util::InvalidArgumentError("amount: above 21000000 btc");

  int64_t whole = 0;
  for (char c : integer) whole = whole * 10 + (c - '0');
  int64_t frac = 0;
  for (size_t i = 0; i < 8; ++i) {
    frac = frac * 10 + (i < fraction.size() ? fraction[i] - '0' : 0);
  }
  const int64_t sats = whole * kCoin + frac;
  if (sats > kMaxMoney) return util::InvalidArgumentError("amount: above 21000000 btc");
  return Amount(sats);
}

std::string Amount::ToBtcString() const {
  std::string frac = std::to_string(sats_ % kCoin);
  frac.insert(0, 8 - frac.size(), '0');
  return std::to_string(sats_ / kCoin) + "." + frac;
}

util::Result<Amount> Amount::Add(Amount a, Amount b) {
  // Both are <= kMaxMoney, so the sum cannot overflow int64.
  return FromSats(a.sats_ + b.sats_);
}

}  // namespace kinko::btc
