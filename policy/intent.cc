#include "policy/intent.h"

#include <algorithm>
#include <utility>

#include "crypto/hash.h"
#include "util/hex.h"

namespace kinko::policy {
namespace {

// DO NOT CHANGE: the map keys of the intent encoding (doc/intent-encoding.md).
enum IntentKey : uint64_t {
  kKeyVersion = 0,
  kKeyId = 1,
  kKeyWallet = 2,
  kKeyNetwork = 3,
  kKeyOutputs = 4,
  kKeyFee = 5,
  kKeyRequester = 6,
  kKeyCreated = 7,
  kKeyExpires = 8,
  kKeyExternalRef = 9,
  kKeyMemo = 10,
};
constexpr uint64_t kIntentKeyCount = 11;

constexpr std::array<btc::Network, 4> kNetworks = {btc::Network::kMainnet, btc::Network::kTestnet,
                                                   btc::Network::kSignet, btc::Network::kRegtest};

// Decodes one code point of well-formed UTF-8 at `i` and advances `i`.
uint32_t NextCodePoint(std::string_view text, size_t& i) {
  const uint8_t b = static_cast<uint8_t>(text[i]);
  size_t extra = b < 0x80 ? 0 : (b & 0xe0) == 0xc0 ? 1 : (b & 0xf0) == 0xe0 ? 2 : 3;
  uint32_t code = extra == 0 ? b : extra == 1 ? (b & 0x1f) : extra == 2 ? (b & 0x0f) : (b & 0x07);
  for (size_t k = 1; k <= extra; ++k)
    code = (code << 6) | (static_cast<uint8_t>(text[i + k]) & 0x3f);
  i += 1 + extra;
  return code;
}

util::Status InvalidField(std::string_view field, std::string_view reason) {
  return util::InvalidArgumentError("intent " + std::string(field) + ": " + std::string(reason));
}

util::Status CheckText(std::string_view field, std::string_view text, size_t max_size) {
  if (text.size() > max_size) {
    return InvalidField(field, "longer than " + std::to_string(max_size) + " bytes");
  }
  if (!IsDisplaySafeText(text)) {
    return InvalidField(field, "not utf-8, or contains control or bidirectional characters");
  }
  return util::OkStatus();
}

}  // namespace

bool IsDisplaySafeText(std::string_view text) {
  if (!IsValidUtf8(text)) return false;
  size_t i = 0;
  while (i < text.size()) {
    const uint32_t c = NextCodePoint(text, i);
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return false;       // C0, DEL, C1.
    if (c == 0x061c || c == 0x200e || c == 0x200f) return false;  // ALM, LRM, RLM.
    if (c >= 0x2028 && c <= 0x202e) return false;  // Line/paragraph separators, embeddings.
    if (c >= 0x2066 && c <= 0x2069) return false;  // Isolates.
  }
  return true;
}

bool IsValidWalletId(std::string_view wallet) {
  if (wallet.empty() || wallet.size() > kMaxWalletIdSize) return false;
  return std::all_of(wallet.begin(), wallet.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == ':' || c == '-';
  });
}

util::Result<Intent> Intent::Create(IntentFields fields) {
  if (!IsValidWalletId(fields.wallet)) {
    return InvalidField("wallet", "must be 1..64 characters of [A-Za-z0-9._:-]");
  }
  if (fields.outputs.empty() || fields.outputs.size() > kMaxIntentOutputs) {
    return InvalidField("outputs", "must have 1..256 outputs");
  }
  Intent intent;
  btc::Amount total = btc::Amount::Zero();
  for (size_t i = 0; i < fields.outputs.size(); ++i) {
    const IntentOutput& output = fields.outputs[i];
    const std::string field = "output " + std::to_string(i);
    // Checked against the network here, and again whenever an intent is decoded.
    util::Result<btc::DecodedAddress> decoded = btc::DecodeAddress(output.address, fields.network);
    if (!decoded.ok()) {
      return decoded.status().WithPrefix("intent " + field + " address");
    }
    // One intent, one encoding: the address must be the one string its script encodes to.
    util::Result<std::string> canonical =
        btc::EncodeAddress(decoded->script_pubkey, fields.network);
    if (!canonical.ok() || *canonical != output.address) {
      return InvalidField(field + " address",
                          "not in canonical form (segwit addresses are lowercase)");
    }
    if (output.amount.sats() == 0) return InvalidField(field + " amount", "zero");
    util::Result<btc::Amount> sum = btc::Amount::Add(total, output.amount);
    if (!sum.ok()) return InvalidField("outputs", "sum above 21 million BTC");
    total = *sum;
    intent.scripts_.push_back(decoded->script_pubkey);
  }
  if (!fields.fee.max_fee && !fields.fee.max_rate_sat_per_kvb) {
    return InvalidField("fee ceiling", "needs a maximum fee, a maximum rate, or both");
  }
  if (fields.fee.max_rate_sat_per_kvb &&
      *fields.fee.max_rate_sat_per_kvb > static_cast<uint64_t>(btc::kMaxMoney)) {
    return InvalidField("fee ceiling", "rate above 21 million BTC per kvB");
  }
  if (fields.created >= fields.expires) {
    return InvalidField("expires", "must be after created");
  }
  if (fields.expires > kMaxTime) return InvalidField("expires", "after year 9999");
  if (util::Status s = CheckText("external reference", fields.external_ref, kMaxExternalRefSize);
      !s.ok()) {
    return s;
  }
  if (util::Status s = CheckText("memo", fields.memo, kMaxMemoSize); !s.ok()) return s;

  CborWriter writer;
  writer.MapHeader(kIntentKeyCount);
  writer.Uint(kKeyVersion);
  writer.Uint(kIntentVersion);
  writer.Uint(kKeyId);
  writer.Bytes(fields.id);
  writer.Uint(kKeyWallet);
  writer.Text(fields.wallet);
  writer.Uint(kKeyNetwork);
  writer.Text(btc::NetworkName(fields.network));
  writer.Uint(kKeyOutputs);
  writer.ArrayHeader(fields.outputs.size());
  for (const IntentOutput& output : fields.outputs) {
    writer.MapHeader(2);
    writer.Uint(0);
    writer.Text(output.address);
    writer.Uint(1);
    writer.Uint(static_cast<uint64_t>(output.amount.sats()));
  }
  writer.Uint(kKeyFee);
  writer.MapHeader((fields.fee.max_fee ? 1 : 0) + (fields.fee.max_rate_sat_per_kvb ? 1 : 0));
  if (fields.fee.max_fee) {
    writer.Uint(0);
    writer.Uint(static_cast<uint64_t>(fields.fee.max_fee->sats()));
  }
  if (fields.fee.max_rate_sat_per_kvb) {
    writer.Uint(1);
    writer.Uint(*fields.fee.max_rate_sat_per_kvb);
  }
  writer.Uint(kKeyRequester);
  writer.Bytes(fields.requester);
  writer.Uint(kKeyCreated);
  writer.Uint(fields.created);
  writer.Uint(kKeyExpires);
  writer.Uint(fields.expires);
  writer.Uint(kKeyExternalRef);
  writer.Text(fields.external_ref);
  writer.Uint(kKeyMemo);
  writer.Text(fields.memo);

  intent.fields_ = std::move(fields);
  intent.total_ = total;
  intent.encoding_ = writer.bytes();
  intent.digest_ = crypto::TaggedHash(kIntentTag, intent.encoding_);
  return intent;
}

util::Result<Intent> Intent::Decode(std::span<const uint8_t> bytes) {
  CborReader reader(bytes, "intent");
  util::Result<Intent> intent = DecodeFrom(reader);
  if (!intent.ok()) return intent;
  if (util::Status end = reader.ExpectEnd(); !end.ok()) return end;
  return intent;
}

util::Result<Intent> Intent::DecodeFrom(CborReader& reader) {
  const size_t start = reader.offset();
  if (util::Result<uint64_t> n = reader.MapHeader("intent", kIntentKeyCount, kIntentKeyCount);
      !n.ok()) {
    return n.status();
  }
  IntentFields fields;
  for (uint64_t key = 0; key < kIntentKeyCount; ++key) {
    util::Result<uint64_t> k = reader.MapKey("intent key", static_cast<int64_t>(key) - 1, key);
    if (!k.ok()) return k.status();
    switch (static_cast<IntentKey>(key)) {
      case kKeyVersion: {
        util::Result<uint64_t> version = reader.Uint("version");
        if (!version.ok()) return version.status();
        if (*version != kIntentVersion) {
          return reader.Error("version", "unknown version " + std::to_string(*version));
        }
        break;
      }
      case kKeyId: {
        util::Result<std::vector<uint8_t>> id = reader.BytesExact("id", fields.id.size());
        if (!id.ok()) return id.status();
        std::copy(id->begin(), id->end(), fields.id.begin());
        break;
      }
      case kKeyWallet: {
        util::Result<std::string> wallet = reader.Text("wallet", kMaxWalletIdSize);
        if (!wallet.ok()) return wallet.status();
        fields.wallet = std::move(*wallet);
        break;
      }
      case kKeyNetwork: {
        util::Result<std::string> name = reader.Text("network", 16);
        if (!name.ok()) return name.status();
        const auto it = std::find_if(kNetworks.begin(), kNetworks.end(),
                                     [&](btc::Network n) { return btc::NetworkName(n) == *name; });
        if (it == kNetworks.end()) return reader.Error("network", "unknown network " + *name);
        fields.network = *it;
        break;
      }
      case kKeyOutputs: {
        util::Result<uint64_t> count = reader.ArrayHeader("outputs", 1, kMaxIntentOutputs);
        if (!count.ok()) return count.status();
        for (uint64_t i = 0; i < *count; ++i) {
          if (util::Result<uint64_t> n = reader.MapHeader("output", 2, 2); !n.ok()) {
            return n.status();
          }
          if (util::Result<uint64_t> k0 = reader.MapKey("output key", -1, 0); !k0.ok()) {
            return k0.status();
          }
          util::Result<std::string> address = reader.Text("output address", kMaxAddressSize);
          if (!address.ok()) return address.status();
          if (util::Result<uint64_t> k1 = reader.MapKey("output key", 0, 1); !k1.ok()) {
            return k1.status();
          }
          util::Result<uint64_t> sats = reader.Uint("output amount");
          if (!sats.ok()) return sats.status();
          if (*sats > static_cast<uint64_t>(btc::kMaxMoney)) {
            return reader.Error("output amount", "above 21 million BTC");
          }
          fields.outputs.push_back(
              IntentOutput{.address = std::move(*address),
                           .amount = btc::Amount::FromSats(static_cast<int64_t>(*sats)).value()});
        }
        break;
      }
      case kKeyFee: {
        util::Result<uint64_t> n = reader.MapHeader("fee ceiling", 1, 2);
        if (!n.ok()) return n.status();
        int64_t previous = -1;
        for (uint64_t i = 0; i < *n; ++i) {
          util::Result<uint64_t> fee_key = reader.MapKey("fee ceiling key", previous, 1);
          if (!fee_key.ok()) return fee_key.status();
          previous = static_cast<int64_t>(*fee_key);
          util::Result<uint64_t> value = reader.Uint("fee ceiling value");
          if (!value.ok()) return value.status();
          if (*fee_key == 0) {
            if (*value > static_cast<uint64_t>(btc::kMaxMoney)) {
              return reader.Error("fee ceiling", "maximum fee above 21 million BTC");
            }
            fields.fee.max_fee = btc::Amount::FromSats(static_cast<int64_t>(*value)).value();
          } else {
            fields.fee.max_rate_sat_per_kvb = *value;
          }
        }
        break;
      }
      case kKeyRequester: {
        util::Result<std::vector<uint8_t>> id =
            reader.BytesExact("requester", fields.requester.size());
        if (!id.ok()) return id.status();
        std::copy(id->begin(), id->end(), fields.requester.begin());
        break;
      }
      case kKeyCreated: {
        util::Result<uint64_t> t = reader.Uint("created");
        if (!t.ok()) return t.status();
        fields.created = *t;
        break;
      }
      case kKeyExpires: {
        util::Result<uint64_t> t = reader.Uint("expires");
        if (!t.ok()) return t.status();
        fields.expires = *t;
        break;
      }
      case kKeyExternalRef: {
        util::Result<std::string> text = reader.Text("external reference", kMaxExternalRefSize);
        if (!text.ok()) return text.status();
        fields.external_ref = std::move(*text);
        break;
      }
      case kKeyMemo: {
        util::Result<std::string> text = reader.Text("memo", kMaxMemoSize);
        if (!text.ok()) return text.status();
        fields.memo = std::move(*text);
        break;
      }
    }
  }
  util::Result<Intent> intent = Create(std::move(fields));
  if (!intent.ok()) return intent;
  // Invariant: the reader accepts only canonical forms, so the bytes read are the encoding.
  CHECK(intent->encoding_.size() == reader.offset() - start);
  return intent;
}

util::Result<SignedIntent> SignedIntent::Sign(Intent intent, const crypto::Ed25519PrivateKey& key) {
  if (Ed25519KeyId(key.public_key()) != intent.fields().requester) {
    return util::InvalidArgumentError("intent: the signing key is not the requester key");
  }
  const Signature signature = SignDigest(key, intent.digest());
  return SignedIntent(std::move(intent), signature);
}

std::vector<uint8_t> SignedIntent::Encode() const {
  CborWriter writer;
  writer.MapHeader(2);
  writer.Uint(0);
  std::vector<uint8_t> out = writer.bytes();
  out.insert(out.end(), intent_.Encode().begin(), intent_.Encode().end());
  CborWriter tail;
  tail.Uint(1);
  EncodeSignature(signature_, tail);
  out.insert(out.end(), tail.bytes().begin(), tail.bytes().end());
  return out;
}

util::Result<SignedIntent> SignedIntent::Decode(std::span<const uint8_t> bytes) {
  CborReader reader(bytes, "signed intent");
  if (util::Result<uint64_t> n = reader.MapHeader("signed intent", 2, 2); !n.ok()) {
    return n.status();
  }
  if (util::Result<uint64_t> k = reader.MapKey("signed intent key", -1, 0); !k.ok()) {
    return k.status();
  }
  util::Result<Intent> intent = Intent::DecodeFrom(reader);
  if (!intent.ok()) return intent.status();
  if (util::Result<uint64_t> k = reader.MapKey("signed intent key", 0, 1); !k.ok()) {
    return k.status();
  }
  util::Result<Signature> signature = DecodeSignature(reader);
  if (!signature.ok()) return signature.status();
  if (util::Status end = reader.ExpectEnd(); !end.ok()) return end;
  if (util::Status verified =
          VerifySignature(*signature, intent->fields().requester, intent->digest(), "requester");
      !verified.ok()) {
    return verified.WithPrefix("intent " + util::HexEncode(intent->fields().id));
  }
  return SignedIntent(std::move(*intent), *signature);
}

}  // namespace kinko::policy
