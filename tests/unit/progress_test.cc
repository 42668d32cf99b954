// Progress lines: rewritten in place on a terminal, rationed elsewhere. The
// exact bytes written, with time passed in.
#include <catch2/catch.hpp>

#include <sstream>
#include <string>

#include "src/cli/progress.h"

namespace caretaker {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

const Clock::time_point t0 = Clock::time_point{} + 1h;
const std::string kRewrite = "\r\033[K";  // carriage return, clear to the end of the line

}  // namespace

TEST_CASE("on a terminal, each update rewrites the one status line", "[progress]") {
  // given: three updates in the same second, across two phases;
  // expect: each one written, in place, without a newline.
  std::ostringstream out;
  Progress progress(out, true);
  progress.Update("drain", "3 sessions open, 2m left", t0);
  CHECK(out.str() == kRewrite + "drain: 3 sessions open, 2m left");
  progress.Update("drain", "1 session open, 1m59s left", t0 + 10ms);
  progress.Update("gates", "mysqld: waiting for mysqld to answer", t0 + 20ms);
  CHECK(out.str() == kRewrite + "drain: 3 sessions open, 2m left" +  //
                         kRewrite + "drain: 1 session open, 1m59s left" +  //
                         kRewrite + "gates: mysqld: waiting for mysqld to answer");
}

TEST_CASE("on a terminal, a note clears the status line and stays", "[progress]") {
  // given: a status line on screen, then a note, then another status;
  // expect: the line cleared, the note on a line of its own, the status after it.
  std::ostringstream out;
  Progress progress(out, true);
  progress.Update("drain", "2 sessions open", t0);
  progress.Note("db2 drained on lb1, lb2");
  CHECK(out.str() == kRewrite + "drain: 2 sessions open" + kRewrite + "db2 drained on lb1, lb2\n");
  progress.Update("maint", "waiting", t0 + 1s);
  CHECK(out.str() == kRewrite + "drain: 2 sessions open" + kRewrite + "db2 drained on lb1, lb2\n" + kRewrite +
                         "maint: waiting");
}

TEST_CASE("on a terminal, Clear and the destructor remove a status line, and only one", "[progress]") {
  // given: nothing shown, Clear; expect: nothing written.
  std::ostringstream out;
  {
    Progress progress(out, true);
    progress.Clear();
    CHECK(out.str().empty());
    progress.Note("starting");  // nothing to clear before it
    CHECK(out.str() == "starting\n");
    progress.Update("drain", "1 session open", t0);
    progress.Clear();
    progress.Clear();  // the second has nothing to clear
    CHECK(out.str() == "starting\n" + kRewrite + "drain: 1 session open" + kRewrite);
    progress.Update("drain", "0 sessions open", t0 + 1s);
  }
  // given: a status line on screen when the Progress goes away; expect: it is cleared.
  CHECK(out.str() == "starting\n" + kRewrite + "drain: 1 session open" + kRewrite + kRewrite +
                         "drain: 0 sessions open" + kRewrite);
}

TEST_CASE("elsewhere, a line is printed on each phase change and at most once per quiet period", "[progress]") {
  // given: a 5s quiet period and the updates below; expect: exactly these lines.
  struct Case {
    Clock::duration at;
    const char* phase;
    const char* text;
    bool printed;
  };
  const Case cases[] = {
      {0s, "drain", "3 sessions open", true},          // the first
      {1s, "drain", "2 sessions open", false},         // quiet
      {4999ms, "drain", "2 sessions open", false},     // still quiet
      {5s, "drain", "1 session open", true},           // 5s since the last line
      {6s, "gates", "mysqld: waiting", true},          // a new phase, however soon
      {7s, "gates", "replication: waiting", false},
      {7500ms, "drain", "0 sessions open", true},      // back to drain is a change too
      {12499ms, "drain", "0 sessions open", false},
      {12500ms, "drain", "0 sessions open", true},     // the same text is printed again
  };
  std::ostringstream out;
  std::string expected;
  {
    Progress progress(out, false, 5s);
    for (const Case& c : cases) {
      INFO(c.phase << ": " << c.text);
      progress.Update(c.phase, c.text, t0 + c.at);
      if (c.printed) expected += std::string(c.phase) + ": " + c.text + "\n";
      CHECK(out.str() == expected);
    }
  }
  CHECK(out.str() == expected);  // no escape codes, nothing to clear at the end
}

TEST_CASE("elsewhere, notes are full lines and do not reset the quiet period", "[progress]") {
  // given: a status, a note 1s later, a status 2s later; expect: the note
  // printed as is, the second status still withheld.
  std::ostringstream out;
  Progress progress(out, false, 5s);
  progress.Update("drain", "2 sessions open", t0);
  progress.Note("warning: lb2 did not answer");
  progress.Update("drain", "1 session open", t0 + 2s);
  progress.Clear();
  CHECK(out.str() == "drain: 2 sessions open\nwarning: lb2 did not answer\n");
}

TEST_CASE("the default quiet period is 5s", "[progress]") {
  std::ostringstream out;
  Progress progress(out, false);
  progress.Update("drain", "a", t0);
  progress.Update("drain", "b", t0 + 4s);
  progress.Update("drain", "c", t0 + 5s);
  CHECK(out.str() == "drain: a\ndrain: c\n");
}

}  // namespace caretaker
