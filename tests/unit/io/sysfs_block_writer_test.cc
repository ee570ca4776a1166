// memhp tests — SysfsBlockWriter over a FakeSysfs tree: each target lands in memory<N>/state as
// the kernel's online_type string, errors keep their errno and name the path, and a write that
// hangs (a FIFO nobody reads: open(O_WRONLY) blocks in fs/pipe.c wait_for_partner(), as
// offline_pages() blocks on unmovable pages) is interrupted at the deadline with ETIMEDOUT,
// leaving no thread behind.
#include <dirent.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <string>

#include "fake_sysfs.h"
#include "io/interrupt_signal.h"
#include "io/sysfs_block_writer.h"
#include "sysfs/linux_abi.h"

namespace memhp::agent {
namespace {

using ::testing::HasSubstr;
using memhp::agent::testing::FakeSysfs;
using std::chrono::milliseconds;

// Threads of this process now (/proc/self/task has one entry per thread).
int ThreadCount() {
  DIR* dir = opendir("/proc/self/task");
  if (dir == nullptr) return -1;
  int n = 0;
  while (const dirent* e = readdir(dir)) {
    if (e->d_name[0] != '.') ++n;
  }
  closedir(dir);
  return n;
}

class SysfsBlockWriterTest : public ::testing::Test {
 protected:
  void SetUp() override { sysfs_.AddBlock(5, "offline", "Normal Movable", 0); }

  // Replaces memory5/state by a FIFO with no reader: opening it for writing blocks.
  void MakeStateHang() {
    sysfs_.Remove(FakeSysfs::BlockAttr(5, abi::kBlockState));
    ASSERT_EQ(mkfifo(sysfs_.Path(FakeSysfs::BlockAttr(5, abi::kBlockState)).c_str(), 0600), 0);
  }

  FakeSysfs sysfs_;
  InterruptSignal interrupt_;
};

TEST_F(SysfsBlockWriterTest, EachTargetWritesItsOnlineType) {
  const struct {
    abi::OnlineType target;
    const char* written;
  } cases[] = {
      {abi::OnlineType::kOnline, "online"},
      {abi::OnlineType::kOnlineKernel, "online_kernel"},
      {abi::OnlineType::kOnlineMovable, "online_movable"},
      {abi::OnlineType::kOffline, "offline"},
  };
  for (const milliseconds deadline : {milliseconds(0), milliseconds(1000)}) {
    SysfsBlockWriter writer(sysfs_.root(), interrupt_, {.deadline = deadline});
    for (const auto& c : cases) {
      Status s = writer.Write(5, c.target);
      ASSERT_TRUE(s.ok()) << s.error().message;
      // O_TRUNC, as `echo x > state`: the old, longer value leaves no tail behind.
      EXPECT_EQ(sysfs_.ReadFile(FakeSysfs::BlockAttr(5, abi::kBlockState)), c.written)
          << "deadline " << deadline.count() << " ms";
    }
  }
}

TEST_F(SysfsBlockWriterTest, StatePathIsUnderTheRoot) {
  SysfsBlockWriter writer(sysfs_.root(), interrupt_);
  EXPECT_EQ(writer.StatePath(5), sysfs_.Path("sys/devices/system/memory/memory5/state"));
  SysfsBlockWriter production("/", interrupt_);
  EXPECT_EQ(production.StatePath(12), "/sys/devices/system/memory/memory12/state");
}

TEST_F(SysfsBlockWriterTest, VanishedBlockIsEnoentWithThePath) {
  sysfs_.RemoveBlock(5);
  for (const milliseconds deadline : {milliseconds(0), milliseconds(1000)}) {
    SysfsBlockWriter writer(sysfs_.root(), interrupt_, {.deadline = deadline});
    Status s = writer.Write(5, abi::OnlineType::kOnline);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().errno_value, ENOENT);
    EXPECT_THAT(s.error().message, HasSubstr(writer.StatePath(5)));
  }
  struct stat st {};
  EXPECT_NE(stat(sysfs_.Path(FakeSysfs::BlockAttr(5, abi::kBlockState)).c_str(), &st), 0)
      << "no file was created";
}

TEST_F(SysfsBlockWriterTest, StateThatIsADirectoryIsEisdir) {
  sysfs_.ReplaceWithDirectory(FakeSysfs::BlockAttr(5, abi::kBlockState));
  SysfsBlockWriter writer(sysfs_.root(), interrupt_);
  Status s = writer.Write(5, abi::OnlineType::kOffline);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().errno_value, EISDIR);
  EXPECT_THAT(s.error().message, HasSubstr(writer.StatePath(5)));
}

TEST_F(SysfsBlockWriterTest, WriteErrorKeepsItsErrno) {
  // /dev/full answers every write with ENOSPC: the write's errno must come back unchanged.
  if (access("/dev/full", W_OK) != 0) GTEST_SKIP() << "no writable /dev/full";
  const std::string state = sysfs_.Path(FakeSysfs::BlockAttr(5, abi::kBlockState));
  sysfs_.Remove(FakeSysfs::BlockAttr(5, abi::kBlockState));
  ASSERT_EQ(symlink("/dev/full", state.c_str()), 0);
  SysfsBlockWriter writer(sysfs_.root(), interrupt_, {.deadline = milliseconds(1000)});
  Status s = writer.Write(5, abi::OnlineType::kOffline);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().errno_value, ENOSPC);
  EXPECT_THAT(s.error().message, HasSubstr("write offline to " + state));
}

TEST_F(SysfsBlockWriterTest, HangingWriteTimesOutAndLeavesNoThread) {
  MakeStateHang();
  const int threads_before = ThreadCount();
  SysfsBlockWriter writer(sysfs_.root(), interrupt_, {.deadline = milliseconds(200)});
  // The write hangs for ever (MakeStateHang): returning at all, ETIMEDOUT after the interrupt,
  // is the proof the deadline worked; how long it took is not asserted.
  Status s = writer.Write(5, abi::OnlineType::kOffline);

  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().errno_value, ETIMEDOUT);
  EXPECT_THAT(s.error().message, HasSubstr("memory5/state"));
  EXPECT_THAT(s.error().message, HasSubstr("200 ms"));
  EXPECT_THAT(s.error().message, HasSubstr("EINTR"));
  EXPECT_EQ(ThreadCount(), threads_before);
}

TEST_F(SysfsBlockWriterTest, HangIsInterruptedEvenIfTheCallerBlocksTheSignal) {
  // The worker inherits the caller's mask; it must unblock the interrupt signal itself.
  MakeStateHang();
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, interrupt_.signo());
  ASSERT_EQ(pthread_sigmask(SIG_BLOCK, &block, &old), 0);
  SysfsBlockWriter writer(sysfs_.root(), interrupt_, {.deadline = milliseconds(100)});
  Status s = writer.Write(5, abi::OnlineType::kOnlineMovable);
  ASSERT_EQ(pthread_sigmask(SIG_SETMASK, &old, nullptr), 0);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().errno_value, ETIMEDOUT);
  EXPECT_THAT(s.error().message, HasSubstr("EINTR"));
}

TEST(InterruptSignalTest, InstallsWithoutRestartAndRestores) {
  struct sigaction before {};
  ASSERT_EQ(sigaction(SIGUSR2, nullptr, &before), 0);
  {
    InterruptSignal interrupt;
    EXPECT_EQ(interrupt.signo(), SIGUSR2);
    struct sigaction now {};
    ASSERT_EQ(sigaction(SIGUSR2, nullptr, &now), 0);
    EXPECT_EQ(now.sa_flags & SA_RESTART, 0) << "blocked writes must return EINTR";
    EXPECT_NE(now.sa_handler, SIG_DFL);
    EXPECT_NE(now.sa_handler, SIG_IGN) << "an ignored signal interrupts nothing";
  }
  struct sigaction after {};
  ASSERT_EQ(sigaction(SIGUSR2, nullptr, &after), 0);
  EXPECT_EQ(after.sa_handler, before.sa_handler);
}

}  // namespace
}  // namespace memhp::agent
