// memhpctl — `timeline`: a recorded `memhpctl --json watch` stream (one JSON object per line)
// drawn as SVG swimlanes (ctl/timeline_svg.h). It reads a file and writes one; memhpd is not
// asked, so it works on any machine a recording was copied to.
#include <glib.h>
#include <glib/gstdio.h>
#include <sys/stat.h>

#include <cstdio>
#include <string>

#include "ctl/timeline_model.h"
#include "ctl/timeline_svg.h"
#include "ctl/watch_stream.h"
#include "memhpctl/cli_call.h"
#include "memhpctl/commands.h"

namespace memhp::cli {
namespace {

// A recording bigger than this is refused before it is read (1 M events of a few hundred bytes).
constexpr uint64_t kMaxRecordingBytes = uint64_t{512} << 20;

size_t Vetoes(const ctl::Timeline& t) {
  size_t n = 0;
  for (const ctl::BlockLane& lane : t.blocks) n += lane.vetoes.size();
  return n;
}

}  // namespace

int RunTimeline(const Command& command) {
  const std::string& input = command.timeline.input;
  GStatBuf st;
  if (g_stat(input.c_str(), &st) != 0) {
    return Fail(command, kExitFailed, "timeline: " + input + ": " + g_strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) return Fail(command, kExitFailed, "timeline: " + input + ": not a regular file");
  if (static_cast<uint64_t>(st.st_size) > kMaxRecordingBytes) {
    return Fail(command, kExitFailed, "timeline: " + input + ": larger than " + std::to_string(kMaxRecordingBytes >> 20) + " MiB");
  }
  g_autofree gchar* text = nullptr;
  gsize length = 0;
  g_autoptr(GError) error = nullptr;
  if (!g_file_get_contents(input.c_str(), &text, &length, &error)) {
    return Fail(command, kExitFailed, std::string("timeline: ") + error->message);
  }
  const Result<std::vector<memhp::v1::WatchEvent>> events = ctl::ParseWatchStream(std::string_view(text, length));
  if (!events.ok()) return Fail(command, kExitFailed, "timeline: " + input + ": " + events.error().message);
  const ctl::Timeline timeline = ctl::BuildTimeline(*events);
  const std::string svg = ctl::RenderTimelineSvg(timeline);

  const std::string& output = command.timeline.output;
  if (output == "-") {
    if (std::fwrite(svg.data(), 1, svg.size(), stdout) != svg.size() || std::fflush(stdout) != 0) {
      return Fail(command, kExitFailed, std::string("timeline: writing stdout: ") + g_strerror(errno));
    }
    return kExitOk;
  }
  if (!g_file_set_contents(output.c_str(), svg.data(), static_cast<gssize>(svg.size()), &error)) {
    return Fail(command, kExitFailed, std::string("timeline: ") + error->message);
  }
  const std::string summary = FormatText(
      "wrote %s: %zu events over %.3f s, %zu operations, %zu block lanes, %zu QMP events, %zu vetoes%s",
      output.c_str(), timeline.events, static_cast<double>(timeline.end_ns - timeline.start_ns) / 1e9,
      timeline.operations.size(), timeline.blocks.size(), timeline.qmp.size(), Vetoes(timeline),
      timeline.missing_events ? FormatText("; %llu events missing (seq gaps)",
                                           static_cast<unsigned long long>(timeline.missing_events)).c_str()
                              : "");
  const std::string json = FormatText(
      "{\"output\": %s, \"events\": %zu, \"duration_ns\": %llu, \"operations\": %zu, \"block_lanes\": %zu, "
      "\"qmp_events\": %zu, \"vetoes\": %zu, \"missing_events\": %llu, \"not_drawn\": %zu}",
      JsonString(output).c_str(), timeline.events, static_cast<unsigned long long>(timeline.end_ns - timeline.start_ns),
      timeline.operations.size(), timeline.blocks.size(), timeline.qmp.size(), Vetoes(timeline),
      static_cast<unsigned long long>(timeline.missing_events), timeline.not_drawn);
  return PrintAnswer(command, kExitOk, summary + "\n", json);
}

}  // namespace memhp::cli
