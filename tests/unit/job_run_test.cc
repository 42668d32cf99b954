// Jobs picked up again: where each member starts from its record
// (PlanRetry), which job holds a pool's queue (PoolHeadIn), and what serve
// does about expired maintenance records (ExpiryWatch).
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "src/walk/job_run.h"
#include "src/serve/expiry.h"

namespace caretaker {
namespace {

using namespace std::chrono_literals;

SysSeconds At(std::string_view utc) { return ParseUtc(utc).value(); }

TaskConfig ThreeSteps() {
  TaskConfig t;
  t.name = "upgrade";
  for (const char* name : {"stop", "upgrade", "start"}) {
    StepConfig s;
    s.name = name;
    s.argv = {"true"};
    s.safe_to_repeat = std::string(name) != "upgrade";
    t.steps.push_back(s);
  }
  return t;
}

Job JobOf(std::vector<JobHost> hosts) {
  Job j;
  j.id = 7;
  j.pool = "replicas";
  j.task = "upgrade";
  j.state = "running";
  j.hosts = std::move(hosts);
  return j;
}

MaintRecord RecordAt(const std::string& server, const std::string& phase, size_t step, int64_t job = 7) {
  MaintRecord r;
  r.pool = "replicas";
  r.server = server;
  r.phase = phase;
  r.step = step;
  r.job = job;
  return r;
}

// "kMaint", "kStep 2", "kGates", or "start" (no resume point: a normal start).
std::string Where(const RetryPlan& plan, const std::string& server) {
  auto at = plan.resume.find(server);
  if (at == plan.resume.end()) return "start";
  switch (at->second.phase) {
    case HostPhase::kDraining: return "draining";
    case HostPhase::kMaint: return "maint";
    case HostPhase::kStep: return "step " + std::to_string(at->second.step + 1);
    case HostPhase::kGates: return "gates";
    default: return "?";
  }
}

TEST_CASE("PlanRetry: each member starts where its record says, one case per line", "[jobs]") {
  const TaskConfig task = ThreeSteps();
  struct Case {
    const char* what;
    std::string host_phase;                 // the job's view of the member
    std::optional<MaintRecord> record;      // its maintenance record
    std::optional<size_t> from_step;
    std::string expect;                     // Where(), or "refused"
    bool by_operator = true;                // `job retry`; false: serve picking it up
  };
  const std::vector<Case> cases = {
      {"no record: in traffic", "pending", std::nullopt, std::nullopt, "start"},
      {"draining: its drain was the job's", "draining", RecordAt("db1", "draining", 0), std::nullopt, "draining"},
      {"MAINT, no step run", "maint", RecordAt("db1", "maint", 0), std::nullopt, "maint"},
      {"between steps 1 and 2", "step", RecordAt("db1", "maint", 1), std::nullopt, "step 2"},
      {"every step done", "step", RecordAt("db1", "maint", 3), std::nullopt, "gates"},
      {"in step 1, safe to repeat", "step", RecordAt("db1", "steps", 0), std::nullopt, "step 1"},
      {"in step 2, not safe to repeat", "step", RecordAt("db1", "steps", 1), std::nullopt, "refused"},
      {"step 2 failed: the retry is the operator's", "failed", RecordAt("db1", "steps", 1), std::nullopt, "step 2"},
      {"step 2 failed: serve does not repeat it", "failed", RecordAt("db1", "steps", 1), std::nullopt, "refused failed",
       false},
      {"step 1 safe to repeat: serve repeats it", "step", RecordAt("db1", "steps", 0), std::nullopt, "step 1", false},
      {"--from-step 2", "step", RecordAt("db1", "steps", 1), 2, "step 2"},
      {"--from-step 3", "step", RecordAt("db1", "steps", 1), 3, "step 3"},
      {"--from-step 4: its steps are done", "step", RecordAt("db1", "steps", 1), 4, "gates"},
      {"in the gates", "gates", RecordAt("db1", "gates", 0), std::nullopt, "gates"},
      {"enabling", "enabling", RecordAt("db1", "enabling", 0), std::nullopt, "gates"},
      {"another job's record is not this job's", "pending", RecordAt("db1", "maint", 0, 99), std::nullopt, "start"},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    std::vector<MaintRecord> records;
    if (c.record) records.push_back(*c.record);
    RetryPlan plan =
        PlanRetry(JobOf({JobHost{"db1", c.host_phase, 0, "", false}}), task, records, c.from_step, c.by_operator);
    if (c.expect == "refused failed") {
      CHECK(plan.refused.starts_with("db1 failed () when job 7 ended: `caretaker job retry 7` runs its step again"));
    } else if (c.expect == "refused") {
      CHECK(plan.refused ==
            "db1 was in step 2/3 \"upgrade\" when job 7 ended, and that step is not safe_to_repeat, so caretaker "
            "cannot tell whether it ran: check db1, then `caretaker job retry 7 --from-step 2` (run it again) or "
            "`--from-step 3` (it finished)");
    } else {
      CHECK(plan.refused.empty());
      CHECK(Where(plan, "db1") == c.expect);
    }
  }
}

TEST_CASE("PlanRetry: done members are not walked again, and the rest keep the job's order", "[jobs]") {
  Job job = JobOf({JobHost{"db1", "done", 0, "", false}, JobHost{"db2", "step", 0, "", false},
                   JobHost{"db3", "pending", 0, "", false}});
  RetryPlan plan = PlanRetry(job, ThreeSteps(), {RecordAt("db2", "maint", 2)}, std::nullopt, true);
  CHECK(plan.members == std::vector<std::string>{"db2", "db3"});
  CHECK(Where(plan, "db2") == "step 3");
  CHECK(Where(plan, "db3") == "start");
}

TEST_CASE("PlanRetry: a member past its drain without a record was put back, and is not walked again", "[jobs]") {
  Job job = JobOf({JobHost{"db1", "step", 0, "", false}, JobHost{"db2", "pending", 0, "", false}});
  RetryPlan plan = PlanRetry(job, ThreeSteps(), {}, std::nullopt, false);
  CHECK(plan.skipped == std::vector<std::string>{"db1"});
  CHECK(plan.members == std::vector<std::string>{"db2"});
  CHECK(plan.refused.empty());
}

TEST_CASE("PlanRetry: several members mid-step that is not safe to repeat are all named, and --from-step refused",
          "[jobs]") {
  Job job = JobOf({JobHost{"db1", "step", 1, "", false}, JobHost{"db2", "step", 1, "", false}});
  const std::vector<MaintRecord> records = {RecordAt("db1", "steps", 1), RecordAt("db2", "steps", 1)};
  CHECK(PlanRetry(job, ThreeSteps(), records, std::nullopt, true).refused ==
        "several members were in a step that is not safe_to_repeat when job 7 ended: db1 (step 2/3 \"upgrade\"), "
        "db2 (step 2/3 \"upgrade\"); caretaker cannot tell whether those steps ran: check each, put it back with "
        "`caretaker maint stop` (or all of them: `caretaker job restore 7`), then `caretaker job retry 7`");
  CHECK(PlanRetry(job, ThreeSteps(), records, 4, true).refused ==
        "--from-step says where one member goes on, and several were in a step: db1 (step 2/3 \"upgrade\"), db2 "
        "(step 2/3 \"upgrade\"); put them back with `caretaker maint stop` (or `caretaker job restore 7`) first");
  CHECK(PlanRetry(job, ThreeSteps(), {}, 4, true).refused ==
        "--from-step says where one member goes on, and no member of job 7 was in a step: retry without it");
}

TEST_CASE("PlanRetry: a task whose steps changed while members were mid-walk is refused", "[jobs]") {
  Job job = JobOf({JobHost{"db1", "step", 0, "", false}, JobHost{"db2", "pending", 0, "", false}});
  job.task_steps = "stop | upgrade | start";
  CHECK(PlanRetry(job, ThreeSteps(), {RecordAt("db1", "maint", 1)}, std::nullopt, true).refused.empty());
  job.task_steps = "stop | start";
  RetryPlan plan = PlanRetry(job, ThreeSteps(), {RecordAt("db1", "maint", 1)}, std::nullopt, true);
  CHECK(plan.refused ==
        "task upgrade changed since job 7 started (its steps were: stop | start; now: stop | upgrade | start), so "
        "caretaker cannot tell where its members stand: put them back with `caretaker job restore 7`, or "
        "`caretaker job cancel 7`");
  // Nobody mid-walk: the new task is simply used.
  job.hosts[0].phase = "pending";
  CHECK(PlanRetry(job, ThreeSteps(), {}, std::nullopt, true).refused.empty());
}

TEST_CASE("the head of a pool's queue: the oldest job not finished, but a stop that left nothing out", "[jobs]") {
  auto job = [](int64_t id, const std::string& pool, const std::string& state, bool out = false) {
    Job j = JobOf({JobHost{"db1", "stopped", 0, "", out}});
    j.id = id;
    j.pool = pool;
    j.state = state;
    return j;
  };
  const std::vector<Job> open = {job(1, "replicas", "stopped"), job(2, "analytics", "stopped", true),
                                 job(3, "replicas", "queued"), job(4, "analytics", "queued"),
                                 job(5, "batch", "paused")};
  CHECK(PoolHeadIn(open, "replicas")->id == 3);   // an operator's stop with nothing out does not hold it
  CHECK(PoolHeadIn(open, "analytics")->id == 2);  // one that left a member out does
  CHECK(PoolHeadIn(open, "batch")->id == 5);
  CHECK(PoolHeadIn(open, "other") == nullptr);
}

TEST_CASE("expired maintenance: reported once and every hour, restored where the pool says, not while halted",
          "[jobs]") {
  Config config;
  PoolConfig keep, restore;
  keep.name = "replicas";
  restore.name = "batch";
  restore.on_maint_expiry = MaintExpiry::kRestore;
  config.pools = {keep, restore};
  MaintRecord a = RecordAt("db1", "maint", 0, 0);
  a.until = At("2026-12-01T10:00:00Z");
  MaintRecord b = a;
  b.pool = "batch";
  MaintRecord open_ended = RecordAt("db2", "maint", 0, 0);  // no --for: never expires
  const std::vector<MaintRecord> records = {a, b, open_ended};
  ExpiryWatch watch;
  auto kinds = [](const std::vector<ExpiryAction>& actions) {
    std::vector<std::string> out;
    for (const ExpiryAction& x : actions) {
      out.push_back(std::string(x.kind == ExpiryAction::Kind::kReport ? "report " : "restore ") + x.record.pool +
                    (x.first ? " first" : ""));
    }
    return out;
  };
  using V = std::vector<std::string>;
  CHECK(watch.Tick(config, records, At("2026-12-01T09:59:59Z"), false).empty());
  // Halted: reported, not restored.
  CHECK(kinds(watch.Tick(config, records, At("2026-12-01T10:00:00Z"), true)) ==
        V{"report replicas first", "report batch first"});
  CHECK(watch.Tick(config, records, At("2026-12-01T10:00:10Z"), true).empty());
  // Resumed: the restore starts, once.
  CHECK(kinds(watch.Tick(config, records, At("2026-12-01T10:00:20Z"), false)) == V{"restore batch"});
  CHECK(watch.Tick(config, records, At("2026-12-01T10:00:30Z"), false).empty());
  // It failed: not again before the next reminder, which comes with it.
  watch.RestoreEnded(b, ExpiryWatch::Ended::kFailed, At("2026-12-01T10:05:00Z"));
  CHECK(watch.Tick(config, records, At("2026-12-01T10:30:00Z"), false).empty());
  CHECK(kinds(watch.Tick(config, records, At("2026-12-01T11:05:00Z"), false)) ==
        V{"report replicas", "report batch", "restore batch"});
  // A halt stopped it: not while halted, and at once after.
  watch.RestoreEnded(b, ExpiryWatch::Ended::kHalted, At("2026-12-01T11:06:00Z"));
  CHECK(watch.Tick(config, records, At("2026-12-01T11:06:10Z"), true).empty());
  CHECK(kinds(watch.Tick(config, records, At("2026-12-01T11:06:20Z"), false)) == V{"restore batch"});
  // A record put back is forgotten; put again with a new end, it is a new one.
  MaintRecord again = a;
  again.until = At("2026-12-01T12:00:00Z");
  CHECK(kinds(watch.Tick(config, {again}, At("2026-12-01T12:00:00Z"), false)) == V{"report replicas first"});
}

}  // namespace
}  // namespace caretaker
