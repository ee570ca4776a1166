// memhp launcher — the QEMU command line of a memhp VM, as a pure function of its layout.
//
// The default VM (docs/test-vm.md, "The default VM"): q35, NUMA nodes with equal
// boot memory (one vCPU each while there are vCPUs), DIMM slots and maxmem with room to grow,
// one virtio-mem device per node (QEMU: virtio-mem-pci, backend with reserve=off so the host
// commits nothing until the guest plugs), the agent's virtio-serial port, the serial console
// on a socket with a log, and QMP. Sockets and logs live in the VM's state folder.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "vm/state_dir.h"

namespace memhp::launcher {

inline constexpr const char* kAgentPortName = "org.memhp.agent.0";
// The agent port's QEMU device id, so it can be addressed over QMP (device_del / device_add of
// the virtserialport on bus vser0.0 with chardev "agent").
inline constexpr const char* kAgentPortId = "agent-port";

struct VmLayout {
  uint64_t memory_mib = 512;
  uint32_t nodes = 2;
  uint32_t cpus = 2;
  uint32_t slots = 8;
  uint64_t maxmem_mib = 16384;
  uint64_t virtio_mem_max_mib = 2048;  // per node; 0 = no virtio-mem devices
  uint64_t virtio_mem_block_mib = 2;
};

// "" when the layout can be booted, else why not (memory per node not a whole number of
// 128 MiB blocks, maxmem below boot memory plus every virtio-mem device, ...).
[[nodiscard]] std::string ValidateLayout(const VmLayout& layout);

// Device ids memhp gives the virtio-mem device of node `node` and its memory backend.
[[nodiscard]] std::string VirtioMemDeviceId(uint32_t node);
[[nodiscard]] std::string VirtioMemBackendId(uint32_t node);

struct QemuLaunchSpec {
  std::string qemu_binary = "qemu-system-x86_64";
  VmLayout layout;
  std::string accel;  // "kvm" or "tcg"
  std::string kernel;
  std::string initrd;
  // A raw disk image for the root file system ("" = none: the initramfs is the root). QEMU
  // opens it with snapshot=on, so several VMs share one cached image and none changes it.
  std::string root_disk;
  std::string agent_args;  // for the guest's /init (memhp.agent_args=...)
  std::string kernel_append;  // appended last to -append (the kernel: a later option wins)
  // The memhp-audit plugin (.so path; "" = none): loaded with its control socket and exit
  // report in the state folder (qemu-plugin/audit_args.h), disarmed until memhpd arms it.
  std::string audit_plugin;
  vm::StateDir state{""};
};

// argv for QEMU, daemonized with its pid file in the state folder.
[[nodiscard]] std::vector<std::string> BuildQemuArgv(const QemuLaunchSpec& spec);

}  // namespace memhp::launcher
