#include "cli/internal/process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace kinko::cli::internal {
namespace {

constexpr auto kPollInterval = std::chrono::milliseconds(10);

int DecodeWaitStatus(int status) {
  return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

std::string BaseName(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// Opens `path` for appending, or /dev/null when it is empty. Returns -1 on failure.
int OpenOutput(const std::string& path) {
  const char* target = path.empty() ? "/dev/null" : path.c_str();
  return open(target, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
}

// In the child after fork: only async-signal-safe calls until execve.
[[noreturn]] void ExecChild(char* const* argv, int out_fd, int err_fd, int secret_fd,
                            pid_t parent) {
  // Die with the parent, whatever ends it; and close the race where it died before prctl.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(127);
  // Own process group: a Ctrl-C on the terminal reaches the demo, which stops its children in
  // order, rather than every child at once.
  setpgid(0, 0);
  if (dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0) _exit(127);
  if (secret_fd >= 0 && dup2(secret_fd, kSecretInputFd) < 0) _exit(127);
  const int devnull = open("/dev/null", O_RDONLY);
  if (devnull >= 0) dup2(devnull, 0);
  // The descriptors opened by the parent are O_CLOEXEC; the dup2 copies are not.
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  execve(argv[0], argv, environ);
  _exit(127);
}

}  // namespace

util::Result<ChildProcess> ChildProcess::Start(const ProcessOptions& options) {
  if (options.argv.empty()) return util::InternalError("no program to start");
  const std::string name = BaseName(options.argv[0]);
  std::vector<char*> argv;
  for (const std::string& arg : options.argv) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);

  const int out_fd = OpenOutput(options.stdout_path);
  const int err_fd = OpenOutput(options.stderr_path);
  int secret_pipe[2] = {-1, -1};
  const bool files_ok = out_fd >= 0 && err_fd >= 0;
  const bool pipe_ok = !options.secret_input || pipe2(secret_pipe, O_CLOEXEC) == 0;
  pid_t pid = -1;
  if (files_ok && pipe_ok) {
    const pid_t parent = getpid();
    pid = fork();
    if (pid == 0) ExecChild(argv.data(), out_fd, err_fd, secret_pipe[0], parent);
  }
  if (out_fd >= 0) close(out_fd);
  if (err_fd >= 0) close(err_fd);
  if (secret_pipe[0] >= 0) close(secret_pipe[0]);
  if (pid > 0 && options.secret_input) {
    // A child that died before reading shows up as its exit status; SIGPIPE is not wanted here.
    const std::string& input = *options.secret_input;
    size_t done = 0;
    while (done < input.size()) {
      const ssize_t n = write(secret_pipe[1], input.data() + done, input.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
  }
  if (secret_pipe[1] >= 0) close(secret_pipe[1]);
  if (!files_ok) return util::UnavailableError("cannot open the output files of " + name);
  if (!pipe_ok || pid < 0) return util::UnavailableError("cannot start " + name);
  return ChildProcess(pid, name);
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : pid_(other.pid_), exit_status_(other.exit_status_), name_(std::move(other.name_)) {
  other.pid_ = -1;
}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    if (pid_ > 0) Stop(std::chrono::seconds(5));
    pid_ = other.pid_;
    exit_status_ = other.exit_status_;
    name_ = std::move(other.name_);
    other.pid_ = -1;
  }
  return *this;
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0) Stop(std::chrono::seconds(5));
}

bool ChildProcess::Running() {
  if (pid_ <= 0) return false;
  int status = 0;
  const pid_t done = waitpid(pid_, &status, WNOHANG);
  if (done == pid_) {
    exit_status_ = DecodeWaitStatus(status);
    pid_ = -1;
    return false;
  }
  return done == 0;
}

util::Result<int> ChildProcess::Wait(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (Running()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return util::UnavailableError(name_ + " (pid " + std::to_string(pid_) +
                                    ") still running after " + std::to_string(timeout.count()) +
                                    " ms");
    }
    std::this_thread::sleep_for(kPollInterval);
  }
  return exit_status_.value_or(-1);
}

int ChildProcess::Stop(std::chrono::milliseconds grace) {
  if (pid_ <= 0) return exit_status_.value_or(-1);
  kill(pid_, SIGTERM);
  util::Result<int> status = Wait(grace);
  if (status.ok()) return *status;
  kill(pid_, SIGKILL);
  int raw = 0;
  while (waitpid(pid_, &raw, 0) < 0 && errno == EINTR) {
  }
  exit_status_ = DecodeWaitStatus(raw);
  pid_ = -1;
  return *exit_status_;
}

util::Result<ProcessResult> RunProcess(const ProcessOptions& options,
                                       std::chrono::milliseconds timeout) {
  if (options.stdout_path.empty() || options.stderr_path.empty()) {
    return util::InternalError("RunProcess needs stdout_path and stderr_path");
  }
  std::error_code ignored;
  std::filesystem::remove(options.stdout_path, ignored);
  std::filesystem::remove(options.stderr_path, ignored);
  util::Result<ChildProcess> child = ChildProcess::Start(options);
  if (!child.ok()) return child.status();
  util::Result<int> status = child->Wait(timeout);
  if (!status.ok()) {
    child->Stop(std::chrono::seconds(1));
    return status.status();
  }
  ProcessResult result{.exit_code = *status,
                       .out = ReadTextFile(options.stdout_path),
                       .err = ReadTextFile(options.stderr_path)};
  if (result.exit_code == 127 && result.err.empty()) {
    return util::UnavailableError("cannot run " + options.argv[0]);
  }
  return result;
}

util::Result<uint16_t> WaitForPortFile(ChildProcess& child, const std::string& port_file,
                                       const std::string& log_path,
                                       std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    std::string text = ReadTextFile(port_file);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    if (!text.empty() && text.size() <= 5 &&
        text.find_first_not_of("0123456789") == std::string::npos) {
      const unsigned long port = std::strtoul(text.c_str(), nullptr, 10);
      if (port > 0 && port <= 65535) return static_cast<uint16_t>(port);
    }
    if (!child.Running()) {
      return util::UnavailableError(
          child.name() + " exited during start-up: " + LastLines(ReadTextFile(log_path), 5));
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return util::UnavailableError(child.name() + " wrote no port file in " +
                                    std::to_string(timeout.count()) +
                                    " ms: " + LastLines(ReadTextFile(log_path), 5));
    }
    std::this_thread::sleep_for(kPollInterval);
  }
}

std::string ReadTextFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string LastLines(const std::string& text, size_t max_lines) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(std::move(line));
  }
  std::string out;
  const size_t first = lines.size() > max_lines ? lines.size() - max_lines : 0;
  for (size_t i = first; i < lines.size(); ++i) {
    if (!out.empty()) out += " | ";
    out += lines[i];
  }
  return out;
}

util::Result<std::string> ExecutableDirectory() {
  std::error_code error;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", error);
  if (error) return util::UnavailableError("cannot read /proc/self/exe: " + error.message());
  return self.parent_path().string();
}

util::Result<std::string> FindProgram(const std::string& name, const char* env_var,
                                      const std::string& sibling_dir) {
  if (const char* from_env = std::getenv(env_var); from_env != nullptr && *from_env != '\0') {
    if (access(from_env, X_OK) == 0) return std::string(from_env);
    return util::NotFoundError(std::string("$") + env_var + " = " + from_env +
                               ": not an executable file");
  }
  util::Result<std::string> dir = ExecutableDirectory();
  if (!dir.ok()) return dir.status();
  const std::vector<std::string> candidates = {*dir + "/" + name,
                                               *dir + "/../" + sibling_dir + "/" + name};
  for (const std::string& candidate : candidates) {
    if (access(candidate.c_str(), X_OK) == 0) {
      return std::filesystem::weakly_canonical(candidate).string();
    }
  }
  return util::NotFoundError(name + " not found: set $" + env_var + ", or build it beside kinko (" +
                             candidates[0] + ", " + candidates[1] + ")");
}

}  // namespace kinko::cli::internal
