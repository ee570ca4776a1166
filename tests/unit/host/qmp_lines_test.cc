// LineSplitter: QMP's byte stream cut into lines, whatever the read sizes, with its bound.
#include "qmp/qmp_lines.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace memhp::qmp {
namespace {

using Next = LineSplitter::Next;

// Every line available now; `end` says how NextLine stopped.
std::vector<std::string> Drain(LineSplitter& s, Next* end) {
  std::vector<std::string> lines;
  std::string_view line;
  while ((*end = s.NextLine(&line)) == Next::kLine) lines.emplace_back(line);
  return lines;
}

TEST(LineSplitterTest, StripsLineEndsAndSkipsBlankLines) {
  LineSplitter s(100);
  s.Append("{\"a\": 1}\r\n\r\n  \t\n{\"b\": 2}\n{\"c\"");
  Next end;
  EXPECT_THAT(Drain(s, &end), ::testing::ElementsAre("{\"a\": 1}", "{\"b\": 2}"));
  EXPECT_EQ(end, Next::kNeedMore);
  EXPECT_EQ(s.buffered(), 4u) << "the partial line stays";
}

TEST(LineSplitterTest, ALineSplitAcrossReadsComesOutWhole) {
  LineSplitter s(100);
  Next end;
  for (const char* piece : {"{\"ret", "urn\": {}", "}\r", "\n"}) {
    EXPECT_THAT(Drain(s, &end), ::testing::IsEmpty());
    s.Append(piece);
  }
  EXPECT_THAT(Drain(s, &end), ::testing::ElementsAre("{\"return\": {}}"));
  EXPECT_EQ(s.buffered(), 0u);
}

TEST(LineSplitterTest, ALineAtTheBoundPassesAndOneByteMoreIsTooLong) {
  LineSplitter s(4);
  s.Append("1234\r\n");
  Next end;
  EXPECT_THAT(Drain(s, &end), ::testing::ElementsAre("1234"));
  s.Append("12345\n");
  EXPECT_THAT(Drain(s, &end), ::testing::IsEmpty());
  EXPECT_EQ(end, Next::kTooLong);
}

TEST(LineSplitterTest, APartialLineOverTheBoundIsTooLongBeforeItsNewline) {
  LineSplitter s(4);
  s.Append("1234\r");  // may still become "1234\r\n": not yet too long
  Next end;
  Drain(s, &end);
  EXPECT_EQ(end, Next::kNeedMore);
  s.Append("5");
  Drain(s, &end);
  EXPECT_EQ(end, Next::kTooLong);
}

TEST(LineSplitterTest, AfterALineOverTheBoundTheNextLineComesOutWhole) {
  LineSplitter s(4);
  s.Append("123456");  // over the bound before its newline: dropped as it arrives
  Next end;
  Drain(s, &end);
  EXPECT_EQ(end, Next::kTooLong);
  s.Append("789");  // still the same line
  EXPECT_THAT(Drain(s, &end), ::testing::IsEmpty());
  EXPECT_EQ(s.buffered(), 0u) << "nothing of the dropped line is kept";
  s.Append("0\n{}\n");
  EXPECT_THAT(Drain(s, &end), ::testing::ElementsAre("{}"));
  s.Append("1234567\n[]\n");  // a complete line over the bound, then a good one
  std::string_view line;
  EXPECT_EQ(s.NextLine(&line), Next::kTooLong);
  EXPECT_THAT(Drain(s, &end), ::testing::ElementsAre("[]"));
}

TEST(LineSplitterTest, ClearForgetsThePartialLine) {
  LineSplitter s(100);
  s.Append("{\"half");
  s.Clear();
  s.Append("{}\n");
  Next end;
  EXPECT_THAT(Drain(s, &end), ::testing::ElementsAre("{}"));
}

}  // namespace
}  // namespace memhp::qmp
