// memhp fuzz — one fuzz input as a sequence of messages, for targets that take several.
//
// A peer sends many messages over one connection, and what a message does depends on the ones
// before it (a hello, then events with increasing seq). Framing with the real wire codec would
// make every input carry CRCs the mutator cannot keep valid, so these targets use a plain
// container instead: [u16 little-endian length][that many bytes], repeated; a short last record
// takes what is left. The seed generator (make_seeds.cc) writes the same layout.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace memhp::fuzz {

// At most `max_records` records, so an input of many tiny records stays cheap to run.
inline std::vector<std::string_view> SplitRecords(const uint8_t* data, size_t size,
                                                  size_t max_records = 64) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  while (pos < size && out.size() < max_records) {
    size_t len = data[pos];
    if (pos + 1 < size) len |= static_cast<size_t>(data[pos + 1]) << 8;
    pos += 2;
    if (pos > size) pos = size;
    if (len > size - pos) len = size - pos;
    out.emplace_back(reinterpret_cast<const char*>(data) + pos, len);
    pos += len;
  }
  return out;
}

inline std::string JoinRecords(const std::vector<std::string>& records) {
  std::string out;
  for (const std::string& r : records) {
    const size_t len = r.size() > 0xFFFF ? 0xFFFF : r.size();
    out += static_cast<char>(len & 0xFF);
    out += static_cast<char>(len >> 8);
    out.append(r, 0, len);
  }
  return out;
}

}  // namespace memhp::fuzz
