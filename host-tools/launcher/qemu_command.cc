// memhp launcher — the QEMU command line (see qemu_command.h).
#include "launcher/qemu_command.h"

namespace memhp::launcher {
namespace {

std::string Mib(uint64_t mib) { return std::to_string(mib) + "M"; }

}  // namespace

std::string ValidateLayout(const VmLayout& layout) {
  if (layout.nodes == 0 || layout.cpus == 0) return "a VM needs at least one node and one vCPU";
  if (layout.memory_mib % (128 * layout.nodes) != 0) {
    return "boot memory must be a whole number of 128 MiB blocks on each of the " +
           std::to_string(layout.nodes) + " nodes";
  }
  const uint64_t needed = layout.memory_mib + layout.nodes * layout.virtio_mem_max_mib;
  if (layout.maxmem_mib < needed) {
    return "maxmem " + std::to_string(layout.maxmem_mib) + " MiB is less than boot memory plus " +
           "the virtio-mem devices (" + std::to_string(needed) + " MiB)";
  }
  if (layout.virtio_mem_block_mib == 0) return "the virtio-mem block size must not be 0";
  if (layout.virtio_mem_max_mib % layout.virtio_mem_block_mib != 0) {
    return "the virtio-mem size must be a multiple of its block size";
  }
  return "";
}

std::string VirtioMemDeviceId(uint32_t node) { return "vmem" + std::to_string(node); }
std::string VirtioMemBackendId(uint32_t node) { return "vmem" + std::to_string(node) + "-mem"; }

std::vector<std::string> BuildQemuArgv(const QemuLaunchSpec& spec) {
  const VmLayout& l = spec.layout;
  const vm::StateDir& s = spec.state;
  std::vector<std::string> argv = {
      spec.qemu_binary,
      "-name", "memhp",
      "-machine", "q35",
      "-accel", spec.accel,
      "-cpu", "max",
      "-smp", std::to_string(l.cpus),
      "-m", Mib(l.memory_mib) + ",slots=" + std::to_string(l.slots) + ",maxmem=" + Mib(l.maxmem_mib),
      "-nodefaults",
      "-display", "none",
      "-no-reboot",
  };
  const uint64_t per_node = l.memory_mib / l.nodes;
  for (uint32_t n = 0; n < l.nodes; ++n) {
    const std::string id = "boot" + std::to_string(n);
    argv.insert(argv.end(), {"-object", "memory-backend-ram,id=" + id + ",size=" + Mib(per_node)});
    std::string numa = "node,nodeid=" + std::to_string(n) + ",memdev=" + id;
    if (n < l.cpus) numa += ",cpus=" + std::to_string(n);
    // vCPUs beyond the node count all go to the last node.
    if (n + 1 == l.nodes && l.cpus > l.nodes) {
      numa += "-" + std::to_string(l.cpus - 1);
    }
    argv.insert(argv.end(), {"-numa", numa});
  }
  if (l.virtio_mem_max_mib > 0) {
    for (uint32_t n = 0; n < l.nodes; ++n) {
      argv.insert(argv.end(), {"-object", "memory-backend-ram,id=" + VirtioMemBackendId(n) +
                                              ",size=" + Mib(l.virtio_mem_max_mib) + ",reserve=off"});
      argv.insert(argv.end(), {"-device", "virtio-mem-pci,id=" + VirtioMemDeviceId(n) +
                                              ",memdev=" + VirtioMemBackendId(n) + ",node=" +
                                              std::to_string(n) + ",requested-size=0,block-size=" +
                                              Mib(l.virtio_mem_block_mib)});
    }
  }
  std::string append = "console=ttyS0 memhp_default_state=offline";
  if (!spec.agent_args.empty()) append += " memhp.agent_args=\"" + spec.agent_args + "\"";
  if (!spec.root_disk.empty()) {
    // The disk is the first virtio-blk device: /dev/vda (host-tools/image/init-debian mounts it).
    argv.insert(argv.end(), {"-drive", "file=" + spec.root_disk + ",if=virtio,format=raw,snapshot=on"});
    append += " root=/dev/vda";
  }
  if (!spec.kernel_append.empty()) append += " " + spec.kernel_append;
  argv.insert(argv.end(), {
      "-device", "virtio-serial-pci,id=vser0",
      "-chardev", "socket,id=agent,path=" + s.agent_socket() + ",server=on,wait=off",
      "-device", std::string("virtserialport,id=") + kAgentPortId + ",bus=vser0.0,chardev=agent,name=" + kAgentPortName,
      "-chardev", "socket,id=console,path=" + s.console_socket() + ",server=on,wait=off,logfile=" +
                      s.console_log(),
      "-serial", "chardev:console",
      "-qmp", "unix:" + s.qmp_socket() + ",server=on,wait=off",
      "-kernel", spec.kernel,
      "-initrd", spec.initrd,
      "-append", append,
      "-pidfile", s.qemu_pidfile(),
      "-daemonize",
  });
  if (!spec.audit_plugin.empty()) {
    argv.insert(argv.end(), {"-plugin", "file=" + spec.audit_plugin + ",socket=" + s.audit_socket() +
                                            ",report=" + s.audit_report()});
  }
  return argv;
}

}  // namespace memhp::launcher
