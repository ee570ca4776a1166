// domain_xml — a libvirt domain's memory, read from its live XML, and the device XML memhp
// sends. Pure: strings in, values out (the adapter, libvirt_memory_devices.h, does the calls).
//
// What is read (libvirt's domain XML format, docs/formatdomain.rst upstream, as libvirt 9.0
// writes it for a running QEMU domain; sizes carry a `unit`, KiB when libvirt writes them):
//   <maxMemory slots='8' unit='KiB'>16777216</maxMemory>   maxmem and the DIMM slots
//   <cpu><numa><cell id='0' memory='262144' unit='KiB'/>…   the NUMA cells (boot memory each)
//   <devices><memory model='dimm'>                          a DIMM: <target><size/><node/>,
//       <alias name='ua-ID'/>, <address type='dimm' slot='0' base='0x180000000'/>
//   <devices><memory model='virtio-mem'>                    <target><size/> (the device's
//       maximum) <node/> <block/> <requested/> <current/>, <alias name='ua-ID'/>
//   <devices><channel><target type='virtio' name='org.memhp.agent.0' state='connected'/>
// A device whose alias is a user alias `ua-ID` has memhp id ID; any other alias (libvirt's own,
// `dimm0`) is used as the id as it is. libvirt 9.0 does not show a virtio-mem device's
// guest-physical address; it is computed as QEMU places it (device_memory_layout.h).
//
// libvirtd is trusted but bounded: the XML tree is bounded (xml_tree.h), sizes are checked for
// overflow, node and slot numbers must fit, and a device that cannot be read is skipped with a
// line in `problems` (one odd device does not cost the whole inventory).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "daemon/ports/memory_devices.h"
#include "memhp/v1/control.pb.h"

namespace memhp::daemon::libvirt {

inline constexpr std::string_view kUserAliasPrefix = "ua-";
inline constexpr std::string_view kAgentChannelName = "org.memhp.agent.0";

struct DomainMemory {
  std::string name;
  std::string uuid;
  std::vector<memhp::v1::MemoryDevice> devices;
  std::vector<std::string> aliases;   // devices[i]'s libvirt alias
  std::vector<std::string> device_xml;  // devices[i]'s <memory> element as libvirt wrote it
  std::optional<uint64_t> max_memory;
  std::optional<uint32_t> slots;
  uint32_t node_count = 0;           // NUMA cells; 0 = no NUMA
  uint64_t base_memory = 0;          // boot memory: the cells' sum, or <memory> less devices
  uint64_t plugged_memory = 0;       // DIMM sizes plus virtio-mem current sizes
  bool has_agent_channel = false;    // a virtio channel named org.memhp.agent.0
  bool agent_channel_connected = false;  // its state='connected' (the guest opened the port)
  std::vector<std::string> problems;
};

[[nodiscard]] Result<DomainMemory> ParseDomainMemory(std::string_view xml);

// A size element's value in bytes: `text` in `unit` (libvirt's units: b, bytes, KB, k, KiB,
// MB, M, MiB, GB, G, GiB, TB, T, TiB; none = KiB). EOVERFLOW past 64 bits, EINVAL otherwise.
[[nodiscard]] Result<uint64_t> ParseLibvirtSize(std::string_view text, std::string_view unit);

// The memhp id of a device with libvirt alias `alias` (see the header comment).
[[nodiscard]] std::string IdFromAlias(std::string_view alias);

// The libvirt alias memhp gives a device with memhp id `id`: "ua-<id>".
[[nodiscard]] std::string UserAlias(std::string_view id);

// <memory model='dimm'> for virDomainAttachDeviceFlags: size in KiB, node, alias ua-<id>.
// The size must be a whole number of KiB (admission asks for whole guest blocks).
[[nodiscard]] Result<std::string> DimmDeviceXml(const DimmSpec& dimm);

// <memory model='virtio-mem'> for virDomainUpdateDeviceFlags: the device's own element from the
// live XML (DomainMemory.device_xml) with <requested> changed, as `virsh update-memory-device`
// sends it — libvirt 9.0 finds the device to update by comparing the whole definition, address
// included, so a rebuilt element without the address is "not found".
[[nodiscard]] Result<std::string> VirtioMemUpdateXml(std::string_view device_xml, uint64_t requested);

}  // namespace memhp::daemon::libvirt
