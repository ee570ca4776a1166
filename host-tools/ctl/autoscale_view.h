// memhpctl — the autoscaler's state (control.proto AutoscaleState) as text: the answer of
// `memhpctl autoscale` and its line in `status`.
#pragma once

#include <string>

#include "memhp/v1/control.pb.h"

namespace memhp::ctl {

// "autoscale: on vmem0, 0 B..2 GiB step 512 MiB, quiet 60 s; 3 grows, 1 shrink; last: GROW
// 512 MiB -> 1 GiB (PSI some 18.34 % ...)" or "autoscale: off".
[[nodiscard]] std::string RenderAutoscaleLine(const memhp::v1::AutoscaleState& state);

// The verb's answer: the line, and the thresholds on a second one when on.
[[nodiscard]] std::string RenderAutoscaleText(const memhp::v1::AutoscaleState& state);

}  // namespace memhp::ctl
