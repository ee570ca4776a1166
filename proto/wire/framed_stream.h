// memhp wire — FramedStream: one framed byte stream on a GLib main loop.
//
// Both daemons speak over plain file descriptors: memhp-agent over its virtio-serial port
// (/dev/virtio-ports/...), memhpd over QEMU's chardev socket and its control-socket clients.
// FramedStream owns such a non-blocking fd, watches it from a GMainContext, cuts what it reads
// into frames (FrameDecoder) and hands each payload to on_frame; Send() frames a payload and
// writes it as the fd allows, keeping the rest in a bounded output queue.
//
// Hangups. On a unix socket, EOF means the peer closed its end: CloseReason::kPeerClosed. On a
// virtio-serial port inside the guest, the kernel reports POLLHUP (with POLLIN, and read()
// returns 0) for as long as nothing is connected on the host side of the port
// (drivers/char/virtio_console.c, port_fops_poll / will_read_block), and a non-blocking write
// fails with EAGAIN; the port would wake the loop forever. So with Transport::kVirtioSerialPort
// the stream reports CloseReason::kPeerAbsent and closes the fd: the owner backs off and reopens
// the port later (a reopen sends VIRTIO_CONSOLE_PORT_OPEN again; the host may be back).
//
// Callbacks and lifetime. on_frame, on_closed and on_drained run from the main loop only, never
// from inside Send() or Close(). Any of them may call Send(), Close(), or destroy the
// FramedStream: the stream keeps its callbacks and an "alive" flag in a shared core that the
// dispatcher holds a reference to while calling out, and it touches nothing of the stream after
// a callback once the flag says the stream is gone or closed. on_closed is called at most once,
// and never after the owner called Close() itself. A stream is used from the thread that runs
// its GMainContext, and is destroyed before that context is.
#ifndef MEMHP_WIRE_FRAMED_STREAM_H_
#define MEMHP_WIRE_FRAMED_STREAM_H_

#include <glib.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/unique_fd.h"
#include "wire/frame_codec.h"

namespace google::protobuf {
class MessageLite;
}  // namespace google::protobuf

namespace memhp::wire {

// What the fd is, which decides what a hangup means (see the file comment).
enum class Transport {
  kSocket,            // a unix socket (or pipe): EOF/HUP = the peer closed its end
  kVirtioSerialPort,  // a guest virtio-serial port: EOF/HUP = the host side is not connected
};

// Why a stream closed itself; given to on_closed with an errno (0 when there is none).
enum class CloseReason {
  kPeerClosed,  // orderly EOF/hangup on a socket, or EPIPE/ECONNRESET on write
  kPeerAbsent,  // EOF/hangup on a virtio-serial port: nobody on the host side; back off, reopen
  kReadError,   // read() failed with errno
  kWriteError,  // write() failed with errno
};

[[nodiscard]] const char* CloseReasonName(CloseReason reason);

// The outcome of Send(). Nothing is ever dropped silently: anything but kQueued means the frame
// was not queued, and the caller decides (retry after on_drained, fail the request, close).
enum class [[nodiscard]] SendStatus {
  kQueued,     // framed and written or queued for writing
  kQueueFull,  // the output queue would pass max_queued_bytes; on_drained follows when it empties
  kTooLarge,   // payload larger than max_payload (the peer would refuse it)
  kClosed,     // the stream is closed
};

[[nodiscard]] const char* SendStatusName(SendStatus status);

struct FramedStreamOptions {
  // Largest payload accepted in either direction. Both peers use kDefaultMaxPayload.
  size_t max_payload = kDefaultMaxPayload;
  // Bound on framed bytes waiting to be written. Raised to at least one maximal frame.
  size_t max_queued_bytes = size_t{4} << 20;
  // Bytes read per read() call; the decoder buffer stays within header + max_payload + this.
  size_t read_chunk = size_t{64} << 10;
  // read() calls per main-loop dispatch before yielding to other sources.
  int max_reads_per_dispatch = 16;
  Transport transport = Transport::kSocket;
};

struct FramedStreamCallbacks {
  std::function<void(std::string payload)> on_frame;              // one call per valid frame
  std::function<void(CloseReason reason, int error)> on_closed;   // once, after the fd is closed
  std::function<void()> on_drained;  // optional: the queue emptied after a kQueueFull
};

class FramedStream {
 public:
  // Takes ownership of `fd` (made non-blocking here; closed by Close() or the destructor) and
  // attaches a watch to `context` (nullptr = the global default context).
  FramedStream(int fd, GMainContext* context, FramedStreamCallbacks callbacks,
               FramedStreamOptions options = {});
  ~FramedStream();

  FramedStream(const FramedStream&) = delete;
  FramedStream& operator=(const FramedStream&) = delete;

  // Frames `payload` and writes it, or queues what the fd does not take now.
  [[nodiscard]] SendStatus Send(std::string_view payload);
  // Same for a protobuf message; kTooLarge if it serializes to more than max_payload.
  [[nodiscard]] SendStatus SendMessage(const google::protobuf::MessageLite& message);

  // Detaches the watch, closes the fd and drops unsent bytes. Idempotent; no on_closed.
  void Close();

  [[nodiscard]] bool is_open() const { return fd_.valid(); }
  [[nodiscard]] size_t queued_bytes() const { return queued_bytes_; }
  [[nodiscard]] const DecoderStats& decoder_stats() const { return decoder_.stats(); }
  [[nodiscard]] const FramedStreamOptions& options() const { return options_; }

 private:
  struct Core;  // callbacks + alive flag, shared with the dispatcher while it calls out
  struct Source;
  static gboolean Dispatch(GSource* source, GSourceFunc callback, gpointer user_data);

  SendStatus QueueFrame(std::string frame);
  // Writes queued bytes until done or EAGAIN; records a pending close on a hard error.
  void FlushQueue();
  void UpdateInterest();
  // Handles one dispatch: a pending close report, readable/hangup, writable, drained.
  void HandleEvents(GIOCondition revents);
  // Reads, decodes and delivers frames; false once the stream was closed or destroyed.
  bool ReadAvailable(GIOCondition revents);
  // Closes the fd and reports `reason` once, if still open. Returns false if the stream is gone.
  bool CloseAndReport(CloseReason reason, int error);
  void ScheduleCloseReport(CloseReason reason, int error);

  UniqueFd fd_;
  bool is_socket_ = false;
  FramedStreamOptions options_;
  std::shared_ptr<Core> core_;
  GSource* source_ = nullptr;
  gpointer fd_tag_ = nullptr;
  GIOCondition interest_ = static_cast<GIOCondition>(0);
  FrameDecoder decoder_;
  std::string read_buf_;
  std::deque<std::string> out_queue_;
  size_t out_offset_ = 0;  // bytes of out_queue_.front() already written
  size_t queued_bytes_ = 0;
  bool report_drained_ = false;
  // A write error met inside Send(), reported from the next dispatch (never from Send itself).
  std::optional<std::pair<CloseReason, int>> pending_close_;
};

}  // namespace memhp::wire

#endif  // MEMHP_WIRE_FRAMED_STREAM_H_
