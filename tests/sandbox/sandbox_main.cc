// caretaker-sandbox: a MariaDB primary + replicas behind HAProxy instances on
// loopback, for a command (`run -- CMD`, used by `make demo`) or until Ctrl-C
// (`up`). The sandbox and its processes never outlive this tool: it tears down
// on exit and on SIGINT/SIGTERM/SIGHUP, and the sandbox's watchdog covers a
// crash or SIGKILL.
//
// Exit status: `run` exits with CMD's status (128+N if a signal killed it, 127
// if it cannot be executed); 1 if the sandbox did not start; 2 on bad usage.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "tests/sandbox/files.h"
#include "tests/sandbox/process.h"
#include "tests/sandbox/sandbox.h"

namespace caretaker::sandbox {
namespace {

struct Args {
  Options options;
  std::vector<std::string> command;  // after "--"
};

struct Tool {
  const char* name;
  const char* usage;
  const char* help;
  int (*run)(const Args&);
};

int RunTool(const Args& args);
int UpTool(const Args& args);

constexpr Tool kTools[] = {
    {"run", "run [OPTIONS] -- CMD [ARGS...]",
     "start the sandbox, run CMD with CARETAKER_CONFIG set, tear down, exit with CMD's status",
     RunTool},
    {"up", "up [OPTIONS]", "start the sandbox, print where it is, wait for Ctrl-C", UpTool},
};

constexpr const char* kOptionsHelp =
    "options:\n"
    "  --replicas N    MariaDB replicas db1..dbN behind HAProxy (default 3)\n"
    "  --haproxies M   HAProxy instances lb1..lbM (default 2)\n"
    "  --keep          keep the sandbox dir (logs, data) after teardown\n"
    "  -v              print every process, socket and log in the summary\n";

void PrintUsage(std::FILE* out) {
  std::fprintf(out, "usage:\n");
  for (const Tool& tool : kTools) {
    std::fprintf(out, "  caretaker-sandbox %-32s %s\n", tool.usage, tool.help);
  }
  std::fprintf(out, "%s", kOptionsHelp);
}

// Signals are blocked in every thread and taken by one waiting thread, which
// acts according to the phase the tool is in.
class Signals {
 public:
  enum class Phase { kStarting, kWaiting, kRunningChild, kStopping };

  Signals() {
    ::sigemptyset(&set_);
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) ::sigaddset(&set_, sig);
    ::pthread_sigmask(SIG_BLOCK, &set_, nullptr);
    std::thread([this] { Loop(); }).detach();
  }

  void EnterPhase(Phase phase, pid_t child = 0) {
    child_ = child;
    phase_ = phase;
  }

  // In kWaiting: blocks until a signal arrives; returns it.
  int WaitForSignal() {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [this] { return received_ != 0; });
    return received_;
  }

 private:
  void Loop() {
    for (;;) {
      siginfo_t info{};
      int sig = ::sigwaitinfo(&set_, &info);
      if (sig > 0) Handle(sig, info);
    }
  }

  void Handle(int sig, const siginfo_t& info) {
    switch (phase_.load()) {
      case Phase::kStarting:
        // Start() cannot be interrupted midway; dying closes the watchdog's
        // channel, and the watchdog stops what started and removes the dir.
        std::fprintf(stderr, "\ncaretaker-sandbox: %s during start-up; the watchdog cleans up\n",
                     ::strsignal(sig));
        ::_exit(128 + sig);
      case Phase::kWaiting: {
        std::lock_guard lock(mutex_);
        received_ = sig;
        cv_.notify_all();
        return;
      }
      case Phase::kRunningChild:
        // CMD shares our process group: a terminal's Ctrl-C reached it already
        // (si_code > 0, from the kernel). A signal sent to us alone is passed on.
        if (info.si_code <= 0 && child_ > 0) ::kill(child_, sig);
        return;
      case Phase::kStopping:
        return;
    }
  }

  sigset_t set_;
  std::atomic<Phase> phase_{Phase::kStarting};
  std::atomic<pid_t> child_{0};
  std::mutex mutex_;
  std::condition_variable cv_;
  int received_ = 0;
};

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// NAME=value pairs describing the sandbox, for CMD and for <dir>/sandbox.env.
std::vector<std::pair<std::string, std::string>> SandboxEnv(const Sandbox& sandbox) {
  std::vector<std::pair<std::string, std::string>> env = {
      {"CARETAKER_CONFIG", sandbox.config_path()},
      {"CARETAKER_SANDBOX_DIR", sandbox.dir()},
      {"CARETAKER_SANDBOX_PASSWORD_FILE", sandbox.password_file()},
      {"CARETAKER_SANDBOX_PRIMARY_PORT", std::to_string(sandbox.primary().port)},
      {"CARETAKER_SANDBOX_PRIMARY_SOCKET", sandbox.primary().socket},
  };
  for (const auto& r : sandbox.replicas()) {
    env.emplace_back("CARETAKER_SANDBOX_" + Upper(r.name) + "_PORT", std::to_string(r.port));
    env.emplace_back("CARETAKER_SANDBOX_" + Upper(r.name) + "_SOCKET", r.socket);
  }
  for (const auto& h : sandbox.haproxies()) {
    std::string prefix = "CARETAKER_SANDBOX_" + Upper(h.name);
    env.emplace_back(prefix + "_ADMIN", h.admin_socket);
    env.emplace_back(prefix + "_ADMIN_TCP", "127.0.0.1:" + std::to_string(h.admin_tcp_port));
    env.emplace_back(prefix + "_FRONTEND", "127.0.0.1:" + std::to_string(h.frontend_port));
    if (!h.operator_socket.empty()) env.emplace_back(prefix + "_OPERATOR", h.operator_socket);
  }
  return env;
}

std::string WriteEnvFile(const Sandbox& sandbox) {
  std::string path = sandbox.dir() + "/sandbox.env";
  std::string text = "# . this file to talk to the sandbox from a shell\n";
  for (const auto& [name, value] : SandboxEnv(sandbox)) {
    text += "export " + name + "='" + value + "'\n";
  }
  WriteFile(path, text);
  return path;
}

void PrintSummary(const Sandbox& sandbox, double seconds, bool verbose) {
  std::fprintf(stderr, "caretaker sandbox ready in %.2fs: %s\n", seconds, sandbox.dir().c_str());
  std::fprintf(stderr, "  config   %s\n", sandbox.config_path().c_str());
  std::fprintf(stderr, "  env      . %s\n", WriteEnvFile(sandbox).c_str());
  auto mysql = [&](const MysqlNode& n) {
    std::fprintf(stderr, "  %-8s 127.0.0.1:%u", n.name.c_str(), n.port);
    if (verbose) {
      std::fprintf(stderr, "  pid %d  socket %s  log %s", n.pid, n.socket.c_str(),
                   n.error_log.c_str());
    }
    std::fprintf(stderr, "\n");
  };
  mysql(sandbox.primary());
  for (const auto& r : sandbox.replicas()) mysql(r);
  for (const auto& h : sandbox.haproxies()) {
    std::fprintf(stderr, "  %-8s frontend 127.0.0.1:%u  admin tcp:127.0.0.1:%u", h.name.c_str(),
                 h.frontend_port, h.admin_tcp_port);
    if (verbose) {
      std::fprintf(stderr, "  pid %d  admin unix:%s  log %s", h.pid, h.admin_socket.c_str(),
                   h.log_path.c_str());
      if (!h.operator_socket.empty()) {
        std::fprintf(stderr, "  operator unix:%s", h.operator_socket.c_str());
      }
    }
    std::fprintf(stderr, "\n");
  }
  std::fprintf(stderr, "  mysql    user caretaker, password in %s\n",
               sandbox.password_file().c_str());
}

Signals* signals = nullptr;  // set in main, before any thread

// Starts the sandbox with start-up progress on stderr, then prints the summary.
std::unique_ptr<Sandbox> StartWithSummary(const Args& args) {
  Options options = args.options;
  bool verbose_summary = options.verbose;
  options.verbose = true;  // progress lines
  auto started = std::chrono::steady_clock::now();
  auto sandbox = Sandbox::Start(options);
  std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
  PrintSummary(*sandbox, took.count(), verbose_summary);
  return sandbox;
}

int RunTool(const Args& args) {
  auto sandbox = StartWithSummary(args);
  SpawnOptions spawn;
  spawn.argv = args.command;
  spawn.stdin_fd = spawn.stdout_fd = spawn.stderr_fd = SpawnOptions::kInherit;
  spawn.new_session = false;  // CMD belongs to the terminal like this tool
  for (const auto& [name, value] : SandboxEnv(*sandbox)) spawn.extra_env.push_back(name + "=" + value);
  std::fprintf(stderr, "[sandbox] running: %s\n", JoinArgv(args.command).c_str());
  pid_t child;
  try {
    child = Spawn(spawn);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "caretaker-sandbox: %s\n", e.what());
    signals->EnterPhase(Signals::Phase::kStopping);
    return 127;
  }
  signals->EnterPhase(Signals::Phase::kRunningChild, child);
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  signals->EnterPhase(Signals::Phase::kStopping);
  std::fprintf(stderr, "[sandbox] %s: %s; tearing down\n", args.command[0].c_str(),
               DescribeWaitStatus(status).c_str());
  return ShellExitCode(status);  // ~Sandbox tears down
}

int UpTool(const Args& args) {
  auto sandbox = StartWithSummary(args);
  std::fprintf(stderr, "[sandbox] up; Ctrl-C tears it down\n");
  signals->EnterPhase(Signals::Phase::kWaiting);
  int sig = signals->WaitForSignal();
  signals->EnterPhase(Signals::Phase::kStopping);
  std::fprintf(stderr, "\n[sandbox] %s; tearing down\n", ::strsignal(sig));
  return 0;
}

bool ParseCount(const char* text, int* out) {
  char* end = nullptr;
  long value = std::strtol(text, &end, 10);
  if (end == text || *end != '\0' || value < 1 || value > 64) return false;
  *out = static_cast<int>(value);
  return true;
}

// Parses argv[2..]; returns an error message, empty on success.
std::string ParseArgs(int argc, char** argv, bool wants_command, Args* args) {
  int i = 2;
  for (; i < argc && std::strcmp(argv[i], "--") != 0; ++i) {
    std::string arg = argv[i];
    bool has_value = i + 1 < argc;
    if (arg == "--replicas" && has_value && ParseCount(argv[i + 1], &args->options.replicas)) {
      ++i;
    } else if (arg == "--haproxies" && has_value &&
               ParseCount(argv[i + 1], &args->options.haproxies)) {
      ++i;
    } else if (arg == "--keep") {
      args->options.keep_dir = true;
    } else if (arg == "-v" || arg == "--verbose") {
      args->options.verbose = true;
    } else {
      return "bad option or value: " + arg;
    }
  }
  for (++i; i < argc; ++i) args->command.emplace_back(argv[i]);
  if (wants_command && args->command.empty()) return "`run` needs `-- CMD [ARGS...]`";
  if (!wants_command && !args->command.empty()) return "`up` takes no command";
  return {};
}

}  // namespace
}  // namespace caretaker::sandbox

int main(int argc, char** argv) {
  using namespace caretaker::sandbox;
  if (argc < 2 || std::strcmp(argv[1], "-h") == 0 || std::strcmp(argv[1], "--help") == 0) {
    PrintUsage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  for (const Tool& tool : kTools) {
    if (std::strcmp(argv[1], tool.name) != 0) continue;
    Args args;
    std::string error = ParseArgs(argc, argv, std::strcmp(tool.name, "run") == 0, &args);
    if (!error.empty()) {
      std::fprintf(stderr, "caretaker-sandbox %s: %s\n", tool.name, error.c_str());
      PrintUsage(stderr);
      return 2;
    }
    signals = new Signals();  // never freed: its thread runs until exit
    try {
      return tool.run(args);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "caretaker-sandbox: %s\n", e.what());
      return 1;
    }
  }
  std::fprintf(stderr, "caretaker-sandbox: unknown command '%s'\n", argv[1]);
  PrintUsage(stderr);
  return 2;
}
