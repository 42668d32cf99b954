// Reading the tables in HAProxy's replies by column name, and the kParse
// errors every reply parser shares.
#include "haproxy/table.h"

#include "haproxy/reply.h"

namespace caretaker::haproxy {

Error ParseError(std::string_view command, size_t line, std::string_view what) {
  std::string message = "cannot parse the ";
  message.append(command).append(" reply: line ").append(std::to_string(line));
  message.append(": ").append(what);
  message.append(" — the reply was cut short or comes from an unsupported HAProxy version");
  return Error{ErrorCode::kParse, std::move(message)};
}

Error NotANumberError(std::string_view command, size_t line, std::string_view field,
                      std::string_view text) {
  return ParseError(command, line,
                    std::string(field) + " is " + QuoteReplyText(text) + ", not a number");
}

Result<std::string_view> HeaderText(const TableFormat& format, size_t line_no,
                                    std::string_view line) {
  if (line.starts_with('#')) return line.substr(1);
  return ParseError(format.command, line_no,
                    "expected the '" + std::string(format.header) + "' header, got " +
                        QuoteReplyText(line));
}

Result<TableHeader> TableHeader::Make(const TableFormat& format, size_t line_no,
                                      const std::vector<std::string>& names,
                                      std::initializer_list<std::string_view> required) {
  TableHeader header(format);
  header.size_ = names.size();
  for (size_t i = 0; i < names.size(); ++i) header.index_.emplace(names[i], i);
  for (const std::string_view name : required) {
    if (!header.Find(name)) {
      return ParseError(format.command, line_no,
                        "the header has no '" + std::string(name) + "' column");
    }
  }
  return header;
}

std::optional<size_t> TableHeader::Find(std::string_view name) const {
  const auto it = index_.find(name);
  if (it == index_.end()) return std::nullopt;
  return it->second;
}

Result<TableRow> TableRow::Make(const TableHeader& header, std::vector<std::string> fields,
                                size_t line_no) {
  if (fields.size() < header.size()) {
    return ParseError(header.format().command, line_no,
                      std::to_string(fields.size()) + " fields where the header has " +
                          std::to_string(header.size()) + ": the row is truncated");
  }
  return TableRow(header, std::move(fields), line_no);
}

std::string_view TableRow::Text(std::string_view column) const {
  const auto i = header_->Find(column);
  return i && *i < fields_.size() ? std::string_view(fields_[*i]) : std::string_view();
}

Error TableRow::NotANumber(std::string_view column, std::string_view text) const {
  const TableFormat& format = header_->format();
  const std::string field = "column '" + std::string(column) + "' of " +
                            std::string(Text(format.group_column)) + "/" +
                            std::string(Text(format.name_column));
  return NotANumberError(format.command, line_, field, text);
}

}  // namespace caretaker::haproxy
