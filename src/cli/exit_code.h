// The exit codes of the CLI (main.cc documents them), and the one mapping
// from an error's code to them.
#pragma once

#include <ostream>

#include "src/base/result.h"

namespace caretaker {

constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;
constexpr int kExitRefused = 3;

constexpr int ExitCode(ErrorKind code) {
  switch (code) {
    case ErrorKind::kUsage:
    case ErrorKind::kNotFound: return kExitUsage;
    case ErrorKind::kRefused: return kExitRefused;
    case ErrorKind::kFailed: return kExitFailed;
  }
  return kExitFailed;
}

// Says `error` on `err` ("caretaker: <sentence>") and returns its exit code.
inline int Report(std::ostream& err, const Error& error) {
  err << "caretaker: " << error.message << "\n";
  return ExitCode(error.code);
}

}  // namespace caretaker
