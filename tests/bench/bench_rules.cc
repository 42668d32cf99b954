// Rules at scale: one evaluation of a rule over 10,000 members in 500 pools
// on 4 real HAProxy instances, with the built-in probe source on HAProxy's
// health check (`check is down`: no MySQL). Measured as the whole command
// `caretaker rules test NAME --json` (config, the records, every pool's
// HAProxy read, the source, the engine's decisions and every guard), beside
// HAProxy's own floor (the four `show stat` dumps read at once), and
// caretaker's peak RSS. Not measured here yet: the reaction time from `for`
// to the drain (the fleet's servers have no check to fail).
#include <algorithm>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "tests/bench/bench.h"
#include "tests/bench/fleet.h"

namespace caretaker::bench {
namespace {

constexpr int kInstances = 4;
constexpr int kBackends = 500;
constexpr int kServersPerBackend = 20;
constexpr int kRuns = 3;

double HaproxyFloor(const Fleet& fleet) {
  auto start = Clock::now();
  std::vector<std::thread> readers;
  for (size_t i = 0; i < kInstances; ++i) {
    readers.emplace_back([&, i] { (void)fleet.Command(i, "show stat -1 4 -1"); });
  }
  for (auto& t : readers) t.join();
  return Seconds(Clock::now() - start);
}

int Main() {
  std::printf("rules: one evaluation over %d members in %d pools on %d real HAProxy instances (best of %d runs)\n",
              kBackends * kServersPerBackend, kBackends, kInstances, kRuns);
  FleetOptions options;
  options.instances = kInstances;
  options.backends = kBackends;
  options.servers_per_backend = kServersPerBackend;
  auto fleet = Fleet::Start(options);
  const std::string config = fleet->WriteConfig(
      "caretaker.toml", "[\"true\"]", "[[rules]]\nname = \"down\"\nwhen = \"check is down\"\nfor = \"30s\"\n");
  double floor = HaproxyFloor(*fleet);
  for (int i = 1; i < kRuns; ++i) floor = std::min(floor, HaproxyFloor(*fleet));
  Timed best;
  long peak = 0;
  for (int i = 0; i < kRuns; ++i) {
    Timed run = RunCaretaker({"-c", config, "rules", "test", "down", "--json"}, fleet->dir());
    Require(run, "caretaker rules test");
    peak = std::max(peak, run.peak_rss_kib);
    if (i == 0 || run.seconds < best.seconds) best = run;
  }
  Report({"rules", "one evaluation of 10,000 members, 500 pools (whole command: rules test --json)",
          Fixed(best.seconds, 3) + " s", "< 1 s", best.seconds < 1.0});
  Report({"rules", "floor: HAProxy's own show stat dumps, 4 at once", Fixed(floor, 3) + " s", "", {}});
  Report({"rules", "peak RSS of caretaker (rules test)", Fixed(peak / 1024.0, 1) + " MiB", "< 64 MiB",
          peak < 64 * 1024});
  std::printf("  (rules test --json wrote %zu bytes)\n", best.out.size());
  return 0;
}

}  // namespace
}  // namespace caretaker::bench

int main() { return caretaker::bench::Guarded("bench_rules", caretaker::bench::Main); }
