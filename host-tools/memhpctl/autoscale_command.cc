// memhpctl — `autoscale`: turn memhpd's autoscaler for a virtio-mem device on (with its bounds)
// or off (daemon/autoscale/autoscaler.h, docs/autoscale.md). memhpd answers with the state after
// the change; the decisions then come as "autoscale" notices in `memhpctl watch`.
#include <chrono>
#include <string>

#include "ctl/autoscale_view.h"
#include "memhpctl/cli_call.h"
#include "memhpctl/commands.h"
#include "memhpctl/control_client.h"
#include "wire/proto_json.h"

namespace memhp::cli {

int RunAutoscale(const Command& command) {
  const AutoscaleOptions& opt = command.autoscale;
  memhp::v1::ControlRequest request;
  auto* a = request.mutable_autoscale();
  a->set_off(opt.off);
  a->set_device_id(opt.device_id);
  a->set_min_size(opt.min);
  a->set_max_size(opt.max);
  a->set_step(opt.step);
  a->set_quiet_ms(opt.quiet_ms);
  a->set_grow_some_avg10_centipercent(opt.grow_psi_pct * 100);
  a->set_grow_available_permille(opt.grow_available_pct * 10);
  memhp::v1::ControlResponse response;
  if (const int code = CallMemhpd(command, std::move(request), std::chrono::seconds(30), &response); code != kExitOk) {
    return code;
  }
  if (!response.has_autoscale()) return Fail(command, kExitFailed, "autoscale: memhpd answered without its state");
  if (command.global.json) return PrintAnswer(command, kExitOk, "", wire::ProtoToJson(response.autoscale()));
  return PrintAnswer(command, kExitOk, ctl::RenderAutoscaleText(response.autoscale()), "");
}

}  // namespace memhp::cli
