// Properties: an accepted Bech32/Bech32m string re-encodes to its lowercase form; any 5-bit
// data encodes to a string that decodes back to it; 8->5->8 bit conversion is the identity.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "btc/bech32.h"
#include "util/check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kinko::btc;
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  kinko::util::Result<Bech32Decoded> decoded = Bech32Decode(text);
  if (decoded.ok()) {
    std::string lower(text);
    for (char& c : lower) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    CHECK(Bech32Encode(decoded->encoding, decoded->hrp, decoded->values5) == lower);
  }

  std::vector<uint8_t> values;
  for (size_t i = 0; i < size; ++i) values.push_back(data[i] & 31);
  for (Bech32Encoding encoding : {Bech32Encoding::kBech32, Bech32Encoding::kBech32m}) {
    const std::string encoded = Bech32Encode(encoding, "fz", values);
    kinko::util::Result<Bech32Decoded> back = Bech32Decode(encoded);
    CHECK(back.ok() == (encoded.size() <= kBech32MaxLength));
    if (back.ok()) {
      CHECK(back->encoding == encoding && back->hrp == "fz" && back->values5 == values);
    }
  }

  const std::span<const uint8_t> bytes(data, size);
  kinko::util::Result<std::vector<uint8_t>> regrouped = ConvertBits5To8(ConvertBits8To5(bytes));
  CHECK(regrouped.ok() &&
        std::equal(regrouped->begin(), regrouped->end(), bytes.begin(), bytes.end()));
  return 0;
}
