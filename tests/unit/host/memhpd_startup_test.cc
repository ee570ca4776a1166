// memhp tests — what memhpd's main() relies on before the supervisor runs: its command line
// (daemon/memhpd_options.h), every bad value an error naming it, and its pid file
// (vm/pid_file.h), whose write and removal report their failures.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <glib.h>
#include <glib/gstdio.h>

#include "daemon/memhpd_options.h"
#include "vm/pid_file.h"
#include "vm/state_dir.h"

namespace memhp {
namespace {

using ::testing::HasSubstr;

Result<daemon::MemhpdOptions> Parse(std::vector<std::string> words) {
  words.insert(words.begin(), "memhpd");
  return daemon::ParseMemhpdOptions(words);
}

TEST(MemhpdOptionsTest, TheStateDirAloneMeansTheDefaults) {
  const Result<daemon::MemhpdOptions> parsed = Parse({"--state-dir", "/s/vm"});
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->state_dir, "/s/vm");
  EXPECT_EQ(parsed->name, "default");
  EXPECT_EQ(parsed->qmp_socket, "");
  EXPECT_EQ(parsed->agent_socket, "");
  EXPECT_EQ(parsed->qemu_pidfile, "");
  EXPECT_EQ(parsed->accel, "");
  EXPECT_EQ(parsed->audit_socket, "");
  EXPECT_FALSE(parsed->audit_arm_on_request);
  EXPECT_EQ(parsed->libvirt_domain, "");
  EXPECT_EQ(parsed->libvirt_uri, "qemu:///system");
  EXPECT_FALSE(parsed->libvirt_stop_destroys);
}

TEST(MemhpdOptionsTest, WhatMemhpctlPassesForALibvirtDomain) {
  const Result<daemon::MemhpdOptions> attach = Parse({"--state-dir", "/s/lv", "--libvirt", "web01"});
  ASSERT_TRUE(attach.ok()) << attach.error().message;
  EXPECT_EQ(attach->libvirt_domain, "web01");
  EXPECT_EQ(attach->libvirt_uri, "qemu:///system");
  EXPECT_FALSE(attach->libvirt_stop_destroys);
  const Result<daemon::MemhpdOptions> launch = Parse({"--state-dir", "/s/lv", "--libvirt", "memhp-lv", "--connect",
                                                      "qemu+unix:///system?socket=/s.sock", "--on-stop", "destroy"});
  ASSERT_TRUE(launch.ok()) << launch.error().message;
  EXPECT_EQ(launch->libvirt_uri, "qemu+unix:///system?socket=/s.sock");
  EXPECT_TRUE(launch->libvirt_stop_destroys);
}

TEST(MemhpdOptionsTest, WhatMemhpctlLaunchPasses) {
  const Result<daemon::MemhpdOptions> launch =
      Parse({"--state-dir", "/s/web", "--name", "web", "--qemu-pidfile", "/s/web/qemu.pid", "--accel", "tcg",
             "--audit-socket", "/s/web/audit.sock", "--audit-arm", "request", "--qmp", "/q", "--agent", "/a"});
  ASSERT_TRUE(launch.ok()) << launch.error().message;
  EXPECT_EQ(launch->name, "web");
  EXPECT_EQ(launch->qemu_pidfile, "/s/web/qemu.pid");
  EXPECT_EQ(launch->accel, "tcg");
  EXPECT_EQ(launch->audit_socket, "/s/web/audit.sock");
  EXPECT_TRUE(launch->audit_arm_on_request);
  EXPECT_EQ(launch->qmp_socket, "/q");
  EXPECT_EQ(launch->agent_socket, "/a");
}

TEST(MemhpdOptionsTest, BadLinesAreErrorsNamingTheProblem) {
  struct Case {
    std::vector<std::string> words;
    std::string part;
  };
  for (const Case& c : std::vector<Case>{
           {{}, "--state-dir is required"},
           {{"--name", "x"}, "--state-dir is required"},
           {{"--state-dir", "/s", "extra"}, "no other arguments"},
           {{"--state-dir", "/s", "--audit-arm", "boot"}, "--audit-arm takes hello or request, not 'boot'"},
           {{"--state-dir", "/s", "--bogus"}, "--bogus"},
           {{"--state-dir="}, "--state-dir must not be empty"},
           {{"--state-dir", "/s", "--qmp="}, "--qmp must not be empty"},
           {{"--state-dir", "/s", "--qemu-pidfile", ""}, "--qemu-pidfile must not be empty"},
           {{"--state-dir", "/s", "--connect", "qemu:///system"}, "--connect and --on-stop go with --libvirt"},
           {{"--state-dir", "/s", "--libvirt", "d", "--qmp", "/q"}, "--libvirt takes no --qmp"},
           {{"--state-dir", "/s", "--libvirt", "d", "--on-stop", "halt"}, "--on-stop takes leave or destroy"},
           {{"--state-dir", "/s", "--libvirt", ""}, "must not be empty"},
       }) {
    const Result<daemon::MemhpdOptions> parsed = Parse(c.words);
    ASSERT_FALSE(parsed.ok()) << c.part;
    EXPECT_EQ(parsed.error().errno_value, EINVAL);
    EXPECT_THAT(parsed.error().message, HasSubstr(c.part));
  }
}

class PidFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    g_autofree gchar* dir = g_dir_make_tmp("memhp-pid-XXXXXX", nullptr);
    ASSERT_NE(dir, nullptr);
    dir_ = dir;
  }
  void TearDown() override {
    g_unlink((dir_ + "/memhpd.pid").c_str());
    g_rmdir(dir_.c_str());
  }
  std::string dir_;
};

TEST_F(PidFileTest, WrittenPidIsReadBackAndNoTemporaryIsLeft) {
  const std::string path = dir_ + "/memhpd.pid";
  ASSERT_TRUE(vm::WritePidFile(path, getpid()).ok());
  EXPECT_EQ(vm::ReadLivePid(path), getpid());
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, std::to_string(getpid()) + "\n");
  EXPECT_FALSE(g_file_test((path + ".tmp").c_str(), G_FILE_TEST_EXISTS));
  // Written again (a restarted memhpd): replaced, not appended.
  ASSERT_TRUE(vm::WritePidFile(path, 1).ok());
  EXPECT_EQ(vm::ReadLivePid(path), 1);
}

TEST_F(PidFileTest, AFolderThatIsNotThereIsAnErrorNamingThePath) {
  const std::string path = dir_ + "/gone/memhpd.pid";
  const Status written = vm::WritePidFile(path, getpid());
  ASSERT_FALSE(written.ok());
  EXPECT_EQ(written.error().errno_value, ENOENT);
  EXPECT_THAT(written.error().message, HasSubstr(dir_ + "/gone/memhpd.pid"));
}

TEST_F(PidFileTest, RemovingIsIdempotentButAFolderIsNoPidFile) {
  const std::string path = dir_ + "/memhpd.pid";
  ASSERT_TRUE(vm::WritePidFile(path, getpid()).ok());
  EXPECT_TRUE(vm::RemovePidFile(path).ok());
  EXPECT_FALSE(g_file_test(path.c_str(), G_FILE_TEST_EXISTS));
  EXPECT_TRUE(vm::RemovePidFile(path).ok()) << "one that is gone already";
  const Status folder = vm::RemovePidFile(dir_);
  ASSERT_FALSE(folder.ok());
  EXPECT_THAT(folder.error().message, HasSubstr("unlink " + dir_));
}

}  // namespace
}  // namespace memhp
