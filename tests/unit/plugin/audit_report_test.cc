// The JSON report: rendered from a snapshot, then parsed back with json-glib and checked field by
// field, including escaping of labels and the empty report.
#include "audit_report.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <json-glib/json-glib.h>

#include <string>

namespace memhp::audit {
namespace {

// Parses `text`; the root object, or fails the test.
class Parsed {
 public:
  explicit Parsed(const std::string& text) : parser_(json_parser_new()) {
    GError* error = nullptr;
    ok_ = json_parser_load_from_data(parser_, text.c_str(), -1, &error);
    if (!ok_) {
      ADD_FAILURE() << "not JSON: " << error->message << "\n" << text;
      g_error_free(error);
    }
  }
  ~Parsed() { g_object_unref(parser_); }
  JsonObject* root() const {
    return ok_ ? json_node_get_object(json_parser_get_root(parser_)) : nullptr;
  }

 private:
  JsonParser* parser_;
  bool ok_ = false;
};

Snapshot Sample() {
  Snapshot s;
  s.armed = true;
  s.block_size = 128 << 20;
  s.vcpus = 2;
  s.outside_accesses = 77;
  BlockReport touched;
  touched.start = uint64_t{4} << 30;
  touched.label = "dimm \"0\"\\\n\x01";
  touched.state = RangeState::kOnline;
  touched.reads = 10;
  touched.writes = 20;
  touched.first_touch_ns = 1234;
  BlockReport cold = touched;
  cold.start += 128 << 20;
  cold.first_touch_ns.reset();
  cold.state = RangeState::kOffline;
  s.blocks = {touched, cold};
  ViolationReport v;
  v.page = (uint64_t{4} << 30) + 0x1000;
  v.vcpu = 1;
  v.access = Access::kWrite;
  v.state = RangeState::kUnplugged;
  v.label = "dimm1";
  v.count = 3;
  v.first_ns = 5;
  v.last_ns = 9;
  s.violations = {v};
  s.violations_total = 4;
  s.violations_dropped = 1;
  s.max_violations = 1024;
  return s;
}

TEST(AuditReportTest, RoundTripsThroughAJsonParser) {
  const Parsed parsed(RenderJson(Sample()));
  JsonObject* root = parsed.root();
  ASSERT_NE(root, nullptr);
  EXPECT_TRUE(json_object_get_boolean_member(root, "armed"));
  EXPECT_EQ(json_object_get_int_member(root, "block_size"), 128 << 20);
  EXPECT_EQ(json_object_get_int_member(root, "vcpus"), 2);
  EXPECT_EQ(json_object_get_int_member(root, "outside_accesses"), 77);

  JsonArray* blocks = json_object_get_array_member(root, "blocks");
  ASSERT_EQ(json_array_get_length(blocks), 2u);
  JsonObject* b0 = json_array_get_object_element(blocks, 0);
  EXPECT_EQ(json_object_get_int_member(b0, "start"), int64_t{4} << 30);
  EXPECT_STREQ(json_object_get_string_member(b0, "label"), "dimm \"0\"\\\n\x01");
  EXPECT_STREQ(json_object_get_string_member(b0, "state"), "online");
  EXPECT_EQ(json_object_get_int_member(b0, "reads"), 10);
  EXPECT_EQ(json_object_get_int_member(b0, "writes"), 20);
  EXPECT_EQ(json_object_get_int_member(b0, "first_touch_ns"), 1234);
  JsonObject* b1 = json_array_get_object_element(blocks, 1);
  EXPECT_TRUE(json_object_get_null_member(b1, "first_touch_ns"));
  EXPECT_STREQ(json_object_get_string_member(b1, "state"), "offline");

  JsonObject* violations = json_object_get_object_member(root, "violations");
  ASSERT_NE(violations, nullptr);
  EXPECT_EQ(json_object_get_int_member(violations, "total"), 4);
  EXPECT_EQ(json_object_get_int_member(violations, "dropped"), 1);
  EXPECT_EQ(json_object_get_int_member(violations, "max"), 1024);
  JsonArray* records = json_object_get_array_member(violations, "records");
  ASSERT_EQ(json_array_get_length(records), 1u);
  JsonObject* v = json_array_get_object_element(records, 0);
  EXPECT_EQ(json_object_get_int_member(v, "page"), (int64_t{4} << 30) + 0x1000);
  EXPECT_EQ(json_object_get_int_member(v, "vcpu"), 1);
  EXPECT_STREQ(json_object_get_string_member(v, "access"), "write");
  EXPECT_STREQ(json_object_get_string_member(v, "state"), "unplugged");
  EXPECT_STREQ(json_object_get_string_member(v, "label"), "dimm1");
  EXPECT_EQ(json_object_get_int_member(v, "count"), 3);
  EXPECT_EQ(json_object_get_int_member(v, "first_ns"), 5);
  EXPECT_EQ(json_object_get_int_member(v, "last_ns"), 9);
}

TEST(AuditReportTest, EmptyReportIsValidJson) {
  const Parsed parsed(RenderJson(Snapshot{}));
  JsonObject* root = parsed.root();
  ASSERT_NE(root, nullptr);
  EXPECT_FALSE(json_object_get_boolean_member(root, "armed"));
  EXPECT_EQ(json_array_get_length(json_object_get_array_member(root, "blocks")), 0u);
  JsonObject* violations = json_object_get_object_member(root, "violations");
  EXPECT_EQ(json_array_get_length(json_object_get_array_member(violations, "records")), 0u);
}

TEST(AuditReportTest, EscapesStrings) {
  EXPECT_EQ(JsonString("plain"), "\"plain\"");
  EXPECT_EQ(JsonString("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(JsonString("\t\n\r"), "\"\\t\\n\\r\"");
  EXPECT_EQ(JsonString(std::string("\x1f\x00", 2)), "\"\\u001f\\u0000\"");
  EXPECT_EQ(JsonString("h\xc3\xa9"), "\"h\xc3\xa9\"");  // UTF-8 passes through
}

}  // namespace
}  // namespace memhp::audit
