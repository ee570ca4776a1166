// watch_stream — reads back a recorded `memhpctl --json watch` stream (watch_view.h: one JSON
// object per line) into the WatchEvents memhpd sent, so tools that draw or check a recording
// (timeline_model.h) work on the same values memhpd published.
//
// A recording is a file anyone may hand us, and its strings came from the guest and QEMU: lines
// are bounded (kMaxWatchLineBytes), as is their number (kMaxWatchEvents), and a line that is not
// a watch object is an Error naming its line number. Blank lines are skipped. Pure: text in.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "memhp/v1/control.pb.h"

namespace memhp::ctl {

inline constexpr size_t kMaxWatchLineBytes = size_t{4} << 20;
inline constexpr size_t kMaxWatchEvents = 1'000'000;

// Each line's "vm", "seq", "time_unix_ns", "source", "name" and "data" (kept as compact JSON in
// data_json). time_unix_ns and seq may be numbers or decimal strings; "source" and "name" are
// required.
[[nodiscard]] Result<std::vector<memhp::v1::WatchEvent>> ParseWatchStream(std::string_view text);

}  // namespace memhp::ctl
