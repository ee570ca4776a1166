// Tests for qmp/qmp_json: owning parse, tolerant getters, builders.
#include "qmp/qmp_json.h"
#include "../support/status_text.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

namespace memhp::qmp {
namespace {

using ::memhp::test_support::ErrorText;

JsonNodePtr Parse(std::string_view text) {
  memhp::Result<JsonNodePtr> r = ParseJson(text);
  EXPECT_TRUE(r) << r.error().message;
  return r ? std::move(*r) : nullptr;
}

TEST(QmpJson, ParsesAnObject) {
  JsonNodePtr node = Parse(R"({"a": 1, "b": "x"})");
  ASSERT_NE(AsObject(node.get()), nullptr);
  EXPECT_EQ(GetInt(AsObject(node.get()), "a"), 1);
  EXPECT_EQ(GetString(AsObject(node.get()), "b"), "x");
}

TEST(QmpJson, RejectsInvalidAndEmptyText) {
  for (const char* text : {"", "   ", "{", "garbage", R"({"a": })"}) {
    memhp::Result<JsonNodePtr> r = ParseJson(text);
    EXPECT_FALSE(r) << text;
    EXPECT_FALSE(ErrorText(r).empty()) << text;
  }
}

// json-glib reads these but cannot print them back as JSON; memhpd must never pass them on.
TEST(QmpJson, RejectsWhatJsonGlibCannotPrintBack) {
  for (const char* text : {R"({"return": 1e999})", R"([-1e999])", R"({"return": "\uDDDD"})",
                           R"({"\uD800": 1})", R"([[["a", "\udc00"]]])"}) {
    memhp::Result<JsonNodePtr> r = ParseJson(text);
    EXPECT_FALSE(r) << text;
    EXPECT_THAT(ErrorText(r), ::testing::HasSubstr("invalid JSON")) << text;
  }
  memhp::Result<JsonNodePtr> fine = ParseJson(R"({"return": [1.5e300, "\u00e9\ud83d\ude00"]})");
  EXPECT_TRUE(fine) << fine.error().message;  // large but finite, and a surrogate pair, are fine
}

// What ToJson prints parses back to the same text: doubles in exponent form stay JSON (json-glib's
// own printer wrote "9e-199.0"), doubles stay doubles, strings are escaped.
TEST(QmpJson, PrintsWhatParsesBack) {
  for (const char* text : {R"({"return":[1.0,9e-199,1e+300,-0.5,2.5e-07]})", R"(["a\"b\\c\n\u0001é"])",
                           R"({"id":-3,"ok":true,"none":null,"o":{}})"}) {
    memhp::Result<JsonNodePtr> first = ParseJson(text);
    ASSERT_TRUE(first) << text << ": " << first.error().message;
    const std::string printed = ToJson(first->get());
    memhp::Result<JsonNodePtr> again = ParseJson(printed);
    ASSERT_TRUE(again) << printed << ": " << again.error().message;
    EXPECT_EQ(ToJson(again->get()), printed);
  }
  EXPECT_EQ(ToJson(ParseJson("[9e-199, 1.0, 7]")->get()), "[9e-199,1.0,7]");
}

TEST(QmpJson, GettersTolerateMissingMembersAndWrongTypes) {
  JsonNodePtr node =
      Parse(R"({"s": "x", "i": 7, "d": 1.5, "b": true, "n": null, "o": {}, "a": []})");
  const JsonObject* o = AsObject(node.get());
  EXPECT_EQ(GetString(o, "missing"), std::nullopt);
  EXPECT_EQ(GetString(o, "i"), std::nullopt);
  EXPECT_EQ(GetInt(o, "s"), std::nullopt);
  EXPECT_EQ(GetInt(o, "d"), std::nullopt);  // a double is not an integer
  EXPECT_EQ(GetInt(o, "b"), std::nullopt);
  EXPECT_EQ(GetInt(o, "n"), std::nullopt);
  EXPECT_EQ(GetBool(o, "i"), std::nullopt);
  EXPECT_EQ(GetBool(o, "b"), true);
  EXPECT_EQ(GetObject(o, "a"), nullptr);
  EXPECT_NE(GetObject(o, "o"), nullptr);
  EXPECT_EQ(GetArray(o, "o"), nullptr);
  EXPECT_NE(GetArray(o, "a"), nullptr);
  // A null object is a missing object.
  EXPECT_EQ(GetInt(nullptr, "i"), std::nullopt);
  EXPECT_EQ(AsObject(nullptr), nullptr);
}

TEST(QmpJson, UnsignedValuesAboveInt64KeepTheirBits) {
  // QEMU prints uint64 with PRIu64; json-glib wraps values above INT64_MAX into gint64.
  JsonNodePtr node = Parse(R"({"max": 18446744073709551615, "big": 9223372036854775808})");
  const JsonObject* o = AsObject(node.get());
  EXPECT_EQ(GetUint(o, "max"), std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(GetUint(o, "big"), uint64_t{1} << 63);
}

TEST(QmpJson, BuildsACommand) {
  JsonNodePtr args = JsonObjectBuilder()
                         .SetString("qom-type", "memory-backend-ram")
                         .SetString("id", "m0")
                         .SetUint("size", uint64_t{256} << 20)
                         .SetBool("share", false)
                         .Build();
  JsonNodePtr command = BuildCommand("object-add", args.get(), 7);
  EXPECT_EQ(ToJson(command.get()),
            R"({"execute":"object-add","arguments":{"qom-type":"memory-backend-ram","id":"m0",)"
            R"("size":268435456,"share":false},"id":7})");
  // The arguments were copied, not taken.
  EXPECT_EQ(GetString(AsObject(args.get()), "id"), "m0");
}

TEST(QmpJson, BuildsACommandWithoutArguments) {
  JsonNodePtr command = BuildCommand("qmp_capabilities", nullptr, 1);
  EXPECT_EQ(ToJson(command.get()), R"({"execute":"qmp_capabilities","id":1})");
}

TEST(QmpJson, BuilderNestsNodesAndIsReusable) {
  JsonObjectBuilder builder;
  JsonNodePtr outer = builder.SetNode("inner", JsonObjectBuilder().SetInt("x", -1).Build())
                          .SetNode("nothing", nullptr)
                          .Build();
  EXPECT_EQ(ToJson(outer.get()), R"({"inner":{"x":-1},"nothing":null})");
  EXPECT_EQ(ToJson(builder.SetInt("y", 2).Build().get()), R"({"y":2})");
}

TEST(QmpJson, RefAndCopyOwnTheirNodes) {
  JsonNodePtr copy;
  JsonNodePtr ref;
  {
    JsonNodePtr node = Parse(R"({"a": [1, 2]})");
    copy = CopyNode(node.get());
    ref = RefNode(node.get());
  }
  EXPECT_EQ(ToJson(copy.get()), R"({"a":[1,2]})");
  EXPECT_EQ(ToJson(ref.get()), R"({"a":[1,2]})");
  EXPECT_EQ(CopyNode(nullptr), nullptr);
  EXPECT_EQ(ToJson(nullptr), "null");
}

}  // namespace
}  // namespace memhp::qmp
