// dry_run_view — memhpctl unplug --dry-run / resize --dry-run for people: the headline, one row
// per block (its verdict and why), and what the estimate rests on (pure: DryRunResult -> text;
// memhpctl's PrintAnswer escapes the guest's words for the terminal).
#pragma once

#include <string>

#include "memhp/v1/control.pb.h"

namespace memhp::ctl {

// "would-go", "already-offline", "pinned", "reserve", "no-room", "kernel-zone", "not-found",
// "skipped", "busy".
[[nodiscard]] std::string_view FormatVerdict(memhp::v1::EstimateVerdict verdict);

[[nodiscard]] std::string RenderDryRunText(const memhp::v1::DryRunResult& result);

// The exit code: 0 the whole operation would go through, 1 an unplug would be refused, 3 a
// shrink would stop short (as an operation's DONE, REFUSED and PARTIAL).
[[nodiscard]] int DryRunExitCode(const memhp::v1::DryRunResult& result);

}  // namespace memhp::ctl
