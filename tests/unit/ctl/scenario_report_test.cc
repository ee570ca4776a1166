// memhp tests — the scenario report and compare (host-tools/ctl/scenario_report.h): a run
// written as JSON reads back; two reports line up by step and say what differs.
#include "ctl/scenario_report.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <json-glib/json-glib.h>

namespace memhp::ctl {
namespace {

using ::testing::HasSubstr;

ScenarioRun SomeRun(memhp::v1::OperationOutcome outcome, double fraction, bool held, uint64_t ns) {
  ScenarioRun run;
  run.name = "grow-and-shrink";
  run.duration_ns = 5'000'000'000;
  StepRecord resize;
  resize.index = 1;
  resize.path = "1";
  resize.kind = StepKind::kResize;
  resize.label = "shrink";
  resize.duration_ns = ns;
  resize.operation.emplace();
  resize.operation->set_outcome(outcome);
  resize.operation->set_size_reached(256u << 20);
  resize.size_before = 1024u << 20;
  resize.fraction_unplugged = fraction;
  StepRecord expect;
  expect.index = 2;
  expect.path = "2";
  expect.kind = StepKind::kExpect;
  expect.held = held;
  expect.why = held ? "fraction unplugged 1" : "fraction unplugged 0.5";
  run.steps = {resize, expect};
  (held ? run.expects_held : run.expects_failed) = 1;
  MemorySample sample;
  sample.after_step = 1;
  sample.mem_total_bytes = 2u << 30;
  sample.zones.push_back({0, "Movable", 1u << 30, 1u << 30, 512u << 20});
  run.memory = {sample};
  return run;
}

TEST(ScenarioReport, ReadsBackWhatItWrote) {
  const std::string json = RenderScenarioReport(SomeRun(memhp::v1::OPERATION_OUTCOME_DONE, 1.0, true, 2'000'000'000),
                                                {"s.json", 17, {}, "s.svg"});
  EXPECT_THAT(json, HasSubstr("\"ok\":true"));
  EXPECT_THAT(json, HasSubstr("\"outcome\":\"OPERATION_OUTCOME_DONE\""));
  EXPECT_THAT(json, HasSubstr("\"watch_events\":17"));
  EXPECT_THAT(json, HasSubstr("\"zone\":\"Movable\""));
  const Result<ReportDigest> d = ParseScenarioReport(json);
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->name, "grow-and-shrink");
  ASSERT_EQ(d->steps.size(), 2u);
  EXPECT_EQ(d->steps[0].outcome, "DONE");
  EXPECT_EQ(d->steps[0].duration_ns, 2'000'000'000u);
  EXPECT_DOUBLE_EQ(d->steps[0].fraction_unplugged.value_or(-1), 1.0);
  EXPECT_EQ(d->steps[1].held, true);
}

TEST(ScenarioReport, CompareMarksWhatDiffersNotADurationAlone) {
  const auto a = ParseScenarioReport(RenderScenarioReport(SomeRun(memhp::v1::OPERATION_OUTCOME_DONE, 1.0, true, 2'000'000'000), ReportContext{}));
  const auto same = ParseScenarioReport(RenderScenarioReport(SomeRun(memhp::v1::OPERATION_OUTCOME_DONE, 1.0, true, 3'500'000'000), ReportContext{}));
  const auto b = ParseScenarioReport(RenderScenarioReport(SomeRun(memhp::v1::OPERATION_OUTCOME_PARTIAL, 0.5, false, 9'000'000'000), ReportContext{}));
  ASSERT_TRUE(a.ok() && same.ok() && b.ok());
  EXPECT_EQ(CountDifferences(*a, *same), 0u);
  EXPECT_EQ(CountDifferences(*a, *b), 2u);
  const std::string text = CompareReports(*a, *b).Text(TableStyle{});
  EXPECT_THAT(text, HasSubstr("DELTA-S"));
  EXPECT_THAT(text, HasSubstr(" 7.000"));
  EXPECT_THAT(text, HasSubstr("outcome,fraction"));
  EXPECT_THAT(text, HasSubstr("FAILED"));
  const std::string json = CompareReports(*a, *b).Json("steps");
  EXPECT_THAT(json, HasSubstr("\"a-outcome\""));
  g_autoptr(JsonParser) parser = json_parser_new();
  EXPECT_TRUE(json_parser_load_from_data(parser, json.c_str(), -1, nullptr)) << json;
}

TEST(ScenarioReport, CompareShowsStepsOnlyOneReportHas) {
  ScenarioRun shorter = SomeRun(memhp::v1::OPERATION_OUTCOME_DONE, 1.0, true, 1);
  shorter.steps.pop_back();
  const auto a = ParseScenarioReport(RenderScenarioReport(shorter, ReportContext{}));
  const auto b = ParseScenarioReport(RenderScenarioReport(SomeRun(memhp::v1::OPERATION_OUTCOME_DONE, 1.0, true, 1), ReportContext{}));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_THAT(CompareReports(*a, *b).Text(TableStyle{}), HasSubstr("only in B"));
}

TEST(ScenarioReport, RefusesWhatIsNotAReport) {
  for (const char* text : {"", "[]", "{\"steps\": []}", "{\"scenario\": \"x\", \"steps\": 3}", "{\"scenario\": \"x\", \"steps\": [1]}"}) {
    EXPECT_FALSE(ParseScenarioReport(text).ok()) << text;
  }
}

}  // namespace
}  // namespace memhp::ctl
