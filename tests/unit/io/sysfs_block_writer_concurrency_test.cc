// SysfsBlockWriter's deadline under concurrency: the worker thread is still blocked in the
// kernel when the deadline passes, the caller signals it from another thread, and a write may
// complete in the same instant the deadline fires. Built in every build and, in suite 'tsan',
// under ThreadSanitizer, which checks the hand-over of the worker's result to the caller.
// Nothing here asserts on durations: only on outcomes, which every interleaving must respect.
#include <dirent.h>
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "fake_sysfs.h"
#include "io/interrupt_signal.h"
#include "io/sysfs_block_writer.h"
#include "sysfs/linux_abi.h"

namespace memhp::agent {
namespace {

using memhp::agent::testing::FakeSysfs;
using std::chrono::milliseconds;

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

class SysfsBlockWriterConcurrencyTest : public ::testing::Test {
 protected:
  // memory<id>/state as a FIFO with no reader: open(O_WRONLY) blocks until one comes.
  std::string AddHangingBlock(uint32_t id) {
    sysfs_.AddBlock(id, "online", "Normal", 0);
    sysfs_.Remove(FakeSysfs::BlockAttr(id, abi::kBlockState));
    const std::string path = sysfs_.Path(FakeSysfs::BlockAttr(id, abi::kBlockState));
    EXPECT_EQ(mkfifo(path.c_str(), 0600), 0);
    return path;
  }

  FakeSysfs sysfs_;
  InterruptSignal interrupt_;
};

TEST_F(SysfsBlockWriterConcurrencyTest, ParallelOfflinesAllTimeOutWhileTheirWritesAreBlocked) {
  // Four offlines at once, one writer each (as four agents' requests would not run, but the
  // writer must not rely on that): every worker is blocked when its caller's deadline passes.
  constexpr uint32_t kBlocks = 4;
  for (uint32_t b = 0; b < kBlocks; ++b) AddHangingBlock(10 + b);
  // A sanitizer runtime starts a helper thread of its own with the process's first thread
  // (ThreadSanitizer does): let that happen before counting.
  std::thread([] {}).join();
  const int threads_before = ThreadCount();
  std::vector<Status> results(kBlocks, OkStatus());
  std::vector<std::thread> callers;
  for (uint32_t b = 0; b < kBlocks; ++b) {
    callers.emplace_back([&, b] {
      SysfsBlockWriter writer(sysfs_.root(), interrupt_, {.deadline = milliseconds(50), .kill_interval = milliseconds(5)});
      results[b] = writer.Write(10 + b, abi::OnlineType::kOffline);
    });
  }
  for (std::thread& t : callers) t.join();
  for (uint32_t b = 0; b < kBlocks; ++b) {
    ASSERT_FALSE(results[b].ok()) << "block " << 10 + b;
    EXPECT_EQ(results[b].error().errno_value, ETIMEDOUT);
    EXPECT_THAT(results[b].error().message, ::testing::HasSubstr("memory" + std::to_string(10 + b) + "/state"));
    EXPECT_THAT(results[b].error().message, ::testing::HasSubstr("EINTR"));
  }
  EXPECT_EQ(ThreadCount(), threads_before) << "a worker outlived its Write()";
}

TEST_F(SysfsBlockWriterConcurrencyTest, AWriteThatCompletesAroundTheDeadlineIsReportedAsItEnded) {
  // A reader opens the FIFO at about the deadline, so the write completes before, during or
  // after the interruption. Whatever the interleaving, the outcome is consistent: success means
  // the value arrived; a timeout means it did not.
  const std::string path = AddHangingBlock(7);
  for (int round = 0; round < 30; ++round) {
    std::atomic<bool> stop{false};
    std::string received;
    std::thread kernel([&] {
      std::this_thread::sleep_for(milliseconds(round % 10));
      // O_NONBLOCK for the reader: opening it never waits for the writer.
      const int fd = open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
      if (fd < 0) return;
      char buf[32];
      for (;;) {
        // One more read after Write() returned: whatever it wrote is in the pipe by then.
        const bool last = stop.load();
        const ssize_t n = read(fd, buf, sizeof(buf));
        if (n > 0) received.append(buf, static_cast<size_t>(n));
        if (last || (n < 0 && errno != EAGAIN)) break;
        std::this_thread::sleep_for(milliseconds(1));
      }
      close(fd);
    });
    SysfsBlockWriter writer(sysfs_.root(), interrupt_, {.deadline = milliseconds(5), .kill_interval = milliseconds(1)});
    const Status s = writer.Write(7, abi::OnlineType::kOffline);
    stop.store(true);
    kernel.join();
    if (s.ok()) {
      EXPECT_EQ(received, "offline") << "round " << round;
    } else {
      EXPECT_EQ(s.error().errno_value, ETIMEDOUT) << s.error().message;
      EXPECT_EQ(received, "") << "round " << round << ": the value went through, yet: " << s.error().message;
    }
  }
}

}  // namespace
}  // namespace memhp::agent
