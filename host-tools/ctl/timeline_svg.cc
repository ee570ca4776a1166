// timeline_svg — see timeline_svg.h. Plain SVG 1.1 (no script, no external references), so
// rsvg-convert, browsers and image viewers draw it alike.
#include "ctl/timeline_svg.h"

#include <glib.h>

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <string_view>

#include "ctl/operation_view.h"
#include "ctl/status_view.h"

namespace memhp::ctl {
namespace {

namespace v1 = memhp::v1;

constexpr int kWidth = 1200;
constexpr int kLabelWidth = 200;  // the lanes' names, left of the plot
constexpr int kPlotLeft = kLabelWidth + 10;
constexpr int kPlotRight = kWidth - 30;
constexpr int kAxisY = 56;
constexpr int kFirstRowY = 70;
constexpr int kRowHeight = 24;
constexpr int kBarHeight = 16;
constexpr size_t kMaxLabel = 48;  // characters of one label from the stream

// Colours: zones as the kernel names them (FormatZone), then states and marks.
const char* ZoneColour(v1::Zone zone) {
  switch (zone) {
    case v1::ZONE_MOVABLE: return "#4e79a7";
    case v1::ZONE_NORMAL: return "#59a14f";
    case v1::ZONE_DMA32: return "#edc948";
    case v1::ZONE_DMA: return "#f28e2b";
    case v1::ZONE_DEVICE: return "#b07aa1";
    default: return "#9c755f";  // online, zone not reported
  }
}
constexpr const char* kOfflineColour = "#c8c8c8";
constexpr const char* kVetoColour = "#e15759";
constexpr const char* kQmpColour = "#76b7b2";
constexpr const char* kNoticeColour = "#7f7f7f";

std::string Num(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.1f", v);
  return buffer;
}

// Seconds from the start, with the precision the tick step needs.
std::string SecondsLabel(uint64_t ns, uint64_t step_ns) {
  char buffer[32];
  const int digits = step_ns >= 1'000'000'000 ? 0 : step_ns >= 100'000'000 ? 1 : step_ns >= 10'000'000 ? 2 : 3;
  std::snprintf(buffer, sizeof buffer, "%.*f s", digits, static_cast<double>(ns) / 1e9);
  return buffer;
}

// 1, 2 or 5 times a power of ten, so that about eight ticks span `span_ns`.
uint64_t TickStep(uint64_t span_ns) {
  uint64_t step = 1000;  // 1 us
  while (true) {
    for (uint64_t m : {1, 2, 5}) {
      if (span_ns / (step * m) <= 8) return step * m;
    }
    step *= 10;
  }
}

class Canvas {
 public:
  Canvas(const Timeline& t) : start_(t.start_ns), span_(std::max<uint64_t>(t.end_ns - t.start_ns, 1'000'000)) {}

  [[nodiscard]] double X(uint64_t t) const {
    const uint64_t d = t > start_ ? t - start_ : 0;
    return kPlotLeft + static_cast<double>(std::min(d, span_)) / static_cast<double>(span_) * (kPlotRight - kPlotLeft);
  }
  [[nodiscard]] uint64_t span() const { return span_; }

  std::string out;

  void Rect(const std::string& cls, double x, double y, double w, double h, std::string_view fill,
            std::string_view extra, const std::string& title) {
    out += "<rect class=\"" + cls + "\" x=\"" + Num(x) + "\" y=\"" + Num(y) + "\" width=\"" + Num(std::max(w, 1.0)) +
           "\" height=\"" + Num(h) + "\" fill=\"" + std::string(fill) + "\"" + std::string(extra) + ">";
    if (!title.empty()) out += "<title>" + title + "</title>";
    out += "</rect>\n";
  }
  void Text(double x, double y, const std::string& text, std::string_view extra = "") {
    out += "<text x=\"" + Num(x) + "\" y=\"" + Num(y) + "\"" + std::string(extra) + ">" + text + "</text>\n";
  }
  // A vertical mark with a dot; `label` (escaped) shown beside it when there is room.
  void Mark(const std::string& cls, double x, double y, std::string_view colour, const std::string& title,
            const std::string& label, bool label_left) {
    out += "<g class=\"" + cls + "\"><title>" + title + "</title><line x1=\"" + Num(x) + "\" y1=\"" + Num(y + 2) +
           "\" x2=\"" + Num(x) + "\" y2=\"" + Num(y + kRowHeight - 2) + "\" stroke=\"" + std::string(colour) +
           "\" stroke-width=\"2\"/><circle cx=\"" + Num(x) + "\" cy=\"" + Num(y + 7) + "\" r=\"3.5\" fill=\"" +
           std::string(colour) + "\"/>";
    if (!label.empty()) {
      out += "<text x=\"" + Num(label_left ? x - 5 : x + 5) + "\" y=\"" + Num(y + 19) + "\" font-size=\"9\"" +
             (label_left ? " text-anchor=\"end\"" : "") + ">" + label + "</text>";
    }
    out += "</g>\n";
  }

 private:
  uint64_t start_;
  uint64_t span_;
};

std::string Duration(uint64_t ns) { return FormatDurationUs(ns / 1000); }

// Marks on one row, in time order (QMP events keep QEMU's timestamps, which need not follow the
// stream's order); a label is written only where it overlaps neither the last label written nor
// the next mark, and near the right edge it ends at its mark instead of starting there.
void MarkRow(Canvas& c, std::vector<TimelineMark> marks, double y, const std::string& cls,
             std::string_view colour, uint64_t start) {
  std::stable_sort(marks.begin(), marks.end(),
                   [](const TimelineMark& a, const TimelineMark& b) { return a.time_ns < b.time_ns; });
  double free_from = 0;  // where the last label ended
  for (size_t i = 0; i < marks.size(); ++i) {
    const double x = c.X(marks[i].time_ns);
    const double next = i + 1 < marks.size() ? c.X(marks[i + 1].time_ns) : kWidth + 1000.0;
    const std::string label = XmlText(marks[i].label, kMaxLabel);
    const std::string title = label + " at " + SecondsLabel(marks[i].time_ns - std::min(marks[i].time_ns, start), 1);
    const double width = 6.0 * static_cast<double>(std::min(marks[i].label.size(), kMaxLabel)) + 8;
    const bool at_right = x + width > kWidth - 4;
    const bool room = at_right ? x - width > free_from : (x > free_from && next - x > width);
    c.Mark(cls, x, y, colour, title, room ? label : "", at_right);
    if (room) free_from = at_right ? x : x + width;
  }
}

void Legend(Canvas& c, double y) {
  struct Item {
    const char* colour;
    const char* label;
    const char* opacity;
  };
  const Item items[] = {
      {ZoneColour(v1::ZONE_MOVABLE), "online Movable", "1"}, {ZoneColour(v1::ZONE_NORMAL), "online Normal", "1"},
      {ZoneColour(v1::ZONE_DMA32), "online DMA32", "1"},     {ZoneColour(v1::ZONE_DEVICE), "online Device", "1"},
      {ZoneColour(v1::ZONE_UNSPECIFIED), "online (zone not said)", "1"},
      {ZoneColour(v1::ZONE_MOVABLE), "going on/offline", "0.4"},
      {kOfflineColour, "offline", "1"},
  };
  c.out += "<g class=\"legend\">\n";
  double x = kPlotLeft;
  for (const Item& item : items) {
    c.out += "<rect x=\"" + Num(x) + "\" y=\"" + Num(y) + "\" width=\"14\" height=\"12\" fill=\"" + item.colour +
             "\" fill-opacity=\"" + item.opacity + "\"/>";
    c.Text(x + 18, y + 10, item.label, " font-size=\"11\"");
    x += 34 + 6.2 * static_cast<double>(std::string_view(item.label).size());
  }
  y += 20;
  x = kPlotLeft;
  for (const auto& [colour, label] : {std::pair{kQmpColour, "QMP event"}, std::pair{kNoticeColour, "memhpd notice"},
                                      std::pair{kVetoColour, "veto / refused online or offline"},
                                      std::pair{"#dddddd", "operation, its steps inside"}}) {
    c.out += "<rect x=\"" + Num(x) + "\" y=\"" + Num(y) + "\" width=\"14\" height=\"12\" fill=\"" + colour + "\"/>";
    c.Text(x + 18, y + 10, label, " font-size=\"11\"");
    x += 34 + 6.2 * static_cast<double>(std::string_view(label).size());
  }
  c.out += "</g>\n";
}

const char* StepShade(size_t i, bool ok) {
  if (!ok) return kVetoColour;
  return i % 2 == 0 ? "#9ecae9" : "#6baed6";
}

}  // namespace

std::string XmlText(std::string_view text, size_t max_chars) {
  g_autofree gchar* valid = g_utf8_make_valid(text.data(), static_cast<gssize>(text.size()));
  std::string out;
  size_t chars = 0;
  for (const gchar* p = valid; *p; p = g_utf8_next_char(p)) {
    if (chars == max_chars) {
      out += "\xE2\x80\xA6";  // U+2026
      break;
    }
    ++chars;
    const gunichar u = g_utf8_get_char(p);
    switch (u) {
      case '&': out += "&amp;"; continue;
      case '<': out += "&lt;"; continue;
      case '>': out += "&gt;"; continue;
      case '"': out += "&quot;"; continue;
      case '\'': out += "&apos;"; continue;
      default: break;
    }
    // XML 1.0 Char: tab, newline, CR and U+0020 up; C1 and DEL are allowed but shown as '?'
    // (they are terminal controls, and nobody means them in a label).
    if ((u < 0x20 && u != '\t') || (u >= 0x7f && u <= 0x9f) || u == 0xfffe || u == 0xffff) {
      out += '?';
      continue;
    }
    out.append(p, g_utf8_next_char(p) - p);
  }
  return out;
}

std::string RenderTimelineSvg(const Timeline& t) {
  Canvas c(t);
  const size_t rows = t.operations.size() + 2 + t.blocks.size();
  const int plot_bottom = kFirstRowY + static_cast<int>(rows) * kRowHeight + 14;  // + the section gap
  const int height = plot_bottom + 60;
  c.out += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  c.out += "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"" + std::to_string(kWidth) +
           "\" height=\"" + std::to_string(height) + "\" viewBox=\"0 0 " + std::to_string(kWidth) + " " +
           std::to_string(height) + "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  c.Rect("background", 0, 0, kWidth, height, "#ffffff", "", "");

  // Title: what, how long, and what is missing.
  std::string title = "memhp timeline";
  if (!t.vm.empty()) title += " \xE2\x80\x94 VM " + XmlText(t.vm, kMaxLabel);
  title += ": " + Duration(t.end_ns - t.start_ns) + ", " + std::to_string(t.events) + " events, " +
           std::to_string(t.operations.size()) + " operations, " + std::to_string(t.blocks.size()) + " blocks changed";
  if (t.missing_events) title += "; " + std::to_string(t.missing_events) + " events missing (seq gaps)";
  if (t.not_drawn) title += "; " + std::to_string(t.not_drawn) + " items over the bounds not drawn";
  c.Text(10, 22, title, " font-size=\"14\" font-weight=\"bold\"");

  // The axis: seconds from the first event.
  const uint64_t step = TickStep(c.span());
  c.out += "<g class=\"axis\">\n<line x1=\"" + Num(kPlotLeft) + "\" y1=\"" + Num(kAxisY) + "\" x2=\"" + Num(kPlotRight) +
           "\" y2=\"" + Num(kAxisY) + "\" stroke=\"#000\"/>\n";
  for (uint64_t at = 0; at <= c.span(); at += step) {
    const double x = c.X(t.start_ns + at);
    c.out += "<line x1=\"" + Num(x) + "\" y1=\"" + Num(kAxisY - 4) + "\" x2=\"" + Num(x) + "\" y2=\"" +
             Num(plot_bottom) + "\" stroke=\"#eeeeee\"/>\n";
    c.Text(x, kAxisY - 8, SecondsLabel(at, step), " font-size=\"10\" text-anchor=\"middle\"");
  }
  c.out += "</g>\n";

  double y = kFirstRowY;
  auto lane_label = [&c](double row_y, const std::string& label) {
    c.Text(10, row_y + 16, label, " font-size=\"11\"");
  };
  for (const TimelineOperation& op : t.operations) {
    c.out += "<g class=\"lane-op\">\n";
    const std::string label = XmlText(op.label, kMaxLabel);
    const std::string how = op.finished ? op.outcome + ", " + Duration(op.end_ns - op.start_ns) : "not finished";
    lane_label(y, label + " (" + XmlText(how, kMaxLabel) + ")");
    const double x0 = c.X(op.start_ns);
    const double x1 = c.X(op.end_ns);
    const bool good = op.outcome == "DONE";
    c.Rect("op-bar", x0, y + 4, x1 - x0, kBarHeight, "#dddddd",
           std::string(" stroke=\"") + (good || !op.finished ? "#555555" : kVetoColour) + "\"" +
               (op.finished ? "" : " stroke-dasharray=\"4 2\""),
           label + ": " + XmlText(how, kMaxLabel));
    for (size_t i = 0; i < op.steps.size(); ++i) {
      const TimelineStep& s = op.steps[i];
      const double sx = c.X(s.start_ns);
      const double sw = c.X(s.end_ns) - sx;
      const std::string name = XmlText(s.name, kMaxLabel);
      c.Rect("op-step", sx, y + 6, sw, kBarHeight - 4, StepShade(i, s.ok), "",
             name + " " + Duration(s.end_ns - s.start_ns) + (s.ok ? "" : " (failed)"));
      if (sw > 7.0 * static_cast<double>(s.name.size()) + 4) c.Text(sx + 2, y + 16, name, " font-size=\"9\"");
    }
    c.out += "</g>\n";
    y += kRowHeight;
  }
  c.out += "<g class=\"lane-qmp\">\n";
  lane_label(y, "QMP events");
  MarkRow(c, t.qmp, y, "qmp-mark", kQmpColour, t.start_ns);
  c.out += "</g>\n";
  y += kRowHeight;
  c.out += "<g class=\"lane-notices\">\n";
  lane_label(y, "memhpd notices");
  MarkRow(c, t.notices, y, "notice-mark", kNoticeColour, t.start_ns);
  c.out += "</g>\n";
  y += kRowHeight + 14;

  for (const BlockLane& lane : t.blocks) {
    c.out += "<g class=\"lane-block\" data-block=\"" + std::to_string(lane.block) + "\">\n";
    lane_label(y, "memory" + std::to_string(lane.block));
    for (const BlockSpan& s : lane.spans) {
      const double x0 = c.X(s.start_ns);
      const double w = c.X(s.end_ns) - x0;
      std::string what;
      const char* fill = kOfflineColour;
      std::string extra;
      switch (s.phase) {
        case BlockPhase::kOffline: what = "offline"; break;
        case BlockPhase::kOnline:
          what = "online " + std::string(FormatZone(s.zone));
          fill = ZoneColour(s.zone);
          break;
        case BlockPhase::kGoingOnline:
        case BlockPhase::kGoingOffline:
          what = s.phase == BlockPhase::kGoingOnline ? "going online" : "going offline";
          fill = ZoneColour(s.zone == v1::ZONE_UNSPECIFIED ? v1::ZONE_MOVABLE : s.zone);
          extra = " fill-opacity=\"0.4\"";
          break;
      }
      c.Rect("block-span", x0, y + 4, w, kBarHeight, fill, extra, "memory" + std::to_string(lane.block) + " " + what +
                                                                      ", " + Duration(s.end_ns - s.start_ns));
    }
    for (const TimelineMark& v : lane.vetoes) {
      const double x = c.X(v.time_ns);
      c.out += "<g class=\"veto-mark\"><title>" + XmlText(v.label, 2 * kMaxLabel) + "</title><path d=\"M" +
               Num(x - 5) + " " + Num(y + 7) + " L" + Num(x + 5) + " " + Num(y + 17) + " M" + Num(x + 5) + " " +
               Num(y + 7) + " L" + Num(x - 5) + " " + Num(y + 17) + "\" stroke=\"" + kVetoColour +
               "\" stroke-width=\"3\"/></g>\n";
    }
    c.out += "</g>\n";
    y += kRowHeight;
  }
  Legend(c, plot_bottom + 8);
  c.out += "</svg>\n";
  return c.out;
}

std::string RenderTimelineSvg(const std::vector<memhp::v1::WatchEvent>& events) {
  return RenderTimelineSvg(BuildTimeline(events));
}

}  // namespace memhp::ctl
