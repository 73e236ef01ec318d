// Properties: an accepted descriptor prints (public and private forms) with a valid checksum;
// printing and parsing again is the identity on the printed text; the reparsed descriptor has
// the same flags and expands to the same scripts; every multipath part prints and parses.
#include <cstdint>
#include <string>
#include <string_view>

#include "btc/descriptor.h"
#include "crypto/rng.h"
#include "crypto/secp256k1.h"
#include "util/check.h"

namespace {

using kinko::btc::Descriptor;
using kinko::btc::DescriptorChecksum;
using kinko::btc::Network;

const kinko::crypto::Secp256k1Context& Ctx() {
  static kinko::crypto::SystemRng rng;
  static const kinko::crypto::Secp256k1Context ctx = kinko::crypto::Secp256k1Context::Create(rng);
  return ctx;
}

// `printed` ends in "#" and the checksum of what precedes it.
void CheckChecksum(const std::string& printed) {
  CHECK(printed.size() > 9);
  CHECK(printed[printed.size() - 9] == '#');
  CHECK(DescriptorChecksum(printed.substr(0, printed.size() - 9)) ==
        printed.substr(printed.size() - 8));
}

void CheckRoundTrip(const Descriptor& desc, Network network) {
  const std::string pub = desc.ToString();
  const std::string priv = desc.ToPrivateString();
  CheckChecksum(pub);
  CheckChecksum(priv);
  kinko::util::Result<Descriptor> pub_again = Descriptor::Parse(Ctx(), pub, network);
  CHECK(pub_again.ok());
  CHECK(pub_again->ToString() == pub);
  CHECK(!pub_again->HasPrivateKeys());
  kinko::util::Result<Descriptor> priv_again = Descriptor::Parse(Ctx(), priv, network);
  CHECK(priv_again.ok());
  CHECK(priv_again->ToPrivateString() == priv);
  CHECK(priv_again->ToString() == pub);
  CHECK(priv_again->IsRange() == desc.IsRange());
  CHECK(priv_again->IsSolvable() == desc.IsSolvable());
  CHECK(priv_again->HasPrivateKeys() == desc.HasPrivateKeys());
  CHECK(priv_again->MultipathCount() == desc.MultipathCount());
  if (desc.MultipathCount() != 1) return;
  kinko::util::Result<std::vector<kinko::btc::Script>> scripts = desc.ExpandScripts(Ctx(), 1);
  kinko::util::Result<std::vector<kinko::btc::Script>> again = priv_again->ExpandScripts(Ctx(), 1);
  CHECK(scripts.ok() == again.ok());
  if (scripts.ok()) CHECK(scripts.value() == again.value());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (Network network : {Network::kMainnet, Network::kTestnet}) {
    kinko::util::Result<Descriptor> desc = Descriptor::Parse(Ctx(), text, network);
    if (!desc.ok()) continue;
    CheckRoundTrip(desc.value(), network);
    if (desc->MultipathCount() > 1) {
      for (const Descriptor& part : desc->SplitMultipath()) {
        CHECK(part.MultipathCount() == 1);
        CheckRoundTrip(part, network);
      }
    }
  }
  return 0;
}
