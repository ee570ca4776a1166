// operation_view — how memhpctl shows an operation (plug, unplug, resize): its result for people,
// the one progress line on a terminal, and the exit code its outcome means. Pure functions over
// control.proto's OperationResult / OperationProgress; no I/O. (JSON: wire/proto_json.h.)
//
// The result for people is a headline an operator can act on —
//   "plugged dimm1: 256 MiB on node 1 at 0x240000000, 2 blocks online in Movable, 1.4 s"
//   "unplug refused: block 37 busy (EBUSY) — nothing changed"
// — then the per-block table (the agent's answers) and the steps with their durations.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "memhp/v1/control.pb.h"

namespace memhp::ctl {

// The exit codes of memhpctl/cli_args.h, by outcome (control.proto OperationOutcome): DONE 0;
// REFUSED, FAILED (and an outcome this build does not know) 1; TIMED_OUT, PARTIAL 3.
[[nodiscard]] int OperationExitCode(memhp::v1::OperationOutcome outcome);

// The exit code for a request memhpd answered with an error instead of a result: TIMEOUT 3,
// anything else 1 (the command line was fine — memhpd or the guest said no; kExitUsage stays
// for what memhpctl itself rejects before asking).
[[nodiscard]] int ErrorExitCode(memhp::v1::ErrorCode code);

// The headline alone, without a trailing newline.
[[nodiscard]] std::string RenderOperationHeadline(const memhp::v1::OperationResult& result);

// The headline, the blocks table (when there are blocks), the steps table (when there are
// steps), and the underlying error (when set). Ends with "\n".
[[nodiscard]] std::string RenderOperationText(const memhp::v1::OperationResult& result);

// One progress line, no newline: "plug dimm1: online 2/4 blocks (128 MiB of 256 MiB) 1.2 s".
// `verb` and `device` are what the user asked (device may be "": memhpd picks it).
[[nodiscard]] std::string RenderProgressLine(std::string_view verb, std::string_view device,
                                             const memhp::v1::OperationProgress& progress,
                                             double elapsed_s);

// "420 ms", "3.5 ms", "1.4 s", "75.0 s".
[[nodiscard]] std::string FormatDurationUs(uint64_t microseconds);

// "EBUSY" for EBUSY, "errno 4242" for a number this libc does not name, "" for 0.
[[nodiscard]] std::string FormatErrno(int errno_value);

}  // namespace memhp::ctl
