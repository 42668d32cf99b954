// A real Graphite on loopback for tests of rules of source "graphite":
// Debian's carbon-cache (graphite-carbon; its line receiver takes the
// test's datapoints, retention 1s:1h) and graphite-web's render API
// (graphite-web, run by `graphite-manage runserver --noreload`, reading the
// whisper files and carbon's cache), no Apache.
//
// Contract: Start() returns once a datapoint sent to carbon can be rendered
// by graphite-web; it throws std::runtime_error naming what did not come up
// and the log to read. The destructor stops both (by pid) and removes the
// dir; a watchdog does the same if the test process dies first.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace caretaker::sandbox {

class Watchdog;

class Graphite {
 public:
  static std::unique_ptr<Graphite> Start();
  ~Graphite();
  Graphite(const Graphite&) = delete;
  Graphite& operator=(const Graphite&) = delete;

  std::string url() const { return "http://127.0.0.1:" + std::to_string(web_port_); }
  uint16_t web_port() const { return web_port_; }
  const std::string& dir() const { return dir_; }

  // Sends "PATH VALUE TIMESTAMP" lines (plaintext protocol) to carbon.
  void Send(const std::string& lines) const;
  // The body of GET /render?target=T&from=-60s&format=json.
  std::string Render(const std::string& target) const;

  void StopWeb();   // graphite-web alone, as an outage would
  void StartWeb();  // returns once it answers a render

 private:
  Graphite() = default;
  void Boot();
  void Stop() noexcept;

  std::unique_ptr<Watchdog> watchdog_;
  pid_t owner_pid_ = 0;
  std::string dir_;
  uint16_t line_port_ = 0;
  uint16_t web_port_ = 0;
  pid_t carbon_ = 0;
  pid_t web_ = 0;
};

}  // namespace caretaker::sandbox
