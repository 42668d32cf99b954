// Crash recovery on the real sandbox: caretaker killed with SIGKILL at a
// known point of a member's walk (src/base/failpoint.h), at every distinct point
// of the host state machine; after each, no member is out of traffic
// without a record, the job is orphaned, and a restarted `caretaker serve`
// reconciles it with HAProxy and finishes it — or, at a step that is not
// safe to repeat, stops it for an operator, saying what to do. A killed
// foreground roll is picked up by `caretaker job retry`.
#include <signal.h>

#include <catch2/catch.hpp>
#include <string>
#include <utility>
#include <vector>

#include "tests/integration/serve_fixture.h"

namespace caretaker {
namespace {

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

void CheckAllBack(const std::string& config) {
  for (const auto& r : RollSandbox().replicas()) CHECK(AdminStates(r.name) == "0 0");
  CHECK(Caretaker("maint list --json", config).out.find("\"server\"") == std::string::npos);
}

TEST_CASE("serve killed at every point of a member's walk: the next serve finishes the job", "[crash]") {
  const std::string config = CrashConfig();
  // Each point, and db2's srv_admin_state on both instances when killed
  // there (its record written, the drain not sent: still in traffic).
  // (step-3 is not safe to repeat: killed in it, see the next test.)
  const std::vector<std::pair<std::string, std::string>> points = {
      {"journaled-draining", "0 0"}, {"drain-sent", "8 8"}, {"sessions-waiting", "8 8"}, {"maint-set", "1 1"},
      {"step-1", "1 1"},
      {"step-2", "1 1"}, {"gate-mysqld", "1 1"}, {"gate-replication", "1 1"}, {"gate-catch-up", "1 1"},
      {"gate-warm-up", "1 1"}, {"ready-sent", "0 0"}};
  for (const auto& [point, admin] : points) {
    DYNAMIC_SECTION("killed at " << point) {
      const std::string id = Queue("--pool replicas --task crash --limit db2", config);
      Run dead = Killed(Serve(config, point + "@db2"));
      INFO(dead.err);
      REQUIRE(dead.signal == SIGKILL);
      CHECK(AdminStates("db2") == admin);
      CheckNothingOutWithoutRecord(config);
      CHECK(JobState(id, config) == "orphaned");

      ServedUntil again = ServeUntil(id, "done", config);
      INFO(again.run.err);
      CHECK(again.reached);
      CHECK(again.run.exit_code == 0);
      CHECK(again.run.err.find("serve.job.start job=" + id) != std::string::npos);
      CheckAllBack(config);
      RollSandbox().WaitAllUp(std::chrono::seconds(20));
    }
  }
}

TEST_CASE("serve killed after a wave's records, before any drain: the next serve walks the whole wave", "[crash]") {
  // given: max_out 2, so db1 and db2 start in one round and their "draining"
  // records are written in one transaction; killed once both are written.
  const std::string config = WriteFileIn(
      RollSandbox(), "crash-wave.toml",
      Replaced(ConfigText(RollSandbox()), "backend = \"replicas\"\n", "backend = \"replicas\"\nmax_out = 2\n") +
          "\n[[tasks]]\nname = \"quick\"\n  [[tasks.steps]]\n  name = \"work\"\n  command = \"sleep 0.2\"\n");
  const std::string id = Queue("--pool replicas --task quick --limit 'db[12]'", config);
  Run dead = Killed(Serve(config, "journaled-draining@db2"));
  INFO(dead.err);
  REQUIRE(dead.signal == SIGKILL);
  // expect: both records, neither drained; the next serve finishes both.
  CHECK(AdminStates("db1") == "0 0");
  CHECK(AdminStates("db2") == "0 0");
  std::string records = Caretaker("maint list --json", config).out;
  CHECK(records.find("\"db1\"") != std::string::npos);
  CHECK(records.find("\"db2\"") != std::string::npos);
  CheckNothingOutWithoutRecord(config);
  ServedUntil again = ServeUntil(id, "done", config);
  INFO(again.run.err);
  CHECK(again.reached);
  CheckAllBack(config);
  RollSandbox().WaitAllUp(std::chrono::seconds(20));
}

TEST_CASE("serve killed in a step that is not safe to repeat: the next serve stops the job for an operator",
          "[crash]") {
  const std::string config = CrashConfig();
  const std::string id = Queue("--pool replicas --task crash --limit db3", config);
  Run dead = Killed(Serve(config, "step-3@db3"));
  REQUIRE(dead.signal == SIGKILL);
  ServedUntil again = ServeUntil(id, "failed", config);
  INFO(again.run.err);
  CHECK(again.reached);
  CHECK(again.run.err.find("serve.job.end job=" + id + " pool=replicas state=failed why=\"db3 was in step 3/3 \\\"once\\\"") !=
        std::string::npos);
  CHECK(AdminStates("db3") == "1 1");  // left out, with its record
  CheckNothingOutWithoutRecord(config);
  // The operator checked: it finished. The gates and READY follow.
  Run retry = Caretaker("job retry " + id + " --from-step 4 --yes", config);
  INFO(retry.out << retry.err);
  CHECK(retry.exit_code == 0);
  CheckAllBack(config);
  RollSandbox().WaitAllUp(std::chrono::seconds(20));
}

TEST_CASE("a roll killed mid-walk holds its pool; `caretaker job retry` picks it up and finishes it", "[crash]") {
  const std::string config = CrashConfig();
  Run killed = Killed(Served{SpawnCaretaker(RollSandbox(), "roll --pool replicas --task crash --limit db2 --yes",
                                            config, "step-2@db2")});
  INFO(killed.out << killed.err);
  REQUIRE(killed.signal == SIGKILL);
  const std::string id = JobIdOf(killed.err);
  REQUIRE_FALSE(id.empty());
  CheckNothingOutWithoutRecord(config);
  CHECK(Caretaker("job show " + id, config).out.find(", orphaned\n") != std::string::npos);
  // A new roll of the pool is refused while the job is orphaned.
  Run again = Caretaker("roll --pool replicas --task crash --limit db3 --yes", config);
  CHECK(again.exit_code == 3);
  CHECK(again.err.find("job " + id + " was running when its process") != std::string::npos);

  Run retry = Caretaker("job retry " + id + " --yes", config);
  INFO(retry.out << retry.err);
  CHECK(retry.exit_code == 0);
  CHECK(retry.out.find("pool replicas: 1 of 1 done") != std::string::npos);
  CHECK(Caretaker("job show " + id, config).out.find(", done\n") != std::string::npos);
  CheckAllBack(config);
  RollSandbox().WaitAllUp(std::chrono::seconds(20));
}

TEST_CASE("a roll killed with two members out: one `caretaker job restore` puts both back", "[crash]") {
  // given: max_out 2, db1 and db2 in one wave, the roll killed while db2's
  // step runs (db1 is out too). expect: both out with their records; `job
  // restore` puts both back through the gates in one run (exit 0), and the
  // job ends restored.
  const std::string config = WriteFileIn(
      RollSandbox(), "crash-two-out.toml",
      Replaced(ConfigText(RollSandbox()), "backend = \"replicas\"\n", "backend = \"replicas\"\nmax_out = 2\n") +
          "\n[[tasks]]\nname = \"slow\"\n  [[tasks.steps]]\n  name = \"work\"\n  command = \"echo working; sleep 1\"\n");
  Run killed = Killed(Served{SpawnCaretaker(RollSandbox(), "roll --pool replicas --task slow --limit 'db[12]' --yes",
                                            config, "step-1@db2")});
  INFO(killed.out << killed.err);
  REQUIRE(killed.signal == SIGKILL);
  const std::string id = JobIdOf(killed.err);
  REQUIRE_FALSE(id.empty());
  CheckNothingOutWithoutRecord(config);
  CHECK(AdminStates("db2") == "1 1");
  CHECK(AdminStates("db1") != "0 0");
  std::string records = Caretaker("maint list --json", config).out;
  CHECK(records.find("\"db1\"") != std::string::npos);
  CHECK(records.find("\"db2\"") != std::string::npos);

  Run restore = Caretaker("job restore " + id, config);
  INFO(restore.out << restore.err);
  CHECK(restore.exit_code == 0);
  CHECK(restore.err.find("putting replicas/db1 back") != std::string::npos);
  CHECK(restore.err.find("putting replicas/db2 back") != std::string::npos);
  CHECK(restore.out.find("job " + id + " restored: 2 host(s) put back") != std::string::npos);
  CHECK(Caretaker("job show " + id, config).out.find(", restored\n") != std::string::npos);
  CheckAllBack(config);
  RollSandbox().WaitAllUp(std::chrono::seconds(20));
}

TEST_CASE("a roll killed in a step that is not safe to repeat: the retry asks an operator, --from-step decides",
          "[crash]") {
  const std::string config = CrashConfig();
  Run killed = Killed(Served{SpawnCaretaker(RollSandbox(), "roll --pool replicas --task crash --limit db3 --yes",
                                            config, "step-3@db3")});
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
  retry = Caretaker("job retry " + id + " --from-step 3 --yes", config);
  INFO(retry.out << retry.err);
  CHECK(retry.exit_code == 0);
  CHECK(retry.err.find("db3 | once") != std::string::npos);  // run again, as asked
  CheckAllBack(config);
  RollSandbox().WaitAllUp(std::chrono::seconds(20));
}

}  // namespace
}  // namespace caretaker
