// Rules in `caretaker serve` on the real sandbox (src/serve/rules.h): a
// replica whose SQL thread stopped is depooled after `for` and repooled
// through the gates once it runs again; observe mode changes nothing; a
// halt stops every rule; a host a person put in MAINT is never touched.
#include <catch2/catch.hpp>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "mysql/connection.h"
#include "tests/integration/serve_fixture.h"
#include "tests/sandbox/webhook.h"

namespace caretaker {
namespace {

using namespace std::chrono_literals;

// A rule on stopped replication, quick enough for a test.
std::string StoppedRule(const std::string& name, const std::string& extra = "") {
  return "[[rules]]\nname = \"" + name + "\"\nwhen = \"replication is stopped\"\nfor = \"2s\"\n"
         "clear_for = \"1s\"\ninterval = \"1s\"\ncooldown = \"1s\"\n" + extra;
}

void StopSql(size_t i) { RollSandbox().Sql(RollSandbox().replicas()[i], "STOP SLAVE SQL_THREAD"); }
void StartSql(size_t i) { RollSandbox().Sql(RollSandbox().replicas()[i], "START SLAVE SQL_THREAD"); }

// The sandbox's config with `pool` keys added to its pool and `rules` after.
std::string PoolWith(const std::string& name, const std::string& pool, const std::string& rules) {
  return WriteFileIn(RollSandbox(), name,
                     Replaced(ConfigText(RollSandbox()), "backend = \"replicas\"\n", "backend = \"replicas\"\n" + pool) +
                         "\n" + rules);
}

// How many members are out of traffic on some instance now.
int OutNow() {
  int n = 0;
  for (const char* m : {"db1", "db2", "db3", "db4"}) n += AdminStates(m) != "0 0";
  return n;
}

// No record left, every member READY: the state the next test starts from.
void CheckClean(const std::string& config) {
  for (const char* m : {"db1", "db2", "db3", "db4"}) CHECK(AdminStates(m) == "0 0");
  CHECK(Caretaker("maint list --json", config).out.find("\"server\"") == std::string::npos);
}

TEST_CASE("a rule depools a replica whose SQL thread stopped after `for`, and repools it through the gates",
          "[serve][rules]") {
  const std::string config = ConfigWith("rules-stopped.toml", StoppedRule("sql-stopped"));
  Served serve = Serve(config);
  REQUIRE(WaitForText(serve.proc.err_path, "rule.loaded rule=sql-stopped"));
  StopSql(1);
  const bool out = WaitForText(serve.proc.err_path,
                               "rule.act.end rule=sql-stopped action=depool target=replicas/db2 result=done", 30s);
  CHECK(out);
  CHECK(AdminStates("db2") == "1 1");
  Run list = Caretaker("maint list --json", config);
  CHECK(list.out.find("\"who\":\"rule:sql-stopped\"") != std::string::npos);
  // Every other member stays in.
  for (const char* m : {"db1", "db3", "db4"}) CHECK(AdminStates(m) == "0 0");

  StartSql(1);
  const bool back = WaitForText(serve.proc.err_path,
                                "rule.act.end rule=sql-stopped action=repool target=replicas/db2 result=done", 30s);
  Run served = serve.Stop();
  INFO(served.err);
  CHECK(back);
  CHECK(served.err.find("gate") != std::string::npos);  // the repool went through the gates
  CHECK(served.exit_code == 0);
  CheckClean(config);
}

TEST_CASE("a rule acts when `for` is up, not an interval later: serve evaluates it again then", "[serve][rules]") {
  // interval 60s: without the evaluation due at `for`, the depool would
  // wait for the second evaluation, a minute after the first.
  const std::string config =
      ConfigWith("rules-due.toml", "[[rules]]\nname = \"due\"\nwhen = \"replication is stopped\"\nfor = \"2s\"\n"
                                   "clear_for = \"1s\"\ninterval = \"60s\"\ncooldown = \"1s\"\n");
  StopSql(3);
  Served serve = Serve(config);
  const bool pending = WaitForText(serve.proc.err_path, "rule.pending rule=due target=replicas/db4", 15s);
  const bool out = WaitForText(serve.proc.err_path, "rule.act.end rule=due action=depool target=replicas/db4 result=done", 20s);
  StartSql(3);
  Run served = serve.Stop();
  INFO(served.err);
  CHECK(pending);
  CHECK(out);
  CHECK(AdminStates("db4") == "1 1");
  // The next serve (clear_for 1s, evaluated at once at its start) puts it back.
  Served again = Serve(config);
  const bool back = WaitForText(again.proc.err_path, "rule.act.end rule=due action=repool target=replicas/db4 result=done", 20s);
  Run second = again.Stop();
  INFO(second.err);
  CHECK(back);
  CheckClean(config);
}

TEST_CASE("observe mode says what a rule would do, with the budget's verdict, and changes nothing", "[serve][rules]") {
  const std::string config = ConfigWith("rules-observe.toml", StoppedRule("watching", "mode = \"observe\"\n"));
  Served serve = Serve(config);
  StopSql(2);
  const bool said = WaitForText(serve.proc.err_path, "rule.observe rule=watching target=replicas/db3", 30s);
  std::this_thread::sleep_for(2s);  // evaluations go on
  Run served = serve.Stop();
  INFO(served.err);
  CHECK(said);
  CHECK(served.err.find("would depool replicas/db3 (IO thread Yes, SQL thread No; budget: allowed: pool replicas") !=
        std::string::npos);
  CHECK(served.err.find("rule.act ") == std::string::npos);
  CHECK(served.err.find("rule.walk.event") == std::string::npos);
  StartSql(2);
  CheckClean(config);
}

TEST_CASE("a host a person put in MAINT is never touched by a rule, nor read", "[serve][rules]") {
  const std::string config = ConfigWith("rules-person.toml", StoppedRule("hands-off"));
  REQUIRE(Caretaker("maint start db1 --reason 'disk swap'", config).exit_code == 0);
  StopSql(0);
  Served serve = Serve(config);
  REQUIRE(WaitForText(serve.proc.err_path, "rule.loaded rule=hands-off"));
  std::this_thread::sleep_for(4s);  // twice `for`
  Run rules = Caretaker("rules --json", config);
  StartSql(0);
  std::this_thread::sleep_for(3s);  // clear, twice over
  Run served = serve.Stop();
  INFO(served.err << rules.out);
  CHECK(rules.out.find("\"server\":\"db1\",\"state\":\"ignored\",\"since\":null,\"why\":\"out of traffic by a person: "
                       "never touched\"") != std::string::npos);
  CHECK(served.err.find("rule.act ") == std::string::npos);
  CHECK(AdminStates("db1") == "1 1");
  Run list = Caretaker("maint list --json", config);
  CHECK(list.out.find("\"reason\":\"disk swap\"") != std::string::npos);
  REQUIRE(Caretaker("maint stop db1", config).exit_code == 0);
  CheckClean(config);
}

TEST_CASE("two replicas stop in a pool whose budget allows one out: one is depooled, the other reported, then "
          "depooled once the first is back",
          "[serve][rules]") {
  // count_unhealthy_as_out = false: a member with its SQL thread stopped
  // counts as in service, so taking it out spends the budget (with the
  // default it already counts as out and costs nothing).
  // A webhook hears the refusal once, though it is tried (and refused)
  // again at every evaluation.
  sandbox::WebhookReceiver hook;
  const std::string config =
      PoolWith("rules-budget.toml", "max_out = 1\ncount_unhealthy_as_out = false\n",
               StoppedRule("budgeted") + "[[notify]]\nurl = \"" + hook.url() + "\"\nevents = [\"rule.*\"]\n");
  Served serve = Serve(config);
  REQUIRE(WaitForText(serve.proc.err_path, "rule.loaded rule=budgeted"));
  StopSql(1);
  StopSql(2);
  const bool one = WaitForText(serve.proc.err_path, "action=depool target=replicas/db", 30s) &&
                   WaitForText(serve.proc.err_path, "result=refused text=\"budget: db", 30s);
  CHECK(one);
  std::this_thread::sleep_for(2s);  // tried again, refused again
  CHECK(OutNow() == 1);
  const bool db2_first = AdminStates("db2") == "1 1";
  const size_t first = db2_first ? 1 : 2, second = db2_first ? 2 : 1;
  const std::string second_name = db2_first ? "db3" : "db2";
  StartSql(first);
  const bool then = WaitForText(serve.proc.err_path,
                                "action=depool target=replicas/" + second_name + " result=done", 30s);
  CHECK(then);
  StartSql(second);
  const bool back = WaitForText(serve.proc.err_path,
                                "action=repool target=replicas/" + second_name + " result=done", 30s);
  Run served = serve.Stop();
  INFO(served.err);
  CHECK(back);
  CHECK(served.err.find("not depooled, pool replicas: 1 of 4 already out, max_out is 1") != std::string::npos);
  size_t refusals = 0, actions = 0;
  for (const sandbox::WebhookRequest& r : hook.Requests()) {
    refusals += r.body.find("\"kind\":\"rule.refused\"") != std::string::npos;
    actions += r.body.find("\"kind\":\"rule.action\"") != std::string::npos;
  }
  CHECK(refusals == 1);
  CHECK(actions == 4);  // two depools, two repools
  CheckClean(config);
}

TEST_CASE("halt stops a rule's depool under way within a second; it is put back once resumed and clear",
          "[serve][rules]") {
  auto& sb = RollSandbox();
  const std::string config = ConfigWith("rules-halt.toml", StoppedRule("halting"));
  // A session through lb1 holds the drain of the member it landed on.
  mysql::Target t;
  t.port = sb.haproxies()[0].frontend_port;
  t.user = "caretaker";
  t.password = sb.mysql_password();
  auto session = mysql::Connection::Open(t);
  REQUIRE(session);
  auto port = session.value().Query("SELECT @@port");
  REQUIRE(port);
  size_t i = 0;
  while (i < sb.replicas().size() && std::to_string(sb.replicas()[i].port) != *port.value().rows.at(0).at(0)) ++i;
  REQUIRE(i < sb.replicas().size());
  const std::string name = sb.replicas()[i].name;
  Served serve = Serve(config);
  StopSql(i);
  REQUIRE(WaitForText(serve.proc.err_path, "rule.walk.event rule=halting pool=replicas server=" + name + " text=draining", 30s));
  REQUIRE(Caretaker("halt --reason 'incident 5'", config).exit_code == 0);
  const bool stopped = WaitForText(serve.proc.err_path, "action=depool target=replicas/" + name + " result=failed", 2s);
  CHECK(stopped);
  CHECK(AdminStates(name) != "0 0");  // where it was: draining, with the rule's record
  CHECK(Caretaker("maint list --json", config).out.find("\"who\":\"rule:halting\"") != std::string::npos);
  { auto closed = std::move(session.value()); }
  StartSql(i);
  std::this_thread::sleep_for(3s);  // clear, but halted: stays out
  Run rules = Caretaker("rules --json", config);
  CHECK(rules.out.find("halted by ") != std::string::npos);
  CHECK(AdminStates(name) != "0 0");
  REQUIRE(Caretaker("resume", config).exit_code == 0);
  const bool back = WaitForText(serve.proc.err_path, "action=repool target=replicas/" + name + " result=done", 30s);
  Run served = serve.Stop();
  INFO(served.err << rules.out);
  CHECK(back);
  CheckClean(config);
}

TEST_CASE("the rate limit and the breaker trip, survive a serve restart, and `rules reset` closes the breaker",
          "[serve][rules]") {
  const std::string config = ConfigWith(
      "rules-limits.toml", StoppedRule("limited", "max_actions = 1\nbreaker_actions = 3\nbreaker_pool = 4\n"));
  {
    Served serve = Serve(config);
    StopSql(1);
    REQUIRE(WaitForText(serve.proc.err_path, "action=depool target=replicas/db2 result=done", 30s));
    StartSql(1);
    REQUIRE(WaitForText(serve.proc.err_path, "action=repool target=replicas/db2 result=done", 30s));
    std::this_thread::sleep_for(1500ms);  // the cooldown
    StopSql(1);
    const bool limited = WaitForText(serve.proc.err_path, "rate limit: 1 actions of the rule in the last 1h", 30s);
    Run served = serve.Stop();
    INFO(served.err);
    CHECK(limited);
  }
  {
    Served serve = Serve(config);
    // db2 fires again after `for` (its third firing): a fresh process, but
    // the store remembers the action, so the rate limit still says no.
    const bool limited = WaitForText(serve.proc.err_path, "rate limit: 1 actions of the rule in the last 1h", 30s);
    CHECK(limited);
    StopSql(2);  // a fourth firing in the window: the breaker opens
    const bool tripped = WaitForText(serve.proc.err_path, "rule.breaker rule=limited text=\"breaker opened: 4 firings", 30s);
    Run served = serve.Stop();
    INFO(served.err);
    CHECK(tripped);
    CHECK(served.err.find("rule.act ") == std::string::npos);
    CHECK(served.err.find("rate limit") == served.err.rfind("rate limit"));  // said once, not every evaluation
  }
  StartSql(1);
  StartSql(2);
  Run shown = Caretaker("rules", config);
  INFO(shown.out);
  CHECK(shown.out.find("breaker: TRIPPED: 4 firings in 1h (breaker_actions 3)") != std::string::npos);
  Run reset = Caretaker("rules reset limited", config);
  CHECK(reset.exit_code == 0);
  CHECK(reset.out.find("rule limited: breaker closed (it had opened: 4 firings") != std::string::npos);
  CHECK(Caretaker("rules", config).out.find("breaker: closed") != std::string::npos);
  CheckClean(config);
}

TEST_CASE("serve killed -9 mid-depool: the next serve finds the rule's record and repools it once clear",
          "[serve][rules]") {
  const std::string config = ConfigWith("rules-crash.toml", StoppedRule("crashing"));
  StopSql(3);
  Run dead = Killed(Serve(config, "drain-sent@db4"));
  CHECK(dead.signal == SIGKILL);
  CHECK(AdminStates("db4") == "8 8");
  CHECK(Caretaker("maint list --json", config).out.find("\"who\":\"rule:crashing\"") != std::string::npos);
  Served serve = Serve(config);
  std::this_thread::sleep_for(2s);
  CHECK(AdminStates("db4") == "8 8");  // not clear yet: it stays out
  StartSql(3);
  const bool back = WaitForText(serve.proc.err_path, "action=repool target=replicas/db4 result=done", 30s);
  Run served = serve.Stop();
  INFO(dead.err << served.err);
  CHECK(back);
  CheckClean(config);
}

TEST_CASE("a value flapping around the threshold never flaps the host: `for` and a clear condition of its own",
          "[serve][rules]") {
  // A plugin reading each member's "lag" from a file the test writes: when
  // above 10 for 3s, clear below 5 for 2s.
  auto& sb = RollSandbox();
  const std::string dir = sb.dir();
  const std::string config = ConfigWith(
      "rules-flap.toml",
      "[[rules]]\nname = \"flappy\"\nsource = \"nagios\"\n"
      "command = \"v=$(cat " + dir + "/lag-{server} 2>/dev/null || echo 0); echo \\\"LAG OK | lag=$v\\\"\"\n"
      "when = \"perf lag > 10\"\nclear = \"perf lag < 5\"\nfor = \"3s\"\nclear_for = \"2s\"\ninterval = \"1s\"\n"
      "cooldown = \"1s\"\n");
  auto lag = [&](int v) { WriteFileIn(sb, "lag-db2", std::to_string(v) + "\n"); };
  lag(0);
  Served serve = Serve(config);
  REQUIRE(WaitForText(serve.proc.err_path, "rule.loaded rule=flappy"));
  for (int i = 0; i < 8; ++i) {  // 11, 9, 11, 9, ...: never above 10 for 3s
    lag(i % 2 == 0 ? 11 : 9);
    std::this_thread::sleep_for(1s);
    CHECK(AdminStates("db2") == "0 0");
  }
  lag(12);
  const bool out = WaitForText(serve.proc.err_path, "action=depool target=replicas/db2 result=done", 30s);
  CHECK(out);
  for (int i = 0; i < 6; ++i) {  // 11, 6, 11, 6: below `when`, never below the clear
    lag(i % 2 == 0 ? 11 : 6);
    std::this_thread::sleep_for(1s);
    CHECK(AdminStates("db2") == "1 1");
  }
  lag(2);
  const bool back = WaitForText(serve.proc.err_path, "action=repool target=replicas/db2 result=done", 30s);
  Run served = serve.Stop();
  INFO(served.err);
  CHECK(back);
  CHECK(served.err.find("rule.act rule=flappy action=depool") == served.err.rfind("rule.act rule=flappy action=depool"));
  CheckClean(config);
}

TEST_CASE("a rule's task action walks the member through the task (a real mariadbd restart), then the gates",
          "[serve][rules]") {
  const std::string config = ConfigWith("rules-task.toml", StoppedRule("restarter", "action = \"task\"\ntask = \"restart\"\n"));
  const std::string pid = MysqldPid(2);
  Served serve = Serve(config);
  StopSql(2);
  const bool done = WaitForText(serve.proc.err_path, "action=task target=replicas/db3 result=done", 120s);
  std::this_thread::sleep_for(3s);  // held for its cooldown after the walk: no second restart for the restart's lag
  Run served = serve.Stop();
  INFO(served.err);
  CHECK(done);
  CHECK(MysqldPid(2) != pid);
  CHECK(served.err.find("rule.act rule=restarter action=task") == served.err.rfind("rule.act rule=restarter action=task"));
  CHECK(served.err.find("gate replication passed") != std::string::npos);
  RollSandbox().WaitAllUp(std::chrono::seconds(20));
  CheckClean(config);
}

TEST_CASE("a rule and a running walk spend one budget: max_out 1 holds across both", "[serve][rules]") {
  // given: a walk of db1..db3 (max_out 1) under way, then db4's SQL thread
  // stopped (outside the walk: a walk takes a lagging member of its own first). expect: the rule's depool of db4 is refused while a member of
  // the walk is out (or, taken between two members, the walk waits for it),
  // never two out at once; once db4 runs again everything ends in traffic.
  const std::string config = PoolWith("rules-walk.toml", "max_out = 1\ncount_unhealthy_as_out = false\n",
                                      StoppedRule("sharing") + kSlowTask);
  Served serve = Serve(config);
  REQUIRE(WaitForText(serve.proc.err_path, "rule.loaded rule=sharing"));
  Spawned roll = SpawnCaretaker(RollSandbox(), "roll --pool replicas --task slow --limit 'db[123]' --yes", config);
  int most = 0, status = 0;
  bool stopped = false, started_again = false, rule_acted = false, exited = false;
  for (auto until = std::chrono::steady_clock::now() + 90s; std::chrono::steady_clock::now() < until;) {
    most = std::max(most, OutNow());
    if (!stopped && AdminStates("db1") != "0 0") StopSql(3), stopped = true;
    if (stopped && !started_again) {
      std::ifstream in(serve.proc.err_path);
      std::stringstream text;
      text << in.rdbuf();
      const bool refused = text.str().find("result=refused text=\"budget: db4 not depooled") != std::string::npos;
      rule_acted = text.str().find("action=depool target=replicas/db4 result=done") != std::string::npos;
      if (refused || rule_acted) StartSql(3), started_again = true;
    }
    if (::waitpid(roll.pid, &status, WNOHANG) == roll.pid) {
      exited = true;
      break;
    }
    std::this_thread::sleep_for(50ms);
  }
  if (!exited) ::kill(roll.pid, SIGTERM), ::waitpid(roll.pid, &status, 0);
  Run rolled = Collect(roll, status);
  StartSql(3);
  if (rule_acted) CHECK(WaitForText(serve.proc.err_path, "action=repool target=replicas/db4 result=done", 30s));
  Run served = serve.Stop();
  INFO(rolled.err << served.err);
  CHECK(started_again);  // the rule met the walk's budget one way or the other
  CHECK(most == 1);      // never two out at once
  CHECK(rolled.exit_code == 0);
  CheckClean(config);
}

TEST_CASE("a rule's depool pauses a walk that would go past max_out; it resumes once the rule repooled", "[serve][rules]") {
  // given: max_out 1 and db4 depooled by a rule. expect: a job walking
  // db1..db3 in the same serve pauses (says why) and takes no member out
  // while db4 is out; once db4's SQL thread runs again the rule repools it
  // and the walk goes on to its end.
  const std::string config = PoolWith("rules-pause.toml", "max_out = 1\ncount_unhealthy_as_out = false\n",
                                      StoppedRule("spender") + kSlowTask);
  Served serve = Serve(config);
  StopSql(3);
  REQUIRE(WaitForText(serve.proc.err_path, "rule.act.end rule=spender action=depool target=replicas/db4 result=done", 30s));
  const std::string id = Queue("--pool replicas --task slow --limit 'db[123]'", config);
  const bool paused = WaitForText(serve.proc.err_path, "paused: ", 20s);
  std::this_thread::sleep_for(2s);
  int most_while_out = 0;
  for (int i = 0; i < 10; ++i, std::this_thread::sleep_for(100ms)) most_while_out = std::max(most_while_out, OutNow());
  StartSql(3);
  int most = most_while_out;
  bool done = false;
  for (auto until = std::chrono::steady_clock::now() + 90s; !done && std::chrono::steady_clock::now() < until;) {
    most = std::max(most, OutNow());
    done = JobState(id, config) == "done";
    std::this_thread::sleep_for(50ms);
  }
  Run show = Caretaker("job show " + id, config);
  Run served = serve.Stop();
  INFO(show.out << served.err);
  CHECK(paused);
  CHECK(most_while_out == 1);  // db4 only: the walk took nobody out beside it
  CHECK(most == 1);
  CHECK(done);
  CHECK(served.err.find("action=repool target=replicas/db4 result=done") != std::string::npos);
  CHECK(served.err.find("resumed: capacity is back") != std::string::npos);
  CheckClean(config);
}

}  // namespace
}  // namespace caretaker
