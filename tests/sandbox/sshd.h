// A real OpenSSH server on loopback for tests of steps run over ssh: Debian's
// /usr/sbin/sshd -D on a free 127.0.0.1 port, with a host key and one client
// key generated in a fresh temp dir (ssh-keygen -t ed25519), logging in as the
// user running the tests by that key only.
//
// Contract: Start() returns once `ssh ... true` with client_options() has
// logged in; it throws std::runtime_error naming what failed and the tail of
// sshd's log. The destructor stops sshd (by pid) and removes the dir; a
// watchdog process does the same if the test process dies first. sshd needs
// /run/sshd (its privilege-separation dir), which Start() creates if missing.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace caretaker::sandbox {

class Watchdog;

class Sshd {
 public:
  static std::unique_ptr<Sshd> Start();
  ~Sshd();
  Sshd(const Sshd&) = delete;
  Sshd& operator=(const Sshd&) = delete;

  uint16_t port() const { return port_; }
  // Who to log in as: the user running the tests (root in CI).
  const std::string& user() const { return user_; }
  // ssh arguments that reach this server without prompts or known_hosts:
  // {"-i", KEY, "-o", "UserKnownHostsFile=/dev/null", "-o",
  //  "StrictHostKeyChecking=no", "-o", "LogLevel=ERROR"}.
  const std::vector<std::string>& client_options() const { return client_options_; }
  const std::string& dir() const { return dir_; }
  const std::string& log_path() const { return log_path_; }
  pid_t pid() const { return pid_; }

 private:
  Sshd();
  void Boot();
  void WaitReady() const;
  void Stop() noexcept;

  std::unique_ptr<Watchdog> watchdog_;
  pid_t owner_pid_ = 0;  // the destructor does nothing in a forked copy
  std::string dir_;
  std::string log_path_;
  std::string user_;
  uint16_t port_ = 0;
  std::vector<std::string> client_options_;
  pid_t pid_ = 0;
};

}  // namespace caretaker::sandbox
