// operation_routes — the control requests every memhpd serves the same way, whatever engine
// runs the VM: plug, unplug, resize, online/offline, policy, zones, dry run, autoscale and
// watch all go to the OperationService and the WatchHub, which are engine-neutral (they see the
// VM only through the MemoryDevices and GuestAgent ports). Only status, stop, raw QMP and the
// audit plugin differ between a launched QEMU (supervisor.h) and a libvirt domain
// (libvirt/libvirt_supervisor.h), so each supervisor answers those and hands the rest here.
#pragma once

#include "daemon/agent_channel.h"
#include "daemon/control_server.h"
#include "daemon/operations/operation_service.h"
#include "daemon/watch_hub.h"
#include "memhp/v1/control.pb.h"

namespace memhp::daemon {

// Answers `request` (now or later) and returns true when it is one of the common kinds;
// returns false, with `reply` untouched, for the engine's own kinds.
bool RouteOperation(const memhp::v1::ControlRequest& request, ControlReply& reply,
                    operations::OperationService& operations, WatchHub& watch, const AgentChannel& agent);

}  // namespace memhp::daemon
