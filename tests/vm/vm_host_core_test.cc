// memhpd's host core on the default VM (issue "Host core"): the plug intent reaching the agent
// before the hardware, and the agent's own changes waiting their turn in the operation queue.
//
//   - `plug --zone kernel` under the agent's default policy (auto-movable, which would put a
//     hot-plugged DIMM's blocks in ZONE_MOVABLE) ends with every block in ZONE_NORMAL: the
//     PlugIntent told the agent the zone before device_add, so its policy decided right at the
//     first uevent. Before the intent, the device map came after the hardware and the agent had
//     already onlined the blocks by its policy.
//   - an `online` sent while a plug runs is answered only after the plug ended, and is told
//     meanwhile that it is queued (OperationProgress "queued", queued_behind >= 1): S18/S21 held
//     on the host for every change, not only for plug, unplug and resize.
#include <glib.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "memhpctl/control_client.h"
#include "memhpctl_runner.h"
#include "shared_vm.h"

namespace memhp::vmtest {
namespace {

class HostCore : public SharedVmTest<HostCore> {
 public:
  static constexpr char kVm[] = "core";

 protected:
  static std::string Journal() {
    std::ifstream in(vm_->Dir() + "/journal.jsonl");
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
};

TEST_F(HostCore, AnOnlineSentDuringAPlugWaitsItsTurnAndIsToldSo) {
  // The plug from a client in the background; the online is sent once the plug's begin record
  // is in the journal, i.e. while the plug runs (it still has the hardware and the guest's
  // onlining ahead of it).
  const char* binary = g_getenv("MEMHPCTL");
  std::vector<std::string> argv = {binary ? binary : "memhpctl", "--state-root", vm_->root(), "--vm", vm_->name(),
                                   "plug", "--size", "256M", "--node", "0", "--id", "dimmq"};
  std::vector<char*> c_argv;
  for (auto& a : argv) c_argv.push_back(a.data());
  c_argv.push_back(nullptr);
  GPid client = 0;
  ASSERT_TRUE(g_spawn_async(nullptr, c_argv.data(), nullptr,
                            static_cast<GSpawnFlags>(G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL |
                                                     G_SPAWN_STDERR_TO_DEV_NULL),
                            nullptr, nullptr, &client, nullptr));
  const std::string begun = "\"rec\":\"begin\"";
  const std::string dimmq = "\"device\":\"dimmq\"";
  bool running = false;
  for (int i = 0; i < 600 && !running; ++i) {
    const std::string j = Journal();
    running = j.find(dimmq) != std::string::npos && j.find(begun) != std::string::npos;
    if (!running) g_usleep(20 * 1000);
  }
  ASSERT_TRUE(running) << Journal();

  memhp::cli::ControlClient control(vm_->Dir() + "/control.sock");
  memhp::v1::ControlRequest request;
  request.mutable_block_op()->mutable_online()->mutable_selection()->mutable_blocks()->add_ids(0);  // boot memory
  std::vector<uint32_t> queued;
  memhp::cli::CallResult answer = control.Call(std::move(request), std::chrono::seconds(120),
                                               [&](const memhp::v1::OperationProgress& p) {
                                                 if (p.step() == "queued") queued.push_back(p.queued_behind());
                                               });
  // By the time the online is answered, the plug has ended (its end record is in the journal).
  const std::string journal_then = Journal();
  int status = 0;
  waitpid(client, &status, 0);
  ASSERT_TRUE(answer.ok()) << answer.error().message;
  ASSERT_TRUE(answer.value().has_block_op()) << answer.value().DebugString();
  EXPECT_EQ(answer.value().block_op().blocks_size(), 1);
  ASSERT_FALSE(queued.empty()) << "the online was never told it was queued";
  EXPECT_GE(queued.front(), 1u);
  // The plug's operation id, from its begin record; its end record must be there already.
  std::string op_id;
  std::istringstream lines(journal_then);
  for (std::string l; std::getline(lines, l);) {
    if (l.find(begun) == std::string::npos || l.find(dimmq) == std::string::npos) continue;
    const size_t at = l.find("\"op\":");
    if (at != std::string::npos) op_id = l.substr(at + 5, l.find(',', at) - at - 5);
  }
  ASSERT_FALSE(op_id.empty()) << journal_then;
  EXPECT_NE(journal_then.find("{\"op\":" + op_id + ",\"rec\":\"end\""), std::string::npos)
      << "the online was answered before the plug (operation " << op_id << ") ended:\n" << journal_then;
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "the plug failed";
  std::printf("[figure] online during a plug: queued behind %u, answered after the plug ended\n", queued.front());
  CliRun unplug = Ctl({"--json", "unplug", "dimmq"});
  EXPECT_EQ(unplug.exit_code, 0) << unplug.out << unplug.err;
}

// Last: it leaves a DIMM in ZONE_NORMAL plugged.
TEST_F(HostCore, PlugWithZoneKernelPutsEveryBlockInNormalUnderTheDefaultPolicy) {
  Json policy = ResultOf(Ctl({"--json", "policy"}));
  ASSERT_EQ(policy.String("policy"), "auto-movable") << "the default VM's agent policy changed; this test needs one "
                                                        "that would not choose ZONE_NORMAL by itself";
  CliRun plug = Ctl({"--json", "plug", "--size", "256M", "--node", "1", "--zone", "kernel", "--id", "dimmk"});
  ASSERT_EQ(plug.exit_code, 0) << plug.out << plug.err;
  Json op = ResultOf(plug);
  EXPECT_EQ(op.String("outcome"), "OPERATION_OUTCOME_DONE") << op.String("detail");
  ASSERT_EQ(op.Length("blocks"), 2u) << plug.out;
  for (size_t i = 0; i < op.Length("blocks"); ++i) {
    const std::string p = "blocks." + std::to_string(i);
    EXPECT_EQ(op.String(p + ".zone"), "ZONE_NORMAL") << "block " << op.Int(p + ".block") << ": " << plug.out;
  }
  bool intent_step = false;
  for (size_t i = 0; i < op.Length("steps"); ++i) {
    const std::string p = "steps." + std::to_string(i);
    if (op.String(p + ".name") == "intent") intent_step = op.Bool(p + ".ok");
  }
  EXPECT_TRUE(intent_step) << "the agent did not take the plug intent: " << plug.out;
  std::printf("[figure] plug --zone kernel under auto-movable: %s, %zu block(s) in ZONE_NORMAL\n",
              op.String("outcome").c_str(), op.Length("blocks"));
  // Last in the file, and left plugged: ZONE_NORMAL takes unmovable kernel allocations, so the
  // kernel may refuse to offline it (EBUSY) — that is what ZONE_MOVABLE is for.
}

}  // namespace
}  // namespace memhp::vmtest
