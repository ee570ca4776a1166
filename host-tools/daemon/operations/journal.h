// journal — memhpd's append-only record of operations, so a restarted memhpd knows what was in
// flight.
//
// One JSON object per line in the VM's state folder (vm::StateDir::journal()), written with one
// write(2) and fsync'd before the operation goes on, so the file holds at least every step QEMU
// may already have acted on:
//   {"op":7,"rec":"begin","t":<unix ns>,"kind":"plug","device":"dimm1","memdev":"mem-dimm1",
//    "size":268435456,"node":1,"target":"movable"}
//   {"op":7,"rec":"step","t":...,"step":"object-added","detail":""}
//   {"op":7,"rec":"end","t":...,"outcome":"done","detail":"...","recovered":false,"size_reached":N}
// Reading tolerates a torn last line (memhpd killed mid-write): it is dropped and cut off the
// file before the next append, so the next record starts on a line of its own. A line in the
// middle that does not parse is skipped and counted. Operation ids go on from the highest one
// seen. The file is bounded: past `max_records` lines it is rewritten (temp file, fsync, rename)
// keeping every unfinished operation and the last `keep_finished` finished ones; memory holds
// just as much.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#include "memhp/v1/control.pb.h"

namespace memhp::daemon::operations {

struct JournalLimits {
  size_t max_records = 4096;   // lines in the file before it is compacted
  size_t keep_finished = 128;  // finished operations kept by compaction (and in memory)
};

// What an operation was asked to do (the begin record).
struct JournalParams {
  memhp::v1::OperationKind kind = memhp::v1::OPERATION_KIND_UNSPECIFIED;
  std::string device_id;
  std::string memdev_id;  // plug: the backend it creates; unplug: the backend it deletes
  uint64_t size = 0;      // plug: DIMM size; resize: requested size; unplug: DIMM size
  int32_t node = -1;
  memhp::v1::OnlineTarget target = memhp::v1::ONLINE_TARGET_UNSPECIFIED;
};

struct JournalStep {
  std::string name;
  std::string detail;
};

// One operation as the journal knows it.
struct JournalOp {
  uint64_t id = 0;
  uint64_t begin_unix_ns = 0;
  JournalParams params;
  std::vector<JournalStep> steps;  // bounded by kMaxStepsPerOp
  bool ended = false;
  memhp::v1::OperationOutcome outcome = memhp::v1::OPERATION_OUTCOME_UNSPECIFIED;
  std::string detail;
  bool recovered = false;
  uint64_t size_reached = 0;

  [[nodiscard]] bool HasStep(const std::string& name) const;
};

inline constexpr size_t kMaxStepsPerOp = 64;

[[nodiscard]] const char* KindName(memhp::v1::OperationKind kind);
[[nodiscard]] const char* OutcomeName(memhp::v1::OperationOutcome outcome);
[[nodiscard]] const char* TargetName(memhp::v1::OnlineTarget target);

class Journal {
 public:
  explicit Journal(std::string path, JournalLimits limits = {});
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  // Reads the file (a missing one is empty) and opens it for appending. An error names the
  // system call, the path and its errno.
  [[nodiscard]] Status Open();

  // What Open() does with the file's text, without the file: applies every complete line
  // (skipping what is not a record) and returns the length up to the last newline — the part
  // Open() keeps; a longer `content` ends in a torn line. Also the fuzz target's entry point.
  size_t Load(std::string_view content);

  // Each appends one record and fsyncs it. An error names the system call, the path and its
  // errno; Step and End of an id the journal does not hold fail with EINVAL, any of them on a
  // journal that is not open with EBADF.
  //
  // Begin sets *id even when it fails: the operation is held in memory all the same, so the
  // caller can still answer with its id and End() it (an out-parameter rather than a
  // Result<uint64_t> for that reason).
  [[nodiscard]] Status Begin(const JournalParams& params, uint64_t* id);
  [[nodiscard]] Status Step(uint64_t id, const std::string& name, const std::string& detail = "");
  [[nodiscard]] Status End(uint64_t id, memhp::v1::OperationOutcome outcome, const std::string& detail,
                           bool recovered, uint64_t size_reached);

  // Operations begun and not ended, oldest first.
  [[nodiscard]] std::vector<JournalOp> Unfinished() const;
  // Every operation held (unfinished and the last finished ones), oldest first.
  [[nodiscard]] const std::deque<JournalOp>& ops() const { return ops_; }
  [[nodiscard]] uint64_t next_id() const { return next_id_; }
  [[nodiscard]] size_t records() const { return records_; }
  [[nodiscard]] size_t skipped_lines() const { return skipped_; }
  [[nodiscard]] bool torn_tail_dropped() const { return torn_tail_; }
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  void Apply(const std::string& line);
  [[nodiscard]] Status Append(const std::string& json_line);
  [[nodiscard]] Status CompactIfNeeded();
  void Trim();
  JournalOp* Find(uint64_t id);

  std::string path_;
  JournalLimits limits_;
  UniqueFd fd_;
  std::deque<JournalOp> ops_;
  uint64_t next_id_ = 1;
  size_t records_ = 0;
  size_t skipped_ = 0;
  bool torn_tail_ = false;
};

}  // namespace memhp::daemon::operations
