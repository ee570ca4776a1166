// memhp fuzz — the operations journal reader on arbitrary file contents.
//
// memhpd reads its journal (one JSON record per line: begin, step, end) at every start to
// recover unfinished operations. The file may be torn by a crash mid-write, hand-edited, or
// corrupted on disk, so Journal::Load — what Open() does with the file's text — must survive
// any bytes. Small limits (keep 4 finished operations) make trimming happen on short inputs.
//
// Invariants beyond "no crash": Load keeps exactly the text up to the last newline; every
// non-empty complete line is a record or skipped; finished operations held never exceed the
// limit, nor steps per operation kMaxStepsPerOp; the next id is above every id held;
// Unfinished() lists only operations without an end; and the torn tail changes nothing (the
// complete part alone gives the same journal).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "daemon/operations/journal.h"
#include "fuzz_check.h"

namespace {

using memhp::daemon::operations::Journal;
using memhp::daemon::operations::JournalLimits;

constexpr JournalLimits kLimits{.max_records = 64, .keep_finished = 4};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view content(reinterpret_cast<const char*>(data), size);
  // Never opened: Load alone touches no file.
  Journal journal("/nonexistent/memhp-fuzz/journal", kLimits);
  const size_t complete = journal.Load(content);

  FUZZ_CHECK(complete <= size);
  FUZZ_CHECK(complete == 0 || content[complete - 1] == '\n');
  FUZZ_CHECK(content.find('\n', complete) == std::string_view::npos);

  size_t lines = 0;
  for (size_t start = 0; start < complete;) {
    const size_t end = content.find('\n', start);
    if (end > start) ++lines;
    start = end + 1;
  }
  FUZZ_CHECK(journal.records() + journal.skipped_lines() == lines);

  size_t finished = 0;
  for (const auto& op : journal.ops()) {
    finished += op.ended ? 1 : 0;
    FUZZ_CHECK(op.id != 0 && op.id < journal.next_id());
    FUZZ_CHECK(op.steps.size() <= memhp::daemon::operations::kMaxStepsPerOp);
  }
  FUZZ_CHECK(finished <= kLimits.keep_finished);
  const auto unfinished = journal.Unfinished();
  FUZZ_CHECK(unfinished.size() + finished == journal.ops().size());
  FUZZ_CHECK(std::none_of(unfinished.begin(), unfinished.end(), [](const auto& op) { return op.ended; }));

  Journal without_tail("/nonexistent/memhp-fuzz/journal", kLimits);
  FUZZ_CHECK(without_tail.Load(content.substr(0, complete)) == complete);
  FUZZ_CHECK(without_tail.ops().size() == journal.ops().size());
  FUZZ_CHECK(without_tail.next_id() == journal.next_id());
  FUZZ_CHECK(without_tail.records() == journal.records());
  return 0;
}
