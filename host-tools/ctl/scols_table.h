// scols_table — every table memhpctl prints (blocks, status, zones, audit, operation results),
// through libsmartcols, the library lsmem(1) and lsblk(8) print with, so columns are measured
// and aligned (and JSON is produced) the way those tools do.
//
// Cells often hold the guest's or QEMU's words (device ids, veto reasons, step details): each is
// escaped for the terminal as it is added (terminal_text.h), a newline included, so a row stays
// one line. libsmartcols then measures what is left. The rows are kept as plain values and the
// libsmartcols table is built at render time, so a ScolsTable is an ordinary copyable value.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace memhp::ctl {

enum class Align { kLeft, kRight };
// How libsmartcols' JSON prints a column's cells (SCOLS_JSON_STRING / NUMBER / BOOLEAN).
enum class JsonKind { kString, kNumber, kBoolean };

struct TableColumn {
  std::string name;
  Align align = Align::kLeft;
  JsonKind json = JsonKind::kString;
};

struct TableStyle {
  bool raw = false;           // one space between cells, no alignment (lsmem -r)
  bool noheadings = false;    // no header line (lsmem -n)
  std::string separator = " ";  // between aligned columns (lsmem: one space)
  std::string indent;           // before every line (status and operation tables: two spaces)
};

// The style of the tables inside `status`, `zones`, `audit` and an operation's result: columns
// two spaces apart, every line indented by two under its section's title.
[[nodiscard]] TableStyle SectionStyle();

class ScolsTable {
 public:
  explicit ScolsTable(std::vector<TableColumn> columns);
  // Left-aligned string columns with these headings.
  [[nodiscard]] static ScolsTable WithHeadings(const std::vector<std::string>& names);

  // One row, a cell per column (missing cells are empty). nullopt: no data — empty in text,
  // null in JSON.
  void AddRow(std::vector<std::optional<std::string>> cells);

  [[nodiscard]] size_t row_count() const { return rows_.size(); }

  // The aligned text, every line ending in "\n"; the whole table whatever stdout is (no
  // truncation to a terminal's width), and no line ending in blanks unless `raw`.
  [[nodiscard]] std::string Text(const TableStyle& style) const;
  // libsmartcols' JSON: {"<name>": [{"<column>": value, ...}, ...]}, column names lower-case.
  [[nodiscard]] std::string Json(std::string_view name) const;

 private:
  std::vector<TableColumn> columns_;
  std::vector<std::vector<std::optional<std::string>>> rows_;
};

}  // namespace memhp::ctl
