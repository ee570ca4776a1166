// status_view_test — `memhpctl status` output: the text tables people read and the JSON
// (protobuf mapping + "summary") scripts parse, for a full VM, a VM whose agent is gone, and a
// VM with no memory devices; FormatBytes and FormatZone as tables.
#include "ctl/status_view.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <json-glib/json-glib.h>

#include <cstdint>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "ctl/status_summary.h"

namespace memhp::ctl {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr uint64_t kMiB = 1024 * 1024;
constexpr uint64_t kGiB = 1024 * kMiB;

void AddBlock(v1::Inventory& inventory, uint32_t id, int32_t node, v1::BlockState state,
              v1::Zone zone) {
  v1::MemoryBlock* block = inventory.add_blocks();
  block->set_id(id);
  block->set_phys_index(id);
  block->set_state(state);
  block->set_zone(zone);
  block->set_node(node);
  block->set_start_address(uint64_t{id} * 128 * kMiB);
}

// Two nodes, a DIMM, two virtio-mem devices; the guest has DMA32/Normal on node 0 and
// Normal/Movable plus offline blocks on node 1.
v1::VmStatus FullStatus() {
  v1::VmStatus status;
  status.set_vm_name("default");
  status.set_state_dir("/run/memhp/default");
  status.set_memhpd_pid(1240);

  v1::QemuInfo* qemu = status.mutable_qemu();
  qemu->set_connected(true);
  qemu->set_version("7.2.22");
  qemu->set_run_state("running");
  qemu->set_pid(1234);
  qemu->set_accel("kvm");
  qemu->set_base_memory(512 * kMiB);
  qemu->set_plugged_memory(256 * kMiB + 384 * kMiB);

  v1::MemoryDevice* dimm = status.add_devices();
  dimm->set_kind(v1::MEMORY_DEVICE_KIND_DIMM);
  dimm->set_qmp_type("dimm");
  dimm->set_id("dimm1");
  dimm->set_address(0x100000000);
  dimm->set_size(256 * kMiB);
  dimm->set_node(1);
  dimm->set_slot(0);
  dimm->set_hotplugged(true);
  dimm->set_hotpluggable(true);

  v1::MemoryDevice* vmem0 = status.add_devices();
  vmem0->set_kind(v1::MEMORY_DEVICE_KIND_VIRTIO_MEM);
  vmem0->set_qmp_type("virtio-mem");
  vmem0->set_id("vmem0");
  vmem0->set_address(0x140000000);
  vmem0->set_size(0);
  vmem0->set_node(0);
  vmem0->set_slot(-1);
  vmem0->set_max_size(2 * kGiB);
  vmem0->set_block_size(2 * kMiB);

  v1::MemoryDevice* vmem1 = status.add_devices();
  vmem1->set_kind(v1::MEMORY_DEVICE_KIND_VIRTIO_MEM);
  vmem1->set_qmp_type("virtio-mem");
  vmem1->set_id("vmem1");
  vmem1->set_address(0x1c0000000);
  vmem1->set_size(384 * kMiB);
  vmem1->set_node(1);
  vmem1->set_slot(-1);
  vmem1->set_requested_size(384 * kMiB);
  vmem1->set_max_size(kGiB + kGiB / 2);
  vmem1->set_block_size(2 * kMiB);

  v1::AgentStatus* agent = status.mutable_agent();
  agent->set_connected(true);
  agent->set_last_seen_unix_ns(1700000000000000000);
  v1::Hello* hello = agent->mutable_hello();
  hello->set_role(v1::PEER_ROLE_AGENT);
  hello->set_protocol(v1::AGENT_PROTOCOL_V1);
  hello->set_software_version("0.1.0");
  hello->add_capabilities("inventory");
  hello->set_agent_pid(77);
  v1::GuestInfo* guest = hello->mutable_guest();
  guest->set_kernel_release("6.1.0-56-amd64");
  guest->set_page_size(4096);
  guest->set_block_size_bytes(128 * kMiB);
  guest->add_nodes(0);
  guest->add_nodes(1);
  guest->set_auto_online_blocks("offline");

  v1::Inventory* inventory = agent->mutable_inventory();
  inventory->set_block_size_bytes(128 * kMiB);
  inventory->set_auto_online_blocks("offline");
  AddBlock(*inventory, 0, 0, v1::BLOCK_STATE_ONLINE, v1::ZONE_DMA32);
  AddBlock(*inventory, 1, 0, v1::BLOCK_STATE_ONLINE, v1::ZONE_NORMAL);
  AddBlock(*inventory, 8, 1, v1::BLOCK_STATE_ONLINE, v1::ZONE_NORMAL);
  AddBlock(*inventory, 9, 1, v1::BLOCK_STATE_ONLINE, v1::ZONE_MOVABLE);
  AddBlock(*inventory, 10, 1, v1::BLOCK_STATE_ONLINE, v1::ZONE_MOVABLE);
  AddBlock(*inventory, 11, 1, v1::BLOCK_STATE_OFFLINE, v1::ZONE_UNSPECIFIED);
  AddBlock(*inventory, 12, 1, v1::BLOCK_STATE_GOING_OFFLINE, v1::ZONE_UNSPECIFIED);
  for (uint32_t id : {0u, 1u}) {
    v1::Node* node = inventory->add_nodes();
    node->set_id(id);
    node->set_has_memory(true);
    node->set_has_normal_memory(true);
    node->set_has_cpu(id == 0);
    node->set_online_blocks(id == 0 ? 2 : 3);
    node->set_offline_blocks(id == 0 ? 0 : 2);
  }
  return status;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// The line that starts with `prefix` (after the table indent), or "" when there is none.
std::string LineStartingWith(const std::string& text, const std::string& prefix) {
  for (const std::string& line : Lines(text)) {
    if (line.rfind(prefix, 0) == 0) return line;
  }
  return "";
}

// Splits a table row on runs of spaces (cells here contain single spaces only in ZONES).
std::vector<std::string> Cells(const std::string& line) {
  std::vector<std::string> cells;
  std::string cell;
  size_t spaces = 0;
  for (char c : line) {
    if (c == ' ') {
      ++spaces;
      continue;
    }
    if (spaces >= 2 && !cell.empty()) {
      cells.push_back(cell);
      cell.clear();
    } else if (spaces == 1 && !cell.empty()) {
      cell += ' ';
    }
    spaces = 0;
    cell += c;
  }
  if (!cell.empty()) cells.push_back(cell);
  return cells;
}

struct JsonNodeUnref {
  void operator()(JsonNode* node) const { json_node_unref(node); }
};
using JsonNodePtr = std::unique_ptr<JsonNode, JsonNodeUnref>;

// A parsed JSON document, queried by JSONPath.
class ParsedJson {
 public:
  explicit ParsedJson(const std::string& text) : parser_(json_parser_new()) {
    g_autoptr(GError) error = nullptr;
    ok_ = json_parser_load_from_data(parser_, text.c_str(), -1, &error);
    if (error != nullptr) error_ = error->message;
  }
  ~ParsedJson() { g_object_unref(parser_); }
  ParsedJson(const ParsedJson&) = delete;
  ParsedJson& operator=(const ParsedJson&) = delete;

  bool ok() const { return ok_; }
  const std::string& error() const { return error_; }
  JsonNode* Root() const { return json_parser_get_root(parser_); }

  // The one node at a JSONPath such as "$.summary.nodes[1].zones.Movable"; nullptr when the
  // path matches nothing. The node lives as long as this object.
  JsonNode* At(const char* path) {
    g_autoptr(GError) error = nullptr;
    JsonNodePtr matches(json_path_query(path, Root(), &error));
    if (matches == nullptr) return nullptr;
    JsonArray* array = json_node_get_array(matches.get());
    if (json_array_get_length(array) != 1) return nullptr;
    found_.emplace_back(json_node_copy(json_array_get_element(array, 0)));
    return found_.back().get();
  }

 private:
  JsonParser* parser_;
  bool ok_ = false;
  std::string error_;
  std::vector<JsonNodePtr> found_;
};

// The JSON integer at `path`; fails the test when it is absent or not an integer.
int64_t IntAt(ParsedJson& json, const char* path) {
  JsonNode* node = json.At(path);
  EXPECT_NE(node, nullptr) << path;
  if (node == nullptr) return -999;
  EXPECT_EQ(json_node_get_value_type(node), G_TYPE_INT64) << path << " is not a JSON integer";
  return json_node_get_int(node);
}

std::string StringAt(ParsedJson& json, const char* path) {
  JsonNode* node = json.At(path);
  EXPECT_NE(node, nullptr) << path;
  if (node == nullptr) return "<absent>";
  EXPECT_EQ(json_node_get_value_type(node), G_TYPE_STRING) << path << " is not a JSON string";
  return json_node_get_string(node) != nullptr ? json_node_get_string(node) : "";
}

bool BoolAt(ParsedJson& json, const char* path) {
  JsonNode* node = json.At(path);
  EXPECT_NE(node, nullptr) << path;
  if (node == nullptr) return false;
  EXPECT_EQ(json_node_get_value_type(node), G_TYPE_BOOLEAN) << path << " is not a JSON bool";
  return json_node_get_boolean(node);
}

// ---------------------------------------------------------------- summary

TEST(SummarizeTest, CountsBlocksPerNodeAndZone) {
  const StatusSummary summary = Summarize(FullStatus());
  EXPECT_TRUE(summary.agent_connected);
  EXPECT_TRUE(summary.has_inventory);
  EXPECT_EQ(summary.block_size_bytes, 128 * kMiB);
  EXPECT_EQ(summary.devices, 3u);
  EXPECT_EQ(summary.plugged_bytes, 640 * kMiB);
  ASSERT_EQ(summary.nodes.size(), 2u);
  const NodeSummary& node1 = summary.nodes[1];
  EXPECT_EQ(node1.node, 1);
  EXPECT_EQ(node1.online_blocks, 3u);
  EXPECT_EQ(node1.offline_blocks, 2u);
  EXPECT_EQ(node1.going_offline_blocks, 1u);
  EXPECT_EQ(node1.unknown_state_blocks, 0u);
  EXPECT_THAT(node1.zones, ElementsAre(std::pair{v1::ZONE_NORMAL, 1u},
                                       std::pair{v1::ZONE_MOVABLE, 2u}));
  ASSERT_TRUE(node1.kernel_node.has_value());
  EXPECT_TRUE(node1.kernel_node->has_normal_memory());
}

TEST(SummarizeTest, BlocksWithoutNodeAndNodesWithoutBlocksAreBothListed) {
  v1::VmStatus status;
  v1::Inventory* inventory = status.mutable_agent()->mutable_inventory();
  AddBlock(*inventory, 3, -1, v1::BLOCK_STATE_UNKNOWN, v1::ZONE_UNSPECIFIED);
  inventory->add_nodes()->set_id(2);
  const StatusSummary summary = Summarize(status);
  ASSERT_EQ(summary.nodes.size(), 2u);
  EXPECT_EQ(summary.nodes[0].node, -1);
  EXPECT_EQ(summary.nodes[0].offline_blocks, 1u);
  EXPECT_EQ(summary.nodes[0].unknown_state_blocks, 1u);
  EXPECT_FALSE(summary.nodes[0].kernel_node.has_value());
  EXPECT_EQ(summary.nodes[1].node, 2);
  EXPECT_EQ(summary.nodes[1].online_blocks + summary.nodes[1].offline_blocks, 0u);
}

TEST(SummarizeTest, BlockSizeFallsBackToHello) {
  v1::VmStatus status;
  status.mutable_agent()->mutable_hello()->mutable_guest()->set_block_size_bytes(256 * kMiB);
  EXPECT_EQ(Summarize(status).block_size_bytes, 256 * kMiB);
  EXPECT_FALSE(Summarize(status).has_inventory);
}

// ---------------------------------------------------------------- text

TEST(RenderStatusTextTest, FullStatus) {
  const std::string text = RenderStatusText(FullStatus());
  const std::vector<std::string> lines = Lines(text);
  ASSERT_GE(lines.size(), 3u) << text;
  EXPECT_EQ(lines[0], "VM default  (QEMU 7.2.22, running, kvm, pid 1234; memhpd pid 1240)");
  EXPECT_EQ(lines[1], "memory: base 512 MiB, plugged 640 MiB");
  EXPECT_EQ(lines[2],
            "agent: connected \xE2\x80\x94 kernel 6.1.0-56-amd64, page 4 KiB, block 128 MiB, "
            "auto_online_blocks offline, memhp 0.1.0");
  EXPECT_EQ(text.back(), '\n');

  // Devices: one row per device, in QEMU's order, "-" where a column does not apply.
  EXPECT_THAT(Cells(LineStartingWith(text, "  ID ")),
              ElementsAre("ID", "KIND", "NODE", "SLOT", "ADDRESS", "SIZE", "REQUESTED", "MAX"));
  EXPECT_THAT(Cells(LineStartingWith(text, "  dimm1 ")),
              ElementsAre("dimm1", "dimm", "1", "0", "0x100000000", "256 MiB", "-", "-"));
  EXPECT_THAT(Cells(LineStartingWith(text, "  vmem0 ")),
              ElementsAre("vmem0", "virtio-mem", "0", "-", "0x140000000", "0 B", "0 B", "2 GiB"));
  EXPECT_THAT(Cells(LineStartingWith(text, "  vmem1 ")),
              ElementsAre("vmem1", "virtio-mem", "1", "-", "0x1c0000000", "384 MiB", "384 MiB",
                          "1.5 GiB"));

  // Blocks: per node, zones over online blocks only.
  EXPECT_THAT(text, HasSubstr("\nGuest memory blocks (agent)\n"));
  EXPECT_THAT(text, Not(HasSubstr("STALE")));
  EXPECT_THAT(Cells(LineStartingWith(text, "  NODE ")),
              ElementsAre("NODE", "ONLINE", "OFFLINE", "ZONES (online blocks)", "N_MEMORY",
                          "N_NORMAL"));
  EXPECT_THAT(Cells(LineStartingWith(text, "  0 ")),
              ElementsAre("0", "2", "0", "DMA32:1 Normal:1", "yes", "yes"));
  EXPECT_THAT(Cells(LineStartingWith(text, "  1 ")),
              ElementsAre("1", "3", "2", "Normal:1 Movable:2", "yes", "yes"));
  EXPECT_THAT(text, HasSubstr("  (1 of the offline blocks going offline)\n"));
}

TEST(RenderStatusTextTest, RefusedGuestMessagesAreCountedUnderTheAgentLine) {
  v1::VmStatus status = FullStatus();
  EXPECT_EQ(Lines(RenderStatusText(status))[3], "") << "nothing refused: no line";
  status.mutable_agent()->set_guest_violations(3);
  status.mutable_agent()->set_last_guest_violation("hello: block size 4096 is not a power of two");
  EXPECT_EQ(Lines(RenderStatusText(status))[3],
            "guest: 3 message(s) refused for breaking the rules, last: hello: block size 4096 is not "
            "a power of two");
}

// The libvirt line is a line of its own under the header, not escaped into it.
TEST(RenderStatusTextTest, ALibvirtDomainHasItsOwnLineUnderTheHeader) {
  v1::VmStatus status = FullStatus();
  status.mutable_libvirt()->set_domain("memhp-lv");
  status.mutable_libvirt()->set_uri("qemu:///system");
  status.mutable_libvirt()->set_uuid("a398");
  status.mutable_libvirt()->set_agent_channel(true);
  const std::string text = RenderStatusText(status);
  EXPECT_THAT(text, HasSubstr(")\nlibvirt: domain memhp-lv on qemu:///system (uuid a398)\nmemory: "));
  EXPECT_THAT(text, Not(HasSubstr("\\x0a")));
}

TEST(RenderStatusTextTest, CompetingOnlinersAndATakeOverFollowTheAgentLine) {
  v1::VmStatus status = FullStatus();
  v1::Hello* hello = status.mutable_agent()->mutable_hello();
  hello->set_took_onlining_from("online");
  hello->add_competing_onliners("kernel command line: memhp_default_state=online makes the kernel online");
  hello->add_competing_onliners("99-x.rules:1: writes online\x1b[2J\nto state");
  const std::vector<std::string> lines = Lines(RenderStatusText(status));
  ASSERT_GE(lines.size(), 6u);
  EXPECT_EQ(lines[3], "onlining: taken over by the agent (auto_online_blocks was online)");
  EXPECT_EQ(lines[4], "competing onliner: kernel command line: memhp_default_state=online makes the kernel online");
  EXPECT_EQ(lines[5], "competing onliner: 99-x.rules:1: writes online\\x1b[2J\\x0ato state")
      << "no guest escape reaches the terminal";
  status.mutable_agent()->set_connected(false);
  EXPECT_THAT(RenderStatusText(status), Not(HasSubstr("competing onliner"))) << "only the connected agent's hello";
}

TEST(RenderStatusTextTest, ThePolicyInForceComesFirst) {
  v1::VmStatus status = FullStatus();
  v1::Hello* hello = status.mutable_agent()->mutable_hello();
  hello->set_policy("manual");  // the hello's; memhpd's policy state is what is in force now
  hello->set_took_onlining_from("online");
  hello->add_competing_onliners("auto_online_blocks: online");
  v1::PolicyState* policy = status.mutable_agent()->mutable_policy();
  policy->set_policy("auto-movable");
  policy->set_movable_ratio_percent(301);
  const std::vector<std::string> lines = Lines(RenderStatusText(status));
  ASSERT_GE(lines.size(), 6u);
  EXPECT_EQ(lines[3], "policy: auto-movable, movable ratio 301%");
  EXPECT_EQ(lines[4], "onlining: taken over by the agent (auto_online_blocks was online)");
  EXPECT_EQ(lines[5], "competing onliner: auto_online_blocks: online");
  policy->set_policy("online");
  EXPECT_EQ(Lines(RenderStatusText(status))[3], "policy: online") << "the ratio is auto-movable's only";
  policy->set_policy("online\x1b]0;owned\x07");
  EXPECT_EQ(Lines(RenderStatusText(status))[3], "policy: online\\x1b]0;owned\\x07") << "the guest's word, escaped";
  status.mutable_agent()->clear_policy();
  EXPECT_THAT(RenderStatusText(status), Not(HasSubstr("policy:"))) << "no policy known: no line";
}

TEST(RenderStatusTextTest, ColumnsAreAlignedAndLinesHaveNoTrailingBlanks) {
  const std::string text = RenderStatusText(FullStatus());
  const std::string header = LineStartingWith(text, "  ID ");
  const std::string dimm = LineStartingWith(text, "  dimm1 ");
  const std::string vmem = LineStartingWith(text, "  vmem1 ");
  for (const char* column : {"KIND", "NODE", "SLOT", "ADDRESS", "SIZE", "REQUESTED", "MAX"}) {
    const size_t at = header.find(column);
    ASSERT_NE(at, std::string::npos) << column;
    EXPECT_NE(dimm[at], ' ') << column;
    EXPECT_EQ(dimm[at - 1], ' ') << column;
    EXPECT_NE(vmem[at], ' ') << column;
    EXPECT_EQ(vmem[at - 1], ' ') << column;
  }
  for (const std::string& line : Lines(text)) {
    if (!line.empty()) {
      EXPECT_NE(line.back(), ' ') << "'" << line << "'";
    }
  }
}

TEST(RenderStatusTextTest, AgentNotConnectedShowsTheLastInventoryAsStale) {
  v1::VmStatus status = FullStatus();
  status.mutable_agent()->set_connected(false);
  const std::string text = RenderStatusText(status);
  EXPECT_EQ(Lines(text)[2], "agent: not connected");
  EXPECT_THAT(text, HasSubstr("\nGuest memory blocks (agent) \xE2\x80\x94 STALE: last inventory "
                              "before the agent disconnected\n"));
  EXPECT_THAT(Cells(LineStartingWith(text, "  1 ")),
              ElementsAre("1", "3", "2", "Normal:1 Movable:2", "yes", "yes"));
}

TEST(RenderStatusTextTest, AgentNeverSeenShowsNoBlocks) {
  v1::VmStatus status = FullStatus();
  status.clear_agent();
  const std::string text = RenderStatusText(status);
  EXPECT_EQ(Lines(text)[2], "agent: not connected");
  EXPECT_THAT(text, Not(HasSubstr("Guest memory blocks")));
  EXPECT_THAT(text, Not(HasSubstr("ONLINE")));
}

TEST(RenderStatusTextTest, AgentConnectedWithoutInventorySaysSo) {
  v1::VmStatus status = FullStatus();
  status.mutable_agent()->clear_inventory();
  const std::string text = RenderStatusText(status);
  EXPECT_THAT(text, HasSubstr("\nGuest memory blocks (agent)\n  no inventory yet\n"));
  // The block size still comes from the hello.
  EXPECT_THAT(Lines(text)[2], HasSubstr("block 128 MiB"));
}

TEST(RenderStatusTextTest, NoDevices) {
  v1::VmStatus status = FullStatus();
  status.clear_devices();
  status.mutable_qemu()->set_plugged_memory(0);
  const std::string text = RenderStatusText(status);
  EXPECT_THAT(text, HasSubstr("\nQEMU memory devices\n  none\n"));
  EXPECT_EQ(Lines(text)[1], "memory: base 512 MiB, plugged 0 B");
  EXPECT_THAT(text, Not(HasSubstr("ADDRESS")));
}

TEST(RenderStatusTextTest, QemuNotConnected) {
  v1::VmStatus status;
  status.set_vm_name("lab");
  status.set_memhpd_pid(42);
  const std::string text = RenderStatusText(status);
  EXPECT_EQ(text,
            "VM lab  (QEMU not connected; memhpd pid 42)\n"
            "memory: unknown (QEMU not connected)\n"
            "agent: not connected\n"
            "\n"
            "QEMU memory devices\n"
            "  unknown (QEMU not connected)\n");
}

TEST(RenderStatusTextTest, UnknownDeviceKindShowsQemuType) {
  v1::VmStatus status = FullStatus();
  v1::MemoryDevice* other = status.add_devices();
  other->set_kind(v1::MEMORY_DEVICE_KIND_OTHER);
  other->set_qmp_type("hv-balloon");
  other->set_node(-1);
  other->set_slot(-1);
  EXPECT_THAT(Cells(LineStartingWith(RenderStatusText(status), "  - ")),
              ElementsAre("-", "hv-balloon", "-", "-", "0x0", "0 B", "-", "-"));
}

// ---------------------------------------------------------------- JSON

TEST(RenderStatusJsonTest, ThePolicyAndTheCompetingOnlinersAreInTheHello) {
  v1::VmStatus status = FullStatus();
  v1::Hello* hello = status.mutable_agent()->mutable_hello();
  hello->set_policy("online_movable");
  hello->set_took_onlining_from("online");
  hello->add_competing_onliners("udev: 40-memory.rules:3");
  ParsedJson json(RenderStatusJson(status));
  EXPECT_EQ(StringAt(json, "$.agent.hello.policy"), "online_movable");
  EXPECT_EQ(StringAt(json, "$.agent.hello.took_onlining_from"), "online");
  EXPECT_EQ(StringAt(json, "$.agent.hello.competing_onliners[0]"), "udev: 40-memory.rules:3");
}

TEST(RenderStatusJsonTest, FullStatus) {
  const std::string text = RenderStatusJson(FullStatus());
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n');
  EXPECT_EQ(text.find('\n'), text.size() - 1) << "one object on one line";
  ParsedJson json(text);
  ASSERT_TRUE(json.ok()) << json.error() << "\n" << text;
  ASSERT_TRUE(JSON_NODE_HOLDS_OBJECT(json.Root()));

  // protobuf's mapping: snake_case names, enums by name, 64-bit integers as strings.
  EXPECT_EQ(StringAt(json, "$.vm_name"), "default");
  EXPECT_EQ(StringAt(json, "$.agent.hello.guest.block_size_bytes"), "134217728");
  EXPECT_EQ(StringAt(json, "$.agent.hello.role"), "PEER_ROLE_AGENT");
  EXPECT_EQ(StringAt(json, "$.devices[0].kind"), "MEMORY_DEVICE_KIND_DIMM");
  EXPECT_EQ(StringAt(json, "$.devices[1].kind"), "MEMORY_DEVICE_KIND_VIRTIO_MEM");
  EXPECT_EQ(StringAt(json, "$.agent.inventory.blocks[0].zone"), "ZONE_DMA32");
  EXPECT_EQ(StringAt(json, "$.agent.inventory.blocks[5].state"), "BLOCK_STATE_OFFLINE");
  EXPECT_EQ(StringAt(json, "$.memhpd_pid"), "1240");
  // Fields at their default are present.
  EXPECT_EQ(StringAt(json, "$.devices[1].size"), "0");
  EXPECT_EQ(StringAt(json, "$.devices[1].requested_size"), "0");
  EXPECT_EQ(IntAt(json, "$.devices[1].node"), 0);
  EXPECT_FALSE(BoolAt(json, "$.devices[1].hotplugged"));
  EXPECT_EQ(StringAt(json, "$.agent.inventory.blocks[5].zone"), "ZONE_UNSPECIFIED");

  // The summary: numbers, not strings.
  EXPECT_TRUE(BoolAt(json, "$.summary.agent_connected"));
  EXPECT_EQ(IntAt(json, "$.summary.block_size_bytes"), 134217728);
  EXPECT_EQ(IntAt(json, "$.summary.devices"), 3);
  EXPECT_EQ(IntAt(json, "$.summary.plugged_bytes"), static_cast<int64_t>(640 * kMiB));
  EXPECT_EQ(IntAt(json, "$.summary.nodes[0].node"), 0);
  EXPECT_EQ(IntAt(json, "$.summary.nodes[0].zones.DMA32"), 1);
  EXPECT_EQ(IntAt(json, "$.summary.nodes[0].zones.Normal"), 1);
  EXPECT_EQ(IntAt(json, "$.summary.nodes[0].zones.Movable"), 0);
  EXPECT_EQ(IntAt(json, "$.summary.nodes[1].node"), 1);
  EXPECT_EQ(IntAt(json, "$.summary.nodes[1].online_blocks"), 3);
  EXPECT_EQ(IntAt(json, "$.summary.nodes[1].offline_blocks"), 2);
  EXPECT_EQ(IntAt(json, "$.summary.nodes[1].zones.Normal"), 1);
  EXPECT_EQ(IntAt(json, "$.summary.nodes[1].zones.Movable"), 2);
  EXPECT_EQ(IntAt(json, "$.summary.nodes[1].zones.DMA"), 0);
  EXPECT_EQ(IntAt(json, "$.summary.nodes[1].zones.Device"), 0);
  EXPECT_EQ(json.At("$.summary.nodes[1].zones['-']"), nullptr);
  JsonNode* nodes = json.At("$.summary.nodes");
  ASSERT_NE(nodes, nullptr);
  EXPECT_EQ(json_array_get_length(json_node_get_array(nodes)), 2u);
}

TEST(RenderStatusJsonTest, AgentNotConnected) {
  v1::VmStatus status = FullStatus();
  status.mutable_agent()->set_connected(false);
  ParsedJson json(RenderStatusJson(status));
  ASSERT_TRUE(json.ok()) << json.error();
  EXPECT_FALSE(BoolAt(json, "$.agent.connected"));
  EXPECT_FALSE(BoolAt(json, "$.summary.agent_connected"));
  // The stale inventory is still summarised; agent_connected says it is stale.
  EXPECT_EQ(IntAt(json, "$.summary.nodes[1].zones.Movable"), 2);
}

TEST(RenderStatusJsonTest, EmptyStatus) {
  ParsedJson json(RenderStatusJson(v1::VmStatus()));
  ASSERT_TRUE(json.ok()) << json.error();
  EXPECT_EQ(StringAt(json, "$.vm_name"), "");
  EXPECT_EQ(StringAt(json, "$.memhpd_pid"), "0");
  EXPECT_EQ(json.At("$.agent"), nullptr) << "an unset message stays absent";
  JsonNode* devices = json.At("$.devices");
  ASSERT_NE(devices, nullptr);
  EXPECT_EQ(json_array_get_length(json_node_get_array(devices)), 0u);
  EXPECT_FALSE(BoolAt(json, "$.summary.agent_connected"));
  EXPECT_EQ(IntAt(json, "$.summary.block_size_bytes"), 0);
  EXPECT_EQ(IntAt(json, "$.summary.devices"), 0);
  EXPECT_EQ(IntAt(json, "$.summary.plugged_bytes"), 0);
  JsonNode* nodes = json.At("$.summary.nodes");
  ASSERT_NE(nodes, nullptr);
  EXPECT_EQ(json_array_get_length(json_node_get_array(nodes)), 0u);
}

TEST(RenderStatusJsonTest, OnlineBlockOfUnknownZoneIsCountedUnderDash) {
  v1::VmStatus status;
  AddBlock(*status.mutable_agent()->mutable_inventory(), 0, 0, v1::BLOCK_STATE_ONLINE,
           v1::ZONE_UNSPECIFIED);
  ParsedJson json(RenderStatusJson(status));
  ASSERT_TRUE(json.ok()) << json.error();
  EXPECT_EQ(IntAt(json, "$.summary.nodes[0].zones['-']"), 1);
  EXPECT_EQ(IntAt(json, "$.summary.nodes[0].online_blocks"), 1);
}

// ---------------------------------------------------------------- formatting

TEST(FormatBytesTest, Table) {
  struct Case {
    uint64_t bytes;
    const char* text;
  };
  const Case cases[] = {
      {0, "0 B"},
      {1, "1 B"},
      {1023, "1023 B"},
      {1024, "1 KiB"},
      {1536, "1.5 KiB"},
      {4096, "4 KiB"},
      {1024 * 1024 - 1, "1 MiB"},  // 1023.999 KiB rounds into the next unit
      {128 * kMiB, "128 MiB"},
      {512 * kMiB, "512 MiB"},
      {kGiB + kGiB / 2, "1.5 GiB"},
      {kGiB + kGiB / 4, "1.25 GiB"},
      {kGiB + kGiB / 20, "1.05 GiB"},
      {2 * kGiB, "2 GiB"},
      {1024 * kGiB, "1 TiB"},
      {2048 * 1024 * kGiB, "2048 TiB"},  // TiB is the largest unit
      {UINT64_MAX, "16777216 TiB"},
  };
  for (const Case& c : cases) EXPECT_EQ(FormatBytes(c.bytes), c.text) << c.bytes;
}

TEST(FormatZoneTest, Table) {
  EXPECT_EQ(FormatZone(v1::ZONE_UNSPECIFIED), "-");
  EXPECT_EQ(FormatZone(v1::ZONE_DMA), "DMA");
  EXPECT_EQ(FormatZone(v1::ZONE_DMA32), "DMA32");
  EXPECT_EQ(FormatZone(v1::ZONE_NORMAL), "Normal");
  EXPECT_EQ(FormatZone(v1::ZONE_MOVABLE), "Movable");
  EXPECT_EQ(FormatZone(v1::ZONE_DEVICE), "Device");
  EXPECT_EQ(FormatZone(static_cast<v1::Zone>(99)), "-");
}

}  // namespace
}  // namespace memhp::ctl
