// Properties: an accepted key path or key origin prints to a canonical form that parses back to
// the same value and prints the same again.
#include <cstdint>
#include <string>
#include <string_view>

#include "btc/bip32.h"
#include "util/check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kinko::btc;
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  kinko::util::Result<KeyPath> path = KeyPath::Parse(text);
  if (path.ok()) {
    const std::string printed = path->ToString();
    kinko::util::Result<KeyPath> again = KeyPath::Parse(printed);
    CHECK(again.ok());
    CHECK(*again == *path);
    CHECK(again->ToString() == printed);
  }

  kinko::util::Result<KeyOrigin> origin = KeyOrigin::Parse(text);
  if (origin.ok()) {
    const std::string printed = origin->ToString();
    kinko::util::Result<KeyOrigin> again = KeyOrigin::Parse(printed);
    CHECK(again.ok());
    CHECK(*again == *origin);
    CHECK(again->ToString() == printed);
  }
  return 0;
}
