// Bitcoin amounts: a whole number of satoshi in [0, 21,000,000 BTC], and the decimal BTC strings
// people read and type (Bitcoin Core's ValueFromAmount / AmountFromValue notation).
//
// Inside kinko amounts are always integers in satoshi (DESIGN.md section 10); decimal strings
// appear only at the edges, for humans.
//
// Thread-safe: Amount is an immutable value type; the functions are pure.
#ifndef KINKO_BTC_AMOUNT_H_
#define KINKO_BTC_AMOUNT_H_

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "util/result.h"

namespace kinko::btc {

// Satoshi per bitcoin.
inline constexpr int64_t kCoin = 100'000'000;
// Bitcoin Core's MAX_MONEY: no amount (an output, a sum of outputs, a fee) may exceed it.
inline constexpr int64_t kMaxMoney = 21'000'000 * kCoin;

// True when 0 <= `sats` <= kMaxMoney (Core's MoneyRange).
constexpr bool MoneyRange(int64_t sats) { return sats >= 0 && sats <= kMaxMoney; }

// A number of satoshi in [0, kMaxMoney]. An Amount that exists is in range.
// Copyable and movable.
class Amount final {
 public:
  // Zero satoshi.
  static constexpr Amount Zero() { return Amount(0); }

  // Returns the amount of `sats` satoshi. Fails with kInvalidArgument when `sats` is negative
  // or above kMaxMoney.
  static util::Result<Amount> FromSats(int64_t sats);

  // Parses a decimal number of bitcoin: one or more digits, optionally followed by '.' and 1 to
  // 8 digits ("0.5", "21000000", "0.00000001", "1.50000000"). The integer part has no
  // superfluous leading zero ("0.5" is accepted, "00.5" is not).
  // Fails with kInvalidArgument for: the empty string, a sign ("-1", "+1"), an exponent
  // ("1e3"), a missing integer part (".5"), a missing fraction after the point ("1."), more
  // than 8 decimals, any other character (spaces, commas), or a value above kMaxMoney.
  static util::Result<Amount> ParseBtc(std::string_view text);

  int64_t sats() const { return sats_; }

  // The amount in bitcoin with exactly 8 decimals, as Bitcoin Core's RPCs print amounts
  // (ValueFromAmount): 50000000 sats -> "0.50000000". ParseBtc(ToBtcString()) is the identity.
  std::string ToBtcString() const;

  // Returns `a` + `b`. Fails with kInvalidArgument when the sum exceeds kMaxMoney.
  static util::Result<Amount> Add(Amount a, Amount b);

  friend auto operator<=>(const Amount&, const Amount&) = default;

 private:
  constexpr explicit Amount(int64_t sats) : sats_(sats) {}
  int64_t sats_ = 0;
};

}  // namespace kinko::btc

#endif  // KINKO_BTC_AMOUNT_H_
