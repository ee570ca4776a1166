// memhp tests — the udev override of --take-onlining (guest-agent/policy/udev_rule_mask.h):
// the onlining rules the competitor check found are commented out, nothing else changes, and
// the copy is found again by its header.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "policy/competing_onliners.h"
#include "policy/udev_rule_mask.h"

namespace memhp::agent {
namespace {

// RHEL 8's 40-redhat.rules in short: a CPU rule that must keep working, then the memory section.
constexpr const char* kRedHat =
    "# CPU hotadd request\n"
    "SUBSYSTEM==\"cpu\", ACTION==\"add\", TEST==\"online\", ATTR{online}==\"0\", ATTR{online}=\"1\"\n"
    "SUBSYSTEM!=\"memory\", GOTO=\"memory_hotplug_end\"\n"
    "ENV{.state}=\"online\"\n"
    "ATTR{state}==\"offline\", \\\n"
    "  ATTR{state}=\"$env{.state}\"\n"
    "LABEL=\"memory_hotplug_end\"\n";

std::vector<RuleLines> LinesOf(const std::vector<CompetingOnliner>& found) {
  std::vector<RuleLines> lines;
  for (const CompetingOnliner& c : found) lines.push_back({c.first_line, c.last_line});
  return lines;
}

TEST(UdevRuleMask, TheCheckFindsTheContinuedRuleWithBothOfItsLines) {
  const std::vector<CompetingOnliner> found = FindCompetingOnliners("", "", {{"40-redhat.rules", kRedHat}});
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].rule_file, "40-redhat.rules");
  EXPECT_EQ(found[0].first_line, 5u);
  EXPECT_EQ(found[0].last_line, 6u);
}

TEST(UdevRuleMask, OnlyTheOnliningRuleIsCommentedOutAndTheCopyNoLongerCompetes) {
  const std::vector<CompetingOnliner> found = FindCompetingOnliners("", "", {{"40-redhat.rules", kRedHat}});
  const std::string mask = MaskUdevRules(kRedHat, LinesOf(found), "/usr/lib/udev/rules.d/40-redhat.rules");
  EXPECT_EQ(mask,
            "# memhp-agent --take-onlining: a copy of /usr/lib/udev/rules.d/40-redhat.rules with the rules "
            "that online memory blocks commented out (\"#memhp# \").\n"
            "# Undo: delete this file. Made again at every start of memhp-agent --take-onlining.\n"
            "# CPU hotadd request\n"
            "SUBSYSTEM==\"cpu\", ACTION==\"add\", TEST==\"online\", ATTR{online}==\"0\", ATTR{online}=\"1\"\n"
            "SUBSYSTEM!=\"memory\", GOTO=\"memory_hotplug_end\"\n"
            "ENV{.state}=\"online\"\n"
            "#memhp# ATTR{state}==\"offline\", \n"
            "#memhp#   ATTR{state}=\"$env{.state}\"\n"
            "LABEL=\"memory_hotplug_end\"\n");
  EXPECT_TRUE(FindCompetingOnliners("", "", {{"40-redhat.rules", mask}}).empty()) << mask;
  EXPECT_TRUE(IsUdevMask(mask));
  EXPECT_FALSE(IsUdevMask(kRedHat));
}

TEST(UdevRuleMask, EveryOnliningRuleOfAFileIsMaskedAndAFileWithoutAFinalNewlineGetsOne) {
  const std::string suse =
      "SUBSYSTEM==\"cpu\", ACTION==\"add\", ATTR{online}=\"1\"\n"
      "SUBSYSTEM==\"memory\", ACTION==\"add\", ATTR{state}==\"offline\", ATTR{state}=\"online\"\n"
      "SUBSYSTEM==\"memory\", ACTION==\"add\", RUN+=\"/bin/sh -c 'echo online > /sys$devpath/state'\"";
  const std::vector<CompetingOnliner> found = FindCompetingOnliners("", "", {{"80-hotplug-cpu-mem.rules", suse}});
  ASSERT_EQ(found.size(), 2u);
  const std::string mask = MaskUdevRules(suse, LinesOf(found), "/usr/lib/udev/rules.d/80-hotplug-cpu-mem.rules");
  EXPECT_NE(mask.find("\nSUBSYSTEM==\"cpu\""), std::string::npos);
  EXPECT_NE(mask.find("\n#memhp# SUBSYSTEM==\"memory\", ACTION==\"add\", ATTR{state}"), std::string::npos);
  EXPECT_NE(mask.find("\n#memhp# SUBSYSTEM==\"memory\", ACTION==\"add\", RUN+="), std::string::npos);
  EXPECT_EQ(mask.back(), '\n');
  EXPECT_TRUE(FindCompetingOnliners("", "", {{"80-hotplug-cpu-mem.rules", mask}}).empty()) << mask;
}

TEST(UdevRuleMask, LinesBeyondTheFileAreIgnored) {
  const std::string one = "SUBSYSTEM==\"memory\", ATTR{state}=\"online\"\n";
  const std::string mask = MaskUdevRules(one, {{7, 9}}, "/lib/udev/rules.d/x.rules");
  EXPECT_NE(mask.find("\nSUBSYSTEM==\"memory\""), std::string::npos) << mask;
}

}  // namespace
}  // namespace memhp::agent
