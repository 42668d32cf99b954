// The sandbox harness itself, checked against the real processes: replication
// really runs, every HAProxy instance really shows every server UP on each of
// its sockets, and nothing (process or dir) outlives a sandbox, even when its
// owner is SIGKILLed.
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/sandbox/files.h"
#include "tests/sandbox/net.h"
#include "tests/sandbox/process.h"
#include "tests/sandbox/sandbox.h"

namespace caretaker::sandbox {
namespace {

namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr const char* kOrphanReportEnv = "CARETAKER_SANDBOX_TEST_ORPHAN_REPORT";

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// `show stat` -> svname -> status, for backend `replicas`, by header names.
std::map<std::string, std::string> ReplicaStatuses(const std::string& show_stat) {
  std::istringstream in(show_stat);
  std::vector<std::string> names;
  std::map<std::string, std::string> statuses;
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> fields;
    std::istringstream cells(line.rfind("# ", 0) == 0 ? line.substr(2) : line);
    for (std::string cell; std::getline(cells, cell, ',');) fields.push_back(cell);
    if (line.rfind("# ", 0) == 0) {
      names = fields;
      continue;
    }
    std::map<std::string, std::string> row;
    for (size_t i = 0; i < names.size() && i < fields.size(); ++i) row[names[i]] = fields[i];
    if (row["pxname"] == "replicas" && row["svname"] != "BACKEND") {
      statuses[row["svname"]] = row["status"];
    }
  }
  return statuses;
}

// True if `pid` no longer runs: reaped (ours), absent, or a zombie.
bool Gone(pid_t pid) {
  TryReap(pid);
  if (::kill(pid, 0) != 0) return errno == ESRCH;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(stat, line);
  size_t paren = line.rfind(')');
  return paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] == 'Z';
}

// Direct children of `parent`, from /proc (field 4 of /proc/PID/stat).
std::vector<pid_t> ChildrenOf(pid_t parent) {
  std::vector<pid_t> children;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    if (!std::getline(stat, line) || line.rfind(')') == std::string::npos) continue;
    std::istringstream fields(line.substr(line.rfind(')') + 2));
    std::string state;
    pid_t ppid = 0;
    if (fields >> state >> ppid && ppid == parent) children.push_back(std::stoi(name));
  }
  return children;
}

// Writes a fresh row on the primary and checks that every running replica has it.
void RequireReplicated(Sandbox& sb) {
  std::string token = RandomToken(16);
  sb.Sql(sb.primary(),
         "CREATE DATABASE IF NOT EXISTS sandbox_test;"
         "CREATE TABLE IF NOT EXISTS sandbox_test.notes (id INT AUTO_INCREMENT PRIMARY KEY,"
         " note VARCHAR(64));"
         "INSERT INTO sandbox_test.notes (note) VALUES ('" + token + "')");
  std::string pos = Trim(sb.Sql(sb.primary(), "SELECT @@GLOBAL.gtid_binlog_pos"));
  for (const auto& replica : sb.replicas()) {
    INFO(replica.name << " waits for " << pos);
    REQUIRE(Trim(sb.Sql(replica, "SELECT MASTER_GTID_WAIT('" + pos + "', 10)")) == "0");
    REQUIRE(Trim(sb.Sql(replica, "SELECT COUNT(*) FROM sandbox_test.notes WHERE note = '" +
                                     token + "'")) == "1");
  }
}

// Restores replica i however the test ends.
struct RestartReplicaAtEnd {
  Sandbox& sb;
  size_t i;
  ~RestartReplicaAtEnd() {
    try {
      sb.StartReplica(i);
      sb.WaitAllUp(30s);
    } catch (const std::exception& e) {
      FAIL_CHECK("restoring replica " << i << ": " << e.what());
    }
  }
};

// The owner process of the watchdog test: when this binary runs with
// kOrphanReportEnv set, it starts a small sandbox before main(), reports its
// dir and pids to that file, and waits to be SIGKILLed (it never runs tests).
[[noreturn]] void RunOrphanOwner(const std::string& report) {
  try {
    Options options;
    options.replicas = 1;
    options.haproxies = 1;
    auto sb = Sandbox::Start(options);
    std::string text = sb->dir() + "\n" + std::to_string(sb->primary().pid) + "\n" +
                       std::to_string(sb->replicas()[0].pid) + "\n" +
                       std::to_string(sb->haproxies()[0].pid) + "\n";
    WriteFile(report, text, 0644, /*atomic=*/true);
    for (;;) ::pause();
  } catch (const std::exception& e) {
    WriteFile(report, std::string("error: ") + e.what(), 0644, true);
    ::_exit(1);
  }
}

const bool orphan_owner = [] {
  if (const char* report = std::getenv(kOrphanReportEnv)) RunOrphanOwner(report);
  return false;
}();

}  // namespace

TEST_CASE("the sandbox replicates a write on the primary to every replica", "[sandbox]") {
  auto& sb = Shared();
  for (const auto& replica : sb.replicas()) {
    INFO(replica.name);
    std::string status = sb.Sql(replica, "SHOW SLAVE STATUS");
    REQUIRE_THAT(status, Contains("Yes\tYes"));  // Slave_IO_Running, Slave_SQL_Running
  }
  RequireReplicated(sb);
}

TEST_CASE("each haproxy shows db1..dbN UP on its admin unix and tcp sockets", "[sandbox]") {
  auto& sb = Shared();
  for (size_t i = 0; i < sb.haproxies().size(); ++i) {
    const auto& lb = sb.haproxies()[i];
    INFO(lb.name);
    auto over_unix = ReplicaStatuses(sb.HaproxyCommand(i, "show stat"));
    auto over_tcp = ReplicaStatuses(QueryLoopbackTcp(lb.admin_tcp_port, "show stat", 5s));
    REQUIRE(over_unix.size() == sb.replicas().size());
    for (const auto& replica : sb.replicas()) {
      CHECK(over_unix[replica.name] == "UP");
      CHECK(over_tcp[replica.name] == "UP");
    }
    // Admin level on tcp too: a harmless admin-only command is accepted.
    CHECK(QueryLoopbackTcp(lb.admin_tcp_port, "set server replicas/db1 state ready", 5s) == "\n");
  }
}

TEST_CASE("the operator socket of lb1 answers Permission denied to set server", "[sandbox]") {
  auto& sb = Shared();
  const auto& lb1 = sb.haproxies()[0];
  REQUIRE_FALSE(lb1.operator_socket.empty());
  for (size_t i = 1; i < sb.haproxies().size(); ++i) CHECK(sb.haproxies()[i].operator_socket.empty());
  std::string reply = QueryUnixSocket(lb1.operator_socket, "set server replicas/db1 state drain", 5s);
  CHECK(reply == "Permission denied\n\n");
  // Nothing changed: db1 is still READY.
  CHECK_NOTHROW(sb.WaitAllUp(1s));
}

TEST_CASE("the sandbox's caretaker config and accounts work as described", "[sandbox]") {
  auto& sb = Shared();
  struct stat st {};
  REQUIRE(::stat(sb.password_file().c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(ReadFile(sb.password_file()) == sb.mysql_password() + "\n");
  std::string config = ReadFile(sb.config_path());
  CHECK_THAT(config, Contains("socket = \"unix:" + sb.haproxies()[0].admin_socket + "\""));
  CHECK_THAT(config, Contains("server = \"db1\"\nhost = \"127.0.0.1\"\nport = " +
                              std::to_string(sb.replicas()[0].port)));

  auto login = [&](const std::string& user) {
    return RunCommand({"mariadb", "--no-defaults", "-h", "127.0.0.1", "-P",
                       std::to_string(sb.replicas()[0].port), "-u" + user,
                       "-p" + sb.mysql_password(), "-N", "-B", "-e", "SHOW SLAVE STATUS"},
                      10s);
  };
  CommandResult caretaker = login("caretaker");
  INFO(caretaker.err);
  CHECK(caretaker.ok());
  CHECK_THAT(caretaker.out, Contains("Yes\tYes"));
  CommandResult nopriv = login("caretaker_nopriv");
  CHECK_FALSE(nopriv.ok());
  // MariaDB 10.11 names the privilege by its old alias in this message.
  CHECK_THAT(nopriv.err, Contains("1227") && Contains("SLAVE MONITOR"));
}

TEST_CASE("a stopped replica goes DOWN on every haproxy and comes back", "[sandbox]") {
  auto& sb = Shared();
  size_t last = sb.replicas().size() - 1;
  std::string name = sb.replicas()[last].name;
  RestartReplicaAtEnd restore{sb, last};
  sb.StopReplica(last);
  CHECK(sb.replicas()[last].pid == 0);
  // fall 2 x inter 200ms: DOWN within about half a second.
  for (size_t i = 0; i < sb.haproxies().size(); ++i) {
    INFO(sb.haproxies()[i].name << " " << name);
    auto deadline = Clock::now() + 10s;
    while (ReplicaStatuses(sb.HaproxyCommand(i, "show stat"))[name] != "DOWN" &&
           Clock::now() < deadline) {
      std::this_thread::sleep_for(50ms);
    }
    CHECK(ReplicaStatuses(sb.HaproxyCommand(i, "show stat"))[name] == "DOWN");
  }
  sb.StartReplica(last);
  CHECK(sb.replicas()[last].pid > 0);
  sb.WaitAllUp(30s);
  RequireReplicated(sb);
}

TEST_CASE("a paused haproxy accepts but never answers: HaproxyCommand times out", "[sandbox]") {
  auto& sb = Shared();
  size_t i = sb.haproxies().size() - 1;
  struct Resume {
    Sandbox& sb;
    size_t i;
    ~Resume() { sb.ResumeHaproxy(i); }
  } resume{sb, i};
  sb.PauseHaproxy(i);
  auto started = Clock::now();
  CHECK_THROWS_WITH(sb.HaproxyCommand(i, "show info"), Contains("no complete reply"));
  CHECK(Clock::now() - started >= 4900ms);
  CHECK(Clock::now() - started < 8s);
  sb.ResumeHaproxy(i);
  CHECK_THAT(sb.HaproxyCommand(i, "show info"), Contains("Name: HAProxy"));
  sb.WaitAllUp(10s);
}

TEST_CASE("destroying a sandbox stops its processes and removes its dir", "[sandbox]") {
  std::vector<pid_t> children_before = ChildrenOf(::getpid());
  Options options;
  options.replicas = 1;
  options.haproxies = 1;
  auto sb = Sandbox::Start(options);
  std::string dir = sb->dir();
  std::vector<pid_t> pids = {sb->primary().pid, sb->replicas()[0].pid, sb->haproxies()[0].pid};
  CHECK(ChildrenOf(::getpid()).size() == children_before.size() + 4);  // + the watchdog
  for (pid_t pid : pids) {
    CHECK(pid > 0);
    CHECK_FALSE(Gone(pid));
  }
  REQUIRE(fs::exists(dir));
  sb.reset();
  for (pid_t pid : pids) CHECK(Gone(pid));
  CHECK_FALSE(fs::exists(dir));
  // The watchdog was disarmed and reaped too: no new child of ours is left over.
  for (pid_t pid : ChildrenOf(::getpid())) {
    bool existed_before =
        std::find(children_before.begin(), children_before.end(), pid) != children_before.end();
    CHECK(existed_before);
  }
}

TEST_CASE("a start failure names the cause and leaves nothing behind", "[sandbox]") {
  // Unix socket paths are limited to 107 bytes.
  std::string parent = MakeTempDir("") + "/" + std::string(100, 'x');
  fs::create_directories(parent);
  Options options;
  options.parent_dir = parent;
  CHECK_THROWS_WITH(Sandbox::Start(options), Contains("shorter parent dir"));
  CHECK(fs::is_empty(parent));
  fs::remove_all(fs::path(parent).parent_path());
}

TEST_CASE("the watchdog cleans up when the sandbox's owner is SIGKILLed", "[sandbox]") {
  // This container's init does not reap orphans; as a subreaper we do, so the
  // orphaned servers can really disappear (not linger as zombies).
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  std::string scratch = MakeTempDir("");
  std::string report = scratch + "/report";
  SpawnOptions spawn;
  spawn.argv = {fs::read_symlink("/proc/self/exe").string()};
  spawn.extra_env = {std::string(kOrphanReportEnv) + "=" + report};
  ScopedFd log(OpenLog(scratch + "/owner.log"));
  spawn.stdout_fd = spawn.stderr_fd = log.get();
  pid_t owner = Spawn(spawn);

  auto deadline = Clock::now() + 60s;
  while (!fs::exists(report) && Clock::now() < deadline && !PeekExit(owner)) {
    std::this_thread::sleep_for(50ms);
  }
  std::string text = fs::exists(report) ? ReadFile(report) : "no report; " + TailFile(scratch + "/owner.log");
  INFO(text);
  REQUIRE(text.rfind("error", 0) != 0);
  std::istringstream in(text);
  std::string dir;
  std::getline(in, dir);
  std::vector<pid_t> pids = ChildrenOf(owner);  // the servers and the watchdog
  REQUIRE(pids.size() == 4);
  for (pid_t pid; in >> pid;) {
    CHECK(std::find(pids.begin(), pids.end(), pid) != pids.end());
  }
  REQUIRE(fs::exists(dir));

  ::kill(owner, SIGKILL);
  WaitExit(owner, 5s);
  deadline = Clock::now() + 10s;
  auto all_gone = [&] { return std::all_of(pids.begin(), pids.end(), Gone); };
  while ((!all_gone() || fs::exists(dir)) && Clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
  }
  for (pid_t pid : pids) CHECK(Gone(pid));
  CHECK_FALSE(fs::exists(dir));
  ::prctl(PR_SET_CHILD_SUBREAPER, 0);
  fs::remove_all(scratch);
}

}  // namespace caretaker::sandbox
