// timeline_svg — a Timeline (timeline_model.h) drawn as SVG swimlanes: a time axis, one row per
// operation (its bar, its steps inside it), a row of QMP event marks, a row of memhpd's notices,
// one lane per memory block with its state over time coloured by zone (offline grey; going
// online/offline lighter; online in the zone's colour), veto marks on the block's lane, and a
// legend. Pure: values in, one SVG document out; a person looks at it, a test counts it.
//
// Every text from the stream (device ids, QMP event names, veto reasons: the guest's and QEMU's
// words) is made valid UTF-8 and XML-escaped, and is bounded in length, so a hostile recording
// cannot inject markup. The elements a test counts carry classes: "lane-op" (one per operation
// row), "op-bar", "op-step", "lane-block" (with data-block="N"), "block-span", "qmp-mark",
// "notice-mark", "veto-mark".
#pragma once

#include <string>
#include <vector>

#include "ctl/timeline_model.h"
#include "memhp/v1/control.pb.h"

namespace memhp::ctl {

[[nodiscard]] std::string RenderTimelineSvg(const Timeline& timeline);
// BuildTimeline then RenderTimelineSvg: the picture of a stream of watch events.
[[nodiscard]] std::string RenderTimelineSvg(const std::vector<memhp::v1::WatchEvent>& events);

// Text for an SVG/XML document: invalid UTF-8 replaced, the characters XML 1.0 forbids (C0
// controls other than tab and newline) dropped, & < > " ' escaped; at most `max_chars` characters
// (then "…").
[[nodiscard]] std::string XmlText(std::string_view text, size_t max_chars);

}  // namespace memhp::ctl
