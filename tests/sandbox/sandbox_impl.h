// Private to the sandbox library: the state behind Sandbox and the steps
// Start() runs, split by component: sandbox.cc (layout, lifecycle, config),
// sandbox_mysql.cc (MariaDB), sandbox_haproxy.cc (HAProxy).
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tests/sandbox/sandbox.h"
#include "tests/sandbox/watchdog.h"

namespace caretaker::sandbox {

using Clock = std::chrono::steady_clock;

// Start-up steps on stderr, each with the time since Start() began.
class Progress {
 public:
  explicit Progress(bool enabled) : enabled_(enabled), start_(Clock::now()) {}
  void Step(std::string_view what) const;
  std::chrono::milliseconds Elapsed() const;

 private:
  bool enabled_;
  Clock::time_point start_;
};

// Runs `sql` as root over the node's unix socket with the `mariadb` client in
// batch mode (tab-separated; a header line only with `column_names`). Throws
// naming the node, the client's error and the statement.
std::string RunSql(const MysqlNode& node, std::string_view sql, bool column_names = false);

// Batch output with column names -> the first row by column name; empty if no row.
std::map<std::string, std::string> FirstRow(const std::string& batch_output);

struct Sandbox::Impl {
  Options options;
  pid_t owner_pid = 0;  // the destructor does nothing in a forked copy
  std::string dir;
  std::string config_path;
  std::string password;
  std::string password_file;
  MysqlNode primary;
  std::vector<MysqlNode> replicas;
  std::vector<HaproxyNode> haproxies;
  std::vector<bool> paused;  // per haproxy: SIGSTOPped by PauseHaproxy
  std::vector<pid_t> retired;  // haproxy processes replaced by a reload, stopped at teardown
  std::unique_ptr<Watchdog> watchdog;
  Progress progress{false};

  // sandbox.cc
  void Boot(const Options& start_options);
  void LayOut();
  void WriteCaretakerConfig() const;
  void Teardown() noexcept;

  // sandbox_mysql.cc
  void InstallDataDirs();
  void SpawnMysqld(MysqlNode& node);
  // Waits until the node accepts connections; throws if it exits or times out.
  void WaitMysqlReady(MysqlNode& node, Clock::time_point deadline);
  // Accounts on the primary, CHANGE MASTER on every replica, then waits until
  // each replica has applied the primary's GTID position with both threads on.
  void SetUpReplication();
  void WaitReplicaRunning(const MysqlNode& replica, Clock::time_point deadline) const;
  void WaitCaughtUp(const MysqlNode& replica, const std::string& gtid_pos,
                    Clock::time_point deadline) const;
  void StopMysqld(MysqlNode& node);
  // The `control` script of a replica (its argv, sockets and files).
  void WriteControlScript(MysqlNode& node) const;
  // Reaps a child that exited, adopts a server a control script started.
  void Resync(MysqlNode& node);

  // sandbox_haproxy.cc
  void SpawnHaproxy(HaproxyNode& node);
  // `haproxy -db -f CFG -sf OLD` with the state file emptied; waits until the
  // new process answers `show info` with its own pid.
  void ReloadHaproxy(HaproxyNode& node);
  // "" if every server of backend `replicas` is UP, check L7OK and READY on
  // instance i; else what is not (for the timeout message).
  std::string NotReadyOn(size_t i) const;
  void WaitAllUp(std::chrono::milliseconds timeout) const;
};

}  // namespace caretaker::sandbox
