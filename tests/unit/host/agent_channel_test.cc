// memhp tests — AgentChannel, the host end of the agent wire, against a fake agent on a unix
// socket in a temp folder.
//
// The fake is a bare fd with a FrameDecoder: it writes frames (or garbage) with send() and reads
// what memhpd wrote, so it shares nothing with FramedStream but the frame format. Every wait
// iterates the test's private GMainContext until a condition holds or a deadline passes, so a hang
// is a failed expectation, not a stuck binary. The one real delay is AgentChannel's reconnect
// backoff (100 ms, then doubling), which the reconnect test waits for.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "daemon/agent_channel.h"
#include "memhp/v1/agent.pb.h"
#include "wire/frame_codec.h"
#include "../support/framed_peer.h"
#include "../support/unix_sockets.h"

namespace memhp::daemon {
namespace {

using memhp::v1::AgentEnvelope;
using ::testing::HasSubstr;
using namespace std::chrono_literals;
using test_support::AcceptOne;
using test_support::ListenUnix;
using test_support::Peer;
using test_support::RunFor;
using test_support::RunUntil;
using test_support::TempDir;

memhp::v1::Hello AgentHello() {
  memhp::v1::Hello hello;
  hello.set_role(memhp::v1::PEER_ROLE_AGENT);
  hello.set_protocol(memhp::v1::AGENT_PROTOCOL_V1);
  hello.set_software_version("0.1.0");
  hello.set_agent_pid(321);
  hello.mutable_guest()->set_kernel_release("6.1.0-fake");
  hello.mutable_guest()->set_block_size_bytes(134217728);
  hello.mutable_guest()->set_page_size(4096);
  return hello;
}

memhp::v1::Inventory SomeInventory(uint32_t block) {
  memhp::v1::Inventory inventory;
  inventory.set_block_size_bytes(134217728);
  inventory.add_blocks()->set_id(block);
  return inventory;
}

AgentReply Unanswered() {
  return NoReply(memhp::v1::ERROR_CODE_UNSPECIFIED, "no callback yet");
}

class AgentChannelTest : public ::testing::Test {
 protected:
  AgentChannelTest()
      : context_(g_main_context_new()), socket_path_(dir_.File("agent.sock")),
        listen_fd_(ListenUnix(socket_path_)) {
    MakeChannel(AgentChannelTimeouts{});
  }

  // (Re)makes the channel under test; before Connect().
  void MakeChannel(AgentChannelTimeouts timeouts) {
    AgentChannelListener listener;
    listener.on_hello = [this](const memhp::v1::Hello&) { ++hellos_; };
    listener.on_event = [this](const memhp::v1::AgentEvent& e) { events_.push_back(e.seq()); };
    listener.on_lost = [this] { ++lost_; };
    listener.on_violation = [this](const std::string& why) { violations_.push_back(why); };
    channel_ = std::make_unique<AgentChannel>(socket_path_, context_, std::move(listener), timeouts);
  }
  ~AgentChannelTest() override {
    channel_.reset();  // its stream and timers go before the context
    agent_.reset();
    if (listen_fd_ >= 0) close(listen_fd_);
    g_main_context_unref(context_);
  }

  // Starts the channel and accepts its connection as the fake agent.
  void Connect() {
    channel_->Start();
    agent_ = std::make_unique<Peer<AgentEnvelope>>(AcceptOne(context_, listen_fd_));
  }

  // The host's hello request, read off the fake agent's end.
  AgentEnvelope ReadHostHello() {
    std::optional<AgentEnvelope> hello = agent_->Next(context_);
    EXPECT_TRUE(hello.has_value());
    EXPECT_TRUE(hello && hello->request().has_hello()) << (hello ? hello->DebugString() : "");
    return hello.value_or(AgentEnvelope{});
  }

  // Connects and completes the greeting: the host's hello is answered with an agent hello.
  void ConnectAndGreet() {
    Connect();
    const AgentEnvelope host_hello = ReadHostHello();
    AgentEnvelope answer;
    answer.mutable_response()->set_id(host_hello.request().id());
    *answer.mutable_response()->mutable_hello() = AgentHello();
    agent_->Send(answer);
    ASSERT_TRUE(RunUntil(context_, [&] { return channel_->agent_connected(); }));
  }

  TempDir dir_;
  GMainContext* context_;
  std::string socket_path_;
  int listen_fd_;
  int hellos_ = 0;
  int lost_ = 0;
  std::vector<uint64_t> events_;
  std::vector<std::string> violations_;
  std::unique_ptr<AgentChannel> channel_;
  std::unique_ptr<Peer<AgentEnvelope>> agent_;
};

TEST_F(AgentChannelTest, SendsAHelloRequestOnConnect) {
  Connect();
  const AgentEnvelope hello = ReadHostHello();
  EXPECT_NE(hello.request().id(), 0u);
  EXPECT_EQ(hello.request().hello().role(), memhp::v1::PEER_ROLE_HOST);
  EXPECT_EQ(hello.request().hello().protocol(), memhp::v1::AGENT_PROTOCOL_V1);
  EXPECT_FALSE(channel_->agent_connected());  // nobody answered yet
  EXPECT_EQ(channel_->stats().connects, 1u);
}

TEST_F(AgentChannelTest, AgentHelloAnswerMakesTheAgentConnected) {
  ASSERT_NO_FATAL_FAILURE(ConnectAndGreet());
  EXPECT_EQ(hellos_, 1);
  ASSERT_TRUE(channel_->hello().has_value());
  EXPECT_EQ(channel_->hello()->guest().kernel_release(), "6.1.0-fake");
  EXPECT_EQ(channel_->hello()->agent_pid(), 321u);
  EXPECT_GT(channel_->last_seen_unix_ns(), 0u);
}

TEST_F(AgentChannelTest, AnswersTheAgentsHelloRequest) {
  Connect();
  ReadHostHello();  // left unanswered: the agent's own hello connects the channel
  AgentEnvelope request;
  request.mutable_request()->set_id(40);
  *request.mutable_request()->mutable_hello() = AgentHello();
  agent_->Send(request);

  std::optional<AgentEnvelope> answer = agent_->Next(context_);
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->response().id(), 40u);
  EXPECT_FALSE(answer->response().has_error());
  EXPECT_EQ(answer->response().hello().role(), memhp::v1::PEER_ROLE_HOST);
  EXPECT_TRUE(channel_->agent_connected());
  EXPECT_EQ(hellos_, 1);
}

TEST_F(AgentChannelTest, RefusesAHelloOfAnotherProtocol) {
  Connect();
  ReadHostHello();
  AgentEnvelope request;
  request.mutable_request()->set_id(41);
  *request.mutable_request()->mutable_hello() = AgentHello();
  request.mutable_request()->mutable_hello()->set_protocol(memhp::v1::AGENT_PROTOCOL_UNSPECIFIED);
  agent_->Send(request);

  std::optional<AgentEnvelope> answer = agent_->Next(context_);
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->response().id(), 41u);
  EXPECT_EQ(answer->response().error().code(), memhp::v1::ERROR_CODE_UNSUPPORTED);
  EXPECT_FALSE(channel_->agent_connected());
  EXPECT_EQ(hellos_, 0);
}

TEST_F(AgentChannelTest, InventoryEventIsRecordedAndAcked) {
  ASSERT_NO_FATAL_FAILURE(ConnectAndGreet());
  AgentEnvelope event;
  event.mutable_event()->set_seq(5);
  *event.mutable_event()->mutable_inventory_changed() = SomeInventory(17);
  agent_->Send(event);

  std::optional<AgentEnvelope> ack = agent_->Next(context_);
  ASSERT_TRUE(ack.has_value());
  ASSERT_TRUE(ack->has_ack()) << ack->DebugString();
  EXPECT_EQ(ack->ack().seq(), 5u);
  ASSERT_TRUE(channel_->inventory().has_value());
  ASSERT_EQ(channel_->inventory()->blocks_size(), 1);
  EXPECT_EQ(channel_->inventory()->blocks(0).id(), 17u);
  EXPECT_EQ(channel_->stats().events, 1u);
  EXPECT_THAT(events_, ::testing::ElementsAre(5u));
}

// The guest is untrusted: a hello claiming a 4 KiB memory block (which would make memhpd plan
// one audit range per page) is refused with a protocol answer, and the channel stays usable.
TEST_F(AgentChannelTest, RefusesAHelloWithAnImpossibleBlockSize) {
  Connect();
  ReadHostHello();
  AgentEnvelope request;
  request.mutable_request()->set_id(42);
  *request.mutable_request()->mutable_hello() = AgentHello();
  request.mutable_request()->mutable_hello()->mutable_guest()->set_block_size_bytes(4096);
  agent_->Send(request);

  std::optional<AgentEnvelope> answer = agent_->Next(context_);
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->response().id(), 42u);
  EXPECT_EQ(answer->response().error().code(), memhp::v1::ERROR_CODE_INVALID_ARGUMENT);
  EXPECT_THAT(answer->response().error().message(), HasSubstr("block size 4096"));
  EXPECT_FALSE(channel_->agent_connected());
  EXPECT_EQ(hellos_, 0);
  ASSERT_EQ(violations_.size(), 1u);
  EXPECT_EQ(channel_->stats().violations, 1u);

  request.mutable_request()->set_id(43);  // an honest hello afterwards is taken
  *request.mutable_request()->mutable_hello() = AgentHello();
  agent_->Send(request);
  answer = agent_->Next(context_);
  ASSERT_TRUE(answer.has_value());
  EXPECT_FALSE(answer->response().has_error()) << answer->DebugString();
  EXPECT_TRUE(channel_->agent_connected());
}

// An inventory of 5 000 blocks in a VM whose maxmem holds 128 of them is acknowledged (the
// agent must not replay it for ever) but neither kept nor passed on.
TEST_F(AgentChannelTest, AnInventoryLargerThanTheVmIsAckedButNotKept) {
  channel_->SetLimits(VmLimits{.max_memory_bytes = uint64_t{16} << 30, .numa_nodes = 2});
  ASSERT_NO_FATAL_FAILURE(ConnectAndGreet());
  AgentEnvelope event;
  event.mutable_event()->set_seq(7);
  auto* inventory = event.mutable_event()->mutable_inventory_changed();
  inventory->set_block_size_bytes(134217728);
  for (uint32_t i = 0; i < 5000; ++i) inventory->add_blocks()->set_id(i);
  agent_->Send(event);

  std::optional<AgentEnvelope> ack = agent_->Next(context_);
  ASSERT_TRUE(ack.has_value());
  ASSERT_TRUE(ack->has_ack()) << ack->DebugString();
  EXPECT_EQ(ack->ack().seq(), 7u);
  EXPECT_FALSE(channel_->inventory().has_value());
  EXPECT_TRUE(events_.empty());
  ASSERT_EQ(violations_.size(), 1u);
  EXPECT_THAT(violations_[0], HasSubstr("5000 blocks"));

  // The same agent's honest inventory, next in sequence, is kept.
  event.mutable_event()->set_seq(8);
  *event.mutable_event()->mutable_inventory_changed() = SomeInventory(3);
  agent_->Send(event);
  ack = agent_->Next(context_);
  ASSERT_TRUE(ack.has_value());
  EXPECT_EQ(ack->ack().seq(), 8u);
  ASSERT_TRUE(channel_->inventory().has_value());
  EXPECT_EQ(channel_->inventory()->blocks(0).id(), 3u);
}

// An answer that names a node QEMU does not have fails the request instead of reaching it.
TEST_F(AgentChannelTest, AnAnswerBreakingTheRulesFailsTheRequest) {
  channel_->SetLimits(VmLimits{.max_memory_bytes = uint64_t{16} << 30, .numa_nodes = 2});
  ASSERT_NO_FATAL_FAILURE(ConnectAndGreet());
  int calls = 0;
  AgentReply reply = Unanswered();
  memhp::v1::AgentRequest request;
  request.mutable_inventory();
  channel_->Request(request, 2s, [&](AgentReply r) {
    ++calls;
    reply = std::move(r);
  });
  std::optional<AgentEnvelope> sent = agent_->Next(context_);
  ASSERT_TRUE(sent.has_value());
  AgentEnvelope answer;
  answer.mutable_response()->set_id(sent->request().id());
  *answer.mutable_response()->mutable_inventory() = SomeInventory(9);
  answer.mutable_response()->mutable_inventory()->mutable_blocks(0)->set_node(7);
  agent_->Send(answer);

  ASSERT_TRUE(RunUntil(context_, [&] { return calls > 0; }));
  EXPECT_FALSE(reply.ok());
  EXPECT_EQ(reply.error().code, memhp::v1::ERROR_CODE_MALFORMED);
  EXPECT_THAT(reply.error().message, HasSubstr("node 7"));
  EXPECT_EQ(violations_.size(), 1u);
}

TEST_F(AgentChannelTest, RequestGetsItsAnswer) {
  ASSERT_NO_FATAL_FAILURE(ConnectAndGreet());
  int calls = 0;
  AgentReply reply = Unanswered();
  memhp::v1::AgentRequest request;
  request.mutable_inventory();
  channel_->Request(request, 2s, [&](AgentReply r) {
    ++calls;
    reply = std::move(r);
  });

  std::optional<AgentEnvelope> sent = agent_->Next(context_);
  ASSERT_TRUE(sent.has_value());
  ASSERT_TRUE(sent->request().has_inventory());
  const uint64_t id = sent->request().id();
  EXPECT_NE(id, 0u);

  AgentEnvelope stray;  // an answer to an id nobody asked: dropped
  stray.mutable_response()->set_id(id + 1000);
  agent_->Send(stray);
  AgentEnvelope answer;
  answer.mutable_response()->set_id(id);
  *answer.mutable_response()->mutable_inventory() = SomeInventory(9);
  agent_->Send(answer);

  ASSERT_TRUE(RunUntil(context_, [&] { return calls > 0; }));
  EXPECT_EQ(calls, 1);
  ASSERT_TRUE(reply.ok()) << reply.error().message;
  EXPECT_EQ(reply.value().id(), id);
  EXPECT_EQ(reply.value().inventory().blocks(0).id(), 9u);
  EXPECT_EQ(channel_->stats().dropped_replies, 1u);
}

TEST_F(AgentChannelTest, UnansweredRequestTimesOutOnce) {
  ASSERT_NO_FATAL_FAILURE(ConnectAndGreet());
  int calls = 0;
  AgentReply reply = Unanswered();
  memhp::v1::AgentRequest request;
  request.mutable_ping()->set_payload("anyone?");
  channel_->Request(request, 30ms, [&](AgentReply r) {
    ++calls;
    reply = std::move(r);
  });
  std::optional<AgentEnvelope> sent = agent_->Next(context_);
  ASSERT_TRUE(sent.has_value());

  ASSERT_TRUE(RunUntil(context_, [&] { return calls > 0; }));
  EXPECT_FALSE(reply.ok());
  EXPECT_EQ(reply.error().code, memhp::v1::ERROR_CODE_TIMEOUT);

  // The answer arrives late: it is dropped, and the callback is not run again.
  AgentEnvelope late;
  late.mutable_response()->set_id(sent->request().id());
  late.mutable_response()->mutable_pong()->set_payload("anyone?");
  agent_->Send(late);
  ASSERT_TRUE(RunUntil(context_, [&] { return channel_->stats().dropped_replies == 1; }));
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(channel_->agent_connected());
}

TEST_F(AgentChannelTest, RequestWithoutAgentIsUnavailableAtOnce) {
  Connect();  // connected socket, but no hello answered: no agent known
  int calls = 0;
  AgentReply reply = Unanswered();
  channel_->Request(memhp::v1::AgentRequest{}, 2s, [&](AgentReply r) {
    ++calls;
    reply = std::move(r);
  });
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(reply.error().code, memhp::v1::ERROR_CODE_UNAVAILABLE);
}

TEST_F(AgentChannelTest, LostAgentFailsPendingRequestsOnceAndReconnects) {
  ASSERT_NO_FATAL_FAILURE(ConnectAndGreet());
  std::vector<AgentReply> replies;
  for (int i = 0; i < 2; ++i) {
    memhp::v1::AgentRequest request;
    request.mutable_inventory();
    channel_->Request(request, 5s, [&](AgentReply r) { replies.push_back(std::move(r)); });
  }
  ASSERT_TRUE(RunUntil(context_, [&] { return agent_->pending() == 2; }));

  // QEMU's chardev socket goes away entirely (QEMU restarting): no listener, no connection.
  close(listen_fd_);
  listen_fd_ = -1;
  unlink(socket_path_.c_str());
  agent_->Close();
  ASSERT_TRUE(RunUntil(context_, [&] { return lost_ == 1; }));
  EXPECT_FALSE(channel_->agent_connected());
  EXPECT_FALSE(channel_->hello().has_value());
  ASSERT_EQ(replies.size(), 2u);
  for (const AgentReply& r : replies) {
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, memhp::v1::ERROR_CODE_UNAVAILABLE);
  }

  // Retries while nobody listens fail quietly and change nothing.
  RunFor(context_, 150ms);
  EXPECT_EQ(channel_->stats().connects, 1u);
  EXPECT_EQ(replies.size(), 2u);  // failed once each, never again
  EXPECT_EQ(lost_, 1);

  listen_fd_ = ListenUnix(socket_path_);
  ASSERT_GE(listen_fd_, 0);
  agent_ = std::make_unique<Peer<AgentEnvelope>>(AcceptOne(context_, listen_fd_));
  const AgentEnvelope hello = ReadHostHello();  // a fresh greeting on the new connection
  EXPECT_EQ(channel_->stats().connects, 2u);
  AgentEnvelope answer;
  answer.mutable_response()->set_id(hello.request().id());
  *answer.mutable_response()->mutable_hello() = AgentHello();
  agent_->Send(answer);
  ASSERT_TRUE(RunUntil(context_, [&] { return channel_->agent_connected(); }));
  EXPECT_EQ(hellos_, 2);
}

// A stream that carries no hello in time is hung up, and the next connection comes after the
// gap with a new host hello (QEMU may hold the agent's answers in a throttled port; the guest
// must see the host leave to reopen it — agent_channel.h).
TEST_F(AgentChannelTest, AStreamWithoutAHelloIsHungUpAndConnectedAgain) {
  MakeChannel(AgentChannelTimeouts{.hello = 50ms, .hangup_gap = 20ms});
  Connect();
  const AgentEnvelope first = ReadHostHello();
  // The fake agent reads but never answers: its end sees the host hang up.
  ASSERT_TRUE(RunUntil(context_, [&] { return agent_->saw_eof(); }));
  EXPECT_EQ(channel_->stats().hello_timeouts, 1u);
  EXPECT_EQ(lost_, 0);  // it was never connected, so nothing was lost
  agent_ = std::make_unique<Peer<AgentEnvelope>>(AcceptOne(context_, listen_fd_));
  const AgentEnvelope second = ReadHostHello();
  EXPECT_NE(second.request().id(), first.request().id());
  EXPECT_EQ(channel_->stats().connects, 2u);
  AgentEnvelope answer;
  answer.mutable_response()->set_id(second.request().id());
  *answer.mutable_response()->mutable_hello() = AgentHello();
  agent_->Send(answer);
  ASSERT_TRUE(RunUntil(context_, [&] { return channel_->agent_connected(); }));
  EXPECT_EQ(hellos_, 1);
}

// Once the agent said hello, the stream stays, however long it is quiet.
TEST_F(AgentChannelTest, AStreamWithAHelloIsKeptWhenQuiet) {
  MakeChannel(AgentChannelTimeouts{.hello = 30ms, .hangup_gap = 10ms});
  ASSERT_NO_FATAL_FAILURE(ConnectAndGreet());
  RunFor(context_, 200ms);
  EXPECT_TRUE(channel_->agent_connected());
  EXPECT_EQ(channel_->stats().hello_timeouts, 0u);
  EXPECT_EQ(channel_->stats().connects, 1u);
}

TEST_F(AgentChannelTest, NonEnvelopePayloadIsCountedAndDropped) {
  ASSERT_NO_FATAL_FAILURE(ConnectAndGreet());
  agent_->SendRaw(wire::EncodeFrame("\xff\xff\xff"));
  AgentEnvelope event;
  event.mutable_event()->set_seq(6);
  agent_->Send(event);
  std::optional<AgentEnvelope> ack = agent_->Next(context_);  // still reading after the junk
  ASSERT_TRUE(ack.has_value());
  EXPECT_EQ(ack->ack().seq(), 6u);
  EXPECT_EQ(channel_->stats().malformed, 1u);
  EXPECT_TRUE(channel_->agent_connected());
}

TEST_F(AgentChannelTest, ThePolicyInForceIsTheHellosThenEachSetPolicyAnswer) {
  EXPECT_FALSE(channel_->policy().has_value()) << "nothing heard yet";
  Connect();
  const AgentEnvelope host_hello = ReadHostHello();
  AgentEnvelope greeting;
  greeting.mutable_response()->set_id(host_hello.request().id());
  memhp::v1::Hello hello = AgentHello();
  hello.set_policy("auto-movable");
  hello.set_movable_ratio_percent(301);
  *greeting.mutable_response()->mutable_hello() = hello;
  agent_->Send(greeting);
  ASSERT_TRUE(RunUntil(context_, [&] { return channel_->agent_connected(); }));
  ASSERT_TRUE(channel_->policy().has_value());
  EXPECT_EQ(channel_->policy()->policy(), "auto-movable");
  EXPECT_EQ(channel_->policy()->movable_ratio_percent(), 301u);

  // memhpctl policy: the agent's answer is the policy in force from now on.
  bool answered = false;
  memhp::v1::AgentRequest request;
  request.mutable_set_policy()->set_policy("manual");
  channel_->Request(request, 2s, [&](AgentReply) { answered = true; });
  std::optional<AgentEnvelope> sent = agent_->Next(context_);
  ASSERT_TRUE(sent.has_value());
  AgentEnvelope answer;
  answer.mutable_response()->set_id(sent->request().id());
  answer.mutable_response()->mutable_policy()->set_policy("manual");
  answer.mutable_response()->mutable_policy()->set_movable_ratio_percent(301);
  agent_->Send(answer);
  ASSERT_TRUE(RunUntil(context_, [&] { return answered; }));
  ASSERT_TRUE(channel_->policy().has_value());
  EXPECT_EQ(channel_->policy()->policy(), "manual");

  // An answer that breaks the rules changes nothing.
  answered = false;
  channel_->Request(request, 2s, [&](AgentReply) { answered = true; });
  sent = agent_->Next(context_);
  ASSERT_TRUE(sent.has_value());
  answer.mutable_response()->set_id(sent->request().id());
  answer.mutable_response()->mutable_policy()->set_policy(std::string(5000, 'x'));
  agent_->Send(answer);
  ASSERT_TRUE(RunUntil(context_, [&] { return answered; }));
  EXPECT_EQ(channel_->policy()->policy(), "manual");
  EXPECT_EQ(violations_.size(), 1u);
}

}  // namespace
}  // namespace memhp::daemon
