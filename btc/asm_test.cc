// ToAsm and ParseAsm: Bitcoin Core's asm notations.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "btc/script.h"
#include "util/hex.h"

namespace kinko::btc {
namespace {

Script S(std::string_view hex) { return Script(*util::HexDecode(hex)); }

std::string ParsedHex(std::string_view text) {
  util::Result<Script> script = ParseAsm(text);
  EXPECT_TRUE(script.ok()) << text << ": " << script.status();
  if (!script.ok()) return "<error>";
  return util::HexEncode(script->bytes());
}

// Bitcoin Core's functional test rpc_decodescript.py (decodescript "asm", which is
// ScriptToAsmStr without sighash decoding).
TEST(AsmTest, ToAsmMatchesCoreDecodescript) {
  const std::string sig =
      "304502207fa7a6d1e0ee81132a269ad84e68d695483745cde8b541e3bf630749894e342a022100c1f7ab20e13e"
      "22fb95281a870f3dcf38d782e53023ee313d741ad0cfbc0c509001";
  const std::string push_sig = "48" + sig;
  const std::string key = "03b0da749730dc9b4b1f4a14d6902877a92541f5368778853d9c4a0cb7802dcfb2";
  const std::string push_key = "21" + key;
  const std::string key_hash = "5dd1d3a048119c27b28293056724d9522f26d945";
  const std::string ukey =
      "04b0da749730dc9b4b1f4a14d6902877a92541f5368778853d9c4a0cb7802dcfb25e01fc8fde47c96c98a4f3a8"
      "123e33a38a50cf9025cc8c4494a518f991792bb7";
  const std::string p2wsh_hash = "d8590cf8ea0674cf3d49fd7ca249b85ef7485dea62c138468bddeb20cd6519f7";
  struct Case {
    std::string hex;
    std::string asm_text;
  };
  for (const Case& c : std::vector<Case>{
           {push_sig, sig},
           {push_sig + push_key, sig + " " + key},
           {"00" + push_sig + push_sig, "0 " + sig + " " + sig},
           {"5100", "1 0"},
           {push_key + "ac", key + " OP_CHECKSIG"},
           {"76a914" + key_hash + "88ac",
            "OP_DUP OP_HASH160 " + key_hash + " OP_EQUALVERIFY OP_CHECKSIG"},
           {"52" + push_key + push_key + push_key + "53ae",
            "2 " + key + " " + key + " " + key + " 3 OP_CHECKMULTISIG"},
           {"a914" + key_hash + "87", "OP_HASH160 " + key_hash + " OP_EQUAL"},
           {"6a" + push_sig, "OP_RETURN " + sig},
           {"63" + push_key + "ad670320a107b17568" + push_key + "ac",
            "OP_IF " + key +
                " OP_CHECKSIGVERIFY OP_ELSE 500000 OP_CHECKLOCKTIMEVERIFY OP_DROP "
                "OP_ENDIF " +
                key + " OP_CHECKSIG"},
           {"41" + ukey + "ac", ukey + " OP_CHECKSIG"},
           {"52" + push_key + "41" + ukey + "52ae",
            "2 " + key + " " + ukey + " 2 OP_CHECKMULTISIG"},
           {"0014" + key_hash, "0 " + key_hash},
           {"0020" + p2wsh_hash, "0 " + p2wsh_hash},
           {"51200101010101010101010101010101010101010101010101010101010101010101",
            "1 0101010101010101010101010101010101010101010101010101010101010101"},
           // The pay-to-anchor program 4e73 is a 2-byte push: printed as the number 29518.
           {"51024e73", "1 29518"},
           // decoderawtransaction outputs in the same test.
           {"76a914dc863734a218bfe83ef770ee9d41a27f824a6e5688ac",
            "OP_DUP OP_HASH160 dc863734a218bfe83ef770ee9d41a27f824a6e56 OP_EQUALVERIFY "
            "OP_CHECKSIG"},
           {"a9142a5edea39971049a540474c6a99edf0aa4074c5887",
            "OP_HASH160 2a5edea39971049a540474c6a99edf0aa4074c58 OP_EQUAL"},
           {"6a09300602010002010001", "OP_RETURN 300602010002010001"},
       }) {
    EXPECT_EQ(ToAsm(S(c.hex)), c.asm_text) << c.hex;
  }
}

// Core's script_GetScriptAsm unit test, without sighash decoding: the last signature byte is
// printed as hex, and OP_NOP2 is printed as OP_CHECKLOCKTIMEVERIFY.
TEST(AsmTest, ToAsmMatchesCoreGetScriptAsm) {
  EXPECT_EQ(ToAsm(S("b1")), "OP_CHECKLOCKTIMEVERIFY");
  const std::string der =
      "304502207fa7a6d1e0ee81132a269ad84e68d695483745cde8b541e3bf630749894e342a022100c1f7ab20e13e"
      "22fb95281a870f3dcf38d782e53023ee313d741ad0cfbc0c5090";
  const std::string key = "03b0da749730dc9b4b1f4a14d6902877a92541f5368778853d9c4a0cb7802dcfb2";
  for (std::string sighash : {"00", "80", "01", "02", "03", "81", "82", "83"}) {
    Script script;
    script.PushData(*util::HexDecode(der + sighash)).PushData(*util::HexDecode(key));
    EXPECT_EQ(ToAsm(script), der + sighash + " " + key);
  }
}

TEST(AsmTest, ToAsmPrintsShortPushesAsNumbers) {
  struct Case {
    std::string hex;
    std::string asm_text;
  };
  for (const Case& c : std::vector<Case>{
           {"", ""},
           {"00", "0"},
           {"4f", "-1"},
           {"51", "1"},
           {"60", "16"},
           {"0111", "17"},
           {"0181", "-1"},        // A one-byte push of -1 prints like OP_1NEGATE.
           {"0100", "0"},         // Non-minimal zero.
           {"0180", "0"},         // Negative zero.
           {"020100", "1"},       // Non-minimal one.
           {"4c00", "0"},         // OP_PUSHDATA1 of nothing.
           {"4c0105", "5"},       // OP_PUSHDATA1 of one byte.
           {"4d0100ff", "-127"},  // OP_PUSHDATA2 of one byte.
           {"04ffffff7f", "2147483647"},
           {"04ffffffff", "-2147483647"},
           {"0400000080", "0"},             // Four-byte negative zero.
           {"050000008000", "0000008000"},  // Five bytes: hex.
           {"50", "OP_RESERVED"},
           {"ba", "OP_CHECKSIGADD"},
           {"bb", "OP_UNKNOWN"},
           {"ff", "OP_INVALIDOPCODE"},
           {"b0b1b2b3b9", "OP_NOP1 OP_CHECKLOCKTIMEVERIFY OP_CHECKSEQUENCEVERIFY OP_NOP4 OP_NOP10"},
       }) {
    EXPECT_EQ(ToAsm(S(c.hex)), c.asm_text) << c.hex;
  }
}

TEST(AsmTest, ToAsmStopsAtATruncatedPush) {
  EXPECT_EQ(ToAsm(S("01")), "[error]");
  EXPECT_EQ(ToAsm(S("76a9")), "OP_DUP OP_HASH160");
  EXPECT_EQ(ToAsm(S("76a914aabb")), "OP_DUP OP_HASH160 [error]");
  EXPECT_EQ(ToAsm(S("514c")), "1 [error]");
  EXPECT_EQ(ToAsm(S("514d01")), "1 [error]");
  // Bytes after the truncated push are not printed.
  EXPECT_EQ(ToAsm(S("0051ac4e01000000")), "0 1 OP_CHECKSIG [error]");
}

// Core's parse_script unit test (src/test/script_parse_tests.cpp).
TEST(AsmTest, ParseAsmMatchesCoreParseScriptTest) {
  struct Case {
    std::string text;
    std::string hex;
  };
  const std::vector<Case> cases = {
      {"", ""},       {"0", "00"},        {"1", "51"},    {"2", "52"},     {"3", "53"},
      {"4", "54"},    {"5", "55"},        {"6", "56"},    {"7", "57"},     {"8", "58"},
      {"9", "59"},    {"10", "5a"},       {"11", "5b"},   {"12", "5c"},    {"13", "5d"},
      {"14", "5e"},   {"15", "5f"},       {"16", "60"},   {"17", "0111"},  {"-9", "0189"},
      {"0x17", "17"}, {"'17'", "023137"}, {"ELSE", "67"}, {"NOP10", "b9"},
  };
  std::string all_text;
  std::string all_hex;
  for (const Case& c : cases) {
    EXPECT_EQ(ParsedHex(c.text), c.hex) << c.text;
    all_text += " " + c.text + " ";
    all_hex += c.hex;
  }
  EXPECT_EQ(ParsedHex(all_text), all_hex);

  for (std::string_view text : {"11111111111111111111", "11111111111"}) {
    util::Result<Script> too_big = ParseAsm(text);
    ASSERT_FALSE(too_big.ok()) << text;
    EXPECT_EQ(too_big.status().code(), util::StatusCode::kInvalidArgument);
    EXPECT_NE(too_big.status().message().find("number outside -0xffffffff..0xffffffff"),
              std::string::npos);
  }
  util::Result<Script> checksigadd = ParseAsm("OP_CHECKSIGADD");
  ASSERT_FALSE(checksigadd.ok());
  EXPECT_EQ(checksigadd.status().message(),
            "script asm token 'OP_CHECKSIGADD' at offset 0: unknown opcode");
}

TEST(AsmTest, ParseAsmNumbers) {
  EXPECT_EQ(ParsedHex("-1"), "4f");
  EXPECT_EQ(ParsedHex("-0"), "00");
  EXPECT_EQ(ParsedHex("007"), "57");
  EXPECT_EQ(ParsedHex("1000"), "02e803");
  EXPECT_EQ(ParsedHex("-1000"), "02e883");
  EXPECT_EQ(ParsedHex("4294967295"), "05ffffffff00");
  EXPECT_EQ(ParsedHex("-4294967295"), "05ffffffff80");
  EXPECT_FALSE(ParseAsm("4294967296").ok());
  EXPECT_FALSE(ParseAsm("-4294967296").ok());
  // A lone or doubled minus, or a plus sign, is not a number, and not an opcode either.
  EXPECT_FALSE(ParseAsm("-").ok());
  EXPECT_FALSE(ParseAsm("--1").ok());
  EXPECT_FALSE(ParseAsm("+1").ok());
  EXPECT_FALSE(ParseAsm("1a").ok());
}

TEST(AsmTest, ParseAsmHexIsInsertedRaw) {
  EXPECT_EQ(ParsedHex("0x4c01 0x07"), "4c0107");
  EXPECT_EQ(ParsedHex("0xABcd"), "abcd");
  EXPECT_EQ(ParsedHex("0x01 0x4c01"), "014c01");  // Raw bytes need not form operations.
  for (std::string_view bad : {"0x", "0x1", "0xabc", "0xzz", "0X01", "x01"}) {
    util::Result<Script> script = ParseAsm(bad);
    EXPECT_FALSE(script.ok()) << bad;
  }
}

TEST(AsmTest, ParseAsmStringsArePushed) {
  EXPECT_EQ(ParsedHex("''"), "00");
  EXPECT_EQ(ParsedHex("'Az'"), "02417a");
  EXPECT_EQ(ParsedHex("'''"), "0127");  // The inner quote is data.
  std::string long_text = "'" + std::string(80, 'z') + "'";
  std::string hex = ParsedHex(long_text);
  EXPECT_EQ(hex.substr(0, 4), "4c50");
  EXPECT_EQ(hex.size(), 2 * (2 + 80));
  EXPECT_FALSE(ParseAsm("'").ok());
  EXPECT_FALSE(ParseAsm("'a").ok());
  EXPECT_FALSE(ParseAsm("'a b'").ok());  // Quotes do not protect spaces, as in Core.
}

TEST(AsmTest, ParseAsmOpcodeNames) {
  EXPECT_EQ(ParsedHex("DUP OP_DUP"), "7676");
  EXPECT_EQ(ParsedHex("RESERVED OP_RESERVED RESERVED1 RESERVED2"), "5050898a");
  EXPECT_EQ(ParsedHex("NOP OP_NOP1 NOP4 OP_NOP5 NOP10"), "61b0b3b4b9");
  EXPECT_EQ(ParsedHex("CHECKLOCKTIMEVERIFY OP_CHECKSEQUENCEVERIFY"), "b1b2");
  EXPECT_EQ(ParsedHex("VERIF VERNOTIF 2MUL 0NOTEQUAL CHECKMULTISIGVERIFY"), "65668d92af");
  // Every opcode that Core names from OP_NOP to OP_NOP10 parses under its name, with and
  // without the prefix.
  for (int op = 0x61; op <= 0xb9; ++op) {
    std::string name(OpcodeName(static_cast<uint8_t>(op)));
    util::Result<Script> full = ParseAsm(name);
    util::Result<Script> bare = ParseAsm(name.substr(3));
    ASSERT_TRUE(full.ok()) << name;
    ASSERT_TRUE(bare.ok()) << name;
    EXPECT_EQ(full->bytes(), std::vector<uint8_t>{static_cast<uint8_t>(op)});
    EXPECT_EQ(bare->bytes(), full->bytes());
  }
}

TEST(AsmTest, ParseAsmRejectsNamesCoreDoesNotKnow) {
  // Numbers, pushes and OP_CHECKSIGADD have no name in ParseScript; NOP2/NOP3 are named
  // CHECKLOCKTIMEVERIFY/CHECKSEQUENCEVERIFY; names are case-sensitive.
  for (std::string_view text : {"OP_0", "OP_1", "OP_16", "OP_1NEGATE", "FALSE", "TRUE", "PUSHDATA1",
                                "OP_PUSHDATA4", "CHECKSIGADD", "NOP2", "OP_NOP3", "OP_UNKNOWN",
                                "INVALIDOPCODE", "dup", "OP_", "OP_OP_DUP", "[error]"}) {
    util::Result<Script> script = ParseAsm(text);
    ASSERT_FALSE(script.ok()) << text;
    EXPECT_EQ(script.status().message(),
              "script asm token '" + std::string(text) + "' at offset 0: unknown opcode");
  }
}

TEST(AsmTest, ParseAsmErrorsNameTokenAndOffset) {
  util::Result<Script> script = ParseAsm("1 2\tDUP\n  FOO ADD");
  ASSERT_FALSE(script.ok());
  EXPECT_EQ(script.status().code(), util::StatusCode::kInvalidArgument);
  EXPECT_EQ(script.status().message(), "script asm token 'FOO' at offset 10: unknown opcode");
  script = ParseAsm("DUP 99999999999");
  ASSERT_FALSE(script.ok());
  EXPECT_EQ(script.status().message(),
            "script asm token '99999999999' at offset 4: number outside -0xffffffff..0xffffffff");
}

TEST(AsmTest, ParseAsmErrorsCutLongTokens) {
  const std::string token(100, 'X');
  util::Result<Script> script = ParseAsm("1 " + token);
  ASSERT_FALSE(script.ok());
  EXPECT_EQ(script.status().message(),
            "script asm token '" + std::string(64, 'X') + "...' at offset 2: unknown opcode");
}

TEST(AsmTest, ParseAsmSeparators) {
  // Space, tab and newline separate tokens; other whitespace is part of a token, as in Core.
  EXPECT_EQ(ParsedHex(" \t\n1\t\t2\n\n3  "), "515253");
  EXPECT_FALSE(ParseAsm("1\r").ok());
  EXPECT_FALSE(ParseAsm("1\v2").ok());
}

// Every scriptSig and scriptPubKey of Core's script_tests.json parses, and so does every
// "#SCRIPT#" tapscript in a witness. The taproot output placeholder "0x51 0x20 #TAPROOTOUTPUT#"
// (computed by Core's test harness) is counted apart and must fail to parse.
TEST(AsmTest, ParseAsmAcceptsEveryScriptOfScriptTestsJson) {
  std::ifstream in(std::string(KINKO_VECTORS_DIR) + "/script_tests.json");
  ASSERT_TRUE(in);
  nlohmann::json tests = nlohmann::json::parse(in);
  size_t comments = 0;
  size_t parsed = 0;
  size_t taproot_outputs = 0;
  size_t witness_scripts = 0;
  for (const nlohmann::json& test : tests) {
    if (test.size() == 1) {
      ++comments;
      continue;
    }
    size_t index = 0;
    if (test[0].is_array()) {
      for (const nlohmann::json& item : test[0]) {
        if (!item.is_string()) continue;  // The amount.
        const std::string element = item.get<std::string>();
        if (element.starts_with("#SCRIPT#")) {
          util::Result<Script> script = ParseAsm(std::string_view(element).substr(8));
          EXPECT_TRUE(script.ok()) << element << ": " << script.status();
          ++witness_scripts;
        }
      }
      index = 1;
    }
    ASSERT_GE(test.size(), index + 4) << test.dump();
    for (size_t i = index; i < index + 2; ++i) {
      const std::string text = test[i].get<std::string>();
      util::Result<Script> script = ParseAsm(text);
      if (text == "0x51 0x20 #TAPROOTOUTPUT#") {
        EXPECT_FALSE(script.ok());
        ++taproot_outputs;
        continue;
      }
      EXPECT_TRUE(script.ok()) << text << ": " << script.status();
      if (script.ok()) ++parsed;
    }
  }
  EXPECT_EQ(comments, 51u);
  EXPECT_EQ(parsed, 2439u);
  EXPECT_EQ(taproot_outputs, 5u);
  EXPECT_EQ(witness_scripts, 5u);
}

// Known answers from script_tests.json entries whose comments state the bytes.
TEST(AsmTest, ParseAsmKnownAnswersFromScriptTestsJson) {
  EXPECT_EQ(ParsedHex("0x4c 0x01 0x07"), "4c0107");     // "0x4c is OP_PUSHDATA1".
  EXPECT_EQ(ParsedHex("0x4f 1000 ADD"), "4f02e80393");  // OP_1NEGATE 1000 OP_ADD.
  EXPECT_EQ(ParsedHex("'Az' EQUAL"), "02417a87");       // Matches "0x02 0x417a".
  EXPECT_EQ(ParsedHex("0x51"), "51");
  EXPECT_EQ(ParsedHex("IF 0x50 ENDIF 1"), "63506851");
  EXPECT_EQ(ParsedHex("2147483648 0 ADD"), "0500000080000093");
}

// ToAsm output of operations that ParseAsm reads back to the same bytes: named opcodes, the
// small numbers and minimal pushes of minimal numbers up to 4 bytes.
TEST(AsmTest, ToAsmOfNumbersAndOpcodesParsesBack) {
  std::vector<int64_t> numbers = {-0x7fffffff, -65536, -256, -255, -128, -17, -1,  0,
                                  1,           16,     17,   127,  128,  255, 256, 0x7fffffff};
  Script script;
  for (int64_t n : numbers) script.PushInt(n);
  for (int op = 0x61; op <= 0xb9; ++op) script.PushOpcode(static_cast<uint8_t>(op));
  script.PushOpcode(0x50);
  util::Result<Script> back = ParseAsm(ToAsm(script));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, script);
}

}  // namespace
}  // namespace kinko::btc
