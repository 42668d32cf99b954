// Probe fan-out: 1,000 MySQL lag probes against the sandbox's replicas, all
// started at once on one event loop, through what caretaker uses (the
// RealReplicaProbe on a BlockingPool of its default size): each probe
// connects, reads the version, SHOW SLAVE STATUS and the buffer-pool load,
// and disconnects. Prints the wall time and the threads the process ran.
#include <dirent.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <cstdio>
#include <exception>
#include <string>
#include <thread>

#include "mysql/pool.h"
#include "mysql/probe.h"
#include "tests/bench/bench.h"
#include "tests/sandbox/sandbox.h"

namespace caretaker::bench {
namespace {

constexpr int kProbes = 1000;

size_t ThreadsNow() {
  size_t n = 0;
  if (DIR* d = ::opendir("/proc/self/task")) {
    while (const dirent* e = ::readdir(d)) n += e->d_name[0] != '.';
    ::closedir(d);
  }
  return n;
}

struct Tally {
  int ok = 0;
  int failed = 0;
  std::string first_error;
};

// A coroutine of its own (not a capturing lambda: its frame would outlive the
// lambda object).
boost::asio::awaitable<void> ProbeOnce(mysql::ReplicaProbe& probe, mysql::Target target, Tally& tally) {
  auto result = co_await probe.Probe(std::move(target), {});
  if (result && result.value().io_thread == mysql::ThreadState::kYes) {
    ++tally.ok;
  } else if (tally.failed++ == 0) {
    tally.first_error = result ? "replication not running" : result.error().message;
  }
}

int Main() {
  std::printf("probes: %d MySQL lag probes against the sandbox's 3 replicas, at once\n", kProbes);
  sandbox::Options options;
  auto sb = sandbox::Sandbox::Start(options);
  std::vector<mysql::Target> targets;
  for (const auto& r : sb->replicas()) {
    mysql::Target t;
    t.port = r.port;
    t.user = "caretaker";
    t.password = sb->mysql_password();
    targets.push_back(t);
  }
  boost::asio::io_context io;
  mysql::BlockingPool pool;  // caretaker's default size
  mysql::RealReplicaProbe probe(pool);
  Tally tally;  // touched by the event loop's thread only
  std::atomic<size_t> peak_threads{ThreadsNow()};
  std::atomic<bool> done{false};
  std::thread counter([&] {
    while (!done) {
      peak_threads = std::max(peak_threads.load(), ThreadsNow());
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  auto start = Clock::now();
  for (int i = 0; i < kProbes; ++i) {
    boost::asio::co_spawn(io, ProbeOnce(probe, targets[static_cast<size_t>(i) % targets.size()], tally),
                          boost::asio::detached);
  }
  io.run();
  double seconds = Seconds(Clock::now() - start);
  done = true;
  counter.join();
  if (tally.failed > 0) {
    throw std::runtime_error(std::to_string(tally.failed) + " probes failed; first: " + tally.first_error);
  }
  // The bench's own threads: main and the counter; the rest are the pool's.
  Report({"probes", "1,000 lag probes (3 replicas on loopback, caretaker's probe code), wall time",
          Fixed(seconds, 3) + " s", "< 2 s", seconds < 2.0});
  Report({"probes", "MySQL threads (BlockingPool)", std::to_string(pool.size()), "", {}});
  // The bench's own threads: main and the counter.
  Report({"probes", "threads probing at peak (the process's, less the bench's 2)",
          std::to_string(peak_threads.load() - 2), "", {}});
  Report({"probes", "probes per second", Fixed(kProbes / seconds, 0), "", {}});
  return 0;
}

}  // namespace
}  // namespace caretaker::bench

int main() { return caretaker::bench::Guarded("bench_probes", caretaker::bench::Main); }
