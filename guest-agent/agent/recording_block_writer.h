// memhp-agent — RecordingBlockWriter: the agent's writes to memoryN/state, each successful one
// recorded as an expected uevent (own_transitions.h).
//
// Wraps the writer the TransitionDriver uses, so every write the agent makes is seen — a host
// request, the policy, an all-or-nothing rollback, a post-event veto's write-back — and nothing
// else is: an event the agent only reports (someone else's transition seen in a uevent) never
// becomes an expectation. The uevent SEQNUM is read before and after the write to date the
// expectation; if it cannot be read the expectation is undated (OwnTransitions copes). A write
// after which the counter has not moved sent no uevent and is expected to bring none.
#pragma once

#include <cstdint>
#include <optional>

#include "agent/own_transitions.h"
#include "notifier/transition_driver.h"
#include "sysfs/sysfs_reader.h"

namespace memhp::agent {

class RecordingBlockWriter : public BlockWriter {
 public:
  // All three must outlive the writer.
  RecordingBlockWriter(BlockWriter& inner, const SysfsReader& sysfs, OwnTransitions& own)
      : inner_(inner), sysfs_(sysfs), own_(own) {}

  [[nodiscard]] Status Write(uint32_t block, abi::OnlineType target) override;

 private:
  [[nodiscard]] std::optional<uint64_t> Seqnum() const;

  BlockWriter& inner_;
  const SysfsReader& sysfs_;
  OwnTransitions& own_;
};

}  // namespace memhp::agent
