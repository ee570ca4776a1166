// memhp vm suite — `memhpctl scenario run` on a booted default VM, with the shipped
// host-tools/scenarios/grow-and-shrink.json: a DIMM and a virtio-mem grow, a workload holding a
// tenth of the guest's memory (memhp-touch through the console), a shrink back to nothing, the
// fraction unplugged expected, seeded resizes repeated. The report is checked against what the
// VM then reports; a scenario whose expect cannot hold exits 1 naming why; a bad file exits 2
// naming its line; compare of a report with itself finds no difference. Figures (each
// operation's duration, the fraction unplugged) are printed, never asserted.
#include <glib.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include <unistd.h>

#include "memhpctl_runner.h"
#include "shared_vm.h"

namespace memhp::vmtest {
namespace {

std::string ScenarioPath(const std::string& name) {
  const char* dir = std::getenv("MEMHP_SCENARIOS");
  return std::string(dir ? dir : "host-tools/scenarios") + "/" + name;
}

std::string WriteTemp(const std::string& name, const std::string& text) {
  const std::string path = std::string(g_get_tmp_dir()) + "/memhp-vm-scenario-" + std::to_string(getpid()) + "-" + name;
  EXPECT_TRUE(g_file_set_contents(path.c_str(), text.c_str(), -1, nullptr));
  return path;
}

std::string ReadText(const std::string& path) {
  g_autofree gchar* text = nullptr;
  if (!g_file_get_contents(path.c_str(), &text, nullptr, nullptr)) return "";
  return text;
}

class Scenario : public SharedVmTest<Scenario> {
 public:
  static constexpr char kVm[] = "scenario";
  static inline std::string report_path;
};

TEST_F(Scenario, GrowAndShrinkRunsEveryStepAndItsExpectsHold) {
  report_path = WriteTemp("report.json", "");
  const std::string svg = WriteTemp("run.svg", "");
  CliRun run = Ctl({"--json", "scenario", "run", ScenarioPath("grow-and-shrink.json"), "-o", report_path, "--svg", svg});
  Json report = ResultOf(run);
  ASSERT_TRUE(report.ok()) << run.out << run.err;
  for (size_t i = 0; i < report.Length("steps"); ++i) {
    const std::string p = "steps." + std::to_string(i);
    std::printf("[step] %s %-8s %-12s %8.3f s  %s%s%s\n", report.String(p + ".path").c_str(),
                report.String(p + ".kind").c_str(), report.String(p + ".label").c_str(),
                static_cast<double>(report.Int(p + ".duration_ns")) / 1e9, report.String(p + ".detail").c_str(),
                report.String(p + ".why").empty() ? "" : " — ", report.String(p + ".why").c_str());
    EXPECT_EQ(report.String(p + ".error"), "") << "step " << report.String(p + ".path");
  }
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_TRUE(report.Bool("ok"));
  EXPECT_EQ(report.Int("expects_failed"), 0);
  // 13 steps before the repeat, 2 x 4 in it.
  ASSERT_EQ(report.Length("steps"), 21u);
  EXPECT_EQ(report.Int("expects_held"), 9);
  // A sample before the first step and after each of the 12 steps that are not expects.
  EXPECT_EQ(report.Length("memory"), 13u);
  // The shrink (step 9): its result as memhpd sent it, the fraction computed from it.
  EXPECT_EQ(report.String("steps.8.label"), "shrink");
  EXPECT_EQ(report.String("steps.8.operation.kind"), "OPERATION_KIND_RESIZE");
  EXPECT_EQ(report.Int("steps.8.size_before"), 1024ll << 20);
  EXPECT_GT(report.Length("steps.8.operation.steps"), 0u);
  JsonNode* fraction = report.At("steps.8.fraction_unplugged");
  ASSERT_NE(fraction, nullptr);
  std::printf("[figure] grow-and-shrink: the shrink of vmem1 with a tenth of memory held gave back %.3f in %.3f s\n",
              json_node_get_double(fraction), static_cast<double>(report.Int("steps.8.duration_ns")) / 1e9);
  // The DIMM's blocks were onlined Movable, as the expect says and the operation's blocks show.
  EXPECT_EQ(report.String("steps.1.operation.blocks.0.zone"), "ZONE_MOVABLE");
  // The memory after the grow (step 5) has vmem1 at 1 GiB; after the last resize at 0.
  bool saw_grown = false;
  for (size_t i = 0; i < report.Length("memory"); ++i) {
    const std::string p = "memory." + std::to_string(i);
    if (report.Int(p + ".after_step") != 5) continue;
    for (size_t d = 0; d < report.Length(p + ".devices"); ++d) {
      const std::string dp = p + ".devices." + std::to_string(d);
      if (report.String(dp + ".id") == "vmem1") saw_grown = report.Int(dp + ".size") == (1024ll << 20);
    }
  }
  EXPECT_TRUE(saw_grown) << "no sample after step 5 shows vmem1 at 1 GiB";
  // What the VM says now agrees with the report's end: vmem1 empty, dimm1 gone.
  Json status = ResultOf(Ctl({"--json", "status", "--no-refresh"}));
  for (size_t d = 0; d < status.Length("devices"); ++d) {
    const std::string p = "devices." + std::to_string(d);
    EXPECT_NE(status.String(p + ".id"), "dimm1");
    if (status.String(p + ".id") == "vmem1") {
      EXPECT_EQ(status.Int(p + ".size"), 0);
    }
  }
  // The file written is the report printed; the SVG is the timeline of the recorded watch.
  Json written(ReadText(report_path));
  ASSERT_TRUE(written.ok());
  EXPECT_EQ(written.Length("steps"), 21u);
  EXPECT_GT(report.Int("watch_events"), 0);
  EXPECT_EQ(report.Length("watch_problems"), 0u);
  const std::string picture = ReadText(svg);
  EXPECT_NE(picture.find("<svg"), std::string::npos);
  EXPECT_NE(picture.find("resize"), std::string::npos) << "the SVG draws no resize";
}

TEST_F(Scenario, AnExpectThatCannotHoldExitsOneAndSaysWhy) {
  const std::string file = WriteTemp("refused.json", R"({
  "name": "refused",
  "steps": [
    {"step": "resize", "label": "too-big", "device": "vmem1", "size_mib": 1048576},
    {"step": "expect", "of": "too-big", "outcome": "DONE"}
  ]
})");
  CliRun run = Ctl({"--json", "scenario", "run", file});
  EXPECT_EQ(run.exit_code, 1) << run.out << run.err;
  Json report = ResultOf(run);
  ASSERT_TRUE(report.ok()) << run.out;
  EXPECT_FALSE(report.Bool("ok"));
  EXPECT_EQ(report.Int("expects_failed"), 1);
  EXPECT_FALSE(report.Bool("steps.1.held"));
  EXPECT_NE(report.String("steps.1.why").find("ended REFUSED"), std::string::npos) << report.String("steps.1.why");
}

TEST_F(Scenario, ABadFileExitsTwoNamingItsLineAndRunsNothing) {
  const std::string file = WriteTemp("bad.json", "{\"name\": \"bad\", \"steps\": [\n  {\"step\": \"resize\", \"device\": \"vmem1\"}\n]}");
  CliRun run = Ctl({"scenario", "run", file});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("line 2: resize: give either"), std::string::npos) << run.err;
}

TEST_F(Scenario, CompareOfAReportWithItselfFindsNoDifference) {
  ASSERT_FALSE(report_path.empty()) << "runs after GrowAndShrinkRunsEveryStepAndItsExpectsHold";
  CliRun run = Ctl({"--json", "scenario", "compare", report_path, report_path});
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
  Json result = ResultOf(run);
  EXPECT_EQ(result.Int("differing_steps"), 0);
  EXPECT_EQ(result.Length("table.steps"), 21u);
  CliRun text = Ctl({"scenario", "compare", report_path, report_path});
  EXPECT_NE(text.out.find("0 of 21 steps differ"), std::string::npos) << text.out;
}

}  // namespace
}  // namespace memhp::vmtest
