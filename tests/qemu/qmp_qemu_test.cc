// The QMP client against a real QEMU 7.2 (no guest OS: -S, TCG). Each test starts its own
// QEMU in its own temp folder (QemuProcess), so tests may run in parallel.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "qemu_process.h"
#include "qmp/memory_devices.h"
#include "qmp/qmp_client.h"
#include "qmp/qmp_sync.h"

namespace memhp::qemu_test {
namespace {

using namespace std::chrono_literals;
using namespace memhp::qmp;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr auto kCommandTimeout = 10000ms;

class QmpQemuTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    qemu_ = QemuProcess::Start(BaseQemuArgs(), 20000ms, &error);
    ASSERT_NE(qemu_, nullptr) << error;
    QmpClientOptions options;
    options.connect_timeout = 10000ms;
    client_ = std::make_unique<QmpClient>(context_, options);
    client_->SetListener(
        QmpListener{[this](std::string_view name, const JsonNode&, const Timestamp&) {
                      events_.emplace_back(name);
                    },
                    [this](std::string_view reason) { disconnects_.emplace_back(reason); }});
    const Status connected = ConnectSync(*client_, qemu_->qmp_socket_path());
    ASSERT_TRUE(connected.ok()) << connected.error().message << "\n" << qemu_->Log();
  }

  void TearDown() override {
    client_.reset();
    qemu_.reset();  // kills and reaps QEMU if a test left it running
    g_main_context_unref(context_);
  }

  CommandResult Run(std::string_view command, JsonNodePtr arguments = nullptr) {
    return ExecuteSync(*client_, command, std::move(arguments), kCommandTimeout);
  }

  std::vector<memhp::v1::MemoryDevice> MemoryDevices() {
    CommandResult result = Run("query-memory-devices");
    EXPECT_TRUE(result.ok()) << result.error().message;
    if (!result.ok()) return {};
    auto devices = ParseMemoryDevices(*result.value());
    EXPECT_TRUE(devices) << devices.error().message;
    return devices ? *devices : std::vector<memhp::v1::MemoryDevice>{};
  }

  CommandResult AddDimm(const std::string& id, const std::string& memdev, int node) {
    return Run("device_add", JsonObjectBuilder()
                                 .SetString("driver", "pc-dimm")
                                 .SetString("id", id)
                                 .SetString("memdev", memdev)
                                 .SetInt("node", node)
                                 .Build());
  }

  CommandResult AddBackend(const std::string& id, uint64_t size) {
    return Run("object-add", JsonObjectBuilder()
                                 .SetString("qom-type", "memory-backend-ram")
                                 .SetString("id", id)
                                 .SetUint("size", size)
                                 .Build());
  }

  GMainContext* context_ = g_main_context_new();
  std::unique_ptr<QemuProcess> qemu_;
  std::unique_ptr<QmpClient> client_;
  std::vector<std::string> events_;
  std::vector<std::string> disconnects_;
};

TEST_F(QmpQemuTest, GreetingAndCapabilities) {
  ASSERT_TRUE(client_->connected());
  const Greeting* greeting = client_->greeting();
  ASSERT_NE(greeting, nullptr);
  EXPECT_GE(greeting->version.major, 7);
  EXPECT_THAT(greeting->capabilities, Contains("oob"));
  memhp::v1::QemuInfo info;
  ApplyTo(*greeting, info);
  EXPECT_EQ(info.version(), FormatVersion(greeting->version));

  // Capabilities negotiation is over: a second qmp_capabilities is refused.
  CommandResult again = Run("qmp_capabilities");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, memhp::v1::ERROR_CODE_QMP);
  EXPECT_THAT(again.error().message, StartsWith("CommandNotFound: "));

  CommandResult status = Run("query-status");
  ASSERT_TRUE(status.ok()) << status.error().message;
  auto run = ParseStatus(*status.value());
  ASSERT_TRUE(run) << run.error().message;
  EXPECT_EQ(run->status, "prelaunch");  // -S
  EXPECT_FALSE(run->running);
}

TEST_F(QmpQemuTest, QueryMemoryDevicesShowsTheVirtioMemDevice) {
  const auto devices = MemoryDevices();
  ASSERT_EQ(devices.size(), 1u);
  const memhp::v1::MemoryDevice& vm0 = devices[0];
  EXPECT_EQ(vm0.kind(), memhp::v1::MEMORY_DEVICE_KIND_VIRTIO_MEM);
  EXPECT_EQ(vm0.id(), "vm0");
  EXPECT_EQ(vm0.node(), 1);
  EXPECT_EQ(vm0.max_size(), uint64_t{2} << 30);
  EXPECT_EQ(vm0.block_size(), uint64_t{2} << 20);
  EXPECT_EQ(vm0.requested_size(), 0u);
  EXPECT_EQ(vm0.size(), 0u);
  EXPECT_EQ(vm0.memdev(), "/objects/vmem0");
  EXPECT_NE(vm0.address(), 0u);

  CommandResult summary = Run("query-memory-size-summary");
  ASSERT_TRUE(summary.ok());
  auto parsed = ParseMemorySizeSummary(*summary.value());
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->base_memory, uint64_t{512} << 20);
  EXPECT_EQ(parsed->plugged_memory, 0u);
}

TEST_F(QmpQemuTest, RequestedSizeIsSetWithQomSet) {
  CommandResult set = Run("qom-set", JsonObjectBuilder()
                                  .SetString("path", "vm0")
                                  .SetString("property", "requested-size")
                                  .SetUint("value", uint64_t{64} << 20)
                                  .Build());
  ASSERT_TRUE(set.ok()) << set.error().message;
  const auto devices = MemoryDevices();
  ASSERT_EQ(devices.size(), 1u);
  EXPECT_EQ(devices[0].requested_size(), uint64_t{64} << 20);
  EXPECT_EQ(devices[0].size(), 0u);  // no guest driver to plug anything
}

TEST_F(QmpQemuTest, PlugADimmIntoASlot) {
  CommandResult backend = AddBackend("dimm0mem", uint64_t{256} << 20);
  ASSERT_TRUE(backend.ok()) << backend.error().message;
  CommandResult device = AddDimm("dimm0", "dimm0mem", 1);
  ASSERT_TRUE(device.ok()) << device.error().message;

  const auto devices = MemoryDevices();
  ASSERT_EQ(devices.size(), 2u);
  const memhp::v1::MemoryDevice* dimm = nullptr;
  for (const auto& d : devices) {
    if (d.kind() == memhp::v1::MEMORY_DEVICE_KIND_DIMM) dimm = &d;
  }
  ASSERT_NE(dimm, nullptr);
  EXPECT_EQ(dimm->id(), "dimm0");
  EXPECT_EQ(dimm->slot(), 0);
  EXPECT_EQ(dimm->node(), 1);
  EXPECT_EQ(dimm->size(), uint64_t{256} << 20);
  EXPECT_EQ(dimm->memdev(), "/objects/dimm0mem");
  EXPECT_TRUE(dimm->hotplugged());
  EXPECT_TRUE(dimm->hotpluggable());
  EXPECT_NE(dimm->address(), 0u);

  CommandResult summary = Run("query-memory-size-summary");
  ASSERT_TRUE(summary.ok());
  auto parsed = ParseMemorySizeSummary(*summary.value());
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->plugged_memory, uint64_t{256} << 20);
}

TEST_F(QmpQemuTest, ErrorsCarryClassAndDesc) {
  // A memdev that does not exist: QEMU 7.2 says DeviceNotFound, not GenericError.
  CommandResult unknown = AddDimm("dimm1", "nosuch", 0);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, memhp::v1::ERROR_CODE_QMP);
  // The message is "<class>: <desc>", both verbatim from QEMU.
  EXPECT_EQ(unknown.error().message, "DeviceNotFound: Device 'nosuch' not found");

  // The same backend id twice is a GenericError.
  ASSERT_TRUE(AddBackend("m2", uint64_t{128} << 20).ok());
  CommandResult duplicate = AddBackend("m2", uint64_t{128} << 20);
  ASSERT_FALSE(duplicate.ok());
  EXPECT_THAT(duplicate.error().message, StartsWith("GenericError: "));
  EXPECT_THAT(duplicate.error().message, HasSubstr("m2"));

  CommandResult command = Run("no-such-command");
  ASSERT_FALSE(command.ok());
  EXPECT_THAT(command.error().message, StartsWith("CommandNotFound: "));

  // Errors leave the connection usable.
  EXPECT_TRUE(client_->connected());
  EXPECT_TRUE(Run("query-status").ok());
}

TEST_F(QmpQemuTest, FailedDeviceAddIsRolledBackWithObjectDel) {
  // The plug flow's rollback (docs/architecture.md, "Plug a DIMM"): object-add, device_add
  // fails, object-del.
  ASSERT_TRUE(AddBackend("odd", 1000000).ok());  // not a multiple of the 2 MiB DIMM alignment
  CommandResult device = AddDimm("dimm0", "odd", 0);
  ASSERT_FALSE(device.ok());
  EXPECT_THAT(device.error().message, StartsWith("GenericError: "));
  EXPECT_THAT(device.error().message, HasSubstr("multiple of"));
  CommandResult del = Run("object-del", JsonObjectBuilder().SetString("id", "odd").Build());
  EXPECT_TRUE(del.ok()) << del.error().message;
  EXPECT_EQ(MemoryDevices().size(), 1u);

  // A backend a DIMM uses cannot be deleted.
  ASSERT_TRUE(AddBackend("used", uint64_t{128} << 20).ok());
  ASSERT_TRUE(AddDimm("dimm1", "used", 0).ok());
  CommandResult busy = Run("object-del", JsonObjectBuilder().SetString("id", "used").Build());
  ASSERT_FALSE(busy.ok());
  EXPECT_THAT(busy.error().message, HasSubstr("in use"));
}

TEST_F(QmpQemuTest, DimmUnplugWaitsForTheGuest) {
  // device_del of a pc-dimm only asks the guest (ACPI); with no guest it is accepted, nothing
  // is removed and no DEVICE_DELETED comes. memhpd must wait for the event, with a timeout.
  ASSERT_TRUE(AddBackend("dimm0mem", uint64_t{128} << 20).ok());
  ASSERT_TRUE(AddDimm("dimm0", "dimm0mem", 0).ok());
  CommandResult del = Run("device_del", JsonObjectBuilder().SetString("id", "dimm0").Build());
  EXPECT_TRUE(del.ok()) << del.error().message;
  EXPECT_FALSE(RunUntil(
      context_, [&] { return !events_.empty(); }, 500ms));
  EXPECT_EQ(MemoryDevices().size(), 2u);
}

TEST_F(QmpQemuTest, QuitEndsQemuCleanly) {
  CommandResult quit = Run("quit");
  // QEMU 7.2 sends the SHUTDOWN event, then the reply, then closes the socket. The reply can
  // lose the race with the close on other versions, so both outcomes are accepted.
  if (!quit.ok()) {
    EXPECT_EQ(quit.error().code, memhp::v1::ERROR_CODE_UNAVAILABLE);
  }
  ASSERT_TRUE(RunUntil(
      context_, [&] { return !disconnects_.empty(); }, 10000ms));
  EXPECT_FALSE(client_->connected());
  EXPECT_THAT(events_, Contains("SHUTDOWN"));

  const std::optional<QemuExit> exit = qemu_->WaitForExit(10000ms);
  ASSERT_TRUE(exit.has_value()) << "QEMU still running after quit";
  EXPECT_TRUE(exit->exited);
  EXPECT_EQ(exit->code, 0) << qemu_->Log();
}

}  // namespace
}  // namespace memhp::qemu_test
