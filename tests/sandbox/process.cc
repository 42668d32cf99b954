#include "tests/sandbox/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <thread>

extern char** environ;

namespace caretaker::sandbox {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kPollInterval = std::chrono::milliseconds(10);

// argv[0] resolved before fork: execvp may allocate, which a child of a
// multi-threaded parent must not. Servers live in sbin, so it is searched too.
std::string ResolveProgram(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  const char* env_path = std::getenv("PATH");
  std::string dirs = std::string(env_path != nullptr ? env_path : "/usr/bin:/bin") +
                     ":/usr/local/sbin:/usr/sbin:/sbin";
  std::istringstream in(dirs);
  for (std::string dir; std::getline(in, dir, ':');) {
    std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return name;  // execve fails with ENOENT, which Spawn reports
}

std::vector<std::string> MergedEnv(const std::vector<std::string>& extra) {
  auto name_of = [](std::string_view entry) { return entry.substr(0, entry.find('=')); };
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    bool replaced = false;
    for (const auto& x : extra) replaced = replaced || name_of(x) == name_of(*e);
    if (!replaced) env.emplace_back(*e);
  }
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// In the child, before exec: async-signal-safe calls only.
void RedirectInChild(int from, int target, int dev_null) {
  if (from == SpawnOptions::kInherit) return;
  ::dup2(from == SpawnOptions::kDevNull ? dev_null : from, target);
}

[[noreturn]] void ExecInChild(const SpawnOptions& options, const char* path, char** argv,
                              char** envp, int dev_null, int error_fd) {
  if (options.new_session) ::setsid();
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) ::sigaction(sig, &dfl, nullptr);
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  RedirectInChild(options.stdin_fd, 0, dev_null);
  RedirectInChild(options.stdout_fd, 1, dev_null);
  RedirectInChild(options.stderr_fd, 2, dev_null);
  // Whatever the parent leaked (fds without O_CLOEXEC) closes at exec.
  if (::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
    for (int fd = 3; fd < 65536; ++fd) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
  ::execve(path, argv, envp);
  int error = errno;
  ssize_t ignored = ::write(error_fd, &error, sizeof error);
  (void)ignored;
  ::_exit(127);
}

}  // namespace

ScopedFd::~ScopedFd() { Reset(); }

ScopedFd& ScopedFd::operator=(ScopedFd&& other) noexcept {
  if (this != &other) {
    Reset();
    fd_ = other.Release();
  }
  return *this;
}

void ScopedFd::Reset() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

int OpenLog(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("cannot open log " + path + ": " + std::strerror(errno));
  return fd;
}

pid_t Spawn(const SpawnOptions& options) {
  if (options.argv.empty()) throw std::invalid_argument("Spawn: empty argv");
  std::string path = ResolveProgram(options.argv[0]);
  std::vector<std::string> argv_storage = options.argv;
  std::vector<std::string> env_storage = MergedEnv(options.extra_env);
  std::vector<char*> argv = CStrings(argv_storage);
  std::vector<char*> envp = CStrings(env_storage);
  ScopedFd dev_null(::open("/dev/null", O_RDWR | O_CLOEXEC));
  int error_pipe[2];
  if (dev_null.get() < 0 || ::pipe2(error_pipe, O_CLOEXEC) != 0) {
    throw std::runtime_error("cannot prepare to run " + path + ": " + std::strerror(errno));
  }
  ScopedFd error_read(error_pipe[0]), error_write(error_pipe[1]);
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork for " + path + ": " + std::strerror(errno));
  if (pid == 0) {
    ExecInChild(options, path.c_str(), argv.data(), envp.data(), dev_null.get(),
                error_write.get());
  }
  error_write.Reset();
  int child_errno = 0;
  ssize_t n;
  do {
    n = ::read(error_read.get(), &child_errno, sizeof child_errno);
  } while (n < 0 && errno == EINTR);
  if (n == static_cast<ssize_t>(sizeof child_errno)) {
    ::waitpid(pid, nullptr, 0);
    throw std::runtime_error("cannot run " + path + ": " + std::strerror(child_errno));
  }
  return pid;
}

std::optional<int> TryReap(pid_t pid) {
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(pid, &status, WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == 0) return std::nullopt;
  return r == pid ? status : 0;  // ECHILD: someone reaped it already
}

std::optional<int> PeekExit(pid_t pid) {
  siginfo_t info{};
  int r;
  do {
    r = ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT);
  } while (r < 0 && errno == EINTR);
  if (r < 0) return 0;              // ECHILD: reaped by someone already
  if (info.si_pid == 0) return std::nullopt;
  if (info.si_code == CLD_EXITED) return W_EXITCODE(info.si_status, 0);
  return info.si_status & 0x7f;     // killed or dumped: the signal, as WTERMSIG reads it
}

std::optional<int> WaitExit(pid_t pid, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  for (;;) {
    if (auto status = TryReap(pid)) return status;
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(kPollInterval);
  }
}

namespace {
// Polls waitid(WNOWAIT) for a stop/continue report of child `pid`, then
// consumes it (a stop or continue report never loses an exit status).
bool WaitStateChange(pid_t pid, int which, int code, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  for (;;) {
    siginfo_t info{};
    int r = ::waitid(P_PID, static_cast<id_t>(pid), &info, which | WEXITED | WNOHANG | WNOWAIT);
    if (r < 0 && errno != EINTR) return false;
    if (r == 0 && info.si_pid == pid) {
      if (info.si_code != code) return false;  // exited: leave it for the owner to reap
      ::waitid(P_PID, static_cast<id_t>(pid), &info, which | WNOHANG);
      return true;
    }
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}
}  // namespace

bool WaitStopped(pid_t pid, std::chrono::milliseconds timeout) {
  return WaitStateChange(pid, WSTOPPED, CLD_STOPPED, timeout);
}

bool WaitContinued(pid_t pid, std::chrono::milliseconds timeout) {
  return WaitStateChange(pid, WCONTINUED, CLD_CONTINUED, timeout);
}

void StopProcesses(const std::vector<pid_t>& pids, std::chrono::milliseconds grace) {
  std::vector<pid_t> left;
  for (pid_t pid : pids) {
    if (pid <= 0) continue;
    ::kill(pid, SIGTERM);
    ::kill(pid, SIGCONT);  // a SIGSTOPped process acts on SIGTERM only once continued
    left.push_back(pid);
  }
  auto deadline = Clock::now() + grace;
  while (!left.empty() && Clock::now() < deadline) {
    std::erase_if(left, [](pid_t pid) { return TryReap(pid).has_value(); });
    if (!left.empty()) std::this_thread::sleep_for(kPollInterval);
  }
  for (pid_t pid : left) {
    ::kill(pid, SIGKILL);
    while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
}

bool ProcessAlive(pid_t pid) {
  if (pid <= 0) return false;
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!std::getline(in, stat)) return false;
  size_t paren = stat.rfind(") ");  // the command name may hold spaces and parens
  if (paren == std::string::npos || paren + 2 >= stat.size()) return false;
  char state = stat[paren + 2];
  return state != 'Z' && state != 'X';
}

void StopForeign(pid_t pid, std::chrono::milliseconds grace) {
  if (!ProcessAlive(pid)) return;
  ::kill(pid, SIGTERM);
  ::kill(pid, SIGCONT);
  auto deadline = Clock::now() + grace;
  while (ProcessAlive(pid) && Clock::now() < deadline) std::this_thread::sleep_for(kPollInterval);
  if (!ProcessAlive(pid)) return;
  ::kill(pid, SIGKILL);
  auto gone = Clock::now() + std::chrono::seconds(5);
  while (ProcessAlive(pid) && Clock::now() < gone) std::this_thread::sleep_for(kPollInterval);
}

bool CmdlineContains(pid_t pid, std::string_view needle) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
  std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return cmdline.find(needle) != std::string::npos;
}

std::string DescribeWaitStatus(int status) {
  if (WIFEXITED(status)) return "exit " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    return "killed by signal " + std::to_string(WTERMSIG(status)) + " (" +
           ::strsignal(WTERMSIG(status)) + ")";
  }
  return "wait status " + std::to_string(status);
}

int ShellExitCode(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

unsigned long long ProcessStartTime(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!std::getline(in, stat)) return 0;
  size_t close_paren = stat.rfind(')');
  if (close_paren == std::string::npos) return 0;
  std::istringstream fields(stat.substr(close_paren + 2));  // from field 3 (state) on
  std::string field;
  for (int i = 3; i <= 22 && fields >> field; ++i) {
    if (i == 22) return std::stoull(field);
  }
  return 0;
}

bool CommandResult::ok() const { return WIFEXITED(status) && WEXITSTATUS(status) == 0; }

CommandResult RunCommand(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                         const std::function<void(pid_t)>& started) {
  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) throw std::runtime_error("pipe: " + std::string(strerror(errno)));
  ScopedFd out_read(out_pipe[0]), out_write(out_pipe[1]);
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) throw std::runtime_error("pipe: " + std::string(strerror(errno)));
  ScopedFd err_read(err_pipe[0]), err_write(err_pipe[1]);
  SpawnOptions options;
  options.argv = argv;
  options.stdout_fd = out_write.get();
  options.stderr_fd = err_write.get();
  pid_t pid = Spawn(options);
  if (started) started(pid);
  out_write.Reset();
  err_write.Reset();

  CommandResult result;
  auto deadline = Clock::now() + timeout;
  pollfd fds[2] = {{out_read.get(), POLLIN, 0}, {err_read.get(), POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  while ((fds[0].fd >= 0 || fds[1].fd >= 0) && Clock::now() < deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (::poll(fds, 2, static_cast<int>(left.count()) + 1) < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buf[8192];
      ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n > 0) sinks[i]->append(buf, static_cast<size_t>(n));
      if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) fds[i].fd = -1;
    }
  }
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  std::optional<int> status = WaitExit(pid, std::max(left, std::chrono::milliseconds(0)));
  if (!status) {
    StopProcesses({pid}, std::chrono::milliseconds(0));
    throw std::runtime_error("`" + JoinArgv(argv) + "` did not finish within " +
                             std::to_string(timeout.count()) + " ms");
  }
  result.status = *status;
  return result;
}

std::string JoinArgv(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& arg : argv) {
    if (!out.empty()) out += ' ';
    bool plain = !arg.empty() && arg.find_first_of(" \t\n'\"$;&|<>()*?`\\") == std::string::npos;
    out += plain ? arg : "'" + arg + "'";
  }
  return out;
}

}  // namespace caretaker::sandbox
