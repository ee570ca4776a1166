// scols_table — see scols_table.h.
#include "ctl/scols_table.h"

#include <libsmartcols/libsmartcols.h>

#include <cstdlib>
#include <memory>
#include <string_view>

#include "ctl/terminal_text.h"

namespace memhp::ctl {
namespace {

using TablePtr = std::unique_ptr<libscols_table, decltype(&scols_unref_table)>;

int JsonType(JsonKind kind) {
  switch (kind) {
    case JsonKind::kNumber: return SCOLS_JSON_NUMBER;
    case JsonKind::kBoolean: return SCOLS_JSON_BOOLEAN;
    case JsonKind::kString: break;
  }
  return SCOLS_JSON_STRING;
}

// Prints the table built from `columns` and `rows`; "" when libsmartcols cannot allocate.
std::string Print(const std::vector<TableColumn>& columns,
                  const std::vector<std::vector<std::optional<std::string>>>& rows, const TableStyle& style,
                  const char* json_name) {
  TablePtr table(scols_new_table(), scols_unref_table);
  if (!table) return "";
  // The whole table whatever stdout is: no truncation to a terminal's width.
  scols_table_set_termforce(table.get(), SCOLS_TERMFORCE_NEVER);
  if (json_name) {
    scols_table_enable_json(table.get(), 1);
    scols_table_set_name(table.get(), json_name);
  } else {
    scols_table_enable_raw(table.get(), style.raw ? 1 : 0);
    scols_table_enable_noheadings(table.get(), style.noheadings ? 1 : 0);
    if (!style.raw && scols_table_set_column_separator(table.get(), style.separator.c_str()) != 0) return "";
  }
  for (const TableColumn& c : columns) {
    libscols_column* column =
        scols_table_new_column(table.get(), c.name.c_str(), 0, c.align == Align::kRight ? SCOLS_FL_RIGHT : 0);
    if (!column) return "";
    scols_column_set_json_type(column, JsonType(c.json));
  }
  for (const auto& row : rows) {
    libscols_line* line = scols_table_new_line(table.get(), nullptr);
    if (!line) return "";
    for (size_t i = 0; i < row.size() && i < columns.size(); ++i) {
      if (row[i] && scols_line_set_data(line, i, row[i]->c_str()) != 0) return "";
    }
  }
  char* text = nullptr;
  if (scols_print_table_to_string(table.get(), &text) != 0 || !text) return "";
  std::string out(text);
  std::free(text);
  return out;
}

// libsmartcols writes a backslash followed by 'x' as "\x5c" (util-linux lib/mbsalign.c,
// mbs_safe_encode), so that its own "\xHH" stay unambiguous. Our cells are escaped already
// (terminal_text.h spells a control "\x1b"), so for the text they go in with each "\x" as
// `stand_in` + "x" — a printable ASCII character no cell and no heading holds, of the same width,
// so the alignment is the same — and come out as "\x" again. nullopt: every candidate is used
// (then libsmartcols' "\x5cx" is left, still safe).
std::optional<char> StandIn(const std::vector<TableColumn>& columns,
                            const std::vector<std::vector<std::optional<std::string>>>& rows) {
  for (char candidate : std::string_view("~^`|{}")) {
    bool used = false;
    for (const TableColumn& c : columns) used = used || c.name.find(candidate) != std::string::npos;
    for (const auto& row : rows) {
      for (const auto& cell : row) used = used || (cell && cell->find(candidate) != std::string::npos);
    }
    if (!used) return candidate;
  }
  return std::nullopt;
}

std::string Replace(std::string text, std::string_view from, std::string_view to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

}  // namespace

TableStyle SectionStyle() {
  TableStyle style;
  style.separator = "  ";
  style.indent = "  ";
  return style;
}

ScolsTable::ScolsTable(std::vector<TableColumn> columns) : columns_(std::move(columns)) {}

ScolsTable ScolsTable::WithHeadings(const std::vector<std::string>& names) {
  std::vector<TableColumn> columns;
  for (const std::string& name : names) columns.push_back({name});
  return ScolsTable(std::move(columns));
}

void ScolsTable::AddRow(std::vector<std::optional<std::string>> cells) {
  cells.resize(columns_.size());
  for (std::optional<std::string>& cell : cells) {
    if (cell) *cell = EscapeForTerminal(*cell, Newlines::kEscape);
  }
  rows_.push_back(std::move(cells));
}

std::string ScolsTable::Text(const TableStyle& style) const {
  const std::optional<char> stand_in = StandIn(columns_, rows_);
  std::string table;
  if (stand_in) {
    const std::string marker = std::string(1, *stand_in) + "x";
    auto rows = rows_;
    for (auto& row : rows) {
      for (auto& cell : row) {
        if (cell) *cell = Replace(std::move(*cell), "\\x", marker);
      }
    }
    table = Replace(Print(columns_, rows, style, nullptr), marker, "\\x");
  } else {
    table = Print(columns_, rows_, style, nullptr);
  }
  // libsmartcols pads a row whose last cells are empty out to the last column; drop those
  // blanks (and indent) line by line.
  std::string out;
  size_t start = 0;
  while (start < table.size()) {
    size_t end = table.find('\n', start);
    if (end == std::string::npos) end = table.size();
    std::string line = table.substr(start, end - start);
    if (!style.raw) {
      while (!line.empty() && line.back() == ' ') line.pop_back();
    }
    out += style.indent + line + "\n";
    start = end + 1;
  }
  return out;
}

std::string ScolsTable::Json(std::string_view name) const {
  return Print(columns_, rows_, TableStyle{}, std::string(name).c_str());
}

}  // namespace memhp::ctl
