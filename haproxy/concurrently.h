// Internal to haproxy/: runs one coroutine per client concurrently (the
// reads of ReadInstances, the apply-to-all operations) and gathers their
// results in the order of the clients.
#pragma once

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>
#include <vector>

#include "haproxy/client.h"

namespace caretaker::haproxy::detail {

namespace asio = boost::asio;

// Runs fn(client) for every client concurrently and returns the results in
// the order of `clients`.
//
// Functions and strings are taken by reference, and callers pass named
// objects (g++ 12: src/base/async.h).
template <class Fn>
auto ForEachConcurrently(const std::vector<const Client*>& clients, const Fn& fn)
    -> Task<std::vector<typename decltype(fn(*clients.front()))::value_type>> {
  using T = typename decltype(fn(*clients.front()))::value_type;
  auto ex = co_await asio::this_coro::executor;
  using Op = decltype(asio::co_spawn(ex, fn(*clients.front()), asio::deferred));
  std::vector<Op> ops;
  ops.reserve(clients.size());
  for (const Client* c : clients) ops.push_back(asio::co_spawn(ex, fn(*c), asio::deferred));
  std::vector<T> results;
  if (ops.empty()) co_return results;
  auto group = asio::experimental::make_parallel_group(std::move(ops));
  auto all = group.async_wait(asio::experimental::wait_for_all(), asio::use_awaitable);
  auto [order, exceptions, values] = co_await std::move(all);
  for (auto& e : exceptions) {
    if (e) std::rethrow_exception(e);  // a bug: expected failures are values
  }
  (void)order;
  co_return std::move(values);
}

}  // namespace caretaker::haproxy::detail
