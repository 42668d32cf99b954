// See pool_watch.h.
#include "src/serve/pool_watch.h"

#include <boost/asio/co_spawn.hpp>

#include "src/base/log.h"
#include "src/run/fleet.h"

namespace caretaker {

PoolWatch::PoolWatch(boost::asio::io_context& io) : io_(io) {}

void PoolWatch::Tick(std::shared_ptr<const Config> config, const std::string& password, bool now_please) {
  const SteadyTime now = std::chrono::steady_clock::now();
  if (busy_ || (!now_please && started_ && now - *started_ < kEvery)) return;
  busy_ = true;
  started_ = now;
  boost::asio::co_spawn(io_, Read(std::move(config), password), [this](std::exception_ptr e) {
    busy_ = false;
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& what) {
      LogEvent(LogLevel::kError, "serve.pools.read_failed", {{"what", what.what()}});
    }
  });
}

boost::asio::awaitable<void> PoolWatch::Read(std::shared_ptr<const Config> config, std::string password) {
  auto reading = std::make_shared<PoolReading>();
  reading->config = config;
  reading->at = NowSeconds();
  const SteadyTime start = std::chrono::steady_clock::now();
  const Fleet fleet = Fleet::FromConfig(*config);
  auto read = ReadStatusReport(io_, *config, fleet, probe_, Result<std::string>(std::move(password)), false);
  reading->report = co_await std::move(read);
  reading->took = std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now() - start);
  for (const auto& e : reading->report.instance_errors) ++haproxy_errors_[e.instance];
  for (const auto& [where, probe] : reading->report.mysql) {
    if (!probe) ++mysql_errors_[where];
  }
  last_ = std::move(reading);
}

}  // namespace caretaker
