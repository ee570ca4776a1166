// memhp-agent — HotplugWatcher: what the kernel's uevents say happened, turned into reports
// and into onlining by policy.
//
// - memory "add" (a DIMM plugged, the virtio-mem driver adding memory): reported as
//   BLOCK_ADDED, then onlined by the policy once the burst has settled, so a DIMM's blocks are
//   decided together and land in one zone. When the host's plug intent says what is coming
//   (PlugIntentSlot::ReadyToDecide: a virtio-mem range, or every block of the DIMM has come),
//   there is nothing to wait for: the policy decides at once, and a block whose add is not
//   complete yet (no node link) is looked at again after link_retry rather than settle —
//   every millisecond here is on the plug's critical path (the virtio-mem driver stops adding
//   while about 1 GiB is added but offline). The uevent comes after the kernel finished adding
//   the block (add_memory_resource() registers the device under device_hotplug_lock, S18/S19),
//   so nothing is ever onlined before its add is complete.
// - memory "online"/"offline": our own writes cause them too; those were reported already by
//   the notifier model, so they claim the expectation the write left (OwnTransitions, filled
//   by RecordingBlockWriter from the agent's successful writes only) and are not reported
//   twice. Any other is someone else's transition (the kernel's auto-online right after an
//   add, a shell, chmem, a udev rule, the virtio-mem driver offlining before it unplugs) and is
//   reported as observed with its zone and node — every time: reporting it adds no
//   expectation, so the next one of the same kind is not mistaken for ours.
// - memory "remove": BLOCK_REMOVED. node uevents: the node masks changed.
// - overflow (uevents lost): the inventory is re-read and sent whole.
// After any change, one inventory_changed event follows, coalesced over a short delay. After a
// block change (add, remove, online, offline — ours or observed) one zone_report event follows
// too, at most one per zone_report_period: the first change starts the period and later ones
// in it ride along, so a long virtio-mem growth yields a report per period, not per block.
#pragma once

#include <glib.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include "agent/block_operator.h"
#include "agent/event_reporter.h"
#include "agent/own_transitions.h"
#include "agent/zone_report.h"
#include "policy/plug_intent.h"
#include "sysfs/sysfs_reader.h"
#include "sysfs/uevent_parse.h"

namespace memhp::agent {

struct HotplugWatcherOptions {
  std::chrono::milliseconds settle{50};              // quiet time before policy onlining
  std::chrono::milliseconds inventory_coalesce{200};  // quiet time before inventory_changed
  std::chrono::milliseconds zone_report_period{500};  // at most one zone_report per period
  std::chrono::milliseconds link_retry{2};            // intent known: next look at an unlinked add
  int link_retries = 100;                             // then back to settle
};

class HotplugWatcher {
 public:
  // `own` holds the agent's own coming transitions (filled by its block writer); `intent` (may
  // be null: always settle) the host's plug intent, read only.
  HotplugWatcher(const SysfsReader& sysfs, BlockOperator& operations, EventReporter& reporter,
                 OwnTransitions& own, GMainContext* context, HotplugWatcherOptions options = {},
                 ZoneReportSource zone_reports = {}, const PlugIntentSlot* intent = nullptr);
  ~HotplugWatcher();
  HotplugWatcher(const HotplugWatcher&) = delete;
  HotplugWatcher& operator=(const HotplugWatcher&) = delete;

  void OnUevent(const Uevent& uevent);
  void OnOverflow();
  // Every memory event of a transition the agent made (not the ones it only observed): the
  // inventory and the zones changed.
  void OnOwnEvent(const memhp::v1::MemoryEvent& event);

 private:
  // restart: a pending timer starts over (quiet time); else a pending timer is kept (period).
  void ScheduleTimer(GSource*& source, std::chrono::milliseconds delay, void (HotplugWatcher::*fire)(),
                     bool restart = true);
  void BlocksChanged();
  void SendZoneReport();
  void OnlineAddedBlocks();
  void SendInventory();
  void Observed(uint32_t block, memhp::v1::MemoryEventKind kind, memhp::v1::EventOrigin origin);
  // How long to wait before the policy looks at the added blocks (see the header comment).
  [[nodiscard]] std::chrono::milliseconds DecideDelay() const;

  const SysfsReader& sysfs_;
  BlockOperator& operations_;
  EventReporter& reporter_;
  OwnTransitions& own_;
  GMainContext* context_;
  HotplugWatcherOptions options_;
  std::vector<uint32_t> added_;             // added, waiting for the policy
  std::set<uint32_t> just_added_;           // added in this burst (an online now = auto-online)
  GSource* settle_timer_ = nullptr;
  GSource* inventory_timer_ = nullptr;
  ZoneReportSource zone_reports_;  // empty: no zone reports
  GSource* zone_report_timer_ = nullptr;
  const PlugIntentSlot* intent_;
  int link_retries_left_ = 0;  // short looks left for adds not linked yet
};

}  // namespace memhp::agent
