// memhpctl — `scenario run FILE` and `scenario compare A.json B.json` (docs/scenarios.md).
//
// run: reads and parses the file (a bad one: exit 2, the error with its line), records the watch
// stream of every VM the scenario names while ctl::ScenarioRunner runs it, then writes the JSON
// report (-o) and the SVG (--svg, the timeline renderer over the recorded events) and exits 0
// when every expect held and every step ran, else 1. compare: both reports read back and
// lined up step by step in one table (ctl/scenario_report.h).
#include <glib.h>
#include <glib/gstdio.h>
#include <sys/stat.h>

#include <set>
#include <string>
#include <vector>

#include "ctl/scenario_file.h"
#include "ctl/scenario_report.h"
#include "ctl/scenario_runner.h"
#include "ctl/timeline_svg.h"
#include "memhpctl/cli_call.h"
#include "memhpctl/commands.h"
#include "memhpctl/scenario_peer.h"
#include "vm/state_dir.h"

namespace memhp::cli {
namespace {

// Reads a regular file of at most `max` bytes.
Result<std::string> ReadBounded(const std::string& path, size_t max) {
  GStatBuf st;
  if (g_stat(path.c_str(), &st) != 0) return Error::FromErrno(errno, "stat", path);
  if (!S_ISREG(st.st_mode)) return Error::Invalid(path + ": not a regular file");
  if (static_cast<uint64_t>(st.st_size) > max) return Error::Invalid(path + ": larger than " + std::to_string(max >> 10) + " KiB");
  g_autofree gchar* text = nullptr;
  gsize length = 0;
  g_autoptr(GError) error = nullptr;
  if (!g_file_get_contents(path.c_str(), &text, &length, &error)) return Error::Invalid(error->message);
  return std::string(text, length);
}

Status WriteFile(const std::string& path, const std::string& text) {
  g_autoptr(GError) error = nullptr;
  if (!g_file_set_contents(path.c_str(), text.data(), static_cast<gssize>(text.size()), &error)) {
    return Error::Invalid(error->message);
  }
  return Status();
}

// Every VM a step names, and the scenario's; the first bad name is an error with its line.
Status CollectVms(const std::vector<ctl::ScenarioStep>& steps, const std::string& vm, std::set<std::string>& vms) {
  for (const ctl::ScenarioStep& step : steps) {
    const std::string name = step.vm.empty() ? vm : step.vm;
    if (!vm::IsValidVmName(name)) {
      return Error::Invalid("line " + std::to_string(step.line) + ": '" + name + "' is not a VM name ([A-Za-z0-9._-], 1 to 32)");
    }
    vms.insert(name);
    if (Status s = CollectVms(step.steps, name, vms); !s.ok()) return s;
  }
  return Status();
}

int RunScenarioFile(const Command& command) {
  const ScenarioOptions& opt = command.scenario;
  const std::string& file = opt.files[0];
  Result<std::string> text = ReadBounded(file, ctl::kMaxScenarioBytes);
  if (!text.ok()) return Fail(command, kExitUsage, "scenario: " + text.error().message);
  Result<ctl::Scenario> scenario = ctl::ParseScenario(*text);
  if (!scenario.ok()) return Fail(command, kExitUsage, "scenario: " + file + ": " + scenario.error().message);
  const std::string vm = scenario->vm.empty() ? command.global.vm : scenario->vm;
  std::set<std::string> vms;
  if (!vm::IsValidVmName(vm)) return Fail(command, kExitUsage, "scenario: " + file + ": '" + vm + "' is not a VM name");
  vms.insert(vm);
  if (Status s = CollectVms(scenario->steps, vm, vms); !s.ok()) {
    return Fail(command, kExitUsage, "scenario: " + file + ": " + s.error().message);
  }
  const std::string root = command.global.state_root.empty() ? vm::DefaultStateRoot() : command.global.state_root;

  WatchRecorder recorder(root, {vms.begin(), vms.end()});
  CliScenarioPeer peer(root);
  ctl::ScenarioRunner runner(peer, vm);
  const ctl::ScenarioRun run = runner.Run(*scenario);
  const std::vector<memhp::v1::WatchEvent> events = recorder.Stop();

  ctl::ReportContext context{file, events.size(), recorder.problems(), opt.svg};
  if (!opt.svg.empty()) {
    if (Status s = WriteFile(opt.svg, ctl::RenderTimelineSvg(events)); !s.ok()) {
      return Fail(command, kExitFailed, "scenario: " + s.error().message);
    }
  }
  const std::string report = ctl::RenderScenarioReport(run, context);
  if (!opt.output.empty()) {
    if (Status s = WriteFile(opt.output, report + "\n"); !s.ok()) {
      return Fail(command, kExitFailed, "scenario: " + s.error().message);
    }
  }
  const int code = ctl::ScenarioExitCode(run);
  const std::string summary = ctl::RenderScenarioSummary(run);
  return PrintAnswer(command, code, summary, report, code ? "an expect failed or a step could not run" : "");
}

int CompareScenarioReports(const Command& command) {
  std::vector<ctl::ReportDigest> digests;
  for (const std::string& file : command.scenario.files) {
    Result<std::string> text = ReadBounded(file, ctl::kMaxReportBytes);
    if (!text.ok()) return Fail(command, kExitFailed, "scenario compare: " + text.error().message);
    Result<ctl::ReportDigest> digest = ctl::ParseScenarioReport(*text);
    if (!digest.ok()) return Fail(command, kExitFailed, "scenario compare: " + file + ": " + digest.error().message);
    digests.push_back(std::move(*digest));
  }
  const ctl::ScolsTable table = ctl::CompareReports(digests[0], digests[1]);
  const size_t differ = ctl::CountDifferences(digests[0], digests[1]);
  const std::string head = FormatText("A: %s (%s)\nB: %s (%s)\n%zu of %zu steps differ\n",
                                      command.scenario.files[0].c_str(), digests[0].name.c_str(),
                                      command.scenario.files[1].c_str(), digests[1].name.c_str(), differ,
                                      table.row_count());
  const std::string json = FormatText("{\"a\": %s, \"b\": %s, \"differing_steps\": %zu, \"table\": %s}",
                                      JsonString(command.scenario.files[0]).c_str(),
                                      JsonString(command.scenario.files[1]).c_str(), differ,
                                      table.Json("steps").c_str());
  return PrintAnswer(command, kExitOk, head + table.Text(ctl::TableStyle{}), json);
}

}  // namespace

int RunScenario(const Command& command) {
  return command.scenario.action == ScenarioAction::kRun ? RunScenarioFile(command) : CompareScenarioReports(command);
}

}  // namespace memhp::cli
