// Parser for `show servers state [backend]`: a version line, a "# " header of
// space-separated names, then one space-separated row per server.
#include "haproxy/servers_state.h"

#include <charconv>
#include <map>
#include <optional>

#include "haproxy/reply.h"

namespace caretaker::haproxy {
namespace {

constexpr std::string_view kCommand = "`show servers state`";

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
  std::string message = "cannot parse the ";
  message.append(kCommand).append(" reply: line ").append(std::to_string(line));
  message.append(": ").append(what);
  message.append(" — the reply was cut short or comes from an unsupported HAProxy version");
  return Error{ErrorCode::kParse, std::move(message)};
}

std::vector<std::string_view> SplitSpaces(std::string_view line) {
  std::vector<std::string_view> fields;
  while (true) {
    line = TrimSpaces(line);
    if (line.empty()) return fields;
    const auto end = line.find(' ');
    fields.push_back(line.substr(0, end));
    if (end == std::string_view::npos) return fields;
    line.remove_prefix(end);
  }
}

// Line 1. HAProxy 2.6 answers "Can't find backend." (not "No such backend.")
// to `show servers state <unknown backend>`.
Status CheckVersionLine(std::string_view line) {
  const std::string_view version = TrimSpaces(line);
  if (version == "1") return Ok();
  if (version.starts_with("Can't find backend.") || version.starts_with("No such backend.")) {
    return Error{ErrorCode::kNoSuchBackend,
                 std::string("HAProxy answered ") + QuoteReplyText(version) + " to " +
                     std::string(kCommand) +
                     " — check the backend name against `show backend` on this instance"};
  }
  return ParseError(1, "expected the format version \"1\", got " + QuoteReplyText(line));
}

struct Columns {
  std::map<std::string_view, size_t, std::less<>> index;  // first column of a name wins
  size_t count = 0;

  std::optional<size_t> Find(std::string_view name) const {
    const auto it = index.find(name);
    if (it == index.end()) return std::nullopt;
    return it->second;
  }
};

Result<Columns> ParseHeader(std::string_view line) {
  if (!line.starts_with('#')) {
    return ParseError(2, "expected the '# be_id be_name ...' header, got " + QuoteReplyText(line));
  }
  const std::vector<std::string_view> names = SplitSpaces(line.substr(1));
  Columns columns;
  columns.count = names.size();
  for (size_t i = 0; i < names.size(); ++i) columns.index.emplace(names[i], i);
  for (const char* required : {"be_name", "srv_name", "srv_op_state", "srv_admin_state"}) {
    if (!columns.Find(required)) {
      return ParseError(2, std::string("the header has no '") + required + "' column");
    }
  }
  return columns;
}

// One row, read by column name; an absent column reads as "".
class Row {
 public:
  Row(const Columns& columns, std::vector<std::string_view> fields, size_t line)
      : columns_(columns), fields_(std::move(fields)), line_(line) {}

  std::string_view Text(std::string_view column) const {
    const auto i = columns_.Find(column);
    return i && *i < fields_.size() ? fields_[*i] : std::string_view();
  }

  // An absent column leaves `out` at its default; any present value must parse.
  template <class T>
  Status Number(std::string_view column, T& out) const {
    if (!columns_.Find(column)) return Ok();
    const std::string_view text = Text(column);
    if (ParseNumber(text, out)) return Ok();
    return ParseError(line_, "column '" + std::string(column) + "' of " + std::string(Text("be_name")) +
                                 "/" + std::string(Text("srv_name")) + " is " +
                                 QuoteReplyText(text) + ", not a number");
  }

 private:
  const Columns& columns_;
  std::vector<std::string_view> fields_;
  size_t line_;
};

OpState ToOpState(int value) {
  switch (value) {
    case 0: return OpState::kStopped;
    case 1: return OpState::kStarting;
    case 2: return OpState::kRunning;
    case 3: return OpState::kStopping;
    default: return OpState::kUnknown;
  }
}

Status ReadNumbers(const Row& row, ServerState& state) {
  int op_state = -1;
  for (const auto& [column, out] :
       {std::pair{"be_id", &state.backend_id}, std::pair{"srv_id", &state.server_id},
        std::pair{"srv_port", &state.port}, std::pair{"srv_uweight", &state.uweight},
        std::pair{"srv_iweight", &state.iweight}, std::pair{"srv_op_state", &op_state}}) {
    if (auto status = row.Number(column, *out); !status) return status.error();
  }
  state.op_state = ToOpState(op_state);
  return row.Number("srv_admin_state", state.admin_state);
}

Result<ServerState> ReadRow(const Columns& columns, std::string_view line, size_t line_no) {
  std::vector<std::string_view> fields = SplitSpaces(line);
  if (fields.size() < columns.count) {
    return ParseError(line_no, std::to_string(fields.size()) + " fields where the header has " +
                                   std::to_string(columns.count) + ": the row is truncated");
  }
  const Row row(columns, std::move(fields), line_no);
  ServerState state;
  state.backend = std::string(row.Text("be_name"));
  state.server = std::string(row.Text("srv_name"));
  state.addr = std::string(row.Text("srv_addr"));
  if (auto status = ReadNumbers(row, state); !status) return status.error();
  return state;
}

}  // namespace

Result<std::vector<ServerState>> ParseServersState(std::string_view reply) {
  const std::vector<std::string_view> lines = ReplyLines(reply);
  if (lines.empty()) return ParseError(1, "the reply is empty");
  if (auto status = CheckVersionLine(lines[0]); !status) return status.error();
  if (lines.size() < 2) return ParseError(2, "no '# be_id be_name ...' header after the version");
  auto columns = ParseHeader(lines[1]);
  if (!columns) return columns.error();
  std::vector<ServerState> servers;
  for (size_t i = 2; i < lines.size(); ++i) {
    if (TrimSpaces(lines[i]).empty()) continue;
    auto state = ReadRow(columns.value(), lines[i], i + 1);
    if (!state) return state.error();
    servers.push_back(std::move(state).value());
  }
  return servers;
}

}  // namespace caretaker::haproxy
