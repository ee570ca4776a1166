// memhp tests — the scenario parser (host-tools/ctl/scenario_file.h): good files become the
// steps they say, bad ones an error naming the line and what is wrong.
#include "ctl/scenario_file.h"

#include <gmock/gmock.h>
#include <glib.h>
#include <gtest/gtest.h>

#include <cstdlib>

namespace memhp::ctl {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr const char* kGood = R"({
  "name": "grow-and-shrink",
  "seed": 7,
  "steps": [
    {"step": "policy", "set": "auto-movable", "ratio_percent": 300},
    {"step": "plug", "label": "grow", "size_mib": 256, "node": 0, "zone": "movable"},
    {"step": "expect", "of": "grow", "outcome": "DONE"},
    {"step": "workload", "action": "start", "name": "fill", "fraction": 0.25, "node": 1},
    {"step": "wait", "until": "all_blocks_online", "timeout_s": 30},
    {"step": "repeat", "times": 3, "steps": [
      {"step": "resize", "device": "vmem0", "min_mib": 128, "max_mib": 512, "align_mib": 2},
      {"step": "wait", "seconds": 1}
    ]},
    {"step": "resize", "label": "shrink", "device": "vmem0", "size_mib": 0, "offline_first": true},
    {"step": "expect", "fraction_unplugged": {"min": 0.5}},
    {"step": "workload", "action": "stop", "name": "fill"},
    {"step": "unplug", "device": "dimm1", "vm": "other"},
    {"step": "expect", "no_audit_violations": true}
  ]
})";

TEST(ScenarioFile, ReadsEveryKindOfStep) {
  const Result<Scenario> s = ParseScenario(kGood);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->name, "grow-and-shrink");
  EXPECT_EQ(s->seed, 7u);
  ASSERT_EQ(s->steps.size(), 11u);
  EXPECT_EQ(s->steps[0].policy.policy, "auto-movable");
  EXPECT_EQ(s->steps[0].policy.ratio_percent, 300u);
  EXPECT_EQ(s->steps[1].kind, StepKind::kPlug);
  EXPECT_EQ(s->steps[1].line, 6);
  EXPECT_EQ(s->steps[1].plug.size_mib, 256u);
  EXPECT_EQ(s->steps[1].plug.zone, ZoneAsk::kMovable);
  EXPECT_EQ(s->steps[2].expect.kind, ExpectKind::kOutcome);
  EXPECT_EQ(s->steps[2].expect.of, "grow");
  EXPECT_EQ(s->steps[3].workload.fraction.value_or(0), 0.25);
  EXPECT_EQ(s->steps[3].workload.node.value_or(-1), 1);
  EXPECT_EQ(s->steps[4].wait.until, WaitUntil::kAllBlocksOnline);
  EXPECT_EQ(s->steps[4].wait.seconds, 30u);
  EXPECT_EQ(s->steps[5].times, 3u);
  ASSERT_EQ(s->steps[5].steps.size(), 2u);
  EXPECT_EQ(s->steps[5].steps[0].line, 11);
  EXPECT_EQ(s->steps[5].steps[0].resize.max_mib, 512u);
  EXPECT_FALSE(s->steps[5].steps[0].resize.size_mib.has_value());
  EXPECT_EQ(s->steps[6].resize.size_mib.value_or(99), 0u);
  EXPECT_TRUE(s->steps[6].resize.offline_first);
  EXPECT_EQ(s->steps[7].expect.min_fraction, 0.5);
  EXPECT_EQ(s->steps[7].expect.max_fraction, 1.0);
  EXPECT_EQ(s->steps[9].vm, "other");
  EXPECT_EQ(s->steps[10].expect.kind, ExpectKind::kNoAuditViolations);
  EXPECT_EQ(UnrolledStepCount(s->steps), 16u);
}

struct BadCase {
  const char* name;
  const char* text;
  const char* error;  // the start of the message
};

// Each bad file, and the error it must give: its line and what is wrong.
const BadCase kBad[] = {
    {"syntax", "{\n  \"name\": \"x\",\n  \"steps\": [\n    {\"step\": \"wait\" \"seconds\": 1}\n  ]\n}", "not JSON: 4:"},
    {"not an object", "[1]", "line 1: the file must hold one JSON object"},
    {"no name", "{\"steps\": []}", "line 1: scenario: \"name\" is required"},
    {"no steps", "{\"name\": \"x\"}", "line 1: scenario: \"steps\" is required"},
    {"empty steps", "{\"name\": \"x\", \"steps\": []}", "line 1: scenario: \"steps\" is empty"},
    {"unknown top member", "{\"name\": \"x\",\n \"stpes\": 1, \"steps\": [{\"step\": \"wait\", \"seconds\": 1}]}",
     "line 1: scenario: unknown member \"stpes\""},
    {"unknown step", "{\"name\": \"x\", \"steps\": [\n\n  {\"step\": \"jump\"}]}", "line 3: step: unknown step \"jump\""},
    {"step not an object", "{\"name\": \"x\", \"steps\": [3]}", "line 1: scenario: step 1 is not an object"},
    {"plug without size", "{\"name\": \"x\", \"steps\": [\n {\"step\": \"plug\", \"node\": 0}]}",
     "line 2: plug: \"size_mib\" is required"},
    {"plug size as string", "{\"name\": \"x\", \"steps\": [\n {\"step\": \"plug\", \"size_mib\": \"1G\", \"node\": 0}]}",
     "line 2: plug: \"size_mib\" must be a whole number"},
    {"plug negative node", "{\"name\": \"x\", \"steps\": [\n {\"step\": \"plug\", \"size_mib\": 128, \"node\": -1}]}",
     "line 2: plug: \"node\" must be a whole number from 0 to 4095"},
    {"plug bad zone", "{\"name\": \"x\", \"steps\": [\n {\"step\": \"plug\", \"size_mib\": 128, \"node\": 0, \"zone\": \"high\"}]}",
     "line 2: plug: \"zone\" must be"},
    {"typo in a step", "{\"name\": \"x\", \"steps\": [\n {\"step\": \"wait\", \"secs\": 1}]}",
     "line 2: wait: give \"seconds\" or \"until\""},
    {"unknown member of a step", "{\"name\": \"x\", \"steps\": [\n {\"step\": \"wait\", \"seconds\": 1, \"x\": 2}]}",
     "line 2: wait: unknown member \"x\""},
    {"wait too long", "{\"name\": \"x\", \"steps\": [\n {\"step\": \"wait\", \"seconds\": 999999}]}",
     "line 2: wait: \"seconds\" must be a whole number from 0 to 3600"},
    {"condition without deadline", "{\"name\": \"x\", \"steps\": [\n {\"step\": \"wait\", \"until\": \"all_blocks_online\"}]}",
     "line 2: wait: a condition needs its deadline"},
    {"resize size and range", "{\"name\": \"x\", \"steps\": [\n {\"step\": \"resize\", \"device\": \"v\", \"size_mib\": 1, \"min_mib\": 1}]}",
     "line 2: resize: give either"},
    {"resize range upside down",
     "{\"name\": \"x\", \"steps\": [\n {\"step\": \"resize\", \"device\": \"v\", \"min_mib\": 9, \"max_mib\": 1}]}",
     "line 2: resize: \"min_mib\" is above \"max_mib\""},
    {"workload page cache",
     "{\"name\": \"x\", \"steps\": [\n {\"step\": \"workload\", \"action\": \"start\", \"memory\": \"pagecache\", \"size_mib\": 8}]}",
     "line 2: workload: \"memory\" must be anon"},
    {"workload fraction 1",
     "{\"name\": \"x\", \"steps\": [\n {\"step\": \"workload\", \"action\": \"start\", \"fraction\": 1}]}",
     "line 2: workload: \"fraction\" must be between 0 and 1"},
    {"workload shell name",
     "{\"name\": \"x\", \"steps\": [\n {\"step\": \"workload\", \"action\": \"start\", \"name\": \"a;rm\", \"size_mib\": 8}]}",
     "line 2: workload: \"name\" may hold"},
    {"expect two things",
     "{\"name\": \"x\", \"steps\": [\n {\"step\": \"expect\", \"outcome\": \"DONE\", \"zone\": \"Movable\"}]}",
     "line 2: expect: give exactly one"},
    {"expect bad outcome", "{\"name\": \"x\", \"steps\": [\n {\"step\": \"expect\", \"outcome\": \"OK\"}]}",
     "line 2: expect: \"outcome\" must be"},
    {"expect of unknown label",
     "{\"name\": \"x\", \"steps\": [\n {\"step\": \"plug\", \"label\": \"a\", \"size_mib\": 128, \"node\": 0},\n"
     " {\"step\": \"expect\", \"of\": \"b\", \"outcome\": \"DONE\"}]}",
     "line 3: expect: \"of\": no operation step labelled \"b\""},
    {"fraction bound out of range",
     "{\"name\": \"x\", \"steps\": [\n {\"step\": \"expect\", \"fraction_unplugged\": {\"min\": 1.5}}]}",
     "line 2: expect: fraction_unplugged \"min\" must be"},
    {"repeat without steps", "{\"name\": \"x\", \"steps\": [\n {\"step\": \"repeat\", \"times\": 2}]}",
     "line 2: repeat: \"steps\" is required"},
    {"repeat too often", "{\"name\": \"x\", \"steps\": [\n {\"step\": \"repeat\", \"times\": 0, \"steps\": []}]}",
     "line 2: repeat: \"times\" must be a whole number from 1 to 1000"},
    {"repeats unroll too far",
     "{\"name\": \"x\", \"steps\": [{\"step\": \"repeat\", \"times\": 1000, \"steps\": [\n"
     " {\"step\": \"repeat\", \"times\": 1000, \"steps\": [{\"step\": \"wait\", \"seconds\": 0}]}]}]}",
     "the repeats unroll to more than 10000 steps"},
    {"policy unknown", "{\"name\": \"x\", \"steps\": [\n {\"step\": \"policy\", \"set\": \"fast\"}]}",
     "line 2: policy: \"set\" must be"},
};

class ScenarioFileBad : public ::testing::TestWithParam<BadCase> {};

TEST_P(ScenarioFileBad, SaysTheLineAndWhatIsWrong) {
  const Result<Scenario> s = ParseScenario(GetParam().text);
  ASSERT_FALSE(s.ok()) << GetParam().name;
  EXPECT_THAT(s.error().message, StartsWith(GetParam().error)) << GetParam().name;
  EXPECT_EQ(s.error().errno_value, EINVAL);
}

INSTANTIATE_TEST_SUITE_P(Cases, ScenarioFileBad, ::testing::ValuesIn(kBad));

TEST(ScenarioFile, RefusesAFileTooLarge) {
  const std::string big(kMaxScenarioBytes + 1, ' ');
  const Result<Scenario> s = ParseScenario(big);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.error().message, HasSubstr("larger than"));
}

TEST(ScenarioFile, EveryShippedScenarioParses) {
  const char* dir = std::getenv("MEMHP_SCENARIOS");
  ASSERT_NE(dir, nullptr) << "meson sets MEMHP_SCENARIOS";
  g_autoptr(GDir) listing = g_dir_open(dir, 0, nullptr);
  ASSERT_NE(listing, nullptr) << dir;
  int parsed = 0;
  while (const char* name = g_dir_read_name(listing)) {
    if (!g_str_has_suffix(name, ".json")) continue;
    g_autofree gchar* path = g_build_filename(dir, name, nullptr);
    g_autofree gchar* text = nullptr;
    ASSERT_TRUE(g_file_get_contents(path, &text, nullptr, nullptr)) << path;
    const Result<Scenario> s = ParseScenario(text);
    EXPECT_TRUE(s.ok()) << name << ": " << (s.ok() ? "" : s.error().message);
    ++parsed;
  }
  EXPECT_GE(parsed, 3);
}

}  // namespace
}  // namespace memhp::ctl
