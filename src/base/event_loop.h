// Runs a coroutine to its end on an event loop of its own, for the commands
// (roll, maint, job restore) that do one thing and exit. Heavy (Asio): for .cc
// files only.
#pragma once

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <exception>
#include <optional>

#include "src/base/async.h"

namespace caretaker {

// Runs `body` on `io` to completion; an exception in it is rethrown.
template <class T>
T RunOn(boost::asio::io_context& io, Awaitable<T> body) {
  std::optional<T> value;
  std::exception_ptr failure;
  boost::asio::co_spawn(
      io, [&]() -> Awaitable<void> { value.emplace(co_await std::move(body)); },
      [&](std::exception_ptr e) {
        failure = e;
        io.stop();  // signal sets would keep the loop alive
      });
  io.restart();
  io.run();
  if (failure) std::rethrow_exception(failure);
  return std::move(*value);
}

}  // namespace caretaker
