// Parser for `show stat` (CSV). Columns are found by the header's names; a row
// is checked for length before any field is read, and every number goes
// through std::from_chars, so no input can crash or throw.
#include "haproxy/stat.h"

#include <optional>

#include "haproxy/reply.h"
#include "haproxy/table.h"

namespace caretaker::haproxy {
namespace {

using Word = StatusField::Word;

constexpr TableFormat kFormat{.command = "`show stat`",
                              .header = "# pxname,svname,...",
                              .group_column = "pxname",
                              .name_column = "svname"};
constexpr std::string_view kSpace = " ";

// ---- the status column ---------------------------------------------------

std::optional<Word> WordOf(std::string_view head) {
  if (head == "UP") return Word::kUp;
  if (head == "DOWN") return Word::kDown;
  if (head == "DRAIN") return Word::kDrain;
  if (head == "NOLB") return Word::kNolb;
  if (head == "MAINT") return Word::kMaint;
  return std::nullopt;
}

// "1/3" of "UP 1/3": the check counter and its limit.
bool ParseTransition(std::string_view text, StatusField& field) {
  const auto slash = text.find('/');
  if (slash == std::string_view::npos) return false;
  return ParseNumber(text.substr(0, slash), field.transition_step) &&
         ParseNumber(text.substr(slash + 1), field.transition_of) &&
         field.transition_step >= 0 && field.transition_of > 0;
}

// What may follow the word: "n/m" (not for MAINT), "(via be/srv)" and
// "(resolution)" for MAINT, "(agent)" for DOWN and DRAIN.
bool ParseStatusSuffix(Word word, std::string_view rest, StatusField& field) {
  if (word == Word::kMaint) {
    if (rest == "(resolution)") return true;
    constexpr std::string_view kVia = "(via ";
    if (!rest.starts_with(kVia) || !rest.ends_with(')')) return false;
    const std::string_view via = rest.substr(kVia.size(), rest.size() - kVia.size() - 1);
    if (via.find('/') == std::string_view::npos || via.find(' ') != std::string_view::npos) {
      return false;
    }
    field.via = std::string(via);
    return true;
  }
  if (rest == "(agent)") return word == Word::kDown || word == Word::kDrain;
  return ParseTransition(rest, field);
}

// ---- CSV -------------------------------------------------------------------

// Splits one CSV line. HAProxy quotes a field (RFC 4180 style, "" for a quote)
// only when it holds a comma or a quote. nullopt on an unterminated quote.
std::optional<std::vector<std::string>> SplitCsv(std::string_view line) {
  if (line.find('"') == std::string_view::npos) {
    // The common line, nothing quoted: whole fields at once (a fleet's dump
    // is ~100 fields x 10,000 rows).
    std::vector<std::string> fields;
    for (size_t start = 0;;) {
      size_t comma = line.find(',', start);
      fields.emplace_back(line.substr(start, comma == std::string_view::npos ? comma : comma - start));
      if (comma == std::string_view::npos) return fields;
      start = comma + 1;
    }
  }
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted && c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
      fields.back().push_back('"');
      ++i;
    } else if (c == '"' && (quoted || fields.back().empty())) {
      quoted = !quoted;
    } else if (c == ',' && !quoted) {
      fields.emplace_back();
    } else {
      fields.back().push_back(c);
    }
  }
  if (quoted) return std::nullopt;
  return fields;
}

// The header's names, without the empty one after the trailing comma, so a row
// needs as many fields as there are named columns.
Result<TableHeader> ParseHeader(std::string_view line) {
  const auto text = HeaderText(kFormat, 1, line);
  if (!text) return text.error();
  auto names = SplitCsv(Trim(text.value(), kSpace));
  if (!names) return ParseError(kFormat.command, 1, "unterminated quote in the header");
  while (!names->empty() && names->back().empty()) names->pop_back();
  return TableHeader::Make(kFormat, 1, *names, {"pxname", "svname", "status"});
}

// Server rows only: `type` 2 when the column exists (0 frontend, 1 backend,
// 2 server, 3 listener), else any svname but FRONTEND and BACKEND.
Result<bool> IsServerRow(const TableRow& row) {
  if (row.Has("type")) {
    int type = -1;
    if (auto status = row.Number("type", type); !status) return status.error();
    return type == 2;
  }
  const std::string_view svname = row.Text("svname");
  return svname != "FRONTEND" && svname != "BACKEND";
}

void ReadCheckStatus(std::string_view text, ServerStat& stat) {
  constexpr std::string_view kInProgress = "* ";
  stat.check_in_progress = text.starts_with(kInProgress);
  if (stat.check_in_progress) text.remove_prefix(kInProgress.size());
  stat.check_status = std::string(text);
}

Result<ServerStat> ReadServer(const TableRow& row) {
  ServerStat stat;
  stat.backend = std::string(row.Text("pxname"));
  stat.server = std::string(row.Text("svname"));
  stat.status = ParseStatusField(row.Text("status"));
  for (const auto& [column, out] : {std::pair{"scur", &stat.scur}, std::pair{"smax", &stat.smax},
                                    std::pair{"stot", &stat.stot},
                                    std::pair{"lastchg", &stat.lastchg_s}}) {
    if (auto status = row.Number(column, *out); !status) return status.error();
  }
  if (auto status = row.Number("weight", stat.weight); !status) return status.error();
  if (auto status = row.Number("uweight", stat.uweight); !status) return status.error();
  ReadCheckStatus(row.Text("check_status"), stat);
  stat.check_desc = std::string(row.Text("check_desc"));
  stat.addr = std::string(row.Text("addr"));
  stat.tracked = std::string(row.Text("tracked"));
  return stat;
}

// Appends the server of line `line_no` (if it is one) to `out`.
Status ReadLine(const TableHeader& header, std::string_view line, size_t line_no,
                std::vector<ServerStat>& out) {
  auto fields = SplitCsv(line);
  if (!fields) return ParseError(kFormat.command, line_no, "unterminated quote");
  const auto row = TableRow::Make(header, std::move(*fields), line_no);
  if (!row) return row.error();
  const auto is_server = IsServerRow(row.value());
  if (!is_server) return is_server.error();
  if (!is_server.value()) return Ok();
  if (row.value().Text("pxname").empty() || row.value().Text("svname").empty()) {
    return ParseError(kFormat.command, line_no, "a server row without pxname or svname");
  }
  auto stat = ReadServer(row.value());
  if (!stat) return stat.error();
  out.push_back(std::move(stat).value());
  return Ok();
}

}  // namespace

StatusField ParseStatusField(std::string_view text) {
  StatusField field;
  field.raw = std::string(text);
  const std::string_view trimmed = Trim(text, kSpace);
  if (trimmed == "no check") {
    field.word = Word::kNoCheck;
    return field;
  }
  const auto space = trimmed.find(' ');
  const auto word = WordOf(trimmed.substr(0, space));
  if (!word) return field;
  if (space == std::string_view::npos) {
    field.word = *word;
    return field;
  }
  StatusField parsed = field;
  if (!ParseStatusSuffix(*word, trimmed.substr(space + 1), parsed)) return field;
  parsed.word = *word;
  return parsed;
}

const char* StatusWordName(StatusField::Word word) {
  switch (word) {
    case Word::kUp: return "UP";
    case Word::kDown: return "DOWN";
    case Word::kDrain: return "DRAIN";
    case Word::kMaint: return "MAINT";
    case Word::kNolb: return "NOLB";
    case Word::kNoCheck: return "no check";
    case Word::kUnknown: return "unknown";
  }
  return "unknown";
}

Result<std::vector<ServerStat>> ParseShowStat(std::string_view reply) {
  const std::vector<std::string_view> lines = ReplyLines(reply);
  if (lines.empty()) return ParseError(kFormat.command, 1, "the reply is empty");
  const auto header = ParseHeader(lines[0]);
  if (!header) return header.error();
  std::vector<ServerStat> servers;
  servers.reserve(lines.size() - 1);  // no growth slack: a fleet's dump is 10,000 rows
  for (size_t i = 1; i < lines.size(); ++i) {
    if (Trim(lines[i], kSpace).empty()) continue;
    if (auto status = ReadLine(header.value(), lines[i], i + 1, servers); !status) {
      return status.error();
    }
  }
  return servers;
}

}  // namespace caretaker::haproxy
