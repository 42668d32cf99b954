// Parser for `show servers state [backend]`: a version line, a "# " header of
// space-separated names, then one space-separated row per server.
#include "haproxy/servers_state.h"

#include "haproxy/reply.h"
#include "haproxy/table.h"

namespace caretaker::haproxy {
namespace {

constexpr TableFormat kFormat{.command = "`show servers state`",
                              .header = "# be_id be_name ...",
                              .group_column = "be_name",
                              .name_column = "srv_name"};
constexpr std::string_view kSpace = " ";

// The words of `line` between runs of spaces; never an empty one.
std::vector<std::string> SplitSpaces(std::string_view line) {
  std::vector<std::string> fields;
  while (true) {
    line = Trim(line, kSpace);
    if (line.empty()) return fields;
    const auto end = line.find(' ');
    fields.emplace_back(line.substr(0, end));
    if (end == std::string_view::npos) return fields;
    line.remove_prefix(end);
  }
}

// Line 1. HAProxy 2.6 answers "Can't find backend." (not "No such backend.")
// to `show servers state <unknown backend>`.
Status CheckVersionLine(std::string_view line) {
  const std::string_view version = Trim(line, kSpace);
  if (version == "1") return Ok();
  if (version.starts_with("Can't find backend.") || version.starts_with("No such backend.")) {
    return Error{ErrorCode::kNoSuchBackend,
                 std::string("HAProxy answered ") + QuoteReplyText(version) + " to " +
                     std::string(kFormat.command) +
                     " — check the backend name against `show backend` on this instance"};
  }
  return ParseError(kFormat.command, 1,
                    "expected the format version \"1\", got " + QuoteReplyText(line));
}

Result<TableHeader> ParseHeader(std::string_view line) {
  const auto text = HeaderText(kFormat, 2, line);
  if (!text) return text.error();
  return TableHeader::Make(kFormat, 2, SplitSpaces(text.value()),
                           {"be_name", "srv_name", "srv_op_state", "srv_admin_state"});
}

OpState ToOpState(int value) {
  switch (value) {
    case 0: return OpState::kStopped;
    case 1: return OpState::kStarting;
    case 2: return OpState::kRunning;
    case 3: return OpState::kStopping;
    default: return OpState::kUnknown;
  }
}

// A present field is never empty (SplitSpaces makes none), so every column the
// header names must hold a number; an absent one leaves the default.
Status ReadNumbers(const TableRow& row, ServerState& state) {
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

Result<ServerState> ReadRow(const TableHeader& header, std::string_view line, size_t line_no) {
  const auto read = TableRow::Make(header, SplitSpaces(line), line_no);
  if (!read) return read.error();
  const TableRow& row = read.value();
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
  if (lines.empty()) return ParseError(kFormat.command, 1, "the reply is empty");
  if (auto status = CheckVersionLine(lines[0]); !status) return status.error();
  if (lines.size() < 2) {
    return ParseError(kFormat.command, 2,
                      "no '" + std::string(kFormat.header) + "' header after the version");
  }
  const auto header = ParseHeader(lines[1]);
  if (!header) return header.error();
  std::vector<ServerState> servers;
  servers.reserve(lines.size() - 2);  // no growth slack: a fleet's dump is 10,000 rows
  for (size_t i = 2; i < lines.size(); ++i) {
    if (Trim(lines[i], kSpace).empty()) continue;
    auto state = ReadRow(header.value(), lines[i], i + 1);
    if (!state) return state.error();
    servers.push_back(std::move(state).value());
  }
  return servers;
}

}  // namespace caretaker::haproxy
