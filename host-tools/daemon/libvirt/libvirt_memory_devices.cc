// libvirt_memory_devices — see libvirt_memory_devices.h.
#include "daemon/libvirt/libvirt_memory_devices.h"

#include <memory>
#include <utility>

#include "daemon/libvirt/domain_xml.h"
#include "memhp/v1/error.pb.h"

namespace memhp::daemon::libvirt {
namespace {

Error Malformed(const Error& e) {
  Error out = e;
  out.code = memhp::v1::ERROR_CODE_MALFORMED;
  return out;
}

// The live XML, parsed; a parse failure is the answer's shape being wrong (MALFORMED).
Result<DomainMemory> ReadDomain(LibvirtDomain& domain) {
  Result<std::string> xml = domain.LiveXml();
  if (!xml) return xml.error();
  Result<DomainMemory> parsed = ParseDomainMemory(*xml);
  if (!parsed) return Malformed(parsed.error());
  for (const std::string& p : parsed->problems) g_message("libvirt domain XML: %s", p.c_str());
  return parsed;
}

}  // namespace

Result<LibvirtMemoryDevices::Located> LibvirtMemoryDevices::Locate(const std::string& id) {
  Result<DomainMemory> d = ReadDomain(domain_);
  if (!d) return d.error();
  for (size_t i = 0; i < d->devices.size(); ++i) {
    if (d->devices[i].id() == id) return Located{std::move(d).value(), i};
  }
  Error e{ENOENT, "no memory device '" + id + "' in libvirt domain '" + d->name + "'"};
  e.code = memhp::v1::ERROR_CODE_INVALID_ARGUMENT;
  return e;
}

LibvirtMemoryDevices::LibvirtMemoryDevices(LibvirtDomain& domain, GMainContext* context)
    : domain_(domain), context_(context) {}

template <typename T>
void LibvirtMemoryDevices::Post(Done<T> done, Result<T> result) {
  struct Pending {
    Done<T> done;
    Result<T> result;
  };
  auto* pending = new Pending{std::move(done), std::move(result)};
  GSource* idle = g_idle_source_new();
  g_source_set_callback(
      idle,
      [](gpointer data) -> gboolean {
        std::unique_ptr<Pending> p(static_cast<Pending*>(data));
        p->done(std::move(p->result));
        return G_SOURCE_REMOVE;
      },
      pending, nullptr);
  g_source_attach(idle, context_);
  g_source_unref(idle);
}

void LibvirtMemoryDevices::ListDevices(Done<std::vector<memhp::v1::MemoryDevice>> done) {
  Result<DomainMemory> d = ReadDomain(domain_);
  if (!d) {
    Post<std::vector<memhp::v1::MemoryDevice>>(std::move(done), d.error());
    return;
  }
  Post<std::vector<memhp::v1::MemoryDevice>>(std::move(done), std::move(d->devices));
}

void LibvirtMemoryDevices::ListBackends(Done<std::vector<std::string>> done) {
  Post<std::vector<std::string>>(std::move(done), std::vector<std::string>{});
}

void LibvirtMemoryDevices::GatherFacts(std::function<void(HardwareFacts)> done) {
  HardwareFacts facts;
  Result<DomainMemory> d = ReadDomain(domain_);
  if (!d) {
    facts.problems.push_back(d.error().message);
  } else {
    facts.devices = d->devices;
    facts.devices_known = true;
    facts.base_memory = d->base_memory;
    facts.plugged_memory = d->plugged_memory;
    facts.max_memory = d->max_memory;
    facts.slots = d->slots;
    facts.node_count = d->node_count;
    // Without <maxMemory> libvirt gives QEMU no slots at all (and refuses every memory device
    // attach), so the count is known: none. Admission then refuses a plug itself.
    if (!d->max_memory) {
      facts.slots = 0;
      facts.problems.push_back("the domain XML has no <maxMemory slots=...>: no room to plug DIMMs");
    }
    facts.problems.insert(facts.problems.end(), d->problems.begin(), d->problems.end());
  }
  facts.connected = domain_.connected();
  Post<HardwareFacts>([done = std::move(done)](Result<HardwareFacts> r) { done(std::move(r).value()); },
                      std::move(facts));
}

void LibvirtMemoryDevices::AddBackend(const DimmSpec&, Done<void> done) { Post<void>(std::move(done), OkStatus()); }

void LibvirtMemoryDevices::AddDimm(const DimmSpec& dimm, Done<void> done) {
  Result<std::string> xml = DimmDeviceXml(dimm);
  if (!xml) {
    Post<void>(std::move(done), xml.error());
    return;
  }
  Post<void>(std::move(done), domain_.AttachLive(*xml));
}

void LibvirtMemoryDevices::DeleteDimm(const std::string& device_id, Done<void> done) {
  Result<Located> found = Locate(device_id);
  if (!found) {
    Post<void>(std::move(done), found.error());
    return;
  }
  Post<void>(std::move(done), domain_.DetachAlias(found->domain.aliases[found->index]));
}

void LibvirtMemoryDevices::DeleteBackend(const std::string&, Done<void> done) {
  Post<void>(std::move(done), OkStatus());
}

void LibvirtMemoryDevices::SetRequestedSize(const std::string& device_id, uint64_t size, Done<void> done) {
  Result<Located> found = Locate(device_id);
  if (!found) {
    Post<void>(std::move(done), found.error());
    return;
  }
  if (found->domain.devices[found->index].kind() != memhp::v1::MEMORY_DEVICE_KIND_VIRTIO_MEM) {
    Post<void>(std::move(done), Error::Invalid("'" + device_id + "' is not a virtio-mem device"));
    return;
  }
  Result<std::string> xml = VirtioMemUpdateXml(found->domain.device_xml[found->index], size);
  if (!xml) {
    Post<void>(std::move(done), xml.error());
    return;
  }
  Post<void>(std::move(done), domain_.UpdateLive(*xml));
}

// The machines ask this when the agent was lost mid-operation. On libvirt the agent's stream
// ends only when QEMU closes the channel's chardev (it is exiting) or the connection breaks —
// an agent restarting in the guest leaves it open. libvirt reports the domain stopped only once
// it has reaped QEMU, and until then virDomainIsActive says "active": under `virsh destroy`
// the channel reset came 2 s before the STOPPED event, and the plug ended "the DIMM is
// plugged" for a domain that was gone. So an "active" answer waits for the lifecycle event
// (domain_.gone(), checked every 100 ms) up to kStopEventGraceMs, then asks libvirt again. The
// timer is the loop's own: LibvirtMemoryDevices lives as long as memhpd's loop runs.
void LibvirtMemoryDevices::CheckAlive(Done<void> done) {
  Status now = domain_.CheckRunning();
  if (!now.ok()) {
    Post<void>(std::move(done), std::move(now));
    return;
  }
  struct Wait {
    LibvirtMemoryDevices* self;
    Done<void> done;
    gint64 deadline_us;
  };
  auto* wait = new Wait{this, std::move(done), g_get_monotonic_time() + gint64{kStopEventGraceMs} * 1000};
  GSource* timer = g_timeout_source_new(100);
  g_source_set_callback(
      timer,
      [](gpointer data) -> gboolean {
        auto* w = static_cast<Wait*>(data);
        if (!w->self->domain_.gone() && g_get_monotonic_time() < w->deadline_us) return G_SOURCE_CONTINUE;
        // After the event libvirt answers "not running" (the stop is done when it is sent).
        Done<void> answer = std::move(w->done);
        w->done = nullptr;
        answer(w->self->domain_.CheckRunning());
        return G_SOURCE_REMOVE;
      },
      wait, [](gpointer data) { delete static_cast<Wait*>(data); });
  g_source_attach(timer, context_);
  g_source_unref(timer);
}

DeviceEvent ToDeviceEvent(LibvirtDeviceEvent kind, const std::string& alias, uint64_t size) {
  const std::string id = IdFromAlias(alias);
  switch (kind) {
    case LibvirtDeviceEvent::kRemoved:
      return DeviceEvent{DeviceEventKind::kDeleted, id, "", 0};
    case LibvirtDeviceEvent::kRemovalFailed:
      return DeviceEvent{DeviceEventKind::kUnplugRefused, id,
                         "libvirt: DEVICE_REMOVAL_FAILED (the guest refused or failed the eject)", 0};
    case LibvirtDeviceEvent::kSizeChanged:
      break;
  }
  return DeviceEvent{DeviceEventKind::kSizeChanged, id, "", size};
}

}  // namespace memhp::daemon::libvirt
