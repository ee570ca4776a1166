// Tests for qmp/memory_devices: QEMU's memory queries -> memhp::v1 messages.
//
// "captured" fixtures are the "return" values QEMU 7.2.22 gave (Debian 12, q35, TCG, -S):
//   -m 512M,slots=4,maxmem=8G, two NUMA nodes of 256M, and
//   -object memory-backend-ram,id=vmem0,size=2G,reserve=off
//   -device virtio-mem-pci,id=vm0,memdev=vmem0,node=1,requested-size=0,block-size=2M
// then object-add memory-backend-ram dimm0mem 256M + device_add pc-dimm dimm0 node 1.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "qmp/memory_devices.h"
#include "../support/status_text.h"

namespace memhp::qmp {
namespace {

using memhp::v1::MemoryDevice;
using ::testing::HasSubstr;
using ::memhp::test_support::ErrorText;

// captured: at start
constexpr char kVirtioMemOnly[] =
    R"([{"type": "virtio-mem", "data": {"memdev": "/objects/vmem0", "memaddr": 4294967296, "block-size": 2097152, "size": 0, "node": 1, "max-size": 2147483648, "requested-size": 0, "id": "vm0"}}])";
// captured: after the DIMM was added and requested-size set to 8 MiB (no guest: size stays 0)
constexpr char kWithDimm[] =
    R"([{"type": "virtio-mem", "data": {"memdev": "/objects/vmem0", "memaddr": 4294967296, "block-size": 2097152, "size": 0, "node": 1, "max-size": 2147483648, "requested-size": 8388608, "id": "vm0"}}, {"type": "dimm", "data": {"memdev": "/objects/dimm0mem", "hotplugged": true, "addr": 6442450944, "hotpluggable": true, "size": 268435456, "slot": 0, "node": 1, "id": "dimm0"}}])";
// captured: -machine q35,nvdimm=on with an nvdimm, a virtio-pmem-pci and a cold-plugged
// pc-dimm given no id (QEMU then leaves "id" out)
constexpr char kNvdimmPmemAnonymousDimm[] =
    R"([{"type": "nvdimm", "data": {"memdev": "/objects/nv0m", "hotplugged": false, "addr": 4294967296, "hotpluggable": true, "size": 134217728, "slot": 0, "node": 0, "id": "nv0"}}, {"type": "virtio-pmem", "data": {"memdev": "/objects/pm0m", "memaddr": 4429185024, "size": 134217728, "id": "pm0"}}, {"type": "dimm", "data": {"memdev": "/objects/anon", "hotplugged": false, "addr": 4563402752, "hotpluggable": true, "size": 134217728, "slot": 1, "node": 0}}])";
// Shapes from qapi/machine.json (SGX needs host support; the last type is one a later QEMU
// may add).
constexpr char kSgxAndUnknown[] =
    R"([{"type": "sgx-epc", "data": {"memaddr": 4294967296, "size": 33554432, "node": 0, "memdev": "/objects/epc0"}}, {"type": "hv-balloon", "data": {"id": "hvb", "memaddr": 8589934592, "max-size": 1073741824, "memdev": "/objects/hvbm"}}])";

std::vector<MemoryDevice> ParseOk(const char* text) {
  memhp::Result<JsonNodePtr> json = ParseJson(text);
  EXPECT_TRUE(json) << json.error().message;
  if (!json) return {};
  auto devices = ParseMemoryDevices(**json);
  EXPECT_TRUE(devices) << devices.error().message;
  return devices ? *devices : std::vector<MemoryDevice>{};
}

std::string ParseFails(const char* text) {
  memhp::Result<JsonNodePtr> json = ParseJson(text);
  EXPECT_TRUE(json) << json.error().message;
  if (!json) return {};
  auto devices = ParseMemoryDevices(**json);
  EXPECT_FALSE(devices);
  return ErrorText(devices);
}

TEST(QmpMemoryDevices, VirtioMem) {
  const auto devices = ParseOk(kVirtioMemOnly);
  ASSERT_EQ(devices.size(), 1u);
  const MemoryDevice& d = devices[0];
  EXPECT_EQ(d.kind(), memhp::v1::MEMORY_DEVICE_KIND_VIRTIO_MEM);
  EXPECT_EQ(d.qmp_type(), "virtio-mem");
  EXPECT_EQ(d.id(), "vm0");
  EXPECT_EQ(d.address(), uint64_t{4} << 30);
  EXPECT_EQ(d.size(), 0u);
  EXPECT_EQ(d.node(), 1);
  EXPECT_EQ(d.slot(), -1);
  EXPECT_EQ(d.memdev(), "/objects/vmem0");
  EXPECT_EQ(d.requested_size(), 0u);
  EXPECT_EQ(d.max_size(), uint64_t{2} << 30);
  EXPECT_EQ(d.block_size(), uint64_t{2} << 20);
}

TEST(QmpMemoryDevices, HotpluggedDimm) {
  const auto devices = ParseOk(kWithDimm);
  ASSERT_EQ(devices.size(), 2u);
  EXPECT_EQ(devices[0].requested_size(), uint64_t{8} << 20);
  const MemoryDevice& d = devices[1];
  EXPECT_EQ(d.kind(), memhp::v1::MEMORY_DEVICE_KIND_DIMM);
  EXPECT_EQ(d.qmp_type(), "dimm");
  EXPECT_EQ(d.id(), "dimm0");
  EXPECT_EQ(d.address(), uint64_t{6} << 30);
  EXPECT_EQ(d.size(), uint64_t{256} << 20);
  EXPECT_EQ(d.slot(), 0);
  EXPECT_EQ(d.node(), 1);
  EXPECT_EQ(d.memdev(), "/objects/dimm0mem");
  EXPECT_TRUE(d.hotplugged());
  EXPECT_TRUE(d.hotpluggable());
  EXPECT_EQ(d.max_size(), 0u);
  EXPECT_EQ(d.block_size(), 0u);
}

TEST(QmpMemoryDevices, NvdimmVirtioPmemAndADimmWithoutId) {
  const auto devices = ParseOk(kNvdimmPmemAnonymousDimm);
  ASSERT_EQ(devices.size(), 3u);
  EXPECT_EQ(devices[0].kind(), memhp::v1::MEMORY_DEVICE_KIND_NVDIMM);
  EXPECT_EQ(devices[0].slot(), 0);
  EXPECT_EQ(devices[0].address(), uint64_t{4} << 30);
  EXPECT_FALSE(devices[0].hotplugged());

  EXPECT_EQ(devices[1].kind(), memhp::v1::MEMORY_DEVICE_KIND_VIRTIO_PMEM);
  EXPECT_EQ(devices[1].id(), "pm0");
  EXPECT_EQ(devices[1].address(), 4429185024u);
  EXPECT_EQ(devices[1].size(), uint64_t{128} << 20);
  EXPECT_EQ(devices[1].node(), -1);  // virtio-pmem reports no node
  EXPECT_EQ(devices[1].slot(), -1);

  EXPECT_EQ(devices[2].kind(), memhp::v1::MEMORY_DEVICE_KIND_DIMM);
  EXPECT_EQ(devices[2].id(), "");
  EXPECT_EQ(devices[2].slot(), 1);
  EXPECT_EQ(devices[2].memdev(), "/objects/anon");
}

TEST(QmpMemoryDevices, SgxEpcAndUnknownTypes) {
  const auto devices = ParseOk(kSgxAndUnknown);
  ASSERT_EQ(devices.size(), 2u);
  EXPECT_EQ(devices[0].kind(), memhp::v1::MEMORY_DEVICE_KIND_SGX_EPC);
  EXPECT_EQ(devices[0].address(), uint64_t{4} << 30);
  EXPECT_EQ(devices[0].size(), uint64_t{32} << 20);
  EXPECT_EQ(devices[0].node(), 0);
  EXPECT_EQ(devices[0].id(), "");

  EXPECT_EQ(devices[1].kind(), memhp::v1::MEMORY_DEVICE_KIND_OTHER);
  EXPECT_EQ(devices[1].qmp_type(), "hv-balloon");
  EXPECT_EQ(devices[1].id(), "hvb");
  EXPECT_EQ(devices[1].memdev(), "/objects/hvbm");
  EXPECT_EQ(devices[1].address(), 0u);  // unknown layout: not guessed
}

TEST(QmpMemoryDevices, EmptyList) { EXPECT_TRUE(ParseOk("[]").empty()); }

TEST(QmpMemoryDevices, RefusesEntriesWithoutTheirMandatoryMembers) {
  // A wrong shape must not read as a device of size 0 on node -1.
  struct Case {
    const char* text;
    const char* error;  // a part of it
  };
  const Case cases[] = {
      {R"([{"type": "dimm"}])", "entry 0 (dimm) has no object \"data\""},
      {R"([{"type": "dimm", "data": []}])", "has no object \"data\""},
      {R"([{"type": "dimm", "data": {"addr": 0, "size": 1, "slot": 0, "node": 0, "memdev": "m", "hotplugged": true}}])",
       "(dimm): \"data\" needs bool \"hotpluggable\""},
      {R"([{"type": "virtio-mem", "data": {"id": 5, "memaddr": 0, "requested-size": 0, "size": 0, "max-size": 0, "block-size": 0, "node": 0, "memdev": "m"}}])",
       "needs string \"id\""},
      {R"([{"type": "virtio-mem", "data": {"memaddr": 0, "requested-size": 0, "size": "big", "max-size": 0, "block-size": 0, "node": 0, "memdev": "m"}}])",
       "needs integer \"size\""},
      {R"([{"type": "virtio-mem", "data": {"memaddr": 0, "requested-size": 0, "size": 0, "max-size": 0, "block-size": 0, "node": 4294967296, "memdev": "m"}}])",
       "needs integer \"node\""},
      {R"([{"type": "virtio-pmem", "data": {"memaddr": 0, "size": 0}}])", "needs string \"memdev\""},
      {R"([{"type": "sgx-epc", "data": {"memaddr": 0, "size": 0, "memdev": "m"}}])", "needs integer \"node\""},
      {R"([{"type": "hv-balloon", "data": {"size": "1G"}}])", "(hv-balloon): \"data\" needs integer \"size\""},
  };
  for (const Case& c : cases) EXPECT_THAT(ParseFails(c.text), HasSubstr(c.error)) << c.text;
}

TEST(QmpMemoryDevices, RejectsWhatIsNotAList) {
  EXPECT_THAT(ParseFails(R"({"type": "dimm"})"), HasSubstr("not an array"));
  EXPECT_THAT(ParseFails(R"([1])"), HasSubstr("entry 0 is not an object"));
  EXPECT_THAT(ParseFails(R"([{"type": "hv-balloon", "data": {}}, {"data": {}}])"),
              HasSubstr("entry 1 has no string \"type\""));
  EXPECT_THAT(ParseFails(R"([{"type": 3}])"), HasSubstr("type"));
}

TEST(QmpMemorySizeSummary, Parses) {
  // captured, before and after a 256 MiB DIMM was plugged
  for (auto [text, plugged] :
       {std::pair{R"({"base-memory": 536870912, "plugged-memory": 0})", 0ull},
        std::pair{R"({"base-memory": 536870912, "plugged-memory": 268435456})", 268435456ull}}) {
    memhp::Result<JsonNodePtr> json = ParseJson(text);
    ASSERT_TRUE(json);
    auto summary = ParseMemorySizeSummary(**json);
    ASSERT_TRUE(summary) << summary.error().message;
    EXPECT_EQ(summary->base_memory, 536870912u);
    EXPECT_EQ(summary->plugged_memory, plugged);

    memhp::v1::QemuInfo info;
    info.set_run_state("running");
    ApplyTo(*summary, info);
    EXPECT_EQ(info.base_memory(), 536870912u);
    EXPECT_EQ(info.plugged_memory(), plugged);
    EXPECT_EQ(info.run_state(), "running");  // left alone
  }
}

TEST(QmpMemorySizeSummary, PluggedMemoryIsOptional) {
  memhp::Result<JsonNodePtr> json = ParseJson(R"({"base-memory": 1073741824})");
  ASSERT_TRUE(json);
  auto summary = ParseMemorySizeSummary(**json);
  ASSERT_TRUE(summary);
  EXPECT_EQ(summary->plugged_memory, 0u);
}

TEST(QmpMemorySizeSummary, RejectsWrongShapes) {
  for (const char* text : {"[]", "{}", R"({"base-memory": "1G"})"}) {
    memhp::Result<JsonNodePtr> json = ParseJson(text);
    ASSERT_TRUE(json);
    EXPECT_FALSE(ParseMemorySizeSummary(**json)) << text;
  }
}

TEST(QmpStatus, Parses) {
  // captured: -S before cont, and after cont + stop
  struct Case {
    const char* text;
    const char* status;
  };
  for (const Case& c :
       {Case{R"({"status": "prelaunch", "singlestep": false, "running": false})", "prelaunch"},
        Case{R"({"status": "paused", "singlestep": false, "running": false})", "paused"},
        Case{R"({"status": "running", "singlestep": false, "running": true})", "running"}}) {
    memhp::Result<JsonNodePtr> json = ParseJson(c.text);
    ASSERT_TRUE(json);
    auto status = ParseStatus(**json);
    ASSERT_TRUE(status) << status.error().message;
    EXPECT_EQ(status->status, c.status);
    EXPECT_EQ(status->running, std::string_view(c.status) == "running");
    memhp::v1::QemuInfo info;
    ApplyTo(*status, info);
    EXPECT_EQ(info.run_state(), c.status);
  }
}

TEST(QmpStatus, RejectsWrongShapes) {
  for (const char* text : {"[]", R"({"status": "running"})", R"({"status": 1, "running": true})"}) {
    memhp::Result<JsonNodePtr> json = ParseJson(text);
    ASSERT_TRUE(json);
    EXPECT_FALSE(ParseStatus(**json)) << text;
  }
}

TEST(QmpGreetingInfo, FillsTheVersion) {
  Greeting greeting;
  greeting.version = QemuVersion{7, 2, 22, "Debian 1:7.2+dfsg-7+deb12u18+b3"};
  memhp::v1::QemuInfo info;
  ApplyTo(greeting, info);
  EXPECT_EQ(info.version(), "7.2.22");
}

}  // namespace
}  // namespace memhp::qmp
