// memhp tests — memhpctl's verb table (memhpctl/verb_table.h) and the help generated from it:
// every verb has a row, a summary and a usage; `memhpctl VERB --help` and `memhpctl help VERB`
// print that verb's usage with exactly its options, exit 0; an unknown verb or option is a usage
// error (exit 2) naming it.
#include <gmock/gmock.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>

#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "memhpctl/cli_args.h"
#include "memhpctl/run_command_line.h"
#include "memhpctl/verb_table.h"

namespace memhp::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// Every Verb there is. A new verb that is missing here makes VerbTableTest.HasOneRowPerVerb fail.
const std::vector<Verb>& AllVerbs() {
  static const std::vector<Verb> verbs = {
      Verb::kHelp,   Verb::kVersion, Verb::kLaunch, Verb::kAttach, Verb::kStatus, Verb::kStop,
      Verb::kQmp,    Verb::kOnline,  Verb::kOffline, Verb::kEvents, Verb::kPlug,  Verb::kUnplug,
      Verb::kResize, Verb::kPolicy,  Verb::kZones,  Verb::kWatch,  Verb::kAudit, Verb::kBlocks,
      Verb::kList, Verb::kTimeline, Verb::kScenario, Verb::kAutoscale,
  };
  return verbs;
}

// The option names a help text lists under "options:", one per line, in order.
std::vector<std::string> ListedOptions(const std::string& help) {
  std::vector<std::string> names;
  std::istringstream in(help);
  bool in_options = false;
  for (std::string line; std::getline(in, line);) {
    if (line == "options:") {
      in_options = true;
      continue;
    }
    if (!in_options) continue;
    if (line.empty()) break;
    EXPECT_THAT(line, StartsWith("  --")) << "not an option line: " << line;
    const size_t end = line.find_first_of(" ,", 4);  // "  --output LIST, -o", "  --bytes, -b"
    names.push_back(line.substr(4, end - 4));
  }
  return names;
}

struct CliRun {
  int code;
  std::string out;
  std::string err;
};

CliRun RunCli(const std::vector<std::string>& args) {
  ::testing::internal::CaptureStdout();
  ::testing::internal::CaptureStderr();
  const int code = RunCommandLine(args);
  std::string out = ::testing::internal::GetCapturedStdout();
  std::string err = ::testing::internal::GetCapturedStderr();
  return {code, std::move(out), std::move(err)};
}

TEST(VerbTableTest, HasOneRowPerVerb) {
  ASSERT_EQ(VerbTable().size(), AllVerbs().size());
  std::set<std::string> names;
  for (Verb verb : AllVerbs()) {
    const VerbSpec& row = SpecOf(verb);
    EXPECT_EQ(row.verb, verb);
    EXPECT_TRUE(names.insert(std::string(row.name)).second) << "two rows named " << row.name;
    EXPECT_EQ(FindVerb(row.name), &row);
    EXPECT_NE(row.run, nullptr) << row.name;
  }
  EXPECT_EQ(FindVerb("hotplug"), nullptr);
}

TEST(VerbTableTest, EveryVerbHasHelp) {
  for (const VerbSpec& row : VerbTable()) {
    SCOPED_TRACE(std::string(row.name));
    EXPECT_FALSE(row.summary.empty());
    EXPECT_EQ(row.summary.find('\n'), std::string_view::npos);
    EXPECT_THAT(std::string(row.usage), StartsWith(std::string(row.name)));
    for (const args::OptionSpec& option : row.options) {
      EXPECT_FALSE(option.help.empty()) << "--" << option.name;
      EXPECT_TRUE(option.apply) << "--" << option.name;
      // The usage synopsis names every option the verb takes.
      EXPECT_THAT(std::string(row.usage), HasSubstr("--" + option.name)) << "--" << option.name;
    }
    const std::string help = VerbUsageText(row.verb);
    EXPECT_THAT(help, HasSubstr(std::string(row.summary)));
    EXPECT_THAT(help, StartsWith("usage: memhpctl [global options] " + std::string(row.name)));
  }
}

TEST(VerbTableTest, VerbHelpListsExactlyItsOptions) {
  for (const VerbSpec& row : VerbTable()) {
    SCOPED_TRACE(std::string(row.name));
    std::vector<std::string> expected;
    for (const args::OptionSpec& option : row.options) expected.push_back(option.name);
    EXPECT_EQ(ListedOptions(VerbUsageText(row.verb)), expected);
  }
  EXPECT_THAT(VerbUsageText(Verb::kPlug), Not(HasSubstr("--force")));  // unplug's, not plug's
}

TEST(VerbTableTest, EveryOptionIsTakenByItsVerbAndNoOther) {
  // An option name given to a verb that does not list it is a usage error, so the table is the
  // whole truth about which verb takes what.
  for (const VerbSpec& row : VerbTable()) {
    for (const args::OptionSpec& option : row.options) {
      for (const VerbSpec& other : VerbTable()) {
        bool listed = false;
        for (const args::OptionSpec& o : other.options) listed = listed || o.name == option.name;
        if (listed) continue;
        const ParseOutcome outcome = ParseCommandLine({std::string(other.name), "--" + option.name, "1"});
        EXPECT_FALSE(outcome.command.has_value()) << other.name << " --" << option.name;
        // blocks --all (lsmem's) shares its name with the global --all (status only), which
        // then refuses the line in its own words.
        bool global = false;
        for (const args::OptionSpec& g : GlobalOptionSpecs()) global = global || g.name == option.name;
        if (global) continue;
        EXPECT_THAT(outcome.error, HasSubstr("unknown option --" + option.name)) << other.name;
      }
    }
  }
}

TEST(VerbTableTest, GlobalHelpListsEveryVerbAndTheGlobalOptions) {
  const std::string usage = UsageText();
  for (const VerbSpec& row : VerbTable()) {
    EXPECT_THAT(usage, HasSubstr("\n  " + std::string(row.name) + " ")) << row.name;
    EXPECT_THAT(usage, HasSubstr(std::string(row.summary))) << row.name;
  }
  for (const args::OptionSpec& option : GlobalOptionSpecs()) EXPECT_THAT(usage, HasSubstr("--" + option.name));
  EXPECT_THAT(usage, HasSubstr("memhpctl COMMAND --help"));
}

TEST(VerbHelpTest, VerbDashDashHelpAndHelpVerbAskForTheSameHelp) {
  for (const std::vector<std::string>& words : std::vector<std::vector<std::string>>{
           {"plug", "--help"}, {"plug", "-h"}, {"help", "plug"}, {"--json", "help", "plug"},
           {"plug", "--size", "1G", "--help"}}) {
    const ParseOutcome outcome = ParseCommandLine(words);
    ASSERT_TRUE(outcome.command.has_value()) << outcome.error;
    EXPECT_EQ(outcome.command->verb, Verb::kHelp);
    EXPECT_EQ(outcome.command->help.topic, Verb::kPlug);
  }
  const ParseOutcome all = ParseCommandLine({"help"});
  ASSERT_TRUE(all.command.has_value());
  EXPECT_EQ(all.command->help.topic, std::nullopt);
  const ParseOutcome before = ParseCommandLine({"--help", "plug"});
  ASSERT_TRUE(before.command.has_value());
  EXPECT_EQ(before.command->help.topic, std::nullopt) << "--help before any verb is the whole list";
}

TEST(VerbHelpTest, PrintsOnlyThatVerbsUsageAndExitsZero) {
  for (const std::vector<std::string>& words : std::vector<std::vector<std::string>>{{"plug", "--help"}, {"help", "plug"}}) {
    const CliRun run = RunCli(words);
    EXPECT_EQ(run.code, kExitOk);
    EXPECT_EQ(run.out, VerbUsageText(Verb::kPlug));
    EXPECT_EQ(run.err, "");
  }
  const CliRun plug = RunCli({"plug", "--help"});
  EXPECT_THAT(plug.out, HasSubstr("  --size SIZE"));
  EXPECT_THAT(plug.out, HasSubstr("  --node N"));
  EXPECT_THAT(plug.out, Not(HasSubstr("\n  unplug")));
}

TEST(VerbHelpTest, HelpAloneIsTheWholeList) {
  const CliRun run = RunCli({"help"});
  EXPECT_EQ(run.code, kExitOk);
  EXPECT_EQ(run.out, UsageText());
  EXPECT_EQ(RunCli({"--help"}).out, UsageText());
}

TEST(RunCommandLineTest, AnAnswerThatCannotBeWrittenIsNoSuccess) {
  // /dev/full: every write fails with ENOSPC, as on a full disk.
  const int full = open("/dev/full", O_WRONLY | O_CLOEXEC);
  ASSERT_GE(full, 0);
  std::fflush(stdout);
  const int saved = dup(STDOUT_FILENO);
  ASSERT_GE(saved, 0);
  ASSERT_EQ(dup2(full, STDOUT_FILENO), STDOUT_FILENO);
  ::testing::internal::CaptureStderr();
  const int code = RunCommandLine({"version"});
  const std::string err = ::testing::internal::GetCapturedStderr();
  std::clearerr(stdout);
  ASSERT_EQ(dup2(saved, STDOUT_FILENO), STDOUT_FILENO);
  close(saved);
  close(full);
  EXPECT_EQ(code, kExitFailed);
  EXPECT_THAT(err, HasSubstr("memhpctl: writing the answer to stdout failed: No space left on device"));
}

struct UsageErrorCase {
  const char* name;
  std::vector<std::string> args;
  std::string message;  // the whole of stderr
};
void PrintTo(const UsageErrorCase& c, std::ostream* os) { *os << c.name; }

class UsageErrorTest : public ::testing::TestWithParam<UsageErrorCase> {};

TEST_P(UsageErrorTest, ExitsTwoNamingTheProblem) {
  const CliRun run = RunCli(GetParam().args);
  EXPECT_EQ(run.code, kExitUsage);
  EXPECT_EQ(run.out, "");
  EXPECT_EQ(run.err, GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    Table, UsageErrorTest,
    ::testing::Values(
        UsageErrorCase{"UnknownVerb", {"hotplug"}, "memhpctl: unknown command 'hotplug' (see memhpctl help)\n"},
        UsageErrorCase{"UnknownVerbAfterGlobals", {"--vm", "x", "hotplug"},
                       "memhpctl: unknown command 'hotplug' (see memhpctl help)\n"},
        UsageErrorCase{"UnknownHelpTopic", {"help", "hotplug"},
                       "memhpctl: unknown command 'hotplug' (see memhpctl help)\n"},
        UsageErrorCase{"HelpOfTwoVerbs", {"help", "plug", "unplug"},
                       "memhpctl: unexpected argument 'unplug' after 'help'\n"},
        UsageErrorCase{"UnknownOption", {"plug", "--bogus"},
                       "memhpctl: unknown option --bogus for 'plug' (see memhpctl plug --help)\n"},
        UsageErrorCase{"UnknownOptionBeforeAVerb", {"--bogus", "plug"}, "memhpctl: unknown option --bogus\n"},
        UsageErrorCase{"NoVerb", {}, "memhpctl: no command given (see memhpctl help)\n"}),
    [](const ::testing::TestParamInfo<UsageErrorCase>& param_info) { return std::string(param_info.param.name); });

}  // namespace
}  // namespace memhp::cli
