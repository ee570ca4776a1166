// memhp-touch — a guest workload for the memhp-audit plugin's tests and benchmark:
// allocate N MiB, write every page (the first touch), then keep reading and writing every page
// for S seconds, or P more times (a fixed amount of work, for benchmarks), optionally bound to
// one NUMA node. Statically linked: the default image is a
// busybox initramfs (host-tools/image/build-initramfs.sh puts it in /usr/bin).
//
//   memhp-touch [--mib N] [--seconds S] [--passes P] [--node N]
//   memhp-touch --verify [--mib N] [--seconds S] [--node N]
//
// --verify is the soak benchmark's data check (host-tools/bench/soak_bench.sh): it fills N MiB
// of anonymous memory with a pattern that differs per page, word and generation, then re-reads
// every word continuously and counts the bytes that differ. Each pass it also frees one 4 MiB
// chunk and maps and fills it again, so that fresh pages come from wherever the allocator finds
// them — user pages are movable allocations, served from ZONE_MOVABLE first (mm/page_alloc.c),
// i.e. from hot-plugged memory — and every later offline of that memory has to migrate them
// (mm/memory_hotplug.c, offline_pages -> do_migrate_range). A copy gone wrong shows up as
// mismatched bytes. It runs until SIGTERM/SIGINT (or S seconds) and then prints one line:
//   memhp-touch: verify mib=N passes=P checked_bytes=B mismatched_bytes=M recycled_chunks=R
//
// --node binds the allocation with set_mempolicy(MPOL_BIND) (mm/mempolicy.c): the kernel then
// allocates from that node's zonelist only, highest zone first, so a DIMM onlined there as
// ZONE_MOVABLE is used before the node's boot memory. At the end it prints one line:
//   memhp-touch: mib=N passes=P node=N phys_min=0x.. phys_max=0x.. pages_high=K
// where the physical addresses come from /proc/self/pagemap (root only) and pages_high counts
// pages at or above 4 GiB (where q35 puts hot-pluggable memory).
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>

namespace {

constexpr int kMpolBind = 2;  // include/uapi/linux/mempolicy.h
constexpr uint64_t kHighMemory = uint64_t{4} << 30;

bool ParseNumber(const char* text, long max, long* out) {
  char* end = nullptr;
  errno = 0;
  const long value = std::strtol(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || value < 0 || value > max) return false;
  *out = value;
  return true;
}

double Now() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

int Usage(const char* why) {
  std::fprintf(stderr,
               "memhp-touch: %s\nusage: memhp-touch [--mib N] [--seconds S] [--passes P] [--node N]\n"
               "       memhp-touch --verify [--mib N] [--seconds S] [--node N]\n",
               why);
  return 2;
}

volatile sig_atomic_t g_stop = 0;

constexpr size_t kChunk = size_t{4} << 20;

// The word `w` of chunk `c`, generation `g`: different for every word of every page, and for
// every refill of a chunk, so a page copied to the wrong place or a stale copy is caught too.
uint64_t Pattern(size_t c, size_t w, uint64_t g) {
  return (uint64_t{c} << 40) ^ (uint64_t{w} * 0x9E3779B97F4A7C15ull) ^ (g << 20) ^ 0x5A5A5A5A5A5A5A5Aull;
}

uint64_t* MapChunk() {
  void* p = mmap(nullptr, kChunk, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? nullptr : static_cast<uint64_t*>(p);
}

void Fill(uint64_t* chunk, size_t c, uint64_t g) {
  for (size_t w = 0; w < kChunk / 8; ++w) chunk[w] = Pattern(c, w, g);
}

int Verify(long mib, long seconds) {
  signal(SIGTERM, [](int) { g_stop = 1; });
  signal(SIGINT, [](int) { g_stop = 1; });
  const size_t chunks = (static_cast<size_t>(mib) << 20) / kChunk;
  if (chunks == 0) return Usage("--verify needs --mib 4 or more");
  auto** memory = new uint64_t*[chunks];
  auto* generation = new uint64_t[chunks];
  for (size_t c = 0; c < chunks; ++c) {
    memory[c] = MapChunk();
    if (memory[c] == nullptr) {
      std::fprintf(stderr, "memhp-touch: mmap: %s\n", std::strerror(errno));
      return 1;
    }
    generation[c] = 0;
    Fill(memory[c], c, 0);
  }
  const double end = Now() + static_cast<double>(seconds);
  uint64_t passes = 0, checked = 0, mismatched = 0, recycled = 0;
  while (!g_stop && (seconds == 0 || Now() < end)) {
    for (size_t c = 0; c < chunks && !g_stop; ++c) {
      const volatile uint64_t* chunk = memory[c];
      for (size_t w = 0; w < kChunk / 8; ++w) {
        const uint64_t want = Pattern(c, w, generation[c]);
        const uint64_t got = chunk[w];
        if (got != want) {
          for (int b = 0; b < 8; ++b) mismatched += ((got >> (8 * b)) & 0xff) != ((want >> (8 * b)) & 0xff);
        }
      }
      checked += kChunk;
    }
    // Recycle one chunk: its new pages come from wherever free memory is now.
    const size_t c = passes % chunks;
    munmap(memory[c], kChunk);
    memory[c] = MapChunk();
    if (memory[c] == nullptr) {
      std::fprintf(stderr, "memhp-touch: mmap: %s\n", std::strerror(errno));
      return 1;
    }
    Fill(memory[c], c, ++generation[c]);
    ++recycled;
    ++passes;
  }
  std::printf("memhp-touch: verify mib=%ld passes=%" PRIu64 " checked_bytes=%" PRIu64 " mismatched_bytes=%" PRIu64
              " recycled_chunks=%" PRIu64 "\n",
              mib, passes, checked, mismatched, recycled);
  std::fflush(stdout);
  return mismatched == 0 ? 0 : 3;
}

}  // namespace

int main(int argc, char** argv) {
  long mib = 64;
  long seconds = 0;
  long node = -1;
  long extra_passes = 0;
  bool verify = false;
  for (int i = 1; i < argc; ++i) {
    const bool has_value = i + 1 < argc;
    if (std::strcmp(argv[i], "--verify") == 0) {
      verify = true;
    } else if (std::strcmp(argv[i], "--mib") == 0 && has_value) {
      if (!ParseNumber(argv[++i], 1 << 20, &mib) || mib == 0) return Usage("--mib takes 1..1048576");
    } else if (std::strcmp(argv[i], "--seconds") == 0 && has_value) {
      if (!ParseNumber(argv[++i], 86400, &seconds)) return Usage("--seconds takes 0..86400");
    } else if (std::strcmp(argv[i], "--passes") == 0 && has_value) {
      if (!ParseNumber(argv[++i], 1000000, &extra_passes)) return Usage("--passes takes 0..1000000");
    } else if (std::strcmp(argv[i], "--node") == 0 && has_value) {
      if (!ParseNumber(argv[++i], 63, &node)) return Usage("--node takes 0..63");
    } else {
      return Usage("unknown or incomplete argument");
    }
  }
  if (node >= 0) {
    const unsigned long mask = 1ul << node;
    if (syscall(SYS_set_mempolicy, kMpolBind, &mask, 64ul) != 0) {
      std::fprintf(stderr, "memhp-touch: set_mempolicy(MPOL_BIND, node %ld): %s\n", node, std::strerror(errno));
      return 1;
    }
  }
  if (verify) return Verify(mib, seconds);
  const long page = sysconf(_SC_PAGESIZE);
  const size_t bytes = static_cast<size_t>(mib) << 20;
  auto* memory = static_cast<volatile unsigned char*>(
      mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  if (memory == MAP_FAILED) {
    std::fprintf(stderr, "memhp-touch: mmap %ld MiB: %s\n", mib, std::strerror(errno));
    return 1;
  }
  const size_t pages = bytes / static_cast<size_t>(page);
  for (size_t p = 0; p < pages; ++p) memory[p * static_cast<size_t>(page)] = static_cast<unsigned char>(p);

  long passes = 1;
  const double end = Now() + static_cast<double>(seconds);
  unsigned sum = 0;
  while ((seconds > 0 && Now() < end) || passes <= extra_passes) {
    for (size_t p = 0; p < pages; ++p) {
      volatile unsigned char* byte = memory + p * static_cast<size_t>(page);
      sum += *byte;
      *byte = static_cast<unsigned char>(sum);
    }
    ++passes;
  }

  uint64_t phys_min = UINT64_MAX, phys_max = 0, high = 0;
  const int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  for (size_t p = 0; fd >= 0 && p < pages; ++p) {
    const uintptr_t va = reinterpret_cast<uintptr_t>(memory) + p * static_cast<size_t>(page);
    uint64_t entry = 0;
    if (pread(fd, &entry, sizeof entry, static_cast<off_t>(va / static_cast<uintptr_t>(page) * 8)) != 8) break;
    if (!(entry >> 63)) continue;  // not present
    const uint64_t pfn = entry & ((uint64_t{1} << 55) - 1);
    if (pfn == 0) continue;  // not root: PFNs are hidden
    const uint64_t phys = pfn * static_cast<uint64_t>(page);
    if (phys < phys_min) phys_min = phys;
    if (phys > phys_max) phys_max = phys;
    if (phys >= kHighMemory) ++high;
  }
  if (fd >= 0) close(fd);
  std::printf("memhp-touch: mib=%ld passes=%ld node=%ld phys_min=0x%" PRIx64 " phys_max=0x%" PRIx64
              " pages_high=%" PRIu64 "\n",
              mib, passes, node, phys_min == UINT64_MAX ? 0 : phys_min, phys_max, high);
  munmap(const_cast<unsigned char*>(memory), bytes);
  return 0;
}
