#include "cli/script_format.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "util/hex.h"

namespace kinko::cli {
namespace {

std::vector<uint8_t> Bytes(std::string_view hex) { return *util::HexDecode(hex); }

// Input 0's signature of BIP143's first example (DER, then SIGHASH_ALL).
constexpr std::string_view kSignature =
    "30450221008b9d1dc26ba6a9cb62127b02742fa9d754cd3bebf337f7a55d114c8e5cdd30be022040529b194ba3f9"
    "281a99f2b1c0a19c0489bc22ede944ccf4ecbab4cc618ef3ed01";

btc::Script PushOf(std::string_view hex) {
  btc::Script script;
  script.PushData(Bytes(hex));
  return script;
}

TEST(ScriptFormatTest, ScriptSigAsmDecodesTheSighashTypeOfASignature) {
  EXPECT_EQ(ScriptSigToAsm(PushOf(kSignature)),
            std::string(kSignature.substr(0, kSignature.size() - 2)) + "[ALL]");
  std::string single_acp(kSignature.substr(0, kSignature.size() - 2));
  EXPECT_EQ(ScriptSigToAsm(PushOf(single_acp + "83")), single_acp + "[SINGLE|ANYONECANPAY]");
}

TEST(ScriptFormatTest, ScriptSigAsmLeavesUndefinedSighashTypesAndNonSignaturesAsHex) {
  std::string undefined(kSignature.substr(0, kSignature.size() - 2));
  undefined += "04";
  EXPECT_EQ(ScriptSigToAsm(PushOf(undefined)), undefined);
  // A public key is not a DER signature.
  const std::string pubkey = "025476c2e83188368da1ff3e292e7acafcdb3566bb0ad253f62fc70f07aeee6357";
  EXPECT_EQ(ScriptSigToAsm(PushOf(pubkey)), pubkey);
}

TEST(ScriptFormatTest, ScriptSigAsmDoesNotDecodeInsideOpReturn) {
  btc::Script script;
  script.PushOpcode(0x6a).PushData(Bytes(kSignature));
  EXPECT_EQ(ScriptSigToAsm(script), "OP_RETURN " + std::string(kSignature));
}

TEST(ScriptFormatTest, ScriptSigAsmPrintsSmallPushesAsNumbersAndTruncationAsError) {
  // 0x00 (OP_0), a non-minimal push of 0x81 (-1), OP_1NEGATE, OP_16, push of 0x0100 (1).
  const btc::Script script(Bytes("0001814f60020100"));
  EXPECT_EQ(ScriptSigToAsm(script), "0 -1 -1 16 1");
  EXPECT_EQ(ScriptSigToAsm(btc::Script(Bytes("51024c"))), "1 [error]");
}

TEST(ScriptFormatTest, IsStrictDerSignatureFollowsBip66) {
  EXPECT_TRUE(IsStrictDerSignature(Bytes(kSignature)));
  std::vector<uint8_t> sig = Bytes(kSignature);
  sig[1] ^= 1;  // Wrong total length.
  EXPECT_FALSE(IsStrictDerSignature(sig));
  sig = Bytes(kSignature);
  sig[0] = 0x31;  // Not a SEQUENCE.
  EXPECT_FALSE(IsStrictDerSignature(sig));
  sig = Bytes(kSignature);
  sig[5] = 0x00;  // R = 00 00..: padded without need (the next byte's top bit is clear).
  EXPECT_FALSE(IsStrictDerSignature(sig));
  EXPECT_FALSE(IsStrictDerSignature(Bytes("3006020101020101")));  // 8 bytes: too short.
  EXPECT_TRUE(IsStrictDerSignature(Bytes("300602010102010101")));
  EXPECT_FALSE(IsStrictDerSignature(Bytes("300602018102010101")));  // Negative R.
}

}  // namespace
}  // namespace kinko::cli
