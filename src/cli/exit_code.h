// The exit codes of the CLI (main.cc documents them), and the one mapping
// from an error's code to them.
#pragma once

#include "src/base/result.h"

namespace caretaker {

constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;
constexpr int kExitRefused = 3;

constexpr int ExitCode(ErrorKind code) {
  switch (code) {
    case ErrorKind::kUsage: return kExitUsage;
    case ErrorKind::kRefused: return kExitRefused;
    case ErrorKind::kFailed: return kExitFailed;
  }
  return kExitFailed;
}

}  // namespace caretaker
