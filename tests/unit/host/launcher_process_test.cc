// memhp tests — starting a daemon and ending it (launcher/process.h), with /bin/sh standing in
// for memhpd: "ready" on stdout is readiness; every way of not getting there says why.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include <glib.h>
#include <glib/gstdio.h>

#include "launcher/process.h"
#include "vm/state_dir.h"

namespace memhp::launcher {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

class StartDaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    g_autofree gchar* dir = g_dir_make_tmp("memhp-launcher-XXXXXX", nullptr);
    ASSERT_NE(dir, nullptr);
    dir_ = dir;
    log_ = dir_ + "/daemon.log";
  }
  void TearDown() override {
    g_unlink(log_.c_str());
    g_rmdir(dir_.c_str());
  }
  std::string Log() const { return vm::TailFile(log_, 10); }

  std::string dir_;
  std::string log_;
};

TEST_F(StartDaemonTest, ReadyOnStdoutIsReadyAndTheDaemonCanBeEnded) {
  const DaemonStart start = StartDaemon({"/bin/sh", "-c", "echo ready; exec sleep 30"}, log_, 5s);
  ASSERT_TRUE(start.ready) << start.why;
  ASSERT_GT(start.pid, 0);
  EXPECT_TRUE(ProcessAlive(start.pid));
  EXPECT_TRUE(TerminateProcess(start.pid, 2s));
  EXPECT_FALSE(ProcessAlive(start.pid));
}

TEST_F(StartDaemonTest, AnExitBeforeReadyIsItsStatus) {
  const DaemonStart start = StartDaemon({"/bin/sh", "-c", "echo failing >&2; exit 3"}, log_, 5s);
  EXPECT_FALSE(start.ready);
  EXPECT_EQ(start.pid, 0);
  EXPECT_EQ(start.why, "it exited with status 3");
  EXPECT_THAT(Log(), HasSubstr("failing"));  // stderr goes to the log
}

TEST_F(StartDaemonTest, AProgramThatIsNotThereIsSaidInTheLog) {
  const DaemonStart start = StartDaemon({dir_ + "/no-such-memhpd"}, log_, 5s);
  EXPECT_FALSE(start.ready);
  EXPECT_EQ(start.why, "it exited with status 127");
  EXPECT_THAT(Log(), HasSubstr("exec " + dir_ + "/no-such-memhpd: No such file or directory"));
}

TEST_F(StartDaemonTest, SilenceIsATimeoutAndTheDaemonIsLeftForTheCallerToEnd) {
  const DaemonStart start = StartDaemon({"/bin/sh", "-c", "exec sleep 30"}, log_, 300ms);
  EXPECT_FALSE(start.ready);
  EXPECT_THAT(start.why, HasSubstr("did not report ready"));
  ASSERT_GT(start.pid, 0);
  EXPECT_TRUE(TerminateProcess(start.pid, 2s));
}

TEST_F(StartDaemonTest, AnUnwritableLogIsAnErrorNamingIt) {
  const DaemonStart start = StartDaemon({"/bin/true"}, dir_ + "/missing/daemon.log", 1s);
  EXPECT_FALSE(start.ready);
  EXPECT_THAT(start.why, HasSubstr("open " + dir_ + "/missing/daemon.log"));
}

TEST(TerminateProcessTest, NoProcessIsNothingToEnd) { EXPECT_TRUE(TerminateProcess(0, 10ms)); }

}  // namespace
}  // namespace memhp::launcher
