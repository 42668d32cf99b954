// Crash recovery on the real sandbox: caretaker killed (SIGKILL, at a known
// point: src/failpoint.h) at every distinct point of a member's walk; after
// each, no member is out of traffic without a record, the job is orphaned,
// and `caretaker job retry` picks it up and finishes it (or, at a step that
// is not safe to repeat, stops and asks an operator).
#include <signal.h>

#include <catch2/catch.hpp>
#include <string>

#include "tests/integration/roll_fixture.h"

namespace caretaker {
namespace {

// Every member out of traffic on some instance has a record.
void CheckNothingOutWithoutRecord(const std::string& config) {
  Run list = Caretaker("maint list --json", config);
  REQUIRE(list.exit_code == 0);
  for (const auto& r : RollSandbox().replicas()) {
    if (AdminStates(r.name) == "0 0") continue;
    INFO(r.name << " is out of traffic (" << AdminStates(r.name) << "); records: " << list.out);
    CHECK(list.out.find("\"server\":\"" + r.name + "\"") != std::string::npos);
  }
}

// The restart task with a first line printed by each step (so step-N fires
// while the step runs), both steps safe to repeat, and a third that is not.
std::string CrashConfig() {
  const std::string control = RollSandbox().dir() + "/{server}/control";
  return ConfigWith("crash.toml",
                    "[[tasks]]\nname = \"crash\"\n"
                    "  [[tasks.steps]]\n  name = \"stop\"\n  command = \"echo stopping; " + control + " stop\"\n"
                    "  safe_to_repeat = true\n"
                    "  [[tasks.steps]]\n  name = \"start\"\n  command = \"echo starting; " + control + " start\"\n"
                    "  safe_to_repeat = true\n"
                    "  [[tasks.steps]]\n  name = \"once\"\n  command = \"echo once; sleep 0.2\"\n");
}

TEST_CASE("killed at every point of a member's walk, the job is picked up by `job retry` and finishes", "[crash]") {
  const std::string config = CrashConfig();
  for (const char* point : {"drain-sent", "sessions-waiting", "maint-set", "step-1", "step-2", "gate-mysqld",
                            "gate-replication", "gate-catch-up", "gate-warm-up", "ready-sent"}) {
    DYNAMIC_SECTION("killed at " << point) {
      Spawned roll = SpawnCaretaker(RollSandbox(), "roll --pool replicas --task crash --limit db2 --yes", config,
                                    std::string(point) + "@db2");
      Run killed = Finish(roll);
      INFO(killed.out << killed.err);
      REQUIRE(killed.signal == SIGKILL);
      const std::string id = JobIdOf(killed.err);
      REQUIRE_FALSE(id.empty());
      CheckNothingOutWithoutRecord(config);
      Run show = Caretaker("job show " + id, config);
      CHECK(show.out.find(", orphaned\n") != std::string::npos);
      // A new roll of the pool is refused while the job is orphaned.
      Run again = Caretaker("roll --pool replicas --task crash --limit db3 --yes", config);
      CHECK(again.exit_code == 3);
      CHECK(again.err.find("job " + id + " was running when its process") != std::string::npos);

      Run retry = Caretaker("job retry " + id + " --yes", config);
      INFO(retry.out << retry.err);
      CHECK(retry.exit_code == 0);
      CHECK(retry.out.find("pool replicas: 1 of 1 done") != std::string::npos);
      for (const auto& r : RollSandbox().replicas()) CHECK(AdminStates(r.name) == "0 0");
      CHECK(Caretaker("maint list --json", config).out.find("\"server\"") == std::string::npos);
      CHECK(Caretaker("job show " + id, config).out.find(", done\n") != std::string::npos);
      RollSandbox().WaitAllUp(std::chrono::seconds(20));
    }
  }
}

TEST_CASE("killed in a step that is not safe to repeat, the retry asks an operator, --from-step decides", "[crash]") {
  const std::string config = CrashConfig();
  Spawned roll = SpawnCaretaker(RollSandbox(), "roll --pool replicas --task crash --limit db3 --yes", config,
                                "step-3@db3");
  Run killed = Finish(roll);
  REQUIRE(killed.signal == SIGKILL);
  const std::string id = JobIdOf(killed.err);
  CheckNothingOutWithoutRecord(config);
  CHECK(AdminStates("db3") == "1 1");
  Run retry = Caretaker("job retry " + id + " --yes", config);
  INFO(retry.out << retry.err);
  CHECK(retry.exit_code == 3);
  CHECK(retry.err.find("db3 was in step 3/3 \"once\" when job " + id +
                       " ended, and that step is not safe_to_repeat") != std::string::npos);
  CHECK(retry.err.find("`caretaker job retry " + id + " --from-step 3` (run it again) or `--from-step 4` (it "
                       "finished)") != std::string::npos);
  CHECK(AdminStates("db3") == "1 1");  // nothing changed
  // The operator checked: it finished. The gates and READY follow.
  retry = Caretaker("job retry " + id + " --from-step 4 --yes", config);
  INFO(retry.out << retry.err);
  CHECK(retry.exit_code == 0);
  CHECK(retry.err.find("db3 | once") == std::string::npos);
  CHECK(AdminStates("db3") == "0 0");
  RollSandbox().WaitAllUp(std::chrono::seconds(20));
}

}  // namespace
}  // namespace caretaker
