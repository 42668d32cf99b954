// The HAProxy side of the sandbox: one config per instance from
// conf/sandbox/haproxy.cfg, `haproxy -db` as a direct child, and readiness read
// from the admin socket: `show stat` for health, `show servers state` for the
// admin state (see /work/shared/FACTS.md).
#include <sstream>
#include <stdexcept>
#include <thread>

#include "tests/sandbox/files.h"
#include "tests/sandbox/net.h"
#include "tests/sandbox/process.h"
#include "tests/sandbox/sandbox_impl.h"

namespace caretaker::sandbox {
namespace {

constexpr auto kQueryTimeout = std::chrono::seconds(5);
constexpr auto kPollInterval = std::chrono::milliseconds(20);

struct ServerHealth {
  std::string status;        // show stat `status`
  std::string check_status;  // show stat `check_status`, without a "* " prefix
  std::string admin_state;   // show servers state `srv_admin_state`
  std::string op_state;      // show servers state `srv_op_state`
};

std::vector<std::string> Split(const std::string& line, char sep) {
  std::vector<std::string> fields;
  std::istringstream in(line);
  for (std::string field; std::getline(in, field, sep);) fields.push_back(field);
  return fields;
}

// Rows of `header_prefix`-headed tables, fields looked up by header name.
std::vector<std::map<std::string, std::string>> ParseTable(const std::string& reply,
                                                           std::string_view header_prefix,
                                                           char sep) {
  std::istringstream in(reply);
  std::vector<std::string> names;
  std::vector<std::map<std::string, std::string>> rows;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(header_prefix, 0) == 0) {
      names = Split(line.substr(header_prefix.size()), sep);
    } else if (!names.empty() && !line.empty()) {
      std::vector<std::string> fields = Split(line, sep);
      std::map<std::string, std::string> row;
      for (size_t i = 0; i < names.size() && i < fields.size(); ++i) row[names[i]] = fields[i];
      rows.push_back(std::move(row));
    }
  }
  if (names.empty()) throw std::runtime_error("unexpected haproxy reply: " + reply);
  return rows;
}

std::map<std::string, ServerHealth> ReadHealth(const HaproxyNode& node) {
  std::map<std::string, ServerHealth> health;
  std::string stat = QueryUnixSocket(node.admin_socket, "show stat", kQueryTimeout);
  for (auto& row : ParseTable(stat, "# ", ',')) {
    if (row["pxname"] != "replicas" || row["svname"] == "BACKEND") continue;
    std::string check = row["check_status"];
    if (check.rfind("* ", 0) == 0) check = check.substr(2);
    health[row["svname"]].status = row["status"];
    health[row["svname"]].check_status = check;
  }
  std::string state =
      QueryUnixSocket(node.admin_socket, "show servers state replicas", kQueryTimeout);
  for (auto& row : ParseTable(state, "# ", ' ')) {
    health[row["srv_name"]].admin_state = row["srv_admin_state"];
    health[row["srv_name"]].op_state = row["srv_op_state"];
  }
  return health;
}

bool Ready(const ServerHealth& h) {
  return h.status == "UP" && h.check_status == "L7OK" && h.admin_state == "0" &&
         h.op_state == "2";
}

}  // namespace

void Sandbox::Impl::SpawnHaproxy(HaproxyNode& node) {
  std::string servers;
  for (const auto& replica : replicas) {
    servers += "    server " + replica.name + " 127.0.0.1:" + std::to_string(replica.port) +
               " check\n";
  }
  std::string operator_line =
      node.operator_socket.empty()
          ? "# (the operator-level socket is on lb1 only)"
          : "stats socket " + node.operator_socket + " mode 600 level operator";
  TemplateVars vars = {
      {"name", node.name},
      {"admin_socket", node.admin_socket},
      {"admin_tcp_port", std::to_string(node.admin_tcp_port)},
      {"operator_stats_socket", operator_line},
      {"state_file", node.state_file},
      {"frontend_port", std::to_string(node.frontend_port)},
      {"servers", servers},
  };
  WriteFile(node.config_path, RenderTemplateFile("haproxy.cfg", vars));
  // Only the version line: nothing to load, and no "cannot open" warning.
  WriteFile(node.state_file, "1\n");
  ScopedFd log(OpenLog(node.log_path));
  SpawnOptions spawn;
  spawn.argv = {"haproxy", "-db", "-f", node.config_path};
  spawn.stdout_fd = log.get();
  spawn.stderr_fd = log.get();
  node.pid = Spawn(spawn);
  watchdog->Track(node.pid, "haproxy " + node.name);
}

void Sandbox::Impl::ReloadHaproxy(HaproxyNode& node) {
  WriteFile(node.state_file, "1\n");  // nothing saved: the usual reload forgets runtime state
  const pid_t old = node.pid;
  ScopedFd log(OpenLog(node.log_path));
  SpawnOptions spawn;
  spawn.argv = {"haproxy", "-db", "-f", node.config_path, "-sf", std::to_string(old)};
  spawn.stdout_fd = log.get();
  spawn.stderr_fd = log.get();
  node.pid = Spawn(spawn);
  watchdog->Track(node.pid, "haproxy " + node.name);
  retired.push_back(old);
  const std::string want = "Pid: " + std::to_string(node.pid);
  auto deadline = Clock::now() + std::chrono::seconds(10);
  for (;;) {
    try {
      if (QueryUnixSocket(node.admin_socket, "show info", kQueryTimeout).find(want + "\n") != std::string::npos) return;
    } catch (const std::exception&) {
      // the socket is being taken over
    }
    if (auto status = PeekExit(node.pid)) {
      throw std::runtime_error("haproxy " + node.name + " exited on reload, " + DescribeWaitStatus(*status) +
                               SeeLog(node.log_path));
    }
    if (Clock::now() > deadline) throw std::runtime_error("haproxy " + node.name + " did not come back after a reload");
    std::this_thread::sleep_for(kPollInterval);
  }
}

std::string Sandbox::Impl::NotReadyOn(size_t i) const {
  const HaproxyNode& node = haproxies[i];
  std::map<std::string, ServerHealth> health;
  try {
    health = ReadHealth(node);
  } catch (const std::exception& e) {
    return e.what();
  }
  std::string problems;
  for (const auto& replica : replicas) {
    const ServerHealth& h = health[replica.name];
    if (Ready(h)) continue;
    problems += (problems.empty() ? "" : "; ") + replica.name + " status='" + h.status +
                "' check_status='" + h.check_status + "' srv_admin_state=" + h.admin_state +
                " srv_op_state=" + h.op_state;
  }
  return problems;
}

void Sandbox::Impl::WaitAllUp(std::chrono::milliseconds timeout) const {
  auto deadline = Clock::now() + timeout;
  for (size_t i = 0; i < haproxies.size(); ++i) {
    const HaproxyNode& node = haproxies[i];
    for (;;) {
      if (node.pid == 0) throw std::runtime_error("haproxy " + node.name + " is not running");
      if (auto status = PeekExit(node.pid)) {
        throw std::runtime_error("haproxy " + node.name + " exited, " +
                                 DescribeWaitStatus(*status) + SeeLog(node.log_path));
      }
      std::string problems = NotReadyOn(i);
      if (problems.empty()) break;
      if (Clock::now() >= deadline) {
        throw std::runtime_error("haproxy " + node.name + ": backend replicas not all UP and " +
                                 "READY within " + std::to_string(timeout.count()) + " ms: " +
                                 problems + SeeLog(node.log_path));
      }
      std::this_thread::sleep_for(kPollInterval);
    }
  }
}

}  // namespace caretaker::sandbox
