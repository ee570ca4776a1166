// memhpd's AuditLink (host-tools/daemon/audit_link.h) between a fake QEMU (QMP on a socketpair,
// answering with what QEMU 7.2.22 answered for the default VM with one DIMM) and a fake plugin
// (the audit wire on a unix socket): it arms on the agent's hello, declares the DIMM's blocks
// with their plugin addresses, follows the agent's events and DEVICE_DELETED, and sends nothing
// when nothing changed.
#include "daemon/audit_link.h"

#include <glib.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <memory>
#include <optional>
#include <string>

#include "fake_qmp_server.h"
#include "framed_peer.h"
#include "memhp/v1/audit.pb.h"
#include "wire/frame_codec.h"

namespace memhp::daemon {
namespace {

namespace v1 = memhp::v1;
using namespace std::chrono_literals;
using test_support::FakeServer;
using test_support::kGreeting;
using test_support::Peer;
using test_support::Reply;
using test_support::RunUntil;

constexpr uint64_t kBlock = 128ull << 20;
constexpr uint64_t kDimm = 0x200000000;

constexpr const char* kDevices =
    R"([{"type": "dimm", "data": {"memdev": "/objects/mem-d1", "hotplugged": true, "addr": 8589934592,)"
    R"( "hotpluggable": true, "size": 268435456, "slot": 0, "node": 1, "id": "d1"}}])";
constexpr const char* kRamBlocks =
    R"("              Block Name    PSize              Offset               Used              Total\r\n)"
    R"(                   boot0    4 KiB  0x0000000000000000 0x0000000010000000 0x0000000010000000\r\n)"
    R"(                  mem-d1    4 KiB  0x0000000120300000 0x0000000010000000 0x0000000010000000\r\n")";
constexpr const char* kMtree =
    R"("address-space: memory\r\n)"
    R"(  0000000000000000-ffffffffffffffff (prio 0, i/o): system\r\n)"
    R"(    0000000100000000-00000006dfffffff (prio 0, i/o): device-memory\r\n)"
    R"(      0000000200000000-000000020fffffff (prio 0, ram): mem-d1\r\n)"
    R"(\r\nmemory-region: pc.ram\r\n)"
    R"(  0000000000000000-000000001fffffff (prio 0, i/o): pc.ram\r\n)"
    R"(    0000000000000000-000000000fffffff (prio 0, ram): boot0\r\n")";
// After DEVICE_DELETED: the DIMM is gone, its RAMBlock unnamed and unmapped until object-del.
constexpr const char* kRamBlocksDeleted =
    R"("              Block Name    PSize              Offset               Used              Total\r\n)"
    R"(                   boot0    4 KiB  0x0000000000000000 0x0000000010000000 0x0000000010000000\r\n)"
    R"(                            4 KiB  0x0000000120300000 0x0000000010000000 0x0000000010000000\r\n")";
constexpr const char* kMtreeDeleted =
    R"("memory-region: pc.ram\r\n)"
    R"(  0000000000000000-000000001fffffff (prio 0, i/o): pc.ram\r\n)"
    R"(    0000000000000000-000000000fffffff (prio 0, ram): boot0\r\n")";

class AuditLinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // QEMU's QMP.
    int fds[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    qemu_ = std::make_unique<FakeServer>(context_, fds[1]);
    qmp_ = std::make_unique<qmp::QmpClient>(context_);
    bool connected = false;
    qmp_->Adopt(fds[0], [&](Status status) { connected = status.ok(); });
    qemu_->SendLine(kGreeting);
    qemu_->SendLine(Reply(qemu_->ExpectCommand("qmp_capabilities"), "{}"));
    ASSERT_TRUE(RunUntil(context_, [&] { return connected; }));

    // The plugin's socket.
    char* dir = g_dir_make_tmp("memhp-audit-link-XXXXXX", nullptr);
    ASSERT_NE(dir, nullptr);
    dir_ = dir;
    g_free(dir);
    path_ = dir_ + "/audit.sock";
    listen_fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    path_.copy(addr.sun_path, path_.size());
    ASSERT_EQ(bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    ASSERT_EQ(listen(listen_fd_, 1), 0);

    link_ = std::make_unique<AuditLink>(path_, ArmPolicy::kOnAgentHello, context_, qmp_.get());
    link_->Start();
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    ASSERT_GE(fd, 0);
    plugin_ = std::make_unique<Peer<v1::AuditRequest>>(fd);
    ASSERT_TRUE(link_->connected());
  }

  void TearDown() override {
    link_.reset();
    plugin_.reset();
    qmp_.reset();
    qemu_.reset();
    if (listen_fd_ >= 0) close(listen_fd_);
    unlink(path_.c_str());
    rmdir(dir_.c_str());
    g_main_context_unref(context_);
  }

  // Answers one refresh: query-memory-devices, info ramblock, info mtree, in that order.
  void AnswerRefresh(const char* devices, const char* ramblocks, const char* mtree) {
    qemu_->SendLine(Reply(qemu_->ExpectCommand("query-memory-devices"), devices));
    std::string args;
    int64_t id = qemu_->ExpectCommand("human-monitor-command", &args);
    EXPECT_NE(args.find("info ramblock"), std::string::npos) << args;
    qemu_->SendLine(Reply(id, ramblocks));
    id = qemu_->ExpectCommand("human-monitor-command", &args);
    EXPECT_NE(args.find("info mtree"), std::string::npos) << args;
    qemu_->SendLine(Reply(id, mtree));
  }

  // The next request to the plugin, answered as the plugin would.
  std::optional<v1::AuditRequest> PluginNext() {
    std::optional<v1::AuditRequest> request = plugin_->Next(context_);
    if (!request) return request;
    v1::AuditResponse response;
    response.set_id(request->id());
    if (request->has_arm()) response.set_armed(request->arm().armed());
    if (request->has_set_ranges()) response.set_ranges(static_cast<uint32_t>(request->set_ranges().ranges_size()));
    plugin_->SendRaw(wire::EncodeMessage(response));
    return request;
  }

  static v1::Hello AgentHello() {
    v1::Hello hello;
    hello.set_role(v1::PEER_ROLE_AGENT);
    hello.mutable_guest()->set_block_size_bytes(kBlock);
    return hello;
  }

  static v1::AgentEvent Memory(v1::MemoryEventKind kind, uint32_t block) {
    v1::AgentEvent event;
    event.mutable_memory()->set_kind(kind);
    event.mutable_memory()->set_block(block);
    return event;
  }

  GMainContext* context_ = g_main_context_new();
  std::unique_ptr<FakeServer> qemu_;
  std::unique_ptr<qmp::QmpClient> qmp_;
  std::unique_ptr<AuditLink> link_;
  std::unique_ptr<Peer<v1::AuditRequest>> plugin_;
  std::string dir_;
  std::string path_;
  int listen_fd_ = -1;
};

TEST_F(AuditLinkTest, ArmsOnHelloThenDeclaresTheDimmAndFollowsTheGuestAndQemu) {
  link_->OnAgentHello(AgentHello());
  std::optional<v1::AuditRequest> arm = PluginNext();
  ASSERT_TRUE(arm);
  ASSERT_TRUE(arm->has_arm()) << arm->DebugString();
  EXPECT_TRUE(arm->arm().armed());

  AnswerRefresh(kDevices, kRamBlocks, kMtree);
  std::optional<v1::AuditRequest> set = PluginNext();
  ASSERT_TRUE(set);
  ASSERT_TRUE(set->has_set_ranges()) << set->DebugString();
  ASSERT_EQ(set->set_ranges().ranges_size(), 2);
  const v1::AuditRange first = set->set_ranges().ranges(0);
  EXPECT_EQ(first.start(), kDimm);
  EXPECT_EQ(first.size(), kBlock);
  EXPECT_EQ(first.label(), "d1");
  EXPECT_EQ(first.plugin_start(), 0x120300000u + 0x100000000u);
  EXPECT_EQ(first.state(), v1::AUDIT_RANGE_STATE_OFFLINE) << "the guest has not added it yet";
  EXPECT_GT(first.plugged_at_monotonic_ns(), 0u);

  // The agent onlines the first block (GOING_ONLINE already counts: the kernel may touch it).
  link_->OnAgentEvent(Memory(v1::MEMORY_EVENT_KIND_GOING_ONLINE, kDimm / kBlock));
  AnswerRefresh(kDevices, kRamBlocks, kMtree);
  set = PluginNext();
  ASSERT_TRUE(set && set->has_set_ranges());
  EXPECT_EQ(set->set_ranges().ranges(0).state(), v1::AUDIT_RANGE_STATE_ONLINE);
  EXPECT_EQ(set->set_ranges().ranges(1).state(), v1::AUDIT_RANGE_STATE_OFFLINE);
  EXPECT_EQ(set->set_ranges().ranges(0).plugged_at_monotonic_ns(), first.plugged_at_monotonic_ns())
      << "the plug time stays the first sighting";

  // GOING_OFFLINE keeps it online (S4): not even a refresh (QEMU is asked nothing).
  link_->OnAgentEvent(Memory(v1::MEMORY_EVENT_KIND_GOING_OFFLINE, kDimm / kBlock));
  EXPECT_FALSE(qemu_->ReadLine(400ms).has_value());
  EXPECT_EQ(plugin_->pending(), 0u);

  // OFFLINE (S6), then QEMU deletes the DIMM: UNPLUGGED, at the same plugin addresses.
  link_->OnAgentEvent(Memory(v1::MEMORY_EVENT_KIND_OFFLINE, kDimm / kBlock));
  AnswerRefresh(kDevices, kRamBlocks, kMtree);
  set = PluginNext();
  ASSERT_TRUE(set && set->has_set_ranges());
  EXPECT_EQ(set->set_ranges().ranges(0).state(), v1::AUDIT_RANGE_STATE_OFFLINE);

  g_autoptr(JsonNode) data = json_from_string(R"({"device": "d1", "path": "/machine/peripheral/d1"})", nullptr);
  link_->OnQmpEvent("DEVICE_DELETED", *data);
  AnswerRefresh("[]", kRamBlocksDeleted, kMtreeDeleted);
  set = PluginNext();
  ASSERT_TRUE(set && set->has_set_ranges());
  ASSERT_EQ(set->set_ranges().ranges_size(), 2);
  for (const v1::AuditRange& r : set->set_ranges().ranges()) {
    EXPECT_EQ(r.state(), v1::AUDIT_RANGE_STATE_UNPLUGGED);
    EXPECT_EQ(r.label(), "d1");
  }
  EXPECT_EQ(set->set_ranges().ranges(0).plugin_start(), first.plugin_start());
}

TEST_F(AuditLinkTest, SameViewIsNotSentTwice) {
  link_->OnAgentHello(AgentHello());
  ASSERT_TRUE(PluginNext());  // arm
  AnswerRefresh(kDevices, kRamBlocks, kMtree);
  ASSERT_TRUE(PluginNext());  // ranges
  g_autoptr(JsonNode) data = json_from_string(R"({"slot": "0", "source": 1, "status": 0})", nullptr);
  link_->OnQmpEvent("ACPI_DEVICE_OST", *data);
  AnswerRefresh(kDevices, kRamBlocks, kMtree);
  // Let the answers be handled; the plugin must get nothing.
  const gint64 until = g_get_monotonic_time() + 400 * 1000;
  (void)RunUntil(context_, [&] { return g_get_monotonic_time() > until; });
  EXPECT_EQ(plugin_->pending(), 0u);
}

TEST_F(AuditLinkTest, ArmAndDisarmOnRequestAreRememberedAndFailWithoutThePlugin) {
  std::optional<AuditReply> reply;
  link_->SetArmed(false, [&](AuditReply r) { reply = std::move(r); });
  std::optional<v1::AuditRequest> arm = PluginNext();
  ASSERT_TRUE(arm && arm->has_arm());
  EXPECT_FALSE(arm->arm().armed());
  ASSERT_TRUE(RunUntil(context_, [&] { return reply.has_value(); }));
  ASSERT_TRUE(reply->ok());
  EXPECT_FALSE(reply->value().armed());

  // The plugin goes away (QEMU quit: its socket file too): a request fails at once with
  // UNAVAILABLE, naming the socket.
  close(listen_fd_);
  listen_fd_ = -1;
  unlink(path_.c_str());
  plugin_->Close();
  ASSERT_TRUE(RunUntil(context_, [&] { return !link_->connected(); }));
  reply.reset();
  v1::AuditRequest report;
  report.mutable_report();
  link_->Request(report, 1s, [&](AuditReply r) { reply = std::move(r); });
  ASSERT_TRUE(reply.has_value());
  EXPECT_FALSE(reply->ok());
  EXPECT_EQ(reply->error().code, v1::ERROR_CODE_UNAVAILABLE);
  EXPECT_NE(reply->error().message.find(path_), std::string::npos) << reply->error().message;
}

}  // namespace
}  // namespace memhp::daemon
