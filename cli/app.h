// The `kinko` command: subcommands, their options and their JSON output.
//
// Exit codes: 0 success, 1 a negative answer (e.g. an invalid transaction), 2 malformed input
// or usage. Errors go to stderr; nothing partial is printed to stdout.
//
// Not thread-safe; call once from main().
#ifndef KINKO_CLI_APP_H_
#define KINKO_CLI_APP_H_

namespace kinko::cli {

// Runs the `kinko` command with `argv` and returns its exit code.
int Main(int argc, char** argv);

}  // namespace kinko::cli

#endif  // KINKO_CLI_APP_H_
