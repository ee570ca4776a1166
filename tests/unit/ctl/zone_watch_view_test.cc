// zone_watch_view_test — `memhpctl zones` (the ZoneReport per node and zone as sizes, the node
// masks, MemTotal/MemAvailable), `memhpctl policy`, and `memhpctl watch`'s JSON lines (data
// embedded as an object, strings escaped, junk kept visible rather than breaking the line).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <json-glib/json-glib.h>

#include <string>

#include "ctl/watch_view.h"
#include "ctl/zone_view.h"

namespace memhp::ctl {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

v1::ZoneReport TwoNodes() {
  v1::ZoneReport report;
  report.set_page_size(4096);
  report.set_mem_total_bytes(900ull << 20);
  report.set_mem_available_bytes(700ull << 20);
  v1::NodeReport* node = report.add_nodes();
  node->set_node(0);
  node->set_has_memory(true);
  node->set_has_normal_memory(true);
  v1::ZoneStats* zone = node->add_zones();
  zone->set_zone(v1::ZONE_NORMAL);
  zone->set_present_pages(65536);  // 256 MiB
  zone->set_managed_pages(61440);  // 240 MiB
  zone->set_free_pages(32768);     // 128 MiB
  node = report.add_nodes();
  node->set_node(1);
  node->set_has_memory(true);
  node->set_has_normal_memory(false);
  zone = node->add_zones();
  zone->set_zone(v1::ZONE_MOVABLE);
  zone->set_present_pages(131072);  // 512 MiB
  zone->set_managed_pages(131072);
  zone->set_free_pages(131072);
  return report;
}

TEST(ZonesTextTest, EachNodeWithItsMasksAndZonesInBytes) {
  const std::string text = RenderZonesText(TwoNodes());
  EXPECT_THAT(text, HasSubstr("node 0: N_MEMORY yes, N_NORMAL_MEMORY yes\n"
                              "  ZONE    PRESENT  MANAGED  FREE\n"
                              "  Normal  256 MiB  240 MiB  128 MiB\n"));
  EXPECT_THAT(text, HasSubstr("node 1: N_MEMORY yes, N_NORMAL_MEMORY no\n"
                              "  ZONE     PRESENT  MANAGED  FREE\n"
                              "  Movable  512 MiB  512 MiB  512 MiB\n"));
  EXPECT_THAT(text, HasSubstr("MemTotal 900 MiB, MemAvailable 700 MiB\n"));
}

TEST(ZonesTextTest, PagesFollowTheGuestsPageSize) {
  v1::ZoneReport report = TwoNodes();
  report.set_page_size(65536);
  EXPECT_THAT(RenderZonesText(report), HasSubstr("  Normal  4 GiB    3.75 GiB  2 GiB\n"));
}

TEST(ZonesTextTest, ThePressureLineFollowsWhenTheReportHasOne) {
  v1::ZoneReport report = TwoNodes();
  EXPECT_THAT(RenderZonesText(report), Not(HasSubstr("pressure:")));
  auto* p = report.mutable_pressure();
  p->set_psi_available(true);
  p->mutable_some()->set_avg10_centipercent(1205);
  p->mutable_full()->set_avg10_centipercent(7);
  p->set_mem_total_bytes(uint64_t{1} << 30);
  p->set_mem_available_bytes(uint64_t{256} << 20);
  p->set_pgscan(2048);
  p->set_pgsteal(1024);
  p->set_oom_kill(1);
  p->set_cause(v1::PRESSURE_CAUSE_STALLED);
  EXPECT_THAT(RenderZonesText(report),
              HasSubstr("pressure: some 12.05% full 0.07% (10 s), MemAvailable 256 MiB of 1 GiB, reclaimed 1024 of "
                        "2048 pages scanned, 1 OOM kill (stalled)\n"));
  p->set_psi_available(false);
  p->set_oom_kill(0);
  p->set_cause(v1::PRESSURE_CAUSE_REQUEST);
  EXPECT_THAT(RenderZonesText(report), HasSubstr("pressure: no PSI in the guest kernel, MemAvailable"));
  EXPECT_THAT(RenderZonesText(report), HasSubstr("0 OOM kills\n"));
}

TEST(ZonesTextTest, EmptyReportSaysSo) {
  EXPECT_THAT(RenderZonesText(v1::ZoneReport()), HasSubstr("no nodes reported"));
}

TEST(PolicyTextTest, NameAndRatio) {
  v1::PolicyState state;
  state.set_policy("auto-movable");
  state.set_movable_ratio_percent(301);
  EXPECT_EQ(RenderPolicyText(state), "policy: auto-movable (auto-movable ratio: MOVABLE <= 301 % of KERNEL)\n");
  state.set_policy("online_movable");  // the ratio kept for auto-movable is not this policy's
  EXPECT_EQ(RenderPolicyText(state), "policy: online_movable\n");
}

// Parses a watch line back with json-glib and returns its root object (test-owned parser).
JsonObject* ParseLine(JsonParser* parser, const std::string& line) {
  EXPECT_TRUE(json_parser_load_from_data(parser, line.c_str(), -1, nullptr)) << line;
  JsonNode* root = json_parser_get_root(parser);
  EXPECT_TRUE(root && JSON_NODE_HOLDS_OBJECT(root)) << line;
  return root ? json_node_get_object(root) : nullptr;
}

TEST(WatchLineTest, DataIsEmbeddedAsAnObject) {
  v1::WatchEvent event;
  event.set_time_unix_ns(1764093000123456789ull);
  event.set_source("agent");
  event.set_name("ONLINE");
  event.set_data_json(R"({"seq":"12","memory":{"block":73,"zone":"ZONE_MOVABLE"}})");
  event.set_vm("web-1");
  event.set_seq(7);
  const std::string line = RenderWatchLine(event);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  g_autoptr(JsonParser) parser = json_parser_new();
  JsonObject* object = ParseLine(parser, line);
  ASSERT_NE(object, nullptr);
  EXPECT_STREQ(json_object_get_string_member(object, "vm"), "web-1");
  EXPECT_EQ(json_object_get_int_member(object, "seq"), 7);
  EXPECT_EQ(json_object_get_int_member(object, "time_unix_ns"), 1764093000123456789ll);
  EXPECT_STREQ(json_object_get_string_member(object, "source"), "agent");
  EXPECT_STREQ(json_object_get_string_member(object, "name"), "ONLINE");
  JsonObject* data = json_object_get_object_member(object, "data");
  ASSERT_NE(data, nullptr);
  EXPECT_EQ(json_object_get_int_member(json_object_get_object_member(data, "memory"), "block"), 73);
}

TEST(WatchLineTest, EmptyDataIsAnEmptyObjectAndStringsAreEscaped) {
  v1::WatchEvent event;
  event.set_source("memhpd");
  event.set_name("say \"hi\"\n");
  const std::string line = RenderWatchLine(event);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  g_autoptr(JsonParser) parser = json_parser_new();
  JsonObject* object = ParseLine(parser, line);
  ASSERT_NE(object, nullptr);
  EXPECT_STREQ(json_object_get_string_member(object, "name"), "say \"hi\"\n");
  EXPECT_EQ(json_object_get_size(json_object_get_object_member(object, "data")), 0u);
}

TEST(WatchLineTest, DataThatIsNotJsonIsKeptAsUnparsed) {
  v1::WatchEvent event;
  event.set_source("qmp");
  event.set_name("X");
  event.set_data_json("{not json");
  g_autoptr(JsonParser) parser = json_parser_new();
  JsonObject* object = ParseLine(parser, RenderWatchLine(event));
  ASSERT_NE(object, nullptr);
  EXPECT_STREQ(json_object_get_string_member(json_object_get_object_member(object, "data"), "unparsed"),
               "{not json");
}

}  // namespace
}  // namespace memhp::ctl
