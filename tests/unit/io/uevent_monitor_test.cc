// memhp tests — UeventMonitor over a socketpair(AF_UNIX, SOCK_DGRAM): the test plays the kernel
// and sends crafted "<action>@<devpath>\0KEY=VALUE\0..." datagrams (lib/kobject_uevent.c's
// format) to the end the monitor reads, then runs single iterations of a private GMainContext.
// The sender check itself is table-tested through AcceptSender(); the real netlink socket is
// covered by uevent_netlink_test.cc.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "io/uevent_monitor.h"

namespace memhp::agent {
namespace {

using namespace std::string_literals;

// A kernel-style uevent datagram, every entry NUL-terminated.
std::string MakeUevent(std::string_view action, std::string_view devpath,
                       std::string_view subsystem, uint64_t seqnum) {
  std::string d;
  d.append(action).append("@").append(devpath).push_back('\0');
  d.append("ACTION=").append(action).push_back('\0');
  d.append("DEVPATH=").append(devpath).push_back('\0');
  d.append("SUBSYSTEM=").append(subsystem).push_back('\0');
  d.append("SEQNUM=").append(std::to_string(seqnum)).push_back('\0');
  return d;
}

class UeventMonitorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    context_ = g_main_context_new();
    int fds[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0)
        << std::strerror(errno);
    reader_ = UniqueFd(fds[0]);
    kernel_ = UniqueFd(fds[1]);
    // Room for a few hundred queued datagrams (net.core.wmem_max caps it; ~400 fit by default).
    const int sndbuf = 4 * 1024 * 1024;
    ASSERT_EQ(setsockopt(kernel_.get(), SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)), 0);
  }

  void TearDown() override {
    monitor_.reset();
    g_main_context_unref(context_);
  }

  void Start(SenderCheck check, UeventMonitorOptions options = {}) {
    monitor_ = std::make_unique<UeventMonitor>(
        std::move(reader_), check, context_,
        UeventMonitorCallbacks{
            .on_uevent = [this](const Uevent& u) { received_.push_back(u); },
            .on_overflow = [this] { ++overflows_; },
        },
        options);
  }

  void Send(const std::string& datagram) {
    ASSERT_EQ(send(kernel_.get(), datagram.data(), datagram.size(), 0),
              static_cast<ssize_t>(datagram.size()))
        << std::strerror(errno);
  }

  // One main-loop iteration, without blocking: at most one dispatch of the monitor.
  void IterateOnce() { g_main_context_iteration(context_, FALSE); }

  GMainContext* context_ = nullptr;
  UniqueFd reader_;
  UniqueFd kernel_;
  std::unique_ptr<UeventMonitor> monitor_;
  std::vector<Uevent> received_;
  int overflows_ = 0;
};

TEST_F(UeventMonitorTest, MemoryAddIsDeliveredParsed) {
  Start(SenderCheck::kAnyPeer);
  Send(MakeUevent("add", "/devices/system/memory/memory40", "memory", 1234));
  IterateOnce();
  ASSERT_EQ(received_.size(), 1u);
  EXPECT_EQ(received_[0].action, UeventAction::kAdd);
  EXPECT_EQ(received_[0].devpath, "/devices/system/memory/memory40");
  EXPECT_EQ(received_[0].subsystem, "memory");
  EXPECT_EQ(received_[0].seqnum, std::optional<uint64_t>(1234));
  EXPECT_EQ(MemoryBlockIdFromDevpath(received_[0].devpath), std::optional<uint32_t>(40));
  EXPECT_EQ(monitor_->stats().datagrams, 1u);
  EXPECT_EQ(monitor_->stats().delivered, 1u);
  EXPECT_EQ(overflows_, 0);
}

TEST_F(UeventMonitorTest, NodeUeventIsDelivered) {
  Start(SenderCheck::kAnyPeer);
  Send(MakeUevent("online", "/devices/system/node/node1", "node", 7));
  IterateOnce();
  ASSERT_EQ(received_.size(), 1u);
  EXPECT_EQ(received_[0].action, UeventAction::kOnline);
  EXPECT_EQ(received_[0].subsystem, "node");
  EXPECT_EQ(NodeIdFromDevpath(received_[0].devpath), std::optional<uint32_t>(1));
}

TEST_F(UeventMonitorTest, OtherSubsystemsAreFiltered) {
  Start(SenderCheck::kAnyPeer);
  Send(MakeUevent("online", "/devices/system/cpu/cpu3", "cpu", 8));
  Send(MakeUevent("add", "/devices/virtual/block/loop0", "block", 9));
  IterateOnce();
  EXPECT_TRUE(received_.empty());
  EXPECT_EQ(monitor_->stats().filtered, 2u);
  EXPECT_EQ(monitor_->stats().delivered, 0u);
}

TEST_F(UeventMonitorTest, GarbageIsCountedNotDelivered) {
  Start(SenderCheck::kAnyPeer);
  const std::vector<std::string> garbage = {
      "hello"s,                                            // no '@' header, no final NUL
      "libudev\0\xfe\xed\xca\xfe"s,                        // udevd's monitor header
      "add@/devices/system/memory/memory1\0"s,             // header only: no ACTION/DEVPATH
      MakeUevent("add", "/devices/system/memory/memory1", "memory", 1).substr(0, 40),  // cut
      ""s,                                                 // empty datagram
  };
  for (const std::string& g : garbage) Send(g);
  IterateOnce();
  EXPECT_TRUE(received_.empty());
  EXPECT_EQ(monitor_->stats().datagrams, garbage.size());
  EXPECT_EQ(monitor_->stats().malformed, garbage.size());
  // The stream goes on after garbage.
  Send(MakeUevent("offline", "/devices/system/memory/memory1", "memory", 2));
  IterateOnce();
  EXPECT_EQ(received_.size(), 1u);
}

TEST_F(UeventMonitorTest, OversizedDatagramIsCountedAsTruncated) {
  Start(SenderCheck::kAnyPeer);
  std::string big = MakeUevent("add", "/devices/system/memory/memory1", "memory", 1);
  big.append("X=").append(abi::kUeventMaxBytes, 'x').push_back('\0');
  Send(big);
  IterateOnce();
  EXPECT_TRUE(received_.empty());
  EXPECT_EQ(monitor_->stats().truncated, 1u);
}

TEST_F(UeventMonitorTest, ManyDatagramsAreDeliveredInOneDispatch) {
  // A 4 GiB DIMM: 32 blocks x (add + online) = 64 events; take 200 to be generous.
  Start(SenderCheck::kAnyPeer);
  constexpr uint32_t kCount = 200;
  for (uint32_t i = 0; i < kCount; ++i) {
    Send(MakeUevent(i % 2 == 0 ? "add" : "online",
                    "/devices/system/memory/memory" + std::to_string(i / 2), "memory", i));
  }
  IterateOnce();
  ASSERT_EQ(received_.size(), kCount);
  for (uint32_t i = 0; i < kCount; ++i) {
    EXPECT_EQ(received_[i].seqnum, std::optional<uint64_t>(i)) << "in arrival order";
  }
  EXPECT_EQ(monitor_->stats().delivered, kCount);
}

TEST_F(UeventMonitorTest, DispatchIsBoundedAndResumes) {
  Start(SenderCheck::kAnyPeer, UeventMonitorOptions{.max_datagrams_per_dispatch = 16});
  for (uint32_t i = 0; i < 40; ++i) {
    Send(MakeUevent("add", "/devices/system/memory/memory" + std::to_string(i), "memory", i));
  }
  IterateOnce();
  EXPECT_EQ(received_.size(), 16u);
  IterateOnce();
  IterateOnce();
  EXPECT_EQ(received_.size(), 40u);
  EXPECT_TRUE(monitor_->watching());
}

TEST_F(UeventMonitorTest, KernelOnlyCheckRejectsANonNetlinkPeer) {
  // The peer of a socketpair has no sockaddr_nl, so it cannot be the kernel.
  Start(SenderCheck::kKernelOnly);
  Send(MakeUevent("add", "/devices/system/memory/memory40", "memory", 1));
  IterateOnce();
  EXPECT_TRUE(received_.empty());
  EXPECT_EQ(monitor_->stats().rejected_sender, 1u);
}

TEST(AcceptSenderTest, OnlyTheKernelPassesKernelOnly) {
  struct Case {
    const char* name;
    SenderCheck check;
    UeventSender sender;
    bool accepted;
  };
  const Case cases[] = {
      {"kernel, root creds", SenderCheck::kKernelOnly, {0u, 0u}, true},
      {"kernel, no creds", SenderCheck::kKernelOnly, {0u, std::nullopt}, true},
      {"user-space port", SenderCheck::kKernelOnly, {4242u, 0u}, false},
      {"port 0 but non-root creds", SenderCheck::kKernelOnly, {0u, 1000u}, false},
      {"no netlink address", SenderCheck::kKernelOnly, {std::nullopt, 0u}, false},
      {"any peer, anything", SenderCheck::kAnyPeer, {std::nullopt, 1000u}, true},
      {"any peer, user port", SenderCheck::kAnyPeer, {4242u, std::nullopt}, true},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(AcceptSender(c.check, c.sender), c.accepted) << c.name;
  }
}

}  // namespace
}  // namespace memhp::agent
