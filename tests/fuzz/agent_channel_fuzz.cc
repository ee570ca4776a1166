// memhp fuzz — memhpd's handling of what the agent sends, on arbitrary bytes.
//
// The guest is untrusted: whatever it writes into its virtio-serial port reaches memhpd's
// AgentChannel. Each record of the input (fuzz_frames.h) is one frame payload handed to
// AgentChannel::OnFrame, the function the framed stream calls, in order, on one channel per
// input — so hellos (changing the agent pid and the event sequence), events (seq, duplicates,
// gaps, inventories) and stray responses interleave as a hostile guest could send them. No
// socket is connected: replies the channel would send are dropped, as when the agent hangs up.
//
// Invariants beyond "no crash": the counters add up (every frame is malformed, an event, or
// something else; recorded memory events and duplicates never exceed events); the status
// history stays within kRecentEvents; the channel never believes an agent is connected without
// a stream.
#include <glib.h>
#include <google/protobuf/stubs/logging.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "daemon/agent_channel.h"
#include "fuzz_check.h"
#include "fuzz_frames.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The channel logs every malformed frame and hello; that output would dominate the run time.
  static GMainContext* context = [] {
    g_log_set_writer_func([](GLogLevelFlags, const GLogField*, gsize, gpointer) { return G_LOG_WRITER_HANDLED; },
                          nullptr, nullptr);
    // protobuf logs every string field with invalid UTF-8 it parses; those are expected here.
    google::protobuf::SetLogHandler(nullptr);
    return g_main_context_new();
  }();

  uint64_t hellos = 0;
  uint64_t events_seen = 0;
  memhp::daemon::AgentChannel channel(
      "/nonexistent/memhp-fuzz.sock", context,
      memhp::daemon::AgentChannelListener{
          .on_hello = [&](const memhp::v1::Hello&) { ++hellos; },
          .on_event = [&](const memhp::v1::AgentEvent&) { ++events_seen; },
          .on_lost = [] { FUZZ_CHECK(!"on_lost without a connection"); },
          .on_violation = [](const std::string&) {},
      });
  // The default VM's facts, so the guest-claims checks (guest_claims.h) are fuzzed too.
  channel.SetLimits(memhp::daemon::VmLimits{.max_memory_bytes = uint64_t{16} << 30, .numa_nodes = 2});

  uint64_t frames = 0;
  for (std::string_view payload : memhp::fuzz::SplitRecords(data, size)) {
    channel.OnFrame(std::string(payload));
    ++frames;
    const memhp::daemon::AgentChannelStats& s = channel.stats();
    FUZZ_CHECK(s.malformed + s.events <= frames);
    FUZZ_CHECK(s.memory_events + s.duplicates + s.refused_events <= s.events);
    FUZZ_CHECK(s.refused_events <= s.violations);
    FUZZ_CHECK(s.gaps <= s.memory_events);
    FUZZ_CHECK(s.connects == 0 && !channel.agent_connected());
    FUZZ_CHECK(channel.recent_events().size() <= memhp::daemon::kRecentEvents);
    FUZZ_CHECK(channel.recent_events().size() <= s.memory_events);
  }
  // Duplicates and events that break the guest rules (guest_claims.h) are acknowledged but not
  // passed on; every other event reaches the listener.
  FUZZ_CHECK(events_seen ==
             channel.stats().events - channel.stats().duplicates - channel.stats().refused_events);
  FUZZ_CHECK(channel.hello().has_value() == (hellos > 0));
  return 0;
}
