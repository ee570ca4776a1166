// memhp tests — the JSON envelope of every verb's answer (memhpctl/json_envelope.h,
// docs/cli-json.md): {"ok", "exit_code", "error", "result"} for success and for failure, usage
// errors included. memhpctl runs whole (RunCommandLine) against a fake memhpd: memhpd's own
// ControlServer on a temp control socket, its handler answering from a script, served by a
// thread of its own because memhpctl waits for its answers synchronously.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <json-glib/json-glib.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "daemon/control_server.h"
#include "memhp/v1/control.pb.h"
#include "memhpctl/json_envelope.h"
#include "memhpctl/run_command_line.h"
#include "vm/state_dir.h"

namespace memhp::cli {
namespace {

using memhp::v1::ControlRequest;
using memhp::v1::ControlResponse;
using ::testing::HasSubstr;

// The fake memhpd of VM "t" under a temp state root: a real ControlServer whose handler is the
// test's, on its own thread and GMainContext until the fixture ends.
class FakeMemhpd {
 public:
  using Script = std::function<void(const ControlRequest&, daemon::ControlReply)>;

  explicit FakeMemhpd(Script script) : script_(std::move(script)) {
    std::string tmpl = "/tmp/memhp-cli-envelope.XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) {
      ADD_FAILURE() << "mkdtemp: " << std::strerror(errno);
      return;
    }
    root_ = tmpl;
    const vm::StateDir state = vm::StateDir::ForVm(root_, "t");
    std::filesystem::create_directories(state.path());
    context_ = g_main_context_new();
    server_ = std::make_unique<daemon::ControlServer>(
        context_, [this](const ControlRequest& request, daemon::ControlReply reply) { script_(request, std::move(reply)); });
    const Status listening = server_->Listen(state.control_socket());
    EXPECT_TRUE(listening.ok()) << listening.error().message;
    thread_ = std::thread([this] {
      while (!stop_) g_main_context_iteration(context_, TRUE);
    });
  }
  ~FakeMemhpd() {
    stop_ = true;
    if (context_) g_main_context_wakeup(context_);  // the blocking iteration returns and sees stop_
    if (thread_.joinable()) thread_.join();
    server_.reset();
    if (context_) g_main_context_unref(context_);
    std::error_code ec;
    if (!root_.empty()) std::filesystem::remove_all(root_, ec);
  }
  [[nodiscard]] const std::string& root() const { return root_; }

 private:
  Script script_;
  std::string root_;
  GMainContext* context_ = nullptr;
  std::unique_ptr<daemon::ControlServer> server_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

struct Envelope {
  int code = -1;         // memhpctl's exit code
  std::string out;       // its stdout
  bool parsed = false;   // stdout was one JSON object with the four members
  bool ok = false;
  int64_t exit_code = -1;
  std::string error;     // "" when null
  bool error_null = false;
  std::shared_ptr<JsonParser> parser;
  JsonNode* result = nullptr;  // nullptr when null

  [[nodiscard]] std::string ResultString(const char* member) const {
    if (!result || !JSON_NODE_HOLDS_OBJECT(result)) return "";
    JsonObject* o = json_node_get_object(result);
    return json_object_has_member(o, member) ? json_object_get_string_member(o, member) : "";
  }
};

Envelope RunJson(const std::vector<std::string>& args) {
  Envelope e;
  ::testing::internal::CaptureStdout();
  ::testing::internal::CaptureStderr();
  e.code = RunCommandLine(args);
  std::fflush(stdout);
  e.out = ::testing::internal::GetCapturedStdout();
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(err, "") << "--json says everything on stdout";
  EXPECT_EQ(std::count(e.out.begin(), e.out.end(), '\n'), 1) << "one line: " << e.out;
  e.parser.reset(json_parser_new(), g_object_unref);
  if (!json_parser_load_from_data(e.parser.get(), e.out.c_str(), -1, nullptr)) return e;
  JsonNode* root = json_parser_get_root(e.parser.get());
  if (!root || !JSON_NODE_HOLDS_OBJECT(root)) return e;
  JsonObject* o = json_node_get_object(root);
  if (json_object_get_size(o) != 4) return e;
  for (const char* m : {"ok", "exit_code", "error", "result"}) {
    if (!json_object_has_member(o, m)) return e;
  }
  e.parsed = true;
  e.ok = json_object_get_boolean_member(o, "ok");
  e.exit_code = json_object_get_int_member(o, "exit_code");
  e.error_null = json_object_get_null_member(o, "error");
  if (!e.error_null) e.error = json_object_get_string_member(o, "error");
  if (!json_object_get_null_member(o, "result")) e.result = json_object_get_member(o, "result");
  return e;
}

// A success: ok, exit 0 (also memhpctl's), no error, a result.
void ExpectSuccess(const Envelope& e) {
  ASSERT_TRUE(e.parsed) << e.out;
  EXPECT_TRUE(e.ok) << e.out;
  EXPECT_EQ(e.code, 0) << e.out;
  EXPECT_EQ(e.exit_code, 0);
  EXPECT_TRUE(e.error_null) << e.out;
  EXPECT_NE(e.result, nullptr) << e.out;
}

// A failure: not ok, the exit code memhpctl exits with, an error naming `why`.
void ExpectFailure(const Envelope& e, int code, const std::string& why) {
  ASSERT_TRUE(e.parsed) << e.out;
  EXPECT_FALSE(e.ok) << e.out;
  EXPECT_EQ(e.code, code) << e.out;
  EXPECT_EQ(e.exit_code, code) << e.out;
  EXPECT_THAT(e.error, HasSubstr(why)) << e.out;
}

std::vector<std::string> Args(const FakeMemhpd& memhpd, std::vector<std::string> verb) {
  std::vector<std::string> args = {"--state-root", memhpd.root(), "--vm", "t", "-j"};
  args.insert(args.end(), verb.begin(), verb.end());
  return args;
}

// memhpd's answer to every request: the result each verb expects.
void AnswerEverything(const ControlRequest& request, daemon::ControlReply reply) {
  ControlResponse r;
  switch (request.op_case()) {
    case ControlRequest::kStatus: {
      r.mutable_status()->set_vm_name("t");
      auto* e = r.mutable_status()->mutable_agent()->add_recent_events();
      e->set_seq(5);
      auto* inventory = r.mutable_status()->mutable_agent()->mutable_inventory();  // for blocks
      inventory->set_block_size_bytes(128 << 20);
      inventory->add_blocks()->set_state(memhp::v1::BLOCK_STATE_ONLINE);
      break;
    }
    case ControlRequest::kQmp: r.mutable_qmp()->set_return_json(R"({"status":"running"})"); break;
    case ControlRequest::kBlockOp: {
      r.mutable_block_op()->set_all_done(true);
      auto* b = r.mutable_block_op()->add_blocks();
      b->set_block(40);
      b->set_outcome(memhp::v1::BLOCK_OUTCOME_DONE);
      break;
    }
    case ControlRequest::kPlug:
    case ControlRequest::kUnplug:
    case ControlRequest::kResize:
      r.mutable_operation()->set_kind(memhp::v1::OPERATION_KIND_PLUG);
      r.mutable_operation()->set_outcome(memhp::v1::OPERATION_OUTCOME_DONE);
      r.mutable_operation()->set_device_id("dimm1");
      break;
    case ControlRequest::kPolicy: r.mutable_policy()->set_policy("auto-movable"); break;
    case ControlRequest::kZones: r.mutable_zones()->set_page_size(4096); break;
    case ControlRequest::kAudit: r.mutable_audit()->set_armed(true); break;
    case ControlRequest::kAutoscale: r.mutable_autoscale()->set_on(!request.autoscale().off()); break;
    default: r.mutable_error()->set_message("not scripted"); break;
  }
  reply(std::move(r));
}

const std::vector<std::vector<std::string>>& MemhpdVerbs() {
  static const std::vector<std::vector<std::string>> verbs = {
      {"status"},
      {"qmp", "query-status"},
      {"online", "--blocks", "40"},
      {"offline", "--blocks", "40"},
      {"events"},
      {"plug", "--size", "128M", "--node", "0"},
      {"unplug", "dimm1"},
      {"resize", "vmem0", "--size", "0"},
      {"policy"},
      {"zones"},
      {"audit"},
      {"blocks"},
      {"autoscale", "--min", "0", "--max", "1G"},
      {"autoscale", "--off"},
  };
  return verbs;
}

TEST(EnvelopeTest, EveryVerbThroughMemhpdSucceedsInTheEnvelope) {
  FakeMemhpd memhpd(AnswerEverything);
  for (const std::vector<std::string>& verb : MemhpdVerbs()) {
    SCOPED_TRACE(verb[0]);
    ExpectSuccess(RunJson(Args(memhpd, verb)));
  }
  // The result is the verb's own answer.
  EXPECT_EQ(RunJson(Args(memhpd, {"status"})).ResultString("vm_name"), "t");
  EXPECT_EQ(RunJson(Args(memhpd, {"qmp", "query-status"})).ResultString("status"), "running");
  EXPECT_EQ(RunJson(Args(memhpd, {"policy"})).ResultString("policy"), "auto-movable");
  const Envelope blocks = RunJson(Args(memhpd, {"blocks"}));
  ASSERT_NE(blocks.result, nullptr);
  EXPECT_EQ(json_object_get_int_member(json_node_get_object(blocks.result), "online_bytes"), 128 << 20);
  EXPECT_EQ(RunJson(Args(memhpd, {"plug", "--size", "128M", "--node", "0"})).ResultString("outcome"),
            "OPERATION_OUTCOME_DONE");
  const Envelope events = RunJson(Args(memhpd, {"events"}));
  ASSERT_NE(events.result, nullptr);
  EXPECT_EQ(json_array_get_length(json_object_get_array_member(json_node_get_object(events.result), "events")), 1u);
}

TEST(EnvelopeTest, EveryVerbThroughMemhpdFailsInTheEnvelope) {
  // memhpd answers every request with an error: TIMEOUT is exit 3, anything else 1.
  FakeMemhpd failing([](const ControlRequest& request, daemon::ControlReply reply) {
    ControlResponse r;
    r.mutable_error()->set_code(request.has_zones() ? memhp::v1::ERROR_CODE_TIMEOUT : memhp::v1::ERROR_CODE_FAILED);
    r.mutable_error()->set_message("agent said no");
    reply(std::move(r));
  });
  for (const std::vector<std::string>& verb : MemhpdVerbs()) {
    SCOPED_TRACE(verb[0]);
    const Envelope e = RunJson(Args(failing, verb));
    ExpectFailure(e, verb[0] == "zones" ? 3 : 1, "agent said no");
    EXPECT_EQ(e.result, nullptr);
  }
}

TEST(EnvelopeTest, NoMemhpdIsAFailureInTheEnvelope) {
  FakeMemhpd none([](const ControlRequest&, daemon::ControlReply) {});
  for (const std::vector<std::string>& verb : MemhpdVerbs()) {
    SCOPED_TRACE(verb[0]);
    std::vector<std::string> args = Args(none, verb);
    args[3] = "absent";  // --vm absent: no control socket
    ExpectFailure(RunJson(args), 1, "VM 'absent'");
  }
  std::vector<std::string> stop = Args(none, {"stop"});
  stop[3] = "absent";
  ExpectFailure(RunJson(stop), 1, "VM 'absent' is not running");
}

TEST(EnvelopeTest, AnOperationNotDoneHasItsResultAndItsHeadline) {
  FakeMemhpd refusing([](const ControlRequest& request, daemon::ControlReply reply) {
    ControlResponse r;
    if (request.has_block_op()) {
      auto* b = r.mutable_block_op()->add_blocks();
      b->set_block(41);
      b->set_outcome(memhp::v1::BLOCK_OUTCOME_VETOED);
    } else {
      r.mutable_operation()->set_kind(memhp::v1::OPERATION_KIND_UNPLUG);
      r.mutable_operation()->set_outcome(request.has_resize() ? memhp::v1::OPERATION_OUTCOME_PARTIAL
                                                              : memhp::v1::OPERATION_OUTCOME_REFUSED);
      r.mutable_operation()->set_device_id("dimm1");
      r.mutable_operation()->set_detail("block 37 busy");
    }
    reply(std::move(r));
  });
  const Envelope unplug = RunJson(Args(refusing, {"unplug", "dimm1"}));
  ExpectFailure(unplug, 1, "unplug refused: block 37 busy");
  EXPECT_EQ(unplug.ResultString("outcome"), "OPERATION_OUTCOME_REFUSED");
  const Envelope resize = RunJson(Args(refusing, {"resize", "vmem0", "--size", "0"}));
  ExpectFailure(resize, 3, "partly done");
  const Envelope offline = RunJson(Args(refusing, {"offline", "--blocks", "41"}));
  ExpectFailure(offline, 1, "1 of 1 blocks not done: 41 VETOED");
  EXPECT_NE(offline.result, nullptr);
}

TEST(EnvelopeTest, WatchLinesCarryMemhpdsVmAndSequenceAndEndInTheEnvelopeOnFailure) {
  // memhpd stamps vm and seq (daemon/watch_hub.h); memhpctl prints them as they came, a gap
  // included (seq 1 then 3).
  FakeMemhpd streaming([](const ControlRequest&, daemon::ControlReply reply) {
    uint64_t seq = 1;
    for (const char* name : {"watching", "agent_connected"}) {
      ControlResponse r;
      r.mutable_watch_event()->set_source("memhpd");
      r.mutable_watch_event()->set_name(name);
      r.mutable_watch_event()->set_vm("web-1");
      r.mutable_watch_event()->set_seq(seq);
      seq += 2;
      reply(r);
    }
    ControlResponse end;
    end.mutable_error()->set_code(memhp::v1::ERROR_CODE_FAILED);
    end.mutable_error()->set_message("too many watchers");
    reply(std::move(end));
  });
  ::testing::internal::CaptureStdout();
  const int code = RunCommandLine(Args(streaming, {"watch"}));
  std::fflush(stdout);
  const std::string out = ::testing::internal::GetCapturedStdout();
  EXPECT_EQ(code, 1);
  std::vector<std::string> lines;
  for (size_t at = 0, nl; (nl = out.find('\n', at)) != std::string::npos; at = nl + 1) lines.push_back(out.substr(at, nl - at));
  ASSERT_EQ(lines.size(), 3u) << out;
  EXPECT_THAT(lines[0], HasSubstr(R"("vm":"web-1","seq":1,)"));
  EXPECT_THAT(lines[1], HasSubstr(R"("vm":"web-1","seq":3,)"));
  EXPECT_EQ(lines[2], R"({"ok":false,"exit_code":1,"error":"watch: too many watchers","result":null})");
}

TEST(EnvelopeTest, VerbsWithoutMemhpd) {
  const Envelope version = RunJson({"-j", "version"});
  ExpectSuccess(version);
  EXPECT_EQ(version.ResultString("program"), "memhpctl");
  EXPECT_NE(version.ResultString("version"), "");
  ExpectSuccess(RunJson({"--json", "-V"}));
  const Envelope help = RunJson({"--json", "help", "plug"});
  ExpectSuccess(help);
  EXPECT_THAT(help.ResultString("help"), HasSubstr("usage: memhpctl [global options] plug"));
  // launch and attach refuse a VM whose memhpd is alive (this test's own pid stands for it).
  FakeMemhpd unused([](const ControlRequest&, daemon::ControlReply) {});
  const vm::StateDir state = vm::StateDir::ForVm(unused.root(), "t");
  ASSERT_TRUE(g_file_set_contents(state.memhpd_pidfile().c_str(), std::to_string(getpid()).c_str(), -1, nullptr));
  ExpectFailure(RunJson(Args(unused, {"launch"})), 1, "already served by memhpd");
  ExpectFailure(RunJson(Args(unused, {"attach", "--qmp", "/nonexistent.sock"})), 1, "already served by memhpd");
}

TEST(EnvelopeTest, UsageErrorsOfEveryVerbAreInTheEnvelope) {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"--json", "launch", "--memory", "512"},
           {"-j", "attach"},
           {"-j", "status", "--bogus"},
           {"-j", "stop", "--timeout", "0"},
           {"-j", "plug", "--node", "0"},
           {"-j", "unplug"},
           {"-j", "resize", "vmem0"},
           {"-j", "policy", "--set", "x"},
           {"-j", "zones", "extra"},
           {"-j", "watch", "--no-replay=1"},
           {"-j", "audit", "--arm", "--disarm"},
           {"-j", "online"},
           {"-j", "offline", "--blocks", "47-40"},
           {"-j", "events", "--all"},
           {"-j", "qmp"},
           {"-j", "blocks", "-o", "RANGE,NOPE"},
           {"-j", "version", "x"},
           {"-jq", "help", "nothing"},
           {"hotplug", "--json"},
           {"--json"},
       }) {
    SCOPED_TRACE(args.size() > 1 ? args[1] : args[0]);
    const Envelope e = RunJson(args);
    ExpectFailure(e, 2, "");
    EXPECT_FALSE(e.error.empty());
    EXPECT_EQ(e.result, nullptr);
  }
  // Without --json (or after --), a usage error stays text on stderr.
  ::testing::internal::CaptureStderr();
  ::testing::internal::CaptureStdout();
  EXPECT_EQ(RunCommandLine({"unplug", "--", "-j"}), 2);
  EXPECT_EQ(::testing::internal::GetCapturedStdout(), "");
  EXPECT_THAT(::testing::internal::GetCapturedStderr(), HasSubstr("memhpctl: "));
}

TEST(EnvelopeTest, AResultThatIsNotJsonIsKeptUnparsed) {
  EXPECT_EQ(JsonEnvelope(0, "", "{broken"), "{\"ok\":true,\"exit_code\":0,\"error\":null,\"result\":{\"unparsed\":\"{broken\"}}\n");
  EXPECT_EQ(JsonEnvelope(3, "late", ""), "{\"ok\":false,\"exit_code\":3,\"error\":\"late\",\"result\":null}\n");
}

}  // namespace
}  // namespace memhp::cli
