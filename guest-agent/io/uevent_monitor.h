// memhp-agent — UeventMonitor: the kernel's memory and node uevents, on a GLib main context.
//
// lib/kobject_uevent.c broadcasts every device event to NETLINK_KOBJECT_UEVENT multicast group 1
// as one datagram "<action>@<devpath>\0KEY=VALUE\0..." (kobject_uevent_net_broadcast()). The
// agent learns there of blocks it did not touch: "add"/"remove" from a DIMM or virtio-mem
// (drivers/base/memory.c, S18) and "online"/"offline" from anyone's device_online() (S20).
//
// Trust: group 1 is not kernel-only. Any process with CAP_NET_ADMIN may send to it
// (netlink_sendmsg() checks NL_CFG_F_NONROOT_SEND, which the uevent family lacks), so a datagram
// is accepted only when recvmsg() names the kernel as its source: sockaddr_nl.nl_pid == 0 and,
// when SCM_CREDENTIALS came with it, uid 0 (af_netlink.c fills both from NETLINK_CB(skb)).
// Everything else is counted and dropped. (udevd's "libudev" re-broadcasts go to group 2 and
// never reach this socket.)
//
// Bursts: a 4 GiB DIMM is 32 blocks x ("add" + "online") events, a 1 GiB virtio-mem growth
// 8 blocks, all within milliseconds, so the socket asks for an 8 MiB receive buffer. When the
// buffer still overflows the kernel drops messages and sets the socket error to ENOBUFS once per
// congestion (netlink_overrun(), NETLINK_S_CONGESTED); recvmsg() then fails with ENOBUFS. The
// lost events cannot be recovered, so the monitor calls on_overflow() — once per burst, after
// it has read everything still queued — and the owner must re-read the whole block inventory
// from sysfs: that resync is how the agent stays correct when uevents are lost.
//
// Sources: the production socket comes from OpenKernelUeventSocket(); tests hand in one end of a
// socketpair(AF_UNIX, SOCK_DGRAM) together with SenderCheck::kAnyPeer. The fd is the seam; the
// enum says how far its sender is trusted.
#pragma once

#include <glib.h>
#include <sys/types.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>

#include "base/unique_fd.h"
#include "sysfs/linux_abi.h"
#include "sysfs/result.h"
#include "sysfs/uevent_parse.h"

namespace memhp::agent {

// Who sent a datagram, as recvmsg() reported it.
struct UeventSender {
  std::optional<uint32_t> netlink_pid;  // sockaddr_nl.nl_pid; absent if not a netlink address
  std::optional<uid_t> uid;             // SCM_CREDENTIALS uid; absent if none came
};

// How far the sender of a datagram on the monitored fd is trusted.
enum class SenderCheck {
  // A NETLINK_KOBJECT_UEVENT socket: only the kernel (nl_pid 0; uid 0 when credentials came).
  kKernelOnly,
  // A datagram fd whose peer the owner created (a socketpair end): every sender is accepted.
  kAnyPeer,
};

// Whether `sender` passes `check`. Pure.
[[nodiscard]] bool AcceptSender(SenderCheck check, const UeventSender& sender);

struct KernelUeventSocketOptions {
  // Asked for with SO_RCVBUFFORCE (needs CAP_NET_ADMIN), else SO_RCVBUF (capped by
  // net.core.rmem_max). The kernel doubles the value for its bookkeeping (sock_setsockopt()).
  int receive_buffer_bytes = 8 * 1024 * 1024;
};

struct KernelUeventSocket {
  UniqueFd fd;                    // SOCK_NONBLOCK | SOCK_CLOEXEC, bound to group 1, SO_PASSCRED
  uint32_t port_id = 0;           // the nl_pid the kernel assigned (getsockname)
  int receive_buffer_bytes = 0;   // SO_RCVBUF as read back
};

// Opens and binds the uevent socket. Errors name the failing call (socket, bind, setsockopt).
[[nodiscard]] Result<KernelUeventSocket> OpenKernelUeventSocket(
    const KernelUeventSocketOptions& options = {});

struct UeventMonitorCallbacks {
  // One parsed uevent whose SUBSYSTEM is "memory" or "node". Must not destroy the monitor.
  std::function<void(const Uevent&)> on_uevent;
  // Uevents were lost (ENOBUFS): re-read the inventory from sysfs. Once per burst.
  std::function<void()> on_overflow;
};

struct UeventMonitorOptions {
  // Datagrams read per main-loop dispatch at most, so a flood cannot starve the host channel;
  // the fd stays readable and the next dispatch goes on.
  size_t max_datagrams_per_dispatch = 256;
};

struct UeventMonitorStats {
  uint64_t datagrams = 0;        // recvmsg() returned a datagram
  uint64_t delivered = 0;        // passed to on_uevent
  uint64_t filtered = 0;         // parsed, another subsystem ("cpu", "block", ...)
  uint64_t rejected_sender = 0;  // failed the SenderCheck
  uint64_t malformed = 0;        // ParseUevent() refused it (also empty datagrams)
  uint64_t truncated = 0;        // larger than abi::kUeventMaxBytes (MSG_TRUNC)
  uint64_t overflow_errors = 0;  // recvmsg() gave ENOBUFS
  uint64_t overflows = 0;        // on_overflow() calls (bursts)
  uint64_t receive_errors = 0;   // any other recvmsg() failure
};

class UeventMonitor {
 public:
  // Takes `fd` (a non-blocking datagram socket) and starts watching it on `context` (nullptr:
  // the global default context) right away.
  UeventMonitor(UniqueFd fd, SenderCheck check, GMainContext* context,
                UeventMonitorCallbacks callbacks, UeventMonitorOptions options = {});
  ~UeventMonitor();
  UeventMonitor(const UeventMonitor&) = delete;
  UeventMonitor& operator=(const UeventMonitor&) = delete;

  [[nodiscard]] const UeventMonitorStats& stats() const { return stats_; }
  // False once the fd hung up or became invalid; nothing more will be read.
  [[nodiscard]] bool watching() const { return source_ != nullptr; }

 private:
  static gboolean OnReadable(gint fd, GIOCondition condition, gpointer self);
  // Reads until EAGAIN or the per-dispatch bound. True when the queue was drained.
  bool ReadBatch();
  void HandleDatagram(size_t length, int msg_flags, const UeventSender& sender);
  void StopWatching();

  UniqueFd fd_;
  SenderCheck check_;
  UeventMonitorCallbacks callbacks_;
  UeventMonitorOptions options_;
  UeventMonitorStats stats_;
  GSource* source_ = nullptr;
  bool overflow_pending_ = false;  // ENOBUFS seen, on_overflow() not yet called
  std::array<char, abi::kUeventMaxBytes> buffer_{};
};

}  // namespace memhp::agent
