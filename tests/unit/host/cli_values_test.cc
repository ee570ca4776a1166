// memhp tests — how memhpctl reads values and words (memhpctl/cli_values.h, cli_args.h): every
// size, address, duration and block-list form, good and bad, as tables; the short flags
// (-h -V -j -q), bundled or not; `--` ending the options; --range in both its forms.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "memhpctl/cli_args.h"
#include "memhpctl/cli_values.h"

namespace memhp::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr uint64_t KiB = uint64_t{1} << 10;
constexpr uint64_t MiB = uint64_t{1} << 20;
constexpr uint64_t GiB = uint64_t{1} << 30;
constexpr uint64_t TiB = uint64_t{1} << 40;

struct SizeCase {
  std::string text;
  std::optional<uint64_t> bytes;
};
void PrintTo(const SizeCase& c, std::ostream* os) { *os << "'" << c.text << "'"; }

class ParseSizeTest : public ::testing::TestWithParam<SizeCase> {};

TEST_P(ParseSizeTest, ReadsAsVirshDoes) { EXPECT_EQ(ParseSize(GetParam().text), GetParam().bytes); }

INSTANTIATE_TEST_SUITE_P(
    Table, ParseSizeTest,
    ::testing::Values(
        // A bare number is bytes.
        SizeCase{"0", 0}, SizeCase{"512", 512}, SizeCase{"268435456", 256 * MiB}, SizeCase{"1B", 1},
        SizeCase{"7b", 7},
        // Binary: K, KiB ... T, TiB, any case.
        SizeCase{"4K", 4 * KiB}, SizeCase{"4k", 4 * KiB}, SizeCase{"4KiB", 4 * KiB}, SizeCase{"4kib", 4 * KiB},
        SizeCase{"256M", 256 * MiB}, SizeCase{"256MiB", 256 * MiB}, SizeCase{"256m", 256 * MiB},
        SizeCase{"1G", GiB}, SizeCase{"1GiB", GiB}, SizeCase{"2T", 2 * TiB}, SizeCase{"2TiB", 2 * TiB},
        // SI: KB, MB, GB, TB.
        SizeCase{"1KB", 1000}, SizeCase{"1kb", 1000}, SizeCase{"256MB", 256'000'000}, SizeCase{"1GB", 1'000'000'000},
        SizeCase{"3TB", 3'000'000'000'000},
        // Hex: bytes, no unit.
        SizeCase{"0x1000", 4096}, SizeCase{"0X140000000", 0x140000000}, SizeCase{"0xffffffffffffffff", UINT64_MAX},
        // The largest of each.
        SizeCase{"18446744073709551615", UINT64_MAX}, SizeCase{"16777215T", 16777215 * TiB},
        // Wrong.
        SizeCase{"", std::nullopt}, SizeCase{"M", std::nullopt}, SizeCase{"KiB", std::nullopt},
        SizeCase{"1.5G", std::nullopt}, SizeCase{"-1", std::nullopt}, SizeCase{"+1", std::nullopt},
        SizeCase{"256X", std::nullopt}, SizeCase{"256 M", std::nullopt}, SizeCase{" 256M", std::nullopt},
        SizeCase{"256Mi", std::nullopt}, SizeCase{"256MiBs", std::nullopt}, SizeCase{"256iB", std::nullopt},
        SizeCase{"1P", std::nullopt}, SizeCase{"0x", std::nullopt}, SizeCase{"0x10M", std::nullopt},
        SizeCase{"0xg", std::nullopt}, SizeCase{"18446744073709551616", std::nullopt},
        SizeCase{"16777216T", std::nullopt}, SizeCase{"0x10000000000000000", std::nullopt},
        SizeCase{"18446744073709552KB", std::nullopt}));

struct DurationCase {
  std::string text;
  BareNumber bare;
  std::optional<int64_t> ms;
};
void PrintTo(const DurationCase& c, std::ostream* os) { *os << "'" << c.text << "'"; }

class ParseDurationTest : public ::testing::TestWithParam<DurationCase> {};

TEST_P(ParseDurationTest, ReadsOneTimeStyle) {
  const std::optional<std::chrono::milliseconds> got = ParseDuration(GetParam().text, GetParam().bare);
  EXPECT_EQ(got ? std::optional<int64_t>(got->count()) : std::nullopt, GetParam().ms);
}

constexpr BareNumber kS = BareNumber::kSeconds;
constexpr BareNumber kUnit = BareNumber::kRefused;

INSTANTIATE_TEST_SUITE_P(
    Table, ParseDurationTest,
    ::testing::Values(
        DurationCase{"30", kS, 30'000}, DurationCase{"0", kS, 0}, DurationCase{"30s", kS, 30'000},
        DurationCase{"500ms", kS, 500}, DurationCase{"2m", kS, 120'000}, DurationCase{"2min", kS, 120'000},
        DurationCase{"1h", kS, 3'600'000}, DurationCase{"500ms", kUnit, 500}, DurationCase{"5s", kUnit, 5000},
        // A bare number where the option once took milliseconds: refused.
        DurationCase{"500", kUnit, std::nullopt},
        DurationCase{"", kS, std::nullopt}, DurationCase{"s", kS, std::nullopt}, DurationCase{"1.5s", kS, std::nullopt},
        DurationCase{"-1s", kS, std::nullopt}, DurationCase{"5 s", kS, std::nullopt}, DurationCase{"5S", kS, std::nullopt},
        DurationCase{"5sec", kS, std::nullopt}, DurationCase{"1d", kS, std::nullopt}, DurationCase{"1m30s", kS, std::nullopt},
        DurationCase{"5us", kS, std::nullopt}, DurationCase{"0x10s", kS, std::nullopt},
        DurationCase{"99999999999999999999", kS, std::nullopt}, DurationCase{"9223372036854775807h", kS, std::nullopt}));

struct BlockListCase {
  std::string text;
  std::vector<uint32_t> ids;  // empty: an error
  std::string why = "";       // part of the error
};
void PrintTo(const BlockListCase& c, std::ostream* os) { *os << "'" << c.text << "'"; }

class ParseBlockListTest : public ::testing::TestWithParam<BlockListCase> {};

TEST_P(ParseBlockListTest, ReadsIdsAndRanges) {
  const Result<std::vector<uint32_t>> got = ParseBlockList(GetParam().text);
  if (GetParam().ids.empty()) {
    ASSERT_FALSE(got.ok());
    EXPECT_THAT(got.error().message, HasSubstr(GetParam().why));
    EXPECT_THAT(got.error().message, HasSubstr("'" + GetParam().text + "'"));
  } else {
    ASSERT_TRUE(got.ok()) << got.error().message;
    EXPECT_EQ(got.value(), GetParam().ids);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, ParseBlockListTest,
    ::testing::Values(
        BlockListCase{"40", {40}}, BlockListCase{"40,41", {40, 41}}, BlockListCase{"40-43", {40, 41, 42, 43}},
        BlockListCase{"40-42,50", {40, 41, 42, 50}}, BlockListCase{"50,40-41", {50, 40, 41}},
        BlockListCase{"7-7", {7}}, BlockListCase{"0", {0}}, BlockListCase{"4294967295", {4294967295u}},
        BlockListCase{"", {}, "an empty item"}, BlockListCase{"40,", {}, "an empty item"},
        BlockListCase{",40", {}, "an empty item"}, BlockListCase{"40,,41", {}, "an empty item"},
        BlockListCase{"x", {}, "no block id"}, BlockListCase{"40-", {}, "no block id"},
        BlockListCase{"-40", {}, "no block id"}, BlockListCase{"40-41-42", {}, "no block id"},
        BlockListCase{"+4", {}, "no block id"}, BlockListCase{"4 ", {}, "no block id"},
        BlockListCase{"0x28", {}, "no block id"}, BlockListCase{"4294967296", {}, "no block id"},
        BlockListCase{"47-40", {}, "ends before it starts"}, BlockListCase{"40,40", {}, "block 40 is listed twice"},
        BlockListCase{"40-45,44", {}, "block 44 is listed twice"},
        BlockListCase{"0-4294967295", {}, "more than 4096 blocks"}, BlockListCase{"0-4096", {}, "more than 4096"}));

TEST(ParseBlockListTest, TheMostIdsAListMayName) {
  const Result<std::vector<uint32_t>> most = ParseBlockList("0-4095");
  ASSERT_TRUE(most.ok());
  EXPECT_EQ(most.value().size(), kMaxListedBlocks);
  const Result<std::vector<uint32_t>> one_more = ParseBlockList("0-4094,5000,6000");
  ASSERT_FALSE(one_more.ok());
  EXPECT_EQ(one_more.error().errno_value, E2BIG);
}

// ---------------------------------------------------------------------------------------------
// The words around the values.

Command Parsed(const std::vector<std::string>& args) {
  const ParseOutcome outcome = ParseCommandLine(args);
  EXPECT_TRUE(outcome.command.has_value()) << outcome.error;
  return outcome.command.value_or(Command{});
}

std::string ErrorOf(const std::vector<std::string>& args) {
  const ParseOutcome outcome = ParseCommandLine(args);
  EXPECT_FALSE(outcome.command.has_value());
  return outcome.error;
}

TEST(ShortFlagsTest, VersionAnywhere) {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"-V"}, {"--version"}, {"version"}, {"status", "-V"}, {"--vm", "x", "--version"}, {"-jV"}}) {
    EXPECT_EQ(Parsed(args).verb, Verb::kVersion) << args[0];
  }
  EXPECT_THAT(ErrorOf({"--version=1"}), HasSubstr("--version takes no value"));
}

TEST(ShortFlagsTest, JsonAndQuietAloneOrBundled) {
  const Command j = Parsed({"-j", "status"});
  EXPECT_TRUE(j.global.json);
  EXPECT_FALSE(j.global.quiet);
  const Command q = Parsed({"status", "-q"});
  EXPECT_TRUE(q.global.quiet);
  EXPECT_FALSE(q.global.json);
  for (const char* both : {"-jq", "-qj"}) {
    const Command c = Parsed({"zones", both});
    EXPECT_TRUE(c.global.json) << both;
    EXPECT_TRUE(c.global.quiet) << both;
  }
  EXPECT_TRUE(Parsed({"--quiet", "zones"}).global.quiet);
  const Command help = Parsed({"plug", "-jh"});
  EXPECT_EQ(help.verb, Verb::kHelp);
  EXPECT_EQ(help.help.topic, Verb::kPlug);
}

TEST(ShortFlagsTest, AnUnknownLetterIsAUsageError) {
  EXPECT_THAT(ErrorOf({"status", "-x"}), HasSubstr("unknown option -x"));
  EXPECT_THAT(ErrorOf({"-jx", "status"}), HasSubstr("unknown option -x"));
  EXPECT_THAT(ErrorOf({"-v", "status"}), HasSubstr("-V version"));
}

TEST(DoubleDashTest, EndsTheOptions) {
  // A QMP command's JSON could start with '-' no more than a device id can, but a word after
  // `--` is a word whatever it looks like.
  const Command qmp = Parsed({"qmp", "--timeout", "3s", "--", "query-status", "--json"});
  EXPECT_EQ(qmp.qmp.command, "query-status");
  EXPECT_EQ(qmp.qmp.arguments_json, "--json");
  EXPECT_FALSE(qmp.global.json);
  EXPECT_EQ(qmp.qmp.timeout_ms, 3000u);
  EXPECT_EQ(Parsed({"--", "status"}).verb, Verb::kStatus);
  EXPECT_EQ(Parsed({"unplug", "--", "dimm1"}).unplug.device_id, "dimm1");
  EXPECT_THAT(ErrorOf({"unplug", "--", "--force"}), HasSubstr("'--force'"));
  EXPECT_THAT(ErrorOf({"status", "--", "--help"}), HasSubstr("unexpected argument '--help'"));
  EXPECT_THAT(ErrorOf({"unplug", "--", "-"}), HasSubstr("device id"));
}

TEST(RangeTest, StartColonSizeOrStartDashEnd) {
  const Command colon = Parsed({"online", "--range", "0x140000000:256M"});
  EXPECT_EQ(colon.block_op.selection.range_start, 0x140000000u);
  EXPECT_EQ(colon.block_op.selection.range_size, 256 * MiB);
  const Command decimal = Parsed({"online", "--range", "5368709120:268435456"});
  EXPECT_EQ(decimal.block_op.selection.range_start, 5 * GiB);
  EXPECT_EQ(decimal.block_op.selection.range_size, 256 * MiB);
  const Command lsmem = Parsed({"offline", "--range", "0x0000000140000000-0x000000014fffffff"});
  EXPECT_EQ(lsmem.block_op.selection.range_start, 0x140000000u);
  EXPECT_EQ(lsmem.block_op.selection.range_size, 256 * MiB);
  const Command units = Parsed({"offline", "--range", "5G-5376M"});
  EXPECT_EQ(units.block_op.selection.range_size, 256 * MiB + 1);
  for (const char* bad : {"0x140000000", "0x140000000:0", "0x150000000-0x140000000", ":256M", "5G:", "5G-",
                          "0xffffffffffffffff:2", "1.5G:1G", "0x10:0x10:0x10", "0-0xffffffffffffffff"}) {
    EXPECT_THAT(ErrorOf({"online", "--range", bad}), HasSubstr("--range takes START:SIZE or START-END")) << bad;
  }
}

TEST(BlocksOptionTest, TakesRangesAndNamesTheBadItem) {
  EXPECT_THAT(Parsed({"online", "--blocks", "40-43,50"}).block_op.selection.blocks, ElementsAre(40, 41, 42, 43, 50));
  EXPECT_THAT(ErrorOf({"online", "--blocks", "40-x"}), HasSubstr("--blocks: '40-x': '40-x' is no block id"));
  EXPECT_THAT(ErrorOf({"online", "--blocks", "40", "--blocks", "41"}), HasSubstr("--blocks is given once"));
}

TEST(DurationOptionTest, EveryTimeoutTakesTheOneStyle) {
  EXPECT_EQ(Parsed({"stop", "--timeout", "90s"}).stop.timeout_ms, 90'000u);
  EXPECT_EQ(Parsed({"stop", "--timeout", "2m"}).stop.timeout_ms, 120'000u);
  EXPECT_EQ(Parsed({"stop", "--timeout", "45"}).stop.timeout_ms, 45'000u);
  EXPECT_EQ(Parsed({"launch", "--boot-timeout", "3m"}).launch.boot_timeout_ms, 180'000u);
  EXPECT_EQ(Parsed({"plug", "--size", "128M", "--node", "0", "--timeout", "1h"}).plug.timeout_ms, 3'600'000u);
  EXPECT_EQ(Parsed({"resize", "vmem0", "--size", "0", "--timeout", "90s"}).resize.timeout_ms, 90'000u);
  EXPECT_EQ(Parsed({"qmp", "query-status", "--timeout", "500ms"}).qmp.timeout_ms, 500u);
  EXPECT_EQ(Parsed({"offline", "--blocks", "40", "--block-timeout", "5s"}).block_op.block_timeout_ms, 5000u);
  EXPECT_EQ(Parsed({"unplug", "dimm1", "--block-timeout", "250ms"}).unplug.block_timeout_ms, 250u);
  // A whole operation is not given less than a second; an hour at most.
  EXPECT_THAT(ErrorOf({"stop", "--timeout", "500ms"}), HasSubstr("from 1 s to 1 h"));
  EXPECT_THAT(ErrorOf({"stop", "--timeout", "2h"}), HasSubstr("from 1 s to 1 h"));
  EXPECT_THAT(ErrorOf({"stop", "--timeout", "0"}), HasSubstr("'0'"));
  EXPECT_THAT(ErrorOf({"offline", "--blocks", "40", "--block-timeout", "5000"}),
              HasSubstr("its unit must be given: it took milliseconds before"));
}

TEST(SizeOptionTest, BareNumbersAreBytesEverywhere) {
  EXPECT_EQ(Parsed({"plug", "--size", "134217728", "--node", "0"}).plug.size, 128 * MiB);
  EXPECT_EQ(Parsed({"plug", "--size", "128MiB", "--node", "0"}).plug.size, 128 * MiB);
  EXPECT_EQ(Parsed({"plug", "--size", "0x8000000", "--node", "0"}).plug.size, 128 * MiB);
  EXPECT_EQ(Parsed({"online", "--node", "1", "--size", "256MB"}).block_op.selection.size, 256'000'000u);
  EXPECT_EQ(Parsed({"launch", "--memory", "1G", "--maxmem", "8GiB", "--virtio-mem-max", "1024M"}).launch.memory_mib,
            1024u);
  EXPECT_EQ(Parsed({"launch", "--maxmem", "8GiB"}).launch.maxmem_mib, 8192u);
  EXPECT_EQ(Parsed({"launch", "--virtio-mem-max", "1024M"}).launch.virtio_mem_max_mib, 1024u);
  EXPECT_THAT(ErrorOf({"launch", "--maxmem", "4096"}), HasSubstr("a bare number is bytes"));
  EXPECT_THAT(ErrorOf({"launch", "--virtio-mem-max", "1000KB"}), HasSubstr("in whole 1 MiB"));
  EXPECT_THAT(ErrorOf({"plug", "--size", "0", "--node", "0"}), HasSubstr("--size takes a size"));
}

TEST(VerbLettersTest, BlocksTakesLsmemsShortOptions) {
  const Command c = Parsed({"blocks", "-o", "RANGE,SIZE", "-bn", "-r", "-a", "-J"});
  EXPECT_EQ(c.verb, Verb::kBlocks);
  EXPECT_EQ(c.blocks.view.columns, (std::vector<ctl::BlockColumn>{ctl::BlockColumn::kRange, ctl::BlockColumn::kSize}));
  EXPECT_TRUE(c.blocks.view.bytes);
  EXPECT_TRUE(c.blocks.view.noheadings);
  EXPECT_TRUE(c.blocks.view.raw);
  EXPECT_TRUE(c.blocks.view.all);
  EXPECT_TRUE(c.global.json) << "-J is lsmem's --json";
  EXPECT_EQ(Parsed({"blocks", "-oSTATE"}).blocks.view.columns, std::vector<ctl::BlockColumn>{ctl::BlockColumn::kState});
  EXPECT_EQ(Parsed({"blocks", "-bo", "NODE"}).blocks.view.columns, std::vector<ctl::BlockColumn>{ctl::BlockColumn::kNode});
  const Command split = Parsed({"blocks", "--split", "none"});
  EXPECT_TRUE(split.blocks.view.split_given);
  EXPECT_TRUE(split.blocks.view.split.empty());
  EXPECT_THAT(ErrorOf({"blocks", "-o"}), HasSubstr("-o (--output) needs a value"));
  EXPECT_THAT(ErrorOf({"blocks", "-o", "RANGE,BOGUS"}), HasSubstr("--output: unknown column 'BOGUS'"));
  EXPECT_THAT(ErrorOf({"blocks", "--split", "SIZE"}), HasSubstr("does not split"));
  // A verb's letters are its own: plug has no -b.
  EXPECT_THAT(ErrorOf({"plug", "-b"}), HasSubstr("unknown option -b"));
}

}  // namespace
}  // namespace memhp::cli
