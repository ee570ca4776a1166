// memhp-agent — HostLink: the agent's end of the channel to memhpd, kept open across absences.
//
// The host side comes and goes: memhpd may not be running yet, may restart, or QEMU's chardev
// may have no client. On a virtio-serial port the guest then sees POLLHUP/EOF
// (drivers/char/virtio_console.c), which FramedStream reports as kPeerAbsent. HostLink closes the
// port and reopens it after a delay that doubles from `initial` up to `max` (never a busy loop),
// and starts again from `initial` once the host has proved alive (ResetBackoff, called when its
// hello arrives). A port that does not exist yet (virtio_console still loading) is retried the
// same way, and so is a port that opens but hangs up at once (no host attached): that is not a
// connection, so on_connected is not called — the agent greets, replays and logs its inventory
// only for a host that is there.
//
// Every payload is one memhp.v1.AgentEnvelope; one that does not parse is counted and dropped
// (it carries no request id to answer), and the stream goes on (docs/architecture.md, "The wires").
#pragma once

#include <glib.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "memhp/v1/agent.pb.h"
#include "sysfs/result.h"
#include "wire/framed_stream.h"
#include "wire/retry_timer.h"

namespace memhp::agent {

// An open channel: the fd and what kind of fd it is (which decides what a hangup means).
struct OpenedChannel {
  int fd = -1;
  wire::Transport transport = wire::Transport::kSocket;
  std::string description;  // for logs: "/dev/vport1p1 (org.memhp.agent.0)"
};

// Opens the channel once; the production opener finds the virtio port by name, tests connect
// a unix socket.
using ChannelOpener = std::function<Result<OpenedChannel>()>;

// How long the agent waits before reopening its port (wire::RetryTimer doubles it).
using BackoffPolicy = wire::Backoff;

struct HostLinkCallbacks {
  std::function<void()> on_connected;                             // a channel was opened
  std::function<void(memhp::v1::AgentEnvelope)> on_message;       // one per valid envelope
  std::function<void()> on_disconnected;                          // the open channel went away
};

struct HostLinkStats {
  uint64_t opens = 0;
  uint64_t open_failures = 0;
  uint64_t malformed_messages = 0;
  uint64_t send_failures = 0;
};

class HostLink {
 public:
  HostLink(ChannelOpener opener, GMainContext* context, HostLinkCallbacks callbacks,
           BackoffPolicy backoff = {});
  ~HostLink();

  HostLink(const HostLink&) = delete;
  HostLink& operator=(const HostLink&) = delete;

  // Opens the channel now (or schedules a retry).
  void Start();
  // Sends one envelope. Anything but kQueued means it was not sent (closed, queue full).
  [[nodiscard]] wire::SendStatus Send(const memhp::v1::AgentEnvelope& envelope);
  // The host answered: the next absence starts its backoff from `initial` again.
  void ResetBackoff() { retry_.Reset(); }

  [[nodiscard]] bool connected() const { return stream_ && stream_->is_open(); }
  [[nodiscard]] const HostLinkStats& stats() const { return stats_; }
  [[nodiscard]] uint32_t next_delay_ms() const { return retry_.next_delay_ms(); }

 private:
  void TryOpen();
  void OnFrame(std::string payload);
  void OnClosed(wire::CloseReason reason, int error);

  ChannelOpener opener_;
  GMainContext* context_;
  HostLinkCallbacks callbacks_;
  wire::RetryTimer retry_;
  std::unique_ptr<wire::FramedStream> stream_;
  std::string last_open_error_;  // logged once per distinct error, not once per retry
  HostLinkStats stats_;
};

}  // namespace memhp::agent
