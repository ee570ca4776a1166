// memhp tests — AgentDaemon: the agent's real wiring through its seams, no guest. The host
// channel is a unix socket the test listens on, the uevents a socketpair the test writes as the
// kernel would, sysfs a FakeSysfs tree, and the loop a private GMainContext.
#include <gtest/gtest.h>
#include <ftw.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>

#include <glib.h>
#include <glib/gstdio.h>

#include "agent/agent_daemon.h"
#include "agent/channel_openers.h"
#include "fake_sysfs.h"
#include "base/unique_fd.h"
#include "memhp/v1/agent.pb.h"
#include "../support/framed_peer.h"

namespace memhp::agent {
namespace {

using testing::FakeSysfs;

class AgentDaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    context_ = g_main_context_new();
    tree_.AddBlock(0, "online", "Normal", 0);
    g_autofree gchar* dir = g_dir_make_tmp("memhp-daemon-XXXXXX", nullptr);
    ASSERT_NE(dir, nullptr);
    dir_ = dir;
    socket_path_ = dir_ + "/agent.sock";
    listener_ = UniqueFd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    ASSERT_TRUE(listener_.valid());
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, socket_path_.c_str(), sizeof(addr.sun_path) - 1);
    ASSERT_EQ(bind(listener_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0) << std::strerror(errno);
    ASSERT_EQ(listen(listener_.get(), 1), 0);
    int fds[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
    uevent_reader_ = UniqueFd(fds[0]);
    kernel_ = UniqueFd(fds[1]);
  }

  void TearDown() override {
    daemon_.reset();
    g_main_context_unref(context_);
    EXPECT_EQ(nftw(dir_.c_str(), [](const char* path, const struct stat*, int, FTW*) { return remove(path); }, 16,
                   FTW_DEPTH | FTW_PHYS),
              0);
  }

  AgentDaemonConfig Config() const {
    AgentDaemonConfig config;
    config.sysfs_root = tree_.root();
    config.hooks_dir = dir_ + "/hooks";
    config.pins_dir = dir_ + "/run/pins";
    return config;
  }

  AgentDaemonSeams Seams() {
    return AgentDaemonSeams{
        .open_channel = UnixSocketOpener(socket_path_),
        .open_uevents = [this]() -> Result<UeventSource> {
          return UeventSource{.fd = std::move(uevent_reader_), .check = SenderCheck::kAnyPeer};
        },
        .context = context_,
        .own_process_signals = false,
    };
  }

  void Make(AgentDaemonConfig config) { daemon_ = std::make_unique<AgentDaemon>(std::move(config), Seams()); }

  std::string AutoOnlineBlocks() const {
    g_autofree gchar* text = nullptr;
    if (!g_file_get_contents((tree_.root() + "/sys/devices/system/memory/auto_online_blocks").c_str(), &text,
                             nullptr, nullptr)) {
      return "(unreadable)";
    }
    return text;
  }

  // The host side accepts the started daemon's connection; the first thing it gets, the hello.
  memhp::v1::Hello FirstHello() {
    const int host_fd = accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC);
    EXPECT_GE(host_fd, 0) << std::strerror(errno);
    if (host_fd < 0) return {};
    test_support::Peer<memhp::v1::AgentEnvelope> host(host_fd);
    const std::optional<memhp::v1::AgentEnvelope> first = host.Next(context_);
    EXPECT_TRUE(first.has_value() && first->has_request() && first->request().has_hello());
    return first.has_value() ? first->request().hello() : memhp::v1::Hello();
  }

  GMainContext* context_ = nullptr;
  FakeSysfs tree_;
  std::string dir_;
  std::string socket_path_;
  UniqueFd listener_;
  UniqueFd uevent_reader_;
  UniqueFd kernel_;
  std::unique_ptr<AgentDaemon> daemon_;
};

TEST_F(AgentDaemonTest, StartConnectsToTheHostAndSaysHello) {
  Make(Config());
  ASSERT_TRUE(daemon_->Start().ok());
  const int host_fd = accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC);
  ASSERT_GE(host_fd, 0) << std::strerror(errno);
  test_support::Peer<memhp::v1::AgentEnvelope> host(host_fd);
  const std::optional<memhp::v1::AgentEnvelope> first = host.Next(context_);
  ASSERT_TRUE(first.has_value());
  ASSERT_TRUE(first->has_request());
  EXPECT_TRUE(first->request().has_hello());
  EXPECT_EQ(first->request().hello().policy(), "auto-movable");
  EXPECT_TRUE(daemon_->host_connected());
}

TEST_F(AgentDaemonTest, TheHelloNamesACompetingOnliner) {
  tree_.SetAutoOnlineBlocks("online");
  Make(Config());
  ASSERT_TRUE(daemon_->Start().ok());
  const int host_fd = accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC);
  ASSERT_GE(host_fd, 0) << std::strerror(errno);
  test_support::Peer<memhp::v1::AgentEnvelope> host(host_fd);
  const std::optional<memhp::v1::AgentEnvelope> first = host.Next(context_);
  ASSERT_TRUE(first.has_value() && first->has_request());
  ASSERT_EQ(first->request().hello().competing_onliners_size(), 1);
  EXPECT_NE(first->request().hello().competing_onliners(0).find("auto_online_blocks"), std::string::npos);
}

TEST_F(AgentDaemonTest, TakingOverOnliningWritesOfflineAndSaysSoInTheHello) {
  tree_.SetAutoOnlineBlocks("online_movable");
  AgentDaemonConfig config = Config();
  config.onlining = OnliningOwnership::kTakeOver;
  Make(std::move(config));
  ASSERT_TRUE(daemon_->Start().ok());
  EXPECT_EQ(AutoOnlineBlocks(), "offline");
  const memhp::v1::Hello hello = FirstHello();
  EXPECT_EQ(hello.took_onlining_from(), "online_movable");
  EXPECT_EQ(hello.competing_onliners_size(), 0) << "the kernel competes no more";
}

TEST_F(AgentDaemonTest, TakingOverOnliningMasksADistributionsUdevRuleAndSaysSoInTheHello) {
  tree_.SetAutoOnlineBlocks("offline");
  tree_.WriteFile("usr/lib/udev/rules.d/40-vm-hotadd.rules",
                  "SUBSYSTEM==\"memory\", ACTION==\"add\", ATTR{state}==\"offline\", ATTR{state}=\"online\"\n");
  AgentDaemonConfig config = Config();
  config.onlining = OnliningOwnership::kTakeOver;
  Make(std::move(config));
  ASSERT_TRUE(daemon_->Start().ok());
  const memhp::v1::Hello hello = FirstHello();
  ASSERT_EQ(hello.masked_udev_rules_size(), 1);
  EXPECT_EQ(hello.masked_udev_rules(0), "40-vm-hotadd.rules:1: /run/udev/rules.d/40-vm-hotadd.rules");
  EXPECT_EQ(hello.competing_onliners_size(), 0) << "the masked rule competes no more";
}

TEST_F(AgentDaemonTest, SharingOnliningLeavesAutoOnlineBlocksAlone) {
  tree_.SetAutoOnlineBlocks("online");
  Make(Config());
  ASSERT_TRUE(daemon_->Start().ok());
  EXPECT_EQ(AutoOnlineBlocks(), "online\n") << "untouched";
  const memhp::v1::Hello hello = FirstHello();
  EXPECT_EQ(hello.took_onlining_from(), "");
  EXPECT_EQ(hello.masked_udev_rules_size(), 0);
}

TEST_F(AgentDaemonTest, AFailedTakeOverIsNotClaimedAndTheAgentStillStarts) {
  // A directory where the file should be: the read fails, nothing is written, the agent runs.
  const std::string file = tree_.root() + "/sys/devices/system/memory/auto_online_blocks";
  ASSERT_EQ(remove(file.c_str()), 0);
  ASSERT_EQ(g_mkdir_with_parents(file.c_str(), 0755), 0);
  AgentDaemonConfig config = Config();
  config.onlining = OnliningOwnership::kTakeOver;
  Make(std::move(config));
  ASSERT_TRUE(daemon_->Start().ok());
  const memhp::v1::Hello hello = FirstHello();
  EXPECT_EQ(hello.took_onlining_from(), "") << "not taken: not claimed";
  EXPECT_TRUE(g_file_test(file.c_str(), G_FILE_TEST_IS_DIR));
}

TEST_F(AgentDaemonTest, CreatesThePinsFolder) {
  Make(Config());
  ASSERT_TRUE(daemon_->Start().ok());
  EXPECT_TRUE(g_file_test((dir_ + "/run/pins").c_str(), G_FILE_TEST_IS_DIR));
}

TEST_F(AgentDaemonTest, UeventsFromTheSourceReachTheWatcher) {
  Make(Config());
  ASSERT_TRUE(daemon_->Start().ok());
  std::string datagram = "online@/devices/system/memory/memory0";
  datagram.push_back('\0');
  for (const char* field : {"ACTION=online", "DEVPATH=/devices/system/memory/memory0", "SUBSYSTEM=memory",
                            "SEQNUM=9"}) {
    datagram += field;
    datagram.push_back('\0');
  }
  ASSERT_EQ(send(kernel_.get(), datagram.data(), datagram.size(), 0), static_cast<ssize_t>(datagram.size()));
  EXPECT_TRUE(test_support::RunUntil(context_, [&] { return daemon_->uevents_delivered() == 1; }));
}

TEST_F(AgentDaemonTest, RunReturnsOnQuit) {
  Make(Config());
  AgentDaemon* daemon = daemon_.get();
  GSource* idle = g_idle_source_new();
  g_source_set_callback(
      idle,
      [](gpointer d) -> gboolean {
        static_cast<AgentDaemon*>(d)->Quit();
        return G_SOURCE_REMOVE;
      },
      daemon, nullptr);
  g_source_attach(idle, context_);
  g_source_unref(idle);
  EXPECT_TRUE(daemon_->Run().ok());
}

TEST_F(AgentDaemonTest, AMissingUeventSourceIsNoFailure) {
  AgentDaemonSeams seams = Seams();
  seams.open_uevents = []() -> Result<UeventSource> { return Error::FromErrno(EPERM, "socket", "netlink"); };
  daemon_ = std::make_unique<AgentDaemon>(Config(), std::move(seams));
  ASSERT_TRUE(daemon_->Start().ok());
  EXPECT_EQ(daemon_->uevents_delivered(), 0u);
}

TEST_F(AgentDaemonTest, StartingTwiceIsAnError) {
  Make(Config());
  ASSERT_TRUE(daemon_->Start().ok());
  const Status again = daemon_->Start();
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().message.find("started already"), std::string::npos);
}

TEST_F(AgentDaemonTest, AnEmptyBacklogIsRefusedBeforeAnythingRuns) {
  AgentDaemonConfig config = Config();
  config.event_backlog = 0;
  Make(config);
  const Status started = daemon_->Start();
  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.error().errno_value, EINVAL);
  EXPECT_NE(started.error().message.find("backlog"), std::string::npos);
  EXPECT_FALSE(daemon_->host_connected());
  EXPECT_FALSE(g_file_test((dir_ + "/run/pins").c_str(), G_FILE_TEST_EXISTS));
}

TEST_F(AgentDaemonTest, NoChannelOpenerIsAnError) {
  AgentDaemonSeams seams = Seams();
  seams.open_channel = nullptr;
  daemon_ = std::make_unique<AgentDaemon>(Config(), std::move(seams));
  const Status started = daemon_->Start();
  ASSERT_FALSE(started.ok());
  EXPECT_NE(started.error().message.find("host channel"), std::string::npos);
}

}  // namespace
}  // namespace memhp::agent
