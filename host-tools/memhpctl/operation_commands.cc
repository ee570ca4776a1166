// memhpctl — the operation verbs: plug, unplug, resize, policy, zones, watch.
//
// plug, unplug and resize are transactions in memhpd with a clear end (control.proto
// OperationOutcome); memhpctl sends one request, shows memhpd's progress on one rewritten stderr
// line when stderr is a terminal, and prints the result: ctl/operation_view.h for people, the
// OperationResult as proto JSON with --json. The exit code follows the outcome (DONE 0,
// REFUSED/FAILED 1, TIMED_OUT/PARTIAL 3) or, when memhpd answered with an error, its code
// (TIMEOUT 3, anything else 1). watch prints one JSON object per line until interrupted.
#include <signal.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <optional>
#include <string>

#include <glib.h>

#include "ctl/dry_run_view.h"
#include "ctl/operation_view.h"
#include "ctl/terminal_text.h"
#include "ctl/watch_view.h"
#include "ctl/zone_view.h"
#include "memhpctl/cli_call.h"
#include "memhpctl/commands.h"
#include "memhpctl/control_client.h"
#include "memhpctl/progress_line.h"
#include "vm/state_dir.h"
#include "wire/proto_json.h"

namespace memhp::cli {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Shows an operation's progress on the one progress line (progress_line.h).
class OperationProgressLine {
 public:
  OperationProgressLine(const Command& command, std::string verb, std::string device)
      : line_(command), verb_(std::move(verb)), device_(std::move(device)) {}
  void Show(const memhp::v1::OperationProgress& progress) {
    line_.Show(ctl::RenderProgressLine(verb_, device_, progress, line_.Elapsed()));
  }
  void Clear() { line_.Clear(); }

 private:
  ProgressLine line_;
  std::string verb_;
  std::string device_;
};

// Sends `request`, waits for the final answer (progress shown meanwhile). Returns kExitOk and
// fills `response`, or prints the failure and returns its exit code.
int Call(const Command& command, memhp::v1::ControlRequest request, std::chrono::milliseconds timeout,
         OperationProgressLine* progress, memhp::v1::ControlResponse* response) {
  const int code = CallMemhpd(command, std::move(request), timeout, response,
                              [progress](const memhp::v1::OperationProgress& p) {
                                if (progress) progress->Show(p);
                              },
                              [progress] {
                                if (progress) progress->Clear();
                              });
  return code;
}

memhp::v1::OnlineTarget TargetOf(ZoneChoice zone) {
  switch (zone) {
    case ZoneChoice::kDefault: return memhp::v1::ONLINE_TARGET_DEFAULT;
    case ZoneChoice::kKernel: return memhp::v1::ONLINE_TARGET_KERNEL;
    case ZoneChoice::kMovable: return memhp::v1::ONLINE_TARGET_MOVABLE;
    case ZoneChoice::kPolicy: break;
  }
  return memhp::v1::ONLINE_TARGET_UNSPECIFIED;
}

// Runs one operation request and prints its OperationResult.
int RunOperation(const Command& command, memhp::v1::ControlRequest request, const char* verb,
                 const std::string& device, uint32_t timeout_ms) {
  OperationProgressLine progress(command, verb, device);
  memhp::v1::ControlResponse response;
  // memhpd bounds the operation itself; the margin covers the answer's way back. Progress
  // restarts this wait (control_client.h), so an operation queued behind others is not cut off.
  const auto wait = std::chrono::milliseconds(timeout_ms) + 30s;
  if (int code = Call(command, std::move(request), wait, &progress, &response)) return code;
  if (!response.has_operation()) return Fail(command, kExitFailed, std::string(verb) + ": memhpd answered without a result");
  const memhp::v1::OperationResult& result = response.operation();
  const int code = ctl::OperationExitCode(result.outcome());
  if (command.global.json) {
    // Not done: the headline says why ("unplug refused: block 37 busy (EBUSY) ...").
    return PrintAnswer(command, code, "", wire::ProtoToJson(result), ctl::RenderOperationHeadline(result));
  }
  return PrintAnswer(command, code, ctl::RenderOperationText(result), "");
}

// unplug --dry-run / resize --dry-run: memhpd's estimate, printed; the exit code says whether
// the whole operation would go through (dry_run_view.h).
int RunDryRun(const Command& command, memhp::v1::DryRunCommand dry_run, const char* verb) {
  memhp::v1::ControlRequest request;
  *request.mutable_dry_run() = std::move(dry_run);
  memhp::v1::ControlResponse response;
  if (int code = Call(command, std::move(request), 30s, nullptr, &response)) return code;
  if (!response.has_dry_run()) return Fail(command, kExitFailed, std::string(verb) + ": memhpd answered without an estimate");
  const memhp::v1::DryRunResult& result = response.dry_run();
  const int code = ctl::DryRunExitCode(result);
  if (command.global.json) {
    return PrintAnswer(command, code, "", wire::ProtoToJson(result), result.detail());
  }
  return PrintAnswer(command, code, ctl::RenderDryRunText(result), "");
}

// Set by SIGINT/SIGTERM while `watch` runs; ControlClient::Stream polls it.
volatile std::sig_atomic_t g_watch_stop = 0;

void OnStopSignal(int) { g_watch_stop = 1; }

}  // namespace

int RunPlug(const Command& command) {
  const PlugOptions& opt = command.plug;
  memhp::v1::ControlRequest request;
  auto* plug = request.mutable_plug();
  plug->set_device_id(opt.device_id);
  plug->set_size(opt.size);
  plug->set_node(opt.node);
  plug->set_target(TargetOf(opt.zone));
  plug->set_timeout_ms(opt.timeout_ms);
  return RunOperation(command, std::move(request), "plug", opt.device_id, opt.timeout_ms ? opt.timeout_ms : 60'000);
}

int RunUnplug(const Command& command) {
  const UnplugOptions& opt = command.unplug;
  if (opt.dry_run) {
    memhp::v1::DryRunCommand dry_run;
    dry_run.set_kind(memhp::v1::OPERATION_KIND_UNPLUG);
    dry_run.set_device_id(opt.device_id);
    return RunDryRun(command, std::move(dry_run), "unplug");
  }
  memhp::v1::ControlRequest request;
  auto* unplug = request.mutable_unplug();
  unplug->set_device_id(opt.device_id);
  unplug->set_force(opt.force);
  unplug->set_timeout_ms(opt.timeout_ms);
  unplug->set_block_timeout_ms(opt.block_timeout_ms);
  return RunOperation(command, std::move(request), "unplug", opt.device_id, opt.timeout_ms ? opt.timeout_ms : 120'000);
}

int RunResize(const Command& command) {
  const ResizeOptions& opt = command.resize;
  if (opt.dry_run) {
    memhp::v1::DryRunCommand dry_run;
    dry_run.set_kind(memhp::v1::OPERATION_KIND_RESIZE);
    dry_run.set_device_id(opt.device_id);
    dry_run.set_requested_size(opt.size);
    dry_run.set_offline_first(opt.offline_first);
    return RunDryRun(command, std::move(dry_run), "resize");
  }
  memhp::v1::ControlRequest request;
  auto* resize = request.mutable_resize();
  resize->set_device_id(opt.device_id);
  resize->set_requested_size(opt.size);
  resize->set_offline_first(opt.offline_first);
  resize->set_timeout_ms(opt.timeout_ms);
  return RunOperation(command, std::move(request), "resize", opt.device_id, opt.timeout_ms ? opt.timeout_ms : 120'000);
}

int RunPolicy(const Command& command) {
  memhp::v1::ControlRequest request;
  auto* set = request.mutable_policy()->mutable_set();
  set->set_policy(command.policy.policy);
  set->set_movable_ratio_percent(command.policy.ratio_percent);
  memhp::v1::ControlResponse response;
  if (int code = Call(command, std::move(request), 30s, nullptr, &response)) return code;
  if (!response.has_policy()) return Fail(command, kExitFailed, "policy: memhpd answered without a policy");
  if (command.global.json) return PrintAnswer(command, kExitOk, "", wire::ProtoToJson(response.policy()));
  return PrintAnswer(command, kExitOk, ctl::RenderPolicyText(response.policy()), "");
}

int RunZones(const Command& command) {
  memhp::v1::ControlRequest request;
  request.mutable_zones();
  memhp::v1::ControlResponse response;
  if (int code = Call(command, std::move(request), 30s, nullptr, &response)) return code;
  if (!response.has_zones()) return Fail(command, kExitFailed, "zones: memhpd answered without a zone report");
  if (command.global.json) return PrintAnswer(command, kExitOk, "", wire::ProtoToJson(response.zones()));
  return PrintAnswer(command, kExitOk, ctl::RenderZonesText(response.zones()), "");
}

int RunWatch(const Command& command) {
  // No SA_RESTART: the signal interrupts poll() at once (Stream also re-checks every 200 ms).
  struct sigaction action {};
  action.sa_handler = OnStopSignal;
  sigemptyset(&action.sa_mask);
  for (int signo : {SIGINT, SIGTERM}) {
    // Without the handler Ctrl-C would kill watch instead of ending it with exit 0.
    if (sigaction(signo, &action, nullptr) != 0) {
      return Fail(command, kExitFailed, std::string("watch: sigaction: ") + g_strerror(errno));
    }
  }

  memhp::v1::ControlRequest request;
  request.mutable_watch()->set_replay_recent(command.watch.replay_recent);
  ControlClient client(StateOf(command).control_socket());
  bool qemu_gone = false;
  bool dropped = false;
  std::optional<memhp::v1::Error> error;
  const ControlClient::StreamResult end = client.Stream(
      std::move(request),
      [&](const memhp::v1::ControlResponse& response) {
        if (response.has_error()) {
          error = response.error();
          return false;
        }
        if (!response.has_watch_event()) return true;  // nothing else is promised; skip it
        const memhp::v1::WatchEvent& event = response.watch_event();
        // The stream is watch's whole output, so --quiet leaves it; escaped like every answer.
        const std::string line = ctl::EscapeJsonForTerminal(ctl::RenderWatchLine(event));
        if (std::printf("%s\n", line.c_str()) < 0 || std::fflush(stdout) != 0) {
          return false;  // e.g. `memhpctl watch | head`: the reader is done
        }
        // memhpd's notices (daemon/watch_hub.h): QEMU ended (memhpd ends next), or this watcher
        // fell too far behind and was dropped.
        if (event.source() == "memhpd" && event.name() == "qemu_gone") qemu_gone = true;
        if (event.source() == "memhpd" && event.name() == "watch_dropped") {
          dropped = true;
          return false;
        }
        return true;
      },
      &g_watch_stop);
  if (error) return Fail(command, ctl::ErrorExitCode(error->code()), "watch: " + error->message());
  if (dropped) return Fail(command, kExitFailed, "watch: memhpd dropped this watcher (it read too slowly)");
  switch (end.end) {
    case ControlClient::StreamEnd::kStopped:
    case ControlClient::StreamEnd::kCallbackDone:
      return kExitOk;
    case ControlClient::StreamEnd::kClosed:
      if (qemu_gone) return kExitOk;
      return Fail(command, kExitFailed, "watch: " + end.message);
    case ControlClient::StreamEnd::kError:
      break;
  }
  return Fail(command, kExitFailed, "VM '" + command.global.vm + "': " + end.message);
}

}  // namespace memhp::cli
