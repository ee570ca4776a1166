// memhp tests — the agent's core (guest-agent/agent/): the Agent and HostLink on a real socket,
// driven by a private GMainContext (the port lookup and the request handler alone are in
// request_handler_test.cc).
//
// The "host" in these tests is a bare fd with a FrameDecoder: it writes frames (or garbage) with
// send() and reads what the agent wrote, so nothing on the host side shares code with the agent's
// FramedStream beyond the frame format. Each wait iterates the context until a condition holds or
// a deadline passes, so a hang is a failed expectation, not a stuck binary. Timers use a small
// BackoffPolicy (10 ms doubling to 40 ms); tests count attempts and check delays only as lower
// bounds, never exact wall time.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <deque>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "agent/agent.h"
#include "agent/agent_settings.h"
#include "agent/event_log.h"
#include "agent/event_reporter.h"
#include "agent/host_link.h"
#include "agent/request_handler.h"
#include "agent_core_shared.h"
#include "memhp/v1/agent.pb.h"
#include "sysfs/sysfs_reader.h"
#include "wire/frame_codec.h"
#include "../support/framed_peer.h"

namespace memhp::agent {
namespace {

using memhp::agent::testing::kBlockSize;
using memhp::agent::testing::kFixedNs;
using memhp::agent::testing::PingRequest;
using memhp::agent::testing::TwoNodeGuestRoot;
using memhp::v1::AgentEnvelope;
using test_support::RunUntil;
using ::testing::ElementsAre;

const AgentIdentity kIdentity = memhp::agent::testing::TestIdentity();
constexpr BackoffPolicy kFastBackoff{.initial_ms = 10, .max_ms = 40};

// The host's end of the channel: raw frames in and out of one socket fd (owned).
using HostEnd = test_support::Peer<AgentEnvelope>;

AgentEnvelope Ack(uint64_t seq) {
  AgentEnvelope envelope;
  envelope.mutable_ack()->set_seq(seq);
  return envelope;
}

// ---------------------------------------------------------------------------------------------
// Agent: a socketpair, the agent on one end, a raw HostEnd on the other.

class AgentTest : public ::testing::Test {
 protected:
  AgentTest()
      : context_(g_main_context_new()),
        reader_(TwoNodeGuestRoot(), [] { return kFixedNs; }),
        handler_(reader_, kIdentity, nullptr, &settings_) {
    int fds[2];
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    agent_fd_ = fds[0];
    host_ = std::make_unique<HostEnd>(fds[1]);
  }
  ~AgentTest() override {
    agent_.reset();  // the agent's stream goes before its context
    if (agent_fd_ >= 0) close(agent_fd_);
    host_.reset();
    g_main_context_unref(context_);
  }

  // Starts an agent whose opener fails `failures` times, then hands over the socket once.
  void StartAgent(int failures = 0) {
    auto opener = [this, failures]() -> Result<OpenedChannel> {
      ++open_attempts_;
      if (open_attempts_ <= failures || agent_fd_ < 0) return Error{ENOENT, "no port yet"};
      const int fd = agent_fd_;
      agent_fd_ = -1;
      return OpenedChannel{fd, wire::Transport::kSocket, "test socketpair"};
    };
    agent_ = std::make_unique<Agent>(handler_, reporter_, opener, context_, kFastBackoff);
    agent_->Start();
  }

  // Reads the greeting every connection starts with: hello request, inventory event.
  void ExpectGreeting(uint64_t* hello_id = nullptr) {
    std::optional<AgentEnvelope> hello = host_->Next(context_);
    ASSERT_TRUE(hello.has_value());
    ASSERT_TRUE(hello->has_request());
    ASSERT_TRUE(hello->request().has_hello());
    if (hello_id) *hello_id = hello->request().id();
    std::optional<AgentEnvelope> event = host_->Next(context_);
    ASSERT_TRUE(event.has_value());
    ASSERT_TRUE(event->has_event());
  }

  // Pings and waits for the pong: proof the agent is still reading and answering.
  void ExpectPingAnswered(uint64_t id) {
    host_->Send(PingRequest(id, "still there?"));
    std::optional<AgentEnvelope> reply = host_->Next(context_);
    ASSERT_TRUE(reply.has_value());
    ASSERT_TRUE(reply->has_response());
    EXPECT_EQ(reply->response().id(), id);
    EXPECT_EQ(reply->response().pong().payload(), "still there?");
  }

  GMainContext* context_;
  SysfsReader reader_;
  AgentSettings settings_;
  RequestHandler handler_;
  EventLog log_;
  EventReporter reporter_{log_};
  int agent_fd_ = -1;
  int open_attempts_ = 0;
  std::unique_ptr<HostEnd> host_;
  std::unique_ptr<Agent> agent_;
};

TEST_F(AgentTest, OnConnectSendsHelloRequestThenInventoryEventSeq1) {
  StartAgent();
  ASSERT_TRUE(agent_->link().connected());

  std::optional<AgentEnvelope> first = host_->Next(context_);
  ASSERT_TRUE(first.has_value());
  ASSERT_TRUE(first->has_request());
  EXPECT_NE(first->request().id(), 0u);
  ASSERT_TRUE(first->request().has_hello());
  const memhp::v1::Hello& hello = first->request().hello();
  EXPECT_EQ(hello.role(), memhp::v1::PEER_ROLE_AGENT);
  EXPECT_EQ(hello.protocol(), memhp::v1::AGENT_PROTOCOL_V1);
  EXPECT_EQ(hello.guest().block_size_bytes(), kBlockSize);
  EXPECT_EQ(hello.agent_pid(), 4242u);

  std::optional<AgentEnvelope> second = host_->Next(context_);
  ASSERT_TRUE(second.has_value());
  ASSERT_TRUE(second->has_event());
  EXPECT_EQ(second->event().seq(), 1u);
  EXPECT_GT(second->event().time_unix_ns(), 0u);
  ASSERT_TRUE(second->event().has_inventory_changed());
  EXPECT_EQ(second->event().inventory_changed().blocks_size(), 3);
  EXPECT_EQ(second->event().inventory_changed().read_at_unix_ns(), kFixedNs);

  EXPECT_EQ(agent_->stats().events_sent, 1u);
  EXPECT_FALSE(agent_->host_said_hello());
  EXPECT_EQ(host_->pending(), 0u);  // nothing else unprompted
}

TEST_F(AgentTest, PingGetsPongWithTheSameId) {
  StartAgent();
  ASSERT_NO_FATAL_FAILURE(ExpectGreeting());
  ExpectPingAnswered(77);
  ExpectPingAnswered(78);
  EXPECT_EQ(agent_->stats().requests, 2u);
}

TEST_F(AgentTest, ATakenIntentIsAnsweredThenReportedAsAnEvent) {
  StartAgent();
  ASSERT_NO_FATAL_FAILURE(ExpectGreeting());
  AgentEnvelope intent;
  intent.mutable_request()->set_id(31);
  memhp::v1::PlugIntent* i = intent.mutable_request()->mutable_intent();
  i->set_operation_id(9);
  i->set_device_id("dimm1");
  i->set_kind(memhp::v1::MEMORY_DEVICE_KIND_DIMM);
  i->set_node(0);
  i->set_expected_size(kBlockSize);
  i->set_deadline_ms(1000);
  host_->Send(intent);
  std::optional<AgentEnvelope> reply = host_->Next(context_);
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->response().id(), 31u);
  ASSERT_TRUE(reply->response().has_intent()) << reply->response().error().message();
  std::optional<AgentEnvelope> event = host_->Next(context_);
  ASSERT_TRUE(event.has_value());
  ASSERT_TRUE(event->event().has_intent_taken());
  EXPECT_EQ(event->event().intent_taken().operation_id(), 9u);
  EXPECT_EQ(event->event().intent_taken().device_id(), "dimm1");
  EXPECT_GT(event->event().time_unix_ns(), 0u);

  // A refused intent (no device) is answered with an error and reported as nothing.
  i->clear_device_id();
  intent.mutable_request()->set_id(32);
  host_->Send(intent);
  reply = host_->Next(context_);
  ASSERT_TRUE(reply.has_value());
  EXPECT_TRUE(reply->response().has_error());
  ExpectPingAnswered(33);  // the next thing after the refusal is the pong: no event came between
}

TEST_F(AgentTest, HostHelloRequestIsAnsweredAndMarksTheHostAlive) {
  StartAgent();
  ASSERT_NO_FATAL_FAILURE(ExpectGreeting());
  AgentEnvelope hello;
  hello.mutable_request()->set_id(500);
  hello.mutable_request()->mutable_hello()->set_role(memhp::v1::PEER_ROLE_HOST);
  hello.mutable_request()->mutable_hello()->set_protocol(memhp::v1::AGENT_PROTOCOL_V1);
  host_->Send(hello);
  std::optional<AgentEnvelope> reply = host_->Next(context_);
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->response().id(), 500u);
  EXPECT_EQ(reply->response().hello().role(), memhp::v1::PEER_ROLE_AGENT);
  EXPECT_TRUE(agent_->host_said_hello());
}

TEST_F(AgentTest, GarbageAndNonEnvelopesAreSurvived) {
  StartAgent();
  ASSERT_NO_FATAL_FAILURE(ExpectGreeting());

  host_->SendRaw("this is not a frame at all\n");
  std::string corrupt = wire::EncodeMessage(PingRequest(90, "corrupted on the way"));
  corrupt.back() ^= 0x01;  // payload_crc no longer matches: the decoder drops the frame
  host_->SendRaw(corrupt);
  host_->SendRaw(wire::EncodeFrame("\xff\xff\xff"));  // a frame, but not an AgentEnvelope
  host_->SendRaw(wire::EncodeFrame(""));              // an envelope with no kind set

  ExpectPingAnswered(91);
  EXPECT_EQ(agent_->link().stats().malformed_messages, 2u);
  EXPECT_EQ(agent_->stats().requests, 1u);  // the corrupted ping never reached the handler
  EXPECT_TRUE(agent_->link().connected());
}

TEST_F(AgentTest, AckUpdatesAckedSeqOnlyForEventsSent) {
  StartAgent();
  ASSERT_NO_FATAL_FAILURE(ExpectGreeting());
  ASSERT_EQ(agent_->stats().acked_seq, 0u);

  host_->Send(Ack(1));
  ASSERT_TRUE(RunUntil(context_, [&] { return agent_->stats().acked_seq == 1; }));

  // Seq 9 was never sent (only seq 1 was): ignored. The pong proves the ack was processed.
  host_->Send(Ack(9));
  ExpectPingAnswered(2);
  EXPECT_EQ(agent_->stats().acked_seq, 1u);
}

TEST_F(AgentTest, ResponsesToUnknownIdsAreDroppedAndTheHelloAnswerCounts) {
  StartAgent();
  uint64_t hello_id = 0;
  ASSERT_NO_FATAL_FAILURE(ExpectGreeting(&hello_id));
  ASSERT_NE(hello_id, 0u);

  AgentEnvelope stray;
  stray.mutable_response()->set_id(hello_id + 100);
  stray.mutable_response()->mutable_pong();
  host_->Send(stray);
  ExpectPingAnswered(3);
  EXPECT_EQ(agent_->stats().dropped_responses, 1u);
  EXPECT_FALSE(agent_->host_said_hello());

  AgentEnvelope answer;
  answer.mutable_response()->set_id(hello_id);
  answer.mutable_response()->mutable_hello()->set_role(memhp::v1::PEER_ROLE_HOST);
  answer.mutable_response()->mutable_hello()->set_protocol(memhp::v1::AGENT_PROTOCOL_V1);
  host_->Send(answer);
  ASSERT_TRUE(RunUntil(context_, [&] { return agent_->host_said_hello(); }));

  host_->Send(answer);  // the same answer twice: the second is a stray
  ExpectPingAnswered(4);
  EXPECT_EQ(agent_->stats().dropped_responses, 2u);
}

TEST_F(AgentTest, HostHelloResetsTheBackoff) {
  StartAgent(/*failures=*/3);
  ASSERT_TRUE(RunUntil(context_, [&] { return agent_->link().connected(); }));
  EXPECT_EQ(open_attempts_, 4);
  EXPECT_EQ(agent_->link().next_delay_ms(), kFastBackoff.max_ms);
  uint64_t hello_id = 0;
  ASSERT_NO_FATAL_FAILURE(ExpectGreeting(&hello_id));

  AgentEnvelope answer;
  answer.mutable_response()->set_id(hello_id);
  answer.mutable_response()->mutable_hello()->set_role(memhp::v1::PEER_ROLE_HOST);
  host_->Send(answer);
  ASSERT_TRUE(RunUntil(context_, [&] { return agent_->host_said_hello(); }));
  EXPECT_EQ(agent_->link().next_delay_ms(), kFastBackoff.initial_ms);
}

// ---------------------------------------------------------------------------------------------
// HostLink: backoff and reopening.

// A virtio-serial port opens fine while no host is attached, but hangs up at once
// (drivers/char/virtio_console.c port_fops_poll: EPOLLHUP while !host_connected). Such an open
// is no connection: the agent must not greet, replay or log an inventory event each time, or a
// long absence fills the backlog with inventory events and pushes out the real ones.
TEST_F(AgentTest, APortThatHangsUpAtOnceIsNoConnectionAndLogsNothing) {
  int attempts = 0;
  auto opener = [&]() -> Result<OpenedChannel> {
    ++attempts;
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) return Error::FromErrno(errno, "socketpair", "");
    close(fds[1]);  // nobody on the host side
    return OpenedChannel{fds[0], wire::Transport::kVirtioSerialPort, "port without a host"};
  };
  agent_ = std::make_unique<Agent>(handler_, reporter_, opener, context_, kFastBackoff);
  agent_->Start();
  ASSERT_TRUE(RunUntil(context_, [&] { return attempts >= 6; }));
  EXPECT_EQ(log_.stats().appended, 0u) << "an inventory event was logged for a port without a host";
  EXPECT_EQ(agent_->link().stats().opens, 0u);
  EXPECT_GE(agent_->link().stats().open_failures, 5u);
  EXPECT_FALSE(agent_->link().connected());
}

class HostLinkTest : public ::testing::Test {
 protected:
  HostLinkTest() : context_(g_main_context_new()) {}
  ~HostLinkTest() override {
    link_.reset();
    g_main_context_unref(context_);
  }

  GMainContext* context_;
  std::unique_ptr<HostLink> link_;
};

TEST_F(HostLinkTest, FailedOpensAreRetriedWithDelaysDoublingUpToMax) {
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  HostEnd host(fds[1]);
  std::vector<uint32_t> delay_after;  // the retry delay each attempt would schedule
  std::vector<gint64> attempt_at;
  int connects = 0;
  auto opener = [&]() -> Result<OpenedChannel> {
    attempt_at.push_back(g_get_monotonic_time());
    delay_after.push_back(link_->next_delay_ms());
    if (attempt_at.size() <= 5) return Error{ENOENT, "no virtio-serial port named x"};
    return OpenedChannel{fds[0], wire::Transport::kSocket, "test"};
  };
  link_ = std::make_unique<HostLink>(
      opener, context_, HostLinkCallbacks{.on_connected = [&] { ++connects; }, .on_message = nullptr, .on_disconnected = nullptr}, kFastBackoff);
  link_->Start();
  EXPECT_FALSE(link_->connected());
  ASSERT_TRUE(RunUntil(context_, [&] { return connects == 1; }));

  EXPECT_EQ(link_->stats().open_failures, 5u);
  EXPECT_EQ(link_->stats().opens, 1u);
  EXPECT_TRUE(link_->connected());
  ASSERT_EQ(attempt_at.size(), 6u);
  EXPECT_THAT(delay_after, ElementsAre(10u, 20u, 40u, 40u, 40u, 40u));
  // Never sooner than the delay: no busy loop. (Lower bounds only; the machine may be slow.)
  for (size_t i = 1; i < attempt_at.size(); ++i) {
    EXPECT_GE(attempt_at[i] - attempt_at[i - 1], gint64{delay_after[i - 1]} * 1000) << "attempt " << i;
  }
}

TEST_F(HostLinkTest, PeerAbsentOnVirtioPortLeadsToAReopen) {
  int first[2];
  int second[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, first), 0);
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, second), 0);
  auto host_first = std::make_unique<HostEnd>(first[1]);
  HostEnd host_second(second[1]);
  std::vector<int> ports = {first[0], second[0]};
  int opened = 0;
  int connects = 0;
  int disconnects = 0;
  wire::SendStatus send_while_down = wire::SendStatus::kQueued;
  std::vector<AgentEnvelope> messages;
  auto opener = [&]() -> Result<OpenedChannel> {
    if (opened == static_cast<int>(ports.size())) return Error{ENOENT, "no more ports"};
    return OpenedChannel{ports[opened++], wire::Transport::kVirtioSerialPort, "fake port"};
  };
  link_ = std::make_unique<HostLink>(
      opener, context_,
      HostLinkCallbacks{
          .on_connected = [&] { ++connects; },
          .on_message = [&](AgentEnvelope e) { messages.push_back(std::move(e)); },
          .on_disconnected =
              [&] {
                ++disconnects;
                send_while_down = link_->Send(Ack(1));
              },
      },
      kFastBackoff);
  link_->Start();
  ASSERT_TRUE(link_->connected());

  host_first->Close();  // nobody on the host side: EOF/HUP on the port, i.e. kPeerAbsent
  ASSERT_TRUE(RunUntil(context_, [&] { return connects == 2; }));
  EXPECT_EQ(disconnects, 1);
  EXPECT_EQ(send_while_down, wire::SendStatus::kClosed);
  EXPECT_EQ(link_->stats().send_failures, 1u);
  EXPECT_EQ(link_->stats().opens, 2u);
  EXPECT_TRUE(link_->connected());

  // The reopened port carries messages.
  host_second.Send(Ack(3));
  ASSERT_TRUE(RunUntil(context_, [&] { return messages.size() == 1; }));
  EXPECT_EQ(messages[0].ack().seq(), 3u);
  EXPECT_EQ(link_->Send(Ack(4)), wire::SendStatus::kQueued);
}

}  // namespace
}  // namespace memhp::agent
