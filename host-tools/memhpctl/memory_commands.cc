// memhpctl — the verbs that reach QEMU or the guest agent through memhpd: qmp, online,
// offline, events. Each sends one ControlRequest and prints the answer: a table for people,
// the proto3 JSON mapping with --json (one object; events: one object per line).
#include <glib.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "ctl/status_view.h"
#include "ctl/terminal_text.h"
#include "memhpctl/cli_call.h"
#include "memhpctl/commands.h"
#include "memhpctl/control_client.h"
#include "vm/state_dir.h"
#include "wire/proto_json.h"

namespace memhp::cli {
namespace {

using namespace std::chrono_literals;

// Sends `request` to the VM's memhpd; prints a failure and returns its exit code, or returns
// kExitOk and fills `response` (cli_call.h).
int Call(const Command& command, memhp::v1::ControlRequest request, std::chrono::milliseconds timeout,
         memhp::v1::ControlResponse* response) {
  return CallMemhpd(command, std::move(request), timeout, response);
}

const char* OutcomeName(memhp::v1::BlockOutcome outcome) {
  const std::string& name = memhp::v1::BlockOutcome_Name(outcome);
  return name.c_str() + std::string("BLOCK_OUTCOME_").size();
}

// "2 of 3 blocks not done: 41 VETOED, 42 FAILED" — the envelope's error of a block op that
// did not do every block.
std::string NotDone(const memhp::v1::BlockOpResult& result) {
  if (result.all_done()) return "";
  std::string which;
  int count = 0;
  for (const auto& b : result.blocks()) {
    const memhp::v1::BlockOutcome o = b.outcome();
    if (o == memhp::v1::BLOCK_OUTCOME_DONE || o == memhp::v1::BLOCK_OUTCOME_ALREADY) continue;
    if (++count <= 8) which += (which.empty() ? "" : ", ") + std::to_string(b.block()) + " " + OutcomeName(o);
  }
  if (count == 0) return "not every block was done";
  return std::to_string(count) + " of " + std::to_string(result.blocks_size()) + " blocks not done: " + which +
         (count > 8 ? ", ..." : "");
}

}  // namespace

int RunQmp(const Command& command) {
  memhp::v1::ControlRequest request;
  request.mutable_qmp()->set_command(command.qmp.command);
  request.mutable_qmp()->set_arguments_json(command.qmp.arguments_json);
  request.mutable_qmp()->set_timeout_ms(command.qmp.timeout_ms);
  memhp::v1::ControlResponse response;
  if (int code = Call(command, request, std::chrono::milliseconds(command.qmp.timeout_ms) + 5s, &response)) return code;
  // QEMU's "return", JSON either way.
  const std::string& answer = response.qmp().return_json();
  return PrintAnswer(command, kExitOk, ctl::EscapeJsonForTerminal(answer) + "\n", answer);
}

int RunBlockOp(const Command& command) {
  const BlockOpOptions& opt = command.block_op;
  memhp::v1::BlockSelection selection;
  if (!opt.selection.blocks.empty()) {
    for (uint32_t id : opt.selection.blocks) selection.mutable_blocks()->add_ids(id);
  } else if (opt.selection.range_size > 0) {
    selection.mutable_range()->set_start(opt.selection.range_start);
    selection.mutable_range()->set_size(opt.selection.range_size);
  } else {
    selection.mutable_amount()->set_node(opt.selection.node);
    selection.mutable_amount()->set_bytes(opt.selection.size);
  }
  memhp::v1::ControlRequest request;
  auto* op = request.mutable_block_op();
  if (command.verb == Verb::kOnline) {
    *op->mutable_online()->mutable_selection() = selection;
    op->mutable_online()->set_target(opt.zone == ZoneChoice::kDefault   ? memhp::v1::ONLINE_TARGET_DEFAULT
                                     : opt.zone == ZoneChoice::kKernel  ? memhp::v1::ONLINE_TARGET_KERNEL
                                     : opt.zone == ZoneChoice::kMovable ? memhp::v1::ONLINE_TARGET_MOVABLE
                                                                        : memhp::v1::ONLINE_TARGET_UNSPECIFIED);
  } else {
    *op->mutable_offline()->mutable_selection() = selection;
    op->mutable_offline()->set_timeout_ms(opt.block_timeout_ms);
    op->mutable_offline()->set_all_or_nothing(opt.all_or_nothing);
  }
  memhp::v1::ControlResponse response;
  if (int code = Call(command, request, 300s, &response)) return code;
  const memhp::v1::BlockOpResult& result = response.block_op();
  const int code = result.all_done() ? kExitOk : kExitFailed;
  if (command.global.json) return PrintAnswer(command, code, "", wire::ProtoToJson(result), NotDone(result));
  std::string text = "  BLOCK  OUTCOME       ZONE     NODE  ERRNO  TIME     DETAIL\n";
  for (const auto& b : result.blocks()) {
    // The vetoer's name and the detail are the guest's words: one line each, escaped.
    const std::string vetoed =
        b.vetoed_by().empty() ? "" : "vetoed by " + ctl::EscapeForTerminal(b.vetoed_by(), ctl::Newlines::kEscape) + ": ";
    text += FormatText("  %-5u  %-12s  %-7s  %-4d  %-5d  %5.1f ms  %s%s\n", b.block(), OutcomeName(b.outcome()),
                       std::string(ctl::FormatZone(b.zone())).c_str(), b.node(), b.errno_value(),
                       static_cast<double>(b.duration_us()) / 1000.0, vetoed.c_str(),
                       ctl::EscapeForTerminal(b.detail(), ctl::Newlines::kEscape).c_str());
  }
  return PrintAnswer(command, code, text, "");
}

int RunEvents(const Command& command) {
  memhp::v1::ControlRequest request;
  request.mutable_status()->set_refresh_inventory(false);
  memhp::v1::ControlResponse response;
  if (int code = Call(command, request, 15s, &response)) return code;
  std::string text;
  std::string json;  // {"events": [...]}
  for (const auto& event : response.status().agent().recent_events()) {
    json += (json.empty() ? "{\"events\": [" : ", ") + wire::ProtoToJson(event);
    if (event.has_gap()) {
      text += FormatText("%6llu  GAP: %llu events lost from seq %llu\n", static_cast<unsigned long long>(event.seq()),
                         static_cast<unsigned long long>(event.gap().count()),
                         static_cast<unsigned long long>(event.gap().first_seq()));
      continue;
    }
    const auto& m = event.memory();
    const std::string zone(ctl::FormatZone(m.zone()));
    const std::string detail = m.detail().empty() ? "" : "  " + ctl::EscapeForTerminal(m.detail(), ctl::Newlines::kEscape);
    // Only the six notifier events carry memory_notify (S10-S13); block add/remove do not.
    if (!m.has_notify()) {
      text += FormatText("%6llu  %-16s block %-4u node %-2d %-7s %-14s%s\n", static_cast<unsigned long long>(event.seq()),
                         memhp::v1::MemoryEventKind_Name(m.kind()).substr(18).c_str(), m.block(), m.node(), zone.c_str(),
                         memhp::v1::EventOrigin_Name(m.origin()).substr(13).c_str(), detail.c_str());
      continue;
    }
    const std::string vetoed =
        m.vetoed_by().empty() ? "" : " vetoed by " + ctl::EscapeForTerminal(m.vetoed_by(), ctl::Newlines::kEscape);
    text += FormatText("%6llu  %-16s block %-4u node %-2d %-7s %-14s pfn %llu+%llu nid_normal %d nid %d%s%s\n",
                       static_cast<unsigned long long>(event.seq()),
                       memhp::v1::MemoryEventKind_Name(m.kind()).substr(18).c_str(), m.block(), m.node(), zone.c_str(),
                       memhp::v1::EventOrigin_Name(m.origin()).substr(13).c_str(),
                       static_cast<unsigned long long>(m.notify().start_pfn()),
                       static_cast<unsigned long long>(m.notify().nr_pages()), m.notify().status_change_nid_normal(),
                       m.notify().status_change_nid(), vetoed.c_str(),
                       m.errno_value() ? (" errno " + std::to_string(m.errno_value())).c_str() : "");
  }
  return PrintAnswer(command, kExitOk, text, json.empty() ? "{\"events\": []}" : json + "]}");
}

}  // namespace memhp::cli
