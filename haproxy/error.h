// Errors of the HAProxy runtime API, as values.
//
// Every failure that a caller can expect (an instance that does not answer, a
// backend that does not exist, a socket without admin level) comes back as an
// Error with a code to branch on and a sentence for the person reading it.
#pragma once

#include <boost/outcome/result.hpp>
#include <string>

namespace caretaker::haproxy {

enum class ErrorCode {
  kConnect,           // could not connect to the socket
  kTimeout,           // connect or reply took longer than its timeout
  kIo,                // the connection broke while reading or writing
  kNoSuchBackend,     // "No such backend."
  kNoSuchServer,      // "No such server."
  kPermissionDenied,  // "Permission denied": the socket is not 'level admin'
  kUnknownCommand,    // "Unknown command...": HAProxy too old, or a typo
  kStaticAlgorithm,   // a weight other than 0% or 100% on a static balance algorithm
  kRejected,          // any other error reply (bad argument, range, ...)
  kParse,             // a reply we could not parse
  kNotConfirmed,      // a change was accepted but a re-read does not show it
  kBadEndpoint,       // a socket address that is not unix:/path or tcp:host:port
};

// Short stable name ("no_such_backend"), for JSON output and logs.
const char* ErrorCodeName(ErrorCode code);

struct Error {
  ErrorCode code;
  std::string message;  // one sentence: what failed, on what, what to do
};

template <class T>
using Result = boost::outcome_v2::result<T, Error, boost::outcome_v2::policy::terminate>;
using Status = Result<void>;

inline Status Ok() { return boost::outcome_v2::success(); }

}  // namespace caretaker::haproxy
