// memhp-agent — HostLink (see host_link.h).
#include "agent/host_link.h"

#include <poll.h>
#include <unistd.h>

#include <utility>

namespace memhp::agent {
namespace {

// drivers/char/virtio_console.c port_fops_poll(): EPOLLHUP while the host side is not connected
// (host_connected is false until QEMU's chardev has a client). Checked once, without waiting.
bool HostAbsent(int fd) {
  pollfd p{.fd = fd, .events = POLLOUT, .revents = 0};
  return poll(&p, 1, 0) == 1 && (p.revents & POLLHUP) != 0;
}

}  // namespace

HostLink::HostLink(ChannelOpener opener, GMainContext* context, HostLinkCallbacks callbacks,
                   BackoffPolicy backoff)
    : opener_(std::move(opener)),
      context_(context),
      callbacks_(std::move(callbacks)),
      retry_(context, backoff, [this] { TryOpen(); }) {}

HostLink::~HostLink() = default;

void HostLink::Start() { TryOpen(); }

wire::SendStatus HostLink::Send(const memhp::v1::AgentEnvelope& envelope) {
  if (!stream_) {
    ++stats_.send_failures;
    return wire::SendStatus::kClosed;
  }
  const wire::SendStatus status = stream_->SendMessage(envelope);
  if (status != wire::SendStatus::kQueued) ++stats_.send_failures;
  return status;
}

void HostLink::TryOpen() {
  Result<OpenedChannel> opened = opener_();
  if (!opened.ok()) {
    ++stats_.open_failures;
    if (opened.error().message != last_open_error_) {
      last_open_error_ = opened.error().message;
      g_message("host channel not available (%s); retrying with backoff", last_open_error_.c_str());
    }
    retry_.Schedule();
    return;
  }
  if (opened->transport == wire::Transport::kVirtioSerialPort && HostAbsent(opened->fd)) {
    // The port opens while no host is attached, but hangs up at once: no connection. Greeting
    // it would log an inventory event and replay the backlog on every attempt.
    close(opened->fd);
    ++stats_.open_failures;
    static constexpr char kAbsent[] = "no host attached to the port (it hangs up)";
    if (last_open_error_ != kAbsent) {
      last_open_error_ = kAbsent;
      g_message("host channel not available (%s); retrying with backoff", kAbsent);
    }
    retry_.Schedule();
    return;
  }
  last_open_error_.clear();
  ++stats_.opens;
  wire::FramedStreamOptions options;
  options.transport = opened->transport;
  stream_ = std::make_unique<wire::FramedStream>(
      opened->fd, context_,
      wire::FramedStreamCallbacks{
          .on_frame = [this](std::string payload) { OnFrame(std::move(payload)); },
          .on_closed = [this](wire::CloseReason reason, int error) { OnClosed(reason, error); },
          .on_drained = nullptr,
      },
      options);
  g_debug("host channel open: %s", opened->description.c_str());
  if (callbacks_.on_connected) callbacks_.on_connected();
}

void HostLink::OnFrame(std::string payload) {
  memhp::v1::AgentEnvelope envelope;
  if (!envelope.ParseFromString(payload) || envelope.kind_case() == memhp::v1::AgentEnvelope::KIND_NOT_SET) {
    ++stats_.malformed_messages;
    g_warning("dropped a malformed envelope from the host (%zu bytes)", payload.size());
    return;
  }
  if (callbacks_.on_message) callbacks_.on_message(std::move(envelope));
}

void HostLink::OnClosed(wire::CloseReason reason, int error) {
  if (reason != wire::CloseReason::kPeerAbsent) {
    g_message("host channel closed: %s%s%s", wire::CloseReasonName(reason),
              error ? ": " : "", error ? g_strerror(error) : "");
  }
  // The stream has closed its fd; drop it after this callback returns (FramedStream allows
  // destruction from its own callback).
  stream_.reset();
  if (callbacks_.on_disconnected) callbacks_.on_disconnected();
  retry_.Schedule();
}

}  // namespace memhp::agent
