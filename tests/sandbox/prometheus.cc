// The Prometheus of the sandbox: exporters, config, process and readiness
// (see prometheus.h).
#include "tests/sandbox/prometheus.h"

#include <unistd.h>

#include <filesystem>
#include <stdexcept>
#include <thread>
#include <utility>

#include "tests/sandbox/files.h"
#include "tests/sandbox/net.h"
#include "tests/sandbox/process.h"
#include "tests/sandbox/watchdog.h"

namespace caretaker::sandbox {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr const char* kPrometheus = "/usr/bin/prometheus";
constexpr const char* kExporter = "/usr/bin/prometheus-mysqld-exporter";
// The first sample comes ~5-6 s after start (service discovery's first update).
constexpr auto kReadyTimeout = std::chrono::seconds(40);
constexpr auto kStopGrace = std::chrono::seconds(5);
constexpr auto kQueryTimeout = std::chrono::seconds(5);


// Series in a query's body: one "metric" per series.
size_t SeriesIn(const std::string& body) {
  if (body.find("\"status\":\"success\"") == std::string::npos) return 0;
  size_t n = 0;
  for (size_t at = body.find("\"metric\""); at != std::string::npos; at = body.find("\"metric\"", at + 1)) ++n;
  return n;
}

}  // namespace

std::unique_ptr<PrometheusStack> PrometheusStack::Start(const std::vector<ExporterTarget>& targets,
                                                        const std::string& user, const std::string& password) {
  std::unique_ptr<PrometheusStack> stack(new PrometheusStack());
  stack->Boot(targets, user, password);  // on a throw, the destructor stops what was started
  return stack;
}

PrometheusStack::~PrometheusStack() {
  if (owner_pid_ != 0 && owner_pid_ != ::getpid()) {
    (void)watchdog_.release();  // a forked copy owns nothing
    return;
  }
  Stop();
}

std::unique_ptr<PrometheusStack> PrometheusStack::StartScraping(const std::string& scrape_configs,
                                                                const std::string& ready_query, size_t ready_series) {
  std::unique_ptr<PrometheusStack> stack(new PrometheusStack());
  stack->Prepare();
  stack->port_ = FreeLoopbackPorts(1).front();
  stack->ready_query_ = ready_query;
  stack->ready_series_ = ready_series;
  stack->WriteConfig(scrape_configs);
  stack->StartPrometheus();
  return stack;
}

void PrometheusStack::Prepare() {
  for (const char* binary : {kPrometheus, kExporter}) {
    if (::access(binary, X_OK) != 0) {
      throw std::runtime_error(std::string("prometheus: ") + binary +
                               " not found: install prometheus and prometheus-mysqld-exporter (tools/install-deps)");
    }
  }
  owner_pid_ = ::getpid();
  dir_ = MakeTempDir("");
  watchdog_ = std::make_unique<Watchdog>(dir_, /*keep_dir=*/false);
  log_path_ = dir_ + "/prometheus.log";
}

void PrometheusStack::WriteConfig(const std::string& scrape_configs) {
  WriteFile(dir_ + "/prometheus.yml", "# Written by the caretaker test harness.\nglobal:\n  scrape_interval: 1s\n"
                                      "  evaluation_interval: 1s\nscrape_configs:\n" + scrape_configs);
}

void PrometheusStack::Boot(const std::vector<ExporterTarget>& targets, const std::string& user,
                           const std::string& password) {
  Prepare();
  ready_series_ = targets.size();
  std::vector<uint16_t> ports = FreeLoopbackPorts(targets.size() + 1);
  port_ = ports.back();
  std::string scrape;
  for (size_t i = 0; i < targets.size(); ++i) {
    const ExporterTarget& t = targets[i];
    const std::string cnf = dir_ + "/" + t.server + ".cnf";
    WriteFile(cnf, "[client]\nuser=" + user + "\npassword=" + password + "\nhost=127.0.0.1\nport=" +
                       std::to_string(t.mysql_port) + "\n");
    fs::permissions(cnf, fs::perms::owner_read | fs::perms::owner_write);
    ScopedFd log(OpenLog(dir_ + "/exporter-" + t.server + ".log"));
    SpawnOptions options;
    options.argv = {kExporter, "--config.my-cnf=" + cnf, "--web.listen-address=127.0.0.1:" + std::to_string(ports[i])};
    options.stdout_fd = log.get();
    options.stderr_fd = log.get();
    pid_t pid = Spawn(options);
    watchdog_->Track(pid, "mysqld_exporter " + t.server);
    exporters_.push_back(pid);
    scrape += "      - targets: ['127.0.0.1:" + std::to_string(ports[i]) + "']\n        labels: {server: " + t.server + "}\n";
  }
  WriteConfig("  - job_name: mysql\n    static_configs:\n" + scrape);
  StartPrometheus();
}

void PrometheusStack::StartPrometheus() {
  if (prometheus_ != 0) return;
  ScopedFd log(OpenLog(log_path_));
  SpawnOptions options;
  options.argv = {kPrometheus, "--config.file=" + dir_ + "/prometheus.yml", "--storage.tsdb.path=" + dir_ + "/data",
                  "--web.listen-address=127.0.0.1:" + std::to_string(port_)};
  options.stdout_fd = log.get();
  options.stderr_fd = log.get();
  prometheus_ = Spawn(options);
  watchdog_->Track(prometheus_, "prometheus");
  const auto deadline = Clock::now() + kReadyTimeout;
  while (Clock::now() < deadline) {
    if (std::optional<int> status = PeekExit(prometheus_)) {
      throw std::runtime_error("prometheus on 127.0.0.1:" + std::to_string(port_) + " exited (" +
                               DescribeWaitStatus(*status) + ")" + SeeLog(log_path_));
    }
    if (WaitForSeries(ready_query_, ready_series_, std::chrono::milliseconds(200))) return;
  }
  throw std::runtime_error("prometheus on 127.0.0.1:" + std::to_string(port_) + " has not " +
                           std::to_string(ready_series_) + " series of " + ready_query_ + " within " +
                           std::to_string(std::chrono::duration_cast<std::chrono::seconds>(kReadyTimeout).count()) +
                           " s" + SeeLog(log_path_));
}

void PrometheusStack::StopPrometheus() {
  pid_t pid = std::exchange(prometheus_, 0);
  if (pid == 0) return;
  StopProcesses({pid}, kStopGrace);
  watchdog_->Untrack(pid);
}

std::string PrometheusStack::Get(const std::string& target) const { return HttpGetLoopback(port_, target, kQueryTimeout); }

std::string PrometheusStack::Query(const std::string& promql) const {
  return HttpGetLoopback(port_, "/api/v1/query?query=" + UrlEncode(promql), kQueryTimeout);
}

bool PrometheusStack::WaitForSeries(const std::string& promql, size_t series, std::chrono::milliseconds timeout) const {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    try {
      if (SeriesIn(Query(promql)) == series) return true;
    } catch (const std::exception&) {
      // not listening yet
    }
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

void PrometheusStack::Stop() noexcept {
  try {
    std::vector<pid_t> all = exporters_;
    all.push_back(std::exchange(prometheus_, 0));
    exporters_.clear();
    StopProcesses(all, kStopGrace);
    if (!dir_.empty()) fs::remove_all(dir_);
    if (watchdog_) watchdog_->Disarm();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "prometheus teardown of %s: %s (the watchdog finishes it)\n", dir_.c_str(), e.what());
  }
}

}  // namespace caretaker::sandbox
