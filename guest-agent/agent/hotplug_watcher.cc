// memhp-agent — HotplugWatcher (see hotplug_watcher.h).
#include "agent/hotplug_watcher.h"

#include <algorithm>
#include <string>
#include <utility>

namespace memhp::agent {
namespace {

struct TimerCall {
  HotplugWatcher* self;
  void (HotplugWatcher::*fire)();
  GSource** slot;
};

}  // namespace

HotplugWatcher::HotplugWatcher(const SysfsReader& sysfs, BlockOperator& operations,
                               EventReporter& reporter, OwnTransitions& own, GMainContext* context,
                               HotplugWatcherOptions options, ZoneReportSource zone_reports,
                               const PlugIntentSlot* intent)
    : sysfs_(sysfs),
      operations_(operations),
      reporter_(reporter),
      own_(own),
      context_(context),
      options_(options),
      zone_reports_(std::move(zone_reports)),
      intent_(intent) {}

std::chrono::milliseconds HotplugWatcher::DecideDelay() const {
  return intent_ && intent_->ReadyToDecide(added_.size()) ? std::chrono::milliseconds(0) : options_.settle;
}

HotplugWatcher::~HotplugWatcher() {
  for (GSource* s : {settle_timer_, inventory_timer_, zone_report_timer_}) {
    if (s) {
      g_source_destroy(s);
      g_source_unref(s);
    }
  }
}

void HotplugWatcher::ScheduleTimer(GSource*& source, std::chrono::milliseconds delay,
                                   void (HotplugWatcher::*fire)(), bool restart) {
  if (source && !restart) return;  // the period already running covers this change
  if (source) {  // restart: the burst is still going on
    g_source_destroy(source);
    g_source_unref(source);
  }
  source = g_timeout_source_new(static_cast<guint>(delay.count()));
  g_source_set_callback(
      source,
      [](gpointer data) -> gboolean {
        auto* call = static_cast<TimerCall*>(data);
        g_source_unref(*call->slot);
        *call->slot = nullptr;
        (call->self->*call->fire)();
        return G_SOURCE_REMOVE;
      },
      new TimerCall{this, fire, &source}, [](gpointer data) { delete static_cast<TimerCall*>(data); });
  g_source_attach(source, context_);
}

void HotplugWatcher::OnOwnEvent(const memhp::v1::MemoryEvent& event) {
  if (event.kind() == memhp::v1::MEMORY_EVENT_KIND_ONLINE ||
      event.kind() == memhp::v1::MEMORY_EVENT_KIND_OFFLINE) {
    BlocksChanged();
  }
  ScheduleTimer(inventory_timer_, options_.inventory_coalesce, &HotplugWatcher::SendInventory);
}

void HotplugWatcher::Observed(uint32_t block, memhp::v1::MemoryEventKind kind,
                              memhp::v1::EventOrigin origin) {
  memhp::v1::Zone zone = memhp::v1::ZONE_UNSPECIFIED;
  int node = -1;
  if (Result<memhp::v1::MemoryBlock> b = sysfs_.ReadBlock(block); b.ok()) {
    zone = b->zone();
    node = b->node();
  }
  reporter_.ReportObserved(kind, block, zone, node, origin, "seen in a kernel uevent");
}

void HotplugWatcher::OnUevent(const Uevent& uevent) {
  if (uevent.subsystem == "node") {
    ScheduleTimer(inventory_timer_, options_.inventory_coalesce, &HotplugWatcher::SendInventory);
    return;
  }
  const std::optional<uint32_t> block = MemoryBlockIdFromDevpath(uevent.devpath);
  if (!block) return;  // memory subsystem events that are not a block (none today)
  switch (uevent.action) {
    case UeventAction::kAdd:
      Observed(*block, memhp::v1::MEMORY_EVENT_KIND_BLOCK_ADDED, memhp::v1::EVENT_ORIGIN_KERNEL);
      added_.push_back(*block);
      just_added_.insert(*block);
      link_retries_left_ = options_.link_retries;
      ScheduleTimer(settle_timer_, DecideDelay(), &HotplugWatcher::OnlineAddedBlocks);
      break;
    case UeventAction::kRemove:
      added_.erase(std::remove(added_.begin(), added_.end(), *block), added_.end());
      reporter_.ReportObserved(memhp::v1::MEMORY_EVENT_KIND_BLOCK_REMOVED, *block,
                               memhp::v1::ZONE_UNSPECIFIED, -1, memhp::v1::EVENT_ORIGIN_KERNEL,
                               "memory block removed");
      break;
    case UeventAction::kOnline:
    case UeventAction::kOffline: {
      const bool online = uevent.action == UeventAction::kOnline;
      if (own_.Claim(*block, online, uevent.seqnum)) {
        break;  // our own write; reported through the notifier model already
      }
      // Someone else's: right after an add it is the kernel's own auto-online.
      const bool auto_online = online && just_added_.count(*block) > 0;
      if (online) added_.erase(std::remove(added_.begin(), added_.end(), *block), added_.end());
      Observed(*block, online ? memhp::v1::MEMORY_EVENT_KIND_ONLINE : memhp::v1::MEMORY_EVENT_KIND_OFFLINE,
               auto_online ? memhp::v1::EVENT_ORIGIN_KERNEL : memhp::v1::EVENT_ORIGIN_OTHER);
      break;
    }
    default:
      return;
  }
  BlocksChanged();
  ScheduleTimer(inventory_timer_, options_.inventory_coalesce, &HotplugWatcher::SendInventory);
}

void HotplugWatcher::BlocksChanged() {
  if (!zone_reports_) return;
  ScheduleTimer(zone_report_timer_, options_.zone_report_period, &HotplugWatcher::SendZoneReport,
                /*restart=*/false);
}

void HotplugWatcher::SendZoneReport() {
  Result<memhp::v1::ZoneReport> report = zone_reports_();
  if (!report.ok()) {
    g_warning("zone report not read: %s", report.error().message.c_str());
    return;
  }
  memhp::v1::AgentEvent event;
  *event.mutable_zone_report() = std::move(report).value();
  reporter_.Report(std::move(event));
}

void HotplugWatcher::OnOverflow() {
  // Uevents were lost: what we expect may never come, and adds may have been missed. Start over
  // from sysfs, which is always true.
  own_.Clear();
  SendInventory();
  BlocksChanged();
}

void HotplugWatcher::OnlineAddedBlocks() {
  std::vector<uint32_t> blocks;
  std::vector<uint32_t> unfinished;
  for (uint32_t id : added_) {
    // S18: onlining waits until the add is complete, i.e. the kernel linked the block to its
    // node (register_memory_blocks_under_node() runs after the "add" uevent).
    Result<memhp::v1::MemoryBlock> b = sysfs_.ReadBlock(id);
    if (!b.ok()) continue;  // removed meanwhile
    // Online already (the kernel's auto-online, its "online" uevent not read yet): nothing to
    // decide, and no inventory to read for it.
    if (b->state() == memhp::v1::BLOCK_STATE_ONLINE) continue;
    (b->node() >= 0 ? blocks : unfinished).push_back(id);
  }
  if (!unfinished.empty()) {
    // S18: the add completes in the kernel moments after its uevent; with the intent known,
    // look again soon, a bounded number of times, and decide nothing before: the blocks of a
    // DIMM are linked one after the other, and must be decided together.
    const bool soon = DecideDelay().count() == 0 && link_retries_left_ > 0;
    if (soon) {
      --link_retries_left_;
      unfinished.insert(unfinished.end(), blocks.begin(), blocks.end());
      blocks.clear();
    }
    ScheduleTimer(settle_timer_, soon ? options_.link_retry : options_.settle, &HotplugWatcher::OnlineAddedBlocks);
  }
  added_.swap(unfinished);
  if (blocks.empty()) return;
  just_added_.clear();
  Result<memhp::v1::BlockOpResult> result = operations_.OnlineByPolicy(blocks);
  if (!result.ok()) {
    g_warning("onlining %zu added blocks by policy failed: %s", blocks.size(), result.error().message.c_str());
    return;
  }
  int done = 0;
  for (const auto& r : result->blocks()) done += r.outcome() == memhp::v1::BLOCK_OUTCOME_DONE;
  g_message("policy: %d of %zu added blocks onlined", done, blocks.size());
}

void HotplugWatcher::SendInventory() {
  Result<memhp::v1::Inventory> inventory = sysfs_.ReadInventory();
  if (!inventory.ok()) {
    g_warning("inventory not re-read: %s", inventory.error().message.c_str());
    return;
  }
  memhp::v1::AgentEvent event;
  *event.mutable_inventory_changed() = std::move(inventory).value();
  reporter_.Report(std::move(event));
}

}  // namespace memhp::agent
