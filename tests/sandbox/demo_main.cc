// `make demo`: a real sandbox (MariaDB primary + replicas behind two HAProxy
// instances on loopback); one replica maintained with `caretaker maint
// start/stop` (an application session holding the drain, mysqld restarted
// while it is out, the gates); then `caretaker plan` and `caretaker roll` of
// the whole pool through a task that restarts each replica's mariadbd, under a
// small read load through both HAProxy frontends; last, `caretaker serve`
// with a rule that depools a replica whose replication stopped and repools
// it through the gates once it runs again.
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <sstream>
#include <thread>
#include <string>
#include <vector>

#include "tests/sandbox/load.h"
#include "tests/sandbox/files.h"
#include "tests/sandbox/mysql_session.h"
#include "tests/sandbox/sandbox.h"

extern char** environ;

namespace caretaker {
namespace {

using Clock = std::chrono::steady_clock;

bool g_tty = isatty(STDOUT_FILENO);

void Step(int n, int of, const std::string& what) {
  std::cout << (g_tty ? "\n\033[1m" : "\n") << "[" << n << "/" << of << "] " << what << (g_tty ? "\033[0m" : "")
            << "\n" << std::flush;
}

// Starts the real caretaker binary, output straight to the terminal.
pid_t SpawnCaretaker(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {CARETAKER_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  std::cout << "$ caretaker";
  for (size_t i = 1; i < argv.size(); ++i) {
    bool quote = argv[i].find(' ') != std::string::npos;
    std::cout << " " << (quote ? "'" + argv[i] + "'" : argv[i]);
  }
  std::cout << "\n" << std::flush;
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  // No fd above 2: a socket of the read load inherited here would keep its
  // HAProxy session open after the client closed it, and hold up a drain.
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addclosefrom_np(&actions, STDERR_FILENO + 1);
  pid_t pid;
  int rc = posix_spawn(&pid, cargv[0], &actions, nullptr, cargv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  return rc == 0 ? pid : -1;
}

int Wait(pid_t pid) {
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) != pid) return 127;
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
  if (code != 0) std::cout << "  (exit " << code << ")\n" << std::flush;
  return code;
}

int RunCaretaker(const std::vector<std::string>& args) { return Wait(SpawnCaretaker(args)); }

// A MySQL client session through lb1's frontend, as an application holds one.
class AppSession {
 public:
  explicit AppSession(const sandbox::Sandbox& sb) {
    if (!session_.Open(sb.haproxies()[0].frontend_port, sb.mysql_password())) {
      throw std::runtime_error("connecting through lb1: " + session_.error());
    }
  }
  // The port of the replica serving this session, or "" once it is gone.
  std::string Port() {
    uint16_t port = session_.QueryPort();
    return port == 0 ? "" : std::to_string(port);
  }
  const std::string& Error() const { return session_.error(); }

 private:
  sandbox::MysqlSession session_;
};

// The sandbox's config with a drain deadline short enough to watch.
std::string DemoConfig(const sandbox::Sandbox& sb) {
  std::string toml = sandbox::ReadFile(sb.config_path());
  const std::string from = "deadline = \"10s\"";
  if (size_t at = toml.find(from); at != std::string::npos) toml.replace(at, from.size(), "deadline = \"3s\"");
  std::string path = sb.dir() + "/demo.toml";
  sandbox::WriteFile(path, toml);
  return path;
}

// srv_admin_state of `server` on every instance ("0 0": READY on both).
std::string AdminStates(const sandbox::Sandbox& sb, const std::string& server) {
  std::string out;
  for (size_t i = 0; i < sb.haproxies().size(); ++i) {
    std::istringstream reply(sb.HaproxyCommand(i, "show servers state replicas"));
    for (std::string line; std::getline(reply, line);) {
      std::istringstream fields(line);
      std::vector<std::string> f;
      for (std::string w; fields >> w;) f.push_back(w);
      if (f.size() > 6 && f[3] == server) out += (out.empty() ? "" : " ") + f[6];
    }
  }
  return out;
}

// Waits (at most a minute) until `server` is out of traffic on every
// instance (`out`) or back READY on every one.
bool WaitFor(const sandbox::Sandbox& sb, const std::string& server, bool out) {
  for (int i = 0; i < 600; ++i) {
    const std::string states = AdminStates(sb, server);
    if (out ? states == "1 1" : states == "0 0") return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

// The demo's config with a rule quick enough to watch.
std::string RulesConfig(const sandbox::Sandbox& sb, const std::string& config) {
  std::string toml = sandbox::ReadFile(config);
  toml += "\n[[rules]]\nname = \"sql-stopped\"\nwhen = \"replication is stopped\"\nfor = \"5s\"\n"
          "clear_for = \"3s\"\ninterval = \"1s\"\n";
  std::string path = sb.dir() + "/demo-rules.toml";
  sandbox::WriteFile(path, toml);
  return path;
}

int Demo() {
  const int kSteps = 6;
  Step(1, kSteps, "starting the sandbox: MariaDB primary + 3 GTID replicas behind 2 HAProxy instances");
  sandbox::Options options;
  options.verbose = true;
  auto start = Clock::now();
  auto sb = sandbox::Sandbox::Start(options);
  auto secs = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("  ready in %.1f s, in %s\n", secs, sb->dir().c_str());
  std::fflush(stdout);
  const std::string config = DemoConfig(*sb);

  Step(2, kSteps, "an application opens a MySQL session through lb1");
  AppSession app(*sb);
  std::string port = app.Port();
  size_t first = 0;
  for (size_t i = 0; i < sb->replicas().size(); ++i) {
    if (std::to_string(sb->replicas()[i].port) == port) first = i;
  }
  const std::string server = sb->replicas()[first].name;
  std::cout << "  SELECT @@port -> " << port << ": HAProxy routed it to " << server << "\n";
  if (RunCaretaker({"-c", config, "status"}) != 0) return 1;

  Step(3, kSteps, "maintenance of " + server + ": its open session holds the drain");
  std::cout << "  HAProxy never closes an established session; at the drain deadline (3 s here) caretaker\n"
               "  gives up and restores the server, unless told to end the sessions:\n";
  RunCaretaker({"-c", config, "maint", "start", server, "--reason", "demo: minor upgrade"});
  std::cout << "  the application's session still answers from port " << app.Port() << "\n";
  if (RunCaretaker({"-c", config, "maint", "start", server, "--reason", "demo: minor upgrade", "--for", "1h",
                    "--force-sessions"}) != 0) {
    return 1;
  }
  std::string after = app.Port();
  std::cout << "  the application's next query: " << (after.empty() ? "failed (" + app.Error() + ")" : after)
            << " — a connection pool reconnects, through HAProxy, to another replica\n";
  RunCaretaker({"-c", config, "maint", "list"});
  RunCaretaker({"-c", config, "status"});

  Step(4, kSteps, "the upgrade restarts mariadbd on " + server + "; maint stop puts it back after the gates");
  sb->StopReplica(first);
  pid_t stop = SpawnCaretaker({"-c", config, "maint", "stop", server});
  std::this_thread::sleep_for(std::chrono::seconds(1));
  sb->StartReplica(first);
  if (Wait(stop) != 0) return 1;

  Step(5, kSteps, "the whole pool through a task: restart every replica's mariadbd, one at a time (max_out 1)");
  std::cout << "  the task (in the sandbox's config) stops and starts each replica's mariadbd; plan shows\n"
               "  what roll will do, without changing anything:\n";
  if (RunCaretaker({"-c", config, "plan", "--pool", "replicas", "--task", "restart"}) != 0) return 1;
  std::cout << "  now for real, while an application reads through both HAProxy frontends (a new\n"
               "  connection per query, and pooled connections replaced after 1 s, under the 3 s drain deadline):\n"
            << std::flush;
  sandbox::LoadOptions load_options;
  load_options.sticky_clients = 0;  // the demo's drain restores at the deadline: a 1 h session would fail the roll
  auto load = sandbox::Load::Start(*sb, load_options);
  int rolled = RunCaretaker({"-c", config, "roll", "--pool", "replicas", "--task", "restart", "--yes"});
  const auto report = load->Stop();
  std::cout << "  read " << report.Summary() << std::flush;
  if (rolled != 0) return 1;
  long queries = 0, errors = 0;
  for (const auto& kind : report.kinds) {
    queries += kind.queries + kind.errors;
    errors += kind.errors;
  }
  if (errors > 0) {
    std::cout << "  FAILED: " << errors << " of " << queries << " queries failed during the roll\n";
    return 1;
  }
  std::cout << "  no query failed: " << queries << " queries through both HAProxy instances during the roll\n";
  RunCaretaker({"-c", config, "status"});

  Step(6, kSteps, "self-managing: a rule depools a replica whose replication stopped, and repools it once clear");
  const std::string rules = RulesConfig(*sb, config);
  std::cout << "  the rule: when \"replication is stopped\" for 5s, depool; repooled through the gates once it\n"
               "  runs again for 3s. db2's SQL thread is stopped; `rules test` reads it now and changes nothing:\n";
  sb->Sql(sb->replicas()[1], "STOP SLAVE SQL_THREAD");
  if (RunCaretaker({"-c", rules, "rules", "test", "sql-stopped"}) != 0) return 1;
  std::cout << "  now `caretaker serve` evaluates it every second:\n" << std::flush;
  pid_t serve = SpawnCaretaker({"-c", rules, "serve"});
  const bool out = WaitFor(*sb, "db2", true);
  RunCaretaker({"-c", rules, "rules"});
  RunCaretaker({"-c", rules, "maint", "list"});
  std::cout << "  db2's SQL thread runs again:\n" << std::flush;
  sb->Sql(sb->replicas()[1], "START SLAVE SQL_THREAD");
  const bool back = out && WaitFor(*sb, "db2", false);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  RunCaretaker({"-c", rules, "rules"});
  ::kill(serve, SIGTERM);
  Wait(serve);
  if (!out || !back) {
    std::cout << "  FAILED: db2 was " << (out ? "not put back" : "not depooled") << " by the rule within a minute\n";
    return 1;
  }
  RunCaretaker({"-c", config, "status"});

  std::cout << "\nstopping the sandbox (every process it started, and its temp dir)\n" << std::flush;
  sb.reset();
  std::cout << "\nNext: `make sandbox` starts one to try caretaker by hand (Ctrl-C stops it).\n";
  return 0;
}

}  // namespace
}  // namespace caretaker

int main() {
  try {
    return caretaker::Demo();
  } catch (const std::exception& e) {
    std::cerr << "demo failed: " << e.what() << "\n";
    return 1;
  }
}
