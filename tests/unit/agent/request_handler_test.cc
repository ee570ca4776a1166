// memhp tests — the agent's port lookup (FindVirtioPort) and its request handler
// (RequestHandler) over fake sysfs trees; the Agent and HostLink on a socket are in
// agent_core_test.cc.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <string>

#include "agent/port_locator.h"
#include "agent/request_handler.h"
#include "agent_core_shared.h"
#include "fake_sysfs.h"
#include "memhp/v1/agent.pb.h"
#include "sysfs/linux_abi.h"
#include "sysfs/sysfs_reader.h"

namespace memhp::agent {
namespace {

using memhp::agent::testing::BuildTwoNodeGuest;
using memhp::agent::testing::FakeSysfs;
using memhp::agent::testing::kBlockSize;
using memhp::agent::testing::kFixedNs;
using memhp::agent::testing::PingRequest;
using memhp::agent::testing::TwoNodeGuestRoot;
using memhp::v1::AgentRequest;
using memhp::v1::AgentResponse;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const AgentIdentity kIdentity = memhp::agent::testing::TestIdentity();

// ---------------------------------------------------------------------------------------------
// FindVirtioPort

// One tree for every lookup: a console port (the kernel gives it no name attribute), QEMU's
// guest agent port, and memhp's port.
struct PortTree {
  PortTree() {
    const std::string ports(abi::kVirtioPortsDir);
    tree.WriteFile(ports + "/vport0p0/dev", "252:0\n");
    tree.WriteFile(ports + "/vport1p0/name", "org.qemu.guest_agent.0\n");
    tree.WriteFile(ports + "/vport1p1/name", "org.memhp.agent.0\n");
  }
  FakeSysfs tree;
};

const std::string& PortRoot() {
  static const PortTree ports;  // removed at exit by ~FakeSysfs
  return ports.tree.root();
}

TEST(FindVirtioPortTest, FindsThePortByItsNameAmongConsolePorts) {
  Result<std::string> path = FindVirtioPort(PortRoot(), "org.memhp.agent.0");
  ASSERT_TRUE(path.ok()) << path.error().message;
  EXPECT_EQ(*path, PortRoot() + "/dev/vport1p1");

  Result<std::string> other = FindVirtioPort(PortRoot(), "org.qemu.guest_agent.0");
  ASSERT_TRUE(other.ok()) << other.error().message;
  EXPECT_EQ(*other, PortRoot() + "/dev/vport1p0");
}

TEST(FindVirtioPortTest, NoPortWithThatNameIsEnoent) {
  for (const char* name : {"org.memhp.agent.1", "org.memhp.agent", ""}) {
    SCOPED_TRACE(name);
    Result<std::string> path = FindVirtioPort(PortRoot(), name);
    ASSERT_FALSE(path.ok());
    EXPECT_EQ(path.error().errno_value, ENOENT);
    EXPECT_THAT(path.error().message, HasSubstr("'" + std::string(name) + "'"));
  }
}

TEST(FindVirtioPortTest, NoVirtioPortsDirectoryIsEnoent) {
  // virtio_console not loaded (yet): the class directory does not exist.
  Result<std::string> path = FindVirtioPort(PortRoot() + "/no-such-root", "org.memhp.agent.0");
  ASSERT_FALSE(path.ok());
  EXPECT_EQ(path.error().errno_value, ENOENT);
  EXPECT_THAT(path.error().message, HasSubstr("virtio-ports"));
}

// ---------------------------------------------------------------------------------------------
// RequestHandler


class RequestHandlerTest : public ::testing::Test {
 protected:
  RequestHandlerTest()
      : reader_(TwoNodeGuestRoot(), [] { return kFixedNs; }), handler_(reader_, kIdentity) {}

  SysfsReader reader_;
  RequestHandler handler_;
};

TEST_F(RequestHandlerTest, HelloCarriesTheGuestFacts) {
  AgentRequest request;
  request.set_id(7);
  request.mutable_hello()->set_role(memhp::v1::PEER_ROLE_HOST);
  request.mutable_hello()->set_protocol(memhp::v1::AGENT_PROTOCOL_V1);

  const AgentResponse response = handler_.Handle(request);
  EXPECT_EQ(response.id(), 7u);
  ASSERT_FALSE(response.has_error()) << response.error().message();
  ASSERT_TRUE(response.has_hello());
  const memhp::v1::Hello& hello = response.hello();
  EXPECT_EQ(hello.role(), memhp::v1::PEER_ROLE_AGENT);
  EXPECT_EQ(hello.protocol(), memhp::v1::AGENT_PROTOCOL_V1);
  EXPECT_THAT(hello.capabilities(), ::testing::IsSupersetOf({"ping", "inventory"}));
  EXPECT_EQ(hello.agent_pid(), 4242u);
  EXPECT_EQ(hello.guest().kernel_release(), "6.1.0-memhp-test");
  EXPECT_EQ(hello.guest().page_size(), 4096u);
  EXPECT_EQ(hello.guest().block_size_bytes(), kBlockSize);
  EXPECT_THAT(hello.guest().nodes(), ElementsAre(0u, 1u));
  EXPECT_EQ(hello.guest().auto_online_blocks(), "offline");
  EXPECT_NE(hello.guest().boot_id_hash(), 0u);
}

TEST_F(RequestHandlerTest, PingEchoesItsPayloadUpToTheLimit) {
  for (size_t size : {size_t{0}, size_t{5}, kMaxPingPayload}) {
    SCOPED_TRACE(size);
    const std::string payload(size, 'p');
    const AgentResponse response = handler_.Handle(PingRequest(11, payload).request());
    EXPECT_EQ(response.id(), 11u);
    EXPECT_FALSE(response.has_error());
    ASSERT_TRUE(response.has_pong());
    EXPECT_EQ(response.pong().payload(), payload);
  }
}

TEST_F(RequestHandlerTest, InventoryIsTheSysfsInventory) {
  AgentRequest request;
  request.set_id(3);
  request.mutable_inventory();
  const AgentResponse response = handler_.Handle(request);
  EXPECT_EQ(response.id(), 3u);
  ASSERT_FALSE(response.has_error()) << response.error().message();
  ASSERT_TRUE(response.has_inventory());
  const memhp::v1::Inventory& inv = response.inventory();
  EXPECT_EQ(inv.block_size_bytes(), kBlockSize);
  EXPECT_EQ(inv.read_at_unix_ns(), kFixedNs);
  ASSERT_EQ(inv.blocks_size(), 3);
  EXPECT_EQ(inv.blocks(2).id(), 8u);
  EXPECT_EQ(inv.blocks(2).state(), memhp::v1::BLOCK_STATE_OFFLINE);
  ASSERT_EQ(inv.nodes_size(), 2);
  EXPECT_EQ(inv.nodes(1).online_blocks(), 1u);
  EXPECT_EQ(inv.nodes(1).offline_blocks(), 1u);
}

TEST(RequestHandlerFailureTest, InventoryReadFailureIsFailedWithErrno) {
  FakeSysfs guest;
  BuildTwoNodeGuest(guest);
  guest.ReplaceWithDirectory(FakeSysfs::BlockAttr(1, abi::kBlockState));  // read() -> EISDIR
  SysfsReader reader(guest.root());
  RequestHandler handler(reader, kIdentity);
  AgentRequest request;
  request.set_id(4);
  request.mutable_inventory();
  const AgentResponse response = handler.Handle(request);
  EXPECT_EQ(response.id(), 4u);
  ASSERT_TRUE(response.has_error());
  EXPECT_EQ(response.error().code(), memhp::v1::ERROR_CODE_FAILED);
  EXPECT_EQ(response.error().errno_value(), EISDIR);
  EXPECT_THAT(response.error().message(), HasSubstr("memory1/state"));
  EXPECT_FALSE(response.has_inventory());
}

// Requests the agent answers with an error and no result.
struct RefusedCase {
  const char* name;
  std::function<AgentRequest()> request;
  uint64_t expected_id;
  memhp::v1::ErrorCode expected_code;
  const char* message_part;
};
void PrintTo(const RefusedCase& c, std::ostream* os) { *os << c.name; }

class RequestHandlerRefusalTest : public RequestHandlerTest,
                                  public ::testing::WithParamInterface<RefusedCase> {};

TEST_P(RequestHandlerRefusalTest, AnswersWithAnErrorNamingTheRequest) {
  const RefusedCase& c = GetParam();
  const AgentResponse response = handler_.Handle(c.request());
  EXPECT_EQ(response.id(), c.expected_id);
  ASSERT_TRUE(response.has_error());
  EXPECT_EQ(response.error().code(), c.expected_code);
  EXPECT_THAT(response.error().message(), HasSubstr(c.message_part));
  EXPECT_EQ(response.result_case(), AgentResponse::RESULT_NOT_SET);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, RequestHandlerRefusalTest,
    ::testing::Values(
        RefusedCase{"HelloOfAnotherProtocol",
                    [] {
                      AgentRequest r;
                      r.set_id(5);
                      r.mutable_hello()->set_protocol(static_cast<memhp::v1::AgentProtocol>(2));
                      return r;
                    },
                    5, memhp::v1::ERROR_CODE_UNSUPPORTED, "protocol 2"},
        RefusedCase{"HelloWithoutProtocol",
                    [] {
                      AgentRequest r;
                      r.set_id(6);
                      r.mutable_hello();
                      return r;
                    },
                    6, memhp::v1::ERROR_CODE_UNSUPPORTED, "protocol 0"},
        RefusedCase{"PingOverTheLimit",
                    [] { return PingRequest(8, std::string(kMaxPingPayload + 1, 'x')).request(); },
                    8, memhp::v1::ERROR_CODE_TOO_LARGE, "4097 bytes"},
        RefusedCase{"OpUnset",  // what a newer host's unknown op parses as
                    [] {
                      AgentRequest r;
                      r.set_id(9);
                      return r;
                    },
                    9, memhp::v1::ERROR_CODE_UNSUPPORTED, "unknown request"},
        RefusedCase{"IdZero",
                    [] { return PingRequest(0, "hi").request(); },
                    0, memhp::v1::ERROR_CODE_MALFORMED, "without an id"}),
    [](const ::testing::TestParamInfo<RefusedCase>& param_info) {
      return std::string(param_info.param.name);
    });

TEST_F(RequestHandlerTest, UnknownFieldOpParsesAsUnsetAndIsUnsupported) {
  // A newer host's op (field 99, length-delimited) next to id 12.
  const std::string wire = std::string("\x08\x0c", 2) + std::string("\x9a\x06\x00", 3);
  AgentRequest request;
  ASSERT_TRUE(request.ParseFromString(wire));
  const AgentResponse response = handler_.Handle(request);
  EXPECT_EQ(response.id(), 12u);
  EXPECT_EQ(response.error().code(), memhp::v1::ERROR_CODE_UNSUPPORTED);
}

}  // namespace
}  // namespace memhp::agent
