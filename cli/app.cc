#include "cli/app.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <string>

#include "cli/command.h"
#include "cli/json_output.h"

namespace kinko::cli {
namespace {

void PrintError(std::string_view message) {
  std::string line = "kinko: error: ";
  line += message;
  line += "\n";
  std::fputs(line.c_str(), stderr);
}

// Runs the selected action and prints its answer. stdout receives the complete document or
// nothing at all.
int RunAction(const Action& action) {
  util::Result<CommandOutput> output = action();
  if (!output.ok()) {
    PrintError(output.status().message());
    return kExitMalformed;
  }
  const std::string text = output->text ? *output->text : WriteJson(output->json);
  if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() || std::fflush(stdout) != 0) {
    PrintError("cannot write to stdout");
    return kExitMalformed;
  }
  return output->exit_code;
}

int MainOrThrow(int argc, char** argv) {
  CLI::App app(
      "kinko: authorize and sign Bitcoin transfers.\n"
      "Answers are JSON on stdout (intents, approvals and policies are shown as text for a\n"
      "person unless --json is given); errors go to stderr. Exit status: 0 success, 1 a\n"
      "negative answer (an invalid transaction, a refused policy or request), 2 malformed input\n"
      "or usage.",
      "kinko");
  app.require_subcommand(1);
  app.failure_message([](const CLI::App*, const CLI::Error& e) {
    return "kinko: error: " + std::string(e.what()) + "\nRun with --help for more information.\n";
  });
  Dispatcher dispatcher;
  RegisterTxCommands(app, dispatcher);
  RegisterAddressCommands(app, dispatcher);
  RegisterKeyCommands(app, dispatcher);
  RegisterScriptCommands(app, dispatcher);
  RegisterDescriptorCommands(app, dispatcher);
  RegisterIdentityCommands(app, dispatcher);
  RegisterIntentCommands(app, dispatcher);
  RegisterPsbtCommands(app, dispatcher);
  RegisterPolicyCommands(app, dispatcher);
  RegisterAuditCommands(app, dispatcher);
  RegisterUtxoCommands(app, dispatcher);
  RegisterDemoCommands(app, dispatcher);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // CLI11 prints --help to stdout (exit 0) and usage errors to stderr.
    const int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitMalformed;
  }
  if (!dispatcher.action()) {
    PrintError("no command given; see kinko --help");
    return kExitMalformed;
  }
  return RunAction(dispatcher.action());
}

}  // namespace

int Main(int argc, char** argv) {
  // No exception may escape: CLI11 and nlohmann throw, and our own code does not. Anything
  // caught here is a bug, reported without printing a partial answer.
  try {
    return MainOrThrow(argc, argv);
  } catch (const std::exception& e) {
    PrintError(std::string("internal error: ") + e.what());
  } catch (...) {
    PrintError("internal error");
  }
  return kExitMalformed;
}

}  // namespace kinko::cli
