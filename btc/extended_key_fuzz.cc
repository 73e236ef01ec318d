// Properties: an accepted extended key prints back to exactly the input; its public version
// parses; a non-hardened child of it names it as parent, and its private and public
// derivations agree.
//
// The input is read as the key's text, and also as the 78-byte payload behind a valid
// Base58Check checksum, so that the checks of the payload (version, depth and parent, key
// range and encoding) are reached by more than the seeds.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "btc/base58.h"
#include "btc/bip32.h"
#include "crypto/rng.h"
#include "crypto/secp256k1.h"
#include "util/check.h"

namespace kinko::btc {
namespace {

void CheckKey(const kinko::crypto::Secp256k1Context& ctx, std::string_view text) {
  kinko::util::Result<ExtendedKey> key = ExtendedKey::Parse(ctx, text);
  if (!key.ok()) return;
  CHECK(key->ToString() == text);
  const ExtendedKey xpub = key->Neuter();
  kinko::util::Result<ExtendedKey> xpub_again = ExtendedKey::Parse(ctx, xpub.ToString());
  CHECK(xpub_again.ok());
  CHECK(xpub_again->public_key() == key->public_key());

  kinko::util::Result<ExtendedKey> child = key->Derive(ctx, 1);
  if (child.ok()) {
    CHECK(child->parent_fingerprint() == key->Fingerprint());
    CHECK(child->depth() == key->depth() + 1);
    kinko::util::Result<ExtendedKey> public_child = xpub.Derive(ctx, 1);
    CHECK(public_child.ok());
    CHECK(public_child->ToString() == child->Neuter().ToString());
  }
}

}  // namespace
}  // namespace kinko::btc

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kinko::btc;
  static kinko::crypto::SystemRng rng;
  static const kinko::crypto::Secp256k1Context ctx = kinko::crypto::Secp256k1Context::Create(rng);
  CheckKey(ctx, std::string_view(reinterpret_cast<const char*>(data), size));
  // Longer payloads are refused by their length alone (and Base58 is quadratic).
  if (size <= 100) CheckKey(ctx, Base58CheckEncode(std::span<const uint8_t>(data, size)));
  return 0;
}
