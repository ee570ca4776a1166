// memhp wire — tests for FramedStream over a real socketpair and a manually run GMainContext.
//
// No fakes here: the kernel's socket buffer provides the short writes and EAGAIN, closing the
// peer provides EOF and EPIPE. Each test drives the context until a condition holds (or a few
// seconds pass), so a hang shows up as a failed expectation, not a stuck test binary.
#include "wire/framed_stream.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "memhp/v1/agent.pb.h"

namespace memhp::wire {
namespace {

struct Received {
  std::vector<std::string> frames;
  std::vector<std::pair<CloseReason, int>> closes;
  int drained = 0;
};

// Callbacks that record into `r`.
FramedStreamCallbacks Recorder(Received* r) {
  FramedStreamCallbacks cb;
  cb.on_frame = [r](std::string payload) { r->frames.push_back(std::move(payload)); };
  cb.on_closed = [r](CloseReason reason, int error) { r->closes.emplace_back(reason, error); };
  cb.on_drained = [r] { ++r->drained; };
  return cb;
}

class FramedStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    context_ = g_main_context_new();
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds_), 0);
  }
  void TearDown() override {
    a_.reset();  // streams go before the context they are attached to
    b_.reset();
    for (int fd : fds_) {
      if (fd >= 0) {
        close(fd);
      }
    }
    g_main_context_unref(context_);
  }

  // Hands fds_[i] to a stream (the stream owns it from now on).
  std::unique_ptr<FramedStream> Adopt(int i, FramedStreamCallbacks cb,
                                      FramedStreamOptions options = {}) {
    const int fd = fds_[i];
    fds_[i] = -1;
    return std::make_unique<FramedStream>(fd, context_, std::move(cb), options);
  }

  // Iterates the context until `done` holds; false after a 10 s deadline.
  bool RunUntil(const std::function<bool()>& done) {
    const gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    while (!done()) {
      if (g_get_monotonic_time() > deadline) {
        return false;
      }
      if (!g_main_context_iteration(context_, FALSE)) {
        g_usleep(200);
      }
    }
    return true;
  }

  // Iterates the context for a while, whatever happens.
  void RunFor(int iterations) {
    for (int i = 0; i < iterations; ++i) {
      g_main_context_iteration(context_, FALSE);
    }
  }

  void ShrinkSocketBuffers() {
    const int small = 4096;  // the kernel doubles it and applies its minimum
    for (int fd : fds_) {
      ASSERT_EQ(setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)), 0);
      ASSERT_EQ(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0);
    }
  }

  GMainContext* context_ = nullptr;
  int fds_[2] = {-1, -1};
  std::unique_ptr<FramedStream> a_;
  std::unique_ptr<FramedStream> b_;
};

TEST_F(FramedStreamTest, FramesTravelBothWays) {
  Received ra;
  Received rb;
  a_ = Adopt(0, Recorder(&ra));
  FramedStreamCallbacks echo = Recorder(&rb);
  echo.on_frame = [&](std::string payload) {
    rb.frames.push_back(payload);
    EXPECT_EQ(b_->Send("re: " + payload), SendStatus::kQueued);  // Send from a callback
  };
  b_ = Adopt(1, std::move(echo));
  EXPECT_EQ(a_->Send("ping"), SendStatus::kQueued);
  EXPECT_EQ(a_->Send(""), SendStatus::kQueued);
  ASSERT_TRUE(RunUntil([&] { return ra.frames.size() == 2; }));
  EXPECT_EQ(rb.frames, (std::vector<std::string>{"ping", ""}));
  EXPECT_EQ(ra.frames, (std::vector<std::string>{"re: ping", "re: "}));
  EXPECT_TRUE(ra.closes.empty());
  EXPECT_EQ(a_->decoder_stats().frames, 2u);
}

TEST_F(FramedStreamTest, SendMessageFramesAProtobuf) {
  Received rb;
  a_ = Adopt(0, {});
  b_ = Adopt(1, Recorder(&rb));
  memhp::v1::AgentEnvelope env;
  env.mutable_request()->set_id(7);
  EXPECT_EQ(a_->SendMessage(env), SendStatus::kQueued);
  ASSERT_TRUE(RunUntil([&] { return rb.frames.size() == 1; }));
  memhp::v1::AgentEnvelope got;
  ASSERT_TRUE(ParseMessage(rb.frames[0], &got));
  EXPECT_EQ(got.request().id(), 7u);
}

TEST_F(FramedStreamTest, LargePayloadThroughASmallSocketBuffer) {
  ShrinkSocketBuffers();
  Received rb;
  a_ = Adopt(0, {});
  FramedStreamOptions small_reads;
  small_reads.read_chunk = 1000;
  b_ = Adopt(1, Recorder(&rb), small_reads);
  std::string big(kDefaultMaxPayload, '\0');
  for (size_t i = 0; i < big.size(); ++i) {
    big[i] = static_cast<char>((i * 7919) >> 3);
  }
  ASSERT_EQ(a_->Send(big), SendStatus::kQueued);
  EXPECT_GT(a_->queued_bytes(), 0u) << "expected a short write into a small socket buffer";
  ASSERT_EQ(a_->Send("after the big one"), SendStatus::kQueued);
  ASSERT_TRUE(RunUntil([&] { return rb.frames.size() == 2; }));
  EXPECT_EQ(rb.frames[0], big);
  EXPECT_EQ(rb.frames[1], "after the big one");
  EXPECT_EQ(a_->queued_bytes(), 0u);
  EXPECT_EQ(b_->decoder_stats().errors(), 0u);
}

TEST_F(FramedStreamTest, PeerCloseIsReportedOnce) {
  Received ra;
  a_ = Adopt(0, Recorder(&ra));
  b_ = Adopt(1, {});
  b_.reset();  // closes the peer's fd
  ASSERT_TRUE(RunUntil([&] { return !ra.closes.empty(); }));
  RunFor(20);
  ASSERT_EQ(ra.closes.size(), 1u);
  EXPECT_EQ(ra.closes[0].first, CloseReason::kPeerClosed);
  EXPECT_FALSE(a_->is_open());
  EXPECT_EQ(a_->Send("too late"), SendStatus::kClosed);
}

TEST_F(FramedStreamTest, FramesBeforePeerCloseAreDeliveredFirst) {
  Received ra;
  a_ = Adopt(0, Recorder(&ra));
  b_ = Adopt(1, {});
  ASSERT_EQ(b_->Send("last words"), SendStatus::kQueued);
  b_.reset();
  ASSERT_TRUE(RunUntil([&] { return !ra.closes.empty(); }));
  EXPECT_EQ(ra.frames, std::vector<std::string>{"last words"});
  EXPECT_EQ(ra.closes.size(), 1u);
}

TEST_F(FramedStreamTest, HangupOnAVirtioSerialPortMeansPeerAbsent) {
  // A guest virtio-serial port reads EOF (with POLLHUP) while the host side is not connected.
  Received ra;
  FramedStreamOptions port;
  port.transport = Transport::kVirtioSerialPort;
  a_ = Adopt(0, Recorder(&ra), port);
  close(fds_[1]);
  fds_[1] = -1;
  ASSERT_TRUE(RunUntil([&] { return !ra.closes.empty(); }));
  RunFor(20);
  ASSERT_EQ(ra.closes.size(), 1u);
  EXPECT_EQ(ra.closes[0].first, CloseReason::kPeerAbsent);
}

TEST_F(FramedStreamTest, WriteErrorIsReportedFromTheLoopNotFromSend) {
  Received ra;
  a_ = Adopt(0, Recorder(&ra));
  close(fds_[1]);
  fds_[1] = -1;
  EXPECT_EQ(a_->Send("into the void"), SendStatus::kClosed);  // EPIPE, and no SIGPIPE
  EXPECT_TRUE(ra.closes.empty());
  ASSERT_TRUE(RunUntil([&] { return !ra.closes.empty(); }));
  RunFor(20);
  ASSERT_EQ(ra.closes.size(), 1u);
  EXPECT_EQ(ra.closes[0].first, CloseReason::kPeerClosed);
  EXPECT_EQ(ra.closes[0].second, EPIPE);
}

TEST_F(FramedStreamTest, OutputQueueBoundIsReportedAndDrainNotified) {
  ShrinkSocketBuffers();
  Received ra;
  FramedStreamOptions bounded;
  bounded.max_payload = 4096;
  bounded.max_queued_bytes = 64 * 1024;
  a_ = Adopt(0, Recorder(&ra), bounded);
  // Nobody reads fds_[1] yet: the socket buffer fills, then the queue.
  std::vector<std::string> accepted;
  SendStatus status = SendStatus::kQueued;
  for (int i = 0; i < 1000 && status == SendStatus::kQueued; ++i) {
    std::string payload = std::to_string(i) + std::string(4000, 'q');
    status = a_->Send(payload);
    if (status == SendStatus::kQueued) {
      accepted.push_back(std::move(payload));
    }
  }
  ASSERT_EQ(status, SendStatus::kQueueFull);
  EXPECT_LE(a_->queued_bytes(), bounded.max_queued_bytes);
  EXPECT_GT(a_->queued_bytes(), bounded.max_queued_bytes - (kFrameHeaderSize + 4096));
  EXPECT_EQ(a_->Send(std::string(4097, 'x')), SendStatus::kTooLarge);

  Received rb;
  b_ = Adopt(1, Recorder(&rb), bounded);
  ASSERT_TRUE(RunUntil([&] { return ra.drained == 1 && rb.frames.size() == accepted.size(); }));
  EXPECT_EQ(rb.frames, accepted);  // nothing lost, nothing reordered
  EXPECT_EQ(a_->queued_bytes(), 0u);
  EXPECT_EQ(a_->Send("room again"), SendStatus::kQueued);
}

TEST_F(FramedStreamTest, CallbackMayDestroyTheStream) {
  int delivered = 0;
  a_ = Adopt(0, {});
  FramedStreamCallbacks cb;
  cb.on_frame = [&](std::string) {
    ++delivered;
    b_.reset();  // destroys the stream from inside its own dispatch
  };
  cb.on_closed = [&](CloseReason, int) { ADD_FAILURE() << "on_closed after destruction"; };
  b_ = Adopt(1, std::move(cb));
  ASSERT_EQ(a_->Send("one"), SendStatus::kQueued);
  ASSERT_EQ(a_->Send("two"), SendStatus::kQueued);
  ASSERT_TRUE(RunUntil([&] { return delivered > 0; }));
  RunFor(20);
  EXPECT_EQ(delivered, 1);
  EXPECT_EQ(b_, nullptr);
}

TEST_F(FramedStreamTest, OnClosedMayDestroyTheStream) {
  int closes = 0;
  FramedStreamCallbacks cb;
  cb.on_closed = [&](CloseReason, int) {
    ++closes;
    a_.reset();
  };
  a_ = Adopt(0, std::move(cb));
  close(fds_[1]);
  fds_[1] = -1;
  ASSERT_TRUE(RunUntil([&] { return closes > 0; }));
  RunFor(20);
  EXPECT_EQ(closes, 1);
}

TEST_F(FramedStreamTest, CloseFromACallbackStopsDeliveryWithoutOnClosed) {
  Received rb;
  FramedStreamCallbacks cb = Recorder(&rb);
  cb.on_frame = [&](std::string payload) {
    rb.frames.push_back(std::move(payload));
    b_->Close();
  };
  a_ = Adopt(0, {});
  b_ = Adopt(1, std::move(cb));
  ASSERT_EQ(a_->Send("one"), SendStatus::kQueued);
  ASSERT_EQ(a_->Send("two"), SendStatus::kQueued);
  ASSERT_TRUE(RunUntil([&] { return !rb.frames.empty(); }));
  RunFor(20);
  EXPECT_EQ(rb.frames.size(), 1u);
  EXPECT_TRUE(rb.closes.empty());
  EXPECT_FALSE(b_->is_open());
  EXPECT_EQ(b_->Send("x"), SendStatus::kClosed);
}

TEST_F(FramedStreamTest, GarbageOnTheWireIsCountedAndSkipped) {
  Received ra;
  a_ = Adopt(0, Recorder(&ra));
  const std::string bytes = "line noise" + EncodeFrame("good");
  ASSERT_EQ(write(fds_[1], bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  ASSERT_TRUE(RunUntil([&] { return ra.frames.size() == 1; }));
  EXPECT_EQ(ra.frames[0], "good");
  EXPECT_EQ(a_->decoder_stats().bytes_skipped, 10u);
}

}  // namespace
}  // namespace memhp::wire
