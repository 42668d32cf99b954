// Progress of a long operation, for the person watching it.
//
// On a terminal, one status line is rewritten in place ("\r" + clear) as it
// changes; elsewhere (a log file, a pipe, CI) a line is printed only when the
// phase changes or every `quiet_period`, so logs stay readable. Lines that
// must stay (Note) are printed in full in both modes, above the status line.
#pragma once

#include <chrono>
#include <ostream>
#include <string>

namespace caretaker {

class Progress {
 public:
  // `tty`: rewrite one line in place. Time is passed in, for tests.
  // On a terminal, status lines are cut to `columns` - 1 (a wrapped line
  // cannot be rewritten in place); 0 means no limit.
  Progress(std::ostream& out, bool tty, std::chrono::milliseconds quiet_period = std::chrono::seconds(5),
           size_t columns = 0)
      : out_(out), tty_(tty), quiet_period_(quiet_period), columns_(columns) {}
  ~Progress() { Clear(); }

  // The current state of phase `phase` (e.g. "drain"), e.g. "2 sessions open, 8s left".
  void Update(const std::string& phase, const std::string& text,
              std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now());
  // A line that stays: what was done, a warning.
  void Note(const std::string& line);
  // Removes the status line (terminal) so that normal output follows.
  void Clear();

 private:
  std::ostream& out_;
  bool tty_;
  std::chrono::milliseconds quiet_period_;
  size_t columns_;
  bool line_shown_ = false;  // tty: a status line is on screen
  std::string last_phase_;
  std::chrono::steady_clock::time_point last_print_{};
};

// The width of the terminal on `fd`, or 0 when it is not one.
size_t TerminalColumns(int fd);

}  // namespace caretaker
