// qmp_lines — QMP's byte stream cut into lines, with a bound on their length.
//
// QEMU writes one JSON text per line ("\r\n"-terminated on its monitor sockets). The client
// reads chunks of whatever size the socket gives and needs whole lines, without letting a peer
// that never sends a newline grow memhpd's memory without bound. Pure (no I/O), so the cutting
// is unit-tested and fuzzed on its own (tests/fuzz/qmp_fuzz.cc); QmpClient::OnReadable feeds it.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace memhp::qmp {

class LineSplitter {
 public:
  // Lines longer than `max_line_bytes` ("\r\n" excluded) are a protocol error.
  explicit LineSplitter(std::size_t max_line_bytes) : max_line_bytes_(max_line_bytes) {}

  enum class Next { kLine, kNeedMore, kTooLong };

  // Appends bytes read from the peer.
  void Append(std::string_view bytes) { buffer_.append(bytes); }

  // The next complete line, without its "\n" or "\r\n"; blank lines (only spaces, tabs, '\r')
  // are skipped. kNeedMore: no complete line is buffered (the partial one stays). kTooLong: a
  // line, complete or not, is over the bound and dropped; the rest of a partial one is skipped
  // up to its newline as it arrives, and the line after it comes out whole (QEMU writes one
  // JSON text per line, so a newline resynchronises the stream). `*line` points into the
  // splitter and is valid until its next call.
  [[nodiscard]] Next NextLine(std::string_view* line);

  // Forgets everything buffered (the connection is gone).
  void Clear() {
    buffer_.clear();
    start_ = scanned_ = 0;
    discarding_ = false;
  }

  // Bytes held: the partial line (and, between NextLine calls, lines already returned).
  [[nodiscard]] std::size_t buffered() const { return buffer_.size() - start_; }

 private:
  std::size_t max_line_bytes_;
  std::string buffer_;
  std::size_t start_ = 0;    // where the next line begins
  std::size_t scanned_ = 0;  // bytes of buffer_ known to hold no '\n' (from start_)
  bool discarding_ = false;  // skipping the rest of a line over the bound, up to its '\n'

};

}  // namespace memhp::qmp
