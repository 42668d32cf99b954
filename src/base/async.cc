#include "src/base/async.h"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace caretaker {
namespace {

namespace asio = boost::asio;

class RealTimer : public Timer {
 public:
  explicit RealTimer(asio::io_context& io) : timer_(io) {}

  Awaitable<void> WaitUntil(SteadyTime at) override {
    timer_.expires_at(at);
    boost::system::error_code ec;  // cancelled: return early
    auto wait = timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    co_await std::move(wait);
  }
  void Cancel() override { timer_.cancel(); }

 private:
  asio::steady_timer timer_;
};

class RealClock : public Clock {
 public:
  SteadyTime Now() const override { return std::chrono::steady_clock::now(); }
  std::unique_ptr<Timer> MakeTimer(asio::io_context& io) override { return std::make_unique<RealTimer>(io); }
};

}  // namespace

Clock& SteadyClock() {
  static RealClock clock;
  return clock;
}

}  // namespace caretaker
