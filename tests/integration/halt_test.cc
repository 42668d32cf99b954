// The halt switch on the real sandbox: a halt stops a running walk before
// its next drain or step within a second, `halt --abort` kills the running
// step and leaves its host out with a record, and a halted (or unreadable)
// store refuses new walks with nothing changed.
#include <signal.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "tests/integration/roll_fixture.h"

namespace caretaker {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::string HaltFile() { return RollSandbox().dir() + "/HALT"; }

// Lifts any halt a failed case left behind.
struct ResumeAtEnd {
  ~ResumeAtEnd() {
    std::filesystem::remove(HaltFile());
    RunCaretaker(RollSandbox(), "resume");
  }
};

// Two steps: a second-long one, then a quick one.
const std::string kTwoSteps =
    "[[tasks]]\nname = \"two\"\n"
    "  [[tasks.steps]]\n  name = \"work\"\n  command = \"echo working on {server}; sleep 1\"\n"
    "  [[tasks.steps]]\n  name = \"finish\"\n  command = \"echo finishing {server}\"\n";

TEST_CASE("halt mid-walk: within a second nothing new starts, the walk waits, and goes on after resume", "[halt]") {
  // given: a walk of db1..db3, halted while db1 runs its first step; expect:
  // the roll says HALTED within a second of the command; db1's first step
  // ends but its second does not start (db1 stays in MAINT), db2 is never
  // drained while halted; after `caretaker resume` the walk completes.
  ResumeAtEnd cleanup;
  const std::string config = ConfigWith("two.toml", kTwoSteps);
  Spawned roll = SpawnCaretaker(RollSandbox(), "roll --pool replicas --task two --limit 'db[123]' --yes", config);
  REQUIRE(WaitForText(roll.err_path, "db1 | working on db1"));
  Run halt = Caretaker("halt --reason 'incident 4412'", config);
  const auto halted_at = Clock::now();
  INFO(halt.out << halt.err);
  REQUIRE(halt.exit_code == 0);
  CHECK(halt.out.find("halted: no automated action starts a drain or a step") != std::string::npos);
  const bool seen = WaitForText(roll.err_path, "HALTED: halted by");
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - halted_at);
  WARN("halt seen by the running walk after " << took.count() << " ms");
  // While halted (3 s, past the end of db1's first step): db1 in MAINT, the
  // others never drained.
  bool others_ready = true;
  for (auto until = Clock::now() + 3s; Clock::now() < until; std::this_thread::sleep_for(100ms)) {
    others_ready = others_ready && AdminStates("db2") == "0 0" && AdminStates("db3") == "0 0";
  }
  const std::string db1_while_halted = AdminStates("db1");
  Run status = Caretaker("halt --status --json", config);
  Run resume = Caretaker("resume", config);
  Run run = Finish(roll);
  INFO(run.out << run.err);
  REQUIRE(seen);
  CHECK(took < 1500ms);
  CHECK(others_ready);
  CHECK(db1_while_halted == "1 1");
  CHECK(status.out.find("\"halted\":true") != std::string::npos);
  CHECK(status.out.find("\"reason\":\"incident 4412\"") != std::string::npos);
  CHECK(resume.exit_code == 0);
  CHECK(resume.out.find("resumed: the halt set by") != std::string::npos);
  CHECK(run.exit_code == 0);
  CHECK(Find(run.err, "HALTED: halted by") < Find(run.err, "resumed: the halt was lifted"));
  CHECK(Find(run.err, "resumed: the halt was lifted") < Find(run.err, "db1 | finishing db1"));
  CHECK(Find(run.err, "db1 | finishing db1") < Find(run.err, "db2: draining"));
  CHECK(run.out.find("pool replicas: 3 of 3 done") != std::string::npos);
  for (const char* s : {"db1", "db2", "db3"}) CHECK(AdminStates(s) == "0 0");
}

TEST_CASE("halt --abort kills the running step; its host stays out of traffic with its record", "[halt]") {
  ResumeAtEnd cleanup;
  const std::string config = ConfigWith(
      "long.toml", "[[tasks]]\nname = \"long\"\n  [[tasks.steps]]\n  name = \"long\"\n"
                   "  command = \"echo long on {server}; sleep 60\"\n");
  Spawned roll = SpawnCaretaker(RollSandbox(), "roll --pool replicas --task long --yes", config);
  REQUIRE(WaitForText(roll.err_path, "db1 | long on db1"));
  const auto started = Clock::now();
  Run halt = Caretaker("halt --abort --reason 'stop it all'", config);
  Run run = Finish(roll);
  INFO(halt.out << halt.err << run.out << run.err);
  CHECK(Clock::now() - started < 10s);  // not the step's 60 s
  CHECK(run.exit_code == 1);
  CHECK(run.out.find("OUT OF TRAFFIC") != std::string::npos);
  CHECK(AdminStates("db1") == "1 1");
  for (const char* s : {"db2", "db3", "db4"}) CHECK(AdminStates(s) == "0 0");
  Run list = Caretaker("maint list --json", config);
  CHECK(list.out.find("\"server\":\"db1\"") != std::string::npos);
  // The failed job blocks the pool until an operator acts.
  const std::string id = JobIdOf(run.err);
  Run again = Caretaker("roll --pool replicas --task long --yes", config);
  CHECK(again.exit_code == 3);
  CHECK(again.err.find("job " + id + " failed") != std::string::npos);
  // Put it back: resume, then `job restore` (the gates, as maint stop).
  CHECK(Caretaker("resume", config).exit_code == 0);
  Run restore = Caretaker("job restore " + id, config);
  INFO(restore.out << restore.err);
  CHECK(restore.exit_code == 0);
  CHECK(restore.out.find("job " + id + " restored: 1 host(s) put back") != std::string::npos);
  CHECK(AdminStates("db1") == "0 0");
  CHECK(Caretaker("job show " + id, config).out.find(", restored\n") != std::string::npos);
}

TEST_CASE("while halted, by the store or by the halt file, a roll is refused with exit 3 and nothing changed", "[halt]") {
  ResumeAtEnd cleanup;
  REQUIRE(Caretaker("halt --reason 'change freeze'").exit_code == 0);
  Run roll = Caretaker("roll --pool replicas --task restart --yes");
  CHECK(roll.exit_code == 3);
  CHECK(roll.err.find("halted by ") != std::string::npos);
  CHECK(roll.err.find(": change freeze; no walk starts while halted (`caretaker resume` lifts it); nothing was "
                      "changed") != std::string::npos);
  REQUIRE(Caretaker("resume").exit_code == 0);

  std::ofstream(HaltFile()) << "datacenter move\n";
  roll = Caretaker("roll --pool replicas --task restart --yes");
  CHECK(roll.exit_code == 3);
  CHECK(roll.err.find("the halt file " + HaltFile() + " exists: datacenter move") != std::string::npos);
  Run status = Caretaker("halt --status");
  CHECK(status.out.find("HALTED: the halt file") != std::string::npos);
  Run resume = Caretaker("resume");
  CHECK(resume.exit_code == 1);
  CHECK(resume.err.find("the halt file " + HaltFile() + " still halts everything: remove it") != std::string::npos);
  std::filesystem::remove(HaltFile());
  status = Caretaker("halt --status --json");
  CHECK(status.out.find("\"halted\":false") != std::string::npos);
  for (const auto& r : RollSandbox().replicas()) CHECK(AdminStates(r.name) == "0 0");
}

TEST_CASE("halt refuses bad usage with exit 2, and a store that cannot be read halts everything", "[halt]") {
  ResumeAtEnd cleanup;
  CHECK(Caretaker("halt").exit_code == 2);
  CHECK(Caretaker("halt --reason ' '").exit_code == 2);
  CHECK(Caretaker("halt --status --reason x").exit_code == 2);
  CHECK(Caretaker("halt --json").exit_code == 2);
  CHECK(Caretaker("halt --status").out.find("not halted") != std::string::npos);

  // A state dir whose store is not a database: nothing starts, and `halt
  // --status` says halted (fail closed).
  const std::string broken_dir = RollSandbox().dir() + "/broken-state";
  std::filesystem::create_directories(broken_dir);
  std::ofstream(broken_dir + "/caretaker.db") << std::string(8192, 'x');
  const std::string config = WriteFileIn(
      RollSandbox(), "broken.toml",
      Replaced(ConfigText(RollSandbox()), RollSandbox().dir() + "/state\"", broken_dir + "\""));
  Run roll = Caretaker("roll --pool replicas --task restart --yes", config);
  CHECK(roll.exit_code == 1);
  CHECK(roll.err.find("not a caretaker state store") != std::string::npos);
  CHECK(roll.err.find("nothing was changed") != std::string::npos);
  Run status = Caretaker("halt --status", config);
  CHECK(status.exit_code == 1);
  CHECK(status.out.find("HALTED: no state store is open, so nothing starts (fail closed)") != std::string::npos);
  for (const auto& r : RollSandbox().replicas()) CHECK(AdminStates(r.name) == "0 0");
}

}  // namespace
}  // namespace caretaker
