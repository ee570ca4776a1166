// memhp — tests for the guest hook scripts (S1–S6, S10–S13, S15–S17): real /bin/sh scripts in a
// temp folder; a veto at GOING_* names the script; env values; timeout kills the process group;
// non-executables skipped; name order; a failure at MEM_ONLINE cannot veto (S16).
#include "handlers/hook_scripts.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace memhp::agent {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

class HookScriptsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "memhp-hooks-XXXXXX").string();
    ASSERT_NE(mkdtemp(templ.data()), nullptr);
    dir_ = templ;
    hooks_ = dir_ / "hooks.d";
    fs::create_directory(hooks_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  void Script(const std::string& name, const std::string& body, fs::perms mode = fs::perms(0755)) {
    std::ofstream(hooks_ / name) << "#!/bin/sh\n" << body << "\n";
    fs::permissions(hooks_ / name, mode);
  }
  std::string Read(const std::string& name) {
    std::ifstream in(dir_ / name);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  HookScripts Hooks(milliseconds timeout = milliseconds(5000)) {
    return HookScripts({.folder = hooks_.string(), .timeout = timeout, .max_output_bytes = 4096});
  }

  fs::path dir_;
  fs::path hooks_;
  const MemoryNotify arg_{.start_pfn = 0x48000, .nr_pages = 32768,
                          .status_change_nid_normal = -1, .status_change_nid = 1};
  const NotifyContext ctx_{.block = 9, .node = 1, .zone = memhp::v1::ZONE_MOVABLE,
                           .origin = EventOrigin::kHostRequest, .request_id = 77};
};

bool ProcessGone(pid_t pid) {
  if (kill(pid, 0) != 0) return errno == ESRCH;
  // A zombie waiting for its new parent (init) to reap it is gone for our purpose.
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(stat, line);
  const auto close = line.rfind(')');
  return close == std::string::npos || line.substr(close + 2, 1) == "Z";
}

TEST_F(HookScriptsTest, FailingHookAtGoingOfflineVetoesAndIsNamed) {
  Script("10-db", "echo releasing; exit 1");
  HookScripts hooks = Hooks();
  EXPECT_EQ(hooks.Call(abi::MemoryEvent::kGoingOffline, arg_, ctx_), NotifyResult::kBad);
  EXPECT_NE(hooks.last_veto_reason().find("10-db"), std::string::npos);
  EXPECT_NE(hooks.last_veto_reason().find("exited with status 1"), std::string::npos)
      << hooks.last_veto_reason();
}

TEST_F(HookScriptsTest, ChainReportsHooksAsTheVetoer) {
  Script("10-db", "exit 3");
  NotifierChain chain;
  auto hooks = std::make_shared<HookScripts>(
      HookScriptsOptions{.folder = hooks_.string(), .timeout = milliseconds(5000)});
  ASSERT_TRUE(chain.Register(std::string(kHookScriptsName), kHookScriptsPriority, hooks).ok());
  const ChainOutcome out = chain.CallChain(abi::MemoryEvent::kGoingOnline, arg_, ctx_);
  EXPECT_EQ(out.final, NotifyResult::kBad);
  EXPECT_EQ(out.stopped_by, "hooks");
  EXPECT_NE(hooks->last_veto_reason().find("10-db exited with status 3"), std::string::npos);
}

TEST_F(HookScriptsTest, SuccessIsOk) {
  Script("10-ok", "exit 0");
  HookScripts hooks = Hooks();
  EXPECT_EQ(hooks.Call(abi::MemoryEvent::kGoingOffline, arg_, ctx_), NotifyResult::kOk);
  EXPECT_EQ(hooks.last_veto_reason(), "");
}

TEST_F(HookScriptsTest, EnvironmentCarriesTheEvent) {
  Script("10-env", "env > '" + (dir_ / "env.txt").string() + "'; echo \"$1\" > '" +
                       (dir_ / "arg.txt").string() + "'; if read x; then echo \"$x\" > '" +
                       (dir_ / "stdin.txt").string() + "'; fi; exit 0");
  HookScripts hooks = Hooks();
  ASSERT_EQ(hooks.Call(abi::MemoryEvent::kGoingOffline, arg_, ctx_), NotifyResult::kOk);
  const std::string env = Read("env.txt");
  for (const char* want : {"MEMHP_EVENT=MEM_GOING_OFFLINE\n", "MEMHP_BLOCK=9\n",
                           "MEMHP_NODE=1\n", "MEMHP_ZONE=Movable\n",
                           "MEMHP_START_PFN=294912\n", "MEMHP_NR_PAGES=32768\n",
                           "MEMHP_STATUS_CHANGE_NID_NORMAL=-1\n", "MEMHP_STATUS_CHANGE_NID=1\n",
                           "MEMHP_ORIGIN=host-request\n", "MEMHP_REQUEST_ID=77\n"}) {
    EXPECT_NE(env.find(want), std::string::npos) << want << " not in:\n" << env;
  }
  EXPECT_EQ(Read("arg.txt"), "MEM_GOING_OFFLINE\n");
  EXPECT_FALSE(fs::exists(dir_ / "stdin.txt"));  // stdin is /dev/null
  EXPECT_EQ(env.find("HOME="), std::string::npos);  // nothing inherited from the agent
}

TEST_F(HookScriptsTest, OverrunningHookIsKilledAndVetoes) {
  const std::string pids = (dir_ / "pids").string();
  // The hook and its child would run for a day: Call returning at all, with the timeout as the
  // veto reason and both processes gone, proves they were killed at the timeout (no stopwatch).
  Script("10-slow", "sleep 86400 & echo $$ $! > '" + pids + "'; wait");
  HookScripts hooks = Hooks(milliseconds(300));
  EXPECT_EQ(hooks.Call(abi::MemoryEvent::kGoingOffline, arg_, ctx_), NotifyResult::kBad);
  EXPECT_NE(hooks.last_veto_reason().find("10-slow timed out after 300 ms"), std::string::npos)
      << hooks.last_veto_reason();
  std::istringstream in(Read("pids"));
  pid_t shell = 0;
  pid_t sleeper = 0;
  ASSERT_TRUE(in >> shell >> sleeper);
  EXPECT_TRUE(ProcessGone(shell));
  // The sleeper is in the hook's process group; give init a moment to reap it.
  for (int i = 0; i < 50 && !ProcessGone(sleeper); ++i) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_TRUE(ProcessGone(sleeper));
}

TEST_F(HookScriptsTest, NonExecutablesHiddenFilesAndFoldersAreIgnored) {
  Script("10-not-exec", "exit 1", fs::perms(0644));
  Script(".20-hidden", "exit 1");
  fs::create_directory(hooks_ / "30-dir");
  Script("40-ok", "exit 0");
  HookScripts hooks = Hooks();
  const auto listed = hooks.ListHooks();
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(*listed, std::vector<std::string>{"40-ok"});
  EXPECT_EQ(hooks.Call(abi::MemoryEvent::kGoingOffline, arg_, ctx_), NotifyResult::kOk);
}

TEST_F(HookScriptsTest, RunInNameOrderAndStopAtTheVeto) {
  const std::string log = (dir_ / "order").string();
  Script("20-b", "echo b >> '" + log + "'; exit 1");
  Script("10-a", "echo a >> '" + log + "'");
  Script("30-c", "echo c >> '" + log + "'");
  HookScripts hooks = Hooks();
  EXPECT_EQ(hooks.Call(abi::MemoryEvent::kGoingOffline, arg_, ctx_), NotifyResult::kBad);
  EXPECT_EQ(Read("order"), "a\nb\n");
  EXPECT_NE(hooks.last_veto_reason().find("20-b"), std::string::npos);
  // At a non-vetoable event every hook runs.
  fs::remove(dir_ / "order");
  EXPECT_EQ(hooks.Call(abi::MemoryEvent::kCancelOffline, arg_, ctx_), NotifyResult::kDone);
  EXPECT_EQ(Read("order"), "a\nb\nc\n");
}

TEST_F(HookScriptsTest, FailureAtOnlineIsLoggedNotAVeto) {
  Script("10-fail", "exit 2");
  HookScripts hooks = Hooks();
  EXPECT_EQ(hooks.Call(abi::MemoryEvent::kOnline, arg_, ctx_), NotifyResult::kDone);
  EXPECT_EQ(hooks.Call(abi::MemoryEvent::kOffline, arg_, ctx_), NotifyResult::kDone);
  EXPECT_EQ(hooks.last_veto_reason(), "");
}

TEST_F(HookScriptsTest, MissingFolderMeansNoHooks) {
  HookScripts hooks({.folder = (dir_ / "absent").string()});
  EXPECT_EQ(hooks.Call(abi::MemoryEvent::kGoingOffline, arg_, ctx_), NotifyResult::kDone);
}

TEST_F(HookScriptsTest, LoudHookOutputIsBoundedAndDoesNotBlock) {
  Script("10-loud", "head -c 200000 /dev/zero | tr '\\0' x; exit 0");
  HookScripts hooks = Hooks(milliseconds(3000));
  EXPECT_EQ(hooks.Call(abi::MemoryEvent::kGoingOnline, arg_, ctx_), NotifyResult::kOk);
}

}  // namespace
}  // namespace memhp::agent
