// The async replica probe: Connector/C calls run on a BlockingPool, and the
// awaiting coroutine resumes on its own executor with the result.
//
// ReplicaProbe is the interface the rest of caretaker depends on (tests use a
// fake); RealReplicaProbe opens one connection per probe on a pool thread, so
// no MYSQL* is ever shared between threads. Each probe is bounded by the
// target's connect/read/write timeouts, counted from when a pool thread picks
// it up (queueing behind other probes comes first).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "mysql/connection.h"
#include "mysql/error.h"
#include "mysql/pool.h"
#include "mysql/replica_probe.h"
#include "mysql/replica_status.h"

namespace caretaker::mysql {

// Every co_await here follows the g++ 12 rule: src/base/async.h.
template <class T>
using Task = boost::asio::awaitable<T>;

// Runs `work` (returning a Result<...>) on `pool` and resumes the caller on
// its executor with the value. An exception thrown by `work` becomes kQuery.
// The caller's event loop counts the call as outstanding work until it
// resumes; it must not be stopped or destroyed before then.
template <class R>
Task<R> RunBlocking(BlockingPool& pool, std::function<R()> work) {
  namespace asio = boost::asio;
  asio::any_io_executor ex = co_await asio::this_coro::executor;
  auto initiate = [&pool, ex](auto handler, std::function<R()> fn) {
    // The tracked executor keeps the caller's event loop running while the
    // work is queued or running on the pool.
    auto tracked = asio::prefer(ex, asio::execution::outstanding_work.tracked);
    auto h = std::make_shared<decltype(handler)>(std::move(handler));
    pool.Post([h, tracked, fn = std::move(fn)]() mutable {
      std::optional<R> value;
      try {
        value.emplace(fn());
      } catch (const std::exception& e) {
        value.emplace(Error{ErrorCode::kQuery, 0, std::string("internal error: ") + e.what()});
      } catch (...) {
        value.emplace(Error{ErrorCode::kQuery, 0, "internal error: an unknown exception"});
      }
      // The handler moves to the loop: it is touched by one thread at a time.
      asio::post(tracked, [h = std::move(h), v = std::move(*value)]() mutable { std::move (*h)(std::move(v)); });
    });
  };
  auto op = asio::async_initiate<const asio::use_awaitable_t<>, void(R)>(std::move(initiate), asio::use_awaitable,
                                                                         std::move(work));
  R result = co_await std::move(op);
  co_return result;
}

class ReplicaProbe {
 public:
  virtual ~ReplicaProbe() = default;
  virtual Task<Result<ReplicaStatus>> Probe(Target target, ProbeOptions options) = 0;
};

class RealReplicaProbe : public ReplicaProbe {
 public:
  explicit RealReplicaProbe(BlockingPool& pool) : pool_(pool) {}
  Task<Result<ReplicaStatus>> Probe(Target target, ProbeOptions options) override;

 private:
  BlockingPool& pool_;
};

}  // namespace caretaker::mysql
