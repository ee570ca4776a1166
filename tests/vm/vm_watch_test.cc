// memhp vm suite — `memhpctl watch` beside other clients: one VM, a watch running in
// one process while a second plugs a DIMM (`memhpctl plug`) and a third asks `status --json`
// while the plug is held in flight by a gate hook in the guest. The watch output is one JSON object per line; what really arrives is asserted:
// the operation's "requested" and "end" lines around the agent's BLOCK_ADDED and ONLINE events
// for the new DIMM's blocks (QEMU sends no QMP event for a pc-dimm device_add). Last, a watch
// running when the VM is stopped ends with memhpd's "qemu_gone" line and exit code 0.
#include <fcntl.h>
#include <glib.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <functional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "memhpctl_runner.h"
#include "shared_vm.h"

namespace memhp::vmtest {
namespace {

constexpr int64_t kBlock = 128ll << 20;

// A memhpctl running in the background, its stdout going to a file.
class Background {
 public:
  Background(const std::string& state_root, std::vector<std::string> args, std::string out_path)
      : out_path_(std::move(out_path)) {
    const char* env = std::getenv("MEMHPCTL");
    std::vector<std::string> argv = {env ? env : "memhpctl", "--state-root", state_root};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> c_argv;
    for (std::string& a : argv) c_argv.push_back(a.data());
    c_argv.push_back(nullptr);
    const int out_fd = open(out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    EXPECT_GE(out_fd, 0);
    GError* error = nullptr;
    if (!g_spawn_async_with_fds(nullptr, c_argv.data(), nullptr, G_SPAWN_DO_NOT_REAP_CHILD, nullptr, nullptr, &pid_,
                                -1, out_fd, -1, &error)) {
      ADD_FAILURE() << "spawn memhpctl: " << error->message;
      g_error_free(error);
      pid_ = 0;
    }
    close(out_fd);
  }
  ~Background() {
    if (pid_ > 0 && exit_code_ < 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }

  [[nodiscard]] std::string Output() const {
    gchar* text = nullptr;
    if (!g_file_get_contents(out_path_.c_str(), &text, nullptr, nullptr)) return "";
    std::string out = text;
    g_free(text);
    return out;
  }
  [[nodiscard]] std::vector<std::string> Lines() const {
    std::vector<std::string> lines;
    gchar** parts = g_strsplit(Output().c_str(), "\n", -1);
    for (gchar** p = parts; *p; ++p) {
      if (**p) lines.emplace_back(*p);
    }
    g_strfreev(parts);
    return lines;
  }
  [[nodiscard]] bool Running() {
    if (pid_ <= 0 || exit_code_ >= 0) return false;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) != pid_) return true;
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return false;
  }
  // Waits up to `seconds` for it to end; its exit code, or -1 if it is still running.
  int Wait(int seconds) {
    for (int i = 0; i < seconds * 10 && Running(); ++i) g_usleep(100'000);
    return Running() ? -1 : exit_code_;
  }
  void Signal(int sig) const {
    if (pid_ > 0 && exit_code_ < 0) kill(pid_, sig);
  }
  // Polls the output until `done(lines)` holds or `seconds` pass.
  bool WaitFor(int seconds, const std::function<bool(const std::vector<std::string>&)>& done) const {
    for (int i = 0; i < seconds * 10; ++i) {
      if (done(Lines())) return true;
      g_usleep(100'000);
    }
    return done(Lines());
  }

 private:
  std::string out_path_;
  GPid pid_ = 0;
  int exit_code_ = -1;
};

struct WatchLine {
  std::string source;
  std::string name;
  int64_t block = -1;  // agent memory events
  std::string outcome;  // operation "end"
  bool well_formed = false;
};

WatchLine Parse(const std::string& line) {
  Json j(line);
  WatchLine w;
  w.source = j.String("source");
  w.name = j.String("name");
  w.block = j.At("data.memory") ? j.Int("data.memory.block") : -1;
  w.outcome = j.String("data.outcome");
  w.well_formed = j.ok() && j.Int("time_unix_ns") > 0 && !w.source.empty() && !w.name.empty() && j.At("data") &&
                  JSON_NODE_HOLDS_OBJECT(j.At("data"));
  return w;
}

bool HasLine(const std::vector<std::string>& lines, const std::string& source, const std::string& name) {
  for (const auto& l : lines) {
    WatchLine w = Parse(l);
    if (w.source == source && w.name == name) return true;
  }
  return false;
}

class Watch : public SharedVmTest<Watch> {
 public:
  static constexpr char kVm[] = "wt";

 protected:
  static const std::string& Root() { return vm_->root(); }
  static std::vector<std::string> WithVm(std::vector<std::string> args) { return vm_->WithVm(std::move(args)); }
};

TEST_F(Watch, WatchPlugAndStatusFromThreeClientsAtOnce) {
  Background watch(Root(), WithVm({"watch", "--no-replay"}), Root() + "/watch.out");
  ASSERT_TRUE(watch.WaitFor(30, [](const auto& lines) { return HasLine(lines, "memhpd", "watching"); }))
      << watch.Output();

  // A gate in the guest holds the plug in flight: a hook script at MEM_GOING_ONLINE (S1) says it
  // runs, then waits for /tmp/go. The agent bounds every hook (5 s, hook_scripts.h), so the
  // gate gives up after 4 s and exits 0 (no veto) rather than being killed.
  Guest("rm -f /tmp/go /tmp/in-gate; mkdir -p /etc/memhp/hooks.d && printf '#!/bin/sh\\n"
        "[ \"$MEMHP_EVENT\" = MEM_GOING_ONLINE ] || exit 0\\ntouch /tmp/in-gate\\ni=0\\n"
        "while [ ! -e /tmp/go ] && [ $i -lt 40 ]; do sleep 0.1; i=$((i+1)); done\\nexit 0\\n' "
        "> /etc/memhp/hooks.d/10-gate && chmod 755 /etc/memhp/hooks.d/10-gate");
  ASSERT_NE(Guest("cat /etc/memhp/hooks.d/10-gate").find("MEM_GOING_ONLINE"), std::string::npos);

  Background plug(Root(), WithVm({"--json", "plug", "--size", "256M", "--node", "1", "--id", "wdimm"}),
                  Root() + "/plug.out");
  bool gated = false;
  for (int i = 0; i < 240 && !gated && plug.Running(); ++i) {
    gated = Guest("echo GATE=$(ls /tmp/in-gate 2>/dev/null)=END").find("GATE=/tmp/in-gate=END") != std::string::npos;
    if (!gated) g_usleep(250 * 1000);
  }
  // The third client, while the plug is held in the guest: memhpd answers it meanwhile.
  const bool running_before = plug.Running();
  CliRun during = Ctl({"--json", "status", "--no-refresh"});
  const bool running_after = plug.Running();
  Guest("touch /tmp/go");
  ASSERT_TRUE(gated) << "the plug never reached the gate: " << plug.Output();
  EXPECT_TRUE(running_before && running_after) << "the plug was not in flight around the status call";
  EXPECT_EQ(during.exit_code, 0) << during.err;
  EXPECT_TRUE(ResultOf(during).ok()) << during.out;
  EXPECT_FALSE(HasLine(watch.Lines(), "operation", "end")) << "the watch saw the plug end while it was held";

  const int plug_exit = plug.Wait(120);
  Guest("rm -f /etc/memhp/hooks.d/10-gate /tmp/go /tmp/in-gate");
  const std::string plug_out = plug.Output();
  ASSERT_EQ(plug_exit, 0) << plug_out;
  EXPECT_EQ(ResultOf(plug_out).String("outcome"), "OPERATION_OUTCOME_DONE") << plug_out;

  // The DIMM's blocks, from QEMU's view of it.
  Json status = ResultOf(Ctl({"--json", "status", "--no-refresh"}));
  int64_t address = -1;
  for (size_t i = 0; i < status.Length("devices"); ++i) {
    if (status.String("devices." + std::to_string(i) + ".id") == "wdimm") {
      address = status.Int("devices." + std::to_string(i) + ".address");
    }
  }
  ASSERT_GT(address, 0) << "wdimm not in QEMU's memory devices";
  const std::set<int64_t> blocks = {address / kBlock, address / kBlock + 1};

  // Every block added and onlined, as the agent reported it, reaches the watcher.
  auto seen_all = [&](const std::vector<std::string>& lines) {
    std::set<int64_t> added, online;
    for (const auto& l : lines) {
      WatchLine w = Parse(l);
      if (w.source != "agent" || !blocks.count(w.block)) continue;
      if (w.name == "BLOCK_ADDED") added.insert(w.block);
      if (w.name == "ONLINE") online.insert(w.block);
    }
    return added == blocks && online == blocks;
  };
  ASSERT_TRUE(watch.WaitFor(60, seen_all)) << watch.Output();
  ASSERT_TRUE(watch.WaitFor(10, [](const auto& lines) { return HasLine(lines, "operation", "end"); }));

  // Every line is one well-formed object; the operation brackets the agent's events.
  const std::vector<std::string> lines = watch.Lines();
  int requested_at = -1, end_at = -1, first_added_at = -1, last_online_at = -1;
  std::string end_outcome;
  for (size_t i = 0; i < lines.size(); ++i) {
    WatchLine w = Parse(lines[i]);
    EXPECT_TRUE(w.well_formed) << lines[i];
    const int at = static_cast<int>(i);
    if (w.source == "operation" && w.name == "requested" && requested_at < 0) requested_at = at;
    if (w.source == "operation" && w.name == "end") {
      end_at = at;
      end_outcome = w.outcome;
    }
    if (w.source == "agent" && blocks.count(w.block) && w.name == "BLOCK_ADDED" && first_added_at < 0) first_added_at = at;
    if (w.source == "agent" && blocks.count(w.block) && w.name == "ONLINE") last_online_at = at;
  }
  ASSERT_GE(requested_at, 0) << watch.Output();
  ASSERT_GE(end_at, 0) << watch.Output();
  EXPECT_LT(requested_at, first_added_at);
  EXPECT_GT(end_at, last_online_at);  // plug answers once every block is online
  EXPECT_EQ(end_outcome, "OPERATION_OUTCOME_DONE");

  // Ctrl-C ends a watch with exit code 0.
  watch.Signal(SIGINT);
  EXPECT_EQ(watch.Wait(10), 0);
}

TEST_F(Watch, AWatchEndsWithQemuGoneWhenTheVmStops) {
  Background watch(Root(), WithVm({"watch"}), Root() + "/watch2.out");
  ASSERT_TRUE(watch.WaitFor(30, [](const auto& lines) { return HasLine(lines, "memhpd", "watching"); }))
      << watch.Output();
  CliRun stop = vm_->Stop();  // the suite's teardown then leaves the VM alone
  ASSERT_EQ(stop.exit_code, 0) << stop.err;
  EXPECT_EQ(watch.Wait(30), 0) << watch.Output();
  const std::vector<std::string> lines = watch.Lines();
  ASSERT_FALSE(lines.empty());
  WatchLine last = Parse(lines.back());
  EXPECT_EQ(last.source, "memhpd");
  EXPECT_EQ(last.name, "qemu_gone");
}

}  // namespace
}  // namespace memhp::vmtest
