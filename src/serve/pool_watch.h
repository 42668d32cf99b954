// serve's reading of every pool, taken again every 10 s while the API is on:
// HAProxy (every instance) and every member's MySQL, as `caretaker status`
// reads them (status_report.h), for GET /api/v1/pools and /metrics. The
// reads run on serve's loop (MySQL on the watch's own threads) and never
// overlap; a reading names when it was taken, so a client sees its age.
// What it does not decide: every drain still reads live state first.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "mysql/pool.h"
#include "mysql/probe.h"
#include "src/base/time.h"
#include "src/config/config.h"
#include "src/run/status_report.h"

namespace caretaker {

struct PoolReading {
  std::shared_ptr<const Config> config;  // the report's pools point into it
  StatusReport report;
  SysSeconds at{};  // when the read started
  Millis took{0};
};

class PoolWatch {
 public:
  static constexpr std::chrono::seconds kEvery{10};

  explicit PoolWatch(boost::asio::io_context& io);

  // Starts a read when none runs and the last one started kEvery ago (or
  // `now_please`: a change was just made).
  void Tick(std::shared_ptr<const Config> config, const std::string& password, bool now_please = false);
  bool Busy() const { return busy_; }
  // The last reading; null before the first has ended.
  std::shared_ptr<const PoolReading> last() const { return last_; }

  // Since serve started: reads that failed, by HAProxy instance name and by
  // member host:port.
  const std::map<std::string, uint64_t>& haproxy_errors() const { return haproxy_errors_; }
  const std::map<std::string, uint64_t>& mysql_errors() const { return mysql_errors_; }

 private:
  boost::asio::awaitable<void> Read(std::shared_ptr<const Config> config, std::string password);

  boost::asio::io_context& io_;
  mysql::BlockingPool threads_{mysql::BlockingPool::kDefaultThreads};
  mysql::RealReplicaProbe probe_{threads_};
  bool busy_ = false;
  std::optional<SteadyTime> started_;
  std::shared_ptr<const PoolReading> last_;
  std::map<std::string, uint64_t> haproxy_errors_;
  std::map<std::string, uint64_t> mysql_errors_;
};

}  // namespace caretaker
