// memhpctl — how every verb finds its VM, reaches memhpd and reports a failure, in one place so
// the JSON and the exit codes are the same for all verbs (README, "Exit codes").
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include "memhp/v1/control.pb.h"
#include "memhpctl/cli_args.h"
#include "memhpctl/control_client.h"
#include "vm/state_dir.h"

namespace memhp::cli {

// The VM's state folder: <--state-root or $MEMHP_STATE or /var/lib/memhp>/<--vm>.
[[nodiscard]] vm::StateDir StateOf(const Command& command);

// `text` as a JSON string literal, quotes included (UTF-8 kept, control characters escaped).
[[nodiscard]] std::string JsonString(std::string_view text);

// Prints a failure — with --json the envelope {"ok": false, "exit_code", "error", "result": null}
// on stdout (json_envelope.h), else "memhpctl: MESSAGE" on stderr — and returns `code`. The message may quote the guest or
// QEMU: it is escaped for the terminal either way (ctl/terminal_text.h).
int Fail(const Command& command, int code, const std::string& message);

// printf into a string (the answers are built whole, then printed by PrintAnswer).
[[nodiscard]] std::string FormatText(const char* format, ...) __attribute__((format(printf, 1, 2)));

// Prints a verb's answer and returns `code` (its exit code: an operation that failed still has
// an answer). With --json: the envelope (json_envelope.h) with `json`, one JSON value, as its
// result and `error` (why, when code is not 0); else `text` for people, unless --quiet.
// Both are escaped for the terminal here (ctl/terminal_text.h), the one place answers reach
// stdout, so no guest or QEMU string reaches it raw.
int PrintAnswer(const Command& command, int code, std::string_view text, std::string_view json,
                std::string_view error = "");

// Sends `request` to the VM's memhpd and waits for the final answer (progress responses go to
// `on_progress`). Returns kExitOk and fills `response`, or prints the failure (Fail) and returns
// its exit code. `on_answer` runs once the waiting is over, before anything is printed (e.g. to
// clear a progress line).
int CallMemhpd(const Command& command, memhp::v1::ControlRequest request, std::chrono::milliseconds timeout,
               memhp::v1::ControlResponse* response, const ControlClient::ProgressFn& on_progress = nullptr,
               const std::function<void()>& on_answer = nullptr);

}  // namespace memhp::cli
