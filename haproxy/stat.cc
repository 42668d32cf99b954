// Parser for `show stat` (CSV). Columns are found by the header's names; a row
// is checked for length before any field is read, and every number goes
// through std::from_chars, so no input can crash or throw.
#include "haproxy/stat.h"

#include <charconv>
#include <map>
#include <optional>

#include "haproxy/reply.h"

namespace caretaker::haproxy {
namespace {

using Word = StatusField::Word;

std::string_view TrimSpaces(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  return text;
}

template <class T>
bool ParseNumber(std::string_view text, T& out) {
  T value{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return false;
  out = value;
  return true;
}

Error ParseError(size_t line, std::string_view what) {
  std::string message = "cannot parse the `show stat` reply: line ";
  message.append(std::to_string(line)).append(": ").append(what);
  message.append(" — the reply was cut short or comes from an unsupported HAProxy version");
  return Error{ErrorCode::kParse, std::move(message)};
}

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

// The header's column names and the number of fields a row must have.
struct Columns {
  std::map<std::string, size_t, std::less<>> index;  // first column of a name wins
  size_t count = 0;  // named columns, i.e. without the trailing comma's empty one

  std::optional<size_t> Find(std::string_view name) const {
    const auto it = index.find(name);
    if (it == index.end()) return std::nullopt;
    return it->second;
  }
};

Result<Columns> ParseHeader(std::string_view line) {
  if (!line.starts_with('#')) {
    return ParseError(1, "expected the '# pxname,svname,...' header, got " + QuoteReplyText(line));
  }
  auto names = SplitCsv(TrimSpaces(line.substr(1)));
  if (!names) return ParseError(1, "unterminated quote in the header");
  while (!names->empty() && names->back().empty()) names->pop_back();
  Columns columns;
  columns.count = names->size();
  for (size_t i = 0; i < names->size(); ++i) columns.index.emplace((*names)[i], i);
  for (const char* required : {"pxname", "svname", "status"}) {
    if (!columns.Find(required)) {
      return ParseError(1, std::string("the header has no '") + required + "' column");
    }
  }
  return columns;
}

// One data row, read by column name; an absent column reads as "".
class Row {
 public:
  Row(const Columns& columns, std::vector<std::string> fields, size_t line)
      : columns_(columns), fields_(std::move(fields)), line_(line) {}

  std::string_view Text(std::string_view column) const {
    const auto i = columns_.Find(column);
    return i && *i < fields_.size() ? std::string_view(fields_[*i]) : std::string_view();
  }

  // An empty or absent field leaves `out` at its default.
  template <class T>
  Status Number(std::string_view column, T& out) const {
    const std::string_view text = Text(column);
    if (text.empty() || ParseNumber(text, out)) return Ok();
    return ParseError(line_, "column '" + std::string(column) + "' of " + Name() + " is " +
                                 QuoteReplyText(text) + ", not a number");
  }

  std::string Name() const {
    return std::string(Text("pxname")) + "/" + std::string(Text("svname"));
  }

 private:
  const Columns& columns_;
  std::vector<std::string> fields_;
  size_t line_;
};

// Server rows only: `type` 2 when the column exists (0 frontend, 1 backend,
// 2 server, 3 listener), else any svname but FRONTEND and BACKEND.
Result<bool> IsServerRow(const Row& row, const Columns& columns) {
  if (columns.Find("type")) {
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

Result<ServerStat> ReadServer(const Row& row) {
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
Status ReadLine(const Columns& columns, std::string_view line, size_t line_no,
                std::vector<ServerStat>& out) {
  auto fields = SplitCsv(line);
  if (!fields) return ParseError(line_no, "unterminated quote");
  if (fields->size() < columns.count) {
    return ParseError(line_no, std::to_string(fields->size()) + " fields where the header has " +
                                   std::to_string(columns.count) + ": the row is truncated");
  }
  const Row row(columns, std::move(*fields), line_no);
  const auto is_server = IsServerRow(row, columns);
  if (!is_server) return is_server.error();
  if (!is_server.value()) return Ok();
  if (row.Text("pxname").empty() || row.Text("svname").empty()) {
    return ParseError(line_no, "a server row without pxname or svname");
  }
  auto stat = ReadServer(row);
  if (!stat) return stat.error();
  out.push_back(std::move(stat).value());
  return Ok();
}

}  // namespace

StatusField ParseStatusField(std::string_view text) {
  StatusField field;
  field.raw = std::string(text);
  const std::string_view trimmed = TrimSpaces(text);
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
  if (lines.empty()) return ParseError(1, "the reply is empty");
  auto columns = ParseHeader(lines[0]);
  if (!columns) return columns.error();
  std::vector<ServerStat> servers;
  for (size_t i = 1; i < lines.size(); ++i) {
    if (TrimSpaces(lines[i]).empty()) continue;
    if (auto status = ReadLine(columns.value(), lines[i], i + 1, servers); !status) {
      return status.error();
    }
  }
  return servers;
}

}  // namespace caretaker::haproxy
