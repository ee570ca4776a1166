// memhp — the notifier chain (see notifier_chain.h; kernel/notifier.c is the model).
#include "notifier/notifier_chain.h"

#include <algorithm>
#include <cerrno>

namespace memhp::agent {

std::string_view EventOriginName(EventOrigin origin) {
  switch (origin) {
    case EventOrigin::kUnspecified: return "unspecified";
    case EventOrigin::kHostRequest: return "host-request";
    case EventOrigin::kPolicy: return "policy";
    case EventOrigin::kObserved: return "observed";
  }
  return "";
}

Result<NotifierHandle> NotifierChain::Register(std::string name, int priority,
                                               std::shared_ptr<NotifierBlock> block) {
  if (name.empty()) return Error::Invalid("notifier name is empty");
  if (!block) return Error::Invalid("notifier '" + name + "' has no handler");
  for (const Entry& e : entries_) {
    if (e.name == name) return Error{EEXIST, "notifier '" + name + "' is already registered"};
    if (e.block == block) {
      return Error{EEXIST, "notifier '" + name + "': handler already registered as '" +
                               e.name + "'"};
    }
  }
  // notifier_chain_register(): stop before the first entry with a strictly lower priority,
  // i.e. after every entry of higher OR EQUAL priority (S8; equal = registration order).
  auto pos = std::find_if(entries_.begin(), entries_.end(),
                          [priority](const Entry& e) { return priority > e.priority; });
  const uint64_t id = next_id_++;
  entries_.insert(pos, Entry{id, std::move(name), priority, std::move(block)});
  return NotifierHandle{id};
}

Result<NotifierHandle> NotifierChain::Register(std::string name, int priority,
                                               NotifierFunction fn) {
  if (!fn) return Error::Invalid("notifier '" + name + "' has no handler");
  return Register(std::move(name), priority, std::make_shared<FunctionNotifier>(std::move(fn)));
}

Status NotifierChain::Unregister(NotifierHandle handle) {
  auto it = std::find_if(entries_.begin(), entries_.end(),
                         [handle](const Entry& e) { return e.id == handle.id; });
  if (it == entries_.end()) {
    return Error{ENOENT, "notifier handle " + std::to_string(handle.id) + " is not registered"};
  }
  entries_.erase(it);
  return OkStatus();
}

bool NotifierChain::IsRegistered(uint64_t id) const {
  return std::any_of(entries_.begin(), entries_.end(),
                     [id](const Entry& e) { return e.id == id; });
}

ChainOutcome NotifierChain::CallChain(abi::MemoryEvent action, const MemoryNotify& arg,
                                      const NotifyContext& ctx) {
  // The walk's list: a copy, so handlers may (un)register freely; the shared_ptrs keep each
  // handler alive through its own call even if it unregisters itself.
  const std::vector<Entry> snapshot = entries_;
  ChainOutcome out;
  for (const Entry& e : snapshot) {
    if (!IsRegistered(e.id)) continue;  // removed by an earlier handler of this walk
    const NotifyResult r = e.block->Call(action, arg, ctx);
    ++out.calls;
    out.final = r;
    out.trace.emplace_back(e.name, r);
    if (StopsChain(r)) {  // NOTIFY_STOP_MASK: BAD (S16) or STOP (S17)
      out.stopped_by = e.name;
      if (r == NotifyResult::kBad) out.veto_reason = e.block->VetoReason();
      break;
    }
  }
  return out;
}

std::vector<std::string> NotifierChain::Names() const {
  std::vector<std::string> names;
  names.reserve(entries_.size());
  for (const Entry& e : entries_) names.push_back(e.name);
  return names;
}

}  // namespace memhp::agent
