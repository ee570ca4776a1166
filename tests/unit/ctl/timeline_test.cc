// Unit tests for `memhpctl timeline`'s library: reading a recorded watch stream back
// (watch_stream.h), what it says happened (timeline_model.h), and the SVG's geometry
// (timeline_svg.h): one row per operation, one lane per block that changed, marks, escaping.
#include <glib.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ctl/timeline_model.h"
#include "ctl/timeline_svg.h"
#include "ctl/watch_stream.h"

namespace memhp::ctl {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

// A plug of dimm1 (two blocks, the agent onlines them into Movable), an unplug that the guest
// vetoes once on block 41 and then an unplug that goes through (DEVICE_DELETED, the blocks
// removed), as `memhpctl --json watch` records them: memhpd's "watching" first, after one replayed
// agent event.
constexpr const char* kRecording = R"(
{"vm":"lab","seq":1,"time_unix_ns":1000000000000,"source":"agent","name":"ONLINE","data":{"seq":"3","memory":{"kind":"MEMORY_EVENT_KIND_ONLINE","block":7,"zone":"ZONE_NORMAL"}}}
{"vm":"lab","seq":2,"time_unix_ns":1000000000000,"source":"memhpd","name":"watching","data":{"replayed":1,"watchers":1}}
{"vm":"lab","seq":3,"time_unix_ns":1000100000000,"source":"operation","name":"requested","data":{"id":"5","plug":{"device_id":"dimm1","size":"268435456","node":1}}}
{"vm":"lab","seq":4,"time_unix_ns":1000150000000,"source":"qmp","name":"ACPI_DEVICE_OST","data":{"info":{"device":"dimm1","source":1,"status":0}}}
{"vm":"lab","seq":5,"time_unix_ns":1000200000000,"source":"agent","name":"BLOCK_ADDED","data":{"seq":"4","memory":{"kind":"MEMORY_EVENT_KIND_BLOCK_ADDED","block":40}}}
{"vm":"lab","seq":6,"time_unix_ns":1000200000000,"source":"agent","name":"BLOCK_ADDED","data":{"seq":"5","memory":{"kind":"MEMORY_EVENT_KIND_BLOCK_ADDED","block":41}}}
{"vm":"lab","seq":7,"time_unix_ns":1000250000000,"source":"agent","name":"GOING_ONLINE","data":{"seq":"6","memory":{"kind":"MEMORY_EVENT_KIND_GOING_ONLINE","block":40,"zone":"ZONE_MOVABLE"}}}
{"vm":"lab","seq":8,"time_unix_ns":1000300000000,"source":"agent","name":"ONLINE","data":{"seq":"7","memory":{"kind":"MEMORY_EVENT_KIND_ONLINE","block":40,"zone":"ZONE_MOVABLE"}}}
{"vm":"lab","seq":9,"time_unix_ns":1000350000000,"source":"agent","name":"ONLINE","data":{"seq":"8","memory":{"kind":"MEMORY_EVENT_KIND_ONLINE","block":41,"zone":"ZONE_MOVABLE"}}}
{"vm":"lab","seq":10,"time_unix_ns":1000400000000,"source":"operation","name":"end","data":{"operation_id":"1","kind":"OPERATION_KIND_PLUG","outcome":"OPERATION_OUTCOME_DONE","device_id":"dimm1","steps":[{"name":"object-add","duration_us":"20000","ok":true},{"name":"device_add","duration_us":"80000","ok":true},{"name":"online","duration_us":"150000","ok":true}],"duration_us":"300000"}}
{"vm":"lab","seq":11,"time_unix_ns":1001000000000,"source":"operation","name":"requested","data":{"id":"6","unplug":{"device_id":"dimm1"}}}
{"vm":"lab","seq":12,"time_unix_ns":1001100000000,"source":"agent","name":"GOING_OFFLINE","data":{"seq":"9","memory":{"kind":"MEMORY_EVENT_KIND_GOING_OFFLINE","block":41,"zone":"ZONE_MOVABLE"}}}
{"vm":"lab","seq":13,"time_unix_ns":1001200000000,"source":"agent","name":"CANCEL_OFFLINE","data":{"seq":"10","memory":{"kind":"MEMORY_EVENT_KIND_CANCEL_OFFLINE","block":41,"vetoed_by":"hook</text><script>alert(1)</script>\u001b[2J"}}}
{"vm":"lab","seq":14,"time_unix_ns":1001300000000,"source":"operation","name":"end","data":{"operation_id":"2","kind":"OPERATION_KIND_UNPLUG","outcome":"OPERATION_OUTCOME_REFUSED","device_id":"dimm1","duration_us":"300000"}}
{"vm":"lab","seq":15,"time_unix_ns":1002000000000,"source":"operation","name":"requested","data":{"id":"7","unplug":{"device_id":"dimm1"}}}
{"vm":"lab","seq":16,"time_unix_ns":1002100000000,"source":"agent","name":"GOING_OFFLINE","data":{"seq":"11","memory":{"kind":"MEMORY_EVENT_KIND_GOING_OFFLINE","block":41,"zone":"ZONE_MOVABLE"}}}
{"vm":"lab","seq":17,"time_unix_ns":1002200000000,"source":"agent","name":"OFFLINE","data":{"seq":"12","memory":{"kind":"MEMORY_EVENT_KIND_OFFLINE","block":41,"zone":"ZONE_MOVABLE"}}}
{"vm":"lab","seq":18,"time_unix_ns":1002300000000,"source":"agent","name":"OFFLINE","data":{"seq":"13","memory":{"kind":"MEMORY_EVENT_KIND_OFFLINE","block":40,"zone":"ZONE_MOVABLE"}}}
{"vm":"lab","seq":19,"time_unix_ns":1002400000000,"source":"qmp","name":"DEVICE_DELETED","data":{"device":"dimm1","path":"/machine/peripheral/dimm1"}}
{"vm":"lab","seq":20,"time_unix_ns":1002450000000,"source":"agent","name":"BLOCK_REMOVED","data":{"seq":"14","memory":{"kind":"MEMORY_EVENT_KIND_BLOCK_REMOVED","block":40}}}
{"vm":"lab","seq":21,"time_unix_ns":1002450000000,"source":"agent","name":"BLOCK_REMOVED","data":{"seq":"15","memory":{"kind":"MEMORY_EVENT_KIND_BLOCK_REMOVED","block":41}}}
{"vm":"lab","seq":22,"time_unix_ns":1002500000000,"source":"operation","name":"end","data":{"operation_id":"3","kind":"OPERATION_KIND_UNPLUG","outcome":"OPERATION_OUTCOME_DONE","device_id":"dimm1","steps":[{"name":"offline","duration_us":"200000","ok":true},{"name":"device_del","duration_us":"200000","ok":true}],"duration_us":"500000"}}
)";

std::vector<memhp::v1::WatchEvent> Recording() {
  Result<std::vector<memhp::v1::WatchEvent>> events = ParseWatchStream(kRecording);
  EXPECT_TRUE(events.ok()) << (events.ok() ? "" : events.error().message);
  return events.ok() ? std::move(events).value() : std::vector<memhp::v1::WatchEvent>{};
}

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// The SVG must be well-formed XML: parsed with GLib's markup parser, which refuses a broken tag.
bool WellFormed(const std::string& svg, std::string* why) {
  GMarkupParser parser{};
  g_autoptr(GMarkupParseContext) context = g_markup_parse_context_new(&parser, G_MARKUP_DEFAULT_FLAGS, nullptr, nullptr);
  g_autoptr(GError) error = nullptr;
  // GMarkup does not take the XML declaration; skip it.
  const size_t body = svg.find("<svg");
  if (!g_markup_parse_context_parse(context, svg.c_str() + body, static_cast<gssize>(svg.size() - body), &error) ||
      !g_markup_parse_context_end_parse(context, &error)) {
    *why = error->message;
    return false;
  }
  return true;
}

TEST(WatchStreamTest, ReadsEveryLineAndSkipsBlankOnes) {
  const std::vector<memhp::v1::WatchEvent> events = Recording();
  ASSERT_EQ(events.size(), 22u);
  EXPECT_EQ(events[0].vm(), "lab");
  EXPECT_EQ(events[2].seq(), 3u);
  EXPECT_EQ(events[2].time_unix_ns(), 1000100000000u);
  EXPECT_EQ(events[2].source(), "operation");
  EXPECT_EQ(events[2].name(), "requested");
  EXPECT_THAT(events[2].data_json(), HasSubstr("\"device_id\":\"dimm1\""));
}

TEST(WatchStreamTest, ABadLineIsAnErrorNamingIt) {
  for (const auto& [text, why] : std::vector<std::pair<std::string, std::string>>{
           {"{\"source\":\"qmp\",\"name\":\"X\"}\n{not json\n", "line 2: not JSON"},
           {"\n[1,2]\n", "line 2: not a JSON object"},
           {"{\"name\":\"X\"}", "line 1: no \"source\""},
           {"{\"source\":1,\"name\":\"X\"}", "line 1: no \"source\""},
       }) {
    const Result<std::vector<memhp::v1::WatchEvent>> events = ParseWatchStream(text);
    ASSERT_FALSE(events.ok()) << text;
    EXPECT_THAT(events.error().message, HasSubstr(why)) << text;
  }
  EXPECT_TRUE(ParseWatchStream("").ok());
  EXPECT_FALSE(ParseWatchStream(std::string(kMaxWatchLineBytes + 1, ' ') + "x").ok()) << "a line over the bound";
}

TEST(TimelineModelTest, OneBarPerOperationMatchedToItsEnd) {
  const Timeline t = BuildTimeline(Recording());
  EXPECT_EQ(t.vm, "lab");
  EXPECT_EQ(t.events, 22u);
  ASSERT_EQ(t.operations.size(), 3u);
  EXPECT_EQ(t.operations[0].label, "plug dimm1");
  EXPECT_EQ(t.operations[0].outcome, "DONE");
  EXPECT_EQ(t.operations[0].start_ns, 1000100000000u);
  EXPECT_EQ(t.operations[0].end_ns, 1000400000000u);
  EXPECT_EQ(t.operations[1].outcome, "REFUSED");
  EXPECT_EQ(t.operations[2].label, "unplug dimm1");
  EXPECT_TRUE(t.operations[2].finished);
  // Steps back to back, the last ending with the operation.
  ASSERT_EQ(t.operations[0].steps.size(), 3u);
  EXPECT_EQ(t.operations[0].steps[2].end_ns, 1000400000000u);
  EXPECT_EQ(t.operations[0].steps[0].start_ns, 1000400000000u - 250000000u);
  EXPECT_EQ(t.operations[0].steps[1].start_ns, t.operations[0].steps[0].end_ns);
  EXPECT_EQ(t.missing_events, 0u);
}

TEST(TimelineModelTest, OneLanePerBlockThatChangedWithItsStatesAndVetoes) {
  const Timeline t = BuildTimeline(Recording());
  // Block 7's ONLINE was replayed before "watching": its time is the replay's, not drawn.
  ASSERT_EQ(t.blocks.size(), 2u);
  EXPECT_EQ(t.blocks[0].block, 40u);
  EXPECT_EQ(t.blocks[1].block, 41u);
  std::vector<BlockPhase> phases;
  for (const BlockSpan& s : t.blocks[0].spans) phases.push_back(s.phase);
  EXPECT_THAT(phases, ElementsAre(BlockPhase::kOffline, BlockPhase::kGoingOnline, BlockPhase::kOnline, BlockPhase::kOffline));
  EXPECT_EQ(t.blocks[0].spans[2].zone, memhp::v1::ZONE_MOVABLE);
  EXPECT_EQ(t.blocks[0].spans.back().end_ns, 1002450000000u) << "removed: the lane ends there";
  ASSERT_EQ(t.blocks[1].vetoes.size(), 1u);
  EXPECT_THAT(t.blocks[1].vetoes[0].label, HasSubstr("offline refused: vetoed by hook"));
  // The veto put block 41 back online, in the zone it was in.
  phases.clear();
  for (const BlockSpan& s : t.blocks[1].spans) phases.push_back(s.phase);
  EXPECT_THAT(phases, ElementsAre(BlockPhase::kOffline, BlockPhase::kOnline, BlockPhase::kGoingOffline,
                                  BlockPhase::kOnline, BlockPhase::kGoingOffline, BlockPhase::kOffline));
  EXPECT_EQ(t.blocks[1].spans[3].zone, memhp::v1::ZONE_MOVABLE);
  EXPECT_THAT(std::vector<std::string>({t.qmp[0].label, t.qmp[1].label}), ElementsAre("ACPI_DEVICE_OST", "DEVICE_DELETED"));
}

TEST(TimelineModelTest, StreamedStepsKeepTheirOwnTimes) {
  std::vector<memhp::v1::WatchEvent> events = Recording();
  memhp::v1::WatchEvent step;
  step.set_source("operation");
  step.set_name("step");
  step.set_time_unix_ns(1000200000000u);
  step.set_data_json(R"({"name":"device_add","duration_us":"50000","detail":"","ok":true})");
  events.insert(events.begin() + 5, step);  // during the plug
  const Timeline t = BuildTimeline(events);
  ASSERT_EQ(t.operations[0].steps.size(), 1u) << "the streamed steps, not the result's";
  EXPECT_EQ(t.operations[0].steps[0].name, "device_add");
  EXPECT_EQ(t.operations[0].steps[0].start_ns, 1000150000000u);
  EXPECT_EQ(t.operations[0].steps[0].end_ns, 1000200000000u);
  EXPECT_EQ(t.operations[2].steps.size(), 2u) << "the other operations keep the result's";
}

TEST(TimelineModelTest, GapsInSeqAreCountedAndOpenOperationsRunToTheEnd) {
  std::vector<memhp::v1::WatchEvent> events = Recording();
  events.erase(events.begin() + 4, events.begin() + 7);  // seq 5, 6, 7 lost
  events.resize(events.size() - 1);                      // the last "end" not recorded
  const Timeline t = BuildTimeline(events);
  EXPECT_EQ(t.missing_events, 3u);
  ASSERT_EQ(t.operations.size(), 3u);
  EXPECT_FALSE(t.operations[2].finished);
  EXPECT_EQ(t.operations[2].end_ns, t.end_ns);
}

TEST(TimelineModelTest, AnEndWithoutItsRequestStartsItsDurationBefore) {
  std::vector<memhp::v1::WatchEvent> events = Recording();
  events.erase(events.begin() + 2);  // the plug's "requested"
  const Timeline t = BuildTimeline(events);
  ASSERT_EQ(t.operations.size(), 3u);
  EXPECT_EQ(t.operations[0].label, "plug dimm1");
  EXPECT_EQ(t.operations[0].start_ns, 1000400000000u - 300000000u);
}

TEST(TimelineModelTest, LanesAreBounded) {
  std::vector<memhp::v1::WatchEvent> events;
  for (uint32_t b = 0; b < kMaxTimelineBlockLanes + 5; ++b) {
    memhp::v1::WatchEvent e;
    e.set_source("agent");
    e.set_name("BLOCK_ADDED");
    e.set_time_unix_ns(1000 + b);
    e.set_data_json(R"({"memory":{"kind":"MEMORY_EVENT_KIND_BLOCK_ADDED","block":)" + std::to_string(b) + "}}");
    events.push_back(e);
  }
  const Timeline t = BuildTimeline(events);
  EXPECT_EQ(t.blocks.size(), kMaxTimelineBlockLanes);
  EXPECT_EQ(t.not_drawn, 5u);
}

TEST(TimelineSvgTest, GeometryFollowsTheRecording) {
  const std::string svg = RenderTimelineSvg(Recording());
  std::string why;
  EXPECT_TRUE(WellFormed(svg, &why)) << why;
  EXPECT_EQ(Count(svg, "<g class=\"lane-op\">"), 3u);
  EXPECT_EQ(Count(svg, "class=\"op-bar\""), 3u);
  EXPECT_EQ(Count(svg, "class=\"op-step\""), 5u);
  EXPECT_EQ(Count(svg, "<g class=\"lane-block\""), 2u);
  EXPECT_EQ(Count(svg, "data-block=\"40\""), 1u);
  EXPECT_EQ(Count(svg, "data-block=\"41\""), 1u);
  EXPECT_EQ(Count(svg, "class=\"block-span\""), 10u);
  EXPECT_EQ(Count(svg, "class=\"qmp-mark\""), 2u);
  EXPECT_EQ(Count(svg, "class=\"veto-mark\""), 1u);
  EXPECT_THAT(svg, HasSubstr("VM lab"));
}

TEST(TimelineSvgTest, HostileStringsAreEscaped) {
  const std::string svg = RenderTimelineSvg(Recording());
  EXPECT_THAT(svg, Not(HasSubstr("<script")));
  EXPECT_THAT(svg, HasSubstr("hook&lt;/text&gt;&lt;script&gt;"));
  EXPECT_THAT(svg, Not(HasSubstr("\x1b")));
  std::string why;
  EXPECT_TRUE(WellFormed(svg, &why)) << why;
}

TEST(TimelineSvgTest, XmlTextIsValidBoundedAndEscaped) {
  EXPECT_EQ(XmlText("a&b<c>\"d'", 100), "a&amp;b&lt;c&gt;&quot;d&apos;");
  EXPECT_EQ(XmlText("x\x01y\x7fz", 100), "x?y?z");
  EXPECT_EQ(XmlText("\xff\xfe", 100), "\xEF\xBF\xBD\xEF\xBF\xBD") << "invalid UTF-8 replaced";
  EXPECT_EQ(XmlText("abcdef", 3), "abc\xE2\x80\xA6");
}

TEST(TimelineSvgTest, AnEmptyRecordingStillDrawsAnAxisAndALegend) {
  const std::string svg = RenderTimelineSvg(std::vector<memhp::v1::WatchEvent>{});
  std::string why;
  EXPECT_TRUE(WellFormed(svg, &why)) << why;
  EXPECT_EQ(Count(svg, "class=\"lane-block\""), 0u);
  EXPECT_THAT(svg, HasSubstr("class=\"legend\""));
}

}  // namespace
}  // namespace memhp::ctl
