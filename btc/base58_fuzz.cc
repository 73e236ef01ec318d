// Properties: Base58 and Base58Check decoding is the inverse of encoding, both ways.
#include <cstdint>
#include <string_view>
#include <vector>

#include "btc/base58.h"
#include "util/check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kinko::btc;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::span<const uint8_t> bytes(data, size);

  // Any accepted string is the canonical encoding of what it decodes to.
  kinko::util::Result<std::vector<uint8_t>> decoded = Base58Decode(text, 1000);
  if (decoded.ok()) CHECK(Base58Encode(*decoded) == text);
  kinko::util::Result<std::vector<uint8_t>> payload = Base58CheckDecode(text, 1000);
  if (payload.ok()) CHECK(Base58CheckEncode(*payload) == text);

  // Any byte string survives encode -> decode.
  kinko::util::Result<std::vector<uint8_t>> back = Base58Decode(Base58Encode(bytes), size);
  CHECK(back.ok() && std::equal(back->begin(), back->end(), bytes.begin(), bytes.end()));
  kinko::util::Result<std::vector<uint8_t>> check_back =
      Base58CheckDecode(Base58CheckEncode(bytes), size);
  CHECK(check_back.ok() &&
        std::equal(check_back->begin(), check_back->end(), bytes.begin(), bytes.end()));
  return 0;
}
