// memhp — kernel uevent parser (see uevent_parse.h for what is accepted and why).
#include "sysfs/uevent_parse.h"

#include <cerrno>

#include "sysfs/linux_abi.h"
#include "sysfs/sysfs_parse.h"

namespace memhp::agent {
namespace {

Error Malformed(std::string_view why) { return Error::Invalid("uevent: " + std::string(why)); }

}  // namespace

UeventAction UeventActionFromName(std::string_view name) {
  if (name == abi::kActionAdd) return UeventAction::kAdd;
  if (name == abi::kActionRemove) return UeventAction::kRemove;
  if (name == abi::kActionChange) return UeventAction::kChange;
  if (name == abi::kActionMove) return UeventAction::kMove;
  if (name == abi::kActionOnline) return UeventAction::kOnline;
  if (name == abi::kActionOffline) return UeventAction::kOffline;
  if (name == abi::kActionBind) return UeventAction::kBind;
  if (name == abi::kActionUnbind) return UeventAction::kUnbind;
  return UeventAction::kOther;
}

Result<Uevent> ParseUevent(std::string_view buffer) {
  if (buffer.size() > abi::kUeventMaxBytes) {
    Error e = Malformed("buffer of " + std::to_string(buffer.size()) + " bytes is over the limit");
    e.errno_value = EMSGSIZE;
    return e;
  }
  if (buffer.empty() || buffer.back() != '\0') return Malformed("not NUL-terminated");

  // Header: "<action>@<devpath>".
  std::size_t end = buffer.find('\0');
  const std::string_view header = buffer.substr(0, end);
  const std::size_t at = header.find('@');
  if (at == std::string_view::npos || at == 0 || at + 1 >= header.size()) {
    return Malformed("no <action>@<devpath> header");
  }
  const std::string_view header_action = header.substr(0, at);
  const std::string_view header_devpath = header.substr(at + 1);
  if (header_devpath.front() != '/') return Malformed("header devpath is not absolute");

  Uevent ev;
  std::size_t pos = end + 1;
  std::size_t entries = 0;
  while (pos < buffer.size()) {
    end = buffer.find('\0', pos);  // found: the buffer ends in NUL
    const std::string_view entry = buffer.substr(pos, end - pos);
    pos = end + 1;
    if (++entries > abi::kUeventMaxEntries) {
      Error e = Malformed("more than " + std::to_string(abi::kUeventMaxEntries) + " entries");
      e.errno_value = EMSGSIZE;
      return e;
    }
    const std::size_t eq = entry.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      return Malformed("entry without KEY=: \"" + std::string(entry.substr(0, 64)) + "\"");
    }
    auto [it, inserted] =
        ev.env.emplace(std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1)));
    if (!inserted) return Malformed("repeated key " + it->first);
  }

  const auto action = ev.env.find(std::string(abi::kUeventAction));
  if (action == ev.env.end()) return Malformed("no ACTION");
  if (action->second != header_action) return Malformed("ACTION does not match the header");
  const auto devpath = ev.env.find(std::string(abi::kUeventDevpath));
  if (devpath == ev.env.end()) return Malformed("no DEVPATH");
  if (devpath->second != header_devpath) return Malformed("DEVPATH does not match the header");

  ev.action_name = action->second;
  ev.action = UeventActionFromName(ev.action_name);
  ev.devpath = devpath->second;
  if (auto sub = ev.env.find(std::string(abi::kUeventSubsystem)); sub != ev.env.end()) {
    ev.subsystem = sub->second;
  }
  if (auto seq = ev.env.find(std::string(abi::kUeventSeqnum)); seq != ev.env.end()) {
    ev.seqnum = ParseDecU64(seq->second);
    if (!ev.seqnum || seq->second != TrimSpace(seq->second)) return Malformed("bad SEQNUM");
  }
  return ev;
}

std::optional<uint32_t> MemoryBlockIdFromDevpath(std::string_view devpath) {
  return ParseIdAfterPrefix(devpath, abi::kDevpathMemoryPrefix);
}

std::optional<uint32_t> NodeIdFromDevpath(std::string_view devpath) {
  return ParseIdAfterPrefix(devpath, abi::kDevpathNodePrefix);
}

}  // namespace memhp::agent
