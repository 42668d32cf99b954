// A real Prometheus scraping real mysqld_exporters, on loopback, for tests of
// rules of source "prometheus": Debian's prometheus-mysqld-exporter, one per
// MySQL server, and Debian's prometheus scraping every exporter each second,
// each target labelled server="<name>" (as a fleet relabels its targets).
//
// Contract: Start() returns once Prometheus answers a query with a
// mysql_up series for every target; it throws std::runtime_error naming what
// did not come up and the log to read. The destructor stops every process
// (by pid) and removes the dir; a watchdog does the same if the test process
// dies first. Stop/StartPrometheus() stop and start the Prometheus process
// alone (the same data dir and port), as an outage would.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace caretaker::sandbox {

class Watchdog;

struct ExporterTarget {
  std::string server;  // the label value: "db1"
  uint16_t mysql_port = 0;
};

class PrometheusStack {
 public:
  // `user` / `password`: a MySQL account with REPLICA MONITOR (the
  // exporter hangs without a password, and without the privilege has no
  // slave metrics).
  static std::unique_ptr<PrometheusStack> Start(const std::vector<ExporterTarget>& targets, const std::string& user,
                                                const std::string& password);
  // A Prometheus alone with `scrape_configs` (YAML, indented as the list
  // under scrape_configs:), ready once `ready_query` gives `ready_series`
  // series (the benchmarks scrape an endpoint of their own).
  static std::unique_ptr<PrometheusStack> StartScraping(const std::string& scrape_configs,
                                                        const std::string& ready_query, size_t ready_series);
  // GET `target` of Prometheus itself (its /metrics, say).
  std::string Get(const std::string& target) const;
  ~PrometheusStack();
  PrometheusStack(const PrometheusStack&) = delete;
  PrometheusStack& operator=(const PrometheusStack&) = delete;

  uint16_t port() const { return port_; }  // Prometheus on 127.0.0.1
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  const std::string& log_path() const { return log_path_; }

  void StopPrometheus();
  void StartPrometheus();  // returns once it answers queries with every target's series

  // The body of GET /api/v1/query?query=Q (throws when none comes in 5 s).
  std::string Query(const std::string& promql) const;
  // Waits until `promql` gives `series` series; false after `timeout`.
  bool WaitForSeries(const std::string& promql, size_t series, std::chrono::milliseconds timeout) const;

 private:
  PrometheusStack() = default;
  void Boot(const std::vector<ExporterTarget>& targets, const std::string& user, const std::string& password);
  void Prepare();
  void WriteConfig(const std::string& scrape_configs);
  void Stop() noexcept;

  std::unique_ptr<Watchdog> watchdog_;
  pid_t owner_pid_ = 0;
  std::string dir_;
  std::string log_path_;
  uint16_t port_ = 0;
  std::string ready_query_ = "mysql_up == 1";
  size_t ready_series_ = 0;
  pid_t prometheus_ = 0;
  std::vector<pid_t> exporters_;
};

}  // namespace caretaker::sandbox
