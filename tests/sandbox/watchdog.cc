#include "tests/sandbox/watchdog.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>

#include "tests/sandbox/files.h"
#include "tests/sandbox/process.h"

namespace caretaker::sandbox {

Watchdog::Watchdog(std::string dir, bool keep_dir)
    : dir_(std::move(dir)), pid_file_(dir_ + "/pids") {
  WritePidFile();
  int ends[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends) != 0) {
    throw std::runtime_error("watchdog: socketpair: " + std::string(std::strerror(errno)));
  }
  ScopedFd watchdog_end(ends[0]);
  channel_ = ends[1];
  ScopedFd log(OpenLog(dir_ + "/watchdog.log"));
  SpawnOptions options;
  options.argv = {"/bin/sh", TemplatePath("watchdog.sh"), dir_, pid_file_, keep_dir ? "1" : "0"};
  options.stdin_fd = watchdog_end.get();
  options.stdout_fd = log.get();
  options.stderr_fd = log.get();
  try {
    pid_ = Spawn(options);
  } catch (...) {
    ::close(channel_);
    throw;
  }
}

Watchdog::~Watchdog() {
  if (channel_ >= 0) ::close(channel_);
  // Not disarmed: the watchdog now cleans up on its own; reap it if it is quick.
  if (pid_ > 0) WaitExit(pid_, std::chrono::seconds(15));
}

void Watchdog::Track(pid_t pid, std::string_view name) {
  tracked_[pid] = Entry{ProcessStartTime(pid), std::string(name)};
  WritePidFile();
}

void Watchdog::Untrack(pid_t pid) {
  if (tracked_.erase(pid) > 0) WritePidFile();
}

void Watchdog::Disarm() {
  if (channel_ < 0) return;
  static constexpr std::string_view kDisarm = "disarm\n";
  ::send(channel_, kDisarm.data(), kDisarm.size(), MSG_NOSIGNAL);
  ::close(channel_);
  channel_ = -1;
  if (pid_ > 0 && !WaitExit(pid_, std::chrono::seconds(5))) StopProcesses({pid_}, {});
  pid_ = 0;
}

void Watchdog::WritePidFile() const {
  std::string text;
  for (const auto& [pid, entry] : tracked_) {
    text += std::to_string(pid) + " " + std::to_string(entry.start_time) + " " + entry.name + "\n";
  }
  WriteFile(pid_file_, text, 0644, /*atomic=*/true);
}

}  // namespace caretaker::sandbox
