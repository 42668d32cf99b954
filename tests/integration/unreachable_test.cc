// Unknown is not healthy (issue 13, items 1 and 4), on the walk tests' real
// sandbox: a replica whose mariadbd was killed before HAProxy's checks
// noticed counts as out for every decision — a roll, `maint start`, a
// queued job under serve — and a command holding a member's lock for a
// moment does not make a walk skip that member.
//
// "HAProxy has not noticed yet" is made deterministic with `disable health`
// on both instances: HAProxy then keeps the killed server in traffic ("no
// check"), exactly as it does for the `fall` checks of a real health-check
// window, for as long as the test needs. A sampler on both instances counts
// the members not UP at every 50 ms.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "src/base/file_lock.h"
#include "tests/integration/roll_fixture.h"
#include "tests/integration/serve_fixture.h"
#include "tests/sandbox/load.h"

namespace caretaker {
namespace {

constexpr size_t kDb3 = 2;

void Health(const char* verb, const std::string& server) {
  for (size_t i = 0; i < RollSandbox().haproxies().size(); ++i) {
    RollSandbox().HaproxyCommand(i, std::string(verb) + " health replicas/" + server);
  }
}

// Kills db3's mariadbd while HAProxy keeps it in traffic; the destructor
// brings it back and lets HAProxy check it again, whatever the test did.
struct DeadDb3 {
  DeadDb3() {
    Health("disable", "db3");
    RollSandbox().KillReplica(kDb3);
  }
  ~DeadDb3() {
    try {
      Back();
      RollSandbox().WaitAllUp(std::chrono::seconds(20));
    } catch (const std::exception& e) {
      FAIL_CHECK("restoring db3: " << e.what());
    }
  }
  // HAProxy checks it again first (it goes DOWN there while it is dead),
  // then mariadbd starts (if no task started it): at no moment does HAProxy
  // count it in while it is dead. Idempotent.
  static void Back() {
    Health("enable", "db3");
    RollSandbox().StartReplica(kDb3);
  }
};

// Only the sampler: no client traffic.
std::unique_ptr<sandbox::Load> Sampler() {
  sandbox::LoadOptions options;
  options.short_clients = options.pooled_clients = options.sticky_clients = 0;
  return sandbox::Load::Start(RollSandbox(), options);
}

// The most members not UP on one instance at one sample (a dead server
// HAProxy keeps as "no check" counts as not UP).
int MostOut(const sandbox::LoadReport& report) {
  int most = 0;
  for (size_t i = 0; i < report.samples.size(); ++i) most = std::max(most, report.members - report.MinInService(i));
  return most;
}

TEST_CASE("a replica killed before HAProxy noticed is walked first; nothing else is drained while it is dead",
          "[roll][unreachable]") {
  // given: 4 replicas, max_out 1; db3's mariadbd killed, HAProxy still UP.
  // expect: the roll takes db3 first (it is out already) and restarts it;
  // db1 drains only once db3 is back in service; never 2 out at once.
  DeadDb3 dead;
  auto sampler = Sampler();
  Spawned roll = SpawnCaretaker(RollSandbox(), "roll --pool replicas --task restart --yes");
  // Once caretaker holds db3 out, HAProxy may check it again (its task
  // starts mariadbd).
  const bool drained_db3 = WaitForText(roll.err_path, "db3: draining");
  Health("enable", "db3");
  Run run = Finish(roll);
  sandbox::LoadReport report = sampler->Stop();
  INFO(run.out << run.err << report.Summary());
  REQUIRE(drained_db3);
  CHECK(run.exit_code == 0);
  CHECK(run.out.find("pool replicas: 4 of 4 done in ") != std::string::npos);
  CHECK(Find(run.err, "db3: draining") < Find(run.err, "db1: draining"));
  CHECK(Find(run.err, "db3: back in service") < Find(run.err, "db1: draining"));
  CHECK(report.sampler_errors == 0);
  CHECK(MostOut(report) == 1);
}

TEST_CASE("with a replica dead and HAProxy unaware, a roll of the others and maint start are refused", "[roll][unreachable]") {
  // given: db3 dead, UP in HAProxy, max_out 1. expect: plan says db3 is
  // counted out and why; a roll of db1, db2, db4 is refused before any
  // change (exit 3); `maint start db1` is refused (exit 3) naming db3;
  // status shows db3 out for the policy; nothing changed anywhere.
  DeadDb3 dead;
  Run plan = Caretaker("plan --pool replicas --task restart --limit 'db[124]'");
  INFO(plan.out << plan.err);
  CHECK(plan.exit_code == 3);
  CHECK(plan.out.find("  db3: MySQL unreachable, counted out (MySQL 127.0.0.1:") != std::string::npos);
  CHECK(plan.out.find("CANNOT WALK NOW: pool replicas: 1 of 4 already out, max_out is 1; counted out: db3 (MySQL "
                      "unreachable)") != std::string::npos);
  Run roll = Caretaker("roll --pool replicas --task restart --limit 'db[124]' --yes");
  INFO(roll.out << roll.err);
  CHECK(roll.exit_code == 3);
  Run start = Caretaker("maint start db1 --reason 'disk swap'");
  INFO(start.out << start.err);
  CHECK(start.exit_code == 3);
  CHECK(start.err.find("refusing to take db1 out: pool replicas: 1 of 4 already out, max_out is 1; counted out: db3 "
                       "(MySQL unreachable); nothing was changed") != std::string::npos);
  Run status = Caretaker("status");
  CHECK(status.exit_code == 1);  // db3's MySQL could not be read
  CHECK(FoldSpaces(status.out).find("4 members, 3 in service") != std::string::npos);
  CHECK_THAT(FoldSpaces(status.out), Catch::Matches("[\\s\\S]* db3 127\\.0\\.0\\.1:[0-9]+ no check no check 0 [^\\n]* "
                                                    "unreachable - - OUT: MySQL unreachable\n[\\s\\S]*"));
  for (const auto& r : RollSandbox().replicas()) CHECK(AdminStates(r.name) == "0 0");
  CHECK(Caretaker("maint list --json").out.find("\"maintenance\":[]") != std::string::npos);
}

TEST_CASE("serve's queued job waits while a replica outside it is dead and HAProxy unaware, then goes on",
          "[serve][unreachable]") {
  // given: a job of db1, db2, db4 queued; db3 killed (UP in HAProxy), then
  // serve started. expect: the job pauses naming db3, drains nothing while
  // db3 is dead; once db3 is back and UP the job walks all three; never 2
  // out at once.
  const std::string config = ConfigWith("unreachable-serve.toml", kSlowTask);
  const std::string id = Queue("--pool replicas --task slow --limit 'db[124]'", config);
  auto sampler = Sampler();
  bool paused = false, done = false;
  Run run;
  {
    DeadDb3 dead;
    Served serve = Serve(config);
    paused = WaitForText(serve.proc.err_path, "counted out: db3 (MySQL unreachable)", std::chrono::seconds(20));
    std::this_thread::sleep_for(std::chrono::seconds(1));  // a few more reads: still nothing drained
    const std::string during = AdminStates("db1") + " " + AdminStates("db2") + " " + AdminStates("db4");
    CHECK(during == "0 0 0 0 0 0");
    dead.Back();
    done = WaitForJob(id, "done", config);
    run = serve.Stop();
  }
  sandbox::LoadReport report = sampler->Stop();
  INFO(run.err << report.Summary());
  CHECK(paused);
  CHECK(done);
  CHECK(Find(run.err, "counted out: db3 (MySQL unreachable)") < Find(run.err, "server=db1 text=draining"));
  CHECK(MostOut(report) == 1);
  CheckNothingOutWithoutRecord(config);
}

TEST_CASE("a command holding a member's lock for a moment does not make the walk skip it", "[roll][unreachable]") {
  // given: a roll of the pool (max_out 1) while another caretaker command
  // takes db4's member lock every 100 ms and changes nothing (`maint stop`
  // of a member in service, or refused: the walk holds it). expect: when
  // the walk reaches db4 it waits for the lock and walks it; 4 of 4 done.
  const std::string config = ConfigWith("locked.toml", kSlowTask);
  std::atomic<bool> stop{false};
  std::atomic<int> runs{0}, changed{0};
  std::thread spam([&] {
    while (!stop) {
      Run r = Caretaker("maint stop db4", config);
      ++runs;
      if (r.exit_code != 0 && r.exit_code != 3) ++changed;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  Run roll = Caretaker("roll --pool replicas --task slow --yes", config);
  stop = true;
  spam.join();
  INFO(roll.out << roll.err);
  CHECK(runs > 10);
  CHECK(changed == 0);
  CHECK(roll.exit_code == 0);
  CHECK(roll.out.find("pool replicas: 4 of 4 done in ") != std::string::npos);
  CHECK(roll.err.find("skipped") == std::string::npos);
  for (const auto& r : RollSandbox().replicas()) CHECK(AdminStates(r.name) == "0 0");
}

TEST_CASE("a member whose lock a command holds as the walk reaches it is waited for, said once, then walked",
          "[roll][unreachable]") {
  // given: a roll (max_out 1, a 1 s step); while db3 runs its step the test
  // takes db4's member lock for 5 s, as a command working on db4 would.
  // expect: the walk says once that it waits for db4's lock, neither pauses
  // nor skips it; db4 stays READY on both instances while the lock is held,
  // and is walked once it is free; 4 of 4 done.
  const std::string config = ConfigWith("locked-by-test.toml", kSlowTask);
  const std::string lock_path = RollSandbox().dir() + "/state/locks/member-replicas-db4.lock";
  Spawned roll = SpawnCaretaker(RollSandbox(), "roll --pool replicas --task slow --yes", config);
  const bool reached = WaitForText(roll.err_path, "db3 | working on db3", std::chrono::seconds(60));
  bool untouched = true;
  {
    auto lock = FileLock::Acquire(lock_path, std::chrono::milliseconds(0));
    REQUIRE(lock);
    for (auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
         std::chrono::steady_clock::now() < until;) {
      untouched = untouched && AdminStates("db4") == "0 0";
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  Run run = Finish(roll);
  INFO(run.out << run.err);
  REQUIRE(reached);
  CHECK(untouched);
  CHECK(run.exit_code == 0);
  CHECK(run.out.find("pool replicas: 4 of 4 done in ") != std::string::npos);
  const std::string waiting = "db4: waiting: a caretaker maint command holds its lock; walked once it is free";
  CHECK(Find(run.err, waiting) < Find(run.err, "db4: draining: its lock is free now"));
  CHECK(run.err.find(waiting) == run.err.rfind(waiting));  // said once
  CHECK(run.err.find("paused") == std::string::npos);
  CHECK(run.err.find("skipped") == std::string::npos);
  for (const auto& r : RollSandbox().replicas()) CHECK(AdminStates(r.name) == "0 0");
}

}  // namespace
}  // namespace caretaker
