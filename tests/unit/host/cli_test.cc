// memhp tests — memhpctl's command line (memhpctl/cli_args.h) and the QEMU command line of a
// memhp VM (launcher/qemu_command.h). Both are pure functions, so the tests are tables: the words
// a user types and the Command they mean, or the usage error naming what is wrong; a layout and
// whether it boots; the default layout and its QEMU arguments (docs/test-vm.md, "The default VM").
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include "launcher/qemu_command.h"
#include "memhpctl/cli_args.h"

namespace memhp {
namespace {

using ::testing::AllOf;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

// ---------------------------------------------------------------------------------------------
// ParseCommandLine

// Every field of a Command, one per line, so a mismatch shows which field differs.
std::string Describe(const cli::Command& c) {
  std::ostringstream o;
  o << "verb=" << static_cast<int>(c.verb) << "\n"
    << "vm=" << c.global.vm << "\nstate_root=" << c.global.state_root << "\njson=" << c.global.json << "\nquiet=" << c.global.quiet << "\nall=" << c.global.all
    << "\nimage=" << static_cast<int>(c.launch.image)
    << "\nkernel=" << c.launch.kernel << "\ninitrd=" << c.launch.initrd
    << "\naccel=" << static_cast<int>(c.launch.accel) << "\nboot_timeout_ms=" << c.launch.boot_timeout_ms
    << "\nmemory_mib=" << c.launch.memory_mib << "\nnodes=" << c.launch.nodes
    << "\nslots=" << c.launch.slots << "\nmaxmem_mib=" << c.launch.maxmem_mib
    << "\nvirtio_mem_max_mib=" << c.launch.virtio_mem_max_mib << "\nagent_args=" << c.launch.agent_args
    << "\nkernel_append=" << c.launch.kernel_append
    << "\nqmp=" << c.attach.qmp << "\nagent=" << c.attach.agent << "\nrefresh=" << c.status.refresh
    << "\ntimeout_ms=" << c.stop.timeout_ms << "\nqmp_timeout_ms=" << c.qmp.timeout_ms
    << "\nplug=" << c.plug.device_id << "," << c.plug.size << "," << c.plug.node << ","
    << static_cast<int>(c.plug.zone) << "," << c.plug.timeout_ms
    << "\nunplug=" << c.unplug.device_id << "," << c.unplug.force << "," << c.unplug.timeout_ms << ","
    << c.unplug.block_timeout_ms << "," << c.unplug.dry_run
    << "\nresize=" << c.resize.device_id << "," << c.resize.size << "," << c.resize.size_given << ","
    << c.resize.offline_first << "," << c.resize.timeout_ms << "," << c.resize.dry_run
    << "\npolicy=" << c.policy.policy << "," << c.policy.ratio_percent
    << "\nwatch_replay=" << c.watch.replay_recent << "\nblocks=";
  for (uint32_t b : c.block_op.selection.blocks) o << b << ",";
  o << "\nrange=" << c.block_op.selection.range_start << "+" << c.block_op.selection.range_size
    << "\nblock_timeout_ms=" << c.block_op.block_timeout_ms << "\nqmp=" << c.qmp.command << " "
    << c.qmp.arguments_json << "\nhelp_topic=" << (c.help.topic ? static_cast<int>(*c.help.topic) : -1) << "\n";
  return o.str();
}

struct ValidCase {
  const char* name;
  std::vector<std::string> args;
  // The default Command, changed into what `args` mean.
  void (*expect)(cli::Command&);
};
void PrintTo(const ValidCase& c, std::ostream* os) { *os << c.name; }

class ParseValidTest : public ::testing::TestWithParam<ValidCase> {};

TEST_P(ParseValidTest, MeansTheExpectedCommand) {
  const ValidCase& c = GetParam();
  const cli::ParseOutcome outcome = cli::ParseCommandLine(c.args);
  ASSERT_TRUE(outcome.command.has_value()) << outcome.error;
  EXPECT_EQ(outcome.error, "");
  cli::Command expected;
  c.expect(expected);
  EXPECT_EQ(Describe(*outcome.command), Describe(expected));
}

INSTANTIATE_TEST_SUITE_P(
    Table, ParseValidTest,
    ::testing::Values(
        ValidCase{"StatusWithDefaults", {"status"}, [](cli::Command& c) { c.verb = cli::Verb::kStatus; }},
        ValidCase{"LaunchWithOptions",
                  {"launch", "--accel", "tcg", "--memory", "1024M", "--nodes", "4", "--slots", "16",
                   "--maxmem", "32GiB", "--virtio-mem-max", "0", "--boot-timeout", "90", "--kernel",
                   "/k/bzImage", "--initrd", "/k/initrd.img", "--agent-args", "--verbose --x=1",
                   "--kernel-append", "memhp_default_state=online_movable quiet"},
                  [](cli::Command& c) {
                    c.verb = cli::Verb::kLaunch;
                    c.launch.accel = cli::Accel::kTcg;
                    c.launch.memory_mib = 1024;
                    c.launch.nodes = 4;
                    c.launch.slots = 16;
                    c.launch.maxmem_mib = 32768;
                    c.launch.virtio_mem_max_mib = 0;
                    c.launch.boot_timeout_ms = 90000;
                    c.launch.kernel = "/k/bzImage";
                    c.launch.initrd = "/k/initrd.img";
                    c.launch.agent_args = "--verbose --x=1";
                    c.launch.kernel_append = "memhp_default_state=online_movable quiet";
                  }},
        ValidCase{"LaunchTheDebianImage", {"launch", "--image", "debian"},
                  [](cli::Command& c) {
                    c.verb = cli::Verb::kLaunch;
                    c.launch.image = cli::GuestImageKind::kDebian;
                  }},
        ValidCase{"OptEqualsValue",
                  {"launch", "--accel=kvm", "--memory=768m", "--nodes=3", "--agent-args=--a=b"},
                  [](cli::Command& c) {
                    c.verb = cli::Verb::kLaunch;
                    c.launch.accel = cli::Accel::kKvm;
                    c.launch.memory_mib = 768;
                    c.launch.nodes = 3;
                    c.launch.agent_args = "--a=b";  // only the first '=' splits
                  }},
        ValidCase{"GlobalsBeforeTheVerb",
                  {"--vm", "web-1", "--state-root", "/srv/memhp", "--json", "stop", "--timeout", "5"},
                  [](cli::Command& c) {
                    c.verb = cli::Verb::kStop;
                    c.global.vm = "web-1";
                    c.global.state_root = "/srv/memhp";
                    c.global.json = true;
                    c.stop.timeout_ms = 5000;
                  }},
        ValidCase{"GlobalsAfterTheVerb",
                  {"status", "--no-refresh", "--json", "--vm=db.2", "--state-root=/run/m"},
                  [](cli::Command& c) {
                    c.verb = cli::Verb::kStatus;
                    c.status.refresh = false;
                    c.global.json = true;
                    c.global.vm = "db.2";
                    c.global.state_root = "/run/m";
                  }},
        ValidCase{"AttachWithQmp",
                  {"attach", "--qmp", "/tmp/q.sock", "--agent", "/tmp/a.sock"},
                  [](cli::Command& c) {
                    c.verb = cli::Verb::kAttach;
                    c.attach.qmp = "/tmp/q.sock";
                    c.attach.agent = "/tmp/a.sock";
                  }},
        ValidCase{"AttachALibvirtDomain",
                  {"attach", "--libvirt", "web01", "--connect", "qemu+ssh://hv3/system"},
                  [](cli::Command& c) {
                    c.verb = cli::Verb::kAttach;
                    c.attach.libvirt_domain = "web01";
                    c.attach.libvirt_uri = "qemu+ssh://hv3/system";
                  }},
        ValidCase{"LaunchWithTheLibvirtEngine",
                  {"launch", "--engine", "libvirt"},
                  [](cli::Command& c) {
                    c.verb = cli::Verb::kLaunch;
                    c.launch.engine_libvirt = true;
                  }},
        ValidCase{"NumbersAtTheirBounds",
                  {"launch", "--memory", "268435456", "--nodes", "1", "--slots", "256", "--maxmem", "16T"},
                  [](cli::Command& c) {
                    c.verb = cli::Verb::kLaunch;
                    c.launch.memory_mib = 256;
                    c.launch.nodes = 1;
                    c.launch.slots = 256;
                    c.launch.maxmem_mib = 16777216;
                  }},
        ValidCase{"HelpWinsOverTheRest", {"launch", "--help"},
                  [](cli::Command& c) {
                    c.verb = cli::Verb::kHelp;
                    c.help.topic = cli::Verb::kLaunch;
                  }},
        ValidCase{"Version", {"version"}, [](cli::Command& c) { c.verb = cli::Verb::kVersion; }},
        // Operations.
        ValidCase{"PlugSizeAndNode", {"plug", "--size", "256M", "--node", "1"},
                  [](cli::Command& c) {
                    c.verb = cli::Verb::kPlug;
                    c.plug.size = 256ull << 20;
                    c.plug.node = 1;
                  }},
        ValidCase{"PlugEveryOption",
                  {"--json", "plug", "--size=1G", "--node=0", "--id", "dimm7", "--zone", "movable", "--timeout", "90"},
                  [](cli::Command& c) {
                    c.verb = cli::Verb::kPlug;
                    c.global.json = true;
                    c.plug.size = 1ull << 30;
                    c.plug.node = 0;
                    c.plug.device_id = "dimm7";
                    c.plug.zone = cli::ZoneChoice::kMovable;
                    c.plug.timeout_ms = 90000;
                  }},
        ValidCase{"PlugZoneKernel", {"plug", "--size", "128M", "--node", "0", "--zone", "kernel"},
                  [](cli::Command& c) {
                    c.verb = cli::Verb::kPlug;
                    c.plug.size = 128ull << 20;
                    c.plug.node = 0;
                    c.plug.zone = cli::ZoneChoice::kKernel;
                  }},
        ValidCase{"UnplugId", {"unplug", "dimm1"},
                  [](cli::Command& c) {
                    c.verb = cli::Verb::kUnplug;
                    c.unplug.device_id = "dimm1";
                  }},
        ValidCase{"UnplugEveryOption", {"unplug", "--force", "dimm-2.a_b", "--timeout", "30s", "--block-timeout", "500ms"},
                  [](cli::Command& c) {
                    c.verb = cli::Verb::kUnplug;
                    c.unplug.device_id = "dimm-2.a_b";
                    c.unplug.force = true;
                    c.unplug.timeout_ms = 30000;
                    c.unplug.block_timeout_ms = 500;
                  }},
        ValidCase{"UnplugDryRun", {"unplug", "--dry-run", "dimm1"},
                  [](cli::Command& c) {
                    c.verb = cli::Verb::kUnplug;
                    c.unplug.device_id = "dimm1";
                    c.unplug.dry_run = true;
                  }},
        ValidCase{"ResizeDryRunOfflineFirst", {"resize", "vmem1", "--dry-run", "--size", "0", "--offline-first"},
                  [](cli::Command& c) {
                    c.verb = cli::Verb::kResize;
                    c.resize.device_id = "vmem1";
                    c.resize.size_given = true;
                    c.resize.offline_first = true;
                    c.resize.dry_run = true;
                  }},
        ValidCase{"ResizeGrow", {"resize", "vmem1", "--size", "512M"},
                  [](cli::Command& c) {
                    c.verb = cli::Verb::kResize;
                    c.resize.device_id = "vmem1";
                    c.resize.size = 512ull << 20;
                    c.resize.size_given = true;
                  }},
        ValidCase{"ResizeToZeroOfflineFirst", {"resize", "--size", "0", "--offline-first", "vmem0", "--timeout", "5"},
                  [](cli::Command& c) {
                    c.verb = cli::Verb::kResize;
                    c.resize.device_id = "vmem0";
                    c.resize.size = 0;
                    c.resize.size_given = true;
                    c.resize.offline_first = true;
                    c.resize.timeout_ms = 5000;
                  }},
        ValidCase{"PolicyRead", {"policy"}, [](cli::Command& c) { c.verb = cli::Verb::kPolicy; }},
        ValidCase{"PolicySetAndRatio", {"policy", "--set", "auto-movable", "--ratio", "150"},
                  [](cli::Command& c) {
                    c.verb = cli::Verb::kPolicy;
                    c.policy.policy = "auto-movable";
                    c.policy.ratio_percent = 150;
                  }},
        ValidCase{"PolicySetOnlineKernel", {"policy", "--set=online_kernel"},
                  [](cli::Command& c) {
                    c.verb = cli::Verb::kPolicy;
                    c.policy.policy = "online_kernel";
                  }},
        ValidCase{"Zones", {"zones", "--json"},
                  [](cli::Command& c) {
                    c.verb = cli::Verb::kZones;
                    c.global.json = true;
                  }},
        ValidCase{"WatchReplays", {"watch"}, [](cli::Command& c) { c.verb = cli::Verb::kWatch; }},
        ValidCase{"List", {"list"}, [](cli::Command& c) { c.verb = cli::Verb::kList; }},
        ValidCase{"AllStatusAsJson", {"--all", "-j", "status", "--no-refresh"},
                  [](cli::Command& c) {
                    c.verb = cli::Verb::kStatus;
                    c.global.all = true;
                    c.global.json = true;
                    c.status.refresh = false;
                  }},
        ValidCase{"StatusAllAfterTheVerbIsTheGlobalToo", {"status", "--all"},
                  [](cli::Command& c) {
                    c.verb = cli::Verb::kStatus;
                    c.global.all = true;
                  }},
        ValidCase{"WatchNoReplay", {"watch", "--no-replay"},
                  [](cli::Command& c) {
                    c.verb = cli::Verb::kWatch;
                    c.watch.replay_recent = false;
                  }}),
    [](const ::testing::TestParamInfo<ValidCase>& param_info) { return std::string(param_info.param.name); });

struct ErrorCase {
  const char* name;
  std::vector<std::string> args;
  std::vector<std::string> message_parts;
};
void PrintTo(const ErrorCase& c, std::ostream* os) { *os << c.name; }

class ParseErrorTest : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(ParseErrorTest, IsAUsageErrorNamingTheProblem) {
  const ErrorCase& c = GetParam();
  const cli::ParseOutcome outcome = cli::ParseCommandLine(c.args);
  EXPECT_FALSE(outcome.command.has_value());
  for (const std::string& part : c.message_parts) EXPECT_THAT(outcome.error, HasSubstr(part));
}

INSTANTIATE_TEST_SUITE_P(
    Table, ParseErrorTest,
    ::testing::Values(
        ErrorCase{"NoVerb", {}, {"no command"}},
        ErrorCase{"OnlyGlobals", {"--json"}, {"no command"}},
        ErrorCase{"AllWithAnotherVerb", {"--all", "plug", "--size", "256M"}, {"--all works with status only", "'plug'"}},
        ErrorCase{"UnknownVerb", {"hotplug"}, {"unknown command 'hotplug'"}},
        ErrorCase{"UnknownOption", {"status", "--refresh"}, {"unknown option --refresh", "'status'"}},
        ErrorCase{"OptionOfAnotherVerb", {"stop", "--qmp", "/q"}, {"unknown option --qmp", "'stop'"}},
        ErrorCase{"UnknownOptionBeforeVerb", {"--memory", "512", "launch"}, {"unknown option --memory"}},
        ErrorCase{"MissingValue", {"launch", "--memory"}, {"--memory needs a value"}},
        ErrorCase{"MissingGlobalValue", {"status", "--vm"}, {"--vm needs a value"}},
        ErrorCase{"BadSize", {"launch", "--memory", "12x"}, {"--memory", "takes a size", "'12x'"}},
        ErrorCase{"NegativeNumber", {"stop", "--timeout", "-1"}, {"--timeout", "'-1'"}},
        ErrorCase{"EmptyNumber", {"launch", "--nodes="}, {"--nodes", "from 1 to 8"}},
        ErrorCase{"BelowRange", {"launch", "--memory", "128M"}, {"--memory", "from 256 MiB to 1 TiB", "'128M'"}},
        // --memory took bare MiB once: "512" is 512 bytes now, and the error says so.
        ErrorCase{"MemoryBareMiBOfOld", {"launch", "--memory", "512"}, {"--memory", "a bare number is bytes", "'512'"}},
        ErrorCase{"MemoryNotWholeMiB", {"launch", "--memory", "268435457"}, {"--memory", "in whole 1 MiB"}},
        ErrorCase{"AboveRange", {"launch", "--nodes", "9"}, {"--nodes", "from 1 to 8", "'9'"}},
        ErrorCase{"Overflow", {"launch", "--maxmem", "99999999999999999999999"}, {"--maxmem"}},
        ErrorCase{"MemoryNotWholeBlocksPerNode", {"launch", "--memory", "640M", "--nodes", "2"},
                  {"128 MiB blocks per node"}},
        ErrorCase{"BadAccel", {"launch", "--accel", "hvf"}, {"--accel", "'hvf'"}},
        ErrorCase{"VmNameWithSlash", {"--vm", "../x", "status"}, {"--vm", "'../x'"}},
        ErrorCase{"VmNameDotDot", {"status", "--vm", ".."}, {"--vm", "'..'"}},
        ErrorCase{"VmNameTooLong", {"status", "--vm", std::string(33, 'a')}, {"--vm", "1 to 32"}},
        ErrorCase{"RelativeStateRoot", {"--state-root", "state", "status"}, {"--state-root", "absolute"}},
        ErrorCase{"AttachWithoutQmp", {"attach", "--agent", "/a.sock"}, {"attach needs --qmp"}},
        ErrorCase{"AttachLibvirtWithQmp", {"attach", "--libvirt", "d", "--qmp", "/q"}, {"takes no --qmp"}},
        ErrorCase{"ConnectWithoutLibvirt", {"attach", "--qmp", "/q", "--connect", "qemu:///system"},
                  {"--connect goes with --libvirt"}},
        ErrorCase{"AuditOnLibvirt", {"launch", "--engine", "libvirt", "--audit"}, {"taints the domain"}},
        ErrorCase{"FlagGivenAValue", {"--json=1", "status"}, {"--json takes no value"}},
        ErrorCase{"VerbFlagGivenAValue", {"status", "--no-refresh=yes"}, {"--no-refresh takes no value"}},
        ErrorCase{"TwoVerbs", {"status", "stop"}, {"unexpected argument 'stop'", "'status'"}},
        // Operations.
        ErrorCase{"PlugWithoutSize", {"plug", "--node", "1"}, {"plug needs --size"}},
        ErrorCase{"PlugWithoutNode", {"plug", "--size", "256M"}, {"plug needs --node"}},
        ErrorCase{"PlugSizeNotANumber", {"plug", "--size", "lots", "--node", "1"}, {"--size", "'lots'"}},
        ErrorCase{"PlugSizeBadSuffix", {"plug", "--size", "256X", "--node", "1"}, {"--size", "'256X'"}},
        ErrorCase{"PlugSizeZero", {"plug", "--size", "0", "--node", "1"}, {"--size", "'0'"}},
        ErrorCase{"PlugNodeNotANumber", {"plug", "--size", "256M", "--node", "one"}, {"--node", "'one'"}},
        ErrorCase{"PlugNodeNegative", {"plug", "--size", "256M", "--node", "-1"}, {"--node", "'-1'"}},
        ErrorCase{"PlugBadZone", {"plug", "--size", "256M", "--node", "1", "--zone", "dma"},
                  {"--zone", "policy, default, kernel or movable", "'dma'"}},
        ErrorCase{"PlugBadId", {"plug", "--size", "256M", "--node", "1", "--id", "1dimm"}, {"--id", "'1dimm'"}},
        ErrorCase{"PlugIdWithSpace", {"plug", "--size", "256M", "--node", "1", "--id", "a b"}, {"--id", "'a b'"}},
        ErrorCase{"PlugTimeoutZero", {"plug", "--size", "256M", "--node", "1", "--timeout", "0"}, {"--timeout", "'0'"}},
        ErrorCase{"PlugTakesNoWord", {"plug", "dimm1", "--size", "256M", "--node", "1"},
                  {"unexpected argument 'dimm1'", "'plug'"}},
        ErrorCase{"UnplugWithoutId", {"unplug", "--force"}, {"unplug needs a device id"}},
        ErrorCase{"UnplugBadId", {"unplug", "dimm/1"}, {"'dimm/1'", "device id"}},
        ErrorCase{"UnplugTwoIds", {"unplug", "dimm1", "dimm2"}, {"unexpected argument 'dimm2'", "'unplug'"}},
        ErrorCase{"UnplugBadBlockTimeout", {"unplug", "dimm1", "--block-timeout", "5x"}, {"--block-timeout", "'5x'"}},
        // --block-timeout took bare milliseconds once: now its unit must be said.
        ErrorCase{"UnplugBlockTimeoutBare", {"unplug", "dimm1", "--block-timeout", "500"},
                  {"--block-timeout", "its unit must be given", "'500'"}},
        ErrorCase{"OfflineTimeoutMsRetired", {"offline", "--blocks", "40", "--timeout-ms", "5000"},
                  {"--timeout-ms is no more", "--block-timeout 5s"}},
        ErrorCase{"UnplugHasNoSize", {"unplug", "dimm1", "--size", "1G"}, {"unknown option --size", "'unplug'"}},
        ErrorCase{"ResizeWithoutId", {"resize", "--size", "512M"}, {"resize needs a device id"}},
        ErrorCase{"ResizeWithoutSize", {"resize", "vmem1"}, {"resize needs --size"}},
        ErrorCase{"ResizeSizeNotANumber", {"resize", "vmem1", "--size", "big"}, {"--size", "'big'"}},
        ErrorCase{"PolicyUnknown", {"policy", "--set", "online-movable"},
                  {"--set", "manual, online, online_kernel, online_movable or auto-movable", "'online-movable'"}},
        ErrorCase{"PolicyRatioZero", {"policy", "--ratio", "0"}, {"--ratio", "'0'"}},
        ErrorCase{"PolicyRatioNotANumber", {"policy", "--ratio", "301%"}, {"--ratio", "'301%'"}},
        ErrorCase{"ZonesTakesNoOptions", {"zones", "--node", "1"}, {"unknown option --node", "'zones'"}},
        ErrorCase{"WatchReplayTakesNoValue", {"watch", "--no-replay=1"}, {"--no-replay takes no value"}}),
    [](const ::testing::TestParamInfo<ErrorCase>& param_info) { return std::string(param_info.param.name); });

TEST(CliExitCodesTest, AreTheDocumentedOnes) {
  // README ("memhpctl") and the usage text promise these numbers to scripts.
  EXPECT_EQ(cli::kExitOk, 0);
  EXPECT_EQ(cli::kExitFailed, 1);
  EXPECT_EQ(cli::kExitUsage, 2);
  EXPECT_EQ(cli::kExitTimeout, 3);
  EXPECT_THAT(cli::UsageText(), HasSubstr("0 done, 1 failed or refused, 2 usage error, 3 timed out"));
}

TEST(CliUsageTest, NamesEveryOperationVerb) {
  for (const char* verb : {"plug ", "unplug ", "resize ", "policy ", "zones ", "watch "}) {
    EXPECT_THAT(cli::UsageText(), HasSubstr(std::string("\n  ") + verb)) << verb;
  }
}

// ---------------------------------------------------------------------------------------------
// ValidateLayout

struct LayoutCase {
  const char* name;
  void (*change)(launcher::VmLayout&);
  const char* problem;  // "" = bootable; else a part of the message
};
void PrintTo(const LayoutCase& c, std::ostream* os) { *os << c.name; }

class ValidateLayoutTest : public ::testing::TestWithParam<LayoutCase> {};

TEST_P(ValidateLayoutTest, SaysWhetherTheLayoutBoots) {
  const LayoutCase& c = GetParam();
  launcher::VmLayout layout;
  c.change(layout);
  const std::string problem = launcher::ValidateLayout(layout);
  if (std::string(c.problem).empty()) {
    EXPECT_EQ(problem, "");
  } else {
    EXPECT_THAT(problem, HasSubstr(c.problem));
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, ValidateLayoutTest,
    ::testing::Values(
        LayoutCase{"Default", [](launcher::VmLayout&) {}, ""},
        LayoutCase{"OneNodeNoVirtioMem",
                   [](launcher::VmLayout& l) {
                     l.nodes = 1;
                     l.memory_mib = 128;
                     l.virtio_mem_max_mib = 0;
                     l.maxmem_mib = 128;
                   },
                   ""},
        LayoutCase{"MaxmemExactlyEnough",  // 512 + 2 * 2048
                   [](launcher::VmLayout& l) { l.maxmem_mib = 4608; }, ""},
        LayoutCase{"MaxmemOneShort", [](launcher::VmLayout& l) { l.maxmem_mib = 4607; },
                   "maxmem 4607 MiB is less than boot memory plus the virtio-mem devices (4608 MiB)"},
        LayoutCase{"NoNodes", [](launcher::VmLayout& l) { l.nodes = 0; }, "at least one node"},
        LayoutCase{"NoCpus", [](launcher::VmLayout& l) { l.cpus = 0; }, "one vCPU"},
        LayoutCase{"MemoryNotWholeBlocksPerNode", [](launcher::VmLayout& l) { l.memory_mib = 384; },
                   "128 MiB blocks on each of the 2 nodes"},
        LayoutCase{"VirtioMemNotMultipleOfBlock",
                   [](launcher::VmLayout& l) {
                     l.virtio_mem_max_mib = 1025;
                   },
                   "multiple of its block size"},
        LayoutCase{"VirtioMemBlockSizeZero",
                   [](launcher::VmLayout& l) { l.virtio_mem_block_mib = 0; }, "block size"}),
    [](const ::testing::TestParamInfo<LayoutCase>& param_info) { return std::string(param_info.param.name); });

// ---------------------------------------------------------------------------------------------
// BuildQemuArgv

// The word after each occurrence of `flag`, in order.
std::vector<std::string> ValuesOf(const std::vector<std::string>& argv, const std::string& flag) {
  std::vector<std::string> values;
  for (size_t i = 0; i + 1 < argv.size(); ++i) {
    if (argv[i] == flag) values.push_back(argv[i + 1]);
  }
  return values;
}

launcher::QemuLaunchSpec DefaultSpec() {
  launcher::QemuLaunchSpec spec;
  spec.accel = "tcg";
  spec.kernel = "/cache/vmlinuz";
  spec.initrd = "/cache/initrd.img";
  spec.state = vm::StateDir::ForVm("/var/lib/memhp", "default");
  return spec;
}

TEST(BuildQemuArgvTest, DefaultLayout) {
  const std::vector<std::string> argv = launcher::BuildQemuArgv(DefaultSpec());
  ASSERT_FALSE(argv.empty());
  EXPECT_EQ(argv[0], "qemu-system-x86_64");
  EXPECT_THAT(ValuesOf(argv, "-accel"), ElementsAre("tcg"));
  EXPECT_THAT(ValuesOf(argv, "-machine"), ElementsAre("q35"));
  EXPECT_THAT(ValuesOf(argv, "-smp"), ElementsAre("2"));
  EXPECT_THAT(ValuesOf(argv, "-m"), ElementsAre("512M,slots=8,maxmem=16384M"));
  EXPECT_THAT(ValuesOf(argv, "-numa"), ElementsAre("node,nodeid=0,memdev=boot0,cpus=0",
                                                   "node,nodeid=1,memdev=boot1,cpus=1"));
  EXPECT_THAT(ValuesOf(argv, "-object"),
              ElementsAre("memory-backend-ram,id=boot0,size=256M",
                          "memory-backend-ram,id=boot1,size=256M",
                          "memory-backend-ram,id=vmem0-mem,size=2048M,reserve=off",
                          "memory-backend-ram,id=vmem1-mem,size=2048M,reserve=off"));
  EXPECT_THAT(ValuesOf(argv, "-device"),
              ElementsAre(
                  "virtio-mem-pci,id=vmem0,memdev=vmem0-mem,node=0,requested-size=0,block-size=2M",
                  "virtio-mem-pci,id=vmem1,memdev=vmem1-mem,node=1,requested-size=0,block-size=2M",
                  "virtio-serial-pci,id=vser0",
                  "virtserialport,id=agent-port,bus=vser0.0,chardev=agent,name=org.memhp.agent.0"));
  // Sockets, log and pid file in the VM's state folder.
  EXPECT_THAT(ValuesOf(argv, "-chardev"),
              ElementsAre("socket,id=agent,path=/var/lib/memhp/default/agent.sock,server=on,wait=off",
                          "socket,id=console,path=/var/lib/memhp/default/console.sock,server=on,"
                          "wait=off,logfile=/var/lib/memhp/default/console.log"));
  EXPECT_THAT(ValuesOf(argv, "-serial"), ElementsAre("chardev:console"));
  EXPECT_THAT(ValuesOf(argv, "-qmp"),
              ElementsAre("unix:/var/lib/memhp/default/qmp.sock,server=on,wait=off"));
  EXPECT_THAT(ValuesOf(argv, "-pidfile"), ElementsAre("/var/lib/memhp/default/qemu.pid"));
  EXPECT_THAT(ValuesOf(argv, "-kernel"), ElementsAre("/cache/vmlinuz"));
  EXPECT_THAT(ValuesOf(argv, "-initrd"), ElementsAre("/cache/initrd.img"));
  EXPECT_THAT(ValuesOf(argv, "-append"), ElementsAre("console=ttyS0 memhp_default_state=offline"));
  EXPECT_THAT(argv, Contains("-daemonize"));
  EXPECT_THAT(argv, Contains("-nodefaults"));
}

TEST(BuildQemuArgvTest, ARootDiskIsTheFirstVirtioBlkDeviceOpenedAsASnapshot) {
  EXPECT_THAT(ValuesOf(launcher::BuildQemuArgv(DefaultSpec()), "-drive"), ElementsAre()) << "no disk by default";
  launcher::QemuLaunchSpec spec = DefaultSpec();
  spec.root_disk = "/cache/debian/rootfs.img";
  const std::vector<std::string> argv = launcher::BuildQemuArgv(spec);
  // snapshot=on: the cached image is shared by every VM and never written.
  EXPECT_THAT(ValuesOf(argv, "-drive"), ElementsAre("file=/cache/debian/rootfs.img,if=virtio,format=raw,snapshot=on"));
  EXPECT_THAT(ValuesOf(argv, "-append"), ElementsAre("console=ttyS0 memhp_default_state=offline root=/dev/vda"));
}

TEST(BuildQemuArgvTest, AgentArgsAreQuotedIntoAppend) {
  launcher::QemuLaunchSpec spec = DefaultSpec();
  spec.agent_args = "--verbose --port-name org.x";
  EXPECT_THAT(ValuesOf(launcher::BuildQemuArgv(spec), "-append"),
              ElementsAre("console=ttyS0 memhp_default_state=offline "
                          "memhp.agent_args=\"--verbose --port-name org.x\""));
}

TEST(BuildQemuArgvTest, KernelAppendComesLastSoItsOptionsWin) {
  launcher::QemuLaunchSpec spec = DefaultSpec();
  spec.agent_args = "--policy manual";
  spec.kernel_append = "memhp_default_state=online_movable";
  // The kernel parses memhp_default_state= in order: the last one is in force.
  EXPECT_THAT(ValuesOf(launcher::BuildQemuArgv(spec), "-append"),
              ElementsAre("console=ttyS0 memhp_default_state=offline "
                          "memhp.agent_args=\"--policy manual\" memhp_default_state=online_movable"));
}

TEST(BuildQemuArgvTest, NoVirtioMemDevicesWhenSizeIsZero) {
  launcher::QemuLaunchSpec spec = DefaultSpec();
  spec.layout.virtio_mem_max_mib = 0;
  const std::vector<std::string> argv = launcher::BuildQemuArgv(spec);
  EXPECT_THAT(ValuesOf(argv, "-device"),
              Not(Contains(HasSubstr("virtio-mem-pci"))));
  EXPECT_THAT(ValuesOf(argv, "-object"), Not(Contains(HasSubstr("vmem"))));
}

struct NumaCase {
  const char* name;
  uint32_t nodes;
  uint32_t cpus;
  std::vector<std::string> numa;
};
void PrintTo(const NumaCase& c, std::ostream* os) { *os << c.name; }

class NumaCpusTest : public ::testing::TestWithParam<NumaCase> {};

TEST_P(NumaCpusTest, OneVcpuPerNodeWhileThereAreVcpusTheRestOnTheLastNode) {
  const NumaCase& c = GetParam();
  launcher::QemuLaunchSpec spec = DefaultSpec();
  spec.layout.nodes = c.nodes;
  spec.layout.cpus = c.cpus;
  spec.layout.memory_mib = 128 * c.nodes;
  ASSERT_EQ(launcher::ValidateLayout(spec.layout), "");
  const std::vector<std::string> argv = launcher::BuildQemuArgv(spec);
  EXPECT_EQ(ValuesOf(argv, "-numa"), c.numa);
  EXPECT_THAT(ValuesOf(argv, "-smp"), ElementsAre(std::to_string(c.cpus)));
}

INSTANTIATE_TEST_SUITE_P(
    Table, NumaCpusTest,
    ::testing::Values(
        NumaCase{"OneNodeOneCpu", 1, 1, {"node,nodeid=0,memdev=boot0,cpus=0"}},
        NumaCase{"OneNodeTwoCpus", 1, 2, {"node,nodeid=0,memdev=boot0,cpus=0-1"}},
        NumaCase{"TwoNodesFourCpus", 2, 4,
                 {"node,nodeid=0,memdev=boot0,cpus=0", "node,nodeid=1,memdev=boot1,cpus=1-3"}},
        NumaCase{"ThreeNodesTwoCpus", 3, 2,  // the third node has memory but no vCPU
                 {"node,nodeid=0,memdev=boot0,cpus=0", "node,nodeid=1,memdev=boot1,cpus=1",
                  "node,nodeid=2,memdev=boot2"}}),
    [](const ::testing::TestParamInfo<NumaCase>& param_info) { return std::string(param_info.param.name); });

}  // namespace
}  // namespace memhp
