// `make demo`: a real sandbox (MariaDB primary + replicas behind two HAProxy
// instances on loopback), `caretaker status` of it, then one replica drained
// and restored on every instance through caretaker's HAProxy client.
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

bool Apply(const Fleet& fleet, const std::string& server, haproxy::AdminState state) {
  auto start = Clock::now();
  auto report = testing::RunSync(haproxy::SetStateEverywhere(fleet.All(), "replicas", server, state));
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
  for (const auto& o : report.outcomes) {
    std::cout << "  " << o.instance << ": " << report.operation << " — "
              << (o.error ? "FAILED: " + o.error->message : "confirmed") << "\n";
  }
  std::cout << "  (" << ms << " ms for all instances, sent and confirmed concurrently)\n";
  return report.ok();
}

int Demo() {
  const int kSteps = 4;
  Step(1, kSteps, "starting the sandbox: MariaDB primary + 3 GTID replicas behind 2 HAProxy instances");
  sandbox::Options options;
  options.verbose = true;
  auto start = Clock::now();
  auto sb = sandbox::Sandbox::Start(options);
  auto secs = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("  ready in %.1f s, in %s\n", secs, sb->dir().c_str());
  const std::string config_path = sb->config_path();

  Step(2, kSteps, "what caretaker sees");
  if (RunCaretaker({"-c", config_path, "status"}) != 0) return 1;

  auto config = LoadConfig(config_path);
  if (!config) {
    std::cerr << config.error().message << "\n";
    return 1;
  }
  Fleet fleet = Fleet::FromConfig(config.value());
  const std::string server = sb->replicas()[1].name;

  Step(3, kSteps, "draining " + server + " on every HAProxy instance");
  if (!Apply(fleet, server, haproxy::AdminState::kDrain)) return 1;
  RunCaretaker({"-c", config_path, "status"});

  Step(4, kSteps, "putting " + server + " back in service");
  if (!Apply(fleet, server, haproxy::AdminState::kReady)) return 1;
  sb->WaitAllUp(std::chrono::seconds(10));
  RunCaretaker({"-c", config_path, "status"});

  std::cout << "\nstopping the sandbox (every process it started, and its temp dir)\n";
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
