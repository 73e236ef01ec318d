// Intents: what a requester wants paid, signed at origin (DESIGN.md section 4,
// doc/intent-encoding.md, doc/decisions/0003-intents-and-approvals.md).
//
// An Intent is the signed content: version, a random 128-bit id, wallet id, network, outputs
// (address and amount in satoshi), a fee ceiling, the requester's key id, created and expiry
// times, an external reference and a memo. It has one canonical encoding (canonical CBOR, see
// policy/canonical.h) and a digest TaggedHash("kinko/intent/v1", encoding). A SignedIntent is an
// Intent with the requester's signature over that digest.
//
// Every Intent that exists is valid: its addresses decode on its network (btc::DecodeAddress) and
// are written in their one canonical form, amounts are in range, and its texts are safe to show
// (no control or bidirectional-override characters). Every SignedIntent that exists also carries
// a signature by its requester key over its digest. Whether that key is registered, the intent
// is allowed, or it was used before is the policy's question. Time is a parameter: nothing here
// reads a clock.
//
// Thread-safe: immutable values.
#ifndef KINKO_POLICY_INTENT_H_
#define KINKO_POLICY_INTENT_H_

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "btc/address.h"
#include "btc/amount.h"
#include "crypto/ed25519.h"
#include "policy/identity.h"
#include "util/result.h"

namespace kinko::policy {

inline constexpr uint64_t kIntentVersion = 1;
inline constexpr size_t kMaxIntentOutputs = 256;
inline constexpr size_t kMaxWalletIdSize = 64;
inline constexpr size_t kMaxExternalRefSize = 128;
inline constexpr size_t kMaxMemoSize = 1024;
inline constexpr size_t kMaxAddressSize = 100;
// 9999-12-31T23:59:59Z: times above it are refused (and stay exact in IEEE doubles).
inline constexpr uint64_t kMaxTime = 253402300799;

using IntentId = std::array<uint8_t, 16>;

struct IntentOutput {
  std::string address;
  btc::Amount amount = btc::Amount::Zero();

  friend bool operator==(const IntentOutput&, const IntentOutput&) = default;
};

// The most the requester accepts to pay in fees: an absolute amount, a rate, or both (then both
// bind). At least one is present.
struct FeeCeiling {
  std::optional<btc::Amount> max_fee;
  std::optional<uint64_t> max_rate_sat_per_kvb;  // Satoshi per 1000 virtual bytes.

  friend bool operator==(const FeeCeiling&, const FeeCeiling&) = default;
};

// The fields of an intent, as given to Intent::Create.
struct IntentFields {
  IntentId id{};
  std::string wallet;
  btc::Network network = btc::Network::kMainnet;
  std::vector<IntentOutput> outputs;
  FeeCeiling fee;
  KeyId requester{};
  uint64_t created = 0;  // Seconds since the Unix epoch.
  uint64_t expires = 0;  // Seconds since the Unix epoch; the intent is void from then on.
  std::string external_ref;
  std::string memo;

  friend bool operator==(const IntentFields&, const IntentFields&) = default;
};

// True when `text` is well-formed UTF-8 without C0 or C1 control characters, DEL, line or
// paragraph separators, or bidirectional formatting characters (so that what an approver reads
// is what is signed).
bool IsDisplaySafeText(std::string_view text);

// True when `wallet` is 1..64 characters of [A-Za-z0-9._:-].
bool IsValidWalletId(std::string_view wallet);

// Copyable and movable.
class Intent final {
 public:
  // Returns the intent of `fields`. Fails with kInvalidArgument naming the field when: the
  // wallet id is invalid; there are no outputs or more than 256; an address does not decode on
  // `network`, or is not in its canonical form (lowercase for segwit); an amount is zero; the
  // outputs sum to more than 21 million BTC; the fee ceiling is empty or above 21 million BTC;
  // created >= expires or expires > kMaxTime; the external reference (128 bytes) or memo (1024
  // bytes) is too long or not display-safe.
  static util::Result<Intent> Create(IntentFields fields);

  // Decodes the canonical encoding of an intent and checks it as Create does. Fails with
  // kInvalidArgument naming the byte and field for any non-canonical encoding, an unknown
  // version, or any rule of Create.
  static util::Result<Intent> Decode(std::span<const uint8_t> bytes);
  // Decodes an intent inside a larger object.
  static util::Result<Intent> DecodeFrom(CborReader& reader);

  // The canonical encoding. Decode(Encode()) gives back an equal intent.
  const std::vector<uint8_t>& Encode() const { return encoding_; }
  // TaggedHash("kinko/intent/v1", Encode()).
  const Digest& digest() const { return digest_; }

  const IntentFields& fields() const { return fields_; }
  // The output scripts of the outputs' addresses, in order.
  const std::vector<btc::Script>& output_scripts() const { return scripts_; }
  // The sum of the outputs' amounts.
  btc::Amount total() const { return total_; }

  // True when the intent is void at `now` (now >= expires).
  bool IsExpiredAt(uint64_t now) const { return now >= fields_.expires; }

  friend bool operator==(const Intent& a, const Intent& b) { return a.encoding_ == b.encoding_; }

 private:
  Intent() = default;
  IntentFields fields_;
  std::vector<btc::Script> scripts_;
  btc::Amount total_ = btc::Amount::Zero();
  std::vector<uint8_t> encoding_;
  Digest digest_{};
};

// An intent with its requester's signature. Copyable and movable.
//
// Encoding: map {0: intent, 1: signature object (policy/identity.h)}.
class SignedIntent final {
 public:
  // Signs `intent` with `key`. Fails with kInvalidArgument when the key's id is not the
  // intent's requester key id.
  static util::Result<SignedIntent> Sign(Intent intent, const crypto::Ed25519PrivateKey& key);

  // Decodes a signed intent and verifies the requester's signature. Fails with kInvalidArgument
  // for a non-canonical or invalid encoding (as Intent::Decode), and with kPermissionDenied
  // "intent ...: requester signature: ..." when the signature's key is not the requester key or
  // the signature does not verify over the intent's digest (an altered intent).
  static util::Result<SignedIntent> Decode(std::span<const uint8_t> bytes);

  // The canonical encoding. Decode(Encode()) gives back an equal signed intent.
  std::vector<uint8_t> Encode() const;

  const Intent& intent() const { return intent_; }
  const Signature& signature() const { return signature_; }

  friend bool operator==(const SignedIntent&, const SignedIntent&) = default;

 private:
  SignedIntent(Intent intent, Signature signature)
      : intent_(std::move(intent)), signature_(signature) {}
  Intent intent_;
  Signature signature_;
};

}  // namespace kinko::policy

#endif  // KINKO_POLICY_INTENT_H_
