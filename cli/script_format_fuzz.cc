// Fuzz target for the script text of `kinko tx decode`: any bytes as a script.
// Properties: ScriptSigToAsm marks exactly the scripts with a truncated push ("[error]"), and
// agrees with btc::ToAsm on scripts without signature-like pushes; the inferred descriptor
// carries its own BIP380 checksum, and changing any one character of it changes the checksum.
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>

#include "btc/address.h"
#include "btc/descriptor.h"
#include "btc/script.h"
#include "cli/descriptor_format.h"
#include "cli/script_format.h"

namespace {

void Check(bool condition) {
  if (!condition) std::abort();
}

// True when some push of more than 4 bytes is a strict DER signature (the only pushes
// ScriptSigToAsm prints differently from ToAsm).
bool HasSignatureLikePush(const kinko::btc::Script& script) {
  size_t pos = 0;
  while (pos < script.size()) {
    std::optional<kinko::btc::ScriptOp> op = kinko::btc::GetOp(script.bytes(), &pos);
    if (!op) return false;
    if (op->opcode <= 0x4e && op->data.size() > 4 && kinko::cli::IsStrictDerSignature(op->data)) {
      return true;
    }
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const kinko::btc::Script script(std::span<const uint8_t>(data, size));
  const std::string asm_text = kinko::cli::ScriptSigToAsm(script);
  Check((asm_text.find("[error]") != std::string::npos) == !kinko::btc::IsWellFormed(script));
  if (!HasSignatureLikePush(script)) Check(asm_text == kinko::btc::ToAsm(script));

  const std::string descriptor = kinko::cli::InferDescriptor(script, kinko::btc::Network::kMainnet);
  const size_t hash = descriptor.rfind('#');
  Check(hash != std::string::npos && descriptor.size() == hash + 9);
  const std::string body = descriptor.substr(0, hash);
  const std::string checksum = kinko::btc::DescriptorChecksum(body);
  Check(!checksum.empty() && checksum == descriptor.substr(hash + 1));
  // BIP380's code detects every single-character substitution.
  if (!body.empty()) {
    std::string changed = body;
    const size_t at = size % body.size();
    changed[at] = changed[at] == '0' ? '1' : '0';
    const std::string other = kinko::btc::DescriptorChecksum(changed);
    Check(!other.empty() && other != checksum);
  }
  return 0;
}
