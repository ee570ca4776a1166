// memhp launcher — the default VM as a libvirt domain (memhpctl launch --engine libvirt), as a
// pure function of its layout: the same machine as qemu_command.h builds for QEMU, in
// libvirt's words (docs/libvirt.md explains each element).
//
//   <domain type='qemu'> (TCG; 'kvm' with --accel kvm), machine q35, <maxMemory slots> and
//   maxmem, one <cell> per node with its boot memory and vCPU, <features><acpi/> (QEMU refuses
//   DIMM hotplug without ACPI: "memory hotplug is not enabled"), direct kernel boot with
//   memhp's command line, one <memory model='virtio-mem'> per node with alias ua-vmemN
//   (memhp id vmemN, as on QEMU), the agent's virtio <channel> org.memhp.agent.0 (no <source>:
//   libvirt picks the socket), and the serial console on a unix socket in the state folder,
//   logged by virtlogd.
#pragma once

#include <string>

#include "launcher/qemu_command.h"

namespace memhp::launcher {

struct LibvirtLaunchSpec {
  std::string domain_name;  // e.g. memhp-<vm>
  VmLayout layout;
  std::string accel;        // "kvm" or "tcg"
  std::string kernel;
  std::string initrd;
  std::string agent_args;
  std::string kernel_append;
  vm::StateDir state{""};
};

// The domain's name for memhp VM `vm`.
[[nodiscard]] std::string LibvirtDomainName(const std::string& vm);

[[nodiscard]] std::string BuildLibvirtDomainXml(const LibvirtLaunchSpec& spec);

}  // namespace memhp::launcher
