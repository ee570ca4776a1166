// fleet_view_test — `memhpctl list` and `memhpctl --all status` over hand-made entries: a
// launched VM with its agent, a libvirt domain without one, a memhpd that did not answer and a
// stopped VM; the text rows, the JSON every script reads, and the heading per VM.
#include "ctl/fleet_view.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <json-glib/json-glib.h>

#include <string>
#include <vector>

namespace memhp::ctl {
namespace {

using ::testing::HasSubstr;

constexpr uint64_t kMiB = 1024 * 1024;

std::vector<FleetEntry> Fleet() {
  memhp::v1::VmStatus launched;
  launched.set_vm_name("default");
  launched.mutable_qemu()->set_connected(true);
  launched.mutable_qemu()->set_run_state("running");
  launched.mutable_qemu()->set_pid(4242);
  launched.mutable_qemu()->set_base_memory(512 * kMiB);
  launched.mutable_qemu()->set_plugged_memory(256 * kMiB);
  launched.mutable_agent()->set_connected(true);

  memhp::v1::VmStatus domain;
  domain.set_vm_name("lv");
  domain.mutable_qemu()->set_connected(true);
  domain.mutable_qemu()->set_run_state("paused");
  domain.mutable_qemu()->set_base_memory(1024 * kMiB);
  domain.mutable_libvirt()->set_domain("memhp-lv");
  domain.mutable_libvirt()->set_uri("qemu:///system");

  return {
      {.name = "default", .memhpd_pid = 11, .qemu_pid = 4242, .status = launched, .error = ""},
      {.name = "hung", .memhpd_pid = 12, .qemu_pid = 0, .status = std::nullopt, .error = "timed out after 3 s"},
      {.name = "lv", .memhpd_pid = 13, .qemu_pid = 0, .status = domain, .error = ""},
      {.name = "old", .memhpd_pid = 0, .qemu_pid = 0, .status = std::nullopt, .error = ""},
  };
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  for (size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1) {
    lines.push_back(text.substr(start, nl - start));
  }
  return lines;
}

JsonObject* Vm(JsonParser* parser, guint i) {
  JsonArray* vms = json_object_get_array_member(json_node_get_object(json_parser_get_root(parser)), "vms");
  return json_array_get_object_element(vms, i);
}

TEST(FleetView, EngineAndStateOfEachKindOfVm) {
  const std::vector<FleetEntry> fleet = Fleet();
  EXPECT_EQ(FleetEngine(fleet[0]), "qemu");
  EXPECT_EQ(FleetState(fleet[0]), "running");
  EXPECT_EQ(FleetEngine(fleet[1]), "-");
  EXPECT_EQ(FleetState(fleet[1]), "not answering");
  EXPECT_EQ(FleetEngine(fleet[2]), "libvirt");
  EXPECT_EQ(FleetState(fleet[2]), "paused");
  EXPECT_EQ(FleetState(fleet[3]), "stopped");
  FleetEntry orphan{.name = "q", .memhpd_pid = 0, .qemu_pid = 99, .status = std::nullopt, .error = ""};
  EXPECT_EQ(FleetState(orphan), "no memhpd");
  memhp::v1::VmStatus attached;
  attached.mutable_qemu()->set_connected(true);
  FleetEntry a{.name = "a", .memhpd_pid = 5, .qemu_pid = 0, .status = attached, .error = ""};
  EXPECT_EQ(FleetEngine(a), "qemu-attached");
}

TEST(FleetView, TheTextHasOneRowPerVm) {
  const std::vector<std::string> lines = Lines(RenderFleetText(Fleet()));
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_THAT(lines[0], HasSubstr("NAME"));
  EXPECT_THAT(lines[1], HasSubstr("default  qemu     running        768 MiB  connected"));
  EXPECT_THAT(lines[2], HasSubstr("hung     -        not answering  -        -          timed out after 3 s"));
  EXPECT_THAT(lines[3], HasSubstr("lv       libvirt  paused         1 GiB    no         memhp-lv on qemu:///system"));
  EXPECT_THAT(lines[4], HasSubstr("old      -        stopped"));
  EXPECT_EQ(RenderFleetText({}), "no VMs\n");
}

TEST(FleetView, TheJsonNamesEveryVmWithNumbersAsNumbers) {
  g_autoptr(JsonParser) parser = json_parser_new();
  ASSERT_TRUE(json_parser_load_from_data(parser, RenderFleetJson(Fleet()).c_str(), -1, nullptr));
  JsonObject* first = Vm(parser, 0);
  EXPECT_STREQ(json_object_get_string_member(first, "name"), "default");
  EXPECT_EQ(json_object_get_int_member(first, "memory_bytes"), static_cast<gint64>(768 * kMiB));
  EXPECT_TRUE(json_object_get_boolean_member(first, "agent_connected"));
  EXPECT_EQ(json_object_get_int_member(first, "qemu_pid"), 4242);
  JsonObject* hung = Vm(parser, 1);
  EXPECT_TRUE(json_object_get_null_member(hung, "memory_bytes"));
  EXPECT_STREQ(json_object_get_string_member(hung, "error"), "timed out after 3 s");
  JsonObject* lv = Vm(parser, 2);
  EXPECT_STREQ(json_object_get_string_member(lv, "engine"), "libvirt");
  EXPECT_STREQ(json_object_get_string_member(lv, "domain"), "memhp-lv");
  EXPECT_STREQ(json_object_get_string_member(lv, "uri"), "qemu:///system");
  EXPECT_FALSE(json_object_get_boolean_member(lv, "agent_connected"));
}

TEST(FleetView, AllStatusShowsEachVmsStatusOrWhyNot) {
  const std::string text = RenderAllStatusText(Fleet());
  EXPECT_THAT(text, HasSubstr("== VM 'default' ==\n"));
  EXPECT_THAT(text, HasSubstr("== VM 'hung' ==\nnot answering: timed out after 3 s\n"));
  EXPECT_THAT(text, HasSubstr("== VM 'old' ==\nstopped\n"));
  g_autoptr(JsonParser) parser = json_parser_new();
  ASSERT_TRUE(json_parser_load_from_data(parser, RenderAllStatusJson(Fleet()).c_str(), -1, nullptr));
  JsonObject* first = Vm(parser, 0);
  EXPECT_TRUE(json_object_get_boolean_member(first, "ok"));
  EXPECT_STREQ(json_object_get_string_member(json_object_get_object_member(first, "status"), "vm_name"), "default");
  JsonObject* hung = Vm(parser, 1);
  EXPECT_FALSE(json_object_get_boolean_member(hung, "ok"));
  EXPECT_STREQ(json_object_get_string_member(hung, "error"), "not answering: timed out after 3 s");
}

TEST(FleetView, AnErrorWithEscapesCannotReachTheTerminalRaw) {
  std::vector<FleetEntry> fleet = Fleet();
  fleet[1].error = "bad\x1b[2Jthing\nnext";
  const std::string text = RenderFleetText(fleet) + RenderAllStatusText(fleet);
  EXPECT_EQ(text.find('\x1b'), std::string::npos) << text;
  EXPECT_EQ(Lines(RenderFleetText(fleet)).size(), 5u) << "one line per VM";
}

}  // namespace
}  // namespace memhp::ctl
