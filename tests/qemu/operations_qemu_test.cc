// memhpd's operations against a real QEMU 7.2 with no guest OS (-S, TCG) and no
// agent: plug and its admission refusals, device_add failure rolled back, unplug and resize
// refusals, and the journal's reconcile after a restart. Each test runs its own QEMU and its
// own memhpd (the real binary, attached to QEMU's QMP socket as `memhpctl attach` does) and
// talks to memhpd over its control socket with memhpctl's ControlClient.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "daemon/qemu/qemu_facts.h"
#include "memhp/v1/control.pb.h"
#include "memhpctl/control_client.h"
#include "memhpd_process.h"
#include "qemu_process.h"
#include "qmp/memory_devices.h"
#include "qmp/qmp_json.h"

namespace memhp::qemu_test {
namespace {

using namespace std::chrono_literals;
using memhp::v1::ControlRequest;
using memhp::v1::ControlResponse;
using memhp::v1::OperationResult;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr uint64_t kMiB = uint64_t{1} << 20;

std::vector<std::string> ArgsWithSerial() {
  std::vector<std::string> args = BaseQemuArgs();
  // A non-memory device with an id: memhpd's admission knows only memory devices, so a plug
  // that reuses "ser0" reaches device_add and QEMU refuses it (the rollback path).
  args.insert(args.end(), {"-device", "virtio-serial-pci,id=ser0"});
  return args;
}

class OperationsQemuTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    qemu_ = QemuProcess::Start(ArgsWithSerial(), 20000ms, &error);
    ASSERT_NE(qemu_, nullptr) << error;
    memhpd_ = MemhpdProcess::Start(qemu_->dir(), 20000ms, &error);
    ASSERT_NE(memhpd_, nullptr) << error;
    client_ = std::make_unique<cli::ControlClient>(memhpd_->control_socket());
  }

  ControlResponse Call(ControlRequest request, std::chrono::milliseconds timeout = 30000ms) {
    cli::CallResult r = client_->Call(std::move(request), timeout, [this](const memhp::v1::OperationProgress& p) {
      progress_.push_back(p.step());
    });
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message) << "\n" << memhpd_->Log();
    return r.ok() ? r.value() : ControlResponse{};
  }

  ControlResponse Plug(const std::string& id, uint64_t size, int node) {
    ControlRequest request;
    request.mutable_plug()->set_device_id(id);
    request.mutable_plug()->set_size(size);
    request.mutable_plug()->set_node(node);
    return Call(request);
  }

  std::string Qmp(const std::string& command, const std::string& arguments = "") {
    ControlRequest request;
    request.mutable_qmp()->set_command(command);
    request.mutable_qmp()->set_arguments_json(arguments);
    ControlResponse response = Call(request);
    EXPECT_FALSE(response.has_error()) << command << ": " << response.error().message();
    return response.qmp().return_json();
  }

  std::vector<std::string> Objects() {
    auto parsed = qmp::ParseJson(Qmp("qom-list", R"({"path": "/objects"})"));
    EXPECT_TRUE(parsed) << parsed.error().message;
    return parsed ? daemon::qemu::ParseQomChildren(*parsed->get()) : std::vector<std::string>{};
  }

  std::vector<memhp::v1::MemoryDevice> Devices() {
    auto parsed = qmp::ParseJson(Qmp("query-memory-devices"));
    if (!parsed) return {};
    auto devices = qmp::ParseMemoryDevices(*parsed->get());
    return devices ? *devices : std::vector<memhp::v1::MemoryDevice>{};
  }

  std::vector<std::string> DeviceIds() {
    std::vector<std::string> ids;
    for (const auto& d : Devices()) ids.push_back(d.id());
    return ids;
  }

  std::string JournalText() {
    std::ifstream in(memhpd_->journal());
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  std::unique_ptr<QemuProcess> qemu_;
  std::unique_ptr<MemhpdProcess> memhpd_;
  std::unique_ptr<cli::ControlClient> client_;
  std::vector<std::string> progress_;
};

TEST_F(OperationsQemuTest, PlugWithoutAgentIsDoneWithTheGuestSideUnknown) {
  ControlResponse response = Plug("dimm1", 256 * kMiB, 1);
  ASSERT_TRUE(response.has_operation()) << response.DebugString();
  const OperationResult& op = response.operation();
  EXPECT_EQ(op.outcome(), memhp::v1::OPERATION_OUTCOME_DONE) << op.DebugString();
  EXPECT_FALSE(op.guest_side_known());
  EXPECT_THAT(op.detail(), HasSubstr("guest side unknown (no agent)"));
  EXPECT_GT(op.operation_id(), 0u);
  EXPECT_NE(op.address(), 0u);
  std::vector<std::string> steps;
  for (const auto& s : op.steps()) steps.push_back(s.name());
  EXPECT_THAT(steps, Contains("admission"));
  EXPECT_THAT(steps, Contains("object-add"));
  EXPECT_THAT(steps, Contains("device_add"));
  // The admission step says what it had to assume without an agent.
  EXPECT_THAT(op.steps(0).detail(), HasSubstr("guest block size unknown"));
  EXPECT_THAT(progress_, Contains("device_add"));

  const auto devices = Devices();
  auto it = std::find_if(devices.begin(), devices.end(), [](const auto& d) { return d.id() == "dimm1"; });
  ASSERT_NE(it, devices.end());
  EXPECT_EQ(it->size(), 256 * kMiB);
  EXPECT_EQ(it->node(), 1);
  EXPECT_EQ(it->address(), op.address());
  EXPECT_THAT(Objects(), Contains("mem-dimm1"));

  const std::string journal = JournalText();
  const std::string op_id = "\"op\":" + std::to_string(op.operation_id());
  EXPECT_THAT(journal, HasSubstr(op_id + ",\"rec\":\"begin\""));
  EXPECT_THAT(journal, HasSubstr("\"step\":\"device-added\""));
  EXPECT_THAT(journal, HasSubstr(op_id + ",\"rec\":\"end\""));
}

TEST_F(OperationsQemuTest, AnEmptyIdPicksTheFirstFreeDimmN) {
  ControlResponse first = Plug("", 128 * kMiB, 0);
  ControlResponse second = Plug("", 128 * kMiB, 0);
  EXPECT_EQ(first.operation().device_id(), "dimm0");
  EXPECT_EQ(second.operation().device_id(), "dimm1");
  EXPECT_THAT(DeviceIds(), Contains("dimm1"));
  EXPECT_GT(second.operation().operation_id(), first.operation().operation_id());
}

struct Refusal {
  const char* name;
  const char* id;
  uint64_t size;
  int node;
  const char* message;
  memhp::v1::ErrorCode code;
};

TEST_F(OperationsQemuTest, AdmissionRefusesAndCreatesNothing) {
  const Refusal cases[] = {
      {"not a block multiple", "dimm1", 100 * kMiB, 1, "not a multiple of the guest block size",
       memhp::v1::ERROR_CODE_INVALID_ARGUMENT},
      {"zero size", "dimm1", 0, 1, "greater than 0", memhp::v1::ERROR_CODE_INVALID_ARGUMENT},
      {"maxmem", "dimm1", 8192 * kMiB, 1, "maxmem exceeded", memhp::v1::ERROR_CODE_FAILED},
      {"unknown node", "dimm1", 128 * kMiB, 5, "node 5 does not exist", memhp::v1::ERROR_CODE_INVALID_ARGUMENT},
      {"duplicate id", "vm0", 128 * kMiB, 1, "already in use", memhp::v1::ERROR_CODE_INVALID_ARGUMENT},
      {"bad id", "1dimm", 128 * kMiB, 1, "is not valid", memhp::v1::ERROR_CODE_INVALID_ARGUMENT},
  };
  const auto objects_before = Objects();
  const auto devices_before = DeviceIds();
  for (const Refusal& c : cases) {
    SCOPED_TRACE(c.name);
    ControlResponse response = Plug(c.id, c.size, c.node);
    ASSERT_TRUE(response.has_operation()) << response.DebugString();
    EXPECT_EQ(response.operation().outcome(), memhp::v1::OPERATION_OUTCOME_REFUSED);
    EXPECT_THAT(response.operation().detail(), HasSubstr(c.message));
    EXPECT_EQ(response.operation().error().code(), c.code);
    EXPECT_EQ(Objects(), objects_before);
    EXPECT_EQ(DeviceIds(), devices_before);
  }
}

TEST_F(OperationsQemuTest, NoFreeSlotIsRefused) {
  // BaseQemuArgs: slots=4.
  for (int i = 0; i < 4; ++i) {
    ControlResponse r = Plug("", 128 * kMiB, i % 2);
    ASSERT_EQ(r.operation().outcome(), memhp::v1::OPERATION_OUTCOME_DONE) << r.DebugString();
  }
  ControlResponse fifth = Plug("extra", 128 * kMiB, 0);
  EXPECT_EQ(fifth.operation().outcome(), memhp::v1::OPERATION_OUTCOME_REFUSED);
  EXPECT_THAT(fifth.operation().detail(), HasSubstr("no free DIMM slot: 4 of 4"));
  EXPECT_THAT(Objects(), Not(Contains("mem-extra")));
}

TEST_F(OperationsQemuTest, DeviceAddFailureRollsBackTheBackend) {
  ControlResponse response = Plug("ser0", 128 * kMiB, 1);
  ASSERT_TRUE(response.has_operation()) << response.DebugString();
  const OperationResult& op = response.operation();
  EXPECT_EQ(op.outcome(), memhp::v1::OPERATION_OUTCOME_FAILED) << op.DebugString();
  EXPECT_THAT(op.detail(), HasSubstr("device_add failed"));
  EXPECT_THAT(op.detail(), HasSubstr("backend mem-ser0 removed"));
  // QEMU's error class is carried verbatim ("<class>: <desc>").
  EXPECT_EQ(op.error().code(), memhp::v1::ERROR_CODE_QMP);
  EXPECT_THAT(op.error().message(), HasSubstr("GenericError"));
  EXPECT_THAT(Objects(), Not(Contains("mem-ser0")));
  EXPECT_THAT(JournalText(), HasSubstr("\"step\":\"object-deleted\""));
}

TEST_F(OperationsQemuTest, UnplugRefusals) {
  ASSERT_EQ(Plug("dimm1", 128 * kMiB, 1).operation().outcome(), memhp::v1::OPERATION_OUTCOME_DONE);
  struct {
    const char* id;
    const char* message;
  } cases[] = {{"nosuch", "no memory device 'nosuch'"}, {"vm0", "use resize"}, {"dimm1", "no agent"}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.id);
    ControlRequest request;
    request.mutable_unplug()->set_device_id(c.id);
    ControlResponse response = Call(request);
    EXPECT_EQ(response.operation().outcome(), memhp::v1::OPERATION_OUTCOME_REFUSED) << response.DebugString();
    EXPECT_THAT(response.operation().detail(), HasSubstr(c.message));
  }
  EXPECT_THAT(DeviceIds(), Contains("dimm1"));
  EXPECT_THAT(Objects(), Contains("mem-dimm1"));
}

TEST_F(OperationsQemuTest, ForcedUnplugOfAPausedGuestTimesOutWithTheDeviceStillPresent) {
  // -S: no guest runs, so nobody ejects the DIMM and DEVICE_DELETED never comes.
  ASSERT_EQ(Plug("dimm1", 128 * kMiB, 1).operation().outcome(), memhp::v1::OPERATION_OUTCOME_DONE);
  ControlRequest request;
  request.mutable_unplug()->set_device_id("dimm1");
  request.mutable_unplug()->set_force(true);
  request.mutable_unplug()->set_timeout_ms(2000);
  ControlResponse response = Call(request);
  EXPECT_EQ(response.operation().outcome(), memhp::v1::OPERATION_OUTCOME_TIMED_OUT) << response.DebugString();
  EXPECT_THAT(response.operation().detail(), HasSubstr("still present"));
  EXPECT_THAT(DeviceIds(), Contains("dimm1"));
}

TEST_F(OperationsQemuTest, ResizeValidatesAgainstTheDevice) {
  struct {
    const char* id;
    uint64_t size;
    const char* message;
  } cases[] = {{"vm0", 3 * kMiB, "not a multiple of vm0's block-size 2 MiB"},
               {"vm0", 4096 * kMiB, "over vm0's max-size 2 GiB"},
               {"nosuch", 2 * kMiB, "no memory device"}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.message);
    ControlRequest request;
    request.mutable_resize()->set_device_id(c.id);
    request.mutable_resize()->set_requested_size(c.size);
    ControlResponse response = Call(request);
    EXPECT_EQ(response.operation().outcome(), memhp::v1::OPERATION_OUTCOME_REFUSED) << response.DebugString();
    EXPECT_THAT(response.operation().detail(), HasSubstr(c.message));
  }
}

TEST_F(OperationsQemuTest, ResizeOfAPausedGuestSetsRequestedSizeAndTimesOut) {
  // No guest driver runs, so "size" stays 0 while "requested-size" is what was asked.
  ControlRequest request;
  request.mutable_resize()->set_device_id("vm0");
  request.mutable_resize()->set_requested_size(256 * kMiB);
  request.mutable_resize()->set_timeout_ms(2500);
  ControlResponse response = Call(request);
  EXPECT_EQ(response.operation().outcome(), memhp::v1::OPERATION_OUTCOME_TIMED_OUT) << response.DebugString();
  EXPECT_EQ(response.operation().size_reached(), 0u);
  for (const auto& d : Devices()) {
    if (d.id() == "vm0") {
      EXPECT_EQ(d.requested_size(), 256 * kMiB);
    }
  }
}

TEST_F(OperationsQemuTest, ResizeWhoseSizeStopsMovingIsPartialWithTheSizeReached) {
  // A stopped guest cannot answer the device: its size does not move, and after memhpd's
  // settle period (10 s) the answer is PARTIAL with the size reached, not a wait to the end.
  ControlRequest request;
  request.mutable_resize()->set_device_id("vm0");
  request.mutable_resize()->set_requested_size(128 * kMiB);
  request.mutable_resize()->set_timeout_ms(60000);
  ControlResponse response = Call(request, 90000ms);
  EXPECT_EQ(response.operation().outcome(), memhp::v1::OPERATION_OUTCOME_PARTIAL) << response.DebugString();
  EXPECT_EQ(response.operation().size_reached(), 0u);
  EXPECT_THAT(response.operation().detail(), HasSubstr("size stopped at 0 B of 128 MiB"));
}

TEST_F(OperationsQemuTest, PolicyAndZonesNeedTheAgent) {
  ControlRequest policy;
  policy.mutable_policy();
  EXPECT_EQ(Call(policy).error().code(), memhp::v1::ERROR_CODE_UNAVAILABLE);
  ControlRequest zones;
  zones.mutable_zones();
  EXPECT_EQ(Call(zones).error().code(), memhp::v1::ERROR_CODE_UNAVAILABLE);
}

TEST_F(OperationsQemuTest, RestartReconcilesAPlugThatLeftABackendBehind) {
  // What a memhpd killed between object-add and device_add leaves: a backend and a journal op
  // with begin and object-added but no end.
  Qmp("object-add", R"({"qom-type": "memory-backend-ram", "id": "mem-dimm7", "size": 134217728})");
  memhpd_->Stop();
  {
    std::ofstream journal(memhpd_->journal(), std::ios::app);
    journal << R"({"op":40,"rec":"begin","t":1,"kind":"plug","device":"dimm7","memdev":"mem-dimm7","size":134217728,"node":1,"target":"policy"})"
            << "\n"
            << R"({"op":40,"rec":"step","t":2,"step":"object-added","detail":"mem-dimm7"})" << "\n"
            << R"({"op":40,"rec":"step","t":3,"st)";  // torn: killed mid-write
  }
  std::string error;
  memhpd_ = MemhpdProcess::Start(qemu_->dir(), 20000ms, &error);
  ASSERT_NE(memhpd_, nullptr) << error;
  client_ = std::make_unique<cli::ControlClient>(memhpd_->control_socket());
  // The reconcile turn runs before any operation: once a plug is answered, it is done.
  ControlResponse next = Plug("dimm8", 128 * kMiB, 0);
  EXPECT_EQ(next.operation().operation_id(), 41u);  // ids go on from the journal
  EXPECT_THAT(Objects(), Not(Contains("mem-dimm7")));
  const std::string journal = JournalText();
  EXPECT_THAT(journal, HasSubstr(R"({"op":40,"rec":"end")"));
  EXPECT_THAT(journal, HasSubstr("\"recovered\":true"));
  EXPECT_THAT(journal, HasSubstr("backend mem-dimm7 removed"));
  EXPECT_THAT(journal, Not(HasSubstr(R"("t":3,"st)" "\n")));
  EXPECT_THAT(memhpd_->Log(), HasSubstr("reconcile: operation 40"));
}

}  // namespace
}  // namespace memhp::qemu_test
