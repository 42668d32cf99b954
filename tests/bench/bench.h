// What every benchmark of tests/bench/ shares: reporting a figure (printed,
// and appended to the table `make bench` writes) and running the caretaker
// binary timed, with its peak memory.
//
// Benchmarks are not tests: they print what they measured beside its target
// and exit 0 even when a target is missed (the table says so); they exit 1
// only when they could not measure (a command failed, a server did not start).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace caretaker::sandbox {
class Sandbox;
}

namespace caretaker::bench {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::duration d);

// One measured figure. `met` is empty when the figure has no target (a floor
// printed for comparison, a count).
struct Figure {
  std::string bench;   // "overhead", "scale", ...
  std::string what;    // "makespan of 60 servers, max_out 6, 1 s step"
  std::string value;   // "10.21 s"
  std::string target;  // "<= 10.5 s" or "" (no target)
  std::optional<bool> met;
};

// Prints `figure` on stdout and appends it as a tab-separated row to the file
// named by $CARETAKER_BENCH_TABLE (when set; tools/bench sets it).
void Report(const Figure& figure);

// "1.234" with `digits` decimals.
std::string Fixed(double value, int digits);

struct Timed {
  int exit_code = -1;      // 128 + N if signal N killed it
  double seconds = 0;      // wall time, spawn to exit
  long peak_rss_kib = 0;   // ru_maxrss of the process
  double cpu_seconds = 0;  // user + system time of the process
  std::string out;         // stdout
  std::string err;         // stderr
};

// Runs argv (stdin /dev/null, `env` added to the environment, stdout to
// `out_path`, stderr to `err_path`: the same path for both is fine), waits
// for it and returns its wall time, exit status, peak RSS and output (`err`
// empty when both went to one file). It gets Ctrl-C with the bench.
Timed RunTimed(const std::vector<std::string>& argv, const std::vector<std::string>& env,
               const std::string& out_path, const std::string& err_path);

// Runs the caretaker binary with `args` (stdin /dev/null), waits for it and
// returns its wall time, exit status, peak RSS and output. `log_dir` holds the
// captured output files. $CARETAKER_BENCH_PREFIX, when set, is a command
// (split at spaces) run with caretaker's command line after it, for
// profiling: CARETAKER_BENCH_PREFIX="perf record -g -o /tmp/roll.data".
Timed RunCaretaker(const std::vector<std::string>& args, const std::string& log_dir);

// A bench program's main: runs `body`; an exception (it could not measure)
// is printed as "<name>: <what>" and is exit 1.
int Guarded(const char* name, int (*body)());

// The path of the caretaker binary under test.
const char* CaretakerBin();

// srv_admin_state of `server` in the sandbox's backend `replicas` on
// HAProxy instance i (0: in; 8 bit: drain; 1 bit: maint).
int AdminState(const sandbox::Sandbox& sb, size_t i, const std::string& server);

// Throws std::runtime_error("<what>: exit N: <stderr tail>") unless exit 0.
void Require(const Timed& run, const std::string& what);

}  // namespace caretaker::bench
