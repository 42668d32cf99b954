// Reading the tables in HAProxy's replies, and the kParse errors of all reply
// parsers. `show stat` (CSV) and `show servers state` (space-separated) name
// their columns in a "# ..." header; rows are read by those names, never by
// position, so a newer HAProxy with extra or reordered columns parses the same.
// Internal to haproxy/: the parsers split lines and fields, this reads them.
#pragma once

#include <charconv>
#include <cstddef>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "haproxy/error.h"

namespace caretaker::haproxy {

// A kParse error about the reply to `command` ("`show stat`") at 1-based
// `line`: "cannot parse the `show stat` reply: line 4: <what> — the reply was
// cut short or comes from an unsupported HAProxy version".
Error ParseError(std::string_view command, size_t line, std::string_view what);

// The same error with `what` = "<field> is "<text>", not a number"; `field`
// names it for the reader ("'Pid'", "column 'scur' of replicas/db1").
Error NotANumberError(std::string_view command, size_t line, std::string_view field,
                      std::string_view text);

// Sets `out` when all of `text` is a base-10 number that fits T. Anything else
// ("", " 1", "+1", "0x1", "1/2", out of range) returns false and leaves `out`.
template <class T>
bool ParseNumber(std::string_view text, T& out) {
  T value{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return false;
  out = value;
  return true;
}

// What the table reader needs to know of one reply format, for its messages.
struct TableFormat {
  std::string_view command;       // "`show stat`"
  std::string_view header;        // "# pxname,svname,...", quoted when the header is missing
  std::string_view group_column;  // these two name a row in messages as
  std::string_view name_column;   // "<group>/<name>", e.g. "replicas/db1"
};

// The text after the '#' that opens a header, or the kParse error "expected
// the '<format.header>' header, got "<line>"" at `line_no`.
Result<std::string_view> HeaderText(const TableFormat& format, size_t line_no,
                                    std::string_view line);

// A table's header: its column names, mapped to their positions.
class TableHeader {
 public:
  // The header of `names`, in column order (of a repeated name the first wins),
  // or a kParse error at `line_no` naming the first of `required` it lacks.
  static Result<TableHeader> Make(const TableFormat& format, size_t line_no,
                                  const std::vector<std::string>& names,
                                  std::initializer_list<std::string_view> required);

  std::optional<size_t> Find(std::string_view name) const;
  size_t size() const { return size_; }  // the fewest fields a row may have
  const TableFormat& format() const { return format_; }

 private:
  explicit TableHeader(const TableFormat& format) : format_(format) {}

  TableFormat format_;
  std::map<std::string, size_t, std::less<>> index_;
  size_t size_ = 0;
};

// One data row, its fields read by column name. Holds its fields; refers to
// its header, which must outlive it.
class TableRow {
 public:
  // The row of `fields`, read from line `line_no`, or a kParse error when it
  // has fewer fields than the header has names ("the row is truncated").
  static Result<TableRow> Make(const TableHeader& header, std::vector<std::string> fields,
                               size_t line_no);

  bool Has(std::string_view column) const { return header_->Find(column).has_value(); }

  // The field of `column`; "" when the header has no such column.
  std::string_view Text(std::string_view column) const;

  // Reads the field of `column` into `out`. An empty field or an absent column
  // leaves `out` as it is; a field that is not all a number of T is a kParse
  // error naming the line, the column and the row.
  template <class T>
  Status Number(std::string_view column, T& out) const {
    const std::string_view text = Text(column);
    if (text.empty() || ParseNumber(text, out)) return Ok();
    return NotANumber(column, text);
  }

 private:
  TableRow(const TableHeader& header, std::vector<std::string> fields, size_t line)
      : header_(&header), fields_(std::move(fields)), line_(line) {}

  Error NotANumber(std::string_view column, std::string_view text) const;

  const TableHeader* header_;
  std::vector<std::string> fields_;
  size_t line_;
};

}  // namespace caretaker::haproxy
