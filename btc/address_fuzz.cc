// Properties, on every network: an accepted address encodes back to itself (segwit addresses to
// their lowercase form) and that decodes to the same script; a script that has an address
// decodes from it to the same script and type; an accepted WIF key encodes back to itself.
//
// The input is read as an address, and also (after a first byte that chooses) as the payload of
// a string with a valid checksum: Base58Check, or Bech32 or Bech32m under one of the networks'
// prefixes with one 5-bit value per byte. So the checks behind the checksum (version bytes,
// lengths, witness versions, padding, BIP350's choice of checksum) are reached by more than the
// seeds.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "btc/address.h"
#include "btc/base58.h"
#include "btc/bech32.h"
#include "util/check.h"

namespace kinko::btc {
namespace {

void CheckDecode(std::string_view text, Network network) {
  kinko::util::Result<DecodedAddress> decoded = DecodeAddress(text, network);
  if (!decoded.ok()) return;
  CHECK(AddressTypeOf(decoded->script_pubkey) == decoded->type);
  kinko::util::Result<std::string> encoded = EncodeAddress(decoded->script_pubkey, network);
  CHECK(encoded.ok());
  std::string expected(text);
  if (decoded->witness_version.has_value()) {
    for (char& c : expected) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
  }
  CHECK(*encoded == expected);
}

void CheckWif(std::string_view text) {
  kinko::util::Result<WifKey> wif = DecodeWif(text);
  if (wif.ok()) CHECK(EncodeWif(wif->key, wif->compressed, wif->network) == text);
}

}  // namespace
}  // namespace kinko::btc

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kinko::btc;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::span<const uint8_t> bytes(data, size);
  const Script script(bytes);
  constexpr Network kNetworks[] = {Network::kMainnet, Network::kTestnet, Network::kSignet,
                                   Network::kRegtest};

  for (Network network : kNetworks) {
    CheckDecode(text, network);

    kinko::util::Result<std::string> address = EncodeAddress(script, network);
    CHECK(address.ok() == AddressTypeOf(script).has_value());
    if (address.ok()) {
      kinko::util::Result<DecodedAddress> back = DecodeAddress(*address, network);
      CHECK(back.ok());
      CHECK(back->script_pubkey == script);
      CHECK(back->type == *AddressTypeOf(script));
    }
  }

  CheckWif(text);

  // The first byte chooses a checksum and a network, the rest is the payload (Base58 is
  // quadratic: no longer than the longest payload by much). Every prefix goes with every
  // network, so that another network's address is among them.
  if (size >= 1 && size <= 91) {
    constexpr std::string_view kPrefixes[] = {"bc", "tb", "bcrt"};
    const Network network = kNetworks[data[0] & 3];
    const std::span<const uint8_t> payload = bytes.subspan(1);
    const unsigned kind = (data[0] >> 2) % 7;
    if (kind == 0) {
      const std::string base58 = Base58CheckEncode(payload);
      CheckDecode(base58, network);
      CheckWif(base58);
    } else {
      std::vector<uint8_t> values5(payload.begin(), payload.end());
      for (uint8_t& v : values5) v &= 31;
      const Bech32Encoding encoding = kind % 2 ? Bech32Encoding::kBech32 : Bech32Encoding::kBech32m;
      CheckDecode(Bech32Encode(encoding, kPrefixes[(kind - 1) / 2], values5), network);
    }
  }
  return 0;
}
