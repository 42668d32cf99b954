// serve's executor: which jobs a schedule adds, which job of each pool's
// queue starts, and which running job pauses — as pure decisions (one case
// per line), and as a scenario on a fake clock with a real (in-memory) store
// and a fake job runner: a window that closes mid-job pauses it, and the
// next window goes on with the members left, not from the start.
#include <catch2/catch.hpp>
#include <map>
#include <string>
#include <vector>

#include "src/serve/executor.h"
#include "src/run/job_follower.h"
#include "src/walk/job_run.h"

namespace caretaker {
namespace {

using namespace std::chrono_literals;

SysSeconds At(std::string_view utc) { return ParseUtc(utc).value(); }

TaskConfig Task() {
  TaskConfig t;
  t.name = "restart";
  StepConfig step;
  step.name = "restart";
  step.argv = {"true"};
  t.steps = {step};
  return t;
}

PoolConfig Pool(const std::string& name, std::optional<std::string> cron = std::nullopt) {
  PoolConfig p;
  p.name = name;
  p.backend = name;
  for (const char* s : {"db1", "db2", "db3", "db4"}) p.members.push_back(MemberConfig{s, "127.0.0.1", 3306});
  if (cron) {
    ScheduleConfig s;
    s.task = "restart";
    s.schedule.cron = ParseCron(*cron).value();
    s.schedule.tz = LoadTimeZone("UTC").value();
    s.schedule.window = 1h;
    p.schedule = s;
  }
  return p;
}

Config Cfg(std::vector<PoolConfig> pools, int max_jobs = 4) {
  Config c;
  c.path = "caretaker.toml";
  c.pools = std::move(pools);
  c.tasks = {Task()};
  c.serve.max_concurrent_jobs = max_jobs;
  return c;
}

Job QueuedJob(int64_t id, const std::string& pool, const std::string& state = "queued") {
  Job j;
  j.id = id;
  j.pool = pool;
  j.task = "restart";
  j.state = state;
  for (const char* s : {"db1", "db2"}) j.hosts.push_back(JobHost{s, "pending", 0, "", false});
  return j;
}

// "start 3", "add replicas", "pause 2", "report replicas: ..."
std::vector<std::string> Decide(const ExecInput& in) {
  std::vector<std::string> out;
  for (const ExecAction& a : DecideJobs(in)) {
    switch (a.kind) {
      case ExecAction::Kind::kAdd: out.push_back("add " + a.pool + " " + FormatUtc(a.window.open)); break;
      case ExecAction::Kind::kStart: out.push_back("start " + std::to_string(a.job)); break;
      case ExecAction::Kind::kPause: out.push_back("pause " + std::to_string(a.job)); break;
      case ExecAction::Kind::kReport: out.push_back("report " + a.pool + ": " + a.text); break;
    }
  }
  return out;
}

TEST_CASE("executor: which job starts, one decision per line", "[executor]") {
  const Config plain = Cfg({Pool("replicas"), Pool("analytics")});
  const Config one = Cfg({Pool("replicas"), Pool("analytics")}, 1);
  const Config nightly = Cfg({Pool("replicas", "0 3 * * *")});
  const SysSeconds day = At("2026-12-01T12:00:00Z"), night = At("2026-12-01T03:10:00Z");
  Job failed = QueuedJob(1, "replicas", "failed");
  failed.detail = "db2 failed";
  Job retried = failed;
  retried.retry_by = "ci (api)";
  Job paused_out = QueuedJob(1, "replicas", "paused");
  paused_out.hosts[0].out_of_traffic = true;
  struct Case {
    const char* what;
    const Config* config;
    SysSeconds now;
    std::vector<Job> open;
    std::map<int64_t, std::string> here;
    std::set<int64_t> orphaned;
    bool halted;
    std::vector<std::string> expect;
  };
  const std::vector<Case> cases = {
      {"queued, no schedule: starts", &plain, day, {QueuedJob(1, "replicas")}, {}, {}, false, {"start 1"}},
      {"only the head of a pool", &plain, day, {QueuedJob(1, "replicas"), QueuedJob(2, "replicas")}, {}, {}, false,
       {"start 1"}},
      {"pools run side by side", &plain, day, {QueuedJob(1, "replicas"), QueuedJob(2, "analytics")}, {}, {}, false,
       {"start 1", "start 2"}},
      {"max_concurrent_jobs 1", &one, day, {QueuedJob(1, "replicas"), QueuedJob(2, "analytics")}, {}, {}, false,
       {"start 1", "report analytics: job 2 waits: 1 jobs run (max_concurrent_jobs)"}},
      {"halted: nothing starts", &plain, day, {QueuedJob(1, "replicas")}, {}, {}, true,
       {"report replicas: job 1 waits: halted"}},
      {"running here: nothing", &plain, day, {QueuedJob(1, "replicas", "running")}, {{1, "replicas"}}, {}, false, {}},
      {"a job runs here in the pool: no second one", &plain, day, {QueuedJob(2, "replicas")}, {{1, "replicas"}}, {},
       false, {}},
      {"running elsewhere: nothing", &plain, day, {QueuedJob(1, "replicas", "running")}, {}, {}, false, {}},
      {"orphaned: picked up", &plain, day, {QueuedJob(1, "replicas", "running")}, {}, {1}, false, {"start 1"}},
      {"a failed head holds its pool", &plain, day, {failed, QueuedJob(2, "replicas")}, {}, {}, false,
       {"report replicas: job 1 failed (db2 failed); first `caretaker job retry 1` (go on from where it stopped), "
        "`caretaker job restore 1` (put its hosts back) or `caretaker job cancel 1`"}},
      {"a failed head an operator retried (the API) starts, outside its window too", &nightly, day, {retried}, {}, {},
       false, {"start 1"}},
      {"a retried job waits while halted", &plain, day, {retried}, {}, {}, true,
       {"report replicas: job 1 waits: halted"}},
      {"queued waits for its window", &nightly, day, {QueuedJob(1, "replicas")}, {}, {}, false,
       {"report replicas: job 1 (queued) waits for the pool's window: next 2026-12-02T03:00:00Z"}},
      {"paused waits for its window", &nightly, day, {QueuedJob(1, "replicas", "paused")}, {}, {}, false,
       {"report replicas: job 1 (paused) waits for the pool's window: next 2026-12-02T03:00:00Z"}},
      {"a task serve's config lacks: said, not started", &plain, day, {[] {
         Job j = QueuedJob(1, "replicas");
         j.task = "upgrade";
         return j;
       }()}, {}, {}, false,
       {"report replicas: job 1 needs task upgrade, which the configuration serve runs with (caretaker.toml, as "
        "last loaded) does not have: add it and reload serve (SIGHUP), or `caretaker job cancel 1`"}},
      {"paused with a member out goes on at once", &nightly, day, {paused_out}, {}, {}, false, {"start 1"}},
      {"orphaned goes on outside its window", &nightly, day, {QueuedJob(1, "replicas", "running")}, {}, {1}, false,
       {"start 1"}},
      {"running here outside its window pauses", &nightly, day, {QueuedJob(1, "replicas", "running")},
       {{1, "replicas"}}, {}, false, {"pause 1"}},
      {"a window opens: a job is added", &nightly, night, {}, {}, {}, false, {"add replicas 2026-12-01T03:00:00Z"}},
      {"a window opens on a paused job: it goes on", &nightly, night, {QueuedJob(1, "replicas", "paused")}, {}, {},
       false, {"start 1"}},
      {"a window opens on a failed job: said", &nightly, night, {failed}, {}, {}, false,
       {"report replicas: its window opened at 2026-12-01T03:00:00Z, but job 1 failed (db2 failed); first "
        "`caretaker job retry 1` (go on from where it stopped), `caretaker job restore 1` (put its hosts back) or "
        "`caretaker job cancel 1`"}},
      {"a job of a pool gone from the config", &plain, day, {QueuedJob(1, "gone")}, {}, {}, false,
       {"report gone: job 1 (queued) is of pool gone, which caretaker.toml no longer has"}},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    ExecInput in;
    in.now = c.now;
    in.halted = c.halted;
    in.config = c.config;
    in.open = c.open;
    in.running_here = c.here;
    in.orphaned = c.orphaned;
    CHECK(Decide(in) == c.expect);
  }
}

TEST_CASE("executor: a schedule adds one job per window", "[executor]") {
  const Config nightly = Cfg({Pool("replicas", "0 3 * * *")});
  ExecInput in;
  in.config = &nightly;
  in.now = At("2026-12-01T03:59:59Z");
  in.last_window["replicas"] = At("2026-12-01T03:00:00Z");
  CHECK(Decide(in).empty());  // this window has had its job
  in.now = At("2026-12-02T03:00:00Z");
  CHECK(Decide(in) == std::vector<std::string>{"add replicas 2026-12-02T03:00:00Z"});
  in.now = At("2026-12-02T04:00:00Z");  // the window is [03:00, 04:00)
  CHECK(Decide(in).empty());
}

// Runs jobs the executor starts as if each member took 20 minutes; a job
// told to pause stops before its next member.
class FakeLauncher : public JobLauncher {
 public:
  FakeLauncher(StateStore& store, const TaskConfig& task) : store_(store), task_(task) {}

  void Start(const Job& job) override {
    REQUIRE(store_.ClaimJob(job.id, "test:1", At("2100-01-01T00:00:00Z"), At("2026-01-01T00:00:00Z"), job.owner, false)
                .value());
    RetryPlan plan = PlanRetry(job, task_, {}, std::nullopt, false);
    walked[job.id].push_back(plan.members);
    runs_[job.id] = Run{job.pool, plan.members, false};
  }
  void Pause(int64_t job, const std::string&) override { runs_.at(job).pausing = true; }
  std::map<int64_t, std::string> Running() const override {
    std::map<int64_t, std::string> out;
    for (const auto& [id, run] : runs_) out.emplace(id, run.pool);
    return out;
  }
  std::set<int64_t> Pausing() const override {
    std::set<int64_t> out;
    for (const auto& [id, run] : runs_) {
      if (run.pausing) out.insert(id);
    }
    return out;
  }

  // 20 minutes pass: each running job finishes one member, or pauses.
  void Advance() {
    for (auto it = runs_.begin(); it != runs_.end();) {
      Job job = store_.FindJob(it->first).value().value();
      Run& run = it->second;
      if (!run.pausing && !run.left.empty()) {
        for (JobHost& h : job.hosts) {
          if (h.server == run.left.front()) h.phase = "done";
        }
        REQUIRE(store_.UpdateJobHosts(job.id, job.hosts));
        run.left.erase(run.left.begin());
      }
      if (run.pausing || run.left.empty()) {
        job.state = run.left.empty() ? "done" : "paused";
        REQUIRE(store_.UpdateJob(job));
        REQUIRE(store_.ReleaseLease(job.pool, "test:1"));
        it = runs_.erase(it);
      } else {
        ++it;
      }
    }
  }

  std::map<int64_t, std::vector<std::vector<std::string>>> walked;  // job -> members of each start

 private:
  struct Run {
    std::string pool;
    std::vector<std::string> left;
    bool pausing = false;
  };
  StateStore& store_;
  const TaskConfig& task_;
  std::map<int64_t, Run> runs_;
};

TEST_CASE("executor: a window that closes mid-job pauses it, and the next window goes on where it stopped",
          "[executor]") {
  // given: pool replicas, schedule "0 3 * * *" UTC with a 1h window, four
  // members of 20 minutes each; expect: at 03:00 a job is added and started;
  // db1 and db2 are done by 03:40; at 04:00 it pauses; nothing runs until
  // 03:00 the next day, when the same job goes on with db3 and db4 only,
  // and the schedule adds no second job for that window.
  auto store = OpenSqliteStore("").value();
  const Config config = Cfg({Pool("replicas", "0 3 * * *")});
  FakeLauncher launcher(*store, config.tasks[0]);
  Executor executor(*store, launcher, [](const Job&) { return false; });
  SysSeconds now = At("2026-12-01T02:50:00Z");
  auto tick = [&] { executor.Tick(config, now, false); };
  tick();
  CHECK(store->ListJobs(10).value().empty());
  now = At("2026-12-01T03:00:00Z");
  tick();  // adds the job of the window
  tick();  // starts it
  auto jobs = store->ListJobs(10).value();
  REQUIRE(jobs.size() == 1);
  const int64_t id = jobs[0].id;
  CHECK(jobs[0].window == At("2026-12-01T03:00:00Z"));
  CHECK(jobs[0].reason == "schedule \"0 3 * * *\" (UTC), window 2026-12-01T03:00:00Z to 2026-12-01T04:00:00Z");
  CHECK(jobs[0].hosts.size() == 4);
  for (const char* t : {"2026-12-01T03:20:00Z", "2026-12-01T03:40:00Z"}) {
    launcher.Advance();
    now = At(t);
    tick();
  }
  now = At("2026-12-01T04:00:00Z");
  tick();  // the window closed: pause
  CHECK(launcher.Pausing() == std::set<int64_t>{id});
  launcher.Advance();
  Job paused = store->FindJob(id).value().value();
  CHECK(paused.state == "paused");
  for (const char* t : {"2026-12-01T04:30:00Z", "2026-12-01T12:00:00Z", "2026-12-02T02:59:59Z"}) {
    now = At(t);
    tick();
    CHECK(launcher.Running().empty());
  }
  now = At("2026-12-02T03:00:00Z");
  tick();
  CHECK(launcher.Running() == std::map<int64_t, std::string>{{id, "replicas"}});
  launcher.Advance();
  now = At("2026-12-02T03:20:00Z");
  tick();
  launcher.Advance();
  now = At("2026-12-02T03:40:00Z");
  tick();
  CHECK(store->FindJob(id).value()->state == "done");
  CHECK(launcher.walked[id] == std::vector<std::vector<std::string>>{{"db1", "db2", "db3", "db4"}, {"db3", "db4"}});
  CHECK(store->ListJobs(10).value().size() == 1);  // no second job for the second window
  CHECK(store->FindJob(id).value()->window == At("2026-12-02T03:00:00Z"));
  // The third window gets its own job.
  now = At("2026-12-03T03:00:00Z");
  tick();
  CHECK(store->ListJobs(10).value().size() == 2);
}

}  // namespace
}  // namespace caretaker
