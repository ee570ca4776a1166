// memhpd — AgentChannel: the host's end of the agent wire, over QEMU's chardev socket.
//
// QEMU listens on the chardev socket behind the agent's virtio-serial port and takes one client
// at a time; memhpd is that client. While the guest has not opened its port, QEMU reads nothing
// from the socket (hw/char/virtio-serial-bus.c: virtio_serial_guest_ready is 0 until the guest
// connects), so a hello sent early waits in the socket and reaches the agent when it starts.
// The agent also says hello whenever it (re)opens its port; whichever hello is answered first
// makes the channel "connected" — the agent is known to be alive and speaking protocol 1.
// A stream on which no hello arrives within `hello` (AgentChannelTimeouts) is closed, and the
// next connect waits `hangup_gap` first: QEMU can leave the port's guest-to-host direction
// throttled after its chardev lost a client while the guest wrote (hw/char/virtio-console.c
// flush_buf throttles the port and the watch that would lift it dies with the connection), and
// when the guest never saw that client go (paused, or reconnected faster than it ran), a new
// connection alone does not lift it: the agent's answers stay inside QEMU. Seen on a libvirt
// domain whose connection was cut while the guest was paused. Hanging up long enough for the
// guest to see host_connected go 0 (drivers/char/virtio_console.c: POLLHUP) makes the agent
// close and reopen its port, after which its hello gets through. With no agent in the guest the
// channel just reconnects every `hello`, which costs nothing.
//
// Events carry sequence numbers; each is acknowledged as soon as it is recorded (the agent
// replays what is not acknowledged after a reconnect). Requests carry ids; an answer to an
// id we are not waiting for is dropped. A payload that is not an AgentEnvelope is counted and
// dropped: the guest is untrusted. Every hello, answer and event is checked against what memhpd
// knows of the VM before it is believed or kept (guest_claims.h); one that breaks the rules is
// refused — a hello with an error answer, an answer as a failed request, an event acknowledged
// but not kept — and reported to the listener, and the channel carries on. What memhpd keeps
// for the guest (recent events, the inventory) is bounded in bytes.
#pragma once

#include <glib.h>

#include <chrono>
#include <deque>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "base/result.h"
#include "base/unique_fd.h"
#include "memhp/v1/agent.pb.h"
#include "wire/framed_stream.h"
#include "wire/pending_requests.h"
#include "wire/retry_timer.h"
#include "daemon/guest_claims.h"

namespace memhp::daemon {

// The outcome of a request to the agent: its response (which may be the agent's own error
// answer), or why there is none — an Error from wire::NoReply whose code is the ErrorCode
// (UNAVAILABLE: no agent or lost, with errno ENOTCONN; TIMEOUT; MALFORMED: an answer that broke
// the guest rules).
using AgentReply = Result<memhp::v1::AgentResponse>;
using wire::NoReply;

using AgentReplyCallback = std::function<void(AgentReply)>;

struct AgentChannelListener {
  std::function<void(const memhp::v1::Hello&)> on_hello;        // the agent said hello
  std::function<void(const memhp::v1::AgentEvent&)> on_event;   // any event, after recording
  std::function<void()> on_lost;                                // a connected agent went away
  std::function<void(const std::string& why)> on_violation;     // the guest broke a rule
};

struct AgentChannelStats {
  uint64_t connects = 0;
  uint64_t malformed = 0;
  uint64_t dropped_replies = 0;
  uint64_t events = 0;
  uint64_t memory_events = 0;   // recorded (not counting duplicates)
  uint64_t duplicates = 0;      // replayed events already recorded
  uint64_t gaps = 0;            // EventGap events: the agent had to drop events
  uint64_t violations = 0;      // hellos, answers and events refused by guest_claims.h
  uint64_t refused_events = 0;  // of them, events (acknowledged, neither kept nor passed on)
  uint64_t hello_timeouts = 0;  // streams closed because no hello came on them
};

struct AgentChannelTimeouts {
  // How long a new stream may stay without any hello from the agent before it is closed.
  std::chrono::milliseconds hello{10000};
  // How long the host then stays away, so that the guest sees the hang-up.
  std::chrono::milliseconds hangup_gap{1000};
};

// How many memory events memhpd keeps for status (VmStatus.agent.recent_events).
inline constexpr size_t kRecentEvents = 256;
// ... and at most this many bytes of them (each event is also bounded by guest_claims.h).
inline constexpr size_t kRecentEventBytes = 256 * 1024;

// How the channel reaches the agent's byte stream: an fd to frame, or why not (retried with
// backoff). QEMU's chardev socket is one (a unix connect); a libvirt domain's channel stream,
// bridged to a socketpair (libvirt/stream_bridge.h), is another.
using AgentConnector = std::function<Result<UniqueFd>()>;

// The connector of a QEMU chardev socket at `socket_path`.
[[nodiscard]] AgentConnector UnixSocketConnector(std::string socket_path);

class AgentChannel {
 public:
  AgentChannel(std::string socket_path, GMainContext* context, AgentChannelListener listener,
               AgentChannelTimeouts timeouts = {});
  AgentChannel(AgentConnector connector, GMainContext* context, AgentChannelListener listener,
               AgentChannelTimeouts timeouts = {});
  ~AgentChannel();
  AgentChannel(const AgentChannel&) = delete;
  AgentChannel& operator=(const AgentChannel&) = delete;

  // What the guest's claims are checked against (QEMU's view of the VM); call before Start().
  void SetLimits(VmLimits limits) { limits_ = limits; }

  // Connects now, and again with backoff (up to 2 s) whenever the socket is lost or refused.
  void Start();

  // Sends `request` (its id is assigned here). `done` runs once: with the response, on timeout,
  // or when the channel is lost.
  void Request(memhp::v1::AgentRequest request, std::chrono::milliseconds timeout,
               AgentReplyCallback done);

  [[nodiscard]] bool agent_connected() const { return hello_.has_value() && stream_ != nullptr; }
  [[nodiscard]] const std::optional<memhp::v1::Hello>& hello() const { return hello_; }
  [[nodiscard]] const std::optional<memhp::v1::Inventory>& inventory() const { return inventory_; }
  [[nodiscard]] uint64_t last_seen_unix_ns() const { return last_seen_unix_ns_; }
  [[nodiscard]] const AgentChannelStats& stats() const { return stats_; }
  [[nodiscard]] const std::string& last_violation() const { return last_violation_; }
  // The guest's last pressure event (STALLED or RECOVERED); zone reports carry their own reading.
  [[nodiscard]] const std::optional<memhp::v1::MemoryPressure>& pressure() const { return pressure_; }
  // The onlining policy in force as last heard: the hello's, then each set-policy answer since
  // (the hello is only sent on connect, so a `memhpctl policy` change would otherwise not show).
  [[nodiscard]] const std::optional<memhp::v1::PolicyState>& policy() const { return policy_; }
  // The last memory events recorded (at most kRecentEvents), oldest first.
  [[nodiscard]] const std::deque<memhp::v1::AgentEvent>& recent_events() const { return recent_; }

  // One frame payload from the agent, as the stream delivers it. Public so the fuzz target
  // (tests/fuzz/agent_channel_fuzz.cc) drives the real handling without a socket; with no
  // stream, the replies it would send are dropped.
  void OnFrame(std::string payload);

 private:
  void TryConnect();
  void ScheduleReconnect();
  void OnClosed(wire::CloseReason reason, int error);
  void OnAgentHello(const memhp::v1::Hello& hello);
  void OnHelloAnswer(AgentReply reply);
  void OnHelloOverdue();
  void Violation(const std::string& why);
  [[nodiscard]] uint64_t block_size() const { return hello_ ? hello_->guest().block_size_bytes() : 0; }
  bool Send(const memhp::v1::AgentEnvelope& envelope);
  [[nodiscard]] memhp::v1::Hello HostHello() const;

  AgentConnector connector_;
  GMainContext* context_;
  AgentChannelListener listener_;
  std::unique_ptr<wire::FramedStream> stream_;
  wire::RetryTimer reconnect_timer_;
  wire::RetryTimer hello_timer_;   // armed while a stream waits for the agent's first hello
  wire::RetryTimer hangup_timer_;  // the reconnect after a stream closed for want of a hello
  // Every request in flight, our hello included (it waits as long as the stream lives).
  wire::PendingRequests<memhp::v1::AgentResponse> pending_;
  uint64_t hello_request_id_ = 0;
  std::optional<memhp::v1::Hello> hello_;
  std::optional<memhp::v1::Inventory> inventory_;
  std::optional<memhp::v1::MemoryPressure> pressure_;
  std::optional<memhp::v1::PolicyState> policy_;
  std::deque<memhp::v1::AgentEvent> recent_;
  size_t recent_bytes_ = 0;
  VmLimits limits_;
  // Events are numbered per agent process: a new agent pid starts a new sequence.
  uint64_t agent_pid_ = 0;
  uint64_t last_seq_ = 0;
  uint64_t last_seen_unix_ns_ = 0;
  std::string last_connect_error_;
  bool hello_timeout_logged_ = false;  // until the next hello, later timeouts pass quietly
  std::string last_violation_;
  AgentChannelStats stats_;
};

}  // namespace memhp::daemon
