// Key file parsers (both schemes): whatever Parse accepts serializes back to exactly the same
// bytes (the format has one encoding per file), and parsing that again gives the same fields.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "crypto/keyfile.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> input(data, size);
  kinko::util::Result<kinko::crypto::Secp256k1KeyFile> secp_file =
      kinko::crypto::Secp256k1KeyFile::Parse(input);
  if (secp_file.ok()) {
    const std::vector<uint8_t> bytes = secp_file->Serialize();
    if (bytes.size() != size || !std::equal(bytes.begin(), bytes.end(), input.begin())) {
      __builtin_trap();
    }
    kinko::util::Result<kinko::crypto::Secp256k1KeyFile> again =
        kinko::crypto::Secp256k1KeyFile::Parse(bytes);
    if (!again.ok() || again->label() != secp_file->label() ||
        again->public_info() != secp_file->public_info() ||
        !(again->public_key() == secp_file->public_key())) {
      __builtin_trap();
    }
  }
  kinko::util::Result<kinko::crypto::KeyFile> file = kinko::crypto::KeyFile::Parse(input);
  if (!file.ok()) return 0;
  const std::vector<uint8_t> bytes = file->Serialize();
  if (bytes.size() != size || !std::equal(bytes.begin(), bytes.end(), input.begin())) {
    __builtin_trap();
  }
  kinko::util::Result<kinko::crypto::KeyFile> again = kinko::crypto::KeyFile::Parse(bytes);
  if (!again.ok() || again->label() != file->label() || again->public_key() != file->public_key()) {
    __builtin_trap();
  }
  return 0;
}
