// Child processes of the sandbox: spawning servers with their output in a log,
// stopping them by pid with a deadline, and running short commands (the
// `mariadb` client, mariadb-install-db) capturing their output.
//
// Every child starts with default signal dispositions, an empty signal mask,
// only fds 0-2 open (whatever the parent leaked), and, unless told otherwise,
// in a new session so a terminal's Ctrl-C does not reach it. Spawn() is safe to
// call from a multi-threaded process: between fork and exec the child only
// makes async-signal-safe calls.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace caretaker::sandbox {

struct SpawnOptions {
  static constexpr int kDevNull = -1;
  static constexpr int kInherit = -2;

  std::vector<std::string> argv;       // argv[0] is looked up in PATH unless it has a '/'
  int stdin_fd = kDevNull;             // an fd of the parent, kDevNull or kInherit
  int stdout_fd = kDevNull;
  int stderr_fd = kDevNull;
  bool new_session = true;             // setsid(): own session and process group
  std::vector<std::string> extra_env;  // "NAME=value", added to (or replacing in) environ
};

// Starts a child. Throws std::runtime_error if argv[0] cannot be executed
// (the child reports exec's errno through a close-on-exec pipe).
pid_t Spawn(const SpawnOptions& options);

// Opens `path` for appending (created 0644), close-on-exec; throws on failure.
// The caller closes it (see ScopedFd).
int OpenLog(const std::string& path);

// Owns a file descriptor.
class ScopedFd {
 public:
  explicit ScopedFd(int fd = -1) : fd_(fd) {}
  ~ScopedFd();
  ScopedFd(ScopedFd&& other) noexcept : fd_(other.Release()) {}
  ScopedFd& operator=(ScopedFd&& other) noexcept;
  int get() const { return fd_; }
  int Release() { int fd = fd_; fd_ = -1; return fd; }
  void Reset();

 private:
  int fd_;
};

// If child `pid` has exited, reaps it and returns its wait status.
std::optional<int> TryReap(pid_t pid);

// If child `pid` has exited, returns its wait status without reaping it (the
// pid stays reserved for the owner, who reaps it later).
std::optional<int> PeekExit(pid_t pid);

// Waits up to `timeout` for child `pid` to exit; reaps it and returns its wait
// status, or nullopt if it still runs.
std::optional<int> WaitExit(pid_t pid, std::chrono::milliseconds timeout);

// After SIGSTOP / SIGCONT to child `pid`: waits (up to `timeout`) until the
// kernel reports it stopped / continued; false on timeout or if it exited.
bool WaitStopped(pid_t pid, std::chrono::milliseconds timeout);
bool WaitContinued(pid_t pid, std::chrono::milliseconds timeout);

// Stops children: SIGTERM to all, waits up to `grace` for all of them, SIGKILL
// to the ones left, and reaps every one. Pids <= 0 are skipped.
void StopProcesses(const std::vector<pid_t>& pids, std::chrono::milliseconds grace);

// "exit 1", "killed by signal 9 (Killed)".
// Whether `pid` is a running process (not a zombie): for processes that are
// not our children, which waitpid cannot see.
bool ProcessAlive(pid_t pid);

// SIGTERM to a process that is not our child, polled until it is gone; then
// SIGKILL after `grace`.
void StopForeign(pid_t pid, std::chrono::milliseconds grace);

// Whether /proc/PID/cmdline contains `needle` (a data dir, say).
bool CmdlineContains(pid_t pid, std::string_view needle);

std::string DescribeWaitStatus(int status);

// The exit code a shell would report: the exit status, or 128 + signal.
int ShellExitCode(int status);

// Start time of process `pid` (field 22 of /proc/PID/stat, clock ticks since
// boot): with the pid, it identifies a process even after pid reuse. 0 if gone.
unsigned long long ProcessStartTime(pid_t pid);

struct CommandResult {
  int status = 0;    // wait status
  std::string out;   // stdout
  std::string err;   // stderr
  bool ok() const;   // exited with 0
};

// Runs argv to completion (stdin /dev/null), capturing stdout and stderr.
// Kills it and throws if it runs longer than `timeout`. `started`, if set, is
// called with its pid right after the spawn (e.g. to tell the watchdog).
CommandResult RunCommand(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                         const std::function<void(pid_t)>& started = {});

// "a b 'c d'" for messages.
std::string JoinArgv(const std::vector<std::string>& argv);

}  // namespace caretaker::sandbox
