// memhp tests — the real NETLINK_KOBJECT_UEVENT socket: it opens and binds as the agent needs,
// a uevent sent by a user-space process (not the kernel) is rejected by the sender check, and
// an overflowing receive buffer (ENOBUFS) becomes one on_overflow() per burst.
//
// Sending to group 1 needs CAP_NET_ADMIN (af_netlink.c netlink_sendmsg()), and a fake uevent
// broadcast in the machine's own network namespace would reach every uevent listener on it
// (udevd included). So the sending tests run in a private network namespace, created by a
// helper thread with unshare(CLONE_NEWNET) (a per-thread attribute; the sockets it opens keep
// the namespace alive after the thread ends). Where that is not permitted they skip.
#include <gtest/gtest.h>
#include <linux/netlink.h>
#include <sched.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <string>
#include <thread>

#include "io/uevent_monitor.h"

namespace memhp::agent {
namespace {

constexpr uint32_t kSenderPort = 0x4d454d48;  // "MEMH": any nonzero port id not the kernel's

std::string MemoryAdd(uint32_t block, uint64_t seqnum, size_t padding = 0) {
  const std::string devpath = "/devices/system/memory/memory" + std::to_string(block);
  std::string d = "add@" + devpath + '\0' + "ACTION=add" + '\0' + "DEVPATH=" + devpath + '\0' +
                  "SUBSYSTEM=memory" + '\0' + "SEQNUM=" + std::to_string(seqnum) + '\0';
  if (padding > 0) d += "PAD=" + std::string(padding, 'p') + '\0';
  return d;
}

using ContextPtr = std::unique_ptr<GMainContext, decltype(&g_main_context_unref)>;
ContextPtr NewContext() { return ContextPtr(g_main_context_new(), &g_main_context_unref); }

bool NotPermitted(int err) {
  return err == EPERM || err == EACCES || err == EAFNOSUPPORT || err == EPROTONOSUPPORT;
}

// A monitor socket and a user-space sender socket, both in a fresh network namespace.
struct PrivateNamespaceSockets {
  Result<KernelUeventSocket> monitor = Error{EINVAL, "not opened"};
  UniqueFd sender;
  int error = 0;  // errno of unshare/socket/bind when they failed
  const char* failed = "";
};

PrivateNamespaceSockets OpenInPrivateNamespace(KernelUeventSocketOptions options) {
  PrivateNamespaceSockets out;
  std::thread helper([&] {
    if (unshare(CLONE_NEWNET) != 0) {
      out.error = errno;
      out.failed = "unshare(CLONE_NEWNET)";
      return;
    }
    out.monitor = OpenKernelUeventSocket(options);
    out.sender = UniqueFd(socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT));
    if (!out.sender.valid()) {
      out.error = errno;
      out.failed = "socket";
      return;
    }
    sockaddr_nl addr{};
    addr.nl_family = AF_NETLINK;
    addr.nl_pid = kSenderPort;  // nonzero: what a user-space sender looks like
    if (bind(out.sender.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
      out.error = errno;
      out.failed = "bind";
    }
  });
  helper.join();
  return out;
}

// Broadcasts to group 1, as the kernel does. Returns errno, 0 on success.
int SendToGroup1(int fd, const std::string& datagram) {
  sockaddr_nl to{};
  to.nl_family = AF_NETLINK;
  to.nl_groups = 1;
  const ssize_t n = sendto(fd, datagram.data(), datagram.size(), 0,
                           reinterpret_cast<const sockaddr*>(&to), sizeof(to));
  return n < 0 ? errno : 0;
}

// Iterates `context` until `done()` or a second passed.
template <typename Pred>
void IterateUntil(GMainContext* context, Pred done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    g_main_context_iteration(context, FALSE);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

TEST(UeventNetlinkTest, KernelSocketOpensAndBinds) {
  Result<KernelUeventSocket> s = OpenKernelUeventSocket();
  if (!s.ok() && NotPermitted(s.error().errno_value)) GTEST_SKIP() << s.error().message;
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_NE(s->port_id, 0u);
  EXPECT_TRUE(fcntl(s->fd.get(), F_GETFL) & O_NONBLOCK);
  EXPECT_TRUE(fcntl(s->fd.get(), F_GETFD) & FD_CLOEXEC);
  int passcred = 0;
  socklen_t len = sizeof(passcred);
  ASSERT_EQ(getsockopt(s->fd.get(), SOL_SOCKET, SO_PASSCRED, &passcred, &len), 0);
  EXPECT_EQ(passcred, 1);
  sockaddr_nl addr{};
  len = sizeof(addr);
  ASSERT_EQ(getsockname(s->fd.get(), reinterpret_cast<sockaddr*>(&addr), &len), 0);
  EXPECT_EQ(addr.nl_groups, 1u);
  if (geteuid() == 0) {
    // SO_RCVBUFFORCE: the kernel stores twice what was asked for (sk_setsockopt()).
    EXPECT_GE(s->receive_buffer_bytes, 8 * 1024 * 1024);
  }
}

TEST(UeventNetlinkTest, UeventFromUserSpaceIsRejected) {
  PrivateNamespaceSockets s = OpenInPrivateNamespace({});
  if (s.error != 0) {
    if (NotPermitted(s.error)) GTEST_SKIP() << s.failed << ": " << std::strerror(s.error);
    FAIL() << s.failed << ": " << std::strerror(s.error);
  }
  ASSERT_TRUE(s.monitor.ok()) << s.monitor.error().message;

  ContextPtr context = NewContext();
  int delivered = 0;
  UeventMonitor monitor(std::move(s.monitor->fd), SenderCheck::kKernelOnly, context.get(),
                        UeventMonitorCallbacks{.on_uevent = [&](const Uevent&) { ++delivered; },
                                               .on_overflow = nullptr});
  const int err = SendToGroup1(s.sender.get(), MemoryAdd(40, 1));
  if (NotPermitted(err)) GTEST_SKIP() << "sendto group 1: " << std::strerror(err);
  ASSERT_EQ(err, 0) << std::strerror(err);
  IterateUntil(context.get(), [&] { return monitor.stats().datagrams >= 1; });
  EXPECT_EQ(monitor.stats().datagrams, 1u);
  EXPECT_EQ(monitor.stats().rejected_sender, 1u);
  EXPECT_EQ(delivered, 0);
}

TEST(UeventNetlinkTest, OverflowIsReportedOncePerBurst) {
  // The smallest receive buffer the kernel allows (SOCK_MIN_RCVBUF), so a burst overflows it.
  PrivateNamespaceSockets s = OpenInPrivateNamespace({.receive_buffer_bytes = 1});
  if (s.error != 0) {
    if (NotPermitted(s.error)) GTEST_SKIP() << s.failed << ": " << std::strerror(s.error);
    FAIL() << s.failed << ": " << std::strerror(s.error);
  }
  ASSERT_TRUE(s.monitor.ok()) << s.monitor.error().message;

  ContextPtr context = NewContext();
  int overflows = 0;
  UeventMonitor monitor(std::move(s.monitor->fd), SenderCheck::kKernelOnly, context.get(),
                        UeventMonitorCallbacks{.on_uevent = nullptr,
                                               .on_overflow = [&] { ++overflows; }});
  for (int burst = 1; burst <= 2; ++burst) {
    for (uint32_t i = 0; i < 64; ++i) {
      const int err = SendToGroup1(s.sender.get(), MemoryAdd(i, i, 1024));
      if (NotPermitted(err)) GTEST_SKIP() << "sendto group 1: " << std::strerror(err);
      ASSERT_EQ(err, 0) << std::strerror(err);
    }
    IterateUntil(context.get(), [&] { return overflows >= burst; });
    // Let any late wake-up run: still one call for this burst.
    for (int i = 0; i < 5; ++i) g_main_context_iteration(context.get(), FALSE);
    EXPECT_EQ(overflows, burst);
    EXPECT_EQ(monitor.stats().overflows, static_cast<uint64_t>(burst));
  }
  EXPECT_GE(monitor.stats().overflow_errors, 2u);
  EXPECT_LT(monitor.stats().datagrams, 128u) << "some were dropped by the kernel";
  EXPECT_EQ(monitor.stats().delivered, 0u) << "none of them came from the kernel";
}

}  // namespace
}  // namespace memhp::agent
