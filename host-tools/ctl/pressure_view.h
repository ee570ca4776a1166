// memhpctl — the guest's memory pressure (agent.proto MemoryPressure) as one line of text.
#pragma once

#include <string>

#include "memhp/v1/agent.pb.h"

namespace memhp::ctl {

// "pressure: some 3.25% full 0.50% (10 s), MemAvailable 312 MiB of 1 GiB, reclaimed 1024 of
// 2048 pages scanned, 0 OOM kills (stalled)". PSI's 10-second averages: what an operator or an
// autoscaler acts on; the 60 and 300 s ones are in --json. Without PSI it says so.
[[nodiscard]] std::string RenderPressureLine(const memhp::v1::MemoryPressure& pressure);

// 325 -> "3.25%".
[[nodiscard]] std::string FormatCentipercent(uint32_t centipercent);

}  // namespace memhp::ctl
