// memhp-agent — UeventMonitor (see uevent_monitor.h).
#include "io/uevent_monitor.h"

#include <glib-unix.h>
#include <linux/netlink.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <string_view>
#include <utility>

namespace memhp::agent {
namespace {

// lib/kobject_uevent.c: uevent_net_broadcast_untagged() sets NETLINK_CB(skb).dst_group = 1.
constexpr uint32_t kKernelUeventGroup = 1;

Status SetIntOption(int fd, int level, int name, int value, std::string_view what) {
  if (setsockopt(fd, level, name, &value, sizeof(value)) != 0) {
    return Error::FromErrno(errno, "setsockopt", what);
  }
  return OkStatus();
}

}  // namespace

bool AcceptSender(SenderCheck check, const UeventSender& sender) {
  switch (check) {
    case SenderCheck::kAnyPeer:
      return true;
    case SenderCheck::kKernelOnly:
      // af_netlink.c netlink_recvmsg(): nl_pid = NETLINK_CB(skb).portid, 0 for the kernel; a
      // user-space sender has its own nonzero port id. Credentials are the sender's (kernel
      // broadcasts carry root's).
      if (!sender.netlink_pid.has_value() || *sender.netlink_pid != 0) return false;
      return !sender.uid.has_value() || *sender.uid == 0;
  }
  return false;
}

Result<KernelUeventSocket> OpenKernelUeventSocket(const KernelUeventSocketOptions& options) {
  KernelUeventSocket out;
  out.fd = UniqueFd(socket(AF_NETLINK, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
                           NETLINK_KOBJECT_UEVENT));
  if (!out.fd.valid()) {
    return Error::FromErrno(errno, "socket", "AF_NETLINK/NETLINK_KOBJECT_UEVENT");
  }

  // SO_RCVBUFFORCE ignores net.core.rmem_max but needs CAP_NET_ADMIN; without it fall back to
  // SO_RCVBUF, which the kernel silently caps (net/core/sock.c sk_setsockopt()).
  Status forced = SetIntOption(out.fd.get(), SOL_SOCKET, SO_RCVBUFFORCE,
                               options.receive_buffer_bytes, "SO_RCVBUFFORCE");
  if (!forced.ok()) {
    Status plain = SetIntOption(out.fd.get(), SOL_SOCKET, SO_RCVBUF,
                                options.receive_buffer_bytes, "SO_RCVBUF");
    if (!plain.ok()) return std::move(plain).error();
  }
  // SCM_CREDENTIALS on every datagram, for the uid half of the sender check.
  if (Status cred = SetIntOption(out.fd.get(), SOL_SOCKET, SO_PASSCRED, 1, "SO_PASSCRED");
      !cred.ok()) {
    return std::move(cred).error();
  }

  sockaddr_nl addr{};
  addr.nl_family = AF_NETLINK;
  addr.nl_pid = 0;  // let the kernel pick a unique port id (netlink_autobind())
  addr.nl_groups = kKernelUeventGroup;
  if (bind(out.fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    return Error::FromErrno(errno, "bind", "NETLINK_KOBJECT_UEVENT group 1");
  }
  socklen_t len = sizeof(addr);
  if (getsockname(out.fd.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return Error::FromErrno(errno, "getsockname", "NETLINK_KOBJECT_UEVENT socket");
  }
  out.port_id = addr.nl_pid;
  int rcvbuf = 0;
  len = sizeof(rcvbuf);
  if (getsockopt(out.fd.get(), SOL_SOCKET, SO_RCVBUF, &rcvbuf, &len) != 0) {
    return Error::FromErrno(errno, "getsockopt", "SO_RCVBUF");
  }
  out.receive_buffer_bytes = rcvbuf;
  return out;
}

UeventMonitor::UeventMonitor(UniqueFd fd, SenderCheck check, GMainContext* context,
                             UeventMonitorCallbacks callbacks, UeventMonitorOptions options)
    : fd_(std::move(fd)),
      check_(check),
      callbacks_(std::move(callbacks)),
      options_(options) {
  if (options_.max_datagrams_per_dispatch == 0) options_.max_datagrams_per_dispatch = 1;
  // Level-triggered: a batch cut short by the bound leaves the fd readable and GLib calls again.
  // G_IO_ERR wakes us for a pending ENOBUFS even when no datagram is queued.
  source_ = g_unix_fd_source_new(fd_.get(),
                                 static_cast<GIOCondition>(G_IO_IN | G_IO_ERR | G_IO_HUP));
  g_source_set_callback(source_, G_SOURCE_FUNC(&UeventMonitor::OnReadable),
                        this, nullptr);
  g_source_attach(source_, context);
}

UeventMonitor::~UeventMonitor() { StopWatching(); }

void UeventMonitor::StopWatching() {
  if (source_ == nullptr) return;
  g_source_destroy(source_);
  g_source_unref(source_);
  source_ = nullptr;
}

gboolean UeventMonitor::OnReadable(gint /*fd*/, GIOCondition condition, gpointer self) {
  auto* monitor = static_cast<UeventMonitor*>(self);
  const bool drained = monitor->ReadBatch();
  if (drained && monitor->overflow_pending_) {
    // Called only once the queue is empty, so the owner's resync reads sysfs after every event
    // the kernel did manage to queue, and a burst of ENOBUFS costs one resync.
    monitor->overflow_pending_ = false;
    ++monitor->stats_.overflows;
    if (monitor->callbacks_.on_overflow) monitor->callbacks_.on_overflow();
  }
  if (drained && (condition & (G_IO_HUP | G_IO_NVAL)) != 0) {
    // Nothing left to read and nobody can write: stop instead of waking up forever.
    g_warning("uevent socket hung up; no more uevents will be read");
    g_source_unref(monitor->source_);  // GLib destroys the source on G_SOURCE_REMOVE
    monitor->source_ = nullptr;
    return G_SOURCE_REMOVE;
  }
  return G_SOURCE_CONTINUE;
}

bool UeventMonitor::ReadBatch() {
  for (size_t n = 0; n < options_.max_datagrams_per_dispatch; ++n) {
    sockaddr_nl addr{};
    iovec iov{buffer_.data(), buffer_.size()};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(ucred))];
    msghdr msg{};
    msg.msg_name = &addr;
    msg.msg_namelen = sizeof(addr);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);

    const ssize_t got = recvmsg(fd_.get(), &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (got < 0) {
      const int err = errno;
      if (err == EINTR) continue;
      if (err == EAGAIN || err == EWOULDBLOCK) return true;
      if (err == ENOBUFS) {
        // af_netlink.c netlink_overrun(): messages were dropped; the queue still holds those
        // that fit, so keep reading.
        ++stats_.overflow_errors;
        overflow_pending_ = true;
        continue;
      }
      ++stats_.receive_errors;
      g_warning("recvmsg on uevent socket: %s", std::strerror(err));
      return true;  // a socket error is cleared by reading it (sock_error()); wait for more
    }

    UeventSender sender;
    if (msg.msg_namelen >= sizeof(sockaddr_nl) && addr.nl_family == AF_NETLINK) {
      sender.netlink_pid = addr.nl_pid;
    }
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS &&
          c->cmsg_len >= CMSG_LEN(sizeof(ucred))) {
        ucred cred{};
        std::memcpy(&cred, CMSG_DATA(c), sizeof(cred));
        sender.uid = cred.uid;
      }
    }
    HandleDatagram(static_cast<size_t>(got), msg.msg_flags, sender);
  }
  return false;
}

void UeventMonitor::HandleDatagram(size_t length, int msg_flags, const UeventSender& sender) {
  ++stats_.datagrams;
  if (!AcceptSender(check_, sender)) {
    ++stats_.rejected_sender;
    g_debug("dropped a uevent datagram not sent by the kernel (nl_pid %u)",
            sender.netlink_pid.value_or(~0u));
    return;
  }
  if ((msg_flags & MSG_TRUNC) != 0) {
    // Larger than any kernel uevent (UEVENT_BUFFER_SIZE, include/linux/kobject.h).
    ++stats_.truncated;
    return;
  }
  Result<Uevent> parsed = ParseUevent(std::string_view(buffer_.data(), length));
  if (!parsed.ok()) {
    ++stats_.malformed;
    g_debug("dropped a malformed uevent: %s", parsed.error().message.c_str());
    return;
  }
  if (parsed->subsystem != abi::kSubsystemMemory && parsed->subsystem != abi::kSubsystemNode) {
    ++stats_.filtered;
    return;
  }
  ++stats_.delivered;
  if (callbacks_.on_uevent) callbacks_.on_uevent(*parsed);
}

}  // namespace memhp::agent
