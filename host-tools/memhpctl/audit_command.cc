// memhpctl — `audit`: the memhp-audit plugin's report through memhpd, which owns the plugin's
// control socket. --arm / --disarm change instrumentation first; the report that
// follows already reflects it (the plugin answers in order).
#include <glib.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "ctl/audit_view.h"
#include "memhpctl/cli_call.h"
#include "memhpctl/commands.h"
#include "memhpctl/control_client.h"
#include "vm/state_dir.h"

namespace memhp::cli {

int RunAudit(const Command& command) {
  memhp::v1::ControlRequest request;
  request.mutable_audit()->set_arm(command.audit.arm);
  request.mutable_audit()->set_disarm(command.audit.disarm);
  memhp::v1::ControlResponse response;
  if (const int code = CallMemhpd(command, std::move(request), std::chrono::seconds(20), &response); code != kExitOk) {
    return code;
  }
  if (!response.has_audit()) return Fail(command, kExitFailed, "memhpd answered without a report");
  const memhp::v1::AuditReport& report = response.audit();
  if (command.global.json) return PrintAnswer(command, kExitOk, "", ctl::RenderAuditJson(report));
  return PrintAnswer(command, kExitOk, ctl::RenderAuditText(report), "");
}

}  // namespace memhp::cli
