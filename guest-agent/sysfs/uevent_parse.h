// memhp — parser for kernel uevents as they arrive on a NETLINK_KOBJECT_UEVENT socket.
//
// lib/kobject_uevent.c sends one datagram per event: "<action>@<devpath>\0" followed by
// "KEY=VALUE\0" entries (ACTION, DEVPATH, SUBSYSTEM, SEQNUM, then the bus's own keys). This is
// how the agent learns of transitions it did not make — a block added by the virtio-mem driver
// or an ACPI DIMM ("add", S18), onlined by the kernel's auto-online or another tool ("online",
// S20), removed ("remove") — so the parser must reject anything that is not such a message
// rather than guess: a missing '@' header (this also rejects udevd's "libudev" re-broadcasts),
// no ACTION or DEVPATH entry, an ACTION/DEVPATH that contradicts the header, an entry without
// '=', a repeated key, a buffer over abi::kUeventMaxBytes or with more than
// abi::kUeventMaxEntries entries, and a buffer whose last byte is not NUL. Pure: no I/O.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "sysfs/result.h"

namespace memhp::agent {

// kobject_actions[] of lib/kobject_uevent.c, plus kOther for a name this build does not know.
enum class UeventAction { kAdd, kRemove, kChange, kMove, kOnline, kOffline, kBind, kUnbind, kOther };

// "add" -> kAdd, ...; anything else -> kOther.
[[nodiscard]] UeventAction UeventActionFromName(std::string_view name);

struct Uevent {
  UeventAction action = UeventAction::kOther;
  std::string action_name;  // ACTION verbatim, e.g. "online"
  std::string devpath;      // DEVPATH, e.g. "/devices/system/memory/memory40"
  std::string subsystem;    // SUBSYSTEM, e.g. "memory"; empty if the event had none
  std::optional<uint64_t> seqnum;          // SEQNUM when present (a bad one is rejected)
  std::map<std::string, std::string> env;  // every KEY=VALUE entry, ACTION etc. included
};

// Parses one datagram (its exact length, including the final NUL). Errors are EINVAL, or
// EMSGSIZE for an oversized buffer or too many entries.
[[nodiscard]] Result<Uevent> ParseUevent(std::string_view buffer);

// "/devices/system/memory/memory40" -> 40 (a memory block device, drivers/base/memory.c).
[[nodiscard]] std::optional<uint32_t> MemoryBlockIdFromDevpath(std::string_view devpath);
// "/devices/system/node/node1" -> 1 (a node device, drivers/base/node.c).
[[nodiscard]] std::optional<uint32_t> NodeIdFromDevpath(std::string_view devpath);

}  // namespace memhp::agent
