// Runs one coroutine to completion on a private io_context (tests and demo).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <exception>
#include <optional>

namespace caretaker::testing {

// T need not be default-constructible (results are not).
template <class T>
T RunSync(boost::asio::awaitable<T> task) {
  boost::asio::io_context io;
  std::optional<T> result;
  std::exception_ptr failure;
  auto wrapper = [&]() -> boost::asio::awaitable<void> { result.emplace(co_await std::move(task)); };
  boost::asio::co_spawn(io, wrapper(), [&](std::exception_ptr e) { failure = e; });
  io.run();
  if (failure) std::rethrow_exception(failure);
  return std::move(*result);
}

}  // namespace caretaker::testing
