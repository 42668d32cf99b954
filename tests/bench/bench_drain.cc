// Drain detection: how soon after the last client session of a draining
// server closes does caretaker notice and move on? A MySQL session through
// lb1 holds a sandbox replica; `caretaker maint start` drains it and waits;
// the session closes at t0; t1 is when HAProxy shows the server in MAINT
// (polled every millisecond on the admin socket), i.e. caretaker noticed the
// 0 sessions, wrote its journal record and sent `set server ... state maint`.
// With the default drain poll_interval (100 ms). Repeated; median and max.
#include <algorithm>
#include <cstdio>
#include <exception>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/bench/bench.h"
#include "tests/sandbox/files.h"
#include "tests/sandbox/mysql_session.h"
#include "tests/sandbox/process.h"
#include "tests/sandbox/sandbox.h"

namespace caretaker::bench {
namespace {

constexpr int kRounds = 10;

// The sandbox's config with the product's default drain poll interval.
std::string DefaultPollConfig(const sandbox::Sandbox& sb) {
  std::string toml = sandbox::ReadFile(sb.config_path());
  const std::string from = "poll_interval = \"50ms\"\n";
  if (size_t at = toml.find(from); at != std::string::npos) toml.erase(at, from.size());
  std::string path = sb.dir() + "/bench-drain.toml";
  sandbox::WriteFile(path, toml);
  return path;
}

double OneRound(const sandbox::Sandbox& sb, const std::string& config, int round) {
  sandbox::MysqlSession session;
  uint16_t port = session.Open(sb.haproxies()[0].frontend_port, sb.mysql_password()) ? session.QueryPort() : 0;
  if (port == 0) throw std::runtime_error("a session through lb1: " + session.error());
  std::string server;
  for (const auto& r : sb.replicas()) {
    if (r.port == port) server = r.name;
  }
  sandbox::SpawnOptions spawn;
  spawn.argv = {CaretakerBin(), "-c", config, "maint", "start", server, "--reason", "bench " + std::to_string(round)};
  pid_t pid = sandbox::Spawn(spawn);
  // Drained on both instances, then long enough that caretaker is polling.
  for (auto since = Clock::now(); AdminState(sb, 0, server) != 8 || AdminState(sb, 1, server) != 8;) {
    if (sandbox::PeekExit(pid) || Seconds(Clock::now() - since) > 30) {
      throw std::runtime_error("caretaker maint start " + server + " never drained it");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300 + 37 * round));  // not in step with the poll
  auto t0 = Clock::now();
  session.Close();
  while ((AdminState(sb, 0, server) & 1) == 0) {
    if (Seconds(Clock::now() - t0) > 30) throw std::runtime_error("caretaker never set " + server + " to MAINT");
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  double noticed = Seconds(Clock::now() - t0);
  auto status = sandbox::WaitExit(pid, std::chrono::seconds(30));
  if (!status || sandbox::ShellExitCode(*status) != 0) throw std::runtime_error("caretaker maint start failed");
  Timed stop = RunCaretaker({"-c", config, "maint", "stop", server}, sb.dir());
  Require(stop, "caretaker maint stop " + server);
  sb.WaitAllUp(std::chrono::seconds(30));
  return noticed;
}

int Main() {
  std::printf("drain: last session closed -> MAINT on HAProxy, %d rounds, default poll_interval 100ms\n", kRounds);
  auto sb = sandbox::Sandbox::Start(sandbox::Options{});
  std::string config = DefaultPollConfig(*sb);
  std::vector<double> times;
  for (int i = 0; i < kRounds; ++i) times.push_back(OneRound(*sb, config, i));
  std::sort(times.begin(), times.end());
  double median = times[times.size() / 2], max = times.back();
  Report({"drain", "last session closed -> noticed (MAINT set), median", Fixed(median * 1000, 0) + " ms", "< 200 ms",
          median < 0.2});
  Report({"drain", "last session closed -> noticed (MAINT set), max", Fixed(max * 1000, 0) + " ms", "< 200 ms",
          max < 0.2});
  return 0;
}

}  // namespace
}  // namespace caretaker::bench

int main() { return caretaker::bench::Guarded("bench_drain", caretaker::bench::Main); }
