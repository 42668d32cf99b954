// The replica probe against the real MariaDB primary and replicas of the
// shared sandbox. A test that stops a replication thread or creates a table
// undoes it when it ends, however it ends.
#include <dirent.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <ctime>
#include <thread>

#include "mysql/probe.h"
#include "tests/integration/loopback.h"
#include "tests/integration/run_sync.h"
#include "tests/sandbox/net.h"
#include "tests/sandbox/sandbox.h"

namespace caretaker::mysql {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::RunSync;

Target TargetFor(uint16_t port, std::string user = "caretaker") {
  Target t;
  t.host = "127.0.0.1";
  t.port = port;
  t.user = std::move(user);
  t.password = sandbox::Shared().mysql_password();
  t.connect_timeout = seconds(5);
  t.read_timeout = seconds(5);
  t.write_timeout = seconds(5);
  return t;
}

Result<ReplicaStatus> ProbeSync(const Target& target, ProbeOptions options = {}) {
  BlockingPool pool(2);
  RealReplicaProbe probe(pool);
  return RunSync(probe.Probe(target, std::move(options)));
}

std::string Describe(const Result<ReplicaStatus>& r) {
  if (!r) return std::string(ErrorCodeName(r.error().code)) + ": " + r.error().message;
  const ReplicaStatus& s = r.value();
  return std::string("io=") + ThreadStateName(s.io_thread) + " sql=" + ThreadStateName(s.sql_thread) +
         " lag=" + (s.lag ? std::to_string(s.lag->count()) + "ms" : "unknown") + " io_error=" + s.last_io_error +
         " sql_error=" + s.last_sql_error;
}

size_t ThreadCount() {
  size_t n = 0;
  DIR* dir = opendir("/proc/self/task");
  while (dirent* e = readdir(dir)) n += e->d_name[0] != '.';
  closedir(dir);
  return n;
}

// "YYYY-MM-DDTHH:MM:SS.ffffff" in UTC, `ago` before now.
std::string UtcHeartbeat(milliseconds ago) {
  auto now = std::chrono::system_clock::now() - ago;
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(us / 1000000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06lld", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<long long>(us % 1000000));
  return buf;
}

TEST_CASE("each sandbox replica: both threads running, small known lag, MariaDB", "[mysql]") {
  for (const auto& replica : sandbox::Shared().replicas()) {
    auto r = ProbeSync(TargetFor(replica.port));
    INFO(replica.name << ": " << Describe(r));
    REQUIRE(r);
    CHECK(r.value().version.flavor == Flavor::kMariaDB);
    CHECK(r.value().io_thread == ThreadState::kYes);
    CHECK(r.value().sql_thread == ThreadState::kYes);
    REQUIRE(r.value().lag.has_value());
    CHECK(*r.value().lag <= seconds(5));
    CHECK(r.value().lag_source == LagSource::kSecondsBehind);
    CHECK(r.value().last_io_error.empty());
    CHECK(r.value().last_sql_error.empty());
  }
}

TEST_CASE("the primary is not a replica", "[mysql]") {
  auto r = ProbeSync(TargetFor(sandbox::Shared().primary().port));
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::kNotAReplica);
  CHECK(r.error().message.find("127.0.0.1:" + std::to_string(sandbox::Shared().primary().port)) != std::string::npos);
}

TEST_CASE("a wrong password is access denied, naming the server", "[mysql]") {
  Target t = TargetFor(sandbox::Shared().replicas()[0].port);
  t.password = "not-the-password";
  auto r = ProbeSync(t);
  REQUIRE_FALSE(r);
  INFO(r.error().message);
  CHECK(r.error().code == ErrorCode::kAccessDenied);
  CHECK(r.error().errno_ == 1045);
  CHECK(r.error().message.find(Where(t)) != std::string::npos);
}

TEST_CASE("an account without REPLICA MONITOR is told which privilege it needs", "[mysql]") {
  auto r = ProbeSync(TargetFor(sandbox::Shared().replicas()[0].port, "caretaker_nopriv"));
  REQUIRE_FALSE(r);
  INFO(r.error().message);
  CHECK(r.error().code == ErrorCode::kMissingPrivilege);
  CHECK(r.error().errno_ == 1227);
  CHECK(r.error().message.find("REPLICA MONITOR (SLAVE MONITOR) is needed — GRANT it to user caretaker_nopriv") !=
        std::string::npos);
}

TEST_CASE("a closed port is a connect error, at once", "[mysql]") {
  Target t = TargetFor(sandbox::FreeLoopbackPorts(1)[0]);  // nobody listens there
  t.connect_timeout = seconds(10);
  const auto start = std::chrono::steady_clock::now();
  auto r = ProbeSync(t);
  REQUIRE_FALSE(r);
  INFO(r.error().message);
  CHECK(r.error().code == ErrorCode::kConnect);
  CHECK(r.error().message.find(Where(t)) != std::string::npos);
  CHECK(std::chrono::steady_clock::now() - start < seconds(5));  // refused, not timed out
}

TEST_CASE("a server that never greets is a timeout", "[mysql]") {
  testing::SilentListener hung(8);
  Target t = TargetFor(hung.port());
  t.connect_timeout = seconds(1);
  t.read_timeout = seconds(1);
  auto r = ProbeSync(t);
  REQUIRE_FALSE(r);
  INFO(r.error().message);
  CHECK(r.error().code == ErrorCode::kTimeout);
}

TEST_CASE("a statement that outlasts the read timeout is a timeout", "[mysql]") {
  Target t = TargetFor(sandbox::Shared().replicas()[0].port);
  t.read_timeout = seconds(1);
  auto connection = Connection::Open(t);
  REQUIRE(connection);
  auto r = connection.value().Query("SELECT SLEEP(3)");
  REQUIRE_FALSE(r);
  INFO(r.error().message);
  CHECK(r.error().code == ErrorCode::kTimeout);
  CHECK(r.error().message.find("SELECT SLEEP(3)") != std::string::npos);
}

TEST_CASE("TLS asked of a server without TLS is refused, not silently plain", "[mysql]") {
  const auto& replica = sandbox::Shared().replicas()[0];
  // The sandbox's MariaDB 10.11 has no certificate, so it cannot offer TLS.
  REQUIRE(sandbox::Shared().Sql(replica, "SELECT @@have_ssl") == "DISABLED\n");
  Target t = TargetFor(replica.port);
  t.tls.enabled = true;
  auto r = ProbeSync(t);
  REQUIRE_FALSE(r);
  INFO(r.error().message);
  CHECK(r.error().code == ErrorCode::kTls);
  CHECK(r.error().message.find(Where(t)) != std::string::npos);
}

// Restarts the SQL thread of a replica when the test ends.
struct StartSqlThreadOnExit {
  const sandbox::MysqlNode& replica;
  ~StartSqlThreadOnExit() {
    try {
      sandbox::Shared().Sql(replica, "START SLAVE SQL_THREAD");
    } catch (const std::exception& e) {
      FAIL_CHECK("restarting the SQL thread of " << replica.name << " failed: " << e.what());
    }
  }
};

TEST_CASE("a stopped SQL thread: not running, lag unknown (NULL), not 0", "[mysql]") {
  const auto& replica = sandbox::Shared().replicas()[1];
  {
    StartSqlThreadOnExit restore{replica};
    sandbox::Shared().Sql(replica, "STOP SLAVE SQL_THREAD");
    auto r = ProbeSync(TargetFor(replica.port));
    INFO(Describe(r));
    REQUIRE(r);
    CHECK(r.value().io_thread == ThreadState::kYes);
    CHECK(r.value().sql_thread == ThreadState::kNo);
    CHECK_FALSE(r.value().ThreadsRunning());
    CHECK_FALSE(r.value().lag.has_value());
  }
  auto again = ProbeSync(TargetFor(replica.port));
  INFO(Describe(again));
  REQUIRE(again);
  CHECK(again.value().ThreadsRunning());
}

// The primary's row of caretaker.heartbeat (pt-heartbeat layout), written on
// the primary and awaited on every replica. The table is dropped at exit.
struct HeartbeatTable {
  HeartbeatTable() {
    sandbox::Shared().Sql(sandbox::Shared().primary(),
                          "CREATE DATABASE IF NOT EXISTS caretaker; "
                          "CREATE TABLE IF NOT EXISTS caretaker.heartbeat(ts varchar(26) NOT NULL, server_id int "
                          "unsigned NOT NULL PRIMARY KEY, file varchar(255), position bigint unsigned, "
                          "relay_master_log_file varchar(255), exec_master_log_pos bigint unsigned)");
  }
  ~HeartbeatTable() {
    try {
      sandbox::Shared().Sql(sandbox::Shared().primary(), "DROP TABLE IF EXISTS caretaker.heartbeat");
    } catch (const std::exception& e) {
      FAIL_CHECK("dropping caretaker.heartbeat failed: " << e.what());
    }
  }
  void Beat(const std::string& ts) const {
    const auto& primary = sandbox::Shared().primary();
    const std::string id = std::to_string(primary.server_id);
    sandbox::Shared().Sql(primary, "REPLACE INTO caretaker.heartbeat(ts, server_id) VALUES ('" + ts + "', " + id + ")");
    for (const auto& replica : sandbox::Shared().replicas()) {
      const auto deadline = std::chrono::steady_clock::now() + seconds(10);
      while (sandbox::Shared().Sql(replica, "SELECT ts FROM caretaker.heartbeat WHERE server_id = " + id) !=
             ts + "\n") {
        REQUIRE(std::chrono::steady_clock::now() < deadline);
        std::this_thread::sleep_for(milliseconds(20));
      }
    }
  }
};

TEST_CASE("with a heartbeat table, lag is now minus the primary's heartbeat", "[mysql]") {
  HeartbeatTable table;
  ProbeOptions options;
  options.heartbeat = Heartbeat{"caretaker.heartbeat", static_cast<uint32_t>(sandbox::Shared().primary().server_id)};

  // Given a heartbeat 30 s old on caught-up replicas, expect about 30 s of lag:
  // Seconds_Behind_Master would say 0.
  table.Beat(UtcHeartbeat(seconds(30)));
  for (const auto& replica : sandbox::Shared().replicas()) {
    auto r = ProbeSync(TargetFor(replica.port), options);
    INFO(replica.name << ": " << Describe(r));
    REQUIRE(r);
    CHECK(r.value().lag_source == LagSource::kHeartbeat);
    REQUIRE(r.value().lag.has_value());
    CHECK(*r.value().lag >= seconds(29));
    CHECK(*r.value().lag <= seconds(40));
  }

  table.Beat(UtcHeartbeat(milliseconds(0)));
  auto fresh = ProbeSync(TargetFor(sandbox::Shared().replicas()[0].port), options);
  INFO(Describe(fresh));
  REQUIRE(fresh);
  REQUIRE(fresh.value().lag.has_value());
  CHECK(*fresh.value().lag <= seconds(5));

  // Given no row for the configured primary, expect the lag to be unknown.
  options.heartbeat->primary_server_id = 4242;
  auto norow = ProbeSync(TargetFor(sandbox::Shared().replicas()[0].port), options);
  REQUIRE(norow);
  CHECK(norow.value().lag_source == LagSource::kHeartbeat);
  CHECK_FALSE(norow.value().lag.has_value());
}

struct Tally {
  std::thread::id loop = std::this_thread::get_id();
  size_t ok = 0;
  size_t done = 0;
  size_t max_threads = 0;
  bool resumed_on_loop = true;
};

Task<void> ProbeAndCount(RealReplicaProbe& probe, Target target, Tally& tally) {
  auto op = probe.Probe(std::move(target), ProbeOptions{});
  auto r = co_await std::move(op);
  tally.resumed_on_loop = tally.resumed_on_loop && std::this_thread::get_id() == tally.loop;
  tally.ok += r && r.value().ThreadsRunning();
  tally.done += 1;
  tally.max_threads = std::max(tally.max_threads, ThreadCount());
}

TEST_CASE("200 concurrent probes of 3 replicas need no more threads than the pool", "[mysql]") {
  const auto& replicas = sandbox::Shared().replicas();
  const size_t before_pool = ThreadCount();
  BlockingPool pool(4);
  const size_t with_pool = ThreadCount();
  CHECK(with_pool == before_pool + 4);
  RealReplicaProbe probe(pool);
  Tally tally;
  boost::asio::io_context io;
  for (size_t i = 0; i < 200; ++i) {
    boost::asio::co_spawn(io, ProbeAndCount(probe, TargetFor(replicas[i % replicas.size()].port), tally),
                          [](std::exception_ptr e) {
                            if (e) std::rethrow_exception(e);
                          });
  }
  io.run();
  CHECK(tally.done == 200);
  CHECK(tally.ok == 200);
  CHECK(tally.resumed_on_loop);
  CHECK(tally.max_threads == with_pool);
  CHECK(ThreadCount() == with_pool);
}

TEST_CASE("blocking work runs on a pool thread and the caller resumes on its own", "[mysql]") {
  BlockingPool pool(2);
  const auto loop = std::this_thread::get_id();
  std::function<Result<std::thread::id>()> work = [] { return Result<std::thread::id>(std::this_thread::get_id()); };
  auto task = [&]() -> Task<Result<std::pair<std::thread::id, std::thread::id>>> {
    auto op = RunBlocking(pool, work);
    auto worker = co_await std::move(op);
    co_return std::pair{worker.value(), std::this_thread::get_id()};
  };
  auto [worker, resumed] = RunSync(task()).value();
  CHECK(worker != loop);
  CHECK(resumed == loop);
}

}  // namespace
}  // namespace caretaker::mysql
