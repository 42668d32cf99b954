// HAProxy's plain-text error replies, mapped to typed errors.
//
// Commands that change state (`set server`, `shutdown sessions`) answer with an
// empty line on success and a sentence on failure. HAProxy never sets a status
// code, so the text is all there is.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "haproxy/error.h"

namespace caretaker::haproxy {

// Returns nothing when `reply` is a success (empty or only whitespace), else
// the typed error. `where` names the instance and socket ("lb1 (unix:/run/...)")
// and `command` is the command line sent; both go into the message, which says
// what to fix, e.g. for "Permission denied":
//   "haproxy lb1 (unix:/run/haproxy/oper.sock): permission denied for 'set server
//    replicas/db1 state drain' — the stats socket needs 'level admin'".
// "No such backend.", "Can't find backend." (show servers state) and "No such
// proxy." (show stat) are kNoSuchBackend; "No such server." kNoSuchServer;
// "Permission denied" kPermissionDenied; "Unknown command..." kUnknownCommand;
// any other text kRejected, quoting HAProxy's first line.
std::optional<Error> ClassifyReply(std::string_view where, std::string_view command,
                                   std::string_view reply);

// Helpers shared by the reply parsers (stat.cc, servers_state.cc, info.cc).

// `text` without the bytes of `blanks` at either end. Each caller passes what
// its format treats as blank: " " in `show stat` and `show servers state`,
// " \t" in `show info`, " \t\r\n" around a whole reply.
std::string_view Trim(std::string_view text, std::string_view blanks);

// The lines of `reply` without their ends ("\n" or "\r\n"); the trailing empty
// lines (HAProxy ends every reply with one) are dropped. Element i is line i+1,
// so parsers quote 1-based line numbers.
std::vector<std::string_view> ReplyLines(std::string_view reply);

// `text` in double quotes for an error message: cut after 80 bytes ("..."),
// control and non-ASCII bytes shown as '?', so garbage stays one short line.
std::string QuoteReplyText(std::string_view text);

}  // namespace caretaker::haproxy
