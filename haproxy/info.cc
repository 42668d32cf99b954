// Parser for `show info`: one "Name: value" per line.
#include "haproxy/info.h"

#include "haproxy/reply.h"
#include "haproxy/table.h"

namespace caretaker::haproxy {
namespace {

constexpr std::string_view kCommand = "`show info`";
constexpr std::string_view kBlanks = " \t";

// Reads the optional number field `name` (found on `line_of[name]`) into `out`.
Status ReadNumber(const Info& info, const std::map<std::string, size_t, std::less<>>& line_of,
                  std::string_view name, int64_t& out) {
  const auto it = info.fields.find(name);
  if (it == info.fields.end()) return Ok();
  if (ParseNumber(it->second, out)) return Ok();
  return NotANumberError(kCommand, line_of.find(name)->second, "'" + std::string(name) + "'",
                         it->second);
}

}  // namespace

Result<Info> ParseShowInfo(std::string_view reply) {
  const std::vector<std::string_view> lines = ReplyLines(reply);
  if (lines.empty()) return ParseError(kCommand, 1, "the reply is empty");
  Info info;
  std::map<std::string, size_t, std::less<>> line_of;  // field name -> 1-based line
  for (size_t i = 0; i < lines.size(); ++i) {
    if (Trim(lines[i], kBlanks).empty()) continue;
    const auto colon = lines[i].find(':');
    const std::string_view name = colon == std::string_view::npos
                                      ? std::string_view()
                                      : Trim(lines[i].substr(0, colon), kBlanks);
    if (name.empty()) {
      return ParseError(kCommand, i + 1, "expected 'Name: value', got " + QuoteReplyText(lines[i]));
    }
    if (info.fields.emplace(name, Trim(lines[i].substr(colon + 1), kBlanks)).second) {
      line_of.emplace(name, i + 1);
    }
  }
  const auto version = info.fields.find("Version");
  if (version == info.fields.end() || version->second.empty()) {
    return ParseError(kCommand, 1, "no 'Version:' line, so this is not a `show info` reply");
  }
  info.version = version->second;
  if (auto status = ReadNumber(info, line_of, "Pid", info.pid); !status) return status.error();
  if (auto status = ReadNumber(info, line_of, "Uptime_sec", info.uptime_s); !status) {
    return status.error();
  }
  return info;
}

}  // namespace caretaker::haproxy
