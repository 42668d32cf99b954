// Overhead against the ideal: 60 servers on a real HAProxy, walked by
// `caretaker roll` with max_out 6 through a task of one 1 s step, every gate
// off. The ideal makespan is 10 waves x 1 s; whatever caretaker adds (drain,
// sessions poll, MAINT, journal writes, READY and its confirmation, starting
// the process, reading live state) shows as the ratio to it.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

#include "tests/bench/bench.h"
#include "tests/bench/fleet.h"

namespace caretaker::bench {
namespace {

constexpr int kServers = 60;
constexpr int kMaxOut = 6;
constexpr double kStepSeconds = 1.0;
constexpr int kRuns = 3;

int Main() {
  std::printf("overhead: %d servers on a real HAProxy, max_out %d, a %.0f s step, gates off\n", kServers, kMaxOut,
              kStepSeconds);
  FleetOptions options;
  options.servers_per_backend = kServers;
  auto fleet = Fleet::Start(options);
  std::string extra = "[defaults]\nmax_out = " + std::to_string(kMaxOut) +
                      "\n\n[defaults.drain]\npoll_interval = \"20ms\"\n";
  // The step as argv (no shell in between): the 1 s is sleep's own.
  std::string config = fleet->WriteConfig("caretaker.toml", "[\"sleep\", \"1\"]", extra);
  std::vector<std::string> args = {"-c", config, "roll", "--pool", "b001", "--task", "step", "--yes"};
  if (std::getenv("CARETAKER_BENCH_VERBOSE")) args.insert(args.begin(), {"--log-level", "debug", "--log-format", "json"});
  // Three walks (each walks all 60 again: a finished job leaves nothing
  // behind); the median counts, all three are printed.
  std::vector<Timed> runs;
  for (int i = 0; i < kRuns; ++i) {
    std::printf("  walk %d of %d ...\n", i + 1, kRuns);
    runs.push_back(RunCaretaker(args, fleet->dir()));
    Require(runs.back(), "caretaker roll");
    if (std::getenv("CARETAKER_BENCH_VERBOSE")) std::printf("%s%s", runs.back().out.c_str(), runs.back().err.c_str());
  }
  std::vector<double> seconds;
  std::string all;
  for (const Timed& t : runs) {
    seconds.push_back(t.seconds);
    all += (all.empty() ? "" : ", ") + Fixed(t.seconds, 2);
  }
  std::sort(seconds.begin(), seconds.end());
  double median = seconds[seconds.size() / 2];
  double ideal = (kServers / kMaxOut) * kStepSeconds;
  double ratio = median / ideal;
  Report({"overhead", "makespan, roll command start to exit (median of 3: " + all + " s)", Fixed(median, 2) + " s",
          "", {}});
  Report({"overhead", "ideal makespan (10 waves x 1 s)", Fixed(ideal, 2) + " s", "", {}});
  Report({"overhead", "ratio to the ideal (gates off, no sessions, no health checks)", Fixed(ratio, 3), "<= 1.05",
          ratio <= 1.05});
  // Each of the max_out slots walks servers/max_out members one after another.
  double per_member = (median - ideal) / (kServers / kMaxOut) * 1000;
  Report({"overhead", "time caretaker adds per member (drain, MAINT, journal, READY, UP)", Fixed(per_member, 0) + " ms",
          "", {}});
  Report({"overhead", "peak RSS of caretaker roll", std::to_string(runs.front().peak_rss_kib / 1024) + " MiB", "", {}});
  return 0;
}

}  // namespace
}  // namespace caretaker::bench

int main() { return caretaker::bench::Guarded("bench_overhead", caretaker::bench::Main); }
