// memhp unit tests — the raw far end of a framed stream, shared by the agent's and memhpd's tests.
//
// Both daemons are tested against a peer that speaks the wire by hand: frames in and out of
// one socket fd, decoded with the same FrameDecoder, driven by iterating a GMainContext.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <glib.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "wire/frame_codec.h"

namespace memhp::test_support {

// Iterates `context` until `done()` holds or 5 s pass; returns whether it holds.
inline bool RunUntil(GMainContext* context, const std::function<bool()>& done) {
  const gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
  while (!done()) {
    if (g_get_monotonic_time() > deadline) return false;
    if (!g_main_context_iteration(context, FALSE)) g_usleep(200);
  }
  return true;
}

// One end of a framed stream of `Envelope`s, as raw as it gets; owns its fd.
template <class Envelope>
class Peer {
 public:
  explicit Peer(int fd) : fd_(fd) {
    if (fd_ >= 0) {
      EXPECT_EQ(fcntl(fd_, F_SETFL, fcntl(fd_, F_GETFL) | O_NONBLOCK), 0);
    }
  }
  ~Peer() { Close(); }
  Peer(const Peer&) = delete;
  Peer& operator=(const Peer&) = delete;

  void Close() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

  void SendRaw(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EAGAIN) {
        // A big frame to a peer in another process: wait (bounded) until it reads some.
        pollfd p{fd_, POLLOUT, 0};
        if (poll(&p, 1, 5000) == 1) continue;
        ADD_FAILURE() << "peer send: the other end read nothing for 5 s";
        return;
      }
      if (n < 0) {
        ADD_FAILURE() << "peer send: " << std::strerror(errno);
        return;
      }
      bytes.remove_prefix(static_cast<size_t>(n));
    }
  }
  void Send(const Envelope& envelope) { SendRaw(wire::EncodeMessage(envelope)); }

  // Reads what arrived; every frame memhpd sends must parse as an Envelope.
  void Pump() {
    char buf[4096];
    ssize_t n;
    while ((n = recv(fd_, buf, sizeof buf, 0)) > 0) decoder_.Feed({buf, static_cast<size_t>(n)});
    if (n == 0) eof_ = true;
    while (std::optional<std::string> payload = decoder_.Next()) {
      Envelope envelope;
      EXPECT_TRUE(envelope.ParseFromString(*payload)) << "memhpd sent a frame that is no envelope";
      received_.push_back(std::move(envelope));
    }
  }

  // The next envelope, waiting for it on `context`; nullopt after the deadline.
  [[nodiscard]] std::optional<Envelope> Next(GMainContext* context) {
    if (!RunUntil(context, [&] {
          Pump();
          return !received_.empty();
        })) {
      return std::nullopt;
    }
    Envelope envelope = std::move(received_.front());
    received_.pop_front();
    return envelope;
  }

  // Envelopes that arrived and were not taken yet.
  [[nodiscard]] size_t pending() {
    Pump();
    return received_.size();
  }
  [[nodiscard]] bool saw_eof() {
    Pump();
    return eof_;
  }

 private:
  int fd_;
  bool eof_ = false;
  wire::FrameDecoder decoder_;
  std::deque<Envelope> received_;
};

}  // namespace memhp::test_support
