// Expected failures in src/ are values: Result<T> holds a T or an Error whose
// message is one sentence for the person reading it, and whose code says what
// kind of failure it is. Only the CLI turns a code into an exit code
// (src/cli/exit_code.h); serve keeps the sentence with the job.
#pragma once

#include <boost/outcome/result.hpp>
#include <string>

namespace caretaker {

enum class ErrorKind {
  kFailed,   // something failed on the way (a server, the disk): exit 1
  kUsage,    // bad input or a configuration that cannot work: exit 2
  kRefused,  // a safety rule said no (capacity, a lock, a halt): exit 3
  kNotFound, // what was named does not exist (a job id): exit 2, as bad input
};

struct Error {
  std::string message;
  ErrorKind code = ErrorKind::kFailed;
};

template <class T, class E = Error>
using Result = boost::outcome_v2::result<T, E, boost::outcome_v2::policy::terminate>;

}  // namespace caretaker
