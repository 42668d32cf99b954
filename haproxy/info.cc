// Parser for `show info`: one "Name: value" per line.
#include "haproxy/info.h"

#include <charconv>

#include "haproxy/reply.h"

namespace caretaker::haproxy {
namespace {

std::string_view TrimSpaces(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

Error ParseError(size_t line, std::string_view what) {
  std::string message = "cannot parse the `show info` reply: line ";
  message.append(std::to_string(line)).append(": ").append(what);
  message.append(" — the reply was cut short or comes from an unsupported HAProxy version");
  return Error{ErrorCode::kParse, std::move(message)};
}

// Reads the optional number field `name` (found on `line_of[name]`) into `out`.
Status ReadNumber(const Info& info, const std::map<std::string, size_t, std::less<>>& line_of,
                  std::string_view name, int64_t& out) {
  const auto it = info.fields.find(name);
  if (it == info.fields.end()) return Ok();
  const std::string& text = it->second;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  if (ec == std::errc() && end == text.data() + text.size() && !text.empty()) return Ok();
  return ParseError(line_of.find(name)->second,
                    "'" + std::string(name) + "' is " + QuoteReplyText(text) + ", not a number");
}

}  // namespace

Result<Info> ParseShowInfo(std::string_view reply) {
  const std::vector<std::string_view> lines = ReplyLines(reply);
  if (lines.empty()) return ParseError(1, "the reply is empty");
  Info info;
  std::map<std::string, size_t, std::less<>> line_of;  // field name -> 1-based line
  for (size_t i = 0; i < lines.size(); ++i) {
    if (TrimSpaces(lines[i]).empty()) continue;
    const auto colon = lines[i].find(':');
    const std::string_view name =
        colon == std::string_view::npos ? std::string_view() : TrimSpaces(lines[i].substr(0, colon));
    if (name.empty()) {
      return ParseError(i + 1, "expected 'Name: value', got " + QuoteReplyText(lines[i]));
    }
    if (info.fields.emplace(name, TrimSpaces(lines[i].substr(colon + 1))).second) {
      line_of.emplace(name, i + 1);
    }
  }
  const auto version = info.fields.find("Version");
  if (version == info.fields.end() || version->second.empty()) {
    return ParseError(1, "no 'Version:' line, so this is not a `show info` reply");
  }
  info.version = version->second;
  if (auto status = ReadNumber(info, line_of, "Pid", info.pid); !status) return status.error();
  if (auto status = ReadNumber(info, line_of, "Uptime_sec", info.uptime_s); !status) {
    return status.error();
  }
  return info;
}

}  // namespace caretaker::haproxy
