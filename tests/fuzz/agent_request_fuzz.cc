// memhp fuzz — the agent's request handling on arbitrary bytes from the host.
//
// memhp-agent trusts nothing the host side of the virtio-serial port writes. Each record of the
// input (fuzz_frames.h) is one frame payload: parsed as an AgentEnvelope as HostLink::OnFrame
// does, and every request is answered by the real RequestHandler, with the real BlockOperator
// and TransitionDriver behind it, over a FakeSysfs guest (two NUMA nodes, boot and hotplugged
// blocks, zoneinfo and meminfo). Records of one input share the handler and its settings, so a
// set_policy, device_map or intent changes how later online/offline requests are decided. The
// intent's clock stands still, so an intent never lapses within an input and a crash reproduces.
//
// The kernel side is a writer that changes nothing on disk (every input starts from the same
// guest, so a crash reproduces) and refuses some writes as the kernel does (EBUSY, EINVAL), so
// offline rollback and per-block failures are reached too.
//
// Invariants beyond "no crash": every request gets one response naming its id (0 for a request
// without one); a response carries an error or exactly one result, never both and never
// neither; a block operation answers for at most kMaxBlocksPerRequest blocks; the response
// serializes and parses back.
#include <glib.h>
#include <google/protobuf/stubs/logging.h>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "agent/agent_settings.h"
#include "agent/block_operator.h"
#include "agent/request_handler.h"
#include "fake_sysfs.h"
#include "fuzz_check.h"
#include "fuzz_frames.h"
#include "memhp/v1/agent.pb.h"
#include "notifier/notifier_chain.h"
#include "notifier/transition_driver.h"
#include "sysfs/sysfs_reader.h"
#include "wire/frame_codec.h"

namespace {

using memhp::agent::testing::FakeNodes;
using memhp::agent::testing::FakeSysfs;
namespace agent = memhp::agent;

// Refuses offlining odd blocks with EBUSY (pages that could not be isolated) and onlining
// block 70 with EINVAL (a zone it cannot join); everything else "succeeds" without touching the
// tree. Deterministic, so an input means the same thing on every run.
class RefusingWriter : public agent::BlockWriter {
 public:
  agent::Status Write(uint32_t block, agent::abi::OnlineType target) override {
    if (target == agent::abi::OnlineType::kOffline && block % 2 == 1) {
      return agent::Error{EBUSY, "offline: Device or resource busy"};
    }
    if (target != agent::abi::OnlineType::kOffline && block == 70) {
      return agent::Error{EINVAL, "online: Invalid argument"};
    }
    return agent::OkStatus();
  }
};

// The guest, built once: writing a tree per input would make the target I/O-bound.
const FakeSysfs& Guest() {
  static FakeSysfs* guest = [] {
    auto* g = new FakeSysfs();
    g->SetNodes(FakeNodes{"0-1", "0-1", "0-1", "0-1"});
    g->SetMemInfo("MemTotal: 1048576 kB\nMemFree: 524288 kB\nMemAvailable: 655360 kB\n");
    g->SetZoneInfo(
        "Node 0, zone   Normal\n  pages free 1000\n        present 65536\n        managed 65536\n"
        "Node 0, zone  Movable\n  pages free 0\n        present 32768\n        managed 32768\n"
        "Node 1, zone   Normal\n  pages free 1000\n        present 32768\n        managed 32768\n");
    for (uint32_t id = 0; id < 4; ++id) g->AddBlock(id, "online", "Normal", 0);
    g->AddBlock(8, "online", "Movable", 0);
    g->AddBlock(9, "online", "Movable", 0);
    for (uint32_t id = 64; id < 72; ++id) g->AddBlock(id, "offline", "Normal Movable", id < 68 ? 0 : 1);
    g->AddBlock(80, "online", "Normal", 1);
    return g;
  }();
  return *guest;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The handler logs refusals with g_warning; thousands per second would drown the fuzzer.
  static const bool quiet = [] {
    g_log_set_writer_func([](GLogLevelFlags, const GLogField*, gsize, gpointer) { return G_LOG_WRITER_HANDLED; },
                          nullptr, nullptr);
    // protobuf logs every string field with invalid UTF-8 it parses; those are expected here.
    google::protobuf::SetLogHandler(nullptr);
    return true;
  }();
  (void)quiet;

  const FakeSysfs& guest = Guest();
  agent::SysfsReader reader(guest.root(), [] { return uint64_t{1700000000} * 1000000000; });
  agent::AgentSettings settings;
  settings.policy.kind = agent::PolicyKind::kAutoMovable;
  settings.intent = agent::PlugIntentSlot([] { return std::chrono::steady_clock::time_point{}; });
  RefusingWriter writer;
  agent::NotifierChain chain;
  agent::TransitionDriver driver(chain, writer, [](const agent::EmittedEvent&, const agent::NotifyContext&) {});
  std::chrono::milliseconds deadline{0};
  agent::BlockOperator operations(reader, driver, [&](std::chrono::milliseconds d) { deadline = d; },
                                  4096, settings.policy, &settings.devices, &settings.intent);
  agent::RequestHandler handler(reader, agent::AgentIdentity{"6.1.0-fuzz", 4096, 42, "", {}, {}, {}},
                                &operations, &settings);

  for (std::string_view payload : memhp::fuzz::SplitRecords(data, size, 16)) {
    memhp::v1::AgentEnvelope envelope;
    if (!memhp::wire::ParseMessage(payload, &envelope) || !envelope.has_request()) continue;
    const memhp::v1::AgentRequest& request = envelope.request();
    const memhp::v1::AgentResponse response = handler.Handle(request);

    FUZZ_CHECK(response.id() == request.id());
    const bool has_result = response.result_case() != memhp::v1::AgentResponse::RESULT_NOT_SET;
    FUZZ_CHECK(response.has_error() != has_result);
    if (response.has_block_op()) {
      FUZZ_CHECK(static_cast<size_t>(response.block_op().blocks_size()) <= agent::kMaxBlocksPerRequest);
    }
    memhp::v1::AgentEnvelope reply;
    *reply.mutable_response() = response;
    memhp::v1::AgentEnvelope back;
    FUZZ_CHECK(memhp::wire::ParseMessage(reply.SerializeAsString(), &back));
  }
  return 0;
}
