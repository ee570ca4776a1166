// memhp launcher — the default VM as a libvirt domain (see libvirt_domain_xml.h).
#include "launcher/libvirt_domain_xml.h"

#include <glib.h>

namespace memhp::launcher {
namespace {

std::string Escape(const std::string& text) {
  gchar* escaped = g_markup_escape_text(text.c_str(), -1);
  std::string out(escaped);
  g_free(escaped);
  return out;
}

std::string MiB(uint64_t mib) { return "unit='MiB'>" + std::to_string(mib); }

}  // namespace

std::string LibvirtDomainName(const std::string& vm) { return "memhp-" + vm; }

std::string BuildLibvirtDomainXml(const LibvirtLaunchSpec& spec) {
  const VmLayout& l = spec.layout;
  const vm::StateDir& s = spec.state;
  std::string append = "console=ttyS0 memhp_default_state=offline";
  if (!spec.agent_args.empty()) append += " memhp.agent_args=\"" + spec.agent_args + "\"";
  if (!spec.kernel_append.empty()) append += " " + spec.kernel_append;

  std::string x;
  x += "<domain type='" + std::string(spec.accel == "kvm" ? "kvm" : "qemu") + "'>\n";
  x += "  <name>" + Escape(spec.domain_name) + "</name>\n";
  x += "  <memory " + MiB(l.memory_mib) + "</memory>\n";
  x += "  <maxMemory slots='" + std::to_string(l.slots) + "' " + MiB(l.maxmem_mib) + "</maxMemory>\n";
  x += "  <vcpu>" + std::to_string(l.cpus) + "</vcpu>\n";
  x += "  <os>\n    <type arch='x86_64' machine='q35'>hvm</type>\n";
  x += "    <kernel>" + Escape(spec.kernel) + "</kernel>\n";
  x += "    <initrd>" + Escape(spec.initrd) + "</initrd>\n";
  x += "    <cmdline>" + Escape(append) + "</cmdline>\n  </os>\n";
  x += "  <features><acpi/></features>\n";
  // TCG's "max" CPU model, as the QEMU launcher uses (-cpu max).
  x += "  <cpu mode='maximum' check='none'>\n    <numa>\n";
  const uint64_t per_node = l.memory_mib / l.nodes;
  for (uint32_t n = 0; n < l.nodes; ++n) {
    std::string cpus;
    if (n < l.cpus) cpus = std::to_string(n);
    if (n + 1 == l.nodes && l.cpus > l.nodes) cpus += "-" + std::to_string(l.cpus - 1);
    x += "      <cell id='" + std::to_string(n) + "'" + (cpus.empty() ? "" : " cpus='" + cpus + "'") +
         " memory='" + std::to_string(per_node) + "' unit='MiB'/>\n";
  }
  x += "    </numa>\n  </cpu>\n";
  x += "  <on_poweroff>destroy</on_poweroff>\n  <on_reboot>destroy</on_reboot>\n  <on_crash>destroy</on_crash>\n";
  x += "  <devices>\n";
  for (uint32_t n = 0; l.virtio_mem_max_mib > 0 && n < l.nodes; ++n) {
    x += "    <memory model='virtio-mem'>\n      <target><size " + MiB(l.virtio_mem_max_mib) + "</size><node>" +
         std::to_string(n) + "</node><block " + MiB(l.virtio_mem_block_mib) +
         "</block><requested unit='MiB'>0</requested></target>\n";
    x += "      <alias name='ua-" + VirtioMemDeviceId(n) + "'/>\n    </memory>\n";
  }
  x += "    <channel type='unix'><target type='virtio' name='" + std::string(kAgentPortName) + "'/></channel>\n";
  x += "    <serial type='unix'>\n      <source mode='bind' path='" + Escape(s.console_socket()) + "'/>\n";
  x += "      <log file='" + Escape(s.console_log()) + "'/>\n      <target port='0'/>\n    </serial>\n";
  x += "    <memballoon model='none'/>\n";
  x += "  </devices>\n</domain>\n";
  return x;
}

}  // namespace memhp::launcher
