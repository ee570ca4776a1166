// text_table — the aligned tables memhpctl prints for people (status, operations, zones).
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "ctl/terminal_text.h"

namespace memhp::ctl {

// Rows of cells printed in columns two spaces apart, each line indented by two spaces. The last
// column is not padded, so no line ends in blanks. Widths count bytes: every cell is ASCII.
// Cells often hold the guest's or QEMU's words (device ids, veto reasons): each is escaped
// for the terminal as it is added, a newline included, so a row stays one line.
class Table {
 public:
  explicit Table(std::vector<std::string> header) { rows_.push_back(std::move(header)); }
  void Add(std::vector<std::string> row) {
    for (std::string& cell : row) cell = EscapeForTerminal(cell, Newlines::kEscape);
    rows_.push_back(std::move(row));
  }

  void AppendTo(std::string& out) const {
    std::vector<size_t> widths;
    for (const auto& row : rows_) {
      widths.resize(std::max(widths.size(), row.size()), 0);
      for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
    }
    for (const auto& row : rows_) {
      std::string line = "  ";
      for (size_t i = 0; i < row.size(); ++i) {
        line += row[i];
        if (i + 1 < row.size()) line.append(widths[i] - row[i].size() + 2, ' ');
      }
      out += line + "\n";
    }
  }

 private:
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace memhp::ctl
