// memhp tests — memhpd's two sockets: AgentChannel (the host end of the agent wire) against a
// fake agent, and ControlServer against raw clients, all on unix sockets in a temp folder.
//
// The fakes are bare fds with a FrameDecoder: they write frames (or garbage) with send() and read
// what memhpd wrote, so they share nothing with FramedStream but the frame format. Every wait
// iterates the test's private GMainContext until a condition holds or a deadline passes, so a hang
// is a failed expectation, not a stuck binary. The one real delay is AgentChannel's reconnect
// backoff (100 ms, then doubling), which the reconnect test waits for.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "daemon/agent_channel.h"
#include "daemon/control_server.h"
#include "memhp/v1/agent.pb.h"
#include "memhp/v1/control.pb.h"
#include "wire/frame_codec.h"
#include "../support/framed_peer.h"
#include "../support/status_text.h"

namespace memhp::daemon {
namespace {

using memhp::v1::AgentEnvelope;
using memhp::v1::ControlEnvelope;
using memhp::v1::ControlRequest;
using memhp::v1::ControlResponse;
using ::testing::HasSubstr;
using namespace std::chrono_literals;
using test_support::Peer;
using test_support::RunUntil;


// Iterates `context` for `duration`, whatever happens.
void RunFor(GMainContext* context, std::chrono::milliseconds duration) {
  const gint64 end = g_get_monotonic_time() + duration.count() * 1000;
  while (g_get_monotonic_time() < end) {
    if (!g_main_context_iteration(context, FALSE)) g_usleep(200);
  }
}

// A short-pathed temp folder for sockets (sun_path holds 108 bytes), removed at the end.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = "/tmp/memhp-daemon-test.XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) {
      ADD_FAILURE() << "mkdtemp: " << std::strerror(errno);
      return;
    }
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  [[nodiscard]] std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

sockaddr_un UnixAddress(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  EXPECT_LT(path.size(), sizeof(addr.sun_path));
  std::memcpy(addr.sun_path, path.c_str(), std::min(path.size() + 1, sizeof(addr.sun_path)));
  return addr;
}

// A non-blocking listening socket at `path` (a previous socket file there is replaced).
int ListenUnix(const std::string& path) {
  unlink(path.c_str());
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  const sockaddr_un addr = UnixAddress(path);
  if (fd < 0 || bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0 ||
      listen(fd, 4) != 0) {
    ADD_FAILURE() << "listen " << path << ": " << std::strerror(errno);
    if (fd >= 0) close(fd);
    return -1;
  }
  return fd;
}

// Accepts one connection on `listen_fd`, iterating `context` meanwhile; -1 after the deadline.
int AcceptOne(GMainContext* context, int listen_fd) {
  int fd = -1;
  if (!RunUntil(context, [&] {
        fd = accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
        return fd >= 0;
      })) {
    ADD_FAILURE() << "nobody connected";
  }
  return fd;
}

int ConnectUnix(const std::string& path) {
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const sockaddr_un addr = UnixAddress(path);
  if (fd < 0 || connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    ADD_FAILURE() << "connect " << path << ": " << std::strerror(errno);
    if (fd >= 0) close(fd);
    return -1;
  }
  return fd;
}


// ---------------------------------------------------------------------------------------------
// AgentChannel against a fake agent

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
    AgentChannelListener listener;
    listener.on_hello = [this](const memhp::v1::Hello&) { ++hellos_; };
    listener.on_event = [this](const memhp::v1::AgentEvent& e) { events_.push_back(e.seq()); };
    listener.on_lost = [this] { ++lost_; };
    listener.on_violation = [this](const std::string& why) { violations_.push_back(why); };
    channel_ = std::make_unique<AgentChannel>(socket_path_, context_, std::move(listener));
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

// ---------------------------------------------------------------------------------------------
// ControlServer against raw clients

ControlEnvelope StatusRequest(uint64_t id, bool refresh) {
  ControlEnvelope envelope;
  envelope.mutable_request()->set_id(id);
  envelope.mutable_request()->mutable_status()->set_refresh_inventory(refresh);
  return envelope;
}

class ControlServerTest : public ::testing::Test {
 protected:
  ControlServerTest() : context_(g_main_context_new()), path_(dir_.File("control.sock")) {
    server_ = std::make_unique<ControlServer>(
        context_, [this](const ControlRequest& request, ControlReply reply) {
          ++handled_;
          if (hold_replies_) {
            held_.emplace_back(request, std::move(reply));
            return;
          }
          reply(EchoStatus(request));
        });
    EXPECT_EQ(test_support::ErrorText(server_->Listen(path_)), "");
  }
  ~ControlServerTest() override {
    held_.clear();
    server_.reset();
    g_main_context_unref(context_);
  }

  // The handler's answer: a VmStatus whose name tells which request it answers.
  static ControlResponse EchoStatus(const ControlRequest& request) {
    ControlResponse response;
    response.mutable_status()->set_vm_name(
        "vm-" + std::to_string(request.id()) +
        (request.status().refresh_inventory() ? "-refreshed" : "-cached"));
    return response;
  }

  std::unique_ptr<Peer<ControlEnvelope>> NewClient() {
    auto client = std::make_unique<Peer<ControlEnvelope>>(ConnectUnix(path_));
    const size_t before = server_->client_count();
    EXPECT_TRUE(RunUntil(context_, [&] { return server_->client_count() == before + 1; }));
    return client;
  }

  // Sends `request` and returns the answer.
  ControlResponse Ask(Peer<ControlEnvelope>& client, const ControlEnvelope& request) {
    client.Send(request);
    std::optional<ControlEnvelope> answer = client.Next(context_);
    EXPECT_TRUE(answer.has_value());
    EXPECT_TRUE(answer && answer->has_response());
    return answer ? answer->response() : ControlResponse{};
  }

  TempDir dir_;
  GMainContext* context_;
  std::string path_;
  std::unique_ptr<ControlServer> server_;
  int handled_ = 0;
  bool hold_replies_ = false;
  std::vector<std::pair<ControlRequest, ControlReply>> held_;  // answered later
};

TEST_F(ControlServerTest, TwoClientsAtOnceEachGetTheirOwnAnswers) {
  auto a = NewClient();
  auto b = NewClient();
  EXPECT_EQ(server_->client_count(), 2u);

  // Both ask before either is answered; ids are per client, so both may use 7.
  hold_replies_ = true;
  a->Send(StatusRequest(7, true));
  b->Send(StatusRequest(7, false));
  b->Send(StatusRequest(8, true));
  ASSERT_TRUE(RunUntil(context_, [&] { return held_.size() == 3; }));
  for (auto it = held_.rbegin(); it != held_.rend(); ++it) {  // answered in reverse order
    it->second(EchoStatus(it->first));
  }

  std::optional<ControlEnvelope> b1 = b->Next(context_);
  std::optional<ControlEnvelope> b2 = b->Next(context_);
  std::optional<ControlEnvelope> a1 = a->Next(context_);
  ASSERT_TRUE(a1 && b1 && b2);
  EXPECT_EQ(a1->response().id(), 7u);
  EXPECT_EQ(a1->response().status().vm_name(), "vm-7-refreshed");
  EXPECT_EQ(b1->response().id(), 8u);
  EXPECT_EQ(b1->response().status().vm_name(), "vm-8-refreshed");
  EXPECT_EQ(b2->response().id(), 7u);
  EXPECT_EQ(b2->response().status().vm_name(), "vm-7-cached");
  EXPECT_EQ(a->pending(), 0u);  // nothing of b's reached a
  EXPECT_EQ(b->pending(), 0u);
}

TEST_F(ControlServerTest, EchoingHandlerAnswersEachRequest) {
  auto client = NewClient();
  const ControlResponse first = Ask(*client, StatusRequest(1, false));
  EXPECT_EQ(first.id(), 1u);
  EXPECT_FALSE(first.has_error());
  EXPECT_EQ(first.status().vm_name(), "vm-1-cached");
  const ControlResponse second = Ask(*client, StatusRequest(2, true));
  EXPECT_EQ(second.id(), 2u);
  EXPECT_EQ(second.status().vm_name(), "vm-2-refreshed");
}

TEST_F(ControlServerTest, GarbageFrameIsMalformedAndTheClientCarriesOn) {
  auto client = NewClient();
  client->SendRaw(wire::EncodeFrame("\xff\xff\xff"));  // a frame, not a ControlEnvelope
  std::optional<ControlEnvelope> answer = client->Next(context_);
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->response().id(), 0u);
  EXPECT_EQ(answer->response().error().code(), memhp::v1::ERROR_CODE_MALFORMED);
  EXPECT_EQ(server_->malformed_count(), 1u);
  EXPECT_EQ(handled_, 0);

  const ControlResponse valid = Ask(*client, StatusRequest(3, false));
  EXPECT_EQ(valid.id(), 3u);
  EXPECT_EQ(valid.status().vm_name(), "vm-3-cached");
  EXPECT_EQ(server_->client_count(), 1u);
}

TEST_F(ControlServerTest, EnvelopeWithoutARequestIsMalformed) {
  auto client = NewClient();
  ControlEnvelope response_only;
  response_only.mutable_response()->set_id(4);
  const ControlResponse answer = Ask(*client, response_only);
  EXPECT_EQ(answer.error().code(), memhp::v1::ERROR_CODE_MALFORMED);
  EXPECT_EQ(handled_, 0);
}

TEST_F(ControlServerTest, IdZeroIsMalformedAndUnknownOpUnsupported) {
  auto client = NewClient();
  const ControlResponse no_id = Ask(*client, StatusRequest(0, false));
  EXPECT_EQ(no_id.id(), 0u);
  EXPECT_EQ(no_id.error().code(), memhp::v1::ERROR_CODE_MALFORMED);
  EXPECT_THAT(no_id.error().message(), HasSubstr("id"));
  EXPECT_FALSE(no_id.has_status());

  ControlEnvelope no_op;
  no_op.mutable_request()->set_id(12);
  const ControlResponse unknown = Ask(*client, no_op);
  EXPECT_EQ(unknown.id(), 12u);
  EXPECT_EQ(unknown.error().code(), memhp::v1::ERROR_CODE_UNSUPPORTED);
  EXPECT_EQ(handled_, 0);
}

TEST_F(ControlServerTest, ReplyAfterTheClientLeftIsHarmless) {
  hold_replies_ = true;
  auto leaving = NewClient();
  leaving->Send(StatusRequest(5, false));
  ASSERT_TRUE(RunUntil(context_, [&] { return held_.size() == 1; }));
  leaving.reset();
  ASSERT_TRUE(RunUntil(context_, [&] { return server_->client_count() == 0; }));

  held_[0].second(EchoStatus(held_[0].first));  // dropped: nobody to send it to

  hold_replies_ = false;
  auto next = NewClient();
  const ControlResponse answer = Ask(*next, StatusRequest(6, true));
  EXPECT_EQ(answer.id(), 6u);
  EXPECT_EQ(answer.status().vm_name(), "vm-6-refreshed");
  EXPECT_EQ(next->pending(), 0u);  // the dropped answer did not leak to the new client
}

TEST_F(ControlServerTest, ReplyAfterTheServerIsGoneIsANoOp) {
  hold_replies_ = true;
  auto client = NewClient();
  client->Send(StatusRequest(9, false));
  ASSERT_TRUE(RunUntil(context_, [&] { return held_.size() == 1; }));
  server_.reset();
  held_[0].second(EchoStatus(held_[0].first));
  EXPECT_TRUE(client->saw_eof());  // the server closed its end, sending nothing
  EXPECT_EQ(client->pending(), 0u);
}

TEST_F(ControlServerTest, ListenReplacesAStaleSocketFile) {
  const std::string stale = dir_.File("stale.sock");
  const int old_fd = ListenUnix(stale);  // a dead memhpd's socket file
  ASSERT_GE(old_fd, 0);
  close(old_fd);
  ControlServer second(context_, [](const ControlRequest&, ControlReply) {});
  EXPECT_EQ(test_support::ErrorText(second.Listen(stale)), "");
}

}  // namespace
}  // namespace memhp::daemon
