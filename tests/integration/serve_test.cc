// `caretaker serve` on the real sandbox: it runs queued jobs, the job of a
// schedule's window, waits while halted, stops on SIGTERM with the running
// step finished and its member left in MAINT (and goes on with it at the
// next start), keeps its config when SIGHUP brings an invalid one, and
// reports (or puts back) an expired maintenance record.
#include <signal.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <ctime>
#include <fstream>
#include <regex>
#include <string>
#include <thread>

#include "tests/integration/serve_fixture.h"

namespace caretaker {
namespace {

using namespace std::chrono_literals;

// Two steps: a second-long one, then a quick one.
const std::string kTwoSteps =
    "[[tasks]]\nname = \"two\"\n"
    "  [[tasks.steps]]\n  name = \"work\"\n  command = \"echo working on {server}; sleep 1\"\n"
    "  [[tasks.steps]]\n  name = \"finish\"\n  command = \"echo finishing {server}\"\n";

TEST_CASE("serve runs a queued job to its end, and exits 0 on SIGTERM", "[serve]") {
  const std::string config = ConfigWith("serve-two.toml", kTwoSteps);
  const std::string id = Queue("--pool replicas --task two --limit db2", config);
  CHECK(JobState(id, config) == "queued");
  // A foreground roll of the pool waits behind it.
  Run roll = Caretaker("roll --pool replicas --task two --limit db3 --yes", config);
  CHECK(roll.exit_code == 3);
  CHECK(roll.err.find("job " + id + " is queued (`caretaker serve` runs it)") != std::string::npos);

  ServedUntil serve = ServeUntil(id, "done", config);
  const Run& stopped = serve.run;
  INFO(stopped.err);
  CHECK(serve.reached);
  CHECK(stopped.exit_code == 0);
  CHECK(stopped.err.find("serve.job.start job=" + id) != std::string::npos);
  CHECK(stopped.err.find("line=\"working on db2\"") != std::string::npos);
  CHECK(stopped.err.find("serve.job.end job=" + id + " pool=replicas state=done") != std::string::npos);
  CHECK(stopped.err.find("serve.stopped") != std::string::npos);
  CHECK(AdminStates("db2") == "0 0");
  CHECK(Caretaker("maint list --json", config).out.find("\"server\"") == std::string::npos);
}

TEST_CASE("SIGTERM mid-step: the step finishes, its member stays in MAINT, and the next serve goes on from there",
          "[serve]") {
  const std::string config = ConfigWith("serve-two.toml", kTwoSteps);
  const std::string id = Queue("--pool replicas --task two --limit db1", config);
  Served serve = Serve(config);
  REQUIRE(WaitForText(serve.proc.err_path, "line=\"working on db1\"", 30s));
  Run stopped = serve.Stop();
  INFO(stopped.err);
  CHECK(stopped.exit_code == 0);
  CHECK(stopped.err.find("serve.stopping signal=SIGTERM") != std::string::npos);
  CHECK(stopped.err.find("line=\"finishing db1\"") == std::string::npos);  // step 2 never started
  CHECK(stopped.err.find("serve.job.out_of_traffic job=" + id + " pool=replicas server=db1") != std::string::npos);
  CHECK(AdminStates("db1") == "1 1");
  CHECK(JobState(id, config) == "paused");
  Run list = Caretaker("maint list --json", config);
  CHECK(list.out.find("\"server\":\"db1\"") != std::string::npos);

  // The next start goes on with step 2: step 1 is not run again.
  ServedUntil again = ServeUntil(id, "done", config);
  const Run& second = again.run;
  INFO(second.err);
  CHECK(again.reached);
  CHECK(second.err.find("line=\"finishing db1\"") != std::string::npos);
  CHECK(second.err.find("line=\"working on db1\"") == std::string::npos);
  CHECK(AdminStates("db1") == "0 0");
}

TEST_CASE("job cancel of a job serve runs: its member finishes its task, no other starts, the job ends cancelled",
          "[serve]") {
  const std::string config = ConfigWith("serve-two.toml", kTwoSteps);
  const std::string id = Queue("--pool replicas --task two --limit 'db[12]'", config);
  Served serve = Serve(config);
  REQUIRE(WaitForText(serve.proc.err_path, "line=\"working on db1\"", 30s));
  Run cancel = Caretaker("job cancel " + id, config);
  const bool cancelled = WaitForJob(id, "cancelled", config);
  Run stopped = serve.Stop();
  INFO(cancel.out << cancel.err << stopped.err);
  CHECK(cancel.exit_code == 0);
  CHECK(cancel.out.find("job " + id + ": cancel requested") != std::string::npos);
  CHECK(cancelled);
  CHECK(stopped.err.find("line=\"finishing db1\"") != std::string::npos);  // db1 finished its task
  CHECK(stopped.err.find("line=\"working on db2\"") == std::string::npos);  // db2 never started
  for (const char* s : {"db1", "db2"}) CHECK(AdminStates(s) == "0 0");
}

TEST_CASE("while halted serve starts no job; after resume it does", "[serve]") {
  const std::string config = ConfigWith("serve-two.toml", kTwoSteps);
  REQUIRE(Caretaker("halt --reason 'change freeze'", config).exit_code == 0);
  Run queued = Caretaker("roll --queue --yes --pool replicas --task two --limit db3", config);
  CHECK(queued.err.find("the jobs wait until the halt is lifted") != std::string::npos);
  const std::string id = QueuedIdOf(queued.out);
  Served serve = Serve(config);
  const bool said = WaitForText(serve.proc.err_path, "why=\"job " + id + " waits: halted\"");
  std::this_thread::sleep_for(1500ms);
  const std::string while_halted = JobState(id, config);
  const std::string db3_while_halted = AdminStates("db3");
  REQUIRE(Caretaker("resume", config).exit_code == 0);
  const bool done = WaitForJob(id, "done", config);
  Run stopped = serve.Stop();
  INFO(stopped.err);
  CHECK(said);
  CHECK(while_halted == "queued");
  CHECK(db3_while_halted == "0 0");
  CHECK(done);
}

TEST_CASE("SIGHUP: an invalid config is refused and the old one kept; a valid one is taken", "[serve]") {
  const std::string base = ConfigWith("serve-two.toml", kTwoSteps);
  const std::string config = ConfigWith("serve-reload.toml", kTwoSteps);
  Served serve = Serve(config);
  REQUIRE(WaitForText(serve.proc.err_path, "serve.config"));
  // Broken: a syntax error on line 3.
  std::ofstream(config) << "[state]\ndir = \"/tmp\"\n[[pools]\n";
  ::kill(serve.proc.pid, SIGHUP);
  const bool refused = WaitForText(serve.proc.err_path, "serve.reload.refused error=\"" + config + ":3:");
  // Still serving, with the old config: a queued job runs.
  const std::string first = Queue("--pool replicas --task two --limit db4", base);
  const bool first_done = WaitForJob(first, "done", base);
  // Valid, with a new task: taken, and a job of that task runs.
  std::ofstream(config) << ConfigText(RollSandbox()) << "\n" << kTwoSteps
                        << "[[tasks]]\nname = \"hello\"\n  [[tasks.steps]]\n  command = \"echo hello {server}\"\n";
  ::kill(serve.proc.pid, SIGHUP);
  const bool reloaded = WaitForText(serve.proc.err_path, "serve.reload path=");
  const std::string second = Queue("--pool replicas --task hello --limit db4", config);
  const bool second_done = WaitForJob(second, "done", config);
  Run stopped = serve.Stop();
  INFO(stopped.err);
  CHECK(refused);
  CHECK(first_done);
  CHECK(reloaded);
  CHECK(second_done);
  CHECK(stopped.err.find("line=\"hello db4\"") != std::string::npos);
  CHECK(stopped.exit_code == 0);
}

// A config whose pool replicas has a schedule that fired at the start of
// the minute `minutes_ago` minutes back (and fires again only in a year),
// with a window of `window` from then, walking `task` (defined in `tasks`).
// A pool's schedule adds a job only for a window opening after the last
// one it added a job for: tests that follow each other use later minutes.
struct Scheduled {
  std::string config;
  std::string cron;
};
Scheduled ScheduleNow(const std::string& name, const std::string& task, int minutes_ago, std::chrono::seconds window,
                      const std::string& tasks) {
  std::time_t t = std::time(nullptr) - 60 * minutes_ago;
  std::tm utc{};
  gmtime_r(&t, &utc);
  Scheduled s;
  s.cron = std::to_string(utc.tm_min) + " " + std::to_string(utc.tm_hour) + " " + std::to_string(utc.tm_mday) + " " +
           std::to_string(utc.tm_mon + 1) + " *";
  s.config = WriteFileIn(RollSandbox(), name,
                         Replaced(ConfigText(RollSandbox()), "backend = \"replicas\"\n",
                                  "backend = \"replicas\"\nschedule = { task = \"" + task + "\", cron = \"" + s.cron +
                                      "\", window = \"" + std::to_string(window.count()) + "s\" }\n") +
                             "\n" + tasks);
  return s;
}

// The id of the newest job of `task` (`jobs --json`).
std::string ScheduledJob(const std::string& config, const std::string& task) {
  Run jobs = Caretaker("jobs --json", config);
  INFO(jobs.out << jobs.err);
  std::smatch m;
  REQUIRE(std::regex_search(jobs.out, m, std::regex("\\{\"id\":([0-9]+),\"pool\":\"replicas\",\"task\":\"" + task + "\"")));
  return m[1];
}

TEST_CASE("a schedule's open window adds a job of its task over the pool, and serve runs it", "[serve]") {
  // given: a schedule that fired two minutes ago (and not again for a year),
  // with a 10-minute window; expect: a job added for that window, walking
  // every member, done.
  // Two minutes back: before the minute the next test uses.
  const Scheduled s = ScheduleNow("serve-schedule.toml", "hello", 2, std::chrono::minutes(10),
                                  "[[tasks]]\nname = \"hello\"\n  [[tasks.steps]]\n  command = \"echo hello {server}\"\n");
  const std::string& config = s.config;
  const std::string& cron = s.cron;
  Served serve = Serve(config);
  const bool added = WaitForText(serve.proc.err_path, "serve.job.added job=");
  const std::string id = ScheduledJob(config, "hello");
  const bool done = WaitForJob(id, "done", config, 90s);
  Run stopped = serve.Stop();
  INFO(stopped.err);
  CHECK(added);
  CHECK(done);
  CHECK(stopped.err.find("serve.schedule pool=replicas task=hello cron=\"" + cron + "\"") != std::string::npos);
  for (const char* s : {"db1", "db2", "db3", "db4"}) {
    CHECK(stopped.err.find("line=\"hello " + std::string(s) + "\"") != std::string::npos);
    CHECK(AdminStates(s) == "0 0");
  }
  CHECK(Caretaker("job show " + id, config).out.find("schedule \"" + cron + "\" (UTC)") != std::string::npos);
}

TEST_CASE("a schedule's window that closes mid-job pauses it: the member out comes back, no other starts",
          "[serve]") {
  // given: a window opened at the start of this minute that closes 6 s from
  // now, a task of 3 s or more per member over 4 members; expect: the job is
  // added and started, pauses at the close ("its window closed"), with some
  // member not done, every member back in traffic and no record left.
  std::time_t t = std::time(nullptr);
  const auto window = std::chrono::seconds(t % 60 + 6);
  const Scheduled s = ScheduleNow("serve-window.toml", "slow3", 0, window,
                                  "[[tasks]]\nname = \"slow3\"\n  [[tasks.steps]]\n  command = \"sleep 3\"\n");
  Served serve = Serve(s.config);
  REQUIRE(WaitForText(serve.proc.err_path, "serve.job.added job="));
  const std::string id = ScheduledJob(s.config, "slow3");
  const bool paused = WaitForJob(id, "paused", s.config, 40s);
  Run show = Caretaker("job show " + id + " --json", s.config);
  Run stopped = serve.Stop();
  INFO(stopped.err << show.out);
  CHECK(paused);
  CHECK(stopped.err.find("serve.job.pausing job=" + id) != std::string::npos);
  CHECK(stopped.err.find("its window closed") != std::string::npos);
  CHECK(show.out.find("\"phase\":\"pending\"") != std::string::npos);  // the walk stopped short of the pool
  for (const char* m : {"db1", "db2", "db3", "db4"}) CHECK(AdminStates(m) == "0 0");
  CHECK(Caretaker("maint list --json", s.config).out.find("\"server\"") == std::string::npos);
  // The next window (a year away) would go on with it: nothing holds it now
  // but the schedule; cancel it so the pool is free for the tests after.
  CHECK(Caretaker("job cancel " + id, s.config).exit_code == 0);
}

TEST_CASE("an expired maintenance record is reported; with on_maint_expiry restore the host is put back",
          "[serve]") {
  const std::string report = ConfigWith("serve-expiry.toml", "");
  REQUIRE(Caretaker("maint start db3 --reason 'disk swap' --for 1s", report).exit_code == 0);
  std::this_thread::sleep_for(1500ms);
  Served serve = Serve(report);
  const bool reported = WaitForText(serve.proc.err_path, "maint.expired pool=replicas server=db3");
  Run first = serve.Stop();
  INFO(first.err);
  CHECK(reported);
  CHECK(first.err.find("it stays OUT OF TRAFFIC: `caretaker maint stop replicas/db3`") != std::string::npos);
  CHECK(AdminStates("db3") == "1 1");

  const std::string restore = WriteFileIn(
      RollSandbox(), "serve-restore.toml",
      Replaced(ConfigText(RollSandbox()), "backend = \"replicas\"\n", "backend = \"replicas\"\non_maint_expiry = \"restore\"\n"));
  Served again = Serve(restore);
  const bool restored = WaitForText(again.proc.err_path, "serve.maint.restore.end pool=replicas server=db3 ok=true", 60s);
  Run second = again.Stop();
  INFO(second.err);
  CHECK(restored);
  CHECK(AdminStates("db3") == "0 0");
  CHECK(Caretaker("maint list --json", restore).out.find("\"server\"") == std::string::npos);
  CHECK(second.exit_code == 0);
}

TEST_CASE("a halt stops an expiry restore under way; it is put back once the halt is lifted", "[serve]") {
  // given: db3's record expired, its pool restores on expiry, and db3's SQL
  // thread stopped so the restore waits in its replication gate (up to 60 s).
  // expect: `caretaker halt` stops the restore where it is (db3 stays in
  // MAINT with its record, said at error level); after `resume` and the
  // thread started again, the same serve puts db3 back within seconds, not
  // at the next hourly reminder.
  auto& sb = RollSandbox();
  std::string text = Replaced(ConfigText(sb), "backend = \"replicas\"\n",
                              "backend = \"replicas\"\non_maint_expiry = \"restore\"\n");
  const size_t members = text.find("\n[[pools.members]]");
  REQUIRE(members != std::string::npos);
  text.insert(members + 1, "[pools.gates]\nmysql_timeout = \"60s\"\n\n");
  const std::string gated = WriteFileIn(sb, "serve-restore-halt.toml", text);
  REQUIRE(Caretaker("maint start db3 --reason 'disk swap' --for 1s", gated).exit_code == 0);
  sb.Sql(sb.replicas()[2], "STOP SLAVE SQL_THREAD");
  std::this_thread::sleep_for(1500ms);
  Served serve = Serve(gated);
  const bool waiting = WaitForText(serve.proc.err_path, "gate mysqld passed", 30s);
  CHECK(waiting);
  Run halt = Caretaker("halt --reason 'incident 77'", gated);
  CHECK(halt.exit_code == 0);
  const bool stopped = WaitForText(serve.proc.err_path, "serve.maint.restore.end pool=replicas server=db3 ok=false", 10s);
  CHECK(stopped);
  CHECK(AdminStates("db3") == "1 1");
  CHECK(Caretaker("maint list --json", gated).out.find("\"db3\"") != std::string::npos);

  sb.Sql(sb.replicas()[2], "START SLAVE SQL_THREAD");
  REQUIRE(Caretaker("resume", gated).exit_code == 0);
  const bool back = WaitForText(serve.proc.err_path, "serve.maint.restore.end pool=replicas server=db3 ok=true", 60s);
  Run served = serve.Stop();
  INFO(served.err);
  CHECK(back);
  CHECK(served.err.find("serve.maint.restore.abort why=\"halted by ") != std::string::npos);
  CHECK(served.err.find("then=\"tried again once the halt is lifted\"") != std::string::npos);
  CHECK(AdminStates("db3") == "0 0");
  CHECK(Caretaker("maint list --json", gated).out.find("\"server\"") == std::string::npos);
  sb.WaitAllUp(std::chrono::seconds(20));
}

}  // namespace
}  // namespace caretaker
