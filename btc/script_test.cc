#include "btc/script.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "util/hex.h"

namespace kinko::btc {
namespace {

std::vector<uint8_t> Hex(std::string_view hex) {
  util::Result<std::vector<uint8_t>> bytes = util::HexDecode(hex);
  EXPECT_TRUE(bytes.ok()) << hex;
  return bytes.ok() ? *bytes : std::vector<uint8_t>{};
}

Script S(std::string_view hex) { return Script(Hex(hex)); }

std::string HexOf(const Script& script) { return util::HexEncode(script.bytes()); }

TEST(ScriptTest, OpcodeNamesAreCoreNames) {
  EXPECT_EQ(OpcodeName(0x00), "0");
  EXPECT_EQ(OpcodeName(0x4c), "OP_PUSHDATA1");
  EXPECT_EQ(OpcodeName(0x4f), "-1");
  EXPECT_EQ(OpcodeName(0x50), "OP_RESERVED");
  EXPECT_EQ(OpcodeName(0x51), "1");
  EXPECT_EQ(OpcodeName(0x60), "16");
  EXPECT_EQ(OpcodeName(0x61), "OP_NOP");
  EXPECT_EQ(OpcodeName(0x76), "OP_DUP");
  EXPECT_EQ(OpcodeName(0xa9), "OP_HASH160");
  EXPECT_EQ(OpcodeName(0xac), "OP_CHECKSIG");
  EXPECT_EQ(OpcodeName(0xb0), "OP_NOP1");
  EXPECT_EQ(OpcodeName(0xb1), "OP_CHECKLOCKTIMEVERIFY");
  EXPECT_EQ(OpcodeName(0xb2), "OP_CHECKSEQUENCEVERIFY");
  EXPECT_EQ(OpcodeName(0xb9), "OP_NOP10");
  EXPECT_EQ(OpcodeName(0xba), "OP_CHECKSIGADD");
  EXPECT_EQ(OpcodeName(0xbb), "OP_UNKNOWN");
  EXPECT_EQ(OpcodeName(0xfe), "OP_UNKNOWN");
  EXPECT_EQ(OpcodeName(0xff), "OP_INVALIDOPCODE");
  // Direct pushes have no name of their own.
  EXPECT_EQ(OpcodeName(0x01), "OP_UNKNOWN");
  EXPECT_EQ(OpcodeName(0x4b), "OP_UNKNOWN");
  // Every opcode from OP_NOP to OP_CHECKSIGADD is named.
  for (int op = 0x61; op <= 0xba; ++op) {
    EXPECT_NE(OpcodeName(static_cast<uint8_t>(op)), "OP_UNKNOWN") << op;
  }
}

TEST(ScriptTest, SmallIntsRoundTrip) {
  EXPECT_EQ(EncodeSmallInt(0), 0x00);
  EXPECT_EQ(EncodeSmallInt(1), 0x51);
  EXPECT_EQ(EncodeSmallInt(16), 0x60);
  for (int n = 0; n <= 16; ++n) EXPECT_EQ(DecodeSmallInt(EncodeSmallInt(n)), n);
}

TEST(ScriptDeathTest, SmallIntsCheckRange) {
  EXPECT_DEATH(EncodeSmallInt(17), "");
  EXPECT_DEATH(EncodeSmallInt(-1), "");
  EXPECT_DEATH(DecodeSmallInt(0x4f), "");
  EXPECT_DEATH(DecodeSmallInt(0x61), "");
}

TEST(ScriptTest, PushDataUsesTheSmallestPushOpcode) {
  struct Case {
    size_t size;
    std::string prefix;
  };
  for (const Case& c : std::vector<Case>{{0, "00"},
                                         {1, "01"},
                                         {75, "4b"},
                                         {76, "4c4c"},
                                         {255, "4cff"},
                                         {256, "4d0001"},
                                         {520, "4d0802"},
                                         {65535, "4dffff"},
                                         {65536, "4e00000100"}}) {
    std::vector<uint8_t> data(c.size, 0x42);
    Script script;
    script.PushData(data);
    EXPECT_EQ(HexOf(script).substr(0, c.prefix.size()), c.prefix) << c.size;
    EXPECT_EQ(script.size(), c.prefix.size() / 2 + c.size);
    size_t pos = 0;
    std::optional<ScriptOp> op = GetOp(script.bytes(), &pos);
    ASSERT_TRUE(op);
    EXPECT_TRUE(std::equal(op->data.begin(), op->data.end(), data.begin(), data.end()));
    EXPECT_EQ(pos, script.size());
    EXPECT_TRUE(IsMinimalPush(op->opcode, op->data)) << c.size;
  }
  // One byte is a direct push even when OP_1..OP_16 could say it (Core's `<< vector`).
  Script one;
  one.PushData(Hex("05"));
  EXPECT_EQ(HexOf(one), "0105");
}

// Core's push_int64 / CScriptNum::serialize, and its parse_script unit test ("17" -> 0111,
// "-9" -> 0189).
TEST(ScriptTest, PushIntUsesSmallOpcodesOrScriptNumbers) {
  struct Case {
    int64_t n;
    std::string hex;
  };
  for (const Case& c : std::vector<Case>{
           {-1, "4f"},
           {0, "00"},
           {1, "51"},
           {16, "60"},
           {17, "0111"},
           {-9, "0189"},
           {-2, "0182"},
           {127, "017f"},
           {128, "028000"},
           {-128, "028080"},
           {255, "02ff00"},
           {-255, "02ff80"},
           {256, "020001"},
           {500000, "0320a107"},  // Core's rpc_decodescript.py CLTV script: 0320a107 is 500000.
           {0x7fffffff, "04ffffff7f"},
           {-0x7fffffff, "04ffffffff"},
           {0x80000000LL, "050000008000"},
           {0xffffffffLL, "05ffffffff00"},
           {std::numeric_limits<int64_t>::max(), "08ffffffffffffff7f"},
           {std::numeric_limits<int64_t>::min(), "09000000000000008080"},
       }) {
    EXPECT_EQ(HexOf(Script().PushInt(c.n)), c.hex) << c.n;
  }
}

// Core's script_standard_push test: every number pushes minimally.
TEST(ScriptTest, PushIntIsAlwaysMinimal) {
  for (int64_t n = -70000; n <= 70000; ++n) {
    Script script;
    script.PushInt(n);
    ASSERT_TRUE(IsPushOnly(script));
    size_t pos = 0;
    std::optional<ScriptOp> op = GetOp(script.bytes(), &pos);
    ASSERT_TRUE(op);
    ASSERT_EQ(pos, script.size());
    ASSERT_TRUE(IsMinimalPush(op->opcode, op->data)) << n;
    if (op->opcode <= 0x4e) {
      util::Result<int64_t> back = DecodeScriptNum(op->data, /*require_minimal=*/true);
      ASSERT_TRUE(back.ok()) << n;
      ASSERT_EQ(*back, n);
    }
  }
}

TEST(ScriptTest, ScriptNumEncodingKnownAnswers) {
  struct Case {
    int64_t n;
    std::string hex;
  };
  for (const Case& c : std::vector<Case>{{0, ""},
                                         {1, "01"},
                                         {-1, "81"},
                                         {127, "7f"},
                                         {-127, "ff"},
                                         {128, "8000"},
                                         {-128, "8080"},
                                         {255, "ff00"},
                                         {-255, "ff80"},
                                         {256, "0001"},
                                         {-256, "0081"},
                                         {32767, "ff7f"},
                                         {32768, "008000"},
                                         {-32768, "008080"},
                                         {0x7fffffff, "ffffff7f"},
                                         {-0x7fffffff, "ffffffff"},
                                         {0x80000000LL, "0000008000"},
                                         {-0x80000000LL, "0000008080"},
                                         {0xffffffffLL, "ffffffff00"},
                                         {0x7fffffffffLL, "ffffffff7f"}}) {
    EXPECT_EQ(util::HexEncode(EncodeScriptNum(c.n)), c.hex) << c.n;
    util::Result<int64_t> back = DecodeScriptNum(Hex(c.hex), /*require_minimal=*/true, 5);
    ASSERT_TRUE(back.ok()) << c.hex << ": " << back.status();
    EXPECT_EQ(*back, c.n);
  }
}

TEST(ScriptTest, ScriptNumRoundTripsAcrossTheRange) {
  for (int shift = 0; shift < 63; ++shift) {
    for (int64_t delta : {-1, 0, 1}) {
      for (int64_t sign : {1, -1}) {
        const int64_t n = sign * ((int64_t{1} << shift) + delta);
        std::vector<uint8_t> bytes = EncodeScriptNum(n);
        util::Result<int64_t> back = DecodeScriptNum(bytes, /*require_minimal=*/true, 8);
        ASSERT_TRUE(back.ok()) << n;
        EXPECT_EQ(*back, n);
      }
    }
  }
}

TEST(ScriptTest, ScriptNumRejectsNonMinimalEncodings) {
  // Each of these decodes without the minimal rule (to the value given) and fails with it.
  struct Case {
    std::string hex;
    int64_t value;
  };
  for (const Case& c : std::vector<Case>{{"00", 0},
                                         {"80", 0},  // Negative zero.
                                         {"0000", 0},
                                         {"0080", 0},
                                         {"0100", 1},
                                         {"0180", -1},
                                         {"7f00", 127},
                                         {"ff0000", 255},
                                         {"ff0080", -255},
                                         {"00000000", 0},
                                         {"0000000080", 0}}) {
    util::Result<int64_t> strict = DecodeScriptNum(Hex(c.hex), /*require_minimal=*/true, 5);
    ASSERT_FALSE(strict.ok()) << c.hex;
    EXPECT_EQ(strict.status().code(), util::StatusCode::kInvalidArgument);
    EXPECT_EQ(strict.status().message(), "non-minimal script number");
    util::Result<int64_t> lax = DecodeScriptNum(Hex(c.hex), /*require_minimal=*/false, 5);
    ASSERT_TRUE(lax.ok()) << c.hex;
    EXPECT_EQ(*lax, c.value) << c.hex;
  }
  // A zero last byte is needed when the byte before it has its top bit set.
  EXPECT_TRUE(DecodeScriptNum(Hex("8000"), true).ok());
  EXPECT_TRUE(DecodeScriptNum(Hex("ff80"), true).ok());
}

TEST(ScriptTest, ScriptNumRejectsOversizedOperands) {
  // Arithmetic reads at most 4 bytes; OP_CHECKLOCKTIMEVERIFY / OP_CHECKSEQUENCEVERIFY read 5.
  const std::vector<uint8_t> five = Hex("ffffffff00");
  util::Result<int64_t> four_max = DecodeScriptNum(five, /*require_minimal=*/true);
  ASSERT_FALSE(four_max.ok());
  EXPECT_EQ(four_max.status().message(), "script number overflow: 5 bytes, at most 4");
  util::Result<int64_t> five_max = DecodeScriptNum(five, /*require_minimal=*/true, 5);
  ASSERT_TRUE(five_max.ok());
  EXPECT_EQ(*five_max, 0xffffffffLL);
  EXPECT_FALSE(DecodeScriptNum(Hex("000000000001"), false, 5).ok());
  EXPECT_TRUE(DecodeScriptNum(Hex("ffffff7f"), true).ok());
  EXPECT_EQ(*DecodeScriptNum(Hex("ffffffff"), true), -0x7fffffff);
}

TEST(ScriptTest, GetOpReadsEachPushForm) {
  const Script script = S("0001aa4c02bbbb4d0100cc4e01000000dd4f5160ac");
  struct Expected {
    uint8_t opcode;
    std::string data;
    size_t offset;
  };
  const std::vector<Expected> expected = {{0x00, "", 0},   {0x01, "aa", 1},  {0x4c, "bbbb", 3},
                                          {0x4d, "cc", 7}, {0x4e, "dd", 11}, {0x4f, "", 17},
                                          {0x51, "", 18},  {0x60, "", 19},   {0xac, "", 20}};
  size_t pos = 0;
  for (const Expected& e : expected) {
    std::optional<ScriptOp> op = GetOp(script.bytes(), &pos);
    ASSERT_TRUE(op);
    EXPECT_EQ(op->opcode, e.opcode);
    EXPECT_EQ(util::HexEncode(op->data), e.data);
    EXPECT_EQ(op->offset, e.offset);
  }
  EXPECT_EQ(pos, script.size());
  EXPECT_FALSE(GetOp(script.bytes(), &pos));
  EXPECT_EQ(pos, script.size());
}

TEST(ScriptTest, GetOpRejectsTruncatedPushesWithoutAdvancing) {
  // Core's script_PushData truncation cases, and truncated length fields.
  for (std::string_view hex : {"01", "0201", "4b", "4c", "4c01", "4d", "4d01", "4d0100", "4e",
                               "4e010000", "4e01000000", "4cff00"}) {
    const Script script = S(hex);
    size_t pos = 0;
    EXPECT_FALSE(GetOp(script.bytes(), &pos)) << hex;
    EXPECT_EQ(pos, 0u) << hex;
    EXPECT_FALSE(IsWellFormed(script)) << hex;
    EXPECT_FALSE(IsPushOnly(script)) << hex;
  }
  // A huge OP_PUSHDATA4 length does not overflow the bounds check.
  const Script huge = S("4effffffff00");
  size_t pos = 0;
  EXPECT_FALSE(GetOp(huge.bytes(), &pos));
}

TEST(ScriptTest, IsPushOnlyFollowsCore) {
  EXPECT_TRUE(IsPushOnly(Script()));
  EXPECT_TRUE(IsPushOnly(S("00014f4c00515f60")));
  EXPECT_TRUE(IsPushOnly(S("50")));  // OP_RESERVED counts, as in Core.
  EXPECT_FALSE(IsPushOnly(S("61")));
  EXPECT_FALSE(IsPushOnly(S("0051ac")));
  EXPECT_TRUE(IsWellFormed(S("0051ac")));
  EXPECT_TRUE(IsWellFormed(S("ffbb")));
}

TEST(ScriptTest, IsMinimalPushFollowsCheckMinimalPush) {
  EXPECT_TRUE(IsMinimalPush(0x00, {}));
  EXPECT_FALSE(IsMinimalPush(0x4c, {}));
  for (int v = 1; v <= 16; ++v) {
    std::vector<uint8_t> data = {static_cast<uint8_t>(v)};
    EXPECT_FALSE(IsMinimalPush(0x01, data)) << v;
  }
  EXPECT_FALSE(IsMinimalPush(0x01, Hex("81")));
  EXPECT_TRUE(IsMinimalPush(0x01, Hex("00")));
  EXPECT_TRUE(IsMinimalPush(0x01, Hex("11")));
  EXPECT_TRUE(IsMinimalPush(0x01, Hex("80")));
  EXPECT_FALSE(IsMinimalPush(0x4c, Hex("11")));
  EXPECT_TRUE(IsMinimalPush(0x4b, std::vector<uint8_t>(75)));
  EXPECT_FALSE(IsMinimalPush(0x4c, std::vector<uint8_t>(75)));
  EXPECT_TRUE(IsMinimalPush(0x4c, std::vector<uint8_t>(76)));
  EXPECT_FALSE(IsMinimalPush(0x4d, std::vector<uint8_t>(76)));
  EXPECT_TRUE(IsMinimalPush(0x4c, std::vector<uint8_t>(255)));
  EXPECT_TRUE(IsMinimalPush(0x4d, std::vector<uint8_t>(256)));
  EXPECT_FALSE(IsMinimalPush(0x4e, std::vector<uint8_t>(256)));
  EXPECT_TRUE(IsMinimalPush(0x4d, std::vector<uint8_t>(65535)));
  EXPECT_TRUE(IsMinimalPush(0x4e, std::vector<uint8_t>(65536)));
  // Non-push opcodes are minimal by definition.
  EXPECT_TRUE(IsMinimalPush(0x4f, {}));
  EXPECT_TRUE(IsMinimalPush(0x51, {}));
}

// The cases of Core's script_FindAndDelete unit test (src/test/script_tests.cpp).
TEST(ScriptTest, FindAndDeleteMatchesCore) {
  struct Case {
    std::string script;
    std::string pattern;
    std::string expected;
    size_t removed;
  };
  for (const Case& c : std::vector<Case>{
           {"5152", "", "5152", 0},
           {"515253", "52", "5153", 1},
           {"535153535453", "53", "5154", 4},
           {"0302ff03", "0302ff03", "", 1},
           {"0302ff030302ff03", "0302ff03", "", 2},
           {"0302ff030302ff03", "02", "0302ff030302ff03", 0},
           {"0302ff030302ff03", "ff", "0302ff030302ff03", 0},
           // Stripping the push prefix leaves 02ff03 (a two-byte push) twice.
           {"0302ff030302ff03", "03", "02ff0302ff03", 2},
           {"02feed5169", "feed51", "02feed5169", 0},
           {"02feed5169", "02feed51", "69", 1},
           {"516902feed5169", "feed51", "516902feed5169", 0},
           {"516902feed5169", "02feed51", "516969", 1},
           {"00005151", "0051", "0051", 1},  // Single pass.
           {"000051005151", "0051", "0051", 2},
           {"0003feed", "03feed", "00", 1},  // A truncated push can be removed...
           {"0003feed", "00", "03feed", 1},  // ...or kept after a removal.
       }) {
    FindAndDeleteResult result = FindAndDeleteCounted(S(c.script), S(c.pattern));
    EXPECT_EQ(HexOf(result.script), c.expected) << c.script << " - " << c.pattern;
    EXPECT_EQ(result.removed, c.removed) << c.script << " - " << c.pattern;
    EXPECT_EQ(FindAndDelete(S(c.script), S(c.pattern)), result.script);
  }
}

TEST(ScriptTest, FindAndDeleteRemovesSignaturePushes) {
  const std::vector<uint8_t> sig(72, 0x30);
  Script pattern;
  pattern.PushData(sig);
  Script script;
  script.PushData(sig).PushOpcode(0xac).PushData(sig).PushData(sig).PushOpcode(0x87);
  FindAndDeleteResult result = FindAndDeleteCounted(script, pattern);
  EXPECT_EQ(HexOf(result.script), "ac87");
  EXPECT_EQ(result.removed, 3u);
}

// Every script of Core's script_tests.json: the operations GetOp reads, written back with the
// same opcodes, give the original bytes; and GetOp reaches the end exactly when the script is
// well formed.
TEST(ScriptTest, GetOpReserializesEveryScriptTestsJsonScript) {
  std::ifstream in(std::string(KINKO_VECTORS_DIR) + "/script_tests.json");
  ASSERT_TRUE(in);
  nlohmann::json tests = nlohmann::json::parse(in);
  size_t scripts = 0;
  size_t well_formed = 0;
  for (const nlohmann::json& test : tests) {
    if (test.size() == 1) continue;
    size_t index = test[0].is_array() ? 1 : 0;
    for (size_t i = index; i < index + 2; ++i) {
      const std::string text = test[i].get<std::string>();
      if (text.find("#TAPROOTOUTPUT#") != std::string::npos) continue;
      util::Result<Script> script = ParseAsm(text);
      ASSERT_TRUE(script.ok()) << text << ": " << script.status();
      ++scripts;
      std::vector<uint8_t> rebuilt;
      size_t pos = 0;
      while (std::optional<ScriptOp> op = GetOp(script->bytes(), &pos)) {
        EXPECT_EQ(op->offset, rebuilt.size());
        rebuilt.push_back(op->opcode);
        const size_t size = op->data.size();
        const size_t length_bytes = op->opcode == 0x4c   ? 1
                                    : op->opcode == 0x4d ? 2
                                    : op->opcode == 0x4e ? 4
                                                         : 0;
        for (size_t b = 0; b < length_bytes; ++b) {
          rebuilt.push_back(static_cast<uint8_t>(size >> (8 * b)));
        }
        rebuilt.insert(rebuilt.end(), op->data.begin(), op->data.end());
      }
      const bool reached_end = pos == script->size();
      EXPECT_EQ(reached_end, IsWellFormed(*script)) << text;
      if (reached_end) {
        ++well_formed;
        EXPECT_EQ(rebuilt, script->bytes()) << text;
      } else {
        // The bytes before the truncated push are reproduced.
        EXPECT_EQ(rebuilt,
                  std::vector<uint8_t>(script->bytes().begin(),
                                       script->bytes().begin() + static_cast<ptrdiff_t>(pos)))
            << text;
      }
    }
  }
  // 1222 tests with two scripts each, less the 5 "#TAPROOTOUTPUT#" placeholders.
  EXPECT_EQ(scripts, 2439u);
  // Three scripts are truncated pushes: "0x4c01", "0x4d0200ff" and "0x4e03000000ffff".
  EXPECT_EQ(well_formed, 2436u);
}

}  // namespace
}  // namespace kinko::btc
