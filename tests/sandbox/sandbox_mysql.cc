// The MariaDB side of the sandbox: one installed data dir copied for every
// server, mariadbd processes, accounts and GTID replication, all through the
// `mariadb` client as root over unix sockets.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <utility>
#include <thread>

#include "tests/sandbox/files.h"
#include "tests/sandbox/net.h"
#include "tests/sandbox/process.h"
#include "tests/sandbox/sandbox_impl.h"

namespace caretaker::sandbox {
namespace {

namespace fs = std::filesystem;

constexpr auto kSqlTimeout = std::chrono::seconds(60);
constexpr auto kInstallTimeout = std::chrono::seconds(120);
constexpr auto kReplicationTimeout = std::chrono::seconds(30);
constexpr auto kStopGrace = std::chrono::seconds(30);
constexpr auto kPollInterval = std::chrono::milliseconds(10);

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  return s;
}

std::vector<std::string> SplitTabs(const std::string& line) {
  std::vector<std::string> fields;
  std::istringstream in(line);
  for (std::string field; std::getline(in, field, '\t');) fields.push_back(field);
  if (!line.empty() && line.back() == '\t') fields.emplace_back();
  return fields;
}

std::string NodeHome(const MysqlNode& node) {
  return fs::path(node.datadir).parent_path().string();
}

std::vector<std::string> MariadbdArgv(const MysqlNode& node) {
  std::string home = NodeHome(node);
  TemplateVars vars = {
      {"datadir", node.datadir},          {"socket", node.socket},
      {"port", std::to_string(node.port)}, {"server_id", std::to_string(node.server_id)},
      {"error_log", node.error_log},      {"pid_file", home + "/mysqld.pid"},
      {"tmpdir", home + "/tmp"},
  };
  std::vector<std::string> argv = {"mariadbd", "--no-defaults"};
  for (auto& arg : RenderArgsFile("mariadbd.args", vars)) argv.push_back(std::move(arg));
  return argv;
}

// SHOW SLAVE STATUS in one line for error messages.
std::string DescribeReplication(const MysqlNode& replica) {
  try {
    auto row = FirstRow(RunSql(replica, "SHOW SLAVE STATUS", /*column_names=*/true));
    if (row.empty()) return "not a replica (SHOW SLAVE STATUS has no row)";
    return "Slave_IO_Running=" + row["Slave_IO_Running"] +
           " Slave_SQL_Running=" + row["Slave_SQL_Running"] + " Gtid_IO_Pos=" +
           row["Gtid_IO_Pos"] + " Last_IO_Error='" + row["Last_IO_Error"] +
           "' Last_SQL_Error='" + row["Last_SQL_Error"] + "'";
  } catch (const std::exception& e) {
    return e.what();
  }
}

}  // namespace

std::string RunSql(const MysqlNode& node, std::string_view sql, bool column_names) {
  std::vector<std::string> argv = {"mariadb", "--no-defaults", "-S", node.socket, "-uroot", "-B"};
  if (!column_names) argv.push_back("-N");
  argv.push_back("-e");
  argv.emplace_back(sql);
  CommandResult result = RunCommand(argv, kSqlTimeout);
  if (!result.ok()) {
    throw std::runtime_error("SQL on " + node.name + " (" + node.socket + ") failed, " +
                             DescribeWaitStatus(result.status) + ": " + Trim(result.err) +
                             "\n  statement: " + std::string(sql));
  }
  return result.out;
}

std::map<std::string, std::string> FirstRow(const std::string& batch_output) {
  std::istringstream in(batch_output);
  std::string header, values;
  std::map<std::string, std::string> row;
  if (!std::getline(in, header) || !std::getline(in, values)) return row;
  std::vector<std::string> names = SplitTabs(header), fields = SplitTabs(values);
  for (size_t i = 0; i < names.size() && i < fields.size(); ++i) row[names[i]] = fields[i];
  return row;
}

void Sandbox::Impl::InstallDataDirs() {
  std::string log = dir + "/install-db.log";
  std::vector<std::string> argv = {"mariadb-install-db"};
  // Its own tmpdir: bootstraps of concurrent sandboxes must not share /tmp's
  // temporary tables.
  std::string tmpdir = dir + "/install-tmp";
  fs::create_directories(tmpdir);
  for (auto& arg : RenderArgsFile("install-db.args", {{"datadir", primary.datadir}, {"tmpdir", tmpdir}})) {
    argv.push_back(std::move(arg));
  }
  // Tracked: if the owner dies meanwhile, the watchdog kills it and its
  // bootstrap server (same process group).
  pid_t install_pid = 0;
  CommandResult result = RunCommand(argv, kInstallTimeout, [&](pid_t pid) {
    watchdog->Track(install_pid = pid, "mariadb-install-db");
  });
  watchdog->Untrack(install_pid);
  WriteFile(log, "$ " + JoinArgv(argv) + "\n" + result.out + result.err);
  if (!result.ok()) {
    throw std::runtime_error("mariadb-install-db failed, " + DescribeWaitStatus(result.status) +
                             SeeLog(log));
  }
  // A copy is far faster than one install per server. Server identity lives in
  // --server-id (MariaDB has no auto.cnf server_uuid to clash).
  std::vector<std::thread> copies;
  std::vector<std::string> errors(replicas.size());
  for (size_t i = 0; i < replicas.size(); ++i) {
    copies.emplace_back([this, i, &errors] {
      std::error_code ec;
      fs::copy(primary.datadir, replicas[i].datadir, fs::copy_options::recursive, ec);
      if (ec) errors[i] = "copying " + primary.datadir + " to " + replicas[i].datadir + ": " +
                          ec.message();
    });
  }
  for (auto& copy : copies) copy.join();
  for (const auto& error : errors) {
    if (!error.empty()) throw std::runtime_error(error);
  }
}

void Sandbox::Impl::SpawnMysqld(MysqlNode& node) {
  // stdout/stderr (option errors before --log-error applies) join the error log.
  ScopedFd log(OpenLog(node.error_log));
  SpawnOptions spawn;
  spawn.argv = MariadbdArgv(node);
  spawn.stdout_fd = log.get();
  spawn.stderr_fd = log.get();
  node.pid = Spawn(spawn);
  watchdog->Track(node.pid, "mariadbd " + node.name);
}

void Sandbox::Impl::WaitMysqlReady(MysqlNode& node, Clock::time_point deadline) {
  for (;;) {
    if (node.pid == 0) throw std::runtime_error("mariadbd " + node.name + " is not running");
    if (node.adopted && !ProcessAlive(node.pid)) {
      watchdog->Untrack(std::exchange(node.pid, 0));
      node.adopted = false;
      throw std::runtime_error("mariadbd " + node.name + " (started by its control script) exited" +
                               SeeLog(node.error_log));
    }
    // Not a child when adopted: waitpid would not know it.
    if (auto status = node.adopted ? std::nullopt : TryReap(node.pid)) {
      watchdog->Untrack(std::exchange(node.pid, 0));
      throw std::runtime_error("mariadbd " + node.name + " exited during start-up, " +
                               DescribeWaitStatus(*status) + SeeLog(node.error_log));
    }
    // MariaDB creates its socket once InnoDB is up and it is about to serve.
    if (UnixSocketAccepts(node.socket)) return;
    if (Clock::now() >= deadline) {
      throw std::runtime_error("mariadbd " + node.name + " did not accept connections on " +
                               node.socket + " in time" + SeeLog(node.error_log));
    }
    std::this_thread::sleep_for(kPollInterval);
  }
}

void Sandbox::Impl::SetUpReplication() {
  TemplateVars vars = {{"password", password}, {"primary_port", std::to_string(primary.port)}};
  RunSql(primary, RenderTemplateFile("accounts.sql", vars));
  // Replicas start from the primary's first GTID, so they get the accounts too.
  std::string change_master = RenderTemplateFile("change-master.sql", vars);
  for (const auto& replica : replicas) RunSql(replica, change_master);
  progress.Step("accounts created on primary; replicas pointed at it (MASTER_USE_GTID=slave_pos)");

  std::string gtid_pos = Trim(RunSql(primary, "SELECT @@GLOBAL.gtid_binlog_pos"));
  auto deadline = Clock::now() + kReplicationTimeout;
  for (const auto& replica : replicas) {
    WaitCaughtUp(replica, gtid_pos, deadline);
    WaitReplicaRunning(replica, deadline);
    std::string accounts = Trim(RunSql(
        replica, "SELECT COUNT(*) FROM mysql.user WHERE host = '127.0.0.1' AND user IN "
                 "('repl', 'caretaker', 'caretaker_nopriv', 'haproxy_check')"));
    if (accounts != "4") {
      throw std::runtime_error("replica " + replica.name + " has " + accounts +
                               " of the 4 sandbox accounts after applying " + gtid_pos);
    }
  }
  progress.Step("replication running on every replica, at " + gtid_pos);
}

void Sandbox::Impl::WaitCaughtUp(const MysqlNode& replica, const std::string& gtid_pos,
                                 Clock::time_point deadline) const {
  // MASTER_GTID_WAIT: 0 reached, -1 timed out. Short waits, so a broken SQL
  // thread is reported at once rather than at the deadline.
  std::string wait = "SELECT MASTER_GTID_WAIT('" + gtid_pos + "', 0.5)";
  for (;;) {
    if (Trim(RunSql(replica, wait)) == "0") return;
    auto row = FirstRow(RunSql(replica, "SHOW SLAVE STATUS", true));
    bool sql_failed = !row.empty() && row["Slave_SQL_Running"] == "No";
    if (sql_failed || Clock::now() >= deadline) {
      throw std::runtime_error("replica " + replica.name + " did not reach GTID " + gtid_pos +
                               ": " + DescribeReplication(replica) + SeeLog(replica.error_log));
    }
  }
}

void Sandbox::Impl::WaitReplicaRunning(const MysqlNode& replica,
                                       Clock::time_point deadline) const {
  for (;;) {
    auto row = FirstRow(RunSql(replica, "SHOW SLAVE STATUS", true));
    if (row["Slave_IO_Running"] == "Yes" && row["Slave_SQL_Running"] == "Yes") return;
    if (Clock::now() >= deadline) {
      throw std::runtime_error("replica " + replica.name + ": replication threads not running: " +
                               DescribeReplication(replica) + SeeLog(replica.error_log));
    }
    std::this_thread::sleep_for(kPollInterval * 5);
  }
}

void Sandbox::Impl::StopMysqld(MysqlNode& node) {
  Resync(node);
  if (node.pid == 0) return;
  pid_t pid = std::exchange(node.pid, 0);
  if (std::exchange(node.adopted, false)) {
    StopForeign(pid, kStopGrace);
  } else {
    StopProcesses({pid}, kStopGrace);
  }
  watchdog->Untrack(pid);
}

void Sandbox::Impl::Resync(MysqlNode& node) {
  if (node.pid != 0 && !node.adopted && PeekExit(node.pid)) {
    TryReap(node.pid);  // stopped by its control script
    watchdog->Untrack(std::exchange(node.pid, 0));
  }
  if (node.pid != 0 && node.adopted && !ProcessAlive(node.pid)) {
    watchdog->Untrack(std::exchange(node.pid, 0));
    node.adopted = false;
  }
  if (node.pid != 0) return;
  std::ifstream in(NodeHome(node) + "/mysqld.pid");
  pid_t pid = 0;
  if (!(in >> pid) || !ProcessAlive(pid) || !CmdlineContains(pid, node.datadir)) return;
  node.pid = pid;
  node.adopted = true;
  watchdog->Track(pid, "mariadbd " + node.name + " (started by its control script)");
}

namespace {

std::string Sh(std::string_view text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace

void Sandbox::Impl::WriteControlScript(MysqlNode& node) const {
  std::string argv;
  for (const std::string& arg : MariadbdArgv(node)) argv += " " + Sh(arg);
  node.control = NodeHome(node) + "/control";
  WriteFile(node.control,
            "#!/bin/sh\n"
            "# control stop|start: this sandbox replica's mariadbd, as a maintenance task\n"
            "# step stops and starts it. Written by the sandbox.\n"
            "set -u\n"
            "name=" + Sh(node.name) + "\n"
            "pid_file=" + Sh(NodeHome(node) + "/mysqld.pid") + "\n"
            "socket=" + Sh(node.socket) + "\n"
            "pid=$(cat \"$pid_file\" 2>/dev/null || true)\n"
            "alive() { [ -n \"$pid\" ] && [ -r /proc/$pid/stat ] && "
            "! sed 's/.*) //' /proc/$pid/stat | grep -q '^[ZX]'; }\n"
            "case ${1:-} in\n"
            "stop)\n"
            "  if ! alive; then echo \"$name: mariadbd is not running\"; exit 0; fi\n"
            "  echo \"$name: stopping mariadbd (pid $pid)\"\n"
            "  kill -TERM \"$pid\"\n"
            "  i=0; while alive; do i=$((i + 1))\n"
            "    if [ $i -gt 600 ]; then echo \"$name: mariadbd $pid did not stop in 60s\" >&2; exit 1; fi\n"
            "    sleep 0.1; done\n"
            "  echo \"$name: mariadbd stopped\" ;;\n"
            "start)\n"
            "  if alive; then echo \"$name: mariadbd is already running (pid $pid)\"; exit 0; fi\n"
            "  echo \"$name: starting mariadbd\"\n"
            "  setsid" + argv + " >>" + Sh(node.error_log) + " 2>&1 </dev/null &\n"
            "  i=0; until mariadb-admin --no-defaults --socket=\"$socket\" -uroot ping >/dev/null 2>&1; do\n"
            "    i=$((i + 1))\n"
            "    if [ $i -gt 600 ]; then echo \"$name: mariadbd does not answer after 60s\" >&2; exit 1; fi\n"
            "    sleep 0.1; done\n"
            "  echo \"$name: mariadbd answers (pid $(cat \"$pid_file\"))\" ;;\n"
            "*) echo \"usage: $0 stop|start\" >&2; exit 2 ;;\n"
            "esac\n",
            0755);
}

}  // namespace caretaker::sandbox
