// memhp vm suite — the libvirt engine end to end: the default VM as a transient libvirt domain
// (memhpctl launch --engine libvirt) on the real libvirtd that set-up started, served by memhpd
// through libvirt's C API only — devices through virDomainAttachDeviceFlags /
// virDomainDetachDeviceAlias / virDomainUpdateDeviceFlags and the domain's events, the agent
// through virDomainOpenChannel. A DIMM plugged into node 1 ends DONE with every block online;
// its unplug ends DONE with the device gone (DEVICE_REMOVED); an unplug the guest refuses (the
// kernel's memory-notifier-error-inject on MEM_GOING_OFFLINE) ends REFUSED with the DIMM still
// there; virtio-mem grows and shrinks; raw QMP and the audit plugin are refused; a domain
// without the agent's channel is served with the guest side unknown; a memhpd
// killed after libvirt attached a DIMM resumes the plug from the journal; a second memhpd for
// the domain, an unknown domain and a domain that is not running are refused, a domain without
// <maxMemory> gets its plugs refused by admission; and one memhpd
// reaches the domain through a remote-style URI (qemu+unix:// to libvirtd's socket), so
// nothing assumes the domain's files are local; and `list` / `--all status` show the domain
// beside a VM memhp launched itself; a libvirt connection lost mid-plug is resumed once it
// is back; last, the domain destroyed mid-plug ends the plug FAILED
// and memhpd with it.
//
// One VM for the suite; the tests run in declaration order and each leaves the VM as it found
// it. The durations the operations report are printed as figures, never asserted.
#include <glib.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "background_memhpctl.h"
#include "interrupted_plug.h"
#include "memhpctl_runner.h"
#include "shared_vm.h"
#include "socket_relay.h"

namespace memhp::vmtest {
namespace {

constexpr int64_t kMiB = 1ll << 20;
constexpr int64_t kBlock = 128 * kMiB;
constexpr char kSystem[] = "qemu:///system";
// The same libvirtd, reached the way a remote client does: the remote driver over a socket.
constexpr char kRemoteStyle[] = "qemu+unix:///system?socket=/var/run/libvirt/libvirt-sock";

std::string Virsh(const std::string& args) {
  gchar* out = nullptr;
  gchar* err = nullptr;
  gint status = 0;
  const std::string command = std::string("virsh -c ") + kSystem + " " + args;
  if (!g_spawn_command_line_sync(command.c_str(), &out, &err, &status, nullptr)) return "spawn failed";
  std::string text = std::string(out ? out : "") + (err ? err : "");
  g_free(out);
  g_free(err);
  return text;
}

class Libvirt : public SharedVmTest<Libvirt> {
 public:
  static constexpr char kVm[] = "lv";
  static std::vector<std::string> LaunchArgs() { return {"--engine", "libvirt"}; }
  // The suite's VM is stopped as usual; a memhpd attached later (the last tests) leaves the
  // transient domain running, so it is destroyed here (a no-op once it is gone).
  static void TearDownTestSuite() {
    SharedVmTest<Libvirt>::TearDownTestSuite();
    Virsh("destroy " + Domain());
  }

 protected:
  static std::string Dir() { return vm_->Dir(); }
  static std::string Domain() { return std::string("memhp-") + kVm; }

  static Json Op(std::vector<std::string> args, int expected_exit) {
    args.insert(args.begin(), "--json");
    CliRun run = Ctl(args);
    EXPECT_EQ(run.exit_code, expected_exit) << run.out << run.err;
    return ResultOf(run);
  }
  static void Figure(const std::string& name, const Json& op) {
    std::printf("[figure] libvirt %s: %s in %.2f s\n", name.c_str(), op.String("outcome").c_str(),
                static_cast<double>(op.Int("duration_us")) / 1e6);
    ::testing::Test::RecordProperty(name + "_us", std::to_string(op.Int("duration_us")));
  }
  // The device as libvirt's live XML says (virsh, not memhp).
  static bool InLiveXml(const std::string& alias) {
    return Virsh("dumpxml " + Domain()).find("<alias name='" + alias + "'/>") != std::string::npos;
  }
  static int64_t DeviceSize(const std::string& id) {
    Json status = ResultOf(Ctl({"--json", "status"}));
    for (size_t d = 0; d < status.Length("devices"); ++d) {
      const std::string p = "devices." + std::to_string(d);
      if (status.String(p + ".id") == id) return status.Int(p + ".size");
    }
    return -1;
  }
  static std::string BlockState(int64_t block) {
    return Guest("cat /sys/devices/system/memory/memory" + std::to_string(block) + "/state");
  }
  static std::string Journal() {
    std::ifstream in(Dir() + "/journal.jsonl");
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  // Up to 30 s for a plug in flight to have attached DIMM `id`: in libvirt's live XML, and its
  // device-added step in the journal (so the plug is past the hardware, in its agent steps).
  static bool WaitAttached(const std::string& id) {
    for (int i = 0; i < 300; ++i) {
      if (InLiveXml("ua-" + id) &&
          Journal().find("\"device-added\",\"detail\":\"" + id + "\"") != std::string::npos) {
        return true;
      }
      g_usleep(100 * 1000);
    }
    return false;
  }
  static long MemhpdPid() {
    std::ifstream in(Dir() + "/memhpd.pid");
    long pid = 0;
    in >> pid;
    return pid;
  }
  static void KillMemhpd() {
    const long pid = MemhpdPid();
    ASSERT_GT(pid, 0);
    kill(static_cast<pid_t>(pid), SIGKILL);
    for (int i = 0; i < 50 && PidAlive(pid); ++i) g_usleep(100 * 1000);
    ASSERT_FALSE(PidAlive(pid));
  }
  // Up to 60 s: a stream that carries no hello is hung up after 10 s and opened again
  // (daemon/agent_channel.h), and the agent reopens its port with its own backoff.
  static bool WaitAgent() {
    for (int i = 0; i < 240; ++i) {
      if (ResultOf(Ctl({"--json", "status"})).Bool("agent.connected")) return true;
      g_usleep(250 * 1000);
    }
    return false;
  }
};

TEST_F(Libvirt, StatusShowsTheDomainFromLibvirt) {
  Json status = ResultOf(Ctl({"--json", "status"}));
  EXPECT_EQ(status.String("libvirt.domain"), Domain());
  EXPECT_EQ(status.String("libvirt.uri"), kSystem);
  EXPECT_TRUE(status.Bool("libvirt.agent_channel"));
  EXPECT_TRUE(status.Bool("agent.connected"));
  EXPECT_EQ(DeviceSize("vmem0"), 0);
  EXPECT_EQ(DeviceSize("vmem1"), 0);
}

TEST_F(Libvirt, PlugIntoNode1IsDoneWithEveryBlockOnline) {
  Json op = Op({"plug", "--size", "256M", "--node", "1", "--id", "dimm1"}, 0);
  Figure("plug_256M_dimm", op);
  EXPECT_EQ(op.String("outcome"), "OPERATION_OUTCOME_DONE") << op.String("detail");
  EXPECT_TRUE(op.Bool("guest_side_known"));
  const int64_t address = op.Int("address");
  ASSERT_GT(address, 0);
  ASSERT_EQ(op.Length("blocks"), 2u);
  for (size_t i = 0; i < 2; ++i) {
    const std::string p = "blocks." + std::to_string(i);
    EXPECT_EQ(op.Int(p + ".block"), address / kBlock + static_cast<int64_t>(i));
    EXPECT_EQ(op.String(p + ".outcome"), "BLOCK_OUTCOME_DONE");
    EXPECT_EQ(op.Int(p + ".node"), 1);
    EXPECT_NE(BlockState(op.Int(p + ".block")).find("online"), std::string::npos);
  }
  EXPECT_TRUE(InLiveXml("ua-dimm1"));
}

TEST_F(Libvirt, UnplugIsDoneWhenLibvirtSaysTheDeviceIsRemoved) {
  ASSERT_TRUE(InLiveXml("ua-dimm1")) << "needs the DIMM of the plug test";
  Json op = Op({"unplug", "dimm1"}, 0);
  Figure("unplug_256M_dimm", op);
  EXPECT_EQ(op.String("outcome"), "OPERATION_OUTCOME_DONE") << op.String("detail");
  EXPECT_FALSE(InLiveXml("ua-dimm1"));
}

TEST_F(Libvirt, UnplugRefusedInTheGuestChangesNothing) {
  Json plugged = Op({"plug", "--size", "256M", "--node", "1", "--id", "dimm2"}, 0);
  ASSERT_EQ(plugged.String("outcome"), "OPERATION_OUTCOME_DONE") << plugged.String("detail");
  const int64_t first = plugged.Int("address") / kBlock;
  const std::string inject = "/sys/kernel/debug/notifier-error-inject/memory/actions/MEM_GOING_OFFLINE/error";
  ASSERT_NE(Guest("echo -16 > " + inject + " && cat " + inject).find("-16"), std::string::npos);
  Json op = Op({"unplug", "dimm2", "--block-timeout", "5s"}, 1);
  const std::string cleared = Guest("echo 0 > " + inject + " && cat " + inject);
  EXPECT_NE(cleared.find("\n0"), std::string::npos) << "the injection was not cleared: " << cleared;
  EXPECT_EQ(op.String("outcome"), "OPERATION_OUTCOME_REFUSED") << op.String("detail");
  EXPECT_TRUE(InLiveXml("ua-dimm2"));
  EXPECT_NE(BlockState(first).find("online"), std::string::npos);
  Json again = Op({"unplug", "dimm2"}, 0);
  EXPECT_EQ(again.String("outcome"), "OPERATION_OUTCOME_DONE") << again.String("detail");
  EXPECT_FALSE(InLiveXml("ua-dimm2"));
}

TEST_F(Libvirt, VirtioMemGrowsAndShrinksThroughLibvirt) {
  Json grow = Op({"resize", "vmem1", "--size", "512M"}, 0);
  Figure("resize_grow_512M_virtio_mem", grow);
  EXPECT_EQ(grow.String("outcome"), "OPERATION_OUTCOME_DONE") << grow.String("detail");
  EXPECT_EQ(grow.Int("size_reached"), 512 * kMiB);
  // libvirt's live XML follows (<current>), not only memhp's view.
  EXPECT_NE(Virsh("dumpxml " + Domain()).find("<current unit='KiB'>524288</current>"), std::string::npos);
  size_t online = 0;
  for (size_t i = 0; i < grow.Length("blocks"); ++i) {
    online += grow.String("blocks." + std::to_string(i) + ".outcome") == "BLOCK_OUTCOME_DONE";
  }
  EXPECT_EQ(online, 4u) << "every block of the grown range online";
  Json shrink = Op({"resize", "vmem1", "--size", "0M", "--offline-first"}, 0);
  Figure("resize_shrink_512M_virtio_mem", shrink);
  EXPECT_EQ(shrink.String("outcome"), "OPERATION_OUTCOME_DONE") << shrink.String("detail");
  EXPECT_EQ(DeviceSize("vmem1"), 0);
}

TEST_F(Libvirt, RawQmpAndTheAuditPluginAreRefused) {
  CliRun qmp = Ctl({"qmp", "query-status"});
  EXPECT_EQ(qmp.exit_code, 1);
  EXPECT_NE((qmp.out + qmp.err).find("tainted"), std::string::npos) << qmp.out << qmp.err;
  CliRun audit = Ctl({"audit"});
  EXPECT_EQ(audit.exit_code, 1);
  EXPECT_NE((audit.out + audit.err).find("taints"), std::string::npos) << audit.out << audit.err;
  EXPECT_EQ(Virsh("dumpxml " + Domain()).find("taint"), std::string::npos);
}

TEST_F(Libvirt, ASecondMemhpdForTheDomainIsRefused) {
  SharedVm* vm = vm_;
  Memhpctl other(vm->root());
  CliRun second = other.Run({"--vm", "lv-second", "attach", "--libvirt", Domain()});
  EXPECT_EQ(second.exit_code, 1) << second.out << second.err;
  EXPECT_NE((second.out + second.err).find("another memhpd already serves"), std::string::npos)
      << second.out << second.err;
}

TEST_F(Libvirt, UnknownOrStoppedDomainsAreRefused) {
  Memhpctl other(vm_->root());
  CliRun unknown = other.Run({"--vm", "lv-unknown", "attach", "--libvirt", "memhp-no-such-domain"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE((unknown.out + unknown.err).find("no libvirt domain 'memhp-no-such-domain'"), std::string::npos)
      << unknown.out << unknown.err;
  // A defined domain that is not running.
  const std::string xml = "/tmp/memhp-lv-stopped.xml";
  {
    std::ofstream f(xml);
    f << "<domain type='qemu'><name>memhp-lv-stopped</name><memory unit='MiB'>128</memory>"
         "<os><type arch='x86_64' machine='q35'>hvm</type></os></domain>";
  }
  const std::string defined = Virsh("define " + xml);
  CliRun stopped = other.Run({"--vm", "lv-stopped", "attach", "--libvirt", "memhp-lv-stopped"});
  Virsh("undefine memhp-lv-stopped");
  ASSERT_NE(defined.find("defined"), std::string::npos) << defined;
  EXPECT_EQ(stopped.exit_code, 1);
  EXPECT_NE((stopped.out + stopped.err).find("is not running"), std::string::npos) << stopped.out << stopped.err;
}

// A running domain without <maxMemory> has no DIMM slots: memhp's admission refuses the plug and
// says why, and libvirt is never asked (nothing is attached). The domain boots no OS (its
// firmware finds nothing to boot), which is all a refusal needs.
TEST_F(Libvirt, ADomainWithoutMaxMemoryIsRefusedByAdmission) {
  const std::string xml = "/tmp/memhp-lv-bare.xml";
  {
    std::ofstream f(xml);
    f << "<domain type='qemu'><name>memhp-lv-bare</name><memory unit='MiB'>128</memory><vcpu>1</vcpu>"
         "<os><type arch='x86_64' machine='q35'>hvm</type></os><devices><memballoon model='none'/></devices>"
         "</domain>";
  }
  const std::string created = Virsh("create " + xml);
  Memhpctl other(vm_->root());
  CliRun attach = other.Run({"--vm", "lv-bare", "attach", "--libvirt", "memhp-lv-bare"});
  CliRun plug = other.Run({"--vm", "lv-bare", "--json", "plug", "--size", "128M", "--node", "0", "--id", "d1"});
  const std::string live = Virsh("dumpxml memhp-lv-bare");
  CliRun stop = other.Run({"--vm", "lv-bare", "stop"});
  Virsh("destroy memhp-lv-bare");
  ASSERT_NE(created.find("created"), std::string::npos) << created;
  ASSERT_EQ(attach.exit_code, 0) << attach.out << attach.err;
  EXPECT_NE(plug.exit_code, 0) << plug.out;
  EXPECT_NE((plug.out + plug.err).find("the VM has no DIMM slots"), std::string::npos) << plug.out << plug.err;
  EXPECT_EQ(live.find("<memory model='dimm'"), std::string::npos) << live;
  EXPECT_EQ(stop.exit_code, 0) << stop.out << stop.err;
}

// A domain without the agent's channel is served with the guest side unknown, as an attached
// QEMU without an agent: status says so, and a DIMM still plugs (DONE, guest_side_known false).
// The domain boots the same kernel and image; the plug does not wait for the guest.
TEST_F(Libvirt, ADomainWithoutTheChannelIsServedWithTheGuestSideUnknown) {
  const std::string live = Virsh("dumpxml " + Domain());
  auto element = [&](const std::string& name) {
    const size_t a = live.find("<" + name + ">");
    const size_t b = live.find("</" + name + ">");
    return a == std::string::npos || b == std::string::npos ? std::string()
                                                            : live.substr(a, b + name.size() + 3 - a);
  };
  const std::string kernel = element("kernel");
  const std::string initrd = element("initrd");
  ASSERT_FALSE(kernel.empty() || initrd.empty()) << live.substr(0, 400);
  const std::string xml = "/tmp/memhp-lv-nochannel.xml";
  {
    std::ofstream f(xml);
    f << "<domain type='qemu'><name>memhp-lv-nochannel</name><memory unit='MiB'>256</memory>"
         "<maxMemory slots='2' unit='MiB'>1024</maxMemory><vcpu>1</vcpu>"
         "<os><type arch='x86_64' machine='q35'>hvm</type>" << kernel << initrd
      << "<cmdline>console=ttyS0 memhp_default_state=offline</cmdline></os><features><acpi/></features>"
         "<cpu mode='maximum' check='none'><numa><cell id='0' cpus='0' memory='256' unit='MiB'/></numa></cpu>"
         "<devices><memballoon model='none'/></devices></domain>";
  }
  const std::string created = Virsh("create " + xml);
  ASSERT_NE(created.find("created"), std::string::npos) << created;
  Memhpctl other(vm_->root());
  CliRun attach = other.Run({"--vm", "lv-nochannel", "attach", "--libvirt", "memhp-lv-nochannel"});
  Json status = ResultOf(other.Run({"--vm", "lv-nochannel", "--json", "status"}));
  CliRun plug = other.Run({"--vm", "lv-nochannel", "--json", "plug", "--size", "128M", "--node", "0", "--id", "d1"});
  CliRun stop = other.Run({"--vm", "lv-nochannel", "stop"});
  Virsh("destroy memhp-lv-nochannel");
  ASSERT_EQ(attach.exit_code, 0) << attach.out << attach.err;
  EXPECT_FALSE(status.Bool("libvirt.agent_channel"));
  EXPECT_FALSE(status.Bool("agent.connected"));
  EXPECT_EQ(plug.exit_code, 0) << plug.out << plug.err;
  Json op = ResultOf(plug);
  EXPECT_EQ(op.String("outcome"), "OPERATION_OUTCOME_DONE") << op.String("detail");
  EXPECT_FALSE(op.Bool("guest_side_known"));
  EXPECT_EQ(stop.exit_code, 0) << stop.out << stop.err;
}

// What a memhpd killed after libvirt attached the DIMM leaves: the DIMM in the domain, the
// journal's begin record and steps but no end. The test makes that state itself (memhpd
// killed, the DIMM attached with virsh as memhpd does it, the records written with memhpd's
// journal code); the new memhpd's resumed plug ends DONE, recovered, from libvirt's XML.
TEST_F(Libvirt, MemhpdKilledMidPlugIsRecoveredFromTheJournal) {
  KillMemhpd();
  const std::string dimm = "/tmp/memhp-lv-dimm9.xml";
  {
    std::ofstream f(dimm);
    f << "<memory model='dimm'><target><size unit='KiB'>131072</size><node>0</node></target>"
         "<alias name='ua-dimm9'/></memory>";
  }
  const std::string attached = Virsh("attach-device " + Domain() + " " + dimm + " --live");
  ASSERT_NE(attached.find("successfully"), std::string::npos) << attached;
  ASSERT_EQ(WriteInterruptedPlug(Dir() + "/journal.jsonl", "dimm9", "mem-dimm9", 128ull << 20, 0), "");
  CliRun reattach = Ctl({"attach", "--libvirt", Domain()});
  ASSERT_EQ(reattach.exit_code, 0) << reattach.out << reattach.err;
  bool recovered = false;
  for (int i = 0; i < 100 && !recovered; ++i) {
    recovered = Journal().find("recovered after a memhpd restart: dimm9 is plugged") != std::string::npos;
    if (!recovered) g_usleep(100 * 1000);
  }
  EXPECT_TRUE(recovered) << Journal();
  ASSERT_TRUE(WaitAgent()) << "the agent did not reconnect through the new channel stream";
  Json unplug = Op({"unplug", "dimm9"}, 0);
  EXPECT_EQ(unplug.String("outcome"), "OPERATION_OUTCOME_DONE") << unplug.String("detail");
  EXPECT_FALSE(InLiveXml("ua-dimm9"));
}

// The same domain through the remote driver: memhpd gets devices, events and the agent's
// stream over the libvirt connection alone.
TEST_F(Libvirt, ARemoteStyleUriServesTheDomainToo) {
  ASSERT_EQ(Ctl({"stop"}).exit_code, 0);  // memhpd only: the attached memhpd leaves the domain
  ASSERT_NE(Virsh("domstate " + Domain()).find("running"), std::string::npos);
  CliRun attach = Ctl({"attach", "--libvirt", Domain(), "--connect", kRemoteStyle});
  ASSERT_EQ(attach.exit_code, 0) << attach.out << attach.err;
  ASSERT_TRUE(WaitAgent()) << "no agent through " << kRemoteStyle;
  EXPECT_EQ(ResultOf(Ctl({"--json", "status"})).String("libvirt.uri"), kRemoteStyle);
  Json op = Op({"plug", "--size", "128M", "--node", "0", "--id", "dimm4"}, 0);
  EXPECT_EQ(op.String("outcome"), "OPERATION_OUTCOME_DONE") << op.String("detail");
  Json unplug = Op({"unplug", "dimm4"}, 0);
  EXPECT_EQ(unplug.String("outcome"), "OPERATION_OUTCOME_DONE") << unplug.String("detail");
  // An attached memhpd leaves the domain running at stop; the suite's end destroys it.
  ASSERT_EQ(Ctl({"stop"}).exit_code, 0);
  EXPECT_NE(Virsh("domstate " + Domain()).find("running"), std::string::npos);
  CliRun last = Ctl({"attach", "--libvirt", Domain()});
  ASSERT_EQ(last.exit_code, 0) << last.out << last.err;
}

// memhpd's libvirt connection taken away while a plug waits for its blocks (the guest paused,
// so none comes online), and every new connection refused for a while, as a libvirtd restart
// would: memhpd stays, leaves the plug unfinished in the journal (the client is told so), tries
// again until libvirt answers, reconnects, and resumes it from
// libvirt's live XML: DONE, recovered, saying why. The agent is heard again through a new stream
// on the new connection. memhpd reaches libvirtd through a relay the test cuts.
TEST_F(Libvirt, ALostLibvirtConnectionMidPlugIsResumedOnceItIsBack) {
  ASSERT_EQ(Ctl({"stop"}).exit_code, 0);  // the attached memhpd only; the domain stays
  // On every way out, a failed assertion included: back to a memhpd on the plain URI and a
  // running guest, so that the later tests find the suite's usual state.
  struct Restore {
    ~Restore() {
      (void)Virsh("resume " + Domain());
      (void)Ctl({"stop"});
      (void)Ctl({"attach", "--libvirt", Domain()});
    }
  } restore;
  SocketRelay relay(Dir() + "/libvirt-relay.sock", "/var/run/libvirt/libvirt-sock");
  ASSERT_TRUE(relay.listening());
  const std::string uri = "qemu+unix:///system?socket=" + Dir() + "/libvirt-relay.sock";
  CliRun attach = Ctl({"attach", "--libvirt", Domain(), "--connect", uri});
  ASSERT_EQ(attach.exit_code, 0) << attach.out << attach.err;
  ASSERT_TRUE(WaitAgent()) << "no agent through the relay";
  const long pid = MemhpdPid();
  const std::string paused = Virsh("suspend " + Domain());
  ASSERT_NE(paused.find("suspended"), std::string::npos) << paused;
  Background plug(vm_->root(), {"--vm", kVm, "--json", "plug", "--size", "128M", "--node", "0", "--id", "dimm5"},
                  Dir() + "/cut-plug.out");
  const bool attached = WaitAttached("dimm5");
  const int connections = relay.accepted();
  // libvirtd "restarts": the connection breaks, and for a while every new one fails.
  relay.Refuse(true);
  relay.Cut();
  const std::string resumed = Virsh("resume " + Domain());
  ASSERT_TRUE(attached) << "libvirt never attached dimm5: " << Journal();
  ASSERT_NE(resumed.find("resumed"), std::string::npos) << resumed;

  ASSERT_GE(plug.Wait(60), 0) << "the client was never answered after the cut";
  EXPECT_NE(plug.Output().find("left unfinished in the journal"), std::string::npos) << plug.Output();
  // memhpd keeps trying while it is refused (100 ms, doubling up to 2 s), and nothing ends yet.
  for (int i = 0; i < 300 && relay.refused() < 3; ++i) g_usleep(100 * 1000);
  EXPECT_GE(relay.refused(), 3) << "memhpd did not try again while libvirtd was away";
  EXPECT_EQ(Journal().find("recovered after the connection"), std::string::npos) << Journal();
  EXPECT_TRUE(PidAlive(pid)) << "memhpd ended while libvirtd was away";
  relay.Refuse(false);
  bool recovered = false;
  for (int i = 0; i < 300 && !recovered; ++i) {
    recovered = Journal().find("recovered after the connection to the VM's manager came back: dimm5 is plugged") !=
                std::string::npos;
    if (!recovered) g_usleep(100 * 1000);
  }
  EXPECT_TRUE(recovered) << Journal();
  EXPECT_GT(relay.accepted(), connections) << "memhpd never connected again";
  EXPECT_TRUE(PidAlive(pid)) << "memhpd ended with its connection";
  ASSERT_TRUE(WaitAgent()) << "the agent was not heard again on the new connection";
  Json unplug = Op({"unplug", "dimm5"}, 0);
  EXPECT_EQ(unplug.String("outcome"), "OPERATION_OUTCOME_DONE") << unplug.String("detail");
  EXPECT_FALSE(InLiveXml("ua-dimm5"));
}

// memhpctl list and --all status see every VM of the state root whatever its engine: a default
// VM launched by memhp beside the libvirt domain.
TEST_F(Libvirt, ListAndAllStatusShowALaunchedVmBesideTheDomain) {
  const Memhpctl root_ctl(vm_->root());
  CliRun side = root_ctl.Run({"--vm", "side", "launch"});
  // Stopped on every way out of the test, a failed assertion included, so that no QEMU is left.
  struct StopSide {
    const Memhpctl& ctl;
    ~StopSide() { (void)ctl.Run({"--vm", "side", "stop"}); }
  } stop_side{root_ctl};
  ASSERT_EQ(side.exit_code, 0) << side.out << side.err;
  ASSERT_TRUE(WaitAgent());

  CliRun list = root_ctl.Run({"--json", "list"});
  ASSERT_EQ(list.exit_code, 0) << list.out << list.err;
  Json vms = ResultOf(list);
  ASSERT_EQ(vms.Length("vms"), 2u) << list.out;
  EXPECT_EQ(vms.String("vms.0.name"), kVm);
  EXPECT_EQ(vms.String("vms.0.engine"), "libvirt");
  EXPECT_EQ(vms.String("vms.0.domain"), Domain());
  EXPECT_EQ(vms.String("vms.0.state"), "running");
  EXPECT_TRUE(vms.Bool("vms.0.agent_connected")) << list.out;
  EXPECT_EQ(vms.String("vms.1.name"), "side");
  EXPECT_EQ(vms.String("vms.1.engine"), "qemu");
  EXPECT_EQ(vms.String("vms.1.state"), "running");
  EXPECT_EQ(vms.Int("vms.1.memory_bytes"), 512 * kMiB);
  EXPECT_GT(vms.Int("vms.1.qemu_pid"), 0);
  const std::string text = root_ctl.Run({"list"}).out;
  EXPECT_NE(text.find(Domain() + " on " + kSystem), std::string::npos) << text;

  CliRun all = root_ctl.Run({"--json", "--all", "status"});
  EXPECT_EQ(all.exit_code, 0) << all.out << all.err;
  Json statuses = ResultOf(all);
  ASSERT_EQ(statuses.Length("vms"), 2u) << all.out;
  EXPECT_TRUE(statuses.Bool("vms.0.ok"));
  EXPECT_EQ(statuses.String("vms.0.status.libvirt.domain"), Domain());
  EXPECT_TRUE(statuses.Bool("vms.1.ok"));
  EXPECT_EQ(statuses.String("vms.1.status.vm_name"), "side");
  const std::string all_text = root_ctl.Run({"--all", "status"}).out;
  EXPECT_NE(all_text.find("== VM 'lv' =="), std::string::npos) << all_text;
  EXPECT_NE(all_text.find("== VM 'side' =="), std::string::npos) << all_text;

  CliRun stopped = root_ctl.Run({"--vm", "side", "stop"});
  ASSERT_EQ(stopped.exit_code, 0) << stopped.out << stopped.err;
  Json after = ResultOf(root_ctl.Run({"--json", "list"}));
  for (size_t i = 0; i < after.Length("vms"); ++i) {
    const std::string p = "vms." + std::to_string(i);
    if (after.String(p + ".name") == "side") {
      EXPECT_NE(after.String(p + ".state"), "running");
    }
  }
}

// The domain destroyed while a plug waits for its blocks (the guest paused, so none comes
// online): libvirt's lifecycle event ends the plug FAILED with the reason, the journal records
// that end (nothing is left to resume), and memhpd ends with the VM, leaving neither its socket
// nor its pidfile. Last in the suite: the domain is gone after it.
TEST_F(Libvirt, TheDomainDestroyedMidPlugEndsThePlugAndMemhpd) {
  const long pid = MemhpdPid();
  ASSERT_GT(pid, 0);
  const std::string paused = Virsh("suspend " + Domain());
  ASSERT_NE(paused.find("suspended"), std::string::npos) << paused;
  Background plug(vm_->root(), {"--vm", kVm, "--json", "plug", "--size", "128M", "--node", "0", "--id", "dimm7"},
                  Dir() + "/destroy-plug.out");
  ASSERT_TRUE(WaitAttached("dimm7")) << "libvirt never attached dimm7: " << Journal();
  const std::string destroyed = Virsh("destroy " + Domain());
  ASSERT_NE(destroyed.find("destroyed"), std::string::npos) << destroyed;
  vm_->Ended();

  ASSERT_GE(plug.Wait(60), 0) << "the plug did not end after the domain was destroyed";
  Json op = ResultOf(plug.Output());
  EXPECT_EQ(op.String("outcome"), "OPERATION_OUTCOME_FAILED") << plug.Output();
  EXPECT_NE(op.String("detail").find("went away during the online step"), std::string::npos) << op.String("detail");
  EXPECT_FALSE(op.Bool("guest_side_known"));
  const std::string journal = Journal();
  const size_t end = journal.rfind("\"outcome\":\"failed\"");
  ASSERT_NE(end, std::string::npos) << journal;
  EXPECT_NE(journal.find("went away during the online step", end), std::string::npos) << journal;
  for (int i = 0; i < 100 && PidAlive(pid); ++i) g_usleep(100 * 1000);
  EXPECT_FALSE(PidAlive(pid)) << "memhpd outlived its domain";
  EXPECT_FALSE(g_file_test((Dir() + "/memhpd.pid").c_str(), G_FILE_TEST_EXISTS));
  EXPECT_FALSE(g_file_test((Dir() + "/control.sock").c_str(), G_FILE_TEST_EXISTS));
}

}  // namespace
}  // namespace memhp::vmtest
