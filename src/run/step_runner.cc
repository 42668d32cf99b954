// Steps: their command lines for one member (ExpandStep, pure) and the runner
// that starts them as processes on an Asio event loop.
//
// A run is two coroutines sharing one RunState: ReadOutput reads the pipe and
// delivers lines; Supervise polls the process (waitid on its pid only, every
// 20 ms: other code may wait for children of its own; a pidfd wakes it at
// once when the process exits), sends the signals of a
// timeout or a cancel, and closes the pipe once the process is done. The
// group leader is reaped last, so its pid (the group's id) cannot be reused
// while signals go to the group.
#include "src/run/step_runner.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <deque>
#include <exception>
#include <optional>
#include <set>
#include <utility>

extern char** environ;

namespace caretaker {

namespace asio = boost::asio;

// --- command lines ------------------------------------------------------------

namespace {

bool IsShellSafe(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::strchr("_@%+=:,./-", c) != nullptr;
}

std::string JoinQuoted(const std::vector<std::string>& words) {
  std::string out;
  for (const std::string& w : words) out += (out.empty() ? "" : " ") + ShellQuote(w);
  return out;
}

// "SIGKILL"; "signal 99" for a number the C library has no name for.
std::string SignalName(int signo) {
  const char* abbrev = ::sigabbrev_np(signo);
  return abbrev ? std::string("SIG") + abbrev : "signal " + std::to_string(signo);
}

}  // namespace

std::string ShellQuote(std::string_view text) {
  bool safe = !text.empty();
  for (char c : text) safe = safe && IsShellSafe(c);
  if (safe) return std::string(text);
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

StepCommand ExpandStep(const TaskConfig& task, const StepConfig& step, const PoolConfig& pool,
                       const MemberConfig& member) {
  StepCommand out;
  std::vector<std::string> argv;
  if (step.argv.empty()) {
    out.display = ExpandPlaceholders(step.shell, pool, member, &ShellQuote);
  } else {
    for (const std::string& arg : step.argv) argv.push_back(ExpandPlaceholders(arg, pool, member));
    out.display = JoinQuoted(argv);
  }
  if (task.transport == StepTransport::kLocal) {
    out.argv = step.argv.empty() ? std::vector<std::string>{"/bin/sh", "-c", out.display} : std::move(argv);
    return out;
  }
  out.argv = {"ssh", "-p", std::to_string(task.ssh.port), "-o", "BatchMode=yes"};
  out.argv.insert(out.argv.end(), task.ssh.options.begin(), task.ssh.options.end());
  out.argv.push_back("--");  // no option after this: not in the host, not in the command
  out.argv.push_back(task.ssh.user.empty() ? member.host : task.ssh.user + "@" + member.host);
  out.argv.push_back(out.display);  // ssh hands it to the remote user's shell
  return out;
}

std::string StepResult::Describe(std::chrono::milliseconds timeout) const {
  switch (outcome) {
    case Outcome::kSucceeded:
      return "succeeded";
    case Outcome::kExited:
      return "exit code " + std::to_string(exit_code);
    case Outcome::kSignaled:
      return "killed by signal " + std::to_string(signal) + " (" + SignalName(signal) + ")";
    case Outcome::kTimedOut:
      return "timed out after " + FormatDuration(timeout);
    case Outcome::kCancelled:
      return "cancelled";
    case Outcome::kCannotStart:
      return "cannot start: " + error;
  }
  return "unknown outcome";
}

// --- processes ----------------------------------------------------------------

namespace {

using Clock = std::chrono::steady_clock;
using OnLine = std::function<void(std::string_view line)>;

constexpr auto kPollInterval = std::chrono::milliseconds(20);
constexpr auto kOutputGrace = std::chrono::milliseconds(100);  // output after the exit
constexpr auto kKillGrace = std::chrono::seconds(2);           // SIGTERM -> SIGKILL
constexpr auto kAfterKill = std::chrono::seconds(1);           // the group after SIGKILL
constexpr size_t kMaxLine = 64 * 1024;                         // longer: delivered in pieces

struct Spawned {
  pid_t pid = -1;
  int output = -1;    // read end of the stdout+stderr pipe
  std::string error;  // why it did not start
};

// posix_spawn reports an exec failure (no such program) as its return value,
// unlike fork+exec where it would look like exit 127. The child leads a new
// process group, has default signal dispositions and mask, stdin /dev/null,
// and no fd above 2 (everything here is O_CLOEXEC anyway).
Spawned SpawnStep(const std::vector<std::string>& argv) {
  if (argv.empty()) return {.error = "empty command"};
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return {.error = std::string("pipe: ") + std::strerror(errno)};
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  ::posix_spawn_file_actions_init(&actions);
  ::posix_spawnattr_init(&attr);
  ::posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  ::posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
  ::posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  ::posix_spawn_file_actions_addclosefrom_np(&actions, STDERR_FILENO + 1);
  sigset_t all, none;
  ::sigfillset(&all);
  ::sigemptyset(&none);
  ::posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  ::posix_spawnattr_setpgroup(&attr, 0);
  ::posix_spawnattr_setsigdefault(&attr, &all);
  ::posix_spawnattr_setsigmask(&attr, &none);
  std::vector<std::string> storage = argv;
  std::vector<char*> cargv;
  for (std::string& a : storage) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  pid_t pid = -1;
  int rc = ::posix_spawnp(&pid, cargv[0], &actions, &attr, cargv.data(), environ);
  ::posix_spawn_file_actions_destroy(&actions);
  ::posix_spawnattr_destroy(&attr);
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    return {.error = argv[0] + ": " + std::strerror(rc)};
  }
  return {.pid = pid, .output = fds[0], .error = {}};
}

// True while a process of group `pgid` runs (zombies do not count: an orphan
// stays one until init reaps it, and some inits never do).
bool GroupHasLiveMembers(pid_t pgid) {
  if (::kill(-pgid, 0) != 0 && errno == ESRCH) return false;
  DIR* proc = ::opendir("/proc");
  if (!proc) return true;  // cannot tell: the caller's deadline ends the wait
  bool live = false;
  while (const dirent* entry = ::readdir(proc)) {
    if (entry->d_name[0] < '1' || entry->d_name[0] > '9') continue;
    char path[sizeof entry->d_name + 16], stat[512];
    std::snprintf(path, sizeof path, "/proc/%s/stat", entry->d_name);
    int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    ssize_t n = ::read(fd, stat, sizeof stat - 1);
    ::close(fd);
    if (n <= 0) continue;
    stat[n] = '\0';
    const char* paren = std::strrchr(stat, ')');  // the name may contain ") "
    char state = 0;
    int ppid = 0, pgrp = 0;
    if (paren && std::sscanf(paren + 1, " %c %d %d", &state, &ppid, &pgrp) == 3 && pgrp == pgid &&
        state != 'Z' && state != 'X') {
      live = true;
      break;
    }
  }
  ::closedir(proc);
  return live;
}

struct RunState;

// A pidfd of child `pid` (Linux >= 5.3), close-on-exec; -1 if unavailable.
int OpenPidFd(pid_t pid) {
#ifdef SYS_pidfd_open
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
#else
  (void)pid;
  return -1;
#endif
}

// The runs in progress of one runner; outlives it while runs do.
struct Registry {
  std::set<RunState*> running;
};

enum class KilledBy { kNone, kTimeout, kCancel };

// One run: its process group (pgid == pid), pipe, timer and output so far.
// Used from the event loop's thread only.
struct RunState {
  RunState(asio::any_io_executor ex, std::shared_ptr<Registry> reg, const Spawned& spawned, OnLine callback)
      : pid(spawned.pid), output(ex, spawned.output), exit_watch(ex), timer(ex), on_line(std::move(callback)),
        registry(std::move(reg)) {
    registry->running.insert(this);
  }
  // The coroutines were destroyed mid-run (their io_context went away): no
  // process of the group outlives it, and no zombie is left.
  ~RunState() {
    ForceStop();
    registry->running.erase(this);
  }
  RunState(const RunState&) = delete;
  RunState& operator=(const RunState&) = delete;

  void Terminate(KilledBy why);
  void ForceStop();
  bool Advance(Clock::time_point deadline);
  std::optional<int> Reap();
  void Consume(std::string_view data);
  void Deliver(std::string_view line);

  pid_t pid;
  bool exited = false;  // the leader exited (not reaped yet)
  bool reaped = false;
  int wait_status = 0;  // once reaped
  KilledBy killed_by = KilledBy::kNone;
  Clock::time_point term_sent{};
  bool kill_sent = false;
  bool reader_done = false;
  asio::posix::stream_descriptor output;
  asio::posix::stream_descriptor exit_watch;  // the leader's pidfd, if the kernel has them
  asio::steady_timer timer;  // Supervise's tick; cancelled to wake it early
  std::string partial;       // output after the last newline
  std::deque<std::string> tail;
  OnLine on_line;
  std::exception_ptr callback_error;  // what on_line threw; rethrown by Run
  std::shared_ptr<Registry> registry;
};

// SIGTERM to the group (SIGCONT too: a stopped process acts on it only once
// continued). A run whose process already exited is left alone: what remains
// of its group are daemons it started on purpose.
void RunState::Terminate(KilledBy why) {
  if (exited || reaped || killed_by != KilledBy::kNone) return;
  killed_by = why;
  term_sent = Clock::now();
  ::kill(-pid, SIGTERM);
  ::kill(-pid, SIGCONT);
  timer.cancel();
}

// At once, blocking for the few milliseconds SIGKILL takes. A process that
// already exited is only reaped: the rest of its group is its daemons.
void RunState::ForceStop() {
  if (reaped) return;
  if (!exited) {
    if (killed_by == KilledBy::kNone) killed_by = KilledBy::kCancel;
    ::kill(-pid, SIGKILL);
  }
  while (::waitpid(pid, &wait_status, 0) < 0 && errno == EINTR) {
  }
  reaped = true;
  timer.cancel();
}

// Notices the exit and sends the signals that are due. True when the run is
// over: the process exited and, after a kill, its group is gone (or had its
// chance after SIGKILL).
bool RunState::Advance(Clock::time_point deadline) {
  auto now = Clock::now();
  if (!exited && !reaped) {
    siginfo_t info{};
    int r = ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT);
    exited = (r == 0 && info.si_pid == pid) || (r < 0 && errno == ECHILD);
  }
  if (reaped) return true;
  if (now >= deadline) Terminate(KilledBy::kTimeout);
  if (killed_by == KilledBy::kNone) return exited;
  if (!kill_sent && now >= term_sent + kKillGrace) {
    ::kill(-pid, SIGKILL);
    kill_sent = true;
  }
  if (!exited) return false;
  return !GroupHasLiveMembers(pid) || now >= term_sent + kKillGrace + kAfterKill;
}

// The leader's wait status; nullopt if someone else reaped it.
std::optional<int> RunState::Reap() {
  if (!reaped) {
    pid_t r;
    while ((r = ::waitpid(pid, &wait_status, 0)) < 0 && errno == EINTR) {
    }
    reaped = true;
    if (r != pid) return std::nullopt;
  }
  return wait_status;
}

void RunState::Consume(std::string_view data) {
  partial.append(data);
  size_t start = 0;
  for (size_t nl; (nl = partial.find('\n', start)) != std::string::npos; start = nl + 1) {
    Deliver(std::string_view(partial).substr(start, nl - start));
  }
  partial.erase(0, start);
  while (partial.size() >= kMaxLine) {
    Deliver(std::string_view(partial).substr(0, kMaxLine));
    partial.erase(0, kMaxLine);
  }
}

void RunState::Deliver(std::string_view line) {
  tail.emplace_back(line);
  if (tail.size() > StepResult::kTailLines) tail.pop_front();
  if (!on_line || callback_error) return;
  try {
    on_line(line);
  } catch (...) {
    callback_error = std::current_exception();
    Terminate(KilledBy::kCancel);
  }
}

asio::awaitable<void> ReadOutput(std::shared_ptr<RunState> s) {
  std::array<char, 8192> buffer;
  for (;;) {
    boost::system::error_code ec;  // EOF, or the pipe closed by Supervise
    auto read = s->output.async_read_some(asio::buffer(buffer), asio::redirect_error(asio::use_awaitable, ec));
    size_t n = co_await std::move(read);
    s->Consume(std::string_view(buffer.data(), n));
    if (ec) break;
  }
  if (!s->partial.empty()) s->Deliver(s->partial);
  s->partial.clear();
  s->reader_done = true;
  s->timer.cancel();  // wake Supervise
}

// Waits for the run to be over, then for the output (at most kOutputGrace: a
// daemon started in the background may hold the pipe open for ever).
asio::awaitable<void> Supervise(std::shared_ptr<RunState> s, Clock::time_point deadline) {
  if (s->exit_watch.is_open()) {
    // Readable once the leader exited: a step's end is seen at once, not at
    // the next tick. Runs only while Supervise waits on the timer.
    s->exit_watch.async_wait(asio::posix::stream_descriptor::wait_read, [s](const boost::system::error_code& ec) {
      if (!ec) s->timer.cancel();
    });
  }
  std::optional<Clock::time_point> over;
  for (;;) {
    if (!over && s->Advance(deadline)) over = Clock::now();
    if (over && (s->reader_done || Clock::now() >= *over + kOutputGrace)) break;
    s->timer.expires_after(kPollInterval);
    boost::system::error_code ec;  // cancelled: woken early, look again
    auto wait = s->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    co_await std::move(wait);
  }
  boost::system::error_code ignored;
  s->output.close(ignored);  // ends a read still pending
  s->exit_watch.close(ignored);
}

StepResult ResultOf(RunState& s, Clock::time_point start) {
  StepResult result;
  std::optional<int> status = s.Reap();
  result.took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
  result.tail.assign(s.tail.begin(), s.tail.end());
  if (s.killed_by == KilledBy::kTimeout) {
    result.outcome = StepResult::Outcome::kTimedOut;
  } else if (s.killed_by == KilledBy::kCancel) {
    result.outcome = StepResult::Outcome::kCancelled;
  } else if (!status) {
    result.outcome = StepResult::Outcome::kExited;
    result.exit_code = -1;
    result.error = "its exit status was collected by another part of the program";
  } else if (WIFSIGNALED(*status)) {
    result.outcome = StepResult::Outcome::kSignaled;
    result.signal = WTERMSIG(*status);
  } else {
    result.exit_code = WEXITSTATUS(*status);
    result.outcome = result.exit_code == 0 ? StepResult::Outcome::kSucceeded : StepResult::Outcome::kExited;
  }
  return result;
}

asio::awaitable<StepResult> RunProcess(asio::any_io_executor ex, std::shared_ptr<Registry> registry,
                                       std::vector<std::string> argv, std::chrono::milliseconds timeout,
                                       OnLine on_line) {
  auto start = Clock::now();
  Spawned spawned = SpawnStep(argv);
  if (spawned.pid < 0) {
    StepResult failed;
    failed.outcome = StepResult::Outcome::kCannotStart;
    failed.error = spawned.error;
    failed.took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
    co_return failed;
  }
  auto state = std::make_shared<RunState>(ex, std::move(registry), spawned, std::move(on_line));
  if (int pidfd = OpenPidFd(spawned.pid); pidfd >= 0) {
    boost::system::error_code ec;  // e.g. no epoll watch left: the poll still sees the exit
    state->exit_watch.assign(pidfd, ec);
    if (ec) ::close(pidfd);
  }
  auto group = asio::experimental::make_parallel_group(asio::co_spawn(ex, ReadOutput(state), asio::deferred),
                                                       asio::co_spawn(ex, Supervise(state, start + timeout),
                                                                      asio::deferred));
  auto wait = group.async_wait(asio::experimental::wait_for_all(), asio::use_awaitable);
  auto [order, read_error, supervise_error] = co_await std::move(wait);
  (void)order;
  StepResult result = ResultOf(*state, start);
  for (const std::exception_ptr& e : {state->callback_error, read_error, supervise_error}) {
    if (e) std::rethrow_exception(e);
  }
  co_return result;
}

class ProcessStepRunner final : public StepRunner {
 public:
  explicit ProcessStepRunner(asio::any_io_executor executor)
      : executor_(std::move(executor)), registry_(std::make_shared<Registry>()) {}
  ~ProcessStepRunner() override {
    for (RunState* s : registry_->running) s->ForceStop();
  }

  // Not a coroutine itself: `command` is copied now, so a caller may name the
  // returned awaitable and co_await it after the command is gone.
  asio::awaitable<StepResult> Run(const StepCommand& command, std::chrono::milliseconds timeout,
                                  OnLine on_line) override {
    return RunProcess(executor_, registry_, command.argv, timeout, std::move(on_line));
  }

  // From the event loop's thread (a signal_set handler, a coroutine).
  void CancelAll() override {
    for (RunState* s : registry_->running) s->Terminate(KilledBy::kCancel);
  }

 private:
  asio::any_io_executor executor_;
  std::shared_ptr<Registry> registry_;
};

}  // namespace

std::unique_ptr<StepRunner> MakeProcessStepRunner(asio::any_io_executor executor) {
  return std::make_unique<ProcessStepRunner>(std::move(executor));
}

}  // namespace caretaker
