// memhpctl's side of the plugin: `memhpctl audit` rendering (host-tools/ctl/audit_view.h), the
// HEAT column `status` gains with a report, and the audit/launch --audit command line.
#include "ctl/audit_view.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "ctl/status_view.h"
#include "launcher/qemu_command.h"
#include "memhpctl/cli_args.h"

namespace memhp {
namespace {

namespace v1 = memhp::v1;
using ::testing::HasSubstr;
using ::testing::Not;

v1::AuditReport Report() {
  v1::AuditReport r;
  r.set_armed(true);
  r.set_block_size(128ull << 20);
  r.set_vcpus(2);
  auto add = [&](uint64_t start, const char* label, v1::AuditRangeState state, uint64_t reads, uint64_t writes,
                 bool touched) {
    v1::AuditBlock* b = r.add_blocks();
    b->set_start(start);
    b->set_label(label);
    b->set_state(state);
    b->set_reads(reads);
    b->set_writes(writes);
    b->set_touched(touched);
    b->set_first_touch_ns(touched ? 1500000000 : 0);
  };
  add(0x180000000, "vmem1", v1::AUDIT_RANGE_STATE_UNPLUGGED, 0, 0, false);
  add(0x188000000, "vmem1", v1::AUDIT_RANGE_STATE_UNPLUGGED, 0, 0, false);
  add(0x200000000, "d1", v1::AUDIT_RANGE_STATE_ONLINE, 2400000, 70000000, true);
  add(0x208000000, "d1", v1::AUDIT_RANGE_STATE_ONLINE, 1000, 0, true);
  r.set_outside_accesses(13000000);
  r.set_max_violations(1024);
  return r;
}

std::string Line(const std::string& text, const std::string& start) {
  const size_t at = text.find("\n" + start);
  if (at == std::string::npos) return "";
  return text.substr(at + 1, text.find('\n', at + 1) - at - 1);
}

TEST(FormatCount, ShortensLargeCounts) {
  EXPECT_EQ(ctl::FormatCount(0), "0");
  EXPECT_EQ(ctl::FormatCount(999), "999");
  EXPECT_EQ(ctl::FormatCount(1200), "1.2K");
  EXPECT_EQ(ctl::FormatCount(70000000), "70M");
  EXPECT_EQ(ctl::FormatCount(4100000000ull), "4.1G");
}

TEST(LabelHeat, SumsADevicesBlocksAndSaysWhenItHasNone) {
  const v1::AuditReport r = Report();
  EXPECT_EQ(ctl::LabelHeat(r, "d1"), 2400000u + 70000000u + 1000u);
  EXPECT_EQ(ctl::LabelHeat(r, "vmem1"), 0u);
  EXPECT_FALSE(ctl::LabelHeat(r, "vmem0").has_value());
}

TEST(RenderAuditText, HeatBarsFirstUseAndQuietUnpluggedBlocksCounted) {
  const std::string text = ctl::RenderAuditText(Report());
  EXPECT_THAT(text, HasSubstr("audit: armed, block 128 MiB, 2 vCPUs; violations 0"));
  const std::string hot = Line(text, "  0x200000000");
  EXPECT_THAT(hot, HasSubstr("d1"));
  EXPECT_THAT(hot, HasSubstr("2.4M"));
  EXPECT_THAT(hot, HasSubstr(std::string(20, '#'))) << "the hottest block gets the full bar";
  EXPECT_THAT(hot, HasSubstr("1.500 s"));
  EXPECT_THAT(Line(text, "  0x208000000"), HasSubstr(" # ")) << "a cold but used block still gets a mark";
  EXPECT_THAT(text, Not(HasSubstr("0x180000000")));
  EXPECT_THAT(text, HasSubstr("(2 unplugged blocks without accesses not shown)"));
  EXPECT_THAT(text, HasSubstr("Violations (accesses to offline or unplugged memory)\n  none\n"));
}

TEST(RenderAuditText, ViolationsAreListedWithPageVcpuAndDirection) {
  v1::AuditReport r = Report();
  v1::AuditViolation* v = r.add_violations();
  v->set_page(0x200001000);
  v->set_vcpu(1);
  v->set_access(v1::AUDIT_ACCESS_WRITE);
  v->set_state(v1::AUDIT_RANGE_STATE_UNPLUGGED);
  v->set_label("d1");
  v->set_count(4097);
  v->set_first_monotonic_ns(2000000000);
  v->set_last_monotonic_ns(3000000000);
  r.set_violations_total(5000);
  r.set_violations_dropped(903);
  const std::string text = ctl::RenderAuditText(r);
  const std::string row = Line(text, "  0x200001000");
  EXPECT_THAT(row, HasSubstr("unplugged"));
  EXPECT_THAT(row, HasSubstr("write"));
  EXPECT_THAT(row, HasSubstr("4097"));
  EXPECT_THAT(row, HasSubstr("2.000 s"));
  EXPECT_THAT(text, HasSubstr("violations 5000 (1 records, 903 accesses unrecorded)"));
  EXPECT_THAT(text, HasSubstr("903 accesses were counted without one"));
}

TEST(RenderAuditJson, IsTheProtoMappingWithSnakeCaseNames) {
  const std::string json = ctl::RenderAuditJson(Report());
  EXPECT_THAT(json, HasSubstr("\"armed\":true"));
  EXPECT_THAT(json, HasSubstr("\"first_touch_ns\":\"1500000000\""));
  EXPECT_THAT(json, HasSubstr("\"state\":\"AUDIT_RANGE_STATE_ONLINE\""));
  EXPECT_EQ(json.back(), '\n');
}

TEST(StatusWithAudit, DevicesGetAHeatColumnOnlyWithAReport) {
  v1::VmStatus status;
  status.mutable_qemu()->set_connected(true);
  v1::MemoryDevice* d = status.add_devices();
  d->set_kind(v1::MEMORY_DEVICE_KIND_DIMM);
  d->set_id("d1");
  d->set_size(256ull << 20);
  v1::MemoryDevice* other = status.add_devices();
  other->set_kind(v1::MEMORY_DEVICE_KIND_VIRTIO_MEM);
  other->set_id("vmem0");
  const v1::AuditReport r = Report();
  const std::string with = ctl::RenderStatusText(status, &r);
  EXPECT_THAT(Line(with, "  ID"), HasSubstr("HEAT"));
  EXPECT_THAT(Line(with, "  d1"), HasSubstr("72M"));
  EXPECT_THAT(Line(with, "  vmem0"), testing::EndsWith("-")) << "not watched";
  EXPECT_THAT(ctl::RenderStatusText(status), Not(HasSubstr("HEAT")));
  EXPECT_THAT(ctl::RenderStatusJson(status, &r), HasSubstr("\"audit_heat\":{\"armed\":true,\"devices\":{\"d1\":72401000}}"));
  EXPECT_THAT(ctl::RenderStatusJson(status), Not(HasSubstr("audit_heat")));
}

TEST(AuditCommandLine, ArmDisarmAndLaunchOptions) {
  auto audit = cli::ParseCommandLine({"audit", "--arm"});
  ASSERT_TRUE(audit.command) << audit.error;
  EXPECT_EQ(audit.command->verb, cli::Verb::kAudit);
  EXPECT_TRUE(audit.command->audit.arm);
  auto both = cli::ParseCommandLine({"audit", "--arm", "--disarm"});
  EXPECT_FALSE(both.command);
  EXPECT_THAT(both.error, HasSubstr("not both"));
  auto launch = cli::ParseCommandLine({"launch", "--audit", "--audit-arm", "request"});
  ASSERT_TRUE(launch.command) << launch.error;
  EXPECT_TRUE(launch.command->launch.audit);
  EXPECT_TRUE(launch.command->launch.audit_arm_on_request);
  EXPECT_FALSE(cli::ParseCommandLine({"launch", "--audit-arm", "request"}).command) << "needs --audit";
  EXPECT_FALSE(cli::ParseCommandLine({"launch", "--audit", "--audit-arm", "boot"}).command);
}

TEST(AuditLaunch, QemuLoadsThePluginWithItsSocketAndReportInTheStateFolder) {
  launcher::QemuLaunchSpec spec;
  spec.accel = "tcg";
  spec.state = vm::StateDir("/run/vm");
  std::vector<std::string> argv = launcher::BuildQemuArgv(spec);
  EXPECT_EQ(std::find(argv.begin(), argv.end(), "-plugin"), argv.end()) << "no plugin unless asked";
  spec.audit_plugin = "/b/libmemhp-audit.so";
  argv = launcher::BuildQemuArgv(spec);
  auto at = std::find(argv.begin(), argv.end(), "-plugin");
  ASSERT_NE(at, argv.end());
  ASSERT_NE(at + 1, argv.end());
  EXPECT_EQ(*(at + 1), "file=/b/libmemhp-audit.so,socket=/run/vm/audit.sock,report=/run/vm/audit.json");
}

}  // namespace
}  // namespace memhp
