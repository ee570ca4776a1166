// timeline_model — what a recorded watch stream says happened, as lanes over time: the values
// `memhpctl timeline` draws (timeline_svg.h). Pure: WatchEvents (watch_stream.h, or memhpd's own)
// in, a Timeline out; no I/O, no drawing.
//
// From the stream's sources (daemon/watch_hub.h):
//   operation  one bar per plug/unplug/resize: from its "requested" to its "end" (an "end" with no
//              "requested" before it started before the recording: its bar starts duration_us
//              before the end; a "requested" with no "end" is open to the end of the recording).
//              An "end" is matched to the oldest open operation of its kind. Its steps are the
//              "step" events memhpd publishes as each closes (an OperationStep: it ended at the
//              event's time and lasted duration_us), given to the oldest open operation — memhpd
//              runs one at a time per VM. A stream without them (an older memhpd) gets the
//              result's steps (OperationResult.steps) back to back, the last ending with the
//              operation.
//   qmp        one mark per QMP event (DEVICE_DELETED, ACPI_DEVICE_OST, ...).
//   agent      one lane per memory block a memory event names (the notifier's S1-S6 and the
//              memoryN uevents), its state over time: present-offline from BLOCK_ADDED or OFFLINE,
//              going online/offline between GOING_* and its end, online in a zone from ONLINE,
//              gone after BLOCK_REMOVED. A CANCEL_ONLINE / CANCEL_OFFLINE is a veto mark on the
//              block's lane (vetoed_by, or the failed write's errno) and puts back the state before.
//              Agent events before memhpd's "watching" notice were replayed from memhpd's memory:
//              their time is the replay's, not the event's, so they are not drawn.
//   memhpd     one mark per notice (agent_connected, agent_lost, watch_dropped, ...) and per agent
//              "gap".
// Times are the watch events' time_unix_ns (memhpd's clock; QMP events keep QEMU's timestamp).
// Every count is bounded (kMaxTimeline*); what is left out is counted in `not_drawn`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "memhp/v1/agent.pb.h"
#include "memhp/v1/control.pb.h"

namespace memhp::ctl {

inline constexpr size_t kMaxTimelineOperations = 512;
inline constexpr size_t kMaxTimelineBlockLanes = 1024;
inline constexpr size_t kMaxTimelineMarks = 4096;  // per kind: QMP, memhpd, vetoes

struct TimelineStep {
  std::string name;
  uint64_t start_ns = 0;
  uint64_t end_ns = 0;
  bool ok = true;
};

struct TimelineOperation {
  std::string label;    // "plug dimm1"
  std::string outcome;  // "DONE", "REFUSED", ... ; "error" (memhpd answered an error); "" open
  uint64_t start_ns = 0;
  uint64_t end_ns = 0;
  bool finished = false;
  std::vector<TimelineStep> steps;
};

struct TimelineMark {
  uint64_t time_ns = 0;
  std::string label;
};

enum class BlockPhase { kOffline, kGoingOnline, kOnline, kGoingOffline };

struct BlockSpan {
  uint64_t start_ns = 0;
  uint64_t end_ns = 0;
  BlockPhase phase = BlockPhase::kOffline;
  memhp::v1::Zone zone = memhp::v1::ZONE_UNSPECIFIED;  // online (or going offline) in it
};

struct BlockLane {
  uint32_t block = 0;
  std::vector<BlockSpan> spans;
  std::vector<TimelineMark> vetoes;
};

struct Timeline {
  std::string vm;  // the first named VM in the stream
  uint64_t start_ns = 0;
  uint64_t end_ns = 0;
  size_t events = 0;
  uint64_t missing_events = 0;  // gaps in seq (watch_view.h)
  std::vector<TimelineOperation> operations;  // in start order
  std::vector<TimelineMark> qmp;
  std::vector<TimelineMark> notices;
  std::vector<BlockLane> blocks;  // by block number
  size_t not_drawn = 0;           // operations, lanes or marks over the bounds
};

[[nodiscard]] Timeline BuildTimeline(const std::vector<memhp::v1::WatchEvent>& events);

}  // namespace memhp::ctl
