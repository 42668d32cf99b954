// Running a task's steps: the command line of a step for one member (pure),
// and the StepRunner interface that runs it (a real one that starts
// processes, and fakes in tests).
//
// Contract of a run: the command starts in its own process group with stdin
// from /dev/null and stdout+stderr merged into one pipe; every output line
// goes to `on_line` as it arrives (without its newline; a last line without
// one too). The run ends when the process exits: a non-zero exit, a signal,
// or the timeout (which kills the whole process group: SIGTERM, then SIGKILL
// after 2 s) is a failure. Output still arriving from daemons the step
// started in the background is not waited for.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "src/config/config.h"

namespace caretaker {

// A step made concrete for one member of a pool.
struct StepCommand {
  std::vector<std::string> argv;  // what is executed: [sh, -c, ...] or [ssh, ..., --, ...]
  std::string display;            // for people (plan, logs): the command as run on the host
};

// Substitutes {host} {port} {server} {pool} (see StepConfig) and, for ssh,
// wraps it as `ssh -p PORT -o BatchMode=yes [options] -- [user@]host CMD`,
// where an argv step's elements are shell-quoted (the remote side runs them
// through its shell). The "--" goes before the host: after it, a host
// starting with "-" ("-oProxyCommand=...") would be read as an option. An
// unknown placeholder like "{hots}" is left as it is (the config loader
// refuses it).
StepCommand ExpandStep(const TaskConfig& task, const StepConfig& step, const PoolConfig& pool,
                       const MemberConfig& member);

// `text` as one word for sh: unchanged when it is made of safe characters
// only, else in single quotes ('it'\''s').
std::string ShellQuote(std::string_view text);

struct StepResult {
  enum class Outcome {
    kSucceeded,    // exit 0
    kExited,       // a non-zero exit code
    kSignaled,     // killed by a signal it did not get from us
    kTimedOut,     // ran past its timeout; its process group was killed
    kCancelled,    // CancelAll(): its process group was killed
    kCannotStart,  // fork/exec failed (e.g. no such program): `error` says why
  };
  Outcome outcome = Outcome::kSucceeded;
  int exit_code = 0;  // kExited
  int signal = 0;     // kSignaled
  std::chrono::milliseconds took{0};
  std::string error;               // kCannotStart
  std::vector<std::string> tail;   // the last lines of output (at most kTailLines)

  static constexpr size_t kTailLines = 20;
  bool ok() const { return outcome == Outcome::kSucceeded; }
  // "exit code 1", "killed by signal 9 (SIGKILL)", "timed out after 5m", ...
  std::string Describe(std::chrono::milliseconds timeout) const;
};

class StepRunner {
 public:
  virtual ~StepRunner() = default;
  // Runs `command` (see the contract above); never throws for a failed step.
  virtual boost::asio::awaitable<StepResult> Run(const StepCommand& command, std::chrono::milliseconds timeout,
                                                 std::function<void(std::string_view line)> on_line) = 0;
  // Kills the process group of every run in progress (they end kCancelled).
  virtual void CancelAll() = 0;
};

// Starts real processes on `executor`'s event loop (never blocking it).
std::unique_ptr<StepRunner> MakeProcessStepRunner(boost::asio::any_io_executor executor);

}  // namespace caretaker
