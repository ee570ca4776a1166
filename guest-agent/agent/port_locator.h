// memhp-agent — finding the agent's virtio-serial port by name.
//
// QEMU's `-device virtserialport,name=NAME` shows up in the guest as
// /sys/class/virtio-ports/vport<D>p<P>/name (drivers/char/virtio_console.c, show_port_name),
// with the character device /dev/vport<D>p<P>. udev would add /dev/virtio-ports/NAME, but the
// default guest image has no udev, so the agent reads the names itself (docs/test-vm.md).
#pragma once

#include <string>
#include <string_view>

#include "sysfs/result.h"

namespace memhp::agent {

// The device path ("<root>dev/vport1p1") of the port called `name`, or ENOENT when no port has
// that name yet (the module may still be loading, or the host has no such port).
[[nodiscard]] Result<std::string> FindVirtioPort(std::string_view root, std::string_view name);

}  // namespace memhp::agent
