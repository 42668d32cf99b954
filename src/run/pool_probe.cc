#include "src/run/pool_probe.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>
#include <optional>
#include <vector>

#include "src/run/maint_target.h"

namespace caretaker {

namespace asio = boost::asio;

asio::awaitable<MemberProbes> ProbeMembers(mysql::ReplicaProbe& probe, const Config& config, const PoolConfig& pool,
                                           const std::string& password) {
  // Result has no default value, which co_spawn needs: each probe stores its own.
  std::vector<std::optional<mysql::Result<mysql::ReplicaStatus>>> results(pool.members.size());
  auto probe_one = [&](size_t i) -> asio::awaitable<void> {
    auto op = probe.Probe(MemberTarget(config, pool.members[i], password), PoolProbeOptions(pool));
    results[i].emplace(co_await std::move(op));
  };
  asio::any_io_executor ex = co_await asio::this_coro::executor;
  using Op = decltype(co_spawn(ex, probe_one(0), asio::deferred));
  std::vector<Op> ops;
  for (size_t i = 0; i < results.size(); ++i) ops.push_back(co_spawn(ex, probe_one(i), asio::deferred));
  auto group = asio::experimental::make_parallel_group(std::move(ops));
  auto wait = group.async_wait(asio::experimental::wait_for_all(), asio::use_awaitable);
  auto [order, errors] = co_await std::move(wait);
  (void)order;
  MemberProbes out;
  for (size_t i = 0; i < results.size(); ++i) {
    if (errors[i]) std::rethrow_exception(errors[i]);
    out.insert_or_assign(pool.members[i].server, std::move(*results[i]));
  }
  co_return out;
}

}  // namespace caretaker
