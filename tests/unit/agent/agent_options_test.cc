// memhp tests — memhp-agent's command line (guest-agent/agent_options.h): the defaults README
// documents, every option into its field, and every bad value an error naming it (never a
// default in its place).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <ostream>
#include <string>
#include <vector>

#include "agent_options.h"

namespace memhp::agent {
namespace {

using ::testing::HasSubstr;

Result<AgentOptions> Parse(std::vector<std::string> words) {
  words.insert(words.begin(), "memhp-agent");
  return ParseAgentOptions(words);
}

TEST(AgentOptionsTest, DefaultsAreTheDocumentedOnes) {
  const Result<AgentOptions> parsed = Parse({});
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->port_name, "org.memhp.agent.0");
  EXPECT_EQ(parsed->socket_path, "");
  EXPECT_FALSE(parsed->version);
  EXPECT_EQ(parsed->daemon.sysfs_root, "/");
  EXPECT_EQ(parsed->daemon.policy.kind, PolicyKind::kAutoMovable);
  EXPECT_EQ(parsed->daemon.policy.movable_ratio_percent, 301u);
  EXPECT_TRUE(parsed->daemon.policy.numa_aware);
  EXPECT_EQ(parsed->daemon.event_backlog, 4096u);
  EXPECT_EQ(parsed->daemon.reserve_bytes, 128ull << 20);
  EXPECT_EQ(parsed->daemon.hooks_dir, "/etc/memhp/hooks.d");
  EXPECT_EQ(parsed->daemon.pins_dir, "/run/memhp/pins");
  EXPECT_TRUE(parsed->daemon.pressure_events);
  EXPECT_EQ(parsed->daemon.pressure.threshold_us, 100'000u);
  EXPECT_EQ(parsed->daemon.pressure.window_us, 1'000'000u);
}

TEST(AgentOptionsTest, PressureTriggerOptions) {
  Result<AgentOptions> parsed = Parse({"--pressure-threshold-ms", "250", "--pressure-window-ms", "2000"});
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_TRUE(parsed->daemon.pressure_events);
  EXPECT_EQ(parsed->daemon.pressure.threshold_us, 250'000u);
  EXPECT_EQ(parsed->daemon.pressure.window_us, 2'000'000u);
  // 0 turns the events off; the window is then not checked.
  parsed = Parse({"--pressure-threshold-ms", "0", "--pressure-window-ms", "1"});
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_FALSE(parsed->daemon.pressure_events);
}

TEST(AgentOptionsTest, EveryOptionReachesItsField) {
  const Result<AgentOptions> parsed =
      Parse({"--port-name", "org.x.1", "--socket=/tmp/a.sock", "--sysfs-root", "/fake", "--policy", "online_movable",
             "--movable-ratio", "0", "--event-backlog", "7", "--reserve-mib", "0", "--hooks-dir", "/h", "--pins-dir",
             "/p"});
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->port_name, "org.x.1");
  EXPECT_EQ(parsed->socket_path, "/tmp/a.sock");
  EXPECT_EQ(parsed->daemon.sysfs_root, "/fake");
  EXPECT_EQ(parsed->daemon.policy.kind, PolicyKind::kOnlineMovable);
  EXPECT_EQ(parsed->daemon.policy.movable_ratio_percent, 0u);
  EXPECT_EQ(parsed->daemon.event_backlog, 7u);
  EXPECT_EQ(parsed->daemon.reserve_bytes, 0u);
  EXPECT_EQ(parsed->daemon.hooks_dir, "/h");
  EXPECT_EQ(parsed->daemon.pins_dir, "/p");
}

TEST(AgentOptionsTest, ShortNames) {
  const Result<AgentOptions> parsed = Parse({"-p", "org.y", "-s", "/s"});
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->port_name, "org.y");
  EXPECT_EQ(parsed->socket_path, "/s");
}

TEST(AgentOptionsTest, VersionWinsOverTheRest) {
  // The boot test runs the agent with --version alone; it never looked at the other options.
  const Result<AgentOptions> parsed = Parse({"--policy", "nonsense", "--version"});
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_TRUE(parsed->version);
}

struct BadCase {
  const char* name;
  std::vector<std::string> words;
  std::vector<std::string> message_parts;
};
void PrintTo(const BadCase& c, std::ostream* os) { *os << c.name; }

class AgentOptionsErrorTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(AgentOptionsErrorTest, IsAnInvalidArgumentNamingTheProblem) {
  const Result<AgentOptions> parsed = Parse(GetParam().words);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().errno_value, EINVAL);
  for (const std::string& part : GetParam().message_parts) EXPECT_THAT(parsed.error().message, HasSubstr(part));
}

INSTANTIATE_TEST_SUITE_P(
    Table, AgentOptionsErrorTest,
    ::testing::Values(
        BadCase{"RatioNotANumber", {"--movable-ratio", "lots"}, {"movable-ratio", "lots"}},
        BadCase{"RatioTrailingGarbage", {"--movable-ratio", "30x"}, {"movable-ratio", "30x"}},
        BadCase{"RatioNegative", {"--movable-ratio", "-1"}, {"--movable-ratio", "at least 0", "-1"}},
        BadCase{"BacklogZero", {"--event-backlog", "0"}, {"--event-backlog", "at least 1", "0"}},
        BadCase{"BacklogOverflow", {"--event-backlog", "99999999999"}, {"event-backlog", "99999999999"}},
        BadCase{"ReserveNegative", {"--reserve-mib=-5"}, {"--reserve-mib", "-5"}},
        BadCase{"ReserveEmpty", {"--reserve-mib="}, {"reserve-mib"}},
        BadCase{"UnknownPolicy", {"--policy", "online-movable"}, {"online-movable"}},
        BadCase{"UnknownOption", {"--verbose"}, {"--verbose"}},
        BadCase{"MissingValue", {"--policy"}, {"--policy"}},
        BadCase{"StrayWord", {"status"}, {"unexpected argument 'status'"}},
        BadCase{"EmptyPortName", {"--port-name="}, {"--port-name"}},
        BadCase{"EmptySocket", {"--socket="}, {"--socket"}},
        BadCase{"EmptySysfsRoot", {"--sysfs-root="}, {"--sysfs-root"}},
        BadCase{"PressureWindowTooShort", {"--pressure-window-ms", "100"}, {"--pressure-", "500 ms to 10 s"}},
        BadCase{"PressureThresholdOverWindow", {"--pressure-threshold-ms", "3000"}, {"threshold", "at most the window"}},
        BadCase{"PressureWindowHuge", {"--pressure-window-ms", "2000000000"}, {"at most 10000"}},
        BadCase{"PressureNegative", {"--pressure-threshold-ms", "-1"}, {"--pressure-threshold-ms", "at least 0"}}),
    [](const ::testing::TestParamInfo<BadCase>& param_info) { return std::string(param_info.param.name); });

}  // namespace
}  // namespace memhp::agent
