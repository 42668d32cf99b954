// `make demo`: a real sandbox (MariaDB primary + replicas behind two HAProxy
// instances on loopback), `caretaker status` of it, then one replica drained
// and restored on every instance through caretaker's HAProxy client.
#include <mysql.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "haproxy/backend_view.h"
#include "src/config.h"
#include "src/fleet.h"
#include "tests/integration/run_sync.h"
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

// Runs the real caretaker binary, output straight to the terminal.
int RunCaretaker(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {CARETAKER_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  std::cout << "$ caretaker";
  for (size_t i = 1; i < argv.size(); ++i) std::cout << " " << argv[i];
  std::cout << "\n" << std::flush;
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  pid_t pid;
  if (posix_spawn(&pid, cargv[0], nullptr, nullptr, cargv.data(), environ) != 0) return 127;
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

// A MySQL client session through lb1's frontend, as an application holds one.
class AppSession {
 public:
  explicit AppSession(const sandbox::Sandbox& sb) : mysql_(mysql_init(nullptr)) {
    unsigned timeout = 5, protocol = MYSQL_PROTOCOL_TCP;
    mysql_options(mysql_, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
    mysql_options(mysql_, MYSQL_OPT_READ_TIMEOUT, &timeout);
    mysql_options(mysql_, MYSQL_OPT_PROTOCOL, &protocol);
    if (!mysql_real_connect(mysql_, "127.0.0.1", "caretaker", sb.mysql_password().c_str(), nullptr,
                            sb.haproxies()[0].frontend_port, nullptr, 0)) {
      throw std::runtime_error(std::string("connecting through lb1: ") + mysql_error(mysql_));
    }
  }
  ~AppSession() { mysql_close(mysql_); }
  // The port of the replica serving this session, or "" once it is gone.
  std::string Port() {
    if (mysql_query(mysql_, "SELECT @@port") != 0) return "";
    MYSQL_RES* res = mysql_store_result(mysql_);
    std::string port = mysql_fetch_row(res)[0];
    mysql_free_result(res);
    return port;
  }
  std::string Error() { return mysql_error(mysql_); }

 private:
  MYSQL* mysql_;
};

template <class Report>
void Print(const Report& report, Clock::time_point start) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
  for (const auto& o : report.outcomes) {
    std::cout << "  " << o.instance << ": " << report.operation << " — "
              << (o.error ? "FAILED: " + o.error->message : "confirmed") << "\n";
  }
  std::cout << "  (" << ms << " ms for all instances, sent and confirmed concurrently)\n" << std::flush;
}

bool Apply(const Fleet& fleet, const std::string& server, haproxy::AdminState state) {
  auto start = Clock::now();
  auto report = testing::RunSync(haproxy::SetStateEverywhere(fleet.All(), "replicas", server, state));
  Print(report, start);
  return report.ok();
}

int Demo() {
  const int kSteps = 5;
  Step(1, kSteps, "starting the sandbox: MariaDB primary + 3 GTID replicas behind 2 HAProxy instances");
  sandbox::Options options;
  options.verbose = true;
  auto start = Clock::now();
  auto sb = sandbox::Sandbox::Start(options);
  auto secs = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("  ready in %.1f s, in %s\n", secs, sb->dir().c_str());
  std::fflush(stdout);
  const std::string config_path = sb->config_path();

  Step(2, kSteps, "an application opens a MySQL session through lb1");
  AppSession app(*sb);
  std::string port = app.Port();
  std::string server;
  for (const auto& r : sb->replicas()) {
    if (std::to_string(r.port) == port) server = r.name;
  }
  std::cout << "  SELECT @@port -> " << port << ": HAProxy routed it to " << server << "\n";
  if (RunCaretaker({"-c", config_path, "status"}) != 0) return 1;

  auto config = LoadConfig(config_path);
  if (!config) {
    std::cerr << config.error().message << "\n";
    return 1;
  }
  Fleet fleet = Fleet::FromConfig(config.value());

  Step(3, kSteps, "draining " + server + " on every HAProxy instance");
  if (!Apply(fleet, server, haproxy::AdminState::kDrain)) return 1;
  std::cout << "  no new session goes to " << server << ", but HAProxy never closes an established one:\n";
  RunCaretaker({"-c", config_path, "status"});
  std::cout << "  the application's session still answers from port " << app.Port() << "\n";

  Step(4, kSteps, "ending " + server + "'s remaining sessions (what a drain deadline leads to)");
  auto shutdown_start = Clock::now();
  Print(testing::RunSync(haproxy::ShutdownSessionsEverywhere(fleet.All(), "replicas", server)), shutdown_start);
  std::string after = app.Port();
  std::cout << "  the application's next query: " << (after.empty() ? "failed (" + app.Error() + ")" : after)
            << " — a connection pool reconnects, through HAProxy, to another replica\n";
  RunCaretaker({"-c", config_path, "status"});

  Step(5, kSteps, "putting " + server + " back in service");
  if (!Apply(fleet, server, haproxy::AdminState::kReady)) return 1;
  sb->WaitAllUp(std::chrono::seconds(10));
  RunCaretaker({"-c", config_path, "status"});

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
