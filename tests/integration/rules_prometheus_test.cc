// Rules of source "prometheus" in `caretaker serve` and `rules test` on the
// real sandbox, against a real Prometheus scraping a real mysqld_exporter
// per replica every second (tests/sandbox/prometheus.h; started once for
// this binary): a replica made to lag (MASTER_DELAY, while the primary
// writes) is depooled and repooled once it caught up; Prometheus stopped
// mid-run makes every member unknown and nothing acts; a query Prometheus
// refuses is one sentence and a non-zero exit.
#include <catch2/catch.hpp>
#include <sys/stat.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "tests/integration/serve_fixture.h"
#include "tests/sandbox/prometheus.h"
#include "tests/sandbox/webhook.h"

namespace caretaker {
namespace {

using namespace std::chrono_literals;

sandbox::PrometheusStack& Prom() {
  static std::unique_ptr<sandbox::PrometheusStack> stack = [] {
    std::vector<sandbox::ExporterTarget> targets;
    for (const sandbox::MysqlNode& r : RollSandbox().replicas()) targets.push_back({r.name, r.port});
    return sandbox::PrometheusStack::Start(targets, "caretaker", RollSandbox().mysql_password());
  }();
  return *stack;
}

constexpr const char* kLag = "mysql_slave_status_seconds_behind_master";

std::string LagRule(const std::string& name, const std::string& query = kLag) {
  return "[[prometheus]]\nname = \"main\"\nurl = \"" + Prom().url() + "\"\ntimeout = \"2s\"\n"
         "[[rules]]\nname = \"" + name + "\"\nsource = \"prometheus\"\nquery = \"" + query + "\"\n"
         "label = \"server\"\nwhen = \"value > 3\"\nclear = \"value < 1\"\nfor = \"2s\"\nclear_for = \"1s\"\n"
         "interval = \"1s\"\ncooldown = \"1s\"\n";
}

// Replica i applies what the primary writes an hour late, and the primary
// writes: its Seconds_Behind_Master grows by a second a second.
void Lag(size_t i) {
  sandbox::Sandbox& sb = RollSandbox();
  sb.Sql(sb.primary(), "CREATE DATABASE IF NOT EXISTS prom_test; CREATE TABLE IF NOT EXISTS prom_test.t (i INT)");
  std::this_thread::sleep_for(500ms);  // the table reaches the replica before the delay
  sb.Sql(sb.replicas()[i], "STOP SLAVE; CHANGE MASTER TO MASTER_DELAY = 3600; START SLAVE");
  sb.Sql(sb.primary(), "INSERT INTO prom_test.t VALUES (1)");
}

void CatchUp(size_t i) {
  RollSandbox().Sql(RollSandbox().replicas()[i], "STOP SLAVE; CHANGE MASTER TO MASTER_DELAY = 0; START SLAVE");
}

void CheckClean(const std::string& config) {
  for (const char* m : {"db1", "db2", "db3", "db4"}) CHECK(AdminStates(m) == "0 0");
  CHECK(Caretaker("maint list --json", config).out.find("\"server\"") == std::string::npos);
}

// A task "upgrade" whose step makes the replica fall behind 3 s after it
// ends (as a bad upgrade shows once the host is back in traffic), with a
// bake on seconds_behind_master from Prometheus.
std::string UpgradeThatLags() {
  sandbox::Sandbox& sb = RollSandbox();
  std::string cases;
  for (const sandbox::MysqlNode& r : sb.replicas()) cases += "  " + r.name + ") S=" + r.socket + " ;;\n";
  const std::string script = WriteFileIn(sb, "upgrade-lags.sh",
      "#!/bin/sh\n# The upgrade: 3 s after it ends, the replica applies the primary's writes an hour late.\n"
      "case \"$1\" in\n" + cases + "esac\n"
      "setsid sh -c \"sleep 3; mariadb -S $S -u root -e 'STOP SLAVE; CHANGE MASTER TO MASTER_DELAY = 3600; START SLAVE'; "
      "mariadb -S " + sb.primary().socket + " -u root -e 'INSERT INTO prom_test.t VALUES (2)'\" "
      "</dev/null >/dev/null 2>&1 &\necho upgraded \"$1\"\n");
  return "[[tasks]]\nname = \"upgrade\"\n  [[tasks.steps]]\n  name = \"upgrade\"\n  command = [\"sh\", \"" + script +
         "\", \"{server}\"]\n  [tasks.bake]\n  for = \"10s\"\n  canary = \"30s\"\n  interval = \"1s\"\n"
         "  [[tasks.bake.checks]]\n  source = \"prometheus\"\n  query = \"" + std::string(kLag) + "\"\n"
         "  label = \"server\"\n  when = \"value > 3\"\n";
}

}  // namespace

TEST_CASE("a walk's canary bake on Prometheus stops the walk after the first member when its upgrade makes it lag",
          "[serve][rules][prometheus]") {
  sandbox::Sandbox& sb = RollSandbox();
  sb.Sql(sb.primary(), "CREATE DATABASE IF NOT EXISTS prom_test; CREATE TABLE IF NOT EXISTS prom_test.t (i INT)");
  REQUIRE(Prom().WaitForSeries(std::string(kLag) + " < 1", 4, 30s));
  const std::string config =
      ConfigWith("bake-prom.toml", "[[prometheus]]\nname = \"main\"\nurl = \"" + Prom().url() + "\"\n" + UpgradeThatLags());
  const auto start = std::chrono::steady_clock::now();
  Run roll = Caretaker("roll --pool replicas --task upgrade --yes", config);
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  INFO(roll.out << roll.err);
  CHECK(roll.exit_code == 1);
  const std::string all = roll.out + roll.err;
  CHECK(all.find("canary bake: its checks must stay clear for 30s before the next member starts") != std::string::npos);
  CHECK(all.find("FAILED its bake: condition 'value > 3' (prometheus main) holds: value ") != std::string::npos);
  CHECK(took < 30);  // it failed during the canary's bake, not after it
  CHECK(AdminStates("db1") == "1 1");  // taken out again
  for (const char* m : {"db2", "db3", "db4"}) CHECK(AdminStates(m) == "0 0");  // never started
  Run list = Caretaker("maint list --json", config);
  CHECK(list.out.find("\"server\":\"db1\"") != std::string::npos);
  // Put back once it caught up.
  CatchUp(0);
  CHECK(Prom().WaitForSeries(std::string(kLag) + " < 1", 4, 30s));
  const std::string id = JobIdOf(roll.err);
  REQUIRE_FALSE(id.empty());
  Run restore = Caretaker("job restore " + id, config);
  INFO(restore.out << restore.err);
  CHECK(restore.exit_code == 0);
  CheckClean(config);
}

TEST_CASE("a prometheus rule on seconds_behind_master depools a lagging replica and repools it once it caught up",
          "[serve][rules][prometheus]") {
  const std::string config = ConfigWith("rules-prom.toml", LagRule("prom-lag"));
  REQUIRE(Prom().WaitForSeries(kLag, 4, 20s));
  Lag(2);
  REQUIRE(Prom().WaitForSeries(std::string(kLag) + "{server=\"db3\"} > 3", 1, 20s));
  // rules test: the value each member's series has now, from one query.
  Run test = Caretaker("rules test prom-lag", config);
  INFO(test.out << test.err);
  CHECK(test.exit_code == 0);
  CHECK(test.out.find("replicas/db3: HOLDS: value ") != std::string::npos);
  CHECK(test.out.find("replicas/db1: no: value 0") != std::string::npos);
  CHECK(test.out.find("would depool") != std::string::npos);

  Served serve = Serve(config);
  const bool out = WaitForText(serve.proc.err_path,
                               "rule.act.end rule=prom-lag action=depool target=replicas/db3 result=done", 30s);
  CHECK(out);
  CHECK(AdminStates("db3") == "1 1");
  for (const char* m : {"db1", "db2", "db4"}) CHECK(AdminStates(m) == "0 0");
  CatchUp(2);
  const bool back = WaitForText(serve.proc.err_path,
                                "rule.act.end rule=prom-lag action=repool target=replicas/db3 result=done", 40s);
  Run served = serve.Stop();
  INFO(served.err);
  CHECK(back);
  CHECK(served.exit_code == 0);
  CheckClean(config);
}

TEST_CASE("Prometheus stopped mid-run: every member of the rule is unknown, said once, and nothing acts",
          "[serve][rules][prometheus]") {
  const std::string config = ConfigWith("rules-prom-down.toml", LagRule("prom-down"));
  Served serve = Serve(config);
  REQUIRE(WaitForText(serve.proc.err_path, "rule.loaded rule=prom-down"));
  Prom().StopPrometheus();
  Lag(1);
  const bool failed = WaitForText(serve.proc.err_path, "rule.evaluation.failed rule=prom-down", 15s);
  std::this_thread::sleep_for(6s);  // lagging past `for`, twice over
  Run test = Caretaker("rules test prom-down", config);
  Run rules = Caretaker("rules --json", config);
  CatchUp(1);
  Run served = serve.Stop();
  INFO(served.err << test.err << rules.out);
  CHECK(failed);
  const std::string sentence = "prometheus main (" + Prom().url() + "): query 'mysql_slave_status_seconds_behind_master': "
                               "cannot connect to 127.0.0.1:" + std::to_string(Prom().port());
  CHECK(served.err.find(sentence) != std::string::npos);
  CHECK(served.err.find("rule.act ") == std::string::npos);
  CHECK(test.exit_code == 1);
  CHECK(test.err.find("caretaker: rule prom-down: " + sentence) != std::string::npos);
  CHECK(rules.out.find("\"state\":\"pending\"") == std::string::npos);
  CheckClean(config);
  Prom().StartPrometheus();
  // Caught up again before the next test reads it.
  CHECK(Prom().WaitForSeries(std::string(kLag) + " < 1", 4, 30s));
}

TEST_CASE("a query Prometheus refuses is one sentence naming the server and the query, exit 1, nothing changed",
          "[serve][rules][prometheus]") {
  const std::string config = ConfigWith("rules-prom-bad.toml", LagRule("prom-bad", "sum(up"));
  Run test = Caretaker("rules test prom-bad", config);
  INFO(test.out << test.err);
  CHECK(test.exit_code == 1);
  CHECK(test.err == "caretaker: rule prom-bad: prometheus main (" + Prom().url() +
                        "): query 'sum(up': HTTP 400 bad_data: invalid parameter \"query\": 1:7: parse error: unclosed "
                        "left parenthesis\n");
  CHECK(test.out.empty());
  // A query of a matrix: a rule compares one number per member.
  const std::string matrix = ConfigWith("rules-prom-matrix.toml", LagRule("prom-matrix", "up[5s]"));
  Run m = Caretaker("rules test prom-matrix", matrix);
  CHECK(m.exit_code == 1);
  CHECK(m.err.find("the query gives a matrix result") != std::string::npos);
  CheckClean(config);
}

TEST_CASE("the bearer token comes from a 0600 file, is sent, and is never said; a file others can read is refused",
          "[serve][rules][prometheus]") {
  // A receiver of the harness in Prometheus' place records what caretaker
  // sends (it answers "ok", which is not Prometheus' JSON: said so).
  sandbox::WebhookReceiver fake;
  const std::string token = "tok-3f9a-secret";
  const std::string path = WriteFileIn(RollSandbox(), "prom.token", token + "\n");
  ::chmod(path.c_str(), 0600);
  const std::string rule = "[[rules]]\nname = \"authed\"\nsource = \"prometheus\"\nquery = \"up == 1\"\n"
                           "label = \"server\"\nwhen = \"value < 1\"\n";
  const std::string config = ConfigWith("rules-prom-auth.toml", "[[prometheus]]\nname = \"main\"\nurl = \"" +
                                                                    fake.url("/prom") + "\"\ntimeout = \"3s\"\n"
                                                                    "bearer_token_file = \"" + path + "\"\n" + rule);
  Run test = Caretaker("rules test authed", config);
  INFO(test.out << test.err);
  CHECK(test.exit_code == 1);
  CHECK(test.err.find("HTTP 200 with a body that is not Prometheus' JSON: \"ok\"") != std::string::npos);
  CHECK(test.err.find(token) == std::string::npos);
  REQUIRE(fake.Requests().size() == 1);
  sandbox::WebhookRequest r = fake.Requests().front();
  CHECK(r.method == "GET");
  CHECK(r.target == "/prom/api/v1/query?query=up%20%3D%3D%201&timeout=2700ms");
  CHECK(r.headers["authorization"] == "Bearer " + token);
  CHECK(r.headers["host"] == "127.0.0.1:" + std::to_string(fake.port()));

  ::chmod(path.c_str(), 0644);
  Run open = Caretaker("rules test authed", config);
  CHECK(open.exit_code == 1);
  CHECK(open.err.find("bearer_token_file of [[prometheus]] main " + path +
                      " has mode 0644, which gives group or others access; fix it with: chmod 600 " + path) !=
        std::string::npos);
  CHECK(open.err.find(token) == std::string::npos);
  CHECK(fake.Requests().size() == 1);  // nothing sent without its secret

  // Basic auth, its password from a file too.
  const std::string pw = WriteFileIn(RollSandbox(), "prom.password", "pa55:word\n");
  ::chmod(pw.c_str(), 0600);
  const std::string basic = ConfigWith("rules-prom-basic.toml", "[[prometheus]]\nname = \"main\"\nurl = \"" +
                                                                    fake.url("") + "\"\nbasic_user = \"caretaker\"\n"
                                                                    "basic_password_file = \"" + pw + "\"\n" + rule);
  Run b = Caretaker("rules test authed", basic);
  CHECK(b.exit_code == 1);
  CHECK(b.err.find("pa55") == std::string::npos);
  REQUIRE(fake.Requests().size() == 2);
  CHECK(fake.Requests().back().headers["authorization"] == "Basic Y2FyZXRha2VyOnBhNTU6d29yZA==");  // caretaker:pa55:word

  // A server that never answers: the query's timeout, one sentence.
  fake.Hang(true);
  const auto start = std::chrono::steady_clock::now();
  Run hung = Caretaker("rules test authed", basic);
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CHECK(hung.exit_code == 1);
  CHECK(hung.err.find("): query 'up == 1': no reply from 127.0.0.1:" + std::to_string(fake.port()) + " within 5s") !=
        std::string::npos);
  CHECK(took < 15);
}

}  // namespace caretaker
