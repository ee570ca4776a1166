// memhp-agent — RecordingBlockWriter (see recording_block_writer.h).
#include "agent/recording_block_writer.h"

#include <glib.h>

namespace memhp::agent {

std::optional<uint64_t> RecordingBlockWriter::Seqnum() const {
  Result<uint64_t> seqnum = sysfs_.ReadUeventSeqnum();
  if (!seqnum.ok()) {
    g_debug("uevent seqnum not read (%s): the expectation is undated", seqnum.error().message.c_str());
    return std::nullopt;
  }
  return *seqnum;
}

Status RecordingBlockWriter::Write(uint32_t block, abi::OnlineType target) {
  const std::optional<uint64_t> before = Seqnum();
  Status written = inner_.Write(block, target);
  if (!written.ok()) return written;  // a failed write changed nothing and sends no uevent
  const std::optional<uint64_t> after = Seqnum();
  std::optional<SeqnumWindow> window;
  if (before && after) {
    // The counter did not move: the kernel sent no uevent, so none is to be expected.
    if (*after == *before) return written;
    window = SeqnumWindow{.before = *before, .after = *after};
  }
  own_.Expect(block, target != abi::OnlineType::kOffline, window);
  return written;
}

}  // namespace memhp::agent
