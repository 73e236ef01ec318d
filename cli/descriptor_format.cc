#include "cli/descriptor_format.h"

#include <string>

#include "btc/descriptor.h"
#include "btc/standard.h"
#include "crypto/secp256k1.h"
#include "util/hex.h"

namespace kinko::cli {
namespace {

// Everything built here uses hex, Base58 or Bech32 characters, all in the BIP380 charset.
std::string WithChecksum(const std::string& descriptor) {
  return descriptor + "#" + btc::DescriptorChecksum(descriptor);
}

}  // namespace

std::string InferDescriptor(const btc::Script& script, btc::Network network) {
  const btc::StandardScript standard = btc::Classify(script);
  switch (standard.kind) {
    case btc::ScriptKind::kP2pk:
      // Core's InferPubkey refuses hybrid keys; PublicKey::Parse does too.
      if (crypto::PublicKey::Parse(standard.solutions[0]).ok()) {
        return WithChecksum("pk(" + util::HexEncode(standard.solutions[0]) + ")");
      }
      break;
    case btc::ScriptKind::kMultisig: {
      std::string text = "multi(" + std::to_string(standard.solutions.front()[0]);
      bool valid = true;
      for (size_t i = 1; i + 1 < standard.solutions.size(); ++i) {
        valid = valid && crypto::PublicKey::Parse(standard.solutions[i]).ok();
        text += "," + util::HexEncode(standard.solutions[i]);
      }
      if (valid) return WithChecksum(text + ")");
      break;
    }
    case btc::ScriptKind::kP2tr:
      if (crypto::XOnlyPublicKey::Parse(standard.solutions[0]).ok()) {
        return WithChecksum("rawtr(" + util::HexEncode(standard.solutions[0]) + ")");
      }
      break;
    case btc::ScriptKind::kNonStandard:
    case btc::ScriptKind::kP2pkh:
    case btc::ScriptKind::kP2sh:
    case btc::ScriptKind::kNullData:
    case btc::ScriptKind::kP2wpkh:
    case btc::ScriptKind::kP2wsh:
    case btc::ScriptKind::kAnchor:
    case btc::ScriptKind::kWitnessUnknown:
      break;
  }
  util::Result<std::string> address = btc::EncodeAddress(script, network);
  if (address.ok()) return WithChecksum("addr(" + *address + ")");
  return WithChecksum("raw(" + util::HexEncode(script.bytes()) + ")");
}

}  // namespace kinko::cli
