// memhp vm suite — `memhpctl watch` beside other clients: one VM, a watch running in
// one process while a second plugs a DIMM (`memhpctl plug`) and a third asks `status --json`
// while the plug is held in flight by a gate hook in the guest. The watch output is one JSON object per line; what really arrives is asserted:
// the operation's "requested" and "end" lines around the agent's BLOCK_ADDED and ONLINE events
// for the new DIMM's blocks (QEMU sends no QMP event for a pc-dimm device_add). Last, a watch
// running when the VM is stopped ends with memhpd's "qemu_gone" line and exit code 0. Between
// them, `memhpctl timeline` draws a recording of a plug and an unplug (rendered by rsvg-convert).
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

#include "background_memhpctl.h"
#include "memhpctl_runner.h"
#include "shared_vm.h"

namespace memhp::vmtest {
namespace {

constexpr int64_t kBlock = 128ll << 20;

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

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// The width and height a PNG's IHDR chunk says (bytes 16..23, big-endian), or {0, 0}.
std::pair<uint32_t, uint32_t> PngSize(const std::string& png) {
  if (png.size() < 24 || png.compare(1, 3, "PNG") != 0 || png.compare(12, 4, "IHDR") != 0) return {0, 0};
  auto be32 = [&png](size_t at) {
    return (uint32_t{static_cast<uint8_t>(png[at])} << 24) | (uint32_t{static_cast<uint8_t>(png[at + 1])} << 16) |
           (uint32_t{static_cast<uint8_t>(png[at + 2])} << 8) | uint32_t{static_cast<uint8_t>(png[at + 3])};
  };
  return {be32(16), be32(20)};
}

// The number in `attribute="N"` on the <svg> element.
uint32_t SvgAttribute(const std::string& svg, const std::string& attribute) {
  const size_t open = svg.find("<svg ");
  const size_t at = open == std::string::npos ? open : svg.find(" " + attribute + "=\"", open);
  return at == std::string::npos ? 0 : static_cast<uint32_t>(std::strtoul(svg.c_str() + at + attribute.size() + 3, nullptr, 10));
}

std::string ReadFile(const std::string& path) {
  gchar* text = nullptr;
  gsize length = 0;
  if (!g_file_get_contents(path.c_str(), &text, &length, nullptr)) return "";
  std::string out(text, length);
  g_free(text);
  return out;
}

// memhpctl timeline on a real recording: a watch running while a DIMM is plugged and unplugged,
// drawn as SVG, rendered by librsvg to PNG. The picture's geometry must follow the stream: one
// lane per block the agent reported a change of, one bar per operation, the PNG as large as the
// SVG says (rsvg-convert read all of it).
TEST_F(Watch, TheTimelineOfAPlugAndAnUnplugHasALanePerBlockAndABarPerOperation) {
  const std::string recording = Root() + "/timeline.jsonl";
  Background watch(Root(), WithVm({"watch", "--no-replay"}), recording);
  ASSERT_TRUE(watch.WaitFor(30, [](const auto& lines) { return HasLine(lines, "memhpd", "watching"); }))
      << watch.Output();
  CliRun plug = Ctl({"--json", "plug", "--size", "256M", "--node", "1", "--id", "tdimm"});
  ASSERT_EQ(plug.exit_code, 0) << plug.out << plug.err;
  CliRun unplug = Ctl({"--json", "unplug", "tdimm"});
  ASSERT_EQ(unplug.exit_code, 0) << unplug.out << unplug.err;
  auto ends = [](const std::vector<std::string>& lines) {
    int n = 0;
    for (const auto& l : lines) {
      WatchLine w = Parse(l);
      n += w.source == "operation" && w.name == "end";
    }
    return n;
  };
  ASSERT_TRUE(watch.WaitFor(30, [&](const auto& lines) { return ends(lines) == 2; })) << watch.Output();
  watch.Signal(SIGINT);
  ASSERT_EQ(watch.Wait(10), 0);

  // What the stream says, read here without memhpctl's model: the blocks memory events name, the
  // operations requested, and that memhpd numbered the stream 1, 2, 3, ... with the VM's name.
  std::set<int64_t> changed;
  int requested = 0;
  int64_t expected_seq = 1;
  for (const std::string& line : watch.Lines()) {
    Json j(line);
    EXPECT_EQ(j.Int("seq"), expected_seq++) << line;
    EXPECT_EQ(j.String("vm"), kVm) << line;
    WatchLine w = Parse(line);
    if (w.source == "agent" && w.block >= 0) changed.insert(w.block);
    requested += w.source == "operation" && w.name == "requested";
  }
  ASSERT_EQ(requested, 2);
  ASSERT_GE(changed.size(), 2u) << "the DIMM's two blocks at least";

  const std::string svg_path = Root() + "/timeline.svg";
  CliRun timeline = Ctl({"--json", "timeline", recording, "-o", svg_path});
  ASSERT_EQ(timeline.exit_code, 0) << timeline.out << timeline.err;
  Json result = ResultOf(timeline);
  EXPECT_EQ(result.Int("operations"), 2);
  EXPECT_EQ(result.Int("block_lanes"), static_cast<int64_t>(changed.size()));
  EXPECT_EQ(result.Int("missing_events"), 0);

  const std::string svg = ReadFile(svg_path);
  EXPECT_EQ(Count(svg, "<g class=\"lane-block\""), changed.size()) << svg_path;
  for (int64_t block : changed) {
    EXPECT_EQ(Count(svg, "data-block=\"" + std::to_string(block) + "\""), 1u) << block;
  }
  EXPECT_EQ(Count(svg, "class=\"op-bar\""), 2u);
  EXPECT_EQ(Count(svg, "<g class=\"lane-op\">"), 2u);

  // librsvg renders it: the PNG is the SVG's declared size.
  const std::string png_path = Root() + "/timeline.png";
  gchar* argv[] = {const_cast<gchar*>("rsvg-convert"), const_cast<gchar*>("-o"), const_cast<gchar*>(png_path.c_str()),
                   const_cast<gchar*>(svg_path.c_str()), nullptr};
  gchar* err = nullptr;
  gint status = 0;
  GError* error = nullptr;
  ASSERT_TRUE(g_spawn_sync(nullptr, argv, nullptr, G_SPAWN_SEARCH_PATH, nullptr, nullptr, nullptr, &err, &status, &error))
      << (error ? error->message : "") << " (rsvg-convert: librsvg2-bin, installed by bootstrap.sh)";
  const std::string rsvg_err = err ? err : "";
  g_free(err);
  ASSERT_TRUE(g_spawn_check_wait_status(status, nullptr)) << rsvg_err;
  const auto [width, height] = PngSize(ReadFile(png_path));
  EXPECT_EQ(width, SvgAttribute(svg, "width"));
  EXPECT_EQ(height, SvgAttribute(svg, "height"));
  EXPECT_GT(height, (changed.size() + 2) * 24) << "a row per operation and per block at least";
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
