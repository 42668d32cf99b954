// Real Alertmanagers on loopback, for tests of serve's Alertmanager intake:
// Debian's prometheus-alertmanager, each alone (no cluster: two of them
// both notify, as HA peers do before they have gossiped), with one receiver
// that POSTs its webhook (send_resolved) to a url with a bearer token read
// from a 0600 file; groups flushed within a second.
//
// Contract: Start() returns once /-/ready answers 200; it throws
// std::runtime_error naming what did not come up and the log to read. The
// destructor stops the process (by pid) and removes its dir; a watchdog does
// the same if the test process dies first.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>

namespace caretaker::sandbox {

class Watchdog;

class Alertmanager {
 public:
  // `webhook_url`: "http://127.0.0.1:PORT/api/v1/alerts/alertmanager".
  static std::unique_ptr<Alertmanager> Start(const std::string& webhook_url, const std::string& token);
  ~Alertmanager();
  Alertmanager(const Alertmanager&) = delete;
  Alertmanager& operator=(const Alertmanager&) = delete;

  uint16_t port() const { return port_; }
  const std::string& log_path() const { return log_path_; }

  // POST /api/v2/alerts (a JSON array of alerts, as Prometheus sends them);
  // throws unless Alertmanager took them.
  void Push(const std::string& alerts) const;

 private:
  Alertmanager() = default;
  void Stop() noexcept;

  std::unique_ptr<Watchdog> watchdog_;
  pid_t owner_pid_ = 0;
  std::string dir_;
  std::string log_path_;
  uint16_t port_ = 0;
  pid_t pid_ = 0;
};

}  // namespace caretaker::sandbox
