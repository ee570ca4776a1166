// watch_view — `memhpctl watch`'s output: one JSON object per line per WatchEvent, e.g.
//   {"vm":"default","seq":7,"time_unix_ns":1764093000123456789,"source":"agent","name":"ONLINE","data":{...}}
// Both "vm" and "seq" are memhpd's (WatchEvent.vm, .seq): "vm" names the VM whose memhpd sent it,
// so the streams of several VMs can be merged; "seq" numbers the events memhpd published to this
// stream from 1. A watcher that falls behind is dropped: the event it lost keeps its number, so
// the last line, a "watch_dropped" notice, comes after a gap and names the first lost seq
// (daemon/watch_hub.h); a merged or cut recording shows where lines are missing the same way.
// "data" is the event's data_json embedded as a JSON value (an object), never as a string, so a
// script reads `.data.block` directly. time_unix_ns is a JSON number (it fits: JSON parsers that
// keep 64-bit integers read it exactly; others lose only the last nanoseconds).
#pragma once

#include <string>

#include "memhp/v1/control.pb.h"

namespace memhp::ctl {

// One line, without the newline. data_json that is empty becomes {}; data_json that does not
// parse as JSON is kept as {"unparsed": "<text>"} rather than breaking the line.
[[nodiscard]] std::string RenderWatchLine(const memhp::v1::WatchEvent& event);

}  // namespace memhp::ctl
