// Tests for qmp/json_limits: the bounds on a JSON text from QEMU, checked before json-glib
// builds anything, and ParseJson's use of them.
#include "qmp/json_limits.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <iterator>
#include <random>
#include <string>

#include "qmp/qmp_json.h"
#include "../support/status_text.h"

namespace memhp::qmp {
namespace {

using ::testing::HasSubstr;
using ::memhp::test_support::ErrorText;

std::string Nested(std::size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

// "[0,0,...,0]" with `n` zeros.
std::string Zeros(std::size_t n) {
  std::string text = "[";
  for (std::size_t i = 0; i < n; ++i) text += i == 0 ? "0" : ",0";
  return text + "]";
}

JsonLimits ValueLimit(std::size_t max_values) {
  JsonLimits limits;
  limits.max_values = max_values;
  return limits;
}

TEST(JsonLimits, TheDefaultsAreQemusNestingAndRoomForQueryQmpSchema) {
  const JsonLimits limits;
  EXPECT_EQ(limits.max_depth, 1024u);  // QEMU's MAX_NESTING
  EXPECT_GE(limits.max_bytes, std::size_t{207000} * 10);
  EXPECT_GE(limits.max_values, std::size_t{26194} * 10);
}

TEST(JsonLimits, Depth1024IsAcceptedAndParses) {
  const std::string text = Nested(1024);
  memhp::Result<JsonSize> size = ScanJsonSize(text, JsonLimits{});
  ASSERT_TRUE(size) << size.error().message;
  EXPECT_EQ(size->depth, 1024u);
  memhp::Result<JsonNodePtr> parsed = ParseJson(text);
  EXPECT_TRUE(parsed) << parsed.error().message;
}

TEST(JsonLimits, Depth1025IsRefused) {
  memhp::Result<JsonSize> size = ScanJsonSize(Nested(1025), JsonLimits{});
  ASSERT_FALSE(size);
  EXPECT_THAT(ErrorText(size), HasSubstr("nesting deeper than 1024 levels"));
  EXPECT_THAT(ErrorText(ParseJson(Nested(1025))), HasSubstr("nesting deeper than 1024"));
}

TEST(JsonLimits, ArraysAndObjectsNestTogether) {
  // 513 objects around 512 arrays: 1025 levels, though neither kind alone passes 1024.
  std::string text;
  for (int i = 0; i < 512; ++i) text += R"({"a":[)";
  text += R"({"a":1})";
  for (int i = 0; i < 512; ++i) text += "]}";
  EXPECT_THAT(ErrorText(ScanJsonSize(text, JsonLimits{})), HasSubstr("nesting deeper than 1024"));
}

TEST(JsonLimits, ClosingBracketsLowerTheDepth) {
  // 2000 arrays one after another, never more than one open.
  std::string text = "[";
  for (int i = 0; i < 2000; ++i) text += i == 0 ? "[]" : ",[]";
  text += "]";
  memhp::Result<JsonSize> size = ScanJsonSize(text, JsonLimits{});
  ASSERT_TRUE(size) << size.error().message;
  EXPECT_EQ(size->depth, 2u);
}

TEST(JsonLimits, BracketsInsideStringsAreNotCounted) {
  const std::string text = R"({"desc": ")" + std::string(5000, '[') + std::string(10, '{') + R"("})";
  memhp::Result<JsonSize> size = ScanJsonSize(text, JsonLimits{});
  ASSERT_TRUE(size) << size.error().message;
  EXPECT_EQ(size->depth, 1u);
  EXPECT_EQ(size->values, 3u);  // the object, its member name, the string
  EXPECT_TRUE(ParseJson(text));
}

TEST(JsonLimits, EscapedQuotesDoNotEndAString) {
  // \" stays inside the string, so the brackets after it are still text.
  const std::string inside = R"(["a\")" + std::string(2000, '[') + R"("])";
  memhp::Result<JsonSize> size = ScanJsonSize(inside, JsonLimits{});
  ASSERT_TRUE(size) << size.error().message;
  EXPECT_EQ(size->depth, 1u);
  EXPECT_TRUE(ParseJson(inside));
  // \\ is an escaped backslash: the quote after it ends the string, and what follows counts.
  const std::string after = R"(["a\\",)" + Nested(1025) + "]";
  EXPECT_THAT(ErrorText(ScanJsonSize(after, JsonLimits{})), HasSubstr("nesting deeper"));
}

TEST(JsonLimits, HundredThousandOpenBracketsAreRefusedWithoutParsing) {
  // The line that overflowed memhpd's stack inside json-glib's recursive parser.
  const std::string text(100000, '[');
  memhp::Result<JsonSize> size = ScanJsonSize(text, JsonLimits{});
  ASSERT_FALSE(size);
  EXPECT_THAT(ErrorText(size), HasSubstr("at byte 1024"));  // refused at the first level too many
  memhp::Result<JsonNodePtr> parsed = ParseJson(text);
  ASSERT_FALSE(parsed);
  EXPECT_THAT(ErrorText(parsed), HasSubstr("nesting deeper than 1024"));
}

TEST(JsonLimits, ValuesCountScalarsContainersAndMemberNames) {
  memhp::Result<JsonSize> size =
      ScanJsonSize(R"({"a": [1, -2.5e3, true, null, "x"], "b": {}})", JsonLimits{});
  ASSERT_TRUE(size) << size.error().message;
  // object, "a", array, 5 scalars, "b", {}
  EXPECT_EQ(size->values, 10u);
  EXPECT_EQ(size->depth, 2u);
}

TEST(JsonLimits, TheValueBoundIsInclusive) {
  EXPECT_TRUE(ScanJsonSize(Zeros(9), ValueLimit(10)));  // the array and 9 zeros
  memhp::Result<JsonSize> over = ScanJsonSize(Zeros(10), ValueLimit(10));
  ASSERT_FALSE(over);
  EXPECT_THAT(ErrorText(over), HasSubstr("more than 10 values"));
}

TEST(JsonLimits, AHugeArrayIsRefusedByItsCountBeforeJsonGlibBuildsIt) {
  // 300 000 zeros: 600 KB, well within the byte bound, but ~25 MB of json-glib nodes.
  memhp::Result<JsonNodePtr> parsed = ParseJson(Zeros(300000));
  ASSERT_FALSE(parsed);
  EXPECT_THAT(ErrorText(parsed), HasSubstr("more than 262144 values"));
}

TEST(JsonLimits, TheByteBoundIsInclusive) {
  JsonLimits limits;
  limits.max_bytes = 8;
  EXPECT_TRUE(ScanJsonSize(R"("123456")", limits));
  EXPECT_THAT(ErrorText(ScanJsonSize(R"("1234567")", limits)), HasSubstr("9 bytes, over the 8-byte"));
}

TEST(JsonLimits, UnbalancedTextIsLeftToJsonGlib) {
  EXPECT_TRUE(ScanJsonSize("]]]", JsonLimits{}));
  EXPECT_THAT(ErrorText(ParseJson("]]]")), HasSubstr("invalid JSON"));
  EXPECT_TRUE(ScanJsonSize(R"("unterminated)", JsonLimits{}));
  EXPECT_FALSE(ParseJson(R"("unterminated)"));
}

// Depth and value count of a parsed tree, counted the way ScanJsonSize counts them.
void Measure(JsonNode* node, std::size_t depth, JsonSize* size) {
  ++size->values;
  if (JSON_NODE_HOLDS_ARRAY(node)) {
    size->depth = std::max(size->depth, depth + 1);
    JsonArray* array = json_node_get_array(node);
    for (guint i = 0; i < json_array_get_length(array); ++i) {
      Measure(json_array_get_element(array, i), depth + 1, size);
    }
  } else if (JSON_NODE_HOLDS_OBJECT(node)) {
    size->depth = std::max(size->depth, depth + 1);
    JsonObjectIter iter;
    const gchar* name = nullptr;
    JsonNode* member = nullptr;
    json_object_iter_init(&iter, json_node_get_object(node));
    while (json_object_iter_next(&iter, &name, &member)) {
      ++size->values;  // the member name
      Measure(member, depth + 1, size);
    }
  }
}

TEST(JsonLimits, TheScanAgreesWithJsonGlibOnEveryTextJsonGlibAccepts) {
  // Deterministic random texts over the characters that matter to the scan. Whenever json-glib
  // parses one, the scan never reported less than the tree it built (json-glib ignores some
  // trailing text, e.g. " true{}", which the scan still counts: the bound errs on the safe
  // side), and on the tree's own text the scan reports exactly the tree.
  static constexpr std::string_view kAlphabet[] = {"[", "]", "{", "}", ",", ":", "\"", "\\",
                                                   "\\\"", "0", "-1.5", "true", "null", " ",
                                                   "\"a[\"", "\"k\":"};
  std::mt19937_64 rng(0x716d70);
  int parsed = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string text;
    const std::size_t pieces = 1 + rng() % 24;
    for (std::size_t i = 0; i < pieces; ++i) text += kAlphabet[rng() % std::size(kAlphabet)];
    memhp::Result<JsonSize> scan = ScanJsonSize(text, JsonLimits{});
    ASSERT_TRUE(scan) << text;  // nothing here comes near a bound
    memhp::Result<JsonNodePtr> tree = ParseJson(text);
    if (!tree) continue;
    ++parsed;
    JsonSize measured;
    Measure(tree->get(), 0, &measured);
    EXPECT_GE(scan->depth, measured.depth) << text;
    EXPECT_GE(scan->values, measured.values) << text;
    const std::string canonical = ToJson(tree->get());
    memhp::Result<JsonSize> rescan = ScanJsonSize(canonical, JsonLimits{});
    ASSERT_TRUE(rescan) << canonical;
    EXPECT_EQ(rescan->depth, measured.depth) << canonical;
    EXPECT_EQ(rescan->values, measured.values) << canonical;
  }
  EXPECT_GT(parsed, 100);  // the comparison ran on enough texts to mean something
}

}  // namespace
}  // namespace memhp::qmp
