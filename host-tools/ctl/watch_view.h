// watch_view — `memhpctl watch`'s output: one JSON object per line per WatchEvent, e.g.
//   {"time_unix_ns":1764093000123456789,"source":"agent","name":"ONLINE","data":{...}}
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
