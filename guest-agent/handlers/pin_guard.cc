// memhp — the pin guard (see pin_guard.h; S4, S5, S10, S11, S15, S16, S22).
#include "handlers/pin_guard.h"

#include <dirent.h>
#include <fcntl.h>
#include <glib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <utility>

#include "base/unique_fd.h"
#include "sysfs/sysfs_parse.h"

namespace memhp::agent {
namespace {

constexpr std::size_t kMaxPinContentBytes = 256;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::optional<uint64_t> Hex(std::string_view s) {
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) s.remove_prefix(2);
  if (s.empty() || s.size() > 16) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    int d = 0;
    if (c >= '0' && c <= '9') d = c - '0';
    else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
    else return std::nullopt;
    v = v << 4 | static_cast<uint64_t>(d);
  }
  return v;
}

std::string Range(const PinRange& r) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "[0x%" PRIx64 ", 0x%" PRIx64 ")", r.start, r.end);
  return buf;
}

// The first line of a pin file, at most kMaxPinContentBytes.
std::string ReadFirstLine(int fd) {
  char buf[kMaxPinContentBytes];
  const ssize_t n = pread(fd, buf, sizeof buf, 0);
  if (n <= 0) return {};
  std::string_view text(buf, static_cast<std::size_t>(n));
  return std::string(text.substr(0, text.find('\n')));
}

}  // namespace

std::optional<PinRange> ParsePinSpec(std::string_view text, uint64_t block_size_bytes) {
  text = Trim(text);
  if (text.substr(0, 6) == "memory") {
    const std::optional<uint64_t> id = ParseDecU64(text.substr(6));
    if (!id || block_size_bytes == 0 || *id > UINT64_MAX / block_size_bytes - 1) return std::nullopt;
    return PinRange{*id * block_size_bytes, (*id + 1) * block_size_bytes};
  }
  const std::size_t dash = text.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  const std::optional<uint64_t> start = Hex(text.substr(0, dash));
  const std::optional<uint64_t> last = Hex(text.substr(dash + 1));
  if (!start || !last || *last < *start) return std::nullopt;
  // END is inclusive; [start, UINT64_MAX] keeps end = UINT64_MAX (the last byte is no block's).
  return PinRange{*start, *last == UINT64_MAX ? UINT64_MAX : *last + 1};
}

Result<std::vector<HeldPin>> ScanPins(const std::string& folder, uint64_t block_size_bytes,
                                      std::size_t max_files) {
  UniqueFd dir_fd(open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir_fd.valid()) {
    if (errno == ENOENT) return std::vector<HeldPin>{};
    return Error{errno, "open " + folder + ": " + std::strerror(errno)};
  }
  const int dup_fd = fcntl(dir_fd.get(), F_DUPFD_CLOEXEC, 0);
  DIR* dir = dup_fd >= 0 ? fdopendir(dup_fd) : nullptr;
  if (!dir) {
    const int err = errno;
    if (dup_fd >= 0) close(dup_fd);
    return Error{err, "read " + folder + ": " + std::strerror(err)};
  }
  std::vector<HeldPin> held;
  std::size_t seen = 0;
  Status failure;
  while (dirent* entry = readdir(dir)) {
    const std::string name = entry->d_name;
    if (name == "." || name == "..") continue;
    if (++seen > max_files) {
      failure = Error{E2BIG, folder + " holds more than " + std::to_string(max_files) + " entries"};
      break;
    }
    // O_NOFOLLOW: a symlink is no pin (and must not make the agent lock someone else's file).
    UniqueFd fd(openat(dir_fd.get(), name.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
    if (!fd.valid()) continue;  // gone meanwhile, a symlink, or unreadable: not a pin
    struct stat st {};
    if (fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    if (flock(fd.get(), LOCK_EX | LOCK_NB) == 0) {
      // Nobody holds it: a pin whose holder is gone. Removed while we hold the lock (see .h).
      // Either way it pins nothing; a file left behind is only said, it is no error of the scan.
      if (unlinkat(dir_fd.get(), name.c_str(), 0) != 0) {
        g_warning("pin-guard: cannot remove stale pin %s/%s: %s", folder.c_str(), name.c_str(), std::strerror(errno));
      } else {
        g_message("pin-guard: removed stale pin %s/%s (no holder)", folder.c_str(), name.c_str());
      }
      continue;
    }
    if (errno != EWOULDBLOCK) {
      g_warning("pin-guard: cannot probe the lock of %s/%s: %s; counted as held", folder.c_str(),
                name.c_str(), std::strerror(errno));
    }
    std::optional<PinRange> range = ParsePinSpec(name, block_size_bytes);
    if (!range) range = ParsePinSpec(ReadFirstLine(fd.get()), block_size_bytes);
    if (!range) {
      g_warning("pin-guard: %s/%s is held but names no range (\"START-END\" hex or \"memoryN\"); ignored",
                folder.c_str(), name.c_str());
      continue;
    }
    held.push_back(HeldPin{name, *range});
  }
  closedir(dir);
  if (!failure.ok()) return failure.error();
  return held;
}

PinGuard::PinGuard(PinGuardOptions options) : options_(std::move(options)) {}

NotifyResult PinGuard::Call(abi::MemoryEvent action, const MemoryNotify& arg, const NotifyContext& ctx) {
  if (action != abi::MemoryEvent::kGoingOffline) return NotifyResult::kDone;  // S15
  const uint64_t page = options_.page_size_bytes;
  // S10/S11: the block is [start_pfn, start_pfn + nr_pages) pages; its size is the block size.
  const uint64_t block_bytes = arg.nr_pages * page;
  const PinRange block{arg.start_pfn * page, arg.start_pfn * page + block_bytes};
  Result<std::vector<HeldPin>> pins = ScanPins(options_.folder, block_bytes, options_.max_files);
  if (!pins.ok()) {
    last_veto_reason_ = "cannot read the pins (" + pins.error().message + ")";
    g_warning("pin-guard: vetoing offline of memory%u: %s", ctx.block, last_veto_reason_.c_str());
    return NotifyResult::kBad;
  }
  for (const HeldPin& pin : *pins) {
    if (pin.range.start < block.end && block.start < pin.range.end) {
      last_veto_reason_ = "memory" + std::to_string(ctx.block) + " " + Range(block) + " is pinned by " +
                          options_.folder + "/" + pin.file + " " + Range(pin.range);
      g_message("pin-guard: vetoing offline: %s", last_veto_reason_.c_str());
      return NotifyResult::kBad;
    }
  }
  return NotifyResult::kDone;
}

}  // namespace memhp::agent
