// A real PostgreSQL server for tests and benchmarks, started from the test itself: initdb in a
// temporary directory (trust authentication, superuser `kinko`, no fsync), then `postgres`
// listening on 127.0.0.1 at a free port and on a Unix socket in that directory. Databases are
// created on demand; the destructor stops the server (fast shutdown) and removes the directory.
//
// The binaries come from $KINKO_PG_BINDIR, or else the newest /usr/lib/postgresql/<N>/bin
// (Debian's postgresql package). PostgreSQL refuses to run as root: when the test runs as root,
// the directory is given to the `postgres` system user and initdb and postgres run as that user
// (switched in the child between fork and exec); otherwise they run as the test's user.
//
//   util::Result<PostgresServer*> server = PostgresServer::Shared();
//   if (!server.ok()) GTEST_SKIP() << server.status();
//   util::Result<std::string> url = (*server)->CreateDatabase("intents_test");
//
// The server is started with the parent-death signal SIGINT, so a test binary that crashes
// does not leave it running: start it (the first Shared()) from the main thread, which lives
// as long as the process.
//
// Not thread-safe; one owner. CreateDatabase may be called from several threads at once.
#ifndef KINKO_TEST_SUPPORT_POSTGRES_SERVER_H_
#define KINKO_TEST_SUPPORT_POSTGRES_SERVER_H_

#include <fcntl.h>
#include <grp.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "util/result.h"
#include "util/status.h"

namespace kinko::testing {

class PostgresServer final {
 public:
  // Initialises a cluster and starts a server. Fails with kFailedPrecondition when no
  // PostgreSQL binaries are installed (the message says how to get them), kInternal when
  // initdb or the server fails (the message holds the end of its log).
  static util::Result<std::unique_ptr<PostgresServer>> Start() {
    std::optional<std::string> bindir = FindBinDir();
    if (!bindir.has_value()) {
      return util::FailedPreconditionError(
          "no PostgreSQL server binaries (initdb, postgres) in $KINKO_PG_BINDIR or "
          "/usr/lib/postgresql/*/bin: install the postgresql package (scripts/install-deps "
          "--test) to run the PostgreSQL tests");
    }
    std::optional<RunAs> run_as;
    if (geteuid() == 0) {
      const passwd* user = getpwnam("postgres");
      if (user == nullptr) {
        return util::FailedPreconditionError(
            "running as root and no 'postgres' system user to run PostgreSQL as");
      }
      run_as = RunAs{.uid = user->pw_uid, .gid = user->pw_gid};
    }
    std::string pattern = (std::filesystem::temp_directory_path() / "kinko-pg-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) {
      return util::InternalError("postgres server: mkdtemp failed");
    }
    std::unique_ptr<PostgresServer> server(new PostgresServer(*bindir, pattern, run_as));
    if (run_as.has_value() && chown(pattern.c_str(), run_as->uid, run_as->gid) != 0) {
      return util::InternalError("postgres server: cannot chown " + pattern);
    }
    util::Status initialised = server->InitDb();
    if (!initialised.ok()) return initialised;
    util::Status started = server->Resume();
    if (!started.ok()) return started;
    return server;
  }

  // The server shared by every test of this binary, started on the first call and stopped at
  // exit; or why none can run (as Start, remembered).
  static util::Result<PostgresServer*> Shared() {
    static util::Result<std::unique_ptr<PostgresServer>> shared = Start();
    if (!shared.ok()) return shared.status();
    return shared.value().get();
  }

  ~PostgresServer() {
    Stop();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  // Creates database `name` ([a-z0-9_]+, not used before on this server) and returns its
  // connection URL ("postgresql://kinko@127.0.0.1:PORT/name"). kInvalidArgument for a bad
  // name; kInternal when the server refuses.
  util::Result<std::string> CreateDatabase(std::string_view name) {
    if (!IsPlainName(name)) {
      return util::InvalidArgumentError("database name '" + std::string(name) + "'");
    }
    PGconn* conn = PQconnectdb(Url("postgres").c_str());
    if (PQstatus(conn) != CONNECTION_OK) {
      std::string error = PQerrorMessage(conn);
      PQfinish(conn);
      return util::InternalError("postgres server: connect: " + error);
    }
    // A plain name (checked above): safe to place in the statement.
    PGresult* result = PQexec(conn, ("CREATE DATABASE " + std::string(name)).c_str());
    const bool created = PQresultStatus(result) == PGRES_COMMAND_OK;
    std::string error = PQresultErrorMessage(result);
    PQclear(result);
    PQfinish(conn);
    if (!created) return util::InternalError("postgres server: create database: " + error);
    return Url(name);
  }

  // Drops database `name`, disconnecting its clients. Returns false when the server refuses.
  bool DropDatabase(std::string_view name) {
    if (!IsPlainName(name)) return false;
    return Run("DROP DATABASE IF EXISTS " + std::string(name) + " WITH (FORCE)");
  }

  // Runs `sql` on database `database` (test set-up and damage). Returns false on any error.
  bool Run(const std::string& sql, std::string_view database = "postgres") {
    PGconn* conn = PQconnectdb(Url(database).c_str());
    bool ok = PQstatus(conn) == CONNECTION_OK;
    if (ok) {
      PGresult* result = PQexec(conn, sql.c_str());
      ok = PQresultStatus(result) == PGRES_COMMAND_OK || PQresultStatus(result) == PGRES_TUPLES_OK;
      PQclear(result);
    }
    PQfinish(conn);
    return ok;
  }

  // The connection URL of database `name` over TCP.
  std::string Url(std::string_view name) const {
    return "postgresql://kinko@127.0.0.1:" + std::to_string(port_) + "/" + std::string(name);
  }

  // Stops the server (fast shutdown: clients are disconnected) and waits for it. No-op when
  // stopped.
  void Stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGINT);
    for (int i = 0; i < 300 && !Reaped(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
      pid_ = 0;
    }
  }

  // Starts the server again on the same directory and port (after Stop), and waits until it
  // accepts connections. kInternal when it does not.
  util::Status Resume() {
    if (pid_ > 0) return util::OkStatus();
    for (int attempt = 0; attempt < 5; ++attempt) {
      if (port_ == 0 || attempt > 0) port_ = FreePort();
      util::Result<pid_t> pid = Spawn(
          {bindir_ + "/postgres", "-D", DataDir(), "-k", dir_, "-p", std::to_string(port_), "-c",
           "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "full_page_writes=off", "-c",
           "synchronous_commit=off", "-c", "max_connections=200"},
          dir_ + "/server.log");
      if (!pid.ok()) return pid.status();
      pid_ = *pid;
      for (int i = 0; i < 1500; ++i) {
        if (PQping(Url("postgres").c_str()) == PQPING_OK) return util::OkStatus();
        if (Reaped()) break;  // Exited: most likely the port was taken meanwhile.
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      Stop();
    }
    return util::InternalError("postgres server did not start: " + LogTail("server.log"));
  }

  const std::string& dir() const { return dir_; }
  uint16_t port() const { return port_; }
  // The bin directory used (psql, pg_dump, ... are there too).
  const std::string& bindir() const { return bindir_; }

 private:
  struct RunAs {
    uid_t uid;
    gid_t gid;
  };

  PostgresServer(std::string bindir, std::string dir, std::optional<RunAs> run_as)
      : bindir_(std::move(bindir)), dir_(std::move(dir)), run_as_(run_as) {}

  // [a-z0-9_]+: a name that can be placed in a statement as it is.
  static bool IsPlainName(std::string_view name) {
    return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    });
  }

  // $KINKO_PG_BINDIR, or the highest-numbered /usr/lib/postgresql/<N>/bin holding initdb.
  static std::optional<std::string> FindBinDir() {
    auto usable = [](const std::filesystem::path& dir) {
      return std::filesystem::exists(dir / "initdb") && std::filesystem::exists(dir / "postgres");
    };
    if (const char* env = std::getenv("KINKO_PG_BINDIR"); env != nullptr && *env != '\0') {
      if (usable(env)) return std::string(env);
      return std::nullopt;
    }
    std::error_code error;
    std::optional<std::pair<int, std::string>> best;
    for (const auto& entry : std::filesystem::directory_iterator("/usr/lib/postgresql", error)) {
      const std::string version = entry.path().filename().string();
      if (version.empty() || !std::all_of(version.begin(), version.end(), ::isdigit)) continue;
      if (!usable(entry.path() / "bin")) continue;
      const int number = std::stoi(version);
      if (!best.has_value() || number > best->first) {
        best.emplace(number, (entry.path() / "bin").string());
      }
    }
    if (!best.has_value()) return std::nullopt;
    return best->second;
  }

  // A port nothing listens on now (the kernel's choice for port 0); Resume retries if it is
  // taken before the server binds it.
  static uint16_t FreePort() {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t length = sizeof(addr);
    uint16_t port = 0;
    if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
        getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length) == 0) {
      port = ntohs(addr.sin_port);
    }
    close(fd);
    return port;
  }

  std::string DataDir() const { return dir_ + "/data"; }

  util::Status InitDb() {
    util::Result<pid_t> pid = Spawn({bindir_ + "/initdb", "-D", DataDir(), "-A", "trust", "-U",
                                     "kinko", "--no-sync", "-E", "UTF8", "--no-locale"},
                                    dir_ + "/initdb.log");
    if (!pid.ok()) return pid.status();
    int status = 0;
    if (waitpid(*pid, &status, 0) != *pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      return util::InternalError("initdb failed: " + LogTail("initdb.log"));
    }
    return util::OkStatus();
  }

  // Starts `argv` with stdout and stderr appended to `log`, as the `postgres` user when the
  // test runs as root, in the server's directory. Returns its pid.
  util::Result<pid_t> Spawn(const std::vector<std::string>& argv, const std::string& log) {
    std::vector<char*> args;
    for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    const pid_t parent = getpid();
    const pid_t pid = fork();
    if (pid < 0) return util::InternalError("postgres server: fork failed");
    if (pid == 0) {
      // Only async-signal-safe calls from here to exec (the parent may have threads).
      if (run_as_.has_value()) {
        if (setgroups(0, nullptr) != 0 || setgid(run_as_->gid) != 0 || setuid(run_as_->uid) != 0) {
          _exit(126);
        }
      }
      // Set after setuid, which clears it; stops the server if the test process dies.
      prctl(PR_SET_PDEATHSIG, SIGINT);
      if (getppid() != parent) _exit(126);
      int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
      if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0 || chdir(dir_.c_str()) != 0) _exit(126);
      execv(args[0], args.data());
      _exit(127);
    }
    return pid;
  }

  // True when the server process has exited (and is reaped).
  bool Reaped() {
    if (pid_ <= 0) return true;
    if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
      pid_ = 0;
      return true;
    }
    return false;
  }

  std::string LogTail(const std::string& file) const {
    std::ifstream in(dir_ + "/" + file);
    std::stringstream text;
    text << in.rdbuf();
    std::string all = text.str();
    return all.size() > 2000 ? all.substr(all.size() - 2000) : all;
  }

  const std::string bindir_;
  const std::string dir_;
  const std::optional<RunAs> run_as_;
  uint16_t port_ = 0;
  pid_t pid_ = 0;
};

}  // namespace kinko::testing

#endif  // KINKO_TEST_SUPPORT_POSTGRES_SERVER_H_
