// Scale: 10,000 servers in 500 backends on 4 real HAProxy instances, one pool
// per backend. Measures a full status snapshot (`caretaker status --no-mysql`,
// the whole command: config, every instance read, merged, rendered) beside
// HAProxy's own floor (the four `show stat` dumps, read at once), the plan of
// all 500 pools (`caretaker plan`), and caretaker's peak RSS over both.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
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
constexpr int kRuns = 3;  // each command runs this often; the best time counts

// The four instances' `show stat` read at once, as caretaker reads them.
double HaproxyFloor(const Fleet& fleet) {
  auto start = Clock::now();
  std::vector<std::thread> readers;
  std::vector<size_t> bytes(kInstances);
  for (size_t i = 0; i < kInstances; ++i) {
    readers.emplace_back([&, i] { bytes[i] = fleet.Command(i, "show stat -1 4 -1").size(); });
  }
  for (auto& t : readers) t.join();
  return Seconds(Clock::now() - start);
}

std::string Join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ",") + n;
  return out;
}

Timed Best(const std::vector<std::string>& args, const Fleet& fleet, const std::string& what, long& peak_kib) {
  Timed best;
  for (int i = 0; i < kRuns; ++i) {
    Timed run = RunCaretaker(args, fleet.dir());
    Require(run, what);
    peak_kib = std::max(peak_kib, run.peak_rss_kib);
    if (i == 0 || run.seconds < best.seconds) best = run;
  }
  return best;
}

int Main() {
  std::printf("scale: %d servers in %d backends on %d real HAProxy instances (best of %d runs)\n",
              kBackends * kServersPerBackend, kBackends, kInstances, kRuns);
  FleetOptions options;
  options.instances = kInstances;
  options.backends = kBackends;
  options.servers_per_backend = kServersPerBackend;
  auto fleet = Fleet::Start(options);
  std::string config = fleet->WriteConfig("caretaker.toml", "[\"true\"]", "");
  if (const char* hold = std::getenv("CARETAKER_BENCH_HOLD"); hold && *hold) {
    // For profiling by hand: the fleet stays up until the bench is killed.
    std::printf("holding: caretaker -c %s ...\n", config.c_str());
    std::fflush(stdout);
    for (;;) std::this_thread::sleep_for(std::chrono::seconds(60));
  }
  double floor = HaproxyFloor(*fleet);
  for (int i = 1; i < kRuns; ++i) floor = std::min(floor, HaproxyFloor(*fleet));
  long peak = 0;
  Timed status = Best({"-c", config, "status", "--no-mysql", "--json"}, *fleet, "caretaker status", peak);
  Timed plan = Best({"-c", config, "plan", "--pool", Join(fleet->backend_names()), "--task", "step", "--json"},
                    *fleet, "caretaker plan", peak);
  Report({"scale", "status --no-mysql --json of 10,000 servers, 4 instances (whole command)",
          Fixed(status.seconds, 3) + " s",
          "< 1 s", status.seconds < 1.0});
  Report({"scale", "floor: HAProxy's own show stat dumps, 4 at once", Fixed(floor, 3) + " s", "", {}});
  Report({"scale", "plan of all 500 pools (whole command; gates off: HAProxy only)", Fixed(plan.seconds, 3) + " s",
          "", {}});
  Report({"scale", "peak RSS of caretaker (status, plan)", Fixed(peak / 1024.0, 1) + " MiB", "< 64 MiB",
          peak < 64 * 1024});
  std::printf("  (status --json wrote %zu bytes; plan --json %zu bytes)\n", status.out.size(), plan.out.size());
  return 0;
}

}  // namespace
}  // namespace caretaker::bench

int main() { return caretaker::bench::Guarded("bench_scale", caretaker::bench::Main); }
