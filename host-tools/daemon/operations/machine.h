// machine — the vocabulary of memhpd's operations as pure state machines.
//
// Plug, unplug and resize (plug_machine.h, unplug_machine.h, resize_machine.h) are each a value
// (their state) and a function Next(state, input) -> (state, actions). The function does no
// I/O and reads no clock: everything it learns comes in an Input, everything it wants done goes
// out as an Action. The runner (operation_runner.h) executes the actions through the two ports
// (ports/memory_devices.h, ports/guest_agent.h), the journal and timers, and feeds each answer
// back as the next input. So a test can put a machine in any state and check, step by step, what
// it does next (tests/unit/host/operations_*_machine_test.cc), and a restarted memhpd resumes a
// machine from what the journal holds.
//
// Every machine ends with exactly one Finish (or, resuming without facts, one Abandon), after
// which it takes no more input.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "base/result.h"
#include "daemon/operations/journal.h"
#include "daemon/operations/online_waiter.h"
#include "daemon/operations/reconcile.h"
#include "daemon/ports/memory_devices.h"
#include "memhp/v1/agent.pb.h"
#include "memhp/v1/control.pb.h"

namespace memhp::daemon::operations {

struct OperationTimeouts {
  std::chrono::milliseconds qmp{10000};
  std::chrono::milliseconds agent{5000};
  std::chrono::milliseconds plug_guest{60000};     // PlugRequest.timeout_ms default
  std::chrono::milliseconds unplug{120000};        // UnplugRequest.timeout_ms default
  std::chrono::milliseconds resize{120000};        // ResizeRequest.timeout_ms default
  std::chrono::milliseconds resize_settle{10000};  // no size change for this long: PARTIAL
  std::chrono::milliseconds poll{500};             // device list / inventory polling
  std::chrono::milliseconds intent{0};             // PlugIntent lifetime; 0: the operation's own timeout
};

// --- Inputs: what the runner tells a machine. ---

struct Started {};  // the operation's turn came (or, resuming, memhpd started again)
struct FactsGathered {
  HardwareFacts hardware;
  std::optional<memhp::v1::ZoneReport> zones;    // the agent's, when it answered
  std::optional<memhp::v1::PolicyState> policy;  // the agent's, when it answered
  std::vector<std::string> agent_problems;
};
struct DevicesListed {
  Result<std::vector<memhp::v1::MemoryDevice>> devices;
};
struct BackendsListed {
  Result<std::vector<std::string>> backends;
};
struct HardwareAnswered {  // the hardware request sent last (add, delete, set size)
  Status status;
};
struct AliveChecked {
  Status status;
};
struct InventoryRead {
  Result<memhp::v1::Inventory> inventory;
};
struct BlocksAnswered {  // the online or offline request sent last
  Result<memhp::v1::BlockOpResult> result;
};
struct MapAnswered {
  Result<uint32_t> devices;
};
struct IntentAnswered {
  Status status;
};
struct OnlineWaitEnded {
  OnlineWaitEnd end;
};
struct TimerFired {
  uint32_t timer = 0;
};
struct DeviceEventSeen {
  DeviceEvent event;
};
struct QemuGone {  // the hardware's manager went away (QMP closed)
  std::string reason;
};
struct ManagerUnreachable {  // the connection to the manager broke; the VM may run on (IsUnreachable)
  std::string reason;
};

using Event = std::variant<Started, FactsGathered, DevicesListed, BackendsListed, HardwareAnswered, AliveChecked,
                           InventoryRead, BlocksAnswered, MapAnswered, IntentAnswered, OnlineWaitEnded, TimerFired,
                           DeviceEventSeen, QemuGone, ManagerUnreachable>;

// The event, and what the runner knows of the agent at that moment.
struct Input {
  Event event;
  bool agent_connected = false;
  uint64_t agent_block_size = 0;  // from its hello; 0 unknown
};

// --- Actions: what a machine asks the runner to do. ---

struct BeginStep {  // closes an open step as ok, opens this one (OperationResult.steps)
  std::string name;
};
struct EndStep {
  bool ok = true;
  std::string detail;
};
struct ReportProgress {
  std::string step;
  std::string detail;
  uint64_t done_bytes = 0;
  uint64_t total_bytes = 0;
};
struct JournalBegin {
  JournalParams params;
};
struct JournalStepDone {
  std::string name;
  std::string detail;
};
struct AskFacts {};      // -> FactsGathered
struct ListDevices {};   // -> DevicesListed
struct ListBackends {};  // -> BackendsListed
struct AddBackend {      // -> HardwareAnswered
  DimmSpec dimm;
};
struct AddDimm {  // -> HardwareAnswered
  DimmSpec dimm;
};
struct DeleteDimm {  // -> HardwareAnswered; the end comes as DeviceEventSeen
  std::string device_id;
};
struct DeleteBackend {  // -> HardwareAnswered
  std::string backend_id;
};
struct SetRequestedSize {  // -> HardwareAnswered
  std::string device_id;
  uint64_t size = 0;
};
struct CheckAlive {};     // -> AliveChecked
struct ReadInventory {};  // -> InventoryRead
struct OnlineBlocks {     // -> BlocksAnswered
  memhp::v1::OnlineRequest request;
  std::chrono::milliseconds timeout{0};
};
struct OfflineBlocks {  // -> BlocksAnswered
  memhp::v1::OfflineRequest request;
  std::chrono::milliseconds timeout{0};
};
struct SendDeviceMap {  // -> MapAnswered; the runner adds the zones asked at plug (targets)
  std::vector<memhp::v1::MemoryDevice> devices;
};
struct SendIntent {  // -> IntentAnswered; the runner fills in the operation id
  memhp::v1::PlugIntent intent;
};
struct RememberTarget {  // the zone asked for a device, for every later device map
  std::string device_id;
  memhp::v1::OnlineTarget target = memhp::v1::ONLINE_TARGET_UNSPECIFIED;
};
struct ForgetTarget {
  std::string device_id;
};
struct WaitOnline {  // -> OnlineWaitEnded (online_waiter.h, fed the agent's events)
  OnlineWaitOptions options;
};
struct StartTimer {  // -> TimerFired{timer} after `delay`, unless the operation ended first
  uint32_t timer = 0;
  std::chrono::milliseconds delay{0};
};
struct Finish {  // the end: `result` without steps, operation id and duration (the runner's)
  memhp::v1::OperationResult result;
};
// The facts to decide on are missing (resuming), or the manager cannot be reached (any
// operation): leave the journal as it is, for the next resume to decide.
struct Abandon {
  std::string why;
};

using Action = std::variant<BeginStep, EndStep, ReportProgress, JournalBegin, JournalStepDone, AskFacts, ListDevices,
                            ListBackends, AddBackend, AddDimm, DeleteDimm, DeleteBackend, SetRequestedSize, CheckAlive,
                            ReadInventory, OnlineBlocks, OfflineBlocks, SendDeviceMap, SendIntent, RememberTarget,
                            ForgetTarget, WaitOnline, StartTimer, Finish, Abandon>;
using Actions = std::vector<Action>;

// A machine's next state and what it asks for.
template <typename State>
struct Transition {
  State state;
  Actions actions;
};

// --- Helpers the machines share (machine.cc). ---

// The Error of a failed port call as it goes into an OperationResult.
[[nodiscard]] memhp::v1::Error ToProtoError(const Error& error, memhp::v1::ErrorCode fallback);
[[nodiscard]] memhp::v1::Error MakeError(memhp::v1::ErrorCode code, const std::string& message);
// Sets outcome, detail and (when given) error on `result` and returns the Finish.
[[nodiscard]] Finish Finished(memhp::v1::OperationResult result, memhp::v1::OperationOutcome outcome,
                              const std::string& detail, std::optional<memhp::v1::Error> error = std::nullopt);
// The end of an operation whose VM went away under it, at `step`: nothing it did outlives QEMU
// (a DIMM, its backend, a requested size are QEMU's state), so FAILED saying so — never the
// guesses a failed command would produce ("the backend is left over", "the DIMM is plugged").
[[nodiscard]] Finish GoneFinish(memhp::v1::OperationResult result, const std::string& step, const std::string& reason);


// If `event` says the connection to the VM's manager broke (ManagerUnreachable, or a hardware
// answer with an IsUnreachable error), why.
[[nodiscard]] std::optional<std::string> UnreachableReason(const Event& event);
// If `event` says the VM's manager is gone (QemuGone, or a hardware answer with an IsGone
// error), why; else nothing.
[[nodiscard]] std::optional<std::string> GoneReason(const Event& event);

// Resuming after a restart: every machine's journaled-but-unended operation is finished from
// the hardware's state now (reconcile.h decides). The steps are the same for the three kinds:
// list the devices (failing that, Abandon: the next start tries again), list the backends (an
// error there reads as none), delete the backend the decision names, Finish marked recovered.
struct ResumeState {
  enum class Phase { kListingDevices, kListingBackends, kDeletingBackend, kDone };
  Phase phase = Phase::kListingDevices;
  JournalOp op;
  ResumeCause cause = ResumeCause::kRestart;
  QemuMemoryState hardware;
  ReconcileDecision decision;
};
[[nodiscard]] Actions ResumeStart();
[[nodiscard]] Actions ResumeNext(ResumeState& state, const Event& event);

// --- What the three machines share. A machine's State has `phase` (with kStart, kResuming and
// kDone), `result`, `step` and `resume`. ---

// A machine resuming `op` from the journal.
template <typename State>
[[nodiscard]] State Resumed(memhp::v1::OperationKind kind, const JournalOp& op, ResumeCause cause) {
  State s;
  s.phase = State::Phase::kResuming;
  s.resume.op = op;
  s.resume.cause = cause;
  s.result.set_kind(kind);
  s.result.set_device_id(op.params.device_id);
  return s;
}

// What every machine does before its own phases: nothing once it is done; the shared resume
// steps while resuming; the end when the VM's manager is gone. The actions when it took the
// input, nothing when the machine's own phases should.
template <typename State>
[[nodiscard]] std::optional<Actions> CommonNext(State& s, const Input& input) {
  using Phase = typename State::Phase;
  if (s.phase == Phase::kDone) return Actions{};
  if (s.phase == Phase::kResuming) {
    if (std::holds_alternative<Started>(input.event)) return ResumeStart();
    Actions actions = ResumeNext(s.resume, input.event);
    if (s.resume.phase == ResumeState::Phase::kDone) s.phase = Phase::kDone;
    return actions;
  }
  if (auto lost = UnreachableReason(input.event); lost && s.phase != Phase::kStart) {
    s.phase = Phase::kDone;
    return Actions{Abandon{"the connection to the VM's manager broke during the " +
                           (s.step.empty() ? std::string("first") : s.step) + " step (" + *lost + ")"}};
  }
  if (auto gone = GoneReason(input.event); gone && s.phase != Phase::kStart) {
    s.phase = Phase::kDone;
    return Actions{GoneFinish(s.result, s.step, *gone)};
  }
  return std::nullopt;
}

// One step of a machine being written: its state and the actions so far, with the three
// things every phase does — open a step, close it, end the operation.
template <typename State>
struct MachineStep {
  State s;
  Actions out;

  void Begin(const std::string& name) {
    s.step = name;
    out.push_back(BeginStep{name});
  }
  void End(bool ok, std::string detail = "") { out.push_back(EndStep{ok, std::move(detail)}); }
  void Done(memhp::v1::OperationOutcome outcome, const std::string& detail,
            std::optional<memhp::v1::Error> error = std::nullopt) {
    s.phase = State::Phase::kDone;
    out.push_back(Finished(s.result, outcome, detail, std::move(error)));
  }
};

}  // namespace memhp::daemon::operations
