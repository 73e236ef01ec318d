// What every `kinko` command group shares: the outcome of a command, the slot in which the parsed
// command line leaves the action to run, and the parsers of common arguments.
//
// A command group lives in its own file (tx_commands.cc, address_commands.cc, ...) and adds its
// subcommands to the CLI11 parser with a Register*Commands function. CLI11 only parses: the
// selected action runs after parsing, so that every error of the command itself is a Status
// and nothing is printed until the whole answer is known.
//
// Not thread-safe; one owner (Main).
#ifndef KINKO_CLI_COMMAND_H_
#define KINKO_CLI_COMMAND_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/json_output.h"
#include "util/result.h"

namespace CLI {
class App;
}  // namespace CLI

namespace kinko::cli {

// Exit codes of the `kinko` command.
inline constexpr int kExitOk = 0;
inline constexpr int kExitNegative = 1;   // A well-formed negative answer (an invalid tx).
inline constexpr int kExitMalformed = 2;  // Malformed input or usage.

// What a command produced: the answer for stdout and the exit code (kExitOk or kExitNegative).
// The answer is `text` when it is set (a rendering for a person, lines ending in '\n'), and
// otherwise the JSON document `json`. A failed command is a Status instead, printed to stderr
// with kExitMalformed.
struct CommandOutput {
  Json json = Json();
  std::optional<std::string> text = std::nullopt;
  int exit_code = kExitOk;
};

using Action = std::function<util::Result<CommandOutput>()>;

// Receives the action of the subcommand that the command line selected.
// Not copyable or movable: subcommand callbacks keep a reference to it.
class Dispatcher final {
 public:
  Dispatcher() = default;
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  void Select(Action action) { action_ = std::move(action); }
  // The selected action; empty when none was selected (a command group without a subcommand).
  const Action& action() const { return action_; }

 private:
  Action action_;
};

// Registration of the command groups (one file each).
void RegisterTxCommands(CLI::App& app, Dispatcher& dispatcher);
void RegisterAddressCommands(CLI::App& app, Dispatcher& dispatcher);
void RegisterKeyCommands(CLI::App& app, Dispatcher& dispatcher);
void RegisterScriptCommands(CLI::App& app, Dispatcher& dispatcher);
void RegisterDescriptorCommands(CLI::App& app, Dispatcher& dispatcher);
void RegisterIdentityCommands(CLI::App& app, Dispatcher& dispatcher);  // After RegisterKeyCommands.
void RegisterIntentCommands(CLI::App& app, Dispatcher& dispatcher);
void RegisterPsbtCommands(CLI::App& app, Dispatcher& dispatcher);
void RegisterPolicyCommands(CLI::App& app, Dispatcher& dispatcher);
void RegisterAuditCommands(CLI::App& app, Dispatcher& dispatcher);
void RegisterUtxoCommands(CLI::App& app, Dispatcher& dispatcher);
void RegisterDemoCommands(CLI::App& app, Dispatcher& dispatcher);

// Decodes the hex text of the argument or option `what` ("HEX", "--leaf-hash").
// Fails with kInvalidArgument "`what`: <hex error>".
util::Result<std::vector<uint8_t>> ParseHexArgument(std::string_view what, std::string_view hex);

// Parses a non-negative integer in decimal or 0x-prefixed hex that is at most `max`.
// Fails with kInvalidArgument "`what`: ..." naming the text.
util::Result<uint64_t> ParseUnsignedArgument(std::string_view what, std::string_view text,
                                             uint64_t max);

}  // namespace kinko::cli

#endif  // KINKO_CLI_COMMAND_H_
