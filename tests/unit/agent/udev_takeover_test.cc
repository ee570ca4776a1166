// memhp tests — the udev half of --take-onlining (guest-agent/agent/udev_takeover.h) over a
// temp-dir tree: a distribution's onlining rule is masked in run/udev/rules.d, an operator's
// rule in etc is left alone, the copy follows the distribution's file, and the scan that builds
// the hello no longer lists a masked rule.
#include <glib.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "agent/competitor_scan.h"
#include "agent/udev_takeover.h"
#include "fake_sysfs.h"
#include "sysfs/sysfs_reader.h"

namespace memhp::agent {
namespace {

constexpr const char* kHotadd =
    "SUBSYSTEM==\"memory\", ACTION==\"add\", TEST==\"state\", ATTR{state}==\"offline\", ATTR{state}=\"online\"\n";
constexpr const char* kCpuOnly = "SUBSYSTEM==\"cpu\", ACTION==\"add\", ATTR{online}=\"1\"\n";

class UdevTakeoverTest : public ::testing::Test {
 protected:
  std::string Read(const std::string& relative) {
    g_autofree gchar* text = nullptr;
    if (!g_file_get_contents(tree_.Path(relative).c_str(), &text, nullptr, nullptr)) return "<missing>";
    return text;
  }
  std::vector<std::string> CompetitorsWhere() {
    std::vector<std::string> where;
    for (const CompetingOnliner& c : ScanCompetingOnliners(SysfsReader(tree_.root()))) where.push_back(c.where);
    return where;
  }

  testing::FakeSysfs tree_;
};

TEST_F(UdevTakeoverTest, ADistributionRuleIsMaskedInRunAndCompetesNoMore) {
  tree_.SetAutoOnlineBlocks("offline");
  tree_.WriteFile("usr/lib/udev/rules.d/40-vm-hotadd.rules", kHotadd);
  ASSERT_EQ(CompetitorsWhere(), std::vector<std::string>{"40-vm-hotadd.rules:1"});

  EXPECT_EQ(MaskDistributionOnliningRules(SysfsReader(tree_.root())),
            std::vector<std::string>{"40-vm-hotadd.rules:1: /run/udev/rules.d/40-vm-hotadd.rules"});
  const std::string mask = Read("run/udev/rules.d/40-vm-hotadd.rules");
  EXPECT_NE(mask.find("a copy of /usr/lib/udev/rules.d/40-vm-hotadd.rules"), std::string::npos) << mask;
  EXPECT_NE(mask.find("\n#memhp# SUBSYSTEM==\"memory\""), std::string::npos) << mask;
  EXPECT_EQ(Read("usr/lib/udev/rules.d/40-vm-hotadd.rules"), kHotadd) << "the distribution's file is untouched";
  EXPECT_TRUE(CompetitorsWhere().empty());
}

TEST_F(UdevTakeoverTest, AnOperatorsRuleInEtcIsLeftAloneAndStillCompetes) {
  tree_.SetAutoOnlineBlocks("offline");
  tree_.WriteFile("etc/udev/rules.d/40-vm-hotadd.rules", kHotadd);
  EXPECT_TRUE(MaskDistributionOnliningRules(SysfsReader(tree_.root())).empty());
  EXPECT_EQ(Read("run/udev/rules.d/40-vm-hotadd.rules"), "<missing>");
  EXPECT_EQ(CompetitorsWhere(), std::vector<std::string>{"40-vm-hotadd.rules:1"});
}

TEST_F(UdevTakeoverTest, SomebodyElsesRuntimeRuleIsLeftAlone) {
  tree_.SetAutoOnlineBlocks("offline");
  tree_.WriteFile("usr/lib/udev/rules.d/40-vm-hotadd.rules", kHotadd);
  tree_.WriteFile("run/udev/rules.d/40-vm-hotadd.rules", kHotadd);
  EXPECT_TRUE(MaskDistributionOnliningRules(SysfsReader(tree_.root())).empty());
  EXPECT_EQ(Read("run/udev/rules.d/40-vm-hotadd.rules"), kHotadd);
}

TEST_F(UdevTakeoverTest, TheCopyFollowsTheDistributionsFileAtTheNextStart) {
  tree_.SetAutoOnlineBlocks("offline");
  tree_.WriteFile("lib/udev/rules.d/40-vm-hotadd.rules", kHotadd);
  ASSERT_EQ(MaskDistributionOnliningRules(SysfsReader(tree_.root())).size(), 1u);
  // Again, with our copy in place: made again from the distribution's file, not from itself.
  ASSERT_EQ(MaskDistributionOnliningRules(SysfsReader(tree_.root())).size(), 1u);
  EXPECT_NE(Read("run/udev/rules.d/40-vm-hotadd.rules").find("a copy of /lib/udev/rules.d/"), std::string::npos);
  // An update that no longer onlines memory: the copy would hide it, so it goes.
  tree_.WriteFile("lib/udev/rules.d/40-vm-hotadd.rules", kCpuOnly);
  EXPECT_TRUE(MaskDistributionOnliningRules(SysfsReader(tree_.root())).empty());
  EXPECT_EQ(Read("run/udev/rules.d/40-vm-hotadd.rules"), "<missing>");
}

TEST_F(UdevTakeoverTest, ARuleThatOnlinesNothingIsNotCopied) {
  tree_.WriteFile("usr/lib/udev/rules.d/40-cpu.rules", kCpuOnly);
  EXPECT_TRUE(MaskDistributionOnliningRules(SysfsReader(tree_.root())).empty());
  EXPECT_EQ(Read("run/udev/rules.d/40-cpu.rules"), "<missing>");
}

TEST_F(UdevTakeoverTest, AFolderThatCannotBeMadeLeavesTheRuleCompeting) {
  tree_.SetAutoOnlineBlocks("offline");
  tree_.WriteFile("usr/lib/udev/rules.d/40-vm-hotadd.rules", kHotadd);
  tree_.WriteFile("run/udev", "a file where the folder should be");
  EXPECT_TRUE(MaskDistributionOnliningRules(SysfsReader(tree_.root())).empty());
  EXPECT_EQ(CompetitorsWhere(), std::vector<std::string>{"40-vm-hotadd.rules:1"});
}

}  // namespace
}  // namespace memhp::agent
