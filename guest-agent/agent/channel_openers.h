// memhp-agent — the two ways to open the host channel.
//
// Production: the virtio-serial port QEMU names (port_locator.h), opened non-blocking; only one
// process may hold it open (the kernel answers EBUSY to a second open). Tests and a host-side
// run of the agent: a unix socket that a test's fake host listens on.
#pragma once

#include <string>

#include "agent/host_link.h"

namespace memhp::agent {

[[nodiscard]] ChannelOpener VirtioPortOpener(std::string root, std::string port_name);
[[nodiscard]] ChannelOpener UnixSocketOpener(std::string path);

}  // namespace memhp::agent
