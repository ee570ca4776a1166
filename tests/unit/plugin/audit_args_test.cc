// The plugin's arguments: defaults, every accepted form, and a clear error for each bad one.
#include "audit_args.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace memhp::audit {
namespace {

using ::testing::HasSubstr;

ArgsResult Parse(std::vector<std::string_view> argv) { return ParseAuditArgs(argv); }

TEST(AuditArgsTest, DefaultsWithNoArguments) {
  const ArgsResult r = Parse({});
  ASSERT_TRUE(r.args) << r.error;
  EXPECT_EQ(r.args->block_size, uint64_t{128} << 20);
  EXPECT_EQ(r.args->max_violations, 1024u);
  EXPECT_FALSE(r.args->armed);
  EXPECT_EQ(r.args->socket_path, "");
  EXPECT_EQ(r.args->report_path, "");
}

TEST(AuditArgsTest, AcceptsEveryArgument) {
  const ArgsResult r = Parse({"block_size=256M", "max_violations=16", "armed=on",
                              "socket=/tmp/a.sock", "report=/tmp/r.json"});
  ASSERT_TRUE(r.args) << r.error;
  EXPECT_EQ(r.args->block_size, uint64_t{256} << 20);
  EXPECT_EQ(r.args->max_violations, 16u);
  EXPECT_TRUE(r.args->armed);
  EXPECT_EQ(r.args->socket_path, "/tmp/a.sock");
  EXPECT_EQ(r.args->report_path, "/tmp/r.json");
}

TEST(AuditArgsTest, SizesAndBooleans) {
  struct Case {
    std::string arg;
    uint64_t block_size;
  };
  for (const Case& c : std::vector<Case>{{"block_size=4096", 4096},
                                         {"block_size=4K", 4096},
                                         {"block_size=2m", 2 << 20},
                                         {"block_size=1G", uint64_t{1} << 30}}) {
    const ArgsResult r = Parse({c.arg});
    ASSERT_TRUE(r.args) << c.arg << ": " << r.error;
    EXPECT_EQ(r.args->block_size, c.block_size) << c.arg;
  }
  for (const char* on : {"armed=on", "armed=yes", "armed=true"}) {
    EXPECT_TRUE(Parse({on}).args->armed) << on;
  }
  for (const char* off : {"armed=off", "armed=no", "armed=false"}) {
    EXPECT_FALSE(Parse({off}).args->armed) << off;
  }
}

TEST(AuditArgsTest, RefusesBadInputWithTheArgumentNamed) {
  struct Case {
    std::vector<std::string_view> argv;
    std::string error;
  };
  const std::string long_path(120, 'x');
  const std::string long_socket = "socket=/" + long_path;
  const std::vector<Case> cases = {
      {{"verbose"}, "verbose: expected KEY=VALUE"},
      {{"colour=blue"}, "colour=blue: unknown argument"},
      {{"armed=on", "armed=off"}, "armed=off: given more than once"},
      {{"block_size="}, "block_size=: not a size"},
      {{"block_size=12Q"}, "block_size=12Q: not a size"},
      {{"block_size=-4096"}, "not a size"},
      {{"block_size=99999999999999999999"}, "not a size"},
      {{"block_size=17179869184G"}, "not a size"},  // overflows 64 bits
      {{"block_size=3M"}, "block_size=3M: must be a power of two"},
      {{"block_size=2K"}, "at least 4096"},
      {{"max_violations=0"}, "max_violations=0: must be a whole number from 1"},
      {{"max_violations=2000000"}, "from 1 to 1048576"},
      {{"max_violations=ten"}, "must be a whole number"},
      {{"armed=maybe"}, "armed=maybe: must be on or off"},
      {{"socket="}, "socket=: empty path"},
      {{long_socket}, "path too long"},
      {{"report="}, "report=: empty path"},
  };
  for (const Case& c : cases) {
    const ArgsResult r = Parse(c.argv);
    EXPECT_FALSE(r.args) << c.error;
    EXPECT_THAT(r.error, HasSubstr(c.error));
  }
}

TEST(AuditArgsTest, ParseSize) {
  EXPECT_EQ(ParseSize("0"), 0u);
  EXPECT_EQ(ParseSize("128M"), uint64_t{128} << 20);
  EXPECT_EQ(ParseSize(""), std::nullopt);
  EXPECT_EQ(ParseSize("M"), std::nullopt);
  EXPECT_EQ(ParseSize("1.5G"), std::nullopt);
  EXPECT_EQ(ParseSize("18446744073709551615"), UINT64_MAX);
  EXPECT_EQ(ParseSize("18446744073709551616"), std::nullopt);
}

}  // namespace
}  // namespace memhp::audit
