// Errors of MySQL/MariaDB probes, as values.
//
// Every failure a caller can expect (a server that does not answer, a wrong
// password, a missing privilege, a server that is not a replica) comes back as
// an Error: a code to branch on, the client library's errno, and one sentence
// that names host:port and says what to do.
#pragma once

#include <boost/outcome/result.hpp>
#include <chrono>
#include <string>
#include <string_view>

namespace caretaker::mysql {

enum class ErrorCode {
  kConnect,           // the server is unreachable (refused, no route, unknown host)
  kAccessDenied,      // wrong user or password (1045)
  kMissingPrivilege,  // the account lacks a privilege for a statement (1227, 1142, ...)
  kTimeout,           // connect, read or write took longer than its timeout
  kTls,               // TLS could not be set up or the server certificate was refused
  kQuery,             // a statement failed or returned something unexpected
  kNotAReplica,       // SHOW SLAVE/REPLICA STATUS returned no row
  kBadOption,         // a target the library cannot use (bad table name, ...)
};

// Short stable name ("access_denied"), for JSON output and logs.
const char* ErrorCodeName(ErrorCode code);

// Whether the error lies in caretaker's own configuration — its account, a
// privilege, TLS, an option — so the server did answer. Every other error
// (refused, unreachable, timed out, connection lost, a statement the server
// failed) means the server could not be read: unknown, which is never healthy.
bool IsConfigurationError(ErrorCode code);

struct Error {
  ErrorCode code;
  unsigned int errno_ = 0;  // mysql_errno(), 0 when the error is caretaker's own
  std::string message;      // one sentence: what failed, on what, what to do
};

template <class T>
using Result = boost::outcome_v2::result<T, Error, boost::outcome_v2::policy::terminate>;
using Status = Result<void>;

inline Status Ok() { return boost::outcome_v2::success(); }

// A few words for a table cell or a wait line: "unreachable", "timed out",
// "access denied", "no REPLICA MONITOR", "missing privilege", "not a
// replica", ...
std::string ShortText(const Error& error);

// Turns a Connector/C failure into an Error. `where` is "host:port", `user`
// the account (named in GRANT advice); `doing` says what was attempted
// ("connecting as caretaker", "running SHOW SLAVE STATUS"); `errno_` and
// `text` are mysql_errno() and mysql_error(). Pure.
Error ClassifyClientError(std::string_view where, std::string_view user, std::string_view doing, unsigned int errno_,
                          std::string_view text);

// A lost connection (2013) after the whole read timeout had passed is the
// timeout itself: Connector/C does not say so. Pure.
Error ReadTimedOut(std::string_view where, std::string_view doing, unsigned int errno_, std::chrono::seconds timeout);

// The privilege a 1227 message asks for, phrased for a person:
// "... you need (at least one of) the SUPER, SLAVE MONITOR privilege(s) ..."
// -> "REPLICA MONITOR (SLAVE MONITOR)". Falls back to the server's own list. Pure.
std::string NeededPrivilege(std::string_view text);

}  // namespace caretaker::mysql
