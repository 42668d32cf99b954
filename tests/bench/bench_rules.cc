// Rules at scale: one evaluation of a rule over 10,000 members in 500 pools
// on 4 real HAProxy instances, with the built-in probe source on HAProxy's
// health check (`check is down`: no MySQL). Measured as the whole command
// `caretaker rules test NAME --json` (config, the records, every pool's
// HAProxy read, the source, the engine's decisions and every guard), beside
// HAProxy's own floor (the four `show stat` dumps read at once), and
// caretaker's CPU time and peak RSS.
//
// Reaction time, on the real sandbox: `caretaker serve` with a rule on
// stopped replication (`for` 2.5 s, interval 1 s); db2's SQL thread is
// stopped at t0; serve logs the member pending at tp; the drain is seen on
// lb1 at t1 (its admin state polled every millisecond). Reaction = t1 - (tp
// + `for`): how long past `for` the drain was sent. Repeated; median, max.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/bench/bench.h"
#include "tests/bench/fleet.h"
#include "tests/sandbox/files.h"
#include "tests/sandbox/process.h"
#include "tests/sandbox/prometheus.h"
#include "tests/sandbox/sandbox.h"

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

constexpr int kReactionRounds = 5;
constexpr double kFor = 2.5;  // not a multiple of the interval: the evaluation is due at `for`

using Wall = std::chrono::system_clock;

// The log lines of `path` (serve's JSON log) that contain every one of `parts`.
std::vector<std::string> LogLines(const std::string& path, const std::vector<std::string>& parts) {
  std::vector<std::string> lines;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    if (std::all_of(parts.begin(), parts.end(), [&](const std::string& p) { return line.find(p) != std::string::npos; })) {
      lines.push_back(line);
    }
  }
  return lines;
}

// The "ts" of a JSON log line ("2026-12-04T10:00:00.123Z") as wall time.
Wall::time_point TimeOf(const std::string& line) {
  const size_t at = line.find("\"ts\":\"");
  if (at == std::string::npos) throw std::runtime_error("a log line without ts: " + line);
  std::tm tm{};
  int ms = 0;
  if (std::sscanf(line.c_str() + at + 6, "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                  &tm.tm_min, &tm.tm_sec, &ms) != 7) {
    throw std::runtime_error("a log line whose ts cannot be read: " + line);
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return Wall::from_time_t(timegm(&tm)) + std::chrono::milliseconds(ms);
}

// Waits until `path` has `count` lines with every one of `parts`.
void WaitLines(const std::string& path, const std::vector<std::string>& parts, size_t count, pid_t serve,
               const std::string& what) {
  for (auto since = Clock::now(); LogLines(path, parts).size() < count;) {
    if (sandbox::PeekExit(serve)) throw std::runtime_error("caretaker serve exited while waiting for " + what);
    if (Seconds(Clock::now() - since) > 60) throw std::runtime_error("caretaker serve never logged " + what);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// One cycle in `caretaker serve` itself (its rule.evaluated lines, debug
// level: the reads, the source, the decisions, the status written), best
// of `cycles`.
double ServeCycle(const std::string& config, const std::string& dir, int cycles, const std::string& name) {
  // A log of its own per measurement: the lines of an earlier serve must not count.
  const std::string log = dir + "/bench-rules-cycle-" + name + ".log";
  sandbox::ScopedFd fd(sandbox::OpenLog(log));
  sandbox::SpawnOptions spawn;
  spawn.argv = {CaretakerBin(), "-c", config, "--log-format", "json", "--log-level", "debug", "serve"};
  spawn.stderr_fd = fd.get();
  spawn.stdout_fd = fd.get();
  const pid_t serve = sandbox::Spawn(spawn);
  fd.Reset();
  double best = 0;
  try {
    WaitLines(log, {"\"rule.evaluated\""}, cycles, serve, "rule.evaluated");
    for (const std::string& line : LogLines(log, {"\"rule.evaluated\""})) {
      const size_t at = line.find("\"took_ms\":");
      if (at == std::string::npos) throw std::runtime_error("rule.evaluated without took_ms: " + line);
      const double took = std::stod(line.substr(at + 10)) / 1000.0;
      if (best == 0 || took < best) best = took;
    }
  } catch (...) {
    sandbox::StopProcesses({serve}, std::chrono::seconds(10));
    throw;
  }
  sandbox::StopProcesses({serve}, std::chrono::seconds(10));
  return best;
}

// A metrics endpoint for the real Prometheus to scrape: one series per
// member of the fleet, caretaker_bench_lag{member="b001/s01"} (one lagging).
class MetricsEndpoint {
 public:
  explicit MetricsEndpoint(const Fleet& fleet) {
    std::string body = "# TYPE caretaker_bench_lag gauge\n";
    for (const std::string& b : fleet.backend_names()) {
      for (int j = 1; j <= kServersPerBackend; ++j) {
        char server[8];
        std::snprintf(server, sizeof server, "s%02d", j);
        body += "caretaker_bench_lag{member=\"" + b + "/" + server + "\"} " + (b == "b250" && j == 7 ? "42" : "0") + "\n";
      }
    }
    reply_ = "HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: " +
             std::to_string(body.size()) + "\r\n\r\n" + body;
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(fd_, 16) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      throw std::runtime_error("the metrics endpoint cannot listen on 127.0.0.1");
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~MetricsEndpoint() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  uint16_t port() const { return port_; }

 private:
  void Serve() {
    while (!stop_) {
      int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      char buf[4096];
      std::string request;
      while (request.find("\r\n\r\n") == std::string::npos) {
        ssize_t n = ::recv(c, buf, sizeof buf, 0);
        if (n <= 0) break;
        request.append(buf, static_cast<size_t>(n));
      }
      for (size_t done = 0; done < reply_.size();) {
        ssize_t n = ::send(c, reply_.data() + done, reply_.size() - done, MSG_NOSIGNAL);
        if (n <= 0) break;
        done += static_cast<size_t>(n);
      }
      ::close(c);
    }
  }
  std::string reply_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// How many instant queries Prometheus has answered (its own counter, read
// from its /metrics: reading it asks no query).
long QueriesAnswered(const sandbox::PrometheusStack& prom) {
  const std::string metrics = prom.Get("/metrics");
  long total = 0;
  std::istringstream in(metrics);
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("prometheus_http_requests_total{") && line.find("handler=\"/api/v1/query\"") != std::string::npos) {
      total += std::stol(line.substr(line.rfind(' ') + 1));
    }
  }
  return total;
}

// The rule of source prometheus over the whole fleet, from a real
// Prometheus holding a series per member: one evaluation (rules test) and
// one cycle in serve; queries per cycle counted by Prometheus itself.
void PrometheusRules(const Fleet& fleet) {
  MetricsEndpoint endpoint(fleet);
  auto prom = sandbox::PrometheusStack::StartScraping(
      "  - job_name: fleet\n    static_configs:\n      - targets: ['127.0.0.1:" + std::to_string(endpoint.port()) + "']\n",
      "caretaker_bench_lag", kBackends * kServersPerBackend);
  const std::string rule = "[[prometheus]]\nurl = \"" + prom->url() + "\"\n[[rules]]\nname = \"lag\"\n"
                           "source = \"prometheus\"\nquery = \"caretaker_bench_lag\"\nlabel = \"member\"\n"
                           "label_value = \"{pool}/{server}\"\nwhen = \"value > 30\"\nfor = \"30s\"\ninterval = \"1s\"\n";
  const std::string config = fleet.WriteConfig("caretaker-prom.toml", "[\"true\"]", rule);
  Timed best;
  long peak = 0;
  const long before = QueriesAnswered(*prom);
  for (int i = 0; i < kRuns; ++i) {
    Timed run = RunCaretaker({"-c", config, "rules", "test", "lag", "--json"}, fleet.dir());
    Require(run, "caretaker rules test (prometheus)");
    if (run.out.find("\"server\":\"s07\",\"out_by\":\"none\",\"when\":\"holds\"") == std::string::npos) {
      throw std::runtime_error("rules test did not see b250/s07 lagging: " + run.out.substr(0, 300));
    }
    peak = std::max(peak, run.peak_rss_kib);
    if (i == 0 || run.seconds < best.seconds) best = run;
  }
  const long queries = QueriesAnswered(*prom) - before;
  Report({"rules", "prometheus: one evaluation of 10,000 members, 500 pools (rules test --json)",
          Fixed(best.seconds, 3) + " s", "< 1 s", best.seconds < 1.0});
  Report({"rules", "prometheus: CPU of that evaluation", Fixed(best.cpu_seconds, 3) + " s", "", {}});
  Report({"rules", "prometheus: peak RSS of caretaker (rules test)", Fixed(peak / 1024.0, 1) + " MiB", "< 64 MiB",
          peak < 64 * 1024});
  Report({"rules", "prometheus: queries per evaluation (Prometheus' own count, 1 rule)",
          Fixed(static_cast<double>(queries) / kRuns, 2), "= 1", queries == kRuns});
  const double cycle = ServeCycle(config, fleet.dir(), kRuns, "prometheus");
  Report({"rules", "prometheus: one cycle in serve (rule.evaluated took_ms)", Fixed(cycle, 3) + " s", "< 1 s",
          cycle < 1.0});
}

struct Reaction {
  double past_for = 0;  // t1 - (tp + for)
  double whole = 0;     // t1 - t0
};

std::vector<Reaction> Reactions() {
  auto sb = sandbox::Sandbox::Start(sandbox::Options{});
  const std::string config = sb->dir() + "/bench-rules.toml";
  sandbox::WriteFile(config, sandbox::ReadFile(sb->config_path()) +
                                 "\n[[rules]]\nname = \"stopped\"\nwhen = \"replication is stopped\"\nfor = \"2500ms\"\n"
                                 "clear_for = \"1s\"\ninterval = \"1s\"\ncooldown = \"1s\"\nmax_actions = 100\n"
                                 "max_actions_per_host = 100\nmax_actions_per_pool = 100\nbreaker_actions = 100\n"
                                 "breaker_pool = \"100%\"\n");
  const std::string log = sb->dir() + "/bench-rules-serve.log";
  sandbox::ScopedFd fd(sandbox::OpenLog(log));
  sandbox::SpawnOptions spawn;
  spawn.argv = {CaretakerBin(), "-c", config, "--log-format", "json", "serve"};
  spawn.stderr_fd = fd.get();
  spawn.stdout_fd = fd.get();
  const pid_t serve = sandbox::Spawn(spawn);
  fd.Reset();
  std::vector<Reaction> out;
  try {
    WaitLines(log, {"\"rule.loaded\""}, 1, serve, "rule.loaded");
    const sandbox::MysqlNode& db2 = sb->replicas()[1];
    for (int round = 1; round <= kReactionRounds; ++round) {
      std::this_thread::sleep_for(std::chrono::milliseconds(300 + 137 * round));  // not in step with the interval
      const Wall::time_point t0 = Wall::now();
      sb->Sql(db2, "STOP SLAVE SQL_THREAD");
      for (auto since = Clock::now(); AdminState(*sb, 0, "db2") == 0;) {
        if (sandbox::PeekExit(serve) || Seconds(Clock::now() - since) > 60) throw std::runtime_error("serve never drained db2");
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      const Wall::time_point t1 = Wall::now();
      auto pending = LogLines(log, {"\"rule.pending\"", "replicas/db2"});
      if (pending.size() < static_cast<size_t>(round)) throw std::runtime_error("db2 drained before serve logged it pending");
      const Wall::time_point tp = TimeOf(pending.back());
      out.push_back({std::chrono::duration<double>(t1 - tp).count() - kFor, std::chrono::duration<double>(t1 - t0).count()});
      std::printf("  round %d: pending %.3f s after the SQL thread stopped, drain %.3f s past `for`\n", round,
                  std::chrono::duration<double>(tp - t0).count(), out.back().past_for);
      WaitLines(log, {"\"rule.act.end\"", "\"depool\"", "\"done\""}, round, serve, "the depool's end");
      sb->Sql(db2, "START SLAVE SQL_THREAD");
      WaitLines(log, {"\"rule.act.end\"", "\"repool\"", "\"done\""}, round, serve, "the repool's end");
      std::this_thread::sleep_for(std::chrono::milliseconds(1200));  // the cooldown
    }
  } catch (...) {
    sandbox::StopProcesses({serve}, std::chrono::seconds(10));
    throw;
  }
  sandbox::StopProcesses({serve}, std::chrono::seconds(10));
  return out;
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
  Report({"rules", "CPU of that evaluation (user + system, the whole command)", Fixed(best.cpu_seconds, 3) + " s", "", {}});
  Report({"rules", "floor: HAProxy's own show stat dumps, 4 at once", Fixed(floor, 3) + " s", "", {}});
  Report({"rules", "peak RSS of caretaker (rules test)", Fixed(peak / 1024.0, 1) + " MiB", "< 64 MiB",
          peak < 64 * 1024});
  std::printf("  (rules test --json wrote %zu bytes)\n", best.out.size());
  const double cycle = ServeCycle(fleet->WriteConfig("caretaker-serve.toml", "[\"true\"]",
                                                     "[[rules]]\nname = \"down\"\nwhen = \"check is down\"\n"
                                                     "for = \"30s\"\ninterval = \"1s\"\n"),
                                  fleet->dir(), kRuns, "probe");
  Report({"rules", "one cycle in serve (its rule.evaluated took_ms), 10,000 members", Fixed(cycle, 3) + " s", "< 1 s",
          cycle < 1.0});
  PrometheusRules(*fleet);
  fleet.reset();

  std::printf("rules: reaction time, a rule on stopped replication in serve (for 2.5s, interval 1s), %d rounds\n",
              kReactionRounds);
  std::vector<Reaction> reactions = Reactions();
  std::vector<double> past, whole;
  for (const Reaction& r : reactions) {
    past.push_back(r.past_for);
    whole.push_back(r.whole);
  }
  std::sort(past.begin(), past.end());
  std::sort(whole.begin(), whole.end());
  Report({"rules", "reaction: `for` held -> drain seen on HAProxy, median", Fixed(past[past.size() / 2] * 1000, 0) + " ms",
          "< 1 s", past[past.size() / 2] < 1.0});
  Report({"rules", "reaction: `for` held -> drain seen on HAProxy, max", Fixed(past.back() * 1000, 0) + " ms", "< 1 s",
          past.back() < 1.0});
  Report({"rules", "SQL thread stopped -> drain seen (for 2.5 s + first seen within the 1 s interval), median",
          Fixed(whole[whole.size() / 2], 3) + " s", "", {}});
  return 0;
}

}  // namespace
}  // namespace caretaker::bench

int main() { return caretaker::bench::Guarded("bench_rules", caretaker::bench::Main); }
