// memhp tests — how memhpctl prints an answer or a failure (memhpctl/cli_call.h): --quiet
// leaves stdout empty on success, --json prints the JSON, and a hostile string reaches neither
// stdout nor stderr raw (the one escaping function, ctl/terminal_text.h).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fcntl.h>
#include <pty.h>
#include <unistd.h>

#include <string>

#include "memhpctl/cli_args.h"
#include "memhpctl/cli_call.h"
#include "memhpctl/progress_line.h"
#include "memhpctl/run_command_line.h"

namespace memhp::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

struct Printed {
  int code;
  std::string out;
  std::string err;
};

template <typename F>
Printed Capture(F f) {
  ::testing::internal::CaptureStdout();
  ::testing::internal::CaptureStderr();
  const int code = f();
  std::fflush(stdout);
  std::string out = ::testing::internal::GetCapturedStdout();
  std::string err = ::testing::internal::GetCapturedStderr();
  return {code, std::move(out), std::move(err)};
}

Command With(bool json, bool quiet) {
  Command c;
  c.global.json = json;
  c.global.quiet = quiet;
  return c;
}

const std::string kHostile = "veto \x1b]0;owned\x07 \xC2\x9B" "2J \xE2\x80\xAE";

TEST(PrintAnswerTest, TextIsEscaped) {
  const Printed p = Capture([] { return PrintAnswer(With(false, false), kExitOk, "vetoed by " + kHostile + "\n", "{}"); });
  EXPECT_EQ(p.code, kExitOk);
  EXPECT_EQ(p.out, "vetoed by veto \\x1b]0;owned\\x07 \\u009b2J \\u202e\n");
}

TEST(PrintAnswerTest, QuietPrintsNothingButKeepsTheCode) {
  const Printed p = Capture([] { return PrintAnswer(With(false, true), kExitTimeout, "partly done\n", "{}"); });
  EXPECT_EQ(p.code, kExitTimeout);
  EXPECT_EQ(p.out, "");
}

TEST(PrintAnswerTest, JsonIsPrintedEvenWhenQuietAndEscaped) {
  const std::string json = "{\"vetoed_by\": \"" + kHostile + "\"}";
  const Printed p = Capture([&] { return PrintAnswer(With(true, true), kExitOk, "text", json); });
  EXPECT_EQ(p.out,
            "{\"ok\":true,\"exit_code\":0,\"error\":null,\"result\":"
            "{\"vetoed_by\":\"veto \\u001b]0;owned\\u0007 \\u009b2J \\u202e\"}}\n");
}

TEST(FailTest, EscapesOnStderrAndInJson) {
  const Printed text = Capture([] { return Fail(With(false, false), kExitFailed, "QEMU said: " + kHostile); });
  EXPECT_EQ(text.code, kExitFailed);
  EXPECT_EQ(text.out, "");
  EXPECT_EQ(text.err, "memhpctl: QEMU said: veto \\x1b]0;owned\\x07 \\u009b2J \\u202e\n");
  const Printed json = Capture([] { return Fail(With(true, true), kExitFailed, "QEMU said: " + kHostile); });
  EXPECT_THAT(json.out, HasSubstr("\\u001b]0;owned\\u0007 \\u009b2J \\u202e"));
  EXPECT_THAT(json.out, Not(HasSubstr("\x1b")));
}

TEST(UsageErrorTest, QuotesTheWordEscaped) {
  const Printed p = Capture([] { return RunCommandLine({"plug", "--size", "1\x1b[2J", "--node", "0"}); });
  EXPECT_EQ(p.code, kExitUsage);
  EXPECT_THAT(p.err, HasSubstr("not '1\\x1b[2J'"));
  EXPECT_THAT(p.err, Not(HasSubstr("\x1b")));
}

// What a ProgressLine of `command` writes to stderr when stderr is a terminal (a pty) — or
// a pipe, when `terminal` is false.
std::string ProgressOutput(const Command& command, bool terminal) {
  int reader = -1;
  int writer = -1;
  if (terminal) {
    EXPECT_EQ(openpty(&reader, &writer, nullptr, nullptr, nullptr), 0);
  } else {
    int fds[2];
    EXPECT_EQ(pipe(fds), 0);
    reader = fds[0];
    writer = fds[1];
  }
  std::fflush(stderr);
  const int saved = dup(STDERR_FILENO);
  dup2(writer, STDERR_FILENO);
  {
    ProgressLine line(command);
    line.Show("launch: booting: \x1b]0;owned\x07");
    line.Show("launch: done");
  }  // cleared as it goes
  std::fflush(stderr);
  dup2(saved, STDERR_FILENO);
  close(saved);
  close(writer);
  fcntl(reader, F_SETFL, O_NONBLOCK);
  std::string out;
  char buffer[512];
  for (ssize_t n; (n = read(reader, buffer, sizeof buffer)) > 0;) out.append(buffer, static_cast<size_t>(n));
  close(reader);
  return out;
}

TEST(ProgressLineTest, OneEscapedRewrittenLineOnATerminalOnly) {
  EXPECT_EQ(ProgressOutput(With(false, false), true),
            "\r\x1b[Klaunch: booting: \\x1b]0;owned\\x07\r\x1b[Klaunch: done\r\x1b[K");
  EXPECT_EQ(ProgressOutput(With(true, false), true), "") << "--json: a script is reading";
  EXPECT_EQ(ProgressOutput(With(false, true), true), "") << "--quiet";
  EXPECT_EQ(ProgressOutput(With(false, false), false), "") << "not a terminal: a log or a pipe";
}

}  // namespace
}  // namespace memhp::cli
