// memhpd — GuestClaims (see guest_claims.h).
#include "daemon/guest_claims.h"

#include <string>
#include <string_view>

namespace memhp::daemon {
namespace {

// x86_64's largest physical address (MAX_PHYSMEM_BITS with 5-level paging): no block lies above.
constexpr uint64_t kMaxPhysAddress = uint64_t{1} << 52;

bool PowerOfTwo(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

Status Refuse(std::string why) { return Error::Invalid(std::move(why)); }

Status CheckString(std::string_view what, const std::string& value) {
  if (value.size() > kMaxGuestString) {
    return Refuse(std::string(what) + " is " + std::to_string(value.size()) + " bytes (at most " +
                  std::to_string(kMaxGuestString) + ")");
  }
  return OkStatus();
}

template <typename List>
Status CheckStrings(std::string_view what, const List& list) {
  if (static_cast<size_t>(list.size()) > kMaxGuestListItems) {
    return Refuse(std::string(what) + " has " + std::to_string(list.size()) + " entries (at most " +
                  std::to_string(kMaxGuestListItems) + ")");
  }
  for (const std::string& s : list) {
    if (Status st = CheckString(what, s); !st.ok()) return st;
  }
  return OkStatus();
}

uint32_t NodeCount(const VmLimits& limits) {
  return limits.numa_nodes == 0 ? 1 : std::min(limits.numa_nodes, kMaxGuestNodes);
}

// A node id the guest names; -1 ("none") is allowed where `allow_none`.
Status CheckNode(std::string_view what, int64_t node, const VmLimits& limits, bool allow_none) {
  if (node == -1 && allow_none) return OkStatus();
  if (node < 0 || node >= NodeCount(limits)) {
    return Refuse(std::string(what) + " names node " + std::to_string(node) + "; QEMU has " +
                  std::to_string(NodeCount(limits)) + " node(s)");
  }
  return OkStatus();
}

Status CheckBlockSize(uint64_t block_size) {
  if (!PowerOfTwo(block_size) || block_size < kMinGuestBlockSize || block_size > kMaxGuestBlockSize) {
    return Refuse("block size " + std::to_string(block_size) +
                  " is not a power of two between 16 MiB and 16 GiB");
  }
  return OkStatus();
}

Status CheckBlockId(std::string_view what, uint64_t block, uint64_t block_size) {
  const uint64_t bs = block_size ? block_size : kMinGuestBlockSize;
  if (block >= kMaxPhysAddress / bs) {
    return Refuse(std::string(what) + " names block " + std::to_string(block) +
                  ", beyond any physical address");
  }
  return OkStatus();
}

Status CheckZone(std::string_view what, int zone) {
  if (!memhp::v1::Zone_IsValid(zone)) {
    return Refuse(std::string(what) + " names an unknown zone (" + std::to_string(zone) + ")");
  }
  return OkStatus();
}

Status CheckMemoryEvent(const memhp::v1::MemoryEvent& e, uint64_t block_size, const VmLimits& limits) {
  if (!memhp::v1::MemoryEventKind_IsValid(e.kind()) || e.kind() == memhp::v1::MEMORY_EVENT_KIND_UNSPECIFIED) {
    return Refuse("a memory event of unknown kind (" + std::to_string(e.kind()) + ")");
  }
  if (!memhp::v1::EventOrigin_IsValid(e.origin())) {
    return Refuse("a memory event of unknown origin (" + std::to_string(e.origin()) + ")");
  }
  if (Status s = CheckBlockId("a memory event", e.block(), block_size); !s.ok()) return s;
  if (Status s = CheckZone("a memory event", e.zone()); !s.ok()) return s;
  if (Status s = CheckNode("a memory event", e.node(), limits, /*allow_none=*/true); !s.ok()) return s;
  for (const auto& [what, value] : {std::pair<std::string_view, const std::string*>{"vetoed_by", &e.vetoed_by()},
                                    {"detail", &e.detail()},
                                    {"device_id", &e.device_id()}}) {
    if (Status s = CheckString(what, *value); !s.ok()) return s;
  }
  return OkStatus();
}

Status CheckPressure(const memhp::v1::MemoryPressure& p, const VmLimits& limits) {
  // psi_show() prints percentages of wall time: 100.00 at most.
  for (const memhp::v1::PsiLine* line : {&p.some(), &p.full()}) {
    for (uint32_t avg : {line->avg10_centipercent(), line->avg60_centipercent(), line->avg300_centipercent()}) {
      if (avg > 10000) return Refuse("a pressure average over 100% (" + std::to_string(avg) + " hundredths)");
    }
  }
  if (p.mem_available_bytes() > p.mem_total_bytes()) return Refuse("pressure: more memory available than the guest has");
  if (limits.max_memory_bytes != 0 && p.mem_total_bytes() > limits.max_memory_bytes) {
    return Refuse("pressure: MemTotal " + std::to_string(p.mem_total_bytes()) + " over the VM's maximum memory");
  }
  if (!memhp::v1::PressureCause_IsValid(p.cause())) {
    return Refuse("pressure of unknown cause (" + std::to_string(p.cause()) + ")");
  }
  if (p.threshold_us() > p.window_us()) return Refuse("a pressure threshold longer than its window");
  return OkStatus();
}

Status CheckZoneReport(const memhp::v1::ZoneReport& report, const VmLimits& limits) {
  if (report.has_pressure()) {
    if (Status s = CheckPressure(report.pressure(), limits); !s.ok()) return s;
  }
  if (static_cast<uint32_t>(report.nodes_size()) > NodeCount(limits)) {
    return Refuse("a zone report of " + std::to_string(report.nodes_size()) + " nodes; QEMU has " +
                  std::to_string(NodeCount(limits)));
  }
  if (report.page_size() != 0 && (!PowerOfTwo(report.page_size()) ||
                                  report.page_size() < kMinGuestPageSize ||
                                  report.page_size() > kMaxGuestPageSize)) {
    return Refuse("a zone report with page size " + std::to_string(report.page_size()));
  }
  for (const auto& node : report.nodes()) {
    if (Status s = CheckNode("a zone report", node.node(), limits, /*allow_none=*/false); !s.ok()) return s;
    // mm/page_alloc.c prints every zone of the kernel's zone list: at most MAX_NR_ZONES (< 8).
    if (node.zones_size() > 8) return Refuse("a zone report with more than 8 zones on one node");
    for (const auto& zone : node.zones()) {
      if (Status s = CheckZone("a zone report", zone.zone()); !s.ok()) return s;
    }
  }
  return OkStatus();
}

Status CheckBlockOp(const memhp::v1::BlockOpResult& result, uint64_t block_size, const VmLimits& limits) {
  if (result.blocks_size() > kMaxBlockResults) {
    return Refuse("a block operation answered " + std::to_string(result.blocks_size()) + " results");
  }
  for (const auto& b : result.blocks()) {
    if (!memhp::v1::BlockOutcome_IsValid(b.outcome())) {
      return Refuse("a block result of unknown outcome (" + std::to_string(b.outcome()) + ")");
    }
    if (Status s = CheckBlockId("a block result", b.block(), block_size); !s.ok()) return s;
    if (Status s = CheckZone("a block result", b.zone()); !s.ok()) return s;
    if (Status s = CheckNode("a block result", b.node(), limits, /*allow_none=*/true); !s.ok()) return s;
    for (const std::string* v : {&b.vetoed_by(), &b.detail(), &b.device_id()}) {
      if (Status s = CheckString("a block result", *v); !s.ok()) return s;
    }
  }
  return OkStatus();
}

// A dry run's estimate: bounded like a block operation, its sums consistent with its blocks
// (memhpd prints and acts on the sums, so a guest must not be able to claim more than it listed).
Status CheckEstimate(const memhp::v1::UnplugEstimate& e, uint64_t block_size, const VmLimits& limits) {
  if (e.blocks_size() > kMaxBlockResults) {
    return Refuse("an estimate answered " + std::to_string(e.blocks_size()) + " blocks");
  }
  if (block_size != 0 && e.block_size_bytes() != block_size) {
    return Refuse("an estimate of blocks of " + std::to_string(e.block_size_bytes()) + " bytes; the hello said " +
                  std::to_string(block_size));
  }
  if (!memhp::v1::EstimatePath_IsValid(e.path())) return Refuse("an estimate of unknown path");
  uint64_t listed = 0;
  for (const auto& b : e.blocks()) {
    if (!memhp::v1::EstimateVerdict_IsValid(b.verdict())) {
      return Refuse("a block estimate of unknown verdict (" + std::to_string(b.verdict()) + ")");
    }
    if (Status s = CheckBlockId("a block estimate", b.block(), block_size); !s.ok()) return s;
    if (Status s = CheckZone("a block estimate", b.zone()); !s.ok()) return s;
    if (Status s = CheckNode("a block estimate", b.node(), limits, /*allow_none=*/true); !s.ok()) return s;
    for (const std::string* v : {&b.reason(), &b.device_id()}) {
      if (Status s = CheckString("a block estimate", *v); !s.ok()) return s;
    }
    if (b.verdict() != memhp::v1::ESTIMATE_VERDICT_NOT_FOUND) listed += e.block_size_bytes();
  }
  if (e.could_go_bytes() > listed || e.blocked_bytes() > listed - e.could_go_bytes()) {
    return Refuse("an estimate whose sums exceed the blocks it lists");
  }
  if (e.hooks_size() > static_cast<int>(kMaxGuestListItems)) return Refuse("an estimate naming too many hooks");
  return CheckStrings("an estimate's hooks", e.hooks());
}

}  // namespace

Status CheckHello(const memhp::v1::Hello& hello, const VmLimits& limits) {
  const auto& guest = hello.guest();
  if (Status s = CheckBlockSize(guest.block_size_bytes()); !s.ok()) return Refuse("hello: " + s.error().message);
  if (!PowerOfTwo(guest.page_size()) || guest.page_size() < kMinGuestPageSize ||
      guest.page_size() > kMaxGuestPageSize) {
    return Refuse("hello: page size " + std::to_string(guest.page_size()) +
                  " is not a power of two between 4 KiB and 64 KiB");
  }
  if (static_cast<uint32_t>(guest.nodes_size()) > NodeCount(limits)) {
    return Refuse("hello: " + std::to_string(guest.nodes_size()) + " nodes; QEMU has " +
                  std::to_string(NodeCount(limits)));
  }
  for (uint32_t node : guest.nodes()) {
    if (Status s = CheckNode("hello", node, limits, /*allow_none=*/false); !s.ok()) return s;
  }
  for (const auto& [what, value] :
       {std::pair<std::string_view, const std::string*>{"hello: software_version", &hello.software_version()},
        {"hello: policy", &hello.policy()},
        {"hello: took_onlining_from", &hello.took_onlining_from()},
        {"hello: kernel_release", &guest.kernel_release()},
        {"hello: auto_online_blocks", &guest.auto_online_blocks()}}) {
    if (Status s = CheckString(what, *value); !s.ok()) return s;
  }
  if (Status s = CheckStrings("hello: capabilities", hello.capabilities()); !s.ok()) return s;
  if (Status s = CheckStrings("hello: masked_udev_rules", hello.masked_udev_rules()); !s.ok()) return s;
  return CheckStrings("hello: competing_onliners", hello.competing_onliners());
}

Status CheckInventory(const memhp::v1::Inventory& inventory, uint64_t block_size,
                      const VmLimits& limits) {
  if (block_size == 0) {
    if (Status s = CheckBlockSize(inventory.block_size_bytes()); !s.ok()) return Refuse("inventory: " + s.error().message);
    block_size = inventory.block_size_bytes();
  } else if (inventory.block_size_bytes() != block_size) {
    return Refuse("inventory: block size " + std::to_string(inventory.block_size_bytes()) +
                  " differs from the hello's " + std::to_string(block_size));
  }
  uint64_t max_blocks = kMaxGuestBlocks;
  if (limits.max_memory_bytes != 0) {
    // Every block holds guest RAM; a few more for blocks cut by holes in the physical map (the
    // PCI hole below 4 GiB splits boot memory into two runs).
    max_blocks = std::min<uint64_t>(max_blocks, limits.max_memory_bytes / block_size + 4);
  }
  if (static_cast<uint64_t>(inventory.blocks_size()) > max_blocks) {
    return Refuse("inventory: " + std::to_string(inventory.blocks_size()) + " blocks of " +
                  std::to_string(block_size >> 20) + " MiB; the VM's memory holds at most " +
                  std::to_string(max_blocks));
  }
  if (static_cast<uint32_t>(inventory.nodes_size()) > NodeCount(limits)) {
    return Refuse("inventory: " + std::to_string(inventory.nodes_size()) + " nodes; QEMU has " +
                  std::to_string(NodeCount(limits)));
  }
  for (const auto& b : inventory.blocks()) {
    if (Status s = CheckBlockId("inventory", b.id(), block_size); !s.ok()) return s;
    if (!memhp::v1::BlockState_IsValid(b.state())) return Refuse("inventory: a block of unknown state");
    if (Status s = CheckZone("inventory", b.zone()); !s.ok()) return s;
    if (Status s = CheckNode("inventory", b.node(), limits, /*allow_none=*/true); !s.ok()) return s;
    if (b.valid_zones_size() > 8) return Refuse("inventory: a block with more than 8 valid zones");
    for (int z : b.valid_zones()) {
      if (Status s = CheckZone("inventory", z); !s.ok()) return s;
    }
  }
  for (const auto& n : inventory.nodes()) {
    if (Status s = CheckNode("inventory", n.id(), limits, /*allow_none=*/false); !s.ok()) return s;
  }
  return CheckString("inventory: auto_online_blocks", inventory.auto_online_blocks());
}

Status CheckEvent(const memhp::v1::AgentEvent& event, uint64_t block_size, const VmLimits& limits) {
  switch (event.kind_case()) {
    case memhp::v1::AgentEvent::kInventoryChanged:
      return CheckInventory(event.inventory_changed(), block_size, limits);
    case memhp::v1::AgentEvent::kMemory:
      return CheckMemoryEvent(event.memory(), block_size, limits);
    case memhp::v1::AgentEvent::kGap:
      if (event.gap().count() == 0) return Refuse("an event gap of no events");
      return OkStatus();
    case memhp::v1::AgentEvent::kZoneReport:
      return CheckZoneReport(event.zone_report(), limits);
    case memhp::v1::AgentEvent::kPressure:
      return CheckPressure(event.pressure(), limits);
    case memhp::v1::AgentEvent::kIntentTaken:
      return CheckString("intent_taken: device_id", event.intent_taken().device_id());
    case memhp::v1::AgentEvent::KIND_NOT_SET:
      break;
  }
  return Refuse("an event of no known kind");
}

Status CheckResponse(const memhp::v1::AgentResponse& response, uint64_t block_size,
                     const VmLimits& limits) {
  if (response.has_error()) return CheckString("an error message", response.error().message());
  switch (response.result_case()) {
    case memhp::v1::AgentResponse::kHello:
      return CheckHello(response.hello(), limits);
    case memhp::v1::AgentResponse::kPong:
      if (response.pong().payload().size() > 4096) return Refuse("a pong of more than 4096 bytes");
      return OkStatus();
    case memhp::v1::AgentResponse::kInventory:
      return CheckInventory(response.inventory(), block_size, limits);
    case memhp::v1::AgentResponse::kBlockOp:
      return CheckBlockOp(response.block_op(), block_size, limits);
    case memhp::v1::AgentResponse::kPolicy:
      return CheckString("a policy name", response.policy().policy());
    case memhp::v1::AgentResponse::kDeviceMap:
    case memhp::v1::AgentResponse::kIntent:  // empty
      return OkStatus();
    case memhp::v1::AgentResponse::kZoneReport:
      return CheckZoneReport(response.zone_report(), limits);
    case memhp::v1::AgentResponse::kEstimate:
      return CheckEstimate(response.estimate(), block_size, limits);
    case memhp::v1::AgentResponse::RESULT_NOT_SET:
      break;
  }
  return Refuse("an answer with neither a result nor an error");
}

}  // namespace memhp::daemon
