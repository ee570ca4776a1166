// Tests for qmp/qmp_protocol: one QMP line -> Greeting / Return / Error / Event / Malformed.
//
// The fixtures marked "captured" are byte-for-byte what QEMU 7.2.22 (Debian 12) wrote on its
// QMP socket, "\r\n" included, for `qemu-system-x86_64 -machine q35 -accel tcg -S -nodefaults
// -m 512M,slots=4,maxmem=8G` with two NUMA nodes and a virtio-mem-pci device.
#include "qmp/qmp_protocol.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <variant>

namespace memhp::qmp {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// captured
constexpr char kGreeting[] =
    "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 22, \"minor\": 2, \"major\": 7}, \"package\": "
    "\"Debian 1:7.2+dfsg-7+deb12u18+b3\"}, \"capabilities\": [\"oob\"]}}\r\n";
// captured: the answer to qmp_capabilities
constexpr char kEmptyReturn[] = "{\"return\": {}, \"id\": 1}\r\n";
// captured: query-memory-size-summary
constexpr char kSummaryReturn[] =
    R"({"return": {"base-memory": 536870912, "plugged-memory": 0}, "id": 3})"
    "\r\n";
// captured: object-add of an id that exists
constexpr char kDuplicateObject[] =
    R"q({"id": 8, "error": {"class": "GenericError", "desc": "attempt to add duplicate property 'dimm0mem' to object (type 'container')"}})q"
    "\r\n";
// captured: device_add pc-dimm with a memdev that does not exist
constexpr char kUnknownMemdev[] =
    R"({"id": 9, "error": {"class": "DeviceNotFound", "desc": "Device 'nosuch' not found"}})"
    "\r\n";
// captured: a command QEMU could not parse gets an error without an id
constexpr char kParseError[] =
    R"({"error": {"class": "GenericError", "desc": "JSON parse error, invalid keyword 'garbage'"}})"
    "\r\n";
// captured: a command sent with a string id, and one sent with none
constexpr char kStringIdReturn[] =
    R"({"return": {"status": "prelaunch", "singlestep": false, "running": false}, "id": "str"})"
    "\r\n";
constexpr char kNoIdReturn[] =
    R"({"return": {"status": "prelaunch", "singlestep": false, "running": false}})"
    "\r\n";
// captured: events
constexpr char kShutdown[] =
    R"({"timestamp": {"seconds": 1795619344, "microseconds": 406891}, "event": "SHUTDOWN", "data": {"guest": false, "reason": "host-qmp-quit"}})"
    "\r\n";
constexpr char kDeviceDeleted[] =
    R"({"timestamp": {"seconds": 1795619355, "microseconds": 410693}, "event": "DEVICE_DELETED", "data": {"device": "kbd0", "path": "/machine/peripheral/kbd0"}})"
    "\r\n";
constexpr char kResume[] =
    R"({"timestamp": {"seconds": 1795619355, "microseconds": 911740}, "event": "RESUME"})"
    "\r\n";
// Shapes from QEMU 7.2's qapi/acpi.json and qapi/machine.json (they need a running guest).
constexpr char kAcpiOst[] =
    R"({"timestamp": {"seconds": 1, "microseconds": 2}, "event": "ACPI_DEVICE_OST", "data": {"info": {"device": "d1", "slot": "0", "slot-type": "DIMM", "source": 1, "status": 0}}})";
constexpr char kSizeChange[] =
    R"({"timestamp": {"seconds": -1, "microseconds": -1}, "event": "MEMORY_DEVICE_SIZE_CHANGE", "data": {"id": "vm0", "size": 1073741824, "qom-path": "/machine/peripheral/vm0"}})";

TEST(QmpProtocol, Greeting) {
  Message m = ClassifyLine(kGreeting);
  const auto* g = std::get_if<Greeting>(&m);
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->version.major, 7);
  EXPECT_EQ(g->version.minor, 2);
  EXPECT_EQ(g->version.micro, 22);
  EXPECT_EQ(g->version.package, "Debian 1:7.2+dfsg-7+deb12u18+b3");
  EXPECT_EQ(FormatVersion(g->version), "7.2.22");
  EXPECT_THAT(g->capabilities, ElementsAre("oob"));
}

TEST(QmpProtocol, GreetingWithoutPackageOrCapabilities) {
  Message m = ClassifyLine(
      R"({"QMP": {"version": {"qemu": {"micro": 0, "minor": 0, "major": 8}}, "capabilities": []}})");
  const auto* g = std::get_if<Greeting>(&m);
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->version.package, "");
  EXPECT_TRUE(g->capabilities.empty());
}

TEST(QmpProtocol, Return) {
  Message m = ClassifyLine(kEmptyReturn);
  const auto* r = std::get_if<Return>(&m);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->id, 1);
  EXPECT_EQ(ToJson(r->value.get()), "{}");

  m = ClassifyLine(kSummaryReturn);
  r = std::get_if<Return>(&m);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->id, 3);
  EXPECT_EQ(GetUint(AsObject(r->value.get()), "base-memory"), 536870912u);
}

TEST(QmpProtocol, ReturnValuesOfAnyJsonType) {
  for (const char* line : {R"({"return": [], "id": 2})", R"({"return": 5, "id": 2})",
                           R"({"return": "s", "id": 2})", R"({"return": null, "id": 2})"}) {
    Message m = ClassifyLine(line);
    const auto* r = std::get_if<Return>(&m);
    ASSERT_NE(r, nullptr) << line;
    EXPECT_NE(r->value, nullptr) << line;
    EXPECT_EQ(r->id, 2) << line;
  }
}

TEST(QmpProtocol, ReturnWithAnIdTheClientCannotHaveSent) {
  for (const char* line : {kStringIdReturn, kNoIdReturn}) {
    Message m = ClassifyLine(line);
    const auto* r = std::get_if<Return>(&m);
    ASSERT_NE(r, nullptr) << line;
    EXPECT_EQ(r->id, std::nullopt) << line;
  }
}

TEST(QmpProtocol, ErrorsKeepClassAndDescVerbatim) {
  struct Case {
    const char* line;
    std::optional<int64_t> id;
    const char* error_class;
    const char* desc;
  };
  const Case cases[] = {
      {kDuplicateObject, 8, "GenericError",
       "attempt to add duplicate property 'dimm0mem' to object (type 'container')"},
      {kUnknownMemdev, 9, "DeviceNotFound", "Device 'nosuch' not found"},
      {kParseError, std::nullopt, "GenericError", "JSON parse error, invalid keyword 'garbage'"},
  };
  for (const Case& c : cases) {
    Message m = ClassifyLine(c.line);
    const auto* e = std::get_if<Error>(&m);
    ASSERT_NE(e, nullptr) << c.line;
    EXPECT_EQ(e->id, c.id);
    EXPECT_EQ(e->error_class, c.error_class);
    EXPECT_EQ(e->desc, c.desc);
  }
}

TEST(QmpProtocol, Events) {
  Message m = ClassifyLine(kShutdown);
  const auto* e = std::get_if<Event>(&m);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->name, "SHUTDOWN");
  EXPECT_EQ(e->timestamp.seconds, 1795619344);
  EXPECT_EQ(e->timestamp.microseconds, 406891);
  EXPECT_EQ(GetString(AsObject(e->data.get()), "reason"), "host-qmp-quit");

  m = ClassifyLine(kDeviceDeleted);
  e = std::get_if<Event>(&m);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->name, "DEVICE_DELETED");
  EXPECT_EQ(GetString(AsObject(e->data.get()), "device"), "kbd0");

  m = ClassifyLine(kAcpiOst);
  e = std::get_if<Event>(&m);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(GetInt(GetObject(AsObject(e->data.get()), "info"), "status"), 0);

  m = ClassifyLine(kSizeChange);
  e = std::get_if<Event>(&m);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->timestamp.seconds, -1);  // QEMU could not read the clock
  EXPECT_EQ(GetUint(AsObject(e->data.get()), "size"), uint64_t{1} << 30);
}

TEST(QmpProtocol, EventWithoutDataGetsAnEmptyObject) {
  Message m = ClassifyLine(kResume);
  const auto* e = std::get_if<Event>(&m);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->name, "RESUME");
  ASSERT_NE(e->data, nullptr);
  EXPECT_EQ(ToJson(e->data.get()), "{}");
}

TEST(QmpProtocol, Malformed) {
  struct Case {
    const char* line;
    const char* reason;  // a part of the reason
  };
  const Case cases[] = {
      {"", "empty"},
      {"\r\n", "empty"},
      {"garbage", "invalid JSON"},
      {R"({"return": )", "invalid JSON"},
      {"[1, 2]", "not a JSON object"},
      {"42", "not a JSON object"},
      {"{}", "none of"},
      {R"({"id": 1})", "none of"},
      {R"({"return": {}, "error": {"class": "a", "desc": "b"}, "id": 1})", "more than one"},
      {R"({"QMP": {}, "event": "X"})", "more than one"},
      // wrong types
      {R"({"QMP": []})", "greeting"},
      {R"({"QMP": {"version": {"qemu": {"major": "7", "minor": 2, "micro": 0}}, "capabilities": []}})",
       "major/minor/micro"},
      {R"({"QMP": {"version": {"qemu": {"major": 7, "minor": 2, "micro": 0}}}})", "capabilities"},
      {R"({"QMP": {"version": {"qemu": {"major": 7, "minor": 2, "micro": 0}}, "capabilities": [1]}})",
       "capability 0"},
      {R"({"error": "GenericError", "id": 1})", "not an object"},
      {R"({"error": {"class": "GenericError"}, "id": 1})", "desc"},
      {R"({"error": {"class": 1, "desc": "x"}, "id": 1})", "class"},
      {R"({"event": 5, "timestamp": {"seconds": 1, "microseconds": 2}})", "not a string"},
      {R"({"event": "", "timestamp": {"seconds": -1, "microseconds": -1}})", "event name is empty"},
      {R"({"event": "STOP", "data": [], "timestamp": {"seconds": 1, "microseconds": 2}})", "data"},
      {R"({"event": "STOP"})", "timestamp"},
      {R"({"event": "STOP", "timestamp": {"seconds": 1.5, "microseconds": 2}})", "timestamp"},
  };
  for (const Case& c : cases) {
    Message m = ClassifyLine(c.line);
    const auto* bad = std::get_if<Malformed>(&m);
    ASSERT_NE(bad, nullptr) << c.line;
    EXPECT_THAT(bad->reason, HasSubstr(c.reason)) << c.line;
  }
}

TEST(QmpProtocol, LinesOverTheInputBoundsAreMalformedWithoutBeingParsed) {
  // 100 000 '[' overflowed the stack inside json-glib's recursive parser.
  Message deep = ClassifyLine(std::string(100000, '[') + "\r\n");
  const auto* bad = std::get_if<Malformed>(&deep);
  ASSERT_NE(bad, nullptr);
  EXPECT_THAT(bad->reason, HasSubstr("nesting deeper than 1024"));
  EXPECT_FALSE(bad->id.has_value());

  JsonLimits small;
  small.max_values = 4;
  Message many = ClassifyLine(R"({"return": [0, 0, 0], "id": 1})", small);
  bad = std::get_if<Malformed>(&many);
  ASSERT_NE(bad, nullptr);
  EXPECT_THAT(bad->reason, HasSubstr("more than 4 values"));
}

TEST(QmpProtocol, MalformedObjectsKeepTheirIntegerId) {
  // A reply QEMU got wrong can still fail the command it answers.
  Message m = ClassifyLine(R"({"retrun": {}, "id": 7})");
  const auto* bad = std::get_if<Malformed>(&m);
  ASSERT_NE(bad, nullptr);
  EXPECT_EQ(bad->id, 7);
  m = ClassifyLine(R"({"error": "GenericError", "id": 8})");
  bad = std::get_if<Malformed>(&m);
  ASSERT_NE(bad, nullptr);
  EXPECT_EQ(bad->id, 8);
  m = ClassifyLine(R"([{"id": 9}])");
  bad = std::get_if<Malformed>(&m);
  ASSERT_NE(bad, nullptr);
  EXPECT_FALSE(bad->id.has_value());
}

TEST(QmpProtocol, ClassifiesParsedNodes) {
  memhp::Result<JsonNodePtr> parsed = ParseJson(kDeviceDeleted);
  ASSERT_TRUE(parsed);
  Message m = ClassifyNode(**parsed);
  EXPECT_TRUE(std::holds_alternative<Event>(m));
}

}  // namespace
}  // namespace memhp::qmp
