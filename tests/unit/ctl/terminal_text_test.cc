// memhp tests — terminal safety (ctl/terminal_text.h): hostile strings, as a guest or a QEMU
// could send them, come out as visible text; and the renderers that show such strings (status,
// operation results, tables) put no control character on the operator's screen.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <json-glib/json-glib.h>

#include <string>

#include "ctl/operation_view.h"
#include "ctl/status_view.h"
#include "ctl/terminal_text.h"
#include "ctl/scols_table.h"
#include "memhp/v1/control.pb.h"

namespace memhp::ctl {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

struct EscapeCase {
  const char* name;
  std::string in;
  std::string one_line;  // EscapeForTerminal(in, kEscape)
  std::string json;      // EscapeJsonForTerminal(in)
};
void PrintTo(const EscapeCase& c, std::ostream* os) { *os << c.name; }

class EscapeTest : public ::testing::TestWithParam<EscapeCase> {};

TEST_P(EscapeTest, MakesItVisible) {
  EXPECT_EQ(EscapeForTerminal(GetParam().in, Newlines::kEscape), GetParam().one_line);
  EXPECT_EQ(EscapeJsonForTerminal(GetParam().in), GetParam().json);
}

INSTANTIATE_TEST_SUITE_P(
    Hostile, EscapeTest,
    ::testing::Values(
        EscapeCase{"Plain", "pin-guard", "pin-guard", "pin-guard"},
        EscapeCase{"Utf8Kept", "r\xC3\xA9serve \xE2\x80\x94 ok", "r\xC3\xA9serve \xE2\x80\x94 ok",
                   "r\xC3\xA9serve \xE2\x80\x94 ok"},
        EscapeCase{"ClearScreen", "\x1b[2J\x1b[H", "\\x1b[2J\\x1b[H", "\\u001b[2J\\u001b[H"},
        EscapeCase{"WindowTitleOsc", "\x1b]0;pwned\x07", "\\x1b]0;pwned\\x07", "\\u001b]0;pwned\\u0007"},
        EscapeCase{"CarriageReturnOverwrite", "ok\rFAILED", "ok\\x0dFAILED", "ok\\u000dFAILED"},
        EscapeCase{"BackspaceAndDel", "a\bb\x7f", "a\\x08b\\x7f", "a\\u0008b\\u007f"},
        EscapeCase{"Nul", std::string("a\0b", 3), "a\\x00b", "a\\u0000b"},
        EscapeCase{"NewlineInOneField", "line1\nfake line", "line1\\x0afake line", "line1\nfake line"},
        EscapeCase{"TabKept", "a\tb", "a\tb", "a\tb"},
        // U+009B, the 8-bit CSI, in UTF-8.
        EscapeCase{"C1Csi", "\xC2\x9B" "31m", "\\u009b31m", "\\u009b31m"},
        // "Trojan Source": right-to-left override, isolates, marks.
        EscapeCase{"BidiOverride", "abc\xE2\x80\xAE" "fed", "abc\\u202efed", "abc\\u202efed"},
        EscapeCase{"BidiIsolate", "\xE2\x81\xA6x\xE2\x81\xA9", "\\u2066x\\u2069", "\\u2066x\\u2069"},
        EscapeCase{"LineSeparator", "a\xE2\x80\xA8" "b", "a\\u2028b", "a\\u2028b"},
        // Not UTF-8: a lone continuation byte, a truncated sequence, an overlong NUL, a surrogate.
        EscapeCase{"LoneContinuation", "a\x80z", "a\\x80z", "a\\ufffdz"},
        EscapeCase{"Truncated", "a\xE2\x80", "a\\xe2\\x80", "a\\ufffd\\ufffd"},
        EscapeCase{"OverlongNul", "\xC0\x80", "\\xc0\\x80", "\\ufffd\\ufffd"},
        EscapeCase{"Surrogate", "\xED\xA0\x80", "\\xed\\xa0\\x80", "\\ufffd\\ufffd\\ufffd"},
        EscapeCase{"BackslashLeftAlone", "C:\\x1b", "C:\\x1b", "C:\\x1b"}),
    [](const ::testing::TestParamInfo<EscapeCase>& p) { return std::string(p.param.name); });

TEST(EscapeTest, KeepsNewlinesWhenAskedTo) {
  EXPECT_EQ(EscapeForTerminal("a\nb\x1b", Newlines::kKeep), "a\nb\\x1b");
}

// No byte a terminal acts on: C0 other than \n and \t, DEL, the UTF-8 of C1 (C2 80..9F), ESC.
bool HasNoControls(const std::string& text) {
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f) return false;
    if (c == 0xC2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
        static_cast<unsigned char>(text[i + 1]) <= 0x9f) {
      return false;
    }
  }
  return true;
}

const std::string kHostile = "\x1b]0;owned\x07\x1b[2J\xC2\x9B" "1m\xE2\x80\xAE\n\r\x80";

TEST(EscapeTest, IsIdempotentAndLeavesNoControls) {
  for (Newlines n : {Newlines::kKeep, Newlines::kEscape}) {
    const std::string once = EscapeForTerminal(kHostile, n);
    EXPECT_EQ(EscapeForTerminal(once, n), once);
    EXPECT_TRUE(HasNoControls(once)) << once;
    EXPECT_TRUE(g_utf8_validate(once.data(), static_cast<gssize>(once.size()), nullptr));
  }
  const std::string json_once = EscapeJsonForTerminal(kHostile);
  EXPECT_EQ(EscapeJsonForTerminal(json_once), json_once);
  EXPECT_TRUE(HasNoControls(json_once));
}

TEST(EscapeTest, JsonStaysJsonAndMeansTheSame) {
  // A JSON generator escapes C0 but leaves DEL, C1 and bidi raw: after escaping, a parser reads
  // back the very same string.
  const std::string value = "veto\x7f\xC2\x9B\xE2\x80\xAE" "end";
  g_autoptr(JsonNode) node = json_node_new(JSON_NODE_VALUE);
  json_node_set_string(node, value.c_str());
  g_autoptr(JsonGenerator) generator = json_generator_new();
  json_generator_set_root(generator, node);
  g_autofree gchar* raw = json_generator_to_data(generator, nullptr);
  const std::string escaped = EscapeJsonForTerminal(raw);
  EXPECT_TRUE(HasNoControls(escaped)) << escaped;
  g_autoptr(JsonParser) parser = json_parser_new();
  ASSERT_TRUE(json_parser_load_from_data(parser, escaped.c_str(), -1, nullptr)) << escaped;
  EXPECT_EQ(json_node_get_string(json_parser_get_root(parser)), value);
}

TEST(RenderersTest, StatusShowsTheGuestsWordsEscaped) {
  memhp::v1::VmStatus status;
  status.set_vm_name("default");
  status.mutable_qemu()->set_connected(true);
  status.mutable_qemu()->set_version(kHostile);
  status.mutable_agent()->set_connected(true);
  status.mutable_agent()->mutable_hello()->mutable_guest()->set_kernel_release(kHostile);
  status.mutable_agent()->mutable_hello()->set_software_version("1.0\nagent: FAKE");
  status.mutable_agent()->set_guest_violations(1);
  status.mutable_agent()->set_last_guest_violation(kHostile);
  memhp::v1::MemoryDevice* device = status.add_devices();
  device->set_kind(memhp::v1::MEMORY_DEVICE_KIND_UNSPECIFIED);
  device->set_id("dimm1");
  device->set_qmp_type(kHostile);
  const std::string text = RenderStatusText(status);
  EXPECT_TRUE(HasNoControls(text)) << text;
  EXPECT_THAT(text, HasSubstr("\\x1b]0;owned"));
  EXPECT_THAT(text, Not(HasSubstr("\nagent: FAKE"))) << "a guest string cannot start a line of its own";
}

TEST(RenderersTest, OperationResultShowsVetoesAndReasonsEscaped) {
  memhp::v1::OperationResult r;
  r.set_kind(memhp::v1::OPERATION_KIND_UNPLUG);
  r.set_outcome(memhp::v1::OPERATION_OUTCOME_REFUSED);
  r.set_device_id("dimm1");
  r.set_detail(kHostile);
  memhp::v1::BlockResult* b = r.add_blocks();
  b->set_block(40);
  b->set_outcome(memhp::v1::BLOCK_OUTCOME_VETOED);
  b->set_vetoed_by(kHostile);
  b->set_detail("busy\nblocks\n  41  DONE");
  memhp::v1::OperationStep* step = r.add_steps();
  step->set_name("offline");
  step->set_detail(kHostile);
  r.mutable_error()->set_message(kHostile);
  const std::string text = RenderOperationText(r);
  EXPECT_TRUE(HasNoControls(text)) << text;
  EXPECT_THAT(text, Not(HasSubstr("\n  41  DONE")));
}

TEST(RenderersTest, TableCellsStayOnTheirLine) {
  ScolsTable table = ScolsTable::WithHeadings({"A", "B"});
  table.AddRow({"x\ny", "\x1b[31mred"});
  EXPECT_EQ(table.Text(SectionStyle()), "  A       B\n  x\\x0ay  \\x1b[31mred\n");
  EXPECT_EQ(table.Json("t"), "{\n   \"t\": [\n      {\n         \"a\": \"x\\\\x0ay\",\n         \"b\": \"\\\\x1b[31mred\"\n      }\n   ]\n}\n");
}

}  // namespace
}  // namespace memhp::ctl
