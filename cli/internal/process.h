// Child processes of `kinko demo`: kinko-signer, kinkod, bitcoind and kinko itself, started with
// their output sent to files and, when given, a secret input (a passphrase) on a pipe as file
// descriptor 3 (never on the command line or in the environment).
//
// A child is bound to the process that started it: it is killed (SIGKILL) when that process
// dies, even by a signal, so that nothing a demo started outlives it. ChildProcess stops its
// child (SIGTERM, then SIGKILL after a grace period) when it is destroyed.
//
// Not thread-safe; one owner per ChildProcess. The caller must be single-threaded while it
// starts children (fork).
#ifndef KINKO_CLI_INTERNAL_PROCESS_H_
#define KINKO_CLI_INTERNAL_PROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "util/result.h"
#include "util/status.h"

namespace kinko::cli::internal {

// The descriptor on which a child reads `secret_input`.
inline constexpr int kSecretInputFd = 3;

struct ProcessOptions {
  std::vector<std::string> argv = {};  // argv[0] is the path of the executable.
  std::string stdout_path = "";        // Appended to; empty: /dev/null.
  std::string stderr_path = "";        // Appended to; empty: /dev/null.
  // Written to a pipe that the child reads as kSecretInputFd, then the pipe is closed.
  std::optional<std::string> secret_input = std::nullopt;
};

// Movable, not copyable. Stops the child in the destructor if it still runs.
class ChildProcess final {
 public:
  // Starts `options.argv`. Fails with kUnavailable naming the executable when it cannot be
  // started (fork or pipe failed, or the file cannot be executed: exit status 127).
  static util::Result<ChildProcess> Start(const ProcessOptions& options);

  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  // The executable's name (argv[0] without its directory), for messages.
  const std::string& name() const { return name_; }

  // True while the child has not exited.
  bool Running();

  // Waits up to `timeout` for the child to exit. Returns its exit status, or minus the signal
  // that ended it. Fails with kUnavailable when it is still running after `timeout` (it is left
  // running).
  util::Result<int> Wait(std::chrono::milliseconds timeout);

  // Sends SIGTERM and waits up to `grace`; then SIGKILL. Returns the exit status, or minus the
  // signal that ended it; -1 when the child had been waited for already.
  int Stop(std::chrono::milliseconds grace);

 private:
  ChildProcess(pid_t pid, std::string name) : pid_(pid), name_(std::move(name)) {}

  pid_t pid_ = -1;  // -1 once waited for.
  std::optional<int> exit_status_;
  std::string name_;
};

struct ProcessResult {
  int exit_code = -1;  // The exit status, or minus the signal that ended the process.
  std::string out;     // What it wrote on stdout (from options.stdout_path).
  std::string err;     // What it wrote on stderr (from options.stderr_path).
};

// Runs `options` to completion, at most `timeout` (then it is killed and this fails with
// kUnavailable). stdout_path and stderr_path must be set: they are truncated first, and their
// contents returned. Fails as ChildProcess::Start.
util::Result<ProcessResult> RunProcess(const ProcessOptions& options,
                                       std::chrono::milliseconds timeout);

// Waits up to `timeout` for `child` to write a TCP port number to `port_file` (the --port-file
// of kinko-signer, kinkod and the regtest launcher). Fails with kUnavailable, quoting the end
// of `log_path`, when the child exits or the time runs out.
util::Result<uint16_t> WaitForPortFile(ChildProcess& child, const std::string& port_file,
                                       const std::string& log_path,
                                       std::chrono::milliseconds timeout);

// The contents of the file `path`, or "" when it cannot be read.
std::string ReadTextFile(const std::string& path);

// The last `max_lines` non-empty lines of `text` joined by " | ", for error messages quoting a
// log.
std::string LastLines(const std::string& text, size_t max_lines);

// The directory of the running executable (/proc/self/exe), to find the programs built beside
// it. Fails with kUnavailable when it cannot be read.
util::Result<std::string> ExecutableDirectory();

// The program `name`: the path in the environment variable `env_var` when it is set, else
// `name` in ExecutableDirectory(), else `sibling_dir`/`name` relative to it (the build tree:
// build/release/cli/kinko beside build/release/signerd/kinko-signer). Fails with kNotFound
// naming every place tried.
util::Result<std::string> FindProgram(const std::string& name, const char* env_var,
                                      const std::string& sibling_dir);

}  // namespace kinko::cli::internal

#endif  // KINKO_CLI_INTERNAL_PROCESS_H_
