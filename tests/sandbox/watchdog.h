// The watchdog: a process that cleans up a sandbox whose owner died without
// tearing it down (crash, SIGKILL, an uncaught signal). The logic is the
// readable shell script conf/sandbox/watchdog.sh.
//
// The owner holds the only write end of a socketpair (close-on-exec, so no
// server inherits it; a socketpair rather than a pipe so writing to a dead
// watchdog cannot SIGPIPE the owner); the watchdog reads the other end. EOF
// without "disarm" makes it SIGKILL every process listed in <dir>/pids (with
// start times, so a reused pid is never hit) and remove <dir>.
//
// A process recorded with Track() right after fork is covered; one whose owner
// dies between fork and Track() is not (a window of microseconds).
#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <string_view>

namespace caretaker::sandbox {

class Watchdog {
 public:
  // Starts the watchdog for `dir` (which must exist). With `keep_dir`, it kills
  // the processes but leaves the dir. Throws if it cannot start.
  Watchdog(std::string dir, bool keep_dir);
  // Without Disarm(), closing the channel here makes the watchdog clean up.
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  // Adds / removes a process in the pid list (rewritten atomically).
  void Track(pid_t pid, std::string_view name);
  void Untrack(pid_t pid);

  // The owner has cleaned up: the watchdog exits without doing anything (and
  // is reaped here). Call it last, after the processes are gone.
  void Disarm();

  pid_t pid() const { return pid_; }

 private:
  struct Entry {
    unsigned long long start_time;
    std::string name;
  };
  void WritePidFile() const;

  std::string dir_;
  std::string pid_file_;
  std::map<pid_t, Entry> tracked_;
  pid_t pid_ = 0;
  int channel_ = -1;  // the owner's end
};

}  // namespace caretaker::sandbox
