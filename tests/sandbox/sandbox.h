// The sandbox: a MariaDB primary, N GTID replicas and M HAProxy instances
// fronting backend `replicas`, all on free loopback ports in a fresh temp dir.
//
// Contract: Start() returns only when replication runs on every replica and
// every HAProxy instance reports every server UP with a passed check; it throws
// std::runtime_error naming what did not come up (and the log to read). The
// destructor stops every process it started (by pid) and removes the temp dir.
// A watchdog process does the same if the owning process dies in any way
// (crash, SIGKILL, Ctrl-C), so nothing outlives a failed test. In a process
// forked from the owner without exec, the destructor does nothing (the copy
// owns nothing). Methods are not thread-safe: use a sandbox from one thread.
//
// The harness knows nothing of caretaker: it talks to MariaDB with the
// `mariadb` client and to HAProxy over raw sockets, so it can judge caretaker.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace caretaker::sandbox {

struct Options {
  int replicas = 3;
  int haproxies = 2;
  std::string parent_dir;  // default: $TMPDIR or /tmp
  bool keep_dir = false;   // leave the temp dir (logs) after teardown
  bool verbose = false;    // print each start-up step to stderr
};

struct MysqlNode {
  std::string name;      // "primary", "db1", "db2", ... (db<i> is HAProxy server db<i>)
  int server_id = 0;
  uint16_t port = 0;     // TCP on 127.0.0.1
  std::string socket;    // unix socket path (root's way in)
  std::string datadir;
  std::string error_log;
  pid_t pid = 0;         // 0 while stopped
  // Replicas: `control start|stop` stops or starts its mariadbd as a
  // maintenance task's step would. A server started that way is not a child
  // of the sandbox: it is adopted from its pid file (`adopted`) by the next
  // StopReplica/StartReplica/Resync, and by the teardown.
  std::string control;
  bool adopted = false;
};

struct HaproxyNode {
  std::string name;             // "lb1", "lb2", ...
  std::string admin_socket;     // unix socket, level admin
  std::string operator_socket;  // unix socket, level operator; only on lb1, else empty
  uint16_t admin_tcp_port = 0;  // tcp stats socket, level admin, on 127.0.0.1
  uint16_t frontend_port = 0;   // mode tcp frontend -> backend `replicas`
  std::string config_path;
  std::string state_file;       // server-state-file
  std::string log_path;         // stderr of the process
  pid_t pid = 0;
};

class Sandbox {
 public:
  static std::unique_ptr<Sandbox> Start(const Options& options);
  ~Sandbox();
  Sandbox(const Sandbox&) = delete;
  Sandbox& operator=(const Sandbox&) = delete;

  const std::string& dir() const;
  // A caretaker TOML config describing this sandbox: instances lb1.. (lb1 over
  // its unix admin socket, the others over their tcp admin socket), pool
  // `replicas` (backend `replicas`, members db1..dbN), MySQL user `caretaker`
  // with its password in `password_file` (mode 0600).
  const std::string& config_path() const;
  const MysqlNode& primary() const;
  const std::vector<MysqlNode>& replicas() const;
  const std::vector<HaproxyNode>& haproxies() const;

  // MySQL accounts created on the primary (replicated everywhere):
  //   root (unix socket, no password), caretaker@127.0.0.1 (password in
  //   password_file; REPLICA MONITOR, PROCESS, SELECT), caretaker_nopriv@127.0.0.1
  //   (same password, USAGE only), haproxy_check@127.0.0.1 (no password, for
  //   option mysql-check), repl@127.0.0.1 (REPLICATION SLAVE).
  const std::string& mysql_password() const;
  const std::string& password_file() const;

  // Runs SQL as root through the `mariadb` client over the node's unix socket;
  // returns its batch output (tab-separated, no column names). Throws on error.
  std::string Sql(const MysqlNode& node, std::string_view sql) const;

  // Stops replica i (0-based) cleanly (SIGTERM, wait) / starts it again (if
  // stopped) with the same arguments and waits until it answers and both
  // replication threads run. HAProxy notices on its own: call WaitAllUp().
  void StopReplica(size_t i);
  void StartReplica(size_t i);
  // SIGKILL of replica i's mariadbd, as a crash: returns once it is gone.
  // HAProxy notices only after its checks fail `fall` times; StartReplica(i)
  // brings it back.
  void KillReplica(size_t i);
  // Catches up with what `control` scripts did: a server that exited is
  // reaped, one started by a script is adopted (see MysqlNode::control).
  void Resync();

  // SIGSTOP / SIGCONT of HAProxy instance i: its sockets accept but never answer.
  // Both return once the kernel reports the change; repeating one is a no-op.
  void PauseHaproxy(size_t i);
  void ResumeHaproxy(size_t i);

  // Reloads HAProxy instance i the usual way, `haproxy -db -f CFG -sf OLD`,
  // without saving its server state first: the new process starts every
  // server READY, whatever the old one held. Returns once the new process
  // answers on its admin socket; the old one finishes its sessions and exits
  // (or is stopped at teardown).
  void ReloadHaproxy(size_t i);

  // Sends one command line to HAProxy instance i over its admin unix socket and
  // returns the whole reply (blocking, 5 s timeout, throws on failure).
  std::string HaproxyCommand(size_t i, std::string_view command) const;

  // Waits until every server of backend `replicas` is UP with a passed check
  // and READY (no drain/maint bit) on every instance; throws after `timeout`.
  void WaitAllUp(std::chrono::milliseconds timeout) const;

 private:
  Sandbox();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The sandbox shared by all tests of one binary (the integration tests):
// started with default Options on first use (seconds), torn down at process
// exit. A test that disturbs it (stops a replica, pauses or drains on an
// HAProxy instance, changes data a later test reads) restores it before it
// ends, e.g. StartReplica(i) and then WaitAllUp(). The environment can ask for
// CARETAKER_SANDBOX_VERBOSE=1 (print start-up steps) and CARETAKER_SANDBOX_KEEP=1
// (keep the dir and its logs). Throws like Start() on each call until a start
// succeeds.
Sandbox& Shared();

}  // namespace caretaker::sandbox
