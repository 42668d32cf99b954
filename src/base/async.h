// Coroutines on Asio, and the time a coroutine waits on. For run/ and the
// layers above it (walk/ decides without Asio).
//
// THE g++ 12 COROUTINE RULE — every co_await in this project follows it:
//   * name every operand: `auto op = world.Probe(pool, member); co_await
//     std::move(op);`, never `co_await world.Probe(...)` with temporaries in
//     the expression, and no co_await inside `?:` or `&&`/`||`. g++ 12 frees
//     such temporaries twice (ASan: heap-use-after-free in the frame);
//   * pass strings and functors to a coroutine by reference to a named object
//     that outlives it (or by value into the coroutine's own parameters),
//     never a temporary bound to a reference parameter.
// `make test-sanitize` finds a violation in seconds. Code that looks odd for
// this reason says `// g++ 12: src/base/async.h` instead of repeating this.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <memory>

#include "src/base/time.h"

namespace caretaker {

template <class T>
using Awaitable = boost::asio::awaitable<T>;

// A timer a coroutine waits on; made by a Clock.
class Timer {
 public:
  virtual ~Timer() = default;
  // Returns at `at` (at once if it has passed), or as soon as Cancel() is
  // called while it waits.
  virtual Awaitable<void> WaitUntil(SteadyTime at) = 0;
  virtual void Cancel() = 0;
};

// Where the driver of walks reads the time and gets its timers: the steady
// clock in production, a virtual one in tests (tests/unit/virtual_clock.h),
// so that a walk of hours runs in milliseconds — as Boost.MySQL's connection
// pool takes its timer type from its I/O traits.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual SteadyTime Now() const = 0;
  virtual std::unique_ptr<Timer> MakeTimer(boost::asio::io_context& io) = 0;
};

Clock& SteadyClock();  // std::chrono::steady_clock and boost::asio::steady_timer

}  // namespace caretaker
