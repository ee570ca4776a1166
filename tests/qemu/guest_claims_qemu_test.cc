// memhpd against a hostile guest: the real memhpd attached to a real QEMU 7.2 (-S, no guest
// OS), with the test playing the agent on memhpd's agent socket and sending what a guest in
// control of its agent could send — a hello claiming 4 KiB memory blocks, an inventory of more
// blocks than the VM's maxmem holds, events naming nodes QEMU does not have. memhpd must refuse
// each (it checks claims against QEMU's `qom-get /machine memory` and `info numa`), keep none of
// it, say so in `status`, and carry on serving an honest hello afterwards.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <optional>
#include <string>

#include "memhp/v1/agent.pb.h"
#include "memhp/v1/control.pb.h"
#include "memhpctl/control_client.h"
#include "memhpd_process.h"
#include "qemu_process.h"
#include "../unit/support/framed_peer.h"

namespace memhp::qemu_test {
namespace {

using namespace std::chrono_literals;
using memhp::v1::AgentEnvelope;
using memhp::v1::ControlRequest;
using memhp::v1::ControlResponse;
using ::testing::HasSubstr;

constexpr uint64_t kMiB = uint64_t{1} << 20;

int ListenAt(const std::string& path) {
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  if (fd < 0 || bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0 || listen(fd, 1) != 0) {
    ADD_FAILURE() << "listen " << path << ": " << std::strerror(errno);
    if (fd >= 0) close(fd);
    return -1;
  }
  return fd;
}

memhp::v1::Hello AgentHello(uint64_t block_size) {
  memhp::v1::Hello hello;
  hello.set_role(memhp::v1::PEER_ROLE_AGENT);
  hello.set_protocol(memhp::v1::AGENT_PROTOCOL_V1);
  hello.set_software_version("0.1.0");
  hello.set_agent_pid(4242);
  hello.mutable_guest()->set_kernel_release("6.1.0-hostile");
  hello.mutable_guest()->set_page_size(4096);
  hello.mutable_guest()->set_block_size_bytes(block_size);
  hello.mutable_guest()->add_nodes(0);
  hello.mutable_guest()->add_nodes(1);
  return hello;
}

class GuestClaimsQemuTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    qemu_ = QemuProcess::Start(BaseQemuArgs(), 20000ms, &error);
    ASSERT_NE(qemu_, nullptr) << error;
    // The test is the agent: memhpd connects to DIR/agent.sock (QEMU serves no chardev there).
    listen_fd_ = ListenAt(qemu_->dir() + "/agent.sock");
    ASSERT_GE(listen_fd_, 0);
    memhpd_ = MemhpdProcess::Start(qemu_->dir(), 20000ms, &error);
    ASSERT_NE(memhpd_, nullptr) << error;
    client_ = std::make_unique<cli::ControlClient>(memhpd_->control_socket());
    context_ = g_main_context_new();
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);  // memhpd connects at start
    ASSERT_GE(fd, 0) << std::strerror(errno);
    agent_ = std::make_unique<test_support::Peer<AgentEnvelope>>(fd);
  }
  void TearDown() override {
    agent_.reset();
    if (listen_fd_ >= 0) close(listen_fd_);
    if (context_) g_main_context_unref(context_);
  }

  memhp::v1::AgentStatus Status() {
    ControlRequest request;
    request.mutable_status();
    cli::CallResult r = client_->Call(std::move(request), 30000ms, nullptr);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message) << "\n" << memhpd_->Log();
    return r.ok() ? r.value().status().agent() : memhp::v1::AgentStatus{};
  }

  // The next envelope memhpd sends that is not an ack (acks are taken along the way).
  std::optional<AgentEnvelope> NextNonAck(int* acks = nullptr) {
    for (;;) {
      std::optional<AgentEnvelope> e = agent_->Next(context_);
      if (!e || !e->has_ack()) return e;
      if (acks) ++*acks;
    }
  }

  std::optional<AgentEnvelope> SayHello(uint64_t id, uint64_t block_size) {
    AgentEnvelope hello;
    hello.mutable_request()->set_id(id);
    *hello.mutable_request()->mutable_hello() = AgentHello(block_size);
    agent_->Send(hello);
    return NextNonAck();
  }

  std::unique_ptr<QemuProcess> qemu_;
  std::unique_ptr<MemhpdProcess> memhpd_;
  std::unique_ptr<cli::ControlClient> client_;
  GMainContext* context_ = nullptr;
  int listen_fd_ = -1;
  std::unique_ptr<test_support::Peer<AgentEnvelope>> agent_;
};

TEST_F(GuestClaimsQemuTest, AHelloWithAFourKibBlockIsRefusedAndAnHonestOneTaken) {
  std::optional<AgentEnvelope> host_hello = agent_->Next(context_);
  ASSERT_TRUE(host_hello && host_hello->request().has_hello());

  std::optional<AgentEnvelope> answer = SayHello(7, 4096);
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->response().id(), 7u);
  EXPECT_EQ(answer->response().error().code(), memhp::v1::ERROR_CODE_INVALID_ARGUMENT);
  EXPECT_THAT(answer->response().error().message(), HasSubstr("block size 4096"));
  memhp::v1::AgentStatus status = Status();
  EXPECT_FALSE(status.connected());
  EXPECT_EQ(status.guest_violations(), 1u);
  EXPECT_THAT(status.last_guest_violation(), HasSubstr("block size 4096"));

  answer = SayHello(8, 128 * kMiB);
  ASSERT_TRUE(answer.has_value());
  EXPECT_FALSE(answer->response().has_error()) << answer->DebugString();
  EXPECT_TRUE(Status().connected());
}

TEST_F(GuestClaimsQemuTest, ClaimsBeyondQemusVmAreAckedButNeverKept) {
  ASSERT_TRUE(agent_->Next(context_).has_value());  // memhpd's hello request
  std::optional<AgentEnvelope> answer = SayHello(1, 128 * kMiB);
  ASSERT_TRUE(answer && !answer->response().has_error());

  // maxmem 8 GiB holds 64 blocks of 128 MiB: an inventory of 100 000 is a lie.
  AgentEnvelope event;
  event.mutable_event()->set_seq(1);
  auto* inventory = event.mutable_event()->mutable_inventory_changed();
  inventory->set_block_size_bytes(128 * kMiB);
  for (uint32_t i = 0; i < 100000; ++i) inventory->add_blocks()->set_id(i);
  agent_->Send(event);
  // A memory event on node 5, of a VM with two nodes.
  event.Clear();
  event.mutable_event()->set_seq(2);
  event.mutable_event()->mutable_memory()->set_kind(memhp::v1::MEMORY_EVENT_KIND_ONLINE);
  event.mutable_event()->mutable_memory()->set_block(20);
  event.mutable_event()->mutable_memory()->set_node(5);
  agent_->Send(event);
  // Then an honest one.
  event.mutable_event()->set_seq(3);
  event.mutable_event()->mutable_memory()->set_node(1);
  agent_->Send(event);

  int acks = 0;
  ASSERT_TRUE(test_support::RunUntil(context_, [&] {
    while (agent_->pending() > 0) {
      if (agent_->Next(context_)->has_ack()) ++acks;
    }
    return acks >= 3;
  })) << "memhpd acknowledged " << acks << " of 3 events\n" << memhpd_->Log();

  const memhp::v1::AgentStatus status = Status();
  EXPECT_TRUE(status.connected()) << "memhpd carries on with the agent";
  EXPECT_FALSE(status.has_inventory()) << status.inventory().blocks_size() << " blocks kept";
  EXPECT_EQ(status.guest_violations(), 2u) << status.last_guest_violation();
  ASSERT_EQ(status.recent_events_size(), 1);
  EXPECT_EQ(status.recent_events(0).seq(), 3u);
  EXPECT_EQ(status.recent_events(0).memory().node(), 1);
}

}  // namespace
}  // namespace memhp::qemu_test
