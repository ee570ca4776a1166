// domain_xml — see domain_xml.h.
#include "daemon/libvirt/domain_xml.h"

#include <cerrno>
#include <charconv>
#include <limits>

#include "daemon/libvirt/device_memory_layout.h"
#include "daemon/libvirt/xml_tree.h"

namespace memhp::daemon::libvirt {
namespace {

constexpr uint64_t kKiB = 1024;
// Bounds on what memhp believes (a node or slot id past these is a broken answer).
constexpr uint64_t kMaxNodeId = 1024;
constexpr uint64_t kMaxSlot = 4096;
constexpr size_t kMaxDevices = 1024;

Result<uint64_t> ParseUnsigned(std::string_view text, int base) {
  if (base == 16) {
    if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) text.remove_prefix(2);
  }
  uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  if (ec == std::errc::result_out_of_range) return Error{EOVERFLOW, "'" + std::string(text) + "' is past 64 bits"};
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
    return Error::Invalid("'" + std::string(text) + "' is not a number");
  }
  return value;
}

// An element's size in bytes: its text with its unit attribute.
Result<uint64_t> SizeOf(const XmlElement* element, std::string_view what) {
  if (element == nullptr) return Error::Invalid(std::string(what) + " is missing");
  Result<uint64_t> size = ParseLibvirtSize(element->text, element->Attribute("unit").value_or(""));
  if (!size) return Error{size.error().errno_value, std::string(what) + ": " + size.error().message};
  return size;
}

// A small number (node, slot) from an element's text or an attribute.
Result<uint64_t> Bounded(std::string_view text, uint64_t max, std::string_view what) {
  Result<uint64_t> v = ParseUnsigned(text, 10);
  if (!v) return Error{v.error().errno_value, std::string(what) + ": " + v.error().message};
  if (*v > max) return Error{ERANGE, std::string(what) + " " + std::to_string(*v) + " is past " + std::to_string(max)};
  return v;
}

// One <memory> device; an error names what was wrong with it.
Result<memhp::v1::MemoryDevice> ParseMemoryDevice(const XmlElement& memory, std::string* alias) {
  memhp::v1::MemoryDevice d;
  const std::string model(memory.Attribute("model").value_or(""));
  d.set_qmp_type(model);
  const XmlElement* target = memory.Child("target");
  if (target == nullptr) return Error::Invalid("no <target>");
  if (const XmlElement* a = memory.Child("alias")) *alias = std::string(a->Attribute("name").value_or(""));
  d.set_id(IdFromAlias(*alias));
  d.set_slot(-1);
  if (const XmlElement* node = target->Child("node")) {
    Result<uint64_t> n = Bounded(node->text, kMaxNodeId, "node");
    if (!n) return n.error();
    d.set_node(static_cast<int32_t>(*n));
  }
  Result<uint64_t> size = SizeOf(target->Child("size"), "<size>");
  if (!size) return size.error();
  if (model == "dimm") {
    d.set_kind(memhp::v1::MEMORY_DEVICE_KIND_DIMM);
    d.set_size(*size);
    d.set_hotpluggable(true);
    if (const XmlElement* address = memory.Child("address")) {
      if (auto slot = address->Attribute("slot")) {
        Result<uint64_t> s = Bounded(*slot, kMaxSlot, "slot");
        if (!s) return s.error();
        d.set_slot(static_cast<int32_t>(*s));
      }
      if (auto base = address->Attribute("base")) {
        Result<uint64_t> b = ParseUnsigned(*base, 16);
        if (!b) return Error{b.error().errno_value, "base: " + b.error().message};
        d.set_address(*b);
      }
    }
    return d;
  }
  if (model == "virtio-mem") {
    d.set_kind(memhp::v1::MEMORY_DEVICE_KIND_VIRTIO_MEM);
    d.set_max_size(*size);
    Result<uint64_t> block = SizeOf(target->Child("block"), "<block>");
    if (!block) return block.error();
    if (*block == 0 || (*block & (*block - 1)) != 0) {
      return Error::Invalid("<block> " + std::to_string(*block) + " is not a power of two");
    }
    d.set_block_size(*block);
    Result<uint64_t> requested = SizeOf(target->Child("requested"), "<requested>");
    if (!requested) return requested.error();
    d.set_requested_size(*requested);
    // <current> is absent until QEMU has said (libvirt fills it from the device's "size").
    if (const XmlElement* current = target->Child("current")) {
      Result<uint64_t> c = SizeOf(current, "<current>");
      if (!c) return c.error();
      d.set_size(*c);
    }
    if (d.size() > d.max_size() || d.requested_size() > d.max_size()) {
      return Error::Invalid("current or requested size past the device's size");
    }
    return d;
  }
  d.set_kind(memhp::v1::MEMORY_DEVICE_KIND_OTHER);
  d.set_size(*size);
  return d;
}

void AppendKiB(std::string& out, std::string_view element, uint64_t bytes) {
  out += "<" + std::string(element) + " unit='KiB'>" + std::to_string(bytes / kKiB) + "</" + std::string(element) + ">";
}

}  // namespace

Result<uint64_t> ParseLibvirtSize(std::string_view text, std::string_view unit) {
  Result<uint64_t> value = ParseUnsigned(text, 10);
  if (!value) return value;
  uint64_t scale;
  if (unit == "b" || unit == "bytes") scale = 1;
  else if (unit.empty() || unit == "k" || unit == "K" || unit == "KiB") scale = kKiB;
  else if (unit == "KB") scale = 1000;
  else if (unit == "M" || unit == "MiB") scale = kKiB * kKiB;
  else if (unit == "MB") scale = 1000 * 1000;
  else if (unit == "G" || unit == "GiB") scale = kKiB * kKiB * kKiB;
  else if (unit == "GB") scale = 1000ull * 1000 * 1000;
  else if (unit == "T" || unit == "TiB") scale = kKiB * kKiB * kKiB * kKiB;
  else if (unit == "TB") scale = 1000ull * 1000 * 1000 * 1000;
  else return Error::Invalid("unknown unit '" + std::string(unit) + "'");
  if (*value > std::numeric_limits<uint64_t>::max() / scale) {
    return Error{EOVERFLOW, std::string(text) + " " + std::string(unit) + " is past 64 bits"};
  }
  return *value * scale;
}

std::string IdFromAlias(std::string_view alias) {
  if (alias.substr(0, kUserAliasPrefix.size()) == kUserAliasPrefix && alias.size() > kUserAliasPrefix.size()) {
    return std::string(alias.substr(kUserAliasPrefix.size()));
  }
  return std::string(alias);
}

std::string UserAlias(std::string_view id) { return std::string(kUserAliasPrefix) + std::string(id); }

Result<DomainMemory> ParseDomainMemory(std::string_view xml) {
  Result<std::unique_ptr<XmlElement>> tree = ParseXml(xml);
  if (!tree) return Error{tree.error().errno_value, "domain " + tree.error().message};
  const XmlElement& domain = **tree;
  if (domain.name != "domain") return Error::Invalid("domain XML: the root is <" + domain.name + ">, not <domain>");
  DomainMemory out;
  if (const XmlElement* name = domain.Child("name")) out.name = name->text;
  if (const XmlElement* uuid = domain.Child("uuid")) out.uuid = uuid->text;

  if (const XmlElement* max = domain.Child("maxMemory")) {
    if (Result<uint64_t> size = SizeOf(max, "<maxMemory>")) {
      out.max_memory = *size;
    } else {
      out.problems.push_back(size.error().message);
    }
    if (auto slots = max->Attribute("slots")) {
      if (Result<uint64_t> s = Bounded(*slots, kMaxSlot, "<maxMemory slots>")) {
        out.slots = static_cast<uint32_t>(*s);
      } else {
        out.problems.push_back(s.error().message);
      }
    }
  }
  uint64_t cells_memory = 0;
  if (const XmlElement* cpu = domain.Child("cpu")) {
    if (const XmlElement* numa = cpu->Child("numa")) {
      for (const XmlElement* cell : numa->Children("cell")) {
        if (out.node_count >= kMaxNodeId) {
          out.problems.push_back("more NUMA cells than " + std::to_string(kMaxNodeId));
          break;
        }
        ++out.node_count;
        Result<uint64_t> mem = cell->Attribute("memory")
                                   ? ParseLibvirtSize(*cell->Attribute("memory"), cell->Attribute("unit").value_or(""))
                                   : Result<uint64_t>(Error::Invalid("no memory attribute"));
        if (mem && cells_memory <= UINT64_MAX - *mem) {
          cells_memory += *mem;
        } else {
          out.problems.push_back("NUMA cell " + std::to_string(out.node_count - 1) + ": " +
                                 (mem ? std::string("memory past 64 bits") : mem.error().message));
        }
      }
    }
  }

  const XmlElement* devices = domain.Child("devices");
  std::vector<PlacedDevice> placement;
  if (devices != nullptr) {
    for (const XmlElement* memory : devices->Children("memory")) {
      if (out.devices.size() >= kMaxDevices) {
        out.problems.push_back("more memory devices than " + std::to_string(kMaxDevices) + "; the rest are left out");
        break;
      }
      std::string alias;
      Result<memhp::v1::MemoryDevice> device = ParseMemoryDevice(*memory, &alias);
      if (!device) {
        out.problems.push_back("memory device '" + alias + "': " + device.error().message);
        continue;
      }
      const bool dimm = device->kind() == memhp::v1::MEMORY_DEVICE_KIND_DIMM;
      const bool vmem = device->kind() == memhp::v1::MEMORY_DEVICE_KIND_VIRTIO_MEM;
      PlacedDevice p;
      p.size = vmem ? device->max_size() : device->size();
      p.alignment = vmem ? device->block_size() : 0;
      if (dimm && device->address() != 0) p.address = device->address();
      placement.push_back(p);
      if (out.plugged_memory <= UINT64_MAX - device->size()) out.plugged_memory += device->size();
      out.devices.push_back(std::move(device).value());
      out.aliases.push_back(std::move(alias));
      out.device_xml.push_back(SerializeXml(*memory));
    }
    for (const XmlElement* channel : devices->Children("channel")) {
      const XmlElement* target = channel->Child("target");
      if (target && target->Attribute("type") == "virtio" && target->Attribute("name") == kAgentChannelName) {
        out.has_agent_channel = true;
        out.agent_channel_connected = target->Attribute("state") == "connected";
      }
    }
  }

  if (out.node_count > 0) {
    out.base_memory = cells_memory;
  } else if (const XmlElement* memory = domain.Child("memory")) {
    // <memory> counts the memory devices too (libvirt adds them up).
    if (Result<uint64_t> total = SizeOf(memory, "<memory>")) {
      uint64_t devices_total = 0;
      for (const PlacedDevice& p : placement) devices_total += p.size;
      out.base_memory = *total > devices_total ? *total - devices_total : 0;
    } else {
      out.problems.push_back(total.error().message);
    }
  }

  // virtio-mem addresses: as QEMU places them (device_memory_layout.h).
  std::string machine;
  if (const XmlElement* os = domain.Child("os")) {
    if (const XmlElement* type = os->Child("type")) machine = std::string(type->Attribute("machine").value_or(""));
  }
  PlaceDevices(DeviceMemoryBase(machine, out.base_memory), placement);
  for (size_t i = 0; i < out.devices.size(); ++i) {
    memhp::v1::MemoryDevice& d = out.devices[i];
    if (d.kind() != memhp::v1::MEMORY_DEVICE_KIND_VIRTIO_MEM) continue;
    if (placement[i].address) {
      d.set_address(*placement[i].address);
    } else {
      out.problems.push_back("virtio-mem '" + d.id() + "': no room for it in device memory");
    }
  }
  return out;
}

Result<std::string> DimmDeviceXml(const DimmSpec& dimm) {
  if (dimm.device_id.empty()) return Error::Invalid("a DIMM needs an id");
  if (dimm.size == 0 || dimm.size % kKiB != 0) return Error::Invalid("a DIMM's size must be a whole, non-zero KiB");
  if (dimm.node < 0) return Error::Invalid("a DIMM's node must not be negative");
  std::string out = "<memory model='dimm'><target>";
  AppendKiB(out, "size", dimm.size);
  out += "<node>" + std::to_string(dimm.node) + "</node></target>";
  out += "<alias name='" + XmlEscape(UserAlias(dimm.device_id)) + "'/></memory>";
  return out;
}

Result<std::string> VirtioMemUpdateXml(std::string_view device_xml, uint64_t requested) {
  if (requested % kKiB != 0) return Error::Invalid("a requested size must be a whole KiB");
  Result<std::unique_ptr<XmlElement>> parsed = ParseXml(device_xml);
  if (!parsed) return parsed.error();
  XmlElement& memory = **parsed;
  if (memory.name != "memory" || memory.Attribute("model") != "virtio-mem") {
    return Error::Invalid("not a <memory model='virtio-mem'> element");
  }
  XmlElement* target = nullptr;
  for (auto& c : memory.children) {
    if (c->name == "target") target = c.get();
  }
  if (target == nullptr) return Error::Invalid("the virtio-mem device has no <target>");
  XmlElement* element = nullptr;
  for (auto& c : target->children) {
    if (c->name == "requested") element = c.get();
  }
  if (element == nullptr) {
    target->children.push_back(std::make_unique<XmlElement>());
    element = target->children.back().get();
    element->name = "requested";
  }
  element->attributes = {{"unit", "KiB"}};
  element->text = std::to_string(requested / kKiB);
  return SerializeXml(memory);
}

}  // namespace memhp::daemon::libvirt
