// memhpctl — pressure_view (see pressure_view.h).
#include "ctl/pressure_view.h"

#include "ctl/status_view.h"

namespace memhp::ctl {

std::string FormatCentipercent(uint32_t centipercent) {
  const std::string hundredths = std::to_string(centipercent % 100);
  return std::to_string(centipercent / 100) + "." + (hundredths.size() == 1 ? "0" : "") + hundredths + "%";
}

std::string RenderPressureLine(const memhp::v1::MemoryPressure& p) {
  std::string out = "pressure: ";
  if (p.psi_available()) {
    out += "some " + FormatCentipercent(p.some().avg10_centipercent()) + " full " +
           FormatCentipercent(p.full().avg10_centipercent()) + " (10 s)";
  } else {
    out += "no PSI in the guest kernel";
  }
  out += ", MemAvailable " + FormatBytes(p.mem_available_bytes()) + " of " + FormatBytes(p.mem_total_bytes()) +
         ", reclaimed " + std::to_string(p.pgsteal()) + " of " + std::to_string(p.pgscan()) + " pages scanned, " +
         std::to_string(p.oom_kill()) + " OOM kill" + (p.oom_kill() == 1 ? "" : "s");
  switch (p.cause()) {
    case memhp::v1::PRESSURE_CAUSE_STALLED: out += " (stalled)"; break;
    case memhp::v1::PRESSURE_CAUSE_RECOVERED: out += " (recovered)"; break;
    default: break;
  }
  return out + "\n";
}

}  // namespace memhp::ctl
