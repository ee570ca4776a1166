// memhp-agent — OwnTransitions (see own_transitions.h).
#include "agent/own_transitions.h"

#include <algorithm>

namespace memhp::agent {

void OwnTransitions::Expect(uint32_t block, bool online, std::optional<SeqnumWindow> window) {
  pending_[block].push_back(Expected{.online = online, .window = window});
}

void OwnTransitions::DropPassed(uint64_t seqnum) {
  // Every dated expectation whose window ended before this uevent: its uevent came already (and
  // was not claimed, e.g. lost) or never will. Uevents arrive in SEQNUM order, for all blocks.
  for (auto it = pending_.begin(); it != pending_.end();) {
    auto& queue = it->second;
    queue.erase(std::remove_if(queue.begin(), queue.end(),
                               [&](const Expected& e) { return e.window && e.window->after < seqnum; }),
                queue.end());
    it = queue.empty() ? pending_.erase(it) : std::next(it);
  }
}

bool OwnTransitions::Claim(uint32_t block, bool online, std::optional<uint64_t> seqnum) {
  if (seqnum) DropPassed(*seqnum);
  auto found = pending_.find(block);
  if (found == pending_.end()) return false;
  std::deque<Expected>& queue = found->second;
  bool claimed = false;
  for (auto it = queue.begin(); it != queue.end(); ++it) {
    if (it->online != online) continue;
    if (seqnum && it->window && *seqnum <= it->window->before) continue;  // ours comes later
    // The older ones of this block would have arrived before this uevent.
    queue.erase(queue.begin(), std::next(it));
    claimed = true;
    break;
  }
  if (!claimed) {
    // Someone else moved the block to `online`. A dated opposite-direction expectation still
    // here was written after this uevent was sent (its window is ahead); an undated one cannot
    // be placed, and keeping it could swallow someone else's next transition: drop it.
    queue.erase(std::remove_if(queue.begin(), queue.end(),
                               [&](const Expected& e) { return e.online != online && (!e.window || !seqnum); }),
                queue.end());
  }
  if (queue.empty()) pending_.erase(found);
  return claimed;
}

size_t OwnTransitions::pending() const {
  size_t n = 0;
  for (const auto& [block, queue] : pending_) n += queue.size();
  return n;
}

}  // namespace memhp::agent
