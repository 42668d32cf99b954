// What an operator's changes to a job decide (src/run/job_actions.h), on a
// store in memory: a retry asked of serve is one at a time and keeps a
// restore off the job until it is dropped; where a retry goes on is a step
// the task has.
#include <catch2/catch.hpp>

#include <string>

#include "src/run/job_actions.h"
#include "src/run/job_follower.h"
#include "src/store/state_store.h"

namespace caretaker {
namespace {

Config OnePool() {
  Config c;
  c.path = "caretaker.toml";
  PoolConfig p;
  p.name = "replicas";
  p.backend = "replicas";
  for (const char* s : {"db1", "db2"}) p.members.push_back(MemberConfig{s, "127.0.0.1", 3306});
  c.pools = {p};
  TaskConfig t;
  t.name = "swap";
  StepConfig step;
  step.name = "swap";
  step.argv = {"true"};
  t.steps = {step};
  c.tasks = {t};
  return c;
}

// A job of the pool that failed on its first member before any step ran.
Job FailedJob(StateStore& store, const Config& config) {
  Job job = MakeJob(NewJob{"replicas", "swap", TaskSteps(config.tasks[0]), {"db1", "db2"}, "ci", "r", 1, false, {}});
  auto id = store.AddJob(job);
  REQUIRE(id);
  REQUIRE(store.EndJobIf(id.value(), "queued", "", "failed", "db1 failed").value());
  return *store.FindJob(id.value()).value();
}

}  // namespace

TEST_CASE("a retry asked of serve: one at a time, and no restore of the job meanwhile", "[jobs]") {
  const Config config = OnePool();
  auto store = OpenSqliteStore("");
  REQUIRE(store);
  Job job = FailedJob(*store.value(), config);
  CHECK_FALSE(RestoreRefused(config, *store.value(), job));
  auto plan = PlanJobRetry(config, *store.value(), job, std::nullopt);
  REQUIRE(plan);
  CHECK(plan.value().members == std::vector<std::string>{"db1", "db2"});

  REQUIRE(store.value()->RequestRetry(job.id, "failed", "", "ci (api)", 0).value());
  CHECK_FALSE(store.value()->RequestRetry(job.id, "queued", "", "ci (api)", 0).value());  // not as read: nothing
  job = *store.value()->FindJob(job.id).value();
  CHECK(job.retry_by == "ci (api)");
  std::optional<Error> restore = RestoreRefused(config, *store.value(), job);
  REQUIRE(restore);
  CHECK(restore->code == ErrorKind::kRefused);
  CHECK(restore->message == "job " + std::to_string(job.id) + " is to go on on serve (a retry asked by ci (api)): "
                            "`caretaker job cancel " + std::to_string(job.id) + "` drops it, then its hosts can be "
                            "put back; nothing was changed");

  // Claimed: the request is taken.
  REQUIRE(store.value()->ClaimJob(job.id, "serve:1", NowSeconds() + std::chrono::seconds(60), NowSeconds(), "", true).value());
  job = *store.value()->FindJob(job.id).value();
  CHECK(job.retry_by.empty());
  CHECK(job.retry_from_step == 0);
  CHECK(job.state == "running");
}

TEST_CASE("a retry goes on at a step the task has, or after its last", "[jobs]") {
  const Config config = OnePool();
  auto store = OpenSqliteStore("");
  REQUIRE(store);
  const Job job = FailedJob(*store.value(), config);
  for (size_t bad : {size_t{0}, size_t{3}}) {
    auto plan = PlanJobRetry(config, *store.value(), job, bad);
    REQUIRE_FALSE(plan);
    CHECK(plan.error().code == ErrorKind::kUsage);
    CHECK(plan.error().message ==
          "task swap has 1 step(s): the step to go on at is 1 to 1, or 2 when its steps are done; nothing was changed");
  }
}

}  // namespace caretaker
