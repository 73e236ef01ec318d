// kinko script asm | parse-asm: between script bytes and Bitcoin Core's asm notation.
#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "btc/script.h"
#include "cli/command.h"
#include "util/hex.h"

namespace kinko::cli {
namespace {

// Fails on a truncated push, naming its byte offset: printing "[error]" as Core does would
// hide where the script breaks.
util::Status CheckWellFormed(std::string_view what, const btc::Script& script) {
  size_t pos = 0;
  while (pos < script.size()) {
    const size_t start = pos;
    if (!btc::GetOp(script.bytes(), &pos)) {
      return util::InvalidArgumentError(std::string(what) + ": push at byte " +
                                        std::to_string(start) + " runs past the end of the script");
    }
  }
  return util::OkStatus();
}

util::Result<CommandOutput> ScriptAsm(const std::string& hex) {
  util::Result<std::vector<uint8_t>> bytes = ParseHexArgument("HEX", hex);
  if (!bytes.ok()) return bytes.status();
  const btc::Script script(std::move(*bytes));
  if (util::Status s = CheckWellFormed("HEX", script); !s.ok()) return s;
  Json out = Json::object();
  out["asm"] = btc::ToAsm(script);
  out["hex"] = util::HexEncode(script.bytes());
  return CommandOutput{.json = std::move(out)};
}

util::Result<CommandOutput> ScriptParseAsm(const std::string& asm_text) {
  util::Result<btc::Script> script = btc::ParseAsm(asm_text);
  if (!script.ok()) return script.status().WithPrefix("ASM");
  Json out = Json::object();
  out["hex"] = util::HexEncode(script->bytes());
  if (btc::IsWellFormed(*script)) out["asm"] = btc::ToAsm(*script);
  return CommandOutput{.json = std::move(out)};
}

}  // namespace

void RegisterScriptCommands(CLI::App& app, Dispatcher& dispatcher) {
  CLI::App* group = app.add_subcommand("script", "Script tools");
  group->require_subcommand(1);

  auto asm_hex = std::make_shared<std::string>();
  CLI::App* to_asm = group->add_subcommand(
      "asm", "Print a script in Bitcoin Core's asm notation: {\"asm\", \"hex\"}");
  to_asm->add_option("HEX", *asm_hex, "The script, hex-encoded")->required();
  to_asm->callback(
      [&dispatcher, asm_hex] { dispatcher.Select([asm_hex] { return ScriptAsm(*asm_hex); }); });

  auto asm_text = std::make_shared<std::string>();
  CLI::App* parse = group->add_subcommand(
      "parse-asm",
      "Assemble a script from the notation of Bitcoin Core's script_tests.json (numbers, 0x "
      "raw bytes, 'strings', opcode names): {\"hex\", \"asm\"}");
  parse->add_option("ASM", *asm_text, "The script text, as one argument")->required();
  parse->callback([&dispatcher, asm_text] {
    dispatcher.Select([asm_text] { return ScriptParseAsm(*asm_text); });
  });
}

}  // namespace kinko::cli
