#include "src/cli/progress.h"

#include <sys/ioctl.h>
#include <unistd.h>

namespace caretaker {

void Progress::Update(const std::string& phase, const std::string& text, std::chrono::steady_clock::time_point now) {
  std::string line = phase + ": " + text;
  if (tty_) {
    if (columns_ > 1 && line.size() > columns_ - 1) line = line.substr(0, columns_ - 4) + "...";
    out_ << "\r\033[K" << line << std::flush;
    line_shown_ = true;
    return;
  }
  if (phase == last_phase_ && now - last_print_ < quiet_period_) return;
  last_phase_ = phase;
  last_print_ = now;
  out_ << line << "\n" << std::flush;
}

void Progress::Note(const std::string& line) {
  Clear();
  out_ << line << "\n" << std::flush;
}

void Progress::Clear() {
  if (!line_shown_) return;
  out_ << "\r\033[K" << std::flush;
  line_shown_ = false;
}

}  // namespace caretaker

namespace caretaker {

size_t TerminalColumns(int fd) {
  winsize ws{};
  if (::isatty(fd) == 0 || ::ioctl(fd, TIOCGWINSZ, &ws) != 0) return 0;
  return ws.ws_col;
}

}  // namespace caretaker
