// Properties, on every network: an accepted address encodes back to itself (segwit addresses to
// their lowercase form) and that decodes to the same script; a script that has an address
// decodes from it to the same script and type; an accepted WIF key encodes back to itself.
#include <cstdint>
#include <string>
#include <string_view>

#include "btc/address.h"
#include "util/check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kinko::btc;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const Script script(std::span<const uint8_t>(data, size));

  for (Network network :
       {Network::kMainnet, Network::kTestnet, Network::kSignet, Network::kRegtest}) {
    kinko::util::Result<DecodedAddress> decoded = DecodeAddress(text, network);
    if (decoded.ok()) {
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

    kinko::util::Result<std::string> address = EncodeAddress(script, network);
    CHECK(address.ok() == AddressTypeOf(script).has_value());
    if (address.ok()) {
      kinko::util::Result<DecodedAddress> back = DecodeAddress(*address, network);
      CHECK(back.ok());
      CHECK(back->script_pubkey == script);
      CHECK(back->type == *AddressTypeOf(script));
    }
  }

  // An accepted WIF key encodes back to itself.
  kinko::util::Result<WifKey> wif = DecodeWif(text);
  if (wif.ok()) CHECK(EncodeWif(wif->key, wif->compressed, wif->network) == text);
  return 0;
}
