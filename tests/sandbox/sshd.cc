// The sandbox's sshd: keys, config, process and readiness (see sshd.h).
#include "tests/sandbox/sshd.h"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>

#include "tests/sandbox/files.h"
#include "tests/sandbox/net.h"
#include "tests/sandbox/process.h"
#include "tests/sandbox/watchdog.h"

namespace caretaker::sandbox {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr const char* kSshd = "/usr/sbin/sshd";
constexpr const char* kPrivsepDir = "/run/sshd";
constexpr auto kKeygenTimeout = std::chrono::seconds(30);
constexpr auto kStartTimeout = std::chrono::seconds(15);
constexpr auto kLoginTimeout = std::chrono::seconds(10);
constexpr auto kStopGrace = std::chrono::seconds(5);

std::string CurrentUser() {
  const passwd* pw = ::getpwuid(::geteuid());
  if (pw == nullptr) throw std::runtime_error("sshd: no passwd entry for uid " + std::to_string(::geteuid()));
  return pw->pw_name;
}

void Keygen(const std::string& path) {
  CommandResult r = RunCommand({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "caretaker-test", "-f", path},
                               kKeygenTimeout);
  if (!r.ok()) {
    throw std::runtime_error("sshd: ssh-keygen -f " + path + ": " + DescribeWaitStatus(r.status) + ": " + r.err +
                             " (is openssh-client installed? tools/install-deps)");
  }
}

// sshd refuses to start without its privilege-separation dir (made by the
// service's start-up, which never ran in a container).
void EnsurePrivsepDir() {
  std::error_code ec;
  fs::create_directories(kPrivsepDir, ec);
  if (ec) throw std::runtime_error(std::string("sshd: cannot create ") + kPrivsepDir + ": " + ec.message());
  ::chmod(kPrivsepDir, 0755);
}

std::string Config(const std::string& dir, uint16_t port, const std::string& user) {
  return "# Written by the caretaker test harness: loopback only, one key, no PAM.\n"
         "Port " + std::to_string(port) + "\n"
         "ListenAddress 127.0.0.1\n"
         "HostKey " + dir + "/host_ed25519\n"
         "PidFile " + dir + "/sshd.pid\n"
         "AuthorizedKeysFile " + dir + "/client_ed25519.pub\n"
         "AllowUsers " + user + "\n"
         "AuthenticationMethods publickey\n"
         "PasswordAuthentication no\n"
         "KbdInteractiveAuthentication no\n"
         "UsePAM no\n"
         "StrictModes no\n"
         "PermitRootLogin prohibit-password\n"
         "UseDNS no\n"
         "PrintMotd no\n"
         "X11Forwarding no\n"
         "AllowTcpForwarding no\n";
}

}  // namespace

Sshd::Sshd() = default;

std::unique_ptr<Sshd> Sshd::Start() {
  std::unique_ptr<Sshd> sshd(new Sshd());
  sshd->Boot();  // on a throw, ~Sshd stops what was started
  return sshd;
}

Sshd::~Sshd() {
  if (owner_pid_ != 0 && owner_pid_ != ::getpid()) {
    (void)watchdog_.release();  // a forked copy: sshd and the watchdog are not ours
    return;
  }
  Stop();
}

void Sshd::Boot() {
  if (::access(kSshd, X_OK) != 0) {
    throw std::runtime_error(std::string("sshd: ") + kSshd + " not found: install openssh-server (tools/install-deps)");
  }
  owner_pid_ = ::getpid();
  user_ = CurrentUser();
  dir_ = MakeTempDir("");
  watchdog_ = std::make_unique<Watchdog>(dir_, /*keep_dir=*/false);
  EnsurePrivsepDir();
  Keygen(dir_ + "/host_ed25519");
  Keygen(dir_ + "/client_ed25519");
  port_ = FreeLoopbackPorts(1).front();
  std::string config = dir_ + "/sshd_config";
  WriteFile(config, Config(dir_, port_, user_));
  log_path_ = dir_ + "/sshd.log";
  ScopedFd log(OpenLog(log_path_));
  SpawnOptions options;
  options.argv = {kSshd, "-D", "-e", "-f", config};  // sshd re-execs itself: absolute paths
  options.stdout_fd = log.get();
  options.stderr_fd = log.get();
  pid_ = Spawn(options);
  watchdog_->Track(pid_, "sshd");
  client_options_ = {"-i", dir_ + "/client_ed25519", "-o", "UserKnownHostsFile=/dev/null",
                     "-o", "StrictHostKeyChecking=no", "-o", "LogLevel=ERROR"};
  WaitReady();
}

// Polls a real login (`ssh ... true`) until it works: that proves the port,
// the keys and the account, not just a listening socket.
void Sshd::WaitReady() const {
  std::vector<std::string> argv = {"ssh", "-p", std::to_string(port_), "-o", "BatchMode=yes",
                                   "-o", "ConnectTimeout=5"};
  argv.insert(argv.end(), client_options_.begin(), client_options_.end());
  argv.insert(argv.end(), {user_ + "@127.0.0.1", "--", "true"});
  auto deadline = Clock::now() + kStartTimeout;
  std::string last_error;
  for (;;) {
    if (std::optional<int> status = PeekExit(pid_)) {
      throw std::runtime_error("sshd on 127.0.0.1:" + std::to_string(port_) + " exited (" +
                               DescribeWaitStatus(*status) + ")" + SeeLog(log_path_));
    }
    CommandResult r = RunCommand(argv, kLoginTimeout);
    if (r.ok()) return;
    last_error = DescribeWaitStatus(r.status) + ": " + r.err;
    if (Clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  throw std::runtime_error("sshd on 127.0.0.1:" + std::to_string(port_) + ": `" + JoinArgv(argv) +
                           "` did not log in: " + last_error + SeeLog(log_path_));
}

void Sshd::Stop() noexcept {
  try {
    StopProcesses({std::exchange(pid_, 0)}, kStopGrace);
    if (!dir_.empty()) fs::remove_all(dir_);
    if (watchdog_) watchdog_->Disarm();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sshd teardown of %s: %s (the watchdog finishes it)\n", dir_.c_str(), e.what());
  }
}

}  // namespace caretaker::sandbox
