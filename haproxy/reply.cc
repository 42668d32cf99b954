// HAProxy's plain-text error replies mapped to typed errors, and the small
// text helpers every reply parser shares.
#include "haproxy/reply.h"

#include <algorithm>
#include <array>

namespace caretaker::haproxy {
namespace {

constexpr std::string_view kSpaces = " \t\r\n";

// A reply HAProxy is known to send, recognised by how its first line starts.
struct KnownReply {
  std::string_view prefix;
  ErrorCode code;
  std::string_view what;     // lower-case summary, before "for '<command>'"
  std::string_view advice;   // after the dash: what the reader should do
};

constexpr std::string_view kCheckBackend =
    "check the backend name against `show backend` on this instance";

constexpr std::array<KnownReply, 7> kKnownReplies{{
    {"No such backend.", ErrorCode::kNoSuchBackend, "no such backend", kCheckBackend},
    {"Can't find backend.", ErrorCode::kNoSuchBackend, "no such backend", kCheckBackend},
    {"No such proxy.", ErrorCode::kNoSuchBackend, "no such backend", kCheckBackend},
    {"No such server.", ErrorCode::kNoSuchServer, "no such server",
     "check the server name against `show servers state <backend>` on this instance"},
    {"Permission denied", ErrorCode::kPermissionDenied, "permission denied",
     "the stats socket needs 'level admin' in haproxy.cfg"},
    {"Unknown command", ErrorCode::kUnknownCommand, "unknown command",
     "this HAProxy does not know the command (too old, or a misspelling); check `haproxy -v`"},
    // src/server.c: `w && w != sv->iweight && !(px->lbprm.algo & BE_LB_PROP_DYN)`.
    {"Backend is using a static LB algorithm", ErrorCode::kStaticAlgorithm, "static balance algorithm",
     "HAProxy accepts only 0% and the initial weight there; a weight ramp needs roundrobin, leastconn or "
     "hash-type consistent"},
}};

std::string_view FirstLine(std::string_view trimmed) {
  const auto end = trimmed.find('\n');
  return Trim(trimmed.substr(0, end), kSpaces);
}

std::string Sentence(std::string_view where, std::string_view what, std::string_view command,
                     std::string_view advice) {
  std::string message = "haproxy ";
  message.append(where.empty() ? std::string_view("(unnamed instance)") : where);
  message.append(": ").append(what);
  message.append(" for '").append(Trim(command, kSpaces)).append("' — ").append(advice);
  return message;
}

}  // namespace

const char* ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kConnect: return "connect";
    case ErrorCode::kTimeout: return "timeout";
    case ErrorCode::kIo: return "io";
    case ErrorCode::kNoSuchBackend: return "no_such_backend";
    case ErrorCode::kNoSuchServer: return "no_such_server";
    case ErrorCode::kPermissionDenied: return "permission_denied";
    case ErrorCode::kUnknownCommand: return "unknown_command";
    case ErrorCode::kStaticAlgorithm: return "static_algorithm";
    case ErrorCode::kRejected: return "rejected";
    case ErrorCode::kParse: return "parse";
    case ErrorCode::kNotConfirmed: return "not_confirmed";
    case ErrorCode::kBadEndpoint: return "bad_endpoint";
  }
  return "unknown";
}

std::optional<Error> ClassifyReply(std::string_view where, std::string_view command,
                                   std::string_view reply) {
  const std::string_view trimmed = Trim(reply, kSpaces);
  if (trimmed.empty()) return std::nullopt;
  const std::string_view first = FirstLine(trimmed);
  for (const KnownReply& known : kKnownReplies) {
    if (first.starts_with(known.prefix)) {
      return Error{known.code, Sentence(where, known.what, command, known.advice)};
    }
  }
  if (first.starts_with("HTTP/")) {
    return Error{ErrorCode::kIo, Sentence(where, "an HTTP reply " + QuoteReplyText(first), command,
                                          "this is an HTTP port (the stats page?), not the runtime API: point "
                                          "`socket` at a `stats socket ... level admin`")};
  }
  if (std::any_of(first.begin(), first.end(), [](char c) {
        auto b = static_cast<unsigned char>(c);
        return b < 0x09 || b >= 0x7f;
      })) {
    return Error{ErrorCode::kIo, Sentence(where, "a binary reply " + QuoteReplyText(first), command,
                                          "this socket is not HAProxy's runtime API (a MySQL port?): point "
                                          "`socket` at a `stats socket ... level admin`")};
  }
  const std::string what = "error " + QuoteReplyText(first);
  return Error{ErrorCode::kRejected,
               Sentence(where, what, command, "HAProxy rejected the command; check its arguments")};
}

std::string_view Trim(std::string_view text, std::string_view blanks) {
  const auto first = text.find_first_not_of(blanks);
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(blanks);
  return text.substr(first, last - first + 1);
}

std::vector<std::string_view> ReplyLines(std::string_view reply) {
  std::vector<std::string_view> lines;
  while (!reply.empty()) {
    const auto end = reply.find('\n');
    std::string_view line = reply.substr(0, end);
    if (line.ends_with('\r')) line.remove_suffix(1);
    lines.push_back(line);
    if (end == std::string_view::npos) break;
    reply.remove_prefix(end + 1);
  }
  while (!lines.empty() && Trim(lines.back(), kSpaces).empty()) lines.pop_back();
  return lines;
}

std::string QuoteReplyText(std::string_view text) {
  constexpr size_t kMaxBytes = 80;
  std::string quoted = "\"";
  for (const char c : text.substr(0, kMaxBytes)) {
    const auto byte = static_cast<unsigned char>(c);
    quoted.push_back(byte >= 0x20 && byte < 0x7f ? c : '?');
  }
  if (text.size() > kMaxBytes) quoted.append("...");
  quoted.push_back('"');
  return quoted;
}

}  // namespace caretaker::haproxy
