#include "mysql/error.h"

#include <algorithm>
#include <string>

namespace caretaker::mysql {
namespace {

// Connector/C and server error numbers (errmsg.h, mysqld_error.h).
constexpr unsigned int kErDbAccessDenied = 1044;
constexpr unsigned int kErAccessDenied = 1045;
constexpr unsigned int kErTableAccessDenied = 1142;
constexpr unsigned int kErColumnAccessDenied = 1143;
constexpr unsigned int kErSpecificAccessDenied = 1227;
constexpr unsigned int kCrConnectionError = 2002;
constexpr unsigned int kCrConnHostError = 2003;
constexpr unsigned int kCrUnknownHost = 2005;
constexpr unsigned int kCrServerGone = 2006;
constexpr unsigned int kCrServerLost = 2013;
constexpr unsigned int kCrSslConnectionError = 2026;

bool Contains(std::string_view text, std::string_view part) { return text.find(part) != std::string_view::npos; }

// Connector/C reports a timeout as a lost connection or a failed connect with
// the system error ETIMEDOUT (110), e.g. "Lost connection to
// server at 'handshake: ...', system error: 110".
bool LooksLikeTimeout(std::string_view text) {
  return Contains(text, "system error: 110") || Contains(text, "(110)") || Contains(text, "timed out") ||
         Contains(text, "timeout");
}

std::string Upper(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::toupper(c); });
  return out;
}

std::string TlsAdvice(std::string_view text) {
  if (Contains(text, "does not support"))
    return "configure TLS on the server (ssl_cert, ssl_key) or disable TLS for it";
  return "check the CA file and that the server certificate matches the host";
}

Error Make(ErrorCode code, unsigned int errno_, std::string message) { return Error{code, errno_, std::move(message)}; }

}  // namespace

const char* ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kConnect: return "connect";
    case ErrorCode::kAccessDenied: return "access_denied";
    case ErrorCode::kMissingPrivilege: return "missing_privilege";
    case ErrorCode::kTimeout: return "timeout";
    case ErrorCode::kTls: return "tls";
    case ErrorCode::kQuery: return "query";
    case ErrorCode::kNotAReplica: return "not_a_replica";
    case ErrorCode::kBadOption: return "bad_option";
  }
  return "unknown";
}

std::string ShortText(const Error& error) {
  switch (error.code) {
    case ErrorCode::kConnect: return "unreachable";
    case ErrorCode::kTimeout: return "timed out";
    case ErrorCode::kAccessDenied: return "access denied";
    case ErrorCode::kMissingPrivilege:
      return error.message.find("REPLICA MONITOR") != std::string::npos ? "no REPLICA MONITOR" : "missing privilege";
    case ErrorCode::kTls: return "TLS error";
    case ErrorCode::kQuery: return "query failed";
    case ErrorCode::kNotAReplica: return "not a replica";
    case ErrorCode::kBadOption: return "bad option";
  }
  return "error";
}

bool IsConfigurationError(ErrorCode code) {
  return code == ErrorCode::kAccessDenied || code == ErrorCode::kMissingPrivilege || code == ErrorCode::kTls ||
         code == ErrorCode::kBadOption;
}

Error ReadTimedOut(std::string_view where, std::string_view doing, unsigned int errno_, std::chrono::seconds timeout) {
  return Make(ErrorCode::kTimeout, errno_,
              "MySQL " + std::string(where) + ": " + std::string(doing) + " failed: no reply within " +
                  std::to_string(timeout.count()) + "s (the read timeout) — is the server overloaded or hung?");
}

std::string NeededPrivilege(std::string_view text) {
  const std::string upper = Upper(text);
  if (Contains(upper, "SLAVE MONITOR") || Contains(upper, "REPLICA MONITOR") || Contains(upper, "REPLICATION CLIENT")) {
    return "REPLICA MONITOR (SLAVE MONITOR)";
  }
  // "... you need (at least one of) the X, Y privilege(s) for this operation"
  const size_t the = upper.find(" THE ");
  const size_t priv = upper.find(" PRIVILEGE");
  if (the != std::string::npos && priv != std::string::npos && priv > the + 5) {
    return std::string(text.substr(the + 5, priv - the - 5));
  }
  return "a privilege the server names (" + std::string(text) + ")";
}

Error ClassifyClientError(std::string_view where_sv, std::string_view user, std::string_view doing_sv,
                          unsigned int errno_, std::string_view text_sv) {
  const std::string where(where_sv), doing(doing_sv), text(text_sv);
  const std::string grantee = user.empty() ? "caretaker's user" : "user " + std::string(user);
  const std::string prefix = "MySQL " + where + ": " + doing + " failed";
  switch (errno_) {
    case kErAccessDenied:
      return Make(ErrorCode::kAccessDenied, errno_,
                  prefix + ": access denied (" + text + ") — check the user and the password file");
    case kErSpecificAccessDenied:
      return Make(ErrorCode::kMissingPrivilege, errno_,
                  prefix + ": " + NeededPrivilege(text) + " is needed — GRANT it to " + grantee + " (" + text + ")");
    case kErDbAccessDenied:
    case kErTableAccessDenied:
    case kErColumnAccessDenied:
      return Make(ErrorCode::kMissingPrivilege, errno_, prefix + ": " + text + " — GRANT SELECT on it to " + grantee);
    case kCrSslConnectionError:
      return Make(ErrorCode::kTls, errno_, prefix + ": TLS error (" + text + ") — " + TlsAdvice(text));
    default: break;
  }
  if (errno_ >= 2000 && LooksLikeTimeout(text)) {
    return Make(
        ErrorCode::kTimeout, errno_,
        prefix + ": timed out (" + text + ") — is the server overloaded or hung, or a firewall dropping packets?");
  }
  if (errno_ == kCrConnectionError || errno_ == kCrConnHostError || errno_ == kCrUnknownHost) {
    return Make(ErrorCode::kConnect, errno_,
                prefix + ": unreachable (" + text + ") — is mysqld running and listening on that address?");
  }
  if (errno_ == kCrServerGone || errno_ == kCrServerLost) {
    return Make(ErrorCode::kConnect, errno_,
                prefix + ": connection lost (" + text + ") — did the server restart or kill the session?");
  }
  return Make(ErrorCode::kQuery, errno_, prefix + ": " + text + " (error " + std::to_string(errno_) + ")");
}

}  // namespace caretaker::mysql
