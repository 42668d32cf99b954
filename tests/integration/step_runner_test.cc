// The process step runner against real processes on a real event loop: output
// as it arrives, exit codes and signals, timeouts and cancels that kill the
// whole process group, steps that leave daemons behind, and steps over ssh to
// a real sshd on loopback. The MariaDB/HAProxy sandbox is not used.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <exception>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "src/run/step_runner.h"
#include "tests/sandbox/files.h"
#include "tests/sandbox/net.h"
#include "tests/sandbox/sshd.h"

namespace caretaker {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using Outcome = StepResult::Outcome;
using Lines = std::vector<std::string>;

std::chrono::milliseconds Since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
}

struct Ran {
  StepResult result;
  Lines lines;
  std::vector<std::chrono::milliseconds> at;  // when each line arrived, since the start
};

// Runs `commands` at once through one real runner on one fresh event loop;
// with `cancel_after`, calls CancelAll() then.
std::vector<Ran> RunAll(const std::vector<StepCommand>& commands, std::chrono::milliseconds timeout,
                        std::optional<std::chrono::milliseconds> cancel_after = std::nullopt) {
  asio::io_context io;
  std::unique_ptr<StepRunner> runner = MakeProcessStepRunner(io.get_executor());
  std::vector<Ran> ran(commands.size());
  auto start = Clock::now();
  auto one = [&](size_t i) -> asio::awaitable<void> {
    auto op = runner->Run(commands[i], timeout, [&, i](std::string_view line) {
      ran[i].lines.emplace_back(line);
      ran[i].at.push_back(Since(start));
    });
    ran[i].result = co_await std::move(op);
  };
  std::exception_ptr failure;
  for (size_t i = 0; i < commands.size(); ++i) {
    asio::co_spawn(io, one(i), [&](std::exception_ptr e) { failure = e ? e : failure; });
  }
  asio::steady_timer cancel(io);
  if (cancel_after) {
    cancel.expires_after(*cancel_after);
    cancel.async_wait([&](boost::system::error_code ec) { if (!ec) runner->CancelAll(); });
  }
  io.run();
  if (failure) std::rethrow_exception(failure);
  return ran;
}

Ran RunOne(const StepCommand& command, std::chrono::milliseconds timeout = 10s) {
  return RunAll({command}, timeout).front();
}

StepCommand Sh(const std::string& script) { return {{"/bin/sh", "-c", script}, script}; }

// Running and not a zombie (orphans stay zombies where init does not reap).
bool Alive(pid_t pid) {
  if (pid <= 0 || ::kill(pid, 0) != 0) return false;
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  std::getline(in, stat);
  size_t paren = stat.rfind(')');
  return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] != 'Z';
}

// SIGKILLs what a test started in the background when it ends, however it ends.
struct KillOnExit {
  std::vector<pid_t> pids;
  ~KillOnExit() {
    for (pid_t pid : pids) {
      if (Alive(pid)) ::kill(pid, SIGKILL);
    }
  }
};

std::vector<pid_t> Pids(const Lines& lines) {
  std::vector<pid_t> pids;
  for (const std::string& line : lines) pids.push_back(static_cast<pid_t>(std::stol(line)));
  return pids;
}

TEST_CASE("output lines arrive in order as they are written, stderr merged, a last partial line too",
          "[steps]") {
  Ran ran = RunOne(Sh("printf 'one\\ntwo\\n'; echo err >&2; echo three; sleep 0.5; printf 'no newline'"));
  CHECK(ran.result.outcome == Outcome::kSucceeded);
  CHECK(ran.lines == Lines{"one", "two", "err", "three", "no newline"});
  CHECK(ran.result.tail == ran.lines);
  REQUIRE(ran.at.size() == 5);
  CHECK(ran.at[3] < 400ms);   // "three" came before the sleep ended
  CHECK(ran.at[4] >= 450ms);  // the partial line only once written
}

TEST_CASE("a non-zero exit is kExited with its code and the last lines of output", "[steps]") {
  Ran ran = RunOne(Sh("seq 1 30; exit 3"));
  CHECK(ran.result.outcome == Outcome::kExited);
  CHECK(ran.result.exit_code == 3);
  CHECK(ran.result.Describe(10s) == "exit code 3");
  CHECK(ran.lines.size() == 30);
  REQUIRE(ran.result.tail.size() == StepResult::kTailLines);
  CHECK(ran.result.tail.front() == "11");
  CHECK(ran.result.tail.back() == "30");

  Ran shell_127 = RunOne(Sh("exit 127"));  // the shell's "not found", not ours
  CHECK(shell_127.result.outcome == Outcome::kExited);
  CHECK(shell_127.result.exit_code == 127);
}

TEST_CASE("a process killed by a signal is kSignaled", "[steps]") {
  Ran ran = RunOne(Sh("echo before; kill -9 $$"));
  CHECK(ran.result.outcome == Outcome::kSignaled);
  CHECK(ran.result.signal == SIGKILL);
  CHECK(ran.result.Describe(10s) == "killed by signal 9 (SIGKILL)");
  CHECK(ran.result.tail == Lines{"before"});
}

TEST_CASE("a timeout kills the whole process group", "[steps]") {
  // given a shell with a background sleep, then itself replaced by a sleep
  Ran ran = RunOne(Sh("sleep 100 & echo $!; echo $$; exec sleep 100"), 500ms);
  KillOnExit cleanup{Pids(ran.lines)};
  CHECK(ran.result.outcome == Outcome::kTimedOut);
  CHECK(ran.result.Describe(500ms) == "timed out after 500ms");
  CHECK(ran.result.took >= 500ms);
  CHECK(ran.result.took < 1500ms);
  REQUIRE(cleanup.pids.size() == 2);
  CHECK_FALSE(Alive(cleanup.pids[0]));  // the background sleep: same group
  CHECK_FALSE(Alive(cleanup.pids[1]));
}

TEST_CASE("members of a timed-out group that ignore SIGTERM get SIGKILL 2 s later", "[steps]") {
  Ran ran = RunOne(Sh("trap '' TERM; sleep 100 & echo $!; echo $$; exec sleep 100"), 300ms);
  KillOnExit cleanup{Pids(ran.lines)};
  CHECK(ran.result.outcome == Outcome::kTimedOut);
  CHECK(ran.result.took >= 2300ms);
  CHECK(ran.result.took < 3500ms);
  REQUIRE(cleanup.pids.size() == 2);
  CHECK_FALSE(Alive(cleanup.pids[0]));
  CHECK_FALSE(Alive(cleanup.pids[1]));
}

TEST_CASE("a step that starts a daemon in the background returns when the shell exits", "[steps]") {
  // with its output redirected, and (holding the pipe open) without
  std::string script = GENERATE("sleep 30 >/dev/null 2>&1 & echo $!", "sleep 30 & echo $!");
  Ran ran = RunOne(Sh(script));
  KillOnExit cleanup{Pids(ran.lines)};
  INFO(script);
  CHECK(ran.result.outcome == Outcome::kSucceeded);
  CHECK(ran.result.took < 500ms);
  REQUIRE(cleanup.pids.size() == 1);
  CHECK(Alive(cleanup.pids[0]));  // the daemon is the step's purpose: left running
}

TEST_CASE("CancelAll kills every run in progress", "[steps]") {
  std::vector<Ran> ran = RunAll({Sh("echo $$; exec sleep 100"), Sh("sleep 100 & echo $!; wait")}, 30s, 300ms);
  for (Ran& r : ran) {
    KillOnExit cleanup{Pids(r.lines)};
    CHECK(r.result.outcome == Outcome::kCancelled);
    CHECK(r.result.Describe(30s) == "cancelled");
    CHECK(r.result.took < 1500ms);
    REQUIRE(cleanup.pids.size() == 1);
    CHECK_FALSE(Alive(cleanup.pids[0]));
  }
}

TEST_CASE("a program that does not exist cannot start (not exit 127)", "[steps]") {
  Ran ran = RunOne(StepCommand{{"caretaker-no-such-program", "x"}, "caretaker-no-such-program x"});
  CHECK(ran.result.outcome == Outcome::kCannotStart);
  CHECK(ran.result.Describe(10s) == "cannot start: caretaker-no-such-program: No such file or directory");
  Ran not_executable = RunOne(StepCommand{{"/etc/passwd"}, "/etc/passwd"});
  CHECK(not_executable.result.outcome == Outcome::kCannotStart);
  CHECK(not_executable.result.error == "/etc/passwd: Permission denied");
}

TEST_CASE("two steps run concurrently on one event loop, each with its own output", "[steps]") {
  auto start = Clock::now();
  std::vector<Ran> ran = RunAll({Sh("echo a1; sleep 0.6; echo a2"), Sh("echo b1; sleep 0.6; exit 4")}, 10s);
  CHECK(Since(start) < 1100ms);  // not one after the other
  CHECK(ran[0].result.outcome == Outcome::kSucceeded);
  CHECK(ran[0].lines == Lines{"a1", "a2"});
  CHECK(ran[1].result.exit_code == 4);
  CHECK(ran[1].lines == Lines{"b1"});
}

TEST_CASE("the child leads its own process group, reads /dev/null, and inherits no fd", "[steps]") {
  int leaked = ::open("/dev/null", O_RDONLY);  // not close-on-exec
  REQUIRE(leaked > 2);
  Ran ran = RunOne(Sh("echo $$; cut -d' ' -f5 /proc/$$/stat; readlink /proc/$$/fd/0; ls /proc/$$/fd; cat"));
  ::close(leaked);
  CHECK(ran.result.outcome == Outcome::kSucceeded);
  REQUIRE(ran.lines.size() == 6);
  CHECK(ran.lines[1] == ran.lines[0]);  // pgid == pid
  CHECK(ran.lines[2] == "/dev/null");
  CHECK(Lines(ran.lines.begin() + 3, ran.lines.end()) == Lines{"0", "1", "2"});
}

TEST_CASE("placeholders reach the process substituted, hostile values as one word", "[steps]") {
  PoolConfig pool;
  pool.name = "replicas";
  MemberConfig member{"db1;echo INJECTED", "$(echo INJECTED)", 3307};
  StepConfig shell;
  shell.shell = "echo {server}; echo {host}:{port}; echo {pool}";
  Ran ran = RunOne(ExpandStep(TaskConfig{}, shell, pool, member));
  CHECK(ran.lines == Lines{"db1;echo INJECTED", "$(echo INJECTED):3307", "replicas"});
  StepConfig argv;
  argv.argv = {"printf", "%s|%s\\n", "{server}", "it's {host}"};
  ran = RunOne(ExpandStep(TaskConfig{}, argv, pool, member));
  CHECK(ran.lines == Lines{"db1;echo INJECTED|it's $(echo INJECTED)"});
}

TEST_CASE("destroying the runner or its event loop mid-run leaves no process and no zombie", "[steps]") {
  bool loop_first = GENERATE(false, true);
  INFO((loop_first ? "event loop destroyed first" : "runner destroyed first"));
  auto io = std::make_unique<asio::io_context>();
  auto runner = MakeProcessStepRunner(io->get_executor());
  pid_t pid = 0;
  auto step = [&]() -> asio::awaitable<void> {
    // The command is a temporary, gone before the co_await: Run copies it.
    auto op = runner->Run(Sh("echo $$; exec sleep 100"), 30s,
                          [&](std::string_view line) { pid = std::stoi(std::string(line)); });
    co_await std::move(op);
  };
  asio::co_spawn(*io, step(), [](std::exception_ptr) {});
  io->run_for(300ms);
  KillOnExit cleanup{{pid}};
  REQUIRE(pid > 0);
  REQUIRE(Alive(pid));
  if (loop_first) io.reset();
  runner.reset();
  io.reset();
  CHECK_FALSE(Alive(pid));
  errno = 0;
  CHECK(::waitpid(pid, nullptr, WNOHANG) == -1);  // reaped already
  CHECK(errno == ECHILD);
}

// --- over ssh, to a real sshd on loopback --------------------------------------

TEST_CASE("runs leave no fd open in the runner's process", "[steps]") {
  auto open_fds = [] {
    size_t n = 0;
    for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) n += entry.exists() ? 1 : 0;
    return n;
  };
  size_t before = open_fds();
  std::vector<Ran> ran = RunAll({Sh("echo done"), Sh("sleep 30 & echo $!"), Sh("exec sleep 100"),
                                 StepCommand{{"caretaker-no-such-program"}, ""}},
                                300ms);
  KillOnExit cleanup{Pids(ran[1].lines)};
  CHECK(ran[2].result.outcome == Outcome::kTimedOut);
  CHECK(open_fds() == before);
}

sandbox::Sshd& SharedSshd() {
  static const std::unique_ptr<sandbox::Sshd> sshd = sandbox::Sshd::Start();
  return *sshd;
}

TaskConfig SshTask(uint16_t port) {
  TaskConfig task;
  task.transport = StepTransport::kSsh;
  task.ssh.user = SharedSshd().user();
  task.ssh.port = port;
  task.ssh.options = SharedSshd().client_options();
  return task;
}

TEST_CASE("a step over ssh runs on the host with its placeholders substituted", "[steps][ssh]") {
  PoolConfig pool;
  pool.name = "replicas";
  MemberConfig member{"db 1;echo INJECTED", "127.0.0.1", 3306};
  StepConfig shell;
  shell.shell = "echo step {server} ran on port {port}; echo \"user $(id -u)\"";
  StepCommand command = ExpandStep(SshTask(SharedSshd().port()), shell, pool, member);
  Ran ran = RunOne(command, 30s);
  INFO("sshd log: " << sandbox::TailFile(SharedSshd().log_path()));
  CHECK(ran.result.outcome == Outcome::kSucceeded);
  CHECK(ran.lines == Lines{"step db 1;echo INJECTED ran on port 3306", "user " + std::to_string(::geteuid())});

  StepConfig argv;
  argv.argv = {"printf", "%s|%s\\n", "{server}", "it's $HOME"};
  ran = RunOne(ExpandStep(SshTask(SharedSshd().port()), argv, pool, member), 30s);
  CHECK(ran.lines == Lines{"db 1;echo INJECTED|it's $HOME"});
}

TEST_CASE("a member host starting with - is a host name for ssh, never an option", "[steps][ssh]") {
  PoolConfig pool;
  pool.name = "replicas";
  std::string marker = SharedSshd().dir() + "/proxy-command-ran";
  MemberConfig member{"db1", "-oProxyCommand=touch " + marker, 3306};
  StepConfig step;
  step.shell = "true";
  Ran ran = RunOne(ExpandStep(SshTask(SharedSshd().port()), step, pool, member), 30s);
  CHECK(ran.result.exit_code == 255);
  CHECK_FALSE(std::filesystem::exists(marker));
}

TEST_CASE("an ssh step's exit code is the remote command's; ssh's own failure is exit 255", "[steps][ssh]") {
  PoolConfig pool;
  pool.name = "replicas";
  MemberConfig member{"db1", "127.0.0.1", 3306};
  StepConfig step;
  step.shell = "echo on the host; exit 7";
  Ran ran = RunOne(ExpandStep(SshTask(SharedSshd().port()), step, pool, member), 30s);
  CHECK(ran.result.outcome == Outcome::kExited);
  CHECK(ran.result.Describe(30s) == "exit code 7");
  CHECK(ran.result.tail == Lines{"on the host"});

  StepConfig dash;  // a command starting with "-" goes to the remote shell: not `ssh -V`
  dash.argv = {"-V"};
  ran = RunOne(ExpandStep(SshTask(SharedSshd().port()), dash, pool, member), 30s);
  CHECK(ran.result.outcome == Outcome::kExited);
  for (const std::string& line : ran.lines) CHECK_THAT(line, !Catch::Contains("OpenSSH"));

  uint16_t closed = sandbox::FreeLoopbackPorts(1).front();
  ran = RunOne(ExpandStep(SshTask(closed), step, pool, member), 30s);
  CHECK(ran.result.exit_code == 255);
  REQUIRE_FALSE(ran.result.tail.empty());
  CHECK_THAT(ran.result.tail.back(), Catch::Contains("Connection refused"));
}

}  // namespace
}  // namespace caretaker
