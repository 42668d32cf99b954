// See foreground.h.
#include "src/cli/foreground.h"

#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <functional>

#include "src/base/event_loop.h"

namespace caretaker {

int RunInForeground(boost::asio::io_context& loop, RollDriver& driver, Progress& progress, const SignalWords& words) {
  boost::asio::signal_set signals(loop, SIGINT, SIGTERM, SIGHUP);
  int seen = 0;
  std::function<void(const boost::system::error_code&, int)> on_signal = [&](const boost::system::error_code& ec, int) {
    if (ec) return;
    if (++seen == 1) {
      progress.Note("! " + words.interrupted + " (interrupt again to stop everything where it is)");
      driver.Interrupt();
    } else {
      progress.Note("! " + words.aborting);
      driver.Abort();
    }
    signals.async_wait(on_signal);
  };
  signals.async_wait(on_signal);
  // The coroutine refers to the lambda's captures while it runs: named.
  auto body = [&]() -> Awaitable<bool> {
    auto run = driver.Run();
    co_await std::move(run);
    signals.cancel();
    co_return true;
  };
  RunOn(loop, body());
  return seen;
}

}  // namespace caretaker
