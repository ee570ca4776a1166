// memhp — pure parsers for sysfs and procfs values (see sysfs_parse.h for the rules).
#include "sysfs/sysfs_parse.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <limits>
#include <string>

#include "sysfs/linux_abi.h"

namespace memhp::agent {
namespace {

using memhp::v1::BlockState;
using memhp::v1::Zone;

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Splits on runs of spaces/tabs; no empty tokens.
std::vector<std::string_view> SplitWords(std::string_view s) {
  std::vector<std::string_view> words;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && IsSpace(s[i])) ++i;
    std::size_t j = i;
    while (j < s.size() && !IsSpace(s[j])) ++j;
    if (j > i) words.push_back(s.substr(i, j - i));
    i = j;
  }
  return words;
}

// Calls fn(line, line_number) for each '\n'-separated line (1-based numbers); stops and returns
// the first Error fn returns.
template <typename Fn>
Status ForEachLine(std::string_view text, Fn&& fn) {
  std::size_t line_no = 0;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    const std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    Status st = fn(line, line_no);
    if (!st.ok()) return st;
  }
  return OkStatus();
}

Error LineError(std::string_view file, std::size_t line_no, std::string_view why,
                std::string_view line) {
  constexpr std::size_t kQuoteMax = 80;
  std::string quoted(line.substr(0, kQuoteMax));
  return Error::Invalid(std::string(file) + " line " + std::to_string(line_no) + ": " +
                        std::string(why) + ": \"" + quoted + "\"");
}

}  // namespace

std::string_view TrimSpace(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

std::optional<uint64_t> ParseHexU64(std::string_view text) {
  text = TrimSpace(text);
  if (text.empty()) return std::nullopt;
  uint64_t v = 0;
  for (char c : text) {
    const int d = HexDigit(c);
    if (d < 0) return std::nullopt;  // also rejects "0x", signs, inner spaces
    if (v > (std::numeric_limits<uint64_t>::max() >> 4)) return std::nullopt;
    v = (v << 4) | static_cast<uint64_t>(d);
  }
  return v;
}

std::optional<uint64_t> ParseDecU64(std::string_view text) {
  text = TrimSpace(text);
  if (text.empty()) return std::nullopt;
  uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto d = static_cast<uint64_t>(c - '0');
    if (v > (std::numeric_limits<uint64_t>::max() - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  return v;
}

std::optional<uint64_t> ParseBlockSizeBytes(std::string_view text) {
  const std::optional<uint64_t> v = ParseHexU64(text);
  if (!v || *v == 0 || (*v & (*v - 1)) != 0) return std::nullopt;
  return v;
}

std::optional<uint64_t> ParsePhysIndex(std::string_view text) { return ParseHexU64(text); }

BlockState ParseBlockState(std::string_view text) {
  text = TrimSpace(text);
  if (text == abi::kStateOnline) return memhp::v1::BLOCK_STATE_ONLINE;
  if (text == abi::kStateOffline) return memhp::v1::BLOCK_STATE_OFFLINE;
  if (text == abi::kStateGoingOffline) return memhp::v1::BLOCK_STATE_GOING_OFFLINE;
  return memhp::v1::BLOCK_STATE_UNKNOWN;
}

std::string_view BlockStateName(BlockState state) {
  switch (state) {
    case memhp::v1::BLOCK_STATE_ONLINE: return abi::kStateOnline;
    case memhp::v1::BLOCK_STATE_OFFLINE: return abi::kStateOffline;
    case memhp::v1::BLOCK_STATE_GOING_OFFLINE: return abi::kStateGoingOffline;
    default: return "";
  }
}

std::optional<bool> ParseRemovable(std::string_view text) {
  text = TrimSpace(text);
  if (text == "1") return true;
  if (text == "0") return false;
  return std::nullopt;
}

std::optional<Zone> ZoneFromName(std::string_view name) {
  if (name == abi::kZoneDma) return memhp::v1::ZONE_DMA;
  if (name == abi::kZoneDma32) return memhp::v1::ZONE_DMA32;
  if (name == abi::kZoneNormal) return memhp::v1::ZONE_NORMAL;
  if (name == abi::kZoneMovable) return memhp::v1::ZONE_MOVABLE;
  if (name == abi::kZoneDevice) return memhp::v1::ZONE_DEVICE;
  return std::nullopt;
}

std::string_view ZoneName(Zone zone) {
  switch (zone) {
    case memhp::v1::ZONE_DMA: return abi::kZoneDma;
    case memhp::v1::ZONE_DMA32: return abi::kZoneDma32;
    case memhp::v1::ZONE_NORMAL: return abi::kZoneNormal;
    case memhp::v1::ZONE_MOVABLE: return abi::kZoneMovable;
    case memhp::v1::ZONE_DEVICE: return abi::kZoneDevice;
    default: return abi::kZoneNone;
  }
}

std::optional<std::vector<Zone>> ParseValidZones(std::string_view text) {
  const std::vector<std::string_view> words = SplitWords(text);
  if (words.empty()) return std::nullopt;
  std::vector<Zone> zones;
  if (words.size() == 1 && words[0] == abi::kZoneNone) return zones;
  for (std::string_view w : words) {
    const std::optional<Zone> z = ZoneFromName(w);
    if (!z || std::find(zones.begin(), zones.end(), *z) != zones.end()) return std::nullopt;
    zones.push_back(*z);
  }
  return zones;
}

std::optional<std::vector<uint32_t>> ParseNodeList(std::string_view text) {
  text = TrimSpace(text);
  std::vector<uint32_t> ids;
  if (text.empty()) return ids;  // an empty mask prints just "\n"
  int64_t last = -1;             // ranges must ascend and not overlap, as "%*pbl" prints them
  while (true) {
    const std::size_t comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    const std::size_t dash = item.find('-');
    const std::string_view lo_text = item.substr(0, dash);
    const std::string_view hi_text =
        dash == std::string_view::npos ? lo_text : item.substr(dash + 1);
    // ParseDecU64 trims; inside a list spaces are garbage, so check before trimming.
    for (std::string_view part : {lo_text, hi_text}) {
      if (part.empty() || part.size() != TrimSpace(part).size()) return std::nullopt;
    }
    const std::optional<uint64_t> lo = ParseDecU64(lo_text);
    const std::optional<uint64_t> hi = ParseDecU64(hi_text);
    if (!lo || !hi || *lo > *hi || *hi > kMaxNodeId) return std::nullopt;
    if (static_cast<int64_t>(*lo) <= last) return std::nullopt;
    for (uint64_t id = *lo; id <= *hi; ++id) ids.push_back(static_cast<uint32_t>(id));
    last = static_cast<int64_t>(*hi);
    if (comma == std::string_view::npos) break;
    text = text.substr(comma + 1);
  }
  return ids;
}

std::optional<uint32_t> ParseIdAfterPrefix(std::string_view text, std::string_view prefix) {
  if (text.size() <= prefix.size() || text.substr(0, prefix.size()) != prefix) return std::nullopt;
  const std::string_view digits = text.substr(prefix.size());
  if (digits.size() > 1 && digits[0] == '0') return std::nullopt;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  const std::optional<uint64_t> v = ParseDecU64(digits);
  if (!v || *v > std::numeric_limits<uint32_t>::max()) return std::nullopt;
  return static_cast<uint32_t>(*v);
}

std::optional<uint32_t> ParseMemoryBlockDirName(std::string_view name) {
  return ParseIdAfterPrefix(name, abi::kBlockDirPrefix);
}

std::optional<uint32_t> ParseNodeDirName(std::string_view name) {
  return ParseIdAfterPrefix(name, abi::kNodeDirPrefix);
}

Result<std::vector<ZoneInfoEntry>> ParseZoneInfo(std::string_view text) {
  constexpr std::string_view kFile = "zoneinfo";
  std::vector<ZoneInfoEntry> entries;
  // Which of free/present/managed the current record has seen.
  struct Seen {
    bool free = false, present = false, managed = false;
  } seen;
  std::size_t header_line = 0;
  std::string_view header_text;

  auto finish_record = [&]() -> Status {
    if (entries.empty()) return OkStatus();
    if (!seen.free || !seen.present || !seen.managed) {
      return LineError(kFile, header_line, "zone record lacks pages free/present/managed",
                       header_text);
    }
    return OkStatus();
  };

  Status st = ForEachLine(text, [&](std::string_view line, std::size_t line_no) -> Status {
    if (line.substr(0, 5) == "Node ") {
      Status done = finish_record();
      if (!done.ok()) return done;
      // "Node %d, zone %8s"
      const std::vector<std::string_view> w = SplitWords(line);
      if (w.size() != 4 || w[1].size() < 2 || w[1].back() != ',' || w[2] != "zone") {
        return LineError(kFile, line_no, "bad zone header", line);
      }
      const std::optional<uint64_t> node = ParseDecU64(w[1].substr(0, w[1].size() - 1));
      if (!node || *node > kMaxNodeId) return LineError(kFile, line_no, "bad node id", line);
      const std::optional<Zone> zone = ZoneFromName(w[3]);
      if (!zone) return LineError(kFile, line_no, "unknown zone", line);
      if (entries.size() >= kZoneInfoMaxEntries) {
        return LineError(kFile, line_no, "too many zone records", line);
      }
      ZoneInfoEntry e;
      e.node = static_cast<uint32_t>(*node);
      e.zone = *zone;
      entries.push_back(e);
      seen = Seen{};
      header_line = line_no;
      header_text = line;
      return OkStatus();
    }
    const std::vector<std::string_view> w = SplitWords(line);
    if (entries.empty()) {
      return w.empty() ? OkStatus() : LineError(kFile, line_no, "text before first zone", line);
    }
    uint64_t* field = nullptr;
    bool* seen_flag = nullptr;
    std::string_view value;
    if (w.size() == 3 && w[0] == "pages" && w[1] == "free") {
      field = &entries.back().free_pages;
      seen_flag = &seen.free;
      value = w[2];
    } else if (w.size() == 2 && w[0] == "present") {
      field = &entries.back().present_pages;
      seen_flag = &seen.present;
      value = w[1];
    } else if (w.size() == 2 && w[0] == "managed") {
      field = &entries.back().managed_pages;
      seen_flag = &seen.managed;
      value = w[1];
    } else {
      return OkStatus();  // the many other counters are not ours
    }
    if (*seen_flag) return LineError(kFile, line_no, "repeated counter", line);
    const std::optional<uint64_t> v = ParseDecU64(value);
    if (!v) return LineError(kFile, line_no, "bad count", line);
    *field = *v;
    *seen_flag = true;
    return OkStatus();
  });
  if (!st.ok()) return std::move(st).error();
  Status done = finish_record();
  if (!done.ok()) return std::move(done).error();
  if (entries.empty()) return Error::Invalid("zoneinfo: no zone records");
  return entries;
}

Result<MemInfo> ParseMemInfo(std::string_view text) {
  constexpr std::string_view kFile = "meminfo";
  std::optional<uint64_t> total;
  std::optional<uint64_t> available;
  Status st = ForEachLine(text, [&](std::string_view line, std::size_t line_no) -> Status {
    if (TrimSpace(line).empty()) return OkStatus();
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      return LineError(kFile, line_no, "no key", line);
    }
    const std::string_view key = line.substr(0, colon);
    const std::vector<std::string_view> w = SplitWords(line.substr(colon + 1));
    if (w.empty() || w.size() > 2 || (w.size() == 2 && w[1] != "kB")) {
      return LineError(kFile, line_no, "bad value", line);
    }
    const std::optional<uint64_t> v = ParseDecU64(w[0]);
    if (!v) return LineError(kFile, line_no, "bad number", line);
    std::optional<uint64_t>* slot = nullptr;
    if (key == abi::kMemInfoMemTotal) slot = &total;
    if (key == abi::kMemInfoMemAvailable) slot = &available;
    if (slot == nullptr) return OkStatus();
    if (w.size() != 2) return LineError(kFile, line_no, "expected kB", line);
    if (slot->has_value()) return LineError(kFile, line_no, "repeated key", line);
    if (*v > std::numeric_limits<uint64_t>::max() / 1024) {
      return LineError(kFile, line_no, "value overflows bytes", line);
    }
    *slot = *v * 1024;
    return OkStatus();
  });
  if (!st.ok()) return std::move(st).error();
  if (!total || !available) return Error::Invalid("meminfo: MemTotal or MemAvailable missing");
  return MemInfo{*total, *available};
}

namespace {

// "%lu.%02lu" of psi_show(), at most 100.00, as hundredths.
std::optional<uint32_t> ParsePsiPercent(std::string_view text) {
  const std::size_t dot = text.find('.');
  if (dot == std::string_view::npos || text.size() - dot - 1 != 2) return std::nullopt;
  const std::optional<uint64_t> whole = ParseDecU64(text.substr(0, dot));
  const std::optional<uint64_t> hundredths = ParseDecU64(text.substr(dot + 1));
  if (!whole || !hundredths || *whole > 100) return std::nullopt;
  const uint64_t value = *whole * 100 + *hundredths;
  if (value > 10000) return std::nullopt;
  return static_cast<uint32_t>(value);
}

}  // namespace

Result<PsiMemory> ParsePsiMemory(std::string_view text) {
  constexpr std::string_view kFile = "pressure/memory";
  PsiMemory psi;
  int lines = 0;
  Status st = ForEachLine(text, [&](std::string_view line, std::size_t line_no) -> Status {
    if (TrimSpace(line).empty()) return OkStatus();
    const std::vector<std::string_view> w = SplitWords(line);
    const std::string_view expected_kind = lines == 0 ? "some" : "full";
    if (lines >= 2 || w.size() != 5 || w[0] != expected_kind) {
      return LineError(kFile, line_no, "expected the \"some\" then the \"full\" line", line);
    }
    PsiValues& values = lines == 0 ? psi.some : psi.full;
    uint32_t* averages[] = {&values.avg10, &values.avg60, &values.avg300};
    constexpr std::string_view kAverageKeys[] = {"avg10=", "avg60=", "avg300="};
    for (int i = 0; i < 3; ++i) {
      if (w[i + 1].substr(0, kAverageKeys[i].size()) != kAverageKeys[i]) {
        return LineError(kFile, line_no, "expected " + std::string(kAverageKeys[i]), line);
      }
      const std::optional<uint32_t> percent = ParsePsiPercent(w[i + 1].substr(kAverageKeys[i].size()));
      if (!percent) return LineError(kFile, line_no, "bad percentage", line);
      *averages[i] = *percent;
    }
    constexpr std::string_view kTotal = "total=";
    const std::optional<uint64_t> total =
        w[4].substr(0, kTotal.size()) == kTotal ? ParseDecU64(w[4].substr(kTotal.size())) : std::nullopt;
    if (!total) return LineError(kFile, line_no, "bad total", line);
    values.total_us = *total;
    ++lines;
    return OkStatus();
  });
  if (!st.ok()) return std::move(st).error();
  if (lines != 2) return Error::Invalid("pressure/memory: expected a \"some\" and a \"full\" line");
  return psi;
}

Result<ReclaimCounters> ParseVmstatReclaim(std::string_view text) {
  constexpr std::string_view kFile = "vmstat";
  // mm/vmstat.c vmstat_text: the three reclaimers of each counter (khugepaged since 5.16).
  constexpr std::string_view kScan[] = {"pgscan_kswapd", "pgscan_direct", "pgscan_khugepaged"};
  constexpr std::string_view kSteal[] = {"pgsteal_kswapd", "pgsteal_direct", "pgsteal_khugepaged"};
  std::vector<std::string_view> seen;
  ReclaimCounters counters;
  bool scan = false;
  bool steal = false;
  bool oom = false;
  auto add = [](uint64_t& sum, uint64_t v) {
    if (sum > std::numeric_limits<uint64_t>::max() - v) return false;
    sum += v;
    return true;
  };
  Status st = ForEachLine(text, [&](std::string_view line, std::size_t line_no) -> Status {
    if (TrimSpace(line).empty()) return OkStatus();
    const std::vector<std::string_view> w = SplitWords(line);
    if (w.size() != 2) return LineError(kFile, line_no, "expected \"name value\"", line);
    const std::optional<uint64_t> v = ParseDecU64(w[1]);
    if (!v) return LineError(kFile, line_no, "bad number", line);
    const bool is_scan = std::find(std::begin(kScan), std::end(kScan), w[0]) != std::end(kScan);
    const bool is_steal = std::find(std::begin(kSteal), std::end(kSteal), w[0]) != std::end(kSteal);
    const bool is_oom = w[0] == "oom_kill";
    if (!is_scan && !is_steal && !is_oom) return OkStatus();
    if (std::find(seen.begin(), seen.end(), w[0]) != seen.end()) {
      return LineError(kFile, line_no, "repeated key", line);
    }
    seen.push_back(w[0]);
    if (is_oom) {
      counters.oom_kill = *v;
      oom = true;
    } else if (!add(is_scan ? counters.pgscan : counters.pgsteal, *v)) {
      return LineError(kFile, line_no, "sum overflows", line);
    }
    scan |= is_scan;
    steal |= is_steal;
    return OkStatus();
  });
  if (!st.ok()) return std::move(st).error();
  if (!scan || !steal || !oom) return Error::Invalid("vmstat: pgscan_*, pgsteal_* or oom_kill missing");
  return counters;
}

std::optional<uint64_t> ParseBootIdHash(std::string_view text) {
  text = TrimSpace(text);
  // 8-4-4-4-12 hex digits.
  constexpr std::size_t kUuidLen = 36;
  if (text.size() != kUuidLen) return std::nullopt;
  std::array<uint8_t, 16> bytes{};
  std::size_t nibble = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const bool dash_pos = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash_pos) {
      if (text[i] != '-') return std::nullopt;
      continue;
    }
    const int d = HexDigit(text[i]);
    if (d < 0) return std::nullopt;
    bytes[nibble / 2] = static_cast<uint8_t>(bytes[nibble / 2] | (d << (nibble % 2 ? 0 : 4)));
    ++nibble;
  }
  // FNV-1a, 64 bit: small, well known, and stable across builds (std::hash is not).
  uint64_t h = 0xcbf29ce484222325ULL;
  for (uint8_t b : bytes) {
    h ^= b;
    h *= 0x100000001b3ULL;
  }
  return h;
}

}  // namespace memhp::agent
