// Errors of the capacity policies, as values.
//
// A limit that does not parse or a policy that can never work comes back as an
// Error whose message is one sentence naming the text or the pool; the caller
// (config loading, `caretaker check`) adds the file, line and key path.
#pragma once

#include <boost/outcome/result.hpp>
#include <string>

namespace caretaker::policies {

enum class ErrorCode {
  kBadLimit,   // a min_in_service / max_out text that is not "3" or "75%"
  kBadPolicy,  // a policy that never lets a member out, or lets the whole pool out
};

struct Error {
  ErrorCode code;
  std::string message;  // one sentence: what is wrong, on what, what to do
};

template <class T>
using Result = boost::outcome_v2::result<T, Error, boost::outcome_v2::policy::terminate>;
using Status = Result<void>;

inline Status Ok() { return boost::outcome_v2::success(); }

}  // namespace caretaker::policies
