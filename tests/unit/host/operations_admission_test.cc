// memhpd's plug admission (daemon/operations/admission.h): every refusal, and an admit with its
// projections, table-driven over facts as QEMU and the agent would give them.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "daemon/operations/admission.h"
#include "daemon/operations/admission_facts.h"
#include "daemon/qemu/qemu_facts.h"
#include "qmp/qmp_json.h"

namespace memhp::daemon::operations {
namespace {

using qemu::ParseInfoNumaNodeCount;
using qemu::ParseMachineMemory;
using qemu::ParseQomChildren;

using ::testing::Contains;
using ::testing::HasSubstr;

constexpr uint64_t kMiB = uint64_t{1} << 20;
constexpr uint64_t kGiB = uint64_t{1} << 30;

memhp::v1::MemoryDevice Dimm(const std::string& id) {
  memhp::v1::MemoryDevice d;
  d.set_kind(memhp::v1::MEMORY_DEVICE_KIND_DIMM);
  d.set_id(id);
  d.set_size(256 * kMiB);
  return d;
}

memhp::v1::MemoryDevice VirtioMem(const std::string& id) {
  memhp::v1::MemoryDevice d;
  d.set_kind(memhp::v1::MEMORY_DEVICE_KIND_VIRTIO_MEM);
  d.set_id(id);
  return d;
}

// The default VM with an agent: 512 MiB base, 4 slots, maxmem 8 GiB, 2 nodes, 128 MiB blocks.
AdmissionFacts DefaultFacts() {
  AdmissionFacts f;
  f.devices = {VirtioMem("vm0"), VirtioMem("vm1")};
  f.object_ids = {"m0", "m1", "vmem0", "vmem1"};
  f.base_memory = 512 * kMiB;
  f.plugged_memory = 0;
  f.max_memory = 8 * kGiB;
  f.slots = 4;
  f.node_count = 2;
  f.guest_block_size = 128 * kMiB;
  f.mem_available = 300 * kMiB;
  f.zones = {NodeZones{0, 0, 256 * kMiB}, NodeZones{1, 0, 256 * kMiB}};
  f.movable_ratio_percent = 301;
  return f;
}

struct RefusalCase {
  const char* name;
  AdmissionRequest request;
  std::function<void(AdmissionFacts&)> tweak;
  const char* message;
  memhp::v1::ErrorCode code;
};

TEST(Admission, RefusesEveryBrokenLimitNamingIt) {
  const RefusalCase cases[] = {
      {"zero size", {"dimm1", 0, 1}, nullptr, "size must be greater than 0", memhp::v1::ERROR_CODE_INVALID_ARGUMENT},
      {"not a block multiple", {"dimm1", 200 * kMiB, 1}, nullptr,
       "200 MiB is not a multiple of the guest block size 128 MiB", memhp::v1::ERROR_CODE_INVALID_ARGUMENT},
      {"not a multiple of the agent's block size", {"dimm1", 128 * kMiB, 1},
       [](AdmissionFacts& f) { f.guest_block_size = 256 * kMiB; }, "guest block size 256 MiB",
       memhp::v1::ERROR_CODE_INVALID_ARGUMENT},
      {"no free slot", {"dimm9", 128 * kMiB, 1},
       [](AdmissionFacts& f) {
         for (const char* id : {"dimm0", "dimm1", "dimm2", "dimm3"}) f.devices.push_back(Dimm(id));
         f.plugged_memory = 1 * kGiB;
       },
       "no free DIMM slot: 4 of 4 slots used", memhp::v1::ERROR_CODE_FAILED},
      {"no slots at all (a libvirt domain without <maxMemory>)", {"dimm1", 128 * kMiB, 1},
       [](AdmissionFacts& f) { f.slots = 0; }, "the VM has no DIMM slots", memhp::v1::ERROR_CODE_FAILED},
      {"maxmem", {"dimm1", 8 * kGiB, 1}, nullptr, "maxmem exceeded: base 512 MiB + plugged 0 B + 8 GiB > maxmem 8 GiB",
       memhp::v1::ERROR_CODE_FAILED},
      {"maxmem counts what is plugged", {"dimm1", 1 * kGiB, 1},
       [](AdmissionFacts& f) { f.plugged_memory = 7 * kGiB; }, "maxmem exceeded", memhp::v1::ERROR_CODE_FAILED},
      {"unknown node", {"dimm1", 128 * kMiB, 2}, nullptr, "node 2 does not exist (the VM has 2 nodes)",
       memhp::v1::ERROR_CODE_INVALID_ARGUMENT},
      {"negative node", {"dimm1", 128 * kMiB, -1}, nullptr, "node must be >= 0", memhp::v1::ERROR_CODE_INVALID_ARGUMENT},
      {"no NUMA: node 0 only", {"dimm1", 128 * kMiB, 1}, [](AdmissionFacts& f) { f.node_count = 0; },
       "node 1 does not exist (the VM has 1 node)", memhp::v1::ERROR_CODE_INVALID_ARGUMENT},
      {"memmap does not fit", {"dimm1", 4 * kGiB, 1}, [](AdmissionFacts& f) { f.mem_available = 80 * kMiB; },
       "the guest cannot hold the memmap: 64 MiB needed", memhp::v1::ERROR_CODE_FAILED},
      {"movable beyond the ratio", {"dimm1", 1 * kGiB, 1, memhp::v1::ONLINE_TARGET_MOVABLE}, nullptr,
       "movable:kernel ratio on node 1 would be 400%, over the agent's ratio of 301%", memhp::v1::ERROR_CODE_FAILED},
      {"duplicate device id", {"vm0", 128 * kMiB, 1}, nullptr, "device id 'vm0' is already in use",
       memhp::v1::ERROR_CODE_INVALID_ARGUMENT},
      {"leftover backend", {"dimm5", 128 * kMiB, 1}, [](AdmissionFacts& f) { f.object_ids.push_back("mem-dimm5"); },
       "backend 'mem-dimm5' already exists", memhp::v1::ERROR_CODE_INVALID_ARGUMENT},
      {"id with a bad char", {"dimm 1", 128 * kMiB, 1}, nullptr, "device id 'dimm 1' is not valid",
       memhp::v1::ERROR_CODE_INVALID_ARGUMENT},
      {"id starting with a digit", {"1dimm", 128 * kMiB, 1}, nullptr, "is not valid",
       memhp::v1::ERROR_CODE_INVALID_ARGUMENT},
  };
  for (const RefusalCase& c : cases) {
    SCOPED_TRACE(c.name);
    AdmissionFacts facts = DefaultFacts();
    if (c.tweak) c.tweak(facts);
    const AdmissionDecision d = Admit(c.request, facts);
    EXPECT_FALSE(d.admitted);
    EXPECT_THAT(d.refusal, HasSubstr(c.message));
    EXPECT_EQ(d.code, c.code);
  }
}

TEST(Admission, AdmitsWithProjections) {
  const AdmissionDecision d = Admit({"dimm1", 256 * kMiB, 1}, DefaultFacts());
  ASSERT_TRUE(d.admitted) << d.refusal;
  EXPECT_EQ(d.device_id, "dimm1");
  EXPECT_EQ(d.memdev_id, "mem-dimm1");
  EXPECT_EQ(d.block_size, 128 * kMiB);
  EXPECT_EQ(d.memmap_bytes, 4 * kMiB);  // 65536 pages x 64 B
  ASSERT_TRUE(d.projected_movable_percent.has_value());
  EXPECT_EQ(*d.projected_movable_percent, 100u);
  EXPECT_THAT(d.notes, Contains(HasSubstr("node 1 movable:kernel would be 100% if the blocks go MOVABLE (policy ratio 301%)")));
}

TEST(Admission, RatioIsOnlyReportedWhenTheRequestDoesNotAskForMovable) {
  const AdmissionDecision d = Admit({"dimm1", 1 * kGiB, 1, memhp::v1::ONLINE_TARGET_UNSPECIFIED}, DefaultFacts());
  ASSERT_TRUE(d.admitted) << d.refusal;
  EXPECT_EQ(*d.projected_movable_percent, 400u);
}

TEST(Admission, WithoutAnAgentAssumesTheX86BlockSizeAndSaysSo) {
  AdmissionFacts facts = DefaultFacts();
  facts.guest_block_size.reset();
  facts.mem_available.reset();
  facts.zones.clear();
  const AdmissionDecision d = Admit({"", 128 * kMiB, 0}, facts);
  ASSERT_TRUE(d.admitted) << d.refusal;
  EXPECT_EQ(d.block_size, kDefaultGuestBlockSize);
  EXPECT_THAT(d.notes, Contains(HasSubstr("guest block size unknown (no agent): assumed 128 MiB")));
  EXPECT_THAT(d.notes, Contains(HasSubstr("MemAvailable unknown")));
  EXPECT_FALSE(d.projected_movable_percent.has_value());
}

TEST(Admission, PicksTheFirstFreeDimmN) {
  AdmissionFacts facts = DefaultFacts();
  facts.devices.push_back(Dimm("dimm0"));
  facts.devices.push_back(Dimm("dimm2"));
  EXPECT_EQ(PickDeviceId(facts.devices), "dimm1");
  EXPECT_EQ(Admit({"", 128 * kMiB, 0}, facts).device_id, "dimm1");
}

TEST(Admission, UnknownFactsAreNotCheckedButNoted) {
  AdmissionFacts facts;  // QEMU said nothing
  const AdmissionDecision d = Admit({"dimm1", 128 * kMiB, 7}, facts);
  EXPECT_TRUE(d.admitted);
  EXPECT_THAT(d.notes, Contains(HasSubstr("slot count unknown")));
  EXPECT_THAT(d.notes, Contains(HasSubstr("maxmem unknown")));
  EXPECT_THAT(d.notes, Contains(HasSubstr("NUMA nodes unknown")));
}

TEST(Admission, FormatsBytes) {
  EXPECT_EQ(FormatBytes(0), "0 B");
  EXPECT_EQ(FormatBytes(128 * kMiB), "128 MiB");
  EXPECT_EQ(FormatBytes(3 * kGiB / 2), "1.50 GiB");
}

// --- What QEMU 7.2 answers (checked against qemu-system-x86_64 7.2.22) ---

TEST(QemuFacts, ParsesMachineMemory) {
  auto json = qmp::ParseJson(R"({"size": 536870912, "slots": 8, "max-size": 17179869184})");
  ASSERT_TRUE(json);
  auto m = ParseMachineMemory(*json->get());
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->size, 512 * kMiB);
  EXPECT_EQ(m->slots, 8u);
  EXPECT_EQ(m->max_size, 16 * kGiB);
  auto bad = qmp::ParseJson(R"({"size": 1})");
  EXPECT_FALSE(ParseMachineMemory(*bad->get()));
}

TEST(QemuFacts, ParsesInfoNuma) {
  EXPECT_EQ(ParseInfoNumaNodeCount("2 nodes\r\nnode 0 cpus: 0 1\r\nnode 0 size: 256 MB\r\n"), 2u);
  EXPECT_EQ(ParseInfoNumaNodeCount("0 nodes\r\n"), 0u);
  EXPECT_FALSE(ParseInfoNumaNodeCount("no numa here").has_value());
  EXPECT_FALSE(ParseInfoNumaNodeCount("x2 nodes").has_value());
  // A count past 32 bits is not taken for a small one (4294967297 would wrap to 1).
  EXPECT_FALSE(ParseInfoNumaNodeCount("4294967297 nodes\r\n").has_value());
  EXPECT_FALSE(ParseInfoNumaNodeCount("99999999999999999999999 nodes\r\n").has_value());
  EXPECT_EQ(ParseInfoNumaNodeCount("4294967295 nodes\r\n"), 4294967295u);
}

TEST(QemuFacts, ListsQomChildren) {
  auto json = qmp::ParseJson(
      R"([{"name": "type", "type": "string"}, {"name": "m1", "type": "child<memory-backend-ram>"}, {"name": "mem-x", "type": "child<memory-backend-ram>"}])");
  EXPECT_EQ(ParseQomChildren(*json->get()), (std::vector<std::string>{"m1", "mem-x"}));
}

TEST(QemuFacts, SplitsZonesIntoMovableAndKernel) {
  memhp::v1::ZoneReport report;
  report.set_page_size(4096);
  auto* node = report.add_nodes();
  node->set_node(1);
  auto add = [&](memhp::v1::Zone zone, uint64_t pages) {
    auto* z = node->add_zones();
    z->set_zone(zone);
    z->set_present_pages(pages);
  };
  add(memhp::v1::ZONE_DMA32, 1024);
  add(memhp::v1::ZONE_NORMAL, 1024);
  add(memhp::v1::ZONE_MOVABLE, 4096);
  const auto zones = NodeZonesFrom(report);
  ASSERT_EQ(zones.size(), 1u);
  EXPECT_EQ(zones[0].node, 1u);
  EXPECT_EQ(zones[0].kernel_bytes, 8 * kMiB);
  EXPECT_EQ(zones[0].movable_bytes, 16 * kMiB);
}

}  // namespace
}  // namespace memhp::daemon::operations
