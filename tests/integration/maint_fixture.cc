// See maint_fixture.h.
#include "tests/integration/maint_fixture.h"

#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "src/store/state_store.h"

namespace caretaker::maint_fixture {

using namespace std::chrono_literals;

// Four replicas (a floor of 3 of 4 needs them), separate from the shared
// sandbox so that maintenance here never disturbs the other tests.
sandbox::Sandbox& MaintSandbox() {
  static std::unique_ptr<sandbox::Sandbox> sb = StartOwnSandbox(4);
  return *sb;
}

Run Caretaker(const std::string& args, const std::string& config) {
  return RunCaretaker(MaintSandbox(), args, config);
}

std::string PoolVariant(const std::string& name, const std::string& extra) {
  const std::string anchor = "backend = \"replicas\"\n";
  std::string text = ConfigText(MaintSandbox());
  size_t at = text.find(anchor);
  REQUIRE(at != std::string::npos);
  // Keys first, sub-tables last: split `extra` at its first table header.
  size_t table = extra.find("\n[");
  std::string keys = table == std::string::npos ? extra : extra.substr(0, table + 1);
  std::string tables = table == std::string::npos ? "" : extra.substr(table + 1);
  text.insert(at + anchor.size(), keys);
  if (!tables.empty()) {
    size_t members = text.find("\n[[pools.members]]");
    REQUIRE(members != std::string::npos);
    text.insert(members + 1, tables + "\n");
  }
  return WriteFileIn(MaintSandbox(), name, text);
}

std::vector<std::string> AdminStates(const std::string& server, const std::string& backend) {
  std::vector<std::string> out;
  for (size_t i = 0; i < MaintSandbox().haproxies().size(); ++i) {
    std::istringstream reply(MaintSandbox().HaproxyCommand(i, "show servers state " + backend));
    std::string line;
    while (std::getline(reply, line)) {
      std::istringstream fields(line);
      std::vector<std::string> f;
      for (std::string w; fields >> w;) f.push_back(w);
      // be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state ...
      if (f.size() > 6 && f[1] == backend && f[3] == server) out.push_back(f[6]);
    }
  }
  return out;
}

std::string AllStates() {
  std::string out;
  for (const auto& r : MaintSandbox().replicas()) {
    for (const std::string& s : AdminStates(r.name)) out += r.name + "=" + s + " ";
  }
  return out;
}


void Reset() {
  auto& sb = MaintSandbox();
  auto store = OpenSqliteStore(sb.dir() + "/state/caretaker.db").value();
  auto records = store->List().value();
  for (const MaintRecord& r : records) REQUIRE(store->Remove(r.pool, r.server));
  for (size_t i = 0; i < sb.haproxies().size(); ++i) {
    for (const auto& r : sb.replicas()) {
      sb.HaproxyCommand(i, "set server replicas/" + r.name + " state ready");
      sb.HaproxyCommand(i, "set server replicas/" + r.name + " weight 100%");
    }
  }
  sb.WaitAllUp(20s);
}

AppSession OpenAppSession() {
  auto& sb = MaintSandbox();
  mysql::Target t;
  t.port = sb.haproxies()[0].frontend_port;
  t.user = "caretaker";
  t.password = sb.mysql_password();
  auto c = mysql::Connection::Open(t);
  REQUIRE(c);
  auto rows = c.value().Query("SELECT @@port");
  REQUIRE(rows);
  std::string port = *rows.value().rows.at(0).at(0);
  for (const auto& r : sb.replicas()) {
    if (std::to_string(r.port) == port) return AppSession{std::move(c.value()), r.name};
  }
  FAIL("no replica has port " << port);
  throw;
}

void WriteHeartbeat(const std::string& ts) {
  auto& sb = MaintSandbox();
  sb.Sql(sb.primary(),
         "CREATE DATABASE IF NOT EXISTS maint_test; CREATE TABLE IF NOT EXISTS maint_test.heartbeat(ts "
         "varchar(26) NOT NULL, server_id int unsigned NOT NULL PRIMARY KEY, file varchar(255), position bigint "
         "unsigned, relay_master_log_file varchar(255), exec_master_log_pos bigint unsigned); "
         "REPLACE INTO maint_test.heartbeat(ts, server_id) VALUES ('" + ts + "', " +
             std::to_string(sb.primary().server_id) + ")");
}

std::string HoldBackDb4(const std::string& name, const std::string& catch_up_timeout) {
  auto& sb = MaintSandbox();
  const auto& db4 = sb.replicas()[3];
  std::string now = sb.Sql(sb.primary(),
                           "SELECT DATE_FORMAT(UTC_TIMESTAMP(6) - INTERVAL 30 SECOND, '%Y-%m-%dT%H:%i:%s.%f')");
  now = now.substr(0, 26);
  WriteHeartbeat(now);
  auto until = std::chrono::steady_clock::now() + 10s;
  auto replicated = [&] {
    try {
      return sb.Sql(db4, "SELECT ts FROM maint_test.heartbeat").substr(0, 26) == now;
    } catch (const std::exception&) {
      return false;  // the table has not reached db4 yet
    }
  };
  while (!replicated()) {
    REQUIRE(std::chrono::steady_clock::now() < until);
    std::this_thread::sleep_for(50ms);
  }
  sb.Sql(db4, "STOP SLAVE; CHANGE MASTER TO MASTER_DELAY = 3600; START SLAVE");
  WriteHeartbeat("2099-01-01T00:00:00.000000");  // held back on db4 by the delay
  return PoolVariant(name, "\n[pools.gates]\nmax_lag = \"1s\"\ncatch_up_timeout = \"" + catch_up_timeout +
                               "\"\nheartbeat_table = \"maint_test.heartbeat\"\nheartbeat_server_id = " +
                               std::to_string(sb.primary().server_id) + "\n");
}

void LetDb4CatchUp() {
  auto& sb = MaintSandbox();
  sb.Sql(sb.replicas()[3], "STOP SLAVE; CHANGE MASTER TO MASTER_DELAY = 0; START SLAVE");
}

bool Running(pid_t pid) { return waitpid(pid, nullptr, WNOHANG) == 0; }

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace caretaker::maint_fixture
