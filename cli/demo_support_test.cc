// Tests of the demo's support code: child processes (cli/internal/process.h) and the narration's
// wrapping and amounts (cli/internal/narrator.h).
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include "cli/internal/narrator.h"
#include "cli/internal/process.h"
#include "gtest/gtest.h"

namespace kinko::cli::internal {
namespace {

using std::chrono::milliseconds;

class ProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        std::filesystem::temp_directory_path() / ("kinko-process-test-" + std::to_string(getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  std::filesystem::path dir_;
};

TEST_F(ProcessTest, RunProcessReturnsExitStatusAndOutput) {
  util::Result<ProcessResult> result =
      RunProcess(ProcessOptions{.argv = {"/bin/sh", "-c", "echo out; echo err >&2; exit 3"},
                                .stdout_path = Path("out"),
                                .stderr_path = Path("err")},
                 milliseconds(10000));
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_EQ(result->exit_code, 3);
  EXPECT_EQ(result->out, "out\n");
  EXPECT_EQ(result->err, "err\n");
}

TEST_F(ProcessTest, SecretInputArrivesOnDescriptorThree) {
  util::Result<ProcessResult> result =
      RunProcess(ProcessOptions{.argv = {"/bin/sh", "-c", "cat <&3"},
                                .stdout_path = Path("out"),
                                .stderr_path = Path("err"),
                                .secret_input = "a passphrase"},
                 milliseconds(10000));
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_EQ(result->exit_code, 0);
  EXPECT_EQ(result->out, "a passphrase");
}

TEST_F(ProcessTest, RunProcessKillsAtTimeout) {
  const auto start = std::chrono::steady_clock::now();
  util::Result<ProcessResult> result = RunProcess(
      ProcessOptions{
          .argv = {"/bin/sleep", "30"}, .stdout_path = Path("out"), .stderr_path = Path("err")},
      milliseconds(200));
  EXPECT_EQ(result.status().code(), util::StatusCode::kUnavailable);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

TEST_F(ProcessTest, MissingProgramIsUnavailable) {
  util::Result<ProcessResult> result = RunProcess(ProcessOptions{.argv = {Path("no-such-program")},
                                                                 .stdout_path = Path("out"),
                                                                 .stderr_path = Path("err")},
                                                  milliseconds(10000));
  EXPECT_EQ(result.status().code(), util::StatusCode::kUnavailable);
}

TEST_F(ProcessTest, StopSendsTermThenKill) {
  // A child that exits on SIGTERM: exit status -SIGTERM.
  util::Result<ChildProcess> polite =
      ChildProcess::Start(ProcessOptions{.argv = {"/bin/sleep", "30"}});
  ASSERT_TRUE(polite.ok());
  EXPECT_TRUE(polite->Running());
  EXPECT_EQ(polite->Stop(milliseconds(5000)), -SIGTERM);
  EXPECT_FALSE(polite->Running());
  // A child that ignores SIGTERM is killed after the grace period.
  util::Result<ChildProcess> stubborn = ChildProcess::Start(ProcessOptions{
      .argv = {"/bin/sh", "-c", "trap '' TERM; echo ready; while :; do sleep 0.05; done"},
      .stdout_path = Path("stubborn")});
  ASSERT_TRUE(stubborn.ok());
  while (ReadTextFile(Path("stubborn")).empty()) std::this_thread::sleep_for(milliseconds(10));
  EXPECT_EQ(stubborn->Stop(milliseconds(200)), -SIGKILL);
}

TEST_F(ProcessTest, DestructorStopsTheChild) {
  pid_t pid = 0;
  {
    util::Result<ChildProcess> child =
        ChildProcess::Start(ProcessOptions{.argv = {"/bin/sleep", "30"}});
    ASSERT_TRUE(child.ok());
    pid = child->pid();
    EXPECT_EQ(kill(pid, 0), 0);
  }
  EXPECT_NE(kill(pid, 0), 0);  // Reaped: the pid no longer exists (or is not ours).
}

TEST_F(ProcessTest, WaitForPortFileReadsThePort) {
  const std::string port_file = Path("port");
  util::Result<ChildProcess> child = ChildProcess::Start(ProcessOptions{
      .argv = {"/bin/sh", "-c", "sleep 0.1; echo 4242 > " + port_file + "; sleep 30"}});
  ASSERT_TRUE(child.ok());
  util::Result<uint16_t> port =
      WaitForPortFile(*child, port_file, Path("log"), milliseconds(10000));
  ASSERT_TRUE(port.ok()) << port.status().message();
  EXPECT_EQ(*port, 4242);
}

TEST_F(ProcessTest, WaitForPortFileReportsAnEarlyExitWithTheLog) {
  const std::string log = Path("log");
  util::Result<ChildProcess> child = ChildProcess::Start(ProcessOptions{
      .argv = {"/bin/sh", "-c", "echo 'cannot bind' >&2; exit 1"}, .stderr_path = log});
  ASSERT_TRUE(child.ok());
  util::Result<uint16_t> port = WaitForPortFile(*child, Path("port"), log, milliseconds(10000));
  EXPECT_EQ(port.status().code(), util::StatusCode::kUnavailable);
  EXPECT_NE(port.status().message().find("cannot bind"), std::string::npos);
}

TEST(LastLinesTest, KeepsTheLastNonEmptyLines) {
  EXPECT_EQ(LastLines("a\nb\n\nc\n", 2), "b | c");
  EXPECT_EQ(LastLines("only", 3), "only");
  EXPECT_EQ(LastLines("", 3), "");
}

TEST(WrapTest, BreaksAtSpacesWithPrefixes) {
  struct Case {
    std::string text;
    size_t width;
    std::string expected;
  };
  const Case cases[] = {
      {"one two three", 100, "1. one two three\n"},
      {"one two three", 10, "1. one two\n   three\n"},
      {"averyveryverylongword x", 8, "1. averyveryverylongword\n   x\n"},
      {"a\nb", 100, "1. a\n   b\n"},
      {"", 100, "1. \n"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(Wrap(c.text, "1. ", "   ", c.width), c.expected) << c.text;
  }
}

TEST(FormatBtcTest, DropsTrailingZeros) {
  struct Case {
    int64_t sats;
    std::string expected;
  };
  const Case cases[] = {
      {0, "0 BTC"},
      {1, "0.00000001 BTC"},
      {40'000'000, "0.4 BTC"},
      {1'000'000'000, "10 BTC"},
      {959'997'000, "9.59997 BTC"},
      {-150'000'000, "-1.5 BTC"},
  };
  for (const Case& c : cases) EXPECT_EQ(FormatBtc(c.sats), c.expected) << c.sats;
}

}  // namespace
}  // namespace kinko::cli::internal
