// memhpd's plug and unplug operations end to end through the QMP adapter of the MemoryDevices
// port (daemon/qemu/qmp_memory_devices.h) and the runner (operation_runner.h), over a scripted
// fake QEMU: the test plays QEMU's end of a QMP socketpair (support/fake_qmp_server.h), answers
// each command the operation sends, and checks the QMP commands the adapter spells, their order,
// the rollback, the QMP events that end an unplug, the queue and the final OperationResult. The
// machines' every path is in operations_*_machine_test.cc; this is the wiring. No agent is
// connected here (the vm suite has the agent); the AgentChannel points at a socket nobody
// listens on.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/socket.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "daemon/agent_channel.h"
#include "daemon/operations/journal.h"
#include "daemon/operations/operation_queue.h"
#include "daemon/channel_guest_agent.h"
#include "daemon/operations/operation_runner.h"
#include "daemon/operations/plug_machine.h"
#include "daemon/operations/unplug_machine.h"
#include "daemon/qemu/qmp_memory_devices.h"
#include "qmp/qmp_client.h"
#include "../support/fake_qmp_server.h"
#include "../support/framed_peer.h"
#include "../support/status_text.h"

namespace memhp::daemon::operations {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using test_support::ErrorText;
using test_support::FakeServer;
using test_support::kGreeting;
using test_support::Reply;
using namespace std::chrono_literals;

// query-memory-devices as QEMU 7.2 answers it with one DIMM (one line: QMP is line-based).
std::string DimmDevices(const std::string& id) {
  return R"([{"type": "dimm", "data": {"memdev": "/objects/mem-)" + id +
         R"(", "hotplugged": true, "addr": 4294967296, "hotpluggable": true, "size": 268435456, "slot": 0, "node": 1, "id": ")" +
         id + R"("}}])";
}
const std::string kDimmDevices = DimmDevices("dimm1");

class OperationsOverQmpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = "/tmp/memhp-ops-sm.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    int fds[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    server_ = std::make_unique<FakeServer>(context_, fds[1]);
    qmp_ = std::make_unique<qmp::QmpClient>(context_);
    qmp_->SetListener(qmp::QmpListener{
        [this](std::string_view name, const JsonNode& data, const qmp::Timestamp&) {
          auto* op = dynamic_cast<OperationRunner*>(queue_->current());
          if (auto event = qemu::ToDeviceEvent(name, data); op && event) op->OnDeviceEvent(*event);
        },
        [](std::string_view) {}});
    bool connected = false;
    qmp_->Adopt(fds[0], [&](Status status) { connected = status.ok(); });
    server_->SendLine(kGreeting);
    server_->SendLine(Reply(server_->ExpectCommand("qmp_capabilities"), "{}"));
    ASSERT_TRUE(test_support::RunUntil(context_, [&] { return connected; }));
    agent_ = std::make_unique<AgentChannel>(dir_ + "/nobody.sock", context_, AgentChannelListener{});
    journal_ = std::make_unique<Journal>(dir_ + "/journal.jsonl");
    ASSERT_EQ(ErrorText(journal_->Open()), "");
    devices_ = std::make_unique<qemu::QmpMemoryDevices>(*qmp_, std::chrono::milliseconds(10000));
    guest_ = std::make_unique<ChannelGuestAgent>(*agent_, std::chrono::milliseconds(5000));
    env_ = std::make_unique<RunnerEnv>(RunnerEnv{
        *devices_, *guest_, *journal_, context_, targets_,
        [this](std::string_view name, const google::protobuf::Message& data) {
          published_.emplace_back(std::string(name) + " " + data.GetTypeName());
        },
        [this](uint64_t id) { left_unfinished_.push_back(id); }});
    queue_ = std::make_unique<OperationQueue>(context_);
  }
  void TearDown() override {
    queue_.reset();
    env_.reset();
    guest_.reset();
    devices_.reset();
    qmp_.reset();
    server_.reset();
    agent_.reset();
    journal_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    g_main_context_unref(context_);
  }

  ControlReply Collect() {
    return [this](memhp::v1::ControlResponse r) { responses_.push_back(std::move(r)); };
  }
  // Answers the five questions of admission (qemu_facts.h), QEMU 7.2's shapes.
  void AnswerFacts(const std::string& devices = "[]") {
    server_->SendLine(Reply(server_->ExpectCommand("query-memory-devices"), devices));
    server_->SendLine(Reply(server_->ExpectCommand("query-memory-size-summary"),
                            R"({"base-memory": 536870912, "plugged-memory": 0})"));
    server_->SendLine(Reply(server_->ExpectCommand("qom-get"),
                            R"({"size": 536870912, "slots": 4, "max-size": 8589934592})"));
    server_->SendLine(Reply(server_->ExpectCommand("qom-list"), R"([{"name": "m0", "type": "child<memory-backend-ram>"}])"));
    server_->SendLine(Reply(server_->ExpectCommand("human-monitor-command"), R"("2 nodes\r\nnode 0 cpus: 0\r\n")"));
  }
  const memhp::v1::OperationResult* Final() {
    EXPECT_TRUE(test_support::RunUntil(context_, [&] {
      return !responses_.empty() && !responses_.back().has_progress();
    }));
    if (responses_.empty() || !responses_.back().has_operation()) return nullptr;
    return &responses_.back().operation();
  }
  std::vector<std::string> StepNames(const memhp::v1::OperationResult& r) {
    std::vector<std::string> names;
    for (const auto& s : r.steps()) names.push_back(s.name());
    return names;
  }
  std::shared_ptr<OperationRunner> Plug(const memhp::v1::PlugRequest& request, ControlReply reply) {
    return std::make_shared<OperationRunner>(*env_, memhp::v1::OPERATION_KIND_PLUG, request.device_id(),
                                             MakeMachine(BeginPlug(request, OperationTimeouts{}), NextPlug),
                                             std::move(reply));
  }
  std::shared_ptr<OperationRunner> Unplug(const memhp::v1::UnplugRequest& request, ControlReply reply) {
    return std::make_shared<OperationRunner>(*env_, memhp::v1::OPERATION_KIND_UNPLUG, request.device_id(),
                                             MakeMachine(BeginUnplug(request, OperationTimeouts{}), NextUnplug),
                                             std::move(reply));
  }
  std::shared_ptr<OperationRunner> ForcedUnplug() {
    memhp::v1::UnplugRequest request;
    request.set_device_id("dimm1");
    request.set_force(true);
    auto op = Unplug(request, Collect());
    EXPECT_TRUE(queue_->Submit(op));
    server_->SendLine(Reply(server_->ExpectCommand("query-memory-devices"), kDimmDevices));
    std::string args;
    server_->SendLine(Reply(server_->ExpectCommand("device_del", &args), "{}"));
    EXPECT_THAT(args, HasSubstr(R"("id":"dimm1")"));
    return op;
  }

  GMainContext* context_ = g_main_context_new();
  std::string dir_;
  std::unique_ptr<FakeServer> server_;
  std::unique_ptr<qmp::QmpClient> qmp_;
  std::unique_ptr<AgentChannel> agent_;
  std::unique_ptr<Journal> journal_;
  std::map<std::string, memhp::v1::OnlineTarget> targets_;
  std::unique_ptr<qemu::QmpMemoryDevices> devices_;
  std::unique_ptr<ChannelGuestAgent> guest_;
  std::unique_ptr<RunnerEnv> env_;
  std::unique_ptr<OperationQueue> queue_;
  std::vector<memhp::v1::ControlResponse> responses_;
  std::vector<std::string> published_;  // what RunnerEnv::publish saw: "name Type"
  std::vector<uint64_t> left_unfinished_;  // what RunnerEnv::left_unfinished saw
};

TEST_F(OperationsOverQmpTest, PlugWhoseDeviceAddFailsDeletesTheBackend) {
  memhp::v1::PlugRequest request;
  request.set_device_id("dimm1");
  request.set_size(256 << 20);
  request.set_node(1);
  ASSERT_TRUE(queue_->Submit(Plug(request, Collect())));
  AnswerFacts();
  std::string args;
  server_->SendLine(Reply(server_->ExpectCommand("object-add", &args), "{}"));
  EXPECT_THAT(args, HasSubstr(R"("qom-type":"memory-backend-ram")"));
  EXPECT_THAT(args, HasSubstr(R"("id":"mem-dimm1")"));
  const int64_t add = server_->ExpectCommand("device_add", &args);
  EXPECT_THAT(args, HasSubstr(R"("memdev":"mem-dimm1")"));
  server_->SendLine(R"({"error": {"class": "GenericError", "desc": "slot 0 is busy"}, "id": )" + std::to_string(add) + "}");
  server_->SendLine(Reply(server_->ExpectCommand("object-del", &args), "{}"));
  EXPECT_THAT(args, HasSubstr(R"("id":"mem-dimm1")"));
  const auto* result = Final();
  ASSERT_NE(result, nullptr);
  EXPECT_EQ(result->outcome(), memhp::v1::OPERATION_OUTCOME_FAILED);
  EXPECT_THAT(result->detail(), HasSubstr("device_add failed: GenericError: slot 0 is busy"));
  EXPECT_THAT(result->detail(), HasSubstr("backend mem-dimm1 removed"));
  EXPECT_EQ(result->error().code(), memhp::v1::ERROR_CODE_QMP);
  EXPECT_EQ(StepNames(*result), (std::vector<std::string>{"admission", "object-add", "device_add", "object-del"}));
  EXPECT_FALSE(result->steps(2).ok());
  // The journal knows the whole story, end included.
  ASSERT_EQ(journal_->ops().size(), 1u);
  EXPECT_TRUE(journal_->ops()[0].HasStep("object-added"));
  EXPECT_TRUE(journal_->ops()[0].HasStep("object-deleted"));
  EXPECT_FALSE(journal_->ops()[0].HasStep("device-added"));
  EXPECT_TRUE(journal_->ops()[0].ended);
}

TEST_F(OperationsOverQmpTest, PlugFailsNamingQemusWrongShapedAnswersInsteadOfReadingThemAsZero) {
  memhp::v1::PlugRequest request;
  request.set_device_id("dimm1");
  request.set_size(256 << 20);
  request.set_node(1);
  ASSERT_TRUE(queue_->Submit(Plug(request, Collect())));
  server_->SendLine(Reply(server_->ExpectCommand("query-memory-devices"), R"([{"type": "dimm", "data": {"id": "d"}}])"));
  server_->SendLine(Reply(server_->ExpectCommand("query-memory-size-summary"), R"({"base-memory": "512M"})"));
  server_->SendLine(Reply(server_->ExpectCommand("qom-get"), R"({"size": 536870912, "slots": 4, "max-size": 8589934592})"));
  server_->SendLine(Reply(server_->ExpectCommand("qom-list"), "[]"));
  server_->SendLine(Reply(server_->ExpectCommand("human-monitor-command"), R"("")"));
  const auto* result = Final();
  ASSERT_NE(result, nullptr);
  EXPECT_EQ(result->outcome(), memhp::v1::OPERATION_OUTCOME_FAILED);
  EXPECT_THAT(result->detail(), HasSubstr("cannot learn QEMU's memory devices; query-memory-devices: entry 0 "
                                          "(dimm): \"data\" needs integer \"addr\""));
  EXPECT_THAT(result->detail(), HasSubstr("query-memory-size-summary: no integer \"base-memory\""));
  EXPECT_EQ(result->error().code(), memhp::v1::ERROR_CODE_QMP);
}

// QEMU dies (its QMP socket closes) while device_add is in flight: the DIMM, the backend and
// everything else went with it. The plug ends FAILED saying so, at the step it was in, without
// an object-del to a QEMU that is not there and without claiming a leftover backend.
TEST_F(OperationsOverQmpTest, PlugWhoseQemuGoesAwayDuringDeviceAddEndsSayingSo) {
  memhp::v1::PlugRequest request;
  request.set_device_id("dimm1");
  request.set_size(256 << 20);
  request.set_node(1);
  ASSERT_TRUE(queue_->Submit(Plug(request, Collect())));
  AnswerFacts();
  server_->SendLine(Reply(server_->ExpectCommand("object-add"), "{}"));
  (void)server_->ExpectCommand("device_add");
  server_->Close();
  const auto* result = Final();
  ASSERT_NE(result, nullptr);
  EXPECT_EQ(result->outcome(), memhp::v1::OPERATION_OUTCOME_FAILED);
  EXPECT_THAT(result->detail(), HasSubstr("QEMU went away during the device_add step"));
  EXPECT_THAT(result->detail(), Not(HasSubstr("left over")));
  EXPECT_EQ(StepNames(*result), (std::vector<std::string>{"admission", "object-add", "device_add"}));
  ASSERT_EQ(journal_->ops().size(), 1u);
  EXPECT_TRUE(journal_->ops()[0].ended);
  EXPECT_THAT(journal_->ops()[0].detail, HasSubstr("QEMU went away"));
}

TEST_F(OperationsOverQmpTest, PlugWithoutAnAgentIsDoneAtTheAddress) {
  memhp::v1::PlugRequest request;
  request.set_size(256 << 20);
  request.set_node(1);
  ASSERT_TRUE(queue_->Submit(Plug(request, Collect())));
  AnswerFacts();
  server_->SendLine(Reply(server_->ExpectCommand("object-add"), "{}"));
  server_->SendLine(Reply(server_->ExpectCommand("device_add"), "{}"));
  server_->SendLine(Reply(server_->ExpectCommand("query-memory-devices"), DimmDevices("dimm0")));
  const auto* result = Final();
  ASSERT_NE(result, nullptr);
  EXPECT_EQ(result->outcome(), memhp::v1::OPERATION_OUTCOME_DONE);
  EXPECT_EQ(result->device_id(), "dimm0");  // picked: the first free dimmN
  EXPECT_EQ(result->address(), 4294967296u);
  EXPECT_FALSE(result->guest_side_known());
  EXPECT_EQ(result->detail(), "guest side unknown (no agent)");
  // The watch stream hears the start and every closed step, in order (watch_hub.h).
  ASSERT_FALSE(published_.empty());
  EXPECT_EQ(published_.front(), "begin memhp.v1.OperationResult");
  const auto steps = std::count(published_.begin(), published_.end(), "step memhp.v1.OperationStep");
  EXPECT_EQ(steps, result->steps_size());
}

TEST_F(OperationsOverQmpTest, ForcedUnplugEndsOnDeviceDeletedThenDeletesTheBackend) {
  ForcedUnplug();
  // Another device's deletion is not ours.
  server_->SendLine(R"({"event": "DEVICE_DELETED", "data": {"device": "other", "path": "/machine/peripheral/other"}, "timestamp": {"seconds": 1, "microseconds": 0}})");
  // Linux answers an eject with _OST 0x84 (in progress) first, then 0 (done): neither fails it.
  server_->SendLine(R"({"event": "ACPI_DEVICE_OST", "data": {"info": {"device": "dimm1", "source": 3, "status": 132, "slot": "0", "slot-type": "DIMM"}}, "timestamp": {"seconds": 1, "microseconds": 0}})");
  server_->SendLine(R"({"event": "ACPI_DEVICE_OST", "data": {"info": {"device": "dimm1", "source": 3, "status": 0, "slot": "0", "slot-type": "DIMM"}}, "timestamp": {"seconds": 1, "microseconds": 0}})");
  server_->SendLine(R"({"event": "DEVICE_DELETED", "data": {"device": "dimm1", "path": "/machine/peripheral/dimm1"}, "timestamp": {"seconds": 1, "microseconds": 0}})");
  std::string args;
  server_->SendLine(Reply(server_->ExpectCommand("object-del", &args), "{}"));
  EXPECT_THAT(args, HasSubstr(R"("id":"mem-dimm1")"));
  const auto* result = Final();
  ASSERT_NE(result, nullptr);
  EXPECT_EQ(result->outcome(), memhp::v1::OPERATION_OUTCOME_DONE) << result->detail();
  EXPECT_THAT(result->detail(), HasSubstr("forced without an agent"));
  EXPECT_EQ(StepNames(*result), (std::vector<std::string>{"find", "device_del", "wait-deleted", "object-del"}));
  EXPECT_TRUE(journal_->ops()[0].HasStep("deleted"));
}

// A guest whose blocks are already offline ejects at once: QEMU may send the eject's
// ACPI_DEVICE_OST and DEVICE_DELETED before memhpd has read device_del's reply (the soak saw
// exactly this order). Those events belong to this unplug: it ends DONE and deletes the
// backend, instead of waiting for an event that already came until it times out.
TEST_F(OperationsOverQmpTest, DeviceDeletedBeforeDeviceDelsReplyStillEndsTheUnplug) {
  memhp::v1::UnplugRequest request;
  request.set_device_id("dimm1");
  request.set_force(true);
  ASSERT_TRUE(queue_->Submit(Unplug(request, Collect())));
  server_->SendLine(Reply(server_->ExpectCommand("query-memory-devices"), kDimmDevices));
  const int64_t del = server_->ExpectCommand("device_del");
  server_->SendLine(R"({"event": "ACPI_DEVICE_OST", "data": {"info": {"device": "dimm1", "source": 3, "status": 132, "slot": "0", "slot-type": "DIMM"}}, "timestamp": {"seconds": 1, "microseconds": 0}})");
  server_->SendLine(R"({"event": "DEVICE_DELETED", "data": {"device": "dimm1", "path": "/machine/peripheral/dimm1"}, "timestamp": {"seconds": 1, "microseconds": 0}})");
  server_->SendLine(Reply(del, "{}"));
  std::string args;
  server_->SendLine(Reply(server_->ExpectCommand("object-del", &args), "{}"));
  EXPECT_THAT(args, HasSubstr(R"("id":"mem-dimm1")"));
  const auto* result = Final();
  ASSERT_NE(result, nullptr);
  EXPECT_EQ(result->outcome(), memhp::v1::OPERATION_OUTCOME_DONE) << result->detail();
  EXPECT_EQ(StepNames(*result), (std::vector<std::string>{"find", "device_del", "wait-deleted", "object-del"}));
  EXPECT_TRUE(journal_->ops()[0].HasStep("deleted"));
}

// The same for the guest's refusal: an _OST failure that arrives before the reply fails it.
TEST_F(OperationsOverQmpTest, OstFailureBeforeDeviceDelsReplyStillFailsTheUnplug) {
  memhp::v1::UnplugRequest request;
  request.set_device_id("dimm1");
  request.set_force(true);
  ASSERT_TRUE(queue_->Submit(Unplug(request, Collect())));
  server_->SendLine(Reply(server_->ExpectCommand("query-memory-devices"), kDimmDevices));
  const int64_t del = server_->ExpectCommand("device_del");
  server_->SendLine(R"({"event": "ACPI_DEVICE_OST", "data": {"info": {"device": "dimm1", "source": 3, "status": 130, "slot": "0", "slot-type": "DIMM"}}, "timestamp": {"seconds": 1, "microseconds": 0}})");
  server_->SendLine(Reply(del, "{}"));
  const auto* result = Final();
  ASSERT_NE(result, nullptr);
  EXPECT_EQ(result->outcome(), memhp::v1::OPERATION_OUTCOME_FAILED);
  EXPECT_THAT(result->detail(), HasSubstr("_OST failure for the eject: status 0x82"));
}

TEST_F(OperationsOverQmpTest, UnplugEndsFailedOnAnOstFailureStatus) {
  ForcedUnplug();
  server_->SendLine(R"({"event": "ACPI_DEVICE_OST", "data": {"info": {"device": "dimm1", "source": 3, "status": 129, "slot": "0", "slot-type": "DIMM"}}, "timestamp": {"seconds": 1, "microseconds": 0}})");
  const auto* result = Final();
  ASSERT_NE(result, nullptr);
  EXPECT_EQ(result->outcome(), memhp::v1::OPERATION_OUTCOME_FAILED);
  EXPECT_THAT(result->detail(), HasSubstr("status 0x81"));
  EXPECT_THAT(result->detail(), HasSubstr("still present"));
}

TEST_F(OperationsOverQmpTest, UnplugEndsFailedOnAGuestUnplugError) {
  ForcedUnplug();
  server_->SendLine(R"({"event": "DEVICE_UNPLUG_GUEST_ERROR", "data": {"device": "dimm1", "path": "/machine/peripheral/dimm1"}, "timestamp": {"seconds": 1, "microseconds": 0}})");
  const auto* result = Final();
  ASSERT_NE(result, nullptr);
  EXPECT_EQ(result->outcome(), memhp::v1::OPERATION_OUTCOME_FAILED);
  EXPECT_THAT(result->detail(), HasSubstr("DEVICE_UNPLUG_GUEST_ERROR"));
}

TEST_F(OperationsOverQmpTest, UnplugWithoutAgentOrForceIsRefused) {
  memhp::v1::UnplugRequest request;
  request.set_device_id("dimm1");
  ASSERT_TRUE(queue_->Submit(Unplug(request, Collect())));
  server_->SendLine(Reply(server_->ExpectCommand("query-memory-devices"), kDimmDevices));
  const auto* result = Final();
  ASSERT_NE(result, nullptr);
  EXPECT_EQ(result->outcome(), memhp::v1::OPERATION_OUTCOME_REFUSED);
  EXPECT_EQ(result->error().code(), memhp::v1::ERROR_CODE_UNAVAILABLE);
  EXPECT_THAT(result->detail(), HasSubstr("use force"));
}

TEST_F(OperationsOverQmpTest, OperationsQueueOneAtATimeAndTellTheWaitingHowManyAreAhead) {
  memhp::v1::UnplugRequest request;
  request.set_device_id("dimm1");
  std::vector<memhp::v1::ControlResponse> second;
  ASSERT_TRUE(queue_->Submit(Unplug(request, Collect())));
  ASSERT_TRUE(queue_->Submit(Unplug(request, [&](memhp::v1::ControlResponse r) { second.push_back(std::move(r)); })));
  ASSERT_FALSE(second.empty());
  EXPECT_EQ(second[0].progress().queued_behind(), 1u);
  // Only the first one asks QEMU; the second starts once it ends.
  server_->SendLine(Reply(server_->ExpectCommand("query-memory-devices"), kDimmDevices));
  ASSERT_NE(Final(), nullptr);
  server_->SendLine(Reply(server_->ExpectCommand("query-memory-devices"), "[]"));
  ASSERT_TRUE(test_support::RunUntil(context_, [&] { return second.back().has_operation(); }));
  EXPECT_THAT(second.back().operation().detail(), HasSubstr("no memory device 'dimm1'"));
  EXPECT_GT(second.back().operation().operation_id(), responses_.back().operation().operation_id());
}

// A queued item that records its turn and its waiting notices, and ends when told.
struct FakeTurn : Queueable {
  std::function<void()> done;
  std::vector<uint32_t> waiting;
  bool started = false;
  void StartTurn(std::function<void()> d) override {
    started = true;
    done = std::move(d);
  }
  void WaitingBehind(uint32_t ahead) override { waiting.push_back(ahead); }
};

TEST_F(OperationsOverQmpTest, QueueStartsAtOnceWhenIdleAndIsBounded) {
  OperationQueue queue(context_);
  auto a = std::make_shared<FakeTurn>();
  auto b = std::make_shared<FakeTurn>();
  ASSERT_TRUE(queue.Submit(a));
  EXPECT_TRUE(a->started);
  a->done();
  // Right after an end (before the loop runs) a new one starts at once, unqueued.
  ASSERT_TRUE(queue.Submit(b));
  EXPECT_TRUE(b->started);
  EXPECT_TRUE(b->waiting.empty());
  std::vector<std::shared_ptr<FakeTurn>> waiting;
  for (size_t i = 0; i < kMaxQueuedOperations; ++i) {
    waiting.push_back(std::make_shared<FakeTurn>());
    ASSERT_TRUE(queue.Submit(waiting.back()));
  }
  EXPECT_FALSE(queue.Submit(std::make_shared<FakeTurn>())) << "the queue is bounded";
  EXPECT_EQ(waiting[2]->waiting, (std::vector<uint32_t>{3}));
  b->done();
  ASSERT_TRUE(test_support::RunUntil(context_, [&] { return waiting[0]->started; }));
  EXPECT_FALSE(waiting[1]->started);
  EXPECT_EQ(waiting[2]->waiting, (std::vector<uint32_t>{3, 2}));  // one fewer ahead
}

}  // namespace
}  // namespace memhp::daemon::operations
