// memhp-audit in a real QEMU 7.2 (TCG; no guest OS, only the firmware): the plugin loads,
// refuses bad arguments, answers on its control socket, and writes a valid JSON report when
// QEMU quits. $MEMHP_AUDIT_PLUGIN is the built libmemhp-audit.so.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <json-glib/json-glib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "memhp/v1/audit.pb.h"
#include "qemu_process.h"
#include "qmp/qmp_client.h"
#include "qmp/qmp_sync.h"
#include "wire/frame_codec.h"
#include "../../support/audit_client.h"

namespace memhp::qemu_test {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
namespace v1 = memhp::v1;

std::string PluginPath() {
  const char* path = std::getenv("MEMHP_AUDIT_PLUGIN");
  return path ? path : "";
}

class PluginQemuTest : public ::testing::Test {
 protected:
  // Starts QEMU with the plugin and `plugin_args` (after file=), connects QMP.
  void Start(const std::string& plugin_args) {
    ASSERT_FALSE(PluginPath().empty()) << "MEMHP_AUDIT_PLUGIN is not set";
    std::vector<std::string> args = BaseQemuArgs();
    args.push_back("-plugin");
    args.push_back("file=" + PluginPath() + plugin_args);
    std::string error;
    qemu_ = QemuProcess::Start(args, 20000ms, &error);
    ASSERT_NE(qemu_, nullptr) << error;
    qmp::QmpClientOptions options;
    options.connect_timeout = 10000ms;
    client_ = std::make_unique<qmp::QmpClient>(context_, options);
    const Status connected = qmp::ConnectSync(*client_, qemu_->qmp_socket_path());
    ASSERT_TRUE(connected.ok()) << connected.error().message << "\n" << qemu_->Log();
  }

  qmp::CommandResult Run(std::string_view command) {
    return qmp::ExecuteSync(*client_, command, nullptr, 10000ms);
  }

  // quit over QMP; QEMU must then exit 0 by itself.
  void Quit() {
    qmp::CommandResult result = Run("quit");
    EXPECT_TRUE(result.ok()) << result.error().message;
    client_.reset();
    const std::optional<QemuExit> exit = qemu_->WaitForExit(20000ms);
    ASSERT_TRUE(exit.has_value()) << "QEMU did not quit\n" << qemu_->Log();
    EXPECT_TRUE(exit->exited && exit->code == 0) << qemu_->Log();
  }

  // The report file, parsed; its root object is checked by the caller through `root`.
  std::string ReadReport(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  void TearDown() override {
    client_.reset();
    qemu_.reset();
    g_main_context_unref(context_);
  }

  GMainContext* context_ = g_main_context_new();
  std::unique_ptr<QemuProcess> qemu_;
  std::unique_ptr<qmp::QmpClient> client_;
};

// Parses a report; fails the test if it is not a JSON object.
struct Report {
  explicit Report(const std::string& text) : parser(json_parser_new()) {
    ok = json_parser_load_from_data(parser, text.c_str(), -1, nullptr) &&
         JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser));
  }
  ~Report() { g_object_unref(parser); }
  JsonObject* root() const { return json_node_get_object(json_parser_get_root(parser)); }
  JsonParser* parser;
  bool ok = false;
};

TEST_F(PluginQemuTest, DisarmedPluginStartsAndQuitsCleanlyWithAReport) {
  char tmpl[] = "/tmp/memhp-audit-qemu-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string report = std::string(tmpl) + "/r.json";
  ASSERT_NO_FATAL_FAILURE(Start(",report=" + report));
  Quit();
  const std::string text = ReadReport(report);
  const Report parsed(text);
  ASSERT_TRUE(parsed.ok) << "not a JSON object: " << text;
  EXPECT_FALSE(json_object_get_boolean_member(parsed.root(), "armed"));
  EXPECT_EQ(json_object_get_int_member(parsed.root(), "block_size"), 128 << 20);
  unlink(report.c_str());
  rmdir(tmpl);
}

TEST_F(PluginQemuTest, BadArgumentsKeepQemuFromStarting) {
  ASSERT_FALSE(PluginPath().empty());
  std::vector<std::string> args = BaseQemuArgs();
  args.push_back("-plugin");
  args.push_back("file=" + PluginPath() + ",block_size=3M");
  // QMP may already listen when the plugin is loaded (qemu_init_board), so QEMU may be seen
  // starting before it exits.
  std::string error;
  std::unique_ptr<QemuProcess> qemu = QemuProcess::Start(args, 20000ms, &error);
  std::string log = error;
  if (qemu != nullptr) {
    const std::optional<QemuExit> exit = qemu->WaitForExit(20000ms);
    ASSERT_TRUE(exit.has_value()) << "QEMU kept running with a bad plugin argument";
    EXPECT_TRUE(exit->exited && exit->code != 0);
    log = qemu->Log();
  }
  EXPECT_THAT(log, HasSubstr("memhp-audit: block_size=3M: must be a power of two"));
}

TEST_F(PluginQemuTest, ControlSocketArmsAndReportsWhileTheFirmwareRuns) {
  char tmpl[] = "/tmp/memhp-audit-qemu-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  ASSERT_NO_FATAL_FAILURE(Start(",socket=" + dir + "/audit.sock,report=" + dir + "/r.json"));
  test_support::AuditClient audit(dir + "/audit.sock");
  ASSERT_TRUE(audit.connected());

  // The firmware runs disarmed first: nothing is counted.
  ASSERT_TRUE(Run("cont").ok());
  std::this_thread::sleep_for(500ms);
  v1::AuditRequest report;
  report.set_id(1);
  report.mutable_report();
  std::optional<v1::AuditResponse> r = audit.Call(report);
  ASSERT_TRUE(r) << qemu_->Log();
  EXPECT_FALSE(r->report().armed());
  EXPECT_EQ(r->report().outside_accesses(), 0u);

  // Armed: the next translation or idle transition flushes the code cache, then RAM accesses
  // are seen (the firmware's, all in boot memory: outside every range).
  v1::AuditRequest arm;
  arm.set_id(2);
  arm.mutable_arm()->set_armed(true);
  r = audit.Call(arm);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->armed());
  uint64_t seen = 0;
  for (int i = 0; i < 100 && seen == 0; ++i) {
    std::this_thread::sleep_for(100ms);
    report.set_id(3 + i);
    r = audit.Call(report);
    ASSERT_TRUE(r);
    seen = r->report().outside_accesses();
  }
  EXPECT_GT(seen, 0u) << "no access counted 10 s after arming\n" << qemu_->Log();

  Quit();
  const Report parsed(ReadReport(dir + "/r.json"));
  ASSERT_TRUE(parsed.ok);
  EXPECT_TRUE(json_object_get_boolean_member(parsed.root(), "armed"));
  EXPECT_GE(json_object_get_int_member(parsed.root(), "outside_accesses"),
            static_cast<int64_t>(seen));
  unlink((dir + "/r.json").c_str());
  rmdir(tmpl);
}

}  // namespace
}  // namespace memhp::qemu_test
