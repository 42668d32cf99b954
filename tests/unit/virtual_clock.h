// A Clock (src/base/async.h) whose time moves only when nothing else can:
// Run() runs every handler that is ready; when none is, time jumps to the
// earliest timer and wakes it. A walk of hours runs in milliseconds, and the
// times a test reads are exact. Fakes that take time (a step of 30 s) wait on
// its timers too.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <set>

#include "src/base/async.h"

namespace caretaker::testing {

class VirtualClock : public Clock {
 public:
  static constexpr SteadyTime kStart{std::chrono::hours(1000)};

  SteadyTime Now() const override { return now_; }
  std::unique_ptr<Timer> MakeTimer(boost::asio::io_context& io) override {
    return std::make_unique<VirtualTimer>(*this, io);
  }
  Millis Elapsed() const { return std::chrono::duration_cast<Millis>(now_ - kStart); }

  // Runs `io` until `done()` holds; false when virtual time would pass
  // `limit` first, or when nothing is ready and no timer waits (a hang).
  bool Run(boost::asio::io_context& io, const std::function<bool()>& done, Millis limit) {
    const SteadyTime give_up = now_ + limit;
    while (true) {
      io.restart();
      while (io.poll() > 0) {
        if (done()) return true;
        io.restart();
      }
      if (done()) return true;
      std::optional<SteadyTime> next;
      for (const VirtualTimer* t : waiting_) next = next ? std::min(*next, *t->at) : *t->at;
      if (!next || *next > give_up) return false;
      now_ = std::max(now_, *next);
      for (auto it = waiting_.begin(); it != waiting_.end();) {
        VirtualTimer* t = *it;
        if (*t->at <= now_) {
          it = waiting_.erase(it);
          t->at.reset();
          t->real.cancel();
        } else {
          ++it;
        }
      }
    }
  }

 private:
  // Waits on a real Asio timer that never expires, cancelled when virtual
  // time reaches `at` (or by Cancel()).
  struct VirtualTimer : Timer {
    VirtualTimer(VirtualClock& c, boost::asio::io_context& io) : clock(c), real(io) {}
    ~VirtualTimer() override { clock.waiting_.erase(this); }

    Awaitable<void> WaitUntil(SteadyTime when) override {
      if (when <= clock.now_) co_return;
      at = when;
      clock.waiting_.insert(this);
      real.expires_at(boost::asio::steady_timer::time_point::max());
      boost::system::error_code ec;
      auto wait = real.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
      co_await std::move(wait);
      clock.waiting_.erase(this);
      at.reset();
    }
    void Cancel() override { real.cancel(); }

    VirtualClock& clock;
    boost::asio::steady_timer real;
    std::optional<SteadyTime> at;
  };

  SteadyTime now_ = kStart;
  std::set<VirtualTimer*> waiting_;
};

}  // namespace caretaker::testing
