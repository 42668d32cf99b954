// An Alertmanager of the tests: config, process and readiness (see
// alertmanager.h).
#include "tests/sandbox/alertmanager.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <stdexcept>
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

constexpr const char* kAlertmanager = "/usr/bin/prometheus-alertmanager";
constexpr auto kReadyTimeout = std::chrono::seconds(20);
constexpr auto kStopGrace = std::chrono::seconds(5);
constexpr auto kRequestTimeout = std::chrono::seconds(5);

}  // namespace

std::unique_ptr<Alertmanager> Alertmanager::Start(const std::string& webhook_url, const std::string& token) {
  if (::access(kAlertmanager, X_OK) != 0) {
    throw std::runtime_error(std::string("alertmanager: ") + kAlertmanager +
                             " not found: install prometheus-alertmanager (tools/install-deps)");
  }
  std::unique_ptr<Alertmanager> am(new Alertmanager());
  am->owner_pid_ = ::getpid();
  am->dir_ = MakeTempDir("");
  am->watchdog_ = std::make_unique<Watchdog>(am->dir_, /*keep_dir=*/false);
  am->log_path_ = am->dir_ + "/alertmanager.log";
  am->port_ = FreeLoopbackPorts(1).front();
  const std::string token_file = am->dir_ + "/token";
  WriteFile(token_file, token + "\n", 0600);
  // Every alert its own group (one notification each, so a resolved alert
  // is sent at once); flushed within a second; repeated hourly.
  WriteFile(am->dir_ + "/alertmanager.yml",
            "# Written by the caretaker test harness.\n"
            "route:\n  receiver: caretaker\n  group_by: ['...']\n  group_wait: 200ms\n  group_interval: 1s\n"
            "  repeat_interval: 1h\n"
            "receivers:\n- name: caretaker\n  webhook_configs:\n  - url: " + webhook_url + "\n"
            "    send_resolved: true\n    http_config:\n      authorization:\n        type: Bearer\n"
            "        credentials_file: " + token_file + "\n");
  ScopedFd log(OpenLog(am->log_path_));
  SpawnOptions options;
  options.argv = {kAlertmanager, "--config.file=" + am->dir_ + "/alertmanager.yml",
                  "--storage.path=" + am->dir_ + "/data",
                  "--web.listen-address=127.0.0.1:" + std::to_string(am->port_), "--cluster.listen-address="};
  options.stdout_fd = log.get();
  options.stderr_fd = log.get();
  am->pid_ = Spawn(options);
  am->watchdog_->Track(am->pid_, "alertmanager");
  const auto deadline = Clock::now() + kReadyTimeout;
  while (Clock::now() < deadline) {
    if (std::optional<int> status = PeekExit(am->pid_)) {
      throw std::runtime_error("alertmanager on 127.0.0.1:" + std::to_string(am->port_) + " exited (" +
                               DescribeWaitStatus(*status) + ")" + SeeLog(am->log_path_));
    }
    try {
      HttpGetLoopback(am->port_, "/-/ready", kRequestTimeout);
      return am;
    } catch (const std::exception&) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));  // not listening yet
    }
  }
  throw std::runtime_error("alertmanager on 127.0.0.1:" + std::to_string(am->port_) + " is not ready within " +
                           std::to_string(kReadyTimeout.count()) + " s" + SeeLog(am->log_path_));
}

Alertmanager::~Alertmanager() {
  if (owner_pid_ != 0 && owner_pid_ != ::getpid()) {
    (void)watchdog_.release();  // a forked copy owns nothing
    return;
  }
  Stop();
}

void Alertmanager::Push(const std::string& alerts) const {
  HttpResult r = HttpLoopback(port_, "POST", "/api/v2/alerts", {"Content-Type: application/json"}, alerts,
                              kRequestTimeout);
  if (r.status != 200) {
    throw std::runtime_error("alertmanager on 127.0.0.1:" + std::to_string(port_) + " refused the alerts: HTTP " +
                             std::to_string(r.status) + " " + r.body);
  }
}

void Alertmanager::Stop() noexcept {
  try {
    StopProcesses({std::exchange(pid_, 0)}, kStopGrace);
    if (!dir_.empty()) fs::remove_all(dir_);
    if (watchdog_) watchdog_->Disarm();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "alertmanager teardown of %s: %s (the watchdog finishes it)\n", dir_.c_str(), e.what());
  }
}

}  // namespace caretaker::sandbox
