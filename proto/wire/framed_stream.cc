// memhp wire — FramedStream: a framed, bounded, non-blocking fd on a GMainContext.
//
// One custom GSource per stream watches the fd (g_source_add_unix_fd) and doubles as the
// stream's deferred-work queue: Send() never calls out, so a write error or a drained queue it
// meets is recorded and the source is made ready (g_source_set_ready_time(0)), and the report
// is delivered from the next dispatch. Sockets are written with sendmsg(MSG_NOSIGNAL) so a gone
// peer is an EPIPE, not a SIGPIPE; other fds (the virtio-serial port) with writev.
#include "wire/framed_stream.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <google/protobuf/message_lite.h>

#include <algorithm>
#include <utility>

namespace memhp::wire {
namespace {

constexpr int kMaxIov = 16;

}  // namespace

// Shared between the stream and a dispatch in progress: if a callback destroys the stream, the
// callbacks being run and the flag saying "stop" outlive it until the dispatch unwinds.
struct FramedStream::Core {
  bool open = true;  // false once the stream is closed or destroyed
  FramedStreamCallbacks callbacks;
};

struct FramedStream::Source {
  GSource base;  // must come first: GLib allocates and hands back this struct as a GSource
  FramedStream* owner;
};

const char* CloseReasonName(CloseReason reason) {
  switch (reason) {
    case CloseReason::kPeerClosed:
      return "peer-closed";
    case CloseReason::kPeerAbsent:
      return "peer-absent";
    case CloseReason::kReadError:
      return "read-error";
    case CloseReason::kWriteError:
      return "write-error";
  }
  return "unknown";
}

const char* SendStatusName(SendStatus status) {
  switch (status) {
    case SendStatus::kQueued:
      return "queued";
    case SendStatus::kQueueFull:
      return "queue-full";
    case SendStatus::kTooLarge:
      return "too-large";
    case SendStatus::kClosed:
      return "closed";
  }
  return "unknown";
}

FramedStream::FramedStream(int fd, GMainContext* context, FramedStreamCallbacks callbacks,
                           FramedStreamOptions options)
    : fd_(fd),
      options_(options),
      core_(std::make_shared<Core>()),
      decoder_(std::min(options.max_payload, kMaxEncodablePayload)) {
  options_.max_payload = decoder_.max_payload();
  options_.max_queued_bytes =
      std::max(options_.max_queued_bytes, kFrameHeaderSize + options_.max_payload);
  options_.read_chunk = std::max<size_t>(options_.read_chunk, 1);
  options_.max_reads_per_dispatch = std::max(options_.max_reads_per_dispatch, 1);
  core_->callbacks = std::move(callbacks);
  read_buf_.resize(options_.read_chunk);
  if (!fd_.valid()) {
    core_->open = false;
    return;
  }

  // GLib takes a non-const table but never writes it; one immutable table serves every stream.
  static const GSourceFuncs kFuncs = {nullptr, nullptr, &FramedStream::Dispatch,
                                      nullptr, nullptr, nullptr};
  source_ = g_source_new(const_cast<GSourceFuncs*>(&kFuncs), sizeof(Source));
  reinterpret_cast<Source*>(source_)->owner = this;
  g_source_set_name(source_, "memhp-framed-stream");
  interest_ = static_cast<GIOCondition>(G_IO_IN | G_IO_HUP | G_IO_ERR);
  fd_tag_ = g_source_add_unix_fd(source_, fd_.get(), interest_);
  g_source_attach(source_, context);

  // Non-blocking is what the loop needs; close-on-exec keeps the channel out of the hook
  // scripts the agent runs. A failure here is reported like any other: from the loop.
  const int flags = fcntl(fd_.get(), F_GETFL);
  const int fd_flags = fcntl(fd_.get(), F_GETFD);
  if (flags < 0 || fd_flags < 0 || fcntl(fd_.get(), F_SETFL, flags | O_NONBLOCK) < 0 ||
      fcntl(fd_.get(), F_SETFD, fd_flags | FD_CLOEXEC) < 0) {
    ScheduleCloseReport(CloseReason::kReadError, errno);
    return;
  }
  struct stat st {};
  is_socket_ = fstat(fd_.get(), &st) == 0 && S_ISSOCK(st.st_mode);
}

FramedStream::~FramedStream() { Close(); }

void FramedStream::Close() {
  core_->open = false;
  if (source_ != nullptr) {
    reinterpret_cast<Source*>(source_)->owner = nullptr;
    g_source_destroy(source_);  // safe during our own dispatch: GLib holds a reference then
    g_source_unref(source_);
    source_ = nullptr;
    fd_tag_ = nullptr;
  }
  // Unsent bytes are being dropped on purpose; nothing is reported at close (unique_fd.h).
  fd_.Reset();
  out_queue_.clear();
  out_offset_ = 0;
  queued_bytes_ = 0;
  report_drained_ = false;
  pending_close_.reset();
  decoder_.Reset();
}

SendStatus FramedStream::Send(std::string_view payload) {
  if (!is_open() || pending_close_) {
    return SendStatus::kClosed;
  }
  if (payload.size() > options_.max_payload) {
    return SendStatus::kTooLarge;
  }
  if (queued_bytes_ + kFrameHeaderSize + payload.size() > options_.max_queued_bytes) {
    report_drained_ = true;
    return SendStatus::kQueueFull;
  }
  return QueueFrame(EncodeFrame(payload));
}

SendStatus FramedStream::SendMessage(const google::protobuf::MessageLite& message) {
  if (!is_open() || pending_close_) {
    return SendStatus::kClosed;
  }
  const size_t size = message.ByteSizeLong();
  if (size > options_.max_payload) {
    return SendStatus::kTooLarge;
  }
  if (queued_bytes_ + kFrameHeaderSize + size > options_.max_queued_bytes) {
    report_drained_ = true;
    return SendStatus::kQueueFull;
  }
  return QueueFrame(EncodeMessage(message));
}

SendStatus FramedStream::QueueFrame(std::string frame) {
  queued_bytes_ += frame.size();
  out_queue_.push_back(std::move(frame));
  FlushQueue();
  if (pending_close_) {
    return SendStatus::kClosed;  // the write failed; on_closed follows from the loop
  }
  UpdateInterest();
  return SendStatus::kQueued;
}

void FramedStream::FlushQueue() {
  while (!out_queue_.empty() && !pending_close_) {
    iovec iov[kMaxIov];
    int count = 0;
    size_t offset = out_offset_;
    for (auto it = out_queue_.begin(); it != out_queue_.end() && count < kMaxIov; ++it) {
      iov[count].iov_base = it->data() + offset;
      iov[count].iov_len = it->size() - offset;
      offset = 0;
      ++count;
    }
    ssize_t written;
    if (is_socket_) {
      msghdr msg{};
      msg.msg_iov = iov;
      msg.msg_iovlen = static_cast<size_t>(count);
      written = sendmsg(fd_.get(), &msg, MSG_NOSIGNAL);
    } else {
      written = writev(fd_.get(), iov, count);
    }
    if (written < 0) {
      const int err = errno;
      if (err == EINTR) {
        continue;
      }
      if (err == EAGAIN || err == EWOULDBLOCK) {
        return;  // the G_IO_OUT watch resumes
      }
      const bool peer_gone = err == EPIPE || err == ECONNRESET;
      ScheduleCloseReport(peer_gone ? (options_.transport == Transport::kVirtioSerialPort
                                           ? CloseReason::kPeerAbsent
                                           : CloseReason::kPeerClosed)
                                    : CloseReason::kWriteError,
                          err);
      return;
    }
    // Short writes are normal on a full socket buffer: consume exactly what was taken.
    auto left = static_cast<size_t>(written);
    while (left > 0) {
      const size_t rest = out_queue_.front().size() - out_offset_;
      if (left >= rest) {
        left -= rest;
        queued_bytes_ -= rest;
        out_queue_.pop_front();
        out_offset_ = 0;
      } else {
        out_offset_ += left;
        queued_bytes_ -= left;
        left = 0;
      }
    }
  }
  if (out_queue_.empty() && report_drained_ && source_ != nullptr) {
    g_source_set_ready_time(source_, 0);  // on_drained from the loop, not from Send()
  }
}

void FramedStream::UpdateInterest() {
  if (source_ == nullptr) {
    return;
  }
  auto wanted = static_cast<GIOCondition>(G_IO_IN | G_IO_HUP | G_IO_ERR);
  if (!out_queue_.empty()) {
    wanted = static_cast<GIOCondition>(wanted | G_IO_OUT);
  }
  if (wanted != interest_) {
    g_source_modify_unix_fd(source_, fd_tag_, wanted);
    interest_ = wanted;
  }
}

void FramedStream::ScheduleCloseReport(CloseReason reason, int error) {
  if (!pending_close_) {
    pending_close_ = std::make_pair(reason, error);
  }
  if (source_ != nullptr) {
    g_source_set_ready_time(source_, 0);
  }
}

gboolean FramedStream::Dispatch(GSource* source, GSourceFunc /*callback*/,
                                gpointer /*user_data*/) {
  FramedStream* self = reinterpret_cast<Source*>(source)->owner;
  if (self == nullptr) {
    return G_SOURCE_REMOVE;
  }
  g_source_set_ready_time(source, -1);
  const GIOCondition revents = g_source_query_unix_fd(source, self->fd_tag_);
  self->HandleEvents(revents);  // may destroy self: touch nothing after it
  return G_SOURCE_CONTINUE;
}

void FramedStream::HandleEvents(GIOCondition revents) {
  const std::shared_ptr<Core> core = core_;  // outlives `this` if a callback destroys it
  if (pending_close_) {
    const auto [reason, error] = *pending_close_;
    CloseAndReport(reason, error);
    return;
  }
  if ((revents & (G_IO_IN | G_IO_HUP | G_IO_ERR | G_IO_NVAL)) != 0) {
    if (!ReadAvailable(revents)) {
      return;
    }
  }
  if ((revents & G_IO_OUT) != 0) {
    FlushQueue();
    if (pending_close_) {
      const auto [reason, error] = *pending_close_;
      CloseAndReport(reason, error);
      return;
    }
  }
  UpdateInterest();
  if (out_queue_.empty() && report_drained_) {
    report_drained_ = false;
    if (core->callbacks.on_drained) {
      core->callbacks.on_drained();
    }
  }
}

bool FramedStream::ReadAvailable(GIOCondition revents) {
  const std::shared_ptr<Core> core = core_;
  const CloseReason peer_gone = options_.transport == Transport::kVirtioSerialPort
                                    ? CloseReason::kPeerAbsent
                                    : CloseReason::kPeerClosed;
  for (int i = 0; i < options_.max_reads_per_dispatch; ++i) {
    const ssize_t n = ::read(fd_.get(), read_buf_.data(), read_buf_.size());
    if (n > 0) {
      decoder_.Feed(std::string_view(read_buf_.data(), static_cast<size_t>(n)));
      while (std::optional<std::string> frame = decoder_.Next()) {
        if (core->callbacks.on_frame) {
          core->callbacks.on_frame(std::move(*frame));
        }
        if (!core->open) {
          return false;  // closed or destroyed by the callback
        }
        if (pending_close_) {  // a Send() from the callback hit a write error
          const auto [reason, error] = *pending_close_;
          return CloseAndReport(reason, error);
        }
      }
      continue;
    }
    if (n == 0) {
      // EOF. On a virtio-serial port: the host side is not connected (see the header).
      return CloseAndReport(peer_gone, 0);
    }
    const int err = errno;
    if (err == EINTR) {
      continue;
    }
    if (err == EAGAIN || err == EWOULDBLOCK) {
      if ((revents & G_IO_ERR) != 0) {
        int so_error = 0;
        socklen_t len = sizeof(so_error);
        if (is_socket_ && getsockopt(fd_.get(), SOL_SOCKET, SO_ERROR, &so_error, &len) == 0 &&
            so_error != 0) {
          return CloseAndReport(CloseReason::kReadError, so_error);
        }
        return CloseAndReport(CloseReason::kReadError, EIO);
      }
      if ((revents & G_IO_HUP) != 0) {
        return CloseAndReport(peer_gone, 0);  // hung up with nothing left to read
      }
      return true;
    }
    if (err == ECONNRESET) {
      return CloseAndReport(peer_gone, err);
    }
    return CloseAndReport(CloseReason::kReadError, err);
  }
  return true;  // more may be readable: the fd stays ready and the loop comes back
}

bool FramedStream::CloseAndReport(CloseReason reason, int error) {
  const std::shared_ptr<Core> core = core_;
  if (!core->open) {
    return false;
  }
  Close();
  if (core->callbacks.on_closed) {
    core->callbacks.on_closed(reason, error);
  }
  return false;
}

}  // namespace memhp::wire
