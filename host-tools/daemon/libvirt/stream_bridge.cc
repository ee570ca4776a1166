// stream_bridge — see stream_bridge.h.
#include "daemon/libvirt/stream_bridge.h"

#include <glib-unix.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "daemon/libvirt/libvirt_domain.h"

namespace memhp::daemon::libvirt {
namespace {

constexpr size_t kChunk = 64u << 10;

}  // namespace

Result<std::unique_ptr<StreamBridge>> StreamBridge::Create(virStreamPtr stream, GMainContext* context,
                                                           UniqueFd* peer) {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0) {
    const int err = errno;
    virStreamAbort(stream);
    virStreamFree(stream);
    return Error::FromErrno(err, "socketpair", "for the libvirt channel stream");
  }
  *peer = UniqueFd(fds[0]);
  std::unique_ptr<StreamBridge> bridge(new StreamBridge(stream, context, UniqueFd(fds[1])));
  if (Status started = bridge->Start(); !started.ok()) {
    peer->Reset();
    return started.error();
  }
  return bridge;
}

StreamBridge::StreamBridge(virStreamPtr stream, GMainContext* context, UniqueFd socket)
    : stream_(stream), context_(context), socket_(std::move(socket)) {}

StreamBridge::~StreamBridge() { Close(""); }

Status StreamBridge::Start() {
  if (virStreamEventAddCallback(stream_, VIR_STREAM_EVENT_READABLE | VIR_STREAM_EVENT_ERROR | VIR_STREAM_EVENT_HANGUP,
                                StreamCallback, this, nullptr) != 0) {
    Error e = LastLibvirtError("virStreamEventAddCallback");
    Close(e.message);
    return e;
  }
  stream_events_ = VIR_STREAM_EVENT_READABLE | VIR_STREAM_EVENT_ERROR | VIR_STREAM_EVENT_HANGUP;
  UpdateWatches();
  return OkStatus();
}

void StreamBridge::Close(const std::string& why) {
  if (!why.empty()) g_message("agent channel stream: %s", why.c_str());
  if (socket_source_) {
    g_source_destroy(socket_source_);
    g_source_unref(socket_source_);
    socket_source_ = nullptr;
  }
  socket_.Reset();
  if (stream_) {
    if (stream_events_ >= 0) virStreamEventRemoveCallback(stream_);
    // Close may run inside the stream's own callback: the stream is let go from the loop.
    GSource* idle = g_idle_source_new();
    g_source_set_callback(idle, [](gpointer s) -> gboolean {
      auto* stream = static_cast<virStreamPtr>(s);
      virStreamAbort(stream);
      virStreamFree(stream);
      return G_SOURCE_REMOVE;
    }, stream_, nullptr);
    g_source_attach(idle, context_);
    g_source_unref(idle);
    stream_ = nullptr;
  }
}

// Reads each source only while its destination has room; writes only while bytes wait.
void StreamBridge::UpdateWatches() {
  if (!stream_) return;
  int c = G_IO_HUP | G_IO_ERR;
  if (to_stream_.size() < kBridgeBuffer) c |= G_IO_IN;
  if (!to_socket_.empty()) c |= G_IO_OUT;
  const auto condition = static_cast<GIOCondition>(c);
  if (condition != socket_condition_ || socket_source_ == nullptr) {
    if (socket_source_) {
      g_source_destroy(socket_source_);
      g_source_unref(socket_source_);
    }
    socket_source_ = g_unix_fd_source_new(socket_.get(), condition);
    g_source_set_callback(socket_source_, reinterpret_cast<GSourceFunc>(reinterpret_cast<void (*)()>(SocketCallback)),
                          this, nullptr);
    g_source_attach(socket_source_, context_);
    socket_condition_ = condition;
  }
  int events = VIR_STREAM_EVENT_ERROR | VIR_STREAM_EVENT_HANGUP;
  if (to_socket_.size() < kBridgeBuffer) events |= VIR_STREAM_EVENT_READABLE;
  if (!to_stream_.empty()) events |= VIR_STREAM_EVENT_WRITABLE;
  if (events != stream_events_) {
    virStreamEventUpdateCallback(stream_, events);
    stream_events_ = events;
  }
}

void StreamBridge::StreamCallback(virStreamPtr, int events, void* opaque) {
  static_cast<StreamBridge*>(opaque)->OnStream(events);
}

gboolean StreamBridge::SocketCallback(gint, GIOCondition condition, gpointer opaque) {
  static_cast<StreamBridge*>(opaque)->OnSocket(condition);
  return G_SOURCE_CONTINUE;
}

void StreamBridge::OnStream(int events) {
  if (!stream_) return;
  if (events & VIR_STREAM_EVENT_READABLE) {
    char buffer[kChunk];
    while (stream_ && to_socket_.size() < kBridgeBuffer) {
      const int n = virStreamRecv(stream_, buffer, sizeof(buffer));
      if (n > 0) {
        to_socket_.append(buffer, static_cast<size_t>(n));
        continue;
      }
      if (n == -2) break;  // nothing more for now
      Close(n == 0 ? "the domain's channel ended" : LastLibvirtError("virStreamRecv").message);
      return;
    }
    PumpToSocket();
  }
  if (stream_ && (events & VIR_STREAM_EVENT_WRITABLE)) PumpToStream();
  if (stream_ && (events & (VIR_STREAM_EVENT_ERROR | VIR_STREAM_EVENT_HANGUP)) &&
      !(events & VIR_STREAM_EVENT_READABLE)) {
    Close("the domain's channel stream failed or hung up");
    return;
  }
  UpdateWatches();
}

void StreamBridge::OnSocket(GIOCondition condition) {
  if (!stream_) return;
  if (condition & G_IO_IN) {
    char buffer[kChunk];
    while (to_stream_.size() < kBridgeBuffer) {
      const ssize_t n = read(socket_.get(), buffer, sizeof(buffer));
      if (n > 0) {
        to_stream_.append(buffer, static_cast<size_t>(n));
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) break;
      Close(n == 0 ? "memhpd's end closed" : std::string("read: ") + g_strerror(errno));
      return;
    }
    PumpToStream();
  }
  if (stream_ && (condition & G_IO_OUT)) PumpToSocket();
  if (stream_ && (condition & (G_IO_HUP | G_IO_ERR)) && !(condition & G_IO_IN)) {
    Close("memhpd's end hung up");
    return;
  }
  UpdateWatches();
}

void StreamBridge::PumpToSocket() {
  while (stream_ && !to_socket_.empty()) {
    const ssize_t n = write(socket_.get(), to_socket_.data(), to_socket_.size());
    if (n > 0) {
      to_socket_.erase(0, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    Close(std::string("write: ") + g_strerror(errno));
    return;
  }
}

void StreamBridge::PumpToStream() {
  while (stream_ && !to_stream_.empty()) {
    const int n = virStreamSend(stream_, to_stream_.data(), to_stream_.size());
    if (n > 0) {
      to_stream_.erase(0, static_cast<size_t>(n));
      continue;
    }
    if (n == -2) return;  // libvirt's buffer is full; WRITABLE comes back
    Close(LastLibvirtError("virStreamSend").message);
    return;
  }
}

}  // namespace memhp::daemon::libvirt
