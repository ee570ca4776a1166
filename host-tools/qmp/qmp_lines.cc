// qmp_lines — see qmp_lines.h.
#include "qmp/qmp_lines.h"

namespace memhp::qmp {

LineSplitter::Next LineSplitter::NextLine(std::string_view* line) {
  if (discarding_) {
    const std::size_t newline = buffer_.find('\n', start_);
    if (newline == std::string::npos) {
      Clear();
      discarding_ = true;
      return Next::kNeedMore;
    }
    start_ = scanned_ = newline + 1;
    discarding_ = false;
  }
  for (;;) {
    const std::size_t newline = buffer_.find('\n', scanned_);
    if (newline == std::string::npos) break;
    std::string_view found(buffer_.data() + start_, newline - start_);
    if (!found.empty() && found.back() == '\r') found.remove_suffix(1);
    scanned_ = start_ = newline + 1;
    if (found.size() > max_line_bytes_) return Next::kTooLong;
    if (found.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    *line = found;
    return Next::kLine;
  }
  // Only a partial line is left: drop what was returned, so the buffer holds at most one line.
  buffer_.erase(0, start_);
  start_ = 0;
  scanned_ = buffer_.size();
  // A partial line may end in the '\r' of its "\r\n".
  if (buffer_.size() > max_line_bytes_ + 1) {
    Clear();
    discarding_ = true;
    return Next::kTooLong;
  }
  return Next::kNeedMore;
}

}  // namespace memhp::qmp
