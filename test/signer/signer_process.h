// Test helpers that run `kinko-signer run` as a real process: spawn it with its passphrase on a
// pipe, wait until it has written its port file, talk to it over loopback HTTP, and stop it
// with SIGTERM or SIGKILL. Also runs the `kinko` command and captures its output.
//
// The paths of the two executables come from the build (KINKO_SIGNER_BINARY, KINKO_BINARY).
// Failures to start are reported as util::Status so that tests can ASSERT on them.
//
// Not thread-safe; one owner per SignerProcess, except Kill, which another thread may call
// (the crash test's killer).
#ifndef KINKO_TEST_SIGNER_SIGNER_PROCESS_H_
#define KINKO_TEST_SIGNER_SIGNER_PROCESS_H_

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "util/result.h"
#include "util/status.h"

extern char** environ;

namespace kinko::testing {

// The file descriptor on which the signer reads its passphrase.
inline constexpr int kPassphraseFd = 3;

// What a finished child process left: its exit status (or -signal) and its output.
struct ProcessOutput {
  int exit_code = -1;  // The exit status, or minus the signal that ended it.
  std::string out;
  std::string err;
};

inline std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Starts `argv` with stdout and stderr sent to the files `out` and `err` and, when `stdin_fd`
// >= 0, that descriptor as descriptor `target_fd` of the child. Returns its pid.
inline util::Result<pid_t> Spawn(const std::vector<std::string>& argv, const std::string& out,
                                 const std::string& err, int stdin_fd, int target_fd) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  if (stdin_fd >= 0) posix_spawn_file_actions_adddup2(&actions, stdin_fd, target_fd);
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return util::UnavailableError("cannot start " + argv[0]);
  return pid;
}

// Runs `kinko` with `args` to completion.
inline ProcessOutput RunKinko(const std::vector<std::string>& args, const std::string& scratch) {
  std::vector<std::string> argv = {KINKO_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  const std::string out = scratch + "/kinko.out";
  const std::string err = scratch + "/kinko.err";
  std::filesystem::remove(out);
  std::filesystem::remove(err);
  ProcessOutput result;
  util::Result<pid_t> pid = Spawn(argv, out, err, -1, -1);
  if (!pid.ok()) {
    result.err = pid.status().message();
    return result;
  }
  int status = 0;
  while (waitpid(*pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  result.out = ReadWholeFile(out);
  result.err = ReadWholeFile(err);
  return result;
}

// The port in a port file's text ("8080" or "8080\n"), or 0 when it is not (yet) one.
inline uint16_t ParsePort(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  if (text.empty() || text.size() > 5 ||
      text.find_first_not_of("0123456789") != std::string::npos) {
    return 0;
  }
  const unsigned long port = std::stoul(text);
  return port <= 65535 ? static_cast<uint16_t>(port) : 0;
}

// One `kinko-signer run` process over a state directory. Movable, not copyable; the destructor
// kills a process still running.
class SignerProcess final {
 public:
  // Starts the signer on `dir` (made by signerd::Keygen and Init) with `passphrase`, and waits
  // (up to `timeout`) until it has written its port file. Fails with kUnavailable, quoting the
  // signer's stderr, when it exits or does not write the file in time.
  static util::Result<std::unique_ptr<SignerProcess>> Start(
      const std::string& dir, const std::string& passphrase,
      std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
    const std::string port_file = dir + "/port";
    const std::string err_file = dir + "/signer.err";
    std::filesystem::remove(port_file);
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return util::UnavailableError("pipe failed");
    const std::vector<std::string> argv = {
        KINKO_SIGNER_BINARY,           "run",      "--dir",       dir,           "--passphrase-fd",
        std::to_string(kPassphraseFd), "--listen", "127.0.0.1:0", "--port-file", port_file};
    util::Result<pid_t> pid = Spawn(argv, dir + "/signer.out", err_file, fds[0], kPassphraseFd);
    close(fds[0]);
    if (pid.ok()) {
      // Errors are ignored: a signer that died before reading shows in the wait below.
      const ssize_t written = write(fds[1], passphrase.data(), passphrase.size());
      (void)written;
    }
    close(fds[1]);
    if (!pid.ok()) return pid.status();
    auto process = std::unique_ptr<SignerProcess>(new SignerProcess(*pid, dir));
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (waitpid(*pid, &status, WNOHANG) == *pid) {
        process->pid_ = -1;
        return util::UnavailableError("kinko-signer exited during start-up: " +
                                      ReadWholeFile(err_file));
      }
      const uint16_t port = ParsePort(ReadWholeFile(port_file));
      if (port != 0) {
        process->port_ = port;
        return process;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return util::UnavailableError("kinko-signer wrote no port file in time: " +
                                  ReadWholeFile(err_file));
  }

  ~SignerProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      Wait();
    }
  }
  SignerProcess(const SignerProcess&) = delete;
  SignerProcess& operator=(const SignerProcess&) = delete;

  uint16_t port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  const std::string& dir() const { return dir_; }

  // Sends `signal` to the process (any thread); no effect once it has been waited for.
  void Kill(int signal) {
    const pid_t pid = pid_.load();
    if (pid > 0) kill(pid, signal);
  }

  // Waits for the process to end; returns its exit status, or minus the signal that ended it.
  int Wait() {
    const pid_t pid = pid_.exchange(-1);
    if (pid <= 0) return -1;
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  }

  // SIGTERM, then waits: a clean stop (exit status 0 expected).
  int Stop() {
    Kill(SIGTERM);
    return Wait();
  }

 private:
  SignerProcess(pid_t pid, std::string dir) : pid_(pid), dir_(std::move(dir)) {}

  std::atomic<pid_t> pid_;
  std::string dir_;
  uint16_t port_ = 0;
};

// A fresh, empty scratch directory for one test.
inline std::string MakeScratchDir(const std::string& name) {
  std::string path =
      (std::filesystem::temp_directory_path() / ("kinko-" + name + "-" + std::to_string(getpid())))
          .string();
  std::filesystem::remove_all(path);
  std::filesystem::create_directories(path);
  return path;
}

}  // namespace kinko::testing

#endif  // KINKO_TEST_SIGNER_SIGNER_PROCESS_H_
