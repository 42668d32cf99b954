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
#include <filesystem>
#include <stdexcept>
#include <thread>

#include "mysql/gtid.h"
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

// ---- Warm-up (Innodb_buffer_pool_load_status) and GTID catch-up ----------

std::string Trimmed(std::string s) {
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

std::string LoadStatus(const sandbox::MysqlNode& node) {
  return Trimmed(sandbox::Shared().Sql(node, "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS "
                                             "WHERE VARIABLE_NAME = 'INNODB_BUFFER_POOL_LOAD_STATUS'"));
}

// Waits (10 s at most) until the node's load status starts with `prefix`.
void AwaitLoadStatus(const sandbox::MysqlNode& node, const std::string& prefix) {
  const auto deadline = std::chrono::steady_clock::now() + seconds(10);
  while (!LoadStatus(node).starts_with(prefix)) {
    if (std::chrono::steady_clock::now() > deadline) {
      throw std::runtime_error(node.name + ": load status is still '" + LoadStatus(node) + "', not '" + prefix +
                               "...'");
    }
    std::this_thread::sleep_for(milliseconds(20));
  }
}

TEST_CASE("each sandbox replica's buffer-pool load is completed: warm-up done", "[mysql][warmup]") {
  // mariadb-install-db dumps the pool when it shuts down, so the datadir the
  // sandbox copies has an ib_buffer_pool: a fresh replica loads it at start.
  for (const auto& replica : sandbox::Shared().replicas()) {
    auto r = ProbeSync(TargetFor(replica.port));
    INFO(replica.name << ": " << Describe(r));
    REQUIRE(r);
    REQUIRE(r.value().warmup.has_value());
    INFO("load status: " << r.value().warmup->text);
    CHECK(r.value().warmup->state == BufferPoolLoad::State::kCompleted);
    CHECK(r.value().warmup->Done());
    CHECK(r.value().warmup->text.starts_with("Buffer pool(s) load completed at "));
  }
}

// Moves a replica's buffer-pool dump (ib_buffer_pool) aside, and at exit
// moves it back and reloads it. (innodb_buffer_pool_filename is read-only on
// MariaDB 10.11.)
struct DumpFileAside {
  const sandbox::MysqlNode& replica;
  std::filesystem::path file = std::filesystem::path(replica.datadir) / "ib_buffer_pool";
  std::filesystem::path aside = file.string() + ".caretaker-test";
  explicit DumpFileAside(const sandbox::MysqlNode& r) : replica(r) { std::filesystem::rename(file, aside); }
  ~DumpFileAside() {
    try {
      std::filesystem::rename(aside, file);
      sandbox::Shared().Sql(replica, "SET GLOBAL innodb_buffer_pool_load_now = ON");
      AwaitLoadStatus(replica, "Buffer pool(s) load completed at ");
    } catch (const std::exception& e) {
      FAIL_CHECK("restoring the buffer pool dump of " << replica.name << " failed: " << e.what());
    }
  }
};

TEST_CASE("a load with no dump file says 'Cannot open': nothing to load, done", "[mysql][warmup]") {
  const auto& replica = sandbox::Shared().replicas()[2];
  DumpFileAside aside(replica);
  sandbox::Shared().Sql(replica, "SET GLOBAL innodb_buffer_pool_load_now = ON");
  AwaitLoadStatus(replica, "Cannot open '");
  auto r = ProbeSync(TargetFor(replica.port));
  INFO(Describe(r));
  REQUIRE(r);
  REQUIRE(r.value().warmup.has_value());
  INFO("load status: " << r.value().warmup->text);
  CHECK_THAT(r.value().warmup->text, Catch::EndsWith("/ib_buffer_pool' for reading: No such file or directory"));
  CHECK(r.value().warmup->state == BufferPoolLoad::State::kNothingToLoad);
  CHECK(r.value().warmup->Done());
}

// A database on the primary for rows that make GTIDs; dropped at exit.
struct GtidTestTable {
  GtidTestTable() {
    sandbox::Shared().Sql(sandbox::Shared().primary(),
                          "CREATE DATABASE IF NOT EXISTS caretaker_gtid_test; "
                          "CREATE TABLE IF NOT EXISTS caretaker_gtid_test.t(id int PRIMARY KEY AUTO_INCREMENT)");
  }
  ~GtidTestTable() {
    try {
      sandbox::Shared().Sql(sandbox::Shared().primary(), "DROP DATABASE IF EXISTS caretaker_gtid_test");
    } catch (const std::exception& e) {
      FAIL_CHECK("dropping caretaker_gtid_test failed: " << e.what());
    }
  }
  void Write() const {
    sandbox::Shared().Sql(sandbox::Shared().primary(), "INSERT INTO caretaker_gtid_test.t VALUES ()");
  }
};

// An open connection and the server's version.
struct OpenServer {
  Connection connection;
  ServerVersion version;
};

OpenServer OpenAt(const Target& target) {
  auto c = Connection::Open(target);
  REQUIRE(c);
  auto v = ReadVersion(c.value());
  REQUIRE(v);
  return {std::move(c).value(), v.value()};
}

TEST_CASE("WaitForGtid: reached on a running replica, timed out with its SQL thread stopped", "[mysql][gtid]") {
  const auto& primary = sandbox::Shared().primary();
  const auto& replica = sandbox::Shared().replicas()[1];
  GtidTestTable table;
  table.Write();
  OpenServer p = OpenAt(TargetFor(primary.port));
  auto position = ReadGtidPosition(p.connection, p.version);
  REQUIRE(position);
  CHECK(position.value() == Trimmed(sandbox::Shared().Sql(primary, "SELECT @@GLOBAL.gtid_binlog_pos")));
  Target rt = TargetFor(replica.port);
  rt.read_timeout = seconds(2);  // waits go in slices of 1 s
  OpenServer r = OpenAt(rt);
  auto reached = WaitForGtid(r.connection, r.version, position.value(), seconds(10), rt.read_timeout);
  REQUIRE(reached);
  CHECK(reached.value());

  std::string later;
  {
    StartSqlThreadOnExit restore{replica};
    sandbox::Shared().Sql(replica, "STOP SLAVE SQL_THREAD");
    table.Write();
    auto read = ReadGtidPosition(p.connection, p.version);
    REQUIRE(read);
    later = read.value();
    CHECK(later != position.value());
    const auto start = std::chrono::steady_clock::now();
    // Longer than the read timeout: sliced, so a timeout and not a lost connection.
    auto timed_out = WaitForGtid(r.connection, r.version, later, milliseconds(3000), rt.read_timeout);
    const auto waited = std::chrono::steady_clock::now() - start;
    INFO((timed_out ? "" : timed_out.error().message));
    REQUIRE(timed_out);
    CHECK_FALSE(timed_out.value());
    CHECK(waited >= milliseconds(2900));
    CHECK(waited < seconds(5));
    auto short_wait = WaitForGtid(r.connection, r.version, later, milliseconds(1000), rt.read_timeout);
    REQUIRE(short_wait);
    CHECK_FALSE(short_wait.value());
  }
  // SQL thread restarted: the same position is reached.
  auto again = WaitForGtid(r.connection, r.version, later, seconds(10), rt.read_timeout);
  REQUIRE(again);
  CHECK(again.value());
}

TEST_CASE("WaitForPrimaryPosition needs no privilege: an account with USAGE only", "[mysql][gtid]") {
  GtidTestTable table;
  table.Write();
  for (const char* user : {"caretaker", "caretaker_nopriv"}) {
    INFO(user);
    auto r = WaitForPrimaryPosition(TargetFor(sandbox::Shared().primary().port, user),
                                    TargetFor(sandbox::Shared().replicas()[0].port, user), seconds(10));
    INFO((r ? "" : r.error().message));
    REQUIRE(r);
    CHECK(r.value());
  }
}

}  // namespace
}  // namespace caretaker::mysql
