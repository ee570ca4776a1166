// memhpctl — see autoscale_view.h.
#include "ctl/autoscale_view.h"

#include "ctl/pressure_view.h"
#include "ctl/status_view.h"

namespace memhp::ctl {
namespace {

std::string ActionWord(memhp::v1::AutoscaleAction action) {
  switch (action) {
    case memhp::v1::AUTOSCALE_ACTION_GROW: return "grow";
    case memhp::v1::AUTOSCALE_ACTION_SHRINK: return "shrink";
    case memhp::v1::AUTOSCALE_ACTION_HOLD: return "hold";
    case memhp::v1::AUTOSCALE_ACTION_ESTIMATE: return "estimate";
    default: return "none";
  }
}

}  // namespace

std::string RenderAutoscaleLine(const memhp::v1::AutoscaleState& state) {
  const memhp::v1::AutoscaleCommand& s = state.settings();
  std::string line = "autoscale: ";
  if (!state.on()) {
    line += "off";
    if (state.decisions() == 0) return line;
    line += " (was " + s.device_id() + ")";
  } else {
    line += "on " + s.device_id() + ", " + FormatBytes(s.min_size()) + ".." + FormatBytes(s.max_size()) + " step " +
            FormatBytes(s.step()) + ", quiet " + std::to_string(s.quiet_ms() / 1000) + " s";
  }
  line += "; " + std::to_string(state.grows()) + " grow(s), " + std::to_string(state.shrinks()) + " shrink(s)";
  if (state.has_last()) {
    const memhp::v1::AutoscaleDecision& d = state.last();
    line += "; last: " + ActionWord(d.action());
    if (d.size_target() != d.size_now()) line += " " + FormatBytes(d.size_now()) + " -> " + FormatBytes(d.size_target());
    line += " (" + d.reason() + ")";
  }
  return line;
}

std::string RenderAutoscaleText(const memhp::v1::AutoscaleState& state) {
  std::string text = RenderAutoscaleLine(state) + "\n";
  if (state.on()) {
    const memhp::v1::AutoscaleCommand& s = state.settings();
    text += "grows when PSI some avg10 >= " + FormatCentipercent(s.grow_some_avg10_centipercent()) +
            " or MemAvailable < " + FormatCentipercent(s.grow_available_permille() * 10) +
            " of MemTotal; shrinks only what the dry run says can go\n";
  }
  return text;
}

}  // namespace memhp::ctl
