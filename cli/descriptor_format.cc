#include "cli/descriptor_format.h"

#include <array>
#include <cstdint>
#include <vector>

#include "btc/standard.h"
#include "crypto/secp256k1.h"
#include "util/hex.h"

namespace kinko::cli {
namespace {

// BIP380: the characters a descriptor may use, in groups of 32; a character's position gives
// its symbol (position mod 32) and group (position / 32).
constexpr std::string_view kInputCharset =
    "0123456789()[],'/*abcdefgh@:$%{}"
    "IJKLMNOPQRSTUVWXYZ&+-.;<=>?!^_|~"
    "ijklmnopqrstuvwxyzABCDEFGH`#\"\\ ";
constexpr std::string_view kChecksumCharset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

// BIP380's polymod: a BCH code over GF(32) with these generators.
uint64_t PolyMod(uint64_t c, int value) {
  const uint8_t top = static_cast<uint8_t>(c >> 35);
  c = ((c & 0x7ffffffffULL) << 5) ^ static_cast<uint64_t>(value);
  constexpr std::array<uint64_t, 5> kGenerator = {0xf5dee51989, 0xa9fdca3312, 0x1bab10e32d,
                                                  0x3706b1677a, 0x644d626ffd};
  for (int i = 0; i < 5; ++i) {
    if ((top >> i) & 1) c ^= kGenerator[static_cast<size_t>(i)];
  }
  return c;
}

std::string WithChecksum(const std::string& descriptor) {
  std::optional<std::string> checksum = DescriptorChecksum(descriptor);
  // Everything built here uses hex, Base58 or Bech32 characters, all in the charset.
  return descriptor + "#" + checksum.value_or("");
}

}  // namespace

std::optional<std::string> DescriptorChecksum(std::string_view descriptor) {
  uint64_t c = 1;
  int group = 0;
  int group_count = 0;
  for (char ch : descriptor) {
    const size_t pos = kInputCharset.find(ch);
    if (pos == std::string_view::npos) return std::nullopt;
    // Each character contributes its symbol; every three characters also their groups.
    c = PolyMod(c, static_cast<int>(pos & 31));
    group = group * 3 + static_cast<int>(pos >> 5);
    if (++group_count == 3) {
      c = PolyMod(c, group);
      group = 0;
      group_count = 0;
    }
  }
  if (group_count > 0) c = PolyMod(c, group);
  for (int i = 0; i < 8; ++i) c = PolyMod(c, 0);
  c ^= 1;
  std::string out(8, ' ');
  for (int i = 0; i < 8; ++i)
    out[static_cast<size_t>(i)] = kChecksumCharset[(c >> (5 * (7 - i))) & 31];
  return out;
}

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
